/* ESMTP parameters of MAIL/RCPT: opes_params_parse, the typed accessors and
 * opes_params_build. Expectations come from the RFCs' examples and ABNF
 * (quoted at each test) and from the smtp-proto flaws measured in
 * shared/research/anchors.md 1.5; offsets are counted by hand. */
#include "harness.h"

#include <stdlib.h>

/* ---- helpers -------------------------------------------------------------- */

static const char *const ALL[] = {"SIZE",      "8BITMIME", "BINARYMIME", "CHUNKING",
                                  "DSN",       "SMTPUTF8", "REQUIRETLS", "MT-PRIORITY",
                                  "DELIVERBY", "AUTH",     NULL};
static const char *const NONE[] = {NULL};

static opes_smtp_config *mkcfg(const char *const *offer)
{
    opes_smtp_config *c = NULL;
    if (opes_smtp_config_new(&c, NULL) != OPES_OK)
        abort();
    for (; *offer; offer++) {
        if (opes_smtp_config_offer(c, *offer, 1, NULL) != OPES_OK)
            abort();
    }
    return c;
}

/* A test extension with parameters of each value rule, for both verbs. */
static void add_x(opes_smtp_config *c)
{
    CHECK_ST(opes_smtp_config_add_extension(c, "X-TEST", 0, 0), OPES_OK);
    CHECK_ST(opes_smtp_config_add_param(c, "X-TEST", "X-OPES-BYPASS", OPES_PARAM_MAIL,
                                        OPES_VALUE_REQUIRED),
             OPES_OK);
    CHECK_ST(opes_smtp_config_add_param(c, "X-TEST", "X-ID", OPES_PARAM_MAIL | OPES_PARAM_RCPT,
                                        OPES_VALUE_REQUIRED),
             OPES_OK);
    CHECK_ST(opes_smtp_config_add_param(c, "X-TEST", "X-NONE", OPES_PARAM_MAIL, OPES_VALUE_NONE),
             OPES_OK);
    CHECK_ST(opes_smtp_config_add_param(c, "X-TEST", "X-REQ", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED),
             OPES_OK);
    CHECK_ST(opes_smtp_config_add_param(c, "X-TEST", "X-OPT", OPES_PARAM_MAIL, OPES_VALUE_OPTIONAL),
             OPES_OK);
    CHECK_ST(opes_smtp_config_offer(c, "X-TEST", 1, NULL), OPES_OK);
}

/* One parse of input that sits at the end of a guarded page. */
struct run {
    const char *buf;
    size_t len;
    opes_params p;
    size_t off;
    opes_status st;
};

static opes_status run_n(struct run *r, const opes_smtp_config *c, int verb, const char *s,
                         size_t n)
{
    /* guarded_free() cannot release a 0-byte guarded_copy() (it reads the
     * guard page), so an empty input is a plain empty string */
    r->buf = n ? guarded_copy(s, n) : "";
    r->len = n;
    r->off = 99999;
    memset(&r->p, 0xA5, sizeof r->p);
    r->st = opes_params_parse(c, verb, r->buf, n, &r->p, &r->off);
    CHECK(r->off <= n);
    return r->st;
}

static opes_status run(struct run *r, const opes_smtp_config *c, int verb, const char *s)
{
    return run_n(r, c, verb, s, strlen(s));
}

static void done(struct run *r)
{
    if (r->len)
        guarded_free(r->buf);
}

/* Parse s; expect status st and, on error, err_offset off. */
#define EXPECT_N(c, verb, s, n, want_st, want_off)                                                 \
    do {                                                                                           \
        struct run r_;                                                                             \
        run_n(&r_, (c), (verb), (s), (n));                                                         \
        CHECK_ST(r_.st, (want_st));                                                                \
        CHECK_EQ(r_.off, (want_st) == OPES_OK ? 0 : (want_off));                                   \
        done(&r_);                                                                                 \
    } while (0)
#define EXPECT(c, verb, s, want_st, want_off) EXPECT_N(c, verb, s, strlen(s), want_st, want_off)
#define MAIL OPES_VERB_MAIL
#define RCPT OPES_VERB_RCPT

static opes_param mkp(const char *kw, const char *v)
{
    opes_param p;
    p.keyword.ptr = kw;
    p.keyword.len = strlen(kw);
    p.value.ptr = v;
    p.value.len = v ? strlen(v) : 0;
    p.has_value = v != NULL;
    return p;
}

static int same_list(const opes_params *a, const opes_params *b)
{
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        const opes_param *x = &a->item[i], *y = &b->item[i];
        if (x->has_value != y->has_value || x->keyword.len != y->keyword.len ||
            x->value.len != y->value.len ||
            memcmp(x->keyword.ptr, y->keyword.ptr, x->keyword.len) != 0 ||
            (x->value.len && memcmp(x->value.ptr, y->value.ptr, x->value.len) != 0))
            return 0;
    }
    return 1;
}

/* ---- RFC examples --------------------------------------------------------- */

/* RFC 3461 10.1 (rfc-notes-2 7.3): Alice's submission.
 *   >>> MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159
 *   >>> RCPT TO:<Bob@Example.COM> NOTIFY=SUCCESS ORCPT=rfc822;Bob@Example.COM
 *   ...
 *   >>> RCPT TO:<Fred@Bombs.AF.MIL> NOTIFY=NEVER */
static void test_rfc3461_example(void)
{
    opes_smtp_config *c = mkcfg((const char *const[]){"DSN", "SIZE", NULL});
    opes_smtp_config *none = mkcfg(NONE);
    struct run r;
    int ret = 0;
    unsigned notify = 0;
    opes_str s, t, a;

    CHECK_ST(run(&r, c, MAIL, "RET=HDRS ENVID=QQ314159"), OPES_OK);
    CHECK_EQ(r.p.count, 2);
    CHECK_STR(r.p.item[0].keyword, "RET");
    CHECK_STR(r.p.item[0].value, "HDRS");
    CHECK_STR(r.p.item[1].keyword, "ENVID");
    CHECK_STR(r.p.item[1].value, "QQ314159");
    CHECK_EQ(r.p.item[1].has_value, 1);
    CHECK_ST(opes_params_ret(&r.p, &ret), OPES_OK);
    CHECK_EQ(ret, OPES_RET_HDRS);
    CHECK_ST(opes_params_envid(&r.p, &s), OPES_OK);
    CHECK_STR(s, "QQ314159");
    CHECK(s.ptr == r.buf + 15); /* a view into the caller's bytes */
    CHECK_ST(opes_params_size(&r.p, &(uint64_t){0}), OPES_ENOTFOUND);
    done(&r);

    static const struct {
        const char *line, *addr;
        unsigned notify;
    } rcpt[] = {
        {"NOTIFY=SUCCESS ORCPT=rfc822;Bob@Example.COM", "Bob@Example.COM", OPES_NOTIFY_SUCCESS},
        {"NOTIFY=FAILURE ORCPT=rfc822;Carol@Ivory.EDU", "Carol@Ivory.EDU", OPES_NOTIFY_FAILURE},
        {"NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.EDU", "Dana@Ivory.EDU",
         OPES_NOTIFY_SUCCESS | OPES_NOTIFY_FAILURE},
        {"NOTIFY=FAILURE ORCPT=rfc822;Eric@Bombs.AF.MIL", "Eric@Bombs.AF.MIL", OPES_NOTIFY_FAILURE},
        {"NOTIFY=FAILURE ORCPT=rfc822;George@Tax-ME.GOV", "George@Tax-ME.GOV", OPES_NOTIFY_FAILURE},
    };
    for (size_t i = 0; i < sizeof rcpt / sizeof rcpt[0]; i++) {
        CHECK_ST(run(&r, c, RCPT, rcpt[i].line), OPES_OK);
        CHECK_EQ(r.p.count, 2);
        CHECK_ST(opes_params_notify(&r.p, &notify), OPES_OK);
        CHECK_EQ(notify, rcpt[i].notify);
        CHECK_ST(opes_params_orcpt(&r.p, &t, &a), OPES_OK);
        CHECK_STR(t, "rfc822");
        CHECK_STR(a, rcpt[i].addr);
        done(&r);
    }
    CHECK_ST(run(&r, c, RCPT, "NOTIFY=NEVER"), OPES_OK);
    CHECK_ST(opes_params_notify(&r.p, &notify), OPES_OK);
    CHECK_EQ(notify, OPES_NOTIFY_NEVER);
    CHECK_ST(opes_params_orcpt(&r.p, &t, &a), OPES_ENOTFOUND);
    done(&r);

    /* The same MAIL to a server that does not offer DSN: 555 (RFC 5321
     * 4.1.1.11), at the first parameter; the offending one is kept. */
    CHECK_ST(run(&r, none, MAIL, "RET=HDRS ENVID=QQ314159"), OPES_EPARAM_UNKNOWN);
    CHECK_EQ(r.off, 0);
    CHECK_EQ(r.p.count, 1);
    CHECK_STR(r.p.item[0].keyword, "RET");
    done(&r);
    /* DSN parameters belong to their verb: RET on RCPT, NOTIFY on MAIL */
    EXPECT(c, RCPT, "NOTIFY=FAILURE RET=HDRS", OPES_EPARAM_UNKNOWN, 15);
    EXPECT(c, MAIL, "NOTIFY=FAILURE", OPES_EPARAM_UNKNOWN, 0);
    opes_smtp_config_free(c);
    opes_smtp_config_free(none);
}

