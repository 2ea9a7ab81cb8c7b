/* OPES bypass requests: the XOPES-BYPASS value codec and registration,
 * the OPES-Bypass field, the decision and the relay rules. Expectations
 * come from docs/opes-smtp.md (quoted at each test: sections 2, 3.1, 3.4,
 * 7, 8), RFC 3897 4 and RFC 4902 3.2 (via shared/research/rfc-notes.md
 * 1.1, 1.4), RFC 3461 4 (xtext) and RFC 5321 4.1.1.11 (555); offsets are
 * counted by hand. */
#include "harness.h"

#include <stdlib.h>

#define S(lit)                                                                                     \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }

static opes_str str_of(const char *s)
{
    opes_str v;
    v.ptr = s;
    v.len = strlen(s);
    return v;
}

/* ---- the value codec (8.1) ------------------------------------------------- */

struct items {
    size_t n;
    char buf[8][OPES_BYPASS_MAX_VALUE];
    size_t len[8];
    int star[8];
    opes_status st; /* the status that ended the walk */
    size_t err;
};

/* Walk a whole value (copied to a guarded page) with opes_bypass_param_next. */
static void walk(struct items *it, const char *v, size_t n, unsigned flags)
{
    const char *g = n ? guarded_copy(v, n) : "";
    size_t pos = 0;
    memset(it, 0, sizeof *it);
    it->err = 99999;
    for (;;) {
        size_t before = pos;
        char *dst = it->n < 8 ? it->buf[it->n] : it->buf[7];
        size_t il = 0;
        int star = -1;
        it->st = opes_bypass_param_next(g, n, flags, &pos, dst, OPES_BYPASS_MAX_VALUE, &il, &star,
                                        &it->err);
        if (it->st != OPES_OK) {
            CHECK_EQ(pos, before); /* an error or the end leaves pos */
            break;
        }
        CHECK(pos > before && pos <= n);
        if (it->n < 8) {
            it->len[it->n] = il;
            it->star[it->n] = star;
        }
        it->n++;
    }
    if (n)
        guarded_free(g);
}

static void test_value_decode(void)
{
    struct items it;

    /* docs/opes-smtp.md 8.1 example:
     * "MAIL FROM:<a@example.org> XOPES-BYPASS=http://opes.example.net/sys?site+3D7654"
     * ("=" is "+3D", as xtext requires) */
    static const char ex[] = "http://opes.example.net/sys?site+3D7654";
    walk(&it, ex, sizeof ex - 1, 0);
    CHECK_ST(it.st, OPES_ENOTFOUND);
    CHECK_EQ(it.n, 1);
    CHECK_MEM(it.buf[0], it.len[0], "http://opes.example.net/sys?site=7654", 37);
    CHECK_EQ(it.star[0], 0);

    /* 8.1: "A reader splits the value on the literal commas first and then
     * xtext-decodes each item; a "," inside a URI is written "+2C"." */
    static const char two[] = "*,http://a.example/x+2Cy,+2A";
    walk(&it, two, sizeof two - 1, 0);
    CHECK_ST(it.st, OPES_ENOTFOUND);
    CHECK_EQ(it.n, 3);
    CHECK_MEM(it.buf[0], it.len[0], "*", 1);
    CHECK_EQ(it.star[0], 1);
    CHECK_MEM(it.buf[1], it.len[1], "http://a.example/x,y", 20);
    CHECK_EQ(it.star[1], 0);
    CHECK_EQ(it.star[2], 1); /* "+2A" decodes to "*": the octets decide */

    /* bypass-item = 1*xitem: no empty value, no empty item */
    walk(&it, "", 0, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 0);
    walk(&it, "http://a.example/,,http://b.example/", 36, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.n, 1);
    CHECK_EQ(it.err, 18); /* the second comma */
    walk(&it, "http://a.example/,", 18, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 18); /* len: nothing after the trailing comma */
    walk(&it, ",http://a.example/", 18, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 0);

    /* RFC 3461 4: hexchar = "+" two upper-case hex digits; "=" is no xchar */
    walk(&it, "http://a.example/+2", 19, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 19);
    walk(&it, "http://a.example/?a=b", 21, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 19);
    walk(&it, "http://a.example/?a+3db", 23, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 21);
    walk(&it, "http://a.example/?a+3db", 23, OPES_LENIENT_XTEXT_CASE);
    CHECK_ST(it.st, OPES_ENOTFOUND);
    CHECK_MEM(it.buf[0], it.len[0], "http://a.example/?a=b", 21);

    /* the decoded item must be "*" or an absolute-URI (RFC 3986 4.3): the
     * offset is the encoded byte where the URI breaks */
    walk(&it, "http://a/+41+20", 15, 0); /* decodes to "http://a/A " */
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 12);
    walk(&it, "*,relative/path", 15, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.n, 1);
    CHECK_EQ(it.err, 2);
    walk(&it, "http://a.example/x+23frag", 25, 0); /* a fragment: not absolute */
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 18);
    walk(&it, "**", 2, 0);
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    walk(&it, "http://a/+00", 12, 0); /* a NUL octet is data the URI rejects */
    CHECK_ST(it.st, OPES_EBAD_BYPASS);
    CHECK_EQ(it.err, 9);

    /* ENOSPC: the size needed, pos unchanged */
    {
        char small[4];
        size_t pos = 0, il = 0;
        CHECK_ST(opes_bypass_param_next(ex, sizeof ex - 1, 0, &pos, small, sizeof small, &il, NULL,
                                        NULL),
                 OPES_ENOSPC);
        CHECK_EQ(il, 37);
        CHECK_EQ(pos, 0);
        CHECK_ST(opes_bypass_param_next(ex, sizeof ex - 1, 0, &pos, NULL, 0, &il, NULL, NULL),
                 OPES_ENOSPC);
        CHECK_EQ(il, 37);
        pos = 99;
        CHECK_ST(opes_bypass_param_next(ex, sizeof ex - 1, 0, &pos, small, sizeof small, &il, NULL,
                                        NULL),
                 OPES_EINVAL);
        CHECK_ST(opes_bypass_param_next(ex, sizeof ex - 1, 0, NULL, small, sizeof small, &il, NULL,
                                        NULL),
                 OPES_EINVAL);
    }
    {
        size_t count = 0, err = 0;
        CHECK_ST(opes_bypass_param_check(two, sizeof two - 1, 0, &count, &err), OPES_OK);
        CHECK_EQ(count, 3);
        CHECK_ST(opes_bypass_param_check("a", 1, 0, &count, &err), OPES_EBAD_BYPASS);
        CHECK_EQ(count, 0);
    }
}

/* 8.1: "The value is at most 500 octets." */
static void test_value_limit(void)
{
    char v[502], out[600];
    struct items it;
    size_t n = 0, err = 0;
    opes_str id;

    memcpy(v, "http://a.example/", 17);
    memset(v + 17, 'x', sizeof v - 17);
    walk(&it, v, 500, 0);
    CHECK_ST(it.st, OPES_ENOTFOUND);
    CHECK_EQ(it.n, 1);
    CHECK_EQ(it.len[0], 500);
    walk(&it, v, 501, 0);
    CHECK_ST(it.st, OPES_EPARAM_TOO_LONG);
    CHECK_EQ(it.err, 500);
    CHECK_EQ(it.n, 0);
    CHECK_ST(opes_bypass_param_check(v, 501, 0, NULL, &err), OPES_EPARAM_TOO_LONG);

    /* the builder: 500 octets as sent, and one over */
    id.ptr = v;
    id.len = 500;
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &id, 1), OPES_OK);
    CHECK_EQ(n, 500);
    id.len = 501;
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &id, 1), OPES_EPARAM_TOO_LONG);
    /* the limit counts encoded octets: 499 with one "=" (3 as "+3D") is 501 */
    v[497] = '=';
    id.len = 499;
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &id, 1), OPES_EPARAM_TOO_LONG);
    id.len = 497;
    v[496] = '=';
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &id, 1), OPES_OK);
    CHECK_EQ(n, 499);
}

