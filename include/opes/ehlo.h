/*
 * libopes — the EHLO response (RFC 5321 4.1.1.1): parsed into domain,
 * greeting and every capability line, and built from the extension table of
 * an opes_smtp_config.
 *
 *     ehlo-ok-rsp  = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
 *                    / ( "250-" Domain [ SP ehlo-greet ] CRLF
 *                        *( "250-" ehlo-line CRLF )
 *                        "250" SP ehlo-line CRLF )
 *     ehlo-greet   = 1*(%d0-9 / %d11-12 / %d14-127)
 *     ehlo-line    = ehlo-keyword *( SP ehlo-param )
 *     ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 *     ehlo-param   = 1*(%d33-126)
 *
 * The response is a reply first: the reply grammar, limits and leniencies of
 * reply.h apply to it (so the greeting is textstring, no NUL or controls).
 * Every capability line is kept, in order, unknown keywords included (a
 * client must be able to ask for "XOPES" or any vendor keyword); keywords
 * are matched case-insensitively ("they MUST always be recognized and
 * processed in a case-insensitive manner", RFC 5321 4.1.1.1). Known
 * keywords are also typed (enum opes_ehlo_ext), SIZE with its number and
 * AUTH with its mechanism list.
 *
 * No allocation: the lines live in a fixed array of OPES_EHLO_MAX_LINES
 * entries inside opes_ehlo; a response with more capability lines is
 * refused with OPES_ETOO_MANY_LINES.
 */
#ifndef OPES_EHLO_H
#define OPES_EHLO_H

#include "common.h"
#include "smtp_config.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Capability lines an opes_ehlo holds (besides the domain line). Real
 *  servers list 5 to 20; the reply-line count limit applies as well. */
#define OPES_EHLO_MAX_LINES 64

/**
 * Known EHLO keywords: an index, and bit (1 << index) of opes_ehlo.exts.
 * Values are stable; new ones are appended (at most 64).
 */
enum opes_ehlo_ext {
    OPES_EHLO_UNKNOWN = -1,            /* a keyword not in this list */
    OPES_EHLO_SIZE = 0,                /* RFC 1870 */
    OPES_EHLO_8BITMIME = 1,            /* RFC 6152 */
    OPES_EHLO_PIPELINING = 2,          /* RFC 2920 */
    OPES_EHLO_DSN = 3,                 /* RFC 3461 */
    OPES_EHLO_SMTPUTF8 = 4,            /* RFC 6531 */
    OPES_EHLO_CHUNKING = 5,            /* RFC 3030 */
    OPES_EHLO_BINARYMIME = 6,          /* RFC 3030 */
    OPES_EHLO_ENHANCEDSTATUSCODES = 7, /* RFC 2034 */
    OPES_EHLO_STARTTLS = 8,            /* RFC 3207 */
    OPES_EHLO_AUTH = 9,                /* RFC 4954 */
    OPES_EHLO_REQUIRETLS = 10,         /* RFC 8689 */
    OPES_EHLO_MT_PRIORITY = 11,        /* "MT-PRIORITY", RFC 6710 */
    OPES_EHLO_DELIVERBY = 12,          /* RFC 2852 */
    OPES_EHLO_VRFY = 13,               /* RFC 5321 Appendix D.4 */
    OPES_EHLO_ETRN = 14,               /* RFC 1985 */
    OPES_EHLO_HELP = 15,               /* RFC 5321 Appendix D */
    OPES_EHLO_EXPN = 16,               /* RFC 3461 10.1 */
    OPES_EHLO_BURL = 17,               /* RFC 4468 */
    OPES_EHLO_FUTURERELEASE = 18,      /* RFC 4865 */
    OPES_EHLO_LIMITS = 19,             /* RFC 9422 */
    OPES_EHLO__COUNT = 20
};

