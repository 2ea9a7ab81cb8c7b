/* The DSN report builder (RFC 3461, RFC 3464, RFC 6522, RFC 6533, RFC 8689
 * 5), the due rule and the MIME transfer encoders. Expectations come from
 * the RFC texts (quoted) and from RFC 4648 10 (base64 vectors). */
#include "harness.h"

#include <stdlib.h>

static opes_str S(const char *s)
{
    opes_str o = {s, s ? strlen(s) : 0};
    return o;
}

/* ---- the encoders ------------------------------------------------------- */

/* Encode in pieces of `step` bytes (0: at once), flush; returns malloc'd. */
static char *encode(int cte, const char *in, size_t n, size_t step, size_t *out_n)
{
    opes_mime_encoder e;
    CHECK_ST(opes_mime_encoder_init(&e, cte), OPES_OK);
    size_t cap = opes_mime_encode_bound(&e, n) + 64, len = 0, pos = 0;
    char *out = malloc(cap);
    if (!step)
        step = n ? n : 1;
    do {
        size_t k = n - pos < step ? n - pos : step, used = 0, w = 0;
        int eof = pos + k == n;
        opes_status st = opes_mime_encode(&e, in + pos, k, eof, out + len, cap - len, &used, &w);
        CHECK_ST(st, OPES_OK);
        CHECK_EQ(used, k);
        pos += used;
        len += w;
    } while (pos < n);
    *out_n = len;
    return out;
}

/* An independent reference QP decoder (RFC 2045 6.7), for round trips. */
static size_t qp_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=' && i + 2 < n + 0 && in[i + 1] == '\r' && in[i + 2] == '\n') {
            i += 2;
        } else if (in[i] == '=' && i + 2 < n) {
            char h[3] = {in[i + 1], in[i + 2], 0};
            out[o++] = (char)strtol(h, NULL, 16);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    return o;
}

/* The library's own decoder on the encoder's output: the input again. */
static void roundtrip(int cte, const char *in, size_t n)
{
    size_t en, used = 0, dn = 0;
    char *enc = encode(cte, in, n, 0, &en);
    char *dec = malloc(en + 4);
    opes_mime_decoder d;
    CHECK_ST(opes_mime_decoder_init(&d, cte), OPES_OK);
    CHECK_ST(opes_mime_decode(&d, enc, en, 1, dec, en + 4, &used, &dn), OPES_OK);
    CHECK_EQ(used, en);
    CHECK_MEM(dec, dn, in, n);
    CHECK_EQ(d.flags, 0);
    free(enc);
    free(dec);
}

static void test_encoders(void)
{
    /* RFC 4648 10 */
    static const char *const vec[][2] = {{"", ""},
                                         {"f", "Zg==\r\n"},
                                         {"fo", "Zm8=\r\n"},
                                         {"foo", "Zm9v\r\n"},
                                         {"foob", "Zm9vYg==\r\n"},
                                         {"fooba", "Zm9vYmE=\r\n"},
                                         {"foobar", "Zm9vYmFy\r\n"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        for (size_t step = 0; step < 3; step++) {
            size_t n;
            char *o = encode(OPES_MIME_CTE_BASE64, vec[i][0], strlen(vec[i][0]), step, &n);
            CHECK_MEM(o, n, vec[i][1], strlen(vec[i][1]));
            free(o);
        }
    }
    /* 76-character lines (RFC 2045 6.8): 57 octets make one full line */
    char big[300];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + 3);
    size_t n1, n2;
    char *a = encode(OPES_MIME_CTE_BASE64, big, sizeof big, 0, &n1);
    char *b = encode(OPES_MIME_CTE_BASE64, big, sizeof big, 1, &n2);
    CHECK_MEM(a, n1, b, n2);
    CHECK(n1 > 78 && memcmp(a + 76, "\r\n", 2) == 0);
    CHECK_EQ(n1, 400 + 2 * 6); /* 300 octets: 400 characters, 6 lines */
    free(a);
    free(b);

    /* QP: rule 3 (WSP before a line end encoded), "=" as =3D, a bare LF
     * kept as =0A; the last line ends with a soft break */
    static const char qin[] = "a b \r\nc=d\n\xC3\xA9";
    static const char qout[] = "a b=20\r\nc=3Dd=0A=C3=A9=\r\n";
    for (size_t step = 0; step < 3; step++) {
        size_t n;
        char *o = encode(OPES_MIME_CTE_QP, qin, sizeof qin - 1, step, &n);
        CHECK_MEM(o, n, qout, sizeof qout - 1);
        free(o);
    }
    /* long lines get soft breaks; every line at most 76 characters; the
     * decoded text is the input */
    char txt[1000];
    for (size_t i = 0; i < sizeof txt; i++)
        txt[i] = (i % 97 == 96)       ? '\r'
                 : (i % 97 == 0 && i) ? '\n'
                                      : (char)(i % 5 == 0 ? ' ' : 'a' + (char)(i % 26));
    for (size_t step = 0; step < 4; step++) {
        size_t n;
        char *o = encode(OPES_MIME_CTE_QP, txt, sizeof txt, step * 13, &n);
        size_t col = 0, maxcol = 0;
        for (size_t i = 0; i < n; i++) {
            if (o[i] == '\r' && i + 1 < n && o[i + 1] == '\n') {
                i++;
                col = 0;
            } else if (++col > maxcol) {
                maxcol = col;
            }
        }
        CHECK(maxcol <= 76);
        char *d = malloc(n);
        size_t dn = qp_decode(o, n, d);
        CHECK_MEM(d, dn, txt, sizeof txt);
        free(d);
        free(o);
    }
    /* through opes_mime_decode() */
    roundtrip(OPES_MIME_CTE_BASE64, big, sizeof big);
    roundtrip(OPES_MIME_CTE_QP, txt, sizeof txt);
    roundtrip(OPES_MIME_CTE_QP, qin, sizeof qin - 1);
    roundtrip(OPES_MIME_CTE_QP, "x \t", 3);
    /* a short output buffer: some consumed, never more than fits */
    opes_mime_encoder e;
    char small[10];
    size_t used = 0, w = 0;
    opes_mime_encoder_init(&e, OPES_MIME_CTE_BASE64);
    CHECK_ST(opes_mime_encode(&e, "foobarfoobar", 12, 1, small, sizeof small, &used, &w), OPES_OK);
    CHECK(used < 12 && w <= sizeof small);
    CHECK_ST(opes_mime_encoder_init(&e, OPES_MIME_CTE_7BIT), OPES_EINVAL);
    CHECK_ST(opes_mime_encoder_init(NULL, OPES_MIME_CTE_QP), OPES_EINVAL);
}

/* ---- the due rule ------------------------------------------------------- */