static void test_value_build(void)
{
    char out[256];
    size_t n = 99;
    struct items it;

    /* 8.1 example, the other way */
    opes_str one = S("http://opes.example.net/sys?site=7654");
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &one, 1), OPES_OK);
    CHECK_MEM(out, n, "http://opes.example.net/sys?site+3D7654", 39);

    /* "," as "+2C", "+" as "+2B" (8.1), "*" as itself */
    opes_str ids[3] = {S("*"), S("http://a.example/x,y"), S("http://b.example/a+b")};
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, ids, 3), OPES_OK);
    CHECK_MEM(out, n, "*,http://a.example/x+2Cy,http://b.example/a+2Bb", 47);
    /* and back */
    walk(&it, out, n, 0);
    CHECK_ST(it.st, OPES_ENOTFOUND);
    CHECK_EQ(it.n, 3);
    CHECK_MEM(it.buf[1], it.len[1], "http://a.example/x,y", 20);
    CHECK_MEM(it.buf[2], it.len[2], "http://b.example/a+b", 20);

    /* size query, ENOSPC */
    CHECK_ST(opes_bypass_param_build(NULL, 0, &n, ids, 3), OPES_ENOSPC);
    CHECK_EQ(n, 47);
    CHECK_ST(opes_bypass_param_build(out, 10, &n, ids, 3), OPES_ENOSPC);
    CHECK_EQ(n, 47);

    /* refusals */
    opes_str crlf = S("http://a.example/\r\nRCPT TO:<x@y>");
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &crlf, 1), OPES_EINJECT);
    opes_str rel = S("opes/sys");
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &rel, 1), OPES_EURI_NOT_ABSOLUTE);
    opes_str frag = S("http://a.example/#x");
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &frag, 1), OPES_EURI_NOT_ABSOLUTE);
    opes_str sp = S("http://a.example/ x");
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, &sp, 1), OPES_EBAD_URI);
    CHECK_ST(opes_bypass_param_build(out, sizeof out, &n, ids, 0), OPES_EINVAL);
    CHECK_ST(opes_bypass_param_build(out, sizeof out, NULL, ids, 1), OPES_EINVAL);
    CHECK_ST(opes_bypass_param_build(NULL, 5, &n, ids, 1), OPES_EINVAL);

    /* the parameter's name after the keyword (8.1: "<keyword>-BYPASS") */
    CHECK_ST(opes_bypass_param_name(out, sizeof out, &n, NULL), OPES_OK);
    CHECK_MEM(out, n, "XOPES-BYPASS", 12);
    CHECK_ST(opes_bypass_param_name(out, sizeof out, &n, "X-ACME-OPES"), OPES_OK);
    CHECK_MEM(out, n, "X-ACME-OPES-BYPASS", 18);
    CHECK_ST(opes_bypass_param_name(out, sizeof out, &n, "BAD KW"), OPES_EBAD_CHAR);
    CHECK_ST(opes_bypass_param_name(out, sizeof out, &n, ""), OPES_EBAD_CHAR);
}

static int has_sub(const char *p, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(p + i, lit, m) == 0)
            return 1;
    return 0;
}

/* ---- registration: 555 without the keyword, 501 on a bad value (8.1) ------ */

struct cmd_run {
    opes_command cmd;
    opes_status st;
};

/* The line is parsed from a guarded copy, kept until the next call so that
 * cmd's views stay valid (parse_line(NULL, NULL, NULL) releases it). */
static opes_status parse_line(const opes_smtp_config *c, const char *line, opes_command *cmd)
{
    static const char *g;
    size_t n, used = 0;
    opes_status st;
    if (g)
        guarded_free(g);
    g = NULL;
    if (!line)
        return OPES_OK;
    n = strlen(line);
    g = guarded_copy(line, n);
    st = opes_command_parse(c, g, n, cmd, &used);
    CHECK_EQ(used, n);
    return st;
}

