/*
 * libFuzzer harness: opes_command_build() and opes_mail_rcpt_build() round
 * trips.
 *
 * [0] bit 0: MAIL/RCPT (else any verb); bit 1: remap the argument bytes onto
 *     an SMTP-rich alphabet
 * [1] the verb (opes_command_build: value % 17, so invalid ones too;
 *     MAIL/RCPT: bit 0)
 * rest: the argument; for MAIL/RCPT segments split at 0xFF: local, domain,
 *     then parameters, each [selector][value...] (selector & 0x7F picks the
 *     keyword, 0x80 means no value).
 * Invariants: the size query and the write agree; what is written ends in
 * CRLF and holds no other CR, LF or NUL; it parses back (opes_command_parse
 * under a config offering every extension, SMTPUTF8 in effect) to the same
 * verb and argument, or the same path and parameters.
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

static const char *const ext[] = {
    "SIZE",     "8BITMIME", "BINARYMIME", "PIPELINING",  "CHUNKING",  "DSN",   "SMTPUTF8",
    "STARTTLS", "AUTH",     "REQUIRETLS", "MT-PRIORITY", "DELIVERBY", "X-FUZZ"};
static const char *const kw[] = {"SIZE",  "BODY",       "RET",         "ENVID", "SMTPUTF8",
                                 "AUTH",  "REQUIRETLS", "MT-PRIORITY", "BY",    "NOTIFY",
                                 "ORCPT", "X-FUZZ",     "x-fuzz"};

static opes_smtp_config *all_cfg(unsigned lenient)
{
    opes_smtp_config *cfg = NULL;
    CHECK(opes_smtp_config_init_in(cfg_mem.b, sizeof cfg_mem.b, &cfg) == OPES_OK);
    opes_smtp_config_add_extension(cfg, "X-FUZZ", 0, 0);
    opes_smtp_config_add_param(cfg, "X-FUZZ", "X-FUZZ", OPES_PARAM_MAIL | OPES_PARAM_RCPT,
                               OPES_VALUE_OPTIONAL);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        opes_smtp_config_offer(cfg, ext[i], 1, NULL);
    opes_smtp_config_set_utf8(cfg, 1);
    opes_smtp_config_set_lenient(cfg, lenient);
    return cfg;
}

static int str_eq(opes_str a, const char *p, size_t n)
{
    return a.len == n && (n == 0 || memcmp(a.ptr, p, n) == 0);
}

static void check_line(const char *out, size_t n)
{
    CHECK(n >= 2 && out[n - 2] == '\r' && out[n - 1] == '\n');
    for (size_t i = 0; i + 2 < n; i++)
        CHECK(out[i] != '\r' && out[i] != '\n' && out[i] != '\0');
}

static char out[4096];
static opes_command c;

static void do_command(int verb, const char *arg, size_t al)
{
    size_t need = 0, n = 0, used = 0;
    const opes_smtp_config *cfg = all_cfg(0);
    opes_status q = opes_command_build(NULL, 0, &need, cfg, verb, arg, al);
    opes_status st = opes_command_build(out, sizeof out, &n, cfg, verb, arg, al);
    if (q == OPES_ENOSPC) {
        CHECK(st == OPES_OK && n == need);
    } else {
        CHECK(q != OPES_OK); /* a command line is never empty */
        CHECK(st == q);
        return;
    }
    check_line(out, n);
    CHECK(n <= 512);
    st = opes_command_parse(cfg, out, n, &c, &used);
    CHECK(st == OPES_OK);
    CHECK(used == n);
    CHECK(c.verb == verb);
    CHECK(str_eq(c.argument, arg, al));
}

