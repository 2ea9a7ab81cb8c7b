/*
 * opes bypass decide: the bypass decision of docs/opes-smtp.md 7 for a
 * message, its MAIL request and its recipients' RCPT requests, from the
 * command line. A thin shell over <opes/bypass.h>; contract: docs/cli.md.
 */
#include <opes/opes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "jsonread.h"

static const char decide_help[] =
    "usage: opes bypass decide --services FILE [--sender ADDR] [--mail-bypass VALUE]\n"
    "                          (--rcpt ADDR [--rcpt-bypass VALUE])... [MESSAGE]\n"
    "Decide, for every recipient and configured service, apply, bypass or refused\n"
    "(docs/opes-smtp.md 7). FILE is a JSON list of services: {\"id\": URI,\n"
    "\"system\": URI, \"processor\": URI, \"phase\": \"connect\"|\"mail\"|\"rcpt\"|\"message\",\n"
    "\"bypassable\": true|false}. VALUEs are XOPES-BYPASS values as sent on the wire.\n"
    "The message (MESSAGE or stdin) is read for OPES-Bypass fields.\n";

/* A growing list of decoded items (each its own allocation). */
struct list {
    opes_str *items;
    char **own; /* the copies items[] view */
    size_t count, cap;
};

static int list_add(struct list *l, const char *p, size_t n)
{
    if (l->count == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 8;
        opes_str *ni = realloc(l->items, nc * sizeof *ni);
        if (!ni)
            return -1;
        l->items = ni;
        char **no = realloc(l->own, nc * sizeof *no);
        if (!no)
            return -1;
        l->own = no;
        l->cap = nc;
    }
    char *c = malloc(n ? n : 1);
    if (!c)
        return -1;
    memcpy(c, p, n);
    l->own[l->count] = c;
    l->items[l->count++] = (opes_str){c, n};
    return 0;
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->own[i]);
    free(l->items);
    free(l->own);
    l->items = NULL;
    l->own = NULL;
    l->count = l->cap = 0;
}

/* Decode an XOPES-BYPASS value as sent into l. 0, or -1 with a diagnostic. */
static int decode_value(const char *opt, const char *v, struct list *l)
{
    char item[OPES_BYPASS_MAX_VALUE];
    size_t pos = 0, n, err = 0;
    int star;
    opes_status st;
    while ((st = opes_bypass_param_next(v, strlen(v), 0, &pos, item, sizeof item, &n, &star,
                                        &err)) == OPES_OK)
        if (list_add(l, item, n) < 0)
            return -1;
    if (st != OPES_ENOTFOUND) {
        fprintf(stderr, "opes: %s '%s' refused at offset %zu: %s (%s)\n", opt, v, err,
                opes_strerror(st), opes_status_name(st));
        return -1;
    }
    return 0;
}

static int phase_of(const char *s, size_t len)
{
    if (strlen(s) != len) /* a decoded \u0000 inside: no phase name */
        return -1;
    static const char *const names[] = {"connect", "mail", "rcpt", "message"};
    static const int values[] = {OPES_BYPASS_PHASE_CONNECT, OPES_BYPASS_PHASE_MAIL,
                                 OPES_BYPASS_PHASE_RCPT, OPES_BYPASS_PHASE_MESSAGE};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return values[i];
    return -1;
}

/* Read the services file. 0, or the exit code with a diagnostic. */
static int load_services(const char *path, jv **root, opes_bypass_service **out, size_t *n)
{
    char *buf = NULL, err[160];
    size_t len = 0;
    int rc = load_input(path, &buf, &len);
    if (rc != EX_DONE)
        return EX_USAGE;
    *root = jv_parse(buf, len, err, sizeof err);
    free(buf);
    if (!*root) {
        fprintf(stderr, "opes: --services %s: not JSON: %s\n", path, err);
        return EX_USAGE;
    }
    if ((*root)->type != JV_ARRAY || (*root)->count == 0) {
        fprintf(stderr, "opes: --services %s: expected a non-empty JSON list\n", path);
        return EX_USAGE;
    }
    *out = calloc((*root)->count, sizeof **out);
    if (!*out)
        return EX_SOFTWARE;
    size_t i = 0;
    for (const jv *s = (*root)->child; s; s = s->next, i++) {
        const jv *id = jv_get(s, "id"), *sys = jv_get(s, "system"),
                 *proc = jv_get(s, "processor"), *ph = jv_get(s, "phase"),
                 *byp = jv_get(s, "bypassable");
        if (s->type != JV_OBJECT || !id || id->type != JV_STRING) {
            fprintf(stderr, "opes: --services %s: service %zu: \"id\" (a string) is required\n",
                    path, i);
            return EX_USAGE;
        }
        (*out)[i].id = (opes_str){id->str, id->len};
        if (sys && sys->type == JV_STRING)
            (*out)[i].system = (opes_str){sys->str, sys->len};
        else if (sys && sys->type != JV_NULL)
            goto bad;
        if (proc && proc->type == JV_STRING)
            (*out)[i].processor = (opes_str){proc->str, proc->len};
        else if (proc && proc->type != JV_NULL)
            goto bad;
        (*out)[i].phase = OPES_BYPASS_PHASE_MESSAGE;
        if (ph && (ph->type != JV_STRING || ((*out)[i].phase = phase_of(ph->str, ph->len)) < 0))
            goto bad;
        (*out)[i].bypassable = 1;
        if (byp && byp->type != JV_TRUE && byp->type != JV_FALSE)
            goto bad;
        if (byp)
            (*out)[i].bypassable = byp->type == JV_TRUE;
        continue;
    bad:
        fprintf(stderr,
                "opes: --services %s: service %zu: \"system\" and \"processor\" are strings, "
                "\"phase\" one of connect, mail, rcpt, message, \"bypassable\" a boolean\n",
                path, i);
        return EX_USAGE;
    }
    *n = (*root)->count;
    return EX_DONE;
}

