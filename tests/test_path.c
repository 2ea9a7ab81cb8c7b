/* SMTP paths and mailboxes: RFC 5321 4.1.1.3, 4.1.2, 4.1.3, 4.5.3.1;
 * RFC 6531 3.3. */
#include "harness.h"

#include <stdlib.h>

static opes_smtp_config *cfg_lenient(unsigned bits)
{
    opes_smtp_config *c = NULL;
    if (opes_smtp_config_new(&c, NULL) != OPES_OK)
        abort();
    if (opes_smtp_config_set_lenient(c, bits) != OPES_OK)
        abort();
    return c;
}

/* Parse s (NUL-free literal) through a guarded copy. *g_out receives the copy
 * (freed by the caller with guarded_free) so views can be checked. */
static opes_status parse_n(const opes_smtp_config *cfg, int mode, int utf8, const char *s, size_t n,
                           opes_path *p, size_t *used, unsigned *notes)
{
    const char *g = n ? guarded_copy(s, n) : NULL;
    opes_status st = opes_path_parse(cfg, mode, utf8, g, n, p, used, notes);
    /* views must lie inside the input */
    if (st == OPES_OK) {
        CHECK(*used <= n);
        CHECK(p->mailbox.len == 0 ||
              (p->mailbox.ptr >= g && p->mailbox.ptr + p->mailbox.len <= g + n));
        CHECK(p->domain.len == 0 || (p->domain.ptr >= g && p->domain.ptr + p->domain.len <= g + n));
    } else {
        CHECK(*used <= n);
    }
    if (g)
        guarded_free(g);
    return st;
}

/* Parse and keep results comparable: copies of the views go to bufs. */
typedef struct res {
    opes_status st;
    size_t used;
    unsigned notes;
    int kind, dkind;
    unsigned flags;
    char mailbox[2048], local[2048], domain[2048], route[2048];
} res;

static void copy_view(char *dst, opes_str v)
{
    memcpy(dst, v.ptr ? v.ptr : "", v.len);
    dst[v.len] = '\0';
}

static res R; /* the last result */

static opes_status P(const opes_smtp_config *cfg, int mode, int utf8, const char *s)
{
    size_t n = strlen(s);
    const char *g = n ? guarded_copy(s, n) : NULL;
    opes_path p;
    memset(&R, 0, sizeof R);
    R.st = opes_path_parse(cfg, mode, utf8, g, n, &p, &R.used, &R.notes);
    CHECK(R.used <= n);
    if (R.st == OPES_OK) {
        R.kind = p.kind;
        R.dkind = p.domain_kind;
        R.flags = p.flags;
        copy_view(R.mailbox, p.mailbox);
        copy_view(R.local, p.local_part);
        copy_view(R.domain, p.domain);
        copy_view(R.route, p.route);
    }
    if (g)
        guarded_free(g);
    return R.st;
}

#define REV OPES_PATH_REVERSE
#define FWD OPES_PATH_FORWARD

/* ---- RFC examples ------------------------------------------------------------ */

static void test_rfc_examples(void)
{
    /* RFC 5321 Appendix D.1-D.4, the paths of every MAIL and RCPT */
    static const char *const d[] = {"<Smith@bar.com>", "<Jones@foo.com>",    "<Green@foo.com>",
                                    "<Brown@foo.com>", "<JQP@bar.com>",      "<Jones@XYZ.COM>",
                                    "<EAK@bar.com>",   "<Admin.MRC@foo.com>"};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        for (int mode = 0; mode <= 1; mode++) {
            CHECK_ST(P(NULL, mode, 0, d[i]), OPES_OK);
            CHECK_EQ(R.used, strlen(d[i]));
            CHECK_EQ(R.kind, OPES_PATH_MAILBOX);
            CHECK_EQ(R.dkind, OPES_DOMAIN_NAME);
            CHECK_EQ(R.flags, 0);
            CHECK_EQ(R.notes, 0);
        }
    }
    CHECK_ST(P(NULL, FWD, 0, "<Admin.MRC@foo.com>"), OPES_OK);
    CHECK(strcmp(R.mailbox, "Admin.MRC@foo.com") == 0);
    CHECK(strcmp(R.local, "Admin.MRC") == 0);
    CHECK(strcmp(R.domain, "foo.com") == 0);
    CHECK(strcmp(R.route, "") == 0);

    /* RFC 3461 10.1: "MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159":
     * the path stops at ">" */
    CHECK_ST(P(NULL, REV, 0, "<Alice@Example.ORG> RET=HDRS ENVID=QQ314159"), OPES_OK);
    CHECK_EQ(R.used, 19);
    CHECK(strcmp(R.domain, "Example.ORG") == 0);
    CHECK_ST(P(NULL, FWD, 0, "<George@Tax-ME.GOV> NOTIFY=FAILURE"), OPES_OK);
    CHECK_EQ(R.used, 19);
    CHECK(strcmp(R.domain, "Tax-ME.GOV") == 0);
    CHECK_ST(P(NULL, FWD, 0, "<Eric@Bombs.AF.MIL>"), OPES_OK);
    /* RFC 3461 10.4: "MAIL FROM:<>" (the NOTIFY=NEVER transaction) */
    CHECK_ST(P(NULL, REV, 0, "<>"), OPES_OK);
    CHECK_EQ(R.kind, OPES_PATH_NULL);
    CHECK_EQ(R.used, 2);
    CHECK(strcmp(R.mailbox, "") == 0);

    /* RFC 4954 5.1: "MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com"
     * and "MAIL FROM:<john+@example.org> AUTH=<>" */
    CHECK_ST(P(NULL, REV, 0, "<e=mc2@example.com> AUTH=e+3Dmc2@example.com"), OPES_OK);
    CHECK_EQ(R.used, 19);
    CHECK(strcmp(R.local, "e=mc2") == 0);
    CHECK_ST(P(NULL, REV, 0, "<john+@example.org> AUTH=<>"), OPES_OK);
    CHECK(strcmp(R.local, "john+") == 0);
    {
        /* the AUTH value, xtext-decoded, is a whole mailbox */
        char dec[64];
        size_t n;
        opes_path p;
        unsigned notes = 9;
        CHECK_ST(opes_xtext_decode(dec, sizeof dec, &n, "e+3Dmc2@example.com", 19, 0), OPES_OK);
        const char *g = guarded_copy(dec, n);
        CHECK_ST(opes_mailbox_parse(NULL, 0, g, n, &p, &notes), OPES_OK);
        CHECK_EQ(p.kind, OPES_PATH_MAILBOX);
        CHECK_STR(p.local_part, "e=mc2");
        CHECK_STR(p.domain, "example.com");
        CHECK_EQ(notes, 0);
        guarded_free(g);
    }

    /* RFC 5321 4.1.1.3: "RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org>"
     * "will normally be sent directly on to host d.bar.org with envelope
     * commands ... RCPT TO:<userc@d.bar.org>"; also "<@jkl.org:userc@d.bar.org>"
     * and "MAIL FROM:<userx@y.foo.org>" */
    CHECK_ST(P(NULL, FWD, 0, "<@hosta.int,@jkl.org:userc@d.bar.org>"), OPES_OK);
    CHECK_EQ(R.kind, OPES_PATH_MAILBOX);
    CHECK(strcmp(R.mailbox, "userc@d.bar.org") == 0);
    CHECK(strcmp(R.route, "@hosta.int,@jkl.org") == 0);
    CHECK(strcmp(R.domain, "d.bar.org") == 0);
    CHECK_EQ(R.flags, OPES_PATH_F_ROUTE);
    CHECK_EQ(R.notes, OPES_NOTE_SOURCE_ROUTE);
    CHECK_EQ(R.used, 37);
    CHECK_ST(P(NULL, FWD, 0, "<@jkl.org:userc@d.bar.org>"), OPES_OK);
    CHECK(strcmp(R.route, "@jkl.org") == 0);
    CHECK(strcmp(R.mailbox, "userc@d.bar.org") == 0);
    CHECK_ST(P(NULL, REV, 0, "<userx@y.foo.org>"), OPES_OK);
    CHECK_EQ(R.flags, 0);
}

