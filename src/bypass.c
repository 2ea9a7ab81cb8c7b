/*
 * OPES bypass requests (docs/opes-smtp.md 3.4, 7, 8): the XOPES-BYPASS
 * value codec and registration, the OPES-Bypass field, and the relay rules.
 * The decision is in bypass_decide.c.
 */
#include "internal.h"

#include "opes_internal.h"
#include "smtp_config_internal.h"

#include "bypass_internal.h"

/* ---- the XOPES-BYPASS value (8.1) ----------------------------------------- */

/* The offset in the encoded item enc[0..n) of the byte that decodes to
 * decoded octet d: each hexchar is three encoded bytes for one octet. */
static size_t encoded_offset(const char *enc, size_t n, size_t d)
{
    size_t i = 0;
    while (d > 0 && i < n) {
        i += enc[i] == '+' ? 3 : 1;
        d--;
    }
    return i < n ? i : n;
}

/* see opes/bypass.h */
opes_status opes_bypass_param_next(const char *value, size_t len, unsigned flags, size_t *pos,
                                   char *dst, size_t cap, size_t *item_len, int *is_star,
                                   size_t *err_offset)
{
    size_t p, e, n = 0, xoff = 0, uoff = 0;
    opes_status st;
    opes_uri u;

    if (!pos || !item_len || (!value && len) || (!dst && cap) || *pos > len)
        return OPES_EINVAL;
    *item_len = 0;
    if (is_star)
        *is_star = 0;
    if (len > OPES_BYPASS_MAX_VALUE) {
        if (err_offset)
            *err_offset = OPES_BYPASS_MAX_VALUE;
        return OPES_EPARAM_TOO_LONG;
    }
    p = *pos;
    if (p == len) {
        /* an empty value, or a trailing comma: an item is 1*xitem; an item
         * never holds a literal comma, so value[p - 1] is one only when the
         * last call stepped over it */
        if (p == 0 || value[p - 1] == ',') {
            if (err_offset)
                *err_offset = p;
            return OPES_EBAD_BYPASS;
        }
        return OPES_ENOTFOUND;
    }
    /* 8.1: split on the literal commas first, then decode */
    e = p;
    while (e < len && value[e] != ',')
        e++;
    if (e == p) {
        if (err_offset)
            *err_offset = p;
        return OPES_EBAD_BYPASS;
    }
    st = opes_xtext_validate(value + p, e - p, flags & OPES_LENIENT_XTEXT_CASE, &xoff, NULL);
    if (st != OPES_OK) {
        if (err_offset)
            *err_offset = p + xoff;
        return OPES_EBAD_BYPASS;
    }
    st = opes_xtext_decode(dst, cap, &n, value + p, e - p, flags & OPES_LENIENT_XTEXT_CASE);
    *item_len = n;
    if (st != OPES_OK)
        return st; /* OPES_ENOSPC: *item_len is the size needed */
    if (n == 1 && dst[0] == '*') {
        if (is_star)
            *is_star = 1;
    } else {
        st = opes_uri_parse(dst, n, OPES_URI_ABSOLUTE, &u, &uoff);
        if (st != OPES_OK) {
            if (err_offset)
                *err_offset = p + encoded_offset(value + p, e - p, uoff < n ? uoff : n);
            *item_len = 0;
            return OPES_EBAD_BYPASS;
        }
    }
    *pos = e < len ? e + 1 : len;
    return OPES_OK;
}

/* see opes/bypass.h */
opes_status opes_bypass_param_check(const char *value, size_t len, unsigned flags, size_t *count,
                                    size_t *err_offset)
{
    char buf[OPES_BYPASS_MAX_VALUE];
    size_t pos = 0, n = 0, il;
    opes_status st;

    if (count)
        *count = 0;
    if (!value && len)
        return OPES_EINVAL;
    /* every call moves pos past one item or ends: at most len + 1 calls */
    while ((st = opes_bypass_param_next(value, len, flags, &pos, buf, sizeof buf, &il, NULL,
                                        err_offset)) == OPES_OK)
        n++;
    if (st != OPES_ENOTFOUND)
        return st;
    if (count)
        *count = n;
    return OPES_OK;
}

/* "*" (exactly) */
static int is_star(const opes_str *s)
{
    return s->len == 1 && s->ptr[0] == '*';
}

