/*
 * libopes — the OPES trace of a mail message (docs/opes-smtp.md 3, 4, 6;
 * RFC 3897 3, RFC 4236 4, RFC 4902 3.1): the header fields OPES-System and
 * OPES-Via, read and written, the processor's duties (record the trace
 * before the services run, check it afterwards, prepend its own block), a
 * reader for a whole header section, and the traced SMTP rejection reply.
 *
 *     trace-value  = [FWS] entry *( [FWS] "," [FWS] entry ) [FWS]
 *     entry        = agent-ref *( [FWS] ";" [FWS] parameter )
 *     agent-ref    = "<" absolute-URI ">" / bare-uri
 *     parameter    = param-name "=" param-value
 *     param-name   = ALPHA *( ALPHA / DIGIT / "-" )   ; case-insensitive
 *     param-value  = token / quoted-string
 *     token        = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "!" /
 *                        "$" / "&" / "'" / "*" / "^" / "`" / "|" / "#" / "%" )
 *
 * A bare URI ends at the first WSP, at the end of the value, or before a
 * "," or ";" followed by WSP or the end of the value (docs/opes-smtp.md 3.1):
 * "http://a.example/x;v=2" is one URI, "http://a.example/x; mode=A" a URI
 * with a parameter. "(" is data (there are no comments). Identifiers are
 * absolute-URIs (RFC 3986 4.3), checked with opes_uri_parse().
 *
 * Decisions:
 *  - Parsing works on a raw field body (opes_header_field.raw), folds
 *    included, or on an unfolded one: FWS is CRLF (or LF) followed by WSP.
 *    Only US-ASCII: an octet >= 0x80 is OPES_EBAD_TRACE (3.1).
 *  - A parameter name twice in one entry is OPES_EBAD_TRACE (3.1). Unknown
 *    parameters are kept and handed out (readers must ignore them, copies
 *    must keep them).
 *  - Builders write ids bare, or in "<>" when they contain "(", ")", "," or
 *    ";", with "; " before each parameter and ", " between entries; values
 *    as a token when they are one, else as a quoted-string with "\" before
 *    '"' and "\". Folding is opes_header_field_build()'s: at 78 columns,
 *    after a comma where possible, and never inside an identifier.
 *  - Limits (docs/opes-smtp.md 9): OPES_TRACE_MAX_ENTRIES entries per field,
 *    OPES_TRACE_MAX_FIELDS trace fields per message, identifiers of at most
 *    OPES_TRACE_MAX_ID octets as written.
 *
 * Mail/OPES layer: includes header.h (and reply.h for the traced reply).
 */
#ifndef OPES_TRACE_H
#define OPES_TRACE_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Entries in one OPES-System, OPES-Via or OPES-Bypass field: 256
 *  (docs/opes-smtp.md 9; RFC 3897 8.1 "large size traces"). */
#define OPES_TRACE_MAX_ENTRIES 256
/** Trace fields read per message: 1000 (docs/opes-smtp.md 9). For the
 *  reader, OPES fields; for opes_trace_begin()/verify(), every field it
 *  records (Return-Path, Received, OPES-System, OPES-Via). */
#define OPES_TRACE_MAX_FIELDS 1000
/** Parameters in one entry: 64 (no RFC number; bounds the duplicate-name
 *  check). Past it: OPES_ETOO_MANY_PARAMS. */
#define OPES_TRACE_MAX_PARAMS 64
/** Longest identifier as written, "<>" included when used: 984 octets, so
 *  that "OPES-System: " (13), the identifier and the "," or ";" after it
 *  fit one 998-octet line (RFC 5322 2.1.1): a URI cannot be folded. */
#define OPES_TRACE_MAX_ID 984

/* ---- parsing: entries and parameters ------------------------------------ */

/** One entry of a trace value. Views into the caller's value. */
typedef struct opes_trace_entry {
    opes_str id;     /* the agent identifier, without "<" ">" */
    int bracketed;   /* 1: written as "<" id ">" */
    opes_str params; /* from just after the agent-ref to the end of the last
                        parameter ("; a=b; c=d"), FWS included; empty when
                        there are none. Walk with opes_trace_param_next(). */
    size_t nparams;  /* number of parameters */
    size_t offset;   /* offset of the agent-ref ("<" included) in the value */
    size_t index;    /* 0-based position of the entry in the value */
} opes_trace_entry;

