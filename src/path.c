/*
 * SMTP paths and mailboxes: RFC 5321 4.1.2 (Path, Mailbox, Local-part,
 * Domain), 4.1.3 (address literals), 4.1.1.3 (<Postmaster>), 4.5.3.1 (size
 * limits); RFC 6531 3.3 (UTF-8 in atext, qtextSMTP and sub-domain).
 *
 * Every scanner works on b[0..len) with an index, tests i < len before each
 * read and returns the index where it stopped, or an error with the offset
 * of the offending byte. Nothing recurses; every loop advances.
 */
#include "internal.h"
#include "smtp_config_internal.h"

typedef struct pctx {
    const unsigned char *b;
    size_t len;
    int utf8;         /* UTF-8 allowed (SMTPUTF8 in effect) */
    unsigned lenient; /* OPES_LENIENT_* */
    unsigned notes;   /* OPES_NOTE_* collected */
    unsigned flags;   /* OPES_PATH_F_* collected */
    size_t err;       /* offset of the offending byte on error */
} pctx;

static opes_status fail(pctx *c, size_t at, opes_status st)
{
    c->err = at;
    return st;
}

/* A byte that no part of a path may hold outside a quoted string: CTLs (NUL,
 * CR, LF included), SP and DEL. Reported as OPES_EBAD_CHAR wherever met. */
static int is_bad_byte(unsigned char ch)
{
    return ch <= 0x20 || ch == 0x7f;
}

/* The status for "expected something else at i": OPES_EBAD_CHAR for a
 * control, SP or DEL (or the end of input: then st), st otherwise. */
static opes_status unexpected(pctx *c, size_t i, opes_status st)
{
    if (i < c->len && is_bad_byte(c->b[i]))
        return fail(c, i, OPES_EBAD_CHAR);
    return fail(c, i, st);
}

/*
 * A non-ASCII byte at b[i]: RFC 6531 3.3 allows UTF8-non-ascii in atext,
 * qtextSMTP and sub-domain when SMTPUTF8 is in effect. Without it, strict
 * mode refuses it (RFC 5321 2.4: envelope commands are US-ASCII) and
 * OPES_LENIENT_8BIT accepts it, noted, if it is well-formed UTF-8.
 * Returns the sequence length in *n.
 */
static opes_status eight_bit(pctx *c, size_t i, size_t *n)
{
    size_t k;
    if (!c->utf8 && !(c->lenient & OPES_LENIENT_8BIT))
        return fail(c, i, OPES_EBAD_UTF8);
    k = opes__utf8_seq(c->b + i, c->len - i, NULL);
    if (k == 0)
        return fail(c, i, OPES_EBAD_UTF8);
    if (!c->utf8)
        c->notes |= OPES_NOTE_8BIT;
    c->flags |= OPES_PATH_F_UTF8;
    *n = k;
    return OPES_OK;
}

static int is_letdig(unsigned char ch)
{
    return OPES__IS(ch, OPES__C_ALPHA | OPES__C_DIGIT);
}

/*
 * Domain = sub-domain *("." sub-domain)
 * sub-domain = Let-dig [Ldh-str]; Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
 * RFC 6531 3.3: sub-domain =/ U-label (here: LDH plus well-formed
 * UTF8-non-ascii, no leading or trailing hyphen; IDNA's own rules, RFC
 * 5891, are the caller's business). No trailing dot: "a.b." is not a Domain.
 * Stops at the first byte that cannot continue the Domain; *end = there.
 */
static opes_status scan_domain(pctx *c, size_t i, size_t *end)
{
    const unsigned char *b = c->b;
    size_t len = c->len;

    for (;;) {
        /* one label; i is where it must start. Letters and digits, the
         * bulk of it, in a run of one class test per byte. */
        size_t start = i;
        for (;;) {
            unsigned char ch;
            i = opes__span(b, i, len, OPES__SPAN_LETDIG);
            if (i >= len)
                break;
            ch = b[i];
            if (ch >= 0x80) {
                size_t k;
                opes_status st = eight_bit(c, i, &k);
                if (st != OPES_OK)
                    return st;
                i += k;
            } else if (ch == '-') {
                if (i == start)
                    return fail(c, i, OPES_EBAD_DOMAIN); /* leading hyphen */
                i++;
            } else {
                break;
            }
        }
        if (i == start)
            return unexpected(c, i, OPES_EBAD_DOMAIN); /* empty label */
        /* the label's last byte: an ASCII "-" (a UTF-8 sequence never
         * ends in one) */
        if (b[i - 1] == '-')
            return fail(c, i - 1, OPES_EBAD_DOMAIN); /* trailing hyphen */
        if (i < len && b[i] == '.') {
            i++;
            continue;
        }
        *end = i;
        return OPES_OK;
    }
}

