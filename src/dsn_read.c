/* Reading delivery status notifications (RFC 3464, RFC 6522, RFC 6533): the
 * delivery-status content parser and the report finder. No allocation: views
 * into the input, decoding into caller buffers. */
#include "internal.h"

#include "dsn_read_internal.h"

#include "opes/date.h"
#include "opes/dsn_read.h"
#include "opes/header.h"
#include "opes/mime.h"
#include "opes/reply.h"
#include "opes/uri.h"
#include "opes/xtext.h"

#include <string.h>

static const char *const field_names[OPES_DSNF__COUNT] = {
    NULL,
    "Original-Envelope-Id",
    "Reporting-MTA",
    "DSN-Gateway",
    "Received-From-MTA",
    "Arrival-Date",
    "Original-Recipient",
    "Final-Recipient",
    "Action",
    "Status",
    "Remote-MTA",
    "Diagnostic-Code",
    "Last-Attempt-Date",
    "Final-Log-ID",
    "Will-Retry-Until",
    OPES_DSN_FIELD_SYSTEM,
    OPES_DSN_FIELD_SERVICE,
    OPES_DSN_FIELD_BYPASSABLE,
};

/* see opes/dsn_read.h */
const char *opes_dsn_field_name(int id)
{
    if (id <= OPES_DSNF_EXTENSION || id >= OPES_DSNF__COUNT)
        return NULL;
    return field_names[id];
}

/* see opes/dsn_read.h */
int opes_dsn_field_typed(int id)
{
    switch (id) {
    case OPES_DSNF_REPORTING_MTA:
    case OPES_DSNF_DSN_GATEWAY:
    case OPES_DSNF_RECEIVED_FROM_MTA:
    case OPES_DSNF_ORIGINAL_RECIPIENT:
    case OPES_DSNF_FINAL_RECIPIENT:
    case OPES_DSNF_REMOTE_MTA:
    case OPES_DSNF_DIAGNOSTIC_CODE:
        return 1;
    default:
        return 0;
    }
}

static int field_id(opes_str name)
{
    for (int id = 1; id < OPES_DSNF__COUNT; id++) {
        const char *n = field_names[id];
        if (opes__ieq2(name.ptr, name.len, n, strlen(n)))
            return id;
    }
    return OPES_DSNF_EXTENSION;
}

static int per_message_id(int id)
{
    return (id >= OPES_DSNF_ORIGINAL_ENVELOPE_ID && id <= OPES_DSNF_ARRIVAL_DATE) ||
           id == OPES_DSNF_OPES_SYSTEM || id == OPES_DSNF_OPES_SERVICE ||
           id == OPES_DSNF_OPES_BYPASSABLE;
}

static int per_recipient_id(int id)
{
    return (id >= OPES_DSNF_ORIGINAL_RECIPIENT && id <= OPES_DSNF_WILL_RETRY_UNTIL) ||
           id == OPES_DSNF_OPES_SERVICE || id == OPES_DSNF_OPES_BYPASSABLE;
}

unsigned opes__dsn_header_flags(unsigned flags)
{
    unsigned h = 0;
    if (flags & OPES_DSN_READ_LF)
        h |= OPES_HEADER_LF;
    if (flags & OPES_DSN_READ_UTF8)
        h |= OPES_HEADER_UTF8;
    if (flags & OPES_DSN_READ_8BIT)
        h |= OPES_HEADER_8BIT;
    return h;
}

static unsigned lx_opts(unsigned flags)
{
    return OPES__LX_ALLOW_RAW8 | ((flags & OPES_DSN_READ_LF) ? OPES__LX_ALLOW_LF : 0u);
}

/* One header field (or empty line, or the end) at b[pos..len) with the
 * header parser. A last line without its line end (a MIME body ends before
 * the line end that belongs to the next delimiter) is taken as the field it
 * is: the parser accepted every byte before the end (it checks bytes in
 * order), so only the colon is located here. *noeol says so. */
