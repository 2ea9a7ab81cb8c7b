/*
 * libFuzzer harness for the OPES trace readers (docs/opes-smtp.md 3):
 * opes_trace_entry_next / _param_next / _param_unquote over arbitrary bytes,
 * the header reader, and begin/verify of the lifecycle object.
 *
 * Byte 0: bit 0 OPES_HEADER_LF for the header paths, bit 1 OPES_HEADER_8BIT.
 * The rest is the input: a trace value for the iterators, a header section
 * for the reader and the object.
 * Invariants: offsets and views stay inside the input; the cursor only moves
 * forward and the iterator ends; entries re-built with
 * opes_trace_value_build() and parsed again give the same ids and
 * parameters; a header verifies against itself right after begin(), and
 * with the emitted block prepended; without its first recorded field it
 * does not verify; the emitted block read back by the reader starts with
 * this system's entries and gives no error of its own.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAXE 64

static int inside(opes_str s, const char *b, size_t n)
{
    return s.len == 0 || (s.ptr >= b && s.len <= n && (size_t)(s.ptr - b) <= n - s.len);
}

static char unq[MAXE][OPES_TRACE_MAX_PARAMS][1024];
static size_t unq_len[MAXE][OPES_TRACE_MAX_PARAMS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static opes_trace_entry ent[MAXE];
    static opes_trace_item items[MAXE];
    static opes_trace_pair pairs[MAXE][OPES_TRACE_MAX_PARAMS];
    static char built[1 << 17];
    const char *v;
    size_t len, n = 0, err = 0, i, k;
    unsigned hflags;
    opes_trace_cursor c = {0, 0};
    opes_status st;
    int roundtrip = 1;

    if (size < 1)
        return 0;
    hflags = ((data[0] & 1) ? OPES_HEADER_LF : 0) | ((data[0] & 2) ? OPES_HEADER_8BIT : 0);
    v = (const char *)data + 1;
    len = size - 1;

    /* ---- entries and parameters ---- */
    for (;;) {
        opes_trace_entry e;
        size_t before = c.pos, pos = 0, np = 0;
        opes_trace_param p;
        st = opes_trace_entry_next(v, len, &c, &e, &err);
        if (st != OPES_OK) {
            if (st != OPES_ENOTFOUND && err > len)
                __builtin_trap();
            if (c.pos != before)
                __builtin_trap(); /* no move on error */
            break;
        }
        if (c.pos <= before || c.pos > len || !inside(e.id, v, len) || !inside(e.params, v, len) ||
            e.id.len == 0 || e.offset >= len)
            __builtin_trap();
        while ((st = opes_trace_param_next(&e, &pos, &p)) == OPES_OK) {
            size_t ul = 0;
            if (!inside(p.name, v, len) || !inside(p.value, v, len))
                __builtin_trap();
            if (opes_trace_param_unquote(&p, NULL, 0, &ul) == OPES_EBAD_TRACE)
                __builtin_trap();
            if (n < MAXE && np < OPES_TRACE_MAX_PARAMS) {
                if (ul > sizeof unq[0][0]) {
                    roundtrip = 0;
                } else {
                    if (opes_trace_param_unquote(&p, unq[n][np], sizeof unq[0][0], &ul) != OPES_OK)
                        __builtin_trap();
                    unq_len[n][np] = ul;
                    pairs[n][np].name = p.name;
                    pairs[n][np].value.ptr = unq[n][np];
                    pairs[n][np].value.len = ul;
                }
            }
            np++;
        }
        if (st != OPES_ENOTFOUND || np != e.nparams)
            __builtin_trap();
        if (n < MAXE) {
            ent[n] = e;
            items[n].id = e.id;
            items[n].params = pairs[n];
            items[n].nparams = np;
        }
        n++;
        if (n > OPES_TRACE_MAX_ENTRIES)
            __builtin_trap();
    }

    /* ---- rebuild and re-parse ---- */
    if (n > 0 && n <= MAXE && roundtrip) {
        size_t bl = 0;
        st = opes_trace_value_build(built, sizeof built, &bl, items, n);
        if (st == OPES_OK) {
            opes_trace_cursor c2 = {0, 0};
            opes_trace_entry e2;
            if (opes__unsafe_at(built, bl) != bl)
                __builtin_trap();
            for (i = 0; i < n; i++) {
                size_t pos = 0;
                opes_trace_param p;
                if (opes_trace_entry_next(built, bl, &c2, &e2, NULL) != OPES_OK)
                    __builtin_trap();
                if (e2.id.len != ent[i].id.len || memcmp(e2.id.ptr, ent[i].id.ptr, e2.id.len) ||
                    e2.nparams != ent[i].nparams)
                    __builtin_trap();
                for (k = 0; opes_trace_param_next(&e2, &pos, &p) == OPES_OK; k++) {
                    char tmp[1024];
                    size_t tl = 0;
                    if (k >= items[i].nparams)
                        __builtin_trap();
                    if (p.name.len != items[i].params[k].name.len ||
                        memcmp(p.name.ptr, items[i].params[k].name.ptr, p.name.len))
                        __builtin_trap();
                    if (opes_trace_param_unquote(&p, tmp, sizeof tmp, &tl) != OPES_OK ||
                        tl != unq_len[i][k] || memcmp(tmp, unq[i][k], tl))
                        __builtin_trap();
                }
                if (k != items[i].nparams)
                    __builtin_trap();
            }
            if (opes_trace_entry_next(built, bl, &c2, &e2, NULL) != OPES_ENOTFOUND)
                __builtin_trap();
        } else if (st != OPES_EURI_TOO_LONG && st != OPES_ENOSPC) {
            __builtin_trap(); /* everything else was valid on the way in */
        }
    }

    /* ---- the header reader ---- */
    {
        opes_trace_reader *r = NULL;
        opes_trace_event ev;
        size_t events = 0;
        if (opes_trace_reader_new(&r, NULL) != OPES_OK)
            return 0;
        if (opes_trace_reader_start(r, v, len, hflags) != OPES_OK)
            __builtin_trap();
        while ((st = opes_trace_reader_next(r, &ev)) == OPES_OK) {
            if (ev.offset > len || ++events > 4 * len + 4)
                __builtin_trap();
            if (ev.type != OPES_TRACE_EV_ERROR && !inside(ev.entry.id, v, len))
                __builtin_trap();
        }
        if (st != OPES_ENOTFOUND || opes_trace_reader_next(r, &ev) != OPES_ENOTFOUND)
            __builtin_trap();
        opes_trace_reader_free(r);
    }

    /* ---- begin / verify / emit on the same header ---- */
    {
        opes_trace *t = NULL;
        size_t bl = 0;
        if (opes_trace_new(&t, NULL) != OPES_OK)
            return 0;
        if (opes_trace_set_system(t, "urn:fuzz:sys", 12) != OPES_OK ||
            opes_trace_set_header_flags(t, hflags) != OPES_OK)
            __builtin_trap();
        st = opes_trace_begin(t, v, len);
        if (st == OPES_OK) {
            if (opes_trace_service(t, "urn:fuzz:svc", 12, 0, 0) != OPES_OK)
                __builtin_trap();
            if (opes_trace_verify(t, v, len) != OPES_OK || opes_trace_damage_count(t) != 0)
                __builtin_trap();
            st = opes_trace_emit(t, built, sizeof built, &bl, 0);
            if (st != OPES_OK)
                __builtin_trap();
            if (bl + len <= sizeof built && !(hflags & OPES_HEADER_LF)) {
                opes_trace_reader *r = NULL;
                opes_trace_event ev;
                memmove(built + bl, v, len);
                /* 4 rule 3: the processor's own block is an addition, no
                 * damage, even when it repeats an older field */
                if (opes_trace_verify(t, built, bl + len) != OPES_OK)
                    __builtin_trap();
                if (opes_trace_reader_new(&r, NULL) == OPES_OK) {
                    opes_trace_reader_start(r, built, bl + len, hflags);
                    if (opes_trace_reader_next(r, &ev) != OPES_OK ||
                        ev.type != OPES_TRACE_EV_SYSTEM || ev.entry.id.len != 12 ||
                        opes_trace_reader_next(r, &ev) != OPES_OK || ev.type != OPES_TRACE_EV_VIA ||
                        ev.role != OPES_TRACE_ROLE_SYSTEM ||
                        opes_trace_reader_next(r, &ev) != OPES_OK || ev.type != OPES_TRACE_EV_VIA ||
                        ev.role != OPES_TRACE_ROLE_SERVICE)
                        __builtin_trap();
                    opes_trace_reader_free(r);
                }
            }
        }
        /* a recorded field deleted is always caught: one copy fewer of its
         * bytes cannot hold the recorded sequence */
        if (st == OPES_OK && opes_trace_recorded_count(t) > 0 && len <= sizeof built) {
            opes_str name, whole;
            opes_header_field f;
            size_t pos = 0, used = 0;
            if (opes_trace_recorded_get(t, 0, &name, &whole) != OPES_OK)
                __builtin_trap();
            while (opes_header_field_parse(v + pos, len - pos, hflags, 1, &f, &used) == OPES_OK &&
                   f.kind == OPES_HEADER_KIND_FIELD) {
                if (f.whole.len == whole.len && memcmp(f.whole.ptr, whole.ptr, whole.len) == 0) {
                    size_t off = (size_t)(f.whole.ptr - v);
                    memcpy(built, v, off);
                    memcpy(built + off, v + off + whole.len, len - off - whole.len);
                    if (opes_trace_verify(t, built, len - whole.len) == OPES_OK)
                        __builtin_trap();
                    break;
                }
                pos += used;
            }
        }
        opes_trace_free(t);
    }
    return 0;
}