/* Snum = 1*3DIGIT, a value 0..255; IPv4-address-literal = Snum 3("." Snum).
 * s[0..n) must be exactly the address; error offset relative to s. */
static int check_ipv4(const unsigned char *s, size_t n, size_t *bad)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t start = i;
        unsigned v = 0;
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                *bad = i;
                return 0;
            }
            start = ++i;
        }
        while (i < n && OPES__IS(s[i], OPES__C_DIGIT)) {
            if (i - start == 3) {
                *bad = i; /* a fourth digit */
                return 0;
            }
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255) {
            *bad = start;
            return 0;
        }
    }
    if (i != n) {
        *bad = i;
        return 0;
    }
    return 1;
}

/*
 * IPv6-addr (RFC 5321 4.1.3):
 *   IPv6-full   = IPv6-hex 7(":" IPv6-hex)
 *   IPv6-comp   = [IPv6-hex *5(":" IPv6-hex)] "::" [IPv6-hex *5(":" IPv6-hex)]
 *                 ; "::" = at least 2 groups of zeros; no more than 6
 *                 ; groups in addition to it
 *   IPv6v4-full = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
 *   IPv6v4-comp = [IPv6-hex *3(":" IPv6-hex)] "::"
 *                 [IPv6-hex *3(":" IPv6-hex) ":"] IPv4-address-literal
 *                 ; no more than 4 groups in addition to "::" and the IPv4
 *   IPv6-hex    = 1*4HEXDIG
 * Counting the IPv4 part as two groups, all four come to: without "::"
 * exactly 8 groups, with "::" at most 6; the IPv4 part only last.
 */
static int check_ipv6(const unsigned char *s, size_t n, size_t *bad)
{
    size_t i = 0, groups = 0;
    int dc = 0;

    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        dc = 1;
        i = 2;
    }
    while (i < n) {
        size_t start = i, j = i;
        /* a group: 1*4HEXDIG, or the IPv4 part when digits meet a "." */
        while (j < n && OPES__IS(s[j], OPES__C_HEX) && j - start < 5)
            j++;
        if (j < n && s[j] == '.') {
            size_t b4 = 0;
            if (!check_ipv4(s + start, n - start, &b4)) {
                *bad = start + b4;
                return 0;
            }
            if (groups + 2 > (dc ? 6u : 8u)) {
                *bad = start;
                return 0;
            }
            groups += 2;
            i = n;
            break;
        }
        if (j == start || j - start > 4) {
            *bad = j == start ? start : start + 4;
            return 0;
        }
        if (++groups > (dc ? 6u : 8u)) {
            *bad = start;
            return 0;
        }
        i = j;
        if (i == n)
            break;
        if (s[i] != ':') {
            *bad = i;
            return 0;
        }
        i++;
        if (i < n && s[i] == ':') {
            if (dc) {
                *bad = i; /* a second "::" */
                return 0;
            }
            dc = 1;
            if (groups > 6) {
                *bad = i;
                return 0;
            }
            i++;
        } else if (i == n) {
            *bad = i - 1; /* a trailing single ":" */
            return 0;
        }
    }
    if (!dc && groups != 8) {
        *bad = n;
        return 0;
    }
    return 1;
}

/*
 * address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 *                         General-address-literal ) "]"
 * General-address-literal = Standardized-tag ":" 1*dcontent
 * Standardized-tag = Ldh-str; dcontent = %d33-90 / %d94-126.
 * IPv6-address-literal = "IPv6:" IPv6-addr. The tag "IPv6" (any case, RFC
 * 5234 2.3) always means IPv6: "[IPv6:zzz]" is not accepted as a general
 * literal with the tag IPv6.
 * b[i] is "["; on success *end is past "]". Errors: OPES_EBAD_ADDRESS_LITERAL
 * (OPES_EBAD_CHAR for CTL/SP/DEL) with the offset.
 */
