/*
 * libopes — RFC 5322 date-time (3.3; obsolete forms 4.3): parse, build, and
 * conversion to and from a count of seconds since 1970-01-01T00:00:00Z.
 *
 * Mail layer. The library has no clock: the caller supplies the time (e.g.
 * time(NULL)) and the zone offset; the conversions are pure arithmetic on
 * the proleptic Gregorian calendar and use no libc time function.
 */
#ifndef OPES_DATE_H
#define OPES_DATE_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bits of opes_datetime.flags: what the parsed text held. */
enum opes_date_flag {
    /* obsolete syntax (RFC 5322 4.3): accepted on input, never generated */
    OPES_DATE_F_OBS_YEAR = 1u << 0, /* a 2- or 3-digit year (mapped per RFC 5322 4.3) */
    OPES_DATE_F_OBS_ZONE = 1u << 1, /* an alphabetic obs-zone (UT, GMT, EST..PDT, military) */
    OPES_DATE_F_OBS_CFWS = 1u << 2, /* comments or FWS where 3.3 has none, FWS missing where
                                       3.3 needs it, obs-FWS (a whitespace-only line), or
                                       obs-ctext / obs-qp in a comment */
    /* semantics */
    OPES_DATE_F_ZONE_UNKNOWN = 1u << 3, /* the zone means "-0000" (RFC 5322 3.3: no information
                                           about the local zone): written "-0000", a military
                                           letter or an unknown name (RFC 5322 4.3); zone is 0 */
    OPES_DATE_F_NO_SECONDS = 1u << 4,   /* the time had no seconds (second is 0) */
    /* leniencies (only with the matching OPES_DATE_LENIENT_* bit) */
    OPES_DATE_F_DOW_MISMATCH = 1u << 5, /* the day-of-week is not the day the date implies */
    OPES_DATE_F_NONSTD_ZONE = 1u << 6,  /* a zone name outside obs-zone ("UTC", "CET", ...) */
    OPES_DATE_F_LF_FOLD = 1u << 7,      /* a fold was LF WSP instead of CRLF WSP */
    OPES_DATE_F_RAW_8BIT = 1u << 8,     /* a comment held bytes that are not UTF-8 */
    OPES_DATE_F_OBS = OPES_DATE_F_OBS_YEAR | OPES_DATE_F_OBS_ZONE | OPES_DATE_F_OBS_CFWS
};

/** Bits of the flags argument of opes_date_parse(). */
enum opes_date_parse_flag {
    /* Refuse the obsolete syntax (RFC 5322 4.3): what RFC 5321 4.4 demands
     * of the date in a Received field ("the obs- forms ... MUST NOT be
     * used"). Also refuses every leniency below. */
    OPES_DATE_STRICT = 1u << 0,
    /* Accept a day-of-week that does not match the date (RFC 5322 3.3 says it
     * MUST match; some generators compute it wrongly). Risk: the text claims
     * two different days; the date wins. Flagged OPES_DATE_F_DOW_MISMATCH. */
    OPES_DATE_LENIENT_DOW = 1u << 1,
    /* Accept a zone name outside obs-zone (1 to 5 letters): "UTC" as +0000,
     * any other ("CET", "JST", ...) as -0000 (RFC 5322 4.3: a zone whose
     * meaning is not known SHOULD be considered equivalent to "-0000").
     * Flagged OPES_DATE_F_NONSTD_ZONE. */
    OPES_DATE_LENIENT_ZONE = 1u << 2,
    /* Accept LF WSP as a fold (a header section read with bare LF line ends).
     * Flagged OPES_DATE_F_LF_FOLD. Bare CR is never accepted. */
    OPES_DATE_LENIENT_LF = 1u << 3,
    /* Accept bytes that are not UTF-8 inside comments. OPES_DATE_F_RAW_8BIT. */
    OPES_DATE_LENIENT_8BIT = 1u << 4,
    OPES_DATE_LENIENT_ALL = OPES_DATE_LENIENT_DOW | OPES_DATE_LENIENT_ZONE | OPES_DATE_LENIENT_LF |
                            OPES_DATE_LENIENT_8BIT
};

/**
 * A calendar date and time of day with its zone offset: plain data.
 * The time is local time at offset `zone`: UTC = local - zone minutes.
 */
typedef struct opes_datetime {
    int year;       /* 1900..9999 (a 2- or 3-digit year already mapped, RFC 5322 4.3) */
    int month;      /* 1..12 */
    int day;        /* 1..31, valid for the month and year */
    int hour;       /* 0..23 */
    int minute;     /* 0..59 */
    int second;     /* 0..60 (60: a leap second, RFC 5322 3.3) */
    int zone;       /* offset east of UTC in minutes, -5999..5999 (+hhmm = hh*60+mm) */
    int weekday;    /* 0 = Sunday .. 6 = Saturday as written, or -1 when absent */
    unsigned flags; /* OPES_DATE_F_*; for opes_date_build only OPES_DATE_F_ZONE_UNKNOWN counts */
} opes_datetime;

