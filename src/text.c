/* Small locale-free text helpers shared by the parsers. */
#include "internal.h"

int opes__ieq(const char *p, size_t n, const char *upper_lit)
{
    for (size_t i = 0; i < n; i++) {
        if (upper_lit[i] == '\0' || opes__upper((unsigned char)p[i]) != (unsigned char)upper_lit[i])
            return 0;
    }
    return upper_lit[n] == '\0';
}

int opes__ieq2(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++) {
        if (opes__upper((unsigned char)a[i]) != opes__upper((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

int opes__hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t opes__unsafe_at(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\r' || c == '\n' || c == '\0')
            return i;
    }
    return n;
}

size_t opes__keyword_bad(const char *p, size_t n)
{
    if (n == 0 || !OPES__IS(p[0], OPES__C_ALPHA | OPES__C_DIGIT))
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (!OPES__IS_LDH(p[i]))
            return i;
    }
    return n;
}

size_t opes__ehlo_params_bad(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ') {
            if (i == 0 || p[i - 1] == ' ' || i + 1 == n)
                return i;
        } else if (!OPES__IS(p[i], OPES__C_VCHAR)) {
            return i;
        }
    }
    return n;
}

size_t opes__digits_u64(const char *p, size_t n, uint64_t *v, int *overflow)
{
    uint64_t x = 0;
    size_t i = 0;
    *overflow = 0;
    while (i < n && OPES__IS(p[i], OPES__C_DIGIT)) {
        unsigned d = (unsigned)(p[i] - '0');
        if (x > (UINT64_MAX - d) / 10) {
            *overflow = 1;
            break;
        }
        x = x * 10 + d;
        i++;
    }
    *v = x;
    return i;
}

int opes__sasl_char(unsigned char c, int any_case)
{
    return (c >= 'A' && c <= 'Z') || (any_case && c >= 'a' && c <= 'z') ||
           OPES__IS(c, OPES__C_DIGIT) || c == '-' || c == '_';
}
