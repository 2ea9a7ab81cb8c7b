/*
 * libopes — the header section of a message (RFC 5322 2.1, 2.2, 3.6, 4.5;
 * RFC 6532 for UTF-8): a streaming scanner that finds the end of the header
 * across arbitrary chunks and hands out each field as views, without a copy
 * and without ever needing the body in memory; a unit parser for one field;
 * unfolding; and a builder that folds long values at 78 columns.
 *
 *     fields       = *(field-name *WSP ":" field-body CRLF)   ; 3.6, 4.5 obs-optional
 *     field-name   = 1*ftext
 *     ftext        = %d33-57 / %d59-126       ; printable US-ASCII except ":"
 *     field-body   = lines joined by folding: CRLF followed by WSP (2.2.3)
 *     message      = fields [CRLF body]       ; the empty line ends the header
 *
 * Decisions (strict is the default; every tolerance is a flag and is
 * reported in the field's flags):
 *  - Lines end with CRLF. A bare CR is OPES_EBARE_CR; a bare LF is
 *    OPES_EBARE_LF unless OPES_HEADER_LF (files on Unix), which makes LF and
 *    CRLF both end a line (OPES_HDRF_LF). NUL anywhere is OPES_EBAD_CHAR.
 *  - Obsolete syntax, which RFC 5322 4 says receivers MUST accept, is
 *    accepted and flagged: WSP between the name and the colon (4.5,
 *    obs-optional), continuation lines made only of WSP (4.2, obs-FWS),
 *    US-ASCII control characters in a body (4.1, obs-utext; NUL excepted).
 *  - Octets >= 0x80 in a body: OPES_EBAD_CHAR by default; well-formed UTF-8
 *    with OPES_HEADER_UTF8 (RFC 6532 3.2; ill-formed: OPES_EBAD_UTF8); any
 *    octet with OPES_HEADER_8BIT (lenient). Field names stay ASCII in every
 *    mode (RFC 6532 3).
 *  - Lines are at most 998 octets excluding the line end (RFC 5322 2.1.1,
 *    RFC 6532 3.4: octets): OPES_EHEADER_LINE_TOO_LONG. A scanner may raise
 *    the limit for lenient use. A whole field, the whole section and the
 *    number of fields are limited too.
 *  - A field ends when the first byte of the next line is seen and is not
 *    WSP, or at the end of the input. The empty line ends the header section;
 *    the end of the input without one means the message has no body (RFC
 *    5322 3.5: the body is optional), which is reported, not refused. The
 *    last line of a field must still end with a line end.
 *
 * Views: every opes_str handed out points into the caller's buffer and lives
 * as long as the caller keeps those bytes.
 *
 * Prepending fields (trace fields, RFC 5322 3.6.7, RFC 5321 4.4) never needs
 * the body: write the new fields (opes_header_field_build()), then pass the
 * original message on unchanged; the scanner only tells where its header
 * ends, if that is wanted at all. See docs/mail.md.
 */
#ifndef OPES_HEADER_H
#define OPES_HEADER_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parse and build flags (opes_header_field_parse(),
 *  opes_header_scanner_set_flags(), opes_header_field_build()). */
enum opes_header_flag {
    /** Parsing: a bare LF ends a line as CRLF does (files on Unix, LMTP
     *  spools); reported as OPES_HDRF_LF. Risk: none inside a file; never
     *  use it on bytes read from SMTP, where bare LF is smuggling material.
     *  Building: end lines with LF instead of CRLF. */
    OPES_HEADER_LF = 1u << 0,
    /** RFC 6532: well-formed UTF-8 in field bodies (an SMTPUTF8 message).
     *  Parsing: ill-formed UTF-8 is OPES_EBAD_UTF8. Building: required for
     *  any octet >= 0x80 in a value, which must be well-formed UTF-8; the 78
     *  columns count characters, the 998 limit octets (RFC 6532 3.4). */
    OPES_HEADER_UTF8 = 1u << 1,
    /** Parsing only, lenient: any octet >= 0x80 in a body (legacy 8-bit
     *  mail). Well-formed UTF-8 is reported as OPES_HDRF_UTF8, anything
     *  else as OPES_HDRF_8BIT. Overrides OPES_HEADER_UTF8. Risk: the bytes
     *  are in an unknown charset. */
    OPES_HEADER_8BIT = 1u << 2
};

