/* Delivery status notifications: the report builder (RFC 3461 6, RFC 3464,
 * RFC 6522, RFC 6533, RFC 8689 5, RFC 3834, RFC 4902 3.1). One pass over the
 * original, no copy of it; docs/dsn.md and docs/opes-smtp.md 11. */
#include "internal.h"

#include "opes/dsn.h"

/* "=_" seed "." + two hex digits */
#define PAT_MAX (OPES_DSN_MAX_SEED + 3)
#define KEEP_MAX 998 /* a kept field of the original, unfolded */
#define CAPTURE_MAX 1000
#define SCRATCH_MAX (OPES_DSN_MAX_DIAGNOSTIC + 64)

enum { ST_FRESH = 0, ST_FEEDING = 1, ST_ENDED = 2, ST_PREPARED = 3 };

/* The streaming matcher of the candidates: KMP over the common prefix, then
 * the two hex digits after it. The prefix ("=_" ... ".", no "=" in the
 * seed) has no period of 1 or 2, so at most one match waits for its digits
 * at a time. */
typedef struct matcher {
    size_t k; /* prefix bytes matched */
    int pend; /* -1: none; else hex digits collected after a full prefix */
    char pd[2];
} matcher;

struct opes_dsn_builder {
    opes_allocator alloc;
    int own; /* made by _new: free through alloc */
    int state;
    char pat[PAT_MAX];
    size_t pat_len;
    size_t fail[PAT_MAX + 1];
    matcher m;
    uint8_t elim[OPES_DSN_CANDIDATES / 8];
    uint64_t limit, size;
    /* the header section */
    int hdr_done, line_start, cr_at_start;
    uint64_t hdr_end, body_start, last_eol;
    int hdr8, hdr_bad_utf8, body8;
    uint64_t trail_cr; /* the CRs that end what was fed so far */
    unsigned char u8[4];
    unsigned u8n, u8need;
    /* field capture */
    char cur[CAPTURE_MAX];
    size_t cur_len;
    int cur_over, capturing;
    char msgid[KEEP_MAX], rpath[KEEP_MAX];
    size_t msgid_len, rpath_len;
    int have_msgid, have_rpath;
    /* prepared */
    const opes_dsn_report *r;
    opes_dsn_plan plan;
    int utf8msg, any_failed, any_delayed, redacted_ok;
    char boundary[PAT_MAX + 2];
    size_t blen;
    char scratch[SCRATCH_MAX];
};

/* see opes/dsn.h */
size_t opes_dsn_builder_sizeof(void)
{
    return sizeof(opes_dsn_builder);
}

