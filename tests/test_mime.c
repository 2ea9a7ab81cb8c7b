/* MIME (RFC 2045, RFC 2046): Content-Type, parameters and
 * Content-Transfer-Encoding; the walker on real-world shaped messages and
 * under every split; the base64 and quoted-printable decoders against
 * RFC 4648 section 10 and under random splits.
 *
 * Driver modes for tests/t_mime.py (Python's email, base64 and quopri are
 * the independent readers there):
 *   --walk FILE [lf]   walk FILE, print the part tree and decoded leaves
 *   --decode CTE SEED  decode stdin in pieces, print the output as hex */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>

/* ---- a log of walker events, data events joined -------------------------- */

static void lfmt(tlog *l, const char *fmt, unsigned long long a, unsigned long long b,
                 unsigned long long c)
{
    char t[128];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* the formats are literals below */
    snprintf(t, sizeof t, fmt, a, b, c);
#pragma GCC diagnostic pop
    lputs(l, t);
}

static void lhex(tlog *l, const char *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char t[2] = {hx[(unsigned char)p[i] >> 4], hx[(unsigned char)p[i] & 15]};
        lput(l, t, 2);
    }
}

#define MAXP 64
typedef struct walk_res {
    tlog log;         /* every event, data events joined */
    opes_status st;   /* the last status (OPES_OK after END) */
    uint64_t err_off; /* ERROR: its offset */
    size_t nparts;
    struct {
        size_t depth;
        int kind, cte;
        unsigned flags, end_flags;
        char type[64], charset[48], boundary[80];
        tlog body;    /* raw body bytes */
        tlog decoded; /* decoded */
        opes_mime_decoder dec;
    } part[MAXP];
} walk_res;

/* Walk msg[0..n): split 0 whole, 1 byte by byte, else an LCG seed for
 * random piece sizes. Each call gets a fresh exact-size copy of the
 * unconsumed bytes (a read past them faults under ASan). */
static void walk(const char *msg, size_t n, unsigned flags, size_t depth_lim, size_t parts_lim,
                 uint32_t split, walk_res *res)
{
    opes_mime_walker *w = NULL;
    size_t consumed = 0, arrived = 0;
    int last = -1; /* the data event type being joined */
    memset(res, 0, sizeof *res);
    if (opes_mime_walker_new(&w, NULL) != OPES_OK)
        abort();
    CHECK_ST(opes_mime_walker_set_flags(w, flags), OPES_OK);
    if (depth_lim)
        CHECK_ST(opes_mime_walker_set_limit(w, OPES_MIME_LIMIT_DEPTH, depth_lim), OPES_OK);
    if (parts_lim)
        CHECK_ST(opes_mime_walker_set_limit(w, OPES_MIME_LIMIT_PARTS, parts_lim), OPES_OK);
    for (int guard = 0; guard < 10000000; guard++) {
        size_t len = arrived - consumed, used = 99;
        int eof = arrived == n;
        opes_mime_event ev;
        char *chunk = malloc(len ? len : 1);
        opes_status r;
        if (!chunk)
            abort();
        memcpy(chunk, msg + consumed, len);
        r = opes_mime_walk(w, chunk, len, eof, &used, &ev);
        if (used > len)
            abort();
        if (r == OPES_INCOMPLETE) {
            free(chunk);
            if (eof || used != 0) {
                CHECK(0);
                break;
            }
            if (split == 0)
                arrived = n;
            else if (split == 1)
                arrived++;
            else {
                split = split * 1103515245u + 12345u;
                arrived += 1 + (split >> 16) % 97;
            }
            if (arrived > n)
                arrived = n;
            continue;
        }
        res->st = r;
        if (ev.type == OPES_MIME_EV_BODY || ev.type == OPES_MIME_EV_PREAMBLE ||
            ev.type == OPES_MIME_EV_EPILOGUE) {
            size_t id = ev.part.id;
            if (ev.offset != consumed || ev.data.len != used || ev.data.len == 0)
                CHECK(0);
            if (last != ev.type) {
                lputs(&res->log, opes_mime_event_name(ev.type));
                lfmt(&res->log, " %llu %llu ", ev.depth, ev.offset, 0);
                last = ev.type;
            }
            lhex(&res->log, ev.data.ptr, ev.data.len);
            if (ev.type == OPES_MIME_EV_BODY && id >= 1 && id <= MAXP) {
                char out[4096];
                size_t off = 0;
                lput(&res->part[id - 1].body, ev.data.ptr, ev.data.len);
                while (off < ev.data.len) {
                    size_t iu = 0, ol = 0;
                    opes_mime_decode(&res->part[id - 1].dec, ev.data.ptr + off, ev.data.len - off,
                                     0, out, sizeof out, &iu, &ol);
                    lput(&res->part[id - 1].decoded, out, ol);
                    off += iu;
                }
            }
            consumed += used;
            free(chunk);
            continue;
        }
        if (last != -1)
            lputs(&res->log, "\n");
        last = -1;
        lputs(&res->log, opes_mime_event_name(ev.type));
        lfmt(&res->log, " %llu %llu", ev.depth, ev.offset, 0);
        if (ev.type == OPES_MIME_EV_HEADER) {
            if (ev.field.offset != consumed || used != ev.field.whole.len)
                CHECK(0);
            lputs(&res->log, " ");
            lput(&res->log, ev.field.name.ptr, ev.field.name.len);
        } else if (ev.type == OPES_MIME_EV_PART) {
            const opes_mime_part *p = &ev.part;
            lfmt(&res->log, " id=%llu idx=%llu kind=%llu ", p->id, p->index,
                 (unsigned long long)p->kind);
            lput(&res->log, p->type.ptr, p->type.len);
            lputs(&res->log, "/");
            lput(&res->log, p->subtype.ptr, p->subtype.len);
            lfmt(&res->log, " cte=%llu flags=%llu body=%llu", (unsigned long long)p->cte, p->flags,
                 p->body_offset);
            lputs(&res->log, " b=");
            lput(&res->log, p->boundary.ptr, p->boundary.len);
            if (p->id >= 1 && p->id <= MAXP) {
                size_t k = p->id - 1;
                res->nparts = p->id;
                res->part[k].depth = p->depth;
                res->part[k].kind = p->kind;
                res->part[k].cte = p->cte;
                res->part[k].flags = p->flags;
                snprintf(res->part[k].type, sizeof res->part[k].type, "%.*s/%.*s", (int)p->type.len,
                         p->type.ptr, (int)p->subtype.len, p->subtype.ptr);
                snprintf(res->part[k].charset, sizeof res->part[k].charset, "%.*s",
                         (int)p->charset.len, p->charset.ptr);
                snprintf(res->part[k].boundary, sizeof res->part[k].boundary, "%.*s",
                         (int)p->boundary.len, p->boundary.ptr);
                opes_mime_decoder_init(&res->part[k].dec, p->cte);
            }
        } else if (ev.type == OPES_MIME_EV_DELIMITER) {
            if (ev.data.len != used)
                CHECK(0);
            lfmt(&res->log, " id=%llu close=%llu len=%llu", ev.part.id,
                 (unsigned long long)ev.close, used);
        } else if (ev.type == OPES_MIME_EV_END_PART) {
            lfmt(&res->log, " id=%llu flags=%llu", ev.part.id, ev.part.flags, 0);
            if (ev.part.id >= 1 && ev.part.id <= MAXP) {
                size_t k = ev.part.id - 1, iu = 0, ol = 0;
                char out[64];
                res->part[k].end_flags = ev.part.flags;
                opes_mime_decode(&res->part[k].dec, NULL, 0, 1, out, sizeof out, &iu, &ol);
                lput(&res->part[k].decoded, out, ol);
            }
        } else if (ev.type == OPES_MIME_EV_ERROR) {
            lputs(&res->log, " ");
            lputs(&res->log, opes_status_name(r));
            res->err_off = ev.offset;
        }
        lputs(&res->log, "\n");
        consumed += used;
        free(chunk);
        if (ev.type == OPES_MIME_EV_END || ev.type == OPES_MIME_EV_ERROR || r < 0) {
            size_t u2 = 7;
            opes_mime_event ev2;
            opes_status r2 = opes_mime_walk(w, "x", 1, 1, &u2, &ev2);
            if (ev.type == OPES_MIME_EV_END)
                CHECK(r2 == OPES_ESTATE && consumed == n);
            else
                CHECK(r2 == r && ev2.offset == ev.offset);
            break;
        }
    }
    opes_mime_walker_free(w);
}

