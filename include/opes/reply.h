/*
 * libopes — SMTP replies (RFC 5321 4.2) with enhanced status codes
 * (RFC 2034, RFC 3463): parsed without a copy, line by line or as a stream,
 * and built for servers.
 *
 *     Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                  Reply-code [ SP textstring ] CRLF
 *     Reply-code = %x32-35 %x30-35 %x30-39
 *     textstring = 1*(%d09 / %d32-126)            ; RFC 5321 4.2
 *
 *     status-code = class "." subject "." detail  ; RFC 2034 4, RFC 3463 2
 *     class = "2" / "4" / "5";  subject = 1*3digit;  detail = 1*3digit
 *
 * Three parsers share one line grammar:
 *  - opes_reply_line_parse(): one line (a unit parser);
 *  - opes_reply_parser_*: a push parser over a stream of replies (a client
 *    reading a pipelined server), one event per line;
 *  - opes_reply_parse(): one whole reply already in a buffer, with a line
 *    iterator (opes_reply_next_line()).
 * And one builder, opes_reply_build(), that every rejection of the library
 * goes through.
 *
 * Decisions (strict is the default; each tolerance is a flag of the
 * opes_smtp_config and is reported in the result's notes):
 *  - Lines end at CRLF. A bare CR is an error (OPES_EBARE_CR); a bare LF is
 *    an error (OPES_EBARE_LF) unless OPES_LENIENT_BARE_LF, which then ends
 *    the line and sets OPES_NOTE_BARE_LF.
 *  - The code alone ("250" CRLF) and the code with a trailing space and no
 *    text ("334 " CRLF, RFC 4954 4) are both accepted as last lines: RFC
 *    5321 4.2 says clients SHOULD accept the code alone with or without a
 *    trailing space.
 *  - Reply codes follow the ABNF: first digit 2-5, second 0-5. Anything else
 *    (including 1yz, which RFC 5321 4.2 forbids servers to send without an
 *    extension) is OPES_EBAD_REPLY.
 *  - Text is textstring: HT and printable US-ASCII. Other control
 *    characters, NUL included, are OPES_EBAD_CHAR. Octets >= 0x80 are
 *    OPES_EBAD_UTF8 in strict mode: RFC 6531 3.7.4.2 says servers MUST NOT
 *    put non-ASCII characters in replies except where it permits them (the
 *    replies of an SMTPUTF8 transaction, RFC 6531 3.7.4). Well-formed UTF-8
 *    is accepted when the config says the transaction is SMTPUTF8
 *    (opes_smtp_config_set_utf8()) or with OPES_LENIENT_8BIT; either way it
 *    sets OPES_NOTE_8BIT. Ill-formed UTF-8 is always OPES_EBAD_UTF8.
 *  - Line length incl. CRLF: OPES_LIMIT_REPLY_LINE (512, RFC 5321
 *    4.5.3.1.5); past it OPES_EREPLY_TOO_LONG. Lines per reply:
 *    OPES_LIMIT_REPLY_LINES (128); past it OPES_ETOO_MANY_LINES.
 *  - An enhanced status code is taken from the start of the text when it is
 *    well formed, its class equals the reply's first digit, and it is
 *    followed by SP or the end of the line. Otherwise nothing is taken out of
 *    the text, and a text that starts like one (digits then ".") is flagged
 *    OPES_ESC_MALFORMED or OPES_ESC_MISMATCH: RFC 2034 asks clients to
 *    tolerate servers that get it wrong, so this is never an error.
 */
#ifndef OPES_REPLY_H
#define OPES_REPLY_H

#include "common.h"
#include "smtp_config.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags about the enhanced status code of a line (opes_reply_line.esc_flags). */
enum opes_esc_flag {
    /** The text starts like an enhanced status code (digits then ".") but
     *  breaks RFC 3463 2: class not 2/4/5, a sub-code of 0 or more than 3
     *  digits or with a leading zero, or not followed by SP or the end. */
    OPES_ESC_MALFORMED = 1u << 0,
    /** A well-formed enhanced code whose class differs from the reply's first
     *  digit (RFC 2034 4: "a 2xx response must incorporate a 2.X.X code"),
     *  which includes any code on a 3xx reply. */
    OPES_ESC_MISMATCH = 1u << 1,
    /** Multi-line replies only (set by the push parser and
     *  opes_reply_parse()): the first line has an enhanced code and this line
     *  has another one or none (RFC 2034 4: "the same status code must appear
     *  at the beginning of the text in each line"). */
    OPES_ESC_DIFFERS = 1u << 2
};

