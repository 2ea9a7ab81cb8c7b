/*
 * The Received trace field: RFC 5321 4.4 (Stamp), RFC 5322 3.6.7
 * (received-token, the tolerant frame), RFC 3848 2 and RFC 6531 4.3 (WITH
 * protocol types).
 *
 *   Stamp           = From-domain By-domain Opt-info [CFWS] ";" FWS date-time
 *   From-domain     = "FROM" FWS Extended-Domain
 *   By-domain       = CFWS "BY" FWS Extended-Domain
 *   Extended-Domain = Domain / ( Domain FWS "(" TCP-info ")" ) /
 *                     ( address-literal FWS "(" TCP-info ")" )
 *   TCP-info        = address-literal / ( Domain FWS address-literal )
 *   Opt-info        = [Via] [With] [ID] [For] [Additional-Registered-Clauses]
 *   Via = CFWS "VIA" FWS Link;  With = CFWS "WITH" FWS Protocol
 *   ID  = CFWS "ID" FWS ( Atom / msg-id );  For = CFWS "FOR" FWS ( Path / Mailbox )
 *   Additional-Registered-Clauses = CFWS Atom FWS String
 *
 * The mail layer uses the smtp layer's Domain / address-literal / Path
 * grammar (opes/path.h) here, read-only: the Stamp is RFC 5321's.
 *
 * The body is cut into words (runs of bytes with "..." / <...> / [...]
 * segments, which may hold WSP or ";") separated by CFWS; the first ";"
 * outside them starts the date. Nothing recurses; every loop advances.
 */
#include "internal.h"

enum { K_FROM, K_BY, K_VIA, K_WITH, K_ID, K_FOR, K_EXTRA, K_NONE };

typedef struct rctx {
    const char *b;
    size_t len;
    int strict;
    unsigned lxo;   /* OPES__LX_* options */
    unsigned flags; /* OPES_RECEIVED_F_* */
    size_t err;
    opes_str envelope_from;
    int kw_valid; /* keyword_later()'s memo: a scan from kw_from ... */
    size_t kw_from;
    size_t kw_at; /* ... found a keyword here (SIZE_MAX: none before ";") */
} rctx;

static opes_status fail(rctx *c, size_t at, opes_status st)
{
    c->err = at;
    return st;
}

/* A deviation from RFC 5321 4.4 at offset at: flagged, or refused in strict mode. */
static opes_status dev(rctx *c, unsigned flag, size_t at)
{
    c->flags |= flag;
    if (c->strict && (flag & OPES_RECEIVED_F_DEVIATIONS))
        return fail(c, at, OPES_EBAD_RECEIVED);
    return OPES_OK;
}

static int is_wsp(unsigned char ch)
{
    return ch == ' ' || ch == '\t';
}

static opes_str view(const char *b, size_t s, size_t e)
{
    opes_str v;
    v.ptr = b + s;
    v.len = e - s;
    return v;
}

/* "envelope-from" FWS-or-"=" word at the start of comment content p[0..n):
 * Exim and Sendmail record the reverse-path so. */
static void envelope_from(rctx *c, const char *p, size_t n)
{
    size_t i = 0, s;
    unsigned info = 0;
    if (c->envelope_from.ptr)
        return;
    i = opes__lx_fws(p, n, i, c->lxo, &info);
    if (n - i < 13 || !opes__ieq(p + i, 13, "ENVELOPE-FROM"))
        return;
    i += 13;
    s = i;
    i = opes__lx_fws(p, n, i, c->lxo, &info);
    if (i < n && p[i] == '=')
        i++;
    else if (i == s)
        return;
    i = opes__lx_fws(p, n, i, c->lxo, &info);
    s = i;
    while (i < n && !is_wsp((unsigned char)p[i]) && p[i] != '\r' && p[i] != '\n' && p[i] != '(' &&
           p[i] != ')')
        i++;
    if (i > s)
        c->envelope_from = view(p, s, i);
}

/* CFWS from *i. *first: the content of its first comment (*got set);
 * *info: what was seen. */
