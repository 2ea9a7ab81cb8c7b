/*
 * The DATA codec: dot-unstuffing with end-of-data detection (servers) and
 * dot-stuffing (clients). RFC 5321 2.3.8, 4.1.1.4, 4.5.2, 4.5.3.1.6.
 *
 * Speed: content is scanned for the next CR or LF a block at a time
 * (find_eol) and handed out as whole spans of the caller's buffer; the state
 * machine runs only at line ends and line-start dots. Everything the
 * scanner does not take on its fast path goes one byte at a time through
 * dec_step()/enc_step(), which hold a byte whose meaning depends on the next
 * one (a CR, a line-start dot) in the object, so the events never depend on
 * where the input was split.
 *
 * find_eol uses SSE2 where the compiler targets it; -DOPES_NO_SIMD builds
 * the portable word-at-a-time scanner alone, to run the tests on it.
 *
 * Items the codec must hand out that are not a span of the current buffer
 * (events, static "\r\n", "." ...) go through a small queue in the object;
 * each call hands out one item, before it reads any more input.
 */
#include "internal.h"

#include "data_internal.h"

#if defined(__SSE2__) && defined(__GNUC__) && !defined(OPES_NO_SIMD)
#include <emmintrin.h>
#define OPES_DATA_SSE2 1
#else
#define OPES_DATA_SSE2 0
#endif

/* The bytes the codec supplies itself. Views into these live forever. */
static const char s_crlf[] = "\r\n";
static const char s_dot[] = ".";
static const char s_cr[] = "\r";
static const char s_lf[] = "\n";
static const char s_term[] = ".\r\n";          /* terminator after a CRLF */
static const char s_crlf_term[] = "\r\n.\r\n"; /* with the CRLF added */

#define DEFAULT_LINE_LIMIT 1000 /* RFC 5321 4.5.3.1.6, incl. CRLF */
#define DEFAULT_REJECT_CODE 550 /* Postfix smtpd_forbid_bare_newline_reject_code */
#define QMAX 8                  /* most items one byte can produce is 5 */

/* ---- finding line ends ------------------------------------------------- */

/* see data_internal.h */
const char *opes__data_find_eol_scalar(const char *p, const char *end)
{
    /* Word at a time: a byte of x is zero iff the "has zero byte" test
     * below flags it (Mycroft's trick; exact for the first flagged byte,
     * which is all we use). */
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const uint64_t crs = ones * '\r', lfs = ones * '\n';
    while (end - p >= 8) {
        uint64_t w, a, b;
        memcpy(&w, p, 8);
        a = w ^ crs;
        b = w ^ lfs;
        if ((((a - ones) & ~a) | ((b - ones) & ~b)) & highs)
            break; /* a CR or LF in these 8 bytes: find it below */
        p += 8;
    }
    while (p < end && *p != '\r' && *p != '\n')
        p++;
    return p;
}

#if OPES_DATA_SSE2
/* see data_internal.h */
const char *opes__data_find_eol(const char *p, const char *end)
{
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    /* Only whole 16-byte blocks inside [p, end) are loaded: never a byte
     * past end, even where the page would allow it. */
    while (end - p >= 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
        unsigned ma =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(a, cr), _mm_cmpeq_epi8(a, lf)));
        unsigned mb =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, cr), _mm_cmpeq_epi8(b, lf)));
        unsigned m = ma | (mb << 16);
        if (m)
            return p + __builtin_ctz(m);
        p += 32;
    }
    if (end - p >= 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(a, cr), _mm_cmpeq_epi8(a, lf)));
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
    while (p < end && *p != '\r' && *p != '\n')
        p++;
    return p;
}
#else
/* see data_internal.h */
const char *opes__data_find_eol(const char *p, const char *end)
{
    return opes__data_find_eol_scalar(p, end);
}
#endif

/* ---- the item queue (shared by both objects) ------------------------------ */

struct item {
    int type;
    const char *ptr; /* CONTENT: a static constant */
    size_t len;
    uint64_t off;
};

