/*
 * libFuzzer harness for opes_received_parse / opes_received_build.
 *
 * Byte 0: bit 0 OPES_RECEIVED_STRICT; bit 1 build with
 * OPES_RECEIVED_BUILD_LF. The rest is a Received field body.
 * Invariants: every view lies inside the input; a strict success is a
 * tolerant success with the same clause values; the pieces rebuilt with
 * opes_received_build() (when it accepts them) give a field whose lines
 * end only in the chosen line end, followed by TAB inside the field, are at
 * most 998 octets, and parse back (tolerantly) to the same pieces.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void inside(opes_str v, const char *buf, size_t len)
{
    if (v.len == 0)
        return;
    if (!v.ptr || v.ptr < buf || v.ptr > buf + len || v.len > (size_t)(buf + len - v.ptr))
        __builtin_trap();
}

static int eq(opes_str a, opes_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_received r, r2;
    opes_received_stamp s;
    size_t err = 0, len, blen = 0, need = 0;
    const char *buf;
    char *out;
    unsigned strict, lf;
    opes_status st;

    if (size < 1)
        return 0;
    strict = data[0] & 1;
    lf = (data[0] >> 1) & 1;
    buf = (const char *)data + 1;
    len = size - 1;
    st = opes_received_parse(buf, len, strict ? OPES_RECEIVED_STRICT : 0, &r, &err);
    if (st != OPES_OK) {
        if (err > len || r.from.ptr || r.flags)
            __builtin_trap();
        return 0;
    }
    {
        const opes_str v[] = {r.from,         r.from_comment, r.from_rdns, r.from_ip,
                              r.by,           r.by_comment,   r.via,       r.with,
                              r.with_comment, r.id,           r.for_path,  r.envelope_from,
                              r.extra_name,   r.extra_value,  r.date_raw};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            inside(v[k], buf, len);
    }
    if (strict && (r.flags & OPES_RECEIVED_F_DEVIATIONS))
        __builtin_trap();
    if ((r.date_status == OPES_OK) !=
        !(r.flags & (OPES_RECEIVED_F_NO_DATE | OPES_RECEIVED_F_BAD_DATE)))
        __builtin_trap();
    if (strict) {
        if (opes_received_parse(buf, len, 0, &r2, NULL) != OPES_OK || !eq(r.from, r2.from) ||
            !eq(r.by, r2.by) || !eq(r.via, r2.via) || !eq(r.with, r2.with) || !eq(r.id, r2.id) ||
            !eq(r.for_path, r2.for_path) || r.extra_count != r2.extra_count)
            __builtin_trap();
    }

    /* rebuild what a server would record */
    memset(&s, 0, sizeof s);
    s.helo = r.from;
    if (r.from_ip.len && r.from_ip.ptr[0] == '[') {
        s.ip = r.from_ip;
        s.rdns = r.from_rdns;
    }
    s.by = r.by;
    if (r.by_comment.len && !memchr(r.by_comment.ptr, '\\', r.by_comment.len) &&
        !memchr(r.by_comment.ptr, '(', r.by_comment.len) &&
        !memchr(r.by_comment.ptr, ')', r.by_comment.len))
        s.by_comment = r.by_comment;
    s.via = r.via;
    s.with = r.with;
    s.id = r.id;
    s.for_path = r.for_path;
    if (r.date_status == OPES_OK)
        s.date = r.date;
    else
        opes_date_from_unix(0, 0, &s.date);
    st = opes_received_build(NULL, 0, &need, &s, lf ? OPES_RECEIVED_BUILD_LF : 0);
    if (st != OPES_ENOSPC)
        return 0; /* pieces the builder refuses */
    out = malloc(need);
    if (!out)
        abort();
    if (opes_received_build(out, need, &blen, &s, lf ? OPES_RECEIVED_BUILD_LF : 0) != OPES_OK ||
        blen != need || blen < 12 || memcmp(out, "Received:", 9) != 0)
        __builtin_trap();
    {
        size_t line = 0;
        for (size_t i = 0; i < blen; i++) {
            char ch = out[i];
            if (ch == 0)
                __builtin_trap();
            if (ch == '\r' && (lf || i + 1 >= blen || out[i + 1] != '\n'))
                __builtin_trap();
            if (ch == '\n') {
                if (!lf && (i == 0 || out[i - 1] != '\r'))
                    __builtin_trap();
                if (i + 1 < blen && out[i + 1] != '\t')
                    __builtin_trap();
                line = 0;
                continue;
            }
            if (ch != '\r' && ++line > 998)
                __builtin_trap();
        }
        if (out[blen - 1] != '\n')
            __builtin_trap();
    }
    if (opes_received_parse(out + 9, blen - 9, 0, &r2, NULL) != OPES_OK || !eq(s.helo, r2.from) ||
        !eq(s.by, r2.by) || !eq(s.via, r2.via) || !eq(s.with, r2.with) || !eq(s.id, r2.id) ||
        !eq(s.ip, r2.from_ip) || !eq(s.rdns, r2.from_rdns) ||
        (s.by_comment.len && !eq(s.by_comment, r2.by_comment)) || r2.date_status != OPES_OK ||
        r2.date.year != s.date.year || r2.date.day != s.date.day ||
        r2.date.second != s.date.second || r2.date.zone != s.date.zone)
        __builtin_trap();
    if (s.for_path.len) {
        opes_str f = r2.for_path;
        if (s.for_path.ptr[0] != '<' && f.len >= 2) {
            f.ptr++;
            f.len -= 2;
        }
        if (!eq(s.for_path, f))
            __builtin_trap();
    }
    free(out);
    return 0;
}
