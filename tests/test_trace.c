/* The OPES trace (docs/opes-smtp.md 3, 4, 6): entries and parameters, the
 * builders, the processor's lifecycle object, the header reader and the
 * traced rejection. Expectations come from the spec's examples (quoted with
 * their section), RFC 4236 Figure 17 and RFC 5322. */
#include "harness.h"
#include "internal.h"

#include "opes_internal.h"

#include <stddef.h>
#include <stdlib.h>

#define S(lit) lit, (sizeof(lit) - 1)

static opes_str mk(const char *s)
{
    opes_str r;
    r.ptr = s;
    r.len = strlen(s);
    return r;
}

/* All entries of a value into arrays (at most 8); returns the final status. */
typedef struct parsed {
    size_t n;
    opes_trace_entry e[8];
    size_t err;
} parsed;

static opes_status parse_all(const char *v, size_t len, parsed *out)
{
    opes_trace_cursor c = {0, 0};
    opes_status st;
    const char *g = guarded_copy(v, len);
    memset(out, 0, sizeof *out);
    while ((st = opes_trace_entry_next(g, len, &c, &out->e[out->n < 8 ? out->n : 7], &out->err)) ==
           OPES_OK) {
        /* re-base the views onto v so they outlive the guarded copy */
        opes_trace_entry *e = &out->e[out->n < 8 ? out->n : 7];
        e->id.ptr = v + (e->id.ptr - g);
        if (e->params.ptr)
            e->params.ptr = v + (e->params.ptr - g);
        out->n++;
    }
    guarded_free(g);
    return st;
}

static void check_param(const opes_trace_entry *e, const char *name, const char *want)
{
    opes_trace_param p;
    char buf[256];
    size_t n = 0;
    CHECK_ST(opes_trace_param_find(e, name, &p), OPES_OK);
    CHECK_ST(opes_trace_param_unquote(&p, buf, sizeof buf, &n), OPES_OK);
    CHECK_MEM(buf, n, want, strlen(want));
}

/* ---- 3.1: the delimiting rule ------------------------------------------------ */

