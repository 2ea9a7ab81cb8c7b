/* The one output writer every builder uses (see internal.h). */
#include "internal.h"

void opes__wr_init(opes__wr *w, char *dst, size_t cap)
{
    w->dst = dst;
    w->cap = dst ? cap : 0;
    w->len = 0;
    w->overflow = 0;
}

void opes__wr_put(opes__wr *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (n > SIZE_MAX - w->len) {
        w->overflow = 1;
        w->len = SIZE_MAX;
        return;
    }
    if (w->len < w->cap) {
        size_t room = w->cap - w->len;
        memcpy(w->dst + w->len, p, n < room ? n : room);
    }
    w->len += n;
}

void opes__wr_putc(opes__wr *w, char c)
{
    if (w->len == SIZE_MAX) {
        w->overflow = 1;
        return;
    }
    if (w->len < w->cap)
        w->dst[w->len] = c;
    w->len++;
}

void opes__wr_puts(opes__wr *w, const char *s)
{
    opes__wr_put(w, s, strlen(s));
}

void opes__wr_str(opes__wr *w, opes_str s)
{
    if (s.len)
        opes__wr_put(w, s.ptr, s.len);
}

void opes__wr_u64(opes__wr *w, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + (v % 10));
        v /= 10;
    } while (v);
    opes__wr_put(w, tmp + i, sizeof tmp - i);
}

opes_status opes__wr_finish(const opes__wr *w, size_t *len)
{
    *len = w->len;
    if (w->overflow)
        return OPES_EOVERFLOW;
    return w->len <= w->cap ? OPES_OK : OPES_ENOSPC;
}
