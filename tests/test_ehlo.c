/* EHLO responses: parser and builder. Expectations from RFC examples (with
 * their section), replies captured from aiosmtpd 1.4.3
 * (tests/vectors/replies/) and a sendmail 8.12.7 EHLO reply quoted in
 * "sendmail, 4th edition" (O'Reilly), DeliverByMin. */
#include "harness.h"
#include "internal.h"

#include <stdlib.h>

#define BIT(x) (UINT64_C(1) << (x))
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Join RFC lines with CRLF into buf; returns the length. */
static size_t wire(char *buf, size_t cap, const char *const *lines, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(lines[i]);
        if (len + l + 2 > cap)
            abort();
        memcpy(buf + len, lines[i], l);
        memcpy(buf + len + l, "\r\n", 2);
        len += l + 2;
    }
    return len;
}

/* Parse a guarded copy of s[0..n); views are re-pointed at s. */
static opes_status parse(const opes_smtp_config *cfg, const char *s, size_t n, opes_ehlo *e,
                         size_t *used)
{
    const char *g = guarded_copy(s, n);
    opes_status st = opes_ehlo_parse(cfg, g, n, e, used);
#define REPOINT(v)                                                                                 \
    if ((v).ptr)                                                                                   \
    (v).ptr = s + ((v).ptr - g)
    REPOINT(e->domain);
    REPOINT(e->greeting);
    REPOINT(e->auth);
    REPOINT(e->span);
    for (size_t i = 0; i < e->nlines && i < OPES_EHLO_MAX_LINES; i++) {
        REPOINT(e->line[i].keyword);
        REPOINT(e->line[i].params);
    }
#undef REPOINT
    /* every proper prefix of a complete response is incomplete */
    if (st != OPES_INCOMPLETE && *used > 0) {
        for (size_t k = 0; k < *used; k++) {
            opes_ehlo e2;
            size_t u2;
            const char *h = guarded_copy(s, k);
            if (opes_ehlo_parse(cfg, h, k, &e2, &u2) != OPES_INCOMPLETE) {
                /* errors may show before the end; only a reply-level error
                 * may (the EHLO grammar is judged on whole replies) */
                opes_status st2 = opes_ehlo_parse(cfg, h, k, &e2, &u2);
                CHECK(st2 != OPES_OK && st2 != OPES_EBAD_EHLO && st2 != OPES_EBAD_DOMAIN &&
                      st2 != OPES_EBAD_ADDRESS_LITERAL);
            }
            guarded_free(h);
        }
    }
    guarded_free(g);
    return st;
}

static void check_line(const opes_ehlo *e, size_t i, const char *kw, const char *params, int ext)
{
    CHECK(i < e->nlines);
    if (i >= e->nlines)
        return;
    CHECK_STR(e->line[i].keyword, kw);
    CHECK_STR(e->line[i].params, params);
    CHECK_EQ(e->line[i].ext, ext);
}

static void test_rfc5321(void)
{
    char buf[1024];
    size_t n, used;
    opes_ehlo e;
    /* RFC 5321 Appendix D.1 */
    static const char *const d1[] = {"250-foo.com greets bar.com", "250-8BITMIME", "250-SIZE",
                                     "250-DSN", "250 HELP"};
    n = wire(buf, sizeof buf, d1, COUNT(d1));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(used, n);
    CHECK_EQ(e.code, 250);
    CHECK_STR(e.domain, "foo.com");
    CHECK_STR(e.greeting, "greets bar.com");
    CHECK_EQ(e.nlines, 4);
    check_line(&e, 0, "8BITMIME", "", OPES_EHLO_8BITMIME);
    check_line(&e, 1, "SIZE", "", OPES_EHLO_SIZE);
    check_line(&e, 2, "DSN", "", OPES_EHLO_DSN);
    check_line(&e, 3, "HELP", "", OPES_EHLO_HELP);
    CHECK_EQ(e.exts, BIT(OPES_EHLO_8BITMIME) | BIT(OPES_EHLO_SIZE) | BIT(OPES_EHLO_DSN) |
                         BIT(OPES_EHLO_HELP));
    /* "250-SIZE" with no number: nothing known (RFC 1870 4) */
    CHECK_EQ(e.has_size, 0);
    CHECK(opes_ehlo_has(&e, OPES_EHLO_SIZE));
    CHECK(!opes_ehlo_has(&e, OPES_EHLO_PIPELINING));
    CHECK_EQ(e.notes, 0);
    CHECK_EQ(e.span.len, n);
    for (size_t i = 0; i < e.nlines; i++)
        CHECK_EQ(e.line[i].flags, 0);

    /* D.3 step 2: a one-line response */
    static const char *const d3[] = {"250 xyz.com is on the air"};
    n = wire(buf, sizeof buf, d3, 1);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_STR(e.domain, "xyz.com");
    CHECK_STR(e.greeting, "is on the air");
    CHECK_EQ(e.nlines, 0);
    CHECK_EQ(e.exts, 0);

    /* D.4 */
    static const char *const d4[] = {"250-foo.com greets bar.com",
                                     "250-8BITMIME",
                                     "250-SIZE",
                                     "250-DSN",
                                     "250-VRFY",
                                     "250 HELP"};
    n = wire(buf, sizeof buf, d4, COUNT(d4));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.nlines, 5);
    check_line(&e, 3, "VRFY", "", OPES_EHLO_VRFY);
    CHECK(opes_ehlo_has(&e, OPES_EHLO_VRFY));
    CHECK(opes_ehlo_offers(&e, "vrfy", 4));
}