static void test_delimiting(void)
{
    parsed p;
    /* docs/opes-smtp.md 3.1: "`http://a.example/x;v=2` is one URI;
     * `http://a.example/x ; mode=A` and `http://a.example/x; mode=A` are a
     * URI with a parameter." */
    CHECK_ST(parse_all(S("http://a.example/x;v=2"), &p), OPES_ENOTFOUND);
    CHECK_EQ(p.n, 1);
    CHECK_STR(p.e[0].id, "http://a.example/x;v=2");
    CHECK_EQ(p.e[0].nparams, 0);

    CHECK_ST(parse_all(S("http://a.example/x ; mode=A"), &p), OPES_ENOTFOUND);
    CHECK_EQ(p.n, 1);
    CHECK_STR(p.e[0].id, "http://a.example/x");
    CHECK_EQ(p.e[0].nparams, 1);
    check_param(&p.e[0], "mode", "A");
    check_param(&p.e[0], "MODE", "A"); /* names are case-insensitive */

    CHECK_ST(parse_all(S("http://a.example/x; mode=A"), &p), OPES_ENOTFOUND);
    CHECK_EQ(p.n, 1);
    CHECK_STR(p.e[0].id, "http://a.example/x");
    check_param(&p.e[0], "mode", "A");

    /* "<" ">" delimit a URI: inside, "," ";" "(" ")" are data */
    CHECK_ST(parse_all(S("<http://a.example/p(1),q;r=2>; mode=B, http://b.example/"), &p),
             OPES_ENOTFOUND);
    CHECK_EQ(p.n, 2);
    CHECK_STR(p.e[0].id, "http://a.example/p(1),q;r=2");
    CHECK(p.e[0].bracketed);
    check_param(&p.e[0], "mode", "B");
    CHECK_STR(p.e[1].id, "http://b.example/");
    CHECK(!p.e[1].bracketed);

    /* a bare URI ends before a "," followed by WSP or the end */
    CHECK_ST(parse_all(S("http://a.example/x,y, http://b.example/"), &p), OPES_ENOTFOUND);
    CHECK_EQ(p.n, 2);
    CHECK_STR(p.e[0].id, "http://a.example/x,y");
    /* a trailing comma or semicolon leaves an empty entry / parameter */
    CHECK_ST(parse_all(S("http://a.example/x,"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.n, 1);
    CHECK_EQ(p.err, 19);
    CHECK_ST(parse_all(S("http://a.example/x;"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 19);
    /* "(" is data, not a comment: a bare "(" reaches the URI parser */
    CHECK_ST(parse_all(S("http://a.example/x (comment)"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 19);
    CHECK_ST(parse_all(S("http://a.example/(x)"), &p), OPES_ENOTFOUND); /* sub-delims */
    CHECK_STR(p.e[0].id, "http://a.example/(x)");
}

/* ---- 3.1: the grammar, errors and offsets ----------------------------------- */

static void test_grammar(void)
{
    parsed p;
    opes_trace_param prm;
    char buf[64];
    size_t n = 0, pos = 0;

    CHECK_ST(parse_all(S(""), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 0);
    CHECK_ST(parse_all(S("  \t "), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 4);
    /* FWS with folds everywhere FWS may be (RFC 5322 3.2.2) */
    CHECK_ST(parse_all(S(" http://a.example/\r\n ;\r\n\tk=v\r\n ,\r\n http://b.example/ "), &p),
             OPES_ENOTFOUND);
    CHECK_EQ(p.n, 2);
    CHECK_STR(p.e[1].id, "http://b.example/");
    check_param(&p.e[0], "k", "v");
    CHECK_EQ(p.e[1].index, 1);
    /* bare LF folds, as opes_header_unfold() accepts them */
    CHECK_ST(parse_all(S("http://a.example/\n , http://b.example/"), &p), OPES_ENOTFOUND);
    CHECK_EQ(p.n, 2);
    /* a line end not followed by WSP is no fold; a bare CR is nothing */
    CHECK_ST(parse_all(S("http://a.example/\r\nx"), &p), OPES_EBAD_TRACE);
    CHECK_ST(parse_all(S("http://a.example/\r ,http://b/"), &p), OPES_EBAD_TRACE);
    CHECK_ST(parse_all(S("http://a.example/\r\n"), &p), OPES_EBAD_TRACE);
    /* the identifier must be an absolute-URI (docs/opes-smtp.md 2) */
    CHECK_ST(parse_all(S("/relative"), &p), OPES_EURI_NOT_ABSOLUTE);
    CHECK_ST(parse_all(S("http://a.example/#frag"), &p), OPES_EURI_NOT_ABSOLUTE);
    CHECK_ST(parse_all(S("x, http://a.example/"), &p), OPES_EURI_NOT_ABSOLUTE);
    CHECK_EQ(p.n, 0);
    CHECK_ST(parse_all(S("urn:x, http://a.example/<"), &p), OPES_EBAD_URI);
    CHECK_EQ(p.n, 1);
    CHECK_EQ(p.err, 24); /* the "<" */
    /* "<>" forms */
    CHECK_ST(parse_all(S("<>"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 1);
    CHECK_ST(parse_all(S("<http://a.example/"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 18);
    CHECK_ST(parse_all(S("<http://a.example/ x>"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 18);
    CHECK_ST(parse_all(S("<http://a.example/>x"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 19);
    CHECK_ST(parse_all(S("<http://a.example/> ;a=1"), &p), OPES_ENOTFOUND);
    /* parameters */
    CHECK_ST(parse_all(S("urn:a; =1"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 7);
    CHECK_ST(parse_all(S("urn:a; 1a=1"), &p), OPES_EBAD_TRACE);
    CHECK_ST(parse_all(S("urn:a; a = 1"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 8);
    CHECK_ST(parse_all(S("urn:a; a="), &p), OPES_EBAD_TRACE);
    CHECK_ST(parse_all(S("urn:a; a=b c"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 11);
    CHECK_ST(parse_all(S("urn:a; a=\"unterminated"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 22);
    CHECK_ST(parse_all(S("urn:a; a=\"x\x01\""), &p), OPES_EBAD_TRACE);
    CHECK_ST(parse_all(S("urn:a; a=\"caf\xc3\xa9\""), &p), OPES_EBAD_TRACE); /* ASCII only */
    /* a name twice (3.1 MUST NOT), in any case */
    CHECK_ST(parse_all(S("urn:a; mode=A; Mode=B"), &p), OPES_EBAD_TRACE);
    CHECK_EQ(p.err, 15);
    /* quoted-string: pairs, folds, empty */
    CHECK_ST(parse_all(S("urn:a; q=\"a \\\"b\\\\\r\n c\"; e=\"\""), &p), OPES_ENOTFOUND);
    check_param(&p.e[0], "q", "a \"b\\ c");
    check_param(&p.e[0], "e", "");
    CHECK_ST(opes_trace_param_find(&p.e[0], "absent", &prm), OPES_ENOTFOUND);
    CHECK_ST(opes_trace_param_next(&p.e[0], &pos, &prm), OPES_OK);
    CHECK_STR(prm.name, "q");
    CHECK(prm.quoted);
    CHECK_ST(opes_trace_param_next(&p.e[0], &pos, &prm), OPES_OK);
    CHECK_STR(prm.value, "\"\"");
    CHECK_ST(opes_trace_param_next(&p.e[0], &pos, &prm), OPES_ENOTFOUND);
    /* the size query of unquote */
    CHECK_ST(opes_trace_param_find(&p.e[0], "q", &prm), OPES_OK);
    CHECK_ST(opes_trace_param_unquote(&prm, NULL, 0, &n), OPES_ENOSPC);
    CHECK_EQ(n, 7);
    CHECK_ST(opes_trace_param_unquote(&prm, buf, 3, &n), OPES_ENOSPC);
    CHECK_EQ(n, 7);
    /* every token character (3.1) */
    CHECK_ST(parse_all(S("urn:a; t=aZ09-._~+!$&'*^`|#%"), &p), OPES_ENOTFOUND);
    check_param(&p.e[0], "t", "aZ09-._~+!$&'*^`|#%");
    /* NUL is data the grammar rejects */
    CHECK_ST(parse_all(S("urn:a\0b"), &p), OPES_EBAD_URI);
    /* arguments */
    {
        opes_trace_cursor c = {5, 0};
        opes_trace_entry e;
        CHECK_ST(opes_trace_entry_next("abc", 3, &c, &e, NULL), OPES_EINVAL);
        CHECK_ST(opes_trace_entry_next(NULL, 1, &c, &e, NULL), OPES_EINVAL);
    }
    /* the cursor does not move on error: the same error again */
    {
        opes_trace_cursor c = {0, 0};
        opes_trace_entry e;
        size_t err = 0;
        /* "urn:a,x" would be one URI (3.1); "urn:a x" is an entry and junk */
        CHECK_ST(opes_trace_entry_next(S("urn:a x"), &c, &e, &err), OPES_EBAD_TRACE);
        CHECK_EQ(err, 6);
        CHECK_ST(opes_trace_entry_next(S("urn:a, urn:b x"), &c, &e, &err), OPES_OK);
        CHECK_ST(opes_trace_entry_next(S("urn:a, urn:b x"), &c, &e, &err), OPES_EBAD_TRACE);
        CHECK_EQ(err, 13);
        CHECK_ST(opes_trace_entry_next(S("urn:a, urn:b x"), &c, &e, &err), OPES_EBAD_TRACE);
        CHECK_EQ(c.count, 1);
    }
}

/* ---- RFC 4236 Figure 17 ---------------------------------------------------------- */

static void test_rfc4236_fig17(void)
{
    /* RFC 4236 4, Figure 17 (rfc-notes.md 1.2):
     *   OPES-System: http://www.cdn.example.com/opes?session=ac79a749f56
     *   OPES-Via: http://www.cdn.example.com/opes?session=ac79a749f56,
     *    http://www.srvcs-4u.example.com/cat/?sid=123,
     *    http://www.srvcs-4u.example.com/cat/?sid=124,
     *    http://www.srvcs-4u.example.com/cat/?sid=125 ; mode=A
     * "The last traced service included a "mode" parameter." */
    static const char via[] = " http://www.cdn.example.com/opes?session=ac79a749f56,\r\n"
                              " http://www.srvcs-4u.example.com/cat/?sid=123,\r\n"
                              " http://www.srvcs-4u.example.com/cat/?sid=124,\r\n"
                              " http://www.srvcs-4u.example.com/cat/?sid=125 ; mode=A";
    parsed p;
    CHECK_ST(parse_all(via, sizeof via - 1, &p), OPES_ENOTFOUND);
    CHECK_EQ(p.n, 4);
    CHECK_STR(p.e[0].id, "http://www.cdn.example.com/opes?session=ac79a749f56");
    CHECK_STR(p.e[1].id, "http://www.srvcs-4u.example.com/cat/?sid=123");
    CHECK_STR(p.e[2].id, "http://www.srvcs-4u.example.com/cat/?sid=124");
    CHECK_STR(p.e[3].id, "http://www.srvcs-4u.example.com/cat/?sid=125");
    CHECK_EQ(p.e[0].nparams + p.e[1].nparams + p.e[2].nparams, 0);
    CHECK_EQ(p.e[3].nparams, 1);
    check_param(&p.e[3], "mode", "A");

    /* the whole header of the figure through the reader: valid, one
     * system, the Via field's first entry names it */
    {
        static const char hdr[] =
            "Date: Thu, 18 Sep 2003 06:25:24 GMT\r\n"
            "Last-Modified: Wed, 17 Sep 2003 18:24:25 GMT\r\n"
            "Content-type: application/octet-stream\r\n"
            "OPES-System: http://www.cdn.example.com/opes?session=ac79a749f56\r\n"
            "OPES-Via: http://www.cdn.example.com/opes?session=ac79a749f56,\r\n"
            " http://www.srvcs-4u.example.com/cat/?sid=123,\r\n"
            " http://www.srvcs-4u.example.com/cat/?sid=124,\r\n"
            " http://www.srvcs-4u.example.com/cat/?sid=125 ; mode=A\r\n"
            "\r\n";
        opes_trace_reader *r = NULL;
        opes_trace_event ev;
        size_t sys = 0, via_n = 0, errs = 0;
        CHECK_ST(opes_trace_reader_new(&r, NULL), OPES_OK);
        CHECK_ST(opes_trace_reader_start(r, hdr, sizeof hdr - 1, 0), OPES_OK);
        while (opes_trace_reader_next(r, &ev) == OPES_OK) {
            if (ev.type == OPES_TRACE_EV_SYSTEM)
                sys++;
            else if (ev.type == OPES_TRACE_EV_VIA) {
                CHECK_EQ(ev.role, via_n == 0 ? OPES_TRACE_ROLE_SYSTEM : OPES_TRACE_ROLE_SERVICE);
                CHECK_STR(ev.system, "http://www.cdn.example.com/opes?session=ac79a749f56");
                CHECK_EQ(ev.block, 0);
                CHECK_EQ(ev.field, 4);
                via_n++;
            } else
                errs++;
        }
        CHECK_EQ(sys, 1);
        CHECK_EQ(via_n, 4);
        CHECK_EQ(errs, 0);
        opes_trace_reader_free(r);
    }
}

/* ---- 3.5: the spec's trace block -------------------------------------------------- */

/* docs/opes-smtp.md 3.5, "A trace block written by libopes:" */
static const char spec_block[] =
    "OPES-System: http://opes.example.net/sys?site=7654;\r\n"
    " privacy=\"https://example.net/privacy\"; consent=recipient; consent-by=policy\r\n"
    "OPES-Via: http://opes.example.net/sys?site=7654,\r\n"
    " http://mx1.example.net/opes; role=processor,\r\n"
    " http://scan.example.net/av; action=none,\r\n"
    " http://scan.example.net/lang; action=modified\r\n";

static void test_spec_block(void)
{
    opes_trace *t = NULL;
    char out[1024];
    size_t n = 0;
    static const char hdr[] = "Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
                              "Subject: x\r\n\r\nbody\r\n";

    /* built by the lifecycle object from the example's data */
    CHECK_ST(opes_trace_new(&t, NULL), OPES_OK);
    CHECK_ST(opes_trace_set_system(t, S("http://opes.example.net/sys?site=7654")), OPES_OK);
    CHECK_ST(opes_trace_set_privacy(t, S("https://example.net/privacy")), OPES_OK);
    CHECK_ST(opes_trace_set_consent(t, OPES_TRACE_CONSENT_RECIPIENT, OPES_TRACE_CONSENT_BY_POLICY),
             OPES_OK);
    CHECK_ST(opes_trace_set_processor(t, S("http://mx1.example.net/opes")), OPES_OK);
    CHECK_ST(opes_trace_begin(t, hdr, sizeof hdr - 1), OPES_OK);
    CHECK_ST(opes_trace_service(t, S("http://scan.example.net/av"), OPES_TRACE_ACTION_NONE, 0),
             OPES_OK);
    CHECK_ST(
        opes_trace_service(t, S("http://scan.example.net/lang"), OPES_TRACE_ACTION_MODIFIED, 0),
        OPES_OK);
    CHECK_ST(opes_trace_verify(t, hdr, sizeof hdr - 1), OPES_OK);
    CHECK_ST(opes_trace_emit(t, NULL, 0, &n, 0), OPES_ENOSPC);
    CHECK_EQ(n, sizeof spec_block - 1);
    CHECK_ST(opes_trace_emit(t, out, sizeof out, &n, 0), OPES_OK);
    CHECK_MEM(out, n, spec_block, sizeof spec_block - 1);
    /* every split of cap gives ENOSPC with the same size */
    for (size_t cap = 1; cap < sizeof spec_block - 1; cap += 7) {
        size_t m = 0;
        CHECK_ST(opes_trace_emit(t, out, cap, &m, 0), OPES_ENOSPC);
        CHECK_EQ(m, sizeof spec_block - 1);
    }
    /* LF line ends */
    CHECK_ST(opes_trace_emit(t, out, sizeof out, &n, OPES_HEADER_LF), OPES_OK);
    CHECK_EQ(n, sizeof spec_block - 1 - 6);
    CHECK(memchr(out, '\r', n) == NULL);
    opes_trace_free(t);

    /* the same through opes_trace_field_build() and, for the value, through
     * opes_header_field_build(): the same bytes */
    {
        opes_trace_pair sp[3] = {{mk("privacy"), mk("https://example.net/privacy")},
                                 {mk("consent"), mk("recipient")},
                                 {mk("consent-by"), mk("policy")}};
        opes_trace_pair rp[1] = {{mk("role"), mk("processor")}};
        opes_trace_pair a1[1] = {{mk("action"), mk("none")}};
        opes_trace_pair a2[1] = {{mk("action"), mk("modified")}};
        opes_trace_item sys = {mk("http://opes.example.net/sys?site=7654"), sp, 3};
        opes_trace_item via[4] = {{mk("http://opes.example.net/sys?site=7654"), NULL, 0},
                                  {mk("http://mx1.example.net/opes"), rp, 1},
                                  {mk("http://scan.example.net/av"), a1, 1},
                                  {mk("http://scan.example.net/lang"), a2, 1}};
        char val[512], f2[1024];
        size_t vn = 0, n1 = 0, n2 = 0, n3 = 0;
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n1, OPES_TRACE_FIELD_SYSTEM, &sys, 1, 0),
                 OPES_OK);
        CHECK_ST(
            opes_trace_field_build(out + n1, sizeof out - n1, &n2, OPES_TRACE_FIELD_VIA, via, 4, 0),
            OPES_OK);
        CHECK_MEM(out, n1 + n2, spec_block, sizeof spec_block - 1);
        CHECK_ST(opes_trace_value_build(val, sizeof val, &vn, via, 4), OPES_OK);
        CHECK_ST(opes_header_field_build(f2, sizeof f2, &n3, S("OPES-Via"), val, vn, 0), OPES_OK);
        CHECK_MEM(f2, n3, out + n1, n2);
    }

    /* and read back: one system, the Via entries in order with their roles */
    {
        parsed p;
        static const char sysv[] =
            " http://opes.example.net/sys?site=7654;\r\n"
            " privacy=\"https://example.net/privacy\"; consent=recipient; consent-by=policy";
        CHECK_ST(parse_all(sysv, sizeof sysv - 1, &p), OPES_ENOTFOUND);
        CHECK_EQ(p.n, 1);
        CHECK_STR(p.e[0].id, "http://opes.example.net/sys?site=7654");
        check_param(&p.e[0], "privacy", "https://example.net/privacy");
        check_param(&p.e[0], "consent", "recipient");
        check_param(&p.e[0], "consent-by", "policy");
    }
}

/* ---- builders ------------------------------------------------------------------------ */

static void test_builders(void)
{
    char out[4096];
    size_t n = 0;
    opes_trace_pair pr[2] = {{mk("note"), mk("a \"quoted\" \\ value")}, {mk("k"), mk("tok")}};
    opes_trace_item it[2] = {{mk("http://a.example/x;v=2"), pr, 2},
                             {mk("http://b.example/(p)"), NULL, 0}};
    parsed p;

    CHECK_ST(opes_trace_value_build(out, sizeof out, &n, it, 2), OPES_OK);
    CHECK_MEM(out, n,
              "<http://a.example/x;v=2>; note=\"a \\\"quoted\\\" \\\\ value\"; k=tok, "
              "<http://b.example/(p)>",
              strlen("<http://a.example/x;v=2>; note=\"a \\\"quoted\\\" \\\\ value\"; k=tok, "
                     "<http://b.example/(p)>"));
    CHECK_ST(parse_all(out, n, &p), OPES_ENOTFOUND);
    CHECK_EQ(p.n, 2);
    CHECK_STR(p.e[0].id, "http://a.example/x;v=2");
    check_param(&p.e[0], "note", "a \"quoted\" \\ value");
    check_param(&p.e[0], "k", "tok");
    CHECK_STR(p.e[1].id, "http://b.example/(p)");

    /* EINJECT: CR, LF or NUL in an id, a name, a value (every builder) */
    {
        static const char *bad[] = {"http://a.example/\r", "http://a.example/\n",
                                    "http://a.example/\0x"};
        for (size_t i = 0; i < 3; i++) {
            opes_trace_item b = {{bad[i], 18}, NULL, 0};
            opes_trace_pair bp = {mk("k"), {bad[i], 18}};
            opes_trace_pair bn = {{"k\r", 2}, mk("v")};
            opes_trace_item b2 = {mk("http://a.example/"), &bp, 1};
            opes_trace_item b3 = {mk("http://a.example/"), &bn, 1};
            opes_trace *t = NULL;
            CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &b, 1), OPES_EINJECT);
            CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &b2, 1), OPES_EINJECT);
            CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &b3, 1), OPES_EINJECT);
            CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_VIA, &b2, 1, 0),
                     OPES_EINJECT);
            CHECK_ST(opes_trace_reply_build(out, sizeof out, &n, 550, "5.7.1", S("x"), bad[i], 18,
                                            NULL, 0, 0),
                     OPES_EINJECT);
            CHECK_ST(opes_trace_reply_build(out, sizeof out, &n, 550, "5.7.1", bad[i], 18,
                                            S("http://a.example/"), NULL, 0, 0),
                     OPES_EINJECT);
            CHECK_ST(opes_trace_new(&t, NULL), OPES_OK);
            CHECK_ST(opes_trace_set_system(t, bad[i], 18), OPES_EINJECT);
            CHECK_ST(opes_trace_set_privacy(t, bad[i], 18), OPES_EINJECT);
            CHECK_ST(opes_trace_set_processor(t, bad[i], 18), OPES_EINJECT);
            CHECK_ST(opes_trace_set_system(t, S("http://a.example/")), OPES_OK);
            CHECK_ST(opes_trace_begin(t, NULL, 0), OPES_OK);
            CHECK_ST(opes_trace_service(t, bad[i], 18, 0, 0), OPES_EINJECT);
            opes_trace_free(t);
        }
    }
    /* other refusals */
    {
        opes_trace_pair dup[2] = {{mk("a"), mk("1")}, {mk("A"), mk("2")}};
        opes_trace_pair badn = {mk("1a"), mk("1")};
        opes_trace_pair empty = {{"", 0}, mk("1")}; /* found by fuzz_trace_build */
        opes_trace_item e0 = {mk("urn:a"), &empty, 1};
        opes_trace_pair ctl = {mk("a"), mk("x\x01")};
        opes_trace_pair hi = {mk("a"), mk("caf\xc3\xa9")};
        opes_trace_item d = {mk("urn:a"), dup, 2}, b = {mk("urn:a"), &badn, 1},
                        c = {mk("urn:a"), &ctl, 1}, h = {mk("urn:a"), &hi, 1},
                        r = {mk("rel/path"), NULL, 0}, f = {mk("http://a/#f"), NULL, 0};
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &d, 1), OPES_EBAD_TRACE);
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &b, 1), OPES_EBAD_TRACE);
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &e0, 1), OPES_EBAD_TRACE);
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &c, 1), OPES_EBAD_CHAR);
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &h, 1), OPES_EBAD_CHAR);
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &r, 1), OPES_EURI_NOT_ABSOLUTE);
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &f, 1), OPES_EURI_NOT_ABSOLUTE);
        CHECK_ST(opes_trace_value_build(out, sizeof out, &n, &f, 0), OPES_EINVAL);
        CHECK_ST(opes_trace_value_build(NULL, 5, &n, &r, 1), OPES_EINVAL);
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, 3, &r, 1, 0), OPES_EINVAL);
    }
}

