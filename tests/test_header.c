/* The header section (RFC 5322 2.1, 2.2, 3.6, 4; RFC 6532): the field
 * parser, the scanner under every split, unfolding, the folding builder.
 *
 * With the argument --emit, prints builder outputs and scanner results for
 * tests/t_header.py, which checks them with Python's email package. */
#include "harness.h"

#include <stdlib.h>

/* ---- an event log (tlog, harness.h), the same for every split ------------- */

typedef struct scan_cfg {
    unsigned flags;
    size_t limit[OPES_HEADER_LIMIT__COUNT]; /* 0: default */
} scan_cfg;

/* One event of a scan, as text: "F off name|unfolded|lines|flags",
 * "E off end count", "X status off". Also checks that a field's whole is
 * the stream's bytes at its offset and that raw lies inside it. */
static void log_event(tlog *l, const opes_header_event *ev, opes_status r, const char *in)
{
    char u[4096];
    size_t ul = 0;
    if (ev->type == OPES_HEADER_EV_FIELD) {
        const opes_header_field *f = &ev->field;
        VERIFY(f->offset == ev->offset);
        VERIFY(memcmp(f->whole.ptr, in + f->offset, f->whole.len) == 0);
        VERIFY(f->raw.ptr >= f->whole.ptr &&
               f->raw.ptr + f->raw.len <= f->whole.ptr + f->whole.len);
        VERIFY(f->name.ptr == f->whole.ptr);
        VERIFY(opes_header_unfold(u, sizeof u, &ul, f->raw.ptr, f->raw.len) == OPES_OK);
        lputs(l, "F ");
        lnum(l, ev->offset);
        lputs(l, " ");
        lput(l, f->name.ptr, f->name.len);
        lputs(l, "|");
        lput(l, u, ul < sizeof u ? ul : sizeof u);
        lputs(l, "|");
        lnum(l, f->lines);
        lputs(l, "|");
        lnum(l, f->flags);
        lputs(l, "\n");
    } else if (ev->type == OPES_HEADER_EV_END) {
        lputs(l, "E ");
        lnum(l, ev->offset);
        lputs(l, ev->end == OPES_HEADER_END_EMPTY_LINE ? " empty " : " eof ");
        lnum(l, ev->count);
        lputs(l, "\n");
    } else {
        lputs(l, "X ");
        lputs(l, opes_status_name(r));
        lputs(l, " ");
        lnum(l, ev->offset);
        lputs(l, "\n");
    }
}

/* Feed in[0..n) as a caller would: the bytes arrive in pieces ending at
 * cuts[0..ncuts) and then n; after each arrival the scanner is called on
 * all unconsumed bytes (a fresh guarded copy each time, so an over-read
 * faults and no pointer into an old buffer can survive) until it wants
 * more; eof is set with the last arrival. */
static int drive_guarded = 1;

static const char *copy_in(const char *p, size_t n)
{
    char *c;
    if (drive_guarded)
        return guarded_copy(p, n);
    c = malloc(n ? n : 1); /* exact size: ASan sees an over-read */
    if (!c)
        abort();
    memcpy(c, p, n);
    return c;
}

static void free_in(const char *p)
{
    if (drive_guarded)
        guarded_free(p);
    else
        free((void *)(uintptr_t)p);
}

static void drive(const char *in, size_t n, const size_t *cuts, size_t ncuts, const scan_cfg *cfg,
                  tlog *l)
{
    opes_header_scanner *s = NULL;
    size_t consumed = 0;
    int done = 0;
    VERIFY(opes_header_scanner_new(&s, NULL) == OPES_OK);
    if (!s)
        return;
    if (cfg) {
        VERIFY(opes_header_scanner_set_flags(s, cfg->flags) == OPES_OK);
        for (int i = 0; i < OPES_HEADER_LIMIT__COUNT; i++)
            if (cfg->limit[i])
                VERIFY(opes_header_scanner_set_limit(s, i, cfg->limit[i]) == OPES_OK);
    }
    for (size_t c = 0; c <= ncuts && !done; c++) {
        size_t arrived = c < ncuts ? cuts[c] : n;
        int eof = c == ncuts;
        for (int guard = 0; guard < 100000; guard++) {
            size_t len = arrived - consumed, used = 99;
            opes_header_event ev;
            const char *g = copy_in(in + consumed, len);
            opes_status r = opes_header_scan(s, len ? g : NULL, len, eof, &used, &ev);
            VERIFY(used <= len);
            if (r == OPES_INCOMPLETE) {
                VERIFY(!eof && used == 0 && ev.type == OPES_HEADER_EV_NONE);
                free_in(g);
                break;
            }
            log_event(l, &ev, r, in);
            free_in(g);
            consumed += used;
            if (ev.type != OPES_HEADER_EV_FIELD) {
                done = 1;
                if (r != OPES_OK) { /* sticky */
                    opes_header_event ev2;
                    VERIFY(opes_header_scan(s, "x", 1, 1, &used, &ev2) == r);
                    VERIFY(ev2.offset == ev.offset && ev2.type == OPES_HEADER_EV_ERROR);
                } else {
                    VERIFY(opes_header_scan(s, "x", 1, 1, &used, &ev) == OPES_ESTATE);
                }
                break;
            }
        }
    }
    VERIFY(done);
    opes_header_scanner_free(s);
}

static unsigned long split_runs;

/* The log of the whole input at once must equal want, and every split of
 * the input must give the same log: every 2-piece split, 3-piece splits on
 * a grid, byte-by-byte, and seeded random splits. The whole input,
 * byte-by-byte and the random splits run on guarded pages; the many
 * grid splits on exact-size heap copies (an over-read faults under ASan). */
static void check_splits(const char *in, size_t n, const scan_cfg *cfg, const char *want)
{
    tlog whole = {0};
    size_t cuts[64];
    unsigned long bad = 0;
    drive(in, n, NULL, 0, cfg, &whole);
    CHECK_MEM(whole.p, whole.n, want, strlen(want));
    drive_guarded = 0;
    for (size_t k = 0; k <= n; k++) {
        tlog t = {0};
        cuts[0] = k;
        drive(in, n, cuts, 1, cfg, &t);
        if (t.n != whole.n || memcmp(t.p, whole.p, t.n) != 0) {
            if (!bad++) {
                fprintf(stderr, "split at %zu differs:\n", k);
                CHECK_MEM(t.p, t.n, whole.p, whole.n);
            }
        }
        free(t.p);
        split_runs++;
    }
    size_t step = n / 40 + 1;
    for (size_t a = 0; a <= n; a += step)
        for (size_t b = a; b <= n; b += step + 3) {
            tlog t = {0};
            cuts[0] = a;
            cuts[1] = b;
            drive(in, n, cuts, 2, cfg, &t);
            if (t.n != whole.n || memcmp(t.p, whole.p, t.n) != 0)
                bad++;
            free(t.p);
            split_runs++;
        }
    drive_guarded = 1;
    {
        /* byte by byte */
        size_t *all = malloc((n + 1) * sizeof *all);
        tlog t = {0};
        for (size_t k = 0; k < n; k++)
            all[k] = k + 1;
        drive(in, n, all, n, cfg, &t);
        if (t.n != whole.n || memcmp(t.p, whole.p, t.n) != 0)
            bad++;
        free(t.p);
        free(all);
    }
    uint32_t seed = 12345;
    for (int round = 0; round < 50; round++) {
        tlog t = {0};
        size_t nc = 0, pos = 0;
        while (nc < 64) {
            seed = seed * 1103515245u + 12345u;
            pos += 1 + (seed >> 16) % (n / 8 + 2);
            if (pos >= n)
                break;
            cuts[nc++] = pos;
        }
        drive(in, n, cuts, nc, cfg, &t);
        if (t.n != whole.n || memcmp(t.p, whole.p, t.n) != 0)
            bad++;
        free(t.p);
    }
    CHECK_EQ(bad, 0);
    free(whole.p);
}

