/*
 * libopes — OPES bypass requests (docs/opes-smtp.md 3.4, 7, 8; RFC 3897 4,
 * RFC 4902 3.2, RFC 4236 5): the XOPES-BYPASS ESMTP parameter (value codec,
 * registration in the extension table, lookup in a parsed command), the
 * OPES-Bypass header field (parse, build), the decision which configured
 * service each recipient's copy bypasses, and what a relay does with a
 * request.
 *
 * A request lists agent identifiers (absolute URIs, RFC 3986 4.3) or "*".
 * It arrives in the message (OPES-Bypass), on MAIL (every recipient of the
 * transaction) or on RCPT (that recipient). Identifiers are compared with
 * opes_uri_equal() only (docs/opes-smtp.md 2): a spelling difference such
 * as "HTTP://Opes.Example.NET/sys" for "http://opes.example.net/sys" names
 * the same entity and must not turn a targeted request into "*".
 *
 * Nothing here allocates. Results are views into the caller's bytes or are
 * written into caller buffers (builder convention: OPES_OK with *len
 * written, OPES_ENOSPC with *len the size needed; dst may be NULL iff cap
 * is 0; no NUL is written).
 */
#ifndef OPES_BYPASS_H
#define OPES_BYPASS_H

#include "common.h"
#include "params.h"
#include "smtp_config.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The EHLO keyword of the extension when none is configured (8.1). */
#define OPES_BYPASS_KEYWORD "XOPES"
/** Longest XOPES-BYPASS value, in octets as sent (8.1). */
#define OPES_BYPASS_MAX_VALUE 500
/** What the extension adds to the MAIL and RCPT command-line limits:
 *  " XOPES-BYPASS=" (14) and 500 octets (8.1; RFC 5321 2.2.2 requires the
 *  increment to be stated). A configured keyword of n octets adds n + 509. */
#define OPES_BYPASS_LINE_INC 514
/** Longest agent identifier in an OPES-Bypass field, as written ("<>"
 *  included when used): one unfoldable line of 998 octets holds
 *  "OPES-System: ", the identifier and a separator (docs/opes-smtp.md 3.1,
 *  9; the same limit as OPES_TRACE_MAX_ID). */
#define OPES_BYPASS_MAX_ID 984
/** Most items opes_bypass_header_build() writes into one field
 *  (docs/opes-smtp.md 9: entries per trace field). */
#define OPES_BYPASS_MAX_ITEMS 256

/* ---- the XOPES-BYPASS parameter (8.1) ------------------------------------- */

/**
 * Read the next item of an XOPES-BYPASS value (docs/opes-smtp.md 8.1):
 *
 *     bypass-value = bypass-item *( "," bypass-item )
 *     bypass-item  = 1*xitem   ; xtext whose decoded octets are "*" or an
 *                              ; absolute-URI (RFC 3986 4.3)
 *
 * The value is split on its literal commas first, then the item is
 * xtext-decoded (RFC 3461 4) into dst and checked. Start with *pos = 0 and
 * call until OPES_ENOTFOUND; every call checks the value's length first.
 * On an error *pos is unchanged, so the caller may stop there.
 *
 * @param value  the value as sent (opes_param.value); need not be
 *               NUL-terminated
 * @param flags  OPES_LENIENT_XTEXT_CASE accepts lower-case hex digits;
 *               other bits are ignored
 * @param[in,out] pos  where the next item starts; 0 at first
 * @param[out] dst, cap  the decoded item (never more than
 *               OPES_BYPASS_MAX_VALUE octets: a buffer of that size always
 *               suffices)
 * @param[out] item_len  the decoded item's length (on OPES_ENOSPC: the size
 *               needed; *pos is then unchanged)
 * @param[out] is_star   1 when the item is "*" (may be NULL)
 * @param[out] err_offset on an error, the offset in value of the offending
 *               byte: the bad xtext byte, the first byte of an empty item
 *               (the comma, or len after a trailing comma), the encoded byte
 *               where the decoded item stops being a URI, or
 *               OPES_BYPASS_MAX_VALUE for a long value (may be NULL)
 * @return OPES_OK (an item); OPES_ENOTFOUND (no more items);
 *         OPES_EPARAM_TOO_LONG (len over OPES_BYPASS_MAX_VALUE);
 *         OPES_EBAD_BYPASS (an empty value or item, bad xtext, an item that
 *         is neither "*" nor an absolute-URI); OPES_ENOSPC; OPES_EINVAL
 *         (pos or item_len NULL, value NULL with len > 0, dst NULL with
 *         cap > 0, *pos > len).
 */
