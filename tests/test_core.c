/* Core: status names and messages, version, features, writer, UTF-8,
 * character tables, the SMTP config and its extension table. */
#include "harness.h"
#include "internal.h"

#include <stdlib.h>

static void test_status(void)
{
    /* every code in the enum has a name and a message of its own */
    static const int codes[] = {
        OPES_OK, OPES_INCOMPLETE, OPES_EINVAL, OPES_ENOSPC, OPES_ENOMEM, OPES_ECEILING,
        OPES_ENOTFOUND, OPES_EUNSUPPORTED, OPES_EINJECT, OPES_EEXIST, OPES_EOVERFLOW,
        OPES_ESYNTAX, OPES_EBAD_CHAR, OPES_EBARE_CR, OPES_EBARE_LF, OPES_EUNKNOWN_COMMAND,
        OPES_ENOT_OFFERED, OPES_EUNEXPECTED_ARG, OPES_EMISSING_ARG, OPES_EBAD_PATH,
        OPES_EBAD_LOCAL_PART, OPES_EBAD_DOMAIN, OPES_EBAD_ADDRESS_LITERAL, OPES_EBAD_PARAM,
        OPES_EPARAM_DUPLICATE, OPES_EPARAM_VALUE, OPES_EPARAM_UNKNOWN, OPES_EBAD_XTEXT,
        OPES_EBAD_UTF8, OPES_EBAD_BASE64, OPES_EBAD_REPLY, OPES_EREPLY_CODE_MISMATCH,
        OPES_EBAD_ENHANCED_CODE, OPES_EBAD_EHLO, OPES_EBAD_NUMBER, OPES_EBAD_UTF8ADDR,
        OPES_ELINE_TOO_LONG, OPES_EREPLY_TOO_LONG, OPES_ELOCAL_PART_TOO_LONG,
        OPES_EDOMAIN_TOO_LONG, OPES_EPATH_TOO_LONG, OPES_ETOO_MANY_PARAMS,
        OPES_ETOO_MANY_LINES, OPES_ETEXT_LINE_TOO_LONG, OPES_EAUTH_LINE_TOO_LONG,
        OPES_EPARAM_TOO_LONG, OPES_ESTATE, OPES_EBAD_HEADER_NAME, OPES_EBAD_HEADER,
        OPES_EBAD_URI, OPES_EURI_NOT_ABSOLUTE, OPES_EBAD_DATE, OPES_EBAD_RECEIVED,
        OPES_EBAD_TRACE, OPES_EBAD_BYPASS, OPES_EHEADER_LINE_TOO_LONG, OPES_EHEADER_TOO_LONG,
        OPES_EURI_TOO_LONG, OPES_ETOO_MANY_ITEMS, OPES_ETRACE_TAMPERED, OPES_EBAD_MIME,
        OPES_EBAD_QP, OPES_EBAD_DSN, OPES_EBAD_MBOX, OPES_EBAD_GZIP, OPES_EMIME_TOO_DEEP};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *name = opes_status_name(codes[i]);
        CHECK(strncmp(name, "OPES_", 5) == 0 && strcmp(name, "OPES_UNKNOWN") != 0);
        CHECK(strcmp(opes_strerror(codes[i]), "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(name, opes_status_name(codes[j])) != 0);
    }
    CHECK(strcmp(opes_status_name(OPES_ESYNTAX), "OPES_ESYNTAX") == 0);
    CHECK(strcmp(opes_strerror(12345), "unknown error") == 0);
    CHECK(strcmp(opes_status_name(-99999), "OPES_UNKNOWN") == 0);
}

static void test_version(void)
{
    CHECK_EQ(opes_version(), OPES_VERSION_NUM);
    CHECK(strcmp(opes_version_str(), OPES_VERSION_STR) == 0);
    CHECK(OPES_VERSION_AT_LEAST(0, 1, 0));
    CHECK(!OPES_VERSION_AT_LEAST(99, 0, 0));
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", OPES_VERSION_MAJOR, OPES_VERSION_MINOR,
             OPES_VERSION_PATCH);
    CHECK(strcmp(buf, OPES_VERSION_STR) == 0);
    CHECK_EQ(OPES_VERSION_NUM,
             (OPES_VERSION_MAJOR << 16) | (OPES_VERSION_MINOR << 8) | OPES_VERSION_PATCH);
    CHECK(strcmp(opes_feature_name(OPES_FEATURE_ZLIB), "zlib") == 0);
    CHECK(opes_feature_name(1u << 30) == NULL);
#if OPES_HAVE_ZLIB
    CHECK(opes_features() & OPES_FEATURE_ZLIB);
#else
    CHECK(!(opes_features() & OPES_FEATURE_ZLIB));
#endif
}

