/* URIs (RFC 3986): parse, normalise (6.2.2, 6.2.3), compare. Expectations
 * come from RFC 3986 (1.1.2, 3, 5.2.4, 5.4, 6.2.2, 6.2.3), RFC 4291 2.2,
 * RFC 5952 4-5 and the OPES examples of RFC 4236 3 (Figure 17). */
#include "harness.h"

#include <arpa/inet.h>
#include <stdlib.h>

/* An empty input uses a static "" (no guarded page for 0 bytes). */
static const char *gcopy(const char *s, size_t n)
{
    return n ? guarded_copy(s, n) : "";
}
static void gfree(const char *g, size_t n)
{
    if (n)
        guarded_free(g);
}

/* Append "key=value " for a present component. */
static void add(char *out, size_t cap, const char *key, opes_str v, int present)
{
    size_t l = strlen(out);
    if (present && l < cap)
        snprintf(out + l, cap - l, "%s=%.*s ", key, (int)v.len, v.ptr ? v.ptr : "");
}

/* "s=scheme u=userinfo h=host/type o=port p=path q=query f=fragment", each
 * only when present (the path always), views checked to lie inside g, and
 * the RFC 3986 5.3 recomposition checked to give back the input. */
static int describe(const opes_uri *u, const char *g, size_t n, char *out, size_t cap)
{
    const opes_str *all[] = {&u->scheme, &u->authority, &u->userinfo, &u->host,
                             &u->port,   &u->path,      &u->query,    &u->fragment};
    char re[OPES_MAX_URI + 8];
    size_t rl = 0;
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        const opes_str *v = all[k];
        if (v->len && (v->ptr < g || v->ptr + v->len > g + n))
            return 0;
    }
    out[0] = 0;
    add(out, cap, "s", u->scheme, u->has_scheme);
    add(out, cap, "u", u->userinfo, u->has_userinfo);
    if (u->has_authority) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "h=%.*s/%d ", (int)u->host.len, u->host.ptr ? u->host.ptr : "",
                 u->host_type);
    } else if (u->host_type != OPES_URI_HOST_NONE) {
        return 0;
    }
    add(out, cap, "o", u->port, u->has_port);
    add(out, cap, "p", u->path, 1);
    add(out, cap, "q", u->query, u->has_query);
    add(out, cap, "f", u->fragment, u->has_fragment);
    if (strlen(out))
        out[strlen(out) - 1] = 0;
#define PUT(p, l)                                                                                  \
    do {                                                                                           \
        memcpy(re + rl, (p), (l));                                                                 \
        rl += (l);                                                                                 \
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
    /* RFC 3986 5.3 Component Recomposition gives back the input */
    return rl == n && (n == 0 || memcmp(re, g, n) == 0);
}

/* Parse s (through a guarded copy) and compare its description. */
static void ok_at(int line, const char *s, unsigned flags, const char *want)
{
    size_t n = strlen(s), off = 12345;
    const char *g = gcopy(s, n);
    opes_uri u;
    char d[OPES_MAX_URI + 256];
    opes_status st = opes_uri_parse(g, n, flags, &u, &off);
    if (st != OPES_OK) {
        test_fail_at(__FILE__, line, s);
        fprintf(stderr, "    got %s at %zu\n", opes_status_name(st), off);
    } else if (!describe(&u, g, n, d, sizeof d)) {
        test_fail_at(__FILE__, line, "views outside the input or recomposition differs");
    } else if (strcmp(d, want) != 0) {
        test_fail_at(__FILE__, line, s);
        fprintf(stderr, "    got  %s\n    want %s\n", d, want);
    } else {
        test_passed++;
    }
    if (off != 12345) {
        test_fail_at(__FILE__, line, "err_offset written on success");
    }
    gfree(g, n);
}
#define OK(s, flags, want) ok_at(__LINE__, s, flags, want)

/* Parse s[0..n) and expect status st with err_offset off. */
static void bad_at(int line, const char *s, size_t n, unsigned flags, opes_status want,
                   size_t want_off)
{
    size_t off = 12345;
    const char *g = gcopy(s, n);
    opes_uri u;
    opes_status st = opes_uri_parse(g, n, flags, &u, &off);
    if (st != want || off != want_off) {
        test_fail_at(__FILE__, line, s);
        fprintf(stderr, "    got %s at %zu, want %s at %zu\n", opes_status_name(st), off,
                opes_status_name(want), want_off);
    } else if (u.path.ptr || u.has_scheme || u.host_type) {
        test_fail_at(__FILE__, line, "out not cleared on error");
    } else {
        test_passed++;
    }
    gfree(g, n);
}
#define BAD(s, flags, st, off) bad_at(__LINE__, s, strlen(s), flags, st, off)
#define BADN(s, n, flags, st, off) bad_at(__LINE__, s, n, flags, st, off)

/* Normalise s and expect want; also: the size query agrees, and want is
 * its own normal form (idempotence) and equal to s. */
static void norm_at(int line, const char *s, unsigned flags, const char *want)
{
    size_t n = strlen(s), wl = strlen(want), got = 0, need = 0;
    const char *g = gcopy(s, n);
    char out[OPES_MAX_URI + 8];
    opes_status st = opes_uri_normalize(out, sizeof out, &got, g, n, flags);
    opes_status sq = opes_uri_normalize(NULL, 0, &need, g, n, flags);
    int eq = -1;
    if (st != OPES_OK || got != wl || memcmp(out, want, wl) != 0) {
        test_fail_at(__FILE__, line, s);
        fprintf(stderr, "    got %s \"%.*s\", want \"%s\"\n", opes_status_name(st),
                (int)(st == OPES_OK ? got : 0), out, want);
    } else if (need != wl || sq != (wl ? OPES_ENOSPC : OPES_OK)) {
        test_fail_at(__FILE__, line, "size query disagrees");
    } else {
        const char *g2 = gcopy(want, wl);
        size_t got2 = 0;
        st = opes_uri_normalize(out, sizeof out, &got2, g2, wl, flags);
        if (st != OPES_OK || got2 != wl || memcmp(out, want, wl) != 0) {
            test_fail_at(__FILE__, line, "not idempotent");
        } else if (opes_uri_equal(g, n, g2, wl, flags, &eq) != OPES_OK || eq != 1) {
            test_fail_at(__FILE__, line, "not equal to its normal form");
        } else {
            test_passed++;
        }
        gfree(g2, wl);
    }
    gfree(g, n);
}
#define NORM(s, flags, want) norm_at(__LINE__, s, flags, want)

