/*
 * libopes — delivery status notifications (RFC 3461, RFC 3464, RFC 6522,
 * RFC 6533, RFC 8689 5, RFC 4902 3.1): the vocabulary shared by the report
 * builder (this header) and the report reader (<opes/dsn_read.h>).
 *
 * Part of the opes layer: it uses the smtp layer (xtext, enhanced codes)
 * and the mail layer (header, MIME, date).
 *
 * OPES extension fields of the delivery-status part (docs/opes-smtp.md 11;
 * X- names because they are not registered, RFC 3464 2.4):
 *     per-message:            X-OPES-System: <absolute URI>
 *     per-message (default
 *     for every recipient) or
 *     per-recipient:          X-OPES-Service: <absolute URI>
 *                             X-OPES-Bypassable: yes / no
 */
#ifndef OPES_DSN_H
#define OPES_DSN_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The extension field names (docs/opes-smtp.md 11). */
#define OPES_DSN_FIELD_SYSTEM "X-OPES-System"
#define OPES_DSN_FIELD_SERVICE "X-OPES-Service"
#define OPES_DSN_FIELD_BYPASSABLE "X-OPES-Bypassable"

/** Action values (RFC 3464 2.3.3). 0 is "not given" (a reader's result). */
enum opes_dsn_action {
    OPES_DSN_ACTION_NONE = 0,
    OPES_DSN_ACTION_FAILED = 1,
    OPES_DSN_ACTION_DELAYED = 2,
    OPES_DSN_ACTION_DELIVERED = 3,
    OPES_DSN_ACTION_RELAYED = 4,
    OPES_DSN_ACTION_EXPANDED = 5
};

/** "failed", "delayed", ... as RFC 3464 writes them; NULL for NONE or a
 *  value out of range. Static. */
OPES_API const char *opes_dsn_action_name(int action);

/** Parse an action-value (case-insensitive, RFC 3464 2.3.3; CFWS around it
 *  tolerated). @return OPES_OK, OPES_EBAD_DSN (not one of the five),
 *  OPES_EINVAL. */
OPES_API opes_status opes_dsn_action_parse(const char *buf, size_t len, int *action);

/** RET (RFC 3461 4.3). */
enum opes_dsn_ret {
    OPES_DSN_RET_UNSET = 0, /* no RET parameter */
    OPES_DSN_RET_FULL = 1,
    OPES_DSN_RET_HDRS = 2
};

/** NOTIFY (RFC 3461 4.1), as bits; 0 is "no NOTIFY parameter". */
enum opes_dsn_notify {
    OPES_DSN_NOTIFY_NEVER = 1u << 0,
    OPES_DSN_NOTIFY_SUCCESS = 1u << 1,
    OPES_DSN_NOTIFY_FAILURE = 1u << 2,
    OPES_DSN_NOTIFY_DELAY = 1u << 3
};

/* ---- the report builder --------------------------------------------------- */

/*
 * Building a report (docs/dsn.md; docs/opes-smtp.md 11). No clock, no
 * randomness and no copy of the returned message:
 *
 *  1. opes_dsn_builder_new() / _init_in(); opes_dsn_builder_set_seed() (the
 *     MIME boundary seed) and, if wanted, opes_dsn_builder_set_return_limit();
 *  2. feed the original message once, in chunks of any size
 *     (opes_dsn_builder_feed()), then opes_dsn_builder_end(). The one pass
 *     finds the end of its header section, whether it holds 8-bit octets
 *     (and whether they are UTF-8), its Message-ID and Return-Path, the last
 *     line end within the return limit, and eliminates every boundary
 *     candidate that occurs in it;
 *  3. opes_dsn_builder_prepare() with the report (opes_dsn_report): checks
 *     every value, eliminates the candidates that occur in the report's own
 *     strings, picks the boundary and says in an opes_dsn_plan which byte
 *     range of the original goes into the report and how;
 *  4. write opes_dsn_build_head() (snprintf-style), then the range of the
 *     original (as is, or through an opes_mime_encoder of plan.cte, eof at
 *     its end), then opes_dsn_build_tail().
 *
 * The builder's memory is fixed (opes_dsn_builder_sizeof()), whatever the
 * original's size.
 */

/** Longest boundary seed (opes_dsn_builder_set_seed()): the boundary is
 *  "=_" seed "." and two hex digits, at most 70 characters (RFC 2046 5.1.1). */