/**
 * One parsed reply line. Every opes_str is a view into the caller's buffer,
 * valid while the caller keeps those bytes.
 */
typedef struct opes_reply_line {
    int code;            /* 200..559, from the three digits */
    int is_last;         /* 1: "NNN SP ..." or "NNN" (last line); 0: "NNN-..." */
    opes_str text;       /* everything after "NNN-" / "NNN ", without the line
                            end; empty for "NNN" and "NNN ". Includes the
                            enhanced code if any. */
    opes_str enhanced;   /* the enhanced status code ("5.7.1") at the start of
                            text, or empty (none, malformed, or mismatching) */
    int esc_class;       /* its numbers: 2, 4 or 5; 0 when enhanced is empty */
    int esc_subject;     /* 0..999 */
    int esc_detail;      /* 0..999 */
    opes_str message;    /* text after the enhanced code and the spaces that
                            follow it; equals text when there is no code */
    unsigned esc_flags;  /* enum opes_esc_flag */
    unsigned notes;      /* OPES_NOTE_BARE_LF, OPES_NOTE_8BIT */
    size_t line_len;     /* bytes of the line including its terminator */
    size_t error_offset; /* on error: offset of the offending byte in the line */
} opes_reply_line;

/**
 * Parse one reply line from buf[0..len) (RFC 5321 4.2, 4.5.3.1.5; RFC 2034 4).
 *
 * Bytes are checked in order and the first offending one decides the
 * status, so the result is the same however the line arrives: an error is
 * reported as soon as its byte is there (no need to wait for the CRLF).
 *
 * @param cfg        context: OPES_LIMIT_REPLY_LINE, OPES_LENIENT_BARE_LF,
 *                   OPES_LENIENT_8BIT, the SMTPUTF8 flag; NULL: strict defaults
 * @param[in]  buf   bytes from the server; need not be NUL-terminated
 * @param[in]  len   number of bytes in buf
 * @param[out] line  the line; views into buf. On error, line->error_offset.
 * @param[out] used  OPES_OK: bytes of the line incl. its terminator. On a
 *                   syntax or limit error: the same when the line's LF is
 *                   already in buf (within the limit), else 0. 0 with
 *                   OPES_INCOMPLETE.
 * @return OPES_OK; OPES_INCOMPLETE (no line end yet, within the limit);
 *         OPES_EBAD_REPLY (reply code or separator malformed);
 *         OPES_EBAD_CHAR (a control character in the text); OPES_EBAD_UTF8
 *         (8-bit text not allowed, or ill-formed UTF-8); OPES_EBARE_CR;
 *         OPES_EBARE_LF (strict); OPES_EREPLY_TOO_LONG (no line end within
 *         OPES_LIMIT_REPLY_LINE octets); OPES_EINVAL (buf NULL with len > 0,
 *         line or used NULL).
 */
OPES_API opes_status opes_reply_line_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                                           opes_reply_line *line, size_t *used);

/**
 * Check an enhanced status code (RFC 3463 2): class "." subject "." detail,
 * class 2, 4 or 5, subject and detail of 1 to 3 digits without leading zeros.
 * The whole of buf[0..len) must be the code.
 *
 * @param[out] cls, subject, detail  its numbers (each may be NULL)
 * @return OPES_OK, OPES_EBAD_ENHANCED_CODE, OPES_EINVAL (buf NULL, len > 0).
 */
OPES_API opes_status opes_reply_enhanced_parse(const char *buf, size_t len, int *cls, int *subject,
                                               int *detail);

/* ---- push parser ------------------------------------------------------- */

/** A push parser over a stream of replies (opaque). */
typedef struct opes_reply_parser opes_reply_parser;

/**
 * What opes_reply_parser_feed() returns for each line. line's views point
 * into the buffer given to that feed call and live as long as its bytes.
 */
typedef struct opes_reply_event {
    opes_reply_line line; /* the line (esc_flags may include OPES_ESC_DIFFERS) */
    size_t index;         /* 0-based position of the line in its reply */
    size_t reply;         /* 0-based number of its reply in the stream: with
                             PIPELINING, replies are matched to commands by
                             counting (RFC 2920 3.1) */
    size_t offset;        /* stream offset of the line's first byte, counted
                             from creation or the last reset */
} opes_reply_event;

/** Size in bytes of an opes_reply_parser, for opes_reply_parser_init_in(). */
OPES_API size_t opes_reply_parser_sizeof(void);

