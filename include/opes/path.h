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
    opes_str local_part; /* as sent, with the quotes if quoted (see
                            opes_path_unquote()); "Postmaster" for <Postmaster> */
    opes_str domain;     /* as sent; an address literal with its brackets */
    opes_str route;      /* the A-d-l without its final ":" ("" when none) */
} opes_path;

/**
 * Parse a path at the start of buf[0..len): "<" ... ">" (or, in lenient mode
 * with OPES_LENIENT_NO_BRACKETS, a bare mailbox up to SP or the end).
 * The buffer is the argument text of one command, without CRLF; the parse
 * stops at the end of the path (the caller judges what follows).
 *
 * Grammar (RFC 5321 4.1.2, 4.1.3): Reverse-path = Path / "<>" (REVERSE
 * only); RCPT's "<Postmaster>" (FORWARD only, case-insensitive, no domain,
 * no route: kind OPES_PATH_POSTMASTER and OPES_NOTE_POSTMASTER;
 * "<Postmaster@domain>" is an ordinary mailbox); Path = "<" [A-d-l ":"]
 * Mailbox ">", the source route reported in route, OPES_PATH_F_ROUTE and
 * OPES_NOTE_SOURCE_ROUTE, otherwise ignored; Dot-string or Quoted-string
 * local-parts (OPES_PATH_F_QUOTED); Domain of LDH labels (no trailing dot)
 * or an IPv4, IPv6 or General address literal. With utf8, UTF8-non-ascii is
 * allowed in atext, qtextSMTP and sub-domains (RFC 6531 3.3) and must be
 * well-formed (OPES_PATH_F_UTF8). Without it, an 8-bit byte is
 * OPES_EBAD_UTF8, unless cfg has OPES_LENIENT_8BIT: then well-formed UTF-8
 * is accepted with OPES_NOTE_8BIT and OPES_PATH_F_UTF8.
 * Limits (RFC 5321 4.5.3.1.1-3, from cfg): local-part and domain (address
 * literals with their brackets) as sent, and the path as sent (brackets
 * and route included; a bare lenient path without brackets). Strict mode
 * rejects with the status of the limit and *used at the first byte over
 * it; OPES_LENIENT_LONG_ADDRESS accepts with OPES_PATH_F_LONG and
 * OPES_NOTE_LONG_ADDRESS (SRS and VERP local-parts exceed 64 in real mail).
 * The space after "FROM:" is the command parser's business, not this one's.
 *
 * @param cfg   limits and lenient bits (NULL: strict, RFC defaults); the
 *              SMTPUTF8 state in cfg is not consulted: pass it as utf8
 * @param mode  OPES_PATH_REVERSE or OPES_PATH_FORWARD
 * @param utf8  non-zero when UTF-8 is allowed in this path (SMTPUTF8 in
 *              effect for it, RFC 6531 3.3); the parser then validates it
 * @param[out] out    the path: views into buf, valid while the caller keeps
 *                    buf; on error every field is empty
 * @param[out] used   bytes of buf that form the path
 * @param[out] notes  OPES_NOTE_* bits for what was tolerated or noticed,
 *                    set (not OR-ed) (may be NULL)
 * @return OPES_OK; OPES_EBAD_PATH (no "<", no ">", "<>" in FORWARD,
 *         <Postmaster> in REVERSE, no "@", a malformed route),
 *         OPES_EBAD_LOCAL_PART, OPES_EBAD_DOMAIN, OPES_EBAD_ADDRESS_LITERAL,
 *         OPES_EBAD_UTF8 (malformed, or 8-bit without utf8 or leniency),
 *         OPES_EBAD_CHAR (a CTL, NUL, CR, LF, SP or DEL where the grammar
 *         allows none: SP only inside a Quoted-string);
 *         OPES_ELOCAL_PART_TOO_LONG, OPES_EDOMAIN_TOO_LONG,
 *         OPES_EPATH_TOO_LONG (strict; lenient accepts and flags them);
 *         OPES_EINVAL (out or used NULL, buf NULL with len > 0, bad mode).
 *         On error *used is the offset of the offending byte (len when the
 *         input ends too early).
 */
OPES_API opes_status opes_path_parse(const opes_smtp_config *cfg, int mode, int utf8,
                                     const char *buf, size_t len, opes_path *out, size_t *used,
                                     unsigned *notes);

/**
 * Parse a whole mailbox (Local-part "@" ( Domain / address-literal )),
 * nothing before or after it: the form of the AUTH= parameter's decoded
 * value (RFC 4954 5) and of an rfc822 ORCPT (RFC 3461 4.2).
 * Same arguments and returns as opes_path_parse() (no brackets, no route,
 * no Postmaster form, no path limit: the local-part and domain limits
 * apply); kind is OPES_PATH_MAILBOX on success. There is no offset output:
 * use opes_path_parse() on "<" mailbox ">" to locate an error.
 */
