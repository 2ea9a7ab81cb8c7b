/*
 * The DATA codec (RFC 5321 2.3.8, 4.1.1.4, 4.5.2, 4.5.3.1.6): dot-unstuffing
 * with end-of-data detection, dot-stuffing, SMTP smuggling (CVE-2023-51764,
 * -51765, -51766; CVE-2024-27305), and stream splits.
 *
 * Stream tests compare event logs with offsets (llhttp style):
 *     content off=0 "a\r\n"        adjacent CONTENT events merged
 *     bare_lf off=3
 *     end off=7 used=10            END: offset of the ".", bytes consumed
 * and every input is fed at every split, through a window whose last byte
 * sits right before a PROT_NONE page, so an over-read faults.
 */
#define _DEFAULT_SOURCE 1
#include "data_internal.h"
#include "harness.h"
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- small tools ------------------------------------------------------------- */

static uint64_t rng_state = 0x4902u;
static uint64_t rnd(void)
{
    /* xorshift64*: fixed seed, so every run feeds the same splits */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}
static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

typedef struct sb {
    char *p;
    size_t n, cap;
} sb;

static void sb_put(sb *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            abort();
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void sb_puts(sb *b, const char *s)
{
    sb_put(b, s, strlen(s));
}
static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0)
        sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}
static void sb_free(sb *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}
static const char *sb_str(sb *b)
{
    if (!b->p)
        sb_put(b, "", 0);
    return b->p;
}

static void sb_escaped(sb *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            sb_puts(b, "\\r");
        else if (c == '\n')
            sb_puts(b, "\\n");
        else if (c == '"' || c == '\\')
            sb_printf(b, "\\%c", c);
        else if (c < 32 || c > 126)
            sb_printf(b, "\\x%02x", c);
        else
            sb_put(b, &c, 1);
    }
}

/* An event log: adjacent content merged, offset of the first piece kept. */
typedef struct evlog {
    sb log;
    sb content; /* all content, for comparing messages */
    sb pending; /* the current run of content */
    uint64_t pending_off;
    int ended;
    uint64_t end_used; /* absolute bytes consumed at END */
} evlog;

static void log_flush(evlog *l)
{
    if (!l->pending.n)
        return;
    sb_printf(&l->log, "content off=%llu \"", (unsigned long long)l->pending_off);
    sb_escaped(&l->log, l->pending.p, l->pending.n);
    sb_puts(&l->log, "\"\n");
    l->pending.n = 0;
}
static void log_content(evlog *l, const char *p, size_t n, uint64_t off)
{
    if (!l->pending.n)
        l->pending_off = off;
    sb_put(&l->pending, p, n);
    sb_put(&l->content, p, n);
}
static void log_event(evlog *l, const char *name, uint64_t off)
{
    log_flush(l);
    sb_printf(&l->log, "%s off=%llu\n", name, (unsigned long long)off);
}
static void log_free(evlog *l)
{
    sb_free(&l->log);
    sb_free(&l->content);
    sb_free(&l->pending);
}

/* A reusable guarded window: chunks are copied to end right before a
 * PROT_NONE page, so reading one byte past a chunk faults. */
typedef struct window {
    unsigned char *base, *guard;
    size_t total;
} window;

static int window_open(window *w, size_t cap)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    size_t pages = (cap + page - 1) / page + 1;
    w->total = (pages + 1) * page;
    w->base = mmap(NULL, w->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w->base == MAP_FAILED)
        return 0;
    w->guard = w->base + pages * page;
    if (mprotect(w->guard, page, PROT_NONE) != 0)
        return 0;
    return 1;
}
static const char *window_put(window *w, const char *p, size_t n)
{
    unsigned char *dst = w->guard - n;
    if (n)
        memcpy(dst, p, n);
    return (const char *)dst;
}
static void window_close(window *w)
{
    munmap(w->base, w->total);
}

/* ---- running the decoder ---------------------------------------------------- */

typedef struct dopts {
    int mode;     /* OPES_DATA_REJECT / OPES_DATA_NORMALISE */
    size_t limit; /* 0: default */
} dopts;

static opes_data_decoder *make_decoder(dopts o)
{
    opes_data_decoder *d = NULL;
    if (opes_data_decoder_new(&d, NULL) != OPES_OK)
        abort();
    if (opes_data_decoder_set_mode(d, o.mode) != OPES_OK)
        abort();
    if (o.limit && opes_data_decoder_set_line_limit(d, o.limit) != OPES_OK)
        abort();
    return d;
}

/* Feed in[0..n) cut at cuts[0..ncut) (ascending), like a server reading a
 * socket: each chunk is offered, the rest of it re-offered after every
 * event, until NONE; END stops. Checks the API contract on every call. */
static void run_decoder(dopts o, const char *in, size_t n, const size_t *cuts, size_t ncut,
                        evlog *l, opes_data_summary *sum)
{
    opes_data_decoder *d = make_decoder(o);
    window w;
    size_t start = 0;
    int contract_ok = 1;
    if (!window_open(&w, n + 1))
        abort();
    memset(l, 0, sizeof *l);
    for (size_t k = 0; k <= ncut && !l->ended; k++) {
        size_t stop = k < ncut ? cuts[k] : n;
        const char *chunk = window_put(&w, in + start, stop - start);
        size_t len = stop - start, pos = 0;
        for (int guard = 0;; guard++) {
            size_t used = 99;
            opes_data_event ev;
            opes_status st = opes_data_decode(d, chunk + pos, len - pos, &used, &ev);
            if (st != OPES_OK || used > len - pos || guard > 1000000) {
                contract_ok = 0;
                break;
            }
            pos += used;
            if (ev.type == OPES_DATA_EV_NONE) {
                if (pos != len)
                    contract_ok = 0;
                break;
            }
            if (ev.type == OPES_DATA_EV_CONTENT) {
                if (ev.content.len == 0 || ev.content.ptr == NULL)
                    contract_ok = 0;
                log_content(l, ev.content.ptr, ev.content.len, ev.offset);
            } else if (ev.type == OPES_DATA_EV_END) {
                log_flush(l);
                l->ended = 1;
                l->end_used = start + pos;
                sb_printf(&l->log, "end off=%llu used=%llu\n", (unsigned long long)ev.offset,
                          (unsigned long long)(start + pos));
                break;
            } else {
                const char *name = opes_data_event_name(ev.type);
                log_event(l, name ? name : "?", ev.offset);
            }
        }
        start = stop;
    }
    log_flush(l);
    if (!contract_ok)
        sb_puts(&l->log, "CONTRACT BROKEN\n");
    if (l->ended) {
        /* after END: refused until reset */
        size_t used = 7;
        opes_data_event ev;
        if (opes_data_decode(d, "x", 1, &used, &ev) != OPES_ESTATE || used != 0)
            sb_puts(&l->log, "NOT REFUSED AFTER END\n");
    }
    if (sum)
        opes_data_decoder_summary(d, sum);
    window_close(&w);
    opes_data_decoder_free(d);
}

static void run_whole(dopts o, const char *in, size_t n, evlog *l)
{
    run_decoder(o, in, n, NULL, 0, l, NULL);
}

/* ---- the reference: the documented rules, one byte at a time ---------------- */

/* Written from include/opes/data.h, not from src/data.c: no spans, no fast
 * path, every byte through one switch. The library must log the same. */
enum { R_TEXT, R_BOL, R_BOLB, R_CR, R_DOT, R_DOTB, R_DOTCR, R_DOTCRB };
typedef struct ref {
    dopts o;
    int st;
    uint64_t dot_off, cr_off, text_len;
    int long_done;
    evlog *l;
} ref;

