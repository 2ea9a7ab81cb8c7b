/*
 * A driver for session tests: feeds an input to a session in chunks (or in
 * client "writes"), answers every event that needs a reply (with scripted
 * codes, or else the session's proposal), and writes an event log whose
 * lines carry byte offsets (llhttp style). Adjacent content events are
 * joined, so every split of an input must give the same log.
 *
 * Each feed call gets an exact-size heap copy of the bytes it may read, so
 * ASan catches a read past them; the whole-input run uses guarded_copy().
 */
#ifndef OPES_TEST_SESSION_DRIVER_H
#define OPES_TEST_SESSION_DRIVER_H

#include "harness.h"

#include <stdint.h>
#include <stdlib.h>

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 256);
        while (nc < b->len + n + 1)
            nc *= 2;
        b->p = realloc(b->p, nc);
        if (!b->p)
            abort();
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Bytes as C-like escapes, for logs. */
static void sb_esc(struct sbuf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            sb_add(b, "\\r", 2);
        else if (c == '\n')
            sb_add(b, "\\n", 2);
        else if (c == '\\')
            sb_add(b, "\\\\", 2);
        else if (c < 32 || c >= 127)
            sb_printf(b, "\\x%02x", c);
        else
            sb_add(b, (const char *)&c, 1);
    }
}

static void sb_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

enum { UNREAD_NONE = 0, UNREAD_WINDOW = 1, UNREAD_ZERO = 2 };

struct drv {
    opes_session *s;
    struct sbuf log;
    struct sbuf content; /* pending joined content */
    uint64_t content_off;
    int content_type;
    const int *script; /* reply codes to give, in order; 0 = the proposal */
    size_t nscript, si;
    int unread_mode;   /* how opes_session_reply_sent() is called */
    int tls_on_record; /* on TLS_INJECTION starting 0x16 0x03: tls_started, stop */
    int stop;
    int verbose_cmd; /* log path/params of commands */
    int messages;
    /* every reply given: the proposal, the code given, where, to what */
    size_t nrep;
    int prop[512], given[512], rverb[512], rtype[512];
    uint64_t rat[512];
};

static void drv_flush(struct drv *d)
{
    if (d->content.len) {
        sb_printf(&d->log, "%llu %s \"", (unsigned long long)d->content_off,
                  d->content_type == OPES_SESSION_EV_BDAT_CONTENT ? "bdat" : "data");
        sb_esc(&d->log, d->content.p, d->content.len);
        sb_add(&d->log, "\"\n", 2);
        d->content.len = 0;
    }
}

static void drv_init(struct drv *d, opes_session *s)
{
    memset(d, 0, sizeof *d);
    d->s = s;
}

/* Handle one event; returns 0 to stop. unread: bytes the driver holds
 * beyond what was consumed (for reply_sent). */
static void drv_event(struct drv *d, const opes_session_event *ev, size_t unread)
{
    if (ev->type == OPES_SESSION_EV_DATA_CONTENT || ev->type == OPES_SESSION_EV_BDAT_CONTENT) {
        if (d->content.len && d->content_type != ev->type)
            drv_flush(d);
        if (!d->content.len) {
            d->content_off = ev->offset;
            d->content_type = ev->type;
        }
        sb_add(&d->content, ev->content.ptr, ev->content.len);
        return;
    }
    drv_flush(d);
    sb_printf(&d->log, "%llu %s", (unsigned long long)ev->offset,
              opes_session_event_name(ev->type));
    switch (ev->type) {
    case OPES_SESSION_EV_COMMAND:
    case OPES_SESSION_EV_LINE_TOO_LONG:
        sb_printf(&d->log, " %s %s", ev->verb ? opes_verb_name(ev->verb) : "?",
                  opes_status_name(ev->status));
        if (d->verbose_cmd && ev->status == OPES_OK &&
            (ev->verb == OPES_VERB_MAIL || ev->verb == OPES_VERB_RCPT)) {
            sb_add(&d->log, " <", 2);
            sb_esc(&d->log, ev->command.path.mailbox.ptr, ev->command.path.mailbox.len);
            sb_add(&d->log, ">", 1);
        }
        if (ev->verb == OPES_VERB_BDAT && ev->status == OPES_OK)
            sb_printf(&d->log, " size=%llu%s", (unsigned long long)ev->size,
                      ev->last ? " last" : "");
        break;
    case OPES_SESSION_EV_AUTH_LINE:
        sb_printf(&d->log, " %s%s", opes_status_name(ev->status), ev->auth.cancel ? " cancel" : "");
        break;
    case OPES_SESSION_EV_DATA_ANOMALY:
        sb_printf(&d->log, " %s", opes_data_event_name(ev->data_event));
        break;
    case OPES_SESSION_EV_MESSAGE_END:
    case OPES_SESSION_EV_CHUNK_END:
        sb_printf(&d->log, " %s size=%llu%s", opes_verb_name(ev->verb),
                  (unsigned long long)ev->size, ev->last ? " last" : "");
        d->messages += ev->type == OPES_SESSION_EV_MESSAGE_END;
        break;
    case OPES_SESSION_EV_TLS_INJECTION:
        sb_printf(&d->log, " len=%zu", ev->content.len);
        break;
    case OPES_SESSION_EV_PIPELINING_VIOLATION:
        sb_printf(&d->log, " after=%s", ev->verb ? opes_verb_name(ev->verb) : "greeting");
        break;
    default:
        break;
    }
    if (ev->reply_code)
        sb_printf(&d->log, " [%d%s%s %s]", ev->reply_code, ev->enhanced ? " " : "",
                  ev->enhanced ? ev->enhanced : "", opes_session_reason_name(ev->reason));
    for (int i = 0; i < ev->needs_reply; i++) {
        int code = ev->reply_code;
        if (d->si < d->nscript) {
            int c = d->script[d->si++];
            if (c)
                code = c;
        }
        opes_status st = opes_session_respond(d->s, code);
        if (d->nrep < 512) {
            d->prop[d->nrep] = ev->reply_code;
            d->given[d->nrep] = code;
            d->rverb[d->nrep] = ev->verb;
            d->rtype[d->nrep] = ev->type;
            d->rat[d->nrep] = ev->offset;
            d->nrep++;
        }
        if (code != ev->reply_code)
            sb_printf(&d->log, " ->%d", code);
        if (st != OPES_OK)
            sb_printf(&d->log, " respond=%s", opes_status_name(st));
    }
    sb_add(&d->log, "\n", 1);
    if (ev->needs_reply) {
        if (d->unread_mode == UNREAD_WINDOW)
            opes_session_reply_sent(d->s, unread);
        else if (d->unread_mode == UNREAD_ZERO)
            opes_session_reply_sent(d->s, 0);
    }
}