static void walk_free(walk_res *r)
{
    free(r->log.p);
    for (size_t i = 0; i < MAXP; i++) {
        free(r->part[i].body.p);
        free(r->part[i].decoded.p);
    }
}

/* Walk whole, byte by byte and in random pieces: the same log; returns
 * the whole run. */
static void walk_all(const char *msg, unsigned flags, size_t dl, size_t pl, walk_res *whole)
{
    size_t n = strlen(msg);
    walk(msg, n, flags, dl, pl, 0, whole);
    for (uint32_t s = 1; s < 12; s++) {
        walk_res o;
        walk(msg, n, flags, dl, pl, s, &o);
        CHECK_ST(o.st, whole->st);
        if (o.log.n != whole->log.n || memcmp(o.log.p, whole->log.p, o.log.n) != 0) {
            CHECK(0);
            fprintf(stderr, "split %u:\n%s\nwhole:\n%s\n", s, o.log.p, whole->log.p);
        } else {
            CHECK(1);
        }
        walk_free(&o);
    }
}

#define PART(r, i) ((r).part[(i)-1])

/* ---- Content-Type, parameters, Content-Transfer-Encoding ---------------- */

static void test_content_type(void)
{
    opes_mime_content_type ct;
    opes_mime_param p;
    char v[128];
    size_t n = 0, pos = 0;
    const char *s = " multipart/report (a comment) ;\r\n report-type=delivery-status;"
                    "\r\n\tBoundary=\"=_a \\\"b\\\" c\" ; x=y";
    CHECK_ST(opes_mime_content_type_parse(s, strlen(s), &ct), OPES_OK);
    CHECK_STR(ct.type, "multipart");
    CHECK_STR(ct.subtype, "report");
    CHECK_ST(opes_mime_param_next(ct.params.ptr, ct.params.len, &pos, &p), OPES_OK);
    CHECK_STR(p.name, "report-type");
    CHECK_STR(p.value, "delivery-status");
    CHECK_ST(opes_mime_param_next(ct.params.ptr, ct.params.len, &pos, &p), OPES_OK);
    CHECK_STR(p.name, "Boundary");
    CHECK(p.quoted);
    CHECK_ST(opes_mime_param_value(&p, v, sizeof v, &n), OPES_OK);
    CHECK_MEM(v, n, "=_a \"b\" c", 9);
    CHECK_ST(opes_mime_param_value(&p, NULL, 0, &n), OPES_ENOSPC);
    CHECK_EQ(n, 9);
    CHECK_ST(opes_mime_param_next(ct.params.ptr, ct.params.len, &pos, &p), OPES_OK);
    CHECK_STR(p.name, "x");
    CHECK_ST(opes_mime_param_next(ct.params.ptr, ct.params.len, &pos, &p), OPES_ENOTFOUND);
    CHECK_ST(opes_mime_param_find(ct.params.ptr, ct.params.len, "BOUNDARY", &p), OPES_OK);
    CHECK(p.quoted);
    CHECK_ST(opes_mime_param_find(ct.params.ptr, ct.params.len, "charset", &p), OPES_ENOTFOUND);
    /* comments around the slash (RFC 2045 5.1 allows CFWS between tokens) */
    s = "text (plain follows) / plain;charset=UTF-8;";
    CHECK_ST(opes_mime_content_type_parse(s, strlen(s), &ct), OPES_OK);
    CHECK_STR(ct.subtype, "plain");
    CHECK_ST(opes_mime_param_find(ct.params.ptr, ct.params.len, "CHARSET", &p), OPES_OK);
    CHECK_STR(p.value, "UTF-8");
    /* malformed */
    static const char *const bad[] = {"text",         "text/",      "/plain",
                                      "te xt/plain",  "text/pl@in", "text/plain x",
                                      "text/plain (", "",           "text/plain\r\nx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_ST(opes_mime_content_type_parse(bad[i], strlen(bad[i]), &ct), OPES_EBAD_MIME);
    static const char *const badp[] = {"; a", "; a=", "; a=\"x", "; =x", "; a=b c", "x"};
    for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++) {
        pos = 0;
        CHECK_ST(opes_mime_param_next(badp[i], strlen(badp[i]), &pos, &p), OPES_EBAD_MIME);
    }
    CHECK_ST(opes_mime_content_type_parse(NULL, 1, &ct), OPES_EINVAL);
    /* RFC 2231 names are kept with their stars */
    s = "; title*0*=us-ascii'en'This%20is; title*1*=%20fun";
    pos = 0;
    CHECK_ST(opes_mime_param_next(s, strlen(s), &pos, &p), OPES_OK);
    CHECK_STR(p.name, "title*0*");
    CHECK_STR(p.value, "us-ascii'en'This%20is");

    int cte = -1;
    CHECK_ST(opes_mime_cte_parse(" Base64 ", 8, &cte), OPES_OK);
    CHECK_EQ(cte, OPES_MIME_CTE_BASE64);
    CHECK_ST(opes_mime_cte_parse("(c) quoted-printable", 20, &cte), OPES_OK);
    CHECK_EQ(cte, OPES_MIME_CTE_QP);
    CHECK_ST(opes_mime_cte_parse("x-uuencode", 10, &cte), OPES_OK);
    CHECK_EQ(cte, OPES_MIME_CTE_UNKNOWN);
    CHECK_ST(opes_mime_cte_parse("7bit 8bit", 9, &cte), OPES_EBAD_MIME);
    CHECK_ST(opes_mime_cte_parse("", 0, &cte), OPES_EBAD_MIME);
    CHECK(strcmp(opes_mime_cte_name(OPES_MIME_CTE_QP), "quoted-printable") == 0);
    CHECK(opes_mime_cte_name(7) == NULL);
    CHECK(strcmp(opes_mime_event_name(OPES_MIME_EV_DELIMITER), "delimiter") == 0);
    CHECK(opes_mime_event_name(10) == NULL);
}

