/*
 * libFuzzer harness: the DATA decoder (RFC 5321 4.1.1.4, 4.5.2).
 *
 * Input: byte 0 picks the mode (bit 0: REJECT / NORMALISE) and the line
 * limit (bits 1..3), byte 1 seeds the chunk sizes; the rest is the data
 * stream. Invariants (abort on failure):
 *   - used <= len on every call, CONTENT never empty, NONE only when all of
 *     the chunk is consumed, and END stops exactly once;
 *   - chunked events == whole-input events (adjacent CONTENT merged);
 *   - the summary agrees with what was handed out;
 *   - content never hides a terminator: encoding the decoded content and
 *     decoding that again gives the same content (normalised, plus the CRLF
 *     the encoder adds), ends exactly at the end of the encoding, with no
 *     anomaly (long lines aside: they keep their length).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

/* The event log: one record per non-content event (type, offset) and one
 * per run of merged content (its first offset and its bytes). */
typedef struct log {
    buf rec;     /* records */
    buf content; /* all content */
    buf run;     /* the current content run */
    uint64_t run_off;
    int ended;
    size_t end_used;
    unsigned anomalies; /* events other than CONTENT, END, LONG_LINE */
    unsigned long_lines;
} log_t;

static void flush_run(log_t *l)
{
    if (!l->run.n)
        return;
    unsigned char t = 0xC0;
    put(&l->rec, &t, 1);
    put(&l->rec, &l->run_off, sizeof l->run_off);
    put(&l->rec, &l->run.n, sizeof l->run.n);
    put(&l->rec, l->run.p, l->run.n);
    l->run.n = 0;
}

static void log_free(log_t *l)
{
    free(l->rec.p);
    free(l->content.p);
    free(l->run.p);
}

static void decode(int mode, size_t limit, const unsigned char *in, size_t n, uint32_t seed,
                   log_t *l, opes_data_summary *sum)
{
    opes_data_decoder *d = NULL;
    CHECK(opes_data_decoder_new(&d, NULL) == OPES_OK);
    CHECK(opes_data_decoder_set_mode(d, mode) == OPES_OK);
    CHECK(opes_data_decoder_set_line_limit(d, limit) == OPES_OK);
    memset(l, 0, sizeof *l);
    size_t start = 0;
    while (start < n && !l->ended) {
        size_t len = n - start;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            size_t c = 1 + (seed >> 16) % 17;
            if (c < len)
                len = c;
        }
        /* the chunk in a block of its own size: ASan sees any over-read */
        unsigned char *chunk = malloc(len ? len : 1);
        CHECK(chunk);
        memcpy(chunk, in + start, len);
        size_t pos = 0;
        for (int guard = 0;; guard++) {
            size_t used;
            opes_data_event ev;
            CHECK(guard < 100000);
            CHECK(opes_data_decode(d, (const char *)chunk + pos, len - pos, &used, &ev) == OPES_OK);
            CHECK(used <= len - pos);
            pos += used;
            if (ev.type == OPES_DATA_EV_NONE) {
                CHECK(pos == len);
                break;
            }
            if (ev.type == OPES_DATA_EV_CONTENT) {
                CHECK(ev.content.len > 0 && ev.content.ptr != NULL);
                if (!l->run.n)
                    l->run_off = ev.offset;
                put(&l->run, ev.content.ptr, ev.content.len);
                put(&l->content, ev.content.ptr, ev.content.len);
                continue;
            }
            flush_run(l);
            unsigned char t = (unsigned char)ev.type;
            put(&l->rec, &t, 1);
            put(&l->rec, &ev.offset, sizeof ev.offset);
            if (ev.type == OPES_DATA_EV_END) {
                l->ended = 1;
                l->end_used = start + pos;
                break;
            }
            if (ev.type != OPES_DATA_EV_LONG_LINE)
                l->anomalies++;
            else
                l->long_lines++;
            CHECK(ev.offset < start + pos + 1);
        }
        free(chunk);
        start += pos;
    }
    flush_run(l);
    if (l->ended) {
        size_t used = 1;
        opes_data_event ev;
        CHECK(opes_data_decode(d, "x", 1, &used, &ev) == OPES_ESTATE && used == 0);
    }
    CHECK(opes_data_decoder_summary(d, sum) == OPES_OK);
    opes_data_decoder_free(d);
}

