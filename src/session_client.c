/*
 * The SMTP session, client role: commands queued as the client sends them,
 * the server's replies matched to them by count (RFC 2920 3.1), the EHLO
 * capabilities honoured, and what may be sent next (RFC 5321 3.3, 4.1.4;
 * RFC 2920; RFC 3030; RFC 3207; RFC 4954; RFC 2033).
 *
 * Replies are read with the reply push parser; the EHLO reply is copied line
 * by line into the arena (the client has no envelope to keep) and parsed
 * whole with opes_ehlo_parse() once its last line is in. The server's offers
 * become the offers of a config of the session's own (peer_cfg), and the
 * client's command lines are parsed under it: whatever the server would
 * refuse as not offered is refused before it is sent.
 */
#include "internal.h"
#include "session_internal.h"

enum client_kind {
    K_GREETING = 0, /* the server's 220 */
    K_COMMAND,      /* a command line */
    K_AUTH_LINE,    /* a response line in an AUTH exchange */
    K_DATA_END      /* the end of the message data */
};

static int peer_offers(const opes_session *s, const char *kw)
{
    return opes_smtp_config_offers(s->peer_cfg, kw, strlen(kw));
}

/* Withdraw every offer of the peer config: what the server offers is known
 * only from an EHLO reply (RFC 5321 4.1.1.1; after HELO nothing). */
static void peer_clear(opes_session *s)
{
    size_t n = opes_smtp_config_extension_count(s->peer_cfg);
    for (size_t i = 0; i < n; i++) {
        const char *kw = NULL;
        if (opes_smtp_config_extension_at(s->peer_cfg, i, &kw, NULL, NULL) == OPES_OK && kw)
            opes_smtp_config_offer(s->peer_cfg, kw, 0, NULL);
    }
    opes_smtp_config_set_utf8(s->peer_cfg, 0);
}

static void client_txn_end(opes_session *s)
{
    s->c_txn = 0;
    s->c_rcpt_sent = 0;
    s->c_rcpt_ok = 0;
    s->c_body = 0;
    s->c_bdat_failed = 0;
    s->c_data_open = 0;
    opes_smtp_config_set_utf8(s->peer_cfg, 0);
}

static void forget_server(opes_session *s)
{
    client_txn_end(s);
    peer_clear(s);
    s->c_hello = 0;
    s->c_ehlo_ok = 0;
    s->c_ehlo_len = 0;
    s->c_ehlo_over = 0;
    s->c_ehlo_reading = 0;
    s->c_auth_open = 0;
    s->c_tls_wait = 0;
    s->authenticated = 0;
}

static int push(opes_session *s, int kind, int verb, int wait, uint32_t count, int last)
{
    struct client_cmd *c;
    if (s->q_len >= CLIENT_QUEUE)
        return 0;
    c = &s->queue[(s->q_head + s->q_len) % CLIENT_QUEUE];
    c->kind = (uint8_t)kind;
    c->verb = (uint8_t)verb;
    c->wait = (uint8_t)wait;
    c->count = count;
    c->last = (uint8_t)last;
    s->q_len++;
    return 1;
}

/* see session_internal.h */
void opes__session_client_reset(opes_session *s)
{
    forget_server(s);
    opes_smtp_config_copy(s->peer_cfg, s->cfg);
    peer_clear(s);
    opes_reply_parser_reset(s->rp);
    opes_reply_parser_set_config(s->rp, s->cfg);
    s->q_head = s->q_len = 0;
    s->c_greeted = 0;
    s->c_refused = 0;
    s->c_closed = 0;
    s->c_quit_sent = 0;
    s->c_line = 0;
    s->c_broken = OPES_OK;
    /* RFC 5321 3.1: the server speaks first */
    push(s, K_GREETING, OPES_VERB_UNKNOWN, 1, 1, 0);
}