/** Where opes_trace_entry_next() is in a value. Start with {0, 0}. */
typedef struct opes_trace_cursor {
    size_t pos;   /* offset of the next byte to read */
    size_t count; /* entries handed out so far */
} opes_trace_cursor;

/** One parameter of an entry. Views into the caller's value. */
typedef struct opes_trace_param {
    opes_str name;  /* as written; compare case-insensitively */
    opes_str value; /* as written: the token, or the quoted-string with its
                       quotes (and any folds); see opes_trace_param_unquote() */
    int quoted;     /* 1: value is a quoted-string */
} opes_trace_param;

/**
 * The next entry of a trace value (docs/opes-smtp.md 3.1): the body of an
 * OPES-System or OPES-Via field, raw (folded) or unfolded.
 *
 *     opes_trace_cursor c = {0, 0};
 *     opes_trace_entry e;
 *     size_t err;
 *     while ((st = opes_trace_entry_next(val, len, &c, &e, &err)) == OPES_OK)
 *         use(e.id);
 *     if (st != OPES_ENOTFOUND) report(st, err);
 *
 * Each entry is checked whole before it is handed out: the agent-ref, the
 * identifier (an absolute-URI), every parameter, no name twice. The cursor
 * moves only on OPES_OK, so after an error every call returns it again.
 *
 * @param[in]     val  the value; need not be NUL-terminated
 * @param[in,out] cur  the cursor
 * @param[out]    entry  on OPES_OK, the entry (views into val)
 * @param[out]    err_offset  on a syntax or limit error, the offset in val of
 *                the offending byte (may be NULL)
 * @return OPES_OK; OPES_ENOTFOUND (no more entries; the value ended
 *         cleanly); OPES_EBAD_TRACE (no entry where one must be, e.g. an
 *         empty value or ", ,"; a "<" URI without its ">"; a bad parameter,
 *         a parameter name twice; a byte where "," / ";" / the end must be;
 *         a broken fold); OPES_EBAD_URI, OPES_EURI_NOT_ABSOLUTE,
 *         OPES_EURI_TOO_LONG (the identifier, err_offset inside it);
 *         OPES_ETOO_MANY_ITEMS (a 257th entry, at its first byte);
 *         OPES_ETOO_MANY_PARAMS (a 65th parameter in an entry, at its name);
 *         OPES_EINVAL (val NULL with len > 0, cur or entry NULL, cur->pos >
 *         len).
 */
OPES_API opes_status opes_trace_entry_next(const char *val, size_t len, opes_trace_cursor *cur,
                                           opes_trace_entry *entry, size_t *err_offset);

/**
 * The next parameter of an entry. Start with *pos = 0.
 * @param[out] p  on OPES_OK the parameter (views into the entry's value)
 * @return OPES_OK; OPES_ENOTFOUND (no more); OPES_EBAD_TRACE (entry->params
 *         does not come from opes_trace_entry_next()); OPES_EINVAL.
 */
OPES_API opes_status opes_trace_param_next(const opes_trace_entry *entry, size_t *pos,
                                           opes_trace_param *p);

/**
 * Find a parameter by name (NUL-terminated, compared case-insensitively).
 * @return OPES_OK (*p set); OPES_ENOTFOUND; OPES_EBAD_TRACE as for
 *         opes_trace_param_next(); OPES_EINVAL (a NULL argument).
 */
OPES_API opes_status opes_trace_param_find(const opes_trace_entry *entry, const char *name,
                                           opes_trace_param *p);

/**
 * A parameter's value: a token as it is; a quoted-string without its quotes,
 * its folds' line ends removed (RFC 5322 3.2.4: they are invisible; the WSP
 * stays) and each quoted-pair replaced by its character. Builder
 * convention (OPES_OK with *len written, OPES_ENOSPC with *len needed; dst
 * may be NULL iff cap is 0; no NUL written).
 * @return also OPES_EBAD_TRACE (a malformed quoted-string), OPES_EINVAL.
 */
OPES_API opes_status opes_trace_param_unquote(const opes_trace_param *p, char *dst, size_t cap,
                                              size_t *len);

/* ---- building values and fields ---------------------------------------- */

/** A parameter to write: name and unquoted value (views or constants). */
typedef struct opes_trace_pair {
    opes_str name;
    opes_str value;
} opes_trace_pair;

