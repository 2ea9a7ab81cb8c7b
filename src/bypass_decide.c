/*
 * The bypass decision (docs/opes-smtp.md 7; RFC 3897 4, 4.3; RFC 4902
 * 3.2): for every recipient and configured service, apply, bypass or
 * refused, and the groups of recipients whose copies are processed alike.
 */
#include "internal.h"

#include "bypass_internal.h"

/* The deciding item of one source for one service: match is an
 * OPES_BYPASS_M_* (0: none), smaller is more specific. */
struct cand {
    int match;
    int source;
    size_t item;
};

/* 7 item 4: which phases a request from each source reaches (RFC 4902
 * 3.2: "Bypass request data added to the mail message cannot bypass OPES
 * services that operate on other SMTP dialog commands"). */
static int reaches(int source, int phase)
{
    switch (source) {
    case OPES_BYPASS_SRC_MAIL:
        return phase >= OPES_BYPASS_PHASE_MAIL;
    case OPES_BYPASS_SRC_RCPT:
        return phase >= OPES_BYPASS_PHASE_RCPT;
    case OPES_BYPASS_SRC_HEADER:
        return phase == OPES_BYPASS_PHASE_MESSAGE;
    default:
        return 0;
    }
}

static int id_eq(const opes_str *item, const opes_str *id)
{
    return id->len && opes__bypass_item_eq(item, id);
}

/* 7 item 3: does the item name any configured service, processor or
 * system? */
static int known(const opes_bypass_input *in, const opes_str *item)
{
    for (size_t s = 0; s < in->nservices; s++) {
        const opes_bypass_service *sv = &in->services[s];
        if (id_eq(item, &sv->id) || id_eq(item, &sv->processor) || id_eq(item, &sv->system))
            return 1;
    }
    return 0;
}

/* 7 item 2: how an item matches service s (OPES_BYPASS_M_*), item 3 (an
 * unknown item) aside. */
static int match_of(const opes_bypass_input *in, size_t s, const opes_str *item)
{
    const opes_bypass_service *sv = &in->services[s];
    if (item->len == 1 && item->ptr[0] == '*')
        return OPES_BYPASS_M_WILDCARD;
    if (id_eq(item, &sv->id))
        return OPES_BYPASS_M_ID;
    if (id_eq(item, &sv->processor))
        return OPES_BYPASS_M_PROCESSOR;
    if (id_eq(item, &sv->system))
        return OPES_BYPASS_M_SYSTEM;
    return OPES_BYPASS_M_NONE;
}

/* Services are decided in blocks of this many, so that the candidates of
 * a block fit on the stack and whether an item is known (a scan of every
 * service) is found once per item and block, not once per service. */
#define BLOCK 32

/* The most specific matching item of a list for each service s0..s0+nb-1
 * of a block (the first on a tie), into c[0..nb). */
static void best_of_block(const opes_bypass_input *in, size_t s0, size_t nb,
                          const opes_bypass_list *l, int source, struct cand *c)
{
    for (size_t k = 0; k < nb; k++) {
        c[k].match = OPES_BYPASS_M_NONE;
        c[k].source = OPES_BYPASS_SRC_NONE;
        c[k].item = 0;
    }
    for (size_t i = 0; i < l->count; i++) {
        const opes_str *item = &l->items[i];
        int kn = -1; /* known(): not asked yet */
        for (size_t k = 0; k < nb; k++) {
            int m;
            if (c[k].match == OPES_BYPASS_M_ID)
                continue; /* nothing is more specific */
            m = match_of(in, s0 + k, item);
            if (m == OPES_BYPASS_M_NONE) {
                /* RFC 3897 4.3: "MUST treat that URI as a wildcard
                 * identifier"; an item that is no URI at all equals nothing
                 * and lands here too (RFC 3897 4: bypass unless it is known
                 * for sure not to match) */
                if (kn < 0)
                    kn = known(in, item);
                if (!kn)
                    m = OPES_BYPASS_M_UNKNOWN;
            }
            if (m != OPES_BYPASS_M_NONE && (c[k].match == OPES_BYPASS_M_NONE || m < c[k].match)) {
                c[k].match = m;
                c[k].source = source;
                c[k].item = i;
            }
        }
    }
}