OPES_API opes_status opes_bypass_param_next(const char *value, size_t len, unsigned flags,
                                            size_t *pos, char *dst, size_t cap, size_t *item_len,
                                            int *is_star, size_t *err_offset);

/**
 * Check a whole XOPES-BYPASS value: every item, as opes_bypass_param_next()
 * reads them.
 * @param[out] count       the number of items (may be NULL)
 * @param[out] err_offset  as opes_bypass_param_next() (may be NULL)
 * @return OPES_OK; OPES_EPARAM_TOO_LONG; OPES_EBAD_BYPASS; OPES_EINVAL.
 */
OPES_API opes_status opes_bypass_param_check(const char *value, size_t len, unsigned flags,
                                             size_t *count, size_t *err_offset);

/**
 * Encode a list of identifiers as an XOPES-BYPASS value (8.1, 8.2): each
 * item xtext-encoded (RFC 3461 4) with "," written "+2C" too, items joined
 * by ","; "*" is written as itself.
 *
 * @param ids  n items, each "*" or an absolute-URI
 * @return OPES_OK; OPES_ENOSPC (builder convention); OPES_EPARAM_TOO_LONG
 *         (the value would be over OPES_BYPASS_MAX_VALUE octets);
 *         OPES_EINJECT (CR, LF or NUL in an item); OPES_EBAD_URI,
 *         OPES_EURI_NOT_ABSOLUTE, OPES_EURI_TOO_LONG (an item neither "*"
 *         nor an absolute-URI); OPES_EINVAL (n == 0, ids NULL, an item NULL
 *         with a length, len NULL, dst NULL with cap > 0).
 */
OPES_API opes_status opes_bypass_param_build(char *dst, size_t cap, size_t *len,
                                             const opes_str *ids, size_t n);

/**
 * Write the parameter's name for an extension keyword: keyword "-BYPASS"
 * ("XOPES-BYPASS" for NULL). Builder convention.
 * @return OPES_OK; OPES_ENOSPC; OPES_EBAD_CHAR (keyword not an
 *         esmtp-keyword of at most 57 octets, so that the name fits the
 *         64 of the extension table); OPES_EINVAL.
 */
OPES_API opes_status opes_bypass_param_name(char *dst, size_t cap, size_t *len,
                                            const char *keyword);

/**
 * Register the extension in a config (8.1): the EHLO keyword (NULL:
 * OPES_BYPASS_KEYWORD) with MAIL and RCPT increments of
 * OPES_BYPASS_LINE_INC (for another keyword of n octets, n + 509: SP, the
 * parameter's name, "=" and 500), its parameter keyword "-BYPASS" on MAIL and RCPT
 * with a required value, and a value check (opes_smtp_config_set_param_check())
 * so that opes_params_parse() and the command parser answer a malformed
 * value 501 5.5.4 (OPES_EPARAM_VALUE; OPES_EPARAM_TOO_LONG over 500
 * octets). The check follows the config's OPES_LENIENT_XTEXT_CASE.
 * Registering does not offer: call opes_smtp_config_offer(cfg, keyword, 1,
 * NULL) where the server offers it. Until then (and on a config without the
 * registration) the parameter is answered 555 5.5.4 (RFC 5321 4.1.1.11).
 *
 * @return OPES_OK; OPES_EEXIST (the keyword is registered already);
 *         OPES_EBAD_CHAR (keyword syntax, or longer than 57 octets);
 *         OPES_ENOSPC (the extension table is full); OPES_EINVAL (cfg NULL).
 */
OPES_API opes_status opes_bypass_register(opes_smtp_config *cfg, const char *keyword);

