/*
 * libFuzzer harness: the DSN builder's round trip. Every report the builder
 * accepts is assembled as a sender would send it (head, the planned range of
 * the original as is or through the MIME encoder of plan.cte, tail) and read
 * back with opes_dsn_message_parse() (one MIME walker, made once): the
 * reader must find it, and every value must come back as it was put in.
 *
 * A harness of its own, beside fuzz_dsn_build.c, because each run here
 * costs a MIME walk and the builder's own invariants want the throughput;
 * the input layout is the same, so either corpus seeds the other.
 *
 * Input: the layout of dsn_input.h (shared with fuzz_dsn_build.c).
 *
 * Invariants (abort on failure), for every report prepare accepts:
 *   - opes_dsn_message_parse() returns OPES_OK, found, one recipient, no
 *     block flag (no missing, bad, duplicate or misplaced field);
 *   - Reporting-MTA, DSN-Gateway, Received-From-MTA, Remote-MTA: "dns" and
 *     the name, or the type and name as given (WSP around each not part of
 *     it); Original-Envelope-Id, Arrival-Date, Last-Attempt-Date,
 *     Final-Log-ID, Will-Retry-Until, X-OPES-System, X-OPES-Service (both
 *     levels) byte for byte; X-OPES-Bypassable as given;
 *   - Final-Recipient and Original-Recipient: type rfc822 / as given, or
 *     utf-8 for a non-ASCII address (RFC 6533), the address decoded back;
 *   - Action, Status; Diagnostic-Code type smtp and the reply lines joined
 *     with the SPACE RFC 3464 9.2 puts before each continuation line;
 *   - the report is global iff the plan says so;
 *   - the returned part is of the planned kind, its body is the planned
 *     range byte for byte (or its encoding, flagged encoded), and its header
 *     fields are those of the original's header section (trace fields
 *     included); a redacted report returns the original's Message-ID alone.
 *     Not checked when the reader flags OPES_DSN_REPORT_WALK_ERROR (the
 *     walker refused the returned original, e.g. a bare CR in its header):
 *     everything before the returned part is still checked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#include "dsn_input.h"

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static opes_str trim(opes_str s)
{
    while (s.len && is_wsp(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && is_wsp(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

static int same(opes_str a, const char *b, size_t n)
{
    return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

static int ieq(opes_str a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a.ptr[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

static int has8(opes_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] >= 0x80)
            return 1;
    return 0;
}

/* the field's value, decoded, equals want[0..n) */
static void value_is(const opes_dsn_field *f, const char *want, size_t n)
{
    static char buf[8192];
    size_t got = 0;
    CHECK(f->present);
    CHECK(opes_dsn_value_decode(f, buf, sizeof buf, &got) == OPES_OK);
    CHECK(got == n && (n == 0 || memcmp(buf, want, n) == 0));
}

/* an optional plain field: absent when not given, else exactly it */
static void plain_is(const opes_dsn_field *f, opes_str want)
{
    if (want.len == 0) {
        CHECK(!f->present);
        return;
    }
    value_is(f, want.ptr, want.len);
}

/* an MTA field: "name" is "dns; name", "type; name" as given */
static void mta_is(const opes_dsn_field *f, opes_str v)
{
    if (v.len == 0) {
        CHECK(!f->present);
        return;
    }
    const char *semi = memchr(v.ptr, ';', v.len);
    opes_str type = {"dns", 3}, name = v;
    if (semi) {
        type.ptr = v.ptr;
        type.len = (size_t)(semi - v.ptr);
        name.ptr = semi + 1;
        name.len = v.len - type.len - 1;
    }
    type = trim(type);
    name = trim(name);
    CHECK(same(f->type, type.ptr, type.len));
    value_is(f, name.ptr, name.len);
}

static void addr_is(const opes_dsn_field *f, opes_str type, opes_str addr)
{
    if (has8(addr) || ieq(type, "utf-8"))
        CHECK(ieq(f->type, "utf-8"));
    else
        CHECK(same(f->type, type.ptr, type.len));
    addr = trim(addr);
    value_is(f, addr.ptr, addr.len);
}

