/*
 * opes dsn build: a delivery status notification (RFC 3464, RFC 6522) with
 * the OPES trace (docs/opes-smtp.md 11), from the original message and
 * options. A thin shell over opes_dsn_builder; docs/cli.md.
 *
 * The original is read once in 64 KiB chunks and fed to the builder; the
 * range of it that the report returns is then read again and written out
 * (through the MIME encoder where the plan says so). A file named by
 * --original is read twice; stdin is copied to an anonymous temporary file
 * (tmpfile()) during the one pass, so memory stays constant either way.
 */
#include <opes/opes.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"

#define MAX_RCPTS 1000
#define CHUNK 65536

typedef struct rcpt_opt {
    opes_dsn_recipient r;
    unsigned notify;
} rcpt_opt;

static opes_str cs(const char *s)
{
    opes_str o = {s, s ? strlen(s) : 0};
    return o;
}

/* ASCII case-insensitive compare of n bytes (strncasecmp is not C11) */
static int ieqn(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'a' && x <= 'z')
            x -= 32;
        if (y >= 'a' && y <= 'z')
            y -= 32;
        if (x != y)
            return 0;
        if (x == 0)
            return 1;
    }
    return 1;
}

static int parse_notify(const char *v, unsigned *out)
{
    unsigned n = 0;
    const char *p = v;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 5 && ieqn(p, "NEVER", 5))
            n |= OPES_DSN_NOTIFY_NEVER;
        else if (l == 7 && ieqn(p, "SUCCESS", 7))
            n |= OPES_DSN_NOTIFY_SUCCESS;
        else if (l == 7 && ieqn(p, "FAILURE", 7))
            n |= OPES_DSN_NOTIFY_FAILURE;
        else if (l == 5 && ieqn(p, "DELAY", 5))
            n |= OPES_DSN_NOTIFY_DELAY;
        else
            return -1;
        p += l;
        if (*p == ',')
            p++;
    }
    if (n == 0 || ((n & OPES_DSN_NOTIFY_NEVER) && n != OPES_DSN_NOTIFY_NEVER))
        return -1;
    *out = n;
    return 0;
}

static int parse_action(const char *v, int *a)
{
    return opes_dsn_action_parse(v, strlen(v), a) == OPES_OK ? 0 : -1;
}

/* Random hex for the defaults (Message-ID, boundary seed). */
static void random_hex(char *out, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    unsigned char raw[32];
    size_t want = n / 2 < sizeof raw ? n / 2 : sizeof raw;
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(raw, 1, want, f) : 0;
    if (f)
        fclose(f);
    for (size_t i = got; i < want; i++)
        raw[i] = (unsigned char)(rand() ^ (int)time(NULL));
    for (size_t i = 0; i < want; i++) {
        out[2 * i] = hx[raw[i] >> 4];
        out[2 * i + 1] = hx[raw[i] & 15];
    }
    out[2 * want] = '\0';
}

static int copy_range(FILE *f, const opes_dsn_plan *plan)
{
    static char in[CHUNK];
    char *enc = NULL;
    opes_mime_encoder e;
    uint64_t left = plan->length;
    if (fseek(f, (long)plan->offset, SEEK_SET) != 0)
        return -1;
    if (plan->cte != OPES_MIME_CTE_NONE) {
        if (opes_mime_encoder_init(&e, plan->cte) != OPES_OK)
            return -1;
        enc = malloc(opes_mime_encode_bound(&e, CHUNK));
        if (!enc)
            return -1;
    }
    for (;;) {
        size_t want = left < CHUNK ? (size_t)left : CHUNK;
        size_t got = want ? fread(in, 1, want, f) : 0;
        if (got < want) {
            free(enc);
            return -1; /* the file changed under us */
        }
        left -= got;
        if (enc) {
            size_t used = 0, n = 0;
            size_t cap = opes_mime_encode_bound(&e, got);
            if (opes_mime_encode(&e, in, got, left == 0, enc, cap, &used, &n) != OPES_OK ||
                used != got) {
                free(enc);
                return -1;
            }
            fwrite(enc, 1, n, stdout);
        } else {
            fwrite(in, 1, got, stdout);
        }
        if (left == 0)
            break;
    }
    free(enc);
    return 0;
}

