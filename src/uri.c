/*
 * URIs (RFC 3986): the exact Appendix A grammar, syntax-based and
 * scheme-based normalisation (6.2.2, 6.2.3) and comparison. Views only,
 * no heap: the normal form is built in stack buffers of OPES_MAX_URI.
 */
#include "internal.h"

/* ---- character classes (opes__ctab has none for RFC 3986; explicit
 * comparisons, as the project rules ask) ---------------------------------- */

/* RFC 3986 2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
static int is_unreserved(unsigned char c)
{
    return OPES__IS(c, OPES__C_ALPHA | OPES__C_DIGIT) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* RFC 3986 2.2: sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" /
 * "," / ";" / "=" */
static int is_subdelim(unsigned char c)
{
    switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
        return 1;
    default:
        return 0;
    }
}

static int is_digit(unsigned char c)
{
    return OPES__IS(c, OPES__C_DIGIT);
}

static int is_hex(unsigned char c)
{
    return OPES__IS(c, OPES__C_HEX);
}

static unsigned char lower(unsigned char c)
{
    return (unsigned char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
}

/* Extra characters a component allows beyond unreserved / sub-delims. */
enum { U_COLON = 1u, U_AT = 2u, U_SLASH = 4u, U_QMARK = 8u, U_PCT = 16u };

/* The first index >= i in b[0..n) whose byte is not unreserved, sub-delims,
 * pct-encoded (with U_PCT) or one of the allowed extras. A malformed
 * triplet ("%" without two HEXDIGs, RFC 3986 2.1) sets *bad and returns the
 * offset of the byte that should have been a HEXDIG (n if it is missing). */
static size_t scan(const unsigned char *b, size_t i, size_t n, unsigned allow, int *bad)
{
    *bad = 0;
    while (i < n) {
        unsigned char c = b[i];
        if (is_unreserved(c) || is_subdelim(c) || (c == ':' && (allow & U_COLON)) ||
            (c == '@' && (allow & U_AT)) || (c == '/' && (allow & U_SLASH)) ||
            (c == '?' && (allow & U_QMARK))) {
            i++;
            continue;
        }
        if (c == '%' && (allow & U_PCT)) {
            if (i + 1 >= n || !is_hex(b[i + 1])) {
                *bad = 1;
                return i + 1;
            }
            if (i + 2 >= n || !is_hex(b[i + 2])) {
                *bad = 1;
                return i + 2;
            }
            i += 3;
            continue;
        }
        break;
    }
    return i;
}

/* ---- IP addresses (RFC 3986 3.2.2) --------------------------------------- */

/* Is p[0..n) exactly an IPv4address? dec-octet has no leading zero: "0" is
 * one, "01" is not (so "1.01.1.1" is a reg-name). */
static int ipv4_exact(const unsigned char *p, size_t n, unsigned char a[4])
{
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        unsigned v;
        size_t s;
        if (k) {
            if (i >= n || p[i] != '.')
                return 0;
            i++;
        }
        if (i >= n || !is_digit(p[i]))
            return 0;
        s = i;
        v = (unsigned)(p[i++] - '0');
        if (v != 0) {
            while (i < n && i - s < 3 && is_digit(p[i]))
                v = v * 10 + (unsigned)(p[i++] - '0');
        }
        if (v > 255)
            return 0;
        a[k] = (unsigned char)v;
    }
    return i == n;
}

/*
 * Is p[0..n) exactly an IPv6address (RFC 3986 3.2.2)? The nine ABNF
 * alternatives come down to: pieces of 1-4 HEXDIGs separated by ":", at most
 * one "::", an IPv4address only as the last 32 bits (counting two pieces),
 * eight pieces without "::" and at most seven with it. On success the
 * address is in g (may be NULL); on failure *bad is the offset of the
 * offending byte (n when the text ends too early).
 */
