/*
 * Real SMTP clients against the command parser.
 *
 * tests/vectors/clients/ holds what Python's smtplib and swaks sent to a
 * recording server (capture.py there; README for the formats). Every
 * capture named in INDEX is walked here: each command line of the .client
 * bytes goes through opes_command_parse() (AUTH exchange lines through
 * opes_auth_line_parse()), DATA bodies are skipped with the length the
 * .expect file gives, and the walk stops where TLS begins. Each result is
 * compared with the .expect line, whose fields come from what the client was
 * told to send, not from any parser: offset, verb as sent, domain, path
 * mailbox, parameters in order, AUTH mechanism and initial response, and the
 * notes the parser must set for what these clients do (lower-case verbs and
 * keywords, <postmaster>).
 *
 * Each line is parsed twice: inside the whole session (the bytes that follow
 * are there, as with PIPELINING) and as an exact guarded copy of the line, so
 * a read past the CRLF faults; every shorter prefix must be OPES_INCOMPLETE.
 */
#include "harness.h"

#include <stdlib.h>

#define VEC_DIR "tests/vectors/clients/"
#define MAX_FIELDS 80

/*
 * What real clients send that a strict parser must refuse, with the reason.
 * Everything not listed here must parse with OPES_OK.
 */
struct deviation {
    const char *fixture;
    size_t offset; /* of the line in <fixture>.client */
    int status;
    int reply_code;
    const char *enhanced; /* RFC 3463 3.6: X.5.2 syntax error, X.5.4 invalid arguments */
};

static const struct deviation deviations[] = {
    /* smtplib.sendmail() adds its own "size=N" when the server offers SIZE
     * and then appends the caller's mail_options, so a caller who passes
     * "SIZE=N" sends the keyword twice:
     *   mail FROM:<alice@example.org> size=211 SIZE=211 BODY=8BITMIME
     * RFC 1870 3 (4) adds one optional SIZE parameter to MAIL; keywords are
     * case-insensitive (RFC 5321 2.4), so size= and SIZE= are the same
     * parameter given twice: 501 (the rule RFC 3461 4.5 and 5.1 spell out for
     * the DSN parameters). The client deviates, the parser is right. */
    {"smtplib-size-twice", 21, OPES_EPARAM_DUPLICATE, 501, "5.5.4"},
    /* smtplib.verify("Bob <bob@example.net>") sends the bare address,
     *   vrfy bob@example.net
     * which the String production of RFC 5321 4.1.1.6/4.1.2 lacks ("@" is
     * not atext) but the prose of 3.5.1 allows ("a user name or a user name
     * and domain", which "cannot be further restricted"): libopes accepts the
     * Mailbox form, so this line is no deviation and is checked like the
     * others (string "bob@example.net"). */
};

static const struct deviation *find_deviation(const char *fixture, size_t offset)
{
    for (size_t i = 0; i < sizeof deviations / sizeof deviations[0]; i++)
        if (strcmp(deviations[i].fixture, fixture) == 0 && deviations[i].offset == offset)
            return &deviations[i];
    return NULL;
}

/* ---- small helpers on the fixture text (our own files, NUL-terminated) ---- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return 0;
    return *a == *b;
}

static int has_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'a' && s[i] <= 'z')
            return 1;
    return 0;
}

static int has_8bit(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

static size_t to_size(const char *s)
{
    return (size_t)strtoull(s, NULL, 10);
}

/* OPES_VERB_* for a verb as sent (case-insensitive), or OPES_VERB_UNKNOWN. */
static int verb_of(const char *text)
{
    for (int v = 1; v < OPES_VERB__COUNT; v++) {
        const char *name = opes_verb_name(v);
        if (name && ieq(name, text))
            return v;
    }
    return OPES_VERB_UNKNOWN;
}

/* Split s in place at sep; returns the number of fields (at most max). */
static size_t split(char *s, char sep, char **field, size_t max)
{
    size_t n = 0;
    field[n++] = s;
    for (char *p = s; *p; p++) {
        if (*p == sep) {
            *p = '\0';
            if (n == max)
                break;
            field[n++] = p + 1;
        }
    }
    return n;
}