static void normalise(const unsigned char *in, size_t n, buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') {
            put(out, "\r\n", 2);
            i++;
        } else if (in[i] == '\r' || in[i] == '\n') {
            put(out, "\r\n", 2);
        } else {
            put(out, in + i, 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t limits[8] = {2, 3, 4, 7, 12, 78, 1000, 1000000};
    if (size < 2)
        return 0;
    int mode = data[0] & 1;
    size_t limit = limits[(data[0] >> 1) & 7];
    uint32_t seed = (uint32_t)data[1] + 1;
    const unsigned char *in = data + 2;
    size_t n = size - 2;

    log_t whole, chunked;
    opes_data_summary s1, s2;
    decode(mode, limit, in, n, 0, &whole, &s1);
    decode(mode, limit, in, n, seed, &chunked, &s2);
    CHECK(whole.rec.n == chunked.rec.n &&
          (whole.rec.n == 0 || memcmp(whole.rec.p, chunked.rec.p, whole.rec.n) == 0));
    CHECK(whole.ended == chunked.ended && whole.end_used == chunked.end_used);
    CHECK(memcmp(&s1, &s2, sizeof s1) == 0);
    CHECK(s1.bytes_out == whole.content.n);
    CHECK(s1.bytes_in == (whole.ended ? whole.end_used : n));
    CHECK(s1.complete == whole.ended);
    CHECK(s1.bare_lf + s1.bare_cr + s1.dot_not_stuffed + s1.false_ends == whole.anomalies);
    CHECK(s1.long_lines == whole.long_lines);
    if (whole.ended) {
        CHECK(s1.reply_code ==
              ((mode == OPES_DATA_REJECT && (s1.bare_lf || s1.bare_cr)) ? 550 : 250));
        /* RFC 5321 4.1.1.4: the content of an ended message ends with CRLF */
        CHECK(whole.content.n == 0 ||
              (whole.content.n >= 2 && whole.content.p[whole.content.n - 2] == '\r' &&
               whole.content.p[whole.content.n - 1] == '\n'));
    }
    if (mode == OPES_DATA_NORMALISE) {
        /* normalised content holds no bare CR or LF */
        for (size_t i = 0; i < whole.content.n; i++) {
            if (whole.content.p[i] == '\r')
                CHECK(i + 1 < whole.content.n && whole.content.p[i + 1] == '\n');
            if (whole.content.p[i] == '\n')
                CHECK(i > 0 && whole.content.p[i - 1] == '\r');
        }
    }

    /* re-encode (normalising) and decode again (rejecting) */
    opes_data_encoder *e = NULL;
    buf wire = {0}, want = {0};
    CHECK(opes_data_encoder_new(&e, NULL) == OPES_OK);
    CHECK(opes_data_encoder_set_mode(e, OPES_DATA_NORMALISE) == OPES_OK);
    size_t pos = 0;
    const char *content = whole.content.p ? (const char *)whole.content.p : "";
    for (;;) {
        size_t used;
        opes_data_event ev;
        CHECK(opes_data_encode(e, content + pos, whole.content.n - pos, &used, &ev) == OPES_OK);
        pos += used;
        if (ev.type == OPES_DATA_EV_NONE)
            break;
        if (ev.type == OPES_DATA_EV_CONTENT)
            put(&wire, ev.content.ptr, ev.content.len);
    }
    for (int guard = 0;; guard++) {
        opes_data_event ev;
        CHECK(guard < 10);
        CHECK(opes_data_encode_finish(e, &ev) == OPES_OK);
        if (ev.type == OPES_DATA_EV_CONTENT)
            put(&wire, ev.content.ptr, ev.content.len);
        if (ev.type == OPES_DATA_EV_END)
            break;
    }
    opes_data_encoder_free(e);
    normalise(whole.content.p, whole.content.n, &want);
    if (want.n && !(want.n >= 2 && want.p[want.n - 2] == '\r' && want.p[want.n - 1] == '\n'))
        put(&want, "\r\n", 2);
    log_t again;
    opes_data_summary s3;
    decode(OPES_DATA_REJECT, 1000000, wire.p, wire.n, seed, &again, &s3);
    CHECK(again.ended && again.end_used == wire.n);
    CHECK(again.anomalies == 0);
    CHECK(again.content.n == want.n &&
          (want.n == 0 || memcmp(again.content.p, want.p, want.n) == 0));
    log_free(&again);
    free(wire.p);
    free(want.p);
    log_free(&whole);
    log_free(&chunked);
    return 0;
}
