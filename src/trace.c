/*
 * OPES trace values (docs/opes-smtp.md 3.1-3.3): entries and parameters,
 * read and written; the OPES-System / OPES-Via field builder with its
 * streaming folder; the traced SMTP rejection (docs/opes-smtp.md 6).
 */
#include "internal.h"

#include "opes_internal.h"
#include "trace_internal.h"

/* ---- character classes (docs/opes-smtp.md 3.1) ---------------------------- */

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "!" / "$" / "&" /
 *             "'" / "*" / "^" / "`" / "|" / "#" / "%" ) */
static int is_token_char(unsigned char c)
{
    if (OPES__IS(c, OPES__C_ALPHA | OPES__C_DIGIT))
        return 1;
    switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '+':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '*':
    case '^':
    case '`':
    case '|':
    case '#':
    case '%':
        return 1;
    default:
        return 0;
    }
}

/* RFC 5322 3.2.4 qtext (without obs-qtext): %d33 / %d35-91 / %d93-126 */
static int is_qtext(unsigned char c)
{
    return c == 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126);
}

/* see trace_internal.h */
size_t opes__trace_param_name_bad(const char *p, size_t n)
{
    size_t i;
    if (n == 0 || !OPES__IS(p[0], OPES__C_ALPHA))
        return 0;
    for (i = 1; i < n; i++)
        if (!OPES__IS_LDH(p[i]))
            return i;
    return n;
}

/* ---- parsing ---------------------------------------------------------------- */

/*
 * One parameter at v[p..len): param-name "=" param-value (p at the name).
 * OPES_OK: *out filled, *end past the value. OPES_EBAD_TRACE: *err.
 */