/* RFC 6710 8, the submission example:
 *   S: 250-DSN / 250-DELIVERBY / 250 MT-PRIORITY MIXER
 *   C: MAIL FROM:<eljefe@example.com> BY=125;R ENVID=QQ314159 MT-PRIORITY=3
 *   C: RCPT TO:<Dana@Ivory.example.net> NOTIFY=SUCCESS,FAILURE
 *      ORCPT=rfc822;Dana@Ivory.example.net
 * and the relay: "MAIL FROM:<eljefe@example.com> BY=120;R ENVID=QQ314159
 * MT-PRIORITY=3". */
static void test_rfc6710_example(void)
{
    opes_smtp_config *c = mkcfg((const char *const[]){"DSN", "DELIVERBY", "MT-PRIORITY", NULL});
    opes_smtp_config *noprio = mkcfg((const char *const[]){"DSN", "DELIVERBY", NULL});
    struct run r;
    int prio = 42;
    int64_t secs = 0;
    unsigned mode = 0, notify = 0;
    opes_str s;

    CHECK_ST(run(&r, c, MAIL, "BY=125;R ENVID=QQ314159 MT-PRIORITY=3"), OPES_OK);
    CHECK_EQ(r.p.count, 3);
    CHECK_ST(opes_params_by(&r.p, &secs, &mode), OPES_OK);
    CHECK_EQ(secs, 125);
    CHECK_EQ(mode, OPES_BY_RETURN);
    CHECK_ST(opes_params_mt_priority(&r.p, &prio), OPES_OK);
    CHECK_EQ(prio, 3);
    CHECK_ST(opes_params_envid(&r.p, &s), OPES_OK);
    CHECK_STR(s, "QQ314159");
    done(&r);
    CHECK_ST(run(&r, c, MAIL, "BY=120;R ENVID=QQ314159 MT-PRIORITY=3"), OPES_OK);
    CHECK_ST(opes_params_by(&r.p, &secs, &mode), OPES_OK);
    CHECK_EQ(secs, 120);
    done(&r);
    CHECK_ST(run(&r, c, RCPT, "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example.net"),
             OPES_OK);
    CHECK_ST(opes_params_notify(&r.p, &notify), OPES_OK);
    CHECK_EQ(notify, OPES_NOTIFY_SUCCESS | OPES_NOTIFY_FAILURE);
    done(&r);
    /* without MT-PRIORITY offered: 555 at "MT-PRIORITY" (9 + 14 + 1 = 24) */
    EXPECT(noprio, MAIL, "BY=125;R ENVID=QQ314159 MT-PRIORITY=3", OPES_EPARAM_UNKNOWN, 24);
    opes_smtp_config_free(c);
    opes_smtp_config_free(noprio);
}

/* RFC 4954 5.1:
 *   C: MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com
 *   C: MAIL FROM:<john+@example.org> AUTH=<> */
static void test_rfc4954_auth(void)
{
    opes_smtp_config *c = mkcfg((const char *const[]){"AUTH", NULL});
    opes_smtp_config *none = mkcfg(NONE);
    struct run r;
    opes_str x;
    char dec[64];
    size_t n = 0;

    CHECK_ST(run(&r, c, MAIL, "AUTH=e+3Dmc2@example.com"), OPES_OK);
    CHECK_ST(opes_params_auth(&r.p, &x), OPES_OK);
    CHECK_STR(x, "e+3Dmc2@example.com");
    CHECK_ST(opes_xtext_decode(dec, sizeof dec, &n, x.ptr, x.len, 0), OPES_OK);
    CHECK_MEM(dec, n, "e=mc2@example.com", 17);
    done(&r);
    CHECK_ST(run(&r, c, MAIL, "AUTH=<>"), OPES_OK);
    CHECK_ST(opes_params_auth(&r.p, &x), OPES_OK);
    CHECK_STR(x, "<>");
    done(&r);
    EXPECT(c, MAIL, "AUTH=+3C+3E", OPES_OK, 0); /* "<>" hex-encoded */
    /* the decoded value must be a mailbox or "<>" */
    EXPECT(c, MAIL, "AUTH=foo", OPES_EPARAM_VALUE, 5);
    EXPECT(c, MAIL, "AUTH=<", OPES_EPARAM_VALUE, 5);
    EXPECT(c, MAIL, "AUTH=a+2", OPES_EBAD_XTEXT, 8);
    EXPECT(c, MAIL, "AUTH=a+3d@example.com", OPES_EBAD_XTEXT, 8);
    EXPECT(c, MAIL, "AUTH", OPES_EPARAM_VALUE, 4);
    EXPECT(none, MAIL, "AUTH=<>", OPES_EPARAM_UNKNOWN, 0);
    EXPECT(c, RCPT, "AUTH=<>", OPES_EPARAM_UNKNOWN, 0);
    /* decoding to more than OPES_MAX_PATH octets is refused outright */
    {
        static char big[5 + OPES_MAX_PATH + 16];
        memcpy(big, "AUTH=", 5);
        memset(big + 5, 'a', OPES_MAX_PATH + 1);
        memcpy(big + 5 + OPES_MAX_PATH + 1, "@example.com", 12);
        EXPECT_N(c, MAIL, big, 5 + OPES_MAX_PATH + 13, OPES_EPARAM_TOO_LONG, 5 + OPES_MAX_PATH);
    }
    /* a quoted local-part, xtext-encoded: "a b"@example.com */
    EXPECT(c, MAIL, "AUTH=+22a+20b+22@example.com", OPES_OK, 0);

    /* RFC 5321 4.5.3.1.1: a local-part over 64 octets (SRS/VERP) is refused
     * strictly, accepted and noted with OPES_LENIENT_LONG_ADDRESS */
    {
        char line[128], hand[128];
        opes_params p;
        memcpy(line, "AUTH=", 5);
        memset(line + 5, 'v', 70);
        memcpy(line + 75, "@example.com!", 13);
        EXPECT_N(c, MAIL, line, 87, OPES_EPARAM_VALUE, 5);
        CHECK_ST(opes_smtp_config_set_lenient(c, OPES_LENIENT_LONG_ADDRESS), OPES_OK);
        CHECK_ST(run_n(&r, c, MAIL, line, 87), OPES_OK);
        CHECK(r.p.notes & OPES_NOTE_LONG_ADDRESS);
        done(&r);
        CHECK_ST(opes_smtp_config_set_lenient(c, 0), OPES_OK);
        /* an accessor judges as the most lenient config: long passes, but
         * what follows the limit is still checked */
        memcpy(hand, line + 5, 82);
        memset(&p, 0, sizeof p);
        p.count = 1;
        p.item[0] = mkp("AUTH", NULL);
        p.item[0].has_value = 1;
        p.item[0].value.ptr = hand;
        p.item[0].value.len = 82;
        CHECK_ST(opes_params_auth(&p, &x), OPES_OK);
        hand[82] = '!';
        p.item[0].value.len = 83;
        CHECK_ST(opes_params_auth(&p, &x), OPES_EPARAM_VALUE);
        hand[20] = '(';
        p.item[0].value.len = 82;
        CHECK_ST(opes_params_auth(&p, &x), OPES_EPARAM_VALUE);
    }
    opes_smtp_config_free(c);
    opes_smtp_config_free(none);
}

/* RFC 1870 3 "size-value ::= 1*20DIGIT"; 6 "Only one SIZE parameter may be
 * specified in a single MAIL command." */