/* ---- the walker ------------------------------------------------------------ */

static const char msg_nested[] = "From: a@example.org\r\n"
                                 "MIME-Version: 1.0\r\n"
                                 "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                                 "\r\n"
                                 "This is a multi-part message in MIME format.\r\n"
                                 "--outer\r\n"
                                 "Content-Type: multipart/alternative;\r\n boundary=inner\r\n"
                                 "\r\n"
                                 "--inner\r\n"
                                 "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
                                 "Content-Transfer-Encoding: quoted-printable\r\n"
                                 "\r\n"
                                 "Caf=C3=A9 au lait=\r\n, s'il vous pla=C3=AEt.\r\n"
                                 "--inner\r\n"
                                 "Content-Type: text/html; charset=UTF-8\r\n"
                                 "\r\n"
                                 "<p>Caf\xc3\xa9</p>\r\n"
                                 "\r\n"
                                 "--inner--\r\n"
                                 "--outer \t\r\n" /* transport padding */
                                 "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
                                 "Content-Transfer-Encoding: base64\r\n"
                                 "\r\n"
                                 "AAEC/f7/\r\n"
                                 "Zm9vYmFy\r\n"
                                 "--outer--\r\n"
                                 "epilogue\r\n";

static void test_nested(void)
{
    walk_res r;
    walk_all(msg_nested, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 5);
    CHECK(strcmp(PART(r, 1).type, "multipart/mixed") == 0);
    CHECK(strcmp(PART(r, 1).boundary, "outer") == 0);
    CHECK(strcmp(PART(r, 2).type, "multipart/alternative") == 0);
    CHECK_EQ(PART(r, 2).depth, 1);
    CHECK(strcmp(PART(r, 3).type, "text/plain") == 0);
    CHECK_EQ(PART(r, 3).depth, 2);
    CHECK(strcmp(PART(r, 3).charset, "utf-8") == 0);
    CHECK_EQ(PART(r, 3).cte, OPES_MIME_CTE_QP);
    CHECK_MEM(PART(r, 3).decoded.p, PART(r, 3).decoded.n,
              "Caf\xc3\xa9 au lait, s'il vous pla\xc3\xaet.", 32);
    /* the line end before the delimiter is not the body's (RFC 2046 5.1.1) */
    CHECK_STR(((opes_str){PART(r, 4).body.p, PART(r, 4).body.n}), "<p>Caf\xc3\xa9</p>\r\n");
    CHECK(strcmp(PART(r, 5).type, "application/octet-stream") == 0);
    CHECK_EQ(PART(r, 5).depth, 1);
    CHECK_MEM(PART(r, 5).decoded.p, PART(r, 5).decoded.n,
              "\x00\x01\x02\xfd\xfe\xff"
              "foobar",
              12);
    CHECK_EQ(PART(r, 1).end_flags, 0);
    CHECK(strstr(r.log.p, "preamble 0 ") != NULL);
    CHECK(strstr(r.log.p, "epilogue 0 ") != NULL);
    /* the preamble is the text before the first delimiter's line end */
    CHECK(strstr(r.log.p, "5468697320697320") != NULL);
    CHECK(strstr(r.log.p, "delimiter 0 ") != NULL);
    CHECK(strstr(r.log.p, "close=1") != NULL);
    walk_free(&r);

    /* byte-exact: the events' bytes tile the input */
    opes_mime_walker *w;
    opes_mime_event ev;
    size_t pos = 0, n = strlen(msg_nested), used;
    char mem[sizeof(void *) * 2048] __attribute__((aligned(16)));
    CHECK(opes_mime_walker_sizeof() <= sizeof mem);
    CHECK_ST(opes_mime_walker_init_in(mem, sizeof mem, &w), OPES_OK);
    CHECK_ST(opes_mime_walker_init_in(mem, 4, &w), OPES_EINVAL);
    CHECK_ST(opes_mime_walker_init_in(mem, sizeof mem, &w), OPES_OK);
    size_t evs = 0;
    while (opes_mime_walk(w, msg_nested + pos, n - pos, 1, &used, &ev) == OPES_OK) {
        if (ev.offset != pos && ev.type != OPES_MIME_EV_END_PART && ev.type != OPES_MIME_EV_END)
            CHECK(0);
        pos += used;
        evs++;
        if (ev.type == OPES_MIME_EV_END)
            break;
    }
    CHECK_EQ(pos, n);
    CHECK(evs > 20);
    CHECK_ST(opes_mime_walker_set_flags(w, 0), OPES_ESTATE);
    CHECK_ST(opes_mime_walker_reset(w), OPES_OK);
    CHECK_ST(opes_mime_walker_set_flags(w, OPES_MIME_LF), OPES_OK);
    CHECK_ST(opes_mime_walker_set_flags(w, 1u << 9), OPES_EINVAL);
    CHECK_ST(opes_mime_walker_set_limit(w, OPES_MIME_LIMIT_DEPTH, 33), OPES_ECEILING);
    CHECK_ST(opes_mime_walker_set_limit(w, OPES_MIME_LIMIT_DEPTH, 0), OPES_EINVAL);
    CHECK_ST(opes_mime_walker_set_limit(w, 5, 1), OPES_EINVAL);
    opes_mime_walker_free(w); /* no-op: caller memory */
}