static opes_status rsep(rctx *c, size_t *i, opes_str *first, int *got, unsigned *infop)
{
    unsigned info = 0;
    size_t j = *i;
    for (;;) {
        j = opes__lx_fws(c->b, c->len, j, c->lxo, &info);
        if (j < c->len && c->b[j] == '(') {
            size_t e = j;
            opes_status st = opes__lx_comment(c->b, c->len, j, c->lxo, &e, &info, &c->err);
            if (st != OPES_OK)
                return st == OPES_ESYNTAX ? OPES_EBAD_RECEIVED : st;
            if (first && !*got) {
                *first = view(c->b, j + 1, e - 1);
                *got = 1;
            }
            envelope_from(c, c->b + j + 1, e - j - 2);
            j = e;
            continue;
        }
        break;
    }
    if (info & (OPES__LX_OBS_FWS | OPES__LX_OBS_CTEXT))
        c->flags |= OPES_RECEIVED_F_OBS_CFWS;
    if (info & OPES__LX_UTF8)
        c->flags |= OPES_RECEIVED_F_UTF8;
    if (info & OPES__LX_LF_FOLD)
        c->flags |= OPES_RECEIVED_F_LF_FOLD; /* only reachable in tolerant mode */
    if (info & OPES__LX_RAW8)
        c->flags |= OPES_RECEIVED_F_RAW_8BIT;
    if (infop)
        *infop = info;
    *i = j;
    return OPES_OK;
}

/* A non-ASCII byte in a word: UTF-8, or (tolerant) any byte, flagged. */
static opes_status eight_bit(rctx *c, size_t i, size_t *k)
{
    size_t n = opes__utf8_seq((const unsigned char *)c->b + i, c->len - i, NULL);
    if (n) {
        c->flags |= OPES_RECEIVED_F_UTF8;
        *k = n;
        return OPES_OK;
    }
    if (c->strict)
        return fail(c, i, OPES_EBAD_UTF8);
    c->flags |= OPES_RECEIVED_F_RAW_8BIT;
    *k = 1;
    return OPES_OK;
}

/* A quoted-string at b[i] == '"' (RFC 5322 3.2.4, qcontent with FWS):
 * *end after the closing quote. */
static opes_status qstring(rctx *c, size_t i, size_t *end)
{
    size_t j = i + 1, k;
    unsigned info = 0;
    while (j < c->len) {
        unsigned char ch = (unsigned char)c->b[j];
        if (ch == '"') {
            *end = j + 1;
            return OPES_OK;
        }
        if (ch == '\\') {
            if (c->len - j < 2)
                break;
            ch = (unsigned char)c->b[j + 1];
            if (ch == 0 || ch == '\r' || ch == '\n')
                return fail(c, j + 1, OPES_EBAD_CHAR);
            j += 2;
        } else if (is_wsp(ch) || ch == '\r' || ch == '\n') {
            size_t f = opes__lx_fws(c->b, c->len, j, c->lxo, &info);
            if (f == j)
                return fail(c, j, opes__lx_bad_byte(c->b, c->len, j, OPES_EBAD_RECEIVED));
            j = f;
        } else if (ch == 0) {
            return fail(c, j, OPES_EBAD_CHAR);
        } else if (ch >= 0x80) {
            opes_status st = eight_bit(c, j, &k);
            if (st != OPES_OK)
                return st;
            j += k;
        } else {
            j++; /* qtext, obs-qtext */
        }
    }
    if (info & OPES__LX_LF_FOLD)
        c->flags |= OPES_RECEIVED_F_LF_FOLD;
    return fail(c, c->len, OPES_EBAD_RECEIVED);
}

/* A word at b[i]: plain bytes and "..." / <...> / [...] segments, up to WSP,
 * CR, LF, "(", ")", ";", a control character or the end. *end == i when
 * b[i] cannot start one. */
static opes_status rword(rctx *c, size_t i, size_t *end)
{
    opes_status st;
    size_t k;
    while (i < c->len) {
        unsigned char ch = (unsigned char)c->b[i];
        if (ch == '"') {
            if ((st = qstring(c, i, &i)) != OPES_OK)
                return st;
        } else if (ch == '<' || ch == '[') {
            /* a path / msg-id or an address literal: no WSP outside a
             * quoted-string inside, and it must close */
            unsigned char close = ch == '<' ? '>' : ']';
            size_t j = i + 1;
            for (;;) {
                if (j >= c->len)
                    return fail(c, c->len, OPES_EBAD_RECEIVED);
                ch = (unsigned char)c->b[j];
                if (ch == close) {
                    j++;
                    break;
                }
                if (ch == '"' && close == '>') {
                    if ((st = qstring(c, j, &j)) != OPES_OK)
                        return st;
                } else if (ch <= 0x20 || ch == 0x7f) {
                    return fail(c, j, opes__lx_bad_byte(c->b, c->len, j, OPES_EBAD_RECEIVED));
                } else if (ch >= 0x80) {
                    if ((st = eight_bit(c, j, &k)) != OPES_OK)
                        return st;
                    j += k;
                } else {
                    j++;
                }
            }
            i = j;
        } else if (ch <= 0x20 || ch == 0x7f || ch == '(' || ch == ')' || ch == ';') {
            break;
        } else if (ch >= 0x80) {
            if ((st = eight_bit(c, i, &k)) != OPES_OK)
                return st;
            i += k;
        } else {
            i++;
        }
    }
    *end = i;
    return OPES_OK;
}

