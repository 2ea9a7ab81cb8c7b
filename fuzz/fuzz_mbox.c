/*
 * libFuzzer harness: the mbox reader (qmail mbox(5), RFC 4155 appendix A)
 * and, in a zlib build, its gzip input (RFC 1952).
 *
 * Input: byte 0 picks the variant (bit 0: mboxo) and the input setting
 * (bits 1..2: auto, plain, gzip; gzip only in a zlib build); byte 1 seeds
 * the arrival of the bytes in pieces; the rest is the mailbox. Invariants
 * (abort on failure):
 *   - used <= len on every call; OPES_INCOMPLETE takes everything and never
 *     comes with eof; the events are (BEGIN DATA* END_MESSAGE)* END or stop
 *     at an error; DATA is never empty; message numbers count from 1;
 *     offsets of From_ lines increase; a message's DATA lengths add up to
 *     its size; the calls always make progress;
 *   - the messages (From_ line, offset, flags, unescaped data, end offset)
 *     equal those of a second, simple implementation here that splits the
 *     whole (decompressed) input into lines: a line starting "From " starts
 *     a message, a last line that is "\n" or "\r\n" is the separator and
 *     goes, and ^>+From (mboxrd) or ^>From (mboxo) loses one ">";
 *   - without zlib, gzip input is OPES_EUNSUPPORTED; with zlib, input that
 *     zlib's inflate (run here on the whole input, members one after
 *     another) rejects is OPES_EBAD_GZIP (or OPES_EBAD_MBOX when what came
 *     out before the damage was no mailbox), with the same events and
 *     error offset when the input comes in one piece.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

#if defined(OPES_HAVE_ZLIB) && OPES_HAVE_ZLIB
#define ZLIB_CONST 1
#include <zlib.h>
#define HAVE_Z 1
#else
#define HAVE_Z 0
#endif

static void put_u64(buf *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

/* The log both implementations write: per message its offset, flags, From_
 * line, data, size and end offset; then the count. */
static void log_msg(buf *l, uint64_t off, unsigned flags, const void *from, size_t from_len,
                    const void *data, size_t n, uint64_t end)
{
    put_u64(l, off);
    put_u64(l, flags);
    put_u64(l, from_len);
    put(l, from, from_len);
    put_u64(l, n);
    put(l, data, n);
    put_u64(l, end);
}

/* ---- the reference: the whole input at once ------------------------------ */

static int starts(const unsigned char *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    return n >= k && memcmp(p, lit, k) == 0;
}

static void ref_message(buf *l, const unsigned char *in, size_t from_off, size_t body, size_t end,
                        int mboxo)
{
    /* the From_ line */
    const unsigned char *lf = memchr(in + from_off, '\n', body - from_off);
    size_t from_len = lf ? (size_t)(lf - (in + from_off)) : body - from_off;
    unsigned flags = 0;
    size_t last = body, i;
    buf data = {0};
    if (lf && from_len > 0 && in[from_off + from_len - 1] == '\r')
        from_len--;
    if (!lf)
        flags |= OPES_MBOX_MF_NO_EOL;
    if (from_len > OPES_MBOX_FROM_MAX) {
        from_len = OPES_MBOX_FROM_MAX;
        flags |= OPES_MBOX_MF_FROM_TRUNCATED;
    }
    /* the start of the last line of the body */
    for (i = body; i < end;) {
        const unsigned char *e = memchr(in + i, '\n', end - i);
        size_t next = e ? (size_t)(e - in) + 1 : end;
        last = i;
        i = next;
    }
    if (last < end && ((end - last == 1 && in[last] == '\n') ||
                       (end - last == 2 && in[last] == '\r' && in[last + 1] == '\n')))
        end = last; /* the separator */
    else
        flags |= OPES_MBOX_MF_NO_BLANK_LINE;
    for (i = body; i < end;) {
        const unsigned char *e = memchr(in + i, '\n', end - i);
        size_t next = e ? (size_t)(e - in) + 1 : end, k = i;
        if (mboxo) {
            if (starts(in + i, next - i, ">From "))
                k++;
        } else {
            size_t g = i;
            while (g < next && in[g] == '>')
                g++;
            if (g > i && starts(in + g, next - g, "From "))
                k++;
        }
        put(&data, in + k, next - k);
        i = next;
    }
    if (data.n && data.p[data.n - 1] != '\n')
        flags |= OPES_MBOX_MF_NO_EOL;
    log_msg(l, from_off, flags, in + from_off, from_len, data.p, data.n, 0);
    free(data.p);
}

