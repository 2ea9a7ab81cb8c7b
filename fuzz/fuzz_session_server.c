/*
 * libFuzzer harness: the SMTP session, server role (include/opes/session.h).
 *
 * Input: byte 0 picks the options (bit 0 lenient, 1 LMTP, 2 data
 * normalise, 3 PIPELINING, 4 CHUNKING+BINARYMIME, 5 AUTH+STARTTLS, 6 SIZE
 * 1000 and SMTPUTF8 and DSN, 7 a tiny session: 3 recipients, the smallest
 * arena, in caller memory); byte 1 seeds the chunk sizes; byte 2 seeds the
 * replies (the proposal, or another code from a list: overrides drive the
 * state machine where a well-behaved caller would not); byte 3 picks how
 * replies are said to be sent (never; the whole rest unread; nothing unread)
 * and whether TLS starts right after a 220 to STARTTLS. The rest is what the
 * client sent. Invariants (abort on failure):
 *   - used <= len; every view inside the bytes fed (DATA content may also be
 *     one of the codec's static constants); no loop without progress;
 *   - the event log of a chunked run equals that of the whole input
 *     (adjacent content and injected bytes merged);
 *   - the envelope always parses back from the arena (mail and every RCPT);
 *   - respond() accepts the code when a reply is due and only then;
 *   - framing (nothing smuggled): the session's offset is the sum of the
 *     bytes consumed and events come in offset order; after a BDAT line
 *     with a chunk, the next event but its content is that chunk's end, at
 *     exactly line + size bytes on; after 354 to DATA only data events come
 *     until the message end; after 220 to STARTTLS only injected bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

static void put_u64(buf *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

struct opts {
    unsigned flags;
    uint32_t chunk_seed, reply_seed;
    int sent_mode, tls_start;
};

/* What the next events may be (the framing invariants). */
enum frame { F_ANY = 0, F_CHUNK, F_DATA, F_TLS };

struct run {
    int frame;
    uint64_t chunk_end; /* F_CHUNK: where the chunk ends (0: not known) */
    uint64_t last_off;  /* offset of the last event */
    buf rec;
    buf run; /* merged content / injected bytes */
    int run_type;
    uint64_t run_off;
    size_t replies;
};

static void flush(struct run *r)
{
    if (!r->run.n)
        return;
    put_u64(&r->rec, 0xC0000000u + (unsigned)r->run_type);
    put_u64(&r->rec, r->run_off);
    put_u64(&r->rec, r->run.n);
    put(&r->rec, r->run.p, r->run.n);
    r->run.n = 0;
}

static int inside(const char *p, size_t n, const char *chunk, size_t len)
{
    if (n == 0)
        return 1;
    return p >= chunk && p + n <= chunk + len;
}

static void check_str(opes_str s, const char *chunk, size_t len)
{
    CHECK(inside(s.ptr, s.len, chunk, len));
}

static opes_session *make(const struct opts *o, void **mem)
{
    opes_smtp_config *cfg = NULL;
    opes_session *s = NULL;
    unsigned f = o->flags;
    CHECK(opes_smtp_config_new(&cfg, NULL) == OPES_OK);
    if (f & 1)
        opes_smtp_config_set_lenient(cfg, OPES_LENIENT_ALL);
    if (f & 8)
        opes_smtp_config_offer(cfg, "PIPELINING", 1, NULL);
    if (f & 16) {
        opes_smtp_config_offer(cfg, "CHUNKING", 1, NULL);
        opes_smtp_config_offer(cfg, "BINARYMIME", 1, NULL);
        opes_smtp_config_offer(cfg, "8BITMIME", 1, NULL);
    }
    if (f & 32) {
        opes_smtp_config_offer(cfg, "AUTH", 1, "PLAIN LOGIN CRAM-MD5");
        opes_smtp_config_offer(cfg, "STARTTLS", 1, NULL);
    }
    if (f & 64) {
        opes_smtp_config_offer(cfg, "SIZE", 1, "1000");
        opes_smtp_config_offer(cfg, "SMTPUTF8", 1, NULL);
        opes_smtp_config_offer(cfg, "DSN", 1, NULL);
    }
    *mem = NULL;
    if (f & 128) {
        opes_smtp_config_set_limit(cfg, OPES_LIMIT_RECIPIENTS, 3);
        size_t full = opes_session_sizeof(cfg);
        size_t rl = opes_smtp_config_line_limit(cfg, OPES_VERB_RCPT);
        size_t small = full - 99 * (rl + 12);
        *mem = malloc(small);
        CHECK(*mem);
        CHECK(opes_session_init_in(*mem, small, OPES_ROLE_SERVER, cfg, &s) == OPES_OK);
    } else {
        CHECK(opes_session_new(&s, OPES_ROLE_SERVER, cfg, NULL) == OPES_OK);
    }
    opes_smtp_config_free(cfg);
    if (f & 2)
        CHECK(opes_session_set_option(s, OPES_SESSION_PROTOCOL, OPES_PROTOCOL_LMTP) == OPES_OK);
    if (f & 4)
        CHECK(opes_session_set_option(s, OPES_SESSION_DATA_MODE, OPES_DATA_NORMALISE) == OPES_OK);
    return s;
}

