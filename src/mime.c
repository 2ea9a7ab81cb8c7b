/*
 * MIME (RFC 2045, RFC 2046, RFC 6532): Content-Type and
 * Content-Transfer-Encoding parsing, parameters, and the entity walker.
 * The walker is a push parser in the manner of the header scanner, which it
 * embeds for each entity's header section; see opes/mime.h.
 */
#include "internal.h"

#define MIME_DEFAULT_DEPTH 16
#define MIME_DEFAULT_PARTS 10000
#define MIME_MAX_PARTS ((size_t)1 << 24)
#define MIME_LINE_MAX 998 /* RFC 2045 2.7, 2.8: lines of at most 998 octets */
#define MIME_ALL_FLAGS (OPES_MIME_LF | OPES_MIME_UTF8 | OPES_MIME_8BIT)
#define LX_OPTS (OPES__LX_ALLOW_LF | OPES__LX_ALLOW_RAW8)

/* ---- names ------------------------------------------------------------- */

/* see opes/mime.h */
const char *opes_mime_cte_name(int cte)
{
    static const char *const names[] = {"none",   "7bit",   "8bit", "binary", "quoted-printable",
                                        "base64", "unknown"};
    if (cte < 0 || cte > OPES_MIME_CTE_UNKNOWN)
        return NULL;
    return names[cte];
}

/* see opes/mime.h */
const char *opes_mime_event_name(int type)
{
    static const char *const names[] = {"none",     "header",   "part", "body",  "preamble",
                                        "epilogue", "end_part", "end",  "error", "delimiter"};
    if (type < 0 || type > OPES_MIME_EV_DELIMITER)
        return NULL;
    return names[type];
}

/* ---- lexical: RFC 2045 5.1 tokens, RFC 5322 quoted-strings ---------------- */

/* RFC 2045 5.1: token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or
 * tspecials>; tspecials := ()<>@,;:\"/[]?= */
static int is_token(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7F)
        return 0;
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
        return 0;
    default:
        return 1;
    }
}

static size_t token_end(const char *b, size_t len, size_t i)
{
    while (i < len && is_token((unsigned char)b[i]))
        i++;
    return i;
}

/* CFWS at b[i]: the index after it, or SIZE_MAX if it is malformed. */
static size_t cfws(const char *b, size_t len, size_t i)
{
    size_t end = i, err = 0;
    unsigned info = 0;
    if (opes__lx_cfws(b, len, i, LX_OPTS, &end, &info, &err) != OPES_OK)
        return SIZE_MAX;
    return end;
}

/* A quoted-string starting at b[i] == '"' (RFC 5322 3.2.4, with FWS and
 * quoted-pairs; any octet >= 0x80): the index after its closing quote, or
 * SIZE_MAX when it is unterminated or holds a bare line end. */
static size_t qstring_end(const char *b, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (i + 1 >= len || b[i + 1] == '\r' || b[i + 1] == '\n' || b[i + 1] == '\0')
                return SIZE_MAX;
            i++;
        } else if (c == '\r' || c == '\n') {
            size_t k = c == '\r' ? 2 : 1;
            if (c == '\r' && (i + 1 >= len || b[i + 1] != '\n'))
                return SIZE_MAX;
            if (i + k >= len || (b[i + k] != ' ' && b[i + k] != '\t'))
                return SIZE_MAX;
            i += k - 1;
        } else if (c == '\0') {
            return SIZE_MAX;
        }
    }
    return SIZE_MAX;
}

/* see opes/mime.h */
opes_status opes_mime_cte_parse(const char *raw, size_t len, int *cte)
{
    static const char *const known[] = {"7BIT", "8BIT", "BINARY", "QUOTED-PRINTABLE", "BASE64"};
    size_t a, z, e;
    if (!cte || (!raw && len))
        return OPES_EINVAL;
    *cte = OPES_MIME_CTE_UNKNOWN;
    a = cfws(raw, len, 0);
    if (a == SIZE_MAX)
        return OPES_EBAD_MIME;
    z = token_end(raw, len, a);
    if (z == a)
        return OPES_EBAD_MIME;
    e = cfws(raw, len, z);
    if (e != len)
        return OPES_EBAD_MIME;
    for (int k = 0; k < 5; k++)
        if (opes__ieq(raw + a, z - a, known[k])) {
            *cte = OPES_MIME_CTE_7BIT + k;
            return OPES_OK;
        }
    return OPES_OK;
}

/* see opes/mime.h */
opes_status opes_mime_content_type_parse(const char *raw, size_t len, opes_mime_content_type *out)
{
    size_t i, t0, t1, s0, s1;
    if (!out || (!raw && len))
        return OPES_EINVAL;
    memset(out, 0, sizeof *out);
    if ((i = cfws(raw, len, 0)) == SIZE_MAX)
        return OPES_EBAD_MIME;
    t0 = i;
    t1 = token_end(raw, len, t0);
    if (t1 == t0 || (i = cfws(raw, len, t1)) == SIZE_MAX || i >= len || raw[i] != '/')
        return OPES_EBAD_MIME;
    if ((i = cfws(raw, len, i + 1)) == SIZE_MAX)
        return OPES_EBAD_MIME;
    s0 = i;
    s1 = token_end(raw, len, s0);
    if (s1 == s0 || (i = cfws(raw, len, s1)) == SIZE_MAX || (i < len && raw[i] != ';'))
        return OPES_EBAD_MIME;
    out->type.ptr = raw + t0;
    out->type.len = t1 - t0;
    out->subtype.ptr = raw + s0;
    out->subtype.len = s1 - s0;
    out->params.ptr = raw + i;
    out->params.len = len - i;
    return OPES_OK;
}

