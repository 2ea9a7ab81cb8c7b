/*
 * SMTP command lines: parsed for servers, built for clients.
 *
 * RFC 5321 4.1.1 (commands), 4.1.2 (argument syntax), 2.3.8 (line ends),
 * 2.4 (US-ASCII only), 4.5.3.1.4 (512-octet lines); RFC 2033 4.1 (LHLO);
 * RFC 3030 2 (BDAT); RFC 3207 4 (STARTTLS); RFC 4954 4 (AUTH); RFC 6531
 * 3.3 and 3.7.4.2 (SMTPUTF8). The reply-code table is in opes/command.h.
 */
#include "internal.h"
#include "smtp_config_internal.h"

/* ---- verbs --------------------------------------------------------------- */

static const char *const verb_names[OPES_VERB__COUNT] = {
    NULL,   "HELO", "EHLO", "LHLO", "MAIL", "RCPT", "DATA",     "BDAT",
    "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH",
};

/* see opes/command.h */
const char *opes_verb_name(int verb)
{
    if (verb <= OPES_VERB_UNKNOWN || verb >= OPES_VERB__COUNT)
        return NULL;
    return verb_names[verb];
}

/* A verb packed into a uint64_t, one upper-case byte per octet, first byte
 * lowest (the dispatch smtp-proto uses: one switch, no string compares). */
#define K_(c, i) ((uint64_t)(unsigned char)(c) << (8 * (i)))
#define KEY4(a, b, c, d) (K_(a, 0) | K_(b, 1) | K_(c, 2) | K_(d, 3))
#define KEY8(a, b, c, d, e, f, g, h) (KEY4(a, b, c, d) | K_(e, 4) | K_(f, 5) | K_(g, 6) | K_(h, 7))

static int verb_from_key(uint64_t key)
{
    switch (key) {
    case KEY4('H', 'E', 'L', 'O'):
        return OPES_VERB_HELO;
    case KEY4('E', 'H', 'L', 'O'):
        return OPES_VERB_EHLO;
    case KEY4('L', 'H', 'L', 'O'):
        return OPES_VERB_LHLO;
    case KEY4('M', 'A', 'I', 'L'):
        return OPES_VERB_MAIL;
    case KEY4('R', 'C', 'P', 'T'):
        return OPES_VERB_RCPT;
    case KEY4('D', 'A', 'T', 'A'):
        return OPES_VERB_DATA;
    case KEY4('B', 'D', 'A', 'T'):
        return OPES_VERB_BDAT;
    case KEY4('R', 'S', 'E', 'T'):
        return OPES_VERB_RSET;
    case KEY4('V', 'R', 'F', 'Y'):
        return OPES_VERB_VRFY;
    case KEY4('E', 'X', 'P', 'N'):
        return OPES_VERB_EXPN;
    case KEY4('H', 'E', 'L', 'P'):
        return OPES_VERB_HELP;
    case KEY4('N', 'O', 'O', 'P'):
        return OPES_VERB_NOOP;
    case KEY4('Q', 'U', 'I', 'T'):
        return OPES_VERB_QUIT;
    case KEY8('S', 'T', 'A', 'R', 'T', 'T', 'L', 'S'):
        return OPES_VERB_STARTTLS;
    case KEY4('A', 'U', 'T', 'H'):
        return OPES_VERB_AUTH;
    default:
        return OPES_VERB_UNKNOWN;
    }
}

/* The verb word: the bytes before the first SP or HT. Every byte is looked
 * at (none skipped): a word is a verb only if it is 1-8 ASCII letters that
 * fold to one, so "DA\rTA" and "DATAX" are not DATA. */
struct word {
    size_t len;     /* bytes of the word */
    int verb;       /* OPES_VERB_*; UNKNOWN until determined */
    int determined; /* no later byte can change the verb */
    int lower;      /* a lower-case letter was seen */
};

static void scan_word(const char *p, size_t n, int at_end, struct word *w)
{
    uint64_t key = 0;
    size_t i = 0;
    int letters = 1;
    /* Fast path: a four-byte word that is a verb. A byte b has b & 0xDF in
     * A-Z exactly when b is an ASCII letter, so the masked key equals a
     * verb's only when all four bytes are letters folding to it; a letter
     * is lower case exactly when it has the 0x20 bit. */
    if (n >= 4 && (n == 4 ? at_end : (p[4] == ' ' || p[4] == '\t'))) {
        uint64_t v = K_(p[0], 0) | K_(p[1], 1) | K_(p[2], 2) | K_(p[3], 3);
        int verb = verb_from_key(v & 0xDFDFDFDFu);
        if (verb != OPES_VERB_UNKNOWN) {
            w->len = 4;
            w->determined = 1;
            w->verb = verb;
            w->lower = (v & 0x20202020u) != 0;
            return;
        }
    }
    w->lower = 0;
    while (i < n && p[i] != ' ' && p[i] != '\t') {
        unsigned char c = (unsigned char)p[i];
        if (i < 8 && OPES__IS(c, OPES__C_ALPHA)) {
            if (c >= 'a')
                w->lower = 1;
            key |= K_(opes__upper(c), i);
        } else {
            letters = 0;
        }
        i++;
    }
    w->len = i;
    /* complete when a separator follows or the line ends here; a word with
     * a non-letter or more than 8 bytes is unknown whatever follows */
    w->determined = i < n || at_end || !letters || i > 8;
    w->verb = (letters && i > 0 && i <= 8 && (i < n || at_end)) ? verb_from_key(key) : 0;
}

/* ---- line limits --------------------------------------------------------- */

/* opes_smtp_config_offers for an upper-case literal of at most 8 bytes,
 * its key given as a constant. */
static int offers(const opes_smtp_config *cfg, uint64_t key, const char *kw, size_t n)
{
    return opes__config_offers(cfg, key, kw, n);
}
#define KW_AUTH OPES__KEY('A', 'U', 'T', 'H', 0, 0, 0, 0)
#define KW_SMTPUTF8 OPES__KEY('S', 'M', 'T', 'P', 'U', 'T', 'F', '8')
#define KW_STARTTLS OPES__KEY('S', 'T', 'A', 'R', 'T', 'T', 'L', 'S')
#define KW_CHUNKING OPES__KEY('C', 'H', 'U', 'N', 'K', 'I', 'N', 'G')

/* The limit of a verb's line incl. its terminator. AUTH, when offered,
 * gets OPES_LIMIT_AUTH_LINE (RFC 4954 4: 12288 octets for the base64 of
 * deployed mechanisms), never less than the plain command limit; when not
 * offered it is a plain command (and answered 502). */
static size_t verb_limit(const opes_smtp_config *cfg, int verb)
{
    size_t base = opes_smtp_config_line_limit(cfg, verb);
    if (verb == OPES_VERB_AUTH && offers(cfg, KW_AUTH, "AUTH", 4)) {
        size_t a = opes__cfg_limit(cfg, OPES_LIMIT_AUTH_LINE);
        return a > base ? a : base;
    }
    return base;
}

/* The largest limit any verb can have: what applies while the verb of a
 * line is not known yet. */
