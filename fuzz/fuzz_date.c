/*
 * libFuzzer harness for opes_date_parse / opes_date_build /
 * opes_date_to_unix / opes_date_from_unix.
 *
 * Byte 0 holds the parse flags (OPES_DATE_STRICT, OPES_DATE_LENIENT_*: bits
 * 0-4). The rest is the date-time text.
 * Invariants: a parsed date has every field in range; it builds, and the
 * built text (never with CR, LF or NUL) parses strictly to the same fields;
 * to_unix -> from_unix at the same zone gives the same fields (leap second
 * aside); a strict success is a default success too. The first 8 bytes, as
 * an int64, also go through from_unix -> to_unix.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int same(const opes_datetime *a, const opes_datetime *b)
{
    return a->year == b->year && a->month == b->month && a->day == b->day && a->hour == b->hour &&
           a->minute == b->minute && a->second == b->second && a->zone == b->zone;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opes_datetime dt, d2, d3;
    size_t err = 0, len, blen = 0;
    unsigned flags;
    const char *buf;
    char out[64];
    int64_t t = 0;
    opes_status st;

    if (size < 1)
        return 0;
    if (size >= 9) {
        int64_t x;
        memcpy(&x, data + 1, sizeof x);
        if (opes_date_from_unix(x, (int)(int8_t)data[0] * 47, &dt) == OPES_OK) {
            if (opes_date_to_unix(&dt, &t) != OPES_OK || t != x)
                __builtin_trap();
        }
    }
    flags = data[0] & 0x1f;
    buf = (const char *)data + 1;
    len = size - 1;
    st = opes_date_parse(buf, len, flags, &dt, &err);
    if (st != OPES_OK) {
        if (err > len || dt.year != 0 || dt.weekday != -1)
            __builtin_trap();
        return 0;
    }
    if (err != 0 || dt.year < 1900 || dt.year > 9999 || dt.month < 1 || dt.month > 12 ||
        dt.day < 1 || dt.day > 31 || dt.hour > 23 || dt.minute > 59 || dt.second > 60 ||
        dt.zone < -5999 || dt.zone > 5999 || dt.weekday < -1 || dt.weekday > 6)
        __builtin_trap();
    if ((flags & OPES_DATE_STRICT) && (dt.flags & OPES_DATE_F_OBS))
        __builtin_trap();
    if ((flags & OPES_DATE_STRICT) && opes_date_parse(buf, len, 0, &d2, NULL) != OPES_OK)
        __builtin_trap();
    /* build, parse strictly again */
    if (opes_date_build(out, sizeof out, &blen, &dt) != OPES_OK)
        __builtin_trap();
    for (size_t i = 0; i < blen; i++)
        if (out[i] == '\r' || out[i] == '\n' || out[i] == 0)
            __builtin_trap();
    if (opes_date_parse(out, blen, OPES_DATE_STRICT, &d2, NULL) != OPES_OK || !same(&dt, &d2) ||
        (d2.flags & OPES_DATE_F_ZONE_UNKNOWN) != (dt.flags & OPES_DATE_F_ZONE_UNKNOWN) ||
        d2.weekday < 0 ||
        (dt.weekday >= 0 && !(dt.flags & OPES_DATE_F_DOW_MISMATCH) && d2.weekday != dt.weekday))
        __builtin_trap();
    /* Unix time */
    if (opes_date_to_unix(&dt, &t) != OPES_OK)
        __builtin_trap();
    st = opes_date_from_unix(t, dt.zone, &d3);
    if (dt.second != 60 && st == OPES_OK && !same(&dt, &d3))
        __builtin_trap();
    return 0;
}