static void test_extension_rfcs(void)
{
    char buf[1024];
    size_t n, used, idx;
    opes_ehlo e;

    /* RFC 2920 4 */
    static const char *const pipe[] = {"250-innosoft.com", "250 PIPELINING"};
    n = wire(buf, sizeof buf, pipe, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_STR(e.domain, "innosoft.com");
    CHECK_EQ(e.greeting.len, 0);
    CHECK_EQ(e.exts, BIT(OPES_EHLO_PIPELINING));

    /* RFC 3030 4.2 */
    static const char *const chunk[] = {"250-cnri.reston.va.us says hello", "250-PIPELINING",
                                        "250-BINARYMIME", "250 CHUNKING"};
    n = wire(buf, sizeof buf, chunk, COUNT(chunk));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.exts,
             BIT(OPES_EHLO_PIPELINING) | BIT(OPES_EHLO_BINARYMIME) | BIT(OPES_EHLO_CHUNKING));
    CHECK_STR(e.greeting, "says hello");

    /* RFC 2034 6 */
    static const char *const esc[] = {"250-dbc.mtview.ca.us says hello", "250 ENHANCEDSTATUSCODES"};
    n = wire(buf, sizeof buf, esc, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.exts, BIT(OPES_EHLO_ENHANCEDSTATUSCODES));

    /* RFC 4954 4.1: before and after STARTTLS */
    static const char *const a1[] = {"250-smtp.example.com Hello client.example.com",
                                     "250-AUTH GSSAPI DIGEST-MD5", "250-ENHANCEDSTATUSCODES",
                                     "250 STARTTLS"};
    n = wire(buf, sizeof buf, a1, COUNT(a1));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_STR(e.greeting, "Hello client.example.com");
    CHECK_STR(e.auth, "GSSAPI DIGEST-MD5");
    CHECK(opes_ehlo_auth_offers(&e, "GSSAPI", 6));
    CHECK(opes_ehlo_auth_offers(&e, "digest-md5", 10));
    CHECK(!opes_ehlo_auth_offers(&e, "PLAIN", 5));
    CHECK(!opes_ehlo_auth_offers(&e, "DIGEST", 6));
    CHECK(!opes_ehlo_auth_offers(&e, "", 0));
    CHECK(opes_ehlo_has(&e, OPES_EHLO_STARTTLS));
    CHECK(opes_ehlo_has(&e, OPES_EHLO_AUTH));
    CHECK_ST(opes_ehlo_find(&e, "auth", 4, &idx), OPES_OK);
    CHECK_EQ(idx, 0);
    CHECK_EQ(e.line[0].flags, 0);
    static const char *const a2[] = {"250-smtp.example.com Hello client.example.com",
                                     "250 AUTH GSSAPI DIGEST-MD5 PLAIN"};
    n = wire(buf, sizeof buf, a2, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK(opes_ehlo_auth_offers(&e, "PLAIN", 5));
    CHECK(!opes_ehlo_has(&e, OPES_EHLO_STARTTLS));
    static const char *const a3[] = {"250-smtp.example.com Hello client.example.com",
                                     "250 AUTH EXTERNAL GSSAPI DIGEST-MD5 PLAIN"};
    n = wire(buf, sizeof buf, a3, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK(opes_ehlo_auth_offers(&e, "EXTERNAL", 8));

    /* RFC 3461 10.1 and 10.3 */
    static const char *const dsn1[] = {"250-Example.ORG", "250-DSN", "250-EXPN", "250 SIZE"};
    n = wire(buf, sizeof buf, dsn1, COUNT(dsn1));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_STR(e.domain, "Example.ORG");
    CHECK_EQ(e.exts, BIT(OPES_EHLO_DSN) | BIT(OPES_EHLO_EXPN) | BIT(OPES_EHLO_SIZE));
    CHECK_EQ(e.has_size, 0);
    static const char *const dsn3[] = {"250-Ivory.EDU", "250 DSN"};
    n = wire(buf, sizeof buf, dsn3, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.exts, BIT(OPES_EHLO_DSN));
    /* RFC 3461 10.4: "502 command not implemented" to EHLO, then RSET and
     * HELO. A refusal is a result with its code, the reply consumed. */
    static const char *const dsn4[] = {"502 command not implemented", "250 reset"};
    n = wire(buf, sizeof buf, dsn4, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_EBAD_EHLO);
    CHECK_EQ(e.code, 502);
    CHECK_EQ(used, 29);
    CHECK_EQ(e.nlines, 0);
    CHECK_EQ(e.domain.len, 0);
}

static void test_real_servers(void)
{
    size_t n, used;
    opes_ehlo e;
    char *data;

    /* aiosmtpd 1.4.3 (python3-aiosmtpd 1.4.3-1.1+deb12u1), default limits */
    data = test_read_file("tests/vectors/replies/aiosmtpd-1.4.3-plain-ehlo.bin", &n);
    CHECK(data != NULL);
    if (data) {
        CHECK_ST(parse(NULL, data, n, &e, &used), OPES_OK);
        CHECK_EQ(used, n);
        CHECK_STR(e.domain, "mx.example.test");
        CHECK_EQ(e.greeting.len, 0);
        CHECK_EQ(e.nlines, 4);
        check_line(&e, 0, "SIZE", "33554432", OPES_EHLO_SIZE);
        check_line(&e, 1, "8BITMIME", "", OPES_EHLO_8BITMIME);
        check_line(&e, 2, "SMTPUTF8", "", OPES_EHLO_SMTPUTF8);
        check_line(&e, 3, "HELP", "", OPES_EHLO_HELP);
        CHECK_EQ(e.has_size, 1);
        CHECK_EQ(e.size, 33554432); /* aiosmtpd DATA_SIZE_DEFAULT = 2**25 */
        CHECK(!opes_ehlo_has(&e, OPES_EHLO_AUTH));
        free(data);
    }
    /* with AUTH offered and data_size_limit=1048576 */
    data = test_read_file("tests/vectors/replies/aiosmtpd-1.4.3-auth-utf8-ehlo.bin", &n);
    CHECK(data != NULL);
    if (data) {
        CHECK_ST(parse(NULL, data, n, &e, &used), OPES_OK);
        CHECK_EQ(e.size, 1048576);
        CHECK_STR(e.auth, "LOGIN PLAIN");
        CHECK(opes_ehlo_auth_offers(&e, "LOGIN", 5));
        CHECK(opes_ehlo_auth_offers(&e, "PLAIN", 5));
        CHECK(!opes_ehlo_auth_offers(&e, "CRAM-MD5", 8));
        CHECK_EQ(e.exts, BIT(OPES_EHLO_SIZE) | BIT(OPES_EHLO_8BITMIME) | BIT(OPES_EHLO_SMTPUTF8) |
                             BIT(OPES_EHLO_AUTH) | BIT(OPES_EHLO_HELP));
        free(data);
    }

    /* sendmail 8.12.7, as quoted in "sendmail, 4th edition" (DeliverByMin) */
    static const char *const sm[] = {
        "250-your.host.domain Hello another.host.domain [123.45.67.8], pleased to meet you",
        "250-ENHANCEDSTATUSCODES",
        "250-PIPELINING",
        "250-8BITMIME",
        "250-SIZE",
        "250-DSN",
        "250-ETRN",
        "250-DELIVERBY",
        "250 HELP"};
    char buf[1024];
    n = wire(buf, sizeof buf, sm, COUNT(sm));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_STR(e.domain, "your.host.domain");
    CHECK_STR(e.greeting, "Hello another.host.domain [123.45.67.8], pleased to meet you");
    CHECK_EQ(e.nlines, 8);
    CHECK(opes_ehlo_has(&e, OPES_EHLO_DELIVERBY));
    CHECK(opes_ehlo_has(&e, OPES_EHLO_ETRN));
    CHECK_EQ(e.exts, BIT(OPES_EHLO_ENHANCEDSTATUSCODES) | BIT(OPES_EHLO_PIPELINING) |
                         BIT(OPES_EHLO_8BITMIME) | BIT(OPES_EHLO_SIZE) | BIT(OPES_EHLO_DSN) |
                         BIT(OPES_EHLO_ETRN) | BIT(OPES_EHLO_DELIVERBY) | BIT(OPES_EHLO_HELP));
}

static void test_unknown_and_case(void)
{
    char buf[1024];
    size_t n, used, idx;
    opes_ehlo e;
    /* Unknown keywords are kept in order with their parameters (smtp-proto
     * drops them, anchors.md 1.2): the OPES layer asks for XOPES. */
    static const char *const u[] = {"250-mx.example.net",       "250-XOPES opes.example.net ver=1",
                                    "250-X-VENDOR-THING a b c", "250-8BITMIME",
                                    "250-XCLIENT NAME ADDR",    "250 LIMITS RCPTMAX=100"};
    n = wire(buf, sizeof buf, u, COUNT(u));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.nlines, 5);
    check_line(&e, 0, "XOPES", "opes.example.net ver=1", OPES_EHLO_UNKNOWN);
    check_line(&e, 1, "X-VENDOR-THING", "a b c", OPES_EHLO_UNKNOWN);
    check_line(&e, 2, "8BITMIME", "", OPES_EHLO_8BITMIME);
    check_line(&e, 3, "XCLIENT", "NAME ADDR", OPES_EHLO_UNKNOWN);
    check_line(&e, 4, "LIMITS", "RCPTMAX=100", OPES_EHLO_LIMITS);
    CHECK(opes_ehlo_offers(&e, "XOPES", 5));
    CHECK(opes_ehlo_offers(&e, "xopes", 5));
    CHECK(opes_ehlo_offers(&e, "x-vendor-thing", 14));
    CHECK(!opes_ehlo_offers(&e, "XOPE", 4));
    CHECK(!opes_ehlo_offers(&e, "XOPESX", 6));
    CHECK_ST(opes_ehlo_find(&e, "XCLIENT", 7, &idx), OPES_OK);
    CHECK_EQ(idx, 3);
    CHECK_ST(opes_ehlo_find(&e, "STARTTLS", 8, &idx), OPES_ENOTFOUND);
    CHECK_ST(opes_ehlo_find(NULL, "X", 1, &idx), OPES_EINVAL);
    CHECK_EQ(e.exts, BIT(OPES_EHLO_8BITMIME) | BIT(OPES_EHLO_LIMITS));
    CHECK_EQ(e.notes, 0);

    /* RFC 5321 4.1.1.1: keywords are case-insensitive (noted for linting) */
    static const char *const c[] = {"250-mx.example.net", "250-size 1000", "250-StartTLS",
                                    "250 Mt-Priority MIXER"};
    n = wire(buf, sizeof buf, c, COUNT(c));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.exts, BIT(OPES_EHLO_SIZE) | BIT(OPES_EHLO_STARTTLS) | BIT(OPES_EHLO_MT_PRIORITY));
    CHECK_EQ(e.size, 1000);
    CHECK_EQ(e.notes, OPES_NOTE_CASE);
    check_line(&e, 2, "Mt-Priority", "MIXER", OPES_EHLO_MT_PRIORITY);

    /* names and lookups */
    for (int i = 0; i < OPES_EHLO__COUNT; i++) {
        const char *nm = opes_ehlo_ext_name(i);
        CHECK(nm != NULL);
        if (nm)
            CHECK_EQ(opes_ehlo_ext_lookup(nm, strlen(nm)), i);
    }
    CHECK(opes_ehlo_ext_name(-1) == NULL);
    CHECK(opes_ehlo_ext_name(OPES_EHLO__COUNT) == NULL);
    CHECK_EQ(opes_ehlo_ext_lookup("mt-priority", 11), OPES_EHLO_MT_PRIORITY);
    CHECK_EQ(opes_ehlo_ext_lookup("SIZ", 3), OPES_EHLO_UNKNOWN);
    CHECK_EQ(opes_ehlo_ext_lookup("SIZEX", 5), OPES_EHLO_UNKNOWN);
    CHECK_EQ(opes_ehlo_ext_lookup(NULL, 0), OPES_EHLO_UNKNOWN);
    CHECK(!opes_ehlo_has(NULL, 0));
    CHECK(!opes_ehlo_has(&e, -1));
    CHECK(!opes_ehlo_has(&e, 64));
    CHECK(!opes_ehlo_offers(NULL, "X", 1));
    CHECK(!opes_ehlo_auth_offers(NULL, "X", 1));
}

