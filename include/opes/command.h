/*
 * libopes — SMTP command lines (RFC 5321 4.1.1; RFC 3030 BDAT; RFC 3207
 * STARTTLS; RFC 4954 AUTH; RFC 2033 LHLO), parsed without a copy and built
 * for clients.
 */
#ifndef OPES_COMMAND_H
#define OPES_COMMAND_H

#include "common.h"
#include "status.h"
#include "smtp_config.h"
#include "path.h"
#include "params.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Command verbs (opes_command.verb). */
enum opes_verb {
    OPES_VERB_UNKNOWN = 0,
    OPES_VERB_HELO = 1,
    OPES_VERB_EHLO = 2,
    OPES_VERB_LHLO = 3,
    OPES_VERB_MAIL = 4,
    OPES_VERB_RCPT = 5,
    OPES_VERB_DATA = 6,
    OPES_VERB_BDAT = 7,
    OPES_VERB_RSET = 8,
    OPES_VERB_VRFY = 9,
    OPES_VERB_EXPN = 10,
    OPES_VERB_HELP = 11,
    OPES_VERB_NOOP = 12,
    OPES_VERB_QUIT = 13,
    OPES_VERB_STARTTLS = 14,
    OPES_VERB_AUTH = 15,
    OPES_VERB__COUNT = 16
};

/**
 * One parsed command line. Every opes_str is a view into the caller's
 * buffer, valid while the caller keeps those bytes. Fields that do not
 * belong to the verb are zero.
 */
typedef struct opes_command {
    int verb;               /* enum opes_verb */
    opes_str verb_text;     /* the verb as sent */
    opes_str argument;      /* everything after the verb and its SP, without
                               trailing white space and CRLF */
    opes_str domain;        /* HELO/EHLO/LHLO: Domain or address-literal */
    opes_path path;         /* MAIL/RCPT */
    opes_params params;     /* MAIL/RCPT parameters, in order */
    opes_str string;        /* VRFY/EXPN/HELP/NOOP argument ("" when none) */
    int smtputf8;           /* VRFY/EXPN: the SMTPUTF8 word was given (RFC 6531 3.7.4.2) */
    uint64_t chunk_size;    /* BDAT */
    int last;               /* BDAT LAST */
    opes_str mechanism;     /* AUTH: SASL mechanism as sent */
    opes_str initial_response; /* AUTH: base64 as sent, "=" for empty */
    int has_initial_response;  /* AUTH: an initial response was given */
    unsigned notes;         /* OPES_NOTE_* bits: what was tolerated */
    size_t line_len;        /* bytes of the line including its terminator */

    /* On a parse error (status < 0): */
    size_t error_offset;    /* offset in the line of the offending byte */
    int reply_code;         /* the reply a server should give: 500, 501, 502,
                               504, 555 ... (0 on success) */
    const char *enhanced;   /* its RFC 3463 enhanced code ("5.5.2"), static */
} opes_command;

/**
 * Parse one command line from buf[0..len) (RFC 5321 4.1.1, 4.5.3.1.4).
 *
 * The line ends at CRLF (strict) — a bare CR or LF inside it is an invalid
 * character (500), never a line end; with OPES_LENIENT_BARE_LF a bare LF
 * also ends it (noted). The verb is matched case-insensitively, over the
 * whole word: "DA\rTA" is not DATA.
 *
 * A malformed line is a result, not a stuck parser: the status says what is
 * wrong, cmd->reply_code / cmd->enhanced what a server replies, and *used
 * how far to skip so the next call starts at the next line.
 *
 * Over-long lines: when the line (or, with no CRLF yet, the bytes given)
 * exceeds opes_smtp_config_line_limit() for its verb, the status is
 * OPES_ELINE_TOO_LONG with reply 500. If the CRLF is in buf, *used skips
 * past it. If not, *used covers what may safely be dropped (all of buf but a
 * trailing CR) and cmd->line_len is 0: the caller discards with
 * opes_line_skip() until it returns OPES_OK, so no byte of the tail is ever
 * read as a command.
 *
 * @param cfg   context (NULL: strict, default limits, no extensions)
 * @param[out] cmd   the command; on error its reply_code, enhanced, error_offset
 * @param[out] used  bytes consumed: the whole line incl. its terminator (also
 *                   for a malformed line); 0 with OPES_INCOMPLETE
 * @return OPES_OK; OPES_INCOMPLETE (no line end yet, within the limit); a
 *         syntax status (-100..-199) or limit status (-200..-299) for a bad
 *         line; OPES_EINVAL (buf NULL with len > 0, cmd or used NULL).
 */