/* A DSN (RFC 3464, RFC 6522) as Postfix writes them, shortened. */
static const char msg_dsn[] = "Return-Path: <>\r\n"
                              "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
                              "Subject: Undelivered Mail Returned to Sender\r\n"
                              "MIME-Version: 1.0\r\n"
                              "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                              "\tboundary=\"4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org\"\r\n"
                              "\r\n"
                              "This is a MIME-encapsulated message.\r\n"
                              "\r\n"
                              "--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org\r\n"
                              "Content-Description: Notification\r\n"
                              "Content-Type: text/plain; charset=us-ascii\r\n"
                              "\r\n"
                              "I'm sorry to have to inform you that your message could not\r\n"
                              "be delivered to one or more recipients.\r\n"
                              "\r\n"
                              "--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org\r\n"
                              "Content-Description: Delivery report\r\n"
                              "Content-Type: message/delivery-status\r\n"
                              "\r\n"
                              "Reporting-MTA: dns; mx.example.org\r\n"
                              "\r\n"
                              "Final-Recipient: rfc822; bob@example.net\r\n"
                              "Action: failed\r\n"
                              "Status: 5.1.1\r\n"
                              "\r\n"
                              "--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org\r\n"
                              "Content-Description: Undelivered Message\r\n"
                              "Content-Type: message/rfc822\r\n"
                              "\r\n"
                              "From: alice@example.org\r\n"
                              "To: bob@example.net\r\n"
                              "Subject: hi\r\n"
                              "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
                              "\r\n"
                              "--b2\r\n"
                              "\r\n"
                              "hello\r\n"
                              "--b2--\r\n"
                              "\r\n"
                              "--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org--\r\n";

static void test_dsn(void)
{
    walk_res r;
    walk_all(msg_dsn, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 6);
    CHECK(strcmp(PART(r, 1).type, "multipart/report") == 0);
    CHECK(strcmp(PART(r, 1).boundary, "4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org") == 0);
    CHECK(strcmp(PART(r, 3).type, "message/delivery-status") == 0);
    CHECK_EQ(PART(r, 3).kind, OPES_MIME_KIND_LEAF);
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}),
              "Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; "
              "bob@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n");
    CHECK(strcmp(PART(r, 4).type, "message/rfc822") == 0);
    CHECK_EQ(PART(r, 4).kind, OPES_MIME_KIND_MESSAGE);
    CHECK(strcmp(PART(r, 5).type, "multipart/alternative") == 0);
    CHECK_EQ(PART(r, 5).depth, 2);
    CHECK_EQ(PART(r, 6).depth, 3);
    CHECK(strcmp(PART(r, 6).type, "text/plain") == 0);
    CHECK(PART(r, 6).flags & OPES_MIME_PF_DEFAULT_TYPE);
    CHECK_STR(((opes_str){PART(r, 6).body.p, PART(r, 6).body.n}), "hello");
    /* the enclosed message's epilogue is the empty line before the outer
     * delimiter; the enclosed message ends at the outer delimiter */
    CHECK_EQ(PART(r, 5).end_flags, 0);
    walk_free(&r);

    /* text/rfc822-headers (RFC 6522) and message/global (RFC 6532) */
    static const char m2[] = "Content-Type: multipart/report; report-type=delivery-status; "
                             "boundary=B\r\n"
                             "\r\n"
                             "--B\r\n"
                             "Content-Type: text/rfc822-headers\r\n"
                             "\r\n"
                             "From: a@example.org\r\nSubject: x\r\n"
                             "--B\r\n"
                             "Content-Type: message/global\r\n"
                             "Content-Transfer-Encoding: 8bit\r\n"
                             "\r\n"
                             "From: \xe5\xbc\xa0@example.cn\r\n"
                             "\r\n"
                             "body\r\n"
                             "--B\r\n"
                             "Content-Type: message/global\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "\r\n"
                             "RnJvbTogYUBiDQoNCmJvZHkNCg==\r\n"
                             "--B--\r\n";
    walk_all(m2, OPES_MIME_UTF8, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 5);
    CHECK(strcmp(PART(r, 2).type, "text/rfc822-headers") == 0);
    CHECK_EQ(PART(r, 2).kind, OPES_MIME_KIND_LEAF);
    CHECK_EQ(PART(r, 3).kind, OPES_MIME_KIND_MESSAGE);
    CHECK_EQ(PART(r, 4).depth, 2);
    CHECK_STR(((opes_str){PART(r, 4).body.p, PART(r, 4).body.n}), "body");
    CHECK_EQ(PART(r, 5).kind, OPES_MIME_KIND_LEAF);
    CHECK(PART(r, 5).flags & OPES_MIME_PF_ENCODED_MESSAGE);
    CHECK_STR(((opes_str){PART(r, 5).decoded.p, PART(r, 5).decoded.n}),
              "From: a@b\r\n\r\nbody\r\n");
    walk_free(&r);
    /* the UTF-8 header without OPES_MIME_UTF8: the header scanner refuses it */
    walk_all(m2, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_EBAD_CHAR);
    CHECK_EQ(r.err_off, strstr(m2, "\xe5") - m2);
    walk_free(&r);
}

