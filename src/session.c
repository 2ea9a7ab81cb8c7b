/*
 * The SMTP session: creation, memory layout, the envelope arena, and the
 * server role (RFC 5321 3.3, 4.1.1, 4.1.4, 4.3.2, 4.5.3.1; RFC 2920; RFC 3030;
 * RFC 3207; RFC 4954; RFC 2033). The client role is in session_client.c.
 *
 * Grammar is never decided here: command lines go through
 * opes_command_parse(), AUTH exchange lines through opes_auth_line_parse(),
 * message data through the DATA codec. This file adds the state: what is
 * allowed when, the reply to propose, and what the caller's reply changes.
 */
#include "internal.h"
#include "session_internal.h"

/* ---- names ---------------------------------------------------------------- */

/* see opes/session.h */
const char *opes_session_event_name(int type)
{
    static const char *const names[] = {"none",
                                        "command",
                                        "auth_line",
                                        "data_content",
                                        "data_anomaly",
                                        "message_end",
                                        "bdat_content",
                                        "chunk_end",
                                        "line_too_long",
                                        "tls_injection",
                                        "pipelining_violation",
                                        "reply"};
    if (type < 0 || (size_t)type >= sizeof names / sizeof names[0])
        return NULL;
    return names[type];
}

/* see opes/session.h */
const char *opes_session_reason_name(int reason)
{
    static const char *const names[] = {"none",
                                        "parse",
                                        "need_hello",
                                        "need_mail",
                                        "need_rcpt",
                                        "nested_mail",
                                        "data_after_bdat",
                                        "rcpt_after_bdat",
                                        "binarymime_data",
                                        "bdat_after_last",
                                        "bdat_failed",
                                        "too_many_rcpts",
                                        "arena_full",
                                        "size_exceeded",
                                        "auth_in_txn",
                                        "auth_twice",
                                        "auth_mech",
                                        "auth_ir",
                                        "auth_cancel",
                                        "tls_active",
                                        "starttls_in_txn",
                                        "wrong_hello",
                                        "bare_line_end",
                                        "unsolicited",
                                        "framing_lost"};
    if (reason < 0 || (size_t)reason >= sizeof names / sizeof names[0])
        return NULL;
    return names[reason];
}

/* ---- memory layout ---------------------------------------------------------- */

#define ALIGN16(n) (((n) + (size_t)15) & ~(size_t)15)

/* Offsets of the parts of the one block: the session, its config, the
 * lenient config the envelope is re-parsed with, the DATA decoder, the
 * client's parts, then the arena. */
struct layout {
    size_t cfg, env, peer, dec, rp, ehlo, fixed;
};

static void get_layout(struct layout *l)
{
    size_t o = ALIGN16(sizeof(struct opes_session));
    l->cfg = o;
    o += ALIGN16(opes_smtp_config_sizeof());
    l->env = o;
    o += ALIGN16(opes_smtp_config_sizeof());
    l->peer = o;
    o += ALIGN16(opes_smtp_config_sizeof());
    l->dec = o;
    o += ALIGN16(opes_data_decoder_sizeof());
    l->rp = o;
    o += ALIGN16(opes_reply_parser_sizeof());
    l->ehlo = o;
    o += ALIGN16(sizeof(opes_ehlo));
    l->fixed = o;
}

/* One RCPT index entry at the top of the arena. */
#define IDX_SIZE (3 * sizeof(uint32_t))

static size_t arena_min(const opes_smtp_config *cfg)
{
    return opes_smtp_config_line_limit(cfg, OPES_VERB_MAIL) +
           opes_smtp_config_line_limit(cfg, OPES_VERB_RCPT) + IDX_SIZE;
}

/* RFC 5321 4.5.3.1.8: at least 100 recipients must be buffered; the default
 * arena holds 100 RCPT lines at the limit (real lines are far shorter). */
static size_t arena_default(const opes_smtp_config *cfg)
{
    return opes_smtp_config_line_limit(cfg, OPES_VERB_MAIL) +
           100 * (opes_smtp_config_line_limit(cfg, OPES_VERB_RCPT) + IDX_SIZE);
}

/* see opes/session.h */
size_t opes_session_sizeof(const opes_smtp_config *cfg)
{
    struct layout l;
    get_layout(&l);
    return l.fixed + arena_default(cfg);
}

/* The SIZE maximum the config offers (RFC 1870 4), or 0 for none. The
 * parameter is the config's own NUL-terminated string. */
static uint64_t config_size_max(const opes_smtp_config *cfg)
{
    size_t n = opes_smtp_config_extension_count(cfg);
    for (size_t i = 0; i < n; i++) {
        const char *kw = NULL, *params = NULL;
        int offered = 0;
        if (opes_smtp_config_extension_at(cfg, i, &kw, &params, &offered) != OPES_OK)
            continue;
        if (!offered || !kw || !opes__ieq(kw, strlen(kw), "SIZE"))
            continue;
        uint64_t v = 0;
        for (const char *p = params; p && *p >= '0' && *p <= '9'; p++) {
            unsigned d = (unsigned)(*p - '0');
            if (v > (UINT64_MAX - d) / 10)
                return UINT64_MAX;
            v = v * 10 + d;
        }
        return v;
    }
    return 0;
}

static void clear_envelope(opes_session *s)
{
    s->a_used = 0;
    s->mail_len = 0;
    s->nrcpt = 0;
    s->txn_open = 0;
    s->txn_body = 0;
    s->txn_binary = 0;
    s->bdat_failed = 0;
    s->bdat_total = 0;
    opes_smtp_config_set_utf8(s->cfg, 0);
}

/* State after the greeting of a new connection (or after TLS is up). */
static void greeted_state(opes_session *s)
{
    clear_envelope(s);
    s->hello = 0;
    s->hello_len = 0;
    s->authenticated = 0;
    s->phase = P_COMMAND;
    s->due = 0;
    s->due_kind = D_NONE;
    s->bdat_after_last = 0;
    s->auth_left = 0;
    s->term_pending = 0;
    s->win_start = s->win_end = 0;
    s->viol_at = UINT64_MAX;
    s->last_body = 0;
    s->greet = 0;
    s->tls_owed_end = 0;
    s->skip_then_chunk = 0;
    s->framing_lost = 0;
    if (s->role == OPES_ROLE_CLIENT)
        opes__session_client_reset(s);
}

static void full_reset(opes_session *s)
{
    greeted_state(s);
    s->pos = 0;
    s->tls = 0;
    if (s->starttls_orig)
        opes_smtp_config_offer(s->cfg, "STARTTLS", 1, NULL);
    /* the client waits for the greeting: a command before it was sent is a
     * violation (see opes_session_reply_sent) */
    s->greet = 1;
}