/* 0: ok, else the status expected */
static int reference(const unsigned char *in, size_t n, int mboxo, buf *l)
{
    size_t i, count = 0, cur = 0, cur_body = 0;
    if (n == 0) {
        put_u64(l, 0);
        return 0;
    }
    if (!starts(in, n, "From "))
        return OPES_EBAD_MBOX;
    for (i = 0; i < n;) {
        const unsigned char *e = memchr(in + i, '\n', n - i);
        size_t next = e ? (size_t)(e - in) + 1 : n;
        if (starts(in + i, next - i, "From ")) {
            if (count) {
                ref_message(l, in, cur, cur_body, i, mboxo);
                memcpy(l->p + l->n - 8, &(uint64_t){i}, 8);
            }
            count++;
            cur = i;
            cur_body = next;
        }
        i = next;
    }
    ref_message(l, in, cur, cur_body, n, mboxo);
    memcpy(l->p + l->n - 8, &(uint64_t){n}, 8);
    put_u64(l, count);
    return 0;
}

#if HAVE_Z
/* Inflate members one after another, as gzip(1) does; 0 or -1 (damage),
 * 1 when the output passed the cap. */
static int gunzip(const unsigned char *in, size_t n, buf *out)
{
    z_stream z;
    unsigned char tmp[65536];
    int zr = Z_OK, rc = 0;
    memset(&z, 0, sizeof z);
    CHECK(inflateInit2(&z, 15 + 16) == Z_OK);
    z.next_in = in;
    z.avail_in = (uInt)n;
    for (;;) {
        z.next_out = tmp;
        z.avail_out = sizeof tmp;
        zr = inflate(&z, Z_NO_FLUSH);
        put(out, tmp, sizeof tmp - z.avail_out);
        if (out->n > (16u << 20)) {
            rc = 1;
            break;
        }
        if (zr == Z_STREAM_END) {
            if (z.avail_in == 0)
                break;
            CHECK(inflateReset(&z) == Z_OK);
            continue;
        }
        if (zr == Z_OK)
            continue;
        rc = -1; /* Z_BUF_ERROR: truncated; others: corrupt */
        break;
    }
    inflateEnd(&z);
    return rc;
}
#endif

/* ---- the reader, in pieces --------------------------------------------- */

static uint32_t rng;
static int whole; /* the input in one piece */
static size_t piece(void)
{
    if (whole)
        return SIZE_MAX;
    rng = rng * 1103515245u + 12345u;
    switch ((rng >> 16) % 4) {
    case 0:
        return 1;
    case 1:
        return 1 + (rng >> 20) % 7;
    case 2:
        return 1 + (rng >> 18) % 200;
    default:
        return 4096;
    }
}