static void test_rfc1870_size(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    struct run r;
    uint64_t size = 1;

    CHECK_ST(run(&r, c, MAIL, "SIZE=0"), OPES_OK);
    CHECK_ST(opes_params_size(&r.p, &size), OPES_OK);
    CHECK_EQ(size, 0);
    done(&r);
    CHECK_ST(run(&r, c, MAIL, "SIZE=18446744073709551615"), OPES_OK);
    CHECK_ST(opes_params_size(&r.p, &size), OPES_OK);
    CHECK(size == UINT64_MAX);
    done(&r);
    CHECK_ST(run(&r, c, MAIL, "SIZE=00000000000000000042"), OPES_OK); /* 20 digits */
    CHECK_ST(opes_params_size(&r.p, &size), OPES_OK);
    CHECK_EQ(size, 42);
    done(&r);
    /* 20 digits past UINT64_MAX: a number out of range */
    EXPECT(c, MAIL, "SIZE=18446744073709551616", OPES_EBAD_NUMBER, 5);
    EXPECT(c, MAIL, "SIZE=99999999999999999999", OPES_EBAD_NUMBER, 5);
    /* 21 digits break 1*20DIGIT at the 21st */
    EXPECT(c, MAIL, "SIZE=000000000000000000001", OPES_EPARAM_VALUE, 25);
    EXPECT(c, MAIL, "SIZE=12a", OPES_EPARAM_VALUE, 7);
    EXPECT(c, MAIL, "SIZE=-1", OPES_EPARAM_VALUE, 5);
    EXPECT(c, MAIL, "SIZE", OPES_EPARAM_VALUE, 4);
    EXPECT(c, RCPT, "SIZE=10", OPES_EPARAM_UNKNOWN, 0);
    opes_smtp_config_free(c);
}

/* RFC 6531 3.1 "One OPTIONAL parameter, SMTPUTF8, is added to the MAIL
 * command. The parameter does not accept a value"; 3.3 "esmtp-value =/
 * UTF8-non-ascii". */
static void test_rfc6531_smtputf8(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    opes_smtp_config *nou = mkcfg((const char *const[]){"SIZE", NULL});
    struct run r;

    add_x(c);
    add_x(nou);
    CHECK_ST(run(&r, c, MAIL, "SMTPUTF8"), OPES_OK);
    CHECK_ST(opes_params_smtputf8(&r.p), OPES_OK);
    CHECK_EQ(r.p.item[0].has_value, 0);
    CHECK(r.p.item[0].value.len == 0);
    done(&r);
    EXPECT(c, MAIL, "SMTPUTF8=YES", OPES_EPARAM_VALUE, 8);
    EXPECT(c, RCPT, "SMTPUTF8", OPES_EPARAM_UNKNOWN, 0);
    EXPECT(nou, MAIL, "SMTPUTF8", OPES_EPARAM_UNKNOWN, 0);

    /* UTF-8 in a value: allowed by the command's own SMTPUTF8, before or
     * after it in the list */
    CHECK_ST(run(&r, c, MAIL, "X-ID=caf\xc3\xa9 SMTPUTF8"), OPES_OK);
    CHECK_STR(r.p.item[0].value, "caf\xc3\xa9");
    CHECK(!(r.p.notes & OPES_NOTE_8BIT));
    done(&r);
    EXPECT(c, MAIL, "SMTPUTF8 X-ID=caf\xc3\xa9", OPES_OK, 0);
    EXPECT(c, MAIL, "smtputf8 X-ID=caf\xc3\xa9", OPES_OK, 0);
    /* without it: 8-bit is not esmtp-value (RFC 5321 4.1.2) */
    EXPECT(c, MAIL, "X-ID=caf\xc3\xa9", OPES_EBAD_UTF8, 8);
    EXPECT(c, MAIL, "X-ID=caf\xc3\xa9 SMTPUTF8=1", OPES_EBAD_UTF8, 8);
    /* SMTPUTF8 not offered does not count */
    EXPECT(nou, MAIL, "X-ID=caf\xc3\xa9 SMTPUTF8", OPES_EBAD_UTF8, 8);
    /* with it, still only well-formed UTF-8 (RFC 3629) */
    EXPECT(c, MAIL, "SMTPUTF8 X-ID=caf\xc3", OPES_EBAD_UTF8, 17);
    EXPECT(c, MAIL, "SMTPUTF8 X-ID=\xc0\xaf", OPES_EBAD_UTF8, 14);
    EXPECT(c, MAIL, "SMTPUTF8 X-ID=\xed\xa0\x80", OPES_EBAD_UTF8, 14); /* surrogate */
    /* a keyword stays ASCII */
    EXPECT(c, MAIL, "SMTPUTF8 X-\xc3\xa9=1", OPES_EBAD_PARAM, 11);

    /* RCPT: SMTPUTF8 in effect for the transaction (RFC 6531 3.4) */
    EXPECT(c, RCPT, "X-ID=caf\xc3\xa9", OPES_EBAD_UTF8, 8);
    CHECK_ST(opes_smtp_config_set_utf8(c, 1), OPES_OK);
    EXPECT(c, RCPT, "X-ID=caf\xc3\xa9", OPES_OK, 0);
    CHECK_ST(opes_smtp_config_set_utf8(c, 0), OPES_OK);

    /* lenient: 8-bit without SMTPUTF8, still UTF-8, and noted */
    CHECK_ST(opes_smtp_config_set_lenient(c, OPES_LENIENT_8BIT), OPES_OK);
    CHECK_ST(run(&r, c, MAIL, "X-ID=caf\xc3\xa9"), OPES_OK);
    CHECK(r.p.notes & OPES_NOTE_8BIT);
    done(&r);
    EXPECT(c, MAIL, "X-ID=caf\xff", OPES_EBAD_UTF8, 8);
    opes_smtp_config_free(c);
    opes_smtp_config_free(nou);
}

/* RFC 8689 2: "One optional parameter ("REQUIRETLS") is added to the MAIL
 * FROM command by this extension. No value is associated with this
 * parameter." */
static void test_rfc8689_requiretls(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    opes_smtp_config *none = mkcfg(NONE);
    struct run r;

    CHECK_ST(run(&r, c, MAIL, "REQUIRETLS"), OPES_OK);
    CHECK_ST(opes_params_requiretls(&r.p), OPES_OK);
    CHECK_ST(opes_params_smtputf8(&r.p), OPES_ENOTFOUND);
    done(&r);
    EXPECT(c, MAIL, "BODY=8BITMIME REQUIRETLS SMTPUTF8", OPES_OK, 0);
    EXPECT(c, MAIL, "REQUIRETLS=1", OPES_EPARAM_VALUE, 10);
    EXPECT(c, RCPT, "REQUIRETLS", OPES_EPARAM_UNKNOWN, 0);
    EXPECT(none, MAIL, "REQUIRETLS", OPES_EPARAM_UNKNOWN, 0);
    opes_smtp_config_free(c);
    opes_smtp_config_free(none);
}

/* RFC 6533 3: ORCPT=utf-8; with utf-8-addr-xtext (7-bit, "Safe for use in
 * the ORCPT parameter even when SMTPUTF8 SMTP extension is not advertised"),
 * utf-8-addr-unitext ("when SMTPUTF8 SMTP extension is also advertised"), or
 * the raw utf-8-address; "MUST follow utf-8-address ABNF when dequoted".
 * Inputs built from that ABNF; U+611B is 0xE6 0x84 0x9B in UTF-8. */