static opes_status session_setup(opes_session *s, void *block, size_t arena_cap, int role,
                                 const opes_smtp_config *cfg)
{
    struct layout l;
    unsigned char *b = block;
    get_layout(&l);
    if (opes_smtp_config_init_in(b + l.cfg, opes_smtp_config_sizeof(), &s->cfg) != OPES_OK ||
        opes_smtp_config_init_in(b + l.env, opes_smtp_config_sizeof(), &s->env_cfg) != OPES_OK ||
        opes_smtp_config_init_in(b + l.peer, opes_smtp_config_sizeof(), &s->peer_cfg) != OPES_OK ||
        opes_data_decoder_init_in(b + l.dec, opes_data_decoder_sizeof(), &s->dec) != OPES_OK ||
        opes_reply_parser_init_in(b + l.rp, opes_reply_parser_sizeof(), &s->rp) != OPES_OK)
        return OPES_EINVAL;
    if (cfg) {
        opes_smtp_config_copy(s->cfg, cfg);
        opes_smtp_config_copy(s->env_cfg, cfg);
    }
    opes_smtp_config_set_utf8(s->cfg, 0);
    /* the envelope was judged when it was accepted; read back, it must
     * parse whatever the transaction's SMTPUTF8 state is now */
    opes_smtp_config_set_lenient(s->env_cfg, OPES_LENIENT_ALL);
    opes_smtp_config_set_utf8(s->env_cfg, 1);
    s->ehlo = (opes_ehlo *)(void *)(b + l.ehlo);
    s->arena = (char *)(b + l.fixed);
    s->arena_cap = arena_cap > UINT32_MAX ? UINT32_MAX : arena_cap;
    s->role = role;
    s->protocol = OPES_PROTOCOL_SMTP;
    s->data_mode = OPES_DATA_REJECT;
    s->starttls_orig = opes_smtp_config_offers(s->cfg, "STARTTLS", 8);
    s->size_max = config_size_max(s->cfg);
    full_reset(s);
    return OPES_OK;
}

/* see opes/session.h */
opes_status opes_session_new(opes_session **out, int role, const opes_smtp_config *cfg,
                             const opes_allocator *alloc)
{
    struct layout l;
    size_t total;
    void *block;
    opes_session *s;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    if (role != OPES_ROLE_SERVER && role != OPES_ROLE_CLIENT)
        return OPES_EINVAL;
    get_layout(&l);
    total = l.fixed + arena_default(cfg);
    block = opes__alloc(alloc, total);
    if (!block)
        return OPES_ENOMEM;
    memset(block, 0, l.fixed);
    s = block;
    if (session_setup(s, block, total - l.fixed, role, cfg) != OPES_OK) {
        opes__free(alloc, block, total);
        return OPES_EINVAL;
    }
    s->heap = 1;
    s->block_size = total;
    if (alloc)
        s->alloc = *alloc;
    *out = s;
    return OPES_OK;
}

/* see opes/session.h */
opes_status opes_session_init_in(void *mem, size_t len, int role, const opes_smtp_config *cfg,
                                 opes_session **out)
{
    struct layout l;
    opes_session *s;
    if (out)
        *out = NULL;
    if (!mem || !out || (role != OPES_ROLE_SERVER && role != OPES_ROLE_CLIENT))
        return OPES_EINVAL;
    get_layout(&l);
    if (len < l.fixed || len - l.fixed < arena_min(cfg))
        return OPES_EINVAL;
    memset(mem, 0, l.fixed);
    s = mem;
    if (session_setup(s, mem, len - l.fixed, role, cfg) != OPES_OK)
        return OPES_EINVAL;
    *out = s;
    return OPES_OK;
}

/* see opes/session.h */
void opes_session_free(opes_session *s)
{
    if (!s || !s->heap)
        return;
    opes_allocator a = s->alloc;
    const opes_allocator *ap = a.alloc ? &a : NULL;
    if (s->arena_heap)
        opes__free(ap, s->arena, s->arena_cap);
    opes__free(ap, s, s->block_size);
}

/* see opes/session.h */
opes_status opes_session_reset(opes_session *s)
{
    if (!s)
        return OPES_EINVAL;
    full_reset(s);
    return OPES_OK;
}

/* see opes/session.h */
opes_status opes_session_set_option(opes_session *s, int option, int value)
{
    if (!s)
        return OPES_EINVAL;
    switch (option) {
    case OPES_SESSION_PROTOCOL:
        if (value != OPES_PROTOCOL_SMTP && value != OPES_PROTOCOL_LMTP)
            return OPES_EINVAL;
        if (s->pos != 0 || s->due)
            return OPES_ESTATE;
        s->protocol = value;
        return OPES_OK;
    case OPES_SESSION_DATA_MODE:
        if (value != OPES_DATA_REJECT && value != OPES_DATA_NORMALISE)
            return OPES_EINVAL;
        if (s->phase == P_DATA)
            return OPES_ESTATE;
        s->data_mode = value;
        return OPES_OK;
    default:
        return OPES_EINVAL;
    }
}

/* see opes/session.h */
opes_status opes_session_set_arena_size(opes_session *s, size_t size)
{
    const opes_allocator *ap;
    char *na;
    int keep_ehlo;
    if (!s || !s->heap || size < arena_min(s->cfg) || size > UINT32_MAX)
        return OPES_EINVAL;
    if (s->txn_open || s->due || s->phase == P_DATA || s->phase == P_BDAT)
        return OPES_ESTATE;
    /* client role: the arena holds the lines of an EHLO reply being read */
    if (s->role == OPES_ROLE_CLIENT && s->c_ehlo_reading)
        return OPES_ESTATE;
    ap = s->alloc.alloc ? &s->alloc : NULL;
    na = opes__alloc(ap, size);
    if (!na)
        return OPES_ENOMEM;
    /* client role: the last EHLO reply moves along when it fits (the
     * capabilities are parsed again: their views point into the arena);
     * otherwise it is forgotten (what the server offers stays known) */
    keep_ehlo = s->role == OPES_ROLE_CLIENT && s->c_ehlo_ok && s->c_ehlo_len <= size;
    if (keep_ehlo)
        memcpy(na, s->arena, s->c_ehlo_len);
    if (s->arena_heap)
        opes__free(ap, s->arena, s->arena_cap);
    s->arena = na;
    s->arena_cap = size;
    s->arena_heap = 1;
    /* the old envelope (if any) is gone */
    s->a_used = s->mail_len = s->nrcpt = 0;
    if (s->role == OPES_ROLE_CLIENT) {
        size_t u = 0;
        if (!keep_ehlo ||
            opes_ehlo_parse(s->cfg, s->arena, s->c_ehlo_len, s->ehlo, &u) != OPES_OK) {
            s->c_ehlo_ok = 0;
            s->c_ehlo_len = 0;
        }
        s->c_ehlo_over = 0;
    }
    return OPES_OK;
}

/* see opes/session.h */
size_t opes_session_arena_size(const opes_session *s)
{
    return s ? s->arena_cap : 0;
}

/* see opes/session.h */
const opes_smtp_config *opes_session_config(const opes_session *s)
{
    return s ? s->cfg : NULL;
}

/* ---- envelope arena ----------------------------------------------------------
 * [MAIL line][RCPT line]...[pending line] ........ [idx n-1]...[idx 1][idx 0]
 * Lines are stored exactly as received (CRLF included) and parsed again on
 * demand; the index at the top holds offset, length and the parser's notes
 * of each recipient. */

static void idx_put(opes_session *s, size_t i, uint32_t off, uint32_t len, uint32_t notes)
{
    uint32_t v[3] = {off, len, notes};
    memcpy(s->arena + s->arena_cap - (i + 1) * IDX_SIZE, v, IDX_SIZE);
}

static void idx_get(const opes_session *s, size_t i, uint32_t v[3])
{
    memcpy(v, s->arena + s->arena_cap - (i + 1) * IDX_SIZE, IDX_SIZE);
}

/* Copy a MAIL or RCPT line into the pending slot after the committed lines.
 * Returns 1 when it fits (with room for one more index entry for a RCPT). */
static int stage_line(opes_session *s, const char *line, size_t len, int is_rcpt)
{
    size_t idx = is_rcpt ? (s->nrcpt + 1) * IDX_SIZE : s->nrcpt * IDX_SIZE;
    if (idx > s->arena_cap || s->a_used > s->arena_cap - idx ||
        len > s->arena_cap - idx - s->a_used) {
        s->pend_stored = 0;
        return 0;
    }
    memcpy(s->arena + s->a_used, line, len);
    s->pend_stored = 1;
    s->pend_len = len;
    return 1;
}