/**
 * The bypass request of a parsed MAIL or RCPT command (8.3): the value of
 * the parameter keyword "-BYPASS" (NULL keyword: "XOPES-BYPASS"), matched
 * case-insensitively, as sent (still xtext; read it with
 * opes_bypass_param_next()). A view into the command's bytes.
 * @return OPES_OK; OPES_ENOTFOUND (no such parameter); OPES_EPARAM_VALUE
 *         (the parameter without a value); OPES_EINVAL (params or value
 *         NULL, bad keyword).
 */
OPES_API opes_status opes_bypass_param_get(const opes_params *params, const char *keyword,
                                           opes_str *value);

/* ---- the OPES-Bypass header field (3.4) ----------------------------------- */

/**
 * Read the next item of an OPES-Bypass field body (docs/opes-smtp.md 3.4):
 *
 *     [FWS] ( "*" / agent-ref *( [FWS] "," [FWS] agent-ref ) ) [FWS]
 *
 * with agent-ref delimited as 3.1 says ("<" absolute-URI ">", or a bare
 * URI ending at WSP, at the end, or before a "," or ";" followed by WSP or
 * the end). FWS is WSP or a fold (CRLF followed by WSP), so the body may be
 * given folded (opes_header_field's raw body) or unfolded. Start with
 * *pos = 0; call until OPES_ENOTFOUND. Several fields are read as one list
 * (3.4): iterate each.
 *
 * @param[out] item     the identifier, without "<" ">": a view into body
 * @param[out] is_star  1 when the item is "*" (may be NULL)
 * @param[out] err_offset on an error, the offset in body of the offending
 *                      byte (may be NULL)
 * @return OPES_OK; OPES_ENOTFOUND (no more items); OPES_EBAD_BYPASS (an
 *         empty body, "*" with anything else, a missing ",", an empty or
 *         unclosed "<", a parameter (";"), a bare CR or LF, an item that is
 *         not an absolute-URI); OPES_EURI_TOO_LONG (an identifier over
 *         OPES_BYPASS_MAX_ID as written); OPES_EINVAL (pos or item NULL, body NULL
 *         with len > 0, *pos > len). The iterator does not count: a caller
 *         that stores the items bounds their number itself.
 */
OPES_API opes_status opes_bypass_header_next(const char *body, size_t len, size_t *pos,
                                             opes_str *item, int *is_star, size_t *err_offset);

/**
 * Build an OPES-Bypass field, "OPES-Bypass: " items CRLF (3.4): the items
 * joined by ", ", each URI in "<" ">" when it holds "(", ")", "," or ";"
 * (3.1), folded after a comma where a line would pass 78 octets (RFC 5322
 * 2.1.1, 2.2.3). A "*" among the items stands for all of them: the field is
 * then "*" alone. Items equal (opes_uri_equal()) to an earlier one are left
 * out.
 *
 * @param ids  n items (n >= 1, at most OPES_BYPASS_MAX_ITEMS), "*" or
 *             absolute-URIs of at most OPES_BYPASS_MAX_ID octets as written
 *             (with the "<>" the item needs)
 * @return OPES_OK; OPES_ENOSPC (builder convention); OPES_EINJECT (CR, LF or
 *         NUL in an item); OPES_EBAD_URI, OPES_EURI_NOT_ABSOLUTE (an item
 *         neither "*" nor an absolute-URI); OPES_EURI_TOO_LONG;
 *         OPES_ETOO_MANY_ITEMS; OPES_EINVAL.
 */
OPES_API opes_status opes_bypass_header_build(char *dst, size_t cap, size_t *len,
                                              const opes_str *ids, size_t n);

/* ---- the decision (7) ----------------------------------------------------- */

/** When a service acts (7 item 4). */
enum opes_bypass_phase {
    OPES_BYPASS_PHASE_CONNECT = 0, /* on the connection: no request reaches it */
    OPES_BYPASS_PHASE_MAIL = 1,    /* on MAIL */
    OPES_BYPASS_PHASE_RCPT = 2,    /* on each RCPT */
    OPES_BYPASS_PHASE_MESSAGE = 3  /* on the message data */
};