/** An entry to write. */
typedef struct opes_trace_item {
    opes_str id;                   /* the identifier, an absolute-URI, without "<>" */
    const opes_trace_pair *params; /* may be NULL iff nparams is 0 */
    size_t nparams;
} opes_trace_item;

/**
 * Build a trace value (docs/opes-smtp.md 3.1), unfolded: entries joined by
 * ", ", parameters preceded by "; ", ids bare or in "<>" (see above), values
 * as tokens or quoted-strings. Reading the output back with
 * opes_trace_entry_next() gives the same ids and parameters.
 * Builder convention: OPES_OK with *len written; OPES_ENOSPC with *len the
 * size needed; dst may be NULL iff cap is 0; no NUL written.
 * @return also OPES_EINJECT (CR, LF or NUL in an id, name or value);
 *         OPES_EBAD_URI / OPES_EURI_NOT_ABSOLUTE / OPES_EURI_TOO_LONG (an
 *         id); OPES_EURI_TOO_LONG also for an id over OPES_TRACE_MAX_ID as
 *         written; OPES_EBAD_TRACE (a name not param-name, a name twice in
 *         one item); OPES_EBAD_CHAR (a control character other than HTAB,
 *         or an octet >= 0x80, in a value); OPES_ETOO_MANY_ITEMS (n over
 *         OPES_TRACE_MAX_ENTRIES); OPES_ETOO_MANY_PARAMS (an item with
 *         more than OPES_TRACE_MAX_PARAMS); OPES_EINVAL (n 0, items NULL, a NULL
 *         pointer with a length).
 */
OPES_API opes_status opes_trace_value_build(char *dst, size_t cap, size_t *len,
                                            const opes_trace_item *items, size_t n);

/** Which field opes_trace_field_build() writes. */
enum opes_trace_field_kind {
    OPES_TRACE_FIELD_SYSTEM = 1, /* "OPES-System" */
    OPES_TRACE_FIELD_VIA = 2     /* "OPES-Via" */
};

/**
 * Build a whole OPES-System or OPES-Via field: exactly what
 * opes_header_field_build() makes of the name and the value of
 * opes_trace_value_build() (folded at 78 columns, after commas where
 * possible), without needing a buffer for the value.
 * @param kind   enum opes_trace_field_kind
 * @param flags  OPES_HEADER_LF (LF line ends instead of CRLF)
 * @return as opes_trace_value_build(), and OPES_EHEADER_LINE_TOO_LONG (a
 *         line cannot be kept within 998 octets: a value without WSP to fold
 *         at); OPES_EINVAL also for a bad kind or flag.
 */
OPES_API opes_status opes_trace_field_build(char *dst, size_t cap, size_t *len, int kind,
                                            const opes_trace_item *items, size_t n, unsigned flags);

/* ---- the processor's trace duties (docs/opes-smtp.md 4) ------------------ */

/** What a service did (the action parameter, docs/opes-smtp.md 3.3). */
enum opes_trace_action {
    OPES_TRACE_ACTION_NONE = 0,        /* "none": ran, changed nothing */
    OPES_TRACE_ACTION_MODIFIED = 1,    /* "modified" */
    OPES_TRACE_ACTION_REJECTED = 2,    /* "rejected" */
    OPES_TRACE_ACTION_QUARANTINED = 3, /* "quarantined" */
    OPES_TRACE_ACTION_REDIRECTED = 4,  /* "redirected" */
    OPES_TRACE_ACTION_BYPASSED = 5     /* "bypassed": not invoked */
};

/** Why a service ran or did not although bypass concerned it (3.3, 7). */
enum opes_trace_bypass {
    OPES_TRACE_BYPASS_NONE = 0,      /* no bypass concerned it */
    OPES_TRACE_BYPASS_REFUSED = 1,   /* "bypass=refused": not bypassable */
    OPES_TRACE_BYPASS_TOO_LATE = 2,  /* "bypass=too-late": acted before the request */
    OPES_TRACE_BYPASS_ALLOW_LIST = 3 /* "bypass-by=allow-list": bypassed out of band */
};

/** Who consented to the OPES system (the consent parameter, 3.2). */
enum opes_trace_consent {
    OPES_TRACE_CONSENT_UNSET = 0,
    OPES_TRACE_CONSENT_SENDER = 1,   /* "sender" */
    OPES_TRACE_CONSENT_RECIPIENT = 2 /* "recipient" */
};

