/*
 * opes dsn parse: a delivery status notification (RFC 3464, RFC 6522,
 * RFC 6533) as JSON. A thin shell over <opes/dsn_read.h>; the contract is
 * docs/cli.md ("opes dsn parse").
 */
#include <opes/opes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

static const char dsn_parse_help[] =
    "usage: opes dsn parse [FILE]\n"
    "Read a message (FILE or stdin) and, if it is a delivery status report\n"
    "(a multipart/report with a message/delivery-status or\n"
    "message/global-delivery-status part), print its fields as one JSON object.\n"
    "Exit 0 for a report, 1 for a report whose delivery-status part is malformed,\n"
    "2 (with {\"dsn\": false}) for a message that is not a report.\n";

/* A string member: the unfolded (and, for utf-8 addresses, decoded) value.
 * A value that does not decode is written unfolded as it is. */
static void put_value(json *j, const opes_dsn_field *f)
{
    size_t n = 0;
    char *buf;
    opes_status st = opes_dsn_value_decode(f, NULL, 0, &n);
    if (st == OPES_OK || st == OPES_ENOSPC) {
        buf = malloc(n ? n : 1);
        if (buf && opes_dsn_value_decode(f, buf, n, &n) == OPES_OK) {
            json_str(j, buf, n);
            free(buf);
            return;
        }
        free(buf);
    }
    st = opes_header_unfold(NULL, 0, &n, f->value.ptr, f->value.len);
    if (st == OPES_OK || st == OPES_ENOSPC) {
        buf = malloc(n ? n : 1);
        if (buf && opes_header_unfold(buf, n, &n, f->value.ptr, f->value.len) == OPES_OK) {
            json_str(j, buf, n);
            free(buf);
            return;
        }
        free(buf);
    }
    json_str(j, f->value.ptr, f->value.len); /* as on the wire */
}

/* key: value, and for a typed field key_type: type; nothing when absent */
static void put_field(json *j, const char *key, const opes_dsn_field *f)
{
    if (!f->present)
        return;
    json_key(j, key);
    put_value(j, f);
    if (opes_dsn_field_typed(f->id) && f->type.len) {
        char k[64];
        snprintf(k, sizeof k, "%s_type", key);
        json_key(j, k);
        json_str(j, f->type.ptr, f->type.len);
    }
}

