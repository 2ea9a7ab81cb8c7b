/* JSON output for the opes tool (docs/cli.md, "JSON"). Writes to a FILE*.
 * Strings are bytes: valid UTF-8 passes through, control characters and
 * the JSON specials are escaped, and every byte that is not part of valid
 * UTF-8 is written as \udcXX (XX = the byte), the surrogateescape rule of
 * PEP 383, so a reader can recover the exact bytes. */
#ifndef OPES_TOOL_JSON_H
#define OPES_TOOL_JSON_H

#include <stddef.h>
#include <stdio.h>

typedef struct json {
    FILE *out;
    int need_comma[64];
    int depth;
} json;

void json_init(json *j, FILE *out);
void json_obj_begin(json *j);
void json_obj_end(json *j);
void json_arr_begin(json *j);
void json_arr_end(json *j);
void json_key(json *j, const char *key);
void json_str(json *j, const char *s, size_t n);
void json_cstr(json *j, const char *s); /* NULL writes null */
void json_int(json *j, long long v);
void json_uint(json *j, unsigned long long v);
void json_bool(json *j, int v);
void json_null(json *j);
/* End of one top-level value: newline. */
void json_end_line(json *j);

#endif