/** How (the consent-by parameter, 3.2). */
enum opes_trace_consent_by {
    OPES_TRACE_CONSENT_BY_UNSET = 0,
    OPES_TRACE_CONSENT_BY_DIRECT = 1, /* "direct" */
    OPES_TRACE_CONSENT_BY_POLICY = 2  /* "policy" */
};

/** The lifecycle of one processor's trace for one message (opaque). */
typedef struct opes_trace opes_trace;

/**
 * Create a trace object with nothing set. Allocates the object.
 * @param[in] alloc  allocator for the object and everything it records, or
 *                   NULL for malloc; copied
 * @return OPES_OK; OPES_EINVAL (out NULL); OPES_ENOMEM.
 */
OPES_API opes_status opes_trace_new(opes_trace **out, const opes_allocator *alloc);

/** Release the object and every copy it holds (every view it gave out
 *  ends). NULL is a no-op. */
OPES_API void opes_trace_free(opes_trace *t);

/**
 * Forget the message: what begin(), service() and verify() recorded. The
 * settings (system, privacy, consent, processor, header flags) are kept for
 * the next message. Memory is kept for reuse. Views given out end.
 * NULL is a no-op.
 */
OPES_API void opes_trace_reset(opes_trace *t);

/**
 * Set the system's identifier (required before begin()): an absolute-URI,
 * copied (allocates). Only before begin() (or after reset()).
 * @return OPES_OK; OPES_EINJECT (CR, LF, NUL); the errors of
 *         opes_uri_parse(OPES_URI_ABSOLUTE); OPES_EURI_TOO_LONG (over
 *         OPES_TRACE_MAX_ID as written); OPES_ESTATE (after begin());
 *         OPES_ENOMEM (nothing changed); OPES_EINVAL.
 */
OPES_API opes_status opes_trace_set_system(opes_trace *t, const char *uri, size_t len);

/**
 * Set the privacy policy pointer (the privacy parameter, 3.2): a URI
 * (RFC 3986 3, a fragment allowed), copied; len 0 removes it. As
 * opes_trace_set_system() otherwise (a limit of OPES_TRACE_MAX_ID too).
 */
OPES_API opes_status opes_trace_set_privacy(opes_trace *t, const char *uri, size_t len);

/**
 * Record who consented and how (3.2; RFC 4902 5.1). The library records
 * what the caller declares; it does not know consent. UNSET omits the
 * parameter. Only before begin().
 * @return OPES_OK; OPES_EINVAL (a value out of range, t NULL); OPES_ESTATE.
 */
OPES_API opes_status opes_trace_set_consent(opes_trace *t, int party, int how);

/**
 * Set the processor's identifier (an entry with role=processor, 3.3; RFC
 * 3897 3.3 SHOULD); len 0 removes it. As opes_trace_set_system().
 */
OPES_API opes_status opes_trace_set_processor(opes_trace *t, const char *uri, size_t len);

/**
 * Header flags used to read the caller's header in begin() and verify()
 * (OPES_HEADER_LF, OPES_HEADER_UTF8, OPES_HEADER_8BIT) and, for
 * OPES_HEADER_LF, to end the lines emit() writes. Only before begin().
 * @return OPES_OK; OPES_EINVAL (unknown flags); OPES_ESTATE.
 */
OPES_API opes_status opes_trace_set_header_flags(opes_trace *t, unsigned flags);

/**
 * Record the trace of the message as received (docs/opes-smtp.md 4 rule 1):
 * copies of every Return-Path, Received, OPES-System and OPES-Via field,
 * byte for byte, in order. header holds the header section (it may go on
 * into the body: reading stops at the empty line; without one, the whole
 * of header is the section). Allocates. Call before the first service runs.
 * @return OPES_OK; OPES_ESTATE (no system set, or begin() already called:
 *         reset() first); OPES_ETOO_MANY_ITEMS (more than
 *         OPES_TRACE_MAX_FIELDS such fields); any error of
 *         opes_header_field_parse() (the header is malformed); OPES_ENOMEM.
 *         On error nothing is recorded and the state is unchanged.
 */
OPES_API opes_status opes_trace_begin(opes_trace *t, const char *header, size_t len);