static int write_piece(opes_dsn_builder *b, int tail)
{
    size_t n = 0;
    opes_status st =
        tail ? opes_dsn_build_tail(b, NULL, 0, &n) : opes_dsn_build_head(b, NULL, 0, &n);
    if (st != OPES_OK && st != OPES_ENOSPC)
        return st;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return OPES_ENOMEM;
    st = tail ? opes_dsn_build_tail(b, buf, n, &n) : opes_dsn_build_head(b, buf, n, &n);
    if (st == OPES_OK)
        fwrite(buf, 1, n, stdout);
    free(buf);
    return st;
}

static void strip_brackets(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '<' && n > 0 && s[n - 1] == '>') {
        p++;
        s[n - 1] = '\0';
    }
    memmove(s, p, strlen(p) + 1);
}

static int write_envelope(const char *path, const opes_dsn_plan *plan)
{
    FILE *f = fopen(path, "w");
    json j;
    if (!f) {
        fprintf(stderr, "opes: %s: %s\n", path, strerror(errno));
        return EX_NOTINPUT;
    }
    const opes_dsn_envelope *e = &plan->envelope;
    json_init(&j, f);
    json_obj_begin(&j);
    json_key(&j, "reverse_path");
    json_str(&j, "", 0);
    json_key(&j, "recipient");
    json_str(&j, e->recipient.ptr, e->recipient.len);
    json_key(&j, "mail_params");
    json_arr_begin(&j);
    if (e->requiretls)
        json_cstr(&j, "REQUIRETLS");
    if (e->smtputf8)
        json_cstr(&j, "SMTPUTF8");
    if (e->body_8bitmime)
        json_cstr(&j, "BODY=8BITMIME");
    json_arr_end(&j);
    json_key(&j, "rcpt_params");
    json_arr_begin(&j);
    if (e->notify_never)
        json_cstr(&j, "NOTIFY=NEVER");
    json_arr_end(&j);
    json_key(&j, "requiretls");
    json_bool(&j, e->requiretls);
    json_key(&j, "keep_without_requiretls");
    json_bool(&j, e->keep_without_requiretls);
    json_key(&j, "ret");
    json_cstr(&j, plan->ret == OPES_DSN_RET_FULL ? "full" : "hdrs");
    json_key(&j, "truncated");
    json_bool(&j, plan->truncated);
    json_key(&j, "boundary");
    json_str(&j, plan->boundary.ptr, plan->boundary.len);
    json_obj_end(&j);
    json_end_line(&j);
    if (fclose(f) != 0)
        return EX_NOTINPUT;
    return EX_DONE;
}