/* "# capabilities: KW params, KW params" -> offer each on cfg. */
static void offer_capabilities(opes_smtp_config *cfg, char *list)
{
    char *cap[32];
    while (*list == ' ')
        list++;
    if (*list == '\0')
        return; /* nothing advertised (EHLO refused) */
    size_t n = split(list, ',', cap, 32);
    for (size_t i = 0; i < n; i++) {
        char *kw = cap[i];
        while (*kw == ' ')
            kw++;
        char *params = NULL;
        for (char *p = kw; *p; p++) {
            if (*p == ' ') {
                *p = '\0';
                params = p + 1;
                break;
            }
        }
        opes_status st = opes_smtp_config_offer(cfg, kw, 1, params);
        CHECK_ST(st, OPES_OK);
        if (st != OPES_OK)
            fprintf(stderr, "    capability %s\n", kw);
    }
}

/* ---- one command line ------------------------------------------------------ */

struct walk {
    const char *name; /* fixture */
    opes_smtp_config *cfg;
    const char *buf; /* guarded copy of the whole .client */
    size_t len;
    size_t pos;
};

/* The notes a line must carry, from the expectation: RFC 5321 2.4 makes
 * verbs and keywords case-insensitive, and libopes notes any not in upper
 * case (OPES_NOTE_CASE); RCPT TO:<postmaster> is OPES_NOTE_POSTMASTER
 * (RFC 5321 4.1.1.3). None of these clients sends anything else a parser
 * would note. */
static unsigned expected_notes(int verb, char **f, size_t nf)
{
    unsigned notes = 0;
    if (has_lower(f[1], strlen(f[1])))
        notes |= OPES_NOTE_CASE;
    if (verb == OPES_VERB_MAIL || verb == OPES_VERB_RCPT) {
        for (size_t i = 3; i < nf; i++) {
            const char *eq = strchr(f[i], '=');
            size_t kl = eq ? (size_t)(eq - f[i]) : strlen(f[i]);
            if (has_lower(f[i], kl))
                notes |= OPES_NOTE_CASE;
        }
        if (verb == OPES_VERB_RCPT && ieq(f[2], "postmaster"))
            notes |= OPES_NOTE_POSTMASTER;
    }
    /* VRFY/EXPN user@domain: the Mailbox form of RFC 5321 3.5.1, noted */
    if ((verb == OPES_VERB_VRFY || verb == OPES_VERB_EXPN) && nf == 3 && f[2][0] != '"' &&
        strchr(f[2], '@'))
        notes |= OPES_NOTE_MAILBOX_STRING;
    return notes;
}

