/* The mbox reader (qmail mbox(5), RFC 4155 appendix A) and its gzip input
 * (RFC 1952, zlib builds): the quoting vectors of mbox(5), offsets, the
 * blank-line separator, every split of the input, long lines, CRLF, bad
 * input, gzip members, truncation, corruption and a bomb.
 *
 * With the arguments --split FILE [mboxrd|mboxo], reads FILE (plain or
 * gzip) in 4096-byte pieces and prints, for tests/t_mbox.py:
 *   Z <0|1>                               whether this build has zlib
 *   M <offset> <from hex> <data hex> <flags>   one line per message
 *   N <count> <length>                   at the end
 *   X <status name> <offset>             on an error (exit status 1)
 * (hex "-" for empty). */
#include "harness.h"

#include <stdlib.h>
#if defined(OPES_HAVE_ZLIB) && OPES_HAVE_ZLIB
#include <zlib.h>
#define HAVE_Z 1
#else
#define HAVE_Z 0
#endif

/* ---- the driver ------------------------------------------------------------ */

enum { SPLIT_WHOLE = 0, SPLIT_BYTES = 1, SPLIT_RANDOM = 2, SPLIT_4K = 3 };

static unsigned long long rng_state;
static unsigned rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng_state >> 33);
}

typedef struct result {
    opes_status status; /* of the last call: OPES_OK after END, or the error */
    size_t messages;
    size_t max_data; /* longest DATA event */
} result;

/* Read in[0..n) with the reader, the bytes arriving in pieces per split
 * mode, each call on a fresh exact-size copy of the unconsumed bytes.
 * The log is the canonical text of the events: per message
 *   "B<off> <from> f<flags>\n" "D<len>:<data>" "E<size> f<flags> @<off>\n",
 * then "Z<count> @<off>\n" or "X<status> @<off>\n". Checks the protocol
 * (used <= len, INCOMPLETE only without eof and taking all, DATA never
 * empty, sizes adding up, message numbers, offsets increasing). */
static result run(const char *in, size_t n, int variant, int input, int split, tlog *l)
{
    result res = {OPES_OK, 0, 0};
    opes_mbox_reader *r = NULL;
    tlog msg = {0};
    size_t pos = 0, lim = 0, calls = 0;
    uint64_t sum = 0, last_begin = 0;
    int in_msg = 0;
    VERIFY(opes_mbox_reader_new(&r, NULL) == OPES_OK);
    if (!r)
        return res;
    VERIFY(opes_mbox_reader_set_variant(r, variant) == OPES_OK);
    if (input != OPES_MBOX_INPUT_AUTO)
        VERIFY(opes_mbox_reader_set_input(r, input) == OPES_OK);
    for (;;) {
        opes_mbox_event ev;
        size_t used = 0, have;
        char *copy;
        opes_status st;
        int eof;
        if (pos == lim && lim < n) {
            size_t step = split == SPLIT_WHOLE   ? n
                          : split == SPLIT_BYTES ? 1
                          : split == SPLIT_4K    ? 4096
                                                 : 1 + rnd() % (rnd() % 4 ? 16 : 3000);
            lim = n - lim < step ? n : lim + step;
        }
        eof = lim == n;
        have = lim - pos;
        copy = malloc(have ? have : 1);
        if (!copy)
            abort();
        memcpy(copy, in + pos, have);
        st = opes_mbox_feed(r, have ? copy : NULL, have, eof, &used, &ev);
        VERIFY(used <= have);
        pos += used;
        if (++calls > 4 * n + 10000) {
            test_fail_at(__FILE__, __LINE__, "the reader makes no progress");
            free(copy);
            break;
        }
        if (st == OPES_INCOMPLETE) {
            VERIFY(!eof && used == have && ev.type == OPES_MBOX_EV_NONE);
            free(copy);
            if (pos == lim)
                continue;
            break;
        }
        if (st != OPES_OK) {
            VERIFY(ev.type == OPES_MBOX_EV_ERROR && ev.detail != NULL);
            lputs(l, "X");
            lputs(l, opes_status_name(st));
            lputs(l, " @");
            lnum(l, ev.offset);
            lputs(l, "\n");
            res.status = st;
            free(copy);
            break;
        }
        switch (ev.type) {
        case OPES_MBOX_EV_MESSAGE_BEGIN:
            VERIFY(!in_msg);
            VERIFY(ev.index == res.messages + 1);
            VERIFY(res.messages == 0 || ev.offset > last_begin);
            VERIFY(ev.from.len >= 5 && memcmp(ev.from.ptr, "From ", 5) == 0);
            VERIFY(ev.from.len <= OPES_MBOX_FROM_MAX);
            last_begin = ev.offset;
            res.messages++;
            in_msg = 1;
            sum = 0;
            msg.n = 0;
            lputs(l, "B");
            lnum(l, ev.offset);
            lputs(l, " ");
            lput(l, ev.from.ptr, ev.from.len);
            lputs(l, " f");
            lnum(l, ev.flags);
            lputs(l, "\n");
            break;
        case OPES_MBOX_EV_DATA:
            VERIFY(in_msg && ev.index == res.messages && ev.data.len > 0);
            if (ev.data.len > res.max_data)
                res.max_data = ev.data.len;
            sum += ev.data.len;
            lput(&msg, ev.data.ptr, ev.data.len);
            break;
        case OPES_MBOX_EV_MESSAGE_END:
            VERIFY(in_msg && ev.index == res.messages && ev.size == sum);
            VERIFY(ev.offset > last_begin);
            in_msg = 0;
            lputs(l, "D");
            lnum(l, msg.n);
            lputs(l, ":");
            lput(l, msg.p, msg.n);
            lputs(l, "E");
            lnum(l, ev.size);
            lputs(l, " f");
            lnum(l, ev.flags);
            lputs(l, " @");
            lnum(l, ev.offset);
            lputs(l, "\n");
            break;
        case OPES_MBOX_EV_END:
            VERIFY(!in_msg && eof && ev.index == res.messages);
            lputs(l, "Z");
            lnum(l, ev.index);
            lputs(l, " @");
            lnum(l, ev.offset);
            lputs(l, "\n");
            break;
        default:
            test_fail_at(__FILE__, __LINE__, "unexpected event");
        }
        free(copy);
        if (ev.type == OPES_MBOX_EV_END) {
            size_t u = 9;
            VERIFY(opes_mbox_feed(r, NULL, 0, 1, &u, &ev) == OPES_ESTATE && u == 0);
            break;
        }
    }
    lfree(&msg);
    opes_mbox_reader_free(r);
    return res;
}

