/*
 * libopes — reading delivery status notifications (RFC 3464, RFC 6522,
 * RFC 6533): the content of a message/delivery-status (or
 * message/global-delivery-status) part, and a whole report message found
 * with the MIME walker (<opes/mime.h>).
 *
 * Part of the opes layer. Nothing here allocates: every result is a view
 * into the caller's input (an opes_str), and values are decoded on request
 * into caller buffers, snprintf-style (opes_dsn_value_decode()).
 *
 * The delivery-status content (RFC 3464 2.1, RFC 6533 4.1):
 *
 *     delivery-status-content = per-message-fields 1*( CRLF per-recipient-fields )
 *
 * Each group of fields is a block of header fields (RFC 822 field rules:
 * folding, comments, case-insensitive names), read with the header parser
 * (opes_header_field_parse()); blocks are separated by empty lines.
 *
 * Tolerances (what real MTAs write and the ABNF allows, or what costs the
 * reader nothing to accept): any case in field names and in the types;
 * folding anywhere folding is allowed; bare LF line ends with
 * OPES_DSN_READ_LF; several empty lines between blocks, and empty lines
 * before the first block and after the last; a last line without its line
 * end (the MIME walker hands out a body without the line end before the
 * next delimiter); fields in any order inside their block; extension and
 * unknown fields (kept, handed out by opes_dsn_field_next()); a block
 * without Final-Recipient, Action or Status, a field whose value does not
 * follow its grammar, a field given twice (the first one counts): flagged
 * on the block (enum opes_dsn_block_flag), never an error for the whole
 * report.
 *
 * Strict: a line that is not a header field (no colon, a bad name, a NUL, a
 * bare CR, a bare LF without OPES_DSN_READ_LF, 8-bit octets without
 * OPES_DSN_READ_UTF8 or OPES_DSN_READ_8BIT) is the header parser's status
 * with its offset; content without any recipient block is OPES_EBAD_DSN.
 */
#ifndef OPES_DSN_READ_H
#define OPES_DSN_READ_H

#include "common.h"
#include "dsn.h"
#include "header.h"
#include "mime.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Read flags (opes_dsn_content_parse(), opes_dsn_message_parse()). */
enum opes_dsn_read_flag {
    /** A bare LF ends a line as CRLF does (files on Unix, mbox). */
    OPES_DSN_READ_LF = 1u << 0,
    /** Field bodies may hold well-formed UTF-8 (RFC 6533 4.1,
     *  message/global-delivery-status; set by opes_dsn_message_parse() for
     *  that type). */
    OPES_DSN_READ_UTF8 = 1u << 1,
    /** Field bodies may hold any 8-bit octet (lenient: legacy bounces). */
    OPES_DSN_READ_8BIT = 1u << 2
};

/** Which field (opes_dsn_field.id). 0 is an extension or unknown field. */
enum opes_dsn_field_id {
    OPES_DSNF_EXTENSION = 0,
    /* per-message (RFC 3464 2.2) */
    OPES_DSNF_ORIGINAL_ENVELOPE_ID = 1,
    OPES_DSNF_REPORTING_MTA = 2,     /* typed: mta-name-type ";" mta-name */
    OPES_DSNF_DSN_GATEWAY = 3,       /* typed */
    OPES_DSNF_RECEIVED_FROM_MTA = 4, /* typed */
    OPES_DSNF_ARRIVAL_DATE = 5,      /* date-time */
    /* per-recipient (RFC 3464 2.3) */
    OPES_DSNF_ORIGINAL_RECIPIENT = 6, /* typed: address-type ";" generic-address */
    OPES_DSNF_FINAL_RECIPIENT = 7,    /* typed */
    OPES_DSNF_ACTION = 8,
    OPES_DSNF_STATUS = 9,
    OPES_DSNF_REMOTE_MTA = 10,        /* typed */
    OPES_DSNF_DIAGNOSTIC_CODE = 11,   /* typed: diagnostic-type ";" *text */
    OPES_DSNF_LAST_ATTEMPT_DATE = 12, /* date-time */
    OPES_DSNF_FINAL_LOG_ID = 13,
    OPES_DSNF_WILL_RETRY_UNTIL = 14, /* date-time */
    /* the OPES extension fields (<opes/dsn.h>) */
    OPES_DSNF_OPES_SYSTEM = 15,
    OPES_DSNF_OPES_SERVICE = 16,
    OPES_DSNF_OPES_BYPASSABLE = 17,
    OPES_DSNF__COUNT = 18
};