static void test_registration(void)
{
    opes_smtp_config *c = NULL;
    opes_command cmd;
    opes_str v;
    static const char mail[] =
        "MAIL FROM:<a@example.org> XOPES-BYPASS=http://opes.example.net/sys?site+3D7654\r\n";

    CHECK_ST(opes_smtp_config_new(&c, NULL), OPES_OK);
    /* RFC 5321 4.1.1.11: a parameter the server does not recognise: 555;
     * docs/opes-smtp.md 8.1: "A server that did not offer the keyword
     * answers the parameter 555 5.5.4" — first with nothing registered */
    CHECK_ST(parse_line(c, mail, &cmd), OPES_EPARAM_UNKNOWN);
    CHECK_EQ(cmd.reply_code, 555);
    CHECK(cmd.enhanced && strcmp(cmd.enhanced, "5.5.4") == 0);
    CHECK_ST(parse_line(NULL, mail, &cmd), OPES_EPARAM_UNKNOWN);
    CHECK_EQ(cmd.reply_code, 555);

    /* registered, not offered: still 555 */
    CHECK_ST(opes_bypass_register(c, NULL), OPES_OK);
    CHECK_ST(opes_bypass_register(c, NULL), OPES_EEXIST);
    CHECK_ST(opes_bypass_register(c, "BAD KW"), OPES_EBAD_CHAR);
    CHECK_ST(opes_bypass_register(NULL, NULL), OPES_EINVAL);
    CHECK_ST(parse_line(c, mail, &cmd), OPES_EPARAM_UNKNOWN);
    CHECK_EQ(cmd.reply_code, 555);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_MAIL), 512);

    /* offered: accepted; the line limits grow by 514 (8.1) */
    CHECK_ST(opes_smtp_config_offer(c, "XOPES", 1, NULL), OPES_OK);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_MAIL), 512 + 514);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_RCPT), 512 + 514);
    CHECK_ST(parse_line(c, mail, &cmd), OPES_OK);
    CHECK_ST(opes_bypass_param_get(&cmd.params, NULL, &v), OPES_OK);
    CHECK_STR(v, "http://opes.example.net/sys?site+3D7654");
    CHECK_ST(opes_bypass_param_get(&cmd.params, "XFOO", &v), OPES_ENOTFOUND);
    CHECK_ST(parse_line(c, "RCPT TO:<b@example.net> xopes-bypass=*\r\n", &cmd), OPES_OK);
    CHECK_ST(opes_bypass_param_get(&cmd.params, "XOPES", &v), OPES_OK);
    CHECK_STR(v, "*");

    /* EHLO lists it */
    {
        char out[512];
        size_t n = 0;
        CHECK_ST(opes_ehlo_build(out, sizeof out, &n, c, "mx.example.net", 14, NULL, 0), OPES_OK);
        CHECK(has_sub(out, n, "250 XOPES\r\n"));
    }

    /* 8.1: "a malformed value is 501 5.5.4" */
    CHECK_ST(parse_line(c, "MAIL FROM:<a@example.org> XOPES-BYPASS=opes/sys\r\n", &cmd),
             OPES_EPARAM_VALUE);
    CHECK_EQ(cmd.reply_code, 501);
    CHECK(cmd.enhanced && strcmp(cmd.enhanced, "5.5.4") == 0);
    CHECK_EQ(cmd.error_offset, 39); /* the value's first byte: no scheme */
    CHECK_ST(parse_line(c, "RCPT TO:<b@example.net> XOPES-BYPASS=http://a.example/,\r\n", &cmd),
             OPES_EPARAM_VALUE);
    CHECK_EQ(cmd.reply_code, 501);
    CHECK_EQ(cmd.error_offset, 55); /* after the trailing comma */
    CHECK_ST(parse_line(c, "RCPT TO:<b@example.net> XOPES-BYPASS=http://a.example/+2c\r\n", &cmd),
             OPES_EPARAM_VALUE);
    CHECK_EQ(cmd.error_offset, 56); /* the lower-case hex digit */
    /* lenient xtext case follows the config */
    {
        opes_smtp_config *l = NULL;
        CHECK_ST(opes_smtp_config_new(&l, NULL), OPES_OK);
        CHECK_ST(opes_smtp_config_copy(l, c), OPES_OK);
        CHECK_ST(opes_smtp_config_set_lenient(l, OPES_LENIENT_XTEXT_CASE), OPES_OK);
        CHECK_ST(
            parse_line(l, "RCPT TO:<b@example.net> XOPES-BYPASS=http://a.example/+2c\r\n", &cmd),
            OPES_OK);
        opes_smtp_config_free(l);
    }
    /* "the parameter twice on one command is 501 5.5.4" */
    CHECK_ST(parse_line(c, "MAIL FROM:<a@example.org> XOPES-BYPASS=* XOPES-BYPASS=*\r\n", &cmd),
             OPES_EPARAM_DUPLICATE);
    CHECK_EQ(cmd.reply_code, 501);
    CHECK(cmd.enhanced && strcmp(cmd.enhanced, "5.5.4") == 0);
    /* no value: the registration requires one (501) */
    CHECK_ST(parse_line(c, "MAIL FROM:<a@example.org> XOPES-BYPASS\r\n", &cmd), OPES_EPARAM_VALUE);
    CHECK_EQ(cmd.reply_code, 501);

    /* 500 octets pass, 501 are OPES_EPARAM_TOO_LONG, 501 5.5.4; the line
     * itself fits the raised limit */
    {
        char line[700];
        size_t k = 0;
        static const char head[] = "MAIL FROM:<a@example.org> XOPES-BYPASS=http://a.example/";
        memcpy(line, head, sizeof head - 1);
        k = sizeof head - 1;
        memset(line + k, 'x', 500 - 17);
        k += 500 - 17;
        memcpy(line + k, "\r\n", 3);
        CHECK_ST(parse_line(c, line, &cmd), OPES_OK);
        memcpy(line + k, "y\r\n", 4);
        CHECK_ST(parse_line(c, line, &cmd), OPES_EPARAM_TOO_LONG);
        CHECK_EQ(cmd.reply_code, 501);
        CHECK(cmd.enhanced && strcmp(cmd.enhanced, "5.5.4") == 0);
        CHECK_EQ(cmd.error_offset, 39 + 500);
    }

    /* a configured keyword names the parameter (8.1), and its longer name
     * raises the limits more: " X-ACME-OPES-BYPASS=" is 20 octets, + 500 */
    CHECK_ST(opes_bypass_register(c, "X-ACME-OPES"), OPES_OK);
    CHECK_ST(parse_line(c, "MAIL FROM:<a@example.org> X-ACME-OPES-BYPASS=*\r\n", &cmd),
             OPES_EPARAM_UNKNOWN);
    CHECK_ST(opes_smtp_config_offer(c, "X-ACME-OPES", 1, NULL), OPES_OK);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_RCPT), 512 + 514 + 520);
    CHECK_ST(parse_line(c, "MAIL FROM:<a@example.org> X-ACME-OPES-BYPASS=*\r\n", &cmd), OPES_OK);
    CHECK_ST(opes_bypass_param_get(&cmd.params, "x-acme-opes", &v), OPES_OK);
    CHECK_STR(v, "*");
    CHECK_ST(opes_bypass_param_get(&cmd.params, NULL, &v), OPES_ENOTFOUND);
    CHECK_ST(parse_line(c, "MAIL FROM:<a@example.org> X-ACME-OPES-BYPASS=a,b\r\n", &cmd),
             OPES_EPARAM_VALUE);
    opes_smtp_config_free(c);
    parse_line(NULL, NULL, NULL);

    /* a hand-made list: a value-less parameter */
    {
        opes_params p;
        memset(&p, 0, sizeof p);
        p.count = 1;
        p.item[0].keyword = str_of("XOPES-BYPASS");
        CHECK_ST(opes_bypass_param_get(&p, NULL, &v), OPES_EPARAM_VALUE);
        CHECK_ST(opes_bypass_param_get(NULL, NULL, &v), OPES_EINVAL);
    }
}

/* ---- the OPES-Bypass field (3.4) ------------------------------------------ */

struct hitems {
    size_t n;
    opes_str item[8];
    int star[8];
    opes_status st;
    size_t err;
};

static void hwalk(struct hitems *h, const char *body, size_t n)
{
    const char *g = n ? guarded_copy(body, n) : "";
    size_t pos = 0;
    memset(h, 0, sizeof *h);
    h->err = 99999;
    for (;;) {
        opes_str it;
        int star = -1;
        size_t before = pos;
        h->st = opes_bypass_header_next(g, n, &pos, &it, &star, &h->err);
        if (h->st != OPES_OK) {
            CHECK_EQ(pos, before);
            break;
        }
        CHECK(pos > before && pos <= n);
        CHECK(it.ptr >= g && it.ptr + it.len <= g + n);
        if (h->n < 8) {
            /* offsets instead of pointers: g goes away */
            h->item[h->n].ptr = body + (it.ptr - g);
            h->item[h->n].len = it.len;
            h->star[h->n] = star;
        }
        h->n++;
    }
    if (n)
        guarded_free(g);
}
#define HWALK(h, lit) hwalk((h), (lit), sizeof(lit) - 1)

static void test_header_parse(void)
{
    struct hitems h;

    /* 3.4: OPES-Bypass = "OPES-Bypass:" [FWS] ( "*" / agent-ref *( [FWS]
     * "," [FWS] agent-ref ) ) [FWS] CRLF */
    HWALK(&h, " *");
    CHECK_ST(h.st, OPES_ENOTFOUND);
    CHECK_EQ(h.n, 1);
    CHECK_EQ(h.star[0], 1);
    CHECK_STR(h.item[0], "*");

    HWALK(&h, " http://scan.example.net/lang");
    CHECK_ST(h.st, OPES_ENOTFOUND);
    CHECK_EQ(h.n, 1);
    CHECK_STR(h.item[0], "http://scan.example.net/lang");
    CHECK_EQ(h.star[0], 0);

    /* 3.1: "<" ">" delimit a URI, inside them every URI character is data;
     * "http://a.example/x;v=2" is one URI; folds are FWS */
    HWALK(&h, " http://a.example/x;v=2 ,<http://b.example/y,z>,\r\n\thttp://c.example/ ");
    CHECK_ST(h.st, OPES_ENOTFOUND);
    CHECK_EQ(h.n, 3);
    CHECK_STR(h.item[0], "http://a.example/x;v=2");
    CHECK_STR(h.item[1], "http://b.example/y,z");
    CHECK_STR(h.item[2], "http://c.example/");

    /* a bare URI runs on through a "," not followed by WSP */
    HWALK(&h, "http://a.example/x,http://b.example/");
    CHECK_ST(h.st, OPES_ENOTFOUND);
    CHECK_EQ(h.n, 1);
    CHECK_STR(h.item[0], "http://a.example/x,http://b.example/");

    /* refusals */
    HWALK(&h, "");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.err, 0);
    HWALK(&h, "  ");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.err, 2);
    HWALK(&h, " *, http://a.example/"); /* "*" stands alone */
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.err, 2);
    HWALK(&h, " http://a.example/, *");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.n, 1);
    CHECK_EQ(h.err, 20);
    HWALK(&h, " http://a.example/x; mode=A"); /* the field has no parameters */
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.n, 1);
    CHECK_EQ(h.err, 19);
    HWALK(&h, " http://a.example/ http://b.example/"); /* a missing "," */
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.err, 19);
    HWALK(&h, " http://a.example/, ");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.err, 20);
    HWALK(&h, " <>");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    HWALK(&h, " <http://a.example/");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.err, 19);
    HWALK(&h, " opes/sys"); /* not an absolute-URI */
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    HWALK(&h, " <http://a.example/#f>");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.err, 19);                     /* the "#" */
    HWALK(&h, " http://a.example/\r\nX: y"); /* a line end that is no fold */
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    HWALK(&h, " http://a.example/\rx");
    CHECK_ST(h.st, OPES_EBAD_BYPASS);
    CHECK_EQ(h.n, 1);
    {
        /* 9: "984 octets as written (<> included): 998 - length of
         * OPES-System: - 1 separator" */
        char body[1000];
        CHECK_EQ(OPES_BYPASS_MAX_ID, 998 - 13 - 1);
        memcpy(body, "http://a.example/", 17);
        memset(body + 17, 'x', sizeof body - 17);
        hwalk(&h, body, 984);
        CHECK_ST(h.st, OPES_ENOTFOUND);
        CHECK_EQ(h.n, 1);
        hwalk(&h, body, 985);
        CHECK_ST(h.st, OPES_EURI_TOO_LONG);
        CHECK_EQ(h.err, 0);
        /* the "<>" count: 982 + 2 pass, 983 + 2 do not */
        body[0] = '<';
        memcpy(body + 1, "http://a.example/", 17);
        body[983] = '>';
        hwalk(&h, body, 984);
        CHECK_ST(h.st, OPES_ENOTFOUND);
        CHECK_EQ(h.item[0].len, 982);
        body[983] = 'x';
        body[984] = '>';
        hwalk(&h, body, 985);
        CHECK_ST(h.st, OPES_EURI_TOO_LONG);
    }
}

