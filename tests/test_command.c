/* SMTP command lines: opes_command_parse, opes_line_skip, opes_verb_name,
 * opes_auth_line_parse, opes_command_build, opes_mail_rcpt_build.
 *
 * Expectations come from the RFCs (quoted with their section) and from the
 * measured flaws of smtp-proto (anchors.md 1.5). The reply codes are those
 * the RFCs name for each case (RFC 5321 4.2.3, 4.2.4, 4.3.2, 4.1.1.11,
 * 4.5.3.1.9; RFC 3207 4; RFC 4954 4 and 6; enhanced codes RFC 3463, 5248). */
#include "harness.h"
#include "internal.h"

#include <stdlib.h>

/* ---- helpers ---------------------------------------------------------------- */

/* Inputs go through guarded_copy(); the copies live in a ring so that the
 * views of the last few results stay valid. */
#define RING 16
static const char *ring[RING];
static size_t ring_i;

/* guarded_copy(p, 0) points at the guard page itself, which
 * guarded_free() cannot release: an empty input is a static one instead. */
static const char empty_input[1];

static const char *gcopy(const char *p, size_t n)
{
    return n ? guarded_copy(p, n) : empty_input;
}

static void gfree(const char *p)
{
    if (p != empty_input)
        guarded_free(p);
}

static const char *keep(const char *p, size_t n)
{
    const char *c = gcopy(p, n);
    if (ring[ring_i % RING])
        gfree(ring[ring_i % RING]);
    ring[ring_i % RING] = c;
    ring_i++;
    return c;
}

static opes_status parse_n(const opes_smtp_config *cfg, const char *s, size_t n, opes_command *cmd,
                           size_t *used)
{
    return opes_command_parse(cfg, keep(s, n), n, cmd, used);
}

static opes_status parse(const opes_smtp_config *cfg, const char *s, opes_command *cmd,
                         size_t *used)
{
    return parse_n(cfg, s, strlen(s), cmd, used);
}

static int enh_eq(const char *got, const char *want)
{
    if (!want || !got)
        return got == want;
    return strcmp(got, want) == 0;
}

/* Parse a whole line and check status, verb, reply and enhanced code; the
 * whole line must be consumed. */
#define CHECK_LINE(cfg, line, st_, verb_, code_, enh_)                                             \
    do {                                                                                           \
        opes_command c_;                                                                           \
        size_t u_ = 99;                                                                            \
        opes_status s_ = parse((cfg), (line), &c_, &u_);                                           \
        CHECK_ST(s_, (st_));                                                                       \
        CHECK_EQ(c_.verb, (verb_));                                                                \
        CHECK_EQ(u_, strlen(line));                                                                \
        CHECK_EQ(c_.reply_code, (code_));                                                          \
        CHECK(enh_eq(c_.enhanced, (enh_)));                                                        \
        if (s_ != (st_))                                                                           \
            fprintf(stderr, "    line: %s", (line));                                               \
    } while (0)

static opes_smtp_config *mkcfg(unsigned lenient, const char *offers)
{
    opes_smtp_config *c = NULL;
    char kw[64];
    size_t k = 0;
    if (opes_smtp_config_new(&c, NULL) != OPES_OK)
        abort();
    opes_smtp_config_set_lenient(c, lenient);
    /* offers: space-separated keywords */
    for (const char *p = offers;; p++) {
        if (*p == ' ' || *p == '\0') {
            if (k) {
                kw[k] = '\0';
                if (opes_smtp_config_offer(c, kw, 1, NULL) != OPES_OK)
                    abort();
                k = 0;
            }
            if (*p == '\0')
                break;
        } else if (k < sizeof kw - 1) {
            kw[k++] = *p;
        }
    }
    return c;
}

/* A stream event: what a server loop sees, independent of how the bytes
 * were split. */
struct ev {
    int st;
    int verb;
    size_t line_len; /* 0 for an over-long line still being skipped */
};

/* Feed in[0..n) in pieces ending at cuts[] (and n), like a server reading
 * a socket: parse what is complete, skip over-long lines with
 * opes_line_skip(), keep the rest. Returns the number of events. */
static size_t run_stream(const opes_smtp_config *cfg, const char *in, size_t n, const size_t *cuts,
                         size_t ncuts, struct ev *log, size_t max)
{
    size_t have = 0, start = 0, nev = 0, ci = 0;
    int skipping = 0;
    while (have < n || ci <= ncuts) {
        size_t to = ci < ncuts ? cuts[ci] : n;
        ci++;
        if (to > n)
            to = n;
        if (to > have)
            have = to;
        for (;;) {
            size_t used = 0;
            const char *b = gcopy(in + start, have - start);
            opes_status st;
            if (skipping) {
                st = opes_line_skip(cfg, b, have - start, &used);
                gfree(b);
                CHECK(used <= have - start);
                start += used;
                if (st == OPES_OK) {
                    skipping = 0;
                    continue;
                }
                break;
            }
            opes_command cmd;
            st = opes_command_parse(cfg, b, have - start, &cmd, &used);
            gfree(b);
            CHECK(used <= have - start);
            if (st == OPES_INCOMPLETE) {
                CHECK_EQ(used, 0);
                break;
            }
            if (nev < max) {
                log[nev].st = st;
                log[nev].verb = cmd.verb;
                log[nev].line_len = cmd.line_len;
            }
            nev++;
            start += used;
            if (st == OPES_ELINE_TOO_LONG && cmd.line_len == 0) {
                skipping = 1;
                continue;
            }
            if (used == 0) /* no progress can only be a partial CR */
                break;
        }
        if (have >= n && ci > ncuts)
            break;
    }
    return nev;
}

/* Every two-piece split and the byte-by-byte feed give the events of the
 * whole buffer, which must equal want[0..nwant). Over-long lines report
 * line_len 0 or the full length depending on where the end arrives, so
 * their line_len is not compared. */
static void check_all_splits(const opes_smtp_config *cfg, const char *in, size_t n,
                             const struct ev *want, size_t nwant)
{
    struct ev got[64];
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    size_t ng;
    int bad = 0;
    for (size_t cut = 0; cut <= n; cut++) {
        ng = run_stream(cfg, in, n, &cut, 1, got, 64);
        if (ng != nwant) {
            bad = 1;
        } else {
            for (size_t i = 0; i < ng; i++)
                if (got[i].st != want[i].st || got[i].verb != want[i].verb ||
                    (got[i].st != OPES_ELINE_TOO_LONG && got[i].line_len != want[i].line_len))
                    bad = 1;
        }
        if (bad) {
            fprintf(stderr, "    split at %zu: %zu events, want %zu\n", cut, ng, nwant);
            for (size_t i = 0; i < ng && i < 64; i++)
                fprintf(stderr, "    ev %zu: %s verb %d len %zu\n", i, opes_status_name(got[i].st),
                        got[i].verb, got[i].line_len);
            break;
        }
    }
    CHECK(!bad);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    ng = run_stream(cfg, in, n, cuts, n, got, 64);
    CHECK_EQ(ng, nwant);
    for (size_t i = 0; i < ng && i < nwant; i++) {
        CHECK_ST(got[i].st, want[i].st);
        CHECK_EQ(got[i].verb, want[i].verb);
    }
    free(cuts);
}

/* ---- RFC 5321 Appendix D ------------------------------------------------------ */

