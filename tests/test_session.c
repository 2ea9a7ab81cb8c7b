/*
 * The SMTP session, server role (include/opes/session.h).
 *
 * Scenarios come from the RFCs (RFC 5321 Appendix D, RFC 3030 4, RFC 2920 4,
 * RFC 4954 4.1, RFC 2033, RFC 3207) and from what real clients sent
 * (tests/vectors/clients/, see test_session_clients.c). Each scenario is a
 * golden event log whose offsets are found in the input itself ("`needle`"
 * stands for the offset of the next occurrence of needle), run on the whole
 * input in a guarded buffer and again at every chunk size: every split must
 * give the same log.
 */
#include "session_driver.h"

/* ---- helpers ------------------------------------------------------------------ */

/* A config offering the given extensions ("KW" or "KW=params"). */
static opes_smtp_config *mkcfg(const char *const *offers)
{
    opes_smtp_config *cfg = NULL;
    if (opes_smtp_config_new(&cfg, NULL) != OPES_OK)
        abort();
    for (size_t i = 0; offers && offers[i]; i++) {
        char kw[64];
        const char *eq = strchr(offers[i], '=');
        size_t n = eq ? (size_t)(eq - offers[i]) : strlen(offers[i]);
        memcpy(kw, offers[i], n);
        kw[n] = '\0';
        if (opes_smtp_config_offer(cfg, kw, 1, eq ? eq + 1 : NULL) != OPES_OK)
            abort();
    }
    return cfg;
}

static opes_session *mksession(const char *const *offers, int protocol)
{
    opes_smtp_config *cfg = mkcfg(offers);
    opes_session *s = NULL;
    if (opes_session_new(&s, OPES_ROLE_SERVER, cfg, NULL) != OPES_OK)
        abort();
    opes_smtp_config_free(cfg);
    if (protocol && opes_session_set_option(s, OPES_SESSION_PROTOCOL, protocol) != OPES_OK)
        abort();
    return s;
}

/* Expand "`needle`" in a template into the offset of the next occurrence of
 * needle in input (searching on from the previous match); "`=`" repeats the
 * previous offset. */
static char *expand(const char *input, size_t len, const char *tpl)
{
    struct sbuf out = {0};
    size_t from = 0;
    const char *p = tpl;
    while (*p) {
        const char *a = strchr(p, '`');
        if (!a) {
            sb_add(&out, p, strlen(p));
            break;
        }
        const char *b = strchr(a + 1, '`');
        if (!b)
            abort();
        sb_add(&out, p, (size_t)(a - p));
        size_t nl = (size_t)(b - a - 1), pos = SIZE_MAX;
        if (nl == 1 && a[1] == '=') { /* the same offset again */
            sb_printf(&out, "%zu", from - 1);
            p = b + 1;
            continue;
        }
        for (size_t i = from; i + nl <= len; i++)
            if (memcmp(input + i, a + 1, nl) == 0) {
                pos = i;
                break;
            }
        if (pos == SIZE_MAX) {
            fprintf(stderr, "needle not found: %.*s\n", (int)nl, a + 1);
            abort();
        }
        from = pos + 1;
        sb_printf(&out, "%zu", pos);
        p = b + 1;
    }
    return out.p ? out.p : calloc(1, 1);
}

struct scen {
    const char *name;
    const char *const *offers;
    int protocol;
    const char *input;
    size_t len; /* 0: strlen(input) */
    const int *script;
    size_t nscript;
    const char *expect; /* template */
    int unread_mode;
    const size_t *seg;
    size_t nseg;
    int data_mode;
    int verbose;
};

static void check_log(const char *name, const char *got, const char *want, size_t chunk)
{
    if (strcmp(got, want) == 0) {
        test_passed++;
        return;
    }
    test_failed++;
    fprintf(stderr, "FAIL %s (chunk %zu)\n--- want\n%s--- got\n%s---\n", name, chunk, want, got);
}

/* Run a scenario whole and at every chunk size up to max_chunk (all sizes up
 * to the input length when 0; large inputs: 1..64 and a few hundred others).
 * Returns the session of the whole run (the caller frees it). */
static opes_session *run_scen(const struct scen *sc)
{
    size_t len = sc->len ? sc->len : strlen(sc->input);
    char *want = expand(sc->input, len, sc->expect);
    opes_session *keep = NULL;
    size_t maxc = len < 300 ? len : 64;
    for (size_t chunk = 0; chunk <= maxc + 8; chunk++) {
        size_t c = chunk <= maxc ? chunk : 1 + (size_t)rand() % len;
        opes_session *s = mksession(sc->offers, sc->protocol);
        struct drv d;
        if (sc->data_mode)
            opes_session_set_option(s, OPES_SESSION_DATA_MODE, sc->data_mode);
        drv_init(&d, s);
        d.script = sc->script;
        d.nscript = sc->nscript;
        d.unread_mode = sc->unread_mode;
        d.verbose_cmd = sc->verbose;
        drv_run(&d, sc->input, len, sc->seg, sc->nseg, c);
        check_log(sc->name, d.log.p ? d.log.p : "", want, c);
        sb_free(&d.log);
        sb_free(&d.content);
        if (chunk == 0)
            keep = s;
        else
            opes_session_free(s);
    }
    free(want);
    return keep;
}

static void check_path(const opes_command *c, const char *mailbox)
{
    CHECK_STR(c->path.mailbox, mailbox);
}

/* ---- RFC 5321 Appendix D ------------------------------------------------------ */

/* D.1 "A typical SMTP transaction scenario": "The mail is accepted for Jones
 * and Brown. Green does not have a mailbox at host foo.com." The server's
 * 550 for Green is policy (the caller's); every other reply is the one the
 * RFC's server gives, proposed by the session. The EHLO reply lists 8BITMIME,
 * SIZE (no number), DSN and HELP. The transcript's data lines are taken as
 * sent: "...etc. etc. etc." begins with a dot, so the receiver deletes one
 * (RFC 5321 4.5.2). */
static const char *const d1_offers[] = {"8BITMIME", "SIZE", "DSN", NULL};
static const char d1_input[] = "EHLO bar.com\r\n"
                               "MAIL FROM:<Smith@bar.com>\r\n"
                               "RCPT TO:<Jones@foo.com>\r\n"
                               "RCPT TO:<Green@foo.com>\r\n"
                               "RCPT TO:<Brown@foo.com>\r\n"
                               "DATA\r\n"
                               "Blah blah blah...\r\n"
                               "...etc. etc. etc.\r\n"
                               ".\r\n"
                               "QUIT\r\n";