static size_t max_limit(const opes_smtp_config *cfg)
{
    size_t m = opes_smtp_config_line_limit(cfg, OPES_VERB_MAIL);
    size_t r = opes_smtp_config_line_limit(cfg, OPES_VERB_RCPT);
    size_t a = verb_limit(cfg, OPES_VERB_AUTH);
    if (r > m)
        m = r;
    return a > m ? a : m;
}

/* Find the line end in buf[from..to): the index of the LF of the first
 * CRLF, or (bare_lf) of the first LF. A bare CR or (strict) bare LF does
 * not end a line (RFC 5321 2.3.8). buf[from - 1] may be looked at. */
static int find_eol(const char *buf, size_t from, size_t to, int bare_lf, size_t *eol)
{
    size_t i = from;
    while (i < to) {
        const char *lf = memchr(buf + i, '\n', to - i);
        if (!lf)
            return 0;
        i = (size_t)(lf - buf);
        if (bare_lf || (i > 0 && buf[i - 1] == '\r')) {
            *eol = i;
            return 1;
        }
        i++;
    }
    return 0;
}

/* The skip contract of an over-long line (see opes_command_parse): consume
 * through the line end if it is in buf (searching from `from`), else all of
 * buf but a trailing CR, which may be the first half of the CRLF. */
static size_t skip_len(const char *buf, size_t len, size_t from, int bare_lf, size_t *line_len)
{
    size_t eol;
    if (find_eol(buf, from, len, bare_lf, &eol)) {
        *line_len = eol + 1;
        return eol + 1;
    }
    *line_len = 0;
    return (len > 0 && buf[len - 1] == '\r') ? len - 1 : len;
}

/* see opes/command.h */
opes_status opes_line_skip(const opes_smtp_config *cfg, const char *buf, size_t len, size_t *used)
{
    size_t line_len;
    if (!used)
        return OPES_EINVAL;
    *used = 0;
    if (!buf && len)
        return OPES_EINVAL;
    *used = skip_len(buf, len, 0, (opes__cfg_lenient(cfg) & OPES_LENIENT_BARE_LF) != 0, &line_len);
    return line_len ? OPES_OK : OPES_INCOMPLETE;
}

/* ---- argument grammars (shared by the parser and the builders) ---------- */

/* Domain or address-literal (RFC 5321 4.1.2, 4.1.3) through path.c's one
 * grammar, then the domain limit. U-labels only under OPES_LENIENT_8BIT: the
 * EHLO domain is ASCII even with SMTPUTF8 (RFC 6531 3.7.1). */
static opes_status check_domain(const char *p, size_t n, unsigned lenient, size_t limit,
                                size_t *err, unsigned *notes)
{
    unsigned dn = 0;
    opes_status st = opes_domain_check(p, n, 0, lenient, NULL, err, &dn);
    if (st == OPES_EBAD_UTF8 && !(lenient & OPES_LENIENT_8BIT))
        return OPES_EBAD_CHAR; /* RFC 5321 2.4: "500 ... invalid character" */
    if (st == OPES_EBAD_CHAR && *err < n && p[*err] == ' ')
        return OPES_EBAD_DOMAIN; /* "EHLO foo bar": argument syntax, 501 */
    if (st != OPES_OK)
        return st;
    if (n > limit) {
        if (!(lenient & OPES_LENIENT_LONG_ADDRESS)) {
            *err = limit;
            return OPES_EDOMAIN_TOO_LONG;
        }
        *notes |= OPES_NOTE_LONG_ADDRESS;
    }
    *notes |= dn;
    return OPES_OK;
}

/* String = Atom / Quoted-string (RFC 5321 4.1.2) at the start of p[0..n),
 * with UTF8-non-ascii in atext and qtextSMTP (RFC 6531 3.3) accepted here
 * and judged by the caller through *first8 (offset of the first non-ASCII
 * byte, or SIZE_MAX). *consumed: bytes of the String. */
static opes_status check_string(const char *p, size_t n, size_t *consumed, size_t *first8,
                                size_t *err)
{
    size_t i = 0;
    *first8 = SIZE_MAX;
    if (n == 0) {
        *err = 0;
        return OPES_ESYNTAX;
    }
    if (p[0] == '"') {
        i = 1;
        for (;;) {
            unsigned char c;
            if (i >= n) {
                *err = n; /* no closing DQUOTE */
                return OPES_ESYNTAX;
            }
            c = (unsigned char)p[i];
            if (c == '"') {
                i++;
                break;
            }
            if (c == '\\') { /* quoted-pairSMTP = %d92 %d32-126 */
                if (i + 1 >= n || (unsigned char)p[i + 1] < 32 || (unsigned char)p[i + 1] > 126) {
                    *err = i + 1;
                    return OPES_ESYNTAX;
                }
                i += 2;
            } else if (OPES__IS(c, OPES__C_QTEXT)) {
                i++;
            } else if (c >= 0x80) {
                size_t k = opes__utf8_seq((const unsigned char *)p + i, n - i, NULL);
                if (k == 0) {
                    *err = i;
                    return OPES_EBAD_UTF8;
                }
                if (*first8 == SIZE_MAX)
                    *first8 = i;
                i += k;
            } else {
                *err = i;
                return OPES_ESYNTAX;
            }
        }
    } else {
        while (i < n) {
            unsigned char c = (unsigned char)p[i];
            if (OPES__IS(c, OPES__C_ATEXT)) {
                i++;
            } else if (c >= 0x80) {
                size_t k = opes__utf8_seq((const unsigned char *)p + i, n - i, NULL);
                if (k == 0) {
                    *err = i;
                    return OPES_EBAD_UTF8;
                }
                if (*first8 == SIZE_MAX)
                    *first8 = i;
                i += k;
            } else {
                break;
            }
        }
        if (i == 0) {
            *err = 0;
            return OPES_ESYNTAX;
        }
    }
    *consumed = i;
    return OPES_OK;
}

/* VRFY/EXPN argument: String [SP "SMTPUTF8"] (RFC 5321 4.1.1.6-7, RFC 6531
 * 3.7.4.2). *str_len: bytes of the String; *word: the SMTPUTF8 word was
 * given; *lower: it was not in upper case. */
static opes_status check_vrfy(const char *p, size_t n, size_t *str_len, size_t *first8, int *word,
                              int *lower, int *mailbox, size_t *err)
{
    size_t used;
    opes_status st = check_string(p, n, &used, first8, err);
    *word = 0;
    *lower = 0;
    *mailbox = 0;
    if (st != OPES_OK)
        return st;
    /* RFC 5321 3.5.1: the argument is "a user name or a user name and
     * domain", which "cannot be further restricted"; the String production
     * of 4.1.1.6 has no "@", yet real clients (Python's smtplib.verify)
     * send "VRFY user@domain" and servers take it. So a String followed by
     * "@" Domain / address-literal is accepted: the Mailbox form. */
    if (used < n && p[used] == '@') {
        size_t d = used + 1, e = d, derr = 0;
        while (e < n && p[e] != ' ')
            e++;
        st = opes_domain_check(p + d, e - d, 1, 0, NULL, &derr, NULL);
        if (st != OPES_OK) {
            *err = d + derr;
            return st == OPES_EBAD_UTF8 ? st : OPES_ESYNTAX;
        }
        for (size_t k = d; k < e && *first8 == SIZE_MAX; k++)
            if ((unsigned char)p[k] >= 0x80)
                *first8 = k;
        used = e;
        *mailbox = 1;
    }
    *str_len = used;
    if (used == n)
        return OPES_OK;
    if (n - used == 9 && p[used] == ' ' && opes__ieq(p + used + 1, 8, "SMTPUTF8")) {
        *word = 1;
        for (size_t i = used + 1; i < n; i++)
            if (p[i] >= 'a' && p[i] <= 'z')
                *lower = 1;
        return OPES_OK;
    }
    *err = used;
    return OPES_ESYNTAX;
}