/** A configured OPES service. Views the caller keeps alive for the call. */
typedef struct opes_bypass_service {
    opes_str id;        /* the service's agent identifier (absolute-URI) */
    opes_str processor; /* its processor's identifier; empty: none given */
    opes_str system;    /* its system's identifier; empty: none given */
    int phase;          /* enum opes_bypass_phase */
    int bypassable;     /* 0: never bypassed (RFC 4902 3.2: malware scanners) */
} opes_bypass_service;

/** A list of request items: decoded identifiers or "*". */
typedef struct opes_bypass_list {
    const opes_str *items; /* NULL iff count is 0 */
    size_t count;
} opes_bypass_list;

/**
 * The out-of-band allow-list (RFC 4902 3.2: "a white list entry for the
 * sender/recipient pair"): return 1 to bypass service number `service` (an
 * index into opes_bypass_input.services) for this pair, 0 not to. It is
 * asked only about bypassable services of the rcpt and message phases that
 * no timely request bypasses (the pair is known from RCPT on). Sender and
 * recipient point to the views the caller gave, for the call only.
 */
typedef int (*opes_bypass_allow_fn)(const opes_str *sender, const opes_str *recipient,
                                    size_t service, void *user);

#define OPES_BYPASS_INPUT_VERSION 1

/** Everything opes_bypass_decide() weighs. Zero it, then fill it. */
typedef struct opes_bypass_input {
    unsigned version; /* OPES_BYPASS_INPUT_VERSION */
    const opes_bypass_service *services;
    size_t nservices;
    opes_bypass_list header;      /* the message's OPES-Bypass items (3.4) */
    opes_bypass_list mail;        /* the MAIL request (8.1) */
    const opes_bypass_list *rcpt; /* nrcpt RCPT requests, or NULL for none */
    const opes_str *recipients;   /* nrcpt addresses, for the allow-list; may be NULL */
    size_t nrcpt;                 /* recipients of the transaction (>= 1) */
    opes_str sender;              /* reverse-path, for the allow-list */
    opes_bypass_allow_fn allow;   /* NULL: no allow-list */
    void *allow_user;
} opes_bypass_input;

/** What happens to a service for one recipient. */
enum opes_bypass_decision_kind {
    OPES_BYPASS_APPLY = 1,  /* the service runs */
    OPES_BYPASS_BYPASS = 2, /* it is not invoked (trace: action=bypassed) */
    OPES_BYPASS_REFUSED = 3 /* a request matched and is not honoured: it runs */
};

/** Why. */
enum opes_bypass_reason {
    OPES_BYPASS_R_NO_REQUEST = 1,        /* APPLY: no item matches */
    OPES_BYPASS_R_MATCHED_ID = 2,        /* BYPASS: the service's own identifier */
    OPES_BYPASS_R_MATCHED_PROCESSOR = 3, /* BYPASS: its processor's (RFC 3897 4) */
    OPES_BYPASS_R_MATCHED_SYSTEM = 4,    /* BYPASS: its system's (RFC 3897 4) */
    OPES_BYPASS_R_WILDCARD = 5,          /* BYPASS: "*" */
    OPES_BYPASS_R_UNKNOWN = 6,           /* BYPASS: an identifier of nothing
                                            configured, read as "*" (RFC 3897 4.3) */
    OPES_BYPASS_R_NOT_BYPASSABLE = 7,    /* REFUSED: the service may not be
                                            bypassed (trace: bypass=refused) */
    OPES_BYPASS_R_TOO_LATE = 8,          /* REFUSED: it acted before every matching
                                            request arrived (trace: bypass=too-late) */
    OPES_BYPASS_R_ALLOW_LIST = 9         /* BYPASS: the allow-list said so
                                            (trace: bypass-by=allow-list) */
};

/** Where the deciding request came from. */
enum opes_bypass_source {
    OPES_BYPASS_SRC_NONE = 0, /* no request (APPLY, allow-list) */
    OPES_BYPASS_SRC_HEADER = 1,
    OPES_BYPASS_SRC_MAIL = 2,
    OPES_BYPASS_SRC_RCPT = 3
};

