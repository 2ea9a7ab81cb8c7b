/* The EHLO response (RFC 5321 4.1.1.1): parser over opes_reply_parse() and
 * builder over the extension table of an opes_smtp_config. */
#include "internal.h"

/* Known keywords, indexed by enum opes_ehlo_ext. */
static const char *const ext_names[OPES_EHLO__COUNT] = {
    "SIZE",      "8BITMIME", "PIPELINING",    "DSN",
    "SMTPUTF8",  "CHUNKING", "BINARYMIME",    "ENHANCEDSTATUSCODES",
    "STARTTLS",  "AUTH",     "REQUIRETLS",    "MT-PRIORITY",
    "DELIVERBY", "VRFY",     "ETRN",          "HELP",
    "EXPN",      "BURL",     "FUTURERELEASE", "LIMITS"};

/* Extensions whose EHLO keyword takes no parameter: RFC 6152 2 (8BITMIME),
 * RFC 2920 2 (PIPELINING), RFC 6531 3.1 (SMTPUTF8 "MUST NOT contain any
 * parameters"), RFC 3030 2 and 3 (CHUNKING, BINARYMIME), RFC 2034 3
 * (ENHANCEDSTATUSCODES), RFC 3207 4 (STARTTLS). */
static const uint64_t no_params =
    (UINT64_C(1) << OPES_EHLO_8BITMIME) | (UINT64_C(1) << OPES_EHLO_PIPELINING) |
    (UINT64_C(1) << OPES_EHLO_SMTPUTF8) | (UINT64_C(1) << OPES_EHLO_CHUNKING) |
    (UINT64_C(1) << OPES_EHLO_BINARYMIME) | (UINT64_C(1) << OPES_EHLO_ENHANCEDSTATUSCODES) |
    (UINT64_C(1) << OPES_EHLO_STARTTLS);

/* see opes/ehlo.h */
const char *opes_ehlo_ext_name(int ext)
{
    if (ext < 0 || ext >= OPES_EHLO__COUNT)
        return NULL;
    return ext_names[ext];
}

/* see opes/ehlo.h */
int opes_ehlo_ext_lookup(const char *kw, size_t len)
{
    if (!kw)
        return OPES_EHLO_UNKNOWN;
    for (int i = 0; i < OPES_EHLO__COUNT; i++) {
        if (opes__ieq(kw, len, ext_names[i]))
            return i;
    }
    return OPES_EHLO_UNKNOWN;
}

/*
 * Domain or address-literal, through path.c's one grammar (RFC 5321 4.1.2,
 * 4.1.3), ASCII only: RFC 6531 3.7.1 wants LDH labels or A-labels in EHLO.
 * On failure *bad is the offset of the offending byte.
 */
static opes_status domain_check(const char *d, size_t n, size_t *bad)
{
    opes_status st;
    *bad = 0;
    st = opes_domain_check(d, n, 0, 0, NULL, bad, NULL);
    if (st == OPES_OK || st == OPES_EBAD_ADDRESS_LITERAL)
        return st;
    return OPES_EBAD_DOMAIN;
}

/* RFC 1870 4: size-param = [1*DIGIT], here into 64 bits. */
static int size_value(opes_str p, uint64_t *v)
{
    int overflow;
    return p.len != 0 && opes__digits_u64(p.ptr, p.len, v, &overflow) == p.len && !overflow;
}

/* RFC 4422 3.1: sasl-mech = 1*20mech-char, mech-char = UPPER-ALPHA / DIGIT
 * / HYPHEN / UNDERSCORE; the AUTH keyword lists at least one (RFC 4954 3). */
static int auth_list_ok(opes_str p)
{
    size_t run = 0;
    if (p.len == 0)
        return 0;
    for (size_t i = 0; i < p.len; i++) {
        char c = p.ptr[i];
        if (c == ' ') {
            run = 0;
            continue;
        }
        if (!opes__sasl_char((unsigned char)c, 0))
            return 0;
        if (++run > 20)
            return 0;
    }
    return 1;
}