static int keyword(const char *p, size_t n)
{
    switch (n) {
    case 2:
        return opes__ieq(p, 2, "BY") ? K_BY : opes__ieq(p, 2, "ID") ? K_ID : K_NONE;
    case 3:
        return opes__ieq(p, 3, "VIA") ? K_VIA : opes__ieq(p, 3, "FOR") ? K_FOR : K_NONE;
    case 4:
        return opes__ieq(p, 4, "FROM") ? K_FROM : opes__ieq(p, 4, "WITH") ? K_WITH : K_NONE;
    default:
        return K_NONE;
    }
}

/* 1*atext, atext with RFC 6531 3.3's UTF8-non-ascii. */
static int is_atom(const char *p, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return 0;
    while (i < n) {
        if (OPES__IS(p[i], OPES__C_ATEXT)) {
            i++;
        } else if ((unsigned char)p[i] >= 0x80) {
            size_t k = opes__utf8_seq((const unsigned char *)p + i, n - i, NULL);
            if (!k)
                return 0;
            i += k;
        } else {
            return 0;
        }
    }
    return 1;
}

/* dot-atom-text = 1*atext *("." 1*atext) at p[i..n): the index after it, or i. */
static size_t dot_atom_text(const char *p, size_t n, size_t i)
{
    size_t start = i, last = i;
    for (;;) {
        size_t s = i;
        while (i < n && OPES__IS(p[i], OPES__C_ATEXT))
            i++;
        if (i == s)
            return last == start ? start : last;
        last = i;
        if (i + 1 < n && p[i] == '.' && OPES__IS(p[i + 1], OPES__C_ATEXT))
            i++;
        else
            return last;
    }
}

/* msg-id = "<" id-left "@" id-right ">" (RFC 5322 3.6.4): id-left =
 * dot-atom-text, id-right = dot-atom-text / "[" *dtext "]". */
static int is_msgid(const char *p, size_t n)
{
    size_t i;
    if (n < 5 || p[0] != '<' || p[n - 1] != '>')
        return 0;
    i = dot_atom_text(p, n - 1, 1);
    if (i == 1 || i >= n - 1 || p[i] != '@')
        return 0;
    i++;
    if (i < n - 1 && p[i] == '[') {
        for (i++; i < n - 1 && p[i] != ']'; i++)
            if (!OPES__IS(p[i], OPES__C_DCONTENT))
                return 0;
        return i == n - 2;
    }
    return i < n - 1 && dot_atom_text(p, n - 1, i) == n - 1;
}

/* FOR's value: Path ("<" [A-d-l ":"] Mailbox ">") or Mailbox, UTF-8 allowed
 * (RFC 6531 3.7.3); the SMTP length limits are not the trace's business.
 * Returns OPES_OK or the path status. */
static opes_status check_for(const char *p, size_t n)
{
    opes_path path;
    if (n >= 1 && p[0] == '<') {
        size_t used = 0;
        opes_status st;
        if (n >= 3 && p[1] != '@' && p[n - 1] == '>')
            return opes__mailbox_parse_lenient(OPES_LENIENT_LONG_ADDRESS, 1, p + 1, n - 2, &path);
        st = opes_path_parse(NULL, OPES_PATH_REVERSE, 1, p, n, &path, &used, NULL);
        if (st == OPES_OK && (used != n || path.kind != OPES_PATH_MAILBOX))
            st = OPES_EBAD_PATH;
        return st;
    }
    return opes__mailbox_parse_lenient(OPES_LENIENT_LONG_ADDRESS, 1, p, n, &path);
}

/* Is p[0..n) a bare IPv4 or IPv6 address (Exchange writes "(192.0.2.1)")?
 * Checked as an address literal in a small stack buffer. */
static int is_bare_ip(const char *p, size_t n)
{
    char lit[64];
    size_t k = 0, colons = 0;
    if (n == 0 || n > 45)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ':')
            colons++;
        else if (!OPES__IS(p[i], OPES__C_HEX) && p[i] != '.')
            return 0;
    }
    lit[k++] = '[';
    if (colons) {
        memcpy(lit + k, "IPv6:", 5);
        k += 5;
    }
    memcpy(lit + k, p, n);
    k += n;
    lit[k++] = ']';
    return opes_address_literal_check(lit, k, NULL) == OPES_OK;
}

/* TCP-info in comment content p[0..n): the address literal (or, tolerated,
 * a bare IP) and the word before it. *exact: the content is TCP-info and
 * nothing else (RFC 5321 4.4). Top-level words only; nested comments are
 * skipped. */
