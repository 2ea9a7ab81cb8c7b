/*
 * opes trace add | trace show, and opes reply: the OPES trace of a message
 * (docs/opes-smtp.md 3, 4, 6) from the command line. A thin shell over
 * <opes/trace.h>; the contract is docs/cli.md.
 */
#include <opes/opes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

/* The header errors that mean "this is not a message": nothing is judged. */
static int is_header_error(int st)
{
    switch (st) {
    case OPES_EBAD_HEADER:
    case OPES_EBAD_HEADER_NAME:
    case OPES_EBARE_CR:
    case OPES_EBARE_LF:
    case OPES_EBAD_CHAR:
    case OPES_EBAD_UTF8:
    case OPES_EHEADER_LINE_TOO_LONG:
    case OPES_EHEADER_TOO_LONG:
        return 1;
    default:
        return 0;
    }
}

static void refused(const char *what, const char *value, opes_status st)
{
    fprintf(stderr, "opes: %s '%s' refused: %s (%s)\n", what, value, opes_strerror(st),
            opes_status_name(st));
}

static int word_index(const char *const *words, const char *w)
{
    for (int i = 0; words[i]; i++)
        if (strcmp(words[i], w) == 0)
            return i;
    return -1;
}

/* ---- trace add --------------------------------------------------------------- */

static const char trace_add_help[] =
    "usage: opes trace add --system URI [--privacy URI] [--consent sender|recipient]\n"
    "                      [--consent-by direct|policy] [--processor URI]\n"
    "                      [--service URI [--action ACTION] [--bypass KIND]]... [FILE]\n"
    "Prepend this OPES system's trace block (docs/opes-smtp.md 3.5) to the message\n"
    "(FILE or stdin) and write the message on stdout. ACTION: none (default),\n"
    "modified, rejected, quarantined, redirected, bypassed. KIND: refused, too-late,\n"
    "allow-list. Each --action and --bypass belongs to the --service before it.\n";

static const char *const actions[] = {"none",        "modified",   "rejected",
                                      "quarantined", "redirected", "bypassed", NULL};
static const char *const bypass_kinds[] = {"none", "refused", "too-late", "allow-list", NULL};

struct svc {
    const char *id;
    int action;
    int bypass;
};