/* ---- proposals --------------------------------------------------------------- */

static void propose(opes_session_event *ev, int code, const char *enh, const char *text, int reason)
{
    ev->reply_code = code;
    ev->enhanced = enh;
    ev->reply_text = text;
    ev->reason = reason;
}

/* Mark an event as needing replies and remember what they answer. */
static void set_due(opes_session *s, opes_session_event *ev, int kind, int n)
{
    ev->needs_reply = n;
    s->due = n;
    s->due_kind = kind;
}

/* SASL mechanisms whose shape the session knows, so that it can propose 334
 * or 235 (it has no credentials: the caller decides; the proposal is the
 * grammar's). client_first: the client may send an initial response (RFC
 * 4954 4: else the AUTH command gets 501 5.7.0); responses: client messages
 * in a successful exchange. Unknown mechanisms: client first, one message. */
static const struct sasl_mech {
    const char *name;
    int client_first;
    int responses;
} sasl_mechs[] = {
    {"PLAIN", 1, 1},         /* RFC 4616 */
    {"EXTERNAL", 1, 1},      /* RFC 4422 Appendix A */
    {"ANONYMOUS", 1, 1},     /* RFC 4505 */
    {"LOGIN", 1, 2},         /* draft-murchison-sasl-login: user name, password */
    {"CRAM-MD5", 0, 1},      /* RFC 2195: the server's challenge comes first */
    {"DIGEST-MD5", 0, 2},    /* RFC 2831 (historic) */
    {"SCRAM-SHA-1", 1, 2},   /* RFC 5802 */
    {"SCRAM-SHA-256", 1, 2}, /* RFC 7677 */
    {"OAUTHBEARER", 1, 1},   /* RFC 7628 */
    {"XOAUTH2", 1, 1},
};

static const struct sasl_mech *sasl_find(opes_str m)
{
    for (size_t i = 0; i < sizeof sasl_mechs / sizeof sasl_mechs[0]; i++)
        if (m.len == strlen(sasl_mechs[i].name) && opes__ieq(m.ptr, m.len, sasl_mechs[i].name))
            return &sasl_mechs[i];
    return NULL;
}

/* Whether the config's AUTH line lists mechanism m (RFC 4954 3: "a
 * space-separated list"). No list at all: no judgement (1). */
static int auth_mech_offered(const opes_smtp_config *cfg, opes_str m)
{
    size_t n = opes_smtp_config_extension_count(cfg);
    for (size_t i = 0; i < n; i++) {
        const char *kw = NULL, *params = NULL;
        int offered = 0;
        if (opes_smtp_config_extension_at(cfg, i, &kw, &params, &offered) != OPES_OK || !kw ||
            !opes__ieq(kw, strlen(kw), "AUTH"))
            continue;
        if (!params || !*params)
            return 1;
        /* the config's own NUL-terminated string */
        const char *p = params;
        while (*p) {
            while (*p == ' ')
                p++;
            const char *w = p;
            while (*p && *p != ' ')
                p++;
            if ((size_t)(p - w) == m.len && opes__ieq2(w, m.len, m.ptr, m.len))
                return 1;
        }
        return 0;
    }
    return 1;
}

static int offers(const opes_session *s, const char *kw)
{
    return opes_smtp_config_offers(s->cfg, kw, strlen(kw));
}

/* RFC 2920 3.1: commands that must be the last of a group (the client waits
 * for their reply). Without PIPELINING every reply is waited for. */
static int must_wait(const opes_session *s, int kind, int verb, int auth_quick)
{
    if (!offers(s, "PIPELINING"))
        return 1;
    switch (kind) {
    case D_COMMAND:
        switch (verb) {
        case OPES_VERB_MAIL:
        case OPES_VERB_RCPT:
        case OPES_VERB_RSET:
            return 0; /* "can all appear anywhere in a pipelined command group" */
        case OPES_VERB_BDAT:
            return 0; /* RFC 3030 2: chunks may be pipelined */
        case OPES_VERB_HELP:
            return 0; /* neither listed nor an extension's command */
        case OPES_VERB_AUTH:
            /* RFC 4954 4: last in a group, except with an initial response
             * for a one-round-trip client-first mechanism (PLAIN, EXTERNAL) */
            return !auth_quick;
        default:
            /* EHLO, DATA, VRFY, EXPN, NOOP, QUIT (RFC 2920 3.1), HELO and LHLO
             * (EHLO's kin), STARTTLS and unknown commands ("Additional
             * commands added by other SMTP extensions may only appear as
             * the last command in a group") */
            return 1;
        }
    case D_AUTH_LINE:
        return 1; /* the client needs the 334 before its next line */
    default:
        /* the end of the data may begin a group (RFC 2920 3.1); an
         * over-long line has no known verb */
        return 0;
    }
}

/* The state rules of a command the parser accepted (RFC 5321 3.3, 4.1.1,
 * 4.1.4; RFC 3030; RFC 3207; RFC 4954; RFC 2033). */
