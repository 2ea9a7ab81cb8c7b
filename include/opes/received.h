/*
 * libopes — the Received trace field (RFC 5321 4.4 "Stamp"; RFC 5322 3.6.7
 * received-token; WITH protocol types of RFC 3848 and RFC 6531 4.3).
 *
 * Mail layer. The Stamp is defined by RFC 5321, so src/received.c uses the
 * smtp layer's Domain, address-literal and Path grammar (opes/path.h)
 * read-only, rather than keep a second copy of it; nothing else of the smtp
 * layer is used. The date is RFC 5322's (opes/date.h).
 */
#ifndef OPES_RECEIVED_H
#define OPES_RECEIVED_H

#include "common.h"
#include "date.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bits of the flags argument of opes_received_parse(). */
enum opes_received_parse_flag {
    /* Require the RFC 5321 4.4 Stamp exactly: "FROM" FWS Extended-Domain,
     * By-domain, Opt-info in the order [Via] [With] [ID] [For] [one
     * Additional-Registered-Clause], [CFWS] ";" FWS date-time without the
     * obsolete date forms. Any deviation is OPES_EBAD_RECEIVED (the date's
     * own errors keep their status). Without it the parse is tolerant and
     * reports each deviation in opes_received.flags. */
    OPES_RECEIVED_STRICT = 1u << 0
};

/** Bits of opes_received.flags: what was seen, and what was tolerated. */
enum opes_received_flag {
    /* deviations from RFC 5321 4.4 (refused with OPES_RECEIVED_STRICT) */
    OPES_RECEIVED_F_NO_FROM = 1u << 0,    /* no FROM clause (a locally generated stamp) */
    OPES_RECEIVED_F_NO_BY = 1u << 1,      /* no BY clause */
    OPES_RECEIVED_F_ORDER = 1u << 2,      /* clauses out of the 4.4 order, or one repeated
                                             (the first value is kept) */
    OPES_RECEIVED_F_BAD_DOMAIN = 1u << 3, /* FROM or BY is not a Domain or address-literal,
                                             or is a literal without a TCP-info comment */
    OPES_RECEIVED_F_BAD_ATOM = 1u << 4,   /* VIA, WITH or a clause name/value not an Atom */
    OPES_RECEIVED_F_BAD_ID = 1u << 5,     /* ID neither an Atom nor a msg-id */
    OPES_RECEIVED_F_BAD_FOR = 1u << 6,    /* FOR neither a Path nor a Mailbox */
    OPES_RECEIVED_F_MULTIWORD = 1u << 7,  /* a VIA or WITH value of several words
                                             ("with Microsoft SMTP Server") */
    OPES_RECEIVED_F_STRAY = 1u << 8,      /* a keyword without a value, or a word that fits
                                             no clause */
    OPES_RECEIVED_F_EXTRA_MANY = 1u << 9, /* more than one additional clause */
    OPES_RECEIVED_F_NO_FWS = 1u << 10,    /* FWS missing where 4.4 needs it (after a
                                             keyword, after ";") */
    OPES_RECEIVED_F_NO_DATE = 1u << 11,   /* no ";" and date-time */
    OPES_RECEIVED_F_BAD_DATE = 1u << 12,  /* the date-time did not parse: see date_status */
    OPES_RECEIVED_F_OBS_DATE = 1u << 13,  /* the date used obsolete forms (4.4: MUST NOT) */
    OPES_RECEIVED_F_LF_FOLD = 1u << 14,   /* a fold was LF WSP instead of CRLF WSP */
    OPES_RECEIVED_F_RAW_8BIT = 1u << 15,  /* bytes that are not UTF-8 */
    /* information (never refused) */
    OPES_RECEIVED_F_UNREGISTERED_WITH = 1u << 16, /* WITH not one of RFC 3848 / 6531's names
                                                     nor SMTP / ESMTP (compared ignoring case) */
    OPES_RECEIVED_F_EXTRA = 1u << 17,             /* one or more additional clauses (extra_*) */
    OPES_RECEIVED_F_UTF8 = 1u << 18,              /* non-ASCII UTF-8 was seen (RFC 6531 3.7.3) */
    OPES_RECEIVED_F_OBS_CFWS = 1u << 19, /* obs-FWS or obs-ctext in a comment (RFC 5322 4) */
    OPES_RECEIVED_F_BARE_IP = 1u << 20,  /* from_ip is an IP without brackets (Exchange) */
    OPES_RECEIVED_F_DEVIATIONS = (1u << 16) - 1
};

/**
 * A parsed Received field body: views into the caller's buffer, valid while
 * the caller keeps it; an absent part is empty (ptr NULL, len 0). Values are
 * as written (no unfolding, no unquoting). Comments are given without their
 * parentheses.
 */