static void test_tolerances(void)
{
    walk_res r;
    /* the inner multipart has no close-delimiter: the outer delimiter ends
     * it (RFC 2046 5.1.2); the outer one has none either: the input ends */
    static const char m1[] = "Content-Type: multipart/mixed; boundary=o\r\n"
                             "\r\n"
                             "--o\r\n"
                             "Content-Type: multipart/mixed; boundary=i\r\n"
                             "\r\n"
                             "--i\r\n"
                             "\r\n"
                             "one\r\n"
                             "--o\r\n"
                             "\r\n"
                             "two\r\n";
    walk_all(m1, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 4);
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}), "one");
    CHECK_EQ(PART(r, 3).end_flags, OPES_MIME_PF_DEFAULT_TYPE);
    CHECK(PART(r, 2).end_flags & OPES_MIME_PF_UNTERMINATED);
    CHECK(PART(r, 1).end_flags & OPES_MIME_PF_UNTERMINATED);
    CHECK_STR(((opes_str){PART(r, 4).body.p, PART(r, 4).body.n}), "two\r\n");
    walk_free(&r);

    /* a bad Content-Type: text/plain, flagged; a multipart without a
     * boundary, and with a boundary that is not bchars: leaves */
    static const char m2[] = "Content-Type: multipart/mixed; boundary=ok\r\n"
                             "\r\n"
                             "--ok\r\n"
                             "Content-Type: text/\r\n"
                             "\r\n"
                             "a\r\n"
                             "--ok\r\n"
                             "Content-Type: multipart/mixed\r\n"
                             "\r\n"
                             "--x\r\n"
                             "--ok\r\n"
                             "Content-Type: multipart/mixed; boundary=\"a<b\"\r\n"
                             "Content-Type: text/html\r\n"
                             "Content-Transfer-Encoding: 8 bit\r\n"
                             "\r\n"
                             "c\r\n"
                             "--ok\r\n"
                             "Content-Type: multipart/mixed; boundary=\"sp \"\r\n"
                             "\r\n"
                             "--ok--";
    walk_all(m2, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 5);
    CHECK(strcmp(PART(r, 2).type, "text/plain") == 0);
    CHECK_EQ(PART(r, 2).flags, OPES_MIME_PF_BAD_TYPE);
    CHECK_EQ(PART(r, 3).kind, OPES_MIME_KIND_LEAF);
    CHECK_EQ(PART(r, 3).flags, OPES_MIME_PF_NO_BOUNDARY);
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}), "--x");
    CHECK_EQ(PART(r, 4).flags,
             OPES_MIME_PF_NO_BOUNDARY | OPES_MIME_PF_DUPLICATE_FIELD | OPES_MIME_PF_BAD_CTE);
    CHECK_EQ(PART(r, 4).cte, OPES_MIME_CTE_UNKNOWN);
    CHECK_EQ(PART(r, 5).flags, OPES_MIME_PF_NO_BOUNDARY);
    CHECK_EQ(PART(r, 1).end_flags, 0); /* the close-delimiter at the end, no line end */
    walk_free(&r);

    /* multipart/digest: parts are message/rfc822 by default (RFC 2046
     * 5.1.5); a part whose header is cut by the delimiter */
    static const char m3[] = "Content-Type: multipart/digest; boundary=d\r\n"
                             "\r\n"
                             "--d\r\n"
                             "\r\n"
                             "Subject: one\r\n"
                             "\r\n"
                             "first\r\n"
                             "--d\r\n"
                             "Content-Type: text/plain\r\n"
                             "\r\n"
                             "second\r\n"
                             "--d\r\n"
                             "X-No-Body: 1\r\n"
                             "--d--\r\n";
    walk_all(m3, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 6);
    CHECK(strcmp(PART(r, 2).type, "message/rfc822") == 0);
    CHECK_EQ(PART(r, 2).flags, OPES_MIME_PF_DEFAULT_TYPE);
    CHECK_EQ(PART(r, 3).depth, 2);
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}), "first");
    CHECK(strcmp(PART(r, 4).type, "text/plain") == 0);
    CHECK(strcmp(PART(r, 5).type, "message/rfc822") == 0);
    CHECK_EQ(PART(r, 5).kind, OPES_MIME_KIND_MESSAGE);
    CHECK_EQ(PART(r, 6).depth, 2); /* its enclosed message: empty */
    CHECK_EQ(PART(r, 6).body.n, 0);
    walk_free(&r);

    /* RFC 2231: the boundary as an extended parameter (charset, language,
     * %-escapes) and in continuations, as Python's email reads it */
    static const char m5[] = "Content-Type: multipart/mixed; boundary*=us-ascii'en'a%20b\r\n"
                             "\r\n"
                             "--a b\r\n"
                             "Content-Type: multipart/alternative; boundary*1=\"de\";\r\n"
                             " boundary*0=\"abc\"; boundary*2*=f%3Dg\r\n"
                             "\r\n"
                             "--abcdef=g\r\n"
                             "\r\n"
                             "inner\r\n"
                             "--abcdef=g--\r\n"
                             "--a b--\r\n";
    walk_all(m5, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 3);
    CHECK_EQ(PART(r, 1).kind, OPES_MIME_KIND_MULTIPART);
    CHECK(strcmp(PART(r, 1).boundary, "a b") == 0);
    CHECK_EQ(PART(r, 2).kind, OPES_MIME_KIND_MULTIPART);
    CHECK(strcmp(PART(r, 2).boundary, "abcdef=g") == 0);
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}), "inner");
    CHECK_EQ(PART(r, 2).end_flags, 0);
    walk_free(&r);
    /* a plain boundary wins over an extended one; a gap in the
     * continuations ends them; a bad %-escape or a boundary over 70
     * characters is no boundary */
    walk_all("Content-Type: multipart/mixed; boundary*=''x; boundary=y\r\n\r\n--y--\r\n", 0, 0, 0,
             &r);
    CHECK(strcmp(PART(r, 1).boundary, "y") == 0);
    walk_free(&r);
    walk_all("Content-Type: multipart/mixed; boundary*0=p; boundary*2=q\r\n\r\n--p--\r\n", 0, 0, 0,
             &r);
    CHECK(strcmp(PART(r, 1).boundary, "p") == 0);
    walk_free(&r);
    walk_all("Content-Type: multipart/mixed; boundary*=''a%2\r\n\r\n--a--\r\n", 0, 0, 0, &r);
    CHECK_EQ(PART(r, 1).flags, OPES_MIME_PF_NO_BOUNDARY);
    walk_free(&r);
    walk_all("Content-Type: multipart/mixed; boundary*0=0123456789012345678901234567890123456789;"
             " boundary*1=0123456789012345678901234567890\r\n\r\n",
             0, 0, 0, &r);
    CHECK_EQ(PART(r, 1).flags, OPES_MIME_PF_NO_BOUNDARY);
    walk_free(&r);

    /* delimiter look-alikes are body: a longer boundary, junk after it */
    static const char m4[] = "Content-Type: multipart/mixed; boundary=ab\r\n"
                             "\r\n"
                             "--ab\r\n"
                             "\r\n"
                             "x\r\n--abc\r\n--ab-\r\n--ab--x\r\n-- ab\r\n"
                             "--ab--   \r\n";
    walk_all(m4, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_STR(((opes_str){PART(r, 2).body.p, PART(r, 2).body.n}),
              "x\r\n--abc\r\n--ab-\r\n--ab--x\r\n-- ab");
    CHECK_EQ(PART(r, 1).end_flags, 0);
    walk_free(&r);
}

