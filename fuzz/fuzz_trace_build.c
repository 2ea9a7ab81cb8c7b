/*
 * libFuzzer harness for the OPES trace builders (docs/opes-smtp.md 3.1, 6):
 * opes_trace_value_build, opes_trace_field_build, opes_trace_reply_build.
 *
 * Byte 0: bit 0 OPES_HEADER_LF; bits 1-3 the number of items - 1; bit 4
 * the bypassable hint of the reply; bits 5-7 pick the reply code.
 * The rest is split at 0xFF into chunks: for each item its id, then a chunk
 * whose first byte mod 5 is its number of parameters, then name and value
 * chunks. The first chunk is also the reply's text.
 * Invariants: sizes from the size query equal the writes; no CR, LF or NUL
 * in a value; a field has only CRLF (or LF) line ends, continuation lines
 * start with WSP, no line over 998 octets, and it equals
 * opes_header_field_build() of the value; the value parses back to the same
 * ids and parameters; a reply parses back with 3 + services lines of at
 * most 512 octets.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAXI 8
#define MAXP 4

static size_t next_chunk(const char *b, size_t n, size_t *pos, opes_str *out)
{
    size_t s = *pos, e = s;
    while (e < n && (unsigned char)b[e] != 0xFF)
        e++;
    out->ptr = b + s;
    out->len = e - s;
    *pos = e < n ? e + 1 : n;
    return out->len;
}

static void check_lines(const char *p, size_t n, int lf)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\0')
            __builtin_trap();
        if (p[i] == '\r' && (lf || i + 1 >= n || p[i + 1] != '\n'))
            __builtin_trap();
        if (p[i] == '\n') {
            size_t end = (!lf && i > 0) ? i - 1 : i; /* without the line end */
            if (!lf && (i == 0 || p[i - 1] != '\r'))
                __builtin_trap();
            if (end - start > 998)
                __builtin_trap();
            start = i + 1;
            if (start < n && p[start] != ' ' && p[start] != '\t' && p[start] != 'O')
                __builtin_trap();
        }
    }
    if (n && p[n - 1] != '\n')
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static opes_trace_item items[MAXI];
    static opes_trace_pair pairs[MAXI][MAXP];
    static opes_str ids[MAXI];
    static char val[1 << 16], fld[1 << 17], ref[1 << 17], rep[1 << 14], tmp[4096];
    const char *b;
    size_t n, pos = 0, ni, i, vl = 0, fl = 0, rl = 0, q = 0;
    int lf, kind;
    opes_status sv, sf, sr, sq;
    opes_str text;

    if (size < 1)
        return 0;
    lf = data[0] & 1;
    ni = (size_t)((data[0] >> 1) & 7) + 1;
    b = (const char *)data + 1;
    n = size - 1;
    for (i = 0; i < ni; i++) {
        opes_str c;
        size_t np, k;
        next_chunk(b, n, &pos, &items[i].id);
        ids[i] = items[i].id;
        np = next_chunk(b, n, &pos, &c) ? (unsigned char)c.ptr[0] % 5 : 0;
        if (np > MAXP)
            np = MAXP;
        for (k = 0; k < np; k++) {
            next_chunk(b, n, &pos, &pairs[i][k].name);
            next_chunk(b, n, &pos, &pairs[i][k].value);
        }
        items[i].params = pairs[i];
        items[i].nparams = np;
    }

    /* ---- value ---- */
    sq = opes_trace_value_build(NULL, 0, &q, items, ni);
    sv = opes_trace_value_build(val, sizeof val, &vl, items, ni);
    if (sv == OPES_OK) {
        opes_trace_cursor c = {0, 0};
        opes_trace_entry e;
        if (sq != OPES_ENOSPC || q != vl || opes__unsafe_at(val, vl) != vl)
            __builtin_trap();
        for (i = 0; i < ni; i++) {
            size_t pp = 0, k;
            opes_trace_param p;
            if (opes_trace_entry_next(val, vl, &c, &e, NULL) != OPES_OK)
                __builtin_trap();
            if (e.id.len != items[i].id.len || memcmp(e.id.ptr, items[i].id.ptr, e.id.len) ||
                e.nparams != items[i].nparams)
                __builtin_trap();
            for (k = 0; opes_trace_param_next(&e, &pp, &p) == OPES_OK; k++) {
                size_t tl = 0;
                const opes_trace_pair *w = &items[i].params[k];
                if (p.name.len != w->name.len || memcmp(p.name.ptr, w->name.ptr, p.name.len))
                    __builtin_trap();
                if (opes_trace_param_unquote(&p, tmp, sizeof tmp, &tl) != OPES_OK ||
                    tl != w->value.len || (tl && memcmp(tmp, w->value.ptr, tl)))
                    __builtin_trap();
            }
            if (k != items[i].nparams)
                __builtin_trap();
        }
        if (opes_trace_entry_next(val, vl, &c, &e, NULL) != OPES_ENOTFOUND)
            __builtin_trap();
    } else if (sq != sv) {
        __builtin_trap();
    }

    /* ---- field: the same as opes_header_field_build() of the value ---- */
    kind = (data[0] & 0x10) ? OPES_TRACE_FIELD_VIA : OPES_TRACE_FIELD_SYSTEM;
    q = 0;
    sq = opes_trace_field_build(NULL, 0, &q, kind, items, ni, lf ? OPES_HEADER_LF : 0);
    sf = opes_trace_field_build(fld, sizeof fld, &fl, kind, items, ni, lf ? OPES_HEADER_LF : 0);
    if (sv != OPES_OK) {
        if (sf != sv)
            __builtin_trap();
    } else {
        size_t rfl = 0;
        const char *name = kind == OPES_TRACE_FIELD_VIA ? "OPES-Via" : "OPES-System";
        opes_status sh = opes_header_field_build(ref, sizeof ref, &rfl, name, strlen(name), val, vl,
                                                 lf ? OPES_HEADER_LF : 0);
        if (sh != sf)
            __builtin_trap();
        if (sf == OPES_OK) {
            if (sq != OPES_ENOSPC || q != fl || rfl != fl || memcmp(ref, fld, fl))
                __builtin_trap();
            check_lines(fld, fl, lf);
        }
    }

    /* ---- traced reply ---- */
    {
        static const int codes[8] = {550, 554, 451, 452, 553, 421, 450, 559};
        static const char *const esc[8] = {"5.7.1", NULL, "4.7.0", "4.3.1",
                                           "",      NULL, "4.7.1", "5.0.0"};
        int code = codes[(data[0] >> 5) & 7];
        text = ids[0];
        sr = opes_trace_reply_build(rep, sizeof rep, &rl, code, esc[(data[0] >> 5) & 7], text.ptr,
                                    text.len, ids[ni - 1].ptr, ids[ni - 1].len, ids, ni - 1,
                                    (data[0] & 0x10) ? OPES_TRACE_REPLY_BYPASSABLE : 0);
        if (sr == OPES_OK) {
            opes_reply r;
            size_t used = 0, p0 = 0, ln = 0;
            opes_reply_line l;
            if (opes_reply_parse(NULL, rep, rl, &r, &used) != OPES_OK || used != rl ||
                r.code != code || r.nlines != ni - 1 + 3)
                __builtin_trap();
            while (opes_reply_next_line(&r, &p0, &l) == OPES_OK) {
                if (l.line_len > 512)
                    __builtin_trap();
                ln++;
            }
            if (ln != r.nlines)
                __builtin_trap();
        }
    }
    return 0;
}
