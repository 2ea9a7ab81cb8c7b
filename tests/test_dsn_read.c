/* Reading delivery status notifications (RFC 3464, RFC 6522, RFC 6533).
 *
 * Vectors: the delivery-status parts of the examples of RFC 3464 Appendix D
 * (D.1 simple fatal failure, D.2 multi-recipient, D.3 delayed delivery, D.4
 * delivery report with a gateway; RFC 1894 numbered them section 10), with
 * CRLF line ends as on the wire; variations of them; RFC 6533 utf-8
 * addresses (the decoded forms computed by hand from the code points). */
#include "harness.h"

#include <stdlib.h>

/* The content in a guarded copy (an over-read faults); views live until
 * done(). */
static const char *g_buf;
static size_t g_len;

static opes_status parse(const char *s, unsigned flags, opes_dsn_content *c, size_t *err)
{
    g_len = strlen(s);
    g_buf = g_len ? guarded_copy(s, g_len) : NULL;
    return opes_dsn_content_parse(g_buf, g_len, flags, c, err);
}

static void done(void)
{
    if (g_buf)
        guarded_free(g_buf);
    g_buf = NULL;
}

/* Decode a field's value into a static buffer, checking that the size query
 * gives the size the write takes and that a buffer one short is ENOSPC. */
static const char *dec(const opes_dsn_field *f)
{
    static char out[2048];
    size_t need = 0, n = 0;
    opes_status st = opes_dsn_value_decode(f, NULL, 0, &need);
    if (st != OPES_OK && st != OPES_ENOSPC)
        return "<error>";
    CHECK(st == OPES_ENOSPC || need == 0);
    st = opes_dsn_value_decode(f, out, sizeof out - 1, &n);
    CHECK_ST(st, OPES_OK);
    CHECK_EQ(n, need);
    if (need > 0) {
        size_t m = 0;
        CHECK_ST(opes_dsn_value_decode(f, out, need - 1, &m), OPES_ENOSPC);
        CHECK_EQ(m, need);
        CHECK_ST(opes_dsn_value_decode(f, out, need, &m), OPES_OK);
    }
    out[n] = '\0';
    return out;
}

#define CHECK_DEC(f, lit)                                                                          \
    do {                                                                                           \
        const char *d_ = dec(&(f));                                                                \
        CHECK_MEM(d_, strlen(d_), lit, strlen(lit));                                               \
    } while (0)

/* RFC 3464 D.1: a simple fatal delivery failure (the delivery-status part). */
static const char d1[] = "Reporting-MTA: dns; cs.utk.edu\r\n"
                         "\r\n"
                         "Original-Recipient: rfc822;louisl@larry.slip.umd.edu\r\n"
                         "Final-Recipient: rfc822;louisl@larry.slip.umd.edu\r\n"
                         "Action: failed\r\n"
                         "Status: 4.0.0\r\n"
                         "Diagnostic-Code: smtp; 426 connection timed out\r\n"
                         "Last-Attempt-Date: Thu, 7 Jul 1994 17:15:49 -0400\r\n";

/* RFC 3464 D.2: three recipients, a folded Diagnostic-Code, comments after
 * the status codes. */
static const char d2[] = "Reporting-MTA: dns; cs.utk.edu\r\n"
                         "\r\n"
                         "Original-Recipient: rfc822;arathib@vnet.ibm.com\r\n"
                         "Final-Recipient: rfc822;arathib@vnet.ibm.com\r\n"
                         "Action: failed\r\n"
                         "Status: 5.0.0 (permanent failure)\r\n"
                         "Diagnostic-Code: smtp;  550 'arathib@vnet.IBM.COM' is not a\r\n"
                         "    registered gateway user\r\n"
                         "Remote-MTA: dns; vnet.ibm.com\r\n"
                         "\r\n"
                         "Original-Recipient: rfc822;johnh@hpnjld.njd.hp.com\r\n"
                         "Final-Recipient: rfc822;johnh@hpnjld.njd.hp.com\r\n"
                         "Action: delayed\r\n"
                         "Status: 4.0.0 (hpnjld.njd.jp.com: host name lookup failure)\r\n"
                         "\r\n"
                         "Original-Recipient: rfc822;wsnell@sdcc13.ucsd.edu\r\n"
                         "Final-Recipient: rfc822;wsnell@sdcc13.ucsd.edu\r\n"
                         "Action: failed\r\n"
                         "Status: 5.0.0\r\n"
                         "Diagnostic-Code: smtp; 550 user unknown\r\n"
                         "Remote-MTA: dns; sdcc13.ucsd.edu\r\n";

/* RFC 3464 D.3: delayed delivery (Status before Action). */
static const char d3[] = "Reporting-MTA: dns; sun2.nsfnet-relay.ac.uk\r\n"
                         "\r\n"
                         "Final-Recipient: rfc822;thomas@de-montfort.ac.uk\r\n"
                         "Status: 4.0.0 (unknown temporary failure)\r\n"
                         "Action: delayed\r\n";

/* RFC 3464 D.4: a report translated by a gateway (foreign types). */
static const char d4[] = "Reporting-MTA: mailbus; SYS30\r\n"
                         "\r\n"
                         "Final-Recipient: unknown; nair_s\r\n"
                         "Status: 5.0.0 (unknown permanent failure)\r\n"
                         "Action: failed\r\n";

static void test_d1(void)
{
    opes_dsn_content c;
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    opes_datetime dt;
    CHECK_ST(parse(d1, 0, &c, NULL), OPES_OK);
    CHECK_EQ(c.recipients, 1);
    CHECK(c.msg.reporting_mta.present);
    CHECK_STR(c.msg.reporting_mta.type, "dns");
    CHECK_DEC(c.msg.reporting_mta, "cs.utk.edu");
    CHECK(!c.msg.arrival_date.present);
    CHECK(!c.msg.original_envelope_id.present);
    CHECK_EQ(c.msg.flags, 0);
    CHECK_EQ(c.msg.bypassable, -1);
    CHECK_ST(opes_dsn_recipients(&c, &it), OPES_OK);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_EQ(r.index, 0);
    CHECK_STR(r.original_recipient.type, "rfc822");
    CHECK_DEC(r.original_recipient, "louisl@larry.slip.umd.edu");
    CHECK_STR(r.final_recipient.type, "rfc822");
    CHECK_DEC(r.final_recipient, "louisl@larry.slip.umd.edu");
    CHECK_EQ(r.action_value, OPES_DSN_ACTION_FAILED);
    CHECK_DEC(r.action, "failed");
    CHECK_STR(r.status_code, "4.0.0");
    CHECK_EQ(r.status_class, 4);
    CHECK_EQ(r.status_subject, 0);
    CHECK_EQ(r.status_detail, 0);
    CHECK_STR(r.diagnostic_code.type, "smtp");
    CHECK_DEC(r.diagnostic_code, "426 connection timed out");
    CHECK_DEC(r.last_attempt_date, "Thu, 7 Jul 1994 17:15:49 -0400");
    CHECK_ST(
        opes_date_parse(r.last_attempt_date.raw.ptr, r.last_attempt_date.raw.len, 0, &dt, NULL),
        OPES_OK);
    CHECK_EQ(dt.year, 1994);
    CHECK_EQ(dt.hour, 17);
    CHECK(!r.remote_mta.present);
    CHECK_EQ(r.flags, 0);
    CHECK_EQ(r.extensions, 0);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_ENOTFOUND);
    done();
}

