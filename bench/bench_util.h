/* Benchmark support: corpus loading, a monotonic clock, the memchr/memcpy
 * baselines every figure is compared with, and heap-allocation counting
 * (the bench binaries link with -Wl,--wrap=malloc etc.). */
#ifndef OPES_BENCH_UTIL_H
#define OPES_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

char *bench_load(const char *dir, const char *name, size_t *len);
double bench_now(void);
/* Run fn(arg) repeatedly for at least min_seconds (and at least 3 times);
 * return the best seconds per run. */
double bench_best(void (*fn)(void *), void *arg, double min_seconds);
/* Baseline: find every line end with memchr; returns the number of lines. */
size_t bench_memchr_lines(const char *buf, size_t len);
/* Heap calls made through malloc/calloc/realloc since start. */
uint64_t bench_allocs(void);
/* Keep a value alive so the optimiser cannot drop the work. */
void bench_sink(size_t v);

#endif