static void test_rfc6533_orcpt(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    struct run r;
    opes_str t, a;

    CHECK_ST(run(&r, c, RCPT, "ORCPT=utf-8;\\x{611B}@example.com"), OPES_OK);
    CHECK_ST(opes_params_orcpt(&r.p, &t, &a), OPES_OK);
    CHECK_STR(t, "utf-8");
    CHECK_STR(a, "\\x{611B}@example.com");
    done(&r);
    EXPECT(c, RCPT, "ORCPT=UTF-8;\\x{611B}@example.com", OPES_OK, 0);
    EXPECT(c, RCPT, "ORCPT=utf-8;a\\x{2B}b@example.com", OPES_OK, 0); /* "+" as HEXPOINT 2B */
    /* an escaped QCHAR is not a HEXPOINT form: at the "\" (offset 12) */
    EXPECT(c, RCPT, "ORCPT=utf-8;\\x{41}@example.com", OPES_EBAD_UTF8ADDR, 12);
    EXPECT(c, RCPT, "ORCPT=utf-8;", OPES_EBAD_UTF8ADDR, 12); /* 1*( ... ) */
    /* "+" is not a QCHAR: xtext hexchars have no place in this form */
    EXPECT(c, RCPT, "ORCPT=utf-8;a+2Bb@example.com", OPES_EBAD_UTF8ADDR, 13);
    /* dequoted, not a Mailbox */
    EXPECT(c, RCPT, "ORCPT=utf-8;\\x{611B}", OPES_EPARAM_VALUE, 12);

    /* raw UTF-8 (unitext, or the raw address) needs SMTPUTF8 */
    EXPECT(c, RCPT, "ORCPT=utf-8;\xe6\x84\x9b@example.com", OPES_EBAD_UTF8, 12);
    CHECK_ST(opes_smtp_config_set_utf8(c, 1), OPES_OK);
    EXPECT(c, RCPT, "ORCPT=utf-8;\xe6\x84\x9b@example.com", OPES_OK, 0);
    EXPECT(c, RCPT, "ORCPT=utf-8;\xe6\x84\x9b\\x{2B}x@example.com", OPES_OK, 0); /* unitext */
    EXPECT(c, RCPT, "ORCPT=utf-8;\xe6\x84\x9b+x@example.com", OPES_OK, 0);       /* raw */
    EXPECT(c, RCPT, "ORCPT=utf-8;\xe6\x84\x9b", OPES_EPARAM_VALUE, 12);
    CHECK_ST(opes_smtp_config_set_utf8(c, 0), OPES_OK);
    opes_smtp_config_free(c);
}

/* RFC 3461 4.2: original-recipient-address = addr-type ";" xtext;
 * addr-type = atom; "The entire ORCPT parameter MAY be up to 500 characters
 * in length"; the address before encoding is printable US-ASCII. */
static void test_orcpt_rfc822(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    char line[600];

    EXPECT(c, RCPT, "ORCPT=rfc822;a+2Bb@example.com", OPES_OK, 0);
    EXPECT(c, RCPT, "ORCPT=x-local;anything", OPES_OK, 0);
    EXPECT(c, RCPT, "ORCPT=rfc822", OPES_EPARAM_VALUE, 12);
    EXPECT(c, RCPT, "ORCPT=;a@b", OPES_EPARAM_VALUE, 6);
    EXPECT(c, RCPT, "ORCPT=rfc(822;a@b", OPES_EPARAM_VALUE, 9);
    EXPECT(c, RCPT, "ORCPT=rfc822;a+2", OPES_EBAD_XTEXT, 16);
    EXPECT(c, RCPT, "ORCPT=rfc822;a+2b", OPES_EBAD_XTEXT, 16);
    EXPECT(c, RCPT, "ORCPT=rfc822;a+00", OPES_EPARAM_VALUE, 14); /* NUL, decoded */
    EXPECT(c, RCPT, "ORCPT=rfc822;a+C3+A9", OPES_EPARAM_VALUE, 14);
    /* the whole parameter: 13 + 487 = 500 characters, then 501 */
    memcpy(line, "ORCPT=rfc822;", 13);
    memset(line + 13, 'x', 488);
    EXPECT_N(c, RCPT, line, 500, OPES_OK, 0);
    EXPECT_N(c, RCPT, line, 501, OPES_EPARAM_TOO_LONG, 500);
    opes_smtp_config_free(c);
}

/* RFC 3461 4.4 "The ENVID parameter MAY be up to 100 characters in length";
 * xtext (RFC 3461 4): "+" two upper case hex digits. */
static void test_envid(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    struct run r;
    char line[200];
    opes_str s;

    memcpy(line, "ENVID=", 6);
    memset(line + 6, 'A', 101);
    EXPECT_N(c, MAIL, line, 106, OPES_OK, 0);                /* exactly 100 */
    EXPECT_N(c, MAIL, line, 107, OPES_EPARAM_TOO_LONG, 106); /* 101 */
    /* the limit counts decoded octets: 98 + "+2B+3D" is 100 */
    memcpy(line + 6 + 98, "+2B+3D", 6);
    EXPECT_N(c, MAIL, line, 6 + 98 + 6, OPES_OK, 0);
    memset(line + 6, 'A', 99);
    memcpy(line + 6 + 99, "+2B+3D", 6);
    EXPECT_N(c, MAIL, line, 6 + 99 + 6, OPES_EPARAM_TOO_LONG, 6 + 99 + 3);

    /* strict: upper-case hex only; lenient accepts and notes */
    EXPECT(c, MAIL, "ENVID=a+2bc", OPES_EBAD_XTEXT, 9);
    EXPECT(c, MAIL, "ENVID=a+", OPES_EBAD_XTEXT, 8);
    EXPECT(c, MAIL, "ENVID=a+G0", OPES_EBAD_XTEXT, 8);
    CHECK_ST(opes_smtp_config_set_lenient(c, OPES_LENIENT_XTEXT_CASE), OPES_OK);
    CHECK_ST(run(&r, c, MAIL, "ENVID=a+2bc"), OPES_OK);
    CHECK(r.p.notes & OPES_NOTE_XTEXT_CASE);
    CHECK_ST(opes_params_envid(&r.p, &s), OPES_OK);
    CHECK_STR(s, "a+2bc");
    done(&r);
    CHECK_ST(opes_smtp_config_set_lenient(c, 0), OPES_OK);
    CHECK_ST(run(&r, c, MAIL, "ENVID=a+2Bc"), OPES_OK);
    CHECK(!(r.p.notes & OPES_NOTE_XTEXT_CASE));
    done(&r);

    /* printable US-ASCII before encoding ("graphic and white space") */
    EXPECT(c, MAIL, "ENVID=a+0Ab", OPES_EPARAM_VALUE, 7);
    EXPECT(c, MAIL, "ENVID=ab+7F", OPES_EPARAM_VALUE, 8);
    EXPECT(c, MAIL, "ENVID=a+C3+A9", OPES_EPARAM_VALUE, 7);
    EXPECT(c, MAIL, "ENVID=a+09b+20c", OPES_OK, 0);
    EXPECT(c, MAIL, "ENVID", OPES_EPARAM_VALUE, 5);
    opes_smtp_config_free(c);
}

/* RFC 3461 4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element;
 * "the NEVER keyword MUST appear by itself"; smtp-proto accepts
 * NOTIFY=NEVER,SUCCESS (anchors.md 1.5). */
static void test_notify(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    struct run r;
    unsigned n = 0;

    CHECK_ST(run(&r, c, RCPT, "NOTIFY=success,Failure,DELAY"), OPES_OK);
    CHECK_ST(opes_params_notify(&r.p, &n), OPES_OK);
    CHECK_EQ(n, OPES_NOTIFY_SUCCESS | OPES_NOTIFY_FAILURE | OPES_NOTIFY_DELAY);
    CHECK_STR(r.p.item[0].value, "success,Failure,DELAY"); /* as sent */
    done(&r);
    EXPECT(c, RCPT, "NOTIFY=NEVER,SUCCESS", OPES_EPARAM_VALUE, 13);
    EXPECT(c, RCPT, "NOTIFY=SUCCESS,NEVER", OPES_EPARAM_VALUE, 15);
    EXPECT(c, RCPT, "NOTIFY=NEVER,NEVER", OPES_EPARAM_VALUE, 13);
    EXPECT(c, RCPT, "NOTIFY=SUCCESS,SUCCESS", OPES_EPARAM_VALUE, 15);
    EXPECT(c, RCPT, "NOTIFY=SUCCESS,", OPES_EPARAM_VALUE, 15);
    EXPECT(c, RCPT, "NOTIFY=,SUCCESS", OPES_EPARAM_VALUE, 7);
    EXPECT(c, RCPT, "NOTIFY=SUCCESS,,DELAY", OPES_EPARAM_VALUE, 15);
    EXPECT(c, RCPT, "NOTIFY=ALWAYS", OPES_EPARAM_VALUE, 7);
    EXPECT(c, RCPT, "NOTIFY=", OPES_EBAD_PARAM, 7);
    /* and the parameter itself at most once (RFC 3461 4.5) */
    EXPECT(c, RCPT, "NOTIFY=DELAY NOTIFY=FAILURE", OPES_EPARAM_DUPLICATE, 13);
    opes_smtp_config_free(c);
}

/* BODY: RFC 6152 2 body-value = "7BIT" / "8BITMIME"; RFC 3030 3 adds
 * "BINARYMIME" (example 4.2: "MAIL FROM:<Sam@Random.com> BODY=BINARYMIME").
 * RET: RFC 3461 4.3 "FULL" / "HDRS". */
