/*
 * Transfer decoding (RFC 2045 6.7 quoted-printable, 6.8 base64): an
 * incremental decoder that takes a body in pieces split anywhere and gives
 * the same output as for the body in one piece. See opes/mime.h.
 */
#include "internal.h"

enum { B_DATA = 0, B_PAD1, B_DONE };
enum { Q_TEXT = 0, Q_CR, Q_EQ, Q_EQWS, Q_EQCR, Q_EQ1, Q_WSLONG };

/* White space held to see whether a line end follows (RFC 2045 6.7 rule 3).
 * A longer run cannot be held in the fixed state: it is passed on whole (the
 * held part, then the rest as it comes, Q_WSLONG), never half stripped. */
#define QP_WS_MAX 32

/* see opes/mime.h */
opes_status opes_mime_decoder_init(opes_mime_decoder *d, int cte)
{
    if (!d || cte < OPES_MIME_CTE_NONE || cte > OPES_MIME_CTE_UNKNOWN)
        return OPES_EINVAL;
    memset(d, 0, sizeof *d);
    d->cte = cte;
    return OPES_OK;
}

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* The core's hex digit value, flagging lower-case digits (tolerated). */
static int hex_val(unsigned char c, unsigned *flags)
{
    int v = opes__hexval(c);
    if (v >= 10 && c >= 'a')
        *flags |= OPES_MIME_DF_LOWER_HEX;
    return v;
}

static int is_hex(unsigned char c)
{
    return OPES__IS(c, OPES__C_HEX);
}

/* One base64 input byte (or the end, c < 0): output into o. */
static size_t b64_step(opes_mime_decoder *d, int c, unsigned char *o)
{
    size_t n = 0;
    int v;
    if (c < 0) { /* the end: a partial quantum without padding */
        if (d->state == B_DATA && d->nacc) {
            d->flags |= OPES_MIME_DF_TRUNCATED;
            if (d->nacc >= 2)
                o[n++] = (unsigned char)(d->acc >> (d->nacc == 2 ? 4 : 10));
            if (d->nacc == 3)
                o[n++] = (unsigned char)(d->acc >> 2);
        } else if (d->state == B_PAD1) {
            d->flags |= OPES_MIME_DF_TRUNCATED; /* "xx=" : a pad missing */
        }
        d->nacc = 0;
        d->acc = 0;
        return n;
    }
    if (c == '=') {
        if (d->state == B_PAD1) {
            d->state = B_DONE;
        } else if (d->state == B_DONE) {
            d->flags |= OPES_MIME_DF_AFTER_PAD;
        } else if (d->nacc == 2) {
            o[n++] = (unsigned char)(d->acc >> 4);
            d->state = B_PAD1;
        } else if (d->nacc == 3) {
            o[n++] = (unsigned char)(d->acc >> 10);
            o[n++] = (unsigned char)(d->acc >> 2);
            d->state = B_DONE;
        } else {
            d->flags |= OPES_MIME_DF_JUNK; /* "=" where no pad can be */
        }
        if (d->state != B_DATA) {
            d->nacc = 0;
            d->acc = 0;
        }
        return n;
    }
    v = b64_val((unsigned char)c);
    if (v < 0) {
        if (c != '\r' && c != '\n')
            d->flags |= OPES_MIME_DF_JUNK; /* RFC 2045 6.8: ignored */
        return 0;
    }
    if (d->state != B_DATA) {
        d->flags |= OPES_MIME_DF_AFTER_PAD; /* RFC 2045 6.8: the end of the data */
        return 0;
    }
    d->acc = (d->acc << 6) | (uint32_t)v;
    if (++d->nacc == 4) {
        o[n++] = (unsigned char)(d->acc >> 16);
        o[n++] = (unsigned char)(d->acc >> 8);
        o[n++] = (unsigned char)d->acc;
        d->nacc = 0;
        d->acc = 0;
    }
    return n;
}

/* Write the held white space. */
static size_t qp_ws(opes_mime_decoder *d, unsigned char *o)
{
    size_t n = 0;
    for (unsigned k = 0; k < d->nacc; k++)
        o[n++] = (d->acc >> k) & 1u ? '\t' : ' ';
    d->nacc = 0;
    d->acc = 0;
    return n;
}

static void qp_hold_ws(opes_mime_decoder *d, int c)
{
    if (c == '\t')
        d->acc |= 1u << d->nacc;
    d->nacc++;
}

/* One quoted-printable input byte (or the end, c < 0): output into o (at
 * most QP_WS_MAX + 3 octets). The end of the input ends the last line: in a
 * multipart the line end before the delimiter is the delimiter's (RFC 2046
 * 5.1.1), so white space there is trailing white space (rule 3) and a "="
 * there (with white space after it or not) is a soft line break (rule 5). */