/* see session_internal.h */
opes_status opes__session_client_tls(opes_session *s)
{
    int implicit = !s->c_greeted && s->pos == 0;
    if (!s->c_tls_wait && !implicit)
        return OPES_ESTATE;
    /* RFC 3207 4.2: "The client MUST discard any knowledge obtained from the
     * server, such as the list of SMTP service extensions, which was not
     * obtained from the TLS negotiation itself." */
    forget_server(s);
    opes_reply_parser_reset(s->rp);
    if (!implicit) {
        s->q_head = s->q_len = 0;
        s->c_line = 0;
    }
    return OPES_OK;
}

/* RFC 2920 3.1 for the client: whether the reply to this command must be
 * awaited before anything else is sent. */
static int client_must_wait(const opes_session *s, int verb, int auth_quick)
{
    if (!peer_offers(s, "PIPELINING"))
        return 1;
    switch (verb) {
    case OPES_VERB_MAIL:
    case OPES_VERB_RCPT:
    case OPES_VERB_RSET:
    case OPES_VERB_BDAT:
    case OPES_VERB_HELP:
        return 0;
    case OPES_VERB_AUTH:
        return !auth_quick;
    default:
        return 1;
    }
}

/* Whether anything already sent blocks the next unit. */
static int blocked(const opes_session *s)
{
    for (size_t i = 0; i < s->q_len; i++) {
        const struct client_cmd *c = &s->queue[(s->q_head + i) % CLIENT_QUEUE];
        if (c->wait)
            return 1;
    }
    return 0;
}

/* see opes/session.h */
int opes_session_client_may_send(const opes_session *s, int verb)
{
    int lmtp;
    if (!s || s->role != OPES_ROLE_CLIENT || s->c_broken != OPES_OK)
        return 0;
    if (!s->c_greeted || s->c_closed || s->c_quit_sent || s->c_tls_wait)
        return 0;
    if (s->c_data_open) /* RFC 5321 3.3: after 354, the data and nothing else */
        return verb == OPES_SEND_CONTENT;
    if (s->c_auth_open) /* RFC 4954 4: a 334 wants a response line */
        return verb == OPES_SEND_AUTH_LINE;
    if (verb == OPES_SEND_CONTENT || verb == OPES_SEND_AUTH_LINE)
        return 0;
    if (blocked(s))
        return 0;
    if (s->c_refused) /* a 554 greeting: RFC 5321 3.1, only QUIT */
        return verb == OPES_VERB_QUIT;
    lmtp = s->protocol == OPES_PROTOCOL_LMTP;
    switch (verb) {
    case OPES_VERB_EHLO:
    case OPES_VERB_HELO:
        return !lmtp; /* RFC 2033 4.1 */
    case OPES_VERB_LHLO:
        return lmtp;
    case OPES_VERB_MAIL:
        /* RFC 5321 4.1.4: after EHLO/HELO, not inside a transaction */
        return s->c_hello && !s->c_txn;
    case OPES_VERB_RCPT:
        return s->c_txn && !s->c_body;
    case OPES_VERB_DATA:
        /* RFC 3030 2 and 3: not after BDAT, not with BODY=BINARYMIME */
        return s->c_txn && s->c_rcpt_sent && !s->c_body && !s->c_binary;
    case OPES_VERB_BDAT:
        return peer_offers(s, "CHUNKING") && s->c_txn && s->c_rcpt_sent &&
               s->c_body != OPES_VERB_DATA && !s->c_bdat_failed;
    case OPES_VERB_STARTTLS:
        return peer_offers(s, "STARTTLS") && !s->tls && !s->c_txn;
    case OPES_VERB_AUTH:
        return peer_offers(s, "AUTH") && !s->authenticated && !s->c_txn && s->c_hello;
    case OPES_VERB_RSET:
    case OPES_VERB_NOOP:
    case OPES_VERB_QUIT:
    case OPES_VERB_VRFY:
    case OPES_VERB_EXPN:
    case OPES_VERB_HELP:
        return 1;
    default:
        return 0;
    }
}

