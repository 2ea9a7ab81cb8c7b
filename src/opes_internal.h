/*
 * libopes internal header for the OPES layer (trace, bypass): grammar pieces
 * shared between src/trace*.c and src/bypass*.c. Nothing here is API.
 * Include after "internal.h".
 *
 * The syntax is docs/opes-smtp.md 3.1:
 *
 *     agent-ref = "<" absolute-URI ">" / bare-uri
 *     FWS       = ([*WSP CRLF] 1*WSP)            ; RFC 5322 3.2.2
 *
 * The delimiting rule of a bare URI (docs/opes-smtp.md 3.1): it ends at the
 * first WSP, CR or LF, at the end of the value, or before a "," or ";" that
 * is followed by WSP, CR, LF or the end of the value. So
 * "http://a.example/x;v=2" is one URI and "http://a.example/x; mode=A" is a
 * URI followed by a parameter. Inside "<" ">" every URI character is data.
 */
#ifndef OPES_OPES_INTERNAL_H
#define OPES_OPES_INTERNAL_H

#include "internal.h"

/*
 * Skip FWS at buf[*pos..len): runs of WSP, and line ends (CRLF, or a bare
 * LF as opes_header_unfold() accepts it) that are followed by WSP (a fold,
 * RFC 5322 2.2.3). Folds come from a raw field body
 * (opes_header_field.raw); an unfolded value simply has none.
 * Returns 0 with *pos after the FWS (unchanged when there is none), or -1
 * with *pos at the offending byte: a CR not followed by LF, or a line end
 * not followed by WSP (the raw body cannot end in one either).
 */
int opes__fws_skip(const char *buf, size_t len, size_t *pos);

/*
 * Scan the agent-ref that starts at buf[pos] (pos <= len; FWS before it
 * already skipped). It does NOT check that the URI is an absolute-URI: run
 * opes_uri_parse(uri->ptr, uri->len, OPES_URI_ABSOLUTE, ...) on *uri (its
 * error offsets are relative to uri->ptr).
 *
 * OPES_OK: *uri is the URI without "<" ">" (a view into buf, never empty),
 * *bracketed 1 for the "<>" form, *end the index just past the agent-ref
 * (past the ">" for the "<>" form).
 * OPES_EBAD_TRACE, *err the offending offset in buf: nothing there (pos ==
 * len, or a delimiter at pos: WSP, CR, LF, or a "," / ";" followed by a
 * delimiter); "<>"; a "<" whose URI is cut by a byte that is no URI
 * character (CTL, SP, DEL, 8-bit, "<", '"') or by the end (at len) before
 * its ">".
 * The bypass module maps the status to OPES_EBAD_BYPASS itself.
 */
opes_status opes__agent_ref_scan(const char *buf, size_t len, size_t pos, opes_str *uri,
                                 int *bracketed, size_t *end, size_t *err);

/* Whether the URI u[0..n) must be written in the "<>" form
 * (docs/opes-smtp.md 3.1): it contains "(", ")", "," or ";" (MUST for the
 * parentheses and a trailing "," or ";", SHOULD for the rest; libopes
 * writes "<>" for all of them), or it is empty or contains a byte the bare
 * form cannot carry (WSP, CR, LF, which no URI holds anyway). */
int opes__agent_ref_needs_brackets(const char *u, size_t n);

#endif /* OPES_OPES_INTERNAL_H */
