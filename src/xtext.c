/*
 * xtext (RFC 3461 4, RFC 4954 8) and the utf-8-addr-xtext / utf-8-addr-unitext
 * encodings of a UTF-8 address (RFC 6533 3), both ways.
 *
 * Decoders validate the whole input before writing anything, so an error
 * leaves nothing consumed (*len = 0); encoders write through the writer.
 */
#include "internal.h"

static const char hexup[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                               '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};

/* ---- xtext ---------------------------------------------------------------- */

/*
 * RFC 3461 4: hexchar = ASCII "+" immediately followed by two upper case
 * hexadecimal digits. (RFC 4954 8 writes "+" HEXDIG HEXDIG and declares
 * its ABNF case-insensitive; RFC 3461 is the definition it cites, so
 * lower case is a leniency here, OPES_LENIENT_XTEXT_CASE.)
 * Returns 1 if the digit is acceptable, sets *lower when it is lower case.
 */
static int xtext_hexdig(unsigned char c, unsigned lenient, int *lower)
{
    if (OPES__IS(c, OPES__C_HEXUP))
        return 1;
    if ((lenient & OPES_LENIENT_XTEXT_CASE) && c >= 'a' && c <= 'f') {
        *lower = 1;
        return 1;
    }
    return 0;
}

/* Validate; on error *err = offset of the first byte that cannot be part of
 * an xtext (len when the input ends inside a hexchar). */
static opes_status xtext_check(const char *src, size_t len, unsigned lenient, size_t *err,
                               unsigned *notes, size_t *out_len)
{
    size_t np;
    return opes__xtext_check(src, len, lenient, err, notes, out_len, &np);
}

/* see internal.h */
opes_status opes__xtext_check(const char *src, size_t len, unsigned lenient, size_t *err,
                              unsigned *notes, size_t *out_len, size_t *nonprint)
{
    size_t i = 0, n = 0;
    int lower = 0;

    *nonprint = SIZE_MAX;

    while (i < len) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+') {
            /* "+" not followed by two hex digits is an error */
            if (i + 1 >= len || !xtext_hexdig((unsigned char)src[i + 1], lenient, &lower)) {
                *err = i + 1;
                return OPES_EBAD_XTEXT;
            }
            if (i + 2 >= len || !xtext_hexdig((unsigned char)src[i + 2], lenient, &lower)) {
                *err = i + 2;
                return OPES_EBAD_XTEXT;
            }
            if (*nonprint == SIZE_MAX) {
                /* RFC 3461 4.2, 4.4 "printable (graphic and white space)
                 * characters from the US-ASCII repertoire": 32-126 and HT.
                 * An xchar (33-126) always is one; a hexchar may not be. */
                int v = opes__hexval((unsigned char)src[i + 1]) * 16 +
                        opes__hexval((unsigned char)src[i + 2]);
                if (!((v >= 32 && v <= 126) || v == '\t'))
                    *nonprint = i;
            }
            i += 3;
        } else if (OPES__IS(c, OPES__C_XCHAR)) {
            /* the run of xchars, one octet each */
            size_t e = opes__span((const unsigned char *)src, i + 1, len, OPES__SPAN_XCHAR);
            n += e - i - 1;
            i = e;
        } else {
            *err = i;
            return OPES_EBAD_XTEXT;
        }
        n++;
    }
    *notes = lower ? OPES_NOTE_XTEXT_CASE : 0;
    *out_len = n;
    return OPES_OK;
}

/* see opes/xtext.h */
opes_status opes_xtext_validate(const char *src, size_t len, unsigned lenient, size_t *err_offset,
                                unsigned *notes)
{
    size_t err = 0, n;
    unsigned nt = 0;
    opes_status st;

    if (notes)
        *notes = 0;
    if (!src && len)
        return OPES_EINVAL;
    st = xtext_check(src, len, lenient, &err, &nt, &n);
    if (st != OPES_OK) {
        if (err_offset)
            *err_offset = err;
        return st;
    }
    if (notes)
        *notes = nt;
    return OPES_OK;
}

/* see opes/xtext.h */
opes_status opes_xtext_decode(char *dst, size_t cap, size_t *len, const char *src, size_t src_len,
                              unsigned lenient)
{
    size_t err, n, i = 0;
    unsigned nt;
    opes__wr w;
    opes_status st;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!src && src_len)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    st = xtext_check(src, src_len, lenient, &err, &nt, &n);
    if (st != OPES_OK) {
        *len = 0;
        return st;
    }
    opes__wr_init(&w, dst, cap);
    while (i < src_len) {
        if (src[i] == '+') {
            int hi = opes__hexval((unsigned char)src[i + 1]);
            int lo = opes__hexval((unsigned char)src[i + 2]);
            opes__wr_putc(&w, (char)(unsigned char)((hi << 4) | lo));
            i += 3;
        } else {
            opes__wr_putc(&w, src[i]);
            i++;
        }
    }
    return opes__wr_finish(&w, len);
}