static void test_writer(void)
{
    char buf[8];
    size_t len;
    opes__wr w;

    /* size query: dst NULL, cap 0 */
    opes__wr_init(&w, NULL, 0);
    opes__wr_puts(&w, "hello, ");
    opes__wr_u64(&w, 18446744073709551615u);
    CHECK_ST(opes__wr_finish(&w, &len), OPES_ENOSPC);
    CHECK_EQ(len, 7 + 20);

    /* too small: counts on, writes exactly cap bytes, no NUL */
    memset(buf, 'x', sizeof buf);
    opes__wr_init(&w, buf, 5);
    opes__wr_puts(&w, "abcdefg");
    CHECK_ST(opes__wr_finish(&w, &len), OPES_ENOSPC);
    CHECK_EQ(len, 7);
    CHECK_MEM(buf, 8, "abcdexxx", 8);

    /* exact fit */
    opes__wr_init(&w, buf, 3);
    opes__wr_putc(&w, '2');
    opes__wr_u64(&w, 50);
    CHECK_ST(opes__wr_finish(&w, &len), OPES_OK);
    CHECK_MEM(buf, len, "250", 3);

    opes__wr_init(&w, buf, sizeof buf);
    opes__wr_u64(&w, 0);
    CHECK_ST(opes__wr_finish(&w, &len), OPES_OK);
    CHECK_MEM(buf, len, "0", 1);

    /* overflow of the size itself */
    opes__wr_init(&w, NULL, 0);
    w.len = SIZE_MAX - 1;
    opes__wr_put(&w, "abc", 3);
    CHECK_ST(opes__wr_finish(&w, &len), OPES_EOVERFLOW);
}

static void test_utf8(void)
{
    size_t off = 99;
    /* RFC 3629 10 examples */
    CHECK_ST(opes_utf8_validate("\x41\xE2\x89\xA2\xCE\x91\x2E", 7, &off), OPES_OK);
    CHECK_ST(opes_utf8_validate("\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", 9, &off), OPES_OK);
    CHECK_ST(opes_utf8_validate("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", 9, &off), OPES_OK);
    CHECK_ST(opes_utf8_validate("\xEF\xBB\xBF\xF0\xA3\x8E\xB4", 7, &off), OPES_OK);
    CHECK_ST(opes_utf8_validate("", 0, &off), OPES_OK);
    CHECK_ST(opes_utf8_validate(NULL, 0, &off), OPES_OK);
    CHECK_ST(opes_utf8_validate(NULL, 1, &off), OPES_EINVAL);
    /* ill-formed: overlong, surrogate, > U+10FFFF, truncated, lone continuation */
    CHECK_ST(opes_utf8_validate("ab\xC0\xAF", 4, &off), OPES_EBAD_UTF8);
    CHECK_EQ(off, 2);
    CHECK_ST(opes_utf8_validate("\xE0\x80\xAF", 3, &off), OPES_EBAD_UTF8);
    CHECK_ST(opes_utf8_validate("\xED\xA0\x80", 3, &off), OPES_EBAD_UTF8);
    CHECK_ST(opes_utf8_validate("\xF4\x90\x80\x80", 4, &off), OPES_EBAD_UTF8);
    CHECK_ST(opes_utf8_validate("\xF5\x80\x80\x80", 4, &off), OPES_EBAD_UTF8);
    CHECK_ST(opes_utf8_validate("12345678\xE2\x89", 10, &off), OPES_EBAD_UTF8);
    CHECK_EQ(off, 8);
    CHECK_ST(opes_utf8_validate("\x80", 1, &off), OPES_EBAD_UTF8);
    /* boundaries that are valid */
    CHECK_ST(opes_utf8_validate("\xF4\x8F\xBF\xBF\xEE\x80\x80\xC2\x80", 9, &off), OPES_OK);
    /* the over-read guard: a truncated sequence at the very end of a page */
    const char *g = guarded_copy("abc\xF0\x9F\x98", 6);
    CHECK_ST(opes_utf8_validate(g, 6, &off), OPES_EBAD_UTF8);
    guarded_free(g);
    /* encode/decode agree for every scalar value class */
    static const uint32_t cps[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF,
                                   0x10000, 0x10FFFF};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        unsigned char b[4];
        uint32_t back = 0;
        size_t n = opes__utf8_encode(cps[i], b);
        CHECK(n > 0);
        CHECK_EQ(opes__utf8_seq(b, n, &back), n);
        CHECK_EQ(back, cps[i]);
    }
    unsigned char b[4];
    CHECK_EQ(opes__utf8_encode(0xD800, b), 0);
    CHECK_EQ(opes__utf8_encode(0x110000, b), 0);
}

