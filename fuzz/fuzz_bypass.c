/*
 * libFuzzer harness for the bypass module (docs/opes-smtp.md 3.4, 7, 8).
 *
 * Byte 0 picks the mode (bits 0-1) and flags (bit 2: OPES_LENIENT_XTEXT_CASE;
 * bits 3-7: a seed for the decision's shapes). The rest is the input.
 *  0  XOPES-BYPASS value: walk it with opes_bypass_param_next(); check
 *     agrees; MAIL "XOPES-BYPASS=<value>" under a config with the
 *     extension offered is accepted exactly when the value is (the value
 *     hook), else 501 (EPARAM_VALUE / EPARAM_TOO_LONG); the decoded items
 *     rebuilt with opes_bypass_param_build() are at most as long, hold no
 *     CR/LF/SP, and walk back to the same items.
 *  1  OPES-Bypass field body: walk it with opes_bypass_header_next();
 *     items are views inside the input; rebuilt with
 *     opes_bypass_header_build() the field parses as one header field of
 *     lines <= 998 octets, and its items are the originals without later
 *     duplicates ("*" alone if any).
 *  2  decision: the input, split at "\n", gives request items for the
 *     header, MAIL and two RCPTs; invariants of opes_bypass_decide():
 *     a non-bypassable service is never bypassed (nor refused too-late),
 *     a connect service never bypassed, a request bypasses only services
 *     its source reaches (7 item 4), the allow-list only rcpt/message ones,
 *     recipients of one group have the same trace words.
 *  3  relay: the input, split at "\n", gives the MAIL and two RCPT values;
 *     invariants of opes_bypass_relay(): actions as documented; a field
 *     written parses as a header field and as an OPES-Bypass body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAXI 64

/* A built field: no NUL; every CR followed by LF; every LF after a CR and,
 * unless it ends the field, followed by SP or HT (a fold). */
static void no_ctl(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == 0 || (c == '\r' && (i + 1 >= n || p[i + 1] != '\n')))
            __builtin_trap();
        if (c == '\n' &&
            (i == 0 || p[i - 1] != '\r' || (i + 1 < n && p[i + 1] != ' ' && p[i + 1] != '\t')))
            __builtin_trap();
    }
    if (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n')
        __builtin_trap();
}

/* Every line of a built field within 998 octets (RFC 5322 2.1.1). */
static void lines_ok(const char *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            if (i - start > 998)
                __builtin_trap();
            start = i + 2;
        }
    }
}

static opes_smtp_config *config(void)
{
    static _Alignas(max_align_t) unsigned char mem[1 << 16];
    static opes_smtp_config *c;
    if (!c) {
        if (opes_smtp_config_sizeof() > sizeof mem ||
            opes_smtp_config_init_in(mem, sizeof mem, &c) != OPES_OK ||
            opes_bypass_register(c, NULL) != OPES_OK ||
            opes_smtp_config_offer(c, "XOPES", 1, NULL) != OPES_OK)
            abort();
    }
    return c;
}

