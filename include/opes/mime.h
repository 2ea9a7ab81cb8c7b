/*
 * libopes — MIME (RFC 2045, RFC 2046; RFC 6532 and RFC 6533 for the
 * internationalised types): a bounded, streaming walker over the entity tree
 * of a message, the Content-Type / Content-Transfer-Encoding field parsers,
 * and incremental base64 and quoted-printable decoders and encoders.
 *
 * Part of the mail layer; built on the header scanner (<opes/header.h>).
 *
 * The walker is a push parser in the manner of opes_header_scan(): the caller
 * owns the bytes and re-presents what was not consumed; each call returns at
 * most one event and consumes exactly that event's bytes, so the events'
 * bytes tile the input (HEADER: the field; PART: the empty line ending the
 * header section; BODY, PREAMBLE, EPILOGUE: data; DELIMITER: the delimiter
 * line with the line end before it; END_PART and END: none). It never copies
 * a body and never needs the whole message in memory: a body arrives as BODY
 * events, still transfer-encoded (decode with opes_mime_decoder where
 * wanted). It does not recurse on input and does not allocate while
 * walking: the entity stack is a fixed array of OPES_MIME_MAX_DEPTH + 1
 * levels inside the walker, which also embeds the header scanner it runs
 * over each entity's header section (reset per entity). What the walker
 * keeps of an entity after its header bytes were consumed (media type,
 * subtype, boundary, charset) it copies into that fixed storage, so views it
 * hands out of it live until the next call.
 *
 * Structure (RFC 2046 5.1.1, 5.2.1):
 *  - A multipart entity's body is a preamble, parts separated by delimiter
 *    lines ("--" boundary, optional transport padding (LWSP), line end) and
 *    a close-delimiter ("--" boundary "--"), then an epilogue. The line end
 *    before a delimiter belongs to the delimiter: it is not part of the body
 *    before it.
 *  - A message/rfc822 or message/global (RFC 6532 3.7) body with an identity
 *    transfer encoding (7bit, 8bit, binary or absent) is a message: the
 *    walker descends into it (its header fields, then its body) one level
 *    deeper. With another encoding (message/global may be base64) it is a
 *    leaf, flagged OPES_MIME_PF_ENCODED_MESSAGE: decode it and walk it with a
 *    second walker if wanted.
 *  - text/rfc822-headers and message/global-headers are leaves: their body
 *    is a header section, which a caller may scan with the header scanner.
 *  - Every other entity is a leaf.
 *  - Content-Type absent: text/plain; charset=us-ascii (RFC 2045 5.2), or
 *    message/rfc822 inside multipart/digest (RFC 2046 5.1.5); flagged
 *    OPES_MIME_PF_DEFAULT_TYPE. A Content-Type that does not parse is
 *    text/plain (RFC 2045 5.2 "invalid"; also in a digest, as Python's email
 *    reads it), flagged OPES_MIME_PF_BAD_TYPE. The boundary is the
 *    "boundary" parameter or, without one, RFC 2231's "boundary*"
 *    (charset'language'%-escaped) or its continuations "boundary*0",
 *    "boundary*1*", ... joined up to the first gap. A multipart without a
 *    usable boundary (absent, empty, over 70 characters, a character outside
 *    bchars, or ending in a space: RFC 2046 5.1.1) is a leaf, flagged
 *    OPES_MIME_PF_NO_BOUNDARY. These are tolerances, not errors: mail with
 *    them exists and is still read.
 *  - A delimiter is "--" boundary at the start of a line, then "--" for a
 *    close-delimiter, then transport padding (SP, HTAB), then a line end or
 *    the end of the input; the whole line at most 998 octets (RFC 2045 2.8).
 *    Anything else ("--boundaryX", "--boundary--X") is body. A delimiter of
 *    any enclosing multipart also ends the entities inside it (RFC 2046
 *    5.1.2): an inner multipart without its close-delimiter ends there, and
 *    the end of the input ends every open entity. Such a multipart's
 *    END_PART carries OPES_MIME_PF_UNTERMINATED.
 *  - A part whose header section is cut by a delimiter (no empty line) has
 *    an empty body. Below the top level, a header section also ends at a
 *    line that cannot start a header field (no field name and ":" there):
 *    that line starts the body, flagged OPES_MIME_PF_NO_EMPTY_LINE (Python's
 *    email reads it so); the top-level header section is the header
 *    scanner's, and such a line there is its error. An empty line between the header and the body belongs to
 *    the PART event; the body starts after it, and a delimiter may start
 *    there without a line end before it.
 *  - Line ends: CRLF. With OPES_MIME_LF, LF too. Without it, in a body where
 *    a delimiter is looked for (inside a multipart), a bare CR or LF is an
 *    error (OPES_EBARE_CR, OPES_EBARE_LF; smuggling material on SMTP);
 *    with it, a bare CR there is data. In a body with
 *    Content-Transfer-Encoding binary (RFC 2045 2.9, RFC 3030 BINARYMIME)
 *    a bare CR or LF is data in either mode (only a line end, CRLF or with
 *    OPES_MIME_LF LF, may come before a delimiter). The body of a message that is not
 *    inside a multipart is passed through unchecked.
 */
