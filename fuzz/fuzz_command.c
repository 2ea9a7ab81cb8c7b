/*
 * libFuzzer harness: opes_command_parse() and opes_line_skip() over a
 * pipelined stream of command lines.
 *
 * Leading bytes pick the context:
 *   [0] lenient bits (OPES_LENIENT_*)
 *   [1],[2] extensions offered (bit i of the 16: ext[i] below)
 *   [3] bit 0: SMTPUTF8 in effect; bits 1-2: command-line limit (default,
 *       64, 600, 2000); bit 3: AUTH line limit 100; bit 4: remap the input
 *       onto an SMTP-rich alphabet (smtp-proto's trick); bits 5-7: chunk
 *       size for the split pass (1 + value * 3)
 * Invariants (trap on violation):
 *   - used <= len; OPES_INCOMPLETE consumes nothing; every other result
 *     consumes something, unless a trailing CR of an over-long partial line
 *     is all that is left;
 *   - the same events (status, verb, line length of complete lines) whether
 *     the input arrives whole or in chunks;
 *   - a reply code and enhanced code with every error, none with OK;
 *   - views lie inside the line;
 *   - MAIL/RCPT rebuilt with opes_mail_rcpt_build() and any other verb with
 *     opes_command_build() parse back to the same command.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

static const char *const ext[16] = {"SIZE",
                                    "8BITMIME",
                                    "BINARYMIME",
                                    "PIPELINING",
                                    "CHUNKING",
                                    "DSN",
                                    "SMTPUTF8",
                                    "STARTTLS",
                                    "AUTH",
                                    "REQUIRETLS",
                                    "MT-PRIORITY",
                                    "DELIVERBY",
                                    "ENHANCEDSTATUSCODES",
                                    "X-FUZZ",
                                    "SIZE",
                                    "DSN"};

static union {
    long double ld;
    void *p;
    unsigned char b[65536];
} cfg_mem;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static opes_smtp_config *make_cfg(const uint8_t *h)
{
    opes_smtp_config *cfg = NULL;
    unsigned offer = (unsigned)h[1] | (unsigned)h[2] << 8;
    static const size_t lim[4] = {0, 64, 600, 2000};
    CHECK(opes_smtp_config_sizeof() <= sizeof cfg_mem.b);
    CHECK(opes_smtp_config_init_in(cfg_mem.b, sizeof cfg_mem.b, &cfg) == OPES_OK);
    opes_smtp_config_set_lenient(cfg, h[0] & OPES_LENIENT_ALL);
    opes_smtp_config_add_extension(cfg, "X-FUZZ", 0, 0);
    opes_smtp_config_add_param(cfg, "X-FUZZ", "X-FUZZ", OPES_PARAM_MAIL | OPES_PARAM_RCPT,
                               OPES_VALUE_OPTIONAL);
    for (int i = 0; i < 16; i++)
        if (offer & (1u << i))
            opes_smtp_config_offer(cfg, ext[i], 1, NULL);
    opes_smtp_config_set_utf8(cfg, h[3] & 1);
    if ((h[3] >> 1) & 3)
        opes_smtp_config_set_limit(cfg, OPES_LIMIT_COMMAND_LINE, lim[(h[3] >> 1) & 3]);
    if (h[3] & 8)
        opes_smtp_config_set_limit(cfg, OPES_LIMIT_AUTH_LINE, 100);
    return cfg;
}

struct ev {
    int st, verb;
    size_t line_len;
};

#define MAXEV 4096

static int in_line(opes_str s, const char *line, size_t n)
{
    if (s.len == 0)
        return 1;
    return s.ptr >= line && s.ptr + s.len <= line + n;
}

/* Unquote a local-part into buf; returns its length or (size_t)-1. */
static size_t unquote(opes_str l, char *buf, size_t cap)
{
    size_t n = 0;
    if (opes_path_unquote(buf, cap, &n, l.ptr, l.len) != OPES_OK)
        return (size_t)-1;
    return n;
}