static size_t qp_step(opes_mime_decoder *d, int c, unsigned char *o)
{
    size_t n = 0;
    for (;;) {
        switch (d->state) {
        case Q_TEXT:
            if (c < 0) {
                d->nacc = 0; /* trailing white space of the last line goes */
                d->acc = 0;
                return n;
            }
            if (c == ' ' || c == '\t') {
                if (d->nacc == QP_WS_MAX) { /* too long to hold: passed on whole */
                    n += qp_ws(d, o + n);
                    o[n++] = (unsigned char)c;
                    d->state = Q_WSLONG;
                    return n;
                }
                qp_hold_ws(d, c);
            } else if (c == '\r') {
                d->state = Q_CR;
            } else if (c == '\n') {
                d->nacc = 0; /* RFC 2045 6.7 (3): trailing white space goes */
                d->acc = 0;
                o[n++] = '\n';
            } else if (c == '=') {
                n += qp_ws(d, o + n);
                d->state = Q_EQ;
            } else {
                n += qp_ws(d, o + n);
                o[n++] = (unsigned char)c;
            }
            return n;
        case Q_CR:
            if (c == '\n') {
                d->nacc = 0;
                d->acc = 0;
                o[n++] = '\r';
                o[n++] = '\n';
                d->state = Q_TEXT;
                return n;
            }
            n += qp_ws(d, o + n); /* a bare CR: data */
            o[n++] = '\r';
            d->state = Q_TEXT;
            continue; /* c again */
        case Q_WSLONG:
            if (c == ' ' || c == '\t') {
                o[n++] = (unsigned char)c;
                return n;
            }
            d->state = Q_TEXT;
            continue; /* c again */
        case Q_EQ:
            if (c < 0) {
                d->state = Q_TEXT; /* "=" at the end: a soft line break */
                return n;
            }
            if (is_hex((unsigned char)c)) {
                d->pending[0] = (char)c;
                d->npending = 1;
                d->state = Q_EQ1;
                return n;
            }
            if (c == ' ' || c == '\t') {
                qp_hold_ws(d, c);
                d->state = Q_EQWS;
                return n;
            }
            if (c == '\r') {
                d->state = Q_EQCR;
                return n;
            }
            if (c == '\n') {
                d->state = Q_TEXT; /* a soft line break ending in LF */
                return n;
            }
            d->flags |= OPES_MIME_DF_BAD_ESCAPE;
            o[n++] = '=';
            d->state = Q_TEXT;
            continue;
        case Q_EQWS:
            if ((c == ' ' || c == '\t') && d->nacc < QP_WS_MAX) {
                qp_hold_ws(d, c);
                return n;
            }
            if (c == ' ' || c == '\t') { /* too long to hold: as written */
                d->flags |= OPES_MIME_DF_BAD_ESCAPE;
                o[n++] = '=';
                n += qp_ws(d, o + n);
                o[n++] = (unsigned char)c;
                d->state = Q_WSLONG;
                return n;
            }
            if (c < 0 || c == '\n') { /* "=" WSP line end: a soft line break
                                         (rule 3); the end of the input too */
                d->nacc = 0;
                d->acc = 0;
                d->state = Q_TEXT;
                return n;
            }
            if (c == '\r') {
                d->state = Q_EQCR;
                return n;
            }
            d->flags |= OPES_MIME_DF_BAD_ESCAPE;
            o[n++] = '=';
            n += qp_ws(d, o + n);
            d->state = Q_TEXT;
            continue;
        case Q_EQCR:
            if (c == '\n') {
                d->nacc = 0;
                d->acc = 0;
                d->state = Q_TEXT;
                return n;
            }
            d->flags |= OPES_MIME_DF_BAD_ESCAPE;
            o[n++] = '=';
            n += qp_ws(d, o + n);
            o[n++] = '\r';
            d->state = Q_TEXT;
            continue;
        case Q_EQ1:
        default:
            if (c >= 0 && is_hex((unsigned char)c)) {
                unsigned f = 0;
                int hi = hex_val((unsigned char)d->pending[0], &f);
                int lo = hex_val((unsigned char)c, &f);
                d->flags |= f;
                o[n++] = (unsigned char)(hi * 16 + lo);
                d->npending = 0;
                d->state = Q_TEXT;
                return n;
            }
            d->flags |= OPES_MIME_DF_BAD_ESCAPE;
            o[n++] = '=';
            o[n++] = (unsigned char)d->pending[0];
            d->npending = 0;
            d->state = Q_TEXT;
            continue;
        }
    }
}

/* see opes/mime.h */
opes_status opes_mime_decode(opes_mime_decoder *d, const char *in, size_t in_len, int eof,
                             char *out, size_t cap, size_t *in_used, size_t *out_len)
{
    size_t i, o = 0;
    unsigned char tmp[QP_WS_MAX + 8];
    if (in_used)
        *in_used = 0;
    if (out_len)
        *out_len = 0;
    if (!d || !in_used || !out_len || (!in && in_len) || (!out && cap) ||
        d->cte < OPES_MIME_CTE_NONE || d->cte > OPES_MIME_CTE_UNKNOWN)
        return OPES_EINVAL;
    if (d->cte != OPES_MIME_CTE_QP && d->cte != OPES_MIME_CTE_BASE64) {
        size_t n = in_len < cap ? in_len : cap;
        if (n)
            memcpy(out, in, n);
        *in_used = *out_len = n;
        return OPES_OK;
    }
    for (i = 0; i <= in_len; i++) {
        opes_mime_decoder next = *d;
        size_t n;
        int c;
        if (i == in_len) {
            if (!eof)
                break;
            c = -1;
        } else {
            c = (unsigned char)in[i];
        }
        n = d->cte == OPES_MIME_CTE_BASE64 ? b64_step(&next, c, tmp) : qp_step(&next, c, tmp);
        if (n > cap - o)
            break; /* does not fit: this byte stays unconsumed */
        if (n)
            memcpy(out + o, tmp, n);
        o += n;
        *d = next;
        if (c >= 0)
            *in_used = i + 1;
    }
    *out_len = o;
    return OPES_OK;
}
