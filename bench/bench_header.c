/*
 * make bench: the mail header scanner and the OPES trace (issue: OPES trace
 * and bypass).
 *
 * 1. Fields scanned per second on a realistic 200-field header section: a
 *    message that crossed many hops (folded Received fields, DKIM and ARC
 *    signatures, list headers, MIME fields), built here deterministically
 *    and prepended to body.eml from ../shared/bench. opes_header_scan() over
 *    the section, whole and in 4 KiB reads, against a memchr line scan of
 *    the same bytes in the same run.
 * 2. The cost of adding a trace block (opes_trace_begin + three services +
 *    verify + emit) to that message with body.eml as its body (~1 MB) and
 *    with the body repeated to ~10 MB: it must not grow with the body. The
 *    figure is the ratio of the two (goal: ~1.0) and each time against a
 *    memchr scan of the header alone.
 * 3. Heap allocations: per scan (goal 0) and per trace (the object's copies
 *    of the trace fields; allocated once and reused after reset()).
 */
#include "bench_util.h"

#include <opes/opes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb {
    char *p;
    size_t len, cap;
};

static void put(struct sb *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n > b->cap) {
        size_t nc = (b->cap + n) * 2;
        char *np = realloc(b->p, nc);
        if (!np)
            exit(1);
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* 200 fields as a message carries them after some 40 hops. */
static void make_header(struct sb *h)
{
    char line[1024];
    int fields = 0;
    for (int i = 0; i < 40; i++, fields += 2) {
        snprintf(line, sizeof line,
                 "Received: from relay%d.example.net (relay%d.example.net [192.0.2.%d])\r\n"
                 "\tby mx%d.example.org (Postfix) with ESMTPS id 4Xk%05dQz\r\n"
                 "\tfor <bob@example.org>; Mon, 23 Nov 2026 10:%02d:%02d +0000\r\n",
                 i + 1, i + 1, i % 250 + 1, i, i * 7919, i % 60, (i * 13) % 60);
        put(h, line);
        snprintf(line, sizeof line,
                 "X-Spam-Status: No, score=-%d.%d required=5.0 tests=BAYES_00,DKIM_SIGNED,\r\n"
                 "\tDKIM_VALID,RCVD_IN_DNSWL_NONE,SPF_HELO_NONE,SPF_PASS autolearn=ham\r\n",
                 i % 9, i % 10);
        put(h, line);
    }
    for (int i = 0; i < 10; i++, fields += 3) {
        snprintf(line, sizeof line,
                 "ARC-Seal: i=%d; a=rsa-sha256; t=17%08d; cv=pass; d=example.net; s=arc-2026;\r\n"
                 "\tb=Qm9uam91ciBCb2IsIHZvaWNpIGxlcyBjaGlmZnJlcyBkdSB0cmltZXN0cmUgZXQgbGUg\r\n"
                 "\t cHJvY2Vzcy12ZXJiYWwgZGUgbGEgcsOpdW5pb24gZGUgamV1ZGkuIMOAIGJpZW50w7R0\r\n",
                 i + 1, i * 104729);
        put(h, line);
        snprintf(line, sizeof line,
                 "ARC-Message-Signature: i=%d; a=rsa-sha256; c=relaxed/relaxed; d=example.net;\r\n"
                 "\ts=arc-2026; h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRk\r\n"
                 "\tm5NMpJWZG3hSuFU=; b=dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5\r\n",
                 i + 1);
        put(h, line);
        snprintf(line, sizeof line,
                 "ARC-Authentication-Results: i=%d; mx.example.org; dkim=pass header.d=example.net;\r\n"
                 "\tspf=pass smtp.mailfrom=example.net; dmarc=pass header.from=example.net\r\n",
                 i + 1);
        put(h, line);
    }
    static const char *const tail[] = {
        ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=2026;\r\n"
         "\th=from:to:subject:date:message-id:mime-version; bh=47DEQpj8HBSa+/TImW+5JC\r\n"
         "\teuQeRkm5NMpJWZG3hSuFU=; b=c2lnbmF0dXJlIGJ5dGVzIGdvIGhlcmUgYW5kIHRoZXJlIGFy\r\n"),
        "Authentication-Results: mx.example.org; dkim=pass; spf=pass; dmarc=pass\r\n",
        "Return-Path: <billing@news.example.fr>\r\n",
        "From: Billing <billing@news.example.fr>\r\n",
        "To: alice-postmaster@corp.example.co.uk\r\n",
        "Cc: finance@corp.example.co.uk, board@corp.example.co.uk\r\n",
        "Subject: quarterly figures and the minutes\r\n",
        "Date: Mon, 23 Nov 2026 09:59:58 +0100\r\n",
        "Message-ID: <20261123095958.4Xk2@news.example.fr>\r\n",
        "MIME-Version: 1.0\r\n",
        "List-Id: Finance announcements <finance.lists.example.fr>\r\n",
        ("List-Unsubscribe: <mailto:unsubscribe@lists.example.fr>,\r\n"
         " <https://lists.example.fr/unsubscribe/finance>\r\n"),
        "Precedence: list\r\n",
    };
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++, fields++)
        put(h, tail[i]);
    for (int i = 0; fields < 200; i++, fields++) {
        snprintf(line, sizeof line, "X-Header-%03d: value %d of a realistic, moderately long "
                                    "header field\r\n",
                 i, i);
        put(h, line);
    }
}

