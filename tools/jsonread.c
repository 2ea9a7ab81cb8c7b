/* JSON input for the opes tool; see jsonread.h. */
#include "jsonread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const char *start, *p, *end;
    char *err;
    size_t errcap;
} rd;

static void fail(rd *r, const char *msg)
{
    if (r->err && r->errcap && r->err[0] == '\0')
        snprintf(r->err, r->errcap, "offset %zu: %s", (size_t)(r->p - r->start), msg);
}

static void skip_ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex4(rd *r, unsigned *out)
{
    unsigned v = 0;
    if (r->end - r->p < 4) {
        fail(r, "truncated \\u escape");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int h = hexval(r->p[i]);
        if (h < 0) {
            fail(r, "bad \\u escape");
            return -1;
        }
        v = v * 16 + (unsigned)h;
    }
    r->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of a well-formed UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    unsigned cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* At the opening quote. Decodes into a new NUL-terminated buffer. */
static int parse_string(rd *r, char **out, size_t *out_len)
{
    r->p++; /* '"' */
    /* The decoded form is never longer than the source. */
    const char *q = r->p;
    while (q < r->end && *q != '"') {
        if (*q == '\\' && q + 1 < r->end)
            q++;
        q++;
    }
    if (q >= r->end) {
        fail(r, "unterminated string");
        return -1;
    }
    char *buf = malloc((size_t)(q - r->p) + 1);
    size_t n = 0;
    if (!buf) {
        fail(r, "out of memory");
        return -1;
    }
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20) {
            fail(r, "control character in string");
            goto bad;
        }
        if (c != '\\') {
            size_t l = utf8_len((const unsigned char *)r->p, (const unsigned char *)r->end);
            if (l == 0) {
                fail(r, "invalid UTF-8 in string");
                goto bad;
            }
            memcpy(buf + n, r->p, l);
            n += l;
            r->p += l;
            continue;
        }
        r->p++;
        if (r->p >= r->end) {
            fail(r, "truncated escape");
            goto bad;
        }
        char e = *r->p++;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            buf[n++] = e;
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(r, &cp) < 0)
                goto bad;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(r, "lone low surrogate");
                goto bad;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') {
                    fail(r, "lone high surrogate");
                    goto bad;
                }
                r->p += 2;
                if (hex4(r, &lo) < 0)
                    goto bad;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(r, "bad surrogate pair");
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            /* "\uXXXX" is 6 source bytes for at most 3 output bytes; a pair
             * is 12 for 4: the buffer is large enough. */
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            fail(r, "bad escape");
            goto bad;
        }
    }
    r->p++; /* closing '"' */
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 0;
bad:
    free(buf);
    return -1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(rd *r, jv *v)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p < r->end && *r->p == '0') {
        r->p++;
    } else if (r->p < r->end && is_digit(*r->p)) {
        while (r->p < r->end && is_digit(*r->p))
            r->p++;
    } else {
        fail(r, "bad number");
        return -1;
    }
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || !is_digit(*r->p)) {
            fail(r, "bad fraction");
            return -1;
        }
        while (r->p < r->end && is_digit(*r->p))
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || !is_digit(*r->p)) {
            fail(r, "bad exponent");
            return -1;
        }
        while (r->p < r->end && is_digit(*r->p))
            r->p++;
    }
    size_t n = (size_t)(r->p - s);
    v->str = malloc(n + 1);
    if (!v->str) {
        fail(r, "out of memory");
        return -1;
    }
    memcpy(v->str, s, n);
    v->str[n] = '\0';
    v->len = n;
    return 0;
}

static int literal(rd *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) {
        fail(r, "unexpected character");
        return -1;
    }
    r->p += n;
    return 0;
}

/* see jsonread.h */
void jv_free(jv *v)
{
    /* Iterative: a child list is spliced onto the work list. */
    while (v) {
        jv *next = v->next;
        if (v->child) {
            jv *last = v->child;
            while (last->next)
                last = last->next;
            last->next = next;
            next = v->child;
        }
        free(v->str);
        free(v->key);
        free(v);
        v = next;
    }
}