static int choose_code(const struct opts *o, size_t index, int proposal)
{
    static const int codes[] = {250, 354, 550, 334, 235, 220, 221, 503, 452, 501};
    uint32_t x = o->reply_seed ^ (uint32_t)(index * 2654435761u);
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    x ^= x >> 15;
    if (o->reply_seed == 0 || (x & 3) != 0)
        return proposal ? proposal : 250;
    return codes[(x >> 4) % (sizeof codes / sizeof codes[0])];
}

static void check_envelope(const opes_session *s)
{
    opes_command c;
    opes_status st = opes_session_mail(s, &c);
    CHECK(st == OPES_OK || st == OPES_ENOTFOUND);
    size_t n = opes_session_rcpt_count(s);
    for (size_t i = 0; i < n; i++)
        CHECK(opes_session_rcpt(s, i, &c) == OPES_OK);
    CHECK(opes_session_rcpt(s, n, &c) == OPES_ENOTFOUND);
}

/* The framing invariants, before the event is answered. */
static void frame_check(struct run *r, const opes_session_event *ev)
{
    int t = ev->type;
    CHECK(ev->offset >= r->last_off || t == OPES_SESSION_EV_DATA_ANOMALY ||
          t == OPES_SESSION_EV_MESSAGE_END);
    if (t != OPES_SESSION_EV_DATA_ANOMALY && t != OPES_SESSION_EV_MESSAGE_END)
        r->last_off = ev->offset;
    switch (r->frame) {
    case F_CHUNK:
        if (t == OPES_SESSION_EV_BDAT_CONTENT)
            return;
        CHECK(t == OPES_SESSION_EV_CHUNK_END || t == OPES_SESSION_EV_MESSAGE_END);
        CHECK(ev->verb == OPES_VERB_BDAT);
        CHECK(r->chunk_end == 0 || ev->offset == r->chunk_end);
        r->frame = F_ANY;
        return;
    case F_DATA:
        CHECK(t == OPES_SESSION_EV_DATA_CONTENT || t == OPES_SESSION_EV_DATA_ANOMALY ||
              t == OPES_SESSION_EV_MESSAGE_END || t == OPES_SESSION_EV_PIPELINING_VIOLATION);
        if (t == OPES_SESSION_EV_MESSAGE_END) {
            CHECK(ev->verb == OPES_VERB_DATA);
            r->frame = F_ANY;
        }
        return;
    case F_TLS:
        CHECK(t == OPES_SESSION_EV_TLS_INJECTION);
        return;
    default:
        CHECK(t != OPES_SESSION_EV_BDAT_CONTENT && t != OPES_SESSION_EV_DATA_CONTENT &&
              t != OPES_SESSION_EV_TLS_INJECTION && t != OPES_SESSION_EV_CHUNK_END);
        break;
    }
    if ((t == OPES_SESSION_EV_COMMAND || t == OPES_SESSION_EV_LINE_TOO_LONG) &&
        ev->verb == OPES_VERB_BDAT && !ev->needs_reply) {
        /* a chunk follows: for a whole line, at line + size exactly */
        r->frame = F_CHUNK;
        r->chunk_end = t == OPES_SESSION_EV_COMMAND && ev->command.line_len
                           ? ev->offset + ev->command.line_len + ev->size
                           : 0;
        CHECK(r->chunk_end == 0 || r->chunk_end >= ev->offset + ev->command.line_len);
    }
}

