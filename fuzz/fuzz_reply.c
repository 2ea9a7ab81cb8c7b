/*
 * libFuzzer harness: the reply parsers (push, whole-reply, one-line).
 *
 * Input: [mode][limit][c0 c1 c2 c3] stream...
 *   mode bit 0: OPES_LENIENT_BARE_LF    bit 1: OPES_LENIENT_8BIT
 *   mode bit 2: SMTPUTF8 transaction    bit 3: reply-line limit 4 + limit % 64
 *   mode bit 4: reply-lines limit 1 + limit % 8
 *   c0..c3: the chunk sizes (1..64, in turn) the push parser is fed with.
 * Invariants: used <= len; the chunked feed gives the events, error and
 * offsets of the whole-input feed; opes_reply_parse() and
 * opes_reply_line_parse() agree with the push parser; views stay inside the
 * line they came from.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EV 20000

struct rec {
    size_t offset, line_len, index, reply;
    size_t toff, tlen, eoff, elen, moff, mlen;
    int code, last, c, s, d;
    unsigned flags, notes;
};

struct outcome {
    size_t n;
    int status;
    size_t err, consumed, pending;
};

static struct rec ev_whole[MAX_EV], ev_chunk[MAX_EV];

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

/* Offset of view v inside buf[0..used) plus base; traps if outside. */
static size_t view_off(opes_str v, const char *buf, size_t used, size_t base)
{
    if (v.len == 0)
        return 0;
    check(v.ptr >= buf && v.ptr + v.len <= buf + used);
    return base + (size_t)(v.ptr - buf);
}