static void test_size_auth_params(void)
{
    char buf[1024];
    size_t n, used;
    opes_ehlo e;

    /* RFC 1870 4: "A parameter value of 0 (zero) indicates that no fixed
     * maximum message size is in force." */
    static const char *const s0[] = {"250-mx", "250 SIZE 0"};
    n = wire(buf, sizeof buf, s0, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.has_size, 1);
    CHECK_EQ(e.size, 0);
    static const char *const smax[] = {"250-mx", "250 SIZE 18446744073709551615"};
    n = wire(buf, sizeof buf, smax, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK(e.has_size == 1 && e.size == UINT64_MAX);
    CHECK_EQ(e.line[0].flags, 0);
    static const char *const bad[] = {"SIZE 18446744073709551616", "SIZE 10M", "SIZE -1",
                                      "SIZE 1 2"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        const char *l[2] = {"250-mx", NULL};
        char line[64];
        snprintf(line, sizeof line, "250 %s", bad[i]);
        l[1] = line;
        n = wire(buf, sizeof buf, l, 2);
        CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
        CHECK_EQ(e.has_size, 0);
        CHECK_EQ(e.line[0].flags, OPES_EHLO_LINE_BAD_PARAMS);
        CHECK(opes_ehlo_has(&e, OPES_EHLO_SIZE));
    }
    /* the first SIZE line counts */
    static const char *const two[] = {"250-mx", "250-SIZE 100", "250 SIZE 200"};
    n = wire(buf, sizeof buf, two, 3);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.size, 100);
    CHECK_EQ(e.nlines, 2);

    /* parameters where the RFC defines none: kept, flagged */
    static const char *const np[] = {"250-mx", "250-SMTPUTF8 yes", "250-PIPELINING",
                                     "250 STARTTLS now"};
    n = wire(buf, sizeof buf, np, COUNT(np));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.line[0].flags, OPES_EHLO_LINE_BAD_PARAMS);
    CHECK_EQ(e.line[1].flags, 0);
    CHECK_EQ(e.line[2].flags, OPES_EHLO_LINE_BAD_PARAMS);
    CHECK_STR(e.line[2].params, "now");

    /* AUTH: the legacy "AUTH=" line (Postfix broken_sasl_auth_clients sends
     * it next to the standard one; the Exim wiki documents the form) */
    static const char *const leg[] = {"250-mail.example.com", "250-AUTH PLAIN LOGIN",
                                      "250-AUTH=PLAIN LOGIN", "250 8BITMIME"};
    n = wire(buf, sizeof buf, leg, COUNT(leg));
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.nlines, 3);
    check_line(&e, 0, "AUTH", "PLAIN LOGIN", OPES_EHLO_AUTH);
    check_line(&e, 1, "AUTH", "PLAIN LOGIN", OPES_EHLO_AUTH);
    CHECK_EQ(e.line[0].flags, 0);
    CHECK_EQ(e.line[1].flags, OPES_EHLO_LINE_AUTH_EQ);
    CHECK(e.auth.ptr == e.line[0].params.ptr);
    /* legacy first, standard second: the standard one wins */
    static const char *const leg2[] = {"250-mail.example.com", "250-AUTH=LOGIN",
                                       "250 AUTH CRAM-MD5 LOGIN"};
    n = wire(buf, sizeof buf, leg2, 3);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_STR(e.auth, "CRAM-MD5 LOGIN");
    CHECK(opes_ehlo_auth_offers(&e, "cram-md5", 8));
    /* legacy alone */
    static const char *const leg3[] = {"250-mail.example.com", "250 AUTH=LOGIN"};
    n = wire(buf, sizeof buf, leg3, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_STR(e.auth, "LOGIN");
    CHECK(opes_ehlo_auth_offers(&e, "LOGIN", 5));
    CHECK(opes_ehlo_has(&e, OPES_EHLO_AUTH));
    /* "=" after any other keyword breaks the ABNF */
    static const char *const eq[] = {"250-mail.example.com", "250 SIZE=1000"};
    n = wire(buf, sizeof buf, eq, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_EBAD_EHLO);
    CHECK_EQ(e.error_offset, 30);
    /* AUTH without mechanisms, with a bad name, with a 21-octet name */
    static const char *const abad[] = {"AUTH", "AUTH plain", "AUTH PLAIN L.OGIN",
                                       "AUTH ABCDEFGHIJKLMNOPQRSTU", "AUTH="};
    for (size_t i = 0; i < COUNT(abad); i++) {
        const char *l[2] = {"250-mx", NULL};
        char line[64];
        snprintf(line, sizeof line, "250 %s", abad[i]);
        l[1] = line;
        n = wire(buf, sizeof buf, l, 2);
        CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
        CHECK(e.line[0].flags & OPES_EHLO_LINE_BAD_PARAMS);
    }
    static const char *const a20[] = {"250-mx", "250 AUTH ABCDEFGHIJKLMNOPQRST SCRAM-SHA-256"};
    n = wire(buf, sizeof buf, a20, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.line[0].flags, 0);
    CHECK(opes_ehlo_auth_offers(&e, "SCRAM-SHA-256", 13));
}