static void test_appendix_d(void)
{
    /* D.1-D.4: the server offers "250-8BITMIME 250-SIZE 250-DSN 250 HELP" */
    opes_smtp_config *cfg = mkcfg(0, "8BITMIME SIZE DSN");
    opes_command c;
    size_t used;

    CHECK_ST(parse(cfg, "EHLO bar.com\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_EHLO);
    CHECK_STR(c.domain, "bar.com");
    CHECK_STR(c.verb_text, "EHLO");
    CHECK_STR(c.argument, "bar.com");
    CHECK_EQ(used, 14);
    CHECK_EQ(c.line_len, 14);
    CHECK_EQ(c.notes, 0);
    CHECK_EQ(c.reply_code, 0);

    CHECK_ST(parse(cfg, "MAIL FROM:<Smith@bar.com>\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_MAIL);
    CHECK_EQ(c.path.kind, OPES_PATH_MAILBOX);
    CHECK_STR(c.path.local_part, "Smith");
    CHECK_STR(c.path.domain, "bar.com");
    CHECK_STR(c.path.mailbox, "Smith@bar.com");
    CHECK_EQ(c.params.count, 0);
    CHECK_STR(c.argument, "FROM:<Smith@bar.com>");

    static const char *const rcpts[] = {"Jones@foo.com", "Green@foo.com", "Brown@foo.com",
                                        "Jones@XYZ.COM", "Admin.MRC@foo.com"};
    for (size_t i = 0; i < 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", rcpts[i]);
        CHECK_ST(parse(cfg, line, &c, &used), OPES_OK);
        CHECK_EQ(c.verb, OPES_VERB_RCPT);
        CHECK_STR(c.path.mailbox, rcpts[i]);
        CHECK_EQ(used, strlen(line));
    }
    CHECK_LINE(cfg, "DATA\r\n", OPES_OK, OPES_VERB_DATA, 0, NULL);
    CHECK_LINE(cfg, "RSET\r\n", OPES_OK, OPES_VERB_RSET, 0, NULL);
    CHECK_LINE(cfg, "QUIT\r\n", OPES_OK, OPES_VERB_QUIT, 0, NULL);
    CHECK_LINE(cfg, "MAIL FROM:<JQP@bar.com>\r\n", OPES_OK, OPES_VERB_MAIL, 0, NULL);
    CHECK_LINE(cfg, "EHLO foo.com\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL);
    CHECK_LINE(cfg, "MAIL FROM:<EAK@bar.com>\r\n", OPES_OK, OPES_VERB_MAIL, 0, NULL);
    /* D.4 "C: VRFY Crispin" */
    CHECK_ST(parse(cfg, "VRFY Crispin\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_VRFY);
    CHECK_STR(c.string, "Crispin");
    CHECK_EQ(c.smtputf8, 0);

    /* D.1's client side as one pipelined buffer (the DATA content left
     * out: it belongs to the DATA reader), parsed one line after another */
    {
        static const char d1[] = "EHLO bar.com\r\n"
                                 "MAIL FROM:<Smith@bar.com>\r\n"
                                 "RCPT TO:<Jones@foo.com>\r\n"
                                 "RCPT TO:<Green@foo.com>\r\n"
                                 "RCPT TO:<Brown@foo.com>\r\n"
                                 "DATA\r\n";
        static const int verbs[] = {OPES_VERB_EHLO, OPES_VERB_MAIL, OPES_VERB_RCPT,
                                    OPES_VERB_RCPT, OPES_VERB_RCPT, OPES_VERB_DATA};
        static const size_t lens[] = {14, 27, 25, 25, 25, 6};
        struct ev want[6];
        size_t n = sizeof d1 - 1, off = 0;
        const char *b = keep(d1, n);
        for (size_t i = 0; i < 6; i++) {
            CHECK_ST(opes_command_parse(cfg, b + off, n - off, &c, &used), OPES_OK);
            CHECK_EQ(c.verb, verbs[i]);
            CHECK_EQ(used, lens[i]);
            off += used;
            want[i].st = OPES_OK;
            want[i].verb = verbs[i];
            want[i].line_len = lens[i];
        }
        CHECK_EQ(off, n);
        CHECK_ST(opes_command_parse(cfg, b + off, 0, &c, &used), OPES_INCOMPLETE);
        CHECK_EQ(used, 0);
        check_all_splits(cfg, d1, n, want, 6);
    }
    opes_smtp_config_free(cfg);
}

/* ---- RFC 3030 (CHUNKING) and RFC 2920 (PIPELINING) ------------------------------ */

static void test_rfc3030(void)
{
    /* 4.1: "R: 250 CHUNKING" */
    opes_smtp_config *cfg = mkcfg(0, "CHUNKING");
    opes_command c;
    size_t used;
    /* The message data of 4.1 (86 octets: 22 + 22 + 42) follows the BDAT
     * line at once; the caller skips chunk_size octets, then parses QUIT. */
    static const char s41[] = "BDAT 86 LAST\r\n"
                              "To: Susan@random.com\r\n"
                              "From: Sam@random.com\r\n"
                              "Subject: This is a bodyless test message\r\n"
                              "QUIT\r\n";
    const char *b = keep(s41, sizeof s41 - 1);
    CHECK_LINE(cfg, "EHLO ymir.claremont.edu\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL);
    CHECK_LINE(cfg, "MAIL FROM:<Sam@Random.com>\r\n", OPES_OK, OPES_VERB_MAIL, 0, NULL);
    CHECK_LINE(cfg, "RCPT TO:<Susan@Random.com>\r\n", OPES_OK, OPES_VERB_RCPT, 0, NULL);
    CHECK_ST(opes_command_parse(cfg, b, sizeof s41 - 1, &c, &used), OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_BDAT);
    CHECK_EQ(c.chunk_size, 86);
    CHECK_EQ(c.last, 1);
    CHECK_EQ(used, 14);
    CHECK_ST(opes_command_parse(cfg, b + used + 86, sizeof s41 - 1 - used - 86, &c, &used),
             OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_QUIT);
    opes_smtp_config_free(cfg);

    /* 4.2: "250-PIPELINING 250-BINARYMIME 250 CHUNKING" */
    cfg = mkcfg(0, "PIPELINING BINARYMIME CHUNKING");
    CHECK_ST(parse(cfg, "MAIL FROM:<ned@ymir.claremont.edu> BODY=BINARYMIME\r\n", &c, &used),
             OPES_OK);
    CHECK_EQ(c.params.count, 1);
    CHECK_STR(c.params.item[0].keyword, "BODY");
    CHECK_STR(c.params.item[0].value, "BINARYMIME");
    CHECK_LINE(cfg, "RCPT TO:<gvaudre@cnri.reston.va.us>\r\n", OPES_OK, OPES_VERB_RCPT, 0, NULL);
    CHECK_LINE(cfg, "RCPT TO:<jstewart@cnri.reston.va.us>\r\n", OPES_OK, OPES_VERB_RCPT, 0, NULL);
    CHECK_ST(parse(cfg, "BDAT 100000\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.chunk_size, 100000);
    CHECK_EQ(c.last, 0);
    CHECK_ST(parse(cfg, "BDAT 324\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.chunk_size, 324);
    CHECK_ST(parse(cfg, "BDAT 0 LAST\r\n", &c, &used), OPES_OK);
    /* "The last BDAT command MAY have a byte-count of zero" (RFC 3030 2) */
    CHECK_EQ(c.chunk_size, 0);
    CHECK_EQ(c.last, 1);
    opes_smtp_config_free(cfg);

    /* Without CHUNKING offered BDAT is recognized but not available: 502
     * (RFC 5321 4.2.4); the same with a NULL config. */
    cfg = mkcfg(0, "PIPELINING");
    CHECK_LINE(cfg, "BDAT 86 LAST\r\n", OPES_ENOT_OFFERED, OPES_VERB_BDAT, 502, "5.5.1");
    CHECK_LINE(NULL, "BDAT 86 LAST\r\n", OPES_ENOT_OFFERED, OPES_VERB_BDAT, 502, "5.5.1");
    opes_smtp_config_free(cfg);
}

static void test_bdat(void)
{
    opes_smtp_config *cfg = mkcfg(0, "CHUNKING");
    opes_command c;
    size_t used;
    CHECK_ST(parse(cfg, "BDAT 18446744073709551615\r\n", &c, &used), OPES_OK);
    CHECK(c.chunk_size == UINT64_MAX);
    CHECK_ST(parse(cfg, "BDAT 00000000000000000000000000042 LAST\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.chunk_size, 42); /* chunk-size ::= 1*DIGIT: leading zeros are digits */
    CHECK_ST(parse(cfg, "BDAT 18446744073709551616\r\n", &c, &used), OPES_EBAD_NUMBER);
    CHECK_EQ(c.reply_code, 501);
    CHECK_EQ(c.error_offset, 24); /* the last "6" overflows */
    CHECK_LINE(cfg, "BDAT 99999999999999999999999 LAST\r\n", OPES_EBAD_NUMBER, OPES_VERB_BDAT, 501,
               "5.5.4");
    CHECK_LINE(cfg, "BDAT -1\r\n", OPES_EBAD_NUMBER, OPES_VERB_BDAT, 501, "5.5.2");
    CHECK_LINE(cfg, "BDAT LAST\r\n", OPES_EBAD_NUMBER, OPES_VERB_BDAT, 501, "5.5.2");
    CHECK_LINE(cfg, "BDAT\r\n", OPES_EMISSING_ARG, OPES_VERB_BDAT, 501, "5.5.4");
    CHECK_LINE(cfg, "BDAT 1 LASTX\r\n", OPES_ESYNTAX, OPES_VERB_BDAT, 501, "5.5.2");
    CHECK_LINE(cfg, "BDAT 1  LAST\r\n", OPES_ESYNTAX, OPES_VERB_BDAT, 501, "5.5.2");
    CHECK_LINE(cfg, "BDAT 1 FIRST\r\n", OPES_ESYNTAX, OPES_VERB_BDAT, 501, "5.5.2");
    CHECK_LINE(cfg, "BDAT 1x\r\n", OPES_ESYNTAX, OPES_VERB_BDAT, 501, "5.5.2");
    CHECK_ST(parse(cfg, "bdat 7 last\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.chunk_size, 7);
    CHECK_EQ(c.last, 1);
    CHECK(c.notes & OPES_NOTE_CASE);
    opes_smtp_config_free(cfg);
}

static void test_rfc2920(void)
{
    /* RFC 2920 4: the pipelined group after "250 PIPELINING" */
    opes_smtp_config *cfg = mkcfg(0, "PIPELINING");
    static const char grp[] = "MAIL FROM:<mrose@dbc.mtview.ca.us>\r\n"
                              "RCPT TO:<ned@innosoft.com>\r\n"
                              "RCPT TO:<dan@innosoft.com>\r\n"
                              "RCPT TO:<kvc@innosoft.com>\r\n"
                              "DATA\r\n";
    static const struct ev want[] = {{OPES_OK, OPES_VERB_MAIL, 36},
                                     {OPES_OK, OPES_VERB_RCPT, 28},
                                     {OPES_OK, OPES_VERB_RCPT, 28},
                                     {OPES_OK, OPES_VERB_RCPT, 28},
                                     {OPES_OK, OPES_VERB_DATA, 6}};
    check_all_splits(cfg, grp, sizeof grp - 1, want, 5);

    /* the second example: two recipients, then DATA and a later QUIT */
    static const char grp2[] = "EHLO dbc.mtview.ca.us\r\n"
                               "MAIL FROM:<mrose@dbc.mtview.ca.us>\r\n"
                               "RCPT TO:<nsb@thumper.bellcore.com>\r\n"
                               "RCPT TO:<galvin@tis.com>\r\n"
                               "DATA\r\n"
                               "QUIT\r\n";
    static const struct ev want2[] = {{OPES_OK, OPES_VERB_EHLO, 23}, {OPES_OK, OPES_VERB_MAIL, 36},
                                      {OPES_OK, OPES_VERB_RCPT, 36}, {OPES_OK, OPES_VERB_RCPT, 26},
                                      {OPES_OK, OPES_VERB_DATA, 6},  {OPES_OK, OPES_VERB_QUIT, 6}};
    check_all_splits(cfg, grp2, sizeof grp2 - 1, want2, 6);

    /* a pipelined group with malformed lines in it: every line gets its
     * result and the parse goes on at the next one */
    static const char grp3[] = "MAIL FROM:<a@b.example>\r\n"
                               "RCPT TO:<>\r\n"
                               "XYZZY\r\n"
                               "RCPT TO:<c@d.example>\r\n"
                               "DA\rTA\r\n"
                               "DATA\r\n";
    static const struct ev want3[] = {
        {OPES_OK, OPES_VERB_MAIL, 25}, {OPES_EBAD_PATH, OPES_VERB_RCPT, 12},
        {OPES_EUNKNOWN_COMMAND, 0, 7}, {OPES_OK, OPES_VERB_RCPT, 23},
        {OPES_EBARE_CR, 0, 7},         {OPES_OK, OPES_VERB_DATA, 6}};
    check_all_splits(cfg, grp3, sizeof grp3 - 1, want3, 6);
    opes_smtp_config_free(cfg);
}

/* ---- RFC 3461 section 10 (DSN) ------------------------------------------------ */

static void test_rfc3461(void)
{
    /* 10.1: "<<< 250-DSN / 250-EXPN / 250 SIZE" */
    opes_smtp_config *cfg = mkcfg(0, "DSN SIZE");
    opes_command c;
    size_t used;
    unsigned notify = 0;
    opes_str at, addr;

    CHECK_LINE(cfg, "EHLO Example.ORG\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL);
    CHECK_ST(parse(cfg, "MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159\r\n", &c, &used),
             OPES_OK);
    CHECK_EQ(c.params.count, 2);
    CHECK_STR(c.params.item[0].keyword, "RET");
    CHECK_STR(c.params.item[0].value, "HDRS");
    CHECK_STR(c.params.item[1].keyword, "ENVID");
    CHECK_STR(c.params.item[1].value, "QQ314159");
    /* "such a command would be sent as a single line ... without the "\"" */
    CHECK_ST(parse(cfg, "RCPT TO:<Bob@Example.COM> NOTIFY=SUCCESS ORCPT=rfc822;Bob@Example.COM\r\n",
                   &c, &used),
             OPES_OK);
    CHECK_STR(c.path.mailbox, "Bob@Example.COM");
    CHECK_EQ(c.params.count, 2);
    CHECK_ST(opes_params_notify(&c.params, &notify), OPES_OK);
    CHECK_EQ(notify, OPES_NOTIFY_SUCCESS);
    CHECK_ST(opes_params_orcpt(&c.params, &at, &addr), OPES_OK);
    CHECK_STR(at, "rfc822");
    CHECK_STR(addr, "Bob@Example.COM");
    CHECK_ST(
        parse(cfg,
              "RCPT TO:<Dana@Ivory.EDU> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.EDU\r\n", &c,
              &used),
        OPES_OK);
    CHECK_ST(opes_params_notify(&c.params, &notify), OPES_OK);
    CHECK_EQ(notify, OPES_NOTIFY_SUCCESS | OPES_NOTIFY_FAILURE);
    CHECK_LINE(cfg, "RCPT TO:<Carol@Ivory.EDU> NOTIFY=FAILURE ORCPT=rfc822;Carol@Ivory.EDU\r\n",
               OPES_OK, OPES_VERB_RCPT, 0, NULL);
    CHECK_LINE(cfg, "RCPT TO:<Eric@Bombs.AF.MIL> NOTIFY=FAILURE ORCPT=rfc822;Eric@Bombs.AF.MIL\r\n",
               OPES_OK, OPES_VERB_RCPT, 0, NULL);
    CHECK_LINE(cfg, "RCPT TO:<George@Tax-ME.GOV> NOTIFY=FAILURE ORCPT=rfc822;George@Tax-ME.GOV\r\n",
               OPES_OK, OPES_VERB_RCPT, 0, NULL);
    CHECK_ST(parse(cfg, "RCPT TO:<Fred@Bombs.AF.MIL> NOTIFY=NEVER\r\n", &c, &used), OPES_OK);
    CHECK_ST(opes_params_notify(&c.params, &notify), OPES_OK);
    CHECK_EQ(notify, OPES_NOTIFY_NEVER);
    /* 10.4 (Bombs.AF.MIL answered EHLO with 502) */
    CHECK_LINE(cfg, "HELO Example.ORG\r\n", OPES_OK, OPES_VERB_HELO, 0, NULL);
    CHECK_ST(parse(cfg, "MAIL FROM:<>\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.path.kind, OPES_PATH_NULL);
    CHECK_EQ(c.path.mailbox.len, 0);
    opes_smtp_config_free(cfg);

    /* "The client MUST NOT transmit parameters other than those associated
     * with a service extension offered by the server" (RFC 5321 4.1.1.3):
     * a server that did not offer DSN answers 555 (4.1.1.11) */
    cfg = mkcfg(0, "SIZE");
    CHECK_LINE(cfg, "RCPT TO:<Fred@Bombs.AF.MIL> NOTIFY=NEVER\r\n", OPES_EPARAM_UNKNOWN,
               OPES_VERB_RCPT, 555, "5.5.4");
    CHECK_LINE(cfg, "MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159\r\n",
               OPES_EPARAM_UNKNOWN, OPES_VERB_MAIL, 555, "5.5.4");
    CHECK_ST(parse(cfg, "MAIL FROM:<Alice@Example.ORG> SIZE=1000 RET=HDRS\r\n", &c, &used),
             OPES_EPARAM_UNKNOWN);
    CHECK_EQ(c.error_offset, 40); /* at "RET" */
    opes_smtp_config_free(cfg);
    /* NULL config: nothing registered, every parameter is 555 */
    CHECK_LINE(NULL, "MAIL FROM:<a@b.example> SIZE=1\r\n", OPES_EPARAM_UNKNOWN, OPES_VERB_MAIL, 555,
               "5.5.4");
}

/* ---- RFC 4954 (AUTH) ------------------------------------------------------------ */

static void test_rfc4954(void)
{
    opes_smtp_config *cfg = mkcfg(0, "STARTTLS ENHANCEDSTATUSCODES");
    opes_command c;
    opes_auth_line a;
    size_t used;

    opes_smtp_config_offer(cfg, "AUTH", 1, "GSSAPI DIGEST-MD5 PLAIN");
    /* 4.1: "C: STARTTLS" after "250 STARTTLS" */
    CHECK_LINE(cfg, "STARTTLS\r\n", OPES_OK, OPES_VERB_STARTTLS, 0, NULL);
    CHECK_LINE(cfg, "EHLO client.example.com\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL);
    /* "C: AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=" */
    CHECK_ST(parse(cfg, "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_AUTH);
    CHECK_STR(c.mechanism, "PLAIN");
    CHECK_EQ(c.has_initial_response, 1);
    CHECK_STR(c.initial_response, "dGVzdAB0ZXN0ADEyMzQ=");
    /* "C: AUTH PLAIN", then "C: dGVzdAB0ZXN0ADEyMzQ=" after "334 " */
    CHECK_ST(parse(cfg, "AUTH PLAIN\r\n", &c, &used), OPES_OK);
    CHECK_STR(c.mechanism, "PLAIN");
    CHECK_EQ(c.has_initial_response, 0);
    CHECK_EQ(c.initial_response.len, 0);
    CHECK_ST(opes_auth_line_parse(cfg, keep("dGVzdAB0ZXN0ADEyMzQ=\r\n", 22), 22, &a, &used),
             OPES_OK);
    CHECK_STR(a.response, "dGVzdAB0ZXN0ADEyMzQ=");
    CHECK_EQ(a.cancel, 0);
    CHECK_EQ(a.line_len, 22);
    CHECK_EQ(used, 22);
    /* CRAM-MD5 */
    CHECK_ST(parse(cfg, "AUTH CRAM-MD5\r\n", &c, &used), OPES_OK);
    CHECK_STR(c.mechanism, "CRAM-MD5");
    {
        static const char r[] = "cmpzMyBlYzNhNTlmZWQzOTVhYmExZWM2MzY3YzRmNGI0MWFjMA==\r\n";
        CHECK_ST(opes_auth_line_parse(cfg, keep(r, sizeof r - 1), sizeof r - 1, &a, &used),
                 OPES_OK);
        CHECK_EQ(a.response.len, sizeof r - 3);
    }
    /* "C: AUTH EXTERNAL =": a present but empty initial response */
    CHECK_ST(parse(cfg, "AUTH EXTERNAL =\r\n", &c, &used), OPES_OK);
    CHECK_STR(c.mechanism, "EXTERNAL");
    CHECK_EQ(c.has_initial_response, 1);
    CHECK_STR(c.initial_response, "=");
    /* "=AAA" and "AAA=BBB" are not allowed: 501 5.5.2 */
    CHECK_LINE(cfg, "AUTH PLAIN =AAA\r\n", OPES_EBAD_BASE64, OPES_VERB_AUTH, 501, "5.5.2");
    CHECK_LINE(cfg, "AUTH PLAIN AAA=BBB\r\n", OPES_EBAD_BASE64, OPES_VERB_AUTH, 501, "5.5.2");
    CHECK_ST(opes_auth_line_parse(cfg, keep("=AAA\r\n", 6), 6, &a, &used), OPES_EBAD_BASE64);
    CHECK_EQ(a.reply_code, 501);
    CHECK(strcmp(a.enhanced, "5.5.2") == 0);
    CHECK_EQ(used, 6);
    CHECK_ST(opes_auth_line_parse(cfg, keep("AAA=BBB\r\n", 9), 9, &a, &used), OPES_EBAD_BASE64);
    CHECK_EQ(a.error_offset, 4);
    /* "a line with a single "*"": cancel, answered 501 */
    CHECK_ST(opes_auth_line_parse(cfg, keep("*\r\n", 3), 3, &a, &used), OPES_OK);
    CHECK_EQ(a.cancel, 1);
    CHECK_EQ(a.reply_code, 501);
    CHECK_EQ(used, 3);
    /* other base64 shapes */
    static const struct {
        const char *s;
        int ok;
    } b64[] = {
        {"\r\n", 1},         {"QQ==\r\n", 1},    {"QUI=\r\n", 1},     {"QUJD\r\n", 1},
        {"QUJDRA==\r\n", 1}, {"Q\r\n", 0},       {"QQ\r\n", 0},       {"QQ=\r\n", 0},
        {"Q===\r\n", 0},     {"====\r\n", 0},    {"QQ==QQ==\r\n", 0}, {"QU J\r\n", 0},
        {"QUJD \r\n", 0},    {"QUJ-\r\n", 0},    {"QUJ_\r\n", 0},     {"**\r\n", 0},
        {"=\r\n", 0},        {"QUJ\x80\r\n", 0}, {"Q\0==\r\n", 0},
    };
    for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        size_t n = strlen(b64[i].s);
        if (i == sizeof b64 / sizeof b64[0] - 1)
            n = 6; /* embedded NUL */
        opes_status st = opes_auth_line_parse(cfg, keep(b64[i].s, n), n, &a, &used);
        CHECK_ST(st, b64[i].ok ? OPES_OK : OPES_EBAD_BASE64);
        CHECK_EQ(used, n);
    }
    /* mechanism syntax: 1-20 of A-Z 0-9 - _ (RFC 4422 3.1) */
    CHECK_LINE(cfg, "AUTH SCRAM-SHA-256-PLUS\r\n", OPES_OK, OPES_VERB_AUTH, 0, NULL);
    CHECK_LINE(cfg, "AUTH X_OAUTH2\r\n", OPES_OK, OPES_VERB_AUTH, 0, NULL);
    CHECK_LINE(cfg, "AUTH ABCDEFGHIJKLMNOPQRST\r\n", OPES_OK, OPES_VERB_AUTH, 0, NULL);
    CHECK_LINE(cfg, "AUTH ABCDEFGHIJKLMNOPQRSTU\r\n", OPES_ESYNTAX, OPES_VERB_AUTH, 501, "5.5.2");
    CHECK_LINE(cfg, "AUTH PL.AIN\r\n", OPES_ESYNTAX, OPES_VERB_AUTH, 501, "5.5.2");
    CHECK_LINE(cfg, "AUTH\r\n", OPES_EMISSING_ARG, OPES_VERB_AUTH, 501, "5.5.4");
    CHECK_LINE(cfg, "AUTH  PLAIN\r\n", OPES_ESYNTAX, OPES_VERB_AUTH, 501, "5.5.2");
    CHECK_LINE(cfg, "AUTH PLAIN  dGVzdA==\r\n", OPES_EBAD_BASE64, OPES_VERB_AUTH, 501, "5.5.2");
    CHECK_LINE(cfg, "AUTH PLAIN dGVzdA== x\r\n", OPES_EBAD_BASE64, OPES_VERB_AUTH, 501, "5.5.2");
    /* "Implementations MUST accept these strings in a case-insensitive
     * fashion" (RFC 4954 8) */
    CHECK_ST(parse(cfg, "auth plain dGVzdAB0ZXN0ADEyMzQ=\r\n", &c, &used), OPES_OK);
    CHECK_STR(c.mechanism, "plain");
    CHECK(c.notes & OPES_NOTE_CASE);
    /* the AUTH parameter of MAIL FROM, RFC 4954 5.1 examples */
    CHECK_ST(parse(cfg, "MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com\r\n", &c, &used),
             OPES_OK);
    CHECK_STR(c.path.local_part, "e=mc2");
    CHECK_STR(c.params.item[0].value, "e+3Dmc2@example.com");
    CHECK_ST(parse(cfg, "MAIL FROM:<john+@example.org> AUTH=<>\r\n", &c, &used), OPES_OK);
    CHECK_STR(c.params.item[0].value, "<>");
    opes_smtp_config_free(cfg);

    /* AUTH and STARTTLS not offered (or a NULL config): 502 */
    cfg = mkcfg(0, "SIZE");
    CHECK_LINE(cfg, "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n", OPES_ENOT_OFFERED, OPES_VERB_AUTH, 502,
               "5.5.1");
    CHECK_LINE(cfg, "STARTTLS\r\n", OPES_ENOT_OFFERED, OPES_VERB_STARTTLS, 502, "5.5.1");
    CHECK_LINE(NULL, "AUTH PLAIN\r\n", OPES_ENOT_OFFERED, OPES_VERB_AUTH, 502, "5.5.1");
    CHECK_LINE(NULL, "STARTTLS\r\n", OPES_ENOT_OFFERED, OPES_VERB_STARTTLS, 502, "5.5.1");
    opes_smtp_config_free(cfg);
}

/* AUTH line lengths: the command and the exchange lines may reach
 * OPES_LIMIT_AUTH_LINE, 12288 by default (RFC 4954 4). */
static void test_auth_limits(void)
{
    opes_smtp_config *cfg = mkcfg(0, "AUTH");
    opes_command c;
    opes_auth_line a;
    size_t used, n;
    char *line = malloc(13000);
    /* an AUTH command line of exactly 12288 octets: "AUTH XYZW " (10),
     * 3069 base64 groups (12276), CRLF */
    memcpy(line, "AUTH XYZW ", 10);
    n = 10;
    for (int i = 0; i < 3069; i++, n += 4)
        memcpy(line + n, "QUJD", 4);
    memcpy(line + n, "\r\n", 2);
    n += 2;
    CHECK_EQ(n, 12288);
    CHECK_ST(parse_n(cfg, line, n, &c, &used), OPES_OK);
    CHECK_EQ(used, n);
    CHECK_EQ(c.initial_response.len, 12276);
    /* one base64 group more: over 12288 */
    memcpy(line + n - 2, "QUJD\r\n", 6);
    n += 4;
    CHECK_ST(parse_n(cfg, line, n, &c, &used), OPES_ELINE_TOO_LONG);
    CHECK_EQ(c.reply_code, 500);
    CHECK(strcmp(c.enhanced, "5.5.6") == 0);
    CHECK_EQ(used, n);
    CHECK_EQ(c.verb, OPES_VERB_AUTH);

    /* exchange line: 12288 incl. CRLF is fine, 12289 is not */
    memset(line, 'A', 12286);
    memcpy(line + 12286, "\r\n", 2);
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 12288), 12288, &a, &used), OPES_EBAD_BASE64);
    CHECK_EQ(used, 12288);    /* 12286 is not a multiple of 4: bad base64, not too long */
    memset(line, 'A', 12282); /* the longest base64 that fits: 12284 */
    memcpy(line + 12282, "==\r\n", 4);
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 12286), 12286, &a, &used), OPES_OK);
    CHECK_EQ(a.response.len, 12284);
    memset(line, 'A', 12288);
    memcpy(line + 12288, "\r\n", 2);
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 12290), 12290, &a, &used),
             OPES_EAUTH_LINE_TOO_LONG);
    CHECK_EQ(a.reply_code, 500);
    CHECK(strcmp(a.enhanced, "5.5.6") == 0);
    CHECK_EQ(used, 12290);
    CHECK_EQ(a.line_len, 12290);
    /* the end not there yet: drop all but a trailing CR, then skip */
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 12288), 12288, &a, &used),
             OPES_EAUTH_LINE_TOO_LONG);
    CHECK_EQ(used, 12288);
    CHECK_EQ(a.line_len, 0);
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 12289), 12289, &a, &used),
             OPES_EAUTH_LINE_TOO_LONG);
    CHECK_EQ(used, 12288); /* the CR stays */
    CHECK_EQ(a.line_len, 0);
    CHECK_ST(opes_line_skip(cfg, keep("AA\r\n*\r\n", 7), 7, &used), OPES_OK);
    CHECK_EQ(used, 4);
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 12287), 12287, &a, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);
    line[12287] = '\r';
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 12288), 12288, &a, &used),
             OPES_EAUTH_LINE_TOO_LONG);
    CHECK_EQ(used, 12287); /* the CR is kept: it may start the CRLF */
    /* bare CR and LF inside an exchange line */
    CHECK_ST(opes_auth_line_parse(cfg, keep("QU\rJD\r\n", 7), 7, &a, &used), OPES_EBARE_CR);
    CHECK_EQ(a.error_offset, 2);
    CHECK_EQ(used, 7);
    CHECK_ST(opes_auth_line_parse(cfg, keep("QU\nJD\r\n", 7), 7, &a, &used), OPES_EBARE_LF);
    CHECK_EQ(used, 7);
    CHECK_ST(opes_auth_line_parse(cfg, keep("QUJD\r", 5), 5, &a, &used), OPES_INCOMPLETE);
    CHECK_ST(opes_auth_line_parse(cfg, keep("QUJD\n", 5), 5, &a, &used), OPES_INCOMPLETE);
    CHECK_ST(opes_auth_line_parse(NULL, NULL, 0, &a, &used), OPES_INCOMPLETE);
    CHECK_ST(opes_auth_line_parse(NULL, NULL, 1, &a, &used), OPES_EINVAL);
    CHECK_ST(opes_auth_line_parse(NULL, "x", 1, NULL, &used), OPES_EINVAL);
    CHECK_ST(opes_auth_line_parse(NULL, "x", 1, &a, NULL), OPES_EINVAL);
    opes_smtp_config_free(cfg);

    /* lenient: a bare LF ends the exchange line, noted */
    cfg = mkcfg(OPES_LENIENT_BARE_LF, "AUTH");
    CHECK_ST(opes_auth_line_parse(cfg, keep("QUJD\n*\r\n", 8), 8, &a, &used), OPES_OK);
    CHECK_EQ(used, 5);
    CHECK_STR(a.response, "QUJD");
    CHECK(a.notes & OPES_NOTE_BARE_LF);
    opes_smtp_config_free(cfg);

    /* a lower limit is honoured */
    cfg = mkcfg(0, "AUTH");
    opes_smtp_config_set_limit(cfg, OPES_LIMIT_AUTH_LINE, 1000);
    memset(line, 'A', 1000);
    memcpy(line + 1000, "\r\n", 2);
    CHECK_ST(opes_auth_line_parse(cfg, keep(line, 1002), 1002, &a, &used),
             OPES_EAUTH_LINE_TOO_LONG);
    /* but an AUTH command line is never held to less than the command limit */
    opes_smtp_config_set_limit(cfg, OPES_LIMIT_AUTH_LINE, 100);
    memcpy(line, "AUTH PLAIN ", 11);
    memset(line + 11, 'A', 400);
    memcpy(line + 411, "\r\n", 2);
    CHECK_ST(parse_n(cfg, line, 413, &c, &used), OPES_OK);
    opes_smtp_config_free(cfg);

    /* AUTH not offered: a plain command, the 512 limit, 5.5.2 */
    cfg = mkcfg(0, "");
    memcpy(line, "AUTH PLAIN ", 11);
    memset(line + 11, 'A', 600);
    memcpy(line + 611, "\r\n", 2);
    CHECK_ST(parse_n(cfg, line, 613, &c, &used), OPES_ELINE_TOO_LONG);
    CHECK(strcmp(c.enhanced, "5.5.2") == 0);
    CHECK_ST(parse_n(cfg, line, 412, &c, &used), OPES_INCOMPLETE);
    opes_smtp_config_free(cfg);
    free(line);
}

/* ---- smtp-proto's measured flaws (anchors.md 1.5) ---------------------------- */

static void test_smtp_proto_flaws(void)
{
    opes_smtp_config *cfg = mkcfg(0, "SIZE 8BITMIME DSN");
    opes_smtp_config *len = mkcfg(OPES_LENIENT_ALL, "SIZE 8BITMIME DSN");
    opes_command c;
    size_t used;

    /* "DA\rTA\r\n" parses as Data in smtp-proto: here a bare CR, 500 */
    CHECK_ST(parse(cfg, "DA\rTA\r\n", &c, &used), OPES_EBARE_CR);
    CHECK(c.verb != OPES_VERB_DATA);
    CHECK_EQ(c.error_offset, 2);
    CHECK_EQ(used, 7);
    CHECK_EQ(c.reply_code, 500);
    CHECK_ST(parse(len, "DA\rTA\r\n", &c, &used), OPES_EBARE_CR);
    CHECK(c.verb != OPES_VERB_DATA);
    CHECK_ST(parse(cfg, "DATA\r\r\n", &c, &used), OPES_EBARE_CR);
    CHECK_EQ(c.error_offset, 4);
    /* a word longer than the verb is another word */
    CHECK_ST(parse(cfg, "DATAX\r\n", &c, &used), OPES_EUNKNOWN_COMMAND);
    CHECK_STR(c.verb_text, "DATAX");
    CHECK_EQ(c.reply_code, 500);
    CHECK(strcmp(c.enhanced, "5.5.1") == 0);
    CHECK_ST(parse(cfg, "STARTTLSX\r\n", &c, &used), OPES_EUNKNOWN_COMMAND);
    CHECK_ST(parse(cfg, "DAT\r\n", &c, &used), OPES_EUNKNOWN_COMMAND);
    CHECK_ST(parse(cfg, "D-ATA\r\n", &c, &used), OPES_EUNKNOWN_COMMAND);
    CHECK_ST(parse(cfg, "DA TA\r\n", &c, &used), OPES_EUNKNOWN_COMMAND);
    CHECK_STR(c.verb_text, "DA");

    /* repeated parameters: 501 (RFC 1870 6, RFC 3461 5.1), not "last wins" */
    CHECK_LINE(cfg, "MAIL FROM:<a@b.example> SIZE=100 SIZE=200\r\n", OPES_EPARAM_DUPLICATE,
               OPES_VERB_MAIL, 501, "5.5.4");
    CHECK_LINE(cfg, "MAIL FROM:<a@b.example> BODY=8BITMIME BODY=7BIT\r\n", OPES_EPARAM_DUPLICATE,
               OPES_VERB_MAIL, 501, "5.5.4");
    CHECK_LINE(cfg, "MAIL FROM:<a@b.example> size=1 SIZE=1\r\n", OPES_EPARAM_DUPLICATE,
               OPES_VERB_MAIL, 501, "5.5.4");
    /* NOTIFY=NEVER,SUCCESS: "NEVER" stands alone (RFC 3461 4.1) */
    CHECK_LINE(cfg, "RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS\r\n", OPES_EPARAM_VALUE,
               OPES_VERB_RCPT, 501, "5.5.4");

    /* a space after the colon: strict 501, lenient accepted and noted */
    CHECK_LINE(cfg, "MAIL FROM: <a@b.example>\r\n", OPES_ESYNTAX, OPES_VERB_MAIL, 501, "5.5.2");
    CHECK_LINE(cfg, "RCPT TO: <a@b.example>\r\n", OPES_ESYNTAX, OPES_VERB_RCPT, 501, "5.5.2");
    CHECK_ST(parse(len, "MAIL FROM: <a@b.example>\r\n", &c, &used), OPES_OK);
    CHECK(c.notes & OPES_NOTE_SPACE_AFTER_COLON);
    CHECK_STR(c.path.mailbox, "a@b.example");
    CHECK_ST(parse(len, "RCPT TO:   <a@b.example>\r\n", &c, &used), OPES_OK);
    CHECK(c.notes & OPES_NOTE_SPACE_AFTER_COLON);
    /* a path without brackets: strict 501, lenient accepted and noted */
    CHECK_LINE(cfg, "MAIL FROM:a@b.example SIZE=1\r\n", OPES_EBAD_PATH, OPES_VERB_MAIL, 501,
               "5.1.7");
    CHECK_ST(parse(len, "MAIL FROM:a@b.example SIZE=1\r\n", &c, &used), OPES_OK);
    CHECK(c.notes & OPES_NOTE_NO_BRACKETS);
    CHECK_STR(c.path.mailbox, "a@b.example");
    CHECK_EQ(c.params.count, 1);
    /* but never before the colon */
    CHECK_LINE(len, "MAIL FROM :<a@b.example>\r\n", OPES_ESYNTAX, OPES_VERB_MAIL, 501, "5.5.2");

    /* bare LF: strict, not a line end at all (RFC 5321 2.3.8): the LF is a
     * bad character inside the line that runs to the CRLF */
    {
        static const char s[] = "NOOP\nQUIT\r\n";
        CHECK_ST(parse(cfg, s, &c, &used), OPES_EBARE_LF);
        CHECK_EQ(used, sizeof s - 1);
        CHECK_EQ(c.error_offset, 4);
        CHECK_EQ(c.reply_code, 500);
        CHECK_ST(parse(cfg, "NOOP\n", &c, &used), OPES_INCOMPLETE);
        CHECK_ST(parse(len, s, &c, &used), OPES_OK);
        CHECK_EQ(c.verb, OPES_VERB_NOOP);
        CHECK_EQ(used, 5);
        CHECK(c.notes & OPES_NOTE_BARE_LF);
        static const struct ev want_strict[] = {{OPES_EBARE_LF, OPES_VERB_UNKNOWN, 11}};
        static const struct ev want_len[] = {{OPES_OK, OPES_VERB_NOOP, 5},
                                             {OPES_OK, OPES_VERB_QUIT, 6}};
        check_all_splits(len, s, sizeof s - 1, want_len, 2);
        /* strict: the word is "NOOP\nQUIT": not a verb */
        check_all_splits(cfg, s, sizeof s - 1, want_strict, 1);
    }

    /* <Postmaster> is not <> */
    CHECK_ST(parse(cfg, "RCPT TO:<Postmaster>\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.path.kind, OPES_PATH_POSTMASTER);
    CHECK(c.notes & OPES_NOTE_POSTMASTER);
    CHECK_STR(c.path.mailbox, "Postmaster");
    CHECK_ST(parse(cfg, "RCPT TO:<postMASTER>\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.path.kind, OPES_PATH_POSTMASTER);
    CHECK_ST(parse(cfg, "MAIL FROM:<>\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.path.kind, OPES_PATH_NULL);
    CHECK_EQ(c.notes & OPES_NOTE_POSTMASTER, 0);
    CHECK_LINE(cfg, "RCPT TO:<>\r\n", OPES_EBAD_PATH, OPES_VERB_RCPT, 501, "5.1.3");
    CHECK_LINE(cfg, "MAIL FROM:<Postmaster>\r\n", OPES_EBAD_PATH, OPES_VERB_MAIL, 501, "5.1.7");

    /* garbage after the path (smtp-proto #12) */
    CHECK_ST(parse(cfg, "MAIL FROM:<a@b.example>garbage\r\n", &c, &used), OPES_ESYNTAX);
    CHECK_EQ(c.error_offset, 23);
    CHECK_EQ(c.reply_code, 501);
    CHECK_LINE(cfg, "RCPT TO:<a@b.example> \x01\r\n", OPES_EBAD_CHAR, OPES_VERB_RCPT, 500, "5.5.2");

    /* unknown parameters: kept, in order, with their case, once registered
     * and offered (an OPES bypass extension here); else 555 */
    {
        opes_smtp_config *x = mkcfg(0, "SIZE");
        CHECK_LINE(x, "MAIL FROM:<a@b.example> X-OPES-BYPASS=all\r\n", OPES_EPARAM_UNKNOWN,
                   OPES_VERB_MAIL, 555, "5.5.4");
        CHECK_ST(opes_smtp_config_add_extension(x, "X-OPES", 0, 0), OPES_OK);
        CHECK_ST(opes_smtp_config_add_param(x, "X-OPES", "X-OPES-BYPASS", OPES_PARAM_MAIL,
                                            OPES_VALUE_OPTIONAL),
                 OPES_OK);
        CHECK_ST(opes_smtp_config_offer(x, "X-OPES", 1, NULL), OPES_OK);
        CHECK_ST(parse(x, "MAIL FROM:<a@b.example> SIZE=10 X-Opes-Bypass=all\r\n", &c, &used),
                 OPES_OK);
        CHECK_EQ(c.params.count, 2);
        CHECK_STR(c.params.item[1].keyword, "X-Opes-Bypass");
        CHECK_STR(c.params.item[1].value, "all");
        CHECK(opes_params_find(&c.params, "X-OPES-BYPASS") == &c.params.item[1]);
        opes_smtp_config_free(x);
    }
    opes_smtp_config_free(cfg);
    opes_smtp_config_free(len);
}

/* ---- line limits ------------------------------------------------------------------ */

static char *noop_line(size_t total, const char *end)
{
    /* "NOOP " + x... + end, total octets */
    char *s = malloc(total + 1);
    size_t el = strlen(end);
    memcpy(s, "NOOP ", 5);
    memset(s + 5, 'x', total - 5 - el);
    memcpy(s + total - el, end, el);
    s[total] = '\0';
    return s;
}

static void test_line_limits(void)
{
    opes_smtp_config *cfg = mkcfg(0, "");
    opes_smtp_config *dsn = mkcfg(0, "DSN");
    opes_command c;
    size_t used;
    char *s;

    /* "The maximum total length of a command line including the command
     * word and the <CRLF> is 512 octets" (RFC 5321 4.5.3.1.4) */
    s = noop_line(512, "\r\n");
    CHECK_ST(parse(cfg, s, &c, &used), OPES_OK);
    CHECK_EQ(used, 512);
    CHECK_EQ(c.string.len, 512 - 7);
    free(s);
    s = noop_line(513, "\r\n");
    CHECK_ST(parse(cfg, s, &c, &used), OPES_ELINE_TOO_LONG);
    CHECK_EQ(used, 513);
    CHECK_EQ(c.line_len, 513);
    CHECK_EQ(c.reply_code, 500); /* "500 Line too long." (4.5.3.1.9) */
    CHECK(strcmp(c.enhanced, "5.5.2") == 0);
    CHECK_EQ(c.verb, OPES_VERB_NOOP);
    CHECK_EQ(c.error_offset, 512);
    CHECK_ST(parse(NULL, s, &c, &used), OPES_ELINE_TOO_LONG);
    free(s);
    /* a shorter line is never too long, whatever the config offers */
    for (size_t n = 7; n <= 512; n++) {
        s = noop_line(n, "\r\n");
        opes_status a = parse(cfg, s, &c, &used);
        opes_status b = parse(dsn, s, &c, &used);
        opes_status d = parse(NULL, s, &c, &used);
        if (a != OPES_OK || b != OPES_OK || d != OPES_OK) {
            CHECK(0);
            fprintf(stderr, "    length %zu\n", n);
            free(s);
            break;
        }
        free(s);
    }
    /* trailing white space counts in the length but is tolerated */
    s = noop_line(512, " \t \r\n");
    CHECK_ST(parse(cfg, s, &c, &used), OPES_OK);
    CHECK(c.notes & OPES_NOTE_TRAILING_SPACE);
    free(s);

    /* DSN: "a DSN-aware SMTP server MUST accept RCPT command lines of at
     * least 1036 octets" (RFC 3461 5.4, rfc-notes 5.1). ORCPT is held to
     * 500 characters (RFC 3461 4.2), so a long local-part in lenient mode
     * fills the line. */
    {
        opes_smtp_config *lenl = mkcfg(OPES_LENIENT_LONG_ADDRESS, "DSN");
        char *r = malloc(1100);
        size_t n;
        CHECK_EQ(opes_smtp_config_line_limit(lenl, OPES_VERB_RCPT), 1036);
        memcpy(r, "RCPT TO:<", 9);
        /* "RCPT TO:<" aaa... "@b.example> NOTIFY=NEVER\r\n" */
        {
            static const char tail[] = "@b.example> NOTIFY=NEVER\r\n";
            size_t tl = sizeof tail - 1;
            memset(r + 9, 'a', 1036 - 9 - tl);
            memcpy(r + 1036 - tl, tail, tl);
            n = 1036;
        }
        CHECK_ST(parse_n(lenl, r, n, &c, &used), OPES_OK);
        CHECK_EQ(used, 1036);
        CHECK(c.notes & OPES_NOTE_LONG_ADDRESS);
        /* 1037: too long */
        {
            static const char tail[] = "@b.example> NOTIFY=NEVER\r\n";
            size_t tl = sizeof tail - 1;
            memset(r + 9, 'a', 1037 - 9 - tl);
            memcpy(r + 1037 - tl, tail, tl);
        }
        CHECK_ST(parse_n(lenl, r, 1037, &c, &used), OPES_ELINE_TOO_LONG);
        CHECK_EQ(used, 1037);
        CHECK_EQ(c.verb, OPES_VERB_RCPT);
        CHECK_EQ(c.error_offset, 1036);
        /* the 1036-octet line without DSN offered: over 512 */
        {
            opes_smtp_config *nodsn = mkcfg(OPES_LENIENT_LONG_ADDRESS, "SIZE");
            static const char tail[] = "@b.example> NOTIFY=NEVER\r\n";
            size_t tl = sizeof tail - 1;
            memset(r + 9, 'a', 1036 - 9 - tl);
            memcpy(r + 1036 - tl, tail, tl);
            CHECK_ST(parse_n(nodsn, r, 1036, &c, &used), OPES_ELINE_TOO_LONG);
            CHECK_EQ(c.error_offset, 512);
            opes_smtp_config_free(nodsn);
        }
        /* partial: 1035 octets of RCPT without the LF is still incomplete
         * with DSN, and too long at 1036 */
        CHECK_ST(parse_n(lenl, r, 1035, &c, &used), OPES_INCOMPLETE); /* ends in CR */
        CHECK_ST(parse_n(lenl, r, 1034, &c, &used), OPES_INCOMPLETE);
        CHECK_ST(parse_n(lenl, r, 1036, &c, &used), OPES_OK);
        memset(r + 1000, 'a', 40);
        CHECK_ST(parse_n(lenl, r, 1036, &c, &used), OPES_ELINE_TOO_LONG);
        CHECK_EQ(c.line_len, 0);
        CHECK_EQ(used, 1036);
        /* a NOOP line may not use the RCPT limit */
        memcpy(r, "NOOP ", 5);
        CHECK_ST(parse_n(lenl, r, 600, &c, &used), OPES_ELINE_TOO_LONG);
        CHECK_EQ(c.verb, OPES_VERB_NOOP);
        CHECK_EQ(c.line_len, 0);
        CHECK_EQ(used, 600);
        /* before the verb is known the largest limit applies: "RCPT" alone
         * is 4 octets of an undecided line */
        CHECK_ST(parse_n(lenl, "RCPT", 4, &c, &used), OPES_INCOMPLETE);
        opes_smtp_config_free(lenl);
        free(r);
    }

    /* the skip contract: a 600-octet line whose tail is "\r\nQUIT": split
     * at every position and fed byte by byte, the only commands seen are
     * the over-long line and QUIT */
    {
        char *t = noop_line(600, "QUIT\r\nQUIT\r\n");
        static const struct ev want[] = {{OPES_ELINE_TOO_LONG, OPES_VERB_NOOP, 0},
                                         {OPES_OK, OPES_VERB_QUIT, 6}};
        check_all_splits(cfg, t, 600, want, 2);
        check_all_splits(dsn, t, 600, want, 2);
        free(t);
        /* the limit is exceeded before the verb is known: the line start
         * is a long word */
        t = malloc(720);
        memset(t, 'Q', 690);
        memcpy(t + 690, "\r\nQUIT\r\n", 8);
        static const struct ev want2[] = {{OPES_ELINE_TOO_LONG, OPES_VERB_UNKNOWN, 0},
                                          {OPES_OK, OPES_VERB_QUIT, 6}};
        check_all_splits(cfg, t, 698, want2, 2);
        /* a bare LF in strict mode is no line end: "\nQUIT\r\n" is the tail
         * of the over-long line, never a command */
        t[690] = '\n';
        t[691] = 'Q';
        memcpy(t + 692, "UIT\r\nNOOP\r\n", 11);
        static const struct ev want3[] = {{OPES_ELINE_TOO_LONG, OPES_VERB_UNKNOWN, 0},
                                          {OPES_OK, OPES_VERB_NOOP, 6}};
        check_all_splits(cfg, t, 703, want3, 2);
        free(t);
    }
    /* a CR at the end of a partial over-long line is kept */
    s = noop_line(600, "\r");
    CHECK_ST(parse(cfg, s, &c, &used), OPES_ELINE_TOO_LONG);
    CHECK_EQ(used, 599);
    CHECK_EQ(c.line_len, 0);
    CHECK_ST(opes_line_skip(cfg, keep("\r\nQUIT\r\n", 8), 8, &used), OPES_OK);
    CHECK_EQ(used, 2);
    free(s);
    /* an incomplete line within the limit consumes nothing */
    s = noop_line(511, "");
    CHECK_ST(parse(cfg, s, &c, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);
    CHECK_EQ(c.reply_code, 0);
    free(s);
    s = noop_line(512, "");
    CHECK_ST(parse(cfg, s, &c, &used), OPES_ELINE_TOO_LONG);
    CHECK_EQ(used, 512);
    free(s);
    /* a tiny plain limit with DSN offered (RCPT 6 + 524 = 530): before
     * the verb word is complete the RCPT limit applies, after it the verb's */
    {
        opes_smtp_config *t = mkcfg(0, "DSN");
        opes_smtp_config_set_limit(t, OPES_LIMIT_COMMAND_LINE, 6);
        CHECK_EQ(opes_smtp_config_line_limit(t, OPES_VERB_RCPT), 530);
        CHECK_ST(parse(t, "RCPT", &c, &used), OPES_INCOMPLETE);
        /* six letters: undecided (a word of up to 8 letters may be a verb) */
        CHECK_ST(parse(t, "RCPTXY", &c, &used), OPES_INCOMPLETE);
        CHECK_ST(parse(t, "RCPT TO:<a@b.example>\r\n", &c, &used), OPES_OK);
        CHECK_ST(parse(t, "RCPT TO:<a@b.example>", &c, &used), OPES_INCOMPLETE);
        CHECK_ST(parse(t, "QUIT\r\n", &c, &used), OPES_OK);
        CHECK_ST(parse(t, "NOOP x", &c, &used), OPES_ELINE_TOO_LONG);
        CHECK_EQ(c.verb, OPES_VERB_NOOP);
        CHECK_EQ(used, 6);
        CHECK_ST(parse(t, "NOOP x\r\n", &c, &used), OPES_ELINE_TOO_LONG);
        CHECK_EQ(used, 8);
        CHECK_EQ(c.line_len, 8);
        CHECK_ST(parse(t, "QQQQQQQQQ", &c, &used), OPES_ELINE_TOO_LONG);
        CHECK_EQ(c.verb, OPES_VERB_UNKNOWN);
        CHECK_ST(parse(t, "QQQQQQQ\r", &c, &used), OPES_INCOMPLETE); /* the CR is not looked at */
        opes_smtp_config_free(t);
    }
    /* a configured lower limit */
    {
        opes_smtp_config *lo = mkcfg(0, "");
        opes_smtp_config_set_limit(lo, OPES_LIMIT_COMMAND_LINE, 20);
        CHECK_ST(parse(lo, "NOOP 12345678901234\r\n", &c, &used), OPES_ELINE_TOO_LONG);
        CHECK_ST(parse(lo, "NOOP 1234567890123\r\n", &c, &used), OPES_OK);
        opes_smtp_config_free(lo);
    }
    opes_smtp_config_free(cfg);
    opes_smtp_config_free(dsn);
}

static void test_line_skip(void)
{
    opes_smtp_config *len = mkcfg(OPES_LENIENT_BARE_LF, "");
    size_t used;
    CHECK_ST(opes_line_skip(NULL, keep("abc\r\ndef", 8), 8, &used), OPES_OK);
    CHECK_EQ(used, 5);
    CHECK_ST(opes_line_skip(NULL, keep("abc\ndef\r", 8), 8, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 7);
    CHECK_ST(opes_line_skip(len, keep("abc\ndef\r", 8), 8, &used), OPES_OK);
    CHECK_EQ(used, 4);
    CHECK_ST(opes_line_skip(NULL, keep("\n", 1), 1, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 1);
    CHECK_ST(opes_line_skip(NULL, keep("\r", 1), 1, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);
    CHECK_ST(opes_line_skip(NULL, NULL, 0, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);
    CHECK_ST(opes_line_skip(NULL, NULL, 3, &used), OPES_EINVAL);
    CHECK_ST(opes_line_skip(NULL, "x", 1, NULL), OPES_EINVAL);
    opes_smtp_config_free(len);
}

/* ---- every verb, with and without arguments --------------------------------------- */

static void test_verbs(void)
{
    opes_smtp_config *all =
        mkcfg(0, "SIZE 8BITMIME DSN PIPELINING CHUNKING STARTTLS AUTH SMTPUTF8");
    static const struct {
        const char *line;
        opes_status st;
        int verb, code;
        const char *enh;
    } t[] = {
        /* RFC 5321 4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) */
        {"EHLO mail.example.com\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL},
        {"EHLO [192.0.2.1]\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL},
        {"EHLO [IPv6:2001:db8::1]\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL},
        {"HELO [192.0.2.1]\r\n", OPES_OK, OPES_VERB_HELO, 0, NULL},
        {"EHLO 1.example\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL},
        {"EHLO localhost\r\n", OPES_OK, OPES_VERB_EHLO, 0, NULL},
        {"EHLO\r\n", OPES_EMISSING_ARG, OPES_VERB_EHLO, 501, "5.5.4"},
        {"HELO\r\n", OPES_EMISSING_ARG, OPES_VERB_HELO, 501, "5.5.4"},
        {"LHLO\r\n", OPES_EMISSING_ARG, OPES_VERB_LHLO, 501, "5.5.4"},
        {"EHLO -bad.example\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO bad-.example\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO a..example\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO example.com.\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO .example.com\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO my_host\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO foo bar\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO [1.2.3]\r\n", OPES_EBAD_ADDRESS_LITERAL, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO [300.1.1.1]\r\n", OPES_EBAD_ADDRESS_LITERAL, OPES_VERB_EHLO, 501, "5.5.2"},
        {"EHLO  example.com\r\n", OPES_EBAD_DOMAIN, OPES_VERB_EHLO, 501, "5.5.2"},
        /* RFC 2033 4.1: LHLO has the syntax of EHLO ("C: LHLO foo.edu") */
        {"LHLO foo.edu\r\n", OPES_OK, OPES_VERB_LHLO, 0, NULL},
        {"MAIL\r\n", OPES_EMISSING_ARG, OPES_VERB_MAIL, 501, "5.5.4"},
        {"MAIL FROM:\r\n", OPES_EBAD_PATH, OPES_VERB_MAIL, 501, "5.1.7"},
        {"MAIL TO:<a@b.example>\r\n", OPES_ESYNTAX, OPES_VERB_MAIL, 501, "5.5.2"},
        {"MAIL FROM<a@b.example>\r\n", OPES_ESYNTAX, OPES_VERB_MAIL, 501, "5.5.2"},
        {"MAIL FROM:a@b.example\r\n", OPES_EBAD_PATH, OPES_VERB_MAIL, 501, "5.1.7"},
        {"MAIL FROM:<a@b.example> \r\n", OPES_OK, OPES_VERB_MAIL, 0, NULL},
        {"MAIL FROM:<a@b.example>  SIZE=1\r\n", OPES_EBAD_PARAM, OPES_VERB_MAIL, 501, "5.5.2"},
        {"MAIL FROM:<a@b.example> SIZE=x\r\n", OPES_EPARAM_VALUE, OPES_VERB_MAIL, 501, "5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE\r\n", OPES_EPARAM_VALUE, OPES_VERB_MAIL, 501, "5.5.4"},
        /* RFC 1870 3: size-value ::= 1*20DIGIT; 20 nines exceed UINT64_MAX */
        {"MAIL FROM:<a@b.example> SIZE=99999999999999999999\r\n", OPES_EBAD_NUMBER,
         OPES_VERB_MAIL, 501, "5.5.4"},
        {"MAIL FROM:<a@b.example> SIZE=18446744073709551615\r\n", OPES_OK, OPES_VERB_MAIL, 0,
         NULL},
        {"MAIL FROM:<a@b.example> =1\r\n", OPES_EBAD_PARAM, OPES_VERB_MAIL, 501, "5.5.2"},
        {"MAIL FROM:<a b@c.example>\r\n", OPES_EBAD_CHAR, OPES_VERB_MAIL, 501, "5.1.7"},
        {"RCPT\r\n", OPES_EMISSING_ARG, OPES_VERB_RCPT, 501, "5.5.4"},
        {"RCPT TO:<@a.example,@b.example:c@d.example>\r\n", OPES_OK, OPES_VERB_RCPT, 0, NULL},
        {"RCPT TO:<a@[192.0.2.1]>\r\n", OPES_OK, OPES_VERB_RCPT, 0, NULL},
        {"RCPT TO:<\"a b\"@c.example>\r\n", OPES_OK, OPES_VERB_RCPT, 0, NULL},
        {"RCPT TO:<a@-c.example>\r\n", OPES_EBAD_DOMAIN, OPES_VERB_RCPT, 501, "5.1.3"},
        {"RCPT FROM:<a@b.example>\r\n", OPES_ESYNTAX, OPES_VERB_RCPT, 501, "5.5.2"},
        {"RCPT TO:<a@b.example> SIZE=1\r\n", OPES_EPARAM_UNKNOWN, OPES_VERB_RCPT, 555, "5.5.4"},
        {"DATA\r\n", OPES_OK, OPES_VERB_DATA, 0, NULL},
        {"DATA x\r\n", OPES_EUNEXPECTED_ARG, OPES_VERB_DATA, 501, "5.5.4"},
        {"RSET\r\n", OPES_OK, OPES_VERB_RSET, 0, NULL},
        {"RSET x\r\n", OPES_EUNEXPECTED_ARG, OPES_VERB_RSET, 501, "5.5.4"},
        {"QUIT\r\n", OPES_OK, OPES_VERB_QUIT, 0, NULL},
        {"QUIT now\r\n", OPES_EUNEXPECTED_ARG, OPES_VERB_QUIT, 501, "5.5.4"},
        {"STARTTLS\r\n", OPES_OK, OPES_VERB_STARTTLS, 0, NULL},
        /* RFC 3207 4: "501 Syntax error (no parameters allowed)" */
        {"STARTTLS x\r\n", OPES_EUNEXPECTED_ARG, OPES_VERB_STARTTLS, 501, "5.5.4"},
        {"BDAT 1\r\n", OPES_OK, OPES_VERB_BDAT, 0, NULL},
        {"BDAT\r\n", OPES_EMISSING_ARG, OPES_VERB_BDAT, 501, "5.5.4"},
        {"VRFY Crispin\r\n", OPES_OK, OPES_VERB_VRFY, 0, NULL},
        {"VRFY\r\n", OPES_EMISSING_ARG, OPES_VERB_VRFY, 501, "5.5.4"},
        /* RFC 821 3.3 example 4: "S: EXPN Example-People" */
        {"EXPN Example-People\r\n", OPES_OK, OPES_VERB_EXPN, 0, NULL},
        {"EXPN\r\n", OPES_EMISSING_ARG, OPES_VERB_EXPN, 501, "5.5.4"},
        {"EXPN a b\r\n", OPES_ESYNTAX, OPES_VERB_EXPN, 501, "5.5.2"},
        /* String = Atom / Quoted-string: "@" and "<" are not atext */
        {"VRFY <a@b.example>\r\n", OPES_ESYNTAX, OPES_VERB_VRFY, 501, "5.5.2"},
        /* RFC 5321 3.5.1: "a user name and domain" (the Mailbox form) */
        {"VRFY a@b.example\r\n", OPES_OK, OPES_VERB_VRFY, 0, NULL},
        {"VRFY a@b..example\r\n", OPES_ESYNTAX, OPES_VERB_VRFY, 501, "5.5.2"},
        {"VRFY a@\r\n", OPES_ESYNTAX, OPES_VERB_VRFY, 501, "5.5.2"},
        {"VRFY \"a@b.example\"\r\n", OPES_OK, OPES_VERB_VRFY, 0, NULL},
        {"VRFY \"Smith, \\\"J\\\"\"\r\n", OPES_OK, OPES_VERB_VRFY, 0, NULL},
        {"VRFY \"unterminated\r\n", OPES_ESYNTAX, OPES_VERB_VRFY, 501, "5.5.2"},
        {"HELP\r\n", OPES_OK, OPES_VERB_HELP, 0, NULL},
        {"HELP MAIL\r\n", OPES_OK, OPES_VERB_HELP, 0, NULL},
        {"HELP MAIL FROM\r\n", OPES_ESYNTAX, OPES_VERB_HELP, 501, "5.5.2"},
        {"NOOP\r\n", OPES_OK, OPES_VERB_NOOP, 0, NULL},
        {"NOOP anything <at> all, \"really\"\r\n", OPES_OK, OPES_VERB_NOOP, 0, NULL},
        {"AUTH PLAIN\r\n", OPES_OK, OPES_VERB_AUTH, 0, NULL},
        {"AUTH\r\n", OPES_EMISSING_ARG, OPES_VERB_AUTH, 501, "5.5.4"},
        /* unknown verbs: 500 5.5.1 (RFC 5321 4.2.4 "500 SHOULD be returned") */
        {"XYZZY\r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
        {"SEND FROM:<a@b.example>\r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
        {"TURN\r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
        {"\r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
        {"   \r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
        {" NOOP\r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
        {"NOOP\tx\r\n", OPES_EBAD_CHAR, OPES_VERB_NOOP, 501, "5.5.2"},
        {"MAIL:FROM:<>\r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
        {"M\xc3\xa4IL FROM:<>\r\n", OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_LINE(all, t[i].line, t[i].st, t[i].verb, t[i].code, t[i].enh);

    /* fields of the argument-less forms are empty */
    {
        opes_command c;
        size_t used;
        CHECK_ST(parse(all, "NOOP\r\n", &c, &used), OPES_OK);
        CHECK_EQ(c.string.len, 0);
        CHECK_EQ(c.argument.len, 0);
        CHECK_ST(parse(all, "NOOP hello there\r\n", &c, &used), OPES_OK);
        CHECK_STR(c.string, "hello there");
        CHECK_ST(parse(all, "HELP MAIL\r\n", &c, &used), OPES_OK);
        CHECK_STR(c.string, "MAIL");
        CHECK_ST(parse(all, "VRFY \"a@b.example\"\r\n", &c, &used), OPES_OK);
        CHECK_STR(c.string, "\"a@b.example\"");
        CHECK_ST(parse(all, "EHLO [IPv6:2001:db8::1]\r\n", &c, &used), OPES_OK);
        CHECK_STR(c.domain, "[IPv6:2001:db8::1]");
        CHECK_ST(parse(all, "RCPT TO:<@a.example,@b.example:c@d.example>\r\n", &c, &used), OPES_OK);
        CHECK_STR(c.path.mailbox, "c@d.example");
        CHECK(c.notes & OPES_NOTE_SOURCE_ROUTE);
    }

    /* the names */
    static const char *const names[] = {"HELO", "EHLO", "LHLO", "MAIL",     "RCPT",
                                        "DATA", "BDAT", "RSET", "VRFY",     "EXPN",
                                        "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH"};
    for (int v = 1; v < OPES_VERB__COUNT; v++) {
        const char *n = opes_verb_name(v);
        CHECK(n && strcmp(n, names[v - 1]) == 0);
        /* and each name parses back to its verb (an argument where needed) */
        char line[64];
        opes_command c;
        size_t used;
        snprintf(line, sizeof line, "%s\r\n", names[v - 1]);
        parse(all, line, &c, &used);
        CHECK_EQ(c.verb, v);
    }
    CHECK(opes_verb_name(0) == NULL);
    CHECK(opes_verb_name(OPES_VERB__COUNT) == NULL);
    CHECK(opes_verb_name(-1) == NULL);
    opes_smtp_config_free(all);
}

/* ---- case, white space, characters ------------------------------------------------- */

static void test_case_space_chars(void)
{
    opes_smtp_config *cfg = mkcfg(0, "SIZE");
    opes_smtp_config *len = mkcfg(OPES_LENIENT_ALL, "SIZE");
    opes_command c;
    size_t used;

    /* "Verbs and argument values (e.g., "TO:" or "to:" ...) are not case
     * sensitive" (RFC 5321 2.4) */
    CHECK_ST(parse(cfg, "mail from:<a@b.example> size=10\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_MAIL);
    CHECK(c.notes & OPES_NOTE_CASE);
    CHECK_STR(c.verb_text, "mail");
    CHECK_ST(parse(cfg, "rCpT To:<a@b.example>\r\n", &c, &used), OPES_OK);
    CHECK(c.notes & OPES_NOTE_CASE);
    CHECK_ST(parse(cfg, "Data\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.verb, OPES_VERB_DATA);
    CHECK(c.notes & OPES_NOTE_CASE);
    CHECK_ST(parse(cfg, "starttls\r\n", &c, &used), OPES_ENOT_OFFERED);
    CHECK_EQ(c.verb, OPES_VERB_STARTTLS);
    CHECK_ST(parse(cfg, "DATA\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.notes, 0);

    /* "SMTP receivers SHOULD tolerate trailing white space before the
     * terminating <CRLF>" (RFC 5321 4.1.1), in every mode */
    static const char *const tw[] = {"DATA \r\n",           "DATA\t\r\n",
                                     "QUIT  \t \r\n",       "MAIL FROM:<a@b.example> \r\n",
                                     "EHLO a.example \r\n", "RCPT TO:<a@b.example> \t\r\n"};
    for (size_t i = 0; i < sizeof tw / sizeof tw[0]; i++) {
        CHECK_ST(parse(cfg, tw[i], &c, &used), OPES_OK);
        CHECK(c.notes & OPES_NOTE_TRAILING_SPACE);
        CHECK_EQ(used, strlen(tw[i]));
        CHECK_ST(parse(len, tw[i], &c, &used), OPES_OK);
        CHECK(c.notes & OPES_NOTE_TRAILING_SPACE);
    }
    CHECK_ST(parse(cfg, "EHLO a.example \r\n", &c, &used), OPES_OK);
    CHECK_STR(c.domain, "a.example");
    CHECK_STR(c.argument, "a.example");

    /* NUL and other controls: never terminators, always 500 */
    CHECK_ST(parse_n(cfg, "NOOP a\0b\r\n", 10, &c, &used), OPES_EBAD_CHAR);
    CHECK_EQ(c.error_offset, 6);
    CHECK_EQ(used, 10);
    CHECK_EQ(c.reply_code, 500);
    CHECK_ST(parse_n(cfg, "\0\r\n", 3, &c, &used), OPES_EBAD_CHAR);
    CHECK_ST(parse_n(len, "QUIT\0\r\n", 7, &c, &used), OPES_EBAD_CHAR);
    CHECK_LINE(cfg, "NOOP \x7f\r\n", OPES_EBAD_CHAR, OPES_VERB_NOOP, 500, "5.5.2");
    CHECK_LINE(cfg, "NOOP \x1b[0m\r\n", OPES_EBAD_CHAR, OPES_VERB_NOOP, 500, "5.5.2");
    CHECK_LINE(len, "NOOP a\rb\r\n", OPES_EBARE_CR, OPES_VERB_NOOP, 500, "5.5.2");

    /* every control (HT aside) and DEL, at every offset of a NOOP line:
     * found, at its offset, with the status of its kind */
    {
        char line[40];
        int bad = 0;
        for (int ch = 0; ch < 256; ch++) {
            for (size_t pos = 5; pos < 35; pos++) {
                opes_status want = OPES_OK;
                memcpy(line, "NOOP ", 5);
                memset(line + 5, 'x', 30);
                memcpy(line + 35, "\r\n", 2);
                line[pos] = (char)ch;
                if (ch == '\r')
                    want = OPES_EBARE_CR;
                else if (ch == '\n')
                    want = OPES_EBARE_LF;
                else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                    want = OPES_EBAD_CHAR;
                else if (ch >= 0x80)
                    want = OPES_EBAD_CHAR; /* non-ASCII in NOOP, strict */
                else if (ch == '\t' && pos == 5)
                    want = OPES_OK; /* "NOOP \txxx": text starting with HT */
                opes_status st = parse_n(cfg, line, 37, &c, &used);
                if (st != want || (want != OPES_OK && c.error_offset != pos) || used != 37) {
                    if (!bad)
                        fprintf(stderr, "    byte %02x at %zu: %s, offset %zu\n", ch, pos,
                                opes_status_name(st), c.error_offset);
                    bad = 1;
                }
            }
        }
        CHECK(!bad);
    }

    /* non-ASCII outside SMTPUTF8: "500 syntax error - invalid character"
     * (RFC 5321 2.4); lenient 8-bit: accepted if UTF-8, noted */
    CHECK_LINE(cfg, "NOOP gr\xc3\xbc\xc3\x9f\r\n", OPES_EBAD_CHAR, OPES_VERB_NOOP, 500, "5.5.2");
    CHECK_ST(parse(len, "NOOP gr\xc3\xbc\xc3\x9f\r\n", &c, &used), OPES_OK);
    CHECK(c.notes & OPES_NOTE_8BIT);
    /* ill-formed UTF-8 is an invalid character whatever the mode */
    CHECK_LINE(len, "NOOP gr\xfc\r\n", OPES_EBAD_UTF8, OPES_VERB_NOOP, 500, "5.5.2");
    CHECK_LINE(cfg, "HELP gr\xc3\xbc\r\n", OPES_EBAD_CHAR, OPES_VERB_HELP, 500, "5.5.2");
    CHECK_ST(parse(len, "HELP gr\xc3\xbc\r\n", &c, &used), OPES_OK);
    /* EHLO is ASCII even with SMTPUTF8 (RFC 6531 3.7.1) */
    CHECK_LINE(cfg, "EHLO b\xc3\xbc.example\r\n", OPES_EBAD_CHAR, OPES_VERB_EHLO, 500, "5.5.2");
    CHECK_ST(parse(len, "EHLO b\xc3\xbc.example\r\n", &c, &used), OPES_OK);
    CHECK(c.notes & OPES_NOTE_8BIT);
    CHECK_LINE(cfg, "AUTH PL\xc3\xbc\r\n", OPES_ENOT_OFFERED, OPES_VERB_AUTH, 502, "5.5.1");
    opes_smtp_config_free(cfg);
    opes_smtp_config_free(len);

    /* domain length (RFC 5321 4.5.3.1.2: 255) */
    {
        opes_smtp_config *s = mkcfg(0, "");
        opes_smtp_config *l = mkcfg(OPES_LENIENT_LONG_ADDRESS, "");
        char line[400];
        size_t n = 0;
        memcpy(line, "EHLO ", 5);
        n = 5;
        for (int i = 0; i < 4; i++) {
            memset(line + n, 'a', 63);
            n += 63;
            line[n++] = '.';
        }
        memcpy(line + n, "abc\r\n", 6); /* 4*64 + 3 = 259 octets */
        CHECK_ST(parse(s, line, &c, &used), OPES_EDOMAIN_TOO_LONG);
        CHECK_EQ(c.reply_code, 501);
        CHECK_EQ(c.error_offset, 5 + 255);
        CHECK_ST(parse(l, line, &c, &used), OPES_OK);
        CHECK(c.notes & OPES_NOTE_LONG_ADDRESS);
        opes_smtp_config_free(s);
        opes_smtp_config_free(l);
    }
}

/* ---- SMTPUTF8 ------------------------------------------------------------------------ */

static void test_smtputf8(void)
{
    opes_smtp_config *u = mkcfg(0, "8BITMIME SMTPUTF8");
    opes_smtp_config *no = mkcfg(0, "8BITMIME");
    opes_command c;
    size_t used;
    /* RFC 6531 3.4: the SMTPUTF8 parameter makes the reverse-path UTF-8 */
    CHECK_ST(parse(u, "MAIL FROM:<j\xc3\xb6ran@example.com> SMTPUTF8\r\n", &c, &used), OPES_OK);
    CHECK(c.path.flags & OPES_PATH_F_UTF8);
    CHECK_EQ(opes_params_smtputf8(&c.params), OPES_OK);
    /* without it: 550 with X.6.7 (RFC 6531 3.5: MAIL 550, RCPT 553) */
    CHECK_ST(parse(u, "MAIL FROM:<j\xc3\xb6ran@example.com>\r\n", &c, &used), OPES_EBAD_UTF8);
    CHECK_EQ(c.reply_code, 550);
    CHECK(strcmp(c.enhanced, "5.6.7") == 0);
    CHECK_EQ(c.error_offset, 12);
    /* not offered at all */
    CHECK_ST(parse(no, "MAIL FROM:<j\xc3\xb6ran@example.com>\r\n", &c, &used), OPES_EBAD_UTF8);
    CHECK_EQ(c.reply_code, 550);
    CHECK(strcmp(c.enhanced, "5.6.7") == 0);
    CHECK_EQ(c.error_offset, 12);
    CHECK_LINE(no, "MAIL FROM:<j\xc3\xb6ran@example.com> SMTPUTF8\r\n", OPES_EBAD_UTF8,
               OPES_VERB_MAIL, 550, "5.6.7");
    CHECK_LINE(no, "MAIL FROM:<joran@example.com> SMTPUTF8\r\n", OPES_EPARAM_UNKNOWN,
               OPES_VERB_MAIL, 555, "5.5.4");
    /* malformed UTF-8, with SMTPUTF8 or without: an invalid character, 500
     * (RFC 5321 2.4), as in every command */
    CHECK_LINE(u, "MAIL FROM:<j\xf6ran@example.com> SMTPUTF8\r\n", OPES_EBAD_UTF8, OPES_VERB_MAIL,
               500, "5.5.2");
    CHECK_LINE(no, "MAIL FROM:<j\xf6ran@example.com>\r\n", OPES_EBAD_UTF8, OPES_VERB_MAIL, 500,
               "5.5.2");
    /* RCPT: the transaction's state */
    CHECK_LINE(u, "RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@example.com>\r\n", OPES_EBAD_UTF8,
               OPES_VERB_RCPT, 553, "5.6.7");
    opes_smtp_config_set_utf8(u, 1);
    CHECK_ST(parse(u, "RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@example.com>\r\n", &c, &used), OPES_OK);
    CHECK_STR(c.path.local_part, "\xe7\x94\xa8\xe6\x88\xb7");
    /* VRFY/EXPN: String [SP "SMTPUTF8"] (RFC 6531 3.7.4.2) */
    CHECK_ST(parse(u, "VRFY j\xc3\xb6ran\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.smtputf8, 0);
    opes_smtp_config_set_utf8(u, 0);
    CHECK_LINE(u, "VRFY j\xc3\xb6ran\r\n", OPES_EBAD_CHAR, OPES_VERB_VRFY, 500, "5.5.2");
    CHECK_ST(parse(u, "VRFY j\xc3\xb6ran SMTPUTF8\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.smtputf8, 1);
    CHECK_STR(c.string, "j\xc3\xb6ran");
    CHECK_ST(parse(u, "EXPN \"Liste f\xc3\xbcr alle\" smtputf8\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.smtputf8, 1);
    CHECK(c.notes & OPES_NOTE_CASE);
    CHECK_ST(parse(u, "VRFY Crispin SMTPUTF8\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.smtputf8, 1);
    CHECK_STR(c.string, "Crispin");
    CHECK_ST(parse(u, "VRFY SMTPUTF8\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.smtputf8, 0); /* the String itself */
    CHECK_LINE(u, "VRFY Crispin SMTPUTF8 x\r\n", OPES_ESYNTAX, OPES_VERB_VRFY, 501, "5.5.2");
    /* the word of an extension not offered: 504 (RFC 5321 4.2.3, 4.3.2) */
    CHECK_LINE(no, "VRFY Crispin SMTPUTF8\r\n", OPES_EPARAM_UNKNOWN, OPES_VERB_VRFY, 504, "5.5.4");
    CHECK_LINE(no, "VRFY j\xc3\xb6ran\r\n", OPES_EBAD_CHAR, OPES_VERB_VRFY, 500, "5.5.2");
    opes_smtp_config_free(u);
    opes_smtp_config_free(no);
}

/* ---- API misuse -------------------------------------------------------------------------- */

static void test_misuse(void)
{
    opes_command c;
    size_t used = 7;
    CHECK_ST(opes_command_parse(NULL, NULL, 1, &c, &used), OPES_EINVAL);
    CHECK_EQ(used, 0);
    CHECK_ST(opes_command_parse(NULL, "QUIT\r\n", 6, NULL, &used), OPES_EINVAL);
    CHECK_ST(opes_command_parse(NULL, "QUIT\r\n", 6, &c, NULL), OPES_EINVAL);
    CHECK_ST(opes_command_parse(NULL, NULL, 0, &c, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);
    CHECK_ST(parse(NULL, "QUIT", &c, &used), OPES_INCOMPLETE);
    CHECK_ST(parse(NULL, "QUIT\r", &c, &used), OPES_INCOMPLETE);
    CHECK_ST(parse(NULL, "QUIT\r\n", &c, &used), OPES_OK);
    /* a result leaves nothing of an earlier one behind */
    CHECK_ST(parse(NULL, "EHLO a.example\r\n", &c, &used), OPES_OK);
    CHECK_ST(parse(NULL, "QUIT\r\n", &c, &used), OPES_OK);
    CHECK_EQ(c.domain.len, 0);
    CHECK_EQ(c.argument.len, 0);
}

/* ---- builders ------------------------------------------------------------------------------ */

/* Build, check the exact bytes, and parse the result back. */
static void build_ok(int verb, const char *arg, const char *want, const opes_smtp_config *cfg)
{
    char buf[600];
    size_t n = 0, need = 0, used;
    opes_command c;
    size_t al = strlen(arg);
    CHECK_ST(opes_command_build(NULL, 0, &need, cfg, verb, arg, al), OPES_ENOSPC);
    CHECK_EQ(need, strlen(want));
    CHECK_ST(opes_command_build(buf, need - 1, &n, cfg, verb, arg, al), OPES_ENOSPC);
    CHECK_EQ(n, need);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, cfg, verb, arg, al), OPES_OK);
    CHECK_MEM(buf, n, want, strlen(want));
    CHECK_ST(parse_n(cfg, buf, n, &c, &used), OPES_OK);
    CHECK_EQ(c.verb, verb);
    CHECK_EQ(used, n);
    CHECK_MEM(c.argument.ptr, c.argument.len, arg, al);
}

static void test_command_build(void)
{
    opes_smtp_config *all = mkcfg(0, "CHUNKING STARTTLS AUTH SMTPUTF8");
    char buf[700];
    size_t n;

    build_ok(OPES_VERB_EHLO, "bar.com", "EHLO bar.com\r\n", all);
    build_ok(OPES_VERB_HELO, "Example.ORG", "HELO Example.ORG\r\n", all);
    build_ok(OPES_VERB_LHLO, "foo.edu", "LHLO foo.edu\r\n", all);
    build_ok(OPES_VERB_EHLO, "[192.0.2.1]", "EHLO [192.0.2.1]\r\n", all);
    build_ok(OPES_VERB_DATA, "", "DATA\r\n", all);
    build_ok(OPES_VERB_RSET, "", "RSET\r\n", all);
    build_ok(OPES_VERB_QUIT, "", "QUIT\r\n", all);
    build_ok(OPES_VERB_STARTTLS, "", "STARTTLS\r\n", all);
    build_ok(OPES_VERB_NOOP, "", "NOOP\r\n", all);
    build_ok(OPES_VERB_NOOP, "ping <1>", "NOOP ping <1>\r\n", all);
    build_ok(OPES_VERB_HELP, "", "HELP\r\n", all);
    build_ok(OPES_VERB_HELP, "MAIL", "HELP MAIL\r\n", all);
    build_ok(OPES_VERB_VRFY, "Crispin", "VRFY Crispin\r\n", all);
    build_ok(OPES_VERB_EXPN, "Example-People", "EXPN Example-People\r\n", all);
    build_ok(OPES_VERB_VRFY, "\"a@b.example\"", "VRFY \"a@b.example\"\r\n", all);
    build_ok(OPES_VERB_VRFY, "j\xc3\xb6ran SMTPUTF8", "VRFY j\xc3\xb6ran SMTPUTF8\r\n", all);
    build_ok(OPES_VERB_BDAT, "86 LAST", "BDAT 86 LAST\r\n", all);
    build_ok(OPES_VERB_BDAT, "100000", "BDAT 100000\r\n", all);
    build_ok(OPES_VERB_AUTH, "PLAIN dGVzdAB0ZXN0ADEyMzQ=", "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n",
             all);
    build_ok(OPES_VERB_AUTH, "EXTERNAL =", "AUTH EXTERNAL =\r\n", all);
    build_ok(OPES_VERB_AUTH, "CRAM-MD5", "AUTH CRAM-MD5\r\n", all);

    /* refusals */
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, "a\r\nQUIT", 7), OPES_EINJECT);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, "a\nb", 3), OPES_EINJECT);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, "a\0b", 3), OPES_EINJECT);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_EHLO, "a.example\r\nRSET", 15),
             OPES_EINJECT);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, "a\tb ", 4), OPES_ESYNTAX);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, "a\x01", 2), OPES_EBAD_CHAR);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, "\xc3\xbc", 2),
             OPES_EBAD_CHAR);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_DATA, "x", 1), OPES_EUNEXPECTED_ARG);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_STARTTLS, "x", 1),
             OPES_EUNEXPECTED_ARG);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_EHLO, "", 0), OPES_EMISSING_ARG);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_EHLO, NULL, 0), OPES_EMISSING_ARG);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_VRFY, "", 0), OPES_EMISSING_ARG);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_BDAT, "", 0), OPES_EMISSING_ARG);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_AUTH, "", 0), OPES_EMISSING_ARG);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_EHLO, "my_host", 7),
             OPES_EBAD_DOMAIN);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_EHLO, "b\xc3\xbc.de", 6),
             OPES_EBAD_CHAR);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_EHLO, "a.example ", 10),
             OPES_EBAD_DOMAIN);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_VRFY, "a b", 3), OPES_ESYNTAX);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_HELP, "a b", 3), OPES_ESYNTAX);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_BDAT, "1 last x", 8), OPES_ESYNTAX);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_BDAT, "18446744073709551616", 20),
             OPES_EBAD_NUMBER);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_AUTH, "PLAIN =AAA", 10),
             OPES_EBAD_BASE64);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_AUTH, "PLAIN ", 6),
             OPES_EBAD_BASE64);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_MAIL, "FROM:<>", 7), OPES_EINVAL);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_RCPT, "TO:<a@b>", 8), OPES_EINVAL);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_UNKNOWN, "", 0), OPES_EINVAL);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB__COUNT, "", 0), OPES_EINVAL);
    CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, NULL, 2), OPES_EINVAL);
    CHECK_ST(opes_command_build(NULL, 5, &n, all, OPES_VERB_NOOP, "", 0), OPES_EINVAL);
    CHECK_ST(opes_command_build(buf, sizeof buf, NULL, all, OPES_VERB_NOOP, "", 0), OPES_EINVAL);
    /* 512 octets at most, AUTH included (RFC 4954 4: a client leaves out
     * the initial response instead) */
    {
        char arg[600];
        memset(arg, 'x', sizeof arg);
        CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, arg, 505), OPES_OK);
        CHECK_EQ(n, 512);
        CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_NOOP, arg, 506),
                 OPES_ELINE_TOO_LONG);
        memcpy(arg, "PLAIN ", 6);
        memset(arg + 6, 'Q', 504);
        CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_AUTH, arg, 6 + 496), OPES_OK);
        CHECK_EQ(n, 509);
        CHECK_ST(opes_command_build(buf, sizeof buf, &n, all, OPES_VERB_AUTH, arg, 6 + 500),
                 OPES_ELINE_TOO_LONG);
    }
    opes_smtp_config_free(all);
}

