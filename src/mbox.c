/* The mbox reader (qmail mbox(5); RFC 4155 appendix A) and, with zlib, its
 * gzip input (RFC 1952). See opes/mbox.h. */
#include "internal.h"

#if defined(OPES_HAVE_ZLIB) && OPES_HAVE_ZLIB
#define MBOX_ZLIB 1
#define ZLIB_CONST 1
#include <zlib.h>
#else
#define MBOX_ZLIB 0
#endif

/* core states */
enum {
    ST_START,    /* the first From_ line: "From " at offset 0 */
    ST_FROMLINE, /* inside a From_ line, after "From " */
    ST_MID,      /* inside a message line */
    ST_LS,       /* at a message line start, maybe holding a few bytes */
    ST_FINAL,    /* the last message ended (or there was none): END next */
    ST_ENDED,    /* END returned */
    ST_ERROR     /* sticky error */
};

/* what the input is, once known */
enum { IN_UNKNOWN = 0, IN_PLAIN = 1, IN_GZIP = 2 };

static const char from_[] = "From ";

struct opes_mbox_reader {
    opes_allocator alloc;
    int heap;
    /* settings */
    int variant;   /* enum opes_mbox_variant */
    int input_set; /* enum opes_mbox_input */
    /* state */
    int fed;    /* opes_mbox_feed() was called */
    int input;  /* IN_* */
    int magic1; /* AUTO: a first byte 1f taken, the second one not seen */
    int state;
    opes_status err;
    uint64_t err_off;
    const char *err_detail;
    uint64_t off;   /* uncompressed stream offset of the core's next byte */
    size_t start_m; /* ST_START: bytes of "From " matched */
    /* the message */
    size_t index;  /* messages begun */
    uint64_t size; /* bytes of DATA of the current message */
    int at_eol;    /* its data is empty or ends with LF */
    /* the From_ line */
    uint64_t from_off;
    uint64_t from_total;     /* bytes of the line so far, LF excluded */
    unsigned char from_last; /* its last byte */
    char from[OPES_MBOX_FROM_MAX + 1];
    /* held at a line start: a blank line (1 "\n", 2 "\r\n"), a CR, one
     * ">", bytes of "From"; their stream offsets */
    unsigned blank;
    int cr, gt;
    unsigned fm;
    uint64_t blank_off, cr_off, gt_off, fm_off;
    char scratch[8];
#if MBOX_ZLIB
    int z_inited;
    int z_member_done; /* inflate reached the end of a member */
    uint64_t zoff;     /* compressed bytes taken */
    size_t zpos, zlen; /* unread part of zout */
    size_t arena_used;
    /* an inflate error held until the bytes decoded before it are read */
    opes_status z_err;
    uint64_t z_err_off;
    const char *z_err_detail;
    z_stream z;
    unsigned char zout[OPES_MBOX_GZIP_CHUNK];
    union {
        max_align_t align;
        unsigned char b[OPES_MBOX_ZLIB_ARENA];
    } arena;
#endif
};

/* see opes/mbox.h */
const char *opes_mbox_event_name(int type)
{
    switch (type) {
    case OPES_MBOX_EV_NONE:
        return "none";
    case OPES_MBOX_EV_MESSAGE_BEGIN:
        return "message_begin";
    case OPES_MBOX_EV_DATA:
        return "data";
    case OPES_MBOX_EV_MESSAGE_END:
        return "message_end";
    case OPES_MBOX_EV_END:
        return "end";
    case OPES_MBOX_EV_ERROR:
        return "error";
    default:
        return NULL;
    }
}

static void rd_start(opes_mbox_reader *r)
{
    r->fed = 0;
    r->input = IN_UNKNOWN;
    r->magic1 = 0;
    r->state = ST_START;
    r->err = OPES_OK;
    r->err_off = 0;
    r->err_detail = NULL;
    r->off = 0;
    r->start_m = 0;
    r->index = 0;
    r->size = 0;
    r->at_eol = 1;
    r->from_off = 0;
    r->from_total = 0;
    r->from_last = 0;
    r->blank = 0;
    r->cr = r->gt = 0;
    r->fm = 0;
    r->blank_off = r->cr_off = r->gt_off = r->fm_off = 0;
#if MBOX_ZLIB
    /* the arena is the reader's: forgetting the inflate state frees it */
    r->z_inited = 0;
    r->z_member_done = 0;
    r->zoff = 0;
    r->zpos = r->zlen = 0;
    r->arena_used = 0;
    r->z_err = OPES_OK;
    r->z_err_off = 0;
    r->z_err_detail = NULL;
#endif
}

