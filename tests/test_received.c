/* Received trace fields: parse (RFC 5321 4.4 Stamp, tolerant and strict),
 * build, WITH protocol types (RFC 3848 2, RFC 6531 4.3).
 * Expectations: RFC 5322 Appendix A.4 (quoted), and Received fields in the
 * formats Postfix, Exim, Sendmail, Microsoft Exchange / Office 365, Gmail
 * and qmail write. Those MTA fixtures are HAND-RECONSTRUCTED samples of the
 * formats (host names, ids and addresses are documentation values), written
 * from the MTAs' documented header templates and commonly seen headers, not
 * copied from real messages. */
#include "harness.h"

static opes_status parse(const char *s, unsigned flags, opes_received *r, size_t *err)
{
    size_t n = strlen(s);
    const char *g = guarded_copy(s, n);
    opes_status st = opes_received_parse(g, n, flags, r, err);
    /* the views point into g: compare them before freeing by copying out */
    static char keep[4096];
    if (n < sizeof keep) {
        memcpy(keep, g, n);
        /* rebase every view onto keep */
        opes_str *v[] = {&r->from,         &r->from_comment, &r->from_rdns, &r->from_ip,
                         &r->by,           &r->by_comment,   &r->via,       &r->with,
                         &r->with_comment, &r->id,           &r->for_path,  &r->envelope_from,
                         &r->extra_name,   &r->extra_value,  &r->date_raw};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            if (v[k]->ptr)
                v[k]->ptr = keep + (v[k]->ptr - g);
    }
    guarded_free(g);
    return st;
}

