/*
 * What the libFuzzer harnesses share: the invariant check (abort on
 * failure, so that libFuzzer and fuzz/standalone.c both report it) and a
 * growable byte buffer for the event logs the split-input harnesses
 * compare. A harness may define CHECK itself before including this.
 */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifndef CHECK
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)
#endif

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static inline void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        CHECK(b->p);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

#endif
