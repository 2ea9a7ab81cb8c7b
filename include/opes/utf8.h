/*
 * libopes — UTF-8 validation (RFC 3629), the one validator of the library.
 */
#ifndef OPES_UTF8_H
#define OPES_UTF8_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Check that buf[0..len) is well-formed UTF-8 (RFC 3629 4: no overlong forms,
 * no surrogates, nothing above U+10FFFF). NUL is a valid code point here;
 * grammars that forbid it say so themselves.
 *
 * @param[out] bad_offset on OPES_EBAD_UTF8, offset of the first byte of the
 *                        ill-formed sequence (may be NULL)
 * @return OPES_OK, OPES_EBAD_UTF8, OPES_EINVAL (buf NULL with len > 0).
 */
OPES_API opes_status opes_utf8_validate(const char *buf, size_t len, size_t *bad_offset);

#ifdef __cplusplus
}
#endif
#endif /* OPES_UTF8_H */