typedef struct opes_received {
    opes_str from;          /* the word after FROM: the EHLO name as the server recorded it */
    opes_str from_comment;  /* the first comment after it (TCP-info and more), raw */
    opes_str from_rdns;     /* from from_comment: the Domain before the address literal
                               ("host.example" in "(host.example [192.0.2.1])"), raw */
    opes_str from_ip;       /* from from_comment: the address literal with its brackets
                               ("[192.0.2.1]", "[IPv6:...]"), or a bare IP when the whole
                               comment or one of its words is one (OPES_RECEIVED_F_BARE_IP) */
    opes_str by;            /* the word after BY */
    opes_str by_comment;    /* the first comment after it ("Postfix", ...), raw */
    opes_str via;           /* the Link after VIA (several words: OPES_RECEIVED_F_MULTIWORD) */
    opes_str with;          /* the Protocol after WITH (ditto) */
    opes_str with_comment;  /* the first comment after it (Exim's TLS version, ...), raw */
    opes_str id;            /* the Atom or msg-id after ID */
    opes_str for_path;      /* the Path ("<bob@example.org>") or Mailbox after FOR */
    opes_str envelope_from; /* the word after "envelope-from" in a comment (Exim, Sendmail):
                               "<alice@example.com>" */
    opes_str extra_name;    /* the first additional clause: its name ... */
    opes_str extra_value;   /* ... and its value (empty for a stray name) */
    size_t extra_count;     /* additional clauses seen */
    opes_str date_raw;      /* the bytes after ";" without the FWS that starts them */
    opes_datetime date;     /* the parsed date when date_status is OPES_OK */
    int date_status;        /* OPES_OK, the status of opes_date_parse() on date_raw, or
                               OPES_ENOTFOUND without a date part */
    unsigned flags;         /* OPES_RECEIVED_F_* */
} opes_received;

/**
 * Parse the body of a Received field (what follows "Received:"), possibly
 * folded (CRLF WSP; LF WSP is tolerated and flagged without
 * OPES_RECEIVED_STRICT). One CRLF (or LF) at the very end is ignored.
 *
 * The body is read as RFC 5322 3.6.7 received-tokens up to the first ";"
 * outside comments, quoted strings, "<...>" and "[...]"; then the
 * date-time. Clause keywords (FROM, BY, VIA, WITH, ID, FOR) are found in any
 * order and any case; each takes the next word as its value (VIA and WITH
 * several words where the RFC reading of them as additional clauses fails:
 * Exchange's "with Microsoft SMTP Server", "via Frontend Transport"). Any
 * other word starts an additional clause (Exim's "tls TLS_AES_256_GCM_SHA384").
 * Comments may appear anywhere; the first after FROM, BY and WITH are kept.
 *
 * Tolerant mode (flags 0): each deviation from RFC 5321 4.4 is reported in
 * out->flags and the parse goes on; a missing ";" date part is tolerated
 * (OPES_RECEIVED_F_NO_DATE, date_status OPES_ENOTFOUND), a date that does
 * not parse even with every OPES_DATE_LENIENT_* bit is reported
 * (OPES_RECEIVED_F_BAD_DATE, date_status) rather than refused: the rest of
 * the trace is still worth having. Structural breakage is still refused.
 *
 * @param flags  0 or OPES_RECEIVED_STRICT
 * @param[out] out         the parts (see opes_received); all empty on error
 * @param[out] err_offset  on error, the offset of the offending byte (len
 *                         when the input ends too early); 0 on success; may
 *                         be NULL
 * @return OPES_OK; OPES_EBAD_RECEIVED (an unterminated comment, quoted
 *         string, "<" or "[", comments nested over 32 deep, a ")" outside a
 *         comment; in strict mode any deviation); OPES_EBAD_DATE and the
 *         other statuses of opes_date_parse() (strict mode: the date-time
 *         without obsolete forms); OPES_EBAD_CHAR (NUL or another control
 *         character outside a comment, a CRLF not followed by WSP),
 *         OPES_EBARE_CR, OPES_EBARE_LF; OPES_EBAD_UTF8 (strict: bytes that
 *         are not UTF-8); OPES_EINVAL (out NULL, buf NULL with len > 0,
 *         unknown flag bits).
 */
OPES_API opes_status opes_received_parse(const char *buf, size_t len, unsigned flags,
                                         opes_received *out, size_t *err_offset);

/**
 * What a server records in a Received field it adds (RFC 5321 4.4): the
 * input of opes_received_build(). Views the caller owns for the call; an
 * empty view (len 0) is absent. Plain data: zero it, then fill it.
 */
