/*
 * Whole sessions of real clients (Python's smtplib, swaks; captured by
 * tests/vectors/clients/capture.py, see its README) through the session's
 * server role.
 *
 * For every capture in INDEX: the bytes the client sent (<name>.client) are
 * fed to a server session offering what the recording server advertised
 * ("# capabilities:" in <name>.expect), and every reply is given as the
 * recording server gave it (the S units of <name>.session, in order). Checked:
 *   - the session asks for exactly as many replies as the real server gave,
 *     in the same order, and consumes every byte (up to the TLS ClientHello);
 *   - each reply the session proposes equals the real server's, except where
 *     the recording server made a choice a correct server need not make (the
 *     table below, each with its reason);
 *   - every message ends where .expect says it does (DATA n);
 *   - every split of the input gives the same event log.
 */
#define _DEFAULT_SOURCE 1
#include "session_driver.h"

#include <strings.h>

#define VEC_DIR "tests/vectors/clients/"

/* Where the recording server's reply is not the one a correct server gives
 * (or not the only one): the session proposes its own, the test gives the
 * recorded one. */
static const struct difference {
    const char *fixture;
    int verb; /* the event's verb */
    int recorded, proposed;
    const char *why;
    /* the code the test gives instead of the recorded one (0: the recorded):
     * a success to a line the parser refused is refused by respond()
     * (OPES_ESTATE: the caller is out of sync), so the failure is given */
    int given;
} differences[] = {
    /* capture.py refuses the first EHLO on purpose (502) to make the client
     * fall back to HELO */
    {"smtplib-helo-fallback", OPES_VERB_EHLO, 502, 250, "EHLO refused by design", 0},
    {"swaks-helo-fallback", OPES_VERB_EHLO, 502, 250, "EHLO refused by design", 0},
    /* capture.py implements EXPN; the session cannot expand a list and
     * proposes 502 (RFC 5321 3.5.2 lets a server refuse EXPN) */
    {"smtplib-commands", OPES_VERB_EXPN, 250, 502, "EXPN is the caller's to implement", 0},
    /* smtplib sends SIZE twice ("size=211 SIZE=211"): the same parameter
     * given twice is 501 (RFC 1870 3, RFC 5321 2.4: keywords are
     * case-insensitive); capture.py does not check */
    {"smtplib-size-twice", OPES_VERB_MAIL, 250, 501, "duplicate SIZE parameter", 501},
    /* ... so a correct server has no transaction for the RCPT and DATA that
     * follow (RFC 5321 4.1.4: 503) */
    {"smtplib-size-twice", OPES_VERB_RCPT, 250, 503, "no MAIL accepted", 0},
    {"smtplib-size-twice", OPES_VERB_DATA, 354, 503, "no MAIL accepted", 0},
    /* a message with bare LF and bare CR (RFC 5321 2.3.8): refused by default
     * (550 5.5.2, as Postfix's smtpd_forbid_bare_newline does); capture.py
     * accepts it. With OPES_DATA_NORMALISE the session proposes 250. */
    {"smtplib-bytes-bare-lf", OPES_VERB_DATA, 250, 550, "bare LF in the data", 0},
};

/* What the DATA codec must report in these sessions (the "deviation:" lines
 * of their .expect files): smtplib sends a bytes message as it is (bare LF,
 * bare CR) and never wraps a line; swaks does not stuff a first-line dot. */
static const struct anomaly {
    const char *fixture;
    const char *event; /* in the log */
} anomalies[] = {
    {"smtplib-bytes-bare-lf", "data_anomaly bare_lf"},
    {"smtplib-bytes-bare-lf", "data_anomaly bare_cr"},
    {"smtplib-dots-long-lines", "data_anomaly long_line"},
    {"swaks-data-first-line-dot", "data_anomaly dot_not_stuffed"},
};

static const struct difference *find_difference(const char *fixture, int verb, int recorded)
{
    for (size_t i = 0; i < sizeof differences / sizeof differences[0]; i++)
        if (strcmp(differences[i].fixture, fixture) == 0 && differences[i].verb == verb &&
            differences[i].recorded == recorded)
            return &differences[i];
    return NULL;
}

