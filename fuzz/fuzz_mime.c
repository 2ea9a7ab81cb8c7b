/*
 * libFuzzer harness: the MIME walker and the transfer decoders (RFC 2045,
 * RFC 2046).
 *
 * Input: byte 0 picks the flags (bits 0..2: OPES_MIME_LF, _UTF8, _8BIT) and
 * the limits (bits 3..4: defaults, or small depth and parts limits); byte 1
 * seeds the arrival of the bytes in pieces; the rest is the message.
 * Invariants (abort on failure):
 *   - used <= len on every call; OPES_INCOMPLETE consumes nothing and never
 *     comes with eof; the events end with END (all input consumed) or an
 *     error, which is sticky;
 *   - a consuming event starts at the stream offset of the first unconsumed
 *     byte (offsets are monotonic and the events tile the input); data and
 *     delimiter views are the input's bytes there; a header field's whole
 *     is the event's bytes;
 *   - depth <= the depth limit; ids count up from 1; END_PART matches the
 *     innermost open PART; BODY events belong to the innermost open leaf;
 *   - the events of the whole input at once equal those of the input in
 *     pieces (data events joined; each call on a fresh exact-size copy);
 *   - each leaf body decodes with its decoder, in pieces with small output
 *     room, to the same bytes as in one call; the output is never longer
 *     than the input plus OPES_MIME_DECODE_SLACK.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

static const size_t limit_sets[4][2] = {{0, 0}, {3, 8}, {1, 3}, {32, 100}};

/* Decode a body in one call and in pieces with little room: the same. */
static void check_decode(int cte, const unsigned char *in, size_t n, uint32_t seed)
{
    opes_mime_decoder d;
    size_t cap = n + OPES_MIME_DECODE_SLACK, iu = 0, ol = 0, pos = 0, o = 0;
    char *one = malloc(cap), *two = malloc(cap);
    CHECK(one && two);
    if (!in)
        in = (const unsigned char *)"";
    CHECK(opes_mime_decoder_init(&d, cte) == OPES_OK);
    CHECK(opes_mime_decode(&d, (const char *)in, n, 1, one, cap, &iu, &ol) == OPES_OK);
    CHECK(iu == n && ol <= cap);
    unsigned flags = d.flags;
    CHECK(opes_mime_decoder_init(&d, cte) == OPES_OK);
    for (int g = 0;; g++) {
        size_t take, room, u = 0, w = 0;
        int eof;
        CHECK(g < 10000000);
        seed = seed * 1103515245u + 12345u;
        take = (seed >> 16) % 9;
        if (take > n - pos)
            take = n - pos;
        eof = pos + take == n;
        room = eof ? cap - o : (seed >> 8) % (OPES_MIME_DECODE_SLACK + 8);
        if (room > cap - o)
            room = cap - o;
        CHECK(opes_mime_decode(&d, (const char *)in + pos, take, eof, two + o, room, &u, &w) ==
              OPES_OK);
        CHECK(u <= take && w <= room);
        pos += u;
        o += w;
        if (eof) {
            CHECK(u == take);
            break;
        }
    }
    CHECK(o == ol && memcmp(one, two, ol) == 0 && d.flags == flags);
    free(one);
    free(two);
}

typedef struct run {
    buf log;
    int status;
} run_t;