/* ---- <Postmaster> and <> ------------------------------------------------------- */

static void test_postmaster(void)
{
    /* RFC 5321 4.1.1.3: rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" /
     * "<Postmaster>" / Forward-path ); "the "Postmaster" string shown above is
     * treated as case-insensitive" */
    static const char *const pm[] = {"<Postmaster>", "<postmaster>", "<POSTMASTER>",
                                     "<PostMaster>"};
    for (size_t i = 0; i < 4; i++) {
        CHECK_ST(P(NULL, FWD, 0, pm[i]), OPES_OK);
        CHECK_EQ(R.kind, OPES_PATH_POSTMASTER);
        CHECK_EQ(R.dkind, OPES_DOMAIN_NONE);
        CHECK_EQ(R.notes, OPES_NOTE_POSTMASTER);
        CHECK_EQ(R.used, 12);
        CHECK_EQ(strlen(R.mailbox), 10);
        CHECK(memcmp(R.mailbox, pm[i] + 1, 10) == 0);
        CHECK(strcmp(R.domain, "") == 0);
        /* MAIL FROM:<Postmaster> is not a reverse-path */
        CHECK_ST(P(NULL, REV, 0, pm[i]), OPES_EBAD_PATH);
        CHECK_EQ(R.used, 11);
    }
    /* <Postmaster> and <> are different things (a parser that returns the
     * empty string for both cannot tell a bounce from mail to postmaster) */
    CHECK_ST(P(NULL, REV, 0, "<>"), OPES_OK);
    CHECK_EQ(R.kind, OPES_PATH_NULL);
    CHECK_EQ(R.notes, 0);
    CHECK_ST(P(NULL, FWD, 0, "<Postmaster>"), OPES_OK);
    CHECK(R.kind != OPES_PATH_NULL);
    CHECK(strcmp(R.mailbox, "") != 0);
    /* RCPT TO:<> is not a forward-path */
    CHECK_ST(P(NULL, FWD, 0, "<>"), OPES_EBAD_PATH);
    CHECK_EQ(R.used, 1);
    /* <Postmaster@domain> is an ordinary mailbox */
    CHECK_ST(P(NULL, FWD, 0, "<Postmaster@example.com>"), OPES_OK);
    CHECK_EQ(R.kind, OPES_PATH_MAILBOX);
    CHECK_EQ(R.notes, 0);
    CHECK_ST(P(NULL, REV, 0, "<postmaster@example.com>"), OPES_OK);
    CHECK_EQ(R.kind, OPES_PATH_MAILBOX);
    /* only the bare word: not quoted, no route, nothing else */
    CHECK_ST(P(NULL, FWD, 0, "<\"Postmaster\">"), OPES_EBAD_PATH);
    CHECK_ST(P(NULL, FWD, 0, "<@a.example:Postmaster>"), OPES_EBAD_PATH);
    CHECK_ST(P(NULL, FWD, 0, "<Postmasters>"), OPES_EBAD_PATH);
    CHECK_ST(P(NULL, FWD, 0, "<Post.master>"), OPES_EBAD_PATH);
    CHECK_ST(P(NULL, FWD, 0, "<Postmaster"), OPES_EBAD_PATH);
    CHECK_EQ(R.used, 11);
    CHECK_ST(P(NULL, FWD, 0, "<Postmaster >"), OPES_EBAD_CHAR);
    CHECK_EQ(R.used, 11);
    /* <Postmaster> followed by parameters */
    CHECK_ST(P(NULL, FWD, 0, "<Postmaster> NOTIFY=NEVER"), OPES_OK);
    CHECK_EQ(R.used, 12);
    /* other malformed null paths */
    CHECK_ST(P(NULL, REV, 0, "< >"), OPES_EBAD_CHAR);
    CHECK_ST(P(NULL, REV, 0, "<"), OPES_EBAD_LOCAL_PART);
    CHECK_EQ(R.used, 1);
    CHECK_ST(P(NULL, REV, 0, "<>>"), OPES_OK); /* stops after "<>"; the rest is the caller's */
    CHECK_EQ(R.used, 2);
}

/* ---- source routes ------------------------------------------------------------- */

