/* The header section of a message (RFC 5322 2.1, 2.2, 3.6, 4; RFC 6532):
 * field parser, scanner, unfolding, builder. */
#include "internal.h"

#define HDR_DEFAULT_LINE 998        /* RFC 5322 2.1.1; RFC 6532 3.4 (octets) */
#define HDR_DEFAULT_FIELD 65536     /* no RFC number */
#define HDR_DEFAULT_FIELDS 2000     /* no RFC number */
#define HDR_DEFAULT_SECTION 1048576 /* no RFC number */
#define HDR_FOLD_COLUMNS 78         /* RFC 5322 2.1.1 SHOULD */
#define HDR_ALL_FLAGS (OPES_HEADER_LF | OPES_HEADER_UTF8 | OPES_HEADER_8BIT)

/* RFC 5322 3.6.8: ftext = %d33-57 / %d59-126 (printable US-ASCII but ":") */
static int is_ftext(unsigned char c)
{
    return OPES__IS(c, OPES__C_VCHAR) && c != ':';
}

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Whether p[0..n) (n >= 1) is a proper prefix of a well-formed UTF-8
 * sequence (RFC 3629 4): a sequence cut by the end of the bytes at hand,
 * which more bytes may complete. The ranges are those of opes__utf8_seq(). */
static int utf8_cut(const unsigned char *p, size_t n)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n >= need)
        return 0;
    if (n >= 2 && (p[1] < lo || p[1] > hi))
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0u) != 0x80u)
            return 0;
    return 1;
}

/* ---- the resumable field parser -----------------------------------------
 * One field (or the empty line) at b[0..len). The state holds how far the
 * bytes were checked, so a caller that re-presents the same bytes with more
 * appended (the scanner) goes on where it stopped; opes_header_field_parse()
 * starts from a fresh state each time. Every decision depends only on the
 * bytes before the position it is taken at and on at most two bytes of
 * lookahead; when those are missing (and not eof) the answer is
 * OPES_INCOMPLETE with the state unchanged past the last sure position, so
 * the result never depends on the split. */

enum { P_START = 0, P_NAME, P_WS, P_BADNAME, P_BODY };

typedef struct hdr_st {
    int phase;
    size_t i;          /* next byte to check */
    size_t line_start; /* offset of the current line */
    size_t name_end;   /* end of the field name */
    size_t raw_start;  /* first byte after the colon */
    size_t bad;        /* P_BADNAME: the byte that is not ftext */
    size_t lines;      /* lines of the field so far */
    unsigned fl;       /* OPES_HDRF_* */
    int nonwsp;        /* the current continuation line has a non-WSP byte */
} hdr_st;

typedef struct hdr_lim {
    size_t line;    /* octets of a line, without its end */
    size_t cap;     /* octets of the field (field limit, or what is left of
                       the section) */
    size_t end_cap; /* octets the empty line may take (what is left of the
                       section) */
} hdr_lim;

/* Bytes b[i..i+n) join the field; line: they are line bytes (not a line
 * end). 0 if within the limits; else the status, *at = the first octet past
 * the limit that is crossed first (the line limit on a tie). */
static opes_status over(const hdr_st *st, const hdr_lim *lim, size_t i, size_t n, int line,
                        size_t *at)
{
    size_t lmax = line ? st->line_start + lim->line : SIZE_MAX;
    size_t first = lmax <= lim->cap ? lmax : lim->cap;
    if (i + n <= first)
        return OPES_OK;
    *at = first;
    return lmax <= lim->cap ? OPES_EHEADER_LINE_TOO_LONG : OPES_EHEADER_TOO_LONG;
}

#define FAIL(code, where)                                                                          \
    do {                                                                                           \
        *at = (where);                                                                             \
        return (code);                                                                             \
    } while (0)
#define OVER(i, n, line)                                                                           \
    do {                                                                                           \
        opes_status r_ = over(st, lim, (i), (n), (line), at);                                      \
        if (r_ != OPES_OK)                                                                         \
            return r_;                                                                             \
    } while (0)

