/*
 * opes smtp check [--strict|--lenient] [--one-write] [FILE]
 *
 * Reads the bytes an SMTP client sent and plays the server side of the
 * session (opes_session, server role) as a server offering PIPELINING, SIZE
 * 52428800, 8BITMIME, SMTPUTF8, DSN, CHUNKING, ENHANCEDSTATUSCODES, STARTTLS,
 * AUTH PLAIN LOGIN and XOPES (docs/opes-smtp.md 8) would, giving every reply
 * the session proposes, and reporting the bypass requests bound to each
 * command and transaction. One
 * JSON object per command, AUTH exchange line and completed message body;
 * the contract (keys, error and note identifiers) is docs/cli.md.
 */
#include <opes/opes.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

#define MAX_IDS 24

/* One output object. */
struct obj {
    const char *type; /* "command", "auth", "body" */
    uint64_t offset;
    int verb;           /* OPES_VERB_*; 0: verb_text or null */
    opes_str verb_text; /* an unknown verb as sent */
    int has_path;
    opes_str path;
    const opes_params *params; /* NULL: null */
    int envelope;              /* a body: print the transaction's bypass requests */
    int reply;                 /* 0: null */
    const char *err[MAX_IDS];
    size_t nerr;
    opes_status parse_status; /* an error identifier derived from a status */
    const char *note[MAX_IDS];
    size_t nnote;
    unsigned note_bits; /* OPES_NOTE_* */
};

struct check {
    json j;
    opes_session *s;
    const char *buf;
    size_t len, off;
    int lenient, one_write;
    int wanting;       /* an error was printed */
    int pipelining;    /* the next unit came too early */
    int framing_lost;  /* a BDAT line without a readable size closed the session */
    int in_body;       /* a message body is being read */
    int body_verb;     /* OPES_VERB_DATA or _BDAT */
    uint64_t body_off; /* where it began */
    uint64_t chunk_off; /* where the chunk being read began */
    struct obj body;   /* its errors and notes so far */
};

static void add_id(const char **list, size_t *n, const char *id)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], id) == 0)
            return;
    if (*n < MAX_IDS)
        list[(*n)++] = id;
}

static void add_err(struct obj *o, const char *id)
{
    add_id(o->err, &o->nerr, id);
}

static void add_note(struct obj *o, const char *id)
{
    add_id(o->note, &o->nnote, id);
}

static void obj_init(struct obj *o, const char *type, uint64_t offset)
{
    memset(o, 0, sizeof *o);
    o->type = type;
    o->offset = offset;
    o->parse_status = OPES_OK;
}

/* The identifier of a parser status: its name without "OPES_E", in lower
 * case ("OPES_EPARAM_UNKNOWN" -> "param_unknown"). */
static void status_id(opes_status st, char *out, size_t cap)
{
    const char *n = opes_status_name(st);
    size_t i = 0;
    if (strncmp(n, "OPES_E", 6) == 0)
        n += 6;
    for (; n[i] && i + 1 < cap; i++)
        out[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + ('a' - 'A') : n[i]);
    out[i] = '\0';
}

/* The decoded items of a command's XOPES-BYPASS parameter (docs/opes-smtp.md
 * 8.1), or null when it has none. The command parsed, so the value is
 * well-formed; lower-case hex is accepted in case --lenient let it pass. */
static void print_request(json *j, const opes_params *params)
{
    char item[OPES_BYPASS_MAX_VALUE];
    opes_str v;
    size_t pos = 0, il = 0;
    if (!params || opes_bypass_param_get(params, NULL, &v) != OPES_OK) {
        json_null(j);
        return;
    }
    json_arr_begin(j);
    while (opes_bypass_param_next(v.ptr, v.len, OPES_LENIENT_XTEXT_CASE, &pos, item, sizeof item,
                                  &il, NULL, NULL) == OPES_OK)
        json_str(j, item, il);
    json_arr_end(j);
}

/* "bypass": on MAIL and RCPT, the command's request; on a completed body,
 * the requests bound to its transaction (8.3): MAIL's and each accepted
 * recipient's; else null. */
