/*
 * libFuzzer harness: the SMTP session, client role (include/opes/session.h).
 *
 * Input: byte 0 picks the options (bit 0 LMTP, bit 1 lenient), byte 1 seeds
 * the chunk sizes; then a script of actions, each an op byte:
 *   op % 4 == 0  send a command line: the next byte indexes a table of lines,
 *                or is 0xFF and is followed by a length byte and the line;
 *   op % 4 == 1  the server sends: a length byte and that many bytes, fed
 *                (with what an earlier feed left unconsumed) until NONE;
 *   op % 4 == 2  bit 2 of op: opes_session_tls_started(); else bit 3:
 *                opes_session_set_arena_size() (a size from the high bits);
 *                else opes_session_client_data_end();
 *   op % 4 == 3  ask opes_session_client_may_send() for every verb.
 * Everything is logged. Invariants (abort on failure):
 *   - used <= len; reply views inside the bytes fed; no loop without progress;
 *   - chunked feeds give the same log as whole feeds;
 *   - a command is queued only if may_send allowed its verb just before;
 *     pending never exceeds the queue;
 *   - the EHLO capabilities (opes_session_client_ehlo()) are read after each
 *     action, every byte of every view (a stale view into a released arena
 *     faults under ASan), and must be what they were when the last line of
 *     the EHLO reply was read (a view into a reused arena differs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

static void put_i(buf *b, int64_t v)
{
    put(b, &v, sizeof v);
}

static const char *const lines[] = {
    "EHLO c.example\r\n",
    "LHLO c.example\r\n",
    "HELO c.example\r\n",
    "MAIL FROM:<a@b.example>\r\n",
    "MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME\r\n",
    "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n",
    "MAIL FROM:<a@b.example> RET=HDRS ENVID=x SMTPUTF8\r\n",
    "RCPT TO:<c@d.example>\r\n",
    "RCPT TO:<c@d.example> NOTIFY=NEVER\r\n",
    "RCPT TO:<j\xc3\xb6@d.example>\r\n",
    "DATA\r\n",
    "BDAT 3\r\n",
    "BDAT 0 LAST\r\n",
    "RSET\r\n",
    "NOOP\r\n",
    "QUIT\r\n",
    "STARTTLS\r\n",
    "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n",
    "AUTH LOGIN\r\n",
    "dGVzdA==\r\n",
    "*\r\n",
    "VRFY bob\r\n",
    "HELP\r\n",
    "XYZZY\r\n",
};

/* The capabilities the session shows, every byte of every view; 0 when
 * there are none. */
static int ehlo_text(const opes_session *s, buf *out)
{
    const opes_ehlo *e = NULL;
    out->n = 0;
    if (opes_session_client_ehlo(s, &e) != OPES_OK)
        return 0;
    put_i(out, (int64_t)e->nlines);
    for (size_t k = 0; k < e->nlines; k++) {
        const opes_ehlo_line *l = &e->line[k];
        put_i(out, (int64_t)l->keyword.len);
        put(out, l->keyword.ptr, l->keyword.len);
        put_i(out, (int64_t)l->params.len);
        put(out, l->params.ptr, l->params.len);
    }
    return 1;
}

/* Log them, and check they are still those of the last EHLO reply (snap,
 * taken when its last line was read). */
static void log_ehlo(const opes_session *s, buf *log, const buf *snap)
{
    buf now = {0};
    if (ehlo_text(s, &now)) {
        CHECK(now.n == snap->n && memcmp(now.p, snap->p, now.n) == 0);
        put(log, now.p, now.n);
    } else {
        put_i(log, 0xEE);
    }
    free(now.p);
}

