/*
 * libFuzzer harness for opes_path_parse / opes_mailbox_parse /
 * opes_path_build / opes_path_unquote / opes_address_literal_check.
 *
 * Byte 0 picks the mode: bit 0 FORWARD, bit 1 utf8, bits 2-7 the
 * OPES_LENIENT_* bits. The rest is the path text.
 * Invariants: used <= len; a parsed path rebuilt with opes_path_build() from
 * its unquoted local-part and domain parses again to the same kind, domain
 * and unquoted local-part; the builder never writes CR, LF or NUL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_smtp_config *cfg = NULL, *cfg2 = NULL;
    opes_path p, q;
    size_t used = 0, len, un_len = 0, out_len = 0, un2_len = 0;
    unsigned notes = 0;
    const char *buf;
    char *un = NULL, *out = NULL, *un2 = NULL;
    int mode, utf8;
    opes_status st;

    if (size < 1)
        return 0;
    mode = (data[0] & 1) ? OPES_PATH_FORWARD : OPES_PATH_REVERSE;
    utf8 = (data[0] >> 1) & 1;
    buf = (const char *)data + 1;
    len = size - 1;
    if (opes_smtp_config_new(&cfg, NULL) != OPES_OK)
        abort();
    opes_smtp_config_set_lenient(cfg, ((unsigned)data[0] >> 2) & OPES_LENIENT_ALL);
    /* the second parse accepts whatever length the rebuilt path has */
    if (opes_smtp_config_new(&cfg2, NULL) != OPES_OK)
        abort();
    opes_smtp_config_set_lenient(cfg2, OPES_LENIENT_LONG_ADDRESS);

    {
        int kind = -1;
        if (opes_address_literal_check(buf, len, &kind) == OPES_OK && kind != OPES_DOMAIN_IPV4 &&
            kind != OPES_DOMAIN_IPV6 && kind != OPES_DOMAIN_GENERAL)
            __builtin_trap();
    }
    st = opes_mailbox_parse(cfg, utf8, buf, len, &p, &notes);
    if (st == OPES_OK && (p.kind != OPES_PATH_MAILBOX || p.mailbox.len != len))
        __builtin_trap();

    st = opes_path_parse(cfg, mode, utf8, buf, len, &p, &used, &notes);
    if (used > len)
        __builtin_trap();
    if (st != OPES_OK)
        goto done;
    if (p.mailbox.len > used || p.local_part.len > used || p.domain.len > used)
        __builtin_trap();

    /* unquote, rebuild, parse again */
    un = malloc(p.local_part.len + 1);
    if (!un)
        abort();
    if (opes_path_unquote(un, p.local_part.len + 1, &un_len, p.local_part.ptr, p.local_part.len) !=
        OPES_OK)
        __builtin_trap();
    st = opes_path_build(NULL, 0, &out_len, un, un_len, p.domain.ptr, p.domain.len);
    if (st != OPES_ENOSPC)
        __builtin_trap();
    out = malloc(out_len);
    if (!out)
        abort();
    {
        size_t n2 = 0;
        if (opes_path_build(out, out_len, &n2, un, un_len, p.domain.ptr, p.domain.len) != OPES_OK ||
            n2 != out_len)
            __builtin_trap();
    }
    for (size_t i = 0; i < out_len; i++) {
        if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0')
            __builtin_trap();
    }
    st = opes_path_parse(cfg2, mode, 1, out, out_len, &q, &used, NULL);
    if (st != OPES_OK || used != out_len || q.kind != p.kind || q.domain_kind != p.domain_kind)
        __builtin_trap();
    if (q.domain.len != p.domain.len ||
        (q.domain.len && memcmp(q.domain.ptr, p.domain.ptr, q.domain.len) != 0))
        __builtin_trap();
    if (q.route.len != 0)
        __builtin_trap();
    un2 = malloc(q.local_part.len + 1);
    if (!un2)
        abort();
    if (opes_path_unquote(un2, q.local_part.len + 1, &un2_len, q.local_part.ptr,
                          q.local_part.len) != OPES_OK)
        __builtin_trap();
    if (un2_len != un_len || (un_len && memcmp(un, un2, un_len) != 0))
        __builtin_trap();

done:
    free(un);
    free(un2);
    free(out);
    opes_smtp_config_free(cfg);
    opes_smtp_config_free(cfg2);
    return 0;
}
