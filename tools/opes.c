/*
 * opes — the command-line face of libopes, a thin shell over the public API.
 * Its contract (streams, JSON, exit codes) is docs/cli.md.
 */
#include <opes/opes.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

static const char *prog = "opes";

/* see cli.h */
void usage_error(const char *msg, const char *arg)
{
    if (arg)
        fprintf(stderr, "%s: %s: '%s'\n", prog, msg, arg);
    else
        fprintf(stderr, "%s: %s\n", prog, msg);
    fprintf(stderr, "%s: try '%s --help'\n", prog, prog);
}

static const char help_text[] =
    "usage: opes [--help] [--version] COMMAND [ARGS]\n"
    "\n"
    "libopes command-line tool. Results go to stdout (JSON reports, one object\n"
    "per line for streams), diagnostics to stderr. Contract: docs/cli.md.\n"
    "\n"
    "commands:\n"
    "  features                 library version and optional features, as JSON\n"
    "  smtp parse [OPTIONS] [FILE]\n"
    "                           parse SMTP client command lines (FILE or stdin),\n"
    "                           one JSON object per line\n"
    "      --strict             reject every deviation (default)\n"
    "      --lenient            accept real-world deviations, reported as notes\n"
    "      --offer KW[=PARAMS]  offer an ESMTP extension (repeatable), e.g.\n"
    "                           --offer SIZE=52428800 --offer DSN\n"
    "      --offer-all          offer PIPELINING SIZE 8BITMIME SMTPUTF8 DSN\n"
    "                           CHUNKING ENHANCEDSTATUSCODES STARTTLS AUTH\n"
    "      --utf8               SMTPUTF8 in effect for RCPT/VRFY/EXPN\n"
    "  smtp check [--strict|--lenient] [--one-write] [FILE]\n"
    "                           play the server for the bytes an SMTP client sent\n"
    "                           (FILE or stdin): one JSON object per command, AUTH\n"
    "                           line and message body, with the reply a correct\n"
    "                           server gives, errors and notes\n"
    "      --strict             reject every deviation (default)\n"
    "      --lenient            accept real-world deviations, reported as notes\n"
    "      --one-write          the input was one burst: report every command sent\n"
    "                           before a reply it had to wait for (RFC 2920)\n"
    "  xtext encode|decode [STRING]\n"
    "                           RFC 3461 xtext of STRING (or stdin), raw bytes out\n"
    "  trace add --system URI [--privacy URI] [--consent sender|recipient]\n"
    "            [--consent-by direct|policy] [--processor URI]\n"
    "            [--service URI [--action ACTION] [--bypass KIND]]... [FILE]\n"
    "                           prepend this OPES system's trace block to a message\n"
    "                           (FILE or stdin), the message on stdout\n"
    "  trace show [FILE]        the OPES trace of a message as JSON (path order)\n"
    "  reply --code NNN [--status X.Y.Z] --system URI --service URI --text TEXT\n"
    "        [--bypassable]     the traced SMTP rejection, raw reply lines\n"
    "  bypass decide --services FILE [--sender ADDR] [--mail-bypass VALUE]\n"
    "        (--rcpt ADDR [--rcpt-bypass VALUE])... [MESSAGE]\n"
    "                           the bypass decision table as JSON\n"
    "  dsn build --reporting-mta MTA [--sender ADDR] [--opes-system URI]\n"
    "            [--opes-service URI [--bypassable]] [--ret full|hdrs] [--envid ID]\n"
    "            [--requiretls] [--redact] [--arrival-date D] [--date D]\n"
    "            [--message-id ID] [--boundary SEED] [--envelope-out FILE]\n"
    "            (--recipient ADDR [--action A] [--status X.Y.Z] [--diagnostic R]\n"
    "             [--orcpt TYPE;ADDR] [--notify LIST] [--remote-mta MTA]\n"
    "             [--last-attempt D] [--opes-service URI [--bypassable]])...\n"
    "            [--original FILE]\n"
    "                           a delivery status notification with the OPES\n"
    "                           trace on stdout (FILE or stdin); exit 3 when none\n"
    "                           is due; more options in docs/cli.md\n"
    "  dsn parse [FILE]         a delivery status report (FILE or stdin) as JSON;\n"
    "                           exit 2 when the message is not one\n"
    "  dsn parse --mbox [FILE]  one JSON line per message of a mailbox (gzip with\n"
    "                           zlib), with its offset; constant memory\n"
    "\n"
    "exit status: 0 done, 1 input found wanting, 2 input not readable as such,\n"
    "3 nothing to do, 64 usage error, 70 internal failure.\n";