static int ipv6_parse(const unsigned char *p, size_t n, uint16_t g[8], size_t *bad)
{
    uint16_t v[8];
    size_t cnt = 0, i = 0;
    int gap = -1; /* number of pieces before the "::" */

    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        gap = 0;
        i = 2;
    } else if (n >= 1 && p[0] == ':') {
        *bad = 1; /* a lone leading ":" */
        return 0;
    }
    while (i < n) {
        size_t s = i;
        unsigned val = 0;
        while (i < n && i - s < 4 && is_hex(p[i]))
            val = val * 16 + (unsigned)opes__hexval(p[i++]);
        if (i < n && p[i] == '.') {
            /* ls32 = IPv4address: the rest of the literal */
            unsigned char a[4];
            if (cnt > 6 || !ipv4_exact(p + s, n - s, a)) {
                *bad = s;
                return 0;
            }
            v[cnt++] = (uint16_t)(a[0] << 8 | a[1]);
            v[cnt++] = (uint16_t)(a[2] << 8 | a[3]);
            i = n;
            break;
        }
        if (i == s || cnt == 8 || (i < n && is_hex(p[i]))) {
            /* an empty piece (":::"), a ninth, or a fifth HEXDIG */
            *bad = (i == s || cnt == 8) ? s : i;
            return 0;
        }
        v[cnt++] = (uint16_t)val;
        if (i == n)
            break;
        if (p[i] != ':') {
            *bad = i;
            return 0;
        }
        i++;
        if (i < n && p[i] == ':') {
            if (gap >= 0) {
                *bad = i; /* a second "::" */
                return 0;
            }
            gap = (int)cnt;
            i++;
            continue;
        }
        if (i == n) {
            *bad = n; /* a trailing single ":" */
            return 0;
        }
    }
    if (gap < 0 ? cnt != 8 : cnt > 7) {
        *bad = n;
        return 0;
    }
    if (g) {
        size_t head = gap < 0 ? cnt : (size_t)gap, zeros = 8 - cnt;
        for (size_t k = 0; k < head; k++)
            g[k] = v[k];
        for (size_t k = 0; k < zeros; k++)
            g[head + k] = 0;
        for (size_t k = head; k < cnt; k++)
            g[zeros + k] = v[k];
    }
    return 1;
}

/* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ), exactly
 * p[s..e); b[s] is "v" or "V". */
static int ipvfuture_check(const unsigned char *b, size_t s, size_t e, size_t *bad)
{
    size_t k = s + 1, t;
    while (k < e && is_hex(b[k]))
        k++;
    if (k == s + 1 || k >= e || b[k] != '.') {
        *bad = k;
        return 0;
    }
    t = ++k;
    while (k < e && (is_unreserved(b[k]) || is_subdelim(b[k]) || b[k] == ':'))
        k++;
    if (k == t || k != e) {
        *bad = k;
        return 0;
    }
    return 1;
}

/* ---- the parser -------------------------------------------------------- */

static opes_str view(const unsigned char *b, size_t s, size_t e)
{
    opes_str v;
    v.ptr = (const char *)(b + s);
    v.len = e - s;
    return v;
}

/* authority = [ userinfo "@" ] host [ ":" port ] at b[a..e) (RFC 3986 3.2). */
static opes_status parse_authority(const unsigned char *b, size_t a, size_t e, opes_uri *u,
                                   size_t *err)
{
    size_t h = a, k, x, p;
    int bad;

    u->has_authority = 1;
    u->authority = view(b, a, e);
    /* 3.2.1: userinfo holds no "@", so the first one ends it */
    for (k = a; k < e && b[k] != '@'; k++)
        ;
    if (k < e) {
        x = scan(b, a, k, U_COLON | U_PCT, &bad);
        if (bad || x != k) {
            *err = x;
            return OPES_EBAD_URI;
        }
        u->has_userinfo = 1;
        u->userinfo = view(b, a, k);
        h = k + 1;
    }
    if (h < e && b[h] == '[') {
        /* IP-literal: the only place for "[" and "]" (3.2.2) */
        size_t c = h + 1;
        int ok;
        while (c < e && b[c] != ']')
            c++;
        if (c > h + 1 && (b[h + 1] == 'v' || b[h + 1] == 'V')) {
            ok = ipvfuture_check(b, h + 1, c, &x);
            u->host_type = OPES_URI_HOST_IPVFUTURE;
        } else {
            ok = ipv6_parse(b + h + 1, c - (h + 1), NULL, &x);
            x += h + 1;
            u->host_type = OPES_URI_HOST_IPV6;
        }
        if (!ok || c == e) {
            *err = ok ? e : x;
            return OPES_EBAD_URI;
        }
        u->host = view(b, h + 1, c);
        p = c + 1;
        if (p < e && b[p] != ':') {
            *err = p;
            return OPES_EBAD_URI;
        }
    } else {
        unsigned char a4[4];
        x = scan(b, h, e, U_PCT, &bad); /* reg-name; stops at ":" */
        if (bad || (x < e && b[x] != ':')) {
            *err = x;
            return OPES_EBAD_URI;
        }
        u->host = view(b, h, x);
        /* 3.2.2: "first-match-wins": an IPv4address is not a reg-name */
        u->host_type = ipv4_exact(b + h, x - h, a4) ? OPES_URI_HOST_IPV4 : OPES_URI_HOST_REGNAME;
        p = x;
    }
    if (p < e) { /* b[p] == ':' */
        size_t q = p + 1;
        while (q < e && is_digit(b[q]))
            q++;
        if (q != e) {
            *err = q;
            return OPES_EBAD_URI;
        }
        u->has_port = 1;
        u->port = view(b, p + 1, e);
    }
    return OPES_OK;
}