static void tcp_info(rctx *c, const char *p, size_t n, opes_str *rdns, opes_str *ip, int *exact,
                     int *bare)
{
    size_t i = 0, words = 0, prev_s = 0, prev_e = 0;
    unsigned info = 0;
    int found = 0;
    *exact = 0;
    *bare = 0;
    while (i < n) {
        size_t s, e;
        i = opes__lx_fws(p, n, i, c->lxo, &info);
        if (i >= n)
            break;
        if (p[i] == '(') {
            size_t err = 0;
            if (opes__lx_comment(p, n, i, c->lxo, &e, &info, &err) != OPES_OK)
                return;
            words += 2; /* a nested comment: not TCP-info exactly */
            i = e;
            continue;
        }
        s = i;
        while (i < n && !is_wsp((unsigned char)p[i]) && p[i] != '\r' && p[i] != '\n' && p[i] != '(')
            i++;
        if (i == s) {
            i++; /* a lone CR or LF (not a fold): skip it */
            continue;
        }
        e = i;
        words++;
        if (!found) {
            size_t r = s;
            if (p[s] == '[') {
                while (r < e && p[r] != ']')
                    r++;
                if (r < e && opes_address_literal_check(p + s, r + 1 - s, NULL) == OPES_OK) {
                    *ip = view(p, s, r + 1);
                    found = 1;
                    if (words == 1 && r + 1 == e)
                        *exact = 1;
                    else if (words == 2 && r + 1 == e &&
                             opes_domain_check(p + prev_s, prev_e - prev_s, 1, 0, NULL, NULL,
                                               NULL) == OPES_OK)
                        *exact = 2;
                }
            } else if (!c->strict && is_bare_ip(p + s, e - s)) {
                *ip = view(p, s, e);
                found = 1;
                *bare = 1;
            }
            if (found && words >= 2)
                *rdns = view(p, prev_s, prev_e);
        }
        prev_s = s;
        prev_e = e;
    }
    if (*exact && words != (size_t)*exact)
        *exact = 0;
    if (*exact && *bare)
        *exact = 0;
}

/* Does a clause keyword follow position i (a word boundary, before ";")?
 * A look-ahead that leaves no trace (flags restored, envelope-from
 * untouched). Memoised so that the look-aheads of a whole field scan each
 * byte a bounded number of times: a later question from inside a scanned
 * stretch is answered from the memo. */
static int keyword_later(rctx *c, size_t i)
{
    unsigned saved = c->flags;
    size_t err = c->err, start = i;
    if (c->kw_valid && i >= c->kw_from && (c->kw_at == SIZE_MAX || i <= c->kw_at))
        return c->kw_at != SIZE_MAX;
    c->kw_valid = 1;
    c->kw_from = start;
    c->kw_at = SIZE_MAX;
    while (i < c->len && c->b[i] != ';') {
        unsigned info = 0;
        size_t e = i;
        if (opes__lx_cfws(c->b, c->len, i, c->lxo, &e, &info, &c->err) != OPES_OK)
            break;
        i = e;
        if (rword(c, i, &e) != OPES_OK || e == i)
            break;
        if (keyword(c->b + i, e - i) != K_NONE) {
            c->kw_at = i;
            break;
        }
        i = e;
    }
    c->flags = saved;
    c->err = err;
    return c->kw_at != SIZE_MAX;
}

/*
 * Tolerant mode: does a VIA or WITH value go on over the next words?
 * Exchange writes "with Microsoft SMTP Server" and "via Frontend
 * Transport". The words after the value, up to a comment, keyword, ";" or
 * the end, are read as RFC 5321 additional clauses (name value pairs, last
 * in Opt-info) when that reading works: an even count and no clause
 * keyword after them; otherwise they are part of the value. Returns the
 * value's end.
 */
static size_t multiword(rctx *c, size_t ve)
{
    size_t j = ve, last = ve, count = 0;
    int by_keyword = 0;
    unsigned saved = c->flags;
    for (;;) {
        unsigned info = 0;
        size_t s = opes__lx_fws(c->b, c->len, j, c->lxo, &info), e = s;
        if (s == j || s >= c->len || c->b[s] == ';' || c->b[s] == '(')
            break;
        if (rword(c, s, &e) != OPES_OK || e == s)
            break;
        if (keyword(c->b + s, e - s) != K_NONE) {
            by_keyword = 1;
            break;
        }
        count++;
        last = e;
        j = e;
    }
    c->flags = saved;
    if (count == 0 || (count % 2 == 0 && !by_keyword && !keyword_later(c, last)))
        return ve;
    return last;
}