static void rd_init(opes_mbox_reader *r)
{
    memset(&r->alloc, 0, sizeof r->alloc);
    r->heap = 0;
    r->variant = OPES_MBOX_MBOXRD;
    r->input_set = OPES_MBOX_INPUT_AUTO;
    rd_start(r);
}

/* see opes/mbox.h */
size_t opes_mbox_reader_sizeof(void)
{
    return sizeof(opes_mbox_reader);
}

/* see opes/mbox.h */
opes_status opes_mbox_reader_new(opes_mbox_reader **out, const opes_allocator *alloc)
{
    opes_mbox_reader *r;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    r = opes__alloc(alloc, sizeof *r);
    if (!r)
        return OPES_ENOMEM;
    rd_init(r);
    r->heap = 1;
    if (alloc)
        r->alloc = *alloc;
    *out = r;
    return OPES_OK;
}

/* see opes/mbox.h */
opes_status opes_mbox_reader_init_in(void *mem, size_t len, opes_mbox_reader **out)
{
    if (!mem || !out || len < sizeof(opes_mbox_reader))
        return OPES_EINVAL;
    rd_init((opes_mbox_reader *)mem);
    *out = (opes_mbox_reader *)mem;
    return OPES_OK;
}

/* see opes/mbox.h */
void opes_mbox_reader_free(opes_mbox_reader *r)
{
    if (!r || !r->heap)
        return;
    opes_allocator a = r->alloc;
    opes__free(a.free ? &a : NULL, r, sizeof *r);
}

/* see opes/mbox.h */
opes_status opes_mbox_reader_reset(opes_mbox_reader *r)
{
    if (!r)
        return OPES_EINVAL;
    rd_start(r);
    return OPES_OK;
}

/* see opes/mbox.h */
opes_status opes_mbox_reader_set_variant(opes_mbox_reader *r, int variant)
{
    if (!r || (variant != OPES_MBOX_MBOXRD && variant != OPES_MBOX_MBOXO))
        return OPES_EINVAL;
    if (r->fed)
        return OPES_ESTATE;
    r->variant = variant;
    return OPES_OK;
}

/* see opes/mbox.h */
opes_status opes_mbox_reader_set_input(opes_mbox_reader *r, int input)
{
    if (!r || input < OPES_MBOX_INPUT_AUTO || input > OPES_MBOX_INPUT_GZIP)
        return OPES_EINVAL;
    if (!MBOX_ZLIB && input == OPES_MBOX_INPUT_GZIP)
        return OPES_EUNSUPPORTED;
    if (r->fed)
        return OPES_ESTATE;
    r->input_set = input;
    return OPES_OK;
}

/* see opes/mbox.h */
int opes_mbox_reader_input(const opes_mbox_reader *r)
{
    if (!r)
        return OPES_MBOX_INPUT_AUTO;
    return r->input == IN_PLAIN  ? OPES_MBOX_INPUT_PLAIN
           : r->input == IN_GZIP ? OPES_MBOX_INPUT_GZIP
                                 : OPES_MBOX_INPUT_AUTO;
}

/* ---- errors and events ----------------------------------------------------- */

static opes_status fail(opes_mbox_reader *r, opes_status st, uint64_t off, const char *detail,
                        opes_mbox_event *ev)
{
    r->state = ST_ERROR;
    r->err = st;
    r->err_off = off;
    r->err_detail = detail;
    ev->type = OPES_MBOX_EV_ERROR;
    ev->offset = off;
    ev->detail = detail;
    return st;
}

