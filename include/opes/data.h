/*
 * libopes — the DATA codec: message data as it travels after "DATA" / "354"
 * (RFC 5321 3.3, 4.1.1.4, 4.5.2). Not for BDAT (RFC 3030 2): BDAT chunks are
 * counted octets, sent without dot-stuffing and without a terminator line.
 *
 * Servers decode: opes_data_decoder removes the dots a client inserted for
 * transparency and finds the end of the data, "<CRLF>.<CRLF>". Clients encode:
 * opes_data_encoder inserts those dots and writes the terminator.
 *
 * Both are push parsers (STYLE.md 1): the caller feeds bytes as they arrive,
 * in chunks of any size; each call consumes what it can and STOPS AT EACH
 * EVENT, reporting the bytes consumed; the caller calls again with the rest.
 * The events of a stream do not depend on how it was split: every split gives
 * the same event log once adjacent CONTENT events are concatenated. Neither
 * object copies message bytes or allocates after creation: content is handed
 * out as views into the caller's buffer, or into static constants for the
 * few bytes the codec itself supplies ("\r\n", ".", "\r", "\n").
 *
 * A server's loop over the bytes p[0..n) read after its 354 reply:
 *
 *     for (;;) {
 *         size_t used;
 *         opes_data_event ev;
 *         opes_data_decode(d, p, n, &used, &ev);
 *         p += used, n -= used;
 *         if (ev.type == OPES_DATA_EV_NONE)
 *             break;                             (read more, then go on)
 *         if (ev.type == OPES_DATA_EV_CONTENT)
 *             store(ev.content.ptr, ev.content.len);
 *         else if (ev.type == OPES_DATA_EV_END)
 *             break;   (reply as opes_data_decoder_summary() says; p..n is the next command)
 *         else
 *             note(ev.type, ev.offset);
 *     }
 *
 * SMTP smuggling. Only "<CRLF>.<CRLF>" ends the data, in every mode and for
 * every split: "<LF>.<LF>", "<LF>.<CRLF>", "<CR>.<CR>", "<CRLF>.<LF>",
 * "<CRLF>.<CR>"... never do (RFC 5321 4.1.1.4: "the sequence "<LF>.<LF>" ...
 * MUST NOT be treated as equivalent to <CRLF>.<CRLF>"). Servers that did end
 * the data there let a client smuggle a second message past the first hop:
 * CVE-2023-51764 (Postfix), CVE-2023-51765 (Sendmail), CVE-2023-51766 (Exim),
 * CVE-2024-27305 (aiosmtpd). The decoder reports such a would-be terminator as
 * OPES_DATA_EV_FALSE_END and keeps its bytes in the content.
 */
#ifndef OPES_DATA_H
#define OPES_DATA_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * What a bare CR or bare LF (one not part of a CRLF pair) turns into
 * (opes_data_decoder_set_mode(), opes_data_encoder_set_mode()). RFC 5321
 * 2.3.8: CR and LF "MUST NOT" be sent except as CRLF, and no other sequence
 * may be recognised as a line end. Whatever the mode, every bare CR and LF is
 * reported as an event: the caller is always told.
 */
enum opes_data_mode {
    /**
     * The default. Decoder: a bare CR or LF is passed on unchanged as
     * content and does not end a line (the line goes on, and a dot after it
     * is plain content); after END the summary says to reject the message
     * ("550 5.5.2 bare <LF> received", as Postfix's smtpd_forbid_bare_newline
     * replies). Encoder: a bare CR or LF is an error (OPES_EBARE_CR,
     * OPES_EBARE_LF): a client "MUST NOT transmit" it (RFC 5321 2.3.8).
     */
    OPES_DATA_REJECT = 0,
    /**
     * A bare CR or LF becomes CRLF in the output and starts a new line (a
     * leading dot on that line is unstuffed by the decoder, stuffed by the
     * encoder). Decoder: the line after a bare line end is NEVER the
     * end-of-data line, whatever it holds: "<LF>.<CRLF>" gives the content
     * "<CRLF>.<CRLF>" plus a FALSE_END event, and the data goes on. Only a
     * real CRLF before "." CRLF ends the data. The summary's reply is 250.
     */
    OPES_DATA_NORMALISE = 1
};