struct ctx {
    const char *hdr;
    size_t hdr_len;
    const char *msg;
    size_t msg_len;
    size_t chunk;
    opes_header_scanner *s;
    opes_trace *t;
    char *block;
    size_t block_cap, fields, block_len;
};

static void run_memchr(void *arg)
{
    struct ctx *c = arg;
    bench_sink(bench_memchr_lines(c->hdr, c->hdr_len));
}

static void run_scan(void *arg)
{
    struct ctx *c = arg;
    size_t off = 0, fields = 0, have = 0;
    opes_header_scanner_reset(c->s);
    for (;;) {
        size_t used;
        opes_header_event ev;
        if (c->chunk) {
            if (have < off)
                have = off;
            if (have - off < c->chunk) /* read 4 KiB more */
                have = have + c->chunk < c->hdr_len ? have + c->chunk : c->hdr_len;
        } else {
            have = c->hdr_len;
        }
        opes_status st = opes_header_scan(c->s, c->hdr + off, have - off, have == c->hdr_len,
                                          &used, &ev);
        off += used;
        if (st < 0)
            exit(1);
        if (ev.type == OPES_HEADER_EV_FIELD)
            fields++;
        else if (ev.type == OPES_HEADER_EV_END)
            break;
    }
    c->fields = fields;
    bench_sink(fields);
}