/* ---- input ----------------------------------------------------------- */

static char *read_all(FILE *f, size_t *n)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
        if (len == cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *n = len;
    return buf;
}

/* see cli.h */
int load_input(const char *path, char **buf, size_t *len)
{
    FILE *f = stdin;
    if (path && strcmp(path, "-") != 0) {
        f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
            return EX_NOTINPUT;
        }
    }
    *buf = read_all(f, len);
    if (f != stdin)
        fclose(f);
    if (!*buf) {
        fprintf(stderr, "%s: %s: cannot read input\n", prog, path ? path : "stdin");
        return EX_NOTINPUT;
    }
    return EX_DONE;
}

/* see cli.h */
unsigned message_header_flags(const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    unsigned f = OPES_HEADER_8BIT;
    if (nl && (nl == buf || nl[-1] != '\r'))
        f |= OPES_HEADER_LF;
    return f;
}

/* ---- features ----------------------------------------------------------- */

static int cmd_features(int argc, char **argv)
{
    json j;
    if (argc > 1) {
        usage_error("features: unexpected argument", argv[1]);
        return EX_USAGE;
    }
    json_init(&j, stdout);
    json_obj_begin(&j);
    json_key(&j, "version");
    json_cstr(&j, opes_version_str());
    json_key(&j, "header_version");
    json_cstr(&j, OPES_VERSION_STR);
    json_key(&j, "features");
    json_obj_begin(&j);
    for (unsigned bit = 1; bit != 0; bit <<= 1) {
        const char *name = opes_feature_name(bit);
        if (!name)
            continue;
        json_key(&j, name);
        json_bool(&j, (opes_features() & bit) != 0);
    }
    json_obj_end(&j);
    json_obj_end(&j);
    json_end_line(&j);
    return EX_DONE;
}

/* ---- smtp parse ------------------------------------------------------- */

static void put_notes(json *j, unsigned notes)
{
    json_key(j, "notes");
    json_arr_begin(j);
    for (unsigned bit = 1; bit != 0; bit <<= 1) {
        if (notes & bit) {
            const char *n = opes_note_name(bit);
            json_cstr(j, n ? n : "unknown");
        }
    }
    json_arr_end(j);
}