static void ref_text(ref *r, char c, uint64_t off)
{
    size_t limit = r->o.limit ? r->o.limit : 1000;
    if (!r->long_done && r->text_len + 1 + 2 > limit) {
        log_event(r->l, "long_line", off);
        r->long_done = 1;
    }
    r->text_len++;
    log_content(r->l, &c, 1, off);
}
static void ref_eol(ref *r, uint64_t off)
{
    log_content(r->l, "\r\n", 2, off);
    r->text_len = 0;
    r->long_done = 0;
}
static void ref_bare(ref *r, int lf, uint64_t off)
{
    log_event(r->l, lf ? "bare_lf" : "bare_cr", off);
    if (r->o.mode == OPES_DATA_NORMALISE)
        ref_eol(r, off);
    else
        ref_text(r, lf ? '\n' : '\r', off);
    r->st = R_BOLB;
}
static void ref_false_end(ref *r)
{
    log_event(r->l, "false_end", r->dot_off);
    ref_text(r, '.', r->dot_off);
}

static void ref_decode(dopts o, const char *in, size_t n, evlog *l)
{
    ref r = {o, R_BOL, 0, 0, 0, 0, l};
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
    again:
        switch (r.st) {
        case R_TEXT:
        case R_BOL:
        case R_BOLB:
            if (c == '\r') {
                r.cr_off = i;
                r.st = R_CR;
            } else if (c == '\n') {
                ref_bare(&r, 1, i);
            } else if (c == '.' && r.st != R_TEXT) {
                r.dot_off = i;
                r.st = r.st == R_BOL ? R_DOT : R_DOTB;
            } else {
                ref_text(&r, c, i);
                r.st = R_TEXT;
            }
            break;
        case R_CR:
            if (c == '\n') {
                log_content(l, "\r\n", 2, r.cr_off);
                r.text_len = 0;
                r.long_done = 0;
                r.st = R_BOL;
            } else {
                ref_bare(&r, 0, r.cr_off);
                goto again;
            }
            break;
        case R_DOT:
        case R_DOTB: {
            int line_start = r.st == R_DOT || o.mode == OPES_DATA_NORMALISE;
            if (c == '\r') {
                r.cr_off = i;
                r.st = r.st == R_DOT ? R_DOTCR : R_DOTCRB;
            } else if (c == '\n') {
                ref_false_end(&r);
                ref_bare(&r, 1, i);
            } else if (line_start && c == '.') {
                ref_text(&r, '.', i); /* the first dot was the stuffing */
                r.st = R_TEXT;
            } else if (line_start) {
                log_event(l, "dot_not_stuffed", r.dot_off);
                r.st = R_TEXT;
                goto again;
            } else {
                ref_text(&r, '.', r.dot_off);
                r.st = R_TEXT;
                goto again;
            }
            break;
        }
        case R_DOTCR:
        case R_DOTCRB:
            if (c == '\n' && r.st == R_DOTCR) {
                log_flush(l);
                l->ended = 1;
                l->end_used = i + 1;
                sb_printf(&l->log, "end off=%llu used=%llu\n", (unsigned long long)r.dot_off,
                          (unsigned long long)(i + 1));
                return;
            }
            ref_false_end(&r);
            if (c == '\n') {
                log_content(l, "\r\n", 2, r.cr_off);
                r.text_len = 0;
                r.long_done = 0;
                r.st = R_BOL;
            } else {
                ref_bare(&r, 0, r.cr_off);
                goto again;
            }
            break;
        }
    }
    log_flush(l);
}

/* ---- split drivers ---------------------------------------------------------- */

/* The whole-input log must equal the log of: every two-chunk split, every
 * three-chunk split (small inputs), 1-byte chunks, and the reference. */
static int check_all_splits(dopts o, const char *in, size_t n, const char *want_log)
{
    evlog whole, other;
    int ok = 1;
    run_whole(o, in, n, &whole);
    if (want_log && strcmp(sb_str(&whole.log), want_log) != 0) {
        fprintf(stderr, "  log differs from the expected one:\n--- want\n%s--- got\n%s", want_log,
                sb_str(&whole.log));
        ok = 0;
    }
    ref_decode(o, in, n, &other);
    if (strcmp(sb_str(&whole.log), sb_str(&other.log)) != 0) {
        fprintf(stderr, "  decoder and reference differ:\n--- ref\n%s--- got\n%s",
                sb_str(&other.log), sb_str(&whole.log));
        ok = 0;
    }
    log_free(&other);
    for (size_t i = 0; i <= n && ok; i++) {
        size_t cuts[2] = {i, 0};
        run_decoder(o, in, n, cuts, 1, &other, NULL);
        if (strcmp(sb_str(&whole.log), sb_str(&other.log)) != 0) {
            fprintf(stderr, "  split at %zu differs:\n%s--- whole\n%s", i, sb_str(&other.log),
                    sb_str(&whole.log));
            ok = 0;
        }
        log_free(&other);
        for (size_t j = i; j <= n && ok && n <= 96; j++) {
            size_t c3[2] = {i, j};
            run_decoder(o, in, n, c3, 2, &other, NULL);
            if (strcmp(sb_str(&whole.log), sb_str(&other.log)) != 0) {
                fprintf(stderr, "  splits at %zu,%zu differ:\n%s", i, j, sb_str(&other.log));
                ok = 0;
            }
            log_free(&other);
        }
    }
    if (ok && n > 0) {
        size_t *cuts = malloc(n * sizeof *cuts);
        for (size_t i = 0; i < n; i++)
            cuts[i] = i;
        run_decoder(o, in, n, cuts, n, &other, NULL);
        if (strcmp(sb_str(&whole.log), sb_str(&other.log)) != 0) {
            fprintf(stderr, "  1-byte chunks differ:\n%s", sb_str(&other.log));
            ok = 0;
        }
        log_free(&other);
        free(cuts);
    }
    log_free(&whole);
    return ok;
}

#define R_ ((dopts){OPES_DATA_REJECT, 0})
#define N_ ((dopts){OPES_DATA_NORMALISE, 0})
#define SPLITS(o, lit, want) CHECK(check_all_splits((o), (lit), sizeof(lit) - 1, (want)))

/* Decode a whole literal and return its content (caller frees). */
static char *decode_content(dopts o, const char *in, size_t n, size_t *clen, int *ended,
                            uint64_t *used)
{
    evlog l;
    run_whole(o, in, n, &l);
    char *c = malloc(l.content.n + 1);
    if (l.content.n)
        memcpy(c, l.content.p, l.content.n);
    c[l.content.n] = '\0';
    *clen = l.content.n;
    *ended = l.ended;
    *used = l.end_used;
    log_free(&l);
    return c;
}

/* ---- tests: RFC rules -------------------------------------------------------- */

static void test_rfc5321_transparency(void)
{
    /* RFC 5321 4.1.1.4: "The mail data are terminated by a line containing
     * only a period, that is, the character sequence "<CRLF>.<CRLF>", where
     * the first <CRLF> is actually the terminator of the previous line" --
     * so the CRLF stays in the content, and *used stops after the final LF
     * (the pipelined QUIT is not consumed). */
    SPLITS(R_, "Hello\r\n.\r\nQUIT\r\n",
           "content off=0 \"Hello\\r\\n\"\n"
           "end off=7 used=10\n");

    /* RFC 5321 4.5.2: "If the first character is a period and there are
     * other characters on the line, the first character is deleted." */
    SPLITS(R_, "a\r\n..b\r\n.\r\n",
           "content off=0 \"a\\r\\n.b\\r\\n\"\n"
           "end off=8 used=11\n");
    /* a line of two dots is a line of one dot; three give two */
    SPLITS(R_, "..\r\n...\r\n.\r\n",
           "content off=1 \".\\r\\n..\\r\\n\"\n"
           "end off=9 used=12\n");
    /* ".abc": not stuffed by its client. Deleted per 4.5.2, and noted. */
    SPLITS(R_, "x\r\n.abc\r\n.\r\n",
           "content off=0 \"x\\r\\n\"\n"
           "dot_not_stuffed off=3\n"
           "content off=4 \"abc\\r\\n\"\n"
           "end off=9 used=12\n");
    /* a dot inside a line is plain content */
    SPLITS(R_, "a.b\r\n .\r\n.\r\n",
           "content off=0 \"a.b\\r\\n .\\r\\n\"\n"
           "end off=9 used=12\n");
}

