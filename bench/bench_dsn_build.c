/*
 * make bench: the DSN report builder (issue: delivery status notifications).
 *
 * 1. Reports built per second for a one-recipient NDR with the header
 *    section returned (RET=HDRS), about a message made of a 20-field header
 *    and body.eml from ../shared/bench (~1 MB): feed the whole message,
 *    prepare, size and write the head, write the tail. The returned header
 *    bytes are the caller's range and not copied here (as a sender would
 *    write them from its own buffer).
 * 2. The one pass alone (opes_dsn_builder_feed) in MB/s, against a memchr
 *    line scan of the same bytes in the same run, for the ~1 MB message and
 *    for one ~10 MB message (the body repeated): the builder's memory and
 *    per-byte cost must not grow with the size.
 * 3. Heap allocations per report: 0 with the builder in caller memory
 *    (opes_dsn_builder_init_in) and a caller buffer for the head.
 */
#include "bench_util.h"

#include <opes/opes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
    const char *msg;
    size_t len;
    void *mem;
    char *head;
    size_t head_cap;
    size_t out;
};

static const char HDR[] =
    "Return-Path: <alice@example.org>\r\n"
    "Received: from a.example.org (a.example.org [192.0.2.1])\r\n"
    "\tby mx.example.net (Postfix) with ESMTPS id 4XkQz; Sun, 6 Dec 2026 05:00:00 +0000\r\n"
    "OPES-System: http://opes.example.net/sys\r\n"
    "OPES-Via: http://mx1.example.net/opes, http://opes.example.net/virus; action=reject\r\n"
    "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: report\r\n"
    "Date: Sun, 6 Dec 2026 04:59:00 +0000\r\nMessage-ID: <abc@example.org>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "X-A: 1\r\nX-B: 2\r\nX-C: 3\r\nX-D: 4\r\nX-E: 5\r\nX-F: 6\r\nX-G: 7\r\nX-H: 8\r\n\r\n";

static void run_report(void *arg)
{
    struct ctx *c = arg;
    opes_dsn_builder *b = NULL;
    opes_dsn_recipient r;
    opes_dsn_report rep;
    opes_dsn_plan plan;
    size_t n = 0, t = 0;
    char tail[128];
    memset(&r, 0, sizeof r);
    memset(&rep, 0, sizeof rep);
    r.final_recipient = (opes_str){"bob@example.com", 15};
    r.action = OPES_DSN_ACTION_FAILED;
    r.status = (opes_str){"5.7.1", 5};
    r.diagnostic = (opes_str){"550 5.7.1 Message rejected by OPES service", 42};
    r.opes_service = (opes_str){"http://opes.example.net/virus", 29};
    r.bypassable = OPES_DSN_BYPASS_YES;
    rep.from = (opes_str){"postmaster@mx.example.net", 25};
    rep.to = (opes_str){"alice@example.org", 17};
    rep.date = (opes_str){"Sun, 6 Dec 2026 05:10:00 +0000", 30};
    rep.message_id = (opes_str){"<r1@mx.example.net>", 19};
    rep.reporting_mta = (opes_str){"mx.example.net", 14};
    rep.opes_system = (opes_str){"http://opes.example.net/sys", 27};
    rep.ret = OPES_DSN_RET_HDRS;
    rep.rcpts = &r;
    rep.nrcpts = 1;
    if (opes_dsn_builder_init_in(c->mem, opes_dsn_builder_sizeof(), &b) != OPES_OK ||
        opes_dsn_builder_set_seed(b, "bench", 5) != OPES_OK ||
        opes_dsn_builder_feed(b, c->msg, c->len) != OPES_OK || opes_dsn_builder_end(b) != OPES_OK ||
        opes_dsn_builder_prepare(b, &rep, &plan) != OPES_OK ||
        opes_dsn_build_head(b, NULL, 0, &n) != OPES_ENOSPC || n > c->head_cap ||
        opes_dsn_build_head(b, c->head, c->head_cap, &n) != OPES_OK ||
        opes_dsn_build_tail(b, tail, sizeof tail, &t) != OPES_OK)
        exit(1);
    c->out = n + (size_t)plan.length + t;
    bench_sink(c->out);
}

static void run_feed(void *arg)
{
    struct ctx *c = arg;
    opes_dsn_builder *b = NULL;
    if (opes_dsn_builder_init_in(c->mem, opes_dsn_builder_sizeof(), &b) != OPES_OK ||
        opes_dsn_builder_set_seed(b, "bench", 5) != OPES_OK)
        exit(1);
    for (size_t i = 0; i < c->len; i += 65536)
        opes_dsn_builder_feed(b, c->msg + i, c->len - i < 65536 ? c->len - i : 65536);
    opes_dsn_builder_end(b);
    bench_sink((size_t)(uintptr_t)b);
}

static void run_memchr(void *arg)
{
    struct ctx *c = arg;
    bench_sink(bench_memchr_lines(c->msg, c->len));
}

static char *make_msg(const char *body, size_t body_len, int times, size_t *len)
{
    size_t hl = sizeof HDR - 1, n = hl + body_len * (size_t)times;
    char *m = malloc(n);
    if (!m)
        exit(1);
    memcpy(m, HDR, hl);
    for (int i = 0; i < times; i++)
        memcpy(m + hl + body_len * (size_t)i, body, body_len);
    *len = n;
    return m;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/bench";
    size_t body_len;
    char *body = bench_load(dir, "body.eml", &body_len);
    if (!body)
        return 1;
    const char *b = strstr(body, "\r\n\r\n");
    size_t skip = b ? (size_t)(b + 4 - body) : 0;
    struct ctx c1 = {0}, c10 = {0};
    void *mem = malloc(opes_dsn_builder_sizeof());
    char *head = malloc(16384);
    if (!mem || !head)
        return 1;
    c1.msg = make_msg(body + skip, body_len - skip, 1, &c1.len);
    c10.msg = make_msg(body + skip, body_len - skip, 10, &c10.len);
    c1.mem = c10.mem = mem;
    c1.head = c10.head = head;
    c1.head_cap = c10.head_cap = 16384;

    double t_rep = bench_best(run_report, &c1, 1.0);
    uint64_t a0 = bench_allocs();
    run_report(&c1);
    uint64_t allocs = bench_allocs() - a0;
    double t_feed1 = bench_best(run_feed, &c1, 0.5), t_mc1 = bench_best(run_memchr, &c1, 0.5);
    double t_feed10 = bench_best(run_feed, &c10, 1.0), t_mc10 = bench_best(run_memchr, &c10, 1.0);
    printf("dsn_build: one-recipient NDR, headers returned, message of %zu octets: "
           "%.0f reports/s (%zu octets of report each)\n",
           c1.len, 1.0 / t_rep, c1.out);
    printf("dsn_build: heap allocations per report (builder in caller memory): %llu\n",
           (unsigned long long)allocs);
    printf("dsn_build: one pass (feed) %.0f MB/s on %zu octets, %.0f MB/s on %zu octets; "
           "memchr line scan %.0f / %.0f MB/s\n",
           (double)c1.len / t_feed1 / 1e6, c1.len, (double)c10.len / t_feed10 / 1e6, c10.len,
           (double)c1.len / t_mc1 / 1e6, (double)c10.len / t_mc10 / 1e6);
    printf("dsn_build: builder memory %zu octets, whatever the message's size\n",
           opes_dsn_builder_sizeof());
    return allocs == 0 ? 0 : 1;
}