static void test_routes(void)
{
    CHECK_ST(P(NULL, REV, 0, "<@a:u@d>"), OPES_OK);
    CHECK(strcmp(R.route, "@a") == 0);
    CHECK(strcmp(R.mailbox, "u@d") == 0);
    CHECK_ST(P(NULL, FWD, 0, "<@a.b,@c-d.e,@f:\"x y\"@[1.2.3.4]>"), OPES_OK);
    CHECK(strcmp(R.route, "@a.b,@c-d.e,@f") == 0);
    CHECK_EQ(R.flags, OPES_PATH_F_ROUTE | OPES_PATH_F_QUOTED);
    CHECK_EQ(R.dkind, OPES_DOMAIN_IPV4);

    /* A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain */
    static const struct {
        const char *in;
        opes_status st;
        size_t at;
    } bad[] = {
        {"<@a:>", OPES_EBAD_LOCAL_PART, 4},
        {"<@:u@d>", OPES_EBAD_DOMAIN, 2},
        {"<@a,b:u@d>", OPES_EBAD_PATH, 4},
        {"<@a,:u@d>", OPES_EBAD_PATH, 4},
        {"<@a@b:u@d>", OPES_EBAD_PATH, 3},
        {"<@a;@b:u@d>", OPES_EBAD_PATH, 3},
        {"<@a.:u@d>", OPES_EBAD_DOMAIN, 4},
        {"<@-a:u@d>", OPES_EBAD_DOMAIN, 2},
        {"<@[1.2.3.4]:u@d>", OPES_EBAD_DOMAIN, 2}, /* Domain only, no literal */
        {"<@a b:u@d>", OPES_EBAD_CHAR, 3},
        {"<@a\r\nRSET\r\n:u@d>", OPES_EBAD_CHAR, 3},
        {"<@a:@b:u@d>", OPES_EBAD_LOCAL_PART, 4},
        {"<@a>", OPES_EBAD_PATH, 3},
        {"<@a", OPES_EBAD_PATH, 3},
        {"<@a:u>", OPES_EBAD_PATH, 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ST(P(NULL, FWD, 0, bad[i].in), bad[i].st);
        CHECK_EQ(R.used, bad[i].at);
    }
}

/* ---- local parts ------------------------------------------------------------- */

static void test_local_part(void)
{
    /* atext: every RFC 5322 3.2.3 special is fine in a Dot-string */
    CHECK_ST(P(NULL, REV, 0, "<!#$%&'*+-/=?^_`{|}~09azAZ@x>"), OPES_OK);
    CHECK_EQ(R.flags, 0);
    CHECK_ST(P(NULL, REV, 0, "<a.b.c@x>"), OPES_OK);
    /* Dot-string = Atom *("." Atom): no empty atom */
    CHECK_ST(P(NULL, REV, 0, "<.a@x>"), OPES_EBAD_LOCAL_PART);
    CHECK_EQ(R.used, 1);
    CHECK_ST(P(NULL, REV, 0, "<a.@x>"), OPES_EBAD_LOCAL_PART);
    CHECK_EQ(R.used, 3);
    CHECK_ST(P(NULL, REV, 0, "<a..b@x>"), OPES_EBAD_LOCAL_PART);
    CHECK_EQ(R.used, 3);
    CHECK_ST(P(NULL, REV, 0, "<@x>"), OPES_EBAD_PATH); /* "@x" is a route */
    CHECK_EQ(R.used, 3);
    CHECK_ST(P(NULL, REV, 0, "<a(b)@x>"), OPES_EBAD_PATH);
    CHECK_EQ(R.used, 2);
    CHECK_ST(P(NULL, REV, 0, "<a\"b@x>"), OPES_EBAD_PATH);
    CHECK_ST(P(NULL, REV, 0, "<a,b@x>"), OPES_EBAD_PATH);
    CHECK_ST(P(NULL, REV, 0, "<a@b@x>"), OPES_EBAD_DOMAIN);
    CHECK_EQ(R.used, 4);

    /* Quoted-string = DQUOTE *QcontentSMTP DQUOTE */
    CHECK_ST(P(NULL, REV, 0, "<\"a b\"@x>"), OPES_OK);
    CHECK(strcmp(R.local, "\"a b\"") == 0);
    CHECK_EQ(R.flags, OPES_PATH_F_QUOTED);
    CHECK_ST(P(NULL, REV, 0, "<\"\"@x>"), OPES_OK);
    CHECK(strcmp(R.local, "\"\"") == 0);
    CHECK_ST(P(NULL, REV, 0, "<\"a\\\"b\\\\c\"@x>"), OPES_OK);
    CHECK(strcmp(R.local, "\"a\\\"b\\\\c\"") == 0);
    CHECK_ST(P(NULL, REV, 0, "<\"(),:;<>@[]\"@x>"), OPES_OK);
    CHECK_ST(P(NULL, REV, 0, "<\"\\ \\~\"@x>"), OPES_OK); /* quoted-pair %d92 %d32-126 */
    CHECK_ST(P(NULL, REV, 0, "<\"a\\\x01\"@x>"), OPES_EBAD_CHAR);
    CHECK_EQ(R.used, 4);
    CHECK_ST(P(NULL, REV, 0, "<\"a\\\x7f\"@x>"), OPES_EBAD_CHAR);
    CHECK_ST(P(NULL, REV, 0, "<\"a\tb\"@x>"), OPES_EBAD_CHAR); /* HT is not qtextSMTP */
    CHECK_EQ(R.used, 3);
    CHECK_ST(P(NULL, REV, 0, "<\"a\rb\"@x>"), OPES_EBAD_CHAR);
    CHECK_ST(P(NULL, REV, 0, "<\"ab@x>"), OPES_EBAD_LOCAL_PART); /* unterminated */
    CHECK_EQ(R.used, 7);
    CHECK_ST(P(NULL, REV, 0, "<\"ab\\"), OPES_EBAD_LOCAL_PART);
    CHECK_EQ(R.used, 5);
    CHECK_ST(P(NULL, REV, 0, "<\"a\"b@x>"), OPES_EBAD_PATH); /* no mixing */
    CHECK_EQ(R.used, 4);
    CHECK_ST(P(NULL, REV, 0, "<\"a\".b@x>"), OPES_EBAD_PATH);
    CHECK_ST(P(NULL, REV, 0, "<a.\"b\"@x>"), OPES_EBAD_LOCAL_PART);
}

/* ---- domains and address literals -------------------------------------------- */

static void test_domain(void)
{
    static const struct {
        const char *in;
        opes_status st;
        size_t at; /* offset on error */
    } v[] = {
        {"<a@b>", OPES_OK, 0},
        {"<a@1.2.3.4>", OPES_OK, 0}, /* a Domain of digit labels */
        {"<a@x-y.z>", OPES_OK, 0},
        {"<a@x--y.z9>", OPES_OK, 0},
        {"<a@9>", OPES_OK, 0},
        {"<a@xn--bcher-kva.example>", OPES_OK, 0},
        {"<a@>", OPES_EBAD_DOMAIN, 3},
        {"<a@-b.c>", OPES_EBAD_DOMAIN, 3},
        {"<a@b-.c>", OPES_EBAD_DOMAIN, 4},
        {"<a@b.-c>", OPES_EBAD_DOMAIN, 5},
        {"<a@b.c->", OPES_EBAD_DOMAIN, 6},
        {"<a@b.c.>", OPES_EBAD_DOMAIN, 7}, /* no trailing dot */
        {"<a@.b>", OPES_EBAD_DOMAIN, 3},
        {"<a@b..c>", OPES_EBAD_DOMAIN, 5},
        {"<a@b_c>", OPES_EBAD_DOMAIN, 4},
        {"<a@b c>", OPES_EBAD_CHAR, 4},
        {"<a@b\0c>", OPES_EBAD_CHAR, 4},
        {"<a@b", OPES_EBAD_PATH, 4},
        {"<a@b\r\n", OPES_EBAD_CHAR, 4},
        {"<a@[1.2.3.4]x>", OPES_EBAD_PATH, 12},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].in);
        if (i == 16)
            n = 7; /* the embedded NUL */
        opes_path p;
        size_t used;
        CHECK_ST(parse_n(NULL, REV, 0, v[i].in, n, &p, &used, NULL), v[i].st);
        if (v[i].st != OPES_OK)
            CHECK_EQ(used, v[i].at);
        else
            CHECK_EQ(used, n);
    }
}