/** What the encoder does at the end of content that does not end in CRLF
 *  (opes_data_encoder_set_final()); RFC 5321 4.1.1.4: the client "MUST either
 *  reject the message as invalid or add <CRLF>". */
enum opes_data_final {
    /** The default: add the CRLF (reported by an OPES_DATA_EV_NO_FINAL_CRLF
     *  event, then the terminator "\r\n.\r\n"). */
    OPES_DATA_ADD_CRLF = 0,
    /** Report only: opes_data_encode_finish() returns the
     *  OPES_DATA_EV_NO_FINAL_CRLF event and writes nothing; the caller feeds
     *  the line end it wants and calls finish again, or abandons the message
     *  (it cannot un-send the data: RFC 5321 has no abort inside DATA). */
    OPES_DATA_REPORT = 1
};

/** Event types (opes_data_event.type). Values are stable. */
enum opes_data_event_type {
    /** No event: every byte given was consumed (*used == len); feed more. */
    OPES_DATA_EV_NONE = 0,
    /** content: bytes to pass on, in order. A view into the caller's buffer
     *  or into a static constant of the library. */
    OPES_DATA_EV_CONTENT = 1,
    /** Decoder: the terminating "<CRLF>.<CRLF>" was seen; offset is that of
     *  the "." and *used stops right after the final LF, so what follows (a
     *  pipelined command) stays the caller's. Encoder finish: the terminator
     *  has been handed out; the stream is complete. */
    OPES_DATA_EV_END = 2,
    /** An LF not preceded by CR, at offset. */
    OPES_DATA_EV_BARE_LF = 3,
    /** A CR not followed by LF, at offset. */
    OPES_DATA_EV_BARE_CR = 4,
    /** A text line over the line limit (default 1000 octets including CRLF,
     *  not counting a dot added for transparency: RFC 5321 4.5.3.1.6);
     *  offset is that of the first octet past the limit. Once per line. */
    OPES_DATA_EV_LONG_LINE = 5,
    /** Decoder: a line began with "." followed by something other than "."
     *  or a line end (".abc"). The dot is removed as RFC 5321 4.5.2 says ("If
     *  the first character is a period and there are other characters on the
     *  line, the first character is deleted"), but a client that stuffs
     *  never sends this: it is a sign of a client that does not dot-stuff,
     *  so a line "." of its message may have ended the data early. */
    OPES_DATA_EV_DOT_NOT_STUFFED = 6,
    /** Decoder: a line made of a single "." where one of the line ends
     *  around it is a bare CR or LF ("<LF>.<LF>", "<LF>.<CRLF>",
     *  "<CRLF>.<LF>", "<CR>.<CR>", ...): the terminator of a lax server, the
     *  signature of SMTP smuggling. It does not end the data; the "." stays in
     *  the content. offset is that of the ".". */
    OPES_DATA_EV_FALSE_END = 7,
    /** Encoder finish: the content did not end with CRLF (offset = content
     *  length). With OPES_DATA_ADD_CRLF the CRLF follows in the terminator. */
    OPES_DATA_EV_NO_FINAL_CRLF = 8
};

/**
 * One event. Only the fields of its type are meaningful; the others are 0.
 * content is valid until the caller releases or changes the bytes it points
 * into (the buffer given to the call that returned it), or forever when it
 * points into a static constant.
 */
typedef struct opes_data_event {
    int type;         /* enum opes_data_event_type */
    opes_str content; /* OPES_DATA_EV_CONTENT: the bytes (never empty) */
    uint64_t offset;  /* absolute offset in the input stream (0 = first byte
                         after the DATA command's 354 reply, resp. the first
                         content byte given to the encoder) of the byte the
                         event is about; for CONTENT, the input byte its first
                         byte comes from */
} opes_data_event;

/** Stable snake_case name of an event type ("content", "end", "bare_lf",
 *  "bare_cr", "long_line", "dot_not_stuffed", "false_end", "no_final_crlf",
 *  "none"), for logs and JSON; NULL for an unknown value. Static. */
OPES_API const char *opes_data_event_name(int type);