/** What a parsed field holds (opes_header_field.flags). */
enum opes_header_field_flag {
    /** WSP between the field name and the colon (RFC 5322 4.5
     *  obs-optional); name excludes it. MUST NOT be generated. */
    OPES_HDRF_WSP_BEFORE_COLON = 1u << 0,
    /** A continuation line made only of WSP (RFC 5322 4.2 obs-FWS). */
    OPES_HDRF_WSP_LINE = 1u << 1,
    /** A line of the field (or the empty line) ended with a bare LF
     *  (OPES_HEADER_LF). */
    OPES_HDRF_LF = 1u << 2,
    /** Octets >= 0x80 forming well-formed UTF-8 (RFC 6532). */
    OPES_HDRF_UTF8 = 1u << 3,
    /** Octets >= 0x80 that are not well-formed UTF-8 (OPES_HEADER_8BIT). */
    OPES_HDRF_8BIT = 1u << 4,
    /** US-ASCII control characters other than HTAB, CR, LF and NUL in the
     *  body (RFC 5322 4.1 obs-NO-WS-CTL: %d1-8, 11, 12, 14-31, 127). */
    OPES_HDRF_OBS_CTL = 1u << 5
};

/** What opes_header_field_parse() found (opes_header_field.kind). */
enum opes_header_kind {
    /** A header field. */
    OPES_HEADER_KIND_FIELD = 1,
    /** The empty line that ends the header section; whole is that line
     *  (CRLF, or LF with OPES_HDRF_LF). The body follows it. */
    OPES_HEADER_KIND_END = 2,
    /** The end of the input (eof set, no byte left) where a field or the
     *  empty line would start: the message has no body. used is 0. */
    OPES_HEADER_KIND_EOF = 3
};

/**
 * One header field. The opes_str members are views into the caller's
 * buffer, valid while the caller keeps those bytes.
 */
typedef struct opes_header_field {
    int kind;              /* enum opes_header_kind */
    opes_str name;         /* the field name, without WSP before the colon */
    opes_str raw;          /* the field body as on the wire: from after the colon up
                              to, not including, the final line end; the line ends
                              of folds are included. Unfold with
                              opes_header_unfold(). */
    opes_str whole;        /* the whole field, name through final line end, for
                              byte-exact copying; for KIND_END the empty line */
    uint64_t offset;       /* offset of whole.ptr[0]: 0 from
                              opes_header_field_parse(), a stream offset from the
                              scanner */
    size_t lines;          /* physical lines: 1 + continuation lines */
    unsigned flags;        /* enum opes_header_field_flag */
    uint64_t error_offset; /* on error: the offset of the offending byte (in
                              buf, resp. in the stream); see each status */
} opes_header_field;

/**
 * Parse the header field (or the empty line) at the start of buf (RFC 5322
 * 2.2, 2.2.3, 3.6.8, 4.5), with the default limits: lines of 998 octets
 * excluding the line end, fields of 65536 octets in all. For other limits,
 * a count limit and a section limit, use the scanner.
 *
 * A field is complete only when the first byte of the line after it is there
 * and is not WSP, or when eof is set: until then OPES_INCOMPLETE. Bytes are
 * checked in order and the first offending one decides the status, so the
 * result never depends on how much of the input is in buf.
 *
 * @param[in]  buf   header bytes; need not be NUL-terminated; may be NULL
 *                   iff len is 0
 * @param[in]  flags OPES_HEADER_LF, OPES_HEADER_UTF8, OPES_HEADER_8BIT
 * @param[in]  eof   nonzero: buf holds all that is left of the input
 * @param[out] out   OPES_OK: the field, the empty line (KIND_END) or the end
 *                   of the input (KIND_EOF); views into buf. On a syntax or
 *                   limit error, out->error_offset (offset in buf).
 * @param[out] used  OPES_OK: bytes of the field including its final line
 *                   end, or of the empty line; 0 for KIND_EOF, on
 *                   OPES_INCOMPLETE and on error (nothing is consumed)
 * @return OPES_OK; OPES_INCOMPLETE (not eof, and the field, or the byte after
 *         it, is not all there); OPES_EBAD_HEADER (a line without a colon,
 *         error_offset at its start; a continuation line where a field must
 *         start, at 0; the input ending inside a line, at len);
 *         OPES_EBAD_HEADER_NAME (an empty name or a byte other than ftext
 *         before the colon, or other than WSP between the name and the
 *         colon: at that byte); OPES_EBAD_CHAR (NUL anywhere; another byte
 *         a body may not hold, e.g. 8-bit without a flag); OPES_EBAD_UTF8
 *         (OPES_HEADER_UTF8: ill-formed, at the first byte of the sequence);
 *         OPES_EBARE_CR; OPES_EBARE_LF (without OPES_HEADER_LF);
 *         OPES_EHEADER_LINE_TOO_LONG (a line over 998 octets excluding its
 *         end: at its 999th octet); OPES_EHEADER_TOO_LONG (the field over
 *         65536 octets: at the first octet past it); OPES_EINVAL (out or used
 *         NULL, buf NULL with len > 0, unknown flags).
 */