OPES_API opes_status opes_mailbox_parse(const opes_smtp_config *cfg, int utf8, const char *buf,
                                        size_t len, opes_path *out, unsigned *notes);

/**
 * Write a path "<local@domain>" for a MAIL or RCPT command, quoting the
 * local-part when it is not a Dot-string (RFC 5321 4.1.2: DQUOTE, '"' and
 * '\' as quoted-pairs) and refusing what cannot be written: CR, LF or NUL
 * (OPES_EINJECT), another control character or DEL in the local-part
 * (OPES_EBAD_LOCAL_PART: quoted-pairSMTP cannot carry it), malformed UTF-8
 * (OPES_EBAD_UTF8), a domain that is not a Domain (U-labels allowed) or an
 * address literal "[...]" (OPES_EBAD_DOMAIN). local and domain are
 * unquoted bytes; domain NULL/empty with local NULL/empty writes "<>";
 * domain empty with local "Postmaster" (any case) writes "<Postmaster>"
 * (RFC 5321 4.1.1.3); an empty local with a domain writes <""@domain>.
 * Non-ASCII needs SMTPUTF8 on the wire: the caller decides. No route is
 * written (RFC 5321 4.1.2: SHOULD NOT be generated); the length limits of
 * RFC 5321 4.5.3.1 are not enforced here (the command line's are).
 * Builder convention: OPES_OK with *len written, or OPES_ENOSPC with *len
 * needed; dst may be NULL iff cap is 0; no NUL is written; *len is 0 on
 * any other error. OPES_EINVAL for bad arguments.
 */
OPES_API opes_status opes_path_build(char *dst, size_t cap, size_t *len, const char *local,
                                     size_t local_len, const char *domain, size_t domain_len);

/**
 * Is buf[0..len) exactly a Domain (RFC 5321 4.1.2: sub-domain *("."
 * sub-domain), no trailing dot) or an address-literal (4.1.3)? The form an
 * EHLO/HELO/LHLO argument takes. Length limits are the caller's (the
 * domain limit of its config).
 *
 * @param utf8     non-zero: U-labels allowed (RFC 6531 3.3) — note that an
 *                 EHLO domain is ASCII even with SMTPUTF8 (RFC 6531 3.7.1)
 * @param lenient  OPES_LENIENT_8BIT accepts well-formed UTF-8 without utf8
 *                 (noted); other bits are ignored
 * @param[out] kind        OPES_DOMAIN_NAME / _IPV4 / _IPV6 / _GENERAL (may be NULL)
 * @param[out] err_offset  offset of the offending byte on error (may be NULL)
 * @param[out] notes       OPES_NOTE_* bits (may be NULL)
 * @return OPES_OK; OPES_EBAD_DOMAIN, OPES_EBAD_ADDRESS_LITERAL,
 *         OPES_EBAD_UTF8, OPES_EBAD_CHAR; OPES_EINVAL.
 */
OPES_API opes_status opes_domain_check(const char *buf, size_t len, int utf8, unsigned lenient,
                                       int *kind, size_t *err_offset, unsigned *notes);

/**
 * Is the address literal "[...]" at lit[0..len) valid (RFC 5321 4.1.3)?
 * IPv4: exactly four Snum of 0-255 (1-3 digits). IPv6 ("IPv6:", any case):
 * IPv6-full (8 groups), IPv6-comp ("::" once, at most 6 other groups),
 * IPv6v4-full (6 groups and the IPv4 part), IPv6v4-comp ("::" once, at
 * most 4 other groups, the IPv4 part last). General: Standardized-tag (an
 * Ldh-str other than "IPv6") ":" 1*dcontent; whether the tag is registered
 * with IANA is not checked.
 * @param[out] kind OPES_DOMAIN_IPV4 / _IPV6 / _GENERAL (may be NULL)
 * @return OPES_OK, OPES_EBAD_ADDRESS_LITERAL, OPES_EINVAL (lit NULL, len > 0).
 */
OPES_API opes_status opes_address_literal_check(const char *lit, size_t len, int *kind);

/**
 * Write the bytes a local-part stands for: a Quoted-string (RFC 5321 4.1.2)
 * without its DQUOTEs and with each quoted-pair replaced by its character;
 * a Dot-string as it is. This is the value to compare or look up (and what
 * opes_path_build() takes). local is opes_path.local_part or the like.
 * Builder convention: OPES_OK with *len written, OPES_ENOSPC with *len
 * needed; dst may be NULL iff cap is 0; no NUL is written.
 * @return also OPES_EBAD_LOCAL_PART (starts with DQUOTE but is not one
 *         whole Quoted-string; *len 0), OPES_EINVAL.
 */
OPES_API opes_status opes_path_unquote(char *dst, size_t cap, size_t *len, const char *local,
                                       size_t local_len);

#ifdef __cplusplus
}
#endif
#endif /* OPES_PATH_H */