#ifndef OPES_MIME_H
#define OPES_MIME_H

#include "common.h"
#include "status.h"
#include "header.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Compile-time ceiling of the nesting depth (the top-level entity is depth
 *  0). The default limit is 16. */
#define OPES_MIME_MAX_DEPTH 32
/** RFC 2046 5.1.1: a boundary is 1 to 70 characters. */
#define OPES_MIME_MAX_BOUNDARY 70
/** RFC 6838 4.2: type and subtype names are at most 127 characters. */
#define OPES_MIME_MAX_TYPE 127
/** The longest run of bytes the walker may hold back at the end of a
 *  multipart body before it can tell whether a delimiter starts there: a
 *  line end, a delimiter line of at most 998 octets (RFC 2045 2.8; "--",
 *  the boundary, "--", transport padding) and its line end. */
#define OPES_MIME_HOLD 1002
/** Longest charset parameter value kept by the walker (RFC 2978 names are
 *  at most 40 characters; the rest are refused as bad). */
#define OPES_MIME_MAX_CHARSET 40

/** Content-Transfer-Encoding values (RFC 2045 6.1). */
enum opes_mime_cte {
    OPES_MIME_CTE_NONE = 0,    /* field absent: 7bit */
    OPES_MIME_CTE_7BIT = 1,
    OPES_MIME_CTE_8BIT = 2,
    OPES_MIME_CTE_BINARY = 3,
    OPES_MIME_CTE_QP = 4,      /* quoted-printable */
    OPES_MIME_CTE_BASE64 = 5,
    OPES_MIME_CTE_UNKNOWN = 6  /* an x-token or an unparsable value: treat the
                                  body as application/octet-stream (RFC 2045 6.4) */
};

/** Stable lower-case name of a transfer encoding ("7bit", "quoted-printable",
 *  ..., "none", "unknown"); NULL for a value out of range. Static. */
OPES_API const char *opes_mime_cte_name(int cte);

/**
 * Parse a Content-Transfer-Encoding field body (RFC 2045 6.1: a token,
 * case-insensitive, with CFWS around it).
 * @param[in]  raw  the field body (opes_header_field.raw; folded is fine)
 * @param[out] cte  enum opes_mime_cte (OPES_MIME_CTE_UNKNOWN for any other
 *                  well-formed token)
 * @return OPES_OK; OPES_EBAD_MIME (not a single token); OPES_EINVAL.
 */
OPES_API opes_status opes_mime_cte_parse(const char *raw, size_t len, int *cte);

/**
 * A parsed Content-Type field body (RFC 2045 5.1):
 *     content := type "/" subtype *(";" parameter)
 * with CFWS allowed between the tokens (RFC 2045 5.1, RFC 5322 3.2.2).
 * type and subtype are views into the field body as written (compare them
 * case-insensitively); params is the rest, from the first ";" on, for
 * opes_mime_param_next().
 */
typedef struct opes_mime_content_type {
    opes_str type;    /* "multipart" */
    opes_str subtype; /* "report" */
    opes_str params;  /* "; report-type=delivery-status; boundary=..." or empty */
} opes_mime_content_type;

/**
 * Parse a Content-Type field body. CFWS (comments, folds with CRLF or LF)
 * may surround each token; tokens are those of RFC 2045 5.1 (no tspecials).
 * @return OPES_OK; OPES_EBAD_MIME (type or subtype missing or not a token,
 *         junk before the first ";"); OPES_EINVAL.
 */
OPES_API opes_status opes_mime_content_type_parse(const char *raw, size_t len,
                                                  opes_mime_content_type *out);