static int registered_with(const char *p, size_t n)
{
    static const char *const names[] = {
        "SMTP",       "ESMTP",    "ESMTPA",    "ESMTPS",    "ESMTPSA",   "LMTP",
        "LMTPA",      "LMTPS",    "LMTPSA",    "UTF8SMTP",  "UTF8SMTPA", "UTF8SMTPS",
        "UTF8SMTPSA", "UTF8LMTP", "UTF8LMTPA", "UTF8LMTPS", "UTF8LMTPSA"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k]) == n && opes__ieq(p, n, names[k]))
            return 1;
    return 0;
}

/* Extended-Domain: value b[vs..ve) and the comment after it. */
static opes_status ext_domain(rctx *c, size_t vs, size_t ve, int got, opes_str cm, size_t cm_at,
                              opes_str *rdns, opes_str *ip)
{
    int kind = OPES_DOMAIN_NONE, exact = 0, bare = 0;
    opes_str r = {NULL, 0}, a = {NULL, 0};
    opes_status st;
    if (got)
        tcp_info(c, cm.ptr, cm.len, &r, &a, &exact, &bare);
    if (rdns) {
        *rdns = r;
        *ip = a;
        if (bare)
            c->flags |= OPES_RECEIVED_F_BARE_IP;
    }
    if (opes_domain_check(c->b + vs, ve - vs, 1, 0, &kind, NULL, NULL) != OPES_OK)
        return dev(c, OPES_RECEIVED_F_BAD_DOMAIN, vs);
    /* an address literal needs FWS "(" TCP-info ")" after it */
    if (kind != OPES_DOMAIN_NAME && (!got || !exact || !is_wsp((unsigned char)c->b[cm_at - 1])))
        if ((st = dev(c, OPES_RECEIVED_F_BAD_DOMAIN, vs)) != OPES_OK)
            return st;
    return OPES_OK;
}

