/*
 * RFC 5322 3.2.2 lexical tokens shared by the mail-layer parsers: FWS
 * (with obs-FWS, 4.2), comments (nested, with quoted-pairs; obs-ctext and
 * obs-qp, 4.1; UTF8-non-ascii in ctext, RFC 6532 3.2) and CFWS.
 *
 *   FWS      = ([*WSP CRLF] 1*WSP) / obs-FWS
 *   obs-FWS  = 1*WSP *(CRLF 1*WSP)
 *   ctext    = %d33-39 / %d42-91 / %d93-126 / obs-ctext
 *   comment  = "(" *([FWS] ccontent) [FWS] ")"
 *   ccontent = ctext / quoted-pair / comment
 *   CFWS     = (1*([FWS] comment) [FWS]) / FWS
 *
 * Nesting is counted, not recursed into (OPES__LX_MAX_DEPTH).
 */
#include "internal.h"

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* see internal.h */
size_t opes__lx_fws(const char *b, size_t len, size_t i, unsigned opts, unsigned *info)
{
    int folded = 0; /* a fold in this run with only WSP after it */
    while (i < len) {
        unsigned char c = (unsigned char)b[i];
        size_t k;
        if (is_wsp(c)) {
            *info |= OPES__LX_WSP;
            i++;
            continue;
        }
        if (c == '\r' && len - i >= 3 && b[i + 1] == '\n' && is_wsp((unsigned char)b[i + 2])) {
            k = 2;
        } else if (c == '\n' && (opts & OPES__LX_ALLOW_LF) && len - i >= 2 &&
                   is_wsp((unsigned char)b[i + 1])) {
            k = 1;
            *info |= OPES__LX_LF_FOLD;
        } else {
            break;
        }
        /* RFC 5322 4.2: a second fold before any non-WSP makes a line of
         * white space only: obs-FWS */
        if (folded)
            *info |= OPES__LX_OBS_FWS;
        folded = 1;
        *info |= OPES__LX_FOLD | OPES__LX_WSP;
        i += k;
    }
    return i;
}

/* A non-ASCII byte at b[i] in a comment: a UTF-8 sequence (RFC 6532 3.2),
 * or with OPES__LX_ALLOW_RAW8 any byte. *k = bytes taken. */
static opes_status eight_bit(const char *b, size_t len, size_t i, unsigned opts, unsigned *info,
                             size_t *k)
{
    size_t n = opes__utf8_seq((const unsigned char *)b + i, len - i, NULL);
    if (n) {
        *info |= OPES__LX_UTF8;
        *k = n;
        return OPES_OK;
    }
    if (!(opts & OPES__LX_ALLOW_RAW8))
        return OPES_EBAD_UTF8;
    *info |= OPES__LX_RAW8;
    *k = 1;
    return OPES_OK;
}

/* see internal.h */
opes_status opes__lx_comment(const char *b, size_t len, size_t i, unsigned opts, size_t *end,
                             unsigned *info, size_t *err)
{
    unsigned depth = 0;
    while (i < len) {
        unsigned char c = (unsigned char)b[i];
        size_t k;
        if (c == '(') {
            if (++depth > OPES__LX_MAX_DEPTH) {
                *err = i;
                return OPES_ESYNTAX;
            }
            i++;
        } else if (c == ')') {
            i++;
            if (--depth == 0) {
                *end = i;
                *info |= OPES__LX_COMMENT;
                return OPES_OK;
            }
        } else if (c == '\\') {
            /* quoted-pair = ("\" (VCHAR / WSP)) / obs-qp; obs-qp's NUL, CR
             * and LF are refused: they would hide a line end or cut a string */
            unsigned char q;
            if (len - i < 2) {
                *err = len;
                return OPES_ESYNTAX;
            }
            q = (unsigned char)b[i + 1];
            if (q == 0 || q == '\r' || q == '\n') {
                *err = i + 1;
                return OPES_EBAD_CHAR;
            }
            if (q >= 0x80) {
                opes_status st = eight_bit(b, len, i + 1, opts, info, &k);
                if (st != OPES_OK) {
                    *err = i + 1;
                    return st;
                }
                i += 1 + k;
            } else {
                if ((q < 0x20 && q != '\t') || q == 0x7f)
                    *info |= OPES__LX_OBS_CTEXT;
                i += 2;
            }
        } else if (is_wsp(c) || c == '\r' || c == '\n') {
            size_t j = opes__lx_fws(b, len, i, opts, info);
            if (j == i) {
                *err = i;
                return opes__lx_bad_byte(b, len, i, OPES_ESYNTAX);
            }
            i = j;
        } else if (c == 0) {
            *err = i;
            return OPES_EBAD_CHAR;
        } else if (c < 0x20 || c == 0x7f) {
            *info |= OPES__LX_OBS_CTEXT; /* obs-NO-WS-CTL */
            i++;
        } else if (c >= 0x80) {
            opes_status st = eight_bit(b, len, i, opts, info, &k);
            if (st != OPES_OK) {
                *err = i;
                return st;
            }
            i += k;
        } else {
            i++;
        }
    }
    *err = len;
    return OPES_ESYNTAX;
}

/* see internal.h */
opes_status opes__lx_cfws(const char *b, size_t len, size_t i, unsigned opts, size_t *end,
                          unsigned *info, size_t *err)
{
    for (;;) {
        i = opes__lx_fws(b, len, i, opts, info);
        if (i < len && b[i] == '(') {
            opes_status st = opes__lx_comment(b, len, i, opts, &i, info, err);
            if (st != OPES_OK)
                return st;
            continue;
        }
        *end = i;
        return OPES_OK;
    }
}

/* see internal.h */
opes_status opes__lx_bad_byte(const char *b, size_t len, size_t i, opes_status other)
{
    unsigned char c = (unsigned char)b[i];
    if (c == '\r')
        return (len - i >= 2 && b[i + 1] == '\n') ? OPES_EBAD_CHAR : OPES_EBARE_CR;
    if (c == '\n')
        return (i > 0 && b[i - 1] == '\r') ? OPES_EBAD_CHAR : OPES_EBARE_LF;
    if (c < 0x20 || c == 0x7f)
        return OPES_EBAD_CHAR;
    return other;
}

/* see internal.h */
size_t opes__lx_trim_eol(const char *b, size_t len, unsigned opts)
{
    if (len >= 2 && b[len - 2] == '\r' && b[len - 1] == '\n')
        return len - 2;
    if ((opts & OPES__LX_ALLOW_LF) && len >= 1 && b[len - 1] == '\n' &&
        !(len >= 2 && b[len - 2] == '\r'))
        return len - 1;
    return len;
}