static int trace_add(int argc, char **argv)
{
    const char *system = NULL, *privacy = NULL, *processor = NULL, *path = NULL;
    int consent = OPES_TRACE_CONSENT_UNSET, consent_by = OPES_TRACE_CONSENT_BY_UNSET;
    struct svc *svcs = calloc((size_t)argc, sizeof *svcs);
    size_t nsvc = 0;
    int rc = EX_USAGE;
    char *buf = NULL, *out = NULL;
    size_t len = 0;
    opes_trace *t = NULL;
    opes_status st;

    if (!svcs)
        return EX_SOFTWARE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            fputs(trace_add_help, stdout);
            rc = EX_DONE;
            goto out;
        }
        if (a[0] == '-' && a[1] == '-' && !v) {
            usage_error("trace add: option needs a value", a);
            goto out;
        }
        if (strcmp(a, "--system") == 0) {
            system = v;
        } else if (strcmp(a, "--privacy") == 0) {
            privacy = v;
        } else if (strcmp(a, "--processor") == 0) {
            processor = v;
        } else if (strcmp(a, "--consent") == 0) {
            int k = word_index((const char *const[]){"sender", "recipient", NULL}, v);
            if (k < 0) {
                usage_error("trace add: --consent takes sender or recipient", v);
                goto out;
            }
            consent = k == 0 ? OPES_TRACE_CONSENT_SENDER : OPES_TRACE_CONSENT_RECIPIENT;
        } else if (strcmp(a, "--consent-by") == 0) {
            int k = word_index((const char *const[]){"direct", "policy", NULL}, v);
            if (k < 0) {
                usage_error("trace add: --consent-by takes direct or policy", v);
                goto out;
            }
            consent_by = k == 0 ? OPES_TRACE_CONSENT_BY_DIRECT : OPES_TRACE_CONSENT_BY_POLICY;
        } else if (strcmp(a, "--service") == 0) {
            svcs[nsvc].id = v;
            svcs[nsvc].action = OPES_TRACE_ACTION_NONE;
            svcs[nsvc].bypass = OPES_TRACE_BYPASS_NONE;
            nsvc++;
        } else if (strcmp(a, "--action") == 0 || strcmp(a, "--bypass") == 0) {
            int is_action = a[2] == 'a';
            int k = word_index(is_action ? actions : bypass_kinds, v);
            if (nsvc == 0) {
                usage_error("trace add: this option belongs to a --service before it", a);
                goto out;
            }
            if (k < 0) {
                usage_error(is_action ? "trace add: unknown action" : "trace add: unknown bypass kind",
                            v);
                goto out;
            }
            if (is_action)
                svcs[nsvc - 1].action = k;
            else
                svcs[nsvc - 1].bypass = k;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("trace add: unknown option", a);
            goto out;
        } else if (!path) {
            path = a;
            continue;
        } else {
            usage_error("trace add: extra argument", a);
            goto out;
        }
        i++;
    }
    if (!system) {
        usage_error("trace add: --system is required", NULL);
        goto out;
    }

    /* every value is judged before a byte is read or written */
    rc = EX_SOFTWARE;
    if (opes_trace_new(&t, NULL) != OPES_OK)
        goto out;
    rc = EX_USAGE;
    if ((st = opes_trace_set_system(t, system, strlen(system))) != OPES_OK) {
        refused("--system", system, st);
        goto out;
    }
    if (privacy && (st = opes_trace_set_privacy(t, privacy, strlen(privacy))) != OPES_OK) {
        refused("--privacy", privacy, st);
        goto out;
    }
    if (processor &&
        (st = opes_trace_set_processor(t, processor, strlen(processor))) != OPES_OK) {
        refused("--processor", processor, st);
        goto out;
    }
    if ((st = opes_trace_set_consent(t, consent, consent_by)) != OPES_OK) {
        refused("--consent", "", st);
        goto out;
    }

    if ((rc = load_input(path, &buf, &len)) != EX_DONE)
        goto out;
    rc = EX_USAGE;
    unsigned hflags = message_header_flags(buf, len);
    if ((st = opes_trace_set_header_flags(t, hflags)) != OPES_OK) {
        rc = EX_SOFTWARE;
        goto out;
    }
    /* rule 1: the trace as received, before any service */
    st = opes_trace_begin(t, buf, len);
    if (st != OPES_OK) {
        fprintf(stderr, "opes: trace add: the input is not a message: %s (%s)\n",
                opes_strerror(st), opes_status_name(st));
        rc = st == OPES_ENOMEM ? EX_SOFTWARE : EX_NOTINPUT;
        goto out;
    }
    /* rule 2: the services, in the order given */
    for (size_t i = 0; i < nsvc; i++) {
        st = opes_trace_service(t, svcs[i].id, strlen(svcs[i].id), svcs[i].action,
                                svcs[i].bypass);
        if (st != OPES_OK) {
            refused("--service", svcs[i].id, st);
            if (st == OPES_EINVAL)
                fprintf(stderr, "opes: (refused and too-late need an action other than "
                                "bypassed; allow-list needs bypassed)\n");
            rc = st == OPES_ENOMEM ? EX_SOFTWARE : EX_USAGE;
            goto out;
        }
    }
    /* rule 3: nothing here changes the message, but the rule is kept */
    st = opes_trace_verify(t, buf, len);
    if (st != OPES_OK) {
        fprintf(stderr, "opes: trace add: %s\n", opes_strerror(st));
        rc = EX_SOFTWARE;
        goto out;
    }
    /* rule 4: the block, then the message as it came, byte for byte */
    size_t need = 0;
    st = opes_trace_emit(t, NULL, 0, &need, 0);
    if (st != OPES_ENOSPC && st != OPES_OK) {
        fprintf(stderr, "opes: trace add: %s (%s)\n", opes_strerror(st), opes_status_name(st));
        rc = EX_USAGE;
        goto out;
    }
    rc = EX_SOFTWARE;
    out = malloc(need ? need : 1);
    if (!out || opes_trace_emit(t, out, need, &need, 0) != OPES_OK)
        goto out;
    if (fwrite(out, 1, need, stdout) != need || fwrite(buf, 1, len, stdout) != len ||
        fflush(stdout) != 0) {
        fprintf(stderr, "opes: trace add: cannot write the output\n");
        goto out;
    }
    rc = EX_DONE;
out:
    opes_trace_free(t);
    free(out);
    free(buf);
    free(svcs);
    return rc;
}

/* ---- trace show -------------------------------------------------------------- */

static const char trace_show_help[] =
    "usage: opes trace show [FILE]\n"
    "Read a message (FILE or stdin) and print its OPES trace as one JSON object:\n"
    "valid, systems, services (path order, oldest first), bypass, errors.\n"
    "Exit 1 when the trace is invalid, 2 when the input is not a message.\n";

struct item {
    opes_trace_event ev;
    size_t seq;
};

