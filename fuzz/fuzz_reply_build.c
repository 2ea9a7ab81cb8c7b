/*
 * libFuzzer harness: opes_reply_build() round trip.
 *
 * Input: [c0][c1][emode][limit] [esc: len bytes, if emode % 4 == 2]
 *        then up to 64 texts, each a length byte and that many bytes.
 *   code: 200 + ((c0 & 0x7f) << 8 | c1) % 400, or c1 * 3 - 100 when c0 has
 *         its top bit (to reach invalid codes)
 *   emode % 4: 0 no enhanced code, 1 one made of the class and two input
 *         numbers, 2 raw input bytes, 3 ""
 *   limit: 0 default, < 200: 6 + limit, else 512 + limit * 300 (past the
 *         ceiling sometimes)
 * Invariants: the size query and the write agree; EINJECT exactly when a
 * text holds CR, LF or NUL or the code CR or LF; accepted output has no
 * bare CR or LF, every line within the limit, and parses back to the same
 * code, the enhanced code on every line, and texts that re-join (at the
 * spaces the wrap dropped) into the input texts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TEXTS 64

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

/* Build into an exact-size block; check the size query agrees. */
static opes_status build(char **out, size_t *len, int code, const char *esc, const opes_str *texts,
                         size_t n, size_t limit)
{
    size_t need = 0, l2 = 0;
    opes_status st = opes_reply_build(NULL, 0, &need, code, esc, n ? texts : NULL, n, limit);
    *out = NULL;
    *len = 0;
    if (st != OPES_ENOSPC) {
        check(st != OPES_OK); /* a reply is never empty */
        return st;
    }
    *out = malloc(need);
    check(*out != NULL);
    /* one octet short: ENOSPC with the same size */
    check(opes_reply_build(*out, need - 1, &l2, code, esc, n ? texts : NULL, n, limit) ==
              OPES_ENOSPC &&
          l2 == need);
    st = opes_reply_build(*out, need, len, code, esc, n ? texts : NULL, n, limit);
    check(st == OPES_OK && *len == need);
    return st;
}

/* Parse out[0..len) back; append each line's text after the enhanced code
 * to pieces[]. Returns the number of lines. */
