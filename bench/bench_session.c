/*
 * make bench: the SMTP session, server role, on sessions.smtp (issue 4): ~1
 * MiB of whole client sessions with their message data (one in 20 with BDAT),
 * fed to one session object that is reset after each QUIT; every reply is
 * the one the session proposes. Figures: sessions/s and MB/s over the whole
 * buffer and in 4 KiB reads, each against a memchr line scan and a memcpy of
 * the same bytes measured in the same run, and heap allocations per session
 * after creation (goal 0).
 */
#include "bench_util.h"

#include <opes/opes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
    const char *buf;
    size_t len;
    char *dst;
    opes_session *s;
    size_t chunk; /* 0: the whole buffer is there at once */
    size_t sessions, messages, commands, refused, content;
};

static void run_memchr(void *arg)
{
    struct ctx *c = arg;
    bench_sink(bench_memchr_lines(c->buf, c->len));
}

static void run_memcpy(void *arg)
{
    struct ctx *c = arg;
    memcpy(c->dst, c->buf, c->len);
    bench_sink((size_t)(unsigned char)c->dst[c->len / 2]);
}

static void run_sessions(void *arg)
{
    struct ctx *c = arg;
    size_t start = 0, have = c->chunk ? c->chunk : c->len;
    size_t sessions = 0, messages = 0, commands = 0, refused = 0, content = 0;
    opes_session_reset(c->s);
    if (have > c->len)
        have = c->len;
    for (;;) {
        size_t used;
        opes_session_event ev;
        opes_status st = opes_session_feed(c->s, c->buf + start, have - start, &used, &ev);
        if (st == OPES_ESTATE) { /* QUIT answered: the next client */
            sessions++;
            opes_session_reset(c->s);
            continue;
        }
        if (st != OPES_OK)
            break;
        start += used;
        switch (ev.type) {
        case OPES_SESSION_EV_NONE:
            if (have == c->len)
                goto done;
            have = c->chunk && have + c->chunk < c->len ? have + c->chunk : c->len;
            continue;
        case OPES_SESSION_EV_COMMAND:
            commands++;
            if (ev.reply_code >= 400)
                refused++;
            break;
        case OPES_SESSION_EV_DATA_CONTENT:
        case OPES_SESSION_EV_BDAT_CONTENT:
            content += ev.content.len;
            break;
        case OPES_SESSION_EV_MESSAGE_END:
            messages++;
            if (ev.reply_code != 250)
                refused++;
            break;
        default:
            break;
        }
        for (int i = 0; i < ev.needs_reply; i++)
            opes_session_respond(c->s, ev.reply_code);
    }
done:
    if (opes_session_state(c->s) == OPES_STATE_CLOSED)
        sessions++;
    c->sessions = sessions;
    c->messages = messages;
    c->commands = commands;
    c->refused = refused;
    c->content = content;
    bench_sink(content);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/bench";
    static const char *const offers[][2] = {{"PIPELINING", NULL},    {"SIZE", "52428800"},
                                            {"8BITMIME", NULL},      {"SMTPUTF8", NULL},
                                            {"DSN", NULL},           {"CHUNKING", NULL},
                                            {"AUTH", "PLAIN LOGIN"}, {"ENHANCEDSTATUSCODES", NULL}};
    struct ctx c = {0};
    size_t len;
    opes_smtp_config *cfg = NULL;
    char *in = bench_load(dir, "sessions.smtp", &len);
    if (!in)
        return 1;
    c.buf = in;
    c.len = len;
    c.dst = malloc(len + 1);
    if (!c.dst || opes_smtp_config_new(&cfg, NULL) != OPES_OK)
        return 1;
    for (size_t i = 0; i < sizeof offers / sizeof offers[0]; i++)
        opes_smtp_config_offer(cfg, offers[i][0], 1, offers[i][1]);
    if (opes_session_new(&c.s, OPES_ROLE_SERVER, cfg, NULL) != OPES_OK)
        return 1;
    opes_smtp_config_free(cfg);

    /* what the corpus holds, counted without the library */
    size_t quits = 0, datas = 0, bdats = 0;
    for (const char *p = in; p && p < in + len;) {
        const char *e = memchr(p, '\n', (size_t)(in + len - p));
        size_t l = e ? (size_t)(e - p) + 1 : (size_t)(in + len - p);
        if ((l == 6 && memcmp(p, "QUIT\r\n", 6) == 0) || (l == 6 && memcmp(p, "quit\r\n", 6) == 0))
            quits++;
        if (l == 6 && (memcmp(p, "DATA\r\n", 6) == 0 || memcmp(p, "data\r\n", 6) == 0))
            datas++;
        if (l > 5 && (memcmp(p, "BDAT ", 5) == 0 || memcmp(p, "bdat ", 5) == 0))
            bdats++;
        p = e ? e + 1 : NULL;
    }

    double mb = (double)len / 1e6;
    double t_memchr = bench_best(run_memchr, &c, 0.5);
    double t_memcpy = bench_best(run_memcpy, &c, 0.5);

    uint64_t a0 = bench_allocs();
    run_sessions(&c);
    uint64_t allocs = bench_allocs() - a0;
    size_t sessions = c.sessions;
    int ok = c.sessions == quits && c.messages == datas + bdats && c.refused == 0;
    double t_whole = bench_best(run_sessions, &c, 1.0);

    c.chunk = 4096;
    a0 = bench_allocs();
    run_sessions(&c);
    allocs += bench_allocs() - a0;
    ok = ok && c.sessions == sessions && c.messages == datas + bdats && c.refused == 0;
    double t_4k = bench_best(run_sessions, &c, 1.0);

    printf("== SMTP session, server role: sessions.smtp (%.2f MB, %zu sessions, %zu messages "
           "of which %zu BDAT, %zu commands)\n",
           mb, sessions, c.messages, bdats, c.commands);
    printf("  memchr line scan        %8.0f MB/s\n", mb / t_memchr);
    printf("  memcpy                  %8.0f MB/s\n", mb / t_memcpy);
    printf("  sessions, whole buffer  %8.0f MB/s  %9.0f sessions/s  ratio to memchr %5.2f, to "
           "memcpy %5.2f\n",
           mb / t_whole, (double)sessions / t_whole, t_memchr / t_whole, t_memcpy / t_whole);
    printf("  ... in 4 KiB reads      %8.0f MB/s  %9.0f sessions/s  ratio to memchr %5.2f, to "
           "memcpy %5.2f\n",
           mb / t_4k, (double)sessions / t_4k, t_memchr / t_4k, t_memcpy / t_4k);
    printf("  heap allocations        %8.2f per session after creation (goal 0; %llu in all)\n",
           sessions ? (double)allocs / (double)(2 * sessions) : 0.0, (unsigned long long)allocs);
    if (!ok)
        printf("  MISMATCH: %zu sessions (want %zu), %zu messages (want %zu), %zu refused\n",
               c.sessions, quits, c.messages, datas + bdats, c.refused);

    opes_session_free(c.s);
    free(c.dst);
    free(in);
    return ok && allocs == 0 ? 0 : 2;
}
