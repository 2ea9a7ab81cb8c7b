/* The in-tree test harness (see harness.h). */
#define _DEFAULT_SOURCE 1
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

unsigned long test_passed, test_failed;

void test_fail_at(const char *file, int line, const char *what)
{
    test_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
}

void test_hexdump(const char *label, const void *p, size_t n)
{
    const unsigned char *b = p;
    fprintf(stderr, "    %s (%zu):", label, n);
    for (size_t i = 0; i < n && i < 256; i++) {
        if (i % 32 == 0)
            fprintf(stderr, "\n     ");
        fprintf(stderr, " %02x", b[i]);
    }
    if (n > 256)
        fprintf(stderr, " ...");
    fprintf(stderr, "\n     \"");
    for (size_t i = 0; i < n && i < 256; i++)
        fputc(b[i] >= 32 && b[i] < 127 ? b[i] : '.', stderr);
    fprintf(stderr, "\"\n");
}

int test_end(void)
{
    printf("%lu passed, %lu failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

struct guard_hdr {
    void *base;
    size_t total;
};

const char *guarded_copy(const void *p, size_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    /* at least one data page, so the header and a zero-length copy (which
     * points at the guard page itself, never read) stay apart */
    size_t data_pages = (n + sizeof(struct guard_hdr) + page - 1) / page;
    if (data_pages == 0)
        data_pages = 1;
    size_t total = (data_pages + 1) * page;
    unsigned char *base =
        mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    unsigned char *guard = base + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) {
        munmap(base, total);
        return NULL;
    }
    unsigned char *dst = guard - n;
    struct guard_hdr h = {base, total};
    memcpy(base, &h, sizeof h);
    if (n)
        memcpy(dst, p, n);
    return (const char *)dst;
}

void guarded_free(const char *p)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    if (!p)
        return;
    /* the header sits at the start of the first page of the mapping; a
     * zero-length copy points at the guard page: start one byte before */
    uintptr_t a = (uintptr_t)p - 1;
    uintptr_t first = a & ~(uintptr_t)(page - 1);
    /* p may sit on a later page; walk back until a header matches */
    for (;;) {
        struct guard_hdr h;
        memcpy(&h, (const void *)first, sizeof h);
        if ((uintptr_t)h.base == first && h.total >= page && h.total < ((size_t)1 << 40)) {
            munmap(h.base, h.total);
            return;
        }
        first -= page;
    }
}

char *test_read_file(const char *path, size_t *n)
{
    char full[4096];
    FILE *f;
    if (path[0] != '/') {
        snprintf(full, sizeof full, "%s/%s", OPES_SRCDIR, path);
        path = full;
    }
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            fclose(f);
            return NULL;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (len < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb)
            free(buf);
        buf = nb;
    }
    fclose(f);
    buf[len] = '\0';
    *n = len;
    return buf;
}

void lput(tlog *l, const void *p, size_t n)
{
    if (l->n + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->n + n + 1)
            cap *= 2;
        l->p = realloc(l->p, cap);
        if (!l->p)
            abort();
        l->cap = cap;
    }
    if (n)
        memcpy(l->p + l->n, p, n);
    l->n += n;
    l->p[l->n] = 0;
}

void lputs(tlog *l, const char *s)
{
    lput(l, s, strlen(s));
}

void lnum(tlog *l, unsigned long long v)
{
    char t[32];
    snprintf(t, sizeof t, "%llu", v);
    lputs(l, t);
}

void lfree(tlog *l)
{
    free(l->p);
    l->p = NULL;
    l->n = l->cap = 0;
}