static void record(struct run *r, const opes_session_event *ev, const char *chunk, size_t len)
{
    if (ev->type == OPES_SESSION_EV_DATA_CONTENT || ev->type == OPES_SESSION_EV_BDAT_CONTENT ||
        ev->type == OPES_SESSION_EV_TLS_INJECTION) {
        CHECK(ev->content.len > 0);
        if (ev->type == OPES_SESSION_EV_DATA_CONTENT) {
            /* the codec's own bytes are short static constants */
            CHECK(inside(ev->content.ptr, ev->content.len, chunk, len) ||
                  (ev->content.len <= 2 &&
                   (ev->content.ptr[0] == '\r' || ev->content.ptr[0] == '\n' ||
                    ev->content.ptr[0] == '.')));
        } else {
            CHECK(inside(ev->content.ptr, ev->content.len, chunk, len));
        }
        if (r->run.n && r->run_type != ev->type)
            flush(r);
        if (!r->run.n) {
            r->run_type = ev->type;
            r->run_off = ev->offset;
        }
        put(&r->run, ev->content.ptr, ev->content.len);
        return;
    }
    flush(r);
    put_u64(&r->rec, (uint64_t)ev->type);
    put_u64(&r->rec, ev->offset);
    put_u64(&r->rec, (uint64_t)(int64_t)ev->status);
    put_u64(&r->rec, (uint64_t)ev->needs_reply);
    put_u64(&r->rec, (uint64_t)ev->reply_code);
    put_u64(&r->rec, (uint64_t)ev->reason);
    put_u64(&r->rec, (uint64_t)ev->verb);
    put_u64(&r->rec, (uint64_t)ev->data_event);
    put_u64(&r->rec, (uint64_t)ev->last);
    put_u64(&r->rec, ev->size);
    if (ev->type == OPES_SESSION_EV_COMMAND || ev->type == OPES_SESSION_EV_LINE_TOO_LONG) {
        const opes_command *c = &ev->command;
        check_str(c->verb_text, chunk, len);
        if (ev->status == OPES_OK) {
            check_str(c->argument, chunk, len);
            check_str(c->path.mailbox, chunk, len);
            check_str(c->domain, chunk, len);
            check_str(c->mechanism, chunk, len);
            for (size_t i = 0; i < c->params.count; i++) {
                check_str(c->params.item[i].keyword, chunk, len);
                check_str(c->params.item[i].value, chunk, len);
            }
            put(&r->rec, c->path.mailbox.ptr, c->path.mailbox.len);
            put_u64(&r->rec, c->params.count);
            CHECK(c->line_len <= len);
        }
    }
    if (ev->type == OPES_SESSION_EV_AUTH_LINE && ev->status == OPES_OK)
        check_str(ev->auth.response, chunk, len);
}

