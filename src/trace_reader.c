/*
 * The trace of a whole header section, read top-down (docs/opes-smtp.md
 * 3.2-3.6): entries of OPES-System and OPES-Via, items of OPES-Bypass, and
 * the problems of each field, without stopping at the first.
 */
#include "internal.h"

#include "opes_internal.h"
#include "trace_internal.h"

enum { K_NONE = 0, K_SYSTEM, K_VIA, K_BYPASS };

struct opes_trace_reader {
    opes_allocator alloc;
    int has_alloc, heap;
    int started, done;
    const char *h;
    size_t len;
    unsigned flags;
    size_t pos;   /* the next field's first byte */
    size_t field; /* the next field's index */
    size_t nopes; /* OPES fields read */
    /* the field being walked */
    int kind;
    opes_str name;
    const char *raw;
    size_t raw_len, raw_off, cur_field;
    opes_trace_cursor cur;
    opes_str via_system;
    /* the nearest OPES-System field above */
    const char *sys_raw;
    size_t sys_raw_len, nsys;
    /* its entries' normal forms, hashed once for the 3.6 check of every
     * OPES-Via field under it (re-normalising the whole System field per
     * Via field was quadratic: 1000 Via fields under one 65 KB System
     * field) */
    int sys_cached;
    size_t sys_n;
    uint64_t sys_hash[OPES_TRACE_MAX_ENTRIES];
    opes_str sys_id[OPES_TRACE_MAX_ENTRIES];
    /* an event held back behind an ERROR */
    int has_pending;
    opes_trace_event pending;
};

/* see opes/trace.h */
size_t opes_trace_reader_sizeof(void)
{
    return sizeof(opes_trace_reader);
}

/* see opes/trace.h */
opes_status opes_trace_reader_new(opes_trace_reader **out, const opes_allocator *alloc)
{
    opes_trace_reader *r;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    r = opes__alloc(alloc, sizeof *r);
    if (!r)
        return OPES_ENOMEM;
    memset(r, 0, sizeof *r);
    r->heap = 1;
    if (alloc) {
        r->alloc = *alloc;
        r->has_alloc = 1;
    }
    *out = r;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_reader_init_in(void *mem, size_t len, opes_trace_reader **out)
{
    opes_trace_reader *r = mem;
    if (!mem || !out || len < sizeof *r)
        return OPES_EINVAL;
    memset(r, 0, sizeof *r);
    *out = r;
    return OPES_OK;
}

/* see opes/trace.h */
void opes_trace_reader_free(opes_trace_reader *r)
{
    opes_allocator a;
    if (!r || !r->heap)
        return;
    a = r->alloc;
    opes__free(r->has_alloc ? &a : NULL, r, sizeof *r);
}

/* see opes/trace.h */
opes_status opes_trace_reader_start(opes_trace_reader *r, const char *header, size_t len,
                                    unsigned flags)
{
    opes_allocator a;
    int has, heap;
    if (!r || (!header && len) ||
        (flags & ~(unsigned)(OPES_HEADER_LF | OPES_HEADER_UTF8 | OPES_HEADER_8BIT)))
        return OPES_EINVAL;
    a = r->alloc;
    has = r->has_alloc;
    heap = r->heap;
    memset(r, 0, sizeof *r);
    r->alloc = a;
    r->has_alloc = has;
    r->heap = heap;
    r->started = 1;
    r->h = header;
    r->len = len;
    r->flags = flags;
    return OPES_OK;
}

/* see opes/trace.h */
const char *opes_trace_event_name(int type)
{
    switch (type) {
    case OPES_TRACE_EV_SYSTEM:
        return "system";
    case OPES_TRACE_EV_VIA:
        return "via";
    case OPES_TRACE_EV_BYPASS:
        return "bypass";
    case OPES_TRACE_EV_ERROR:
        return "error";
    default:
        return NULL;
    }
}

static void ev_base(const opes_trace_reader *r, opes_trace_event *ev, int type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->field_name = r->name;
    ev->field = r->cur_field;
    ev->block = SIZE_MAX;
}

static opes_status ev_error(opes_trace_reader *r, opes_trace_event *ev, opes_status st,
                            uint64_t off)
{
    ev_base(r, ev, OPES_TRACE_EV_ERROR);
    ev->status = st;
    ev->offset = off;
    return OPES_OK;
}

/* FNV-1a of a URI's normal form (OPES_URI_ABSOLUTE); 0 when it has none,
 * which opes_uri_equal() then equals to nothing. */
static int normal_hash(const char *u, size_t n, uint64_t *h)
{
    char buf[OPES_MAX_URI];
    size_t len = 0;
    if (opes_uri_normalize(buf, sizeof buf, &len, u, n, OPES_URI_ABSOLUTE) != OPES_OK)
        return 0;
    *h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        *h ^= (unsigned char)buf[i];
        *h *= 0x100000001b3u;
    }
    return 1;
}

