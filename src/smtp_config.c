/* The SMTP grammar's context: limits, strictness, extension table. */
#include "internal.h"
#include "smtp_config_internal.h"

const size_t opes__limit_default[OPES_LIMIT__COUNT] = {
    512,   /* COMMAND_LINE, RFC 5321 4.5.3.1.4 */
    512,   /* REPLY_LINE, RFC 5321 4.5.3.1.5 */
    1000,  /* TEXT_LINE, RFC 5321 4.5.3.1.6 */
    64,    /* LOCAL_PART, RFC 5321 4.5.3.1.1 */
    255,   /* DOMAIN, RFC 5321 4.5.3.1.2 */
    256,   /* PATH, RFC 5321 4.5.3.1.3 */
    32,    /* PARAMS */
    128,   /* REPLY_LINES */
    12288, /* AUTH_LINE, RFC 4954 4 */
    100,   /* RECIPIENTS, RFC 5321 4.5.3.1.8 */
};

static const size_t limit_ceiling[OPES_LIMIT__COUNT] = {
    OPES_MAX_COMMAND_LINE, OPES_MAX_REPLY_LINE, OPES_MAX_TEXT_LINE, OPES_MAX_LOCAL_PART,
    OPES_MAX_DOMAIN,       OPES_MAX_PATH,       OPES_MAX_PARAMS,    OPES_MAX_REPLY_LINES,
    OPES_MAX_AUTH_LINE,    OPES_MAX_RECIPIENTS,
};

/* strlen, but never past max (a caller's string may be unterminated junk). */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

static int keyword_ok(const char *kw, size_t *len_out)
{
    size_t n;
    if (!kw)
        return 0;
    n = bounded_len(kw, KW_MAX + 1);
    if (n == 0 || n > KW_MAX || opes__keyword_bad(kw, n) != n)
        return 0;
    *len_out = n;
    return 1;
}

static int pool_add(opes_smtp_config *c, const char *s, size_t n, size_t cap, uint16_t *off)
{
    if (cap < n + 1 || cap > POOL_SIZE - c->pool_used)
        return 0;
    memcpy(c->pool + c->pool_used, s, n);
    c->pool[c->pool_used + n] = '\0';
    *off = (uint16_t)c->pool_used;
    c->pool_used += cap;
    return 1;
}

static const char *pool_str(const opes_smtp_config *c, uint16_t off)
{
    return c->pool + off;
}

/* Rewrite the pool without holes: every keyword, and the EHLO parameters of
 * every extension but skip (whose slot is about to be replaced). Re-offering
 * with longer parameters thus never leaks pool space. */
static void pool_compact(opes_smtp_config *c, size_t skip)
{
    char old[POOL_SIZE];
    memcpy(old, c->pool, c->pool_used);
    c->pool_used = 0;
    for (size_t i = 0; i < c->n_ext; i++) {
        struct ext_entry *e = &c->ext[i];
        pool_add(c, old + e->kw_off, e->kw_len, (size_t)e->kw_len + 1, &e->kw_off);
        if (i == skip || e->ep_cap == 0) {
            if (i == skip) {
                e->ep_cap = 0;
                e->has_params = 0;
            }
            continue;
        }
        pool_add(c, old + e->ep_off, e->ep_cap - 1u, e->ep_cap, &e->ep_off);
    }
    for (size_t i = 0; i < c->n_param; i++) {
        struct param_entry *p = &c->param[i];
        pool_add(c, old + p->kw_off, p->kw_len, (size_t)p->kw_len + 1, &p->kw_off);
    }
}

/* Is a registered keyword (bytes at pool offset off, length kw_len), whose
 * opes__key8 equals that of kw[0..n), the same keyword? Up to 8 bytes the
 * key and the length settle it; past that the rest is compared. */
static int kw_same(const opes_smtp_config *c, uint16_t off, uint16_t kw_len, const char *kw,
                   size_t n)
{
    return kw_len == n && (n <= 8 || opes__ieq2(pool_str(c, off) + 8, n - 8, kw + 8, n - 8));
}