static void walk(const unsigned char *in, size_t n, unsigned flags, const size_t *lim,
                 uint32_t seed, int decode, run_t *out)
{
    opes_mime_walker *w = NULL;
    size_t consumed = 0, arrived = 0, depth_max = lim[0] ? lim[0] : 16, ids = 0;
    int last = -1, open_kind[OPES_MIME_MAX_DEPTH + 2];
    size_t open_id[OPES_MIME_MAX_DEPTH + 2];
    int top = -1;
    buf body = {0};
    int body_cte = 0;
    uint32_t dseed = seed ^ 0x9e3779b9u;
    CHECK(opes_mime_walker_new(&w, NULL) == OPES_OK);
    CHECK(opes_mime_walker_set_flags(w, flags) == OPES_OK);
    if (lim[0]) {
        CHECK(opes_mime_walker_set_limit(w, OPES_MIME_LIMIT_DEPTH, lim[0]) == OPES_OK);
        CHECK(opes_mime_walker_set_limit(w, OPES_MIME_LIMIT_PARTS, lim[1]) == OPES_OK);
    }
    memset(out, 0, sizeof *out);
    for (int guard = 0;; guard++) {
        size_t len = arrived - consumed, used = 77;
        int eof = arrived == n;
        opes_mime_event ev;
        CHECK(guard < 10000000);
        unsigned char *chunk = malloc(len ? len : 1);
        CHECK(chunk);
        memcpy(chunk, in + consumed, len);
        opes_status r = opes_mime_walk(w, len ? (const char *)chunk : NULL, len, eof, &used, &ev);
        CHECK(used <= len);
        if (r == OPES_INCOMPLETE) {
            CHECK(!eof && used == 0 && ev.type == OPES_MIME_EV_NONE);
            free(chunk);
            if (seed) {
                seed = seed * 1103515245u + 12345u;
                arrived += 1 + (seed >> 16) % 64;
            } else {
                arrived = n;
            }
            if (arrived > n)
                arrived = n;
            continue;
        }
        unsigned char t = (unsigned char)ev.type;
        int data = ev.type == OPES_MIME_EV_BODY || ev.type == OPES_MIME_EV_PREAMBLE ||
                   ev.type == OPES_MIME_EV_EPILOGUE;
        if (ev.type != OPES_MIME_EV_ERROR) {
            CHECK(r == OPES_OK);
            CHECK(ev.depth <= depth_max);
        }
        if (used) {
            CHECK(ev.offset == consumed);
        }
        if (!data || last != ev.type) {
            put(&out->log, &t, 1);
            put(&out->log, &r, sizeof r);
            put(&out->log, &ev.offset, sizeof ev.offset);
            put(&out->log, &ev.depth, sizeof ev.depth);
        }
        last = data ? ev.type : -1;
        switch (ev.type) {
        case OPES_MIME_EV_HEADER:
            CHECK(used == ev.field.whole.len && ev.field.offset == consumed);
            CHECK(ev.field.whole.ptr == (const char *)chunk);
            if (top < 0 || open_id[top] != ev.part.id) { /* the first field opens it */
                CHECK(ev.depth == (size_t)(top + 1) && ev.part.id == ids + 1);
                top++;
                open_id[top] = ev.part.id;
                open_kind[top] = 0;
            }
            CHECK((size_t)top == ev.depth && open_kind[top] == 0);
            put(&out->log, &used, sizeof used);
            break;
        case OPES_MIME_EV_PART:
            CHECK(ev.part.id == ids + 1 && ev.part.depth == ev.depth);
            ids = ev.part.id;
            if (top < 0 || (size_t)top != ev.depth || open_id[top] != ev.part.id) {
                /* a new entity without header fields */
                CHECK(ev.depth == (size_t)(top + 1));
                top++;
                open_id[top] = ev.part.id;
            }
            open_kind[top] = ev.part.kind;
            CHECK(ev.part.body_offset == consumed + used && ev.part.offset <= consumed);
            CHECK(ev.part.kind >= 1 && ev.part.kind <= 3);
            CHECK(ev.part.type.len > 0 && ev.part.subtype.len > 0);
            CHECK(ev.part.kind != OPES_MIME_KIND_MULTIPART ||
                  (ev.part.boundary.len >= 1 && ev.part.boundary.len <= 70));
            put(&out->log, &ev.part.kind, sizeof ev.part.kind);
            put(&out->log, &ev.part.flags, sizeof ev.part.flags);
            put(&out->log, &ev.part.cte, sizeof ev.part.cte);
            put(&out->log, ev.part.type.ptr, ev.part.type.len);
            put(&out->log, ev.part.subtype.ptr, ev.part.subtype.len);
            put(&out->log, ev.part.charset.ptr, ev.part.charset.len);
            put(&out->log, &used, sizeof used);
            body.n = 0;
            body_cte = ev.part.cte;
            break;
        case OPES_MIME_EV_BODY:
        case OPES_MIME_EV_PREAMBLE:
        case OPES_MIME_EV_EPILOGUE:
            CHECK(used > 0 && ev.data.len == used && ev.data.ptr == (const char *)chunk);
            CHECK(top >= 0 && (size_t)top == ev.depth && open_id[top] == ev.part.id);
            CHECK(ev.type == OPES_MIME_EV_BODY ? open_kind[top] == OPES_MIME_KIND_LEAF
                                               : open_kind[top] == OPES_MIME_KIND_MULTIPART);
            put(&out->log, ev.data.ptr, ev.data.len);
            if (ev.type == OPES_MIME_EV_BODY)
                put(&body, ev.data.ptr, ev.data.len);
            break;
        case OPES_MIME_EV_DELIMITER:
            CHECK(used > 0 && ev.data.len == used && ev.data.ptr == (const char *)chunk);
            CHECK(top >= 0 && (size_t)top == ev.depth &&
                  open_kind[top] == OPES_MIME_KIND_MULTIPART);
            CHECK(used <= OPES_MIME_HOLD);
            put(&out->log, &used, sizeof used);
            put(&out->log, &ev.close, sizeof ev.close);
            break;
        case OPES_MIME_EV_END_PART:
            CHECK(used == 0 && top >= 0 && (size_t)top == ev.depth && open_id[top] == ev.part.id);
            if (open_kind[top] == OPES_MIME_KIND_LEAF && decode)
                check_decode(body_cte, body.p, body.n, dseed++);
            body.n = 0;
            top--;
            put(&out->log, &ev.part.flags, sizeof ev.part.flags);
            break;
        case OPES_MIME_EV_END:
            CHECK(used == 0 && top == -1 && eof && consumed == n);
            break;
        case OPES_MIME_EV_ERROR:
            CHECK(r < 0 && used == 0 && ev.offset >= consumed && ev.offset <= n);
            break;
        case OPES_MIME_EV_NONE:
        default:
            abort();
        }
        consumed += used;
        free(chunk);
        if (ev.type == OPES_MIME_EV_END || ev.type == OPES_MIME_EV_ERROR) {
            opes_mime_event ev2;
            size_t u2 = 9;
            opes_status r2 = opes_mime_walk(w, "x", 1, 1, &u2, &ev2);
            CHECK(u2 == 0);
            if (ev.type == OPES_MIME_EV_END)
                CHECK(r2 == OPES_ESTATE);
            else
                CHECK(r2 == r && ev2.offset == ev.offset);
            out->status = r;
            break;
        }
    }
    free(body.p);
    opes_mime_walker_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0] & 7u;
    const size_t *lim = limit_sets[(data[0] >> 3) & 3u];
    uint32_t seed = (uint32_t)data[1] + 1;
    run_t whole, pieces;
    walk(data + 2, size - 2, flags, lim, 0, 1, &whole);
    walk(data + 2, size - 2, flags, lim, seed, 0, &pieces);
    CHECK(whole.status == pieces.status);
    CHECK(whole.log.n == pieces.log.n &&
          (whole.log.n == 0 || memcmp(whole.log.p, pieces.log.p, whole.log.n) == 0));
    free(whole.log.p);
    free(pieces.log.p);
    return 0;
}
