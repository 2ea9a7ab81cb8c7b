/*
 * make bench: reading delivery status notifications (issue: DSNs; the
 * builder's figures are bench_dsn_build.c).
 *
 * DSNs parsed per second over an mbox of real reports: the reports Postfix
 * 3.7 and Exim 4.96 wrote (tests/fixtures/dsn/real.mbox), repeated to about
 * 4 MB. The mbox reader splits the mailbox, each message is collected into
 * one buffer and read with opes_dsn_message_parse(), every recipient
 * iterated. Against a memchr line scan of the same mailbox in the same run;
 * heap allocations per report (goal 0: reader, walker and buffers are made
 * once).
 */
#include "bench_util.h"

#include <opes/opes.h>
#include <opes/dsn_read.h>
#include <opes/mbox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pctx {
    const char *mbox;
    size_t mbox_len;
    opes_mbox_reader *r;
    opes_mime_walker *w;
    char *msg;
    size_t msg_cap, msg_len;
    char scratch[4096];
    size_t reports, recipients, others;
};

static void run_memchr_mbox(void *arg)
{
    struct pctx *c = arg;
    bench_sink(bench_memchr_lines(c->mbox, c->mbox_len));
}

static void parse_one(struct pctx *c)
{
    opes_dsn_read_report rep;
    size_t need = 0;
    opes_status st = opes_dsn_message_parse(c->w, c->msg, c->msg_len, OPES_DSN_READ_LF,
                                            c->scratch, sizeof c->scratch, &rep, &need);
    if (st != OPES_OK) {
        c->others++;
        return;
    }
    c->reports++;
    opes_dsn_iter it;
    opes_dsn_read_recipient rr;
    if (opes_dsn_recipients(&rep.status, &it) != OPES_OK)
        exit(1);
    while (opes_dsn_recipient_next(&it, &rr) == OPES_OK)
        c->recipients++;
}

static void run_parse(void *arg)
{
    struct pctx *c = arg;
    c->reports = c->recipients = c->others = 0;
    if (opes_mbox_reader_reset(c->r) != OPES_OK)
        exit(1);
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        opes_mbox_event ev;
        opes_status st = opes_mbox_feed(c->r, c->mbox + off, c->mbox_len - off, 1, &used, &ev);
        off += used;
        if (st != OPES_OK)
            exit(1);
        if (ev.type == OPES_MBOX_EV_MESSAGE_BEGIN) {
            c->msg_len = 0;
        } else if (ev.type == OPES_MBOX_EV_DATA) {
            if (c->msg_len + ev.data.len > c->msg_cap)
                exit(1); /* the bench's reports are small */
            memcpy(c->msg + c->msg_len, ev.data.ptr, ev.data.len);
            c->msg_len += ev.data.len;
        } else if (ev.type == OPES_MBOX_EV_MESSAGE_END) {
            parse_one(c);
        } else if (ev.type == OPES_MBOX_EV_END) {
            break;
        }
    }
    bench_sink(c->reports + c->recipients);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t a0;
    size_t one_len;
    char *one = bench_load("tests/fixtures/dsn", "real.mbox", &one_len);
    if (!one)
        return 1;
    size_t reps = (4u << 20) / (one_len ? one_len : 1) + 1;
    struct pctx pc = {0};
    pc.mbox_len = one_len * reps;
    char *mb = malloc(pc.mbox_len);
    if (!mb)
        return 1;
    for (size_t i = 0; i < reps; i++)
        memcpy(mb + i * one_len, one, one_len);
    pc.mbox = mb;
    pc.msg_cap = 1 << 20;
    pc.msg = malloc(pc.msg_cap);
    if (!pc.msg || opes_mbox_reader_new(&pc.r, NULL) != OPES_OK ||
        opes_mime_walker_new(&pc.w, NULL) != OPES_OK)
        return 1;
    run_parse(&pc);
    a0 = bench_allocs();
    run_parse(&pc);
    uint64_t parse_allocs = bench_allocs() - a0;
    size_t nrep = pc.reports, nrcpt = pc.recipients, nother = pc.others;
    double t_mc = bench_best(run_memchr_mbox, &pc, 0.5);
    double t_parse = bench_best(run_parse, &pc, 1.0);
    double mbytes = (double)pc.mbox_len / 1e6;
    printf("DSN parse: mbox of real Postfix and Exim reports x%zu (%.1f MB, %zu reports, "
           "%zu recipients, %zu not reports)\n",
           reps, mbytes, nrep, nrcpt, nother);
    printf("  memchr line scan      %8.1f MB/s (baseline)\n", mbytes / t_mc);
    printf("  mbox + dsn parse      %8.1f MB/s  %9.0f reports/s  ratio %.3f of memchr\n",
           mbytes / t_parse, (double)nrep / t_parse, t_mc / t_parse);
    printf("  heap allocations per report: %.3f (goal 0)\n",
           nrep ? (double)parse_allocs / (double)nrep : 0.0);
    if (nrep == 0 || nother != 0) {
        fprintf(stderr, "bench_dsn: expected only reports in real.mbox\n");
        return 1;
    }
    free(mb);
    free(pc.msg);
    free(one);
    opes_mbox_reader_free(pc.r);
    opes_mime_walker_free(pc.w);
    return 0;
}