OPES_API opes_status opes_header_field_parse(const char *buf, size_t len, unsigned flags, int eof,
                                             opes_header_field *out, size_t *used);

/**
 * Whether the field's name equals name, compared case-insensitively (ASCII
 * folding; RFC 5322 1.2.2: field names in the grammar are case-insensitive).
 * @param[in] f     a field (NULL: 0)
 * @param[in] name  a NUL-terminated name, without the colon (NULL: 0)
 * @return 1 if equal, else 0.
 */
OPES_API int opes_header_name_eq(const opes_header_field *f, const char *name);

/**
 * Unfold a field body (RFC 5322 2.2.3: "Unfolding is accomplished by simply
 * removing any CRLF that is immediately followed by WSP"), then remove the
 * WSP at its start and end. A line end may be CRLF or LF (as
 * OPES_HEADER_LF parses it). Runs of WSP are kept as they are; nothing is
 * decoded (no RFC 2047 encoded-words).
 *
 * Writes into dst[0..cap) (snprintf-style: the size query dst NULL, cap 0
 * and the real write give the same *len). The output holds no CR or LF. It
 * is never longer than raw, so dst may be raw's own buffer only if it does
 * not overlap it (it must not).
 *
 * @param[in] raw  a field body, e.g. opes_header_field.raw
 * @return OPES_OK (*len = bytes written); OPES_ENOSPC (*len = bytes needed);
 *         OPES_EBARE_CR (a CR not followed by LF); OPES_EBAD_HEADER (a line
 *         end not followed by WSP: not a fold); OPES_EINVAL (len NULL, dst
 *         NULL with cap > 0, raw NULL with raw_len > 0).
 */
OPES_API opes_status opes_header_unfold(char *dst, size_t cap, size_t *len, const char *raw,
                                        size_t raw_len);

/**
 * Build one header field: name ":" SP value and a line end (CRLF, or LF
 * with OPES_HEADER_LF); "name:" and the line end for an empty value.
 *
 * Long lines are folded (RFC 5322 2.2.3) by inserting a line end before a
 * WSP already in the value, so that unfolding gives the value back byte for
 * byte. Lines are kept within 78 characters where the value allows (RFC 5322
 * 2.1.1 SHOULD), preferring a fold right after a comma (the 2.2.3 note on
 * comma-separated values), else the last place that fits. A fold goes only
 * before the first WSP of a run that has a non-WSP octet after it, so no
 * line is made only of WSP (RFC 5322 4.2: obs-FWS is not generated) and no
 * line ends in WSP because of a fold. A line that cannot be brought within
 * 998 octets (no WSP to fold at) is an error, never a long line. Nothing is
 * encoded: the caller picks the syntax (RFC 2047 encoded-words, RFC 6532
 * UTF-8) and gives a value that is already valid for its field.
 *
 * @param[in] name   the field name, 1*ftext (RFC 5322 3.6.8)
 * @param[in] value  the unfolded field body, without CR, LF or NUL; leading
 *                   and trailing WSP are kept
 * @param[in] flags  OPES_HEADER_LF, OPES_HEADER_UTF8
 * @return OPES_OK (*len = bytes written); OPES_ENOSPC (*len = bytes needed,
 *         dst contents unspecified); OPES_EINJECT (CR, LF or NUL in name or
 *         value); OPES_EBAD_HEADER_NAME (empty, or a byte other than ftext);
 *         OPES_EBAD_CHAR (a control character other than HTAB in the value,
 *         or an octet >= 0x80 without OPES_HEADER_UTF8); OPES_EBAD_UTF8
 *         (ill-formed UTF-8); OPES_EHEADER_LINE_TOO_LONG (a line would be
 *         over 998 octets excluding the line end); OPES_EOVERFLOW; OPES_EINVAL
 *         (len NULL, dst NULL with cap > 0, name or value NULL with a
 *         nonzero length, unknown flags).
 */