static void put_list(json *j, const struct list *l)
{
    json_arr_begin(j);
    for (size_t i = 0; i < l->count; i++)
        json_str(j, l->items[i].ptr, l->items[i].len);
    json_arr_end(j);
}

static int bypass_decide(int argc, char **argv)
{
    const char *services_path = NULL, *path = NULL, *sender = "";
    struct list header = {0}, mail = {0};
    struct list *rcpt = calloc((size_t)argc, sizeof *rcpt);
    opes_str *addrs = calloc((size_t)argc, sizeof *addrs);
    opes_bypass_list *rlists = calloc((size_t)argc, sizeof *rlists);
    size_t nrcpt = 0, nsvc = 0, nerr = 0;
    opes_bypass_service *svcs = NULL;
    opes_bypass_result *res = NULL;
    size_t *groups = NULL, ngroups = 0;
    jv *root = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = EX_USAGE;
    struct {
        opes_status st;
        size_t offset;
    } errs[64];

    if (!rcpt || !addrs || !rlists) {
        rc = EX_SOFTWARE;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            fputs(decide_help, stdout);
            rc = EX_DONE;
            goto out;
        }
        if (a[0] == '-' && a[1] == '-' && !v) {
            usage_error("bypass decide: option needs a value", a);
            goto out;
        }
        if (strcmp(a, "--services") == 0) {
            services_path = v;
        } else if (strcmp(a, "--sender") == 0) {
            sender = v;
        } else if (strcmp(a, "--mail-bypass") == 0) {
            if (mail.count) {
                usage_error("bypass decide: --mail-bypass given twice", v);
                goto out;
            }
            if (decode_value(a, v, &mail) < 0)
                goto out;
        } else if (strcmp(a, "--rcpt") == 0) {
            addrs[nrcpt++] = (opes_str){v, strlen(v)};
        } else if (strcmp(a, "--rcpt-bypass") == 0) {
            if (nrcpt == 0) {
                usage_error("bypass decide: --rcpt-bypass belongs to a --rcpt before it", v);
                goto out;
            }
            if (rcpt[nrcpt - 1].count) {
                usage_error("bypass decide: --rcpt-bypass given twice for one --rcpt", v);
                goto out;
            }
            if (decode_value(a, v, &rcpt[nrcpt - 1]) < 0)
                goto out;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("bypass decide: unknown option", a);
            goto out;
        } else if (!path) {
            path = a;
            continue;
        } else {
            usage_error("bypass decide: extra argument", a);
            goto out;
        }
        i++;
    }
    if (!services_path || nrcpt == 0) {
        usage_error("bypass decide: --services and at least one --rcpt are required", NULL);
        goto out;
    }
    if ((rc = load_services(services_path, &root, &svcs, &nsvc)) != EX_DONE)
        goto out;

    /* the message's OPES-Bypass fields (3.4): several are one list; a field
     * that does not parse is reported and read as "*" (RFC 3897 4: a
     * processor that does not know for sure that a request does not match
     * a service must bypass it; services that may not be bypassed run) */
    if ((rc = load_input(path, &buf, &len)) != EX_DONE)
        goto out;
    rc = EX_SOFTWARE;
    {
        unsigned hflags = message_header_flags(buf, len);
        size_t off = 0;
        for (;;) {
            opes_header_field f;
            size_t used = 0;
            opes_status st = opes_header_field_parse(buf + off, len - off, hflags, 1, &f, &used);
            if (st != OPES_OK) {
                fprintf(stderr, "opes: bypass decide: the input is not a message: %s\n",
                        opes_strerror(st));
                rc = EX_NOTINPUT;
                goto out;
            }
            if (f.kind != OPES_HEADER_KIND_FIELD)
                break;
            off += used;
            if (!opes_header_name_eq(&f, "OPES-Bypass"))
                continue;
            size_t pos = 0, err = 0, before = header.count;
            opes_str item;
            while ((st = opes_bypass_header_next(f.raw.ptr, f.raw.len, &pos, &item, NULL,
                                                 &err)) == OPES_OK)
                if (list_add(&header, item.ptr, item.len) < 0)
                    goto out;
            if (st != OPES_ENOTFOUND) {
                while (header.count > before) /* the whole field is read as "*" */
                    free(header.own[--header.count]);
                if (list_add(&header, "*", 1) < 0)
                    goto out;
                if (nerr < sizeof errs / sizeof errs[0]) {
                    errs[nerr].st = st;
                    errs[nerr].offset = (size_t)(f.raw.ptr - buf) + err;
                }
                nerr++;
            }
        }
    }

    for (size_t r = 0; r < nrcpt; r++)
        rlists[r] = (opes_bypass_list){rcpt[r].items, rcpt[r].count};
    opes_bypass_input in;
    memset(&in, 0, sizeof in);
    in.version = OPES_BYPASS_INPUT_VERSION;
    in.services = svcs;
    in.nservices = nsvc;
    in.header = (opes_bypass_list){header.items, header.count};
    in.mail = (opes_bypass_list){mail.items, mail.count};
    in.rcpt = rlists;
    in.recipients = addrs;
    in.nrcpt = nrcpt;
    in.sender = (opes_str){sender, strlen(sender)};
    res = calloc(nrcpt * nsvc, sizeof *res);
    groups = calloc(nrcpt, sizeof *groups);
    if (!res || !groups)
        goto out;
    opes_status st = opes_bypass_decide(&in, res, nrcpt * nsvc, groups, &ngroups);
    if (st != OPES_OK) {
        fprintf(stderr, "opes: bypass decide: %s (%s)\n", opes_strerror(st),
                opes_status_name(st));
        rc = st == OPES_ENOMEM ? EX_SOFTWARE : EX_USAGE;
        goto out;
    }

    json j;
    json_init(&j, stdout);
    json_obj_begin(&j);
    json_key(&j, "header_bypass");
    put_list(&j, &header);
    json_key(&j, "mail_bypass");
    put_list(&j, &mail);
    json_key(&j, "groups");
    json_uint(&j, ngroups);
    json_key(&j, "recipients");
    json_arr_begin(&j);
    for (size_t r = 0; r < nrcpt; r++) {
        json_obj_begin(&j);
        json_key(&j, "address");
        json_str(&j, addrs[r].ptr, addrs[r].len);
        json_key(&j, "rcpt_bypass");
        put_list(&j, &rcpt[r]);
        json_key(&j, "group");
        json_uint(&j, groups[r]);
        json_key(&j, "services");
        json_arr_begin(&j);
        for (size_t s = 0; s < nsvc; s++) {
            const opes_bypass_result *x = &res[r * nsvc + s];
            const char *action = NULL, *bypass = NULL, *bypass_by = NULL;
            opes_bypass_trace_words(x, &action, &bypass, &bypass_by);
            json_obj_begin(&j);
            json_key(&j, "id");
            json_str(&j, svcs[s].id.ptr, svcs[s].id.len);
            json_key(&j, "decision");
            json_cstr(&j, opes_bypass_decision_name(x->decision));
            json_key(&j, "reason");
            json_cstr(&j, opes_bypass_reason_name(x->reason));
            json_key(&j, "source");
            json_cstr(&j, opes_bypass_source_name(x->source));
            json_key(&j, "trace");
            json_obj_begin(&j);
            json_key(&j, "action");
            json_cstr(&j, action);
            json_key(&j, "bypass");
            json_cstr(&j, bypass);
            json_key(&j, "bypass_by");
            json_cstr(&j, bypass_by);
            json_obj_end(&j);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_key(&j, "errors");
    json_arr_begin(&j);
    for (size_t i = 0; i < nerr && i < sizeof errs / sizeof errs[0]; i++) {
        json_obj_begin(&j);
        json_key(&j, "status");
        json_cstr(&j, opes_status_name(errs[i].st));
        json_key(&j, "message");
        json_cstr(&j, opes_strerror(errs[i].st));
        json_key(&j, "field");
        json_cstr(&j, "OPES-Bypass");
        json_key(&j, "offset");
        json_uint(&j, errs[i].offset);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_end_line(&j);
    rc = nerr ? EX_WANTING : EX_DONE;
out:
    if (rcpt)
        for (size_t r = 0; r < nrcpt; r++)
            list_free(&rcpt[r]);
    list_free(&header);
    list_free(&mail);
    free(rcpt);
    free(addrs);
    free(rlists);
    free(svcs);
    free(res);
    free(groups);
    jv_free(root);
    free(buf);
    return rc;
}

/* see cli.h */
int cmd_bypass(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "decide") == 0)
        return bypass_decide(argc - 1, argv + 1);
    usage_error("bypass: expected 'decide'", argc >= 2 ? argv[1] : NULL);
    return EX_USAGE;
}
