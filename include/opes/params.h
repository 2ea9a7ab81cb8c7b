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
 * Parse Mail-parameters / Rcpt-parameters: esmtp-param *(SP esmtp-param),
 * the text after the path (without the leading SP and without CRLF).
 *
 * Checks, in order of the bytes: esmtp-param syntax (501), the count limit,
 * repeated keywords (501: RFC 1869, RFC 3461 5.1 — case-insensitive), whether
 * the keyword is registered and offered for this verb (555 otherwise, RFC
 * 5321 4.1.1.11), the value rule of its registration, and the value syntax
 * of the built-in parameters (the typed accessors below; 501).
 *
 * @param verb  OPES_PARAM_MAIL or OPES_PARAM_RCPT
 * @param[out] out   the list (views into buf); filled up to the error
 * @param[out] err_offset offset in buf of the offending byte on error (may be NULL)
 * @return OPES_OK; OPES_EBAD_PARAM, OPES_EPARAM_DUPLICATE, OPES_EPARAM_VALUE,
 *         OPES_EPARAM_UNKNOWN, OPES_EPARAM_TOO_LONG, OPES_EBAD_XTEXT,
 *         OPES_EBAD_UTF8, OPES_ETOO_MANY_PARAMS; OPES_EINVAL.
 */
OPES_API opes_status opes_params_parse(const opes_smtp_config *cfg, unsigned verb,
                                       const char *buf, size_t len, opes_params *out,
                                       size_t *err_offset);

/** The parameter named keyword (NUL-terminated, case-insensitive), or NULL. */
OPES_API const opes_param *opes_params_find(const opes_params *params, const char *keyword);

/* Typed accessors. Each returns OPES_OK with the value, OPES_ENOTFOUND when
 * the parameter is absent, or a syntax status when its value is malformed
 * (which opes_params_parse has already rejected for a parsed list). */

/** SIZE=1*20DIGIT (RFC 1870 3). OPES_EBAD_NUMBER past UINT64_MAX. */
OPES_API opes_status opes_params_size(const opes_params *params, uint64_t *size);
/** BODY=7BIT / 8BITMIME / BINARYMIME, case-insensitive: enum opes_body. */
OPES_API opes_status opes_params_body(const opes_params *params, int *body);
/** RET=FULL / HDRS: enum opes_ret. */
OPES_API opes_status opes_params_ret(const opes_params *params, int *ret);
/** ENVID=xtext (RFC 3461 4.4), still encoded; decode with opes_xtext_decode. */
OPES_API opes_status opes_params_envid(const opes_params *params, opes_str *xtext);
/** NOTIFY: OPES_NOTIFY_* bits; NEVER with anything else is OPES_EPARAM_VALUE. */
OPES_API opes_status opes_params_notify(const opes_params *params, unsigned *notify);
/**
 * ORCPT=addr-type ";" xtext (RFC 3461 4.2), or the utf-8 forms of RFC 6533 3.
 * @param[out] addr_type  "rfc822", "utf-8", ... as sent
 * @param[out] address    the encoded address after ";"
 */
OPES_API opes_status opes_params_orcpt(const opes_params *params, opes_str *addr_type,
                                       opes_str *address);
/** SMTPUTF8 (no value). OPES_OK when present. */
OPES_API opes_status opes_params_smtputf8(const opes_params *params);
/** REQUIRETLS (no value, RFC 8689 2). OPES_OK when present. */
OPES_API opes_status opes_params_requiretls(const opes_params *params);
/** AUTH=xtext (RFC 4954 5): the xtext as sent; its decoded value is a
 *  mailbox or "<>". */
OPES_API opes_status opes_params_auth(const opes_params *params, opes_str *xtext);
/** MT-PRIORITY=[+/-]digit, -9..9 (RFC 6710). */
OPES_API opes_status opes_params_mt_priority(const opes_params *params, int *priority);
/** BY=by-time;by-mode[T] (RFC 2852 4): seconds and OPES_BY_* bits. */
OPES_API opes_status opes_params_by(const opes_params *params, int64_t *seconds, unsigned *mode);

/**
 * Write parameters as " KEYWORD[=value]" for each item, in order (the text
 * after a path on a MAIL/RCPT line, with its leading SP). Refuses what would
 * not parse back: CR, LF or NUL anywhere (OPES_EINJECT), a keyword not
 * esmtp-keyword or a value not esmtp-value (OPES_EBAD_PARAM), a repeated
 * keyword (OPES_EPARAM_DUPLICATE). Builder convention as opes_path_build().
 */
OPES_API opes_status opes_params_build(char *dst, size_t cap, size_t *len,
                                       const opes_params *params);

#ifdef __cplusplus
}
#endif
#endif /* OPES_PARAMS_H */