/* see opes/mime.h */
opes_status opes_mime_param_next(const char *params, size_t len, size_t *pos, opes_mime_param *out)
{
    size_t i, n0, n1, v0, v1;
    int quoted = 0;
    if (!pos || !out || (!params && len) || *pos > len)
        return OPES_EINVAL;
    memset(out, 0, sizeof *out);
    i = *pos;
    /* *(";" parameter), with CFWS around; empty parameters (";;", a
     * trailing ";") are skipped */
    for (;;) {
        if ((i = cfws(params, len, i)) == SIZE_MAX)
            return OPES_EBAD_MIME;
        if (i >= len) {
            *pos = len;
            return OPES_ENOTFOUND;
        }
        if (params[i] != ';')
            return OPES_EBAD_MIME;
        *pos = i;
        if ((i = cfws(params, len, i + 1)) == SIZE_MAX)
            return OPES_EBAD_MIME;
        if (i >= len) {
            *pos = len;
            return OPES_ENOTFOUND;
        }
        if (params[i] != ';')
            break;
    }
    n0 = i;
    n1 = token_end(params, len, n0);
    if (n1 == n0 || (i = cfws(params, len, n1)) == SIZE_MAX || i >= len || params[i] != '=')
        return OPES_EBAD_MIME;
    if ((i = cfws(params, len, i + 1)) == SIZE_MAX || i >= len)
        return OPES_EBAD_MIME;
    v0 = i;
    if (params[i] == '"') {
        v1 = qstring_end(params, len, i);
        if (v1 == SIZE_MAX)
            return OPES_EBAD_MIME;
        quoted = 1;
    } else {
        v1 = token_end(params, len, i);
        if (v1 == v0)
            return OPES_EBAD_MIME;
    }
    if ((i = cfws(params, len, v1)) == SIZE_MAX || (i < len && params[i] != ';'))
        return OPES_EBAD_MIME;
    out->name.ptr = params + n0;
    out->name.len = n1 - n0;
    out->value.ptr = params + v0;
    out->value.len = v1 - v0;
    out->quoted = quoted;
    *pos = i;
    return OPES_OK;
}

/* see opes/mime.h */
opes_status opes_mime_param_find(const char *params, size_t len, const char *name,
                                 opes_mime_param *out)
{
    size_t pos = 0;
    opes_status r;
    if (!name || !out || (!params && len))
        return OPES_EINVAL;
    while ((r = opes_mime_param_next(params, len, &pos, out)) == OPES_OK)
        if (opes__ieq2(out->name.ptr, out->name.len, name, strlen(name)))
            return OPES_OK;
    memset(out, 0, sizeof *out);
    return r;
}

/* see opes/mime.h */
opes_status opes_mime_param_value(const opes_mime_param *p, char *dst, size_t cap, size_t *len)
{
    opes__wr w;
    const char *v;
    size_t n;
    if (!p || !OPES__BUILD_ARGS_OK(dst, cap, len) || (!p->value.ptr && p->value.len))
        return OPES_EINVAL;
    opes__wr_init(&w, dst, cap);
    v = p->value.ptr;
    n = p->value.len;
    if (!p->quoted || n < 2) {
        opes__wr_put(&w, v, n);
        return opes__wr_finish(&w, len);
    }
    for (size_t i = 1; i + 1 < n; i++) {
        if (v[i] == '\\' && i + 2 < n) {
            opes__wr_putc(&w, v[++i]);
        } else if (v[i] == '\r' || v[i] == '\n') {
            continue; /* RFC 5322 2.2.3: a fold's line end goes, its WSP stays */
        } else {
            opes__wr_putc(&w, v[i]);
        }
    }
    return opes__wr_finish(&w, len);
}

/* ---- the walker ----------------------------------------------------------- */

enum { PH_CHILD = 0, PH_HEADER, PH_CONTENT, PH_POP, PH_DELIM, PH_DONE, PH_ERR };
enum { MP_PREAMBLE = 0, MP_IN_PART, MP_EPILOGUE };

typedef struct mime_ent {
    int kind;
    int mp;     /* multipart: MP_* */
    int digest; /* multipart/digest */
    int closed; /* multipart: its close-delimiter was seen */
    int binary; /* leaf: Content-Transfer-Encoding binary */
    unsigned flags;
    size_t id, index, children;
    size_t blen;
    char boundary[OPES_MIME_MAX_BOUNDARY];
} mime_ent;