static size_t hash_of(uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15u) >> 57) & (HASH_SLOTS - 1);
}

/* The slot of keyword kw[0..n) (key: its opes__key8) in an ext or param
 * hash table: the one holding it, else the empty one where it would go. */
static size_t ext_probe(const opes_smtp_config *c, uint64_t key, const char *kw, size_t n)
{
    size_t h = hash_of(key);
    for (;;) {
        unsigned s = c->ext_slot[h];
        if (s == 0 || (c->ext_key[s - 1] == key &&
                       kw_same(c, c->ext[s - 1].kw_off, c->ext[s - 1].kw_len, kw, n)))
            return h;
        h = (h + 1) & (HASH_SLOTS - 1);
    }
}

static size_t param_probe(const opes_smtp_config *c, uint64_t key, const char *kw, size_t n)
{
    size_t h = hash_of(key);
    for (;;) {
        unsigned s = c->param_slot[h];
        if (s == 0 || (c->param_key[s - 1] == key &&
                       kw_same(c, c->param[s - 1].kw_off, c->param[s - 1].kw_len, kw, n)))
            return h;
        h = (h + 1) & (HASH_SLOTS - 1);
    }
}

static long find_ext(const opes_smtp_config *c, const char *kw, size_t n)
{
    unsigned s = c->ext_slot[ext_probe(c, opes__key8(kw, n), kw, n)];
    return s ? (long)s - 1 : -1;
}

/* The built-in extensions, registered by every new config, through the same
 * calls a caller uses. Increments: RFC 1870 5 (SIZE +26), RFC 3030 3
 * (BODY=BINARYMIME +16), RFC 4954 3 (AUTH= +500), RFC 6531 3.1 (+10),
 * RFC 8689 2 (+11), RFC 3461 5.4 (RCPT lines of at least 1036 octets with
 * DSN: +524; MAIL: " RET=HDRS" + " ENVID=" + 100 = +116), RFC 6710 (MT-PRIORITY),
 * RFC 2852 (BY). MT-PRIORITY +15 (RFC 6710 3 item 6), BY +17 (RFC 2852 2 (5)). */
