/* JSON input for the opes tool (RFC 8259): a small tree reader for option
 * files such as `opes bypass decide --services FILE`. Not part of the
 * library. Iterative (an explicit stack, depth at most JV_MAX_DEPTH), so
 * hostile nesting cannot exhaust the C stack; strings are decoded to UTF-8
 * (\uXXXX and surrogate pairs included) and may hold NUL, so use len. */
#ifndef OPES_TOOL_JSONREAD_H
#define OPES_TOOL_JSONREAD_H

#include <stddef.h>

#define JV_MAX_DEPTH 64

typedef enum jv_type { JV_NULL, JV_FALSE, JV_TRUE, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT } jv_type;

typedef struct jv {
    jv_type type;
    char *str;       /* JV_STRING: decoded bytes + NUL; JV_NUMBER: the number's text */
    size_t len;      /* its length */
    char *key;       /* member name when the parent is an object (decoded + NUL) */
    size_t key_len;
    size_t count;    /* JV_ARRAY / JV_OBJECT: number of children */
    struct jv *child; /* first child */
    struct jv *next;  /* next sibling */
} jv;

/* Parse buf[0..len) as one JSON text. NULL on error, with a message
 * ("offset N: ...") in err. Free with jv_free. */
jv *jv_parse(const char *buf, size_t len, char *err, size_t errcap);
void jv_free(jv *v);
/* Member of an object by name (first match), or NULL. */
const jv *jv_get(const jv *obj, const char *key);

#endif