static void test_rfc5322_a4(void)
{
    opes_received r;
    size_t err = 1;
    /* RFC 5322 A.4 "Messages with Trace Fields":
     *   Received: from x.y.test
     *      by example.net
     *      via TCP
     *      with ESMTP
     *      id ABC12345
     *      for <mary@example.net>;  21 Nov 1997 10:05:43 -0600
     *   Received: from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600 */
    const char *a = " from x.y.test\r\n   by example.net\r\n   via TCP\r\n   with ESMTP\r\n"
                    "   id ABC12345\r\n   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600\r\n";
    CHECK_ST(parse(a, OPES_RECEIVED_STRICT, &r, &err), OPES_OK);
    CHECK_EQ(err, 0);
    CHECK_STR(r.from, "x.y.test");
    CHECK_STR(r.by, "example.net");
    CHECK_STR(r.via, "TCP");
    CHECK_STR(r.with, "ESMTP");
    CHECK_STR(r.id, "ABC12345");
    CHECK_STR(r.for_path, "<mary@example.net>");
    CHECK_STR(r.date_raw, "21 Nov 1997 10:05:43 -0600");
    CHECK_ST(r.date_status, OPES_OK);
    CHECK_EQ(r.date.year, 1997);
    CHECK_EQ(r.date.hour, 10);
    CHECK_EQ(r.date.zone, -360);
    CHECK_EQ(r.flags, 0);
    CHECK_EQ(r.from_comment.len, 0);
    CHECK(r.from_comment.ptr == NULL);
    CHECK_EQ(r.extra_count, 0);
    CHECK_ST(parse(" from node.example by x.y.test; 21 Nov 1997 10:01:22 -0600",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_STR(r.from, "node.example");
    CHECK_STR(r.by, "x.y.test");
    CHECK_EQ(r.date.minute, 1);
    CHECK_EQ(r.flags, 0);
    /* keywords in any case (ABNF strings) */
    CHECK_ST(parse("FROM node.example By x.y.test; 21 Nov 1997 10:01:22 -0600",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
}

static void test_postfix(void)
{
    opes_received r;
    /* Postfix smtpd, TLS, with its "(using ...)" and certificate comments */
    const char *pf =
        "from mail.example.com (mail.example.com [192.0.2.1])\r\n"
        "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
        "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n"
        "\t(No client certificate requested)\r\n"
        "\tby mx.example.org (Postfix) with ESMTPS id 4Xyz1234Abz\r\n"
        "\tfor <bob@example.org>; Mon, 23 Nov 2026 14:23:00 +0100 (CET)";
    CHECK_ST(parse(pf, OPES_RECEIVED_STRICT, &r, NULL), OPES_OK);
    CHECK_ST(parse(pf, 0, &r, NULL), OPES_OK);
    CHECK_STR(r.from, "mail.example.com");
    CHECK_STR(r.from_comment, "mail.example.com [192.0.2.1]");
    CHECK_STR(r.from_rdns, "mail.example.com");
    CHECK_STR(r.from_ip, "[192.0.2.1]");
    CHECK_STR(r.by, "mx.example.org");
    CHECK_STR(r.by_comment, "Postfix");
    CHECK_STR(r.with, "ESMTPS");
    CHECK_STR(r.id, "4Xyz1234Abz");
    CHECK_STR(r.for_path, "<bob@example.org>");
    CHECK_STR(r.date_raw, "Mon, 23 Nov 2026 14:23:00 +0100 (CET)");
    CHECK_EQ(r.date.weekday, 1);
    CHECK_EQ(r.date.zone, 60);
    CHECK_EQ(r.flags, 0);
    /* "unknown" rDNS, an IPv6 client */
    CHECK_ST(parse("from helo.example (unknown [IPv6:2001:db8::25]) by mx.example.org (Postfix) "
                   "with ESMTP id 4Xyz; Mon, 23 Nov 2026 14:23:00 +0100",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_STR(r.from_rdns, "unknown");
    CHECK_STR(r.from_ip, "[IPv6:2001:db8::25]");
    /* Postfix, a local submission (pickup): no FROM clause */
    {
        const char *loc = "by mx.example.org (Postfix, from userid 1000)\r\n"
                          "\tid 4Xyz1234Abz; Mon, 23 Nov 2026 14:23:00 +0100 (CET)";
        size_t err = 99;
        CHECK_ST(parse(loc, 0, &r, NULL), OPES_OK);
        CHECK_EQ(r.flags, OPES_RECEIVED_F_NO_FROM);
        CHECK_STR(r.by_comment, "Postfix, from userid 1000");
        CHECK_STR(r.id, "4Xyz1234Abz");
        CHECK_ST(parse(loc, OPES_RECEIVED_STRICT, &r, &err), OPES_EBAD_RECEIVED);
        CHECK_EQ(err, 0);
        CHECK(r.by.ptr == NULL);
    }
}

static void test_exim(void)
{
    opes_received r;
    size_t err = 0;
    /* Exim's default received_header_text: "(helo=...)" inside the TCP-info
     * comment, the TLS version as a comment, "tls <cipher>" as a clause,
     * "(Exim x.y)", "(envelope-from <...>)", a bare FOR address */
    const char *ex = "from mail.example.com ([192.0.2.1] helo=mail.example.com)\r\n"
                     "\tby mx.example.org with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n"
                     "\t(Exim 4.96)\r\n"
                     "\t(envelope-from <alice@example.com>)\r\n"
                     "\tid 1qABCD-000123-Xy\r\n"
                     "\tfor bob@example.org;\r\n"
                     "\tMon, 23 Nov 2026 14:23:00 +0100";
    CHECK_ST(parse(ex, 0, &r, NULL), OPES_OK);
    CHECK_STR(r.from, "mail.example.com");
    CHECK_STR(r.from_ip, "[192.0.2.1]");
    CHECK_EQ(r.from_rdns.len, 0);
    CHECK_STR(r.by, "mx.example.org");
    CHECK_EQ(r.by_comment.len, 0);
    CHECK_STR(r.with, "esmtps");
    CHECK_STR(r.with_comment, "TLS1.3");
    CHECK_EQ(r.extra_count, 1);
    CHECK_STR(r.extra_name, "tls");
    CHECK_STR(r.extra_value, "TLS_AES_256_GCM_SHA384");
    CHECK_STR(r.envelope_from, "<alice@example.com>");
    CHECK_STR(r.id, "1qABCD-000123-Xy");
    CHECK_STR(r.for_path, "bob@example.org");
    CHECK_STR(r.date_raw, "Mon, 23 Nov 2026 14:23:00 +0100");
    CHECK_EQ(r.flags, OPES_RECEIVED_F_EXTRA | OPES_RECEIVED_F_ORDER);
    /* strict: the additional clause must come last in Opt-info */
    CHECK_ST(parse(ex, OPES_RECEIVED_STRICT, &r, &err), OPES_EBAD_RECEIVED);
    CHECK_EQ(err, 181); /* "id" */
    /* Exim, a local message */
    CHECK_ST(parse("from alice by mx.example.org with local (Exim 4.96)\r\n"
                   "\t(envelope-from <alice@example.org>)\r\n\tid 1qABCE-000124-Zz;\r\n"
                   "\tMon, 23 Nov 2026 14:23:00 +0100",
                   0, &r, NULL),
             OPES_OK);
    CHECK_STR(r.from, "alice");
    CHECK_STR(r.with, "local");
    CHECK_STR(r.with_comment, "Exim 4.96");
    CHECK_EQ(r.flags, OPES_RECEIVED_F_UNREGISTERED_WITH);
}

static void test_sendmail(void)
{
    opes_received r;
    const char *sm = "from client.example.com (client.example.com [192.0.2.7])\r\n"
                     "\tby mx.example.org (8.17.1/8.17.1) with ESMTPS id 5ANDN0qX012345\r\n"
                     "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT)\r\n"
                     "\tfor <bob@example.org>; Mon, 23 Nov 2026 14:23:00 +0100";
    CHECK_ST(parse(sm, OPES_RECEIVED_STRICT, &r, NULL), OPES_OK);
    CHECK_STR(r.by_comment, "8.17.1/8.17.1");
    CHECK_STR(r.id, "5ANDN0qX012345");
    CHECK_STR(r.for_path, "<bob@example.org>");
    CHECK_EQ(r.flags, 0);
    /* sendmail's submission: "(from user@localhost)" before BY */
    CHECK_ST(parse("(from alice@localhost)\r\n\tby host.example.org (8.17.1/8.17.1/Submit) "
                   "id 5ANDN0qY012346;\r\n\tMon, 23 Nov 2026 14:23:00 +0100",
                   0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_STRAY | OPES_RECEIVED_F_NO_FROM);
    CHECK_STR(r.by, "host.example.org");
    CHECK_STR(r.id, "5ANDN0qY012346");
    /* sendmail: "(envelope-from alice@example.com)" too */
    CHECK_ST(parse("from a.example (a.example [192.0.2.9]) by b.example (8.17.1/8.17.1) with "
                   "ESMTP id X1 (envelope-from alice@example.com); Mon, 23 Nov 2026 14:23:00 +0100",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_STR(r.envelope_from, "alice@example.com");
}

static void test_exchange(void)
{
    opes_received r;
    size_t err = 0;
    /* Exchange Online between its own servers: bare IPv6 TCP-info, "with
     * Microsoft SMTP Server (version=..., cipher=...)", dotted build id */
    const char *ms =
        "from DB8PR01CA0001.eurprd01.prod.exchangelabs.com (2603:10a6:10:ab::11)\r\n"
        " by AM0PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:208:1::12) with\r\n"
        " Microsoft SMTP Server (version=TLS1_2,\r\n"
        " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7000.20; Mon, 23 Nov\r\n"
        " 2026 13:23:00 +0000";
    CHECK_ST(parse(ms, 0, &r, NULL), OPES_OK);
    CHECK_STR(r.from, "DB8PR01CA0001.eurprd01.prod.exchangelabs.com");
    CHECK_STR(r.from_ip, "2603:10a6:10:ab::11");
    CHECK_EQ(r.from_rdns.len, 0);
    CHECK_STR(r.by, "AM0PR01MB1234.eurprd01.prod.exchangelabs.com");
    CHECK_STR(r.by_comment, "2603:10a6:208:1::12");
    CHECK_STR(r.with, "Microsoft SMTP Server");
    CHECK_STR(r.with_comment, "version=TLS1_2,\r\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    CHECK_STR(r.id, "15.20.7000.20");
    CHECK_EQ(r.extra_count, 0);
    CHECK_EQ(r.date.hour, 13);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_BARE_IP | OPES_RECEIVED_F_MULTIWORD |
                          OPES_RECEIVED_F_UNREGISTERED_WITH | OPES_RECEIVED_F_BAD_ID);
    /* strict: "Microsoft" then the clause "SMTP Server" before ID */
    CHECK_ST(parse(ms, OPES_RECEIVED_STRICT, &r, &err), OPES_EBAD_RECEIVED);
    /* Exchange Online Protection's frontend: "via Frontend Transport" after ID */
    CHECK_ST(
        parse("from mail.example.com (192.0.2.1) by\r\n"
              " DB8EUR01FT001.mail.protection.outlook.com (10.152.4.111) with Microsoft SMTP\r\n"
              " Server id 15.20.7000.20 via Frontend Transport; Mon, 23 Nov 2026 13:23:00 +0000",
              0, &r, NULL),
        OPES_OK);
    CHECK_STR(r.from_ip, "192.0.2.1");
    CHECK_STR(r.with, "Microsoft SMTP\r\n Server");
    CHECK_STR(r.via, "Frontend Transport");
    CHECK_STR(r.id, "15.20.7000.20");
    CHECK_EQ(r.flags, OPES_RECEIVED_F_BARE_IP | OPES_RECEIVED_F_MULTIWORD |
                          OPES_RECEIVED_F_UNREGISTERED_WITH | OPES_RECEIVED_F_BAD_ID |
                          OPES_RECEIVED_F_ORDER);
    /* Exchange's MAPI submission */
    CHECK_ST(
        parse("from AM0PR01MB1234.eurprd01.prod.exchangelabs.com\r\n"
              " ([fe80::1234:5678:9abc:def0]) by AM0PR01MB1234.eurprd01.prod.exchangelabs.com\r\n"
              " ([fe80::1234:5678:9abc:def0%7]) with mapi id 15.20.7000.020; Mon, 23 Nov 2026\r\n"
              " 13:23:00 +0000",
              0, &r, NULL),
        OPES_OK);
    CHECK_STR(r.with, "mapi");
    /* "[fe80::...]" lacks "IPv6:" but is a General-address-literal by the
     * grammar (RFC 5321 4.1.3: Standardized-tag "fe80" ":" 1*dcontent) */
    CHECK_STR(r.from_ip, "[fe80::1234:5678:9abc:def0]");
}

static void test_gmail(void)
{
    opes_received r;
    const char *g1 =
        "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n"
        "        by mx.google.com with SMTPS id a1sor123456lfb.12.2026.11.23.05.23.00\r\n"
        "        for <bob@example.org>\r\n"
        "        (Google Transport Security);\r\n"
        "        Mon, 23 Nov 2026 05:23:00 -0800 (PST)";
    CHECK_ST(parse(g1, 0, &r, NULL), OPES_OK);
    CHECK_STR(r.from_rdns, "mail-sor-f41.google.com.");
    CHECK_STR(r.from_ip, "[209.85.220.41]");
    CHECK_STR(r.with, "SMTPS");
    CHECK_STR(r.id, "a1sor123456lfb.12.2026.11.23.05.23.00");
    CHECK_STR(r.for_path, "<bob@example.org>");
    CHECK_EQ(r.date.zone, -480);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_UNREGISTERED_WITH | OPES_RECEIVED_F_BAD_ID);
    /* Gmail internal hop: BY an IPv6 address without brackets, no FROM */
    CHECK_ST(
        parse("by 2002:a05:6a20:1234:b0:1a2:3b4c:5d6e with SMTP id x123so456pzk.12.1700000000000;"
              "\r\n        Mon, 23 Nov 2026 05:23:00 -0800 (PST)",
              0, &r, NULL),
        OPES_OK);
    CHECK_STR(r.by, "2002:a05:6a20:1234:b0:1a2:3b4c:5d6e");
    CHECK_STR(r.with, "SMTP");
    CHECK_EQ(r.flags,
             OPES_RECEIVED_F_NO_FROM | OPES_RECEIVED_F_BAD_DOMAIN | OPES_RECEIVED_F_BAD_ID);
}

static void test_tolerated(void)
{
    opes_received r;
    size_t err = 0;
    /* qmail: only a comment and the date */
    CHECK_ST(parse("(qmail 12345 invoked by uid 1000); 23 Nov 2026 13:23:00 -0000", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_STRAY | OPES_RECEIVED_F_NO_FROM | OPES_RECEIVED_F_NO_BY);
    CHECK_EQ(r.date.flags, OPES_DATE_F_ZONE_UNKNOWN);
    /* no date part: tolerated, strict refuses */
    CHECK_ST(parse("from a.example by b.example", 0, &r, NULL), OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_NO_DATE);
    CHECK_ST(r.date_status, OPES_ENOTFOUND);
    CHECK_ST(parse("from a.example by b.example", OPES_RECEIVED_STRICT, &r, &err),
             OPES_EBAD_RECEIVED);
    CHECK_EQ(err, 27);
    /* an obsolete date (RFC 5321 4.4: MUST NOT) */
    CHECK_ST(parse("from a.example by b.example; 21 Nov 97 09:55:06 GMT", 0, &r, NULL), OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_OBS_DATE);
    CHECK_EQ(r.date.year, 1997);
    CHECK_ST(parse("from a.example by b.example; 21 Nov 97 09:55:06 GMT", OPES_RECEIVED_STRICT, &r,
                   &err),
             OPES_EBAD_DATE);
    CHECK_EQ(err, 36);
    /* a date that does not parse at all: kept raw, flagged */
    CHECK_ST(parse("from a.example by b.example; yesterday", 0, &r, NULL), OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_BAD_DATE);
    CHECK_ST(r.date_status, OPES_EBAD_DATE);
    CHECK_STR(r.date_raw, "yesterday");
    /* lenient date: a wrong day-of-week, "UTC" */
    CHECK_ST(parse("from a.example by b.example; Tue, 23 Nov 2026 13:23:00 UTC", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, 0);
    CHECK_EQ(r.date.flags, OPES_DATE_F_DOW_MISMATCH | OPES_DATE_F_NONSTD_ZONE);
    /* clause order, a repeated clause (first kept) */
    CHECK_ST(parse("from a.example by b.example id X with ESMTP; 23 Nov 2026 13:23:00 +0000", 0, &r,
                   NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_ORDER);
    CHECK_ST(parse("from a.example by b.example id X with ESMTP; 23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, &err),
             OPES_EBAD_RECEIVED);
    CHECK_EQ(err, 33);
    CHECK_ST(
        parse("by b.example from a.example by c.example; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
        OPES_OK);
    CHECK_STR(r.by, "b.example");
    CHECK_EQ(r.flags, OPES_RECEIVED_F_ORDER);
    /* an address literal needs TCP-info (RFC 5321 4.4 Extended-Domain) */
    CHECK_ST(parse("from [192.0.2.1] by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_BAD_DOMAIN);
    CHECK_ST(parse("from [192.0.2.1] ([192.0.2.1]) by b.example; 23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_STR(r.from_ip, "[192.0.2.1]");
    /* a keyword without a value */
    CHECK_ST(parse("from a.example by b.example with; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_STRAY);
    CHECK_EQ(r.with.len, 0);
    /* one additional clause at the end is RFC 5321 (and no multi-word WITH) */
    CHECK_ST(parse("from a.example by b.example with ESMTP foo bar; 23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_STR(r.with, "ESMTP");
    CHECK_STR(r.extra_name, "foo");
    CHECK_STR(r.extra_value, "bar");
    CHECK_EQ(r.flags, OPES_RECEIVED_F_EXTRA);
    CHECK_ST(parse("from a.example by b.example with ESMTP foo bar; 23 Nov 2026 13:23:00 +0000", 0,
                   &r, NULL),
             OPES_OK);
    CHECK_STR(r.with, "ESMTP");
    CHECK_ST(parse("from a.example by b.example a b c d; 23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, &err),
             OPES_EBAD_RECEIVED);
    CHECK_ST(parse("from a.example by b.example a b c d; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.extra_count, 2);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_EXTRA | OPES_RECEIVED_F_EXTRA_MANY);
    /* msg-id as ID, a quoted local part in FOR, a route */
    CHECK_ST(parse("from a.example by b.example id <1234@b.example> for <\"a b;c\"@b.example>; "
                   "23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_STR(r.id, "<1234@b.example>");
    CHECK_STR(r.for_path, "<\"a b;c\"@b.example>");
    CHECK_ST(parse("from a.example by b.example for <@c.example:x@b.example>; "
                   "23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_ST(parse("from a.example by b.example for <>; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_BAD_FOR);
    /* missing FWS after ";" and after a keyword */
    CHECK_ST(parse("from a.example by b.example;23 Nov 2026 13:23:00 +0000", 0, &r, NULL), OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_NO_FWS);
    CHECK_ST(parse("from(x)a.example by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_NO_FWS);
    CHECK_STR(r.from, "a.example");
    /* LF folds, raw 8-bit, UTF-8 */
    CHECK_ST(parse("from a.example\n by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_LF_FOLD);
    CHECK_ST(parse("from a.example\n by b.example; 23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, &err),
             OPES_EBARE_LF);
    CHECK_EQ(err, 14);
    CHECK_ST(
        parse("from a.example (caf\xe9) by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, NULL),
        OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_RAW_8BIT);
    CHECK_ST(parse("from a.example (caf\xe9) by b.example; 23 Nov 2026 13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, &err),
             OPES_EBAD_UTF8);
    CHECK_ST(parse("from a.example by b.example for <j\xc3\xb6rg@b.example>; 23 Nov 2026 "
                   "13:23:00 +0000",
                   OPES_RECEIVED_STRICT, &r, NULL),
             OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_UTF8);
}

static void test_broken(void)
{
    opes_received r;
    size_t err = 0;
    CHECK_ST(parse("from a.example (open by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, &err),
             OPES_EBAD_RECEIVED);
    CHECK_EQ(err, 61); /* the end */
    CHECK(r.from.ptr == NULL);
    CHECK_ST(parse("from a.example ) by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, &err),
             OPES_EBAD_RECEIVED);
    CHECK_EQ(err, 15);
    CHECK_ST(parse("from a.example for <x@y by b; 23 Nov 2026 13:23:00 +0000", 0, &r, &err),
             OPES_EBAD_RECEIVED);
    CHECK_EQ(err, 23);
    CHECK_ST(parse("from a.example\r by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, &err),
             OPES_EBARE_CR);
    CHECK_EQ(err, 14);
    CHECK_ST(parse("from a.example\r\nby b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, &err),
             OPES_EBAD_CHAR);
    CHECK_EQ(err, 14);
    CHECK_ST(parse("from a.example by b.example; 23 Nov 2026 13:23:00 +0000\r\nX: y", 0, &r, &err),
             OPES_EBAD_CHAR);
    CHECK_ST(parse("from a.example\x01 by b.example; 23 Nov 2026 13:23:00 +0000", 0, &r, &err),
             OPES_EBAD_CHAR);
    CHECK_EQ(err, 14);
    {
        static const char nul[] = "from a.example by b\0.example; 23 Nov 2026 13:23:00 +0000";
        const char *g = guarded_copy(nul, sizeof nul - 1);
        CHECK_ST(opes_received_parse(g, sizeof nul - 1, 0, &r, &err), OPES_EBAD_CHAR);
        CHECK_EQ(err, 19);
        guarded_free(g);
    }
    CHECK_ST(opes_received_parse(NULL, 3, 0, &r, NULL), OPES_EINVAL);
    CHECK_ST(opes_received_parse("x", 1, 0, NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_received_parse("x", 1, 2, &r, NULL), OPES_EINVAL);
    CHECK_ST(opes_received_parse("", 0, 0, &r, NULL), OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_NO_FROM | OPES_RECEIVED_F_NO_BY | OPES_RECEIVED_F_NO_DATE);
}

static opes_received_stamp sample(void)
{
    opes_received_stamp s;
    memset(&s, 0, sizeof s);
    s.helo.ptr = "client.example.com";
    s.helo.len = 18;
    s.rdns.ptr = "client.example.com";
    s.rdns.len = 18;
    s.ip.ptr = "[192.0.2.1]";
    s.ip.len = 11;
    s.by.ptr = "mx.example.org";
    s.by.len = 14;
    s.by_comment.ptr = "libopes";
    s.by_comment.len = 7;
    s.with.ptr = "ESMTPS";
    s.with.len = 6;
    s.id.ptr = "4Xyz1234Abz";
    s.id.len = 11;
    s.for_path.ptr = "bob@example.org";
    s.for_path.len = 15;
    s.date.year = 2026;
    s.date.month = 11;
    s.date.day = 23;
    s.date.hour = 14;
    s.date.minute = 23;
    s.date.zone = 60;
    return s;
}

static void test_build(void)
{
    char buf[2048];
    size_t len = 0, need = 0;
    opes_received_stamp s = sample();
    opes_received r;
    /* folded before "by" and the date: each line <= 78 (RFC 5322 2.1.1) */
    const char *want =
        "Received: from client.example.com (client.example.com [192.0.2.1])\r\n"
        "\tby mx.example.org (libopes) with ESMTPS id 4Xyz1234Abz for <bob@example.org>;\r\n"
        "\tMon, 23 Nov 2026 14:23:00 +0100\r\n";

    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_OK);
    CHECK_MEM(buf, len, want, strlen(want));
    CHECK_ST(opes_received_build(NULL, 0, &need, &s, 0), OPES_ENOSPC);
    CHECK_EQ(need, len);
    CHECK_ST(opes_received_build(buf, len - 1, &need, &s, 0), OPES_ENOSPC);
    CHECK_EQ(need, len);
    /* build -> parse (strict) gives the pieces back */
    CHECK_ST(opes_received_parse(buf + 9, len - 9, OPES_RECEIVED_STRICT, &r, NULL), OPES_OK);
    CHECK_STR(r.from, "client.example.com");
    CHECK_STR(r.from_rdns, "client.example.com");
    CHECK_STR(r.from_ip, "[192.0.2.1]");
    CHECK_STR(r.by, "mx.example.org");
    CHECK_STR(r.by_comment, "libopes");
    CHECK_STR(r.with, "ESMTPS");
    CHECK_STR(r.id, "4Xyz1234Abz");
    CHECK_STR(r.for_path, "<bob@example.org>");
    CHECK_EQ(r.date.day, 23);
    CHECK_EQ(r.date.zone, 60);
    CHECK_EQ(r.flags, 0);
    /* LF line ends */
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, OPES_RECEIVED_BUILD_LF), OPES_OK);
    CHECK_MEM(buf, len,
              "Received: from client.example.com (client.example.com [192.0.2.1])\n"
              "\tby mx.example.org (libopes) with ESMTPS id 4Xyz1234Abz for <bob@example.org>;\n"
              "\tMon, 23 Nov 2026 14:23:00 +0100\n",
              strlen(want) - 3);
    /* a local message: no FROM; a comment with parentheses escaped */
    s = sample();
    s.helo.len = s.rdns.len = s.ip.len = 0;
    s.for_path.len = 0;
    s.with.len = 0;
    s.by_comment.ptr = "x (y) \\z";
    s.by_comment.len = 8;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_OK);
    CHECK_MEM(buf, len,
              "Received: by mx.example.org (x \\(y\\) \\\\z) id 4Xyz1234Abz;\r\n"
              "\tMon, 23 Nov 2026 14:23:00 +0100\r\n",
              strlen("Received: by mx.example.org (x \\(y\\) \\\\z) id 4Xyz1234Abz;\r\n"
                     "\tMon, 23 Nov 2026 14:23:00 +0100\r\n"));
    CHECK_ST(opes_received_parse(buf + 9, len - 9, 0, &r, NULL), OPES_OK);
    CHECK_EQ(r.flags, OPES_RECEIVED_F_NO_FROM);
    CHECK_STR(r.by_comment, "x \\(y\\) \\\\z");
    /* an address-literal HELO with TCP-info; via; a msg-id; "-0000" */
    s = sample();
    s.helo.ptr = "[192.0.2.1]";
    s.helo.len = 11;
    s.rdns.len = 0;
    s.by_comment.len = 0;
    s.via.ptr = "TCP";
    s.via.len = 3;
    s.id.ptr = "<a.b@c>";
    s.id.len = 7;
    s.date.zone = 0;
    s.date.flags = OPES_DATE_F_ZONE_UNKNOWN;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_OK);
    CHECK_MEM(buf, len,
              "Received: from [192.0.2.1] ([192.0.2.1]) by mx.example.org via TCP with ESMTPS\r\n"
              "\tid <a.b@c> for <bob@example.org>; Mon, 23 Nov 2026 14:23:00 -0000\r\n",
              80 + 68);
    CHECK_ST(opes_received_parse(buf + 9, len - 9, OPES_RECEIVED_STRICT, &r, NULL), OPES_OK);
    CHECK_STR(r.via, "TCP");
    CHECK_STR(r.id, "<a.b@c>");
    CHECK_EQ(r.date.flags, OPES_DATE_F_ZONE_UNKNOWN);

    /* refusals */
    s = sample();
    s.helo.ptr = "evil\r\nX-Injected: 1";
    s.helo.len = 19;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINJECT);
    CHECK_EQ(len, 0);
    s = sample();
    s.by_comment.ptr = "a\nb";
    s.by_comment.len = 3;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINJECT);
    s = sample();
    s.id.ptr = "a\0b";
    s.id.len = 3;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINJECT);
    s = sample();
    s.helo.ptr = "bad-.example";
    s.helo.len = 12;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EBAD_DOMAIN);
    s = sample();
    s.ip.ptr = "[300.0.2.1]";
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EBAD_ADDRESS_LITERAL);
    s = sample();
    s.by.ptr = "[192.0.2.2]";
    s.by.len = 11;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EBAD_DOMAIN);
    s = sample();
    s.by.len = 0;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINVAL);
    s = sample();
    s.ip.len = 0;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINVAL); /* rdns, no ip */
    s = sample();
    s.helo.len = 0;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINVAL);
    s = sample();
    s.helo.ptr = "[192.0.2.1]";
    s.helo.len = 11;
    s.rdns.len = s.ip.len = 0;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINVAL);
    s = sample();
    s.with.ptr = "ES MTP";
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EBAD_RECEIVED);
    s = sample();
    s.id.ptr = "a.b";
    s.id.len = 3;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EBAD_RECEIVED);
    s = sample();
    s.for_path.ptr = "<>";
    s.for_path.len = 2;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EBAD_PATH);
    s = sample();
    s.date.day = 31;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EBAD_DATE);
    s = sample();
    s.rdns.ptr = NULL;
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EINVAL);
    s = sample();
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 2), OPES_EINVAL);
    CHECK_ST(opes_received_build(NULL, 5, &len, &s, 0), OPES_EINVAL);
    CHECK_ST(opes_received_build(buf, sizeof buf, &len, NULL, 0), OPES_EINVAL);
    /* line limit: "\t(" comment ")" on a line of its own, 998 at most */
    {
        static char big[1000];
        memset(big, 'x', sizeof big);
        s = sample();
        s.by_comment.ptr = big;
        s.by_comment.len = 996;
        CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_EHEADER_LINE_TOO_LONG);
        CHECK_EQ(len, 0);
        s.by_comment.len = 995;
        CHECK_ST(opes_received_build(buf, sizeof buf, &len, &s, 0), OPES_OK);
        CHECK_MEM(buf + 66, 3, "\r\n\t", 3);
        CHECK_MEM(buf + 68 + 18 + 2, 3, "\t(x", 3);
    }
}

static void test_with_type(void)
{
    /* RFC 3848 2 and RFC 6531 4.3 names; SMTP for HELO (RFC 5321 4.4) */
    static const struct {
        unsigned f;
        const char *name;
    } t[] = {
        {0, "ESMTP"},
        {OPES_WITH_TLS, "ESMTPS"},
        {OPES_WITH_AUTH, "ESMTPA"},
        {OPES_WITH_TLS | OPES_WITH_AUTH, "ESMTPSA"},
        {OPES_WITH_LMTP, "LMTP"},
        {OPES_WITH_LMTP | OPES_WITH_TLS, "LMTPS"},
        {OPES_WITH_LMTP | OPES_WITH_AUTH, "LMTPA"},
        {OPES_WITH_LMTP | OPES_WITH_TLS | OPES_WITH_AUTH, "LMTPSA"},
        {OPES_WITH_UTF8, "UTF8SMTP"},
        {OPES_WITH_UTF8 | OPES_WITH_AUTH, "UTF8SMTPA"},
        {OPES_WITH_UTF8 | OPES_WITH_TLS, "UTF8SMTPS"},
        {OPES_WITH_UTF8 | OPES_WITH_TLS | OPES_WITH_AUTH, "UTF8SMTPSA"},
        {OPES_WITH_UTF8 | OPES_WITH_LMTP, "UTF8LMTP"},
        {OPES_WITH_UTF8 | OPES_WITH_LMTP | OPES_WITH_AUTH, "UTF8LMTPA"},
        {OPES_WITH_UTF8 | OPES_WITH_LMTP | OPES_WITH_TLS, "UTF8LMTPS"},
        {OPES_WITH_UTF8 | OPES_WITH_LMTP | OPES_WITH_TLS | OPES_WITH_AUTH, "UTF8LMTPSA"},
        {OPES_WITH_HELO, "SMTP"},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        const char *n = opes_received_with_type(t[k].f);
        CHECK(n != NULL && strcmp(n, t[k].name) == 0);
        /* every name the builder is given parses back as registered */
        if (n) {
            char body[128];
            opes_received r;
            int m = snprintf(body, sizeof body,
                             "from a.example by b.example with %s; "
                             "23 Nov 2026 13:23:00 +0000",
                             n);
            CHECK_ST(opes_received_parse(body, (size_t)m, OPES_RECEIVED_STRICT, &r, NULL), OPES_OK);
            CHECK_EQ(r.flags, 0);
        }
    }
    CHECK(opes_received_with_type(OPES_WITH_HELO | OPES_WITH_TLS) == NULL);
    CHECK(opes_received_with_type(OPES_WITH_HELO | OPES_WITH_LMTP) == NULL);
    CHECK(opes_received_with_type(1u << 5) == NULL);
}

int main(void)
{
    test_rfc5322_a4();
    test_postfix();
    test_exim();
    test_sendmail();
    test_exchange();
    test_gmail();
    test_tolerated();
    test_broken();
    test_build();
    test_with_type();
    return TEST_END();
}