static void test_errors(void)
{
    char buf[2048];
    size_t n, used;
    opes_ehlo e;
    static const struct {
        const char *first;
        opes_status st;
        size_t off;
    } firsts[] = {
        {"250-foo_bar.com", OPES_EBAD_DOMAIN, 7},
        {"250--foo.com", OPES_EBAD_DOMAIN, 4},
        {"250-foo..com", OPES_EBAD_DOMAIN, 8},
        {"250-foo.com-", OPES_EBAD_DOMAIN, 11},
        {"250-foo-.com", OPES_EBAD_DOMAIN, 7}, /* the trailing hyphen */
        {"250-.foo.com", OPES_EBAD_DOMAIN, 4},
        {"250-foo.com.", OPES_EBAD_DOMAIN, 12}, /* the empty label */
        {"250-[]", OPES_EBAD_ADDRESS_LITERAL, 5},
        {"250-[1.2.3.4", OPES_EBAD_ADDRESS_LITERAL, 12}, /* no "]" */
        {"250-[a[b]", OPES_EBAD_ADDRESS_LITERAL, 6},
        {"250-[1.2.3.256]", OPES_EBAD_ADDRESS_LITERAL, 11}, /* the Snum */
        {"250-[IPv6:1::2::3]", OPES_EBAD_ADDRESS_LITERAL, 15}, /* second "::" */
        {"250-", OPES_EBAD_EHLO, 4},
        {"250- foo.com", OPES_EBAD_EHLO, 4},
        {"250-foo.com\tgreets", OPES_EBAD_DOMAIN, 11},
    };
    for (size_t i = 0; i < COUNT(firsts); i++) {
        const char *l[2] = {firsts[i].first, "250 8BITMIME"};
        n = wire(buf, sizeof buf, l, 2);
        CHECK_ST(parse(NULL, buf, n, &e, &used), firsts[i].st);
        CHECK_EQ(e.error_offset, firsts[i].off);
        CHECK_EQ(used, n); /* the reply itself was well formed */
    }
    /* good domains */
    static const char *const good[] = {
        "250-[127.0.0.1]", "250-[IPv6:2001:db8::1]",    "250-a",        "250-[x-tag:some-thing]",
        "250-1.2.3.4",     "250-xn--bcher-kva.example", "250-a-b.c-d.e"};
    for (size_t i = 0; i < COUNT(good); i++) {
        const char *l[2] = {good[i], "250 8BITMIME"};
        n = wire(buf, sizeof buf, l, 2);
        CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
        CHECK_MEM(e.domain.ptr, e.domain.len, good[i] + 4, strlen(good[i]) - 4);
    }
    /* RFC 5321 4.5.3.1.2: 255 octets */
    char dom[300];
    memset(dom, 'a', sizeof dom);
    dom[63] = dom[127] = dom[191] = '.';
    memcpy(buf, "250 ", 4);
    memcpy(buf + 4, dom, 255);
    memcpy(buf + 259, "\r\n", 2);
    CHECK_ST(parse(NULL, buf, 261, &e, &used), OPES_OK);
    CHECK_EQ(e.domain.len, 255);
    memcpy(buf + 4, dom, 256);
    memcpy(buf + 260, "\r\n", 2);
    CHECK_ST(parse(NULL, buf, 262, &e, &used), OPES_EDOMAIN_TOO_LONG);
    CHECK_EQ(e.error_offset, 4);

    /* capability lines */
    static const struct {
        const char *line;
        opes_status st;
        size_t off; /* in the second line */
    } caps[] = {
        {"250 SIZE  1000", OPES_EBAD_EHLO, 9}, /* two spaces */
        {"250 -SIZE", OPES_EBAD_EHLO, 4},
        {"250 SI_ZE", OPES_EBAD_EHLO, 6},
        {"250 SIZE\t1000", OPES_EBAD_EHLO, 8},
        {"250 AUTH PLAIN\tLOGIN", OPES_EBAD_EHLO, 14},
        {"250 ", OPES_EBAD_EHLO, 4},
        {"250", OPES_EBAD_EHLO, 4},
        {"250  ", OPES_EBAD_EHLO, 5},
        {"250 XOPES a=b c\x7f", OPES_EBAD_CHAR, 15}, /* reply-level */
        {"251 SIZE", OPES_EREPLY_CODE_MISMATCH, 0},
    };
    for (size_t i = 0; i < COUNT(caps); i++) {
        const char *l[2] = {"250-mx.example.com", caps[i].line};
        n = wire(buf, sizeof buf, l, 2);
        CHECK_ST(parse(NULL, buf, n, &e, &used), caps[i].st);
        CHECK_EQ(e.error_offset, 20 + caps[i].off);
    }
    /* trailing white space is tolerated and noted (RFC 5321 4.1.1) */
    static const char *const tws[] = {"250-mx.example.com", "250-SIZE 1000 ", "250 PIPELINING\t"};
    n = wire(buf, sizeof buf, tws, 3);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.notes, OPES_NOTE_TRAILING_SPACE);
    CHECK_STR(e.line[0].params, "1000");
    CHECK_EQ(e.size, 1000);
    CHECK_STR(e.line[1].keyword, "PIPELINING");

    /* 8-bit: strict refuses at reply level; lenient lets the greeting have
     * UTF-8 but not an ehlo-param (%d33-126) */
    static const char *const u8[] = {"250-mx.example.com Gr\xc3\xbc\xc3\x9f Gott",
                                     "250 XOPES \xc3\xa9"};
    n = wire(buf, sizeof buf, u8, 2);
    CHECK_ST(parse(NULL, buf, n, &e, &used), OPES_EBAD_UTF8);
    CHECK_EQ(e.error_offset, 21);
    opes_smtp_config *cfg = NULL;
    CHECK_ST(opes_smtp_config_new(&cfg, NULL), OPES_OK);
    opes_smtp_config_set_lenient(cfg, OPES_LENIENT_8BIT | OPES_LENIENT_BARE_LF);
    CHECK_ST(parse(cfg, buf, n, &e, &used), OPES_EBAD_EHLO);
    CHECK_EQ(e.error_offset, n - 4);
    static const char *const u8b[] = {"250-mx.example.com Gr\xc3\xbc\xc3\x9f Gott", "250 XOPES"};
    n = wire(buf, sizeof buf, u8b, 2);
    CHECK_ST(parse(cfg, buf, n, &e, &used), OPES_OK);
    CHECK_EQ(e.notes, OPES_NOTE_8BIT);
    CHECK_STR(e.greeting, "Gr\xc3\xbc\xc3\x9f Gott");
    /* bare LF: refused strictly, accepted and noted leniently */
    const char *lf = "250-mx.example.com\n250 DSN\n";
    CHECK_ST(parse(NULL, lf, strlen(lf), &e, &used), OPES_EBARE_LF);
    CHECK_EQ(e.error_offset, 18);
    CHECK_ST(parse(cfg, lf, strlen(lf), &e, &used), OPES_OK);
    CHECK_EQ(e.notes, OPES_NOTE_BARE_LF);
    CHECK_EQ(e.exts, BIT(OPES_EHLO_DSN));
    opes_smtp_config_free(cfg);

    /* OPES_EHLO_MAX_LINES capability lines fit, one more does not */
    size_t len = 0;
    memcpy(buf, "250-mx\r\n", 8);
    len = 8;
    for (int i = 0; i < OPES_EHLO_MAX_LINES; i++) {
        int k = snprintf(buf + len, sizeof buf - len, "250-X%d\r\n", i);
        len += (size_t)k;
    }
    memcpy(buf + len, "250 LAST\r\n", 10);
    CHECK_ST(parse(NULL, buf, len + 10, &e, &used), OPES_ETOO_MANY_LINES);
    CHECK_EQ(e.error_offset, len);
    CHECK_EQ(e.nlines, OPES_EHLO_MAX_LINES);
    CHECK_EQ(used, len + 10);
    buf[len - 9 + 3] = ' '; /* make "250-X63\r\n" the last line */
    CHECK_ST(parse(NULL, buf, len, &e, &used), OPES_OK);
    CHECK_EQ(e.nlines, OPES_EHLO_MAX_LINES);
    CHECK_STR(e.line[OPES_EHLO_MAX_LINES - 1].keyword, "X63");

    /* incomplete, trailing bytes, arguments */
    const char *two = "250-mx\r\n250 DSN\r\n220 next";
    CHECK_ST(parse(NULL, two, strlen(two), &e, &used), OPES_OK);
    CHECK_EQ(used, 17);
    CHECK_ST(parse(NULL, two, 12, &e, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);
    CHECK_ST(opes_ehlo_parse(NULL, NULL, 5, &e, &used), OPES_EINVAL);
    CHECK_ST(opes_ehlo_parse(NULL, two, 5, NULL, &used), OPES_EINVAL);
    CHECK_ST(opes_ehlo_parse(NULL, two, 5, &e, NULL), OPES_EINVAL);
    CHECK_ST(opes_ehlo_parse(NULL, NULL, 0, &e, &used), OPES_INCOMPLETE);
}