/* "# capabilities: KW params, KW params" -> offer each (our own file). */
static void offer_capabilities(opes_smtp_config *cfg, const char *list)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        char *sp = strchr(tok, ' ');
        if (sp)
            *sp = '\0';
        if (opes_smtp_config_offer(cfg, tok, 1, sp ? sp + 1 : NULL) != OPES_OK) {
            fprintf(stderr, "cannot offer %s\n", tok);
            test_failed++;
        }
    }
}

struct fixture {
    char name[64];
    char *client, *expect, *session;
    size_t clen;
    opes_smtp_config *cfg;
    int lmtp;
    int codes[64];
    size_t ncodes;
};

static int load(struct fixture *fx, const char *name)
{
    char path[256];
    size_t n;
    memset(fx, 0, sizeof *fx);
    snprintf(fx->name, sizeof fx->name, "%s", name);
    snprintf(path, sizeof path, VEC_DIR "%s.client", name);
    fx->client = test_read_file(path, &fx->clen);
    snprintf(path, sizeof path, VEC_DIR "%s.expect", name);
    fx->expect = test_read_file(path, &n);
    snprintf(path, sizeof path, VEC_DIR "%s.session", name);
    fx->session = test_read_file(path, &n);
    if (!fx->client || !fx->expect || !fx->session)
        return 0;
    if (opes_smtp_config_new(&fx->cfg, NULL) != OPES_OK)
        return 0;
    for (char *l = fx->expect; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "# capabilities:", 15) == 0) {
            char *e = strchr(l, '\n');
            char save = e ? *e : 0;
            if (e)
                *e = '\0';
            offer_capabilities(fx->cfg, l + 15);
            if (e)
                *e = save;
        }
        if (strncmp(l, "# command:", 10) == 0 && strstr(l, "--protocol LMTP") &&
            strstr(l, "--protocol LMTP") < strchr(l, '\n'))
            fx->lmtp = 1;
    }
    /* the server's replies after its greeting, in order: "S\toff\tlen\tNNN...",
     * each after the client's unit "C\toff\tlen\tVERB ..." it answers */
    int first = 1, cverb = 0;
    for (char *l = fx->session; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (l[0] == 'C' && l[1] == '\t') {
            char *t = strchr(l + 2, '\t');
            t = t ? strchr(t + 1, '\t') : NULL;
            cverb = 0;
            for (int v = 1; t && v < OPES_VERB__COUNT; v++)
                if (strncasecmp(t + 1, opes_verb_name(v), strlen(opes_verb_name(v))) == 0)
                    cverb = v;
            continue;
        }
        if (l[0] != 'S' || l[1] != '\t')
            continue;
        char *t = strchr(l + 2, '\t');
        t = t ? strchr(t + 1, '\t') : NULL;
        if (!t)
            continue;
        int code = atoi(t + 1);
        if (first) { /* the greeting */
            first = 0;
            continue;
        }
        const struct difference *df = find_difference(name, cverb, code);
        if (df && df->given)
            code = df->given;
        if (fx->ncodes < 64)
            fx->codes[fx->ncodes++] = code;
    }
    return 1;
}

static void unload(struct fixture *fx)
{
    free(fx->client);
    free(fx->expect);
    free(fx->session);
    opes_smtp_config_free(fx->cfg);
}

static opes_session *mk(const struct fixture *fx)
{
    opes_session *s = NULL;
    if (opes_session_new(&s, OPES_ROLE_SERVER, fx->cfg, NULL) != OPES_OK)
        abort();
    if (fx->lmtp)
        opes_session_set_option(s, OPES_SESSION_PROTOCOL, OPES_PROTOCOL_LMTP);
    return s;
}

/* The DATA lines of .expect: offset of the DATA command and the data length;
 * the message must end exactly there. */