/* Base64 as RFC 4954 4 demands: only the alphabet, "=" only as the final
 * padding (one or two), length a multiple of 4 ("=AAA" and "AAA=BBB" are
 * rejected). An empty string is valid (an empty exchange line). */
static opes_status check_base64(const char *p, size_t n, size_t *err)
{
    size_t i = 0, pad = 0;
    while (i < n && OPES__IS(p[i], OPES__C_B64))
        i++;
    while (i < n && p[i] == '=' && pad < 2) {
        i++;
        pad++;
    }
    if (i < n) {
        *err = i;
        return OPES_EBAD_BASE64;
    }
    if (n % 4 != 0) {
        *err = n;
        return OPES_EBAD_BASE64;
    }
    return OPES_OK;
}

/* AUTH argument: sasl-mech [SP initial-response] (RFC 4954 4 and 8).
 * sasl-mech: 1 to 20 of A-Z 0-9 "-" "_" (RFC 4422 3.1, the IANA SASL
 * registry), matched case-insensitively (RFC 4954 8); initial-response:
 * base64 or "=". */
static opes_status check_auth(const char *p, size_t n, size_t *mech_len, int *lower, size_t *err)
{
    size_t i = 0;
    *lower = 0;
    while (i < n && p[i] != ' ') {
        unsigned char c = (unsigned char)p[i];
        if (!(OPES__IS(c, OPES__C_ALPHA | OPES__C_DIGIT) || c == '-' || c == '_') || i >= 20) {
            *err = i;
            return c >= 0x80 ? OPES_EBAD_CHAR : OPES_ESYNTAX;
        }
        if (c >= 'a' && c <= 'z')
            *lower = 1;
        i++;
    }
    if (i == 0) {
        *err = 0;
        return OPES_ESYNTAX;
    }
    *mech_len = i;
    if (i == n)
        return OPES_OK;
    i++; /* SP */
    if (n - i == 1 && p[i] == '=')
        return OPES_OK;
    if (i == n) { /* "AUTH X " with nothing after the SP (builder only) */
        *err = i;
        return OPES_EBAD_BASE64;
    }
    {
        size_t e;
        opes_status st = check_base64(p + i, n - i, &e);
        if (st != OPES_OK) {
            *err = i + e;
            return st;
        }
    }
    return OPES_OK;
}

/* BDAT argument: chunk-size [SP "LAST"], chunk-size = 1*DIGIT (RFC 3030 2),
 * which must fit in a uint64_t. */
static opes_status check_bdat(const char *p, size_t n, uint64_t *size, int *last, int *lower,
                              size_t *err)
{
    uint64_t v = 0;
    size_t i = 0;
    *last = 0;
    *lower = 0;
    while (i < n && OPES__IS(p[i], OPES__C_DIGIT)) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *err = i;
            return OPES_EBAD_NUMBER;
        }
        v = v * 10 + d;
        i++;
    }
    if (i == 0) {
        *err = 0;
        return OPES_EBAD_NUMBER;
    }
    *size = v;
    if (i == n)
        return OPES_OK;
    if (n - i == 5 && p[i] == ' ' && opes__ieq(p + i + 1, 4, "LAST")) {
        *last = 1;
        for (size_t k = i + 1; k < n; k++)
            if (p[k] >= 'a' && p[k] <= 'z')
                *lower = 1;
        return OPES_OK;
    }
    *err = i;
    return OPES_ESYNTAX;
}

/* ---- the parser ------------------------------------------------------------ */

struct pctx {
    const opes_smtp_config *cfg;
    unsigned lenient;
    const char *line;
    opes_command *cmd;
};

static opes_status fail(struct pctx *x, opes_status st, size_t off, int code, const char *enh)
{
    x->cmd->error_offset = off;
    x->cmd->reply_code = code;
    x->cmd->enhanced = enh;
    return st;
}

static size_t off_of(const struct pctx *x, const char *p)
{
    return (size_t)(p - x->line);
}

/* A non-ASCII byte where SMTPUTF8 does not allow it: "500 syntax error -
 * invalid character" (RFC 5321 2.4). */
static opes_status invalid_char(struct pctx *x, size_t off)
{
    return fail(x, OPES_EBAD_CHAR, off, 500, "5.5.2");
}

/* Non-ASCII text outside any UTF-8 grammar (NOOP, HELP): accepted as valid
 * UTF-8 under OPES_LENIENT_8BIT (noted), else invalid. */
static opes_status ascii_or_lenient(struct pctx *x, const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        if ((unsigned char)p[i] < 0x80) {
            i++;
            continue;
        }
        if (!(x->lenient & OPES_LENIENT_8BIT))
            return invalid_char(x, off_of(x, p + i));
        {
            size_t k = opes__utf8_seq((const unsigned char *)p + i, n - i, NULL);
            if (k == 0) /* ill-formed: an invalid character, as everywhere */
                return fail(x, OPES_EBAD_UTF8, off_of(x, p + i), 500, "5.5.2");
            i += k;
        }
        x->cmd->notes |= OPES_NOTE_8BIT;
    }
    return OPES_OK;
}

static opes_status do_hello(struct pctx *x, const char *a, size_t n)
{
    size_t err = 0;
    opes_status st;
    if (n == 0)
        return fail(x, OPES_EMISSING_ARG, off_of(x, a), 501, "5.5.4");
    st = check_domain(a, n, x->lenient, opes__cfg_limit(x->cfg, OPES_LIMIT_DOMAIN), &err,
                      &x->cmd->notes);
    if (st == OPES_EBAD_CHAR)
        return invalid_char(x, off_of(x, a + err));
    if (st == OPES_EDOMAIN_TOO_LONG)
        return fail(x, st, off_of(x, a + err), 501, "5.5.4");
    if (st != OPES_OK)
        return fail(x, st, off_of(x, a + err), 501, "5.5.2");
    x->cmd->domain.ptr = a;
    x->cmd->domain.len = n;
    return OPES_OK;
}

/* Map a path status to a reply: 501 with X.1.7 (sender) or X.1.3
 * (recipient) address syntax (RFC 3463 3.2), also for the length limits
 * (RFC 5321 4.5.3.1.9 "501 Path too long"); a non-ASCII byte without
 * SMTPUTF8: 500 (RFC 5321 2.4) with X.6.7 "Non-ASCII addresses not
 * permitted for that sender/recipient" (RFC 6531 4.2). */