/* Compare a parsed command with the expectation fields f[1..nf). */
static void check_command(const opes_command *c, int verb, char **f, size_t nf)
{
    CHECK_EQ(c->verb, verb);
    CHECK_STR(c->verb_text, f[1]);
    CHECK_EQ(c->reply_code, 0);
    CHECK_EQ(c->notes, expected_notes(verb, f, nf));
    /* fields that do not belong to the verb are zero (command.h) */
    if (verb != OPES_VERB_AUTH)
        CHECK(c->mechanism.len == 0 && c->has_initial_response == 0);
    if (verb != OPES_VERB_MAIL && verb != OPES_VERB_RCPT)
        CHECK(c->params.count == 0 && c->path.mailbox.len == 0);
    if (verb != OPES_VERB_HELO && verb != OPES_VERB_EHLO && verb != OPES_VERB_LHLO)
        CHECK_EQ(c->domain.len, 0);
    CHECK(c->chunk_size == 0 && c->last == 0);
    switch (verb) {
    case OPES_VERB_HELO:
    case OPES_VERB_EHLO:
    case OPES_VERB_LHLO:
        CHECK_EQ(nf, 3);
        CHECK_STR(c->domain, f[2]);
        CHECK_STR(c->argument, f[2]);
        break;
    case OPES_VERB_MAIL:
    case OPES_VERB_RCPT: {
        CHECK(nf >= 3);
        const char *mbox = f[2];
        CHECK_STR(c->path.mailbox, mbox);
        if (mbox[0] == '\0') {
            /* MAIL FROM:<> (RFC 5321 4.1.1.2) */
            CHECK_EQ(verb, OPES_VERB_MAIL);
            CHECK_EQ(c->path.kind, OPES_PATH_NULL);
            CHECK_EQ(c->path.domain_kind, OPES_DOMAIN_NONE);
        } else if (verb == OPES_VERB_RCPT && ieq(mbox, "postmaster")) {
            CHECK_EQ(c->path.kind, OPES_PATH_POSTMASTER);
            CHECK_EQ(c->path.domain_kind, OPES_DOMAIN_NONE);
        } else {
            CHECK_EQ(c->path.kind, OPES_PATH_MAILBOX);
            /* local-part "@" domain, split at the last "@" (a quoted local
             * part may hold one; a domain never does) */
            const char *at = strrchr(mbox, '@');
            CHECK(at != NULL);
            if (at) {
                CHECK_MEM(c->path.local_part.ptr, c->path.local_part.len, mbox,
                          (size_t)(at - mbox));
                CHECK_STR(c->path.domain, at + 1);
                int dk = strncmp(at + 1, "[IPv6:", 6) == 0 ? OPES_DOMAIN_IPV6
                         : at[1] == '['                    ? OPES_DOMAIN_IPV4
                                                           : OPES_DOMAIN_NAME;
                CHECK_EQ(c->path.domain_kind, dk);
            }
            CHECK_EQ(!!(c->path.flags & OPES_PATH_F_QUOTED), mbox[0] == '"');
            CHECK_EQ(!!(c->path.flags & OPES_PATH_F_UTF8), has_8bit(mbox));
            CHECK_EQ(c->path.route.len, 0);
        }
        CHECK_EQ(c->params.count, nf - 3);
        for (size_t i = 3; i < nf && i - 3 < c->params.count; i++) {
            const opes_param *p = &c->params.item[i - 3];
            const char *eq = strchr(f[i], '=');
            size_t kl = eq ? (size_t)(eq - f[i]) : strlen(f[i]);
            CHECK_MEM(p->keyword.ptr, p->keyword.len, f[i], kl);
            CHECK_EQ(p->has_value, eq != NULL);
            if (eq)
                CHECK_STR(p->value, eq + 1);
            else
                CHECK_EQ(p->value.len, 0);
        }
        break;
    }
    case OPES_VERB_VRFY:
    case OPES_VERB_EXPN:
    case OPES_VERB_HELP:
    case OPES_VERB_NOOP:
        CHECK(nf == 2 || nf == 3);
        CHECK_STR(c->string, nf == 3 ? f[2] : "");
        CHECK_EQ(c->smtputf8, 0);
        break;
    case OPES_VERB_AUTH:
        CHECK(nf == 3 || nf == 4);
        CHECK_STR(c->mechanism, f[2]);
        CHECK_EQ(c->has_initial_response, nf == 4);
        CHECK_STR(c->initial_response, nf == 4 ? f[3] : "");
        break;
    case OPES_VERB_DATA:
        CHECK_EQ(nf, 3); /* the third field is the body length */
        CHECK_EQ(c->argument.len, 0);
        break;
    default: /* RSET, QUIT, STARTTLS: no argument */
        CHECK_EQ(nf, 2);
        CHECK_EQ(c->argument.len, 0);
        break;
    }
}

/* Parse the command line at w->pos and check it; returns the line length
 * consumed (0 when the parser could not say). */