/** Flags of one capability line (opes_ehlo_line.flags). */
enum opes_ehlo_line_flag {
    /** Written "AUTH=mech ..." instead of "AUTH mech ...": the form of the
     *  drafts before RFC 2554, still sent for old clients (Postfix
     *  broken_sasl_auth_clients). It breaks the ehlo-keyword ABNF; it is
     *  accepted for AUTH only, as an AUTH line, and flagged. */
    OPES_EHLO_LINE_AUTH_EQ = 1u << 0,
    /** A known keyword whose parameters break its RFC: SIZE with a
     *  parameter that is not a number (RFC 1870 4: size-param =
     *  [1*DIGIT]) or does not fit in 64 bits; AUTH without a mechanism or
     *  with a name that is not a SASL mechanism name (RFC 4422 3.1: 1 to 20
     *  of A-Z 0-9 "-" "_"); a parameter after 8BITMIME, PIPELINING,
     *  SMTPUTF8, CHUNKING, BINARYMIME, ENHANCEDSTATUSCODES or STARTTLS,
     *  which define none. Never an error: the line is kept as sent. */
    OPES_EHLO_LINE_BAD_PARAMS = 1u << 1
};

/** One capability line. Views into the caller's buffer. */
typedef struct opes_ehlo_line {
    opes_str keyword; /* ehlo-keyword as sent (any case) */
    opes_str params;  /* the ehlo-params after the keyword's SP ("52428800",
                         "PLAIN LOGIN"), without trailing white space;
                         empty when none */
    int ext;          /* enum opes_ehlo_ext, or OPES_EHLO_UNKNOWN */
    unsigned flags;   /* enum opes_ehlo_line_flag */
} opes_ehlo_line;

/**
 * A parsed EHLO response. Views into the caller's buffer, valid while the
 * caller keeps those bytes. Plain data (about 2.6 KB with the line array),
 * may live on the stack.
 */
typedef struct opes_ehlo {
    int code;          /* the reply code: 250, or the refusal's code */
    opes_str domain;   /* Domain or address-literal of the first line */
    opes_str greeting; /* ehlo-greet: the rest of the first line after the
                          domain's SP; empty when none */
    uint64_t exts;     /* bit (1 << OPES_EHLO_x) for each known keyword */
    int has_size;      /* SIZE with a number (RFC 1870 4) */
    uint64_t size;     /* that number; 0 means "no fixed maximum" (RFC 1870
                          4). With SIZE absent, or without a number, nothing
                          is known: has_size is 0. */
    opes_str auth;     /* the AUTH mechanisms, space-separated (the first
                          "AUTH" line's params, else the first "AUTH=" line's) */
    size_t nlines;     /* capability lines in line[] */
    opes_ehlo_line line[OPES_EHLO_MAX_LINES];
    opes_str span;       /* the whole response incl. its last CRLF */
    unsigned notes;      /* OPES_NOTE_BARE_LF, OPES_NOTE_8BIT (greeting),
                            OPES_NOTE_TRAILING_SPACE, OPES_NOTE_CASE (a keyword
                            with a lower-case letter) */
    size_t error_offset; /* on error: offset in buf of the offending byte */
} opes_ehlo;

/**
 * Parse a whole EHLO response from the start of buf[0..len)
 * (RFC 5321 4.1.1.1).
 *
 * Strict by the ABNF with two tolerances, both flagged: trailing white space
 * after a capability line (OPES_NOTE_TRAILING_SPACE; RFC 5321 4.1.1 asks
 * receivers to tolerate it) and the legacy "AUTH=" line
 * (OPES_EHLO_LINE_AUTH_EQ). The domain must be a Domain (LDH labels,
 * RFC 5321 4.1.2; RFC 6531 3.7.1: "MUST be in the form of LDH labels or
 * A-labels") or an address-literal (opes_address_literal_check(): IPv4,
 * IPv6 or General), of at most OPES_LIMIT_DOMAIN octets.
 *
 * @param cfg   reply limits and leniencies (see opes_reply_parse());
 *              OPES_LIMIT_DOMAIN; NULL: strict defaults
 * @param[out] ehlo  the response; views into buf
 * @param[out] used  bytes of the whole reply whenever it was a well-formed
 *                   reply (OPES_OK, OPES_EBAD_EHLO, OPES_EBAD_DOMAIN,
 *                   OPES_EBAD_ADDRESS_LITERAL, OPES_EDOMAIN_TOO_LONG, OPES_ETOO_MANY_LINES when
 * past OPES_EHLO_MAX_LINES), so the caller can go on; as opes_reply_parse() for reply-level errors;
 * 0 with OPES_INCOMPLETE
 * @return OPES_OK; OPES_INCOMPLETE; OPES_EBAD_EHLO (a reply code other than
 *         250 — the server refused EHLO, ehlo->code says how, e.g. 502 and
 *         a HELO fallback as in RFC 3461 10.4 — or a first line without a
 *         domain, or a malformed capability line); OPES_EBAD_DOMAIN;
 *         OPES_EBAD_ADDRESS_LITERAL; OPES_EDOMAIN_TOO_LONG; OPES_ETOO_MANY_LINES (more than
 *         OPES_EHLO_MAX_LINES capability lines, or OPES_LIMIT_REPLY_LINES
 *         lines); any status of opes_reply_parse(); OPES_EINVAL.
 */