static opes_status parse(rctx *c, opes_received *out)
{
    const char *b = c->b;
    size_t len = c->len, i = 0;
    int seen[K_EXTRA + 1] = {0}, last = -1, got = 0;
    opes_str cm = {NULL, 0};
    unsigned info = 0;
    opes_status st;

    if ((st = rsep(c, &i, &cm, &got, &info)) != OPES_OK)
        return st;
    if (got && (st = dev(c, OPES_RECEIVED_F_STRAY, 0)) != OPES_OK)
        return st;
    while (i < len && b[i] != ';') {
        size_t ws = i, we = i, vs, ve, cm_at;
        int k, multi = 0;
        if ((st = rword(c, i, &we)) != OPES_OK)
            return st;
        if (we == ws)
            return fail(c, i, opes__lx_bad_byte(b, len, i, OPES_EBAD_RECEIVED));
        k = keyword(b + ws, we - ws);
        if (k == K_NONE)
            k = K_EXTRA; /* Additional-Registered-Clauses = CFWS Atom FWS String */
        i = we;
        info = 0;
        if ((st = rsep(c, &i, NULL, NULL, &info)) != OPES_OK)
            return st;
        /* the value: the next word unless a keyword, ";", ")" or the end comes */
        vs = ve = i;
        if (i < len && b[i] != ';' && b[i] != ')') {
            size_t e = i;
            if ((st = rword(c, i, &e)) != OPES_OK)
                return st;
            if (e > i && keyword(b + i, e - i) == K_NONE)
                ve = e;
        }
        if (ve == vs) {
            if ((st = dev(c, OPES_RECEIVED_F_STRAY, ws)) != OPES_OK)
                return st;
        } else {
            /* "KEYWORD" FWS value: FWS, not a comment */
            if (!(info & OPES__LX_WSP) || (info & OPES__LX_COMMENT))
                if ((st = dev(c, OPES_RECEIVED_F_NO_FWS, we)) != OPES_OK)
                    return st;
            if (!c->strict && (k == K_VIA || k == K_WITH)) {
                size_t e = multiword(c, ve);
                if (e != ve) {
                    c->flags |= OPES_RECEIVED_F_MULTIWORD;
                    multi = 1;
                    ve = e;
                }
            }
            i = ve;
        }
        /* order (RFC 5321 4.4) */
        if (k != K_EXTRA && seen[k]) {
            if ((st = dev(c, OPES_RECEIVED_F_ORDER, ws)) != OPES_OK)
                return st;
        } else if (k < last) {
            if ((st = dev(c, OPES_RECEIVED_F_ORDER, ws)) != OPES_OK)
                return st;
        }
        if (k > last)
            last = k;
        /* the comments after it */
        got = 0;
        cm.ptr = NULL;
        cm.len = 0;
        if ((st = rsep(c, &i, &cm, &got, &info)) != OPES_OK)
            return st;
        cm_at = got ? (size_t)(cm.ptr - b) - 1 : i; /* the "(" */
        if (k == K_EXTRA) {
            out->extra_count++;
            c->flags |= OPES_RECEIVED_F_EXTRA;
            if (out->extra_count == 1) {
                out->extra_name = view(b, ws, we);
                if (ve > vs)
                    out->extra_value = view(b, vs, ve);
            } else if ((st = dev(c, OPES_RECEIVED_F_EXTRA_MANY, ws)) != OPES_OK) {
                return st;
            }
            if (!is_atom(b + ws, we - ws) ||
                (ve > vs && !is_atom(b + vs, ve - vs) && !(b[vs] == '"' && ve - vs >= 2)))
                if ((st = dev(c, OPES_RECEIVED_F_BAD_ATOM, ws)) != OPES_OK)
                    return st;
            continue;
        }
        if (seen[k] || ve == vs) {
            seen[k] = 1;
            continue;
        }
        seen[k] = 1;
        switch (k) {
        case K_FROM:
            out->from = view(b, vs, ve);
            if (got)
                out->from_comment = cm;
            st = ext_domain(c, vs, ve, got, cm, cm_at, &out->from_rdns, &out->from_ip);
            break;
        case K_BY:
            out->by = view(b, vs, ve);
            if (got)
                out->by_comment = cm;
            st = ext_domain(c, vs, ve, got, cm, cm_at, NULL, NULL);
            break;
        case K_VIA:
            out->via = view(b, vs, ve);
            if (!multi && !is_atom(b + vs, ve - vs))
                st = dev(c, OPES_RECEIVED_F_BAD_ATOM, vs);
            break;
        case K_WITH:
            out->with = view(b, vs, ve);
            if (got)
                out->with_comment = cm;
            if (!registered_with(b + vs, ve - vs))
                c->flags |= OPES_RECEIVED_F_UNREGISTERED_WITH;
            if (!multi && !is_atom(b + vs, ve - vs))
                st = dev(c, OPES_RECEIVED_F_BAD_ATOM, vs);
            break;
        case K_ID:
            out->id = view(b, vs, ve);
            if (!is_atom(b + vs, ve - vs) && !is_msgid(b + vs, ve - vs))
                st = dev(c, OPES_RECEIVED_F_BAD_ID, vs);
            break;
        default: /* K_FOR */
            out->for_path = view(b, vs, ve);
            if (check_for(b + vs, ve - vs) != OPES_OK)
                st = dev(c, OPES_RECEIVED_F_BAD_FOR, vs);
            break;
        }
        if (st != OPES_OK)
            return st;
    }
    if (!seen[K_FROM] && (st = dev(c, OPES_RECEIVED_F_NO_FROM, 0)) != OPES_OK)
        return st;
    if (!seen[K_BY] && (st = dev(c, OPES_RECEIVED_F_NO_BY, i)) != OPES_OK)
        return st;

    /* [CFWS] ";" FWS date-time */
    if (i >= len) {
        out->date_status = OPES_ENOTFOUND;
        return dev(c, OPES_RECEIVED_F_NO_DATE, len);
    } else {
        size_t ds = i + 1, de = len, derr = 0;
        unsigned df = c->strict ? OPES_DATE_STRICT : OPES_DATE_LENIENT_ALL;
        info = 0;
        size_t fs = opes__lx_fws(b, len, ds, c->lxo, &info);
        if (fs == ds && (st = dev(c, OPES_RECEIVED_F_NO_FWS, ds)) != OPES_OK)
            return st;
        while (de > fs && is_wsp((unsigned char)b[de - 1]))
            de--;
        out->date_raw = view(b, fs, de);
        st = opes_date_parse(b + ds, len - ds, df, &out->date, &derr);
        out->date_status = st;
        if (st != OPES_OK) {
            /* a broken line is never tolerated; a bad date is */
            if (c->strict || st == OPES_EBAD_CHAR || st == OPES_EBARE_CR || st == OPES_EBARE_LF ||
                st == OPES_EBAD_UTF8)
                return fail(c, ds + derr, st);
            return dev(c, OPES_RECEIVED_F_BAD_DATE, ds + derr);
        }
        if (out->date.flags & OPES_DATE_F_LF_FOLD)
            c->flags |= OPES_RECEIVED_F_LF_FOLD;
        if (out->date.flags & OPES_DATE_F_RAW_8BIT)
            c->flags |= OPES_RECEIVED_F_RAW_8BIT;
        if (out->date.flags & OPES_DATE_F_OBS)
            return dev(c, OPES_RECEIVED_F_OBS_DATE, ds);
    }
    return OPES_OK;
}

