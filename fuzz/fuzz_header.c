/*
 * libFuzzer harness: the header scanner and field parser (RFC 5322 2.1, 2.2,
 * 3.6, 4; RFC 6532).
 *
 * Input: byte 0 picks the flags (bits 0..2: OPES_HEADER_LF, _UTF8, _8BIT)
 * and a set of limits (bits 3..5: the defaults or small ones, so the limit
 * paths are reached by short inputs); byte 1 seeds the arrival of the
 * bytes in pieces; the rest is the message. Invariants (abort on failure):
 *   - used <= len on every call; OPES_INCOMPLETE consumes nothing and never
 *     comes with eof; the events end with END or an error;
 *   - the events of the whole input at once equal those of the input in
 *     pieces (each call on a fresh exact-size copy of the unconsumed bytes);
 *   - a field's whole is the stream's bytes at its offset; name is 1*ftext
 *     and starts it; raw lies inside it; every line is within the line
 *     limit, the field within the field limit, the section within its limit;
 *     the fields and the empty line tile the header from offset 0;
 *   - unfolding raw succeeds and gives no CR or LF;
 *   - with the default limits, opes_header_field_parse() at the field's
 *     offset gives the same field;
 *   - a field whose unfolded value the builder accepts is built, scanned and
 *     unfolded back to the same value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

static const size_t limit_sets[8][4] = {
    {0, 0, 0, 0},  {998, 65536, 2000, 1048576}, {8, 40, 3, 120},  {20, 20, 100, 1000},
    {1, 4, 1, 10}, {3000, 5000, 0, 100000},     {50, 200, 5, 60}, {998, 1000, 10, 300},
};

typedef struct run {
    buf log;
    int ended;
    int status;
    uint64_t end_off;
} run_t;

static int is_ftext(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

static void check_field(const opes_header_field *f, const unsigned char *in, size_t n,
                        size_t line_max, size_t field_max, unsigned flags)
{
    CHECK(f->kind == OPES_HEADER_KIND_FIELD);
    CHECK(f->offset + f->whole.len <= n);
    CHECK(memcmp(f->whole.ptr, in + f->offset, f->whole.len) == 0);
    CHECK(f->whole.len <= field_max);
    CHECK(f->name.ptr == f->whole.ptr && f->name.len > 0);
    for (size_t i = 0; i < f->name.len; i++)
        CHECK(is_ftext((unsigned char)f->name.ptr[i]));
    CHECK(f->raw.ptr > f->name.ptr + f->name.len - 1);
    CHECK(f->raw.ptr + f->raw.len <= f->whole.ptr + f->whole.len);
    CHECK(f->raw.ptr[-1] == ':');
    /* every line within the limit; the field ends with a line end */
    size_t ls = 0, lines = 0;
    const char *w = f->whole.ptr;
    for (size_t i = 0; i < f->whole.len; i++) {
        if (w[i] == '\n') {
            size_t e = (i > 0 && w[i - 1] == '\r') ? i - 1 : i;
            CHECK(e - ls <= line_max);
            if (e == i)
                CHECK(flags & OPES_HEADER_LF);
            ls = i + 1;
            lines++;
        } else if (w[i] == '\r') {
            CHECK(i + 1 < f->whole.len && w[i + 1] == '\n');
        } else if (w[i] == '\0') {
            abort();
        }
    }
    CHECK(ls == f->whole.len && lines == f->lines);
    /* unfold */
    size_t ul = 0;
    CHECK(opes_header_unfold(NULL, 0, &ul, f->raw.ptr, f->raw.len) != OPES_OK || ul == 0);
    char *u = malloc(f->raw.len + 1);
    CHECK(u);
    CHECK(opes_header_unfold(u, f->raw.len, &ul, f->raw.ptr, f->raw.len) == OPES_OK);
    CHECK(ul <= f->raw.len);
    for (size_t i = 0; i < ul; i++)
        CHECK(u[i] != '\r' && u[i] != '\n');
    /* build it again (when the builder takes the value) and read it back */
    unsigned bf = (flags & OPES_HEADER_LF) | (f->flags & OPES_HDRF_UTF8 ? OPES_HEADER_UTF8 : 0);
    size_t bl = 0;
    opes_status r = opes_header_field_build(NULL, 0, &bl, f->name.ptr, f->name.len, u, ul, bf);
    if (r == OPES_ENOSPC) {
        char *b = malloc(bl);
        size_t bl2 = 0, used = 0, ul2 = 0;
        opes_header_field g;
        CHECK(b);
        CHECK(opes_header_field_build(b, bl, &bl2, f->name.ptr, f->name.len, u, ul, bf) == OPES_OK);
        CHECK(bl2 == bl);
        CHECK(opes_header_field_parse(b, bl, bf, 1, &g, &used) == OPES_OK && used == bl);
        CHECK(g.kind == OPES_HEADER_KIND_FIELD && g.name.len == f->name.len);
        CHECK(memcmp(g.name.ptr, f->name.ptr, f->name.len) == 0);
        char *u2 = malloc(g.raw.len + 1);
        CHECK(u2);
        CHECK(opes_header_unfold(u2, g.raw.len, &ul2, g.raw.ptr, g.raw.len) == OPES_OK);
        CHECK(ul2 == ul && memcmp(u2, u, ul) == 0);
        free(u2);
        free(b);
    } else {
        CHECK(r != OPES_OK && r != OPES_EINJECT);
    }
    free(u);
}