static void test_d2(void)
{
    opes_dsn_content c;
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    CHECK_ST(parse(d2, 0, &c, NULL), OPES_OK);
    CHECK_EQ(c.recipients, 3);
    CHECK_EQ(c.recipient_flags, 0);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.final_recipient, "arathib@vnet.ibm.com");
    CHECK_STR(r.status_code, "5.0.0");
    CHECK_DEC(r.status, "5.0.0 (permanent failure)");
    CHECK_DEC(r.diagnostic_code, "550 'arathib@vnet.IBM.COM' is not a    registered gateway user");
    CHECK_EQ(r.diagnostic_code.flags, 0);
    CHECK_STR(r.remote_mta.type, "dns");
    CHECK_DEC(r.remote_mta, "vnet.ibm.com");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_EQ(r.index, 1);
    CHECK_DEC(r.final_recipient, "johnh@hpnjld.njd.hp.com");
    CHECK_EQ(r.action_value, OPES_DSN_ACTION_DELAYED);
    CHECK_STR(r.status_code, "4.0.0");
    CHECK(!r.diagnostic_code.present);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_EQ(r.index, 2);
    CHECK_DEC(r.final_recipient, "wsnell@sdcc13.ucsd.edu");
    CHECK_DEC(r.diagnostic_code, "550 user unknown");
    CHECK_DEC(r.remote_mta, "sdcc13.ucsd.edu");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_ENOTFOUND);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_ENOTFOUND);
    done();
}

static void test_d3_d4(void)
{
    opes_dsn_content c;
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    CHECK_ST(parse(d3, 0, &c, NULL), OPES_OK);
    CHECK_DEC(c.msg.reporting_mta, "sun2.nsfnet-relay.ac.uk");
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_EQ(r.action_value, OPES_DSN_ACTION_DELAYED);
    CHECK_STR(r.status_code, "4.0.0");
    CHECK_EQ(r.flags, 0);
    done();

    CHECK_ST(parse(d4, 0, &c, NULL), OPES_OK);
    CHECK_STR(c.msg.reporting_mta.type, "mailbus");
    CHECK_DEC(c.msg.reporting_mta, "SYS30");
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_STR(r.final_recipient.type, "unknown");
    CHECK_DEC(r.final_recipient, "nair_s");
    CHECK_EQ(r.action_value, OPES_DSN_ACTION_FAILED);
    CHECK_EQ(r.status_class, 5);
    done();
}

/* Every per-message and per-recipient field of RFC 3464, extensions, the
 * OPES fields. */
static void test_all_fields(void)
{
    static const char s[] = "Original-Envelope-Id: QQ314159\r\n"
                            "Reporting-MTA: dns; mx.example.org\r\n"
                            "DSN-Gateway: dns; gw.example.org\r\n"
                            "Received-From-MTA: dns; client.example.net (192.0.2.1)\r\n"
                            "Arrival-Date: Mon, 23 Nov 2026 14:23:00 +0100\r\n"
                            "X-Postfix-Queue-ID: 4F2A11C0\r\n"
                            "X-OPES-System: http://opes.example.org/system\r\n"
                            "X-OPES-Service: http://opes.example.org/virus\r\n"
                            "X-OPES-Bypassable: no\r\n"
                            "\r\n"
                            "Original-Recipient: rfc822;Bob@Example.COM\r\n"
                            "Final-Recipient: rfc822; bob@example.com\r\n"
                            "Action: delayed\r\n"
                            "Status: 4.4.1\r\n"
                            "Remote-MTA: dns; mx2.example.com\r\n"
                            "Diagnostic-Code: smtp; 451 4.4.1 try later\r\n"
                            "Last-Attempt-Date: Mon, 23 Nov 2026 15:00:00 +0100\r\n"
                            "Final-Log-ID: 4F2A11C0\r\n"
                            "Will-Retry-Until: Fri, 27 Nov 2026 14:23:00 +0100\r\n"
                            "X-OPES-Service: http://opes.example.org/archive\r\n"
                            "X-OPES-Bypassable: YES (ask for it)\r\n"
                            "X-Foo-Extra: one\r\n"
                            "X-Foo-Other:\r\n"
                            " two\r\n";
    opes_dsn_content c;
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    opes_dsn_field f;
    size_t pos = 0;
    CHECK_ST(parse(s, 0, &c, NULL), OPES_OK);
    CHECK_DEC(c.msg.original_envelope_id, "QQ314159");
    CHECK_DEC(c.msg.dsn_gateway, "gw.example.org");
    CHECK_STR(c.msg.received_from_mta.type, "dns");
    CHECK_DEC(c.msg.received_from_mta, "client.example.net (192.0.2.1)");
    CHECK_DEC(c.msg.arrival_date, "Mon, 23 Nov 2026 14:23:00 +0100");
    CHECK_EQ(c.msg.arrival_date.flags, 0);
    CHECK_DEC(c.msg.opes_system, "http://opes.example.org/system");
    CHECK_DEC(c.msg.opes_service, "http://opes.example.org/virus");
    CHECK_EQ(c.msg.bypassable, 0);
    CHECK_EQ(c.msg.extensions, 1);
    CHECK_EQ(c.msg.flags, 0);
    /* the extension, through the field iterator */
    int seen = 0;
    while (opes_dsn_field_next(c.msg.block, c.flags, &pos, &f) == OPES_OK) {
        if (f.id == OPES_DSNF_EXTENSION) {
            CHECK_STR(f.name, "X-Postfix-Queue-ID");
            CHECK_DEC(f, "4F2A11C0");
            seen++;
        }
    }
    CHECK_EQ(seen, 1);
    CHECK_EQ(pos, c.msg.block.len);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.original_recipient, "Bob@Example.COM");
    CHECK_DEC(r.final_recipient, "bob@example.com");
    CHECK_DEC(r.remote_mta, "mx2.example.com");
    CHECK_DEC(r.final_log_id, "4F2A11C0");
    CHECK_DEC(r.will_retry_until, "Fri, 27 Nov 2026 14:23:00 +0100");
    CHECK_EQ(r.will_retry_until.flags, 0);
    CHECK_DEC(r.opes_service, "http://opes.example.org/archive");
    CHECK_EQ(r.bypassable, 1);
    CHECK_EQ(r.extensions, 2);
    CHECK_EQ(r.flags, 0);
    pos = 0;
    seen = 0;
    while (opes_dsn_field_next(r.block, c.flags, &pos, &f) == OPES_OK) {
        if (f.id == OPES_DSNF_EXTENSION && seen++ == 1) {
            CHECK_STR(f.name, "X-Foo-Other");
            CHECK_DEC(f, "two");
        }
    }
    CHECK_EQ(seen, 2);
    done();
    CHECK_STR(((opes_str){opes_dsn_field_name(OPES_DSNF_FINAL_LOG_ID), 12}), "Final-Log-ID");
    CHECK(opes_dsn_field_name(OPES_DSNF_EXTENSION) == NULL);
    CHECK(opes_dsn_field_name(OPES_DSNF__COUNT) == NULL);
    CHECK(opes_dsn_field_typed(OPES_DSNF_REMOTE_MTA));
    CHECK(!opes_dsn_field_typed(OPES_DSNF_STATUS));
}