static void test_ctab(void)
{
    /* spot checks against the RFC productions */
    CHECK(OPES__IS('+', OPES__C_ATEXT) && !OPES__IS('+', OPES__C_XCHAR));
    CHECK(!OPES__IS('=', OPES__C_XCHAR) && !OPES__IS('=', OPES__C_EVALUE));
    CHECK(OPES__IS('~', OPES__C_XCHAR) && OPES__IS('!', OPES__C_XCHAR));
    CHECK(!OPES__IS(' ', OPES__C_XCHAR) && !OPES__IS(0x7F, OPES__C_VCHAR));
    CHECK(!OPES__IS('"', OPES__C_QTEXT) && !OPES__IS('\\', OPES__C_QTEXT) &&
          OPES__IS(' ', OPES__C_QTEXT));
    CHECK(!OPES__IS('[', OPES__C_DCONTENT) && !OPES__IS('\\', OPES__C_DCONTENT) &&
          !OPES__IS(']', OPES__C_DCONTENT) && OPES__IS(':', OPES__C_DCONTENT));
    CHECK(OPES__IS('\t', OPES__C_TEXT) && !OPES__IS('\r', OPES__C_TEXT));
    CHECK(!OPES__IS('a', OPES__C_HEXUP) && OPES__IS('a', OPES__C_HEX));
    for (int c = 128; c < 256; c++)
        CHECK(opes__ctab[c] == 0);
    CHECK(opes__ieq("mAiL", 4, "MAIL"));
    CHECK(!opes__ieq("MAI", 3, "MAIL"));
    CHECK(!opes__ieq("MAILX", 5, "MAIL"));
}