static void test_body_ret(void)
{
    opes_smtp_config *c8 = mkcfg((const char *const[]){"8BITMIME", "DSN", NULL});
    opes_smtp_config *cb = mkcfg((const char *const[]){"BINARYMIME", "CHUNKING", NULL});
    struct run r;
    int body = 0, ret = 0;

    CHECK_ST(run(&r, c8, MAIL, "BODY=8bitmime"), OPES_OK);
    CHECK_ST(opes_params_body(&r.p, &body), OPES_OK);
    CHECK_EQ(body, OPES_BODY_8BITMIME);
    done(&r);
    EXPECT(c8, MAIL, "BODY=7BIT", OPES_OK, 0);
    /* BINARYMIME not offered: the server cannot implement it (555) */
    EXPECT(c8, MAIL, "BODY=BINARYMIME", OPES_EPARAM_UNKNOWN, 5);
    CHECK_ST(run(&r, cb, MAIL, "BODY=BINARYMIME"), OPES_OK);
    CHECK_ST(opes_params_body(&r.p, &body), OPES_OK);
    CHECK_EQ(body, OPES_BODY_BINARYMIME);
    done(&r);
    EXPECT(cb, MAIL, "BODY=8BITMIME", OPES_OK, 0); /* RFC 3030's body-value has it */
    EXPECT(c8, MAIL, "BODY=9BIT", OPES_EPARAM_VALUE, 5);
    EXPECT(c8, MAIL, "BODY=8BITMIMEX", OPES_EPARAM_VALUE, 5);
    /* smtp-proto ORs BODY=8BITMIME BODY=7BIT together (anchors.md 1.5);
     * RFC 6152 2: "Only one BODY parameter may be used in a single MAIL
     * command." */
    EXPECT(c8, MAIL, "BODY=8BITMIME BODY=7BIT", OPES_EPARAM_DUPLICATE, 14);

    CHECK_ST(run(&r, c8, MAIL, "RET=full"), OPES_OK);
    CHECK_ST(opes_params_ret(&r.p, &ret), OPES_OK);
    CHECK_EQ(ret, OPES_RET_FULL);
    done(&r);
    /* RFC 3461 5.1: an invalid RET MUST get 501 */
    EXPECT(c8, MAIL, "RET=ALL", OPES_EPARAM_VALUE, 4);
    EXPECT(c8, MAIL, "RET", OPES_EPARAM_VALUE, 3);
    EXPECT(c8, MAIL, "RET=HDRS RET=HDRS", OPES_EPARAM_DUPLICATE, 9);
    opes_smtp_config_free(c8);
    opes_smtp_config_free(cb);
}

/* RFC 6710 7: priority-value = (["-"] NZDIGIT) / "0" ; -9 to 9 */
static void test_mt_priority(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    static const struct {
        const char *line;
        int value;
        size_t off; /* 0: valid */
    } v[] = {
        {"MT-PRIORITY=-9", -9, 0}, {"MT-PRIORITY=9", 9, 0},    {"MT-PRIORITY=0", 0, 0},
        {"MT-PRIORITY=-1", -1, 0}, {"MT-PRIORITY=+3", 0, 12},  {"MT-PRIORITY=-0", 0, 13},
        {"MT-PRIORITY=10", 0, 13}, {"MT-PRIORITY=-10", 0, 14}, {"MT-PRIORITY=03", 0, 13},
        {"MT-PRIORITY=x", 0, 12},  {"MT-PRIORITY=-", 0, 13},   {"MT-PRIORITY=3a", 0, 13},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct run r;
        int prio = 99;
        if (v[i].off == 0) {
            CHECK_ST(run(&r, c, MAIL, v[i].line), OPES_OK);
            CHECK_ST(opes_params_mt_priority(&r.p, &prio), OPES_OK);
            CHECK_EQ(prio, v[i].value);
        } else {
            CHECK_ST(run(&r, c, MAIL, v[i].line), OPES_EPARAM_VALUE);
            CHECK_EQ(r.off, v[i].off);
        }
        done(&r);
    }
    /* RFC 6710 4.1: "more than one MT-PRIORITY parameter ... MUST return an
     * error" */
    EXPECT(c, MAIL, "MT-PRIORITY=3 MT-PRIORITY=-6", OPES_EPARAM_DUPLICATE, 14);
    opes_smtp_config_free(c);
}

/* RFC 2852 4: by-value = by-time ";" by-mode [by-trace];
 * by-time = ["-" / "+"] 1*9digit; "In the case of a by-mode of "R", a zero
 * or negative by-time is a syntax error"; with "N" "it is possible that
 * by-time may be zero or negative. This is not an error". */
static void test_by(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    static const struct {
        const char *line;
        int64_t secs;
        unsigned mode;
        size_t off; /* 0: valid */
    } v[] = {
        {"BY=125;R", 125, OPES_BY_RETURN, 0},
        {"BY=-5;N", -5, OPES_BY_NOTIFY, 0},
        {"BY=0;N", 0, OPES_BY_NOTIFY, 0},
        {"BY=+60;NT", 60, OPES_BY_NOTIFY | OPES_BY_TRACE, 0},
        {"BY=60;rt", 60, OPES_BY_RETURN | OPES_BY_TRACE, 0},
        {"BY=999999999;R", 999999999, OPES_BY_RETURN, 0},
        {"BY=-999999999;N", -999999999, OPES_BY_NOTIFY, 0},
        {"BY=0;R", 0, 0, 3},
        {"BY=-5;R", 0, 0, 3},
        {"BY=+0;RT", 0, 0, 3},
        {"BY=1234567890;N", 0, 0, 12},
        {"BY=60", 0, 0, 5},
        {"BY=60;", 0, 0, 6},
        {"BY=60;X", 0, 0, 6},
        {"BY=60;RX", 0, 0, 7},
        {"BY=60;TR", 0, 0, 6},
        {"BY=;N", 0, 0, 3},
        {"BY=+;N", 0, 0, 4},
        {"BY=6O;N", 0, 0, 4},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct run r;
        int64_t secs = 7;
        unsigned mode = 7;
        if (v[i].off == 0) {
            CHECK_ST(run(&r, c, MAIL, v[i].line), OPES_OK);
            CHECK_ST(opes_params_by(&r.p, &secs, &mode), OPES_OK);
            CHECK_EQ(secs, v[i].secs);
            CHECK_EQ(mode, v[i].mode);
        } else {
            CHECK_ST(run(&r, c, MAIL, v[i].line), OPES_EPARAM_VALUE);
            CHECK_EQ(r.off, v[i].off);
        }
        done(&r);
    }
    opes_smtp_config_free(c);
}

/* ---- generic grammar ------------------------------------------------------ */

/* smtp-proto drops an unknown parameter and upper-cases it (anchors.md 1.5:
 * X-OPES-BYPASS=all becomes "X-OPES-BYPASS=ALL"); we keep every parameter,
 * in order, as sent. */
static void test_kept_as_sent(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    opes_smtp_config *plain = mkcfg(ALL);
    struct run r;

    add_x(c);
    CHECK_ST(run(&r, c, MAIL, "SIZE=10 X-OPES-BYPASS=all BODY=8BITMIME"), OPES_OK);
    CHECK_EQ(r.p.count, 3);
    CHECK_STR(r.p.item[0].keyword, "SIZE");
    CHECK_STR(r.p.item[1].keyword, "X-OPES-BYPASS");
    CHECK_STR(r.p.item[1].value, "all");
    CHECK_STR(r.p.item[2].value, "8BITMIME");
    CHECK(opes_params_find(&r.p, "x-opes-bypass") == &r.p.item[1]);
    CHECK(!(r.p.notes & OPES_NOTE_CASE));
    done(&r);
    CHECK_ST(run(&r, c, MAIL, "x-opes-bypass=All size=10"), OPES_OK);
    CHECK_STR(r.p.item[0].keyword, "x-opes-bypass");
    CHECK_STR(r.p.item[0].value, "All");
    CHECK(r.p.notes & OPES_NOTE_CASE);
    done(&r);
    /* not registered: 555 at it, and the caller still sees it as sent */
    CHECK_ST(run(&r, plain, MAIL, "SIZE=10 X-OPES-BYPASS=all"), OPES_EPARAM_UNKNOWN);
    CHECK_EQ(r.off, 8);
    CHECK_EQ(r.p.count, 2);
    CHECK_STR(r.p.item[1].keyword, "X-OPES-BYPASS");
    CHECK_STR(r.p.item[1].value, "all");
    done(&r);
    opes_smtp_config_free(c);
    opes_smtp_config_free(plain);
}