/* What real MTAs vary and the ABNF allows: case, folding, comments, empty
 * lines, LF line ends, no final line end. */
static void test_tolerances(void)
{
    opes_dsn_content c;
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    size_t err = 0;
    static const char cased[] = "\r\n\r\nreporting-mta: DNS; mx.example.org\r\n"
                                "\r\n\r\n\r\n"
                                "FINAL-RECIPIENT: (the mailbox) RFC822 (type) ;\r\n"
                                "  bob@example.com\r\n"
                                "ACTION: (what) Failed (done)\r\n"
                                "status: 5.1.1 (bad mailbox)\r\n"
                                "Diagnostic-Code: SMTP; 550 5.1.1 <bob@example.com>:\r\n"
                                "\tRecipient address rejected\r\n"
                                "\r\n\r\n";
    CHECK_ST(parse(cased, 0, &c, NULL), OPES_OK);
    CHECK_STR(c.msg.reporting_mta.type, "DNS");
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_STR(r.final_recipient.type, "RFC822");
    CHECK_DEC(r.final_recipient, "bob@example.com");
    CHECK_EQ(r.action_value, OPES_DSN_ACTION_FAILED);
    CHECK_STR(r.status_code, "5.1.1");
    CHECK_DEC(r.diagnostic_code, "550 5.1.1 <bob@example.com>:\tRecipient address rejected");
    CHECK_EQ(r.flags, 0);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_ENOTFOUND);
    done();

    /* LF line ends: with the flag; without it, the header parser's status */
    static const char lf[] = "Reporting-MTA: dns; mx.example.org\n\n"
                             "Final-Recipient: rfc822; bob@example.com\n"
                             "Action: failed\nStatus: 5.0.0\n"
                             "Diagnostic-Code: smtp; 550 no\n such user\n";
    CHECK_ST(parse(lf, OPES_DSN_READ_LF, &c, NULL), OPES_OK);
    CHECK_EQ(c.recipients, 1);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.diagnostic_code, "550 no such user");
    done();
    CHECK_ST(parse(lf, 0, &c, &err), OPES_EBARE_LF);
    CHECK_EQ(err, 34);
    done();

    /* the body of a MIME part ends before the line end of the delimiter */
    static const char noeol[] = "Reporting-MTA: dns; a.example\r\n\r\n"
                                "Final-Recipient: rfc822; b@example.com\r\n"
                                "Action: failed\r\nStatus: 5.0.0 (x\r\n y)";
    CHECK_ST(parse(noeol, 0, &c, NULL), OPES_OK);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_STR(r.status_code, "5.0.0");
    CHECK_EQ(r.status.flags, OPES_DSN_FF_NO_EOL);
    CHECK_DEC(r.status, "5.0.0 (x y)");
    done();
    /* a line of white space only where a block starts (before the first,
     * or after a block's empty line): no field can be continued there, so
     * it is read as the empty line it looks like (a template's indent);
     * inside a block it stays what RFC 5322 4.2 (obs-FWS) makes it, a fold */
    static const char wsp[] = " \t\r\nReporting-MTA: dns; a.example\r\n\r\n"
                              "  \r\n"
                              "Final-Recipient: rfc822; b@example.com\r\n"
                              "Action: failed\r\nStatus: 5.0.0\r\n \t\r\n"
                              "Diagnostic-Code: smtp; 550 no\r\n"
                              "\r\n\t\r\n \r\n"
                              "Final-Recipient: rfc822; c@example.com\r\n"
                              "Action: failed\r\nStatus: 5.0.0\r\n\r\n  ";
    CHECK_ST(parse(wsp, 0, &c, &err), OPES_OK);
    CHECK_EQ(c.recipients, 2);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.final_recipient, "b@example.com");
    CHECK_DEC(r.status, "5.0.0");
    CHECK_DEC(r.diagnostic_code, "550 no");
    CHECK_EQ(r.flags, 0);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.final_recipient, "c@example.com");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_ENOTFOUND);
    done();
    static const char wsp_lf[] = "Reporting-MTA: dns; a.example\n\n \n"
                                 "Final-Recipient: rfc822; b@example.com\n"
                                 "Action: failed\nStatus: 5.0.0\n";
    CHECK_ST(parse(wsp_lf, OPES_DSN_READ_LF, &c, NULL), OPES_OK);
    CHECK_EQ(c.recipients, 1);
    done();
    /* without the LF flag a bare LF is still refused there */
    CHECK_ST(parse(wsp_lf, 0, &c, NULL), OPES_EBARE_LF);
    done();
}