static void print_bypass(struct check *c, const struct obj *o)
{
    json *j = &c->j;
    opes_command cmd;
    if (o->params) {
        print_request(j, o->params);
        return;
    }
    if (!o->envelope || opes_session_mail(c->s, &cmd) != OPES_OK) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_key(j, "mail");
    print_request(j, &cmd.params);
    json_key(j, "rcpt");
    json_arr_begin(j);
    for (size_t i = 0; i < opes_session_rcpt_count(c->s); i++) {
        if (opes_session_rcpt(c->s, i, &cmd) != OPES_OK)
            break;
        json_obj_begin(j);
        json_key(j, "path");
        json_str(j, cmd.path.mailbox.ptr, cmd.path.mailbox.len);
        json_key(j, "bypass");
        print_request(j, &cmd.params);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
}

static void print_obj(struct check *c, struct obj *o)
{
    json *j = &c->j;
    char sid[64];
    if (c->pipelining) {
        /* RFC 2920 3.1: sent before the reply it had to wait for */
        add_err(o, "pipelining");
        c->pipelining = 0;
    }
    json_obj_begin(j);
    json_key(j, "type");
    json_cstr(j, o->type);
    json_key(j, "offset");
    json_uint(j, o->offset);
    json_key(j, "verb");
    if (o->verb)
        json_cstr(j, opes_verb_name(o->verb));
    else if (o->verb_text.len)
        json_str(j, o->verb_text.ptr, o->verb_text.len);
    else
        json_null(j);
    json_key(j, "path");
    if (o->has_path)
        json_str(j, o->path.ptr, o->path.len);
    else
        json_null(j);
    json_key(j, "params");
    if (o->params) {
        json_arr_begin(j);
        for (size_t i = 0; i < o->params->count; i++) {
            const opes_param *p = &o->params->item[i];
            json_obj_begin(j);
            json_key(j, "keyword");
            json_str(j, p->keyword.ptr, p->keyword.len);
            json_key(j, "value");
            if (p->has_value)
                json_str(j, p->value.ptr, p->value.len);
            else
                json_null(j);
            json_obj_end(j);
        }
        json_arr_end(j);
    } else {
        json_null(j);
    }
    json_key(j, "bypass");
    print_bypass(c, o);
    json_key(j, "reply");
    if (o->reply)
        json_int(j, o->reply);
    else
        json_null(j);
    json_key(j, "errors");
    json_arr_begin(j);
    if (o->parse_status < 0) {
        status_id(o->parse_status, sid, sizeof sid);
        json_cstr(j, sid);
    }
    for (size_t i = 0; i < o->nerr; i++)
        json_cstr(j, o->err[i]);
    json_arr_end(j);
    json_key(j, "notes");
    json_arr_begin(j);
    for (unsigned bit = 1; bit != 0; bit <<= 1) {
        const char *n = (o->note_bits & bit) ? opes_note_name(bit) : NULL;
        if (n)
            json_cstr(j, n);
    }
    for (size_t i = 0; i < o->nnote; i++)
        json_cstr(j, o->note[i]);
    json_arr_end(j);
    json_obj_end(j);
    json_end_line(j);
    if (o->nerr || o->parse_status < 0)
        c->wanting = 1;
}

/* A state reason (opes_session_reason) is the client's error, but for a
 * cancelled AUTH exchange (legal: RFC 4954 4) and the data reject, which the
 * anomalies already name. */
static void add_reason(struct obj *o, int reason)
{
    if (reason == OPES_REASON_NONE || reason == OPES_REASON_PARSE ||
        reason == OPES_REASON_BARE_LINE_END)
        return;
    if (reason == OPES_REASON_AUTH_CANCEL)
        add_note(o, "auth_cancelled");
    else
        add_err(o, opes_session_reason_name(reason));
}

/* Give every reply due, as proposed, and say when the client saw it. */
static void reply(struct check *c, const opes_session_event *ev)
{
    for (int i = 0; i < ev->needs_reply; i++)
        opes_session_respond(c->s, ev->reply_code);
    if (ev->needs_reply)
        /* by default the client waited where it had to; --one-write: all
         * of the input had been sent already */
        opes_session_reply_sent(c->s, c->one_write ? c->len - c->off : 0);
}

static void data_anomaly(struct check *c, int type)
{
    static const struct {
        int type;
        const char *id;
        int always_error; /* also in lenient mode */
    } map[] = {
        {OPES_DATA_EV_BARE_LF, "data_bare_lf", 0},
        {OPES_DATA_EV_BARE_CR, "data_bare_cr", 0},
        {OPES_DATA_EV_LONG_LINE, "data_long_line", 0},
        {OPES_DATA_EV_DOT_NOT_STUFFED, "data_dot_not_stuffed", 0},
        {OPES_DATA_EV_FALSE_END, "data_false_end", 1},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].type != type)
            continue;
        if (!c->lenient || map[i].always_error)
            add_err(&c->body, map[i].id);
        else
            add_note(&c->body, map[i].id);
    }
}