static void mode_param(const char *v, size_t n, unsigned flags)
{
    static char items[MAXI][OPES_BYPASS_MAX_VALUE];
    opes_str ids[MAXI];
    size_t lens[MAXI], count = 0, pos = 0, err = 0, cnt2 = 0, err2 = 0;
    opes_status st, sc, walk;

    for (;;) {
        size_t before = pos, il = 0;
        int star = -1;
        char *dst = items[count < MAXI ? count : MAXI - 1];
        st =
            opes_bypass_param_next(v, n, flags, &pos, dst, OPES_BYPASS_MAX_VALUE, &il, &star, &err);
        if (st != OPES_OK) {
            if (pos != before)
                __builtin_trap();
            if (st != OPES_ENOTFOUND && err > n && !(st == OPES_EPARAM_TOO_LONG && err == 500))
                __builtin_trap();
            break;
        }
        if (pos <= before || pos > n || il > OPES_BYPASS_MAX_VALUE)
            __builtin_trap();
        if (star != (il == 1 && dst[0] == '*'))
            __builtin_trap();
        if (count < MAXI)
            lens[count] = il;
        count++;
    }
    walk = st;
    sc = opes_bypass_param_check(v, n, flags, &cnt2, &err2);
    if ((sc == OPES_OK) != (st == OPES_ENOTFOUND) || (sc == OPES_OK && cnt2 != count) ||
        (sc != OPES_OK && (sc != st || err2 != err)))
        __builtin_trap();

    /* the same value as a MAIL parameter: the hook decides as the check */
    if (n > 0 && n <= 600) {
        static char line[1024];
        static const char head[] = "MAIL FROM:<a@example.org> XOPES-BYPASS=";
        opes_command cmd;
        size_t used = 0, k = sizeof head - 1;
        int evalue = 1;
        memcpy(line, head, k);
        memcpy(line + k, v, n);
        memcpy(line + k + n, "\r\n", 2);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)v[i];
            if (c < 33 || c > 126 || c == '=')
                evalue = 0; /* not an esmtp-value: the params parser says so first */
        }
        opes_smtp_config_set_lenient(config(), flags & OPES_LENIENT_XTEXT_CASE);
        st = opes_command_parse(config(), line, k + n + 2, &cmd, &used);
        if (evalue) {
            if ((st == OPES_OK) != (sc == OPES_OK))
                __builtin_trap();
            if (st != OPES_OK &&
                (cmd.reply_code != 501 ||
                 st != (sc == OPES_EPARAM_TOO_LONG ? OPES_EPARAM_TOO_LONG : OPES_EPARAM_VALUE)))
                __builtin_trap();
        }
    }

    if (walk == OPES_ENOTFOUND) {
        static char out[1024];
        size_t len = 0, m = count < MAXI ? count : MAXI;
        for (size_t i = 0; i < m; i++) {
            ids[i].ptr = items[i];
            ids[i].len = lens[i];
        }
        if (count > MAXI)
            return;
        st = opes_bypass_param_build(out, sizeof out, &len, ids, m);
        if (st != OPES_OK || len > n)
            __builtin_trap();
        for (size_t i = 0; i < len; i++)
            if (out[i] <= ' ' || out[i] > '~')
                __builtin_trap();
        /* walk back */
        pos = 0;
        for (size_t i = 0; i < m; i++) {
            static char back[OPES_BYPASS_MAX_VALUE];
            size_t il = 0;
            if (opes_bypass_param_next(out, len, 0, &pos, back, sizeof back, &il, NULL, NULL) !=
                    OPES_OK ||
                il != lens[i] || memcmp(back, items[i], il) != 0)
                __builtin_trap();
        }
        {
            size_t il = 0;
            if (opes_bypass_param_next(out, len, 0, &pos, NULL, 0, &il, NULL, NULL) !=
                OPES_ENOTFOUND)
                __builtin_trap();
        }
    }
}

static void mode_header(const char *b, size_t n)
{
    opes_str it[MAXI];
    size_t count = 0, pos = 0, err = 0;
    int star = 0, any_star = 0;
    opes_status st;

    for (;;) {
        size_t before = pos;
        opes_str item;
        st = opes_bypass_header_next(b, n, &pos, &item, &star, &err);
        if (st != OPES_OK) {
            if (pos != before || (st != OPES_ENOTFOUND && err > n))
                __builtin_trap();
            break;
        }
        if (pos <= before || pos > n || item.len == 0 || item.ptr < b ||
            item.ptr + item.len > b + n)
            __builtin_trap();
        if (star) {
            if (count != 0 || item.len != 1 || item.ptr[0] != '*')
                __builtin_trap();
            any_star = 1;
        }
        if (count < MAXI)
            it[count] = item;
        count++;
    }
    if (st != OPES_ENOTFOUND || count == 0 || count > MAXI)
        return;
    {
        static char out[1 << 16];
        size_t len = 0, used = 0, k = 0;
        opes_header_field f;
        st = opes_bypass_header_build(out, sizeof out, &len, it, count);
        if (st != OPES_OK)
            __builtin_trap();
        no_ctl(out, len);
        lines_ok(out, len);
        if (opes_header_field_parse(out, len, 0, 1, &f, &used) != OPES_OK || used != len)
            __builtin_trap();
        pos = 0;
        for (size_t i = 0; i < count; i++) {
            opes_str item;
            int dup = 0;
            for (size_t j = 0; j < i && !dup; j++) {
                int eq = 0;
                dup = opes_uri_equal(it[i].ptr, it[i].len, it[j].ptr, it[j].len, OPES_URI_ABSOLUTE,
                                     &eq) == OPES_OK &&
                      eq;
            }
            if (dup)
                continue;
            if (opes_bypass_header_next(f.raw.ptr, f.raw.len, &pos, &item, NULL, NULL) != OPES_OK ||
                item.len != it[i].len || memcmp(item.ptr, it[i].ptr, item.len) != 0)
                __builtin_trap();
            k++;
        }
        {
            opes_str item;
            if (opes_bypass_header_next(f.raw.ptr, f.raw.len, &pos, &item, NULL, NULL) !=
                OPES_ENOTFOUND)
                __builtin_trap();
        }
        (void)any_star;
    }
}