static void server_rules(opes_session *s, opes_session_event *ev)
{
    const opes_command *c = &ev->command;
    int lmtp = s->protocol == OPES_PROTOCOL_LMTP;
    s->pend_verb = c->verb;
    s->pend_ok = 1;
    switch (c->verb) {
    case OPES_VERB_HELO:
    case OPES_VERB_EHLO:
    case OPES_VERB_LHLO:
        if (lmtp != (c->verb == OPES_VERB_LHLO)) {
            /* RFC 2033 4.1: "The HELO and EHLO commands of ESMTP are not
             * present in LMTP. A LMTP server MUST NOT return a Postive
             * Completion reply code to these commands. The 500 reply code is
             * recommended." LHLO is not an SMTP command (RFC 5321 4.2.4). */
            propose(ev, 500, "5.5.1", "Command unrecognized", OPES_REASON_WRONG_HELLO);
            break;
        }
        propose(ev, 250, NULL, NULL, OPES_REASON_NONE);
        s->hello_pend_len = c->domain.len <= sizeof s->hello_pend ? c->domain.len : 0;
        if (s->hello_pend_len)
            memcpy(s->hello_pend, c->domain.ptr, s->hello_pend_len);
        break;
    case OPES_VERB_MAIL: {
        uint64_t size = 0;
        int body = 0;
        /* RFC 5321 4.1.4: a new MAIL outside a transaction replaces the
         * envelope kept since the last one */
        if (!s->txn_open)
            s->a_used = s->mail_len = s->nrcpt = 0;
        stage_line(s, c->verb_text.ptr, c->line_len, 0);
        s->pend_notes = c->notes;
        s->pend_utf8 = opes_params_smtputf8(&c->params) == OPES_OK;
        s->pend_binary =
            opes_params_body(&c->params, &body) == OPES_OK && body == OPES_BODY_BINARYMIME;
        if (!s->hello) /* RFC 5321 4.1.4: EHLO first */
            propose(ev, 503, "5.5.1", "Send HELO/EHLO first", OPES_REASON_NEED_HELLO);
        else if (s->txn_open) /* RFC 5321 4.1.4: "MUST NOT be sent if ... open" */
            propose(ev, 503, "5.5.1", "Nested MAIL command", OPES_REASON_NESTED_MAIL);
        else if (s->size_max && opes_params_size(&c->params, &size) == OPES_OK &&
                 size > s->size_max)
            /* RFC 1870 6.1: 552 "message size exceeds fixed maximium message
             * size"; X.3.4 (RFC 3463 3.4) */
            propose(ev, 552, "5.3.4", "Message size exceeds fixed maximum message size",
                    OPES_REASON_SIZE_EXCEEDED);
        else if (!s->pend_stored)
            propose(ev, 452, "4.3.1", "Insufficient system storage", OPES_REASON_ARENA_FULL);
        else
            propose(ev, 250, "2.1.0", "Sender OK", OPES_REASON_NONE);
        break;
    }
    case OPES_VERB_RCPT:
        stage_line(s, c->verb_text.ptr, c->line_len, 1);
        s->pend_notes = c->notes;
        if (!s->txn_open)
            propose(ev, 503, "5.5.1", "Need MAIL command", OPES_REASON_NEED_MAIL);
        else if (s->txn_body == OPES_VERB_BDAT)
            propose(ev, 503, "5.5.1", "RCPT after BDAT", OPES_REASON_RCPT_AFTER_BDAT);
        else if (s->nrcpt >= opes_smtp_config_limit(s->cfg, OPES_LIMIT_RECIPIENTS))
            /* RFC 5321 4.5.3.1.10: 452 (not 552); X.5.3 (RFC 3463 3.6) */
            propose(ev, 452, "4.5.3", "Too many recipients", OPES_REASON_TOO_MANY_RCPTS);
        else if (!s->pend_stored)
            propose(ev, 452, "4.5.3", "Too many recipients", OPES_REASON_ARENA_FULL);
        else
            propose(ev, 250, "2.1.5", "Recipient OK", OPES_REASON_NONE);
        break;
    case OPES_VERB_DATA:
        if (!s->txn_open)
            propose(ev, 503, "5.5.1", "Need MAIL command", OPES_REASON_NEED_MAIL);
        else if (s->txn_body == OPES_VERB_BDAT)
            /* RFC 3030 2: "a 503 "Bad sequence of commands" MUST be issued" */
            propose(ev, 503, "5.5.1", "DATA after BDAT", OPES_REASON_DATA_AFTER_BDAT);
        else if (s->txn_binary)
            /* RFC 3030 3: "a 503 "Bad sequence of commands" response MUST be sent" */
            propose(ev, 503, "5.5.1", "DATA with BODY=BINARYMIME", OPES_REASON_BINARYMIME_DATA);
        else if (s->nrcpt == 0)
            /* RFC 5321 3.3: 503 or 554 "no valid recipients"; RFC 2033 4.2:
             * LMTP "MUST fail with a 503 reply code" */
            propose(ev, lmtp ? 503 : 554, "5.5.1", "No valid recipients", OPES_REASON_NEED_RCPT);
        else
            propose(ev, 354, NULL, "End data with <CR><LF>.<CR><LF>", OPES_REASON_NONE);
        break;
    case OPES_VERB_BDAT:
        if (!s->txn_open && s->bdat_after_last)
            /* RFC 3030 2: "Any BDAT command sent after the BDAT LAST is
             * illegal and MUST be replied to with a 503" */
            propose(ev, 503, "5.5.1", "BDAT after BDAT LAST", OPES_REASON_BDAT_AFTER_LAST);
        else if (!s->txn_open)
            propose(ev, 503, "5.5.1", "Need MAIL command", OPES_REASON_NEED_MAIL);
        else if (s->bdat_failed)
            /* RFC 3030 2: after a failed chunk the client "MUST NOT send any
             * additional BDAT segments"; those in the pipeline are discarded */
            propose(ev, 503, "5.5.1", "Previous chunk failed, RSET first", OPES_REASON_BDAT_FAILED);
        else if (s->nrcpt == 0)
            propose(ev, lmtp ? 503 : 554, "5.5.1", "No valid recipients", OPES_REASON_NEED_RCPT);
        else if (s->size_max &&
                 (c->chunk_size > s->size_max || s->bdat_total > s->size_max - c->chunk_size))
            propose(ev, 552, "5.3.4", "Message size exceeds fixed maximum message size",
                    OPES_REASON_SIZE_EXCEEDED);
        else
            propose(ev, 250, "2.0.0", c->last ? "Message accepted" : "Chunk accepted",
                    OPES_REASON_NONE);
        break;
    case OPES_VERB_RSET:
        propose(ev, 250, "2.0.0", "OK", OPES_REASON_NONE);
        break;
    case OPES_VERB_VRFY:
        /* RFC 5321 3.5.3: 252 when the server cannot verify but will try */
        propose(ev, 252, "2.0.0", "Cannot VRFY user, but will accept message", OPES_REASON_NONE);
        break;
    case OPES_VERB_EXPN:
        /* the session cannot expand lists: 502 (RFC 5321 3.5.2 allows it) */
        propose(ev, 502, "5.5.1", "EXPN not available", OPES_REASON_NONE);
        break;
    case OPES_VERB_HELP:
        propose(ev, 214, "2.0.0", "See RFC 5321", OPES_REASON_NONE);
        break;
    case OPES_VERB_NOOP:
        propose(ev, 250, "2.0.0", "OK", OPES_REASON_NONE);
        break;
    case OPES_VERB_QUIT:
        propose(ev, 221, "2.0.0", "Bye", OPES_REASON_NONE);
        break;
    case OPES_VERB_STARTTLS:
        if (s->txn_open)
            /* the TLS reset (RFC 3207 4.2) would drop the envelope silently */
            propose(ev, 503, "5.5.1", "STARTTLS inside a mail transaction",
                    OPES_REASON_STARTTLS_IN_TXN);
        else
            propose(ev, 220, "2.0.0", "Ready to start TLS", OPES_REASON_NONE);
        break;
    case OPES_VERB_AUTH: {
        const struct sasl_mech *m = sasl_find(c->mechanism);
        int responses = m ? m->responses : 1;
        s->pend_auth_quick = c->has_initial_response && m && m->responses == 1 &&
                             (opes__ieq(c->mechanism.ptr, c->mechanism.len, "PLAIN") ||
                              opes__ieq(c->mechanism.ptr, c->mechanism.len, "EXTERNAL"));
        if (!s->hello)
            propose(ev, 503, "5.5.1", "Send HELO/EHLO first", OPES_REASON_NEED_HELLO);
        else if (s->authenticated)
            /* RFC 4954 4: "a server MUST reject any further AUTH commands
             * with a 503 reply" */
            propose(ev, 503, "5.5.1", "Already authenticated", OPES_REASON_AUTH_TWICE);
        else if (s->txn_open)
            /* RFC 4954 4: "MUST be rejected with a 503 reply" */
            propose(ev, 503, "5.5.1", "AUTH inside a mail transaction", OPES_REASON_AUTH_IN_TXN);
        else if (!auth_mech_offered(s->cfg, c->mechanism))
            /* RFC 4954 4: 504, and 5.5.4 */
            propose(ev, 504, "5.5.4", "Unrecognized authentication type", OPES_REASON_AUTH_MECH);
        else if (c->has_initial_response && m && !m->client_first)
            /* RFC 4954 4: "MUST reject the AUTH command with a 501 reply"
             * and 5.7.0 */
            propose(ev, 501, "5.7.0", "Initial response not allowed for this mechanism",
                    OPES_REASON_AUTH_IR);
        else {
            s->pend_auth_left = responses - (c->has_initial_response ? 1 : 0);
            if (s->pend_auth_left <= 0)
                propose(ev, 235, "2.7.0", "Authentication successful", OPES_REASON_NONE);
            else
                propose(ev, 334, NULL, NULL, OPES_REASON_NONE);
        }
        break;
    }
    default:
        break;
    }
}

