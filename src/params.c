/*
 * ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 esmtp-param), kept whole
 * and in order, with the value syntax of the built-in extensions' parameters:
 * SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), RET / ENVID / NOTIFY / ORCPT
 * (RFC 3461, RFC 6533), SMTPUTF8 (RFC 6531), REQUIRETLS (RFC 8689), AUTH
 * (RFC 4954), MT-PRIORITY (RFC 6710), BY (RFC 2852).
 *
 * One set of value validators serves the parser (with the config's
 * strictness and SMTPUTF8 state), the typed accessors and the builder (both
 * without a config: "loose", as the most lenient config would judge).
 */
#include "internal.h"
#include "smtp_config_internal.h"

/* RFC 3461 4.4: "The ENVID parameter MAY be up to 100 characters in length." */
#define ENVID_MAX 100
/* RFC 3461 4.2: "The entire ORCPT parameter MAY be up to 500 characters in
 * length." */
#define ORCPT_MAX 500
/* Room for a decoded AUTH mailbox: the ceiling of the path limit (a longer
 * one is OPES_EPARAM_TOO_LONG, whatever the leniency). */
#define AUTH_DECODED_MAX OPES_MAX_PATH

enum builtin {
    B_OTHER = 0,
    B_SIZE,
    B_BODY,
    B_RET,
    B_ENVID,
    B_NOTIFY,
    B_ORCPT,
    B_SMTPUTF8,
    B_REQUIRETLS,
    B_AUTH,
    B_MT_PRIORITY,
    B_BY
};

/* The built-in parameter named kw[0..n), whose opes__key8 is key: one
 * switch on the key (the length tells "SIZE" from "SIZE\0"); the two
 * keywords longer than 8 bytes compare their tails. */
static int builtin_of_key(uint64_t key, const char *kw, size_t n)
{
    switch (key) {
    case OPES__KEY('S', 'I', 'Z', 'E', 0, 0, 0, 0):
        return n == 4 ? B_SIZE : B_OTHER;
    case OPES__KEY('B', 'O', 'D', 'Y', 0, 0, 0, 0):
        return n == 4 ? B_BODY : B_OTHER;
    case OPES__KEY('R', 'E', 'T', 0, 0, 0, 0, 0):
        return n == 3 ? B_RET : B_OTHER;
    case OPES__KEY('E', 'N', 'V', 'I', 'D', 0, 0, 0):
        return n == 5 ? B_ENVID : B_OTHER;
    case OPES__KEY('N', 'O', 'T', 'I', 'F', 'Y', 0, 0):
        return n == 6 ? B_NOTIFY : B_OTHER;
    case OPES__KEY('O', 'R', 'C', 'P', 'T', 0, 0, 0):
        return n == 5 ? B_ORCPT : B_OTHER;
    case OPES__KEY('S', 'M', 'T', 'P', 'U', 'T', 'F', '8'):
        return n == 8 ? B_SMTPUTF8 : B_OTHER;
    case OPES__KEY('R', 'E', 'Q', 'U', 'I', 'R', 'E', 'T'):
        return n == 10 && opes__ieq(kw + 8, 2, "LS") ? B_REQUIRETLS : B_OTHER;
    case OPES__KEY('A', 'U', 'T', 'H', 0, 0, 0, 0):
        return n == 4 ? B_AUTH : B_OTHER;
    case OPES__KEY('M', 'T', '-', 'P', 'R', 'I', 'O', 'R'):
        return n == 11 && opes__ieq(kw + 8, 3, "ITY") ? B_MT_PRIORITY : B_OTHER;
    case OPES__KEY('B', 'Y', 0, 0, 0, 0, 0, 0):
        return n == 2 ? B_BY : B_OTHER;
    default:
        return B_OTHER;
    }
}

static int builtin_of(const char *kw, size_t n)
{
    return builtin_of_key(opes__key8(kw, n), kw, n);
}

/* How a value is judged. */
struct vctx {
    const opes_smtp_config *cfg; /* for mailbox checks (NULL when loose) */
    unsigned lenient;            /* OPES_LENIENT_* in force */
    int utf8;                    /* SMTPUTF8 in effect for the command; -1: not known
                                    yet, read it through vctx_utf8() */
    int loose;                   /* accessor / builder: the most lenient config */
    unsigned notes;              /* out: OPES_NOTE_* of what was tolerated */
    const char *buf;             /* the parameters of a MAIL command (for utf8 -1) */
    size_t len;
};

/* RFC 6531 3.4: a MAIL command with the SMTPUTF8 parameter (when the
 * extension is offered) is an SMTPUTF8 transaction; its own values may then
 * hold UTF-8 wherever the parameter stands in the list. */
static int mail_has_smtputf8(const opes_smtp_config *cfg, const char *buf, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] != ' ')
            continue;
        if (i - start == 8 && opes__ieq(buf + start, 8, "SMTPUTF8"))
            return opes_smtp_config_find_param(cfg, OPES_PARAM_MAIL, "SMTPUTF8", 8, NULL, NULL) ==
                   OPES_OK;
        start = i + 1;
    }
    return 0;
}