struct opes_mime_walker {
    opes_allocator alloc;
    int heap;
    unsigned flags;
    size_t limit[OPES_MIME_LIMIT__COUNT];
    /* state */
    int phase;
    opes_status err;
    uint64_t err_off;
    uint64_t off;     /* stream offset of the first unconsumed byte */
    int line_start;   /* buf[0] starts a line (a delimiter needs no line end) */
    int top;          /* index of the innermost entity; -1: none */
    size_t parts;     /* entities so far */
    int pop_to;       /* PH_POP: pop down to this level (-1: all, then END) */
    size_t delim_len; /* PH_DELIM: bytes of the delimiter at buf[0] */
    int delim_close;  /* PH_DELIM: it is a close-delimiter */
    /* the entity whose header is being read */
    uint64_t ent_off;
    int ct_seen, cte_seen;
    unsigned ent_flags;
    int cte;
    size_t tlen, slen, clen, blen;
    char type[OPES_MIME_MAX_TYPE], subtype[OPES_MIME_MAX_TYPE];
    char charset[OPES_MIME_MAX_CHARSET];
    char boundary[OPES_MIME_MAX_BOUNDARY];
    mime_ent stack[OPES_MIME_MAX_DEPTH + 1];
    union {
        max_align_t align;
        unsigned char mem[OPES__HEADER_SCANNER_SIZE];
    } hs_mem;
    opes_header_scanner *hs;
};

static const size_t mime_ceiling[OPES_MIME_LIMIT__COUNT] = {OPES_MIME_MAX_DEPTH, MIME_MAX_PARTS};

static void w_start(opes_mime_walker *w)
{
    w->phase = PH_CHILD;
    w->err = OPES_OK;
    w->err_off = 0;
    w->off = 0;
    w->line_start = 1;
    w->top = -1;
    w->parts = 0;
    w->pop_to = -1;
    w->delim_len = 0;
    w->delim_close = 0;
}

static void w_init(opes_mime_walker *w)
{
    memset(w, 0, sizeof *w);
    w->limit[OPES_MIME_LIMIT_DEPTH] = MIME_DEFAULT_DEPTH;
    w->limit[OPES_MIME_LIMIT_PARTS] = MIME_DEFAULT_PARTS;
    (void)opes_header_scanner_init_in(w->hs_mem.mem, sizeof w->hs_mem.mem, &w->hs);
    w_start(w);
}

static int w_fresh(const opes_mime_walker *w)
{
    return w->phase == PH_CHILD && w->top == -1 && w->off == 0;
}

/* see opes/mime.h */
size_t opes_mime_walker_sizeof(void)
{
    return sizeof(opes_mime_walker);
}

/* see opes/mime.h */
opes_status opes_mime_walker_new(opes_mime_walker **out, const opes_allocator *alloc)
{
    opes_mime_walker *w;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    w = opes__alloc(alloc, sizeof *w);
    if (!w)
        return OPES_ENOMEM;
    w_init(w);
    w->heap = 1;
    if (alloc)
        w->alloc = *alloc;
    *out = w;
    return OPES_OK;
}

/* see opes/mime.h */
opes_status opes_mime_walker_init_in(void *mem, size_t len, opes_mime_walker **out)
{
    if (!mem || !out || len < sizeof(opes_mime_walker))
        return OPES_EINVAL;
    w_init((opes_mime_walker *)mem);
    *out = (opes_mime_walker *)mem;
    return OPES_OK;
}

/* see opes/mime.h */
void opes_mime_walker_free(opes_mime_walker *w)
{
    if (!w || !w->heap)
        return;
    opes_allocator a = w->alloc;
    opes__free(a.free ? &a : NULL, w, sizeof *w);
}

/* see opes/mime.h */
opes_status opes_mime_walker_reset(opes_mime_walker *w)
{
    if (!w)
        return OPES_EINVAL;
    w_start(w);
    return OPES_OK;
}

/* see opes/mime.h */
opes_status opes_mime_walker_set_flags(opes_mime_walker *w, unsigned flags)
{
    if (!w || (flags & ~(unsigned)MIME_ALL_FLAGS))
        return OPES_EINVAL;
    if (!w_fresh(w))
        return OPES_ESTATE;
    w->flags = flags;
    return OPES_OK;
}

/* see opes/mime.h */
opes_status opes_mime_walker_set_limit(opes_mime_walker *w, int limit, size_t value)
{
    if (!w || limit < 0 || limit >= OPES_MIME_LIMIT__COUNT || value == 0)
        return OPES_EINVAL;
    if (value > mime_ceiling[limit])
        return OPES_ECEILING;
    if (!w_fresh(w))
        return OPES_ESTATE;
    w->limit[limit] = value;
    return OPES_OK;
}

static opes_status w_fail(opes_mime_walker *w, opes_status r, uint64_t off, opes_mime_event *ev)
{
    w->phase = PH_ERR;
    w->err = r;
    w->err_off = off;
    ev->type = OPES_MIME_EV_ERROR;
    ev->offset = off;
    ev->depth = w->top < 0 ? 0 : (size_t)w->top;
    return r;
}

static size_t lower_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    return n;
}

