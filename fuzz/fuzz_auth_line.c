/*
 * libFuzzer harness: opes_auth_line_parse() and opes_line_skip() over a
 * stream of AUTH exchange lines (RFC 4954 4).
 *
 * Leading byte: bit 0 OPES_LENIENT_BARE_LF; bits 1-2 the AUTH line limit
 * (default 12288, 8, 100, 1000); bits 3-5 chunk size for the split pass
 * (1 + value * 5); bit 6 remap the input onto base64 characters, "*", "=",
 * CR and LF.
 * Invariants: used <= len; OPES_INCOMPLETE consumes nothing, everything
 * else consumes something (but a lone CR of an over-long line); an OK line
 * is "*" (cancel, 501) or strict base64 (alphabet, final "=" padding,
 * length a multiple of 4) inside the line; the same events whole or split.
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

static union {
    long double ld;
    void *p;
    unsigned char b[65536];
} cfg_mem;

struct ev {
    int st, cancel;
    size_t line_len, resp_len;
};

#define MAXEV 4096

static int b64char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

static void check_ok(const opes_auth_line *a, const char *b, size_t used)
{
    const char *r = a->response.ptr;
    size_t n = a->response.len, i = 0, pad = 0;
    CHECK(a->line_len == used);
    CHECK(n + 1 <= used);
    CHECK(n == 0 || (r >= b && r + n <= b + used));
    if (a->cancel) {
        CHECK(n == 1 && r[0] == '*' && a->reply_code == 501);
        return;
    }
    CHECK(a->reply_code == 0);
    CHECK(n % 4 == 0);
    while (i < n && b64char(r[i]))
        i++;
    while (i < n && r[i] == '=') {
        i++;
        pad++;
    }
    CHECK(i == n && pad <= 2);
}

static size_t run(const opes_smtp_config *cfg, const char *buf, size_t n, size_t chunk,
                  struct ev *log)
{
    static opes_auth_line a;
    size_t have = chunk ? 0 : n, start = 0, nev = 0;
    int skipping = 0;
    for (;;) {
        for (;;) {
            size_t used = 0, len = have - start;
            opes_status st;
            char *t = malloc(len ? len : 1);
            CHECK(t != NULL);
            memcpy(t, buf + start, len);
            if (skipping) {
                st = opes_line_skip(cfg, t, len, &used);
                free(t);
                CHECK(used <= len);
                start += used;
                if (st == OPES_OK) {
                    skipping = 0;
                    continue;
                }
                CHECK(st == OPES_INCOMPLETE);
                break;
            }
            st = opes_auth_line_parse(cfg, t, len, &a, &used);
            CHECK(used <= len);
            if (st == OPES_INCOMPLETE) {
                free(t);
                CHECK(used == 0);
                break;
            }
            if (st == OPES_OK)
                check_ok(&a, t, used);
            else
                CHECK(a.reply_code >= 500 && a.enhanced != NULL);
            free(t);
            if (nev < MAXEV) {
                log[nev].st = st;
                log[nev].cancel = a.cancel;
                log[nev].line_len = st == OPES_EAUTH_LINE_TOO_LONG ? 0 : a.line_len;
                log[nev].resp_len = a.response.len;
            }
            nev++;
            start += used;
            if (st == OPES_EAUTH_LINE_TOO_LONG && a.line_len == 0)
                skipping = 1;
            else
                CHECK(used > 0);
        }
        if (have == n)
            break;
        have = have + chunk < n ? have + chunk : n;
    }
    return nev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ev x[MAXEV], y[MAXEV];
    static const size_t lim[4] = {0, 8, 100, 1000};
    static const char alpha[] = "ABCDabcd0189+/=*\r\n QUJD";
    opes_smtp_config *cfg = NULL;
    size_t n, nx, ny;
    char *buf;
    if (size < 1)
        return 0;
    CHECK(opes_smtp_config_init_in(cfg_mem.b, sizeof cfg_mem.b, &cfg) == OPES_OK);
    opes_smtp_config_set_lenient(cfg, (data[0] & 1) ? OPES_LENIENT_BARE_LF : 0);
    if ((data[0] >> 1) & 3)
        opes_smtp_config_set_limit(cfg, OPES_LIMIT_AUTH_LINE, lim[(data[0] >> 1) & 3]);
    n = size - 1;
    buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = (data[0] & 64) ? alpha[data[1 + i] % (sizeof alpha - 1)] : (char)data[1 + i];
    nx = run(cfg, buf, n, 0, x);
    ny = run(cfg, buf, n, 1 + (size_t)((data[0] >> 3) & 7) * 5, y);
    CHECK(nx == ny);
    for (size_t i = 0; i < nx && i < MAXEV; i++) {
        CHECK(x[i].st == y[i].st && x[i].cancel == y[i].cancel);
        CHECK(x[i].line_len == y[i].line_len && x[i].resp_len == y[i].resp_len);
    }
    free(buf);
    return 0;
}