/* Whether SMTPUTF8 is in effect for the command. For MAIL it depends on
 * the whole parameter list; it is only looked for when a check first needs
 * it (a non-ASCII byte, an AUTH or UTF-8 ORCPT address): most lines never do. */
static int vctx_utf8(struct vctx *c)
{
    if (c->utf8 < 0)
        c->utf8 = mail_has_smtputf8(c->cfg, c->buf, c->len);
    return c->utf8;
}

/* The typed value of a built-in parameter. */
struct bval {
    uint64_t size;
    int body, ret, priority;
    unsigned notify, by_mode;
    int64_t by_time;
    opes_str addr_type, address;
};

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Offset in the xtext src of the first byte encoding decoded octet i
 * (src already validated). */
static size_t xtext_offset(const char *src, size_t len, size_t i)
{
    size_t pos = 0;
    for (size_t k = 0; k < i && pos < len; k++)
        pos += src[pos] == '+' ? 3 : 1;
    return pos < len ? pos : len;
}

/* Loose mode only: judge again a mailbox that a length limit alone made the
 * strict parse reject. The strict parse stops at the limit, before the rest
 * is checked, so this runs it again with OPES_LENIENT_LONG_ADDRESS. */
static opes_status mailbox_long(const char *s, size_t n, int utf8, opes_status strict)
{
    opes_path path;
    (void)strict;
    return opes__mailbox_parse_lenient(OPES_LENIENT_LONG_ADDRESS, utf8, s, n, &path);
}

/* A Mailbox (RFC 5321 4.1.2, RFC 6531 3.3 when utf8) in s[0..n). Loose mode
 * has no config: it judges as the most lenient config would, so addresses
 * over the RFC 5321 4.5.3.1 length limits pass. */
static opes_status mailbox_check(struct vctx *c, const char *s, size_t n, int utf8)
{
    opes_path path;
    unsigned notes = 0;
    opes_status st = opes_mailbox_parse(c->cfg, utf8 || c->loose, s, n, &path, &notes);
    if (st == OPES_OK) {
        c->notes |= notes;
        return OPES_OK;
    }
    if (c->loose && (st == OPES_ELOCAL_PART_TOO_LONG || st == OPES_EDOMAIN_TOO_LONG ||
                     st == OPES_EPATH_TOO_LONG))
        return mailbox_long(s, n, 1, st);
    return st;
}

/* ---- value validators: *off is relative to the start of the value ------- */