struct queue {
    unsigned head, n;
    struct item it[QMAX];
};

static void q_push(struct queue *q, int type, const char *ptr, size_t len, uint64_t off)
{
    /* Bounded by construction (at most 5 items per byte, and the queue is
     * drained before the next byte is read); the check keeps a future slip
     * from writing out of bounds. */
    if (q->head + q->n >= QMAX)
        return;
    struct item *it = &q->it[q->head + q->n++];
    it->type = type;
    it->ptr = ptr;
    it->len = len;
    it->off = off;
}

static void q_pop(struct queue *q, opes_data_event *ev)
{
    const struct item *it = &q->it[q->head];
    ev->type = it->type;
    ev->content.ptr = it->ptr;
    ev->content.len = it->len;
    ev->offset = it->off;
    q->head++;
    if (--q->n == 0)
        q->head = 0;
}

static void clear_event(opes_data_event *ev)
{
    ev->type = OPES_DATA_EV_NONE;
    ev->content.ptr = NULL;
    ev->content.len = 0;
    ev->offset = 0;
}

/* ---- names ------------------------------------------------------------------ */

/* see opes/data.h */
const char *opes_data_event_name(int type)
{
    switch (type) {
    case OPES_DATA_EV_NONE:
        return "none";
    case OPES_DATA_EV_CONTENT:
        return "content";
    case OPES_DATA_EV_END:
        return "end";
    case OPES_DATA_EV_BARE_LF:
        return "bare_lf";
    case OPES_DATA_EV_BARE_CR:
        return "bare_cr";
    case OPES_DATA_EV_LONG_LINE:
        return "long_line";
    case OPES_DATA_EV_DOT_NOT_STUFFED:
        return "dot_not_stuffed";
    case OPES_DATA_EV_FALSE_END:
        return "false_end";
    case OPES_DATA_EV_NO_FINAL_CRLF:
        return "no_final_crlf";
    default:
        return NULL;
    }
}

static int line_limit_check(size_t value)
{
    if (value < 2)
        return OPES_EINVAL;
    if (value > OPES_MAX_TEXT_LINE)
        return OPES_ECEILING;
    return OPES_OK;
}

/* ============================================================================
 * Decoder
 * ========================================================================== */

enum dec_state {
    D_TEXT = 0,     /* inside a line */
    D_BOL = 1,      /* at a line start: after a CRLF, or the data start */
    D_BOL_BARE = 2, /* after a bare CR or LF: a line start when normalising;
                       rejecting, still inside the line (a dot here is
                       plain content) but watched for false ends */
    D_CR = 3,       /* a CR held (cr_off) */
    D_DOT = 4,      /* a line-start dot held (dot_off) */
    D_DOT_BARE = 5, /* a dot right after a bare line end held */
    D_DOTCR = 6,    /* a line-start dot and a CR held */
    D_DOTCR_BARE = 7,
    D_END = 8 /* "<CRLF>.<CRLF>" seen */
};

struct opes_data_decoder {
    opes_allocator alloc;
    int heap;
    /* settings */
    int mode;
    size_t limit;
    int reject_code;
    /* state */
    int state;
    uint64_t off;      /* stream offset of the next byte to consume */
    uint64_t dot_off;  /* the held dot */
    uint64_t cr_off;   /* the held CR */
    uint64_t text_len; /* content bytes of the current line, without its end */
    int long_done;     /* LONG_LINE already reported for this line */
    struct queue q;
    opes_data_summary sum;
};

static void dec_start(opes_data_decoder *d)
{
    d->state = D_BOL; /* RFC 5321 4.1.1.4: the data begins at a line start */
    d->off = d->dot_off = d->cr_off = d->text_len = 0;
    d->long_done = 0;
    memset(&d->q, 0, sizeof d->q);
    memset(&d->sum, 0, sizeof d->sum);
}