static void test_ipv4(void)
{
    static const struct {
        const char *lit;
        int ok;
    } v[] = {
        {"[1.2.3.4]", 1},      {"[0.0.0.0]", 1},   {"[255.255.255.255]", 1}, {"[192.0.2.1]", 1},
        {"[001.02.3.004]", 1}, /* Snum = 1*3DIGIT */
        {"[256.1.1.1]", 0},    {"[1.2.3.256]", 0}, {"[1.2.3]", 0},           {"[1.2.3.4.5]", 0},
        {"[1.2.3.]", 0},       {"[.1.2.3]", 0},    {"[1..2.3]", 0},          {"[0001.2.3.4]", 0},
        {"[1.2.3.4 ]", 0},     {"[ 1.2.3.4]", 0},  {"[1.2.3.a]", 0},         {"[]", 0},
        {"[1.2.3.4", 0},       {"1.2.3.4]", 0},    {"[1.2.3.999]", 0},       {"[1.2.3.4]]", 0},
        {"[[1.2.3.4]", 0},     {"[-1.2.3.4]", 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int kind = -1;
        size_t n = strlen(v[i].lit);
        const char *g = guarded_copy(v[i].lit, n);
        opes_status st = opes_address_literal_check(g, n, &kind);
        guarded_free(g);
        CHECK_ST(st, v[i].ok ? OPES_OK : OPES_EBAD_ADDRESS_LITERAL);
        if (v[i].ok)
            CHECK_EQ(kind, OPES_DOMAIN_IPV4);
        if ((st == OPES_OK) != v[i].ok)
            fprintf(stderr, "    literal %s\n", v[i].lit);
    }
    CHECK_ST(P(NULL, FWD, 0, "<a@[192.0.2.1]>"), OPES_OK);
    CHECK_EQ(R.dkind, OPES_DOMAIN_IPV4);
    CHECK(strcmp(R.domain, "[192.0.2.1]") == 0);
    CHECK_ST(P(NULL, FWD, 0, "<a@[192.0.2.256]>"), OPES_EBAD_ADDRESS_LITERAL);
    CHECK_EQ(R.used, 12);
    CHECK_ST(P(NULL, FWD, 0, "<a@[192.0.2.1>"), OPES_EBAD_ADDRESS_LITERAL);
    CHECK_EQ(R.used, 14);
}

static void test_ipv6(void)
{
    static const struct {
        const char *lit;
        int ok;
    } v[] = {
        /* IPv6-full = IPv6-hex 7(":" IPv6-hex) */
        {"[IPv6:2001:db8:0:0:0:0:0:1]", 1},
        {"[IPv6:2001:0DB8:0000:0000:0000:0000:0000:0001]", 1},
        {"[IPv6:FFFF:ffff:FfFf:0:1:2:3:4]", 1},
        {"[IPv6:1:2:3:4:5:6:7]", 0},       /* 7 groups, no "::" */
        {"[IPv6:1:2:3:4:5:6:7:8:9]", 0},   /* 9 groups */
        {"[IPv6:12345:2:3:4:5:6:7:8]", 0}, /* 5 hex digits */
        {"[IPv6:1:2:3:4:5:6:7:g]", 0},
        {"[IPv6:1:2:3:4:5:6:7:]", 0},
        {"[IPv6::1:2:3:4:5:6:7]", 0}, /* single leading ":" */
        {"[IPv6:1:2:3:4:5:6:7:8:]", 0},
        /* IPv6-comp: "::" once, at most 6 other groups */
        {"[IPv6:::]", 1},
        {"[IPv6:::1]", 1},
        {"[IPv6:1::]", 1},
        {"[IPv6:2001:db8::1]", 1},
        {"[IPv6:1:2:3::4:5:6]", 1}, /* 6 groups + "::" */
        {"[IPv6:1:2:3:4:5:6::]", 1},
        {"[IPv6:::1:2:3:4:5:6]", 1},
        {"[IPv6:1:2:3:4::5:6:7]", 0}, /* 7 groups + "::" */
        {"[IPv6:1:2:3:4:5:6:7::]", 0},
        {"[IPv6:::1:2:3:4:5:6:7]", 0},
        {"[IPv6:1::2::3]", 0}, /* "::" twice */
        {"[IPv6:::1::]", 0},
        {"[IPv6::::]", 0}, /* ":::" */
        {"[IPv6:1:::2]", 0},
        {"[IPv6:::1:]", 0},
        {"[IPv6::]", 0},
        {"[IPv6:]", 0},
        {"[IPv6:1]", 0},
        /* IPv6v4-full = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal */
        {"[IPv6:1:2:3:4:5:6:1.2.3.4]", 1},
        {"[IPv6:0:0:0:0:0:ffff:192.0.2.1]", 1},
        {"[IPv6:1:2:3:4:5:1.2.3.4]", 0},     /* 5 groups + IPv4, no "::" */
        {"[IPv6:1:2:3:4:5:6:7:1.2.3.4]", 0}, /* 7 groups + IPv4 */
        {"[IPv6:1:2:3:4:5:6:1.2.3.256]", 0}, /* IPv4 part with 256 */
        {"[IPv6:1:2:3:4:5:6:1.2.3]", 0},
        {"[IPv6:1:2:3:4:5:6:1.2.3.4:7]", 0}, /* IPv4 part not last */
        {"[IPv6:1:2:3:4:5:6:1.2.3.4.5]", 0},
        /* IPv6v4-comp: "::" once, at most 4 other groups, then IPv4 */
        {"[IPv6:::1.2.3.4]", 1},
        {"[IPv6:::ffff:192.0.2.1]", 1},
        {"[IPv6:1:2:3:4::1.2.3.4]", 1},
        {"[IPv6:1::2:3:4:1.2.3.4]", 1},
        {"[IPv6:::1:2:3:4:1.2.3.4]", 1},
        {"[IPv6:1:2:3:4:5::1.2.3.4]", 0}, /* 5 groups + "::" + IPv4 */
        {"[IPv6:::1:2:3:4:5:1.2.3.4]", 0},
        {"[IPv6:1:2::3:4:5:1.2.3.4]", 0},
        {"[IPv6:::256.1.1.1]", 0},
        {"[IPv6:1::1.2.3.4::]", 0},
        {"[IPv6:1.2.3.4]", 0},
        {"[IPv6:1.2.3.4::]", 0},
        {"[IPv6:::1234.1.1.1]", 0},
        {"[IPv6:::a.1.1.1]", 0},
        /* the tag, case-insensitive (RFC 5234 2.3) */
        {"[ipv6:::1]", 1},
        {"[IPV6:::1]", 1},
        {"[IPv6 :::1]", 0},
        {"[IPv6:::1 ]", 0},
        {"[IPv6:[::1]]", 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int kind = -1;
        size_t n = strlen(v[i].lit);
        const char *g = guarded_copy(v[i].lit, n);
        opes_status st = opes_address_literal_check(g, n, &kind);
        guarded_free(g);
        CHECK_ST(st, v[i].ok ? OPES_OK : OPES_EBAD_ADDRESS_LITERAL);
        if (v[i].ok)
            CHECK_EQ(kind, OPES_DOMAIN_IPV6);
        if ((st == OPES_OK) != v[i].ok)
            fprintf(stderr, "    literal %s\n", v[i].lit);
    }
    CHECK_ST(P(NULL, FWD, 0, "<a@[IPv6:2001:db8::1]>"), OPES_OK);
    CHECK_EQ(R.dkind, OPES_DOMAIN_IPV6);
    CHECK(strcmp(R.domain, "[IPv6:2001:db8::1]") == 0);
    /* the offset points into the literal */
    CHECK_ST(P(NULL, FWD, 0, "<a@[IPv6:1::2::3]>"), OPES_EBAD_ADDRESS_LITERAL);
    CHECK_EQ(R.used, 14);
    CHECK_ST(P(NULL, FWD, 0, "<a@[IPv6:1:2:3:4:5:6:7:8:9]>"), OPES_EBAD_ADDRESS_LITERAL);
    CHECK_EQ(R.used, 25);
}

static void test_general_literal(void)
{
    static const struct {
        const char *lit;
        int ok;
    } v[] = {
        /* General-address-literal = Standardized-tag ":" 1*dcontent */
        {"[x-tag:anything!~]", 1},
        {"[X400:c=us;a=;p=x]", 1},
        {"[a:b:c]", 1},
        {"[9:z]", 1},
        {"[-a:z]", 1}, /* Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig */
        {"[a-:z]", 0},
        {"[:z]", 0},
        {"[a:]", 0},
        {"[a.b:z]", 0},
        {"[a_b:z]", 0},
        {"[a:b\\c]", 0}, /* dcontent excludes "\" */
        {"[a:b[c]", 0},  /* and "[" */
        {"[a:b c]", 0},
        {"[a:\xc3\xa9]", 0},
        {"[IPv6:zzz]", 0}, /* the IPv6 tag is not a general literal */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int kind = -1;
        size_t n = strlen(v[i].lit);
        const char *g = guarded_copy(v[i].lit, n);
        opes_status st = opes_address_literal_check(g, n, &kind);
        guarded_free(g);
        CHECK_ST(st, v[i].ok ? OPES_OK : OPES_EBAD_ADDRESS_LITERAL);
        if (v[i].ok)
            CHECK_EQ(kind, OPES_DOMAIN_GENERAL);
        if ((st == OPES_OK) != v[i].ok)
            fprintf(stderr, "    literal %s\n", v[i].lit);
    }
    CHECK_ST(opes_address_literal_check(NULL, 0, NULL), OPES_EBAD_ADDRESS_LITERAL);
    CHECK_ST(opes_address_literal_check(NULL, 3, NULL), OPES_EINVAL);
    CHECK_ST(P(NULL, FWD, 0, "<a@[x-tag:q]>"), OPES_OK);
    CHECK_EQ(R.dkind, OPES_DOMAIN_GENERAL);
}

/* ---- UTF-8 (RFC 6531 3.3) -------------------------------------------------------- */

static void test_utf8(void)
{
    opes_smtp_config *l8 = cfg_lenient(OPES_LENIENT_8BIT);
    /* U+7528 U+6237 @ U+4F8B U+5B50 . U+5E7F U+544A, in UTF-8 */
    const char *cjk =
        "<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a>";

    /* SMTPUTF8 in effect: UTF8-non-ascii in atext and sub-domain */
    CHECK_ST(P(NULL, REV, 1, cjk), OPES_OK);
    CHECK_EQ(R.flags, OPES_PATH_F_UTF8);
    CHECK_EQ(R.notes, 0);
    CHECK_EQ(R.dkind, OPES_DOMAIN_NAME);
    CHECK_EQ(strlen(R.local), 6);
    /* ... and in qtextSMTP, not in a quoted-pair */
    CHECK_ST(P(NULL, REV, 1, "<\"\xc3\xa9 x\"@b>"), OPES_OK);
    CHECK_EQ(R.flags, OPES_PATH_F_UTF8 | OPES_PATH_F_QUOTED);
    CHECK_ST(P(NULL, REV, 1, "<\"\\\xc3\xa9\"@b>"), OPES_EBAD_LOCAL_PART);
    CHECK_EQ(R.used, 3);
    /* U-label with LDH: no leading or trailing hyphen still */
    CHECK_ST(P(NULL, REV, 1, "<a@b\xc3\xbc-cher.de>"), OPES_OK);
    CHECK_ST(P(NULL, REV, 1, "<a@\xc3\xbc-.de>"), OPES_EBAD_DOMAIN);
    CHECK_EQ(R.used, 5);
    /* malformed UTF-8: always refused, with the offset */
    CHECK_ST(P(NULL, REV, 1, "<ab\xc3@b>"), OPES_EBAD_UTF8);
    CHECK_EQ(R.used, 3);
    CHECK_ST(P(NULL, REV, 1, "<a@b\xff>"), OPES_EBAD_UTF8);
    CHECK_EQ(R.used, 4);
    CHECK_ST(P(NULL, REV, 1, "<a@b\xed\xa0\x80>"), OPES_EBAD_UTF8);     /* surrogate */
    CHECK_ST(P(NULL, REV, 1, "<a\xc0\xae@b>"), OPES_EBAD_UTF8);         /* overlong */
    CHECK_ST(P(NULL, REV, 1, "<a\xf4\x90\x80\x80@b>"), OPES_EBAD_UTF8); /* > U+10FFFF */
    CHECK_ST(P(NULL, REV, 1, "<a@b\xe4\xbe"), OPES_EBAD_UTF8);          /* truncated at the end */
    CHECK_EQ(R.used, 4);
    CHECK_ST(P(l8, REV, 1, "<ab\xc3@b>"), OPES_EBAD_UTF8);
    /* 8-bit in an address literal is never allowed (dcontent is ASCII) */
    CHECK_ST(P(NULL, REV, 1, "<a@[x:\xc3\xa9]>"), OPES_EBAD_ADDRESS_LITERAL);

    /* no SMTPUTF8: strict refuses (RFC 5321 2.4, RFC 6531 3.2) */
    CHECK_ST(P(NULL, REV, 0, cjk), OPES_EBAD_UTF8);
    CHECK_EQ(R.used, 1);
    CHECK_ST(P(NULL, REV, 0, "<a@b\xc3\xa9>"), OPES_EBAD_UTF8);
    CHECK_EQ(R.used, 4);
    /* lenient 8-bit: accepted, noted, still validated */
    CHECK_ST(P(l8, REV, 0, cjk), OPES_OK);
    CHECK_EQ(R.flags, OPES_PATH_F_UTF8);
    CHECK_EQ(R.notes, OPES_NOTE_8BIT);
    CHECK_ST(P(l8, FWD, 0, "<a@b\xc3>"), OPES_EBAD_UTF8);
    CHECK_EQ(R.used, 4);
    /* plain ASCII under the same config: no note */
    CHECK_ST(P(l8, FWD, 0, "<a@b>"), OPES_OK);
    CHECK_EQ(R.notes, 0);
    CHECK_EQ(R.flags, 0);
    opes_smtp_config_free(l8);
}

/* ---- limits (RFC 5321 4.5.3.1.1-3) ---------------------------------------------- */

/* "<" + local(nl) + "@" + domain(nd) + ">"; the domain is labels of 63 "d"
 * separated by dots, shortened to exactly nd octets. */
static char *make_path(size_t nl, size_t nd)
{
    char *s = malloc(nl + nd + 4);
    size_t i = 0;
    s[i++] = '<';
    memset(s + i, 'l', nl);
    i += nl;
    s[i++] = '@';
    for (size_t k = 0; k < nd; k++)
        s[i + k] = (k % 64 == 63 && k + 1 < nd) ? '.' : 'd';
    i += nd;
    s[i++] = '>';
    s[i] = '\0';
    return s;
}

static void test_limits(void)
{
    opes_smtp_config *lg = cfg_lenient(OPES_LENIENT_LONG_ADDRESS);
    char *s;

    /* local-part: 64 octets */
    s = make_path(64, 10);
    CHECK_ST(P(NULL, REV, 0, s), OPES_OK);
    CHECK_EQ(R.flags, 0);
    free(s);
    s = make_path(65, 10);
    CHECK_ST(P(NULL, REV, 0, s), OPES_ELOCAL_PART_TOO_LONG);
    CHECK_EQ(R.used, 65); /* the 65th octet of the local-part */
    CHECK_ST(P(lg, REV, 0, s), OPES_OK);
    CHECK_EQ(R.flags, OPES_PATH_F_LONG);
    CHECK_EQ(R.notes, OPES_NOTE_LONG_ADDRESS);
    free(s);
    /* a real-world SRS local-part over 64 */
    {
        const char *srs = "<SRS0=HHH=TT=example.org=a-very-long-user-name-for-the-test-of-"
                          "srs@forwarder.example>";
        CHECK_ST(P(NULL, REV, 0, srs), OPES_ELOCAL_PART_TOO_LONG);
        CHECK_ST(P(lg, REV, 0, srs), OPES_OK);
        CHECK_EQ(R.notes, OPES_NOTE_LONG_ADDRESS);
    }
    /* a quoted local-part counts with its quotes */
    {
        char q[80];
        q[0] = '<';
        q[1] = '"';
        memset(q + 2, 'q', 62);
        memcpy(q + 64, "\"@x>", 5);
        CHECK_ST(P(NULL, REV, 0, q), OPES_OK); /* 64 with the quotes */
        memset(q + 2, 'q', 63);
        memcpy(q + 65, "\"@x>", 5);
        CHECK_ST(P(NULL, REV, 0, q), OPES_ELOCAL_PART_TOO_LONG);
    }
    /* domain: 255 octets (path 1+1+1+255+1 = 259 > 256, so raise the path
     * limit to see the domain limit alone) */
    {
        opes_smtp_config *c = cfg_lenient(0);
        CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_PATH, 1000), OPES_OK);
        s = make_path(1, 255);
        CHECK_ST(P(c, REV, 0, s), OPES_OK);
        CHECK_EQ(R.flags, 0);
        free(s);
        s = make_path(1, 256);
        CHECK_ST(P(c, REV, 0, s), OPES_EDOMAIN_TOO_LONG);
        CHECK_EQ(R.used, 3 + 255);
        CHECK_ST(P(lg, REV, 0, s), OPES_OK);
        CHECK_EQ(R.flags, OPES_PATH_F_LONG);
        free(s);
        opes_smtp_config_free(c);
    }
    /* path: 256 octets including the punctuation */
    s = make_path(60, 256 - 63);
    CHECK_EQ(strlen(s), 256);
    CHECK_ST(P(NULL, REV, 0, s), OPES_OK);
    free(s);
    s = make_path(60, 257 - 63);
    CHECK_ST(P(NULL, REV, 0, s), OPES_EPATH_TOO_LONG);
    CHECK_EQ(R.used, 256);
    CHECK_ST(P(lg, REV, 0, s), OPES_OK);
    CHECK_EQ(R.flags, OPES_PATH_F_LONG);
    CHECK_EQ(R.notes, OPES_NOTE_LONG_ADDRESS);
    free(s);
    /* a source route counts towards the path */
    {
        char r[300];
        size_t i = 0;
        memcpy(r, "<@", 2);
        i = 2;
        memset(r + i, 'r', 200);
        i += 200;
        memcpy(r + i, ":u@", 3);
        i += 3;
        memset(r + i, 'd', 50);
        i += 50;
        r[i++] = '>';
        r[i] = '\0';
        CHECK_EQ(i, 256);
        CHECK_ST(P(NULL, FWD, 0, r), OPES_OK);
        memcpy(r + i - 1, "d>", 3);
        CHECK_ST(P(NULL, FWD, 0, r), OPES_EPATH_TOO_LONG);
    }
    /* configured limits are honoured, exactly at and one over */
    {
        opes_smtp_config *c = cfg_lenient(0);
        CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_LOCAL_PART, 3), OPES_OK);
        CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_DOMAIN, 5), OPES_OK);
        CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_PATH, 12), OPES_OK);
        CHECK_ST(P(c, REV, 0, "<abc@de.fg>"), OPES_OK);
        CHECK_ST(P(c, REV, 0, "<abcd@de.f>"), OPES_ELOCAL_PART_TOO_LONG);
        CHECK_EQ(R.used, 4);
        CHECK_ST(P(c, REV, 0, "<ab@de.fgh>"), OPES_EDOMAIN_TOO_LONG);
        CHECK_EQ(R.used, 9);
        CHECK_ST(P(c, REV, 0, "<ab@[1.2.3.4]>"), OPES_EDOMAIN_TOO_LONG);
        CHECK_ST(P(c, FWD, 0, "<@a.b:abc@de.fg>"), OPES_EPATH_TOO_LONG);
        CHECK_EQ(R.used, 12);
        CHECK_ST(P(c, FWD, 0, "<@a:ab@d.fg>"), OPES_OK); /* 12 */
        opes_smtp_config_free(c);
    }
    opes_smtp_config_free(lg);
}

