/*
 * libFuzzer harness: the DATA encoder (RFC 5321 4.5.2, 4.1.1.4, 2.3.8),
 * checked by decoding what it writes.
 *
 * Input: byte 0 picks the mode (bit 0: REJECT / NORMALISE) and the final
 * rule (bit 1: ADD_CRLF / REPORT), byte 1 seeds the chunk sizes; the rest is
 * message content. Invariants (abort on failure):
 *   - used <= len; chunked output and events == whole-input ones;
 *   - rejecting, content with a bare CR or LF fails with OPES_EBARE_CR /
 *     OPES_EBARE_LF at the offset of the first one, and only then;
 *   - the stream holds no bare CR or LF, and "\r\n.\r\n" exactly once, at
 *     its end, or is ".\r\n" alone for empty content;
 *   - decoding it gives the content back (normalised, plus the CRLF added
 *     at the end if it lacked one), ending exactly at its end, with no
 *     anomaly but long lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

/* Encode; returns the status of the first failing call (OPES_OK if none).
 * out: the stream; rec: the events (type, offset) in order. */
static opes_status encode(int mode, int final, const unsigned char *in, size_t n, uint32_t seed,
                          buf *out, buf *rec, opes_data_event *err_ev)
{
    opes_data_encoder *e = NULL;
    opes_status err = OPES_OK;
    CHECK(opes_data_encoder_new(&e, NULL) == OPES_OK);
    CHECK(opes_data_encoder_set_mode(e, mode) == OPES_OK);
    CHECK(opes_data_encoder_set_final(e, final) == OPES_OK);
    CHECK(opes_data_encoder_set_line_limit(e, 80) == OPES_OK);
    size_t start = 0;
    while (start < n && err == OPES_OK) {
        size_t len = n - start;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            size_t c = 1 + (seed >> 16) % 13;
            if (c < len)
                len = c;
        }
        unsigned char *chunk = malloc(len);
        CHECK(chunk);
        memcpy(chunk, in + start, len);
        size_t pos = 0;
        for (int guard = 0;; guard++) {
            size_t used;
            opes_data_event ev;
            CHECK(guard < 100000);
            opes_status st = opes_data_encode(e, (const char *)chunk + pos, len - pos, &used, &ev);
            CHECK(used <= len - pos);
            pos += used;
            if (st != OPES_OK) {
                err = st;
                *err_ev = ev;
                break;
            }
            if (ev.type == OPES_DATA_EV_NONE) {
                CHECK(pos == len);
                break;
            }
            if (ev.type == OPES_DATA_EV_CONTENT) {
                CHECK(ev.content.len > 0);
                put(out, ev.content.ptr, ev.content.len);
            } else {
                unsigned char t = (unsigned char)ev.type;
                put(rec, &t, 1);
                put(rec, &ev.offset, sizeof ev.offset);
            }
        }
        free(chunk);
        start += pos;
    }
    for (int round = 0; err == OPES_OK && round < 2; round++) {
        for (int guard = 0;; guard++) {
            opes_data_event ev;
            CHECK(guard < 10);
            opes_status st = opes_data_encode_finish(e, &ev);
            if (st != OPES_OK) {
                err = st;
                *err_ev = ev;
                break;
            }
            if (ev.type == OPES_DATA_EV_CONTENT) {
                put(out, ev.content.ptr, ev.content.len);
                continue;
            }
            unsigned char t = (unsigned char)ev.type;
            put(rec, &t, 1);
            put(rec, &ev.offset, sizeof ev.offset);
            if (ev.type == OPES_DATA_EV_END) {
                round = 2;
                break;
            }
            if (ev.type == OPES_DATA_EV_NO_FINAL_CRLF && final == OPES_DATA_REPORT) {
                /* report only: finish again gives the same; then add the
                 * line end ourselves and finish */
                opes_data_event ev2;
                size_t used;
                CHECK(opes_data_encode_finish(e, &ev2) == OPES_OK &&
                      ev2.type == OPES_DATA_EV_NO_FINAL_CRLF);
                CHECK(opes_data_encode(e, "\r\n", 2, &used, &ev2) == OPES_OK && used == 2);
                while (ev2.type != OPES_DATA_EV_NONE) {
                    if (ev2.type == OPES_DATA_EV_CONTENT)
                        put(out, ev2.content.ptr, ev2.content.len);
                    CHECK(opes_data_encode(e, "", 0, &used, &ev2) == OPES_OK);
                }
                break;
            }
        }
    }
    opes_data_encoder_free(e);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0] & 1;
    int final = (data[0] >> 1) & 1;
    uint32_t seed = (uint32_t)data[1] + 1;
    const unsigned char *in = data + 2;
    size_t n = size - 2;

    buf out1 = {0}, rec1 = {0}, out2 = {0}, rec2 = {0};
    opes_data_event e1, e2;
    opes_status st1 = encode(mode, final, in, n, 0, &out1, &rec1, &e1);
    opes_status st2 = encode(mode, final, in, n, seed, &out2, &rec2, &e2);
    CHECK(st1 == st2);
    CHECK(out1.n == out2.n && (out1.n == 0 || memcmp(out1.p, out2.p, out1.n) == 0));
    CHECK(rec1.n == rec2.n && (rec1.n == 0 || memcmp(rec1.p, rec2.p, rec1.n) == 0));

    /* where is the first bare CR or LF, and the normalised content */
    size_t bare_at = n;
    int bare_lf = 0;
    buf want = {0};
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') {
            put(&want, "\r\n", 2);
            i++;
        } else if (in[i] == '\r' || in[i] == '\n') {
            if (bare_at == n) {
                bare_at = i;
                bare_lf = in[i] == '\n';
            }
            put(&want, "\r\n", 2);
        } else {
            put(&want, in + i, 1);
        }
    }
    if (mode == OPES_DATA_REJECT && bare_at < n) {
        CHECK(st1 == (bare_lf ? OPES_EBARE_LF : OPES_EBARE_CR));
        CHECK(e1.offset == bare_at);
        CHECK(e1.type == (bare_lf ? OPES_DATA_EV_BARE_LF : OPES_DATA_EV_BARE_CR));
        goto out;
    }
    CHECK(st1 == OPES_OK);
    if (want.n && !(want.n >= 2 && want.p[want.n - 2] == '\r' && want.p[want.n - 1] == '\n'))
        put(&want, "\r\n", 2);

    /* the stream: no bare CR/LF; the terminator once, at the end */
    if (n == 0) {
        CHECK(out1.n == 3 && memcmp(out1.p, ".\r\n", 3) == 0);
    } else {
        CHECK(out1.n >= 5 && memcmp(out1.p + out1.n - 5, "\r\n.\r\n", 5) == 0);
        for (size_t i = 0; i + 5 < out1.n; i++)
            CHECK(memcmp(out1.p + i, "\r\n.\r\n", 5) != 0);
        CHECK(!(out1.n >= 3 && memcmp(out1.p, ".\r\n", 3) == 0));
    }
    for (size_t i = 0; i < out1.n; i++) {
        if (out1.p[i] == '\r')
            CHECK(i + 1 < out1.n && out1.p[i + 1] == '\n');
        if (out1.p[i] == '\n')
            CHECK(i > 0 && out1.p[i - 1] == '\r');
    }

    /* decode it back */
    {
        opes_data_decoder *d = NULL;
        buf content = {0};
        size_t pos = 0;
        int ended = 0;
        CHECK(opes_data_decoder_new(&d, NULL) == OPES_OK);
        unsigned char *copy = malloc(out1.n ? out1.n : 1);
        CHECK(copy);
        if (out1.n)
            memcpy(copy, out1.p, out1.n);
        for (int guard = 0;; guard++) {
            size_t used;
            opes_data_event ev;
            CHECK(guard < 1000000);
            CHECK(opes_data_decode(d, (const char *)copy + pos, out1.n - pos, &used, &ev) ==
                  OPES_OK);
            pos += used;
            if (ev.type == OPES_DATA_EV_NONE)
                break;
            if (ev.type == OPES_DATA_EV_END) {
                ended = 1;
                break;
            }
            if (ev.type == OPES_DATA_EV_LONG_LINE)
                continue; /* lines keep their length; the limit is not ours */
            CHECK(ev.type == OPES_DATA_EV_CONTENT); /* no other anomaly at all */
            put(&content, ev.content.ptr, ev.content.len);
        }
        CHECK(ended && pos == out1.n);
        CHECK(content.n == want.n && (want.n == 0 || memcmp(content.p, want.p, want.n) == 0));
        opes_data_summary s;
        CHECK(opes_data_decoder_summary(d, &s) == OPES_OK && s.reply_code == 250);
        free(copy);
        free(content.p);
        opes_data_decoder_free(d);
    }
out:
    free(want.p);
    free(out1.p);
    free(out2.p);
    free(rec1.p);
    free(rec2.p);
    return 0;
}