/** One parameter (RFC 2045 5.1: attribute "=" value; value a token or a
 *  quoted-string). value is as written: a quoted-string keeps its quotes
 *  and backslashes; opes_mime_param_value() unquotes. RFC 2231
 *  continuations and charsets ("title*0*=") are handed out as the separate
 *  parameters they are written as; name keeps its "*" suffixes. */
typedef struct opes_mime_param {
    opes_str name;
    opes_str value;
    int quoted; /* value is a quoted-string */
} opes_mime_param;

/**
 * Next parameter of a parameter list (opes_mime_content_type.params). Empty
 * parameters (";;", a trailing ";") are skipped.
 * @param[in,out] pos  start at 0
 * @return OPES_OK (one parameter); OPES_ENOTFOUND (no more); OPES_EBAD_MIME
 *         (malformed: a missing "=", an unterminated quoted-string; pos is
 *         left at the bad parameter); OPES_EINVAL.
 */
OPES_API opes_status opes_mime_param_next(const char *params, size_t len, size_t *pos,
                                          opes_mime_param *out);

/**
 * Find a parameter by name (case-insensitive, RFC 2045 5.1); the first one
 * wins. @return OPES_OK, OPES_ENOTFOUND, OPES_EBAD_MIME (the list is
 * malformed before a match), OPES_EINVAL.
 */
OPES_API opes_status opes_mime_param_find(const char *params, size_t len, const char *name,
                                          opes_mime_param *out);

/**
 * Write a parameter value unquoted (quoted-pair resolved, folding removed)
 * into dst[0..cap), snprintf-style (*len the size, also on OPES_ENOSPC).
 * @return OPES_OK, OPES_ENOSPC, OPES_EINVAL.
 */
OPES_API opes_status opes_mime_param_value(const opes_mime_param *p, char *dst, size_t cap,
                                           size_t *len);

/* ---- the walker ----------------------------------------------------------- */

/** Walker flags (opes_mime_walker_set_flags()). */
enum opes_mime_flag {
    /** Bare LF ends lines as CRLF does (files on Unix, mbox); passed on to
     *  the header scanner as OPES_HEADER_LF. */
    OPES_MIME_LF = 1u << 0,
    /** Header fields may hold UTF-8 (RFC 6532; passed on as
     *  OPES_HEADER_UTF8). */
    OPES_MIME_UTF8 = 1u << 1,
    /** Header fields may hold any 8-bit octet (passed on as
     *  OPES_HEADER_8BIT): legacy mail, bounce processing. */
    OPES_MIME_8BIT = 1u << 2
};

/** Limits (opes_mime_walker_set_limit()). */
enum opes_mime_limit {
    /** Nesting depth: 16 (ceiling OPES_MIME_MAX_DEPTH). An entity deeper
     *  than this is OPES_EMIME_TOO_DEEP. */
    OPES_MIME_LIMIT_DEPTH = 0,
    /** Entities in the whole message: 10000. Past it: OPES_ETOO_MANY_ITEMS. */
    OPES_MIME_LIMIT_PARTS = 1,
    OPES_MIME_LIMIT__COUNT = 2
};

/** Part flags (opes_mime_part.flags). */
enum opes_mime_part_flag {
    OPES_MIME_PF_DEFAULT_TYPE = 1u << 0,     /* no Content-Type: the default applies */
    OPES_MIME_PF_BAD_TYPE = 1u << 1,         /* a Content-Type that does not parse: default */
    OPES_MIME_PF_NO_BOUNDARY = 1u << 2,      /* multipart without a usable boundary: a leaf */
    OPES_MIME_PF_ENCODED_MESSAGE = 1u << 3,  /* message/rfc822|global with a non-identity
                                                encoding: a leaf */
    OPES_MIME_PF_UNTERMINATED = 1u << 4,     /* END_PART: the input ended before this
                                                multipart's close-delimiter */
    OPES_MIME_PF_BAD_CTE = 1u << 5,          /* a Content-Transfer-Encoding that does not
                                                parse (cte is OPES_MIME_CTE_UNKNOWN) */
    OPES_MIME_PF_DUPLICATE_FIELD = 1u << 6,  /* Content-Type or -Transfer-Encoding twice:
                                                the first one counts */
    OPES_MIME_PF_NO_EMPTY_LINE = 1u << 7     /* the header section of an entity
                                                below the top ended at a line that
                                                is not a header field: that line
                                                starts the body */
};