/* What the ABNF does not allow: flagged on the block, or the parse fails. */
static void test_flags_and_errors(void)
{
    opes_dsn_content c;
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    size_t err = 0;
    static const char blocks[] = "DSN-Gateway: dns; gw.example\r\n"
                                 "Action: failed\r\n"
                                 "\r\n"
                                 "Action: failed\r\nStatus: 5.0.0\r\n"
                                 "\r\n"
                                 "Final-Recipient: rfc822 bob@example.com\r\n"
                                 "Action: bounced\r\nStatus: 5.01.1\r\n"
                                 "Final-Recipient: rfc822; other@example.com\r\n"
                                 "Last-Attempt-Date: yesterday\r\n"
                                 "X-OPES-System: http://x.example/\r\n"
                                 "X-OPES-Service: not a uri\r\n"
                                 "\r\n"
                                 "Final-Recipient: rfc822; c@example.com\r\n";
    CHECK_ST(parse(blocks, 0, &c, NULL), OPES_OK);
    CHECK_EQ(c.recipients, 3);
    CHECK_EQ(c.msg.flags, OPES_DSN_BF_NO_REPORTING_MTA | OPES_DSN_BF_MISPLACED);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_EQ(r.flags, OPES_DSN_BF_NO_FINAL_RECIPIENT);
    CHECK_ST(opes_dsn_value_decode(&r.final_recipient, NULL, 0, &err), OPES_ENOTFOUND);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_EQ(r.flags, OPES_DSN_BF_BAD_FIELD | OPES_DSN_BF_DUPLICATE | OPES_DSN_BF_MISPLACED);
    CHECK_EQ(r.final_recipient.flags, OPES_DSN_FF_BAD);
    CHECK_EQ(r.final_recipient.type.len, 0);
    CHECK_DEC(r.final_recipient, "rfc822 bob@example.com");
    CHECK_EQ(r.action.flags, OPES_DSN_FF_BAD);
    CHECK_EQ(r.action_value, OPES_DSN_ACTION_NONE);
    CHECK_EQ(r.status.flags, OPES_DSN_FF_BAD);
    CHECK_EQ(r.status_code.len, 0);
    CHECK_EQ(r.status_class, 0);
    CHECK_EQ(r.last_attempt_date.flags, OPES_DSN_FF_BAD);
    CHECK_EQ(r.opes_service.flags, OPES_DSN_FF_BAD);
    CHECK_DEC(r.opes_service, "not a uri");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_EQ(r.flags, OPES_DSN_BF_NO_ACTION | OPES_DSN_BF_NO_STATUS);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_ENOTFOUND);
    done();

    /* no recipient block; nothing at all */
    CHECK_ST(parse("Reporting-MTA: dns; a.example\r\n\r\n\r\n", 0, &c, &err), OPES_EBAD_DSN);
    CHECK_EQ(err, 35);
    CHECK_EQ(c.recipients, 0);
    done();
    CHECK_ST(parse("", 0, &c, &err), OPES_EBAD_DSN);
    CHECK_ST(parse("\r\n\r\n", 0, &c, &err), OPES_EBAD_DSN);
    done();
    /* lines that are not header fields */
    CHECK_ST(parse("Reporting-MTA: dns; a.example\r\n\r\nthis is text\r\n", 0, &c, &err),
             OPES_EBAD_HEADER);
    CHECK_EQ(err, 33);
    done();
    CHECK_ST(parse("Reporting-MTA: dns; a.example\r\n\r\nFinal Recipient: x\r\n", 0, &c, &err),
             OPES_EBAD_HEADER_NAME);
    CHECK_EQ(err, 39);
    done();
    CHECK_ST(parse("Reporting-MTA: dns; a\rb\r\n\r\nAction: failed\r\n", 0, &c, &err),
             OPES_EBARE_CR);
    CHECK_EQ(err, 21);
    done();
    CHECK_ST(parse("Reporting-MTA: dns; a\r\n\r\n  Action: failed\r\n", 0, &c, &err),
             OPES_EBAD_HEADER);
    done();
    /* 8-bit: refused by default, UTF-8 with the flag (a global report) */
    static const char u8[] = "Reporting-MTA: dns; a.example\r\n\r\n"
                             "Final-Recipient: utf-8; j\xC3\xB6rg@example.com\r\n"
                             "Action: failed\r\nStatus: 5.1.1\r\n"
                             "Diagnostic-Code: smtp; 550 unbekannt: j\xC3\xB6rg\r\n";
    CHECK_ST(parse(u8, 0, &c, &err), OPES_EBAD_CHAR);
    CHECK_EQ(err, 58);
    done();
    CHECK_ST(parse(u8, OPES_DSN_READ_UTF8, &c, &err), OPES_OK);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.final_recipient, "j\xC3\xB6rg@example.com");
    CHECK_DEC(r.diagnostic_code, "550 unbekannt: j\xC3\xB6rg");
    done();
    CHECK_ST(
        parse("Reporting-MTA: dns; a\xFF\r\n\r\nAction: failed\r\n", OPES_DSN_READ_UTF8, &c, &err),
        OPES_EBAD_UTF8);
    done();
    CHECK_ST(
        parse("Reporting-MTA: dns; a\xFF\r\n\r\nAction: failed\r\n", OPES_DSN_READ_8BIT, &c, &err),
        OPES_OK);
    done();
    /* bad arguments */
    CHECK_ST(opes_dsn_content_parse(NULL, 1, 0, &c, NULL), OPES_EINVAL);
    CHECK_ST(opes_dsn_content_parse("x", 1, 0, NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_dsn_content_parse("x", 1, 1u << 9, &c, NULL), OPES_EINVAL);
    CHECK_ST(opes_dsn_recipient_next(NULL, &r), OPES_EINVAL);
}