/* oldest first: the highest block number first (the path reads bottom-up),
 * a field with no system above it (block SIZE_MAX) newest of all; input
 * order within a block */
static int item_cmp(const void *pa, const void *pb)
{
    const struct item *a = pa, *b = pb;
    size_t ka = a->ev.block == SIZE_MAX ? 0 : a->ev.block + 1;
    size_t kb = b->ev.block == SIZE_MAX ? 0 : b->ev.block + 1;
    if (ka != kb)
        return ka > kb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void put_params(json *j, const opes_trace_entry *e)
{
    opes_trace_param p;
    size_t pos = 0;
    json_obj_begin(j);
    while (opes_trace_param_next(e, &pos, &p) == OPES_OK) {
        char name[128];
        size_t n = p.name.len < sizeof name - 1 ? p.name.len : sizeof name - 1;
        for (size_t k = 0; k < n; k++) { /* names are case-insensitive: lower */
            char c = p.name.ptr[k];
            name[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
        }
        name[n] = '\0';
        json_key(j, name);
        size_t need = 0;
        opes_status st = opes_trace_param_unquote(&p, NULL, 0, &need);
        char *v = need ? malloc(need) : NULL;
        if (st == OPES_OK || (st == OPES_ENOSPC && v &&
                              opes_trace_param_unquote(&p, v, need, &need) == OPES_OK))
            json_str(j, v ? v : "", v ? need : 0);
        else
            json_str(j, p.value.ptr, p.value.len);
        free(v);
    }
    json_obj_end(j);
}

static int trace_show(int argc, char **argv)
{
    const char *path = NULL;
    char *buf = NULL;
    size_t len = 0, n = 0, nerr = 0;
    struct item *items = NULL, *errs = NULL;
    opes_trace_reader *r = NULL;
    opes_trace_event ev;
    int rc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(trace_show_help, stdout);
            return EX_DONE;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage_error("trace show: unknown option", argv[i]);
            return EX_USAGE;
        }
        if (path) {
            usage_error("trace show: extra argument", argv[i]);
            return EX_USAGE;
        }
        path = argv[i];
    }
    if ((rc = load_input(path, &buf, &len)) != EX_DONE)
        return rc;
    rc = EX_SOFTWARE;
    if (opes_trace_reader_new(&r, NULL) != OPES_OK ||
        opes_trace_reader_start(r, buf, len, message_header_flags(buf, len)) != OPES_OK)
        goto out;
    size_t cap = 0;
    while (opes_trace_reader_next(r, &ev) == OPES_OK) {
        if (ev.type == OPES_TRACE_EV_ERROR && is_header_error(ev.status)) {
            fprintf(stderr, "opes: trace show: the input is not a message: %s at offset %llu\n",
                    opes_strerror(ev.status), (unsigned long long)ev.offset);
            rc = EX_NOTINPUT;
            goto out;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct item *ni = realloc(items, nc * sizeof *ni);
            if (!ni)
                goto out;
            items = ni;
            cap = nc;
        }
        items[n].ev = ev;
        items[n].seq = n;
        n++;
    }
    errs = malloc((n ? n : 1) * sizeof *errs);
    if (!errs)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (items[i].ev.type == OPES_TRACE_EV_ERROR)
            errs[nerr++] = items[i];
    /* entries in path order; errors and bypass items stay in header order */
    struct item *path_order = malloc((n ? n : 1) * sizeof *path_order);
    if (!path_order)
        goto out;
    if (n) /* items is NULL for a message without trace: no memcpy from NULL */
        memcpy(path_order, items, n * sizeof *items);
    qsort(path_order, n, sizeof *path_order, item_cmp);

    json j;
    json_init(&j, stdout);
    json_obj_begin(&j);
    json_key(&j, "valid");
    json_bool(&j, nerr == 0);
    json_key(&j, "systems");
    json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        const opes_trace_event *e = &path_order[i].ev;
        if (e->type != OPES_TRACE_EV_SYSTEM)
            continue;
        json_obj_begin(&j);
        json_key(&j, "id");
        json_str(&j, e->entry.id.ptr, e->entry.id.len);
        json_key(&j, "params");
        put_params(&j, &e->entry);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_key(&j, "services");
    json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        const opes_trace_event *e = &path_order[i].ev;
        /* the first entry of an OPES-Via field names its system: it binds
         * the field, it is not a service */
        if (e->type != OPES_TRACE_EV_VIA || e->role == OPES_TRACE_ROLE_SYSTEM)
            continue;
        json_obj_begin(&j);
        json_key(&j, "id");
        json_str(&j, e->entry.id.ptr, e->entry.id.len);
        json_key(&j, "params");
        put_params(&j, &e->entry);
        json_key(&j, "system");
        json_str(&j, e->system.ptr, e->system.len);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_key(&j, "bypass");
    json_arr_begin(&j);
    for (size_t i = 0; i < n; i++)
        if (items[i].ev.type == OPES_TRACE_EV_BYPASS)
            json_str(&j, items[i].ev.entry.id.ptr, items[i].ev.entry.id.len);
    json_arr_end(&j);
    json_key(&j, "errors");
    json_arr_begin(&j);
    for (size_t i = 0; i < nerr; i++) {
        const opes_trace_event *e = &errs[i].ev;
        json_obj_begin(&j);
        json_key(&j, "status");
        json_cstr(&j, opes_status_name(e->status));
        json_key(&j, "message");
        json_cstr(&j, opes_strerror(e->status));
        json_key(&j, "field");
        if (e->field_name.len)
            json_str(&j, e->field_name.ptr, e->field_name.len);
        else
            json_null(&j);
        json_key(&j, "offset");
        json_uint(&j, e->offset);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_end_line(&j);
    free(path_order);
    rc = nerr ? EX_WANTING : EX_DONE;
out:
    opes_trace_reader_free(r);
    free(items);
    free(errs);
    free(buf);
    return rc;
}

/* see cli.h */
int cmd_trace(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return trace_add(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return trace_show(argc - 1, argv + 1);
    usage_error("trace: expected 'add' or 'show'", argc >= 2 ? argv[1] : NULL);
    return EX_USAGE;
}

/* ---- reply ------------------------------------------------------------------- */

static const char reply_help[] =
    "usage: opes reply --code NNN [--status X.Y.Z] --system URI --service URI...\n"
    "                  --text TEXT [--bypassable]\n"
    "Print the traced SMTP rejection (docs/opes-smtp.md 6) as CRLF-terminated reply\n"
    "lines. --service may be given several times; --bypassable says the service may\n"
    "be bypassed (the last line tells how to ask).\n";

/* see cli.h */
int cmd_reply(int argc, char **argv)
{
    const char *code_s = NULL, *status = NULL, *system = NULL, *text = NULL;
    opes_str *svcs = calloc((size_t)argc, sizeof *svcs);
    size_t nsvc = 0, need = 0;
    unsigned flags = 0;
    int rc = EX_USAGE;
    char *out = NULL;
    if (!svcs)
        return EX_SOFTWARE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            fputs(reply_help, stdout);
            rc = EX_DONE;
            goto out;
        }
        if (strcmp(a, "--bypassable") == 0) {
            flags |= OPES_TRACE_REPLY_BYPASSABLE;
            continue;
        }
        if (!v && a[0] == '-') {
            usage_error("reply: option needs a value", a);
            goto out;
        }
        if (strcmp(a, "--code") == 0)
            code_s = v;
        else if (strcmp(a, "--status") == 0)
            status = v;
        else if (strcmp(a, "--system") == 0)
            system = v;
        else if (strcmp(a, "--text") == 0)
            text = v;
        else if (strcmp(a, "--service") == 0)
            svcs[nsvc++] = (opes_str){v, strlen(v)};
        else {
            usage_error("reply: unknown option or argument", a);
            goto out;
        }
        i++;
    }
    if (!code_s || !system || !text || nsvc == 0) {
        usage_error("reply: --code, --system, --service and --text are required", NULL);
        goto out;
    }
    int code = 0;
    for (const char *p = code_s; *p; p++) {
        if (*p < '0' || *p > '9' || code > 999) {
            code = -1;
            break;
        }
        code = code * 10 + (*p - '0');
    }
    if (code < 400 || code > 599 || strlen(code_s) != 3) {
        usage_error("reply: --code takes a 4xx or 5xx reply code", code_s);
        goto out;
    }
    opes_status st = opes_trace_reply_build(NULL, 0, &need, code, status, text, strlen(text),
                                            system, strlen(system), svcs, nsvc, flags);
    if (st != OPES_ENOSPC && st != OPES_OK) {
        fprintf(stderr, "opes: reply refused: %s (%s)\n", opes_strerror(st),
                opes_status_name(st));
        goto out;
    }
    rc = EX_SOFTWARE;
    out = malloc(need ? need : 1);
    if (!out || opes_trace_reply_build(out, need, &need, code, status, text, strlen(text), system,
                                       strlen(system), svcs, nsvc, flags) != OPES_OK)
        goto out;
    if (fwrite(out, 1, need, stdout) != need || fflush(stdout) != 0)
        goto out;
    rc = EX_DONE;
out:
    free(out);
    free(svcs);
    return rc;
}