static void emit_data(opes_mbox_reader *r, opes_mbox_event *ev, const char *p, size_t n,
                      uint64_t off)
{
    ev->type = OPES_MBOX_EV_DATA;
    ev->index = r->index;
    ev->offset = off;
    ev->data.ptr = p;
    ev->data.len = n;
    r->size += n;
    r->at_eol = p[n - 1] == '\n';
}

/* Give out the bytes held at a line start, in stream order (a blank line,
 * a CR, a ">", bytes of "From"; never a blank line and a ">" together) as
 * one DATA event; with only_blank, the blank line alone. 0 if none. */
static int flush(opes_mbox_reader *r, opes_mbox_event *ev, int only_blank)
{
    size_t n = 0;
    uint64_t off = UINT64_MAX;
    if (r->blank) {
        if (r->blank == 2)
            r->scratch[n++] = '\r';
        r->scratch[n++] = '\n';
        off = r->blank_off;
        r->blank = 0;
    }
    if (!only_blank) {
        if (r->cr) {
            r->scratch[n++] = '\r';
            off = off < r->cr_off ? off : r->cr_off;
            r->cr = 0;
        }
        if (r->gt) {
            r->scratch[n++] = '>';
            off = off < r->gt_off ? off : r->gt_off;
            r->gt = 0;
        }
        if (r->fm) {
            memcpy(r->scratch + n, from_, r->fm);
            n += r->fm;
            off = off < r->fm_off ? off : r->fm_off;
            r->fm = 0;
        }
    }
    if (n == 0)
        return 0;
    emit_data(r, ev, r->scratch, n, off);
    return 1;
}

static void begin(opes_mbox_reader *r, opes_mbox_event *ev, int lf)
{
    uint64_t content = r->from_total;
    size_t kept;
    if (lf && content > 0 && r->from_last == '\r')
        content--;
    kept = content > OPES_MBOX_FROM_MAX ? OPES_MBOX_FROM_MAX : (size_t)content;
    r->index++;
    r->size = 0;
    r->at_eol = 1;
    ev->type = OPES_MBOX_EV_MESSAGE_BEGIN;
    ev->index = r->index;
    ev->offset = r->from_off;
    ev->from.ptr = r->from;
    ev->from.len = kept;
    ev->flags = (content > OPES_MBOX_FROM_MAX ? OPES_MBOX_MF_FROM_TRUNCATED : 0u) |
                (lf ? 0u : OPES_MBOX_MF_NO_EOL);
}

static void end_message(opes_mbox_reader *r, opes_mbox_event *ev, uint64_t off, int blank)
{
    ev->type = OPES_MBOX_EV_MESSAGE_END;
    ev->index = r->index;
    ev->offset = off;
    ev->size = r->size;
    ev->flags = (blank ? 0u : OPES_MBOX_MF_NO_BLANK_LINE) | (r->at_eol ? 0u : OPES_MBOX_MF_NO_EOL);
}

/* A byte at a line start that may need holding back. */
static int special(unsigned char c)
{
    return c == 'F' || c == '>' || c == '\n' || c == '\r';
}

/* ---- the core: uncompressed mbox bytes ----------------------------------- */

/* p[0..n): the next uncompressed bytes (stream offset r->off); eof: none
 * after them. Returns one event (OPES_OK), an error, or OPES_INCOMPLETE
 * with everything taken (never with eof). *used: bytes taken. */