static int str_eq(opes_str a, opes_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void rebuild(const opes_smtp_config *cfg, const opes_command *c)
{
    static char out[70000];
    static char l1[8192], l2[8192];
    static opes_command c2;
    size_t n = 0, used = 0, k1, k2;
    opes_status st;

    if (c->verb == OPES_VERB_MAIL || c->verb == OPES_VERB_RCPT) {
        const char *local = NULL, *dom = c->path.domain.ptr;
        size_t ll = 0;
        if (c->path.kind == OPES_PATH_MAILBOX) {
            k1 = unquote(c->path.local_part, l1, sizeof l1);
            CHECK(k1 != (size_t)-1);
            local = l1;
            ll = k1;
        } else if (c->path.kind == OPES_PATH_POSTMASTER) {
            local = c->path.mailbox.ptr;
            ll = c->path.mailbox.len;
        }
        st = opes_mail_rcpt_build(out, sizeof out, &n, cfg, c->verb, local, ll, dom,
                                  c->path.domain.len, &c->params);
        if (st == OPES_ELINE_TOO_LONG && (c->path.flags & OPES_PATH_F_NO_BRACKETS))
            return; /* the brackets added two octets */
        CHECK(st != OPES_ELINE_TOO_LONG); /* the parser's limit, the builder's too */
        if (st != OPES_OK) {
            /* lenient acceptances may not be writable */
            CHECK(opes_smtp_config_lenient(cfg) != 0);
            return;
        }
        CHECK(n >= 2 && out[n - 2] == '\r' && out[n - 1] == '\n');
        for (size_t i = 0; i + 2 < n; i++)
            CHECK(out[i] != '\r' && out[i] != '\n' && out[i] != '\0');
        st = opes_command_parse(cfg, out, n, &c2, &used);
        if (st == OPES_ELINE_TOO_LONG && (c->path.flags & OPES_PATH_F_NO_BRACKETS))
            return; /* the brackets added two octets */
        CHECK(st == OPES_OK);
        CHECK(used == n);
        CHECK(c2.verb == c->verb);
        CHECK(c2.path.kind == c->path.kind);
        if (c->path.kind == OPES_PATH_MAILBOX) {
            k2 = unquote(c2.path.local_part, l2, sizeof l2);
            CHECK(k2 == k1 && memcmp(l1, l2, k1) == 0);
            CHECK(str_eq(c2.path.domain, c->path.domain));
        }
        CHECK(c2.params.count == c->params.count);
        for (size_t i = 0; i < c->params.count; i++) {
            CHECK(str_eq(c2.params.item[i].keyword, c->params.item[i].keyword));
            CHECK(str_eq(c2.params.item[i].value, c->params.item[i].value));
            CHECK(c2.params.item[i].has_value == c->params.item[i].has_value);
        }
        return;
    }
    st = opes_command_build(out, sizeof out, &n, cfg, c->verb, c->argument.ptr, c->argument.len);
    if (st == OPES_ELINE_TOO_LONG)
        return;
    if (st != OPES_OK) {
        CHECK(opes_smtp_config_lenient(cfg) != 0);
        return;
    }
    CHECK(n >= 2 && out[n - 2] == '\r' && out[n - 1] == '\n');
    for (size_t i = 0; i + 2 < n; i++)
        CHECK(out[i] != '\r' && out[i] != '\n' && out[i] != '\0');
    st = opes_command_parse(cfg, out, n, &c2, &used);
    if (st == OPES_ELINE_TOO_LONG)
        return; /* a configured limit under 512 */
    CHECK(st == OPES_OK);
    CHECK(c2.verb == c->verb);
    CHECK(str_eq(c2.argument, c->argument));
}

static void check_result(const opes_smtp_config *cfg, opes_status st, const opes_command *c,
                         const char *b, size_t n, size_t used, int do_rebuild)
{
    CHECK(used <= n);
    if (st == OPES_INCOMPLETE) {
        CHECK(used == 0);
        return;
    }
    CHECK(used > 0 || (st == OPES_ELINE_TOO_LONG && n == 1 && b[0] == '\r'));
    if (st == OPES_OK) {
        CHECK(c->reply_code == 0 && c->enhanced == NULL);
        CHECK(c->verb > OPES_VERB_UNKNOWN && c->verb < OPES_VERB__COUNT);
        CHECK(c->line_len == used);
    } else {
        CHECK(st < 0);
        CHECK(c->reply_code >= 500 && c->reply_code <= 555 && c->enhanced != NULL);
        CHECK(c->line_len == 0 ? st == OPES_ELINE_TOO_LONG : c->line_len == used);
    }
    if (c->line_len) {
        CHECK(in_line(c->verb_text, b, c->line_len));
        CHECK(in_line(c->argument, b, c->line_len));
        CHECK(in_line(c->domain, b, c->line_len));
        CHECK(in_line(c->string, b, c->line_len));
        CHECK(in_line(c->path.mailbox, b, c->line_len));
        CHECK(in_line(c->mechanism, b, c->line_len));
        CHECK(in_line(c->initial_response, b, c->line_len));
        CHECK(c->error_offset <= c->line_len);
    }
    if (st == OPES_OK && do_rebuild)
        rebuild(cfg, c);
}

/* Parse buf[0..n) as it arrives in pieces of `chunk` (0: whole). */
static size_t run(const opes_smtp_config *cfg, const char *buf, size_t n, size_t chunk,
                  struct ev *log)
{
    static opes_command c;
    size_t have = chunk ? 0 : n, start = 0, nev = 0;
    int skipping = 0;
    for (;;) {
        for (;;) {
            size_t used = 0;
            opes_status st;
            if (skipping) {
                st = opes_line_skip(cfg, buf + start, have - start, &used);
                CHECK(used <= have - start);
                CHECK(st == OPES_OK || st == OPES_INCOMPLETE);
                start += used;
                if (st == OPES_OK) {
                    skipping = 0;
                    continue;
                }
                break;
            }
            if (chunk) {
                /* an exact-size copy, so that reading past what has
                 * arrived faults under ASan */
                char *t = malloc(have - start ? have - start : 1);
                CHECK(t != NULL);
                memcpy(t, buf + start, have - start);
                st = opes_command_parse(cfg, t, have - start, &c, &used);
                check_result(cfg, st, &c, t, have - start, used, 0);
                free(t);
            } else {
                st = opes_command_parse(cfg, buf + start, have - start, &c, &used);
                check_result(cfg, st, &c, buf + start, have - start, used, 1);
            }
            if (st == OPES_INCOMPLETE)
                break;
            if (nev < MAXEV) {
                log[nev].st = st;
                log[nev].verb = c.verb;
                log[nev].line_len = st == OPES_ELINE_TOO_LONG ? 0 : c.line_len;
            }
            nev++;
            start += used;
            if (st == OPES_ELINE_TOO_LONG && c.line_len == 0)
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
    static struct ev a[MAXEV], b[MAXEV];
    static const char alpha[] = "MAILFROM:RCPTTO<>@.-=+ \r\nDATAQUITNOOPEHLOHELOBDAT LASTAUTH "
                                "PLAIN=SIZE=BODY8BITMIMENOTIFY,ORCPT;rfc822STARTTLSVRFY\"\\[]"
                                "IPv6:0123456789abcxyzSMTPUTF8\t\xc3\xa4\x80*/Q";
    const opes_smtp_config *cfg;
    char *buf;
    size_t n, na, nb, chunk;
    if (size < 4)
        return 0;
    cfg = make_cfg(data);
    chunk = 1 + (size_t)(data[3] >> 5) * 3;
    n = size - 4;
    buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = (data[3] & 16) ? alpha[data[4 + i] % (sizeof alpha - 1)] : (char)data[4 + i];
    na = run(cfg, buf, n, 0, a);
    nb = run(cfg, buf, n, chunk, b);
    CHECK(na == nb);
    for (size_t i = 0; i < na && i < MAXEV; i++) {
        CHECK(a[i].st == b[i].st);
        CHECK(a[i].verb == b[i].verb);
        CHECK(a[i].line_len == b[i].line_len);
    }
    free(buf);
    return 0;
}