static opes_status ehlo_fail(opes_ehlo *e, const char *buf, const char *at, opes_status st)
{
    e->error_offset = (size_t)(at - buf);
    return st;
}

/* One capability line: ehlo-keyword *( SP ehlo-param ), trailing white
 * space tolerated (noted). */
static opes_status cap_line(opes_ehlo *e, const char *buf, opes_str text, int auth_std_seen,
                            int *is_auth_std)
{
    const char *t = text.ptr;
    size_t n = text.len, k = 0, bad;
    opes_ehlo_line *ln;
    unsigned flags = 0;
    int ext;

    *is_auth_std = 0;
    /* RFC 5321 4.1.1: receivers SHOULD tolerate trailing white space */
    while (n > 0 && OPES__IS(t[n - 1], OPES__C_WSP)) {
        n--;
        e->notes |= OPES_NOTE_TRAILING_SPACE;
    }
    k = opes__keyword_bad(t, n); /* the keyword's length: where it stops */
    if (k == 0)
        return ehlo_fail(e, buf, t + (n == 0 ? text.len : 0), OPES_EBAD_EHLO);
    ln = &e->line[e->nlines];
    memset(ln, 0, sizeof *ln);
    ln->keyword.ptr = t;
    ln->keyword.len = k;
    if (k < n) {
        if (t[k] == '=' && opes__ieq(t, k, "AUTH")) {
            flags |= OPES_EHLO_LINE_AUTH_EQ;
        } else if (t[k] != ' ') {
            return ehlo_fail(e, buf, t + k, OPES_EBAD_EHLO);
        }
        k++;
        bad = opes__ehlo_params_bad(t + k, n - k);
        if (bad < n - k)
            return ehlo_fail(e, buf, t + k + bad, OPES_EBAD_EHLO);
        /* "KEYWORD " was cut above; "KEYWORD  x" fails in opes__ehlo_params_bad */
        if (k < n) {
            ln->params.ptr = t + k;
            ln->params.len = n - k;
        }
    }
    for (size_t i = 0; i < ln->keyword.len; i++) {
        if (t[i] >= 'a' && t[i] <= 'z') {
            e->notes |= OPES_NOTE_CASE;
            break;
        }
    }
    ext = opes_ehlo_ext_lookup(ln->keyword.ptr, ln->keyword.len);
    ln->ext = ext;
    if (ext >= 0) {
        uint64_t bit = UINT64_C(1) << ext;
        if ((no_params & bit) && ln->params.len)
            flags |= OPES_EHLO_LINE_BAD_PARAMS;
        if (ext == OPES_EHLO_SIZE) {
            uint64_t v;
            if (size_value(ln->params, &v)) {
                if (!(e->exts & bit)) {
                    e->has_size = 1;
                    e->size = v;
                }
            } else if (ln->params.len) {
                flags |= OPES_EHLO_LINE_BAD_PARAMS;
            }
        }
        if (ext == OPES_EHLO_AUTH) {
            if (!auth_list_ok(ln->params))
                flags |= OPES_EHLO_LINE_BAD_PARAMS;
            /* the standard line wins over the legacy one */
            if (!(flags & OPES_EHLO_LINE_AUTH_EQ)) {
                if (!auth_std_seen)
                    e->auth = ln->params;
                *is_auth_std = 1;
            } else if (!(e->exts & bit)) {
                e->auth = ln->params;
            }
        }
        e->exts |= bit;
    }
    ln->flags = flags;
    e->nlines++;
    return OPES_OK;
}

