/*
 * libFuzzer harness: the DSN reader (RFC 3464, RFC 6522, RFC 6533): the
 * delivery-status content parser and the report finder over the MIME walker.
 *
 * Input: byte 0 picks the read flags (bits 0..2: OPES_DSN_READ_LF, _UTF8,
 * _8BIT); the rest is both a delivery-status content and a whole message.
 * Invariants (abort on failure):
 *   - every view lies inside the input (or, for a decoded delivery-status
 *     part, inside the scratch buffer);
 *   - the recipient iterator hands out exactly the counted recipients, in
 *     increasing offsets, then OPES_ENOTFOUND;
 *   - opes_dsn_field_next() walks each block whole (its fields tile it);
 *   - every value decodes the same into a large buffer, a small one and a
 *     size query: OPES_OK with the size, or OPES_ENOSPC with the same size;
 *   - a report: OPES_ENOSPC gives a size, and a scratch buffer of that size
 *     is enough; the returned header fields lie inside the returned header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#include "harness.h"

static const char *g_lo, *g_hi; /* the input */
static const char *s_lo, *s_hi; /* the scratch buffer in use */

static void in_range(opes_str s)
{
    if (s.len == 0)
        return;
    int in_input = s.ptr >= g_lo && s.ptr + s.len <= g_hi;
    int in_scratch = s_lo && s.ptr >= s_lo && s.ptr + s.len <= s_hi;
    CHECK(in_input || in_scratch);
}

static void decode(const opes_dsn_field *f)
{
    static char big[1 << 17];
    char small[16];
    size_t q = 0, n = 0, m = 0;
    opes_status sq = opes_dsn_value_decode(f, NULL, 0, &q);
    opes_status sb = opes_dsn_value_decode(f, big, sizeof big, &n);
    opes_status ss = opes_dsn_value_decode(f, small, sizeof small, &m);
    if (!f->present) {
        CHECK(sq == OPES_ENOTFOUND && sb == OPES_ENOTFOUND && ss == OPES_ENOTFOUND);
        return;
    }
    in_range(f->name);
    in_range(f->raw);
    in_range(f->type);
    in_range(f->value);
    if (sb == OPES_OK) {
        CHECK(sq == (n == 0 ? OPES_OK : OPES_ENOSPC) && q == n);
        CHECK(ss == (n <= sizeof small ? OPES_OK : OPES_ENOSPC) && m == n);
        CHECK(memchr(big, '\r', n) == NULL && memchr(big, '\n', n) == NULL);
    } else {
        CHECK(sb != OPES_ENOSPC); /* nothing a field holds decodes this long */
        CHECK(sq == sb && ss == sb);
    }
}

static void walk_block(opes_str block, unsigned flags, size_t extensions)
{
    opes_dsn_field f;
    size_t pos = 0, ext = 0, k = 0;
    opes_status st;
    in_range(block);
    while ((st = opes_dsn_field_next(block, flags, &pos, &f)) == OPES_OK) {
        CHECK(pos <= block.len && f.offset < pos);
        CHECK(f.raw.ptr >= block.ptr && f.raw.ptr + f.raw.len <= block.ptr + block.len);
        if (f.id == OPES_DSNF_EXTENSION)
            ext++;
        decode(&f);
        CHECK(++k <= block.len);
    }
    CHECK(st == OPES_ENOTFOUND && pos == block.len);
    CHECK(ext == extensions);
}

static void content(const opes_dsn_content *c)
{
    const opes_dsn_per_message *m = &c->msg;
    const opes_dsn_field *pm[] = {&m->original_envelope_id, &m->reporting_mta,  &m->dsn_gateway,
                                  &m->received_from_mta,    &m->arrival_date,   &m->opes_system,
                                  &m->opes_service,         &m->opes_bypassable};
    for (size_t i = 0; i < sizeof pm / sizeof pm[0]; i++)
        decode(pm[i]);
    walk_block(m->block, c->flags, m->extensions);
    CHECK(c->recipients >= 1 && c->recipients <= OPES_DSN_MAX_RECIPIENTS);

    opes_dsn_iter it;
    opes_dsn_read_recipient r;
    size_t k = 0;
    uint64_t last = m->offset;
    unsigned fl = 0;
    CHECK(opes_dsn_recipients(c, &it) == OPES_OK);
    while (opes_dsn_recipient_next(&it, &r) == OPES_OK) {
        CHECK(r.index == k && r.offset > last);
        last = r.offset;
        fl |= r.flags;
        const opes_dsn_field *pr[] = {&r.original_recipient,
                                      &r.final_recipient,
                                      &r.action,
                                      &r.status,
                                      &r.remote_mta,
                                      &r.diagnostic_code,
                                      &r.last_attempt_date,
                                      &r.final_log_id,
                                      &r.will_retry_until,
                                      &r.opes_service,
                                      &r.opes_bypassable};
        for (size_t i = 0; i < sizeof pr / sizeof pr[0]; i++)
            decode(pr[i]);
        CHECK((r.action_value != OPES_DSN_ACTION_NONE) ==
              (r.action.present && !(r.action.flags & OPES_DSN_FF_BAD)));
        CHECK((r.status_code.len > 0) == (r.status.present && !(r.status.flags & OPES_DSN_FF_BAD)));
        in_range(r.status_code);
        walk_block(r.block, c->flags, r.extensions);
        k++;
    }
    CHECK(k == c->recipients && fl == c->recipient_flags);
    CHECK(opes_dsn_recipient_next(&it, &r) == OPES_ENOTFOUND);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static opes_mime_walker *w;
    if (size < 1)
        return 0;
    if (!w)
        CHECK(opes_mime_walker_new(&w, NULL) == OPES_OK);
    unsigned flags = data[0] & 7u;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    g_lo = in;
    g_hi = in + n;
    s_lo = s_hi = NULL;

    /* the content parser */
    opes_dsn_content c;
    size_t err = 0;
    opes_status st = opes_dsn_content_parse(n ? in : NULL, n, flags, &c, &err);
    if (st == OPES_OK)
        content(&c);
    else
        CHECK(err <= n);

    /* the report finder: no scratch first, then the size it asks for */
    opes_dsn_read_report r;
    size_t need = 0;
    st = opes_dsn_message_parse(w, n ? in : NULL, n, flags, NULL, 0, &r, &need);
    char *scratch = NULL;
    if (st == OPES_ENOSPC) {
        CHECK(need > 0 && need <= n + 3 && r.found);
        scratch = malloc(need);
        CHECK(scratch != NULL);
        size_t need2 = 0;
        st = opes_dsn_message_parse(w, in, n, flags, scratch, need, &r, &need2);
        CHECK(st != OPES_ENOSPC && need2 == 0);
        s_lo = scratch;
        s_hi = scratch + need;
    }
    if (st == OPES_OK) {
        CHECK(r.found);
        content(&r.status);
        in_range(r.report_type);
        in_range(r.human);
        in_range(r.returned);
        in_range(r.returned_header);
        opes_header_field h;
        size_t pos = 0, k = 0;
        while (opes_dsn_returned_field_next(&r, &pos, &h) == OPES_OK) {
            CHECK(h.whole.ptr >= r.returned_header.ptr &&
                  h.whole.ptr + h.whole.len <= r.returned_header.ptr + r.returned_header.len);
            CHECK(++k <= r.returned_header.len);
        }
    } else if (st == OPES_ENOTFOUND) {
        CHECK(!r.found);
    }
    free(scratch);
    return 0;
}