static void test_header_build(void)
{
    char out[4096];
    size_t n = 0;
    struct hitems h;
    opes_header_field f;
    size_t used;

    opes_str one[1] = {S("http://scan.example.net/lang")};
    CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, one, 1), OPES_OK);
    CHECK_MEM(out, n, "OPES-Bypass: http://scan.example.net/lang\r\n", 43);

    /* 3.1: the "<>" form for a URI holding "(", ")", "," or ";"; ", "
     * between entries; a spelling of an earlier item is left out */
    opes_str three[4] = {S("http://a.example/x;v=2"), S("http://b.example/(c)"),
                         S("HTTP://A.Example/x;v=2"), S("http://c.example/")};
    CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, three, 4), OPES_OK);
    CHECK_MEM(out, n,
              "OPES-Bypass: <http://a.example/x;v=2>, <http://b.example/(c)>,\r\n"
              " http://c.example/\r\n",
              84);
    /* parses back to the same items (RFC 5322 field, then the body) */
    CHECK_ST(opes_header_field_parse(out, n, 0, 1, &f, &used), OPES_OK);
    CHECK_EQ(used, n);
    hwalk(&h, f.raw.ptr, f.raw.len);
    CHECK_ST(h.st, OPES_ENOTFOUND);
    CHECK_EQ(h.n, 3);
    CHECK_STR(h.item[0], "http://a.example/x;v=2");
    CHECK_STR(h.item[1], "http://b.example/(c)");

    /* "*" names all: the field is "*" alone */
    opes_str star[2] = {S("http://a.example/"), S("*")};
    CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, star, 2), OPES_OK);
    CHECK_MEM(out, n, "OPES-Bypass: *\r\n", 16);

    /* folding after a comma at 78 columns (RFC 5322 2.1.1, 2.2.3) */
    opes_str many[4] = {S("http://scan.example.net/lang"), S("http://scan.example.net/spam"),
                        S("http://scan.example.net/translate"), S("http://opes.example.net/sys")};
    CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, many, 4), OPES_OK);
    CHECK_MEM(out, n,
              "OPES-Bypass: http://scan.example.net/lang, http://scan.example.net/spam,\r\n"
              " http://scan.example.net/translate, http://opes.example.net/sys\r\n",
              139);
    CHECK_ST(opes_header_field_parse(out, n, 0, 1, &f, &used), OPES_OK);
    CHECK_EQ(used, n);
    hwalk(&h, f.raw.ptr, f.raw.len);
    CHECK_EQ(h.n, 4);
    CHECK_STR(h.item[3], "http://opes.example.net/sys");

    /* an identifier of OPES_BYPASS_MAX_ID octets as written (982 and "<>"):
     * lines stay within 998 */
    {
        char id[OPES_BYPASS_MAX_ID];
        opes_str two[2];
        memcpy(id, "http://a.example/(", 18);
        memset(id + 18, 'x', sizeof id - 18);
        two[0] = str_of("http://b.example/");
        two[1].ptr = id;
        two[1].len = OPES_BYPASS_MAX_ID - 2;
        CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, two, 2), OPES_OK);
        CHECK_ST(opes_header_field_parse(out, n, 0, 1, &f, &used), OPES_OK);
        CHECK_EQ(used, n);
        two[0] = two[1];
        CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, two, 1), OPES_OK);
        CHECK_ST(opes_header_field_parse(out, n, 0, 1, &f, &used), OPES_OK);
        CHECK_EQ(used, n);
        hwalk(&h, f.raw.ptr, f.raw.len);
        CHECK_EQ(h.n, 1);
        CHECK_EQ(h.item[0].len, OPES_BYPASS_MAX_ID - 2);
        two[0].len = OPES_BYPASS_MAX_ID - 1;
        CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, two, 1), OPES_EURI_TOO_LONG);
    }

    /* size query and refusals */
    CHECK_ST(opes_bypass_header_build(NULL, 0, &n, one, 1), OPES_ENOSPC);
    CHECK_EQ(n, 43);
    opes_str inj = S("http://a.example/\r\nBcc: x@y");
    CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, &inj, 1), OPES_EINJECT);
    opes_str rel = S("scan/lang");
    CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, &rel, 1), OPES_EURI_NOT_ABSOLUTE);
    CHECK_ST(opes_bypass_header_build(out, sizeof out, &n, one, 0), OPES_EINVAL);
}

/* ---- the decision (7) ---------------------------------------------------- */

#define SYS "http://opes.example.net/sys"
#define PROC "http://mx1.example.net/opes"
enum { AV, LANG, POLICY, RBL, OTHER, NSVC };

/* One OPES system with an MTA processor running a virus scanner (not
 * bypassable: RFC 4902 3.2 "malware scanners should not be bypassed"), a
 * translator (RFC 4902 3.2: "good candidates for bypass requests, such as
 * language translation"), an RCPT-time policy check and a connect-time
 * blocklist; and a service of another system. */
static const opes_bypass_service svc[NSVC] = {
    {S("http://scan.example.net/av"), S(PROC), S(SYS), OPES_BYPASS_PHASE_MESSAGE, 0},
    {S("http://scan.example.net/lang"), S(PROC), S(SYS), OPES_BYPASS_PHASE_MESSAGE, 1},
    {S("http://scan.example.net/policy"), S(PROC), S(SYS), OPES_BYPASS_PHASE_RCPT, 1},
    {S("http://scan.example.net/rbl"), S(PROC), S(SYS), OPES_BYPASS_PHASE_CONNECT, 1},
    {S("http://filter.example.com/tr"), S("http://gw.example.com/"), S("http://example.com/opes"),
     OPES_BYPASS_PHASE_MESSAGE, 1},
};

static const opes_str rcpts[2] = {S("carol@example.net"), S("dave@example.net")};

