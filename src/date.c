/*
 * RFC 5322 date-time: 3.3 (syntax and semantic validity), 4.3 (obsolete
 * date and time: CFWS between tokens, 2- and 3-digit years, alphabetic
 * zones). Calendar arithmetic: proleptic Gregorian, days counted from
 * 1970-01-01 (the civil-from-days / days-from-civil algorithms); no libc
 * time function, no clock.
 *
 * The parser reads tokens separated by CFWS and notes, per separator,
 * whether RFC 5322 3.3 allows it there (none, FWS only, FWS required);
 * what only obs- rules allow sets OPES_DATE_F_OBS_CFWS.
 *
 *   date-time   = [ day-of-week "," ] date time [CFWS]
 *   day-of-week = ([FWS] day-name) / obs-day-of-week
 *   date        = day month year
 *   day         = ([FWS] 1*2DIGIT FWS) / obs-day
 *   year        = (FWS 4*DIGIT FWS) / obs-year
 *   time        = time-of-day zone
 *   time-of-day = hour ":" minute [ ":" second ]
 *   hour / minute / second = 2DIGIT / obs-hour / obs-minute / obs-second
 *   zone        = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone
 *   obs-X       = [CFWS] X [CFWS]   (day-of-week, day, year 2*DIGIT, hour,
 *                                    minute, second)
 */
#include "internal.h"

typedef struct dctx {
    const char *b;
    size_t len;
    unsigned in;    /* OPES_DATE_* parse flags */
    unsigned lxo;   /* OPES__LX_* options */
    unsigned flags; /* OPES_DATE_F_* collected */
    size_t obs_at;  /* first obsolete form (for OPES_DATE_STRICT), SIZE_MAX if none */
    size_t err;
} dctx;

/* A separator: CFWS run from *i; *what: 0 empty, 1 FWS only, 2 with a comment. */
static opes_status sep(dctx *c, size_t *i, int *what)
{
    unsigned info = 0;
    size_t start = *i, end = start;
    opes_status st = opes__lx_cfws(c->b, c->len, start, c->lxo, &end, &info, &c->err);
    if (st != OPES_OK)
        return st == OPES_ESYNTAX ? OPES_EBAD_DATE : st;
    if (info & (OPES__LX_OBS_FWS | OPES__LX_OBS_CTEXT)) {
        c->flags |= OPES_DATE_F_OBS_CFWS;
        if (c->obs_at == SIZE_MAX)
            c->obs_at = start;
    }
    if (info & OPES__LX_LF_FOLD)
        c->flags |= OPES_DATE_F_LF_FOLD;
    if (info & OPES__LX_RAW8)
        c->flags |= OPES_DATE_F_RAW_8BIT;
    *what = end == start ? 0 : (info & OPES__LX_COMMENT) ? 2 : 1;
    *i = end;
    return OPES_OK;
}

/* An obsolete form at offset at. */
static void obs(dctx *c, unsigned flag, size_t at)
{
    c->flags |= flag;
    if (c->obs_at == SIZE_MAX)
        c->obs_at = at;
}

/* A separator that RFC 5322 3.3 wants as given: need 0 = nothing, 1 = FWS
 * (no comment) optional, 2 = FWS (no comment) required. */
static void want(dctx *c, int what, int need, size_t at)
{
    if ((need == 0 && what != 0) || what == 2 || (need == 2 && what == 0))
        obs(c, OPES_DATE_F_OBS_CFWS, at);
}

static opes_status fail(dctx *c, size_t at, opes_status st)
{
    c->err = at;
    if (st == OPES_EBAD_DATE && at < c->len)
        st = opes__lx_bad_byte(c->b, c->len, at, OPES_EBAD_DATE);
    return st;
}

static size_t run(const char *b, size_t len, size_t i, unsigned cls)
{
    while (i < len && OPES__IS(b[i], cls))
        i++;
    return i;
}

/* Value of the digits b[i..j), j - i <= 9. */
static int num(const char *b, size_t i, size_t j)
{
    int v = 0;
    for (; i < j; i++)
        v = v * 10 + (b[i] - '0');
    return v;
}

