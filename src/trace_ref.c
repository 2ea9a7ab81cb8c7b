/*
 * The agent-ref of the OPES header fields (docs/opes-smtp.md 3.1): the
 * "<>" and bare forms with the delimiting rule, and FWS. Shared by the trace
 * and bypass modules (src/opes_internal.h).
 */
#include "internal.h"

#include "opes_internal.h"

/* see opes_internal.h */
int opes__fws_skip(const char *buf, size_t len, size_t *pos)
{
    /* the mail layer's FWS scanner (RFC 5322 2.2.3; an LF fold too) */
    unsigned info = 0;
    size_t p = opes__lx_fws(buf, len, *pos, OPES__LX_ALLOW_LF, &info);
    if (p < len && (buf[p] == '\r' || buf[p] == '\n')) {
        /* a line end that starts no fold: a bare CR is reported where it
         * stands, a line end not followed by WSP at the byte after it */
        size_t q = p + 1;
        if (buf[p] == '\r') {
            if (q >= len || buf[q] != '\n') {
                *pos = p;
                return -1;
            }
            q++;
        }
        *pos = q < len ? q : p;
        return -1;
    }
    *pos = p;
    return 0;
}

/* A byte that ends a bare URI or follows a delimiting "," / ";":
 * WSP or a line end (docs/opes-smtp.md 3.1). */
static int is_delim(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* see opes_internal.h */
opes_status opes__agent_ref_scan(const char *buf, size_t len, size_t pos, opes_str *uri,
                                 int *bracketed, size_t *end, size_t *err)
{
    size_t p = pos;

    if (p >= len) {
        *err = len;
        return OPES_EBAD_TRACE;
    }
    if (buf[p] == '<') {
        /* RFC 3986 Appendix C: "<" and ">" delimit the URI; inside, every
         * URI character is data. A byte no URI holds cuts it: report it
         * there rather than look further for a ">". */
        p++;
        while (p < len && buf[p] != '>') {
            unsigned char c = (unsigned char)buf[p];
            if (c <= 32 || c >= 127 || c == '<' || c == '"') {
                *err = p;
                return OPES_EBAD_TRACE;
            }
            p++;
        }
        if (p >= len) {
            *err = len;
            return OPES_EBAD_TRACE;
        }
        if (p == pos + 1) { /* "<>" */
            *err = p;
            return OPES_EBAD_TRACE;
        }
        uri->ptr = buf + pos + 1;
        uri->len = p - pos - 1;
        *bracketed = 1;
        *end = p + 1;
        return OPES_OK;
    }
    /* bare-uri: up to WSP / a line end / the end, or before a "," or ";"
     * followed by one of those or by the end */
    while (p < len) {
        unsigned char c = (unsigned char)buf[p];
        if (is_delim(c))
            break;
        if ((c == ',' || c == ';') && (p + 1 >= len || is_delim((unsigned char)buf[p + 1])))
            break;
        p++;
    }
    if (p == pos) {
        *err = pos;
        return OPES_EBAD_TRACE;
    }
    uri->ptr = buf + pos;
    uri->len = p - pos;
    *bracketed = 0;
    *end = p;
    return OPES_OK;
}

/* see opes_internal.h */
int opes__agent_ref_needs_brackets(const char *u, size_t n)
{
    size_t i;
    if (n == 0)
        return 1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c == '(' || c == ')' || c == ',' || c == ';' || is_delim(c))
            return 1;
    }
    return 0;
}