static void test_first_line(void)
{
    /* The data begins at a line start (anchors.md 1.5: smtp-proto started
     * mid-line and missed both of these). An empty message is just ".". */
    SPLITS(R_, ".\r\n", "end off=0 used=3\n");
    SPLITS(R_, ".\r\nMAIL FROM:<a@b>\r\n", "end off=0 used=3\n");
    SPLITS(R_, "..x\r\n.\r\n",
           "content off=1 \".x\\r\\n\"\n"
           "end off=5 used=8\n");
    SPLITS(R_, "..\r\n.\r\n",
           "content off=1 \".\\r\\n\"\n"
           "end off=4 used=7\n");
    SPLITS(N_, ".\r\n", "end off=0 used=3\n");
    /* an empty line then the end: one empty line of content */
    SPLITS(R_, "\r\n.\r\n",
           "content off=0 \"\\r\\n\"\n"
           "end off=2 used=5\n");

    opes_data_decoder *d = make_decoder(R_);
    size_t used;
    opes_data_event ev;
    opes_data_summary s;
    CHECK_ST(opes_data_decode(d, ".\r\n", 3, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_DATA_EV_END);
    CHECK_EQ(used, 3);
    CHECK_ST(opes_data_decoder_summary(d, &s), OPES_OK);
    CHECK_EQ(s.bytes_in, 3);
    CHECK_EQ(s.bytes_out, 0);
    CHECK_EQ(s.lines, 0);
    CHECK_EQ(s.complete, 1);
    CHECK_EQ(s.reply_code, 250);
    CHECK(strcmp(s.enhanced, "2.0.0") == 0);
    opes_data_decoder_free(d);
}

static void test_appendix_d1(void)
{
    /* RFC 5321 Appendix D.1 (rfc-notes-2.md 6.1): the client's data lines
     *     C: Blah blah blah...
     *     C: ...etc. etc. etc.
     *     C: .
     * The transcript shows lines of text; on the wire a client stuffs the
     * second one (RFC 5321 4.5.2), so it travels as "....etc.". */
    static const char wire[] = "Blah blah blah...\r\n....etc. etc. etc.\r\n.\r\n";
    static const char text[] = "Blah blah blah...\r\n...etc. etc. etc.\r\n";
    SPLITS(R_, wire,
           "content off=0 \"Blah blah blah...\\r\\n...etc. etc. etc.\\r\\n\"\n"
           "end off=39 used=42\n");
    size_t clen;
    int ended;
    uint64_t used;
    char *c = decode_content(R_, wire, sizeof wire - 1, &clen, &ended, &used);
    CHECK_MEM(c, clen, text, sizeof text - 1);
    free(c);
    /* Read literally as wire bytes, "...etc." is a stuffed ".." line: the
     * server deletes one dot, and nothing is flagged. */
    static const char literal[] = "Blah blah blah...\r\n...etc. etc. etc.\r\n.\r\n";
    c = decode_content(R_, literal, sizeof literal - 1, &clen, &ended, &used);
    static const char literal_text[] = "Blah blah blah...\r\n..etc. etc. etc.\r\n";
    CHECK_MEM(c, clen, literal_text, sizeof literal_text - 1);
    CHECK(ended);
    free(c);
}

static void test_bdat_not_here(void)
{
    /* RFC 3030 2: BDAT data is counted octets, with no dot-stuffing and no
     * terminator line. Nothing of this codec applies; the message below,
     * sent with BDAT 9 LAST, would be these 9 bytes verbatim, while as DATA
     * content they are unstuffed and end at the ".": the two must differ. */
    static const char chunk[] = "..a\r\n.\r\nx";
    size_t clen;
    int ended;
    uint64_t used;
    char *c = decode_content(R_, chunk, 9, &clen, &ended, &used);
    CHECK(ended);
    CHECK_EQ(used, 8);
    CHECK_MEM(c, clen, ".a\r\n", 4);
    CHECK(clen != 9);
    free(c);
}

/* ---- SMTP smuggling -------------------------------------------------------- */

/* Independent normaliser for the expectations: bare CR and bare LF -> CRLF */
static void normalise(const char *in, size_t n, sb *out)
{
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') {
            sb_put(out, "\r\n", 2);
            i++;
        } else if (in[i] == '\r' || in[i] == '\n') {
            sb_put(out, "\r\n", 2);
        } else {
            sb_put(out, in + i, 1);
        }
    }
}

static void test_smuggling_logs(void)
{
    /* Postfix before 3.9 (CVE-2023-51764) ended DATA at "<LF>.<LF>" and
     * "<LF>.<CRLF>"; others at "<CR>.<CR>" or "<CRLF>.<LF>". None of them
     * ends the data here (RFC 5321 4.1.1.4), in either mode. */
    SPLITS(R_, "a\n.\nb\r\n.\r\n",
           "content off=0 \"a\"\n"
           "bare_lf off=1\n"
           "content off=1 \"\\n\"\n"
           "false_end off=2\n"
           "content off=2 \".\"\n"
           "bare_lf off=3\n"
           "content off=3 \"\\nb\\r\\n\"\n"
           "end off=7 used=10\n");
    SPLITS(N_, "a\n.\nb\r\n.\r\n",
           "content off=0 \"a\"\n"
           "bare_lf off=1\n"
           "content off=1 \"\\r\\n\"\n"
           "false_end off=2\n"
           "content off=2 \".\"\n"
           "bare_lf off=3\n"
           "content off=3 \"\\r\\nb\\r\\n\"\n"
           "end off=7 used=10\n");
    /* "<LF>.<CRLF>": the line after a bare LF is never the end line, even
     * normalising, where it becomes "<CRLF>.<CRLF>" in the content */
    SPLITS(N_, "a\n.\r\n.\r\n",
           "content off=0 \"a\"\n"
           "bare_lf off=1\n"
           "content off=1 \"\\r\\n\"\n"
           "false_end off=2\n"
           "content off=2 \".\\r\\n\"\n"
           "end off=5 used=8\n");
    SPLITS(R_, "a\n.\r\n.\r\n",
           "content off=0 \"a\"\n"
           "bare_lf off=1\n"
           "content off=1 \"\\n\"\n"
           "false_end off=2\n"
           "content off=2 \".\\r\\n\"\n"
           "end off=5 used=8\n");
    /* "<CRLF>.<LF>" */
    SPLITS(R_, "a\r\n.\nb\r\n.\r\n",
           "content off=0 \"a\\r\\n\"\n"
           "false_end off=3\n"
           "content off=3 \".\"\n"
           "bare_lf off=4\n"
           "content off=4 \"\\nb\\r\\n\"\n"
           "end off=8 used=11\n");
    /* "<CRLF>.<CR>" + not LF */
    SPLITS(R_, "a\r\n.\rb\r\n.\r\n",
           "content off=0 \"a\\r\\n\"\n"
           "false_end off=3\n"
           "content off=3 \".\"\n"
           "bare_cr off=4\n"
           "content off=4 \"\\rb\\r\\n\"\n"
           "end off=8 used=11\n");
    /* "<CR>.<CR>" normalised */
    SPLITS(N_, "a\r.\rb\r\n.\r\n",
           "content off=0 \"a\"\n"
           "bare_cr off=1\n"
           "content off=1 \"\\r\\n\"\n"
           "false_end off=2\n"
           "content off=2 \".\"\n"
           "bare_cr off=3\n"
           "content off=3 \"\\r\\nb\\r\\n\"\n"
           "end off=7 used=10\n");
    /* a bare CR right before the real terminator's CRLF does not matter:
     * "<CR><CRLF>.<CRLF>" ends the data (the CRLF before "." is real) */
    SPLITS(R_, "a\r\r\n.\r\n",
           "content off=0 \"a\"\n"
           "bare_cr off=1\n"
           "content off=1 \"\\r\\r\\n\"\n"
           "end off=4 used=7\n");
}