/**
 * Record a service's entry after it returned (rule 2), in the order they
 * acted, skipped (bypassed) services included. The id is copied (allocates).
 * Invalidates an earlier verify(): verify again before emit().
 * @param action  enum opes_trace_action
 * @param bypass  enum opes_trace_bypass: REFUSED and TOO_LATE need an
 *                action other than BYPASSED (the service ran); ALLOW_LIST
 *                needs BYPASSED
 * @return OPES_OK; OPES_ESTATE (before begin()); OPES_ETOO_MANY_ITEMS (the
 *         OPES-Via field would pass OPES_TRACE_MAX_ENTRIES: the system, the
 *         processor, the services); the id errors of set_system();
 *         OPES_EINVAL (action or bypass out of range or not matching);
 *         OPES_ENOMEM.
 */
OPES_API opes_status opes_trace_service(opes_trace *t, const char *uri, size_t len, int action,
                                        int bypass);

/** What happened to a recorded field (opes_trace_damage.kind). */
enum opes_trace_damage_kind {
    OPES_TRACE_DAMAGE_DELETED = 1, /* gone */
    OPES_TRACE_DAMAGE_ALTERED = 2, /* a field of its name stands in its place, other bytes */
    OPES_TRACE_DAMAGE_MOVED = 3    /* present, byte-identical, out of order */
};

/** One damaged recorded field. Views into the object's copies: valid until
 *  the next begin(), reset() or free(). */
typedef struct opes_trace_damage {
    int kind;          /* enum opes_trace_damage_kind */
    size_t index;      /* the recorded field's position, 0 = topmost */
    opes_str name;     /* its name */
    opes_str original; /* the field as recorded, name through line end */
    uint64_t offset;   /* ALTERED: offset in the verified header of the field
                          that replaced it; MOVED: of the field; DELETED:
                          UINT64_MAX */
} opes_trace_damage;

/**
 * Check the trace (rule 3): every recorded field must still be in header,
 * byte-identical, in the same relative order. Fields added anywhere (above,
 * between, below) are fine. The damage list is replaced by this call's.
 *
 * Matching: intact when the recorded fields appear in header byte for byte
 * in their order, whatever lies between them (a copy of a recorded field
 * added anywhere, such as the system's own OPES-System field identical to
 * an older one, is an addition too). Otherwise, to name the damage, each
 * recorded field is paired with an identical field of the header (the
 * n-th identical copy for the n-th recorded one); the largest
 * set of pairs in recorded order stays, the other pairs are MOVED. An
 * unpaired recorded field is ALTERED when an unpaired field of the same name
 * stands between its kept neighbours (first come, first paired), else
 * DELETED.
 *
 * @return OPES_OK (intact; emit() allowed); OPES_ETRACE_TAMPERED (see
 *         opes_trace_damage_count()/_get()); OPES_ESTATE (before begin());
 *         OPES_ETOO_MANY_ITEMS (more than OPES_TRACE_MAX_FIELDS trace
 *         fields in header); any error of opes_header_field_parse(); for
 *         these last two the damage list is empty and emit() is refused.
 */
OPES_API opes_status opes_trace_verify(opes_trace *t, const char *header, size_t len);

/** Number of damaged fields found by the last verify() (0 for NULL). */
OPES_API size_t opes_trace_damage_count(const opes_trace *t);

/** The i-th damaged field, in recorded order.
 *  @return OPES_OK; OPES_ENOTFOUND (i out of range); OPES_EINVAL. */
OPES_API opes_status opes_trace_damage_get(const opes_trace *t, size_t i, opes_trace_damage *d);

/** Number of fields begin() recorded (0 for NULL). */
OPES_API size_t opes_trace_recorded_count(const opes_trace *t);

/**
 * The i-th recorded field (0 = topmost), as a restore needs it (rule 3):
 * the whole field, name through line end. Views into the object's copy,
 * valid until the next begin(), reset() or free().
 * @return OPES_OK; OPES_ENOTFOUND; OPES_EINVAL.
 */
OPES_API opes_status opes_trace_recorded_get(const opes_trace *t, size_t i, opes_str *name,
                                             opes_str *whole);

/**
 * Write the trace block (rule 4, docs/opes-smtp.md 3.5): the OPES-System
 * field (the system id with privacy, consent, consent-by when set), then,
 * when a processor or a service is recorded, the OPES-Via field (the system
 * id, the processor with role=processor, the services with action and
 * bypass/bypass-by). The caller writes it before the message's first byte.
 * Lines end with CRLF, or LF with OPES_HEADER_LF in flags or the header
 * flags. Does not allocate; may be called again (a size query first).
 * Builder convention.
 * @return OPES_OK; OPES_ENOSPC; OPES_ESTATE (before begin(); a service was
 *         recorded and no successful verify() since: rule 3 is a MUST);
 *         OPES_EHEADER_LINE_TOO_LONG; OPES_EINVAL.
 */