/* Pick the better of two candidates: the more specific, else the first. */
static void better(struct cand *best, const struct cand *c)
{
    if (c->match != OPES_BYPASS_M_NONE &&
        (best->match == OPES_BYPASS_M_NONE || c->match < best->match))
        *best = *c;
}

static int reason_of_match(int match)
{
    switch (match) {
    case OPES_BYPASS_M_ID:
        return OPES_BYPASS_R_MATCHED_ID;
    case OPES_BYPASS_M_PROCESSOR:
        return OPES_BYPASS_R_MATCHED_PROCESSOR;
    case OPES_BYPASS_M_SYSTEM:
        return OPES_BYPASS_R_MATCHED_SYSTEM;
    case OPES_BYPASS_M_WILDCARD:
        return OPES_BYPASS_R_WILDCARD;
    default:
        return OPES_BYPASS_R_UNKNOWN;
    }
}

static int list_ok(const opes_bypass_list *l)
{
    if (l->count && !l->items)
        return 0;
    for (size_t i = 0; i < l->count; i++)
        if (!l->items[i].ptr && l->items[i].len)
            return 0;
    return 1;
}

static opes_status id_ok(const opes_str *id, int required)
{
    opes_uri u;
    if (!id->ptr && id->len)
        return OPES_EINVAL;
    if (id->len == 0)
        return required ? OPES_EBAD_URI : OPES_OK;
    return opes_uri_parse(id->ptr, id->len, OPES_URI_ABSOLUTE, &u, NULL);
}

/* What a result puts into the trace, as one number (the grouping key):
 * two copies whose services run alike and are traced alike can stay one. */
static int trace_key(const opes_bypass_result *r)
{
    return r->decision * 16 + (r->decision == OPES_BYPASS_APPLY        ? 0
                               : r->decision == OPES_BYPASS_REFUSED    ? r->reason
                               : r->reason == OPES_BYPASS_R_ALLOW_LIST ? 1
                                                                       : 0);
}

static int same_row(const opes_bypass_result *res, size_t ns, size_t a, size_t b)
{
    for (size_t s = 0; s < ns; s++)
        if (trace_key(&res[a * ns + s]) != trace_key(&res[b * ns + s]))
            return 0;
    return 1;
}

/* Sections 7 items 4-7 for service s and recipient r, from the deciding
 * items of the header (h), MAIL (m) and r's RCPT (c). */