static opes_status hdr_run(hdr_st *st, const unsigned char *b, size_t len, unsigned flags, int eof,
                           const hdr_lim *lim, opes_header_field *out, size_t *used, size_t *at)
{
    size_t i = st->i;
    unsigned char c;

    switch (st->phase) {
    case P_START:
        if (len == 0) {
            if (!eof)
                return OPES_INCOMPLETE;
            out->kind = OPES_HEADER_KIND_EOF;
            *used = 0;
            return OPES_OK;
        }
        c = b[0];
        if (c == '\r' || c == '\n') {
            /* RFC 5322 2.1: the empty line ends the header section */
            size_t n = 1;
            if (c == '\r') {
                if (len < 2) {
                    if (!eof)
                        return OPES_INCOMPLETE;
                    FAIL(OPES_EBARE_CR, 0);
                }
                if (b[1] != '\n')
                    FAIL(OPES_EBARE_CR, 0);
                n = 2;
            } else if (!(flags & OPES_HEADER_LF)) {
                FAIL(OPES_EBARE_LF, 0);
            } else {
                st->fl |= OPES_HDRF_LF;
            }
            if (n > lim->end_cap)
                FAIL(OPES_EHEADER_TOO_LONG, lim->end_cap);
            out->kind = OPES_HEADER_KIND_END;
            out->whole.ptr = (const char *)b;
            out->whole.len = n;
            out->lines = 1;
            out->flags = st->fl;
            *used = n;
            return OPES_OK;
        }
        /* RFC 5322 2.2.3: a line starting with WSP continues a field; there
         * is none to continue here */
        if (is_wsp(c))
            FAIL(OPES_EBAD_HEADER, 0);
        st->phase = P_NAME;
        st->lines = 1;
        /* fall through */
    case P_NAME:
        while (i < len && is_ftext(b[i])) {
            OVER(i, 1, 1);
            i++;
        }
        st->i = i;
        if (i == len) {
            if (!eof)
                return OPES_INCOMPLETE;
            FAIL(OPES_EBAD_HEADER, 0); /* a line without a colon */
        }
        st->name_end = i;
        st->phase = P_WS;
        /* fall through */
    case P_WS:
        /* RFC 5322 4.5 obs-optional: field-name *WSP ":" */
        while (i < len && is_wsp(b[i])) {
            OVER(i, 1, 1);
            i++;
        }
        st->i = i;
        if (i == len) {
            if (!eof)
                return OPES_INCOMPLETE;
            FAIL(OPES_EBAD_HEADER, 0);
        }
        c = b[i];
        if (c == '\r') {
            /* the line ends without a colon */
            if (i + 1 == len) {
                if (!eof)
                    return OPES_INCOMPLETE;
                FAIL(OPES_EBARE_CR, i);
            }
            FAIL(b[i + 1] == '\n' ? OPES_EBAD_HEADER : OPES_EBARE_CR, b[i + 1] == '\n' ? 0 : i);
        }
        if (c == '\n') {
            if (!(flags & OPES_HEADER_LF))
                FAIL(OPES_EBARE_LF, i);
            FAIL(OPES_EBAD_HEADER, 0);
        }
        OVER(i, 1, 1);
        if (c == '\0')
            FAIL(OPES_EBAD_CHAR, i);
        if (c == ':') {
            if (st->name_end == 0)
                FAIL(OPES_EBAD_HEADER_NAME, 0); /* empty name */
            if (i > st->name_end)
                st->fl |= OPES_HDRF_WSP_BEFORE_COLON;
            i++;
            st->i = st->raw_start = i;
            st->phase = P_BODY;
            goto body;
        }
        /* not a name: a bad name if the line has a colon, else a line that
         * is no field at all (an mbox "From " line, say) */
        st->bad = i;
        st->i = ++i;
        st->phase = P_BADNAME;
        /* fall through */
    case P_BADNAME:
        for (; i < len; i++) {
            c = b[i];
            if (c == ':')
                FAIL(OPES_EBAD_HEADER_NAME, st->bad);
            if (c == '\r' || c == '\n')
                FAIL(OPES_EBAD_HEADER, 0);
            OVER(i, 1, 1);
        }
        st->i = i;
        if (!eof)
            return OPES_INCOMPLETE;
        FAIL(OPES_EBAD_HEADER, 0);
    case P_BODY:
    body:
        for (;;) {
            size_t eol, next;
            i = st->i;
            if (i >= len) {
                if (!eof)
                    return OPES_INCOMPLETE;
                FAIL(OPES_EBAD_HEADER, len); /* the input ends inside a line */
            }
            c = b[i];
            if (c == '\r') {
                if (i + 1 >= len) {
                    if (!eof)
                        return OPES_INCOMPLETE;
                    FAIL(OPES_EBARE_CR, i);
                }
                if (b[i + 1] != '\n')
                    FAIL(OPES_EBARE_CR, i);
                eol = 2;
            } else if (c == '\n') {
                if (!(flags & OPES_HEADER_LF))
                    FAIL(OPES_EBARE_LF, i);
                eol = 1;
            } else {
                size_t n = 1;
                OVER(i, 1, 1);
                if (c == '\0') {
                    FAIL(OPES_EBAD_CHAR, i);
                } else if (c >= 0x80) {
                    size_t k;
                    if (!(flags & (OPES_HEADER_UTF8 | OPES_HEADER_8BIT)))
                        FAIL(OPES_EBAD_CHAR, i);
                    k = opes__utf8_seq(b + i, len - i, NULL);
                    if (k) {
                        n = k; /* RFC 6532 3.2: VCHAR =/ UTF8-non-ascii */
                        st->fl |= OPES_HDRF_UTF8;
                    } else if (!eof && utf8_cut(b + i, len - i)) {
                        return OPES_INCOMPLETE;
                    } else if (flags & OPES_HEADER_8BIT) {
                        st->fl |= OPES_HDRF_8BIT;
                    } else {
                        FAIL(OPES_EBAD_UTF8, i);
                    }
                    OVER(i, n, 1);
                } else if (c < 0x20 ? c != '\t' : c == 0x7F) {
                    st->fl |= OPES_HDRF_OBS_CTL; /* RFC 5322 4.1 obs-utext */
                }
                if (!is_wsp(c))
                    st->nonwsp = 1;
                st->i = i + n;
                continue;
            }
            /* a line end at i */
            OVER(i, eol, 0);
            if (eol == 1)
                st->fl |= OPES_HDRF_LF;
            if (st->lines > 1 && !st->nonwsp)
                st->fl |= OPES_HDRF_WSP_LINE; /* RFC 5322 4.2 obs-FWS */
            next = i + eol;
            if (next >= len) {
                if (!eof)
                    return OPES_INCOMPLETE;
            } else if (is_wsp(b[next])) {
                /* RFC 5322 2.2.3: CRLF followed by WSP is a fold */
                st->lines++;
                st->line_start = next;
                st->nonwsp = 0;
                st->i = next;
                continue;
            }
            out->kind = OPES_HEADER_KIND_FIELD;
            out->name.ptr = (const char *)b;
            out->name.len = st->name_end;
            out->raw.ptr = (const char *)b + st->raw_start;
            out->raw.len = i - st->raw_start;
            out->whole.ptr = (const char *)b;
            out->whole.len = next;
            out->lines = st->lines;
            out->flags = st->fl;
            *used = next;
            return OPES_OK;
        }
    default:
        break;
    }
    FAIL(OPES_EINVAL, 0); /* not reached */
}