static void test_d1(void)
{
    static const int script[] = {0, 0, 0, 550, 0, 0, 0, 0};
    struct scen sc = {
        .name = "RFC 5321 D.1",
        .offers = d1_offers,
        .input = d1_input,
        .script = script,
        .nscript = 8,
        .verbose = 1,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK <Smith@bar.com> [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK <Jones@foo.com> [250 2.1.5 none]\n"
                  "`RCPT` command RCPT OPES_OK <Green@foo.com> [250 2.1.5 none] ->550\n"
                  "`RCPT` command RCPT OPES_OK <Brown@foo.com> [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`Blah` data \"Blah blah blah...\\r\\n..etc. etc. etc.\\r\\n\"\n"
                  "`.\r\nQUIT` message_end DATA size=37 [250 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session *s = run_scen(&sc);
    opes_command c;
    opes_str dom;
    int verb = 0;
    /* the envelope outlives the caller's buffers (views into the session) */
    CHECK_ST(opes_session_mail(s, &c), OPES_OK);
    check_path(&c, "Smith@bar.com");
    CHECK_EQ(opes_session_rcpt_count(s), 2);
    CHECK_ST(opes_session_rcpt(s, 0, &c), OPES_OK);
    check_path(&c, "Jones@foo.com");
    CHECK_ST(opes_session_rcpt(s, 1, &c), OPES_OK);
    check_path(&c, "Brown@foo.com");
    CHECK_ST(opes_session_rcpt(s, 2, &c), OPES_ENOTFOUND);
    CHECK_ST(opes_session_hello(s, &verb, &dom), OPES_OK);
    CHECK_EQ(verb, OPES_VERB_EHLO);
    CHECK_STR(dom, "bar.com");
    CHECK_EQ(opes_session_state(s), OPES_STATE_CLOSED);
    opes_session_free(s);
}

/* D.2 "Aborted SMTP transaction scenario": RSET after the 550. */
static void test_d2(void)
{
    static const int script[] = {0, 0, 0, 550, 0, 0};
    struct scen sc = {
        .name = "RFC 5321 D.2",
        .offers = d1_offers,
        .input = "EHLO bar.com\r\n"
                 "MAIL FROM:<Smith@bar.com>\r\n"
                 "RCPT TO:<Jones@foo.com>\r\n"
                 "RCPT TO:<Green@foo.com>\r\n"
                 "RSET\r\n"
                 "QUIT\r\n",
        .script = script,
        .nscript = 6,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none] ->550\n"
                  "`RSET` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session *s = run_scen(&sc);
    opes_command c;
    /* RSET cleared the transaction and its envelope */
    CHECK_ST(opes_session_mail(s, &c), OPES_ENOTFOUND);
    CHECK_EQ(opes_session_rcpt_count(s), 0);
    opes_session_free(s);
}

/* D.3 "Relayed mail scenario", step 1 (foo.com offers 8BITMIME, SIZE, DSN)
 * and step 2 (xyz.com answers EHLO with no extension at all: "250 xyz.com is
 * on the air"), with their message data. */
static void test_d3(void)
{
    struct scen s1 = {
        .name = "RFC 5321 D.3 step 1",
        .offers = d1_offers,
        .input = "EHLO bar.com\r\n"
                 "MAIL FROM:<JQP@bar.com>\r\n"
                 "RCPT TO:<Jones@XYZ.COM>\r\n"
                 "DATA\r\n"
                 "Date: Thu, 21 May 1998 05:33:29 -0700\r\n"
                 "From: John Q. Public <JQP@bar.com>\r\n"
                 "Subject: The Next Meeting of the Board\r\n"
                 "To: Jones@xyz.com\r\n"
                 "\r\n"
                 "Bill:\r\n"
                 "The next meeting of the board of directors will be\r\n"
                 "on Tuesday.\r\n"
                 "John.\r\n"
                 ".\r\n"
                 "QUIT\r\n",
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`Date:` data \"Date: Thu, 21 May 1998 05:33:29 -0700\\r\\nFrom: John Q. "
                  "Public <JQP@bar.com>\\r\\nSubject: The Next Meeting of the Board\\r\\nTo: "
                  "Jones@xyz.com\\r\\n\\r\\nBill:\\r\\nThe next meeting of the board of "
                  "directors will be\\r\\non Tuesday.\\r\\nJohn.\\r\\n\"\n"
                  "`.\r\nQUIT` message_end DATA size=215 [250 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    struct scen s2 = {
        .name = "RFC 5321 D.3 step 2",
        .offers = NULL,
        .input = "EHLO foo.com\r\n"
                 "MAIL FROM:<JQP@bar.com>\r\n"
                 "RCPT TO:<Jones@XYZ.COM>\r\n"
                 "DATA\r\n"
                 "Received: from bar.com by foo.com ; Thu, 21 May 1998\r\n"
                 "    05:33:29 -0700\r\n"
                 "Date: Thu, 21 May 1998 05:33:22 -0700\r\n"
                 "From: John Q. Public <JQP@bar.com>\r\n"
                 "Subject:  The Next Meeting of the Board\r\n"
                 "To: Jones@xyz.com\r\n"
                 "\r\n"
                 "Bill:\r\n"
                 "The next meeting of the board of directors will be\r\n"
                 "on Tuesday.\r\n"
                 "                        John.\r\n"
                 ".\r\n"
                 "QUIT\r\n",
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`Received:` data \"Received: from bar.com by foo.com ; Thu, 21 May "
                  "1998\\r\\n    05:33:29 -0700\\r\\nDate: Thu, 21 May 1998 05:33:22 "
                  "-0700\\r\\nFrom: John Q. Public <JQP@bar.com>\\r\\nSubject:  The Next "
                  "Meeting of the Board\\r\\nTo: Jones@xyz.com\\r\\n\\r\\nBill:\\r\\nThe next "
                  "meeting of the board of directors will be\\r\\non Tuesday.\\r\\n          "
                  "              John.\\r\\n\"\n"
                  "`.\r\nQUIT` message_end DATA size=314 [250 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&s1));
    opes_session_free(run_scen(&s2));
}

/* D.4 "Verifying and sending scenario": the RFC's server verifies Crispin
 * (250); the session cannot and proposes 252 (RFC 5321 3.5.3); the caller
 * answers 250 as the RFC's server did. */
static void test_d4(void)
{
    static const int script[] = {0, 250};
    struct scen sc = {
        .name = "RFC 5321 D.4",
        .offers = (const char *const[]){"8BITMIME", "SIZE", "DSN", NULL},
        .input = "EHLO bar.com\r\n"
                 "VRFY Crispin\r\n"
                 "MAIL FROM:<EAK@bar.com>\r\n"
                 "RCPT TO:<Admin.MRC@foo.com>\r\n"
                 "DATA\r\n"
                 "Blah blah blah...\r\n"
                 "...etc. etc. etc.\r\n"
                 ".\r\n"
                 "QUIT\r\n",
        .script = script,
        .nscript = 2,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`VRFY` command VRFY OPES_OK [252 2.0.0 none] ->250\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`Blah` data \"Blah blah blah...\\r\\n..etc. etc. etc.\\r\\n\"\n"
                  "`.\r\nQUIT` message_end DATA size=37 [250 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&sc));
}

/* ---- state rules (RFC 5321 3.3, 4.1.1, 4.1.4) ------------------------------------ */

static void test_sequence(void)
{
    /* RFC 5321 4.1.4: "The NOOP, HELP, EXPN, VRFY, and RSET commands can be
     * used at any time during a session, or without previously initializing
     * a session. SMTP servers SHOULD process these normally (that is, not
     * return a 503 code)"; MAIL needs EHLO first; RCPT needs MAIL; DATA needs
     * a recipient (3.3: 503 or 554 "no valid recipients"); a MAIL inside a
     * transaction "MUST NOT be sent"; a refused command leaves the state as it
     * was. */
    struct scen sc = {
        .name = "sequence",
        .offers = d1_offers,
        .input = "NOOP\r\n"
                 "HELP\r\n"
                 "VRFY bob\r\n"
                 "EXPN staff\r\n"
                 "RSET\r\n"
                 "MAIL FROM:<a@b.example>\r\n"
                 "RCPT TO:<c@d.example>\r\n"
                 "DATA\r\n"
                 "EHLO client.example\r\n"
                 "RCPT TO:<c@d.example>\r\n"
                 "DATA\r\n"
                 "MAIL FROM:<a@b.example>\r\n"
                 "MAIL FROM:<x@b.example>\r\n"
                 "DATA\r\n"
                 "RCPT TO:<c@d.example>\r\n"
                 "EHLO again.example\r\n"
                 "DATA\r\n"
                 "QUIT\r\n",
        .expect = "`NOOP` command NOOP OPES_OK [250 2.0.0 none]\n"
                  "`HELP` command HELP OPES_OK [214 2.0.0 none]\n"
                  "`VRFY` command VRFY OPES_OK [252 2.0.0 none]\n"
                  "`EXPN` command EXPN OPES_OK [502 5.5.1 none]\n"
                  "`RSET` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [503 5.5.1 need_hello]\n"
                  "`RCPT` command RCPT OPES_OK [503 5.5.1 need_mail]\n"
                  "`DATA` command DATA OPES_OK [503 5.5.1 need_mail]\n"
                  "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`RCPT` command RCPT OPES_OK [503 5.5.1 need_mail]\n"
                  "`DATA` command DATA OPES_OK [503 5.5.1 need_mail]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [503 5.5.1 nested_mail]\n"
                  "`DATA` command DATA OPES_OK [554 5.5.1 need_rcpt]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`DATA` command DATA OPES_OK [503 5.5.1 need_mail]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session *s = run_scen(&sc);
    opes_command c;
    opes_str dom;
    /* the second EHLO reset the transaction, as RSET would */
    CHECK_ST(opes_session_mail(s, &c), OPES_ENOTFOUND);
    CHECK_ST(opes_session_hello(s, NULL, &dom), OPES_OK);
    CHECK_STR(dom, "again.example");
    opes_session_free(s);
}

static void test_syntax_errors(void)
{
    /* The parser's replies pass through: 500 unknown, 501 syntax, 555
     * parameter not offered (RFC 5321 4.1.1.11), 502 extension not offered;
     * and after the session closes, nothing more is read. */
    struct scen sc = {
        .name = "syntax errors",
        .offers = d1_offers,
        .input = "EHLO client.example\r\n"
                 "XYZZY\r\n"
                 "MAIL FROM:<a@b.example> FOO=BAR\r\n"
                 "MAIL FROM: <a@b.example>\r\n"
                 "BDAT 10 LAST\r\n"
                 "STARTTLS\r\n"
                 "AUTH PLAIN\r\n"
                 "DATA x\r\n"
                 "QUIT\r\n"
                 "NOOP\r\n",
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`XYZZY` command ? OPES_EUNKNOWN_COMMAND [500 5.5.1 parse]\n"
                  "`MAIL` command MAIL OPES_EPARAM_UNKNOWN [555 5.5.4 parse]\n"
                  "`MAIL` command MAIL OPES_ESYNTAX [501 5.5.2 parse]\n"
                  "`BDAT` command BDAT OPES_ENOT_OFFERED [502 5.5.1 parse]\n"
                  "`STARTTLS` command STARTTLS OPES_ENOT_OFFERED [502 5.5.1 parse]\n"
                  "`AUTH` command AUTH OPES_ENOT_OFFERED [502 5.5.1 parse]\n"
                  "`DATA` command DATA OPES_EUNEXPECTED_ARG [501 5.5.4 parse]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n"
                  "`NOOP` feed=OPES_ESTATE\n",
    };
    opes_session_free(run_scen(&sc));
}

/* ---- CHUNKING (RFC 3030) ------------------------------------------------------ */

/* RFC 3030 4.1: "BDAT 86 LAST" and 86 octets of three header lines; "250
 * Message OK, 86 octets received". */
static const char bdat41[] = "EHLO ymir.claremont.edu\r\n"
                             "MAIL FROM:<Sam@Random.com>\r\n"
                             "RCPT TO:<Susan@Random.com>\r\n"
                             "BDAT 86 LAST\r\n"
                             "To: Susan@random.com\r\n"
                             "From: Sam@random.com\r\n"
                             "Subject: This is a bodyless test message\r\n"
                             "QUIT\r\n";

static void test_bdat_41(void)
{
    struct scen sc = {
        .name = "RFC 3030 4.1",
        .offers = (const char *const[]){"CHUNKING", NULL},
        .input = bdat41,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`BDAT` command BDAT OPES_OK size=86 last [250 2.0.0 none]\n"
                  "`To:` bdat \"To: Susan@random.com\\r\\nFrom: Sam@random.com\\r\\nSubject: "
                  "This is a bodyless test message\\r\\n\"\n"
                  "`QUIT` message_end BDAT size=86 last [250 2.0.0 none]\n"
                  "`=` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session *s = run_scen(&sc);
    opes_data_summary sum;
    CHECK_ST(opes_session_data_summary(s, &sum), OPES_OK);
    CHECK_EQ(sum.bytes_out, 86);
    opes_session_free(s);
}

/* RFC 3030 4.2: MAIL with BODY=BINARYMIME and two RCPT pipelined, then BDAT
 * 100000, BDAT 324 and BDAT 0 LAST back to back: three 250s in order. The
 * chunks hold binary octets, CR, LF and "\r\n.\r\n" included: BDAT data is
 * counted, never unstuffed, never searched for a terminator. */
static void test_bdat_42(void)
{
    const char *head = "EHLO ymir.claremont.edu\r\n"
                       "MAIL FROM:<ned@ymir.claremont.edu> BODY=BINARYMIME\r\n"
                       "RCPT TO:<gvaudre@cnri.reston.va.us>\r\n"
                       "RCPT TO:<jstewart@cnri.reston.va.us>\r\n"
                       "BDAT 100000\r\n";
    size_t hl = strlen(head),
           len = hl + 100000 + strlen("BDAT 324\r\n") + 324 + strlen("BDAT 0 LAST\r\nQUIT\r\n");
    char *in = malloc(len), *p = in;
    memcpy(p, head, hl);
    p += hl;
    for (size_t i = 0; i < 100000; i++)
        p[i] = "\r\n.\r\nMAIL FROM:<x@y>\r\n\0\xff"[i % 23];
    p += 100000;
    memcpy(p, "BDAT 324\r\n", 10);
    p += 10;
    for (size_t i = 0; i < 324; i++)
        p[i] = (char)(i * 7);
    p += 324;
    memcpy(p, "BDAT 0 LAST\r\nQUIT\r\n", 19);

    static const char *const offers[] = {"PIPELINING", "BINARYMIME", "CHUNKING", NULL};
    for (size_t chunk = 0; chunk < 40; chunk++) {
        opes_session *s = mksession(offers, 0);
        struct drv d;
        drv_init(&d, s);
        size_t c = chunk < 20 ? chunk : 1 + (size_t)rand() % 5000;
        drv_run(&d, in, len, NULL, 0, c);
        char want[1024];
        size_t o_r1 = (size_t)(strstr(head, "RCPT") - head), o_r2 = o_r1 + 37;
        size_t o_b1 = hl - 13, o_b2 = hl + 100000, o_b3 = o_b2 + 10 + 324, o_q = o_b3 + 13;
        /* 37: "RCPT TO:<gvaudre@cnri.reston.va.us>\r\n"; 13: "BDAT 100000\r\n" and
         * "BDAT 0 LAST\r\n"; 10: "BDAT 324\r\n" */
        snprintf(want, sizeof want,
                 "0 command EHLO OPES_OK [250 none]\n"
                 "25 command MAIL OPES_OK [250 2.1.0 none]\n"
                 "%zu command RCPT OPES_OK [250 2.1.5 none]\n"
                 "%zu command RCPT OPES_OK [250 2.1.5 none]\n"
                 "%zu command BDAT OPES_OK size=100000 [250 2.0.0 none]\n"
                 "%zu chunk_end BDAT size=100000 [250 2.0.0 none]\n"
                 "%zu command BDAT OPES_OK size=324 [250 2.0.0 none]\n"
                 "%zu chunk_end BDAT size=324 [250 2.0.0 none]\n"
                 "%zu command BDAT OPES_OK size=0 last [250 2.0.0 none]\n"
                 "%zu message_end BDAT size=100324 last [250 2.0.0 none]\n"
                 "%zu command QUIT OPES_OK [221 2.0.0 none]\n",
                 o_r1, o_r2, o_b1, o_b2, o_b2, o_b3, o_b3, o_q, o_q);
        /* the chunk bytes, joined, are exactly the 100000 + 324 octets */
        const char *b1 = strstr(d.log.p, "bdat \"");
        CHECK(b1 != NULL);
        char *nolog = malloc(d.log.len + 1);
        size_t nl = 0;
        for (const char *q = d.log.p; *q;) {
            const char *e = strchr(q, '\n');
            size_t ll = (size_t)(e - q) + 1;
            if (!strstr(q, " bdat \"") || (size_t)(strstr(q, " bdat \"") - q) > ll) {
                memcpy(nolog + nl, q, ll);
                nl += ll;
            }
            q += ll;
        }
        nolog[nl] = '\0';
        check_log("RFC 3030 4.2", nolog, want, c);
        CHECK_EQ(d.messages, 1);
        free(nolog);
        opes_data_summary sum;
        CHECK_ST(opes_session_data_summary(s, &sum), OPES_OK);
        CHECK_EQ(sum.bytes_out, 100324);
        sb_free(&d.log);
        sb_free(&d.content);
        opes_session_free(s);
    }
    free(in);
}

static void test_bdat_rules(void)
{
    /* RFC 3030 2: a refused BDAT still has its chunk read and discarded (the
     * chunk holds a command line that must never be read as one); BDAT after
     * BDAT LAST: 503; DATA after BDAT in one transaction: 503; BODY=BINARYMIME
     * with DATA: 503 (RFC 3030 3); a chunk refused by the caller fails the
     * transaction: later chunks 503, RSET clears it; RCPT after BDAT: 503. */
    static const int script[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 452};
    struct scen sc = {
        .name = "BDAT rules",
        .offers = (const char *const[]){"CHUNKING", "BINARYMIME", "8BITMIME", NULL},
        .input = "EHLO c.example\r\n"
                 "BDAT 21\r\n"
                 "RCPT TO:<evil@x.ex>\r\n"
                 "MAIL FROM:<a@b.example>\r\n"
                 "RCPT TO:<c@d.example>\r\n"
                 "BDAT 5 LAST\r\n"
                 "hello"
                 "BDAT 23 LAST\r\n"
                 "MAIL FROM:<evil@x.ex>\r\n"
                 "MAIL FROM:<a@b.example>\r\n"
                 "RCPT TO:<c@d.example>\r\n"
                 "BDAT 3\r\n"
                 "abc"
                 "RCPT TO:<e@d.example>\r\n"
                 "DATA\r\n"
                 "BDAT 3\r\n"
                 "def"
                 "BDAT 6 LAST\r\n"
                 "RSET\r\n"
                 "RSET\r\n"
                 "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n"
                 "RCPT TO:<c@d.example>\r\n"
                 "DATA\r\n"
                 "QUIT\r\n",
        .script = script,
        .nscript = 12,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`BDAT 21` command BDAT OPES_OK size=21 [503 5.5.1 need_mail]\n"
                  "`MAIL` chunk_end BDAT size=21 [503 5.5.1 need_mail]\n"
                  "`=` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT TO:<c` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`BDAT 5` command BDAT OPES_OK size=5 last [250 2.0.0 none]\n"
                  "`hello` bdat \"hello\"\n"
                  "`BDAT 23` message_end BDAT size=5 last [250 2.0.0 none]\n"
                  "`=` command BDAT OPES_OK size=23 last [503 5.5.1 bdat_after_last]\n"
                  "`MAIL FROM:<a` chunk_end BDAT size=23 last [503 5.5.1 bdat_after_last]\n"
                  "`=` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`BDAT 3` command BDAT OPES_OK size=3 [250 2.0.0 none]\n"
                  "`abc` bdat \"abc\"\n"
                  "`RCPT` chunk_end BDAT size=3 [250 2.0.0 none]\n"
                  "`=` command RCPT OPES_OK [503 5.5.1 rcpt_after_bdat]\n"
                  "`DATA` command DATA OPES_OK [503 5.5.1 data_after_bdat]\n"
                  "`BDAT 3` command BDAT OPES_OK size=3 [250 2.0.0 none]\n"
                  "`def` bdat \"def\"\n"
                  "`BDAT 6` chunk_end BDAT size=3 [250 2.0.0 none] ->452\n"
                  "`=` command BDAT OPES_OK size=6 last [503 5.5.1 bdat_failed]\n"
                  "`RSET\r\nMAIL` chunk_end BDAT size=6 last [503 5.5.1 bdat_failed]\n"
                  "`=` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [503 5.5.1 binarymime_data]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&sc));
}

/* ---- PIPELINING (RFC 2920) ---------------------------------------------------- */

/* The client's writes: each ends where the next needle begins. */
static size_t mksegs(const char *in, const char *const *starts, size_t *seg)
{
    size_t n = 0, from = 0;
    for (; starts[n]; n++) {
        const char *p = strstr(in + from, starts[n]);
        if (!p)
            abort();
        seg[n] = (size_t)(p - in);
        from = seg[n] + 1;
    }
    seg[n++] = strlen(in);
    return n;
}

static const char *const pipe_offers[] = {"PIPELINING", NULL};

/* RFC 2920 4, the pipelined dialogue: EHLO; then MAIL, three RCPT and DATA in
 * one write; the message; then "." and QUIT together ("The actual transfer
 * of message content is explicitly allowed to be the first "command" in a
 * group", 3.1). The client waits where it must: no violation. */
static const char rfc2920_a[] = "EHLO dbc.mtview.ca.us\r\n"
                                "MAIL FROM:<mrose@dbc.mtview.ca.us>\r\n"
                                "RCPT TO:<ned@innosoft.com>\r\n"
                                "RCPT TO:<dan@innosoft.com>\r\n"
                                "RCPT TO:<kvc@innosoft.com>\r\n"
                                "DATA\r\n"
                                "Hi.\r\n"
                                ".\r\n"
                                "QUIT\r\n";

static void test_pipelining_rfc(void)
{
    size_t seg[8];
    struct scen sc = {
        .name = "RFC 2920 4 (1)",
        .offers = pipe_offers,
        .input = rfc2920_a,
        .unread_mode = UNREAD_WINDOW,
        .seg = seg,
        .nseg = mksegs(rfc2920_a, (const char *const[]){"MAIL", "Hi.", ".\r\nQUIT", NULL}, seg),
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`Hi.` data \"Hi.\\r\\n\"\n"
                  "`.\r\nQUIT` message_end DATA size=5 [250 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&sc));

    /* "all recipients are rejected": 550, 550, and the server checks for a
     * valid recipient: "554 no valid recipients given" to DATA. */
    static const char in_b[] = "EHLO dbc.mtview.ca.us\r\n"
                               "MAIL FROM:<mrose@dbc.mtview.ca.us>\r\n"
                               "RCPT TO:<nsb@thumper.bellcore.com>\r\n"
                               "RCPT TO:<galvin@tis.com>\r\n"
                               "DATA\r\n"
                               "QUIT\r\n";
    static const int script_b[] = {0, 0, 550, 550};
    struct scen sb = {
        .name = "RFC 2920 4 (2)",
        .offers = pipe_offers,
        .input = in_b,
        .script = script_b,
        .nscript = 4,
        .unread_mode = UNREAD_WINDOW,
        .seg = seg,
        .nseg = mksegs(in_b, (const char *const[]){"MAIL", "QUIT", NULL}, seg),
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none] ->550\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none] ->550\n"
                  "`DATA` command DATA OPES_OK [554 5.5.1 need_rcpt]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&sb));

    /* "If the server SMTP does not check for at least one valid recipient
     * prior to accepting the DATA command": 354, ".", then "554 no valid
     * recipients" after the data. */
    static const char in_c[] = "EHLO dbc.mtview.ca.us\r\n"
                               "MAIL FROM:<mrose@dbc.mtview.ca.us>\r\n"
                               "RCPT TO:<nsb@thumper.bellcore.com>\r\n"
                               "RCPT TO:<galvin@tis.com>\r\n"
                               "DATA\r\n"
                               ".\r\n"
                               "QUIT\r\n";
    static const int script_c[] = {0, 0, 550, 550, 354};
    struct scen sc3 = {
        .name = "RFC 2920 4 (3)",
        .offers = pipe_offers,
        .input = in_c,
        .script = script_c,
        .nscript = 5,
        .unread_mode = UNREAD_WINDOW,
        .seg = seg,
        .nseg = mksegs(in_c, (const char *const[]){"MAIL", ".\r\nQUIT", NULL}, seg),
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none] ->550\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none] ->550\n"
                  "`DATA` command DATA OPES_OK [554 5.5.1 need_rcpt] ->354\n"
                  "`.\r\nQUIT` message_end DATA size=0 [554 5.5.1 need_rcpt]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&sc3));
}

static void test_pipelining_violations(void)
{
    size_t seg[8];
    /* One write of everything: EHLO, DATA and NOOP must be last in a group
     * (RFC 2920 3.1), the message may not precede the 354 (RFC 5321 3.3),
     * and nothing may precede the greeting; MAIL/RCPT/RSET may follow one
     * another, and QUIT may follow the end of the data. */
    static const char in[] = "EHLO a.example\r\n"
                             "MAIL FROM:<a@b.example>\r\n"
                             "RCPT TO:<c@d.example>\r\n"
                             "RSET\r\n"
                             "MAIL FROM:<a@b.example>\r\n"
                             "RCPT TO:<c@d.example>\r\n"
                             "DATA\r\n"
                             "x\r\n"
                             ".\r\n"
                             "NOOP\r\n"
                             "HELP\r\n"
                             "QUIT\r\n";
    struct scen sc = {
        .name = "pipelining: one write",
        .offers = pipe_offers,
        .input = in,
        .unread_mode = UNREAD_WINDOW,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` pipelining_violation after=EHLO\n"
                  "`=` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`RSET` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`x\r\n` pipelining_violation after=DATA\n"
                  "`=` data \"x\\r\\n\"\n"
                  "`.\r\nNOOP` message_end DATA size=3 [250 2.0.0 none]\n"
                  "`NOOP` command NOOP OPES_OK [250 2.0.0 none]\n"
                  "`HELP` pipelining_violation after=NOOP\n"
                  "`=` command HELP OPES_OK [214 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&sc));

    /* Without PIPELINING every reply is waited for (RFC 5321 has no groups) */
    static const char in2[] = "EHLO a.example\r\n"
                              "MAIL FROM:<a@b.example>\r\n"
                              "RCPT TO:<c@d.example>\r\n"
                              "RCPT TO:<e@d.example>\r\n";
    struct scen s2 = {
        .name = "pipelining: not offered",
        .offers = NULL,
        .input = in2,
        .unread_mode = UNREAD_WINDOW,
        .seg = seg,
        .nseg = mksegs(in2, (const char *const[]){"MAIL", "RCPT", NULL}, seg),
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`RCPT` pipelining_violation after=RCPT\n"
                  "`=` command RCPT OPES_OK [250 2.1.5 none]\n",
    };
    opes_session_free(run_scen(&s2));

    /* A client that talks before the greeting (Postfix postscreen's
     * "PREGREET"): the caller says it sent the greeting while holding the
     * client's bytes. */
    {
        opes_session *s = mksession(pipe_offers, 0);
        opes_session_event ev;
        size_t used = 0;
        const char *b = "EHLO early.example\r\n";
        CHECK_ST(opes_session_reply_sent(s, strlen(b)), OPES_OK);
        CHECK_ST(opes_session_feed(s, b, strlen(b), &used, &ev), OPES_OK);
        CHECK_EQ(ev.type, OPES_SESSION_EV_PIPELINING_VIOLATION);
        CHECK_EQ(ev.verb, OPES_VERB_UNKNOWN);
        CHECK_EQ(used, 0);
        CHECK_ST(opes_session_feed(s, b, strlen(b), &used, &ev), OPES_OK);
        CHECK_EQ(ev.type, OPES_SESSION_EV_COMMAND);
        CHECK_EQ(used, strlen(b));
        opes_session_free(s);
    }
    /* AUTH PLAIN with an initial response may be followed in its group (RFC
     * 4954 4); AUTH LOGIN may not, and each AUTH line waits for its 334 */
    static const char in3[] = "EHLO a.example\r\n"
                              "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"
                              "MAIL FROM:<a@b.example>\r\n";
    struct scen s3 = {
        .name = "pipelining: AUTH PLAIN with initial response",
        .offers = (const char *const[]){"PIPELINING", "AUTH=PLAIN LOGIN", NULL},
        .input = in3,
        .unread_mode = UNREAD_WINDOW,
        .seg = seg,
        .nseg = mksegs(in3, (const char *const[]){"AUTH", NULL}, seg),
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`AUTH` command AUTH OPES_OK [235 2.7.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n",
    };
    opes_session_free(run_scen(&s3));
    static const char in4[] = "EHLO a.example\r\n"
                              "AUTH LOGIN\r\n"
                              "YWxpY2U=\r\n"
                              "czNjcmV0IHBhc3M=\r\n"
                              "MAIL FROM:<a@b.example>\r\n";
    struct scen s4 = {
        .name = "pipelining: AUTH LOGIN",
        .offers = (const char *const[]){"PIPELINING", "AUTH=PLAIN LOGIN", NULL},
        .input = in4,
        .unread_mode = UNREAD_WINDOW,
        .seg = seg,
        .nseg = mksegs(in4, (const char *const[]){"AUTH", NULL}, seg),
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`AUTH` command AUTH OPES_OK [334 none]\n"
                  "`YWxp` pipelining_violation after=AUTH\n"
                  "`=` auth_line OPES_OK [334 none]\n"
                  "`czNj` pipelining_violation after=AUTH\n"
                  "`=` auth_line OPES_OK [235 2.7.0 none]\n"
                  "`MAIL` pipelining_violation after=AUTH\n"
                  "`=` command MAIL OPES_OK [250 2.1.0 none]\n",
    };
    opes_session_free(run_scen(&s4));
}

/* ---- LMTP (RFC 2033) ---------------------------------------------------------- */

static void test_lmtp(void)
{
    /* RFC 2033 4.1: LHLO replaces HELO/EHLO; "A LMTP server MUST NOT return a
     * Postive Completion reply code to these commands. The 500 reply code is
     * recommended." 4.2: after the data, one reply per successful RCPT, in
     * order; with no successful RCPT, DATA "MUST fail with a 503 reply
     * code". The dialogue is the RFC's example (section 4.2's), with the
     * second recipient refused at RCPT and the third at delivery. */
    static const int script[] = {0, 0, 0, 0, 0, 0, 550, 0, 0, 0, 452};
    struct scen sc = {
        .name = "RFC 2033",
        .offers = (const char *const[]){"PIPELINING", "SIZE", NULL},
        .protocol = OPES_PROTOCOL_LMTP,
        .input = "EHLO foo.edu\r\n"
                 "HELO foo.edu\r\n"
                 "LHLO foo.edu\r\n"
                 "MAIL FROM:<chris@bar.com>\r\n"
                 "DATA\r\n"
                 "RCPT TO:<pat@foo.com>\r\n"
                 "RCPT TO:<jones@foo.com>\r\n"
                 "RCPT TO:<green@foo.com>\r\n"
                 "DATA\r\n"
                 "Blah blah blah...\r\n"
                 "...etc. etc. etc.\r\n"
                 ".\r\n"
                 "QUIT\r\n",
        .script = script,
        .nscript = 11,
        .expect = "`EHLO` command EHLO OPES_OK [500 5.5.1 wrong_hello]\n"
                  "`HELO` command HELO OPES_OK [500 5.5.1 wrong_hello]\n"
                  "`LHLO` command LHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`DATA` command DATA OPES_OK [503 5.5.1 need_rcpt]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none] ->550\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`Blah` data \"Blah blah blah...\\r\\n..etc. etc. etc.\\r\\n\"\n"
                  "`.\r\nQUIT` message_end DATA size=37 [250 2.0.0 none] ->452\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session *s = run_scen(&sc);
    CHECK_EQ(opes_session_rcpt_count(s), 2);
    opes_session_free(s);
    /* LHLO is not an SMTP command */
    struct scen s2 = {
        .name = "LHLO in SMTP",
        .input = "LHLO foo.edu\r\n",
        .expect = "`LHLO` command LHLO OPES_OK [500 5.5.1 wrong_hello]\n",
    };
    opes_session_free(run_scen(&s2));
}

/* ---- STARTTLS (RFC 3207) ------------------------------------------------------ */

static void test_starttls(void)
{
    /* Commands sent behind STARTTLS in the same write, before the TLS
     * handshake, are clear text an attacker may have injected
     * (CVE-2011-0411): discarded and reported. After TLS the session is back
     * to the greeting (RFC 3207 4.2: "The server MUST discard any knowledge
     * obtained from the client"), EHLO is needed again, and STARTTLS is no
     * longer offered. */
    static const char *const offers[] = {"PIPELINING", "STARTTLS", "AUTH=PLAIN", NULL};
    static const char inj[] = "EHLO a.example\r\n"
                              "MAIL FROM:<a@b.example>\r\n"
                              "STARTTLS\r\n"
                              "RSET\r\n"
                              "STARTTLS\r\n"
                              "MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@x.example>\r\n";
    for (size_t chunk = 0; chunk <= sizeof inj; chunk++) {
        opes_session *s = mksession(offers, 0);
        struct drv d;
        drv_init(&d, s);
        drv_run(&d, inj, sizeof inj - 1, NULL, 0, chunk);
        char *want = expand(inj, sizeof inj - 1,
                            "`EHLO` command EHLO OPES_OK [250 none]\n"
                            "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                            "`STARTTLS` command STARTTLS OPES_OK [503 5.5.1 starttls_in_txn]\n"
                            "`RSET` command RSET OPES_OK [250 2.0.0 none]\n"
                            "`STARTTLS` command STARTTLS OPES_OK [220 2.0.0 none]\n");
        /* the injected bytes: one event per feed, all of them, none a
         * command; their spans add up to the rest of the input */
        const char *tail = strstr(inj, "MAIL FROM:<evil");
        size_t inj_at = (size_t)(tail - inj), total = 0;
        char *line = d.log.p + strlen(want);
        CHECK(strncmp(d.log.p, want, strlen(want)) == 0);
        while (line && *line) {
            unsigned long long off;
            size_t l;
            if (sscanf(line, "%llu tls_injection len=%zu", &off, &l) == 2) {
                CHECK_EQ(off, inj_at + total);
                total += l;
            } else {
                CHECK(0);
            }
            line = strchr(line, '\n');
            line = line ? line + 1 : NULL;
        }
        CHECK_EQ(total, strlen(tail));
        CHECK_EQ(opes_session_state(s), OPES_STATE_TLS_PENDING);
        CHECK_ST(opes_session_tls_started(s), OPES_OK);
        CHECK_EQ(opes_session_state(s), OPES_STATE_INIT);
        CHECK_EQ(opes_session_tls(s), 1);
        CHECK(!opes_smtp_config_offers(opes_session_config(s), "STARTTLS", 8));
        /* after TLS: EHLO again, then STARTTLS is refused */
        const char *after = "MAIL FROM:<a@b.example>\r\nEHLO a.example\r\nSTARTTLS\r\n"
                            "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n";
        struct drv d2;
        drv_init(&d2, s);
        opes_session_reset(s);
        drv_run(&d2, inj, sizeof inj - 1, NULL, 0, 0);
        CHECK_ST(opes_session_tls_started(s), OPES_OK);
        sb_free(&d2.log);
        sb_free(&d2.content);
        drv_init(&d2, s);
        size_t base = (size_t)opes_session_offset(s);
        drv_run(&d2, after, strlen(after), NULL, 0, chunk % 7);
        char exp2[512];
        snprintf(exp2, sizeof exp2,
                 "%zu command MAIL OPES_OK [503 5.5.1 need_hello]\n"
                 "%zu command EHLO OPES_OK [250 none]\n"
                 "%zu command STARTTLS OPES_ENOT_OFFERED [503 5.5.1 tls_active]\n"
                 "%zu command AUTH OPES_OK [235 2.7.0 none]\n",
                 base, base + 25, base + 41, base + 51);
        check_log("after TLS", d2.log.p, exp2, chunk);
        CHECK_EQ(opes_session_authenticated(s), 1);
        sb_free(&d2.log);
        sb_free(&d2.content);
        free(want);
        sb_free(&d.log);
        sb_free(&d.content);
        opes_session_free(s);
    }
    /* tls_started is refused where TLS cannot begin; implicit TLS (before
     * any byte) is allowed */
    opes_session *s = mksession(offers, 0);
    size_t used;
    opes_session_event ev;
    CHECK_ST(opes_session_tls_started(s), OPES_OK);
    CHECK_ST(opes_session_feed(s, "EHLO a.example\r\n", 16, &used, &ev), OPES_OK);
    CHECK_ST(opes_session_tls_started(s), OPES_ESTATE);
    opes_session_free(s);

    /* RFC 3207 4: 220 is the only go-ahead. Another 2xx/3xx to STARTTLS is
     * refused (a client that took it as one would start TLS while the
     * session read its handshake as commands); 454 leaves the state. */
    s = mksession(offers, 0);
    CHECK_ST(opes_session_feed(s, "EHLO a.example\r\n", 16, &used, &ev), OPES_OK);
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    CHECK_ST(opes_session_feed(s, "STARTTLS\r\n", 10, &used, &ev), OPES_OK);
    CHECK_EQ(ev.verb, OPES_VERB_STARTTLS);
    CHECK_ST(opes_session_respond(s, 250), OPES_EINVAL);
    CHECK_ST(opes_session_respond(s, 354), OPES_EINVAL);
    CHECK_EQ(opes_session_state(s), OPES_STATE_READY);
    CHECK_ST(opes_session_respond(s, 454), OPES_OK);
    CHECK_EQ(opes_session_state(s), OPES_STATE_READY);
    CHECK_ST(opes_session_respond(s, 220), OPES_ESTATE); /* nothing due any more */
    opes_session_free(s);
}

/* ---- AUTH (RFC 4954) ---------------------------------------------------------------- */

static void test_auth(void)
{
    /* RFC 4954 4.1 examples: PLAIN with an initial response (235); PLAIN
     * without (334 "" then the response); CRAM-MD5 (server first: 334 with a
     * challenge); EXTERNAL with "=" (the empty initial response). Then the
     * rules of 4: 503 inside a transaction and after success, 504 for a
     * mechanism not offered, "*" cancels with 501, bad base64 501 5.5.2, an
     * initial response for a server-first mechanism 501 5.7.0. */
    static const char *const offers[] = {"AUTH=GSSAPI DIGEST-MD5 CRAM-MD5 PLAIN EXTERNAL LOGIN",
                                         NULL};
    static const int script1[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 535};
    struct scen sc = {
        .name = "AUTH",
        .offers = offers,
        .input = "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"
                 "EHLO client.example.com\r\n"
                 "AUTH FOO\r\n"
                 "AUTH CRAM-MD5 dGVzdA==\r\n"
                 "AUTH PLAIN\r\n"
                 "*\r\n"
                 "AUTH PLAIN\r\n"
                 "dGVzdAB0ZXN0ADEyMzQ\r\n"
                 "AUTH CRAM-MD5\r\n"
                 "cmpzMyBlYzNhNTlmZWQzOTVhYmExZWM2MzY3YzRmNGI0MWFjMA==\r\n"
                 "AUTH EXTERNAL =\r\n"
                 "MAIL FROM:<a@b.example>\r\n"
                 "AUTH PLAIN\r\n"
                 "RSET\r\n"
                 "AUTH PLAIN\r\n"
                 "dGVzdAB0ZXN0ADEyMzQ=\r\n"
                 "AUTH EXTERNAL =\r\n",
        .script = script1,
        .nscript = 10,
        .expect = "`AUTH` command AUTH OPES_OK [503 5.5.1 need_hello]\n"
                  "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`AUTH FOO` command AUTH OPES_OK [504 5.5.4 auth_mech]\n"
                  "`AUTH CRAM` command AUTH OPES_OK [501 5.7.0 auth_ir]\n"
                  "`AUTH PLAIN` command AUTH OPES_OK [334 none]\n"
                  "`*` auth_line OPES_OK cancel [501 5.7.0 auth_cancel]\n"
                  "`AUTH PLAIN` command AUTH OPES_OK [334 none]\n"
                  "`dGVz` auth_line OPES_EBAD_BASE64 [501 5.5.2 parse]\n"
                  "`AUTH CRAM` command AUTH OPES_OK [334 none]\n"
                  "`cmpz` auth_line OPES_OK [235 2.7.0 none] ->535\n"
                  "`AUTH EXTERNAL` command AUTH OPES_OK [235 2.7.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`AUTH PLAIN` command AUTH OPES_OK [503 5.5.1 auth_twice]\n"
                  "`RSET` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`AUTH PLAIN` command AUTH OPES_OK [503 5.5.1 auth_twice]\n"
                  "`dGVz` command ? OPES_EUNKNOWN_COMMAND [500 5.5.1 parse]\n"
                  "`AUTH EXTERNAL` command AUTH OPES_OK [503 5.5.1 auth_twice]\n",
    };
    opes_session *s = run_scen(&sc);
    CHECK_EQ(opes_session_authenticated(s), 1);
    opes_session_free(s);

    /* inside a transaction (before any success) */
    struct scen s2 = {
        .name = "AUTH in a transaction",
        .offers = offers,
        .input = "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nAUTH PLAIN\r\n"
                 "AUTH LOGIN\r\nYWxpY2U=\r\nczNjcmV0IHBhc3M=\r\n",
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`AUTH` command AUTH OPES_OK [503 5.5.1 auth_in_txn]\n"
                  "`AUTH` command AUTH OPES_OK [503 5.5.1 auth_in_txn]\n"
                  "`YWxp` command ? OPES_EUNKNOWN_COMMAND [500 5.5.1 parse]\n"
                  "`czNj` command ? OPES_EUNKNOWN_COMMAND [500 5.5.1 parse]\n",
    };
    opes_session_free(run_scen(&s2));

    /* RFC 4954 4: an exchange line over the buffer fails AUTH with 500 5.5.6;
     * its tail is skipped, never read as a command */
    static const char *const small[] = {"AUTH=LOGIN", NULL};
    size_t n = 40000;
    char *big = malloc(n + 64);
    strcpy(big, "EHLO c.example\r\nAUTH LOGIN\r\n");
    size_t hl = strlen(big);
    memset(big + hl, 'A', n);
    memcpy(big + hl + 20000, "\r\rQUIT\n\nQUIT\r", 13);
    strcpy(big + hl + n, "\r\nNOOP\r\n");
    struct scen s3 = {
        .name = "AUTH line too long",
        .offers = small,
        .input = big,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`AUTH` command AUTH OPES_OK [334 none]\n"
                  "`AAAA` auth_line OPES_EAUTH_LINE_TOO_LONG [500 5.5.6 parse]\n"
                  "`NOOP` command NOOP OPES_OK [250 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&s3));
    free(big);
}

/* ---- over-long lines (RFC 5321 4.5.3.1.4, 4.5.3.1.9) ------------------------------- */

static void test_line_too_long(void)
{
    /* A line over 512 octets is answered 500 and skipped up to its CRLF:
     * nothing of its tail is read as a command, however the tail hides one
     * (after a bare CR, a bare LF, or plain text), at every split and with
     * the limit falling anywhere around it. A command after the line's own
     * CRLF is the next command. */
    static const char *const tails[] = {
        "RCPT TO:<evil@x.example>\r\n", "\nRCPT TO:<evil@x.example>\r\n",
        "\rRCPT TO:<evil@x.example>\r\n", "\r\nRCPT TO:<evil@x.example>\r\n"};
    for (size_t t = 0; t < 4; t++) {
        for (size_t pad = 480; pad < 540; pad += 3) {
            char in[1200];
            size_t n = 0;
            n += (size_t)sprintf(in, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nNOOP ");
            memset(in + n, 'x', pad);
            n += pad;
            n += (size_t)sprintf(in + n, "%sQUIT\r\n", tails[t]);
            /* the NOOP line: from "NOOP " to the first CRLF */
            size_t start = (size_t)(strstr(in, "NOOP ") - in);
            size_t crlf = (size_t)(strstr(in + start, "\r\n") - in);
            size_t line_len = crlf + 2 - start;
            struct sbuf w = {0};
            sb_printf(&w, "0 command EHLO OPES_OK [250 none]\n"
                          "16 command MAIL OPES_OK [250 2.1.0 none]\n");
            if (line_len > 512)
                sb_printf(&w, "%zu line_too_long NOOP OPES_ELINE_TOO_LONG [500 5.5.2 parse]\n",
                          start);
            else /* short enough: a bare CR/LF inside is an error, not a line end */
                sb_printf(&w, "%zu command NOOP %s [%s parse]\n", start,
                          t == 1   ? "OPES_EBARE_LF"
                          : t == 2 ? "OPES_EBARE_CR"
                                   : "OPES_OK",
                          t == 1 || t == 2 ? "500 5.5.2" : "250 2.0.0");
            if (t == 3) /* after the line's own CRLF: the next command */
                sb_printf(&w, "%zu command RCPT OPES_OK [250 2.1.5 none]\n", crlf + 2);
            sb_printf(&w, "%zu command QUIT OPES_OK [221 2.0.0 none]\n", n - 6);
            if (line_len <= 512 && t != 1 && t != 2) { /* no error at all */
                char *q = strstr(w.p, " parse]");
                memmove(q + 1, "none]", 6);
                memmove(q + 6, q + 7, strlen(q + 7) + 1);
            }
            for (size_t chunk = 0; chunk < 30; chunk++) {
                opes_session *s = mksession(NULL, 0);
                struct drv d;
                drv_init(&d, s);
                drv_run(&d, in, n, NULL, 0, chunk < 20 ? chunk : 1 + (size_t)rand() % n);
                check_log("line too long", d.log.p, w.p, chunk);
                sb_free(&d.log);
                sb_free(&d.content);
                opes_session_free(s);
            }
            sb_free(&w);
        }
    }
}

/* ---- smuggling (RFC 5321 4.1.1.4; CVE-2023-51764/5/6) -------------------------------- */

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_smuggling(void)
{
    /* Every would-be terminator with a bare CR or LF around the dot, followed
     * by a smuggled transaction; only "<CRLF>.<CRLF>" ends the data. One
     * message, no command from the smuggled text, a FALSE_END reported; in
     * the default mode the message is refused (550 5.5.2), normalising it is
     * accepted (250). */
    static const char *const ends[] = {"\n.\n",   "\n.\r\n", "\r\n.\n", "\r.\r",
                                       "\r.\r\n", "\r\n.\r", "\n.\r",   "\r.\n"};
    for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++) {
        for (int mode = 0; mode < 2; mode++) {
            char in[512];
            int n = snprintf(in, sizeof in,
                             "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT "
                             "TO:<c@d.example>\r\nDATA\r\nSubject: hi\r\n\r\nbody%s"
                             "MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@d.example>\r\n"
                             "DATA\r\nSmuggled\r\n.\r\nQUIT\r\n",
                             ends[e]);
            for (size_t chunk = 0; chunk <= (size_t)n; chunk++) {
                opes_session *s = mksession(NULL, 0);
                struct drv d;
                opes_session_set_option(s, OPES_SESSION_DATA_MODE,
                                        mode ? OPES_DATA_NORMALISE : OPES_DATA_REJECT);
                drv_init(&d, s);
                drv_run(&d, in, (size_t)n, NULL, 0, chunk);
                CHECK_EQ(d.messages, 1);
                CHECK(strstr(d.log.p, "false_end") != NULL);
                /* one command each: the smuggled ones are message content */
                CHECK_EQ(count(d.log.p, "command MAIL"), 1);
                CHECK_EQ(count(d.log.p, "command RCPT"), 1);
                CHECK_EQ(count(d.log.p, "command DATA"), 1);
                CHECK(strstr(d.log.p, "MAIL FROM:<evil@x.example>\\r\\n") != NULL);
                const char *end = strstr(d.log.p, "message_end");
                CHECK(end != NULL);
                if (end)
                    CHECK(strstr(end, mode ? "[250 2.0.0 none]" : "[550 5.5.2 bare_line_end]") !=
                          NULL);
                CHECK(strstr(d.log.p, "command QUIT") != NULL);
                opes_command c;
                CHECK_ST(opes_session_rcpt(s, 0, &c), OPES_OK);
                CHECK_STR(c.path.mailbox, "c@d.example");
                CHECK_EQ(opes_session_rcpt_count(s), 1);
                sb_free(&d.log);
                sb_free(&d.content);
                opes_session_free(s);
            }
        }
    }
    /* the first line of the data is a line too: "." CRLF at once is an empty
     * message; ".." is unstuffed */
    struct scen sc = {
        .name = "first line",
        .input = "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                 "DATA\r\n.\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                 "DATA\r\n..x\r\n.\r\n",
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`.\r\n` message_end DATA size=0 [250 2.0.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`DATA` command DATA OPES_OK [354 none]\n"
                  "`.x\r\n` data \".x\\r\\n\"\n"
                  "`.\r\n` message_end DATA size=4 [250 2.0.0 none]\n",
    };
    opes_session_free(run_scen(&sc));
}

/* ---- limits, arena, SIZE, SMTPUTF8 ------------------------------------------------ */

static void test_limits(void)
{
    /* RFC 5321 4.5.3.1.10: too many recipients is 452; the session's limit
     * comes from OPES_LIMIT_RECIPIENTS */
    opes_smtp_config *cfg = mkcfg((const char *const[]){"SIZE=1000", "SMTPUTF8", NULL});
    opes_session *s = NULL;
    opes_smtp_config_set_limit(cfg, OPES_LIMIT_RECIPIENTS, 3);
    CHECK_ST(opes_session_new(&s, OPES_ROLE_SERVER, cfg, NULL), OPES_OK);
    struct drv d;
    drv_init(&d, s);
    const char *in = "EHLO c.example\r\n"
                     "MAIL FROM:<a@b.example> SIZE=1001\r\n"
                     "MAIL FROM:<a@b.example> SIZE=1000\r\n"
                     "RCPT TO:<r1@d.example>\r\nRCPT TO:<r2@d.example>\r\n"
                     "RCPT TO:<r3@d.example>\r\nRCPT TO:<r4@d.example>\r\n"
                     "RCPT TO:<j\xc3\xb6@d.example>\r\n"
                     "RSET\r\n"
                     "MAIL FROM:<a@b.example> SMTPUTF8\r\n"
                     "RCPT TO:<j\xc3\xb6@d.example>\r\n"
                     "DATA\r\n";
    drv_run(&d, in, strlen(in), NULL, 0, 0);
    char *want = expand(in, strlen(in),
                        "`EHLO` command EHLO OPES_OK [250 none]\n"
                        "`MAIL` command MAIL OPES_OK [552 5.3.4 size_exceeded]\n"
                        "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                        "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                        "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                        "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                        "`RCPT` command RCPT OPES_OK [452 4.5.3 too_many_rcpts]\n"
                        "`RCPT` command RCPT OPES_EBAD_UTF8 [553 5.6.7 parse]\n"
                        "`RSET` command RSET OPES_OK [250 2.0.0 none]\n"
                        "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                        "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                        "`DATA` command DATA OPES_OK [354 none]\n");
    check_log("limits", d.log.p, want, 0);
    /* SMTPUTF8 in effect for the transaction (RFC 6531 3.4) */
    CHECK_EQ(opes_smtp_config_utf8(opes_session_config(s)), 1);
    opes_command c;
    CHECK_ST(opes_session_rcpt(s, 0, &c), OPES_OK);
    CHECK_STR(c.path.mailbox, "j\xc3\xb6@d.example");
    free(want);
    sb_free(&d.log);
    /* message too big for SIZE: 552 after the data (RFC 1870 6.1) */
    size_t used;
    opes_session_event ev;
    char body[1200];
    memset(body, 'a', sizeof body);
    for (size_t i = 78; i < sizeof body; i += 80)
        body[i] = '\r', body[i + 1] = '\n';
    memcpy(body + sizeof body - 5, "\r\n.\r\n", 5);
    size_t off = 0, got_end = 0;
    while (off < sizeof body) {
        CHECK_ST(opes_session_feed(s, body + off, sizeof body - off, &used, &ev), OPES_OK);
        off += used;
        if (ev.type == OPES_SESSION_EV_MESSAGE_END) {
            got_end = 1;
            CHECK_EQ(ev.reply_code, 552);
            CHECK_EQ(ev.reason, OPES_REASON_SIZE_EXCEEDED);
            CHECK_ST(opes_session_respond(s, 552), OPES_OK);
        }
    }
    CHECK(got_end);
    /* the transaction is over: SMTPUTF8 off again */
    CHECK_EQ(opes_smtp_config_utf8(opes_session_config(s)), 0);
    opes_session_free(s);
    opes_smtp_config_free(cfg);
}

static void test_arena(void)
{
    /* a session in caller memory with the smallest arena: one MAIL and one
     * RCPT line at their limits. A second recipient does not fit: 452; a
     * caller who answers 250 anyway gets OPES_ENOSPC and must reply again. */
    size_t need = opes_session_sizeof(NULL);
    size_t small = need - 100 * (512 + 12) + 512 + 12;
    void *mem = malloc(need);
    opes_session *s = NULL;
    CHECK_ST(opes_session_init_in(mem, small - 1, OPES_ROLE_SERVER, NULL, &s), OPES_EINVAL);
    CHECK_ST(opes_session_init_in(mem, small, OPES_ROLE_SERVER, NULL, &s), OPES_OK);
    CHECK_EQ(opes_session_arena_size(s), 512 + 512 + 12);
    CHECK_ST(opes_session_set_arena_size(s, 100000), OPES_EINVAL); /* caller memory */
    /* a RCPT line of 263 octets (a 60-octet local-part, a 190-octet domain:
     * within the RFC 5321 4.5.3.1 limits): three fit beside the MAIL line,
     * the fourth does not */
    char rcpt[300];
    int rl = snprintf(rcpt, sizeof rcpt, "RCPT TO:<%s@%s.%s.%s.example>\r\n",
                      "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll",
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                      "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
    CHECK_EQ(rl, 263);
    struct sbuf in = {0};
    sb_printf(&in, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
    for (int i = 0; i < 4; i++)
        sb_add(&in, rcpt, (size_t)rl);
    size_t off = 0, used;
    opes_session_event ev;
    int n = 0;
    while (off < in.len) {
        CHECK_ST(opes_session_feed(s, in.p + off, in.len - off, &used, &ev), OPES_OK);
        off += used;
        if (!ev.needs_reply)
            continue;
        n++;
        if (n == 6) {
            CHECK_EQ(ev.reply_code, 452);
            CHECK_EQ(ev.reason, OPES_REASON_ARENA_FULL);
            CHECK_ST(opes_session_respond(s, 250), OPES_ENOSPC);
            CHECK_EQ(opes_session_replies_due(s), 1);
            CHECK_ST(opes_session_respond(s, 452), OPES_OK);
        } else {
            CHECK_EQ(ev.reply_code / 100, 2);
            CHECK_ST(opes_session_respond(s, ev.reply_code), OPES_OK);
        }
    }
    CHECK_EQ(n, 6);
    CHECK_EQ(opes_session_rcpt_count(s), 3);
    opes_command c;
    CHECK_ST(opes_session_rcpt(s, 2, &c), OPES_OK);
    CHECK_EQ(c.path.mailbox.len, 251);
    opes_session_free(s); /* a no-op */
    sb_free(&in);
    free(mem);

    /* a heap session may get a bigger arena outside a transaction */
    s = mksession(NULL, 0);
    CHECK_ST(opes_session_set_arena_size(s, 10), OPES_EINVAL);
    CHECK_ST(opes_session_set_arena_size(s, 1 << 20), OPES_OK);
    CHECK_EQ(opes_session_arena_size(s), 1 << 20);
    CHECK_ST(opes_session_feed(s, "EHLO c.example\r\n", 16, &used, &ev), OPES_OK);
    CHECK_ST(opes_session_set_arena_size(s, 1 << 19), OPES_ESTATE); /* a reply is due */
    opes_session_free(s);
}

/* opes_session_data_summary() follows the message being read: during a DATA
 * message that follows a BDAT one (RFC 3030 2 allows either per
 * transaction), the DATA codec's counters, not the BDAT chunk total. */
static void test_summary_after_bdat(void)
{
    static const char in[] = "EHLO c.example\r\n"
                             "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                             "BDAT 12 LAST\r\n0123456789\r\n"
                             "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                             "DATA\r\nabc\r\n";
    opes_session *s = mksession((const char *const[]){"CHUNKING", NULL}, 0);
    struct drv d;
    opes_data_summary sum;
    drv_init(&d, s);
    drv_run(&d, in, sizeof in - 1, NULL, 0, 0);
    CHECK_EQ(opes_session_state(s), OPES_STATE_DATA);
    CHECK_ST(opes_session_data_summary(s, &sum), OPES_OK);
    CHECK_EQ(sum.bytes_in, 5); /* "abc\r\n" of this message, not the 12 of the chunk */
    CHECK_EQ(sum.bytes_out, 5);
    sb_free(&d.log);
    sb_free(&d.content);
    opes_session_free(s);
}

/* Feed one whole line that gives an event needing a reply; returns it. */
static opes_session_event feed_line(opes_session *s, const char *line)
{
    opes_session_event ev;
    size_t used = 0;
    CHECK_ST(opes_session_feed(s, line, strlen(line), &used, &ev), OPES_OK);
    CHECK_EQ(used, strlen(line));
    CHECK_EQ(ev.needs_reply, 1);
    return ev;
}

/* A success to a line the parser refused: the caller is out of sync with the
 * session (it would start TLS, or send data, where the session reads
 * commands), so respond() refuses it with OPES_ESTATE and nothing changes;
 * the failure is then taken. RFC 3207 4: "STARTTLS foo" is 501; RFC 5321
 * 4.1.1.4: "DATA x" is 501 (no argument). */
static void test_success_to_refused(void)
{
    static const char *const offers[] = {"STARTTLS", "AUTH=PLAIN LOGIN", NULL};
    opes_session *s = mksession(offers, 0);
    opes_session_event ev;
    ev = feed_line(s, "EHLO c.example\r\n");
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    ev = feed_line(s, "STARTTLS foo\r\n");
    CHECK_EQ(ev.reply_code, 501);
    CHECK_ST(opes_session_respond(s, 220), OPES_ESTATE);
    CHECK_EQ(opes_session_replies_due(s), 1);
    CHECK_EQ(opes_session_state(s), OPES_STATE_READY);
    CHECK_ST(opes_session_respond(s, 501), OPES_OK);
    CHECK_EQ(opes_session_state(s), OPES_STATE_READY);
    ev = feed_line(s, "MAIL FROM:<a@b.example>\r\n");
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    ev = feed_line(s, "RCPT TO:<c@d.example>\r\n");
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    ev = feed_line(s, "DATA x\r\n");
    CHECK_EQ(ev.reply_code, 501);
    CHECK_ST(opes_session_respond(s, 354), OPES_ESTATE);
    CHECK_ST(opes_session_respond(s, 250), OPES_ESTATE);
    CHECK_EQ(opes_session_state(s), OPES_STATE_RCPT);
    CHECK_ST(opes_session_respond(s, 451), OPES_OK); /* any failure */
    CHECK_EQ(opes_session_state(s), OPES_STATE_RCPT);
    ev = feed_line(s, "RSET\r\n");
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    /* an AUTH line that is not base64 (RFC 4954 4: 501) */
    ev = feed_line(s, "AUTH LOGIN\r\n");
    CHECK_ST(opes_session_respond(s, 334), OPES_OK);
    ev = feed_line(s, "not base64!\r\n");
    CHECK_EQ(ev.type, OPES_SESSION_EV_AUTH_LINE);
    CHECK_ST(opes_session_respond(s, 235), OPES_ESTATE);
    CHECK_ST(opes_session_respond(s, 334), OPES_ESTATE);
    CHECK_ST(opes_session_respond(s, 501), OPES_OK);
    CHECK_EQ(opes_session_authenticated(s), 0);
    CHECK_EQ(opes_session_state(s), OPES_STATE_READY);
    /* an over-long line (RFC 5321 4.5.3.1.9: 500) */
    char line[700];
    memset(line, 'x', sizeof line);
    memcpy(line, "NOOP ", 5);
    memcpy(line + sizeof line - 2, "\r\n", 2);
    size_t used = 0;
    CHECK_ST(opes_session_feed(s, line, sizeof line, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_SESSION_EV_LINE_TOO_LONG);
    CHECK_ST(opes_session_respond(s, 250), OPES_ESTATE);
    CHECK_ST(opes_session_respond(s, 500), OPES_OK);
    opes_session_free(s);
}

/* RFC 3207 5 (CVE-2011-0411): the caller that read "STARTTLS" together with
 * injected commands holds those bytes when it writes the 220. It says so
 * with opes_session_reply_sent(s, unread); TLS may not start until they have
 * been fed and reported as TLS_INJECTION (else they would go to the TLS
 * layer, or be lost without a report). */
static void test_starttls_owed(void)
{
    static const char in[] = "STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n";
    const size_t cmd = 10, rest = sizeof in - 1 - cmd;
    for (size_t part = 0; part <= rest; part++) {
        opes_session *s = mksession((const char *const[]){"PIPELINING", "STARTTLS", NULL}, 0);
        opes_session_event ev;
        size_t used = 0;
        ev = feed_line(s, "EHLO c.example\r\n");
        CHECK_ST(opes_session_respond(s, 250), OPES_OK);
        CHECK_ST(opes_session_reply_sent(s, 0), OPES_OK);
        CHECK_ST(opes_session_feed(s, in, sizeof in - 1, &used, &ev), OPES_OK);
        CHECK_EQ(used, cmd);
        CHECK_EQ(ev.verb, OPES_VERB_STARTTLS);
        CHECK_ST(opes_session_respond(s, 220), OPES_OK);
        CHECK_ST(opes_session_reply_sent(s, rest), OPES_OK);
        CHECK_ST(opes_session_tls_started(s), OPES_ESTATE); /* nothing fed yet */
        size_t fed = 0;
        if (part) {
            CHECK_ST(opes_session_feed(s, in + cmd, part, &used, &ev), OPES_OK);
            CHECK_EQ(ev.type, OPES_SESSION_EV_TLS_INJECTION);
            CHECK_EQ(ev.content.len, part);
            fed = used;
        }
        if (fed < rest) {
            CHECK_ST(opes_session_tls_started(s), OPES_ESTATE);
            CHECK_ST(opes_session_feed(s, in + cmd + fed, rest - fed, &used, &ev), OPES_OK);
            CHECK_EQ(ev.type, OPES_SESSION_EV_TLS_INJECTION);
            CHECK_EQ(ev.offset, 16 + cmd + fed);
        }
        CHECK_ST(opes_session_tls_started(s), OPES_OK);
        CHECK_EQ(opes_session_state(s), OPES_STATE_INIT);
        opes_session_free(s);
    }
}

/* Two replies a client must wait for (RFC 2920 3.1: EHLO and NOOP "MUST"
 * be the last command in a group) given before one opes_session_reply_sent():
 * what follows was sent before both; the window starts after the first, the
 * report names the latest, whichever order they come in. */
static void test_pipelining_two_waits(void)
{
    static const char *const orders[2][2] = {{"EHLO c.example\r\n", "NOOP\r\n"},
                                             {"NOOP\r\n", "EHLO c.example\r\n"}};
    static const int latest[2] = {OPES_VERB_NOOP, OPES_VERB_EHLO};
    for (int o = 0; o < 2; o++) {
        opes_session *s = mksession(pipe_offers, 0);
        opes_session_event ev;
        size_t used = 0;
        const char *mail = "MAIL FROM:<a@b.example>\r\n";
        uint64_t at = strlen(orders[o][0]) + strlen(orders[o][1]);
        CHECK_ST(opes_session_reply_sent(s, 0), OPES_OK); /* the greeting */
        ev = feed_line(s, orders[o][0]);
        CHECK_ST(opes_session_respond(s, 250), OPES_OK);
        ev = feed_line(s, orders[o][1]);
        CHECK_ST(opes_session_respond(s, 250), OPES_OK);
        CHECK_ST(opes_session_reply_sent(s, strlen(mail)), OPES_OK);
        CHECK_ST(opes_session_feed(s, mail, strlen(mail), &used, &ev), OPES_OK);
        CHECK_EQ(ev.type, OPES_SESSION_EV_PIPELINING_VIOLATION);
        CHECK_EQ(ev.offset, at);
        CHECK_EQ(ev.verb, latest[o]);
        CHECK_EQ(used, 0);
        CHECK_ST(opes_session_feed(s, mail, strlen(mail), &used, &ev), OPES_OK);
        CHECK_EQ(ev.type, OPES_SESSION_EV_COMMAND); /* once */
        CHECK_ST(opes_session_respond(s, 250), OPES_OK);
        opes_session_free(s);
    }
}

/* A success to a BDAT chunk the session discarded: a BDAT the state rules
 * refuse (here 554, no valid recipient: RFC 5321 3.3) has its chunk read
 * and thrown away (RFC 3030 2: "MUST accept and discard"); no BDAT_CONTENT
 * and, for BDAT LAST, no MESSAGE_END carries it. A 2xx at its CHUNK_END
 * would tell the client its message was taken while nobody holds it (and
 * the client would think the transaction over, the session not): respond()
 * refuses it with OPES_ESTATE, state and reply due unchanged. */
static void test_success_to_discarded_chunk(void)
{
    static const char *const offers[] = {"PIPELINING", "CHUNKING", NULL};
    opes_session *s = mksession(offers, 0);
    opes_session_event ev;
    size_t used = 0;
    ev = feed_line(s, "EHLO c.example\r\n");
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    ev = feed_line(s, "MAIL FROM:<a@b.example>\r\n");
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    ev = feed_line(s, "RCPT TO:<c@d.example>\r\n");
    CHECK_ST(opes_session_respond(s, 550), OPES_OK); /* policy: no valid recipient */
    CHECK_ST(opes_session_feed(s, "BDAT 5 LAST\r\nhello", 18, &used, &ev), OPES_OK);
    CHECK_EQ(used, 13);
    CHECK_EQ(ev.type, OPES_SESSION_EV_COMMAND);
    CHECK_EQ(ev.reply_code, 554);
    CHECK_EQ(ev.needs_reply, 0);
    CHECK_ST(opes_session_feed(s, "hello", 5, &used, &ev), OPES_OK);
    CHECK_EQ(used, 5);
    CHECK_EQ(ev.type, OPES_SESSION_EV_CHUNK_END); /* not MESSAGE_END: discarded */
    CHECK_EQ(ev.needs_reply, 1);
    CHECK_ST(opes_session_respond(s, 250), OPES_ESTATE);
    CHECK_ST(opes_session_respond(s, 354), OPES_ESTATE);
    CHECK_EQ(opes_session_replies_due(s), 1);
    CHECK_ST(opes_session_respond(s, 554), OPES_OK);
    CHECK_EQ(opes_session_replies_due(s), 0);
    CHECK_EQ(opes_session_state(s), OPES_STATE_MAIL);
    /* RFC 3030 2: the transaction has failed; more chunks get 503 */
    CHECK_ST(opes_session_feed(s, "BDAT 0 LAST\r\n", 13, &used, &ev), OPES_OK);
    CHECK_EQ(ev.reply_code, 503);
    CHECK_EQ(ev.reason, OPES_REASON_BDAT_FAILED);
    opes_session_free(s);
}

/* BDAT smuggling (RFC 3030 2). A BDAT line the parser refuses may still be
 * taken by a lax relay in front of the server ("BDAT 20  LAST" with two
 * spaces, HT and text after LAST, trailing white space past the line limit),
 * which then forwards chunk-size octets of data: the server must not read
 * them as commands. The session reads the size leniently, discards the chunk
 * and gives the parser's reply after it (RFC 3030 2: a failed BDAT's chunk
 * is still read and discarded). The smuggled MAIL/RCPT lines never appear as
 * commands, at every split. */
static void test_bdat_refused_chunk(void)
{
    static const char *const offers[] = {"PIPELINING", "CHUNKING", NULL};
    struct sbuf in = {0};
    char spaces[600];
    memset(spaces, ' ', sizeof spaces);
    sb_printf(&in, "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
    sb_printf(&in, "BDAT 20  LAST\r\n%s", "MAIL FROM:<e@x.ex>\r\n");
    sb_printf(&in, "RSET\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
    sb_printf(&in, "BDAT 18 LAST\tx\r\n%s", "RCPT TO:<v@x.ex>\r\n");
    sb_printf(&in, "RSET\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
    sb_add(&in, "BDAT 18", 7);
    sb_add(&in, spaces, sizeof spaces);
    sb_printf(&in, "\r\n%s", "RCPT TO:<w@x.ex>\r\n");
    sb_printf(&in, "RSET\r\nQUIT\r\n");
    struct scen sc = {
        .name = "BDAT refused, chunk discarded",
        .offers = offers,
        .input = in.p,
        .len = in.len,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`BDAT 20` command BDAT OPES_ESYNTAX [501 5.5.2 parse]\n"
                  "`RSET` chunk_end BDAT size=20 [501 5.5.2 parse]\n"
                  "`=` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`BDAT 18` command BDAT OPES_ESYNTAX [501 5.5.2 parse]\n"
                  "`RSET` chunk_end BDAT size=18 [501 5.5.2 parse]\n"
                  "`=` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`MAIL` command MAIL OPES_OK [250 2.1.0 none]\n"
                  "`RCPT` command RCPT OPES_OK [250 2.1.5 none]\n"
                  "`BDAT 18` line_too_long BDAT OPES_ELINE_TOO_LONG [500 5.5.2 parse]\n"
                  "`RSET` chunk_end BDAT size=18 [500 5.5.2 parse]\n"
                  "`=` command RSET OPES_OK [250 2.0.0 none]\n"
                  "`QUIT` command QUIT OPES_OK [221 2.0.0 none]\n",
    };
    opes_session *s = run_scen(&sc);
    opes_session_free(s);
    sb_free(&in);

    /* a success to the refused chunk is refused (the caller is out of sync) */
    s = mksession(offers, 0);
    opes_session_event ev;
    size_t used = 0;
    ev = feed_line(s, "EHLO c.example\r\n");
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    CHECK_ST(opes_session_feed(s, "BDAT 3  LAST\r\nabc", 17, &used, &ev), OPES_OK);
    CHECK_EQ(ev.needs_reply, 0);
    CHECK_EQ(ev.size, 3);
    CHECK_EQ(opes_session_state(s), OPES_STATE_BDAT);
    CHECK_ST(opes_session_feed(s, "abc", 3, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_SESSION_EV_CHUNK_END);
    CHECK_ST(opes_session_respond(s, 250), OPES_ESTATE);
    CHECK_ST(opes_session_respond(s, 501), OPES_OK);
    opes_session_free(s);

    /* no size to read: a chunk size over UINT64_MAX, an over-long line
     * without digits. Where the chunk ends is unknown: 421 4.5.0 (RFC 5321
     * 3.8), and the session takes nothing more */
    struct sbuf ov = {0};
    sb_printf(&ov, "EHLO c.example\r\nBDAT 18446744073709551616 LAST\r\nQUIT\r\n");
    struct scen s2 = {
        .name = "BDAT size overflow",
        .offers = offers,
        .input = ov.p,
        .expect = "`EHLO` command EHLO OPES_OK [250 none]\n"
                  "`BDAT` command BDAT OPES_EBAD_NUMBER [421 4.5.0 framing_lost]\n"
                  "`QUIT` feed=OPES_ESTATE\n",
    };
    s = run_scen(&s2);
    CHECK_EQ(opes_session_state(s), OPES_STATE_CLOSED);
    opes_session_free(s);
    sb_free(&ov);
    struct sbuf ll = {0};
    sb_printf(&ll, "EHLO c.example\r\nBDAT ");
    sb_add(&ll, spaces, sizeof spaces);
    sb_printf(&ll, "18\r\nMAIL FROM:<e@x.ex>\r\n");
    for (size_t chunk = 0; chunk <= 70; chunk++) {
        struct drv d;
        s = mksession(offers, 0);
        drv_init(&d, s);
        drv_run(&d, ll.p, ll.len, NULL, 0, chunk);
        /* the stream stops there (where depends on the split) */
        CHECK(strncmp(d.log.p,
                      "0 command EHLO OPES_OK [250 none]\n"
                      "16 line_too_long BDAT OPES_ELINE_TOO_LONG [421 4.5.0 framing_lost]\n",
                      strlen("0 command EHLO OPES_OK [250 none]\n"
                             "16 line_too_long BDAT OPES_ELINE_TOO_LONG [421 4.5.0 "
                             "framing_lost]\n")) == 0);
        CHECK(strstr(d.log.p, "command MAIL") == NULL);
        CHECK_EQ(opes_session_state(s), OPES_STATE_CLOSED);
        sb_free(&d.log);
        sb_free(&d.content);
        opes_session_free(s);
    }
    sb_free(&ll);
    /* without digits at all no chunk can follow: an ordinary refusal */
    s = mksession(offers, 0);
    ev = feed_line(s, "BDAT x\r\n");
    CHECK_EQ(ev.reply_code, 501);
    CHECK_ST(opes_session_respond(s, 501), OPES_OK);
    CHECK_EQ(opes_session_state(s), OPES_STATE_INIT);
    opes_session_free(s);
}

/* ---- creation, options, misuse ------------------------------------------------------ */

struct failing {
    int countdown, allocs, frees;
};
static void *f_alloc(void *user, size_t n)
{
    struct failing *f = user;
    if (f->countdown-- == 0)
        return NULL;
    f->allocs++;
    return malloc(n);
}
static void f_free(void *user, void *p, size_t n)
{
    struct failing *f = user;
    (void)n;
    if (p)
        f->frees++;
    free(p);
}

static void test_api(void)
{
    opes_session *s = NULL;
    size_t used = 7;
    opes_session_event ev;
    CHECK_ST(opes_session_new(NULL, OPES_ROLE_SERVER, NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_session_new(&s, 7, NULL, NULL), OPES_EINVAL);
    CHECK(s == NULL);
    /* every allocation failing in turn: a clean ENOMEM, nothing leaked */
    for (int k = 0; k < 3; k++) {
        struct failing f = {k, 0, 0};
        opes_allocator a = {f_alloc, NULL, f_free, &f};
        opes_status st = opes_session_new(&s, OPES_ROLE_SERVER, NULL, &a);
        if (st == OPES_OK) {
            CHECK_ST(opes_session_set_arena_size(s, 200000), k == 1 ? OPES_ENOMEM : OPES_OK);
            opes_session_free(s);
        } else {
            CHECK_ST(st, OPES_ENOMEM);
        }
        CHECK_EQ(f.allocs, f.frees);
    }
    s = mksession(NULL, 0);
    CHECK_ST(opes_session_feed(s, NULL, 5, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_session_feed(s, "x", 1, NULL, &ev), OPES_EINVAL);
    CHECK_ST(opes_session_respond(s, 250), OPES_ESTATE); /* nothing due */
    CHECK_ST(opes_session_set_option(s, OPES_SESSION_PROTOCOL, 9), OPES_EINVAL);
    CHECK_ST(opes_session_set_option(s, 99, 0), OPES_EINVAL);
    CHECK_ST(opes_session_feed(s, "NOOP\r\n", 6, &used, &ev), OPES_OK);
    CHECK_EQ(ev.needs_reply, 1);
    CHECK_ST(opes_session_feed(s, "NOOP\r\n", 6, &used, &ev), OPES_ESTATE); /* reply due */
    CHECK_EQ(used, 0);
    CHECK_ST(opes_session_respond(s, 99), OPES_EINVAL);
    CHECK_ST(opes_session_respond(s, 250), OPES_OK);
    CHECK_ST(opes_session_set_option(s, OPES_SESSION_PROTOCOL, OPES_PROTOCOL_LMTP), OPES_ESTATE);
    CHECK_ST(opes_session_reset(s), OPES_OK);
    CHECK_EQ(opes_session_offset(s), 0);
    CHECK_ST(opes_session_set_option(s, OPES_SESSION_PROTOCOL, OPES_PROTOCOL_LMTP), OPES_OK);
    CHECK_EQ(opes_session_max_line(s), 512);
    opes_session_free(s);
    opes_session_free(NULL);
    CHECK_EQ(opes_session_state(NULL), OPES_STATE_CLOSED);
    CHECK(opes_session_event_name(OPES_SESSION_EV_PIPELINING_VIOLATION) != NULL);
    CHECK(opes_session_event_name(12) == NULL);
    CHECK(strcmp(opes_session_reason_name(OPES_REASON_BARE_LINE_END), "bare_line_end") == 0);
    CHECK(opes_session_reason_name(25) == NULL);
    CHECK(opes_session_reason_name(-1) == NULL);
}

int main(void)
{
    srand(4902);
    test_d1();
    test_d2();
    test_d3();
    test_d4();
    test_sequence();
    test_syntax_errors();
    test_bdat_41();
    test_bdat_42();
    test_bdat_rules();
    test_pipelining_rfc();
    test_pipelining_violations();
    test_lmtp();
    test_starttls();
    test_auth();
    test_line_too_long();
    test_smuggling();
    test_limits();
    test_arena();
    test_summary_after_bdat();
    test_success_to_refused();
    test_starttls_owed();
    test_pipelining_two_waits();
    test_bdat_refused_chunk();
    test_success_to_discarded_chunk();
    test_api();
    return TEST_END();
}