static opes_status param_scan(const char *v, size_t len, size_t p, opes_trace_param *out,
                              size_t *end, size_t *err)
{
    size_t s = p, q;

    if (p >= len || !OPES__IS(v[p], OPES__C_ALPHA)) {
        *err = p;
        return OPES_EBAD_TRACE;
    }
    p++;
    while (p < len && OPES__IS_LDH(v[p]))
        p++;
    out->name.ptr = v + s;
    out->name.len = p - s;
    if (p >= len || v[p] != '=') {
        *err = p;
        return OPES_EBAD_TRACE;
    }
    p++;
    q = p;
    if (p < len && v[p] == '"') {
        /* RFC 5322 3.2.4: DQUOTE *([FWS] qcontent) [FWS] DQUOTE */
        p++;
        for (;;) {
            unsigned char c;
            if (p >= len) {
                *err = len;
                return OPES_EBAD_TRACE;
            }
            c = (unsigned char)v[p];
            if (c == '"') {
                p++;
                break;
            }
            if (c == '\\') {
                /* quoted-pair = "\" (VCHAR / WSP) */
                if (p + 1 >= len ||
                    !((v[p + 1] >= 33 && v[p + 1] <= 126) || is_wsp((unsigned char)v[p + 1]))) {
                    *err = p + 1 < len ? p + 1 : len;
                    return OPES_EBAD_TRACE;
                }
                p += 2;
            } else if (is_wsp(c) || c == '\r' || c == '\n') {
                size_t f = p;
                if (opes__fws_skip(v, len, &f) != 0) {
                    *err = f;
                    return OPES_EBAD_TRACE;
                }
                p = f;
            } else if (is_qtext(c)) {
                p++;
            } else {
                *err = p;
                return OPES_EBAD_TRACE;
            }
        }
        out->quoted = 1;
    } else {
        while (p < len && is_token_char((unsigned char)v[p]))
            p++;
        if (p == q) {
            *err = p;
            return OPES_EBAD_TRACE;
        }
        out->quoted = 0;
    }
    out->value.ptr = v + q;
    out->value.len = p - q;
    *end = p;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_entry_next(const char *val, size_t len, opes_trace_cursor *cur,
                                  opes_trace_entry *entry, size_t *err_offset)
{
    size_t p, q, e = 0, ps, last, r, n = 0;
    opes_str id;
    int br;
    opes_status st;
    opes_uri u;
    opes_trace_param prm[OPES_TRACE_MAX_PARAMS];

    if ((!val && len) || !cur || !entry || cur->pos > len)
        return OPES_EINVAL;
    if (!err_offset)
        err_offset = &e;
    p = cur->pos;
    if (opes__fws_skip(val, len, &p) != 0) {
        *err_offset = p;
        return OPES_EBAD_TRACE;
    }
    if (cur->count > 0) {
        if (p >= len)
            return OPES_ENOTFOUND;
        if (val[p] != ',') {
            *err_offset = p;
            return OPES_EBAD_TRACE;
        }
        p++;
        if (opes__fws_skip(val, len, &p) != 0) {
            *err_offset = p;
            return OPES_EBAD_TRACE;
        }
    }
    if (cur->count >= OPES_TRACE_MAX_ENTRIES) {
        *err_offset = p;
        return OPES_ETOO_MANY_ITEMS;
    }
    st = opes__agent_ref_scan(val, len, p, &id, &br, &q, err_offset);
    if (st != OPES_OK)
        return st;
    /* docs/opes-smtp.md 2: an agent identifier is an absolute-URI */
    st = opes_uri_parse(id.ptr, id.len, OPES_URI_ABSOLUTE, &u, &e);
    if (st != OPES_OK) {
        *err_offset = (size_t)(id.ptr - val) + (st == OPES_EURI_TOO_LONG ? 0 : e);
        return st;
    }
    ps = last = q;
    for (;;) {
        size_t pe;
        r = last;
        if (opes__fws_skip(val, len, &r) != 0) {
            *err_offset = r;
            return OPES_EBAD_TRACE;
        }
        if (r >= len || val[r] != ';')
            break;
        r++;
        if (opes__fws_skip(val, len, &r) != 0) {
            *err_offset = r;
            return OPES_EBAD_TRACE;
        }
        if (n >= OPES_TRACE_MAX_PARAMS) {
            *err_offset = r;
            return OPES_ETOO_MANY_PARAMS;
        }
        st = param_scan(val, len, r, &prm[n], &pe, err_offset);
        if (st != OPES_OK)
            return st;
        /* docs/opes-smtp.md 3.1: a name MUST NOT appear twice in an entry */
        for (size_t k = 0; k < n; k++) {
            if (opes__ieq2(prm[k].name.ptr, prm[k].name.len, prm[n].name.ptr, prm[n].name.len)) {
                *err_offset = r;
                return OPES_EBAD_TRACE;
            }
        }
        n++;
        last = pe;
    }
    /* after the entry: "," or the end */
    if (r < len && val[r] != ',') {
        *err_offset = r;
        return OPES_EBAD_TRACE;
    }
    entry->id = id;
    entry->bracketed = br;
    entry->params.ptr = last > ps ? val + ps : NULL;
    entry->params.len = last - ps;
    entry->nparams = n;
    entry->offset = p;
    entry->index = cur->count;
    cur->pos = last;
    cur->count++;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_param_next(const opes_trace_entry *entry, size_t *pos, opes_trace_param *p)
{
    const char *v;
    size_t n, q, end, err;

    if (!entry || !pos || !p || (!entry->params.ptr && entry->params.len) ||
        *pos > entry->params.len)
        return OPES_EINVAL;
    v = entry->params.ptr;
    n = entry->params.len;
    q = *pos;
    if (opes__fws_skip(v, n, &q) != 0)
        return OPES_EBAD_TRACE;
    if (q >= n)
        return OPES_ENOTFOUND;
    if (v[q] != ';')
        return OPES_EBAD_TRACE;
    q++;
    if (opes__fws_skip(v, n, &q) != 0)
        return OPES_EBAD_TRACE;
    if (param_scan(v, n, q, p, &end, &err) != OPES_OK)
        return OPES_EBAD_TRACE;
    *pos = end;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_param_find(const opes_trace_entry *entry, const char *name,
                                  opes_trace_param *p)
{
    size_t pos = 0, nl;
    opes_status st;
    opes_trace_param t;

    if (!entry || !name || !p)
        return OPES_EINVAL;
    nl = strlen(name); /* the caller's NUL-terminated name, not input */
    while ((st = opes_trace_param_next(entry, &pos, &t)) == OPES_OK) {
        if (opes__ieq2(t.name.ptr, t.name.len, name, nl)) {
            *p = t;
            return OPES_OK;
        }
    }
    return st;
}

/* see opes/trace.h */
opes_status opes_trace_param_unquote(const opes_trace_param *p, char *dst, size_t cap, size_t *len)
{
    opes__wr w;
    const char *v;
    size_t n, i;

    if (!p || !OPES__BUILD_ARGS_OK(dst, cap, len) || (!p->value.ptr && p->value.len))
        return OPES_EINVAL;
    v = p->value.ptr;
    n = p->value.len;
    opes__wr_init(&w, dst, cap);
    if (!p->quoted) {
        opes__wr_put(&w, v, n);
        return opes__wr_finish(&w, len);
    }
    if (n < 2 || v[0] != '"' || v[n - 1] != '"') {
        *len = 0;
        return OPES_EBAD_TRACE;
    }
    for (i = 1; i + 1 < n; i++) {
        char c = v[i];
        if (c == '\r' || c == '\n')
            continue; /* RFC 5322 3.2.4: the CRLF of a fold is invisible */
        if (c == '\\') {
            if (i + 2 >= n) {
                *len = 0;
                return OPES_EBAD_TRACE;
            }
            c = v[++i];
        } else if (c == '"') {
            *len = 0;
            return OPES_EBAD_TRACE;
        }
        opes__wr_putc(&w, c);
    }
    return opes__wr_finish(&w, len);
}

/* see opes/trace.h */
opes_status opes_trace_entry_action(const opes_trace_entry *entry, int *action)
{
    static const char *const names[] = {"none",        "modified",   "rejected",
                                        "quarantined", "redirected", "bypassed"};
    opes_trace_param p;
    opes_status st;
    size_t i;

    if (!entry || !action)
        return OPES_EINVAL;
    *action = -1;
    st = opes_trace_param_find(entry, "action", &p);
    if (st != OPES_OK)
        return st;
    if (p.quoted)
        return OPES_ENOTFOUND;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (opes__ieq2(p.value.ptr, p.value.len, names[i], strlen(names[i]))) {
            *action = (int)i;
            return OPES_OK;
        }
    }
    return OPES_ENOTFOUND;
}

/* see opes/trace.h */
const char *opes_trace_action_name(int action)
{
    switch (action) {
    case OPES_TRACE_ACTION_NONE:
        return "none";
    case OPES_TRACE_ACTION_MODIFIED:
        return "modified";
    case OPES_TRACE_ACTION_REJECTED:
        return "rejected";
    case OPES_TRACE_ACTION_QUARANTINED:
        return "quarantined";
    case OPES_TRACE_ACTION_REDIRECTED:
        return "redirected";
    case OPES_TRACE_ACTION_BYPASSED:
        return "bypassed";
    default:
        return NULL;
    }
}

/* ---- building ------------------------------------------------------------- */

/* see trace_internal.h */
opes_status opes__trace_id_check(const char *id, size_t len, unsigned uri_flags)
{
    opes_uri u;
    size_t e;
    opes_status st;

    if (!id && len)
        return OPES_EINVAL;
    if (opes__unsafe_at(id, len) < len)
        return OPES_EINJECT;
    st = opes_uri_parse(id, len, uri_flags, &u, &e);
    if (st != OPES_OK)
        return st;
    if (opes__trace_id_written_len(id, len) > OPES_TRACE_MAX_ID)
        return OPES_EURI_TOO_LONG;
    return OPES_OK;
}

/* see trace_internal.h */
size_t opes__trace_id_written_len(const char *id, size_t len)
{
    return len + (opes__agent_ref_needs_brackets(id, len) ? 2u : 0u);
}

/* see trace_internal.h */
void opes__trace_put_id(opes__trace_sink *s, const char *id, size_t len)
{
    int br = opes__agent_ref_needs_brackets(id, len);
    if (br)
        opes__trace_sink_put(s, "<", 1);
    opes__trace_sink_put(s, id, len);
    if (br)
        opes__trace_sink_put(s, ">", 1);
}

/* see trace_internal.h */
void opes__trace_put_param(opes__trace_sink *s, const char *name, size_t nlen, const char *val,
                           size_t vlen)
{
    size_t i;
    int tok = vlen > 0;

    for (i = 0; i < vlen && tok; i++)
        tok = is_token_char((unsigned char)val[i]);
    opes__trace_sink_put(s, "; ", 2);
    opes__trace_sink_put(s, name, nlen);
    opes__trace_sink_put(s, "=", 1);
    if (tok) {
        opes__trace_sink_put(s, val, vlen);
        return;
    }
    opes__trace_sink_put(s, "\"", 1);
    for (i = 0; i < vlen; i++) {
        if (val[i] == '"' || val[i] == '\\')
            opes__trace_sink_put(s, "\\", 1);
        opes__trace_sink_put(s, val + i, 1);
    }
    opes__trace_sink_put(s, "\"", 1);
}

/* see trace_internal.h */
opes_status opes__trace_value_check(const char *v, size_t n)
{
    size_t i;
    if (!v && n)
        return OPES_EINVAL;
    if (opes__unsafe_at(v, n) < n)
        return OPES_EINJECT;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        /* a quoted-string holds VCHAR and WSP (RFC 5322 3.2.4); ASCII only
         * (docs/opes-smtp.md 3.1) */
        if (!(is_wsp(c) || (c >= 33 && c <= 126)))
            return OPES_EBAD_CHAR;
    }
    return OPES_OK;
}

static opes_status items_check(const opes_trace_item *items, size_t n)
{
    size_t i, k, j;
    opes_status st;

    if (!items || n == 0)
        return OPES_EINVAL;
    if (n > OPES_TRACE_MAX_ENTRIES)
        return OPES_ETOO_MANY_ITEMS;
    for (i = 0; i < n; i++) {
        const opes_trace_item *it = &items[i];
        if ((!it->params && it->nparams) || (!it->id.ptr && it->id.len))
            return OPES_EINVAL;
        st = opes__trace_id_check(it->id.ptr, it->id.len, OPES_URI_ABSOLUTE);
        if (st != OPES_OK)
            return st;
        if (it->nparams > OPES_TRACE_MAX_PARAMS)
            return OPES_ETOO_MANY_PARAMS;
        for (k = 0; k < it->nparams; k++) {
            const opes_trace_pair *pr = &it->params[k];
            if ((!pr->name.ptr && pr->name.len) || (!pr->value.ptr && pr->value.len))
                return OPES_EINVAL;
            if (opes__unsafe_at(pr->name.ptr, pr->name.len) < pr->name.len)
                return OPES_EINJECT;
            if (pr->name.len == 0 ||
                opes__trace_param_name_bad(pr->name.ptr, pr->name.len) != pr->name.len)
                return OPES_EBAD_TRACE;
            st = opes__trace_value_check(pr->value.ptr, pr->value.len);
            if (st != OPES_OK)
                return st;
            for (j = 0; j < k; j++)
                if (opes__ieq2(it->params[j].name.ptr, it->params[j].name.len, pr->name.ptr,
                               pr->name.len))
                    return OPES_EBAD_TRACE;
        }
    }
    return OPES_OK;
}

static void items_put(opes__trace_sink *s, const opes_trace_item *items, size_t n)
{
    size_t i, k;
    for (i = 0; i < n; i++) {
        if (i)
            opes__trace_sink_put(s, ", ", 2);
        opes__trace_put_id(s, items[i].id.ptr, items[i].id.len);
        for (k = 0; k < items[i].nparams; k++)
            opes__trace_put_param(s, items[i].params[k].name.ptr, items[i].params[k].name.len,
                                  items[i].params[k].value.ptr, items[i].params[k].value.len);
    }
}

/* see opes/trace.h */
opes_status opes_trace_value_build(char *dst, size_t cap, size_t *len, const opes_trace_item *items,
                                   size_t n)
{
    opes__wr w;
    opes__trace_sink s;
    opes_status st;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    st = items_check(items, n);
    if (st != OPES_OK)
        return st;
    opes__wr_init(&w, dst, cap);
    opes__trace_sink_init(&s, &w, NULL);
    items_put(&s, items, n);
    return opes__wr_finish(&w, len);
}

/* ---- the streaming folder --------------------------------------------------
 * opes_header_field_build()'s folding (src/header.c), fed one piece of the
 * value at a time so that no buffer for the whole value is needed. A fold
 * point is the first WSP of a run with a non-WSP after it somewhere in the
 * value; a line takes, among the fold points within 78 columns, the last one
 * right after a comma, else the last one; if none fits, the first one past.
 * The decision for a line needs the bytes from its start up to the first
 * confirmed fold point past column 78 (or the end of the value): the buffer
 * keeps them. When the folding succeeds, that fold point F is at most
 * 78 + 998 octets from the line start (the last fold point before it fits
 * within 78 columns and the line from there to F holds at most 998), and it
 * is confirmed by the first non-WSP after its run, at most 997 octets
 * further (the run starts a line of at most 998): 78 + 2 * 998 octets
 * (OPES__TRACE_FOLD_BUF). If they do not fit, a line would pass 998
 * octets anyway: error. */

#define FOLD_COLUMNS 78
#define FOLD_LINE_MAX 998

void opes__trace_fold_init(opes__trace_fold *f, opes__wr *w, const char *name, size_t name_len,
                           int lf)
{
    f->w = w;
    f->eol = lf ? "\n" : "\r\n";
    f->n = 0;
    f->prefix = name_len + 2;
    f->err = OPES_OK;
    opes__wr_put(w, name, name_len);
    opes__wr_put(w, ": ", 2);
}

/* Try to end lines. final: the value is complete. Returns 1 when a line was
 * written (call again), 0 when more bytes are needed or all is written. */
static int fold_step(opes__trace_fold *f, int final)
{
    const char *b = f->buf;
    size_t n = f->n, k, width = f->prefix, fit = SIZE_MAX, comma = SIZE_MAX, first = SIZE_MAX;
    size_t end, last_nw = SIZE_MAX;
    int decided = 0;

    if (n == 0)
        return 0;
    for (k = n; k > 0; k--) {
        if (!is_wsp((unsigned char)b[k - 1])) {
            last_nw = k - 1;
            break;
        }
    }
    for (k = 0; k < n; k++) {
        if (k > 0 && is_wsp((unsigned char)b[k]) && !is_wsp((unsigned char)b[k - 1])) {
            if (last_nw != SIZE_MAX && k < last_nw) {
                if (width <= FOLD_COLUMNS) {
                    fit = k;
                    if (b[k - 1] == ',')
                        comma = k;
                } else {
                    if (fit == SIZE_MAX)
                        first = k;
                    decided = 1;
                    break;
                }
            } else if (!final) {
                return 0; /* whether this is a fold point is not known yet */
            }
        }
        width++;
    }
    if (!decided && !final)
        return 0;
    if (!decided && width <= FOLD_COLUMNS)
        end = n;
    else if (first != SIZE_MAX)
        end = first;
    else if (comma != SIZE_MAX)
        end = comma;
    else if (fit != SIZE_MAX)
        end = fit;
    else
        end = n;
    if (f->prefix + end > FOLD_LINE_MAX) {
        f->err = OPES_EHEADER_LINE_TOO_LONG;
        return 0;
    }
    opes__wr_put(f->w, b, end);
    opes__wr_puts(f->w, f->eol);
    memmove(f->buf, f->buf + end, n - end);
    f->n = n - end;
    f->prefix = 0;
    return f->n > 0;
}

void opes__trace_fold_put(opes__trace_fold *f, const char *p, size_t n)
{
    while (n > 0 && f->err == OPES_OK) {
        size_t room = sizeof f->buf - f->n, take = n < room ? n : room;
        memcpy(f->buf + f->n, p, take);
        f->n += take;
        p += take;
        n -= take;
        if (f->n == sizeof f->buf) {
            while (fold_step(f, 0))
                ;
            if (f->err == OPES_OK && f->n == sizeof f->buf)
                f->err = OPES_EHEADER_LINE_TOO_LONG;
        }
    }
}

opes_status opes__trace_fold_finish(opes__trace_fold *f)
{
    while (f->err == OPES_OK && fold_step(f, 1))
        ;
    return f->err;
}

void opes__trace_sink_init(opes__trace_sink *s, opes__wr *w, opes__trace_fold *f)
{
    s->w = w;
    s->f = f;
}

void opes__trace_sink_put(opes__trace_sink *s, const char *p, size_t n)
{
    if (s->f)
        opes__trace_fold_put(s->f, p, n);
    else
        opes__wr_put(s->w, p, n);
}

/* see opes/trace.h */
opes_status opes_trace_field_build(char *dst, size_t cap, size_t *len, int kind,
                                   const opes_trace_item *items, size_t n, unsigned flags)
{
    opes__wr w;
    opes__trace_fold f;
    opes__trace_sink s;
    opes_status st;
    const char *name;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (flags & ~(unsigned)OPES_HEADER_LF))
        return OPES_EINVAL;
    *len = 0;
    if (kind == OPES_TRACE_FIELD_SYSTEM)
        name = "OPES-System";
    else if (kind == OPES_TRACE_FIELD_VIA)
        name = "OPES-Via";
    else
        return OPES_EINVAL;
    st = items_check(items, n);
    if (st != OPES_OK)
        return st;
    opes__wr_init(&w, dst, cap);
    opes__trace_fold_init(&f, &w, name, strlen(name), (flags & OPES_HEADER_LF) != 0);
    opes__trace_sink_init(&s, &w, &f);
    items_put(&s, items, n);
    st = opes__trace_fold_finish(&f);
    if (st != OPES_OK)
        return st;
    return opes__wr_finish(&w, len);
}

