/*
 * libopes — SMTP command lines (RFC 5321 4.1.1; RFC 3030 BDAT; RFC 3207
 * STARTTLS; RFC 4954 AUTH; RFC 2033 LHLO), parsed without a copy and built
 * for clients.
 */
#ifndef OPES_COMMAND_H
#define OPES_COMMAND_H

#include "common.h"
#include "params.h"
#include "path.h"
#include "smtp_config.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* enum opes_verb (the command verbs) lives in smtp_config.h. */

/**
 * One parsed command line. Every opes_str is a view into the caller's
 * buffer, valid while the caller keeps those bytes. Fields that do not
 * belong to the verb are zero.
 */
typedef struct opes_command {
    int verb;                  /* enum opes_verb */
    opes_str verb_text;        /* the verb as sent */
    opes_str argument;         /* everything after the verb and its SP, without
                                  trailing white space and CRLF */
    opes_str domain;           /* HELO/EHLO/LHLO: Domain or address-literal */
    opes_path path;            /* MAIL/RCPT */
    opes_params params;        /* MAIL/RCPT parameters, in order */
    opes_str string;           /* VRFY/EXPN/HELP/NOOP argument ("" when none) */
    int smtputf8;              /* VRFY/EXPN: the SMTPUTF8 word was given (RFC 6531 3.7.4.2) */
    uint64_t chunk_size;       /* BDAT */
    int last;                  /* BDAT LAST */
    opes_str mechanism;        /* AUTH: SASL mechanism as sent */
    opes_str initial_response; /* AUTH: base64 as sent, "=" for empty */
    int has_initial_response;  /* AUTH: an initial response was given */
    unsigned notes;            /* OPES_NOTE_* bits: what was tolerated */
    size_t line_len;           /* bytes of the line including its terminator */

    /* On a parse error (status < 0): */
    size_t error_offset;  /* offset in the line of the offending byte */
    int reply_code;       /* the reply a server should give: 500, 501, 502,
                             504, 555 ... (0 on success) */
    const char *enhanced; /* its RFC 3463 enhanced code ("5.5.2"), static */
} opes_command;

