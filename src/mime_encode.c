/* MIME transfer encoders (RFC 2045 6.7 quoted-printable, 6.8 base64):
 * incremental, no allocation, lines of at most 76 characters, CRLF line
 * ends. The decoders and the walker of <opes/mime.h> live elsewhere. */
#include "internal.h"

#include "opes/mime.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hex_upper[] = "0123456789ABCDEF";

/* Base64 (RFC 2045 6.8): 76 characters a line. QP (6.7 rule 5): at most 76
 * characters a line, the "=" of a soft line break included. */
#define B64_LINE 76u
#define QP_LINE 76u

/* Worst output of one input byte (a flushed held byte and its own token,
 * each possibly after a soft line break), and of the final flush. */
#define B64_STEP 6u
#define B64_FLUSH 8u
#define QP_STEP 12u
#define QP_FLUSH 15u

/* see opes/mime.h */
opes_status opes_mime_encoder_init(opes_mime_encoder *e, int cte)
{
    if (e == NULL || (cte != OPES_MIME_CTE_BASE64 && cte != OPES_MIME_CTE_QP))
        return OPES_EINVAL;
    memset(e, 0, sizeof *e);
    e->cte = cte;
    return OPES_OK;
}

/* see opes/mime.h */
size_t opes_mime_encode_bound(const opes_mime_encoder *e, size_t in_len)
{
    size_t held = 0, per = 6;
    if (e != NULL && e->cte == OPES_MIME_CTE_BASE64) {
        held = e->nacc;
        per = 2; /* 4 characters for 3 octets, a line end each 57 octets */
    } else if (e != NULL) {
        held = e->nheld;
    }
    if (in_len > (SIZE_MAX - 64) / per - held)
        return SIZE_MAX;
    return per * (in_len + held) + 32;
}

typedef struct enc_out {
    char *p;
    size_t cap, n;
} enc_out;

static void put(enc_out *o, const char *s, size_t n)
{
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

static void b64_quantum(opes_mime_encoder *e, enc_out *o, size_t n)
{
    char q[4];
    uint32_t v = (uint32_t)e->acc[0] << 16 | (uint32_t)e->acc[1] << 8 | e->acc[2];
    q[0] = b64_alphabet[(v >> 18) & 63];
    q[1] = b64_alphabet[(v >> 12) & 63];
    q[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
    q[3] = n > 2 ? b64_alphabet[v & 63] : '=';
    if (e->col + 4 > B64_LINE) {
        put(o, "\r\n", 2);
        e->col = 0;
    }
    put(o, q, 4);
    e->col += 4;
    e->nacc = 0;
    e->acc[0] = e->acc[1] = e->acc[2] = 0;
}

/* One QP token of t characters, after a soft line break when the line
 * would pass 75 characters (the 76th is kept for the "="). */
static void qp_token(opes_mime_encoder *e, enc_out *o, const char *t, size_t n)
{
    if (e->col + n > QP_LINE - 1) {
        put(o, "=\r\n", 3);
        e->col = 0;
    }
    put(o, t, n);
    e->col += (unsigned)n;
}

static void qp_octet(opes_mime_encoder *e, enc_out *o, unsigned char c, int literal_ok)
{
    if (literal_ok) {
        char t = (char)c;
        qp_token(e, o, &t, 1);
    } else {
        char t[3] = {'=', hex_upper[c >> 4], hex_upper[c & 15]};
        qp_token(e, o, t, 3);
    }
}

/* RFC 2045 6.7 rules 2 and 3: 33-60 and 62-126 as themselves; SP and HT
 * as themselves unless a line end follows (held until known). */
static int qp_plain(unsigned char c)
{
    return (c >= 33 && c <= 60) || (c >= 62 && c <= 126);
}

/* Flush the held bytes: the WSP is literal unless end_of_line. */
static void qp_flush_held(opes_mime_encoder *e, enc_out *o, int end_of_line)
{
    for (unsigned i = 0; i < e->nheld; i++) {
        unsigned char h = (unsigned char)e->held[i];
        if (h == '\r')
            qp_octet(e, o, h, 0);
        else
            qp_octet(e, o, h, !end_of_line || i + 1 < e->nheld);
    }
    e->nheld = 0;
}

static void qp_byte(opes_mime_encoder *e, enc_out *o, unsigned char c)
{
    if (e->nheld > 0 && e->held[e->nheld - 1] == '\r') {
        if (c == '\n') {
            /* a hard line break: a WSP before it is encoded (rule 3) */
            e->nheld--;
            qp_flush_held(e, o, 1);
            put(o, "\r\n", 2);
            e->col = 0;
            return;
        }
        qp_flush_held(e, o, 0);
    } else if (e->nheld > 0) {
        if (c == '\r') {
            e->held[e->nheld++] = '\r';
            return;
        }
        qp_flush_held(e, o, 0);
    }
    if (c == ' ' || c == '\t' || c == '\r') {
        e->held[e->nheld++] = (char)c;
        return;
    }
    qp_octet(e, o, c, qp_plain(c));
}

/* see opes/mime.h */
opes_status opes_mime_encode(opes_mime_encoder *e, const char *in, size_t in_len, int eof,
                             char *out, size_t cap, size_t *in_used, size_t *out_len)
{
    if (e == NULL || in_used == NULL || out_len == NULL || (in == NULL && in_len > 0) ||
        (out == NULL && cap > 0) || (e->cte != OPES_MIME_CTE_BASE64 && e->cte != OPES_MIME_CTE_QP))
        return OPES_EINVAL;
    enc_out o = {out, cap, 0};
    size_t i = 0;
    int b64 = e->cte == OPES_MIME_CTE_BASE64;
    size_t step = b64 ? B64_STEP : QP_STEP;
    *in_used = 0;
    *out_len = 0;
    for (; i < in_len; i++) {
        if (o.cap - o.n < step)
            break;
        unsigned char c = (unsigned char)in[i];
        if (b64) {
            e->acc[e->nacc++] = c;
            if (e->nacc == 3)
                b64_quantum(e, &o, 3);
        } else {
            qp_byte(e, &o, c);
        }
    }
    *in_used = i;
    *out_len = o.n;
    if (i == in_len && eof) {
        if (o.cap - o.n < (b64 ? B64_FLUSH : QP_FLUSH))
            return OPES_ENOSPC; /* all consumed; call again with eof to flush */
        if (b64) {
            if (e->nacc > 0)
                b64_quantum(e, &o, e->nacc);
            if (e->col > 0)
                put(&o, "\r\n", 2);
        } else {
            qp_flush_held(e, &o, 1);
            if (e->col > 0)
                put(&o, "=\r\n", 3); /* a soft break: decodes to nothing */
        }
        e->col = 0;
        *out_len = o.n;
    }
    return OPES_OK;
}