static void builder_clear(opes_dsn_builder *b)
{
    opes_allocator a = b->alloc;
    int own = b->own;
    memset(b, 0, sizeof *b);
    b->alloc = a;
    b->own = own;
    b->m.pend = -1;
    b->line_start = 1;
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_new(opes_dsn_builder **out, const opes_allocator *alloc)
{
    if (out == NULL)
        return OPES_EINVAL;
    *out = NULL;
    opes_dsn_builder *b = opes__alloc(alloc, sizeof *b);
    if (b == NULL)
        return OPES_ENOMEM;
    memset(b, 0, sizeof *b);
    if (alloc)
        b->alloc = *alloc;
    b->own = 1;
    builder_clear(b);
    *out = b;
    return OPES_OK;
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_init_in(void *mem, size_t len, opes_dsn_builder **out)
{
    if (mem == NULL || out == NULL || len < sizeof(opes_dsn_builder))
        return OPES_EINVAL;
    opes_dsn_builder *b = mem;
    memset(b, 0, sizeof *b);
    builder_clear(b);
    *out = b;
    return OPES_OK;
}

/* see opes/dsn.h */
void opes_dsn_builder_free(opes_dsn_builder *b)
{
    if (b == NULL || !b->own)
        return;
    opes_allocator a = b->alloc;
    opes__free(a.alloc ? &a : NULL, b, sizeof *b);
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_reset(opes_dsn_builder *b)
{
    if (b == NULL)
        return OPES_EINVAL;
    builder_clear(b);
    return OPES_OK;
}

static int seed_char(unsigned char c)
{
    return OPES__IS(c, OPES__C_ALPHA | OPES__C_DIGIT) || strchr("'()+_,-./:?", c) != NULL;
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_set_seed(opes_dsn_builder *b, const char *seed, size_t len)
{
    if (b == NULL || seed == NULL || len == 0)
        return OPES_EINVAL;
    if (b->state != ST_FRESH || b->size > 0)
        return OPES_ESTATE;
    if (len > OPES_DSN_MAX_SEED)
        return OPES_EPARAM_TOO_LONG;
    for (size_t i = 0; i < len; i++)
        if (seed[i] == '\0' || !seed_char((unsigned char)seed[i]))
            return OPES_EBAD_CHAR;
    b->pat[0] = '=';
    b->pat[1] = '_';
    memcpy(b->pat + 2, seed, len);
    b->pat[2 + len] = '.';
    b->pat_len = len + 3;
    /* KMP failure function */
    b->fail[0] = 0;
    for (size_t i = 1, k = 0; i < b->pat_len; i++) {
        while (k > 0 && b->pat[i] != b->pat[k])
            k = b->fail[k - 1];
        if (b->pat[i] == b->pat[k])
            k++;
        b->fail[i] = k;
    }
    b->state = ST_FEEDING;
    return OPES_OK;
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_set_return_limit(opes_dsn_builder *b, uint64_t max)
{
    if (b == NULL)
        return OPES_EINVAL;
    if (b->size > 0 || b->state > ST_FEEDING)
        return OPES_ESTATE;
    b->limit = max;
    return OPES_OK;
}

static const char hexd[] = "0123456789ABCDEF";

static void match_byte(opes_dsn_builder *b, matcher *m, char c)
{
    if (m->pend >= 0) {
        m->pd[m->pend++] = c;
        if (m->pend == 2) {
            int hi = opes__hexval((unsigned char)m->pd[0]);
            int lo = opes__hexval((unsigned char)m->pd[1]);
            /* the candidates are written with upper-case digits */
            if (hi >= 0 && lo >= 0 && !(m->pd[0] >= 'a') && !(m->pd[1] >= 'a')) {
                unsigned idx = (unsigned)(hi * 16 + lo);
                b->elim[idx / 8] = (uint8_t)(b->elim[idx / 8] | (1u << (idx % 8)));
            }
            m->pend = -1;
        }
    }
    while (m->k > 0 && b->pat[m->k] != c)
        m->k = b->fail[m->k - 1];
    if (b->pat[m->k] == c)
        m->k++;
    if (m->k == b->pat_len) {
        m->pend = 0;
        m->k = b->fail[m->k - 1];
    }
}

static void match_str(opes_dsn_builder *b, opes_str s)
{
    matcher m = {0, -1, {0, 0}};
    for (size_t i = 0; i < s.len; i++)
        match_byte(b, &m, s.ptr[i]);
}

/* Keep a captured field when it is one of those kept. */
static void field_done(opes_dsn_builder *b)
{
    opes_header_field f;
    size_t used = 0, n = 0;
    if (!b->capturing)
        return;
    b->capturing = 0;
    if (b->cur_over)
        return;
    if (opes_header_field_parse(b->cur, b->cur_len, OPES_HEADER_LF | OPES_HEADER_8BIT, 1, &f,
                                &used) != OPES_OK ||
        f.kind != OPES_HEADER_KIND_FIELD)
        return;
    if (!b->have_msgid && opes_header_name_eq(&f, "Message-ID")) {
        if (opes_header_unfold(b->msgid, KEEP_MAX, &n, f.raw.ptr, f.raw.len) == OPES_OK) {
            b->msgid_len = n;
            b->have_msgid = 1;
        }
    } else if (!b->have_rpath && opes_header_name_eq(&f, "Return-Path")) {
        if (opes_header_unfold(b->rpath, KEEP_MAX, &n, f.raw.ptr, f.raw.len) == OPES_OK) {
            b->rpath_len = n;
            b->have_rpath = 1;
        }
    }
}

static void capture(opes_dsn_builder *b, char c)
{
    if (!b->capturing)
        return;
    if (b->cur_len < CAPTURE_MAX)
        b->cur[b->cur_len++] = c;
    else
        b->cur_over = 1;
}

/* UTF-8 of the header section, checked across chunks (RFC 6532 3.2). */
static void utf8_byte(opes_dsn_builder *b, unsigned char c)
{
    if (b->u8need > 0) {
        if ((c & 0xC0) == 0x80) {
            b->u8[b->u8n++] = c;
            if (b->u8n == b->u8need) {
                if (opes__utf8_seq(b->u8, b->u8n, NULL) != b->u8n)
                    b->hdr_bad_utf8 = 1;
                b->u8need = 0;
            }
            return;
        }
        b->hdr_bad_utf8 = 1;
        b->u8need = 0;
    }
    if (c < 0x80)
        return;
    b->hdr8 = 1;
    b->u8n = 1;
    b->u8[0] = c;
    b->u8need = c >= 0xC2 && c <= 0xDF   ? 2
                : c >= 0xE0 && c <= 0xEF ? 3
                : c >= 0xF0 && c <= 0xF4 ? 4
                                         : 0;
    if (b->u8need == 0)
        b->hdr_bad_utf8 = 1;
}

static void header_end(opes_dsn_builder *b, uint64_t end, uint64_t body)
{
    field_done(b);
    if (b->u8need > 0)
        b->hdr_bad_utf8 = 1;
    b->u8need = 0;
    b->hdr_done = 1;
    b->hdr_end = end;
    b->body_start = body;
}

/* Body bytes: the same three facts as for the header bytes, found a
 * chunk at a time (the one pass's hot loop). */
static void body_bytes(opes_dsn_builder *b, const char *p, size_t n)
{
    const uint64_t base = b->size; /* stream offset of p[0] */
    size_t lim = n, i = 0;
    for (size_t k = 0; !b->body8 && k < n; k++)
        if ((unsigned char)p[k] >= 0x80 || p[k] == '\0')
            b->body8 = 1;
    /* the last line end whose octet is within the limit */
    if (b->limit > 0)
        lim = b->limit <= base ? 0 : b->limit - base < n ? (size_t)(b->limit - base) : n;
    for (size_t j = lim; j > 0; j--) {
        if (p[j - 1] == '\n') {
            b->last_eol = base + j;
            break;
        }
    }
    /* the candidates: with no prefix matched and no match waiting for its
     * digits, only an "=" (the prefix's first octet) can start one */
    while (i < n) {
        if (b->m.k == 0 && b->m.pend < 0) {
            const char *q = memchr(p + i, '=', n - i);
            if (q == NULL)
                break;
            i = (size_t)(q - p);
        }
        match_byte(b, &b->m, p[i]);
        i++;
    }
    b->size += n;
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_feed(opes_dsn_builder *b, const char *buf, size_t len)
{
    if (b == NULL || (buf == NULL && len > 0))
        return OPES_EINVAL;
    if (b->state != ST_FEEDING)
        return OPES_ESTATE;
    if (len > 0) {
        size_t k = len;
        while (k > 0 && buf[k - 1] == '\r')
            k--;
        b->trail_cr = k == 0 ? b->trail_cr + len : len - k;
    }
    for (size_t i = 0; i < len; i++, b->size++) {
        if (b->hdr_done) {
            body_bytes(b, buf + i, len - i);
            return OPES_OK;
        }
        char c = buf[i];
        unsigned char u = (unsigned char)c;
        match_byte(b, &b->m, c);
        if (c == '\n' && (b->limit == 0 || b->size + 1 <= b->limit))
            b->last_eol = b->size + 1;
        if (b->cr_at_start) {
            b->cr_at_start = 0;
            if (c == '\n') {
                header_end(b, b->size - 1, b->size + 1);
                continue;
            }
            capture(b, '\r');
            b->line_start = 0;
        }
        if (b->line_start) {
            if (c == '\n') {
                header_end(b, b->size, b->size + 1);
                continue;
            }
            if (c == '\r') {
                b->cr_at_start = 1;
                continue;
            }
            if (c != ' ' && c != '\t') {
                field_done(b);
                b->capturing = 1;
                b->cur_len = 0;
                b->cur_over = 0;
            }
        }
        capture(b, c);
        utf8_byte(b, u);
        b->line_start = c == '\n';
    }
    return OPES_OK;
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_end(opes_dsn_builder *b)
{
    if (b == NULL)
        return OPES_EINVAL;
    if (b->state != ST_FEEDING)
        return OPES_ESTATE;
    if (b->cr_at_start) {
        capture(b, '\r');
        b->cr_at_start = 0;
    }
    if (!b->hdr_done)
        header_end(b, b->size, b->size); /* no empty line: no body */
    /* a pending match at the very end is a prefix only: no candidate */
    b->state = ST_ENDED;
    return OPES_OK;
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_original_field(const opes_dsn_builder *b, int which, opes_str *out)
{
    if (b == NULL || out == NULL)
        return OPES_EINVAL;
    out->ptr = NULL;
    out->len = 0;
    if (b->state < ST_ENDED)
        return OPES_ESTATE;
    if (which == OPES_DSN_ORIG_MESSAGE_ID) {
        if (!b->have_msgid)
            return OPES_ENOTFOUND;
        out->ptr = b->msgid;
        out->len = b->msgid_len;
    } else if (which == OPES_DSN_ORIG_RETURN_PATH) {
        if (!b->have_rpath)
            return OPES_ENOTFOUND;
        out->ptr = b->rpath;
        out->len = b->rpath_len;
    } else {
        return OPES_EINVAL;
    }
    return OPES_OK;
}

/* ---- prepare -------------------------------------------------------------- */

static int has8(opes_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] >= 0x80)
            return 1;
    return 0;
}

/* One line of text: NULL with a length is EINVAL; length and injection. */
static opes_status check_line(opes_str s)
{
    if (s.ptr == NULL && s.len > 0)
        return OPES_EINVAL;
    if (s.len > OPES_DSN_MAX_VALUE)
        return OPES_EPARAM_TOO_LONG;
    if (opes__unsafe_at(s.ptr, s.len) != s.len)
        return OPES_EINJECT;
    return OPES_OK;
}

/* A *text value written as a whole field body (Original-Envelope-Id,
 * Final-Log-ID): white space at either end is not part of a field body once
 * it is read (RFC 5322 2.2.3, 3.2.2), so such a value could not be carried
 * back exactly (RFC 3464 2.2.1: the envelope-id's spelling preserved):
 * refused rather than silently changed. */
static opes_status check_ends(opes_str s)
{
    if (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t' || s.ptr[s.len - 1] == ' ' ||
                      s.ptr[s.len - 1] == '\t'))
        return OPES_EBAD_CHAR;
    return OPES_OK;
}

/* An MTA name: "name" (written "dns; name") or "type; name", whose type
 * must be an atom (RFC 3464 2.2.2: mta-name-type = atom), WSP around it
 * allowed: anything else would be read back as a field without a type. */
static opes_status check_mta(opes_str s)
{
    opes_status st = check_line(s);
    const char *semi = st == OPES_OK && s.len ? memchr(s.ptr, ';', s.len) : NULL;
    if (semi == NULL)
        return st;
    size_t b = 0, e = (size_t)(semi - s.ptr);
    while (b < e && (s.ptr[b] == ' ' || s.ptr[b] == '\t'))
        b++;
    while (e > b && (s.ptr[e - 1] == ' ' || s.ptr[e - 1] == '\t'))
        e--;
    if (b == e)
        return OPES_EBAD_CHAR;
    for (size_t i = b; i < e; i++)
        if (!OPES__IS(s.ptr[i], OPES__C_ATEXT))
            return OPES_EBAD_CHAR;
    return OPES_OK;
}

static opes_status check_date(opes_str s)
{
    opes_datetime dt;
    opes_status st = check_line(s);
    if (st != OPES_OK || s.len == 0)
        return st;
    /* WSP at an end is no part of the field body read back */
    if (check_ends(s) != OPES_OK)
        return OPES_EBAD_CHAR;
    if (opes_date_parse(s.ptr, s.len, 0, &dt, NULL) != OPES_OK)
        return OPES_EBAD_DATE;
    /* RFC 3464 2.1: "Numeric timezones ([+/-]HHMM format) MUST be used." */
    if (dt.flags & OPES_DATE_F_OBS_ZONE)
        return OPES_EBAD_DATE;
    return OPES_OK;
}

static opes_status check_uri(opes_str s)
{
    opes_uri u;
    opes_status st = check_line(s);
    if (st != OPES_OK || s.len == 0)
        return st;
    st = opes_uri_parse(s.ptr, s.len, OPES_URI_ABSOLUTE, &u, NULL);
    if (st != OPES_OK)
        return st;
    /* RFC 3464 2.1: delivery-status fields follow RFC 822's rules, so a "("
     * would open a comment for the reader: such a URI (RFC 3986 allows the
     * sub-delims "(" and ")") must be given percent-encoded
     * (docs/opes-smtp.md 11.1). */
    if (memchr(s.ptr, '(', s.len) || memchr(s.ptr, ')', s.len))
        return OPES_EBAD_CHAR;
    return OPES_OK;
}

/* An address: one line, no control character but HTAB (which its field
 * refuses in the plain form; the unitext form could carry some as \x{..},
 * but no address holds one); UTF-8 when it has 8-bit octets. */
static opes_status check_addr(opes_str s, int *global)
{
    opes_status st = check_line(s);
    if (st != OPES_OK)
        return st;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return OPES_EBAD_CHAR;
    }
    if (has8(s)) {
        if (opes_utf8_validate(s.ptr, s.len, NULL) != OPES_OK)
            return OPES_EBAD_UTF8;
        *global = 1;
    }
    return OPES_OK;
}

/* The next line of a diagnostic at *pos: [*b, *e), CRLF or LF after it. */
static int diag_next(opes_str d, size_t *pos, size_t *lb, size_t *le)
{
    size_t i = *pos;
    if (i >= d.len)
        return 0;
    *lb = i;
    while (i < d.len && d.ptr[i] != '\n')
        i++;
    *le = (i > *lb && d.ptr[i - 1] == '\r' && i < d.len) ? i - 1 : i;
    *pos = i < d.len ? i + 1 : i;
    return 1;
}

static opes_status check_diag(opes_str d)
{
    size_t pos = 0, lb, le, lines = 0;
    if (d.ptr == NULL && d.len > 0)
        return OPES_EINVAL;
    if (d.len == 0)
        return OPES_OK;
    if (d.len > OPES_DSN_MAX_DIAGNOSTIC)
        return OPES_EPARAM_TOO_LONG;
    while (diag_next(d, &pos, &lb, &le)) {
        opes_str line = {d.ptr + lb, le - lb};
        opes_status st = check_line(line);
        if (st != OPES_OK)
            return st;
        /* RFC 3464 9.2: *( 3*DIGIT "-" *text ) 3*DIGIT SPACE *text */
        int last = pos >= d.len;
        if (line.len < 3 || !OPES__IS(line.ptr[0], OPES__C_DIGIT) ||
            !OPES__IS(line.ptr[1], OPES__C_DIGIT) || !OPES__IS(line.ptr[2], OPES__C_DIGIT))
            return OPES_EBAD_REPLY;
        if (!last && (line.len < 4 || line.ptr[3] != '-'))
            return OPES_EBAD_REPLY;
        if (last && line.len > 3 && line.ptr[3] != ' ')
            return OPES_EBAD_REPLY;
        lines++;
    }
    return lines ? OPES_OK : OPES_EBAD_REPLY;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        opes_status st_ = (x);                                                                     \
        if (st_ != OPES_OK)                                                                        \
            return st_;                                                                            \
    } while (0)

static int ieq_str(opes_str s, const char *upper)
{
    return opes__ieq(s.ptr, s.len, upper) && strlen(upper) == s.len;
}

static opes_status check_report(opes_dsn_builder *b, const opes_dsn_report *r, int *global)
{
    const unsigned all = OPES_DSN_F_LF | OPES_DSN_F_PATH_8BITMIME | OPES_DSN_F_PATH_SMTPUTF8 |
                         OPES_DSN_F_REQUIRETLS | OPES_DSN_F_REDACT | OPES_DSN_F_HOSTILE;
    if ((r->flags & ~all) != 0 || r->rcpts == NULL || r->nrcpts == 0 || r->from.len == 0 ||
        r->to.len == 0 || r->date.len == 0 || r->message_id.len == 0 || r->reporting_mta.len == 0 ||
        r->ret < OPES_DSN_RET_UNSET || r->ret > OPES_DSN_RET_HDRS ||
        r->bypassable < OPES_DSN_BYPASS_UNSET || r->bypassable > OPES_DSN_BYPASS_YES)
        return OPES_EINVAL;
    TRY(check_addr(r->from, global));
    TRY(check_addr(r->to, global));
    TRY(check_date(r->date));
    TRY(check_line(r->message_id));
    TRY(check_line(r->subject));
    TRY(check_mta(r->reporting_mta));
    TRY(check_mta(r->dsn_gateway));
    TRY(check_mta(r->received_from_mta));
    TRY(check_date(r->arrival_date));
    TRY(check_line(r->envid));
    for (size_t i = 0; i < r->envid.len; i++)
        if (!OPES__IS(r->envid.ptr[i], OPES__C_TEXT))
            return OPES_EBAD_CHAR; /* RFC 3461 4.4: printable US-ASCII */
    TRY(check_ends(r->envid));
    TRY(check_uri(r->opes_system));
    TRY(check_uri(r->opes_service));
    for (size_t i = 0; i < r->nrcpts; i++) {
        const opes_dsn_recipient *p = &r->rcpts[i];
        if (p->final_recipient.len == 0 || opes_dsn_action_name(p->action) == NULL ||
            p->status.len == 0 || (p->orcpt.len > 0) != (p->orcpt_type.len > 0) ||
            p->bypassable < OPES_DSN_BYPASS_UNSET || p->bypassable > OPES_DSN_BYPASS_YES ||
            (p->will_retry_until.len > 0 && p->action != OPES_DSN_ACTION_DELAYED))
            return OPES_EINVAL;
        TRY(check_addr(p->final_recipient, global));
        TRY(check_addr(p->orcpt, global));
        TRY(check_line(p->orcpt_type));
        for (size_t k = 0; k < p->orcpt_type.len; k++)
            if (!OPES__IS(p->orcpt_type.ptr[k], OPES__C_ATEXT))
                return OPES_EBAD_CHAR; /* addr-type = atom */
        TRY(check_line(p->status));
        if (opes_reply_enhanced_parse(p->status.ptr, p->status.len, NULL, NULL, NULL) != OPES_OK)
            return OPES_EBAD_ENHANCED_CODE;
        TRY(check_mta(p->remote_mta));
        TRY(check_diag(p->diagnostic));
        if (has8(p->diagnostic)) {
            /* RFC 6533 6.2: UTF-8 in the text of an smtp diagnostic makes
             * the report a global one */
            if (opes_utf8_validate(p->diagnostic.ptr, p->diagnostic.len, NULL) != OPES_OK)
                return OPES_EBAD_UTF8;
            *global = 1;
        }
        TRY(check_date(p->last_attempt_date));
        TRY(check_line(p->final_log_id));
        TRY(check_ends(p->final_log_id));
        TRY(check_date(p->will_retry_until));
        TRY(check_uri(p->opes_service));
        if (p->action == OPES_DSN_ACTION_FAILED)
            b->any_failed = 1;
        if (p->action == OPES_DSN_ACTION_DELAYED)
            b->any_delayed = 1;
    }
    return OPES_OK;
}

static void match_report(opes_dsn_builder *b, const opes_dsn_report *r)
{
    const opes_str top[] = {r->from,         r->to,
                            r->date,         r->message_id,
                            r->subject,      r->reporting_mta,
                            r->dsn_gateway,  r->received_from_mta,
                            r->arrival_date, r->envid,
                            r->opes_system,  r->opes_service};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        match_str(b, top[i]);
    for (size_t i = 0; i < r->nrcpts; i++) {
        const opes_dsn_recipient *p = &r->rcpts[i];
        const opes_str s[] = {p->final_recipient,
                              p->orcpt_type,
                              p->orcpt,
                              p->status,
                              p->remote_mta,
                              p->diagnostic,
                              p->last_attempt_date,
                              p->final_log_id,
                              p->will_retry_until,
                              p->opes_service};
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
            match_str(b, s[k]);
    }
}

/* see opes/dsn.h */
opes_status opes_dsn_builder_prepare(opes_dsn_builder *b, const opes_dsn_report *r,
                                     opes_dsn_plan *plan)
{
    int global = 0;
    if (b == NULL || r == NULL || plan == NULL)
        return OPES_EINVAL;
    if (b->state < ST_ENDED)
        return OPES_ESTATE;
    memset(plan, 0, sizeof *plan);
    b->state = ST_ENDED;
    b->any_failed = b->any_delayed = 0;
    TRY(check_report(b, r, &global));
    /* the boundary: the first candidate in neither the original nor the
     * report's values (the matcher only ever adds eliminations) */
    match_report(b, r);
    unsigned idx = OPES_DSN_CANDIDATES;
    for (unsigned i = 0; i < OPES_DSN_CANDIDATES; i++) {
        if (!(b->elim[i / 8] & (1u << (i % 8)))) {
            idx = i;
            break;
        }
    }
    if (idx == OPES_DSN_CANDIDATES)
        return OPES_EEXIST;
    memcpy(b->boundary, b->pat, b->pat_len);
    b->boundary[b->pat_len] = hexd[idx >> 4];
    b->boundary[b->pat_len + 1] = hexd[idx & 15];
    b->blen = b->pat_len + 2;

    opes_dsn_plan *p = plan;
    const unsigned f = r->flags;
    p->global = global;
    p->original_size = b->size;
    p->boundary.ptr = b->boundary;
    p->boundary.len = b->blen;
    b->utf8msg = b->hdr8 && !b->hdr_bad_utf8;
    /* RET (RFC 3461 4.3, 6.2; RFC 6522 3; RFC 8689 5) */
    p->ret = ((r->ret == OPES_DSN_RET_FULL || r->ret == OPES_DSN_RET_UNSET) && b->any_failed &&
              !(f & (OPES_DSN_F_REQUIRETLS | OPES_DSN_F_HOSTILE)))
                 ? OPES_DSN_RET_FULL
                 : OPES_DSN_RET_HDRS;
    p->cte = OPES_MIME_CTE_NONE;
    int raw8 = 0;
    if (f & OPES_DSN_F_REDACT) {
        b->redacted_ok = 0;
        if (b->have_msgid) {
            size_t n = 0;
            opes_status st =
                opes_header_field_build(NULL, 0, &n, "Message-ID", 10, b->msgid, b->msgid_len, 0);
            b->redacted_ok = st == OPES_OK || st == OPES_ENOSPC;
        }
        p->part = b->redacted_ok ? OPES_DSN_PART_REDACTED : OPES_DSN_PART_NONE;
        p->ret = OPES_DSN_RET_HDRS;
    } else {
        if (p->ret == OPES_DSN_RET_FULL) {
            int eight = b->hdr8 || b->body8;
            p->part = OPES_DSN_PART_MESSAGE;
            if (eight && b->utf8msg)
                p->cte = (f & OPES_DSN_F_PATH_SMTPUTF8) ? OPES_MIME_CTE_NONE : OPES_MIME_CTE_BASE64;
            else if (eight && !(f & OPES_DSN_F_PATH_8BITMIME))
                p->headers_only_8bit = 1;
            raw8 = eight && p->cte == OPES_MIME_CTE_NONE;
            if (!p->headers_only_8bit) {
                p->offset = 0;
                p->length = b->size;
                if (b->limit > 0 && b->size > b->limit) {
                    uint64_t cut = b->last_eol > b->body_start ? b->last_eol : b->body_start;
                    if (cut < b->size) {
                        p->length = cut;
                        p->truncated = 1;
                    }
                }
            }
        }
        if (p->part == OPES_DSN_PART_MESSAGE && b->size == 0) {
            /* nothing to return: an empty message/rfc822 is no message */
            p->part = OPES_DSN_PART_NONE;
            p->cte = OPES_MIME_CTE_NONE;
            raw8 = 0;
        }
        /* A message without a body (its header section ends at its end,
         * without the empty line: RFC 5322 3.5) is returned as that header
         * section: as message/rfc822 the line end before the next
         * delimiter, which RFC 2046 5.1.1 gives to the delimiter, would read
         * as the empty line that ends its header. */
        int no_body = p->part == OPES_DSN_PART_MESSAGE && b->body_start == b->hdr_end;
        if (p->ret == OPES_DSN_RET_HDRS || p->headers_only_8bit || no_body) {
            p->part = b->hdr_end > 0 ? OPES_DSN_PART_HEADERS : OPES_DSN_PART_NONE;
            p->offset = 0;
            p->length = b->hdr_end;
            p->cte = OPES_MIME_CTE_NONE;
            if (b->hdr8) {
                unsigned need = b->utf8msg ? OPES_DSN_F_PATH_SMTPUTF8 : OPES_DSN_F_PATH_8BITMIME;
                if (f & need)
                    raw8 = 1;
                else
                    p->cte = OPES_MIME_CTE_QP;
            }
            if (p->part == OPES_DSN_PART_NONE) {
                p->length = 0;
                raw8 = 0;
            }
        }
    }
    /* A range that ends the original with bare CRs: the line end of the
     * delimiter after it would join the last into a CR LF, which RFC 2046
     * 5.1.1 gives to the delimiter, so no reader could get it back, nor
     * tell the CRs before it from content. The run is left out (a returned
     * message then counts as cut); an encoded range carries it as it is. */
    if (p->cte == OPES_MIME_CTE_NONE && p->length > 0 && p->offset + p->length == b->size &&
        b->trail_cr > 0) {
        p->length -= b->trail_cr < p->length ? b->trail_cr : p->length;
        if (p->length == 0) {
            p->part = OPES_DSN_PART_NONE;
            raw8 = 0;
        } else if (p->part == OPES_DSN_PART_MESSAGE) {
            p->truncated = 1;
        }
    }
    p->envelope.reverse_path.ptr = "";
    p->envelope.recipient = r->to;
    p->envelope.requiretls = (f & OPES_DSN_F_REQUIRETLS) && !(f & OPES_DSN_F_REDACT);
    p->envelope.keep_without_requiretls = p->envelope.requiretls;
    p->envelope.smtputf8 = global || (raw8 && b->utf8msg);
    p->envelope.body_8bitmime = global || raw8;
    p->envelope.notify_never = 1;
    b->plan = *p;
    b->r = r;
    b->state = ST_PREPARED;
    /* every value through its field builder now, so that the build calls
     * can only run out of room */
    size_t n = 0;
    opes_status st = opes_dsn_build_head(b, NULL, 0, &n);
    if (st != OPES_OK && st != OPES_ENOSPC) {
        b->state = ST_ENDED;
        memset(plan, 0, sizeof *plan);
        return st;
    }
    return OPES_OK;
}

/* ---- writing -------------------------------------------------------------- */

typedef struct out {
    opes__wr w;
    const char *eol;
    size_t eol_len;
    unsigned hf; /* header build flags */
} out;

static void eol(out *o)
{
    opes__wr_put(&o->w, o->eol, o->eol_len);
}

static void text(out *o, const char *s)
{
    opes__wr_puts(&o->w, s);
}

static void text_line(out *o, const char *s)
{
    opes__wr_puts(&o->w, s);
    eol(o);
}

/* A header field through opes_header_field_build() into the writer. */
static opes_status field(out *o, const char *name, const char *v, size_t vl, unsigned hf)
{
    size_t n = 0;
    char *d = NULL;
    size_t c = 0;
    if (o->w.dst != NULL && o->w.len < o->w.cap) {
        d = o->w.dst + o->w.len;
        c = o->w.cap - o->w.len;
    }
    opes_status st = opes_header_field_build(d, c, &n, name, strlen(name), v, vl, hf | o->hf);
    if (st != OPES_OK && st != OPES_ENOSPC)
        return st;
    if (n > SIZE_MAX - o->w.len) {
        o->w.overflow = 1;
        return OPES_EOVERFLOW;
    }
    o->w.len += n;
    return OPES_OK;
}

/* A field whose value is a constant string of the library. */
static opes_status cfield(out *o, const char *name, const char *v)
{
    return field(o, name, v, strlen(v), 0);
}

/* A composed value in the scratch buffer. */
typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static void sb_put(sb *s, const char *p, size_t n)
{
    if (n > s->cap - s->n)
        n = s->cap - s->n; /* cannot happen: values are bounded by check_report() */
    memcpy(s->p + s->n, p, n);
    s->n += n;
}

static void sb_puts(sb *s, const char *p)
{
    sb_put(s, p, strlen(p));
}

/* "name" (type dns) or "type; name" as given */
static opes_status mta_field(opes_dsn_builder *b, out *o, const char *name, opes_str v)
{
    sb s = {b->scratch, 0, SCRATCH_MAX};
    if (v.len == 0)
        return OPES_OK;
    if (memchr(v.ptr, ';', v.len) == NULL)
        sb_puts(&s, "dns; ");
    sb_put(&s, v.ptr, v.len);
    return field(o, name, s.p, s.n, 0);
}

static opes_status plain_field(out *o, const char *name, opes_str v)
{
    if (v.len == 0)
        return OPES_OK;
    return field(o, name, v.ptr, v.len, 0);
}

/* "\x" somewhere in s */
static int has_bsx(opes_str s)
{
    for (size_t i = 0; i + 1 < s.len; i++)
        if (s.ptr[i] == '\\' && s.ptr[i + 1] == 'x')
            return 1;
    return 0;
}

/* An address field: "rfc822;addr"; an address with non-ASCII octets (or
 * given with addr-type utf-8) as "utf-8;addr": a report with one is a
 * global report, where the utf-8-address form SHOULD be used (RFC 6533
 * 4.1), so the utf-8-addr-xtext form is never needed here. One that holds
 * "\x" would read as an escape in that form: it is written as
 * utf-8-addr-unitext, which escapes the "\". */
static opes_status addr_field(opes_dsn_builder *b, out *o, const char *name, opes_str type,
                              opes_str addr)
{
    sb s = {b->scratch, 0, SCRATCH_MAX};
    int utf8 = has8(addr) || ieq_str(type, "UTF-8");
    /* WSP at either end is no part of an address, and a reader drops it
     * (the utf-8-addr-unitext form below would keep it) */
    while (addr.len > 0 && (addr.ptr[0] == ' ' || addr.ptr[0] == '\t')) {
        addr.ptr++;
        addr.len--;
    }
    while (addr.len > 0 && (addr.ptr[addr.len - 1] == ' ' || addr.ptr[addr.len - 1] == '\t'))
        addr.len--;
    if (utf8)
        sb_puts(&s, "utf-8");
    else if (type.len > 0)
        sb_put(&s, type.ptr, type.len);
    else
        sb_puts(&s, "rfc822");
    sb_puts(&s, ";");
    if (utf8 && has_bsx(addr)) {
        /* "\x" would read as an escape: utf-8-addr-unitext ("\" as \x{5C}) */
        size_t n = 0;
        opes_status st = opes_utf8addr_encode(s.p + s.n, s.cap - s.n, &n, addr.ptr, addr.len,
                                              OPES_UTF8ADDR_UNITEXT);
        if (st == OPES_ENOSPC)
            return OPES_EPARAM_TOO_LONG;
        if (st != OPES_OK)
            return st;
        s.n += n;
    } else {
        sb_put(&s, addr.ptr, addr.len);
    }
    return field(o, name, s.p, s.n, 0);
}

/* A continuation of the field before: " " value CRLF, folded as
 * opes_header_field_build() folds (it is built as a field in the scratch
 * buffer and its name and colon are dropped; the lines come out shorter than
 * needed, never longer). Built aside, not in place: in place the field with
 * its name may not fit where the continuation alone does (a head built in a
 * buffer of exactly the size asked for, the continuation its last line). */
static opes_status continuation(opes_dsn_builder *b, out *o, const char *name, const char *v,
                                size_t vl)
{
    size_t n = 0, drop = strlen(name) + 1;
    /* a line is at most OPES_DSN_MAX_VALUE octets: name, folds and line end
     * stay far below SCRATCH_MAX */
    opes_status st =
        opes_header_field_build(b->scratch, SCRATCH_MAX, &n, name, drop - 1, v, vl, o->hf);
    if (st == OPES_ENOSPC)
        return OPES_EPARAM_TOO_LONG;
    if (st != OPES_OK)
        return st;
    opes__wr_put(&o->w, b->scratch + drop, n - drop);
    return OPES_OK;
}

/* RFC 3464 9.2: "For multi-line SMTP replies, it is necessary to insert a
 * SPACE before each line after the first": each reply line after the first
 * is a continuation line of the field. */
static opes_status diag_field(opes_dsn_builder *b, out *o, opes_str d)
{
    sb s = {b->scratch, 0, SCRATCH_MAX};
    size_t pos = 0, lb, le;
    if (d.len == 0 || !diag_next(d, &pos, &lb, &le))
        return OPES_OK;
    sb_puts(&s, "smtp; ");
    sb_put(&s, d.ptr + lb, le - lb);
    TRY(field(o, "Diagnostic-Code", s.p, s.n, 0));
    while (diag_next(d, &pos, &lb, &le))
        TRY(continuation(b, o, "Diagnostic-Code", d.ptr + lb, le - lb));
    return OPES_OK;
}

static void delimiter(opes_dsn_builder *b, out *o, int close)
{
    text(o, "--");
    opes__wr_put(&o->w, b->boundary, b->blen);
    if (close)
        text(o, "--");
    eol(o);
}

static opes_status human_part(opes_dsn_builder *b, out *o);

static opes_status status_part(opes_dsn_builder *b, out *o)
{
    const opes_dsn_report *r = b->r;
    TRY(plain_field(o, "Original-Envelope-Id", r->envid));
    TRY(mta_field(b, o, "Reporting-MTA", r->reporting_mta));
    TRY(mta_field(b, o, "DSN-Gateway", r->dsn_gateway));
    TRY(mta_field(b, o, "Received-From-MTA", r->received_from_mta));
    TRY(plain_field(o, "Arrival-Date", r->arrival_date));
    TRY(plain_field(o, OPES_DSN_FIELD_SYSTEM, r->opes_system));
    TRY(plain_field(o, OPES_DSN_FIELD_SERVICE, r->opes_service));
    if (r->bypassable != OPES_DSN_BYPASS_UNSET)
        TRY(cfield(o, OPES_DSN_FIELD_BYPASSABLE,
                   r->bypassable == OPES_DSN_BYPASS_YES ? "yes" : "no"));
    for (size_t i = 0; i < r->nrcpts; i++) {
        const opes_dsn_recipient *p = &r->rcpts[i];
        const char *a = opes_dsn_action_name(p->action);
        eol(o);
        if (p->orcpt.len > 0)
            TRY(addr_field(b, o, "Original-Recipient", p->orcpt_type, p->orcpt));
        TRY(addr_field(b, o, "Final-Recipient", (opes_str){NULL, 0}, p->final_recipient));
        TRY(cfield(o, "Action", a));
        TRY(plain_field(o, "Status", p->status));
        TRY(mta_field(b, o, "Remote-MTA", p->remote_mta));
        TRY(diag_field(b, o, p->diagnostic));
        TRY(plain_field(o, "Last-Attempt-Date", p->last_attempt_date));
        TRY(plain_field(o, "Final-Log-ID", p->final_log_id));
        TRY(plain_field(o, "Will-Retry-Until", p->will_retry_until));
        TRY(plain_field(o, OPES_DSN_FIELD_SERVICE, p->opes_service));
        if (p->bypassable != OPES_DSN_BYPASS_UNSET)
            TRY(cfield(o, OPES_DSN_FIELD_BYPASSABLE,
                       p->bypassable == OPES_DSN_BYPASS_YES ? "yes" : "no"));
    }
    eol(o); /* every field ends with its CRLF (RFC 3464 2.1); the next is the delimiter's */
    return OPES_OK;
}

static void outer_subject(opes_dsn_builder *b, sb *s)
{
    if (b->r->subject.len > 0)
        sb_put(s, b->r->subject.ptr, b->r->subject.len);
    else if (b->any_failed)
        sb_puts(s, "Delivery Status Notification (Failure)");
    else if (b->any_delayed)
        sb_puts(s, "Delivery Status Notification (Delay)");
    else
        sb_puts(s, "Delivery Status Notification (Success)");
}

static opes_status head(opes_dsn_builder *b, out *o)
{
    const opes_dsn_report *r = b->r;
    const opes_dsn_plan *p = &b->plan;
    sb s = {b->scratch, 0, SCRATCH_MAX};
    unsigned hu = p->global ? OPES_HEADER_UTF8 : 0;
    /* the report's header (RFC 3464 2, RFC 3834 5) */
    sb_puts(&s, "Mail Delivery System <");
    sb_put(&s, r->from.ptr, r->from.len);
    sb_puts(&s, ">");
    TRY(field(o, "From", s.p, s.n, hu));
    s.n = 0;
    sb_puts(&s, "<");
    sb_put(&s, r->to.ptr, r->to.len);
    sb_puts(&s, ">");
    TRY(field(o, "To", s.p, s.n, hu));
    TRY(plain_field(o, "Date", r->date));
    TRY(plain_field(o, "Message-ID", r->message_id));
    s.n = 0;
    outer_subject(b, &s);
    TRY(field(o, "Subject", s.p, s.n, hu));
    TRY(cfield(o, "MIME-Version", "1.0"));
    s.n = 0;
    sb_puts(&s, p->global ? "multipart/report; report-type=global-delivery-status; boundary=\""
                          : "multipart/report; report-type=delivery-status; boundary=\"");
    sb_put(&s, b->boundary, b->blen);
    sb_puts(&s, "\"");
    TRY(field(o, "Content-Type", s.p, s.n, 0));
    TRY(cfield(o, "Auto-Submitted", "auto-replied"));
    eol(o);
    text_line(o, "This is a MIME-encapsulated delivery status notification (RFC 3464).");
    delimiter(b, o, 0);
    TRY(human_part(b, o));
    delimiter(b, o, 0);
    if (p->global) {
        TRY(cfield(o, "Content-Type", "message/global-delivery-status"));
        TRY(cfield(o, "Content-Transfer-Encoding", "8bit"));
    } else {
        TRY(cfield(o, "Content-Type", "message/delivery-status"));
    }
    TRY(cfield(o, "Content-Description", "Delivery report"));
    eol(o);
    {
        unsigned saved = o->hf;
        o->hf |= hu;
        opes_status st = status_part(b, o);
        o->hf = saved;
        TRY(st);
    }
    if (p->part == OPES_DSN_PART_NONE)
        return OPES_OK;
    delimiter(b, o, 0);
    if (p->part == OPES_DSN_PART_REDACTED) {
        TRY(cfield(o, "Content-Type", "text/rfc822-headers"));
        TRY(cfield(o, "Content-Description", "Message-ID of the undelivered message (redacted)"));
        eol(o);
        return field(o, "Message-ID", b->msgid, b->msgid_len, 0);
    }
    const char *type;
    if (p->part == OPES_DSN_PART_MESSAGE)
        type = b->utf8msg ? "message/global" : "message/rfc822";
    else
        type = b->utf8msg ? "message/global-headers" : "text/rfc822-headers";
    TRY(cfield(o, "Content-Type", type));
    if (p->cte == OPES_MIME_CTE_BASE64)
        TRY(cfield(o, "Content-Transfer-Encoding", "base64"));
    else if (p->cte == OPES_MIME_CTE_QP)
        TRY(cfield(o, "Content-Transfer-Encoding", "quoted-printable"));
    else if (b->hdr8 || (p->part == OPES_DSN_PART_MESSAGE && b->body8))
        TRY(cfield(o, "Content-Transfer-Encoding", "8bit"));
    if (p->part == OPES_DSN_PART_MESSAGE)
        TRY(cfield(o, "Content-Description",
                   p->truncated ? "Undelivered message (truncated)" : "Undelivered message"));
    else
        TRY(cfield(o, "Content-Description", "Undelivered message header"));
    eol(o);
    return OPES_OK;
}

/* ---- the human-readable part ---------------------------------------------- */

static void put_str(out *o, opes_str s)
{
    opes__wr_put(&o->w, s.ptr, s.len);
}

/* Lines of builder output (CRLF folds) indented, with this report's line
 * ends. */
static void put_indented(out *o, const char *ind, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && p[e] != '\r' && p[e] != '\n')
            e++;
        text(o, ind);
        opes__wr_put(&o->w, p + i, e - i);
        eol(o);
        while (e < n && (p[e] == '\r' || p[e] == '\n'))
            e++;
        i = e;
    }
}

static void mta_name(out *o, opes_str v)
{
    const char *semi = memchr(v.ptr, ';', v.len);
    if (semi != NULL) {
        size_t i = (size_t)(semi - v.ptr) + 1;
        while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t'))
            i++;
        v.ptr += i;
        v.len -= i;
    }
    put_str(o, v);
}

static void u64_text(out *o, uint64_t v)
{
    opes__wr_u64(&o->w, v);
}

static opes_status bypass_hint(opes_dsn_builder *b, out *o, opes_str svc)
{
    size_t n = 0;
    opes_status st = opes_bypass_header_build(b->scratch, SCRATCH_MAX, &n, &svc, 1);
    if (st != OPES_OK)
        return st;
    text_line(o, "    The service may be bypassed at your request. To ask for it, send the");
    text_line(o, "    message again with this header field:");
    put_indented(o, "        ", b->scratch, n);
    st = opes_bypass_param_build(b->scratch, SCRATCH_MAX, &n, &svc, 1);
    if (st != OPES_OK)
        return st;
    text_line(o, "    or, where every server on the way offers the XOPES SMTP extension,");
    text_line(o, "    with this parameter on the MAIL or RCPT command:");
    text(o, "        XOPES-BYPASS=");
    opes__wr_put(&o->w, b->scratch, n);
    eol(o);
    return OPES_OK;
}

static opes_status human_part(opes_dsn_builder *b, out *o)
{
    const opes_dsn_report *r = b->r;
    const opes_dsn_plan *p = &b->plan;
    int utf8 = p->global || has8(r->envid);
    for (size_t i = 0; i < r->nrcpts && !utf8; i++)
        utf8 = has8(r->rcpts[i].diagnostic);
    TRY(cfield(o, "Content-Type",
               utf8 ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii"));
    if (utf8)
        TRY(cfield(o, "Content-Transfer-Encoding", "8bit"));
    TRY(cfield(o, "Content-Description", "Notification"));
    eol(o);
    text(o, "This is the mail system at ");
    mta_name(o, r->reporting_mta);
    text_line(o, ".");
    eol(o);
    if (b->any_failed)
        text_line(o, "Your message could not be delivered to one or more recipients.");
    if (b->any_delayed)
        text_line(o, "Your message has not yet been delivered to one or more recipients; "
                     "delivery will be retried.");
    if (!b->any_failed && !b->any_delayed)
        text_line(o, "This is the report of delivery that you asked for.");
    for (size_t i = 0; i < r->nrcpts; i++) {
        const opes_dsn_recipient *q = &r->rcpts[i];
        int cls = 0, subj = 0, det = 0;
        eol(o);
        text(o, "<");
        put_str(o, q->final_recipient);
        text(o, ">: ");
        text(o, opes_dsn_action_name(q->action));
        text(o, ", status ");
        put_str(o, q->status);
        (void)opes_reply_enhanced_parse(q->status.ptr, q->status.len, &cls, &subj, &det);
        const char *title = opes_enhanced_title(cls, subj, det);
        if (title != NULL && title[0] != '\0') {
            text(o, " (");
            text(o, title);
            text(o, ")");
        }
        eol(o);
        if (q->orcpt.len > 0) {
            text(o, "    You addressed it to: ");
            put_str(o, q->orcpt);
            eol(o);
        }
        if (q->remote_mta.len > 0) {
            text(o, "    Remote server: ");
            mta_name(o, q->remote_mta);
            eol(o);
        }
        if (q->diagnostic.len > 0) {
            size_t pos = 0, lb, le;
            text_line(o, "    The server said:");
            while (diag_next(q->diagnostic, &pos, &lb, &le)) {
                text(o, "        ");
                opes__wr_put(&o->w, q->diagnostic.ptr + lb, le - lb);
                eol(o);
            }
        }
        if (q->will_retry_until.len > 0) {
            text(o, "    Delivery will be tried until ");
            put_str(o, q->will_retry_until);
            text_line(o, ".");
        }
        opes_str svc = q->opes_service.len > 0 ? q->opes_service : r->opes_service;
        int byp = q->opes_service.len > 0 ? q->bypassable : r->bypassable;
        if (q->opes_service.len > 0 && byp == OPES_DSN_BYPASS_UNSET)
            byp = r->bypassable;
        if (svc.len > 0 || r->opes_system.len > 0) {
            if (r->opes_system.len > 0) {
                text_line(o, "    Your message was processed by the OPES system");
                text(o, "        ");
                put_str(o, r->opes_system);
                eol(o);
            }
            if (svc.len > 0) {
                text_line(o, "    This result was caused by the OPES service");
                text(o, "        ");
                put_str(o, svc);
                eol(o);
                if (byp == OPES_DSN_BYPASS_YES)
                    TRY(bypass_hint(b, o, svc));
                else if (byp == OPES_DSN_BYPASS_NO)
                    text_line(o, "    This service may not be bypassed.");
            }
        }
    }
    eol(o);
    const unsigned f = r->flags;
    if (f & OPES_DSN_F_REDACT) {
        text_line(o, "This report is redacted: of your message it returns no more than its");
        text(o, "Message-ID. The message was sent from <");
        put_str(o, r->to);
        text_line(o, ">.");
    } else if (p->part == OPES_DSN_PART_NONE) {
        text_line(o, "Your message had no header section to return.");
    } else if (p->part == OPES_DSN_PART_HEADERS) {
        if (f & OPES_DSN_F_HOSTILE)
            text_line(o, "Your message was found to hold hostile content: only its header "
                         "section is returned.");
        else if (f & OPES_DSN_F_REQUIRETLS)
            text_line(o, "Your message was sent with REQUIRETLS: only its header section is "
                         "returned.");
        else if (p->headers_only_8bit)
            text_line(o, "Your message holds 8-bit data that the return path cannot carry: only "
                         "its header section is returned.");
        else
            text_line(o, "The header section of your message is returned below.");
    } else {
        if (p->truncated) {
            text(o, "Your message is returned below, cut after ");
            u64_text(o, p->length);
            text(o, " of its ");
            u64_text(o, p->original_size);
            text_line(o, " octets:");
            text_line(o, "its header section is complete, the rest of its body is left out.");
        } else {
            text_line(o, "Your message is returned below.");
        }
    }
    return OPES_OK;
}

static opes_status start(opes_dsn_builder *b, char *dst, size_t cap, size_t *len, out *o)
{
    if (b == NULL || !OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    if (b->state != ST_PREPARED)
        return OPES_ESTATE;
    opes__wr_init(&o->w, dst, cap);
    int lf = (b->r->flags & OPES_DSN_F_LF) != 0;
    o->eol = lf ? "\n" : "\r\n";
    o->eol_len = lf ? 1 : 2;
    o->hf = lf ? OPES_HEADER_LF : 0;
    return OPES_OK;
}

/* see opes/dsn.h */
opes_status opes_dsn_build_head(opes_dsn_builder *b, char *dst, size_t cap, size_t *len)
{
    out o;
    TRY(start(b, dst, cap, len, &o));
    opes_status st = head(b, &o);
    if (st != OPES_OK) {
        *len = 0;
        return st;
    }
    return opes__wr_finish(&o.w, len);
}

/* see opes/dsn.h */
opes_status opes_dsn_build_tail(opes_dsn_builder *b, char *dst, size_t cap, size_t *len)
{
    out o;
    TRY(start(b, dst, cap, len, &o));
    /* the line end before a delimiter is the delimiter's (RFC 2046 5.1.1);
     * with no third part the delivery-status part has written it already
     * (a second would be an empty line inside its content, which RFC 3464
     * 2.1's delivery-status-content does not allow) */
    if (b->plan.part != OPES_DSN_PART_NONE)
        eol(&o);
    delimiter(b, &o, 1);
    return opes__wr_finish(&o.w, len);
}