static void test_smuggling_variants(void)
{
    /* Every would-be terminator, inside a message that then carries a
     * smuggled transaction and ends properly; with and without a pipelined
     * command after it. One END, at the real terminator; the smuggled
     * commands are content; the caller is told (FALSE_END); rejecting, the
     * reply is 550 5.5.2. */
    static const char *const seq[] = {
        "\n.\n",    "\n.\r\n", "\r.\r",     "\r.\r\n",     "\r\n.\n",   "\n.\r",
        "\r\n.\rX", "\r.\n",   "\n\n.\n\n", "\r\n.\r\r\n", "\r\r.\r\r", "\n.\n\r\n.\n",
    };
    static const char head[] = "From: a@example.org\r\n\r\nhello";
    static const char smuggled[] = "MAIL FROM:<evil@attacker.example>\r\n"
                                   "RCPT TO:<victim@example.org>\r\n"
                                   "DATA\r\n"
                                   "From: ceo@example.org\r\n\r\nsmuggled\r\n";
    for (size_t v = 0; v < sizeof seq / sizeof seq[0]; v++) {
        for (int mode = 0; mode < 2; mode++) {
            sb in = {0}, want = {0};
            dopts o = {mode, 0};
            sb_puts(&in, head);
            sb_puts(&in, seq[v]);
            sb_puts(&in, smuggled);
            size_t content_len = in.n;
            sb_puts(&in, ".\r\nQUIT\r\n");
            /* what the content must be: the bytes as sent (dots of false
             * ends kept), bare line ends made CRLF when normalising */
            if (mode == OPES_DATA_NORMALISE)
                normalise(in.p, content_len, &want);
            else
                sb_put(&want, in.p, content_len);

            evlog l;
            opes_data_summary s;
            run_decoder(o, in.p, in.n, NULL, 0, &l, &s);
            CHECK(l.ended);
            CHECK_EQ(l.end_used, content_len + 3);
            CHECK_MEM(l.content.p, l.content.n, want.p, want.n);
            CHECK(s.false_ends >= 1);
            CHECK(strstr(sb_str(&l.log), "false_end") != NULL);
            CHECK_EQ(s.reply_code, mode == OPES_DATA_REJECT ? 550 : 250);
            CHECK(strcmp(s.enhanced, mode == OPES_DATA_REJECT ? "5.5.2" : "2.0.0") == 0);
            log_free(&l);
            /* and at every split, the same log */
            CHECK(check_all_splits(o, in.p, in.n, NULL));
            sb_free(&in);
            sb_free(&want);
        }
    }
}

static void test_smuggling_payloads(void)
{
    /* The SEC Consult / Postfix smtp-smuggling.html shape: "<LF>.<CRLF>"
     * (Postfix <= 3.8 by default ended DATA there) and "<LF>.<LF>". */
    static const char payload1[] = "From: alice@example.com\r\n"
                                   "To: bob@example.org\r\n"
                                   "\r\n"
                                   "hi\n"
                                   ".\r\n"
                                   "MAIL FROM:<admin@example.com>\r\n"
                                   "RCPT TO:<bob@example.org>\r\n"
                                   "DATA\r\n"
                                   "From: admin@example.com\r\n"
                                   "\r\n"
                                   "smuggled\r\n"
                                   ".\r\n";
    static const char payload2[] = "Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@attacker.example>\r\n"
                                   "RCPT TO:<victim@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n";
    static const char *const payloads[] = {payload1, payload2};
    size_t lens[] = {sizeof payload1 - 1, sizeof payload2 - 1};
    for (int i = 0; i < 2; i++) {
        for (int mode = 0; mode < 2; mode++) {
            size_t clen;
            int ended;
            uint64_t used;
            char *c = decode_content((dopts){mode, 0}, payloads[i], lens[i], &clen, &ended, &used);
            CHECK(ended);
            CHECK_EQ(used, lens[i]); /* one message: it ends at the very end */
            /* the smuggled command is inside the content */
            int found = 0;
            for (size_t k = 0; k + 10 <= clen; k++)
                found |= memcmp(c + k, "MAIL FROM:", 10) == 0;
            CHECK(found);
            free(c);
        }
    }
}

/* ---- long lines ----------------------------------------------------------- */

static void test_long_lines(void)
{
    /* RFC 5321 4.5.3.1.6: "The maximum total length of a text line
     * including the <CRLF> is 1000 octets (not counting the leading dot
     * duplicated for transparency)." */
    char buf[2100];
    evlog l;
    opes_data_summary s;

    /* exactly 1000: 998 + CRLF */
    memset(buf, 'x', 998);
    memcpy(buf + 998, "\r\n.\r\n", 5);
    run_decoder(R_, buf, 1003, NULL, 0, &l, &s);
    CHECK(strstr(sb_str(&l.log), "long_line") == NULL);
    CHECK_EQ(s.longest_line, 1000);
    CHECK_EQ(s.long_lines, 0);
    log_free(&l);

    /* 1001: reported at the 999th text byte (offset 998), once */
    memset(buf, 'x', 999);
    memcpy(buf + 999, "\r\n.\r\n", 5);
    run_decoder(R_, buf, 1004, NULL, 0, &l, &s);
    CHECK(strstr(sb_str(&l.log), "long_line off=998\n") != NULL);
    CHECK_EQ(s.longest_line, 1001);
    CHECK_EQ(s.long_lines, 1);
    CHECK_EQ(s.reply_code, 250); /* a long line alone does not reject */
    log_free(&l);

    /* a stuffed dot is not counted: the wire line "..xxx" is 1001 octets,
     * the text line ".xxx" CRLF 1000: not long */
    buf[0] = '.';
    buf[1] = '.';
    memset(buf + 2, 'x', 997);
    memcpy(buf + 999, "\r\n.\r\n", 5);
    run_decoder(R_, buf, 1004, NULL, 0, &l, &s);
    CHECK(strstr(sb_str(&l.log), "long_line") == NULL); /* ".": 1 + 997 = 998 */
    CHECK_EQ(s.longest_line, 1000);
    log_free(&l);

    /* every split of a line around the limit, with a small limit */
    dopts small = {OPES_DATA_REJECT, 10};
    SPLITS(small, "12345678\r\n123456789\r\n..2345678\r\n.\r\n",
           "content off=0 \"12345678\\r\\n12345678\"\n"
           "long_line off=18\n"
           "content off=18 \"9\\r\\n.2345678\\r\\n\"\n"
           "end off=32 used=35\n");
    /* the byte passing the limit is a bare CR passed on: BARE_CR, then
     * LONG_LINE, both at its offset */
    SPLITS(small, "12345678\ry\r\n.\r\n",
           "content off=0 \"12345678\"\n"
           "bare_cr off=8\n"
           "long_line off=8\n"
           "content off=8 \"\\ry\\r\\n\"\n"
           "end off=12 used=15\n");
    /* normalising, the bare CR ends the line instead */
    dopts small_n = {OPES_DATA_NORMALISE, 10};
    SPLITS(small_n, "12345678\ry\r\n.\r\n",
           "content off=0 \"12345678\"\n"
           "bare_cr off=8\n"
           "content off=8 \"\\r\\ny\\r\\n\"\n"
           "end off=12 used=15\n");
    /* a held dot passing the limit (limit 2: no text at all fits) */
    dopts tiny = {OPES_DATA_REJECT, 2};
    SPLITS(tiny, "\r\n.\nx\r\n.\r\n",
           "content off=0 \"\\r\\n\"\n"
           "false_end off=2\n"
           "long_line off=2\n"
           "content off=2 \".\"\n"
           "bare_lf off=3\n"
           "content off=3 \"\\nx\\r\\n\"\n"
           "end off=7 used=10\n");
}

/* ---- a realistic 64 KiB message ------------------------------------------- */

static const char *const words[] = {"the",
                                    "meeting",
                                    "moved",
                                    "to",
                                    "thursday",
                                    ".",
                                    "please",
                                    "bring",
                                    "figures",
                                    "...",
                                    "regards",
                                    "and",
                                    "thanks",
                                    "release",
                                    "=?utf-8?q?caf=C3=A9?=",
                                    "\xc3\xa9t\xc3\xa9"};