/** What kind of entity (opes_mime_part.kind). */
enum opes_mime_part_kind {
    OPES_MIME_KIND_LEAF = 1,      /* body events follow */
    OPES_MIME_KIND_MULTIPART = 2, /* preamble, child parts, epilogue follow */
    OPES_MIME_KIND_MESSAGE = 3    /* one child entity follows: the enclosed message */
};

/**
 * An entity, as known once its header section has been read. The views
 * type, subtype, boundary and charset point into the walker (lower-cased
 * copies, except the boundary, which is kept as written) and live until the
 * next call on the walker. A charset value over OPES_MIME_MAX_CHARSET
 * octets is left empty. END_PART and DELIMITER events fill in kind, depth,
 * index, id, flags and (multipart) boundary only.
 */
typedef struct opes_mime_part {
    int kind;            /* enum opes_mime_part_kind */
    size_t depth;        /* 0: the message itself; its parts 1; ... */
    size_t index;        /* position among its parent's children, from 1 (0
                            for the top-level entity) */
    size_t id;           /* entities in document order, from 1 */
    opes_str type;       /* "text" (lower case) */
    opes_str subtype;    /* "plain" (lower case) */
    opes_str boundary;   /* multipart: the boundary as written (unquoted) */
    opes_str charset;    /* the charset parameter lower-cased, or empty */
    int cte;             /* enum opes_mime_cte */
    unsigned flags;      /* enum opes_mime_part_flag */
    uint64_t offset;     /* stream offset of the entity's first header byte */
    uint64_t body_offset;/* stream offset of its body's first byte */
} opes_mime_part;

/** Walker events (opes_mime_event.type). Values are stable. */
enum opes_mime_event_type {
    /** Nothing yet: more bytes are needed (OPES_INCOMPLETE). */
    OPES_MIME_EV_NONE = 0,
    /** A header field of the entity being read: field (a stream offset in
     *  field.offset; views into buf), depth, part.id (the entity's id). */
    OPES_MIME_EV_HEADER = 1,
    /** The entity's header section ended: part describes it. */
    OPES_MIME_EV_PART = 2,
    /** Bytes of a leaf body, as on the wire (still transfer-encoded): data,
     *  a view into buf; offset is its stream offset; part.id its entity. A
     *  body arrives in any number of BODY events, cut where the input was
     *  cut (their concatenation does not depend on the split); it excludes
     *  the line end before the next delimiter. Never empty. */
    OPES_MIME_EV_BODY = 3,
    /** Bytes of a multipart's preamble (before its first delimiter), data
     *  as for BODY. Ignorable (RFC 2046 5.1.1). */
    OPES_MIME_EV_PREAMBLE = 4,
    /** Bytes of a multipart's epilogue (after its close-delimiter). */
    OPES_MIME_EV_EPILOGUE = 5,
    /** An entity ended: part.id, part.depth and part.flags (with
     *  OPES_MIME_PF_UNTERMINATED where it applies) say which. */
    OPES_MIME_EV_END_PART = 6,
    /** The message ended (after the top-level entity's END_PART). Further
     *  calls return OPES_ESTATE until opes_mime_walker_reset(). */
    OPES_MIME_EV_END = 7,
    /** An error (the call's status); offset is the offending byte's. */
    OPES_MIME_EV_ERROR = 8,
    /** A delimiter line of a multipart (RFC 2046 5.1.1): data is its bytes,
     *  the line end before "--" (absent when the delimiter starts the
     *  multipart's body), "--", the boundary, "--" for a close-delimiter
     *  (close is then 1), transport padding and the line end after it (or
     *  none at the end of the input); part.id and depth are the
     *  multipart's. */
    OPES_MIME_EV_DELIMITER = 9
};

/** Stable snake_case name of an event type; NULL for an unknown one. */
OPES_API const char *opes_mime_event_name(int type);

/** One walker event; only the members of its type are meaningful. */
typedef struct opes_mime_event {
    int type;                /* enum opes_mime_event_type */
    size_t depth;            /* the entity the event belongs to */
    opes_header_field field; /* HEADER */
    opes_mime_part part;     /* PART; END_PART (id, depth, index, kind, flags) */
    opes_str data;           /* BODY, PREAMBLE, EPILOGUE: a view into buf */
    uint64_t offset;         /* stream offset of the event's first byte; ERROR:
                                of the offending byte */
    int close;               /* DELIMITER: a close-delimiter */
} opes_mime_event;