/* RFC 1870 3: size-value ::= 1*20DIGIT */
static opes_status v_size(opes_str v, uint64_t *out, size_t *off)
{
    uint64_t n = 0;
    int overflow = 0;
    if (v.len == 0) {
        *off = 0;
        return OPES_EPARAM_VALUE;
    }
    for (size_t i = 0; i < v.len; i++) {
        unsigned char ch = (unsigned char)v.ptr[i];
        if (!is_digit(ch) || i == 20) {
            *off = i;
            return OPES_EPARAM_VALUE;
        }
        unsigned d = (unsigned)(ch - '0');
        /* up to 19 digits cannot overflow (10^19 - 1 < UINT64_MAX): skip
         * the division until then */
        if (i >= 19 && n > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            n = n * 10 + d;
    }
    if (overflow) {
        *off = 0;
        return OPES_EBAD_NUMBER;
    }
    *out = n;
    return OPES_OK;
}

/* RFC 6152 2: body-value = "7BIT" / "8BITMIME"; RFC 3030 3 adds
 * "BINARYMIME". Keywords and values are case-insensitive (RFC 1869 4.1). */
static opes_status v_body(opes_str v, int *out, size_t *off)
{
    uint64_t k = opes__key8(v.ptr, v.len);
    if (v.len == 4 && k == OPES__KEY('7', 'B', 'I', 'T', 0, 0, 0, 0))
        *out = OPES_BODY_7BIT;
    else if (v.len == 8 && k == OPES__KEY('8', 'B', 'I', 'T', 'M', 'I', 'M', 'E'))
        *out = OPES_BODY_8BITMIME;
    else if (v.len == 10 && k == OPES__KEY('B', 'I', 'N', 'A', 'R', 'Y', 'M', 'I') &&
             opes__ieq(v.ptr + 8, 2, "ME"))
        *out = OPES_BODY_BINARYMIME;
    else {
        *off = 0;
        return OPES_EPARAM_VALUE;
    }
    return OPES_OK;
}

/* RFC 3461 4.3: "FULL" / "HDRS", case-insensitive. */
static opes_status v_ret(opes_str v, int *out, size_t *off)
{
    uint64_t k = opes__key8(v.ptr, v.len);
    if (v.len == 4 && k == OPES__KEY('F', 'U', 'L', 'L', 0, 0, 0, 0))
        *out = OPES_RET_FULL;
    else if (v.len == 4 && k == OPES__KEY('H', 'D', 'R', 'S', 0, 0, 0, 0))
        *out = OPES_RET_HDRS;
    else {
        *off = 0;
        return OPES_EPARAM_VALUE;
    }
    return OPES_OK;
}

/* xtext (RFC 3461 4) whose decoded octets are printable US-ASCII and at
 * most cap. The verdicts, in this order: bad xtext anywhere, more than cap
 * octets (at the first octet over), the first octet not printable. One
 * pass over v, nothing decoded. */
static opes_status printable_xtext(struct vctx *c, opes_str v, size_t cap, size_t *off)
{
    unsigned notes = 0;
    size_t n = 0, nonprint = SIZE_MAX;
    unsigned xl = c->lenient & OPES_LENIENT_XTEXT_CASE;
    opes_status st = opes__xtext_check(v.ptr, v.len, xl, off, &notes, &n, &nonprint);
    if (st != OPES_OK)
        return OPES_EBAD_XTEXT;
    if (n > cap) {
        *off = xtext_offset(v.ptr, v.len, cap); /* the first octet over */
        return OPES_EPARAM_TOO_LONG;
    }
    if (nonprint != SIZE_MAX) {
        *off = nonprint;
        return OPES_EPARAM_VALUE;
    }
    c->notes |= notes;
    return OPES_OK;
}

/* RFC 3461 4.4: envid-parameter = "ENVID=" xtext; "MAY be up to 100
 * characters in length"; printable US-ASCII before encoding. */
static opes_status v_envid(struct vctx *c, opes_str v, size_t *off)
{
    return printable_xtext(c, v, ENVID_MAX, off);
}

/* RFC 3461 4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element;
 * notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"; "the NEVER keyword
 * MUST appear by itself". Each element at most once (a repeat would make
 * the list a different request than its set of bits says). */
static opes_status v_notify(opes_str v, unsigned *out, size_t *off)
{
    unsigned bits = 0;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        unsigned bit;
        while (i < v.len && v.ptr[i] != ',')
            i++;
        size_t n = i - start;
        uint64_t k = n <= 8 ? opes__key8(v.ptr + start, n) : 0;
        if (n == 5 && k == OPES__KEY('N', 'E', 'V', 'E', 'R', 0, 0, 0))
            bit = OPES_NOTIFY_NEVER;
        else if (n == 7 && k == OPES__KEY('S', 'U', 'C', 'C', 'E', 'S', 'S', 0))
            bit = OPES_NOTIFY_SUCCESS;
        else if (n == 7 && k == OPES__KEY('F', 'A', 'I', 'L', 'U', 'R', 'E', 0))
            bit = OPES_NOTIFY_FAILURE;
        else if (n == 5 && k == OPES__KEY('D', 'E', 'L', 'A', 'Y', 0, 0, 0))
            bit = OPES_NOTIFY_DELAY;
        else {
            *off = start;
            return OPES_EPARAM_VALUE;
        }
        if ((bits & bit) || (bits && (bit == OPES_NOTIFY_NEVER || (bits & OPES_NOTIFY_NEVER)))) {
            *off = start;
            return OPES_EPARAM_VALUE;
        }
        bits |= bit;
        if (i == v.len)
            break;
        i++; /* the comma */
    }
    *out = bits;
    return OPES_OK;
}

/* RFC 6533 3: the address of a "utf-8" ORCPT: utf-8-addr-xtext always;
 * utf-8-addr-unitext or a raw utf-8-address only with SMTPUTF8. Dequoted,
 * it "MUST follow utf-8-address ABNF" (a Mailbox, RFC 6531). */
static opes_status orcpt_utf8(struct vctx *c, opes_str a, size_t *off)
{
    char buf[ORCPT_MAX];
    size_t n = 0, o = 0;
    opes_status st =
        opes_utf8addr_decode(buf, sizeof buf, &n, a.ptr, a.len, OPES_UTF8ADDR_XTEXT, &o);
    if (st != OPES_OK && (c->loose || vctx_utf8(c))) {
        size_t o2 = 0;
        opes_status st2 =
            opes_utf8addr_decode(buf, sizeof buf, &n, a.ptr, a.len, OPES_UTF8ADDR_UNITEXT, &o2);
        if (st2 == OPES_OK) {
            st = OPES_OK;
        } else {
            /* utf-8-address: the Mailbox itself, raw */
            if (mailbox_check(c, a.ptr, a.len, 1) == OPES_OK)
                return OPES_OK;
            st = st2;
            o = o2;
        }
    }
    if (st != OPES_OK) {
        *off = o < a.len ? o : a.len;
        return st == OPES_EBAD_UTF8 ? OPES_EBAD_UTF8 : OPES_EBAD_UTF8ADDR;
    }
    /* the utf-8 address type holds a UTF-8 Mailbox whatever the transport
     * (its xtext form is "Safe ... even when SMTPUTF8 ... is not advertised") */
    if (mailbox_check(c, buf, n, 1) != OPES_OK) {
        *off = 0;
        return OPES_EPARAM_VALUE;
    }
    return OPES_OK;
}

