/* Shared between the delivery-status content parser (dsn_read.c) and the
 * report finder (dsn_report.c). */
#ifndef OPES_DSN_READ_INTERNAL_H
#define OPES_DSN_READ_INTERNAL_H

#include "opes/dsn_read.h"
#include "opes/header.h"

/* The header parse flags (OPES_HEADER_*) of a set of OPES_DSN_READ_* flags. */
unsigned opes__dsn_header_flags(unsigned flags);

/* One header field, the empty line or the end at b[pos..len), parsed with
 * opes_header_field_parse() (eof set); a last line without its line end is
 * taken as the field it is (*noeol set). On error *err (may be NULL) is the
 * offset of the offending byte in b. */
opes_status opes__dsn_field_at(const char *b, size_t len, size_t pos, unsigned hflags,
                               opes_header_field *f, size_t *used, int *noeol, size_t *err);

#endif