static void check_data_ends(const struct fixture *fx, const struct drv *d)
{
    size_t k = 0;
    for (const char *l = fx->expect; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        unsigned long off, n;
        char verb[16];
        if (l[0] == '#' || sscanf(l, "%lu\t%15[^\t]\t%lu", &off, verb, &n) != 3)
            continue;
        if (strcmp(verb, "DATA") != 0 && strcmp(verb, "data") != 0)
            continue;
        /* the terminator's "." is 3 bytes before the end of the data */
        size_t data_start = off + 6, dot = data_start + n - 3;
        for (; k < d->nrep; k++)
            if (d->rtype[k] == OPES_SESSION_EV_MESSAGE_END)
                break;
        CHECK(k < d->nrep);
        if (k < d->nrep) {
            CHECK_EQ(d->rat[k], dot);
            k++;
        }
    }
}

static void run_fixture(const char *name)
{
    struct fixture fx;
    CHECK(load(&fx, name));
    if (!fx.client) {
        fprintf(stderr, "    cannot read fixture %s\n", name);
        unload(&fx);
        return;
    }
    char *whole = NULL;
    size_t maxc = fx.clen < 200 ? fx.clen : 64;
    for (size_t chunk = 0; chunk <= maxc + 4; chunk++) {
        size_t c = chunk <= maxc ? chunk : 1 + (size_t)rand() % fx.clen;
        opes_session *s = mk(&fx);
        struct drv d;
        unsigned long before = test_failed;
        drv_init(&d, s);
        d.script = fx.codes;
        d.nscript = fx.ncodes;
        d.tls_on_record = 1;
        size_t end = drv_run(&d, fx.client, fx.clen, NULL, 0, c);
        if (chunk == 0) {
            whole = d.log.p ? strdup(d.log.p) : strdup("");
            /* as many replies as the real server gave, in order */
            CHECK_EQ(d.nrep, fx.ncodes);
            for (size_t i = 0; i < d.nrep && i < fx.ncodes; i++) {
                if (d.prop[i] == fx.codes[i]) {
                    test_passed++;
                    continue;
                }
                const struct difference *df = find_difference(name, d.rverb[i], fx.codes[i]);
                CHECK(df != NULL && df->proposed == d.prop[i]);
                if (!df)
                    fprintf(stderr, "    %s: reply %zu (%s at %llu): proposed %d, recorded %d\n",
                            name, i, opes_verb_name(d.rverb[i]), (unsigned long long)d.rat[i],
                            d.prop[i], fx.codes[i]);
            }
            check_data_ends(&fx, &d);
            int want_any = 0;
            for (size_t i = 0; i < sizeof anomalies / sizeof anomalies[0]; i++) {
                if (strcmp(anomalies[i].fixture, name) != 0)
                    continue;
                want_any = 1;
                CHECK(strstr(d.log.p, anomalies[i].event) != NULL);
            }
            if (!want_any) /* the others send clean data */
                CHECK(strstr(d.log.p ? d.log.p : "", "data_anomaly") == NULL);
            /* every byte consumed, or the walk stopped at the TLS record */
            if (strstr(d.log.p ? d.log.p : "", "tls-record"))
                CHECK(strstr(fx.expect, "tls-start") != NULL);
            else
                CHECK_EQ(end, fx.clen);
            if (test_failed != before)
                fprintf(stderr, "    ^ in %s\n%s", name, d.log.p);
        } else if (strcmp(d.log.p ? d.log.p : "", whole) != 0) {
            test_failed++;
            fprintf(stderr, "FAIL %s: chunk %zu gives another log:\n%s--- whole:\n%s", name, c,
                    d.log.p, whole);
        } else {
            test_passed++;
        }
        sb_free(&d.log);
        sb_free(&d.content);
        opes_session_free(s);
    }
    free(whole);
    unload(&fx);
}

int main(void)
{
    size_t n = 0, count = 0;
    char *index = test_read_file(VEC_DIR "INDEX", &n);
    srand(4902);
    CHECK(index != NULL);
    for (char *l = index; l && *l;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = '\0';
        if (*l && *l != '#') {
            run_fixture(l);
            count++;
        }
        l = e ? e + 1 : NULL;
    }
    CHECK(count >= 27);
    free(index);
    return TEST_END();
}