/* Split at "\n" into up to max views. */
static size_t split(const char *p, size_t n, opes_str *out, size_t max)
{
    size_t k = 0, s = 0;
    for (size_t i = 0; i <= n && k < max; i++) {
        if (i == n || p[i] == '\n') {
            out[k].ptr = p + s;
            out[k].len = i - s;
            k++;
            s = i + 1;
        }
    }
    return k;
}

static const opes_bypass_service svc[5] = {
    {{"http://scan.example.net/av", 26},
     {"http://mx1.example.net/opes", 27},
     {"http://opes.example.net/sys", 27},
     OPES_BYPASS_PHASE_MESSAGE,
     0},
    {{"http://scan.example.net/lang", 28},
     {"http://mx1.example.net/opes", 27},
     {"http://opes.example.net/sys", 27},
     OPES_BYPASS_PHASE_MESSAGE,
     1},
    {{"http://scan.example.net/policy", 30},
     {"http://mx1.example.net/opes", 27},
     {"http://opes.example.net/sys", 27},
     OPES_BYPASS_PHASE_RCPT,
     1},
    {{"http://scan.example.net/rbl", 27},
     {NULL, 0},
     {"http://opes.example.net/sys", 27},
     OPES_BYPASS_PHASE_CONNECT,
     1},
    {{"http://filter.example.com/tr", 28}, {NULL, 0}, {NULL, 0}, OPES_BYPASS_PHASE_MAIL, 1},
};

static int allow_odd(const opes_str *sender, const opes_str *rcpt, size_t s, void *user)
{
    (void)sender;
    (void)user;
    if (svc[s].phase < OPES_BYPASS_PHASE_RCPT || !svc[s].bypassable)
        __builtin_trap(); /* asked only about bypassable rcpt/message services */
    return (rcpt->len + s) & 1;
}

static void mode_decide(const char *p, size_t n, unsigned seed)
{
    opes_str items[16], rcpts[2] = {{"a@x", 3}, {"bb@x", 4}};
    opes_bypass_list rl[2];
    opes_bypass_input in;
    opes_bypass_result res[2 * 5];
    size_t k = split(p, n, items, 16), g[2] = {9, 9}, ng = 0, ng2 = 0;
    /* the seed shares the items out: header, MAIL, RCPT 0, RCPT 1 */
    size_t a = k ? (seed % (k + 1)) : 0, b = a + (k > a ? (seed / 3) % (k - a + 1) : 0);
    size_t c = b + (k > b ? (seed / 7) % (k - b + 1) : 0);

    memset(&in, 0, sizeof in);
    in.version = OPES_BYPASS_INPUT_VERSION;
    in.services = svc;
    in.nservices = 5;
    in.header.items = items;
    in.header.count = a;
    in.mail.items = items + a;
    in.mail.count = b - a;
    rl[0].items = items + b;
    rl[0].count = c - b;
    rl[1].items = items + c;
    rl[1].count = k - c;
    in.rcpt = rl;
    in.recipients = rcpts;
    in.nrcpt = 2;
    in.sender.ptr = "s@x";
    in.sender.len = 3;
    if (seed & 16) {
        in.allow = allow_odd;
    }
    if (opes_bypass_decide(&in, res, 10, g, &ng) != OPES_OK)
        __builtin_trap();
    if (opes_bypass_decide(&in, res, 10, NULL, &ng2) != OPES_OK || ng2 != ng)
        __builtin_trap();
    if (ng < 1 || ng > 2 || g[0] != 0 || g[1] >= ng)
        __builtin_trap();
    int same = 1;
    for (size_t r = 0; r < 2; r++) {
        for (size_t s = 0; s < 5; s++) {
            const opes_bypass_result *x = &res[r * 5 + s];
            const char *w1, *w2, *w3, *v1, *v2, *v3;
            if (opes_bypass_trace_words(x, &w1, &w2, &w3) != OPES_OK)
                __builtin_trap();
            if (x->decision == OPES_BYPASS_BYPASS &&
                (!svc[s].bypassable || svc[s].phase == OPES_BYPASS_PHASE_CONNECT))
                __builtin_trap();
            /* 7 item 4: a request bypasses only services it reaches in time;
             * item 7: the allow-list only rcpt and message services */
            if (x->decision == OPES_BYPASS_BYPASS &&
                (x->reason == OPES_BYPASS_R_ALLOW_LIST
                     ? svc[s].phase < OPES_BYPASS_PHASE_RCPT
                     : (x->source == OPES_BYPASS_SRC_HEADER &&
                        svc[s].phase != OPES_BYPASS_PHASE_MESSAGE) ||
                           (x->source == OPES_BYPASS_SRC_RCPT &&
                            svc[s].phase < OPES_BYPASS_PHASE_RCPT) ||
                           x->source == OPES_BYPASS_SRC_NONE))
                __builtin_trap();
            if (x->decision == OPES_BYPASS_REFUSED && x->reason == OPES_BYPASS_R_TOO_LATE &&
                !svc[s].bypassable)
                __builtin_trap(); /* item 5 wins over item 4 */
            if (!opes_bypass_reason_name(x->reason) || !opes_bypass_source_name(x->source))
                __builtin_trap();
            if ((x->source == OPES_BYPASS_SRC_NONE) != (x->match == OPES_BYPASS_M_NONE))
                __builtin_trap();
            {
                const opes_bypass_result *y = &res[(1 - r) * 5 + s];
                if (opes_bypass_trace_words(y, &v1, &v2, &v3) != OPES_OK)
                    __builtin_trap();
                if (y->decision != x->decision || v1 != w1 || v2 != w2 || v3 != w3)
                    same = 0;
            }
        }
    }
    /* one group exactly when the rows run and trace alike */
    if (same != (g[0] == g[1]) || same != (ng == 1))
        __builtin_trap();
}