/* opes_uri_equal(a, b) and (b, a). */
static void eq_at(int line, const char *a, const char *b, unsigned flags, int want)
{
    size_t al = strlen(a), bl = strlen(b);
    const char *ga = gcopy(a, al), *gb = gcopy(b, bl);
    int e1 = -1, e2 = -1;
    opes_status s1 = opes_uri_equal(ga, al, gb, bl, flags, &e1);
    opes_status s2 = opes_uri_equal(gb, bl, ga, al, flags, &e2);
    if (s1 != OPES_OK || s2 != OPES_OK || e1 != want || e2 != want) {
        test_fail_at(__FILE__, line, want ? "should be equal" : "should differ");
        fprintf(stderr, "    <%s> <%s>: %s/%s %d/%d\n", a, b, opes_status_name(s1),
                opes_status_name(s2), e1, e2);
    } else {
        test_passed++;
    }
    gfree(ga, al);
    gfree(gb, bl);
}
#define EQ(a, b) eq_at(__LINE__, a, b, 0, 1)
#define NE(a, b) eq_at(__LINE__, a, b, 0, 0)

static void test_rfc3986_examples(void)
{
    /* RFC 3986 1.1.2 Examples */
    OK("ftp://ftp.is.co.za/rfc/rfc1808.txt", 0, "s=ftp h=ftp.is.co.za/1 p=/rfc/rfc1808.txt");
    OK("http://www.ietf.org/rfc/rfc2396.txt", 0, "s=http h=www.ietf.org/1 p=/rfc/rfc2396.txt");
    OK("ldap://[2001:db8::7]/c=GB?objectClass?one", 0,
       "s=ldap h=2001:db8::7/3 p=/c=GB q=objectClass?one");
    OK("mailto:John.Doe@example.com", 0, "s=mailto p=John.Doe@example.com");
    OK("news:comp.infosystems.www.servers.unix", 0, "s=news p=comp.infosystems.www.servers.unix");
    OK("tel:+1-816-555-1212", 0, "s=tel p=+1-816-555-1212");
    OK("telnet://192.0.2.16:80/", 0, "s=telnet h=192.0.2.16/2 o=80 p=/");
    OK("urn:oasis:names:specification:docbook:dtd:xml:4.1.2", 0,
       "s=urn p=oasis:names:specification:docbook:dtd:xml:4.1.2");
    /* every one of them is an absolute-URI too */
    OK("ldap://[2001:db8::7]/c=GB?objectClass?one", OPES_URI_ABSOLUTE,
       "s=ldap h=2001:db8::7/3 p=/c=GB q=objectClass?one");
    OK("tel:+1-816-555-1212", OPES_URI_ABSOLUTE, "s=tel p=+1-816-555-1212");

    /* RFC 3986 3: "foo://example.com:8042/over/there?name=ferret#nose" and
     * "urn:example:animal:ferret:nose" */
    OK("foo://example.com:8042/over/there?name=ferret#nose", 0,
       "s=foo h=example.com/1 o=8042 p=/over/there q=name=ferret f=nose");
    OK("urn:example:animal:ferret:nose", 0, "s=urn p=example:animal:ferret:nose");
    /* RFC 3986 3.3: "<mailto:fred@example.com> has a path of
     * "fred@example.com", whereas the URI <foo://info.example.com?fred> has
     * an empty path" */
    OK("mailto:fred@example.com", 0, "s=mailto p=fred@example.com");
    OK("foo://info.example.com?fred", 0, "s=foo h=info.example.com/1 p= q=fred");
    /* RFC 3986 1.1: "file:///etc/hosts" (empty host) */
    OK("file:///etc/hosts", 0, "s=file h=/1 p=/etc/hosts");

    /* RFC 4236 3, Figure 17: OPES agent identifiers */
    OK("http://www.cdn.example.com/opes?session=ac79a749f56", OPES_URI_ABSOLUTE,
       "s=http h=www.cdn.example.com/1 p=/opes q=session=ac79a749f56");
    OK("http://www.srvcs-4u.example.com/cat/?sid=123", OPES_URI_ABSOLUTE,
       "s=http h=www.srvcs-4u.example.com/1 p=/cat/ q=sid=123");
}

static void test_components(void)
{
    /* userinfo, empty components, delimiters kept apart from absent ones */
    OK("http://user:pw@h:8080/p?q#f", 0, "s=http u=user:pw h=h/1 o=8080 p=/p q=q f=f");
    OK("http://@h:/?#", 0, "s=http u= h=h/1 o= p=/ q= f=");
    OK("http://h", 0, "s=http h=h/1 p=");
    OK("http://", 0, "s=http h=/1 p=");
    OK("x:", 0, "s=x p=");
    OK("x:?", 0, "s=x p= q=");
    OK("x:#", 0, "s=x p= f=");
    OK("x:/", 0, "s=x p=/");
    OK("X+1.-y:z", 0, "s=X+1.-y p=z");
    /* ":" and "@" are pchars; "/" and "?" in query and fragment */
    OK("x:a:b@c/d:e", 0, "s=x p=a:b@c/d:e");
    OK("x:/p?a/b?c:d@e#f/g?h:i@j", 0, "s=x p=/p q=a/b?c:d@e f=f/g?h:i@j");
    /* every sub-delim and unreserved character, pct-encoded octets */
    OK("x://!$&'()*+,;=-._~%41Az09@!$&'()*+,;=-._~%7e:1/!$&'()*+,;=:@-._~%ff", 0,
       "s=x u=!$&'()*+,;=-._~%41Az09 h=!$&'()*+,;=-._~%7e/1 o=1 p=/!$&'()*+,;=:@-._~%ff");
    /* port = *DIGIT, no range */
    OK("x://h:99999999999999999999/", 0, "s=x h=h/1 o=99999999999999999999 p=/");
    /* the path of an authority-less URI may hold "//" after its first segment */
    OK("x:/a//b", 0, "s=x p=/a//b");
    OK("x:a//b", 0, "s=x p=a//b");
}