static void session_script(const uint8_t *d, size_t n, int chunked, buf *log)
{
    opes_smtp_config *cfg = NULL;
    opes_session *s = NULL;
    buf srv = {0};         /* server bytes received, not yet consumed */
    buf snap = {0};        /* the capabilities when the last EHLO reply ended */
    uint64_t injected = 0; /* server bytes reported as TLS injection */
    uint32_t seed = d[1] | 1u;
    size_t i = 2;
    CHECK(opes_smtp_config_new(&cfg, NULL) == OPES_OK);
    if (d[0] & 2)
        opes_smtp_config_set_lenient(cfg, OPES_LENIENT_ALL);
    CHECK(opes_session_new(&s, OPES_ROLE_CLIENT, cfg, NULL) == OPES_OK);
    opes_smtp_config_free(cfg);
    if (d[0] & 1)
        CHECK(opes_session_set_option(s, OPES_SESSION_PROTOCOL, OPES_PROTOCOL_LMTP) == OPES_OK);
    while (i < n) {
        uint8_t op = d[i++];
        switch (op % 4) {
        case 0: {
            const char *line;
            size_t len;
            if (i >= n)
                break;
            if (d[i] == 0xFF) {
                if (i + 1 >= n)
                    goto done;
                len = d[i + 1];
                if (i + 2 + len > n)
                    goto done;
                line = (const char *)d + i + 2;
                i += 2 + len;
            } else {
                line = lines[d[i] % (sizeof lines / sizeof lines[0])];
                len = strlen(line);
                i++;
            }
            char *copy = malloc(len ? len : 1);
            CHECK(copy);
            if (len)
                memcpy(copy, line, len);
            opes_command c;
            size_t u;
            int verb = -1;
            if (opes_command_parse(NULL, copy, len, &c, &u) != OPES_INCOMPLETE)
                verb = c.verb;
            int may_auth = opes_session_client_may_send(s, OPES_SEND_AUTH_LINE);
            int may = verb >= 0 && opes_session_client_may_send(s, verb);
            opes_status st = opes_session_client_send(s, copy, len);
            if (st == OPES_OK)
                CHECK(may || may_auth);
            put_i(log, 0x5E);
            put_i(log, st);
            free(copy);
            CHECK(opes_session_client_pending(s) <= 256);
            break;
        }
        case 1: {
            if (i >= n)
                goto done;
            size_t len = d[i++];
            if (i + len > n)
                len = n - i;
            put(&srv, d + i, len);
            i += len;
            /* feed what is there, in chunks or whole, until NONE */
            size_t start = 0, have = srv.n;
            if (chunked) {
                seed = seed * 1103515245u + 12345u;
                have = 1 + (seed >> 16) % 13;
                if (have > srv.n)
                    have = srv.n;
            }
            for (int guard = 0;; guard++) {
                size_t m = have - start, used = 0;
                opes_session_event ev;
                char *chunk = malloc(m ? m : 1);
                CHECK(guard < 100000 && chunk);
                if (m)
                    memcpy(chunk, srv.p + start, m);
                opes_status st = opes_session_feed(s, m ? chunk : NULL, m, &used, &ev);
                CHECK(used <= m);
                if (st != OPES_OK) {
                    CHECK(used == 0);
                    put_i(log, 0xE0);
                    put_i(log, st);
                    free(chunk);
                    start = srv.n; /* the stream is broken: drop it */
                    break;
                }
                start += used;
                if (ev.type == OPES_SESSION_EV_NONE) {
                    free(chunk);
                    if (have == srv.n)
                        break;
                    if (chunked) {
                        seed = seed * 1103515245u + 12345u;
                        have += 1 + (seed >> 16) % 13;
                        if (have > srv.n)
                            have = srv.n;
                    } else {
                        have = srv.n;
                    }
                    continue;
                }
                if (ev.type == OPES_SESSION_EV_TLS_INJECTION) {
                    /* server bytes after the 220 to STARTTLS: reported, never
                     * parsed as replies. How many events carry them depends
                     * on the chunks; the bytes, each exactly once, do not. */
                    CHECK(ev.content.len > 0 && ev.content.ptr >= chunk &&
                          ev.content.ptr + ev.content.len <= chunk + m);
                    injected += ev.content.len;
                    free(chunk);
                    continue;
                }
                CHECK(ev.type == OPES_SESSION_EV_REPLY);
                CHECK(ev.reply.text.len == 0 ||
                      (ev.reply.text.ptr >= chunk &&
                       ev.reply.text.ptr + ev.reply.text.len <= chunk + m));
                if ((ev.verb == OPES_VERB_EHLO || ev.verb == OPES_VERB_LHLO) && ev.last &&
                    ev.reason != OPES_REASON_UNSOLICITED && ev.reply_code / 100 == 2)
                    ehlo_text(s, &snap);
                log_ehlo(s, log, &snap);
                put_i(log, 0x7E);
                put_i(log, (int64_t)ev.offset);
                put_i(log, ev.verb);
                put_i(log, ev.reply_code);
                put_i(log, ev.last);
                put_i(log, ev.reason);
                free(chunk);
            }
            if (srv.n > start)
                memmove(srv.p, srv.p + start, srv.n - start);
            srv.n -= start;
            break;
        }
        case 2:
            put_i(log, 0x2E);
            if (op & 4)
                put_i(log, opes_session_tls_started(s));
            else if (op & 8)
                put_i(log, opes_session_set_arena_size(s, 1100 + (size_t)(op >> 4) * 600));
            else
                put_i(log, opes_session_client_data_end(s));
            break;
        default:
            log_ehlo(s, log, &snap);
            put_i(log, 0x3E);
            for (int v = 0; v <= OPES_SEND_AUTH_LINE; v++)
                if (v < OPES_VERB__COUNT || v >= OPES_SEND_CONTENT)
                    put_i(log, opes_session_client_may_send(s, v));
            break;
        }
    }
done : {
    const opes_ehlo *e = NULL;
    if (opes_session_client_ehlo(s, &e) == OPES_OK)
        put_i(log, (int64_t)e->exts);
    log_ehlo(s, log, &snap);
}
    put_i(log, (int64_t)injected);
    opes_session_free(s);
    free(srv.p);
    free(snap.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf whole = {0}, part = {0};
    if (size < 2)
        return 0;
    session_script(data, size, 0, &whole);
    session_script(data, size, 1, &part);
    CHECK(whole.n == part.n && (whole.n == 0 || memcmp(whole.p, part.p, whole.n) == 0));
    free(whole.p);
    free(part.p);
    return 0;
}
