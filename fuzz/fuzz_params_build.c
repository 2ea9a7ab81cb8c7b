/*
 * libFuzzer harness: opes_params_build, from fuzzer-made items.
 *
 * Input: byte 0 = mode (bit 0: parse back as RCPT instead of MAIL), then
 * items until the input ends (at most OPES_MAX_PARAMS): a keyword byte k
 * (k >= 0xC0: the built-in keyword builtin_kw[k % n]; else k % 41 bytes of
 * keyword follow), a flag byte (bit 0: has_value; bit 1: give the value
 * without has_value), a length byte v, then v bytes of value.
 *
 * Invariants: size query and write agree and the write stays inside cap;
 * the output holds no CR, LF or NUL; an item with CR/LF/NUL is always
 * refused with OPES_EINJECT; on OPES_OK the output parses back, under a
 * config that offers every parameter for the verb, has SMTPUTF8 in effect
 * and is fully lenient, to the same list.
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

static const char *const builtin_kw[] = {"SIZE",     "BODY",       "RET",  "ENVID",
                                         "NOTIFY",   "ORCPT",      "AUTH", "MT-PRIORITY",
                                         "SMTPUTF8", "REQUIRETLS", "BY",   "X-OPES-BYPASS"};
static const char *const offer_names[] = {"SIZE",      "8BITMIME", "BINARYMIME", "CHUNKING",
                                          "DSN",       "SMTPUTF8", "REQUIRETLS", "MT-PRIORITY",
                                          "DELIVERBY", "AUTH"};

static union {
    max_align_t align;
    unsigned char mem[16384];
} cfg_mem;

static int has_crlfnul(opes_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '\r' || s.ptr[i] == '\n' || s.ptr[i] == '\0')
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_params p, q;
    opes_smtp_config *cfg = NULL;
    size_t i = 1, n = 0, n2 = 0, off = 0;
    unsigned verb;
    int inject = 0;
    opes_status st;

    if (size < 1)
        return 0;
    verb = (data[0] & 1) ? OPES_PARAM_RCPT : OPES_PARAM_MAIL;
    memset(&p, 0, sizeof p);
    while (i < size && p.count < OPES_MAX_PARAMS) {
        opes_param *it = &p.item[p.count];
        unsigned k = data[i++];
        if (k >= 0xC0) {
            const char *kw = builtin_kw[k % (sizeof builtin_kw / sizeof builtin_kw[0])];
            it->keyword.ptr = kw;
            it->keyword.len = strlen(kw);
        } else {
            size_t kl = k % 41;
            if (kl > size - i)
                kl = size - i;
            it->keyword.ptr = (const char *)data + i;
            it->keyword.len = kl;
            i += kl;
        }
        if (i >= size) {
            p.count++;
            break;
        }
        unsigned flags = data[i++];
        size_t vl = i < size ? data[i++] : 0;
        if (vl > size - i)
            vl = size - i;
        it->has_value = (flags & 1) != 0;
        if (it->has_value || (flags & 2)) {
            it->value.ptr = (const char *)data + i;
            it->value.len = vl;
        }
        i += vl;
        if (has_crlfnul(it->keyword) || has_crlfnul(it->value))
            inject = 1;
        p.count++;
    }

    /* the size query and the write run the same code */
    st = opes_params_build(NULL, 0, &n, &p);
    if (inject)
        CHECK(st == OPES_EINJECT);
    if (st != OPES_OK && st != OPES_ENOSPC)
        return 0;
    char *out = malloc(n + 1);
    CHECK(out != NULL);
    out[n] = '#';
    st = opes_params_build(out, n, &n2, &p);
    CHECK(st == OPES_OK && n2 == n && out[n] == '#');
    if (n > 1) {
        char small[8];
        CHECK(opes_params_build(small, n - 1 < 8 ? n - 1 : 8, &n2, &p) == OPES_ENOSPC && n2 == n);
    }
    for (size_t j = 0; j < n; j++)
        CHECK(out[j] != '\r' && out[j] != '\n' && out[j] != '\0');
    CHECK(p.count == 0 ? n == 0 : out[0] == ' ');

    /* parse back: every keyword offered for this verb */
    if (opes_smtp_config_init_in(&cfg_mem, sizeof cfg_mem, &cfg) != OPES_OK)
        __builtin_trap();
    CHECK(opes_smtp_config_set_lenient(cfg, OPES_LENIENT_ALL) == OPES_OK);
    CHECK(opes_smtp_config_set_utf8(cfg, 1) == OPES_OK);
    CHECK(opes_smtp_config_set_limit(cfg, OPES_LIMIT_PARAMS, OPES_MAX_PARAMS) == OPES_OK);
    for (size_t j = 0; j < sizeof offer_names / sizeof offer_names[0]; j++)
        CHECK(opes_smtp_config_offer(cfg, offer_names[j], 1, NULL) == OPES_OK);
    CHECK(opes_smtp_config_add_extension(cfg, "X-FUZZ", 0, 0) == OPES_OK);
    CHECK(opes_smtp_config_offer(cfg, "X-FUZZ", 1, NULL) == OPES_OK);
    int registered = 1;
    for (size_t j = 0; j < p.count; j++) {
        char kw[72];
        const opes_param *it = &p.item[j];
        if (opes_smtp_config_find_param(cfg, verb, it->keyword.ptr, it->keyword.len, NULL, NULL) ==
            OPES_OK)
            continue;
        if (it->keyword.len >= sizeof kw) {
            registered = 0;
            break;
        }
        memcpy(kw, it->keyword.ptr, it->keyword.len);
        kw[it->keyword.len] = '\0';
        if (opes_smtp_config_add_param(cfg, "X-FUZZ", kw, verb, OPES_VALUE_OPTIONAL) != OPES_OK) {
            registered = 0; /* the config's table is full */
            break;
        }
    }
    if (registered && n > 0) {
        st = opes_params_parse(cfg, verb == OPES_PARAM_MAIL ? OPES_VERB_MAIL : OPES_VERB_RCPT, out + 1, n - 1, &q, &off);
        CHECK(st == OPES_OK);
        CHECK(q.count == p.count);
        for (size_t j = 0; j < p.count; j++) {
            const opes_param *x = &p.item[j], *y = &q.item[j];
            CHECK(x->has_value == y->has_value);
            CHECK(x->keyword.len == y->keyword.len &&
                  memcmp(x->keyword.ptr, y->keyword.ptr, x->keyword.len) == 0);
            CHECK(x->value.len == y->value.len &&
                  (x->value.len == 0 || memcmp(x->value.ptr, y->value.ptr, x->value.len) == 0));
        }
    }
    free(out);
    return 0;
}
