/*
 * libFuzzer harness: the DSN report builder (opes_dsn_builder) and the MIME
 * encoders it hands the returned content to.
 *
 * Input: byte 0 the report flags (enum opes_dsn_flag, 6 bits), byte 1 RET
 * (low 2 bits), the action (next 3 bits) and the bypassable values, byte 2
 * the return limit (0: none, else that many times 16 octets), byte 3 the
 * chunk size the original is fed in (0: at once); then fields separated by
 * 0x1E: seed, from, to, date, message-id, subject, reporting-MTA, envid,
 * OPES system, OPES service, final recipient, ORCPT type, ORCPT, status,
 * remote MTA, diagnostic, last attempt, final log id, will-retry-until, the
 * recipient's OPES service; the rest is the original message. An empty
 * required field gets a valid default, so most inputs reach the writer.
 *
 * Invariants (abort on failure):
 *   - prepare returns OK or one of the refusals its documentation lists,
 *     and after OK the build calls can only run out of room;
 *   - the boundary never occurs in the original;
 *   - the size queries of head and tail equal the real writes, and a
 *     buffer one byte short gives OPES_ENOSPC with the same size;
 *   - the report's header section parses with opes_header_field_parse()
 *     field by field up to its empty line;
 *   - the planned range lies inside the original; the encoder consumes it
 *     within opes_mime_encode_bound().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

enum {
    F_SEED,
    F_FROM,
    F_TO,
    F_DATE,
    F_MSGID,
    F_SUBJ,
    F_RMTA,
    F_ENVID,
    F_SYS,
    F_SVC,
    F_FINAL,
    F_OTYPE,
    F_ORCPT,
    F_STATUS,
    F_REMOTE,
    F_DIAG,
    F_LAST,
    F_LOGID,
    F_RETRY,
    F_RSVC,
    F__N
};

static opes_str dflt(opes_str s, const char *d)
{
    if (s.len == 0) {
        s.ptr = d;
        s.len = strlen(d);
    }
    return s;
}

static int has(const char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; m && i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    /* one heap copy: ASan sees any read past it */
    char *in = malloc(size);
    CHECK(in);
    memcpy(in, data, size);
    opes_str f[F__N];
    memset(f, 0, sizeof f);
    size_t pos = 4;
    for (int i = 0; i < F__N; i++) {
        size_t e = pos;
        while (e < size && in[e] != 0x1E)
            e++;
        f[i].ptr = in + pos;
        f[i].len = e - pos;
        pos = e < size ? e + 1 : e;
    }
    const char *orig = in + pos;
    size_t olen = size - pos;

    opes_dsn_builder *b = NULL;
    CHECK(opes_dsn_builder_new(&b, NULL) == OPES_OK);
    if (opes_dsn_builder_set_seed(b, f[F_SEED].ptr, f[F_SEED].len) != OPES_OK)
        CHECK(opes_dsn_builder_set_seed(b, "s", 1) == OPES_OK);
    if (data[2])
        CHECK(opes_dsn_builder_set_return_limit(b, (uint64_t)data[2] * 16u) == OPES_OK);
    size_t step = data[3] ? data[3] : (olen ? olen : 1);
    for (size_t i = 0; i < olen; i += step)
        CHECK(opes_dsn_builder_feed(b, orig + i, olen - i < step ? olen - i : step) == OPES_OK);
    CHECK(opes_dsn_builder_end(b) == OPES_OK);

    opes_dsn_recipient r;
    opes_dsn_report rep;
    memset(&r, 0, sizeof r);
    memset(&rep, 0, sizeof rep);
    rep.flags = data[0] & 0x3Fu;
    rep.ret = data[1] & 3;
    if (rep.ret == 3)
        rep.ret = OPES_DSN_RET_FULL;
    r.action = 1 + (data[1] >> 2) % 5;
    rep.bypassable = (data[1] >> 5) % 3;
    r.bypassable = (data[1] >> 6) % 3;
    rep.from = dflt(f[F_FROM], "postmaster@mx.example.net");
    rep.to = dflt(f[F_TO], "alice@example.org");
    rep.date = dflt(f[F_DATE], "Sun, 6 Dec 2026 05:10:00 +0000");
    rep.message_id = dflt(f[F_MSGID], "<r@mx.example.net>");
    rep.subject = f[F_SUBJ];
    rep.reporting_mta = dflt(f[F_RMTA], "mx.example.net");
    rep.envid = f[F_ENVID];
    rep.opes_system = f[F_SYS];
    rep.opes_service = f[F_SVC];
    r.final_recipient = dflt(f[F_FINAL], "bob@example.com");
    r.orcpt_type = f[F_OTYPE];
    r.orcpt = f[F_ORCPT];
    r.status = dflt(f[F_STATUS], "5.0.0");
    r.remote_mta = f[F_REMOTE];
    r.diagnostic = f[F_DIAG];
    r.last_attempt_date = f[F_LAST];
    r.final_log_id = f[F_LOGID];
    r.will_retry_until = f[F_RETRY];
    r.opes_service = f[F_RSVC];
    rep.rcpts = &r;
    rep.nrcpts = 1;

    opes_dsn_plan plan;
    opes_status st = opes_dsn_builder_prepare(b, &rep, &plan);
    if (st != OPES_OK) {
        CHECK(st == OPES_EINJECT || st == OPES_EPARAM_TOO_LONG || st == OPES_EBAD_DATE ||
              st == OPES_EBAD_ENHANCED_CODE || st == OPES_EBAD_URI ||
              st == OPES_EURI_NOT_ABSOLUTE || st == OPES_EURI_TOO_LONG || st == OPES_EBAD_UTF8 ||
              st == OPES_EBAD_CHAR || st == OPES_EBAD_REPLY || st == OPES_EEXIST ||
              st == OPES_EINVAL || st == OPES_EHEADER_LINE_TOO_LONG);
        goto done;
    }
    CHECK(plan.boundary.len >= 5 && plan.boundary.len <= 70);
    CHECK(!has(orig, olen, plan.boundary.ptr, plan.boundary.len));
    CHECK(plan.original_size == olen && plan.offset <= olen && plan.length <= olen - plan.offset);

    size_t hn = 0, hn2 = 0, tn = 0, tn2 = 0;
    /* prepare built the head once: the build calls only run out of room */
    CHECK(opes_dsn_build_head(b, NULL, 0, &hn) == OPES_ENOSPC && hn > 0);
    char *head = malloc(hn);
    CHECK(head);
    CHECK(opes_dsn_build_head(b, head, hn - 1, &hn2) == OPES_ENOSPC && hn2 == hn);
    CHECK(opes_dsn_build_head(b, head, hn, &hn2) == OPES_OK && hn2 == hn);
    CHECK(opes_dsn_build_tail(b, NULL, 0, &tn) == OPES_ENOSPC);
    char *tail = malloc(tn);
    CHECK(tail);
    CHECK(opes_dsn_build_tail(b, tail, tn, &tn2) == OPES_OK && tn2 == tn);
    CHECK(has(tail, tn, plan.boundary.ptr, plan.boundary.len));

    /* the report's header section, field by field */
    unsigned hf =
        ((rep.flags & OPES_DSN_F_LF) ? OPES_HEADER_LF : 0) | (plan.global ? OPES_HEADER_UTF8 : 0);
    size_t off = 0;
    for (;;) {
        opes_header_field fl;
        size_t used = 0;
        CHECK(opes_header_field_parse(head + off, hn - off, hf, 1, &fl, &used) == OPES_OK);
        CHECK(fl.kind != OPES_HEADER_KIND_EOF);
        off += used;
        if (fl.kind == OPES_HEADER_KIND_END)
            break;
    }

    /* the range through the encoder */
    if (plan.cte != OPES_MIME_CTE_NONE) {
        opes_mime_encoder e;
        CHECK(opes_mime_encoder_init(&e, plan.cte) == OPES_OK);
        size_t cap = opes_mime_encode_bound(&e, (size_t)plan.length), used = 0, w = 0;
        char *enc = malloc(cap ? cap : 1);
        CHECK(enc);
        CHECK(opes_mime_encode(&e, orig + plan.offset, (size_t)plan.length, 1, enc, cap, &used,
                               &w) == OPES_OK);
        CHECK(used == plan.length && w <= cap);
        for (size_t i = 0; i < w; i++)
            CHECK((unsigned char)enc[i] < 0x80);
        CHECK(!has(enc, w, plan.boundary.ptr, plan.boundary.len));
        free(enc);
    }
    free(head);
    free(tail);
done:
    opes_dsn_builder_free(b);
    free(in);
    return 0;
}
