/*
 * libFuzzer harness for URIs (RFC 3986): opes_uri_parse, opes_uri_normalize,
 * opes_uri_equal.
 *
 * Byte 0: bits 0-1 the flags (0: URI, 1: OPES_URI_ABSOLUTE,
 * 2: OPES_URI_REFERENCE, 3: URI); bit 2 compares the input with a copy whose
 * letters have their case flipped (else with the input cut at byte 1's
 * value). The rest is the input.
 * Invariants: the error offset is within the input; on success every view
 * lies inside the input, the RFC 3986 5.3 recomposition gives the input
 * back, and the flags hold (a scheme unless REFERENCE, no fragment with
 * ABSOLUTE); normalize succeeds exactly when parse does (or says the normal
 * form is too long), its size query equals its write, its output re-parses
 * with the same flags, is its own normal form and is equal to the input;
 * equal is symmetric and agrees with comparing normal forms.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int inside(opes_str v, const char *p, size_t n)
{
    return v.len == 0 || (v.ptr >= p && v.ptr + v.len <= p + n);
}

/* RFC 3986 5.3: scheme ":" "//" authority path "?" query "#" fragment */
static size_t recompose(const opes_uri *u, char *out)
{
    size_t n = 0;
#define PUT(p, l)                                                                                  \
    do {                                                                                           \
        if (l)                                                                                     \
            memcpy(out + n, (p), (l));                                                             \
        n += (l);                                                                                  \
    } while (0)
    if (u->has_scheme) {
        PUT(u->scheme.ptr, u->scheme.len);
        PUT(":", 1);
    }
    if (u->has_authority) {
        PUT("//", 2);
        PUT(u->authority.ptr, u->authority.len);
    }
    PUT(u->path.ptr, u->path.len);
    if (u->has_query) {
        PUT("?", 1);
        PUT(u->query.ptr, u->query.len);
    }
    if (u->has_fragment) {
        PUT("#", 1);
        PUT(u->fragment.ptr, u->fragment.len);
    }
#undef PUT
    return n;
}

/* Normalise src into a fresh heap block of exactly the needed size (so an
 * over-write faults); returns the status, *out (free it) and *n. */
