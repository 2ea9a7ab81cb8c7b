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
    "       opes dsn parse --mbox [--max-message BYTES] [FILE]\n"
    "Read a message (FILE or stdin) and, if it is a delivery status report\n"
    "(a multipart/report with a message/delivery-status or\n"
    "message/global-delivery-status part), print its fields as one JSON object.\n"
    "Exit 0 for a report, 1 for a report whose delivery-status part is malformed,\n"
    "2 (with {\"dsn\": false}) for a message that is not a report.\n"
    "With --mbox, FILE (or stdin) is a mailbox (mboxrd; gzip-compressed in a\n"
    "build with zlib): one JSON line per message with \"offset\", the byte offset\n"
    "of its From_ line; a message is read from at most --max-message bytes\n"
    "(default 16 MiB; \"truncated\": true when cut). Exit 0 when the mailbox was\n"
    "read, 2 when it is no mailbox (or gzip without zlib), 1 when it breaks off.\n";

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
    if (r->flags & OPES_DSN_REPORT_WALK_ERROR) {
        /* the MIME walk failed after the delivery-status part: what
         * follows it (the returned content) may be cut short */
        json_key(j, "walk_status");
        json_cstr(j, opes_status_name(r->walk_status));
        json_key(j, "walk_error");
        json_cstr(j, opes_strerror(r->walk_status));
    }
}

/* What parse_message() found (the exit status of a single message). */
static int parse_message(opes_mime_walker *w, const char *buf, size_t len, unsigned flags,
                         char *scratch, size_t scratch_cap, int mbox, uint64_t offset,
                         int cut)
{
    opes_dsn_read_report r;
    int rc;
    json j;
    opes_status st = opes_dsn_message_parse(w, len ? buf : NULL, len, flags, scratch,
                                            scratch_cap, &r, NULL);
    json_init(&j, stdout);
    json_obj_begin(&j);
    if (mbox) {
        json_key(&j, "offset");
        json_uint(&j, offset);
        if (cut) {
            json_key(&j, "truncated");
            json_bool(&j, 1);
        }
    }
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
        if (!r.found && !mbox)
            fprintf(stderr, "opes: dsn parse: %s\n",
                    st == OPES_ENOTFOUND ? "not a delivery status report" : opes_strerror(st));
    }
    json_obj_end(&j);
    json_end_line(&j);
    return rc;
}

/* Default cap on one message of a mailbox (--max-message): a report is read
 * from at most this many bytes; the rest of a longer message is skipped. */
#define MBOX_MAX_MESSAGE (16u << 20)

/*
 * --mbox: one JSON line per message, in constant memory: the mailbox is
 * read in 64 KiB pieces through the library's mbox reader (gzip in a zlib
 * build), each message is collected up to max bytes (a report's
 * delivery-status part comes before the returned message, so a cut
 * message usually still parses; it is marked "truncated") and parsed.
 */