static void set_type(opes_mime_walker *w, const char *t, const char *s)
{
    w->tlen = lower_copy(w->type, t, strlen(t));
    w->slen = lower_copy(w->subtype, s, strlen(s));
}

/* RFC 2046 5.1.1: bchars := bcharsnospace / " "; bcharsnospace := DIGIT /
 * ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" /
 * "?" */
static int is_bchar(unsigned char c)
{
    return OPES__IS(c, OPES__C_ALPHA | OPES__C_DIGIT) || (c != 0 && strchr("'()+_,-./:=? ", c));
}

/* One RFC 2231 piece of a parameter value into wr: unquoted; extended
 * (ext: the name ends in "*") values %-decoded, the first (first) without
 * its charset'language' prefix (RFC 2231 4). A bad %-escape is kept as
 * written, as Python's email keeps it. 0 when it is too long to be part of
 * a boundary. */
static int rfc2231_piece(const opes_mime_param *p, int ext, int first, opes__wr *wr)
{
    char v[256]; /* a 70-octet boundary %-encoded, and a prefix */
    size_t n = 0, i = 0;
    if (opes_mime_param_value(p, v, sizeof v, &n) != OPES_OK)
        return 0;
    if (!ext) {
        opes__wr_put(wr, v, n);
        return 1;
    }
    if (first) {
        const char *t1 = memchr(v, '\'', n), *t2;
        if (t1 && (t2 = memchr(t1 + 1, '\'', n - (size_t)(t1 + 1 - v))) != NULL)
            i = (size_t)(t2 + 1 - v);
    }
    for (; i < n; i++) {
        int hi, lo;
        if (v[i] == '%' && i + 2 < n && (hi = opes__hexval((unsigned char)v[i + 1])) >= 0 &&
            (lo = opes__hexval((unsigned char)v[i + 2])) >= 0) {
            opes__wr_putc(wr, (char)(hi * 16 + lo));
            i += 2;
        } else {
            opes__wr_putc(wr, v[i]);
        }
    }
    return 1;
}

/* The boundary of a parameter list into w->boundary (its length, or 0):
 * "boundary"; else RFC 2231's "boundary*" or its continuations
 * "boundary*0", "boundary*1*", ... joined in order up to the first gap
 * (RFC 2231 3, 4; Python's email reads them so). One pass over the list,
 * the first of each name counting. */
static size_t find_boundary(opes_mime_walker *w, const char *params, size_t len)
{
    opes_mime_param p, star, seg[OPES_MIME_MAX_BOUNDARY];
    unsigned char have[OPES_MIME_MAX_BOUNDARY], ext[OPES_MIME_MAX_BOUNDARY];
    int have_star = 0;
    size_t pos = 0, n = 0;
    opes__wr wr;
    opes_status r = opes_mime_param_find(params, len, "boundary", &p);
    if (r == OPES_OK)
        return opes_mime_param_value(&p, w->boundary, sizeof w->boundary, &n) == OPES_OK ? n : 0;
    memset(have, 0, sizeof have);
    memset(ext, 0, sizeof ext);
    while (opes_mime_param_next(params, len, &pos, &p) == OPES_OK) {
        const char *nm = p.name.ptr;
        size_t nl = p.name.len, k = 9, num = 0;
        if (nl < 9 || !opes__ieq(nm, 9, "BOUNDARY*"))
            continue;
        if (nl == 9) {
            if (!have_star)
                star = p;
            have_star = 1;
            continue;
        }
        /* section := "0" / (non-zero digit *DIGIT), then "*" if extended */
        if (nm[k] == '0' && nl > k + 1 && nm[k + 1] != '*')
            continue;
        for (; k < nl && nm[k] >= '0' && nm[k] <= '9' && num < OPES_MIME_MAX_BOUNDARY; k++)
            num = num * 10 + (size_t)(nm[k] - '0');
        if (k == 9 || num >= OPES_MIME_MAX_BOUNDARY || (k < nl && (nm[k] != '*' || k + 1 != nl)))
            continue;
        if (!have[num]) {
            have[num] = 1;
            ext[num] = k < nl;
            seg[num] = p;
        }
    }
    opes__wr_init(&wr, w->boundary, sizeof w->boundary);
    if (have[0]) {
        for (size_t i = 0; i < OPES_MIME_MAX_BOUNDARY && have[i]; i++)
            if (!rfc2231_piece(&seg[i], ext[i], i == 0, &wr))
                return 0;
    } else if (have_star) {
        if (!rfc2231_piece(&star, 1, 1, &wr))
            return 0;
    } else {
        return 0;
    }
    return opes__wr_finish(&wr, &n) == OPES_OK ? n : 0;
}