#undef OVER

/* see opes/header.h */
opes_status opes_header_field_parse(const char *buf, size_t len, unsigned flags, int eof,
                                    opes_header_field *out, size_t *used)
{
    hdr_st st;
    hdr_lim lim = {HDR_DEFAULT_LINE, HDR_DEFAULT_FIELD, HDR_DEFAULT_FIELD};
    size_t at = 0, u = 0;
    opes_status r;
    if (used)
        *used = 0;
    if (!out || !used || (!buf && len) || (flags & ~(unsigned)HDR_ALL_FLAGS))
        return OPES_EINVAL;
    memset(out, 0, sizeof *out);
    memset(&st, 0, sizeof st);
    r = hdr_run(&st, (const unsigned char *)buf, len, flags, eof, &lim, out, &u, &at);
    if (r == OPES_OK) {
        *used = u;
    } else if (r != OPES_INCOMPLETE) {
        opes_header_field e;
        memset(&e, 0, sizeof e);
        e.error_offset = at;
        *out = e;
    }
    return r;
}

/* see opes/header.h */
int opes_header_name_eq(const opes_header_field *f, const char *name)
{
    if (!f || !name)
        return 0;
    return opes__ieq2(f->name.ptr, f->name.len, name, strlen(name));
}

/* see opes/header.h */
opes_status opes_header_unfold(char *dst, size_t cap, size_t *len, const char *raw, size_t raw_len)
{
    size_t a = raw_len, z = 0, i, run;
    opes__wr w;
    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!raw && raw_len))
        return OPES_EINVAL;
    /* check every line end is a fold (RFC 5322 2.2.3: CRLF followed by
     * WSP), and find the first and last bytes that are neither WSP nor
     * part of a line end: trimming there is trimming the unfolded value */
    for (i = 0; i < raw_len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r') {
                if (i + 1 >= raw_len || raw[i + 1] != '\n')
                    return OPES_EBARE_CR;
                i++;
            }
            if (i + 1 >= raw_len || !is_wsp((unsigned char)raw[i + 1]))
                return OPES_EBAD_HEADER;
        } else if (!is_wsp(c)) {
            if (a == raw_len)
                a = i;
            z = i + 1;
        }
    }
    opes__wr_init(&w, dst, cap);
    for (i = a; i < z; i = run) {
        for (run = i; run < z && raw[run] != '\r' && raw[run] != '\n'; run++)
            ;
        opes__wr_put(&w, raw + i, run - i);
        while (run < z && (raw[run] == '\r' || raw[run] == '\n'))
            run++;
    }
    return opes__wr_finish(&w, len);
}