/** The field name of an id as RFC 3464 writes it ("Final-Recipient",
 *  "X-OPES-System"); NULL for OPES_DSNF_EXTENSION or out of range. Static. */
OPES_API const char *opes_dsn_field_name(int id);

/** Whether a field of this id is typed (type ";" value). */
OPES_API int opes_dsn_field_typed(int id);

/** Field flags (opes_dsn_field.flags). */
enum opes_dsn_field_flag {
    /** The value does not follow the field's grammar: a typed field without
     *  ";" or with a type that is not an atom (type empty, value the whole
     *  body), an Action that is none of the five, a Status that is not
     *  DIGIT "." 1*3DIGIT "." 1*3DIGIT, a date that opes_date_parse() (with
     *  its obsolete forms) refuses, X-OPES-Bypassable neither yes nor no,
     *  X-OPES-System or X-OPES-Service not an absolute URI (RFC 3986 4.3;
     *  comments around it allowed). */
    OPES_DSN_FF_BAD = 1u << 0,
    /** The field's last line had no line end (the end of the input). */
    OPES_DSN_FF_NO_EOL = 1u << 1
};

/**
 * One field of a block. Views into the content; absent: present 0 and every
 * view empty.
 */
typedef struct opes_dsn_field {
    int present;
    int id;          /* enum opes_dsn_field_id */
    opes_str name;   /* the field name as written */
    opes_str raw;    /* the field body as on the wire (folds included) */
    opes_str type;   /* typed fields: the type atom as written, CFWS around it
                        removed ("rfc822", "dns", "smtp", "utf-8"); else empty */
    opes_str value;  /* typed fields: the body after the ";"; others: the whole
                        body; still folded: decode with opes_dsn_value_decode() */
    uint64_t offset; /* offset of the field's first byte in the content (from
                        opes_dsn_field_next(): in the block) */
    unsigned flags;  /* enum opes_dsn_field_flag */
} opes_dsn_field;

/**
 * Write a field's value decoded into dst[0..cap), snprintf-style (OPES_OK
 * with *len written; OPES_ENOSPC with *len the size needed; dst may be NULL
 * iff cap is 0; no NUL appended): unfolded, WSP at both ends removed
 * (opes_header_unfold()), comments kept as written; for a typed field whose
 * type is "utf-8" (RFC 6533 3), the utf-8-addr-xtext / utf-8-addr-unitext
 * form decoded to the UTF-8 address (a value with no "\x" escape that is
 * not in those forms, e.g. holding "+", is the plain utf-8-address form and
 * is written as it is); a value that is no such address as a whole but an
 * address with comments before or after it has the address decoded and the
 * comments kept as written, as in every other field.
 * @return OPES_OK; OPES_ENOSPC; OPES_ENOTFOUND (f not present);
 *         OPES_EBAD_UTF8ADDR, OPES_EBAD_UTF8 (a malformed utf-8 value);
 *         a status of opes_header_unfold(); OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_value_decode(const opes_dsn_field *f, char *dst, size_t cap,
                                           size_t *len);

/** Block flags (opes_dsn_per_message.flags, opes_dsn_read_recipient.flags). */
enum opes_dsn_block_flag {
    OPES_DSN_BF_NO_REPORTING_MTA = 1u << 0,   /* per-message: Reporting-MTA missing */
    OPES_DSN_BF_NO_FINAL_RECIPIENT = 1u << 1, /* recipient: Final-Recipient missing */
    OPES_DSN_BF_NO_ACTION = 1u << 2,          /* recipient: Action missing */
    OPES_DSN_BF_NO_STATUS = 1u << 3,          /* recipient: Status missing */
    OPES_DSN_BF_BAD_FIELD = 1u << 4,          /* some field has OPES_DSN_FF_BAD */
    OPES_DSN_BF_DUPLICATE = 1u << 5,          /* a known field given twice: the first counts */
    OPES_DSN_BF_MISPLACED = 1u << 6           /* a per-recipient field in the per-message
                                                 block or the reverse: not stored in the
                                                 block's struct, opes_dsn_field_next() hands
                                                 it out with its id */
};

