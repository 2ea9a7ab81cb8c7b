/*
 * libopes — the SMTP session: a sans-I/O state machine for both roles
 * (RFC 5321 3.3, 4.1.1, 4.1.4, 4.3.2; RFC 2920 PIPELINING; RFC 3030
 * CHUNKING; RFC 3207 STARTTLS; RFC 4954 AUTH; RFC 2033 LMTP).
 *
 * The session reads no socket and keeps no clock. The caller feeds the bytes
 * the peer sent and gets events back; for every event that needs a reply it
 * says which reply it actually gave, and only then does the session change
 * state. Grammar is the business of the unit parsers (command.h, reply.h,
 * ehlo.h) and message data that of the DATA codec (data.h): the session
 * calls them and adds what they cannot know — what is allowed in which state.
 *
 * A server's loop over the bytes buf[0..n) it read from the client:
 *
 *     size_t off = 0;
 *     for (;;) {
 *         size_t used;
 *         opes_session_event ev;
 *         if (opes_session_feed(s, buf + off, n - off, &used, &ev) != OPES_OK)
 *             break;                              (closed, or a caller error)
 *         off += used;
 *         if (ev.type == OPES_SESSION_EV_NONE)
 *             break;           (keep buf[off..n), read more, append, go on)
 *         handle(&ev);                          (store content, log, ...)
 *         for (int i = 0; i < ev.needs_reply; i++) {
 *             int code = policy(&ev, i) or ev.reply_code;
 *             write_reply(code);
 *             opes_session_respond(s, code);
 *         }
 *         opes_session_reply_sent(s, n - off);      (after writing replies)
 *     }
 *
 * Memory: one block made at creation holds everything, including the arena
 * that keeps the envelope (the accepted MAIL and RCPT lines) across feeds.
 * Nothing is allocated after creation but by opes_session_set_arena_size().
 */
#ifndef OPES_SESSION_H
#define OPES_SESSION_H

#include "command.h"
#include "common.h"
#include "data.h"
#include "ehlo.h"
#include "reply.h"
#include "smtp_config.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opes_session opes_session;

/** The role a session plays (opes_session_new()). */
enum opes_session_role {
    OPES_ROLE_SERVER = 0, /* reads commands, proposes replies */
    OPES_ROLE_CLIENT = 1  /* sends commands, reads replies */
};

/** Protocols (option OPES_SESSION_PROTOCOL). */
enum opes_session_protocol {
    OPES_PROTOCOL_SMTP = 0, /* RFC 5321: HELO / EHLO */
    OPES_PROTOCOL_LMTP = 1  /* RFC 2033: LHLO, one reply per recipient after the data */
};

/** Options (opes_session_set_option()). */
enum opes_session_option {
    /** OPES_PROTOCOL_SMTP (default) or OPES_PROTOCOL_LMTP. Only before the
     *  first byte is fed (after creation or opes_session_reset()). */
    OPES_SESSION_PROTOCOL = 0,
    /** What bare CR / bare LF in DATA content become: OPES_DATA_REJECT
     *  (default: passed on, reported, the message refused with 550 5.5.2)
     *  or OPES_DATA_NORMALISE (made CRLF, reported, 250). Not while a
     *  message is being read. */
    OPES_SESSION_DATA_MODE = 1
};

/** Coarse states (opes_session_state()). */
enum opes_session_state {
    OPES_STATE_INIT = 0,        /* greeting sent, no HELO/EHLO/LHLO accepted */
    OPES_STATE_READY = 1,       /* greeted, no mail transaction */
    OPES_STATE_MAIL = 2,        /* MAIL accepted, no recipient yet */
    OPES_STATE_RCPT = 3,        /* at least one recipient accepted */
    OPES_STATE_DATA = 4,        /* reading message data after 354 */
    OPES_STATE_BDAT = 5,        /* reading a BDAT chunk */
    OPES_STATE_AUTH = 6,        /* inside an AUTH exchange (after 334) */
    OPES_STATE_TLS_PENDING = 7, /* 220 given to STARTTLS, TLS not up yet */
    OPES_STATE_CLOSED = 8,      /* 221 given to QUIT, or the reply to a framing loss
                                   (OPES_REASON_FRAMING_LOST) */
    OPES_STATE_SKIP = 9         /* discarding the tail of an over-long line */
};