static size_t walk_command(struct walk *w, char **f, size_t nf)
{
    const char *p = w->buf + w->pos;
    size_t avail = w->len - w->pos;
    int verb = verb_of(f[1]);
    const struct deviation *dev = find_deviation(w->name, w->pos);
    opes_command cmd;
    size_t used = 0;

    CHECK(verb != OPES_VERB_UNKNOWN);
    memset(&cmd, 0x5a, sizeof cmd); /* the parser must set every field it reports */
    opes_status st = opes_command_parse(w->cfg, p, avail, &cmd, &used);
    if (dev) {
        CHECK_ST(st, dev->status);
        CHECK_EQ(cmd.reply_code, dev->reply_code);
        CHECK(cmd.enhanced != NULL && strcmp(cmd.enhanced, dev->enhanced) == 0);
    } else {
        CHECK_ST(st, OPES_OK);
        if (st == OPES_OK)
            check_command(&cmd, verb, f, nf);
        else
            fprintf(stderr, "    reply %d %s at offset %zu of the line\n", cmd.reply_code,
                    cmd.enhanced ? cmd.enhanced : "-", cmd.error_offset);
    }
    /* the line ends at its CRLF (every capture uses CRLF) */
    CHECK(used >= 2 && used <= avail);
    if (used < 2 || used > avail)
        return 0;
    CHECK(p[used - 2] == '\r' && p[used - 1] == '\n');
    if (st == OPES_OK)
        CHECK_EQ(cmd.line_len, used);

    /* the same line alone, ending exactly at a guard page */
    const char *g = guarded_copy(p, used);
    opes_command cmd2;
    size_t used2 = 0;
    opes_status st2 = opes_command_parse(w->cfg, g, used, &cmd2, &used2);
    CHECK_ST(st2, st);
    CHECK_EQ(used2, used);
    if (!dev && st2 == OPES_OK)
        check_command(&cmd2, verb, f, nf);
    /* no CRLF yet: every proper prefix is incomplete and consumes nothing
     * (the empty one on this copy: guarded_free() of a 0-byte guarded copy
     * would touch the guard page) */
    size_t u0 = 1234;
    CHECK_ST(opes_command_parse(w->cfg, g, 0, &cmd2, &u0), OPES_INCOMPLETE);
    CHECK_EQ(u0, 0);
    guarded_free(g);
    for (size_t k = 1; k < used; k++) {
        const char *gp = guarded_copy(p, k);
        size_t u = 1234;
        opes_status sk = opes_command_parse(w->cfg, gp, k, &cmd2, &u);
        if (sk != OPES_INCOMPLETE || u != 0) {
            CHECK_ST(sk, OPES_INCOMPLETE);
            CHECK_EQ(u, 0);
            fprintf(stderr, "    prefix of %zu bytes\n", k);
            guarded_free(gp);
            break;
        }
        test_passed++;
        guarded_free(gp);
    }

    /* RFC 6531 3.4: a MAIL with SMTPUTF8 puts the transaction in UTF-8 mode
     * (the RCPTs that follow may hold UTF-8); RSET ends the transaction. */
    if (verb == OPES_VERB_MAIL) {
        int utf8 = 0;
        for (size_t i = 3; i < nf; i++)
            if (ieq(f[i], "SMTPUTF8"))
                utf8 = 1;
        CHECK_ST(opes_smtp_config_set_utf8(w->cfg, utf8), OPES_OK);
    }
    if (verb == OPES_VERB_RSET)
        CHECK_ST(opes_smtp_config_set_utf8(w->cfg, 0), OPES_OK);
    return used;
}

/* One client line of an AUTH exchange (RFC 4954 4). */
static size_t walk_auth_line(struct walk *w, char **f, size_t nf)
{
    const char *p = w->buf + w->pos;
    size_t avail = w->len - w->pos;
    const char *want = nf >= 3 ? f[2] : "";
    opes_auth_line al;
    size_t used = 0;

    CHECK(nf == 2 || nf == 3);
    opes_status st = opes_auth_line_parse(w->cfg, p, avail, &al, &used);
    CHECK_ST(st, OPES_OK);
    if (st != OPES_OK) {
        fprintf(stderr, "    reply %d at offset %zu of the line\n", al.reply_code, al.error_offset);
        return 0;
    }
    CHECK_EQ(al.cancel, 0);
    CHECK_STR(al.response, want);
    CHECK_EQ(al.line_len, used);
    CHECK(used >= 2 && used <= avail && p[used - 2] == '\r' && p[used - 1] == '\n');

    const char *g = guarded_copy(p, used);
    opes_auth_line al2;
    size_t used2 = 0;
    CHECK_ST(opes_auth_line_parse(w->cfg, g, used, &al2, &used2), OPES_OK);
    CHECK_EQ(used2, used);
    CHECK_STR(al2.response, want);
    CHECK_ST(opes_auth_line_parse(w->cfg, g, used - 1, &al2, &used2), OPES_INCOMPLETE);
    guarded_free(g);
    return used;
}

/*
 * Skip the message data that follows DATA: n bytes up to and including the
 * CRLF "." CRLF that ends it (RFC 5321 4.1.1.4). The length comes from the
 * expectation; check that the bytes there really end the data and that no
 * earlier end-of-data sequence exists (counting the CRLF of the DATA line
 * as the first CRLF of an empty body).
 */
