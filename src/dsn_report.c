/* Reading delivery status notifications: the report finder (RFC 6522,
 * RFC 6533 4.4) over the MIME walker; the content parser is dsn_read.c. */
#include "internal.h"

#include "dsn_read_internal.h"
#include "opes/dsn_read.h"
#include "opes/mime.h"

#include <string.h>

/* ---- the report finder ------------------------------------------------- */

/* Where a tracked entity's bytes are. */
typedef struct span {
    int on, closed;
    size_t depth, id, index;
    uint64_t body, end; /* body offset; end of the last content byte seen */
    int cte, kind;
    unsigned flags;
} span;

static int is_type(const opes_mime_part *p, const char *type, const char *sub)
{
    return p->type.len == strlen(type) && memcmp(p->type.ptr, type, p->type.len) == 0 &&
           p->subtype.len == strlen(sub) && memcmp(p->subtype.ptr, sub, p->subtype.len) == 0;
}

static void span_start(span *s, const opes_mime_part *p)
{
    memset(s, 0, sizeof *s);
    s->on = 1;
    s->depth = p->depth;
    s->id = p->id;
    s->index = p->index;
    s->body = p->body_offset;
    s->end = p->body_offset;
    s->cte = p->cte;
    s->kind = p->kind;
    s->flags = p->flags;
}

/* An event with bytes at depth d ending at end: inside the span while it is
 * open (its own END_PART closes it before a sibling's first event). */
static void span_extend(span *s, size_t d, uint64_t end)
{
    if (s->on && !s->closed && d >= s->depth && end > s->end)
        s->end = end;
}

/* A delimiter of the multipart at depth d at offset at: no span of a part
 * inside it reaches past it. */
static void span_clamp(span *s, size_t d, uint64_t at)
{
    if (s->on && s->depth > d) {
        if (s->end > at)
            s->end = at;
        if (s->body > s->end)
            s->body = s->end;
    }
}

static void span_close(span *s, size_t id)
{
    if (s->on && s->id == id)
        s->closed = 1;
}

/* A candidate report set aside while a multipart/report inside it is tried:
 * restored when the inner one closes without a delivery-status part. */
typedef struct candidate {
    span report, human;
    opes_str report_type;
} candidate;

/* Decode in[0..n) (base64 or quoted-printable) in pieces of at most 256
 * input octets, each with room for all it can give (a piece decodes to at
 * most its length plus the 3 octets a decoder holds), eof on the last: into
 * dst[0..cap) when dst is given, else only counted. *total is the decoded
 * size. Bounded: each call consumes its piece (the room ensures it). */
static opes_status decode_all(const char *in, size_t n, int cte, char *dst, size_t cap,
                              size_t *total)
{
    opes_mime_decoder d;
    char tmp[512];
    size_t pos = 0;
    opes_status st = opes_mime_decoder_init(&d, cte);
    *total = 0;
    if (st != OPES_OK)
        return st;
    do {
        size_t piece = n - pos > 256 ? 256 : n - pos, used = 0, got = 0;
        int eof = pos + piece == n;
        char *out = tmp;
        size_t room = sizeof tmp;
        if (dst != NULL) {
            out = dst + *total;
            room = cap - *total;
        }
        st = opes_mime_decode(&d, piece ? in + pos : NULL, piece, eof, room ? out : NULL, room,
                              &used, &got);
        if (st != OPES_OK)
            return st;
        if (used != piece)
            return OPES_EOVERFLOW; /* cannot happen with the room given */
        pos += piece;
        *total += got;
    } while (pos < n);
    return OPES_OK;
}

/* Decode an encoded delivery-status part into scratch: the size first. */
static opes_status decode_part(const char *in, size_t n, int cte, char *scratch, size_t cap,
                               size_t *out_len, size_t *need)
{
    size_t total = 0;
    opes_status st = decode_all(in, n, cte, NULL, 0, &total);
    if (st != OPES_OK)
        return st;
    if (total > cap) {
        if (need)
            *need = total;
        return OPES_ENOSPC;
    }
    if (total == 0) {
        *out_len = 0;
        return OPES_OK;
    }
    return decode_all(in, n, cte, scratch, total, out_len);
}