/** Event types (opes_session_event.type). Values are stable. */
enum opes_session_event_type {
    /** No event: feed more bytes (keep the unconsumed rest, append). */
    OPES_SESSION_EV_NONE = 0,
    /** Server: a command line (ev->command, ev->status). Needs a reply
     *  (ev->needs_reply 1) except BDAT with a valid line, whose reply is due
     *  after its chunk (CHUNK_END or MESSAGE_END). With CHUNKING offered, a
     *  BDAT line the parser refused ("BDAT 20  LAST", "BDAT 18 LAST\tx") is
     *  one a lax relay may have taken: when a chunk size can be read from it
     *  (the digits after the verb and its white space, ev->size), its chunk
     *  is read and discarded, never read as commands, and the parser's reply
     *  is due at its CHUNK_END (RFC 3030 2); when the size overflows, 421
     *  (OPES_REASON_FRAMING_LOST) is due and the session then closes. A
     *  refused BDAT line without any digits ("BDAT", "BDAT x") has no chunk:
     *  its reply is due now. */
    OPES_SESSION_EV_COMMAND = 1,
    /** Server: a client line of an AUTH exchange (ev->auth, ev->status).
     *  Needs a reply. */
    OPES_SESSION_EV_AUTH_LINE = 2,
    /** Server: message content after DATA, dot-unstuffed (ev->content: a
     *  view into the fed bytes or into a static constant of the codec). */
    OPES_SESSION_EV_DATA_CONTENT = 3,
    /** Server: an anomaly the DATA codec reported (ev->data_event: an
     *  OPES_DATA_EV_* of data.h — BARE_LF, BARE_CR, LONG_LINE,
     *  DOT_NOT_STUFFED, FALSE_END). No reply. */
    OPES_SESSION_EV_DATA_ANOMALY = 4,
    /** Server: the message is complete (DATA's "<CRLF>.<CRLF>" or the end of
     *  the BDAT LAST chunk). The envelope getters hold its envelope. Needs
     *  ev->needs_reply replies: 1 for SMTP, one per accepted recipient in
     *  order for LMTP (RFC 2033 4.2). ev->size is the content size. */
    OPES_SESSION_EV_MESSAGE_END = 5,
    /** Server: chunk bytes after BDAT, counted exactly and never unstuffed
     *  (ev->content, a view into the fed bytes). Only for a BDAT whose
     *  proposal is a success; a refused BDAT's chunk is discarded. */
    OPES_SESSION_EV_BDAT_CONTENT = 6,
    /** Server: the chunk of a BDAT other than a successful BDAT LAST has
     *  been read (ev->size its size, ev->last). Needs a reply. */
    OPES_SESSION_EV_CHUNK_END = 7,
    /** Server: a command (or AUTH) line over its limit. Needs a reply (500,
     *  RFC 5321 4.5.3.1.9); the session then discards the line's tail up to
     *  its line end (state OPES_STATE_SKIP): none of it is read as a
     *  command. ev->command holds the verb when it was recognised. An
     *  over-long BDAT line (CHUNKING offered) is handled as a refused BDAT
     *  line (see COMMAND): with a readable size, no reply now, the tail and
     *  the chunk are discarded and the 500 is due at CHUNK_END; without
     *  one, 421 (OPES_REASON_FRAMING_LOST). */
    OPES_SESSION_EV_LINE_TOO_LONG = 8,
    /** Bytes received after the 220 to STARTTLS and before
     *  opes_session_tls_started(): sent in clear text before TLS, so
     *  discarded (RFC 3207 5; CVE-2011-0411). ev->content is their span.
     *  Server: commands the client (or an attacker) sent behind STARTTLS;
     *  client: replies the server (or an attacker) sent behind its 220,
     *  never matched to a command. */
    OPES_SESSION_EV_TLS_INJECTION = 9,
    /** Server: the command (or data, or AUTH line) starting at ev->offset
     *  was sent before the reply it had to wait for (RFC 2920 3.1): the
     *  reply to ev->verb (OPES_VERB_UNKNOWN for the greeting) had not been
     *  sent when these bytes had arrived (see opes_session_reply_sent()).
     *  Reported before the event of that command; no reply. */
    OPES_SESSION_EV_PIPELINING_VIOLATION = 10,
    /** Client: one line of a server reply (ev->reply), matched by count to
     *  the command it answers (ev->verb; RFC 2920 3.1). */
    OPES_SESSION_EV_REPLY = 11
};