/** The per-message fields (RFC 3464 2.2) and the OPES ones. */
typedef struct opes_dsn_per_message {
    opes_dsn_field original_envelope_id, reporting_mta, dsn_gateway, received_from_mta,
        arrival_date;
    opes_dsn_field opes_system;     /* X-OPES-System */
    opes_dsn_field opes_service;    /* X-OPES-Service: the default for every recipient */
    opes_dsn_field opes_bypassable; /* X-OPES-Bypassable */
    int bypassable;                 /* -1 absent or bad, 0 "no", 1 "yes" */
    size_t extensions;              /* fields with id OPES_DSNF_EXTENSION */
    opes_str block;                 /* the block's bytes, for opes_dsn_field_next() */
    uint64_t offset;                /* of block in the content */
    unsigned flags;                 /* enum opes_dsn_block_flag */
} opes_dsn_per_message;

/** One recipient block (RFC 3464 2.3, RFC 6533 4.1). */
typedef struct opes_dsn_read_recipient {
    opes_dsn_field original_recipient, final_recipient, action, status, remote_mta, diagnostic_code,
        last_attempt_date, final_log_id, will_retry_until;
    opes_dsn_field opes_service, opes_bypassable;
    int action_value;     /* enum opes_dsn_action; NONE when absent or bad */
    opes_str status_code; /* the code of Status, "5.1.1", without CFWS or comment */
    int status_class, status_subject, status_detail; /* 0 when absent or bad */
    int bypassable;    /* -1 absent or bad, 0, 1 (the per-message value is not
                          merged in: the caller applies the default) */
    size_t extensions; /* fields with id OPES_DSNF_EXTENSION */
    size_t index;      /* 0 for the first recipient */
    opes_str block;
    uint64_t offset;
    unsigned flags; /* enum opes_dsn_block_flag */
} opes_dsn_read_recipient;

/** Limit on the recipient blocks of one report (no RFC number). */
#define OPES_DSN_MAX_RECIPIENTS 10000

/**
 * The parsed delivery-status content: the per-message fields and what the
 * recipient iterator needs. Plain data; views into the content.
 */
typedef struct opes_dsn_content {
    opes_dsn_per_message msg;
    size_t recipients;        /* the number of recipient blocks */
    unsigned recipient_flags; /* the OR of every recipient block's flags */
    opes_str content;         /* the whole content */
    size_t first;             /* offset of the first recipient block */
    unsigned flags;           /* the read flags used */
} opes_dsn_content;

