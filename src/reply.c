/* SMTP replies: one-line, push and whole-reply parsers and the builder
 * (RFC 5321 4.2, RFC 2034, RFC 3463). */
#include "internal.h"

/* The context the reply grammar depends on, copied out of a config. */
struct reply_ctx {
    size_t line_limit; /* OPES_LIMIT_REPLY_LINE, incl. CRLF */
    size_t max_lines;  /* OPES_LIMIT_REPLY_LINES */
    unsigned allow;    /* OPES_LENIENT_BARE_LF | OPES_LENIENT_8BIT */
};

static void ctx_from_cfg(struct reply_ctx *c, const opes_smtp_config *cfg)
{
    c->line_limit = opes_smtp_config_limit(cfg, OPES_LIMIT_REPLY_LINE);
    c->max_lines = opes_smtp_config_limit(cfg, OPES_LIMIT_REPLY_LINES);
    c->allow = opes_smtp_config_lenient(cfg) & (OPES_LENIENT_BARE_LF | OPES_LENIENT_8BIT);
    /* RFC 6531 3.7.4: the replies of an SMTPUTF8 transaction may carry
     * UTF-8 (251/551 mailboxes, VRFY/EXPN answers). */
    if (opes_smtp_config_utf8(cfg))
        c->allow |= OPES_LENIENT_8BIT;
}

/* ---- enhanced status codes (RFC 3463 2, RFC 2034 4) ----------------------- */

/* Length of the status-code at the start of t[0..n), or 0 if t does not
 * start with a well-formed one. class = "2"/"4"/"5", subject and detail
 * 1*3digit without leading zeros ("Each numeric sub-code within the
 * status-code MUST be expressed without leading zero digits", RFC 3463 2). */
static size_t esc_scan(const char *t, size_t n, int v[3])
{
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        size_t start = i;
        int val = 0;
        while (i < n && i - start < 4 && OPES__IS(t[i], OPES__C_DIGIT)) {
            val = val * 10 + (t[i] - '0');
            i++;
        }
        size_t nd = i - start;
        if (nd == 0)
            return 0;
        if (part == 0) {
            if (nd != 1 || (val != 2 && val != 4 && val != 5))
                return 0;
        } else if (nd > 3 || (nd > 1 && t[start] == '0')) {
            return 0;
        }
        v[part] = val;
        if (part < 2) {
            if (i >= n || t[i] != '.')
                return 0;
            i++;
        }
    }
    return i;
}

/* Does t start like an enhanced code: one or more digits, then "."? */
static int esc_lookalike(const char *t, size_t n)
{
    size_t i = 0;
    while (i < n && OPES__IS(t[i], OPES__C_DIGIT))
        i++;
    return i > 0 && i < n && t[i] == '.';
}

/* Split line->text into enhanced code and message (RFC 2034 4: the code
 * prefaces the text "and is always followed by one or more spaces"). */
static void esc_split(opes_reply_line *line)
{
    const char *t = line->text.ptr;
    size_t n = line->text.len;
    int v[3];
    size_t k;

    line->message = line->text;
    if (n == 0)
        return;
    k = esc_scan(t, n, v);
    if (k == 0 || (k < n && t[k] != ' ')) {
        if (esc_lookalike(t, n))
            line->esc_flags |= OPES_ESC_MALFORMED;
        return;
    }
    if (v[0] != line->code / 100) {
        line->esc_flags |= OPES_ESC_MISMATCH;
        return;
    }
    line->enhanced.ptr = t;
    line->enhanced.len = k;
    line->esc_class = v[0];
    line->esc_subject = v[1];
    line->esc_detail = v[2];
    while (k < n && t[k] == ' ')
        k++;
    line->message.ptr = t + k;
    line->message.len = n - k;
}

/* see opes/reply.h */
opes_status opes_reply_enhanced_parse(const char *buf, size_t len, int *cls, int *subject,
                                      int *detail)
{
    int v[3];
    if (!buf && len)
        return OPES_EINVAL;
    if (len == 0 || esc_scan(buf, len, v) != len)
        return OPES_EBAD_ENHANCED_CODE;
    if (cls)
        *cls = v[0];
    if (subject)
        *subject = v[1];
    if (detail)
        *detail = v[2];
    return OPES_OK;
}