static opes_status core(opes_mbox_reader *r, const unsigned char *p, size_t n, int eof,
                        size_t *used, opes_mbox_event *ev)
{
    size_t i = 0;
    opes_status st = OPES_OK;
    for (;;) {
        switch (r->state) {
        case ST_START:
            while (i < n && r->start_m < 5) {
                if (p[i] != (unsigned char)from_[r->start_m]) {
                    st = fail(r, OPES_EBAD_MBOX, 0, "the mailbox does not start with a From_ line",
                              ev);
                    goto out;
                }
                r->start_m++;
                i++;
            }
            if (r->start_m == 5) {
                memcpy(r->from, from_, 5);
                r->from_total = 5;
                r->from_last = ' ';
                r->from_off = 0;
                r->state = ST_FROMLINE;
                continue;
            }
            if (!eof)
                goto need;
            if (r->start_m == 0) { /* nothing at all: an empty mailbox */
                r->state = ST_FINAL;
                continue;
            }
            st = fail(r, OPES_EBAD_MBOX, 0, "the mailbox does not start with a From_ line", ev);
            goto out;

        case ST_FROMLINE: {
            const unsigned char *lf = i < n ? memchr(p + i, '\n', n - i) : NULL;
            size_t end = lf ? (size_t)(lf - p) : n;
            if (end > i) {
                if (r->from_total < OPES_MBOX_FROM_MAX + 1) {
                    size_t room = (size_t)(OPES_MBOX_FROM_MAX + 1 - r->from_total);
                    size_t k = end - i < room ? end - i : room;
                    memcpy(r->from + r->from_total, p + i, k);
                }
                r->from_total += end - i;
                r->from_last = p[end - 1];
                i = end;
            }
            if (lf) {
                i++;
                begin(r, ev, 1);
                r->state = ST_LS;
                goto out;
            }
            if (!eof)
                goto need;
            begin(r, ev, 0);
            r->state = ST_LS;
            goto out;
        }

        case ST_MID: {
            size_t j = i;
            if (i == n) {
                if (eof)
                    goto at_eof;
                goto need;
            }
            for (;;) {
                const unsigned char *lf = memchr(p + j, '\n', n - j);
                if (!lf) {
                    j = n;
                    break;
                }
                j = (size_t)(lf - p) + 1;
                if (j == n || special(p[j])) {
                    r->state = ST_LS;
                    break;
                }
            }
            emit_data(r, ev, (const char *)p + i, j - i, r->off + i);
            i = j;
            goto out;
        }

        case ST_LS: {
            unsigned char c;
            if (i == n) {
                if (eof)
                    goto at_eof;
                goto need;
            }
            c = p[i];
            if (r->fm) {
                if (c != (unsigned char)from_[r->fm]) { /* not "From ": data */
                    flush(r, ev, 0);
                    r->state = ST_MID;
                    goto out;
                }
                i++;
                if (++r->fm < 5)
                    continue;
                r->fm = 0;
                if (r->gt) { /* ">...>From ": the first ">" goes */
                    r->gt = 0;
                    emit_data(r, ev, from_, 5, r->fm_off);
                    r->state = ST_MID;
                    goto out;
                }
                /* a From_ line: the message before it ends; a blank line
                 * held is the separator */
                end_message(r, ev, r->fm_off, r->blank != 0);
                r->blank = 0;
                r->cr = 0;
                memcpy(r->from, from_, 5);
                r->from_total = 5;
                r->from_last = ' ';
                r->from_off = r->fm_off;
                r->state = ST_FROMLINE;
                goto out;
            }
            if (r->gt) { /* one ">" held, no blank line, no CR */
                if (c == 'F') {
                    r->fm = 1;
                    r->fm_off = r->off + i;
                    i++;
                    continue;
                }
                if (c == '>' && r->variant == OPES_MBOX_MBOXRD) {
                    /* more ">": data now, the held one decides later (all
                     * ">" are alike, so the order of release is invisible) */
                    size_t j = i;
                    while (j < n && p[j] == '>')
                        j++;
                    emit_data(r, ev, (const char *)p + i, j - i, r->off + i);
                    i = j;
                    goto out;
                }
                flush(r, ev, 0);
                r->state = ST_MID;
                goto out;
            }
            if (r->cr) {
                if (c == '\n') {
                    if (r->blank) {
                        flush(r, ev, 1);
                        goto out;
                    }
                    r->blank = 2;
                    r->blank_off = r->cr_off;
                    r->cr = 0;
                    i++;
                    continue;
                }
                flush(r, ev, 0);
                r->state = ST_MID;
                goto out;
            }
            switch (c) {
            case '\n':
                if (r->blank) {
                    flush(r, ev, 1);
                    goto out;
                }
                r->blank = 1;
                r->blank_off = r->off + i;
                i++;
                continue;
            case '\r':
                r->cr = 1;
                r->cr_off = r->off + i;
                i++;
                continue;
            case 'F':
                r->fm = 1;
                r->fm_off = r->off + i;
                i++;
                continue;
            case '>':
                if (flush(r, ev, 0))
                    goto out; /* the blank line was data; the ">" is next */
                r->gt = 1;
                r->gt_off = r->off + i;
                i++;
                continue;
            default:
                r->state = ST_MID;
                if (flush(r, ev, 0))
                    goto out;
                continue;
            }
        }

        case ST_FINAL:
            ev->type = OPES_MBOX_EV_END;
            ev->index = r->index;
            ev->offset = r->off + i;
            r->state = ST_ENDED;
            goto out;

        default: /* ST_ENDED, ST_ERROR: not reached (opes_mbox_feed) */
            st = OPES_ESTATE;
            goto out;
        }
    }

at_eof:
    /* the input ended in a message: a blank line alone at the end is its
     * separator; anything else held is data (a last line without LF) */
    if (r->state == ST_LS && r->blank && !r->cr && !r->gt && !r->fm) {
        r->blank = 0;
        end_message(r, ev, r->off + i, 1);
        r->state = ST_FINAL;
        goto out;
    }
    if (flush(r, ev, 0))
        goto out;
    end_message(r, ev, r->off + i, 0);
    r->state = ST_FINAL;
    goto out;

need:
    st = OPES_INCOMPLETE;
out:
    r->off += i;
    *used = i;
    return st;
}

