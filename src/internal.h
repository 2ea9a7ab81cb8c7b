/*
 * libopes internal header: included first by every .c file of the library.
 * Nothing here is API; symbols shared between files are opes__*.
 */
#ifndef OPES_INTERNAL_H
#define OPES_INTERNAL_H

#define OPES_BUILDING 1
#include "opes/opes.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define OPES__SSE2 1
#else
#define OPES__SSE2 0
#endif

/* ---- output writer: every builder writes through this ------------------
 * Caller buffer in, bytes needed out (snprintf-style). The size query
 * (dst NULL, cap 0) and the real write run the same code: the writer keeps
 * counting past cap and never writes past it, and never writes a NUL. */
typedef struct opes__wr {
    char *dst;
    size_t cap;
    size_t len;   /* bytes produced so far (may exceed cap) */
    int overflow; /* len wrapped past SIZE_MAX */
} opes__wr;

void opes__wr_init(opes__wr *w, char *dst, size_t cap);
void opes__wr_put(opes__wr *w, const void *p, size_t n);
void opes__wr_putc(opes__wr *w, char c);
/* A NUL-terminated string constant of the library (never input). */
void opes__wr_puts(opes__wr *w, const char *s);
void opes__wr_str(opes__wr *w, opes_str s);
void opes__wr_u64(opes__wr *w, uint64_t v);
/* Finish: *len = bytes needed; OPES_OK if they fit in cap, OPES_ENOSPC if
 * not, OPES_EOVERFLOW if the size does not fit in size_t. */
opes_status opes__wr_finish(const opes__wr *w, size_t *len);
/* Common argument check of every builder: dst may be NULL only with cap 0,
 * len must not be NULL. */
#define OPES__BUILD_ARGS_OK(dst, cap, len) ((len) != NULL && ((dst) != NULL || (cap) == 0))

/* ---- character classes: 256-entry tables, locale-free ------------------- */
enum {
    OPES__C_ALPHA = 1u << 0,  /* A-Z a-z */
    OPES__C_DIGIT = 1u << 1,  /* 0-9 */
    OPES__C_HEX = 1u << 2,    /* 0-9 A-F a-f */
    OPES__C_ATEXT = 1u << 3,  /* RFC 5322 3.2.3 atext (ASCII) */
    OPES__C_XCHAR = 1u << 4,  /* RFC 3461 4 xchar: 33-126 except + = */
    OPES__C_QTEXT = 1u << 5,  /* RFC 5321 qtextSMTP: 32-33 35-91 93-126 */
    OPES__C_EVALUE = 1u << 6, /* RFC 5321 esmtp-value char: 33-60 62-126 */
    OPES__C_B64 = 1u << 7,    /* base64 alphabet A-Z a-z 0-9 + / */
    OPES__C_VCHAR = 1u << 8,  /* 33-126 (ehlo-param, xtext range) */
    OPES__C_TEXT = 1u << 9,   /* RFC 5321 textstring: HT, 32-126 */
    OPES__C_DCONTENT = 1u << 10, /* RFC 5321 dcontent: 33-90 94-126 */
    OPES__C_WSP = 1u << 11,   /* SP HT */
    OPES__C_HEXUP = 1u << 12  /* 0-9 A-F */
};
extern const uint16_t opes__ctab[256];
#define OPES__IS(c, cls) ((opes__ctab[(unsigned char)(c)] & (cls)) != 0)
#define OPES__IS_LDH(c) (OPES__IS(c, OPES__C_ALPHA | OPES__C_DIGIT) || (c) == '-')

/* The end of the run of class members starting at b[i], in b[0..len)
 * (i <= len): the first index >= i whose byte is not in the class, or len.
 * Classes: OPES__SPAN_LETDIG (ALPHA / DIGIT), OPES__SPAN_EVALUE (RFC 5321
 * esmtp-value chars, %d33-60 / %d62-126) and OPES__SPAN_XCHAR (RFC 3461 4
 * xchar, %d33-42 / %d44-60 / %d62-126). With SSE2, sixteen bytes at a
 * time; a run that reaches the last 16 bytes of b is finished with the 16
 * bytes ending at len (the flags of bytes before i cleared), so nothing
 * outside b[0..len) is read. Otherwise, and without SSE2, byte by byte. */