/* ---- one line ----------------------------------------------------------- */

#define UTF8_CUT ((size_t)-1)

/* Length of the UTF-8 sequence at p[0..n) (1..4); 0 if ill-formed; UTF8_CUT
 * if p[0..n) is a proper prefix of a well-formed sequence (more bytes may
 * complete it). Uses the library's one validator on padded copies. */
static size_t utf8_step(const unsigned char *p, size_t n)
{
    static const unsigned char second[2] = {0x80, 0xA0};
    size_t k = opes__utf8_seq(p, n, NULL);
    if (k || n >= 4)
        return k;
    for (int c = 0; c < 2; c++) {
        unsigned char tmp[4];
        memcpy(tmp, p, n);
        for (size_t j = n; j < 4; j++)
            tmp[j] = j == 1 ? second[c] : 0x80;
        if (opes__utf8_seq(tmp, 4, NULL) > n)
            return UTF8_CUT;
    }
    return 0;
}

/* A syntax or limit error at offset off of the line: report it, and say how
 * far the line goes when its LF is already in buf within the limit. */
static opes_status line_fail(const char *buf, size_t len, size_t limit, size_t off,
                             opes_reply_line *line, size_t *used, opes_status st)
{
    size_t end = len < limit ? len : limit;
    memset(line, 0, sizeof *line);
    line->error_offset = off;
    *used = 0;
    for (size_t i = off; i < end; i++) {
        if (buf[i] == '\n') {
            *used = i + 1;
            break;
        }
    }
    return st;
}

/*
 * The one line grammar. Bytes are judged in order and the first offending
 * one decides, so the outcome depends only on the bytes up to it (plus one
 * after a CR): any split of the input gives the same result.
 */