static int returned_type(const opes_mime_part *p)
{
    if (is_type(p, "message", "rfc822") || is_type(p, "message", "global"))
        return OPES_DSN_RETURNED_MESSAGE;
    if (is_type(p, "text", "rfc822-headers") || is_type(p, "message", "global-headers"))
        return OPES_DSN_RETURNED_HEADERS;
    return OPES_DSN_RETURNED_NONE;
}

/* see opes/dsn_read.h */
opes_status opes_dsn_message_parse(opes_mime_walker *w, const char *msg, size_t len, unsigned flags,
                                   char *scratch, size_t cap, opes_dsn_read_report *out,
                                   size_t *need)
{
    const unsigned all = OPES_DSN_READ_LF | OPES_DSN_READ_UTF8 | OPES_DSN_READ_8BIT;
    opes_mime_event ev;
    span report = {0}, human = {0}, machine = {0}, returned = {0}, retmsg = {0};
    opes_str report_type = {NULL, 0}, pending_rt = {NULL, 0};
    /* outer candidates, one per depth at most (each is deeper than the last) */
    candidate outer[OPES_MIME_MAX_DEPTH + 1];
    size_t nouter = 0;
    int global = 0, done = 0, ct_seen = 0;
    size_t off = 0, idle = 0;
    opes_status st;

    if (need)
        *need = 0;
    if (w == NULL || out == NULL || (msg == NULL && len > 0) || (scratch == NULL && cap > 0) ||
        (flags & ~all) != 0)
        return OPES_EINVAL;
    memset(out, 0, sizeof *out);
    st = opes_mime_walker_reset(w);
    if (st == OPES_OK) {
        unsigned mf = (flags & OPES_DSN_READ_8BIT) ? OPES_MIME_8BIT : OPES_MIME_UTF8;
        if (flags & OPES_DSN_READ_LF)
            mf |= OPES_MIME_LF;
        st = opes_mime_walker_set_flags(w, mf);
    }
    if (st != OPES_OK)
        return st;

    while (!done) {
        size_t used = 0;
        st = opes_mime_walk(w, len > off ? msg + off : NULL, len - off, 1, &used, &ev);
        if (st != OPES_OK) {
            if (machine.closed) {
                /* the walker failed after the delivery-status part was read
                 * whole (in the returned content): keep what was found */
                out->flags |= OPES_DSN_REPORT_WALK_ERROR;
                out->walk_status = st;
                break;
            }
            return st == OPES_INCOMPLETE ? OPES_EBAD_MIME : st; /* never loop */
        }
        if (used > len - off)
            return OPES_EBAD_MIME;
        off += used;
        if (used != 0)
            idle = 0;
        else if (++idle > 4 * OPES_MIME_MAX_DEPTH + 16)
            return OPES_EBAD_MIME; /* a walker that stopped making progress */

        size_t d = ev.depth;
        uint64_t end = 0;
        switch (ev.type) {
        case OPES_MIME_EV_HEADER:
            end = ev.field.offset + ev.field.whole.len;
            /* the first Content-Type of an entity, the one the walker reads */
            if (!machine.on && !ct_seen && opes_header_name_eq(&ev.field, "Content-Type")) {
                opes_mime_content_type ct;
                opes_mime_param p;
                ct_seen = 1;
                pending_rt.ptr = NULL;
                pending_rt.len = 0;
                if (opes_mime_content_type_parse(ev.field.raw.ptr, ev.field.raw.len, &ct) ==
                        OPES_OK &&
                    opes_mime_param_find(ct.params.ptr, ct.params.len, "report-type", &p) ==
                        OPES_OK) {
                    pending_rt = p.value;
                    if (p.quoted && pending_rt.len >= 2) {
                        pending_rt.ptr++; /* the quotes of a quoted-string */
                        pending_rt.len -= 2;
                    }
                }
            }
            break;
        case OPES_MIME_EV_PART: {
            const opes_mime_part *p = &ev.part;
            ct_seen = 0;
            d = p->depth;
            end = p->body_offset;
            /* a multipart/report; or one inside a candidate that has no
             * delivery-status part so far (an MDN that carries a DSN): the
             * inner one is tried instead */
            if (p->kind == OPES_MIME_KIND_MULTIPART && is_type(p, "multipart", "report") &&
                (!report.on || (!machine.on && p->depth > report.depth))) {
                if (report.on && nouter < sizeof outer / sizeof outer[0]) {
                    outer[nouter].report = report;
                    outer[nouter].human = human;
                    outer[nouter].report_type = report_type;
                    nouter++;
                }
                span_start(&report, p);
                report_type = pending_rt;
                memset(&human, 0, sizeof human);
                memset(&machine, 0, sizeof machine);
                memset(&returned, 0, sizeof returned);
                memset(&retmsg, 0, sizeof retmsg);
                pending_rt.ptr = NULL;
                pending_rt.len = 0;
                break;
            }
            if (!report.on) {
                pending_rt.ptr = NULL;
                pending_rt.len = 0;
                break;
            }
            pending_rt.ptr = NULL;
            pending_rt.len = 0;
            if (p->depth == report.depth + 1 && !report.closed) {
                int ds = is_type(p, "message", "delivery-status");
                int gds = is_type(p, "message", "global-delivery-status");
                if ((ds || gds) && !machine.on) {
                    span_start(&machine, p);
                    global = gds;
                } else if (p->index == 1) {
                    span_start(&human, p);
                } else if (machine.on && !returned.on && returned_type(p)) {
                    span_start(&returned, p);
                    size_t tl = p->type.len, sl = p->subtype.len;
                    if (tl + 1 + sl < sizeof out->returned_type) {
                        memcpy(out->returned_type, p->type.ptr, tl);
                        out->returned_type[tl] = '/';
                        memcpy(out->returned_type + tl + 1, p->subtype.ptr, sl);
                        out->returned_type[tl + 1 + sl] = '\0';
                    }
                    out->returned_kind = returned_type(p);
                }
            } else if (returned.on && !returned.closed && returned.kind == OPES_MIME_KIND_MESSAGE &&
                       p->depth == returned.depth + 1 && !retmsg.on) {
                /* the returned message itself: its header section */
                span_start(&retmsg, p);
                retmsg.body = p->offset;
                retmsg.end = p->body_offset;
            }
            break;
        }
        case OPES_MIME_EV_BODY:
        case OPES_MIME_EV_PREAMBLE:
        case OPES_MIME_EV_EPILOGUE:
            end = ev.offset + ev.data.len;
            break;
        case OPES_MIME_EV_END_PART:
            span_close(&human, ev.part.id);
            span_close(&machine, ev.part.id);
            span_close(&returned, ev.part.id);
            if (report.on && ev.part.id == report.id) {
                if (machine.on) {
                    done = 1;
                } else if (nouter > 0) {
                    /* not a DSN (an MDN?) inside a candidate: back to the
                     * candidate, whose first part it may have been */
                    span inner = report;
                    nouter--;
                    report = outer[nouter].report;
                    human = outer[nouter].human;
                    report_type = outer[nouter].report_type;
                    if (!human.on && inner.depth == report.depth + 1 && inner.index == 1) {
                        human = inner;
                        human.closed = 1;
                    } else {
                        /* the inner report was inside the human part */
                        span_extend(&human, inner.depth, inner.end);
                    }
                } else {
                    memset(&report, 0, sizeof report); /* not a DSN: look on */
                }
            }
            break;
        case OPES_MIME_EV_DELIMITER:
            /* the line end before a delimiter is the delimiter's (RFC 2046
             * 5.1.1): a part inside ends before it, even where the walker
             * read that line end as the empty line after a header section
             * that ran to the end of the part (a returned message with no
             * body, or an empty one) */
            span_clamp(&human, ev.depth, ev.offset);
            span_clamp(&machine, ev.depth, ev.offset);
            span_clamp(&returned, ev.depth, ev.offset);
            span_clamp(&retmsg, ev.depth, ev.offset);
            break;
        case OPES_MIME_EV_END:
            done = 1;
            break;
        default:
            break;
        }
        if (end != 0) {
            span_extend(&report, d, end);
            span_extend(&human, d, end);
            span_extend(&machine, d, end);
            span_extend(&returned, d, end);
        }
    }
    if (!report.on || !machine.on)
        return OPES_ENOTFOUND;
    out->found = 1;

    out->report_type = report_type;
    if (!(report_type.len == 15 && opes__ieq(report_type.ptr, 15, "DELIVERY-STATUS")) &&
        !(report_type.len == 22 && opes__ieq(report_type.ptr, 22, "GLOBAL-DELIVERY-STATUS")))
        out->flags |= OPES_DSN_REPORT_ODD_REPORT_TYPE;
    if (report.depth > 0)
        out->flags |= OPES_DSN_REPORT_NESTED;
    if (global)
        out->flags |= OPES_DSN_REPORT_GLOBAL;

    if (human.on) {
        out->human.ptr = msg + human.body;
        out->human.len = (size_t)(human.end - human.body);
        out->human_cte = human.cte;
    }

    /* the delivery-status part, transfer-decoded if it must be */
    unsigned cflags = flags | (global ? OPES_DSN_READ_UTF8 : 0u);
    const char *ds = msg + machine.body;
    size_t ds_len = (size_t)(machine.end - machine.body);
    if (machine.cte == OPES_MIME_CTE_BASE64 || machine.cte == OPES_MIME_CTE_QP) {
        size_t n = 0;
        st = decode_part(ds, ds_len, machine.cte, scratch, cap, &n, need);
        if (st != OPES_OK)
            return st;
        ds = scratch;
        ds_len = n;
        out->flags |= OPES_DSN_REPORT_DECODED;
    }
    st = opes_dsn_content_parse(ds_len ? ds : NULL, ds_len, cflags, &out->status, NULL);
    if (st != OPES_OK)
        return st;

    /* the returned content */
    out->header_flags = (flags & OPES_DSN_READ_8BIT)
                            ? opes__dsn_header_flags(flags)
                            : opes__dsn_header_flags(flags) | OPES_HEADER_UTF8;
    if (returned.on) {
        out->returned.ptr = msg + returned.body;
        out->returned.len = (size_t)(returned.end - returned.body);
        if (returned.kind == OPES_MIME_KIND_MESSAGE) {
            if (retmsg.on) {
                out->returned_header.ptr = msg + retmsg.body;
                out->returned_header.len = (size_t)(retmsg.end - retmsg.body);
            }
        } else if (returned.cte == OPES_MIME_CTE_BASE64 || returned.cte == OPES_MIME_CTE_QP ||
                   returned.cte == OPES_MIME_CTE_UNKNOWN ||
                   (returned.flags & OPES_MIME_PF_ENCODED_MESSAGE)) {
            out->flags |= OPES_DSN_REPORT_RETURNED_ENCODED;
        } else if (out->returned_kind == OPES_DSN_RETURNED_HEADERS) {
            out->returned_header = out->returned;
        }
    }
    return OPES_OK;
}

/* see opes/dsn_read.h */
opes_status opes_dsn_returned_field_next(const opes_dsn_read_report *r, size_t *pos,
                                         opes_header_field *out)
{
    size_t used = 0, err = 0;
    int noeol = 0;
    if (r == NULL || pos == NULL || out == NULL || *pos > r->returned_header.len)
        return OPES_EINVAL;
    if (r->returned_header.len == 0 || (r->flags & OPES_DSN_REPORT_RETURNED_ENCODED))
        return OPES_ENOTFOUND;
    opes_status st = opes__dsn_field_at(r->returned_header.ptr, r->returned_header.len, *pos,
                                        r->header_flags, out, &used, &noeol, &err);
    if (st != OPES_OK)
        return st;
    if (out->kind != OPES_HEADER_KIND_FIELD)
        return OPES_ENOTFOUND;
    out->offset = *pos;
    *pos += used;
    return OPES_OK;
}
