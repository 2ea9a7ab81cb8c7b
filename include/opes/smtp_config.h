/*
 * libopes — the context of the SMTP grammar: limits, strictness, and the table
 * of ESMTP service extensions.
 *
 * The SMTP grammar depends on settings a parser cannot guess: how long a
 * command line may be (RFC 5321 4.5.3.1, raised by every extension offered),
 * whether deviations of real clients are accepted (lenient) or rejected
 * (strict, the default), whether SMTPUTF8 is in effect (RFC 6531), and which
 * service extensions the server offers in its EHLO reply (their MAIL/RCPT
 * parameters are accepted only when offered, else 555: RFC 5321 4.1.1.11).
 *
 * An opes_smtp_config holds all of that. Unit parsers take it as a const
 * argument; NULL stands for strict, the default limits and no extension
 * registered at all (so every MAIL/RCPT parameter is unknown: 555). It is created with opes_smtp_config_new(), or without malloc in
 * caller memory with opes_smtp_config_sizeof() + opes_smtp_config_init_in().
 *
 * Extensions: every built-in extension (SIZE, 8BITMIME, DSN, ...) is an entry
 * of the same table a caller extends with opes_smtp_config_add_extension()
 * and opes_smtp_config_add_param(); nothing in the grammar is special-cased
 * by name beyond the typed validation of the built-in parameters' values.
 */
#ifndef OPES_SMTP_CONFIG_H
#define OPES_SMTP_CONFIG_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opes_smtp_config opes_smtp_config;

/** Command verbs (opes_command.verb, and wherever a function asks which
 *  command a line or a limit belongs to). */
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


/** Limits settable with opes_smtp_config_set_limit(). */
enum opes_limit {
    /** Command line incl. CRLF: 512 (RFC 5321 4.5.3.1.4). For MAIL and RCPT
     *  the increments of the offered extensions are added (RFC 5321 2.2.2,
     *  RFC 1870, RFC 3461 5.4, RFC 4954 3, RFC 6531 3.1, RFC 8689 2). */
    OPES_LIMIT_COMMAND_LINE = 0,
    /** Reply line incl. CRLF: 512 (RFC 5321 4.5.3.1.5). */
    OPES_LIMIT_REPLY_LINE = 1,
    /** Message text line incl. CRLF: 1000 (RFC 5321 4.5.3.1.6). */
    OPES_LIMIT_TEXT_LINE = 2,
    /** Local-part: 64 octets (RFC 5321 4.5.3.1.1). */
    OPES_LIMIT_LOCAL_PART = 3,
    /** Domain: 255 octets (RFC 5321 4.5.3.1.2). */
    OPES_LIMIT_DOMAIN = 4,
    /** Reverse- or forward-path incl. punctuation: 256 (RFC 5321 4.5.3.1.3). */
    OPES_LIMIT_PATH = 5,
    /** ESMTP parameters on one MAIL/RCPT line (count): 32; no RFC number. */
    OPES_LIMIT_PARAMS = 6,
    /** Lines of one multi-line reply (count): 128; no RFC number. */
    OPES_LIMIT_REPLY_LINES = 7,
    /** AUTH command and exchange lines incl. CRLF: 12288 (RFC 4954 4). */
    OPES_LIMIT_AUTH_LINE = 8,
    /** Recipients per transaction: 100 (RFC 5321 4.5.3.1.8). */
    OPES_LIMIT_RECIPIENTS = 9,
    OPES_LIMIT__COUNT = 10
};

/* Compile-time ceilings: a limit may be lowered or raised up to these. */
#define OPES_MAX_COMMAND_LINE 65536
#define OPES_MAX_REPLY_LINE 65536
#define OPES_MAX_TEXT_LINE (1024 * 1024)
#define OPES_MAX_LOCAL_PART 1024
#define OPES_MAX_DOMAIN 1024
#define OPES_MAX_PATH 4096
#define OPES_MAX_PARAMS 64 /* also the size of opes_params.item[] */
#define OPES_MAX_REPLY_LINES 4096
#define OPES_MAX_AUTH_LINE 65536
#define OPES_MAX_RECIPIENTS 100000

/**
 * Lenient acceptances (opes_smtp_config_set_lenient()). Strict (0) is the
 * default. Each bit accepts one real-world deviation, and every acceptance is
 * reported in the result's notes with the OPES_NOTE_* bit of the same value,
 * so the caller always knows.
 */