static void decide_one(const opes_bypass_input *in, size_t s, size_t r, const struct cand *h,
                       const struct cand *m, const struct cand *c, opes_bypass_result *res)
{
    const opes_bypass_service *sv = &in->services[s];
    struct cand any = {OPES_BYPASS_M_NONE, OPES_BYPASS_SRC_NONE, 0}, timely = any;
    /* 7 item 1: the union; ties go to MAIL, RCPT, header */
    better(&any, m);
    better(&any, c);
    better(&any, h);
    if (reaches(OPES_BYPASS_SRC_MAIL, sv->phase))
        better(&timely, m);
    if (reaches(OPES_BYPASS_SRC_RCPT, sv->phase))
        better(&timely, c);
    if (reaches(OPES_BYPASS_SRC_HEADER, sv->phase))
        better(&timely, h);

    res->item = 0;
    res->source = OPES_BYPASS_SRC_NONE;
    res->match = OPES_BYPASS_M_NONE;
    if (any.match != OPES_BYPASS_M_NONE && !sv->bypassable) {
        /* 7 item 5 (RFC 4902 3.2: "certain filters must not be bypassed"),
         * before item 4: a timelier request would be refused all the same */
        const struct cand *d = timely.match != OPES_BYPASS_M_NONE ? &timely : &any;
        res->decision = OPES_BYPASS_REFUSED;
        res->reason = OPES_BYPASS_R_NOT_BYPASSABLE;
        res->match = d->match;
        res->source = d->source;
        res->item = d->item;
        return;
    }
    if (timely.match != OPES_BYPASS_M_NONE) { /* 7 item 6 */
        res->decision = OPES_BYPASS_BYPASS;
        res->reason = reason_of_match(timely.match);
        res->match = timely.match;
        res->source = timely.source;
        res->item = timely.item;
        return;
    }
    /* 7 item 7: the allow-list, for a pair known from RCPT on */
    if (in->allow && sv->bypassable && sv->phase >= OPES_BYPASS_PHASE_RCPT &&
        in->allow(&in->sender, &in->recipients[r], s, in->allow_user) == 1) {
        res->decision = OPES_BYPASS_BYPASS;
        res->reason = OPES_BYPASS_R_ALLOW_LIST;
        return;
    }
    if (any.match != OPES_BYPASS_M_NONE) { /* 7 item 4 */
        res->decision = OPES_BYPASS_REFUSED;
        res->reason = OPES_BYPASS_R_TOO_LATE;
        res->match = any.match;
        res->source = any.source;
        res->item = any.item;
        return;
    }
    res->decision = OPES_BYPASS_APPLY;
    res->reason = OPES_BYPASS_R_NO_REQUEST;
}

/* see opes/bypass.h */
opes_status opes_bypass_decide(const opes_bypass_input *in, opes_bypass_result *results,
                               size_t nresults, size_t *groups, size_t *ngroups)
{
    size_t ns, nr, ng = 0;
    opes_status st;

    if (ngroups)
        *ngroups = 0;
    if (!in || !results || in->version != OPES_BYPASS_INPUT_VERSION || !in->services ||
        in->nservices == 0 || in->nrcpt == 0 || !list_ok(&in->header) || !list_ok(&in->mail) ||
        (in->allow && !in->recipients) || (!in->sender.ptr && in->sender.len))
        return OPES_EINVAL;
    ns = in->nservices;
    nr = in->nrcpt;
    if (nr > SIZE_MAX / ns)
        return OPES_EINVAL;
    if (nresults < nr * ns)
        return OPES_ENOSPC;
    for (size_t r = 0; r < nr; r++) {
        if (in->rcpt && !list_ok(&in->rcpt[r]))
            return OPES_EINVAL;
        if (in->recipients && !in->recipients[r].ptr && in->recipients[r].len)
            return OPES_EINVAL;
    }
    for (size_t s = 0; s < ns; s++) {
        const opes_bypass_service *sv = &in->services[s];
        if (sv->phase < OPES_BYPASS_PHASE_CONNECT || sv->phase > OPES_BYPASS_PHASE_MESSAGE)
            return OPES_EINVAL;
        if ((st = id_ok(&sv->id, 1)) != OPES_OK || (st = id_ok(&sv->processor, 0)) != OPES_OK ||
            (st = id_ok(&sv->system, 0)) != OPES_OK)
            return st;
    }

    /* Block by block of services, so that the header's and MAIL's
     * candidates are found once for all recipients. */
    for (size_t s0 = 0; s0 < ns; s0 += BLOCK) {
        size_t nb = ns - s0 < BLOCK ? ns - s0 : BLOCK;
        struct cand hb[BLOCK], mb[BLOCK], rb[BLOCK];
        best_of_block(in, s0, nb, &in->header, OPES_BYPASS_SRC_HEADER, hb);
        best_of_block(in, s0, nb, &in->mail, OPES_BYPASS_SRC_MAIL, mb);
        for (size_t r = 0; r < nr; r++) {
            static const opes_bypass_list none = {NULL, 0};
            best_of_block(in, s0, nb, in->rcpt ? &in->rcpt[r] : &none, OPES_BYPASS_SRC_RCPT, rb);
            for (size_t k = 0; k < nb; k++)
                decide_one(in, s0 + k, r, &hb[k], &mb[k], &rb[k], &results[r * ns + s0 + k]);
        }
    }

    /* Groups (7, last paragraph). A recipient joins the group of the first
     * earlier recipient with the same row; the first recipients of the
     * groups are found again by their numbers, which grow by one. */
    for (size_t r = 0; r < nr; r++) {
        size_t g = ng;
        if (groups) {
            size_t next = 0;
            for (size_t q = 0; q < r && next < ng; q++) {
                if (groups[q] != next)
                    continue; /* not the first of its group */
                if (same_row(results, ns, q, r)) {
                    g = next;
                    break;
                }
                next++;
            }
            groups[r] = g;
        } else {
            for (size_t q = 0; q < r; q++) {
                if (same_row(results, ns, q, r)) {
                    g = SIZE_MAX;
                    break;
                }
            }
        }
        if (g == ng)
            ng++;
    }
    if (ngroups)
        *ngroups = ng;
    return OPES_OK;
}