OPES_API opes_status opes_ehlo_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                                     opes_ehlo *ehlo, size_t *used);

/** Whether the response offers the known extension ext (enum
 *  opes_ehlo_ext). 0 for NULL or an out-of-range ext. */
OPES_API int opes_ehlo_has(const opes_ehlo *ehlo, int ext);

/**
 * Whether the response lists the keyword kw[0..len), known or not
 * ("XOPES"), compared case-insensitively. 0 for NULL.
 */
OPES_API int opes_ehlo_offers(const opes_ehlo *ehlo, const char *kw, size_t len);

/**
 * Find the first capability line of keyword kw[0..len) (case-insensitive).
 * @param[out] index  its index in ehlo->line[]
 * @return OPES_OK, OPES_ENOTFOUND, OPES_EINVAL (a NULL argument).
 */
OPES_API opes_status opes_ehlo_find(const opes_ehlo *ehlo, const char *kw, size_t len,
                                    size_t *index);

/**
 * Whether the server offers the SASL mechanism mech[0..len) on any AUTH
 * line ("AUTH" or legacy "AUTH="), case-insensitively (RFC 4954 3: the
 * AUTH keyword's parameter is "a space-separated list of the names of
 * available [SASL] mechanisms"). 0 for NULL or an empty name.
 */
OPES_API int opes_ehlo_auth_offers(const opes_ehlo *ehlo, const char *mech, size_t len);

/** The keyword of a known extension ("MT-PRIORITY"), or NULL. Static. */
OPES_API const char *opes_ehlo_ext_name(int ext);

/** The known extension of keyword kw[0..len) (case-insensitive), or
 *  OPES_EHLO_UNKNOWN. */
OPES_API int opes_ehlo_ext_lookup(const char *kw, size_t len);

/**
 * Build the EHLO response of a server (RFC 5321 4.1.1.1): "250-" domain
 * [SP greeting], then one line per extension offered in cfg, in the order
 * of its table (opes_smtp_config_extension_at()), each "keyword" or
 * "keyword SP params", the last with "250 " (a single "250 domain ..." line
 * when nothing is offered).
 *
 * Builder convention: writes into dst[0..cap); OPES_OK with *len written,
 * OPES_ENOSPC with *len needed; dst may be NULL iff cap is 0; no NUL.
 *
 * @param cfg       the extensions offered and the limits; NULL: none offered
 * @param domain    Domain or address-literal, as for opes_ehlo_parse()
 * @param greeting  optional text (textstring); NULL or empty for none
 * @return OPES_OK; OPES_ENOSPC; OPES_EINJECT (CR, LF or NUL in domain or
 *         greeting); OPES_EBAD_DOMAIN (empty or not a Domain);
 *         OPES_EBAD_ADDRESS_LITERAL; OPES_EDOMAIN_TOO_LONG (over OPES_LIMIT_DOMAIN);
 *         OPES_EBAD_CHAR (greeting outside textstring, or a stored EHLO
 *         parameter outside ehlo-param); OPES_EREPLY_TOO_LONG (a line over
 *         OPES_LIMIT_REPLY_LINE); OPES_ETOO_MANY_LINES (more lines than
 *         OPES_LIMIT_REPLY_LINES or OPES_EHLO_MAX_LINES + 1);
 *         OPES_EOVERFLOW; OPES_EINVAL.
 */
OPES_API opes_status opes_ehlo_build(char *dst, size_t cap, size_t *len,
                                     const opes_smtp_config *cfg, const char *domain,
                                     size_t domain_len, const char *greeting, size_t greeting_len);

#ifdef __cplusplus
}
#endif
#endif /* OPES_EHLO_H */