int cmd_dsn_build(int argc, char **argv)
{
    static rcpt_opt rc[MAX_RCPTS];
    size_t nrc = 0;
    opes_dsn_report rep;
    const char *sender = NULL, *original = NULL, *envelope_out = NULL, *seed = NULL;
    const char *postmaster = NULL, *date = NULL, *msgid = NULL;
    int hostile = 0, verified = 0, rcode = EX_USAGE;
    unsigned long long limit = 0;
    char datebuf[64], idbuf[600], seedbuf[40], pmbuf[1000], rpbuf[1000];
    opes_dsn_builder *b = NULL;
    FILE *f = NULL;
    memset(&rep, 0, sizeof rep);
    memset(rc, 0, sizeof rc);

#define NEEDV()                                                                                    \
    do {                                                                                           \
        if (i + 1 >= argc) {                                                                       \
            usage_error("dsn build: option needs a value", a);                                     \
            return EX_USAGE;                                                                       \
        }                                                                                          \
        v = argv[++i];                                                                             \
    } while (0)
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        opes_dsn_recipient *cur = nrc ? &rc[nrc - 1].r : NULL;
        if (strcmp(a, "--recipient") == 0) {
            NEEDV();
            if (nrc == MAX_RCPTS) {
                usage_error("dsn build: too many recipients", v);
                return EX_USAGE;
            }
            rc[nrc].r.final_recipient = cs(v);
            rc[nrc].r.action = OPES_DSN_ACTION_FAILED;
            nrc++;
        } else if (strcmp(a, "--action") == 0 || strcmp(a, "--status") == 0 ||
                   strcmp(a, "--diagnostic") == 0 || strcmp(a, "--orcpt") == 0 ||
                   strcmp(a, "--notify") == 0 || strcmp(a, "--remote-mta") == 0 ||
                   strcmp(a, "--last-attempt") == 0 || strcmp(a, "--final-log-id") == 0 ||
                   strcmp(a, "--will-retry-until") == 0) {
            NEEDV();
            if (!cur) {
                usage_error("dsn build: a per-recipient option before any --recipient", a);
                return EX_USAGE;
            }
            if (strcmp(a, "--action") == 0) {
                if (parse_action(v, &cur->action) != 0) {
                    usage_error("dsn build: --action: not an action", v);
                    return EX_USAGE;
                }
            } else if (strcmp(a, "--status") == 0) {
                cur->status = cs(v);
            } else if (strcmp(a, "--diagnostic") == 0) {
                cur->diagnostic = cs(v);
            } else if (strcmp(a, "--orcpt") == 0) {
                const char *semi = strchr(v, ';');
                if (!semi) {
                    cur->orcpt_type = cs("rfc822");
                    cur->orcpt = cs(v);
                } else {
                    cur->orcpt_type.ptr = v;
                    cur->orcpt_type.len = (size_t)(semi - v);
                    cur->orcpt = cs(semi + 1);
                }
            } else if (strcmp(a, "--notify") == 0) {
                if (parse_notify(v, &rc[nrc - 1].notify) != 0) {
                    usage_error("dsn build: --notify: NEVER or SUCCESS,FAILURE,DELAY", v);
                    return EX_USAGE;
                }
            } else if (strcmp(a, "--remote-mta") == 0) {
                cur->remote_mta = cs(v);
            } else if (strcmp(a, "--last-attempt") == 0) {
                cur->last_attempt_date = cs(v);
            } else if (strcmp(a, "--final-log-id") == 0) {
                cur->final_log_id = cs(v);
            } else {
                cur->will_retry_until = cs(v);
            }
        } else if (strcmp(a, "--opes-service") == 0) {
            NEEDV();
            if (cur)
                cur->opes_service = cs(v);
            else
                rep.opes_service = cs(v);
        } else if (strcmp(a, "--bypassable") == 0) {
            if (cur)
                cur->bypassable = OPES_DSN_BYPASS_YES;
            else
                rep.bypassable = OPES_DSN_BYPASS_YES;
        } else if (strcmp(a, "--not-bypassable") == 0) {
            if (cur)
                cur->bypassable = OPES_DSN_BYPASS_NO;
            else
                rep.bypassable = OPES_DSN_BYPASS_NO;
        } else if (strcmp(a, "--reporting-mta") == 0) {
            NEEDV();
            rep.reporting_mta = cs(v);
        } else if (strcmp(a, "--dsn-gateway") == 0) {
            NEEDV();
            rep.dsn_gateway = cs(v);
        } else if (strcmp(a, "--received-from-mta") == 0) {
            NEEDV();
            rep.received_from_mta = cs(v);
        } else if (strcmp(a, "--sender") == 0) {
            NEEDV();
            sender = v;
        } else if (strcmp(a, "--postmaster") == 0) {
            NEEDV();
            postmaster = v;
        } else if (strcmp(a, "--opes-system") == 0) {
            NEEDV();
            rep.opes_system = cs(v);
        } else if (strcmp(a, "--ret") == 0) {
            NEEDV();
            if (ieqn(v, "full", 5))
                rep.ret = OPES_DSN_RET_FULL;
            else if (ieqn(v, "hdrs", 5))
                rep.ret = OPES_DSN_RET_HDRS;
            else {
                usage_error("dsn build: --ret: full or hdrs", v);
                return EX_USAGE;
            }
        } else if (strcmp(a, "--envid") == 0) {
            NEEDV();
            rep.envid = cs(v);
        } else if (strcmp(a, "--requiretls") == 0) {
            rep.flags |= OPES_DSN_F_REQUIRETLS;
        } else if (strcmp(a, "--redact") == 0) {
            rep.flags |= OPES_DSN_F_REDACT;
        } else if (strcmp(a, "--8bitmime") == 0) {
            rep.flags |= OPES_DSN_F_PATH_8BITMIME;
        } else if (strcmp(a, "--smtputf8") == 0) {
            rep.flags |= OPES_DSN_F_PATH_SMTPUTF8 | OPES_DSN_F_PATH_8BITMIME;
        } else if (strcmp(a, "--hostile") == 0) {
            hostile = 1;
        } else if (strcmp(a, "--sender-verified") == 0) {
            verified = 1;
        } else if (strcmp(a, "--arrival-date") == 0) {
            NEEDV();
            rep.arrival_date = cs(v);
        } else if (strcmp(a, "--date") == 0) {
            NEEDV();
            date = v;
        } else if (strcmp(a, "--message-id") == 0) {
            NEEDV();
            msgid = v;
        } else if (strcmp(a, "--subject") == 0) {
            NEEDV();
            rep.subject = cs(v);
        } else if (strcmp(a, "--boundary") == 0) {
            NEEDV();
            seed = v;
        } else if (strcmp(a, "--return-limit") == 0) {
            char *end = NULL;
            NEEDV();
            errno = 0;
            limit = strtoull(v, &end, 10);
            if (errno || !end || *end || v[0] == '-') {
                usage_error("dsn build: --return-limit: a number of octets", v);
                return EX_USAGE;
            }
        } else if (strcmp(a, "--original") == 0) {
            NEEDV();
            original = v;
        } else if (strcmp(a, "--envelope-out") == 0) {
            NEEDV();
            envelope_out = v;
        } else {
            usage_error("dsn build: unknown option", a);
            return EX_USAGE;
        }
    }