/* ---- pipelining ------------------------------------------------------------------ */

/* A unit (command, data, AUTH line) begins at s->pos: report it if it
 * arrived before a reply the client had to wait for had been sent (once per
 * such reply: the unit that follows it). */
static int violation(opes_session *s, opes_session_event *ev)
{
    if (s->viol_at == s->pos || s->pos < s->win_start || s->pos >= s->win_end)
        return 0;
    s->viol_at = s->pos;
    /* one report per reply not awaited: the first unit after it */
    s->win_end = s->win_start;
    ev->type = OPES_SESSION_EV_PIPELINING_VIOLATION;
    ev->offset = s->pos;
    ev->verb = s->win_verb;
    return 1;
}

/* see opes/session.h */
opes_status opes_session_reply_sent(opes_session *s, size_t unread)
{
    if (!s)
        return OPES_EINVAL;
    if (s->role != OPES_ROLE_SERVER)
        return OPES_ESTATE;
    if (s->greet && s->pos == 0) {
        /* the greeting: nothing may come before it */
        s->win_start = 0;
        s->win_end = unread;
        s->win_verb = OPES_VERB_UNKNOWN;
        s->greet = 0;
    }
    if (s->phase == P_TLS && s->pos + unread > s->tls_owed_end)
        /* RFC 3207 5: bytes the caller holds after the 220 were sent before
         * TLS; they must be fed (and reported) before TLS may begin */
        s->tls_owed_end = s->pos + unread;
    if (s->term_pending) {
        /* a window not yet used up (no unit fed in it) is widened, not
         * replaced: the earliest start, the latest end and verb */
        int open = s->win_start < s->win_end && s->pos < s->win_end;
        if (!open || s->term_end < s->win_start)
            s->win_start = s->term_end;
        if (!open || s->pos + unread > s->win_end)
            s->win_end = s->pos + unread;
        s->win_verb = s->term_verb;
        s->term_pending = 0;
    }
    return OPES_OK;
}

/* ---- feeding (server) ------------------------------------------------------------- */

static void ev_clear(opes_session_event *ev)
{
    /* the scalar fields only: the big views are written for their types */
    ev->type = OPES_SESSION_EV_NONE;
    ev->offset = 0;
    ev->status = OPES_OK;
    ev->needs_reply = 0;
    ev->reply_code = 0;
    ev->enhanced = NULL;
    ev->reply_text = NULL;
    ev->reason = OPES_REASON_NONE;
    ev->verb = 0;
    ev->data_event = 0;
    ev->last = 0;
    ev->size = 0;
    ev->content.ptr = NULL;
    ev->content.len = 0;
}

/* A BDAT line the parser refused (RFC 3030 2): the client, and any relay
 * that accepted the line, sends chunk-size octets after it, which must never
 * be read as commands (they would be smuggled). Read the size leniently: the
 * 1*DIGIT after the verb and its white space, within the line's bytes
 * buf[0..n). Returns 1 (*size set), 0 (no digits: no chunk can follow) or -1
 * (the number overflows: the chunk's end is unknown). */
static int bdat_size_recover(const opes_command *c, const char *buf, size_t n, int cut,
                             uint64_t *size)
{
    size_t i = 4, k; /* "BDAT" */
    int overflow = 0;
    if (c->verb_text.ptr && c->verb_text.ptr >= buf && c->verb_text.ptr < buf + n)
        i = (size_t)(c->verb_text.ptr - buf) + c->verb_text.len;
    if (i >= n || (buf[i] != ' ' && buf[i] != '\t'))
        return 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    k = opes__digits_u64(buf + i, n - i, size, &overflow);
    if (k == 0)
        return 0;
    /* digits up to the cut of an over-long line may go on past it */
    return overflow || (cut && i + k == n) ? -1 : 1;
}

/* Begin reading a chunk whose BDAT line was refused (by the parser or by the
 * state rules): discarded; ev's proposal is due at its end (RFC 3030 2:
 * "MUST accept and discard" the chunk of a failed BDAT). */
static void chunk_begin(opes_session *s, opes_session_event *ev, uint64_t size, int last, int ok)
{
    ev->last = last;
    ev->size = size;
    s->chunk_left = size;
    s->chunk_size = size;
    s->chunk_last = last;
    s->chunk_ok = ok;
    s->chunk_code = ev->reply_code;
    s->chunk_enh = ev->enhanced;
    s->chunk_text = ev->reply_text;
    s->chunk_reason = ev->reason;
    s->chunk_refused = ev->status != OPES_OK;
    if (ok)
        s->txn_body = OPES_VERB_BDAT;
    s->phase = P_BDAT;
}

/* A refused BDAT line (CHUNKING offered): its chunk is read and discarded
 * when its size can be read; when not, the stream's framing is lost: 421,
 * and no more commands (RFC 5321 3.8: the server closes). Returns 1 when it
 * handled the event. */
static int bdat_refused(opes_session *s, opes_session_event *ev, const char *buf, size_t len,
                        opes_status st)
{
    const opes_command *c = &ev->command;
    uint64_t size = 0;
    size_t n = c->line_len ? c->line_len : len;
    int cut = st == OPES_ELINE_TOO_LONG, r;
    if (n > len)
        n = len;
    /* an over-long line is read up to its limit only (error_offset), as far
     * as every split of the input has it */
    if (cut && c->error_offset < n)
        n = c->error_offset;
    r = bdat_size_recover(c, buf, n, cut, &size);
    if (r == 0 && st != OPES_ELINE_TOO_LONG)
        return 0; /* "BDAT", "BDAT x": no size, so no chunk follows */
    ev->type = st == OPES_ELINE_TOO_LONG ? OPES_SESSION_EV_LINE_TOO_LONG : OPES_SESSION_EV_COMMAND;
    if (r == 1) {
        propose(ev, c->reply_code, c->enhanced,
                st == OPES_ELINE_TOO_LONG ? "Line too long" : NULL, OPES_REASON_PARSE);
        chunk_begin(s, ev, size, 0, 0);
        if (st == OPES_ELINE_TOO_LONG && c->line_len == 0) {
            s->phase = P_SKIP; /* the line's tail, then the chunk */
            s->skip_then_chunk = 1;
        }
        return 1;
    }
    /* RFC 5321 4.2.2: 421 closing the channel; X.5.0 (RFC 3463 3.6) */
    propose(ev, 421, "4.5.0", "BDAT chunk size unreadable, closing", OPES_REASON_FRAMING_LOST);
    s->framing_lost = 1;
    set_due(s, ev, st == OPES_ELINE_TOO_LONG ? D_LINE_TOO_LONG : D_COMMAND, 1);
    return 1;
}