static void input(opes_bypass_input *in)
{
    memset(in, 0, sizeof *in);
    in->version = OPES_BYPASS_INPUT_VERSION;
    in->services = svc;
    in->nservices = NSVC;
    in->recipients = rcpts;
    in->nrcpt = 2;
    in->sender = str_of("alice@example.org");
}

static opes_bypass_list list_of(const opes_str *items, size_t n)
{
    opes_bypass_list l;
    l.items = items;
    l.count = n;
    return l;
}

#define EXPECT_RES(res, dec, rsn, src)                                                             \
    do {                                                                                           \
        CHECK_EQ((res).decision, (dec));                                                           \
        CHECK_EQ((res).reason, (rsn));                                                             \
        CHECK_EQ((res).source, (src));                                                             \
    } while (0)

static void expect_words(const opes_bypass_result *r, const char *action, const char *bypass,
                         const char *by)
{
    const char *a = "x", *b = "x", *y = "x";
    CHECK_ST(opes_bypass_trace_words(r, &a, &b, &y), OPES_OK);
    CHECK(action ? a && strcmp(a, action) == 0 : a == NULL);
    CHECK(bypass ? b && strcmp(b, bypass) == 0 : b == NULL);
    CHECK(by ? y && strcmp(y, by) == 0 : y == NULL);
}

/* Run a decision for both recipients; res[r][s]. */
static opes_status decide(const opes_bypass_input *in, opes_bypass_result res[2][NSVC],
                          size_t groups[2], size_t *ngroups)
{
    memset(res, 0xA5, sizeof(opes_bypass_result) * 2 * NSVC);
    return opes_bypass_decide(in, &res[0][0], 2 * NSVC, groups, ngroups);
}