static void start_body(struct check *c, int verb, uint64_t at)
{
    c->in_body = 1;
    c->body_verb = verb;
    c->body_off = at;
    obj_init(&c->body, "body", at);
    c->body.verb = verb;
    /* a violation reported at the data start belongs to the body */
}

/* Whether p[0..n) begins with a TLS handshake record a client sends first:
 * a record header (RFC 8446 5.1, RFC 5246 6.2.1) of type 22 (handshake),
 * legacy version 0x0300..0x0304, a length of 1..2^14+2048 (the most a
 * TLSCiphertext may carry; a TLSPlaintext has at most 2^14), and, when its
 * first byte is there, a ClientHello (handshake type 1, RFC 8446 4.1.2).
 * 1: it does; 0: it does not; -1: p is a proper prefix of such a header
 * (the input ends inside it). */
static int tls_client_hello(const unsigned char *p, size_t n)
{
    size_t len;
    if (n == 0 || p[0] != 22)
        return 0;
    if (n < 2)
        return -1;
    if (p[1] != 3)
        return 0;
    if (n < 3)
        return -1;
    if (p[2] > 4)
        return 0;
    if (n < 5)
        return -1;
    len = (size_t)p[3] << 8 | p[4];
    if (len == 0 || len > 16384 + 2048)
        return 0;
    if (n >= 6 && p[5] != 1)
        return 0;
    return 1;
}

static void on_command(struct check *c, const opes_session_event *ev)
{
    const opes_command *cmd = &ev->command;
    struct obj o;
    obj_init(&o, "command", ev->offset);
    o.verb = cmd->verb;
    if (!cmd->verb)
        o.verb_text = cmd->verb_text;
    o.parse_status = ev->status;
    o.note_bits = cmd->notes;
    if (ev->status == OPES_OK && (cmd->verb == OPES_VERB_MAIL || cmd->verb == OPES_VERB_RCPT)) {
        o.has_path = 1;
        o.path = cmd->path.mailbox;
        o.params = &cmd->params;
    }
    o.reply = ev->reply_code;
    add_reason(&o, ev->reason);
    if (ev->reason == OPES_REASON_FRAMING_LOST)
        c->framing_lost = 1; /* 421: nothing after it can be framed */
    if (cmd->verb == OPES_VERB_AUTH && ev->status == OPES_OK && ev->reply_code == 235)
        add_note(&o, "auth_not_verified");

    if (cmd->verb == OPES_VERB_STARTTLS && ev->reply_code == 220) {
        /* RFC 3207: what follows must be the TLS handshake; any clear text
         * sent before it is injected (CVE-2011-0411) */
        opes_session_event e2;
        size_t used = 0;
        int rec;
        reply(c, ev);
        rec = tls_client_hello((const unsigned char *)c->buf + c->off, c->len - c->off);
        if (rec == 1) {
            add_note(&o, "tls_handshake");
            c->off = c->len; /* nothing after is SMTP */
        } else if (rec < 0) {
            /* the input ends inside what may be a record header */
            add_err(&o, "incomplete");
            c->off = c->len;
        } else if (c->off < c->len &&
                   opes_session_feed(c->s, c->buf + c->off, c->len - c->off, &used, &e2) ==
                       OPES_OK &&
                   e2.type == OPES_SESSION_EV_TLS_INJECTION) {
            add_err(&o, "tls_injection");
            c->off = c->len;
        }
        print_obj(c, &o);
        return;
    }
    if (cmd->verb == OPES_VERB_BDAT && !ev->needs_reply)
        /* a chunk follows (also after a refused line: it is discarded) */
        c->chunk_off = ev->offset + cmd->line_len;
    if (cmd->verb == OPES_VERB_BDAT && ev->status == OPES_OK) {
        /* its reply comes after the chunk; the chunk begins a body */
        if (!c->in_body && ev->reply_code / 100 == 2)
            start_body(c, OPES_VERB_BDAT, ev->offset + cmd->line_len);
        print_obj(c, &o);
        return;
    }
    if (ev->type == OPES_SESSION_EV_LINE_TOO_LONG)
        o.parse_status = OPES_ELINE_TOO_LONG;
    print_obj(c, &o);
    reply(c, ev);
    if (cmd->verb == OPES_VERB_DATA && ev->reply_code == 354)
        start_body(c, OPES_VERB_DATA, opes_session_offset(c->s));
    else if (c->in_body && opes_session_state(c->s) <= OPES_STATE_READY)
        c->in_body = 0; /* RSET (or EHLO) ended the BDAT transaction */
}