static int read_all(const unsigned char *in, size_t n, int variant, int input, uint32_t seed,
                    buf *l)
{
    opes_mbox_reader *r = NULL;
    buf data = {0};
    size_t pos = 0, lim = 0, messages = 0;
    uint64_t begin_off = 0, sum = 0, steps = 0, from_len = 0;
    unsigned begin_flags = 0;
    unsigned char from[OPES_MBOX_FROM_MAX];
    int in_msg = 0, ret = 0;
    rng = seed;
    CHECK(opes_mbox_reader_new(&r, NULL) == OPES_OK);
    CHECK(opes_mbox_reader_set_variant(r, variant) == OPES_OK);
    CHECK(opes_mbox_reader_set_input(r, input) == OPES_OK);
    for (;;) {
        opes_mbox_event ev;
        size_t used = 9999, have;
        unsigned char *copy;
        opes_status st;
        int eof;
        if (pos == lim && lim < n) {
            size_t k = piece();
            lim = n - lim < k ? n : lim + k;
        }
        eof = lim == n;
        have = lim - pos;
        copy = malloc(have ? have : 1);
        CHECK(copy);
        memcpy(copy, in + pos, have);
        st = opes_mbox_feed(r, have ? (const char *)copy : NULL, have, eof, &used, &ev);
        CHECK(used <= have);
        pos += used;
        CHECK(++steps < 64u * n + 100000u);
        if (st == OPES_INCOMPLETE) {
            CHECK(!eof && used == have && ev.type == OPES_MBOX_EV_NONE);
            free(copy);
            continue;
        }
        if (st != OPES_OK) {
            CHECK(ev.type == OPES_MBOX_EV_ERROR && ev.detail);
            put_u64(l, ev.offset); /* the error and the message it cut */
            put_u64(l, in_msg ? sum : UINT64_MAX);
            free(copy);
            ret = st;
            break;
        }
        if (ev.type == OPES_MBOX_EV_MESSAGE_BEGIN) {
            CHECK(!in_msg && ev.index == messages + 1);
            CHECK(messages == 0 || ev.offset > begin_off);
            CHECK(ev.from.len <= OPES_MBOX_FROM_MAX);
            begin_off = ev.offset;
            begin_flags = ev.flags;
            from_len = ev.from.len;
            memcpy(from, ev.from.ptr, ev.from.len);
            messages++;
            in_msg = 1;
            sum = 0;
            data.n = 0;
        } else if (ev.type == OPES_MBOX_EV_DATA) {
            CHECK(in_msg && ev.data.len > 0 && ev.index == messages);
            sum += ev.data.len;
            if (data.n < (32u << 20))
                put(&data, ev.data.ptr, ev.data.len);
        } else if (ev.type == OPES_MBOX_EV_MESSAGE_END) {
            CHECK(in_msg && ev.index == messages && ev.size == sum && ev.offset > begin_off);
            in_msg = 0;
            log_msg(l, begin_off, begin_flags | ev.flags, from, (size_t)from_len, data.p, data.n,
                    ev.offset);
        } else {
            CHECK(ev.type == OPES_MBOX_EV_END && !in_msg && eof && ev.index == messages);
            put_u64(l, messages);
            free(copy);
            break;
        }
        free(copy);
    }
    free(data.p);
    opes_mbox_reader_free(r);
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int variant, input, got, want;
    uint32_t seed;
    const unsigned char *in;
    size_t n;
    buf a = {0}, b = {0}, plain = {0};
    int gz;
    if (size < 2)
        return 0;
    variant = data[0] & 1 ? OPES_MBOX_MBOXO : OPES_MBOX_MBOXRD;
    input = (data[0] >> 1) & 3;
    if (input == 3 || (!HAVE_Z && input == OPES_MBOX_INPUT_GZIP))
        input = OPES_MBOX_INPUT_AUTO;
    seed = data[1];
    in = data + 2;
    n = size - 2;
    gz = input == OPES_MBOX_INPUT_GZIP ||
         (input == OPES_MBOX_INPUT_AUTO && n >= 2 && in[0] == 0x1f && in[1] == 0x8b);

    got = read_all(in, n, variant, input, seed, &a);
    if (!gz) {
        want = reference(in, n, variant == OPES_MBOX_MBOXO, &b);
        CHECK(got == want);
        if (!want)
            CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
    } else if (!HAVE_Z) {
        CHECK(got == OPES_EUNSUPPORTED);
    } else {
#if HAVE_Z
        int zr = gunzip(in, n, &plain);
        if (zr < 0) {
            CHECK(got == OPES_EBAD_GZIP || got == OPES_EBAD_MBOX);
            /* the same events before the error, the same error, whole */
            whole = 1;
            CHECK(read_all(in, n, variant, input, seed, &b) == got);
            whole = 0;
            CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
        } else if (zr == 0) {
            want = reference(plain.p, plain.n, variant == OPES_MBOX_MBOXO, &b);
            CHECK(got == want);
            if (!want)
                CHECK(a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
        }
#endif
    }
    free(a.p);
    free(b.p);
    free(plain.p);
    return 0;
}