OPES_API opes_status opes_header_field_build(char *dst, size_t cap, size_t *len, const char *name,
                                             size_t name_len, const char *value, size_t value_len,
                                             unsigned flags);

/* ---- the scanner: a push parser over the header section ----------------- */

/** Limits of a scanner (opes_header_scanner_set_limit()). */
enum opes_header_limit {
    /** Octets of one line excluding its line end: 998 (RFC 5322 2.1.1,
     *  RFC 6532 3.4). Raising it is a leniency (RFC 5322 2.1.1: receivers
     *  "would do well to handle an arbitrarily large number of characters in
     *  a line"). Past it: OPES_EHEADER_LINE_TOO_LONG. */
    OPES_HEADER_LIMIT_LINE = 0,
    /** Octets of one field, all its lines and line ends: 65536; no RFC
     *  number. Past it: OPES_EHEADER_TOO_LONG. The caller's buffer must hold
     *  this many octets plus one (the first byte of the next line). */
    OPES_HEADER_LIMIT_FIELD = 1,
    /** Fields in the section (count): 2000; no RFC number. Past it:
     *  OPES_ETOO_MANY_ITEMS. */
    OPES_HEADER_LIMIT_FIELDS = 2,
    /** Octets of the whole section, the empty line included: 1 MiB; no RFC
     *  number. Past it: OPES_EHEADER_TOO_LONG. */
    OPES_HEADER_LIMIT_SECTION = 3,
    OPES_HEADER_LIMIT__COUNT = 4
};

/* Compile-time ceilings: a limit may be lowered or raised up to these. */
#define OPES_MAX_HEADER_LINE 65536
#define OPES_MAX_HEADER_FIELD (1024 * 1024)
#define OPES_MAX_HEADER_FIELDS 100000
#define OPES_MAX_HEADER_SECTION (64 * 1024 * 1024)

/** How the header section ended (opes_header_event.end). */
enum opes_header_end {
    /** The empty line: the body starts after it (it may be empty). */
    OPES_HEADER_END_EMPTY_LINE = 1,
    /** The end of the input without an empty line: no body (RFC 5322 3.5
     *  makes the body optional; the empty line goes with it). */
    OPES_HEADER_END_EOF = 2
};

/** Scanner event types (opes_header_event.type). Values are stable. */
enum opes_header_event_type {
    /** No event: more bytes are needed (the call returned OPES_INCOMPLETE). */
    OPES_HEADER_EV_NONE = 0,
    /** A field: in field. */
    OPES_HEADER_EV_FIELD = 1,
    /** The end of the header section: offset is the stream offset of the
     *  body's first byte, end says how it ended. */
    OPES_HEADER_EV_END = 2,
    /** An error (the call's status): offset is the stream offset of the
     *  offending byte. */
    OPES_HEADER_EV_ERROR = 3
};

/**
 * One scanner event. Only the members of its type are meaningful; the
 * others are 0. field's views point into the buffer given to the call that
 * returned it and live as long as those bytes.
 */
typedef struct opes_header_event {
    int type;                /* enum opes_header_event_type */
    opes_header_field field; /* FIELD: the field (field.offset a stream
                                offset); END after an empty line: that line
                                (kind OPES_HEADER_KIND_END) */
    uint64_t offset;         /* FIELD: the field's stream offset; END: the
                                body's; ERROR: the offending byte's */
    int end;                 /* END: enum opes_header_end */
    size_t count;            /* FIELD: its number, from 1; END: the number of
                                fields in the section */
} opes_header_event;

/** Stable snake_case name of an event type ("none", "field", "end",
 *  "error"), for logs and JSON; NULL for an unknown value. Static. */
OPES_API const char *opes_header_event_name(int type);

/** The header scanner (opaque). */
typedef struct opes_header_scanner opes_header_scanner;

/** Size in bytes of an opes_header_scanner, for opes_header_scanner_init_in(). */
OPES_API size_t opes_header_scanner_sizeof(void);

/**
 * Create a scanner at the start of a message: flags 0 (strict), the default
 * limits (enum opes_header_limit).
 * @param[out] out   the scanner; release with opes_header_scanner_free()
 * @param[in]  alloc allocator for the object, or NULL for malloc
 * @return OPES_OK, OPES_EINVAL (out NULL), OPES_ENOMEM.
 */