static const char *const day_names[7] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
static const char *const month_names[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_out[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_out[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01. */
int64_t opes__days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int opes__weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday (4) */
    int64_t w = (days % 7 + 7 + 4) % 7;
    return (int)w;
}

/* civil_from_days, the inverse. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* The zone a name stands for (RFC 5322 4.3). Returns 1 with *zone and
 * *unknown set, 0 for no obs-zone. */
static int obs_zone(const char *p, size_t n, int *zone, int *unknown)
{
    static const struct {
        const char *name;
        int zone;
    } z[] = {{"UT", 0},     {"GMT", 0},    {"EST", -300}, {"EDT", -240}, {"CST", -360},
             {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420}};
    *unknown = 0;
    if (n == 1) {
        unsigned char u = opes__upper((unsigned char)p[0]);
        /* military letters A-I, K-Z: "SHOULD all be considered equivalent to
         * -0000" (RFC 0822's sign error) */
        if (u >= 'A' && u <= 'Z' && u != 'J') {
            *zone = 0;
            *unknown = 1;
            return 1;
        }
        return 0;
    }
    for (size_t k = 0; k < sizeof z / sizeof z[0]; k++) {
        if (strlen(z[k].name) == n && opes__ieq(p, n, z[k].name)) {
            *zone = z[k].zone;
            return 1;
        }
    }
    return 0;
}

static int valid_fields(const opes_datetime *dt)
{
    return dt->year >= 1900 && dt->year <= 9999 && dt->month >= 1 && dt->month <= 12 &&
           dt->day >= 1 && dt->day <= days_in_month(dt->year, dt->month) && dt->hour >= 0 &&
           dt->hour <= 23 && dt->minute >= 0 && dt->minute <= 59 && dt->second >= 0 &&
           dt->second <= 60 && dt->zone >= -5999 && dt->zone <= 5999;
}

static opes_status parse(dctx *c, opes_datetime *dt)
{
    const char *b = c->b;
    size_t len = c->len, i = 0, t, day_at, year_at, dow_at = 0;
    int what, wd = -1, digits;
    opes_status st;

    /* [FWS] before day-name or day; a comment there is obs-day(-of-week) */
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    want(c, what, 1, 0);
    if (i < len && OPES__IS(b[i], OPES__C_ALPHA)) {
        dow_at = i;
        t = run(b, len, i, OPES__C_ALPHA);
        for (int k = 0; k < 7 && t - i == 3; k++)
            if (opes__ieq(b + i, 3, day_names[k]))
                wd = k;
        if (wd < 0)
            return fail(c, i, OPES_EBAD_DATE);
        i = t;
        if ((st = sep(c, &i, &what)) != OPES_OK)
            return st;
        want(c, what, 0, t); /* obs-day-of-week's trailing CFWS */
        if (i >= len || b[i] != ',')
            return fail(c, i, OPES_EBAD_DATE);
        t = ++i;
        if ((st = sep(c, &i, &what)) != OPES_OK)
            return st;
        want(c, what, 1, t);
    }
    /* day = 1*2DIGIT */
    day_at = i;
    t = run(b, len, i, OPES__C_DIGIT);
    if (t == i || t - i > 2)
        return fail(c, t == i ? i : i + 2, OPES_EBAD_DATE);
    dt->day = num(b, i, t);
    i = t;
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    want(c, what, 2, t);
    /* month */
    t = run(b, len, i, OPES__C_ALPHA);
    dt->month = 0;
    for (int k = 0; k < 12 && t - i == 3; k++)
        if (opes__ieq(b + i, 3, month_names[k]))
            dt->month = k + 1;
    if (!dt->month)
        return fail(c, i, OPES_EBAD_DATE);
    i = t;
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    want(c, what, 2, t);
    /* year = 4*DIGIT / obs-year 2*DIGIT */
    year_at = i;
    t = run(b, len, i, OPES__C_DIGIT);
    digits = (int)(t - i > 9 ? 9 : t - i);
    if (t - i < 2)
        return fail(c, t, OPES_EBAD_DATE);
    while (t - i > 4 && b[i] == '0') /* leading zeros do not make a year large */
        i++;
    if (t - i > 4)
        return fail(c, year_at, OPES_EBAD_DATE);
    dt->year = num(b, i, t);
    if (digits == 2) {
        /* RFC 5322 4.3: 00-49 -> 2000-2049, 50-99 -> 1950-1999 */
        dt->year += dt->year < 50 ? 2000 : 1900;
        obs(c, OPES_DATE_F_OBS_YEAR, year_at);
    } else if (digits == 3) {
        dt->year += 1900;
        obs(c, OPES_DATE_F_OBS_YEAR, year_at);
    }
    if (dt->year < 1900)
        return fail(c, year_at, OPES_EBAD_DATE);
    i = t;
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    want(c, what, 2, t);
    /* hour ":" minute [ ":" second ] — exactly two digits each */
    t = run(b, len, i, OPES__C_DIGIT);
    if (t - i != 2)
        return fail(c, t - i > 2 ? i + 2 : t, OPES_EBAD_DATE);
    dt->hour = num(b, i, t);
    if (dt->hour > 23)
        return fail(c, i, OPES_EBAD_DATE);
    i = t;
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    want(c, what, 0, t);
    if (i >= len || b[i] != ':')
        return fail(c, i, OPES_EBAD_DATE);
    t = ++i;
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    want(c, what, 0, t);
    t = run(b, len, i, OPES__C_DIGIT);
    if (t - i != 2)
        return fail(c, t - i > 2 ? i + 2 : t, OPES_EBAD_DATE);
    dt->minute = num(b, i, t);
    if (dt->minute > 59)
        return fail(c, i, OPES_EBAD_DATE);
    i = t;
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    if (i < len && b[i] == ':') {
        want(c, what, 0, t);
        t = ++i;
        if ((st = sep(c, &i, &what)) != OPES_OK)
            return st;
        want(c, what, 0, t);
        t = run(b, len, i, OPES__C_DIGIT);
        if (t - i != 2)
            return fail(c, t - i > 2 ? i + 2 : t, OPES_EBAD_DATE);
        dt->second = num(b, i, t);
        if (dt->second > 60)
            return fail(c, i, OPES_EBAD_DATE);
        i = t;
        if ((st = sep(c, &i, &what)) != OPES_OK)
            return st;
    } else {
        dt->second = 0;
        c->flags |= OPES_DATE_F_NO_SECONDS;
    }
    /* zone */
    if (i < len && (b[i] == '+' || b[i] == '-')) {
        int hh, mm;
        /* zone = FWS ("+" / "-") 4DIGIT: the sign right after WSP */
        if (b[i - 1] != ' ' && b[i - 1] != '\t')
            return fail(c, i, OPES_EBAD_DATE);
        want(c, what, 2, t);
        t = run(b, len, i + 1, OPES__C_DIGIT);
        if (t - (i + 1) != 4)
            return fail(c, t - (i + 1) > 4 ? i + 5 : t, OPES_EBAD_DATE);
        hh = num(b, i + 1, i + 3);
        mm = num(b, i + 3, i + 5);
        if (mm > 59)
            return fail(c, i + 3, OPES_EBAD_DATE);
        dt->zone = (hh * 60 + mm) * (b[i] == '-' ? -1 : 1);
        if (b[i] == '-' && dt->zone == 0)
            c->flags |= OPES_DATE_F_ZONE_UNKNOWN; /* RFC 5322 3.3 "-0000" */
        i = t;
    } else if (i < len && OPES__IS(b[i], OPES__C_ALPHA)) {
        int zone = 0, unknown = 0;
        t = run(b, len, i, OPES__C_ALPHA);
        if (obs_zone(b + i, t - i, &zone, &unknown)) {
            obs(c, OPES_DATE_F_OBS_ZONE, i);
        } else if ((c->in & OPES_DATE_LENIENT_ZONE) && t - i <= 5) {
            want(c, what, 2, t);
            c->flags |= OPES_DATE_F_NONSTD_ZONE;
            zone = 0;
            unknown = !(t - i == 3 && opes__ieq(b + i, 3, "UTC"));
        } else {
            return fail(c, i, OPES_EBAD_DATE);
        }
        dt->zone = zone;
        if (unknown)
            c->flags |= OPES_DATE_F_ZONE_UNKNOWN;
        i = t;
    } else {
        return fail(c, i, OPES_EBAD_DATE);
    }
    /* [CFWS] to the end */
    if ((st = sep(c, &i, &what)) != OPES_OK)
        return st;
    if (i != len)
        return fail(c, i, OPES_EBAD_DATE);

    /* RFC 5322 3.3: "MUST be semantically valid" */
    if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
        return fail(c, day_at, OPES_EBAD_DATE);
    dt->weekday = wd;
    if (wd >= 0 && wd != opes__weekday(opes__days_from_civil(dt->year, dt->month, dt->day))) {
        if (!(c->in & OPES_DATE_LENIENT_DOW))
            return fail(c, dow_at, OPES_EBAD_DATE);
        c->flags |= OPES_DATE_F_DOW_MISMATCH;
    }
    if ((c->in & OPES_DATE_STRICT) && c->obs_at != SIZE_MAX) {
        c->err = c->obs_at; /* where the obsolete form starts (maybe a fold) */
        return OPES_EBAD_DATE;
    }
    dt->flags = c->flags;
    return OPES_OK;
}

/* see opes/date.h */
opes_status opes_date_parse(const char *buf, size_t len, unsigned flags, opes_datetime *out,
                            size_t *err_offset)
{
    dctx c;
    opes_status st;

    if (err_offset)
        *err_offset = 0;
    if (!out || (!buf && len) || (flags & ~(unsigned)(OPES_DATE_STRICT | OPES_DATE_LENIENT_ALL)))
        return OPES_EINVAL;
    if (flags & OPES_DATE_STRICT)
        flags = OPES_DATE_STRICT;
    memset(out, 0, sizeof *out);
    out->weekday = -1;
    memset(&c, 0, sizeof c);
    c.b = buf;
    c.in = flags;
    c.lxo = ((flags & OPES_DATE_LENIENT_LF) ? OPES__LX_ALLOW_LF : 0) |
            ((flags & OPES_DATE_LENIENT_8BIT) ? OPES__LX_ALLOW_RAW8 : 0);
    c.len = len ? opes__lx_trim_eol(buf, len, c.lxo) : 0;
    c.obs_at = SIZE_MAX;
    st = parse(&c, out);
    if (st != OPES_OK) {
        memset(out, 0, sizeof *out);
        out->weekday = -1;
        if (err_offset)
            *err_offset = c.err > len ? len : c.err;
    }
    return st;
}

static void put2(opes__wr *w, int v)
{
    opes__wr_putc(w, (char)('0' + v / 10));
    opes__wr_putc(w, (char)('0' + v % 10));
}

/* see opes/date.h */
opes_status opes_date_build(char *dst, size_t cap, size_t *len, const opes_datetime *dt)
{
    opes__wr w;
    int z;

    if (len)
        *len = 0;
    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || !dt)
        return OPES_EINVAL;
    if (!valid_fields(dt))
        return OPES_EBAD_DATE;
    opes__wr_init(&w, dst, cap);
    opes__wr_puts(&w, day_out[opes__weekday(opes__days_from_civil(dt->year, dt->month, dt->day))]);
    opes__wr_puts(&w, ", ");
    opes__wr_u64(&w, (uint64_t)dt->day);
    opes__wr_putc(&w, ' ');
    opes__wr_puts(&w, month_out[dt->month - 1]);
    opes__wr_putc(&w, ' ');
    opes__wr_u64(&w, (uint64_t)dt->year);
    opes__wr_putc(&w, ' ');
    put2(&w, dt->hour);
    opes__wr_putc(&w, ':');
    put2(&w, dt->minute);
    opes__wr_putc(&w, ':');
    put2(&w, dt->second);
    opes__wr_putc(&w, ' ');
    z = dt->zone;
    opes__wr_putc(&w, (z < 0 || (z == 0 && (dt->flags & OPES_DATE_F_ZONE_UNKNOWN))) ? '-' : '+');
    if (z < 0)
        z = -z;
    put2(&w, z / 60);
    put2(&w, z % 60);
    return opes__wr_finish(&w, len);
}

/* see opes/date.h */
opes_status opes_date_from_unix(int64_t t, int zone_minutes, opes_datetime *out)
{
    /* 1900-01-01T00:00:00 and 10000-01-01T00:00:00 local, in seconds */
    const int64_t lo = -2208988800LL, hi = 253402300800LL;
    int64_t local, days, secs, y;
    int m, d;

    if (!out || zone_minutes < -5999 || zone_minutes > 5999)
        return OPES_EINVAL;
    if (t < lo - 6000 * 60 || t >= hi + 6000 * 60)
        return OPES_EINVAL;
    local = t + (int64_t)zone_minutes * 60;
    if (local < lo || local >= hi)
        return OPES_EINVAL;
    days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    secs = local - days * 86400;
    civil_from_days(days, &y, &m, &d);
    memset(out, 0, sizeof *out);
    out->year = (int)y;
    out->month = m;
    out->day = d;
    out->hour = (int)(secs / 3600);
    out->minute = (int)(secs / 60 % 60);
    out->second = (int)(secs % 60);
    out->zone = zone_minutes;
    out->weekday = opes__weekday(days);
    out->flags = 0;
    return OPES_OK;
}

/* see opes/date.h */
opes_status opes_date_to_unix(const opes_datetime *dt, int64_t *t)
{
    int64_t days;
    if (!dt || !t)
        return OPES_EINVAL;
    if (!valid_fields(dt))
        return OPES_EBAD_DATE;
    days = opes__days_from_civil(dt->year, dt->month, dt->day);
    *t = days * 86400 + dt->hour * 3600 + dt->minute * 60 + dt->second - (int64_t)dt->zone * 60;
    return OPES_OK;
}