static opes_status scan_literal(pctx *c, size_t i, size_t *end, int *kind)
{
    const unsigned char *b = c->b;
    size_t s = i + 1, j = i + 1, colon = 0;
    int has_colon = 0;
    size_t bad = 0;

    while (j < c->len && b[j] != ']') {
        if (!OPES__IS(b[j], OPES__C_DCONTENT))
            return unexpected(c, j, OPES_EBAD_ADDRESS_LITERAL);
        if (b[j] == ':' && !has_colon) {
            has_colon = 1;
            colon = j;
        }
        j++;
    }
    if (j >= c->len)
        return fail(c, j, OPES_EBAD_ADDRESS_LITERAL); /* no "]" */
    if (j == s)
        return fail(c, j, OPES_EBAD_ADDRESS_LITERAL); /* "[]" */
    if (!has_colon) {
        if (!check_ipv4(b + s, j - s, &bad))
            return fail(c, s + bad, OPES_EBAD_ADDRESS_LITERAL);
        *kind = OPES_DOMAIN_IPV4;
    } else if (opes__ieq((const char *)b + s, colon - s, "IPV6")) {
        if (!check_ipv6(b + colon + 1, j - colon - 1, &bad))
            return fail(c, colon + 1 + bad, OPES_EBAD_ADDRESS_LITERAL);
        *kind = OPES_DOMAIN_IPV6;
    } else {
        /* Standardized-tag = Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig */
        if (colon == s)
            return fail(c, s, OPES_EBAD_ADDRESS_LITERAL);
        for (size_t k = s; k < colon; k++) {
            if (!is_letdig(b[k]) && b[k] != '-')
                return fail(c, k, OPES_EBAD_ADDRESS_LITERAL);
        }
        if (b[colon - 1] == '-')
            return fail(c, colon - 1, OPES_EBAD_ADDRESS_LITERAL);
        if (colon + 1 == j)
            return fail(c, j, OPES_EBAD_ADDRESS_LITERAL); /* 1*dcontent */
        *kind = OPES_DOMAIN_GENERAL;
    }
    *end = j + 1;
    return OPES_OK;
}

/* Domain / address-literal at i. */
static opes_status scan_domain_or_literal(pctx *c, size_t i, size_t *end, int *kind)
{
    if (i < c->len && c->b[i] == '[')
        return scan_literal(c, i, end, kind);
    *kind = OPES_DOMAIN_NAME;
    return scan_domain(c, i, end);
}

/*
 * Local-part = Dot-string / Quoted-string
 * Dot-string = Atom *("." Atom); Atom = 1*atext (RFC 5322 3.2.3 atext,
 *              + UTF8-non-ascii with RFC 6531)
 * Quoted-string = DQUOTE *QcontentSMTP DQUOTE
 * QcontentSMTP = qtextSMTP / quoted-pairSMTP; quoted-pairSMTP = %d92 %d32-126
 * qtextSMTP = %d32-33 / %d35-91 / %d93-126 (+ UTF8-non-ascii with RFC 6531)
 * Stops after the local-part; *end = there.
 */
static opes_status scan_local(pctx *c, size_t i, size_t *end)
{
    const unsigned char *b = c->b;
    size_t len = c->len;

    if (i < len && b[i] == '"') {
        c->flags |= OPES_PATH_F_QUOTED;
        i++;
        for (;;) {
            unsigned char ch;
            if (i >= len)
                return fail(c, i, OPES_EBAD_LOCAL_PART); /* unterminated */
            ch = b[i];
            if (ch == '"') {
                *end = i + 1;
                return OPES_OK;
            }
            if (ch == '\\') {
                /* quoted-pairSMTP: RFC 6531 does not extend it to UTF-8 */
                if (i + 1 >= len)
                    return fail(c, i + 1, OPES_EBAD_LOCAL_PART);
                if (b[i + 1] < 32 || b[i + 1] > 126) {
                    if (b[i + 1] < 32 || b[i + 1] == 127)
                        return fail(c, i + 1, OPES_EBAD_CHAR);
                    return fail(c, i + 1, OPES_EBAD_LOCAL_PART);
                }
                i += 2;
            } else if (OPES__IS(ch, OPES__C_QTEXT)) {
                i++;
            } else if (ch >= 0x80) {
                size_t k;
                opes_status st = eight_bit(c, i, &k);
                if (st != OPES_OK)
                    return st;
                i += k;
            } else {
                return fail(c, i, OPES_EBAD_CHAR); /* CTLs and DEL */
            }
        }
    }
    for (;;) {
        size_t start = i;
        while (i < len) {
            if (OPES__IS(b[i], OPES__C_ATEXT)) {
                i++;
            } else if (b[i] >= 0x80) {
                size_t k;
                opes_status st = eight_bit(c, i, &k);
                if (st != OPES_OK)
                    return st;
                i += k;
            } else {
                break;
            }
        }
        if (i == start)
            return unexpected(c, i, OPES_EBAD_LOCAL_PART); /* empty atom */
        if (i < len && b[i] == '.') {
            i++;
            continue;
        }
        *end = i;
        return OPES_OK;
    }
}

