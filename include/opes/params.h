/*
 * libopes — ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2 esmtp-param),
 * kept whole: every parameter, known or not, in order, so that a later
 * extension (or the caller) can read its own. Typed accessors for the
 * parameters of the built-in extensions.
 */
#ifndef OPES_PARAMS_H
#define OPES_PARAMS_H

#include "common.h"
#include "status.h"
#include "smtp_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One esmtp-param: views into the caller's buffer. */
typedef struct opes_param {
    opes_str keyword; /* as sent (case kept) */
    opes_str value;   /* as sent, still xtext-encoded where its RFC says so */
    int has_value;    /* 1 when "=value" was present */
} opes_param;

/** The parameters of one command, in the order sent. */
typedef struct opes_params {
    size_t count;
    unsigned notes; /* OPES_NOTE_* bits: what opes_params_parse() tolerated
                       (OPES_NOTE_XTEXT_CASE, OPES_NOTE_8BIT,
                       OPES_NOTE_LONG_ADDRESS) or noticed (OPES_NOTE_CASE:
                       a keyword not in upper case) */
    opes_param item[OPES_MAX_PARAMS];
} opes_params;

/** BODY values (RFC 6152, RFC 3030 3). */
enum opes_body { OPES_BODY_7BIT = 1, OPES_BODY_8BITMIME = 2, OPES_BODY_BINARYMIME = 3 };
/** RET values (RFC 3461 4.3). */
enum opes_ret { OPES_RET_FULL = 1, OPES_RET_HDRS = 2 };
/** NOTIFY bits (RFC 3461 4.1); NEVER stands alone. */
enum opes_notify {
    OPES_NOTIFY_NEVER = 1u << 0,
    OPES_NOTIFY_SUCCESS = 1u << 1,
    OPES_NOTIFY_FAILURE = 1u << 2,
    OPES_NOTIFY_DELAY = 1u << 3
};
/** BY modes (RFC 2852 4). */
enum opes_by_mode {
    OPES_BY_NOTIFY = 1u << 0, /* N */
    OPES_BY_RETURN = 1u << 1, /* R */
    OPES_BY_TRACE = 1u << 2   /* T */
};

/**
 * Parse Mail-parameters / Rcpt-parameters: esmtp-param *(SP esmtp-param)
 * (RFC 5321 4.1.2), the text after the path, without the SP that separates
 * it from the path and without CRLF. Every parameter is kept, in order, as
 * sent (case included), known or not: nothing is dropped or rewritten.
 * An empty buf (len 0) is a valid empty list.
 *
 * Checks, parameter after parameter in the order of the bytes:
 *  1. esmtp-param syntax: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT /
 *     "-"), esmtp-value = 1*(%d33-60 / %d62-126): an empty keyword (a
 *     leading, trailing or doubled SP), "KEY=" with nothing after it, "=",
 *     control characters or DEL are OPES_EBAD_PARAM (501). Octets >= 0x80 in
 *     a value are UTF8-non-ascii (RFC 6531 3.3), allowed only when SMTPUTF8
 *     is in effect for the command and then only as well-formed UTF-8; else
 *     OPES_EBAD_UTF8 (501). With OPES_LENIENT_8BIT well-formed UTF-8 is
 *     accepted without SMTPUTF8 and noted (OPES_NOTE_8BIT).
 *     SMTPUTF8 is in effect when opes_smtp_config_utf8(cfg) says so, and for
 *     a MAIL command when the list itself holds the SMTPUTF8 parameter (no
 *     value) and the SMTPUTF8 extension is offered: the parameter then
 *     covers every value of that command, before or after it (RFC 6531 3.4).
 *  2. the count: more than OPES_LIMIT_PARAMS parameters (never more than
 *     OPES_MAX_PARAMS) is OPES_ETOO_MANY_PARAMS.
 *  3. a keyword repeated, compared case-insensitively, is
 *     OPES_EPARAM_DUPLICATE (501: RFC 1869 6, RFC 1870 6, RFC 6152 2,
 *     RFC 3461 4.5 and 5.1, RFC 6710 4.1).
 *  4. a keyword not registered for this verb, or whose extension is not
 *     offered (opes_smtp_config_find_param()), is OPES_EPARAM_UNKNOWN (555,
 *     RFC 5321 4.1.1.11). A NULL cfg registers nothing.
 *  5. the registration's value rule: a value where none is allowed or none
 *     where one is required is OPES_EPARAM_VALUE (501).
 *  6. the value syntax of the built-in parameters, as their typed accessors
 *     below check it (501: OPES_EPARAM_VALUE, OPES_EBAD_NUMBER,
 *     OPES_EBAD_XTEXT, OPES_EBAD_UTF8ADDR, OPES_EPARAM_TOO_LONG), here with
 *     the config's strictness (OPES_LENIENT_XTEXT_CASE, _LONG_ADDRESS) and
 *     SMTPUTF8 state. BODY=BINARYMIME also needs the BINARYMIME extension
 *     offered (RFC 3030 3), else OPES_EPARAM_UNKNOWN (555: a parameter the
 *     server "cannot implement", RFC 5321 4.1.1.11).
 *  7. the value check an upper layer registered for the keyword
 *     (opes_smtp_config_set_param_check()), for a parameter with a value: a
 *     refusal is OPES_EPARAM_TOO_LONG when the check says so, else
 *     OPES_EPARAM_VALUE (501), at the offset the check gives.
 *
 * @param cfg   registrations, offers, limits, strictness (NULL: nothing registered)
 * @param command  OPES_VERB_MAIL or OPES_VERB_RCPT (anything else: OPES_EINVAL)
 * @param buf   the parameter text; need not be NUL-terminated
 * @param len   bytes in buf
 * @param[out] out   the list: views into buf, valid while the caller keeps
 *                   buf. On an error of steps 1-2 it holds the parameters
 *                   before the offending one; on an error of steps 3-6 the
 *                   offending parameter is its last item.
 * @param[out] err_offset on error, the offset in buf of the offending byte:
 *                   the start of an empty or bad keyword (len for a
 *                   trailing SP), the bad byte, the byte after "=" of an
 *                   empty value, the keyword of a parameter over the count,
 *                   repeated, unknown or lacking its value, the "=" of a
 *                   value where none is allowed, the offending byte inside
 *                   a built-in value (or its first byte) or where a
 *                   registered value check says. 0 on success.
 *                   Never more than len. May be NULL.
 * @return OPES_OK; OPES_EBAD_PARAM, OPES_EBAD_UTF8, OPES_ETOO_MANY_PARAMS,
 *         OPES_EPARAM_DUPLICATE, OPES_EPARAM_UNKNOWN, OPES_EPARAM_VALUE,
 *         OPES_EBAD_NUMBER, OPES_EBAD_XTEXT, OPES_EBAD_UTF8ADDR,
 *         OPES_EPARAM_TOO_LONG; OPES_EINVAL (out NULL, buf NULL with
 *         len > 0, or a bad verb).
 */