/* ---- gzip ------------------------------------------------------------------ */

#if MBOX_ZLIB
static voidpf arena_alloc(voidpf opaque, uInt items, uInt size)
{
    opes_mbox_reader *r = opaque;
    size_t n;
    if (size && items > SIZE_MAX / size)
        return Z_NULL;
    n = (size_t)items * size;
    if (n > OPES_MBOX_ZLIB_ARENA)
        return Z_NULL;
    n = (n + 15u) & ~(size_t)15u;
    if (n > OPES_MBOX_ZLIB_ARENA - r->arena_used)
        return Z_NULL;
    r->arena_used += n;
    return r->arena.b + (r->arena_used - n);
}

static void arena_free(voidpf opaque, voidpf p)
{
    (void)opaque; /* the arena goes with the reader */
    (void)p;
}

static opes_status gz_feed(opes_mbox_reader *r, const unsigned char *buf, size_t len, int eof,
                           size_t *used, opes_mbox_event *ev)
{
    static const unsigned char magic0 = 0x1f;
    size_t taken = 0;
    opes_status st;
    if (!r->z_inited) {
        memset(&r->z, 0, sizeof r->z);
        r->z.zalloc = arena_alloc;
        r->z.zfree = arena_free;
        r->z.opaque = r;
        r->arena_used = 0;
        if (inflateInit2(&r->z, 15 + 16) != Z_OK) /* gzip only */
            return fail(r, OPES_ENOMEM, 0, "zlib could not start", ev);
        r->z_inited = 1;
    }
    for (;;) {
        const unsigned char *in;
        size_t avail, took, produced;
        uInt give;
        int zr, from_magic = r->magic1;
        if (r->zpos < r->zlen) {
            size_t u;
            st = core(r, r->zout + r->zpos, r->zlen - r->zpos, 0, &u, ev);
            r->zpos += u;
            if (st != OPES_INCOMPLETE)
                goto out;
            continue;
        }
        if (r->z_err) { /* its output is read: now the error */
            st = fail(r, r->z_err, r->z_err_off, r->z_err_detail, ev);
            goto out;
        }
        in = from_magic ? &magic0 : buf ? buf + taken : NULL;
        avail = from_magic ? 1 : len - taken;
        if (r->z_member_done) {
            if (avail == 0) {
                if (!eof) {
                    st = OPES_INCOMPLETE;
                    goto out;
                }
                st = core(r, NULL, 0, 1, &took, ev);
                goto out;
            }
            /* another member follows (RFC 1952 2.2) */
            if (inflateReset(&r->z) != Z_OK) {
                st = fail(r, OPES_EBAD_GZIP, r->zoff, "the gzip stream is corrupt", ev);
                goto out;
            }
            r->z_member_done = 0;
        }
        give = avail > UINT_MAX ? UINT_MAX : (uInt)avail;
        r->z.next_in = in;
        r->z.avail_in = give;
        r->z.next_out = r->zout;
        r->z.avail_out = OPES_MBOX_GZIP_CHUNK;
        zr = inflate(&r->z, Z_NO_FLUSH);
        took = give - r->z.avail_in;
        produced = OPES_MBOX_GZIP_CHUNK - r->z.avail_out;
        if (from_magic) {
            if (took)
                r->magic1 = 0;
        } else {
            taken += took;
        }
        r->zoff += took;
        r->zpos = 0;
        r->zlen = produced;
        switch (zr) {
        case Z_OK:
            break;
        case Z_STREAM_END:
            r->z_member_done = 1;
            break;
        case Z_BUF_ERROR: /* no progress: it wants more input */
            if (took || produced)
                break;
            if (!eof) {
                st = OPES_INCOMPLETE;
                goto out;
            }
            st = fail(r, OPES_EBAD_GZIP, r->zoff, "the gzip stream is truncated", ev);
            goto out;
        /* an error may come with output decoded before the damage: that is
         * read first (as it is when the input arrives in smaller pieces),
         * then the error is returned (above) */
        case Z_MEM_ERROR:
            r->z_err = OPES_ENOMEM;
            r->z_err_off = r->zoff;
            r->z_err_detail = "zlib wanted more memory than the reader's arena";
            break;
        default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            r->z_err = OPES_EBAD_GZIP;
            r->z_err_off = r->zoff;
            r->z_err_detail = "the gzip stream is corrupt";
            break;
        }
    }
out:
    *used = taken;
    return st;
}
#endif

