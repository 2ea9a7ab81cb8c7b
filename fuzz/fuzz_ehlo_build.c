/*
 * libFuzzer harness: opes_ehlo_build() round trip.
 *
 * Input: [m0][m1] which built-in extensions to offer (bit i: the i-th of the
 *        config table), [lmode] limits, then length-prefixed fields:
 *        domain, greeting, SIZE params, AUTH params, and up to 8 pairs of
 *        (keyword, params) for extensions of the caller's.
 *   lmode bit 0..1: reply-line limit 512, 40, 64 + m0, 20
 *   lmode bit 2: reply-lines limit 1 + m1 % 8
 * Invariants: size query and write agree; EINJECT exactly when the domain
 * or greeting holds CR, LF or NUL; accepted output has no bare CR or LF,
 * each line within the limit, and parses back (opes_ehlo_parse()) to the
 * domain, the greeting and the offered extensions in table order with their
 * parameters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

/* Next length-prefixed field of data[*off..size). */
static opes_str field(const uint8_t *data, size_t size, size_t *off)
{
    opes_str s = {NULL, 0};
    size_t l;
    if (*off >= size)
        return s;
    l = data[(*off)++];
    if (l > size - *off)
        l = size - *off;
    s.ptr = (const char *)data + *off;
    s.len = l;
    *off += l;
    return s;
}

/* NUL-terminated copy (a NUL inside ends it early, as a C caller's would). */
static char *cstr(opes_str v)
{
    char *s = malloc(v.len + 1);
    check(s != NULL);
    if (v.len)
        memcpy(s, v.ptr, v.len);
    s[v.len] = '\0';
    return s;
}

static int has_inject(opes_str v)
{
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == '\r' || v.ptr[i] == '\n' || v.ptr[i] == '\0')
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t line_limits[4] = {512, 40, 64, 20};
    opes_smtp_config *cfg = NULL;
    opes_str domain, greeting, size_p, auth_p;
    size_t off = 3, need = 0, len = 0, used = 0, limit, k = 0, n_ext;
    unsigned mask;
    char *out;
    opes_ehlo *e;
    opes_status st;

    if (size < 3)
        return 0;
    mask = (unsigned)data[0] | (unsigned)data[1] << 8;
    check(opes_smtp_config_new(&cfg, NULL) == OPES_OK);
    limit = line_limits[data[2] & 3];
    if ((data[2] & 3) == 2)
        limit += data[0];
    check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, limit) == OPES_OK);
    if (data[2] & 4)
        check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINES, 1 + data[1] % 8u) == OPES_OK);
    domain = field(data, size, &off);
    greeting = field(data, size, &off);
    size_p = field(data, size, &off);
    auth_p = field(data, size, &off);

    n_ext = opes_smtp_config_extension_count(cfg);
    for (size_t i = 0; i < n_ext && i < 16; i++) {
        const char *kw;
        char *params = NULL;
        if (!(mask & (1u << i)))
            continue;
        check(opes_smtp_config_extension_at(cfg, i, &kw, NULL, NULL) == OPES_OK);
        if (strcmp(kw, "SIZE") == 0)
            params = cstr(size_p);
        else if (strcmp(kw, "AUTH") == 0)
            params = cstr(auth_p);
        /* may be refused (bad parameter syntax): then it stays withdrawn */
        (void)opes_smtp_config_offer(cfg, kw, 1, params);
        free(params);
    }
    for (int c = 0; c < 8 && off < size; c++) {
        char *kw = cstr(field(data, size, &off));
        char *params = cstr(field(data, size, &off));
        if (opes_smtp_config_add_extension(cfg, kw, 0, 0) == OPES_OK)
            (void)opes_smtp_config_offer(cfg, kw, 1, params[0] ? params : NULL);
        free(kw);
        free(params);
    }

    st = opes_ehlo_build(NULL, 0, &need, cfg, domain.ptr, domain.len, greeting.ptr, greeting.len);
    check(st != OPES_OK);
    check((st == OPES_EINJECT) == (has_inject(domain) || has_inject(greeting)));
    if (st != OPES_ENOSPC) {
        opes_smtp_config_free(cfg);
        return 0;
    }
    out = malloc(need);
    e = malloc(sizeof *e);
    check(out != NULL && e != NULL);
    check(opes_ehlo_build(out, need - 1, &len, cfg, domain.ptr, domain.len, greeting.ptr,
                          greeting.len) == OPES_ENOSPC &&
          len == need);
    check(opes_ehlo_build(out, need, &len, cfg, domain.ptr, domain.len, greeting.ptr,
                          greeting.len) == OPES_OK &&
          len == need);
    for (size_t i = 0, start = 0; i < len; i++) {
        if (out[i] == '\r')
            check(i + 1 < len && out[i + 1] == '\n');
        if (out[i] == '\n') {
            check(i > 0 && out[i - 1] == '\r');
            check(i + 1 - start <= limit);
            start = i + 1;
        }
    }
    check(opes_ehlo_parse(cfg, out, len, e, &used) == OPES_OK && used == len);
    check(e->domain.len == domain.len && memcmp(e->domain.ptr, domain.ptr, domain.len) == 0);
    check(e->greeting.len == greeting.len &&
          (greeting.len == 0 || memcmp(e->greeting.ptr, greeting.ptr, greeting.len) == 0));
    n_ext = opes_smtp_config_extension_count(cfg);
    for (size_t i = 0; i < n_ext; i++) {
        const char *kw, *params;
        int on;
        size_t pl;
        check(opes_smtp_config_extension_at(cfg, i, &kw, &params, &on) == OPES_OK);
        if (!on)
            continue;
        pl = params ? strlen(params) : 0;
        check(k < e->nlines);
        check(e->line[k].keyword.len == strlen(kw) &&
              memcmp(e->line[k].keyword.ptr, kw, strlen(kw)) == 0);
        check(e->line[k].params.len == pl &&
              (pl == 0 || memcmp(e->line[k].params.ptr, params, pl) == 0));
        check(opes_ehlo_offers(e, kw, strlen(kw)));
        k++;
    }
    check(k == e->nlines);
    free(e);
    free(out);
    opes_smtp_config_free(cfg);
    return 0;
}