static opes_status feed_command(opes_session *s, const char *buf, size_t len, size_t *used,
                                opes_session_event *ev)
{
    opes_command *c = &ev->command;
    size_t u = 0;
    opes_status st;
    if (len == 0)
        return OPES_OK;
    if (violation(s, ev))
        return OPES_OK;
    st = opes_command_parse(s->cfg, buf, len, c, &u);
    if (st == OPES_INCOMPLETE)
        return OPES_OK;
    if (st == OPES_EINVAL)
        return st;
    s->greet = 0; /* the greeting is behind us */
    ev->offset = s->pos;
    ev->status = st;
    ev->verb = c->verb;
    s->pend_verb = c->verb;
    s->pend_ok = 0;
    s->pend_refused = st != OPES_OK;
    s->pend_stored = 0;
    s->pend_auth_quick = 0;
    *used = u;
    s->pos += u;
    if (st != OPES_OK && c->verb == OPES_VERB_BDAT && offers(s, "CHUNKING") &&
        bdat_refused(s, ev, buf, len, st))
        return OPES_OK;
    if (st == OPES_ELINE_TOO_LONG) {
        /* RFC 5321 4.5.3.1.9 "500 Line too long"; the tail is skipped */
        ev->type = OPES_SESSION_EV_LINE_TOO_LONG;
        propose(ev, c->reply_code, c->enhanced, "Line too long", OPES_REASON_PARSE);
        if (c->line_len == 0)
            s->phase = P_SKIP;
        set_due(s, ev, D_LINE_TOO_LONG, 1);
        return OPES_OK;
    }
    ev->type = OPES_SESSION_EV_COMMAND;
    if (st != OPES_OK) {
        if (c->verb == OPES_VERB_STARTTLS && st == OPES_ENOT_OFFERED && s->tls)
            /* RFC 3207 4.1: "A client MUST NOT attempt to start a TLS
             * session if a TLS session is already active"; 4.2: STARTTLS
             * is not offered after TLS. RFC 3207 names no code: 503. */
            propose(ev, 503, "5.5.1", "TLS already active", OPES_REASON_TLS_ACTIVE);
        else
            propose(ev, c->reply_code, c->enhanced, NULL, OPES_REASON_PARSE);
        set_due(s, ev, D_COMMAND, 1);
        return OPES_OK;
    }
    server_rules(s, ev);
    if (c->verb == OPES_VERB_BDAT) {
        /* the reply comes after the chunk (RFC 3030 2); a refused BDAT still
         * has its chunk read and discarded ("MUST accept and discard") */
        chunk_begin(s, ev, c->chunk_size, c->last, ev->reply_code / 100 == 2);
        return OPES_OK;
    }
    set_due(s, ev, D_COMMAND, 1);
    return OPES_OK;
}

static opes_status feed_data(opes_session *s, const char *buf, size_t len, size_t *used,
                             opes_session_event *ev)
{
    opes_data_event dev;
    size_t u = 0;
    opes_status st;
    if (s->pos == s->data_start && len > 0 && violation(s, ev))
        return OPES_OK;
    st = opes_data_decode(s->dec, buf, len, &u, &dev);
    if (st != OPES_OK)
        return st == OPES_EINVAL ? OPES_EINVAL : OPES_ESTATE;
    *used = u;
    s->pos += u;
    switch (dev.type) {
    case OPES_DATA_EV_NONE:
        break;
    case OPES_DATA_EV_CONTENT:
        ev->type = OPES_SESSION_EV_DATA_CONTENT;
        ev->offset = s->data_start + dev.offset;
        ev->content = dev.content;
        break;
    case OPES_DATA_EV_END: {
        opes_data_summary sum;
        int lmtp = s->protocol == OPES_PROTOCOL_LMTP;
        opes_data_decoder_summary(s->dec, &sum);
        ev->type = OPES_SESSION_EV_MESSAGE_END;
        ev->offset = s->data_start + dev.offset;
        ev->verb = OPES_VERB_DATA;
        ev->size = sum.bytes_out;
        if (s->nrcpt == 0)
            /* a 354 given without a valid recipient (RFC 2920 4, the third
             * example): "554 no valid recipients" after the data */
            propose(ev, 554, "5.5.1", "No valid recipients", OPES_REASON_NEED_RCPT);
        else if (sum.reply_code != 250)
            propose(ev, sum.reply_code, sum.enhanced, sum.reply_text, OPES_REASON_BARE_LINE_END);
        else if (s->size_max && sum.bytes_out > s->size_max)
            /* RFC 1870 6.1 */
            propose(ev, 552, "5.3.4", "Message size exceeds fixed maximum message size",
                    OPES_REASON_SIZE_EXCEEDED);
        else
            propose(ev, 250, "2.0.0", "Message accepted", OPES_REASON_NONE);
        s->phase = P_COMMAND;
        s->last_body = OPES_VERB_DATA;
        set_due(s, ev, D_MESSAGE_END, lmtp && s->nrcpt > 1 ? (int)s->nrcpt : 1);
        break;
    }
    default:
        ev->type = OPES_SESSION_EV_DATA_ANOMALY;
        ev->offset = s->data_start + dev.offset;
        ev->data_event = dev.type;
        break;
    }
    return OPES_OK;
}

/* The end of a BDAT chunk: its reply is due now (RFC 3030 2). */
static void chunk_end(opes_session *s, opes_session_event *ev)
{
    int lmtp = s->protocol == OPES_PROTOCOL_LMTP;
    ev->offset = s->pos;
    ev->verb = OPES_VERB_BDAT;
    ev->last = s->chunk_last;
    ev->size = s->chunk_size;
    propose(ev, s->chunk_code, s->chunk_enh, s->chunk_text, s->chunk_reason);
    s->phase = P_COMMAND;
    if (s->chunk_ok && s->chunk_last) {
        ev->type = OPES_SESSION_EV_MESSAGE_END;
        ev->size = s->bdat_total + s->chunk_size;
        s->last_body = OPES_VERB_BDAT;
        set_due(s, ev, D_MESSAGE_END, lmtp && s->nrcpt > 1 ? (int)s->nrcpt : 1);
    } else {
        ev->type = OPES_SESSION_EV_CHUNK_END;
        set_due(s, ev, D_CHUNK_END, 1);
    }
}

static opes_status feed_auth(opes_session *s, const char *buf, size_t len, size_t *used,
                             opes_session_event *ev)
{
    opes_auth_line *a = &ev->auth;
    size_t u = 0;
    opes_status st;
    if (len == 0)
        return OPES_OK;
    if (violation(s, ev))
        return OPES_OK;
    st = opes_auth_line_parse(s->cfg, buf, len, a, &u);
    if (st == OPES_INCOMPLETE)
        return OPES_OK;
    if (st == OPES_EINVAL)
        return st;
    ev->type = OPES_SESSION_EV_AUTH_LINE;
    ev->offset = s->pos;
    ev->status = st;
    ev->verb = OPES_VERB_AUTH;
    *used = u;
    s->pos += u;
    s->pend_verb = OPES_VERB_AUTH;
    s->pend_ok = st == OPES_OK && !a->cancel;
    s->pend_refused = st != OPES_OK;
    if (st != OPES_OK) {
        /* RFC 4954 4: 501 for bad base64, 500 (5.5.6) for a line over the
         * buffer; either fails the AUTH command */
        propose(ev, a->reply_code, a->enhanced, NULL, OPES_REASON_PARSE);
        s->phase = (st == OPES_EAUTH_LINE_TOO_LONG && a->line_len == 0) ? P_SKIP : P_COMMAND;
    } else if (a->cancel) {
        /* RFC 4954 4: "MUST reject the AUTH command by sending a 501 reply" */
        propose(ev, 501, "5.7.0", "Authentication cancelled", OPES_REASON_AUTH_CANCEL);
        s->phase = P_COMMAND;
    } else {
        s->pend_auth_left = s->auth_left - 1;
        if (s->pend_auth_left <= 0)
            propose(ev, 235, "2.7.0", "Authentication successful", OPES_REASON_NONE);
        else
            propose(ev, 334, NULL, NULL, OPES_REASON_NONE);
    }
    set_due(s, ev, D_AUTH_LINE, 1);
    return OPES_OK;
}