/* ---- traced rejection (docs/opes-smtp.md 6) ---------------------------------- */

/* Lines of a traced reply in all: a client's default OPES_LIMIT_REPLY_LINES. */
#define TRACE_REPLY_LINES 128
#define TRACE_REPLY_LINE 512 /* RFC 5321 4.5.3.1.5, CRLF included */

/*
 * One line of the reply through opes_reply_build(): "NNN-" (last 0) or
 * "NNN " (last 1), the enhanced code, the text, CRLF. The text must fit one
 * line (docs/opes-smtp.md 6: an identifier is refused rather than split):
 * opes_reply_build() wraps a long text at a space, which is refused here.
 */
static opes_status reply_line(opes__wr *w, int code, const char *enhanced, const char *txt,
                              size_t n, int last)
{
    char buf[TRACE_REPLY_LINE];
    size_t got = 0;
    opes_str t;
    opes_status st;

    t.ptr = txt;
    t.len = n;
    st = opes_reply_build(buf, sizeof buf, &got, code, enhanced, &t, 1, TRACE_REPLY_LINE);
    if (st == OPES_ENOSPC)
        return OPES_EREPLY_TOO_LONG;
    if (st != OPES_OK)
        return st;
    if (got < 6 || memchr(buf, '\n', got) != buf + got - 1)
        return OPES_EREPLY_TOO_LONG; /* it was wrapped */
    if (!last)
        buf[3] = '-';
    opes__wr_put(w, buf, got);
    return OPES_OK;
}

