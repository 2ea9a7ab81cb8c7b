/* RFC 5322 date-time: parse (3.3, obsolete forms 4.3), build, Unix time.
 * Expectations: the RFC 5322 Appendix A examples (quoted), RFC 5322 4.3's
 * zone table, and calendar facts computed independently (Python's
 * calendar.timegm / datetime, noted at each use). */
#include "harness.h"

#include <stdlib.h>

static opes_status parse(const char *s, unsigned flags, opes_datetime *dt, size_t *err)
{
    size_t n = strlen(s);
    const char *g = guarded_copy(s, n);
    opes_status st = opes_date_parse(g, n, flags, dt, err);
    guarded_free(g);
    return st;
}

static void check_dt(const opes_datetime *dt, int y, int mo, int d, int h, int mi, int s, int zone,
                     int wd)
{
    CHECK_EQ(dt->year, y);
    CHECK_EQ(dt->month, mo);
    CHECK_EQ(dt->day, d);
    CHECK_EQ(dt->hour, h);
    CHECK_EQ(dt->minute, mi);
    CHECK_EQ(dt->second, s);
    CHECK_EQ(dt->zone, zone);
    CHECK_EQ(dt->weekday, wd);
}

static void test_rfc5322_examples(void)
{
    opes_datetime dt;
    size_t err = 99;

    /* RFC 5322 A.1.1: "Date: Fri, 21 Nov 1997 09:55:06 -0600" */
    CHECK_ST(parse("Fri, 21 Nov 1997 09:55:06 -0600", 0, &dt, &err), OPES_OK);
    check_dt(&dt, 1997, 11, 21, 9, 55, 6, -360, 5);
    CHECK_EQ(dt.flags, 0);
    CHECK_EQ(err, 0);
    CHECK_ST(parse("Fri, 21 Nov 1997 09:55:06 -0600", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    /* the field body as a header scanner hands it over: leading SP */
    CHECK_ST(parse(" Fri, 21 Nov 1997 09:55:06 -0600", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    /* RFC 5322 A.3: "Resent-Date: Mon, 24 Nov 1997 14:22:01 -0800" */
    CHECK_ST(parse("Mon, 24 Nov 1997 14:22:01 -0800", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    check_dt(&dt, 1997, 11, 24, 14, 22, 1, -480, 1);
    /* RFC 5322 A.4, in a Received field: "21 Nov 1997 10:05:43 -0600" (no day-of-week) */
    CHECK_ST(parse("  21 Nov 1997 10:05:43 -0600", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    check_dt(&dt, 1997, 11, 21, 10, 5, 43, -360, -1);
    /* RFC 5322 A.6.1: "Date: Tue, 1 Jul 2003 10:52:37 +0200" (a 1-digit day) */
    CHECK_ST(parse("Tue, 1 Jul 2003 10:52:37 +0200", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    check_dt(&dt, 2003, 7, 1, 10, 52, 37, 120, 2);

    /* RFC 5322 A.5 "White Space, Comments, and Other Oddities": FWS
     * everywhere, no seconds, a comment at the end: "perfectly legal",
     * i.e. current (not obsolete) syntax. */
    {
        const char *a5 = "Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
                         "               -0330 (Newfoundland Time)";
        CHECK_ST(parse(a5, OPES_DATE_STRICT, &dt, NULL), OPES_OK);
        check_dt(&dt, 1969, 2, 13, 23, 32, 0, -210, 4);
        CHECK_EQ(dt.flags, OPES_DATE_F_NO_SECONDS);
    }
    /* RFC 5322 A.6.2 "Obsolete Dates": "Date: 21 Nov 97 09:55:06 GMT" —
     * "a non-numeric time zone and a two digit year" */
    CHECK_ST(parse("21 Nov 97 09:55:06 GMT", 0, &dt, NULL), OPES_OK);
    check_dt(&dt, 1997, 11, 21, 9, 55, 6, 0, -1);
    CHECK_EQ(dt.flags, OPES_DATE_F_OBS_YEAR | OPES_DATE_F_OBS_ZONE);
    CHECK_ST(parse("21 Nov 97 09:55:06 GMT", OPES_DATE_STRICT, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 7); /* the year */
    /* RFC 5322 A.6.3: "Date  : Fri, 21 Nov 1997 09(comment):   55  :  06 -0600" */
    CHECK_ST(parse("Fri, 21 Nov 1997 09(comment):   55  :  06 -0600", 0, &dt, NULL), OPES_OK);
    check_dt(&dt, 1997, 11, 21, 9, 55, 6, -360, 5);
    CHECK_EQ(dt.flags, OPES_DATE_F_OBS_CFWS);
    CHECK_ST(parse("Fri, 21 Nov 1997 09(comment):   55  :  06 -0600", OPES_DATE_STRICT, &dt, &err),
             OPES_EBAD_DATE);
    CHECK_EQ(err, 19);
    /* RFC 5322 erratum 6639: "Date: Mon, 12 Jul 2021 18:32:01 GMT" (FreeBSD mail(1)) */
    CHECK_ST(parse("Mon, 12 Jul 2021 18:32:01 GMT", 0, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_OBS_ZONE);
}

static void test_obsolete(void)
{
    opes_datetime dt;
    /* RFC 5322 4.3 zone table */
    static const struct {
        const char *z;
        int off;
    } zones[] = {{"UT", 0},     {"GMT", 0},    {"EDT", -240}, {"EST", -300},
                 {"CDT", -300}, {"CST", -360}, {"MDT", -360}, {"MST", -420},
                 {"PDT", -420}, {"PST", -480}, {"pst", -480}, {"Gmt", 0}};
    for (size_t k = 0; k < sizeof zones / sizeof zones[0]; k++) {
        char buf[64];
        snprintf(buf, sizeof buf, "1 Jan 2026 00:00:00 %s", zones[k].z);
        CHECK_ST(parse(buf, 0, &dt, NULL), OPES_OK);
        CHECK_EQ(dt.zone, zones[k].off);
        CHECK_EQ(dt.flags, OPES_DATE_F_OBS_ZONE);
    }
    /* military zones: "SHOULD all be considered equivalent to -0000" */
    for (char ch = 'A'; ch <= 'z'; ch++) {
        char buf[64];
        int ok = ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')) && ch != 'J' && ch != 'j';
        if (ch > 'Z' && ch < 'a')
            continue;
        snprintf(buf, sizeof buf, "1 Jan 2026 00:00:00 %c", ch);
        CHECK_ST(parse(buf, 0, &dt, NULL), ok ? OPES_OK : OPES_EBAD_DATE);
        if (ok) {
            CHECK_EQ(dt.zone, 0);
            CHECK_EQ(dt.flags, OPES_DATE_F_OBS_ZONE | OPES_DATE_F_ZONE_UNKNOWN);
        }
    }
    /* RFC 5322 4.3 years: 00-49 -> 2000-2049, 50-99 -> 1950-1999, 3 digits + 1900 */
    CHECK_ST(parse("1 Jan 49 00:00 +0000", 0, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.year, 2049);
    CHECK_ST(parse("1 Jan 50 00:00 +0000", 0, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.year, 1950);
    CHECK_ST(parse("1 Jan 00 00:00 +0000", 0, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.year, 2000);
    CHECK_ST(parse("1 Jan 103 00:00 +0000", 0, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.year, 2003);
    CHECK_EQ(dt.flags, OPES_DATE_F_OBS_YEAR | OPES_DATE_F_NO_SECONDS);
    CHECK_ST(parse("1 Jan 2 00:00 +0000", 0, &dt, NULL), OPES_EBAD_DATE);
    /* obs-day-of-week / obs-day: CFWS around, FWS missing */
    CHECK_ST(parse("(c) Fri (x) , 21Nov1997 09:55:06 -0600", 0, &dt, NULL), OPES_OK);
    check_dt(&dt, 1997, 11, 21, 9, 55, 6, -360, 5);
    CHECK_EQ(dt.flags, OPES_DATE_F_OBS_CFWS);
    /* obs-FWS: a line of white space only (RFC 5322 4.2) */
    CHECK_ST(parse("21 Nov 1997\r\n \r\n 09:55:06 -0600", 0, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_OBS_CFWS);
    CHECK_ST(parse("21 Nov 1997\r\n \r\n 09:55:06 -0600", OPES_DATE_STRICT, &dt, NULL),
             OPES_EBAD_DATE);
    /* "-0000": UTC with no information about the local zone (RFC 5322 3.3) */
    CHECK_ST(parse("1 Jan 2026 00:00:00 -0000", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_ZONE_UNKNOWN);
    CHECK_ST(parse("1 Jan 2026 00:00:00 +0000", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, 0);
    /* names are case-insensitive (RFC 5234 2.3) */
    CHECK_ST(parse("fri, 21 nOV 1997 09:55:06 -0600", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    /* a trailing CRLF is the field's, ignored */
    CHECK_ST(parse("Fri, 21 Nov 1997 09:55:06 -0600\r\n", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
}

static void test_invalid(void)
{
    opes_datetime dt;
    size_t err = 0;
    /* semantic validity (RFC 5322 3.3); calendar facts: 2100 is not a leap
     * year, 2000 is; 21 Nov 1997 was a Friday (RFC 5322 A.1.1) */
    CHECK_ST(parse("31 Apr 2026 00:00 +0000", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 0);
    CHECK_EQ(dt.year, 0);
    CHECK_EQ(dt.weekday, -1);
    CHECK_ST(parse("29 Feb 2100 00:00 +0000", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("29 Feb 2000 00:00 +0000", 0, &dt, NULL), OPES_OK);
    CHECK_ST(parse("29 Feb 2024 00:00 +0000", 0, &dt, NULL), OPES_OK);
    CHECK_ST(parse("29 Feb 2023 00:00 +0000", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("0 Jan 2026 00:00 +0000", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 24:00 +0000", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 11);
    CHECK_ST(parse("1 Jan 2026 23:60 +0000", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 23:59:61 +0000", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("31 Dec 2016 23:59:60 +0000", OPES_DATE_STRICT, &dt, NULL), OPES_OK);
    CHECK_ST(parse("1 Jan 2026 00:00 +0060", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 20);
    CHECK_ST(parse("1 Jan 2026 00:00 +9959", 0, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.zone, 5999);
    CHECK_ST(parse("1 Jan 2026 00:00 +100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 00:00 +01000", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 00:00+0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 9:00 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 09:0 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("123 Jan 2026 09:00 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 1899 09:00 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 10000 09:00 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 02026 09:00 +0100", 0, &dt, NULL), OPES_OK);
    CHECK_ST(parse("1 Foo 2026 09:00 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("Fry, 1 Jan 2026 09:00 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("Thu 1 Jan 2026 09:00 +0100", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 09:00", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 16);
    CHECK_ST(parse("1 Jan 2026 09:00 +0100 x", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 23);
    CHECK_ST(parse("", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 09:00 +0100 (open", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 28);
    /* a day-of-week that is not the date's: RFC 5322 3.3 MUST */
    CHECK_ST(parse("Mon, 21 Nov 1997 09:55:06 -0600", 0, &dt, &err), OPES_EBAD_DATE);
    CHECK_EQ(err, 0);
    CHECK_ST(parse("Mon, 21 Nov 1997 09:55:06 -0600", OPES_DATE_LENIENT_DOW, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_DOW_MISMATCH);
    CHECK_EQ(dt.weekday, 1);
    /* zone names outside obs-zone */
    CHECK_ST(parse("1 Jan 2026 09:00 UTC", 0, &dt, NULL), OPES_EBAD_DATE);
    CHECK_ST(parse("1 Jan 2026 09:00 UTC", OPES_DATE_LENIENT_ZONE, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_NONSTD_ZONE | OPES_DATE_F_NO_SECONDS);
    CHECK_ST(parse("1 Jan 2026 09:00 CEST", OPES_DATE_LENIENT_ZONE, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_NONSTD_ZONE | OPES_DATE_F_ZONE_UNKNOWN | OPES_DATE_F_NO_SECONDS);
    CHECK_ST(parse("1 Jan 2026 09:00 ABCDEF", OPES_DATE_LENIENT_ZONE, &dt, NULL), OPES_EBAD_DATE);
    /* line breaks and bad bytes */
    CHECK_ST(parse("1 Jan 2026\r09:00 +0100", 0, &dt, &err), OPES_EBARE_CR);
    CHECK_EQ(err, 10);
    CHECK_ST(parse("1 Jan 2026\n 09:00 +0100", 0, &dt, &err), OPES_EBARE_LF);
    CHECK_EQ(err, 10);
    CHECK_ST(parse("1 Jan 2026\n 09:00 +0100", OPES_DATE_LENIENT_LF, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_LF_FOLD | OPES_DATE_F_NO_SECONDS);
    CHECK_ST(parse("1 Jan 2026\r\n09:00 +0100", 0, &dt, &err), OPES_EBAD_CHAR);
    CHECK_EQ(err, 10);
    {
        static const char nul[] = "1 Jan 2026 09:00\0 +0100";
        const char *g = guarded_copy(nul, sizeof nul - 1);
        CHECK_ST(opes_date_parse(g, sizeof nul - 1, 0, &dt, &err), OPES_EBAD_CHAR);
        CHECK_EQ(err, 16);
        guarded_free(g);
    }
    CHECK_ST(parse("1 Jan 2026 09:00 +0100 (caf\xc3\xa9)", 0, &dt, NULL), OPES_OK);
    CHECK_ST(parse("1 Jan 2026 09:00 +0100 (caf\xe9)", 0, &dt, &err), OPES_EBAD_UTF8);
    CHECK_EQ(err, 27);
    CHECK_ST(parse("1 Jan 2026 09:00 +0100 (caf\xe9)", OPES_DATE_LENIENT_8BIT, &dt, NULL), OPES_OK);
    CHECK_EQ(dt.flags, OPES_DATE_F_RAW_8BIT | OPES_DATE_F_NO_SECONDS);
    /* comment nesting is bounded */
    {
        char deep[200];
        size_t n = 0;
        memcpy(deep, "1 Jan 2026 09:00 +0100 ", 23);
        n = 23;
        for (int k = 0; k < 40; k++)
            deep[n++] = '(';
        for (int k = 0; k < 40; k++)
            deep[n++] = ')';
        deep[n] = 0;
        CHECK_ST(parse(deep, 0, &dt, &err), OPES_EBAD_DATE);
        CHECK_EQ(err, 23 + 32);
    }
    CHECK_ST(opes_date_parse(NULL, 1, 0, &dt, NULL), OPES_EINVAL);
    CHECK_ST(opes_date_parse("x", 1, 0, NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_date_parse("x", 1, 1u << 20, &dt, NULL), OPES_EINVAL);
}

static void test_build(void)
{
    char buf[64];
    size_t len = 0;
    opes_datetime dt;

    /* RFC 5322 A.1.1 back to its text */
    CHECK_ST(parse("Fri, 21 Nov 1997 09:55:06 -0600", 0, &dt, NULL), OPES_OK);
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Fri, 21 Nov 1997 09:55:06 -0600", 31);
    /* the obsolete A.6.2 date written in the current syntax */
    CHECK_ST(parse("21 Nov 97 09:55:06 GMT", 0, &dt, NULL), OPES_OK);
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Fri, 21 Nov 1997 09:55:06 +0000", 31);
    /* A.5 (no seconds, comment) */
    CHECK_ST(
        parse("Thu,\r\n 13\r\n Feb\r\n 1969\r\n 23:32\r\n -0330 (Newfoundland Time)", 0, &dt, NULL),
        OPES_OK);
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Thu, 13 Feb 1969 23:32:00 -0330", 31);
    /* A.6.1's 1-digit day */
    CHECK_ST(parse("Tue, 1 Jul 2003 10:52:37 +0200", 0, &dt, NULL), OPES_OK);
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Tue, 1 Jul 2003 10:52:37 +0200", 30);
    /* military zone -> -0000 */
    CHECK_ST(parse("1 Jan 2026 00:00:00 Z", 0, &dt, NULL), OPES_OK);
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Thu, 1 Jan 2026 00:00:00 -0000", 30);
    /* the brief's example: 23 Nov 2026 is a Monday (Python datetime) */
    memset(&dt, 0, sizeof dt);
    dt.year = 2026;
    dt.month = 11;
    dt.day = 23;
    dt.hour = 14;
    dt.minute = 23;
    dt.zone = 60;
    dt.weekday = 3; /* ignored */
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Mon, 23 Nov 2026 14:23:00 +0100", 31);
    /* size query and a short buffer */
    CHECK_ST(opes_date_build(NULL, 0, &len, &dt), OPES_ENOSPC);
    CHECK_EQ(len, 31);
    memset(buf, 'x', sizeof buf);
    CHECK_ST(opes_date_build(buf, 10, &len, &dt), OPES_ENOSPC);
    CHECK_EQ(len, 31);
    CHECK_EQ(buf[10], 'x');
    CHECK_ST(opes_date_build(NULL, 5, &len, &dt), OPES_EINVAL);
    /* invalid values */
    dt.day = 31;
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_EBAD_DATE);
    CHECK_EQ(len, 0);
    dt.day = 30;
    dt.zone = 6000;
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_EBAD_DATE);
    dt.zone = -5999;
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Mon, 30 Nov 2026 14:23:00 -9959", 31);
    dt.year = 1899;
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_EBAD_DATE);
}

static void test_unix(void)
{
    opes_datetime dt;
    int64_t t = 0;
    char buf[64];
    size_t len;

    CHECK_ST(opes_date_from_unix(0, 0, &dt), OPES_OK);
    check_dt(&dt, 1970, 1, 1, 0, 0, 0, 0, 4);
    /* RFC 5322 A.1.1 is 880127706 (Python calendar.timegm((1997,11,21,15,55,6))) */
    CHECK_ST(parse("Fri, 21 Nov 1997 09:55:06 -0600", 0, &dt, NULL), OPES_OK);
    CHECK_ST(opes_date_to_unix(&dt, &t), OPES_OK);
    CHECK_EQ(t, 880127706);
    CHECK_ST(opes_date_from_unix(880127706, -360, &dt), OPES_OK);
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Fri, 21 Nov 1997 09:55:06 -0600", 31);
    /* the brief's example: 2026-11-23T13:23:00Z = 1795440180 (Python) */
    CHECK_ST(opes_date_from_unix(1795440180, 60, &dt), OPES_OK);
    CHECK_ST(opes_date_build(buf, sizeof buf, &len, &dt), OPES_OK);
    CHECK_MEM(buf, len, "Mon, 23 Nov 2026 14:23:00 +0100", 31);
    /* 2000-02-29 = 951782400; 1900-01-01 (a Monday) = -2208988800 */
    CHECK_ST(opes_date_from_unix(951782400, 0, &dt), OPES_OK);
    check_dt(&dt, 2000, 2, 29, 0, 0, 0, 0, 2);
    CHECK_ST(opes_date_from_unix(-2208988800LL, 0, &dt), OPES_OK);
    check_dt(&dt, 1900, 1, 1, 0, 0, 0, 0, 1);
    CHECK_ST(opes_date_from_unix(-2208988801LL, 0, &dt), OPES_EINVAL);
    CHECK_ST(opes_date_from_unix(-2208988800LL, -1, &dt), OPES_EINVAL);
    CHECK_ST(opes_date_from_unix(253402300799LL, 0, &dt), OPES_OK);
    check_dt(&dt, 9999, 12, 31, 23, 59, 59, 0, 5);
    CHECK_ST(opes_date_from_unix(253402300800LL, 0, &dt), OPES_EINVAL);
    CHECK_ST(opes_date_from_unix(INT64_MAX, 0, &dt), OPES_EINVAL);
    CHECK_ST(opes_date_from_unix(INT64_MIN, 0, &dt), OPES_EINVAL);
    CHECK_ST(opes_date_from_unix(0, 6000, &dt), OPES_EINVAL);
    CHECK_ST(opes_date_from_unix(0, 0, NULL), OPES_EINVAL);
    /* a leap second counts as the next minute's first (POSIX): 2016-12-31
     * 23:59:60Z -> 1483228800 = 2017-01-01T00:00:00Z (Python) */
    CHECK_ST(parse("Sat, 31 Dec 2016 23:59:60 +0000", 0, &dt, NULL), OPES_OK);
    CHECK_ST(opes_date_to_unix(&dt, &t), OPES_OK);
    CHECK_EQ(t, 1483228800);
    dt.month = 13;
    CHECK_ST(opes_date_to_unix(&dt, &t), OPES_EBAD_DATE);
    CHECK_ST(opes_date_to_unix(NULL, &t), OPES_EINVAL);
    /* round trips over the range, at odd zones */
    {
        unsigned errors = 0;
        for (int64_t x = -2208988800LL + 6000 * 60; x < 253402300799LL - 6000 * 60;
             x += 7777777 + x % 1013) {
            static const int z[] = {0, 60, -330, 5999, -5999, 345};
            for (size_t k = 0; k < 6; k++) {
                int64_t back = 0;
                opes_datetime d2;
                if (opes_date_from_unix(x, z[k], &dt) != OPES_OK ||
                    opes_date_to_unix(&dt, &back) != OPES_OK || back != x ||
                    opes_date_build(buf, sizeof buf, &len, &dt) != OPES_OK ||
                    opes_date_parse(buf, len, OPES_DATE_STRICT, &d2, NULL) != OPES_OK ||
                    d2.year != dt.year || d2.month != dt.month || d2.day != dt.day ||
                    d2.hour != dt.hour || d2.minute != dt.minute || d2.second != dt.second ||
                    d2.zone != dt.zone || d2.weekday != dt.weekday)
                    errors++;
            }
        }
        CHECK_EQ(errors, 0);
    }
}

int main(void)
{
    test_rfc5322_examples();
    test_obsolete();
    test_invalid();
    test_build();
    test_unix();
    return TEST_END();
}