/* see opes/received.h */
opes_status opes_received_parse(const char *buf, size_t len, unsigned flags, opes_received *out,
                                size_t *err_offset)
{
    rctx c;
    opes_status st;

    if (err_offset)
        *err_offset = 0;
    if (!out || (!buf && len) || (flags & ~(unsigned)OPES_RECEIVED_STRICT))
        return OPES_EINVAL;
    memset(out, 0, sizeof *out);
    out->date.weekday = -1;
    memset(&c, 0, sizeof c);
    c.b = buf;
    c.strict = (flags & OPES_RECEIVED_STRICT) != 0;
    c.lxo = c.strict ? 0 : OPES__LX_ALLOW_LF | OPES__LX_ALLOW_RAW8;
    c.len = len ? opes__lx_trim_eol(buf, len, c.lxo) : 0;
    st = parse(&c, out);
    if (st != OPES_OK) {
        memset(out, 0, sizeof *out);
        out->date.weekday = -1;
        if (err_offset)
            *err_offset = c.err > len ? len : c.err;
        return st;
    }
    out->envelope_from = c.envelope_from;
    out->flags = c.flags;
    return OPES_OK;
}

/* ---- builder ------------------------------------------------------------ */

#define RCV_FOLD_AT 78   /* RFC 5322 2.1.1: SHOULD be no more than 78 */
#define RCV_LINE_MAX 998 /* RFC 5322 2.1.1: MUST be no more than 998 */

typedef struct bw {
    opes__wr w;
    size_t col;    /* octets on the current line */
    size_t maxcol; /* the longest line */
    const char *eol;
} bw;

/* Before a piece of n octets that may be folded before: " " or eol TAB. */
static void bw_gap(bw *o, size_t n)
{
    if (o->col > 9 && o->col + 1 + n > RCV_FOLD_AT) {
        opes__wr_puts(&o->w, o->eol);
        opes__wr_putc(&o->w, '\t');
    } else {
        opes__wr_putc(&o->w, ' ');
        o->col++;
        return;
    }
    o->col = 1;
}

static void bw_put(bw *o, const char *p, size_t n)
{
    opes__wr_put(&o->w, p, n);
    o->col += n;
    if (o->col > o->maxcol)
        o->maxcol = o->col;
}

static void bw_puts(bw *o, const char *s)
{
    bw_put(o, s, strlen(s));
}

/* " KEYWORD value" */
static void bw_clause(bw *o, const char *kw, opes_str v, int angle)
{
    size_t n = strlen(kw) + 1 + v.len + (angle ? 2 : 0);
    if (!v.len)
        return;
    bw_gap(o, n);
    bw_puts(o, kw);
    bw_put(o, " ", 1);
    if (angle)
        bw_put(o, "<", 1);
    bw_put(o, v.ptr, v.len);
    if (angle)
        bw_put(o, ">", 1);
}

/* Free comment text: printable ASCII, SP, HT, UTF-8; "(" ")" "\" escaped. */
static int comment_ok(opes_str v, size_t *esc)
{
    size_t i = 0;
    *esc = 0;
    while (i < v.len) {
        unsigned char ch = (unsigned char)v.ptr[i];
        if (ch >= 0x80) {
            size_t k = opes__utf8_seq((const unsigned char *)v.ptr + i, v.len - i, NULL);
            if (!k)
                return 0;
            i += k;
            continue;
        }
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
        if (ch == '(' || ch == ')' || ch == '\\')
            (*esc)++;
        i++;
    }
    return 1;
}

static int view_ok(opes_str v)
{
    return v.ptr != NULL || v.len == 0;
}

