/*
 * libFuzzer harness: the EHLO response parser, and the builder reading it
 * back.
 *
 * Input: [mode][limit] response...
 *   mode bit 0: OPES_LENIENT_BARE_LF   bit 1: OPES_LENIENT_8BIT
 *   mode bit 2: reply-line limit 16 + limit   bit 3: OPES_LIMIT_DOMAIN 1 + limit
 * Invariants: used <= len and agrees with opes_reply_parse(); views inside
 * the reply; every line's keyword is an ehlo-keyword found by
 * opes_ehlo_offers(); typed bits match the lines; an accepted response put
 * into a config and built again parses back to the same domain, greeting
 * and capability lines.
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

static void inside(opes_str v, const char *buf, size_t used)
{
    if (v.len)
        check(v.ptr >= buf && v.ptr + v.len <= buf + used);
}

/* NUL-terminated copy of a view (the config takes C strings). */
static char *cstr(opes_str v)
{
    char *s = malloc(v.len + 1);
    check(s != NULL);
    if (v.len)
        memcpy(s, v.ptr, v.len);
    s[v.len] = '\0';
    return s;
}

/* Put the capability lines into a fresh config, build, parse, compare. */
static void round_trip(const opes_smtp_config *pcfg, const opes_ehlo *e)
{
    opes_smtp_config *cfg = NULL;
    char *out;
    size_t need = 0, len = 0, used = 0, k = 0;
    opes_ehlo *e2;
    opes_status st;

    for (size_t i = 0; i < e->greeting.len; i++) {
        if (!OPES__IS(e->greeting.ptr[i], OPES__C_TEXT))
            return; /* 8-bit greeting (lenient parse): the builder is ASCII */
    }
    check(opes_smtp_config_new(&cfg, NULL) == OPES_OK);
    check(opes_smtp_config_copy(cfg, pcfg) == OPES_OK);
    /* lines that ended in a bare LF come back one octet longer (CRLF) */
    if (e->notes & OPES_NOTE_BARE_LF)
        check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE,
                                         opes_smtp_config_limit(pcfg, OPES_LIMIT_REPLY_LINE) + 1) ==
              OPES_OK);
    for (size_t i = 0; i < e->nlines; i++) {
        const opes_ehlo_line *l = &e->line[i];
        char *kw, *params;
        int ok = 1;
        if (l->flags & OPES_EHLO_LINE_AUTH_EQ)
            ok = 0; /* the builder writes the standard form only */
        for (size_t j = 0; ok && j < i; j++) {
            if (opes__ieq2(e->line[j].keyword.ptr, e->line[j].keyword.len, l->keyword.ptr,
                           l->keyword.len))
                ok = 0; /* a keyword twice: one table entry */
        }
        kw = cstr(l->keyword);
        params = cstr(l->params);
        if (ok) {
            st = opes_smtp_config_add_extension(cfg, kw, 0, 0);
            ok = st == OPES_OK || st == OPES_EEXIST;
        }
        if (ok)
            ok = opes_smtp_config_offer(cfg, kw, 1, params) == OPES_OK;
        free(kw);
        free(params);
        if (!ok) {
            opes_smtp_config_free(cfg);
            return; /* table or pool full, over-long params: not comparable */
        }
    }
    st = opes_ehlo_build(NULL, 0, &need, cfg, e->domain.ptr, e->domain.len, e->greeting.ptr,
                         e->greeting.len);
    check(st == OPES_ENOSPC);
    out = malloc(need);
    check(out != NULL);
    st = opes_ehlo_build(out, need, &len, cfg, e->domain.ptr, e->domain.len, e->greeting.ptr,
                         e->greeting.len);
    check(st == OPES_OK && len == need);
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '\r')
            check(i + 1 < len && out[i + 1] == '\n');
        if (out[i] == '\n')
            check(i > 0 && out[i - 1] == '\r');
    }
    e2 = malloc(sizeof *e2);
    check(e2 != NULL);
    check(opes_ehlo_parse(cfg, out, len, e2, &used) == OPES_OK && used == len);
    check(e2->domain.len == e->domain.len &&
          memcmp(e2->domain.ptr, e->domain.ptr, e->domain.len) == 0);
    check(
        e2->greeting.len == e->greeting.len &&
        (e->greeting.len == 0 || memcmp(e2->greeting.ptr, e->greeting.ptr, e->greeting.len) == 0));
    check(e2->nlines == e->nlines);
    check(e2->exts == e->exts && e2->has_size == e->has_size && e2->size == e->size);
    /* same lines, in the config's table order */
    for (size_t t = 0; t < opes_smtp_config_extension_count(cfg); t++) {
        const char *kw, *params;
        int on;
        check(opes_smtp_config_extension_at(cfg, t, &kw, &params, &on) == OPES_OK);
        if (!on)
            continue;
        check(k < e2->nlines);
        check(opes__ieq2(e2->line[k].keyword.ptr, e2->line[k].keyword.len, kw, strlen(kw)));
        check(e2->line[k].params.len == (params ? strlen(params) : 0));
        k++;
    }
    check(k == e2->nlines);
    for (size_t i = 0; i < e2->nlines; i++) {
        size_t idx;
        check(opes_ehlo_find(e, e2->line[i].keyword.ptr, e2->line[i].keyword.len, &idx) == OPES_OK);
        check(e->line[idx].params.len == e2->line[i].params.len);
        if (e2->line[i].params.len)
            check(memcmp(e->line[idx].params.ptr, e2->line[i].params.ptr, e2->line[i].params.len) ==
                  0);
    }
    free(e2);
    free(out);
    opes_smtp_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_smtp_config *cfg = NULL;
    opes_ehlo *e;
    opes_reply r;
    char *buf;
    size_t n, used = (size_t)-1, rused = (size_t)-1;
    unsigned mode, lenient = 0;
    opes_status st, rst;

    if (size < 2)
        return 0;
    mode = data[0];
    n = size - 2;
    check(opes_smtp_config_new(&cfg, NULL) == OPES_OK);
    if (mode & 1)
        lenient |= OPES_LENIENT_BARE_LF;
    if (mode & 2)
        lenient |= OPES_LENIENT_8BIT;
    check(opes_smtp_config_set_lenient(cfg, lenient) == OPES_OK);
    if (mode & 4)
        check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, 16 + (size_t)data[1]) ==
              OPES_OK);
    if (mode & 8)
        check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_DOMAIN, 1 + (size_t)data[1]) == OPES_OK);
    buf = malloc(n ? n : 1);
    e = malloc(sizeof *e);
    check(buf != NULL && e != NULL);
    if (n)
        memcpy(buf, data + 2, n);

    st = opes_ehlo_parse(cfg, n ? buf : NULL, n, e, &used);
    rst = opes_reply_parse(cfg, n ? buf : NULL, n, &r, &rused);
    check(used <= n);
    if (rst != OPES_OK) {
        /* a reply-level failure is the EHLO parser's too */
        check(st == rst && used == rused);
    } else {
        check(used == rused && e->code == r.code && e->span.len == used);
        if (r.code != 250)
            check(st == OPES_EBAD_EHLO);
    }
    if (st == OPES_OK) {
        uint64_t bits = 0;
        check(e->code == 250 && e->nlines <= OPES_EHLO_MAX_LINES);
        check(e->nlines + 1 == r.nlines);
        check(e->domain.len > 0);
        inside(e->domain, buf, used);
        inside(e->greeting, buf, used);
        inside(e->auth, buf, used);
        for (size_t i = 0; i < e->nlines; i++) {
            const opes_ehlo_line *l = &e->line[i];
            inside(l->keyword, buf, used);
            inside(l->params, buf, used);
            check(l->keyword.len > 0 && OPES__IS(l->keyword.ptr[0], OPES__C_ALPHA | OPES__C_DIGIT));
            for (size_t j = 0; j < l->keyword.len; j++)
                check(OPES__IS_LDH(l->keyword.ptr[j]));
            for (size_t j = 0; j < l->params.len; j++)
                check(OPES__IS(l->params.ptr[j], OPES__C_VCHAR) || l->params.ptr[j] == ' ');
            check(opes_ehlo_offers(e, l->keyword.ptr, l->keyword.len));
            check(l->ext == opes_ehlo_ext_lookup(l->keyword.ptr, l->keyword.len));
            if (l->ext >= 0)
                bits |= UINT64_C(1) << l->ext;
        }
        check(bits == e->exts);
        if (e->has_size)
            check(opes_ehlo_has(e, OPES_EHLO_SIZE));
        if (e->auth.len)
            check(opes_ehlo_has(e, OPES_EHLO_AUTH));
        round_trip(cfg, e);
    }
    free(e);
    free(buf);
    opes_smtp_config_free(cfg);
    return 0;
}