/* The whole of b[0..n) as URI / URI-reference (RFC 3986 Appendix A); the
 * flags are checked by the caller. */
static opes_status parse(const unsigned char *b, size_t n, unsigned flags, opes_uri *u, size_t *err)
{
    size_t i = 0, s, e, frag_at = 0;
    int bad;
    opes_status st;

    /* 3.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":" */
    if (n > 0 && OPES__IS(b[0], OPES__C_ALPHA)) {
        s = 1;
        while (s < n && (OPES__IS(b[s], OPES__C_ALPHA | OPES__C_DIGIT) || b[s] == '+' ||
                         b[s] == '-' || b[s] == '.'))
            s++;
        if (s < n && b[s] == ':') {
            u->has_scheme = 1;
            u->scheme = view(b, 0, s);
            i = s + 1;
        }
    }
    /* hier-part / relative-part: "//" authority path-abempty */
    if (n - i >= 2 && b[i] == '/' && b[i + 1] == '/') {
        i += 2;
        e = i;
        while (e < n && b[e] != '/' && b[e] != '?' && b[e] != '#')
            e++;
        st = parse_authority(b, i, e, u, err);
        if (st != OPES_OK)
            return st;
        i = e;
    }
    /* 3.3 path: pchar = unreserved / pct-encoded / sub-delims / ":" / "@",
     * segments separated by "/"; ends at "?", "#" or the end. With an
     * authority it is empty or starts with "/"; without, it cannot start
     * with "//" (that would have been an authority): both hold here. */
    s = i;
    e = scan(b, i, n, U_COLON | U_AT | U_SLASH | U_PCT, &bad);
    if (bad || (e < n && b[e] != '?' && b[e] != '#')) {
        *err = e;
        return OPES_EBAD_URI;
    }
    if (!u->has_scheme && !u->has_authority && e > s && b[s] != '/') {
        /* 4.2 path-noscheme: no ":" in the first segment */
        for (size_t k = s; k < e && b[k] != '/'; k++) {
            if (b[k] == ':') {
                *err = k;
                return OPES_EBAD_URI;
            }
        }
    }
    u->path = view(b, s, e);
    i = e;
    /* 3.4 query = *( pchar / "/" / "?" ) */
    if (i < n && b[i] == '?') {
        i++;
        e = scan(b, i, n, U_COLON | U_AT | U_SLASH | U_QMARK | U_PCT, &bad);
        if (bad) {
            *err = e;
            return OPES_EBAD_URI;
        }
        u->has_query = 1;
        u->query = view(b, i, e);
        i = e;
    }
    /* 3.5 fragment = *( pchar / "/" / "?" ): to the end, no second "#" */
    if (i < n && b[i] == '#') {
        frag_at = i++;
        e = scan(b, i, n, U_COLON | U_AT | U_SLASH | U_QMARK | U_PCT, &bad);
        if (bad) {
            *err = e;
            return OPES_EBAD_URI;
        }
        u->has_fragment = 1;
        u->fragment = view(b, i, e);
        i = e;
    }
    if (i < n) {
        *err = i;
        return OPES_EBAD_URI;
    }
    if (!u->has_scheme && !(flags & OPES_URI_REFERENCE)) {
        *err = 0; /* 4.2: a relative reference, where a URI is wanted */
        return OPES_EURI_NOT_ABSOLUTE;
    }
    if (u->has_fragment && (flags & OPES_URI_ABSOLUTE)) {
        *err = frag_at; /* 4.3: absolute-URI has no fragment */
        return OPES_EURI_NOT_ABSOLUTE;
    }
    return OPES_OK;
}