/** How the deciding item matched (also for REFUSED). */
enum opes_bypass_match {
    OPES_BYPASS_M_NONE = 0,
    OPES_BYPASS_M_ID = 1,
    OPES_BYPASS_M_PROCESSOR = 2,
    OPES_BYPASS_M_SYSTEM = 3,
    OPES_BYPASS_M_WILDCARD = 4,
    OPES_BYPASS_M_UNKNOWN = 5
};

/** The decision for one (recipient, service). */
typedef struct opes_bypass_result {
    int decision; /* enum opes_bypass_decision_kind */
    int reason;   /* enum opes_bypass_reason */
    int match;    /* enum opes_bypass_match of the deciding item */
    int source;   /* enum opes_bypass_source of the deciding item */
    size_t item;  /* its index in that source's list (0 when source NONE) */
} opes_bypass_result;

/**
 * Decide, for every recipient and every configured service, apply, bypass
 * or refused (docs/opes-smtp.md 7):
 *
 *  1. the items that apply to recipient r are the header's, the MAIL
 *     request's and r's RCPT request's;
 *  2. an item matches a service when it is "*" or equals (opes_uri_equal())
 *     the service's identifier, its processor's or its system's;
 *  3. an item equal to no configured service, processor or system is "*"
 *     (RFC 3897 4.3); so is an item that is not an absolute-URI (RFC 3897
 *     4: a processor that "does not know for sure that a bypass URI does
 *     not match its service" must bypass it);
 *  4. a MAIL item reaches mail, rcpt and message services, an RCPT item rcpt
 *     and message services, a header item message services, nothing connect
 *     services;
 *  5. a service with a matching item is refused NOT_BYPASSABLE when it may
 *     not be bypassed (whether or not an item arrived in time: the sender
 *     cannot do better), else bypassed when a matching item reaches it,
 *     else refused TOO_LATE;
 *  6. a bypassable rcpt or message service not bypassed by a request is
 *     bypassed when the allow-list says so (ALLOW_LIST);
 *  7. otherwise it applies (NO_REQUEST).
 * Among several matching items the deciding one is the most specific
 * (identifier, processor, system, "*", unknown), and among equally specific
 * ones the first of MAIL, RCPT, header, in list order.
 *
 * Recipients whose copies must be processed alike share a group (7, last
 * paragraph): two recipients are in one group when, for every service, the
 * decision and the trace words (opes_bypass_trace_words()) are the same.
 * Groups are numbered 0, 1, ... in the order of their first recipient.
 *
 * Cost: identifiers are compared with opes_uri_equal() (each comparison
 * normalises both), about (header + MAIL + RCPT items) * services * 6
 * comparisons for up to 32 services, and the grouping compares rows of
 * recipients with the first recipient of each group. The caller bounds the
 * item counts it passes (the parsers bound each value and field, not how
 * many fields a message has).
 *
 * @param[out] results  nrcpt * nservices entries, results[r * nservices + s]
 * @param nresults      entries in results (at least nrcpt * nservices)
 * @param[out] groups   nrcpt group numbers (may be NULL)
 * @param[out] ngroups  the number of groups (may be NULL)
 * @return OPES_OK; OPES_ENOSPC (nresults too small); OPES_EBAD_URI,
 *         OPES_EURI_NOT_ABSOLUTE, OPES_EURI_TOO_LONG (a configured
 *         identifier is not an absolute-URI: a service's id, or a non-empty
 *         processor or system); OPES_EINVAL (in or results NULL, a bad
 *         version, nservices or nrcpt 0, a list NULL with a count, a
 *         bad phase, recipients NULL with an allow-list).
 */
OPES_API opes_status opes_bypass_decide(const opes_bypass_input *in, opes_bypass_result *results,
                                        size_t nresults, size_t *groups, size_t *ngroups);

/**
 * The trace words a decision puts in its service's OPES-Via entry
 * (docs/opes-smtp.md 3.3), as the spec spells them, for the trace module:
 * action "bypassed" for BYPASS (else NULL: the service ran, its own action
 * goes there); bypass "refused" (NOT_BYPASSABLE) or "too-late" (TOO_LATE)
 * for REFUSED, else NULL; bypass-by "allow-list" for ALLOW_LIST, else NULL.
 * Static strings. Any out pointer may be NULL.
 * @return OPES_OK; OPES_EINVAL (r NULL or not a decision).
 */