/**
 * Create a parser with the default context (strict, 512-octet lines, 128
 * lines per reply).
 * @param[out] out   the parser; release with opes_reply_parser_free()
 * @param[in]  alloc allocator, or NULL for malloc
 * @return OPES_OK, OPES_EINVAL (out NULL), OPES_ENOMEM.
 */
OPES_API opes_status opes_reply_parser_new(opes_reply_parser **out, const opes_allocator *alloc);

/**
 * Create a parser in caller memory: mem must hold opes_reply_parser_sizeof()
 * bytes, aligned as malloc aligns. opes_reply_parser_free() on it is a no-op.
 * @return OPES_OK, OPES_EINVAL (mem or out NULL, len too small).
 */
OPES_API opes_status opes_reply_parser_init_in(void *mem, size_t len, opes_reply_parser **out);

/** Release a parser made by opes_reply_parser_new(). NULL is a no-op. */
OPES_API void opes_reply_parser_free(opes_reply_parser *p);

/**
 * Take the reply limits and leniencies of cfg (OPES_LIMIT_REPLY_LINE,
 * OPES_LIMIT_REPLY_LINES, OPES_LENIENT_BARE_LF, OPES_LENIENT_8BIT, the
 * SMTPUTF8 flag). They are copied: cfg may be freed afterwards; call again
 * when it changes. NULL restores the defaults. Valid at any time.
 * @return OPES_OK, OPES_EINVAL (p NULL).
 */
OPES_API opes_status opes_reply_parser_set_config(opes_reply_parser *p,
                                                  const opes_smtp_config *cfg);

/**
 * Back to the start of a stream: no reply in progress, offsets from 0, the
 * sticky error cleared. The context set by opes_reply_parser_set_config()
 * is kept. NULL is a no-op.
 */
OPES_API void opes_reply_parser_reset(opes_reply_parser *p);

/**
 * Feed bytes; consume at most one line and report it.
 *
 * The parser keeps no bytes: a line is consumed only when it is complete,
 * and its event's views point into buf. Unconsumed bytes stay the caller's,
 * who presents them again with more appended; the buffer must be able to
 * hold one line of the limit. Any split of a stream gives the same events.
 *
 * Every line of a multi-line reply must carry the first line's code
 * (RFC 5321 4.2: "the reply code on each of the lines MUST be the same").
 * An error is sticky: every later call returns it until
 * opes_reply_parser_reset().
 *
 * @param[in]  buf   next bytes of the stream (may be NULL iff len is 0)
 * @param[out] used  bytes consumed: the line with its terminator on OPES_OK,
 *                   else 0
 * @param[out] ev    OPES_OK: the line. On error: ev->line.error_offset is the
 *                   offset in the line, ev->offset the line's stream offset.
 * @return OPES_OK (one line in *ev); OPES_INCOMPLETE (no complete line in
 *         buf); OPES_EREPLY_CODE_MISMATCH (a line of a multi-line reply with
 *         another code); OPES_ETOO_MANY_LINES (a continuation line where the
 *         reply already has OPES_LIMIT_REPLY_LINES lines); any error of
 *         opes_reply_line_parse(); OPES_EINVAL (p, used or ev NULL, or buf
 *         NULL with len > 0; not sticky).
 */
OPES_API opes_status opes_reply_parser_feed(opes_reply_parser *p, const char *buf, size_t len,
                                            size_t *used, opes_reply_event *ev);

/** Lines of the reply in progress: 0 between replies, n after n
 *  continuation lines (a stream that ends here ends inside a reply).
 *  0 for NULL. */
OPES_API size_t opes_reply_parser_pending(const opes_reply_parser *p);

/** Stream offset of the byte that caused the sticky error, or 0 (also for
 *  NULL or no error). */
OPES_API size_t opes_reply_parser_error_offset(const opes_reply_parser *p);

/* ---- whole reply ------------------------------------------------------ */

/**
 * A whole reply: summary and the span to iterate over with
 * opes_reply_next_line(). Views into the caller's buffer.
 */
typedef struct opes_reply {
    int code;          /* the reply code (every line has it) */
    size_t nlines;     /* number of lines, >= 1 */
    opes_str enhanced; /* the first line's enhanced code, or empty */
    int esc_class;     /* its numbers; 0 when there is none */
    int esc_subject;
    int esc_detail;
    opes_str span;       /* the whole reply, from its first byte to the end of
                            its last line terminator */
    unsigned esc_flags;  /* OR of every line's enum opes_esc_flag */
    unsigned notes;      /* OR of every line's notes */
    size_t error_offset; /* on error: offset in buf of the offending byte */
} opes_reply;