/**
 * Parse an RFC 5322 date-time (3.3), e.g. a Date: field body or the part of
 * a Received field after ";". The whole of buf[0..len) must be one
 * date-time: optional CFWS before it, "[ day-of-week "," ] date time", and
 * optional CFWS (e.g. "(CET)") after it. One trailing CRLF at the very end
 * (or LF, with OPES_DATE_LENIENT_LF) is ignored. Folds are CRLF followed by
 * WSP. Names are compared case-insensitively (RFC 5234 2.3).
 *
 * Without OPES_DATE_STRICT the obsolete syntax of RFC 5322 4.3 is accepted
 * (RFC 5322 4: "MUST be accepted and parsed by a conformant receiver") and
 * reported in out->flags: CFWS between any two tokens, 2-digit years (00-49
 * -> 2000-2049, 50-99 -> 1950-1999) and 3-digit years (+1900), and obs-zone:
 * UT and GMT (+0000), EST -0500, EDT -0400, CST -0600, CDT -0500, MST -0700,
 * MDT -0600, PST -0800, PDT -0700, and the military letters A-I, K-Z (any
 * case), taken as "-0000" as RFC 5322 4.3 says they SHOULD be.
 *
 * Semantic checks (RFC 5322 3.3 "MUST be semantically valid"): the day
 * exists in its month and year (leap years per the Gregorian rule), hour
 * 00-23, minute 00-59, second 00-60, the zone's minutes 00-59, and the
 * day-of-week, when present, is the day the date implies (a mismatch is an
 * error unless OPES_DATE_LENIENT_DOW). A year before 1900 ("The year is any
 * numeric year 1900 or later") or after 9999 is refused. Hours and minutes
 * are exactly two digits, the day one or two.
 *
 * @param flags      OPES_DATE_STRICT, OPES_DATE_LENIENT_* (0: RFC 5322 with
 *                   its obsolete syntax, nothing lenient)
 * @param[out] out   the value (weekday as written or -1; flags); zeroed with
 *                   weekday -1 on error
 * @param[out] err_offset  on error, the offset of the offending byte (len
 *                   when the input ends too early); 0 on success; may be NULL
 * @return OPES_OK; OPES_EBAD_DATE (syntax, a value out of range, a day that
 *         does not exist, a day-of-week that does not match, an obsolete
 *         form with OPES_DATE_STRICT); OPES_EBAD_CHAR (a NUL or other
 *         control character outside a comment, a CRLF not followed by WSP);
 *         OPES_EBARE_CR, OPES_EBARE_LF (outside a fold); OPES_EBAD_UTF8
 *         (malformed UTF-8 in a comment without OPES_DATE_LENIENT_8BIT);
 *         OPES_EINVAL (out NULL, buf NULL with len > 0, unknown flag bits).
 */
OPES_API opes_status opes_date_parse(const char *buf, size_t len, unsigned flags,
                                     opes_datetime *out, size_t *err_offset);

/**
 * Write dt in the canonical form of RFC 5322 3.3, never an obsolete one:
 * "Mon, 23 Nov 2026 14:23:00 +0100" — the day-of-week computed from the
 * date (dt->weekday is ignored), the day without a leading zero (as in RFC
 * 5322 A.1.1), a 4-digit year, seconds always, and the zone as sign and
 * four digits; a zone of 0 with OPES_DATE_F_ZONE_UNKNOWN in dt->flags is
 * written "-0000", otherwise "+0000". Other flags are ignored.
 * Builder convention: OPES_OK with *len written, or OPES_ENOSPC with *len
 * needed; dst may be NULL iff cap is 0; no NUL is written; *len is 0 on any
 * other error.
 * @return also OPES_EBAD_DATE (a field out of the ranges of opes_datetime,
 *         a day that does not exist), OPES_EINVAL (dt or len NULL, dst NULL
 *         with cap > 0).
 */
OPES_API opes_status opes_date_build(char *dst, size_t cap, size_t *len, const opes_datetime *dt);

/**
 * Break t (seconds since 1970-01-01T00:00:00Z, leap seconds not counted, as
 * POSIX time_t) into the local date and time at zone_minutes east of UTC.
 * weekday is set; flags is 0 (set OPES_DATE_F_ZONE_UNKNOWN yourself to write
 * "-0000" for a UTC time from a host that does not know its zone).
 * @return OPES_OK; OPES_EINVAL (out NULL, zone_minutes outside -5999..5999,
 *         or a local year outside 1900..9999).
 */
OPES_API opes_status opes_date_from_unix(int64_t t, int zone_minutes, opes_datetime *out);

/**
 * The seconds since 1970-01-01T00:00:00Z of dt (UTC = local - zone). A leap
 * second (second 60) counts as the first second of the next minute, as POSIX
 * time does; a "-0000" zone counts as UTC. weekday and flags are ignored.
 * @return OPES_OK; OPES_EBAD_DATE (a field out of range, a day that does not
 *         exist); OPES_EINVAL (dt or t NULL).
 */
OPES_API opes_status opes_date_to_unix(const opes_datetime *dt, int64_t *t);

#ifdef __cplusplus
}
#endif
#endif /* OPES_DATE_H */