static int due(int null_sender, int action, unsigned notify, int hostile, int verified, int *reason)
{
    opes_dsn_due_input in;
    int d = -1;
    memset(&in, 0, sizeof in);
    in.null_sender = null_sender;
    in.action = action;
    in.notify = notify;
    in.hostile = hostile;
    in.sender_verified = verified;
    CHECK_ST(opes_dsn_due(&in, &d, reason), OPES_OK);
    return d;
}

static void test_due(void)
{
    const unsigned F = OPES_DSN_NOTIFY_FAILURE, D = OPES_DSN_NOTIFY_DELAY,
                   Su = OPES_DSN_NOTIFY_SUCCESS, N = OPES_DSN_NOTIFY_NEVER;
    int r = -1;
    /* RFC 3461 5.2 NOTE: "A DSN MUST NOT be returned to the sender for any
     * message for which the return address from the SMTP MAIL command was
     * NULL" */
    CHECK_EQ(due(1, OPES_DSN_ACTION_FAILED, F, 0, 0, &r), 0);
    CHECK_EQ(r, OPES_DSN_NOT_NULL_SENDER);
    CHECK_STR(S(opes_dsn_due_reason_name(r)), "null_sender");
    CHECK_EQ(due(1, OPES_DSN_ACTION_DELIVERED, Su, 0, 1, &r), 0);
    /* 5.2.6: "If the NOTIFY parameter contains the FAILURE keyword, a
     * "failed" DSN MUST be issued"; without FAILURE "a DSN MUST NOT be
     * issued"; no NOTIFY: "a "failed" DSN MUST be issued" */
    CHECK_EQ(due(0, OPES_DSN_ACTION_FAILED, F, 0, 0, &r), 1);
    CHECK_EQ(r, OPES_DSN_DUE_FAILED);
    CHECK_EQ(due(0, OPES_DSN_ACTION_FAILED, Su | D, 0, 0, &r), 0);
    CHECK_EQ(r, OPES_DSN_NOT_NOT_REQUESTED);
    CHECK_EQ(due(0, OPES_DSN_ACTION_FAILED, 0, 0, 0, &r), 1);
    CHECK_EQ(due(0, OPES_DSN_ACTION_FAILED, N, 0, 0, &r), 0);
    CHECK_EQ(r, OPES_DSN_NOT_NOTIFY_NEVER);
    /* 5.2.5: "delayed" MAY with DELAY or no NOTIFY, "MUST NOT" when NOTIFY
     * lacks DELAY; "never required": off by default without NOTIFY */
    CHECK_EQ(due(0, OPES_DSN_ACTION_DELAYED, D, 0, 0, &r), 1);
    CHECK_EQ(r, OPES_DSN_DUE_DELAYED);
    CHECK_EQ(due(0, OPES_DSN_ACTION_DELAYED, F, 0, 0, &r), 0);
    CHECK_EQ(due(0, OPES_DSN_ACTION_DELAYED, 0, 0, 0, &r), 0);
    {
        opes_dsn_due_input in;
        int d = 0;
        memset(&in, 0, sizeof in);
        in.action = OPES_DSN_ACTION_DELAYED;
        in.delay_default = 1;
        CHECK_ST(opes_dsn_due(&in, &d, &r), OPES_OK);
        CHECK_EQ(d, 1);
    }
    /* 5.2.3: "If the NOTIFY parameter contains SUCCESS ... MUST issue a
     * "delivered" DSN"; without SUCCESS or no NOTIFY: "MUST NOT" */
    CHECK_EQ(due(0, OPES_DSN_ACTION_DELIVERED, Su, 0, 0, &r), 1);
    CHECK_EQ(r, OPES_DSN_DUE_SUCCESS);
    CHECK_EQ(due(0, OPES_DSN_ACTION_DELIVERED, 0, 0, 0, &r), 0);
    CHECK_EQ(due(0, OPES_DSN_ACTION_DELIVERED, F | D, 0, 0, &r), 0);
    /* 5.2.2: SUCCESS + relayed to a non-DSN server: "relayed" DSN */
    CHECK_EQ(due(0, OPES_DSN_ACTION_RELAYED, Su, 0, 0, &r), 1);
    CHECK_EQ(due(0, OPES_DSN_ACTION_EXPANDED, Su | F, 0, 0, &r), 1);
    /* RFC 5321 6.2 hostile content: no bounce unless the sender is
     * verified; NOTIFY still rules first */
    CHECK_EQ(due(0, OPES_DSN_ACTION_FAILED, F, 1, 0, &r), 0);
    CHECK_EQ(r, OPES_DSN_NOT_HOSTILE);
    CHECK_EQ(due(0, OPES_DSN_ACTION_FAILED, 0, 1, 1, &r), 1);
    CHECK_EQ(r, OPES_DSN_DUE_HOSTILE_VERIFIED);
    CHECK_EQ(due(0, OPES_DSN_ACTION_FAILED, N, 1, 1, &r), 0);
    /* misuse */
    opes_dsn_due_input in;
    int d;
    memset(&in, 0, sizeof in);
    in.action = OPES_DSN_ACTION_FAILED;
    in.notify = N | F; /* "the NEVER keyword MUST appear by itself" */
    CHECK_ST(opes_dsn_due(&in, &d, NULL), OPES_EINVAL);
    in.notify = 0;
    in.action = 9;
    CHECK_ST(opes_dsn_due(&in, &d, NULL), OPES_EINVAL);
    CHECK_ST(opes_dsn_due(NULL, &d, NULL), OPES_EINVAL);
    CHECK(opes_dsn_due_reason_name(99) == NULL);
}

/* ---- the builder -------------------------------------------------------- */

static const char ORIG[] = "Return-Path: <alice@example.org>\r\n"
                           "OPES-System: http://opes.example.net/sys\r\n"
                           "From: Alice <alice@example.org>\r\n"
                           "To: bob@example.com\r\n"
                           "Subject: hello\r\n"
                           "Message-ID: <abc@example.org>\r\n"
                           "\r\n"
                           "Hello Bob.\r\n"
                           "Second line.\r\n";

typedef struct built {
    char *buf;
    size_t len;
    opes_dsn_plan plan;
    opes_status st;
    char boundary[80]; /* plan.boundary is a view into the builder: kept here */
} built;

/* Feed `orig` in pieces of `step` (0: at once), prepare, and build the
 * whole report (head, range as the plan says, tail). */