/**
 * Parse the content of a message/delivery-status or
 * message/global-delivery-status part (already transfer-decoded). Every
 * block is read once here, so syntax errors anywhere surface now, and the
 * recipients are counted; opes_dsn_recipient_next() hands them out.
 *
 * @param[in]  buf    the content; need not be NUL-terminated
 * @param[in]  flags  enum opes_dsn_read_flag
 * @param[out] out    the result (views into buf)
 * @param[out] err_offset  on a syntax error, the offset of the offending
 *                    byte in buf (may be NULL)
 * @return OPES_OK; OPES_EBAD_DSN (no per-message block or no recipient
 *         block); OPES_ETOO_MANY_ITEMS (over OPES_DSN_MAX_RECIPIENTS
 *         blocks); a status of opes_header_field_parse() (OPES_EBAD_HEADER,
 *         OPES_EBAD_HEADER_NAME, OPES_EBAD_CHAR, OPES_EBAD_UTF8,
 *         OPES_EBARE_CR, OPES_EBARE_LF, OPES_EHEADER_LINE_TOO_LONG,
 *         OPES_EHEADER_TOO_LONG); OPES_EINVAL (out NULL, buf NULL with
 *         len > 0, unknown flags).
 */
OPES_API opes_status opes_dsn_content_parse(const char *buf, size_t len, unsigned flags,
                                            opes_dsn_content *out, size_t *err_offset);

/** A recipient iterator: plain data (opes_dsn_recipients()). */
typedef struct opes_dsn_iter {
    const opes_dsn_content *content;
    size_t pos;   /* offset of the next block in the content */
    size_t index; /* recipients handed out so far */
} opes_dsn_iter;

/** Start iterating the recipients of a parsed content (which must outlive
 *  the iterator). @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_dsn_recipients(const opes_dsn_content *c, opes_dsn_iter *it);

/**
 * The next recipient block, in the order written; out->index counts from 0.
 * @return OPES_OK; OPES_ENOTFOUND (no more recipients); OPES_EINVAL (it or
 *         out NULL, a content that was not parsed with OPES_OK).
 */
OPES_API opes_status opes_dsn_recipient_next(opes_dsn_iter *it, opes_dsn_read_recipient *out);

/**
 * The next field of a block (opes_dsn_per_message.block or
 * opes_dsn_read_recipient.block), classified (id, type, value), in the order
 * written: how extension fields (id OPES_DSNF_EXTENSION) are read.
 * @param[in]     block  a block handed out by this module
 * @param[in]     flags  the read flags the content was parsed with
 * @param[in,out] pos    start at 0
 * @return OPES_OK; OPES_ENOTFOUND (no more fields); a header parser status
 *         (not for a block handed out by this module); OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_field_next(opes_str block, unsigned flags, size_t *pos,
                                         opes_dsn_field *out);

/* ---- a whole report message ---------------------------------------------- */

/** Which kind of returned content (opes_dsn_read_report.returned_kind). */
enum opes_dsn_returned_kind {
    OPES_DSN_RETURNED_NONE = 0,
    OPES_DSN_RETURNED_MESSAGE = 1, /* message/rfc822 or message/global */
    OPES_DSN_RETURNED_HEADERS = 2  /* text/rfc822-headers or message/global-headers */
};

/** Report flags (opes_dsn_read_report.flags). */
enum opes_dsn_report_flag {
    /** The machine part is message/global-delivery-status (RFC 6533). */
    OPES_DSN_REPORT_GLOBAL = 1u << 0,
    /** The machine part had a base64 or quoted-printable encoding and was
     *  decoded into the scratch buffer. */
    OPES_DSN_REPORT_DECODED = 1u << 1,
    /** The multipart/report is not the top-level entity (RFC 6522 allows
     *  it). */
    OPES_DSN_REPORT_NESTED = 1u << 2,
    /** The returned part has a transfer encoding other than identity; its
     *  view is the encoded bytes and its header fields are not handed out. */
    OPES_DSN_REPORT_RETURNED_ENCODED = 1u << 3,
    /** The multipart/report's report-type parameter is absent or not
     *  delivery-status / global-delivery-status (the machine part decides). */
    OPES_DSN_REPORT_ODD_REPORT_TYPE = 1u << 4,
    /** The walker failed after the delivery-status part had been read whole
     *  (in the returned content, say): what was found is returned, the
     *  returned content may be cut short. */
    OPES_DSN_REPORT_WALK_ERROR = 1u << 5
};