/* Content lines (CRLF), some beginning with ".", a base64-like block of
 * 76-column lines, empty lines, from a fixed seed. */
static void make_message(sb *content, size_t target)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sb_puts(content, "From: alice@example.org\r\nTo: bob@example.net\r\nSubject: figures\r\n"
                     "MIME-Version: 1.0\r\n\r\n");
    while (content->n < target) {
        size_t kind = rnd_below(10);
        if (kind < 6) {
            size_t nw = 1 + rnd_below(14);
            if (rnd_below(8) == 0)
                sb_puts(content, ".");
            for (size_t i = 0; i < nw; i++) {
                if (i)
                    sb_puts(content, " ");
                sb_puts(content, words[rnd_below(sizeof words / sizeof words[0])]);
            }
        } else if (kind < 9) {
            for (size_t i = 0; i < 76; i++)
                sb_put(content, &b64[rnd_below(64)], 1);
        } else if (rnd_below(3) == 0) {
            sb_puts(content, "."); /* a line that is a single dot */
        }
        sb_puts(content, "\r\n");
    }
}

/* Independent stuffing for the expectation (RFC 5321 4.5.2). */
static void stuff(const char *c, size_t n, sb *wire)
{
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        if (bol && c[i] == '.')
            sb_put(wire, ".", 1);
        sb_put(wire, c + i, 1);
        bol = c[i] == '\n' && i > 0 && c[i - 1] == '\r';
    }
    if (n == 0 || bol)
        sb_puts(wire, ".\r\n");
    else
        sb_puts(wire, "\r\n.\r\n");
}

static void test_big_message(void)
{
    sb content = {0}, wire = {0};
    evlog whole, other;
    opes_data_summary s;
    rng_state = 0x4902u;
    make_message(&content, 64 * 1024);
    stuff(content.p, content.n, &wire);
    sb_puts(&wire, "QUIT\r\n");
    size_t n = wire.n;

    run_decoder(R_, wire.p, n, NULL, 0, &whole, &s);
    CHECK(whole.ended);
    CHECK_EQ(whole.end_used, n - 6);
    CHECK_MEM(whole.content.p, whole.content.n, content.p, content.n);
    CHECK_EQ(s.bytes_out, content.n);
    CHECK_EQ(s.bytes_in, n - 6);
    CHECK_EQ(s.bytes_in - s.bytes_out, s.stuffed_dots + 3);
    CHECK(s.stuffed_dots > 10);
    CHECK_EQ(s.bare_lf + s.bare_cr + s.false_ends + s.dot_not_stuffed, 0);
    CHECK_EQ(s.reply_code, 250);

    ref_decode(R_, wire.p, n, &other);
    CHECK(strcmp(sb_str(&whole.log), sb_str(&other.log)) == 0);
    log_free(&other);

    int all_same = 1;
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    for (size_t chunk = 1; chunk <= 64; chunk++) {
        size_t k = 0;
        for (size_t at = chunk; at < n; at += chunk)
            cuts[k++] = at;
        run_decoder(R_, wire.p, n, cuts, k, &other, NULL);
        if (strcmp(sb_str(&whole.log), sb_str(&other.log)) != 0) {
            fprintf(stderr, "  chunk size %zu differs\n", chunk);
            all_same = 0;
        }
        log_free(&other);
    }
    CHECK(all_same);
    all_same = 1;
    for (int run = 0; run < 300; run++) {
        size_t k = 0, at = 0;
        for (;;) {
            /* mostly small chunks, some large */
            size_t step = rnd_below(4) ? 1 + rnd_below(40) : 1 + rnd_below(8000);
            at += step;
            if (at >= n)
                break;
            cuts[k++] = at;
        }
        run_decoder(R_, wire.p, n, cuts, k, &other, NULL);
        if (strcmp(sb_str(&whole.log), sb_str(&other.log)) != 0) {
            fprintf(stderr, "  random split run %d differs\n", run);
            all_same = 0;
        }
        log_free(&other);
    }
    CHECK(all_same);
    free(cuts);
    log_free(&whole);
    sb_free(&content);
    sb_free(&wire);
}

/* Random short streams over a small alphabet: decoder == reference, for
 * both modes and small limits, whole and in random chunks. */
static void test_random_vs_reference(void)
{
    static const char alpha[] = ".\r\n.a\r\n";
    int all_same = 1;
    rng_state = 0x5321u;
    for (int run = 0; run < 4000 && all_same; run++) {
        char in[64];
        size_t n = rnd_below(sizeof in);
        for (size_t i = 0; i < n; i++)
            in[i] = alpha[rnd_below(sizeof alpha - 1)];
        dopts o = {(int)rnd_below(2), 2 + rnd_below(8)};
        evlog a, b, c;
        run_whole(o, in, n, &a);
        ref_decode(o, in, n, &b);
        size_t cuts[64], k = 0;
        for (size_t at = 0; at < n; at++)
            if (rnd_below(3) == 0)
                cuts[k++] = at;
        run_decoder(o, in, n, cuts, k, &c, NULL);
        if (strcmp(sb_str(&a.log), sb_str(&b.log)) != 0 ||
            strcmp(sb_str(&a.log), sb_str(&c.log)) != 0) {
            all_same = 0;
            test_hexdump("input", in, n);
            fprintf(stderr, "  mode %d limit %zu\n--- ref\n%s--- whole\n%s--- chunked\n%s", o.mode,
                    o.limit, sb_str(&b.log), sb_str(&a.log), sb_str(&c.log));
        }
        log_free(&a);
        log_free(&b);
        log_free(&c);
    }
    CHECK(all_same);
}

/* ---- the decoder object ---------------------------------------------------- */

static int fail_at, alloc_calls;
static void *fail_alloc(void *user, size_t n)
{
    (void)user;
    if (++alloc_calls == fail_at)
        return NULL;
    return malloc(n);
}
static void fail_free(void *user, void *p, size_t n)
{
    (void)user;
    (void)n;
    free(p);
}