/* see opes/session.h */
opes_status opes_session_client_send(opes_session *s, const char *line, size_t len)
{
    opes_command cmd;
    size_t used = 0;
    opes_status st;
    int wait, quick = 0;
    if (!s || !line || s->role != OPES_ROLE_CLIENT)
        return OPES_EINVAL;
    if (s->c_auth_open) {
        opes_auth_line a;
        if (!opes_session_client_may_send(s, OPES_SEND_AUTH_LINE))
            return OPES_ESTATE;
        st = opes_auth_line_parse(s->peer_cfg, line, len, &a, &used);
        if (st == OPES_INCOMPLETE || (st == OPES_OK && used != len))
            return OPES_EINVAL;
        if (st != OPES_OK)
            return st;
        if (!push(s, K_AUTH_LINE, OPES_VERB_AUTH, 1, 1, 0))
            return OPES_ENOSPC;
        s->c_auth_open = 0;
        return OPES_OK;
    }
    st = opes_command_parse(s->peer_cfg, line, len, &cmd, &used);
    if (st == OPES_INCOMPLETE || (st == OPES_OK && used != len))
        return OPES_EINVAL;
    if (st != OPES_OK)
        return st;
    if (!opes_session_client_may_send(s, cmd.verb))
        return OPES_ESTATE;
    if (cmd.verb == OPES_VERB_AUTH)
        quick = cmd.has_initial_response &&
                (opes__ieq(cmd.mechanism.ptr, cmd.mechanism.len, "PLAIN") ||
                 opes__ieq(cmd.mechanism.ptr, cmd.mechanism.len, "EXTERNAL"));
    wait = client_must_wait(s, cmd.verb, quick);
    /* LMTP: one reply per accepted recipient to BDAT LAST (RFC 2033 4.2),
     * counted when it comes, once the RCPT replies are all in */
    if (!push(s, K_COMMAND, cmd.verb, wait,
              cmd.verb == OPES_VERB_BDAT && cmd.last && s->protocol == OPES_PROTOCOL_LMTP ? 0 : 1,
              cmd.verb == OPES_VERB_BDAT && cmd.last))
        return OPES_ENOSPC;
    switch (cmd.verb) {
    case OPES_VERB_MAIL: {
        int body = 0;
        s->c_txn = 1;
        s->c_binary =
            opes_params_body(&cmd.params, &body) == OPES_OK && body == OPES_BODY_BINARYMIME;
        /* RFC 6531 3.4: UTF-8 in the RCPT paths of an SMTPUTF8 transaction */
        opes_smtp_config_set_utf8(s->peer_cfg, opes_params_smtputf8(&cmd.params) == OPES_OK);
        break;
    }
    case OPES_VERB_RCPT:
        s->c_rcpt_sent++;
        break;
    case OPES_VERB_DATA:
        s->c_body = OPES_VERB_DATA;
        break;
    case OPES_VERB_BDAT:
        s->c_body = OPES_VERB_BDAT;
        break;
    case OPES_VERB_QUIT:
        s->c_quit_sent = 1;
        break;
    default:
        break;
    }
    return OPES_OK;
}

/* see opes/session.h */
opes_status opes_session_client_data_end(opes_session *s)
{
    if (!s || s->role != OPES_ROLE_CLIENT)
        return OPES_EINVAL;
    if (!s->c_data_open)
        return OPES_ESTATE;
    /* the end of the data may begin a group (RFC 2920 3.1): not awaited */
    if (!push(s, K_DATA_END, OPES_VERB_DATA, !peer_offers(s, "PIPELINING"),
              s->protocol == OPES_PROTOCOL_LMTP ? 0 : 1, 0))
        return OPES_ENOSPC;
    s->c_data_open = 0;
    return OPES_OK;
}

/* see opes/session.h */
opes_status opes_session_client_ehlo(const opes_session *s, const opes_ehlo **out)
{
    if (!s || !out || s->role != OPES_ROLE_CLIENT)
        return OPES_EINVAL;
    if (!s->c_ehlo_ok)
        return OPES_ENOTFOUND;
    *out = s->ehlo;
    return OPES_OK;
}