/* ---- limits: at and one over --------------------------------------------------------- */

static void test_limits(void)
{
    static char big[300 * 20 + 64];
    static char id[OPES_TRACE_MAX_ID + 8];
    static char out[8192];
    static opes_trace_item items[OPES_TRACE_MAX_ENTRIES + 1];
    static opes_trace_pair prs[OPES_TRACE_MAX_PARAMS + 1];
    static char pnames[OPES_TRACE_MAX_PARAMS + 1][8];
    size_t n = 0, i;
    parsed p;

    /* entries per field: 256 parse, the 257th is OPES_ETOO_MANY_ITEMS */
    for (i = 0, n = 0; i < OPES_TRACE_MAX_ENTRIES; i++)
        n += (size_t)sprintf(big + n, "%surn:%zu", i ? ", " : "", i);
    {
        opes_trace_cursor c = {0, 0};
        opes_trace_entry e;
        size_t err = 0, cnt = 0;
        opes_status st;
        while ((st = opes_trace_entry_next(big, n, &c, &e, &err)) == OPES_OK)
            cnt++;
        CHECK_ST(st, OPES_ENOTFOUND);
        CHECK_EQ(cnt, 256);
        size_t at = n + 2;
        n += (size_t)sprintf(big + n, ", urn:x");
        c.pos = 0;
        c.count = 0;
        cnt = 0;
        while ((st = opes_trace_entry_next(big, n, &c, &e, &err)) == OPES_OK)
            cnt++;
        CHECK_ST(st, OPES_ETOO_MANY_ITEMS);
        CHECK_EQ(cnt, 256);
        CHECK_EQ(err, at);
    }
    for (i = 0; i <= OPES_TRACE_MAX_ENTRIES; i++) {
        items[i].id = mk("urn:x");
        items[i].params = NULL;
        items[i].nparams = 0;
    }
    CHECK_ST(opes_trace_value_build(NULL, 0, &n, items, OPES_TRACE_MAX_ENTRIES), OPES_ENOSPC);
    CHECK_ST(opes_trace_value_build(NULL, 0, &n, items, OPES_TRACE_MAX_ENTRIES + 1),
             OPES_ETOO_MANY_ITEMS);

    /* parameters per entry: 64, then OPES_ETOO_MANY_PARAMS */
    for (i = 0; i <= OPES_TRACE_MAX_PARAMS; i++) {
        sprintf(pnames[i], "p%zu", i);
        prs[i].name = mk(pnames[i]);
        prs[i].value = mk("1");
    }
    items[0].params = prs;
    items[0].nparams = OPES_TRACE_MAX_PARAMS;
    CHECK_ST(opes_trace_value_build(out, sizeof out, &n, items, 1), OPES_OK);
    CHECK_ST(parse_all(out, n, &p), OPES_ENOTFOUND);
    CHECK_EQ(p.e[0].nparams, 64);
    items[0].nparams = OPES_TRACE_MAX_PARAMS + 1;
    CHECK_ST(opes_trace_value_build(out, sizeof out, &n, items, 1), OPES_ETOO_MANY_PARAMS);
    memcpy(out + n, "; z=1", 5);
    n += 5;
    items[0].nparams = OPES_TRACE_MAX_PARAMS;
    CHECK_ST(opes_trace_value_build(out, sizeof out, &n, items, 1), OPES_OK);
    memcpy(out + n, "; z=1", 5);
    CHECK_ST(parse_all(out, n + 5, &p), OPES_ETOO_MANY_PARAMS);
    CHECK_EQ(p.err, n + 2);
    items[0].params = NULL;
    items[0].nparams = 0;

    /* identifier length as written: 984 is the most; the line is then
     * exactly 998 octets: "OPES-System: " id ";" */
    memcpy(id, "http://a.example/", 17);
    memset(id + 17, 'x', sizeof id - 17);
    {
        opes_trace_pair pp = {mk("a"), mk("b")};
        opes_trace_item one = {{id, OPES_TRACE_MAX_ID}, &pp, 1};
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_SYSTEM, &one, 1, 0),
                 OPES_OK);
        CHECK((const char *)memchr(out, '\n', n) - out == 998 + 1); /* 998 octets, CR, LF */
        one.id.len++;
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_SYSTEM, &one, 1, 0),
                 OPES_EURI_TOO_LONG);
        /* in "<>", two octets less */
        id[40] = ',';
        one.id.len = OPES_TRACE_MAX_ID - 2;
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_SYSTEM, &one, 1, 0),
                 OPES_OK);
        one.id.len++;
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_SYSTEM, &one, 1, 0),
                 OPES_EURI_TOO_LONG);
        id[40] = 'x';
    }
    /* a long Via field (200 entries, far past the folder's 2074-octet
     * buffer): the same bytes as opes_header_field_build() of the value */
    {
        static char val[16384], f1[20000], f2[20000];
        size_t vn = 0, n1 = 0, n2 = 0;
        opes_trace_pair ap = {mk("action"), mk("none")};
        for (i = 0; i < 200; i++) {
            items[i].id = mk(i % 3 ? "http://scan.example.net/av" : "urn:x,y");
            items[i].params = i % 2 ? &ap : NULL;
            items[i].nparams = i % 2;
        }
        CHECK_ST(opes_trace_value_build(val, sizeof val, &vn, items, 200), OPES_OK);
        CHECK(vn > 4096);
        CHECK_ST(opes_trace_field_build(f1, sizeof f1, &n1, OPES_TRACE_FIELD_VIA, items, 200, 0),
                 OPES_OK);
        CHECK_ST(opes_header_field_build(f2, sizeof f2, &n2, S("OPES-Via"), val, vn, 0), OPES_OK);
        CHECK_MEM(f1, n1, f2, n2);
        CHECK_ST(parse_all(f1 + 9, n1 - 11, &p), OPES_ENOTFOUND);
        CHECK_EQ(p.n, 200);
        for (i = 0; i < 200; i++) {
            items[i].params = NULL;
            items[i].nparams = 0;
        }
    }
    /* a value with no WSP to fold at cannot be brought under 998 octets */
    {
        static char val[1200];
        opes_trace_pair pp = {mk("a"), {val, 996}};
        opes_trace_item one = {mk("urn:x"), &pp, 1};
        memset(val, 'v', sizeof val);
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_VIA, &one, 1, 0),
                 OPES_EHEADER_LINE_TOO_LONG);
        pp.value.len = 995; /* " a=" + 995 = 998 on the continuation line */
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_VIA, &one, 1, 0),
                 OPES_OK);
        pp.value.len = sizeof val; /* past the folder's buffer */
        CHECK_ST(opes_trace_field_build(out, sizeof out, &n, OPES_TRACE_FIELD_VIA, &one, 1, 0),
                 OPES_EHEADER_LINE_TOO_LONG);
    }
    /* the folder must look far enough ahead: a fit at column <= 78, a next
     * line of up to 998 octets to the first fold point past 78, and that
     * fold point confirmed only by the non-WSP after its run, which starts
     * a line of up to 998 octets: 78 + 998 + 998 octets. A quoted value
     * "a..a b..b <996 SP>c" folds into lines of 998 octets at most, and
     * opes_header_field_build() of the value writes it. */
    {
        static char val[2100], v[4096], f1[8192], f2[8192];
        size_t k = 0, vn = 0, n1 = 0, n2 = 0;
        opes_trace_pair pp;
        opes_trace_item one;
        memset(val, 'a', 45);
        k = 45;
        val[k++] = ' ';
        memset(val + k, 'b', 997);
        k += 997;
        memset(val + k, ' ', 996);
        k += 996;
        val[k++] = 'c';
        pp.name = mk("p");
        pp.value.ptr = val;
        pp.value.len = k;
        one.id = mk("urn:x");
        one.params = &pp;
        one.nparams = 1;
        CHECK_ST(opes_trace_value_build(v, sizeof v, &vn, &one, 1), OPES_OK);
        CHECK_ST(opes_header_field_build(f2, sizeof f2, &n2, S("OPES-Via"), v, vn, 0), OPES_OK);
        CHECK_ST(opes_trace_field_build(f1, sizeof f1, &n1, OPES_TRACE_FIELD_VIA, &one, 1, 0),
                 OPES_OK);
        CHECK_MEM(f1, n1, f2, n2);
    }
}