/* An item a builder may write: "*" or an absolute-URI without CR, LF, NUL. */
static opes_status item_ok(const opes_str *s, size_t max)
{
    opes_uri u;
    if (!s->ptr && s->len)
        return OPES_EINVAL;
    if (opes__unsafe_at(s->ptr, s->len) != s->len)
        return OPES_EINJECT;
    if (is_star(s))
        return OPES_OK;
    if (s->len > max)
        return OPES_EURI_TOO_LONG;
    return opes_uri_parse(s->ptr, s->len, OPES_URI_ABSOLUTE, &u, NULL);
}

/* see opes/bypass.h */
opes_status opes_bypass_param_build(char *dst, size_t cap, size_t *len, const opes_str *ids,
                                    size_t n)
{
    opes__wr w;
    opes_status st;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || !ids || n == 0) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        st = item_ok(&ids[i], OPES_MAX_URI);
        if (st != OPES_OK)
            return st;
    }
    opes__wr_init(&w, dst, cap);
    for (size_t i = 0; i < n; i++) {
        if (i)
            opes__wr_putc(&w, ',');
        /* 8.1: "," inside an item is "+2C", since a reader splits on the
         * literal commas before decoding; "*" is an xchar, itself */
        opes__wr_xtext(&w, ids[i].ptr, ids[i].len, 1);
        if (w.len > OPES_BYPASS_MAX_VALUE)
            return OPES_EPARAM_TOO_LONG;
    }
    return opes__wr_finish(&w, len);
}

/* The length of a valid extension keyword for the bypass parameter (an
 * esmtp-keyword leaving room for "-BYPASS" in the table's 64), or 0. */
#define KW_ROOM (64 - 7)
static size_t bypass_keyword_len(const char *kw)
{
    size_t n = 0;
    while (n <= KW_ROOM && kw[n]) /* the caller's NUL-terminated string */
        n++;
    if (n == 0 || n > KW_ROOM || opes__keyword_bad(kw, n) != n)
        return 0;
    return n;
}

/* see opes/bypass.h */
opes_status opes_bypass_param_name(char *dst, size_t cap, size_t *len, const char *keyword)
{
    opes__wr w;
    size_t n;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    *len = 0;
    if (!keyword)
        keyword = OPES_BYPASS_KEYWORD;
    n = bypass_keyword_len(keyword);
    if (n == 0)
        return OPES_EBAD_CHAR;
    opes__wr_init(&w, dst, cap);
    opes__wr_put(&w, keyword, n);
    opes__wr_puts(&w, "-BYPASS");
    return opes__wr_finish(&w, len);
}

/* The value check registered with the SMTP layer: the SMTP layer turns a
 * refusal into 501 5.5.4 (8.1). */
static opes_status param_value_check(const opes_smtp_config *cfg, int verb, const char *value,
                                     size_t len, size_t *err_offset, void *user)
{
    (void)verb;
    (void)user;
    return opes_bypass_param_check(value, len, opes_smtp_config_lenient(cfg), NULL, err_offset);
}

/* see opes/bypass.h */
opes_status opes_bypass_register(opes_smtp_config *cfg, const char *keyword)
{
    char name[KW_ROOM + 8];
    size_t n, nlen, inc;
    opes_status st;

    if (!cfg)
        return OPES_EINVAL;
    if (!keyword)
        keyword = OPES_BYPASS_KEYWORD;
    n = bypass_keyword_len(keyword);
    if (n == 0)
        return OPES_EBAD_CHAR;
    if (opes_bypass_param_name(name, sizeof name - 1, &nlen, keyword) != OPES_OK)
        return OPES_EBAD_CHAR;
    name[nlen] = '\0';
    /* Room for the extension and its parameter, checked first so that a
     * failure leaves the table as it was (it has no removal). */
    if (cfg->n_ext >= EXT_MAX || cfg->n_param >= PARAM_MAX ||
        POOL_SIZE - cfg->pool_used < n + 1 + nlen + 1)
        return OPES_ENOSPC;
    /* 8.1: the line limits grow by SP, the parameter's name, "=" and the
     * value: 514 for XOPES, more for a longer keyword */
    inc = 1 + nlen + 1 + OPES_BYPASS_MAX_VALUE;
    st = opes_smtp_config_add_extension(cfg, keyword, inc, inc);
    if (st != OPES_OK)
        return st;
    st = opes_smtp_config_add_param(cfg, keyword, name, OPES_PARAM_MAIL | OPES_PARAM_RCPT,
                                    OPES_VALUE_REQUIRED);
    if (st != OPES_OK)
        return st;
    return opes_smtp_config_set_param_check(cfg, name, param_value_check, NULL);
}