/* the diagnostic's lines (CRLF or LF between them) joined by one SPACE */
static void diag_is(const opes_dsn_field *f, opes_str d)
{
    static char want[8192];
    size_t n = 0;
    if (d.len == 0) {
        CHECK(!f->present);
        return;
    }
    CHECK(ieq(f->type, "smtp"));
    for (size_t i = 0; i < d.len && n < sizeof want; i++) {
        if (d.ptr[i] == '\r' && i + 1 < d.len && d.ptr[i + 1] == '\n')
            continue;
        want[n++] = d.ptr[i] == '\n' ? ' ' : d.ptr[i];
    }
    opes_str w = trim((opes_str){want, n});
    value_is(f, w.ptr, w.len);
}

static void bypass_is(int got, int given)
{
    CHECK(got == (given == OPES_DSN_BYPASS_YES ? 1 : given == OPES_DSN_BYPASS_NO ? 0 : -1));
}

static opes_mime_walker *walker;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dsn_input d;
    if (!dsn_input_derive(&d, data, size))
        return 0;
    if (walker == NULL)
        CHECK(opes_mime_walker_new(&walker, NULL) == OPES_OK);
    opes_dsn_builder *b = d.b;
    const opes_dsn_report rep = d.rep;
    const opes_dsn_recipient r = d.r;
    const char *orig = d.orig;
    char *msg = NULL, *scratch = NULL, *enc = NULL;

    opes_dsn_plan plan;
    if (opes_dsn_builder_prepare(b, &rep, &plan) != OPES_OK)
        goto done;

    /* ---- assemble the report as a sender sends it ---- */
    size_t hn = 0, tn = 0, en = 0;
    CHECK(opes_dsn_build_head(b, NULL, 0, &hn) == OPES_ENOSPC);
    CHECK(opes_dsn_build_tail(b, NULL, 0, &tn) == OPES_ENOSPC);
    const char *range = orig + plan.offset;
    size_t rlen = (size_t)plan.length;
    if (plan.cte != OPES_MIME_CTE_NONE) {
        opes_mime_encoder e;
        size_t used = 0;
        CHECK(opes_mime_encoder_init(&e, plan.cte) == OPES_OK);
        size_t cap = opes_mime_encode_bound(&e, rlen);
        enc = malloc(cap ? cap : 1);
        CHECK(enc);
        CHECK(opes_mime_encode(&e, range, rlen, 1, enc, cap, &used, &en) == OPES_OK);
        CHECK(used == rlen);
        range = enc;
        rlen = en;
    }
    size_t len = hn + rlen + tn, n = 0;
    msg = malloc(len);
    CHECK(msg);
    CHECK(opes_dsn_build_head(b, msg, hn, &n) == OPES_OK && n == hn);
    if (rlen)
        memcpy(msg + hn, range, rlen);
    CHECK(opes_dsn_build_tail(b, msg + hn + rlen, tn, &n) == OPES_OK && n == tn);

    /* ---- read it back ---- */
    opes_dsn_read_report rd;
    unsigned rf = OPES_DSN_READ_8BIT | ((rep.flags & OPES_DSN_F_LF) ? OPES_DSN_READ_LF : 0);
    scratch = malloc(len + 4);
    CHECK(scratch);
    opes_status st = opes_dsn_message_parse(walker, msg, len, rf, scratch, len + 4, &rd, NULL);
    CHECK(st == OPES_OK && rd.found);
    CHECK(!(rd.flags &
            (OPES_DSN_REPORT_NESTED | OPES_DSN_REPORT_ODD_REPORT_TYPE | OPES_DSN_REPORT_DECODED)));
    CHECK(((rd.flags & OPES_DSN_REPORT_GLOBAL) != 0) == (plan.global != 0));
    const opes_dsn_per_message *m = &rd.status.msg;
    CHECK(m->flags == 0 && m->extensions == 0 && rd.status.recipients == 1);
    mta_is(&m->reporting_mta, rep.reporting_mta);
    mta_is(&m->dsn_gateway, rep.dsn_gateway);
    mta_is(&m->received_from_mta, rep.received_from_mta);
    plain_is(&m->original_envelope_id, rep.envid);
    plain_is(&m->arrival_date, rep.arrival_date);
    plain_is(&m->opes_system, rep.opes_system);
    plain_is(&m->opes_service, rep.opes_service);
    bypass_is(m->bypassable, rep.bypassable);

    opes_dsn_iter it;
    opes_dsn_read_recipient g;
    CHECK(opes_dsn_recipients(&rd.status, &it) == OPES_OK);
    CHECK(opes_dsn_recipient_next(&it, &g) == OPES_OK);
    CHECK(g.flags == 0 && g.extensions == 0);
    addr_is(&g.final_recipient, (opes_str){"rfc822", 6}, r.final_recipient);
    if (r.orcpt.len)
        addr_is(&g.original_recipient, r.orcpt_type, r.orcpt);
    else
        CHECK(!g.original_recipient.present);
    CHECK(g.action_value == r.action);
    CHECK(same(g.status_code, r.status.ptr, r.status.len));
    mta_is(&g.remote_mta, r.remote_mta);
    diag_is(&g.diagnostic_code, r.diagnostic);
    plain_is(&g.last_attempt_date, r.last_attempt_date);
    plain_is(&g.final_log_id, r.final_log_id);
    plain_is(&g.will_retry_until, r.will_retry_until);
    plain_is(&g.opes_service, r.opes_service);
    bypass_is(g.bypassable, r.bypassable);
    CHECK(opes_dsn_recipient_next(&it, &g) == OPES_ENOTFOUND);

    /* ---- the returned content ---- */
    if (plan.part == OPES_DSN_PART_NONE) {
        CHECK(rd.returned_kind == OPES_DSN_RETURNED_NONE);
    } else if (plan.part == OPES_DSN_PART_REDACTED) {
        opes_str id;
        opes_header_field h;
        size_t hp = 0;
        CHECK(rd.returned_kind == OPES_DSN_RETURNED_HEADERS);
        CHECK(opes_dsn_builder_original_field(b, OPES_DSN_ORIG_MESSAGE_ID, &id) == OPES_OK);
        CHECK(opes_dsn_returned_field_next(&rd, &hp, &h) == OPES_OK);
        CHECK(ieq(h.name, "Message-ID"));
        CHECK(opes_dsn_returned_field_next(&rd, &hp, &h) == OPES_ENOTFOUND);
    } else {
        CHECK(rd.returned_kind == (plan.part == OPES_DSN_PART_MESSAGE ? OPES_DSN_RETURNED_MESSAGE
                                                                      : OPES_DSN_RETURNED_HEADERS));
        /* the body of the returned part is the range (or its encoding);
         * not when the walker stopped inside it (an original the walker
         * refuses, e.g. a bare CR in its header: returned as is, the reader
         * hands out what it read, OPES_DSN_REPORT_WALK_ERROR) */
        if (!(rd.flags & OPES_DSN_REPORT_WALK_ERROR))
            CHECK(same(rd.returned, range, rlen));
        CHECK(((rd.flags & OPES_DSN_REPORT_RETURNED_ENCODED) != 0) ==
              (plan.cte != OPES_MIME_CTE_NONE));
        if (plan.cte == OPES_MIME_CTE_NONE && !(rd.flags & OPES_DSN_REPORT_WALK_ERROR)) {
            /* its header fields: those of the returned range (the
             * original's header section), in order */
            opes_header_field h, o;
            size_t hp = 0, op = 0;
            for (;;) {
                opes_status s1 = opes_dsn_returned_field_next(&rd, &hp, &h);
                if (s1 != OPES_OK)
                    break;
                size_t used = 0;
                if (opes_header_field_parse(range + op, rlen - op, rd.header_flags, 1, &o, &used) !=
                    OPES_OK) {
                    /* the range's last line without its line end: the
                     * reader tolerates it (the line end before the
                     * delimiter is not the field's), the header parser
                     * alone does not; the reader's field is that rest */
                    size_t rest = (size_t)(h.raw.ptr + h.raw.len - h.name.ptr);
                    CHECK(h.name.ptr >= rd.returned.ptr && rest == rlen - op &&
                          memcmp(h.name.ptr, range + op, rest) == 0);
                    CHECK(opes_dsn_returned_field_next(&rd, &hp, &h) != OPES_OK);
                    break;
                }
                CHECK(o.kind == OPES_HEADER_KIND_FIELD);
                CHECK(same(h.name, o.name.ptr, o.name.len) && same(h.raw, o.raw.ptr, o.raw.len));
                op += used;
            }
        }
    }
done:
    free(msg);
    free(scratch);
    free(enc);
    dsn_input_free(&d);
    return 0;
}