/* see opes/received.h */
opes_status opes_received_build(char *dst, size_t cap, size_t *len, const opes_received_stamp *st,
                                unsigned flags)
{
    const opes_str *all[9];
    bw o;
    char date[64];
    size_t dlen = 0, esc = 0, n;
    int kind = OPES_DOMAIN_NONE;
    opes_status s;

    if (len)
        *len = 0;
    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || !st || (flags & ~(unsigned)OPES_RECEIVED_BUILD_LF))
        return OPES_EINVAL;
    all[0] = &st->helo;
    all[1] = &st->rdns;
    all[2] = &st->ip;
    all[3] = &st->by;
    all[4] = &st->by_comment;
    all[5] = &st->via;
    all[6] = &st->with;
    all[7] = &st->id;
    all[8] = &st->for_path;
    for (size_t k = 0; k < 9; k++)
        if (!view_ok(*all[k]))
            return OPES_EINVAL;
    for (size_t k = 0; k < 9; k++)
        if (opes__unsafe_at(all[k]->ptr, all[k]->len) != all[k]->len)
            return OPES_EINJECT;
    /* FROM Extended-Domain and TCP-info (RFC 5321 4.4) */
    if (!st->by.len)
        return OPES_EINVAL;
    if (st->helo.len) {
        s = opes_domain_check(st->helo.ptr, st->helo.len, 1, 0, &kind, NULL, NULL);
        if (s != OPES_OK)
            return s;
        if (kind != OPES_DOMAIN_NAME && !st->ip.len)
            return OPES_EINVAL;
    } else if (st->rdns.len || st->ip.len) {
        return OPES_EINVAL;
    }
    if (st->rdns.len && !st->ip.len)
        return OPES_EINVAL;
    if (st->rdns.len) {
        s = opes_domain_check(st->rdns.ptr, st->rdns.len, 1, 0, &kind, NULL, NULL);
        if (s != OPES_OK || kind != OPES_DOMAIN_NAME)
            return OPES_EBAD_DOMAIN;
    }
    if (st->ip.len && opes_address_literal_check(st->ip.ptr, st->ip.len, NULL) != OPES_OK)
        return OPES_EBAD_ADDRESS_LITERAL;
    s = opes_domain_check(st->by.ptr, st->by.len, 1, 0, &kind, NULL, NULL);
    if (s != OPES_OK || kind != OPES_DOMAIN_NAME)
        return OPES_EBAD_DOMAIN;
    if ((st->via.len && !is_atom(st->via.ptr, st->via.len)) ||
        (st->with.len && !is_atom(st->with.ptr, st->with.len)) ||
        (st->id.len && !is_atom(st->id.ptr, st->id.len) && !is_msgid(st->id.ptr, st->id.len)) ||
        !comment_ok(st->by_comment, &esc))
        return OPES_EBAD_RECEIVED;
    if (st->for_path.len) {
        s = check_for(st->for_path.ptr, st->for_path.len);
        if (s != OPES_OK)
            return s;
    }
    s = opes_date_build(date, sizeof date, &dlen, &st->date);
    if (s != OPES_OK)
        return s == OPES_ENOSPC ? OPES_EBAD_DATE : s;

    memset(&o, 0, sizeof o);
    opes__wr_init(&o.w, dst, cap);
    o.eol = (flags & OPES_RECEIVED_BUILD_LF) ? "\n" : "\r\n";
    bw_puts(&o, "Received:");
    if (st->helo.len) {
        bw_clause(&o, "from", st->helo, 0);
        if (st->ip.len) {
            n = 2 + (st->rdns.len ? st->rdns.len + 1 : 0) + st->ip.len;
            bw_gap(&o, n);
            bw_put(&o, "(", 1);
            if (st->rdns.len) {
                bw_put(&o, st->rdns.ptr, st->rdns.len);
                bw_put(&o, " ", 1);
            }
            bw_put(&o, st->ip.ptr, st->ip.len);
            bw_put(&o, ")", 1);
        }
    }
    bw_clause(&o, "by", st->by, 0);
    if (st->by_comment.len) {
        bw_gap(&o, st->by_comment.len + esc + 2);
        bw_put(&o, "(", 1);
        for (size_t k = 0; k < st->by_comment.len; k++) {
            char ch = st->by_comment.ptr[k];
            if (ch == '(' || ch == ')' || ch == '\\')
                bw_put(&o, "\\", 1);
            bw_put(&o, &ch, 1);
        }
        bw_put(&o, ")", 1);
    }
    bw_clause(&o, "via", st->via, 0);
    bw_clause(&o, "with", st->with, 0);
    bw_clause(&o, "id", st->id, 0);
    bw_clause(&o, "for", st->for_path, st->for_path.len && st->for_path.ptr[0] != '<');
    bw_put(&o, ";", 1);
    bw_gap(&o, dlen);
    bw_put(&o, date, dlen);
    opes__wr_puts(&o.w, o.eol);
    if (o.maxcol > RCV_LINE_MAX)
        return OPES_EHEADER_LINE_TOO_LONG;
    return opes__wr_finish(&o.w, len);
}

/* see opes/received.h */
const char *opes_received_with_type(unsigned with_flags)
{
    /* index: UTF8 | LMTP << 1 | TLS << 2 | AUTH << 3 (RFC 3848 2, RFC 6531 4.3) */
    static const char *const names[16] = {"ESMTP",   "UTF8SMTP",   "LMTP",   "UTF8LMTP",
                                          "ESMTPS",  "UTF8SMTPS",  "LMTPS",  "UTF8LMTPS",
                                          "ESMTPA",  "UTF8SMTPA",  "LMTPA",  "UTF8LMTPA",
                                          "ESMTPSA", "UTF8SMTPSA", "LMTPSA", "UTF8LMTPSA"};
    if (with_flags & ~(unsigned)0x1f)
        return NULL;
    if (with_flags & OPES_WITH_HELO)
        return with_flags == OPES_WITH_HELO ? "SMTP" : NULL; /* RFC 5321 4.4 */
    return names[with_flags];
}