/* see opes/session.h */
size_t opes_session_client_pending(const opes_session *s)
{
    return s && s->role == OPES_ROLE_CLIENT ? s->q_len : 0;
}

/* The server offers what its EHLO reply lists: offer each registered
 * extension of the list on the peer config (RFC 5321 4.1.1.1). */
static void take_capabilities(opes_session *s)
{
    size_t used = 0;
    s->c_ehlo_ok = 0;
    peer_clear(s);
    if (s->c_ehlo_over ||
        opes_ehlo_parse(s->cfg, s->arena, s->c_ehlo_len, s->ehlo, &used) != OPES_OK)
        return;
    s->c_ehlo_ok = 1;
    for (size_t i = 0; i < s->ehlo->nlines; i++) {
        const opes_ehlo_line *l = &s->ehlo->line[i];
        char kw[72], params[404];
        if (l->keyword.len >= sizeof kw || l->params.len >= sizeof params)
            continue;
        memcpy(kw, l->keyword.ptr, l->keyword.len);
        kw[l->keyword.len] = '\0';
        if (l->flags & OPES_EHLO_LINE_AUTH_EQ) /* "AUTH=PLAIN" (pre-RFC 2554) */
            memcpy(kw, "AUTH", 5);
        if (l->params.len) /* an empty view may have a NULL ptr */
            memcpy(params, l->params.ptr, l->params.len);
        params[l->params.len] = '\0';
        /* keywords not registered in the config stay unknown; a refused
         * parameter text leaves the extension offered without it */
        if (opes_smtp_config_offer(s->peer_cfg, kw, 1, l->params.len ? params : NULL) != OPES_OK)
            opes_smtp_config_offer(s->peer_cfg, kw, 1, NULL);
    }
}

/* A whole reply has arrived for the command c: follow it. */
static void client_follow(opes_session *s, struct client_cmd *c, int code)
{
    int ok2 = code / 100 == 2;
    switch (c->kind) {
    case K_GREETING:
        s->c_greeted = 1;
        /* RFC 5321 3.1: 554 instead of 220 rejects the session */
        s->c_refused = code != 220;
        return;
    case K_AUTH_LINE:
        if (code == 334)
            s->c_auth_open = 1;
        else if (ok2)
            s->authenticated = 1;
        return;
    case K_DATA_END:
        if (c->count <= 1)
            client_txn_end(s);
        return;
    default:
        break;
    }
    switch (c->verb) {
    case OPES_VERB_EHLO:
    case OPES_VERB_LHLO:
        if (ok2) {
            /* RFC 5321 4.1.4: a new EHLO resets the transaction */
            client_txn_end(s);
            s->c_hello = c->verb;
            take_capabilities(s);
        }
        break;
    case OPES_VERB_HELO:
        if (ok2) {
            client_txn_end(s);
            s->c_hello = c->verb;
            s->c_ehlo_ok = 0;
            peer_clear(s); /* no extensions after HELO */
        }
        break;
    case OPES_VERB_MAIL:
        if (!ok2) /* RFC 5321 4.1.4: no transaction */
            client_txn_end(s);
        break;
    case OPES_VERB_RCPT:
        if (ok2)
            s->c_rcpt_ok++;
        break;
    case OPES_VERB_DATA:
        if (code == 354)
            s->c_data_open = 1;
        else /* RFC 5321 3.3: "message data MUST NOT be sent" */
            s->c_body = 0;
        break;
    case OPES_VERB_BDAT:
        if (!ok2)
            /* RFC 3030 2: the transaction has failed; no more chunks */
            s->c_bdat_failed = 1;
        else if (c->last && c->count <= 1)
            client_txn_end(s); /* BDAT LAST accepted */
        break;
    case OPES_VERB_RSET:
        if (ok2)
            client_txn_end(s);
        break;
    case OPES_VERB_QUIT:
        s->c_closed = 1;
        break;
    case OPES_VERB_STARTTLS:
        if (code == 220)
            s->c_tls_wait = 1;
        break;
    case OPES_VERB_AUTH:
        if (code == 334)
            s->c_auth_open = 1;
        else if (ok2)
            s->authenticated = 1;
        break;
    default:
        break;
    }
}