/* ---- builder ------------------------------------------------------------- */

/* see opes/header.h */
opes_status opes_header_field_build(char *dst, size_t cap, size_t *len, const char *name,
                                    size_t name_len, const char *value, size_t value_len,
                                    unsigned flags)
{
    const unsigned char *v = (const unsigned char *)value;
    const char *eol = (flags & OPES_HEADER_LF) ? "\n" : "\r\n";
    int utf8 = (flags & OPES_HEADER_UTF8) != 0;
    size_t i, last_nw = SIZE_MAX, s, prefix_w, prefix_o;
    opes__wr w;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len) || (!name && name_len) || (!value && value_len) ||
        (flags & ~(unsigned)(OPES_HEADER_LF | OPES_HEADER_UTF8)))
        return OPES_EINVAL;
    if (opes__unsafe_at(name, name_len) < name_len || opes__unsafe_at(value, value_len) < value_len)
        return OPES_EINJECT;
    /* RFC 5322 3.6.8: field-name = 1*ftext; never WSP before the colon */
    if (name_len == 0)
        return OPES_EBAD_HEADER_NAME;
    for (i = 0; i < name_len; i++)
        if (!is_ftext((unsigned char)name[i]))
            return OPES_EBAD_HEADER_NAME;
    /* RFC 5322 3.2.5 unstructured: VCHAR and WSP (RFC 6532 3.2: VCHAR =/
     * UTF8-non-ascii); the obsolete controls are never generated (4) */
    for (i = 0; i < value_len; i++) {
        if (v[i] >= 0x80) {
            size_t k;
            if (!utf8)
                return OPES_EBAD_CHAR;
            k = opes__utf8_seq(v + i, value_len - i, NULL);
            if (!k)
                return OPES_EBAD_UTF8;
            i += k - 1;
        } else if (v[i] < 0x20 ? v[i] != '\t' : v[i] == 0x7F) {
            return OPES_EBAD_CHAR;
        }
        if (!is_wsp(v[i]))
            last_nw = i;
    }

    opes__wr_init(&w, dst, cap);
    opes__wr_put(&w, name, name_len);
    if (value_len == 0) {
        if (name_len + 1 > HDR_DEFAULT_LINE)
            return OPES_EHEADER_LINE_TOO_LONG;
        opes__wr_putc(&w, ':');
        opes__wr_puts(&w, eol);
        return opes__wr_finish(&w, len);
    }
    opes__wr_put(&w, ": ", 2);
    prefix_w = prefix_o = name_len + 2;

    /* Fold (RFC 5322 2.2.3): a line end goes before a WSP of the value. A
     * fold point b is the first WSP of a run (v[b-1] is not WSP) with a
     * non-WSP after it (b < last_nw): then every line holds a non-WSP byte
     * and none ends in WSP because of the fold. Each line takes, among the
     * fold points within 78 characters, the last one right after a comma
     * (the 2.2.3 note), else the last one; if none fits, the first one. */
    for (s = 0;;) {
        size_t width = prefix_w, fit = SIZE_MAX, comma = SIZE_MAX, first = SIZE_MAX, k, end;
        int last;
        for (k = s; k < value_len; k++) {
            if (k > s && is_wsp(v[k]) && !is_wsp(v[k - 1]) && last_nw != SIZE_MAX && k < last_nw) {
                if (width <= HDR_FOLD_COLUMNS) {
                    fit = k;
                    if (v[k - 1] == ',')
                        comma = k;
                } else {
                    if (fit == SIZE_MAX)
                        first = k;
                    break;
                }
            }
            /* RFC 6532 3.4: the 78 are characters, not octets */
            if (!utf8 || (v[k] & 0xC0u) != 0x80u)
                width++;
        }
        if (k == value_len && width <= HDR_FOLD_COLUMNS)
            end = value_len;
        else if (first != SIZE_MAX)
            end = first;
        else if (comma != SIZE_MAX)
            end = comma;
        else if (fit != SIZE_MAX)
            end = fit;
        else
            end = value_len;
        last = end == value_len;
        /* RFC 5322 2.1.1: 998 octets excluding the line end (RFC 6532 3.4) */
        if (prefix_o + (end - s) > HDR_DEFAULT_LINE)
            return OPES_EHEADER_LINE_TOO_LONG;
        opes__wr_put(&w, value + s, end - s);
        opes__wr_puts(&w, eol);
        if (last)
            break;
        s = end;
        prefix_w = prefix_o = 0;
    }
    return opes__wr_finish(&w, len);
}