/* RFC 6533 3: the utf-8 address type in its three forms. */
static void test_utf8_addresses(void)
{
    opes_dsn_content c;
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    static const char s[] = "Reporting-MTA: dns; a.example\r\n\r\n"
                            /* utf-8-addr-xtext: U+70AE is E7 82 AE */
                            "Original-Recipient: utf-8; \\x{70AE}@example.com\r\n"
                            "Final-Recipient: UTF-8;j\\x{F6}rg@example.com\r\n"
                            "Action: failed\r\nStatus: 5.1.1\r\n"
                            "\r\n"
                            /* the plain utf-8-address form (a "+" is no QCHAR) */
                            "Final-Recipient: utf-8; a+tag@example.com\r\n"
                            "Action: delivered\r\nStatus: 2.0.0\r\n"
                            "\r\n"
                            /* malformed: a QCHAR escaped (RFC 6533 HEXPOINT) */
                            "Final-Recipient: utf-8; \\x{41}b@example.com\r\n"
                            "Action: failed\r\nStatus: 5.1.1\r\n"
                            "\r\n"
                            /* comments around the address (RFC 3464 2.1: RFC 822
                             * field rules): kept as written, as for rfc822, the
                             * address between them decoded */
                            "Original-Recipient: utf-8; (first) j\\x{F6}rg@example.com\r\n"
                            "Final-Recipient: utf-8; j\\x{F6}rg@example.com (the \\x{F6} one)\r\n"
                            "Action: failed\r\nStatus: 5.1.1\r\n"
                            "\r\n"
                            "Original-Recipient: utf-8; \\x{41}b@example.com (bad)\r\n"
                            "Final-Recipient: utf-8; j\\x{F6}rg@example.com\r\n"
                            " \t(folded)\r\n"
                            "Action: failed\r\nStatus: 5.1.1\r\n"
                            "\r\n"
                            /* unitext holding "(" (a QCHAR) with escapes after
                             * it, as the builder writes "a\\b@c(d\te)": read as
                             * a whole, not as an address and a comment; an
                             * unbalanced "(" is no comment either */
                            "Original-Recipient: utf-8;a\\x{5C}b@c(d\\x{09}e)\r\n"
                            "Final-Recipient: utf-8;a\\x{5C}b@c(d\\x{09}e\r\n"
                            "Action: failed\r\nStatus: 5.1.1\r\n";
    CHECK_ST(parse(s, 0, &c, NULL), OPES_OK);
    CHECK_EQ(c.recipients, 6);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.original_recipient, "\xE7\x82\xAE@example.com");
    CHECK_DEC(r.final_recipient, "j\xC3\xB6rg@example.com");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.final_recipient, "a+tag@example.com");
    CHECK_EQ(r.action_value, OPES_DSN_ACTION_DELIVERED);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    size_t n = 0;
    char out[64];
    CHECK_ST(opes_dsn_value_decode(&r.final_recipient, out, sizeof out, &n), OPES_EBAD_UTF8ADDR);
    CHECK_EQ(n, 0);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.original_recipient, "(first) j\xC3\xB6rg@example.com");
    CHECK_DEC(r.final_recipient, "j\xC3\xB6rg@example.com (the \\x{F6} one)");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_ST(opes_dsn_value_decode(&r.original_recipient, out, sizeof out, &n), OPES_EBAD_UTF8ADDR);
    CHECK_DEC(r.final_recipient, "j\xC3\xB6rg@example.com \t(folded)");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.original_recipient, "a\\b@c(d\te)");
    CHECK_DEC(r.final_recipient, "a\\b@c(d\te");
    done();
    /* "(" and ")" are QCHARs (RFC 6533 3: QCHAR = %x21-2a / ...), with no
     * \x{} form of their own (HEXPOINT): a quoted local part that holds
     * them is written with them as they are, and an escape after them is
     * still the address's; a comment glued to the address (no WSP before
     * it) that would not decode with it is still a comment */
    static const char paren[] = "Reporting-MTA: dns; a.example\r\n"
                                "\r\n"
                                "Original-Recipient: utf-8; \"a(b)\\x{F6}\"@example.com\r\n"
                                "Final-Recipient: utf-8; j\\x{F6}rg@example.com(a+b)\r\n"
                                "Action: failed\r\nStatus: 5.1.1\r\n"
                                "\r\n"
                                /* no address with comments: an unterminated
                                 * one; a quoted space (plain form, as is) */
                                "Original-Recipient: utf-8; (x j\\x{F6}rg@example.com\r\n"
                                "Final-Recipient: utf-8; \"j\xC3\xB6 b\"@example.com\r\n"
                                "Action: failed\r\nStatus: 5.1.1\r\n";
    CHECK_ST(parse(paren, OPES_DSN_READ_UTF8, &c, NULL), OPES_OK);
    opes_dsn_recipients(&c, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_DEC(r.original_recipient, "\"a(b)\xC3\xB6\"@example.com");
    CHECK_DEC(r.final_recipient, "j\xC3\xB6rg@example.com(a+b)");
    CHECK_ST(opes_dsn_recipient_next(&it, &r), OPES_OK);
    CHECK_ST(opes_dsn_value_decode(&r.original_recipient, out, sizeof out, &n), OPES_EBAD_UTF8ADDR);
    CHECK_DEC(r.final_recipient, "\"j\xC3\xB6 b\"@example.com");
    done();
}

/* The recipient limit, and many blocks at once. */
static void test_limit(void)
{
    static const char head[] = "Reporting-MTA: dns; a.example\r\n";
    static const char blk[] = "\r\nFinal-Recipient: rfc822; x@example.com\r\n"
                              "Action: failed\r\nStatus: 5.0.0\r\n";
    size_t hl = strlen(head), bl = strlen(blk), n = OPES_DSN_MAX_RECIPIENTS + 1;
    char *buf = malloc(hl + bl * n);
    opes_dsn_content c;
    size_t err = 0;
    CHECK(buf != NULL);
    if (!buf)
        return;
    memcpy(buf, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(buf + hl + i * bl, blk, bl);
    CHECK_ST(opes_dsn_content_parse(buf, hl + bl * n, 0, &c, &err), OPES_ETOO_MANY_ITEMS);
    CHECK_EQ(err, hl + bl * (n - 1) + 2);
    CHECK_ST(opes_dsn_content_parse(buf, hl + bl * (n - 1), 0, &c, &err), OPES_OK);
    CHECK_EQ(c.recipients, OPES_DSN_MAX_RECIPIENTS);
    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    size_t k = 0;
    opes_dsn_recipients(&c, &it);
    while (opes_dsn_recipient_next(&it, &r) == OPES_OK)
        k++;
    CHECK_EQ(k, OPES_DSN_MAX_RECIPIENTS);
    free(buf);
}

/* ---- whole reports (the fixtures of tests/vectors/dsn, README there) ---- */

static opes_mime_walker *g_walker;

static opes_status report(const char *name, unsigned flags, char *scratch, size_t cap,
                          opes_dsn_read_report *r, size_t *need, const char **msg)
{
    char path[256];
    size_t n = 0;
    snprintf(path, sizeof path, "tests/vectors/dsn/%s", name);
    char *file = test_read_file(path, &n);
    CHECK(file != NULL && n > 0);
    if (!file || n == 0)
        return OPES_EINVAL;
    /* a guarded copy: a read past the message faults */
    *msg = guarded_copy(file, n);
    free(file);
    return opes_dsn_message_parse(g_walker, *msg, n, flags, scratch, cap, r, need);
}

static int ends_with(opes_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.ptr + s.len - n, lit, n) == 0;
}

static int starts_with(opes_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.ptr, lit, n) == 0;
}

/* the names of the returned header fields, joined by "|" */
static const char *returned_names(const opes_dsn_read_report *r)
{
    static char out[512];
    opes_header_field h;
    size_t pos = 0, o = 0;
    out[0] = '\0';
    while (opes_dsn_returned_field_next(r, &pos, &h) == OPES_OK &&
           o + h.name.len + 2 < sizeof out) {
        if (o)
            out[o++] = '|';
        memcpy(out + o, h.name.ptr, h.name.len);
        o += h.name.len;
        out[o] = '\0';
    }
    return out;
}