/* ---- a realistic header -------------------------------------------------- */

/* A message of a Debian mailing list as it reaches a subscriber, written by
 * hand after the structure of real ones (list headers, a relay's Received
 * with tab-indented continuation lines, a DKIM-Signature folded in the
 * b= tag as signers fold it); the fields are listed one by one, so the
 * expected events come from this table, not from the parser. */
static const char *const debian_fields[] = {
    "Return-Path: <debian-devel-request@lists.debian.org>\r\n",
    "Received: from bendel.debian.org (bendel.debian.org [82.195.75.100])\r\n"
    "\tby mx.example.org (Postfix) with ESMTPS id 4Xk2Lq0Zs9z9sRk\r\n"
    "\tfor <user@example.org>; Tue,  2 Jan 2024 10:15:32 +0000 (UTC)\r\n",
    "Received: from localhost (localhost [127.0.0.1])\r\n"
    "\tby bendel.debian.org (Postfix) with QMQP\r\n"
    "\tid 7F1A220512; Tue,  2 Jan 2024 10:15:30 +0000 (UTC)\r\n",
    "X-Mailbox-Line: From debian-devel-request@lists.debian.org  Tue Jan  2 10:15:30 2024\r\n",
    "Old-Return-Path: <alice@example.net>\r\n",
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net;\r\n"
    "\ts=2023; t=1704190528;\r\n"
    "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
    "\th=From:To:Subject:Date:Message-ID;\r\n"
    "\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgbG9va3MgbGlrZSBv\r\n"
    "\t bmUgZm9yIHRoZSBwdXJwb3NlIG9mIHRoaXMgdGVzdA==\r\n",
    "From: Alice Example <alice@example.net>\r\n",
    "To: debian-devel@lists.debian.org\r\n",
    "Subject: Re: Proposal: drop i386 from the\r\n default architecture list\r\n",
    "Date: Tue, 02 Jan 2024 11:15:28 +0100\r\n",
    "Message-ID: <87a5ab3c1d.fsf@example.net>\r\n",
    "Mail-Followup-To: debian-devel@lists.debian.org\r\n",
    "List-Id: <debian-devel.lists.debian.org>\r\n",
    "List-Unsubscribe: <mailto:debian-devel-request@lists.debian.org?subject=unsubscribe>\r\n",
    "X-Debian-Message: Signature check passed for Debian Member\r\n",
    "Precedence: list\r\n",
    "Resent-Sender: debian-devel-request@lists.debian.org\r\n",
};
#define DEBIAN_N (sizeof debian_fields / sizeof debian_fields[0])
static const char debian_body[] = "Hi,\r\n\r\nthe body is never needed.\r\n";

/* The expected unfolded values, by RFC 5322 2.2.3 applied by hand. */
static const char *const debian_unfolded[] = {
    "<debian-devel-request@lists.debian.org>",
    "from bendel.debian.org (bendel.debian.org [82.195.75.100])\tby mx.example.org (Postfix) "
    "with ESMTPS id 4Xk2Lq0Zs9z9sRk\tfor <user@example.org>; Tue,  2 Jan 2024 10:15:32 +0000 "
    "(UTC)",
    "from localhost (localhost [127.0.0.1])\tby bendel.debian.org (Postfix) with QMQP\tid "
    "7F1A220512; Tue,  2 Jan 2024 10:15:30 +0000 (UTC)",
    "From debian-devel-request@lists.debian.org  Tue Jan  2 10:15:30 2024",
    "<alice@example.net>",
    "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net;\ts=2023; "
    "t=1704190528;\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\th=From:To:Subject:Date:"
    "Message-ID;\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgbG9va3MgbGlrZSBv\t "
    "bmUgZm9yIHRoZSBwdXJwb3NlIG9mIHRoaXMgdGVzdA==",
    "Alice Example <alice@example.net>",
    "debian-devel@lists.debian.org",
    "Re: Proposal: drop i386 from the default architecture list",
    "Tue, 02 Jan 2024 11:15:28 +0100",
    "<87a5ab3c1d.fsf@example.net>",
    "debian-devel@lists.debian.org",
    "<debian-devel.lists.debian.org>",
    "<mailto:debian-devel-request@lists.debian.org?subject=unsubscribe>",
    "Signature check passed for Debian Member",
    "list",
    "debian-devel-request@lists.debian.org",
};

/* The message (with_body: the empty line and the body; else the header
 * alone, no empty line) with line ends "\r\n" or, lf, "\n". */
static char *debian_message(int with_body, int lf, size_t *n)
{
    tlog m = {0};
    for (size_t i = 0; i < DEBIAN_N; i++)
        lputs(&m, debian_fields[i]);
    if (with_body) {
        lputs(&m, "\r\n");
        lputs(&m, debian_body);
    }
    if (lf) {
        size_t o = 0;
        for (size_t i = 0; i < m.n; i++)
            if (!(m.p[i] == '\r' && i + 1 < m.n && m.p[i + 1] == '\n'))
                m.p[o++] = m.p[i];
        m.n = o;
        m.p[o] = 0;
    }
    *n = m.n;
    return m.p;
}

/* The expected log of the Debian header, built from the tables. */
static void debian_want(tlog *w, int with_body, int lf)
{
    size_t off = 0;
    for (size_t i = 0; i < DEBIAN_N; i++) {
        const char *f = debian_fields[i];
        size_t lines = 0, len = strlen(f);
        for (const char *p = f; *p; p++)
            lines += *p == '\n';
        lputs(w, "F ");
        lnum(w, off);
        lputs(w, " ");
        lput(w, f, (size_t)(strchr(f, ':') - f));
        lputs(w, "|");
        lputs(w, debian_unfolded[i]);
        lputs(w, "|");
        lnum(w, lines);
        lputs(w, "|");
        lnum(w, lf ? OPES_HDRF_LF : 0);
        lputs(w, "\n");
        off += lf ? len - lines : len;
    }
    lputs(w, "E ");
    lnum(w, with_body ? off + (lf ? 1 : 2) : off);
    lputs(w, with_body ? " empty " : " eof ");
    lnum(w, DEBIAN_N);
    lputs(w, "\n");
}

static void test_debian(void)
{
    for (int variant = 0; variant < 4; variant++) {
        int with_body = !(variant & 1), lf = (variant & 2) != 0;
        size_t n;
        char *msg = debian_message(with_body, lf, &n);
        tlog want = {0};
        scan_cfg cfg = {lf ? OPES_HEADER_LF : 0, {0}};
        debian_want(&want, with_body, lf);
        check_splits(msg, n, &cfg, want.p);
        if (lf) {
            /* strict: the first bare LF, at the end of the first line */
            tlog t = {0};
            drive(msg, n, NULL, 0, NULL, &t);
            CHECK_STR(((opes_str){t.p, t.n}), "X OPES_EBARE_LF 52\n");
            free(t.p);
        }
        free(want.p);
        free(msg);
    }
}

/* ---- the unit parser ------------------------------------------------------ */

static opes_status parse(const char *s, size_t n, unsigned flags, int eof, opes_header_field *f,
                         size_t *used)
{
    const char *g = guarded_copy(s, n);
    opes_status r = opes_header_field_parse(n ? g : NULL, n, flags, eof, f, used);
    /* views into the guarded copy are rebased onto s for the checks */
    if (r == OPES_OK) {
        if (f->name.len)
            f->name.ptr = s + (f->name.ptr - g);
        if (f->raw.ptr)
            f->raw.ptr = s + (f->raw.ptr - g);
        if (f->whole.ptr)
            f->whole.ptr = s + (f->whole.ptr - g);
    }
    guarded_free(g);
    return r;
}