static void skip_data(struct walk *w, size_t n)
{
    const char *b = w->buf + w->pos;
    CHECK(n >= 3 && n <= w->len - w->pos);
    if (n < 3 || n > w->len - w->pos)
        return;
    int ends =
        n == 3 ? memcmp(b, ".\r\n", 3) == 0 : n >= 5 && memcmp(b + n - 5, "\r\n.\r\n", 5) == 0;
    CHECK(ends);
    size_t first = (size_t)-1;
    if (memcmp(b, ".\r\n", 3) == 0)
        first = 3;
    for (size_t i = 0; first == (size_t)-1 && i + 5 <= n; i++)
        if (memcmp(b + i, "\r\n.\r\n", 5) == 0)
            first = i + 5;
    CHECK_EQ(first, n);
    w->pos += n;
    /* the transaction is over */
    CHECK_ST(opes_smtp_config_set_utf8(w->cfg, 0), OPES_OK);
}

/* ---- one fixture ----------------------------------------------------------- */

static void run_fixture(const char *name)
{
    char path[256];
    size_t elen = 0, clen = 0;

    snprintf(path, sizeof path, VEC_DIR "%s.expect", name);
    char *exp = test_read_file(path, &elen);
    snprintf(path, sizeof path, VEC_DIR "%s.client", name);
    char *raw = test_read_file(path, &clen);
    CHECK(exp != NULL && raw != NULL);
    if (!exp || !raw) {
        fprintf(stderr, "    cannot read fixture %s\n", name);
        free(exp);
        free(raw);
        return;
    }

    opes_smtp_config *cfg = NULL;
    CHECK_ST(opes_smtp_config_new(&cfg, NULL), OPES_OK);
    struct walk w = {name, cfg, guarded_copy(raw, clen), clen, 0};
    int saw_caps = 0, stopped_at_tls = 0;
    size_t units = 0;

    char *line = exp;
    while (*line) {
        char *nl = strchr(line, '\n');
        char *next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = '\0';
        if (line[0] == '#') {
            if (strncmp(line, "# capabilities:", 15) == 0) {
                offer_capabilities(cfg, line + 15);
                saw_caps = 1;
            }
            line = next;
            continue;
        }
        if (line[0] == '\0' || stopped_at_tls) {
            CHECK(line[0] == '\0'); /* nothing is expected after TLS starts */
            line = next;
            continue;
        }

        char *f[MAX_FIELDS];
        size_t nf = split(line, '\t', f, MAX_FIELDS);
        unsigned long before = test_failed;
        size_t off = to_size(f[0]);
        CHECK(saw_caps);
        CHECK(nf >= 2);
        CHECK_EQ(w.pos, off);
        units++;
        if (nf < 2 || w.pos != off) {
            fprintf(stderr, "    %s: lost the walk at offset %zu\n", name, off);
            break;
        }
        if (strcmp(f[1], "tls-start") == 0) {
            /* RFC 3207 4: TLS negotiation starts right after the 220 reply;
             * what follows is a TLS record (22 = handshake), not SMTP */
            CHECK(nf == 3 && w.pos < w.len && (unsigned char)w.buf[w.pos] == 22);
            CHECK_EQ(w.len - w.pos, nf == 3 ? to_size(f[2]) : 0);
            stopped_at_tls = 1;
        } else if (strcmp(f[1], "auth-line") == 0) {
            w.pos += walk_auth_line(&w, f, nf);
        } else {
            size_t used = walk_command(&w, f, nf);
            w.pos += used;
            if (verb_of(f[1]) == OPES_VERB_DATA && nf == 3)
                skip_data(&w, to_size(f[2]));
        }
        if (test_failed != before)
            fprintf(stderr, "    ^ in %s.client at offset %zu (%s)\n", name, off, f[1]);
        line = next;
    }
    CHECK(units >= 2);
    /* every byte the client sent is accounted for */
    if (!stopped_at_tls)
        CHECK_EQ(w.pos, w.len);

    guarded_free(w.buf);
    opes_smtp_config_free(cfg);
    free(exp);
    free(raw);
}

int main(void)
{
    size_t n = 0;
    char *index = test_read_file(VEC_DIR "INDEX", &n);
    size_t fixtures = 0;
    CHECK(index != NULL);
    if (index) {
        char *name[256];
        size_t count = split(index, '\n', name, 256);
        for (size_t i = 0; i < count; i++) {
            if (name[i][0] == '\0')
                continue;
            run_fixture(name[i]);
            fixtures++;
        }
        free(index);
    }
    /* INDEX lists the 27 captures capture.py writes; a shorter list means
     * fixtures went missing */
    CHECK(fixtures >= 27);
    printf("%zu client captures checked\n", fixtures);
    return TEST_END();
}