typedef struct opes_received_stamp {
    opes_str helo;       /* FROM: the EHLO/HELO argument (a Domain or address-literal);
                            absent: no FROM clause (a locally generated message) */
    opes_str rdns;       /* TCP-info: the client's name from reverse DNS (a Domain) */
    opes_str ip;         /* TCP-info: the client's address literal "[192.0.2.1]",
                            "[IPv6:2001:db8::1]" (RFC 5321 4.1.3) */
    opes_str by;         /* BY: this server's Domain (required) */
    opes_str by_comment; /* a comment after BY (free text, e.g. the software's name);
                            "(", ")" and "\" in it are written as quoted-pairs */
    opes_str via;        /* VIA: a Link Atom ("TCP") */
    opes_str with;       /* WITH: a Protocol Atom (see opes_received_with_type()) */
    opes_str id;         /* ID: an Atom or a msg-id "<left@right>" */
    opes_str for_path;   /* FOR: a Path "<bob@example.org>" or a Mailbox (written as a Path) */
    opes_datetime date;  /* the date-time, written by opes_date_build() */
} opes_received_stamp;

/** Bits of the flags argument of opes_received_build(). */
enum opes_received_build_flag {
    OPES_RECEIVED_BUILD_LF = 1u << 0 /* end lines with LF instead of CRLF (folds too) */
};

/**
 * Write a whole Received field, "Received: from HELO (RDNS [IP]) by HOST
 * (COMMENT) via LINK with PROTO id ID for <PATH>; DATE" and its line end,
 * as RFC 5321 4.4 lays it out (absent parts left out). The field is folded
 * before a clause keyword, a comment or the date (CRLF TAB) when the line
 * would pass 78 octets (RFC 5322 2.1.1), never into a whitespace-only
 * line; every line must stay within 998 octets (OPES_EHEADER_LINE_TOO_LONG).
 *
 * Validation: CR, LF or NUL in any part is OPES_EINJECT (checked first);
 * helo a Domain (U-labels allowed) or address-literal, rdns a Domain, by a
 * Domain (OPES_EBAD_DOMAIN), ip an address literal
 * (OPES_EBAD_ADDRESS_LITERAL); rdns or ip without helo, or ip absent when
 * helo is an address literal (RFC 5321 4.4 wants TCP-info then):
 * OPES_EINVAL; via and with Atoms, id an Atom or msg-id, by_comment
 * printable ASCII, SP, HT or UTF-8 (OPES_EBAD_RECEIVED); for_path a Path
 * or Mailbox (the statuses of opes_path_parse(): OPES_EBAD_PATH, ...; the
 * null path "<>" is OPES_EBAD_PATH); the date (OPES_EBAD_DATE).
 * Non-ASCII is allowed only where RFC 6531 3.7.3 allows it (an SMTPUTF8
 * transaction): the caller decides. RFC 5321 7.6: think twice before writing
 * FOR for a message with several recipients.
 * Builder convention: OPES_OK with *len written, or OPES_ENOSPC with *len
 * needed; dst may be NULL iff cap is 0; no NUL is written; *len is 0 on any
 * other error.
 * @param flags 0 or OPES_RECEIVED_BUILD_LF (unknown bits: OPES_EINVAL)
 */
OPES_API opes_status opes_received_build(char *dst, size_t cap, size_t *len,
                                         const opes_received_stamp *st, unsigned flags);

/** Bits of the argument of opes_received_with_type(). */
enum opes_with_flag {
    OPES_WITH_UTF8 = 1u << 0, /* SMTPUTF8 was used for the message (RFC 6531 4.3) */
    OPES_WITH_LMTP = 1u << 1, /* the session is LMTP (LHLO) */
    OPES_WITH_TLS = 1u << 2,  /* STARTTLS was negotiated (RFC 3848 "S") */
    OPES_WITH_AUTH = 1u << 3, /* the client authenticated (RFC 3848 "A") */
    OPES_WITH_HELO = 1u << 4  /* the client said HELO, not EHLO: plain "SMTP" (RFC 5321 4.4) */
};

/**
 * The registered WITH protocol name (RFC 5321 4.4 SMTP/ESMTP, RFC 3848 2,
 * RFC 6531 4.3) for a session: "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA",
 * "LMTP"..."LMTPSA", "UTF8SMTP"..."UTF8SMTPSA", "UTF8LMTP"..."UTF8LMTPSA";
 * OPES_WITH_HELO alone gives "SMTP". A static string, never to be freed.
 * @return the name; NULL for unknown bits, or OPES_WITH_HELO with any other
 *         bit (a HELO session has no extensions, and LMTP has no HELO).
 */
OPES_API const char *opes_received_with_type(unsigned with_flags);

#ifdef __cplusplus
}
#endif
#endif /* OPES_RECEIVED_H */