static void test_hosts(void)
{
    /* 3.2.2 first-match-wins: an IPv4address is not a reg-name ... */
    OK("x://0.0.0.0", 0, "s=x h=0.0.0.0/2 p=");
    OK("x://255.255.255.255", 0, "s=x h=255.255.255.255/2 p=");
    OK("x://10.199.249.250", 0, "s=x h=10.199.249.250/2 p=");
    /* ... and dec-octet has no leading zeros, no value over 255, four parts:
     * what fails is a reg-name (still a valid host) */
    OK("x://1.01.1.1", 0, "s=x h=1.01.1.1/1 p=");
    OK("x://01.1.1.1", 0, "s=x h=01.1.1.1/1 p=");
    OK("x://1.1.1.00", 0, "s=x h=1.1.1.00/1 p=");
    OK("x://256.1.1.1", 0, "s=x h=256.1.1.1/1 p=");
    OK("x://1.1.1.1000", 0, "s=x h=1.1.1.1000/1 p=");
    OK("x://1.2.3", 0, "s=x h=1.2.3/1 p=");
    OK("x://1.2.3.4.", 0, "s=x h=1.2.3.4./1 p=");
    OK("x://1.2.3.4.5", 0, "s=x h=1.2.3.4.5/1 p=");
    OK("x://%31.2.3.4", 0, "s=x h=%31.2.3.4/1 p=");
    OK("x://0x7f.1", 0, "s=x h=0x7f.1/1 p=");
    /* IPvFuture */
    OK("x://[v1.fe80::a+en1]/", 0, "s=x h=v1.fe80::a+en1/4 p=/");
    OK("x://[VaF.x]:1", 0, "s=x h=VaF.x/4 o=1 p=");
    BAD("x://[v.x]", 0, OPES_EBAD_URI, 6);
    BAD("x://[v1x]", 0, OPES_EBAD_URI, 7);
    BAD("x://[v1.]", 0, OPES_EBAD_URI, 8);
    BAD("x://[vg.x]", 0, OPES_EBAD_URI, 6);
    BAD("x://[v1.%41]", 0, OPES_EBAD_URI, 8);
    BAD("x://[v1.a/]", 0, OPES_EBAD_URI, 9);
}

static void test_ipv6(void)
{
    /* RFC 4291 2.2 examples (forms 1-3) */
    static const char *const rfc4291[] = {
        "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
        "2001:DB8:0:0:8:800:200C:417A",
        "2001:DB8::8:800:200C:417A",
        "FF01:0:0:0:0:0:0:101",
        "FF01::101",
        "0:0:0:0:0:0:0:1",
        "::1",
        "0:0:0:0:0:0:0:0",
        "::",
        "0:0:0:0:0:0:13.1.68.3",
        "0:0:0:0:0:FFFF:129.144.52.38",
        "::13.1.68.3",
        "::FFFF:129.144.52.38",
    };
    /* one of each RFC 3986 3.2.2 IPv6address alternative, at its longest
     * and shortest */
    static const char *const forms[] = {
        "1:2:3:4:5:6:7:8",        "1:2:3:4:5:6:1.2.3.4",
        "::2:3:4:5:6:7:8",        "::2:3:4:5:6:1.2.3.4",
        "1::3:4:5:6:7:8",         "::3:4:5:6:7:8",
        "1:2::4:5:6:7:8",         "1::4:5:6:7:8",
        "1:2:3::5:6:7:8",         "1:2:3:4::6:7:8",
        "1:2:3:4::6:1.2.3.4",     "1:2:3:4:5::7:8",
        "1:2:3:4:5::1.2.3.4",     "::1.2.3.4",
        "1:2:3:4:5:6::8",         "::8",
        "1:2:3:4:5:6:7::",        "1::",
        "0000:00:0:0:0:0:0:ffff", "::255.255.255.255",
        "ffff::0.0.0.0",          "aBcD::",
    };
    char buf[128];
    for (size_t k = 0; k < sizeof rfc4291 / sizeof rfc4291[0]; k++) {
        char want[128];
        snprintf(buf, sizeof buf, "http://[%s]/", rfc4291[k]);
        snprintf(want, sizeof want, "s=http h=%s/3 p=/", rfc4291[k]);
        OK(buf, 0, want);
    }
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        char want[128];
        snprintf(buf, sizeof buf, "x://[%s]", forms[k]);
        snprintf(want, sizeof want, "s=x h=%s/3 p=", forms[k]);
        OK(buf, 0, want);
    }
    /* not IPv6address; offsets in "x://[" + literal */
    BAD("x://[]", 0, OPES_EBAD_URI, 5);
    BAD("x://[:]", 0, OPES_EBAD_URI, 6);
    BAD("x://[:::]", 0, OPES_EBAD_URI, 7);
    BAD("x://[:1::]", 0, OPES_EBAD_URI, 6);
    BAD("x://[1:2:3:4:5:6:7]", 0, OPES_EBAD_URI, 18);     /* seven pieces */
    BAD("x://[1:2:3:4:5:6:7:8:9]", 0, OPES_EBAD_URI, 21); /* nine */
    BAD("x://[1:2:3:4:5:6:7::8]", 0, OPES_EBAD_URI, 21);  /* eight with "::" */
    BAD("x://[::1:2:3:4:5:6:7:8]", 0, OPES_EBAD_URI, 22);
    BAD("x://[1:2:3:4:5:6:7:8::]", 0, OPES_EBAD_URI, 22);
    BAD("x://[1:2:3:4:5:6::1.2.3.4]", 0, OPES_EBAD_URI, 25);  /* 6 + ls32 with "::" */
    BAD("x://[1:2:3:4:5:6:7:1.2.3.4]", 0, OPES_EBAD_URI, 19); /* 7 + ls32 */
    BAD("x://[1:2:3:4:5:1.2.3.4]", 0, OPES_EBAD_URI, 22);     /* 5 + ls32 */
    BAD("x://[1::2::3]", 0, OPES_EBAD_URI, 10);
    BAD("x://[1:2:3:4:5:6:7:8:]", 0, OPES_EBAD_URI, 21);
    BAD("x://[1:]", 0, OPES_EBAD_URI, 7);
    BAD("x://[12345::]", 0, OPES_EBAD_URI, 9);
    BAD("x://[g::]", 0, OPES_EBAD_URI, 5);
    BAD("x://[::g]", 0, OPES_EBAD_URI, 7);
    BAD("x://[::1.2.3]", 0, OPES_EBAD_URI, 7);
    BAD("x://[::1.2.3.04]", 0, OPES_EBAD_URI, 7);
    BAD("x://[::256.1.1.1]", 0, OPES_EBAD_URI, 7);
    BAD("x://[::1.2.3.4:5]", 0, OPES_EBAD_URI, 7);
    BAD("x://[1.2.3.4::]", 0, OPES_EBAD_URI, 5);
    BAD("x://[1.2.3.4]", 0, OPES_EBAD_URI, 12);   /* IPv4 is not an IP-literal */
    BAD("x://[::1%25eth0]", 0, OPES_EBAD_URI, 8); /* RFC 6874 zones: not 3986 */
    BAD("x://[::1", 0, OPES_EBAD_URI, 8);         /* no "]" */
    BAD("x://[::1/]", 0, OPES_EBAD_URI, 8);
    BAD("x://[::1]x", 0, OPES_EBAD_URI, 9);
    BAD("x://[::1]:8x", 0, OPES_EBAD_URI, 11);
    BAD("x://[::1]]", 0, OPES_EBAD_URI, 9);
    BAD("x://a[::1]", 0, OPES_EBAD_URI, 5);
    BAD("x://[", 0, OPES_EBAD_URI, 5);
}

