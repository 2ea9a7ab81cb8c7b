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
