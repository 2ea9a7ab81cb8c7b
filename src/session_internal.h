/*
 * The session object, shared by session.c (creation, server role) and
 * session_client.c (client role). Not API.
 */
#ifndef OPES_SESSION_INTERNAL_H
#define OPES_SESSION_INTERNAL_H

#include "internal.h"

/* What the session is reading. */
enum session_phase {
    P_COMMAND = 0, /* command lines */
    P_DATA,        /* message data after 354 */
    P_BDAT,        /* the chunk of a BDAT command */
    P_AUTH,        /* AUTH exchange lines after 334 */
    P_SKIP,        /* the tail of an over-long line */
    P_TLS,         /* after 220 to STARTTLS: anything is injected */
    P_CLOSED       /* after 221 to QUIT */
};

/* What the reply that is due answers. */
enum session_due {
    D_NONE = 0,
    D_COMMAND,
    D_AUTH_LINE,
    D_LINE_TOO_LONG,
    D_CHUNK_END,
    D_MESSAGE_END
};

/* Client role: one command sent and not yet answered. */
struct client_cmd {
    uint8_t verb;   /* OPES_VERB_*, 0 for the greeting */
    uint8_t kind;   /* enum client_kind (session_client.c) */
    uint8_t wait;   /* the client had to wait for its reply (RFC 2920 3.1) */
    uint8_t last;   /* BDAT LAST */
    uint32_t count; /* replies it takes (LMTP end of data: one per accepted
                       recipient; 0: count them when the reply comes) */
};

#define CLIENT_QUEUE 256

struct opes_session {
    opes_allocator alloc;
    int heap;
    size_t block_size;
    int role, protocol, data_mode;
    opes_smtp_config *cfg;      /* the session's copy */
    opes_smtp_config *env_cfg;  /* lenient copy: reads the arena back */
    opes_smtp_config *peer_cfg; /* client: what the server offered */
    opes_data_decoder *dec;
    opes_reply_parser *rp;
    opes_ehlo *ehlo;
    int starttls_orig;
    uint64_t size_max; /* SIZE offered (RFC 1870), 0 for none */

    /* the envelope arena */
    char *arena;
    size_t arena_cap;
    int arena_heap; /* allocated by opes_session_set_arena_size() */
    size_t a_used;  /* bytes of committed lines */
    size_t mail_len;
    unsigned mail_notes;
    size_t nrcpt;

    /* state */
    int phase;
    int hello; /* verb of the accepted greeting command, 0 */
    char hello_dom[OPES_MAX_DOMAIN];
    size_t hello_len;
    int txn_open, txn_body, txn_binary;
    int bdat_failed, bdat_after_last, last_body;
    uint64_t bdat_total;
    int authenticated, tls;
    int auth_left;
    uint64_t pos;        /* stream offset of the next byte */
    uint64_t data_start; /* offset of the first data byte after 354 */

    /* the reply that is due, and what the event it answers left pending */
    int due, due_kind;
    int pend_refused; /* the parser refused the line the reply is due to */
    int pend_verb, pend_ok, pend_stored, pend_utf8, pend_binary, pend_auth_quick;
    int pend_auth_left;
    size_t pend_len;
    unsigned pend_notes;
    char hello_pend[OPES_MAX_DOMAIN];
    size_t hello_pend_len;

    /* BDAT chunk */
    uint64_t chunk_left, chunk_size;
    int chunk_last, chunk_ok, chunk_code, chunk_reason;
    int chunk_refused;   /* the parser refused its BDAT line */
    int skip_then_chunk; /* P_SKIP of an over-long BDAT line whose chunk follows */
    int framing_lost;    /* a refused BDAT line without a readable size: 421 */
    const char *chunk_enh, *chunk_text;

    /* pipelining (RFC 2920): a reply the client had to wait for was given
     * (term_*); once sent, commands that begin in [win_start, win_end) were
     * sent before it */
    int greet;
    int term_pending, term_verb, win_verb;
    uint64_t term_end, win_start, win_end, viol_at;
    /* STARTTLS: the stream offset up to which bytes held by the caller when
     * the 220 was sent must be fed before TLS may start */
    uint64_t tls_owed_end;

    /* client role */
    struct client_cmd queue[CLIENT_QUEUE];
    size_t q_head, q_len;
    int c_greeted;        /* the greeting has been read */
    int c_refused;        /* the greeting was not 220: only QUIT */
    int c_quit_sent;      /* QUIT was sent */
    opes_status c_broken; /* the reply stream broke (sticky) */
    int c_hello;          /* verb of the accepted EHLO/HELO/LHLO, 0 */
    size_t c_rcpt_sent;   /* RCPT commands sent in this transaction */
    int c_body;           /* DATA or BDAT sent in this transaction */
    int c_bdat_failed;    /* a chunk was refused (RFC 3030 2) */
    int c_binary;         /* MAIL had BODY=BINARYMIME */
    int c_ehlo_ok;        /* an EHLO/LHLO reply with capabilities was read */
    int c_data_open;      /* 354 read: the message data may be sent */
    int c_auth_open;      /* 334 read: an AUTH response line may be sent */
    int c_tls_wait;       /* 220 to STARTTLS read: TLS must start */
    int c_closed;         /* 221 read */
    int c_plain_hello;    /* HELO accepted: no extensions */
    size_t c_rcpt_ok;     /* recipients accepted in this transaction */
    size_t c_line;        /* line index in the reply being read */
    int c_reply_code;     /* the code of the reply being read */
    size_t c_ehlo_len;    /* bytes of the EHLO reply copied into the arena */
    int c_ehlo_over;      /* the EHLO reply did not fit */
    int c_ehlo_reading;   /* an EHLO reply is being copied into the arena */
    int c_txn;            /* MAIL sent and accepted or pending */
};

void opes__session_client_reset(opes_session *s);
opes_status opes__session_client_tls(opes_session *s);
opes_status opes__session_client_feed(opes_session *s, const char *buf, size_t len, size_t *used,
                                      opes_session_event *ev);

#endif