static void test_invalid(void)
{
    /* not a URI at all, or not where a URI is required */
    BAD("", 0, OPES_EURI_NOT_ABSOLUTE, 0);
    BAD("http", 0, OPES_EURI_NOT_ABSOLUTE, 0);
    BAD("/path", 0, OPES_EURI_NOT_ABSOLUTE, 0);
    BAD("//host/path", 0, OPES_EURI_NOT_ABSOLUTE, 0);
    BAD("www.example.com/opes", OPES_URI_ABSOLUTE, OPES_EURI_NOT_ABSOLUTE, 0);
    BAD("?q", 0, OPES_EURI_NOT_ABSOLUTE, 0);
    /* 4.3 absolute-URI: no fragment, not even an empty one */
    BAD("http://h/#f", OPES_URI_ABSOLUTE, OPES_EURI_NOT_ABSOLUTE, 9);
    BAD("http://h/?q#", OPES_URI_ABSOLUTE, OPES_EURI_NOT_ABSOLUTE, 11);
    /* scheme */
    BAD("://h", 0, OPES_EBAD_URI, 0);
    BAD("1http://h", 0, OPES_EBAD_URI, 5);
    BAD("-a:b", 0, OPES_EBAD_URI, 2);
    BAD("ht tp://h", 0, OPES_EBAD_URI, 2);
    BAD("ht_tp://h", 0, OPES_EBAD_URI, 5);
    BAD(":", OPES_URI_REFERENCE, OPES_EBAD_URI, 0);
    /* characters outside the URI repertoire, wherever they are */
    BAD(" http://h", 0, OPES_EBAD_URI, 0);
    BAD("http://h ", 0, OPES_EBAD_URI, 8);
    BAD("<http://h>", 0, OPES_EBAD_URI, 0);
    BAD("http://h/<>", 0, OPES_EBAD_URI, 9);
    BAD("http:// h", 0, OPES_EBAD_URI, 7);
    BAD("http://h/a b", 0, OPES_EBAD_URI, 10);
    BAD("http://h/\"", 0, OPES_EBAD_URI, 9);
    BAD("http://h/\\", 0, OPES_EBAD_URI, 9);
    BAD("http://h/^", 0, OPES_EBAD_URI, 9);
    BAD("http://h/`", 0, OPES_EBAD_URI, 9);
    BAD("http://h/{}", 0, OPES_EBAD_URI, 9);
    BAD("http://h/|", 0, OPES_EBAD_URI, 9);
    BAD("http://h/\x7f", 0, OPES_EBAD_URI, 9);
    BAD("http://h/\t", 0, OPES_EBAD_URI, 9);
    BAD("http://h/\r\n", 0, OPES_EBAD_URI, 9);
    BAD("http://h/\xc3\xa9", 0, OPES_EBAD_URI, 9);
    BAD("http://h\xff/", 0, OPES_EBAD_URI, 8);
    BADN("http://h/a\0b", 12, 0, OPES_EBAD_URI, 10); /* NUL is data, not an end */
    BADN("http://h\0", 9, 0, OPES_EBAD_URI, 8);
    BAD("http://h/?a b", 0, OPES_EBAD_URI, 11);
    BAD("http://h/#a b", 0, OPES_EBAD_URI, 11);
    /* delimiters out of place */
    BAD("http://h/a#b#c", 0, OPES_EBAD_URI, 12);
    BAD("http://h/[", 0, OPES_EBAD_URI, 9);
    BAD("http://h/]", 0, OPES_EBAD_URI, 9);
    BAD("http://h?[", 0, OPES_EBAD_URI, 9);
    BAD("http://h#]", 0, OPES_EBAD_URI, 9);
    BAD("http://h]", 0, OPES_EBAD_URI, 8);
    BAD("http://a@b@c", 0, OPES_EBAD_URI, 10);
    BAD("http://a[b]", 0, OPES_EBAD_URI, 8);
    BAD("http://u[@h", 0, OPES_EBAD_URI, 8);
    /* port = *DIGIT */
    BAD("http://h:8o/", 0, OPES_EBAD_URI, 10);
    BAD("http://h:-1", 0, OPES_EBAD_URI, 9);
    BAD("http://h:1:2", 0, OPES_EBAD_URI, 10);
    BAD("http://h: 80", 0, OPES_EBAD_URI, 9);
    /* pct-encoded = "%" HEXDIG HEXDIG */
    BAD("http://h/%", 0, OPES_EBAD_URI, 10);
    BAD("http://h/%4", 0, OPES_EBAD_URI, 11);
    BAD("http://h/%4g", 0, OPES_EBAD_URI, 11);
    BAD("http://h/%g4", 0, OPES_EBAD_URI, 10);
    BAD("http://h/%?x", 0, OPES_EBAD_URI, 10);
    BAD("http://h/%%41", 0, OPES_EBAD_URI, 10);
    BAD("http://ex%ample.com/", 0, OPES_EBAD_URI, 11);
    BAD("http://u%@h/", 0, OPES_EBAD_URI, 9);
    BAD("http://h?%", 0, OPES_EBAD_URI, 10);
    BAD("http://h#%2", 0, OPES_EBAD_URI, 11);
    BAD("x:%zz", 0, OPES_EBAD_URI, 3);
    /* 4.2 path-noscheme: no ":" in the first segment of a relative path */
    BAD("a/b:c?", OPES_URI_REFERENCE | OPES_URI_ABSOLUTE, OPES_EINVAL, 12345);
    BAD("1a:b", OPES_URI_REFERENCE, OPES_EBAD_URI, 2);
    BAD("./a:b:c", 0, OPES_EURI_NOT_ABSOLUTE, 0);
}

static void test_reference(void)
{
    const unsigned R = OPES_URI_REFERENCE;
    /* RFC 3986 5.4.1 / 5.4.2 references, parsed as URI-references */
    OK("g:h", R, "s=g p=h");
    OK("g", R, "p=g");
    OK("./g", R, "p=./g");
    OK("/g", R, "p=/g");
    OK("//g", R, "h=g/1 p=");
    OK("?y", R, "p= q=y");
    OK("#s", R, "p= f=s");
    OK("g?y#s", R, "p=g q=y f=s");
    OK(";x", R, "p=;x");
    OK("g;x?y#s", R, "p=g;x q=y f=s");
    OK("", R, "p=");
    OK(".", R, "p=.");
    OK("../../../g", R, "p=../../../g");
    OK("g?y/../x", R, "p=g q=y/../x");
    OK("http:g", R, "s=http p=g");
    /* RFC 3986 4.2: "a path segment that contains a colon character (e.g.,
     * "this:that") ... must be preceded by a dot-segment (e.g.,
     * "./this:that")" */
    OK("./this:that", R, "p=./this:that");
    OK("this:that", R, "s=this p=that");
    OK("a/b:c", R, "p=a/b:c");
    BAD("1:that", R, OPES_EBAD_URI, 1);
}