/**
 * Parse one command line from buf[0..len) (RFC 5321 4.1.1, 4.5.3.1.4).
 *
 * The line ends at CRLF (strict) — a bare CR or LF inside it is an invalid
 * character (500), never a line end (RFC 5321 2.3.8); with
 * OPES_LENIENT_BARE_LF a bare LF also ends it (OPES_NOTE_BARE_LF). The verb
 * is matched case-insensitively (OPES_NOTE_CASE when not in upper case),
 * over the whole word up to SP: "DA\rTA" and "DATAX" are not DATA. Trailing
 * SP/HT before the line end is dropped in every mode (RFC 5321 4.1.1 SHOULD;
 * OPES_NOTE_TRAILING_SPACE). Exactly one SP separates the verb from its
 * argument; cmd->argument is the rest of the line.
 *
 * A malformed line is a result, not a stuck parser: the status says what is
 * wrong, cmd->reply_code / cmd->enhanced what a server replies,
 * cmd->error_offset where (offset in the line), and *used how far to skip
 * so the next call starts at the next line. cmd->verb is set whenever the
 * verb word is one of the verbs, also on an error.
 *
 * Arguments, by verb:
 *  - HELO, EHLO, LHLO (RFC 2033 4.1: the syntax of EHLO): Domain (LDH
 *    labels, no trailing dot) or address-literal (RFC 5321 4.1.3), in
 *    cmd->domain, also for HELO (RFC 5321 4.1.1.1 asks clients without a
 *    name to send a literal). ASCII only (RFC 6531 3.7.1). Text after the
 *    domain (an RFC 2821 habit) is a syntax error.
 *  - MAIL: "FROM:" (any case) Reverse-path [SP Mail-parameters]; RCPT: "TO:"
 *    ( "<Postmaster>" / Forward-path ) [SP Rcpt-parameters]. No SP before
 *    the colon; after it only with OPES_LENIENT_SPACE_AFTER_COLON (noted).
 *    Paths by opes_path_parse(), parameters by opes_params_parse() (their
 *    notes are OR-ed into cmd->notes). UTF-8 in a MAIL path needs the
 *    SMTPUTF8 parameter on the same line and the extension offered (RFC
 *    6531 3.4); in a RCPT path opes_smtp_config_utf8(cfg).
 *  - DATA, RSET, QUIT, STARTTLS: no argument (RFC 5321 4.1.1, RFC 3207 4).
 *  - VRFY, EXPN: String (Atom / Quoted-string, RFC 5321 4.1.2) [SP
 *    "SMTPUTF8"] (RFC 6531 3.7.4.2, cmd->smtputf8). The String may hold
 *    UTF-8 when opes_smtp_config_utf8(cfg) or when the SMTPUTF8 word is
 *    given and the extension offered. "VRFY user@example.com" is not a
 *    String ("@" is not atext): 501, as the grammar says.
 *  - HELP: optional String. NOOP: any text ("servers SHOULD ignore it",
 *    RFC 5321 4.1.1.9), in cmd->string.
 *  - BDAT (RFC 3030 2): chunk-size [SP "LAST"], chunk-size 1*DIGIT up to
 *    UINT64_MAX (cmd->chunk_size, cmd->last). Needs CHUNKING offered.
 *  - AUTH (RFC 4954 4): sasl-mech (1-20 of A-Z 0-9 - _, any case: RFC 4422
 *    3.1, RFC 4954 8) [SP initial-response], the response "=" or strict
 *    base64 (alphabet only, "=" only as final padding, length a multiple of
 *    4). Needs AUTH offered. STARTTLS needs STARTTLS offered.
 * A NULL cfg offers nothing and registers no parameter.
 *
 * Non-ASCII octets are allowed only where SMTPUTF8 allows them (above);
 * elsewhere they are "500 syntax error - invalid character" (RFC 5321 2.4),
 * or, with OPES_LENIENT_8BIT, accepted as well-formed UTF-8 and noted
 * (OPES_NOTE_8BIT) where the grammar has room for text (NOOP, HELP, VRFY,
 * paths and values, U-labels in HELO).
 *
 * Reply codes (cmd->reply_code, cmd->enhanced):
 *
 *   condition                                  status                  reply enhanced
 *   line over its limit                        OPES_ELINE_TOO_LONG     500   5.5.2
 *     (AUTH when offered)                                              500   5.5.6
 *   bare CR; bare LF (strict)                  OPES_EBARE_CR / _LF     500   5.5.2
 *   NUL, other controls, DEL                   OPES_EBAD_CHAR          500   5.5.2
 *   non-ASCII not allowed (not in a path)      OPES_EBAD_CHAR          500   5.5.2
 *   ill-formed UTF-8, anywhere, any mode       OPES_EBAD_UTF8          500   5.5.2
 *   UTF-8 in a MAIL path without SMTPUTF8      OPES_EBAD_UTF8          550   5.6.7
 *   UTF-8 in a RCPT path without SMTPUTF8      OPES_EBAD_UTF8          553   5.6.7
 *   unknown verb (also an empty line)          OPES_EUNKNOWN_COMMAND   500   5.5.1
 *   BDAT/STARTTLS/AUTH not offered             OPES_ENOT_OFFERED       502   5.5.1
 *   argument missing                           OPES_EMISSING_ARG       501   5.5.4
 *   argument where none is allowed             OPES_EUNEXPECTED_ARG    501   5.5.4
 *   HT instead of SP after the verb            OPES_EBAD_CHAR          501   5.5.2
 *   argument syntax (domain, String, "FROM:",
 *     SP after ":", text after the path,
 *     BDAT/AUTH syntax, bad base64)            OPES_ESYNTAX, _EBAD_*   501   5.5.2
 *   HELO domain over 255                       OPES_EDOMAIN_TOO_LONG   501   5.5.4
 *   BDAT chunk-size over UINT64_MAX            OPES_EBAD_NUMBER        501   5.5.4
 *   MAIL path syntax or length                 path status             501   5.1.7
 *   RCPT path syntax or length                 path status             501   5.1.3
 *   parameter not registered / not offered     OPES_EPARAM_UNKNOWN     555   5.5.4
 *   parameter syntax (keyword, value, xtext)   OPES_EBAD_PARAM, ...    501   5.5.2
 *   parameter repeated, bad value, number
 *     out of range, too long, too many         OPES_EPARAM_*, _ETOO_*,
 *                                              OPES_EBAD_NUMBER        501   5.5.4
 *   VRFY/EXPN SMTPUTF8 word not offered        OPES_EPARAM_UNKNOWN     504   5.5.4
 *
 * Sources: RFC 5321 4.2.4 (500 for unrecognized, 502 for recognized but
 * not implemented), 4.1.1 and 4.3.2 (501 for DATA/RSET/QUIT arguments),
 * 4.5.3.1.9 ("500 Line too long", "501 Path too long"), 4.1.1.11 (555),
 * 4.2.3 (504 "Command parameter not implemented"), RFC 6531 3.5 (550/553
 * X.6.7 for an address that needs SMTPUTF8), 2.4 (500 invalid
 * character); RFC 3207 4 (501 for STARTTLS arguments); RFC 4954 4 and 6
 * (501 5.5.2 bad base64, 500 5.5.6 line too long); RFC 3463 3.6 (X.5.1
 * invalid command, X.5.2 syntax error, X.5.4 invalid arguments), 3.2 (X.1.3
 * bad destination address syntax, X.1.7 bad sender address syntax); RFC
 * 6531 4.2 (X.6.7 non-ASCII addresses not permitted); RFC 5248 (the basic
 * codes each enhanced code goes with).
 *
 * Line limits: the limit of a line is opes_smtp_config_line_limit() for its
 * verb (MAIL and RCPT raised by the offered extensions: 1036 for RCPT with
 * DSN, RFC 3461 5.4); for AUTH, when offered, OPES_LIMIT_AUTH_LINE (12288,
 * RFC 4954 4), never less than the plain command limit. A line shorter than
 * the plain limit (512) is never too long (RFC 5321 4.5.3.1.4). While no
 * line end has arrived, the limit is the verb's once the verb word is
 * complete (a SP follows it, or it cannot be a verb), and before that the
 * largest limit any verb has under cfg; a partial line of len >= limit is
 * over (any ending adds an octet). The result does not depend on how the
 * bytes were split; only line_len and *used differ (see below).
 *
 * Over-long lines: the status is OPES_ELINE_TOO_LONG with reply 500 and
 * error_offset = the limit. If the line end is in buf, *used skips past it
 * and cmd->line_len is the line's length. If not, *used covers what may
 * safely be dropped (all of buf but a trailing CR) and cmd->line_len is 0:
 * the caller discards with opes_line_skip() until it returns OPES_OK, so no
 * byte of the tail is ever read as a command.
 *
 * cmd->params.item[i] for i >= cmd->params.count is left as it was (only
 * count is reset): clearing 64 entries would cost more than a short line.
 *
 * @param cfg   context (NULL: strict, default limits, no extensions)
 * @param[out] cmd   the command; on error its reply_code, enhanced, error_offset
 * @param[out] used  bytes consumed: the whole line incl. its terminator (also
 *                   for a malformed line); 0 with OPES_INCOMPLETE
 * @return OPES_OK; OPES_INCOMPLETE (no line end yet, within the limit;
 *         nothing consumed); a syntax status (-100..-199) or limit status
 *         (-200..-299) for a bad line; OPES_EINVAL (buf NULL with len > 0,
 *         cmd or used NULL).
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
    int reply_code; /* on error: 500 (5.5.6) too long, 501 (5.5.2) bad
                       base64, 500 (5.5.2) bare CR/LF; also on a cancel
                       (status OK): 501 (5.7.0), which RFC 4954 4 demands */
    const char *enhanced;
    unsigned notes; /* OPES_NOTE_BARE_LF when a bare LF ended the line */
} opes_auth_line;