static opes_status server_feed(opes_session *s, const char *buf, size_t len, size_t *used,
                               opes_session_event *ev)
{
    size_t off = 0;
    opes_status st = OPES_OK;
    for (;;) {
        size_t u = 0;
        const char *p = buf ? buf + off : NULL;
        size_t n = len - off;
        switch (s->phase) {
        case P_COMMAND:
            st = feed_command(s, p, n, &u, ev);
            off += u;
            goto out;
        case P_DATA:
            st = feed_data(s, p, n, &u, ev);
            off += u;
            goto out;
        case P_AUTH:
            st = feed_auth(s, p, n, &u, ev);
            off += u;
            goto out;
        case P_BDAT:
            if (s->chunk_left == 0) {
                chunk_end(s, ev);
                goto out;
            }
            if (n == 0)
                goto out;
            u = n < s->chunk_left ? n : (size_t)s->chunk_left;
            if (s->chunk_ok) {
                ev->type = OPES_SESSION_EV_BDAT_CONTENT;
                ev->offset = s->pos;
                ev->content.ptr = p;
                ev->content.len = u;
            }
            s->chunk_left -= u;
            s->pos += u;
            off += u;
            if (s->chunk_ok)
                goto out;
            continue; /* a refused chunk is discarded */
        case P_SKIP:
            if (n == 0)
                goto out;
            st = opes_line_skip(s->cfg, p, n, &u);
            off += u;
            s->pos += u;
            if (st != OPES_OK) {
                st = OPES_OK;
                goto out;
            }
            s->phase = s->skip_then_chunk ? P_BDAT : P_COMMAND;
            s->skip_then_chunk = 0;
            continue;
        case P_TLS:
            if (n == 0)
                goto out;
            /* RFC 3207 5 (CVE-2011-0411): bytes sent before TLS are not
             * part of the TLS session; they are discarded */
            ev->type = OPES_SESSION_EV_TLS_INJECTION;
            ev->offset = s->pos;
            ev->content.ptr = p;
            ev->content.len = n;
            s->pos += n;
            off += n;
            goto out;
        default:
            st = OPES_ESTATE;
            goto out;
        }
    }
out:
    *used = off;
    return st;
}

/* see opes/session.h */
opes_status opes_session_feed(opes_session *s, const char *buf, size_t len, size_t *used,
                              opes_session_event *ev)
{
    if (used)
        *used = 0;
    if (!s || !used || !ev || (!buf && len))
        return OPES_EINVAL;
    ev_clear(ev);
    if (s->role == OPES_ROLE_CLIENT)
        return opes__session_client_feed(s, buf, len, used, ev);
    if (s->due || s->phase == P_CLOSED)
        return OPES_ESTATE;
    return server_feed(s, buf, len, used, ev);
}

/* ---- replies (server) ----------------------------------------------------------- */

static void end_transaction(opes_session *s)
{
    /* the envelope stays readable until the next MAIL (or RSET, ...) */
    s->txn_open = 0;
    s->bdat_after_last = s->txn_body == OPES_VERB_BDAT;
    s->txn_body = 0;
    s->txn_binary = 0;
    s->bdat_failed = 0;
    opes_smtp_config_set_utf8(s->cfg, 0);
}

static opes_status respond_command(opes_session *s, int code)
{
    int ok2 = code / 100 == 2;
    if (!s->pend_ok)
        return OPES_OK; /* a refused line changes nothing */
    switch (s->pend_verb) {
    case OPES_VERB_HELO:
    case OPES_VERB_EHLO:
    case OPES_VERB_LHLO:
        if (ok2) {
            /* RFC 5321 4.1.4: reset "exactly as if a RSET command had been
             * issued" */
            clear_envelope(s);
            s->bdat_after_last = 0;
            s->hello = s->pend_verb;
            memcpy(s->hello_dom, s->hello_pend, s->hello_pend_len);
            s->hello_len = s->hello_pend_len;
        }
        break;
    case OPES_VERB_MAIL:
        if (!ok2)
            break;
        if (!s->pend_stored)
            return OPES_ENOSPC;
        if (s->a_used) /* replaces an open transaction (a 503 overridden) */
            memmove(s->arena, s->arena + s->a_used, s->pend_len);
        s->a_used = s->mail_len = s->pend_len;
        s->mail_notes = s->pend_notes;
        s->nrcpt = 0;
        s->txn_open = 1;
        s->txn_body = 0;
        s->txn_binary = s->pend_binary;
        s->bdat_failed = 0;
        s->bdat_total = 0;
        s->bdat_after_last = 0;
        /* RFC 6531 3.4: SMTPUTF8 on MAIL covers the transaction */
        opes_smtp_config_set_utf8(s->cfg, s->pend_utf8);
        break;
    case OPES_VERB_RCPT:
        if (!ok2)
            break;
        if (!s->pend_stored)
            return OPES_ENOSPC;
        idx_put(s, s->nrcpt, (uint32_t)s->a_used, (uint32_t)s->pend_len, s->pend_notes);
        s->a_used += s->pend_len;
        s->nrcpt++;
        break;
    case OPES_VERB_DATA:
        if (code != 354)
            break;
        opes_data_decoder_reset(s->dec);
        opes_data_decoder_set_mode(s->dec, s->data_mode);
        opes_data_decoder_set_line_limit(s->dec,
                                         opes_smtp_config_limit(s->cfg, OPES_LIMIT_TEXT_LINE));
        s->txn_body = OPES_VERB_DATA;
        s->data_start = s->pos;
        s->phase = P_DATA;
        break;
    case OPES_VERB_RSET:
        if (ok2) {
            clear_envelope(s);
            s->bdat_after_last = 0;
        }
        break;
    case OPES_VERB_QUIT:
        if (ok2)
            s->phase = P_CLOSED;
        break;
    case OPES_VERB_STARTTLS:
        /* RFC 3207 4: the go-ahead is 220 and nothing else. A client that
         * took another 2xx/3xx as one would start its handshake while the
         * session read commands; refuse it rather than drop it silently. */
        if (code == 220)
            s->phase = P_TLS;
        else if (code / 100 == 2 || code / 100 == 3)
            return OPES_EINVAL;
        break;
    case OPES_VERB_AUTH:
        if (code == 334) {
            s->auth_left = s->pend_auth_left > 0 ? s->pend_auth_left : 1;
            s->phase = P_AUTH;
        } else if (ok2) {
            s->authenticated = 1;
        }
        break;
    default:
        break;
    }
    return OPES_OK;
}

