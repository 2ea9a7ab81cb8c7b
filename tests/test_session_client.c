/*
 * The SMTP session, client role (include/opes/session.h).
 *
 * The server's side of RFC dialogues (RFC 5321 Appendix D, RFC 2920 4, RFC
 * 3030 4, RFC 4954 4.1, RFC 2033) and every recorded server of the real-client
 * captures (the .session files of tests/vectors/clients/) are fed to a client session while
 * the client sends what the RFC's (or the real) client sent: every reply must
 * be matched, by count, to the command it answers, at every split of the
 * server's bytes, and what the client may send must follow.
 */
#define _DEFAULT_SOURCE 1
#include "harness.h"

#include <stdlib.h>

static opes_session *mkclient(int protocol)
{
    opes_session *s = NULL;
    if (opes_session_new(&s, OPES_ROLE_CLIENT, NULL, NULL) != OPES_OK)
        abort();
    if (protocol)
        opes_session_set_option(s, OPES_SESSION_PROTOCOL, protocol);
    return s;
}

static opes_status csend(opes_session *s, const char *line)
{
    return opes_session_client_send(s, line, strlen(line));
}

/* Feed the server's bytes srv[0..n) in chunks of `chunk` (0: whole); write
 * "verb:code[-]" for each reply line into out (a "-" for a continuation
 * line). Returns the feed status that stopped it (OPES_OK at the end). */
static opes_status feed_srv(opes_session *s, const char *srv, size_t n, size_t chunk, char *out,
                            size_t cap)
{
    size_t start = 0, have = chunk ? (chunk < n ? chunk : n) : n, ol = 0;
    out[0] = '\0';
    for (;;) {
        size_t used = 0, m = have - start;
        char *w = malloc(m ? m : 1);
        opes_session_event ev;
        memcpy(w, srv + start, m);
        opes_status st = opes_session_feed(s, m ? w : NULL, m, &used, &ev);
        free(w);
        if (st != OPES_OK)
            return st;
        start += used;
        if (ev.type == OPES_SESSION_EV_NONE) {
            if (have == n)
                return OPES_OK;
            have = chunk ? (have + chunk < n ? have + chunk : n) : n;
            continue;
        }
        if (ev.type == OPES_SESSION_EV_REPLY) {
            const char *v = ev.reason == OPES_REASON_UNSOLICITED ? "unsolicited"
                            : ev.verb                            ? opes_verb_name(ev.verb)
                                                                 : "greeting";
            ol += (size_t)snprintf(out + ol, cap - ol, "%s%s:%d%s", ol ? " " : "", v, ev.reply_code,
                                   ev.last ? "" : "-");
        }
    }
}

/* RFC 5321 D.1, the client's side: no PIPELINING offered, so each command
 * waits for its reply; the 550 for Green is matched to the second RCPT. */