static size_t cfg_limit(const opes_smtp_config *cfg, int which)
{
    return opes__cfg_limit(cfg, which);
}

/* RFC 5321 4.5.3.1.1-3 limits: strict rejects with the specific status at the
 * first byte over the limit; OPES_LENIENT_LONG_ADDRESS accepts and flags. */
static opes_status check_limit(pctx *c, size_t start, size_t n, size_t limit, opes_status st)
{
    if (n <= limit)
        return OPES_OK;
    if (c->lenient & OPES_LENIENT_LONG_ADDRESS) {
        c->flags |= OPES_PATH_F_LONG;
        c->notes |= OPES_NOTE_LONG_ADDRESS;
        return OPES_OK;
    }
    return fail(c, start + limit, st);
}

/* Mailbox = Local-part "@" ( Domain / address-literal ), at i; or, when
 * postmaster_ok, the bare "Postmaster" of RCPT TO:<Postmaster>. Fills out. */
static opes_status scan_mailbox(pctx *c, const opes_smtp_config *cfg, size_t i, int postmaster_ok,
                                opes_path *out, size_t *end)
{
    const char *buf = (const char *)c->b;
    size_t lend, dend;
    int kind = OPES_DOMAIN_NONE;
    opes_status st = scan_local(c, i, &lend);

    if (st != OPES_OK)
        return st;
    out->local_part.ptr = buf + i;
    out->local_part.len = lend - i;
    if (lend >= c->len || c->b[lend] != '@') {
        /* RFC 5321 4.1.1.3: "<Postmaster>", case-insensitive, no domain */
        if (postmaster_ok && !(c->flags & OPES_PATH_F_QUOTED) &&
            opes__ieq(buf + i, lend - i, "POSTMASTER")) {
            out->kind = OPES_PATH_POSTMASTER;
            out->domain_kind = OPES_DOMAIN_NONE;
            out->mailbox = out->local_part;
            c->notes |= OPES_NOTE_POSTMASTER;
            *end = lend;
            return OPES_OK;
        }
        return unexpected(c, lend, OPES_EBAD_PATH);
    }
    st = scan_domain_or_literal(c, lend + 1, &dend, &kind);
    if (st != OPES_OK)
        return st;
    st = check_limit(c, i, lend - i, cfg_limit(cfg, OPES_LIMIT_LOCAL_PART),
                     OPES_ELOCAL_PART_TOO_LONG);
    if (st != OPES_OK)
        return st;
    st = check_limit(c, lend + 1, dend - lend - 1, cfg_limit(cfg, OPES_LIMIT_DOMAIN),
                     OPES_EDOMAIN_TOO_LONG);
    if (st != OPES_OK)
        return st;
    out->kind = OPES_PATH_MAILBOX;
    out->domain_kind = kind;
    out->domain.ptr = buf + lend + 1;
    out->domain.len = dend - lend - 1;
    out->mailbox.ptr = buf + i;
    out->mailbox.len = dend - i;
    *end = dend;
    return OPES_OK;
}

/* A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain. b[i] is "@".
 * *end is at the ":" that closes it. */
static opes_status scan_route(pctx *c, size_t i, size_t *end)
{
    for (;;) {
        size_t dend;
        opes_status st;
        if (i >= c->len || c->b[i] != '@')
            return unexpected(c, i, OPES_EBAD_PATH);
        st = scan_domain(c, i + 1, &dend);
        if (st != OPES_OK)
            return st;
        i = dend;
        if (i < c->len && c->b[i] == ',') {
            i++;
            continue;
        }
        if (i < c->len && c->b[i] == ':') {
            *end = i;
            return OPES_OK;
        }
        return unexpected(c, i, OPES_EBAD_PATH);
    }
}