/* ---- 6: the traced rejection ----------------------------------------------------------- */

static void test_reply(void)
{
    /* docs/opes-smtp.md 6 */
    static const char want[] =
        "550-5.7.1 Message rejected by OPES service\r\n"
        "550-5.7.1 OPES-System: http://opes.example.net/sys?site=7654\r\n"
        "550-5.7.1 OPES-Via: http://scan.example.net/av\r\n"
        "550 5.7.1 This service may be bypassed: see OPES-Bypass or XOPES-BYPASS\r\n";
    char out[2048];
    size_t n = 0;
    opes_str svc = mk("http://scan.example.net/av");
    opes_reply rep;
    size_t used = 0;

    CHECK_ST(opes_trace_reply_build(
                 NULL, 0, &n, 550, "5.7.1", S("Message rejected by OPES service"),
                 S("http://opes.example.net/sys?site=7654"), &svc, 1, OPES_TRACE_REPLY_BYPASSABLE),
             OPES_ENOSPC);
    CHECK_EQ(n, sizeof want - 1);
    CHECK_ST(opes_trace_reply_build(
                 out, sizeof out, &n, 550, "5.7.1", S("Message rejected by OPES service"),
                 S("http://opes.example.net/sys?site=7654"), &svc, 1, OPES_TRACE_REPLY_BYPASSABLE),
             OPES_OK);
    CHECK_MEM(out, n, want, sizeof want - 1);
    /* it parses as one reply with one code (RFC 5321 4.2.1) */
    CHECK_ST(opes_reply_parse(NULL, out, n, &rep, &used), OPES_OK);
    CHECK_EQ(rep.code, 550);
    CHECK_EQ(rep.nlines, 4);
    CHECK_EQ(used, n);
    /* not bypassable: the text again; 4xx has the same shape */
    CHECK_ST(opes_trace_reply_build(out, sizeof out, &n, 451, "4.7.0", S("Try later"),
                                    S("http://opes.example.net/sys"), NULL, 0, 0),
             OPES_OK);
    CHECK_MEM(out, n,
              "451-4.7.0 Try later\r\n451-4.7.0 OPES-System: http://opes.example.net/sys\r\n"
              "451 4.7.0 Try later\r\n",
              strlen("451-4.7.0 Try later\r\n451-4.7.0 OPES-System: "
                     "http://opes.example.net/sys\r\n451 4.7.0 Try later\r\n"));
    /* an id with "," goes in "<>"; without enhanced code */
    CHECK_ST(
        opes_trace_reply_build(out, sizeof out, &n, 554, NULL, S("No"), S("urn:a,b"), NULL, 0, 0),
        OPES_OK);
    CHECK_MEM(out, n, "554-No\r\n554-OPES-System: <urn:a,b>\r\n554 No\r\n",
              strlen("554-No\r\n554-OPES-System: <urn:a,b>\r\n554 No\r\n"));
    /* 512 octets with CRLF: "550-5.7.1 OPES-Via: " is 20, so an id of 490
     * fits and 491 does not (never split) */
    {
        static char id[600];
        opes_str s;
        memcpy(id, "urn:", 4);
        memset(id + 4, 'x', sizeof id - 4);
        s.ptr = id;
        s.len = 490;
        CHECK_ST(
            opes_trace_reply_build(out, sizeof out, &n, 550, "5.7.1", S("x"), S("urn:s"), &s, 1, 0),
            OPES_OK);
        s.len = 491;
        CHECK_ST(
            opes_trace_reply_build(out, sizeof out, &n, 550, "5.7.1", S("x"), S("urn:s"), &s, 1, 0),
            OPES_EREPLY_TOO_LONG);
        CHECK_ST(
            opes_trace_reply_build(out, sizeof out, &n, 550, "5.7.1", S("x"), id, 494, NULL, 0, 0),
            OPES_EREPLY_TOO_LONG);
    }
    /* the text is one line, never wrapped (docs/opes-smtp.md 6): 500 octets
     * fill "550-5.7.1 " + 500 + CRLF = 512; 501 with spaces in it are
     * refused rather than wrapped */
    {
        static char txt[501];
        memset(txt, 'w', sizeof txt);
        for (size_t k = 9; k < sizeof txt; k += 10)
            txt[k] = ' ';
        txt[499] = 'w';
        CHECK_ST(opes_trace_reply_build(out, sizeof out, &n, 550, "5.7.1", txt, 500, S("urn:s"),
                                        NULL, 0, 0),
                 OPES_OK);
        CHECK_EQ((const char *)memchr(out, '\n', n) - out, 511);
        CHECK_ST(opes_trace_reply_build(out, sizeof out, &n, 550, "5.7.1", txt, 501, S("urn:s"),
                                        NULL, 0, 0),
                 OPES_EREPLY_TOO_LONG);
    }
    /* lines: text + system + 125 services + last = 128; one more is refused */
    {
        static opes_str many[126];
        static char big[128 * 80];
        for (size_t i = 0; i < 126; i++)
            many[i] = mk("urn:s");
        CHECK_ST(opes_trace_reply_build(big, sizeof big, &n, 550, NULL, S("x"), S("urn:a"), many,
                                        125, 0),
                 OPES_OK);
        CHECK_ST(opes_trace_reply_build(big, sizeof big, &n, 550, NULL, S("x"), S("urn:a"), many,
                                        126, 0),
                 OPES_ETOO_MANY_LINES);
    }
    CHECK_ST(opes_trace_reply_build(out, sizeof out, &n, 250, NULL, S("x"), S("urn:a"), NULL, 0, 0),
             OPES_EINVAL);
    CHECK_ST(
        opes_trace_reply_build(out, sizeof out, &n, 550, "4.7.1", S("x"), S("urn:a"), NULL, 0, 0),
        OPES_EBAD_ENHANCED_CODE);
    CHECK_ST(opes_trace_reply_build(out, sizeof out, &n, 550, NULL, S("x"), S("a b"), NULL, 0, 0),
             OPES_EBAD_URI);
}