static void test_decide_header(void)
{
    opes_bypass_input in;
    opes_bypass_result res[2][NSVC];
    size_t g[2], ng = 0;

    /* no request: every service applies, one copy */
    input(&in);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    for (int s = 0; s < NSVC; s++)
        EXPECT_RES(res[0][s], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    expect_words(&res[0][AV], NULL, NULL, NULL);
    CHECK_EQ(ng, 1);
    CHECK_EQ(g[0], 0);
    CHECK_EQ(g[1], 0);

    /* bypass via the header: "OPES-Bypass: http://scan.example.net/lang",
     * read with the field parser */
    {
        static const char body[] = " http://scan.example.net/lang";
        opes_str item;
        size_t pos = 0;
        CHECK_ST(opes_bypass_header_next(body, sizeof body - 1, &pos, &item, NULL, NULL), OPES_OK);
        in.header = list_of(&item, 1);
        CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
        EXPECT_RES(res[0][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID,
                   OPES_BYPASS_SRC_HEADER);
        CHECK_EQ(res[0][LANG].match, OPES_BYPASS_M_ID);
        CHECK_EQ(res[0][LANG].item, 0);
        expect_words(&res[0][LANG], "bypassed", NULL, NULL);
        EXPECT_RES(res[1][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID,
                   OPES_BYPASS_SRC_HEADER);
        EXPECT_RES(res[0][AV], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
        EXPECT_RES(res[0][OTHER], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST,
                   OPES_BYPASS_SRC_NONE);
        CHECK_EQ(ng, 1); /* the header is the same for both: one copy */
    }

    /* a refused bypass of a non-bypassable service (7 item 5; RFC 4902
     * 3.2): the trace says bypass=refused */
    {
        opes_str item = S("http://scan.example.net/av");
        in.header = list_of(&item, 1);
        CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
        EXPECT_RES(res[0][AV], OPES_BYPASS_REFUSED, OPES_BYPASS_R_NOT_BYPASSABLE,
                   OPES_BYPASS_SRC_HEADER);
        CHECK_EQ(res[0][AV].match, OPES_BYPASS_M_ID);
        expect_words(&res[0][AV], NULL, "refused", NULL);
        EXPECT_RES(res[0][LANG], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    }

    /* a too-late header request on an RCPT-phase service (7 item 4; RFC
     * 4902 3.2: "Bypass request data added to the mail message cannot
     * bypass OPES services that operate on other SMTP dialog commands") */
    {
        opes_str item = S("http://scan.example.net/policy");
        in.header = list_of(&item, 1);
        CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
        EXPECT_RES(res[0][POLICY], OPES_BYPASS_REFUSED, OPES_BYPASS_R_TOO_LATE,
                   OPES_BYPASS_SRC_HEADER);
        expect_words(&res[0][POLICY], NULL, "too-late", NULL);
        EXPECT_RES(res[1][POLICY], OPES_BYPASS_REFUSED, OPES_BYPASS_R_TOO_LATE,
                   OPES_BYPASS_SRC_HEADER);
    }

    /* an unknown URI is a wildcard (RFC 3897 4.3: "MUST treat that URI as a
     * wildcard identifier"), but only among the services that may be
     * bypassed at all and that the request reaches */
    {
        opes_str item = S("http://unknown.example.org/whatever");
        in.header = list_of(&item, 1);
        CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
        EXPECT_RES(res[0][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_UNKNOWN, OPES_BYPASS_SRC_HEADER);
        CHECK_EQ(res[0][LANG].match, OPES_BYPASS_M_UNKNOWN);
        EXPECT_RES(res[0][OTHER], OPES_BYPASS_BYPASS, OPES_BYPASS_R_UNKNOWN,
                   OPES_BYPASS_SRC_HEADER);
        EXPECT_RES(res[0][AV], OPES_BYPASS_REFUSED, OPES_BYPASS_R_NOT_BYPASSABLE,
                   OPES_BYPASS_SRC_HEADER);
        EXPECT_RES(res[0][POLICY], OPES_BYPASS_REFUSED, OPES_BYPASS_R_TOO_LATE,
                   OPES_BYPASS_SRC_HEADER);
        EXPECT_RES(res[0][RBL], OPES_BYPASS_REFUSED, OPES_BYPASS_R_TOO_LATE,
                   OPES_BYPASS_SRC_HEADER);
    }

    /* "*" (3.4) */
    {
        opes_str item = S("*");
        in.header = list_of(&item, 1);
        CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
        EXPECT_RES(res[0][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_WILDCARD,
                   OPES_BYPASS_SRC_HEADER);
        EXPECT_RES(res[0][AV], OPES_BYPASS_REFUSED, OPES_BYPASS_R_NOT_BYPASSABLE,
                   OPES_BYPASS_SRC_HEADER);
        CHECK_EQ(res[0][AV].match, OPES_BYPASS_M_WILDCARD);
    }
}

/* Section 2: "HTTP://Opes.Example.NET/sys" names the system
 * "http://opes.example.net/sys" (RFC 3986 6.2.2.1: scheme and host are
 * case-insensitive). It must match that system's services only — were the
 * comparison byte-wise, it would be "unknown" and widen to "*", bypassing
 * the other system's service too. */
static void test_decide_spelling(void)
{
    opes_bypass_input in;
    opes_bypass_result res[2][NSVC];
    size_t g[2], ng = 0;
    opes_str item = S("HTTP://Opes.Example.NET/sys");

    input(&in);
    in.mail = list_of(&item, 1);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_SYSTEM,
               OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[0][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_SYSTEM,
               OPES_BYPASS_SRC_MAIL); /* a MAIL request reaches RCPT services */
    EXPECT_RES(res[0][AV], OPES_BYPASS_REFUSED, OPES_BYPASS_R_NOT_BYPASSABLE, OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[0][RBL], OPES_BYPASS_REFUSED, OPES_BYPASS_R_TOO_LATE, OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[0][OTHER], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    EXPECT_RES(res[1][OTHER], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    CHECK_EQ(ng, 1);

    /* and the processor's identifier, spelled with a default port and a
     * percent-encoded unreserved character (RFC 3986 6.2.2.2, 6.2.3) */
    opes_str proc = S("http://MX1.example.net:80/%6Fpes");
    in.mail = list_of(&proc, 1);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_PROCESSOR,
               OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[0][OTHER], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);

    /* a percent-encoded reserved character is a different URI (RFC 3986
     * 2.2): "%2F" is not "/", so this names nothing and widens to "*" */
    opes_str other = S("http://opes.example.net%2Fsys");
    in.mail = list_of(&other, 1);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][OTHER], OPES_BYPASS_BYPASS, OPES_BYPASS_R_UNKNOWN, OPES_BYPASS_SRC_MAIL);
}

static void test_decide_dialog(void)
{
    opes_bypass_input in;
    opes_bypass_result res[2][NSVC];
    size_t g[2], ng = 0;
    opes_bypass_list rl[2];

    /* bypass via MAIL: "On MAIL the request covers every recipient" */
    opes_str pol = S("http://scan.example.net/policy");
    input(&in);
    in.mail = list_of(&pol, 1);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID, OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[1][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID, OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[0][LANG], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    CHECK_EQ(ng, 1);

    /* bypass via RCPT for one of two recipients: two copies (7, last
     * paragraph: "the processor MUST process them as separate copies") */
    opes_str lang = S("http://scan.example.net/lang");
    input(&in);
    rl[0] = list_of(NULL, 0);
    rl[1] = list_of(&lang, 1);
    in.rcpt = rl;
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][LANG], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    EXPECT_RES(res[1][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID, OPES_BYPASS_SRC_RCPT);
    CHECK_EQ(ng, 2);
    CHECK_EQ(g[0], 0);
    CHECK_EQ(g[1], 1);
    /* without the group array, the count alone */
    ng = 0;
    CHECK_ST(opes_bypass_decide(&in, &res[0][0], 2 * NSVC, NULL, &ng), OPES_OK);
    CHECK_EQ(ng, 2);

    /* an RCPT request reaches RCPT services of its recipient */
    rl[1] = list_of(&pol, 1);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[1][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID, OPES_BYPASS_SRC_RCPT);
    EXPECT_RES(res[0][POLICY], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);

    /* nothing reaches connect services: a MAIL "*" is too late for them */
    opes_str star = S("*");
    input(&in);
    in.mail = list_of(&star, 1);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][RBL], OPES_BYPASS_REFUSED, OPES_BYPASS_R_TOO_LATE, OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[0][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_WILDCARD, OPES_BYPASS_SRC_MAIL);

    /* a timely request wins over a late one; the most specific item decides */
    opes_str hdr[2] = {S("*"), S("http://scan.example.net/policy")};
    input(&in);
    in.header = list_of(hdr, 2);
    in.mail = list_of(&star, 1);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_WILDCARD, OPES_BYPASS_SRC_MAIL);
    EXPECT_RES(res[0][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_WILDCARD, OPES_BYPASS_SRC_MAIL);
    in.mail = list_of(NULL, 0);
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[0][POLICY], OPES_BYPASS_REFUSED, OPES_BYPASS_R_TOO_LATE, OPES_BYPASS_SRC_HEADER);
    CHECK_EQ(res[0][POLICY].match, OPES_BYPASS_M_ID);
    CHECK_EQ(res[0][POLICY].item, 1);
}

/* RFC 4902 3.2: "a white list entry for the sender/recipient pair" */
struct allow_log {
    int calls;
    size_t asked[16];
};

static int allow_dave_lang(const opes_str *sender, const opes_str *recipient, size_t service,
                           void *user)
{
    struct allow_log *log = user;
    if (log->calls < 16)
        log->asked[log->calls] = service;
    log->calls++;
    return sender->len == 17 && memcmp(sender->ptr, "alice@example.org", 17) == 0 &&
           recipient->len == 16 && memcmp(recipient->ptr, "dave@example.net", 16) == 0 &&
           (service == LANG || service == AV);
}

static void test_decide_allow_list(void)
{
    opes_bypass_input in;
    opes_bypass_result res[2][NSVC];
    size_t g[2], ng = 0;
    struct allow_log log;

    memset(&log, 0, sizeof log);
    input(&in);
    in.allow = allow_dave_lang;
    in.allow_user = &log;
    CHECK_ST(decide(&in, res, g, &ng), OPES_OK);
    EXPECT_RES(res[1][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_ALLOW_LIST, OPES_BYPASS_SRC_NONE);
    expect_words(&res[1][LANG], "bypassed", NULL, "allow-list");
    EXPECT_RES(res[0][LANG], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    /* the allow-list cannot bypass a non-bypassable service: not even asked */
    EXPECT_RES(res[1][AV], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST, OPES_BYPASS_SRC_NONE);
    /* asked only about bypassable rcpt/message services: LANG, POLICY,
     * OTHER, for each recipient */
    CHECK_EQ(log.calls, 6);
    for (int i = 0; i < log.calls && i < 16; i++)
        CHECK(log.asked[i] == LANG || log.asked[i] == POLICY || log.asked[i] == OTHER);
    CHECK_EQ(ng, 2);
    in.recipients = NULL;
    CHECK_ST(decide(&in, res, g, &ng), OPES_EINVAL);
}

/* More services than one block of the decision (32): every service is
 * decided, and the known identifiers are known across blocks. */
static void test_decide_many(void)
{
    enum { N = 70 };
    static char ids[N][40];
    opes_bypass_service many[N];
    opes_bypass_input in;
    static opes_bypass_result res[N];
    size_t ng = 0;
    opes_str item;

    for (int i = 0; i < N; i++) {
        int k = snprintf(ids[i], sizeof ids[i], "http://scan.example.net/s%d", i);
        memset(&many[i], 0, sizeof many[i]);
        many[i].id.ptr = ids[i];
        many[i].id.len = (size_t)k;
        many[i].phase = OPES_BYPASS_PHASE_MESSAGE;
        many[i].bypassable = 1;
    }
    input(&in);
    in.services = many;
    in.nservices = N;
    in.nrcpt = 1;
    item = str_of("http://scan.example.net/s65");
    in.header = list_of(&item, 1);
    CHECK_ST(opes_bypass_decide(&in, res, N, NULL, &ng), OPES_OK);
    for (int i = 0; i < N; i++)
        CHECK_EQ(res[i].decision, i == 65 ? OPES_BYPASS_BYPASS : OPES_BYPASS_APPLY);
    item = str_of("http://scan.example.net/s3");
    CHECK_ST(opes_bypass_decide(&in, res, N, NULL, &ng), OPES_OK);
    for (int i = 0; i < N; i++)
        CHECK_EQ(res[i].decision, i == 3 ? OPES_BYPASS_BYPASS : OPES_BYPASS_APPLY);
    item = str_of("http://scan.example.net/s70");
    CHECK_ST(opes_bypass_decide(&in, res, N, NULL, &ng), OPES_OK);
    for (int i = 0; i < N; i++)
        CHECK_EQ(res[i].reason, OPES_BYPASS_R_UNKNOWN);
}

static void test_decide_errors(void)
{
    opes_bypass_input in;
    opes_bypass_result res[2][NSVC];
    opes_bypass_service bad[1] = {
        {S("scan/av"), {NULL, 0}, {NULL, 0}, OPES_BYPASS_PHASE_MESSAGE, 1}};

    input(&in);
    CHECK_ST(opes_bypass_decide(&in, &res[0][0], 2 * NSVC - 1, NULL, NULL), OPES_ENOSPC);
    CHECK_ST(opes_bypass_decide(NULL, &res[0][0], 2 * NSVC, NULL, NULL), OPES_EINVAL);
    in.version = 0;
    CHECK_ST(opes_bypass_decide(&in, &res[0][0], 2 * NSVC, NULL, NULL), OPES_EINVAL);
    input(&in);
    in.nrcpt = 0;
    CHECK_ST(opes_bypass_decide(&in, &res[0][0], 2 * NSVC, NULL, NULL), OPES_EINVAL);
    input(&in);
    in.services = bad;
    in.nservices = 1;
    CHECK_ST(opes_bypass_decide(&in, &res[0][0], 2 * NSVC, NULL, NULL), OPES_EURI_NOT_ABSOLUTE);
    bad[0].id = str_of("http://scan.example.net/av");
    bad[0].phase = 7;
    CHECK_ST(opes_bypass_decide(&in, &res[0][0], 2 * NSVC, NULL, NULL), OPES_EINVAL);
    bad[0].phase = OPES_BYPASS_PHASE_MESSAGE;
    bad[0].system = str_of("http://[::1");
    CHECK_ST(opes_bypass_decide(&in, &res[0][0], 2 * NSVC, NULL, NULL), OPES_EBAD_URI);

    /* names */
    CHECK(strcmp(opes_bypass_decision_name(OPES_BYPASS_REFUSED), "refused") == 0);
    CHECK(strcmp(opes_bypass_reason_name(OPES_BYPASS_R_UNKNOWN), "unknown_as_wildcard") == 0);
    CHECK(strcmp(opes_bypass_source_name(OPES_BYPASS_SRC_RCPT), "rcpt") == 0);
    CHECK(opes_bypass_decision_name(0) == NULL);
    CHECK(opes_bypass_reason_name(99) == NULL);
    CHECK(opes_bypass_source_name(-1) == NULL);
    CHECK(strcmp(opes_bypass_relay_action_name(OPES_BYPASS_RELAY_NOT_UNIFORM), "not_uniform") == 0);
    CHECK(opes_bypass_relay_action_name(9) == NULL);
    {
        opes_bypass_result r;
        memset(&r, 0, sizeof r);
        CHECK_ST(opes_bypass_trace_words(&r, NULL, NULL, NULL), OPES_EINVAL);
        r.decision = OPES_BYPASS_REFUSED;
        r.reason = OPES_BYPASS_R_WILDCARD;
        CHECK_ST(opes_bypass_trace_words(&r, NULL, NULL, NULL), OPES_EINVAL);
    }
}

/* ---- a whole server flow: session, envelope, message, decision ------------ */

static void test_session_flow(void)
{
    opes_smtp_config *c = NULL;
    opes_session *s = NULL;
    static const char in[] =
        "EHLO client.example.org\r\n"
        "MAIL FROM:<alice@example.org> XOPES-BYPASS=http://scan.example.net/policy\r\n"
        "RCPT TO:<carol@example.net>\r\n"
        "RCPT TO:<dave@example.net> XOPES-BYPASS=http://scan.example.net/lang\r\n"
        "RCPT TO:<erin@example.net> XOPES-BYPASS=opes/lang\r\n"
        "DATA\r\n"
        "OPES-Bypass: http://scan.example.net/av\r\n"
        "Subject: hi\r\n"
        "\r\n"
        "body\r\n"
        ".\r\n";
    const char *g = guarded_copy(in, sizeof in - 1);
    size_t off = 0, codes_n = 0;
    int codes[16];
    int done = 0;
    char hdr[4096];
    size_t hdr_len = 0;

    CHECK_ST(opes_smtp_config_new(&c, NULL), OPES_OK);
    CHECK_ST(opes_bypass_register(c, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_offer(c, "XOPES", 1, NULL), OPES_OK);
    CHECK_ST(opes_session_new(&s, OPES_ROLE_SERVER, c, NULL), OPES_OK);

    while (!done && off <= sizeof in - 1) {
        opes_session_event ev;
        size_t used = 0;
        CHECK_ST(opes_session_feed(s, g + off, sizeof in - 1 - off, &used, &ev), OPES_OK);
        off += used;
        if (ev.type == OPES_SESSION_EV_NONE)
            break;
        if (ev.type == OPES_SESSION_EV_DATA_CONTENT && hdr_len + ev.content.len <= sizeof hdr) {
            memcpy(hdr + hdr_len, ev.content.ptr, ev.content.len);
            hdr_len += ev.content.len;
        }
        if (ev.type == OPES_SESSION_EV_MESSAGE_END) {
            /* the envelope the session bound: MAIL and each accepted RCPT */
            opes_command mail, rc;
            opes_str mv, rv[2];
            char mbuf[OPES_BYPASS_MAX_VALUE], rbuf[2][OPES_BYPASS_MAX_VALUE];
            opes_str mitem, ritem[2], hitem;
            opes_bypass_list rl[2];
            opes_str addr[2];
            size_t pos, il, n_items;
            opes_header_field f;
            size_t fused;
            opes_bypass_input bi;
            opes_bypass_result res[2][NSVC];
            size_t grp[2], ng = 0;

            CHECK_EQ(opes_session_rcpt_count(s), 2); /* erin's RCPT got 501 */
            CHECK_ST(opes_session_mail(s, &mail), OPES_OK);
            CHECK_ST(opes_bypass_param_get(&mail.params, NULL, &mv), OPES_OK);
            pos = 0;
            CHECK_ST(
                opes_bypass_param_next(mv.ptr, mv.len, 0, &pos, mbuf, sizeof mbuf, &il, NULL, NULL),
                OPES_OK);
            mitem.ptr = mbuf;
            mitem.len = il;
            for (size_t r = 0; r < 2; r++) {
                CHECK_ST(opes_session_rcpt(s, r, &rc), OPES_OK);
                addr[r].ptr = rc.path.mailbox.ptr;
                addr[r].len = rc.path.mailbox.len;
                rl[r] = list_of(NULL, 0);
                if (opes_bypass_param_get(&rc.params, NULL, &rv[r]) == OPES_OK) {
                    pos = 0;
                    CHECK_ST(opes_bypass_param_next(rv[r].ptr, rv[r].len, 0, &pos, rbuf[r],
                                                    sizeof rbuf[r], &il, NULL, NULL),
                             OPES_OK);
                    ritem[r].ptr = rbuf[r];
                    ritem[r].len = il;
                    rl[r] = list_of(&ritem[r], 1);
                }
            }
            CHECK(rl[0].count == 0 && rl[1].count == 1);
            CHECK_STR(addr[1], "dave@example.net");
            /* the message's OPES-Bypass field */
            CHECK_ST(opes_header_field_parse(hdr, hdr_len, 0, 0, &f, &fused), OPES_OK);
            CHECK(opes_header_name_eq(&f, "opes-bypass"));
            pos = 0;
            n_items = 0;
            CHECK_ST(opes_bypass_header_next(f.raw.ptr, f.raw.len, &pos, &hitem, NULL, NULL),
                     OPES_OK);
            n_items++;
            CHECK_EQ(n_items, 1);

            input(&bi);
            bi.recipients = addr;
            bi.header = list_of(&hitem, 1);
            bi.mail = list_of(&mitem, 1);
            bi.rcpt = rl;
            CHECK_ST(opes_bypass_decide(&bi, &res[0][0], 2 * NSVC, grp, &ng), OPES_OK);
            EXPECT_RES(res[0][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID,
                       OPES_BYPASS_SRC_MAIL);
            EXPECT_RES(res[1][POLICY], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID,
                       OPES_BYPASS_SRC_MAIL);
            EXPECT_RES(res[0][LANG], OPES_BYPASS_APPLY, OPES_BYPASS_R_NO_REQUEST,
                       OPES_BYPASS_SRC_NONE);
            EXPECT_RES(res[1][LANG], OPES_BYPASS_BYPASS, OPES_BYPASS_R_MATCHED_ID,
                       OPES_BYPASS_SRC_RCPT);
            EXPECT_RES(res[0][AV], OPES_BYPASS_REFUSED, OPES_BYPASS_R_NOT_BYPASSABLE,
                       OPES_BYPASS_SRC_HEADER);
            EXPECT_RES(res[1][AV], OPES_BYPASS_REFUSED, OPES_BYPASS_R_NOT_BYPASSABLE,
                       OPES_BYPASS_SRC_HEADER);
            CHECK_EQ(ng, 2);
            done = 1;
        }
        if (ev.needs_reply) {
            if (codes_n < 16)
                codes[codes_n++] = ev.reply_code;
            CHECK_ST(opes_session_respond(s, ev.reply_code), OPES_OK);
        }
    }
    CHECK(done);
    /* EHLO 250, MAIL 250, RCPT 250, RCPT 250, RCPT 501 (8.1: malformed
     * value), DATA 354, end 250 */
    CHECK_EQ(codes_n, 7);
    if (codes_n == 7) {
        CHECK_EQ(codes[0], 250);
        CHECK_EQ(codes[1], 250);
        CHECK_EQ(codes[2], 250);
        CHECK_EQ(codes[3], 250);
        CHECK_EQ(codes[4], 501);
        CHECK_EQ(codes[5], 354);
        CHECK_EQ(codes[6], 250);
    }
    opes_session_free(s);
    opes_smtp_config_free(c);
    guarded_free(g);
}

/* ---- relaying (8.4) ------------------------------------------------------- */

static void relay_input(opes_bypass_relay_input *ri)
{
    memset(ri, 0, sizeof *ri);
}

static void test_relay(void)
{
    opes_bypass_relay_input ri;
    int ma = -1, ra[3];
    char out[1024];
    size_t n = 99;
    opes_str rv[3];

    /* "MUST pass a dialog request on to a next hop that offers the keyword
     * (RFC 3897 4.3), as the same parameter on the same command" */
    relay_input(&ri);
    ri.next_offers = 1;
    ri.mail = str_of("http://opes.example.net/sys?site+3D7654");
    rv[0] = str_of("http://scan.example.net/lang");
    rv[1] = str_of("");
    ri.rcpt = rv;
    ri.nrcpt = 2;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
    CHECK_EQ(ma, OPES_BYPASS_RELAY_FORWARD);
    CHECK_EQ(ra[0], OPES_BYPASS_RELAY_FORWARD);
    CHECK_EQ(ra[1], OPES_BYPASS_RELAY_NONE);
    CHECK_EQ(n, 0);

    /* "To a next hop that does not, the request is lost, as DSN parameters
     * are (RFC 3461 5.2.2) ... The loss MUST be reported to the caller" */
    ri.next_offers = 0;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
    CHECK_EQ(ma, OPES_BYPASS_RELAY_DROPPED);
    CHECK_EQ(ra[0], OPES_BYPASS_RELAY_DROPPED);
    CHECK_EQ(ra[1], OPES_BYPASS_RELAY_NONE);
    CHECK_EQ(n, 0);

    /* downgrade: "a MAIL request: always"; "an RCPT request: only when the
     * copy goes to recipients that all carry the same request" — here the
     * copy has a recipient without it: the RCPT downgrade is refused */
    ri.downgrade = 1;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
    CHECK_EQ(ma, OPES_BYPASS_RELAY_DOWNGRADED);
    CHECK_EQ(ra[0], OPES_BYPASS_RELAY_NOT_UNIFORM);
    CHECK_EQ(ra[1], OPES_BYPASS_RELAY_NONE);
    CHECK_MEM(out, n, "OPES-Bypass: http://opes.example.net/sys?site=7654\r\n", 52);

    /* the copy to that recipient alone: downgraded, merged with the MAIL
     * request into one field */
    ri.nrcpt = 1;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
    CHECK_EQ(ma, OPES_BYPASS_RELAY_DOWNGRADED);
    CHECK_EQ(ra[0], OPES_BYPASS_RELAY_DOWNGRADED);
    CHECK_MEM(out, n,
              "OPES-Bypass: http://opes.example.net/sys?site=7654,\r\n"
              " http://scan.example.net/lang\r\n",
              84);

    /* two recipients with the same request in another order and spelling */
    relay_input(&ri);
    ri.downgrade = 1;
    rv[0] = str_of("http://scan.example.net/lang,http://b.example/x+2Cy");
    rv[1] = str_of("http://b.example/x+2Cy,HTTP://SCAN.example.net/lang");
    ri.rcpt = rv;
    ri.nrcpt = 2;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
    CHECK_EQ(ma, OPES_BYPASS_RELAY_NONE);
    CHECK_EQ(ra[0], OPES_BYPASS_RELAY_DOWNGRADED);
    CHECK_EQ(ra[1], OPES_BYPASS_RELAY_DOWNGRADED);
    CHECK_MEM(out, n, "OPES-Bypass: http://scan.example.net/lang, <http://b.example/x,y>\r\n", 67);
    /* a third recipient with a subset: not the same request */
    rv[2] = str_of("http://scan.example.net/lang");
    ri.nrcpt = 3;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
    CHECK_EQ(ra[0], OPES_BYPASS_RELAY_NOT_UNIFORM);
    CHECK_EQ(ra[2], OPES_BYPASS_RELAY_NOT_UNIFORM);
    CHECK_EQ(n, 0);

    /* "merges the items with any OPES-Bypass items already in the message":
     * what the message holds is not written again */
    {
        opes_str have[1] = {S("http://SCAN.example.net/lang")};
        relay_input(&ri);
        ri.downgrade = 1;
        ri.mail = str_of("http://scan.example.net/lang,http://scan.example.net/spam");
        ri.header = list_of(have, 1);
        CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
        CHECK_EQ(ma, OPES_BYPASS_RELAY_DOWNGRADED);
        CHECK_MEM(out, n, "OPES-Bypass: http://scan.example.net/spam\r\n", 43);
        ri.mail = str_of("http://scan.example.net/lang");
        CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
        CHECK_EQ(ma, OPES_BYPASS_RELAY_DOWNGRADED);
        CHECK_EQ(n, 0); /* all there already */
        have[0] = str_of("*");
        ri.mail = str_of("http://scan.example.net/spam");
        CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
        CHECK_EQ(n, 0); /* "*" covers it */
        have[0] = str_of("http://a.example/");
        ri.mail = str_of("http://scan.example.net/spam,*");
        CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_OK);
        CHECK_MEM(out, n, "OPES-Bypass: *\r\n", 16);
        CHECK_ST(opes_bypass_relay(&ri, &ma, ra, NULL, 0, &n), OPES_ENOSPC);
        CHECK_EQ(n, 16);
    }

    /* malformed values are refused before anything is decided */
    relay_input(&ri);
    ri.mail = str_of("opes/sys");
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_EBAD_BYPASS);
    ri.mail = str_of("");
    rv[0] = str_of("http://a.example/,");
    ri.rcpt = rv;
    ri.nrcpt = 1;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_EBAD_BYPASS);
    ri.rcpt = NULL;
    CHECK_ST(opes_bypass_relay(&ri, &ma, ra, out, sizeof out, &n), OPES_EINVAL);
    CHECK_ST(opes_bypass_relay(NULL, &ma, ra, out, sizeof out, &n), OPES_EINVAL);
}

int main(void)
{
    test_value_decode();
    test_value_limit();
    test_value_build();
    test_registration();
    test_header_parse();
    test_header_build();
    test_decide_header();
    test_decide_spelling();
    test_decide_dialog();
    test_decide_allow_list();
    test_decide_many();
    test_decide_errors();
    test_session_flow();
    test_relay();
    return TEST_END();
}