static void scan(const unsigned char *in, size_t n, unsigned flags, const size_t *lim,
                 uint32_t seed, run_t *out)
{
    opes_header_scanner *s = NULL;
    size_t consumed = 0, arrived = 0, count = 0;
    size_t line_max = lim[0] ? lim[0] : 998, field_max = lim[1] ? lim[1] : 65536;
    size_t section_max = lim[3] ? lim[3] : 1048576;
    CHECK(opes_header_scanner_new(&s, NULL) == OPES_OK);
    CHECK(opes_header_scanner_set_flags(s, flags) == OPES_OK);
    if (lim[0]) /* set 0: the defaults; the others set all four */
        for (int i = 0; i < 4; i++)
            CHECK(opes_header_scanner_set_limit(s, i, lim[i]) == OPES_OK);
    memset(out, 0, sizeof *out);
    while (!out->ended) {
        int eof;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            arrived += 1 + (seed >> 16) % 64;
            if (arrived > n)
                arrived = n;
        } else {
            arrived = n;
        }
        eof = arrived == n;
        for (int guard = 0;; guard++) {
            size_t len = arrived - consumed, used = 77;
            opes_header_event ev;
            CHECK(guard < 100000);
            /* the unconsumed bytes in a block of their own size */
            unsigned char *chunk = malloc(len ? len : 1);
            CHECK(chunk);
            memcpy(chunk, in + consumed, len);
            opes_status r =
                opes_header_scan(s, len ? (const char *)chunk : NULL, len, eof, &used, &ev);
            CHECK(used <= len);
            if (r == OPES_INCOMPLETE) {
                CHECK(!eof && used == 0 && ev.type == OPES_HEADER_EV_NONE);
                free(chunk);
                break;
            }
            unsigned char t = (unsigned char)ev.type;
            put(&out->log, &t, 1);
            put(&out->log, &r, sizeof r);
            put(&out->log, &ev.offset, sizeof ev.offset);
            if (ev.type == OPES_HEADER_EV_FIELD) {
                const opes_header_field *f = &ev.field;
                CHECK(r == OPES_OK && used == f->whole.len && f->offset == consumed);
                CHECK(ev.count == ++count);
                /* rebase the views on the input for the checks */
                opes_header_field g = *f;
                g.name.ptr = (const char *)in + consumed + (f->name.ptr - (const char *)chunk);
                g.raw.ptr = (const char *)in + consumed + (f->raw.ptr - (const char *)chunk);
                g.whole.ptr = (const char *)in + consumed;
                check_field(&g, in, n, line_max, field_max, flags);
                put(&out->log, &f->whole.len, sizeof f->whole.len);
                put(&out->log, &f->name.len, sizeof f->name.len);
                size_t ro = (size_t)(f->raw.ptr - f->whole.ptr);
                put(&out->log, &ro, sizeof ro);
                put(&out->log, &f->raw.len, sizeof f->raw.len);
                put(&out->log, &f->lines, sizeof f->lines);
                put(&out->log, &f->flags, sizeof f->flags);
                if (!lim[0]) {
                    /* the unit parser agrees (same default limits) */
                    opes_header_field h;
                    size_t u2 = 0;
                    CHECK(opes_header_field_parse((const char *)chunk, len, flags, eof, &h, &u2) ==
                          OPES_OK);
                    CHECK(u2 == used && h.name.len == f->name.len && h.raw.len == f->raw.len &&
                          h.flags == f->flags && h.lines == f->lines);
                }
                consumed += used;
                CHECK(consumed <= section_max);
                free(chunk);
                continue;
            }
            free(chunk);
            out->ended = 1;
            out->status = r;
            if (ev.type == OPES_HEADER_EV_END) {
                CHECK(r == OPES_OK && ev.count == count);
                CHECK(ev.offset == consumed + used);
                CHECK(ev.offset <= section_max);
                if (ev.end == OPES_HEADER_END_EMPTY_LINE) {
                    CHECK(used == 2 || (used == 1 && (flags & OPES_HEADER_LF)));
                    CHECK(in[consumed + used - 1] == '\n');
                } else {
                    CHECK(ev.end == OPES_HEADER_END_EOF && used == 0 && consumed == n && eof);
                }
                out->end_off = ev.offset;
                put(&out->log, &ev.end, sizeof ev.end);
                CHECK(opes_header_scan(s, "x", 1, 1, &used, &ev) == OPES_ESTATE && used == 0);
            } else {
                CHECK(ev.type == OPES_HEADER_EV_ERROR && r < 0 && used == 0);
                CHECK(ev.offset >= consumed && ev.offset <= n);
                opes_header_event ev2;
                CHECK(opes_header_scan(s, "x", 1, 1, &used, &ev2) == r);
                CHECK(ev2.offset == ev.offset && ev2.type == OPES_HEADER_EV_ERROR);
            }
            break;
        }
    }
    opes_header_scanner_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0] & 7u;
    const size_t *lim = limit_sets[(data[0] >> 3) & 7u];
    uint32_t seed = (uint32_t)data[1] + 1;
    const unsigned char *in = data + 2;
    size_t n = size - 2;
    run_t whole, pieces;
    scan(in, n, flags, lim, 0, &whole);
    scan(in, n, flags, lim, seed, &pieces);
    CHECK(whole.ended && pieces.ended);
    CHECK(whole.status == pieces.status && whole.end_off == pieces.end_off);
    CHECK(whole.log.n == pieces.log.n &&
          (whole.log.n == 0 || memcmp(whole.log.p, pieces.log.p, whole.log.n) == 0));
    free(whole.log.p);
    free(pieces.log.p);
    return 0;
}