static void session_run(const struct opts *o, const unsigned char *in, size_t n, int chunked,
                        struct run *r)
{
    void *mem;
    opes_session *s = make(o, &mem);
    uint32_t seed = o->chunk_seed | 1u;
    size_t start = 0, have = 0;
    memset(r, 0, sizeof *r);
    have = n;
    if (chunked) {
        seed = seed * 1103515245u + 12345u;
        have = 1 + (seed >> 16) % 23;
        if (have > n)
            have = n;
    }
    for (int guard = 0;; guard++) {
        size_t m = have - start, used = 0;
        opes_session_event ev;
        char *chunk = malloc(m ? m : 1);
        CHECK(guard < 1000000);
        CHECK(chunk);
        if (m)
            memcpy(chunk, in + start, m);
        opes_status st = opes_session_feed(s, m ? chunk : NULL, m, &used, &ev);
        CHECK(used <= m);
        if (st != OPES_OK) {
            CHECK(st == OPES_ESTATE && used == 0);
            CHECK(opes_session_state(s) == OPES_STATE_CLOSED);
            free(chunk);
            if (have < n) { /* read on: the rest is after QUIT */
                have = n;
                continue;
            }
            put_u64(&r->rec, 0xDEADu);
            put_u64(&r->rec, start);
            break;
        }
        start += used;
        CHECK(opes_session_offset(s) == start);
        if (ev.type == OPES_SESSION_EV_NONE) {
            free(chunk);
            if (have == n)
                break;
            if (chunked) {
                seed = seed * 1103515245u + 12345u;
                have += 1 + (seed >> 16) % 23;
                if (have > n)
                    have = n;
            } else {
                have = n;
            }
            continue;
        }
        frame_check(r, &ev);
        record(r, &ev, chunk, m);
        if (!ev.needs_reply) /* nothing is due: a reply is refused */
            CHECK(opes_session_respond(s, 250) == OPES_ESTATE);
        for (int i = 0; i < ev.needs_reply; i++) {
            int code = choose_code(o, r->replies++, ev.reply_code);
            opes_status rs = opes_session_respond(s, code);
            if (rs == OPES_ESTATE && code < 400 && ev.reply_code >= 400) {
                /* a success to a line the session refused is refused (the
                 * caller would be out of sync): give the proposed reply */
                code = ev.reply_code;
                rs = opes_session_respond(s, code);
            }
            if (rs == OPES_EINVAL && ev.verb == OPES_VERB_STARTTLS && code != 220 &&
                code < 400) {
                /* RFC 3207 4: 220 is the only go-ahead; another success to
                 * STARTTLS is refused, nothing changed: decline with 454 */
                code = 454;
                rs = opes_session_respond(s, code);
            }
            if (rs == OPES_ENOSPC) { /* the arena is full: answer otherwise */
                code = 452;
                rs = opes_session_respond(s, code);
            }
            CHECK(rs == OPES_OK);
            put_u64(&r->rec, (uint64_t)code);
            if (ev.type == OPES_SESSION_EV_COMMAND && ev.status == OPES_OK &&
                ((ev.verb == OPES_VERB_DATA && code == 354) ||
                 (ev.verb == OPES_VERB_STARTTLS && code == 220)))
                r->frame = ev.verb == OPES_VERB_DATA ? F_DATA : F_TLS;
        }
        CHECK(opes_session_replies_due(s) == 0);
        if (ev.needs_reply) {
            if (o->sent_mode == 1)
                opes_session_reply_sent(s, n - start);
            else if (o->sent_mode == 2)
                opes_session_reply_sent(s, 0);
            if (o->tls_start && opes_session_state(s) == OPES_STATE_TLS_PENDING) {
                /* refused while clear-text bytes received after the 220 are
                 * owed (reply_sent with unread > 0): they are fed first */
                opes_status ts = opes_session_tls_started(s);
                CHECK(ts == OPES_OK || (ts == OPES_ESTATE && o->sent_mode == 1));
                if (ts == OPES_OK) {
                    put_u64(&r->rec, 0x7175u);
                    r->frame = F_ANY;
                }
            }
        }
        if (ev.type == OPES_SESSION_EV_MESSAGE_END || ev.type == OPES_SESSION_EV_COMMAND)
            check_envelope(s);
        free(chunk);
    }
    flush(r);
    check_envelope(s);
    opes_session_free(s);
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct opts o;
    struct run whole, part;
    if (size < 4)
        return 0;
    o.flags = data[0];
    o.chunk_seed = data[1];
    o.reply_seed = data[2];
    o.sent_mode = data[3] % 3;
    o.tls_start = (data[3] >> 2) & 1;
    session_run(&o, data + 4, size - 4, 0, &whole);
    session_run(&o, data + 4, size - 4, 1, &part);
    CHECK(whole.rec.n == part.rec.n &&
          (whole.rec.n == 0 || memcmp(whole.rec.p, part.rec.p, whole.rec.n) == 0));
    free(whole.rec.p);
    free(whole.run.p);
    free(part.rec.p);
    free(part.run.p);
    return 0;
}