static built build(const opes_dsn_report *r, const char *orig, size_t olen, size_t step,
                   const char *seed, uint64_t limit)
{
    built out;
    opes_dsn_builder *b = NULL;
    memset(&out, 0, sizeof out);
    CHECK_ST(opes_dsn_builder_new(&b, NULL), OPES_OK);
    CHECK_ST(opes_dsn_builder_set_seed(b, seed, strlen(seed)), OPES_OK);
    if (limit)
        CHECK_ST(opes_dsn_builder_set_return_limit(b, limit), OPES_OK);
    if (!step)
        step = olen ? olen : 1;
    for (size_t i = 0; i < olen; i += step)
        CHECK_ST(opes_dsn_builder_feed(b, orig + i, olen - i < step ? olen - i : step), OPES_OK);
    CHECK_ST(opes_dsn_builder_end(b), OPES_OK);
    out.st = opes_dsn_builder_prepare(b, r, &out.plan);
    if (out.st != OPES_OK) {
        opes_dsn_builder_free(b);
        return out;
    }
    memcpy(out.boundary, out.plan.boundary.ptr, out.plan.boundary.len);
    out.boundary[out.plan.boundary.len] = '\0';
    out.plan.boundary.ptr = NULL;
    size_t hn = 0, tn = 0, hn2 = 0;
    CHECK_ST(opes_dsn_build_head(b, NULL, 0, &hn), OPES_ENOSPC);
    CHECK_ST(opes_dsn_build_tail(b, NULL, 0, &tn), OPES_ENOSPC);
    size_t cn = (size_t)out.plan.length;
    opes_mime_encoder e;
    if (out.plan.cte != OPES_MIME_CTE_NONE) {
        opes_mime_encoder_init(&e, out.plan.cte);
        cn = opes_mime_encode_bound(&e, cn);
    }
    out.buf = malloc(hn + cn + tn + 1);
    /* a buffer one byte short: ENOSPC with the same size */
    if (hn > 0)
        CHECK_ST(opes_dsn_build_head(b, out.buf, hn - 1, &hn2), OPES_ENOSPC);
    CHECK_EQ(hn2, hn);
    CHECK_ST(opes_dsn_build_head(b, out.buf, hn, &hn2), OPES_OK);
    CHECK_EQ(hn2, hn);
    size_t len = hn;
    if (out.plan.cte == OPES_MIME_CTE_NONE) {
        memcpy(out.buf + len, orig + out.plan.offset, (size_t)out.plan.length);
        len += (size_t)out.plan.length;
    } else {
        size_t used = 0, w = 0;
        CHECK_ST(opes_mime_encode(&e, orig + out.plan.offset, (size_t)out.plan.length, 1,
                                  out.buf + len, cn, &used, &w),
                 OPES_OK);
        len += w;
    }
    CHECK_ST(opes_dsn_build_tail(b, out.buf + len, tn, &tn), OPES_OK);
    len += tn;
    out.buf[len] = '\0';
    out.len = len;
    opes_dsn_builder_free(b);
    return out;
}

static int contains(const built *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; b->buf && i + n <= b->len; i++)
        if (memcmp(b->buf + i, s, n) == 0)
            return 1;
    return 0;
}

/* The report walked with the library's MIME walker: the types of the
 * entities at depth 0 and 1, joined by " ", and the number of events. */
static void walk_types(const built *b, char *types, size_t cap)
{
    opes_mime_walker *w = NULL;
    opes_mime_event ev;
    size_t off = 0, used = 0;
    types[0] = '\0';
    CHECK_ST(opes_mime_walker_new(&w, NULL), OPES_OK);
    for (int guard = 0; guard < 10000; guard++) {
        opes_status st = opes_mime_walk(w, b->buf + off, b->len - off, 1, &used, &ev);
        CHECK_ST(st, OPES_OK);
        if (st != OPES_OK)
            break;
        off += used;
        if (ev.type == OPES_MIME_EV_PART && ev.part.depth <= 1) {
            size_t n = strlen(types);
            snprintf(types + n, cap - n, "%s%.*s/%.*s", n ? " " : "", (int)ev.part.type.len,
                     ev.part.type.ptr, (int)ev.part.subtype.len, ev.part.subtype.ptr);
        }
        if (ev.type == OPES_MIME_EV_END_PART && ev.part.depth == 0)
            CHECK_EQ(ev.part.flags & OPES_MIME_PF_UNTERMINATED, 0);
        if (ev.type == OPES_MIME_EV_END)
            break;
    }
    CHECK_EQ(off, b->len);
    opes_mime_walker_free(w);
}

static void base_report(opes_dsn_report *r, opes_dsn_recipient *p)
{
    memset(r, 0, sizeof *r);
    memset(p, 0, sizeof *p);
    r->from = S("postmaster@mx.example.net");
    r->to = S("alice@example.org");
    r->date = S("Sun, 6 Dec 2026 05:10:00 +0000");
    r->message_id = S("<r1@mx.example.net>");
    r->reporting_mta = S("mx.example.net");
    r->rcpts = p;
    r->nrcpts = 1;
    p->final_recipient = S("bob@example.com");
    p->action = OPES_DSN_ACTION_FAILED;
    p->status = S("5.0.0");
}

/* The whole report, byte for byte, for a minimal failure. */
static void test_exact(void)
{
    opes_dsn_report r;
    opes_dsn_recipient p;
    base_report(&r, &p);
    r.ret = OPES_DSN_RET_HDRS;
    built b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    static const char want[] =
        "From: Mail Delivery System <postmaster@mx.example.net>\r\n"
        "To: <alice@example.org>\r\n"
        "Date: Sun, 6 Dec 2026 05:10:00 +0000\r\n"
        "Message-ID: <r1@mx.example.net>\r\n"
        "Subject: Delivery Status Notification (Failure)\r\n"
        "MIME-Version: 1.0\r\n"
        /* 77 characters: within the 78 of RFC 5322 2.1.1, not folded */
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"=_S.00\"\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "\r\n"
        "This is a MIME-encapsulated delivery status notification (RFC 3464).\r\n"
        "--=_S.00\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "Content-Description: Notification\r\n"
        "\r\n"
        "This is the mail system at mx.example.net.\r\n"
        "\r\n"
        "Your message could not be delivered to one or more recipients.\r\n"
        "\r\n"
        "<bob@example.com>: failed, status 5.0.0 (Other undefined Status)\r\n"
        "\r\n"
        "The header section of your message is returned below.\r\n"
        "--=_S.00\r\n"
        "Content-Type: message/delivery-status\r\n"
        "Content-Description: Delivery report\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "\r\n"
        "Final-Recipient: rfc822;bob@example.com\r\n"
        "Action: failed\r\n"
        "Status: 5.0.0\r\n"
        "\r\n"
        "--=_S.00\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "Content-Description: Undelivered message header\r\n"
        "\r\n"
        "Return-Path: <alice@example.org>\r\n"
        "OPES-System: http://opes.example.net/sys\r\n"
        "From: Alice <alice@example.org>\r\n"
        "To: bob@example.com\r\n"
        "Subject: hello\r\n"
        "Message-ID: <abc@example.org>\r\n"
        "\r\n"
        "--=_S.00--\r\n";
    CHECK_ST(b.st, OPES_OK);
    CHECK_MEM(b.buf, b.len, want, sizeof want - 1);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_HEADERS);
    CHECK_EQ(b.plan.ret, OPES_DSN_RET_HDRS);
    CHECK_EQ(b.plan.envelope.notify_never, 1);
    CHECK_EQ(b.plan.envelope.requiretls, 0);
    CHECK_STR(b.plan.envelope.reverse_path, "");
    CHECK_STR(b.plan.envelope.recipient, "alice@example.org");
    /* the library's MIME walker reads the same structure */
    char types[256];
    walk_types(&b, types, sizeof types);
    CHECK_MEM(types, strlen(types),
              "multipart/report text/plain message/delivery-status text/rfc822-headers",
              strlen("multipart/report text/plain message/delivery-status text/rfc822-headers"));
    /* the same, fed one byte at a time */
    built c = build(&r, ORIG, sizeof ORIG - 1, 1, "S", 0);
    CHECK_MEM(c.buf, c.len, b.buf, b.len);
    free(b.buf);
    free(c.buf);
}