/* What follows a mailbox at i is not what the caller's grammar wants there.
 * After a domain name the byte simply cannot continue the Domain
 * ("<a@b!>", "a@b>"): OPES_EBAD_DOMAIN; otherwise OPES_EBAD_PATH. */
static opes_status after_mailbox(pctx *c, const opes_path *out, size_t i)
{
    int after_name =
        i < c->len && out->kind == OPES_PATH_MAILBOX && out->domain_kind == OPES_DOMAIN_NAME;
    return unexpected(c, i, after_name ? OPES_EBAD_DOMAIN : OPES_EBAD_PATH);
}

static opes_status path_parse(pctx *c, const opes_smtp_config *cfg, int mode, opes_path *out,
                              size_t *used)
{
    const unsigned char *b = c->b;
    const char *buf = (const char *)b;
    size_t i = 0, end = 0;
    opes_status st;

    if (c->len == 0)
        return fail(c, 0, OPES_EBAD_PATH);
    if (b[0] == '<') {
        i = 1;
        /* Reverse-path = Path / "<>" */
        if (i < c->len && b[i] == '>') {
            if (mode != OPES_PATH_REVERSE)
                return fail(c, i, OPES_EBAD_PATH);
            out->kind = OPES_PATH_NULL;
            out->mailbox.ptr = buf + 1;
            *used = 2;
            return OPES_OK;
        }
        /* Path = "<" [ A-d-l ":" ] Mailbox ">": the route MUST be accepted
         * and SHOULD be ignored (RFC 5321 4.1.2) */
        if (i < c->len && b[i] == '@') {
            size_t rend;
            st = scan_route(c, i, &rend);
            if (st != OPES_OK)
                return st;
            out->route.ptr = buf + i;
            out->route.len = rend - i;
            c->flags |= OPES_PATH_F_ROUTE;
            c->notes |= OPES_NOTE_SOURCE_ROUTE;
            i = rend + 1;
        }
        /* "<Postmaster>" only in RCPT, and without a route */
        st = scan_mailbox(c, cfg, i, mode == OPES_PATH_FORWARD && out->route.len == 0, out, &end);
        if (st != OPES_OK)
            return st;
        if (end >= c->len || b[end] != '>')
            return after_mailbox(c, out, end);
        end++;
    } else if (c->lenient & OPES_LENIENT_NO_BRACKETS) {
        /* a bare mailbox, up to SP or the end */
        st = scan_mailbox(c, cfg, 0, mode == OPES_PATH_FORWARD, out, &end);
        if (st != OPES_OK)
            return st;
        if (end < c->len && b[end] != ' ')
            return after_mailbox(c, out, end);
        c->flags |= OPES_PATH_F_NO_BRACKETS;
        c->notes |= OPES_NOTE_NO_BRACKETS;
    } else {
        return unexpected(c, 0, OPES_EBAD_PATH);
    }
    /* RFC 5321 4.5.3.1.3: the path including the punctuation */
    st = check_limit(c, 0, end, cfg_limit(cfg, OPES_LIMIT_PATH), OPES_EPATH_TOO_LONG);
    if (st != OPES_OK)
        return st;
    *used = end;
    return OPES_OK;
}

static void path_init(opes_path *out, const char *buf)
{
    out->kind = OPES_PATH_NULL;
    out->domain_kind = OPES_DOMAIN_NONE;
    out->flags = 0;
    out->mailbox.ptr = out->local_part.ptr = out->domain.ptr = out->route.ptr = buf;
    out->mailbox.len = out->local_part.len = out->domain.len = out->route.len = 0;
}

/* see opes/path.h */
opes_status opes_path_parse(const opes_smtp_config *cfg, int mode, int utf8, const char *buf,
                            size_t len, opes_path *out, size_t *used, unsigned *notes)
{
    pctx c;
    opes_status st;

    if (notes)
        *notes = 0;
    if (used)
        *used = 0;
    if (!out || !used || (!buf && len) || (mode != OPES_PATH_REVERSE && mode != OPES_PATH_FORWARD))
        return OPES_EINVAL;
    path_init(out, buf);
    c.b = (const unsigned char *)buf;
    c.len = len;
    c.utf8 = utf8 != 0;
    c.lenient = opes__cfg_lenient(cfg);
    c.notes = 0;
    c.flags = 0;
    c.err = 0;
    st = path_parse(&c, cfg, mode, out, used);
    if (st != OPES_OK) {
        path_init(out, buf);
        *used = c.err;
        return st;
    }
    out->flags = c.flags;
    if (notes)
        *notes = c.notes;
    return OPES_OK;
}