#define P(lit, flags, eof, f, used) parse(lit, sizeof(lit) - 1, flags, eof, f, used)

static void check_unfold(opes_str raw, const char *want)
{
    char u[2048];
    size_t ul = 0;
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, raw.ptr, raw.len), OPES_OK);
    CHECK_MEM(u, ul, want, strlen(want));
}

static void test_field_parse(void)
{
    opes_header_field f;
    size_t used = 7;

    /* RFC 5322 2.2.3: "Subject: This is a test" "can be represented as"
     *     Subject: This
     *      is a test                                                    */
    static const char rfc[] = "Subject: This\r\n is a test\r\n\r\n";
    CHECK_ST(P(rfc, 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.kind, OPES_HEADER_KIND_FIELD);
    CHECK_STR(f.name, "Subject");
    CHECK_STR(f.raw, " This\r\n is a test");
    CHECK_STR(f.whole, "Subject: This\r\n is a test\r\n");
    CHECK_EQ(f.lines, 2);
    CHECK_EQ(f.flags, 0);
    CHECK_EQ(used, 27);
    check_unfold(f.raw, "This is a test");
    CHECK(opes_header_name_eq(&f, "subject"));
    CHECK(opes_header_name_eq(&f, "SUBJECT"));
    CHECK(!opes_header_name_eq(&f, "Subjec"));
    CHECK(!opes_header_name_eq(&f, "Subjects"));
    CHECK(!opes_header_name_eq(NULL, "Subject"));
    CHECK(!opes_header_name_eq(&f, NULL));

    /* a field is complete only when the next line's first byte is there */
    for (size_t k = 0; k < 28; k++) {
        used = 5;
        CHECK_ST(parse(rfc, k, 0, 0, &f, &used), OPES_INCOMPLETE);
        CHECK_EQ(used, 0);
    }
    CHECK_ST(parse(rfc, 28, 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(used, 27);
    /* ...or eof is set */
    CHECK_ST(parse(rfc, 27, 0, 1, &f, &used), OPES_OK);
    CHECK_EQ(used, 27);
    /* the empty line */
    CHECK_ST(parse(rfc + 27, 2, 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.kind, OPES_HEADER_KIND_END);
    CHECK_STR(f.whole, "\r\n");
    CHECK_EQ(used, 2);
    CHECK_ST(parse(rfc + 27, 1, 0, 0, &f, &used), OPES_INCOMPLETE);
    CHECK_ST(parse(rfc + 27, 1, 0, 1, &f, &used), OPES_EBARE_CR);
    CHECK_ST(parse("", 0, 0, 0, &f, &used), OPES_INCOMPLETE);
    CHECK_ST(parse("", 0, 0, 1, &f, &used), OPES_OK);
    CHECK_EQ(f.kind, OPES_HEADER_KIND_EOF);
    CHECK_EQ(used, 0);

    /* RFC 5322 4.5 obs-optional: field-name *WSP ":" unstructured CRLF */
    CHECK_ST(P("Subject \t: obsolete\r\nX", 0, 0, &f, &used), OPES_OK);
    CHECK_STR(f.name, "Subject");
    CHECK_STR(f.raw, " obsolete");
    CHECK_EQ(f.flags, OPES_HDRF_WSP_BEFORE_COLON);
    /* RFC 5322 4.2 obs-FWS: a line made only of WSP */
    CHECK_ST(P("Subject: a\r\n \r\n\t\r\n b\r\n\r\n", 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.lines, 4);
    CHECK_EQ(f.flags, OPES_HDRF_WSP_LINE);
    check_unfold(f.raw, "a \t b");
    /* a WSP-only line as the field's last line */
    CHECK_ST(P("Subject: a\r\n  \r\n\r\n", 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.flags, OPES_HDRF_WSP_LINE);
    CHECK_EQ(used, 16);
    check_unfold(f.raw, "a");
    /* a line whose continuation has WSP then text is not flagged */
    CHECK_ST(P("Subject: a\r\n   b\r\n\r\n", 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.flags, 0);
    /* RFC 5322 4.1 obs-utext: controls (not NUL) in a body */
    CHECK_ST(P("X-Ctl: a\x01\x7f\x1b\x0b b\r\n\r\n", 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.flags, OPES_HDRF_OBS_CTL);
    /* an empty body, and a body of WSP only */
    CHECK_ST(P("Subject:\r\n\r\n", 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.raw.len, 0);
    CHECK_ST(P("Subject:   \r\n\r\n", 0, 0, &f, &used), OPES_OK);
    check_unfold(f.raw, "");
    /* the whole ftext range: printable ASCII but ":" */
    CHECK_ST(P("!#$%&'*+-.^_`|~09AZaz\"(),/;<=>?@[\\]{}: x\r\n\r\n", 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.name.len, 37);

    /* errors, with offsets */
    CHECK_ST(P(" continuation\r\n\r\n", 0, 0, &f, &used), OPES_EBAD_HEADER);
    CHECK_EQ(f.error_offset, 0);
    CHECK_EQ(used, 0);
    /* an mbox "From " line: its time has colons, so its "name" is bad at
     * the first byte after the WSP that is not a colon */
    CHECK_ST(P("From alice@example.net Tue Jan  2 10:15:30 2024\r\n", 0, 0, &f, &used),
             OPES_EBAD_HEADER_NAME);
    CHECK_EQ(f.error_offset, 5);
    CHECK_ST(P("From alice@example.net\r\n", 0, 0, &f, &used), OPES_EBAD_HEADER);
    CHECK_EQ(f.error_offset, 0);
    CHECK_ST(P("NoColon\r\n", 0, 0, &f, &used), OPES_EBAD_HEADER);
    CHECK_ST(P("NoColon  \r\n", 0, 0, &f, &used), OPES_EBAD_HEADER);
    CHECK_ST(P("NoColon", 0, 1, &f, &used), OPES_EBAD_HEADER);
    CHECK_ST(P("NoColon", 0, 0, &f, &used), OPES_INCOMPLETE);
    CHECK_ST(P("Bad Name: x\r\n\r\n", 0, 0, &f, &used), OPES_EBAD_HEADER_NAME);
    CHECK_EQ(f.error_offset, 4);
    CHECK_ST(P(": x\r\n\r\n", 0, 0, &f, &used), OPES_EBAD_HEADER_NAME);
    CHECK_EQ(f.error_offset, 0);
    CHECK_ST(P("Sub\x80ject: x\r\n\r\n", OPES_HEADER_UTF8 | OPES_HEADER_8BIT, 0, &f, &used),
             OPES_EBAD_HEADER_NAME);
    CHECK_EQ(f.error_offset, 3);
    CHECK_ST(P("Sub\x01: x\r\n\r\n", 0, 0, &f, &used), OPES_EBAD_HEADER_NAME);
    CHECK_ST(P("Sub\0ject: x\r\n\r\n", 0, 0, &f, &used), OPES_EBAD_CHAR);
    CHECK_EQ(f.error_offset, 3);
    CHECK_ST(P("Subject: a\0b\r\n\r\n", 0, 0, &f, &used), OPES_EBAD_CHAR);
    CHECK_EQ(f.error_offset, 10);
    CHECK_ST(P("Subject: a\rb\r\n\r\n", 0, 0, &f, &used), OPES_EBARE_CR);
    CHECK_EQ(f.error_offset, 10);
    CHECK_ST(P("Subject: a\r", 0, 0, &f, &used), OPES_INCOMPLETE);
    CHECK_ST(P("Subject: a\r", 0, 1, &f, &used), OPES_EBARE_CR);
    CHECK_ST(P("Subject: a\nb: c\r\n\r\n", 0, 0, &f, &used), OPES_EBARE_LF);
    CHECK_EQ(f.error_offset, 10);
    CHECK_ST(P("Subject\r: a\r\n\r\n", 0, 0, &f, &used), OPES_EBARE_CR);
    CHECK_EQ(f.error_offset, 7);
    CHECK_ST(P("\r\r\n", 0, 0, &f, &used), OPES_EBARE_CR);
    CHECK_ST(P("\n", 0, 0, &f, &used), OPES_EBARE_LF);
    /* the input ends inside the last line */
    CHECK_ST(P("Subject: x", 0, 1, &f, &used), OPES_EBAD_HEADER);
    CHECK_EQ(f.error_offset, 10);
    CHECK_ST(P("Subject: x\r\n", 0, 1, &f, &used), OPES_OK);
    CHECK_EQ(used, 12);

    /* LF mode: LF and CRLF both end lines; bare CR still refused */
    CHECK_ST(P("Subject: a\n b\r\n\tc\nX", OPES_HEADER_LF, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.flags, OPES_HDRF_LF);
    CHECK_EQ(f.lines, 3);
    CHECK_EQ(used, 18);
    check_unfold(f.raw, "a b\tc");
    CHECK_ST(P("Subject: a\r\r\n", OPES_HEADER_LF, 0, &f, &used), OPES_EBARE_CR);
    CHECK_ST(P("\n", OPES_HEADER_LF, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.kind, OPES_HEADER_KIND_END);
    CHECK_EQ(f.flags, OPES_HDRF_LF);
    CHECK_ST(P("Subject: a\r\n\r\n", OPES_HEADER_LF, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.flags, 0);

    /* 8-bit: refused by default; RFC 6532 UTF-8; lenient 8BIT */
    CHECK_ST(P("Subject: caf\xc3\xa9\r\n\r\n", 0, 0, &f, &used), OPES_EBAD_CHAR);
    CHECK_EQ(f.error_offset, 12);
    CHECK_ST(P("Subject: caf\xc3\xa9\r\n\r\n", OPES_HEADER_UTF8, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.flags, OPES_HDRF_UTF8);
    CHECK_ST(P("Subject: caf\xc3(\r\n\r\n", OPES_HEADER_UTF8, 0, &f, &used), OPES_EBAD_UTF8);
    CHECK_EQ(f.error_offset, 12);
    CHECK_ST(P("Subject: \xed\xa0\x80\r\n\r\n", OPES_HEADER_UTF8, 0, &f, &used), OPES_EBAD_UTF8);
    CHECK_ST(P("Subject: \xc0\xaf\r\n\r\n", OPES_HEADER_UTF8, 0, &f, &used), OPES_EBAD_UTF8);
    CHECK_ST(P("Subject: \xf0\x9f\x98", OPES_HEADER_UTF8, 0, &f, &used), OPES_INCOMPLETE);
    CHECK_ST(P("Subject: \xf0\x9f\x98", OPES_HEADER_UTF8, 1, &f, &used), OPES_EBAD_UTF8);
    CHECK_ST(P("Subject: \xf0\x9f\x98\x80\r\n\r\n", OPES_HEADER_UTF8, 0, &f, &used), OPES_OK);
    CHECK_ST(P("Subject: caf\xe9\r\n\r\n", OPES_HEADER_8BIT, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.flags, OPES_HDRF_8BIT);
    CHECK_ST(
        P("Subject: caf\xc3\xa9 \xe9\r\n\r\n", OPES_HEADER_8BIT | OPES_HEADER_UTF8, 0, &f, &used),
        OPES_OK);
    CHECK_EQ(f.flags, OPES_HDRF_8BIT | OPES_HDRF_UTF8);

    CHECK_ST(opes_header_field_parse(NULL, 1, 0, 0, &f, &used), OPES_EINVAL);
    CHECK_ST(opes_header_field_parse("a", 1, 0, 0, NULL, &used), OPES_EINVAL);
    CHECK_ST(opes_header_field_parse("a", 1, 0, 0, &f, NULL), OPES_EINVAL);
    CHECK_ST(opes_header_field_parse("a", 1, 1u << 7, 0, &f, &used), OPES_EINVAL);
}

/* RFC 5322 2.1.1: "Each line of characters MUST be no more than 998
 * characters ... excluding the CRLF"; RFC 6532 3.4: octets. */
static void test_line_limit(void)
{
    static char buf[2200];
    opes_header_field f;
    size_t used;
    /* "X-Long: " + filler: lines of exactly 998 and 999 octets */
    memcpy(buf, "X-Long: ", 8);
    memset(buf + 8, 'a', 1500);
    memcpy(buf + 990, "\r\n\r\n", 4); /* 990-octet line */
    CHECK_ST(parse(buf, 994, 0, 0, &f, &used), OPES_OK);
    memset(buf + 8, 'a', 1500);
    memcpy(buf + 998, "\r\n\r\n", 4); /* 998 */
    CHECK_ST(parse(buf, 1002, 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(used, 1000);
    memset(buf + 8, 'a', 1500);
    memcpy(buf + 999, "\r\n\r\n", 4); /* 999 */
    CHECK_ST(parse(buf, 1003, 0, 0, &f, &used), OPES_EHEADER_LINE_TOO_LONG);
    CHECK_EQ(f.error_offset, 998);
    /* decided as soon as the 999th octet is there */
    CHECK_ST(parse(buf, 999, 0, 0, &f, &used), OPES_EHEADER_LINE_TOO_LONG);
    CHECK_ST(parse(buf, 998, 0, 0, &f, &used), OPES_INCOMPLETE);
    /* a continuation line counts from its own start */
    memset(buf + 8, 'a', 1500);
    memcpy(buf + 500, "\r\n", 2);
    buf[502] = ' ';
    memcpy(buf + 502 + 998, "\r\n\r\n", 4); /* second line: 998 octets */
    CHECK_ST(parse(buf, 1504, 0, 0, &f, &used), OPES_OK);
    CHECK_EQ(f.lines, 2);
    memset(buf + 1500, 'b', 2);
    memcpy(buf + 502 + 999, "\r\n\r\n", 4); /* 999 */
    CHECK_ST(parse(buf, 1505, 0, 0, &f, &used), OPES_EHEADER_LINE_TOO_LONG);
    CHECK_EQ(f.error_offset, 502 + 998);
    /* a name of 998 octets and its colon: 999 */
    memset(buf, 'N', 998);
    memcpy(buf + 998, ":\r\n\r\n", 5);
    CHECK_ST(parse(buf, 1003, 0, 0, &f, &used), OPES_EHEADER_LINE_TOO_LONG);
    CHECK_EQ(f.error_offset, 998);
    memcpy(buf + 997, ":\r\n\r\n", 5);
    CHECK_ST(parse(buf, 1002, 0, 0, &f, &used), OPES_OK);
    /* a UTF-8 character across octet 998 */
    memcpy(buf, "X-Long: ", 8);
    memset(buf + 8, 'a', 1500);
    memcpy(buf + 997, "\xc3\xa9\r\n\r\n", 6); /* 999 octets, 998 characters */
    CHECK_ST(parse(buf, 1003, OPES_HEADER_UTF8, 0, &f, &used), OPES_EHEADER_LINE_TOO_LONG);
    CHECK_EQ(f.error_offset, 998);
    memcpy(buf + 996, "\xc3\xa9\r\n\r\n", 6); /* 998 octets */
    CHECK_ST(parse(buf, 1002, OPES_HEADER_UTF8, 0, &f, &used), OPES_OK);
}

/* ---- the scanner ---------------------------------------------------------- */

static void scan_expect(const char *in, size_t n, const scan_cfg *cfg, const char *want)
{
    check_splits(in, n, cfg, want);
}
#define SCAN(lit, cfg, want) scan_expect(lit, sizeof(lit) - 1, cfg, want)

static void test_scanner_small(void)
{
    scan_cfg lf = {OPES_HEADER_LF, {0}};
    /* RFC 5322 2.2.3 */
    SCAN("Subject: This\r\n is a test\r\n\r\nbody\r\n", NULL,
         "F 0 Subject|This is a test|2|0\nE 29 empty 1\n");
    /* RFC 5322 3.5: the body is optional, and with it the empty line */
    SCAN("From: a@example.org\r\nTo: b@example.org\r\n", NULL,
         "F 0 From|a@example.org|1|0\nF 21 To|b@example.org|1|0\nE 40 eof 2\n");
    /* an empty header section: the body follows the empty line at once */
    SCAN("\r\nbody\r\n", NULL, "E 2 empty 0\n");
    SCAN("", NULL, "E 0 eof 0\n");
    /* obsolete forms */
    SCAN("Subject : obs\r\nX: a\r\n \r\n b\r\n\r\n", NULL,
         "F 0 Subject|obs|1|1\nF 15 X|a  b|3|2\nE 30 empty 2\n");
    /* LF mode, with a CRLF mixed in */
    SCAN("From: a\nSubject: x\n y\r\n\nbody", &lf,
         "F 0 From|a|1|4\nF 8 Subject|x y|2|4\nE 24 empty 2\n");
    /* errors, with stream offsets */
    SCAN("From: a\r\nSubject: x\r\n y\r \r\n\r\n", NULL, "F 0 From|a|1|0\nX OPES_EBARE_CR 23\n");
    SCAN("From: a\r\n\tcont\r\n not a field\r\nX\r\n\r\n", NULL,
         "F 0 From|a\tcont not a field|3|0\nX OPES_EBAD_HEADER 30\n");
    SCAN("From: a\r\nBad Name: x\r\n\r\n", NULL, "F 0 From|a|1|0\nX OPES_EBAD_HEADER_NAME 13\n");
    SCAN("From: a\r\nSubject: \0\r\n\r\n", NULL, "F 0 From|a|1|0\nX OPES_EBAD_CHAR 18\n");
    SCAN("From: a\r\nSubject: x", NULL, "F 0 From|a|1|0\nX OPES_EBAD_HEADER 19\n");
    SCAN("From: a\r\nSubject: x\n\n", NULL, "F 0 From|a|1|0\nX OPES_EBARE_LF 19\n");
}

static void test_scanner_limits(void)
{
    /* 3 fields of 9 octets (a 7-octet line and CRLF), 29 with the empty line */
    static const char three[] = "A: 1234\r\nB: 1234\r\nC: 1234\r\n\r\n";
    scan_cfg c = {0, {0}};
    c.limit[OPES_HEADER_LIMIT_FIELDS] = 3;
    SCAN(three, &c, "F 0 A|1234|1|0\nF 9 B|1234|1|0\nF 18 C|1234|1|0\nE 29 empty 3\n");
    c.limit[OPES_HEADER_LIMIT_FIELDS] = 2;
    SCAN(three, &c, "F 0 A|1234|1|0\nF 9 B|1234|1|0\nX OPES_ETOO_MANY_ITEMS 18\n");
    /* the line limit, lowered: exactly at it and one over */
    memset(&c, 0, sizeof c);
    c.limit[OPES_HEADER_LIMIT_LINE] = 7;
    SCAN(three, &c, "F 0 A|1234|1|0\nF 9 B|1234|1|0\nF 18 C|1234|1|0\nE 29 empty 3\n");
    c.limit[OPES_HEADER_LIMIT_LINE] = 6;
    SCAN(three, &c, "X OPES_EHEADER_LINE_TOO_LONG 6\n");
    /* the field limit: 9 octets with the line end */
    memset(&c, 0, sizeof c);
    c.limit[OPES_HEADER_LIMIT_FIELD] = 9;
    SCAN(three, &c, "F 0 A|1234|1|0\nF 9 B|1234|1|0\nF 18 C|1234|1|0\nE 29 empty 3\n");
    c.limit[OPES_HEADER_LIMIT_FIELD] = 8;
    SCAN(three, &c, "X OPES_EHEADER_TOO_LONG 8\n");
    SCAN("A: 12\r\n 34\r\n\r\n", &c, "X OPES_EHEADER_TOO_LONG 8\n");
    /* the section limit: 29 octets with the empty line */
    memset(&c, 0, sizeof c);
    c.limit[OPES_HEADER_LIMIT_SECTION] = 29;
    SCAN(three, &c, "F 0 A|1234|1|0\nF 9 B|1234|1|0\nF 18 C|1234|1|0\nE 29 empty 3\n");
    c.limit[OPES_HEADER_LIMIT_SECTION] = 28;
    SCAN(three, &c,
         "F 0 A|1234|1|0\nF 9 B|1234|1|0\nF 18 C|1234|1|0\nX OPES_EHEADER_TOO_LONG 28\n");
    c.limit[OPES_HEADER_LIMIT_SECTION] = 20;
    SCAN(three, &c, "F 0 A|1234|1|0\nF 9 B|1234|1|0\nX OPES_EHEADER_TOO_LONG 20\n");

    /* the 998 default, and a lenient raise */
    static char big[1300];
    memcpy(big, "X: ", 3);
    memset(big + 3, 'x', 1200);
    memcpy(big + 1203, "\r\n\r\n", 4);
    memset(&c, 0, sizeof c);
    scan_expect(big, 1207, &c, "X OPES_EHEADER_LINE_TOO_LONG 998\n");
    c.limit[OPES_HEADER_LIMIT_LINE] = 1203;
    {
        tlog t = {0};
        drive(big, 1207, NULL, 0, &c, &t);
        CHECK(t.n > 20 && memcmp(t.p, "F 0 X|xxx", 9) == 0);
        CHECK(strstr(t.p, "E 1207 empty 1\n") != NULL);
        free(t.p);
    }
    c.limit[OPES_HEADER_LIMIT_LINE] = 1202;
    scan_expect(big, 1207, &c, "X OPES_EHEADER_LINE_TOO_LONG 1202\n");

    /* setters */
    opes_header_scanner *s = NULL;
    opes_header_event ev;
    size_t used;
    CHECK_ST(opes_header_scanner_new(&s, NULL), OPES_OK);
    CHECK_ST(opes_header_scanner_set_limit(s, OPES_HEADER_LIMIT_LINE, OPES_MAX_HEADER_LINE + 1),
             OPES_ECEILING);
    CHECK_ST(opes_header_scanner_set_limit(s, OPES_HEADER_LIMIT_LINE, OPES_MAX_HEADER_LINE),
             OPES_OK);
    CHECK_ST(opes_header_scanner_set_limit(s, OPES_HEADER_LIMIT_SECTION, 0), OPES_EINVAL);
    CHECK_ST(opes_header_scanner_set_limit(s, OPES_HEADER_LIMIT_FIELDS, 0), OPES_OK);
    CHECK_ST(opes_header_scanner_set_limit(s, 4, 10), OPES_EINVAL);
    CHECK_ST(opes_header_scanner_set_limit(s, -1, 10), OPES_EINVAL);
    CHECK_ST(opes_header_scanner_set_flags(s, 1u << 5), OPES_EINVAL);
    CHECK_ST(opes_header_scan(s, "A: b\r\n", 6, 0, &used, &ev), OPES_INCOMPLETE);
    CHECK_ST(opes_header_scanner_set_flags(s, OPES_HEADER_LF), OPES_ESTATE);
    CHECK_ST(opes_header_scanner_set_limit(s, OPES_HEADER_LIMIT_LINE, 100), OPES_ESTATE);
    /* a field count of 0: the first field is one too many */
    CHECK_ST(opes_header_scan(s, "A: b\r\nC", 7, 0, &used, &ev), OPES_ETOO_MANY_ITEMS);
    CHECK_EQ(ev.offset, 0);
    CHECK_ST(opes_header_scanner_reset(s), OPES_OK);
    CHECK_ST(opes_header_scan(s, "\r\n", 2, 0, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_HEADER_EV_END);
    CHECK_STR(ev.field.whole, "\r\n");
    CHECK_ST(opes_header_scan(NULL, "", 0, 0, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_header_scanner_reset(s), OPES_OK);
    CHECK_ST(opes_header_scan(s, NULL, 3, 0, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_header_scan(s, "", 0, 0, NULL, &ev), OPES_EINVAL);
    CHECK_ST(opes_header_scan(s, "", 0, 0, &used, NULL), OPES_EINVAL);
    opes_header_scanner_free(s);
    opes_header_scanner_free(NULL);

    /* in caller memory */
    static _Alignas(16) unsigned char mem[4096];
    CHECK(opes_header_scanner_sizeof() <= sizeof mem);
    CHECK_ST(opes_header_scanner_init_in(mem, opes_header_scanner_sizeof() - 1, &s), OPES_EINVAL);
    CHECK_ST(opes_header_scanner_init_in(mem, sizeof mem, &s), OPES_OK);
    CHECK_ST(opes_header_scan(s, "A: b\r\n\r\n", 8, 0, &used, &ev), OPES_OK);
    CHECK_EQ(ev.type, OPES_HEADER_EV_FIELD);
    CHECK_EQ(used, 6);
    opes_header_scanner_free(s); /* a no-op */
    CHECK(strcmp(opes_header_event_name(OPES_HEADER_EV_FIELD), "field") == 0);
    CHECK(strcmp(opes_header_event_name(OPES_HEADER_EV_END), "end") == 0);
    CHECK(strcmp(opes_header_event_name(OPES_HEADER_EV_NONE), "none") == 0);
    CHECK(strcmp(opes_header_event_name(OPES_HEADER_EV_ERROR), "error") == 0);
    CHECK(opes_header_event_name(9) == NULL);
}

/* A failing allocator: _new gives a clean OPES_ENOMEM. */
static int fail_alloc_calls;
static void *fail_alloc(void *user, size_t n)
{
    (void)user;
    (void)n;
    fail_alloc_calls++;
    return NULL;
}
static size_t counted_bytes;
static void *count_alloc(void *user, size_t n)
{
    (void)user;
    counted_bytes += n;
    return malloc(n);
}
static void count_free(void *user, void *p, size_t n)
{
    (void)user;
    counted_bytes -= n;
    free(p);
}

static void test_scanner_alloc(void)
{
    opes_allocator bad = {fail_alloc, NULL, NULL, NULL};
    opes_allocator good = {count_alloc, NULL, count_free, NULL};
    opes_header_scanner *s = (opes_header_scanner *)&s;
    CHECK_ST(opes_header_scanner_new(&s, &bad), OPES_ENOMEM);
    CHECK(s == NULL);
    CHECK_EQ(fail_alloc_calls, 1);
    CHECK_ST(opes_header_scanner_new(NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_header_scanner_new(&s, &good), OPES_OK);
    CHECK(counted_bytes > 0);
    opes_header_scanner_free(s);
    CHECK_EQ(counted_bytes, 0);
}

/* A long field fed one byte at a time costs what it costs at once: the
 * scanner resumes where it stopped (a peer dribbling bytes cannot make it
 * quadratic). Counted as a bound on time by the sanitizer run's timeout
 * only; here the result must simply be right. */
static void test_scanner_dribble(void)
{
    size_t n = 60000;
    char *m = malloc(n + 16);
    opes_header_scanner *s = NULL;
    opes_header_event ev;
    size_t used = 0, have;
    opes_status r = OPES_INCOMPLETE;
    memcpy(m, "X: ", 3);
    for (size_t i = 3; i < n; i++)
        m[i] = (i % 900 == 0) ? '\r' : (i % 900 == 1) ? '\n' : (i % 900 == 2) ? ' ' : 'y';
    memcpy(m + n, "\r\n\r\n", 4);
    CHECK_ST(opes_header_scanner_new(&s, NULL), OPES_OK);
    for (have = 1; have <= n + 4; have++) {
        r = opes_header_scan(s, m, have, 0, &used, &ev);
        if (r != OPES_INCOMPLETE)
            break;
    }
    CHECK_ST(r, OPES_OK);
    CHECK_EQ(have, n + 3); /* the first byte of the empty line ends the field */
    CHECK_EQ(used, n + 2);
    CHECK_EQ(ev.field.lines, 67);
    opes_header_scanner_free(s);
    free(m);
}

/* Prepending a trace field needs neither the body nor a copy of the
 * message: the new field is written first, the original bytes follow as
 * they are. Scanning the result shows the new field on top. */
static void test_prepend(void)
{
    static const char value[] =
        "from client.example.net (client.example.net [192.0.2.7]) by mx.example.org "
        "(OPES) with ESMTPS id 4Xk2Lq0Zs9z9sRk for <user@example.org>; Tue, 2 Jan 2024 "
        "10:15:32 +0000";
    char top[512];
    size_t tl = 0, n;
    char *msg = debian_message(1, 0, &n);
    CHECK_ST(
        opes_header_field_build(top, sizeof top, &tl, "Received", 8, value, sizeof value - 1, 0),
        OPES_OK);
    /* the stream is two pieces: top[] and msg[], never joined by the
     * library; here joined only to drive the check */
    char *all = malloc(tl + n);
    memcpy(all, top, tl);
    memcpy(all + tl, msg, n);
    tlog t = {0};
    size_t cut = tl;
    drive(all, tl + n, &cut, 1, NULL, &t);
    tlog want = {0};
    lputs(&want, "F 0 Received|");
    lputs(&want, value);
    lputs(&want, "|");
    size_t lines = 0;
    for (size_t i = 0; i < tl; i++)
        lines += top[i] == '\n';
    lnum(&want, lines);
    lputs(&want, "|0\n");
    CHECK(t.n > want.n && memcmp(t.p, want.p, want.n) == 0);
    char end[64];
    snprintf(end, sizeof end, "E %zu empty %zu\n", tl + n - (sizeof debian_body - 1),
             (size_t)DEBIAN_N + 1);
    CHECK(t.n >= strlen(end) && strcmp(t.p + t.n - strlen(end), end) == 0);
    free(want.p);
    free(t.p);
    free(all);
    free(msg);
}

/* ---- unfold ---------------------------------------------------------------- */

static void test_unfold(void)
{
    char u[64];
    size_t ul = 0;
    /* RFC 5322 2.2.3: remove any CRLF immediately followed by WSP */
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, " This\r\n is a test", 17), OPES_OK);
    CHECK_MEM(u, ul, "This is a test", 14);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, "a\r\n\r\n b", 7), OPES_EBAD_HEADER);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, "a\r\nb", 4), OPES_EBAD_HEADER);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, "a\r\n", 3), OPES_EBAD_HEADER);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, "a\r b", 4), OPES_EBARE_CR);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, "a\r", 2), OPES_EBARE_CR);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, "\r\n a \n\tb\t \r\n ", 13), OPES_OK);
    CHECK_MEM(u, ul, "a \tb", 4);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, " \t ", 3), OPES_OK);
    CHECK_EQ(ul, 0);
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, NULL, 0), OPES_OK);
    CHECK_EQ(ul, 0);
    /* size query and a short buffer */
    CHECK_ST(opes_header_unfold(NULL, 0, &ul, " This\r\n is a test", 17), OPES_ENOSPC);
    CHECK_EQ(ul, 14);
    CHECK_ST(opes_header_unfold(u, 13, &ul, " This\r\n is a test", 17), OPES_ENOSPC);
    CHECK_EQ(ul, 14);
    CHECK_ST(opes_header_unfold(u, 14, &ul, " This\r\n is a test", 17), OPES_OK);
    CHECK_ST(opes_header_unfold(NULL, 3, &ul, "a", 1), OPES_EINVAL);
    CHECK_ST(opes_header_unfold(u, 3, NULL, "a", 1), OPES_EINVAL);
    CHECK_ST(opes_header_unfold(u, 3, &ul, NULL, 1), OPES_EINVAL);
}

/* ---- builder ---------------------------------------------------------------- */

static void build_expect(const char *name, const char *value, unsigned flags, const char *want)
{
    char out[4096];
    size_t n = 0, q = 0;
    size_t nl = strlen(name), vl = strlen(value);
    const char *gn = guarded_copy(name, nl), *gv = guarded_copy(value, vl);
    CHECK_ST(opes_header_field_build(NULL, 0, &q, gn, nl, gv, vl, flags), OPES_ENOSPC);
    CHECK_ST(opes_header_field_build(out, sizeof out, &n, gn, nl, gv, vl, flags), OPES_OK);
    CHECK_EQ(q, n);
    CHECK_MEM(out, n, want, strlen(want));
    if (n > 0) {
        size_t m = 0;
        CHECK_ST(opes_header_field_build(out, n - 1, &m, gn, nl, gv, vl, flags), OPES_ENOSPC);
        CHECK_EQ(m, n);
    }
    guarded_free(gn);
    guarded_free(gv);
}

static opes_status build_status(const char *name, size_t nl, const char *value, size_t vl,
                                unsigned flags)
{
    char out[4096];
    size_t n = 0;
    return opes_header_field_build(out, sizeof out, &n, name, nl, value, vl, flags);
}

/* Build, then read back with the scanner: one field, the same name, and
 * the value back by unfolding (less its leading and trailing WSP); every
 * line within 998 octets, none made of WSP only, no bare CR or LF. */
static void build_roundtrip_n(const char *name, const char *value, size_t vl, unsigned flags)
{
    static char out[8192];
    size_t n = 0, nl = strlen(name);
    opes_status r = opes_header_field_build(out, sizeof out, &n, name, nl, value, vl, flags);
    CHECK_ST(r, OPES_OK);
    if (r != OPES_OK)
        return;
    int lf = (flags & OPES_HEADER_LF) != 0;
    size_t ls = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '\r')
            CHECK(!lf && i + 1 < n && out[i + 1] == '\n');
        if (out[i] == '\n') {
            size_t e = lf ? i : i - 1;
            CHECK(lf || (i > 0 && out[i - 1] == '\r'));
            CHECK(e - ls <= 998);
            int only_wsp = 1;
            for (size_t k = ls; k < e; k++)
                only_wsp &= out[k] == ' ' || out[k] == '\t';
            CHECK(!only_wsp || e == ls);
            ls = i + 1;
        }
    }
    CHECK_EQ(ls, n);
    opes_header_field f;
    size_t used = 0;
    unsigned pf = (lf ? OPES_HEADER_LF : 0) | (flags & OPES_HEADER_UTF8);
    CHECK_ST(opes_header_field_parse(out, n, pf, 1, &f, &used), OPES_OK);
    CHECK_EQ(used, n);
    CHECK_MEM(f.name.ptr, f.name.len, name, nl);
    char u[8192];
    size_t ul = 0, a = 0, z = vl;
    while (a < z && (value[a] == ' ' || value[a] == '\t'))
        a++;
    while (z > a && (value[z - 1] == ' ' || value[z - 1] == '\t'))
        z--;
    CHECK_ST(opes_header_unfold(u, sizeof u, &ul, f.raw.ptr, f.raw.len), OPES_OK);
    CHECK_MEM(u, ul, value + a, z - a);
}

static void build_roundtrip(const char *name, const char *value, unsigned flags)
{
    build_roundtrip_n(name, value, strlen(value), flags);
}

static void test_build(void)
{
    build_expect("Subject", "This is a test", 0, "Subject: This is a test\r\n");
    build_expect("Subject", "This is a test", OPES_HEADER_LF, "Subject: This is a test\n");
    build_expect("Subject", "", 0, "Subject:\r\n");
    /* RFC 5322 2.2.3 note: fold after the comma of a comma-separated list;
     * the line is 76 characters, the next item would make it 92 */
    build_expect("To",
                 "alice@example.org, bob@example.org, carol@example.org, dave@example.org, "
                 "eve@example.org",
                 0,
                 "To: alice@example.org, bob@example.org, carol@example.org, dave@example.org,\r\n"
                 " eve@example.org\r\n");
    /* after a comma in preference to a later place that also fits */
    build_expect("X-Test",
                 "first item, then a long run of words that goes past the seventy-eight column "
                 "mark",
                 0,
                 "X-Test: first item,\r\n then a long run of words that goes past the "
                 "seventy-eight column mark\r\n");
    /* no comma: the last place within 78 characters */
    build_expect("Subject",
                 "Re: Proposal: drop i386 from the default architecture list for the next release "
                 "of Debian",
                 0,
                 "Subject: Re: Proposal: drop i386 from the default architecture list for the\r\n"
                 " next release of Debian\r\n");
    {
        /* exactly 78 characters: no fold; 79: fold */
        char v[200], w[300];
        memset(v, 'a', 66);
        memcpy(v + 66, " bb", 4);
        snprintf(w, sizeof w, "Subject: %s\r\n", v);
        CHECK_EQ(strlen(w), 78 + 2);
        build_expect("Subject", v, 0, w);
        memcpy(v + 66, " bbb", 5);
        v[66] = 0;
        snprintf(w, sizeof w, "Subject: %s\r\n bbb\r\n", v);
        v[66] = ' ';
        build_expect("Subject", v, 0, w);
        /* a word too long for 78 characters: the first place after it */
        memset(v, 'a', 84);
        memcpy(v + 84, " b c", 5);
        memcpy(w, "X-Long: ", 8);
        memset(w + 8, 'a', 84);
        memcpy(w + 92, "\r\n b c\r\n", 9);
        build_expect("X-Long", v, 0, w);
        /* a fold goes before the first WSP of a run, and never before a
         * trailing run: no WSP-only line, no line ending in WSP by a fold */
        v[0] = 'a';
        memset(v + 1, ' ', 100);
        memcpy(v + 101, "b   ", 5);
        memcpy(w, "X-Ws: a\r\n", 9);
        memset(w + 9, ' ', 100);
        memcpy(w + 109, "b   \r\n", 7);
        build_expect("X-Ws", v, 0, w);
    }
    /* RFC 6532 3.4: 78 characters, not octets */
    build_expect(
        "X",
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        " \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
        OPES_HEADER_UTF8,
        "X: \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        " \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\r\n");

    /* 998: "X: " and 995 octets is a line of 998; 996 is over */
    static char v[1200];
    memset(v, 'v', sizeof v);
    CHECK_ST(build_status("X", 1, v, 995, 0), OPES_OK);
    CHECK_ST(build_status("X", 1, v, 996, 0), OPES_EHEADER_LINE_TOO_LONG);
    v[995] = ' ';
    CHECK_ST(build_status("X", 1, v, 1100, 0), OPES_OK); /* folded at 995 */
    v[995] = 'v';
    v[5] = ' ';
    CHECK_ST(build_status("X", 1, v, 1100, 0), OPES_EHEADER_LINE_TOO_LONG); /* 1094 after */
    v[5] = 'v';
    static char nm[1000];
    memset(nm, 'N', sizeof nm);
    CHECK_ST(build_status(nm, 997, "", 0, 0), OPES_OK); /* "N...N:" 998 */
    CHECK_ST(build_status(nm, 998, "", 0, 0), OPES_EHEADER_LINE_TOO_LONG);
    CHECK_ST(build_status(nm, 995, "x", 1, 0), OPES_OK);
    CHECK_ST(build_status(nm, 996, "x", 1, 0), OPES_EHEADER_LINE_TOO_LONG);

    /* refusals */
    CHECK_ST(build_status("Subject", 7, "a\r\nBcc: x", 9, 0), OPES_EINJECT);
    CHECK_ST(build_status("Subject", 7, "a\nb", 3, 0), OPES_EINJECT);
    CHECK_ST(build_status("Subject", 7, "a\rb", 3, 0), OPES_EINJECT);
    CHECK_ST(build_status("Subject", 7, "a\0b", 3, 0), OPES_EINJECT);
    CHECK_ST(build_status("Subj\r\nX", 7, "a", 1, 0), OPES_EINJECT);
    CHECK_ST(build_status("Subj\0", 5, "a", 1, 0), OPES_EINJECT);
    CHECK_ST(build_status("Subject", 7, "a\x01", 2, 0), OPES_EBAD_CHAR);
    CHECK_ST(build_status("Subject", 7, "a\x7f", 2, 0), OPES_EBAD_CHAR);
    CHECK_ST(build_status("Subject", 7, "a\tb", 3, 0), OPES_OK);
    CHECK_ST(build_status("Subject", 7, "caf\xc3\xa9", 5, 0), OPES_EBAD_CHAR);
    CHECK_ST(build_status("Subject", 7, "caf\xc3\xa9", 5, OPES_HEADER_UTF8), OPES_OK);
    CHECK_ST(build_status("Subject", 7, "caf\xc3", 4, OPES_HEADER_UTF8), OPES_EBAD_UTF8);
    CHECK_ST(build_status("Subject", 7, "caf\xe9", 4, OPES_HEADER_UTF8), OPES_EBAD_UTF8);
    CHECK_ST(build_status("", 0, "a", 1, 0), OPES_EBAD_HEADER_NAME);
    CHECK_ST(build_status("Sub ject", 8, "a", 1, 0), OPES_EBAD_HEADER_NAME);
    CHECK_ST(build_status("Subject:", 8, "a", 1, 0), OPES_EBAD_HEADER_NAME);
    CHECK_ST(build_status("Subj\xc3\xa9", 6, "a", 1, OPES_HEADER_UTF8), OPES_EBAD_HEADER_NAME);
    CHECK_ST(build_status("Subject", 7, "a", 1, OPES_HEADER_8BIT), OPES_EINVAL);
    CHECK_ST(build_status(NULL, 3, "a", 1, 0), OPES_EINVAL);
    CHECK_ST(build_status("X", 1, NULL, 1, 0), OPES_EINVAL);
    {
        size_t n;
        CHECK_ST(opes_header_field_build(NULL, 5, &n, "X", 1, "a", 1, 0), OPES_EINVAL);
        CHECK_ST(opes_header_field_build(NULL, 0, NULL, "X", 1, "a", 1, 0), OPES_EINVAL);
    }

    /* round trips through the scanner */
    build_roundtrip("To",
                    "alice@example.org, bob@example.org, carol@example.org, dave@example.org, "
                    "eve@example.org, frank@example.org, grace@example.org",
                    0);
    build_roundtrip("X-Ws", "  lead   and   trail  ", 0);
    build_roundtrip("X-Ws", "\t \t", OPES_HEADER_LF);
    build_roundtrip("X-Utf8",
                    "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                    "e",
                    OPES_HEADER_UTF8);
    {
        /* a long Received-like value, folded many times; all tokens */
        static char lv[3000];
        size_t n = 0;
        uint32_t seed = 7;
        while (n < sizeof lv - 20) {
            seed = seed * 1103515245u + 12345u;
            size_t w = 1 + (seed >> 16) % 30;
            for (size_t i = 0; i < w; i++)
                lv[n++] = (char)('a' + (i % 26));
            seed = seed * 1103515245u + 12345u;
            lv[n++] = (seed >> 16) % 5 == 0 ? ',' : ';';
            seed = seed * 1103515245u + 12345u;
            size_t sp = 1 + (seed >> 16) % 3;
            for (size_t i = 0; i < sp; i++)
                lv[n++] = (seed >> 20) % 2 ? ' ' : '\t';
        }
        build_roundtrip_n("X-Many", lv, n, 0);
        build_roundtrip_n("X-Many", lv, n, OPES_HEADER_LF);
    }
}

/* ---- --emit: material for tests/t_header.py -------------------------------- */

static void hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)p[i]);
    if (n == 0)
        printf("-");
}