static void dec_init(opes_data_decoder *d)
{
    memset(d, 0, sizeof *d);
    d->mode = OPES_DATA_REJECT;
    d->limit = DEFAULT_LINE_LIMIT;
    d->reject_code = DEFAULT_REJECT_CODE;
    dec_start(d);
}

/* see opes/data.h */
size_t opes_data_decoder_sizeof(void)
{
    return sizeof(opes_data_decoder);
}

/* see opes/data.h */
opes_status opes_data_decoder_new(opes_data_decoder **out, const opes_allocator *alloc)
{
    opes_data_decoder *d;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    d = opes__alloc(alloc, sizeof *d);
    if (!d)
        return OPES_ENOMEM;
    dec_init(d);
    d->heap = 1;
    if (alloc)
        d->alloc = *alloc;
    *out = d;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_decoder_init_in(void *mem, size_t len, opes_data_decoder **out)
{
    if (!mem || !out || len < sizeof(opes_data_decoder))
        return OPES_EINVAL;
    dec_init((opes_data_decoder *)mem);
    *out = (opes_data_decoder *)mem;
    return OPES_OK;
}

/* see opes/data.h */
void opes_data_decoder_free(opes_data_decoder *d)
{
    if (!d || !d->heap)
        return;
    opes_allocator a = d->alloc;
    opes__free(a.free ? &a : NULL, d, sizeof *d);
}

/* see opes/data.h */
opes_status opes_data_decoder_reset(opes_data_decoder *d)
{
    if (!d)
        return OPES_EINVAL;
    dec_start(d);
    return OPES_OK;
}

static int dec_fresh(const opes_data_decoder *d)
{
    return d->off == 0 && d->state == D_BOL && d->q.n == 0;
}

/* see opes/data.h */
opes_status opes_data_decoder_set_mode(opes_data_decoder *d, int mode)
{
    if (!d || (mode != OPES_DATA_REJECT && mode != OPES_DATA_NORMALISE))
        return OPES_EINVAL;
    if (!dec_fresh(d))
        return OPES_ESTATE;
    d->mode = mode;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_decoder_set_line_limit(opes_data_decoder *d, size_t value)
{
    if (!d)
        return OPES_EINVAL;
    int st = line_limit_check(value);
    if (st != OPES_OK)
        return (opes_status)st;
    if (!dec_fresh(d))
        return OPES_ESTATE;
    d->limit = value;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_decoder_set_reject_code(opes_data_decoder *d, int code)
{
    if (!d || code < 500 || code > 599)
        return OPES_EINVAL;
    if (!dec_fresh(d))
        return OPES_ESTATE;
    d->reject_code = code;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_decoder_summary(const opes_data_decoder *d, opes_data_summary *out)
{
    if (!d || !out)
        return OPES_EINVAL;
    *out = d->sum;
    out->bytes_in = d->off;
    return OPES_OK;
}

static void dec_event(opes_data_decoder *d, int type, uint64_t off)
{
    q_push(&d->q, type, NULL, 0, off);
}

static void dec_static(opes_data_decoder *d, const char *s, size_t n, uint64_t off)
{
    q_push(&d->q, OPES_DATA_EV_CONTENT, s, n, off);
    d->sum.bytes_out += n;
}

/* One content byte of the current line that the decoder supplies (a held
 * dot, a bare CR or LF passed on): counted against the line limit first. */
static void dec_text(opes_data_decoder *d, const char *s, uint64_t off)
{
    if (!d->long_done && d->text_len + 1 > d->limit - 2) {
        dec_event(d, OPES_DATA_EV_LONG_LINE, off);
        d->sum.long_lines++;
        d->long_done = 1;
    }
    d->text_len++;
    dec_static(d, s, 1, off);
}

/* A line ended (by CRLF, or normalising, by a bare CR or LF). */
static void line_done(opes_data_summary *sum, uint64_t *text_len, int *long_done)
{
    uint64_t l = *text_len + 2;
    if (l > sum->longest_line)
        sum->longest_line = l;
    sum->lines++;
    *text_len = 0;
    *long_done = 0;
}

/* RFC 5321 2.3.8: a bare LF or CR is never a line end of SMTP. Rejecting,
 * it stays in the content as it came (and the line goes on); normalising,
 * it becomes CRLF and ends the line. Either way the line after it can never
 * be the end-of-data line: that takes a real CRLF before ".". */
static void dec_bare(opes_data_decoder *d, int type, const char *s, uint64_t off)
{
    dec_event(d, type, off);
    if (type == OPES_DATA_EV_BARE_LF)
        d->sum.bare_lf++;
    else
        d->sum.bare_cr++;
    if (d->mode == OPES_DATA_NORMALISE) {
        dec_static(d, s_crlf, 2, off);
        line_done(&d->sum, &d->text_len, &d->long_done);
    } else {
        dec_text(d, s, off);
    }
    d->state = D_BOL_BARE;
}

static void dec_false_end(opes_data_decoder *d)
{
    dec_event(d, OPES_DATA_EV_FALSE_END, d->dot_off);
    d->sum.false_ends++;
    dec_text(d, s_dot, d->dot_off); /* the dot stays: it ended nothing */
}

/* One byte c at offset off, in any state but plain text (which the fast path
 * in opes_data_decode() takes). Returns 1 if c was consumed, 0 if only the
 * state changed and c must be looked at again in the new state. */
static int dec_step(opes_data_decoder *d, unsigned char c, uint64_t off)
{
    switch (d->state) {
    case D_TEXT:
    case D_BOL:
    case D_BOL_BARE:
        if (c == '\r') {
            d->cr_off = off;
            d->state = D_CR;
            return 1;
        }
        if (c == '\n') {
            dec_bare(d, OPES_DATA_EV_BARE_LF, s_lf, off);
            return 1;
        }
        if (c == '.' && d->state != D_TEXT) {
            d->dot_off = off;
            d->state = d->state == D_BOL ? D_DOT : D_DOT_BARE;
            return 1;
        }
        d->state = D_TEXT;
        return 0;
    case D_CR:
        if (c == '\n') {
            dec_static(d, s_crlf, 2, d->cr_off);
            line_done(&d->sum, &d->text_len, &d->long_done);
            d->state = D_BOL;
            return 1;
        }
        dec_bare(d, OPES_DATA_EV_BARE_CR, s_cr, d->cr_off);
        return 0;
    case D_DOT:
    case D_DOT_BARE: {
        /* RFC 5321 4.5.2: at a line start, a "." followed by more characters
         * is deleted. After a bare line end only a normalising decoder is at
         * a line start; rejecting, that dot is plain content. */
        int bol = d->state == D_DOT || d->mode == OPES_DATA_NORMALISE;
        if (c == '\r') {
            d->cr_off = off;
            d->state = d->state == D_DOT ? D_DOTCR : D_DOTCR_BARE;
            return 1;
        }
        if (c == '\n') {
            /* ".<LF>": the terminator of a server taking LF for a line end */
            dec_false_end(d);
            dec_bare(d, OPES_DATA_EV_BARE_LF, s_lf, off);
            return 1;
        }
        if (bol && c == '.') {
            d->sum.stuffed_dots++; /* ".." -> ".": drop the first */
        } else if (bol) {
            dec_event(d, OPES_DATA_EV_DOT_NOT_STUFFED, d->dot_off);
            d->sum.dot_not_stuffed++;
        } else {
            dec_text(d, s_dot, d->dot_off);
        }
        d->state = D_TEXT;
        return 0;
    }
    case D_DOTCR:
    case D_DOTCR_BARE:
        if (c == '\n' && d->state == D_DOTCR) {
            d->state = D_END; /* RFC 5321 4.1.1.4: <CRLF>.<CRLF> */
            return 1;
        }
        /* ".<CR>" not ending the data: after a bare line end, or with a
         * bare CR (a server taking CR for a line end would stop here). */
        dec_false_end(d);
        if (c == '\n') {
            dec_static(d, s_crlf, 2, d->cr_off);
            line_done(&d->sum, &d->text_len, &d->long_done);
            d->state = D_BOL;
            return 1;
        }
        dec_bare(d, OPES_DATA_EV_BARE_CR, s_cr, d->cr_off);
        return 0;
    default:
        return 1; /* D_END: not reached (opes_data_decode() refuses) */
    }
}

static void dec_finish(opes_data_decoder *d)
{
    opes_data_summary *s = &d->sum;
    s->complete = 1;
    if (d->mode == OPES_DATA_REJECT && (s->bare_lf || s->bare_cr)) {
        /* RFC 5321 2.3.8, 4.1.1.4; the reply of Postfix's
         * smtpd_forbid_bare_newline (reject code 550 by default). */
        s->reply_code = d->reject_code;
        s->enhanced = "5.5.2";
        s->reply_text = s->bare_lf ? "bare <LF> received" : "bare <CR> received";
    } else {
        s->reply_code = 250;
        s->enhanced = "2.0.0";
        s->reply_text = "OK";
    }
}

/* see opes/data.h */
opes_status opes_data_decode(opes_data_decoder *d, const char *buf, size_t len, size_t *used,
                             opes_data_event *ev)
{
    const char *p, *s, *end;
    if (used)
        *used = 0;
    if (ev)
        clear_event(ev);
    if (!d || !used || !ev || (!buf && len))
        return OPES_EINVAL;
    if (d->q.n) {
        q_pop(&d->q, ev);
        return OPES_OK;
    }
    if (d->state == D_END)
        return OPES_ESTATE;
    if (len == 0)
        return OPES_OK;

    p = s = buf;
    end = buf + len;
    while (p < end) {
        if (d->state <= D_BOL_BARE && !(d->state != D_TEXT && *p == '.')) {
            /* Fast path: plain text up to the next CR or LF, CRLF line ends,
             * and line starts that are not dots, all in one span. */
            d->state = D_TEXT;
            for (;;) {
                const char *q = opes__data_find_eol(p, end);
                size_t n = (size_t)(q - p);
                if (!d->long_done && (uint64_t)n > d->limit - 2 - d->text_len) {
                    /* RFC 5321 4.5.3.1.6: the line passes the limit at
                     * p + room; report that before the byte. */
                    size_t room = (size_t)(d->limit - 2 - d->text_len);
                    p += room;
                    d->text_len += room;
                    if (p > s)
                        goto flush;
                    dec_event(d, OPES_DATA_EV_LONG_LINE, d->off + (uint64_t)(p - buf));
                    d->sum.long_lines++;
                    d->long_done = 1;
                    goto deliver;
                }
                d->text_len += n;
                p = q;
                if (p == end)
                    goto done;
                if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
                    line_done(&d->sum, &d->text_len, &d->long_done);
                    p += 2;
                    d->state = D_BOL;
                    if (p == end)
                        goto done;
                    if (*p == '.')
                        break; /* a line-start dot: the state machine */
                    d->state = D_TEXT;
                    continue;
                }
                break; /* a CR at the end of buf, a bare CR, a bare LF */
            }
        }
        /* Slow path: one byte through the state machine, after handing out
         * the span before it (the items it queues come after that span). */
        if (p > s)
            goto flush;
        if (dec_step(d, (unsigned char)*p, d->off + (uint64_t)(p - buf)))
            p++;
        s = p;
        if (d->state == D_END) {
            *used = (size_t)(p - buf);
            d->off += *used;
            dec_finish(d);
            ev->type = OPES_DATA_EV_END;
            ev->offset = d->dot_off;
            return OPES_OK;
        }
        if (d->q.n)
            goto deliver;
    }
done:
    if (p > s)
        goto flush;
    *used = len;
    d->off += len;
    return OPES_OK;
deliver:
    *used = (size_t)(p - buf);
    d->off += *used;
    q_pop(&d->q, ev);
    return OPES_OK;
flush:
    ev->type = OPES_DATA_EV_CONTENT;
    ev->content.ptr = s;
    ev->content.len = (size_t)(p - s);
    ev->offset = d->off + (uint64_t)(s - buf);
    d->sum.bytes_out += ev->content.len;
    *used = (size_t)(p - buf);
    d->off += *used;
    return OPES_OK;
}

/* ============================================================================
 * Encoder
 * ========================================================================== */

enum enc_state {
    E_TEXT = 0, /* inside a line */
    E_BOL = 1,  /* at a line start (the content start included) */
    E_CR = 2,   /* a CR held (cr_off) */
    E_DONE = 3, /* the terminator is queued or handed out */
    E_ERR = 4   /* sticky error (err, err_ev) */
};

struct opes_data_encoder {
    opes_allocator alloc;
    int heap;
    int mode, final;
    size_t limit;
    int state;
    uint64_t off, cr_off, text_len;
    int long_done;
    opes_status err;
    opes_data_event err_ev;
    struct queue q;
    opes_data_summary sum;
};

static void enc_start(opes_data_encoder *e)
{
    e->state = E_BOL;
    e->off = e->cr_off = e->text_len = 0;
    e->long_done = 0;
    e->err = OPES_OK;
    clear_event(&e->err_ev);
    memset(&e->q, 0, sizeof e->q);
    memset(&e->sum, 0, sizeof e->sum);
}

static void enc_init(opes_data_encoder *e)
{
    memset(e, 0, sizeof *e);
    e->mode = OPES_DATA_REJECT;
    e->final = OPES_DATA_ADD_CRLF;
    e->limit = DEFAULT_LINE_LIMIT;
    enc_start(e);
}

/* see opes/data.h */
size_t opes_data_encoder_sizeof(void)
{
    return sizeof(opes_data_encoder);
}

/* see opes/data.h */
opes_status opes_data_encoder_new(opes_data_encoder **out, const opes_allocator *alloc)
{
    opes_data_encoder *e;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    e = opes__alloc(alloc, sizeof *e);
    if (!e)
        return OPES_ENOMEM;
    enc_init(e);
    e->heap = 1;
    if (alloc)
        e->alloc = *alloc;
    *out = e;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_encoder_init_in(void *mem, size_t len, opes_data_encoder **out)
{
    if (!mem || !out || len < sizeof(opes_data_encoder))
        return OPES_EINVAL;
    enc_init((opes_data_encoder *)mem);
    *out = (opes_data_encoder *)mem;
    return OPES_OK;
}

/* see opes/data.h */
void opes_data_encoder_free(opes_data_encoder *e)
{
    if (!e || !e->heap)
        return;
    opes_allocator a = e->alloc;
    opes__free(a.free ? &a : NULL, e, sizeof *e);
}

/* see opes/data.h */
opes_status opes_data_encoder_reset(opes_data_encoder *e)
{
    if (!e)
        return OPES_EINVAL;
    enc_start(e);
    return OPES_OK;
}

static int enc_fresh(const opes_data_encoder *e)
{
    return e->off == 0 && e->state == E_BOL && e->q.n == 0;
}

/* see opes/data.h */
opes_status opes_data_encoder_set_mode(opes_data_encoder *e, int mode)
{
    if (!e || (mode != OPES_DATA_REJECT && mode != OPES_DATA_NORMALISE))
        return OPES_EINVAL;
    if (!enc_fresh(e))
        return OPES_ESTATE;
    e->mode = mode;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_encoder_set_final(opes_data_encoder *e, int final)
{
    if (!e || (final != OPES_DATA_ADD_CRLF && final != OPES_DATA_REPORT))
        return OPES_EINVAL;
    if (!enc_fresh(e))
        return OPES_ESTATE;
    e->final = final;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_encoder_set_line_limit(opes_data_encoder *e, size_t value)
{
    if (!e)
        return OPES_EINVAL;
    int st = line_limit_check(value);
    if (st != OPES_OK)
        return (opes_status)st;
    if (!enc_fresh(e))
        return OPES_ESTATE;
    e->limit = value;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_encoder_summary(const opes_data_encoder *e, opes_data_summary *out)
{
    if (!e || !out)
        return OPES_EINVAL;
    *out = e->sum;
    out->bytes_in = e->off;
    return OPES_OK;
}

static void enc_static(opes_data_encoder *e, const char *s, size_t n, uint64_t off)
{
    q_push(&e->q, OPES_DATA_EV_CONTENT, s, n, off);
    e->sum.bytes_out += n;
}

/* A bare CR or LF in the content (RFC 5321 2.3.8: a client "MUST NOT
 * transmit" one): rejecting, a sticky error; normalising, CRLF. Returns 0
 * on error. */
static int enc_bare(opes_data_encoder *e, int type, uint64_t off)
{
    if (type == OPES_DATA_EV_BARE_LF)
        e->sum.bare_lf++;
    else
        e->sum.bare_cr++;
    if (e->mode == OPES_DATA_REJECT) {
        e->state = E_ERR;
        e->err = type == OPES_DATA_EV_BARE_LF ? OPES_EBARE_LF : OPES_EBARE_CR;
        e->err_ev.type = type;
        e->err_ev.offset = off;
        return 0;
    }
    q_push(&e->q, type, NULL, 0, off);
    enc_static(e, s_crlf, 2, off);
    line_done(&e->sum, &e->text_len, &e->long_done);
    e->state = E_BOL;
    return 1;
}

/* One byte c at offset off that the fast path does not take: a CR or LF,
 * or any byte after a held CR. Returns 1 if c was consumed, 0 if not
 * (state changed, or an error). */
static int enc_step(opes_data_encoder *e, unsigned char c, uint64_t off)
{
    if (e->state == E_CR) {
        if (c == '\n') {
            enc_static(e, s_crlf, 2, e->cr_off); /* the CR came in an earlier call */
            line_done(&e->sum, &e->text_len, &e->long_done);
            e->state = E_BOL;
            return 1;
        }
        enc_bare(e, OPES_DATA_EV_BARE_CR, e->cr_off);
        return 0;
    }
    if (c == '\r') {
        e->cr_off = off;
        e->state = E_CR;
        return 1;
    }
    if (c == '\n')
        return enc_bare(e, OPES_DATA_EV_BARE_LF, off);
    e->state = E_TEXT;
    return 0;
}

/* see opes/data.h */
opes_status opes_data_encode(opes_data_encoder *e, const char *buf, size_t len, size_t *used,
                             opes_data_event *ev)
{
    const char *p, *s, *end;
    if (used)
        *used = 0;
    if (ev)
        clear_event(ev);
    if (!e || !used || !ev || (!buf && len))
        return OPES_EINVAL;
    if (e->state == E_ERR) {
        *ev = e->err_ev;
        return e->err;
    }
    if (e->q.n && e->state != E_DONE) {
        q_pop(&e->q, ev);
        return OPES_OK;
    }
    if (e->state == E_DONE)
        return OPES_ESTATE;
    if (len == 0)
        return OPES_OK;

    p = s = buf;
    end = buf + len;
    while (p < end) {
        if (e->state == E_BOL && *p == '.') {
            /* RFC 5321 4.5.2: "If it is a period, one additional period is
             * inserted at the beginning of the line." The line's own dot
             * starts the next span. */
            if (p > s)
                goto flush;
            enc_static(e, s_dot, 1, e->off + (uint64_t)(p - buf));
            e->sum.stuffed_dots++;
            e->state = E_TEXT;
            goto deliver;
        }
        if (e->state <= E_BOL) {
            e->state = E_TEXT;
            for (;;) {
                const char *q = opes__data_find_eol(p, end);
                size_t n = (size_t)(q - p);
                if (!e->long_done && (uint64_t)n > e->limit - 2 - e->text_len) {
                    size_t room = (size_t)(e->limit - 2 - e->text_len);
                    p += room;
                    e->text_len += room;
                    if (p > s)
                        goto flush;
                    q_push(&e->q, OPES_DATA_EV_LONG_LINE, NULL, 0, e->off + (uint64_t)(p - buf));
                    e->sum.long_lines++;
                    e->long_done = 1;
                    goto deliver;
                }
                e->text_len += n;
                p = q;
                if (p == end)
                    goto done;
                if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
                    line_done(&e->sum, &e->text_len, &e->long_done);
                    p += 2;
                    e->state = E_BOL;
                    if (p == end)
                        goto done;
                    if (*p == '.')
                        break;
                    e->state = E_TEXT;
                    continue;
                }
                break;
            }
            if (e->state == E_BOL)
                continue; /* the dot, above */
        }
        if (p > s)
            goto flush;
        if (enc_step(e, (unsigned char)*p, e->off + (uint64_t)(p - buf)))
            p++;
        s = p;
        if (e->state == E_ERR) {
            *used = (size_t)(p - buf);
            e->off += *used;
            *ev = e->err_ev;
            return e->err;
        }
        if (e->q.n)
            goto deliver;
    }
done:
    if (p > s)
        goto flush;
    *used = len;
    e->off += len;
    return OPES_OK;
deliver:
    *used = (size_t)(p - buf);
    e->off += *used;
    q_pop(&e->q, ev);
    return OPES_OK;
flush:
    ev->type = OPES_DATA_EV_CONTENT;
    ev->content.ptr = s;
    ev->content.len = (size_t)(p - s);
    ev->offset = e->off + (uint64_t)(s - buf);
    e->sum.bytes_out += ev->content.len;
    *used = (size_t)(p - buf);
    e->off += *used;
    return OPES_OK;
}

/* see opes/data.h */
opes_status opes_data_encode_finish(opes_data_encoder *e, opes_data_event *ev)
{
    if (ev)
        clear_event(ev);
    if (!e || !ev)
        return OPES_EINVAL;
    if (e->state == E_ERR) {
        *ev = e->err_ev;
        return e->err;
    }
    if (e->q.n && e->state != E_DONE) {
        q_pop(&e->q, ev); /* what opes_data_encode() left queued */
        return OPES_OK;
    }
    if (e->state != E_DONE) {
        int add_crlf = 0;
        if (e->state == E_CR) {
            /* the content ended with a CR: bare (no LF can follow now) */
            if (!enc_bare(e, OPES_DATA_EV_BARE_CR, e->cr_off)) {
                *ev = e->err_ev;
                return e->err;
            }
            /* enc_bare() queued BARE_CR and "\r\n"; hand those out first */
        } else if (e->state == E_TEXT) {
            /* RFC 5321 4.1.1.4: content not ending in CRLF: "MUST either
             * reject the message as invalid or add <CRLF>" */
            if (e->final == OPES_DATA_REPORT) {
                ev->type = OPES_DATA_EV_NO_FINAL_CRLF;
                ev->offset = e->off;
                return OPES_OK;
            }
            q_push(&e->q, OPES_DATA_EV_NO_FINAL_CRLF, NULL, 0, e->off);
            line_done(&e->sum, &e->text_len, &e->long_done);
            add_crlf = 1;
        }
        /* E_BOL (after a CRLF, or empty content: an empty message) */
        if (add_crlf)
            enc_static(e, s_crlf_term, 5, e->off);
        else
            enc_static(e, s_term, 3, e->off);
        q_push(&e->q, OPES_DATA_EV_END, NULL, 0, e->off);
        e->state = E_DONE;
    }
    if (!e->q.n)
        return OPES_ESTATE;
    q_pop(&e->q, ev);
    if (ev->type == OPES_DATA_EV_END)
        e->sum.complete = 1;
    return OPES_OK;
}