/* see opes/session.h */
opes_status opes_session_respond(opes_session *s, int code)
{
    int kind, wait;
    opes_status st = OPES_OK;
    if (!s || code < 200 || code > 599)
        return OPES_EINVAL;
    if (s->role != OPES_ROLE_SERVER || s->due <= 0)
        return OPES_ESTATE;
    kind = s->due_kind;
    /* a line the parser refused cannot be accepted: a 2xx or 3xx to it means
     * the caller and the session disagree (the caller is out of sync) */
    /* so is a success to a chunk the session discarded (a refused BDAT's,
     * RFC 3030 2): no event carried its bytes, and for BDAT LAST the client
     * would take the message as delivered and the transaction as over */
    if ((((kind == D_COMMAND || kind == D_LINE_TOO_LONG || kind == D_AUTH_LINE) &&
          s->pend_refused) ||
         (kind == D_CHUNK_END && (s->chunk_refused || !s->chunk_ok))) &&
        (code / 100 == 2 || code / 100 == 3))
        return OPES_ESTATE;
    if (s->framing_lost) {
        /* the 421 (or whatever was given) ends the session: the bytes that
         * follow cannot be framed */
        s->phase = P_CLOSED;
        s->due = 0;
        s->due_kind = D_NONE;
        return OPES_OK;
    }
    switch (kind) {
    case D_COMMAND:
        st = respond_command(s, code);
        if (st != OPES_OK)
            return st;
        break;
    case D_AUTH_LINE:
        if (s->pend_ok && code == 334) {
            s->auth_left = s->pend_auth_left > 0 ? s->pend_auth_left : 1;
        } else {
            if (s->pend_ok && code / 100 == 2)
                s->authenticated = 1;
            if (s->phase == P_AUTH)
                s->phase = P_COMMAND;
        }
        break;
    case D_CHUNK_END:
        if (s->chunk_ok && code / 100 == 2)
            s->bdat_total += s->chunk_size;
        else if (s->txn_open)
            /* RFC 3030 2: after a 4xx/5xx to a chunk the transaction has
             * failed; later chunks are discarded until RSET */
            s->bdat_failed = 1;
        break;
    case D_MESSAGE_END:
        if (s->due == 1) {
            if (s->last_body == OPES_VERB_BDAT && code / 100 == 2)
                s->bdat_total += s->chunk_size;
            end_transaction(s);
        }
        break;
    default:
        break;
    }
    s->due--;
    if (s->due == 0) {
        wait = must_wait(s, kind, s->pend_verb, s->pend_auth_quick);
        s->due_kind = D_NONE;
        /* a reply the client must wait for: remember where the bytes it may
         * not have sent yet begin (opes_session_reply_sent) */
        if (wait && s->phase != P_TLS) {
            /* several such replies before reply_sent(): the bytes after the
             * first were all sent too early; the report names the latest
             * reply the client failed to wait for */
            if (!s->term_pending)
                s->term_end = s->pos;
            s->term_pending = 1;
            s->term_verb = kind == D_MESSAGE_END ? s->last_body
                           : kind == D_CHUNK_END ? OPES_VERB_BDAT
                                                 : s->pend_verb;
        }
    }
    return OPES_OK;
}

/* ---- TLS ------------------------------------------------------------------------- */

/* see opes/session.h */
opes_status opes_session_tls_started(opes_session *s)
{
    if (!s)
        return OPES_EINVAL;
    if (s->role == OPES_ROLE_CLIENT) {
        opes_status st = opes__session_client_tls(s);
        if (st == OPES_OK)
            s->tls = 1;
        return st;
    }
    if (s->due || !(s->phase == P_TLS || (s->pos == 0 && s->phase == P_COMMAND && !s->hello)))
        return OPES_ESTATE;
    /* clear text the caller said it holds (opes_session_reply_sent) has not
     * all been fed and reported as TLS_INJECTION yet: it would otherwise be
     * handed to the TLS layer, or lost unreported (CVE-2011-0411) */
    if (s->phase == P_TLS && s->pos < s->tls_owed_end)
        return OPES_ESTATE;
    /* RFC 3207 4.2: "the SMTP protocol is reset to the initial state (the
     * state in SMTP after a server issues a 220 service ready greeting). The
     * server MUST discard any knowledge obtained from the client"; "A server
     * MUST NOT return the STARTTLS extension in response to an EHLO command
     * received after a TLS handshake has completed." */
    greeted_state(s);
    s->tls = 1;
    opes_smtp_config_offer(s->cfg, "STARTTLS", 0, NULL);
    return OPES_OK;
}

/* ---- getters --------------------------------------------------------------------- */

/* see opes/session.h */
int opes_session_state(const opes_session *s)
{
    if (!s)
        return OPES_STATE_CLOSED;
    switch (s->phase) {
    case P_DATA:
        return OPES_STATE_DATA;
    case P_BDAT:
        return OPES_STATE_BDAT;
    case P_AUTH:
        return OPES_STATE_AUTH;
    case P_TLS:
        return OPES_STATE_TLS_PENDING;
    case P_CLOSED:
        return OPES_STATE_CLOSED;
    case P_SKIP:
        return OPES_STATE_SKIP;
    default:
        break;
    }
    if (s->txn_open)
        return s->nrcpt ? OPES_STATE_RCPT : OPES_STATE_MAIL;
    return s->hello ? OPES_STATE_READY : OPES_STATE_INIT;
}

/* see opes/session.h */
int opes_session_replies_due(const opes_session *s)
{
    return s ? s->due : 0;
}

/* see opes/session.h */
uint64_t opes_session_offset(const opes_session *s)
{
    return s ? s->pos : 0;
}

/* see opes/session.h */
size_t opes_session_max_line(const opes_session *s)
{
    const opes_smtp_config *cfg = s ? s->cfg : NULL;
    size_t m = opes_smtp_config_line_limit(cfg, OPES_VERB_MAIL);
    size_t r = opes_smtp_config_line_limit(cfg, OPES_VERB_RCPT);
    size_t a = opes_smtp_config_limit(cfg, OPES_LIMIT_AUTH_LINE);
    size_t p = opes_smtp_config_limit(cfg, OPES_LIMIT_REPLY_LINE);
    if (r > m)
        m = r;
    if (opes_smtp_config_offers(cfg, "AUTH", 4) && a > m)
        m = a;
    if (s && s->role == OPES_ROLE_CLIENT && p > m)
        m = p;
    return m;
}

/* see opes/session.h */
int opes_session_tls(const opes_session *s)
{
    return s ? s->tls : 0;
}

/* see opes/session.h */
int opes_session_authenticated(const opes_session *s)
{
    return s ? s->authenticated : 0;
}

/* see opes/session.h */
opes_status opes_session_hello(const opes_session *s, int *verb, opes_str *domain)
{
    if (!s)
        return OPES_EINVAL;
    if (!s->hello)
        return OPES_ENOTFOUND;
    if (verb)
        *verb = s->hello;
    if (domain) {
        domain->ptr = s->hello_dom;
        domain->len = s->hello_len;
    }
    return OPES_OK;
}

/* Parse a stored line again (it was accepted, so it parses). */
static opes_status reparse(const opes_session *s, size_t off, size_t len, unsigned notes,
                           opes_command *out)
{
    size_t u = 0;
    opes_status st = opes_command_parse(s->env_cfg, s->arena + off, len, out, &u);
    if (st == OPES_OK)
        out->notes = notes;
    return st;
}

/* see opes/session.h */
opes_status opes_session_mail(const opes_session *s, opes_command *out)
{
    if (!s || !out)
        return OPES_EINVAL;
    if (!s->mail_len)
        return OPES_ENOTFOUND;
    return reparse(s, 0, s->mail_len, s->mail_notes, out);
}

/* see opes/session.h */
size_t opes_session_rcpt_count(const opes_session *s)
{
    return s ? s->nrcpt : 0;
}

/* see opes/session.h */
opes_status opes_session_rcpt(const opes_session *s, size_t i, opes_command *out)
{
    uint32_t v[3];
    if (!s || !out)
        return OPES_EINVAL;
    if (i >= s->nrcpt)
        return OPES_ENOTFOUND;
    idx_get(s, i, v);
    return reparse(s, v[0], v[1], v[2], out);
}

/* see opes/session.h */
opes_status opes_session_data_summary(const opes_session *s, opes_data_summary *out)
{
    if (!s || !out)
        return OPES_EINVAL;
    /* the phase first: a DATA message after a BDAT one reads the codec */
    if (s->phase == P_DATA)
        return opes_data_decoder_summary(s->dec, out);
    if (s->phase == P_BDAT || s->last_body == OPES_VERB_BDAT) {
        memset(out, 0, sizeof *out);
        out->bytes_in = out->bytes_out = s->bdat_total;
        return OPES_OK;
    }
    return opes_data_decoder_summary(s->dec, out);
}