static opes_status norm(const char *src, size_t len, unsigned flags, char **out, size_t *n)
{
    size_t need = 0, got = 0;
    opes_status st = opes_uri_normalize(NULL, 0, &need, src, len, flags);
    *out = NULL;
    *n = 0;
    if (st == OPES_OK && need == 0) {
        *out = malloc(1);
        if (!*out)
            abort();
        return OPES_OK;
    }
    if (st != OPES_ENOSPC) {
        if (need != 0)
            __builtin_trap();
        return st;
    }
    *out = malloc(need);
    if (!*out)
        abort();
    st = opes_uri_normalize(*out, need, &got, src, len, flags);
    if (st != OPES_OK || got != need)
        __builtin_trap();
    *n = got;
    return OPES_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned modes[4] = {0, OPES_URI_ABSOLUTE, OPES_URI_REFERENCE, 0};
    unsigned flags;
    const char *src;
    size_t len, off = (size_t)-1;
    opes_uri u;
    opes_status sp, sn;
    char *nf = NULL, *nf2 = NULL, *other = NULL;
    size_t nl = 0, nl2 = 0;

    if (size < 2)
        return 0;
    flags = modes[data[0] & 3];
    src = (const char *)data + 2;
    len = size - 2;

    /* ---- parse ---- */
    sp = opes_uri_parse(src, len, flags, &u, &off);
    if (sp == OPES_OK) {
        char *re = malloc(len + 8);
        const opes_str *all[] = {&u.scheme, &u.authority, &u.userinfo, &u.host,
                                 &u.port,   &u.path,      &u.query,    &u.fragment};
        if (!re)
            abort();
        if (off != (size_t)-1)
            __builtin_trap();
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
            if (!inside(*all[k], src, len))
                __builtin_trap();
        }
        if (recompose(&u, re) != len || (len && memcmp(re, src, len) != 0))
            __builtin_trap();
        free(re);
        if ((!u.has_scheme && !(flags & OPES_URI_REFERENCE)) ||
            (u.has_fragment && (flags & OPES_URI_ABSOLUTE)))
            __builtin_trap();
        if (u.has_scheme != (u.scheme.len > 0) ||
            u.has_authority != (u.host_type != OPES_URI_HOST_NONE))
            __builtin_trap();
        if (u.host_type == OPES_URI_HOST_IPV6 || u.host_type == OPES_URI_HOST_IPVFUTURE) {
            /* the view holds the literal without its brackets */
            if (u.host.len == 0 || u.host.ptr[-1] != '[' || u.host.ptr + u.host.len >= src + len ||
                u.host.ptr[u.host.len] != ']')
                __builtin_trap();
        }
    } else if (sp == OPES_EBAD_URI || sp == OPES_EURI_NOT_ABSOLUTE || sp == OPES_EURI_TOO_LONG) {
        if (off > len || u.path.ptr || u.has_scheme || u.host_type)
            __builtin_trap();
    } else {
        __builtin_trap();
    }

    /* ---- normalize ---- */
    sn = norm(src, len, flags, &nf, &nl);
    if (sp != OPES_OK) {
        if (sn != sp)
            __builtin_trap();
    } else if (sn == OPES_EURI_TOO_LONG) {
        /* only a normal form that grew: "/" for an empty path, "/." before
         * "//", an IPv6 literal a few bytes longer */
        if (len + 8 <= OPES_MAX_URI)
            __builtin_trap();
    } else if (sn != OPES_OK) {
        __builtin_trap();
    } else {
        int eq = -1;
        opes_uri u2;
        if (nl > OPES_MAX_URI || nl > len + 8)
            __builtin_trap();
        /* the normal form is a URI of the same kind ... */
        if (opes_uri_parse(nf, nl, flags, &u2, NULL) != OPES_OK)
            __builtin_trap();
        if (u2.has_scheme != u.has_scheme || u2.has_authority != u.has_authority ||
            u2.has_userinfo != u.has_userinfo || u2.has_query != u.has_query ||
            u2.has_fragment != u.has_fragment)
            __builtin_trap();
        /* ... its own normal form ... */
        if (norm(nf, nl, flags, &nf2, &nl2) != OPES_OK || nl2 != nl ||
            (nl && memcmp(nf, nf2, nl) != 0))
            __builtin_trap();
        /* ... and equal to the input */
        if (opes_uri_equal(src, len, nf, nl, flags, &eq) != OPES_OK || eq != 1)
            __builtin_trap();
        if (opes_uri_equal(nf, nl, src, len, flags, &eq) != OPES_OK || eq != 1)
            __builtin_trap();
    }
    free(nf2);
    nf2 = NULL;

    /* ---- equal against a second URI ---- */
    {
        size_t ol;
        int e1 = -1, e2 = -1;
        opes_status s1, s2, so;
        if (data[0] & 4) {
            ol = len;
            other = malloc(len + 1);
            if (!other)
                abort();
            for (size_t k = 0; k < len; k++) {
                unsigned char c = (unsigned char)src[k];
                other[k] = (char)(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? c ^ 0x20 : c);
            }
        } else {
            ol = data[1] < len ? data[1] : len;
            other = malloc(ol + 1);
            if (!other)
                abort();
            memcpy(other, src, ol);
        }
        s1 = opes_uri_equal(src, len, other, ol, flags, &e1);
        s2 = opes_uri_equal(other, ol, src, len, flags, &e2);
        if (e1 != e2 || (s1 == OPES_OK) != (s2 == OPES_OK))
            __builtin_trap();
        so = norm(other, ol, flags, &nf2, &nl2);
        if (s1 == OPES_OK) {
            if (sn != OPES_OK || so != OPES_OK)
                __builtin_trap();
            if (e1 != (nl == nl2 && (nl == 0 || memcmp(nf, nf2, nl) == 0)))
                __builtin_trap();
        } else if (e1 != 0 || (sn == OPES_OK && so == OPES_OK)) {
            __builtin_trap();
        }
    }
    free(nf);
    free(nf2);
    free(other);
    return 0;
}