/**
 * Parse one whole reply from the start of buf[0..len) (RFC 5321 4.2).
 *
 * @param cfg   context as for opes_reply_line_parse(), plus
 *              OPES_LIMIT_REPLY_LINES; NULL: strict defaults
 * @param[out] reply  the reply; views into buf
 * @param[out] used   OPES_OK: bytes of the reply (= reply->span.len). On an
 *                    error in a line: the bytes up to the end of that line
 *                    when its LF is in buf, else 0. 0 with OPES_INCOMPLETE.
 * @return OPES_OK; OPES_INCOMPLETE (the last line has not arrived);
 *         OPES_EREPLY_CODE_MISMATCH; OPES_ETOO_MANY_LINES; any error of
 *         opes_reply_line_parse(); OPES_EINVAL.
 */
OPES_API opes_status opes_reply_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                                      opes_reply *reply, size_t *used);

/**
 * Iterate over the lines of a reply parsed by opes_reply_parse(). Start with
 * *pos = 0; each call fills *line (views into the reply's bytes) and
 * advances *pos.
 *
 *     size_t pos = 0;
 *     opes_reply_line l;
 *     while (opes_reply_next_line(&reply, &pos, &l) == OPES_OK)
 *         use(l.code, l.message);
 *
 * @return OPES_OK (a line); OPES_ENOTFOUND (no more lines); OPES_EINVAL
 *         (a NULL argument, *pos past the span); a parse status if the span
 *         was not produced by opes_reply_parse().
 */
OPES_API opes_status opes_reply_next_line(const opes_reply *reply, size_t *pos,
                                          opes_reply_line *line);

/* ---- builder ---------------------------------------------------------- */

/**
 * Build a reply for a server: "NNN-" continuation lines and an "NNN " last
 * line, each ended by CRLF (RFC 5321 4.2).
 *
 * Each element of lines becomes one or more reply lines: a text too long for
 * one line is wrapped at a space (the space is dropped) so that every line,
 * CRLF included, fits in limit octets. With an enhanced code it is written
 * at the start of every line, followed by one SP (RFC 2034 4: the same code
 * on each line). Without one, none is written (never "0.0.0"). An empty
 * text gives "NNN " (as the last line; RFC 4954 4's "334 ") or "NNN-", or
 * "NNN X.Y.Z" / "NNN-X.Y.Z" with an enhanced code; nlines 0 gives one such
 * line.
 *
 * Builder convention: writes into dst[0..cap); OPES_OK with *len = bytes
 * written, OPES_ENOSPC with *len = bytes needed (dst contents unspecified).
 * dst may be NULL iff cap is 0. No NUL is written.
 *
 * @param code      200..599 with a second digit of 0-5 (Reply-code ABNF)
 * @param enhanced  NUL-terminated RFC 3463 code whose class equals code's
 *                  first digit ("5.7.1"), or NULL or "" for none; a 3xx
 *                  reply takes none (RFC 2034 4)
 * @param lines     nlines texts (textstring: HT, SP, printable ASCII); may
 *                  be NULL iff nlines is 0
 * @param limit     reply-line limit incl. CRLF; 0 means the default
 *                  OPES_LIMIT_REPLY_LINE (512, RFC 5321 4.5.3.1.5)
 * @return OPES_OK; OPES_ENOSPC; OPES_EINJECT (CR, LF or NUL in a text or in
 *         enhanced); OPES_EBAD_CHAR (another character outside textstring);
 *         OPES_EBAD_ENHANCED_CODE (malformed, wrong class, or on a 3xx);
 *         OPES_EREPLY_TOO_LONG (a word that cannot fit in one line, or a
 *         limit too small for the code); OPES_ETOO_MANY_LINES (more than
 *         OPES_MAX_REPLY_LINES lines); OPES_ECEILING (limit above
 *         OPES_MAX_REPLY_LINE); OPES_EOVERFLOW; OPES_EINVAL (code out of
 *         range, a NULL text with a length, len NULL, dst NULL with cap).
 */
OPES_API opes_status opes_reply_build(char *dst, size_t cap, size_t *len, int code,
                                      const char *enhanced, const opes_str *lines, size_t nlines,
                                      size_t limit);

#ifdef __cplusplus
}
#endif
#endif /* OPES_REPLY_H */