/* see opes/ehlo.h */
opes_status opes_ehlo_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                            opes_ehlo *ehlo, size_t *used)
{
    opes_reply r;
    opes_reply_line l;
    opes_status st;
    size_t u, pos = 0, sp = 0, bad;
    int auth_std_seen = 0;

    if (used)
        *used = 0;
    if (!ehlo || !used || (!buf && len))
        return OPES_EINVAL;
    memset(ehlo, 0, sizeof *ehlo);
    st = opes_reply_parse(cfg, buf, len, &r, &u);
    *used = u;
    if (st != OPES_OK) {
        ehlo->error_offset = r.error_offset;
        return st;
    }
    ehlo->code = r.code;
    ehlo->span = r.span;
    ehlo->notes = r.notes;
    if (r.code != 250)
        return OPES_EBAD_EHLO; /* e.g. 502 (RFC 3461 10.4): fall back to HELO */

    /* first line: Domain [ SP ehlo-greet ] */
    st = opes_reply_next_line(&r, &pos, &l);
    if (st != OPES_OK)
        return st; /* cannot happen: the span was just parsed */
    while (sp < l.text.len && l.text.ptr[sp] != ' ')
        sp++;
    if (sp == 0)
        return ehlo_fail(ehlo, buf, buf + 4, OPES_EBAD_EHLO);
    ehlo->domain.ptr = l.text.ptr;
    ehlo->domain.len = sp;
    st = domain_check(l.text.ptr, sp, &bad);
    if (st != OPES_OK)
        return ehlo_fail(ehlo, buf, l.text.ptr + bad, st);
    if (sp > opes_smtp_config_limit(cfg, OPES_LIMIT_DOMAIN))
        return ehlo_fail(ehlo, buf, l.text.ptr, OPES_EDOMAIN_TOO_LONG);
    if (sp + 1 < l.text.len) {
        ehlo->greeting.ptr = l.text.ptr + sp + 1;
        ehlo->greeting.len = l.text.len - sp - 1;
    }

    /* capability lines */
    for (;;) {
        size_t line_start = pos;
        int is_auth_std;
        st = opes_reply_next_line(&r, &pos, &l);
        if (st == OPES_ENOTFOUND)
            break;
        if (st != OPES_OK)
            return st;
        if (ehlo->nlines >= OPES_EHLO_MAX_LINES)
            return ehlo_fail(ehlo, buf, buf + line_start, OPES_ETOO_MANY_LINES);
        if (l.text.len == 0)
            return ehlo_fail(ehlo, buf, buf + line_start + 4, OPES_EBAD_EHLO);
        st = cap_line(ehlo, buf, l.text, auth_std_seen, &is_auth_std);
        if (st != OPES_OK)
            return st;
        auth_std_seen |= is_auth_std;
    }
    return OPES_OK;
}

/* see opes/ehlo.h */
int opes_ehlo_has(const opes_ehlo *ehlo, int ext)
{
    if (!ehlo || ext < 0 || ext >= OPES_EHLO__COUNT)
        return 0;
    return (ehlo->exts >> ext) & 1u ? 1 : 0;
}

/* see opes/ehlo.h */
opes_status opes_ehlo_find(const opes_ehlo *ehlo, const char *kw, size_t len, size_t *index)
{
    if (!ehlo || !kw || !index)
        return OPES_EINVAL;
    for (size_t i = 0; i < ehlo->nlines && i < OPES_EHLO_MAX_LINES; i++) {
        if (opes__ieq2(ehlo->line[i].keyword.ptr, ehlo->line[i].keyword.len, kw, len)) {
            *index = i;
            return OPES_OK;
        }
    }
    return OPES_ENOTFOUND;
}

/* see opes/ehlo.h */
int opes_ehlo_offers(const opes_ehlo *ehlo, const char *kw, size_t len)
{
    size_t i;
    return opes_ehlo_find(ehlo, kw, len, &i) == OPES_OK;
}