OPES_API opes_status opes_params_parse(const opes_smtp_config *cfg, int command, const char *buf,
                                       size_t len, opes_params *out, size_t *err_offset);

/** The first parameter named keyword (NUL-terminated, compared
 *  case-insensitively), or NULL (also for a NULL argument). */
OPES_API const opes_param *opes_params_find(const opes_params *params, const char *keyword);

/* Typed accessors for the parameters of the built-in extensions.
 *
 * Each finds the first parameter of its keyword (case-insensitively) and
 * re-validates its value, since a list built by hand may hold anything. An
 * accessor has no config, so it judges a value as the most lenient config
 * would: lower-case xtext hex digits, UTF-8 (the RFC 6533 unitext and raw
 * forms in ORCPT, UTF-8 in an AUTH mailbox) and addresses over the RFC 5321
 * length limits are accepted; strictness, SMTPUTF8 and BODY=BINARYMIME vs
 * the offered extensions are opes_params_parse()'s business.
 *
 * Each returns OPES_OK with the value; OPES_ENOTFOUND when the parameter is
 * absent; OPES_EPARAM_VALUE when the value is missing where required, given
 * where none is allowed, or malformed (or the more specific status named
 * below); OPES_EINVAL for a NULL argument. Views point into the caller's
 * bytes, like the list's. */

/** SIZE=1*20DIGIT (RFC 1870 3): the declared size. OPES_EBAD_NUMBER when
 *  the 1 to 20 digits exceed UINT64_MAX. */
OPES_API opes_status opes_params_size(const opes_params *params, uint64_t *size);
/** BODY=7BIT / 8BITMIME / BINARYMIME (RFC 6152 2, RFC 3030 3),
 *  case-insensitive: enum opes_body. */
OPES_API opes_status opes_params_body(const opes_params *params, int *body);
/** RET=FULL / HDRS (RFC 3461 4.3), case-insensitive: enum opes_ret. */
OPES_API opes_status opes_params_ret(const opes_params *params, int *ret);
/** ENVID=xtext (RFC 3461 4.4), still encoded; decode with opes_xtext_decode.
 *  The decoded value must be printable US-ASCII ("graphic and white space":
 *  %d32-126 and HT) of at most 100 characters (OPES_EBAD_XTEXT,
 *  OPES_EPARAM_TOO_LONG, OPES_EPARAM_VALUE). */