static void test_limits_and_modes(void)
{
    walk_res r;
    char deep[4096];
    size_t n = 0;
    /* 20 levels of multipart: the default depth limit is 16 */
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n,
                              "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
    walk_all(deep, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_EMIME_TOO_DEEP);
    CHECK_EQ(PART(r, 17).depth, 16);
    CHECK_EQ(r.nparts, 17);
    walk_free(&r);
    walk_all(deep, 0, 4, 0, &r);
    CHECK_ST(r.st, OPES_EMIME_TOO_DEEP);
    CHECK_EQ(r.nparts, 5);
    /* the error is at the first byte of the entity too deep */
    CHECK_EQ(r.err_off, (strstr(deep, "--b4\r\n") - deep) + 6);
    walk_free(&r);
    /* nested messages count too */
    walk_all("Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n"
             "Content-Type: message/rfc822\r\n\r\nx",
             0, 2, 0, &r);
    CHECK_ST(r.st, OPES_EMIME_TOO_DEEP);
    walk_free(&r);

    /* the parts limit */
    walk_all(msg_nested, 0, 0, 4, &r);
    CHECK_ST(r.st, OPES_ETOO_MANY_ITEMS);
    CHECK_EQ(r.err_off, strstr(msg_nested, "Content-Type: application") - msg_nested);
    walk_free(&r);
    walk_all(msg_nested, 0, 0, 5, &r);
    CHECK_ST(r.st, OPES_OK);
    walk_free(&r);

    /* LF-only (files on Unix) */
    static const char lf[] = "Content-Type: multipart/mixed; boundary=z\n"
                             "\n"
                             "--z\n"
                             "Content-Type: text/plain\n"
                             "\n"
                             "line one\n"
                             "line two\n"
                             "--z\n"
                             "\n"
                             "three\r\n"
                             "--z--\n";
    walk_all(lf, OPES_MIME_LF, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 3);
    CHECK_STR(((opes_str){PART(r, 2).body.p, PART(r, 2).body.n}), "line one\nline two");
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}), "three");
    walk_free(&r);
    /* the same without OPES_MIME_LF: the header scanner refuses the bare LF */
    walk_all(lf, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_EBARE_LF);
    CHECK_EQ(r.err_off, strchr(lf, '\n') - lf);
    walk_free(&r);
    /* a bare LF in a multipart body, strict: refused where it is */
    static const char blf[] = "Content-Type: multipart/mixed; boundary=z\r\n"
                              "\r\n"
                              "--z\r\n"
                              "\r\n"
                              "a\nb\r\n"
                              "--z--\r\n";
    walk_all(blf, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_EBARE_LF);
    CHECK_EQ(r.err_off, strstr(blf, "a\n") - blf + 1);
    walk_free(&r);
    static const char bcr[] = "Content-Type: multipart/mixed; boundary=z\r\n"
                              "\r\n"
                              "--z\r\n"
                              "\r\n"
                              "a\rb\r\n"
                              "--z--\r\n";
    walk_all(bcr, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_EBARE_CR);
    CHECK_EQ(r.err_off, strstr(bcr, "a\r") - bcr + 1);
    walk_free(&r);
    /* Content-Transfer-Encoding: binary (RFC 2045 2.9, RFC 3030
     * BINARYMIME): CR and LF carry no line meaning, bare ones are data;
     * only CRLF can come before a delimiter. The preamble stays strict. */
    static const char bin[] = "Content-Type: multipart/mixed; boundary=z\r\n"
                              "\r\n"
                              "--z\r\n"
                              "Content-Transfer-Encoding: binary\r\n"
                              "\r\n"
                              "a\nb\rc\n--z\r\r\n--z\n\r\n"
                              "--z\r\n"
                              "\r\n"
                              "d\r\n"
                              "--z--\r\n";
    walk_all(bin, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 3);
    CHECK_STR(((opes_str){PART(r, 2).body.p, PART(r, 2).body.n}), "a\nb\rc\n--z\r\r\n--z\n");
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}), "d");
    walk_free(&r);
    walk_all("Content-Type: multipart/mixed; boundary=z\r\n\r\na\nb\r\n--z--\r\n", 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_EBARE_LF);
    walk_free(&r);
    /* a single-part message: the body is passed as is, bare LF and all */
    walk_all("Subject: x\r\n\r\na\nb\rc", 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_STR(((opes_str){PART(r, 1).body.p, PART(r, 1).body.n}), "a\nb\rc");
    walk_free(&r);
    /* no body at all (RFC 5322 3.5) */
    walk_all("Subject: x\r\n", 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 1);
    CHECK(strstr(r.log.p, "end_part 0 12 id=1") != NULL);
    walk_free(&r);
    /* a part whose header section ends at a line that is not a header
     * field, without an empty line: that line starts its body (flagged), as
     * Python's email reads it; the top-level header stays strict */
    walk_all("Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nno colon\r\n\r\n", 0, 0, 0,
             &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 2);
    CHECK_EQ(PART(r, 2).flags, OPES_MIME_PF_DEFAULT_TYPE | OPES_MIME_PF_NO_EMPTY_LINE);
    CHECK_STR(((opes_str){PART(r, 2).body.p, PART(r, 2).body.n}), "no colon\r\n\r\n");
    walk_free(&r);
    walk_all("Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n"
             "Content-Type: text/html\r\n<p>x</p>\r\n--q\r\nX-Y \t: z\r\n--qX\r\n--q\r\n"
             "\x80: 8bit\r\n--q--\r\n",
             0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 4);
    CHECK(strcmp(PART(r, 2).type, "text/html") == 0);
    CHECK_EQ(PART(r, 2).flags, OPES_MIME_PF_NO_EMPTY_LINE);
    CHECK_STR(((opes_str){PART(r, 2).body.p, PART(r, 2).body.n}), "<p>x</p>");
    CHECK_EQ(PART(r, 3).flags, OPES_MIME_PF_DEFAULT_TYPE | OPES_MIME_PF_NO_EMPTY_LINE);
    CHECK_STR(((opes_str){PART(r, 3).body.p, PART(r, 3).body.n}), "--qX");
    CHECK_STR(((opes_str){PART(r, 4).body.p, PART(r, 4).body.n}), "\x80: 8bit");
    walk_free(&r);
    /* a header error is the walker's, at its stream offset */
    walk_all("Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nX: \x01\x80\r\n\r\n", 0, 0, 0,
             &r);
    CHECK_ST(r.st, OPES_EBAD_CHAR);
    CHECK_EQ(r.err_off, 54);
    walk_free(&r);
    walk_all("no colon\r\n\r\n", 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_EBAD_HEADER);
    walk_free(&r);
    /* arguments */
    opes_mime_walker *w = NULL;
    size_t used;
    opes_mime_event ev;
    CHECK_ST(opes_mime_walker_new(NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_mime_walker_new(&w, NULL), OPES_OK);
    CHECK_ST(opes_mime_walk(w, NULL, 1, 0, &used, &ev), OPES_EINVAL);
    CHECK_ST(opes_mime_walk(w, "x", 1, 0, NULL, &ev), OPES_EINVAL);
    CHECK_ST(opes_mime_walk(w, "", 0, 0, &used, &ev), OPES_INCOMPLETE);
    opes_mime_walker_free(w);
    opes_mime_walker_free(NULL);
}

/* The caller's buffer: a body line long enough, then a delimiter line with
 * 990 octets of padding: a buffer of OPES_MIME_HOLD octets is enough. */
static void test_hold(void)
{
    static char m[8192];
    size_t n = (size_t)snprintf(m, sizeof m,
                                "Content-Type: multipart/mixed; boundary=h\r\n\r\n"
                                "--h\r\n\r\nbody\r\n--h");
    memset(m + n, ' ', 990);
    n += 990;
    n += (size_t)snprintf(m + n, sizeof m - n, "\r\n\r\nx\r\n--h--\r\n");
    walk_res r;
    walk_all(m, 0, 0, 0, &r);
    CHECK_ST(r.st, OPES_OK);
    CHECK_EQ(r.nparts, 3);
    walk_free(&r);
    /* feed with a window of OPES_MIME_HOLD bytes at most */
    opes_mime_walker *w = NULL;
    size_t pos = 0, have = 0, used;
    opes_mime_event ev;
    int ended = 0;
    CHECK_ST(opes_mime_walker_new(&w, NULL), OPES_OK);
    for (int g = 0; g < 100000 && !ended; g++) {
        opes_status st = opes_mime_walk(w, m + pos, have, pos + have == n, &used, &ev);
        if (st == OPES_INCOMPLETE) {
            if (have == OPES_MIME_HOLD || pos + have == n)
                break;
            have++;
            continue;
        }
        if (st != OPES_OK)
            break;
        pos += used;
        have -= used;
        ended = ev.type == OPES_MIME_EV_END;
    }
    CHECK(ended);
    opes_mime_walker_free(w);
    /* 999 octets of padding: the line is over 998 octets, not a delimiter */
    n = (size_t)snprintf(m, sizeof m,
                         "Content-Type: multipart/mixed; boundary=h\r\n\r\n"
                         "--h\r\n\r\nbody\r\n--h");
    memset(m + n, ' ', 996);
    n += 996;
    n += (size_t)snprintf(m + n, sizeof m - n, "\r\n--h--\r\n");
    walk_all(m, 0, 0, 0, &r);
    CHECK_EQ(r.nparts, 2);
    CHECK_EQ(PART(r, 2).body.n, 4 + 2 + 3 + 996);
    walk_free(&r);
}

/* ---- decoders ------------------------------------------------------------ */

static size_t decode_split(int cte, const char *in, size_t n, uint32_t seed, char *out, size_t cap,
                           unsigned *flags)
{
    opes_mime_decoder d;
    size_t pos = 0, o = 0, arrived = 0;
    if (opes_mime_decoder_init(&d, cte) != OPES_OK)
        abort();
    for (int g = 0; g < 1000000; g++) {
        size_t iu = 0, ol = 0, room;
        int eof;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            arrived += (seed >> 16) % 5;
        } else {
            arrived = n;
        }
        if (arrived > n)
            arrived = n;
        eof = arrived == n;
        /* at the end, room for what the decoder holds (OPES_MIME_DECODE_SLACK) */
        room = seed && !eof ? (seed >> 8) % 7 : cap - o;
        if (room > cap - o)
            room = cap - o;
        char *piece = malloc(arrived - pos + 1);
        memcpy(piece, in + pos, arrived - pos);
        if (opes_mime_decode(&d, piece, arrived - pos, eof, out + o, room, &iu, &ol) != OPES_OK)
            abort();
        free(piece);
        pos += iu;
        o += ol;
        if (eof) {
            if (pos != n)
                abort();
            break;
        }
    }
    *flags = d.flags;
    return o;
}