/* RFC 3464 10.x / RFC 3461 10.7 example values, every field, several
 * recipients. */
static void test_fields(void)
{
    opes_dsn_report r;
    opes_dsn_recipient p[3];
    base_report(&r, &p[0]);
    memset(&p[1], 0, sizeof p[1]);
    memset(&p[2], 0, sizeof p[2]);
    r.reporting_mta = S("dns; Example.ORG");
    r.envid = S("QQ314159");
    r.dsn_gateway = S("dns; gw.example.org");
    r.received_from_mta = S("dns; a.example.org");
    r.arrival_date = S("Sun, 6 Dec 2026 05:00:00 +0000");
    r.opes_system = S("http://opes.example.net/sys");
    r.opes_service = S("http://opes.example.net/spam");
    r.bypassable = OPES_DSN_BYPASS_NO;
    r.nrcpts = 3;
    p[0].orcpt_type = S("rfc822");
    p[0].orcpt = S("Carol@Ivory.EDU");
    p[0].final_recipient = S("Carol@Ivory.EDU");
    p[0].diagnostic = S("550 error - no such recipient");
    p[0].remote_mta = S("mx.ivory.edu");
    p[0].last_attempt_date = S("Sun, 6 Dec 2026 05:05:00 +0000");
    p[0].final_log_id = S("abc123");
    p[1].final_recipient = S("dave@example.com");
    p[1].action = OPES_DSN_ACTION_DELAYED;
    p[1].status = S("4.4.1");
    p[1].will_retry_until = S("Mon, 7 Dec 2026 05:00:00 +0000");
    p[1].diagnostic = S("550-mailbox unavailable\r\n550 user has moved with no forwarding address");
    p[2].final_recipient = S("erin@example.com");
    p[2].action = OPES_DSN_ACTION_FAILED;
    p[2].status = S("5.7.1");
    p[2].opes_service = S("http://opes.example.net/virus");
    p[2].bypassable = OPES_DSN_BYPASS_YES;
    built b = build(&r, ORIG, sizeof ORIG - 1, 7, "S", 0);
    CHECK_ST(b.st, OPES_OK);
    const char *const want[] = {
        "\r\nOriginal-Envelope-Id: QQ314159\r\nReporting-MTA: dns; Example.ORG\r\n"
        "DSN-Gateway: dns; gw.example.org\r\nReceived-From-MTA: dns; a.example.org\r\n"
        "Arrival-Date: Sun, 6 Dec 2026 05:00:00 +0000\r\n"
        "X-OPES-System: http://opes.example.net/sys\r\n"
        "X-OPES-Service: http://opes.example.net/spam\r\nX-OPES-Bypassable: no\r\n\r\n",
        "\r\n\r\nOriginal-Recipient: rfc822;Carol@Ivory.EDU\r\n"
        "Final-Recipient: rfc822;Carol@Ivory.EDU\r\nAction: failed\r\nStatus: 5.0.0\r\n"
        "Remote-MTA: dns; mx.ivory.edu\r\n"
        "Diagnostic-Code: smtp; 550 error - no such recipient\r\n"
        "Last-Attempt-Date: Sun, 6 Dec 2026 05:05:00 +0000\r\nFinal-Log-ID: abc123\r\n\r\n",
        /* RFC 3464 9.2, its example: "insert a SPACE before each line
         * after the first" */
        "\r\n\r\nFinal-Recipient: rfc822;dave@example.com\r\nAction: delayed\r\n"
        "Status: 4.4.1\r\n"
        "Diagnostic-Code: smtp; 550-mailbox unavailable\r\n"
        " 550 user has moved with no forwarding address\r\n"
        "Will-Retry-Until: Mon, 7 Dec 2026 05:00:00 +0000\r\n\r\n",
        "\r\n\r\nFinal-Recipient: rfc822;erin@example.com\r\nAction: failed\r\n"
        "Status: 5.7.1\r\nX-OPES-Service: http://opes.example.net/virus\r\n"
        "X-OPES-Bypassable: yes\r\n\r\n--=_S.00\r\n",
        /* the human part: OPES system and service, the bypass hint with the
         * header field and the ESMTP parameter (docs/opes-smtp.md 3.4, 8.1) */
        "    Your message was processed by the OPES system\r\n"
        "        http://opes.example.net/sys\r\n"
        "    This result was caused by the OPES service\r\n"
        "        http://opes.example.net/virus\r\n",
        "        OPES-Bypass: http://opes.example.net/virus\r\n",
        "        XOPES-BYPASS=http://opes.example.net/virus\r\n",
        "        http://opes.example.net/spam\r\n    This service may not be bypassed.\r\n",
        "Subject: Delivery Status Notification (Failure)\r\n",
        "Content-Type: message/rfc822\r\n",
        "Your message could not be delivered",
        "Your message has not yet been delivered",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int ok = contains(&b, want[i]);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "    missing: %s\n", want[i]);
    }
    char types[256];
    walk_types(&b, types, sizeof types);
    CHECK_MEM(types, strlen(types),
              "multipart/report text/plain message/delivery-status message/rfc822",
              strlen("multipart/report text/plain message/delivery-status message/rfc822"));
    /* a failure and RET unset: the full message (RFC 6522 3) */
    CHECK_EQ(b.plan.ret, OPES_DSN_RET_FULL);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_MESSAGE);
    CHECK_EQ(b.plan.length, sizeof ORIG - 1);
    free(b.buf);
    /* no failure: headers only (RFC 3461 4.3), subject says Delay */
    p[0].action = OPES_DSN_ACTION_DELIVERED;
    p[0].status = S("2.0.0");
    p[2].action = OPES_DSN_ACTION_RELAYED;
    p[2].status = S("2.0.0");
    r.ret = OPES_DSN_RET_FULL;
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_EQ(b.plan.ret, OPES_DSN_RET_HDRS);
    CHECK(contains(&b, "Subject: Delivery Status Notification (Delay)\r\n"));
    free(b.buf);
}