/**
 * Why a proposed reply differs from what the grammar alone gives
 * (opes_session_event.reason). Values are stable; names from
 * opes_session_reason_name().
 */
enum opes_session_reason {
    OPES_REASON_NONE = 0,             /* the proposal is the normal success */
    OPES_REASON_PARSE = 1,            /* the parser refused the line (ev->status) */
    OPES_REASON_NEED_HELLO = 2,       /* MAIL or AUTH before HELO/EHLO/LHLO: 503 */
    OPES_REASON_NEED_MAIL = 3,        /* RCPT, DATA or BDAT without MAIL: 503 */
    OPES_REASON_NEED_RCPT = 4,        /* DATA/BDAT without an accepted RCPT: 554 (LMTP 503) */
    OPES_REASON_NESTED_MAIL = 5,      /* MAIL inside a transaction: 503 */
    OPES_REASON_DATA_AFTER_BDAT = 6,  /* DATA after BDAT in one transaction: 503 */
    OPES_REASON_RCPT_AFTER_BDAT = 7,  /* RCPT after the first BDAT chunk: 503 */
    OPES_REASON_BINARYMIME_DATA = 8,  /* DATA after MAIL BODY=BINARYMIME: 503 */
    OPES_REASON_BDAT_AFTER_LAST = 9,  /* BDAT after BDAT LAST: 503 */
    OPES_REASON_BDAT_FAILED = 10,     /* BDAT after a refused chunk: 503 */
    OPES_REASON_TOO_MANY_RCPTS = 11,  /* over OPES_LIMIT_RECIPIENTS: 452 */
    OPES_REASON_ARENA_FULL = 12,      /* the envelope arena cannot hold the line: 452 */
    OPES_REASON_SIZE_EXCEEDED = 13,   /* over the advertised SIZE: 552 */
    OPES_REASON_AUTH_IN_TXN = 14,     /* AUTH inside a transaction: 503 */
    OPES_REASON_AUTH_TWICE = 15,      /* AUTH after a successful AUTH: 503 */
    OPES_REASON_AUTH_MECH = 16,       /* mechanism not offered: 504 */
    OPES_REASON_AUTH_IR = 17,         /* initial response for a server-first mechanism: 501 */
    OPES_REASON_AUTH_CANCEL = 18,     /* "*" cancelled the exchange: 501 */
    OPES_REASON_TLS_ACTIVE = 19,      /* STARTTLS under TLS: 503 */
    OPES_REASON_STARTTLS_IN_TXN = 20, /* STARTTLS inside a transaction: 503 */
    OPES_REASON_WRONG_HELLO = 21,     /* HELO/EHLO in LMTP, LHLO in SMTP: 500 */
    OPES_REASON_BARE_LINE_END = 22,   /* data with bare CR/LF, OPES_DATA_REJECT: 550 */
    OPES_REASON_UNSOLICITED = 23,     /* client: a reply no command waits for (a 421 may
                                         come at any time, RFC 5321 3.8) */
    OPES_REASON_FRAMING_LOST = 24     /* a refused BDAT line whose chunk size cannot be
                                         read (over UINT64_MAX, or an over-long line):
                                         where its chunk ends is unknown, so 421 4.5.0
                                         and the session closes (the caller must) */
};