/* see internal.h */
void opes__wr_xtext(opes__wr *w, const char *src, size_t src_len, int hex_comma)
{
    size_t i = 0;
    while (i < src_len) {
        /* copy the longest run of xchars at once */
        size_t j = i;
        while (j < src_len && OPES__IS(src[j], OPES__C_XCHAR) && !(hex_comma && src[j] == ','))
            j++;
        if (j > i) {
            opes__wr_put(w, src + i, j - i);
            i = j;
            continue;
        }
        /* RFC 3461 4: everything else as "+" and two upper-case hex digits */
        unsigned char c = (unsigned char)src[i++];
        char hx[3] = {'+', hexup[c >> 4], hexup[c & 15]};
        opes__wr_put(w, hx, 3);
    }
}

/* see opes/xtext.h */
opes_status opes_xtext_encode(char *dst, size_t cap, size_t *len, const char *src, size_t src_len)
{
    opes__wr w;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!src && src_len)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    opes__wr_init(&w, dst, cap);
    opes__wr_xtext(&w, src, src_len, 0);
    return opes__wr_finish(&w, len);
}

/* ---- RFC 6533 3: utf-8-addr-xtext / utf-8-addr-unitext ------------------- */

/* QCHAR = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e: xchar minus "\". */
static int is_qchar(unsigned char c)
{
    return OPES__IS(c, OPES__C_XCHAR) && c != '\\';
}

/*
 * The two-digit HEXPOINT values of RFC 6533 3:
 *   ( ( "0"/"1" ) %x31-39 ) / "10" / "20" / "2B" / "3D" / "7F" / "5C" /
 *   ( HEXDIG8 HEXDIG )
 * i.e. 01-09, 10-19, 20, 2B, 3D, 5C, 7F and 80-FF. As written, the ABNF has
 * no form for 00, 0A-0F or 1A-1F (the second character of the first
 * alternative is %x31-39, a decimal digit), so those code points cannot be
 * escaped at all; no Mailbox can contain them anyway (RFC 5321 4.1.2
 * allows no control character in a local-part).
 */
static int hexpoint2_ok(uint32_t v)
{
    if (v >= 0x80 && v <= 0xFF)
        return 1;
    if ((v >= 0x01 && v <= 0x09) || (v >= 0x11 && v <= 0x19))
        return 1;
    return v == 0x10 || v == 0x20 || v == 0x2B || v == 0x3D || v == 0x7F || v == 0x5C;
}

/*
 * Is the HEXPOINT of n digits with value v one of the RFC 6533 3 forms?
 *   3 digits: NZHEXDIG 2(HEXDIG)                  0100-0FFF
 *   4 digits: NZDHEXDIG 3(HEXDIG) / "D" %x30-37 2(HEXDIG)
 *                                                 1000-FFFF minus D800-DFFF
 *   5 digits: NZHEXDIG 4(HEXDIG)                  10000-FFFFF
 *   6 digits: "10" 4*HEXDIG                       100000-10FFFF
 * The last is printed "4*HEXDIG" (four or more), which would reach past
 * U+10FFFF, the end of Unicode; it is read as 4HEXDIG, six digits in all.
 * A leading zero never fits a form longer than two digits, so each form is
 * exactly "the value needs n digits and lies in the range".
 */
static int hexpoint_ok(size_t n, uint32_t v)
{
    switch (n) {
    case 2:
        return hexpoint2_ok(v);
    case 3:
        return v >= 0x100;
    case 4:
        return v >= 0x1000 && !(v >= 0xD800 && v <= 0xDFFF);
    case 5:
        return v >= 0x10000;
    case 6:
        return v >= 0x100000 && v <= 0x10FFFF;
    default:
        return 0;
    }
}

/*
 * Parse one EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}" at p[0..n)
 * (p[0] is "\"). Returns its length and the code point, 0 if malformed.
 * "\x" is case-sensitive (%x5C.78); the hex digits are HEXDIG and quoted
 * strings, which RFC 5234 2.3 makes case-insensitive, so "70ae" is
 * accepted on input (output is always upper case).
 */
static size_t euc_parse(const char *p, size_t n, uint32_t *cp)
{
    size_t i = 3, digits = 0;
    uint32_t v = 0;

    if (n < 3 || p[0] != '\\' || p[1] != 'x' || p[2] != '{')
        return 0;
    while (i < n && digits <= 6) {
        int h = opes__hexval((unsigned char)p[i]);
        if (h < 0)
            break;
        v = (v << 4) | (uint32_t)h;
        digits++;
        i++;
    }
    if (digits > 6 || i >= n || p[i] != '}' || !hexpoint_ok(digits, v))
        return 0;
    *cp = v;
    return i + 1;
}

/* Validate (and, when w is not NULL, decode) a utf-8-addr-xtext or
 * utf-8-addr-unitext. */