/* The log of the whole input at once, checked equal under the other
 * splits; returned for the caller's expectations (free it). */
static tlog all_splits(const char *in, size_t n, int variant)
{
    tlog whole = {0};
    run(in, n, variant, OPES_MBOX_INPUT_AUTO, SPLIT_WHOLE, &whole);
    for (int s = SPLIT_BYTES; s <= SPLIT_4K; s++) {
        int reps = s == SPLIT_RANDOM ? 20 : 1;
        if (s == SPLIT_BYTES && n > 300000)
            continue;
        for (int k = 0; k < reps; k++) {
            tlog other = {0};
            rng_state = (unsigned long long)k * 7919u + n;
            run(in, n, variant, OPES_MBOX_INPUT_AUTO, s, &other);
            CHECK_MEM(other.p, other.n, whole.p, whole.n);
            lfree(&other);
        }
    }
    return whole;
}

#define LIT(s) s, sizeof(s) - 1
#define CHECK_LOG(l, lit) CHECK_MEM((l).p, (l).n, (lit), strlen(lit))

/* Expect exactly this log under every split. */
static void expect(const char *in, size_t n, int variant, const char *want)
{
    tlog got = all_splits(in, n, variant);
    CHECK_MEM(got.p, got.n, want, strlen(want));
    lfree(&got);
}

/* ---- vectors ------------------------------------------------------------- */

/* qmail mbox(5) "MESSAGE FORMAT": the example message and its final blank
 * line, which the reader strips. */
static void test_qmail_example(void)
{
    static const char mb[] = "From god@heaven.af.mil Sat Jan  3 01:05:34 1996\n"
                             "Return-Path: <god@heaven.af.mil>\n"
                             "Delivered-To: djb@silverton.berkeley.edu\n"
                             "Date: 3 Jan 1996 01:05:34 -0000\n"
                             "From: God <god@heaven.af.mil>\n"
                             "To: djb@silverton.berkeley.edu (D. J. Bernstein)\n"
                             "\n"
                             "How's that mail system project coming along?\n"
                             "\n";
    expect(LIT(mb), OPES_MBOX_MBOXRD,
           "B0 From god@heaven.af.mil Sat Jan  3 01:05:34 1996 f0\n"
           "D231:Return-Path: <god@heaven.af.mil>\n"
           "Delivered-To: djb@silverton.berkeley.edu\n"
           "Date: 3 Jan 1996 01:05:34 -0000\n"
           "From: God <god@heaven.af.mil>\n"
           "To: djb@silverton.berkeley.edu (D. J. Bernstein)\n"
           "\n"
           "How's that mail system project coming along?\n"
           "E231 f0 @280\n"
           "Z1 @280\n");
}

