/*
 * libFuzzer harness: the header field builder (RFC 5322 2.1.1, 2.2.3, 3.6.8;
 * RFC 6532 3.4).
 *
 * Input: byte 0 picks the flags (bit 0: OPES_HEADER_LF, bit 1:
 * OPES_HEADER_UTF8), byte 1 the length of the name; then the name and the
 * value. Invariants (abort on failure):
 *   - the size query and the real write agree; a short buffer gives
 *     OPES_ENOSPC with the same size;
 *   - a refusal has its reason: OPES_EINJECT exactly when the name or the
 *     value holds CR, LF or NUL; OPES_EBAD_HEADER_NAME only for a name that is
 *     not 1*ftext; OPES_EBAD_CHAR / OPES_EBAD_UTF8 only for a value with a
 *     control other than HTAB or an octet >= 0x80;
 *   - the output has no bare CR or LF (CRLF only, or LF only), every line is
 *     at most 998 octets, none is WSP only, every continuation line starts
 *     with WSP, and a line over 78 characters has no fold point before
 *     column 78 that the builder skipped;
 *   - scanning it gives one field with the name and then the end of the
 *     input; unfolding its raw body gives the value less leading and
 *     trailing WSP, runs of WSP at the folds kept.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0] & 3u;
    int lf = (flags & OPES_HEADER_LF) != 0, utf8 = (flags & OPES_HEADER_UTF8) != 0;
    size_t nl = data[1];
    if (nl > size - 2)
        nl = size - 2;
    /* name and value in blocks of their own size: ASan sees any over-read */
    char *name = malloc(nl ? nl : 1), *value;
    size_t vl = size - 2 - nl;
    value = malloc(vl ? vl : 1);
    CHECK(name && value);
    memcpy(name, data + 2, nl);
    memcpy(value, data + 2 + nl, vl);

    size_t need = 0, got = 0;
    opes_status q = opes_header_field_build(NULL, 0, &need, name, nl, value, vl, flags);
    int inject = 0, badname = nl == 0, badval = 0;
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)name[i];
        inject |= c == '\r' || c == '\n' || c == 0;
        badname |= c < 33 || c > 126 || c == ':';
    }
    for (size_t i = 0; i < vl; i++) {
        unsigned char c = (unsigned char)value[i];
        inject |= c == '\r' || c == '\n' || c == 0;
        badval |= (c < 32 && c != '\t') || c >= 127;
    }
    if (q != OPES_ENOSPC) {
        CHECK(q != OPES_OK);
        CHECK((q == OPES_EINJECT) == inject);
        if (q == OPES_EBAD_HEADER_NAME)
            CHECK(badname);
        if (q == OPES_EBAD_CHAR || q == OPES_EBAD_UTF8)
            CHECK(badval && !badname);
        CHECK(q == OPES_EINJECT || q == OPES_EBAD_HEADER_NAME || q == OPES_EBAD_CHAR ||
              q == OPES_EBAD_UTF8 || q == OPES_EHEADER_LINE_TOO_LONG);
        free(name);
        free(value);
        return 0;
    }
    CHECK(!inject && !badname);
    char *out = malloc(need);
    CHECK(out);
    CHECK(opes_header_field_build(out, need, &got, name, nl, value, vl, flags) == OPES_OK);
    CHECK(got == need);
    if (need > 1) {
        size_t again = 0;
        CHECK(opes_header_field_build(out, need - 1, &again, name, nl, value, vl, flags) ==
              OPES_ENOSPC);
        CHECK(again == need);
        CHECK(opes_header_field_build(out, need, &got, name, nl, value, vl, flags) == OPES_OK);
    }

    /* lines */
    size_t ls = 0, nlines = 0;
    for (size_t i = 0; i < got; i++) {
        if (out[i] == '\r') {
            CHECK(!lf && i + 1 < got && out[i + 1] == '\n');
            continue;
        }
        if (out[i] != '\n')
            continue;
        size_t e = lf ? i : i - 1;
        CHECK(lf || (i > 0 && out[i - 1] == '\r'));
        CHECK(e - ls <= 998);
        int only_wsp = 1;
        size_t chars = 0;
        for (size_t k = ls; k < e; k++) {
            only_wsp &= is_wsp((unsigned char)out[k]);
            if (!utf8 || ((unsigned char)out[k] & 0xC0u) != 0x80u)
                chars++;
        }
        CHECK(!only_wsp || (nlines == 0 && e == ls));
        if (nlines > 0)
            CHECK(is_wsp((unsigned char)out[ls]));
        if (chars > 78) {
            /* over 78 characters only when no fold point lay within 78: the
             * first fold point of the line (a WSP after a non-WSP) is past
             * column 78, or the line is the last and has none */
            size_t col = 0, k;
            for (k = ls; k < e; k++) {
                /* (on the first line, not the SP the builder puts after the colon) */
                if (k > ls + (nlines == 0 ? nl + 1 : 0) && is_wsp((unsigned char)out[k]) &&
                    !is_wsp((unsigned char)out[k - 1]))
                    break;
                if (!utf8 || ((unsigned char)out[k] & 0xC0u) != 0x80u)
                    col++;
            }
            if (k < e) {
                /* a candidate inside the line: it must be a trailing run (no
                 * non-WSP after it in the line) or past column 78 */
                size_t j = k;
                while (j < e && is_wsp((unsigned char)out[j]))
                    j++;
                CHECK(col > 78 || j == e);
            }
        }
        ls = i + 1;
        nlines++;
    }
    CHECK(ls == got && nlines >= 1);

    /* read back */
    opes_header_scanner *s = NULL;
    opes_header_event ev;
    size_t used = 0;
    CHECK(opes_header_scanner_new(&s, NULL) == OPES_OK);
    CHECK(opes_header_scanner_set_flags(s, flags) == OPES_OK);
    CHECK(opes_header_scan(s, out, got, 1, &used, &ev) == OPES_OK);
    CHECK(ev.type == OPES_HEADER_EV_FIELD && used == got);
    CHECK(ev.field.lines == nlines && ev.field.name.len == nl);
    CHECK(memcmp(ev.field.name.ptr, name, nl) == 0);
    CHECK((ev.field.flags & ~(unsigned)(OPES_HDRF_LF | OPES_HDRF_UTF8)) == 0);
    char *u = malloc(ev.field.raw.len + 1);
    size_t ul = 0, a = 0, z = vl;
    CHECK(u);
    CHECK(opes_header_unfold(u, ev.field.raw.len, &ul, ev.field.raw.ptr, ev.field.raw.len) ==
          OPES_OK);
    while (a < z && is_wsp((unsigned char)value[a]))
        a++;
    while (z > a && is_wsp((unsigned char)value[z - 1]))
        z--;
    CHECK(ul == z - a && memcmp(u, value + a, ul) == 0);
    size_t used2 = 0;
    CHECK(opes_header_scan(s, out + used, got - used, 1, &used2, &ev) == OPES_OK);
    CHECK(ev.type == OPES_HEADER_EV_END && ev.end == OPES_HEADER_END_EOF && ev.offset == got);
    opes_header_scanner_free(s);
    free(u);
    free(out);
    free(name);
    free(value);
    return 0;
}