static int flags_ok(unsigned flags)
{
    const unsigned all = OPES_URI_ABSOLUTE | OPES_URI_REFERENCE;
    return (flags & ~all) == 0 && (flags & all) != all;
}

/* see opes/uri.h */
opes_status opes_uri_parse(const char *buf, size_t len, unsigned flags, opes_uri *out,
                           size_t *err_offset)
{
    size_t err = 0;
    opes_status st;

    if (out)
        memset(out, 0, sizeof *out);
    if (!out || (!buf && len > 0) || !flags_ok(flags))
        return OPES_EINVAL;
    if (len > OPES_MAX_URI) {
        if (err_offset)
            *err_offset = OPES_MAX_URI;
        return OPES_EURI_TOO_LONG;
    }
    if (len == 0)
        buf = ""; /* views point somewhere real, never at NULL + 0 */
    st = parse((const unsigned char *)buf, len, flags, out, &err);
    if (st != OPES_OK) {
        memset(out, 0, sizeof *out);
        if (err_offset)
            *err_offset = err;
    }
    return st;
}

/* ---- normalisation (RFC 3986 6.2.2, 6.2.3) ------------------------------- */

/* Write component p[0..n) (validated) with its percent-encoding normalised:
 * a triplet of an unreserved character decoded (6.2.2.2, 2.3), the others
 * with upper-case hex digits (6.2.2.1). With fold, letters outside the
 * triplets are lower-cased (the host, 3.2.2), decoded ones included. */
static void put_component(opes__wr *w, const unsigned char *p, size_t n, int fold)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '%' && n - i >= 3) {
            unsigned char d = (unsigned char)(opes__hexval(p[i + 1]) * 16 + opes__hexval(p[i + 2]));
            if (is_unreserved(d)) {
                opes__wr_putc(w, (char)(fold ? lower(d) : d));
            } else {
                opes__wr_putc(w, '%');
                opes__wr_putc(w, (char)opes__upper(p[i + 1]));
                opes__wr_putc(w, (char)opes__upper(p[i + 2]));
            }
            i += 2;
        } else {
            opes__wr_putc(w, (char)(fold ? lower(c) : c));
        }
    }
}

/* RFC 3986 5.2.4 remove_dot_segments, in place on b[0..n): the output
 * buffer is b[0..o), the input buffer b[i..n), and o <= i throughout (the
 * output never holds more than the input consumed), so a step that
 * "replaces a prefix with "/"" may write that "/" over the input. Returns
 * the output length. */
static size_t remove_dot_segments(unsigned char *b, size_t n)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t r = n - i, s;
        const unsigned char *p = b + i;
        int pop = 0;
        if (r >= 3 && p[0] == '.' && p[1] == '.' && p[2] == '/') {
            i += 3; /* A: "../" */
        } else if (r >= 2 && p[0] == '.' && p[1] == '/') {
            i += 2; /* A: "./" */
        } else if (r >= 3 && p[0] == '/' && p[1] == '.' && p[2] == '/') {
            i += 2; /* B: "/./" -> "/" */
        } else if (r == 2 && p[0] == '/' && p[1] == '.') {
            i += 1; /* B: "/." at the end -> "/" */
            b[i] = '/';
        } else if (r >= 4 && p[0] == '/' && p[1] == '.' && p[2] == '.' && p[3] == '/') {
            i += 3; /* C: "/../" -> "/", and drop the last output segment */
            pop = 1;
        } else if (r == 3 && p[0] == '/' && p[1] == '.' && p[2] == '.') {
            i += 2; /* C: "/.." at the end -> "/" */
            b[i] = '/';
            pop = 1;
        } else if ((r == 1 && p[0] == '.') || (r == 2 && p[0] == '.' && p[1] == '.')) {
            i = n; /* D */
        } else {
            /* E: move "/"? segment to the output */
            s = i;
            if (b[i] == '/')
                i++;
            while (i < n && b[i] != '/')
                i++;
            memmove(b + o, b + s, i - s);
            o += i - s;
        }
        if (pop) {
            /* "remove the last segment and its preceding "/" (if any)" */
            while (o > 0 && b[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        }
    }
    return o;
}