#define OPES_DSN_MAX_SEED 60
/** Boundary candidates per seed ("=_" seed ".00" .. ".FF"). */
#define OPES_DSN_CANDIDATES 256
/** Longest value the builder takes for one line of text (an address, a URI,
 *  a name, a line of a diagnostic): it must fit one line of the
 *  human-readable part (RFC 5322 2.1.1: 998 octets). */
#define OPES_DSN_MAX_VALUE 900
/** Longest Diagnostic-Code (all lines of a multi-line reply). */
#define OPES_DSN_MAX_DIAGNOSTIC 4096

/** Report flags (opes_dsn_report.flags). */
enum opes_dsn_flag {
    /** End the report's lines with LF instead of CRLF (a Unix file; the
     *  returned original is never changed). */
    OPES_DSN_F_LF = 1u << 0,
    /** The return path offers 8BITMIME (RFC 6152): 8-bit content is returned
     *  as is, with Content-Transfer-Encoding 8bit. */
    OPES_DSN_F_PATH_8BITMIME = 1u << 1,
    /** The return path offers SMTPUTF8 (RFC 6531): a UTF-8 original is
     *  returned as is (message/global, 8bit); without it, base64 or
     *  quoted-printable (RFC 6533 4.5). */
    OPES_DSN_F_PATH_SMTPUTF8 = 1u << 2,
    /** The original was sent with REQUIRETLS (RFC 8689 5): only its header
     *  section is returned whatever RET said, and the report must be sent
     *  with REQUIRETLS (plan.envelope). */
    OPES_DSN_F_REQUIRETLS = 1u << 3,
    /** Redacted report: of the original only its Message-ID is returned (as
     *  a one-field text/rfc822-headers part, none when it has no
     *  Message-ID); the report needs no REQUIRETLS (docs/opes-smtp.md 11.5). */
    OPES_DSN_F_REDACT = 1u << 4,
    /** The failure is a hostile-content verdict (a virus): nothing beyond
     *  the header section is ever returned (opes_dsn_due() 11.6). */
    OPES_DSN_F_HOSTILE = 1u << 5
};

/** A bypassable value (opes_dsn_recipient.bypassable, opes_dsn_report.bypassable). */
enum opes_dsn_bypassable {
    OPES_DSN_BYPASS_UNSET = 0, /* no X-OPES-Bypassable field */
    OPES_DSN_BYPASS_NO = 1,    /* "no" */
    OPES_DSN_BYPASS_YES = 2    /* "yes": the text tells how to ask for bypass */
};

/**
 * One recipient of a report (RFC 3464 2.3). An absent optional value is
 * {NULL, 0}. Values are as the caller has them, decoded: no xtext. Each is
 * one line (CR, LF or NUL: OPES_EINJECT), except diagnostic.
 */
typedef struct opes_dsn_recipient {
    /** The envelope address as accepted (RCPT TO, without "<>"). Required.
     *  An address with non-ASCII octets makes the report a global one
     *  (RFC 6533: utf-8 address type, message/global-delivery-status). */
    opes_str final_recipient;
    /** ORCPT: its addr-type ("rfc822", "utf-8", ...) and its address,
     *  decoded (RFC 3461 4.2: the xtext undone; for utf-8, the UTF-8
     *  address). Both absent when the RCPT had no ORCPT (RFC 3461 6.3 (d):
     *  then no Original-Recipient). A non-ASCII address is written with
     *  type "utf-8" in its utf-8-address form (RFC 6533 3, 4.1: the form a
     *  message/global-delivery-status SHOULD use; one holding "\x", which
     *  would read as an escape there, in its utf-8-addr-unitext form) and
     *  makes the report a global one; a caller holding the utf-8-addr-xtext
     *  form of an ORCPT decodes it first (opes_utf8addr_decode()). */
    opes_str orcpt_type;
    opes_str orcpt;
    int action;            /* enum opes_dsn_action, required */
    opes_str status;       /* "5.7.1" (RFC 3463), required */
    opes_str remote_mta;   /* "mx.example.net" (type dns) or "type; name" */
    /** The SMTP reply as received, one reply line after another separated by
     *  CRLF or LF ("550-first\r\n550 second"): Diagnostic-Code: smtp; with
     *  each line after the first a continuation line, a SPACE before it
     *  (RFC 3464 9.2). Each line: 3 digits, then "-" (all but the last) or
     *  SP or nothing (the last). */
    opes_str diagnostic;
    opes_str last_attempt_date; /* RFC 5322 date-time, numeric zone */
    opes_str final_log_id;
    opes_str will_retry_until; /* date-time; only with OPES_DSN_ACTION_DELAYED */
    /** The OPES service that caused this recipient's outcome (absolute
     *  URI): X-OPES-Service; empty: the report's opes_service applies. */
    opes_str opes_service;
    int bypassable; /* enum opes_dsn_bypassable, for this recipient's service */
} opes_dsn_recipient;