/* A path error. Non-ASCII: well-formed UTF-8 without SMTPUTF8 in effect is
 * an address the server may not take, "550" for MAIL, "553" for RCPT with
 * X.6.7 (RFC 6531 3.5); ill-formed UTF-8 is an invalid character anywhere,
 * "500" (RFC 5321 2.4), as in every other command. */
static opes_status path_fail(struct pctx *x, opes_status st, const char *at, int utf8, int is_mail)
{
    size_t off = off_of(x, at);
    if ((st == OPES_EBAD_UTF8 || st == OPES_EBAD_CHAR) && (unsigned char)*at >= 0x80) {
        size_t rem = x->cmd->line_len > off ? x->cmd->line_len - off : 0;
        if (!utf8 && rem && opes__utf8_seq((const unsigned char *)at, rem, NULL) != 0)
            return fail(x, OPES_EBAD_UTF8, off, is_mail ? 550 : 553, "5.6.7");
        return fail(x, OPES_EBAD_UTF8, off, 500, "5.5.2");
    }
    return fail(x, st, off, 501, is_mail ? "5.1.7" : "5.1.3");
}

/* Map a parameter status (RFC 5321 4.1.1.11: 555 for a parameter not
 * recognized or not offered; 501 for the rest). */
static opes_status param_fail(struct pctx *x, opes_status st, const char *at, int utf8)
{
    size_t off = off_of(x, at);
    switch (st) {
    case OPES_EPARAM_UNKNOWN:
        return fail(x, st, off, 555, "5.5.4");
    case OPES_EPARAM_DUPLICATE:
    case OPES_EPARAM_VALUE:
    case OPES_EPARAM_TOO_LONG:
    case OPES_ETOO_MANY_PARAMS:
    case OPES_EBAD_NUMBER: /* SIZE over UINT64_MAX: out of range */
        return fail(x, st, off, 501, "5.5.4");
    case OPES_EBAD_UTF8:
    case OPES_EBAD_CHAR:
        if (!utf8 && (unsigned char)*at >= 0x80)
            return invalid_char(x, off);
        return fail(x, st, off, 501, "5.5.2");
    default:
        return fail(x, st, off, 501, "5.5.2");
    }
}

static int has_lower(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            return 1;
    return 0;
}

static opes_status do_mail_rcpt(struct pctx *x, const char *a, size_t n, int is_mail)
{
    opes_command *cmd = x->cmd;
    const char *kw = is_mail ? "FROM:" : "TO:";
    size_t kwl = is_mail ? 5 : 3;
    const char *p, *end = a + n;
    size_t pused = 0;
    unsigned pnotes = 0;
    int utf8;
    opes_status st;

    if (n == 0)
        return fail(x, OPES_EMISSING_ARG, off_of(x, a), 501, "5.5.4");
    /* "FROM:" / "TO:", case-insensitive (RFC 5321 2.4), no SP before ":".
     * The letters at once: b & 0xDF is the upper-case letter exactly when
     * b is that letter in either case, and 0x20 marks the lower case. */
    {
        uint64_t v = 0, want = is_mail ? KEY4('F', 'R', 'O', 'M') : K_('T', 0) | K_('O', 1);
        uint64_t mask = is_mail ? 0xDFDFDFDFu : 0xDFDFu;
        size_t letters = kwl - 1;
        if (n >= kwl) {
            for (size_t i = 0; i < letters; i++)
                v |= K_(a[i], i);
        }
        if (n >= kwl && (v & mask) == want && a[letters] == ':') {
            if (v & 0x2020202020u)
                cmd->notes |= OPES_NOTE_CASE;
        } else {
            for (size_t i = 0; i < kwl; i++) {
                if (i >= n || opes__upper((unsigned char)a[i]) != (unsigned char)kw[i])
                    return fail(x, OPES_ESYNTAX, off_of(x, a + i), 501, "5.5.2");
            }
            if (has_lower(a, kwl)) /* not reached: the loop finds the mismatch */
                cmd->notes |= OPES_NOTE_CASE;
        }
    }
    p = a + kwl;
    /* The ABNF has no SP after the colon (RFC 5321 4.1.1.2-3). */
    if (p < end && *p == ' ') {
        if (!(x->lenient & OPES_LENIENT_SPACE_AFTER_COLON))
            return fail(x, OPES_ESYNTAX, off_of(x, p), 501, "5.5.2");
        while (p < end && *p == ' ')
            p++;
        cmd->notes |= OPES_NOTE_SPACE_AFTER_COLON;
    }
    /* UTF-8 in the reverse-path needs the SMTPUTF8 parameter of this very
     * command (RFC 6531 3.4), which comes after the path: parse the path
     * permissively when the extension is offered and check after the
     * parameters. RCPT: the transaction's setting (RFC 6531 3.3). */
    utf8 = is_mail ? offers(x->cfg, KW_SMTPUTF8, "SMTPUTF8", 8) : opes__cfg_utf8(x->cfg);
    st = opes_path_parse(x->cfg, is_mail ? OPES_PATH_REVERSE : OPES_PATH_FORWARD, utf8, p,
                         (size_t)(end - p), &cmd->path, &pused, &pnotes);
    if (st != OPES_OK) {
        if (pused > (size_t)(end - p))
            pused = (size_t)(end - p);
        return path_fail(x, st, p + pused, utf8, is_mail);
    }
    cmd->notes |= pnotes;
    if (cmd->path.kind == OPES_PATH_POSTMASTER)
        cmd->notes |= OPES_NOTE_POSTMASTER;
    p += pused;
    if (p < end) {
        size_t eoff = 0;
        if (*p != ' ')
            return fail(x, OPES_ESYNTAX, off_of(x, p), 501, "5.5.2");
        p++;
        st = opes_params_parse(x->cfg, is_mail ? OPES_VERB_MAIL : OPES_VERB_RCPT, p,
                               (size_t)(end - p), &cmd->params, &eoff);
        if (st != OPES_OK) {
            if (eoff > (size_t)(end - p))
                eoff = (size_t)(end - p);
            return param_fail(x, st, p + eoff, utf8);
        }
        cmd->notes |= cmd->params.notes;
    }
    if (is_mail && utf8 && (cmd->path.flags & OPES_PATH_F_UTF8) &&
        opes_params_smtputf8(&cmd->params) != OPES_OK) {
        if (x->lenient & OPES_LENIENT_8BIT) {
            cmd->notes |= OPES_NOTE_8BIT;
        } else {
            const char *q = cmd->path.mailbox.ptr;
            const char *qe = q + cmd->path.mailbox.len;
            while (q < qe && (unsigned char)*q < 0x80)
                q++;
            /* RFC 6531 3.5: a MAIL needing SMTPUTF8 without it, 550 X.6.7 */
            return fail(x, OPES_EBAD_UTF8, off_of(x, q < qe ? q : a), 550, "5.6.7");
        }
    }
    return OPES_OK;
}