static void put_hex16(opes__wr *w, unsigned v)
{
    static const char hx[] = "0123456789abcdef";
    int started = 0;
    for (int sh = 12; sh >= 0; sh -= 4) {
        unsigned d = (v >> sh) & 15u;
        if (d || started || sh == 0) {
            opes__wr_putc(w, hx[d]);
            started = 1;
        }
    }
}

/* An IPv6 address in the RFC 5952 4 text form (IPv4-mapped per 5). */
static void put_ipv6(opes__wr *w, const uint16_t g[8])
{
    int best = -1, bestlen = 0, mapped, last, i, colon = 0;
    for (i = 0; i < 8;) {
        if (g[i] == 0) {
            int j = i;
            while (j < 8 && g[j] == 0)
                j++;
            if (j - i > bestlen) { /* 4.2.3: the longest, the first on a tie */
                best = i;
                bestlen = j - i;
            }
            i = j;
        } else {
            i++;
        }
    }
    if (bestlen < 2) /* 4.2.2: "::" never for one 16-bit 0 field */
        best = -1;
    /* RFC 5952 5: ::ffff:0:0/96 (IPv4-mapped, RFC 4291 2.5.5.2) in mixed
     * notation */
    mapped = g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff;
    last = mapped ? 6 : 8;
    for (i = 0; i < last;) {
        if (i == best) {
            opes__wr_put(w, "::", 2);
            i += bestlen;
            colon = 0;
            continue;
        }
        if (colon)
            opes__wr_putc(w, ':');
        put_hex16(w, g[i]);
        colon = 1;
        i++;
    }
    if (mapped) {
        if (colon)
            opes__wr_putc(w, ':');
        opes__wr_u64(w, (uint64_t)(g[6] >> 8));
        opes__wr_putc(w, '.');
        opes__wr_u64(w, (uint64_t)(g[6] & 0xff));
        opes__wr_putc(w, '.');
        opes__wr_u64(w, (uint64_t)(g[7] >> 8));
        opes__wr_putc(w, '.');
        opes__wr_u64(w, (uint64_t)(g[7] & 0xff));
    }
}

/* The default port of the schemes whose specifications give one. */
static const struct {
    const char *scheme;
    const char *port;
} default_ports[] = {
    {"http", "80"},   /* RFC 3986 6.2.3 (and 3.2.3) */
    {"https", "443"}, /* RFC 7230 2.7.2 */
    {"ws", "80"},     /* RFC 6455 3 */
    {"wss", "443"},   /* RFC 6455 3 */
    {"ftp", "21"},    /* RFC 1738 3.2 */
};

static int is_default_port(opes_str scheme, const char *port, size_t plen)
{
    for (size_t k = 0; k < sizeof default_ports / sizeof default_ports[0]; k++) {
        const char *s = default_ports[k].scheme, *p = default_ports[k].port;
        if (opes__ieq2(scheme.ptr, scheme.len, s, strlen(s)) && plen == strlen(p) &&
            memcmp(port, p, plen) == 0)
            return 1;
    }
    return 0;
}

/* Build the normal form of src[0..n) into out[0..OPES_MAX_URI), *outlen its
 * length. */