/**
 * Counters of one message, from opes_data_decoder_summary() or
 * opes_data_encoder_summary(). Plain data; the strings are static.
 */
typedef struct opes_data_summary {
    uint64_t bytes_in;        /* decoder: data bytes consumed, stuffing dots and the
                                 terminator ".\r\n" included; encoder: content bytes
                                 consumed */
    uint64_t bytes_out;       /* decoder: content bytes handed out; encoder: encoded
                                 bytes handed out, terminator included */
    uint64_t lines;           /* content lines ended by CRLF (or, normalising, by a
                                 bare CR or LF made CRLF) */
    uint64_t longest_line;    /* longest such line incl. its CRLF, not counting
                                 a stuffing dot */
    uint64_t stuffed_dots;    /* decoder: dots removed; encoder: dots added */
    uint64_t bare_lf;         /* OPES_DATA_EV_BARE_LF events */
    uint64_t bare_cr;         /* OPES_DATA_EV_BARE_CR events */
    uint64_t long_lines;      /* OPES_DATA_EV_LONG_LINE events */
    uint64_t dot_not_stuffed; /* OPES_DATA_EV_DOT_NOT_STUFFED events */
    uint64_t false_ends;      /* OPES_DATA_EV_FALSE_END events */
    int complete;             /* decoder: END seen; encoder: END handed out */
    /* Decoder, once complete: the reply a server should give to the end of
     * data (RFC 5321 4.1.1.4, 4.3.2). 250 "2.0.0" "OK", or, in
     * OPES_DATA_REJECT mode after a bare CR or LF, the reject code (550
     * unless set otherwise) with "5.5.2" and "bare <LF> received" (or "bare
     * <CR> received" when there was no bare LF). Long lines and not-stuffed
     * dots never change it: RFC 5321 4.5.3.1 sets sizes a server must at
     * least accept, not a maximum, so refusing long lines is the session's
     * policy, as is the text after the code (a queue id, say). 0 and NULL
     * before END and for the encoder. */
    int reply_code;
    const char *enhanced;   /* RFC 3463 enhanced code, e.g. "5.5.2" */
    const char *reply_text; /* suggested text, e.g. "bare <LF> received" */
} opes_data_summary;

/* ---- decoder (server side) --------------------------------------------- */

typedef struct opes_data_decoder opes_data_decoder;

/** Size in bytes of an opes_data_decoder, for opes_data_decoder_init_in(). */
OPES_API size_t opes_data_decoder_sizeof(void);

/**
 * Create a decoder at the start of a message: OPES_DATA_REJECT, line limit
 * 1000 (RFC 5321 4.5.3.1.6), reject code 550.
 * @param[out] out   the decoder; release with opes_data_decoder_free()
 * @param[in]  alloc allocator for the object, or NULL for malloc
 * @return OPES_OK, OPES_EINVAL (out NULL), OPES_ENOMEM.
 */
OPES_API opes_status opes_data_decoder_new(opes_data_decoder **out, const opes_allocator *alloc);

/**
 * The same as opes_data_decoder_new() in caller memory: mem must hold
 * opes_data_decoder_sizeof() bytes, aligned for any object (as malloc
 * gives). opes_data_decoder_free() on such a decoder is a no-op.
 * @return OPES_OK, OPES_EINVAL (mem or out NULL, len too small).
 */
OPES_API opes_status opes_data_decoder_init_in(void *mem, size_t len, opes_data_decoder **out);

/** Release a decoder made by opes_data_decoder_new(). NULL is a no-op. */
OPES_API void opes_data_decoder_free(opes_data_decoder *d);

/**
 * Start a new message (the next DATA): state, counters and offsets back to
 * zero; the settings (mode, line limit, reject code) are kept.
 * @return OPES_OK, OPES_EINVAL (d NULL).
 */
OPES_API opes_status opes_data_decoder_reset(opes_data_decoder *d);

/**
 * Choose what bare CR and bare LF become (enum opes_data_mode). Settings may
 * change only at the start of a message (after _new or _reset, before the
 * first byte), so one message is decoded under one rule.
 * @return OPES_OK; OPES_EINVAL (d NULL, unknown mode); OPES_ESTATE (bytes of
 *         this message were already fed).
 */