static void do_mail_rcpt(int verb, const char *p, size_t n)
{
    static opes_params params;
    static char l2[4096];
    const char *seg[2 + 2 * OPES_MAX_PARAMS];
    size_t sl[2 + 2 * OPES_MAX_PARAMS], ns = 0, start = 0;
    size_t need = 0, w = 0, used = 0, k;
    opes_status q, st;
    int utf8_path = 0, has_smtputf8 = 0, misplaced = 0;

    for (size_t i = 0; i <= n && ns < sizeof seg / sizeof seg[0]; i++) {
        if (i == n || (unsigned char)p[i] == 0xFF) {
            seg[ns] = p + start;
            sl[ns] = i - start;
            ns++;
            start = i + 1;
        }
    }
    while (ns < 2) {
        seg[ns] = NULL;
        sl[ns] = 0;
        ns++;
    }
    memset(&params, 0, sizeof params);
    for (size_t i = 2; i < ns && params.count < 8; i++) {
        opes_param *it = &params.item[params.count];
        unsigned sel;
        if (sl[i] == 0)
            continue;
        sel = (unsigned char)seg[i][0];
        it->keyword.ptr = kw[(sel & 0x7F) % (sizeof kw / sizeof kw[0])];
        it->keyword.len = strlen(it->keyword.ptr);
        it->has_value = !(sel & 0x80);
        it->value.ptr = it->has_value ? seg[i] + 1 : NULL;
        it->value.len = it->has_value ? sl[i] - 1 : 0;
        if (!strcmp(it->keyword.ptr, "SMTPUTF8"))
            has_smtputf8 = 1;
        if (verb == OPES_VERB_MAIL
                ? (!strcmp(it->keyword.ptr, "NOTIFY") || !strcmp(it->keyword.ptr, "ORCPT"))
                : (strcmp(it->keyword.ptr, "NOTIFY") && strcmp(it->keyword.ptr, "ORCPT") &&
                   strcmp(it->keyword.ptr, "X-FUZZ") && strcmp(it->keyword.ptr, "x-fuzz")))
            misplaced = 1;
        params.count++;
    }
    /* the builders judge values as the most lenient config would; the same
     * config judges the parse back */
    const opes_smtp_config *cfg = all_cfg(OPES_LENIENT_XTEXT_CASE | OPES_LENIENT_LONG_ADDRESS);
    q = opes_mail_rcpt_build(NULL, 0, &need, cfg, verb, seg[0], sl[0], seg[1], sl[1], &params);
    st = opes_mail_rcpt_build(out, sizeof out, &w, cfg, verb, seg[0], sl[0], seg[1], sl[1],
                              &params);
    if (q != OPES_ENOSPC) {
        CHECK(q != OPES_OK && st == q);
        return;
    }
    if (need > sizeof out) {
        CHECK(st == OPES_ENOSPC && w == need);
        return;
    }
    CHECK(st == OPES_OK && w == need);
    check_line(out, w);
    for (size_t i = 0; i < sl[0]; i++)
        if ((unsigned char)seg[0][i] >= 0x80)
            utf8_path = 1;
    for (size_t i = 0; i < sl[1]; i++)
        if ((unsigned char)seg[1][i] >= 0x80)
            utf8_path = 1;
    st = opes_command_parse(cfg, out, w, &c, &used);
    if (st == OPES_EBAD_UTF8 && verb == OPES_VERB_MAIL && utf8_path && !has_smtputf8)
        return; /* UTF-8 needs the SMTPUTF8 parameter: the caller's choice */
    if (st == OPES_EPARAM_UNKNOWN && misplaced)
        return; /* a parameter of the other verb: the caller's choice */
    CHECK(st == OPES_OK);
    CHECK(used == w);
    CHECK(c.verb == verb);
    if (sl[1] == 0 && sl[0] == 0) {
        CHECK(c.path.kind == OPES_PATH_NULL);
    } else if (sl[1] == 0) {
        CHECK(c.path.kind == OPES_PATH_POSTMASTER);
        CHECK(str_eq(c.path.mailbox, seg[0], sl[0]));
    } else {
        CHECK(c.path.kind == OPES_PATH_MAILBOX);
        CHECK(opes_path_unquote(l2, sizeof l2, &k, c.path.local_part.ptr, c.path.local_part.len) ==
              OPES_OK);
        CHECK(k == sl[0] && (k == 0 || memcmp(l2, seg[0], k) == 0));
        CHECK(str_eq(c.path.domain, seg[1], sl[1]));
    }
    CHECK(c.params.count == params.count);
    for (size_t i = 0; i < params.count; i++) {
        CHECK(str_eq(c.params.item[i].keyword, params.item[i].keyword.ptr,
                     params.item[i].keyword.len));
        CHECK(str_eq(c.params.item[i].value, params.item[i].value.ptr, params.item[i].value.len));
        CHECK(c.params.item[i].has_value == params.item[i].has_value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char alpha[] = "abcXYZ019.-_@<>[]:\" \\=+;,*/QUJDLASTSMTPUTF8 IPv6:\t\xc3\xb6\x01";
    char *buf;
    size_t n;
    if (size < 2)
        return 0;
    n = size - 2;
    buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = data[2 + i];
        buf[i] = ((data[0] & 2) && b != 0xFF) ? alpha[b % (sizeof alpha - 1)] : (char)b;
    }
    if (data[0] & 1)
        do_mail_rcpt((data[1] & 1) ? OPES_VERB_RCPT : OPES_VERB_MAIL, buf, n);
    else
        do_command(data[1] % 17, buf, n);
    free(buf);
    return 0;
}