#undef NEEDV
    if (rep.reporting_mta.len == 0) {
        usage_error("dsn build: --reporting-mta is required", NULL);
        return EX_USAGE;
    }
    if (nrc == 0) {
        usage_error("dsn build: at least one --recipient is required", NULL);
        return EX_USAGE;
    }
    if (hostile)
        rep.flags |= OPES_DSN_F_HOSTILE;

    /* the one pass over the original */
    if (opes_dsn_builder_new(&b, NULL) != OPES_OK)
        return EX_SOFTWARE;
    if (!seed) {
        random_hex(seedbuf, 24);
        seed = seedbuf;
    }
    opes_status st = opes_dsn_builder_set_seed(b, seed, strlen(seed));
    if (st != OPES_OK) {
        fprintf(stderr, "opes: dsn build: --boundary: %s\n", opes_strerror(st));
        goto out;
    }
    if (limit)
        opes_dsn_builder_set_return_limit(b, limit);
    {
        static char chunk[CHUNK];
        FILE *in = stdin;
        int first = 1;
        if (original && strcmp(original, "-") != 0) {
            in = fopen(original, "rb");
            if (!in) {
                fprintf(stderr, "opes: %s: %s\n", original, strerror(errno));
                rcode = EX_NOTINPUT;
                goto out;
            }
            f = in;
        } else {
            f = tmpfile();
            if (!f) {
                fprintf(stderr, "opes: dsn build: no temporary file: %s\n", strerror(errno));
                rcode = EX_SOFTWARE;
                goto out;
            }
        }
        for (;;) {
            size_t got = fread(chunk, 1, sizeof chunk, in);
            if (got == 0)
                break;
            if (first) {
                const char *nl = memchr(chunk, '\n', got);
                if (nl && (nl == chunk || nl[-1] != '\r'))
                    rep.flags |= OPES_DSN_F_LF;
                first = 0;
            }
            opes_dsn_builder_feed(b, chunk, got);
            if (in == stdin && fwrite(chunk, 1, got, f) != got) {
                fprintf(stderr, "opes: dsn build: temporary file: %s\n", strerror(errno));
                rcode = EX_SOFTWARE;
                goto out;
            }
        }
        if (ferror(in)) {
            fprintf(stderr, "opes: %s: cannot read input\n", original ? original : "stdin");
            rcode = EX_NOTINPUT;
            goto out;
        }
        opes_dsn_builder_end(b);
    }
    /* the report's recipient: --sender, else the Return-Path field */
    if (!sender) {
        opes_str rp;
        if (opes_dsn_builder_original_field(b, OPES_DSN_ORIG_RETURN_PATH, &rp) != OPES_OK ||
            rp.len >= sizeof rpbuf) {
            usage_error("dsn build: no --sender and no Return-Path field in the original", NULL);
            goto out;
        }
        memcpy(rpbuf, rp.ptr, rp.len);
        rpbuf[rp.len] = '\0';
        strip_brackets(rpbuf);
        sender = rpbuf;
    }
    {
        int null_sender = sender[0] == '\0' || strcmp(sender, "<>") == 0;
        size_t kept = 0;
        for (size_t i = 0; i < nrc; i++) {
            opes_dsn_due_input di;
            int due = 0, reason = 0;
            memset(&di, 0, sizeof di);
            di.null_sender = null_sender;
            di.action = rc[i].r.action;
            di.notify = rc[i].notify;
            di.hostile = hostile && rc[i].r.action == OPES_DSN_ACTION_FAILED;
            di.sender_verified = verified;
            if (opes_dsn_due(&di, &due, &reason) != OPES_OK) {
                rcode = EX_SOFTWARE;
                goto out;
            }
            if (!due) {
                fprintf(stderr, "opes: dsn build: no report due for <%.*s>: %s\n",
                        (int)rc[i].r.final_recipient.len, rc[i].r.final_recipient.ptr,
                        opes_dsn_due_reason_name(reason));
                continue;
            }
            rc[kept++] = rc[i];
        }
        if (kept == 0) {
            rcode = EX_NOTHING;
            goto out;
        }
        nrc = kept;
    }
    static opes_dsn_recipient rr[MAX_RCPTS];
    for (size_t i = 0; i < nrc; i++) {
        rr[i] = rc[i].r;
        if (rr[i].status.len == 0)
            /* RFC 3461 6.3 (g): 4.0.0 or 5.0.0 when nothing more specific */
            rr[i].status = cs(rr[i].action == OPES_DSN_ACTION_FAILED    ? "5.0.0"
                              : rr[i].action == OPES_DSN_ACTION_DELAYED ? "4.0.0"
                                                                        : "2.0.0");
    }
    rep.rcpts = rr;
    rep.nrcpts = nrc;
    rep.to = cs(sender);
    {
        /* the reporting MTA's name, for the defaults */
        const char *host = rep.reporting_mta.ptr, *semi = strchr(host, ';');
        if (semi) {
            host = semi + 1;
            while (*host == ' ')
                host++;
        }
        if (!postmaster) {
            snprintf(pmbuf, sizeof pmbuf, "postmaster@%s", host);
            postmaster = pmbuf;
        }
        if (!msgid) {
            char r[40];
            random_hex(r, 32);
            snprintf(idbuf, sizeof idbuf, "<%s@%s>", r, host);
            msgid = idbuf;
        }
    }
    if (!date) {
        opes_datetime dt;
        size_t n = 0;
        if (opes_date_from_unix((int64_t)time(NULL), 0, &dt) != OPES_OK ||
            opes_date_build(datebuf, sizeof datebuf - 1, &n, &dt) != OPES_OK) {
            rcode = EX_SOFTWARE;
            goto out;
        }
        datebuf[n] = '\0';
        date = datebuf;
    }
    rep.from = cs(postmaster);
    rep.date = cs(date);
    rep.message_id = cs(msgid);

    opes_dsn_plan plan;
    st = opes_dsn_builder_prepare(b, &rep, &plan);
    if (st == OPES_OK) {
        /* the head is built (and checked) before anything is written */
        size_t n = 0;
        st = opes_dsn_build_head(b, NULL, 0, &n);
        if (st == OPES_ENOSPC)
            st = OPES_OK;
    }
    if (st != OPES_OK) {
        fprintf(stderr, "opes: dsn build: %s (%s)\n", opes_strerror(st), opes_status_name(st));
        rcode = st == OPES_ENOMEM ? EX_SOFTWARE : EX_USAGE;
        goto out;
    }
    if (envelope_out && (rcode = write_envelope(envelope_out, &plan)) != EX_DONE)
        goto out;
    if (write_piece(b, 0) != OPES_OK || copy_range(f, &plan) != 0 || write_piece(b, 1) != OPES_OK) {
        fprintf(stderr, "opes: dsn build: cannot write the report\n");
        rcode = EX_SOFTWARE;
        goto out;
    }
    rcode = fflush(stdout) == 0 ? EX_DONE : EX_SOFTWARE;
out:
    if (f)
        fclose(f);
    opes_dsn_builder_free(b);
    return rcode;
}