/* see opes/path.h */
static opes_status mailbox_parse(const opes_smtp_config *cfg, unsigned lenient, int utf8,
                                 const char *buf, size_t len, opes_path *out, unsigned *notes)
{
    pctx c;
    size_t end = 0;
    opes_status st;

    if (notes)
        *notes = 0;
    if (!out || (!buf && len))
        return OPES_EINVAL;
    path_init(out, buf);
    c.b = (const unsigned char *)buf;
    c.len = len;
    c.utf8 = utf8 != 0;
    /* the bracket leniency means nothing without brackets */
    c.lenient = lenient & ~(unsigned)OPES_LENIENT_NO_BRACKETS;
    c.notes = 0;
    c.flags = 0;
    c.err = 0;
    st = scan_mailbox(&c, cfg, 0, 0, out, &end);
    if (st == OPES_OK && end != len)
        st = after_mailbox(&c, out, end);
    if (st != OPES_OK) {
        path_init(out, buf);
        return st;
    }
    out->flags = c.flags;
    if (notes)
        *notes = c.notes;
    return OPES_OK;
}

/* see opes/path.h */
opes_status opes_mailbox_parse(const opes_smtp_config *cfg, int utf8, const char *buf, size_t len,
                               opes_path *out, unsigned *notes)
{
    return mailbox_parse(cfg, opes_smtp_config_lenient(cfg), utf8, buf, len, out, notes);
}

opes_status opes__mailbox_parse_lenient(unsigned lenient, int utf8, const char *buf, size_t len,
                                        opes_path *out)
{
    return mailbox_parse(NULL, lenient, utf8, buf, len, out, NULL);
}

/* see opes/path.h */
opes_status opes_address_literal_check(const char *lit, size_t len, int *kind)
{
    pctx c;
    size_t end = 0;
    int k = OPES_DOMAIN_NONE;

    if (!lit && len)
        return OPES_EINVAL;
    memset(&c, 0, sizeof c);
    c.b = (const unsigned char *)lit;
    c.len = len;
    if (len < 2 || lit[0] != '[' || scan_literal(&c, 0, &end, &k) != OPES_OK || end != len)
        return OPES_EBAD_ADDRESS_LITERAL;
    if (kind)
        *kind = k;
    return OPES_OK;
}

/* see opes/path.h */
opes_status opes_domain_check(const char *buf, size_t len, int utf8, unsigned lenient, int *kind,
                              size_t *err_offset, unsigned *notes)
{
    pctx c;
    size_t end = 0;
    int k = OPES_DOMAIN_NONE;
    opes_status st;

    if (!buf && len)
        return OPES_EINVAL;
    memset(&c, 0, sizeof c);
    c.b = (const unsigned char *)buf;
    c.len = len;
    c.utf8 = utf8 != 0;
    c.lenient = lenient & (unsigned)OPES_LENIENT_8BIT;
    st = scan_domain_or_literal(&c, 0, &end, &k);
    if (st == OPES_OK && end != len)
        st = unexpected(&c, end, k == OPES_DOMAIN_NAME ? OPES_EBAD_DOMAIN
                                                       : OPES_EBAD_ADDRESS_LITERAL);
    if (st != OPES_OK) {
        if (err_offset)
            *err_offset = c.err;
        return st;
    }
    if (kind)
        *kind = k;
    if (notes)
        *notes = c.notes;
    return OPES_OK;
}

/* Is local[0..n) a Dot-string (atext with RFC 6531 UTF-8; validated)? */
static int is_dot_string(const unsigned char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return 0;
    for (;;) {
        size_t start = i;
        while (i < n) {
            if (OPES__IS(s[i], OPES__C_ATEXT)) {
                i++;
            } else if (s[i] >= 0x80) {
                size_t k = opes__utf8_seq(s + i, n - i, NULL);
                if (k == 0)
                    return 0;
                i += k;
            } else {
                break;
            }
        }
        if (i == start)
            return 0;
        if (i == n)
            return 1;
        if (s[i] != '.')
            return 0;
        i++;
    }
}