OPES_API opes_status opes_params_envid(const opes_params *params, opes_str *xtext);
/** NOTIFY="NEVER" / 1#("SUCCESS" / "FAILURE" / "DELAY") (RFC 3461 4.1),
 *  case-insensitive, comma-separated, each at most once: OPES_NOTIFY_* bits.
 *  NEVER with anything else is OPES_EPARAM_VALUE. */
OPES_API opes_status opes_params_notify(const opes_params *params, unsigned *notify);
/**
 * ORCPT=addr-type ";" xtext (RFC 3461 4.2; addr-type = atom): the whole
 * parameter at most 500 characters (OPES_EPARAM_TOO_LONG), the decoded
 * address printable US-ASCII: %d32-126 and HT (OPES_EBAD_XTEXT,
 * OPES_EPARAM_VALUE). For the "utf-8" addr-type (case-insensitive) the
 * address is one of the RFC 6533 3 forms instead: utf-8-addr-xtext,
 * utf-8-addr-unitext or a raw UTF-8 Mailbox (the last two need SMTPUTF8 in
 * opes_params_parse()), whose decoded value must be a Mailbox
 * (OPES_EBAD_UTF8ADDR, OPES_EBAD_UTF8, OPES_EPARAM_VALUE).
 * @param[out] addr_type  "rfc822", "utf-8", ... as sent
 * @param[out] address    the encoded address after ";"
 */
OPES_API opes_status opes_params_orcpt(const opes_params *params, opes_str *addr_type,
                                       opes_str *address);
/** SMTPUTF8, no value (RFC 6531 3.4). OPES_OK when present. */
OPES_API opes_status opes_params_smtputf8(const opes_params *params);
/** REQUIRETLS, no value (RFC 8689 2). OPES_OK when present. */
OPES_API opes_status opes_params_requiretls(const opes_params *params);
/** AUTH=xtext (RFC 4954 5): the xtext as sent, whose decoded value is "<>"
 *  or a Mailbox (OPES_EBAD_XTEXT, OPES_EPARAM_VALUE; OPES_EPARAM_TOO_LONG
 *  when it decodes to more than OPES_MAX_PATH octets). */
OPES_API opes_status opes_params_auth(const opes_params *params, opes_str *xtext);
/** MT-PRIORITY=priority-value (RFC 6710 7): priority-value = (["-"] NZDIGIT)
 *  / "0", so -9..9 with no "+" sign, no "-0" and no leading zero. */
OPES_API opes_status opes_params_mt_priority(const opes_params *params, int *priority);
/** BY=by-time ";" by-mode [by-trace] (RFC 2852 4): by-time = ["-" / "+"]
 *  1*9DIGIT seconds, by-mode "N" / "R", by-trace "T" (ABNF literals, so
 *  case-insensitive). A by-time <= 0 with "R" is OPES_EPARAM_VALUE (RFC 2852
 *  4: "a syntax error"). mode: OPES_BY_NOTIFY or OPES_BY_RETURN, plus
 *  OPES_BY_TRACE. */
OPES_API opes_status opes_params_by(const opes_params *params, int64_t *seconds, unsigned *mode);

/**
 * Write parameters as " KEYWORD[=value]" for each item, in order (the text
 * after a path on a MAIL/RCPT line, with its leading SP; nothing for an
 * empty list). Refuses what would not parse back: CR, LF or NUL anywhere in
 * a keyword or value (OPES_EINJECT, checked over all items first); a keyword
 * not esmtp-keyword, an empty value with has_value, a non-empty value without
 * it, or a value not esmtp-value (OPES_EBAD_PARAM; well-formed UTF-8 is
 * allowed, for a server in SMTPUTF8 mode); a repeated keyword
 * (OPES_EPARAM_DUPLICATE); a built-in parameter whose value its accessor
 * rejects (that accessor's status: OPES_EPARAM_VALUE, OPES_EBAD_NUMBER,
 * OPES_EBAD_XTEXT, OPES_EBAD_UTF8ADDR, OPES_EPARAM_TOO_LONG). What it
 * writes parses back to the same list with opes_params_parse() under a
 * config that offers those parameters for the verb, has SMTPUTF8 in effect
 * if a value holds UTF-8, and is as lenient as the values need (see the
 * accessors). Builder convention: OPES_OK with *len written, OPES_ENOSPC with
 * *len needed; dst may be NULL iff cap is 0; no NUL is written.
 * @return also OPES_EINVAL (params NULL, count over OPES_MAX_PARAMS, a
 *         NULL pointer with a non-zero length).
 */
OPES_API opes_status opes_params_build(char *dst, size_t cap, size_t *len,
                                       const opes_params *params);

#ifdef __cplusplus
}
#endif
#endif /* OPES_PARAMS_H */