static void test_mail_rcpt_build(void)
{
    opes_smtp_config *cfg = mkcfg(0, "SIZE DSN 8BITMIME SMTPUTF8");
    char buf[1200];
    size_t n, need, used;
    opes_command c;
    opes_params p;

    CHECK_ST(
        opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_MAIL, "Smith", 5, "bar.com", 7, NULL),
        OPES_OK);
    CHECK_MEM(buf, n, "MAIL FROM:<Smith@bar.com>\r\n", 27);
    CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_MAIL, NULL, 0, NULL, 0, NULL),
             OPES_OK);
    CHECK_MEM(buf, n, "MAIL FROM:<>\r\n", 14);
    CHECK_ST(
        opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, "Postmaster", 10, NULL, 0, NULL),
        OPES_OK);
    CHECK_MEM(buf, n, "RCPT TO:<Postmaster>\r\n", 22);
    CHECK_ST(parse_n(cfg, buf, n, &c, &used), OPES_OK);
    CHECK_EQ(c.path.kind, OPES_PATH_POSTMASTER);
    CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, NULL, 0, NULL, 0, NULL),
             OPES_EBAD_PATH);
    CHECK_ST(
        opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_MAIL, "Postmaster", 10, NULL, 0, NULL),
        OPES_EBAD_DOMAIN);
    CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, "bob", 3, NULL, 0, NULL),
             OPES_EBAD_DOMAIN);

    /* RFC 3461 10.1 (one line, as the RFC says it is sent) */
    memset(&p, 0, sizeof p);
    p.count = 2;
    p.item[0].keyword.ptr = "NOTIFY";
    p.item[0].keyword.len = 6;
    p.item[0].value.ptr = "SUCCESS";
    p.item[0].value.len = 7;
    p.item[0].has_value = 1;
    p.item[1].keyword.ptr = "ORCPT";
    p.item[1].keyword.len = 5;
    p.item[1].value.ptr = "rfc822;Bob@Example.COM";
    p.item[1].value.len = 22;
    p.item[1].has_value = 1;
    {
        static const char want[] =
            "RCPT TO:<Bob@Example.COM> NOTIFY=SUCCESS ORCPT=rfc822;Bob@Example.COM\r\n";
        CHECK_ST(
            opes_mail_rcpt_build(NULL, 0, &need, cfg, OPES_VERB_RCPT, "Bob", 3, "Example.COM", 11, &p),
            OPES_ENOSPC);
        CHECK_EQ(need, sizeof want - 1);
        for (size_t cap = 0; cap < need; cap++) {
            n = 0;
            CHECK_ST(opes_mail_rcpt_build(cap ? buf : NULL, cap, &n, cfg, OPES_VERB_RCPT, "Bob", 3,
                                          "Example.COM", 11, &p),
                     OPES_ENOSPC);
            CHECK_EQ(n, need);
        }
        CHECK_ST(
            opes_mail_rcpt_build(buf, need, &n, cfg, OPES_VERB_RCPT, "Bob", 3, "Example.COM", 11, &p),
            OPES_OK);
        CHECK_MEM(buf, n, want, sizeof want - 1);
        CHECK_ST(parse_n(cfg, buf, n, &c, &used), OPES_OK);
        CHECK_STR(c.path.local_part, "Bob");
        CHECK_EQ(c.params.count, 2);
        CHECK_STR(c.params.item[1].value, "rfc822;Bob@Example.COM");
    }
    /* a local part that is not a Dot-string is quoted, and parses back */
    CHECK_ST(
        opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_MAIL, "a b", 3, "c.example", 9, NULL),
        OPES_OK);
    CHECK_MEM(buf, n, "MAIL FROM:<\"a b\"@c.example>\r\n", 29);
    CHECK_ST(parse_n(cfg, buf, n, &c, &used), OPES_OK);
    /* refusals */
    CHECK_ST(
        opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_MAIL, "a\r\nRSET", 7, "b.c", 3, NULL),
        OPES_EINJECT);
    CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, "a", 1, "b\nc", 3, NULL),
             OPES_EINJECT);
    CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, "a", 1, "-b.c", 4, NULL),
             OPES_EBAD_DOMAIN);
    CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_DATA, "a", 1, "b.c", 3, NULL),
             OPES_EINVAL);
    CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_MAIL, NULL, 1, "b.c", 3, NULL),
             OPES_EINVAL);
    CHECK_ST(opes_mail_rcpt_build(NULL, 1, &n, cfg, OPES_VERB_MAIL, "a", 1, "b.c", 3, NULL),
             OPES_EINVAL);
    p.item[1].value.ptr = "rfc822;Bob\r\n@Example.COM";
    p.item[1].value.len = 24;
    CHECK_ST(
        opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, "Bob", 3, "Example.COM", 11, &p),
        OPES_EINJECT);
    p.item[1] = p.item[0];
    CHECK_ST(
        opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, "Bob", 3, "Example.COM", 11, &p),
        OPES_EPARAM_DUPLICATE);
    /* the line limit: 512 plus the increments of the parameters used (RFC
     * 3461 5.4: 1036 for RCPT with DSN parameters) */
    {
        static char local[1100];
        memset(local, 'a', sizeof local);
        /* "MAIL FROM:<" + L + "@b.example>\r\n": 11 + L + 13 */
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, NULL, OPES_VERB_MAIL, local, 512 - 24,
                                      "b.example", 9, NULL),
                 OPES_OK);
        CHECK_EQ(n, 512);
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, NULL, OPES_VERB_MAIL, local, 512 - 23,
                                      "b.example", 9, NULL),
                 OPES_ELINE_TOO_LONG);
        p.count = 1; /* NOTIFY=SUCCESS: DSN's 524 */
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, local, 1036 - 22 - 15,
                                      "b.example", 9, &p),
                 OPES_OK);
        CHECK_EQ(n, 1036);
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, cfg, OPES_VERB_RCPT, local, 1036 - 22 - 14,
                                      "b.example", 9, &p),
                 OPES_ELINE_TOO_LONG);
    }
    /* builder and parser share one limit table: with only MT-PRIORITY
     * offered (RFC 6710 3: +15), a 527-octet MAIL line is built and parsed
     * back, a 528-octet one is refused by both */
    {
        static char local[600];
        opes_smtp_config *mt = mkcfg(OPES_LENIENT_LONG_ADDRESS, "MT-PRIORITY");
        opes_params q;
        memset(local, 'a', sizeof local);
        memset(&q, 0, sizeof q);
        q.count = 1;
        q.item[0].keyword.ptr = "MT-PRIORITY";
        q.item[0].keyword.len = 11;
        q.item[0].value.ptr = "-9";
        q.item[0].value.len = 2;
        q.item[0].has_value = 1;
        /* "MAIL FROM:<" L "@b.example>" " MT-PRIORITY=-9" CRLF: 24 + L + 15 */
        CHECK_EQ(opes_smtp_config_line_limit(mt, OPES_VERB_MAIL), 527);
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, mt, OPES_VERB_MAIL, local, 527 - 39,
                                      "b.example", 9, &q),
                 OPES_OK);
        CHECK_EQ(n, 527);
        CHECK_ST(parse_n(mt, buf, n, &c, &used), OPES_OK);
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, mt, OPES_VERB_MAIL, local, 528 - 39,
                                      "b.example", 9, &q),
                 OPES_ELINE_TOO_LONG);
        /* a parameter the server did not offer is never sent (RFC 5321
         * 4.1.1.2), and with no config nothing is offered */
        q.item[0].keyword.ptr = "SIZE";
        q.item[0].keyword.len = 4;
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, mt, OPES_VERB_MAIL, "a", 1, "b.example",
                                      9, &q),
                 OPES_EPARAM_UNKNOWN);
        CHECK_ST(opes_mail_rcpt_build(buf, sizeof buf, &n, NULL, OPES_VERB_MAIL, "a", 1,
                                      "b.example", 9, &q),
                 OPES_EPARAM_UNKNOWN);
        /* the verbs of extensions need them offered */
        CHECK_ST(opes_command_build(buf, sizeof buf, &n, mt, OPES_VERB_BDAT, "10 LAST", 7),
                 OPES_ENOT_OFFERED);
        CHECK_ST(opes_command_build(buf, sizeof buf, &n, NULL, OPES_VERB_STARTTLS, "", 0),
                 OPES_ENOT_OFFERED);
        CHECK_ST(opes_command_build(buf, sizeof buf, &n, NULL, OPES_VERB_AUTH, "PLAIN", 5),
                 OPES_ENOT_OFFERED);
        opes_smtp_config_free(mt);
    }
    opes_smtp_config_free(cfg);
}

int main(void)
{
    test_appendix_d();
    test_rfc3030();
    test_bdat();
    test_rfc2920();
    test_rfc3461();
    test_rfc4954();
    test_auth_limits();
    test_smtp_proto_flaws();
    test_line_limits();
    test_line_skip();
    test_verbs();
    test_case_space_chars();
    test_smtputf8();
    test_misuse();
    test_command_build();
    test_mail_rcpt_build();
    for (size_t i = 0; i < RING; i++)
        if (ring[i])
            gfree(ring[i]);
    return TEST_END();
}