/* Does id name an entry of the nearest OPES-System field (section 2)?
 * The entries are normalised once per System field; a hash hit is
 * confirmed with opes_uri_equal(). */
static int system_has(opes_trace_reader *r, opes_str id)
{
    uint64_t h;
    if (!r->sys_cached) {
        opes_trace_cursor c = {0, 0};
        opes_trace_entry e;
        size_t err;
        r->sys_n = 0;
        while (r->sys_n < OPES_TRACE_MAX_ENTRIES &&
               opes_trace_entry_next(r->sys_raw, r->sys_raw_len, &c, &e, &err) == OPES_OK) {
            if (normal_hash(e.id.ptr, e.id.len, &r->sys_hash[r->sys_n]))
                r->sys_id[r->sys_n++] = e.id;
        }
        r->sys_cached = 1;
    }
    if (!normal_hash(id.ptr, id.len, &h))
        return 0;
    for (size_t i = 0; i < r->sys_n; i++) {
        int eq = 0;
        if (r->sys_hash[i] == h &&
            opes_uri_equal(r->sys_id[i].ptr, r->sys_id[i].len, id.ptr, id.len, OPES_URI_ABSOLUTE,
                           &eq) == OPES_OK &&
            eq)
            return 1;
    }
    return 0;
}

/* OPES-Bypass (3.4): [FWS] ( "*" / agent-ref *( [FWS] "," [FWS] agent-ref ) ) [FWS] */
static opes_status bypass_next(opes_trace_reader *r, opes_trace_entry *e, size_t *err)
{
    const char *v = r->raw;
    size_t len = r->raw_len, p = r->cur.pos, q, ue = 0;
    opes_str id;
    int br;
    opes_status st;
    opes_uri u;

    if (opes__fws_skip(v, len, &p) != 0) {
        *err = p;
        return OPES_EBAD_TRACE;
    }
    if (r->cur.count > 0) {
        if (p >= len)
            return OPES_ENOTFOUND;
        if (v[p] != ',') {
            *err = p;
            return OPES_EBAD_TRACE;
        }
        p++;
        if (opes__fws_skip(v, len, &p) != 0) {
            *err = p;
            return OPES_EBAD_TRACE;
        }
    } else if (p < len && v[p] == '*') {
        q = p + 1;
        if (opes__fws_skip(v, len, &q) != 0 || q != len) {
            *err = q;
            return OPES_EBAD_TRACE;
        }
        memset(e, 0, sizeof *e);
        e->id.ptr = v + p;
        e->id.len = 1;
        e->offset = p;
        r->cur.pos = len;
        r->cur.count = 1;
        return OPES_OK;
    }
    if (r->cur.count >= OPES_TRACE_MAX_ENTRIES) {
        *err = p;
        return OPES_ETOO_MANY_ITEMS;
    }
    st = opes__agent_ref_scan(v, len, p, &id, &br, &q, err);
    if (st != OPES_OK)
        return st;
    if (!br && id.len == 1 && id.ptr[0] == '*') {
        *err = p; /* "*" only alone */
        return OPES_EBAD_TRACE;
    }
    st = opes_uri_parse(id.ptr, id.len, OPES_URI_ABSOLUTE, &u, &ue);
    if (st != OPES_OK) {
        *err = (size_t)(id.ptr - v) + (st == OPES_EURI_TOO_LONG ? 0 : ue);
        return st;
    }
    {
        size_t t = q;
        if (opes__fws_skip(v, len, &t) != 0 || (t < len && v[t] != ',')) {
            *err = t;
            return OPES_EBAD_TRACE;
        }
    }
    memset(e, 0, sizeof *e);
    e->id = id;
    e->bracketed = br;
    e->offset = p;
    e->index = r->cur.count;
    r->cur.pos = q;
    r->cur.count++;
    return OPES_OK;
}

static int role_of(const opes_trace_entry *e)
{
    opes_trace_param p;
    if (opes_trace_param_find(e, "role", &p) != OPES_OK)
        return OPES_TRACE_ROLE_SERVICE; /* 3.3: absent means service */
    if (!p.quoted && opes__ieq2(p.value.ptr, p.value.len, "processor", 9))
        return OPES_TRACE_ROLE_PROCESSOR;
    if (!p.quoted && opes__ieq2(p.value.ptr, p.value.len, "service", 7))
        return OPES_TRACE_ROLE_SERVICE;
    return OPES_TRACE_ROLE_UNKNOWN;
}