/* "OPES-System: id" / "OPES-Via: id", the id written as in a trace value. */
static opes_status reply_id_line(opes__wr *w, int code, const char *enhanced, const char *label,
                                 const char *id, size_t idlen)
{
    char buf[TRACE_REPLY_LINE];
    opes__wr lw;
    opes__trace_sink s;
    size_t n;
    opes_status st = opes__trace_id_check(id, idlen, OPES_URI_ABSOLUTE);

    if (st != OPES_OK)
        return st;
    opes__wr_init(&lw, buf, sizeof buf);
    opes__trace_sink_init(&s, &lw, NULL);
    opes__wr_puts(&lw, label);
    opes__trace_put_id(&s, id, idlen);
    if (opes__wr_finish(&lw, &n) != OPES_OK)
        return OPES_EREPLY_TOO_LONG;
    return reply_line(w, code, enhanced, buf, n, 0);
}

/* see opes/trace.h */
opes_status opes_trace_reply_build(char *dst, size_t cap, size_t *len, int code,
                                   const char *enhanced, const char *text, size_t text_len,
                                   const char *system, size_t system_len, const opes_str *services,
                                   size_t nservices, unsigned flags)
{
    static const char hint[] = "This service may be bypassed: see OPES-Bypass or XOPES-BYPASS";
    opes__wr w;
    size_t i, esc_len = enhanced ? strlen(enhanced) : 0;
    opes_status st;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!text && text_len) || text_len == 0 ||
        (!system && system_len) || (!services && nservices) ||
        (flags & ~(unsigned)OPES_TRACE_REPLY_BYPASSABLE) || code < 400 || code > 559 ||
        (code / 10) % 10 > 5)
        return OPES_EINVAL;
    *len = 0;
    if (opes__unsafe_at(text, text_len) < text_len ||
        opes__unsafe_at(system, system_len) < system_len)
        return OPES_EINJECT;
    for (i = 0; i < nservices; i++) {
        if (!services[i].ptr && services[i].len)
            return OPES_EINVAL;
        if (opes__unsafe_at(services[i].ptr, services[i].len) < services[i].len)
            return OPES_EINJECT;
    }
    if (esc_len && opes__unsafe_at(enhanced, esc_len) < esc_len)
        return OPES_EINJECT;
    /* the text, the system, the services, the last line */
    if (nservices > TRACE_REPLY_LINES - 3)
        return OPES_ETOO_MANY_LINES;
    opes__wr_init(&w, dst, cap);
    st = reply_line(&w, code, enhanced, text, text_len, 0);
    if (st == OPES_OK)
        st = reply_id_line(&w, code, enhanced, "OPES-System: ", system, system_len);
    for (i = 0; st == OPES_OK && i < nservices; i++)
        st = reply_id_line(&w, code, enhanced, "OPES-Via: ", services[i].ptr, services[i].len);
    if (st == OPES_OK) {
        if (flags & OPES_TRACE_REPLY_BYPASSABLE)
            st = reply_line(&w, code, enhanced, hint, sizeof hint - 1, 1);
        else
            st = reply_line(&w, code, enhanced, text, text_len, 1);
    }
    if (st != OPES_OK) {
        *len = 0;
        return st;
    }
    return opes__wr_finish(&w, len);
}