/* ---- scanner --------------------------------------------------------------- */

enum { SC_RUN = 0, SC_END, SC_ERR };

struct opes_header_scanner {
    opes_allocator alloc;
    int heap;
    /* settings */
    unsigned flags;
    size_t limit[OPES_HEADER_LIMIT__COUNT];
    /* state */
    int state;
    opes_status err;
    uint64_t err_off;
    uint64_t off; /* stream offset of the first unconsumed byte */
    size_t count; /* fields handed out */
    hdr_st st;    /* the unit being parsed, resumed across calls */
};

_Static_assert(sizeof(struct opes_header_scanner) <= OPES__HEADER_SCANNER_SIZE,
               "OPES__HEADER_SCANNER_SIZE too small");

static const size_t hdr_ceiling[OPES_HEADER_LIMIT__COUNT] = {
    OPES_MAX_HEADER_LINE, OPES_MAX_HEADER_FIELD, OPES_MAX_HEADER_FIELDS, OPES_MAX_HEADER_SECTION};

static void sc_start(opes_header_scanner *s)
{
    s->state = SC_RUN;
    s->err = OPES_OK;
    s->err_off = 0;
    s->off = 0;
    s->count = 0;
    memset(&s->st, 0, sizeof s->st);
}

static void sc_init(opes_header_scanner *s)
{
    memset(s, 0, sizeof *s);
    s->limit[OPES_HEADER_LIMIT_LINE] = HDR_DEFAULT_LINE;
    s->limit[OPES_HEADER_LIMIT_FIELD] = HDR_DEFAULT_FIELD;
    s->limit[OPES_HEADER_LIMIT_FIELDS] = HDR_DEFAULT_FIELDS;
    s->limit[OPES_HEADER_LIMIT_SECTION] = HDR_DEFAULT_SECTION;
    sc_start(s);
}

static int sc_fresh(const opes_header_scanner *s)
{
    return s->state == SC_RUN && s->off == 0 && s->st.phase == P_START && s->st.i == 0;
}

/* see opes/header.h */
const char *opes_header_event_name(int type)
{
    switch (type) {
    case OPES_HEADER_EV_NONE:
        return "none";
    case OPES_HEADER_EV_FIELD:
        return "field";
    case OPES_HEADER_EV_END:
        return "end";
    case OPES_HEADER_EV_ERROR:
        return "error";
    default:
        return NULL;
    }
}

/* see opes/header.h */
size_t opes_header_scanner_sizeof(void)
{
    return sizeof(opes_header_scanner);
}

/* see opes/header.h */
opes_status opes_header_scanner_new(opes_header_scanner **out, const opes_allocator *alloc)
{
    opes_header_scanner *s;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    s = opes__alloc(alloc, sizeof *s);
    if (!s)
        return OPES_ENOMEM;
    sc_init(s);
    s->heap = 1;
    if (alloc)
        s->alloc = *alloc;
    *out = s;
    return OPES_OK;
}

/* see opes/header.h */
opes_status opes_header_scanner_init_in(void *mem, size_t len, opes_header_scanner **out)
{
    if (!mem || !out || len < sizeof(opes_header_scanner))
        return OPES_EINVAL;
    sc_init((opes_header_scanner *)mem);
    *out = (opes_header_scanner *)mem;
    return OPES_OK;
}