static void test_options(void)
{
    opes_dsn_report r;
    opes_dsn_recipient p;
    base_report(&r, &p);
    r.opes_system = S("http://opes.example.net/sys");
    r.opes_service = S("http://opes.example.net/virus");
    /* REQUIRETLS (RFC 8689 5): "the server MUST behave as if RET=HDRS was
     * present"; the report is sent with REQUIRETLS, not discarded */
    r.ret = OPES_DSN_RET_FULL;
    r.flags = OPES_DSN_F_REQUIRETLS;
    built b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_EQ(b.plan.ret, OPES_DSN_RET_HDRS);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_HEADERS);
    CHECK_EQ(b.plan.envelope.requiretls, 1);
    CHECK_EQ(b.plan.envelope.keep_without_requiretls, 1);
    CHECK(contains(&b, "sent with REQUIRETLS"));
    CHECK(!contains(&b, "Hello Bob."));
    free(b.buf);
    /* redacted: the Message-ID alone, no REQUIRETLS, OPES still named */
    r.flags = OPES_DSN_F_REQUIRETLS | OPES_DSN_F_REDACT;
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_REDACTED);
    CHECK_EQ(b.plan.length, 0);
    CHECK_EQ(b.plan.envelope.requiretls, 0);
    CHECK(contains(&b, "Content-Type: text/rfc822-headers\r\n"));
    CHECK(contains(&b, "\r\n\r\nMessage-ID: <abc@example.org>\r\n\r\n--=_S.00--\r\n"));
    CHECK(!contains(&b, "Subject: hello"));
    CHECK(!contains(&b, "\nOPES-System: http"));
    CHECK(contains(&b, "X-OPES-System: http://opes.example.net/sys\r\n"));
    CHECK(contains(&b, "X-OPES-Service: http://opes.example.net/virus\r\n"));
    CHECK(contains(&b, "        http://opes.example.net/virus\r\n"));
    CHECK(contains(&b, "sent from <alice@example.org>"));
    free(b.buf);
    /* redacted, no Message-ID in the original: no third part */
    static const char nomid[] = "Subject: x\r\n\r\nbody\r\n";
    b = build(&r, nomid, sizeof nomid - 1, 0, "S", 0);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_NONE);
    /* RFC 3464 2.1: the content ends with the last field's CRLF; the next
     * CRLF is the close-delimiter's, no empty line between them */
    CHECK(contains(&b, "Status: 5.0.0\r\n\r\n--=_S.00--\r\n"));
    CHECK(!contains(&b, "\r\n\r\n\r\n--=_S.00--"));
    free(b.buf);
    /* an empty original: no third part (an empty message/rfc822 is no
     * message), whatever RET said */
    r.flags = 0;
    r.ret = OPES_DSN_RET_FULL;
    b = build(&r, "", 0, 0, "S", 0);
    CHECK_EQ(b.st, OPES_OK);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_NONE);
    CHECK_EQ(b.plan.length, 0);
    CHECK(!contains(&b, "message/rfc822"));
    free(b.buf);
    /* the same with a two-line diagnostic, its continuation line the last
     * line of the head (found by fuzz_dsn_roundtrip): built in a buffer of
     * exactly the size asked for, the continuation must come out whole,
     * CRLF and LF (RFC 3464 9.2: SPACE before each further reply line) */
    p.diagnostic = S("550-5.7.1 first\r\n550 5.7.1 second (");
    b = build(&r, "", 0, 0, "S", 0);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_NONE);
    CHECK(contains(&b, "\r\nDiagnostic-Code: smtp; 550-5.7.1 first\r\n"
                       " 550 5.7.1 second (\r\n\r\n--=_S.00--\r\n"));
    free(b.buf);
    r.flags = OPES_DSN_F_LF;
    b = build(&r, "", 0, 0, "S", 0);
    CHECK(contains(&b, "\nDiagnostic-Code: smtp; 550-5.7.1 first\n"
                       " 550 5.7.1 second (\n\n--=_S.00--\n"));
    free(b.buf);
    r.flags = 0;
    p.diagnostic = S("");
    r.ret = OPES_DSN_RET_FULL;
    /* an original that ends in a bare CR (found by fuzz_dsn_roundtrip): the
     * delimiter's line end after it would make it CR LF, which RFC 2046
     * 5.1.1 gives to the delimiter; the CR is left out of the range (a
     * message counts as cut), never carried as a line end it was not */
    for (int lf = 0; lf < 2; lf++) {
        static const char hcr[] = "Subject: x\r\nX-Y: z\r";       /* header only */
        static const char mcr[] = "Subject: x\r\n\r\nbody\r\r\r"; /* a run of them, fed
                                                                  3 octets at a time */
        r.flags = lf ? OPES_DSN_F_LF : 0;
        b = build(&r, hcr, sizeof hcr - 1, 0, "S", 0);
        CHECK_EQ(b.plan.part, OPES_DSN_PART_HEADERS);
        CHECK_EQ(b.plan.length, sizeof hcr - 2);
        CHECK(contains(&b, lf ? "X-Y: z\n--=_S.00--\n" : "X-Y: z\r\n--=_S.00--\r\n"));
        free(b.buf);
        b = build(&r, mcr, sizeof mcr - 1, 3, "S", 0);
        CHECK_EQ(b.plan.part, OPES_DSN_PART_MESSAGE);
        CHECK_EQ(b.plan.length, sizeof mcr - 4);
        CHECK_EQ(b.plan.truncated, 1);
        CHECK(contains(&b, lf ? "\nbody\n--=_S.00--\n" : "\r\nbody\r\n--=_S.00--\r\n"));
        free(b.buf);
        /* CRs alone: nothing to return */
        b = build(&r, "\r\r", 2, 1, "S", 0);
        CHECK_EQ(b.st, OPES_OK);
        CHECK_EQ(b.plan.part, OPES_DSN_PART_NONE);
        CHECK_EQ(b.plan.length, 0);
        free(b.buf);
    }
    r.flags = 0;
    /* hostile content: headers at most */
    r.flags = OPES_DSN_F_HOSTILE;
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_EQ(b.plan.ret, OPES_DSN_RET_HDRS);
    CHECK(contains(&b, "hostile content"));
    free(b.buf);
    /* LF line ends */
    r.flags = OPES_DSN_F_LF;
    r.ret = OPES_DSN_RET_HDRS;
    p.diagnostic =
        S("550-a\n550-b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b "
          "b b b b\n550 c");
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    /* a continuation longer than a line is folded again; LF line ends */
    CHECK(contains(&b, "\nDiagnostic-Code: smtp; 550-a\n"
                       " 550-b b b b b b b b b b b b b b b b b b b b b b b b b b b b b\n"
                       " b b b b b b b b b b b\n 550 c\n"));
    p.diagnostic = S("");
    CHECK(contains(&b, "\nMIME-Version: 1.0\nContent-Type: multipart/report;"));
    CHECK(contains(&b, "\n--=_S.00--\n"));
    free(b.buf);
    /* subject given */
    r.flags = 0;
    r.subject = S("Undelivered Mail Returned to Sender");
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK(contains(&b, "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
    free(b.buf);
}

static void test_truncation(void)
{
    opes_dsn_report r;
    opes_dsn_recipient p;
    base_report(&r, &p);
    size_t hdr = (size_t)(strstr(ORIG, "\r\n\r\n") - ORIG) + 4;
    /* a limit inside the second body line: cut after the first */
    built b = build(&r, ORIG, sizeof ORIG - 1, 3, "S", hdr + 15);
    CHECK_EQ(b.plan.truncated, 1);
    CHECK_EQ(b.plan.length, hdr + 12); /* "Hello Bob.\r\n" */
    CHECK_EQ(b.plan.original_size, sizeof ORIG - 1);
    CHECK(contains(&b, "Hello Bob.\r\n\r\n--=_S.00--\r\n"));
    CHECK(!contains(&b, "Second line."));
    CHECK(contains(&b, "cut after "));
    CHECK(contains(&b, "Content-Description: Undelivered message (truncated)\r\n"));
    free(b.buf);
    /* a limit inside the header section: the header is never cut */
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 20);
    CHECK_EQ(b.plan.truncated, 1);
    CHECK_EQ(b.plan.length, hdr);
    CHECK(contains(&b, "Message-ID: <abc@example.org>\r\n\r\n\r\n--=_S.00--"));
    free(b.buf);
    /* a limit at the size or above: whole */
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", sizeof ORIG - 1);
    CHECK_EQ(b.plan.truncated, 0);
    CHECK_EQ(b.plan.length, sizeof ORIG - 1);
    free(b.buf);
}