/* RFC 3461 4.2: orcpt-parameter = "ORCPT=" original-recipient-address;
 * original-recipient-address = addr-type ";" xtext; addr-type = atom.
 * kw_len: the keyword's length, for the 500-character limit on "the entire
 * ORCPT parameter". */
static opes_status v_orcpt(struct vctx *c, size_t kw_len, opes_str v, struct bval *out, size_t *off)
{
    size_t i = 0;
    opes_str a;
    opes_status st;

    if (v.len > ORCPT_MAX - 1 - kw_len) {
        *off = ORCPT_MAX - 1 - kw_len; /* the 501st character of the parameter */
        return OPES_EPARAM_TOO_LONG;
    }
    /* atom = 1*atext (RFC 5322 3.2.3; RFC 822's atom is the same set) */
    while (i < v.len && OPES__IS(v.ptr[i], OPES__C_ATEXT))
        i++;
    if (i == 0 || i == v.len || v.ptr[i] != ';') {
        *off = i;
        return OPES_EPARAM_VALUE;
    }
    out->addr_type.ptr = v.ptr;
    out->addr_type.len = i;
    a.ptr = v.ptr + i + 1;
    a.len = v.len - i - 1;
    out->address = a;
    if (opes__ieq(v.ptr, i, "UTF-8")) {
        st = orcpt_utf8(c, a, off);
    } else {
        st = printable_xtext(c, a, ORCPT_MAX, off);
    }
    if (st != OPES_OK)
        *off += i + 1;
    return st;
}

/* RFC 4954 5: AUTH=mailbox, the Mailbox or "<>" encoded as xtext. */
static opes_status v_auth(struct vctx *c, opes_str v, size_t *off)
{
    char buf[AUTH_DECODED_MAX];
    size_t n = 0;
    unsigned notes = 0;
    unsigned xl = c->lenient & OPES_LENIENT_XTEXT_CASE;
    opes_status st = opes_xtext_validate(v.ptr, v.len, xl, off, &notes);
    if (st != OPES_OK)
        return OPES_EBAD_XTEXT;
    st = opes_xtext_decode(buf, sizeof buf, &n, v.ptr, v.len, xl);
    if (st == OPES_ENOSPC) {
        *off = xtext_offset(v.ptr, v.len, sizeof buf);
        return OPES_EPARAM_TOO_LONG;
    }
    if (st != OPES_OK) {
        *off = 0;
        return OPES_EBAD_XTEXT;
    }
    if (!(n == 2 && buf[0] == '<' && buf[1] == '>') &&
        mailbox_check(c, buf, n, vctx_utf8(c)) != OPES_OK) {
        *off = 0;
        return OPES_EPARAM_VALUE;
    }
    c->notes |= notes;
    return OPES_OK;
}

/* RFC 6710 7: priority-value = (["-"] NZDIGIT) / "0" */
static opes_status v_mt_priority(opes_str v, int *out, size_t *off)
{
    const unsigned char *p = (const unsigned char *)v.ptr;
    if (v.len == 1 && p[0] == '0') {
        *out = 0;
        return OPES_OK;
    }
    if (v.len == 1 && p[0] >= '1' && p[0] <= '9') {
        *out = p[0] - '0';
        return OPES_OK;
    }
    if (v.len == 2 && p[0] == '-' && p[1] >= '1' && p[1] <= '9') {
        *out = -(p[1] - '0');
        return OPES_OK;
    }
    /* point at the first byte that cannot continue a priority-value */
    if (v.len == 0)
        *off = 0;
    else if (p[0] == '-')
        *off = (v.len >= 2 && p[1] >= '1' && p[1] <= '9') ? 2 : 1;
    else if (is_digit(p[0]))
        *off = 1;
    else
        *off = 0;
    return OPES_EPARAM_VALUE;
}

/* RFC 2852 4:
 *   by-value = by-time ";" by-mode [ by-trace ]
 *   by-time  = ["-" / "+"] 1*9digit ; a negative or zero value is not
 *                                   ; allowed with a by-mode of "R"
 *   by-mode  = "N" / "R"            ; "Notify" or "Return"
 *   by-trace = "T"                  ; "Trace"
 * ABNF literals are case-insensitive (RFC 2234 2.3). */