enum opes_lenient {
    /** A command line ended by a bare LF. Risk: bare LF is the raw material
     *  of SMTP smuggling; never use it for message data. */
    OPES_LENIENT_BARE_LF = 1u << 0,
    /** "MAIL FROM: <a@b>": space(s) between the colon and the path. */
    OPES_LENIENT_SPACE_AFTER_COLON = 1u << 1,
    /** "MAIL FROM:a@b": a path without angle brackets. */
    OPES_LENIENT_NO_BRACKETS = 1u << 2,
    /** Local-part, domain or path over its limit (SRS/VERP addresses). */
    OPES_LENIENT_LONG_ADDRESS = 1u << 3,
    /** 8-bit octets in a path or argument without SMTPUTF8 in effect
     *  (still required to be valid UTF-8). */
    OPES_LENIENT_8BIT = 1u << 4,
    /** Lower-case hex digits in xtext hexchars ("+2b"). */
    OPES_LENIENT_XTEXT_CASE = 1u << 5,
    /** Everything above. */
    OPES_LENIENT_ALL = (1u << 6) - 1
};

/**
 * Notes: bits a parser sets in its result for what it tolerated or noticed.
 * The first six equal the OPES_LENIENT_* bits that allowed them.
 */
enum opes_note {
    OPES_NOTE_BARE_LF = OPES_LENIENT_BARE_LF,
    OPES_NOTE_SPACE_AFTER_COLON = OPES_LENIENT_SPACE_AFTER_COLON,
    OPES_NOTE_NO_BRACKETS = OPES_LENIENT_NO_BRACKETS,
    OPES_NOTE_LONG_ADDRESS = OPES_LENIENT_LONG_ADDRESS,
    OPES_NOTE_8BIT = OPES_LENIENT_8BIT,
    OPES_NOTE_XTEXT_CASE = OPES_LENIENT_XTEXT_CASE,
    /** Trailing white space before CRLF, tolerated in every mode
     *  (RFC 5321 4.1.1: receivers SHOULD tolerate it). */
    OPES_NOTE_TRAILING_SPACE = 1u << 8,
    /** A source route (A-d-l) was present: accepted and ignored (RFC 5321 4.1.2). */
    OPES_NOTE_SOURCE_ROUTE = 1u << 9,
    /** Lower- or mixed-case verb or keyword (legal; noted for linting). */
    OPES_NOTE_CASE = 1u << 10,
    /** The path is <Postmaster> without a domain (RFC 5321 4.1.1.3). */
    OPES_NOTE_POSTMASTER = 1u << 11,
    /** VRFY/EXPN with "user@domain": accepted in every mode (RFC 5321 3.5.1
     *  "a user name and domain"), though the String of 4.1.2 has no "@". */
    OPES_NOTE_MAILBOX_STRING = 1u << 12
};

/**
 * The stable snake_case identifier of one OPES_NOTE_* bit ("trailing_space",
 * "source_route", ...), for logs and JSON; NULL for a bit that names no note.
 * Static strings.
 */
OPES_API const char *opes_note_name(unsigned bit);

/** Where an extension's parameter may appear (opes_smtp_config_add_param). */
enum opes_param_where {
    OPES_PARAM_MAIL = 1u << 0,
    OPES_PARAM_RCPT = 1u << 1
};

/** Whether an extension's parameter takes a value. */
enum opes_param_value {
    OPES_VALUE_NONE = 0,     /* "KEYWORD" only (SMTPUTF8, REQUIRETLS) */
    OPES_VALUE_REQUIRED = 1, /* "KEYWORD=value" only (SIZE, BODY) */
    OPES_VALUE_OPTIONAL = 2  /* either */
};

/** Size in bytes of an opes_smtp_config, for opes_smtp_config_init_in(). */
OPES_API size_t opes_smtp_config_sizeof(void);

/**
 * Create a config with the defaults: strict, every limit at its RFC default,
 * the built-in extensions registered but none offered.
 *
 * @param[out] out   the new config; free it with opes_smtp_config_free()
 * @param[in]  alloc allocator for the config itself, or NULL for malloc
 * @return OPES_OK, OPES_EINVAL (out NULL), OPES_ENOMEM.
 */
OPES_API opes_status opes_smtp_config_new(opes_smtp_config **out, const opes_allocator *alloc);

/**
 * The same as opes_smtp_config_new() in caller memory: mem must hold
 * opes_smtp_config_sizeof() bytes, aligned for any object (as malloc gives).
 * Such a config needs no free (opes_smtp_config_free() on it is a no-op).
 * @return OPES_OK, OPES_EINVAL (mem/out NULL, len too small).
 */
OPES_API opes_status opes_smtp_config_init_in(void *mem, size_t len, opes_smtp_config **out);

/** Release a config made by opes_smtp_config_new(). NULL is a no-op. */
OPES_API void opes_smtp_config_free(opes_smtp_config *cfg);

