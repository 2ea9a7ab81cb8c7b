/* Replies: line, push and whole-reply parsers, enhanced status codes, the
 * builder. Expectations come from RFC examples (quoted with their section)
 * and from replies captured from a real server (tests/vectors/replies/,
 * aiosmtpd 1.4.3, split into lines by the capture script, not by libopes). */
#include "harness.h"
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>

/* ---- a growing string for event logs ------------------------------------ */

struct sb {
    char *p;
    size_t n, cap;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *s, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    size_t add = (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1;
    if (s->n + add + 1 > s->cap) {
        size_t nc = (s->cap ? s->cap * 2 : 256) + add;
        char *np = realloc(s->p, nc);
        if (!np)
            abort();
        s->p = np;
        s->cap = nc;
    }
    memcpy(s->p + s->n, tmp, add);
    s->n += add;
    s->p[s->n] = '\0';
}

static void sb_view(struct sb *s, opes_str v)
{
    sb_printf(s, "[");
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c >= 32 && c < 127 && c != '\\')
            sb_printf(s, "%c", c);
        else
            sb_printf(s, "\\x%02x", c);
    }
    sb_printf(s, "]");
}

static void sb_free(struct sb *s)
{
    free(s->p);
    s->p = NULL;
    s->n = s->cap = 0;
}

static void log_event(struct sb *s, const opes_reply_event *ev)
{
    const opes_reply_line *l = &ev->line;
    sb_printf(s, "r%zu i%zu @%zu %d%c len%zu text=", ev->reply, ev->index, ev->offset, l->code,
              l->is_last ? ' ' : '-', l->line_len);
    sb_view(s, l->text);
    sb_printf(s, " esc=");
    sb_view(s, l->enhanced);
    sb_printf(s, " %d.%d.%d msg=", l->esc_class, l->esc_subject, l->esc_detail);
    sb_view(s, l->message);
    sb_printf(s, " f%u n%u\n", l->esc_flags, l->notes);
}

/*
 * Run the push parser over data[0..n) delivered in chunks of `chunk` bytes.
 * The caller's buffer (unconsumed bytes + the chunks received) is copied
 * to the end of a guarded page before each call, so a read past it faults.
 * Returns 0 if an invariant broke (used > len, a non-sticky error).
 */
static int run_stream(const opes_smtp_config *cfg, const char *data, size_t n, size_t chunk,
                      struct sb *log)
{
    opes_reply_parser *p = NULL;
    size_t recv = 0, cons = 0;
    int ok = 1;
    if (opes_reply_parser_new(&p, NULL) != OPES_OK)
        return 0;
    opes_reply_parser_set_config(p, cfg);
    for (;;) {
        size_t avail = recv - cons, used = 12345;
        opes_reply_event ev;
        const char *g = guarded_copy(data + cons, avail);
        opes_status st = opes_reply_parser_feed(p, g, avail, &used, &ev);
        if (used > avail || (st != OPES_OK && used != 0))
            ok = 0;
        if (st == OPES_OK) {
            log_event(log, &ev);
            cons += used;
            guarded_free(g);
            continue;
        }
        guarded_free(g);
        if (st == OPES_INCOMPLETE) {
            if (recv == n)
                break;
            recv = n - recv < chunk ? n : recv + chunk;
            continue;
        }
        sb_printf(log, "ERR %s at %zu (line @%zu +%zu, r%zu i%zu)\n", opes_status_name(st),
                  opes_reply_parser_error_offset(p), ev.offset, ev.line.error_offset, ev.reply,
                  ev.index);
        /* sticky: the same error again, even with no bytes */
        if (opes_reply_parser_feed(p, NULL, 0, &used, &ev) != st || used != 0)
            ok = 0;
        break;
    }
    sb_printf(log, "END pending=%zu consumed=%zu\n", opes_reply_parser_pending(p), cons);
    opes_reply_parser_free(p);
    return ok;
}

/* Every split 1..n gives the log of the whole input. Returns the whole log
 * (caller frees) for further checks. */
static char *check_splits(const opes_smtp_config *cfg, const char *data, size_t n)
{
    struct sb whole = {0};
    size_t bad_k = 0;
    int inv = run_stream(cfg, data, n, n ? n : 1, &whole);
    for (size_t k = 1; k < n; k++) {
        struct sb part = {0};
        inv &= run_stream(cfg, data, n, k, &part);
        if (!bad_k && (part.n != whole.n || memcmp(part.p, whole.p, whole.n) != 0)) {
            bad_k = k;
            fprintf(stderr, "chunk %zu gives:\n%s\nwhole gives:\n%s\n", k, part.p, whole.p);
        }
        sb_free(&part);
    }
    CHECK(inv);
    CHECK_EQ(bad_k, 0);
    return whole.p;
}

/* One expected line: code, last, text (the rest of an RFC line after the
 * four-character "NNN-" / "NNN "). */
struct exp_line {
    int code;
    int last;
    const char *text;
    size_t text_len;
};

static size_t exp_from_rfc(const char *const *rfc, size_t count, struct exp_line *out)
{
    for (size_t i = 0; i < count; i++) {
        const char *s = rfc[i];
        size_t sl = strlen(s);
        out[i].code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        out[i].last = sl < 4 || s[3] != '-';
        out[i].text = sl > 4 ? s + 4 : "";
        out[i].text_len = sl > 4 ? sl - 4 : 0;
    }
    return count;
}

/* Feed the whole stream once and compare the events with exp[]; then check
 * every split, then read it reply by reply with opes_reply_parse(). */
static void check_stream(const opes_smtp_config *cfg, const char *data, size_t n,
                         const struct exp_line *exp, size_t count)
{
    opes_reply_parser *p = NULL;
    const char *g = guarded_copy(data, n);
    size_t off = 0, i = 0, replies = 0;
    CHECK_ST(opes_reply_parser_new(&p, NULL), OPES_OK);
    opes_reply_parser_set_config(p, cfg);
    for (;;) {
        size_t used;
        opes_reply_event ev;
        opes_status st = opes_reply_parser_feed(p, g + off, n - off, &used, &ev);
        if (st != OPES_OK) {
            CHECK_ST(st, OPES_INCOMPLETE);
            break;
        }
        if (i < count) {
            CHECK_EQ(ev.line.code, exp[i].code);
            CHECK_EQ(ev.line.is_last, exp[i].last);
            CHECK_MEM(ev.line.text.ptr, ev.line.text.len, exp[i].text, exp[i].text_len);
            CHECK_EQ(ev.offset, off);
            CHECK_EQ(ev.reply, replies);
        }
        if (ev.line.is_last)
            replies++;
        i++;
        off += used;
    }
    CHECK_EQ(i, count);
    CHECK_EQ(off, n);
    CHECK_EQ(opes_reply_parser_pending(p), 0);
    opes_reply_parser_free(p);

    free(check_splits(cfg, g, n));

    /* the same stream, reply by reply */
    off = 0;
    i = 0;
    while (off < n) {
        opes_reply r;
        size_t used, pos = 0, k = 0;
        opes_reply_line l;
        opes_status st = opes_reply_parse(cfg, g + off, n - off, &r, &used);
        CHECK_ST(st, OPES_OK);
        if (st != OPES_OK)
            break;
        CHECK_EQ(r.span.len, used);
        while (opes_reply_next_line(&r, &pos, &l) == OPES_OK) {
            if (i + k < count) {
                CHECK_EQ(l.code, exp[i + k].code);
                CHECK_EQ(r.code, exp[i + k].code);
                CHECK_EQ(l.is_last, exp[i + k].last);
                CHECK_MEM(l.text.ptr, l.text.len, exp[i + k].text, exp[i + k].text_len);
            }
            k++;
        }
        CHECK_EQ(pos, used);
        CHECK_EQ(k, r.nlines);
        i += k;
        off += used;
    }
    CHECK_EQ(i, count);
    guarded_free(g);
}

/* Build the wire form of RFC lines (each + CRLF) and check it. */
static void check_rfc(const opes_smtp_config *cfg, const char *const *rfc, size_t count)
{
    struct exp_line *exp = calloc(count, sizeof *exp);
    struct sb wire = {0};
    if (!exp)
        abort();
    exp_from_rfc(rfc, count, exp);
    for (size_t i = 0; i < count; i++)
        sb_printf(&wire, "%s\r\n", rfc[i]);
    check_stream(cfg, wire.p, wire.n, exp, count);
    sb_free(&wire);
    free(exp);
}