/* see opes/ehlo.h */
int opes_ehlo_auth_offers(const opes_ehlo *ehlo, const char *mech, size_t len)
{
    if (!ehlo || !mech || len == 0)
        return 0;
    for (size_t i = 0; i < ehlo->nlines && i < OPES_EHLO_MAX_LINES; i++) {
        const opes_ehlo_line *ln = &ehlo->line[i];
        size_t k = 0;
        if (ln->ext != OPES_EHLO_AUTH)
            continue;
        while (k < ln->params.len) {
            size_t s = k;
            while (k < ln->params.len && ln->params.ptr[k] != ' ')
                k++;
            if (opes__ieq2(ln->params.ptr + s, k - s, mech, len))
                return 1;
            k++;
        }
    }
    return 0;
}

/* see opes/ehlo.h */
opes_status opes_ehlo_build(char *dst, size_t cap, size_t *len, const opes_smtp_config *cfg,
                            const char *domain, size_t domain_len, const char *greeting,
                            size_t greeting_len)
{
    size_t line_limit, max_lines, n_ext, offered = 0, done = 0, bad;
    opes_status st;
    opes__wr w;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    if ((!domain && domain_len) || (!greeting && greeting_len))
        return OPES_EINVAL;
    if (opes__unsafe_at(domain, domain_len) != domain_len ||
        opes__unsafe_at(greeting, greeting_len) != greeting_len)
        return OPES_EINJECT;
    st = domain_check(domain, domain_len, &bad);
    if (st != OPES_OK)
        return st;
    if (domain_len > opes_smtp_config_limit(cfg, OPES_LIMIT_DOMAIN))
        return OPES_EDOMAIN_TOO_LONG;
    /* ehlo-greet is any text but CR and LF; a reply line is textstring
     * (RFC 5321 4.2), the narrower of the two */
    for (size_t i = 0; i < greeting_len; i++) {
        if (!OPES__IS(greeting[i], OPES__C_TEXT))
            return OPES_EBAD_CHAR;
    }
    line_limit = opes_smtp_config_limit(cfg, OPES_LIMIT_REPLY_LINE);
    max_lines = opes_smtp_config_limit(cfg, OPES_LIMIT_REPLY_LINES);
    if (4 + domain_len + (greeting_len ? 1 + greeting_len : 0) + 2 > line_limit)
        return OPES_EREPLY_TOO_LONG;

    /* check every offered extension's line before writing anything */
    n_ext = opes_smtp_config_extension_count(cfg);
    for (size_t i = 0; i < n_ext; i++) {
        const char *kw, *params;
        int on;
        size_t kl, pl;
        if (opes_smtp_config_extension_at(cfg, i, &kw, &params, &on) != OPES_OK || !on)
            continue;
        kl = strlen(kw);
        pl = params ? strlen(params) : 0;
        if (opes__ehlo_params_bad(params ? params : "", pl) != pl)
            return OPES_EBAD_CHAR;
        if (4 + kl + (pl ? 1 + pl : 0) + 2 > line_limit)
            return OPES_EREPLY_TOO_LONG;
        offered++;
    }
    if (offered + 1 > max_lines || offered > OPES_EHLO_MAX_LINES)
        return OPES_ETOO_MANY_LINES;

    opes__wr_init(&w, dst, cap);
    opes__wr_puts(&w, offered ? "250-" : "250 ");
    opes__wr_put(&w, domain, domain_len);
    if (greeting_len) {
        opes__wr_putc(&w, ' ');
        opes__wr_put(&w, greeting, greeting_len);
    }
    opes__wr_put(&w, "\r\n", 2);
    for (size_t i = 0; i < n_ext; i++) {
        const char *kw, *params;
        int on;
        if (opes_smtp_config_extension_at(cfg, i, &kw, &params, &on) != OPES_OK || !on)
            continue;
        done++;
        opes__wr_puts(&w, done < offered ? "250-" : "250 ");
        opes__wr_puts(&w, kw);
        if (params && params[0]) {
            opes__wr_putc(&w, ' ');
            opes__wr_puts(&w, params);
        }
        opes__wr_put(&w, "\r\n", 2);
    }
    return opes__wr_finish(&w, len);
}