/* RFC 1869 6 / RFC 1870 6: smtp-proto accepts SIZE=100 SIZE=200 and keeps
 * the last (anchors.md 1.5); a repeat is 501, compared case-insensitively. */
static void test_duplicates(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    struct run r;

    CHECK_ST(run(&r, c, MAIL, "SIZE=100 SIZE=200"), OPES_EPARAM_DUPLICATE);
    CHECK_EQ(r.off, 9);
    CHECK_EQ(r.p.count, 2); /* the offending one is the last item */
    CHECK_STR(r.p.item[1].value, "200");
    done(&r);
    EXPECT(c, MAIL, "SIZE=100 size=200", OPES_EPARAM_DUPLICATE, 9);
    EXPECT(c, MAIL, "SIZE=100 BODY=7BIT SMTPUTF8 Size=100", OPES_EPARAM_DUPLICATE, 28);
    EXPECT(c, MAIL, "SMTPUTF8 SMTPUTF8", OPES_EPARAM_DUPLICATE, 9);
    /* an unregistered repeat is still a repeat first (501 before 555) */
    EXPECT(c, MAIL, "X-A=1 X-A=2", OPES_EPARAM_UNKNOWN, 0);
    opes_smtp_config_free(c);
}

/* RFC 5321 4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-");
 * esmtp-value = 1*(%d33-60 / %d62-126); Mail-parameters = esmtp-param
 * *(SP esmtp-param). */
static void test_syntax(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    struct run r;

    add_x(c);
    CHECK_ST(run(&r, c, MAIL, "SIZE=1  BODY=7BIT"), OPES_EBAD_PARAM); /* double SP */
    CHECK_EQ(r.off, 7);
    CHECK_EQ(r.p.count, 1); /* the parameters before the error */
    done(&r);
    EXPECT(c, MAIL, " SIZE=1", OPES_EBAD_PARAM, 0);
    EXPECT(c, MAIL, "SIZE=1 ", OPES_EBAD_PARAM, 7); /* trailing SP: len */
    EXPECT(c, MAIL, " ", OPES_EBAD_PARAM, 0);
    EXPECT(c, MAIL, "SIZE=", OPES_EBAD_PARAM, 5);
    EXPECT(c, MAIL, "SIZE= BODY=7BIT", OPES_EBAD_PARAM, 5);
    EXPECT(c, MAIL, "=1", OPES_EBAD_PARAM, 0);
    EXPECT(c, MAIL, "-X=1", OPES_EBAD_PARAM, 0);
    EXPECT(c, MAIL, "X_Y=1", OPES_EBAD_PARAM, 1);
    EXPECT(c, MAIL, "SIZE=1\x01", OPES_EBAD_PARAM, 6);
    EXPECT(c, MAIL, "SIZE=1\tBODY=7BIT", OPES_EBAD_PARAM, 6);
    EXPECT(c, MAIL, "SIZE=1\r\n", OPES_EBAD_PARAM, 6);
    EXPECT(c, MAIL, "SIZE=1\x7f", OPES_EBAD_PARAM, 6);
    EXPECT(c, MAIL, "SIZE=1=2", OPES_EBAD_PARAM, 6);
    EXPECT(c, MAIL, "SIZE==1", OPES_EBAD_PARAM, 5);
    EXPECT(c, MAIL, "SIZE\x01=1", OPES_EBAD_PARAM, 4);
    EXPECT(c, MAIL, "SI\xc3\x89=1", OPES_EBAD_PARAM, 2);
    /* NUL is data the grammar rejects, never a terminator */
    EXPECT_N(c, MAIL, "SIZE=1\0 BODY=7BIT", 17, OPES_EBAD_PARAM, 6);
    EXPECT_N(c, MAIL, "\0", 1, OPES_EBAD_PARAM, 0);
    /* the syntax of a later parameter counts only when it is reached */
    EXPECT(c, MAIL, "X-UNKNOWN=1 SIZE==", OPES_EPARAM_UNKNOWN, 0);
    /* a keyword alone and digits first are fine */
    EXPECT(c, MAIL, "X-OPT", OPES_OK, 0);
    EXPECT(c, MAIL, "X-OPT=1", OPES_OK, 0);
    EXPECT(c, MAIL, "8X=1", OPES_EPARAM_UNKNOWN, 0);
    /* every value character of esmtp-value: %d33-60 / %d62-126 */
    {
        char v[128] = "X-OPT=";
        size_t n = 6;
        for (int ch = 33; ch <= 126; ch++) {
            if (ch != '=')
                v[n++] = (char)ch;
        }
        EXPECT_N(c, MAIL, v, n, OPES_OK, 0);
    }
    /* the registration's value rule */
    EXPECT(c, MAIL, "X-NONE=1", OPES_EPARAM_VALUE, 6);
    EXPECT(c, MAIL, "X-NONE", OPES_OK, 0);
    EXPECT(c, MAIL, "X-REQ", OPES_EPARAM_VALUE, 5);
    EXPECT(c, MAIL, "SIZE=1 X-REQ BODY=7BIT", OPES_EPARAM_VALUE, 12);
    opes_smtp_config_free(c);
}

/* OPES_LIMIT_PARAMS (default 32, at most OPES_MAX_PARAMS = 64, the size of
 * opes_params.item). No RFC sets a count; the limit is ours. */
static void test_count(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    char line[1024], name[16];
    size_t n = 0, at[70];
    struct run r;

    /* the config's table holds 64 parameters, 12 of them built-in */
    CHECK_ST(opes_smtp_config_add_extension(c, "X-MANY", 0, 0), OPES_OK);
    for (int i = 0; i < 53; i++) {
        snprintf(name, sizeof name, "X-P%d", i);
        CHECK_ST(
            opes_smtp_config_add_param(c, "X-MANY", name, OPES_PARAM_MAIL, OPES_VALUE_OPTIONAL),
            i < 52 ? OPES_OK : OPES_ENOSPC);
        at[i] = n;
        n += (size_t)snprintf(line + n, sizeof line - n, "%sX-P%d", i ? " " : "", i);
    }
    /* at[i]: the end of the first i parameters; the i-th starts at at[i] + 1 */
    CHECK_ST(opes_smtp_config_offer(c, "X-MANY", 1, NULL), OPES_OK);
    CHECK_EQ(opes_smtp_config_limit(c, OPES_LIMIT_PARAMS), 32);
    EXPECT_N(c, MAIL, line, at[32], OPES_OK, 0);                       /* 32 */
    CHECK_ST(run_n(&r, c, MAIL, line, at[33]), OPES_ETOO_MANY_PARAMS); /* 33 */
    CHECK_EQ(r.off, at[32] + 1);
    CHECK_EQ(r.p.count, 32);
    done(&r);
    CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_PARAMS, 3), OPES_OK);
    EXPECT_N(c, MAIL, line, at[3], OPES_OK, 0);
    EXPECT_N(c, MAIL, line, at[4], OPES_ETOO_MANY_PARAMS, at[3] + 1);
    /* the count comes before the 4th parameter's own checks */
    EXPECT(c, MAIL, "X-P0 X-P1 X-P2 X-UNKNOWN", OPES_ETOO_MANY_PARAMS, 15);
    EXPECT(c, MAIL, "X-P0 X-P1 X-P2 X-P0", OPES_ETOO_MANY_PARAMS, 15);
    /* but not before its syntax */
    EXPECT(c, MAIL, "X-P0 X-P1 X-P2 =", OPES_EBAD_PARAM, 15);
    /* the ceiling: never past OPES_MAX_PARAMS */
    CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_PARAMS, OPES_MAX_PARAMS + 1), OPES_ECEILING);
    CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_PARAMS, OPES_MAX_PARAMS), OPES_OK);
    /* 52 + the 9 built-in MAIL parameters: 61, as many as a config can hold */
    n = at[52];
    n += (size_t)snprintf(line + n, sizeof line - n,
                          " SIZE=1 BODY=7BIT RET=FULL ENVID=x SMTPUTF8 AUTH=<> REQUIRETLS"
                          " MT-PRIORITY=0 BY=1;N");
    CHECK_ST(run_n(&r, c, MAIL, line, n), OPES_OK);
    CHECK_EQ(r.p.count, 61);
    done(&r);
    opes_smtp_config_free(c);
}