/* Does the log have a line starting with prefix and containing part? */
static int log_has(const char *log, const char *prefix, const char *part)
{
    const char *l = log;
    while (l && *l) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        if (strncmp(l, prefix, strlen(prefix)) == 0) {
            const char *f = strstr(l, part);
            if (f && f < l + n)
                return 1;
        }
        l = nl ? nl + 1 : NULL;
    }
    return 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- RFC examples -------------------------------------------------------- */

static void test_rfc5321_multiline(void)
{
    /* RFC 5321 4.2.1: "250-First line / 250-Second line / 250-234 Text
     * beginning with numbers / 250 The last line" */
    static const char *const rfc[] = {"250-First line", "250-Second line",
                                      "250-234 Text beginning with numbers", "250 The last line"};
    check_rfc(NULL, rfc, COUNT(rfc));

    const char *wire = "250-First line\r\n250-Second line\r\n250-234 Text beginning with "
                       "numbers\r\n250 The last line\r\n";
    const char *g = guarded_copy(wire, strlen(wire));
    opes_reply r;
    size_t used, pos = 0;
    opes_reply_line l;
    CHECK_ST(opes_reply_parse(NULL, g, strlen(wire), &r, &used), OPES_OK);
    CHECK_EQ(r.code, 250);
    CHECK_EQ(r.nlines, 4);
    CHECK_EQ(used, strlen(wire));
    CHECK_EQ(r.enhanced.len, 0);
    CHECK_EQ(r.esc_flags, 0); /* "234 Text" is not an enhanced code */
    CHECK_EQ(r.notes, 0);
    CHECK_ST(opes_reply_next_line(&r, &pos, &l), OPES_OK);
    CHECK_STR(l.text, "First line");
    CHECK_EQ(l.is_last, 0);
    CHECK_ST(opes_reply_next_line(&r, &pos, &l), OPES_OK);
    CHECK_ST(opes_reply_next_line(&r, &pos, &l), OPES_OK);
    CHECK_STR(l.message, "234 Text beginning with numbers");
    CHECK_ST(opes_reply_next_line(&r, &pos, &l), OPES_OK);
    CHECK_STR(l.text, "The last line");
    CHECK_EQ(l.is_last, 1);
    CHECK_ST(opes_reply_next_line(&r, &pos, &l), OPES_ENOTFOUND);
    CHECK_ST(opes_reply_next_line(&r, &pos, &l), OPES_ENOTFOUND);
    pos = r.span.len + 1;
    CHECK_ST(opes_reply_next_line(&r, &pos, &l), OPES_EINVAL);
    /* every proper prefix is incomplete */
    for (size_t k = 0; k < strlen(wire); k++) {
        const char *h = guarded_copy(wire, k);
        CHECK_ST(opes_reply_parse(NULL, h, k, &r, &used), OPES_INCOMPLETE);
        CHECK_EQ(used, 0);
        guarded_free(h);
    }
    guarded_free(g);
}

static void test_rfc5321_appendix_d(void)
{
    /* RFC 5321 Appendix D.1, the server's side ("S:") in order. */
    static const char *const d1[] = {"220 foo.com Simple Mail Transfer Service Ready",
                                     "250-foo.com greets bar.com",
                                     "250-8BITMIME",
                                     "250-SIZE",
                                     "250-DSN",
                                     "250 HELP",
                                     "250 OK",
                                     "250 OK",
                                     "550 No such user here",
                                     "250 OK",
                                     "354 Start mail input; end with <CRLF>.<CRLF>",
                                     "250 OK",
                                     "221 foo.com Service closing transmission channel"};
    /* D.2 aborted transaction */
    static const char *const d2[] = {"220 foo.com Simple Mail Transfer Service Ready",
                                     "250-foo.com greets bar.com",
                                     "250-8BITMIME",
                                     "250-SIZE",
                                     "250-DSN",
                                     "250 HELP",
                                     "250 OK",
                                     "250 OK",
                                     "550 No such user here",
                                     "250 OK",
                                     "221 foo.com Service closing transmission channel"};
    /* D.3 step 2, relay to destination (the single-line EHLO reply) */
    static const char *const d3[] = {"220 xyz.com Simple Mail Transfer Service Ready",
                                     "250 xyz.com is on the air",
                                     "250 OK",
                                     "250 OK",
                                     "354 Start mail input; end with <CRLF>.<CRLF>",
                                     "250 OK",
                                     "221 foo.com Service closing transmission channel"};
    /* D.4 verifying and sending */
    static const char *const d4[] = {"220 foo.com Simple Mail Transfer Service Ready",
                                     "250-foo.com greets bar.com",
                                     "250-8BITMIME",
                                     "250-SIZE",
                                     "250-DSN",
                                     "250-VRFY",
                                     "250 HELP",
                                     "250 Mark Crispin <Admin.MRC@foo.com>",
                                     "250 OK",
                                     "250 OK",
                                     "354 Start mail input; end with <CRLF>.<CRLF>",
                                     "250 OK",
                                     "221 foo.com Service closing transmission channel"};
    check_rfc(NULL, d1, COUNT(d1));
    check_rfc(NULL, d2, COUNT(d2));
    check_rfc(NULL, d3, COUNT(d3));
    check_rfc(NULL, d4, COUNT(d4));
}

static void test_rfc2920_rfc3030(void)
{
    /* RFC 2920 4, pipelined: five replies arrive back to back. */
    static const char *const pipe1[] = {"220 innosoft.com SMTP service ready",
                                        "250-innosoft.com",
                                        "250 PIPELINING",
                                        "250 sender <mrose@dbc.mtview.ca.us> OK",
                                        "250 recipient <ned@innosoft.com> OK",
                                        "250 recipient <dan@innosoft.com> OK",
                                        "250 recipient <kvc@innosoft.com> OK",
                                        "354 enter mail, end with line containing only \".\"",
                                        "250 message sent",
                                        "221 goodbye"};
    /* RFC 2920 4, all recipients rejected ("bellore" [sic]) */
    static const char *const pipe2[] = {"220 innosoft.com SMTP service ready",
                                        "250-innosoft.com",
                                        "250 PIPELINING",
                                        "250 sender <mrose@dbc.mtview.ca.us> OK",
                                        "550 remote mail to <nsb@thumper.bellore.com> not allowed",
                                        "550 remote mail to <galvin@tis.com> not allowed",
                                        "554 no valid recipients given",
                                        "221 goodbye"};
    /* RFC 3030 4.1 and 4.2 (receiver "R:" lines) */
    static const char *const chunk1[] = {"220 cnri.reston.va.us SMTP service ready",
                                         "250-cnri.reston.va.us says hello",
                                         "250 CHUNKING",
                                         "250 <Sam@Random.com> Sender ok",
                                         "250 <Susan@random.com> Recipient ok",
                                         "250 Message OK, 86 octets received",
                                         "221 Goodbye"};
    static const char *const chunk2[] = {"220 cnri.reston.va.us SMTP service ready",
                                         "250-cnri.reston.va.us says hello",
                                         "250-PIPELINING",
                                         "250-BINARYMIME",
                                         "250 CHUNKING",
                                         "250 <ned@ymir.claremont.edu>... Sender and BINARYMIME ok",
                                         "250 <gvaudre@cnri.reston.va.us>... Recipient ok",
                                         "250 <jstewart@cnri.reston.va.us>... Recipient ok",
                                         "250 100000 octets received",
                                         "250 324 octets received",
                                         "250 Message OK, 100324 octets received",
                                         "221 Goodbye"};
    check_rfc(NULL, pipe1, COUNT(pipe1));
    check_rfc(NULL, pipe2, COUNT(pipe2));
    check_rfc(NULL, chunk1, COUNT(chunk1));
    check_rfc(NULL, chunk2, COUNT(chunk2));

    /* RFC 2920 3.1: replies are matched to commands by counting. The
     * pipelined group MAIL, RCPT x3, DATA gets replies 3..7 (0-based). */
    struct sb wire = {0};
    for (size_t i = 0; i < COUNT(pipe1); i++)
        sb_printf(&wire, "%s\r\n", pipe1[i]);
    char *log = check_splits(NULL, wire.p, wire.n);
    CHECK(log_has(log, "r6 i0 @", " 354  len"));
    CHECK(log_has(log, "r8 i0 @", " 221  len"));
    CHECK(strstr(log, "r9 ") == NULL);
    free(log);
    sb_free(&wire);
}