/* ---- lenient: no brackets -------------------------------------------------------- */

static void test_no_brackets(void)
{
    opes_smtp_config *nb = cfg_lenient(OPES_LENIENT_NO_BRACKETS);

    CHECK_ST(P(NULL, REV, 0, "user@example.com"), OPES_EBAD_PATH);
    CHECK_EQ(R.used, 0);
    CHECK_ST(P(nb, REV, 0, "user@example.com"), OPES_OK);
    CHECK_EQ(R.used, 16);
    CHECK_EQ(R.flags, OPES_PATH_F_NO_BRACKETS);
    CHECK_EQ(R.notes, OPES_NOTE_NO_BRACKETS);
    CHECK(strcmp(R.mailbox, "user@example.com") == 0);
    CHECK_ST(P(nb, REV, 0, "user@example.com SIZE=100"), OPES_OK);
    CHECK_EQ(R.used, 16);
    CHECK_ST(P(nb, REV, 0, "\"a b\"@example.com SIZE=100"), OPES_OK);
    CHECK_EQ(R.used, 17);
    CHECK_ST(P(nb, FWD, 0, "postmaster"), OPES_OK);
    CHECK_EQ(R.kind, OPES_PATH_POSTMASTER);
    CHECK_EQ(R.notes, OPES_NOTE_POSTMASTER | OPES_NOTE_NO_BRACKETS);
    CHECK_ST(P(nb, REV, 0, "postmaster"), OPES_EBAD_PATH);
    CHECK_ST(P(nb, REV, 0, "user@example.com>"), OPES_EBAD_DOMAIN);
    CHECK_EQ(R.used, 16);
    CHECK_ST(P(nb, REV, 0, "user@example.com\r\n"), OPES_EBAD_CHAR);
    CHECK_ST(P(nb, REV, 0, ""), OPES_EBAD_PATH);
    CHECK_ST(P(nb, REV, 0, " user@example.com"), OPES_EBAD_CHAR);
    CHECK_EQ(R.used, 0);
    /* brackets still work and are not noted */
    CHECK_ST(P(nb, REV, 0, "<user@example.com>"), OPES_OK);
    CHECK_EQ(R.notes, 0);
    CHECK_ST(P(nb, REV, 0, "<>"), OPES_OK);
    opes_smtp_config_free(nb);
}