/* A message without a body (RFC 5322 3.5: its header section ends at its
 * end, no empty line) asked back in full is returned as its header section:
 * as message/rfc822 the line end that RFC 2046 5.1.1 gives to the next
 * delimiter would read as the empty line ending its header (found by
 * fuzz_dsn_roundtrip). */
static void test_no_body(void)
{
    static const char NB[] = "From: a@example.org\r\nOPES-System: http://opes.example.net/sys\r\n";
    opes_dsn_report r;
    opes_dsn_recipient p;
    base_report(&r, &p);
    r.ret = OPES_DSN_RET_FULL;
    built b = build(&r, NB, sizeof NB - 1, 0, "S", 0);
    CHECK_ST(b.st, OPES_OK);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_HEADERS);
    CHECK_EQ(b.plan.offset, 0);
    CHECK_EQ(b.plan.length, sizeof NB - 1);
    CHECK(contains(&b, "Content-Type: text/rfc822-headers"));
    /* read back: the returned part is exactly the original */
    opes_mime_walker *w = NULL;
    opes_dsn_read_report rd;
    char scratch[64];
    CHECK_ST(opes_mime_walker_new(&w, NULL), OPES_OK);
    CHECK_ST(opes_dsn_message_parse(w, b.buf, b.len, 0, scratch, sizeof scratch, &rd, NULL),
             OPES_OK);
    CHECK_EQ(rd.returned_kind, OPES_DSN_RETURNED_HEADERS);
    CHECK(rd.returned.len == sizeof NB - 1 && memcmp(rd.returned.ptr, NB, sizeof NB - 1) == 0);
    opes_mime_walker_free(w);
    free(b.buf);
}

/* An address that holds "\\x" (a quoted-pair in a quoted local part, RFC
 * 5321 4.1.2) written in the plain utf-8-address form would read back
 * through RFC 6533's \\x{HEXPOINT} escape ("\\x{5C}" as "\\"): it is
 * written in the utf-8-addr-unitext form, whose "\\" is \\x{5C}, and reads
 * back as given. */
static void test_utf8_escape_literal(void)
{
    static const char A[] = "\"a\\x{5C}\xC3\xB6\"@example.com";
    opes_dsn_report r;
    opes_dsn_recipient p;
    base_report(&r, &p);
    p.final_recipient = S(A);
    built b = build(&r, "", 0, 0, "S", 0);
    CHECK_ST(b.st, OPES_OK);
    CHECK(contains(&b, "Final-Recipient: utf-8;\"a\\x{5C}x{5C}\xC3\xB6\"@example.com\r\n"));
    opes_mime_walker *w = NULL;
    opes_dsn_read_report rd;
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    char scratch[64], out[64];
    size_t n = 0;
    CHECK_ST(opes_mime_walker_new(&w, NULL), OPES_OK);
    CHECK_ST(opes_dsn_message_parse(w, b.buf, b.len, 0, scratch, sizeof scratch, &rd, NULL),
             OPES_OK);
    CHECK_ST(opes_dsn_recipients(&rd.status, &it), OPES_OK);
    CHECK_ST(opes_dsn_recipient_next(&it, &rc), OPES_OK);
    CHECK_ST(opes_dsn_value_decode(&rc.final_recipient, out, sizeof out, &n), OPES_OK);
    CHECK(n == sizeof A - 1 && memcmp(out, A, n) == 0);
    opes_mime_walker_free(w);
    free(b.buf);
}

static void test_boundary(void)
{
    opes_dsn_report r;
    opes_dsn_recipient p;
    base_report(&r, &p);
    /* the first candidates occur in the original: the third is taken; the
     * fourth occurs in a value of the report: the fifth */
    static const char orig[] = "Subject: =_seed.00\r\n\r\n--=_seed.01\r\nx=_seed.0=_seed.02\r\n"
                               "=_seed.0a lower-case digits are no candidate\r\n=_seed.";
    p.diagnostic = S("550 see =_seed.03");
    for (size_t step = 0; step < 4; step++) {
        built b = build(&r, orig, sizeof orig - 1, step, "seed", 0);
        CHECK_ST(b.st, OPES_OK);
        CHECK_MEM(b.boundary, strlen(b.boundary), "=_seed.04", 9);
        free(b.buf);
    }
    /* every candidate taken: OPES_EEXIST */
    char *all = malloc(OPES_DSN_CANDIDATES * 6);
    size_t n = 0;
    for (int i = 0; i < OPES_DSN_CANDIDATES; i++) {
        static const char hx[] = "0123456789ABCDEF";
        memcpy(all + n, "=_q.", 4);
        all[n + 4] = hx[i >> 4];
        all[n + 5] = hx[i & 15];
        n += 6;
    }
    built b = build(&r, all, n, 5, "q", 0);
    CHECK_ST(b.st, OPES_EEXIST);
    free(all);
    /* seeds */
    opes_dsn_builder *bb;
    opes_dsn_builder_new(&bb, NULL);
    CHECK_ST(opes_dsn_builder_set_seed(bb, "a=b", 3), OPES_EBAD_CHAR);
    CHECK_ST(opes_dsn_builder_set_seed(bb, "a b", 3), OPES_EBAD_CHAR);
    CHECK_ST(opes_dsn_builder_set_seed(bb, "", 0), OPES_EINVAL);
    char longseed[OPES_DSN_MAX_SEED + 1];
    memset(longseed, 'x', sizeof longseed);
    CHECK_ST(opes_dsn_builder_set_seed(bb, longseed, sizeof longseed), OPES_EPARAM_TOO_LONG);
    CHECK_ST(opes_dsn_builder_feed(bb, "x", 1), OPES_ESTATE); /* no seed yet */
    CHECK_ST(opes_dsn_builder_set_seed(bb, longseed, OPES_DSN_MAX_SEED), OPES_OK);
    CHECK_ST(opes_dsn_builder_feed(bb, "x", 1), OPES_OK);
    CHECK_ST(opes_dsn_builder_set_seed(bb, "y", 1), OPES_ESTATE);
    size_t len;
    CHECK_ST(opes_dsn_build_head(bb, NULL, 0, &len), OPES_ESTATE);
    opes_dsn_builder_free(bb);
}