static void test_rfc4954(void)
{
    /* RFC 4954 4: "a server challenge that contains no data is defined as a
     * 334 reply with no text part. Note that there is still a space
     * following the reply code, so the complete response line is "334 "." */
    opes_reply_line l;
    size_t used;
    const char *g = guarded_copy("334 \r\n", 6);
    CHECK_ST(opes_reply_line_parse(NULL, g, 6, &l, &used), OPES_OK);
    CHECK_EQ(used, 6);
    CHECK_EQ(l.code, 334);
    CHECK_EQ(l.is_last, 1);
    CHECK_EQ(l.text.len, 0);
    CHECK_EQ(l.message.len, 0);
    guarded_free(g);
    /* RFC 5321 4.2: the code alone, without the space, too */
    g = guarded_copy("334\r\n", 5);
    CHECK_ST(opes_reply_line_parse(NULL, g, 5, &l, &used), OPES_OK);
    CHECK_EQ(used, 5);
    CHECK_EQ(l.is_last, 1);
    CHECK_EQ(l.text.len, 0);
    guarded_free(g);

    /* RFC 4954 4.1, the PLAIN and CRAM-MD5 examples (server side after
     * STARTTLS; the CRAM-MD5 challenge is one line on the wire). */
    static const char *const plain[] = {"250-smtp.example.com Hello client.example.com",
                                        "250 AUTH GSSAPI DIGEST-MD5 PLAIN", "334 ",
                                        "235 2.7.0 Authentication successful"};
    static const char *const cram[] = {
        "220-smtp.example.com ESMTP Server",
        "220 smtp.example.com ESMTP Server", /* the RFC abbreviates the greeting */
        "250-smtp.example.com Hello client.example.com",
        "250-AUTH DIGEST-MD5 CRAM-MD5",
        "250-ENHANCEDSTATUSCODES",
        "250 STARTTLS",
        "334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=",
        "235 2.7.0 Authentication successful"};
    check_rfc(NULL, plain, COUNT(plain));
    check_rfc(NULL, cram, COUNT(cram));

    g = guarded_copy("235 2.7.0 Authentication successful\r\n", 37);
    CHECK_ST(opes_reply_line_parse(NULL, g, 37, &l, &used), OPES_OK);
    CHECK_STR(l.enhanced, "2.7.0");
    CHECK_EQ(l.esc_class, 2);
    CHECK_EQ(l.esc_subject, 7);
    CHECK_EQ(l.esc_detail, 0);
    CHECK_STR(l.message, "Authentication successful");
    CHECK_EQ(l.esc_flags, 0);
    guarded_free(g);
}

static void test_rfc2034(void)
{
    /* RFC 2034 6, the server's side. Every 2xx/4xx/5xx reply but the
     * greeting and the EHLO reply carries a code; 354 carries none; the
     * multi-line 551 repeats 5.7.1 on each line. */
    static const char *const rfc[] = {"220 dbc.mtview.ca.us SMTP service ready",
                                      "250-dbc.mtview.ca.us says hello",
                                      "250 ENHANCEDSTATUSCODES",
                                      "250 2.1.0 Originator <ned@ymir.claremont.edu> ok",
                                      "250 2.1.5 Recipient <mrose@dbc.mtview.ca.us> ok",
                                      "550 5.1.1 Mailbox \"nosuchuser\" does not exist",
                                      "551-5.7.1 Forwarding to remote hosts disabled",
                                      "551 5.7.1 Select another host to act as your forwarder",
                                      "354 Send message, ending in CRLF.CRLF.",
                                      "250 2.6.0 Message accepted",
                                      "221 2.0.0 Goodbye"};
    static const struct {
        const char *esc;
        int c, s, d;
        const char *msg;
    } want[] = {{"", 0, 0, 0, "dbc.mtview.ca.us SMTP service ready"},
                {"", 0, 0, 0, "dbc.mtview.ca.us says hello"},
                {"", 0, 0, 0, "ENHANCEDSTATUSCODES"},
                {"2.1.0", 2, 1, 0, "Originator <ned@ymir.claremont.edu> ok"},
                {"2.1.5", 2, 1, 5, "Recipient <mrose@dbc.mtview.ca.us> ok"},
                {"5.1.1", 5, 1, 1, "Mailbox \"nosuchuser\" does not exist"},
                {"5.7.1", 5, 7, 1, "Forwarding to remote hosts disabled"},
                {"5.7.1", 5, 7, 1, "Select another host to act as your forwarder"},
                {"", 0, 0, 0, "Send message, ending in CRLF.CRLF."},
                {"2.6.0", 2, 6, 0, "Message accepted"},
                {"2.0.0", 2, 0, 0, "Goodbye"}};
    struct sb wire = {0};
    opes_reply_parser *p;
    size_t off = 0, i = 0;
    check_rfc(NULL, rfc, COUNT(rfc));
    for (size_t k = 0; k < COUNT(rfc); k++)
        sb_printf(&wire, "%s\r\n", rfc[k]);
    CHECK_ST(opes_reply_parser_new(&p, NULL), OPES_OK);
    for (;;) {
        opes_reply_event ev;
        size_t used;
        if (opes_reply_parser_feed(p, wire.p + off, wire.n - off, &used, &ev) != OPES_OK)
            break;
        if (i < COUNT(want)) {
            CHECK_MEM(ev.line.enhanced.ptr, ev.line.enhanced.len, want[i].esc, strlen(want[i].esc));
            CHECK_EQ(ev.line.esc_class, want[i].c);
            CHECK_EQ(ev.line.esc_subject, want[i].s);
            CHECK_EQ(ev.line.esc_detail, want[i].d);
            CHECK_MEM(ev.line.message.ptr, ev.line.message.len, want[i].msg, strlen(want[i].msg));
            CHECK_EQ(ev.line.esc_flags, 0);
        }
        i++;
        off += used;
    }
    CHECK_EQ(i, COUNT(want));
    opes_reply_parser_free(p);

    /* the 551, whole */
    const char *w551 = "551-5.7.1 Forwarding to remote hosts disabled\r\n"
                       "551 5.7.1 Select another host to act as your forwarder\r\n";
    opes_reply r;
    size_t used;
    CHECK_ST(opes_reply_parse(NULL, w551, strlen(w551), &r, &used), OPES_OK);
    CHECK_EQ(r.nlines, 2);
    CHECK_STR(r.enhanced, "5.7.1");
    CHECK_EQ(r.esc_flags, 0);
    sb_free(&wire);
}

static void test_rfc3461_replies(void)
{
    /* RFC 3461 10.1 and 10.4 (the "<<<" server lines) */
    static const char *const s101[] = {"220 Example.ORG SMTP server here",
                                       "250-Example.ORG",
                                       "250-DSN",
                                       "250-EXPN",
                                       "250 SIZE",
                                       "250 <Alice@Example.ORG> sender ok",
                                       "250 <Bob@Example.COM> recipient ok",
                                       "250 <Carol@Ivory.EDU> recipient ok",
                                       "250 <Dana@Ivory.EDU> recipient ok",
                                       "250 <Eric@Bombs.AF.MIL> recipient ok",
                                       "250 <Fred@Bombs.AF.MIL> recipient ok",
                                       "250 <George@Tax-ME.GOV> recipient ok",
                                       "354 okay, send message",
                                       "250 message accepted",
                                       "221 goodbye"};
    static const char *const s104[] = {"220-Bombs.AF.MIL reporting for duty.",
                                       ("220 Electronic mail is to be used for official "
                                        "business only."),
                                       "502 command not implemented",
                                       "250 reset",
                                       "250 Bombs.AF.MIL",
                                       "221 Bombs.AF.MIL closing connection"};
    check_rfc(NULL, s101, COUNT(s101));
    check_rfc(NULL, s104, COUNT(s104));
}

/* ---- a real server -------------------------------------------------------- */