static void test_limits_and_args(void)
{
    char big[OPES_MAX_URI + 2];
    opes_uri u;
    size_t off = 0, len = 7;
    int e = 7;

    memcpy(big, "http://h/", 9);
    memset(big + 9, 'a', sizeof big - 9);
    /* exactly OPES_MAX_URI: accepted; one more: OPES_EURI_TOO_LONG */
    {
        const char *g = guarded_copy(big, OPES_MAX_URI);
        CHECK_ST(opes_uri_parse(g, OPES_MAX_URI, 0, &u, &off), OPES_OK);
        CHECK_EQ(u.path.len, OPES_MAX_URI - 8);
        guarded_free(g);
    }
    BADN(big, OPES_MAX_URI + 1, 0, OPES_EURI_TOO_LONG, OPES_MAX_URI);
    CHECK_ST(opes_uri_normalize(NULL, 0, &len, big, OPES_MAX_URI + 1, 0), OPES_EURI_TOO_LONG);
    CHECK_EQ(len, 0);
    /* a normal form that would grow past the limit: "http://h?..." gains a
     * "/" */
    memcpy(big, "http://h?", 9);
    CHECK_ST(opes_uri_parse(big, OPES_MAX_URI, 0, &u, &off), OPES_OK);
    CHECK_ST(opes_uri_normalize(NULL, 0, &len, big, OPES_MAX_URI, 0), OPES_EURI_TOO_LONG);
    CHECK_ST(opes_uri_equal(big, OPES_MAX_URI, "http://h/", 9, 0, &e), OPES_EURI_TOO_LONG);
    CHECK_EQ(e, 0);
    CHECK_ST(opes_uri_normalize(NULL, 0, &len, big, OPES_MAX_URI - 1, 0), OPES_ENOSPC);
    CHECK_EQ(len, OPES_MAX_URI);

    /* arguments */
    CHECK_ST(opes_uri_parse("x:", 2, 0, NULL, &off), OPES_EINVAL);
    CHECK_ST(opes_uri_parse(NULL, 1, 0, &u, &off), OPES_EINVAL);
    CHECK_ST(opes_uri_parse("x:", 2, 4, &u, &off), OPES_EINVAL);
    CHECK_ST(opes_uri_parse("x:", 2, OPES_URI_ABSOLUTE | OPES_URI_REFERENCE, &u, NULL),
             OPES_EINVAL);
    CHECK_ST(opes_uri_parse(NULL, 0, OPES_URI_REFERENCE, &u, NULL), OPES_OK);
    CHECK_EQ(u.path.len, 0);
    CHECK(u.path.ptr != NULL);
    CHECK_ST(opes_uri_parse(NULL, 0, 0, &u, NULL), OPES_EURI_NOT_ABSOLUTE);
    CHECK_ST(opes_uri_normalize(NULL, 5, &len, "x:", 2, 0), OPES_EINVAL);
    CHECK_ST(opes_uri_normalize(big, 5, NULL, "x:", 2, 0), OPES_EINVAL);
    len = 7;
    CHECK_ST(opes_uri_normalize(big, 5, &len, NULL, 2, 0), OPES_EINVAL);
    CHECK_EQ(len, 0);
    CHECK_ST(opes_uri_normalize(big, 5, &len, "x:", 2, 8), OPES_EINVAL);
    CHECK_ST(opes_uri_equal("x:", 2, "x:", 2, 0, NULL), OPES_EINVAL);
    CHECK_ST(opes_uri_equal(NULL, 1, "x:", 2, 0, &e), OPES_EINVAL);
    CHECK_ST(opes_uri_equal("x:", 2, NULL, 1, 0, &e), OPES_EINVAL);
    CHECK_ST(opes_uri_equal("x:", 2, "x:", 2, 3, &e), OPES_EINVAL);
    /* builder convention */
    {
        char out[32];
        CHECK_ST(opes_uri_normalize(out, 5, &len, "HTTP://H", 8, 0), OPES_ENOSPC);
        CHECK_EQ(len, 9);
        CHECK_ST(opes_uri_normalize(out, 9, &len, "HTTP://H", 8, 0), OPES_OK);
        CHECK_MEM(out, len, "http://h/", 9);
        CHECK_ST(opes_uri_normalize(out, sizeof out, &len, "http://h/ ", 10, 0), OPES_EBAD_URI);
        CHECK_EQ(len, 0);
        CHECK_ST(opes_uri_normalize(out, sizeof out, &len, "http://h/#", 10, OPES_URI_ABSOLUTE),
                 OPES_EURI_NOT_ABSOLUTE);
        CHECK_ST(opes_uri_normalize(out, sizeof out, &len, "", 0, OPES_URI_REFERENCE), OPES_OK);
        CHECK_EQ(len, 0);
    }
    /* equal reports the error of either side */
    e = 7;
    CHECK_ST(opes_uri_equal("http://h/", 9, "http://h /", 10, 0, &e), OPES_EBAD_URI);
    CHECK_EQ(e, 0);
    CHECK_ST(opes_uri_equal("h/", 2, "http://h/", 9, 0, &e), OPES_EURI_NOT_ABSOLUTE);
    CHECK_ST(opes_uri_equal("h/", 2, "h/", 2, OPES_URI_REFERENCE, &e), OPES_OK);
    CHECK_EQ(e, 1);
}