/* A Content-Type field of the entity being read. */
static void take_content_type(opes_mime_walker *w, const opes_header_field *f)
{
    opes_mime_content_type ct;
    opes_mime_param p;
    size_t n = 0;
    if (w->ct_seen) {
        w->ent_flags |= OPES_MIME_PF_DUPLICATE_FIELD;
        return;
    }
    w->ct_seen = 1;
    w->ent_flags &= ~(unsigned)OPES_MIME_PF_DEFAULT_TYPE;
    if (opes_mime_content_type_parse(f->raw.ptr, f->raw.len, &ct) != OPES_OK ||
        ct.type.len > OPES_MIME_MAX_TYPE || ct.subtype.len > OPES_MIME_MAX_TYPE) {
        /* RFC 2045 5.2: an invalid Content-Type is taken as text/plain */
        w->ent_flags |= OPES_MIME_PF_BAD_TYPE;
        set_type(w, "text", "plain");
        return;
    }
    w->tlen = lower_copy(w->type, ct.type.ptr, ct.type.len);
    w->slen = lower_copy(w->subtype, ct.subtype.ptr, ct.subtype.len);
    if (opes_mime_param_find(ct.params.ptr, ct.params.len, "charset", &p) == OPES_OK &&
        opes_mime_param_value(&p, w->charset, sizeof w->charset, &n) == OPES_OK)
        w->clen = lower_copy(w->charset, w->charset, n);
    n = find_boundary(w, ct.params.ptr, ct.params.len);
    if (n > 0 && w->boundary[n - 1] != ' ') {
        size_t i;
        for (i = 0; i < n && is_bchar((unsigned char)w->boundary[i]); i++)
            ;
        if (i == n)
            w->blen = n;
    }
}

static void take_cte(opes_mime_walker *w, const opes_header_field *f)
{
    int cte = OPES_MIME_CTE_UNKNOWN;
    if (w->cte_seen) {
        w->ent_flags |= OPES_MIME_PF_DUPLICATE_FIELD;
        return;
    }
    w->cte_seen = 1;
    if (opes_mime_cte_parse(f->raw.ptr, f->raw.len, &cte) != OPES_OK)
        w->ent_flags |= OPES_MIME_PF_BAD_CTE;
    w->cte = cte;
}

static int w_lf(const opes_mime_walker *w)
{
    return (w->flags & OPES_MIME_LF) != 0;
}

/* Start the next entity (the top-level one, an enclosed message, or a part
 * of a multipart) at the current offset. */
static opes_status push_child(opes_mime_walker *w, opes_mime_event *ev)
{
    int digest =
        w->top >= 0 && w->stack[w->top].kind == OPES_MIME_KIND_MULTIPART && w->stack[w->top].digest;
    size_t depth = (size_t)(w->top + 1);
    mime_ent *e;
    unsigned hf = 0;
    if (depth > w->limit[OPES_MIME_LIMIT_DEPTH])
        return w_fail(w, OPES_EMIME_TOO_DEEP, w->off, ev);
    if (w->parts >= w->limit[OPES_MIME_LIMIT_PARTS])
        return w_fail(w, OPES_ETOO_MANY_ITEMS, w->off, ev);
    w->parts++;
    if (w->top >= 0)
        w->stack[w->top].children++;
    e = &w->stack[++w->top];
    memset(e, 0, offsetof(mime_ent, boundary));
    e->id = w->parts;
    e->index = depth ? w->stack[w->top - 1].children : 0;
    w->ent_off = w->off;
    w->ct_seen = w->cte_seen = 0;
    w->ent_flags = OPES_MIME_PF_DEFAULT_TYPE;
    w->cte = OPES_MIME_CTE_NONE;
    w->clen = w->blen = 0;
    /* RFC 2045 5.2; RFC 2046 5.1.5 in a digest */
    if (digest)
        set_type(w, "message", "rfc822");
    else
        set_type(w, "text", "plain");
    if (w->flags & OPES_MIME_LF)
        hf |= OPES_HEADER_LF;
    if (w->flags & OPES_MIME_UTF8)
        hf |= OPES_HEADER_UTF8;
    if (w->flags & OPES_MIME_8BIT)
        hf |= OPES_HEADER_8BIT;
    (void)opes_header_scanner_reset(w->hs);
    (void)opes_header_scanner_set_flags(w->hs, hf);
    w->phase = PH_HEADER;
    return OPES_OK;
}

static void part_out(const opes_mime_walker *w, const mime_ent *e, opes_mime_part *p)
{
    p->kind = e->kind;
    p->depth = (size_t)(e - w->stack);
    p->index = e->index;
    p->id = e->id;
    p->flags = e->flags;
    if (e->kind == OPES_MIME_KIND_MULTIPART) {
        p->boundary.ptr = e->boundary;
        p->boundary.len = e->blen;
    }
}

/* The header section of the top entity ended (used: the empty line's
 * bytes, 0 when it ended at the end of the input or at a delimiter). */