OPES_API opes_status opes_trace_emit(opes_trace *t, char *dst, size_t cap, size_t *len,
                                     unsigned flags);

/* ---- reading the trace of a whole header ------------------------------- */

/** Event types of the reader (opes_trace_event.type). */
enum opes_trace_event_type {
    OPES_TRACE_EV_SYSTEM = 1, /* an entry of an OPES-System field */
    OPES_TRACE_EV_VIA = 2,    /* an entry of an OPES-Via field (role says which) */
    OPES_TRACE_EV_BYPASS = 3, /* an item of an OPES-Bypass field ("*" or an id) */
    OPES_TRACE_EV_ERROR = 4   /* a problem: status, offset, field */
};

/** What an entry names (opes_trace_event.role). */
enum opes_trace_role {
    OPES_TRACE_ROLE_UNKNOWN = 0,   /* an OPES-Via entry with an unknown role value */
    OPES_TRACE_ROLE_SYSTEM = 1,    /* an OPES-System entry, or an OPES-Via field's first entry */
    OPES_TRACE_ROLE_PROCESSOR = 2, /* role=processor */
    OPES_TRACE_ROLE_SERVICE = 3    /* role=service, or no role parameter */
};

/**
 * One event of the reader. Views into the caller's header, valid while it
 * keeps those bytes.
 */
typedef struct opes_trace_event {
    int type;               /* enum opes_trace_event_type */
    int role;               /* SYSTEM, VIA: enum opes_trace_role */
    opes_trace_entry entry; /* SYSTEM, VIA, BYPASS: the entry (offsets relative
                               to the field body); for "*", id is "*" */
    opes_str system;        /* VIA: the id of the field's first entry (its
                               system); SYSTEM: the entry's id */
    opes_str field_name;    /* the field's name (also for ERROR, when known) */
    size_t field;           /* 0-based index of the field in the header */
    size_t block;           /* SYSTEM, VIA: 0-based number of the OPES-System
                               field the entry belongs to, counted from the top
                               (the newest); SIZE_MAX for a VIA field with no
                               OPES-System field above */
    uint64_t offset;        /* offset in the header: of the agent-ref, or for
                               ERROR of the offending byte */
    int status;             /* ERROR: the status; else OPES_OK */
} opes_trace_event;

/** The reader (opaque): no allocation after creation. */
typedef struct opes_trace_reader opes_trace_reader;

/** Size of an opes_trace_reader, for opes_trace_reader_init_in(). */
OPES_API size_t opes_trace_reader_sizeof(void);
/** Create a reader. @return OPES_OK, OPES_EINVAL, OPES_ENOMEM. */
OPES_API opes_status opes_trace_reader_new(opes_trace_reader **out, const opes_allocator *alloc);
/** Create a reader in caller memory (opes_trace_reader_sizeof() bytes,
 *  aligned as malloc aligns); _free() on it is a no-op.
 *  @return OPES_OK; OPES_EINVAL (NULL, too small). */
OPES_API opes_status opes_trace_reader_init_in(void *mem, size_t len, opes_trace_reader **out);
/** Release a reader made by _new(). NULL is a no-op. */
OPES_API void opes_trace_reader_free(opes_trace_reader *r);

/**
 * Start reading a header section (it may go on into the body: reading stops
 * at the empty line). The header is the caller's and must stay unchanged
 * while the reader walks it.
 * @param flags  header parse flags (OPES_HEADER_LF, _UTF8, _8BIT)
 * @return OPES_OK; OPES_EINVAL (r NULL, header NULL with len > 0, flags).
 */
OPES_API opes_status opes_trace_reader_start(opes_trace_reader *r, const char *header, size_t len,
                                             unsigned flags);

