/*
 * Internals of the DATA codec (src/data.c) that the tests reach through the
 * static library. Not API.
 */
#ifndef OPES_DATA_INTERNAL_H
#define OPES_DATA_INTERNAL_H

#include <stddef.h>

/* The first CR or LF in [p, end), or end. The build's fastest version (SSE2
 * where the compiler targets it). */
const char *opes__data_find_eol(const char *p, const char *end);
/* The portable word-at-a-time version, kept under the same tests. */
const char *opes__data_find_eol_scalar(const char *p, const char *end);

#endif