/** The walker (opaque). */
typedef struct opes_mime_walker opes_mime_walker;

/** Size of an opes_mime_walker, for opes_mime_walker_init_in(). */
OPES_API size_t opes_mime_walker_sizeof(void);

/** Create a walker (flags 0, default limits). @return OPES_OK, OPES_EINVAL,
 *  OPES_ENOMEM. */
OPES_API opes_status opes_mime_walker_new(opes_mime_walker **out, const opes_allocator *alloc);

/** The same in caller memory (opes_mime_walker_sizeof() bytes, aligned as
 *  malloc aligns); _free on it is a no-op. @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_mime_walker_init_in(void *mem, size_t len, opes_mime_walker **out);

/** Release a walker made by opes_mime_walker_new(); NULL is a no-op. */
OPES_API void opes_mime_walker_free(opes_mime_walker *w);

/** Start a new message; flags and limits are kept. */
OPES_API opes_status opes_mime_walker_reset(opes_mime_walker *w);

/** Set flags (enum opes_mime_flag); only at the start of a message.
 *  @return OPES_OK, OPES_EINVAL, OPES_ESTATE. */
OPES_API opes_status opes_mime_walker_set_flags(opes_mime_walker *w, unsigned flags);

/** Set a limit (enum opes_mime_limit); only at the start of a message.
 *  @return OPES_OK, OPES_EINVAL (unknown limit, 0), OPES_ECEILING,
 *  OPES_ESTATE. */
OPES_API opes_status opes_mime_walker_set_limit(opes_mime_walker *w, int limit, size_t value);

/**
 * Walk: return the next event.
 *
 * buf holds the unconsumed bytes (those of earlier calls not consumed,
 * unchanged, then what arrived since); eof says buf holds all that is left.
 * Each call consumes exactly the bytes of the event it returns (*used);
 * with OPES_INCOMPLETE nothing is consumed and the caller appends more. The
 * caller's buffer must be able to hold a header field plus one byte (the
 * header scanner's field limit + 1: 65537 octets by default) and
 * OPES_MIME_HOLD (1002) octets: inside a multipart, the walker holds back a
 * line end and what follows it until it can tell whether a delimiter line
 * starts there (at most a line end, a 998-octet line and its line end).
 * Events and offsets do not depend on how the input is split, except that
 * data (BODY, PREAMBLE, EPILOGUE) arrives in pieces that follow the split;
 * joined, they are the same. An error is sticky. The header scanner runs
 * with its default limits for each entity. Cost: linear when the caller
 * appends a few KiB at a time; a possible delimiter line that is held back
 * is looked at again on each call (up to OPES_MIME_HOLD octets for each
 * enclosing multipart whose boundary matches), so appending a byte at a
 * time costs up to that much per byte (measured: about 0.6 s per MiB of
 * near-miss delimiter lines at one level, 6 s at 16 levels with the same
 * boundary, against 0.01 s for 4 KiB pieces).
 *
 * @return OPES_OK (an event); OPES_INCOMPLETE; a header scanner status, or
 *         OPES_EMIME_TOO_DEEP, OPES_ETOO_MANY_ITEMS, OPES_EBARE_CR,
 *         OPES_EBARE_LF (without OPES_MIME_LF, in a multipart body where a
 *         delimiter is looked for, not binary) with ev ERROR; OPES_ESTATE (after END);
 *         OPES_EINVAL.
 */
OPES_API opes_status opes_mime_walk(opes_mime_walker *w, const char *buf, size_t len, int eof,
                                    size_t *used, opes_mime_event *ev);

/* ---- transfer decoding and encoding --------------------------------------- */

/** Decoder flags (opes_mime_decoder.flags after a call: what was seen). */
enum opes_mime_decode_flag {
    OPES_MIME_DF_JUNK = 1u << 0,      /* base64: characters outside the alphabet
                                         other than CR and LF, or a "=" where no
                                         pad can be; ignored (RFC 2045 6.8) */
    OPES_MIME_DF_BAD_ESCAPE = 1u << 1,/* QP: "=" not followed by two hex digits or
                                         (white space and) a line end, passed
                                         through as written (RFC 2045 6.7 note (1)) */
    OPES_MIME_DF_LOWER_HEX = 1u << 2, /* QP: lower-case hex digits, accepted */
    OPES_MIME_DF_TRUNCATED = 1u << 3, /* base64: the input ended inside a quantum
                                         (its whole octets are still written) or
                                         with one "=" of two */
    OPES_MIME_DF_AFTER_PAD = 1u << 4  /* base64: data after the "=" padding: the
                                         end of the data (RFC 2045 6.8), ignored */
};