static void dec_check(int cte, const char *in, const char *want, size_t wlen, unsigned wflags)
{
    char out[1024], out2[1024];
    unsigned fl = 0, fl2 = 0;
    size_t n = decode_split(cte, in, strlen(in), 0, out, sizeof out, &fl);
    CHECK_MEM(out, n, want, wlen);
    CHECK_EQ(fl, wflags);
    for (uint32_t s = 1; s < 20; s++) {
        size_t n2 = decode_split(cte, in, strlen(in), s, out2, sizeof out2, &fl2);
        CHECK_MEM(out2, n2, out, n);
        CHECK_EQ(fl2, fl);
    }
}

static void test_decode(void)
{
    /* RFC 4648 section 10 */
    static const char *const v[][2] = {{"", ""},
                                       {"Zg==", "f"},
                                       {"Zm8=", "fo"},
                                       {"Zm9v", "foo"},
                                       {"Zm9vYg==", "foob"},
                                       {"Zm9vYmE=", "fooba"},
                                       {"Zm9vYmFy", "foobar"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        dec_check(OPES_MIME_CTE_BASE64, v[i][0], v[i][1], strlen(v[i][1]), 0);
    /* RFC 2045 6.8: line ends and other non-alphabet characters ignored */
    dec_check(OPES_MIME_CTE_BASE64, "Zm9v\r\nYmFy\r\n", "foobar", 6, 0);
    dec_check(OPES_MIME_CTE_BASE64, "Zm9v YmF*y", "foobar", 6, OPES_MIME_DF_JUNK);
    dec_check(OPES_MIME_CTE_BASE64, "Zm8=Zm8=", "fo", 2, OPES_MIME_DF_AFTER_PAD);
    dec_check(OPES_MIME_CTE_BASE64, "Zm9vYm", "foob", 4, OPES_MIME_DF_TRUNCATED);
    dec_check(OPES_MIME_CTE_BASE64, "Zm9vY", "foo", 3, OPES_MIME_DF_TRUNCATED);
    /* RFC 2045 6.7 */
    dec_check(OPES_MIME_CTE_QP, "a=3Db=\r\nc  \r\nd=\nx", "a=bc\r\ndx", 8, 0);
    dec_check(OPES_MIME_CTE_QP, "=e9t=C3=a9", "\xe9t\xc3\xa9", 4, OPES_MIME_DF_LOWER_HEX);
    dec_check(OPES_MIME_CTE_QP, "a=G1 =4\r\n=", "a=G1 =4\r\n", 9, OPES_MIME_DF_BAD_ESCAPE);
    dec_check(OPES_MIME_CTE_QP, "soft= \t\r\nbreak \t=\r\n", "softbreak \t", 11, 0);
    /* the end of the body ends its last line: in a multipart the line end
     * before the delimiter is the delimiter's (RFC 2046 5.1.1), so a part
     * that ends "text=" CRLF "--boundary" is "text" with a soft line break
     * (RFC 2045 6.7 rule 5; Python's email decodes it so), and white space
     * there is trailing white space (rule 3) */
    dec_check(OPES_MIME_CTE_QP, "no final line end=", "no final line end", 17, 0);
    dec_check(OPES_MIME_CTE_QP, "soft= \t", "soft", 4, 0);
    dec_check(OPES_MIME_CTE_QP, "tail  ", "tail", 4, 0);
    dec_check(OPES_MIME_CTE_QP, "=", "", 0, 0);
    /* a run of white space longer than the decoder holds (32 octets) is
     * passed on whole, as Python's binascii.a2b_qp passes every run; one
     * of 32 before a line end is still stripped */
    {
        char in[128], want[128];
        size_t n;
        n = (size_t)snprintf(in, sizeof in, "a%40sb%40s\r\nc%32s\r\nd", "", "", "");
        CHECK_EQ(n, 1 + 40 + 1 + 40 + 2 + 1 + 32 + 2 + 1);
        n = (size_t)snprintf(want, sizeof want, "a%40sb%40s\r\nc\r\nd", "", "");
        dec_check(OPES_MIME_CTE_QP, in, want, n, 0);
        /* "=" and a long run before the line end: not a soft line break
         * the decoder can see, passed on as written */
        n = (size_t)snprintf(in, sizeof in, "x=%33s\r\ny", "");
        dec_check(OPES_MIME_CTE_QP, in, in, n, OPES_MIME_DF_BAD_ESCAPE);
        n = (size_t)snprintf(in, sizeof in, "x=%32s\r\ny", "");
        dec_check(OPES_MIME_CTE_QP, in, "xy", 2, 0);
    }
    dec_check(OPES_MIME_CTE_7BIT, "as\r\nis=", "as\r\nis=", 7, 0);
    opes_mime_decoder d;
    CHECK_ST(opes_mime_decoder_init(&d, 9), OPES_EINVAL);
    CHECK_ST(opes_mime_decoder_init(NULL, 0), OPES_EINVAL);
}

/* ---- driver modes for tests/t_mime.py ---------------------------------- */

static char *slurp(FILE *f, size_t *n)
{
    size_t cap = 4096, len = 0;
    char *p = malloc(cap);
    size_t k;
    while (p && (k = fread(p + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap)
            p = realloc(p, cap *= 2);
    }
    *n = len;
    return p;
}

static int drive_walk(const char *path, unsigned flags)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    char *m;
    walk_res r, r2;
    if (!f)
        return 2;
    m = slurp(f, &n);
    fclose(f);
    walk(m, n, flags, 0, 0, 0, &r);
    walk(m, n, flags, 0, 0, 7, &r2); /* a random split gives the same */
    if (r.st != r2.st || r.log.n != r2.log.n || memcmp(r.log.p, r2.log.p, r.log.n) != 0)
        printf("SPLIT-DIFFERS\n");
    printf("S %s\n", opes_status_name(r.st));
    for (size_t i = 0; i < r.nparts && i < MAXP; i++) {
        tlog h = {0};
        lhex(&h, r.part[i].decoded.p ? r.part[i].decoded.p : "", r.part[i].decoded.n);
        printf("P %zu %s %d %s\n", r.part[i].depth, r.part[i].type, r.part[i].kind,
               h.n ? h.p : "-");
        free(h.p);
    }
    walk_free(&r);
    walk_free(&r2);
    free(m);
    return 0;
}

static int drive_decode(int cte, uint32_t seed)
{
    size_t n;
    char *in = slurp(stdin, &n);
    char *out = malloc(n + 64);
    unsigned fl = 0;
    size_t o = decode_split(cte, in, n, seed, out, n + 64, &fl);
    for (size_t i = 0; i < o; i++)
        printf("%02x", (unsigned char)out[i]);
    printf("\n%u\n", fl);
    free(in);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--walk") == 0)
        return drive_walk(argv[2], argc > 3 ? OPES_MIME_LF : 0);
    if (argc > 3 && strcmp(argv[1], "--decode") == 0)
        return drive_decode(atoi(argv[2]), (uint32_t)strtoul(argv[3], NULL, 10));
    test_content_type();
    test_nested();
    test_dsn();
    test_tolerances();
    test_limits_and_modes();
    test_hold();
    test_decode();
    return TEST_END();
}