/* see opes/bypass.h */
opes_status opes_bypass_param_get(const opes_params *params, const char *keyword, opes_str *value)
{
    size_t n;

    if (!params || !value)
        return OPES_EINVAL;
    value->ptr = NULL;
    value->len = 0;
    if (!keyword)
        keyword = OPES_BYPASS_KEYWORD;
    n = bypass_keyword_len(keyword);
    if (n == 0 || params->count > OPES_MAX_PARAMS)
        return OPES_EINVAL;
    for (size_t i = 0; i < params->count; i++) {
        const opes_param *p = &params->item[i];
        if (p->keyword.len != n + 7 || !p->keyword.ptr ||
            !opes__ieq2(p->keyword.ptr, n, keyword, n) ||
            !opes__ieq(p->keyword.ptr + n, 7, "-BYPASS"))
            continue;
        if (!p->has_value)
            return OPES_EPARAM_VALUE;
        *value = p->value;
        return OPES_OK;
    }
    return OPES_ENOTFOUND;
}

/* ---- the OPES-Bypass field (3.4) ------------------------------------------ */

/* see opes/bypass.h */
opes_status opes_bypass_header_next(const char *body, size_t len, size_t *pos, opes_str *item,
                                    int *star, size_t *err_offset)
{
    size_t p, end = 0, err = 0, uoff = 0;
    int br = 0, first;
    opes_str u;
    opes_uri parsed;
    opes_status st;

    if (!pos || !item || (!body && len) || *pos > len)
        return OPES_EINVAL;
    item->ptr = NULL;
    item->len = 0;
    if (star)
        *star = 0;
    p = *pos;
    first = p == 0;
    if (opes__fws_skip(body, len, &p) != 0) {
        err = p;
        goto bad;
    }
    if (!first) {
        /* [FWS] "," [FWS] agent-ref, or [FWS] and the end */
        if (p == len)
            return OPES_ENOTFOUND;
        if (body[p] != ',') { /* ";" too: the field has no parameters */
            err = p;
            goto bad;
        }
        p++;
        if (opes__fws_skip(body, len, &p) != 0) {
            err = p;
            goto bad;
        }
    }
    if (p == len) { /* an empty field, or nothing after a "," */
        err = p;
        goto bad;
    }
    if (opes__agent_ref_scan(body, len, p, &u, &br, &end, &err) != OPES_OK)
        goto bad;
    if (!br && u.len == 1 && u.ptr[0] == '*') {
        /* 3.4: "*" stands alone */
        size_t q = end;
        if (!first) {
            err = p;
            goto bad;
        }
        if (opes__fws_skip(body, len, &q) != 0 || q != len) {
            err = q;
            goto bad;
        }
        *item = u;
        if (star)
            *star = 1;
        *pos = len;
        return OPES_OK;
    }
    if (end - p > OPES_BYPASS_MAX_ID) { /* as written, "<>" included */
        if (err_offset)
            *err_offset = p;
        return OPES_EURI_TOO_LONG;
    }
    st = opes_uri_parse(u.ptr, u.len, OPES_URI_ABSOLUTE, &parsed, &uoff);
    if (st != OPES_OK) {
        err = (size_t)(u.ptr - body) + (uoff < u.len ? uoff : u.len);
        goto bad;
    }
    *item = u;
    *pos = end;
    return OPES_OK;
bad:
    if (err_offset)
        *err_offset = err < len ? err : len;
    return OPES_EBAD_BYPASS;
}

/* ---- decoded request values --------------------------------------------- */

/* Most items in one XOPES-BYPASS value: each takes an octet and a comma. */
#define VALUE_ITEMS (OPES_BYPASS_MAX_VALUE / 2 + 1)

/* The items of up to two XOPES-BYPASS values, decoded once into one buffer
 * (decoding never grows the bytes, so 500 octets per value suffice), so
 * that comparing them costs no decoding per comparison. */
struct decoded {
    char buf[2 * OPES_BYPASS_MAX_VALUE];
    opes_str item[2 * VALUE_ITEMS];
    size_t n, used;
};

/* Append the items of a value that opes_bypass_param_check() accepted;
 * 0 if it is malformed after all (or would not fit: it cannot). */
static int decode_value(struct decoded *d, const opes_str *v, unsigned flags)
{
    size_t pos = 0, il = 0;
    opes_status st;
    for (;;) {
        if (d->n >= 2 * VALUE_ITEMS)
            return 0;
        st = opes_bypass_param_next(v->ptr, v->len, flags, &pos, d->buf + d->used,
                                    sizeof d->buf - d->used, &il, NULL, NULL);
        if (st == OPES_ENOTFOUND)
            return 1;
        if (st != OPES_OK)
            return 0;
        d->item[d->n].ptr = d->buf + d->used;
        d->item[d->n].len = il;
        d->n++;
        d->used += il;
    }
}