static size_t read_back(const opes_smtp_config *cfg, const char *out, size_t len, int code,
                        const char *esc, size_t esc_len, size_t limit, opes_str *pieces, size_t cap)
{
    opes_reply r;
    opes_reply_line l;
    size_t used = 0, pos = 0, k = 0;
    /* no bare CR or LF */
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '\r')
            check(i + 1 < len && out[i + 1] == '\n');
        if (out[i] == '\n')
            check(i > 0 && out[i - 1] == '\r');
    }
    check(opes_reply_parse(cfg, out, len, &r, &used) == OPES_OK && used == len);
    check(r.code == code);
    while (opes_reply_next_line(&r, &pos, &l) == OPES_OK) {
        opes_str t = l.text;
        check(l.line_len <= limit);
        check(l.is_last == (pos == len));
        if (esc_len) {
            check(t.len >= esc_len && memcmp(t.ptr, esc, esc_len) == 0);
            check(l.enhanced.len == esc_len);
            check(t.len == esc_len || t.ptr[esc_len] == ' ');
            t.ptr += t.len == esc_len ? esc_len : esc_len + 1;
            t.len -= t.len == esc_len ? esc_len : esc_len + 1;
        }
        check(k < cap);
        pieces[k++] = t;
    }
    check(k == r.nlines);
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_str texts[MAX_TEXTS];
    char escbuf[32];
    const char *esc = NULL;
    size_t n = 0, limit, off = 4, esc_len = 0, eff_limit;
    int code, inject = 0;
    opes_smtp_config *cfg = NULL;
    char *out = NULL;
    size_t len = 0;
    opes_status st;

    if (size < 4)
        return 0;
    if (data[0] & 0x80)
        code = (int)data[1] * 3 - 100;
    else
        code = 200 + (int)((((unsigned)data[0] & 0x7f) << 8 | data[1]) % 400u);
    limit = data[3] == 0 ? 0 : data[3] < 200 ? 6 + (size_t)data[3] : 512 + (size_t)data[3] * 300;
    switch (data[2] % 4) {
    case 1: {
        /* class from the code, subject and detail from the input */
        unsigned s = off < size ? data[off++] : 0, d = off < size ? data[off++] : 0;
        int k = 0;
        escbuf[k++] = (char)('0' + (code / 100 % 10 + 10) % 10);
        escbuf[k++] = '.';
        if (s >= 100)
            escbuf[k++] = (char)('0' + s / 100);
        if (s >= 10)
            escbuf[k++] = (char)('0' + s / 10 % 10);
        escbuf[k++] = (char)('0' + s % 10);
        escbuf[k++] = '.';
        if (d >= 100)
            escbuf[k++] = (char)('0' + d / 100);
        if (d >= 10)
            escbuf[k++] = (char)('0' + d / 10 % 10);
        escbuf[k++] = (char)('0' + d % 10);
        escbuf[k] = '\0';
        esc = escbuf;
        break;
    }
    case 2: {
        size_t el = off < size ? data[off++] % 16u : 0;
        size_t k = 0;
        for (; k < el && off < size; k++)
            escbuf[k] = (char)data[off++];
        escbuf[k] = '\0'; /* a NUL inside ends the C string early */
        esc = escbuf;
        break;
    }
    case 3:
        esc = "";
        break;
    default:
        break;
    }
    if (esc) {
        esc_len = strlen(esc);
        for (size_t i = 0; i < esc_len; i++)
            inject |= esc[i] == '\r' || esc[i] == '\n';
    }
    while (off < size && n < MAX_TEXTS) {
        size_t tl = data[off++];
        if (tl > size - off)
            tl = size - off;
        texts[n].ptr = (const char *)data + off;
        texts[n].len = tl;
        for (size_t i = 0; i < tl; i++)
            inject |= data[off + i] == '\r' || data[off + i] == '\n' || data[off + i] == '\0';
        off += tl;
        n++;
    }

    st = build(&out, &len, code, esc, texts, n, limit);
    if (code >= 200 && code <= 599 && code / 10 % 10 <= 5 && limit <= OPES_MAX_REPLY_LINE)
        check((st == OPES_EINJECT) == (inject != 0));
    if (st != OPES_OK) {
        free(out);
        return 0;
    }
    eff_limit = limit ? limit : 512;
    check(opes_smtp_config_new(&cfg, NULL) == OPES_OK);
    check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINE, eff_limit) == OPES_OK);
    check(opes_smtp_config_set_limit(cfg, OPES_LIMIT_REPLY_LINES, OPES_MAX_REPLY_LINES) == OPES_OK);
    {
        static opes_str all[OPES_MAX_REPLY_LINES + 1];
        size_t total =
            read_back(cfg, out, len, code, esc, esc_len, eff_limit, all, OPES_MAX_REPLY_LINES + 1);
        size_t at = 0;
        /* each text alone: its pieces re-join into it, and they are the
         * next pieces of the whole reply */
        for (size_t j = 0; j < (n ? n : 1); j++) {
            static opes_str one[OPES_MAX_REPLY_LINES + 1];
            char *o1;
            size_t l1, c1, joined = 0;
            opes_str t = n ? texts[j] : (opes_str){NULL, 0};
            check(build(&o1, &l1, code, esc, n ? &texts[j] : NULL, n ? 1 : 0, limit) == OPES_OK);
            c1 = read_back(cfg, o1, l1, code, esc, esc_len, eff_limit, one,
                           OPES_MAX_REPLY_LINES + 1);
            for (size_t i = 0; i < c1; i++) {
                check(at + i < total);
                check(all[at + i].len == one[i].len &&
                      (one[i].len == 0 || memcmp(all[at + i].ptr, one[i].ptr, one[i].len) == 0));
                if (i > 0) {
                    check(joined < t.len && t.ptr[joined] == ' ');
                    joined++;
                }
                check(joined + one[i].len <= t.len);
                if (one[i].len)
                    check(memcmp(t.ptr + joined, one[i].ptr, one[i].len) == 0);
                joined += one[i].len;
            }
            check(joined == t.len);
            at += c1;
            free(o1);
        }
        check(at == total);
    }
    opes_smtp_config_free(cfg);
    free(out);
    return 0;
}