enum { OPES__SPAN_LETDIG, OPES__SPAN_EVALUE, OPES__SPAN_XCHAR };
#if OPES__SSE2
static inline unsigned opes__span_flags16(const unsigned char *p, int cls)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p), in;
    if (cls == OPES__SPAN_LETDIG) {
        /* (v | 0x20) - 'a' <= 25 (unsigned), or v - '0' <= 9 */
        __m128i a = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
        __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        in = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(25)), a),
                          _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    } else {
        /* v - 33 <= 93 (unsigned), and v != '=' (and, for xchar, != '+') */
        __m128i t = _mm_sub_epi8(v, _mm_set1_epi8(33));
        __m128i out = _mm_cmpeq_epi8(v, _mm_set1_epi8('='));
        if (cls == OPES__SPAN_XCHAR)
            out = _mm_or_si128(out, _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
        in = _mm_andnot_si128(out, _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(93)), t));
    }
    return (unsigned)_mm_movemask_epi8(in) ^ 0xFFFFu; /* the bytes not in */
}
#endif
static inline size_t opes__span(const unsigned char *b, size_t i, size_t len, int cls)
{
    unsigned cmask = cls == OPES__SPAN_LETDIG   ? OPES__C_ALPHA | OPES__C_DIGIT
                     : cls == OPES__SPAN_EVALUE ? OPES__C_EVALUE
                                                : OPES__C_XCHAR;
#if OPES__SSE2
    if (len >= 16) {
        unsigned f;
        for (; len - i >= 16; i += 16) {
            f = opes__span_flags16(b + i, cls);
            if (f)
                return i + (size_t)__builtin_ctz(f);
        }
        if (i == len)
            return len;
        f = opes__span_flags16(b + len - 16, cls) & (0xFFFFu << (16 - (len - i)));
        return f ? len - 16 + (size_t)__builtin_ctz(f) : len;
    }
#endif
    while (i < len && (opes__ctab[b[i]] & cmask))
        i++;
    return i;
}

/* ASCII case folding, locale-free. */
static inline unsigned char opes__upper(unsigned char c)
{
    return (unsigned char)((c >= 'a' && c <= 'z') ? c - 32 : c);
}
/* Case-insensitive compare of p[0..n) with an upper-case ASCII literal of
 * exactly n bytes. */
int opes__ieq(const char *p, size_t n, const char *upper_lit);
/* Case-insensitive equality of two byte ranges (ASCII folding only). */
int opes__ieq2(const char *a, size_t an, const char *b, size_t bn);
/* Keywords packed into a uint64_t: up to the first 8 bytes, ASCII
 * upper-cased (opes__upper), first byte lowest, zero-padded. Two ranges of
 * the same length n <= 8 are equal under opes__ieq2 exactly when their keys
 * are equal; longer ranges need their bytes past 8 compared too. A switch
 * or one integer compare replaces a string compare (smtp-proto's dispatch). */
static inline uint64_t opes__key8(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t k = 0, t, lower;
    if (n > 8)
        n = 8;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)(unsigned char)p[i] << (8 * i);
    /* opes__upper on all eight bytes at once: a byte is flagged when it is
     * under 0x80 (~k) and, its low seven bits t plus 0x1F / 0x05 carrying
     * into bit 7 (never into the next byte), 0x61-0x7A; it loses 0x20 */
    t = k & (ones * 0x7F);
    lower = (t + ones * 0x1F) & ~(t + ones * 0x05) & ~k & (ones * 0x80);
    return k - (lower >> 2);
}
#define OPES__K_(c, i) ((uint64_t)(unsigned char)(c) << (8 * (i)))
/* The key of an upper-case literal of up to 8 bytes, padded with 0. */
#define OPES__KEY(a, b, c, d, e, f, g, h)                                                          \
    (OPES__K_(a, 0) | OPES__K_(b, 1) | OPES__K_(c, 2) | OPES__K_(d, 3) | OPES__K_(e, 4) |          \
     OPES__K_(f, 5) | OPES__K_(g, 6) | OPES__K_(h, 7))