static void check_fixture(const char *name)
{
    char path[256];
    size_t n, en, count = 0;
    char *data, *expect;
    struct exp_line *exp;

    snprintf(path, sizeof path, "tests/vectors/replies/%s.bin", name);
    data = test_read_file(path, &n);
    snprintf(path, sizeof path, "tests/vectors/replies/%s.expect", name);
    expect = test_read_file(path, &en);
    CHECK(data != NULL && expect != NULL);
    if (!data || !expect) {
        free(data);
        free(expect);
        return;
    }
    for (size_t i = 0; i < en; i++)
        count += expect[i] == '\n';
    exp = calloc(count ? count : 1, sizeof *exp);
    if (!exp)
        abort();
    /* "<code>\t<last>\t<text>\n" as written by capture-aiosmtpd.py */
    char *s = expect;
    for (size_t i = 0; i < count; i++) {
        char *nl = strchr(s, '\n');
        char *t1 = strchr(s, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!nl || !t1 || !t2 || t2 > nl)
            abort();
        exp[i].code = atoi(s);
        exp[i].last = atoi(t1 + 1);
        exp[i].text = t2 + 1;
        exp[i].text_len = (size_t)(nl - (t2 + 1));
        s = nl + 1;
    }
    check_stream(NULL, data, n, exp, count);
    free(exp);
    free(data);
    free(expect);
}

static void test_aiosmtpd(void)
{
    check_fixture("aiosmtpd-1.4.3-plain");
    check_fixture("aiosmtpd-1.4.3-auth-utf8");

    /* the AUTH LOGIN challenges of aiosmtpd are 334 + base64 of
     * "User Name\0" and "Password\0" */
    size_t n;
    char *data = test_read_file("tests/vectors/replies/aiosmtpd-1.4.3-auth-utf8.bin", &n);
    CHECK(data != NULL);
    if (data) {
        char *log = check_splits(NULL, data, n);
        CHECK(strstr(log, "334  len22 text=[VXNlciBOYW1lAA==]") != NULL);
        CHECK(strstr(log, "235  len37 text=[2.7.0 Authentication successful] esc=[2.7.0]") != NULL);
        CHECK(strstr(log, "END pending=0") != NULL);
        free(log);
        free(data);
    }
}

/* ---- the line grammar, edge by edge --------------------------------------- */

static opes_status line1(const opes_smtp_config *cfg, const char *s, size_t n, opes_reply_line *l,
                         size_t *used)
{
    const char *g = guarded_copy(s, n);
    opes_status st = opes_reply_line_parse(cfg, g, n, l, used);
    /* views must point into the guarded copy; re-point them at s */
    if (st == OPES_OK) {
        if (l->text.ptr)
            l->text.ptr = s + (l->text.ptr - g);
        if (l->enhanced.ptr)
            l->enhanced.ptr = s + (l->enhanced.ptr - g);
        if (l->message.ptr)
            l->message.ptr = s + (l->message.ptr - g);
    }
    guarded_free(g);
    return st;
}

#define LINE(cfg, lit, l, used) line1((cfg), (lit), sizeof(lit) - 1, (l), (used))

