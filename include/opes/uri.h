/*
 * libopes — URIs (RFC 3986, STD 66): parse, normalise, compare.
 *
 * OPES agent identifiers (the entries of OPES-System, OPES-Via and
 * OPES-Bypass, RFC 4236 3-5, and the XOPES-BYPASS ESMTP parameter) are
 * absolute URIs: RFC 4236 cites RFC 2396 absoluteURI, which RFC 3986
 * absolute-URI replaces. A bypass request names agents by URI and an agent
 * it does not recognise makes the request apply to all of them (RFC 3897
 * 4.3), so the names are compared after normalisation (RFC 3986 6.2.2,
 * 6.2.3): a spelling difference must not turn a targeted request into
 * bypass-all. Mail layer: no SMTP-layer header is included.
 */
#ifndef OPES_URI_H
#define OPES_URI_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Longest URI accepted, in octets. RFC 3986 sets no limit; an OPES agent
 * identifier travels in a header field line (998 octets, RFC 5322 2.1.1, and
 * a URI cannot be folded: RFC 3986 Appendix C) or in an xtext-encoded ESMTP
 * parameter, so 2048 is generous. Longer input is OPES_EURI_TOO_LONG, and so
 * is a normalised form that would grow past it.
 */
#define OPES_MAX_URI 2048

/** Bits of the flags argument of opes_uri_parse(), _normalize() and _equal(). */
enum opes_uri_flag {
    /** absolute-URI (RFC 3986 4.3): a scheme and no fragment. What an OPES
     *  agent identifier is. */
    OPES_URI_ABSOLUTE = 1u << 0,
    /** URI-reference (RFC 3986 4.1): a relative reference is accepted too.
     *  Excludes OPES_URI_ABSOLUTE. */
    OPES_URI_REFERENCE = 1u << 1
};

/** What the host is (opes_uri.host_type); RFC 3986 3.2.2. */
enum opes_uri_host_type {
    OPES_URI_HOST_NONE = 0,     /* no authority */
    OPES_URI_HOST_REGNAME = 1,  /* reg-name (may be empty) */
    OPES_URI_HOST_IPV4 = 2,     /* IPv4address (first-match-wins over reg-name) */
    OPES_URI_HOST_IPV6 = 3,     /* IP-literal holding an IPv6address */
    OPES_URI_HOST_IPVFUTURE = 4 /* IP-literal holding an IPvFuture */
};

/**
 * A parsed URI or URI reference: views into the caller's buffer, valid while
 * the caller keeps it, exactly as sent (nothing decoded or case-folded).
 * An absent component is { NULL, 0 } with its has_ flag 0; a present but
 * empty one has len 0 and its flag 1 (RFC 3986 5.3 keeps the difference:
 * "http://h/?" is not "http://h/"). Recomposing the parts as RFC 3986 5.3
 * does (scheme ":" "//" authority path "?" query "#" fragment, each only
 * when present) gives back the input byte for byte.
 */
typedef struct opes_uri {
    opes_str scheme;    /* without the ":"; empty iff has_scheme is 0 */
    opes_str authority; /* without the "//": [ userinfo "@" ] host [ ":" port ] */
    opes_str userinfo;  /* without the "@" */
    opes_str host;      /* an IP-literal WITHOUT its brackets (host_type says
                           which kind); a reg-name or IPv4address as sent */
    opes_str port;      /* the digits, without the ":" (may be empty: "h:") */
    opes_str path;      /* always present, possibly empty */
    opes_str query;     /* without the "?" */
    opes_str fragment;  /* without the "#" */
    int has_scheme;     /* 0 only for a relative reference (OPES_URI_REFERENCE) */
    int has_authority;
    int has_userinfo;
    int has_port;
    int has_query;
    int has_fragment;
    int host_type; /* enum opes_uri_host_type */
} opes_uri;

/**
 * Parse buf[0..len) as one whole URI (RFC 3986 3, Appendix A):
 *   URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]
 * Nothing may precede or follow it: no white space, no "<" ">" wrapper
 * (RFC 3986 Appendix C: the wrapper is the caller's to remove).
 *
 * The grammar is applied exactly: scheme = ALPHA *( ALPHA / DIGIT / "+" /
 * "-" / "." ); pct-encoded needs two HEXDIGs; the IPv6address forms of
 * 3.2.2 (at most one "::", 1-4 hex digits per piece, eight pieces or fewer
 * with "::", an IPv4address only as the last 32 bits); IPvFuture; dec-octet
 * without leading zeros ("1.01.1.1" is not an IPv4address, hence a reg-name);
 * port = *DIGIT (any length: no range check); path-abempty after an
 * authority, path-absolute / path-rootless / path-empty without, and in a
 * relative reference path-noscheme (no ":" in the first segment).
 * No octet outside the URI repertoire passes: controls, SP, DEL, 8-bit,
 * '"', "<", ">", "\", "^", "`", "{", "|", "}", a second "#", "[" "]" outside
 * an IP-literal. IPv6 zone identifiers (RFC 6874) are not accepted.
 *
 * @param flags  0 (URI: a scheme, a fragment allowed), OPES_URI_ABSOLUTE
 *               (absolute-URI: no fragment) or OPES_URI_REFERENCE
 *               (URI-reference: relative references too)
 * @param[out] out         on OPES_OK the components (views into buf); on
 *                         error every field is zero
 * @param[out] err_offset  on OPES_EBAD_URI the offset of the first byte
 *                         that cannot continue the URI (len when it ends
 *                         too early, e.g. "http://[::1"); on
 *                         OPES_EURI_NOT_ABSOLUTE the offset of the "#", or
 *                         0 when the scheme is missing; on
 *                         OPES_EURI_TOO_LONG, OPES_MAX_URI. Untouched on
 *                         success (may be NULL).
 * @return OPES_OK; OPES_EBAD_URI (not a URI, not even a relative reference
 *         when that is allowed); OPES_EURI_NOT_ABSOLUTE (a well-formed
 *         relative reference without OPES_URI_REFERENCE, or a fragment with
 *         OPES_URI_ABSOLUTE); OPES_EURI_TOO_LONG (len > OPES_MAX_URI,
 *         checked first); OPES_EINVAL (out NULL, buf NULL with len > 0,
 *         unknown flag bits, or both ABSOLUTE and REFERENCE).
 */