static void test_report_rfc3464(void)
{
    opes_dsn_read_report r;
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    const char *msg = NULL;
    CHECK_ST(report("rfc3464-d1.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK(r.found);
    CHECK_STR(r.report_type, "delivery-status");
    /* the returned part is the RFC's placeholder, not a message: a line that
     * is no header field ends the enclosed message's (empty) header section
     * and is its body (OPES_MIME_PF_NO_EMPTY_LINE), as Python's email reads
     * it; the walk goes on to the end */
    CHECK_EQ(r.flags, 0);
    CHECK(starts_with(r.human, "   The original message was received"));
    CHECK(ends_with(r.human, "Message will be deleted from queue\r\n"));
    CHECK_EQ(r.returned_kind, OPES_DSN_RETURNED_MESSAGE);
    CHECK(strcmp(r.returned_type, "message/rfc822") == 0);
    CHECK_DEC(r.status.msg.reporting_mta, "cs.utk.edu");
    CHECK_EQ(r.status.recipients, 1);
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_DEC(rc.final_recipient, "louisl@larry.slip.umd.edu");
    CHECK_DEC(rc.diagnostic_code, "426 connection timed out");
    guarded_free(msg);

    CHECK_ST(report("rfc3464-d2.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK_EQ(r.status.recipients, 3);
    CHECK_EQ(r.status.recipient_flags, 0);
    CHECK(starts_with(r.human, "   ----- The following addresses"));
    guarded_free(msg);
}

/* A returned message the walker refuses (a bare CR in its header): the
 * report is kept, flagged, with the walker's status. */
static void test_report_walk_error(void)
{
    opes_dsn_read_report r;
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    const char *msg = NULL;
    CHECK_ST(report("walk-error.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK(r.found);
    CHECK_EQ(r.flags, OPES_DSN_REPORT_WALK_ERROR);
    CHECK_ST(r.walk_status, OPES_EBARE_CR);
    CHECK_EQ(r.status.recipients, 1);
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_DEC(rc.final_recipient, "louisl@larry.slip.umd.edu");
    CHECK_EQ(r.returned_kind, OPES_DSN_RETURNED_MESSAGE);
    guarded_free(msg);
    /* a whole report: no walker status */
    CHECK_ST(report("rfc3464-d1.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK_EQ(r.flags & OPES_DSN_REPORT_WALK_ERROR, 0);
    CHECK_ST(r.walk_status, OPES_OK);
    guarded_free(msg);
}

static void test_report_mtas(void)
{
    opes_dsn_read_report r;
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    opes_dsn_field f;
    const char *msg = NULL;
    size_t pos = 0;

    /* Postfix-shaped, LF line ends: refused without OPES_DSN_READ_LF */
    CHECK_ST(report("postfix-lf.eml", 0, NULL, 0, &r, NULL, &msg), OPES_EBARE_LF);
    CHECK(!r.found);
    guarded_free(msg);
    CHECK_ST(report("postfix-lf.eml", OPES_DSN_READ_LF, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK_EQ(r.flags, 0);
    CHECK_EQ(r.returned_kind, OPES_DSN_RETURNED_HEADERS);
    CHECK(strcmp(r.returned_type, "text/rfc822-headers") == 0);
    CHECK(strcmp(returned_names(&r), "Return-Path|Received|From|To|Subject|Message-ID|Date") == 0);
    CHECK(starts_with(r.human, "This is the mail system at host mx.example.org."));
    CHECK_DEC(r.status.msg.arrival_date, "Mon, 23 Nov 2026 14:23:00 +0100 (CET)");
    CHECK_EQ(r.status.msg.arrival_date.flags, 0);
    CHECK_EQ(r.status.msg.extensions, 2);
    CHECK_ST(opes_dsn_field_next(r.status.msg.block, r.status.flags, &pos, &f), OPES_OK);
    CHECK_EQ(f.id, OPES_DSNF_REPORTING_MTA);
    CHECK_ST(opes_dsn_field_next(r.status.msg.block, r.status.flags, &pos, &f), OPES_OK);
    CHECK_STR(f.name, "X-Postfix-Queue-ID");
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_DEC(rc.diagnostic_code, "550 5.1.1 <bob@example.com>: Recipient address rejected:    "
                                  "User unknown in virtual mailbox table");
    CHECK_STR(rc.status_code, "5.1.1");
    guarded_free(msg);

    /* Exim-shaped: Action before Final-Recipient, the message returned */
    CHECK_ST(report("exim.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK_EQ(r.flags, 0);
    CHECK_EQ(r.returned_kind, OPES_DSN_RETURNED_MESSAGE);
    CHECK(starts_with(r.returned, "Return-path: <alice@example.org>\r\n"));
    CHECK(ends_with(r.returned, "\r\nHello.\r\n"));
    CHECK(starts_with(r.returned_header, "Return-path:"));
    CHECK(ends_with(r.returned_header, "+0000\r\n\r\n"));
    CHECK(strcmp(returned_names(&r), "Return-path|Received|To|Subject|Message-Id|From|Date") == 0);
    CHECK(ends_with(r.human, "Recipient address rejected: User unknown\r\n"));
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_EQ(rc.flags, 0);
    CHECK_DEC(rc.final_recipient, "nobody@example.com");
    CHECK_DEC(rc.remote_mta, "mx.example.com");
    guarded_free(msg);
}

static void test_report_global_opes(void)
{
    opes_dsn_read_report r;
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    opes_header_field h;
    const char *msg = NULL;
    size_t pos = 0;

    CHECK_ST(report("global.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK_EQ(r.flags, OPES_DSN_REPORT_GLOBAL);
    CHECK_EQ(r.status.flags, OPES_DSN_READ_UTF8);
    CHECK(strcmp(r.returned_type, "message/global-headers") == 0);
    CHECK_EQ(r.returned_kind, OPES_DSN_RETURNED_HEADERS);
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    /* U+70AE is E7 82 AE, in its xtext form and raw */
    CHECK_DEC(rc.original_recipient, "\xE7\x82\xAE@example.com");
    CHECK_DEC(rc.final_recipient, "\xE7\x82\xAE@example.com");
    CHECK_ST(opes_dsn_returned_field_next(&r, &pos, &h), OPES_OK);
    CHECK_STR(h.name, "From");
    CHECK_STR(h.raw, " J\xC3\xB6rg <j\xC3\xB6rg@example.org>");
    guarded_free(msg);

    CHECK_ST(report("opes.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK_DEC(r.status.msg.opes_system, "http://opes.example.net/sys?site=7654");
    CHECK_DEC(r.status.msg.opes_service, "http://scan.example.net/av");
    CHECK_EQ(r.status.msg.bypassable, 0);
    CHECK_DEC(r.status.msg.original_envelope_id, "QQ314159");
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_DEC(rc.opes_service, "http://scan.example.net/av");
    CHECK_EQ(rc.bypassable, 0);
    CHECK_STR(rc.status_code, "5.7.1");
    CHECK(strcmp(returned_names(&r), "OPES-System|OPES-Via|Received|From|To|Subject|Message-ID") ==
          0);
    /* the trace block of the returned headers reads back with the trace
     * reader's own parser */
    pos = 0;
    CHECK_ST(opes_dsn_returned_field_next(&r, &pos, &h), OPES_OK);
    CHECK_EQ(h.lines, 2);
    CHECK_ST(opes_dsn_returned_field_next(&r, &pos, &h), OPES_OK);
    CHECK_STR(h.name, "OPES-Via");
    {
        opes_trace_cursor cur = {0, 0};
        opes_trace_entry e;
        size_t n = 0;
        while (opes_trace_entry_next(h.raw.ptr, h.raw.len, &cur, &e, NULL) == OPES_OK)
            n++;
        CHECK_EQ(n, 3);
        CHECK_STR(e.id, "http://scan.example.net/av");
    }
    guarded_free(msg);
}

static void test_report_nested_encoded(void)
{
    /* the delivery-status part of nested-base64.eml, decoded */
    static const char ds[] = "Reporting-MTA: dns; mx.example.org\r\n\r\n"
                             "Final-Recipient: rfc822; carol@example.com\r\n"
                             "Action: delayed\r\nStatus: 4.4.7\r\n"
                             "Will-Retry-Until: Fri, 27 Nov 2026 14:23:00 +0100\r\n";
    opes_dsn_read_report r;
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    const char *msg = NULL;
    char scratch[512];
    size_t need = 0;
    CHECK_ST(report("nested-base64.eml", 0, NULL, 0, &r, &need, &msg), OPES_ENOSPC);
    CHECK_EQ(need, strlen(ds));
    CHECK(r.found);
    guarded_free(msg);
    CHECK_ST(report("nested-base64.eml", 0, scratch, need - 1, &r, &need, &msg), OPES_ENOSPC);
    CHECK_EQ(need, strlen(ds));
    guarded_free(msg);
    CHECK_ST(report("nested-base64.eml", 0, scratch, need, &r, &need, &msg), OPES_OK);
    CHECK_EQ(need, 0);
    CHECK_EQ(r.flags, OPES_DSN_REPORT_NESTED | OPES_DSN_REPORT_DECODED);
    CHECK_MEM(r.status.content.ptr, r.status.content.len, ds, strlen(ds));
    CHECK(r.status.content.ptr == scratch);
    CHECK(starts_with(r.human, "Delivery to carol@example.com is delayed."));
    CHECK_EQ(r.returned_kind, OPES_DSN_RETURNED_NONE);
    CHECK_EQ(r.returned_type[0], '\0');
    size_t pos = 0;
    opes_header_field h;
    CHECK_ST(opes_dsn_returned_field_next(&r, &pos, &h), OPES_ENOTFOUND);
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_EQ(rc.action_value, OPES_DSN_ACTION_DELAYED);
    CHECK_DEC(rc.will_retry_until, "Fri, 27 Nov 2026 14:23:00 +0100");
    guarded_free(msg);
}

/* Larger encoded parts: decoded in pieces (tests/vectors/dsn/README.md). */
static void test_report_encoded_large(void)
{
    opes_dsn_read_report r;
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    opes_dsn_field f;
    const char *msg = NULL;
    static char scratch[8192];
    size_t need = 0, k = 0, pos = 0;
    CHECK_ST(report("base64-many.eml", 0, NULL, 0, &r, &need, &msg), OPES_ENOSPC);
    /* 2 per-message lines (83 octets) and 40 blocks of 147 (the blank line included) */
    CHECK_EQ(need, 83 + 40 * 147);
    guarded_free(msg);
    CHECK_ST(report("base64-many.eml", 0, scratch, sizeof scratch, &r, &need, &msg), OPES_OK);
    CHECK_EQ(r.flags, OPES_DSN_REPORT_DECODED);
    CHECK_EQ(r.status.content.len, 83 + 40 * 147);
    CHECK_EQ(r.status.recipients, 40);
    opes_dsn_recipients(&r.status, &it);
    while (opes_dsn_recipient_next(&it, &rc) == OPES_OK) {
        char want[64];
        snprintf(want, sizeof want, "user%02u@example.com", (unsigned)k++);
        CHECK_DEC(rc.final_recipient, want);
        CHECK_EQ(rc.flags, 0);
    }
    CHECK_EQ(k, 40);
    guarded_free(msg);

    CHECK_ST(report("qp.eml", 0, scratch, sizeof scratch, &r, &need, &msg), OPES_OK);
    CHECK_EQ(r.flags, OPES_DSN_REPORT_DECODED);
    CHECK_ST(opes_dsn_field_next(r.status.msg.block, r.status.flags, &pos, &f), OPES_OK);
    CHECK_ST(opes_dsn_field_next(r.status.msg.block, r.status.flags, &pos, &f), OPES_OK);
    CHECK_STR(f.name, "X-Note");
    CHECK_DEC(f, "a=b and a long line that quoted-printable has to break somewhere past "
                 "seventy-six characters");
    opes_dsn_recipients(&r.status, &it);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_STR(rc.status_code, "5.2.2");
    guarded_free(msg);
}

/* A multipart/report with no delivery-status part inside a DSN's report
 * (an MDN as the DSN's first part): the inner one is tried and, when it
 * closes without one, the outer report is still read. Python's email
 * package reads the outer multipart/report with its delivery-status part
 * (get_param("report-type") == "delivery-status"). */
static void test_report_inner_candidate(void)
{
    static const char m1[] =
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        " boundary=O\r\n\r\n--O\r\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=I\r\n"
        "\r\n--I\r\nContent-Type: text/plain\r\n\r\nmdn\r\n--I\r\n"
        "Content-Type: message/disposition-notification\r\n\r\n"
        "Final-Recipient: rfc822; x@example\r\nDisposition: manual-action/MDN-sent-manually;"
        " displayed\r\n--I--\r\n"
        "--O\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@example\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n--O--\r\n";
    opes_dsn_read_report r;
    const char *g = guarded_copy(m1, strlen(m1));
    CHECK_ST(opes_dsn_message_parse(g_walker, g, strlen(m1), 0, NULL, 0, &r, NULL), OPES_OK);
    CHECK(r.found);
    CHECK_STR(r.report_type, "delivery-status");
    CHECK_EQ(r.flags, 0);
    CHECK_EQ(r.status.recipients, 1);
    CHECK_STR(r.status.msg.reporting_mta.type, "dns");
    /* the human part is the outer report's first part, the inner report (up
     * to its last body byte, as for any multipart human part) */
    CHECK(starts_with(r.human, "--I\r\n") && ends_with(r.human, " displayed"));
    guarded_free(g);

    /* the inner report as the last thing inside the outer's human part: the
     * human part still reaches past it */
    static const char m2[] =
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        " boundary=O\r\n\r\n--O\r\nContent-Type: multipart/mixed; boundary=A\r\n\r\n"
        "--A\r\nContent-Type: text/plain\r\n\r\nalt\r\n--A\r\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=I\r\n"
        "\r\n--I\r\nContent-Type: text/plain\r\n\r\nmdn\r\n--I\r\n"
        "Content-Type: message/disposition-notification\r\n\r\n"
        "Final-Recipient: rfc822; x@example\r\nDisposition: manual-action/MDN-sent-manually;"
        " displayed\r\n--I--\r\n--A--\r\n"
        "--O\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@example\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n--O--\r\n";
    g = guarded_copy(m2, strlen(m2));
    CHECK_ST(opes_dsn_message_parse(g_walker, g, strlen(m2), 0, NULL, 0, &r, NULL), OPES_OK);
    CHECK_STR(r.report_type, "delivery-status");
    CHECK_EQ(r.status.recipients, 1);
    CHECK(starts_with(r.human, "--A\r\n") && ends_with(r.human, " displayed"));
    guarded_free(g);
}

/* A second Content-Type field in the report's header section: the MIME
 * walker reads the first (its boundary is used), and so does Python's email
 * package (get_param("report-type") gives "delivery-status"); the
 * report-type must come from the same field. */
static void test_report_type_first_field(void)
{
    static const char m[] =
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        " boundary=O\r\nContent-Type: text/plain; report-type=evil\r\n\r\n"
        "--O\r\nContent-Type: text/plain\r\n\r\nx\r\n"
        "--O\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@example\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n--O--\r\n";
    opes_dsn_read_report r;
    const char *g = guarded_copy(m, strlen(m));
    CHECK_ST(opes_dsn_message_parse(g_walker, g, strlen(m), 0, NULL, 0, &r, NULL), OPES_OK);
    CHECK_STR(r.report_type, "delivery-status");
    CHECK_EQ(r.flags, 0);
    guarded_free(g);
}

static void test_report_not_dsn(void)
{
    opes_dsn_read_report r;
    const char *msg = NULL;
    /* a disposition notification is a multipart/report, not a DSN */
    CHECK_ST(report("mdn.eml", 0, NULL, 0, &r, NULL, &msg), OPES_ENOTFOUND);
    CHECK(!r.found);
    guarded_free(msg);
    /* ... but one that carries a DSN: the inner report is read */
    CHECK_ST(report("mdn-carrying-dsn.eml", 0, NULL, 0, &r, NULL, &msg), OPES_OK);
    CHECK_EQ(r.flags, OPES_DSN_REPORT_NESTED);
    CHECK_STR(r.report_type, "delivery-status");
    CHECK_EQ(r.status.recipients, 1);
    CHECK(strcmp(returned_names(&r), "Return-path|Received|To|Subject|Message-Id|From|Date") == 0);
    guarded_free(msg);
    /* text that looks like delivery-status content, in a plain message */
    CHECK_ST(report("plain.eml", 0, NULL, 0, &r, NULL, &msg), OPES_ENOTFOUND);
    guarded_free(msg);
    CHECK_ST(opes_dsn_message_parse(g_walker, NULL, 0, 0, NULL, 0, &r, NULL), OPES_ENOTFOUND);
    CHECK_ST(opes_dsn_message_parse(NULL, "x", 1, 0, NULL, 0, &r, NULL), OPES_EINVAL);
    CHECK_ST(opes_dsn_message_parse(g_walker, "x", 1, 0, NULL, 1, &r, NULL), OPES_EINVAL);
    CHECK_ST(opes_dsn_message_parse(g_walker, "x", 1, 1u << 7, NULL, 0, &r, NULL), OPES_EINVAL);

    /* a report whose delivery-status part is malformed: found, and the
     * content parser's status */
    static const char bad[] = "Content-Type: multipart/report; report-type=\"delivery-status\";"
                              " boundary=b\r\n\r\n--b\r\n\r\nhuman\r\n--b\r\n"
                              "Content-Type: message/delivery-status\r\n\r\n"
                              "Reporting-MTA: dns; x.example\r\n\r\n--b--\r\n";
    const char *g = guarded_copy(bad, strlen(bad));
    CHECK_ST(opes_dsn_message_parse(g_walker, g, strlen(bad), 0, NULL, 0, &r, NULL), OPES_EBAD_DSN);
    CHECK(r.found);
    guarded_free(g);
    /* the same with a valid recipient block: a quoted report-type */
    static const char good[] = "Content-Type: multipart/report; report-type=\"delivery-status\";"
                               " boundary=b\r\n\r\n--b\r\n\r\nhuman\r\n--b\r\n"
                               "Content-Type: message/delivery-status\r\n\r\n"
                               "Reporting-MTA: dns; x.example\r\n\r\n"
                               "Final-Recipient: rfc822; a@example\r\nAction: failed\r\n"
                               "Status: 5.0.0\r\n--b--\r\n";
    g = guarded_copy(good, strlen(good));
    CHECK_ST(opes_dsn_message_parse(g_walker, g, strlen(good), 0, NULL, 0, &r, NULL), OPES_OK);
    CHECK_STR(r.report_type, "delivery-status");
    CHECK_EQ(r.flags, 0);
    CHECK_STR(r.human, "human");
    CHECK_EQ(r.status.recipients, 1);
    guarded_free(g);
}

int main(void)
{
    test_d1();
    test_d2();
    test_d3_d4();
    test_all_fields();
    test_tolerances();
    test_flags_and_errors();
    test_utf8_addresses();
    test_limit();
    CHECK_ST(opes_mime_walker_new(&g_walker, NULL), OPES_OK);
    test_report_rfc3464();
    test_report_mtas();
    test_report_global_opes();
    test_report_nested_encoded();
    test_report_encoded_large();
    test_report_not_dsn();
    test_report_walk_error();
    test_report_inner_candidate();
    test_report_type_first_field();
    opes_mime_walker_free(g_walker);
    return TEST_END();
}