static void test_line_grammar(void)
{
    opes_reply_line l;
    size_t used;
    opes_smtp_config *lenient = NULL, *utf8 = NULL;
    CHECK_ST(opes_smtp_config_new(&lenient, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_new(&utf8, NULL), OPES_OK);
    opes_smtp_config_set_lenient(lenient, OPES_LENIENT_BARE_LF | OPES_LENIENT_8BIT);
    opes_smtp_config_set_utf8(utf8, 1);

    /* Reply-code = %x32-35 %x30-35 %x30-39 */
    CHECK_ST(LINE(NULL, "200 ok\r\n", &l, &used), OPES_OK);
    CHECK_ST(LINE(NULL, "559 ok\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.code, 559);
    CHECK_ST(LINE(NULL, "259 ok\r\n", &l, &used), OPES_OK);
    CHECK_ST(LINE(NULL, "260 ok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_EQ(l.error_offset, 1);
    CHECK_ST(LINE(NULL, "199 ok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_EQ(l.error_offset, 0);
    CHECK_EQ(used, 8); /* the LF is there: the caller may skip the line */
    CHECK_ST(LINE(NULL, "600 ok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_ST(LINE(NULL, "270 ok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_EQ(l.error_offset, 1);
    CHECK_ST(LINE(NULL, "25a ok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_EQ(l.error_offset, 2);
    CHECK_ST(LINE(NULL, "25\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_ST(LINE(NULL, "2500 ok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_EQ(l.error_offset, 3);
    CHECK_ST(LINE(NULL, "250\tok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_ST(LINE(NULL, " 250 ok\r\n", &l, &used), OPES_EBAD_REPLY);
    CHECK_ST(LINE(NULL, "\r\n", &l, &used), OPES_EBAD_REPLY);
    /* an early error needs no line end */
    CHECK_ST(LINE(NULL, "2x", &l, &used), OPES_EBAD_REPLY);
    CHECK_EQ(used, 0);

    /* incomplete */
    CHECK_ST(LINE(NULL, "", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(NULL, "25", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(NULL, "250", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(NULL, "250 ok", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(NULL, "250 ok\r", &l, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);

    /* separators and empty texts */
    CHECK_ST(LINE(NULL, "250-\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.is_last, 0);
    CHECK_EQ(l.text.len, 0);
    CHECK_ST(LINE(NULL, "250\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.is_last, 1);
    CHECK_ST(LINE(NULL, "250  two spaces \r\n", &l, &used), OPES_OK);
    CHECK_STR(l.text, " two spaces ");
    CHECK_ST(LINE(NULL, "250 tab\there\r\n", &l, &used), OPES_OK);
    CHECK_STR(l.text, "tab\there");
    /* only the first line is taken */
    CHECK_ST(LINE(NULL, "250-a\r\n250 b\r\n", &l, &used), OPES_OK);
    CHECK_EQ(used, 7);
    CHECK_STR(l.text, "a");

    /* bare CR, bare LF */
    CHECK_ST(LINE(NULL, "250 a\rb\r\n", &l, &used), OPES_EBARE_CR);
    CHECK_EQ(l.error_offset, 5);
    CHECK_EQ(used, 9);
    CHECK_ST(LINE(NULL, "250\rb\r\n", &l, &used), OPES_EBARE_CR);
    CHECK_EQ(l.error_offset, 3);
    CHECK_ST(LINE(NULL, "250 ok\n", &l, &used), OPES_EBARE_LF);
    CHECK_EQ(l.error_offset, 6);
    CHECK_EQ(used, 7);
    CHECK_ST(LINE(NULL, "250\n", &l, &used), OPES_EBARE_LF);
    CHECK_ST(LINE(lenient, "250 ok\n", &l, &used), OPES_OK);
    CHECK_EQ(used, 7);
    CHECK_STR(l.text, "ok");
    CHECK_EQ(l.notes, OPES_NOTE_BARE_LF);
    CHECK_ST(LINE(lenient, "250\n", &l, &used), OPES_OK);
    CHECK_EQ(l.is_last, 1);
    CHECK_ST(LINE(lenient, "250 ok\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.notes, 0);
    CHECK_ST(LINE(lenient, "250 a\rb\r\n", &l, &used), OPES_EBARE_CR);

    /* controls and NUL are not textstring */
    CHECK_ST(LINE(NULL, "250 a\0b\r\n", &l, &used), OPES_EBAD_CHAR);
    CHECK_EQ(l.error_offset, 5);
    CHECK_ST(LINE(NULL, "250 a\x7f\r\n", &l, &used), OPES_EBAD_CHAR);
    CHECK_ST(LINE(NULL, "250 a\x1b[0m\r\n", &l, &used), OPES_EBAD_CHAR);
    CHECK_ST(LINE(lenient, "250 a\x01\r\n", &l, &used), OPES_EBAD_CHAR);

    /* 8-bit: RFC 6531 3.7.4.2 */
    CHECK_ST(LINE(NULL, "250 gr\xc3\xbc\xc3\x9f\r\n", &l, &used), OPES_EBAD_UTF8);
    CHECK_EQ(l.error_offset, 6);
    CHECK_ST(LINE(lenient, "250 gr\xc3\xbc\xc3\x9f\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.notes, OPES_NOTE_8BIT);
    CHECK_ST(LINE(utf8,
                  "251 User not local; will forward to <\xe7\x94\xa8\xe6\x88\xb7@example.com>\r\n",
                  &l, &used),
             OPES_OK);
    CHECK_EQ(l.notes, OPES_NOTE_8BIT);
    CHECK_ST(LINE(utf8, "250 \xf0\x9f\x93\xa7\r\n", &l, &used), OPES_OK);
    /* ill-formed UTF-8 is refused even when 8-bit is allowed */
    CHECK_ST(LINE(utf8, "250 \xc3\x28\r\n", &l, &used), OPES_EBAD_UTF8);
    CHECK_EQ(l.error_offset, 4);
    CHECK_ST(LINE(utf8, "250 \xc0\xaf\r\n", &l, &used), OPES_EBAD_UTF8);     /* overlong */
    CHECK_ST(LINE(utf8, "250 \xed\xa0\x80\r\n", &l, &used), OPES_EBAD_UTF8); /* surrogate */
    CHECK_ST(LINE(utf8, "250 \xf4\x90\x80\x80\r\n", &l, &used), OPES_EBAD_UTF8);
    CHECK_ST(LINE(utf8, "250 \xff\r\n", &l, &used), OPES_EBAD_UTF8);
    /* a sequence cut by the end of the bytes is incomplete, not wrong */
    CHECK_ST(LINE(utf8, "250 \xe2", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(utf8, "250 \xe2\x82", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(utf8, "250 \xe0", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(utf8, "250 \xf0\x9f\x93", &l, &used), OPES_INCOMPLETE);
    CHECK_ST(LINE(utf8, "250 \xe0\x80", &l, &used), OPES_EBAD_UTF8); /* no completion */
    CHECK_ST(LINE(utf8, "250 \xe2\x28", &l, &used), OPES_EBAD_UTF8);

    /* arguments */
    CHECK_ST(opes_reply_line_parse(NULL, NULL, 1, &l, &used), OPES_EINVAL);
    CHECK_ST(opes_reply_line_parse(NULL, "250 ok\r\n", 8, NULL, &used), OPES_EINVAL);
    CHECK_ST(opes_reply_line_parse(NULL, "250 ok\r\n", 8, &l, NULL), OPES_EINVAL);
    CHECK_ST(opes_reply_line_parse(NULL, NULL, 0, &l, &used), OPES_INCOMPLETE);

    opes_smtp_config_free(lenient);
    opes_smtp_config_free(utf8);
}

static void test_line_limit(void)
{
    /* RFC 5321 4.5.3.1.5: 512 octets including the reply code and CRLF */
    char buf[600];
    opes_reply_line l;
    size_t used;
    memcpy(buf, "250 ", 4);
    memset(buf + 4, 'x', sizeof buf - 4);
    buf[510] = '\r';
    buf[511] = '\n';
    CHECK_ST(line1(NULL, buf, 512, &l, &used), OPES_OK);
    CHECK_EQ(used, 512);
    CHECK_EQ(l.text.len, 506);
    /* one more octet of text */
    buf[510] = 'x';
    buf[511] = '\r';
    buf[512] = '\n';
    CHECK_ST(line1(NULL, buf, 513, &l, &used), OPES_EREPLY_TOO_LONG);
    CHECK_EQ(l.error_offset, 512);
    CHECK_EQ(used, 0);
    CHECK_ST(line1(NULL, buf, 511, &l, &used), OPES_INCOMPLETE);
    CHECK_ST(line1(NULL, buf, 512, &l, &used), OPES_EREPLY_TOO_LONG);
    /* no line end within 512: too long, however much follows */
    memset(buf + 4, 'x', sizeof buf - 4);
    CHECK_ST(line1(NULL, buf, 512, &l, &used), OPES_EREPLY_TOO_LONG);
    CHECK_ST(line1(NULL, buf, 600, &l, &used), OPES_EREPLY_TOO_LONG);
    /* even when the bytes past the limit are not text */
    buf[520] = '\0';
    CHECK_ST(line1(NULL, buf, 600, &l, &used), OPES_EREPLY_TOO_LONG);

    /* a lowered limit */
    opes_smtp_config *cfg = NULL;
    CHECK_ST(opes_smtp_config_new(&cfg, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 10), OPES_OK);
    CHECK_ST(LINE(cfg, "250 abcd\r\n", &l, &used), OPES_OK);
    CHECK_ST(LINE(cfg, "250 abcde\r\n", &l, &used), OPES_EREPLY_TOO_LONG);
    CHECK_ST(LINE(cfg, "250 abcd\n", &l, &used), OPES_EBARE_LF);
    CHECK_ST(opes_smtp_config_set_lenient(cfg, OPES_LENIENT_BARE_LF | OPES_LENIENT_8BIT), OPES_OK);
    CHECK_ST(LINE(cfg, "250 abcde\n", &l, &used), OPES_OK);
    CHECK_ST(LINE(cfg, "250 abcdef\n", &l, &used), OPES_EREPLY_TOO_LONG);
    /* a UTF-8 sequence that would cross the limit */
    CHECK_ST(LINE(cfg, "250 abcd\xc3\xbc", &l, &used), OPES_EREPLY_TOO_LONG);
    CHECK_ST(LINE(cfg, "250 abcde\xe2\x82", &l, &used), OPES_EREPLY_TOO_LONG);
    CHECK_ST(LINE(cfg, "250 abc\xc3\xbc\n", &l, &used), OPES_OK);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 3), OPES_OK);
    CHECK_ST(LINE(cfg, "250\r\n", &l, &used), OPES_EREPLY_TOO_LONG);
    CHECK_ST(LINE(cfg, "25", &l, &used), OPES_INCOMPLETE);
    opes_smtp_config_free(cfg);
}

static void test_enhanced(void)
{
    opes_reply_line l;
    size_t used;
    int c, s, d;

    /* RFC 3463 2 */
    CHECK_ST(opes_reply_enhanced_parse("5.7.1", 5, &c, &s, &d), OPES_OK);
    CHECK(c == 5 && s == 7 && d == 1);
    CHECK_ST(opes_reply_enhanced_parse("4.999.999", 9, &c, &s, &d), OPES_OK);
    CHECK(c == 4 && s == 999 && d == 999);
    CHECK_ST(opes_reply_enhanced_parse("2.0.0", 5, NULL, NULL, NULL), OPES_OK);
    CHECK_ST(opes_reply_enhanced_parse("5.7.30", 6, &c, &s, &d), OPES_OK); /* RFC 8689 7 */
    CHECK_EQ(d, 30);
    static const char *const bad[] = {
        "",       "5",        "5.7",      "5.7.",   ".7.1", "3.0.0",   "6.0.0", "55.0.0", "5.07.1",
        "5.7.01", "5.1000.1", "5.1.1000", "5.7.1 ", "5..1", "5.7.1.2", "5.a.1", "x.7.1",  "5.7.1x"};
    for (size_t i = 0; i < COUNT(bad); i++)
        CHECK_ST(opes_reply_enhanced_parse(bad[i], strlen(bad[i]), &c, &s, &d),
                 OPES_EBAD_ENHANCED_CODE);
    CHECK_ST(opes_reply_enhanced_parse(NULL, 1, &c, &s, &d), OPES_EINVAL);

    /* in lines: taken when well formed, of the reply's class, followed by
     * SP or the end */
    CHECK_ST(LINE(NULL, "250 2.0.0\r\n", &l, &used), OPES_OK);
    CHECK_STR(l.enhanced, "2.0.0");
    CHECK_EQ(l.message.len, 0);
    CHECK_ST(LINE(NULL, "250-2.0.0   spaced\r\n", &l, &used), OPES_OK);
    CHECK_STR(l.message, "spaced");
    CHECK_STR(l.text, "2.0.0   spaced");
    /* RFC 2034 4: class must agree; left in the text and flagged */
    CHECK_ST(LINE(NULL, "550 2.1.0 odd\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.enhanced.len, 0);
    CHECK_EQ(l.esc_class, 0);
    CHECK_EQ(l.esc_flags, OPES_ESC_MISMATCH);
    CHECK_STR(l.message, "2.1.0 odd");
    /* "Note that 3xx responses are NOT included" */
    CHECK_ST(LINE(NULL, "354 2.0.0 go ahead\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.esc_flags, OPES_ESC_MISMATCH);
    CHECK_EQ(l.enhanced.len, 0);
    /* malformed ones */
    static const char *const mal[] = {"550 5.07.1 x\r\n",   "550 5.7 x\r\n",    "550 6.0.0 x\r\n",
                                      "550 5.7.1x\r\n",     "550 5.7.1\tx\r\n", "550 55.7.1 x\r\n",
                                      "550 5.7.1234 x\r\n", "550 5.\r\n"};
    for (size_t i = 0; i < COUNT(mal); i++) {
        CHECK_ST(line1(NULL, mal[i], strlen(mal[i]), &l, &used), OPES_OK);
        CHECK_EQ(l.esc_flags, OPES_ESC_MALFORMED);
        CHECK_EQ(l.enhanced.len, 0);
        CHECK_EQ(l.message.len, l.text.len);
    }
    /* text that merely starts with digits is no code at all */
    CHECK_ST(LINE(NULL, "250 234 Text beginning with numbers\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.esc_flags, 0);
    CHECK_ST(LINE(NULL, "250 100000 octets received\r\n", &l, &used), OPES_OK);
    CHECK_EQ(l.esc_flags, 0);

    /* RFC 2034 4: the same code on each line; a deviation is flagged */
    const char *w = "550-5.7.1 first\r\n550-5.7.2 second\r\n550 no code\r\n";
    opes_reply r;
    size_t pos = 0, k = 0;
    unsigned flags[3] = {0, 0, 0};
    CHECK_ST(opes_reply_parse(NULL, w, strlen(w), &r, &used), OPES_OK);
    CHECK_EQ(r.esc_flags, OPES_ESC_DIFFERS);
    CHECK_STR(r.enhanced, "5.7.1");
    while (k < 3 && opes_reply_next_line(&r, &pos, &l) == OPES_OK)
        flags[k++] = l.esc_flags;
    CHECK_EQ(flags[0], 0);
    CHECK_EQ(flags[1], OPES_ESC_DIFFERS);
    CHECK_EQ(flags[2], OPES_ESC_DIFFERS);
    char *log = check_splits(NULL, w, strlen(w));
    CHECK(
        strstr(log, "r0 i1 @17 550- len18 text=[5.7.2 second] esc=[5.7.2] 5.7.2 msg=[second] f4") !=
        NULL);
    free(log);
}

static void test_multiline_errors(void)
{
    opes_reply r;
    size_t used;
    char *log;

    /* RFC 5321 4.2: "the reply code on each of the lines MUST be the same" */
    const char *w = "250-a\r\n251 b\r\n";
    CHECK_ST(opes_reply_parse(NULL, w, strlen(w), &r, &used), OPES_EREPLY_CODE_MISMATCH);
    CHECK_EQ(r.error_offset, 7);
    CHECK_EQ(used, 14);
    log = check_splits(NULL, w, strlen(w));
    CHECK(strstr(log, "ERR OPES_EREPLY_CODE_MISMATCH at 7 ") != NULL);
    free(log);

    /* a second reply may have another code */
    w = "250-a\r\n250 b\r\n354 go\r\n";
    log = check_splits(NULL, w, strlen(w));
    CHECK(strstr(log, "r1 i0 @14 354") != NULL);
    CHECK(strstr(log, "END pending=0 consumed=22") != NULL);
    free(log);

    /* a stream that stops inside a reply */
    w = "250-a\r\n250-b\r\n250 c";
    log = check_splits(NULL, w, strlen(w));
    CHECK(strstr(log, "END pending=2 consumed=14") != NULL);
    free(log);
    CHECK_ST(opes_reply_parse(NULL, w, strlen(w), &r, &used), OPES_INCOMPLETE);
    CHECK_EQ(used, 0);

    /* errors inside later lines of a stream, at their stream offset */
    w = "250 ok\r\n250-a\r\n250 b\nc\r\n";
    log = check_splits(NULL, w, strlen(w));
    CHECK(strstr(log, "ERR OPES_EBARE_LF at 20 (line @15 +5, r1 i1)") != NULL);
    free(log);
    w = "220 hi\r\n250 \x80\r\n";
    log = check_splits(NULL, w, strlen(w));
    CHECK(strstr(log, "ERR OPES_EBAD_UTF8 at 12 ") != NULL);
    free(log);

    /* OPES_LIMIT_REPLY_LINES */
    opes_smtp_config *cfg = NULL;
    CHECK_ST(opes_smtp_config_new(&cfg, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINES, 3), OPES_OK);
    w = "250-a\r\n250-b\r\n250 c\r\n";
    CHECK_ST(opes_reply_parse(cfg, w, strlen(w), &r, &used), OPES_OK);
    CHECK_EQ(r.nlines, 3);
    w = "250-a\r\n250-b\r\n250-c\r\n250 d\r\n";
    CHECK_ST(opes_reply_parse(cfg, w, strlen(w), &r, &used), OPES_ETOO_MANY_LINES);
    CHECK_EQ(r.error_offset, 21);
    log = check_splits(cfg, w, strlen(w));
    CHECK(strstr(log, "ERR OPES_ETOO_MANY_LINES at 21 ") != NULL);
    free(log);
    /* the default is 128 */
    struct sb big = {0};
    for (int i = 0; i < 127; i++)
        sb_printf(&big, "250-line %d\r\n", i);
    sb_printf(&big, "250 last\r\n");
    CHECK_ST(opes_reply_parse(NULL, big.p, big.n, &r, &used), OPES_OK);
    CHECK_EQ(r.nlines, 128);
    sb_free(&big);
    for (int i = 0; i < 128; i++)
        sb_printf(&big, "250-line %d\r\n", i);
    sb_printf(&big, "250 last\r\n");
    CHECK_ST(opes_reply_parse(NULL, big.p, big.n, &r, &used), OPES_ETOO_MANY_LINES);
    sb_free(&big);
    opes_smtp_config_free(cfg);
}

static void test_parser_object(void)
{
    opes_reply_parser *p = NULL;
    opes_reply_event ev;
    size_t used;
    _Alignas(max_align_t) unsigned char mem[1024];
    static const char w[] = "250 ok\r\n";

    CHECK(opes_reply_parser_sizeof() <= sizeof mem);
    CHECK_ST(opes_reply_parser_init_in(mem, sizeof mem, &p), OPES_OK);
    CHECK_ST(opes_reply_parser_feed(p, w, 8, &used, &ev), OPES_OK);
    CHECK_EQ(used, 8);
    opes_reply_parser_free(p); /* no-op for caller memory */
    CHECK_ST(opes_reply_parser_init_in(mem, opes_reply_parser_sizeof() - 1, &p), OPES_EINVAL);
    CHECK_ST(opes_reply_parser_init_in(NULL, sizeof mem, &p), OPES_EINVAL);
    CHECK_ST(opes_reply_parser_new(NULL, NULL), OPES_EINVAL);

    CHECK_ST(opes_reply_parser_new(&p, NULL), OPES_OK);
    CHECK_ST(opes_reply_parser_feed(NULL, w, 8, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_reply_parser_feed(p, NULL, 8, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_reply_parser_feed(p, w, 8, NULL, &ev), OPES_EINVAL);
    CHECK_ST(opes_reply_parser_feed(p, w, 8, &used, NULL), OPES_EINVAL);
    CHECK_ST(opes_reply_parser_feed(p, NULL, 0, &used, &ev), OPES_INCOMPLETE);
    /* sticky error, then reset */
    CHECK_ST(opes_reply_parser_feed(p, "250 a\n", 6, &used, &ev), OPES_EBARE_LF);
    CHECK_EQ(opes_reply_parser_error_offset(p), 5);
    CHECK_ST(opes_reply_parser_feed(p, w, 8, &used, &ev), OPES_EBARE_LF);
    CHECK_EQ(used, 0);
    CHECK_EQ(ev.line.error_offset, 5);
    opes_reply_parser_reset(p);
    CHECK_EQ(opes_reply_parser_error_offset(p), 0);
    CHECK_ST(opes_reply_parser_feed(p, w, 8, &used, &ev), OPES_OK);
    CHECK_EQ(ev.offset, 0);
    /* a config is copied; NULL restores the defaults */
    opes_smtp_config *cfg = NULL;
    CHECK_ST(opes_smtp_config_new(&cfg, NULL), OPES_OK);
    opes_smtp_config_set_lenient(cfg, OPES_LENIENT_BARE_LF);
    CHECK_ST(opes_reply_parser_set_config(p, cfg), OPES_OK);
    opes_smtp_config_free(cfg);
    CHECK_ST(opes_reply_parser_feed(p, "250 a\n", 6, &used, &ev), OPES_OK);
    CHECK_EQ(ev.line.notes, OPES_NOTE_BARE_LF);
    CHECK_EQ(ev.offset, 8);
    CHECK_EQ(ev.reply, 1);
    CHECK_ST(opes_reply_parser_set_config(p, NULL), OPES_OK);
    CHECK_ST(opes_reply_parser_feed(p, "250 a\n", 6, &used, &ev), OPES_EBARE_LF);
    CHECK_ST(opes_reply_parser_set_config(NULL, NULL), OPES_EINVAL);
    opes_reply_parser_free(p);
    opes_reply_parser_free(NULL);
    opes_reply_parser_reset(NULL);
    CHECK_EQ(opes_reply_parser_pending(NULL), 0);
    CHECK_EQ(opes_reply_parser_error_offset(NULL), 0);
}

/* The allocator hook: every allocation fails in turn, cleanly. */
static int fail_at, alloc_count;
static void *t_alloc(void *user, size_t n)
{
    (void)user;
    if (++alloc_count == fail_at)
        return NULL;
    return malloc(n);
}
static void t_free(void *user, void *p, size_t n)
{
    (void)user;
    (void)n;
    free(p);
}

static void test_failing_alloc(void)
{
    opes_allocator a = {t_alloc, NULL, t_free, NULL};
    opes_reply_parser *p = (opes_reply_parser *)&a; /* must be overwritten */
    alloc_count = 0;
    fail_at = 1;
    CHECK_ST(opes_reply_parser_new(&p, &a), OPES_ENOMEM);
    CHECK(p == NULL);
    alloc_count = 0;
    fail_at = 2;
    CHECK_ST(opes_reply_parser_new(&p, &a), OPES_OK);
    CHECK_EQ(alloc_count, 1);
    opes_reply_parser_free(p);
}

/* ---- the builder ---------------------------------------------------------- */

static opes_status build(char *out, size_t cap, size_t *len, int code, const char *esc,
                         const char *const *texts, size_t n, size_t limit)
{
    opes_str v[16];
    for (size_t i = 0; i < n && i < 16; i++) {
        v[i].ptr = texts[i];
        v[i].len = strlen(texts[i]);
    }
    return opes_reply_build(out, cap, len, code, esc, n ? v : NULL, n, limit);
}

/* Build, check the exact bytes, and that the size query agrees. */
static void check_build(int code, const char *esc, const char *const *texts, size_t n, size_t limit,
                        const char *want)
{
    char out[4096];
    size_t len = 0, need = 0;
    CHECK_ST(build(out, sizeof out, &len, code, esc, texts, n, limit), OPES_OK);
    CHECK_MEM(out, len, want, strlen(want));
    CHECK_ST(build(NULL, 0, &need, code, esc, texts, n, limit), OPES_ENOSPC);
    CHECK_EQ(need, len);
    if (len > 0) {
        CHECK_ST(build(out, len - 1, &need, code, esc, texts, n, limit), OPES_ENOSPC);
        CHECK_EQ(need, len);
        CHECK_ST(build(out, len, &need, code, esc, texts, n, limit), OPES_OK);
    }
}

static void test_build_rfc(void)
{
    /* RFC 5321 4.2.1 */
    static const char *const t1[] = {"First line", "Second line", "234 Text beginning with numbers",
                                     "The last line"};
    check_build(250, NULL, t1, 4, 0,
                "250-First line\r\n250-Second line\r\n250-234 Text beginning with "
                "numbers\r\n250 The last line\r\n");
    /* RFC 2034 6: the 551 with 5.7.1 on each line */
    static const char *const t2[] = {"Forwarding to remote hosts disabled",
                                     "Select another host to act as your forwarder"};
    check_build(551, "5.7.1", t2, 2, 0,
                "551-5.7.1 Forwarding to remote hosts disabled\r\n"
                "551 5.7.1 Select another host to act as your forwarder\r\n");
    /* RFC 4954 4: "334 " and 4.1: "235 2.7.0 Authentication successful" */
    check_build(334, NULL, NULL, 0, 0, "334 \r\n");
    static const char *const e[] = {""};
    check_build(334, NULL, e, 1, 0, "334 \r\n");
    static const char *const t3[] = {"Authentication successful"};
    check_build(235, "2.7.0", t3, 1, 0, "235 2.7.0 Authentication successful\r\n");
    /* RFC 4954 6: 530 5.7.0 */
    static const char *const t4[] = {"Authentication required"};
    check_build(530, "5.7.0", t4, 1, 0, "530 5.7.0 Authentication required\r\n");
    /* RFC 2920 4 */
    static const char *const t5[] = {"no valid recipients given"};
    check_build(554, NULL, t5, 1, 0, "554 no valid recipients given\r\n");
    /* an enhanced code and no text: "" = none */
    check_build(250, "2.0.0", NULL, 0, 0, "250 2.0.0\r\n");
    check_build(250, "", t5, 1, 0, "250 no valid recipients given\r\n");
    static const char *const t6[] = {"", "x"};
    check_build(250, "2.0.0", t6, 2, 0, "250-2.0.0\r\n250 2.0.0 x\r\n");
    check_build(250, NULL, t6, 2, 0, "250-\r\n250 x\r\n");
}

static void test_build_wrap(void)
{
    /* limit 20: "550-5.7.1 " (10) + CRLF leaves 8 octets of text */
    static const char *const t1[] = {"aaaa bbbb cccc dddd"};
    check_build(550, "5.7.1", t1, 1, 20,
                "550-5.7.1 aaaa\r\n550-5.7.1 bbbb\r\n550-5.7.1 cccc\r\n550 5.7.1 dddd\r\n");
    /* limit 21: "aaaa bbbb" (9) fits */
    check_build(550, "5.7.1", t1, 1, 21, "550-5.7.1 aaaa bbbb\r\n550 5.7.1 cccc dddd\r\n");
    /* without a code: "550-" + CRLF leaves 14 */
    check_build(550, NULL, t1, 1, 20, "550-aaaa bbbb cccc\r\n550 dddd\r\n");
    /* exactly at the limit: no wrap */
    static const char *const t2[] = {"12345678"};
    check_build(550, "5.7.1", t2, 1, 20, "550 5.7.1 12345678\r\n");
    /* one octet more, no space: cannot fit */
    static const char *const t3[] = {"123456789"};
    char out[256];
    size_t len;
    CHECK_ST(build(out, sizeof out, &len, 550, "5.7.1", t3, 1, 20), OPES_EREPLY_TOO_LONG);
    static const char *const t3b[] = {"ok", "a 123456789"};
    CHECK_ST(build(out, sizeof out, &len, 550, "5.7.1", t3b, 2, 20), OPES_EREPLY_TOO_LONG);
    /* a space right at the break is dropped, a trailing one kept as an empty
     * next line so nothing is lost */
    static const char *const t4[] = {"12345678 "};
    check_build(550, "5.7.1", t4, 1, 20, "550-5.7.1 12345678\r\n550 5.7.1\r\n");
    static const char *const t5[] = {"aaaa  bbbb"};
    check_build(550, NULL, t5, 1, 10, "550-aaaa\r\n550-\r\n550 bbbb\r\n");
    CHECK_ST(build(out, sizeof out, &len, 550, NULL, t5, 1, 10), OPES_OK);
    /* the limit too small for the code itself */
    CHECK_ST(build(out, sizeof out, &len, 550, "5.7.1", NULL, 0, 10), OPES_EREPLY_TOO_LONG);
    check_build(550, "5.7.1", NULL, 0, 11, "550 5.7.1\r\n");
    CHECK_ST(build(out, sizeof out, &len, 550, NULL, NULL, 0, 5), OPES_EREPLY_TOO_LONG);
    check_build(550, NULL, NULL, 0, 6, "550 \r\n");
    CHECK_ST(build(out, sizeof out, &len, 550, NULL, t1, 1, OPES_MAX_REPLY_LINE + 1),
             OPES_ECEILING);

    /* the default limit, 512: a 1000-octet text of 9-octet words */
    char longtext[1200];
    for (size_t i = 0; i < sizeof longtext; i++)
        longtext[i] = i % 10 == 9 ? ' ' : 'w';
    opes_str v = {longtext, sizeof longtext};
    static char big[4096];
    CHECK_ST(opes_reply_build(big, sizeof big, &len, 451, "4.3.0", &v, 1, 0), OPES_OK);
    opes_reply r;
    size_t used, pos = 0, total = 0;
    opes_reply_line l;
    CHECK_ST(opes_reply_parse(NULL, big, len, &r, &used), OPES_OK);
    CHECK_EQ(used, len);
    CHECK_EQ(r.nlines, 3);
    while (opes_reply_next_line(&r, &pos, &l) == OPES_OK) {
        CHECK(l.line_len <= 512);
        CHECK(l.is_last || l.line_len >= 500); /* filled up to a word */
        CHECK_STR(l.enhanced, "4.3.0");
        total += l.message.len;
    }
    /* every SP the wrap dropped accounted for */
    CHECK_EQ(total + r.nlines - 1, sizeof longtext);
}

static void test_build_refusals(void)
{
    char out[256];
    size_t len;
    /* injection */
    static const char *const inj[] = {"a\r\nRCPT TO:<x>", "a\rb", "a\nb"};
    for (size_t i = 0; i < COUNT(inj); i++)
        CHECK_ST(build(out, sizeof out, &len, 550, NULL, &inj[i], 1, 0), OPES_EINJECT);
    opes_str nul = {"a\0b", 3};
    CHECK_ST(opes_reply_build(out, sizeof out, &len, 550, NULL, &nul, 1, 0), OPES_EINJECT);
    CHECK_ST(build(out, sizeof out, &len, 550, "5.7.1\r\n", NULL, 0, 0), OPES_EINJECT);
    /* injection is reported before other faults */
    static const char *const both[] = {"\x01", "x\n"};
    CHECK_ST(build(out, sizeof out, &len, 550, "5.x", both, 2, 0), OPES_EINJECT);
    /* characters outside textstring */
    static const char *const badc[] = {"a\x01", "\x7f", "caf\xc3\xa9", "\x1b[1m"};
    for (size_t i = 0; i < COUNT(badc); i++)
        CHECK_ST(build(out, sizeof out, &len, 550, NULL, &badc[i], 1, 0), OPES_EBAD_CHAR);
    static const char *const tab[] = {"a\tb"};
    CHECK_ST(build(out, sizeof out, &len, 550, NULL, tab, 1, 0), OPES_OK);
    /* codes */
    static const char *const ok[] = {"x"};
    static const int badcode[] = {0, 100, 199, 270, 299 + 70, 600, 999, -250};
    for (size_t i = 0; i < COUNT(badcode); i++)
        CHECK_ST(build(out, sizeof out, &len, badcode[i], NULL, ok, 1, 0), OPES_EINVAL);
    CHECK_ST(build(out, sizeof out, &len, 200, NULL, ok, 1, 0), OPES_OK);
    CHECK_ST(build(out, sizeof out, &len, 559, NULL, ok, 1, 0), OPES_OK);
    CHECK_ST(build(out, sizeof out, &len, 560, NULL, ok, 1, 0), OPES_EINVAL);
    /* enhanced codes */
    static const char *const badesc[] = {"5.7", "5.07.1", "6.0.0", "5.7.1 ", "x", "0.0.0"};
    for (size_t i = 0; i < COUNT(badesc); i++)
        CHECK_ST(build(out, sizeof out, &len, 550, badesc[i], ok, 1, 0), OPES_EBAD_ENHANCED_CODE);
    CHECK_ST(build(out, sizeof out, &len, 550, "4.7.1", ok, 1, 0), OPES_EBAD_ENHANCED_CODE);
    CHECK_ST(build(out, sizeof out, &len, 250, "5.7.1", ok, 1, 0), OPES_EBAD_ENHANCED_CODE);
    /* RFC 2034 4: "3xx responses are NOT included" */
    CHECK_ST(build(out, sizeof out, &len, 354, "2.0.0", ok, 1, 0), OPES_EBAD_ENHANCED_CODE);
    CHECK_ST(build(out, sizeof out, &len, 334, NULL, ok, 1, 0), OPES_OK);
    /* arguments */
    CHECK_ST(opes_reply_build(NULL, 10, &len, 250, NULL, NULL, 0, 0), OPES_EINVAL);
    CHECK_ST(opes_reply_build(out, sizeof out, NULL, 250, NULL, NULL, 0, 0), OPES_EINVAL);
    CHECK_ST(opes_reply_build(out, sizeof out, &len, 250, NULL, NULL, 1, 0), OPES_EINVAL);
    opes_str nullptr_len = {NULL, 3};
    CHECK_ST(opes_reply_build(out, sizeof out, &len, 250, NULL, &nullptr_len, 1, 0), OPES_EINVAL);
    /* line count: OPES_MAX_REPLY_LINES */
    opes_str *many = calloc(OPES_MAX_REPLY_LINES + 1, sizeof *many);
    if (!many)
        abort();
    size_t need;
    CHECK_ST(opes_reply_build(NULL, 0, &need, 250, NULL, many, OPES_MAX_REPLY_LINES, 0),
             OPES_ENOSPC);
    CHECK_EQ(need, (size_t)OPES_MAX_REPLY_LINES * 6);
    CHECK_ST(opes_reply_build(NULL, 0, &need, 250, NULL, many, OPES_MAX_REPLY_LINES + 1, 0),
             OPES_ETOO_MANY_LINES);
    free(many);
}

/* What the builder writes, the parser reads back: each text is the join of
 * its lines' messages with the SPs that the wrap dropped. */
static void test_build_roundtrip(void)
{
    static const char *const texts[] = {"Requested action not taken: mailbox unavailable",
                                        "  leading",
                                        "trailing  ",
                                        "",
                                        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
                                        "tab\tinside and     runs of spaces     here",
                                        " "};
    static const char *const escs[] = {NULL, "5.1.1"};
    static const size_t limits[] = {0, 16, 17, 20, 33, 64};
    opes_smtp_config *cfg = NULL;
    CHECK_ST(opes_smtp_config_new(&cfg, NULL), OPES_OK);
    opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINES, OPES_MAX_REPLY_LINES);
    for (size_t e = 0; e < COUNT(escs); e++) {
        for (size_t li = 0; li < COUNT(limits); li++) {
            for (size_t t = 0; t < COUNT(texts); t++) {
                char out[4096];
                size_t len, used, pos = 0;
                opes_reply r;
                opes_reply_line l;
                struct sb joined = {0};
                int first = 1;
                opes_status st =
                    build(out, sizeof out, &len, 550, escs[e], &texts[t], 1, limits[li]);
                if (st == OPES_EREPLY_TOO_LONG)
                    continue; /* a word longer than the room */
                CHECK_ST(st, OPES_OK);
                opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE,
                                           limits[li] ? limits[li] : 512);
                CHECK_ST(opes_reply_parse(cfg, out, len, &r, &used), OPES_OK);
                CHECK_EQ(used, len);
                while (opes_reply_next_line(&r, &pos, &l) == OPES_OK) {
                    opes_str piece = l.text;
                    if (escs[e]) {
                        /* "5.1.1" then SP then the chunk, or "5.1.1" alone */
                        CHECK(piece.len >= 5 && memcmp(piece.ptr, escs[e], 5) == 0);
                        piece.ptr += piece.len > 5 ? 6 : 5;
                        piece.len -= piece.len > 5 ? 6 : 5;
                    }
                    if (!first)
                        sb_printf(&joined, " ");
                    if (piece.len)
                        sb_printf(&joined, "%.*s", (int)piece.len, piece.ptr);
                    first = 0;
                }
                CHECK_MEM(joined.p ? joined.p : "", joined.n, texts[t], strlen(texts[t]));
                sb_free(&joined);
            }
        }
    }
    opes_smtp_config_free(cfg);
}

int main(void)
{
    test_rfc5321_multiline();
    test_rfc5321_appendix_d();
    test_rfc2920_rfc3030();
    test_rfc4954();
    test_rfc2034();
    test_rfc3461_replies();
    test_aiosmtpd();
    test_line_grammar();
    test_line_limit();
    test_enhanced();
    test_multiline_errors();
    test_parser_object();
    test_failing_alloc();
    test_build_rfc();
    test_build_wrap();
    test_build_refusals();
    test_build_roundtrip();
    return TEST_END();
}