/* ---- 4: the lifecycle, two processors, tampering ------------------------------------------ */

static void test_flow(void)
{
    static const char msg0[] = "Return-Path: <a@example.org>\r\n"
                               "Received: from c.example.org by mx1.example.net; "
                               "Thu, 1 Jan 2026 10:00:00 +0000\r\n"
                               "From: a@example.org\r\n"
                               "Subject: hello\r\n"
                               "\r\n"
                               "body\r\n";
    opes_trace *t1 = NULL, *t2 = NULL;
    static char b1[4096], m1[8192], b2[4096], m2[8192], tmp[8192];
    size_t n1 = 0, n2 = 0, l1, l2;
    opes_trace_damage d;

    /* processor 1: system A, processor mx1, one service */
    CHECK_ST(opes_trace_new(&t1, NULL), OPES_OK);
    CHECK_ST(opes_trace_begin(t1, msg0, sizeof msg0 - 1), OPES_ESTATE); /* no system yet */
    CHECK_ST(opes_trace_set_system(t1, S("http://opes-a.example/sys")), OPES_OK);
    CHECK_ST(opes_trace_set_processor(t1, S("http://mx1.example.net/opes")), OPES_OK);
    CHECK_ST(opes_trace_service(t1, S("http://a.example/av"), 0, 0), OPES_ESTATE); /* no begin */
    CHECK_ST(opes_trace_begin(t1, msg0, sizeof msg0 - 1), OPES_OK);
    CHECK_EQ(opes_trace_recorded_count(t1), 2);
    CHECK_ST(opes_trace_begin(t1, msg0, sizeof msg0 - 1), OPES_ESTATE);
    CHECK_ST(opes_trace_set_system(t1, S("urn:other")), OPES_ESTATE);
    CHECK_ST(opes_trace_service(t1, S("http://a.example/av"), OPES_TRACE_ACTION_NONE,
                                OPES_TRACE_BYPASS_REFUSED),
             OPES_OK);
    /* emit after a service without a verify since: refused (4 rule 3) */
    CHECK_ST(opes_trace_emit(t1, b1, sizeof b1, &n1, 0), OPES_ESTATE);
    CHECK_ST(opes_trace_verify(t1, msg0, sizeof msg0 - 1), OPES_OK);
    CHECK_ST(opes_trace_emit(t1, b1, sizeof b1, &n1, 0), OPES_OK);
    CHECK_MEM(b1, n1,
              "OPES-System: http://opes-a.example/sys\r\n"
              "OPES-Via: http://opes-a.example/sys,\r\n"
              " http://mx1.example.net/opes; role=processor,\r\n"
              " http://a.example/av; action=none; bypass=refused\r\n",
              strlen("OPES-System: http://opes-a.example/sys\r\n"
                     "OPES-Via: http://opes-a.example/sys,\r\n"
                     " http://mx1.example.net/opes; role=processor,\r\n"
                     " http://a.example/av; action=none; bypass=refused\r\n"));
    /* the next hop adds its Received above the block */
    {
        const char *rcv = "Received: from mx1.example.net by mx2.example.com; "
                          "Thu, 1 Jan 2026 10:00:05 +0000\r\n";
        size_t k = strlen(rcv);
        memcpy(m1, rcv, k);
        memcpy(m1 + k, b1, n1);
        memcpy(m1 + k + n1, msg0, sizeof msg0 - 1);
        l1 = k + n1 + sizeof msg0 - 1;
    }

    /* processor 2: system B sees system A's block; three services */
    CHECK_ST(opes_trace_new(&t2, NULL), OPES_OK);
    CHECK_ST(opes_trace_set_system(t2, S("http://opes-b.example.com/")), OPES_OK);
    CHECK_ST(opes_trace_set_consent(t2, OPES_TRACE_CONSENT_RECIPIENT, OPES_TRACE_CONSENT_BY_DIRECT),
             OPES_OK);
    CHECK_ST(opes_trace_begin(t2, m1, l1), OPES_OK);
    CHECK_EQ(opes_trace_recorded_count(t2), 5); /* Received, System, Via, Return-Path, Received */
    {
        opes_str nm, wh;
        CHECK_ST(opes_trace_recorded_get(t2, 1, &nm, &wh), OPES_OK);
        CHECK_STR(nm, "OPES-System");
        CHECK_ST(opes_trace_recorded_get(t2, 5, &nm, &wh), OPES_ENOTFOUND);
    }

    /* service 1 (a spam filter) adds a field between the trace fields and
     * changes the subject: fine */
    {
        size_t k = 0;
        k += (size_t)sprintf(tmp + k, "X-Spam: no\r\n");
        k += (size_t)sprintf(tmp + k, "Received: from mx1.example.net by mx2.example.com; "
                                      "Thu, 1 Jan 2026 10:00:05 +0000\r\n");
        memcpy(tmp + k, b1, n1);
        k += n1;
        k += (size_t)sprintf(tmp + k, "X-Added: between\r\n"
                                      "Return-Path: <a@example.org>\r\n"
                                      "Received: from c.example.org by mx1.example.net; "
                                      "Thu, 1 Jan 2026 10:00:00 +0000\r\n"
                                      "From: a@example.org\r\nSubject: [ok] hello\r\n\r\nbody\r\n");
        CHECK_ST(
            opes_trace_service(t2, S("http://spam.example.com/"), OPES_TRACE_ACTION_MODIFIED, 0),
            OPES_OK);
        CHECK_ST(opes_trace_verify(t2, tmp, k), OPES_OK);
        CHECK_EQ(opes_trace_damage_count(t2), 0);
        memcpy(m2, tmp, k);
        l2 = k;
    }
    /* service 2 deletes OPES-Via: caught and named */
    {
        size_t k = 0;
        const char *via = strstr(b1, "OPES-Via:");
        size_t sys_len = (size_t)(via - b1);
        k += (size_t)sprintf(tmp + k, "Received: from mx1.example.net by mx2.example.com; "
                                      "Thu, 1 Jan 2026 10:00:05 +0000\r\n");
        memcpy(tmp + k, b1, sys_len); /* OPES-System only */
        k += sys_len;
        k += (size_t)sprintf(tmp + k, "Return-Path: <a@example.org>\r\n"
                                      "Received: from c.example.org by mx1.example.net; "
                                      "Thu, 1 Jan 2026 10:00:00 +0000\r\n\r\n");
        CHECK_ST(
            opes_trace_service(t2, S("http://strip.example.com/"), OPES_TRACE_ACTION_MODIFIED, 0),
            OPES_OK);
        CHECK_ST(opes_trace_verify(t2, tmp, k), OPES_ETRACE_TAMPERED);
        CHECK_EQ(opes_trace_damage_count(t2), 1);
        CHECK_ST(opes_trace_damage_get(t2, 0, &d), OPES_OK);
        CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_DELETED);
        CHECK_EQ(d.index, 2);
        CHECK_STR(d.name, "OPES-Via");
        CHECK_MEM(d.original.ptr, d.original.len, via, n1 - sys_len);
        CHECK(d.offset == UINT64_MAX);
        CHECK_ST(opes_trace_damage_get(t2, 1, &d), OPES_ENOTFOUND);
        CHECK_ST(opes_trace_emit(t2, b2, sizeof b2, &n2, 0), OPES_ESTATE);
    }
    /* service 3 alters the oldest Received: caught and named; then the
     * processor restores the message (m2) and verifies again */
    {
        size_t k = 0, at;
        k += (size_t)sprintf(tmp + k, "Received: from mx1.example.net by mx2.example.com; "
                                      "Thu, 1 Jan 2026 10:00:05 +0000\r\n");
        memcpy(tmp + k, b1, n1);
        k += n1;
        at = k + strlen("Return-Path: <a@example.org>\r\n");
        k += (size_t)sprintf(tmp + k, "Return-Path: <a@example.org>\r\n"
                                      "Received: from c.example.org by mx1.example.net; "
                                      "Thu, 1 Jan 2026 10:00:01 +0000\r\n\r\n");
        CHECK_ST(opes_trace_service(t2, S("http://lang.example.com/"), OPES_TRACE_ACTION_NONE, 0),
                 OPES_OK);
        CHECK_ST(opes_trace_verify(t2, tmp, k), OPES_ETRACE_TAMPERED);
        CHECK_EQ(opes_trace_damage_count(t2), 1);
        CHECK_ST(opes_trace_damage_get(t2, 0, &d), OPES_OK);
        CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_ALTERED);
        CHECK_EQ(d.index, 4);
        CHECK_STR(d.name, "Received");
        CHECK_EQ(d.offset, at);
        CHECK_MEM(d.original.ptr, d.original.len,
                  "Received: from c.example.org by mx1.example.net; "
                  "Thu, 1 Jan 2026 10:00:00 +0000\r\n",
                  strlen("Received: from c.example.org by mx1.example.net; "
                         "Thu, 1 Jan 2026 10:00:00 +0000\r\n"));
    }
    /* reordered: the two oldest fields swapped */
    {
        size_t k = 0;
        k += (size_t)sprintf(tmp + k, "Received: from mx1.example.net by mx2.example.com; "
                                      "Thu, 1 Jan 2026 10:00:05 +0000\r\n");
        memcpy(tmp + k, b1, n1);
        k += n1;
        k += (size_t)sprintf(tmp + k, "Received: from c.example.org by mx1.example.net; "
                                      "Thu, 1 Jan 2026 10:00:00 +0000\r\n"
                                      "Return-Path: <a@example.org>\r\n\r\n");
        CHECK_ST(opes_trace_verify(t2, tmp, k), OPES_ETRACE_TAMPERED);
        CHECK_EQ(opes_trace_damage_count(t2), 1);
        CHECK_ST(opes_trace_damage_get(t2, 0, &d), OPES_OK);
        CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_MOVED);
        CHECK(d.index == 3 || d.index == 4);
    }
    /* restored: m2 verifies, emit is allowed */
    CHECK_ST(opes_trace_verify(t2, m2, l2), OPES_OK);
    CHECK_EQ(opes_trace_damage_count(t2), 0);
    CHECK_ST(opes_trace_emit(t2, b2, sizeof b2, &n2, 0), OPES_OK);
    /* the final message: block 2 prepended */
    memcpy(tmp, b2, n2);
    memcpy(tmp + n2, m2, l2);

    /* the reader gives back exactly what was recorded, newest block first */
    {
        opes_trace_reader *r = NULL;
        opes_trace_event ev;
        static const struct {
            int type, role;
            const char *id;
            size_t block;
            int action;
        } want[] = {
            {OPES_TRACE_EV_SYSTEM, OPES_TRACE_ROLE_SYSTEM, "http://opes-b.example.com/", 0, -1},
            {OPES_TRACE_EV_VIA, OPES_TRACE_ROLE_SYSTEM, "http://opes-b.example.com/", 0, -1},
            {OPES_TRACE_EV_VIA, OPES_TRACE_ROLE_SERVICE, "http://spam.example.com/", 0,
             OPES_TRACE_ACTION_MODIFIED},
            {OPES_TRACE_EV_VIA, OPES_TRACE_ROLE_SERVICE, "http://strip.example.com/", 0,
             OPES_TRACE_ACTION_MODIFIED},
            {OPES_TRACE_EV_VIA, OPES_TRACE_ROLE_SERVICE, "http://lang.example.com/", 0,
             OPES_TRACE_ACTION_NONE},
            {OPES_TRACE_EV_SYSTEM, OPES_TRACE_ROLE_SYSTEM, "http://opes-a.example/sys", 1, -1},
            {OPES_TRACE_EV_VIA, OPES_TRACE_ROLE_SYSTEM, "http://opes-a.example/sys", 1, -1},
            {OPES_TRACE_EV_VIA, OPES_TRACE_ROLE_PROCESSOR, "http://mx1.example.net/opes", 1, -1},
            {OPES_TRACE_EV_VIA, OPES_TRACE_ROLE_SERVICE, "http://a.example/av", 1,
             OPES_TRACE_ACTION_NONE},
        };
        size_t i = 0;
        static _Alignas(max_align_t) char mem[8192];
        const char *g = guarded_copy(tmp, n2 + l2);
        CHECK(opes_trace_reader_sizeof() <= sizeof mem);
        CHECK_ST(opes_trace_reader_init_in(mem, sizeof mem, &r), OPES_OK);
        CHECK_ST(opes_trace_reader_next(r, &ev), OPES_ESTATE);
        CHECK_ST(opes_trace_reader_start(r, g, n2 + l2, 0), OPES_OK);
        while (opes_trace_reader_next(r, &ev) == OPES_OK) {
            int act = -1;
            CHECK(i < sizeof want / sizeof want[0]);
            if (i >= sizeof want / sizeof want[0])
                break;
            CHECK_EQ(ev.type, want[i].type);
            CHECK_EQ(ev.role, want[i].role);
            CHECK_STR(ev.entry.id, want[i].id);
            CHECK_EQ(ev.block, want[i].block);
            if (ev.type == OPES_TRACE_EV_VIA && ev.role == OPES_TRACE_ROLE_SERVICE)
                CHECK_ST(opes_trace_entry_action(&ev.entry, &act), OPES_OK);
            CHECK_EQ(act, want[i].action);
            if (i == 0)
                check_param(&ev.entry, "consent", "recipient");
            if (i == 8) {
                check_param(&ev.entry, "bypass", "refused");
                CHECK_MEM(g + ev.offset, 19, "http://a.example/av", 19);
            }
            i++;
        }
        CHECK_EQ(i, sizeof want / sizeof want[0]);
        CHECK_ST(opes_trace_reader_next(r, &ev), OPES_ENOTFOUND);
        opes_trace_reader_free(r); /* no-op for init_in */
        guarded_free(g);
    }
    /* reset keeps the settings: a new message can begin at once */
    opes_trace_reset(t2);
    CHECK_EQ(opes_trace_recorded_count(t2), 0);
    CHECK_ST(opes_trace_begin(t2, msg0, sizeof msg0 - 1), OPES_OK);
    CHECK_ST(opes_trace_emit(t2, b2, sizeof b2, &n2, 0),
             OPES_OK); /* no service: no verify needed */
    CHECK_MEM(b2, n2,
              "OPES-System: http://opes-b.example.com/; consent=recipient; consent-by=direct\r\n",
              strlen("OPES-System: http://opes-b.example.com/; consent=recipient; "
                     "consent-by=direct\r\n"));
    opes_trace_free(t1);
    opes_trace_free(t2);
}