/** A report found in a message. Views into the message (or the scratch
 *  buffer for a decoded delivery-status part). */
typedef struct opes_dsn_read_report {
    int found;                /* the delivery-status part was found: set also when
                                 its content then fails to parse (a report found
                                 wanting, not a message that is no report) */
    opes_dsn_content status;  /* the delivery-status content */
    opes_str report_type;     /* the report-type parameter as written (inside the
                                 quotes of a quoted-string), or empty */
    opes_str human;           /* the first part's body (still transfer-encoded) */
    int human_cte;            /* enum opes_mime_cte of the first part */
    int returned_kind;        /* enum opes_dsn_returned_kind */
    char returned_type[64];   /* "message/rfc822", ... lower case; "" if none */
    opes_str returned;        /* the returned part's body: the message, or the
                                 header section */
    opes_str returned_header; /* its header section (message: up to and with the
                                 empty line; headers: the whole body) */
    unsigned header_flags;    /* the opes_header_flag set the returned header
                                 section is read with */
    unsigned flags;           /* enum opes_dsn_report_flag */
    opes_status walk_status;  /* with OPES_DSN_REPORT_WALK_ERROR: the walker's
                                 status (why the rest was not read); else
                                 OPES_OK */
} opes_dsn_read_report;

/**
 * Find and read a delivery status report in a whole message: the first
 * multipart/report (at any depth, RFC 6522) with a part of type
 * message/delivery-status or message/global-delivery-status (any mix of the
 * RFC 6533 4.4 types); the first part of the multipart/report is the
 * human-readable one; the returned content is the part of type
 * message/rfc822, message/global, text/rfc822-headers or
 * message/global-headers after the machine part.
 *
 * @param[in]  w         a MIME walker (opes_mime_walker_new() or
 *                       opes_mime_walker_init_in(); reused across messages,
 *                       so reading many reports allocates nothing); it is
 *                       reset, and its flags set, here; its limits are kept
 * @param[in]  msg, len  the whole message
 * @param[in]  flags     OPES_DSN_READ_LF (bare LF line ends: mbox and Unix
 *                       files), OPES_DSN_READ_8BIT; OPES_DSN_READ_UTF8 is
 *                       implied for header fields of a message/global and
 *                       for a global delivery-status part
 * @param[in]  scratch, cap  where a base64 or quoted-printable encoded
 *                       delivery-status part is decoded (RFC 3464 2.1 says
 *                       7bit MUST be used; some MTAs do not); may be NULL
 *                       iff cap is 0
 * @param[out] out       the report
 * @param[out] need      OPES_ENOSPC: the scratch size needed; else 0 (may be
 *                       NULL)
 * @return OPES_OK; OPES_ENOTFOUND (no delivery-status part: the message is
 *         not a DSN); OPES_ENOSPC (scratch too small); a status of
 *         opes_dsn_content_parse() for the delivery-status part; a status
 *         of opes_mime_walk() (a message the walker cannot read);
 *         OPES_EBAD_BASE64, OPES_EBAD_QP; OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_message_parse(opes_mime_walker *w, const char *msg, size_t len,
                                            unsigned flags, char *scratch, size_t cap,
                                            opes_dsn_read_report *out, size_t *need);

/**
 * The next header field of the returned content (its header section:
 * trace fields such as OPES-System and OPES-Via included), views into the
 * message.
 * @param[in,out] pos  start at 0
 * @return OPES_OK; OPES_ENOTFOUND (no more fields, or no returned content,
 *         or it is transfer-encoded); a header parser status; OPES_EINVAL.
 */
OPES_API opes_status opes_dsn_returned_field_next(const opes_dsn_read_report *r, size_t *pos,
                                                  opes_header_field *out);

#ifdef __cplusplus
}
#endif
#endif /* OPES_DSN_READ_H */