static opes_status do_vrfy(struct pctx *x, const char *a, size_t n)
{
    opes_command *cmd = x->cmd;
    size_t slen = 0, first8, err = 0;
    int word, lower, maybe_utf8, mailbox;
    opes_status st;
    if (n == 0)
        return fail(x, OPES_EMISSING_ARG, off_of(x, a), 501, "5.5.4");
    maybe_utf8 = opes__cfg_utf8(x->cfg) || offers(x->cfg, KW_SMTPUTF8, "SMTPUTF8", 8);
    st = check_vrfy(a, n, &slen, &first8, &word, &lower, &mailbox, &err);
    if (st != OPES_OK) {
        if (err < n && (unsigned char)a[err] >= 0x80 && !maybe_utf8 &&
            !(x->lenient & OPES_LENIENT_8BIT))
            return invalid_char(x, off_of(x, a + err));
        return fail(x, st, off_of(x, a + err), 501, "5.5.2");
    }
    if (word) {
        /* the SMTPUTF8 word is a parameter of the extension (RFC 6531
         * 3.7.4.2): 504 "Command parameter not implemented" when not
         * offered (RFC 5321 4.2.3) */
        if (!offers(x->cfg, KW_SMTPUTF8, "SMTPUTF8", 8))
            return fail(x, OPES_EPARAM_UNKNOWN, off_of(x, a + slen + 1), 504, "5.5.4");
        cmd->smtputf8 = 1;
        if (lower)
            cmd->notes |= OPES_NOTE_CASE;
    }
    if (first8 != SIZE_MAX && !opes__cfg_utf8(x->cfg) && !word) {
        if (!(x->lenient & OPES_LENIENT_8BIT))
            return invalid_char(x, off_of(x, a + first8));
        cmd->notes |= OPES_NOTE_8BIT;
    }
    if (mailbox)
        cmd->notes |= OPES_NOTE_MAILBOX_STRING;
    cmd->string.ptr = a;
    cmd->string.len = slen;
    return OPES_OK;
}

static opes_status do_help(struct pctx *x, const char *a, size_t n)
{
    size_t used = 0, first8, err = 0;
    opes_status st;
    if (n == 0)
        return OPES_OK;
    st = check_string(a, n, &used, &first8, &err);
    if (st == OPES_OK && used != n) {
        st = OPES_ESYNTAX;
        err = used;
    }
    if (st != OPES_OK) {
        if (err < n && (unsigned char)a[err] >= 0x80 && !(x->lenient & OPES_LENIENT_8BIT))
            return invalid_char(x, off_of(x, a + err));
        return fail(x, st, off_of(x, a + err), 501, "5.5.2");
    }
    st = ascii_or_lenient(x, a, n);
    if (st != OPES_OK)
        return st;
    x->cmd->string.ptr = a;
    x->cmd->string.len = n;
    return OPES_OK;
}

/* NOOP [SP String]: "If a parameter string is specified, servers SHOULD
 * ignore it" (RFC 5321 4.1.1.9), so any text is taken (the line has
 * already been checked for controls); only non-ASCII follows RFC 5321 2.4. */
static opes_status do_noop(struct pctx *x, const char *a, size_t n)
{
    opes_status st = ascii_or_lenient(x, a, n);
    if (st != OPES_OK)
        return st;
    x->cmd->string.ptr = n ? a : NULL;
    x->cmd->string.len = n;
    return OPES_OK;
}

static opes_status do_bdat(struct pctx *x, const char *a, size_t n)
{
    size_t err = 0;
    int lower;
    opes_status st;
    if (n == 0)
        return fail(x, OPES_EMISSING_ARG, off_of(x, a), 501, "5.5.4");
    st = check_bdat(a, n, &x->cmd->chunk_size, &x->cmd->last, &lower, &err);
    if (st == OPES_EBAD_NUMBER && err > 0)
        return fail(x, st, off_of(x, a + err), 501, "5.5.4"); /* out of range */
    if (st != OPES_OK) {
        if (err < n && (unsigned char)a[err] >= 0x80)
            return invalid_char(x, off_of(x, a + err));
        return fail(x, st, off_of(x, a + err), 501, "5.5.2");
    }
    if (lower)
        x->cmd->notes |= OPES_NOTE_CASE;
    return OPES_OK;
}

static opes_status do_auth(struct pctx *x, const char *a, size_t n)
{
    opes_command *cmd = x->cmd;
    size_t mlen = 0, err = 0;
    int lower;
    opes_status st;
    if (n == 0)
        return fail(x, OPES_EMISSING_ARG, off_of(x, a), 501, "5.5.4");
    st = check_auth(a, n, &mlen, &lower, &err);
    if (st == OPES_EBAD_CHAR)
        return invalid_char(x, off_of(x, a + err));
    if (st != OPES_OK) /* bad base64: 501 5.5.2 (RFC 4954 4) */
        return fail(x, st, off_of(x, a + err), 501, "5.5.2");
    if (lower)
        cmd->notes |= OPES_NOTE_CASE;
    cmd->mechanism.ptr = a;
    cmd->mechanism.len = mlen;
    if (mlen < n) {
        cmd->has_initial_response = 1;
        cmd->initial_response.ptr = a + mlen + 1;
        cmd->initial_response.len = n - mlen - 1;
    }
    return OPES_OK;
}

/* Reset everything but params.item[], which is written as it is parsed
 * (clearing its 64 entries would cost more than parsing a short line). */
static void reset_cmd(opes_command *cmd)
{
    static const opes_str none = {NULL, 0};
    static const opes_path no_path;
    /* field by field: a memset of this size compiles to "rep stos", whose
     * start-up cost was 40% of parsing "DATA\r\n" */
    cmd->verb = OPES_VERB_UNKNOWN;
    cmd->verb_text = none;
    cmd->argument = none;
    cmd->domain = none;
    cmd->path = no_path;
    cmd->params.count = 0;
    cmd->params.notes = 0;
    cmd->string = none;
    cmd->smtputf8 = 0;
    cmd->chunk_size = 0;
    cmd->last = 0;
    cmd->mechanism = none;
    cmd->initial_response = none;
    cmd->has_initial_response = 0;
    cmd->notes = 0;
    cmd->line_len = 0;
    cmd->error_offset = 0;
    cmd->reply_code = 0;
    cmd->enhanced = NULL;
}

/* Offset of the first control character but HT, or DEL, in p[0..n); n if
 * none. Eight octets at a time: "some byte < 0x20" is (v - 0x20..) & ~v &
 * 0x80.., "some byte == 0x7F" the zero-byte test on v ^ 0x7F... Every such
 * byte gets its flag; a flag above a flagged byte may be false (a borrow),
 * the lowest one never is. So a flagged block is looked at byte by byte
 * from its lowest flag (from its start where the byte order is not known
 * to be little-endian). The last, partial block is read as the 8 bytes
 * ending at n, with the flags of bytes already looked at cleared. */
static uint64_t ctl_flags(const char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t v, d;
    memcpy(&v, p, 8);
    d = v ^ (ones * 0x7F);
    return (((v - ones * 0x20) & ~v) | ((d - ones) & ~d)) & highs;
}

static size_t ctl_in_block(const char *p, size_t b, uint64_t flags)
{
    size_t k = b;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    k += (size_t)__builtin_ctzll(flags) / 8;
#else
    (void)flags;
#endif
    for (; k < b + 8; k++) {
        unsigned char c = (unsigned char)p[k];
        if (!OPES__IS(c, OPES__C_TEXT) && c < 0x80)
            return k;
    }
    return SIZE_MAX;
}