static void test_remove_dot_segments(void)
{
    /* RFC 3986 5.2.4, the two traced examples */
    NORM("x:/a/b/c/./../../g", 0, "x:/a/g");
    NORM("x:mid/content=5/../6", 0, "x:mid/6");
    /* RFC 3986 5.4, base "http://a/b/c/d;p?q": for a relative-path
     * reference R, 5.2.2 sets T.path = remove_dot_segments(merge(Base.path,
     * R.path)) and merge gives "/b/c/" R (5.2.3); absolute-path references
     * are taken as they are. The target URIs are the RFC's. */
    static const char *const cases[][2] = {
        /* 5.4.1 */
        {"http://a/b/c/g", "http://a/b/c/g"},
        {"http://a/b/c/./g", "http://a/b/c/g"},
        {"http://a/b/c/g/", "http://a/b/c/g/"},
        {"http://a/g", "http://a/g"},
        {"http://a/b/c/g?y", "http://a/b/c/g?y"},
        {"http://a/b/c/g#s", "http://a/b/c/g#s"},
        {"http://a/b/c/;x", "http://a/b/c/;x"},
        {"http://a/b/c/g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"http://a/b/c/.", "http://a/b/c/"},
        {"http://a/b/c/./", "http://a/b/c/"},
        {"http://a/b/c/..", "http://a/b/"},
        {"http://a/b/c/../", "http://a/b/"},
        {"http://a/b/c/../g", "http://a/b/g"},
        {"http://a/b/c/../..", "http://a/"},
        {"http://a/b/c/../../", "http://a/"},
        {"http://a/b/c/../../g", "http://a/g"},
        /* 5.4.2 */
        {"http://a/b/c/../../../g", "http://a/g"},
        {"http://a/b/c/../../../../g", "http://a/g"},
        {"http://a/./g", "http://a/g"},
        {"http://a/../g", "http://a/g"},
        {"http://a/b/c/g.", "http://a/b/c/g."},
        {"http://a/b/c/.g", "http://a/b/c/.g"},
        {"http://a/b/c/g..", "http://a/b/c/g.."},
        {"http://a/b/c/..g", "http://a/b/c/..g"},
        {"http://a/b/c/./../g", "http://a/b/g"},
        {"http://a/b/c/./g/.", "http://a/b/c/g/"},
        {"http://a/b/c/g/./h", "http://a/b/c/g/h"},
        {"http://a/b/c/g/../h", "http://a/b/c/h"},
        {"http://a/b/c/g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"http://a/b/c/g;x=1/../y", "http://a/b/c/y"},
        {"http://a/b/c/g?y/./x", "http://a/b/c/g?y/./x"},
        {"http://a/b/c/g?y/../x", "http://a/b/c/g?y/../x"},
        {"http://a/b/c/g#s/./x", "http://a/b/c/g#s/./x"},
        {"http://a/b/c/g#s/../x", "http://a/b/c/g#s/../x"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        NORM(cases[k][0], 0, cases[k][1]);
    /* python-hyper/rfc3986 issue 111: "/a/b/c/../../../../" is "/" */
    NORM("http://h/a/b/c/../../../../", 0, "http://h/");
    /* an empty segment counts as a segment ("a//.." pops it) */
    NORM("x:/a//../b", 0, "x:/a/b");
    /* a rootless path goes through the same algorithm (5.2.2 with a scheme) */
    NORM("x:a/../b", 0, "x:/b");
    NORM("x:..", 0, "x:");
    NORM("x:./a:b", 0, "x:a:b");
    /* without an authority, a result starting with "//" keeps a "/." in
     * front, or it would read as an authority */
    NORM("x:/.//a", 0, "x:/.//a");
    NORM("x:/..//a", 0, "x:/.//a");
    NORM("x:a/..//b", 0, "x:/.//b");
    NORM("/.//a", OPES_URI_REFERENCE, "/.//a");
    /* with one it is just a path */
    NORM("http://h/.//a", 0, "http://h//a");
    /* 6.2.2.2 before 6.2.2.3: a percent-encoded dot is a dot */
    NORM("http://h/a/%2E%2E/b", 0, "http://h/b");
    NORM("http://h/a/%2e%2E/b", 0, "http://h/b");
    NORM("http://h/a/.%2e/b", 0, "http://h/b");
    NORM("http://h/a/%2E/b", 0, "http://h/a/b");
    NORM("http://h/%2E%2E", 0, "http://h/");
    NORM("http://h/a%2E%2E/b", 0, "http://h/a../b");
    /* the query and fragment keep their dots */
    NORM("http://h/?a/../b", 0, "http://h/?a/../b");
    /* relative references: a relative path keeps its dot segments (they
     * only mean something against a base, RFC 3986 5.2.1); an absolute path
     * or a network-path reference loses them as 5.2.2 would */
    NORM("../g", OPES_URI_REFERENCE, "../g");
    NORM("./g/.", OPES_URI_REFERENCE, "./g/.");
    NORM("%2E%2E/g", OPES_URI_REFERENCE, "../g");
    NORM("./this:that", OPES_URI_REFERENCE, "./this:that");
    NORM("/a/../g", OPES_URI_REFERENCE, "/g");
    NORM("//H/a/../g", OPES_URI_REFERENCE, "//h/g");
}

static void test_normalize(void)
{
    /* RFC 3986 6.2.2.1: "the URI <HTTP://www.EXAMPLE.com/> is equivalent to
     * <http://www.example.com/>" */
    NORM("HTTP://www.EXAMPLE.com/", 0, "http://www.example.com/");
    EQ("HTTP://www.EXAMPLE.com/", "http://www.example.com/");
    /* RFC 3986 6.2.2: "example://a/b/c/%7Bfoo%7D" and
     * "eXAMPLE://a/./b/../b/%63/%7bfoo%7d" are equivalent */
    NORM("eXAMPLE://a/./b/../b/%63/%7bfoo%7d", 0, "example://a/b/c/%7Bfoo%7D");
    EQ("example://a/b/c/%7Bfoo%7D", "eXAMPLE://a/./b/../b/%63/%7bfoo%7d");
    /* RFC 3986 6.2.3: four equivalent URIs, "the second URI above is the
     * normal form for the "http" scheme" */
    NORM("http://example.com", 0, "http://example.com/");
    NORM("http://example.com/", 0, "http://example.com/");
    NORM("http://example.com:/", 0, "http://example.com/");
    NORM("http://example.com:80/", 0, "http://example.com/");
    EQ("http://example.com", "http://example.com:80/");
    EQ("http://example.com:/", "http://example.com/");
    /* ... and "the URI "http://example.com/?" cannot be assumed to be
     * equivalent to any of the examples above"; "two URIs that differ only
     * by the suffix "#" are considered different" */
    NE("http://example.com/?", "http://example.com/");
    NE("http://example.com/#", "http://example.com/");
    NORM("http://example.com?", 0, "http://example.com/?");
    /* 6.2.3: "mailto:Joe@Example.COM" is equivalent to
     * "mailto:Joe@example.com" by the mailto scheme's rules, which are not
     * applied here (a documented false negative) */
    NE("mailto:Joe@Example.COM", "mailto:Joe@example.com");

    /* RFC 3986 2.2: "URIs that differ in the replacement of a reserved
     * character with its corresponding percent-encoded octet are not
     * equivalent" */
    NE("http://h/a,b", "http://h/a%2Cb");
    NE("http://h/a;b", "http://h/a%3Bb");
    NE("http://h/a/b", "http://h/a%2Fb");
    NE("http://h/?a=b", "http://h/?a%3Db");
    NE("http://a,b/", "http://a%2Cb/");
    EQ("http://h/a%2cb", "http://h/a%2Cb");
    NORM("http://h/%2f%3a%3f%23%5b%5d%40%21%24%26%27%28%29%2a%2b%2c%3b%3d", 0,
         "http://h/%2F%3A%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D");
    /* 2.3 / 6.2.2.2: unreserved triplets are decoded, everywhere */
    NORM("http://h/%41%5a%61%7A%30%39%2D%2E%5F%7E", 0, "http://h/AZaz09-._~");
    NORM("http://%75%53er@%48%4F%53%54/?%7e#%7E", 0, "http://uSer@host/?~#~");
    /* other octets stay encoded, hex in upper case (2.1, 6.2.2.1) */
    NORM("http://h/%25%20%00%ff%c3%a9%7f%22", 0, "http://h/%25%20%00%FF%C3%A9%7F%22");
    NORM("http://%c3%a9.example/", 0, "http://%C3%A9.example/");
    NE("http://h/%25", "http://h/%2525");
    /* the host is case-insensitive, the rest is not (6.2.2.1) */
    NORM("HtTp://UsEr@ExAmPlE.CoM/PaTh?QuErY#FrAg", 0, "http://UsEr@example.com/PaTh?QuErY#FrAg");
    NE("http://h/a", "http://h/A");
    NE("http://u@h/", "http://U@h/");

    /* IPv6 literals in the RFC 5952 form */
    NORM("http://[2001:DB8:0:0:8:800:200C:417A]/", 0, "http://[2001:db8::8:800:200c:417a]/");
    NORM("http://[ABCD:EF01:2345:6789:ABCD:EF01:2345:6789]/", 0,
         "http://[abcd:ef01:2345:6789:abcd:ef01:2345:6789]/");
    NORM("http://[FF01:0:0:0:0:0:0:101]/", 0, "http://[ff01::101]/");
    NORM("http://[0:0:0:0:0:0:0:1]/", 0, "http://[::1]/");
    NORM("http://[0:0:0:0:0:0:0:0]/", 0, "http://[::]/");
    NORM("http://[0:0:0:0:0:0:13.1.68.3]/", 0, "http://[::d01:4403]/");
    NORM("http://[::FFFF:129.144.52.38]/", 0, "http://[::ffff:129.144.52.38]/");
    NORM("http://[0:0:0:0:0:FFFF:8190:3426]/", 0, "http://[::ffff:129.144.52.38]/");
    /* RFC 5952 4.1: "2001:0db8::0001" -> "2001:db8::1"; 4.2.1:
     * "2001:db8:0:0:0:0:2:1 must be shortened to 2001:db8::2:1",
     * "2001:db8::0:1" is not acceptable; 4.2.2: "2001:db8:0:1:1:1:1:1 is
     * correct, but 2001:db8::1:1:1:1:1 is not"; 4.2.3:
     * "2001:0:0:1:0:0:0:1" shortens the three zeros, and
     * "2001:db8::1:0:0:1 is correct"; 5: "::ffff:192.0.2.1" */
    NORM("http://[2001:0db8::0001]/", 0, "http://[2001:db8::1]/");
    NORM("http://[2001:db8:0:0:0:0:2:1]/", 0, "http://[2001:db8::2:1]/");
    NORM("http://[2001:db8::0:1]/", 0, "http://[2001:db8::1]/");
    NORM("http://[2001:db8::1:1:1:1:1]/", 0, "http://[2001:db8:0:1:1:1:1:1]/");
    NORM("http://[2001:0:0:1:0:0:0:1]/", 0, "http://[2001:0:0:1::1]/");
    NORM("http://[2001:db8:0:0:1:0:0:1]/", 0, "http://[2001:db8::1:0:0:1]/");
    NORM("http://[0:0:0:0:0:ffff:192.0.2.1]/", 0, "http://[::ffff:192.0.2.1]/");
    NORM("http://[::ffff:0:0]/", 0, "http://[::ffff:0.0.0.0]/");
    NORM("http://[1::]/", 0, "http://[1::]/");
    NORM("http://[1:0:0:0:0:0:0:0]/", 0, "http://[1::]/");
    NORM("http://[0:1:0:1:0:1:0:1]/", 0, "http://[0:1:0:1:0:1:0:1]/");
    EQ("ldap://[2001:db8::7]/c=GB?objectClass?one",
       "LDAP://[2001:0DB8:0:0:0:0:0:7]/c=GB?objectClass?one");
    NE("http://[::1]/", "http://[::2]/");
    NORM("http://[2001:0DB8:0:0:0:0:0:7]:80", 0, "http://[2001:db8::7]/"); /* docs/uri.md */
    /* IPvFuture: the host, in lower case */
    NORM("http://[V1A.Fe80::A+En1]/", 0, "http://[v1a.fe80::a+en1]/");
    /* IPv4: as it is (dec-octet allows one spelling); a pct-encoded digit is
     * decoded like any unreserved character */
    NORM("http://192.0.2.16:80/", 0, "http://192.0.2.16/");
    NORM("http://192.0.2.%31%36/", 0, "http://192.0.2.16/");

    /* ports: leading zeros, defaults (RFC 3986 6.2.3, RFC 7230 2.7.2, RFC
     * 6455 3, RFC 1738 3.2), empty */
    NORM("http://h:0080/", 0, "http://h/");
    NORM("http://h:8080/", 0, "http://h:8080/");
    NORM("http://h:08080/", 0, "http://h:8080/");
    NORM("HTTP://h:80", 0, "http://h/");
    NORM("https://h:443/", 0, "https://h/");
    NORM("https://h:80/", 0, "https://h:80/");
    NORM("http://h:443/", 0, "http://h:443/");
    NORM("ws://h:80/", 0, "ws://h/");
    NORM("wss://h:443/", 0, "wss://h/");
    NORM("ftp://h:21/", 0, "ftp://h/");
    NORM("telnet://192.0.2.16:80/", 0, "telnet://192.0.2.16:80/");
    NORM("x://h:/", 0, "x://h/");
    NORM("x://h:000", 0, "x://h:0/");
    NORM("http://u@h:80", 0, "http://u@h/");
    NORM("http://:80/", 0, "http:///");
    NE("http://h:8080/", "http://h/");
    /* empty path with an authority is "/" (6.2.3 "in general") */
    NORM("foo://info.example.com?fred", 0, "foo://info.example.com/?fred");
    NORM("x://h#f", 0, "x://h/#f");
    /* untouched URIs: the RFC 3986 1.1.2 examples are already normal */
    NORM("ftp://ftp.is.co.za/rfc/rfc1808.txt", 0, "ftp://ftp.is.co.za/rfc/rfc1808.txt");
    NORM("mailto:John.Doe@example.com", 0, "mailto:John.Doe@example.com");
    NORM("news:comp.infosystems.www.servers.unix", 0, "news:comp.infosystems.www.servers.unix");
    NORM("tel:+1-816-555-1212", 0, "tel:+1-816-555-1212");
    NORM("urn:oasis:names:specification:docbook:dtd:xml:4.1.2", OPES_URI_ABSOLUTE,
         "urn:oasis:names:specification:docbook:dtd:xml:4.1.2");
    NORM("file:///etc/hosts", 0, "file:///etc/hosts");
}

static void test_opes_identifiers(void)
{
    const unsigned A = OPES_URI_ABSOLUTE;
    /* RFC 4236 3, Figure 17: the OPES-System entry and the OPES-Via
     * entries; a bypass request spelling one of them differently must still
     * match it, and a different one must not */
    const char *sys = "http://www.cdn.example.com/opes?session=ac79a749f56";
    const char *svc = "http://www.srvcs-4u.example.com/cat/?sid=123";
    int e = -1;
    NORM(sys, A, sys);
    NORM(svc, A, svc);
    CHECK_ST(opes_uri_equal(sys, strlen(sys),
                            "HTTP://WWW.CDN.EXAMPLE.COM:80/opes?session=ac79a749f56", 54, A, &e),
             OPES_OK);
    CHECK_EQ(e, 1);
    EQ(svc, "http://www.srvcs-4u.example.com:/cat/./?sid=123");
    EQ(svc, "http://www.srvcs-4u.example.com/cat/x/../?sid=123");
    EQ(svc, "http://www.srvcs-4u.example.com/%63at/?sid=%31%32%33");
    EQ(svc, "http://www.SRVCS-4U.example.com/cat/?sid=123");
    NE(svc, "http://www.srvcs-4u.example.com/cat/?sid=124");
    NE(svc, "http://www.srvcs-4u.example.com/cat/?sid=125");
    NE(svc, "http://www.srvcs-4u.example.com/cat?sid=123"); /* 6.2.4 is not applied */
    NE(svc, "http://www.srvcs-4u.example.com/Cat/?sid=123");
    NE(svc, "https://www.srvcs-4u.example.com/cat/?sid=123");
    NE(sys, "http://www.cdn.example.com/opes?session=AC79A749F56");
    /* RFC 4496 5.2: "http://www.isp-example.com/opes/?client-hash=1234567"
     * and "http://www.cdn-example.com/opes/?site=7654&svc=h2t" */
    NORM("http://www.isp-example.com/opes/?client-hash=1234567", A,
         "http://www.isp-example.com/opes/?client-hash=1234567");
    NORM("http://www.cdn-example.com/opes/?site=7654&svc=h2t", A,
         "http://www.cdn-example.com/opes/?site=7654&svc=h2t");
    /* an identifier with a fragment is no absolute-URI */
    CHECK_ST(opes_uri_equal(svc, strlen(svc), "http://x/#f", 11, A, &e), OPES_EURI_NOT_ABSOLUTE);
    CHECK_EQ(e, 0);
}

/* A second opinion on IPv6address: the C library's inet_pton (RFC 4291
 * 2.2 text forms, the grammar RFC 3986 3.2.2 translates) on random strings
 * over the IPv6 alphabet must accept exactly what the parser accepts, and
 * the normal form must name the same 128 bits. With glibc, whose inet_ntop
 * writes RFC 5952 text, the normal form must also be its output, except for
 * the deprecated IPv4-compatible ::/96 that glibc writes in dotted form. */
static void test_ipv6_vs_libc(void)
{
    static const char al[] = "0123456789abcdefABCDEF::::::....0.0.1.2.5ff";
    unsigned long seed = 12345, agree = 0, valid = 0, ntop_ok = 0;
    for (int it = 0; it < 300000; it++) {
        char s[48], u[64], out[96], hostz[64];
        unsigned char a[16], b[16];
        opes_uri uri;
        size_t ol = 0;
        int n, ul, ours, libc;
        seed = seed * 6364136223846793005ul + 1442695040888963407ul;
        n = (int)((seed >> 33) % 32);
        for (int i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            s[i] = al[(seed >> 33) % (sizeof al - 1)];
        }
        s[n] = 0;
        ul = snprintf(u, sizeof u, "x://[%s]", s);
        ours = opes_uri_parse(u, (size_t)ul, 0, &uri, NULL) == OPES_OK;
        libc = inet_pton(AF_INET6, s, a) == 1;
        if (ours != libc) {
            test_fail_at(__FILE__, __LINE__, s);
            fprintf(stderr, "    parser %d, inet_pton %d\n", ours, libc);
            continue;
        }
        agree++;
        if (!ours)
            continue;
        valid++;
        /* "x://[" host "]/" */
        if (opes_uri_normalize(out, sizeof out, &ol, u, (size_t)ul, 0) != OPES_OK || ol < 8) {
            test_fail_at(__FILE__, __LINE__, s);
            continue;
        }
        memcpy(hostz, out + 5, ol - 7);
        hostz[ol - 7] = 0;
        if (inet_pton(AF_INET6, hostz, b) != 1 || memcmp(a, b, 16) != 0) {
            test_fail_at(__FILE__, __LINE__, s);
            fprintf(stderr, "    normal form %s names another address\n", hostz);
            continue;
        }
#ifdef __GLIBC__
        {
            static const unsigned char zero12[12];
            char nt[64];
            if (memcmp(a, zero12, 12) != 0 || (a[12] == 0 && a[13] == 0)) {
                if (!inet_ntop(AF_INET6, a, nt, sizeof nt) || strcmp(nt, hostz) != 0) {
                    test_fail_at(__FILE__, __LINE__, s);
                    fprintf(stderr, "    ours %s, inet_ntop %s\n", hostz, nt);
                    continue;
                }
                ntop_ok++;
            }
        }
#endif
    }
    CHECK_EQ(agree, 300000);
    /* the alphabet makes a fair share of them valid */
    CHECK(valid > 500);
#ifdef __GLIBC__
    CHECK(ntop_ok > 500);
#endif
}

int main(void)
{
    test_rfc3986_examples();
    test_components();
    test_hosts();
    test_ipv6();
    test_ipv6_vs_libc();
    test_invalid();
    test_reference();
    test_limits_and_args();
    test_remove_dot_segments();
    test_normalize();
    test_opes_identifiers();
    return TEST_END();
}