/**
 * Copy every setting of src into dst (both already created).
 * @return OPES_OK, OPES_EINVAL.
 */
OPES_API opes_status opes_smtp_config_copy(opes_smtp_config *dst, const opes_smtp_config *src);

/**
 * Set one limit (enum opes_limit). 0 is refused (OPES_EINVAL); a value over
 * the ceiling OPES_MAX_* gets OPES_ECEILING and leaves the limit unchanged.
 */
OPES_API opes_status opes_smtp_config_set_limit(opes_smtp_config *cfg, int limit, size_t value);

/** The configured value of a limit, or 0 for an unknown limit or NULL cfg
 *  (NULL cfg: the default). */
OPES_API size_t opes_smtp_config_limit(const opes_smtp_config *cfg, int limit);

/** The compile-time ceiling of a limit, or 0 for an unknown limit. */
OPES_API size_t opes_smtp_config_ceiling(int limit);

/**
 * The command-line limit in force for a verb (OPES_VERB_* from command.h):
 * OPES_LIMIT_COMMAND_LINE, plus for MAIL and RCPT the line increments of
 * every offered extension. NULL cfg means the default config.
 */
OPES_API size_t opes_smtp_config_line_limit(const opes_smtp_config *cfg, int verb);

/** Set the OPES_LENIENT_* bits (0 = strict). Unknown bits: OPES_EINVAL. */
OPES_API opes_status opes_smtp_config_set_lenient(opes_smtp_config *cfg, unsigned flags);

/** The OPES_LENIENT_* bits in force (0 for NULL). */
OPES_API unsigned opes_smtp_config_lenient(const opes_smtp_config *cfg);

/**
 * Say whether the current mail transaction is SMTPUTF8 (RFC 6531 3.4): then
 * RCPT paths, VRFY and EXPN strings may hold UTF-8. A session sets it after a
 * MAIL with the SMTPUTF8 parameter and clears it at the end of the
 * transaction. A MAIL command itself is judged by its own parameter.
 */
OPES_API opes_status opes_smtp_config_set_utf8(opes_smtp_config *cfg, int on);

/** Whether SMTPUTF8 is in effect for the transaction (0 for NULL). */
OPES_API int opes_smtp_config_utf8(const opes_smtp_config *cfg);

/**
 * Register a service extension (not yet offered).
 *
 * @param keyword   EHLO keyword, NUL-terminated: (ALPHA / DIGIT) *(ALPHA /
 *                  DIGIT / "-") (RFC 5321 4.1.1.1), at most 64 octets;
 *                  matched case-insensitively. Copied.
 * @param mail_inc  octets the extension adds to the MAIL command-line limit
 * @param rcpt_inc  octets it adds to the RCPT command-line limit
 * @return OPES_OK; OPES_EEXIST (already registered); OPES_EBAD_CHAR (keyword
 *         syntax); OPES_ENOSPC (the table is full: 48 extensions).
 */
OPES_API opes_status opes_smtp_config_add_extension(opes_smtp_config *cfg, const char *keyword,
                                                    size_t mail_inc, size_t rcpt_inc);

/**
 * Register a MAIL/RCPT parameter of a registered extension. The parameter is
 * accepted only where the extension is offered; elsewhere a parser reports
 * OPES_EPARAM_UNKNOWN (reply 555).
 *
 * @param ext_keyword   the extension's EHLO keyword
 * @param param_keyword esmtp-keyword syntax, at most 64 octets; copied
 * @param where         OPES_PARAM_MAIL and/or OPES_PARAM_RCPT
 * @param value_rule    OPES_VALUE_NONE, _REQUIRED or _OPTIONAL
 * @return OPES_OK; OPES_ENOTFOUND (no such extension); OPES_EEXIST (a param
 *         of that keyword is registered for that verb); OPES_EBAD_CHAR;
 *         OPES_EINVAL; OPES_ENOSPC (table full: 64 parameters).
 */
OPES_API opes_status opes_smtp_config_add_param(opes_smtp_config *cfg, const char *ext_keyword,
                                                const char *param_keyword, unsigned where,
                                                int value_rule);

