/*
 * make bench: the DATA codec on body.eml (issue: SMTP session), a ~1 MiB
 * message as it travels inside DATA (dot-stuffed, CRLF, ends with
 * CRLF.CRLF). Figures: MB/s of opes_data_decode() over the whole buffer and
 * in 4 KiB reads, of opes_data_encode() on the decoded content, each against
 * a memchr line scan and a memcpy of the same bytes measured in the same run;
 * the ratios; and heap allocations after creation (goal 0).
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
    size_t chunk; /* 0: the whole buffer at once */
    opes_data_decoder *d;
    opes_data_encoder *e;
    size_t out, events, ends;
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

static void run_decode(void *arg)
{
    struct ctx *c = arg;
    size_t off = 0, out = 0, events = 0, ends = 0;
    opes_data_decoder_reset(c->d);
    while (off < c->len) {
        size_t n = c->len - off, pos = 0;
        if (c->chunk && n > c->chunk)
            n = c->chunk;
        for (;;) {
            size_t used;
            opes_data_event ev;
            opes_data_decode(c->d, c->buf + off + pos, n - pos, &used, &ev);
            pos += used;
            events++;
            if (ev.type == OPES_DATA_EV_CONTENT)
                out += ev.content.len;
            else if (ev.type == OPES_DATA_EV_NONE)
                break;
            else if (ev.type == OPES_DATA_EV_END) {
                ends++;
                break;
            }
        }
        off += pos;
        if (ends)
            break;
    }
    c->out = out;
    c->events = events;
    c->ends = ends;
    bench_sink(out);
}

static void run_encode(void *arg)
{
    struct ctx *c = arg;
    size_t pos = 0, out = 0, events = 0;
    opes_data_event ev;
    opes_data_encoder_reset(c->e);
    for (;;) {
        size_t used;
        opes_data_encode(c->e, c->buf + pos, c->len - pos, &used, &ev);
        pos += used;
        events++;
        if (ev.type == OPES_DATA_EV_NONE)
            break;
        if (ev.type == OPES_DATA_EV_CONTENT)
            out += ev.content.len;
    }
    while (opes_data_encode_finish(c->e, &ev) == OPES_OK && ev.type != OPES_DATA_EV_END) {
        if (ev.type == OPES_DATA_EV_CONTENT)
            out += ev.content.len;
    }
    c->out = out;
    c->events = events;
    bench_sink(out);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/bench";
    struct ctx c = {0};
    size_t len;
    char *body = bench_load(dir, "body.eml", &len);
    if (!body)
        return 1;
    c.buf = body;
    c.len = len;
    c.dst = malloc(len + 1);
    if (!c.dst || opes_data_decoder_new(&c.d, NULL) != OPES_OK ||
        opes_data_encoder_new(&c.e, NULL) != OPES_OK)
        return 1;

    double mb = (double)len / 1e6;
    double t_memchr = bench_best(run_memchr, &c, 0.5);
    double t_memcpy = bench_best(run_memcpy, &c, 0.5);

    uint64_t a0 = bench_allocs();
    run_decode(&c);
    uint64_t allocs = bench_allocs() - a0;
    size_t content_len = c.out, events = c.events;
    int ok = c.ends == 1;
    opes_data_summary s;
    opes_data_decoder_summary(c.d, &s);
    ok = ok && s.bytes_in == len && s.reply_code == 250 && s.bytes_out == content_len;
    double t_dec = bench_best(run_decode, &c, 1.0);

    c.chunk = 4096;
    a0 = bench_allocs();
    run_decode(&c);
    allocs += bench_allocs() - a0;
    ok = ok && c.ends == 1 && c.out == content_len;
    double t_dec4k = bench_best(run_decode, &c, 1.0);

    printf("== DATA codec: body.eml (%.2f MB, %llu lines, %llu stuffed dots, %zu events)\n", mb,
           (unsigned long long)s.lines, (unsigned long long)s.stuffed_dots, events);
    printf("  memchr line scan        %8.0f MB/s\n", mb / t_memchr);
    printf("  memcpy                  %8.0f MB/s\n", mb / t_memcpy);
    printf("  opes_data_decode        %8.0f MB/s  ratio to memchr %5.2f, to memcpy %5.2f"
           "  (goal >= 0.5; smtp-proto ~500 MB/s, anchors.md 1.3)\n",
           mb / t_dec, t_memchr / t_dec, t_memcpy / t_dec);
    printf("  ... in 4 KiB reads      %8.0f MB/s  ratio to memchr %5.2f, to memcpy %5.2f\n",
           mb / t_dec4k, t_memchr / t_dec4k, t_memcpy / t_dec4k);

    /* the encoder, on the decoded content (made once, outside the timing) */
    size_t clen = 0;
    {
        size_t off = 0;
        opes_data_decoder_reset(c.d);
        for (;;) {
            size_t used;
            opes_data_event ev;
            opes_data_decode(c.d, body + off, len - off, &used, &ev);
            off += used;
            if (ev.type == OPES_DATA_EV_CONTENT) {
                memcpy(c.dst + clen, ev.content.ptr, ev.content.len);
                clen += ev.content.len;
            } else if (ev.type == OPES_DATA_EV_END || ev.type == OPES_DATA_EV_NONE) {
                break;
            }
        }
    }
    c.buf = c.dst;
    c.len = clen;
    a0 = bench_allocs();
    run_encode(&c);
    allocs += bench_allocs() - a0;
    ok = ok && c.out == len; /* re-encoding gives back body.eml's size */
    double cmb = (double)clen / 1e6;
    double t_enc = bench_best(run_encode, &c, 1.0);
    printf("  opes_data_encode        %8.0f MB/s  ratio to memchr %5.2f, to memcpy %5.2f\n",
           cmb / t_enc, t_memchr * cmb / mb / t_enc, t_memcpy * cmb / mb / t_enc);
    printf("  heap allocations        %8llu after creation (goal 0)\n", (unsigned long long)allocs);
    if (!ok)
        printf("  MISMATCH: the decode or round trip did not give the expected sizes\n");

    opes_data_decoder_free(c.d);
    opes_data_encoder_free(c.e);
    free(c.dst);
    free(body);
    return ok && allocs == 0 ? 0 : 2;
}