/**
 * An incremental decoder for one body: plain data, no allocation. Initialise
 * with opes_mime_decoder_init(); the members are private.
 */
typedef struct opes_mime_decoder {
    int cte;
    unsigned flags;
    uint32_t acc;
    unsigned nacc;
    unsigned state;
    char pending[4];
    unsigned npending;
} opes_mime_decoder;

/** Start decoding a body of the given encoding (enum opes_mime_cte; 7bit,
 *  8bit, binary, none and unknown copy). @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_mime_decoder_init(opes_mime_decoder *d, int cte);

/** Octets a decoder may hold between calls (quoted-printable holds white
 *  space until it knows whether a line end follows, RFC 2045 6.7 rule (3);
 *  a run longer than 32 octets is passed on whole, unstripped, as Python's
 *  binascii.a2b_qp passes every run: such a line is over the 76 columns of
 *  rule (5) anyway). */
#define OPES_MIME_DECODE_SLACK 40

/**
 * Decode the next piece of a body. Decoded data is never longer than the
 * input plus what was held from earlier calls, so the whole input is
 * consumed, and with eof what is held is written too, when cap >= in_len +
 * OPES_MIME_DECODE_SLACK; else as much as fits, *in_used says how much
 * (call again with the rest, and with eof until *in_used == in_len and
 * there was room for the flush). One input octet may release up to
 * OPES_MIME_DECODE_SLACK octets at once: a call with a smaller cap may
 * consume nothing. eof: this is the last piece; the end of the body ends
 * its last line, as the line end before a delimiter does (that line end is
 * the delimiter's, RFC 2046 5.1.1): quoted-printable drops white space at
 * the end (RFC 2045 6.7 rule 3) and takes a final "=" (and white space
 * after it) as a soft line break (rule 5), as Python's email does. The
 * output does not depend on how the body is split into pieces.
 * @return OPES_OK; OPES_EBAD_BASE64 / OPES_EBAD_QP only when
 *         decoder flags cannot express the damage (never for the tolerated
 *         cases listed in enum opes_mime_decode_flag); OPES_EINVAL.
 */
OPES_API opes_status opes_mime_decode(opes_mime_decoder *d, const char *in, size_t in_len,
                                      int eof, char *out, size_t cap, size_t *in_used,
                                      size_t *out_len);

/**
 * An incremental encoder to a 7-bit transfer encoding (base64 or
 * quoted-printable, RFC 2045 6.7, 6.8), lines of at most 76 characters, CRLF
 * line ends. Plain data; members private; opes_mime_encoder_init().
 */
typedef struct opes_mime_encoder {
    int cte;
    unsigned col;
    unsigned nacc;
    unsigned char acc[3];
    unsigned state;
    char held[4];
    unsigned nheld;
} opes_mime_encoder;

/** Start encoding (cte OPES_MIME_CTE_BASE64 or OPES_MIME_CTE_QP; QP treats
 *  the input as text with CRLF line ends). @return OPES_OK, OPES_EINVAL. */
OPES_API opes_status opes_mime_encoder_init(opes_mime_encoder *e, int cte);

/** Worst-case output size for in_len bytes of input (plus what the encoder
 *  holds and the final flush). */
OPES_API size_t opes_mime_encode_bound(const opes_mime_encoder *e, size_t in_len);

/**
 * Encode the next piece; eof flushes (and ends the last line with CRLF).
 * Consumes all of in when cap >= opes_mime_encode_bound(e, in_len), else
 * as much as fits (*in_used). Base64 ends with its padding and a CRLF;
 * quoted-printable ends with a soft line break ("=" CRLF) when its last line
 * is not empty, so the decoded data is exactly the input (a CRLF of the
 * input is a hard line break; a CR or LF alone is written =0D / =0A).
 * @return OPES_OK, OPES_ENOSPC (eof given and all of in consumed, but the
 *         final flush did not fit: call again with eof, no input and more
 *         room), OPES_EOVERFLOW, OPES_EINVAL.
 */
OPES_API opes_status opes_mime_encode(opes_mime_encoder *e, const char *in, size_t in_len,
                                      int eof, char *out, size_t cap, size_t *in_used,
                                      size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* OPES_MIME_H */