static opes_status normal_form(const char *src, size_t n, unsigned flags, char *out, size_t *outlen)
{
    opes_uri u;
    opes__wr w, pw;
    unsigned char pbuf[OPES_MAX_URI];
    size_t plen, err;
    opes_status st;

    *outlen = 0;
    st = opes_uri_parse(src, n, flags, &u, &err);
    if (st != OPES_OK)
        return st;
    opes__wr_init(&w, out, OPES_MAX_URI);

    if (u.has_scheme) { /* 3.1, 6.2.2.1: lower case */
        for (size_t k = 0; k < u.scheme.len; k++)
            opes__wr_putc(&w, (char)lower((unsigned char)u.scheme.ptr[k]));
        opes__wr_putc(&w, ':');
    }
    if (u.has_authority) {
        opes__wr_put(&w, "//", 2);
        if (u.has_userinfo) {
            put_component(&w, (const unsigned char *)u.userinfo.ptr, u.userinfo.len, 0);
            opes__wr_putc(&w, '@');
        }
        if (u.host_type == OPES_URI_HOST_IPV6) {
            uint16_t g[8];
            size_t bad;
            if (!ipv6_parse((const unsigned char *)u.host.ptr, u.host.len, g, &bad))
                return OPES_EBAD_URI; /* cannot happen: parse checked it */
            opes__wr_putc(&w, '[');
            put_ipv6(&w, g);
            opes__wr_putc(&w, ']');
        } else if (u.host_type == OPES_URI_HOST_IPVFUTURE) {
            opes__wr_putc(&w, '[');
            put_component(&w, (const unsigned char *)u.host.ptr, u.host.len, 1);
            opes__wr_putc(&w, ']');
        } else {
            put_component(&w, (const unsigned char *)u.host.ptr, u.host.len, 1);
        }
        if (u.has_port) {
            /* 3.2.3 "in decimal": leading zeros are spelling; 3.2.3/6.2.3:
             * an empty or default port goes with its ":" */
            const char *p = u.port.ptr;
            size_t pl = u.port.len;
            while (pl > 1 && p[0] == '0') {
                p++;
                pl--;
            }
            if (pl > 0 && !is_default_port(u.scheme, p, pl)) {
                opes__wr_putc(&w, ':');
                opes__wr_put(&w, p, pl);
            }
        }
    }

    /* path: percent-encoding first (6.2.2.2), then the dot segments
     * (6.2.2.3), so "%2E%2E" is removed as ".." and a second pass finds
     * nothing left to do */
    opes__wr_init(&pw, (char *)pbuf, sizeof pbuf);
    put_component(&pw, (const unsigned char *)u.path.ptr, u.path.len, 0);
    if (opes__wr_finish(&pw, &plen) != OPES_OK)
        return OPES_EURI_TOO_LONG; /* cannot happen: decoding only shrinks */
    if (u.has_scheme || u.has_authority || (plen > 0 && pbuf[0] == '/'))
        plen = remove_dot_segments(pbuf, plen);
    if (!u.has_authority && plen >= 2 && pbuf[0] == '/' && pbuf[1] == '/')
        opes__wr_put(&w, "/.", 2); /* else "//" would read as an authority */
    if (u.has_authority && plen == 0)
        opes__wr_putc(&w, '/'); /* 6.2.3 */
    opes__wr_put(&w, pbuf, plen);

    if (u.has_query) {
        opes__wr_putc(&w, '?');
        put_component(&w, (const unsigned char *)u.query.ptr, u.query.len, 0);
    }
    if (u.has_fragment) {
        opes__wr_putc(&w, '#');
        put_component(&w, (const unsigned char *)u.fragment.ptr, u.fragment.len, 0);
    }
    if (opes__wr_finish(&w, outlen) != OPES_OK) {
        *outlen = 0;
        return OPES_EURI_TOO_LONG;
    }
    return OPES_OK;
}

/* see opes/uri.h */
opes_status opes_uri_normalize(char *dst, size_t cap, size_t *len, const char *src, size_t src_len,
                               unsigned flags)
{
    char nf[OPES_MAX_URI];
    size_t n = 0;
    opes__wr w;
    opes_status st;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    if ((!src && src_len > 0) || !flags_ok(flags))
        return OPES_EINVAL;
    st = normal_form(src, src_len, flags, nf, &n);
    if (st != OPES_OK)
        return st;
    opes__wr_init(&w, dst, cap);
    opes__wr_put(&w, nf, n);
    return opes__wr_finish(&w, len);
}

/* see opes/uri.h */
opes_status opes_uri_equal(const char *a, size_t alen, const char *b, size_t blen, unsigned flags,
                           int *equal)
{
    char na[OPES_MAX_URI], nb[OPES_MAX_URI];
    size_t la = 0, lb = 0;
    opes_status st;

    if (!equal)
        return OPES_EINVAL;
    *equal = 0;
    if ((!a && alen > 0) || (!b && blen > 0) || !flags_ok(flags))
        return OPES_EINVAL;
    st = normal_form(a, alen, flags, na, &la);
    if (st != OPES_OK)
        return st;
    st = normal_form(b, blen, flags, nb, &lb);
    if (st != OPES_OK)
        return st;
    *equal = la == lb && (la == 0 || memcmp(na, nb, la) == 0);
    return OPES_OK;
}