/* ---- verify's matching, corner cases ----------------------------------------------------------
 */

static void test_verify_cases(void)
{
    opes_trace *t = NULL;
    opes_trace_damage d;
    static const char h[] = "Received: one\r\nReceived: one\r\nOPES-System: urn:s\r\n"
                            "OPES-Via: urn:s, urn:v\r\n\r\n";
    CHECK_ST(opes_trace_new(&t, NULL), OPES_OK);
    CHECK_ST(opes_trace_set_system(t, S("urn:me")), OPES_OK);
    CHECK_ST(opes_trace_verify(t, h, sizeof h - 1), OPES_ESTATE);
    CHECK_ST(opes_trace_begin(t, h, sizeof h - 1), OPES_OK);
    CHECK_EQ(opes_trace_recorded_count(t), 4);
    /* identical duplicates: one of them deleted is caught */
    CHECK_ST(opes_trace_verify(t, S("Received: one\r\nOPES-System: urn:s\r\nOPES-Via: urn:s, "
                                    "urn:v\r\n\r\n")),
             OPES_ETRACE_TAMPERED);
    CHECK_EQ(opes_trace_damage_count(t), 1);
    CHECK_ST(opes_trace_damage_get(t, 0, &d), OPES_OK);
    CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_DELETED);
    CHECK_EQ(d.index, 1);
    /* case of the name changed: altered (byte for byte) */
    CHECK_ST(opes_trace_verify(t, S("Received: one\r\nReceived: one\r\nopes-system: urn:s\r\n"
                                    "OPES-Via: urn:s, urn:v\r\n\r\n")),
             OPES_ETRACE_TAMPERED);
    CHECK_ST(opes_trace_damage_get(t, 0, &d), OPES_OK);
    CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_ALTERED);
    CHECK_STR(d.name, "OPES-System");
    CHECK_EQ(d.offset, 30);
    /* refolded: altered */
    CHECK_ST(opes_trace_verify(t, S("Received: one\r\nReceived: one\r\nOPES-System: urn:s\r\n"
                                    "OPES-Via: urn:s,\r\n urn:v\r\n\r\n")),
             OPES_ETRACE_TAMPERED);
    CHECK_ST(opes_trace_damage_get(t, 0, &d), OPES_OK);
    CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_ALTERED);
    CHECK_STR(d.name, "OPES-Via");
    /* the Via field moved to the top */
    CHECK_ST(opes_trace_verify(t, S("OPES-Via: urn:s, urn:v\r\nReceived: one\r\nReceived: one\r\n"
                                    "OPES-System: urn:s\r\n\r\n")),
             OPES_ETRACE_TAMPERED);
    CHECK_EQ(opes_trace_damage_count(t), 1);
    CHECK_ST(opes_trace_damage_get(t, 0, &d), OPES_OK);
    CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_MOVED);
    CHECK_EQ(d.index, 3);
    CHECK_EQ(d.offset, 0);
    /* everything gone */
    CHECK_ST(opes_trace_verify(t, S("Subject: x\r\n\r\n")), OPES_ETRACE_TAMPERED);
    CHECK_EQ(opes_trace_damage_count(t), 4);
    /* fields added at the top, between and at the bottom: intact */
    CHECK_ST(opes_trace_verify(t, S("Received: new\r\nReceived: one\r\nX: 1\r\nReceived: one\r\n"
                                    "Received: two\r\nOPES-System: urn:s\r\nOPES-Via: urn:s, "
                                    "urn:v\r\nReceived: bottom\r\n\r\n")),
             OPES_OK);
    /* a malformed header: its status, and emit stays refused */
    CHECK_ST(opes_trace_verify(t, S("Received one\r\n\r\n")), OPES_EBAD_HEADER);
    {
        char b[256];
        size_t n;
        CHECK_ST(opes_trace_emit(t, b, sizeof b, &n, 0), OPES_ESTATE);
    }
    opes_trace_reset(t);
    /* the begin limit: 1000 trace fields, then OPES_ETOO_MANY_ITEMS */
    {
        size_t cap = 1001 * 16 + 4, k = 0;
        char *big = malloc(cap);
        for (size_t i = 0; i < 1000; i++)
            k += (size_t)sprintf(big + k, "Received: %04zu\r\n", i);
        CHECK_ST(opes_trace_begin(t, big, k), OPES_OK);
        CHECK_EQ(opes_trace_recorded_count(t), 1000);
        CHECK_ST(opes_trace_verify(t, big, k), OPES_OK);
        memcpy(big + k, "Received: 1000\r\n", 16);
        CHECK_ST(opes_trace_verify(t, big, k + 16), OPES_ETOO_MANY_ITEMS);
        opes_trace_reset(t);
        CHECK_ST(opes_trace_begin(t, big, k + 16), OPES_ETOO_MANY_ITEMS);
        CHECK_EQ(opes_trace_recorded_count(t), 0);
        free(big);
    }
    /* service: entries of the Via field capped at 256 (system + 255) */
    CHECK_ST(opes_trace_begin(t, NULL, 0), OPES_OK);
    for (size_t i = 0; i < 255; i++)
        CHECK_ST(opes_trace_service(t, S("urn:svc"), 0, 0), OPES_OK);
    CHECK_ST(opes_trace_service(t, S("urn:svc"), 0, 0), OPES_ETOO_MANY_ITEMS);
    CHECK_ST(opes_trace_verify(t, NULL, 0), OPES_OK);
    {
        static char b[16384];
        size_t n;
        parsed p;
        CHECK_ST(opes_trace_emit(t, b, sizeof b, &n, 0), OPES_OK);
        /* and the Via field re-reads within the entry limit */
        {
            const char *via = strstr(b, "OPES-Via:") + 9;
            opes_trace_cursor c = {0, 0};
            opes_trace_entry e;
            size_t cnt = 0, vl = (size_t)(b + n - via) - 2;
            while (opes_trace_entry_next(via, vl, &c, &e, NULL) == OPES_OK)
                cnt++;
            CHECK_EQ(cnt, 256);
        }
        (void)p;
    }
    /* argument and combination checks of service() */
    CHECK_ST(
        opes_trace_service(t, S("urn:x"), OPES_TRACE_ACTION_BYPASSED, OPES_TRACE_BYPASS_REFUSED),
        OPES_EINVAL);
    CHECK_ST(
        opes_trace_service(t, S("urn:x"), OPES_TRACE_ACTION_NONE, OPES_TRACE_BYPASS_ALLOW_LIST),
        OPES_EINVAL);
    CHECK_ST(opes_trace_service(t, S("urn:x"), 9, 0), OPES_EINVAL);
    opes_trace_free(t);
}