/**
 * The next event, top-down (docs/opes-smtp.md 3.6 validity is checked on the
 * way): each entry of each OPES-System and OPES-Via field and each item of
 * each OPES-Bypass field, in header order; an ERROR for each problem,
 * after which the reader goes on with the next field:
 *  - an entry that does not parse (the status of opes_trace_entry_next() or
 *    OPES_EBAD_TRACE for OPES-Bypass): the rest of that field is skipped;
 *  - an OPES-Via field whose first entry names (opes_uri_equal()) no entry
 *    of the nearest OPES-System field above it, or with none above:
 *    OPES_EBAD_TRACE at that entry, given before the entry's VIA event;
 *  - more than OPES_TRACE_MAX_FIELDS OPES fields: OPES_ETOO_MANY_ITEMS, and
 *    reading ends;
 *  - a malformed header: the status of opes_header_field_parse(), and
 *    reading ends (the next field cannot be found reliably).
 * The trace is valid (3.6) when the walk gives no ERROR.
 *
 * The path reads bottom-up (3.5): the newest system is block 0. For
 * oldest-first, take the blocks from the highest number down to 0; within a
 * block the OPES-Via entries come in the order they acted.
 *
 * @return OPES_OK (*ev set); OPES_ENOTFOUND (the end; again on every later
 *         call); OPES_ESTATE (not started); OPES_EINVAL.
 */
OPES_API opes_status opes_trace_reader_next(opes_trace_reader *r, opes_trace_event *ev);

/** Stable snake_case name of an event type ("system", "via", "bypass",
 *  "error"), or NULL. Static. */
OPES_API const char *opes_trace_event_name(int type);
/** Stable name of an action ("none", "modified", ...), or NULL. Static. */
OPES_API const char *opes_trace_action_name(int action);
/**
 * The action of an OPES-Via entry: the value of its action parameter as an
 * enum opes_trace_action.
 * @return OPES_OK; OPES_ENOTFOUND (no action parameter, or an unknown value:
 *         *action is then -1); OPES_EINVAL.
 */
OPES_API opes_status opes_trace_entry_action(const opes_trace_entry *entry, int *action);

/* ---- traced SMTP rejection (docs/opes-smtp.md 6; RFC 4902 3.1) ---------- */

/** Flags of opes_trace_reply_build(). */
enum opes_trace_reply_flag {
    /** The deciding service may be bypassed: the last line says how to ask
     *  ("This service may be bypassed: see OPES-Bypass or XOPES-BYPASS")
     *  instead of repeating the text. */
    OPES_TRACE_REPLY_BYPASSABLE = 1u << 0
};

/**
 * Build a traced rejection (docs/opes-smtp.md 6): a multi-line reply whose
 * lines all carry code and enhanced (RFC 5321 4.2.1, RFC 2034 4):
 *
 *     550-5.7.1 <text>
 *     550-5.7.1 OPES-System: <system>
 *     550-5.7.1 OPES-Via: <service>          (one per service)
 *     550 5.7.1 <text again, or the bypass hint>
 *
 * Ids are written as in a trace value (bare or "<>") and never split: an
 * id whose line would pass 512 octets with CRLF (RFC 5321 4.5.3.1.5) is
 * refused. The text is not wrapped either (docs/opes-smtp.md 6: one line):
 * a text whose line would pass 512 octets is refused. At most 128 lines in all (the default OPES_LIMIT_REPLY_LINES of a
 * client). Goes through opes_reply_build(). Builder convention.
 * @param code      4xx or 5xx (a traced rejection)
 * @param enhanced  NUL-terminated RFC 3463 code of code's class, or NULL/""
 * @param text      the reason (textstring), not empty
 * @param system    the system's id (absolute-URI)
 * @param services  nservices ids (absolute-URIs) of the deciding services;
 *                  may be NULL iff nservices is 0
 * @return OPES_OK; OPES_ENOSPC; OPES_EINJECT; OPES_EBAD_CHAR (text);
 *         OPES_EBAD_ENHANCED_CODE; the URI errors of an id;
 *         OPES_EREPLY_TOO_LONG (an id's or the text's line over 512
 *         octets with CRLF);
 *         OPES_ETOO_MANY_LINES; OPES_EINVAL (code not 4xx/5xx, empty text,
 *         NULL with a length, unknown flags).
 */
OPES_API opes_status opes_trace_reply_build(char *dst, size_t cap, size_t *len, int code,
                                            const char *enhanced, const char *text, size_t text_len,
                                            const char *system, size_t system_len,
                                            const opes_str *services, size_t nservices,
                                            unsigned flags);

#ifdef __cplusplus
}
#endif
#endif /* OPES_TRACE_H */