/** The report (RFC 3464 2.2, RFC 6522, RFC 3834). */
typedef struct opes_dsn_report {
    /** Header of the report. from: the postmaster address of the reporting
     *  MTA (written "Mail Delivery System <from>"); to: the original
     *  envelope sender, to whom the report goes (RFC 3464 2: never From:);
     *  date: an RFC 5322 date-time; message_id: "<id@host>"; subject: empty
     *  for "Delivery Status Notification (Failure|Delay|Success)". */
    opes_str from, to, date, message_id, subject;
    opes_str reporting_mta;     /* required; "name" (type dns) or "type; name" */
    opes_str dsn_gateway;       /* only for a gateway (RFC 3464 2.2.3) */
    opes_str received_from_mta; /* "name" or "type; name" */
    opes_str arrival_date;      /* date-time */
    opes_str envid;             /* ENVID, decoded (printable US-ASCII) */
    opes_str opes_system;       /* X-OPES-System: the OPES system's URI */
    opes_str opes_service;      /* X-OPES-Service for every recipient */
    int bypassable;             /* enum opes_dsn_bypassable for opes_service */
    int ret;                    /* enum opes_dsn_ret of the original's MAIL */
    unsigned flags;             /* enum opes_dsn_flag */
    const opes_dsn_recipient *rcpts;
    size_t nrcpts;              /* 1 or more */
} opes_dsn_report;

/** What the third part holds (opes_dsn_plan.part). */
enum opes_dsn_part {
    OPES_DSN_PART_NONE = 0,    /* no third part */
    OPES_DSN_PART_HEADERS = 1, /* text/rfc822-headers or message/global-headers */
    OPES_DSN_PART_MESSAGE = 2, /* message/rfc822 or message/global */
    OPES_DSN_PART_REDACTED = 3 /* text/rfc822-headers: the Message-ID alone,
                                  written by the head (length 0) */
};

/** How to send the report (RFC 3461 6.1, RFC 5321 6.1, RFC 8689 5). */
typedef struct opes_dsn_envelope {
    opes_str reverse_path; /* always "" (MAIL FROM:<>) */
    opes_str recipient;    /* RCPT TO: the original envelope sender */
    int requiretls;        /* MAIL ... REQUIRETLS is required */
    /** With requiretls: the return path is null, so the report is not to be
     *  discarded where the next hop lacks REQUIRETLS (RFC 8689 5). */
    int keep_without_requiretls;
    int smtputf8;          /* MAIL ... SMTPUTF8 (a global report) */
    int body_8bitmime;     /* MAIL ... BODY=8BITMIME (8-bit content inside) */
    /** RCPT ... NOTIFY=NEVER may be sent (to a next hop that offers DSN);
     *  RET must never be (RFC 3461 6.1). Always 1. */
    int notify_never;
} opes_dsn_envelope;

/** What opes_dsn_builder_prepare() decided. */
typedef struct opes_dsn_plan {
    int part;              /* enum opes_dsn_part */
    uint64_t offset;       /* first byte of the original after the head */
    uint64_t length;       /* bytes of the original after the head */
    /** OPES_MIME_CTE_NONE: copy the range as is; OPES_MIME_CTE_BASE64 or
     *  OPES_MIME_CTE_QP: through an opes_mime_encoder of that encoding,
     *  flushed (eof) at the end of the range. */
    int cte;
    int ret;               /* the RET applied: OPES_DSN_RET_FULL or _HDRS */
    int truncated;         /* the body was cut at the return limit, or
                              the bare CRs that end it left out (a CR
                              before the delimiter's line end would read
                              as that line end) */
    int headers_only_8bit; /* FULL was due, but an 8-bit original could not
                              travel a 7-bit path: only its header returned */
    int global;            /* message/global-delivery-status (RFC 6533) */
    uint64_t original_size;
    opes_str boundary;     /* the boundary, a view into the builder */
    opes_dsn_envelope envelope;
} opes_dsn_plan;

/** The builder (opaque). */
typedef struct opes_dsn_builder opes_dsn_builder;

/** Size of an opes_dsn_builder (fixed), for opes_dsn_builder_init_in(). */
OPES_API size_t opes_dsn_builder_sizeof(void);