static void test_decoder_object(void)
{
    opes_data_decoder *d = NULL;
    opes_allocator a = {fail_alloc, NULL, fail_free, NULL};
    size_t used;
    opes_data_event ev;

    /* failing allocator: the 1st allocation fails cleanly */
    alloc_calls = 0;
    fail_at = 1;
    CHECK_ST(opes_data_decoder_new(&d, &a), OPES_ENOMEM);
    CHECK(d == NULL);
    fail_at = 0;
    CHECK_ST(opes_data_decoder_new(&d, &a), OPES_OK);
    CHECK_EQ(alloc_calls, 2); /* one allocation, at creation */
    opes_data_decoder_free(d);
    opes_data_decoder_free(NULL);
    CHECK_ST(opes_data_decoder_new(NULL, NULL), OPES_EINVAL);

    /* in caller memory */
    static _Alignas(16) unsigned char mem[4096];
    CHECK(opes_data_decoder_sizeof() <= sizeof mem);
    CHECK_ST(opes_data_decoder_init_in(mem, opes_data_decoder_sizeof() - 1, &d), OPES_EINVAL);
    CHECK_ST(opes_data_decoder_init_in(NULL, sizeof mem, &d), OPES_EINVAL);
    CHECK_ST(opes_data_decoder_init_in(mem, sizeof mem, &d), OPES_OK);

    /* settings */
    CHECK_ST(opes_data_decoder_set_mode(d, 2), OPES_EINVAL);
    CHECK_ST(opes_data_decoder_set_mode(NULL, 0), OPES_EINVAL);
    CHECK_ST(opes_data_decoder_set_line_limit(d, 1), OPES_EINVAL);
    CHECK_ST(opes_data_decoder_set_line_limit(d, OPES_MAX_TEXT_LINE + 1), OPES_ECEILING);
    CHECK_ST(opes_data_decoder_set_line_limit(d, OPES_MAX_TEXT_LINE), OPES_OK);
    CHECK_ST(opes_data_decoder_set_line_limit(d, 1000), OPES_OK);
    CHECK_ST(opes_data_decoder_set_reject_code(d, 250), OPES_EINVAL);
    CHECK_ST(opes_data_decoder_set_reject_code(d, 554), OPES_OK);

    /* arguments */
    CHECK_ST(opes_data_decode(NULL, "a", 1, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_data_decode(d, NULL, 1, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_data_decode(d, "a", 1, NULL, &ev), OPES_EINVAL);
    CHECK_ST(opes_data_decode(d, "a", 1, &used, NULL), OPES_EINVAL);
    CHECK_ST(opes_data_decode(d, NULL, 0, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_DATA_EV_NONE);
    CHECK_EQ(used, 0);

    /* a message with a bare LF: rejected with the chosen code */
    static const char msg[] = "a\nb\r\n.\r\nNOOP\r\n";
    const char *g = guarded_copy(msg, sizeof msg - 1);
    size_t pos = 0;
    int n_ev = 0;
    for (;;) {
        CHECK_ST(opes_data_decode(d, g + pos, sizeof msg - 1 - pos, &used, &ev), OPES_OK);
        pos += used;
        n_ev++;
        if (ev.type == OPES_DATA_EV_END || ev.type == OPES_DATA_EV_NONE || n_ev > 20)
            break;
    }
    CHECK_EQ(ev.type, OPES_DATA_EV_END);
    CHECK_EQ(pos, 8);
    /* settings are frozen mid-message and after END */
    CHECK_ST(opes_data_decoder_set_mode(d, OPES_DATA_NORMALISE), OPES_ESTATE);
    CHECK_ST(opes_data_decoder_set_line_limit(d, 100), OPES_ESTATE);
    CHECK_ST(opes_data_decode(d, g + pos, 1, &used, &ev), OPES_ESTATE);
    opes_data_summary s;
    CHECK_ST(opes_data_decoder_summary(d, &s), OPES_OK);
    CHECK_ST(opes_data_decoder_summary(d, NULL), OPES_EINVAL);
    CHECK_EQ(s.reply_code, 554);
    CHECK(strcmp(s.enhanced, "5.5.2") == 0);
    CHECK(strcmp(s.reply_text, "bare <LF> received") == 0);
    CHECK_EQ(s.bare_lf, 1);
    CHECK_EQ(s.lines, 1); /* rejecting, "a\nb\r\n" is one line */
    CHECK_EQ(s.longest_line, 5);
    CHECK_EQ(s.bytes_in, 8);
    CHECK_EQ(s.bytes_out, 5);

    /* reset: a new message, settings kept (554 still) */
    CHECK_ST(opes_data_decoder_reset(d), OPES_OK);
    CHECK_ST(opes_data_decoder_reset(NULL), OPES_EINVAL);
    static const char m1[] = "x\ry\r\n.\r\n";
    CHECK_ST(opes_data_decode(d, m1, 8, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_DATA_EV_CONTENT);
    pos = used;
    while (ev.type != OPES_DATA_EV_END && ev.type != OPES_DATA_EV_NONE) {
        opes_data_decode(d, m1 + pos, 8 - pos, &used, &ev);
        pos += used;
    }
    opes_data_decoder_summary(d, &s);
    CHECK_EQ(s.reply_code, 554);
    CHECK(strcmp(s.reply_text, "bare <CR> received") == 0);
    CHECK_EQ(s.bytes_in, 8);
    guarded_free(g);
    opes_data_decoder_free(d); /* no-op: caller memory */

    /* normalising: reply 250, but the anomalies are still counted */
    d = make_decoder(N_);
    pos = 0;
    static const char m2[] = "a\nb\r.\r\n.\r\n";
    do {
        opes_data_decode(d, m2 + pos, sizeof m2 - 1 - pos, &used, &ev);
        pos += used;
    } while (ev.type != OPES_DATA_EV_END && ev.type != OPES_DATA_EV_NONE);
    opes_data_decoder_summary(d, &s);
    CHECK_EQ(s.reply_code, 250);
    CHECK_EQ(s.bare_lf, 1);
    CHECK_EQ(s.bare_cr, 1);
    CHECK_EQ(s.false_ends, 1);
    CHECK_EQ(s.lines, 3); /* "a", "b", "." */
    opes_data_decoder_free(d);

    CHECK(strcmp(opes_data_event_name(OPES_DATA_EV_FALSE_END), "false_end") == 0);
    CHECK(strcmp(opes_data_event_name(OPES_DATA_EV_NONE), "none") == 0);
    CHECK(opes_data_event_name(99) == NULL);
}

/* ---- the encoder ------------------------------------------------------------- */

typedef struct eopts {
    int mode, final;
    size_t limit;
} eopts;

/* Encode in[0..n) cut at cuts, then finish. out: the encoded stream; log:
 * events (content merged); returns the first error status (or OPES_OK). */
static opes_status run_encoder(eopts o, const char *in, size_t n, const size_t *cuts, size_t ncut,
                               sb *out, evlog *l)
{
    opes_data_encoder *e = NULL;
    window w;
    size_t start = 0;
    opes_status err = OPES_OK;
    if (opes_data_encoder_new(&e, NULL) != OPES_OK || !window_open(&w, n + 1))
        abort();
    opes_data_encoder_set_mode(e, o.mode);
    opes_data_encoder_set_final(e, o.final);
    if (o.limit)
        opes_data_encoder_set_line_limit(e, o.limit);
    memset(l, 0, sizeof *l);
    for (size_t k = 0; k <= ncut && err == OPES_OK; k++) {
        size_t stop = k < ncut ? cuts[k] : n;
        const char *chunk = window_put(&w, in + start, stop - start);
        size_t len = stop - start, pos = 0;
        for (;;) {
            size_t used;
            opes_data_event ev;
            opes_status st = opes_data_encode(e, chunk + pos, len - pos, &used, &ev);
            if (used > len - pos)
                sb_puts(&l->log, "CONTRACT BROKEN\n");
            pos += used;
            if (st != OPES_OK) {
                err = st;
                log_event(l, opes_status_name(st), ev.offset);
                break;
            }
            if (ev.type == OPES_DATA_EV_NONE)
                break;
            if (ev.type == OPES_DATA_EV_CONTENT) {
                log_content(l, ev.content.ptr, ev.content.len, ev.offset);
                sb_put(out, ev.content.ptr, ev.content.len);
            } else {
                log_event(l, opes_data_event_name(ev.type), ev.offset);
            }
        }
        start = stop;
    }
    for (int guard = 0; err == OPES_OK && guard < 20; guard++) {
        opes_data_event ev;
        opes_status st = opes_data_encode_finish(e, &ev);
        if (st != OPES_OK) {
            err = st;
            log_event(l, opes_status_name(st), ev.offset);
            break;
        }
        if (ev.type == OPES_DATA_EV_CONTENT) {
            log_content(l, ev.content.ptr, ev.content.len, ev.offset);
            sb_put(out, ev.content.ptr, ev.content.len);
        } else {
            log_event(l, opes_data_event_name(ev.type), ev.offset);
        }
        if (ev.type == OPES_DATA_EV_END ||
            (ev.type == OPES_DATA_EV_NO_FINAL_CRLF && o.final == OPES_DATA_REPORT))
            break;
    }
    log_flush(l);
    window_close(&w);
    opes_data_encoder_free(e);
    return err;
}

#define ER_ ((eopts){OPES_DATA_REJECT, OPES_DATA_ADD_CRLF, 0})
#define EN_ ((eopts){OPES_DATA_NORMALISE, OPES_DATA_ADD_CRLF, 0})

/* Encode at every split; all logs and outputs equal; compare with want. */
static int check_encode(eopts o, const char *in, size_t n, const char *want_out, size_t want_n,
                        opes_status want_st, const char *want_log)
{
    sb out = {0}, out2 = {0};
    evlog l, l2;
    int ok = 1;
    opes_status st = run_encoder(o, in, n, NULL, 0, &out, &l);
    if (st != want_st) {
        fprintf(stderr, "  status %s, want %s\n", opes_status_name(st), opes_status_name(want_st));
        ok = 0;
    }
    if (want_out && (out.n != want_n || memcmp(out.p, want_out, want_n) != 0)) {
        test_hexdump("encoded", out.p, out.n);
        test_hexdump("want   ", want_out, want_n);
        ok = 0;
    }
    if (want_log && strcmp(sb_str(&l.log), want_log) != 0) {
        fprintf(stderr, "  encoder log:\n%s--- want\n%s", sb_str(&l.log), want_log);
        ok = 0;
    }
    for (size_t i = 0; i <= n && ok; i++) {
        size_t cuts[1] = {i};
        out2.n = 0;
        run_encoder(o, in, n, cuts, 1, &out2, &l2);
        if (strcmp(sb_str(&l.log), sb_str(&l2.log)) != 0 || out2.n != out.n ||
            memcmp(out2.p, out.p, out.n) != 0) {
            fprintf(stderr, "  encoder split at %zu differs:\n%s", i, sb_str(&l2.log));
            ok = 0;
        }
        log_free(&l2);
    }
    if (ok && n) {
        size_t *cuts = malloc(n * sizeof *cuts);
        for (size_t i = 0; i < n; i++)
            cuts[i] = i;
        out2.n = 0;
        run_encoder(o, in, n, cuts, n, &out2, &l2);
        if (strcmp(sb_str(&l.log), sb_str(&l2.log)) != 0) {
            fprintf(stderr, "  encoder 1-byte chunks differ:\n%s", sb_str(&l2.log));
            ok = 0;
        }
        log_free(&l2);
        free(cuts);
    }
    log_free(&l);
    sb_free(&out);
    sb_free(&out2);
    return ok;
}

#define ENC(o, lit, want, st, log)                                                                 \
    CHECK(check_encode((o), (lit), sizeof(lit) - 1, (want), sizeof(want) - 1, (st), (log)))

static void test_encoder(void)
{
    /* RFC 5321 4.5.2: "If it is a period, one additional period is inserted
     * at the beginning of the line." -- the first line included */
    ENC(ER_, ".a\r\nb\r\n.\r\n", "..a\r\nb\r\n..\r\n.\r\n", OPES_OK,
        "content off=0 \"..a\\r\\nb\\r\\n..\\r\\n.\\r\\n\"\n"
        "end off=10\n");
    /* empty content: an empty message is ".\r\n" alone */
    ENC(ER_, "", ".\r\n", OPES_OK, "content off=0 \".\\r\\n\"\nend off=0\n");
    /* RFC 5321 4.1.1.4: content without a final CRLF: add it (told) */
    ENC(ER_, "abc", "abc\r\n.\r\n", OPES_OK,
        "content off=0 \"abc\"\nno_final_crlf off=3\ncontent off=3 \"\\r\\n.\\r\\n\"\nend off=3\n");
    /* ... or only report it */
    ENC(((eopts){OPES_DATA_REJECT, OPES_DATA_REPORT, 0}), "abc", "abc", OPES_OK,
        "content off=0 \"abc\"\nno_final_crlf off=3\n");
    /* dots inside lines are left alone */
    ENC(ER_, "a.b\r\n .\r\n", "a.b\r\n .\r\n.\r\n", OPES_OK, NULL);
    /* RFC 5321 2.3.8: bare LF / CR are refused when rejecting ... */
    ENC(ER_, "a\nb\r\n", "a", OPES_EBARE_LF, "content off=0 \"a\"\nOPES_EBARE_LF off=1\n");
    ENC(ER_, "a\rb\r\n", "a", OPES_EBARE_CR, "content off=0 \"a\"\nOPES_EBARE_CR off=1\n");
    ENC(ER_, "a\r", "a", OPES_EBARE_CR, "content off=0 \"a\"\nOPES_EBARE_CR off=1\n");
    /* ... and made CRLF when normalising, a dot after them stuffed */
    ENC(EN_, "a\n.b\rc\r", "a\r\n..b\r\nc\r\n.\r\n", OPES_OK,
        "content off=0 \"a\"\nbare_lf off=1\ncontent off=1 \"\\r\\n..b\"\nbare_cr off=4\n"
        "content off=4 \"\\r\\nc\"\nbare_cr off=6\ncontent off=6 \"\\r\\n.\\r\\n\"\nend off=7\n");
    /* a would-be smuggling sequence in the content is neutralised */
    ENC(EN_, "x\n.\nMAIL FROM:<e@x>\r\n", "x\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n", OPES_OK, NULL);
    /* long lines are reported, not cut; the stuffed dot does not count */
    ENC(((eopts){OPES_DATA_REJECT, OPES_DATA_ADD_CRLF, 6}), ".234\r\n12345\r\n",
        "..234\r\n12345\r\n.\r\n", OPES_OK,
        "content off=0 \"..234\\r\\n1234\"\nlong_line off=10\n"
        "content off=10 \"5\\r\\n.\\r\\n\"\nend off=13\n");

    /* object and sticky error */
    opes_data_encoder *e = NULL;
    opes_data_event ev;
    size_t used;
    CHECK_ST(opes_data_encoder_new(&e, NULL), OPES_OK);
    CHECK_ST(opes_data_encoder_set_mode(e, 7), OPES_EINVAL);
    CHECK_ST(opes_data_encoder_set_final(e, 7), OPES_EINVAL);
    CHECK_ST(opes_data_encoder_set_line_limit(e, 0), OPES_EINVAL);
    CHECK_ST(opes_data_encoder_set_line_limit(e, OPES_MAX_TEXT_LINE + 1), OPES_ECEILING);
    CHECK_ST(opes_data_encode(e, "ab\ncd", 5, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_DATA_EV_CONTENT);
    CHECK_EQ(used, 2);
    CHECK_ST(opes_data_encoder_set_mode(e, OPES_DATA_NORMALISE), OPES_ESTATE);
    CHECK_ST(opes_data_encode(e, "\ncd", 3, &used, &ev), OPES_EBARE_LF);
    CHECK_EQ(ev.type, OPES_DATA_EV_BARE_LF);
    CHECK_EQ(ev.offset, 2);
    CHECK_ST(opes_data_encode(e, "cd", 2, &used, &ev), OPES_EBARE_LF); /* sticky */
    CHECK_EQ(used, 0);
    CHECK_ST(opes_data_encode_finish(e, &ev), OPES_EBARE_LF);
    CHECK_ST(opes_data_encoder_reset(e), OPES_OK);
    CHECK_ST(opes_data_encode(e, "ok\r\n", 4, &used, &ev), OPES_OK);
    CHECK_EQ(used, 4);
    CHECK_ST(opes_data_encode_finish(e, &ev), OPES_OK);
    CHECK(ev.type == OPES_DATA_EV_CONTENT && ev.content.len == 3);
    CHECK_ST(opes_data_encode(e, "x", 1, &used, &ev), OPES_ESTATE);
    CHECK_ST(opes_data_encode_finish(e, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_DATA_EV_END);
    CHECK_ST(opes_data_encode_finish(e, &ev), OPES_ESTATE);
    opes_data_summary s;
    CHECK_ST(opes_data_encoder_summary(e, &s), OPES_OK);
    CHECK_EQ(s.bytes_in, 4);
    CHECK_EQ(s.bytes_out, 7);
    CHECK_EQ(s.lines, 1);
    CHECK_EQ(s.complete, 1);
    CHECK_EQ(s.reply_code, 0);
    opes_data_encoder_free(e);

    /* REPORT: feed the line end, finish again */
    CHECK_ST(opes_data_encoder_new(&e, NULL), OPES_OK);
    CHECK_ST(opes_data_encoder_set_final(e, OPES_DATA_REPORT), OPES_OK);
    CHECK_ST(opes_data_encode(e, "abc", 3, &used, &ev), OPES_OK);
    CHECK_ST(opes_data_encode_finish(e, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_DATA_EV_NO_FINAL_CRLF);
    CHECK_ST(opes_data_encode(e, "\r\n", 2, &used, &ev), OPES_OK);
    CHECK_ST(opes_data_encode_finish(e, &ev), OPES_OK);
    CHECK(ev.type == OPES_DATA_EV_CONTENT && ev.content.len == 3 &&
          memcmp(ev.content.ptr, ".\r\n", 3) == 0);
    opes_data_encoder_free(e);

    /* failing allocator; caller memory */
    opes_allocator a = {fail_alloc, NULL, fail_free, NULL};
    alloc_calls = 0;
    fail_at = 1;
    CHECK_ST(opes_data_encoder_new(&e, &a), OPES_ENOMEM);
    fail_at = 0;
    static _Alignas(16) unsigned char mem[4096];
    CHECK(opes_data_encoder_sizeof() <= sizeof mem);
    CHECK_ST(opes_data_encoder_init_in(mem, 8, &e), OPES_EINVAL);
    CHECK_ST(opes_data_encoder_init_in(mem, sizeof mem, &e), OPES_OK);
    opes_data_encoder_free(e);
    CHECK_ST(opes_data_encode_finish(NULL, &ev), OPES_EINVAL);
    CHECK_ST(opes_data_encode(NULL, "", 0, &used, &ev), OPES_EINVAL);
}

static void test_smtplib_vectors(void)
{
    /* tests/vectors/data/README.md: bytes CPython's smtplib.SMTP.data()
     * sent. For a str message it fixes line ends to CRLF first, like
     * OPES_DATA_NORMALISE; for bytes it sends them as they are. */
    static const struct {
        const char *in, *out;
        int mode;
    } v[] = {
        {"tests/vectors/data/smtplib-data.in", "tests/vectors/data/smtplib-data.out",
         OPES_DATA_NORMALISE},
        {"tests/vectors/data/smtplib-data-bytes.in", "tests/vectors/data/smtplib-data-bytes.out",
         OPES_DATA_REJECT},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n_in = 0, n_out = 0;
        char *in = test_read_file(v[i].in, &n_in);
        char *out = test_read_file(v[i].out, &n_out);
        CHECK(in != NULL && out != NULL);
        if (!in || !out) {
            free(in);
            free(out);
            continue;
        }
        CHECK(check_encode((eopts){v[i].mode, OPES_DATA_ADD_CRLF, 0}, in, n_in, out, n_out, OPES_OK,
                           NULL));
        /* and the server side: the wire decodes to the fixed-up message */
        sb want = {0};
        if (v[i].mode == OPES_DATA_NORMALISE)
            normalise(in, n_in, &want);
        else
            sb_put(&want, in, n_in);
        if (want.n < 2 || memcmp(want.p + want.n - 2, "\r\n", 2) != 0)
            sb_puts(&want, "\r\n");
        size_t clen;
        int ended;
        uint64_t used;
        char *c = decode_content(R_, out, n_out, &clen, &ended, &used);
        CHECK(ended);
        CHECK_EQ(used, n_out);
        CHECK_MEM(c, clen, want.p, want.n);
        CHECK(check_all_splits(R_, out, n_out, NULL));
        free(c);
        sb_free(&want);
        free(in);
        free(out);
    }
    /* smtplib.quotedata() is the same stuffing without the terminator */
    size_t n_in = 0, n_q = 0;
    char *in = test_read_file("tests/vectors/data/smtplib-data.in", &n_in);
    char *q = test_read_file("tests/vectors/data/smtplib-quotedata.out", &n_q);
    CHECK(in && q);
    if (in && q) {
        sb out = {0};
        evlog l;
        CHECK_ST(run_encoder((eopts){OPES_DATA_NORMALISE, OPES_DATA_REPORT, 0}, in, n_in, NULL, 0,
                             &out, &l),
                 OPES_OK);
        CHECK_MEM(out.p, out.n, q, n_q);
        log_free(&l);
        sb_free(&out);
    }
    free(in);
    free(q);
}

/* Round trips: random content (any bytes), encoded normalising, decoded:
 * the normalised content, with a CRLF added if it lacked one. */
static void test_round_trip(void)
{
    static const char alpha[] = "..\r\n\r\nab \x00\xff";
    int all_ok = 1;
    rng_state = 0x3030u;
    for (int run = 0; run < 3000 && all_ok; run++) {
        char in[80];
        size_t n = rnd_below(sizeof in);
        for (size_t i = 0; i < n; i++)
            in[i] = alpha[rnd_below(sizeof alpha - 1)];
        sb wire = {0}, want = {0};
        evlog l;
        size_t cuts[80], k = 0;
        for (size_t at = 1; at < n; at++)
            if (rnd_below(4) == 0)
                cuts[k++] = at;
        opes_status st = run_encoder(EN_, in, n, cuts, k, &wire, &l);
        log_free(&l);
        normalise(in, n, &want);
        if (want.n && (want.n < 2 || memcmp(want.p + want.n - 2, "\r\n", 2) != 0))
            sb_puts(&want, "\r\n");
        size_t clen;
        int ended;
        uint64_t used;
        char *c = decode_content(R_, wire.p ? wire.p : "", wire.n, &clen, &ended, &used);
        /* the terminator appears once, at the end */
        int once = 1;
        for (size_t i = 0; i + 5 <= wire.n; i++)
            if (memcmp(wire.p + i, "\r\n.\r\n", 5) == 0 && i + 5 != wire.n)
                once = 0;
        if (st != OPES_OK || !ended || used != wire.n || clen != want.n ||
            (clen && memcmp(c, want.p ? want.p : "", clen) != 0) || !once) {
            all_ok = 0;
            test_hexdump("content", in, n);
            test_hexdump("wire", wire.p, wire.n);
        }
        free(c);
        sb_free(&wire);
        sb_free(&want);
    }
    CHECK(all_ok);
}

/* ---- the scanner --------------------------------------------------------- */

static void test_find_eol(void)
{
    /* the SSE2 scanner and the portable one agree at every start and end,
     * with the buffer's end against a guard page */
    char buf[200];
    int all_ok = 1;
    rng_state = 0x2821u;
    for (int run = 0; run < 200 && all_ok; run++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            size_t r = rnd_below(60);
            buf[i] = r == 0 ? '\r' : r == 1 ? '\n' : (char)(' ' + rnd_below(90));
        }
        const char *g = guarded_copy(buf, sizeof buf);
        for (size_t a = 0; a < sizeof buf && all_ok; a += 1 + rnd_below(7)) {
            const char *end = g + sizeof buf - rnd_below(3);
            if (end < g + a)
                continue;
            const char *x = opes__data_find_eol(g + a, end);
            const char *y = opes__data_find_eol_scalar(g + a, end);
            const char *z = g + a;
            while (z < end && *z != '\r' && *z != '\n')
                z++;
            if (x != z || y != z)
                all_ok = 0;
        }
        guarded_free(g);
    }
    CHECK(all_ok);
    /* no CR or LF at all, long input: end */
    char plain[100];
    memset(plain, 'a', sizeof plain);
    const char *g = guarded_copy(plain, sizeof plain);
    CHECK(opes__data_find_eol(g, g + sizeof plain) == g + sizeof plain);
    CHECK(opes__data_find_eol_scalar(g, g + sizeof plain) == g + sizeof plain);
    CHECK(opes__data_find_eol(g, g) == g);
    guarded_free(g);
}

int main(void)
{
    test_rfc5321_transparency();
    test_first_line();
    test_appendix_d1();
    test_bdat_not_here();
    test_smuggling_logs();
    test_smuggling_variants();
    test_smuggling_payloads();
    test_long_lines();
    test_big_message();
    test_random_vs_reference();
    test_decoder_object();
    test_encoder();
    test_smtplib_vectors();
    test_round_trip();
    test_find_eol();
    return TEST_END();
}