static void test_refusals(void)
{
    opes_dsn_report r;
    opes_dsn_recipient p;
    struct {
        int which;
        const char *v;
        opes_status want;
    } cases[] = {
        {0, "Hi\r\nBcc: x@y", OPES_EINJECT},    /* subject */
        {1, "bob@example.com\n", OPES_EINJECT}, /* final recipient */
        {2, "QQ\r1", OPES_EINJECT},             /* envid */
        {2, "Q\xC3\xA9", OPES_EBAD_CHAR},       /* envid: printable ASCII */
        {2, " QQ314159", OPES_EBAD_CHAR},       /* envid: WSP at an end cannot come back */
        {2, "QQ314159\t", OPES_EBAD_CHAR},
        {8, "q-42 ", OPES_EBAD_CHAR},         /* final log id: the same */
        {9, "x local; mta7", OPES_EBAD_CHAR}, /* remote MTA: the type is an atom */
        {9, " ; mta7", OPES_EBAD_CHAR},
        {3, "550 a\rb", OPES_EINJECT},                  /* diagnostic: bare CR */
        {3, "oops", OPES_EBAD_REPLY},                   /* diagnostic: no code */
        {3, "550-a\r\n550-b", OPES_EBAD_REPLY},         /* last line with "-" */
        {4, "5.07.1", OPES_EBAD_ENHANCED_CODE},         /* status */
        {5, "6 Dec 2026 05:10:00 EST", OPES_EBAD_DATE}, /* numeric zone */
        {5, "yesterday", OPES_EBAD_DATE},
        {6, "opes/sys", OPES_EURI_NOT_ABSOLUTE}, /* OPES URI */
        /* RFC 3986 allows "(" and ")", but the reader of an RFC 3464 field
         * takes "(" for a comment: percent-encode them (opes-smtp.md 11.1) */
        {6, "http://opes.exam(le.net/spam", OPES_EBAD_CHAR},
        {6, "http://opes.example.net/a)b", OPES_EBAD_CHAR},
        {7, "b\xFF@example.com", OPES_EBAD_UTF8}, /* address */
        /* a control character in an address, in either form (found by
         * fuzz_dsn_build: the unitext encoder refused it with its own
         * status) */
        {7, "\xC3\xB6\\x\x0C@example.org", OPES_EBAD_CHAR},
        {7, "\xC3\xB6\\x\x01@example.org", OPES_EBAD_CHAR},
        {7, "\xC3\xB6\x01@example.org", OPES_EBAD_CHAR},
        {8, "id\x01", OPES_EBAD_CHAR},            /* a control: its field refuses it */
        /* dates: WSP at an end is no part of the value read back (found by
         * fuzz_dsn_roundtrip): refused as for envid */
        {10, "     Sun, 6 Dec 2026 05:05:00 -0800", OPES_EBAD_CHAR},
        {10, "Sun, 6 Dec 2026 05:05:00 -0800\t", OPES_EBAD_CHAR},
        {11, " Sun, 6 Dec 2026 05:05:00 -0800", OPES_EBAD_CHAR},
        {5, "Sun, 6 Dec 2026 05:05:00 -0800 ", OPES_EBAD_CHAR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        base_report(&r, &p);
        opes_str v = S(cases[i].v);
        switch (cases[i].which) {
        case 0:
            r.subject = v;
            break;
        case 1:
            p.final_recipient = v;
            break;
        case 2:
            r.envid = v;
            break;
        case 3:
            p.diagnostic = v;
            break;
        case 4:
            p.status = v;
            break;
        case 5:
            r.date = v;
            break;
        case 6:
            r.opes_system = v;
            break;
        case 7:
            p.final_recipient = v;
            break;
        case 9:
            p.remote_mta = v;
            break;
        case 10:
            p.last_attempt_date = v;
            break;
        case 11:
            r.arrival_date = v;
            break;
        default:
            p.final_log_id = v;
            break;
        }
        built b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
        CHECK_ST(b.st, cases[i].want);
        CHECK(b.buf == NULL);
    }
    base_report(&r, &p);
    p.will_retry_until = S("Mon, 7 Dec 2026 05:00:00 +0000"); /* only with delayed */
    built b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_ST(b.st, OPES_EINVAL);
    base_report(&r, &p);
    r.reporting_mta = S("");
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_ST(b.st, OPES_EINVAL);
}

static void test_8bit(void)
{
    opes_dsn_report r;
    opes_dsn_recipient p;
    base_report(&r, &p);
    static const char legacy[] = "Subject: x\r\n\r\ncaf\xE9\r\n";
    static const char utf8[] = "Subject: caf\xC3\xA9\r\nMessage-ID: <u@x>\r\n\r\nbody \xC3\xA9\r\n";
    /* 8-bit body, 7-bit path: headers only (RFC 6522 3) */
    built b = build(&r, legacy, sizeof legacy - 1, 0, "S", 0);
    CHECK_EQ(b.plan.headers_only_8bit, 1);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_HEADERS);
    CHECK(contains(&b, "8-bit data"));
    free(b.buf);
    /* with 8BITMIME: message/rfc822, 8bit */
    r.flags = OPES_DSN_F_PATH_8BITMIME;
    b = build(&r, legacy, sizeof legacy - 1, 0, "S", 0);
    CHECK_EQ(b.plan.part, OPES_DSN_PART_MESSAGE);
    CHECK_EQ(b.plan.cte, OPES_MIME_CTE_NONE);
    CHECK(contains(&b, "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n"));
    CHECK_EQ(b.plan.envelope.body_8bitmime, 1);
    free(b.buf);
    /* UTF-8 header, no SMTPUTF8 (RFC 6533 4.5): message/global, base64 */
    r.flags = 0;
    b = build(&r, utf8, sizeof utf8 - 1, 0, "S", 0);
    CHECK_EQ(b.plan.cte, OPES_MIME_CTE_BASE64);
    CHECK(contains(&b, "Content-Type: message/global\r\nContent-Transfer-Encoding: base64\r\n"));
    CHECK(contains(&b, "\r\n\r\nU3ViamVjdDog")); /* "Subject: " */
    CHECK_EQ(b.plan.envelope.smtputf8, 0);
    free(b.buf);
    /* with SMTPUTF8: as is */
    r.flags = OPES_DSN_F_PATH_SMTPUTF8;
    b = build(&r, utf8, sizeof utf8 - 1, 0, "S", 0);
    CHECK_EQ(b.plan.cte, OPES_MIME_CTE_NONE);
    CHECK(contains(&b, "Content-Type: message/global\r\nContent-Transfer-Encoding: 8bit\r\n"));
    CHECK_EQ(b.plan.envelope.smtputf8, 1);
    free(b.buf);
    /* headers only: message/global-headers, quoted-printable */
    r.flags = 0;
    r.ret = OPES_DSN_RET_HDRS;
    b = build(&r, utf8, sizeof utf8 - 1, 0, "S", 0);
    CHECK_EQ(b.plan.cte, OPES_MIME_CTE_QP);
    CHECK(contains(&b, "Content-Type: message/global-headers\r\n"
                       "Content-Transfer-Encoding: quoted-printable\r\n"));
    CHECK(contains(&b, "Subject: caf=C3=A9\r\n"));
    free(b.buf);
    /* a UTF-8 recipient: a global report (RFC 6533 4.1) */
    r.ret = OPES_DSN_RET_HDRS;
    p.final_recipient = S("j\xC3\xB6ran@example.org");
    p.orcpt_type = S("utf-8");
    p.orcpt = S("J\xC3\xB6ran@example.org");
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_ST(b.st, OPES_OK);
    CHECK_EQ(b.plan.global, 1);
    CHECK_EQ(b.plan.envelope.smtputf8, 1);
    CHECK(contains(&b, "report-type=global-delivery-status;"));
    CHECK(contains(&b, "Content-Type: message/global-delivery-status\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n"));
    CHECK(contains(&b, "\r\nOriginal-Recipient: utf-8;J\xC3\xB6ran@example.org\r\n"
                       "Final-Recipient: utf-8;j\xC3\xB6ran@example.org\r\n"));
    CHECK(contains(&b, "Content-Type: text/plain; charset=utf-8\r\n"));
    free(b.buf);
    /* one holding "\x" (found by fuzz_dsn_roundtrip): as it is it would
     * read as an escape (RFC 6533 3), so it is written as
     * utf-8-addr-unitext, "\" as \x{5C}; the others stay as they are */
    p.orcpt = S("J\xC3\xB6ran@\\xample.org");
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK_ST(b.st, OPES_OK);
    CHECK(contains(&b, "\r\nOriginal-Recipient: utf-8;J\xC3\xB6ran@\\x{5C}xample.org\r\n"
                       "Final-Recipient: utf-8;j\xC3\xB6ran@example.org\r\n"));
    free(b.buf);
    /* WSP at the ends is no part of the address: left out in that form too
     * (found by fuzz_dsn_roundtrip: \x{9} kept what the plain form drops) */
    p.orcpt = S(" \tJ\xC3\xB6ran@\\xample.org\t ");
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK(contains(&b, "\r\nOriginal-Recipient: utf-8;J\xC3\xB6ran@\\x{5C}xample.org\r\n"));
    free(b.buf);
    p.orcpt = S("a\\x{E9}b@example.org"); /* ASCII, given as utf-8 */
    b = build(&r, ORIG, sizeof ORIG - 1, 0, "S", 0);
    CHECK(contains(&b, "\r\nOriginal-Recipient: utf-8;a\\x{5C}x{E9}b@example.org\r\n"));
    free(b.buf);
}