static void test_d1_client(void)
{
    static const char ehlo_reply[] = "250-foo.com greets bar.com\r\n"
                                     "250-8BITMIME\r\n"
                                     "250-SIZE\r\n"
                                     "250-DSN\r\n"
                                     "250 HELP\r\n";
    for (size_t chunk = 0; chunk < 30; chunk++) {
        opes_session *s = mkclient(0);
        char log[2048];
        const opes_ehlo *e = NULL;
        CHECK(!opes_session_client_may_send(s, OPES_VERB_EHLO)); /* before the greeting */
        CHECK_ST(csend(s, "EHLO bar.com\r\n"), OPES_ESTATE);
        CHECK_ST(feed_srv(s, "220 foo.com Simple Mail Transfer Service Ready\r\n",
                          strlen("220 foo.com Simple Mail Transfer Service Ready\r\n"), chunk, log,
                          sizeof log),
                 OPES_OK);
        CHECK(strcmp(log, "greeting:220") == 0);
        CHECK(!opes_session_client_may_send(s, OPES_VERB_MAIL)); /* not greeted yet */
        CHECK_ST(csend(s, "EHLO bar.com\r\n"), OPES_OK);
        CHECK(!opes_session_client_may_send(s, OPES_VERB_MAIL)); /* EHLO's reply is due */
        CHECK_ST(feed_srv(s, ehlo_reply, sizeof ehlo_reply - 1, chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "EHLO:250- EHLO:250- EHLO:250- EHLO:250- EHLO:250") == 0);
        CHECK_ST(opes_session_client_ehlo(s, &e), OPES_OK);
        CHECK(e && opes_ehlo_has(e, OPES_EHLO_DSN) && !opes_ehlo_has(e, OPES_EHLO_PIPELINING));
        /* DSN offered: RET may be sent; CHUNKING not: BDAT may not */
        CHECK_ST(csend(s, "MAIL FROM:<Smith@bar.com> RET=HDRS\r\n"), OPES_OK);
        CHECK(!opes_session_client_may_send(s, OPES_VERB_RCPT)); /* no PIPELINING */
        CHECK_ST(csend(s, "RCPT TO:<Jones@foo.com>\r\n"), OPES_ESTATE);
        CHECK_ST(feed_srv(s, "250 OK\r\n", strlen("250 OK\r\n"), chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "MAIL:250") == 0);
        CHECK_ST(csend(s, "RCPT TO:<Jones@foo.com>\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, "250 OK\r\n", strlen("250 OK\r\n"), chunk, log, sizeof log), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<Green@foo.com>\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, "550 No such user here\r\n", strlen("550 No such user here\r\n"),
                          chunk, log, sizeof log),
                 OPES_OK);
        CHECK(strcmp(log, "RCPT:550") == 0);
        CHECK_ST(csend(s, "RCPT TO:<Brown@foo.com>\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, "250 OK\r\n", strlen("250 OK\r\n"), chunk, log, sizeof log), OPES_OK);
        CHECK_ST(csend(s, "BDAT 10 LAST\r\n"), OPES_ENOT_OFFERED);
        CHECK_ST(csend(s, "DATA\r\n"), OPES_OK);
        CHECK(!opes_session_client_may_send(s, OPES_SEND_CONTENT)); /* before 354 */
        CHECK_ST(opes_session_client_data_end(s), OPES_ESTATE);
        CHECK_ST(feed_srv(s, "354 Start mail input; end with <CRLF>.<CRLF>\r\n",
                          strlen("354 Start mail input; end with <CRLF>.<CRLF>\r\n"), chunk, log,
                          sizeof log),
                 OPES_OK);
        CHECK(opes_session_client_may_send(s, OPES_SEND_CONTENT));
        CHECK(!opes_session_client_may_send(s, OPES_VERB_QUIT)); /* the data is due */
        CHECK_ST(opes_session_client_data_end(s), OPES_OK);
        CHECK_ST(feed_srv(s, "250 OK\r\n", strlen("250 OK\r\n"), chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "DATA:250") == 0);
        CHECK(opes_session_client_may_send(s, OPES_VERB_MAIL)); /* the transaction is over */
        CHECK_ST(csend(s, "QUIT\r\n"), OPES_OK);
        CHECK(!opes_session_client_may_send(s, OPES_VERB_NOOP));
        CHECK_ST(feed_srv(s, "221 foo.com Service closing transmission channel\r\n",
                          strlen("221 foo.com Service closing transmission channel\r\n"), chunk,
                          log, sizeof log),
                 OPES_OK);
        CHECK(strcmp(log, "QUIT:221") == 0);
        CHECK_EQ(opes_session_client_pending(s), 0);
        opes_session_free(s);
    }
}

/* A greeted client with the given EHLO reply already read. */
static opes_session *greeted(const char *ehlo_reply, int protocol)
{
    opes_session *s = mkclient(protocol);
    char log[1024];
    feed_srv(s, "220 x.example ready\r\n", strlen("220 x.example ready\r\n"), 0, log, sizeof log);
    if (csend(s, protocol ? "LHLO c.example\r\n" : "EHLO c.example\r\n") != OPES_OK)
        abort();
    feed_srv(s, ehlo_reply, strlen(ehlo_reply), 0, log, sizeof log);
    return s;
}

/* RFC 2920 4: with PIPELINING, MAIL, RCPT x3 and DATA go in one group and
 * their five replies are matched by count, whatever their codes; the
 * all-rejected variant refuses DATA with 554 and the data is not sent. */
static void test_pipelining_client(void)
{
    static const char rep[] = "250 sender <mrose@dbc.mtview.ca.us> OK\r\n"
                              "250 recipient <ned@innosoft.com> OK\r\n"
                              "250 recipient <dan@innosoft.com> OK\r\n"
                              "250 recipient <kvc@innosoft.com> OK\r\n"
                              "354 enter mail, end with line containing only \".\"\r\n";
    static const char rej[] = "250 sender <mrose@dbc.mtview.ca.us> OK\r\n"
                              "550 remote mail to <nsb@thumper.bellore.com> not allowed\r\n"
                              "550 remote mail to <galvin@tis.com> not allowed\r\n"
                              "554 no valid recipients given\r\n";
    for (size_t chunk = 0; chunk < 60; chunk++) {
        opes_session *s = greeted("250-innosoft.com\r\n250 PIPELINING\r\n", 0);
        char log[1024];
        CHECK_ST(csend(s, "MAIL FROM:<mrose@dbc.mtview.ca.us>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<ned@innosoft.com>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<dan@innosoft.com>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<kvc@innosoft.com>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "DATA\r\n"), OPES_OK);
        /* DATA must be the last of the group */
        CHECK(!opes_session_client_may_send(s, OPES_VERB_QUIT));
        CHECK_EQ(opes_session_client_pending(s), 5);
        CHECK_ST(feed_srv(s, rep, sizeof rep - 1, chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "MAIL:250 RCPT:250 RCPT:250 RCPT:250 DATA:354") == 0);
        CHECK(opes_session_client_may_send(s, OPES_SEND_CONTENT));
        CHECK_ST(opes_session_client_data_end(s), OPES_OK);
        /* "." and QUIT in one group: the end of the data starts a group */
        CHECK_ST(csend(s, "QUIT\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, "250 message sent\r\n221 goodbye\r\n",
                          strlen("250 message sent\r\n221 goodbye\r\n"), chunk, log, sizeof log),
                 OPES_OK);
        CHECK(strcmp(log, "DATA:250 QUIT:221") == 0);
        opes_session_free(s);

        s = greeted("250-innosoft.com\r\n250 PIPELINING\r\n", 0);
        CHECK_ST(csend(s, "MAIL FROM:<mrose@dbc.mtview.ca.us>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<nsb@thumper.bellcore.com>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<galvin@tis.com>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "DATA\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, rej, sizeof rej - 1, chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "MAIL:250 RCPT:550 RCPT:550 DATA:554") == 0);
        /* RFC 5321 3.3: "message data MUST NOT be sent unless a 354 reply is
         * received" */
        CHECK(!opes_session_client_may_send(s, OPES_SEND_CONTENT));
        CHECK(opes_session_client_may_send(s, OPES_VERB_RSET));
        CHECK(opes_session_client_may_send(s, OPES_VERB_QUIT));
        opes_session_free(s);
    }
}

static void test_extensions_client(void)
{
    char log[1024];
    /* parameters and commands of extensions the server did not offer are
     * refused before they are sent (RFC 5321 4.1.1.11, 4.2.4) */
    opes_session *s = greeted("250-x.example\r\n250 SIZE 1000\r\n", 0);
    CHECK_ST(csend(s, "MAIL FROM:<a@b.example> RET=HDRS\r\n"), OPES_EPARAM_UNKNOWN);
    CHECK_ST(csend(s, "MAIL FROM:<a@b.example> BODY=8BITMIME\r\n"), OPES_EPARAM_UNKNOWN);
    CHECK_ST(csend(s, "STARTTLS\r\n"), OPES_ENOT_OFFERED);
    CHECK_ST(csend(s, "AUTH PLAIN\r\n"), OPES_ENOT_OFFERED);
    CHECK_ST(csend(s, "MAIL FROM:<a@b.example> SIZE=100\r\n"), OPES_OK);
    CHECK_ST(csend(s, "MAIL FROM:<a@b.example>"), OPES_EINVAL); /* not one line */
    opes_session_free(s);

    /* HELO: no extension at all */
    s = mkclient(0);
    feed_srv(s, "220 x.example\r\n", strlen("220 x.example\r\n"), 0, log, sizeof log);
    CHECK_ST(csend(s, "EHLO c.example\r\n"), OPES_OK);
    CHECK_ST(feed_srv(s, "502 5.5.1 no\r\n", strlen("502 5.5.1 no\r\n"), 0, log, sizeof log),
             OPES_OK);
    CHECK(!opes_session_client_may_send(s, OPES_VERB_MAIL));
    CHECK_ST(csend(s, "HELO c.example\r\n"), OPES_OK);
    CHECK_ST(feed_srv(s, "250 x.example\r\n", strlen("250 x.example\r\n"), 0, log, sizeof log),
             OPES_OK);
    const opes_ehlo *e;
    CHECK_ST(opes_session_client_ehlo(s, &e), OPES_ENOTFOUND);
    CHECK_ST(csend(s, "MAIL FROM:<a@b.example> SIZE=100\r\n"), OPES_EPARAM_UNKNOWN);
    CHECK_ST(csend(s, "MAIL FROM:<a@b.example>\r\n"), OPES_OK);
    opes_session_free(s);

    /* CHUNKING (RFC 3030 4.2): BDATs pipelined; a refused chunk fails the
     * transaction (no more BDAT), RSET clears it; no DATA after BDAT */
    for (size_t chunk = 0; chunk < 20; chunk++) {
        s = greeted("250-cnri.reston.va.us says hello\r\n250-PIPELINING\r\n250-BINARYMIME\r\n"
                    "250 CHUNKING\r\n",
                    0);
        CHECK_ST(csend(s, "MAIL FROM:<ned@ymir.claremont.edu> BODY=BINARYMIME\r\n"), OPES_OK);
        CHECK_ST(csend(s, "BDAT 1\r\n"), OPES_ESTATE); /* no recipient yet */
        CHECK_ST(csend(s, "RCPT TO:<gvaudre@cnri.reston.va.us>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<jstewart@cnri.reston.va.us>\r\n"), OPES_OK);
        CHECK(!opes_session_client_may_send(s, OPES_VERB_DATA)); /* BINARYMIME */
        CHECK_ST(csend(s, "BDAT 100000\r\n"), OPES_OK);
        CHECK_ST(csend(s, "BDAT 324\r\n"), OPES_OK);
        CHECK_ST(csend(s, "BDAT 0 LAST\r\n"), OPES_OK);
        const char *r = "250 <ned@ymir.claremont.edu>... Sender and BINARYMIME ok\r\n"
                        "250 <gvaudre@cnri.reston.va.us>... Recipient ok\r\n"
                        "250 <jstewart@cnri.reston.va.us>... Recipient ok\r\n"
                        "250 100000 octets received\r\n"
                        "250 324 octets received\r\n"
                        "250 Message OK, 100324 octets received\r\n";
        CHECK_ST(feed_srv(s, r, strlen(r), chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "MAIL:250 RCPT:250 RCPT:250 BDAT:250 BDAT:250 BDAT:250") == 0);
        CHECK(opes_session_client_may_send(s, OPES_VERB_MAIL)); /* BDAT LAST ended it */
        CHECK_ST(csend(s, "MAIL FROM:<a@b.example>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<c@d.example>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "BDAT 3\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, "250 ok\r\n250 ok\r\n452 no room\r\n",
                          strlen("250 ok\r\n250 ok\r\n452 no room\r\n"), chunk, log, sizeof log),
                 OPES_OK);
        CHECK(!opes_session_client_may_send(s, OPES_VERB_BDAT));
        CHECK(!opes_session_client_may_send(s, OPES_VERB_DATA));
        CHECK_ST(csend(s, "RSET\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, "250 ok\r\n", strlen("250 ok\r\n"), chunk, log, sizeof log), OPES_OK);
        CHECK(opes_session_client_may_send(s, OPES_VERB_MAIL));
        opes_session_free(s);
    }
}

/* RFC 2033 4.2: after the data, one reply per recipient that was accepted,
 * in order (three RCPT, one refused: two replies to the end of the data). */
static void test_lmtp_client(void)
{
    for (size_t chunk = 0; chunk < 30; chunk++) {
        opes_session *s = greeted("250-foo.edu\r\n250 PIPELINING\r\n", OPES_PROTOCOL_LMTP);
        char log[1024];
        CHECK(!opes_session_client_may_send(s, OPES_VERB_EHLO)); /* LMTP: LHLO */
        CHECK_ST(csend(s, "MAIL FROM:<chris@bar.com>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<pat@foo.edu>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<jones@foo.edu>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "RCPT TO:<green@foo.edu>\r\n"), OPES_OK);
        CHECK_ST(csend(s, "DATA\r\n"), OPES_OK);
        const char *r = "250 OK\r\n250 OK\r\n550 No such user (jones@foo.edu)\r\n250 OK\r\n"
                        "354 Start mail input; end with <CRLF>.<CRLF>\r\n";
        CHECK_ST(feed_srv(s, r, strlen(r), chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "MAIL:250 RCPT:250 RCPT:550 RCPT:250 DATA:354") == 0);
        CHECK_ST(opes_session_client_data_end(s), OPES_OK);
        CHECK_ST(csend(s, "QUIT\r\n"), OPES_OK);
        r = "250 OK\r\n452 <green@foo.edu> is temporarily over quota\r\n221 foo.edu closing "
            "connection\r\n";
        CHECK_ST(feed_srv(s, r, strlen(r), chunk, log, sizeof log), OPES_OK);
        CHECK(strcmp(log, "DATA:250 DATA:452 QUIT:221") == 0);
        opes_session_free(s);
    }
}

/* RFC 3207 and RFC 4954 4.1 (the PLAIN example after STARTTLS): after 220 the
 * client sends nothing until TLS is up; then its knowledge of the server is
 * gone, EHLO again, and the new capabilities apply. */
static void test_tls_auth_client(void)
{
    char log[1024];
    opes_session *s = greeted("250-smtp.example.com Hello client.example.com\r\n"
                              "250-AUTH GSSAPI DIGEST-MD5\r\n250-ENHANCEDSTATUSCODES\r\n"
                              "250 STARTTLS\r\n",
                              0);
    CHECK_ST(csend(s, "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"), OPES_OK); /* offered AUTH */
    CHECK_ST(feed_srv(s, "504 5.5.4 no\r\n", strlen("504 5.5.4 no\r\n"), 0, log, sizeof log),
             OPES_OK);
    CHECK_ST(opes_session_tls_started(s), OPES_ESTATE); /* no 220 yet */
    CHECK_ST(csend(s, "STARTTLS\r\n"), OPES_OK);
    CHECK_ST(feed_srv(s, "220 Ready to start TLS\r\n", strlen("220 Ready to start TLS\r\n"), 0, log,
                      sizeof log),
             OPES_OK);
    CHECK(!opes_session_client_may_send(s, OPES_VERB_EHLO));
    CHECK_ST(opes_session_tls_started(s), OPES_OK);
    CHECK(!opes_session_client_may_send(s, OPES_VERB_MAIL)); /* EHLO again first */
    const opes_ehlo *e;
    CHECK_ST(opes_session_client_ehlo(s, &e), OPES_ENOTFOUND);
    CHECK_ST(csend(s, "EHLO client.example.com\r\n"), OPES_OK);
    {
        const char *r = "250-smtp.example.com Hello client.example.com\r\n"
                        "250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n";
        CHECK_ST(feed_srv(s, r, strlen(r), 0, log, sizeof log), OPES_OK);
    }
    CHECK(!opes_session_client_may_send(s, OPES_VERB_STARTTLS));
    CHECK_ST(csend(s, "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"), OPES_OK);
    /* AUTH PLAIN with an initial response may be followed (RFC 4954 4) */
    CHECK(opes_session_client_may_send(s, OPES_VERB_NOOP) == 0); /* no PIPELINING here */
    CHECK_ST(feed_srv(s, "235 2.7.0 Authentication successful\r\n",
                      strlen("235 2.7.0 Authentication successful\r\n"), 0, log, sizeof log),
             OPES_OK);
    CHECK_EQ(opes_session_authenticated(s), 1);
    CHECK(!opes_session_client_may_send(s, OPES_VERB_AUTH)); /* not twice */
    opes_session_free(s);

    /* the PLAIN exchange without an initial response: "334 " then the line */
    s = greeted("250-x.example\r\n250 AUTH LOGIN PLAIN\r\n", 0);
    CHECK_ST(csend(s, "AUTH LOGIN\r\n"), OPES_OK);
    CHECK(!opes_session_client_may_send(s, OPES_SEND_AUTH_LINE));
    CHECK_ST(
        feed_srv(s, "334 VXNlcm5hbWU6\r\n", strlen("334 VXNlcm5hbWU6\r\n"), 0, log, sizeof log),
        OPES_OK);
    CHECK(strcmp(log, "AUTH:334") == 0);
    CHECK(opes_session_client_may_send(s, OPES_SEND_AUTH_LINE));
    CHECK(!opes_session_client_may_send(s, OPES_VERB_MAIL));
    CHECK_ST(csend(s, "not base64!\r\n"), OPES_EBAD_BASE64);
    CHECK_ST(csend(s, "YWxpY2U=\r\n"), OPES_OK);
    CHECK_ST(
        feed_srv(s, "334 UGFzc3dvcmQ6\r\n", strlen("334 UGFzc3dvcmQ6\r\n"), 0, log, sizeof log),
        OPES_OK);
    CHECK_ST(csend(s, "*\r\n"), OPES_OK); /* cancel */
    CHECK_ST(feed_srv(s, "501 5.7.0 cancelled\r\n", strlen("501 5.7.0 cancelled\r\n"), 0, log,
                      sizeof log),
             OPES_OK);
    CHECK(strcmp(log, "AUTH:501") == 0);
    CHECK_EQ(opes_session_authenticated(s), 0);
    CHECK(opes_session_client_may_send(s, OPES_VERB_AUTH));
    opes_session_free(s);
}

/* opes_session_set_arena_size() on a client session: the arena holds the
 * server's EHLO reply. While one is being read it is refused (a smaller arena
 * would overflow when the rest arrives); after it, the reply moves with the
 * arena when it fits (the capabilities are parsed again, their views point
 * into the new arena), and is forgotten when it does not. */
static void test_arena_client(void)
{
    char big[8000], log[8192];
    size_t n = 0;
    const opes_ehlo *e = NULL;
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(big + n, sizeof big - n,
                              "250-XEXTENSION%02d aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", i);
    opes_session *s = mkclient(0);
    CHECK_ST(feed_srv(s, "220 hi\r\n", 8, 0, log, sizeof log), OPES_OK);
    CHECK_ST(csend(s, "EHLO me\r\n"), OPES_OK);
    CHECK_ST(feed_srv(s, big, n, 0, log, sizeof log), OPES_OK);
    CHECK(n > 2000);
    CHECK_ST(opes_session_set_arena_size(s, 2000), OPES_ESTATE); /* mid-reply */
    CHECK_ST(feed_srv(s, "250 PIPELINING\r\n", 16, 0, log, sizeof log), OPES_OK);
    CHECK_ST(opes_session_client_ehlo(s, &e), OPES_OK);
    CHECK_EQ(e->nlines, 60); /* the first line is the greeting */
    /* a bigger arena keeps the reply: the views point into the new one */
    CHECK_ST(opes_session_set_arena_size(s, 100000), OPES_OK);
    CHECK_ST(opes_session_client_ehlo(s, &e), OPES_OK);
    CHECK_EQ(e->nlines, 60); /* the first line is the greeting */
    CHECK_STR(e->line[0].keyword, "XEXTENSION01");
    CHECK_STR(e->line[59].keyword, "PIPELINING");
    /* a smaller one cannot: forgotten, but the offers stay known */
    CHECK_ST(opes_session_set_arena_size(s, 2000), OPES_OK);
    CHECK_ST(opes_session_client_ehlo(s, &e), OPES_ENOTFOUND);
    CHECK(opes_session_client_may_send(s, OPES_VERB_MAIL));
    /* a later EHLO reply that does not fit is read safely, not kept */
    CHECK_ST(csend(s, "EHLO me\r\n"), OPES_OK);
    CHECK_ST(feed_srv(s, big, n, 0, log, sizeof log), OPES_OK);
    CHECK_ST(feed_srv(s, "250 PIPELINING\r\n", 16, 0, log, sizeof log), OPES_OK);
    CHECK_ST(opes_session_client_ehlo(s, &e), OPES_ENOTFOUND);
    CHECK_EQ(opes_session_client_pending(s), 0);
    opes_session_free(s);
}

/* A failed EHLO after a good one (RFC 5321 4.1.4: the server "MUST stay in
 * the same state"): the capabilities known stay those of the last 250 EHLO
 * reply, and opes_session_client_ehlo() must still show them, not views of
 * the failure's bytes written over them in the arena. While a new 250 reply
 * is being read, the old views end (session.h: "valid until the next EHLO
 * reply"): ENOTFOUND until it is complete. */
static void test_ehlo_failed_client(void)
{
    static const char fail[] = "550-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n550 no\r\n";
    for (size_t chunk = 0; chunk < sizeof fail; chunk++) {
        opes_session *s = greeted("250-mx.example\r\n250-SIZE 1000\r\n250 PIPELINING\r\n", 0);
        const opes_ehlo *e = NULL;
        char log[1024];
        CHECK_ST(opes_session_client_ehlo(s, &e), OPES_OK);
        CHECK_EQ(e->nlines, 2);
        CHECK_ST(csend(s, "EHLO c.example\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, fail, sizeof fail - 1, chunk, log, sizeof log), OPES_OK);
        CHECK_ST(opes_session_client_ehlo(s, &e), OPES_OK);
        CHECK_EQ(e->nlines, 2);
        CHECK_STR(e->line[0].keyword, "SIZE");
        CHECK_STR(e->line[0].params, "1000");
        CHECK_STR(e->line[1].keyword, "PIPELINING");
        CHECK(opes_session_client_may_send(s, OPES_VERB_MAIL));
        /* the views survive a move to a new arena too */
        CHECK_ST(opes_session_set_arena_size(s, 100000), OPES_OK);
        CHECK_ST(opes_session_client_ehlo(s, &e), OPES_OK);
        CHECK_EQ(e->nlines, 2);
        CHECK_STR(e->line[1].keyword, "PIPELINING");
        /* a new 250 reply: the old views end with its first line */
        CHECK_ST(csend(s, "EHLO c.example\r\n"), OPES_OK);
        CHECK_ST(feed_srv(s, "250-mx2.example\r\n", 17, chunk, log, sizeof log), OPES_OK);
        CHECK_ST(opes_session_client_ehlo(s, &e), OPES_ENOTFOUND);
        CHECK_ST(feed_srv(s, "250 8BITMIME\r\n", 14, chunk, log, sizeof log), OPES_OK);
        CHECK_ST(opes_session_client_ehlo(s, &e), OPES_OK);
        CHECK_EQ(e->nlines, 1);
        CHECK_STR(e->line[0].keyword, "8BITMIME");
        opes_session_free(s);
    }
}

/* RFC 3207 5: after the server's 220 to STARTTLS the client starts TLS; any
 * clear text the server (or an attacker on the path) sends behind the 220 is
 * injected: a fake EHLO reply there would hand the client capabilities, or
 * replies to commands it sends after TLS. Reported as TLS_INJECTION, never
 * parsed as replies, at every split. */
static void test_tls_injection_client(void)
{
    static const char inj[] = "220 go ahead\r\n250-x\r\n250 AUTH PLAIN\r\n";
    const size_t first = 14; /* "220 go ahead\r\n" */
    for (size_t chunk = 0; chunk < sizeof inj; chunk++) {
        opes_session *s = greeted("250-x.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n", 0);
        size_t start = 0, have = chunk ? chunk : sizeof inj - 1, injected = 0, replies = 0;
        CHECK_ST(csend(s, "STARTTLS\r\n"), OPES_OK);
        for (;;) {
            opes_session_event ev;
            size_t used = 0;
            CHECK_ST(opes_session_feed(s, inj + start, have - start, &used, &ev), OPES_OK);
            start += used;
            if (ev.type == OPES_SESSION_EV_NONE) {
                if (have == sizeof inj - 1)
                    break;
                have = have + chunk < sizeof inj - 1 ? have + chunk : sizeof inj - 1;
                continue;
            }
            if (ev.type == OPES_SESSION_EV_REPLY) {
                replies++;
                CHECK_EQ(ev.verb, OPES_VERB_STARTTLS);
                CHECK(ev.reason != OPES_REASON_UNSOLICITED);
            } else {
                CHECK_EQ(ev.type, OPES_SESSION_EV_TLS_INJECTION);
                /* after the greeting, the EHLO reply and the 220 */
                CHECK_EQ(ev.offset, 21 + 45 + first + injected);
                injected += ev.content.len;
            }
        }
        CHECK_EQ(replies, 1);
        CHECK_EQ(injected, sizeof inj - 1 - first);
        CHECK_ST(opes_session_tls_started(s), OPES_OK);
        const opes_ehlo *e;
        CHECK_ST(opes_session_client_ehlo(s, &e), OPES_ENOTFOUND);
        CHECK(!opes_session_client_may_send(s, OPES_VERB_AUTH));
        opes_session_free(s);
    }
}

static void test_broken_client(void)
{
    char log[1024];
    /* an unsolicited 421 (RFC 5321 3.8) */
    opes_session *s = greeted("250 x.example\r\n", 0);
    CHECK_ST(feed_srv(s, "421 4.3.2 shutting down\r\n", strlen("421 4.3.2 shutting down\r\n"), 0,
                      log, sizeof log),
             OPES_OK);
    CHECK(strcmp(log, "unsolicited:421") == 0);
    /* a malformed reply breaks the stream, stickily */
    CHECK_ST(csend(s, "NOOP\r\n"), OPES_OK);
    CHECK_ST(feed_srv(s, "25O ok\r\n", strlen("25O ok\r\n"), 0, log, sizeof log), OPES_EBAD_REPLY);
    CHECK_ST(feed_srv(s, "250 ok\r\n", strlen("250 ok\r\n"), 0, log, sizeof log), OPES_EBAD_REPLY);
    CHECK(!opes_session_client_may_send(s, OPES_VERB_QUIT));
    CHECK_ST(opes_session_reset(s), OPES_OK);
    CHECK_ST(feed_srv(s, "220 x.example\r\n", strlen("220 x.example\r\n"), 0, log, sizeof log),
             OPES_OK);
    CHECK(strcmp(log, "greeting:220") == 0);
    /* a 554 greeting: only QUIT (RFC 5321 3.1) */
    opes_session_free(s);
    s = mkclient(0);
    CHECK_ST(feed_srv(s, "554 no service\r\n", strlen("554 no service\r\n"), 0, log, sizeof log),
             OPES_OK);
    CHECK(!opes_session_client_may_send(s, OPES_VERB_EHLO));
    CHECK(opes_session_client_may_send(s, OPES_VERB_QUIT));
    /* server calls in a client session are refused */
    CHECK_ST(opes_session_respond(s, 250), OPES_ESTATE);
    opes_session_free(s);
    s = NULL;
    CHECK_ST(opes_session_new(&s, OPES_ROLE_SERVER, NULL, NULL), OPES_OK);
    CHECK_ST(opes_session_client_send(s, "NOOP\r\n", 6), OPES_EINVAL);
    CHECK(!opes_session_client_may_send(s, OPES_VERB_NOOP));
    opes_session_free(s);
}

/* ---- the recording servers of the real-client captures ------------------------- */

/* Unescape a .session field (\r \n \t \\ \xNN) in place; returns its length. */
static size_t unescape(char *p)
{
    char *o = p, *i = p;
    while (*i) {
        if (*i == '\\' && i[1]) {
            i++;
            if (*i == 'r')
                *o++ = '\r';
            else if (*i == 'n')
                *o++ = '\n';
            else if (*i == 't')
                *o++ = '\t';
            else if (*i == 'x' && i[1] && i[2]) {
                char h[3] = {i[1], i[2], 0};
                *o++ = (char)strtol(h, NULL, 16);
                i += 2;
            } else
                *o++ = *i;
            i++;
        } else {
            *o++ = *i++;
        }
    }
    return (size_t)(o - p);
}

/* Replay one capture: the client's units are sent in order (commands through
 * opes_session_client_send(), the message as content, the ClientHello as
 * the start of TLS), the server's units are fed; each reply line must be
 * matched to the verb of the unit it answers. */
static void replay(const char *name, size_t chunk)
{
    char path[256], *ses;
    size_t n;
    snprintf(path, sizeof path, "tests/vectors/clients/%s.session", name);
    ses = test_read_file(path, &n);
    CHECK(ses != NULL);
    if (!ses)
        return;
    int lmtp = strstr(name, "lmtp") != NULL;
    opes_session *s = mkclient(lmtp ? OPES_PROTOCOL_LMTP : 0);
    char expect[4096] = "", got[4096] = "", log[2048];
    size_t el = 0, gl = 0;
    int pending_verbs[64] = {OPES_VERB_UNKNOWN}, np = 1, in_data = 0, stop = 0; /* greeting */
    for (char *l = ses; l && *l && !stop;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = '\0';
        char *next = e ? e + 1 : NULL;
        if ((l[0] == 'C' || l[0] == 'S') && l[1] == '\t') {
            char *f = strchr(l + 2, '\t');
            f = f ? strchr(f + 1, '\t') : NULL;
            if (!f)
                break;
            f++;
            size_t len = unescape(f);
            if (l[0] == 'S') {
                opes_status st = feed_srv(s, f, len, chunk, log, sizeof log);
                CHECK_ST(st, OPES_OK);
                gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%s", gl ? " " : "", log);
                /* what the unit answers: every line with the head's verb */
                for (const char *q = f; q < f + len;) {
                    const char *lf = memchr(q, '\n', (size_t)(f + len - q));
                    int code = atoi(q), more = q[3] == '-';
                    int v = np ? pending_verbs[0] : -1;
                    el += (size_t)snprintf(expect + el, sizeof expect - el, "%s%s:%d%s",
                                           el ? " " : "",
                                           v < 0 ? "unsolicited"
                                           : v   ? opes_verb_name(v)
                                                 : "greeting",
                                           code, more ? "-" : "");
                    if (!more && np) {
                        memmove(pending_verbs, pending_verbs + 1, (size_t)(np - 1) * sizeof(int));
                        np--;
                    }
                    if (v == OPES_VERB_DATA && code == 354)
                        in_data = 1;
                    q = lf ? lf + 1 : f + len;
                }
            } else if (in_data) {
                CHECK(opes_session_client_may_send(s, OPES_SEND_CONTENT));
                CHECK_ST(opes_session_client_data_end(s), OPES_OK);
                in_data = 0;
                /* one reply per accepted recipient for LMTP: as many DATA
                 * entries as the real server sent replies (counted below) */
                pending_verbs[np++] = OPES_VERB_DATA;
                if (lmtp)
                    pending_verbs[np++] = OPES_VERB_DATA;
            } else if (len >= 2 && (unsigned char)f[0] == 0x16 && f[1] == 0x03) {
                CHECK_ST(opes_session_tls_started(s), OPES_OK);
                stop = 1;
            } else if (opes_session_client_may_send(s, OPES_SEND_AUTH_LINE)) {
                CHECK_ST(opes_session_client_send(s, f, len), OPES_OK);
                pending_verbs[np++] = OPES_VERB_AUTH;
            } else {
                opes_command cmd;
                size_t used;
                opes_command_parse(NULL, f, len, &cmd, &used);
                opes_status st = opes_session_client_send(s, f, len);
                if (strcmp(name, "smtplib-size-twice") == 0 && cmd.verb == OPES_VERB_MAIL) {
                    /* the client's SIZE twice: refused before it is sent */
                    CHECK_ST(st, OPES_EPARAM_DUPLICATE);
                    stop = 1;
                } else {
                    CHECK_ST(st, OPES_OK);
                    if (st != OPES_OK)
                        fprintf(stderr, "    %s: cannot send %.*s\n", name, (int)len, f);
                    pending_verbs[np++] = cmd.verb;
                }
            }
        }
        l = next;
    }
    if (strcmp(expect, got) != 0) {
        test_failed++;
        fprintf(stderr, "FAIL replay %s (chunk %zu)\n  want %s\n  got  %s\n", name, chunk, expect,
                got);
    } else {
        test_passed++;
    }
    opes_session_free(s);
    free(ses);
}

static void test_captures(void)
{
    size_t n;
    char *index = test_read_file("tests/vectors/clients/INDEX", &n);
    CHECK(index != NULL);
    for (char *l = index; l && *l;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = '\0';
        if (*l) {
            char name[64];
            /* the session file begins with a greeting; the client's first
             * unit is its EHLO */
            snprintf(name, sizeof name, "%s", l);
            for (size_t chunk = 0; chunk < 12; chunk++)
                replay(name, chunk);
        }
        l = e ? e + 1 : NULL;
    }
    free(index);
}

int main(void)
{
    test_d1_client();
    test_pipelining_client();
    test_extensions_client();
    test_lmtp_client();
    test_tls_auth_client();
    test_broken_client();
    test_arena_client();
    test_ehlo_failed_client();
    test_tls_injection_client();
    test_captures();
    return TEST_END();
}