static void register_builtins(opes_smtp_config *c)
{
    opes_smtp_config_add_extension(c, "SIZE", 26, 0);
    opes_smtp_config_add_param(c, "SIZE", "SIZE", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_extension(c, "8BITMIME", 0, 0);
    opes_smtp_config_add_param(c, "8BITMIME", "BODY", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_extension(c, "BINARYMIME", 16, 0);
    opes_smtp_config_add_param(c, "BINARYMIME", "BODY", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_extension(c, "PIPELINING", 0, 0);
    opes_smtp_config_add_extension(c, "CHUNKING", 0, 0);
    opes_smtp_config_add_extension(c, "DSN", 116, 524);
    opes_smtp_config_add_param(c, "DSN", "RET", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_param(c, "DSN", "ENVID", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_param(c, "DSN", "NOTIFY", OPES_PARAM_RCPT, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_param(c, "DSN", "ORCPT", OPES_PARAM_RCPT, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_extension(c, "SMTPUTF8", 10, 0);
    opes_smtp_config_add_param(c, "SMTPUTF8", "SMTPUTF8", OPES_PARAM_MAIL, OPES_VALUE_NONE);
    opes_smtp_config_add_extension(c, "ENHANCEDSTATUSCODES", 0, 0);
    opes_smtp_config_add_extension(c, "STARTTLS", 0, 0);
    opes_smtp_config_add_extension(c, "AUTH", 500, 0);
    opes_smtp_config_add_param(c, "AUTH", "AUTH", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED);
    opes_smtp_config_add_extension(c, "REQUIRETLS", 11, 0);
    opes_smtp_config_add_param(c, "REQUIRETLS", "REQUIRETLS", OPES_PARAM_MAIL, OPES_VALUE_NONE);
    opes_smtp_config_add_extension(c, "MT-PRIORITY", 15, 0);
    opes_smtp_config_add_param(c, "MT-PRIORITY", "MT-PRIORITY", OPES_PARAM_MAIL,
                               OPES_VALUE_REQUIRED);
    opes_smtp_config_add_extension(c, "DELIVERBY", 17, 0);
    opes_smtp_config_add_param(c, "DELIVERBY", "BY", OPES_PARAM_MAIL, OPES_VALUE_REQUIRED);
}

static void config_init(opes_smtp_config *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->limits, opes__limit_default, sizeof c->limits);
    register_builtins(c);
}

/* see opes/smtp_config.h */
size_t opes_smtp_config_sizeof(void)
{
    return sizeof(opes_smtp_config);
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_new(opes_smtp_config **out, const opes_allocator *alloc)
{
    opes_smtp_config *c;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    c = opes__alloc(alloc, sizeof *c);
    if (!c)
        return OPES_ENOMEM;
    config_init(c);
    c->heap = 1;
    if (alloc)
        c->alloc = *alloc;
    *out = c;
    return OPES_OK;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_init_in(void *mem, size_t len, opes_smtp_config **out)
{
    if (!mem || !out || len < sizeof(opes_smtp_config))
        return OPES_EINVAL;
    config_init((opes_smtp_config *)mem);
    *out = (opes_smtp_config *)mem;
    return OPES_OK;
}

/* see opes/smtp_config.h */
void opes_smtp_config_free(opes_smtp_config *cfg)
{
    if (!cfg || !cfg->heap)
        return;
    opes_allocator a = cfg->alloc;
    opes__free(a.free ? &a : NULL, cfg, sizeof *cfg);
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_copy(opes_smtp_config *dst, const opes_smtp_config *src)
{
    if (!dst || !src)
        return OPES_EINVAL;
    if (dst == src)
        return OPES_OK;
    opes_allocator a = dst->alloc;
    int heap = dst->heap;
    memcpy(dst, src, sizeof *dst);
    dst->alloc = a;
    dst->heap = heap;
    return OPES_OK;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_set_limit(opes_smtp_config *cfg, int limit, size_t value)
{
    if (!cfg || limit < 0 || limit >= OPES_LIMIT__COUNT || value == 0)
        return OPES_EINVAL;
    if (value > limit_ceiling[limit])
        return OPES_ECEILING;
    cfg->limits[limit] = value;
    return OPES_OK;
}

/* see opes/smtp_config.h */
size_t opes_smtp_config_limit(const opes_smtp_config *cfg, int limit)
{
    if (limit < 0 || limit >= OPES_LIMIT__COUNT)
        return 0;
    return cfg ? cfg->limits[limit] : opes__limit_default[limit];
}

/* see opes/smtp_config.h */
size_t opes_smtp_config_ceiling(int limit)
{
    if (limit < 0 || limit >= OPES_LIMIT__COUNT)
        return 0;
    return limit_ceiling[limit];
}

/* see opes/smtp_config.h */
size_t opes_smtp_config_line_limit(const opes_smtp_config *cfg, int verb)
{
    const opes_smtp_config *c = cfg;
    size_t lim;
    if (!c)
        return opes__limit_default[OPES_LIMIT_COMMAND_LINE];
    lim = c->limits[OPES_LIMIT_COMMAND_LINE];
    if (verb != OPES_VERB_MAIL && verb != OPES_VERB_RCPT)
        return lim;
    for (size_t i = 0; i < c->n_ext; i++) {
        if (!c->ext[i].offered)
            continue;
        size_t inc = verb == OPES_VERB_MAIL ? c->ext[i].mail_inc : c->ext[i].rcpt_inc;
        lim = inc > SIZE_MAX - lim ? SIZE_MAX : lim + inc;
    }
    if (lim > OPES_MAX_COMMAND_LINE)
        lim = OPES_MAX_COMMAND_LINE;
    return lim;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_set_lenient(opes_smtp_config *cfg, unsigned flags)
{
    if (!cfg || (flags & ~(unsigned)OPES_LENIENT_ALL))
        return OPES_EINVAL;
    cfg->lenient = flags;
    return OPES_OK;
}

/* see opes/smtp_config.h */
unsigned opes_smtp_config_lenient(const opes_smtp_config *cfg)
{
    return cfg ? cfg->lenient : 0;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_set_utf8(opes_smtp_config *cfg, int on)
{
    if (!cfg)
        return OPES_EINVAL;
    cfg->utf8 = on != 0;
    return OPES_OK;
}

/* see opes/smtp_config.h */
int opes_smtp_config_utf8(const opes_smtp_config *cfg)
{
    return cfg ? cfg->utf8 : 0;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_add_extension(opes_smtp_config *cfg, const char *keyword,
                                           size_t mail_inc, size_t rcpt_inc)
{
    size_t n;
    struct ext_entry *e;
    if (!cfg || !keyword)
        return OPES_EINVAL;
    if (!keyword_ok(keyword, &n))
        return OPES_EBAD_CHAR;
    if (find_ext(cfg, keyword, n) >= 0)
        return OPES_EEXIST;
    if (cfg->n_ext >= EXT_MAX)
        return OPES_ENOSPC;
    e = &cfg->ext[cfg->n_ext];
    memset(e, 0, sizeof *e);
    if (!pool_add(cfg, keyword, n, n + 1, &e->kw_off))
        return OPES_ENOSPC;
    e->kw_len = (uint16_t)n;
    cfg->ext_key[cfg->n_ext] = opes__key8(keyword, n);
    e->mail_inc = mail_inc;
    e->rcpt_inc = rcpt_inc;
    /* not there (find_ext said so): its probe ends at an empty slot */
    cfg->ext_slot[ext_probe(cfg, cfg->ext_key[cfg->n_ext], keyword, n)] = (uint8_t)(cfg->n_ext + 1);
    cfg->n_ext++;
    return OPES_OK;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_add_param(opes_smtp_config *cfg, const char *ext_keyword,
                                       const char *param_keyword, unsigned where, int value_rule)
{
    size_t en, pn;
    long ei;
    struct param_entry *p;
    if (!cfg || !ext_keyword || !param_keyword || where == 0 ||
        (where & ~(unsigned)(OPES_PARAM_MAIL | OPES_PARAM_RCPT)) || value_rule < OPES_VALUE_NONE ||
        value_rule > OPES_VALUE_OPTIONAL)
        return OPES_EINVAL;
    if (!keyword_ok(param_keyword, &pn))
        return OPES_EBAD_CHAR;
    en = strlen(ext_keyword);
    ei = find_ext(cfg, ext_keyword, en);
    if (ei < 0)
        return OPES_ENOTFOUND;
    for (size_t i = 0; i < cfg->n_param; i++) {
        p = &cfg->param[i];
        if (p->ext == (uint8_t)ei && (p->where & where) &&
            cfg->param_key[i] == opes__key8(param_keyword, pn) &&
            kw_same(cfg, p->kw_off, p->kw_len, param_keyword, pn))
            return OPES_EEXIST;
    }
    if (cfg->n_param >= PARAM_MAX)
        return OPES_ENOSPC;
    p = &cfg->param[cfg->n_param];
    if (!pool_add(cfg, param_keyword, pn, pn + 1, &p->kw_off))
        return OPES_ENOSPC;
    p->kw_len = (uint16_t)pn;
    cfg->param_key[cfg->n_param] = opes__key8(param_keyword, pn);
    p->ext = (uint8_t)ei;
    p->where = (uint8_t)where;
    p->value_rule = (uint8_t)value_rule;
    p->check = NULL;
    p->check_user = NULL;
    {
        /* first of its keyword: into the table; else at the end of the
         * keyword's chain */
        size_t h = param_probe(cfg, cfg->param_key[cfg->n_param], param_keyword, pn);
        cfg->param_next[cfg->n_param] = NO_NEXT;
        if (cfg->param_slot[h] == 0) {
            cfg->param_slot[h] = (uint8_t)(cfg->n_param + 1);
        } else {
            size_t i = cfg->param_slot[h] - 1u;
            while (cfg->param_next[i] != NO_NEXT)
                i = cfg->param_next[i];
            cfg->param_next[i] = (uint8_t)cfg->n_param;
        }
    }
    cfg->n_param++;
    return OPES_OK;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_set_param_check(opes_smtp_config *cfg, const char *param_keyword,
                                             opes_param_check_fn fn, void *user)
{
    size_t n, i;
    uint64_t key;
    int found = 0;
    if (!cfg || !param_keyword)
        return OPES_EINVAL;
    n = bounded_len(param_keyword, KW_MAX + 1);
    if (n == 0 || n > KW_MAX)
        return OPES_ENOTFOUND; /* no registered keyword has that length */
    key = opes__key8(param_keyword, n);
    /* every registration of the keyword, whatever its extension and verb */
    for (i = cfg->param_slot[param_probe(cfg, key, param_keyword, n)] - 1u; i < cfg->n_param;
         i = cfg->param_next[i]) {
        struct param_entry *p = &cfg->param[i];
        if (p->check)
            cfg->n_checks--;
        p->check = fn;
        p->check_user = fn ? user : NULL;
        if (fn)
            cfg->n_checks++;
        found = 1;
    }
    return found ? OPES_OK : OPES_ENOTFOUND;
}

/* see internal.h */
int opes__config_param_check(const opes_smtp_config *c, unsigned where, uint64_t key,
                             const char *keyword, size_t len, opes_param_check_fn *fn, void **user)
{
    if (!c || c->n_checks == 0)
        return 0;
    for (size_t i = c->param_slot[param_probe(c, key, keyword, len)] - 1u; i < c->n_param;
         i = c->param_next[i]) {
        const struct param_entry *p = &c->param[i];
        if ((p->where & where) && p->check) {
            *fn = p->check;
            *user = p->check_user;
            return 1;
        }
    }
    return 0;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_offer(opes_smtp_config *cfg, const char *keyword, int on,
                                   const char *ehlo_params)
{
    long ei;
    struct ext_entry *e;
    if (!cfg || !keyword)
        return OPES_EINVAL;
    ei = find_ext(cfg, keyword, strlen(keyword));
    if (ei < 0)
        return OPES_ENOTFOUND;
    e = &cfg->ext[ei];
    if (!on) {
        e->offered = 0;
        return OPES_OK;
    }
    if (ehlo_params) {
        size_t n = bounded_len(ehlo_params, EHLO_PARAMS_MAX + 1);
        if (n > EHLO_PARAMS_MAX)
            return opes__unsafe_at(ehlo_params, n) != n ? OPES_EINJECT : OPES_EINVAL;
        if (opes__unsafe_at(ehlo_params, n) != n)
            return OPES_EINJECT;
        /* ehlo-param *( SP ehlo-param ), ehlo-param = 1*(%d33-126) */
        if (opes__ehlo_params_bad(ehlo_params, n) != n)
            return OPES_EBAD_CHAR;
        if (n == 0) {
            e->has_params = 0;
        } else {
            if (n + 1 > e->ep_cap) {
                if (!pool_add(cfg, ehlo_params, n, n + 1, &e->ep_off)) {
                    pool_compact(cfg, (size_t)ei);
                    if (!pool_add(cfg, ehlo_params, n, n + 1, &e->ep_off))
                        return OPES_ENOSPC;
                }
                e->ep_cap = (uint16_t)(n + 1);
            } else {
                memcpy(cfg->pool + e->ep_off, ehlo_params, n);
                cfg->pool[e->ep_off + n] = '\0';
            }
            e->has_params = 1;
        }
    } else {
        e->has_params = 0;
    }
    e->offered = 1;
    return OPES_OK;
}

/* see opes/smtp_config.h */
int opes_smtp_config_offers(const opes_smtp_config *cfg, const char *keyword, size_t len)
{
    if (!cfg || !keyword)
        return 0;
    return opes__config_offers(cfg, opes__key8(keyword, len), keyword, len);
}

/* see internal.h */
int opes__config_offers(const opes_smtp_config *c, uint64_t key, const char *keyword, size_t len)
{
    unsigned s;
    if (!c)
        return 0;
    s = c->ext_slot[ext_probe(c, key, keyword, len)];
    return s && c->ext[s - 1].offered;
}

/* see opes/smtp_config.h */
size_t opes_smtp_config_extension_count(const opes_smtp_config *cfg)
{
    return cfg ? cfg->n_ext : 0;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_extension_at(const opes_smtp_config *cfg, size_t i,
                                          const char **keyword, const char **ehlo_params,
                                          int *offered)
{
    const opes_smtp_config *c = cfg;
    if (!c)
        return OPES_EINVAL;
    if (i >= c->n_ext)
        return OPES_ENOTFOUND;
    if (keyword)
        *keyword = pool_str(c, c->ext[i].kw_off);
    if (ehlo_params)
        *ehlo_params = c->ext[i].has_params ? pool_str(c, c->ext[i].ep_off) : NULL;
    if (offered)
        *offered = c->ext[i].offered;
    return OPES_OK;
}

/* see opes/smtp_config.h */
opes_status opes_smtp_config_find_param(const opes_smtp_config *cfg, unsigned where,
                                        const char *keyword, size_t len, int *value_rule,
                                        const char **ext_keyword)
{
    if (!cfg)
        return OPES_ENOTFOUND; /* the NULL config registers nothing */
    if (!keyword || (where != OPES_PARAM_MAIL && where != OPES_PARAM_RCPT))
        return OPES_EINVAL;
    return opes__config_find_param(cfg, where, opes__key8(keyword, len), keyword, len, value_rule,
                                   ext_keyword);
}

/* see internal.h */
opes_status opes__config_find_param(const opes_smtp_config *c, unsigned where, uint64_t key,
                                    const char *keyword, size_t len, int *value_rule,
                                    const char **ext_keyword)
{
    opes_status st = OPES_ENOTFOUND;
    /* A parameter may belong to several extensions (BODY: 8BITMIME and
     * BINARYMIME); it is accepted when any of them is offered. The entries
     * of this keyword, in registration order: */
    for (size_t i = c->param_slot[param_probe(c, key, keyword, len)] - 1u; i < c->n_param;
         i = c->param_next[i]) {
        const struct param_entry *p = &c->param[i];
        if (!(p->where & where))
            continue;
        if (value_rule)
            *value_rule = p->value_rule;
        if (ext_keyword)
            *ext_keyword = pool_str(c, c->ext[p->ext].kw_off);
        if (c->ext[p->ext].offered)
            return OPES_OK;
        st = OPES_ENOT_OFFERED;
    }
    return st;
}

/* see opes/smtp_config.h */
const char *opes_note_name(unsigned bit)
{
    switch (bit) {
    case OPES_NOTE_BARE_LF:
        return "bare_lf";
    case OPES_NOTE_SPACE_AFTER_COLON:
        return "space_after_colon";
    case OPES_NOTE_NO_BRACKETS:
        return "no_brackets";
    case OPES_NOTE_LONG_ADDRESS:
        return "long_address";
    case OPES_NOTE_8BIT:
        return "8bit";
    case OPES_NOTE_XTEXT_CASE:
        return "xtext_case";
    case OPES_NOTE_TRAILING_SPACE:
        return "trailing_space";
    case OPES_NOTE_SOURCE_ROUTE:
        return "source_route";
    case OPES_NOTE_CASE:
        return "case";
    case OPES_NOTE_POSTMASTER:
        return "postmaster";
    case OPES_NOTE_MAILBOX_STRING:
        return "mailbox_string";
    default:
        return NULL;
    }
}