static opes_status line_parse(const struct reply_ctx *c, const char *buf, size_t len,
                              opes_reply_line *line, size_t *used)
{
    /* Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 4.2) */
    static const char lo[3] = {'2', '0', '0'}, hi[3] = {'5', '5', '9'};
    const size_t lim = c->line_limit;
    const size_t win = len < lim ? len : lim; /* bytes that may belong to the line */
    size_t i, text_start, text_end, line_len;
    unsigned notes = 0;
    int is_last;

    *used = 0;
    for (i = 0; i < 3; i++) {
        if (i >= lim)
            return line_fail(buf, len, lim, lim, line, used, OPES_EREPLY_TOO_LONG);
        if (i >= len)
            return OPES_INCOMPLETE;
        if (buf[i] < lo[i] || buf[i] > hi[i])
            return line_fail(buf, len, lim, i, line, used, OPES_EBAD_REPLY);
    }
    if (i >= lim)
        return line_fail(buf, len, lim, lim, line, used, OPES_EREPLY_TOO_LONG);
    if (i >= len)
        return OPES_INCOMPLETE;
    switch (buf[3]) {
    case ' ':
        is_last = 1;
        text_start = 4;
        break;
    case '-':
        is_last = 0;
        text_start = 4;
        break;
    case '\r':
    case '\n':
        /* the code alone: a last line (RFC 5321 4.2) */
        is_last = 1;
        text_start = 3;
        break;
    default:
        return line_fail(buf, len, lim, 3, line, used, OPES_EBAD_REPLY);
    }

    for (i = text_start;;) {
        unsigned char ch;
        if (i >= lim)
            return line_fail(buf, len, lim, lim, line, used, OPES_EREPLY_TOO_LONG);
        if (i >= len)
            return OPES_INCOMPLETE;
        ch = (unsigned char)buf[i];
        if (OPES__IS(ch, OPES__C_TEXT)) {
            i++;
            continue;
        }
        if (ch == '\r') {
            if (i + 1 >= lim)
                return line_fail(buf, len, lim, lim, line, used, OPES_EREPLY_TOO_LONG);
            if (i + 1 >= len)
                return OPES_INCOMPLETE;
            if (buf[i + 1] != '\n')
                return line_fail(buf, len, lim, i, line, used, OPES_EBARE_CR);
            text_end = i;
            line_len = i + 2;
            break;
        }
        if (ch == '\n') {
            /* A bare LF never ends a line in strict mode: it is the raw
             * material of smuggling and desynchronisation. */
            if (!(c->allow & OPES_LENIENT_BARE_LF))
                return line_fail(buf, len, lim, i, line, used, OPES_EBARE_LF);
            notes |= OPES_NOTE_BARE_LF;
            text_end = i;
            line_len = i + 1;
            break;
        }
        if (ch >= 0x80) {
            size_t k;
            /* RFC 6531 3.7.4.2: no non-ASCII in replies outside SMTPUTF8 */
            if (!(c->allow & OPES_LENIENT_8BIT))
                return line_fail(buf, len, lim, i, line, used, OPES_EBAD_UTF8);
            k = utf8_step((const unsigned char *)buf + i, win - i);
            if (k == UTF8_CUT) {
                if (win == lim)
                    return line_fail(buf, len, lim, lim, line, used, OPES_EREPLY_TOO_LONG);
                return OPES_INCOMPLETE;
            }
            if (k == 0)
                return line_fail(buf, len, lim, i, line, used, OPES_EBAD_UTF8);
            notes |= OPES_NOTE_8BIT;
            i += k;
            continue;
        }
        /* NUL and the other control characters are not textstring */
        return line_fail(buf, len, lim, i, line, used, OPES_EBAD_CHAR);
    }

    memset(line, 0, sizeof *line);
    line->code = (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
    line->is_last = is_last;
    if (text_end > text_start) {
        line->text.ptr = buf + text_start;
        line->text.len = text_end - text_start;
    }
    line->notes = notes;
    line->line_len = line_len;
    esc_split(line);
    *used = line_len;
    return OPES_OK;
}

/* see opes/reply.h */
opes_status opes_reply_line_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                                  opes_reply_line *line, size_t *used)
{
    struct reply_ctx c;
    opes_status st;
    if (!line || !used || (!buf && len)) {
        if (used)
            *used = 0;
        return OPES_EINVAL;
    }
    ctx_from_cfg(&c, cfg);
    st = line_parse(&c, buf, len, line, used);
    if (st == OPES_INCOMPLETE)
        memset(line, 0, sizeof *line);
    return st;
}

/* RFC 2034 4: each line of a multi-line reply carries the first line's code. */
static void mark_differs(opes_reply_line *l, const int first[3], int first_has)
{
    if (!first_has)
        return;
    if (l->enhanced.len == 0 || l->esc_class != first[0] || l->esc_subject != first[1] ||
        l->esc_detail != first[2])
        l->esc_flags |= OPES_ESC_DIFFERS;
}

/* ---- push parser ---------------------------------------------------------- */

struct opes_reply_parser {
    opes_allocator alloc;
    int heap; /* made by _new: _free releases it */
    struct reply_ctx ctx;
    int code;         /* code of the reply in progress (index > 0) */
    size_t index;     /* lines of the reply in progress */
    int esc_first[3]; /* enhanced code of its first line */
    int esc_has;
    size_t reply;           /* replies completed */
    size_t offset;          /* stream bytes consumed */
    opes_status error;      /* sticky; OPES_OK when none */
    size_t err_line_offset; /* stream offset of the failing line */
    size_t err_in_line;     /* offset of the bad byte within it */
};

static void parser_clear(opes_reply_parser *p)
{
    p->code = 0;
    p->index = 0;
    p->esc_has = 0;
    p->reply = 0;
    p->offset = 0;
    p->error = OPES_OK;
    p->err_line_offset = 0;
    p->err_in_line = 0;
}

static void parser_init(opes_reply_parser *p)
{
    memset(p, 0, sizeof *p);
    ctx_from_cfg(&p->ctx, NULL);
    parser_clear(p);
}

/* see opes/reply.h */
size_t opes_reply_parser_sizeof(void)
{
    return sizeof(opes_reply_parser);
}