/**
 * A value check an upper layer registers for a parameter
 * (opes_smtp_config_set_param_check()). opes_params_parse() calls it for
 * every occurrence of the parameter that carries a value, after its own
 * checks (syntax, count, duplicates, registration, value rule, built-in
 * value syntax) passed.
 *
 * @param cfg     the config the parameters are parsed under (never NULL)
 * @param verb    OPES_VERB_MAIL or OPES_VERB_RCPT
 * @param value   the value as sent (still xtext or whatever its RFC says),
 *                value[0..len), a view into the command; not NUL-terminated
 * @param[out] err_offset on failure, the offset in value of the offending
 *                byte (at most len; anything larger is read as len)
 * @param user    the pointer given at registration
 * @return OPES_OK to accept; any other status to refuse: the command then
 *         fails with OPES_EPARAM_TOO_LONG if that is what the check returned,
 *         otherwise with OPES_EPARAM_VALUE (both answered 501 5.5.4).
 */
typedef opes_status (*opes_param_check_fn)(const opes_smtp_config *cfg, int verb, const char *value,
                                           size_t len, size_t *err_offset, void *user);

/**
 * Register (fn) or remove (fn NULL) the value check of a MAIL/RCPT
 * parameter: the generic hook through which an upper layer (the OPES layer's
 * XOPES-BYPASS, docs/opes-smtp.md 8.1) has a malformed value answered 501
 * when the command is parsed, without the SMTP layer knowing the value's
 * grammar. The check applies to every registration of the keyword (every
 * extension, MAIL and RCPT alike) and replaces an earlier one. The function
 * pointer and user are stored as given (opes_smtp_config_copy() copies them,
 * so a session's copy calls the same check): user must outlive every config
 * that holds it.
 *
 * @param param_keyword  NUL-terminated, compared case-insensitively
 * @return OPES_OK; OPES_ENOTFOUND (no registered parameter has that
 *         keyword); OPES_EINVAL (cfg or param_keyword NULL).
 */
OPES_API opes_status opes_smtp_config_set_param_check(opes_smtp_config *cfg,
                                                      const char *param_keyword,
                                                      opes_param_check_fn fn, void *user);

/**
 * Offer (on != 0) or withdraw a registered extension. An offered extension is
 * listed by opes_ehlo_build() with its EHLO parameters, accepts its
 * parameters, and raises the MAIL/RCPT line limit by its increments.
 *
 * @param ehlo_params text after the keyword in the EHLO line ("52428800" for
 *                    SIZE, "PLAIN LOGIN" for AUTH) or NULL; ehlo-param syntax
 *                    (RFC 5321 4.1.1.1), at most 400 octets; copied. CR, LF or
 *                    NUL in it: OPES_EINJECT.
 * Offering again replaces the parameters; the space of the old ones is
 * reused, so re-offering (a quota changing in SIZE) never runs out.
 * @return OPES_OK, OPES_ENOTFOUND, OPES_EINJECT, OPES_EBAD_CHAR, OPES_EINVAL
 *         (over 400 octets), OPES_ENOSPC (the config's 8 KiB string pool is
 *         full: only with many extensions with long parameters).
 */
OPES_API opes_status opes_smtp_config_offer(opes_smtp_config *cfg, const char *keyword, int on,
                                            const char *ehlo_params);

/** Whether the extension named by keyword[0..len) is offered (case-insensitive). */
OPES_API int opes_smtp_config_offers(const opes_smtp_config *cfg, const char *keyword, size_t len);

/** Number of registered extensions (built-in and added); 0 for NULL. */
OPES_API size_t opes_smtp_config_extension_count(const opes_smtp_config *cfg);

/**
 * The i-th registered extension, in registration order.
 * @param[out] keyword      NUL-terminated, owned by cfg (may be NULL)
 * @param[out] ehlo_params  NUL-terminated or NULL when none, owned by cfg (may be NULL)
 * @param[out] offered      1 when offered (may be NULL)
 * @return OPES_OK, OPES_ENOTFOUND (i out of range), OPES_EINVAL.
 */
OPES_API opes_status opes_smtp_config_extension_at(const opes_smtp_config *cfg, size_t i,
                                                   const char **keyword,
                                                   const char **ehlo_params, int *offered);

/**
 * Look up the parameter keyword[0..len) for a verb (OPES_PARAM_MAIL or
 * OPES_PARAM_RCPT), case-insensitively.
 * @param[out] value_rule  OPES_VALUE_* of the parameter (may be NULL)
 * @param[out] ext_keyword the owning extension's keyword (may be NULL)
 * @return OPES_OK when registered and its extension offered;
 *         OPES_ENOT_OFFERED when registered but its extension not offered;
 *         OPES_ENOTFOUND when no extension registers it; OPES_EINVAL.
 */
OPES_API opes_status opes_smtp_config_find_param(const opes_smtp_config *cfg, unsigned where,
                                                 const char *keyword, size_t len,
                                                 int *value_rule, const char **ext_keyword);

#ifdef __cplusplus
}
#endif
#endif /* OPES_SMTP_CONFIG_H */