static void test_objects(void)
{
    /* fixed memory, caller memory */
    CHECK(opes_dsn_builder_sizeof() < 32768);
    static union {
        char c[32768];
        long double ld;
        void *p;
    } mem;
    opes_dsn_builder *b = NULL;
    CHECK_ST(opes_dsn_builder_init_in(mem.c, 10, &b), OPES_EINVAL);
    CHECK_ST(opes_dsn_builder_init_in(mem.c, sizeof mem.c, &b), OPES_OK);
    CHECK_ST(opes_dsn_builder_set_seed(b, "x", 1), OPES_OK);
    CHECK_ST(opes_dsn_builder_feed(b, ORIG, sizeof ORIG - 1), OPES_OK);
    opes_str f;
    CHECK_ST(opes_dsn_builder_original_field(b, OPES_DSN_ORIG_MESSAGE_ID, &f), OPES_ESTATE);
    CHECK_ST(opes_dsn_builder_end(b), OPES_OK);
    CHECK_ST(opes_dsn_builder_original_field(b, OPES_DSN_ORIG_MESSAGE_ID, &f), OPES_OK);
    CHECK_STR(f, "<abc@example.org>");
    CHECK_ST(opes_dsn_builder_original_field(b, OPES_DSN_ORIG_RETURN_PATH, &f), OPES_OK);
    CHECK_STR(f, "<alice@example.org>");
    CHECK_ST(opes_dsn_builder_feed(b, "x", 1), OPES_ESTATE);
    opes_dsn_builder_free(b); /* no-op */
    CHECK_ST(opes_dsn_builder_reset(b), OPES_OK);
    CHECK_ST(opes_dsn_builder_set_seed(b, "x", 1), OPES_OK);
    static const char folded[] = "Message-ID:\r\n <f@x>\r\n";
    CHECK_ST(opes_dsn_builder_feed(b, folded, sizeof folded - 1), OPES_OK);
    CHECK_ST(opes_dsn_builder_end(b), OPES_OK);
    CHECK_ST(opes_dsn_builder_original_field(b, OPES_DSN_ORIG_MESSAGE_ID, &f), OPES_OK);
    CHECK_STR(f, "<f@x>");
    CHECK_ST(opes_dsn_builder_original_field(b, OPES_DSN_ORIG_RETURN_PATH, &f), OPES_ENOTFOUND);
    CHECK_ST(opes_dsn_builder_new(NULL, NULL), OPES_EINVAL);
}

int main(void)
{
    test_encoders();
    test_due();
    test_exact();
    test_fields();
    test_options();
    test_truncation();
    test_no_body();
    test_utf8_escape_literal();
    test_boundary();
    test_refusals();
    test_8bit();
    test_objects();
    return TEST_END();
}