/* see bypass_internal.h */
int opes__bypass_item_eq(const opes_str *a, const opes_str *b)
{
    int eq = 0;
    int sa = is_star(a), sb = is_star(b);
    if (sa || sb)
        return sa && sb;
    if (opes_uri_equal(a->ptr, a->len, b->ptr, b->len, OPES_URI_ABSOLUTE, &eq) != OPES_OK)
        return 0;
    return eq;
}

#define FIELD_NAME "OPES-Bypass:"
#define NAME_SP_LEN 13 /* "OPES-Bypass: " */
#define FOLD_AT 78     /* RFC 5322 2.1.1 SHOULD */
#define LINE_MAX 998   /* RFC 5322 2.1.1 MUST */

/* see bypass_internal.h */
opes_status opes__bypass_field_write(opes__wr *w, const opes_str *items, size_t n,
                                     const opes_bypass_list *exclude, size_t *written)
{
    size_t col = 0, k = 0;

    *written = 0;
    /* a "*" already in the message covers every item (3.4, 7 item 2) */
    for (size_t j = 0; exclude && j < exclude->count; j++)
        if (is_star(&exclude->items[j]))
            return OPES_OK;
    for (size_t i = 0; i < n; i++) {
        if (is_star(&items[i])) {
            opes__wr_puts(w, FIELD_NAME " *\r\n");
            *written = 1;
            return OPES_OK;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const opes_str *a = &items[i];
        size_t plen;
        int dup = 0, brk;
        for (size_t j = 0; !dup && exclude && j < exclude->count; j++)
            dup = opes__bypass_item_eq(a, &exclude->items[j]);
        for (size_t j = 0; !dup && j < i; j++)
            dup = opes__bypass_item_eq(a, &items[j]);
        if (dup)
            continue;
        brk = opes__agent_ref_needs_brackets(a->ptr, a->len);
        plen = a->len + (brk ? 2u : 0u);
        if (k == 0) {
            /* "OPES-Bypass: " item [","] on the first line when it fits
             * 998 octets, else after a fold ([FWS] is allowed there) */
            if (NAME_SP_LEN + plen + 1 <= LINE_MAX) {
                opes__wr_puts(w, FIELD_NAME " ");
                col = NAME_SP_LEN;
            } else {
                opes__wr_puts(w, FIELD_NAME "\r\n ");
                col = 1;
            }
        } else if (col + 2 + plen > FOLD_AT) {
            /* RFC 5322 2.2.3: fold after the comma */
            opes__wr_puts(w, ",\r\n ");
            col = 1;
        } else {
            opes__wr_puts(w, ", ");
            col += 2;
        }
        if (brk)
            opes__wr_putc(w, '<');
        opes__wr_put(w, a->ptr, a->len);
        if (brk)
            opes__wr_putc(w, '>');
        col += plen;
        k++;
    }
    if (k) {
        opes__wr_puts(w, "\r\n");
        *written = k;
    }
    return OPES_OK;
}

/* see opes/bypass.h */
opes_status opes_bypass_header_build(char *dst, size_t cap, size_t *len, const opes_str *ids,
                                     size_t n)
{
    opes__wr w;
    opes_status st;
    size_t k;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || !ids || n == 0) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    *len = 0;
    if (n > OPES_BYPASS_MAX_ITEMS)
        return OPES_ETOO_MANY_ITEMS;
    for (size_t i = 0; i < n; i++) {
        st = item_ok(&ids[i], OPES_MAX_URI);
        if (st != OPES_OK)
            return st;
        /* as written: with the "<>" it needs (3.1) */
        if (!is_star(&ids[i]) &&
            ids[i].len + (opes__agent_ref_needs_brackets(ids[i].ptr, ids[i].len) ? 2u : 0u) >
                OPES_BYPASS_MAX_ID)
            return OPES_EURI_TOO_LONG;
    }
    opes__wr_init(&w, dst, cap);
    st = opes__bypass_field_write(&w, ids, n, NULL, &k);
    if (st != OPES_OK)
        return st;
    return opes__wr_finish(&w, len);
}

/* ---- relaying (8.4) -------------------------------------------------------- */

/* Do two XOPES-BYPASS values (both checked) hold the same items, in any
 * order (8.4)? */