OPES_API opes_status opes_command_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                                        opes_command *cmd, size_t *used);

/**
 * Skip the rest of an over-long line: consume up to and including the next
 * CRLF (or bare LF, if cfg allows it for commands).
 * @param[out] used bytes to drop
 * @return OPES_OK (line end found and consumed), OPES_INCOMPLETE (all of *used
 *         dropped, still inside the line; a trailing CR is kept), OPES_EINVAL.
 */
OPES_API opes_status opes_line_skip(const opes_smtp_config *cfg, const char *buf, size_t len,
                                    size_t *used);

/** Name of a verb ("MAIL"), or NULL for an unknown value. Static. */
OPES_API const char *opes_verb_name(int verb);

/**
 * One client line inside an AUTH exchange (RFC 4954 4): a base64 response
 * (possibly empty) or the "*" that cancels.
 */
typedef struct opes_auth_line {
    int cancel;        /* the line was "*" */
    opes_str response; /* base64 as sent (empty for an empty line) */
    size_t line_len;   /* bytes incl. CRLF; 0 for an over-long line whose
                          end is not in the buffer yet */
    size_t error_offset;
    int reply_code;    /* on error: 500 (5.5.6) too long, 501 (5.5.2) bad
                          base64, 500 (5.5.2) bare CR/LF; also on a cancel
                          (status OK): 501 (5.7.0), which RFC 4954 4 demands */
    const char *enhanced;
    unsigned notes;    /* OPES_NOTE_BARE_LF when a bare LF ended the line */
} opes_auth_line;

/**
 * Parse one line of an AUTH exchange. Limit: OPES_LIMIT_AUTH_LINE.
 * Base64 is checked as RFC 4954 4 demands: only the alphabet, "=" only as
 * final padding, length a multiple of 4.
 * @return OPES_OK, OPES_INCOMPLETE, OPES_EBAD_BASE64, OPES_EAUTH_LINE_TOO_LONG
 *         (with the skip rules of opes_command_parse), OPES_EBARE_CR,
 *         OPES_EBARE_LF, OPES_EINVAL.
 */
OPES_API opes_status opes_auth_line_parse(const opes_smtp_config *cfg, const char *buf,
                                          size_t len, opes_auth_line *out, size_t *used);

/**
 * Build a command line for a client, CRLF included.
 *
 * verb: any OPES_VERB_* but UNKNOWN. arg is the argument text as it follows
 * the verb and SP (domain for HELO/EHLO/LHLO, string for VRFY/EXPN/HELP/NOOP,
 * "mechanism [initial-response]" for AUTH, "size [LAST]" for BDAT); it must be
 * empty for DATA, RSET, QUIT, STARTTLS. For MAIL and RCPT use
 * opes_mail_rcpt_build(). Refuses CR, LF or NUL (OPES_EINJECT), an argument
 * where none is allowed or a missing one (OPES_EUNEXPECTED_ARG,
 * OPES_EMISSING_ARG). Builder convention (see opes_path_build()).
 */
OPES_API opes_status opes_command_build(char *dst, size_t cap, size_t *len, int verb,
                                        const char *arg, size_t arg_len);

/**
 * Build "MAIL FROM:<path> params CRLF" or "RCPT TO:<path> params CRLF".
 * @param verb    OPES_VERB_MAIL or OPES_VERB_RCPT
 * @param path    as opes_path_build() takes it (local, domain); both empty
 *                for "<>" (MAIL only)
 * @param params  parameters to append (NULL or count 0 for none)
 * Refusals as opes_path_build() and opes_params_build().
 */
OPES_API opes_status opes_mail_rcpt_build(char *dst, size_t cap, size_t *len, int verb,
                                          const char *local, size_t local_len,
                                          const char *domain, size_t domain_len,
                                          const opes_params *params);

#ifdef __cplusplus
}
#endif
#endif /* OPES_COMMAND_H */