static opes_status header_done(opes_mime_walker *w, size_t used, size_t *pused, opes_mime_event *ev)
{
    mime_ent *e = &w->stack[w->top];
    int ident = w->cte == OPES_MIME_CTE_NONE || w->cte == OPES_MIME_CTE_7BIT ||
                w->cte == OPES_MIME_CTE_8BIT || w->cte == OPES_MIME_CTE_BINARY;
    e->flags = w->ent_flags;
    e->kind = OPES_MIME_KIND_LEAF;
    e->binary = w->cte == OPES_MIME_CTE_BINARY;
    if (w->tlen == 9 && memcmp(w->type, "multipart", 9) == 0) {
        if (w->blen) {
            e->kind = OPES_MIME_KIND_MULTIPART;
            memcpy(e->boundary, w->boundary, w->blen);
            e->blen = w->blen;
            e->digest = w->slen == 6 && memcmp(w->subtype, "digest", 6) == 0;
            e->mp = MP_PREAMBLE;
        } else {
            e->flags |= OPES_MIME_PF_NO_BOUNDARY;
        }
    } else if (w->tlen == 7 && memcmp(w->type, "message", 7) == 0 &&
               ((w->slen == 6 && memcmp(w->subtype, "rfc822", 6) == 0) ||
                (w->slen == 6 && memcmp(w->subtype, "global", 6) == 0))) {
        if (ident)
            e->kind = OPES_MIME_KIND_MESSAGE;
        else
            e->flags |= OPES_MIME_PF_ENCODED_MESSAGE;
    }
    ev->type = OPES_MIME_EV_PART;
    part_out(w, e, &ev->part);
    ev->part.type.ptr = w->type;
    ev->part.type.len = w->tlen;
    ev->part.subtype.ptr = w->subtype;
    ev->part.subtype.len = w->slen;
    ev->part.charset.ptr = w->charset;
    ev->part.charset.len = w->clen;
    ev->part.cte = w->cte;
    ev->part.offset = w->ent_off;
    ev->part.body_offset = w->off + used;
    ev->depth = (size_t)w->top;
    ev->offset = w->off;
    w->off += used;
    *pused = used;
    w->line_start = 1;
    w->phase = e->kind == OPES_MIME_KIND_MESSAGE ? PH_CHILD : PH_CONTENT;
    return OPES_OK;
}

enum { DM_NO = 0, DM_NEED, DM_YES };

/* Whether b[p..len) starts a delimiter line of boundary bd (RFC 2046
 * 5.1.1): "--" boundary ["--"] *LWSP, then a line end or the end of the
 * input; the line (from p, without its end) at most 998 octets. *n: bytes
 * from p through the line end. */
static int delim_at(const opes_mime_walker *w, const char *b, size_t len, size_t p, int eof,
                    const char *bd, size_t blen, size_t *n, int *close)
{
    size_t i = p, k;
    for (k = 0; k < 2 + blen; k++, i++) {
        char want = k < 2 ? '-' : bd[k - 2];
        if (i >= len)
            return eof ? DM_NO : DM_NEED;
        if (b[i] != want)
            return DM_NO;
    }
    *close = 0;
    if (len - i >= 2 && b[i] == '-' && b[i + 1] == '-') {
        *close = 1;
        i += 2;
    } else if (len - i < 2 && !eof && (i == len || b[i] == '-')) {
        return DM_NEED;
    }
    for (;; i++) {
        if (i - p > MIME_LINE_MAX)
            return DM_NO;
        if (i >= len) {
            if (!eof)
                return DM_NEED;
            *n = i - p;
            return DM_YES;
        }
        if (b[i] == ' ' || b[i] == '\t')
            continue;
        if (b[i] == '\n' && w_lf(w)) {
            *n = i + 1 - p;
            return DM_YES;
        }
        if (b[i] == '\r') {
            if (i + 1 >= len) {
                if (!eof)
                    return DM_NEED;
                return DM_NO;
            }
            if (b[i + 1] == '\n') {
                *n = i + 2 - p;
                return DM_YES;
            }
        }
        return DM_NO;
    }
}

/* A delimiter of an active boundary at b[p]: the innermost level wins.
 * hi: the highest level whose boundary is active. */
static int delim_any(const opes_mime_walker *w, const char *b, size_t len, size_t p, int eof,
                     int hi, int *level, size_t *n, int *close)
{
    int need = 0;
    if (len - p >= 1 && b[p] != '-')
        return DM_NO;
    for (int l = hi; l >= 0; l--) {
        const mime_ent *e = &w->stack[l];
        int r;
        if (e->kind != OPES_MIME_KIND_MULTIPART)
            continue;
        r = delim_at(w, b, len, p, eof, e->boundary, e->blen, n, close);
        if (r == DM_YES) {
            *level = l;
            return DM_YES;
        }
        if (r == DM_NEED)
            need = 1;
    }
    return need ? DM_NEED : DM_NO;
}

/* Whether b[0..len) starts a header field (RFC 5322 3.6.8, 4.5: 1*ftext
 * *WSP ":"), for a header section below the top level: DM_NO when it
 * cannot (that line then starts the body, as Python's email reads it),
 * DM_NEED when more bytes must be seen, DM_YES when it may (the header
 * scanner judges the rest: a line end there is the empty line, a WSP a
 * continuation, a line over 998 octets its error). */
