/*
 * libFuzzer harness: the DSN report builder (opes_dsn_builder) and the MIME
 * encoders it hands the returned content to.
 *
 * Input: the layout of dsn_input.h (flags, RET, action, limit, chunk size,
 * the report's fields separated by 0x1E, then the original).
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

#include "harness.h"

#include "dsn_input.h"

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
    dsn_input d;
    if (!dsn_input_derive(&d, data, size))
        return 0;
    opes_dsn_builder *b = d.b;
    opes_dsn_report rep = d.rep;
    const char *orig = d.orig;
    size_t olen = d.olen;

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
    dsn_input_free(&d);
    return 0;
}