static size_t first_ctl_swar(const char *p, size_t n)
{
    size_t i = 0, k;
    uint64_t f;
    if (n < 8) {
        for (; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (!OPES__IS(c, OPES__C_TEXT) && c < 0x80)
                return i;
        }
        return n;
    }
    for (; n - i >= 8; i += 8) {
        f = ctl_flags(p + i);
        if (f && (k = ctl_in_block(p, i, f)) != SIZE_MAX)
            return k;
    }
    if (i < n) {
        /* bytes n-8 .. i-1 were looked at: clear their flags */
        f = ctl_flags(p + n - 8);
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        f &= ~(uint64_t)0 << (8 * (8 - (n - i)));
#endif
        if (f && (k = ctl_in_block(p, n - 8, f)) != SIZE_MAX)
            return k;
    }
    return n;
}

#if OPES__SSE2
/* The same with SSE2, sixteen octets at a time and exact per byte (no
 * borrows): a byte is flagged when it is 0x00-0x1F (unsigned max with 0x1F
 * is 0x1F) but not HT, or 0x7F. The last, partial block is the 16 bytes
 * ending at n, its flags for bytes already looked at cleared; inputs under
 * 16 bytes go the SWAR way. */
static unsigned ctl_flags16(const char *p)
{
    const __m128i c1f = _mm_set1_epi8(0x1F), del = _mm_set1_epi8(0x7F);
    const __m128i ht = _mm_set1_epi8(0x09);
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f);
    m = _mm_andnot_si128(_mm_cmpeq_epi8(v, ht), _mm_or_si128(m, _mm_cmpeq_epi8(v, del)));
    return (unsigned)_mm_movemask_epi8(m);
}

static size_t first_ctl(const char *p, size_t n)
{
    size_t i = 0;
    unsigned bits;
    if (n < 16)
        return first_ctl_swar(p, n);
    for (; n - i >= 16; i += 16) {
        bits = ctl_flags16(p + i);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
    }
    if (i < n) {
        bits = ctl_flags16(p + n - 16) & (0xFFFFu << (16 - (n - i)));
        if (bits)
            return n - 16 + (size_t)__builtin_ctz(bits);
    }
    return n;
}
#else
static size_t first_ctl(const char *p, size_t n)
{
    return first_ctl_swar(p, n);
}
#endif

static opes_status too_long(opes_command *cmd, const char *buf, size_t len, size_t from,
                            int bare_lf, size_t limit, int auth, size_t *used)
{
    size_t line_len;
    *used = skip_len(buf, len, from, bare_lf, &line_len);
    cmd->line_len = line_len;
    cmd->error_offset = limit;
    cmd->reply_code = 500;
    /* RFC 5321 4.5.3.1.9 "500 Line too long."; X.5.2 (RFC 3463: the
     * command could not be interpreted; RFC 5248 lists 500). AUTH lines:
     * X.5.6 (RFC 4954 4, 6) when AUTH is offered (else it is a command
     * like any other, answered 502 when short enough). */
    cmd->enhanced = auth ? "5.5.6" : "5.5.2";
    return OPES_ELINE_TOO_LONG;
}

