/*
 * Internals of the trace module (src/trace.c, src/trace_object.c,
 * src/trace_reader.c). Nothing here is API. Include after "internal.h".
 */
#ifndef OPES_TRACE_INTERNAL_H
#define OPES_TRACE_INTERNAL_H

#include "internal.h"

/* The streaming folder: opes_header_field_build()'s folding over a value
 * given piece by piece (src/trace.c). buf holds the bytes of the current
 * line not written yet; see the comment above its code for its size. */
#define OPES__TRACE_FOLD_BUF (78 + 2 * 998)
typedef struct opes__trace_fold {
    opes__wr *w;
    const char *eol;
    size_t n;        /* bytes in buf */
    size_t prefix;   /* octets before buf[0] on the current line */
    opes_status err; /* OPES_OK or OPES_EHEADER_LINE_TOO_LONG */
    char buf[OPES__TRACE_FOLD_BUF];
} opes__trace_fold;

void opes__trace_fold_init(opes__trace_fold *f, opes__wr *w, const char *name, size_t name_len,
                           int lf);
void opes__trace_fold_put(opes__trace_fold *f, const char *p, size_t n);
/* Write the rest; OPES_OK or OPES_EHEADER_LINE_TOO_LONG. */
opes_status opes__trace_fold_finish(opes__trace_fold *f);

/* Where value bytes go: straight to a writer (f NULL) or through a folder. */
typedef struct opes__trace_sink {
    opes__wr *w;
    opes__trace_fold *f;
} opes__trace_sink;

void opes__trace_sink_init(opes__trace_sink *s, opes__wr *w, opes__trace_fold *f);
void opes__trace_sink_put(opes__trace_sink *s, const char *p, size_t n);

/* Write an id bare or in "<>" (docs/opes-smtp.md 3.1). */
void opes__trace_put_id(opes__trace_sink *s, const char *id, size_t len);
/* Its length as written. */
size_t opes__trace_id_written_len(const char *id, size_t len);
/* Write "; " name "=" value, the value as a token or a quoted-string. The
 * name and value must have passed the checks. */
void opes__trace_put_param(opes__trace_sink *s, const char *name, size_t nlen, const char *val,
                           size_t vlen);
/* An id to write: no CR/LF/NUL (OPES_EINJECT), a URI under uri_flags
 * (opes_uri_parse()'s errors), at most OPES_TRACE_MAX_ID written
 * (OPES_EURI_TOO_LONG). */
opes_status opes__trace_id_check(const char *id, size_t len, unsigned uri_flags);
/* A parameter value to write: OPES_EINJECT, OPES_EBAD_CHAR, OPES_OK. */
opes_status opes__trace_value_check(const char *v, size_t n);
/* param-name: the offset of the first bad byte, n when p[0..n) is one.
 * An empty name gives 0 == n: callers test n == 0 first. */
size_t opes__trace_param_name_bad(const char *p, size_t n);

#endif /* OPES_TRACE_INTERNAL_H */