OPES_API opes_status opes_uri_parse(const char *buf, size_t len, unsigned flags, opes_uri *out,
                                    size_t *err_offset);

/**
 * Write the normal form of the URI src[0..src_len), validated first as
 * opes_uri_parse() does with the same flags. The rules, in this order:
 *
 * 1. Percent-encoding (RFC 3986 6.2.2.1, 6.2.2.2, 2.3), in every component
 *    that may hold it: a triplet for an unreserved character (ALPHA DIGIT
 *    "-" "." "_" "~") is decoded; every other triplet is kept with
 *    upper-case hex digits. A reserved character is never decoded or
 *    encoded (RFC 3986 2.2: "%2C" and "," are different URIs).
 * 2. Case (6.2.2.1, 3.1, 3.2.2): the scheme and the host in lower case
 *    (reg-name letters after step 1, IPvFuture); other components keep
 *    their case.
 * 3. IPv6 literal in its RFC 5952 4 text form: lower case, no leading
 *    zeros, "::" for the longest run of two or more zero pieces (the first
 *    on a tie), and the IPv4-mapped prefix ::ffff:0:0/96 with its last 32
 *    bits in dotted decimal (RFC 5952 5). The host component is
 *    case-insensitive (RFC 3986 3.2.2) and these spellings name the same
 *    address, so this only removes false negatives.
 * 4. Dot segments (6.2.2.3): remove_dot_segments (RFC 3986 5.2.4) on the
 *    path AFTER step 1, so "%2E%2E" is "..". Where the result, without an
 *    authority, would begin with "//" (and be read as one), "/." is put in
 *    front. A relative-path reference (no scheme, no authority, no leading
 *    "/") keeps its dot segments: they only have a meaning against a base
 *    (RFC 3986 5.2.1: a reference is resolved before it is normalised).
 * 5. Port (3.2.3, 6.2.3): leading zeros dropped; the ":" and port dropped
 *    when the port is empty or the scheme's default: http 80 (RFC 3986
 *    6.2.3), https 443 (RFC 7230 2.7.2), ws 80 and wss 443 (RFC 6455 3),
 *    ftp 21 (RFC 1738 3.2).
 * 6. Empty path with an authority becomes "/" (6.2.3: "In general, a URI
 *    that uses the generic syntax for authority with an empty path should
 *    be normalized to a path of "/"").
 *
 * Empty delimiters stay (6.2.3: "http://example.com/?" is not
 * "http://example.com/"); userinfo, query and fragment change only by step
 * 1. Scheme-specific rules beyond the above (e.g. mailto domains) are not
 * applied. The output is a valid URI for the same flags, and normalising it
 * again gives it back unchanged.
 *
 * Builder convention: OPES_OK with *len written, OPES_ENOSPC with *len the
 * size needed; dst may be NULL iff cap is 0; no NUL is written. On any other
 * error *len is 0. No heap memory is used.
 * @return also OPES_EBAD_URI, OPES_EURI_NOT_ABSOLUTE, OPES_EURI_TOO_LONG
 *         (the input, or the normal form, over OPES_MAX_URI), OPES_EINVAL.
 *         Use opes_uri_parse() for the offset of an error.
 */
OPES_API opes_status opes_uri_normalize(char *dst, size_t cap, size_t *len, const char *src,
                                        size_t src_len, unsigned flags);

/**
 * Are two URIs equivalent after opes_uri_normalize() (RFC 3986 6.2.2 and
 * 6.2.3)? Fragments take part (RFC 3986 6.1 leaves them out only when a
 * network action is selected; OPES_URI_ABSOLUTE refuses them). Relative
 * references are compared as written (their normal forms), not resolved.
 * No heap memory is used (two OPES_MAX_URI buffers on the stack).
 *
 * @param[out] equal  1 when equivalent, 0 when not; 0 on error
 * @return OPES_OK; the first error of a's or b's normalisation
 *         (OPES_EBAD_URI, OPES_EURI_NOT_ABSOLUTE, OPES_EURI_TOO_LONG);
 *         OPES_EINVAL (equal NULL, a or b NULL with a length, bad flags).
 */
OPES_API opes_status opes_uri_equal(const char *a, size_t alen, const char *b, size_t blen,
                                    unsigned flags, int *equal);

#ifdef __cplusplus
}
#endif
#endif /* OPES_URI_H */