/* see session_internal.h */
opes_status opes__session_client_feed(opes_session *s, const char *buf, size_t len, size_t *used,
                                      opes_session_event *ev)
{
    opes_reply_event rev;
    size_t u = 0;
    opes_status st;
    struct client_cmd *c;
    if (s->c_broken != OPES_OK)
        return s->c_broken;
    if (len == 0)
        return OPES_OK;
    if (s->c_tls_wait) {
        /* after the 220 to STARTTLS the server speaks TLS only: clear text
         * here was injected before the handshake (RFC 3207 5; the reply
         * side of CVE-2011-0411): reported, never read as replies */
        ev->type = OPES_SESSION_EV_TLS_INJECTION;
        ev->offset = s->pos;
        ev->content.ptr = buf;
        ev->content.len = len;
        s->pos += len;
        *used = len;
        return OPES_OK;
    }
    st = opes_reply_parser_feed(s->rp, buf, len, &u, &rev);
    if (st == OPES_INCOMPLETE)
        return OPES_OK;
    if (st != OPES_OK) {
        /* a broken reply stream cannot be resynchronised: sticky */
        if (st != OPES_EINVAL)
            s->c_broken = st;
        ev->offset = s->pos + rev.line.error_offset;
        return st;
    }
    *used = u;
    ev->type = OPES_SESSION_EV_REPLY;
    ev->offset = s->pos;
    ev->reply = rev.line;
    ev->reply_code = rev.line.code;
    ev->last = rev.line.is_last;
    s->pos += u;
    if (s->q_len == 0) {
        /* RFC 5321 3.8: a 421 may come at any time; anything else unasked is
         * the server's error. Reported, matched to nothing. */
        ev->reason = OPES_REASON_UNSOLICITED;
        return OPES_OK;
    }
    c = &s->queue[s->q_head];
    ev->verb = c->verb;
    if (c->count == 0) /* LMTP: all the RCPT replies are in by now */
        c->count = s->c_rcpt_ok > 1 ? (uint32_t)s->c_rcpt_ok : 1;
    /* the EHLO reply is kept whole for opes_ehlo_parse(); only a 2xx one
     * (all its lines have one code, RFC 5321 4.2): a refused EHLO leaves
     * the server's state, so the last capabilities and their views in the
     * arena, as they were (RFC 5321 4.1.4) */
    if (c->kind == K_COMMAND && (c->verb == OPES_VERB_EHLO || c->verb == OPES_VERB_LHLO) &&
        rev.line.code / 100 == 2) {
        if (rev.index == 0) {
            /* the views of the last reply end here (session.h) */
            s->c_ehlo_ok = 0;
            s->c_ehlo_len = 0;
            s->c_ehlo_over = 0;
        }
        s->c_ehlo_reading = !rev.line.is_last;
        if (s->c_ehlo_len <= s->arena_cap && u <= s->arena_cap - s->c_ehlo_len) {
            memcpy(s->arena + s->c_ehlo_len, buf, u);
            s->c_ehlo_len += u;
        } else {
            s->c_ehlo_over = 1;
        }
    }
    if (!rev.line.is_last)
        return OPES_OK;
    client_follow(s, c, rev.line.code);
    if (c->count > 1) {
        c->count--; /* LMTP: one reply per accepted recipient */
        return OPES_OK;
    }
    s->q_head = (s->q_head + 1) % CLIENT_QUEUE;
    s->q_len--;
    if (s->c_closed)
        s->q_len = 0;
    return OPES_OK;
}