/**
 * One event. Only the fields of its type are meaningful: the scalar fields
 * of other types are 0, and command, auth and reply are written only for
 * their own types (they are large; clearing them per event would cost more
 * than the event). Views (command, auth, content, reply) point into the
 * buffer given to the feed call that returned the event, or, for DATA
 * content, into static constants: valid as long as the caller keeps those
 * bytes.
 */
typedef struct opes_session_event {
    int type;               /* enum opes_session_event_type */
    uint64_t offset;        /* stream offset of the first byte the event is
                               about, counted from creation or reset (for
                               DATA_ANOMALY the byte the codec reports) */
    opes_status status;     /* COMMAND, AUTH_LINE, LINE_TOO_LONG: the parser's
                               status (OPES_OK or the peer's error) */
    int needs_reply;        /* replies the caller must give now, each followed
                               by opes_session_respond(): 0, 1, or for an LMTP
                               MESSAGE_END the number of accepted recipients */
    int reply_code;         /* the proposed reply (also on a BDAT COMMAND: the
                               reply due after its chunk); 0 when none */
    const char *enhanced;   /* its RFC 3463 code ("5.5.1"), static; NULL for
                               none (3xx replies and the EHLO/HELO/LHLO 250) */
    const char *reply_text; /* a suggested text, static; NULL for none */
    int reason;             /* enum opes_session_reason */
    int verb;               /* COMMAND, LINE_TOO_LONG: the verb (0 unknown);
                               CHUNK_END, MESSAGE_END: OPES_VERB_DATA or _BDAT;
                               PIPELINING_VIOLATION: the verb whose reply was
                               not awaited (0: the greeting); REPLY: the verb
                               of the command answered (0: the greeting) */
    int data_event;         /* DATA_ANOMALY: OPES_DATA_EV_* */
    int last;               /* BDAT COMMAND, CHUNK_END: the chunk is LAST */
    uint64_t size;          /* BDAT COMMAND, CHUNK_END: the chunk size;
                               MESSAGE_END: content bytes of the message */
    opes_str content;       /* DATA_CONTENT, BDAT_CONTENT, TLS_INJECTION */
    opes_command command;   /* COMMAND, LINE_TOO_LONG */
    opes_auth_line auth;    /* AUTH_LINE */
    opes_reply_line reply;  /* REPLY */
} opes_session_event;

/** Stable snake_case name of an event type ("command", "auth_line",
 *  "data_content", "data_anomaly", "message_end", "bdat_content",
 *  "chunk_end", "line_too_long", "tls_injection", "pipelining_violation",
 *  "reply", "none"), or NULL. Static. */
OPES_API const char *opes_session_event_name(int type);

/** Stable snake_case name of a reason ("need_hello", "too_many_rcpts",
 *  ..., "none"), or NULL for an unknown value. Static. */
OPES_API const char *opes_session_reason_name(int reason);

/**
 * Bytes opes_session_init_in() needs for a session under cfg (NULL: the
 * default config) with the default envelope arena: the MAIL line limit plus
 * room for 100 RCPT lines at the RCPT line limit (opes_smtp_config_line_limit()).
 */
OPES_API size_t opes_session_sizeof(const opes_smtp_config *cfg);

/**
 * Create a session after the greeting (the caller sent "220").
 *
 * @param[out] out   the session; release with opes_session_free()
 * @param role       OPES_ROLE_SERVER or OPES_ROLE_CLIENT
 * @param cfg        the extensions offered (server) or the limits and
 *                   registrations to judge the peer with (client); copied,
 *                   the session owns the copy (NULL: the default config)
 * @param alloc      allocator, or NULL for malloc
 * @return OPES_OK, OPES_EINVAL (out NULL, bad role), OPES_ENOMEM.
 */
OPES_API opes_status opes_session_new(opes_session **out, int role, const opes_smtp_config *cfg,
                                      const opes_allocator *alloc);

/**
 * The same in caller memory, without malloc: mem holds len bytes, aligned as
 * malloc aligns, at least opes_session_sizeof(cfg) for the default arena (the
 * bytes beyond the fixed part all go to the arena; the least it may have is
 * one MAIL and one RCPT line). opes_session_free() on it is a no-op.
 * @return OPES_OK, OPES_EINVAL (mem or out NULL, bad role, len too small).
 */