/* see opes/reply.h */
opes_status opes_reply_parser_new(opes_reply_parser **out, const opes_allocator *alloc)
{
    opes_reply_parser *p;
    if (!out)
        return OPES_EINVAL;
    *out = NULL;
    p = opes__alloc(alloc, sizeof *p);
    if (!p)
        return OPES_ENOMEM;
    parser_init(p);
    p->heap = 1;
    if (alloc)
        p->alloc = *alloc;
    *out = p;
    return OPES_OK;
}

/* see opes/reply.h */
opes_status opes_reply_parser_init_in(void *mem, size_t len, opes_reply_parser **out)
{
    if (!mem || !out || len < sizeof(opes_reply_parser))
        return OPES_EINVAL;
    parser_init((opes_reply_parser *)mem);
    *out = (opes_reply_parser *)mem;
    return OPES_OK;
}

/* see opes/reply.h */
void opes_reply_parser_free(opes_reply_parser *p)
{
    if (!p || !p->heap)
        return;
    opes_allocator a = p->alloc;
    opes__free(a.free ? &a : NULL, p, sizeof *p);
}

/* see opes/reply.h */
opes_status opes_reply_parser_set_config(opes_reply_parser *p, const opes_smtp_config *cfg)
{
    if (!p)
        return OPES_EINVAL;
    ctx_from_cfg(&p->ctx, cfg);
    return OPES_OK;
}

/* see opes/reply.h */
void opes_reply_parser_reset(opes_reply_parser *p)
{
    if (p)
        parser_clear(p);
}

static opes_status parser_fail(opes_reply_parser *p, opes_reply_event *ev, opes_status st,
                               size_t in_line)
{
    p->error = st;
    p->err_line_offset = p->offset;
    p->err_in_line = in_line;
    memset(ev, 0, sizeof *ev);
    ev->line.error_offset = in_line;
    ev->offset = p->offset;
    ev->index = p->index;
    ev->reply = p->reply;
    return st;
}

/* see opes/reply.h */
opes_status opes_reply_parser_feed(opes_reply_parser *p, const char *buf, size_t len, size_t *used,
                                   opes_reply_event *ev)
{
    opes_status st;
    size_t u;

    if (used)
        *used = 0;
    if (!p || !used || !ev || (!buf && len))
        return OPES_EINVAL;
    memset(ev, 0, sizeof *ev);
    ev->offset = p->offset;
    ev->index = p->index;
    ev->reply = p->reply;
    if (p->error != OPES_OK) {
        ev->offset = p->err_line_offset;
        ev->line.error_offset = p->err_in_line;
        return p->error;
    }
    st = line_parse(&p->ctx, buf, len, &ev->line, &u);
    if (st == OPES_INCOMPLETE) {
        memset(&ev->line, 0, sizeof ev->line);
        return st;
    }
    if (st != OPES_OK)
        return parser_fail(p, ev, st, ev->line.error_offset);
    /* RFC 5321 4.2: "In a multiline reply, the reply code on each of the
     * lines MUST be the same." */
    if (p->index > 0 && ev->line.code != p->code)
        return parser_fail(p, ev, OPES_EREPLY_CODE_MISMATCH, 0);
    if (!ev->line.is_last && p->index + 1 >= p->ctx.max_lines)
        return parser_fail(p, ev, OPES_ETOO_MANY_LINES, u);
    if (p->index == 0) {
        p->esc_has = ev->line.enhanced.len > 0;
        p->esc_first[0] = ev->line.esc_class;
        p->esc_first[1] = ev->line.esc_subject;
        p->esc_first[2] = ev->line.esc_detail;
    } else {
        mark_differs(&ev->line, p->esc_first, p->esc_has);
    }
    p->offset += u;
    *used = u;
    if (ev->line.is_last) {
        p->index = 0;
        p->code = 0;
        p->reply++;
    } else {
        p->index++;
        p->code = ev->line.code;
    }
    return OPES_OK;
}

/* see opes/reply.h */
size_t opes_reply_parser_pending(const opes_reply_parser *p)
{
    return p ? p->index : 0;
}

