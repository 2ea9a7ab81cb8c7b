/*
 * libopes — SMTP paths and mailboxes (RFC 5321 4.1.2, 4.1.3, 4.5.3.1;
 * RFC 6531 3.3 for UTF-8 mailboxes).
 */
#ifndef OPES_PATH_H
#define OPES_PATH_H

#include "common.h"
#include "status.h"
#include "smtp_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a path is (opes_path.kind). */
enum opes_path_kind {
    OPES_PATH_NULL = 0,       /* "<>": the null reverse-path */
    OPES_PATH_POSTMASTER = 1, /* "<Postmaster>" without a domain (RCPT only) */
    OPES_PATH_MAILBOX = 2     /* Local-part "@" ( Domain / address-literal ) */
};

/** What the part after "@" is (opes_path.domain_kind). */
enum opes_domain_kind {
    OPES_DOMAIN_NONE = 0,    /* null path or <Postmaster> */
    OPES_DOMAIN_NAME = 1,    /* Domain (LDH labels; U-labels with SMTPUTF8) */
    OPES_DOMAIN_IPV4 = 2,    /* [IPv4-address-literal] */
    OPES_DOMAIN_IPV6 = 3,    /* [IPv6:IPv6-addr] */
    OPES_DOMAIN_GENERAL = 4  /* [Standardized-tag:dcontent] */
};

/** Bits of opes_path.flags. */
enum opes_path_flag {
    OPES_PATH_F_QUOTED = 1u << 0,      /* the local-part is a Quoted-string */
    OPES_PATH_F_ROUTE = 1u << 1,       /* a source route was present (ignored) */
    OPES_PATH_F_UTF8 = 1u << 2,        /* the mailbox holds non-ASCII UTF-8 */
    OPES_PATH_F_NO_BRACKETS = 1u << 3, /* lenient: no angle brackets */
    OPES_PATH_F_LONG = 1u << 4         /* lenient: over a length limit */
};

/** Which path grammar to apply (opes_path_parse). */
enum opes_path_mode {
    OPES_PATH_REVERSE = 0, /* MAIL FROM: Reverse-path = Path / "<>" */
    OPES_PATH_FORWARD = 1  /* RCPT TO: "<Postmaster>" / Forward-path */
};

/**
 * A parsed path: views into the caller's buffer, valid while it keeps it.
 */
typedef struct opes_path {
    int kind;            /* enum opes_path_kind */
    int domain_kind;     /* enum opes_domain_kind */
    unsigned flags;      /* OPES_PATH_F_* */
    opes_str mailbox;    /* the address without brackets or route, as sent;
                            "" for <>, "Postmaster" (as sent) for <Postmaster> */
    opes_str local_part; /* as sent, with the quotes if quoted */
    opes_str domain;     /* as sent; an address literal with its brackets */
    opes_str route;      /* the A-d-l without its final ":" ("" when none) */
} opes_path;

/**
 * Parse a path at the start of buf[0..len): "<" ... ">" (or, in lenient mode
 * with OPES_LENIENT_NO_BRACKETS, a bare mailbox up to SP or the end).
 * The buffer is the argument text of one command, without CRLF; the parse
 * stops at the end of the path.
 *
 * @param cfg   limits, strictness, SMTPUTF8 in effect (NULL: defaults)
 * @param mode  OPES_PATH_REVERSE or OPES_PATH_FORWARD
 * @param utf8  non-zero when UTF-8 is allowed in this path (SMTPUTF8 in
 *              effect for it, RFC 6531 3.3); the parser then validates it
 * @param[out] out    the path (views into buf)
 * @param[out] used   bytes of buf that form the path
 * @param[out] notes  OPES_NOTE_* bits for what was tolerated (may be NULL)
 * @return OPES_OK; OPES_EBAD_PATH, OPES_EBAD_LOCAL_PART, OPES_EBAD_DOMAIN,
 *         OPES_EBAD_ADDRESS_LITERAL, OPES_EBAD_UTF8, OPES_EBAD_CHAR;
 *         OPES_ELOCAL_PART_TOO_LONG, OPES_EDOMAIN_TOO_LONG,
 *         OPES_EPATH_TOO_LONG (strict; lenient accepts and flags them);
 *         OPES_EINVAL. On error *used is the offset of the offending byte.
 */
OPES_API opes_status opes_path_parse(const opes_smtp_config *cfg, int mode, int utf8,
                                     const char *buf, size_t len, opes_path *out, size_t *used,
                                     unsigned *notes);

/**
 * Parse a whole mailbox (Local-part "@" ( Domain / address-literal )),
 * nothing before or after it: the form of the AUTH= parameter's decoded
 * value (RFC 4954 5) and of an rfc822 ORCPT (RFC 3461 4.2).
 * Same arguments and returns as opes_path_parse(); kind is
 * OPES_PATH_MAILBOX on success.
 */
OPES_API opes_status opes_mailbox_parse(const opes_smtp_config *cfg, int utf8, const char *buf,
                                        size_t len, opes_path *out, unsigned *notes);

/**
 * Write a path "<local@domain>" for a MAIL or RCPT command, quoting the
 * local-part when it is not a Dot-string (RFC 5321 4.1.2) and refusing what
 * cannot be written: CR, LF or NUL (OPES_EINJECT), a domain that is not a
 * Domain or address literal (OPES_EBAD_DOMAIN). local and domain are
 * unquoted bytes; domain NULL/empty with local NULL/empty writes "<>".
 * Builder convention: OPES_OK with *len written, or OPES_ENOSPC with *len
 * needed; dst may be NULL iff cap is 0; no NUL is written.
 */
OPES_API opes_status opes_path_build(char *dst, size_t cap, size_t *len, const char *local,
                                     size_t local_len, const char *domain, size_t domain_len);

/**
 * Is the address literal "[...]" at lit[0..len) valid (RFC 5321 4.1.3)?
 * @param[out] kind OPES_DOMAIN_IPV4 / _IPV6 / _GENERAL (may be NULL)
 * @return OPES_OK or OPES_EBAD_ADDRESS_LITERAL.
 */
OPES_API opes_status opes_address_literal_check(const char *lit, size_t len, int *kind);

#ifdef __cplusplus
}
#endif
#endif /* OPES_PATH_H */