static void on_auth(struct check *c, const opes_session_event *ev)
{
    struct obj o;
    obj_init(&o, "auth", ev->offset);
    o.verb = OPES_VERB_AUTH;
    o.parse_status = ev->status;
    o.note_bits = ev->auth.notes;
    o.reply = ev->reply_code;
    add_reason(&o, ev->reason);
    if (ev->status == OPES_OK && ev->reply_code == 235)
        add_note(&o, "auth_not_verified");
    print_obj(c, &o);
    reply(c, ev);
}

static void on_message_end(struct check *c, const opes_session_event *ev)
{
    struct obj *b = &c->body;
    if (!c->in_body)
        start_body(c, ev->verb, ev->offset);
    b->reply = ev->reply_code;
    add_reason(b, ev->reason);
    b->envelope = 1; /* the session holds the envelope until the reply */
    print_obj(c, b);
    c->in_body = 0;
    reply(c, ev);
}

/* The input ends inside a unit, or after QUIT. */
static void at_end(struct check *c, int closed)
{
    struct obj o;
    if (closed) {
        if (c->off < c->len && !c->framing_lost) {
            /* RFC 5321 4.1.1.10: the session ends with QUIT's reply */
            obj_init(&o, "command", c->off);
            add_err(&o, "after_quit");
            print_obj(c, &o);
        }
        return;
    }
    switch (opes_session_state(c->s)) {
    case OPES_STATE_BDAT:
        if (!c->in_body) {
            /* a refused chunk, no message body begun: the chunk is the
             * unit the input ends in */
            obj_init(&o, "body", c->chunk_off);
            o.verb = OPES_VERB_BDAT;
            add_err(&o, "incomplete");
            print_obj(c, &o);
            return;
        }
        /* fall through */
    case OPES_STATE_DATA:
        add_err(&c->body, "incomplete");
        print_obj(c, &c->body);
        return;
    case OPES_STATE_SKIP:
        return; /* the over-long line was reported */
    case OPES_STATE_AUTH:
        if (c->off < c->len) {
            obj_init(&o, "auth", c->off);
            o.verb = OPES_VERB_AUTH;
            add_err(&o, "incomplete");
            print_obj(c, &o);
        }
        return;
    default:
        if (c->off < c->len) {
            obj_init(&o, "command", c->off);
            add_err(&o, "incomplete");
            print_obj(c, &o);
        }
        return;
    }
}