static int parse_mbox(const char *path, size_t max, opes_mime_walker *w)
{
    FILE *in = stdin;
    if (path && strcmp(path, "-") != 0 && !(in = fopen(path, "rb"))) {
        fprintf(stderr, "opes: cannot open %s\n", path);
        return EX_NOTINPUT;
    }
    enum { CHUNK = 65536 };
    char *chunk = malloc(CHUNK);
    char *msg = malloc(max ? max : 1);
    char *scratch = malloc(max + 4);
    opes_mbox_reader *r = NULL;
    int rc = EX_DONE;
    if (!chunk || !msg || !scratch || opes_mbox_reader_new(&r, NULL) != OPES_OK) {
        fprintf(stderr, "opes: out of memory\n");
        rc = EX_SOFTWARE;
        goto out;
    }
    size_t have = 0, mlen = 0;
    uint64_t moff = 0;
    int eof = 0, cut = 0, done = 0;
    while (!done) {
        if (!eof && have < CHUNK) {
            size_t n = fread(chunk + have, 1, CHUNK - have, in);
            have += n;
            if (n == 0) {
                if (ferror(in)) {
                    fprintf(stderr, "opes: dsn parse: read error on %s\n", path ? path : "stdin");
                    rc = EX_NOTINPUT;
                    goto out;
                }
                eof = 1;
            }
        }
        size_t used = 0;
        opes_mbox_event ev;
        opes_status st = opes_mbox_feed(r, have ? chunk : NULL, have, eof, &used, &ev);
        if (st == OPES_INCOMPLETE) {
            have -= used; /* everything was taken */
            continue;
        }
        if (st != OPES_OK) {
            fprintf(stderr, "opes: dsn parse --mbox: %s at offset %llu: %s\n",
                    opes_status_name(st), (unsigned long long)ev.offset,
                    ev.detail ? ev.detail : opes_strerror(st));
            rc = st == OPES_EUNSUPPORTED ? EX_NOTINPUT : EX_WANTING;
            if (st == OPES_EBAD_MBOX && ev.offset == 0)
                rc = EX_NOTINPUT;
            goto out;
        }
        switch (ev.type) {
        case OPES_MBOX_EV_MESSAGE_BEGIN:
            mlen = 0;
            cut = 0;
            moff = ev.offset;
            break;
        case OPES_MBOX_EV_DATA: {
            size_t take = ev.data.len;
            if (take > max - mlen) {
                take = max - mlen;
                cut = 1;
            }
            memcpy(msg + mlen, ev.data.ptr, take);
            mlen += take;
            break;
        }
        case OPES_MBOX_EV_MESSAGE_END: {
            unsigned flags = OPES_DSN_READ_8BIT;
            if (message_header_flags(msg, mlen) & OPES_HEADER_LF)
                flags |= OPES_DSN_READ_LF;
            parse_message(w, msg, mlen, flags, scratch, max + 4, 1, moff, cut);
            break;
        }
        case OPES_MBOX_EV_END:
            done = 1;
            break;
        default:
            break;
        }
        /* the event's views into chunk are used: now drop what was taken */
        if (used && used < have)
            memmove(chunk, chunk + used, have - used);
        have -= used;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "opes: write error\n");
        rc = EX_SOFTWARE;
    }
out:
    opes_mbox_reader_free(r);
    free(chunk);
    free(msg);
    free(scratch);
    if (in != stdin)
        fclose(in);
    return rc;
}

/* see cli.h */
int cmd_dsn_parse(int argc, char **argv)
{
    const char *path = NULL;
    char *buf = NULL, *scratch = NULL;
    size_t len = 0, max = MBOX_MAX_MESSAGE;
    opes_mime_walker *w = NULL;
    int rc, mbox = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(dsn_parse_help, stdout);
            return EX_DONE;
        } else if (strcmp(a, "--mbox") == 0) {
            mbox = 1;
        } else if (strcmp(a, "--max-message") == 0) {
            char *end = NULL;
            unsigned long long v = i + 1 < argc ? strtoull(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || !end || *end != '\0' || argv[i + 1][0] == '-' || v < 1024 ||
                v > (1ull << 30)) {
                usage_error("dsn parse: --max-message wants a byte count from 1024 to 1073741824",
                            i + 1 < argc ? argv[i + 1] : NULL);
                return EX_USAGE;
            }
            max = (size_t)v;
            i++;
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
    if (opes_mime_walker_new(&w, NULL) != OPES_OK) {
        fprintf(stderr, "opes: out of memory\n");
        return EX_SOFTWARE;
    }
    if (mbox) {
        rc = parse_mbox(path, max, w);
        opes_mime_walker_free(w);
        return rc;
    }
    if ((rc = load_input(path, &buf, &len)) != EX_DONE) {
        opes_mime_walker_free(w);
        return rc;
    }
    unsigned flags = OPES_DSN_READ_8BIT;
    if (message_header_flags(buf, len) & OPES_HEADER_LF)
        flags |= OPES_DSN_READ_LF;
    /* a decoded delivery-status part is never longer than its encoding */
    scratch = malloc(len + 4);
    if (!scratch) {
        fprintf(stderr, "opes: out of memory\n");
        free(buf);
        opes_mime_walker_free(w);
        return EX_SOFTWARE;
    }
    rc = parse_message(w, buf, len, flags, scratch, len + 4, 0, 0, 0);
    opes_mime_walker_free(w);
    free(scratch);
    free(buf);
    return rc;
}