OPES_API opes_status opes_header_scanner_new(opes_header_scanner **out,
                                             const opes_allocator *alloc);

/**
 * The same as opes_header_scanner_new() in caller memory: mem must hold
 * opes_header_scanner_sizeof() bytes, aligned for any object (as malloc
 * gives). opes_header_scanner_free() on such a scanner is a no-op.
 * @return OPES_OK, OPES_EINVAL (mem or out NULL, len too small).
 */
OPES_API opes_status opes_header_scanner_init_in(void *mem, size_t len, opes_header_scanner **out);

/** Release a scanner made by opes_header_scanner_new(). NULL is a no-op. */
OPES_API void opes_header_scanner_free(opes_header_scanner *s);

/**
 * Start a new message: state, counts, offsets and a sticky error are
 * cleared; flags and limits are kept.
 * @return OPES_OK, OPES_EINVAL (s NULL).
 */
OPES_API opes_status opes_header_scanner_reset(opes_header_scanner *s);

/**
 * Set the parse flags (OPES_HEADER_LF, OPES_HEADER_UTF8, OPES_HEADER_8BIT).
 * Only at the start of a message (after _new or _reset, before the first
 * byte), so one message is read under one rule.
 * @return OPES_OK; OPES_EINVAL (s NULL, unknown flags); OPES_ESTATE.
 */
OPES_API opes_status opes_header_scanner_set_flags(opes_header_scanner *s, unsigned flags);

/**
 * Set a limit (enum opes_header_limit), lowered or raised up to its ceiling
 * (OPES_MAX_HEADER_*). Only at the start of a message.
 * @return OPES_OK; OPES_EINVAL (s NULL, unknown limit, value 0 (the field
 *         count may be 0)); OPES_ECEILING (over the ceiling, limit
 *         unchanged); OPES_ESTATE.
 */
OPES_API opes_status opes_header_scanner_set_limit(opes_header_scanner *s, int limit, size_t value);

/**
 * Scan the header section (RFC 5322 2.1, 2.2, 3.5): hand out each field and
 * then the end of the section.
 *
 * buf holds the bytes not consumed yet: the caller's unconsumed bytes of the
 * previous call, re-presented unchanged, with whatever has arrived since
 * appended. Each call returns at most one event and consumes exactly that
 * event's bytes: a field with its final line end, or the empty line. When no
 * event is possible yet, nothing is consumed and OPES_INCOMPLETE is returned;
 * the caller appends more and calls again (its buffer must be able to hold
 * OPES_HEADER_LIMIT_FIELD + 1 octets). Work already done on the unconsumed
 * bytes is remembered, so feeding a long field in small pieces costs no more
 * than feeding it at once. Set eof when buf holds everything left of the
 * input: a field at its end is then complete, and the end of the input where
 * a field could start is the end of the section without a body.
 *
 * Events and offsets (stream offsets: 0 is the first byte of the message)
 * do not depend on how the input is split. After END, the bytes after the
 * empty line (the body) are the caller's: the scanner never needs them; it
 * then refuses more calls until opes_header_scanner_reset(). An error is
 * sticky: every later call returns it again, with the same offset.
 *
 * @param[in]  buf   the unconsumed bytes; NULL iff len is 0
 * @param[in]  eof   nonzero: buf holds all that is left of the input
 * @param[out] used  bytes of buf consumed (<= len): the event's bytes, or 0
 * @param[out] ev    the event
 * @return OPES_OK (FIELD or END); OPES_INCOMPLETE (ev NONE, *used 0); a
 *         status of opes_header_field_parse() with ev ERROR and the stream
 *         offset (the limits are the scanner's); OPES_EHEADER_TOO_LONG also
 *         for the section over OPES_HEADER_LIMIT_SECTION; OPES_ETOO_MANY_ITEMS
 *         (more fields than OPES_HEADER_LIMIT_FIELDS: at the first field
 *         past it); OPES_ESTATE (END was returned: reset first; *used 0, ev
 *         NONE); OPES_EINVAL (s, used or ev NULL, buf NULL with len > 0).
 */
OPES_API opes_status opes_header_scan(opes_header_scanner *s, const char *buf, size_t len, int eof,
                                      size_t *used, opes_header_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* OPES_HEADER_H */
