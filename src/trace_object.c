/*
 * The processor's trace duties (docs/opes-smtp.md 4; RFC 4902 3.1): record
 * the trace fields before the services run, record each service, verify that
 * the recorded fields survived, prepend the trace block (3.5).
 *
 * Memory: set_system/set_privacy/set_processor copy their URI; begin()
 * copies the recorded fields into one arena and sizes every array verify()
 * needs; service() copies its URI into a second arena. verify() and emit()
 * never allocate.
 */
#include "internal.h"

#include "opes_internal.h"
#include "trace_internal.h"

#define NONE SIZE_MAX

enum { ST_IDLE = 0, ST_BEGUN = 1 };

typedef struct trace_rec {
    size_t off, len; /* the whole field in t->arena */
    size_t name_len; /* the name starts the field */
    uint64_t hash;
    size_t same;      /* verify: the nearest earlier identical record, or NONE */
    size_t match;     /* verify: index in t->cur, or NONE */
    size_t prev;      /* verify: the previous record of its increasing run */
    size_t next_keep; /* verify: t->cur index of the next kept record, or ncur */
    int keep;
} trace_rec;

typedef struct trace_cur {
    size_t off, len; /* the whole field in the verified header */
    size_t name_len;
    uint64_t hash;
    int used;
} trace_cur;

typedef struct trace_svc {
    size_t off, len; /* the id in t->sarena */
    int action, bypass;
} trace_svc;

struct opes_trace {
    opes_allocator alloc;
    int has_alloc;
    /* settings */
    char *sys, *priv, *proc;
    size_t sys_len, priv_len, proc_len;
    int consent, consent_by;
    unsigned hflags;
    /* the message */
    int state;
    int need_verify; /* a service was recorded since the last good verify */
    int tampered;    /* the last verify failed */
    char *arena;
    size_t arena_len, arena_cap;
    trace_rec *recs;
    size_t nrecs, recs_cap;
    size_t *tails;          /* tails_cap entries */
    opes_trace_damage *dmg; /* dmg_cap entries */
    size_t tails_cap, dmg_cap;
    size_t ndmg;
    trace_cur *cur; /* OPES_TRACE_MAX_FIELDS entries, allocated by begin() */
    trace_svc *svcs;
    size_t nsvcs, svcs_cap;
    char *sarena;
    size_t sarena_len, sarena_cap;
};

static const opes_allocator *A(const opes_trace *t)
{
    return t->has_alloc ? &t->alloc : NULL;
}

/* Grow *p (elements of size elem, capacity *cap) to hold need elements.
 * 0 on success, -1 on allocation failure (nothing changed). */
static int grow(opes_trace *t, void **p, size_t *cap, size_t need, size_t elem, size_t used)
{
    size_t ncap;
    void *np;
    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > SIZE_MAX / elem)
        return -1;
    np = opes__alloc(A(t), ncap * elem);
    if (!np)
        return -1;
    if (used)
        memcpy(np, *p, used * elem);
    opes__free(A(t), *p, *cap * elem);
    *p = np;
    *cap = ncap;
    return 0;
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* see opes/trace.h */
opes_status opes_trace_new(opes_trace **out, const opes_allocator *alloc)
{
    opes_trace *t;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    t = opes__alloc(alloc, sizeof *t);
    if (!t)
        return OPES_ENOMEM;
    memset(t, 0, sizeof *t);
    if (alloc) {
        t->alloc = *alloc;
        t->has_alloc = 1;
    }
    *out = t;
    return OPES_OK;
}

/* see opes/trace.h */
void opes_trace_free(opes_trace *t)
{
    opes_allocator a;
    int has;
    if (!t)
        return;
    opes__free(A(t), t->sys, t->sys_len);
    opes__free(A(t), t->priv, t->priv_len);
    opes__free(A(t), t->proc, t->proc_len);
    opes__free(A(t), t->arena, t->arena_cap);
    opes__free(A(t), t->recs, t->recs_cap * sizeof *t->recs);
    opes__free(A(t), t->tails, t->tails_cap * sizeof *t->tails);
    opes__free(A(t), t->dmg, t->dmg_cap * sizeof *t->dmg);
    opes__free(A(t), t->cur, OPES_TRACE_MAX_FIELDS * sizeof *t->cur);
    opes__free(A(t), t->svcs, t->svcs_cap * sizeof *t->svcs);
    opes__free(A(t), t->sarena, t->sarena_cap);
    a = t->alloc;
    has = t->has_alloc;
    opes__free(has ? &a : NULL, t, sizeof *t);
}