/*
 * Run input[0..len) through d->s, delivered in "writes" of the client:
 * seg[] holds the end offsets of the writes (nseg 0: one write of
 * everything). Inside a write, bytes are fed `chunk` at a time (0: all of
 * what is available). Returns the stream offset reached.
 */
static size_t drv_run(struct drv *d, const char *input, size_t len, const size_t *seg, size_t nseg,
                      size_t chunk)
{
    size_t start = 0, have = 0, segi = 0, seg_end;
    int guarded = chunk == 0 && nseg == 0;
    const char *g = guarded ? guarded_copy(input, len) : NULL;
    seg_end = nseg ? seg[0] : len;
    have = chunk ? (chunk < seg_end ? chunk : seg_end) : seg_end;
    for (;;) {
        size_t used = 0, n = have - start;
        opes_session_event ev;
        opes_status st;
        char *w = NULL;
        const char *p;
        if (guarded) {
            p = g + start;
        } else {
            w = malloc(n ? n : 1);
            memcpy(w, input + start, n);
            p = w;
        }
        st = opes_session_feed(d->s, n ? p : NULL, n, &used, &ev);
        if (st != OPES_OK) {
            drv_flush(d);
            if (n == 0 && st == OPES_ESTATE && have < len) { /* closed: more bytes? */
                free(w);
                if (have == seg_end) {
                    segi++;
                    seg_end = segi < nseg ? seg[segi] : len;
                }
                have = chunk ? (have + chunk < seg_end ? have + chunk : seg_end) : seg_end;
                continue;
            }
            if (n == 0 && st == OPES_ESTATE) {
                free(w);
                break;
            }
            sb_printf(&d->log, "%llu feed=%s\n", (unsigned long long)(start + used),
                      opes_status_name(st));
            free(w);
            break;
        }
        if (used > n)
            sb_add(&d->log, "USED > LEN\n", 11);
        start += used;
        if (ev.type == OPES_SESSION_EV_NONE) {
            free(w);
            if (have == len)
                break;
            if (have == seg_end) {
                segi++;
                seg_end = segi < nseg ? seg[segi] : len;
            }
            have = chunk ? (have + chunk < seg_end ? have + chunk : seg_end) : seg_end;
            continue;
        }
        if (ev.type == OPES_SESSION_EV_TLS_INJECTION && d->tls_on_record && ev.offset + 2 <= len &&
            (unsigned char)input[ev.offset] == 0x16 && input[ev.offset + 1] == 0x03) {
            /* a TLS record: the handshake begins here, nothing after is SMTP */
            drv_flush(d);
            sb_printf(&d->log, "%llu tls-record\n", (unsigned long long)ev.offset);
            free(w);
            break;
        }
        drv_event(d, &ev, seg_end - start);
        free(w);
        if (d->stop)
            break;
    }
    drv_flush(d);
    if (guarded)
        guarded_free(g);
    return start;
}

#endif