OPES_API opes_status opes_session_init_in(void *mem, size_t len, int role,
                                          const opes_smtp_config *cfg, opes_session **out);

/** Release a session made by opes_session_new(). NULL is a no-op. */
OPES_API void opes_session_free(opes_session *s);

/**
 * Back to the state after the greeting of a new connection: no HELO, no
 * transaction, not authenticated, no TLS, offsets from 0. Options and the
 * arena size are kept. @return OPES_OK, OPES_EINVAL.
 */
OPES_API opes_status opes_session_reset(opes_session *s);

/**
 * Set an option (enum opes_session_option).
 * @return OPES_OK; OPES_EINVAL (unknown option or value); OPES_ESTATE (not
 *         allowed now: see the option).
 */
OPES_API opes_status opes_session_set_option(opes_session *s, int option, int value);

/**
 * Give the envelope arena another size (bytes). Only for a session made by
 * opes_session_new() and outside a mail transaction; the arena is allocated
 * anew through the session's allocator (the one call after creation that
 * allocates). At least the MAIL line limit plus one RCPT line.
 *
 * The old arena is released: the envelope of the last transaction is gone
 * (opes_session_mail() then gives OPES_ENOTFOUND, opes_session_rcpt_count()
 * 0) and every view an envelope getter returned ends here. Client role: the
 * arena holds the server's last EHLO reply; it is moved to the new arena when
 * it fits, else forgotten (opes_session_client_ehlo() then gives
 * OPES_ENOTFOUND; what the server offers stays known); either way views from
 * opes_session_client_ehlo() end here.
 * @return OPES_OK; OPES_EINVAL (too small, or a session made in caller
 *         memory); OPES_ESTATE (a transaction is open, a reply is due, the
 *         message data or a chunk is being read, or, client role, an EHLO
 *         reply is being read into the arena); OPES_ENOMEM (the arena is
 *         unchanged).
 */
OPES_API opes_status opes_session_set_arena_size(opes_session *s, size_t size);

/** The envelope arena's size in bytes (0 for NULL). */
OPES_API size_t opes_session_arena_size(const opes_session *s);

/**
 * The session's own config: the copy made at creation, with what the
 * session changes in it: the SMTPUTF8 flag of the current transaction, and
 * STARTTLS withdrawn once TLS is up (RFC 3207 4.2: not offered after TLS).
 * Build the EHLO reply from it (opes_ehlo_build()). Owned by the session.
 */
OPES_API const opes_smtp_config *opes_session_config(const opes_session *s);

/**
 * Feed bytes the peer sent; consume up to and including the first event and
 * stop there (STYLE.md 1). Unconsumed bytes stay the caller's: present them
 * again with more appended. The buffer must be able to hold one line of the
 * largest limit (opes_session_max_line()). Any split of the input gives the
 * same events (content events may be cut differently). After an event, call
 * again — with the rest, possibly empty — until the event is
 * OPES_SESSION_EV_NONE: one byte can give several events.
 *
 * Server role: commands are parsed with opes_command_parse() under the
 * session's config, message data with the DATA codec, AUTH exchange lines
 * with opes_auth_line_parse(); see the event types. For each event with
 * needs_reply, the caller must call opes_session_respond() (needs_reply
 * times) before feeding again.
 *
 * Client role: the server's bytes, read with the reply push parser: one
 * REPLY event per reply line (ev->reply, ev->reply_code, ev->last for the
 * last line of a reply), ev->verb the command it answers; a reply no command
 * waits for has ev->reason OPES_REASON_UNSOLICITED. A malformed reply breaks
 * the stream (see the client role below).
 *
 * @param buf   bytes from the peer; may be NULL iff len is 0
 * @param[out] used  bytes of buf consumed (<= len)
 * @param[out] ev    the event (type OPES_SESSION_EV_NONE when none)
 * @return OPES_OK (an event or NONE); OPES_ESTATE (server: a reply is due,
 *         or the session is closed after QUIT or a framing loss: nothing
 *         consumed); client: a
 *         status of opes_reply_parser_feed() for a malformed reply (sticky
 *         until opes_session_reset()); OPES_EINVAL.
 */