/* see opes/trace.h */
void opes_trace_reset(opes_trace *t)
{
    if (!t)
        return;
    t->state = ST_IDLE;
    t->need_verify = t->tampered = 0;
    t->arena_len = t->nrecs = t->ndmg = t->nsvcs = t->sarena_len = 0;
}

/* Replace a copied setting. */
static opes_status set_copy(opes_trace *t, char **dst, size_t *dlen, const char *uri, size_t len,
                            unsigned uri_flags)
{
    char *p = NULL;
    opes_status st;
    if (!t || (!uri && len))
        return OPES_EINVAL;
    if (t->state != ST_IDLE)
        return OPES_ESTATE;
    if (len) {
        st = opes__trace_id_check(uri, len, uri_flags);
        if (st != OPES_OK)
            return st;
        p = opes__alloc(A(t), len);
        if (!p)
            return OPES_ENOMEM;
        memcpy(p, uri, len);
    }
    opes__free(A(t), *dst, *dlen);
    *dst = p;
    *dlen = len;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_set_system(opes_trace *t, const char *uri, size_t len)
{
    if (t && len == 0)
        return OPES_EBAD_URI; /* an empty string is no absolute-URI */
    return t ? set_copy(t, &t->sys, &t->sys_len, uri, len, OPES_URI_ABSOLUTE) : OPES_EINVAL;
}

/* see opes/trace.h */
opes_status opes_trace_set_privacy(opes_trace *t, const char *uri, size_t len)
{
    /* docs/opes-smtp.md 3.2: an absolute-URI or a URI (RFC 3986 3) */
    return t ? set_copy(t, &t->priv, &t->priv_len, uri, len, 0) : OPES_EINVAL;
}

/* see opes/trace.h */
opes_status opes_trace_set_processor(opes_trace *t, const char *uri, size_t len)
{
    return t ? set_copy(t, &t->proc, &t->proc_len, uri, len, OPES_URI_ABSOLUTE) : OPES_EINVAL;
}

/* see opes/trace.h */
opes_status opes_trace_set_consent(opes_trace *t, int party, int how)
{
    if (!t || party < OPES_TRACE_CONSENT_UNSET || party > OPES_TRACE_CONSENT_RECIPIENT ||
        how < OPES_TRACE_CONSENT_BY_UNSET || how > OPES_TRACE_CONSENT_BY_POLICY)
        return OPES_EINVAL;
    if (t->state != ST_IDLE)
        return OPES_ESTATE;
    t->consent = party;
    t->consent_by = how;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_set_header_flags(opes_trace *t, unsigned flags)
{
    if (!t || (flags & ~(unsigned)(OPES_HEADER_LF | OPES_HEADER_UTF8 | OPES_HEADER_8BIT)))
        return OPES_EINVAL;
    if (t->state != ST_IDLE)
        return OPES_ESTATE;
    t->hflags = flags;
    return OPES_OK;
}

/* The fields docs/opes-smtp.md 4 rule 1 records. */
static int is_trace_field(const opes_header_field *f)
{
    return opes_header_name_eq(f, "Received") || opes_header_name_eq(f, "Return-Path") ||
           opes_header_name_eq(f, "OPES-System") || opes_header_name_eq(f, "OPES-Via");
}

/* The next field of h[*pos..len): OPES_OK, OPES_ENOTFOUND at the end of the
 * section, or the parser's error. */
static opes_status next_field(const char *h, size_t len, unsigned flags, size_t *pos,
                              opes_header_field *f)
{
    size_t used = 0;
    opes_status st = opes_header_field_parse(h ? h + *pos : h, len - *pos, flags, 1, f, &used);
    if (st != OPES_OK)
        return st;
    if (f->kind != OPES_HEADER_KIND_FIELD)
        return OPES_ENOTFOUND;
    *pos += used;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_begin(opes_trace *t, const char *header, size_t len)
{
    size_t pos = 0, count = 0, bytes = 0;
    opes_header_field f;
    opes_status st;

    if (!t || (!header && len))
        return OPES_EINVAL;
    if (t->state != ST_IDLE || !t->sys)
        return OPES_ESTATE;
    /* pass 1: count */
    while ((st = next_field(header, len, t->hflags, &pos, &f)) == OPES_OK) {
        if (!is_trace_field(&f))
            continue;
        if (++count > OPES_TRACE_MAX_FIELDS)
            return OPES_ETOO_MANY_ITEMS;
        bytes += f.whole.len; /* <= the header's length: no overflow */
    }
    if (st != OPES_ENOTFOUND)
        return st;
    /* the memory verify() needs, now */
    if (!t->cur) {
        t->cur = opes__alloc(A(t), OPES_TRACE_MAX_FIELDS * sizeof *t->cur);
        if (!t->cur)
            return OPES_ENOMEM;
    }
    {
        void *p = t->recs, *q = t->tails, *r = t->dmg;
        int bad = grow(t, &p, &t->recs_cap, count, sizeof *t->recs, 0);
        t->recs = p;
        if (!bad) {
            bad = grow(t, &q, &t->tails_cap, count, sizeof *t->tails, 0);
            t->tails = q;
        }
        if (!bad) {
            bad = grow(t, &r, &t->dmg_cap, count, sizeof *t->dmg, 0);
            t->dmg = r;
        }
        if (bad)
            return OPES_ENOMEM;
    }
    {
        void *p = t->arena;
        if (grow(t, &p, &t->arena_cap, bytes, 1, 0))
            return OPES_ENOMEM;
        t->arena = p;
    }
    /* pass 2: copy */
    t->arena_len = t->nrecs = 0;
    pos = 0;
    while (next_field(header, len, t->hflags, &pos, &f) == OPES_OK) {
        trace_rec *r;
        if (!is_trace_field(&f))
            continue;
        r = &t->recs[t->nrecs++];
        r->off = t->arena_len;
        r->len = f.whole.len;
        r->name_len = f.name.len;
        r->hash = fnv1a(f.whole.ptr, f.whole.len);
        memcpy(t->arena + t->arena_len, f.whole.ptr, f.whole.len);
        t->arena_len += f.whole.len;
    }
    t->state = ST_BEGUN;
    t->need_verify = t->tampered = 0;
    t->ndmg = t->nsvcs = t->sarena_len = 0;
    return OPES_OK;
}

/* see opes/trace.h */
opes_status opes_trace_service(opes_trace *t, const char *uri, size_t len, int action, int bypass)
{
    opes_status st;
    size_t limit;
    void *p;

    if (!t || (!uri && len) || action < OPES_TRACE_ACTION_NONE ||
        action > OPES_TRACE_ACTION_BYPASSED || bypass < OPES_TRACE_BYPASS_NONE ||
        bypass > OPES_TRACE_BYPASS_ALLOW_LIST)
        return OPES_EINVAL;
    /* docs/opes-smtp.md 3.3, 7: refused and too-late mean the service ran;
     * allow-list means it did not */
    if ((bypass == OPES_TRACE_BYPASS_REFUSED || bypass == OPES_TRACE_BYPASS_TOO_LATE) &&
        action == OPES_TRACE_ACTION_BYPASSED)
        return OPES_EINVAL;
    if (bypass == OPES_TRACE_BYPASS_ALLOW_LIST && action != OPES_TRACE_ACTION_BYPASSED)
        return OPES_EINVAL;
    if (t->state != ST_BEGUN)
        return OPES_ESTATE;
    if (len == 0)
        return OPES_EBAD_URI;
    st = opes__trace_id_check(uri, len, OPES_URI_ABSOLUTE);
    if (st != OPES_OK)
        return st;
    /* the OPES-Via field: the system, the processor, the services */
    limit = OPES_TRACE_MAX_ENTRIES - 1 - (t->proc ? 1 : 0);
    if (t->nsvcs >= limit)
        return OPES_ETOO_MANY_ITEMS;
    p = t->svcs;
    if (grow(t, &p, &t->svcs_cap, t->nsvcs + 1, sizeof *t->svcs, t->nsvcs))
        return OPES_ENOMEM;
    t->svcs = p;
    p = t->sarena;
    if (grow(t, &p, &t->sarena_cap, t->sarena_len + len, 1, t->sarena_len))
        return OPES_ENOMEM;
    t->sarena = p;
    memcpy(t->sarena + t->sarena_len, uri, len);
    t->svcs[t->nsvcs].off = t->sarena_len;
    t->svcs[t->nsvcs].len = len;
    t->svcs[t->nsvcs].action = action;
    t->svcs[t->nsvcs].bypass = bypass;
    t->sarena_len += len;
    t->nsvcs++;
    t->need_verify = 1;
    return OPES_OK;
}

static int same_name(const char *a, size_t an, const char *b, size_t bn)
{
    return opes__ieq2(a, an, b, bn);
}

/* Is the current field c byte for byte the recorded r? */
static int rec_is(const opes_trace *t, const trace_rec *r, const char *header, const trace_cur *c)
{
    return c->hash == r->hash && c->len == r->len &&
           memcmp(header + c->off, t->arena + r->off, r->len) == 0;
}

/* see opes/trace.h */
opes_status opes_trace_verify(opes_trace *t, const char *header, size_t len)
{
    size_t pos = 0, ncur = 0, i, j, nt = 0, last_kept;
    opes_header_field f;
    opes_status st;

    if (!t || (!header && len))
        return OPES_EINVAL;
    if (t->state != ST_BEGUN)
        return OPES_ESTATE;
    t->ndmg = 0;
    t->tampered = 1; /* until shown otherwise */
    while ((st = next_field(header, len, t->hflags, &pos, &f)) == OPES_OK) {
        trace_cur *c;
        if (!is_trace_field(&f))
            continue;
        if (ncur >= OPES_TRACE_MAX_FIELDS)
            return OPES_ETOO_MANY_ITEMS;
        c = &t->cur[ncur++];
        c->off = (size_t)(f.whole.ptr - header);
        c->len = f.whole.len;
        c->name_len = f.name.len;
        c->hash = fnv1a(f.whole.ptr, f.whole.len);
        c->used = 0;
    }
    if (st != OPES_ENOTFOUND)
        return st;

    /* 0. intact when the recorded fields are still there in their order,
     * whatever was added around them (4 rule 3): the greedy leftmost
     * embedding finds one whenever one exists. One pass: each current field
     * is compared with one record at most. */
    for (i = j = 0; i < t->nrecs && j < ncur; j++)
        if (rec_is(t, &t->recs[i], header, &t->cur[j]))
            i++;
    if (i == t->nrecs) {
        t->tampered = 0;
        t->need_verify = 0;
        return OPES_OK;
    }

    /* 1. pair the n-th of identical records with the n-th identical current
     * field: each record with the first identical field after its nearest
     * identical predecessor's (one content comparison per record when
     * fields repeat, not one per earlier copy) */
    for (i = 0; i < t->nrecs; i++) {
        trace_rec *r = &t->recs[i];
        size_t start = 0;
        r->match = NONE;
        r->keep = 0;
        r->same = NONE;
        for (j = i; j-- > 0;) {
            const trace_rec *q = &t->recs[j];
            if (q->hash == r->hash && q->len == r->len &&
                memcmp(t->arena + q->off, t->arena + r->off, r->len) == 0) {
                r->same = j;
                break;
            }
        }
        if (r->same != NONE)
            start = t->recs[r->same].match == NONE ? ncur : t->recs[r->same].match + 1;
        for (j = start; j < ncur; j++) {
            if (rec_is(t, r, header, &t->cur[j])) {
                r->match = j;
                t->cur[j].used = 1;
                break;
            }
        }
    }
    /* 2. the longest run of pairs in recorded order (longest increasing
     * subsequence of the match positions, O(m log m)); the rest moved */
    for (i = 0; i < t->nrecs; i++) {
        trace_rec *r = &t->recs[i];
        size_t lo = 0, hi = nt;
        if (r->match == NONE)
            continue;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (t->recs[t->tails[mid]].match < r->match)
                lo = mid + 1;
            else
                hi = mid;
        }
        r->prev = lo ? t->tails[lo - 1] : NONE;
        t->tails[lo] = i;
        if (lo == nt)
            nt++;
    }
    if (nt) {
        size_t k = t->tails[nt - 1];
        while (k != NONE) {
            t->recs[k].keep = 1;
            k = t->recs[k].prev;
        }
    }
    /* the position of the next kept record, for each record */
    {
        size_t nk = ncur;
        for (i = t->nrecs; i-- > 0;) {
            t->recs[i].next_keep = nk;
            if (t->recs[i].keep)
                nk = t->recs[i].match;
        }
    }
    /* 3. the damage, in recorded order */
    last_kept = NONE;
    for (i = 0; i < t->nrecs; i++) {
        trace_rec *r = &t->recs[i];
        opes_trace_damage *d;
        if (r->keep) {
            last_kept = r->match;
            continue;
        }
        d = &t->dmg[t->ndmg++];
        d->index = i;
        d->name.ptr = t->arena + r->off;
        d->name.len = r->name_len;
        d->original.ptr = t->arena + r->off;
        d->original.len = r->len;
        if (r->match != NONE) {
            d->kind = OPES_TRACE_DAMAGE_MOVED;
            d->offset = t->cur[r->match].off;
            continue;
        }
        d->kind = OPES_TRACE_DAMAGE_DELETED;
        d->offset = UINT64_MAX;
        for (j = last_kept == NONE ? 0 : last_kept + 1; j < r->next_keep && j < ncur; j++) {
            trace_cur *c = &t->cur[j];
            if (!c->used &&
                same_name(header + c->off, c->name_len, t->arena + r->off, r->name_len)) {
                c->used = 1;
                d->kind = OPES_TRACE_DAMAGE_ALTERED;
                d->offset = c->off;
                break;
            }
        }
    }
    if (t->ndmg)
        return OPES_ETRACE_TAMPERED;
    t->tampered = 0;
    t->need_verify = 0;
    return OPES_OK;
}

/* see opes/trace.h */
size_t opes_trace_damage_count(const opes_trace *t)
{
    return t ? t->ndmg : 0;
}

/* see opes/trace.h */
opes_status opes_trace_damage_get(const opes_trace *t, size_t i, opes_trace_damage *d)
{
    if (!t || !d)
        return OPES_EINVAL;
    if (i >= t->ndmg)
        return OPES_ENOTFOUND;
    *d = t->dmg[i];
    return OPES_OK;
}

/* see opes/trace.h */
size_t opes_trace_recorded_count(const opes_trace *t)
{
    return t && t->state == ST_BEGUN ? t->nrecs : 0;
}

/* see opes/trace.h */
opes_status opes_trace_recorded_get(const opes_trace *t, size_t i, opes_str *name, opes_str *whole)
{
    if (!t || !name || !whole)
        return OPES_EINVAL;
    if (t->state != ST_BEGUN || i >= t->nrecs)
        return OPES_ENOTFOUND;
    name->ptr = t->arena + t->recs[i].off;
    name->len = t->recs[i].name_len;
    whole->ptr = name->ptr;
    whole->len = t->recs[i].len;
    return OPES_OK;
}

static const char *const consent_names[] = {NULL, "sender", "recipient"};
static const char *const consent_by_names[] = {NULL, "direct", "policy"};

static void put_token_param(opes__trace_sink *s, const char *name, const char *val)
{
    opes__trace_put_param(s, name, strlen(name), val, strlen(val));
}

/* see opes/trace.h */
opes_status opes_trace_emit(opes_trace *t, char *dst, size_t cap, size_t *len, unsigned flags)
{
    opes__wr w;
    opes__trace_fold f;
    opes__trace_sink s;
    opes_status st;
    int lf;
    size_t i;

    if (!t || !OPES__BUILD_ARGS_OK(dst, cap, len) || (flags & ~(unsigned)OPES_HEADER_LF))
        return OPES_EINVAL;
    *len = 0;
    /* docs/opes-smtp.md 4 rule 3: verification is a MUST */
    if (t->state != ST_BEGUN || t->need_verify || t->tampered)
        return OPES_ESTATE;
    lf = ((flags | t->hflags) & OPES_HEADER_LF) != 0;
    opes__wr_init(&w, dst, cap);

    /* OPES-System: the system entry (3.2) */
    opes__trace_fold_init(&f, &w, "OPES-System", 11, lf);
    opes__trace_sink_init(&s, &w, &f);
    opes__trace_put_id(&s, t->sys, t->sys_len);
    if (t->priv)
        opes__trace_put_param(&s, "privacy", 7, t->priv, t->priv_len);
    if (t->consent)
        put_token_param(&s, "consent", consent_names[t->consent]);
    if (t->consent_by)
        put_token_param(&s, "consent-by", consent_by_names[t->consent_by]);
    st = opes__trace_fold_finish(&f);
    if (st != OPES_OK)
        return st;

    /* OPES-Via (3.3), when there is a processor or a service */
    if (t->proc || t->nsvcs) {
        opes__trace_fold_init(&f, &w, "OPES-Via", 8, lf);
        opes__trace_put_id(&s, t->sys, t->sys_len);
        if (t->proc) {
            opes__trace_sink_put(&s, ", ", 2);
            opes__trace_put_id(&s, t->proc, t->proc_len);
            put_token_param(&s, "role", "processor");
        }
        for (i = 0; i < t->nsvcs; i++) {
            const trace_svc *v = &t->svcs[i];
            opes__trace_sink_put(&s, ", ", 2);
            opes__trace_put_id(&s, t->sarena + v->off, v->len);
            put_token_param(&s, "action", opes_trace_action_name(v->action));
            if (v->bypass == OPES_TRACE_BYPASS_REFUSED)
                put_token_param(&s, "bypass", "refused");
            else if (v->bypass == OPES_TRACE_BYPASS_TOO_LATE)
                put_token_param(&s, "bypass", "too-late");
            else if (v->bypass == OPES_TRACE_BYPASS_ALLOW_LIST)
                put_token_param(&s, "bypass-by", "allow-list");
        }
        st = opes__trace_fold_finish(&f);
        if (st != OPES_OK)
            return st;
    }
    return opes__wr_finish(&w, len);
}