static void run_trace(void *arg)
{
    struct ctx *c = arg;
    static const char *const svc[] = {"http://scan.example.net/av",
                                      "http://scan.example.net/spam",
                                      "http://scan.example.net/lang"};
    opes_trace_reset(c->t);
    if (opes_trace_begin(c->t, c->msg, c->msg_len) != OPES_OK)
        exit(1);
    for (int i = 0; i < 3; i++)
        if (opes_trace_service(c->t, svc[i], strlen(svc[i]), i == 2 ? 1 : 0, 0) != OPES_OK)
            exit(1);
    if (opes_trace_verify(c->t, c->msg, c->msg_len) != OPES_OK)
        exit(1);
    size_t n = 0;
    if (opes_trace_emit(c->t, c->block, c->block_cap, &n, 0) != OPES_OK)
        exit(1);
    c->block_len = n;
    bench_sink(n);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/bench";
    size_t body_len;
    char *body = bench_load(dir, "body.eml", &body_len);
    if (!body)
        return 1;
    /* body.eml starts with its own header: skip it, keep the body */
    const char *b = strstr(body, "\n\n");
    const char *b2 = strstr(body, "\r\n\r\n");
    size_t skip = b2 && (!b || b2 < b) ? (size_t)(b2 + 4 - body) : b ? (size_t)(b + 2 - body) : 0;

    struct sb hdr = {0}, m1 = {0}, m10 = {0};
    make_header(&hdr);
    put(&hdr, "\r\n");
    struct ctx c = {0};
    c.hdr = hdr.p;
    c.hdr_len = hdr.len;
    if (opes_header_scanner_new(&c.s, NULL) != OPES_OK || opes_trace_new(&c.t, NULL) != OPES_OK)
        return 1;
    if (opes_trace_set_system(c.t, "http://opes.example.net/sys?site=7654", 37) != OPES_OK ||
        opes_trace_set_processor(c.t, "http://mx1.example.net/opes", 27) != OPES_OK)
        return 1;
    c.block_cap = 4096;
    c.block = malloc(c.block_cap);

    double t_memchr = bench_best(run_memchr, &c, 0.5);
    uint64_t a0 = bench_allocs();
    run_scan(&c);
    uint64_t scan_allocs = bench_allocs() - a0;
    if (c.fields != 200) {
        fprintf(stderr, "bench_header: expected 200 fields, scanned %zu\n", c.fields);
        return 1;
    }
    double t_scan = bench_best(run_scan, &c, 0.5);
    c.chunk = 4096;
    double t_scan4k = bench_best(run_scan, &c, 0.5);
    c.chunk = 0;

    /* the same header with a ~1 MB and a ~10 MB body */
    m1.p = malloc(hdr.len + (body_len - skip));
    if (!m1.p)
        return 1;
    memcpy(m1.p, hdr.p, hdr.len);
    memcpy(m1.p + hdr.len, body + skip, body_len - skip);
    m1.len = hdr.len + (body_len - skip);
    m10.p = malloc(hdr.len + 10 * (body_len - skip));
    if (!m10.p)
        return 1;
    memcpy(m10.p, hdr.p, hdr.len);
    m10.len = hdr.len;
    for (int i = 0; i < 10; i++) {
        memcpy(m10.p + m10.len, body + skip, body_len - skip);
        m10.len += body_len - skip;
    }
    c.msg = m1.p;
    c.msg_len = m1.len;
    run_trace(&c); /* warm: the object's buffers grow once */
    a0 = bench_allocs();
    run_trace(&c);
    uint64_t trace_allocs = bench_allocs() - a0;
    double t_trace1 = bench_best(run_trace, &c, 0.5);
    c.msg = m10.p;
    c.msg_len = m10.len;
    double t_trace10 = bench_best(run_trace, &c, 0.5);
    size_t block_len = c.block_len;

    double mb = (double)hdr.len / 1e6;
    printf("header scan: 200-field header section of %zu bytes (built in bench_header.c)\n",
           hdr.len);
    printf("  memchr line scan      %8.1f MB/s (baseline)\n", mb / t_memchr);
    printf("  opes_header_scan      %8.1f MB/s  %6.2f M fields/s  ratio %.3f of memchr\n",
           mb / t_scan, 200.0 / t_scan / 1e6, t_memchr / t_scan);
    printf("  ... in 4 KiB reads    %8.1f MB/s  %6.2f M fields/s  ratio %.3f of memchr\n",
           mb / t_scan4k, 200.0 / t_scan4k / 1e6, t_memchr / t_scan4k);
    printf("  heap allocations per scan: %llu (goal 0)\n", (unsigned long long)scan_allocs);
    printf("trace block (begin, 3 services, verify, emit; %zu-byte block) on that header\n",
           block_len);
    printf("  with a %5.1f MB body  %8.1f us  = %.2f header memchr scans\n",
           (double)m1.len / 1e6, t_trace1 * 1e6, t_trace1 / t_memchr);
    printf("  with a %5.1f MB body  %8.1f us  = %.2f header memchr scans\n",
           (double)m10.len / 1e6, t_trace10 * 1e6, t_trace10 / t_memchr);
    printf("  10 MB / 1 MB cost ratio %.2f (goal ~1: independent of the body)\n",
           t_trace10 / t_trace1);
    printf("  heap allocations per trace after the first: %llu\n",
           (unsigned long long)trace_allocs);
    opes_trace_free(c.t);
    opes_header_scanner_free(c.s);
    free(c.block);
    free(hdr.p);
    free(m1.p);
    free(m10.p);
    free(body);
    return 0;
}