/* ---- verify: an added copy of a recorded field is no damage --------------------------------
 * docs/opes-smtp.md 4 rule 3: "Fields added anywhere (by a service, or the
 * processor's own) are no damage; the recorded ones must be there byte for
 * byte and keep their relative order." A field identical to a recorded one
 * can be added: the processor's own OPES-System field when the system
 * handled the message before (3.5: "A system that handles the message twice
 * ... writes two blocks"), or a service re-adding a copy. The recorded
 * sequence is still there, in order: verify must pass. */
static void test_verify_added_copy(void)
{
    opes_trace *t = NULL;
    opes_trace_damage d;
    static const char h[] = "Received: x\r\nOPES-System: urn:s\r\nReceived: y\r\n\r\n";
    CHECK_ST(opes_trace_new(&t, NULL), OPES_OK);
    CHECK_ST(opes_trace_set_system(t, S("urn:s")), OPES_OK);
    CHECK_ST(opes_trace_begin(t, h, sizeof h - 1), OPES_OK);
    CHECK_ST(opes_trace_verify(t, h, sizeof h - 1), OPES_OK);
    /* the system's own block prepended again: identical to the older one */
    CHECK_ST(opes_trace_verify(t, S("OPES-System: urn:s\r\nReceived: x\r\nOPES-System: urn:s\r\n"
                                    "Received: y\r\n\r\n")),
             OPES_OK);
    CHECK_EQ(opes_trace_damage_count(t), 0);
    /* a copy of the bottom field added at the top */
    CHECK_ST(opes_trace_verify(t, S("Received: y\r\nReceived: x\r\nOPES-System: urn:s\r\n"
                                    "Received: y\r\n\r\n")),
             OPES_OK);
    /* but the real thing is still caught: the order x, S, y broken */
    CHECK_ST(opes_trace_verify(t, S("OPES-System: urn:s\r\nReceived: y\r\nReceived: x\r\n\r\n")),
             OPES_ETRACE_TAMPERED);
    CHECK_ST(opes_trace_damage_get(t, 0, &d), OPES_OK);
    opes_trace_reset(t);
    /* recorded A, B, A; an A added on top: A A B A holds A B A in order */
    CHECK_ST(opes_trace_begin(t, S("Received: a\r\nReceived: b\r\nReceived: a\r\n\r\n")), OPES_OK);
    CHECK_ST(opes_trace_verify(t, S("Received: a\r\nReceived: a\r\nReceived: b\r\nReceived: "
                                    "a\r\n\r\n")),
             OPES_OK);
    /* one of the two A deleted: caught, one damage */
    CHECK_ST(opes_trace_verify(t, S("Received: a\r\nReceived: b\r\n\r\n")), OPES_ETRACE_TAMPERED);
    CHECK_EQ(opes_trace_damage_count(t), 1);
    CHECK_ST(opes_trace_damage_get(t, 0, &d), OPES_OK);
    CHECK_EQ(d.kind, OPES_TRACE_DAMAGE_DELETED);
    opes_trace_free(t);
}

/* ---- the reader: errors without stopping, OPES-Bypass ------------------------------------------
 */

