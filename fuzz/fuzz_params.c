/*
 * libFuzzer harness: opes_params_parse.
 *
 * Input: byte 0 = mode (bit 0: RCPT instead of MAIL; bit 1: SMTPUTF8 in
 * effect in the config; bits 2-7: OPES_LENIENT_* bits), bytes 1-2 = the
 * extensions offered (a bitmap over offer_names), byte 3 = OPES_LIMIT_PARAMS
 * (1 + b % 64); the rest is the parameter text.
 *
 * Invariants: err_offset <= len; count <= OPES_MAX_PARAMS; every view lies
 * inside the input; on OPES_OK the typed accessors never reject a value the
 * parser accepted, opes_params_build() writes exactly " " + input (size
 * query and write agree, no CR/LF/NUL), and parsing that again gives the
 * same list.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static const char *const offer_names[] = {"SIZE",      "8BITMIME", "BINARYMIME", "CHUNKING",
                                          "DSN",       "SMTPUTF8", "REQUIRETLS", "MT-PRIORITY",
                                          "DELIVERBY", "AUTH",     "X-TEST"};

static union {
    max_align_t align;
    unsigned char mem[16384];
} cfg_mem;

static int view_inside(opes_str s, const char *buf, size_t len)
{
    if (s.len == 0)
        return 1;
    return s.ptr >= buf && s.len <= len && (size_t)(s.ptr - buf) <= len - s.len;
}

static int same_list(const opes_params *a, const opes_params *b)
{
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        const opes_param *x = &a->item[i], *y = &b->item[i];
        if (x->has_value != y->has_value || x->keyword.len != y->keyword.len ||
            x->value.len != y->value.len ||
            memcmp(x->keyword.ptr, y->keyword.ptr, x->keyword.len) != 0 ||
            (x->value.len && memcmp(x->value.ptr, y->value.ptr, x->value.len) != 0))
            return 0;
    }
    return 1;
}

static void accessors_accept(const opes_params *p)
{
    uint64_t u64;
    int i;
    unsigned u;
    int64_t s64;
    opes_str a, b;
    opes_status st;

#define OK_OR_ABSENT(call)                                                                         \
    do {                                                                                           \
        st = (call);                                                                               \
        CHECK(st == OPES_OK || st == OPES_ENOTFOUND);                                              \
    } while (0)
    OK_OR_ABSENT(opes_params_size(p, &u64));
    OK_OR_ABSENT(opes_params_body(p, &i));
    OK_OR_ABSENT(opes_params_ret(p, &i));
    OK_OR_ABSENT(opes_params_envid(p, &a));
    OK_OR_ABSENT(opes_params_notify(p, &u));
    OK_OR_ABSENT(opes_params_orcpt(p, &a, &b));
    OK_OR_ABSENT(opes_params_smtputf8(p));
    OK_OR_ABSENT(opes_params_requiretls(p));
    OK_OR_ABSENT(opes_params_auth(p, &a));
    OK_OR_ABSENT(opes_params_mt_priority(p, &i));
    OK_OR_ABSENT(opes_params_by(p, &s64, &u));
    if (opes_params_mt_priority(p, &i) == OPES_OK)
        CHECK(i >= -9 && i <= 9);
    if (opes_params_by(p, &s64, &u) == OPES_OK)
        CHECK(s64 >= -999999999 && s64 <= 999999999 && !((u & OPES_BY_RETURN) && s64 <= 0));
    if (opes_params_notify(p, &u) == OPES_OK)
        CHECK(u != 0 && (!(u & OPES_NOTIFY_NEVER) || u == OPES_NOTIFY_NEVER));
#undef OK_OR_ABSENT
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_smtp_config *cfg = NULL;
    opes_params p, q;
    size_t off = 0, n = 0, n2 = 0, len;
    unsigned verb, offers;
    const char *buf;
    opes_status st;

    if (size < 4)
        return 0;
    verb = (data[0] & 1) ? OPES_PARAM_RCPT : OPES_PARAM_MAIL;
    offers = (unsigned)data[1] | ((unsigned)data[2] << 8);
    if (opes_smtp_config_init_in(&cfg_mem, sizeof cfg_mem, &cfg) != OPES_OK)
        __builtin_trap();
    CHECK(opes_smtp_config_set_lenient(cfg, (unsigned)(data[0] >> 2) & OPES_LENIENT_ALL) ==
          OPES_OK);
    CHECK(opes_smtp_config_set_utf8(cfg, (data[0] >> 1) & 1) == OPES_OK);
    CHECK(opes_smtp_config_set_limit(cfg, OPES_LIMIT_PARAMS, 1 + (size_t)data[3] % 64) == OPES_OK);
    CHECK(opes_smtp_config_add_extension(cfg, "X-TEST", 0, 0) == OPES_OK);
    CHECK(opes_smtp_config_add_param(cfg, "X-TEST", "X-OPES-BYPASS", OPES_PARAM_MAIL,
                                     OPES_VALUE_REQUIRED) == OPES_OK);
    CHECK(opes_smtp_config_add_param(cfg, "X-TEST", "X-ID", OPES_PARAM_MAIL | OPES_PARAM_RCPT,
                                     OPES_VALUE_OPTIONAL) == OPES_OK);
    CHECK(opes_smtp_config_add_param(cfg, "X-TEST", "X-NONE", OPES_PARAM_MAIL | OPES_PARAM_RCPT,
                                     OPES_VALUE_NONE) == OPES_OK);
    for (size_t i = 0; i < sizeof offer_names / sizeof offer_names[0]; i++) {
        if (offers & (1u << i))
            CHECK(opes_smtp_config_offer(cfg, offer_names[i], 1, NULL) == OPES_OK);
    }

    /* an exact-size copy, so reading past it faults under ASan */
    len = size - 4;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    if (len)
        memcpy(copy, data + 4, len);
    buf = copy;

    st = opes_params_parse(cfg, verb == OPES_PARAM_MAIL ? OPES_VERB_MAIL : OPES_VERB_RCPT, buf, len, &p, &off);
    CHECK(off <= len);
    CHECK(p.count <= OPES_MAX_PARAMS);
    for (size_t i = 0; i < p.count; i++) {
        CHECK(p.item[i].keyword.len > 0 && view_inside(p.item[i].keyword, buf, len));
        CHECK(view_inside(p.item[i].value, buf, len));
        CHECK(p.item[i].has_value ? p.item[i].value.len > 0 : p.item[i].value.len == 0);
    }
    if (st != OPES_OK) {
        CHECK(st < 0);
        free(copy);
        return 0;
    }
    CHECK(off == 0);
    accessors_accept(&p);

    /* build: the same bytes, with the leading SP */
    CHECK(opes_params_build(NULL, 0, &n, &p) == (p.count ? OPES_ENOSPC : OPES_OK));
    CHECK(n == (p.count ? len + 1 : 0));
    char *out = malloc(n ? n : 1);
    CHECK(out != NULL);
    CHECK(opes_params_build(out, n, &n2, &p) == OPES_OK);
    CHECK(n2 == n);
    for (size_t i = 0; i < n; i++)
        CHECK(out[i] != '\r' && out[i] != '\n' && out[i] != '\0');
    if (n) {
        CHECK(out[0] == ' ' && memcmp(out + 1, buf, len) == 0);
        /* and it parses back to the same list */
        st = opes_params_parse(cfg, verb == OPES_PARAM_MAIL ? OPES_VERB_MAIL : OPES_VERB_RCPT, out + 1, n - 1, &q, &off);
        CHECK(st == OPES_OK);
        CHECK(same_list(&p, &q));
        CHECK(q.notes == p.notes);
    }
    free(out);
    free(copy);
    return 0;
}