OPES_API opes_status opes_session_feed(opes_session *s, const char *buf, size_t len, size_t *used,
                                       opes_session_event *ev);

/**
 * Server role: the caller gave reply `code` (200..599) to the event that is
 * due. The session applies the transition only now, from the code given, not
 * from its proposal: a class 2 reply accepts (HELO/EHLO/LHLO greeted; MAIL
 * opens the transaction; RCPT adds the recipient; RSET and EHLO reset it;
 * AUTH with 235 authenticates; QUIT with 221 closes; a BDAT chunk is
 * accepted), 354 to DATA starts the data, 334 to AUTH continues the exchange,
 * 220 to STARTTLS waits for TLS; anything else leaves the state as it was
 * (RFC 5321 4.1.4: "the SMTP server MUST stay in the same state"), except
 * that a failed AUTH exchange ends and a refused BDAT chunk fails the
 * transaction (RFC 3030 2). The reply to a message end ends the transaction
 * whatever its code (for LMTP after the last of its replies). A line the
 * parser refused (ev->status < 0: a command, an over-long line, an AUTH
 * line) changes nothing and takes only a failure: a 2xx or 3xx to it (220 to
 * "STARTTLS foo", 354 to "DATA x") is refused with OPES_ESTATE, the state
 * and the reply due unchanged, since the caller has lost track of the
 * session (give the failure proposed, or another 4xx/5xx). So is a 2xx or
 * 3xx at the CHUNK_END of a chunk the session discarded (a BDAT whose
 * proposal was a failure, e.g. 554 without a recipient or 503 after a
 * failed chunk): no event carried its bytes, so it cannot be accepted.
 * @return OPES_OK; OPES_ESTATE (no reply is due, or a 2xx/3xx to a refused
 *         line or a discarded chunk); OPES_ENOSPC (a class 2
 *         reply to MAIL or RCPT whose line the arena cannot hold: nothing
 *         changed, reply again); OPES_EINVAL (code out of range, or a 2xx/3xx
 *         other than 220 to an accepted STARTTLS: RFC 3207 4 has no other
 *         go-ahead, and a client taking one as such would start TLS while the
 *         session read commands; nothing changed).
 */
OPES_API opes_status opes_session_respond(opes_session *s, int code);

/**
 * The caller has written to the network every reply given so far, at a
 * moment when it held `unread` bytes received from the peer but not yet
 * consumed by the session. Those bytes were sent before the peer could see
 * these replies: if the replies include one a client must wait for (RFC 2920
 * 3.1: EHLO, DATA, VRFY, EXPN, NOOP, QUIT, and commands of extensions such as
 * STARTTLS and AUTH — but AUTH PLAIN or EXTERNAL with an initial response,
 * RFC 4954 4; not BDAT, RFC 3030 2; not the end of the data; every reply when
 * PIPELINING is not offered; and the greeting, before the first command),
 * the command that begins in those bytes first is reported with a
 * PIPELINING_VIOLATION event (once per such reply). Call it after writing
 * replies and before feeding the bytes that follow; without calls nothing is
 * reported. When several such replies were given since the last call, the
 * bytes after the earliest of them count, reported once, with ev->verb the
 * latest. After the 220 to STARTTLS it also records that the `unread`
 * bytes are owed: they were sent in clear text before TLS, and
 * opes_session_tls_started() is refused until they have been fed (each
 * reported as OPES_SESSION_EV_TLS_INJECTION).
 * @return OPES_OK, OPES_ESTATE (a client session), OPES_EINVAL.
 */
OPES_API opes_status opes_session_reply_sent(opes_session *s, size_t unread);