/**
 * Parse one line of an AUTH exchange (RFC 4954 4): base64 (possibly empty)
 * or "*". Limit: OPES_LIMIT_AUTH_LINE (12288 by default), with the skip rules
 * of opes_command_parse() (line_len 0, then opes_line_skip()). Base64 is
 * checked as RFC 4954 4 demands: only the alphabet, "=" only as final
 * padding, length a multiple of 4 — no white space either (it "MUST reject
 * (and not ignore) any character not explicitly allowed"). "*" is a cancel:
 * status OK, out->cancel 1, and reply_code 501 / enhanced "5.7.0", the
 * reply RFC 4954 4 requires. The line end follows opes_command_parse()
 * (CRLF; a bare LF only with OPES_LENIENT_BARE_LF, noted in out->notes).
 * @return OPES_OK, OPES_INCOMPLETE, OPES_EBAD_BASE64 (501 5.5.2),
 *         OPES_EAUTH_LINE_TOO_LONG (500 5.5.6), OPES_EBARE_CR,
 *         OPES_EBARE_LF (500 5.5.2), OPES_EINVAL.
 */
OPES_API opes_status opes_auth_line_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                                          opes_auth_line *out, size_t *used);

/**
 * Build a command line for a client, CRLF included.
 *
 * verb: any OPES_VERB_* but UNKNOWN, MAIL and RCPT (for those use
 * opes_mail_rcpt_build()). arg is the argument text as it follows the verb
 * and SP (domain for HELO/EHLO/LHLO, String [SP "SMTPUTF8"] for VRFY/EXPN,
 * String for HELP, text for NOOP, "mechanism [initial-response]" for AUTH,
 * "size [LAST]" for BDAT); it must be empty for DATA, RSET, QUIT, STARTTLS.
 * cfg describes the server the line goes to (what its EHLO offered; NULL:
 * nothing offered): BDAT, STARTTLS and AUTH are refused unless CHUNKING,
 * STARTTLS, AUTH are offered (OPES_ENOT_OFFERED).
 * The argument is checked with the parser's grammar, so the line parses
 * back to the same command under cfg (and, for UTF-8 in VRFY/EXPN, with
 * SMTPUTF8 in effect or the SMTPUTF8 word): no non-ASCII but in VRFY/EXPN,
 * no control character, no trailing white space. The line may not exceed
 * opes_smtp_config_line_limit(cfg, verb) (512 by default, RFC 5321
 * 4.5.3.1.4), AUTH included: "the AUTH command is still subject to the
 * line length limitations" (RFC 4954 4).
 *
 * @return OPES_OK with *len written; OPES_ENOSPC with *len needed (dst may
 *         be NULL iff cap is 0; no NUL is written); OPES_EINJECT (CR, LF or
 *         NUL in arg); OPES_EUNEXPECTED_ARG, OPES_EMISSING_ARG; the grammar's
 *         status for a bad argument (OPES_EBAD_DOMAIN,
 *         OPES_EBAD_ADDRESS_LITERAL, OPES_EBAD_CHAR, OPES_ESYNTAX,
 *         OPES_EBAD_UTF8, OPES_EBAD_NUMBER, OPES_EBAD_BASE64);
 *         OPES_ELINE_TOO_LONG; OPES_ENOT_OFFERED; OPES_EINVAL (bad verb, arg
 *         NULL with arg_len > 0, len NULL, dst NULL with cap > 0).
 */
