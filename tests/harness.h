/*
 * The in-tree test harness: CHECK macros printing file:line (and a hex dump
 * for memory), a guarded-page buffer so a one-byte over-read faults even
 * without ASan, and the closing "N passed, N failed" line.
 *
 * Use:  int main(void) { ...CHECK(...)...; return TEST_END(); }
 */
#ifndef OPES_TEST_HARNESS_H
#define OPES_TEST_HARNESS_H

#include <opes/opes.h>
#include <stdio.h>
#include <string.h>

extern unsigned long test_passed, test_failed;

void test_fail_at(const char *file, int line, const char *what);
void test_hexdump(const char *label, const void *p, size_t n);
int test_end(void);

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (cond)                                                                          \
            test_passed++;                                                                 \
        else                                                                               \
            test_fail_at(__FILE__, __LINE__, #cond);                                       \
    } while (0)

/* Compare two integers, printing both on failure. */
#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);                              \
        if (va_ == vb_)                                                                    \
            test_passed++;                                                                 \
        else {                                                                             \
            test_fail_at(__FILE__, __LINE__, #a " == " #b);                                \
            fprintf(stderr, "    got %lld, want %lld\n", va_, vb_);                        \
        }                                                                                  \
    } while (0)

/* Compare a status, printing names on failure. */
#define CHECK_ST(a, b)                                                                     \
    do {                                                                                   \
        int sa_ = (int)(a), sb_ = (int)(b);                                                \
        if (sa_ == sb_)                                                                    \
            test_passed++;                                                                 \
        else {                                                                             \
            test_fail_at(__FILE__, __LINE__, #a " == " #b);                                \
            fprintf(stderr, "    got %s, want %s\n", opes_status_name(sa_),               \
                    opes_status_name(sb_));                                                \
        }                                                                                  \
    } while (0)

/* Compare memory, with a hex dump of both on failure. */
#define CHECK_MEM(p, n, q, m)                                                              \
    do {                                                                                   \
        const void *pp_ = (p), *qq_ = (q);                                                 \
        size_t nn_ = (n), mm_ = (m);                                                       \
        if (nn_ == mm_ && (nn_ == 0 || memcmp(pp_, qq_, nn_) == 0))                        \
            test_passed++;                                                                 \
        else {                                                                             \
            test_fail_at(__FILE__, __LINE__, #p " == " #q);                                \
            test_hexdump("got ", pp_, nn_);                                                \
            test_hexdump("want", qq_, mm_);                                                \
        }                                                                                  \
    } while (0)

/* An opes_str equals a C string literal. */
#define CHECK_STR(s, lit) CHECK_MEM((s).ptr, (s).len, (lit), strlen(lit))

#define TEST_END() test_end()

/*
 * Copy n bytes so that they end exactly at the end of a readable page
 * followed by a PROT_NONE page: reading one byte past them faults.
 * Returns the copy; release with guarded_free(). Falls back to malloc
 * where mmap is unavailable.
 */
const char *guarded_copy(const void *p, size_t n);
void guarded_free(const char *p);

/* Read a whole file (relative paths are taken from the source tree).
 * Returns malloc'd bytes (NUL-terminated for convenience, *n excludes it),
 * or NULL. */
char *test_read_file(const char *path, size_t *n);

/* A check run thousands of times per input (once per split of it): a
 * failure counts and is printed, a success is not counted (the comparison
 * of the splits that follows is). */
#define VERIFY(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test_fail_at(__FILE__, __LINE__, #cond);                                               \
    } while (0)

/* A growing byte log, NUL-terminated, for the event logs the streaming
 * tests compare across splits. Zero-initialise; release with lfree(). */
typedef struct tlog {
    char *p;
    size_t n, cap;
} tlog;
void lput(tlog *l, const void *p, size_t n);
void lputs(tlog *l, const char *s);
void lnum(tlog *l, unsigned long long v);
void lfree(tlog *l);

#endif
