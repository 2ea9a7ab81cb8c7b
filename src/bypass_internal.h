/*
 * Internal pieces of the bypass module shared by src/bypass.c and
 * src/bypass_decide.c. Nothing here is API. Include after "internal.h".
 */
#ifndef OPES_BYPASS_INTERNAL_H
#define OPES_BYPASS_INTERNAL_H

#include "internal.h"

/* Are two request items the same (docs/opes-smtp.md 2)? "*" equals only
 * "*"; URIs compare with opes_uri_equal(); anything that fails to parse
 * equals nothing. */
int opes__bypass_item_eq(const opes_str *a, const opes_str *b);

/* Write an OPES-Bypass field holding the items[0..n) that are not in
 * exclude (may be NULL) and not equal to an earlier item: "*" alone
 * when one of them is "*"; nothing when exclude holds "*" or no item is
 * left. Items are "<>"-wrapped as 3.1 asks and folded after commas at 78
 * columns; no line passes 998 octets for items of at most
 * OPES_BYPASS_MAX_ID octets. *written: items written (0: no field). */
opes_status opes__bypass_field_write(opes__wr *w, const opes_str *items, size_t n,
                                     const opes_bypass_list *exclude, size_t *written);

#endif