OPES_API opes_status opes_command_build(char *dst, size_t cap, size_t *len,
                                        const opes_smtp_config *cfg, int verb, const char *arg,
                                        size_t arg_len);

/**
 * Build "MAIL FROM:<path> params CRLF" or "RCPT TO:<path> params CRLF".
 * @param verb    OPES_VERB_MAIL or OPES_VERB_RCPT
 * @param local, domain  the path as opes_path_build() takes it (unquoted
 *                bytes; quoted as needed); both empty for "<>" (MAIL only:
 *                RCPT gets OPES_EBAD_PATH); RCPT with local "Postmaster"
 *                (any case) and no domain writes "<Postmaster>"; any other
 *                local without a domain is OPES_EBAD_DOMAIN.
 * @param params  parameters to append, as opes_params_build() writes them
 *                (NULL or count 0 for none)
 * @param cfg     the server the line goes to (what its EHLO offered; NULL:
 *                nothing offered). A parameter that no offered extension
 *                registers is refused (OPES_EPARAM_UNKNOWN: RFC 5321 4.1.1.2,
 *                a client "MUST NOT transmit parameters other than those
 *                associated with a service extension offered"), and the line
 *                may not exceed opes_smtp_config_line_limit(cfg, verb), the
 *                same limit the parser applies (OPES_ELINE_TOO_LONG). What it
 *                writes parses back with opes_command_parse(cfg, ...) to the
 *                same path and parameters (for UTF-8, with SMTPUTF8 in effect).
 * @return OPES_OK / OPES_ENOSPC (builder convention); OPES_EINJECT; the
 *         refusals of opes_path_build() and opes_params_build();
 *         OPES_EBAD_PATH, OPES_EBAD_DOMAIN (above); OPES_ELINE_TOO_LONG;
 *         OPES_EPARAM_UNKNOWN; OPES_EINVAL (bad verb, NULL with a length,
 *         params->count over OPES_MAX_PARAMS).
 */
OPES_API opes_status opes_mail_rcpt_build(char *dst, size_t cap, size_t *len,
                                          const opes_smtp_config *cfg, int verb, const char *local,
                                          size_t local_len, const char *domain, size_t domain_len,
                                          const opes_params *params);

#ifdef __cplusplus
}
#endif
#endif /* OPES_COMMAND_H */