static void test_reader_errors(void)
{
    static const char hdr[] =
        "OPES-Via: urn:orphan, urn:svc\r\n"                            /* 0: no system above */
        "OPES-Bypass: *\r\n"                                           /* 1 */
        "OPES-System: http://S.example/a/../sys\r\n"                   /* 2: equal after norm. */
        "OPES-Via: http://s.example:80/sys, urn:p; role=processor\r\n" /* 3 */
        "OPES-Via: urn:other, urn:x; role=weird\r\n"                   /* 4: names no entry */
        "OPES-System: urn:bad, #\r\n"                                  /* 5: a bad entry */
        "OPES-Bypass: <urn:a,b>, urn:c\r\n"                            /* 6 */
        "OPES-Bypass: *, urn:c\r\n"                                    /* 7: "*" only alone */
        "Subject: x\r\n"
        "\r\n"
        "OPES-System: in the body\r\n";
    opes_trace_reader *r = NULL;
    opes_trace_event ev;
    char out[4096];
    size_t k = 0;

    CHECK_ST(opes_trace_reader_new(&r, NULL), OPES_OK);
    CHECK_ST(opes_trace_reader_start(r, hdr, sizeof hdr - 1, 0), OPES_OK);
    while (opes_trace_reader_next(r, &ev) == OPES_OK) {
        k += (size_t)snprintf(out + k, sizeof out - k, "%s f%zu", opes_trace_event_name(ev.type),
                              ev.field);
        if (ev.type == OPES_TRACE_EV_ERROR)
            k += (size_t)snprintf(out + k, sizeof out - k, " %s@%llu", opes_status_name(ev.status),
                                  (unsigned long long)ev.offset);
        else
            k += (size_t)snprintf(out + k, sizeof out - k, " %.*s r%d b%lld", (int)ev.entry.id.len,
                                  ev.entry.id.ptr, ev.role,
                                  ev.block == SIZE_MAX ? -1LL : (long long)ev.block);
        k += (size_t)snprintf(out + k, sizeof out - k, "\n");
    }
    out[k] = 0;
    CHECK_MEM(out, k,
              "error f0 OPES_EBAD_TRACE@10\n"
              "via f0 urn:orphan r1 b-1\n"
              "via f0 urn:svc r3 b-1\n"
              "bypass f1 * r0 b-1\n"
              "system f2 http://S.example/a/../sys r1 b0\n"
              "via f3 http://s.example:80/sys r1 b0\n"
              "via f3 urn:p r2 b0\n"
              "error f4 OPES_EBAD_TRACE@155\n"
              "via f4 urn:other r1 b0\n"
              "via f4 urn:x r0 b0\n"
              "system f5 urn:bad r1 b1\n"
              "error f5 OPES_EURI_NOT_ABSOLUTE@207\n"
              "bypass f6 urn:a,b r0 b-1\n"
              "bypass f6 urn:c r0 b-1\n"
              "error f7 OPES_EBAD_TRACE@255\n",
              strlen("error f0 OPES_EBAD_TRACE@10\n"
                     "via f0 urn:orphan r1 b-1\n"
                     "via f0 urn:svc r3 b-1\n"
                     "bypass f1 * r0 b-1\n"
                     "system f2 http://S.example/a/../sys r1 b0\n"
                     "via f3 http://s.example:80/sys r1 b0\n"
                     "via f3 urn:p r2 b0\n"
                     "error f4 OPES_EBAD_TRACE@155\n"
                     "via f4 urn:other r1 b0\n"
                     "via f4 urn:x r0 b0\n"
                     "system f5 urn:bad r1 b1\n"
                     "error f5 OPES_EURI_NOT_ABSOLUTE@207\n"
                     "bypass f6 urn:a,b r0 b-1\n"
                     "bypass f6 urn:c r0 b-1\n"
                     "error f7 OPES_EBAD_TRACE@255\n"));
    /* a malformed header ends the walk with its status */
    CHECK_ST(opes_trace_reader_start(r, S("OPES-System: urn:a\r\nbroken line\r\n\r\n"), 0),
             OPES_OK);
    CHECK_ST(opes_trace_reader_next(r, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_TRACE_EV_SYSTEM);
    CHECK_ST(opes_trace_reader_next(r, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_TRACE_EV_ERROR);
    CHECK_ST(ev.status, OPES_EBAD_HEADER);
    CHECK_EQ(ev.offset, 20);
    CHECK_ST(opes_trace_reader_next(r, &ev), OPES_ENOTFOUND);
    CHECK_ST(opes_trace_reader_next(r, &ev), OPES_ENOTFOUND);
    /* LF-only files with the flag */
    CHECK_ST(opes_trace_reader_start(r, S("OPES-System: urn:a\n\n"), OPES_HEADER_LF), OPES_OK);
    CHECK_ST(opes_trace_reader_next(r, &ev), OPES_OK);
    CHECK_STR(ev.entry.id, "urn:a");
    /* 3.6 under several System fields: each Via field is checked against
     * the nearest one above, not an older one, and against every entry of
     * it, spellings compared as in section 2 */
    {
        static const char h2[] = "OPES-System: urn:new, HTTP://Q.example:80\r\n"
                                 "OPES-Via: http://q.example/, urn:s1\r\n" /* 2nd entry, norm. */
                                 "OPES-Via: urn:new\r\n"
                                 "OPES-Via: urn:old\r\n" /* the older system */
                                 "OPES-System: urn:old\r\n"
                                 "OPES-Via: urn:old\r\n"
                                 "OPES-Via: urn:new\r\n\r\n"; /* the newer system */
        size_t errs = 0, fld[4] = {0};
        const char *g = guarded_copy(h2, sizeof h2 - 1);
        CHECK_ST(opes_trace_reader_start(r, g, sizeof h2 - 1, 0), OPES_OK);
        while (opes_trace_reader_next(r, &ev) == OPES_OK)
            if (ev.type == OPES_TRACE_EV_ERROR && errs < 4)
                fld[errs++] = ev.field;
        CHECK_EQ(errs, 2);
        CHECK_EQ(fld[0], 3);
        CHECK_EQ(fld[1], 6);
        guarded_free(g);
    }
    /* 1000 OPES fields are read; the 1001st ends the walk */
    {
        size_t cap = 1001 * 20 + 4, n = 0, sys = 0, errs = 0;
        char *big = malloc(cap);
        for (size_t i = 0; i < 1001; i++)
            n += (size_t)sprintf(big + n, "OPES-System: urn:%zu\r\n", i % 10);
        CHECK_ST(opes_trace_reader_start(r, big, n, 0), OPES_OK);
        while (opes_trace_reader_next(r, &ev) == OPES_OK) {
            if (ev.type == OPES_TRACE_EV_SYSTEM)
                sys++;
            else {
                errs++;
                CHECK_ST(ev.status, OPES_ETOO_MANY_ITEMS);
                CHECK_EQ(ev.field, 1000);
            }
        }
        CHECK_EQ(sys, 1000);
        CHECK_EQ(errs, 1);
        free(big);
    }
    opes_trace_reader_free(r);
}

/* ---- a failing allocator ------------------------------------------------------------------- */

typedef struct failer {
    long fail_at; /* the allocation number that fails (1-based), 0: none */
    long count;
    long live;
} failer;

static void *f_alloc(void *user, size_t size)
{
    failer *f = user;
    if (++f->count == f->fail_at)
        return NULL;
    f->live++;
    return malloc(size);
}

static void f_free(void *user, void *p, size_t size)
{
    failer *f = user;
    (void)size;
    f->live--;
    free(p);
}

static opes_status run_with(const opes_allocator *a)
{
    static const char h[] = "Received: x\r\nOPES-System: urn:s\r\n\r\n";
    opes_trace *t = NULL;
    char b[2048];
    size_t n;
    opes_status st = opes_trace_new(&t, a);
    if (st == OPES_OK)
        st = opes_trace_set_system(t, S("urn:me"));
    if (st == OPES_OK)
        st = opes_trace_set_privacy(t, S("https://p.example/"));
    if (st == OPES_OK)
        st = opes_trace_set_processor(t, S("urn:proc"));
    if (st == OPES_OK)
        st = opes_trace_begin(t, h, sizeof h - 1);
    for (int i = 0; st == OPES_OK && i < 20; i++)
        st = opes_trace_service(t, S("urn:svc"), 0, 0);
    if (st == OPES_OK)
        st = opes_trace_verify(t, h, sizeof h - 1);
    if (st == OPES_OK)
        st = opes_trace_emit(t, b, sizeof b, &n, 0);
    opes_trace_free(t);
    return st;
}

static void test_failing_alloc(void)
{
    failer f = {0, 0, 0};
    opes_allocator a = {f_alloc, NULL, f_free, &f};
    long total;
    CHECK_ST(run_with(&a), OPES_OK);
    total = f.count;
    CHECK(total > 5);
    CHECK_EQ(f.live, 0);
    for (long i = 1; i <= total; i++) {
        opes_status st;
        f.fail_at = i;
        f.count = 0;
        f.live = 0;
        st = run_with(&a);
        CHECK_ST(st, OPES_ENOMEM);
        CHECK_EQ(f.live, 0);
    }
    /* the reader: one allocation */
    {
        opes_trace_reader *r = (opes_trace_reader *)1;
        f.fail_at = 1;
        f.count = 0;
        CHECK_ST(opes_trace_reader_new(&r, &a), OPES_ENOMEM);
        CHECK(r == NULL);
    }
}

int main(void)
{
    test_delimiting();
    test_grammar();
    test_rfc4236_fig17();
    test_spec_block();
    test_builders();
    test_limits();
    test_reply();
    test_flow();
    test_verify_cases();
    test_verify_added_copy();
    test_reader_errors();
    test_failing_alloc();
    return TEST_END();
}