static struct outcome run(const opes_smtp_config *cfg, const uint8_t *d, size_t n,
                          const uint8_t *chunks, struct rec *out)
{
    opes_reply_parser *p = NULL;
    struct outcome o;
    size_t recv = 0, cons = 0, ci = 0;

    memset(&o, 0, sizeof o);
    check(opes_reply_parser_new(&p, NULL) == OPES_OK);
    check(opes_reply_parser_set_config(p, cfg) == OPES_OK);
    for (;;) {
        size_t avail = recv - cons, used = (size_t)-1;
        opes_reply_event e;
        /* the caller's buffer: exactly the unconsumed bytes received */
        char *buf = malloc(avail ? avail : 1);
        opes_status st;
        check(buf != NULL);
        if (avail)
            memcpy(buf, d + cons, avail);
        st = opes_reply_parser_feed(p, avail ? buf : NULL, avail, &used, &e);
        check(used <= avail);
        if (st == OPES_OK) {
            struct rec *r;
            check(used > 0 && used == e.line.line_len);
            check(e.offset == cons);
            check(e.line.code >= 200 && e.line.code <= 559);
            check(o.n < MAX_EV);
            r = &out[o.n++];
            memset(r, 0, sizeof *r);
            r->offset = e.offset;
            r->line_len = e.line.line_len;
            r->index = e.index;
            r->reply = e.reply;
            r->toff = view_off(e.line.text, buf, used, cons);
            r->tlen = e.line.text.len;
            r->eoff = view_off(e.line.enhanced, buf, used, cons);
            r->elen = e.line.enhanced.len;
            r->moff = view_off(e.line.message, buf, used, cons);
            r->mlen = e.line.message.len;
            r->code = e.line.code;
            r->last = e.line.is_last;
            r->c = e.line.esc_class;
            r->s = e.line.esc_subject;
            r->d = e.line.esc_detail;
            r->flags = e.line.esc_flags;
            r->notes = e.line.notes;
            /* no CR or LF inside the text */
            for (size_t i = 0; i < e.line.text.len; i++)
                check(e.line.text.ptr[i] != '\r' && e.line.text.ptr[i] != '\n');
            if (e.line.enhanced.len)
                check(e.line.esc_class == e.line.code / 100);
            cons += used;
            free(buf);
            continue;
        }
        check(used == 0);
        free(buf);
        if (st == OPES_INCOMPLETE) {
            size_t k;
            if (recv == n)
                break;
            k = chunks ? (size_t)chunks[ci++ % 4] % 64 + 1 : n;
            recv = n - recv < k ? n : recv + k;
            continue;
        }
        check(st < 0);
        o.status = st;
        o.err = opes_reply_parser_error_offset(p);
        check(o.err >= cons && o.err <= n);
        /* sticky */
        check(opes_reply_parser_feed(p, NULL, 0, &used, &e) == st);
        break;
    }
    o.consumed = cons;
    o.pending = opes_reply_parser_pending(p);
    opes_reply_parser_free(p);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_smtp_config *cfg = NULL;
    struct outcome w, c;
    const uint8_t *d;
    size_t n, off = 0, ei = 0;
    unsigned mode, lenient = 0;
    int done = 0;

    if (size < 6)
        return 0;
    mode = data[0];
    d = data + 6;
    n = size - 6;
    check(opes_smtp_config_new(&cfg, NULL) == OPES_OK);
    if (mode & 1)
        lenient |= OPES_LENIENT_BARE_LF;
    if (mode & 2)
        lenient |= OPES_LENIENT_8BIT;
    check(opes_smtp_config_set_lenient(cfg, lenient) == OPES_OK);
    check(opes_smtp_config_set_utf8(cfg, (mode & 4) != 0) == OPES_OK);
    if (mode & 8)
        check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 4 + data[1] % 64u) == OPES_OK);
    if (mode & 16)
        check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINES, 1 + data[1] % 8u) == OPES_OK);

    /* whole input at once, then in the chunks the input names */
    w = run(cfg, d, n, NULL, ev_whole);
    c = run(cfg, d, n, data + 2, ev_chunk);
    check(w.n == c.n && w.status == c.status && w.err == c.err && w.consumed == c.consumed &&
          w.pending == c.pending);
    check(memcmp(ev_whole, ev_chunk, w.n * sizeof ev_whole[0]) == 0);

    /* the whole-reply parser, reply by reply, says the same */
    while (off < n) {
        opes_reply r;
        size_t used = (size_t)-1, pos = 0, k = 0;
        opes_reply_line l;
        opes_status st = opes_reply_parse(cfg, (const char *)d + off, n - off, &r, &used);
        check(used <= n - off);
        if (st == OPES_INCOMPLETE) {
            check(used == 0);
            check(w.status == 0 && w.consumed >= off && w.pending == w.n - ei);
            done = 1;
            break;
        }
        if (st != OPES_OK) {
            check(st == w.status);
            check(off + r.error_offset == w.err);
            done = 1;
            break;
        }
        check(used == r.span.len && r.nlines >= 1);
        while (opes_reply_next_line(&r, &pos, &l) == OPES_OK) {
            const struct rec *e = &ev_whole[ei + k];
            check(ei + k < w.n);
            check(l.code == r.code && e->code == l.code && e->last == l.is_last);
            check(e->line_len == l.line_len && e->tlen == l.text.len);
            check(e->toff ==
                  (l.text.len ? off + (size_t)(l.text.ptr - ((const char *)d + off)) : 0));
            check(e->flags == l.esc_flags && e->notes == l.notes && e->elen == l.enhanced.len);
            k++;
        }
        check(pos == used && k == r.nlines);
        /* the one-line parser agrees on each line, bar OPES_ESC_DIFFERS */
        for (size_t i = 0; i < k; i++) {
            const struct rec *e = &ev_whole[ei + i];
            size_t u;
            opes_reply_line l1;
            check(opes_reply_line_parse(cfg, (const char *)d + e->offset, n - e->offset, &l1, &u) ==
                  OPES_OK);
            check(u == e->line_len && l1.code == e->code && l1.text.len == e->tlen);
            check((l1.esc_flags | (e->flags & OPES_ESC_DIFFERS)) == e->flags);
        }
        ei += k;
        off += used;
    }
    if (!done)
        check(w.status == 0 && w.consumed == n && ei == w.n && w.pending == 0);
    opes_smtp_config_free(cfg);
    return 0;
}