/* Value of a hex digit, or -1. */
int opes__hexval(unsigned char c);

/* ---- small grammars shared by several modules (one copy each) ----------- */
/* Offset of the first CR, LF or NUL in p[0..n) (what would inject or cut a
 * line), or n when there is none. */
size_t opes__unsafe_at(const char *p, size_t n);
/* esmtp-keyword / ehlo-keyword (RFC 5321 4.1.1.1, 4.1.2):
 * (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). Offset of the first bad byte, or n
 * when p[0..n) is one (n == 0 is bad at 0). */
size_t opes__keyword_bad(const char *p, size_t n);
/* ehlo-param *( SP ehlo-param ), ehlo-param = 1*(%d33-126) (RFC 5321
 * 4.1.1.1). Offset of the first bad byte, or n when all is well. */
size_t opes__ehlo_params_bad(const char *p, size_t n);
/* 1*DIGIT at p[0..n) into *v: the number of digits read (0: none). Sets
 * *overflow when the value does not fit in 64 bits (reading stops there). */
size_t opes__digits_u64(const char *p, size_t n, uint64_t *v, int *overflow);
/* A SASL mech-char (RFC 4422 3.1: UPPER-ALPHA / DIGIT / "-" / "_"); with
 * any_case, lower-case letters too (the AUTH command matches mechanisms
 * case-insensitively, RFC 4954 8). */
int opes__sasl_char(unsigned char c, int any_case);

/* ---- config lookups (smtp_config.c) ---------------------------------------
 * opes_smtp_config_offers and opes_smtp_config_find_param for a keyword
 * whose opes__key8 the caller already has (a parser that built it while
 * scanning, or a constant OPES__KEY): the same answers without recomputing
 * it. opes__config_offers takes a NULL config (0); opes__config_find_param
 * wants a config and a valid where. */
int opes__config_offers(const opes_smtp_config *cfg, uint64_t key, const char *keyword, size_t len);
opes_status opes__config_find_param(const opes_smtp_config *cfg, unsigned where, uint64_t key,
                                    const char *keyword, size_t len, int *value_rule,
                                    const char **ext_keyword);
/* The value check registered for the parameter keyword (key: its
 * opes__key8) on the verb (OPES_PARAM_*): 1 with *fn and *user set, or 0
 * when there is none (also for a NULL config). */
int opes__config_param_check(const opes_smtp_config *cfg, unsigned where, uint64_t key,
                             const char *keyword, size_t len, opes_param_check_fn *fn, void **user);

/* ---- xtext (xtext.c) ----------------------------------------------------
 * The check of opes_xtext_validate (same status, *err and *notes), which
 * also gives the number of octets the xtext decodes to (*out_len) and the
 * offset of the first hexchar that decodes to an octet that is not
 * printable US-ASCII (32-126, HT; RFC 3461 4.2, 4.4), SIZE_MAX if none:
 * what the ENVID and ORCPT checks need, in one pass and without decoding. */
opes_status opes__xtext_check(const char *src, size_t len, unsigned lenient, size_t *err,
                              unsigned *notes, size_t *out_len, size_t *nonprint);
/* Write src[0..src_len) as xtext (RFC 3461 4) through w: xchars as
 * themselves, every other octet as "+" and two upper-case hex digits; with
 * hex_comma, "," too (a list whose items are split on literal commas before
 * decoding, as the XOPES-BYPASS value: docs/opes-smtp.md 8.1). */
void opes__wr_xtext(opes__wr *w, const char *src, size_t src_len, int hex_comma);

/* ---- UTF-8 ---------------------------------------------------------------
 * Length of the well-formed UTF-8 sequence starting at p (1..4), or 0 if
 * p[0..n) does not start with one. n > 0. Code point in *cp if not NULL. */
size_t opes__utf8_seq(const unsigned char *p, size_t n, uint32_t *cp);
/* Encode code point cp (<= 0x10FFFF, not a surrogate) into out[4]; returns
 * the length, 0 if cp is not a scalar value. */
size_t opes__utf8_encode(uint32_t cp, unsigned char out[4]);

/* ---- path internals ------------------------------------------------------
 * opes_mailbox_parse() with the default limits and the given OPES_LENIENT_*
 * bits instead of a config's (for callers that have no config). */