opes_status opes__dsn_field_at(const char *b, size_t len, size_t pos, unsigned hflags,
                               opes_header_field *f, size_t *used, int *noeol, size_t *err)
{
    const char *p = b ? b + pos : NULL;
    size_t n = len - pos;
    opes_status st = opes_header_field_parse(n ? p : NULL, n, hflags, 1, f, used);
    *noeol = 0;
    if (st == OPES_EBAD_HEADER && n > 0 && f->error_offset == n) {
        const char *colon = memchr(p, ':', n);
        if (colon != NULL) {
            size_t nl = (size_t)(colon - p);
            while (nl > 0 && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
                nl--;
            if (nl > 0) {
                memset(f, 0, sizeof *f);
                f->kind = OPES_HEADER_KIND_FIELD;
                f->name.ptr = p;
                f->name.len = nl;
                f->raw.ptr = colon + 1;
                f->raw.len = n - (size_t)(colon + 1 - p);
                f->whole.ptr = p;
                f->whole.len = n;
                f->lines = 1;
                for (size_t i = 0; i < n; i++)
                    if (p[i] == '\n')
                        f->lines++;
                *used = n;
                *noeol = 1;
                return OPES_OK;
            }
        }
    }
    if (st != OPES_OK && err != NULL)
        *err = pos + (size_t)f->error_offset;
    return st;
}

/* atom-typed value: [CFWS] atom [CFWS] ";" rest */
static int split_typed(opes_str raw, unsigned opts, opes_str *type, opes_str *value)
{
    unsigned info = 0;
    size_t err = 0, b = 0, e, s;
    if (opes__lx_cfws(raw.ptr, raw.len, 0, opts, &b, &info, &err) != OPES_OK)
        return 0;
    e = b;
    while (e < raw.len && OPES__IS(raw.ptr[e], OPES__C_ATEXT))
        e++;
    if (e == b || opes__lx_cfws(raw.ptr, raw.len, e, opts, &s, &info, &err) != OPES_OK ||
        s >= raw.len || raw.ptr[s] != ';')
        return 0;
    type->ptr = raw.ptr + b;
    type->len = e - b;
    value->ptr = raw.ptr + s + 1;
    value->len = raw.len - s - 1;
    return 1;
}

/* [CFWS] word [CFWS] with word 1*ALPHA: its view, or 0 */
static int single_word(opes_str raw, unsigned opts, opes_str *word)
{
    unsigned info = 0;
    size_t err = 0, b = 0, w, e;
    if (opes__lx_cfws(raw.ptr, raw.len, 0, opts, &b, &info, &err) != OPES_OK)
        return 0;
    w = b;
    while (w < raw.len && OPES__IS(raw.ptr[w], OPES__C_ALPHA))
        w++;
    if (w == b || opes__lx_cfws(raw.ptr, raw.len, w, opts, &e, &info, &err) != OPES_OK ||
        e != raw.len)
        return 0;
    word->ptr = raw.ptr + b;
    word->len = w - b;
    return 1;
}

/* Status: [CFWS] status-code [CFWS] (RFC 3464 2.3.4: a comment may follow) */
static int status_code(opes_str raw, unsigned opts, opes_str *code, int *cls, int *sub, int *det)
{
    unsigned info = 0;
    size_t err = 0, b = 0, w, e;
    if (opes__lx_cfws(raw.ptr, raw.len, 0, opts, &b, &info, &err) != OPES_OK)
        return 0;
    w = b;
    while (w < raw.len && (OPES__IS(raw.ptr[w], OPES__C_DIGIT) || raw.ptr[w] == '.'))
        w++;
    if (w == b || opes__lx_cfws(raw.ptr, raw.len, w, opts, &e, &info, &err) != OPES_OK ||
        e != raw.len)
        return 0;
    if (opes_reply_enhanced_parse(raw.ptr + b, w - b, cls, sub, det) != OPES_OK)
        return 0;
    code->ptr = raw.ptr + b;
    code->len = w - b;
    return 1;
}

/* [CFWS] absolute-URI [CFWS]: an OPES agent identifier (docs/opes-smtp.md 11) */
static int uri_ok(opes_str raw, unsigned opts)
{
    unsigned info = 0;
    size_t err = 0, b = 0, e;
    opes_uri u;
    if (opes__lx_cfws(raw.ptr, raw.len, 0, opts, &b, &info, &err) != OPES_OK)
        return 0;
    e = b;
    while (e < raw.len && raw.ptr[e] != '(' && !OPES__IS(raw.ptr[e], OPES__C_WSP) &&
           raw.ptr[e] != '\r' && raw.ptr[e] != '\n')
        e++;
    size_t end = 0;
    if (e == b || opes__lx_cfws(raw.ptr, raw.len, e, opts, &end, &info, &err) != OPES_OK ||
        end != raw.len)
        return 0;
    return opes_uri_parse(raw.ptr + b, e - b, OPES_URI_ABSOLUTE, &u, NULL) == OPES_OK;
}

static int date_ok(opes_str raw, unsigned flags)
{
    opes_datetime dt;
    unsigned df = OPES_DATE_LENIENT_DOW | OPES_DATE_LENIENT_ZONE;
    if (flags & OPES_DSN_READ_LF)
        df |= OPES_DATE_LENIENT_LF;
    return opes_date_parse(raw.ptr, raw.len, df, &dt, NULL) == OPES_OK;
}

/* Classify a parsed header field into f, checking its value's grammar. */
static void classify(const opes_header_field *h, size_t base, unsigned flags, opes_dsn_field *f)
{
    const unsigned opts = lx_opts(flags);
    memset(f, 0, sizeof *f);
    f->present = 1;
    f->id = field_id(h->name);
    f->name = h->name;
    f->raw = h->raw;
    f->value = h->raw;
    f->offset = base;
    if (opes_dsn_field_typed(f->id)) {
        if (!split_typed(h->raw, opts, &f->type, &f->value)) {
            f->type.ptr = NULL;
            f->type.len = 0;
            f->value = h->raw;
            f->flags |= OPES_DSN_FF_BAD;
        }
        return;
    }
    switch (f->id) {
    case OPES_DSNF_ACTION: {
        int a;
        if (opes_dsn_action_parse(h->raw.ptr, h->raw.len, &a) != OPES_OK)
            f->flags |= OPES_DSN_FF_BAD;
        break;
    }
    case OPES_DSNF_STATUS: {
        opes_str c;
        int x, y, z;
        if (!status_code(h->raw, opts, &c, &x, &y, &z))
            f->flags |= OPES_DSN_FF_BAD;
        break;
    }
    case OPES_DSNF_ARRIVAL_DATE:
    case OPES_DSNF_LAST_ATTEMPT_DATE:
    case OPES_DSNF_WILL_RETRY_UNTIL:
        if (!date_ok(h->raw, flags))
            f->flags |= OPES_DSN_FF_BAD;
        break;
    case OPES_DSNF_OPES_SYSTEM:
    case OPES_DSNF_OPES_SERVICE:
        if (!uri_ok(h->raw, opts))
            f->flags |= OPES_DSN_FF_BAD;
        break;
    case OPES_DSNF_OPES_BYPASSABLE: {
        opes_str w;
        if (!single_word(h->raw, opts, &w) ||
            !(opes__ieq(w.ptr, w.len, "YES") || opes__ieq(w.ptr, w.len, "NO")))
            f->flags |= OPES_DSN_FF_BAD;
        break;
    }
    default:
        break;
    }
}

/* A block: its fields by id (the first of each), flags, extension count. */
typedef struct dsn_block {
    opes_dsn_field slot[OPES_DSNF__COUNT];
    size_t extensions;
    unsigned flags;
    size_t start, end; /* the block's bytes: [start, end) */
} dsn_block;

/* Read the block at or after pos (empty lines before it skipped). Returns
 * OPES_OK with *next after the block, OPES_ENOTFOUND at the end, or a header
 * parser status with *err. per_message picks which ids belong. */
static opes_status read_block(const char *b, size_t len, size_t pos, unsigned flags,
                              int per_message, dsn_block *blk, size_t *next, size_t *err)
{
    const unsigned hflags = opes__dsn_header_flags(flags);
    opes_header_field h;
    size_t used = 0;
    int noeol = 0, started = 0;
    opes_status st;

    memset(blk, 0, sizeof *blk);
    /* bounded: every iteration consumes at least one byte or ends */
    while (pos <= len) {
        if (!started) {
            /* a line of white space only where a block starts continues no
             * field: read as the empty line it looks like (a template's
             * indent), up to its line end, or the end of the content */
            size_t e = pos;
            while (e < len && (b[e] == ' ' || b[e] == '\t'))
                e++;
            if (e > pos) {
                size_t eol = SIZE_MAX; /* else: not such a line, the parser's call */
                if (e == len)
                    eol = 0;
                else if (b[e] == '\r' && e + 1 < len && b[e + 1] == '\n')
                    eol = 2;
                else if (b[e] == '\n' && (flags & OPES_DSN_READ_LF))
                    eol = 1;
                if (eol != SIZE_MAX) {
                    pos = e + eol;
                    continue;
                }
            }
        }
        st = opes__dsn_field_at(b, len, pos, hflags, &h, &used, &noeol, err);
        if (st != OPES_OK)
            return st;
        if (h.kind == OPES_HEADER_KIND_EOF)
            break;
        if (h.kind == OPES_HEADER_KIND_END) {
            if (started)
                break;
            pos += used; /* an empty line before the block */
            continue;
        }
        if (!started) {
            started = 1;
            blk->start = pos;
        }
        opes_dsn_field f;
        classify(&h, pos, flags, &f);
        if (noeol)
            f.flags |= OPES_DSN_FF_NO_EOL;
        if (f.flags & OPES_DSN_FF_BAD)
            blk->flags |= OPES_DSN_BF_BAD_FIELD;
        if (f.id == OPES_DSNF_EXTENSION) {
            blk->extensions++;
        } else if (per_message ? !per_message_id(f.id) : !per_recipient_id(f.id)) {
            blk->flags |= OPES_DSN_BF_MISPLACED;
        } else if (blk->slot[f.id].present) {
            blk->flags |= OPES_DSN_BF_DUPLICATE;
        } else {
            blk->slot[f.id] = f;
        }
        pos += used;
        blk->end = pos;
        if (used == 0)
            break; /* never loop without progress */
    }
    if (!started)
        return OPES_ENOTFOUND;
    *next = blk->end;
    return OPES_OK;
}

static int bypass_value(const opes_dsn_field *f, unsigned flags)
{
    opes_str w;
    if (!f->present || (f->flags & OPES_DSN_FF_BAD) || !single_word(f->raw, lx_opts(flags), &w))
        return -1;
    return opes__ieq(w.ptr, w.len, "YES") ? 1 : 0;
}

static void fill_message(const char *b, const dsn_block *blk, unsigned flags,
                         opes_dsn_per_message *m)
{
    memset(m, 0, sizeof *m);
    m->original_envelope_id = blk->slot[OPES_DSNF_ORIGINAL_ENVELOPE_ID];
    m->reporting_mta = blk->slot[OPES_DSNF_REPORTING_MTA];
    m->dsn_gateway = blk->slot[OPES_DSNF_DSN_GATEWAY];
    m->received_from_mta = blk->slot[OPES_DSNF_RECEIVED_FROM_MTA];
    m->arrival_date = blk->slot[OPES_DSNF_ARRIVAL_DATE];
    m->opes_system = blk->slot[OPES_DSNF_OPES_SYSTEM];
    m->opes_service = blk->slot[OPES_DSNF_OPES_SERVICE];
    m->opes_bypassable = blk->slot[OPES_DSNF_OPES_BYPASSABLE];
    m->bypassable = bypass_value(&m->opes_bypassable, flags);
    m->extensions = blk->extensions;
    m->block.ptr = b + blk->start;
    m->block.len = blk->end - blk->start;
    m->offset = blk->start;
    m->flags = blk->flags;
    if (!m->reporting_mta.present)
        m->flags |= OPES_DSN_BF_NO_REPORTING_MTA;
}

static void fill_recipient(const char *b, const dsn_block *blk, unsigned flags,
                           opes_dsn_read_recipient *r)
{
    memset(r, 0, sizeof *r);
    r->original_recipient = blk->slot[OPES_DSNF_ORIGINAL_RECIPIENT];
    r->final_recipient = blk->slot[OPES_DSNF_FINAL_RECIPIENT];
    r->action = blk->slot[OPES_DSNF_ACTION];
    r->status = blk->slot[OPES_DSNF_STATUS];
    r->remote_mta = blk->slot[OPES_DSNF_REMOTE_MTA];
    r->diagnostic_code = blk->slot[OPES_DSNF_DIAGNOSTIC_CODE];
    r->last_attempt_date = blk->slot[OPES_DSNF_LAST_ATTEMPT_DATE];
    r->final_log_id = blk->slot[OPES_DSNF_FINAL_LOG_ID];
    r->will_retry_until = blk->slot[OPES_DSNF_WILL_RETRY_UNTIL];
    r->opes_service = blk->slot[OPES_DSNF_OPES_SERVICE];
    r->opes_bypassable = blk->slot[OPES_DSNF_OPES_BYPASSABLE];
    r->bypassable = bypass_value(&r->opes_bypassable, flags);
    r->extensions = blk->extensions;
    r->block.ptr = b + blk->start;
    r->block.len = blk->end - blk->start;
    r->offset = blk->start;
    r->flags = blk->flags;
    if (r->action.present && !(r->action.flags & OPES_DSN_FF_BAD))
        (void)opes_dsn_action_parse(r->action.raw.ptr, r->action.raw.len, &r->action_value);
    if (r->status.present && !(r->status.flags & OPES_DSN_FF_BAD))
        (void)status_code(r->status.raw, lx_opts(flags), &r->status_code, &r->status_class,
                          &r->status_subject, &r->status_detail);
    if (!r->final_recipient.present)
        r->flags |= OPES_DSN_BF_NO_FINAL_RECIPIENT;
    if (!r->action.present)
        r->flags |= OPES_DSN_BF_NO_ACTION;
    if (!r->status.present)
        r->flags |= OPES_DSN_BF_NO_STATUS;
}

/* see opes/dsn_read.h */
opes_status opes_dsn_content_parse(const char *buf, size_t len, unsigned flags,
                                   opes_dsn_content *out, size_t *err_offset)
{
    const unsigned all = OPES_DSN_READ_LF | OPES_DSN_READ_UTF8 | OPES_DSN_READ_8BIT;
    dsn_block blk;
    size_t pos = 0, next = 0, err = 0;
    opes_status st;

    if (out == NULL || (buf == NULL && len > 0) || (flags & ~all) != 0)
        return OPES_EINVAL;
    memset(out, 0, sizeof *out);
    if (err_offset)
        *err_offset = 0;
    st = read_block(buf, len, 0, flags, 1, &blk, &next, &err);
    if (st == OPES_ENOTFOUND) {
        if (err_offset)
            *err_offset = len;
        return OPES_EBAD_DSN;
    }
    if (st != OPES_OK)
        goto fail;
    fill_message(buf, &blk, flags, &out->msg);
    out->first = next;
    pos = next;
    for (;;) {
        st = read_block(buf, len, pos, flags, 0, &blk, &next, &err);
        if (st == OPES_ENOTFOUND)
            break;
        if (st != OPES_OK)
            goto fail;
        if (out->recipients == OPES_DSN_MAX_RECIPIENTS) {
            err = blk.start;
            st = OPES_ETOO_MANY_ITEMS;
            goto fail;
        }
        opes_dsn_read_recipient r;
        fill_recipient(buf, &blk, flags, &r);
        out->recipient_flags |= r.flags;
        out->recipients++;
        pos = next;
    }
    if (out->recipients == 0) {
        if (err_offset)
            *err_offset = len;
        memset(out, 0, sizeof *out);
        return OPES_EBAD_DSN;
    }
    out->content.ptr = buf;
    out->content.len = len;
    out->flags = flags;
    return OPES_OK;
fail:
    memset(out, 0, sizeof *out);
    if (err_offset)
        *err_offset = err;
    return st;
}

/* see opes/dsn_read.h */
opes_status opes_dsn_recipients(const opes_dsn_content *c, opes_dsn_iter *it)
{
    if (c == NULL || it == NULL)
        return OPES_EINVAL;
    it->content = c;
    it->pos = c->first;
    it->index = 0;
    return OPES_OK;
}

/* see opes/dsn_read.h */
opes_status opes_dsn_recipient_next(opes_dsn_iter *it, opes_dsn_read_recipient *out)
{
    dsn_block blk;
    size_t next = 0, err = 0;
    if (it == NULL || out == NULL || it->content == NULL)
        return OPES_EINVAL;
    const opes_dsn_content *c = it->content;
    if (it->index >= c->recipients || it->pos > c->content.len)
        return OPES_ENOTFOUND;
    opes_status st =
        read_block(c->content.ptr, c->content.len, it->pos, c->flags, 0, &blk, &next, &err);
    if (st != OPES_OK)
        return st == OPES_ENOTFOUND ? st : OPES_EINVAL; /* not a parsed content */
    fill_recipient(c->content.ptr, &blk, c->flags, out);
    out->index = it->index++;
    it->pos = next;
    return OPES_OK;
}

/* see opes/dsn_read.h */
opes_status opes_dsn_field_next(opes_str block, unsigned flags, size_t *pos, opes_dsn_field *out)
{
    opes_header_field h;
    size_t used = 0, err = 0;
    int noeol = 0;
    if (pos == NULL || out == NULL || (block.ptr == NULL && block.len > 0) || *pos > block.len)
        return OPES_EINVAL;
    opes_status st = opes__dsn_field_at(block.ptr, block.len, *pos, opes__dsn_header_flags(flags),
                                        &h, &used, &noeol, &err);
    if (st != OPES_OK)
        return st;
    if (h.kind != OPES_HEADER_KIND_FIELD)
        return OPES_ENOTFOUND;
    classify(&h, *pos, flags, out);
    if (noeol)
        out->flags |= OPES_DSN_FF_NO_EOL;
    *pos += used;
    return OPES_OK;
}

/* The value with WSP at both ends removed (no fold inside). */
static opes_str trim_wsp(opes_str v)
{
    while (v.len > 0 && OPES__IS(v.ptr[0], OPES__C_WSP)) {
        v.ptr++;
        v.len--;
    }
    while (v.len > 0 && OPES__IS(v.ptr[v.len - 1], OPES__C_WSP))
        v.len--;
    return v;
}

/* One utf-8 address (no WSP, no comment): the utf-8-addr-xtext /
 * utf-8-addr-unitext form decoded, or the plain utf-8-address form as it
 * is; snprintf-style into dst[0..cap). */
static opes_status decode_utf8_address(char *dst, size_t cap, size_t *len, const char *a, size_t n)
{
    size_t eo = 0;
    opes_status st = opes_utf8addr_decode(dst, cap, len, a, n, OPES_UTF8ADDR_UNITEXT, &eo);
    if (st == OPES_EBAD_UTF8ADDR && n > 0) {
        /* no "\x" anywhere: the utf-8-address form (a Mailbox, which may
         * hold "+" or "="), written as it is */
        int esc = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (a[i] == '\\' && a[i + 1] == 'x')
                esc = 1;
        if (!esc) {
            opes__wr w;
            opes__wr_init(&w, dst, cap);
            opes__wr_put(&w, a, n);
            return opes__wr_finish(&w, len);
        }
    }
    return st;
}

/* see opes/dsn_read.h */
opes_status opes_dsn_value_decode(const opes_dsn_field *f, char *dst, size_t cap, size_t *len)
{
    if (f == NULL || len == NULL || (dst == NULL && cap > 0))
        return OPES_EINVAL;
    *len = 0;
    if (!f->present)
        return OPES_ENOTFOUND;
    if (!(f->type.len == 5 && opes__ieq(f->type.ptr, 5, "UTF-8")))
        return opes_header_unfold(dst, cap, len, f->value.ptr, f->value.len);

    /* RFC 6533 3: utf-8-addr-xtext / utf-8-addr-unitext, or the plain
     * utf-8-address. An address is short (RFC 5321 4.5.3.1.3: a path of
     * 256 octets); a folded one is unfolded into a small local buffer. */
    char tmp[1024];
    opes_str v = f->value;
    if (v.len > 0 && (memchr(v.ptr, '\n', v.len) != NULL || memchr(v.ptr, '\r', v.len) != NULL)) {
        size_t n = 0;
        opes_status st = opes_header_unfold(tmp, sizeof tmp, &n, v.ptr, v.len);
        if (st == OPES_ENOSPC)
            return OPES_EBAD_UTF8ADDR;
        if (st != OPES_OK)
            return st;
        v.ptr = tmp;
        v.len = n;
    } else {
        v = trim_wsp(v);
    }
    opes_status st = decode_utf8_address(dst, cap, len, v.ptr, v.len);
    if (st == OPES_OK || st == OPES_ENOSPC)
        return st;
    /* Not an address as a whole: comments before and after it (RFC 3464
     * 2.1: RFC 822 field rules) are kept as written, as in the other
     * fields, and the address between them decoded. The address is the run
     * up to the first WSP or "(" after the leading CFWS; what follows must
     * be CFWS to the end (else the value is not read that way either). A
     * value that decodes as a whole never comes here, so an encoded
     * address holding "(" (a QCHAR) is read as the builder wrote it. */
    size_t ab = 0, ae, te = 0, lx_err = 0;
    unsigned info = 0;
    const unsigned opts = lx_opts(OPES_DSN_READ_8BIT);
    if (opes__lx_cfws(v.ptr, v.len, 0, opts, &ab, &info, &lx_err) != OPES_OK)
        ab = 0;
    ae = ab;
    while (ae < v.len && !OPES__IS(v.ptr[ae], OPES__C_WSP) && v.ptr[ae] != '(')
        ae++;
    if ((ab == 0 && ae == v.len) ||
        opes__lx_cfws(v.ptr, v.len, ae, opts, &te, &info, &lx_err) != OPES_OK || te != v.len)
        return st;
    opes__wr w;
    opes__wr_init(&w, dst, cap);
    opes__wr_put(&w, v.ptr, ab);
    size_t an = 0;
    int room = dst != NULL && w.len <= cap;
    st = decode_utf8_address(room ? dst + w.len : NULL, room ? cap - w.len : 0, &an, v.ptr + ab,
                             ae - ab);
    if (st != OPES_OK && st != OPES_ENOSPC) {
        *len = 0;
        return st;
    }
    w.len += an;
    opes__wr_put(&w, v.ptr + ae, v.len - ae);
    return opes__wr_finish(&w, len);
}