static opes_status v_by(opes_str v, int64_t *secs, unsigned *mode, size_t *off)
{
    size_t i = 0, digits = 0;
    int neg = 0;
    int64_t t = 0;
    unsigned m;
    if (i < v.len && (v.ptr[i] == '-' || v.ptr[i] == '+')) {
        neg = v.ptr[i] == '-';
        i++;
    }
    while (i < v.len && is_digit((unsigned char)v.ptr[i])) {
        if (++digits > 9) {
            *off = i;
            return OPES_EPARAM_VALUE;
        }
        t = t * 10 + (v.ptr[i] - '0');
        i++;
    }
    if (digits == 0 || i == v.len || v.ptr[i] != ';') {
        *off = i;
        return OPES_EPARAM_VALUE;
    }
    i++;
    if (i < v.len && opes__upper((unsigned char)v.ptr[i]) == 'N')
        m = OPES_BY_NOTIFY;
    else if (i < v.len && opes__upper((unsigned char)v.ptr[i]) == 'R')
        m = OPES_BY_RETURN;
    else {
        *off = i;
        return OPES_EPARAM_VALUE;
    }
    i++;
    if (i < v.len && opes__upper((unsigned char)v.ptr[i]) == 'T') {
        m |= OPES_BY_TRACE;
        i++;
    }
    if (i != v.len) {
        *off = i;
        return OPES_EPARAM_VALUE;
    }
    if (neg)
        t = -t;
    /* RFC 2852 4: "In the case of a by-mode of "R", a zero or negative
     * by-time is a syntax error." */
    if ((m & OPES_BY_RETURN) && t <= 0) {
        *off = 0;
        return OPES_EPARAM_VALUE;
    }
    *secs = t;
    *mode = m;
    return OPES_OK;
}

/*
 * Check the value of built-in parameter b. *off is relative to the start of
 * the parameter (its keyword): the keyword's end for a value missing or
 * present against the rule, else a byte of the value.
 */
static opes_status check_builtin(struct vctx *c, int b, const opes_param *it, struct bval *out,
                                 size_t *off)
{
    size_t kl = it->keyword.len, o = 0;
    opes_status st;
    opes_str v = it->value;

    if (b == B_SMTPUTF8 || b == B_REQUIRETLS) {
        /* RFC 6531 3.1 "The parameter does not accept a value"; RFC 8689 2
         * "No value is associated with this parameter". */
        if (it->has_value) {
            *off = kl;
            return OPES_EPARAM_VALUE;
        }
        return OPES_OK;
    }
    if (!it->has_value) {
        *off = kl;
        return OPES_EPARAM_VALUE;
    }
    if (!v.ptr)
        v.ptr = "";
    switch (b) {
    case B_SIZE:
        st = v_size(v, &out->size, &o);
        break;
    case B_BODY:
        st = v_body(v, &out->body, &o);
        break;
    case B_RET:
        st = v_ret(v, &out->ret, &o);
        break;
    case B_ENVID:
        st = v_envid(c, v, &o);
        break;
    case B_NOTIFY:
        st = v_notify(v, &out->notify, &o);
        break;
    case B_ORCPT:
        st = v_orcpt(c, kl, v, out, &o);
        break;
    case B_AUTH:
        st = v_auth(c, v, &o);
        break;
    case B_MT_PRIORITY:
        st = v_mt_priority(v, &out->priority, &o);
        break;
    case B_BY:
        st = v_by(v, &out->by_time, &out->by_mode, &o);
        break;
    default:
        return OPES_OK;
    }
    if (st != OPES_OK)
        *off = kl + 1 + (o < v.len ? o : v.len);
    return st;
}

/* ---- parser -----------------------------------------------------------------
 */

/*
 * Scan one esmtp-param at p (RFC 5321 4.1.2, RFC 6531 3.3). On success *it
 * holds it and *next points at the SP after it or at end.
 */
static opes_status scan_param(const char *p, const char *end, struct vctx *c, opes_param *it,
                              uint64_t *key, const char **next, const char **bad, unsigned *notes)
{
    const char *k = p;
    uint64_t kk = 0;
    unsigned shift = 0;
    /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
    if (p == end || !OPES__IS(*p, OPES__C_ALPHA | OPES__C_DIGIT)) {
        *bad = p;
        return OPES_EBAD_PARAM;
    }
    /* the keyword's opes__key8 is built on the way */
    while (p < end && (OPES__IS_LDH(*p))) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 'a' && ch <= 'z') {
            *notes |= OPES_NOTE_CASE;
            ch = (unsigned char)(ch - 32);
        }
        if (shift < 64) {
            kk |= (uint64_t)ch << shift;
            shift += 8;
        }
        p++;
    }
    *key = kk;
    it->keyword.ptr = k;
    it->keyword.len = (size_t)(p - k);
    it->value.ptr = NULL;
    it->value.len = 0;
    it->has_value = 0;
    if (p < end && *p == '=') {
        /* esmtp-value = 1*(%d33-60 / %d62-126) ; =/ UTF8-non-ascii */
        const char *v = ++p;
        for (;;) {
            unsigned char ch;
            size_t n;
            int utf8;
            /* SP is not an esmtp-value char: the run stops at it */
            /* (c->buf + c->len is end) */
            p = c->buf + opes__span((const unsigned char *)c->buf, (size_t)(p - c->buf), c->len,
                                    OPES__SPAN_EVALUE);
            if (p == end || *p == ' ')
                break;
            ch = (unsigned char)*p;
            if (ch < 0x80) {
                *bad = p;
                return OPES_EBAD_PARAM;
            }
            utf8 = vctx_utf8(c);
            if (!utf8 && !(c->lenient & OPES_LENIENT_8BIT)) {
                *bad = p;
                return OPES_EBAD_UTF8;
            }
            n = opes__utf8_seq((const unsigned char *)p, (size_t)(end - p), NULL);
            if (n < 2) {
                *bad = p;
                return OPES_EBAD_UTF8;
            }
            if (!utf8)
                *notes |= OPES_NOTE_8BIT;
            p += n;
        }
        if (p == v) {
            *bad = p;
            return OPES_EBAD_PARAM;
        }
        it->value.ptr = v;
        it->value.len = (size_t)(p - v);
        it->has_value = 1;
    }
    if (p < end && *p != ' ') {
        *bad = p;
        return OPES_EBAD_PARAM;
    }
    *next = p;
    return OPES_OK;
}