/* mbox(5) "HOW A MESSAGE IS DELIVERED": the writer prepends ">" to From_,
 * >From_, >>From_, >>>From_ lines; "HOW A MESSAGE IS READ": the reader
 * deletes that quoting. "COMMON MBOX VARIANTS": mboxo quotes From_ lines
 * only, so ">From now through August I'll be doing beta testing." cannot
 * be told from a quoted line: both readers strip its ">"; ">>From" lines
 * lose one ">" in mboxrd only. */
static void test_quoting(void)
{
    static const char mb[] = "From djb Sat Jan  3 01:05:34 1996\n"
                             "From: djb@silverton.berkeley.edu (D. J. Bernstein)\n"
                             "To: god@heaven.af.mil\n"
                             "\n"
                             ">From now through August I'll be doing beta testing.\n"
                             ">>From a quoted quote\n"
                             ">>>From deeper\n"
                             "Thanks for your interest.\n"
                             ">Fromage\n"
                             "> From spaced\n"
                             ">From\n"
                             "From:x\n"
                             " From lead\n"
                             "mid >From line\n"
                             ">>\n"
                             ">\n"
                             ">>>F\n"
                             "\n";
    expect(LIT(mb), OPES_MBOX_MBOXRD,
           "B0 From djb Sat Jan  3 01:05:34 1996 f0\n"
           "D259:From: djb@silverton.berkeley.edu (D. J. Bernstein)\n"
           "To: god@heaven.af.mil\n"
           "\n"
           "From now through August I'll be doing beta testing.\n"
           ">From a quoted quote\n"
           ">>From deeper\n"
           "Thanks for your interest.\n"
           ">Fromage\n"
           "> From spaced\n"
           ">From\n"
           "From:x\n"
           " From lead\n"
           "mid >From line\n"
           ">>\n"
           ">\n"
           ">>>F\n"
           "E259 f0 @297\n"
           "Z1 @297\n");
    expect(LIT(mb), OPES_MBOX_MBOXO,
           "B0 From djb Sat Jan  3 01:05:34 1996 f0\n"
           "D261:From: djb@silverton.berkeley.edu (D. J. Bernstein)\n"
           "To: god@heaven.af.mil\n"
           "\n"
           "From now through August I'll be doing beta testing.\n"
           ">>From a quoted quote\n"
           ">>>From deeper\n"
           "Thanks for your interest.\n"
           ">Fromage\n"
           "> From spaced\n"
           ">From\n"
           "From:x\n"
           " From lead\n"
           "mid >From line\n"
           ">>\n"
           ">\n"
           ">>>F\n"
           "E261 f0 @297\n"
           "Z1 @297\n");
    /* a quoted line right at the start of the body, and a From_ line whose
     * own text starts like a quote is never unescaped */
    expect(LIT("From >x\n>From a\n\n"), OPES_MBOX_MBOXRD,
           "B0 From >x f0\nD7:From a\nE7 f0 @17\nZ1 @17\n");
}

/* Offsets of several messages, the separator, empty messages. */
static void test_offsets(void)
{
    static const char mb[] = "From a@b Mon Jan  1 00:00:00 2024\n" /* 0 */
                             "Subject: one\n\nbody 1\n\n"
                             "From c@d Mon Jan  1 00:00:01 2024\n" /* 56 */
                             "Subject: two\n\nbody 2\nFrom x\n"    /* 111: no blank line */
                             "From e@f Mon Jan  1 00:00:02 2024\n" /* 118 */
                             "\n"                                  /* empty */
                             "From g@h\n"                          /* 153 */
                             "x\n\n\n";                            /* two LF kept */
    expect(LIT(mb), OPES_MBOX_MBOXRD,
           "B0 From a@b Mon Jan  1 00:00:00 2024 f0\nD21:Subject: one\n\nbody 1\nE21 f0 @56\n"
           "B56 From c@d Mon Jan  1 00:00:01 2024 f0\nD21:Subject: two\n\nbody 2\nE21 f2 @111\n"
           "B111 From x f0\nD0:E0 f2 @118\n"
           "B118 From e@f Mon Jan  1 00:00:02 2024 f0\nD0:E0 f0 @153\n"
           "B153 From g@h f0\nD3:x\n\nE3 f0 @166\n"
           "Z5 @166\n");
}