static void put_extensions(json *j, opes_str block, unsigned flags)
{
    opes_dsn_field f;
    size_t pos = 0;
    json_key(j, "extensions");
    json_arr_begin(j);
    while (opes_dsn_field_next(block, flags, &pos, &f) == OPES_OK) {
        if (f.id != OPES_DSNF_EXTENSION)
            continue;
        json_obj_begin(j);
        json_key(j, "name");
        json_str(j, f.name.ptr, f.name.len);
        json_key(j, "value");
        put_value(j, &f);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void put_problems(json *j, unsigned flags)
{
    static const char *const names[] = {"no_reporting_mta", "no_final_recipient", "no_action",
                                        "no_status",        "bad_field",          "duplicate_field",
                                        "misplaced_field"};
    if (flags == 0)
        return;
    json_key(j, "problems");
    json_arr_begin(j);
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & (1u << i))
            json_cstr(j, names[i]);
    json_arr_end(j);
}

static void put_header_fields(json *j, const opes_dsn_read_report *r)
{
    opes_header_field h;
    size_t pos = 0;
    json_key(j, "returned_headers");
    json_arr_begin(j);
    while (opes_dsn_returned_field_next(r, &pos, &h) == OPES_OK) {
        size_t n = 0;
        char *buf = NULL;
        json_obj_begin(j);
        json_key(j, "name");
        json_str(j, h.name.ptr, h.name.len);
        json_key(j, "value");
        opes_status st = opes_header_unfold(NULL, 0, &n, h.raw.ptr, h.raw.len);
        if ((st == OPES_OK || st == OPES_ENOSPC) && (buf = malloc(n ? n : 1)) != NULL &&
            opes_header_unfold(buf, n, &n, h.raw.ptr, h.raw.len) == OPES_OK)
            json_str(j, buf, n);
        else
            json_str(j, h.raw.ptr, h.raw.len);
        free(buf);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void put_report(json *j, const opes_dsn_read_report *r)
{
    const opes_dsn_per_message *m = &r->status.msg;
    const unsigned cf = r->status.flags;
    json_key(j, "dsn");
    json_bool(j, 1);
    if (r->report_type.len) {
        json_key(j, "report_type");
        json_str(j, r->report_type.ptr, r->report_type.len);
    }
    json_key(j, "global");
    json_bool(j, (r->flags & OPES_DSN_REPORT_GLOBAL) != 0);
    put_field(j, "original_envelope_id", &m->original_envelope_id);
    put_field(j, "reporting_mta", &m->reporting_mta);
    put_field(j, "dsn_gateway", &m->dsn_gateway);
    put_field(j, "received_from_mta", &m->received_from_mta);
    put_field(j, "arrival_date", &m->arrival_date);
    put_field(j, "opes_system", &m->opes_system);
    put_field(j, "opes_service", &m->opes_service);
    if (m->bypassable >= 0) {
        json_key(j, "opes_bypassable");
        json_bool(j, m->bypassable);
    }
    put_extensions(j, m->block, cf);
    put_problems(j, m->flags);

    json_key(j, "recipients");
    json_arr_begin(j);
    opes_dsn_iter it;
    opes_dsn_read_recipient rc;
    opes_dsn_recipients(&r->status, &it);
    while (opes_dsn_recipient_next(&it, &rc) == OPES_OK) {
        json_obj_begin(j);
        put_field(j, "original_recipient", &rc.original_recipient);
        put_field(j, "final_recipient", &rc.final_recipient);
        put_field(j, "action", &rc.action);
        put_field(j, "status", &rc.status);
        put_field(j, "remote_mta", &rc.remote_mta);
        put_field(j, "diagnostic_code", &rc.diagnostic_code);
        put_field(j, "last_attempt_date", &rc.last_attempt_date);
        put_field(j, "final_log_id", &rc.final_log_id);
        put_field(j, "will_retry_until", &rc.will_retry_until);
        put_field(j, "opes_service", &rc.opes_service);
        if (rc.bypassable >= 0) {
            json_key(j, "opes_bypassable");
            json_bool(j, rc.bypassable);
        }
        put_extensions(j, rc.block, cf);
        put_problems(j, rc.flags);
        json_obj_end(j);
    }
    json_arr_end(j);

    if (r->returned_type[0]) {
        json_key(j, "returned_type");
        json_cstr(j, r->returned_type);
        if (!(r->flags & OPES_DSN_REPORT_RETURNED_ENCODED))
            put_header_fields(j, r);
    }
}

/* see cli.h */
int cmd_dsn_parse(int argc, char **argv)
{
    const char *path = NULL;
    char *buf = NULL, *scratch = NULL;
    size_t len = 0;
    opes_mime_walker *w = NULL;
    opes_dsn_read_report r;
    int rc;
    json j;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(dsn_parse_help, stdout);
            return EX_DONE;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("dsn parse: unknown option", a);
            return EX_USAGE;
        } else if (!path) {
            path = a;
        } else {
            usage_error("dsn parse: more than one input", a);
            return EX_USAGE;
        }
    }
    if ((rc = load_input(path, &buf, &len)) != EX_DONE)
        return rc;
    unsigned flags = OPES_DSN_READ_8BIT;
    if (message_header_flags(buf, len) & OPES_HEADER_LF)
        flags |= OPES_DSN_READ_LF;
    /* a decoded delivery-status part is never longer than its encoding */
    scratch = malloc(len + 4);
    if (!scratch || opes_mime_walker_new(&w, NULL) != OPES_OK) {
        fprintf(stderr, "opes: out of memory\n");
        free(buf);
        free(scratch);
        return EX_SOFTWARE;
    }
    opes_status st =
        opes_dsn_message_parse(w, len ? buf : NULL, len, flags, scratch, len + 4, &r, NULL);
    json_init(&j, stdout);
    json_obj_begin(&j);
    if (st == OPES_OK) {
        put_report(&j, &r);
        rc = EX_DONE;
    } else {
        /* found: a report whose delivery-status part is wanting; else the
         * input is not a report (or not a message the walker reads) */
        json_key(&j, "dsn");
        json_bool(&j, r.found);
        if (st != OPES_ENOTFOUND) {
            json_key(&j, "status");
            json_cstr(&j, opes_status_name(st));
            json_key(&j, "error");
            json_cstr(&j, opes_strerror(st));
        }
        rc = r.found ? EX_WANTING : EX_NOTINPUT;
        if (!r.found)
            fprintf(stderr, "opes: dsn parse: %s\n",
                    st == OPES_ENOTFOUND ? "not a delivery status report" : opes_strerror(st));
    }
    json_obj_end(&j);
    json_end_line(&j);
    opes_mime_walker_free(w);
    free(scratch);
    free(buf);
    return rc;
}