/* see opes/params.h */
opes_status opes_params_parse(const opes_smtp_config *cfg, int command, const char *buf,
                              size_t len, opes_params *out, size_t *err_offset)
{
    const char *p, *end, *bad;
    size_t limit;
    struct vctx c;
    opes_status st = OPES_OK;
    uint64_t keys[OPES_MAX_PARAMS]; /* opes__key8 of each keyword so far */

    if (err_offset)
        *err_offset = 0;
    /* the command's verb, as a registration's OPES_PARAM_* bit */
    unsigned verb = command == OPES_VERB_MAIL   ? OPES_PARAM_MAIL
                    : command == OPES_VERB_RCPT ? OPES_PARAM_RCPT
                                                : 0;
    if (!out || (!buf && len) || verb == 0)
        return OPES_EINVAL;
    out->count = 0;
    out->notes = 0;
    if (len == 0)
        return OPES_OK;
    p = bad = buf;
    end = buf + len;

    limit = opes__cfg_limit(cfg, OPES_LIMIT_PARAMS);
    if (limit > OPES_MAX_PARAMS)
        limit = OPES_MAX_PARAMS;
    c.cfg = cfg;
    c.lenient = opes__cfg_lenient(cfg);
    c.utf8 = opes__cfg_utf8(cfg) ? 1 : verb == OPES_PARAM_MAIL ? -1 : 0;
    c.loose = 0;
    c.notes = 0;
    c.buf = buf;
    c.len = len;

    for (;;) {
        opes_param it;
        uint64_t key = 0;
        const char *next = end;
        int rule = OPES_VALUE_OPTIONAL, b;
        size_t off = 0;
        struct bval val;

        st = scan_param(p, end, &c, &it, &key, &next, &bad, &out->notes);
        if (st != OPES_OK)
            goto fail;
        if (out->count >= limit) {
            st = OPES_ETOO_MANY_PARAMS;
            bad = p;
            goto fail;
        }
        keys[out->count] = key;
        out->item[out->count++] = it;
        bad = p;
        /* RFC 1869 6 / RFC 5321 4.1.2: a parameter at most once (RFC 1870 6
         * "Only one SIZE parameter may be specified in a single MAIL
         * command", RFC 3461 4.5, RFC 6152 2, RFC 6710 4.1). Equal keys and
         * lengths are equal keywords up to 8 bytes; past that the tails are
         * compared. */
        for (size_t j = 0; j + 1 < out->count; j++) {
            const opes_str *kj = &out->item[j].keyword;
            if (keys[j] == key && kj->len == it.keyword.len &&
                (kj->len <= 8 ||
                 opes__ieq2(kj->ptr + 8, kj->len - 8, it.keyword.ptr + 8, it.keyword.len - 8))) {
                st = OPES_EPARAM_DUPLICATE;
                goto fail;
            }
        }
        /* RFC 5321 4.1.1.11: parameters not recognised or not implemented,
         * and RFC 5321 2.2.2: not offered in EHLO, get 555. */
        if (!cfg || opes__config_find_param(cfg, verb, key, it.keyword.ptr, it.keyword.len, &rule,
                                            NULL) != OPES_OK) {
            st = OPES_EPARAM_UNKNOWN;
            goto fail;
        }
        if (rule == OPES_VALUE_NONE && it.has_value) {
            st = OPES_EPARAM_VALUE;
            bad = p + it.keyword.len;
            goto fail;
        }
        if (rule == OPES_VALUE_REQUIRED && !it.has_value) {
            st = OPES_EPARAM_VALUE;
            bad = p + it.keyword.len;
            goto fail;
        }
        b = builtin_of_key(key, it.keyword.ptr, it.keyword.len);
        if (b != B_OTHER) {
            memset(&val, 0, sizeof val);
            st = check_builtin(&c, b, &it, &val, &off);
            if (st != OPES_OK) {
                bad = p + off;
                goto fail;
            }
            /* RFC 3030 3: BINARYMIME is a body type of its own extension;
             * without it offered the server "cannot implement" the
             * parameter (RFC 5321 4.1.1.11: 555). */
            if (b == B_BODY && val.body == OPES_BODY_BINARYMIME &&
                !opes_smtp_config_offers(cfg, "BINARYMIME", 10)) {
                st = OPES_EPARAM_UNKNOWN;
                bad = it.value.ptr;
                goto fail;
            }
        }
        /* An upper layer's value check (opes_smtp_config_set_param_check):
         * the SMTP layer does not know the grammar, only that a refused
         * value is a 501 (RFC 5321 4.1.1.11 reserves 555 for parameters
         * not recognised or not implemented). */
        if (it.has_value) {
            opes_param_check_fn fn;
            void *user;
            if (opes__config_param_check(cfg, verb, key, it.keyword.ptr, it.keyword.len, &fn,
                                         &user)) {
                size_t voff = 0;
                st = fn(cfg, command, it.value.ptr, it.value.len, &voff, user);
                if (st != OPES_OK) {
                    if (st != OPES_EPARAM_TOO_LONG)
                        st = OPES_EPARAM_VALUE;
                    bad = it.value.ptr + (voff < it.value.len ? voff : it.value.len);
                    goto fail;
                }
            }
        }
        if (next == end)
            break;
        p = next + 1; /* the SP */
    }
    out->notes |= c.notes;
    return OPES_OK;

fail:
    if (err_offset)
        *err_offset = (size_t)(bad - buf);
    out->notes |= c.notes;
    return st;
}