/** Create a builder. @return OPES_OK, OPES_EINVAL, OPES_ENOMEM. */
OPES_API opes_status opes_dsn_builder_new(opes_dsn_builder **out, const opes_allocator *alloc);

/** The same in caller memory (opes_dsn_builder_sizeof() bytes, aligned as
 *  malloc aligns); _free on it is a no-op. @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_dsn_builder_init_in(void *mem, size_t len, opes_dsn_builder **out);

/** Release a builder made by opes_dsn_builder_new(); NULL is a no-op. */
OPES_API void opes_dsn_builder_free(opes_dsn_builder *b);

/** Start again for another original (the seed and limit are cleared). */
OPES_API opes_status opes_dsn_builder_reset(opes_dsn_builder *b);

/**
 * Set the boundary seed, before the first byte is fed: 1 to
 * OPES_DSN_MAX_SEED characters of RFC 2046 bcharsnospace other than "=":
 * ALPHA DIGIT ' ( ) + _ , - . / : ?. The candidates are "=_" seed "." and
 * 00..FF; "=_" cannot occur in base64 or quoted-printable output.
 * @return OPES_OK; OPES_EBAD_CHAR (a character outside that set);
 *         OPES_EPARAM_TOO_LONG; OPES_ESTATE (bytes were fed); OPES_EINVAL
 *         (empty seed, NULL).
 */
OPES_API opes_status opes_dsn_builder_set_seed(opes_dsn_builder *b, const char *seed, size_t len);

/**
 * Set the return limit (RFC 3461 6.2: an implementation-specified length),
 * before the first byte is fed: a returned message longer than max octets
 * has its body cut after the last line end at or before octet max; its
 * header section is never cut (when it alone passes max, it is returned
 * whole without body). 0 (the default): no limit.
 * @return OPES_OK, OPES_ESTATE, OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_builder_set_return_limit(opes_dsn_builder *b, uint64_t max);

/**
 * Feed the next bytes of the original message (any chunking; each byte
 * once). Nothing is kept of them but what the one pass needs.
 * @return OPES_OK; OPES_ESTATE (no seed set, or after _end); OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_builder_feed(opes_dsn_builder *b, const char *buf, size_t len);

/** The original is complete. @return OPES_OK, OPES_ESTATE, OPES_EINVAL. */
OPES_API opes_status opes_dsn_builder_end(opes_dsn_builder *b);

/** Header fields of the original that the builder keeps (unfolded, at most
 *  998 octets; the first occurrence). */
enum opes_dsn_original_field {
    OPES_DSN_ORIG_MESSAGE_ID = 1,
    OPES_DSN_ORIG_RETURN_PATH = 2
};

/**
 * A kept field of the original, after _end: a view into the builder.
 * @return OPES_OK; OPES_ENOTFOUND (absent, or longer than a line);
 *         OPES_ESTATE; OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_builder_original_field(const opes_dsn_builder *b, int which,
                                                     opes_str *out);

/**
 * Check the report and decide what goes into it. The report (and every byte
 * it points to) must stay unchanged until the last build call.
 *
 * The RET applied: HDRS with OPES_DSN_F_REQUIRETLS (RFC 8689 5), with
 * OPES_DSN_F_HOSTILE, with RET=HDRS, and when no recipient failed (RFC 3461
 * 4.3); FULL otherwise (RFC 6522 3: unset RET returns the full message).
 *
 * @return OPES_OK; OPES_EINJECT (CR, LF or NUL in a value; in diagnostic a
 *         CR not before LF, or NUL); OPES_EPARAM_TOO_LONG (a value over
 *         OPES_DSN_MAX_VALUE, a diagnostic over OPES_DSN_MAX_DIAGNOSTIC);
 *         OPES_EBAD_DATE (a date that does not parse, or an obsolete zone);
 *         OPES_EBAD_ENHANCED_CODE (status); OPES_EBAD_URI,
 *         OPES_EURI_NOT_ABSOLUTE (an OPES URI); OPES_EBAD_CHAR also for "(" or
 *         ")" in an OPES URI (a comment to the reader: percent-encode them); OPES_EBAD_UTF8 (an address
 *         that is not UTF-8); OPES_EBAD_CHAR (a control character other
 *         than HTAB in an address; 8-bit octets where the
 *         field must be ASCII, e.g. envid; white space at either end of
 *         envid, final_log_id or a date, which a reader could not get back; an
 *         MTA name "type; name" whose type is not an atom); OPES_EBAD_REPLY (a diagnostic
 *         line that does not start with a reply code); OPES_EEXIST (every
 *         boundary candidate occurs in the original or the report);
 *         OPES_ESTATE (before _end); OPES_EINVAL (a required value missing,
 *         will_retry_until without DELAYED, an unknown action or flag); and
 *         a status of opes_header_field_build() for a value its field
 *         refuses (OPES_EBAD_CHAR for a control character, OPES_EBAD_UTF8),
 *         or of opes_bypass_header_build() for a service URI it refuses: the
 *         head is built (size query) here, so the build calls below can
 *         only run out of room.
 */