/* see opes/command.h */
opes_status opes_command_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                               opes_command *cmd, size_t *used)
{
    struct pctx x;
    struct word w;
    unsigned lenient;
    int bare_lf;
    size_t base, lim, eol, line_len, cend, window, ctl;
    const char *arg;
    size_t alen;
    opes_status st;
    int clean;

    if (used)
        *used = 0;
    if (!cmd || !used || (!buf && len))
        return OPES_EINVAL;
    reset_cmd(cmd);
    lenient = opes__cfg_lenient(cfg);
    bare_lf = (lenient & OPES_LENIENT_BARE_LF) != 0;

    /* Find the line end. Every verb's limit is at least the plain command
     * limit, so a line end within it settles the length at once; past it,
     * the largest limit of any verb applies until the verb is known, then
     * the verb's own (RFC 5321 4.5.3.1.4: a shorter line is never too
     * long). */
    base = opes__cfg_limit(cfg, OPES_LIMIT_COMMAND_LINE);
    window = len < base ? len : base;
    /* One pass for the usual line: the first control character (HT aside)
     * or DEL in the window; when it is the CR of a CRLF (or, with
     * OPES_LENIENT_BARE_LF, an LF), that is the line end find_eol would
     * find, and the line holds no control before it. Anything else takes
     * the general path below. */
    ctl = first_ctl(buf, window);
    clean = 0;
    if (ctl < window && buf[ctl] == '\r' && ctl + 1 < window && buf[ctl + 1] == '\n') {
        eol = ctl + 1;
        clean = 1;
    } else if (ctl < window && buf[ctl] == '\n' && bare_lf) {
        eol = ctl;
        clean = 1;
    } else if (!find_eol(buf, 0, window, bare_lf, &eol)) {
        size_t maxlim = max_limit(cfg);
        size_t w2 = len < maxlim ? len : maxlim;
        if (!find_eol(buf, window, w2, bare_lf, &eol)) {
            /* No line end yet. A trailing CR may still become CRLF and end
             * the word, so it is not looked at. */
            size_t seen = (w2 > 0 && buf[w2 - 1] == '\r') ? w2 - 1 : w2;
            scan_word(buf, seen, 0, &w);
            lim = w.determined ? verb_limit(cfg, w.verb) : maxlim;
            /* any completion adds at least one byte: len >= lim is over */
            if (len < lim)
                return OPES_INCOMPLETE;
            if (w.determined) {
                cmd->verb = w.verb;
                cmd->verb_text.ptr = buf;
                cmd->verb_text.len = w.len;
            }
            return too_long(cmd, buf, len, w2, bare_lf, lim,
                            w.verb == OPES_VERB_AUTH && offers(cfg, KW_AUTH, "AUTH", 4), used);
        }
    }
    line_len = eol + 1;
    cend = (eol > 0 && buf[eol - 1] == '\r') ? eol - 1 : eol;
    scan_word(buf, cend, 1, &w);
    cmd->verb = w.verb;
    cmd->verb_text.ptr = buf;
    cmd->verb_text.len = w.len;
    cmd->line_len = line_len;
    *used = line_len;
    if (line_len > base) {
        lim = verb_limit(cfg, w.verb);
        if (line_len > lim)
            return too_long(cmd, buf, len, eol, bare_lf, lim,
                            w.verb == OPES_VERB_AUTH && offers(cfg, KW_AUTH, "AUTH", 4), used);
    }
    if (cend == eol) /* only reachable with OPES_LENIENT_BARE_LF */
        cmd->notes |= OPES_NOTE_BARE_LF;

    x.cfg = cfg;
    x.lenient = lenient;
    x.line = buf;
    x.cmd = cmd;

    /* Characters: a CR or LF inside the line is never a line end (RFC 5321
     * 2.3.8) and, like NUL and the other controls, breaks the line: 500. */
    if (!clean) {
        size_t i = first_ctl(buf, cend);
        if (i < cend) {
            if (buf[i] == '\r')
                return fail(&x, OPES_EBARE_CR, i, 500, "5.5.2");
            if (buf[i] == '\n')
                return fail(&x, OPES_EBARE_LF, i, 500, "5.5.2");
            return fail(&x, OPES_EBAD_CHAR, i, 500, "5.5.2");
        }
    }
    /* Trailing white space: tolerated (RFC 5321 4.1.1 SHOULD). */
    if (cend > 0 && (buf[cend - 1] == ' ' || buf[cend - 1] == '\t')) {
        while (cend > 0 && (buf[cend - 1] == ' ' || buf[cend - 1] == '\t'))
            cend--;
        cmd->notes |= OPES_NOTE_TRAILING_SPACE;
        if (w.len > cend) /* the word was all white space */
            w.len = cend;
        cmd->verb_text.len = w.len;
    }
    if (w.verb == OPES_VERB_UNKNOWN)
        return fail(&x, OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1");
    if (w.lower)
        cmd->notes |= OPES_NOTE_CASE;

    /* "VERB" [SP argument] */
    arg = buf + cend;
    alen = 0;
    if (w.len < cend) {
        if (buf[w.len] != ' ')
            return fail(&x, OPES_EBAD_CHAR, w.len, 501, "5.5.2");
        arg = buf + w.len + 1;
        alen = cend - w.len - 1;
    }
    cmd->argument.ptr = alen ? arg : NULL;
    cmd->argument.len = alen;

    switch (w.verb) {
    case OPES_VERB_HELO:
    case OPES_VERB_EHLO:
    case OPES_VERB_LHLO: /* RFC 2033 4.1: the syntax of EHLO */
        st = do_hello(&x, arg, alen);
        break;
    case OPES_VERB_MAIL:
        st = do_mail_rcpt(&x, arg, alen, 1);
        break;
    case OPES_VERB_RCPT:
        st = do_mail_rcpt(&x, arg, alen, 0);
        break;
    case OPES_VERB_STARTTLS:
        /* RFC 3207 4: "STARTTLS with no parameters"; 501 otherwise */
        if (!offers(cfg, KW_STARTTLS, "STARTTLS", 8)) {
            st = fail(&x, OPES_ENOT_OFFERED, 0, 502, "5.5.1");
            break;
        }
        /* fall through */
    case OPES_VERB_DATA:
    case OPES_VERB_RSET:
    case OPES_VERB_QUIT:
        /* RFC 5321 4.1.1: servers SHOULD reject parameters as invalid
         * syntax, 501 (4.3.2) */
        st = alen ? fail(&x, OPES_EUNEXPECTED_ARG, off_of(&x, arg), 501, "5.5.4") : OPES_OK;
        break;
    case OPES_VERB_VRFY:
    case OPES_VERB_EXPN:
        st = do_vrfy(&x, arg, alen);
        break;
    case OPES_VERB_HELP:
        st = do_help(&x, arg, alen);
        break;
    case OPES_VERB_NOOP:
        st = do_noop(&x, arg, alen);
        break;
    case OPES_VERB_BDAT:
        /* RFC 5321 4.2.4: 502 for a command recognized but not available */
        st = offers(cfg, KW_CHUNKING, "CHUNKING", 8) ? do_bdat(&x, arg, alen)
                                                     : fail(&x, OPES_ENOT_OFFERED, 0, 502, "5.5.1");
        break;
    case OPES_VERB_AUTH:
        st = offers(cfg, KW_AUTH, "AUTH", 4) ? do_auth(&x, arg, alen)
                                             : fail(&x, OPES_ENOT_OFFERED, 0, 502, "5.5.1");
        break;
    default:
        st = fail(&x, OPES_EUNKNOWN_COMMAND, 0, 500, "5.5.1");
        break;
    }
    return st;
}

/* ---- AUTH exchange lines --------------------------------------------------- */

/* see opes/command.h */
opes_status opes_auth_line_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                                 opes_auth_line *out, size_t *used)
{
    size_t lim, eol, cend, err = 0, line_len;
    int bare_lf;
    opes_status st;

    if (used)
        *used = 0;
    if (!out || !used || (!buf && len))
        return OPES_EINVAL;
    memset(out, 0, sizeof *out);
    bare_lf = (opes__cfg_lenient(cfg) & OPES_LENIENT_BARE_LF) != 0;
    lim = opes__cfg_limit(cfg, OPES_LIMIT_AUTH_LINE);
    if (!find_eol(buf, 0, len < lim ? len : lim, bare_lf, &eol)) {
        if (len < lim)
            return OPES_INCOMPLETE;
        eol = 0;
        *used = skip_len(buf, len, lim, bare_lf, &line_len);
        out->line_len = line_len;
        goto too_long;
    }
    line_len = eol + 1;
    out->line_len = line_len;
    *used = line_len;
    if (line_len > lim)
        goto too_long;
    cend = (eol > 0 && buf[eol - 1] == '\r') ? eol - 1 : eol;
    if (cend == eol)
        out->notes |= OPES_NOTE_BARE_LF;
    for (size_t i = 0; i < cend; i++) {
        if (buf[i] == '\r' || buf[i] == '\n') {
            out->error_offset = i;
            out->reply_code = 500;
            out->enhanced = "5.5.2";
            return buf[i] == '\r' ? OPES_EBARE_CR : OPES_EBARE_LF;
        }
    }
    out->response.ptr = cend ? buf : NULL;
    out->response.len = cend;
    if (cend == 1 && buf[0] == '*') {
        /* RFC 4954 4: the server "MUST reject the AUTH command by sending
         * a 501 reply"; X.7.0 (RFC 3463 3.8, listed for 501 by RFC 5248) */
        out->cancel = 1;
        out->reply_code = 501;
        out->enhanced = "5.7.0";
        return OPES_OK;
    }
    st = check_base64(buf, cend, &err);
    if (st != OPES_OK) {
        out->error_offset = err;
        out->reply_code = 501;
        out->enhanced = "5.5.2";
        return st;
    }
    return OPES_OK;

too_long:
    /* RFC 4954 4: "500 reply", enhanced 5.5.6 */
    out->error_offset = lim;
    out->reply_code = 500;
    out->enhanced = "5.5.6";
    return OPES_EAUTH_LINE_TOO_LONG;
}

/* ---- builders --------------------------------------------------------------- */

static opes_status check_no_inject(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
            return OPES_EINJECT;
    return OPES_OK;
}

/* Every byte the parser would refuse in a line: controls (HT aside) and DEL
 * (RFC 5321 4.1.2 allows none in arguments). */
static opes_status check_ctl(const char *p, size_t n, int allow_8bit)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80 ? !allow_8bit : !OPES__IS(c, OPES__C_TEXT))
            return OPES_EBAD_CHAR;
    }
    return OPES_OK;
}