/* see jsonread.h */
const jv *jv_get(const jv *obj, const char *key)
{
    if (!obj || obj->type != JV_OBJECT)
        return NULL;
    size_t kl = strlen(key);
    for (const jv *c = obj->child; c; c = c->next)
        if (c->key_len == kl && memcmp(c->key, key, kl) == 0)
            return c;
    return NULL;
}

/* see jsonread.h */
jv *jv_parse(const char *buf, size_t len, char *err, size_t errcap)
{
    rd r = {buf, buf, buf + len, err, errcap};
    struct frame {
        jv *c;
        jv *last;
    } st[JV_MAX_DEPTH];
    int d = 0;
    jv *root = NULL;
    char *key = NULL;
    size_t key_len = 0;
    if (err && errcap)
        err[0] = '\0';

    for (;;) {
        /* a value is expected (with key set when inside an object) */
        skip_ws(&r);
        if (r.p >= r.end) {
            fail(&r, "unexpected end of input");
            goto bad;
        }
        jv *v = calloc(1, sizeof *v);
        if (!v) {
            fail(&r, "out of memory");
            goto bad;
        }
        v->key = key;
        v->key_len = key_len;
        key = NULL;
        if (d == 0) {
            root = v;
        } else {
            if (st[d - 1].last)
                st[d - 1].last->next = v;
            else
                st[d - 1].c->child = v;
            st[d - 1].last = v;
            st[d - 1].c->count++;
        }
        char c = *r.p;
        int opened = 0;
        if (c == '{' || c == '[') {
            if (d == JV_MAX_DEPTH) {
                fail(&r, "nesting too deep");
                goto bad;
            }
            v->type = c == '{' ? JV_OBJECT : JV_ARRAY;
            r.p++;
            st[d].c = v;
            st[d].last = NULL;
            d++;
            opened = 1;
        } else if (c == '"') {
            v->type = JV_STRING;
            if (parse_string(&r, &v->str, &v->len) < 0)
                goto bad;
        } else if (c == '-' || is_digit(c)) {
            v->type = JV_NUMBER;
            if (parse_number(&r, v) < 0)
                goto bad;
        } else if (c == 't') {
            v->type = JV_TRUE;
            if (literal(&r, "true") < 0)
                goto bad;
        } else if (c == 'f') {
            v->type = JV_FALSE;
            if (literal(&r, "false") < 0)
                goto bad;
        } else if (c == 'n') {
            v->type = JV_NULL;
            if (literal(&r, "null") < 0)
                goto bad;
        } else {
            fail(&r, "unexpected character");
            goto bad;
        }

        /* after a value, or just inside a new container */
        int need_value = 0;
        while (!need_value) {
            skip_ws(&r);
            if (d == 0) {
                if (r.p != r.end) {
                    fail(&r, "trailing characters");
                    goto bad;
                }
                return root;
            }
            jv *top = st[d - 1].c;
            char close = top->type == JV_OBJECT ? '}' : ']';
            if (r.p >= r.end) {
                fail(&r, "unexpected end of input");
                goto bad;
            }
            if (*r.p == close) {
                r.p++;
                d--;
                opened = 0;
                continue;
            }
            if (!opened) {
                if (*r.p != ',') {
                    fail(&r, "expected ',' or the end of the container");
                    goto bad;
                }
                r.p++;
                skip_ws(&r);
            }
            opened = 0;
            if (top->type == JV_OBJECT) {
                if (r.p >= r.end || *r.p != '"') {
                    fail(&r, "expected a member name");
                    goto bad;
                }
                if (parse_string(&r, &key, &key_len) < 0)
                    goto bad;
                skip_ws(&r);
                if (r.p >= r.end || *r.p != ':') {
                    fail(&r, "expected ':'");
                    goto bad;
                }
                r.p++;
            }
            need_value = 1;
        }
    }
bad:
    free(key);
    jv_free(root);
    return NULL;
}