/* see opes/path.h */
opes_status opes_path_build(char *dst, size_t cap, size_t *len, const char *local, size_t local_len,
                            const char *domain, size_t domain_len)
{
    const unsigned char *l = (const unsigned char *)local;
    opes__wr w;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!local && local_len) || (!domain && domain_len)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    *len = 0;
    /* nothing that could end or split the command line */
    for (size_t i = 0; i < local_len; i++) {
        if (local[i] == '\r' || local[i] == '\n' || local[i] == '\0')
            return OPES_EINJECT;
    }
    for (size_t i = 0; i < domain_len; i++) {
        if (domain[i] == '\r' || domain[i] == '\n' || domain[i] == '\0')
            return OPES_EINJECT;
    }
    /* every local-part byte must be expressible: printable ASCII (in a
     * Quoted-string, as itself or as a quoted-pair) or UTF-8 (RFC 6531) */
    for (size_t i = 0; i < local_len;) {
        if (l[i] >= 0x80) {
            size_t k = opes__utf8_seq(l + i, local_len - i, NULL);
            if (k == 0)
                return OPES_EBAD_UTF8;
            i += k;
        } else if (l[i] < 0x20 || l[i] == 0x7f) {
            return OPES_EBAD_LOCAL_PART;
        } else {
            i++;
        }
    }
    opes__wr_init(&w, dst, cap);
    if (domain_len == 0) {
        if (local_len == 0) {
            opes__wr_puts(&w, "<>"); /* the null reverse-path */
            return opes__wr_finish(&w, len);
        }
        /* RFC 5321 4.1.1.3: RCPT TO:<Postmaster> */
        if (!opes__ieq(local, local_len, "POSTMASTER"))
            return OPES_EBAD_DOMAIN;
        opes__wr_putc(&w, '<');
        opes__wr_put(&w, local, local_len);
        opes__wr_putc(&w, '>');
        return opes__wr_finish(&w, len);
    }
    /* the domain must be a Domain (U-labels allowed) or an address literal */
    {
        pctx c;
        size_t end = 0;
        int kind = 0;
        opes_status st;
        memset(&c, 0, sizeof c);
        c.b = (const unsigned char *)domain;
        c.len = domain_len;
        c.utf8 = 1;
        st = scan_domain_or_literal(&c, 0, &end, &kind);
        if (st == OPES_EBAD_UTF8)
            return st;
        if (st != OPES_OK || end != domain_len)
            return OPES_EBAD_DOMAIN;
    }
    opes__wr_putc(&w, '<');
    if (is_dot_string(l, local_len)) {
        opes__wr_put(&w, local, local_len);
    } else {
        /* Quoted-string: '"' and '\' as quoted-pairs, the rest as qtextSMTP */
        size_t i = 0;
        opes__wr_putc(&w, '"');
        while (i < local_len) {
            size_t j = i;
            while (j < local_len && local[j] != '"' && local[j] != '\\')
                j++;
            opes__wr_put(&w, local + i, j - i);
            if (j < local_len) {
                opes__wr_putc(&w, '\\');
                opes__wr_putc(&w, local[j]);
                j++;
            }
            i = j;
        }
        opes__wr_putc(&w, '"');
    }
    opes__wr_putc(&w, '@');
    opes__wr_put(&w, domain, domain_len);
    opes__wr_putc(&w, '>');
    return opes__wr_finish(&w, len);
}

/* see opes/path.h */
opes_status opes_path_unquote(char *dst, size_t cap, size_t *len, const char *local,
                              size_t local_len)
{
    opes__wr w;
    size_t i;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!local && local_len)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    *len = 0;
    opes__wr_init(&w, dst, cap);
    if (local_len == 0 || local[0] != '"') {
        opes__wr_put(&w, local, local_len);
        return opes__wr_finish(&w, len);
    }
    /* validate first: a Quoted-string with nothing after its closing quote */
    for (i = 1; i < local_len; i++) {
        if (local[i] == '\\') {
            if (++i >= local_len)
                return OPES_EBAD_LOCAL_PART;
        } else if (local[i] == '"') {
            break;
        }
    }
    if (i != local_len - 1)
        return OPES_EBAD_LOCAL_PART;
    for (i = 1; i + 1 < local_len; i++) {
        if (local[i] == '\\')
            i++;
        opes__wr_putc(&w, local[i]);
    }
    return opes__wr_finish(&w, len);
}
