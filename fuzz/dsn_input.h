/*
 * The input layout of the DSN builder harnesses (fuzz_dsn_build.c,
 * fuzz_dsn_roundtrip.c), kept in one place so that either corpus seeds the
 * other.
 *
 * Byte 0 the report flags (enum opes_dsn_flag, 6 bits; bit 6: the last
 * attempt date is also the Arrival-Date, bit 7: the remote MTA is also the
 * DSN-Gateway and the reporting MTA the Received-From-MTA), byte 1 RET (low 2
 * bits), the action (next 3 bits) and the bypassable values, byte 2 the
 * return limit (0: none, else that many times 16 octets), byte 3 the chunk
 * size the original is fed in (0: at once); then fields separated by 0x1E:
 * seed, from, to, date, message-id, subject, reporting-MTA, envid, OPES
 * system, OPES service, final recipient, ORCPT type, ORCPT, status, remote
 * MTA, diagnostic, last attempt, final log id, will-retry-until, the
 * recipient's OPES service; the rest is the original message. An empty
 * required field gets a valid default, so most inputs reach the writer.
 *
 * The including harness defines CHECK(c) first.
 */
#ifndef FUZZ_DSN_INPUT_H
#define FUZZ_DSN_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opes/opes.h"

enum {
    F_SEED,
    F_FROM,
    F_TO,
    F_DATE,
    F_MSGID,
    F_SUBJ,
    F_RMTA,
    F_ENVID,
    F_SYS,
    F_SVC,
    F_FINAL,
    F_OTYPE,
    F_ORCPT,
    F_STATUS,
    F_REMOTE,
    F_DIAG,
    F_LAST,
    F_LOGID,
    F_RETRY,
    F_RSVC,
    F__N
};

typedef struct dsn_input {
    char *in;         /* one heap copy of the input: ASan sees any read past it */
    const char *orig; /* the original message, in that copy */
    size_t olen;
    opes_dsn_builder *b; /* fed the original and ended */
    opes_dsn_report rep; /* one recipient, r */
    opes_dsn_recipient r;
} dsn_input;

static opes_str dsn_input_dflt(opes_str s, const char *d)
{
    if (s.len == 0) {
        s.ptr = d;
        s.len = strlen(d);
    }
    return s;
}

/* Derive the report and feed the original to a new builder: 0 when the
 * input is too short (nothing to free), else 1. */
static int dsn_input_derive(dsn_input *d, const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    memset(d, 0, sizeof *d);
    d->in = malloc(size);
    CHECK(d->in);
    memcpy(d->in, data, size);
    opes_str f[F__N];
    memset(f, 0, sizeof f);
    size_t pos = 4;
    for (int i = 0; i < F__N; i++) {
        size_t e = pos;
        while (e < size && d->in[e] != 0x1E)
            e++;
        f[i].ptr = d->in + pos;
        f[i].len = e - pos;
        pos = e < size ? e + 1 : e;
    }
    d->orig = d->in + pos;
    d->olen = size - pos;

    CHECK(opes_dsn_builder_new(&d->b, NULL) == OPES_OK);
    if (opes_dsn_builder_set_seed(d->b, f[F_SEED].ptr, f[F_SEED].len) != OPES_OK)
        CHECK(opes_dsn_builder_set_seed(d->b, "s", 1) == OPES_OK);
    if (data[2])
        CHECK(opes_dsn_builder_set_return_limit(d->b, (uint64_t)data[2] * 16u) == OPES_OK);
    size_t step = data[3] ? data[3] : (d->olen ? d->olen : 1);
    for (size_t i = 0; i < d->olen; i += step)
        CHECK(opes_dsn_builder_feed(d->b, d->orig + i, d->olen - i < step ? d->olen - i : step) ==
              OPES_OK);
    CHECK(opes_dsn_builder_end(d->b) == OPES_OK);

    opes_dsn_report *rep = &d->rep;
    opes_dsn_recipient *r = &d->r;
    rep->flags = data[0] & 0x3Fu;
    rep->ret = data[1] & 3;
    if (rep->ret == 3)
        rep->ret = OPES_DSN_RET_FULL;
    r->action = 1 + (data[1] >> 2) % 5;
    rep->bypassable = (data[1] >> 5) % 3;
    r->bypassable = (data[1] >> 6) % 3;
    rep->from = dsn_input_dflt(f[F_FROM], "postmaster@mx.example.net");
    rep->to = dsn_input_dflt(f[F_TO], "alice@example.org");
    rep->date = dsn_input_dflt(f[F_DATE], "Sun, 6 Dec 2026 05:10:00 +0000");
    rep->message_id = dsn_input_dflt(f[F_MSGID], "<r@mx.example.net>");
    rep->subject = f[F_SUBJ];
    rep->reporting_mta = dsn_input_dflt(f[F_RMTA], "mx.example.net");
    rep->envid = f[F_ENVID];
    rep->opes_system = f[F_SYS];
    rep->opes_service = f[F_SVC];
    r->final_recipient = dsn_input_dflt(f[F_FINAL], "bob@example.com");
    r->orcpt_type = f[F_OTYPE];
    r->orcpt = f[F_ORCPT];
    r->status = dsn_input_dflt(f[F_STATUS], "5.0.0");
    r->remote_mta = f[F_REMOTE];
    r->diagnostic = f[F_DIAG];
    r->last_attempt_date = f[F_LAST];
    r->final_log_id = f[F_LOGID];
    r->will_retry_until = f[F_RETRY];
    r->opes_service = f[F_RSVC];
    if (data[0] & 0x40u)
        rep->arrival_date = f[F_LAST];
    if (data[0] & 0x80u) {
        rep->dsn_gateway = f[F_REMOTE];
        rep->received_from_mta = f[F_RMTA];
    }
    rep->rcpts = r;
    rep->nrcpts = 1;
    return 1;
}

static void dsn_input_free(dsn_input *d)
{
    opes_dsn_builder_free(d->b);
    free(d->in);
}

#endif