/* ---- bytes that never belong in a path ------------------------------------------- */

static void test_bad_bytes(void)
{
    static const struct {
        const char *in;
        size_t n;
        size_t at;
    } v[] = {
        {"<a\r\n@b>", 7, 2},   {"<a@b\r\n>", 7, 4},   {"<a\0@b>", 6, 2},   {"<a@b\0>", 6, 4},
        {"<a b@c>", 7, 2},     {"<a@b c>", 7, 4},     {"<a\t@b>", 6, 2},   {"<a\x7f@b>", 6, 2},
        {"<\"a\0\"@b>", 8, 3}, {"<\"a\n\"@b>", 8, 3}, {"<a\x1b@b>", 6, 2}, {"\r\n", 2, 0},
        {" <a@b>", 6, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        opes_path p;
        size_t used = 99;
        CHECK_ST(parse_n(NULL, REV, 1, v[i].in, v[i].n, &p, &used, NULL), OPES_EBAD_CHAR);
        CHECK_EQ(used, v[i].at);
        /* on error the result is empty */
        CHECK_EQ(p.mailbox.len, 0);
        CHECK_EQ(p.domain.len, 0);
    }
    /* empty input, argument checks */
    {
        opes_path p;
        size_t used = 9;
        unsigned notes = 9;
        CHECK_ST(opes_path_parse(NULL, REV, 0, NULL, 0, &p, &used, &notes), OPES_EBAD_PATH);
        CHECK_EQ(used, 0);
        CHECK_EQ(notes, 0);
        CHECK_ST(opes_path_parse(NULL, REV, 0, NULL, 1, &p, &used, NULL), OPES_EINVAL);
        CHECK_ST(opes_path_parse(NULL, 2, 0, "<>", 2, &p, &used, NULL), OPES_EINVAL);
        CHECK_ST(opes_path_parse(NULL, -1, 0, "<>", 2, &p, &used, NULL), OPES_EINVAL);
        CHECK_ST(opes_path_parse(NULL, REV, 0, "<>", 2, NULL, &used, NULL), OPES_EINVAL);
        CHECK_ST(opes_path_parse(NULL, REV, 0, "<>", 2, &p, NULL, NULL), OPES_EINVAL);
    }
    /* every prefix of a valid path is an error whose offset is within it */
    {
        const char *full = "<@r.example:\"a b\"@[IPv6:2001:db8::1.2.3.4]>";
        size_t n = strlen(full);
        for (size_t k = 0; k < n; k++) {
            opes_path p;
            size_t used = 999;
            opes_status st = parse_n(NULL, FWD, 0, full, k, &p, &used, NULL);
            CHECK(st != OPES_OK);
            CHECK(used <= k);
        }
        opes_path p;
        size_t used;
        CHECK_ST(parse_n(NULL, FWD, 0, full, n, &p, &used, NULL), OPES_OK);
        CHECK_EQ(used, n);
    }
}

/* ---- opes_mailbox_parse ------------------------------------------------------------ */

static opes_status MB(const opes_smtp_config *cfg, int utf8, const char *s, opes_path *p)
{
    size_t n = strlen(s);
    const char *g = n ? guarded_copy(s, n) : NULL;
    unsigned notes;
    opes_status st = opes_mailbox_parse(cfg, utf8, g, n, p, &notes);
    R.notes = notes;
    if (g)
        guarded_free(g);
    return st;
}

static void test_mailbox(void)
{
    opes_path p;
    opes_smtp_config *nb = cfg_lenient(OPES_LENIENT_ALL);

    /* RFC 3461 10.1: "ORCPT=rfc822;Carol@Ivory.EDU" carries a mailbox */
    CHECK_ST(MB(NULL, 0, "Carol@Ivory.EDU", &p), OPES_OK);
    CHECK_EQ(p.kind, OPES_PATH_MAILBOX);
    CHECK_EQ(p.domain_kind, OPES_DOMAIN_NAME);
    CHECK_ST(MB(NULL, 0, "\"a b\"@[IPv6:::1]", &p), OPES_OK);
    CHECK_EQ(p.flags, OPES_PATH_F_QUOTED);
    CHECK_EQ(p.domain_kind, OPES_DOMAIN_IPV6);
    CHECK_ST(MB(NULL, 0, "a@b ", &p), OPES_EBAD_CHAR);
    CHECK_ST(MB(NULL, 0, "a@b>", &p), OPES_EBAD_DOMAIN);
    CHECK_ST(MB(NULL, 0, "a@[1.2.3.4]x", &p), OPES_EBAD_PATH);
    CHECK_ST(MB(NULL, 0, "<a@b>", &p), OPES_EBAD_LOCAL_PART);
    CHECK_ST(MB(NULL, 0, "Postmaster", &p), OPES_EBAD_PATH);
    CHECK_ST(MB(NULL, 0, "", &p), OPES_EBAD_LOCAL_PART);
    CHECK_ST(MB(NULL, 0, "@a:b@c", &p), OPES_EBAD_LOCAL_PART);
    CHECK_ST(MB(NULL, 0, "a@b.", &p), OPES_EBAD_DOMAIN);
    CHECK_ST(MB(NULL, 0, "\xc3\xa9@b", &p), OPES_EBAD_UTF8);
    CHECK_ST(MB(NULL, 1, "\xc3\xa9@b", &p), OPES_OK);
    CHECK_EQ(p.flags, OPES_PATH_F_UTF8);
    CHECK_ST(MB(nb, 0, "\xc3\xa9@b", &p), OPES_OK);
    CHECK_EQ(R.notes, OPES_NOTE_8BIT);
    /* no brackets leniency does not make "<...>" a mailbox */
    CHECK_ST(MB(nb, 0, "<a@b>", &p), OPES_EBAD_LOCAL_PART);
    CHECK_ST(opes_mailbox_parse(NULL, 0, NULL, 1, &p, NULL), OPES_EINVAL);
    CHECK_ST(opes_mailbox_parse(NULL, 0, "a@b", 3, NULL, NULL), OPES_EINVAL);
    /* limits apply to the parts */
    {
        char *s = make_path(65, 3);
        s[strlen(s) - 1] = '\0';
        CHECK_ST(MB(NULL, 0, s + 1, &p), OPES_ELOCAL_PART_TOO_LONG);
        CHECK_ST(MB(nb, 0, s + 1, &p), OPES_OK);
        CHECK_EQ(p.flags, OPES_PATH_F_LONG);
        free(s);
    }
    opes_smtp_config_free(nb);
}

/* ---- opes_path_build, opes_path_unquote and round trips --------------------------- */

static opes_status B(const char *l, size_t ln, const char *d, size_t dn, char *out, size_t cap,
                     size_t *n)
{
    const char *gl = ln ? guarded_copy(l, ln) : NULL;
    const char *gd = dn ? guarded_copy(d, dn) : NULL;
    opes_status st = opes_path_build(out, cap, n, gl, ln, gd, dn);
    if (gl)
        guarded_free(gl);
    if (gd)
        guarded_free(gd);
    return st;
}

#define BS(l, d, out, n) B((l), strlen(l), (d), strlen(d), (out), sizeof(out), (n))

static void test_build(void)
{
    char out[600];
    size_t n;

    CHECK_ST(BS("Smith", "bar.com", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<Smith@bar.com>", 15);
    /* RFC 4954 5.1's <e=mc2@example.com>: "=" is atext */
    CHECK_ST(BS("e=mc2", "example.com", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<e=mc2@example.com>", 19);
    /* not a Dot-string: quoted, with '"' and '\' as quoted-pairs */
    CHECK_ST(BS("a b", "x", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<\"a b\"@x>", 9);
    CHECK_ST(BS("a\"b\\c", "x", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<\"a\\\"b\\\\c\"@x>", 13);
    CHECK_ST(BS(".a", "x", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<\".a\"@x>", 8);
    CHECK_ST(BS("a..b", "x", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<\"a..b\"@x>", 10);
    CHECK_ST(BS("a@b", "x", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<\"a@b\"@x>", 9);
    CHECK_ST(BS("", "x", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<\"\"@x>", 6);
    CHECK_ST(BS("\xc3\xa9", "\xc3\xa9.example", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<\xc3\xa9@\xc3\xa9.example>", 15);
    /* null path and <Postmaster> */
    CHECK_ST(opes_path_build(out, sizeof out, &n, NULL, 0, NULL, 0), OPES_OK);
    CHECK_MEM(out, n, "<>", 2);
    CHECK_ST(BS("Postmaster", "", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<Postmaster>", 12);
    CHECK_ST(BS("postmaster", "", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<postmaster>", 12);
    CHECK_ST(BS("someone", "", out, &n), OPES_EBAD_DOMAIN);
    /* address literals */
    CHECK_ST(BS("a", "[192.0.2.1]", out, &n), OPES_OK);
    CHECK_MEM(out, n, "<a@[192.0.2.1]>", 15);
    CHECK_ST(BS("a", "[IPv6:::1]", out, &n), OPES_OK);
    CHECK_ST(BS("a", "[300.0.2.1]", out, &n), OPES_EBAD_DOMAIN);
    CHECK_ST(BS("a", "[1.2.3.4]x", out, &n), OPES_EBAD_DOMAIN);
    /* bad domains */
    CHECK_ST(BS("a", "b.c.", out, &n), OPES_EBAD_DOMAIN);
    CHECK_ST(BS("a", "-b", out, &n), OPES_EBAD_DOMAIN);
    CHECK_ST(BS("a", "b c", out, &n), OPES_EBAD_DOMAIN);
    CHECK_ST(BS("a", "b>c", out, &n), OPES_EBAD_DOMAIN);
    CHECK_ST(BS("a", "b\xc3", out, &n), OPES_EBAD_UTF8);
    /* injection: CR, LF, NUL anywhere */
    CHECK_ST(BS("a\r\nRSET", "x", out, &n), OPES_EINJECT);
    CHECK_EQ(n, 0);
    CHECK_ST(BS("a", "x\r\nRSET", out, &n), OPES_EINJECT);
    CHECK_ST(BS("a\n", "x", out, &n), OPES_EINJECT);
    CHECK_ST(B("a\0b", 3, "x", 1, out, sizeof out, &n), OPES_EINJECT);
    CHECK_ST(B("ab", 2, "x\0", 2, out, sizeof out, &n), OPES_EINJECT);
    CHECK_ST(BS("Postmaster\r", "", out, &n), OPES_EINJECT);
    /* other controls cannot be quoted */
    CHECK_ST(BS("a\tb", "x", out, &n), OPES_EBAD_LOCAL_PART);
    CHECK_ST(BS("a\x7f", "x", out, &n), OPES_EBAD_LOCAL_PART);
    CHECK_ST(BS("a\xc3", "x", out, &n), OPES_EBAD_UTF8);
    /* builder convention */
    CHECK_ST(opes_path_build(NULL, 0, &n, "Smith", 5, "bar.com", 7), OPES_ENOSPC);
    CHECK_EQ(n, 15);
    CHECK_ST(opes_path_build(out, 14, &n, "Smith", 5, "bar.com", 7), OPES_ENOSPC);
    CHECK_EQ(n, 15);
    CHECK_ST(opes_path_build(out, 15, &n, "Smith", 5, "bar.com", 7), OPES_OK);
    CHECK_EQ(n, 15);
    CHECK_ST(opes_path_build(NULL, 0, &n, NULL, 0, NULL, 0), OPES_ENOSPC);
    CHECK_EQ(n, 2);
    CHECK_ST(opes_path_build(NULL, 5, &n, "a", 1, "b", 1), OPES_EINVAL);
    CHECK_ST(opes_path_build(out, 5, NULL, "a", 1, "b", 1), OPES_EINVAL);
    CHECK_ST(opes_path_build(out, 5, &n, NULL, 1, "b", 1), OPES_EINVAL);
    CHECK_ST(opes_path_build(out, 5, &n, "a", 1, NULL, 1), OPES_EINVAL);
}

static opes_status uq(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
    const char *g = len ? guarded_copy(s, len) : NULL;
    opes_status st = opes_path_unquote(out, cap, n, g, len);
    if (g)
        guarded_free(g);
    return st;
}

static void test_unquote(void)
{
    char out[64];
    size_t n;

    CHECK_ST(uq(out, sizeof out, &n, "\"a\\\"b\\\\c d\"", 11), OPES_OK);
    CHECK_MEM(out, n, "a\"b\\c d", 7);
    CHECK_ST(uq(out, sizeof out, &n, "Admin.MRC", 9), OPES_OK);
    CHECK_MEM(out, n, "Admin.MRC", 9);
    CHECK_ST(uq(out, sizeof out, &n, "\"\"", 2), OPES_OK);
    CHECK_EQ(n, 0);
    CHECK_ST(uq(out, sizeof out, &n, "", 0), OPES_OK);
    CHECK_EQ(n, 0);
    CHECK_ST(uq(out, sizeof out, &n, "\"", 1), OPES_EBAD_LOCAL_PART);
    CHECK_ST(uq(out, sizeof out, &n, "\"a\\\"", 4), OPES_EBAD_LOCAL_PART);
    CHECK_ST(uq(out, sizeof out, &n, "\"a\"b", 4), OPES_EBAD_LOCAL_PART);
    CHECK_ST(uq(out, sizeof out, &n, "\"a\"\"", 4), OPES_EBAD_LOCAL_PART);
    CHECK_ST(uq(NULL, 0, &n, "\"ab\"", 4), OPES_ENOSPC);
    CHECK_EQ(n, 2);
    CHECK_ST(opes_path_unquote(NULL, 0, &n, NULL, 1), OPES_EINVAL);
}

static void test_round_trip(void)
{
    static const struct {
        const char *local;
        const char *domain;
    } v[] = {
        {"Smith", "bar.com"},
        {"e=mc2", "example.com"},
        {"john+", "example.org"},
        {"a b", "x.example"},
        {"\"quoted\"", "x"},
        {"back\\slash", "x"},
        {"", "example.com"},
        {".lead", "x"},
        {"trail.", "x"},
        {"a..b", "x"},
        {"(comment)", "x"},
        {"with@at", "x"},
        {" ", "x"},
        {"~!#$%&'*+-/=?^_`{|}", "x"},
        {"\xe7\x94\xa8\xe6\x88\xb7", "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a"},
        {"\xc3\xa9 \xc3\xa9", "b"},
        {"a", "[192.0.2.1]"},
        {"a", "[IPv6:2001:db8::1]"},
        {"a", "[IPv6:::ffff:1.2.3.4]"},
        {"a", "[x-tag:q]"},
        {"Postmaster", "example.com"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[256], un[256];
        size_t n, un_n, used;
        opes_path p;
        size_t ll = strlen(v[i].local), dl = strlen(v[i].domain);
        CHECK_ST(BS(v[i].local, v[i].domain, out, &n), OPES_OK);
        const char *g = guarded_copy(out, n);
        for (int mode = 0; mode <= 1; mode++) {
            CHECK_ST(opes_path_parse(NULL, mode, 1, g, n, &p, &used, NULL), OPES_OK);
            CHECK_EQ(used, n);
            CHECK_EQ(p.kind, OPES_PATH_MAILBOX);
            CHECK_MEM(p.domain.ptr, p.domain.len, v[i].domain, dl);
            CHECK_ST(opes_path_unquote(un, sizeof un, &un_n, p.local_part.ptr, p.local_part.len),
                     OPES_OK);
            CHECK_MEM(un, un_n, v[i].local, ll);
        }
        guarded_free(g);
    }
    /* <> and <Postmaster> round trip too */
    {
        char out[32];
        size_t n, used;
        opes_path p;
        CHECK_ST(BS("Postmaster", "", out, &n), OPES_OK);
        CHECK_ST(opes_path_parse(NULL, FWD, 0, out, n, &p, &used, NULL), OPES_OK);
        CHECK_EQ(p.kind, OPES_PATH_POSTMASTER);
        CHECK_ST(BS("", "", out, &n), OPES_OK);
        CHECK_ST(opes_path_parse(NULL, REV, 0, out, n, &p, &used, NULL), OPES_OK);
        CHECK_EQ(p.kind, OPES_PATH_NULL);
    }
}

int main(void)
{
    test_rfc_examples();
    test_postmaster();
    test_routes();
    test_local_part();
    test_domain();
    test_ipv4();
    test_ipv6();
    test_general_literal();
    test_utf8();
    test_limits();
    test_no_brackets();
    test_bad_bytes();
    test_mailbox();
    test_build();
    test_unquote();
    test_round_trip();
    return TEST_END();
}