/* see opes/command.h */
opes_status opes_command_build(char *dst, size_t cap, size_t *len, const opes_smtp_config *cfg,
                               int verb, const char *arg, size_t arg_len)
{
    opes__wr w;
    opes_status st = OPES_OK;
    size_t err = 0, total;
    unsigned notes = 0;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    if (verb <= OPES_VERB_UNKNOWN || verb >= OPES_VERB__COUNT || verb == OPES_VERB_MAIL ||
        verb == OPES_VERB_RCPT || (!arg && arg_len))
        return OPES_EINVAL;
    if (check_no_inject(arg, arg_len) != OPES_OK)
        return OPES_EINJECT;
    /* the verbs of extensions only where the server offers them */
    if ((verb == OPES_VERB_BDAT && !opes_smtp_config_offers(cfg, "CHUNKING", 8)) ||
        (verb == OPES_VERB_STARTTLS && !opes_smtp_config_offers(cfg, "STARTTLS", 8)) ||
        (verb == OPES_VERB_AUTH && !opes_smtp_config_offers(cfg, "AUTH", 4)))
        return OPES_ENOT_OFFERED;

    switch (verb) {
    case OPES_VERB_DATA:
    case OPES_VERB_RSET:
    case OPES_VERB_QUIT:
    case OPES_VERB_STARTTLS:
        if (arg_len)
            return OPES_EUNEXPECTED_ARG;
        break;
    case OPES_VERB_HELO:
    case OPES_VERB_EHLO:
    case OPES_VERB_LHLO:
        if (!arg_len)
            return OPES_EMISSING_ARG;
        /* ASCII only (RFC 6531 3.7.1) */
        st = check_domain(arg, arg_len, 0, opes_smtp_config_limit(NULL, OPES_LIMIT_DOMAIN), &err,
                          &notes);
        break;
    case OPES_VERB_VRFY:
    case OPES_VERB_EXPN: {
        size_t slen, first8;
        int word, lower, mailbox;
        if (!arg_len)
            return OPES_EMISSING_ARG;
        /* UTF-8 allowed: it parses back where SMTPUTF8 is in effect */
        st = check_vrfy(arg, arg_len, &slen, &first8, &word, &lower, &mailbox, &err);
        break;
    }
    case OPES_VERB_HELP: {
        size_t used = 0, first8;
        if (!arg_len)
            break;
        st = check_string(arg, arg_len, &used, &first8, &err);
        if (st == OPES_OK && (used != arg_len || first8 != SIZE_MAX))
            st = OPES_ESYNTAX;
        break;
    }
    case OPES_VERB_NOOP:
        /* any text, but no trailing white space (the parser drops it) */
        st = check_ctl(arg, arg_len, 0);
        if (st == OPES_OK && arg_len && (arg[arg_len - 1] == ' ' || arg[arg_len - 1] == '\t'))
            st = OPES_ESYNTAX;
        break;
    case OPES_VERB_BDAT: {
        uint64_t size;
        int last, lower;
        if (!arg_len)
            return OPES_EMISSING_ARG;
        st = check_bdat(arg, arg_len, &size, &last, &lower, &err);
        break;
    }
    case OPES_VERB_AUTH: {
        size_t mlen;
        int lower;
        if (!arg_len)
            return OPES_EMISSING_ARG;
        st = check_auth(arg, arg_len, &mlen, &lower, &err);
        break;
    }
    default:
        return OPES_EINVAL;
    }
    if (st != OPES_OK)
        return st;

    /* The 512-octet limit, AUTH included: "the AUTH command is still
     * subject to the line length limitations defined in [SMTP]" (RFC 4954
     * 4); a client then omits the initial response. */
    total = strlen(verb_names[verb]) + (arg_len ? 1 + arg_len : 0) + 2;
    if (total > opes_smtp_config_line_limit(cfg, verb))
        return OPES_ELINE_TOO_LONG;

    opes__wr_init(&w, dst, cap);
    opes__wr_puts(&w, verb_names[verb]);
    if (arg_len) {
        opes__wr_putc(&w, ' ');
        opes__wr_put(&w, arg, arg_len);
    }
    opes__wr_puts(&w, "\r\n");
    return opes__wr_finish(&w, len);
}

/* Where a sub-builder writes at the writer's position, and how much room
 * it has there (NULL and 0 once the buffer is full: a size query). */
static char *wr_at(opes__wr *w, size_t *room)
{
    if (!w->dst || w->len >= w->cap) {
        *room = 0;
        return NULL;
    }
    *room = w->cap - w->len;
    return w->dst + w->len;
}

/* see opes/command.h */
opes_status opes_mail_rcpt_build(char *dst, size_t cap, size_t *len, const opes_smtp_config *cfg,
                                 int verb, const char *local, size_t local_len,
                                 const char *domain, size_t domain_len, const opes_params *params)
{
    opes__wr w;
    opes_status st;
    size_t room, n = 0;
    char *at;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    if ((verb != OPES_VERB_MAIL && verb != OPES_VERB_RCPT) || (!local && local_len) ||
        (!domain && domain_len) || (params && params->count > OPES_MAX_PARAMS))
        return OPES_EINVAL;
    if (check_no_inject(local, local_len) != OPES_OK ||
        check_no_inject(domain, domain_len) != OPES_OK)
        return OPES_EINJECT;
    /* only parameters of extensions the server offers (RFC 5321 4.1.1.2:
     * "MUST NOT transmit parameters other than those ... offered") */
    for (size_t i = 0; params && i < params->count; i++) {
        const opes_str *k = &params->item[i].keyword;
        if (!k->ptr && k->len)
            return OPES_EINVAL;
        if (check_no_inject(k->ptr, k->len) != OPES_OK)
            return OPES_EINJECT;
        if (opes_smtp_config_find_param(cfg, verb == OPES_VERB_MAIL ? OPES_PARAM_MAIL
                                                                    : OPES_PARAM_RCPT,
                                        k->ptr, k->len, NULL, NULL) != OPES_OK)
            return OPES_EPARAM_UNKNOWN;
    }

    opes__wr_init(&w, dst, cap);
    opes__wr_puts(&w, verb == OPES_VERB_MAIL ? "MAIL FROM:" : "RCPT TO:");
    if (verb == OPES_VERB_RCPT && domain_len == 0) {
        /* "<Postmaster>" (RFC 5321 4.1.1.3) is the one path without a
         * domain; RCPT has no null path */
        if (!opes__ieq(local, local_len, "POSTMASTER"))
            return local_len ? OPES_EBAD_DOMAIN : OPES_EBAD_PATH;
        opes__wr_putc(&w, '<');
        opes__wr_put(&w, local, local_len);
        opes__wr_putc(&w, '>');
    } else {
        if (domain_len == 0 && local_len != 0)
            return OPES_EBAD_DOMAIN;
        at = wr_at(&w, &room);
        st = opes_path_build(at, room, &n, local, local_len, domain, domain_len);
        if (st != OPES_OK && st != OPES_ENOSPC)
            return st;
        w.len += n;
    }
    if (params && params->count) {
        at = wr_at(&w, &room);
        st = opes_params_build(at, room, &n, params);
        if (st != OPES_OK && st != OPES_ENOSPC)
            return st;
        w.len += n;
    }
    opes__wr_puts(&w, "\r\n");
    if (w.len > opes_smtp_config_line_limit(cfg, verb))
        return OPES_ELINE_TOO_LONG;
    return opes__wr_finish(&w, len);
}
