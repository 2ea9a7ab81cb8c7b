/*
 * libopes — the one error model of the library.
 *
 * Every function that can fail returns an opes_status (an int-sized enum).
 * Values are explicit and append-only within their range; they are never
 * renumbered or reused. A retired code stays as OPES_EOBSOLETE_n.
 *
 *   > 0          not an error (OPES_INCOMPLETE: feed more bytes)
 *   -1 .. -99    caller misuse and resources
 *   -100 .. -199 syntax: the peer's bytes break the grammar
 *   -200 .. -299 RFC limits: the peer's bytes exceed a size or count limit
 *   -300 .. -399 protocol state (the session layer)
 *
 * A peer's mistake is data, not a failure: parsers return the syntax or limit
 * status together with the byte offset and the reply a server should give.
 * All codes below were introduced in 0.1.0 unless marked otherwise.
 */
#ifndef OPES_STATUS_H
#define OPES_STATUS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum opes_status {
    OPES_OK = 0,
    OPES_INCOMPLETE = 1, /* need more bytes; nothing was consumed */

    /* caller misuse and resources */
    OPES_EINVAL = -1,     /* an argument is NULL or out of range */
    OPES_ENOSPC = -2,     /* output buffer too small; *len holds the size needed */
    OPES_ENOMEM = -3,     /* the allocator failed */
    OPES_ECEILING = -4,   /* a limit was set above its compile-time ceiling */
    OPES_ENOTFOUND = -5,  /* the thing asked for is absent (e.g. a parameter) */
    OPES_EUNSUPPORTED = -6, /* not available in this build (e.g. zlib off) */
    OPES_EINJECT = -7,    /* a value would put CR, LF or NUL into a header or reply */
    OPES_EEXIST = -8,     /* already registered */
    OPES_EOVERFLOW = -9,  /* an output size would not fit in size_t */

    /* syntax (-100 .. -199) */
    OPES_ESYNTAX = -100,          /* generic syntax error */
    OPES_EBAD_CHAR = -101,        /* a character the grammar does not allow here */
    OPES_EBARE_CR = -102,         /* CR not followed by LF */
    OPES_EBARE_LF = -103,         /* LF not preceded by CR */
    OPES_EUNKNOWN_COMMAND = -104, /* verb not recognised (reply 500) */
    OPES_ENOT_OFFERED = -105,     /* verb of an extension the server does not offer */
    OPES_EUNEXPECTED_ARG = -106,  /* argument to a command that takes none */
    OPES_EMISSING_ARG = -107,     /* required argument absent */
    OPES_EBAD_PATH = -108,        /* reverse- or forward-path malformed */
    OPES_EBAD_LOCAL_PART = -109,  /* local-part malformed */
    OPES_EBAD_DOMAIN = -110,      /* domain malformed */
    OPES_EBAD_ADDRESS_LITERAL = -111, /* [IPv4], [IPv6:...] or general literal malformed */
    OPES_EBAD_PARAM = -112,       /* esmtp-param malformed */
    OPES_EPARAM_DUPLICATE = -113, /* the same parameter twice (RFC 1869, RFC 3461 5.1) */
    OPES_EPARAM_VALUE = -114,     /* a known parameter with a value its RFC forbids */
    OPES_EPARAM_UNKNOWN = -115,   /* parameter not recognised or not offered (reply 555) */
    OPES_EBAD_XTEXT = -116,       /* xtext (RFC 3461 4) malformed */
    OPES_EBAD_UTF8 = -117,        /* invalid UTF-8, or UTF-8 where SMTPUTF8 is not in effect */
    OPES_EBAD_BASE64 = -118,      /* base64 (RFC 4954 4) malformed */
    OPES_EBAD_REPLY = -119,       /* reply line malformed */
    OPES_EREPLY_CODE_MISMATCH = -120, /* lines of one multi-line reply with different codes */
    OPES_EBAD_ENHANCED_CODE = -121, /* enhanced status code malformed (RFC 3463) */
    OPES_EBAD_EHLO = -122,        /* EHLO response malformed */
    OPES_EBAD_NUMBER = -123,      /* a number malformed or out of range */
    OPES_EBAD_UTF8ADDR = -124,    /* utf-8-addr-xtext/unitext malformed (RFC 6533 3) */
    OPES_EBAD_HEADER_NAME = -125, /* header field name malformed (RFC 5322 3.6.8) */
    OPES_EBAD_HEADER = -126, /* header section malformed (a line that is no field) */
    OPES_EBAD_URI = -127, /* URI malformed (RFC 3986) */
    OPES_EURI_NOT_ABSOLUTE = -128, /* a relative reference or fragment where an absolute URI is required */
    OPES_EBAD_DATE = -129, /* date-time malformed (RFC 5322 3.3) */
    OPES_EBAD_RECEIVED = -130, /* Received field malformed (RFC 5321 4.4) */
    OPES_EBAD_TRACE = -131, /* OPES trace entry malformed (docs/opes-smtp.md) */
    OPES_EBAD_BYPASS = -132, /* OPES bypass request malformed (docs/opes-smtp.md) */
    OPES_EBAD_MIME = -133,   /* MIME structure or Content-* field malformed (RFC 2045, 2046) */
    OPES_EBAD_QP = -134,     /* quoted-printable malformed (RFC 2045 6.7) */
    OPES_EBAD_DSN = -135,    /* delivery-status content malformed (RFC 3464) */
    OPES_EBAD_MBOX = -136,   /* mbox malformed: no From_ line where a message starts */
    OPES_EBAD_GZIP = -137,   /* gzip stream corrupt or truncated (RFC 1952) */
    /* -133 .. -199: free, append here */

    /* RFC limits (-200 .. -299) */
    OPES_ELINE_TOO_LONG = -200,      /* command line over its limit (reply 500) */
    OPES_EREPLY_TOO_LONG = -201,     /* reply line over its limit */
    OPES_ELOCAL_PART_TOO_LONG = -202, /* local-part over its limit */
    OPES_EDOMAIN_TOO_LONG = -203,    /* domain over its limit */
    OPES_EPATH_TOO_LONG = -204,      /* path over its limit (reply 501) */
    OPES_ETOO_MANY_PARAMS = -205,    /* more parameters than the limit */
    OPES_ETOO_MANY_LINES = -206,     /* more reply lines than the limit */
    OPES_ETEXT_LINE_TOO_LONG = -207, /* message text line over its limit */
    OPES_EAUTH_LINE_TOO_LONG = -208, /* AUTH exchange line over its limit (500 5.5.6) */
    OPES_EPARAM_TOO_LONG = -209,     /* a parameter value over its RFC size (ENVID, ORCPT) */
    OPES_EHEADER_LINE_TOO_LONG = -210, /* header line over 998 octets (RFC 5322 2.1.1) */
    OPES_EHEADER_TOO_LONG = -211, /* header field or section over its limit */
    OPES_EURI_TOO_LONG = -212, /* URI over its limit */
    OPES_ETOO_MANY_ITEMS = -213, /* more list entries than the limit */
    OPES_EMIME_TOO_DEEP = -214, /* MIME entities nested deeper than the limit */
    /* -214 .. -299: free, append here */

    /* state and integrity (-300 .. -399): the session layer, the trace verifier */
    OPES_ESTATE = -300, /* call not valid in the object's current state */
    OPES_ETRACE_TAMPERED = -301 /* a trace field present before a service ran was deleted or altered */
} opes_status;

/**
 * A one-line English description of a status, for people. Never NULL; an
 * unknown value gives "unknown error". The string is static.
 */
OPES_API const char *opes_strerror(int status);

/**
 * The enumerator's name ("OPES_ESYNTAX"), for logs and JSON. Never NULL; an
 * unknown value gives "OPES_UNKNOWN". The string is static.
 */
OPES_API const char *opes_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif /* OPES_STATUS_H */
