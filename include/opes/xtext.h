/*
 * libopes — xtext (RFC 3461 4) and the utf-8-addr-xtext / utf-8-addr-unitext
 * forms of RFC 6533 3, both ways.
 *
 * xtext carries arbitrary octets inside an esmtp-value: "+" and "=" and
 * anything outside "!".."~" are written as "+" two-upper-case-hex-digits.
 * It is the encoding of ENVID, ORCPT's address, AUTH=, and the OPES bypass
 * parameter.
 */
#ifndef OPES_XTEXT_H
#define OPES_XTEXT_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Check that src[0..len) is xtext: *( xchar / hexchar ), xchar = %x21-2A /
 * %x2C-3C / %x3E-7E, hexchar = "+" 2(upper-case HEXDIG).
 *
 * @param lenient  OPES_LENIENT_XTEXT_CASE accepts lower-case hex digits
 *                 (and sets OPES_NOTE_XTEXT_CASE in *notes); other bits ignored
 * @param[out] err_offset offset of the offending byte on error: the byte
 *                 that is not an xchar, or the first byte after a "+" that
 *                 is not a hex digit (len if the input ends inside a
 *                 hexchar); untouched on success (may be NULL)
 * @param[out] notes      OPES_NOTE_* bits, set (not OR-ed) (may be NULL)
 * @return OPES_OK, OPES_EBAD_XTEXT, OPES_EINVAL (src NULL with len > 0).
 */
OPES_API opes_status opes_xtext_validate(const char *src, size_t len, unsigned lenient,
                                         size_t *err_offset, unsigned *notes);

/**
 * Decode xtext into octets (which may be anything, NUL included: the caller
 * judges them). Builder convention: OPES_OK with *len written, OPES_ENOSPC
 * with *len needed; dst may be NULL iff cap is 0; no NUL is appended.
 * The whole input is validated first: on OPES_EBAD_XTEXT nothing is written
 * and *len is 0 (use opes_xtext_validate() for the offset).
 * @param lenient  OPES_LENIENT_XTEXT_CASE accepts lower-case hex digits.
 * @return also OPES_EBAD_XTEXT, OPES_EINVAL.
 */
OPES_API opes_status opes_xtext_decode(char *dst, size_t cap, size_t *len, const char *src,
                                       size_t src_len, unsigned lenient);

/**
 * Encode octets as xtext: xchars as themselves, everything else (including
 * "+", "=", SP, controls, 8-bit octets) as "+XX" with upper-case hex.
 * Builder convention. Always succeeds for valid arguments.
 */
OPES_API opes_status opes_xtext_encode(char *dst, size_t cap, size_t *len, const char *src,
                                       size_t src_len);

/** The two 7-bit-or-UTF-8 encoded forms of a UTF-8 address (RFC 6533 3). */
enum opes_utf8addr_form {
    /** utf-8-addr-xtext: QCHAR and \x{HEX} only; 7-bit, safe without SMTPUTF8. */
    OPES_UTF8ADDR_XTEXT = 0,
    /** utf-8-addr-unitext: QCHAR, raw UTF-8 and \x{HEX} for the specials. */
    OPES_UTF8ADDR_UNITEXT = 1
};

/**
 * Decode utf-8-addr-xtext or utf-8-addr-unitext (RFC 6533 3) into the UTF-8
 * address: each EmbeddedUnicodeChar "\x{HEXPOINT}" becomes the UTF-8 of its
 * code point. HEXPOINT follows the RFC's ABNF exactly: no leading zeros
 * beyond its forms, no surrogates, at most U+10FFFF (the RFC's "10" 4*HEXDIG
 * is read as six digits in all), no escape of a QCHAR ("\x{41}"), and none of
 * 00, 0A-0F, 1A-1F, for which the two-digit forms have no alternative. The
 * hex digits may be lower case on input (RFC 5234 2.3: ABNF strings are
 * case-insensitive); "\x" itself is case-sensitive (%x5C.78). Raw non-ASCII
 * is accepted only as well-formed UTF-8 and only with OPES_UTF8ADDR_UNITEXT.
 * Both forms are 1*(...): the empty string is OPES_EBAD_UTF8ADDR. The
 * decoded bytes are not checked against the Mailbox grammar (RFC 6533 3
 * says they MUST follow it): run opes_mailbox_parse() on them.
 * The input is validated first: on error nothing is written and *len is 0.
 * Builder convention; also OPES_EBAD_UTF8ADDR, OPES_EBAD_UTF8 (malformed raw
 * UTF-8 in unitext), OPES_EINVAL (bad form or arguments).
 * @param[out] err_offset offset in src of the offending byte, or of the "\"
 *                        of a malformed EmbeddedUnicodeChar (may be NULL)
 */
OPES_API opes_status opes_utf8addr_decode(char *dst, size_t cap, size_t *len, const char *src,
                                          size_t src_len, int form, size_t *err_offset);

/**
 * Encode a UTF-8 address (validated: OPES_EBAD_UTF8 otherwise) as
 * utf-8-addr-xtext (every non-QCHAR as \x{HEX}) or utf-8-addr-unitext
 * (non-ASCII kept as UTF-8, CTLs, SP, "\", "+", "=" as \x{HEX}), with
 * upper-case hex and the shortest HEXPOINT. Builder convention.
 * @return OPES_OK, OPES_ENOSPC; OPES_EBAD_UTF8 (src not UTF-8);
 *         OPES_EINJECT (NUL, CR or LF in src); OPES_EBAD_UTF8ADDR (src empty,
 *         or a control character HEXPOINT cannot express: 0B, 0C, 0E, 0F,
 *         1A-1F); OPES_EINVAL. On error *len is 0.
 */
OPES_API opes_status opes_utf8addr_encode(char *dst, size_t cap, size_t *len, const char *src,
                                          size_t src_len, int form);

#ifdef __cplusplus
}
#endif
#endif /* OPES_XTEXT_H */