OPES_API opes_status opes_data_decoder_set_mode(opes_data_decoder *d, int mode);

/**
 * Set the text-line limit in octets including CRLF (default 1000, RFC 5321
 * 4.5.3.1.6; a session passes opes_smtp_config_limit(cfg,
 * OPES_LIMIT_TEXT_LINE)). Lines over it are reported, not cut or refused.
 * @return OPES_OK; OPES_EINVAL (d NULL, value < 2); OPES_ECEILING (value over
 *         OPES_MAX_TEXT_LINE, limit unchanged); OPES_ESTATE (mid-message).
 */
OPES_API opes_status opes_data_decoder_set_line_limit(opes_data_decoder *d, size_t value);

/**
 * Set the reply code of the summary when OPES_DATA_REJECT rejects a message
 * (default 550; RFC 5321 4.3.2 lists 550 and 554 after the data).
 * @return OPES_OK; OPES_EINVAL (d NULL, code not 500..599); OPES_ESTATE.
 */
OPES_API opes_status opes_data_decoder_set_reject_code(opes_data_decoder *d, int code);

/**
 * Decode message data (RFC 5321 4.1.1.4, 4.5.2): remove transparency dots
 * and find "<CRLF>.<CRLF>". The data starts at a line start: a first line
 * "." CRLF ends an empty message and a first line ".." is unstuffed. The CRLF
 * before the terminating "." belongs to the content (RFC 5321 4.1.1.4: "the
 * first <CRLF> is actually the terminator of the previous line"), so every
 * message ends with CRLF. A stuffing dot is dropped without a copy: the span
 * before it is one CONTENT event, the span after it another.
 *
 * Consumes buf[0..len) up to and including the first event it finds, and
 * stops there; call again with buf + *used and the rest (and more bytes as
 * they come). A byte whose meaning depends on the next one (a CR, a dot at a
 * line start) is consumed and held in the decoder, so *used < len only when
 * an event is returned. One byte can give several events (a FALSE_END, a
 * BARE_CR and the content of both, say), so an event may come with *used ==
 * len and more to follow: keep calling, with an empty rest if need be, until
 * the event is OPES_DATA_EV_NONE (feed more) or OPES_DATA_EV_END. After END,
 * the decoder refuses more bytes until opes_data_decoder_reset().
 *
 * Events: CONTENT (views into buf, or static "\r\n", ".", "\r", "\n" the
 * decoder supplies: a normalised line end, a held byte given back); END;
 * BARE_LF, BARE_CR, LONG_LINE, DOT_NOT_STUFFED, FALSE_END (reported before
 * the content byte they are about, with its absolute offset). Peer
 * misbehaviour is never a failure: what to answer is in the summary.
 *
 * @param[in]  buf   data bytes; may be NULL iff len is 0
 * @param[out] used  bytes of buf consumed (<= len)
 * @param[out] ev    the event; ev->type OPES_DATA_EV_NONE when none
 * @return OPES_OK (with an event or NONE); OPES_ESTATE (the message has
 *         ended: reset first; *used 0); OPES_EINVAL (d, used or ev NULL, or
 *         buf NULL with len > 0).
 */
OPES_API opes_status opes_data_decode(opes_data_decoder *d, const char *buf, size_t len,
                                      size_t *used, opes_data_event *ev);

/**
 * The counters of the message so far, and once it is complete the reply a
 * server should give (see opes_data_summary).
 * @return OPES_OK, OPES_EINVAL (d or out NULL).
 */
OPES_API opes_status opes_data_decoder_summary(const opes_data_decoder *d, opes_data_summary *out);

/* ---- encoder (client side) --------------------------------------------- */

typedef struct opes_data_encoder opes_data_encoder;

/** Size in bytes of an opes_data_encoder, for opes_data_encoder_init_in(). */
OPES_API size_t opes_data_encoder_sizeof(void);

/**
 * Create an encoder at the start of a message: OPES_DATA_REJECT,
 * OPES_DATA_ADD_CRLF, line limit 1000.
 * @return OPES_OK, OPES_EINVAL (out NULL), OPES_ENOMEM.
 */