/* see opes/reply.h */
size_t opes_reply_parser_error_offset(const opes_reply_parser *p)
{
    if (!p || p->error == OPES_OK)
        return 0;
    return p->err_line_offset + p->err_in_line;
}

/* ---- whole reply ---------------------------------------------------------- */

/* see opes/reply.h */
opes_status opes_reply_parse(const opes_smtp_config *cfg, const char *buf, size_t len,
                             opes_reply *reply, size_t *used)
{
    struct reply_ctx c;
    size_t off = 0, n = 0;
    int first[3] = {0, 0, 0};

    if (used)
        *used = 0;
    if (!reply || !used || (!buf && len))
        return OPES_EINVAL;
    memset(reply, 0, sizeof *reply);
    if (len == 0)
        return OPES_INCOMPLETE;
    ctx_from_cfg(&c, cfg);
    for (;;) {
        opes_reply_line l;
        size_t u;
        opes_status st = line_parse(&c, buf + off, len - off, &l, &u);
        if (st == OPES_INCOMPLETE)
            return st;
        if (st != OPES_OK) {
            reply->error_offset = off + l.error_offset;
            *used = u ? off + u : 0;
            return st;
        }
        if (n == 0) {
            reply->code = l.code;
            reply->enhanced = l.enhanced;
            first[0] = reply->esc_class = l.esc_class;
            first[1] = reply->esc_subject = l.esc_subject;
            first[2] = reply->esc_detail = l.esc_detail;
        } else {
            if (l.code != reply->code) {
                reply->error_offset = off;
                *used = off + u;
                return OPES_EREPLY_CODE_MISMATCH;
            }
            mark_differs(&l, first, reply->enhanced.len > 0);
        }
        reply->esc_flags |= l.esc_flags;
        reply->notes |= l.notes;
        n++;
        off += u;
        if (l.is_last)
            break;
        if (n >= c.max_lines) {
            reply->error_offset = off;
            *used = off;
            return OPES_ETOO_MANY_LINES;
        }
    }
    reply->nlines = n;
    reply->span.ptr = buf;
    reply->span.len = off;
    *used = off;
    return OPES_OK;
}

/* see opes/reply.h */
opes_status opes_reply_next_line(const opes_reply *reply, size_t *pos, opes_reply_line *line)
{
    /* The span was validated by opes_reply_parse() under some context; the
     * widest one reads it back identically (a strict span holds no bare LF
     * and no 8-bit octet, and its lines are within any smaller limit). */
    static const struct reply_ctx wide = {OPES_MAX_REPLY_LINE, OPES_MAX_REPLY_LINES,
                                          OPES_LENIENT_BARE_LF | OPES_LENIENT_8BIT};
    opes_status st;
    size_t u;
    int first[3];

    if (!reply || !pos || !line || *pos > reply->span.len || (!reply->span.ptr && reply->span.len))
        return OPES_EINVAL;
    if (*pos == reply->span.len)
        return OPES_ENOTFOUND;
    st = line_parse(&wide, reply->span.ptr + *pos, reply->span.len - *pos, line, &u);
    if (st != OPES_OK) {
        if (st == OPES_INCOMPLETE)
            memset(line, 0, sizeof *line);
        return st;
    }
    if (*pos > 0) {
        first[0] = reply->esc_class;
        first[1] = reply->esc_subject;
        first[2] = reply->esc_detail;
        mark_differs(line, first, reply->enhanced.len > 0);
    }
    *pos += u;
    return OPES_OK;
}

/* ---- builder -------------------------------------------------------------- */

static void put_line(opes__wr *w, int code, char sep, const char *enh, size_t elen,
                     const char *text, size_t n)
{
    opes__wr_putc(w, (char)('0' + code / 100));
    opes__wr_putc(w, (char)('0' + code / 10 % 10));
    opes__wr_putc(w, (char)('0' + code % 10));
    opes__wr_putc(w, sep);
    if (elen) {
        opes__wr_put(w, enh, elen);
        if (n)
            opes__wr_putc(w, ' ');
    }
    opes__wr_put(w, text, n);
    opes__wr_put(w, "\r\n", 2);
}