static void put_command(json *j, size_t offset, const opes_command *c, opes_status st)
{
    json_obj_begin(j);
    json_key(j, "offset");
    json_uint(j, offset);
    json_key(j, "verb");
    if (c->verb != OPES_VERB_UNKNOWN)
        json_cstr(j, opes_verb_name(c->verb));
    else if (c->verb_text.len)
        json_str(j, c->verb_text.ptr, c->verb_text.len);
    else
        json_null(j);
    json_key(j, "known");
    json_bool(j, c->verb != OPES_VERB_UNKNOWN);
    json_key(j, "ok");
    json_bool(j, st == OPES_OK);
    json_key(j, "status");
    json_cstr(j, opes_status_name(st));
    json_key(j, "path");
    if (st == OPES_OK && (c->verb == OPES_VERB_MAIL || c->verb == OPES_VERB_RCPT))
        json_str(j, c->path.mailbox.ptr, c->path.mailbox.len);
    else
        json_null(j);
    json_key(j, "params");
    if (st == OPES_OK && (c->verb == OPES_VERB_MAIL || c->verb == OPES_VERB_RCPT)) {
        json_arr_begin(j);
        for (size_t i = 0; i < c->params.count; i++) {
            const opes_param *p = &c->params.item[i];
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
    json_key(j, "argument");
    if (c->argument.len)
        json_str(j, c->argument.ptr, c->argument.len);
    else
        json_null(j);
    json_key(j, "reply");
    if (st < 0 && c->reply_code)
        json_int(j, c->reply_code);
    else
        json_null(j);
    json_key(j, "enhanced");
    json_cstr(j, st < 0 ? c->enhanced : NULL);
    json_key(j, "error");
    json_cstr(j, st < 0 ? opes_strerror(st) : NULL);
    json_key(j, "error_offset");
    if (st < 0)
        json_uint(j, offset + c->error_offset);
    else
        json_null(j);
    put_notes(j, c->notes);
    json_obj_end(j);
    json_end_line(j);
}

static int offer_one(opes_smtp_config *cfg, const char *spec)
{
    char kw[80];
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
    opes_status st;
    if (n == 0 || n >= sizeof kw) {
        usage_error("--offer: bad extension", spec);
        return EX_USAGE;
    }
    memcpy(kw, spec, n);
    kw[n] = '\0';
    st = opes_smtp_config_offer(cfg, kw, 1, eq ? eq + 1 : NULL);
    if (st == OPES_ENOTFOUND) {
        /* an unknown extension: register it (no parameters) and offer it */
        st = opes_smtp_config_add_extension(cfg, kw, 0, 0);
        if (st == OPES_OK)
            st = opes_smtp_config_offer(cfg, kw, 1, eq ? eq + 1 : NULL);
    }
    if (st != OPES_OK) {
        fprintf(stderr, "%s: --offer %s: %s\n", prog, spec, opes_strerror(st));
        return EX_USAGE;
    }
    return EX_DONE;
}

static int cmd_smtp_parse(int argc, char **argv)
{
    opes_smtp_config *cfg = NULL;
    const char *path = NULL;
    unsigned lenient = 0;
    int utf8 = 0, rc = EX_DONE, wanting = 0;
    char *buf = NULL;
    size_t len = 0, off = 0;
    json j;
    static const char *const all[] = {"PIPELINING", "SIZE=52428800", "8BITMIME", "SMTPUTF8",
                                      "DSN", "CHUNKING", "ENHANCEDSTATUSCODES", "STARTTLS",
                                      "AUTH=PLAIN LOGIN"};

    if (opes_smtp_config_new(&cfg, NULL) != OPES_OK) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EX_SOFTWARE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--strict") == 0) {
            lenient = 0;
        } else if (strcmp(a, "--lenient") == 0) {
            lenient = OPES_LENIENT_ALL;
        } else if (strcmp(a, "--utf8") == 0) {
            utf8 = 1;
        } else if (strcmp(a, "--offer-all") == 0) {
            for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
                if ((rc = offer_one(cfg, all[k])) != EX_DONE)
                    goto out;
        } else if (strcmp(a, "--offer") == 0 || strncmp(a, "--offer=", 8) == 0) {
            const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                usage_error("--offer needs a value", NULL);
                rc = EX_USAGE;
                goto out;
            }
            if ((rc = offer_one(cfg, v)) != EX_DONE)
                goto out;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("smtp parse: unknown option", a);
            rc = EX_USAGE;
            goto out;
        } else if (!path) {
            path = a;
        } else {
            usage_error("smtp parse: more than one input", a);
            rc = EX_USAGE;
            goto out;
        }
    }
    opes_smtp_config_set_lenient(cfg, lenient);
    opes_smtp_config_set_utf8(cfg, utf8);
    if ((rc = load_input(path, &buf, &len)) != EX_DONE)
        goto out;

    json_init(&j, stdout);
    while (off < len) {
        opes_command cmd;
        size_t used = 0;
        opes_status st = opes_command_parse(cfg, buf + off, len - off, &cmd, &used);
        if (st == OPES_INCOMPLETE) {
            /* the input ends inside a line: report it, it is wanting */
            memset(&cmd, 0, sizeof cmd);
            put_command(&j, off, &cmd, st);
            wanting = 1;
            break;
        }
        put_command(&j, off, &cmd, st);
        if (st < 0)
            wanting = 1;
        if (st == OPES_ELINE_TOO_LONG && cmd.line_len == 0) {
            /* skip the rest of the over-long line */
            off += used;
            while (off < len) {
                size_t skip = 0;
                opes_status s2 = opes_line_skip(cfg, buf + off, len - off, &skip);
                off += skip;
                if (s2 == OPES_OK || skip == 0)
                    break;
            }
            continue;
        }
        if (used == 0)
            break; /* never loop without progress */
        off += used;
    }
    rc = wanting ? EX_WANTING : EX_DONE;
