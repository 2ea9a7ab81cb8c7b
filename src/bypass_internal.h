/*
 * Internal pieces of the bypass module shared by src/bypass.c and
 * src/bypass_decide.c. Nothing here is API. Include after "internal.h".
 */
#ifndef OPES_BYPASS_INTERNAL_H
#define OPES_BYPASS_INTERNAL_H

#include "internal.h"

/* A sequence of request items from two kinds of storage, read one at a
 * time without copying them all (nothing here allocates): first the
 * decoded items arr[0..narr), then the items of the XOPES-BYPASS values
 * vals[0..nvals) (xtext, decoded on demand with flags). */
struct opes__bsrc {
    const opes_str *arr;
    size_t narr;
    const opes_str *vals;
    size_t nvals;
    unsigned flags;
};

/* The number of items. */
size_t opes__bsrc_count(const struct opes__bsrc *s);
/* Item i into *out: a view into arr, or decoded into buf (which must hold
 * OPES_BYPASS_MAX_VALUE octets; *out then points into it). 0 when there is
 * no item i. */
int opes__bsrc_get(const struct opes__bsrc *s, size_t i, char *buf, opes_str *out);

/* Are two request items the same (docs/opes-smtp.md 2)? "*" equals only
 * "*"; URIs compare with opes_uri_equal(); anything that fails to parse
 * equals nothing. */
int opes__bypass_item_eq(const opes_str *a, const opes_str *b);

/* Write an OPES-Bypass field holding the items of src that are not in
 * exclude (may be NULL) and not equal to an earlier item of src: "*" alone
 * when one of them is "*"; nothing when exclude holds "*" or no item is
 * left. Items are "<>"-wrapped as 3.1 asks and folded after commas at 78
 * columns; no line passes 998 octets for items of at most
 * OPES_BYPASS_MAX_ID octets. *written: items written (0: no field). */
opes_status opes__bypass_field_write(opes__wr *w, const struct opes__bsrc *src,
                                     const opes_bypass_list *exclude, size_t *written);

#endif