/* ---- lookup and typed accessors ---------------------------------------------
 */

/* see opes/params.h */
const opes_param *opes_params_find(const opes_params *params, const char *keyword)
{
    size_t n, count;
    if (!params || !keyword)
        return NULL;
    n = strlen(keyword);
    count = params->count < OPES_MAX_PARAMS ? params->count : OPES_MAX_PARAMS;
    for (size_t i = 0; i < count; i++) {
        const opes_param *it = &params->item[i];
        if (it->keyword.ptr && opes__ieq2(it->keyword.ptr, it->keyword.len, keyword, n))
            return it;
    }
    return NULL;
}

/* esmtp-value characters, with UTF8-non-ascii (RFC 6531 3.3) well-formed. */
static int value_chars_ok(opes_str v)
{
    size_t i = 0;
    while (i < v.len) {
        unsigned char ch = (unsigned char)v.ptr[i];
        if (OPES__IS(ch, OPES__C_EVALUE)) {
            i++;
        } else if (ch >= 0x80) {
            size_t n = opes__utf8_seq((const unsigned char *)v.ptr + i, v.len - i, NULL);
            if (n < 2)
                return 0;
            i += n;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Find built-in parameter b by name and check it loosely. */
static opes_status get_builtin(const opes_params *params, const char *keyword, int b,
                               struct bval *val, const opes_param **found)
{
    struct vctx c;
    size_t off = 0;
    const opes_param *it;

    if (!params)
        return OPES_EINVAL;
    it = opes_params_find(params, keyword);
    if (!it)
        return OPES_ENOTFOUND;
    if (it->value.len && !it->value.ptr)
        return OPES_EINVAL;
    if (it->has_value && !value_chars_ok(it->value))
        return OPES_EPARAM_VALUE;
    c.cfg = NULL;
    c.lenient = OPES_LENIENT_XTEXT_CASE;
    c.utf8 = 1;
    c.loose = 1;
    c.notes = 0;
    c.buf = NULL;
    c.len = 0;
    memset(val, 0, sizeof *val);
    if (found)
        *found = it;
    return check_builtin(&c, b, it, val, &off);
}

/* see opes/params.h */
opes_status opes_params_size(const opes_params *params, uint64_t *size)
{
    struct bval v;
    opes_status st;
    if (!size)
        return OPES_EINVAL;
    st = get_builtin(params, "SIZE", B_SIZE, &v, NULL);
    if (st == OPES_OK)
        *size = v.size;
    return st;
}

/* see opes/params.h */
opes_status opes_params_body(const opes_params *params, int *body)
{
    struct bval v;
    opes_status st;
    if (!body)
        return OPES_EINVAL;
    st = get_builtin(params, "BODY", B_BODY, &v, NULL);
    if (st == OPES_OK)
        *body = v.body;
    return st;
}

/* see opes/params.h */
opes_status opes_params_ret(const opes_params *params, int *ret)
{
    struct bval v;
    opes_status st;
    if (!ret)
        return OPES_EINVAL;
    st = get_builtin(params, "RET", B_RET, &v, NULL);
    if (st == OPES_OK)
        *ret = v.ret;
    return st;
}

/* see opes/params.h */
opes_status opes_params_envid(const opes_params *params, opes_str *xtext)
{
    struct bval v;
    const opes_param *it = NULL;
    opes_status st;
    if (!xtext)
        return OPES_EINVAL;
    st = get_builtin(params, "ENVID", B_ENVID, &v, &it);
    if (st == OPES_OK)
        *xtext = it->value;
    return st;
}

/* see opes/params.h */
opes_status opes_params_notify(const opes_params *params, unsigned *notify)
{
    struct bval v;
    opes_status st;
    if (!notify)
        return OPES_EINVAL;
    st = get_builtin(params, "NOTIFY", B_NOTIFY, &v, NULL);
    if (st == OPES_OK)
        *notify = v.notify;
    return st;
}

/* see opes/params.h */
opes_status opes_params_orcpt(const opes_params *params, opes_str *addr_type, opes_str *address)
{
    struct bval v;
    opes_status st;
    if (!addr_type || !address)
        return OPES_EINVAL;
    st = get_builtin(params, "ORCPT", B_ORCPT, &v, NULL);
    if (st == OPES_OK) {
        *addr_type = v.addr_type;
        *address = v.address;
    }
    return st;
}

/* see opes/params.h */
opes_status opes_params_smtputf8(const opes_params *params)
{
    struct bval v;
    return get_builtin(params, "SMTPUTF8", B_SMTPUTF8, &v, NULL);
}

/* see opes/params.h */
opes_status opes_params_requiretls(const opes_params *params)
{
    struct bval v;
    return get_builtin(params, "REQUIRETLS", B_REQUIRETLS, &v, NULL);
}

/* see opes/params.h */
opes_status opes_params_auth(const opes_params *params, opes_str *xtext)
{
    struct bval v;
    const opes_param *it = NULL;
    opes_status st;
    if (!xtext)
        return OPES_EINVAL;
    st = get_builtin(params, "AUTH", B_AUTH, &v, &it);
    if (st == OPES_OK)
        *xtext = it->value;
    return st;
}

/* see opes/params.h */
opes_status opes_params_mt_priority(const opes_params *params, int *priority)
{
    struct bval v;
    opes_status st;
    if (!priority)
        return OPES_EINVAL;
    st = get_builtin(params, "MT-PRIORITY", B_MT_PRIORITY, &v, NULL);
    if (st == OPES_OK)
        *priority = v.priority;
    return st;
}

/* see opes/params.h */
opes_status opes_params_by(const opes_params *params, int64_t *seconds, unsigned *mode)
{
    struct bval v;
    opes_status st;
    if (!seconds || !mode)
        return OPES_EINVAL;
    st = get_builtin(params, "BY", B_BY, &v, NULL);
    if (st == OPES_OK) {
        *seconds = v.by_time;
        *mode = v.by_mode;
    }
    return st;
}

/* ---- builder
 * ------------------------------------------------------------------ */

static int has_injection(opes_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '\r' || s.ptr[i] == '\n' || s.ptr[i] == '\0')
            return 1;
    }
    return 0;
}

static int keyword_ok(opes_str k)
{
    if (k.len == 0 || !OPES__IS(k.ptr[0], OPES__C_ALPHA | OPES__C_DIGIT))
        return 0;
    for (size_t i = 1; i < k.len; i++) {
        if (!(OPES__IS_LDH(k.ptr[i])))
            return 0;
    }
    return 1;
}

/* see opes/params.h */
opes_status opes_params_build(char *dst, size_t cap, size_t *len, const opes_params *params)
{
    opes__wr w;
    size_t count;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    if (!params || params->count > OPES_MAX_PARAMS)
        return OPES_EINVAL;
    count = params->count;

    /* Injection first, over every item: it is the refusal that matters. */
    for (size_t i = 0; i < count; i++) {
        const opes_param *it = &params->item[i];
        if ((it->keyword.len && !it->keyword.ptr) || (it->value.len && !it->value.ptr))
            return OPES_EINVAL;
        if (has_injection(it->keyword) || has_injection(it->value))
            return OPES_EINJECT;
    }
    for (size_t i = 0; i < count; i++) {
        const opes_param *it = &params->item[i];
        int b;
        if (!keyword_ok(it->keyword))
            return OPES_EBAD_PARAM;
        if (it->has_value ? (it->value.len == 0 || !value_chars_ok(it->value)) : it->value.len != 0)
            return OPES_EBAD_PARAM;
        for (size_t j = 0; j < i; j++) {
            if (opes__ieq2(params->item[j].keyword.ptr, params->item[j].keyword.len,
                           it->keyword.ptr, it->keyword.len))
                return OPES_EPARAM_DUPLICATE;
        }
        b = builtin_of(it->keyword.ptr, it->keyword.len);
        if (b != B_OTHER) {
            struct vctx c;
            struct bval val;
            size_t off = 0;
            opes_status st;
            memset(&val, 0, sizeof val);
            c.cfg = NULL;
            c.lenient = OPES_LENIENT_XTEXT_CASE;
            c.utf8 = 1;
            c.loose = 1;
            c.notes = 0;
            c.buf = NULL;
            c.len = 0;
            st = check_builtin(&c, b, it, &val, &off);
            if (st != OPES_OK)
                return st;
        }
    }

    opes__wr_init(&w, dst, cap);
    for (size_t i = 0; i < count; i++) {
        const opes_param *it = &params->item[i];
        opes__wr_putc(&w, ' ');
        opes__wr_str(&w, it->keyword);
        if (it->has_value) {
            opes__wr_putc(&w, '=');
            opes__wr_str(&w, it->value);
        }
    }
    return opes__wr_finish(&w, len);
}