/* see opes/reply.h */
opes_status opes_reply_build(char *dst, size_t cap, size_t *len, int code, const char *enhanced,
                             const opes_str *lines, size_t nlines, size_t limit)
{
    static const opes_str empty = {NULL, 0};
    size_t elen = 0, width, count = 0;
    const char *pend = NULL;
    size_t pend_n = 0;
    int have_pend = 0;
    opes__wr w;

    if (!OPES__BUILD_ARGS_OK(dst, cap, len))
        return OPES_EINVAL;
    *len = 0;
    if (nlines && !lines)
        return OPES_EINVAL;
    /* Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 4.2) */
    if (code < 200 || code > 599 || code / 10 % 10 > 5)
        return OPES_EINVAL;
    if (limit == 0)
        limit = opes_smtp_config_limit(NULL, OPES_LIMIT_REPLY_LINE);
    if (limit > OPES_MAX_REPLY_LINE)
        return OPES_ECEILING;
    for (size_t j = 0; j < nlines; j++) {
        if (!lines[j].ptr && lines[j].len)
            return OPES_EINVAL;
    }

    /* Injection first: CR, LF or NUL anywhere would end or cut a line. */
    if (enhanced) {
        elen = strlen(enhanced);
        for (size_t i = 0; i < elen; i++) {
            if (enhanced[i] == '\r' || enhanced[i] == '\n')
                return OPES_EINJECT;
        }
    }
    for (size_t j = 0; j < nlines; j++) {
        if (opes__unsafe_at(lines[j].ptr, lines[j].len) != lines[j].len)
            return OPES_EINJECT;
    }
    if (elen) {
        int cls;
        if (opes_reply_enhanced_parse(enhanced, elen, &cls, NULL, NULL) != OPES_OK)
            return OPES_EBAD_ENHANCED_CODE;
        /* RFC 2034 4: the class agrees with the reply's first digit, and
         * "3xx responses are NOT included". */
        if (cls != code / 100)
            return OPES_EBAD_ENHANCED_CODE;
    }
    /* textstring = 1*(%d09 / %d32-126) (RFC 5321 4.2) */
    for (size_t j = 0; j < nlines; j++) {
        for (size_t i = 0; i < lines[j].len; i++) {
            if (!OPES__IS(lines[j].ptr[i], OPES__C_TEXT))
                return OPES_EBAD_CHAR;
        }
    }

    /* The shortest line, "NNN-" [code] CRLF, must fit in the limit
     * (RFC 5321 4.5.3.1.5); width is the room left for text. */
    if (limit < 4 + elen + 2)
        return OPES_EREPLY_TOO_LONG;
    width = limit - 4 - elen - 2;
    if (elen)
        width = width > 0 ? width - 1 : 0; /* the SP after the code */

    opes__wr_init(&w, dst, cap);
    for (size_t j = 0; j < (nlines ? nlines : 1); j++) {
        const opes_str *src = nlines ? &lines[j] : &empty;
        const char *r = src->ptr;
        size_t n = src->len;
        int split;
        do {
            size_t take, skip;
            if (n <= width) {
                take = skip = n;
                split = 0;
            } else {
                /* wrap at the last SP that leaves at most width octets */
                size_t k = width + 1;
                int found = 0;
                while (k-- > 0) {
                    if (r[k] == ' ') {
                        found = 1;
                        break;
                    }
                }
                if (!found)
                    return OPES_EREPLY_TOO_LONG;
                take = k;
                skip = k + 1;
                split = 1; /* another (maybe empty) chunk follows */
            }
            if (have_pend)
                put_line(&w, code, '-', enhanced, elen, pend, pend_n);
            if (++count > OPES_MAX_REPLY_LINES)
                return OPES_ETOO_MANY_LINES;
            pend = r;
            pend_n = take;
            have_pend = 1;
            if (skip) {
                r += skip;
                n -= skip;
            }
        } while (n > 0 || split);
    }
    put_line(&w, code, ' ', enhanced, elen, pend, pend_n);
    return opes__wr_finish(&w, len);
}