static void test_config(void)
{
    opes_smtp_config *c = NULL;
    const char *kw, *ep;
    int offered, rule;

    CHECK_ST(opes_smtp_config_new(&c, NULL), OPES_OK);
    /* defaults, RFC 5321 4.5.3.1 */
    CHECK_EQ(opes_smtp_config_limit(c, OPES_LIMIT_COMMAND_LINE), 512);
    CHECK_EQ(opes_smtp_config_limit(c, OPES_LIMIT_LOCAL_PART), 64);
    CHECK_EQ(opes_smtp_config_limit(c, OPES_LIMIT_RECIPIENTS), 100);
    CHECK_EQ(opes_smtp_config_limit(NULL, OPES_LIMIT_PATH), 256);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_RCPT), 512);
    /* ceilings */
    CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_COMMAND_LINE, OPES_MAX_COMMAND_LINE + 1),
             OPES_ECEILING);
    CHECK_EQ(opes_smtp_config_limit(c, OPES_LIMIT_COMMAND_LINE), 512);
    CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_COMMAND_LINE, 0), OPES_EINVAL);
    CHECK_ST(opes_smtp_config_set_limit(c, 99, 10), OPES_EINVAL);
    CHECK_ST(opes_smtp_config_set_limit(c, OPES_LIMIT_RECIPIENTS, 1000), OPES_OK);
    CHECK_EQ(opes_smtp_config_limit(c, OPES_LIMIT_RECIPIENTS), 1000);
    CHECK_EQ(opes_smtp_config_ceiling(OPES_LIMIT_PARAMS), OPES_MAX_PARAMS);

    /* DSN offered: RCPT lines of at least 1036 octets (RFC 3461 5.4) */
    CHECK_ST(opes_smtp_config_offer(c, "dsn", 1, NULL), OPES_OK);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_RCPT), 1036);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_DATA), 512);
    /* SIZE +26 (RFC 1870), AUTH +500 (RFC 4954), SMTPUTF8 +10, REQUIRETLS +11 */
    size_t mail0 = opes_smtp_config_line_limit(c, OPES_VERB_MAIL);
    CHECK_ST(opes_smtp_config_offer(c, "SIZE", 1, "52428800"), OPES_OK);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_MAIL), mail0 + 26);
    CHECK_ST(opes_smtp_config_offer(c, "AUTH", 1, "PLAIN LOGIN"), OPES_OK);
    CHECK_ST(opes_smtp_config_offer(c, "SMTPUTF8", 1, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_offer(c, "REQUIRETLS", 1, NULL), OPES_OK);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_MAIL), mail0 + 26 + 500 + 10 + 11);
    CHECK_ST(opes_smtp_config_offer(c, "AUTH", 0, NULL), OPES_OK);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_MAIL), mail0 + 26 + 10 + 11);

    /* offers / find_param */
    CHECK(opes_smtp_config_offers(c, "size", 4));
    CHECK(!opes_smtp_config_offers(c, "CHUNKING", 8));
    CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_MAIL, "size", 4, &rule, &kw), OPES_OK);
    CHECK_EQ(rule, OPES_VALUE_REQUIRED);
    CHECK(strcmp(kw, "SIZE") == 0);
    CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_RCPT, "SIZE", 4, NULL, NULL),
             OPES_ENOTFOUND);
    CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_MAIL, "BODY", 4, NULL, NULL),
             OPES_ENOT_OFFERED);
    CHECK_ST(opes_smtp_config_offer(c, "BINARYMIME", 1, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_MAIL, "BODY", 4, NULL, &kw), OPES_OK);
    CHECK(strcmp(kw, "BINARYMIME") == 0);
    CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_MAIL, "X-FOO", 5, NULL, NULL),
             OPES_ENOTFOUND);
    CHECK_ST(opes_smtp_config_find_param(NULL, OPES_PARAM_MAIL, "SIZE", 4, NULL, NULL),
             OPES_ENOTFOUND);

    /* a caller's extension goes through the same table */
    CHECK_ST(opes_smtp_config_add_extension(c, "XOPES", 300, 300), OPES_OK);
    CHECK_ST(opes_smtp_config_add_extension(c, "xopes", 0, 0), OPES_EEXIST);
    CHECK_ST(opes_smtp_config_add_extension(c, "-BAD", 0, 0), OPES_EBAD_CHAR);
    CHECK_ST(opes_smtp_config_add_extension(c, "BAD KW", 0, 0), OPES_EBAD_CHAR);
    /* an empty keyword is no ehlo-keyword (found by fuzz_ehlo_build) */
    CHECK_ST(opes_smtp_config_add_extension(c, "", 0, 0), OPES_EBAD_CHAR);
    CHECK_ST(opes_smtp_config_add_param(c, "XOPES", "", OPES_PARAM_MAIL, OPES_VALUE_NONE),
             OPES_EBAD_CHAR);
    CHECK_ST(opes_smtp_config_add_param(c, "XOPES", "XOPES-BYPASS",
                                        OPES_PARAM_MAIL | OPES_PARAM_RCPT, OPES_VALUE_REQUIRED),
             OPES_OK);
    CHECK_ST(opes_smtp_config_add_param(c, "XOPES", "XOPES-BYPASS", OPES_PARAM_RCPT,
                                        OPES_VALUE_REQUIRED),
             OPES_EEXIST);
    CHECK_ST(opes_smtp_config_add_param(c, "NOPE", "X", OPES_PARAM_MAIL, OPES_VALUE_NONE),
             OPES_ENOTFOUND);
    CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_RCPT, "xopes-bypass", 12, NULL, NULL),
             OPES_ENOT_OFFERED);
    size_t rcpt0 = opes_smtp_config_line_limit(c, OPES_VERB_RCPT);
    CHECK_ST(opes_smtp_config_offer(c, "XOPES", 1, NULL), OPES_OK);
    CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_RCPT, "xopes-bypass", 12, NULL, NULL),
             OPES_OK);
    CHECK_EQ(opes_smtp_config_line_limit(c, OPES_VERB_RCPT), rcpt0 + 300);

    /* EHLO params: refused when they would inject a line */
    CHECK_ST(opes_smtp_config_offer(c, "SIZE", 1, "1\r\n250 EVIL"), OPES_EINJECT);
    CHECK_ST(opes_smtp_config_offer(c, "SIZE", 1, "a  b"), OPES_EBAD_CHAR);
    CHECK_ST(opes_smtp_config_offer(c, "SIZE", 1, "\x01"), OPES_EBAD_CHAR);
    CHECK_ST(opes_smtp_config_offer(c, "NOPE", 1, NULL), OPES_ENOTFOUND);

    /* re-offering with ever longer parameters reuses pool space (an MTA
     * whose SIZE quota changes): every length up to the 400-octet maximum */
    {
        char sz[402];
        int all_ok = 1;
        for (size_t k = 1; k <= 400; k++) {
            memset(sz, '9', k);
            sz[k] = '\0';
            if (opes_smtp_config_offer(c, "SIZE", 1, sz) != OPES_OK)
                all_ok = 0;
        }
        CHECK(all_ok);
        memset(sz, '9', 401);
        sz[401] = '\0';
        CHECK_ST(opes_smtp_config_offer(c, "SIZE", 1, sz), OPES_EINVAL);
        CHECK_ST(opes_smtp_config_offer(c, "SIZE", 1, "52428800"), OPES_OK);
        CHECK(opes_smtp_config_offers(c, "XOPES", 5)); /* the others survive */
        CHECK_ST(opes_smtp_config_find_param(c, OPES_PARAM_RCPT, "xopes-bypass", 12, NULL, NULL),
                 OPES_OK);
    }

    /* table order and contents */
    size_t n = opes_smtp_config_extension_count(c);
    CHECK(n > 10);
    CHECK_ST(opes_smtp_config_extension_at(c, 0, &kw, &ep, &offered), OPES_OK);
    CHECK(strcmp(kw, "SIZE") == 0 && strcmp(ep, "52428800") == 0 && offered == 1);
    CHECK_ST(opes_smtp_config_extension_at(c, n - 1, &kw, &ep, &offered), OPES_OK);
    CHECK(strcmp(kw, "XOPES") == 0 && ep == NULL && offered == 1);
    CHECK_ST(opes_smtp_config_extension_at(c, n, &kw, &ep, &offered), OPES_ENOTFOUND);

    /* lenient flags */
    CHECK_ST(opes_smtp_config_set_lenient(c, OPES_LENIENT_ALL), OPES_OK);
    CHECK_EQ(opes_smtp_config_lenient(c), OPES_LENIENT_ALL);
    CHECK_ST(opes_smtp_config_set_lenient(c, 1u << 20), OPES_EINVAL);
    CHECK_ST(opes_smtp_config_set_utf8(c, 5), OPES_OK);
    CHECK_EQ(opes_smtp_config_utf8(c), 1);

    /* copy and caller-memory init */
    void *mem = malloc(opes_smtp_config_sizeof());
    opes_smtp_config *c2 = NULL;
    CHECK_ST(opes_smtp_config_init_in(mem, opes_smtp_config_sizeof(), &c2), OPES_OK);
    CHECK_ST(opes_smtp_config_init_in(mem, 16, &c2), OPES_EINVAL);
    CHECK(!opes_smtp_config_offers(c2, "XOPES", 5));
    CHECK_ST(opes_smtp_config_copy(c2, c), OPES_OK);
    CHECK(opes_smtp_config_offers(c2, "XOPES", 5));
    CHECK_EQ(opes_smtp_config_line_limit(c2, OPES_VERB_RCPT),
             opes_smtp_config_line_limit(c, OPES_VERB_RCPT));
    opes_smtp_config_free(c2); /* no-op for caller memory */
    free(mem);
    opes_smtp_config_free(c);
    opes_smtp_config_free(NULL);
}

/* failing allocator: every creation path fails cleanly */
static int fail_after;
static void *fa_alloc(void *u, size_t n)
{
    (void)u;
    if (fail_after-- <= 0)
        return NULL;
    return malloc(n);
}
static void fa_free(void *u, void *p, size_t n)
{
    (void)u;
    (void)n;
    free(p);
}

static void test_failmalloc(void)
{
    opes_allocator a = {fa_alloc, NULL, fa_free, NULL};
    opes_smtp_config *c = (opes_smtp_config *)1;
    fail_after = 0;
    CHECK_ST(opes_smtp_config_new(&c, &a), OPES_ENOMEM);
    CHECK(c == NULL);
    fail_after = 1;
    CHECK_ST(opes_smtp_config_new(&c, &a), OPES_OK);
    opes_smtp_config_free(c);
    CHECK_ST(opes_smtp_config_new(NULL, NULL), OPES_EINVAL);
}

int main(void)
{
    test_status();
    test_version();
    test_writer();
    test_utf8();
    test_ctab();
    test_config();
    test_failmalloc();
    return TEST_END();
}