static void test_args(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    opes_params p;
    size_t off = 7;

    CHECK_ST(opes_params_parse(c, MAIL, "SIZE=1", 6, NULL, &off), OPES_EINVAL);
    CHECK_ST(opes_params_parse(c, MAIL, NULL, 3, &p, &off), OPES_EINVAL);
    CHECK_ST(opes_params_parse(c, 0, "SIZE=1", 6, &p, &off), OPES_EINVAL);
    CHECK_ST(opes_params_parse(c, OPES_VERB_HELO, "SIZE=1", 6, &p, &off), OPES_EINVAL);
    CHECK_ST(opes_params_parse(c, OPES_PARAM_MAIL, "SIZE=1", 6, &p, &off), OPES_EINVAL);
    CHECK_ST(opes_params_parse(c, MAIL, NULL, 0, &p, &off), OPES_OK);
    CHECK_EQ(p.count, 0);
    CHECK_ST(opes_params_parse(c, MAIL, "SIZE=1", 6, &p, NULL), OPES_OK);
    CHECK_ST(opes_params_parse(c, MAIL, "SIZE=1 BODY", 11, &p, NULL), OPES_EPARAM_VALUE);
    /* an empty list is valid */
    EXPECT(c, MAIL, "", OPES_OK, 0);
    /* the NULL config registers nothing */
    EXPECT(NULL, MAIL, "SIZE=1", OPES_EPARAM_UNKNOWN, 0);
    EXPECT(NULL, RCPT, "NOTIFY=NEVER", OPES_EPARAM_UNKNOWN, 0);
    EXPECT(NULL, MAIL, "", OPES_OK, 0);
    EXPECT(NULL, MAIL, "SIZE==", OPES_EBAD_PARAM, 5);
    CHECK(opes_params_find(NULL, "SIZE") == NULL);
    CHECK(opes_params_find(&p, NULL) == NULL);
    opes_smtp_config_free(c);
}

/* ---- accessors on hand-made lists ----------------------------------------- */

static void test_accessors(void)
{
    opes_params p;
    uint64_t size = 0;
    int i = 0;
    unsigned u = 0;
    int64_t s64 = 0;
    opes_str x, y;

    memset(&p, 0, sizeof p);
    CHECK_ST(opes_params_size(&p, &size), OPES_ENOTFOUND);
    CHECK_ST(opes_params_body(&p, &i), OPES_ENOTFOUND);
    CHECK_ST(opes_params_ret(&p, &i), OPES_ENOTFOUND);
    CHECK_ST(opes_params_envid(&p, &x), OPES_ENOTFOUND);
    CHECK_ST(opes_params_notify(&p, &u), OPES_ENOTFOUND);
    CHECK_ST(opes_params_orcpt(&p, &x, &y), OPES_ENOTFOUND);
    CHECK_ST(opes_params_smtputf8(&p), OPES_ENOTFOUND);
    CHECK_ST(opes_params_requiretls(&p), OPES_ENOTFOUND);
    CHECK_ST(opes_params_auth(&p, &x), OPES_ENOTFOUND);
    CHECK_ST(opes_params_mt_priority(&p, &i), OPES_ENOTFOUND);
    CHECK_ST(opes_params_by(&p, &s64, &u), OPES_ENOTFOUND);
    CHECK_ST(opes_params_size(NULL, &size), OPES_EINVAL);
    CHECK_ST(opes_params_size(&p, NULL), OPES_EINVAL);
    CHECK_ST(opes_params_orcpt(&p, &x, NULL), OPES_EINVAL);
    CHECK_ST(opes_params_by(&p, NULL, &u), OPES_EINVAL);
    CHECK_ST(opes_params_smtputf8(NULL), OPES_EINVAL);

    /* the first of a keyword, case-insensitively */
    p.count = 2;
    p.item[0] = mkp("size", "1");
    p.item[1] = mkp("SIZE", "2");
    CHECK_ST(opes_params_size(&p, &size), OPES_OK);
    CHECK_EQ(size, 1);
    p.item[0] = mkp("SIZE", NULL); /* no value */
    CHECK_ST(opes_params_size(&p, &size), OPES_EPARAM_VALUE);
    p.item[0] = mkp("SIZE", "1 2"); /* not esmtp-value */
    CHECK_ST(opes_params_size(&p, &size), OPES_EPARAM_VALUE);
    p.item[0] = mkp("SIZE", "x");
    p.item[0].value.ptr = NULL; /* a length without bytes */
    CHECK_ST(opes_params_size(&p, &size), OPES_EINVAL);
    p.item[0] = mkp("SIZE", "99999999999999999999");
    CHECK_ST(opes_params_size(&p, &size), OPES_EBAD_NUMBER);

    p.count = 1;
    p.item[0] = mkp("Notify", "never,success");
    CHECK_ST(opes_params_notify(&p, &u), OPES_EPARAM_VALUE);
    p.item[0] = mkp("SMTPUTF8", "");
    CHECK_ST(opes_params_smtputf8(&p), OPES_EPARAM_VALUE);
    p.item[0] = mkp("REQUIRETLS", NULL);
    CHECK_ST(opes_params_requiretls(&p), OPES_OK);
    /* loose: lower-case hex, UTF-8 and long addresses pass an accessor */
    p.item[0] = mkp("ENVID", "ab+2bc");
    CHECK_ST(opes_params_envid(&p, &x), OPES_OK);
    CHECK_STR(x, "ab+2bc");
    p.item[0] = mkp("ENVID", "a b");
    CHECK_ST(opes_params_envid(&p, &x), OPES_EPARAM_VALUE);
    p.item[0] = mkp("AUTH", "+C3+A9@example.com");
    CHECK_ST(opes_params_auth(&p, &x), OPES_OK);
    p.item[0] = mkp("AUTH", "nobody");
    CHECK_ST(opes_params_auth(&p, &x), OPES_EPARAM_VALUE);
    p.item[0] = mkp("ORCPT", "utf-8;\xe6\x84\x9b@example.com");
    CHECK_ST(opes_params_orcpt(&p, &x, &y), OPES_OK);
    CHECK_STR(x, "utf-8");
    CHECK_STR(y, "\xe6\x84\x9b@example.com");
    p.item[0] = mkp("MT-PRIORITY", "+1");
    CHECK_ST(opes_params_mt_priority(&p, &i), OPES_EPARAM_VALUE);
    p.item[0] = mkp("BY", "10;R");
    CHECK_ST(opes_params_by(&p, &s64, &u), OPES_OK);
    CHECK_EQ(s64, 10);
    p.item[0] = mkp("BODY", "binarymime");
    CHECK_ST(opes_params_body(&p, &i), OPES_OK); /* offering is parse's business */
    CHECK_EQ(i, OPES_BODY_BINARYMIME);
    p.item[0] = mkp("RET", "HDRS,FULL");
    CHECK_ST(opes_params_ret(&p, &i), OPES_EPARAM_VALUE);
    /* a count past the array is clamped, not trusted */
    p.count = 1000;
    CHECK(opes_params_find(&p, "RET") == &p.item[0]);
}

/* ---- builder -------------------------------------------------------------- */