static void test_edges(void)
{
    /* the empty mailbox */
    expect("", 0, OPES_MBOX_MBOXRD, "Z0 @0\n");
    /* no trailing newline: the input ends inside the last line */
    expect(LIT("From a\nSubject: x\n\nbody"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD16:Subject: x\n\nbodyE16 f6 @23\nZ1 @23\n");
    /* ... inside held bytes at a line start */
    expect(LIT("From a\nx\n\nFro"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD6:x\n\nFroE6 f6 @13\nZ1 @13\n");
    expect(LIT("From a\nx\n>"), OPES_MBOX_MBOXRD, "B0 From a f0\nD3:x\n>E3 f6 @10\nZ1 @10\n");
    expect(LIT("From a\nx\n\r"), OPES_MBOX_MBOXRD, "B0 From a f0\nD3:x\n\rE3 f6 @10\nZ1 @10\n");
    /* ... inside the From_ line */
    expect(LIT("From a"), OPES_MBOX_MBOXRD, "B0 From a f4\nD0:E0 f2 @6\nZ1 @6\n");
    expect(LIT("From "), OPES_MBOX_MBOXRD, "B0 From  f4\nD0:E0 f2 @5\nZ1 @5\n");
    /* a message without its blank line at the end of the input keeps its LF */
    expect(LIT("From a\nx\n"), OPES_MBOX_MBOXRD, "B0 From a f0\nD2:x\nE2 f2 @9\nZ1 @9\n");
    /* blank lines and "From" look-alikes at line starts */
    expect(LIT("From a\n\n\nFrom\nFrom\n\n"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD12:\n\nFrom\nFrom\nE12 f0 @20\nZ1 @20\n");
    expect(LIT("From a\n\n>From b\n\n"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD8:\nFrom b\nE8 f0 @17\nZ1 @17\n");
    expect(LIT("From a\n\nFrom b\n\n"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD0:E0 f0 @8\nB8 From b f0\nD0:E0 f0 @16\nZ2 @16\n");
    expect(LIT("From a\nFrom b\n"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD0:E0 f2 @7\nB7 From b f0\nD0:E0 f2 @14\nZ2 @14\n");
    /* not an mbox */
    expect(LIT("Hello\n"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
    expect(LIT("\nFrom a\n"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
    expect(LIT("from a\n"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
    expect(LIT("From"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
    expect(LIT("From\n"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
    expect(LIT(">From a\n"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
    expect(LIT("\x1f"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
    expect(LIT("\x1fx"), OPES_MBOX_MBOXRD, "XOPES_EBAD_MBOX @0\n");
}

/* CRLF mailboxes: the CR stays in the data; a CRLF blank line is the
 * separator; the From_ line is given without its CR. */
static void test_crlf(void)
{
    expect(LIT("From a\r\nH: v\r\n\r\nbody\r\n\r\nFrom b\r\nx\r\n\r\n"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD14:H: v\r\n\r\nbody\r\nE14 f0 @24\n"
           "B24 From b f0\nD3:x\r\nE3 f0 @37\nZ2 @37\n");
    /* a CR alone at a line start is data; ">From " after CRLF unescapes */
    expect(LIT("From a\r\n\rFrom x\r\n>From y\r\n\r\n"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD17:\rFrom x\r\nFrom y\r\nE17 f0 @28\nZ1 @28\n");
    /* a CRLF blank line followed by a From_ line, and LF ones mixed */
    expect(LIT("From a\n\r\n\nFrom b\n"), OPES_MBOX_MBOXRD,
           "B0 From a f0\nD2:\r\nE2 f0 @10\nB10 From b f0\nD0:E0 f2 @17\nZ2 @17\n");
}

/* Lines of any length in constant memory: a 2 MB line, a From_ line of
 * 5000 bytes (truncated to OPES_MBOX_FROM_MAX), 100000 ">" before "From ". */
static void test_long_lines(void)
{
    size_t big = 2u << 20, n = 0;
    char *mb = malloc(big + 200000);
    tlog got;
    result res;
    if (!mb)
        abort();
    memcpy(mb, "From ", 5);
    memset(mb + 5, 'f', 4995);
    n = 5000;
    mb[n++] = '\n';
    memset(mb + n, 'x', big);
    n += big;
    mb[n++] = '\n';
    memset(mb + n, '>', 100000);
    n += 100000;
    memcpy(mb + n, "From y\n\n", 8);
    n += 8;
    got = all_splits(mb, n, OPES_MBOX_MBOXRD);
    {
        tlog want = {0};
        lputs(&want, "B0 ");
        lput(&want, mb, OPES_MBOX_FROM_MAX);
        lputs(&want, " f1\nD");
        lnum(&want, big + 1 + 99999 + 7);
        lputs(&want, ":");
        lput(&want, mb + 5001, big + 1);
        lput(&want, mb + 5001 + big + 1 + 1, 99999 + 7);
        lputs(&want, "E");
        lnum(&want, big + 1 + 99999 + 7);
        lputs(&want, " f0 @");
        lnum(&want, n);
        lputs(&want, "\nZ1 @");
        lnum(&want, n);
        lputs(&want, "\n");
        CHECK_MEM(got.p, got.n, want.p, want.n);
        lfree(&want);
    }
    lfree(&got);
    /* whole input at once: one DATA event carries the 2 MB line (a view
     * of the caller's bytes, no copy) */
    got.p = NULL;
    got.n = got.cap = 0;
    res = run(mb, n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_WHOLE, &got);
    CHECK(res.max_data >= big);
    lfree(&got);
    free(mb);
}

/* ---- the object ------------------------------------------------------------ */

static size_t n_alloc, n_free, bytes_alloc;
static void *cnt_alloc(void *user, size_t size)
{
    (void)user;
    n_alloc++;
    bytes_alloc += size;
    return malloc(size);
}
static void cnt_free(void *user, void *p, size_t size)
{
    (void)user;
    (void)size;
    n_free++;
    free(p);
}

static void test_object(void)
{
    opes_allocator a = {cnt_alloc, NULL, cnt_free, NULL};
    opes_mbox_reader *r = NULL;
    opes_mbox_event ev;
    size_t used = 0;
    void *mem;
    static const char mb[] = "From a\n>From b\n\n";

    CHECK_ST(opes_mbox_reader_new(NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_mbox_reader_new(&r, &a), OPES_OK);
    CHECK_EQ(n_alloc, 1);
    CHECK_EQ(bytes_alloc, opes_mbox_reader_sizeof());
    CHECK_EQ(opes_mbox_reader_input(r), OPES_MBOX_INPUT_AUTO);
    CHECK_ST(opes_mbox_reader_set_variant(r, 7), OPES_EINVAL);
    CHECK_ST(opes_mbox_reader_set_input(r, 3), OPES_EINVAL);
    CHECK_ST(opes_mbox_reader_set_input(r, OPES_MBOX_INPUT_GZIP),
             HAVE_Z ? OPES_OK : OPES_EUNSUPPORTED);
    CHECK_ST(opes_mbox_reader_set_input(r, OPES_MBOX_INPUT_AUTO), OPES_OK);
    CHECK_ST(opes_mbox_feed(r, NULL, 3, 0, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_mbox_feed(r, mb, 3, 0, NULL, &ev), OPES_EINVAL);
    CHECK_ST(opes_mbox_feed(r, mb, 3, 0, &used, NULL), OPES_EINVAL);
    CHECK_ST(opes_mbox_feed(NULL, mb, 3, 0, &used, &ev), OPES_EINVAL);
    /* the whole mailbox: events, with the reader's one block only */
    CHECK_ST(opes_mbox_feed(r, mb, sizeof mb - 1, 1, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_MBOX_EV_MESSAGE_BEGIN);
    CHECK_EQ(used, 7);
    CHECK_STR(ev.from, "From a");
    CHECK_EQ(opes_mbox_reader_input(r), OPES_MBOX_INPUT_PLAIN);
    CHECK_ST(opes_mbox_reader_set_variant(r, OPES_MBOX_MBOXO), OPES_ESTATE);
    CHECK_ST(opes_mbox_reader_set_input(r, OPES_MBOX_INPUT_PLAIN), OPES_ESTATE);
    CHECK_ST(opes_mbox_feed(r, mb + 7, sizeof mb - 8, 1, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_MBOX_EV_DATA);
    CHECK_STR(ev.data, "From ");
    CHECK_EQ(ev.offset, 8);
    CHECK(strcmp(opes_mbox_event_name(ev.type), "data") == 0);
    CHECK(opes_mbox_event_name(9) == NULL);
    CHECK(strcmp(opes_mbox_event_name(OPES_MBOX_EV_MESSAGE_END), "message_end") == 0);
    CHECK_EQ(n_alloc, 1);
    /* reset: a new mailbox, settings kept */
    CHECK_ST(opes_mbox_reader_reset(r), OPES_OK);
    CHECK_ST(opes_mbox_reader_set_variant(r, OPES_MBOX_MBOXO), OPES_OK);
    CHECK_ST(opes_mbox_feed(r, "X", 1, 0, &used, &ev), OPES_EBAD_MBOX);
    CHECK_EQ(ev.type, OPES_MBOX_EV_ERROR);
    CHECK(ev.detail != NULL);
    /* sticky */
    CHECK_ST(opes_mbox_feed(r, mb, sizeof mb - 1, 1, &used, &ev), OPES_EBAD_MBOX);
    CHECK_EQ(used, 0);
    CHECK_EQ(ev.offset, 0);
    CHECK_ST(opes_mbox_reader_reset(NULL), OPES_EINVAL);
    opes_mbox_reader_free(r);
    opes_mbox_reader_free(NULL);
    CHECK_EQ(n_free, 1);
    /* caller memory */
    mem = malloc(opes_mbox_reader_sizeof());
    CHECK_ST(opes_mbox_reader_init_in(mem, opes_mbox_reader_sizeof() - 1, &r), OPES_EINVAL);
    CHECK_ST(opes_mbox_reader_init_in(NULL, opes_mbox_reader_sizeof(), &r), OPES_EINVAL);
    CHECK_ST(opes_mbox_reader_init_in(mem, opes_mbox_reader_sizeof(), &r), OPES_OK);
    CHECK_ST(opes_mbox_feed(r, mb, 6, 0, &used, &ev), OPES_INCOMPLETE);
    CHECK_EQ(used, 6);
    CHECK_EQ(ev.type, OPES_MBOX_EV_NONE);
    CHECK_ST(opes_mbox_feed(r, mb + 6, 1, 0, &used, &ev), OPES_OK);
    CHECK_STR(ev.from, "From a");
    opes_mbox_reader_free(r); /* a no-op */
    free(mem);
    CHECK_EQ(opes_mbox_reader_input(NULL), OPES_MBOX_INPUT_AUTO);
    CHECK(((opes_features() & OPES_FEATURE_ZLIB) != 0) == HAVE_Z);
}

/* ---- gzip ---------------------------------------------------------------- */

#if HAVE_Z
static const char sample[] = "From a@example.org Mon Jan  1 00:00:00 2024\n"
                             "Subject: one\n\n>From the start\nbody 1\n\n"
                             "From b@example.org Mon Jan  1 00:00:01 2024\n"
                             "Subject: two\n\n>>From quoted\nbody 2\n\n";

/* gzip members made by zlib's deflate with the gzip wrapper (RFC 1952). */
static void gz(tlog *out, const char *in, size_t n, int level)
{
    z_stream s;
    unsigned char buf[16384];
    int zr;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    s.next_in = (unsigned char *)(uintptr_t)in;
    s.avail_in = (uInt)n;
    do {
        s.next_out = buf;
        s.avail_out = sizeof buf;
        zr = deflate(&s, Z_FINISH);
        lput(out, buf, sizeof buf - s.avail_out);
    } while (zr == Z_OK);
    if (zr != Z_STREAM_END)
        abort();
    deflateEnd(&s);
}

/* zlib's own inflate on a damaged member: 1 when what it decoded before
 * noticing the damage already differs from "From " (the reader must then
 * say OPES_EBAD_MBOX: it reads those bytes first), else 0. */
static int damaged_no_mbox(const char *in, size_t n)
{
    z_stream s;
    unsigned char out[65536];
    size_t got, k;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 15 + 16) != Z_OK)
        abort();
    s.next_in = (unsigned char *)(uintptr_t)in;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = sizeof out;
    (void)inflate(&s, Z_NO_FLUSH);
    got = sizeof out - s.avail_out;
    inflateEnd(&s);
    for (k = 0; k < got && k < 5; k++)
        if (out[k] != (unsigned char)"From "[k])
            return 1;
    return 0;
}

static void test_gzip(void)
{
    tlog plain = {0}, z = {0}, got = {0};
    size_t n = sizeof sample - 1;
    /* one member: the same events as the plain input, under every split */
    run(sample, n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_WHOLE, &plain);
    gz(&z, sample, n, 9);
    got = all_splits(z.p, z.n, OPES_MBOX_MBOXRD);
    CHECK_MEM(got.p, got.n, plain.p, plain.n);
    lfree(&got);
    /* forced */
    run(z.p, z.n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_GZIP, SPLIT_BYTES, &got);
    CHECK_MEM(got.p, got.n, plain.p, plain.n);
    lfree(&got);
    /* gzip input read as plain: not an mbox */
    run(z.p, z.n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_PLAIN, SPLIT_WHOLE, &got);
    CHECK_LOG(got, "XOPES_EBAD_MBOX @0\n");
    lfree(&got);
    /* plain input forced to gzip: corrupt */
    run(sample, n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_GZIP, SPLIT_WHOLE, &got);
    CHECK_LOG(got, "XOPES_EBAD_GZIP @2\n"); /* zlib reads the two magic bytes */
    lfree(&got);
    /* two members, cut inside a line and inside ">From" (RFC 1952 2.2) */
    {
        size_t cut = 59; /* inside "\n>From the start" */
        CHECK_EQ(sample[cut - 1], '>');
        lfree(&z);
        gz(&z, sample, cut, 1);
        gz(&z, sample + cut, n - cut, 6);
        got = all_splits(z.p, z.n, OPES_MBOX_MBOXRD);
        CHECK_MEM(got.p, got.n, plain.p, plain.n);
        lfree(&got);
        /* an empty member between them */
        lfree(&z);
        gz(&z, sample, cut, 1);
        gz(&z, "", 0, 6);
        gz(&z, sample + cut, n - cut, 6);
        got = all_splits(z.p, z.n, OPES_MBOX_MBOXRD);
        CHECK_MEM(got.p, got.n, plain.p, plain.n);
        lfree(&got);
    }
    /* truncated at every length: EBAD_GZIP (never a crash, never END) */
    lfree(&z);
    gz(&z, sample, n, 9);
    {
        size_t bad = 0;
        for (size_t k = 2; k < z.n; k++) {
            result res = run(z.p, k, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_RANDOM, &got);
            if (res.status != OPES_EBAD_GZIP)
                bad++;
            lfree(&got);
        }
        CHECK_EQ(bad, 0);
        /* corrupt: every byte flipped in turn; the CRC-32 and ISIZE
         * trailer (RFC 1952 2.3.1) catch what the deflate data does not,
         * except in the header's MTIME, XFL and OS bytes (4..9), which
         * nothing checks */
        bad = 0;
        for (size_t k = 0; k < z.n; k++) {
            result res;
            if (k >= 4 && k <= 9)
                continue;
            z.p[k] ^= 0x55;
            res = run(z.p, z.n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_WHOLE, &got);
            if (k < 2 || damaged_no_mbox(z.p, z.n) ? res.status != OPES_EBAD_MBOX
                                                   : res.status != OPES_EBAD_GZIP)
                bad++;
            lfree(&got);
            /* the events before the error, the error and its offset do not
             * depend on the split: what inflate decoded before it noticed
             * the damage is read first (it was dropped when the damage and
             * the output came in the same inflate call) */
            got = all_splits(z.p, z.n, OPES_MBOX_MBOXRD);
            z.p[k] ^= 0x55;
            lfree(&got);
        }
        CHECK_EQ(bad, 0);
        /* trailing garbage after the member */
        lput(&z, "\0\0\0\0", 4);
        run(z.p, z.n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_WHOLE, &got);
        CHECK(got.n > 0 && memcmp(got.p + got.n - 21, "XOPES_EBAD_GZIP @", 17) == 0);
        lfree(&got);
    }
    /* an empty gzip stream is no mailbox: truncated */
    run("\x1f\x8b", 2, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_WHOLE, &got);
    CHECK_LOG(got, "XOPES_EBAD_GZIP @2\n");
    lfree(&got);
    /* a gzip member of an empty mailbox */
    lfree(&z);
    gz(&z, "", 0, 9);
    run(z.p, z.n, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_BYTES, &got);
    CHECK_LOG(got, "Z0 @0\n");
    lfree(&got);
    lfree(&z);
    lfree(&plain);
}

/* A bomb: 64 MiB of one line compressed to about 64 KiB streams out in
 * DATA events of at most OPES_MBOX_GZIP_CHUNK bytes, with the reader's
 * one allocation. */
static void test_gzip_bomb(void)
{
    size_t big = 64u << 20;
    char *mb = malloc(big + 16);
    tlog z = {0};
    opes_allocator a = {cnt_alloc, NULL, cnt_free, NULL};
    opes_mbox_reader *r = NULL;
    opes_mbox_event ev;
    uint64_t total = 0;
    size_t pos = 0, maxd = 0, used;
    opes_status st;
    if (!mb)
        abort();
    memcpy(mb, "From bomb\n", 10);
    memset(mb + 10, 'A', big);
    gz(&z, mb, big + 10, 9);
    free(mb);
    CHECK(z.n < big / 500);
    n_alloc = 0;
    CHECK_ST(opes_mbox_reader_new(&r, &a), OPES_OK);
    for (;;) {
        size_t give = z.n - pos < 4096 ? z.n - pos : 4096;
        st = opes_mbox_feed(r, z.p + pos, give, pos + give == z.n, &used, &ev);
        pos += used;
        if (st == OPES_INCOMPLETE)
            continue;
        if (st != OPES_OK || ev.type == OPES_MBOX_EV_END)
            break;
        if (ev.type == OPES_MBOX_EV_DATA) {
            total += ev.data.len;
            if (ev.data.len > maxd)
                maxd = ev.data.len;
        }
    }
    CHECK_ST(st, OPES_OK);
    CHECK_EQ(total, big);
    CHECK(maxd <= OPES_MBOX_GZIP_CHUNK);
    CHECK_EQ(n_alloc, 1);
    CHECK_EQ(ev.offset, big + 10);
    opes_mbox_reader_free(r);
    lfree(&z);
}
#else
/* Without zlib: gzip input is OPES_EUNSUPPORTED, with a detail. */
static void test_gzip(void)
{
    static const char z[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
    tlog got = {0};
    opes_mbox_reader *r = NULL;
    opes_mbox_event ev;
    size_t used;
    run(z, sizeof z - 1, OPES_MBOX_MBOXRD, OPES_MBOX_INPUT_AUTO, SPLIT_BYTES, &got);
    CHECK_LOG(got, "XOPES_EUNSUPPORTED @0\n");
    lfree(&got);
    CHECK_ST(opes_mbox_reader_new(&r, NULL), OPES_OK);
    CHECK_ST(opes_mbox_feed(r, z, sizeof z - 1, 0, &used, &ev), OPES_EUNSUPPORTED);
    CHECK(ev.detail && strstr(ev.detail, "zlib") != NULL);
    opes_mbox_reader_free(r);
}
static void test_gzip_bomb(void)
{
}
#endif

/* ---- --split: material for tests/t_mbox.py --------------------------------- */

static void hex(const char *p, size_t n)
{
    if (n == 0)
        fputs("-", stdout);
    for (size_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)p[i]);
}

static int split_file(const char *path, const char *variant)
{
    FILE *f = fopen(path, "rb");
    opes_mbox_reader *r = NULL;
    tlog in = {0}, msg = {0};
    char buf[4096];
    size_t k, pos = 0;
    opes_mbox_event ev;
    uint64_t begin = 0;
    unsigned bflags = 0;
    char from[OPES_MBOX_FROM_MAX];
    size_t from_len = 0;
    int rc = 0;
    if (!f)
        return 2;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        lput(&in, buf, k);
    fclose(f);
    if (opes_mbox_reader_new(&r, NULL) != OPES_OK)
        return 2;
    if (variant && strcmp(variant, "mboxo") == 0)
        opes_mbox_reader_set_variant(r, OPES_MBOX_MBOXO);
    printf("Z %d\n", HAVE_Z);
    for (;;) {
        size_t give = in.n - pos < 4096 ? in.n - pos : 4096, used = 0;
        opes_status st = opes_mbox_feed(r, in.p + pos, give, pos + give == in.n, &used, &ev);
        pos += used;
        if (st == OPES_INCOMPLETE)
            continue;
        if (st != OPES_OK) {
            printf("X %s %llu\n", opes_status_name(st), (unsigned long long)ev.offset);
            rc = 1;
            break;
        }
        if (ev.type == OPES_MBOX_EV_MESSAGE_BEGIN) {
            begin = ev.offset;
            bflags = ev.flags;
            from_len = ev.from.len;
            memcpy(from, ev.from.ptr, from_len);
            msg.n = 0;
        } else if (ev.type == OPES_MBOX_EV_DATA) {
            lput(&msg, ev.data.ptr, ev.data.len);
        } else if (ev.type == OPES_MBOX_EV_MESSAGE_END) {
            printf("M %llu ", (unsigned long long)begin);
            hex(from, from_len);
            putchar(' ');
            hex(msg.p, msg.n);
            printf(" %u\n", bflags | ev.flags);
        } else if (ev.type == OPES_MBOX_EV_END) {
            printf("N %zu %llu\n", ev.index, (unsigned long long)ev.offset);
            break;
        }
    }
    opes_mbox_reader_free(r);
    lfree(&in);
    lfree(&msg);
    fflush(stdout);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--split") == 0)
        return split_file(argv[2], argc > 3 ? argv[3] : NULL);
    test_qmail_example();
    test_quoting();
    test_offsets();
    test_edges();
    test_crlf();
    test_long_lines();
    test_object();
    test_gzip();
    test_gzip_bomb();
    return TEST_END();
}