static void mode_relay(const char *p, size_t n, unsigned flags, unsigned seed)
{
    opes_str v[4], hdr[1] = {{"http://scan.example.net/lang", 28}};
    size_t k = split(p, n, v, 4);
    opes_bypass_relay_input ri;
    int ma = -1, ra[3] = {-1, -1, -1};
    static char out[1 << 14];
    size_t len = 0, need = 0;
    opes_status st;

    memset(&ri, 0, sizeof ri);
    ri.next_offers = (int)(seed & 1);
    ri.downgrade = (int)((seed >> 1) & 1);
    ri.flags = flags;
    ri.mail = k > 0 ? v[0] : (opes_str){NULL, 0};
    ri.rcpt = v + 1;
    ri.nrcpt = k > 1 ? k - 1 : 0;
    if (seed & 4) {
        ri.header.items = hdr;
        ri.header.count = 1;
    }
    st = opes_bypass_relay(&ri, &ma, ri.nrcpt ? ra : NULL, out, sizeof out, &len);
    if (st != OPES_OK) {
        if (len != 0)
            __builtin_trap();
        return;
    }
    if (opes_bypass_relay(&ri, &ma, ri.nrcpt ? ra : NULL, NULL, 0, &need) !=
            (len ? OPES_ENOSPC : OPES_OK) ||
        need != len)
        __builtin_trap();
    if (!opes_bypass_relay_action_name(ma) || (ri.mail.len == 0) != (ma == OPES_BYPASS_RELAY_NONE))
        __builtin_trap();
    for (size_t r = 0; r < ri.nrcpt; r++) {
        if (!opes_bypass_relay_action_name(ra[r]) ||
            (ri.rcpt[r].len == 0) != (ra[r] == OPES_BYPASS_RELAY_NONE))
            __builtin_trap();
        if (ri.next_offers && ra[r] != OPES_BYPASS_RELAY_NONE && ra[r] != OPES_BYPASS_RELAY_FORWARD)
            __builtin_trap();
    }
    if (len) {
        opes_header_field f;
        size_t used = 0, pos = 0, cnt = 0;
        opes_str item;
        if (ri.next_offers || !ri.downgrade)
            __builtin_trap();
        no_ctl(out, len);
        lines_ok(out, len);
        if (opes_header_field_parse(out, len, 0, 1, &f, &used) != OPES_OK || used != len)
            __builtin_trap();
        while ((st = opes_bypass_header_next(f.raw.ptr, f.raw.len, &pos, &item, NULL, NULL)) ==
               OPES_OK)
            cnt++;
        if (st != OPES_ENOTFOUND || cnt == 0)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p;
    size_t n;
    unsigned flags, seed;

    if (size < 1)
        return 0;
    flags = (data[0] & 4) ? OPES_LENIENT_XTEXT_CASE : 0;
    seed = data[0] >> 3;
    p = (const char *)data + 1;
    n = size - 1;
    switch (data[0] & 3) {
    case 0:
        mode_param(p, n, flags);
        break;
    case 1:
        mode_header(p, n);
        break;
    case 2:
        mode_decide(p, n, seed);
        break;
    default:
        mode_relay(p, n, flags, seed);
        break;
    }
    return 0;
}
