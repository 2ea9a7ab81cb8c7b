/*
 * libFuzzer harness for xtext (RFC 3461 4) and utf-8-addr-xtext/-unitext
 * (RFC 6533 3).
 *
 * Byte 0: bit 0 OPES_LENIENT_XTEXT_CASE, bit 1 the utf8addr form (unitext).
 * The rest is the input.
 * Invariants: validate and decode agree; decode's size query equals the
 * write; encode(x) is strict xtext and decodes back to x; encoders never
 * emit CR, LF, SP (or, in the 7-bit forms, anything outside "!".."~");
 * utf8addr decode -> encode -> decode is stable, and encode -> decode gives
 * back any valid UTF-8 the encoder accepts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Every byte of p[0..n) in "!".."~" (the 7-bit encoded forms). */
#define CHECK_7BIT(p, n)                                                                           \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            if ((unsigned char)(p)[i_] <= ' ' || (unsigned char)(p)[i_] >= 0x7f)                   \
                __builtin_trap();                                                                  \
        }                                                                                          \
    } while (0)

/* No CR, LF, SP or NUL in p[0..n). */
#define CHECK_NO_CRLFSP(p, n)                                                                      \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            char c_ = (p)[i_];                                                                     \
            if (c_ == '\r' || c_ == '\n' || c_ == ' ' || c_ == '\0')                               \
                __builtin_trap();                                                                  \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned lenient;
    int form;
    const char *src;
    size_t len, need = 0, got = 0, off = 0, n2 = 0;
    unsigned notes = 0;
    opes_status sv, sd;
    char *dec = NULL, *enc = NULL, *back = NULL;

    if (size < 1)
        return 0;
    lenient = (data[0] & 1) ? OPES_LENIENT_XTEXT_CASE : 0;
    form = (data[0] & 2) ? OPES_UTF8ADDR_UNITEXT : OPES_UTF8ADDR_XTEXT;
    src = (const char *)data + 1;
    len = size - 1;

    /* ---- xtext: validate and decode agree ---- */
    sv = opes_xtext_validate(src, len, lenient, &off, &notes);
    sd = opes_xtext_decode(NULL, 0, &need, src, len, lenient);
    if (sv == OPES_OK) {
        if (!(sd == OPES_ENOSPC || (sd == OPES_OK && need == 0)))
            __builtin_trap();
        if (need > len)
            __builtin_trap();
        dec = malloc(need + 1);
        if (!dec)
            abort();
        if (opes_xtext_decode(dec, need, &got, src, len, lenient) != OPES_OK || got != need)
            __builtin_trap();
        /* encode(decoded) is strict xtext that decodes to the same bytes */
        if (opes_xtext_encode(NULL, 0, &n2, dec, got) == OPES_EINVAL)
            __builtin_trap();
        enc = malloc(n2 + 1);
        back = malloc(got + 1);
        if (!enc || !back)
            abort();
        if (opes_xtext_encode(enc, n2, &n2, dec, got) != OPES_OK)
            __builtin_trap();
        CHECK_7BIT(enc, n2);
        if (opes_xtext_validate(enc, n2, 0, NULL, NULL) != OPES_OK)
            __builtin_trap();
        {
            size_t bl = 0;
            if (opes_xtext_decode(back, got, &bl, enc, n2, 0) != OPES_OK || bl != got ||
                (got && memcmp(back, dec, got) != 0))
                __builtin_trap();
        }
        free(dec);
        free(enc);
        free(back);
        dec = enc = back = NULL;
    } else {
        if (sv != OPES_EBAD_XTEXT || sd != OPES_EBAD_XTEXT || need != 0 || off > len)
            __builtin_trap();
    }

    /* ---- xtext: encode(x) decodes to x, for any bytes ---- */
    {
        size_t el = 0, bl = 0;
        opes_xtext_encode(NULL, 0, &el, src, len);
        if (el < len || el > 3 * len)
            __builtin_trap();
        enc = malloc(el + 1);
        back = malloc(len + 1);
        if (!enc || !back)
            abort();
        if (opes_xtext_encode(enc, el, &el, src, len) != OPES_OK)
            __builtin_trap();
        CHECK_7BIT(enc, el);
        if (opes_xtext_decode(back, len, &bl, enc, el, 0) != OPES_OK || bl != len ||
            (len && memcmp(back, src, len) != 0))
            __builtin_trap();
        free(enc);
        free(back);
        enc = back = NULL;
    }

    /* ---- utf8addr: decode, then encode/decode is stable ---- */
    {
        size_t dl = 0, el = 0, bl = 0;
        opes_status st = opes_utf8addr_decode(NULL, 0, &dl, src, len, form, &off);
        if (st == OPES_ENOSPC) {
            dec = malloc(dl);
            if (!dec)
                abort();
            if (opes_utf8addr_decode(dec, dl, &got, src, len, form, NULL) != OPES_OK || got != dl)
                __builtin_trap();
            if (opes_utf8_validate(dec, got, NULL) != OPES_OK)
                __builtin_trap();
            /* a valid HEXPOINT never yields NUL, CR or LF */
            if (memchr(dec, '\0', got) || memchr(dec, '\r', got) || memchr(dec, '\n', got))
                __builtin_trap();
            if (opes_utf8addr_encode(NULL, 0, &el, dec, got, form) != OPES_ENOSPC)
                __builtin_trap();
            enc = malloc(el);
            back = malloc(got);
            if (!enc || !back)
                abort();
            if (opes_utf8addr_encode(enc, el, &el, dec, got, form) != OPES_OK)
                __builtin_trap();
            CHECK_NO_CRLFSP(enc, el);
            if (form == OPES_UTF8ADDR_XTEXT)
                CHECK_7BIT(enc, el);
            if (opes_utf8addr_decode(back, got, &bl, enc, el, form, NULL) != OPES_OK || bl != got ||
                memcmp(back, dec, got) != 0)
                __builtin_trap();
            free(dec);
            free(enc);
            free(back);
            dec = enc = back = NULL;
        } else if (st == OPES_OK) {
            __builtin_trap(); /* 1*( ... ): never empty */
        } else if (off > len) {
            __builtin_trap();
        }
    }

    /* ---- utf8addr: encode(valid UTF-8) decodes back ---- */
    if (opes_utf8_validate(src, len, NULL) == OPES_OK) {
        size_t el = 0, bl = 0;
        opes_status st = opes_utf8addr_encode(NULL, 0, &el, src, len, form);
        if (st == OPES_ENOSPC) {
            enc = malloc(el);
            back = malloc(len);
            if (!enc || !back)
                abort();
            if (opes_utf8addr_encode(enc, el, &el, src, len, form) != OPES_OK)
                __builtin_trap();
            CHECK_NO_CRLFSP(enc, el);
            if (form == OPES_UTF8ADDR_XTEXT)
                CHECK_7BIT(enc, el);
            if (opes_utf8addr_decode(back, len, &bl, enc, el, form, NULL) != OPES_OK || bl != len ||
                memcmp(back, src, len) != 0)
                __builtin_trap();
            free(enc);
            free(back);
            enc = back = NULL;
        } else if (st != OPES_EINJECT && st != OPES_EBAD_UTF8ADDR) {
            __builtin_trap();
        } else if (st == OPES_EBAD_UTF8ADDR && len != 0) {
            /* only for controls HEXPOINT cannot express */
            int found = 0;
            for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)src[i];
                if ((c >= 0x0B && c <= 0x0F) || (c >= 0x1A && c <= 0x1F))
                    found = 1;
            }
            if (!found)
                __builtin_trap();
        }
    }
    return 0;
}