OPES_API opes_status opes_bypass_trace_words(const opes_bypass_result *r, const char **action,
                                             const char **bypass, const char **bypass_by);

/** Stable snake_case names for logs and JSON ("apply", "bypass",
 *  "refused"; "no_request", "matched_id", "matched_processor",
 *  "matched_system", "wildcard", "unknown_as_wildcard", "not_bypassable",
 *  "too_late", "allow_list"; "none", "header", "mail", "rcpt"); NULL for an
 *  unknown value. Static strings. */
OPES_API const char *opes_bypass_decision_name(int decision);
OPES_API const char *opes_bypass_reason_name(int reason);
OPES_API const char *opes_bypass_source_name(int source);

/* ---- relaying (8.4) ------------------------------------------------------- */

/** What a relay does with one dialog request. */
enum opes_bypass_relay_action {
    OPES_BYPASS_RELAY_NONE = 0,       /* there is no request */
    OPES_BYPASS_RELAY_FORWARD = 1,    /* send it on as the next hop's
                                         parameter, same value, same command */
    OPES_BYPASS_RELAY_DROPPED = 2,    /* lost: the next hop does not offer the
                                         keyword and no downgrade was asked
                                         (RFC 3461 5.2.2's rule for DSN) */
    OPES_BYPASS_RELAY_DOWNGRADED = 3, /* written into the OPES-Bypass field */
    OPES_BYPASS_RELAY_NOT_UNIFORM = 4 /* lost: a downgrade was asked but the
                                         copy has recipients without the same
                                         RCPT request (split the copy) */
};

/** A relay's situation for one copy of a message. */
typedef struct opes_bypass_relay_input {
    int next_offers;      /* the next hop offers the extension (its keyword) */
    int downgrade;        /* the caller's choice to write requests into
                             the message when it does not */
    unsigned flags;       /* OPES_LENIENT_XTEXT_CASE for the values */
    opes_str mail;        /* the MAIL request's value as received
                             (xtext); empty: none */
    const opes_str *rcpt; /* nrcpt RCPT values of the recipients of this
                             copy (xtext; empty: none); NULL: none */
    size_t nrcpt;
    opes_bypass_list header; /* the message's OPES-Bypass items */
} opes_bypass_relay_input;

/**
 * Decide what becomes of the dialog requests when a copy is relayed (8.4):
 * to a next hop that offers the extension every request is FORWARDed; else
 * each is DROPPED (the loss is reported, never silent), or, when the caller
 * asks to downgrade, DOWNGRADED into an OPES-Bypass field: the MAIL request
 * always; the RCPT requests only when every recipient of the copy carries
 * the same request (the same items, compared with opes_uri_equal(), in any
 * order), else each is NOT_UNIFORM. The field (built into dst as
 * opes_bypass_header_build() does) holds the downgraded items that the
 * message's OPES-Bypass items do not already hold; the message's own fields
 * stay as they are. *len is 0 when no field is to be added.
 *
 * @param[out] mail_action   enum opes_bypass_relay_action of the MAIL request
 * @param[out] rcpt_actions  nrcpt actions (may be NULL when nrcpt is 0)
 * @param[out] dst, cap, len the field to prepend, builder convention
 * @return OPES_OK; OPES_ENOSPC (builder convention; the actions are set);
 *         OPES_EBAD_BYPASS, OPES_EPARAM_TOO_LONG (a value malformed);
 *         OPES_EINVAL.
 */
OPES_API opes_status opes_bypass_relay(const opes_bypass_relay_input *in, int *mail_action,
                                       int *rcpt_actions, char *dst, size_t cap, size_t *len);

/** Stable snake_case name of a relay action ("none", "forward", "dropped",
 *  "downgraded", "not_uniform"); NULL for an unknown value. */
OPES_API const char *opes_bypass_relay_action_name(int action);

#ifdef __cplusplus
}
#endif
#endif /* OPES_BYPASS_H */