/* ---- builder ---------------------------------------------------------- */

static void check_build(const opes_smtp_config *cfg, const char *dom, const char *greet,
                        const char *want)
{
    char out[2048];
    size_t len = 0, need = 0, gl = greet ? strlen(greet) : 0;
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, dom, strlen(dom), greet, gl), OPES_OK);
    CHECK_MEM(out, len, want, strlen(want));
    CHECK_ST(opes_ehlo_build(NULL, 0, &need, cfg, dom, strlen(dom), greet, gl), OPES_ENOSPC);
    CHECK_EQ(need, len);
    CHECK_ST(opes_ehlo_build(out, len - 1, &need, cfg, dom, strlen(dom), greet, gl), OPES_ENOSPC);
    CHECK_EQ(need, len);
    /* and it reads back */
    opes_ehlo e;
    size_t used;
    CHECK_ST(opes_ehlo_parse(cfg, out, len, &e, &used), OPES_OK);
    CHECK_EQ(used, len);
    CHECK_STR(e.domain, dom);
    CHECK_MEM(e.greeting.ptr, e.greeting.len, greet ? greet : "", gl);
}

static void test_build(void)
{
    opes_smtp_config *cfg = NULL;
    char out[1024];
    size_t len;

    /* nothing offered: one line */
    check_build(NULL, "xyz.com", "is on the air", "250 xyz.com is on the air\r\n");
    check_build(NULL, "innosoft.com", NULL, "250 innosoft.com\r\n");

    CHECK_ST(opes_smtp_config_new(&cfg, NULL), OPES_OK);
    check_build(cfg, "innosoft.com", "", "250 innosoft.com\r\n");
    /* RFC 2920 4 */
    CHECK_ST(opes_smtp_config_offer(cfg, "PIPELINING", 1, NULL), OPES_OK);
    check_build(cfg, "innosoft.com", NULL, "250-innosoft.com\r\n250 PIPELINING\r\n");
    opes_smtp_config_offer(cfg, "PIPELINING", 0, NULL);
    /* RFC 3461 10.3 */
    opes_smtp_config_offer(cfg, "DSN", 1, NULL);
    check_build(cfg, "Ivory.EDU", NULL, "250-Ivory.EDU\r\n250 DSN\r\n");
    opes_smtp_config_offer(cfg, "DSN", 0, NULL);
    /* RFC 3030 4.1 */
    opes_smtp_config_offer(cfg, "CHUNKING", 1, NULL);
    check_build(cfg, "cnri.reston.va.us", "says hello",
                "250-cnri.reston.va.us says hello\r\n250 CHUNKING\r\n");
    opes_smtp_config_offer(cfg, "CHUNKING", 0, NULL);
    /* RFC 2034 6 */
    opes_smtp_config_offer(cfg, "ENHANCEDSTATUSCODES", 1, NULL);
    check_build(cfg, "dbc.mtview.ca.us", "says hello",
                "250-dbc.mtview.ca.us says hello\r\n250 ENHANCEDSTATUSCODES\r\n");
    opes_smtp_config_offer(cfg, "ENHANCEDSTATUSCODES", 0, NULL);
    /* RFC 4954 4.1, after STARTTLS */
    opes_smtp_config_offer(cfg, "AUTH", 1, "GSSAPI DIGEST-MD5 PLAIN");
    check_build(cfg, "smtp.example.com", "Hello client.example.com",
                "250-smtp.example.com Hello client.example.com\r\n"
                "250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n");

    /* several, in table order, and an extension of the caller's (XOPES) */
    CHECK_ST(opes_smtp_config_offer(cfg, "8BITMIME", 1, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_offer(cfg, "SIZE", 1, "52428800"), OPES_OK);
    CHECK_ST(opes_smtp_config_offer(cfg, "SMTPUTF8", 1, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_add_extension(cfg, "XOPES", 0, 0), OPES_OK);
    CHECK_ST(opes_smtp_config_offer(cfg, "XOPES", 1, "opes.example.net"), OPES_OK);
    check_build(cfg, "mx.example.com", "ESMTP",
                "250-mx.example.com ESMTP\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
                "250-SMTPUTF8\r\n250-AUTH GSSAPI DIGEST-MD5 PLAIN\r\n"
                "250 XOPES opes.example.net\r\n");
    opes_ehlo e;
    size_t used;
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx.example.com", 14, NULL, 0), OPES_OK);
    CHECK_ST(opes_ehlo_parse(NULL, out, len, &e, &used), OPES_OK);
    CHECK_EQ(e.size, 52428800);
    CHECK(opes_ehlo_offers(&e, "XOPES", 5));
    CHECK(opes_ehlo_auth_offers(&e, "PLAIN", 5));
    CHECK_EQ(e.nlines, 5);
    /* an address literal as domain */
    check_build(NULL, "[192.0.2.1]", NULL, "250 [192.0.2.1]\r\n");

    /* refusals */
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "a\r\nb", 4, NULL, 0), OPES_EINJECT);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, "hi\r\n250 AUTH x", 15),
             OPES_EINJECT);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, "hi\0x", 4), OPES_EINJECT);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "m\0x", 3, NULL, 0), OPES_EINJECT);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "", 0, NULL, 0), OPES_EBAD_DOMAIN);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "a b", 3, NULL, 0), OPES_EBAD_DOMAIN);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "foo_bar", 7, NULL, 0), OPES_EBAD_DOMAIN);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "[192.0.2.300]", 13, NULL, 0),
             OPES_EBAD_ADDRESS_LITERAL);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, "caf\xc3\xa9", 5),
             OPES_EBAD_CHAR);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, "a\x01", 2), OPES_EBAD_CHAR);
    char dom[300];
    memset(dom, 'a', sizeof dom);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, dom, 256, NULL, 0), OPES_EDOMAIN_TOO_LONG);
    char greet[600];
    memset(greet, 'g', sizeof greet);
    /* "250-mx " + greeting + CRLF = 9 + 503 = 512: fits; 504 does not */
    CHECK_ST(opes_ehlo_build(NULL, 0, &len, cfg, "mx", 2, greet, 503), OPES_ENOSPC);
    CHECK_ST(opes_ehlo_build(NULL, 0, &len, cfg, "mx", 2, greet, 504), OPES_EREPLY_TOO_LONG);
    /* the limits of the config */
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 19), OPES_OK);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, NULL, 0), OPES_EREPLY_TOO_LONG);
    opes_smtp_config_offer(cfg, "AUTH", 0, NULL);
    opes_smtp_config_offer(cfg, "XOPES", 0, NULL);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, NULL, 0), OPES_OK);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 18), OPES_OK);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, NULL, 0), OPES_EREPLY_TOO_LONG);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 512), OPES_OK);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINES, 4), OPES_OK);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, NULL, 0), OPES_OK);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINES, 3), OPES_OK);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, NULL, 0), OPES_ETOO_MANY_LINES);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 512), OPES_OK);
    /* arguments */
    CHECK_ST(opes_ehlo_build(NULL, 5, &len, cfg, "mx", 2, NULL, 0), OPES_EINVAL);
    CHECK_ST(opes_ehlo_build(out, sizeof out, NULL, cfg, "mx", 2, NULL, 0), OPES_EINVAL);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, NULL, 2, NULL, 0), OPES_EINVAL);
    CHECK_ST(opes_ehlo_build(out, sizeof out, &len, cfg, "mx", 2, NULL, 3), OPES_EINVAL);
    opes_smtp_config_free(cfg);
}

int main(void)
{
    test_rfc5321();
    test_extension_rfcs();
    test_real_servers();
    test_unknown_and_case();
    test_size_auth_params();
    test_errors();
    test_build();
    return TEST_END();
}