static int same_request(const opes_str *x, const opes_str *y, unsigned flags)
{
    struct decoded dx, dy;

    if (x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0)
        return 1; /* the usual case: the same bytes */
    dx.n = dx.used = dy.n = dy.used = 0;
    if (!decode_value(&dx, x, flags) || !decode_value(&dy, y, flags))
        return 0;
    /* every item of each is in the other */
    for (int dir = 0; dir < 2; dir++) {
        const struct decoded *p = dir ? &dy : &dx, *q = dir ? &dx : &dy;
        for (size_t i = 0; i < p->n; i++) {
            int found = 0;
            for (size_t j = 0; !found && j < q->n; j++)
                found = opes__bypass_item_eq(&p->item[i], &q->item[j]);
            if (!found)
                return 0;
        }
    }
    return 1;
}

/* see opes/bypass.h */
opes_status opes_bypass_relay(const opes_bypass_relay_input *in, int *mail_action,
                              int *rcpt_actions, char *dst, size_t cap, size_t *len)
{
    opes_status st;
    int uniform;
    struct decoded d;
    opes__wr w;
    size_t k;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len)) {
        if (len)
            *len = 0;
        return OPES_EINVAL;
    }
    *len = 0;
    if (!in || !mail_action || (in->nrcpt && (!in->rcpt || !rcpt_actions)) ||
        (!in->mail.ptr && in->mail.len) || (!in->header.items && in->header.count))
        return OPES_EINVAL;
    for (size_t r = 0; r < in->nrcpt; r++)
        if (!in->rcpt[r].ptr && in->rcpt[r].len)
            return OPES_EINVAL;
    /* the values first: nothing is decided on a malformed one */
    if (in->mail.len) {
        st = opes_bypass_param_check(in->mail.ptr, in->mail.len, in->flags, NULL, NULL);
        if (st != OPES_OK)
            return st;
    }
    for (size_t r = 0; r < in->nrcpt; r++) {
        if (in->rcpt[r].len) {
            st = opes_bypass_param_check(in->rcpt[r].ptr, in->rcpt[r].len, in->flags, NULL, NULL);
            if (st != OPES_OK)
                return st;
        }
    }
    /* 8.4, RFC 3897 4.3: to a next hop that offers the keyword, pass every
     * request on, as the same parameter on the same command */
    if (in->next_offers || !in->downgrade) {
        int a = in->next_offers ? OPES_BYPASS_RELAY_FORWARD : OPES_BYPASS_RELAY_DROPPED;
        *mail_action = in->mail.len ? a : OPES_BYPASS_RELAY_NONE;
        for (size_t r = 0; r < in->nrcpt; r++)
            rcpt_actions[r] = in->rcpt[r].len ? a : OPES_BYPASS_RELAY_NONE;
        return OPES_OK;
    }
    /* Downgrade: the MAIL request covered every recipient of the copy;
     * RCPT requests only when every recipient carries the same one. */
    uniform = in->nrcpt > 0;
    for (size_t r = 0; uniform && r < in->nrcpt; r++)
        uniform =
            in->rcpt[r].len && (r == 0 || same_request(&in->rcpt[0], &in->rcpt[r], in->flags));
    *mail_action = in->mail.len ? OPES_BYPASS_RELAY_DOWNGRADED : OPES_BYPASS_RELAY_NONE;
    for (size_t r = 0; r < in->nrcpt; r++)
        rcpt_actions[r] = !in->rcpt[r].len ? OPES_BYPASS_RELAY_NONE
                          : uniform        ? OPES_BYPASS_RELAY_DOWNGRADED
                                           : OPES_BYPASS_RELAY_NOT_UNIFORM;
    if (!in->mail.len && !uniform)
        return OPES_OK;
    d.n = d.used = 0;
    if ((in->mail.len && !decode_value(&d, &in->mail, in->flags)) ||
        (uniform && !decode_value(&d, &in->rcpt[0], in->flags)))
        return OPES_EBAD_BYPASS; /* checked above: cannot happen */
    opes__wr_init(&w, dst, cap);
    st = opes__bypass_field_write(&w, d.item, d.n, &in->header, &k);
    if (st != OPES_OK)
        return st;
    return opes__wr_finish(&w, len);
}

/* see opes/bypass.h */
const char *opes_bypass_relay_action_name(int action)
{
    switch (action) {
    case OPES_BYPASS_RELAY_NONE:
        return "none";
    case OPES_BYPASS_RELAY_FORWARD:
        return "forward";
    case OPES_BYPASS_RELAY_DROPPED:
        return "dropped";
    case OPES_BYPASS_RELAY_DOWNGRADED:
        return "downgraded";
    case OPES_BYPASS_RELAY_NOT_UNIFORM:
        return "not_uniform";
    default:
        return NULL;
    }
}