static void test_build(void)
{
    opes_smtp_config *c = mkcfg(ALL);
    opes_params p, q;
    struct run r;
    char out[256];
    size_t n = 0;

    /* from a parsed list: the same bytes, with the leading SP */
    CHECK_ST(run(&r, c, MAIL, "RET=HDRS ENVID=QQ314159"), OPES_OK);
    CHECK_ST(opes_params_build(out, sizeof out, &n, &r.p), OPES_OK);
    CHECK_MEM(out, n, " RET=HDRS ENVID=QQ314159", 24);
    /* size query, and a short buffer is never overrun */
    CHECK_ST(opes_params_build(NULL, 0, &n, &r.p), OPES_ENOSPC);
    CHECK_EQ(n, 24);
    memset(out, '#', sizeof out);
    CHECK_ST(opes_params_build(out, 10, &n, &r.p), OPES_ENOSPC);
    CHECK_EQ(n, 24);
    CHECK(out[10] == '#');
    CHECK_ST(opes_params_build(NULL, 5, &n, &r.p), OPES_EINVAL);
    CHECK_ST(opes_params_build(out, sizeof out, NULL, &r.p), OPES_EINVAL);
    CHECK_ST(opes_params_build(out, sizeof out, &n, NULL), OPES_EINVAL);
    done(&r);

    memset(&p, 0, sizeof p);
    CHECK_ST(opes_params_build(out, sizeof out, &n, &p), OPES_OK);
    CHECK_EQ(n, 0);
    p.count = OPES_MAX_PARAMS + 1;
    CHECK_ST(opes_params_build(out, sizeof out, &n, &p), OPES_EINVAL);

    /* round trip through the parser */
    p.count = 5;
    p.item[0] = mkp("SIZE", "1000");
    p.item[1] = mkp("BODY", "8BITMIME");
    p.item[2] = mkp("SMTPUTF8", NULL);
    p.item[3] = mkp("ENVID", "id+2B1");
    p.item[4] = mkp("AUTH", "<>");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &p), OPES_OK);
    CHECK_MEM(out, n, " SIZE=1000 BODY=8BITMIME SMTPUTF8 ENVID=id+2B1 AUTH=<>", 54);
    CHECK_ST(run_n(&r, c, MAIL, out + 1, n - 1), OPES_OK);
    CHECK(same_list(&r.p, &p));
    done(&r);

    /* injection: CR, LF or NUL anywhere, before any other complaint */
    q.count = 2;
    q.item[0] = mkp("_bad", "x");
    q.item[1] = mkp("X-A", "a\r\nRCPT TO:<evil@example.com>");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EINJECT);
    q.item[1] = mkp("X-A\n", "1");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EINJECT);
    q.item[1] = mkp("X-A", "ab");
    q.item[1].value.len = 3; /* "ab\0" */
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EINJECT);

    /* esmtp-keyword / esmtp-value */
    q.count = 1;
    static const char *const bad_kw[] = {"", "-X", "X_Y", "X Y", "X=Y", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_kw / sizeof bad_kw[0]; i++) {
        q.item[0] = mkp(bad_kw[i], "1");
        CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EBAD_PARAM);
    }
    static const char *const bad_v[] = {"", "a b", "a=b", "\x7f", "\xff", "\xc3", "a\tb"};
    for (size_t i = 0; i < sizeof bad_v / sizeof bad_v[0]; i++) {
        q.item[0] = mkp("X-A", bad_v[i]);
        CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EBAD_PARAM);
    }
    q.item[0] = mkp("X-A", NULL);
    q.item[0].value.ptr = "x";
    q.item[0].value.len = 1; /* a value without has_value */
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EBAD_PARAM);
    q.item[0] = mkp("X-A", "caf\xc3\xa9"); /* UTF-8, for an SMTPUTF8 server */
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_OK);
    q.item[0].keyword.ptr = NULL;
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EINVAL);

    /* a repeat */
    q.count = 2;
    q.item[0] = mkp("SIZE", "1");
    q.item[1] = mkp("size", "2");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EPARAM_DUPLICATE);

    /* the built-ins' values: what a server would refuse is not written */
    q.count = 1;
    q.item[0] = mkp("NOTIFY", "NEVER,SUCCESS");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EPARAM_VALUE);
    q.item[0] = mkp("SIZE", "12k");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EPARAM_VALUE);
    q.item[0] = mkp("SMTPUTF8", "1");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EPARAM_VALUE);
    q.item[0] = mkp("BY", "0;R");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EPARAM_VALUE);
    q.item[0] = mkp("ENVID", "+0D+0A");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EPARAM_VALUE);
    q.item[0] = mkp("AUTH", "e=mc2@example.com");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_EBAD_PARAM);
    q.item[0] = mkp("AUTH", "e+3Dmc2@example.com");
    CHECK_ST(opes_params_build(out, sizeof out, &n, &q), OPES_OK);
    CHECK_MEM(out, n, " AUTH=e+3Dmc2@example.com", 25);
    opes_smtp_config_free(c);
}

/* ---- the generic value-check hook (opes_smtp_config_set_param_check) ------ */

struct hook_log {
    int calls;
    int verb;
    char seen[64];
    size_t seen_len;
    const opes_smtp_config *cfg;
};

/* A stand-in grammar for the test: the value must not contain "!"; "!!"
 * anywhere is reported as too long (to see that status pass through). */
static opes_status bang_check(const opes_smtp_config *cfg, int verb, const char *value, size_t len,
                              size_t *err_offset, void *user)
{
    struct hook_log *log = user;
    log->calls++;
    log->verb = verb;
    log->cfg = cfg;
    log->seen_len = len < sizeof log->seen ? len : sizeof log->seen;
    memcpy(log->seen, value, log->seen_len);
    for (size_t i = 0; i < len; i++) {
        if (value[i] == '!') {
            *err_offset = i;
            return i + 1 < len && value[i + 1] == '!' ? OPES_EPARAM_TOO_LONG : OPES_EBAD_BYPASS;
        }
    }
    return OPES_OK;
}

static void test_param_check_hook(void)
{
    opes_smtp_config *c = mkcfg(NONE);
    struct hook_log log;
    add_x(c);
    memset(&log, 0, sizeof log);
    CHECK_ST(opes_smtp_config_set_param_check(c, "x-id", bang_check, &log), OPES_OK);
    CHECK_ST(opes_smtp_config_set_param_check(c, "X-NOSUCH", bang_check, &log), OPES_ENOTFOUND);
    CHECK_ST(opes_smtp_config_set_param_check(NULL, "X-ID", bang_check, &log), OPES_EINVAL);
    CHECK_ST(opes_smtp_config_set_param_check(c, NULL, bang_check, &log), OPES_EINVAL);

    /* accepted: the hook saw the value as sent, with the verb and config */
    EXPECT(c, RCPT, "X-ID=abc", OPES_OK, 0);
    CHECK_EQ(log.calls, 1);
    CHECK_EQ(log.verb, OPES_VERB_RCPT);
    CHECK(log.cfg == c);
    CHECK_MEM(log.seen, log.seen_len, "abc", 3);
    /* refused with the hook's own status: the command's is EPARAM_VALUE
     * (501), the offset the hook's inside the value ("X-ID=" is 5 bytes,
     * "X-NONE " 7 before it) */
    EXPECT(c, MAIL, "X-ID=ab!c", OPES_EPARAM_VALUE, 7);
    EXPECT(c, MAIL, "X-NONE X-ID=ab!c", OPES_EPARAM_VALUE, 14);
    EXPECT(c, MAIL, "X-ID=a!!", OPES_EPARAM_TOO_LONG, 6);
    /* the other parameters are not checked */
    log.calls = 0;
    EXPECT(c, MAIL, "X-REQ=a!b", OPES_OK, 0);
    CHECK_EQ(log.calls, 0);
    /* earlier checks come first: a duplicate is still a duplicate, and the
     * hook never sees the second value */
    EXPECT(c, MAIL, "X-ID=a X-ID=b!", OPES_EPARAM_DUPLICATE, 7);
    CHECK_EQ(log.calls, 1);

    /* through the command parser: 501 5.5.4 (docs/opes-smtp.md 8.1) */
    {
        static const char line[] = "MAIL FROM:<a@example.org> X-ID=x!y\r\n";
        opes_command cmd;
        size_t used = 0;
        const char *g = guarded_copy(line, sizeof line - 1);
        CHECK_ST(opes_command_parse(c, g, sizeof line - 1, &cmd, &used), OPES_EPARAM_VALUE);
        CHECK_EQ(cmd.reply_code, 501);
        CHECK(cmd.enhanced && strcmp(cmd.enhanced, "5.5.4") == 0);
        CHECK_EQ(cmd.error_offset, 32); /* the "!" */
        guarded_free(g);
    }

    /* a copy of the config calls the same check */
    {
        opes_smtp_config *d = mkcfg(NONE);
        CHECK_ST(opes_smtp_config_copy(d, c), OPES_OK);
        EXPECT(d, RCPT, "X-ID=!", OPES_EPARAM_VALUE, 5);
        opes_smtp_config_free(d);
    }

    /* removed: anything goes again */
    CHECK_ST(opes_smtp_config_set_param_check(c, "X-ID", NULL, NULL), OPES_OK);
    log.calls = 0;
    EXPECT(c, MAIL, "X-ID=ab!c", OPES_OK, 0);
    CHECK_EQ(log.calls, 0);
    opes_smtp_config_free(c);
}

int main(void)
{
    test_rfc3461_example();
    test_rfc6710_example();
    test_rfc4954_auth();
    test_rfc1870_size();
    test_rfc6531_smtputf8();
    test_rfc8689_requiretls();
    test_rfc6533_orcpt();
    test_orcpt_rfc822();
    test_envid();
    test_notify();
    test_body_ret();
    test_mt_priority();
    test_by();
    test_kept_as_sent();
    test_duplicates();
    test_syntax();
    test_count();
    test_args();
    test_accessors();
    test_build();
    test_param_check_hook();
    return TEST_END();
}