static int run(struct check *c)
{
    for (;;) {
        opes_session_event ev;
        size_t used = 0;
        opes_status st = opes_session_feed(c->s, c->buf + c->off, c->len - c->off, &used, &ev);
        if (st == OPES_ESTATE) { /* closed by QUIT */
            at_end(c, 1);
            return EX_DONE;
        }
        if (st != OPES_OK)
            return EX_SOFTWARE;
        c->off += used;
        switch (ev.type) {
        case OPES_SESSION_EV_NONE:
            at_end(c, 0);
            return EX_DONE;
        case OPES_SESSION_EV_PIPELINING_VIOLATION:
            /* at the data start (the message sent before the 354) it is the
             * body's; else it belongs to the command (or AUTH line) that
             * begins there, also between the chunks of a BDAT transaction */
            if (c->in_body && opes_session_state(c->s) == OPES_STATE_DATA)
                add_err(&c->body, "pipelining");
            else
                c->pipelining = 1;
            break;
        case OPES_SESSION_EV_COMMAND:
        case OPES_SESSION_EV_LINE_TOO_LONG:
            on_command(c, &ev);
            break;
        case OPES_SESSION_EV_AUTH_LINE:
            on_auth(c, &ev);
            break;
        case OPES_SESSION_EV_DATA_ANOMALY:
            data_anomaly(c, ev.data_event);
            break;
        case OPES_SESSION_EV_MESSAGE_END:
            on_message_end(c, &ev);
            break;
        case OPES_SESSION_EV_CHUNK_END:
            reply(c, &ev);
            break;
        case OPES_SESSION_EV_TLS_INJECTION: /* handled at STARTTLS */
        default:
            break;
        }
        if (c->off >= c->len && ev.type == OPES_SESSION_EV_COMMAND &&
            ev.verb == OPES_VERB_STARTTLS && ev.reply_code == 220)
            return EX_DONE;
    }
}

/* see cli.h */
int cmd_smtp_check(int argc, char **argv)
{
    static const char *const offers[][2] = {{"PIPELINING", NULL},
                                            {"SIZE", "52428800"},
                                            {"8BITMIME", NULL},
                                            {"SMTPUTF8", NULL},
                                            {"DSN", NULL},
                                            {"CHUNKING", NULL},
                                            {"ENHANCEDSTATUSCODES", NULL},
                                            {"STARTTLS", NULL},
                                            {"AUTH", "PLAIN LOGIN"},
                                            {"XOPES", NULL}};
    struct check c;
    opes_smtp_config *cfg = NULL;
    const char *path = NULL;
    char *buf = NULL;
    int rc;

    memset(&c, 0, sizeof c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--strict") == 0)
            c.lenient = 0;
        else if (strcmp(a, "--lenient") == 0)
            c.lenient = 1;
        else if (strcmp(a, "--one-write") == 0)
            c.one_write = 1;
        else if (a[0] == '-' && a[1] != '\0') {
            usage_error("smtp check: unknown option", a);
            return EX_USAGE;
        } else if (!path)
            path = a;
        else {
            usage_error("smtp check: more than one input", a);
            return EX_USAGE;
        }
    }
    if ((rc = load_input(path, &buf, &c.len)) != EX_DONE)
        return rc;
    if (opes_smtp_config_new(&cfg, NULL) != OPES_OK) {
        free(buf);
        return EX_SOFTWARE;
    }
    /* XOPES (docs/opes-smtp.md 8): a malformed XOPES-BYPASS value is a 501 */
    if (opes_bypass_register(cfg, NULL) != OPES_OK) {
        opes_smtp_config_free(cfg);
        free(buf);
        return EX_SOFTWARE;
    }
    for (size_t i = 0; i < sizeof offers / sizeof offers[0]; i++)
        opes_smtp_config_offer(cfg, offers[i][0], 1, offers[i][1]);
    /* RFC 5321 4.5.3.1.8: 100 recipients (the default limit) */
    opes_smtp_config_set_lenient(cfg, c.lenient ? OPES_LENIENT_ALL : 0);
    if (opes_session_new(&c.s, OPES_ROLE_SERVER, cfg, NULL) != OPES_OK) {
        opes_smtp_config_free(cfg);
        free(buf);
        return EX_SOFTWARE;
    }
    opes_smtp_config_free(cfg);
    opes_session_set_option(c.s, OPES_SESSION_DATA_MODE,
                            c.lenient ? OPES_DATA_NORMALISE : OPES_DATA_REJECT);
    c.buf = buf;
    json_init(&c.j, stdout);
    rc = run(&c);
    opes_session_free(c.s);
    free(buf);
    if (rc != EX_DONE)
        return rc;
    return c.wanting ? EX_WANTING : EX_DONE;
}