/* see opes/trace.h */
opes_status opes_trace_reader_next(opes_trace_reader *r, opes_trace_event *ev)
{
    if (!r || !ev)
        return OPES_EINVAL;
    if (!r->started)
        return OPES_ESTATE;
    if (r->has_pending) {
        *ev = r->pending;
        r->has_pending = 0;
        return OPES_OK;
    }
    for (;;) {
        opes_header_field f;
        size_t used = 0, err = 0;
        opes_trace_entry e;
        opes_status st;

        if (r->kind != K_NONE) {
            if (r->kind == K_BYPASS)
                st = bypass_next(r, &e, &err);
            else
                st = opes_trace_entry_next(r->raw, r->raw_len, &r->cur, &e, &err);
            if (st == OPES_ENOTFOUND) {
                r->kind = K_NONE;
                continue;
            }
            if (st != OPES_OK) {
                r->kind = K_NONE; /* the rest of this field is skipped */
                return ev_error(r, ev, st, (uint64_t)r->raw_off + err);
            }
            if (r->kind == K_BYPASS) {
                ev_base(r, ev, OPES_TRACE_EV_BYPASS);
                ev->entry = e;
                ev->offset = (uint64_t)r->raw_off + e.offset;
                return OPES_OK;
            }
            if (r->kind == K_SYSTEM) {
                ev_base(r, ev, OPES_TRACE_EV_SYSTEM);
                ev->role = OPES_TRACE_ROLE_SYSTEM;
                ev->system = e.id;
                ev->block = r->nsys - 1;
                ev->entry = e;
                ev->offset = (uint64_t)r->raw_off + e.offset;
                return OPES_OK;
            }
            /* OPES-Via (3.3): the first entry is the system's */
            ev_base(r, ev, OPES_TRACE_EV_VIA);
            if (e.index == 0) {
                r->via_system = e.id;
                ev->role = OPES_TRACE_ROLE_SYSTEM;
            } else {
                ev->role = role_of(&e);
            }
            ev->system = r->via_system;
            ev->block = r->nsys ? r->nsys - 1 : SIZE_MAX;
            ev->entry = e;
            ev->offset = (uint64_t)r->raw_off + e.offset;
            if (e.index == 0 && (!r->nsys || !system_has(r, e.id))) {
                /* 3.6: it must name an entry of the nearest OPES-System
                 * field above; report first, then hand out the entry */
                r->pending = *ev;
                r->has_pending = 1;
                return ev_error(r, ev, OPES_EBAD_TRACE, ev->offset);
            }
            return OPES_OK;
        }

        if (r->done)
            return OPES_ENOTFOUND;
        st = opes_header_field_parse(r->h ? r->h + r->pos : r->h, r->len - r->pos, r->flags, 1, &f,
                                     &used);
        if (st != OPES_OK) {
            r->done = 1;
            r->name.ptr = NULL;
            r->name.len = 0;
            r->cur_field = r->field;
            return ev_error(r, ev, st, (uint64_t)r->pos + f.error_offset);
        }
        if (f.kind != OPES_HEADER_KIND_FIELD) {
            r->done = 1;
            return OPES_ENOTFOUND;
        }
        r->cur_field = r->field++;
        r->name = f.name;
        if (opes_header_name_eq(&f, "OPES-System"))
            r->kind = K_SYSTEM;
        else if (opes_header_name_eq(&f, "OPES-Via"))
            r->kind = K_VIA;
        else if (opes_header_name_eq(&f, "OPES-Bypass"))
            r->kind = K_BYPASS;
        else
            r->kind = K_NONE;
        if (r->kind != K_NONE && ++r->nopes > OPES_TRACE_MAX_FIELDS) {
            r->kind = K_NONE;
            r->done = 1;
            return ev_error(r, ev, OPES_ETOO_MANY_ITEMS, (uint64_t)r->pos);
        }
        r->raw_len = f.raw.len;
        if (f.raw.ptr) {
            r->raw = f.raw.ptr;
            r->raw_off = (size_t)(f.raw.ptr - r->h);
        } else {
            r->raw = NULL;
            r->raw_off = r->pos;
        }
        r->cur.pos = 0;
        r->cur.count = 0;
        if (r->kind == K_SYSTEM) {
            r->sys_raw = r->raw;
            r->sys_raw_len = r->raw_len;
            r->sys_cached = 0;
            r->nsys++;
        }
        r->pos += used;
    }
}