/**
 * TLS is up (RFC 3207 4.2): the session is reset to the state after the
 * greeting — no HELO, no transaction, not authenticated — and STARTTLS is no
 * longer offered. Valid after the 220 to STARTTLS, or before the first byte
 * for implicit TLS.
 *
 * Server role, the STARTTLS step by step (RFC 3207 4, 5): give 220 and call
 * opes_session_respond(s, 220); write it; call opes_session_reply_sent(s,
 * unread) with the bytes read from the client and not yet fed; feed those
 * bytes (every one of them is reported as OPES_SESSION_EV_TLS_INJECTION and
 * discarded: a client waits for the 220 before its handshake, CVE-2011-0411);
 * only then call this function and hand the connection to TLS. Until every
 * byte reply_sent() counted has been fed, this returns OPES_ESTATE.
 *
 * Client role: after the server's 220 to STARTTLS; server bytes that follow
 * the 220 before TLS are reported as OPES_SESSION_EV_TLS_INJECTION (reply
 * injection: a server sends nothing in clear text after its 220); the
 * server's capabilities are forgotten ("The client MUST discard any
 * knowledge obtained from the server"), EHLO is due again.
 * @return OPES_OK; OPES_ESTATE (neither, or, server role, clear text
 *         counted by opes_session_reply_sent() not fed yet); OPES_EINVAL.
 */
OPES_API opes_status opes_session_tls_started(opes_session *s);

/** The coarse state (enum opes_session_state); OPES_STATE_CLOSED for NULL. */
OPES_API int opes_session_state(const opes_session *s);

/** Replies still due before the next feed (0 for NULL). */
OPES_API int opes_session_replies_due(const opes_session *s);

/** Bytes consumed so far: the stream offset of the next byte (0 for NULL). */
OPES_API uint64_t opes_session_offset(const opes_session *s);

/** The longest line the caller's buffer must be able to hold whole. */
OPES_API size_t opes_session_max_line(const opes_session *s);

/** Whether TLS is up (opes_session_tls_started()); 0 for NULL. */
OPES_API int opes_session_tls(const opes_session *s);

/** Whether an AUTH exchange succeeded (235); 0 for NULL. */
OPES_API int opes_session_authenticated(const opes_session *s);

/**
 * The accepted HELO/EHLO/LHLO: its verb and domain (a view into session
 * memory, valid until the next greeting command is accepted or the session
 * is reset).
 * @return OPES_OK; OPES_ENOTFOUND (none accepted); OPES_EINVAL.
 */
OPES_API opes_status opes_session_hello(const opes_session *s, int *verb, opes_str *domain);

/**
 * The MAIL command of the current (or just completed) transaction, parsed
 * again from the session's copy: every view points into session memory,
 * valid until the next MAIL command event, an accepted RSET or greeting,
 * opes_session_tls_started() or a reset.
 * @return OPES_OK; OPES_ENOTFOUND (no transaction); OPES_EINVAL.
 */
OPES_API opes_status opes_session_mail(const opes_session *s, opes_command *out);

/** Accepted recipients of the current (or just completed) transaction. */
OPES_API size_t opes_session_rcpt_count(const opes_session *s);

/**
 * The i-th accepted RCPT command (0-based, in order), as opes_session_mail().
 * @return OPES_OK; OPES_ENOTFOUND (i out of range); OPES_EINVAL.
 */
OPES_API opes_status opes_session_rcpt(const opes_session *s, size_t i, opes_command *out);

/**
 * The DATA codec's counters for the message being read or just read
 * (data.h); for BDAT, bytes_in and bytes_out are the chunk bytes accepted.
 * @return OPES_OK, OPES_EINVAL.
 */
OPES_API opes_status opes_session_data_summary(const opes_session *s, opes_data_summary *out);

/* ---- client role -------------------------------------------------------------
 *
 * The client tells the session each command line before it sends it
 * (opes_session_client_send()), and feeds it the server's bytes
 * (opes_session_feed()): each reply line comes back as a REPLY event matched
 * by count to the command it answers (RFC 2920 3.1: "Matching on the basis of
 * either the error code value or associated text is expressly forbidden"),
 * the first reply to the greeting. The session follows the replies: the EHLO
 * capabilities (ehlo.h), the transaction, the data phase after 354, the AUTH
 * exchange after 334, TLS after 220 to STARTTLS; and it says what the client
 * may send next (opes_session_client_may_send()). A malformed reply breaks
 * the stream: opes_session_feed() returns the reply parser's status, sticky
 * until opes_session_reset().
 */