/* ---- the entry point ---------------------------------------------------- */

/* see opes/mbox.h */
opes_status opes_mbox_feed(opes_mbox_reader *r, const char *buf, size_t len, int eof, size_t *used,
                           opes_mbox_event *ev)
{
    const unsigned char *b = (const unsigned char *)buf;
    if (!r || !used || !ev || (!buf && len))
        return OPES_EINVAL;
    *used = 0;
    memset(ev, 0, sizeof *ev);
    if (r->state == ST_ERROR) {
        ev->type = OPES_MBOX_EV_ERROR;
        ev->offset = r->err_off;
        ev->detail = r->err_detail;
        return r->err;
    }
    if (r->state == ST_ENDED)
        return OPES_ESTATE;
    r->fed = 1;
    if (r->input == IN_UNKNOWN) {
        if (r->input_set == OPES_MBOX_INPUT_PLAIN) {
            r->input = IN_PLAIN;
        } else if (r->input_set == OPES_MBOX_INPUT_GZIP) {
            r->input = IN_GZIP;
        } else if (r->magic1) { /* 1f taken: is the next byte 8b? */
            if (len == 0) {
                if (!eof)
                    return OPES_INCOMPLETE;
                return fail(r, OPES_EBAD_MBOX, 0, "the mailbox does not start with a From_ line",
                            ev);
            }
            if (b[0] != 0x8b)
                return fail(r, OPES_EBAD_MBOX, 0, "the mailbox does not start with a From_ line",
                            ev);
            r->input = IN_GZIP;
        } else if (len == 0) {
            if (!eof)
                return OPES_INCOMPLETE;
            r->input = IN_PLAIN;
        } else if (b[0] != 0x1f) {
            r->input = IN_PLAIN;
        } else if (len >= 2) {
            r->input = b[1] == 0x8b ? IN_GZIP : IN_PLAIN;
        } else if (eof) {
            r->input = IN_PLAIN;
        } else {
            r->magic1 = 1;
            *used = 1;
            return OPES_INCOMPLETE;
        }
    }
    if (r->input == IN_PLAIN)
        return core(r, b, len, eof, used, ev);
#if MBOX_ZLIB
    return gz_feed(r, b, len, eof, used, ev);
#else
    return fail(r, OPES_EUNSUPPORTED, 0,
                "the mailbox is gzip-compressed (1f 8b) and this build of libopes has no zlib", ev);
#endif
}
