/* Allocation through the optional per-object allocator. */
#include "internal.h"

#include <stdlib.h>

void *opes__alloc(const opes_allocator *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (a && a->alloc)
        return a->alloc(a->user, size);
    return malloc(size);
}

void opes__free(const opes_allocator *a, void *p, size_t size)
{
    if (!p)
        return;
    if (a && a->free) {
        a->free(a->user, p, size ? size : 1);
        return;
    }
    free(p);
}