/** What a client may send that is not a command (opes_session_client_may_send()). */
enum opes_client_send {
    /** Message data after the 354 to DATA (then opes_session_client_data_end()). */
    OPES_SEND_CONTENT = 100,
    /** A response line inside an AUTH exchange, after a 334 (RFC 4954 4). */
    OPES_SEND_AUTH_LINE = 101
};

/**
 * Client role: may the client send a command of this verb (OPES_VERB_*), or
 * OPES_SEND_CONTENT / OPES_SEND_AUTH_LINE, now? No before the greeting (RFC
 * 5321 3.1), after QUIT, while TLS is due, while the data or an AUTH response
 * is due (then only that); nothing past a command whose reply must be awaited
 * (RFC 2920 3.1: EHLO, DATA, VRFY, EXPN, NOOP, QUIT, STARTTLS, AUTH but PLAIN
 * or EXTERNAL with an initial response), and nothing at all before the
 * previous reply when the server did not offer PIPELINING; MAIL only after an
 * accepted EHLO/HELO/LHLO and outside a transaction, RCPT inside one, DATA
 * after a RCPT and not after BDAT, BDAT/STARTTLS/AUTH only when offered (and
 * AUTH and STARTTLS outside a transaction, AUTH not after success, STARTTLS
 * not under TLS); LHLO and not HELO/EHLO with OPES_PROTOCOL_LMTP, the reverse
 * otherwise. Parameters are judged by opes_session_client_send().
 * @return 1 or 0 (0 also for NULL, a server session or an unknown verb).
 */
OPES_API int opes_session_client_may_send(const opes_session *s, int verb);

/**
 * Client role: the client is about to send this command line (CRLF
 * included), or, inside an AUTH exchange, this response line. It is parsed as
 * the server will parse it, under what the server offered in its EHLO reply
 * (opes_command_parse() with a config offering exactly those extensions: a
 * MAIL parameter it did not offer is OPES_EPARAM_UNKNOWN, BDAT without
 * CHUNKING OPES_ENOT_OFFERED), checked with opes_session_client_may_send(),
 * and queued: the next reply not yet matched answers it.
 * @return OPES_OK (queued: send it); the parser's status (a syntax or limit
 *         status: not queued); OPES_ESTATE (may not be sent now);
 *         OPES_ENOSPC (256 commands await their replies); OPES_EINVAL (not
 *         one whole line, NULL, or a server session).
 */
OPES_API opes_status opes_session_client_send(opes_session *s, const char *line, size_t len);

/**
 * Client role: the message data after 354 has been sent, terminator
 * included (opes_data_encoder). Its reply (for LMTP one per accepted
 * recipient, RFC 2033 4.2) is now awaited.
 * @return OPES_OK; OPES_ESTATE (no data was due); OPES_ENOSPC; OPES_EINVAL.
 */
OPES_API opes_status opes_session_client_data_end(opes_session *s);

/**
 * Client role: the server's capabilities from its last 250 EHLO (or LHLO)
 * reply (a view into session memory, valid until the first line of the next
 * 250 reply to EHLO, TLS, a reset or opes_session_set_arena_size(); a
 * refused EHLO leaves them as they were, RFC 5321 4.1.4).
 * @return OPES_OK; OPES_ENOTFOUND (no 250 EHLO reply yet or one being read,
 *         or HELO); OPES_EINVAL.
 */
OPES_API opes_status opes_session_client_ehlo(const opes_session *s, const opes_ehlo **out);

/** Client role: commands sent whose replies have not all arrived (0 for NULL). */
OPES_API size_t opes_session_client_pending(const opes_session *s);

#ifdef __cplusplus
}
#endif
#endif /* OPES_SESSION_H */