static int field_start(const char *b, size_t len, int eof)
{
    size_t i = 0, j;
    unsigned char c0 = len ? (unsigned char)b[0] : 0;
    if (len == 0)
        return eof ? DM_YES : DM_NEED;
    if (c0 == '\r' || c0 == '\n' || c0 == ' ' || c0 == '\t' || c0 == ':')
        return DM_YES;
    while (i < len && i <= MIME_LINE_MAX && b[i] > 32 && b[i] < 127 && b[i] != ':')
        i++;
    if (i == 0)
        return DM_NO; /* a control or 8-bit octet: no field name starts so */
    for (j = i; j < len && j <= MIME_LINE_MAX && (b[j] == ' ' || b[j] == '\t');)
        j++;
    if (j > MIME_LINE_MAX)
        return DM_YES;
    if (j >= len)
        return eof ? DM_NO : DM_NEED;
    return b[j] == ':' ? DM_YES : DM_NO;
}

/* The highest level whose boundary ends the content of the top entity. */
static int active_hi(const opes_mime_walker *w)
{
    const mime_ent *e = &w->stack[w->top];
    if (e->kind == OPES_MIME_KIND_MULTIPART && e->mp == MP_PREAMBLE)
        return w->top;
    return w->top - 1;
}

static int any_boundary(const opes_mime_walker *w, int hi)
{
    for (int l = hi; l >= 0; l--)
        if (w->stack[l].kind == OPES_MIME_KIND_MULTIPART)
            return 1;
    return 0;
}

/* A delimiter for level lv (delim_len bytes, a line end first unless at a
 * line start) is at buf[0]: end the entities above lv, then take it. */
static void start_pop(opes_mime_walker *w, int lv, size_t n, int close)
{
    w->phase = PH_POP;
    w->pop_to = lv;
    w->delim_len = n;
    w->delim_close = close;
}

static opes_status data_event(opes_mime_walker *w, const char *buf, size_t n, size_t *used,
                              opes_mime_event *ev)
{
    const mime_ent *e = &w->stack[w->top];
    if (e->kind == OPES_MIME_KIND_MULTIPART)
        ev->type = e->mp == MP_PREAMBLE ? OPES_MIME_EV_PREAMBLE : OPES_MIME_EV_EPILOGUE;
    else
        ev->type = OPES_MIME_EV_BODY;
    ev->depth = (size_t)w->top;
    ev->part.id = e->id;
    ev->part.depth = (size_t)w->top;
    ev->data.ptr = buf;
    ev->data.len = n;
    ev->offset = w->off;
    w->off += n;
    w->line_start = 0;
    *used = n;
    return OPES_OK;
}

/* The content of the top entity (a leaf body, a preamble, an epilogue).
 * Only a line end can come before a delimiter; a bare CR or LF is an error
 * (strict), or data: with OPES_MIME_LF a bare CR, and in a binary body
 * (RFC 2045 2.9, RFC 3030 BINARYMIME: CR and LF without line meaning) both
 * (CRLF, and LF with OPES_MIME_LF, still end a line there). */
static opes_status content(opes_mime_walker *w, const char *buf, size_t len, int eof, size_t *used,
                           opes_mime_event *ev)
{
    int hi = active_hi(w), lv = 0, close = 0, r;
    int bin = w->stack[w->top].kind == OPES_MIME_KIND_LEAF && w->stack[w->top].binary;
    size_t i = 0, n = 0;
    if (len == 0) {
        if (!eof)
            return OPES_INCOMPLETE;
        w->phase = PH_POP;
        w->pop_to = -1;
        return OPES_OK; /* no event: the caller goes on */
    }
    if (w->stack[w->top].kind == OPES_MIME_KIND_MESSAGE)
        hi = w->top - 1;
    if (!any_boundary(w, hi))
        return data_event(w, buf, len, used, ev);
    if (w->line_start) {
        r = delim_any(w, buf, len, 0, eof, hi, &lv, &n, &close);
        if (r == DM_NEED)
            return OPES_INCOMPLETE;
        if (r == DM_YES) {
            start_pop(w, lv, n, close);
            return OPES_OK;
        }
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        size_t eol;
        if (c == '\r') {
            if (i + 1 >= len) {
                if (!eof)
                    break; /* a CR at the end: wait for what follows */
                if (w_lf(w) || bin)
                    continue;
                if (i > 0)
                    return data_event(w, buf, i, used, ev);
                return w_fail(w, OPES_EBARE_CR, w->off + i, ev);
            }
            if (buf[i + 1] != '\n') {
                if (w_lf(w) || bin)
                    continue;
                if (i > 0)
                    return data_event(w, buf, i, used, ev);
                return w_fail(w, OPES_EBARE_CR, w->off + i, ev);
            }
            eol = 2;
        } else if (c == '\n') {
            if (!w_lf(w) && bin)
                continue;
            if (!w_lf(w)) {
                if (i > 0)
                    return data_event(w, buf, i, used, ev);
                return w_fail(w, OPES_EBARE_LF, w->off + i, ev);
            }
            eol = 1;
        } else {
            continue;
        }
        r = delim_any(w, buf, len, i + eol, eof, hi, &lv, &n, &close);
        if (r == DM_NO) {
            i += eol - 1;
            continue;
        }
        if (i > 0)
            return data_event(w, buf, i, used, ev);
        if (r == DM_NEED)
            return OPES_INCOMPLETE;
        start_pop(w, lv, eol + n, close);
        return OPES_OK;
    }
    if (i == 0)
        return OPES_INCOMPLETE;
    return data_event(w, buf, i, used, ev);
}

