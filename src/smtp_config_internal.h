/*
 * The layout of opes_smtp_config (src/smtp_config.c), shared with the
 * parsers so that they read limits and flags inline rather than through a
 * call per value. Not API: callers see an opaque type.
 */
#ifndef OPES_SMTP_CONFIG_INTERNAL_H
#define OPES_SMTP_CONFIG_INTERNAL_H

#include "internal.h"

#define EXT_MAX 48
#define PARAM_MAX 64
#define KW_MAX 64
#define EHLO_PARAMS_MAX 400
#define POOL_SIZE 8192
/* Slots of the keyword hash tables: a power of two, at least twice EXT_MAX
 * and PARAM_MAX, so a probe always meets an empty slot. */
#define HASH_SLOTS 128
#define NO_NEXT 0xFF

struct ext_entry {
    uint16_t kw_off, kw_len; /* keyword, NUL-terminated in the pool */
    uint16_t ep_off, ep_cap; /* EHLO params slot in the pool (ep_cap incl. NUL) */
    uint8_t has_params, offered;
    size_t mail_inc, rcpt_inc;
};

struct param_entry {
    uint16_t kw_off, kw_len;
    uint8_t ext;        /* index into ext[] */
    uint8_t where;      /* OPES_PARAM_* */
    uint8_t value_rule; /* OPES_VALUE_* */
    opes_param_check_fn check; /* opes_smtp_config_set_param_check(), or NULL */
    void *check_user;
};

struct opes_smtp_config {
    opes_allocator alloc;
    int heap; /* made by _new (free releases it) */
    size_t limits[OPES_LIMIT__COUNT];
    unsigned lenient;
    int utf8;
    size_t n_ext, n_param, pool_used;
    size_t n_checks; /* parameter entries with a value check (0: skip the lookup) */
    struct ext_entry ext[EXT_MAX];
    struct param_entry param[PARAM_MAX];
    /* opes__key8 of each keyword, apart so that a lookup scans one dense
     * array of integers and compares strings only on a key match */
    uint64_t ext_key[EXT_MAX];
    uint64_t param_key[PARAM_MAX];
    /* Open-addressing hash tables over those keys (linear probing), each
     * slot 0 or 1 + an index: ext_slot finds an extension; param_slot finds
     * the first registered parameter of a keyword, and param_next chains
     * the later ones of the same keyword (BODY of 8BITMIME, then of
     * BINARYMIME) in registration order. */
    uint8_t ext_slot[HASH_SLOTS];
    uint8_t param_slot[HASH_SLOTS];
    uint8_t param_next[PARAM_MAX];
    char pool[POOL_SIZE];
};

/* The limits of a NULL config (and of a new one). */
extern const size_t opes__limit_default[OPES_LIMIT__COUNT];

/* opes_smtp_config_limit, _lenient and _utf8, inline, for a limit the
 * caller knows to be valid (a constant OPES_LIMIT_*). */
static inline size_t opes__cfg_limit(const opes_smtp_config *cfg, int limit)
{
    return cfg ? cfg->limits[limit] : opes__limit_default[limit];
}

static inline unsigned opes__cfg_lenient(const opes_smtp_config *cfg)
{
    return cfg ? cfg->lenient : 0;
}

static inline int opes__cfg_utf8(const opes_smtp_config *cfg)
{
    return cfg ? cfg->utf8 : 0;
}

#endif