/* see opes/bypass.h */
opes_status opes_bypass_trace_words(const opes_bypass_result *r, const char **action,
                                    const char **bypass, const char **bypass_by)
{
    const char *a = NULL, *b = NULL, *by = NULL;
    if (!r)
        return OPES_EINVAL;
    switch (r->decision) {
    case OPES_BYPASS_APPLY:
        break;
    case OPES_BYPASS_BYPASS:
        /* docs/opes-smtp.md 3.3: action=bypassed; bypass-by=allow-list for
         * an out-of-band decision */
        a = "bypassed";
        if (r->reason == OPES_BYPASS_R_ALLOW_LIST)
            by = "allow-list";
        break;
    case OPES_BYPASS_REFUSED:
        if (r->reason == OPES_BYPASS_R_NOT_BYPASSABLE)
            b = "refused";
        else if (r->reason == OPES_BYPASS_R_TOO_LATE)
            b = "too-late";
        else
            return OPES_EINVAL;
        break;
    default:
        return OPES_EINVAL;
    }
    if (action)
        *action = a;
    if (bypass)
        *bypass = b;
    if (bypass_by)
        *bypass_by = by;
    return OPES_OK;
}

/* see opes/bypass.h */
const char *opes_bypass_decision_name(int decision)
{
    switch (decision) {
    case OPES_BYPASS_APPLY:
        return "apply";
    case OPES_BYPASS_BYPASS:
        return "bypass";
    case OPES_BYPASS_REFUSED:
        return "refused";
    default:
        return NULL;
    }
}

/* see opes/bypass.h */
const char *opes_bypass_reason_name(int reason)
{
    switch (reason) {
    case OPES_BYPASS_R_NO_REQUEST:
        return "no_request";
    case OPES_BYPASS_R_MATCHED_ID:
        return "matched_id";
    case OPES_BYPASS_R_MATCHED_PROCESSOR:
        return "matched_processor";
    case OPES_BYPASS_R_MATCHED_SYSTEM:
        return "matched_system";
    case OPES_BYPASS_R_WILDCARD:
        return "wildcard";
    case OPES_BYPASS_R_UNKNOWN:
        return "unknown_as_wildcard";
    case OPES_BYPASS_R_NOT_BYPASSABLE:
        return "not_bypassable";
    case OPES_BYPASS_R_TOO_LATE:
        return "too_late";
    case OPES_BYPASS_R_ALLOW_LIST:
        return "allow_list";
    default:
        return NULL;
    }
}

/* see opes/bypass.h */
const char *opes_bypass_source_name(int source)
{
    switch (source) {
    case OPES_BYPASS_SRC_NONE:
        return "none";
    case OPES_BYPASS_SRC_HEADER:
        return "header";
    case OPES_BYPASS_SRC_MAIL:
        return "mail";
    case OPES_BYPASS_SRC_RCPT:
        return "rcpt";
    default:
        return NULL;
    }
}