static opes_status utf8addr_scan(const char *src, size_t len, int form, opes__wr *w, size_t *err)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0;

    /* both forms are 1*( ... ): the empty string is not one */
    if (len == 0) {
        *err = 0;
        return OPES_EBAD_UTF8ADDR;
    }
    while (i < len) {
        unsigned char c = p[i];
        if (is_qchar(c)) {
            size_t j = i + 1;
            while (j < len && is_qchar(p[j]))
                j++;
            if (w)
                opes__wr_put(w, src + i, j - i);
            i = j;
        } else if (c == '\\') {
            uint32_t cp = 0;
            unsigned char u[4];
            size_t k = euc_parse(src + i, len - i, &cp);
            if (k == 0) {
                *err = i;
                return OPES_EBAD_UTF8ADDR;
            }
            if (w)
                opes__wr_put(w, u, opes__utf8_encode(cp, u));
            i += k;
        } else if (c >= 0x80) {
            /* QUCHAR = QCHAR / UTF8-2 / UTF8-3 / UTF8-4: unitext only */
            size_t k;
            if (form != OPES_UTF8ADDR_UNITEXT) {
                *err = i;
                return OPES_EBAD_UTF8ADDR;
            }
            k = opes__utf8_seq(p + i, len - i, NULL);
            if (k == 0) {
                *err = i;
                return OPES_EBAD_UTF8;
            }
            if (w)
                opes__wr_put(w, src + i, k);
            i += k;
        } else {
            /* CTLs, SP, "+", "=" must be written as \x{..} */
            *err = i;
            return OPES_EBAD_UTF8ADDR;
        }
    }
    return OPES_OK;
}

/* see opes/xtext.h */
opes_status opes_utf8addr_decode(char *dst, size_t cap, size_t *len, const char *src,
                                 size_t src_len, int form, size_t *err_offset)
{
    opes__wr w;
    size_t err = 0;
    opes_status st;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!src && src_len) ||
        (form != OPES_UTF8ADDR_XTEXT && form != OPES_UTF8ADDR_UNITEXT)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    /* validate first, so that an error consumes and writes nothing */
    st = utf8addr_scan(src, src_len, form, NULL, &err);
    if (st != OPES_OK) {
        *len = 0;
        if (err_offset)
            *err_offset = err;
        return st;
    }
    opes__wr_init(&w, dst, cap);
    (void)utf8addr_scan(src, src_len, form, &w, &err);
    return opes__wr_finish(&w, len);
}

/* Write \x{HEXPOINT} with the shortest form and upper-case digits. */
static void euc_put(opes__wr *w, uint32_t cp)
{
    char buf[10];
    size_t n = 0, digits;

    if (cp < 0x100)
        digits = 2;
    else if (cp < 0x1000)
        digits = 3;
    else if (cp < 0x10000)
        digits = 4;
    else if (cp < 0x100000)
        digits = 5;
    else
        digits = 6;
    buf[n++] = '\\';
    buf[n++] = 'x';
    buf[n++] = '{';
    for (size_t d = digits; d > 0; d--)
        buf[n++] = hexup[(cp >> (4 * (d - 1))) & 15];
    buf[n++] = '}';
    opes__wr_put(w, buf, n);
}

/* see opes/xtext.h */
opes_status opes_utf8addr_encode(char *dst, size_t cap, size_t *len, const char *src,
                                 size_t src_len, int form)
{
    const unsigned char *p = (const unsigned char *)src;
    opes__wr w;
    size_t i = 0;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!src && src_len) ||
        (form != OPES_UTF8ADDR_XTEXT && form != OPES_UTF8ADDR_UNITEXT)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    /* 1*( ... ): there is no encoding of the empty string */
    if (src_len == 0) {
        *len = 0;
        return OPES_EBAD_UTF8ADDR;
    }
    opes__wr_init(&w, dst, cap);
    while (i < src_len) {
        uint32_t cp;
        size_t k;
        if (is_qchar(p[i])) {
            size_t j = i + 1;
            while (j < src_len && is_qchar(p[j]))
                j++;
            opes__wr_put(&w, src + i, j - i);
            i = j;
            continue;
        }
        k = opes__utf8_seq(p + i, src_len - i, &cp);
        if (k == 0) {
            *len = 0;
            return OPES_EBAD_UTF8;
        }
        if (cp == 0 || cp == '\r' || cp == '\n') {
            *len = 0;
            return OPES_EINJECT;
        }
        if (cp < 0x100 && !hexpoint2_ok(cp)) {
            /* a control character HEXPOINT has no form for */
            *len = 0;
            return OPES_EBAD_UTF8ADDR;
        }
        if (form == OPES_UTF8ADDR_UNITEXT && cp >= 0x80)
            opes__wr_put(&w, src + i, k); /* QUCHAR: raw UTF-8 */
        else
            euc_put(&w, cp);
        i += k;
    }
    return opes__wr_finish(&w, len);
}