/* End the top entity: END_PART. */
static opes_status pop_one(opes_mime_walker *w, opes_mime_event *ev)
{
    mime_ent *e = &w->stack[w->top];
    if (e->kind == OPES_MIME_KIND_MULTIPART && !e->closed)
        e->flags |= OPES_MIME_PF_UNTERMINATED;
    ev->type = OPES_MIME_EV_END_PART;
    part_out(w, e, &ev->part);
    ev->depth = (size_t)w->top;
    ev->offset = w->off;
    w->top--;
    return OPES_OK;
}

/* see opes/mime.h */
opes_status opes_mime_walk(opes_mime_walker *w, const char *buf, size_t len, int eof, size_t *used,
                           opes_mime_event *ev)
{
    if (used)
        *used = 0;
    if (ev)
        memset(ev, 0, sizeof *ev);
    if (!w || !used || !ev || (!buf && len))
        return OPES_EINVAL;
    /* a bounded number of steps: each either returns or moves the state
     * forward without a loop back (push, then a header call) */
    for (int step = 0; step < 8; step++) {
        switch (w->phase) {
        case PH_ERR:
            ev->type = OPES_MIME_EV_ERROR;
            ev->offset = w->err_off;
            return w->err;
        case PH_DONE:
            return OPES_ESTATE;
        case PH_CHILD: {
            opes_status r = push_child(w, ev);
            if (r != OPES_OK)
                return r;
            continue;
        }
        case PH_HEADER: {
            opes_header_event hev;
            size_t u = 0;
            opes_status r;
            int hi = w->top - 1;
            if (any_boundary(w, hi) && len > 0 && buf[0] == '-') {
                int lv = 0, close = 0;
                size_t n = 0;
                int d = delim_any(w, buf, len, 0, eof, hi, &lv, &n, &close);
                if (d == DM_NEED)
                    return OPES_INCOMPLETE;
                if (d == DM_YES) /* the header section ends at a delimiter:
                                    no body */
                    return header_done(w, 0, used, ev);
            }
            if (w->top > 0) {
                int f = field_start(buf, len, eof);
                if (f == DM_NEED)
                    return OPES_INCOMPLETE;
                if (f == DM_NO) {
                    w->ent_flags |= OPES_MIME_PF_NO_EMPTY_LINE;
                    return header_done(w, 0, used, ev);
                }
            }
            r = opes_header_scan(w->hs, buf, len, eof, &u, &hev);
            if (r == OPES_INCOMPLETE)
                return r;
            if (r != OPES_OK)
                return w_fail(w, r, w->ent_off + hev.offset, ev);
            if (hev.type == OPES_HEADER_EV_FIELD) {
                if (opes_header_name_eq(&hev.field, "Content-Type"))
                    take_content_type(w, &hev.field);
                else if (opes_header_name_eq(&hev.field, "Content-Transfer-Encoding"))
                    take_cte(w, &hev.field);
                ev->type = OPES_MIME_EV_HEADER;
                ev->field = hev.field;
                ev->field.offset = w->off;
                ev->depth = (size_t)w->top;
                ev->offset = w->off;
                ev->part.id = w->stack[w->top].id;
                ev->part.depth = (size_t)w->top;
                w->off += u;
                *used = u;
                return OPES_OK;
            }
            return header_done(w, u, used, ev);
        }
        case PH_CONTENT: {
            opes_status r = content(w, buf, len, eof, used, ev);
            if (r != OPES_OK || ev->type != OPES_MIME_EV_NONE)
                return r;
            continue;
        }
        case PH_POP:
            if (w->top > w->pop_to)
                return pop_one(w, ev);
            if (w->pop_to < 0) {
                w->phase = PH_DONE;
                ev->type = OPES_MIME_EV_END;
                ev->offset = w->off;
                return OPES_OK;
            }
            w->phase = PH_DELIM;
            continue;
        case PH_DELIM: {
            mime_ent *e = &w->stack[w->top];
            if (w->delim_len > len) /* not the same bytes re-presented */
                return w_fail(w, OPES_EINVAL, w->off, ev);
            ev->type = OPES_MIME_EV_DELIMITER;
            part_out(w, e, &ev->part);
            ev->depth = (size_t)w->top;
            ev->data.ptr = buf;
            ev->data.len = w->delim_len;
            ev->close = w->delim_close;
            ev->offset = w->off;
            w->off += w->delim_len;
            *used = w->delim_len;
            w->line_start = 1;
            if (w->delim_close) {
                e->closed = 1;
                e->mp = MP_EPILOGUE;
                w->phase = PH_CONTENT;
            } else if (e->mp == MP_EPILOGUE) {
                w->phase = PH_CONTENT; /* not reached: no own boundary there */
            } else {
                e->mp = MP_IN_PART;
                w->phase = PH_CHILD;
            }
            return OPES_OK;
        }
        default:
            return w_fail(w, OPES_EINVAL, w->off, ev);
        }
    }
    return OPES_INCOMPLETE;
}
