/*
 * libopes — common definitions shared by every public header.
 *
 * Views, the allocator hook and the export macro. Included by every other
 * header; users include <opes/opes.h>.
 */
#ifndef OPES_COMMON_H
#define OPES_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(OPES_BUILDING) && defined(__GNUC__)
#define OPES_API __attribute__((visibility("default")))
#else
#define OPES_API /* a Windows port adds dllexport/dllimport here */
#endif

/**
 * A view of bytes owned by someone else: never NUL-terminated by promise.
 * Every function that returns one says whose bytes they are and for how long
 * they live (usually: as long as the caller keeps the input buffer).
 */
typedef struct opes_str {
    const char *ptr; /* NULL only when len == 0 */
    size_t len;
} opes_str;

/**
 * Optional per-object allocator (nghttp2 style). Passing NULL wherever an
 * allocator is taken means malloc/realloc/free. There are no process-global
 * hooks: two users of libopes in one process never see each other.
 * realloc may be NULL, in which case alloc+copy+free is used.
 */
typedef struct opes_allocator {
    void *(*alloc)(void *user, size_t size);
    void *(*realloc)(void *user, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *user, void *ptr, size_t size);
    void *user;
} opes_allocator;

#ifdef __cplusplus
}
#endif
#endif /* OPES_COMMON_H */