static int emit(void)
{
    static const struct {
        const char *name, *value;
        unsigned flags;
    } cases[] = {
        {"Subject", "This is a test", 0},
        {"To",
         "alice@example.org, bob@example.org, carol@example.org, dave@example.org, "
         "eve@example.org, frank@example.org, grace@example.org, heidi@example.org",
         0},
        {"X-Test",
         "first item, then a long run of words that goes past the seventy-eight column mark", 0},
        {"Subject",
         "Re: Proposal: drop i386 from the default architecture list for the next release of "
         "Debian, and what it means for the installer images and the ports",
         OPES_HEADER_LF},
        {"X-Ws", "  lead   and   trail", 0},
        {"X-Tabs",
         "one\ttwo\t\tthree\t four five six seven eight nine ten eleven twelve thirteen "
         "fourteen",
         0},
        {"X-Utf8",
         "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
         "e \xe2\x80\x94 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
         OPES_HEADER_UTF8},
        {"Received",
         "from client.example.net (client.example.net [192.0.2.7]) by mx.example.org (OPES) "
         "with ESMTPS id 4Xk2Lq0Zs9z9sRk for <user@example.org>; Tue, 2 Jan 2024 10:15:32 +0000",
         0},
    };
    char out[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 0;
        opes_status r =
            opes_header_field_build(out, sizeof out, &n, cases[i].name, strlen(cases[i].name),
                                    cases[i].value, strlen(cases[i].value), cases[i].flags);
        if (r != OPES_OK)
            return 1;
        printf("B ");
        hex(cases[i].name, strlen(cases[i].name));
        printf(" ");
        hex(cases[i].value, strlen(cases[i].value));
        printf(" %u ", cases[i].flags);
        hex(out, n);
        printf("\n");
    }
    /* the Debian message: the scanner's fields, for Python to compare */
    size_t n;
    char *msg = debian_message(1, 0, &n);
    opes_header_scanner *s = NULL;
    if (opes_header_scanner_new(&s, NULL) != OPES_OK)
        return 1;
    printf("S ");
    hex(msg, n);
    printf("\n");
    for (size_t pos = 0;;) {
        size_t used;
        opes_header_event ev;
        if (opes_header_scan(s, msg + pos, n - pos, 1, &used, &ev) != OPES_OK)
            return 1;
        pos += used;
        if (ev.type == OPES_HEADER_EV_END) {
            printf("E %llu\n", (unsigned long long)ev.offset);
            break;
        }
        printf("F ");
        hex(ev.field.name.ptr, ev.field.name.len);
        printf(" ");
        hex(ev.field.raw.ptr, ev.field.raw.len);
        printf("\n");
    }
    opes_header_scanner_free(s);
    free(msg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--emit") == 0)
        return emit();
    test_field_parse();
    test_line_limit();
    test_unfold();
    test_build();
    test_scanner_small();
    test_scanner_limits();
    test_scanner_alloc();
    test_scanner_dribble();
    test_prepend();
    test_debian();
    fprintf(stderr, "(%lu split runs)\n", split_runs);
    return TEST_END();
}