OPES_API opes_status opes_dsn_builder_prepare(opes_dsn_builder *b, const opes_dsn_report *r,
                                              opes_dsn_plan *plan);

/**
 * Write everything before the returned range: the report's header, the
 * human-readable part, the delivery-status part and the third part's
 * header (or the redacted part). Builder convention: OPES_OK with *len
 * written, OPES_ENOSPC with *len the size needed (the size query, dst NULL
 * and cap 0, gives the same size); no NUL is written.
 * @return also OPES_ESTATE (not prepared), OPES_EOVERFLOW, OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_build_head(opes_dsn_builder *b, char *dst, size_t cap, size_t *len);

/** Write everything after the returned range (the close-delimiter).
 *  Builder convention; also OPES_ESTATE, OPES_EINVAL. */
OPES_API opes_status opes_dsn_build_tail(opes_dsn_builder *b, char *dst, size_t cap, size_t *len);

/* ---- whether a report is due (docs/opes-smtp.md 11.6) --------------------- */

/** Why (opes_dsn_due() *reason). Stable; names by opes_dsn_due_reason_name(). */
enum opes_dsn_due_reason {
    OPES_DSN_DUE_FAILED = 0,          /* due: a failure, NOTIFY has FAILURE or is absent */
    OPES_DSN_DUE_DELAYED = 1,         /* due: a delay, NOTIFY has DELAY */
    OPES_DSN_DUE_SUCCESS = 2,         /* due: delivered/relayed/expanded, NOTIFY has SUCCESS */
    OPES_DSN_DUE_HOSTILE_VERIFIED = 3,/* due: hostile content, the sender verified;
                                         headers only */
    OPES_DSN_NOT_NULL_SENDER = 10,    /* the reverse-path is null (RFC 3461 5.2, RFC 5321 6.1) */
    OPES_DSN_NOT_NOTIFY_NEVER = 11,   /* NOTIFY=NEVER */
    OPES_DSN_NOT_NOT_REQUESTED = 12,  /* NOTIFY without the keyword of this action
                                         (or no NOTIFY for a success or a delay) */
    OPES_DSN_NOT_HOSTILE = 13         /* hostile content, sender not verified
                                         (RFC 5321 6.2) */
};

/** Input of opes_dsn_due(). */
typedef struct opes_dsn_due_input {
    int null_sender;     /* MAIL FROM:<> */
    int action;          /* enum opes_dsn_action of the recipient */
    unsigned notify;     /* enum opes_dsn_notify bits; 0: no NOTIFY */
    int hostile;         /* the failure is a hostile-content verdict */
    int sender_verified; /* the envelope sender is authenticated or verified
                            (SMTP AUTH, SPF/DKIM alignment, local user) */
    int delay_default;   /* report delays when NOTIFY is absent (RFC 3461
                            5.2.5 permits it; default 0: not) */
} opes_dsn_due_input;

/**
 * Whether a report is due for one recipient (the rule: docs/opes-smtp.md
 * 11.6). In order: a null reverse-path: never (RFC 3461 5.2 note);
 * NOTIFY=NEVER: never; failed: with FAILURE or without NOTIFY (RFC 3461
 * 5.2.6), but for hostile content only when the sender is verified (RFC
 * 5321 6.2; the SMTP-level traced rejection is the preferred answer);
 * delayed: with DELAY, or without NOTIFY when delay_default (5.2.5);
 * delivered, relayed, expanded: with SUCCESS (5.2.2, 5.2.3).
 * @param[out] due     1 or 0
 * @param[out] reason  enum opes_dsn_due_reason (may be NULL)
 * @return OPES_OK; OPES_EINVAL (NULL, unknown action or notify bits, NEVER
 *         with another keyword).
 */
OPES_API opes_status opes_dsn_due(const opes_dsn_due_input *in, int *due, int *reason);

/** Stable snake_case name of a reason ("failed", "null_sender", ...); NULL
 *  for an unknown value. Static. */
OPES_API const char *opes_dsn_due_reason_name(int reason);

#ifdef __cplusplus
}
#endif
#endif /* OPES_DSN_H */
