/* JSON writer of the opes tool (see json.h). */
#include "json.h"

#include <opes/opes.h>
#include <string.h>

void json_init(json *j, FILE *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

static void sep(json *j)
{
    if (j->depth > 0 && j->depth < 64) {
        if (j->need_comma[j->depth])
            fputc(',', j->out);
        j->need_comma[j->depth] = 1;
    }
}

static void value_sep(json *j);

static void open_(json *j, int c)
{
    value_sep(j);
    fputc(c, j->out);
    if (j->depth < 63)
        j->depth++;
    j->need_comma[j->depth] = 0;
}

static void close_(json *j, int c)
{
    fputc(c, j->out);
    if (j->depth > 0)
        j->depth--;
}

void json_obj_begin(json *j)
{
    open_(j, '{');
}
void json_obj_end(json *j)
{
    close_(j, '}');
}
void json_arr_begin(json *j)
{
    open_(j, '[');
}
void json_arr_end(json *j)
{
    close_(j, ']');
}

static void raw_str(json *j, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    fputc('"', j->out);
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t want = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            if (want <= n - i && opes_utf8_validate(s + i, want, NULL) == OPES_OK) {
                fwrite(s + i, 1, want, j->out);
                i += want;
            } else {
                fprintf(j->out, "\\udc%02x", c);
                i++;
            }
            continue;
        }
        switch (c) {
        case '"':
            fputs("\\\"", j->out);
            break;
        case '\\':
            fputs("\\\\", j->out);
            break;
        case '\n':
            fputs("\\n", j->out);
            break;
        case '\r':
            fputs("\\r", j->out);
            break;
        case '\t':
            fputs("\\t", j->out);
            break;
        default:
            if (c < 0x20 || c == 0x7F)
                fprintf(j->out, "\\u%04x", c);
            else
                fputc(c, j->out);
        }
        i++;
    }
    fputc('"', j->out);
}

void json_key(json *j, const char *key)
{
    sep(j);
    raw_str(j, key, strlen(key));
    fputc(':', j->out);
    /* the value that follows must not add a comma */
    if (j->depth < 64)
        j->need_comma[j->depth] = 0;
    j->need_comma[0] = 1; /* marks "value after key pending" */
}

/* A value directly after a key skips the separator once. */
static void value_sep(json *j)
{
    if (j->need_comma[0]) {
        j->need_comma[0] = 0;
        if (j->depth < 64)
            j->need_comma[j->depth] = 1;
        return;
    }
    sep(j);
}

void json_str(json *j, const char *s, size_t n)
{
    value_sep(j);
    raw_str(j, s ? s : "", s ? n : 0);
}

void json_cstr(json *j, const char *s)
{
    if (!s) {
        json_null(j);
        return;
    }
    json_str(j, s, strlen(s));
}

void json_int(json *j, long long v)
{
    value_sep(j);
    fprintf(j->out, "%lld", v);
}

void json_uint(json *j, unsigned long long v)
{
    value_sep(j);
    fprintf(j->out, "%llu", v);
}

void json_bool(json *j, int v)
{
    value_sep(j);
    fputs(v ? "true" : "false", j->out);
}

void json_null(json *j)
{
    value_sep(j);
    fputs("null", j->out);
}

void json_end_line(json *j)
{
    fputc('\n', j->out);
    j->depth = 0;
    memset(j->need_comma, 0, sizeof j->need_comma);
}