opes_status opes__mailbox_parse_lenient(unsigned lenient, int utf8, const char *buf, size_t len,
                                        opes_path *out);

/* ---- header scanner storage ----------------------------------------------
 * Upper bound of sizeof(opes_header_scanner), so another object (the MIME
 * walker) can embed one and start it with opes_header_scanner_init_in();
 * header.c asserts it at compile time. */
#define OPES__HEADER_SCANNER_SIZE 384

/* ---- RFC 5322 lexical tokens (mail_lex.c): FWS, comments, CFWS ----------
 * Shared by the mail-layer parsers (date, received). A fold is CRLF WSP, or
 * LF WSP with OPES__LX_ALLOW_LF. Scanners work on b[0..len) from index i,
 * never read past len and OR what they saw into *info. */
enum {
    OPES__LX_ALLOW_LF = 1u << 0,  /* option: LF WSP is a fold */
    OPES__LX_ALLOW_RAW8 = 1u << 1 /* option: bytes that are not UTF-8 in comments */
};
enum {
    OPES__LX_WSP = 1u << 0,       /* some WSP or a fold */
    OPES__LX_FOLD = 1u << 1,      /* a fold */
    OPES__LX_OBS_FWS = 1u << 2,   /* two folds with only WSP between (RFC 5322 4.2) */
    OPES__LX_LF_FOLD = 1u << 3,   /* an LF WSP fold */
    OPES__LX_COMMENT = 1u << 4,   /* a comment */
    OPES__LX_OBS_CTEXT = 1u << 5, /* obs-ctext / obs-qp (RFC 5322 4.1) in a comment */
    OPES__LX_UTF8 = 1u << 6,      /* UTF8-non-ascii in a comment (RFC 6532 3.2) */
    OPES__LX_RAW8 = 1u << 7       /* bytes that are not UTF-8 in a comment */
};
#define OPES__LX_MAX_DEPTH 32 /* comment nesting limit (no recursion on input) */
/* FWS at b[i..]: the index after it (i when there is none). Stops before
 * anything else, a CR or LF that does not start a fold included. */
size_t opes__lx_fws(const char *b, size_t len, size_t i, unsigned opts, unsigned *info);
/* A comment starting at b[i] == '(': *end = the index after its ")".
 * OPES_ESYNTAX (unterminated, or nested over OPES__LX_MAX_DEPTH),
 * OPES_EBAD_CHAR (NUL; a quoted-pair of NUL, CR or LF), OPES_EBARE_CR,
 * OPES_EBARE_LF, OPES_EBAD_CHAR (CRLF not followed by WSP), OPES_EBAD_UTF8;
 * *err = offset of the offending byte. */
opes_status opes__lx_comment(const char *b, size_t len, size_t i, unsigned opts, size_t *end,
                             unsigned *info, size_t *err);
/* CFWS (possibly empty): FWS and comments; same errors as opes__lx_comment. */
opes_status opes__lx_cfws(const char *b, size_t len, size_t i, unsigned opts, size_t *end,
                          unsigned *info, size_t *err);
/* The status for an unexpected byte at b[i] (i < len): OPES_EBARE_CR (CR
 * not followed by LF), OPES_EBARE_LF (LF not after CR), OPES_EBAD_CHAR
 * (CRLF, NUL or another control character), or `other`. */
opes_status opes__lx_bad_byte(const char *b, size_t len, size_t i, opes_status other);
/* len without one CRLF (or, with OPES__LX_ALLOW_LF, LF) at the very end. */
size_t opes__lx_trim_eol(const char *b, size_t len, unsigned opts);

/* ---- date (date.c) -------------------------------------------------------
 * Days since 1970-01-01 of a proleptic Gregorian date, and the weekday
 * (0 = Sunday) of such a day count. */
int64_t opes__days_from_civil(int64_t y, int m, int d);
int opes__weekday(int64_t days);

/* ---- allocator ------------------------------------------------------------ */
void *opes__alloc(const opes_allocator *a, size_t size);
void opes__free(const opes_allocator *a, void *p, size_t size);

#endif /* OPES_INTERNAL_H */