/* see opes/header.h */
void opes_header_scanner_free(opes_header_scanner *s)
{
    if (!s || !s->heap)
        return;
    opes_allocator a = s->alloc;
    opes__free(a.free ? &a : NULL, s, sizeof *s);
}

/* see opes/header.h */
opes_status opes_header_scanner_reset(opes_header_scanner *s)
{
    if (!s)
        return OPES_EINVAL;
    sc_start(s);
    return OPES_OK;
}

/* see opes/header.h */
opes_status opes_header_scanner_set_flags(opes_header_scanner *s, unsigned flags)
{
    if (!s || (flags & ~(unsigned)HDR_ALL_FLAGS))
        return OPES_EINVAL;
    if (!sc_fresh(s))
        return OPES_ESTATE;
    s->flags = flags;
    return OPES_OK;
}

/* see opes/header.h */
opes_status opes_header_scanner_set_limit(opes_header_scanner *s, int limit, size_t value)
{
    if (!s || limit < 0 || limit >= OPES_HEADER_LIMIT__COUNT ||
        (value == 0 && limit != OPES_HEADER_LIMIT_FIELDS))
        return OPES_EINVAL;
    if (value > hdr_ceiling[limit])
        return OPES_ECEILING;
    if (!sc_fresh(s))
        return OPES_ESTATE;
    s->limit[limit] = value;
    return OPES_OK;
}

static opes_status sc_fail(opes_header_scanner *s, opes_status r, uint64_t off,
                           opes_header_event *ev)
{
    s->state = SC_ERR;
    s->err = r;
    s->err_off = off;
    ev->type = OPES_HEADER_EV_ERROR;
    ev->offset = off;
    ev->field.error_offset = off;
    return r;
}

/* see opes/header.h */
opes_status opes_header_scan(opes_header_scanner *s, const char *buf, size_t len, int eof,
                             size_t *used, opes_header_event *ev)
{
    hdr_lim lim;
    opes_header_field f;
    size_t u = 0, at = 0, budget;
    opes_status r;

    if (used)
        *used = 0;
    if (ev)
        memset(ev, 0, sizeof *ev);
    if (!s || !used || !ev || (!buf && len))
        return OPES_EINVAL;
    if (s->state == SC_ERR) {
        ev->type = OPES_HEADER_EV_ERROR;
        ev->offset = ev->field.error_offset = s->err_off;
        return s->err;
    }
    if (s->state == SC_END)
        return OPES_ESTATE;
    if (len < s->st.i) /* fewer bytes than were checked: not the same
                          bytes re-presented; check them again */
        memset(&s->st, 0, sizeof s->st);

    /* the section limit caps the unit; off <= section always holds */
    budget = s->limit[OPES_HEADER_LIMIT_SECTION] - (size_t)s->off;
    lim.line = s->limit[OPES_HEADER_LIMIT_LINE];
    lim.cap =
        s->limit[OPES_HEADER_LIMIT_FIELD] < budget ? s->limit[OPES_HEADER_LIMIT_FIELD] : budget;
    lim.end_cap = budget;
    memset(&f, 0, sizeof f);
    r = hdr_run(&s->st, (const unsigned char *)buf, len, s->flags, eof, &lim, &f, &u, &at);
    if (r == OPES_INCOMPLETE)
        return r;
    if (r != OPES_OK)
        return sc_fail(s, r, s->off + at, ev);
    memset(&s->st, 0, sizeof s->st);
    f.offset = s->off;
    if (f.kind == OPES_HEADER_KIND_FIELD) {
        if (s->count >= s->limit[OPES_HEADER_LIMIT_FIELDS])
            return sc_fail(s, OPES_ETOO_MANY_ITEMS, s->off, ev);
        s->count++;
        ev->type = OPES_HEADER_EV_FIELD;
        ev->field = f;
        ev->offset = s->off;
        ev->count = s->count;
        s->off += u;
        *used = u;
        return OPES_OK;
    }
    ev->type = OPES_HEADER_EV_END;
    ev->count = s->count;
    s->state = SC_END;
    if (f.kind == OPES_HEADER_KIND_END) {
        ev->field = f;
        ev->end = OPES_HEADER_END_EMPTY_LINE;
        s->off += u;
        *used = u;
    } else {
        ev->end = OPES_HEADER_END_EOF;
    }
    ev->offset = s->off;
    return OPES_OK;
}