OPES_API opes_status opes_data_encoder_new(opes_data_encoder **out, const opes_allocator *alloc);

/** As opes_data_decoder_init_in(). @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_data_encoder_init_in(void *mem, size_t len, opes_data_encoder **out);

/** Release an encoder made by opes_data_encoder_new(). NULL is a no-op. */
OPES_API void opes_data_encoder_free(opes_data_encoder *e);

/** Start a new message; settings are kept, a sticky error is cleared.
 *  @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_data_encoder_reset(opes_data_encoder *e);

/** Bare CR/LF in the content: OPES_DATA_REJECT (error) or
 *  OPES_DATA_NORMALISE (sent as CRLF, reported). Only at the start of a
 *  message. @return OPES_OK, OPES_EINVAL, OPES_ESTATE. */
OPES_API opes_status opes_data_encoder_set_mode(opes_data_encoder *e, int mode);

/** Content not ending in CRLF: OPES_DATA_ADD_CRLF or OPES_DATA_REPORT. Only
 *  at the start of a message. @return OPES_OK, OPES_EINVAL, OPES_ESTATE. */
OPES_API opes_status opes_data_encoder_set_final(opes_data_encoder *e, int final);

/** Line limit for OPES_DATA_EV_LONG_LINE reports, as the decoder's (the
 *  encoder reports long lines; it never folds or refuses them).
 *  @return OPES_OK, OPES_EINVAL, OPES_ECEILING, OPES_ESTATE. */
OPES_API opes_status opes_data_encoder_set_line_limit(opes_data_encoder *e, size_t value);

/**
 * Encode message content for DATA (RFC 5321 4.5.2): every line that begins
 * with "." gets one more "." in front, the first line included. Works like
 * opes_data_decode(): consumes buf up to the first event and stops; CONTENT
 * events are views into buf, or the static "." inserted before a line, or a
 * static "\r\n" (a normalised bare CR/LF, or a CRLF whose CR came in an
 * earlier call). A CR at the end of buf is held until the next byte shows
 * whether it is part of a CRLF. Also reports BARE_LF / BARE_CR (normalising)
 * and LONG_LINE. As with the decoder, call until the event is
 * OPES_DATA_EV_NONE, with an empty rest if need be.
 *
 * @return OPES_OK (event or NONE); OPES_EBARE_LF / OPES_EBARE_CR in
 *         OPES_DATA_REJECT mode at a bare LF / CR: ev is the BARE event with
 *         the offset, the content before it was already handed out, and the
 *         error is sticky until reset (a client that has started the data
 *         can only close the connection; check content first, or normalise);
 *         OPES_ESTATE after finish; OPES_EINVAL.
 */
OPES_API opes_status opes_data_encode(opes_data_encoder *e, const char *buf, size_t len,
                                      size_t *used, opes_data_event *ev);

/**
 * End the content: hand out the terminator, one event per call. Call until
 * ev->type is OPES_DATA_EV_END. The events: BARE_CR if the content ended
 * with a CR (normalising; rejecting, this is OPES_EBARE_CR); NO_FINAL_CRLF
 * if the content does not end with CRLF (RFC 5321 4.1.1.4); then CONTENT
 * with the terminator: ".\r\n" after a CRLF and for empty content (an empty
 * message), "\r\n.\r\n" when a CRLF is added; then END. With
 * OPES_DATA_REPORT, NO_FINAL_CRLF is all finish does: feed a line end with
 * opes_data_encode() and finish again, or reset.
 *
 * @return OPES_OK; OPES_EBARE_CR (rejecting, content ended with a bare CR;
 *         sticky); the encoder's sticky error; OPES_ESTATE (END was already
 *         handed out); OPES_EINVAL (e or ev NULL).
 */
OPES_API opes_status opes_data_encode_finish(opes_data_encoder *e, opes_data_event *ev);

/** Counters of the message so far (reply fields 0/NULL).
 *  @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_data_encoder_summary(const opes_data_encoder *e, opes_data_summary *out);

#ifdef __cplusplus
}
#endif
#endif /* OPES_DATA_H */