out:
    free(buf);
    opes_smtp_config_free(cfg);
    return rc;
}

/* ---- xtext ------------------------------------------------------------ */

static int cmd_xtext(int argc, char **argv)
{
    char *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    int rc;
    opes_status st;
    if (argc < 2 || (strcmp(argv[1], "encode") != 0 && strcmp(argv[1], "decode") != 0) ||
        argc > 3) {
        usage_error("xtext: use 'xtext encode|decode [STRING]'", NULL);
        return EX_USAGE;
    }
    if (argc == 3) {
        in_len = strlen(argv[2]);
        in = malloc(in_len + 1);
        if (!in)
            return EX_SOFTWARE;
        memcpy(in, argv[2], in_len);
    } else if ((rc = load_input(NULL, &in, &in_len)) != EX_DONE) {
        return rc;
    }
    int enc = strcmp(argv[1], "encode") == 0;
    st = enc ? opes_xtext_encode(NULL, 0, &out_len, in, in_len)
             : opes_xtext_decode(NULL, 0, &out_len, in, in_len, 0);
    if (st == OPES_ENOSPC || st == OPES_OK) {
        out = malloc(out_len ? out_len : 1);
        if (!out) {
            free(in);
            return EX_SOFTWARE;
        }
        st = enc ? opes_xtext_encode(out, out_len, &out_len, in, in_len)
                 : opes_xtext_decode(out, out_len, &out_len, in, in_len, 0);
    }
    if (st != OPES_OK) {
        fprintf(stderr, "%s: xtext %s: %s\n", prog, argv[1], opes_strerror(st));
        free(in);
        free(out);
        return EX_WANTING;
    }
    fwrite(out, 1, out_len, stdout);
    free(in);
    free(out);
    return EX_DONE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(help_text, stderr);
        return EX_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        fputs(help_text, stdout);
        return EX_DONE;
    }
    if (strcmp(c, "--version") == 0) {
        printf("opes %s (libopes %s)\n", OPES_VERSION_STR, opes_version_str());
        return EX_DONE;
    }
    if (strcmp(c, "features") == 0)
        return cmd_features(argc - 1, argv + 1);
    if (strcmp(c, "smtp") == 0) {
        if (argc >= 3 && strcmp(argv[2], "parse") == 0)
            return cmd_smtp_parse(argc - 2, argv + 2);
        if (argc >= 3 && strcmp(argv[2], "check") == 0)
            return cmd_smtp_check(argc - 2, argv + 2);
        usage_error("smtp: unknown or missing subcommand", argc >= 3 ? argv[2] : NULL);
        return EX_USAGE;
    }
    if (strcmp(c, "xtext") == 0)
        return cmd_xtext(argc - 1, argv + 1);
    if (strcmp(c, "trace") == 0)
        return cmd_trace(argc - 1, argv + 1);
    if (strcmp(c, "reply") == 0)
        return cmd_reply(argc - 1, argv + 1);
    if (strcmp(c, "bypass") == 0)
        return cmd_bypass(argc - 1, argv + 1);
    if (strcmp(c, "dsn") == 0) {
        if (argc >= 3 && strcmp(argv[2], "build") == 0)
            return cmd_dsn_build(argc - 2, argv + 2);
        if (argc >= 3 && strcmp(argv[2], "parse") == 0)
            return cmd_dsn_parse(argc - 2, argv + 2);
        usage_error("dsn: unknown or missing subcommand", argc >= 3 ? argv[2] : NULL);
        return EX_USAGE;
    }
    usage_error("unknown command", c);
    return EX_USAGE;
}
