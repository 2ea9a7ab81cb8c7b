/* xtext (RFC 3461 4, RFC 4954 8) and utf-8-addr-xtext/-unitext (RFC 6533 3). */
#include "harness.h"

#include <stdlib.h>

/* guarded_copy(p, 0) points at the guard page itself and guarded_free()
 * then faults (harness bug, reported): empty inputs use a static "". */
static const char *gcopy(const char *s, size_t n)
{
    return n ? guarded_copy(s, n) : "";
}
static void gfree(const char *g, size_t n)
{
    if (n)
        guarded_free(g);
}

/* Decode through a guarded copy; returns the status, output in out/outlen. */
static opes_status xdec(const char *s, unsigned lenient, char *out, size_t cap, size_t *outlen)
{
    size_t n = strlen(s);
    const char *g = gcopy(s, n);
    opes_status st = opes_xtext_decode(out, cap, outlen, g, n, lenient);
    gfree(g, n);
    return st;
}

static opes_status xval(const char *s, unsigned lenient, size_t *off, unsigned *notes)
{
    size_t n = strlen(s);
    const char *g = gcopy(s, n);
    opes_status st = opes_xtext_validate(g, n, lenient, off, notes);
    gfree(g, n);
    return st;
}

static opes_status xenc(char *out, size_t cap, size_t *outlen, const char *s, size_t n)
{
    const char *g = gcopy(s, n);
    opes_status st = opes_xtext_encode(out, cap, outlen, g, n);
    gfree(g, n);
    return st;
}

static opes_status uenc(const char *s, size_t n, int form, char *out, size_t cap, size_t *outlen)
{
    const char *g = gcopy(s, n);
    opes_status st = opes_utf8addr_encode(out, cap, outlen, g, n, form);
    gfree(g, n);
    return st;
}

static opes_status udec(const char *s, int form, char *out, size_t cap, size_t *outlen, size_t *off)
{
    size_t n = strlen(s);
    const char *g = gcopy(s, n);
    opes_status st = opes_utf8addr_decode(out, cap, outlen, g, n, form, off);
    gfree(g, n);
    return st;
}

static void test_rfc_examples(void)
{
    char out[64];
    size_t n = 0;

    /* RFC 4954 5.1: "C: MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com" */
    CHECK_ST(xdec("e+3Dmc2@example.com", 0, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "e=mc2@example.com", 17);
    CHECK_ST(xenc(out, sizeof out, &n, "e=mc2@example.com", 17), OPES_OK);
    CHECK_MEM(out, n, "e+3Dmc2@example.com", 19);
    /* RFC 4954 5.1: "AUTH=<>" is xtext as written ("<" and ">" are xchars) */
    CHECK_ST(xval("<>", 0, NULL, NULL), OPES_OK);
    CHECK_ST(xdec("<>", 0, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "<>", 2);

    /* RFC 3461 10.1: "MAIL FROM:<Alice@Example.ORG> RET=HDRS ENVID=QQ314159" and
     * "ORCPT=rfc822;Carol@Ivory.EDU": xtext that decodes to itself */
    CHECK_ST(xdec("QQ314159", 0, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "QQ314159", 8);
    CHECK_ST(xdec("Carol@Ivory.EDU", 0, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "Carol@Ivory.EDU", 15);
    /* the whole ORCPT value is xtext too (";" is an xchar) */
    CHECK_ST(xval("rfc822;Carol@Ivory.EDU", 0, NULL, NULL), OPES_OK);
    CHECK_ST(xdec("rfc822;Dana@Ivory.EDU", 0, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "rfc822;Dana@Ivory.EDU", 21);
    CHECK_ST(xenc(out, sizeof out, &n, "George@Tax-ME.GOV", 17), OPES_OK);
    CHECK_MEM(out, n, "George@Tax-ME.GOV", 17);

    /* RFC 6533 3: "ORCPT=utf-8;\x{70AE}..." (U+70AE is E7 82 AE in UTF-8) */
    CHECK_ST(udec("\\x{70AE}@example.com", OPES_UTF8ADDR_XTEXT, out, sizeof out, &n, NULL),
             OPES_OK);
    CHECK_MEM(out, n, "\xE7\x82\xAE@example.com", 15);
    CHECK_ST(uenc("\xE7\x82\xAE@example.com", 15, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n),
             OPES_OK);
    CHECK_MEM(out, n, "\\x{70AE}@example.com", 20);
    /* unitext keeps the UTF-8 raw */
    CHECK_ST(uenc("\xE7\x82\xAE@example.com", 15, OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n),
             OPES_OK);
    CHECK_MEM(out, n, "\xE7\x82\xAE@example.com", 15);
}

static void test_xtext_validate(void)
{
    size_t off = 999;
    unsigned notes = 99;

    CHECK_ST(xval("", 0, &off, &notes), OPES_OK); /* xtext = *( ... ) */
    CHECK_EQ(notes, 0);
    CHECK_ST(xval("!~", 0, NULL, NULL), OPES_OK);
    CHECK_ST(xval("+2B+3D+00+FF", 0, NULL, NULL), OPES_OK);
    /* "+" and "=" are not xchars */
    CHECK_ST(xval("a=b", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 1);
    /* "+" not followed by two hex digits */
    CHECK_ST(xval("ab+", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 3);
    CHECK_ST(xval("ab+4", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 4);
    CHECK_ST(xval("+G0", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 1);
    CHECK_ST(xval("+0G", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 2);
    CHECK_ST(xval("++2B", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 1);
    /* SP, controls, DEL, 8-bit */
    CHECK_ST(xval("a b", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 1);
    CHECK_ST(xval("ab\x7f", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 2);
    CHECK_ST(xval("\xc3\xa9", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 0);
    CHECK_ST(xval("a\r\n", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 1);
    {
        const char nul[] = {'a', '\0', 'b'};
        const char *g = guarded_copy(nul, 3);
        CHECK_ST(opes_xtext_validate(g, 3, 0, &off, NULL), OPES_EBAD_XTEXT);
        CHECK_EQ(off, 1);
        guarded_free(g);
    }
    /* lower-case hex: strict rejects (RFC 3461 4 "two upper case hexadecimal
     * digits"), lenient accepts and says so */
    CHECK_ST(xval("e+3dmc2", 0, &off, NULL), OPES_EBAD_XTEXT);
    CHECK_EQ(off, 3);
    notes = 0;
    CHECK_ST(xval("e+3dmc2", OPES_LENIENT_XTEXT_CASE, &off, &notes), OPES_OK);
    CHECK_EQ(notes, OPES_NOTE_XTEXT_CASE);
    notes = 99;
    CHECK_ST(xval("e+3Dmc2", OPES_LENIENT_XTEXT_CASE, &off, &notes), OPES_OK);
    CHECK_EQ(notes, 0);
    /* other lenient bits do not relax xtext */
    CHECK_ST(xval("+3d", OPES_LENIENT_ALL & ~(unsigned)OPES_LENIENT_XTEXT_CASE, &off, NULL),
             OPES_EBAD_XTEXT);
    CHECK_ST(opes_xtext_validate(NULL, 1, 0, NULL, NULL), OPES_EINVAL);
    CHECK_ST(opes_xtext_validate(NULL, 0, 0, NULL, NULL), OPES_OK);
}

static void test_xtext_decode(void)
{
    char out[16];
    size_t n = 77;

    CHECK_ST(xdec("+00+0D+0A", 0, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "\0\r\n", 3);
    CHECK_ST(xdec("+2b", OPES_LENIENT_XTEXT_CASE, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "+", 1);
    /* on error: nothing consumed, *len 0, dst untouched */
    memset(out, 'Z', sizeof out);
    n = 77;
    CHECK_ST(xdec("abc+2", 0, out, sizeof out, &n), OPES_EBAD_XTEXT);
    CHECK_EQ(n, 0);
    CHECK(out[0] == 'Z');
    CHECK_ST(xdec("+2b", 0, out, sizeof out, &n), OPES_EBAD_XTEXT);
    /* size query and ENOSPC */
    CHECK_ST(opes_xtext_decode(NULL, 0, &n, "a+2Bb", 5, 0), OPES_ENOSPC);
    CHECK_EQ(n, 3);
    CHECK_ST(opes_xtext_decode(out, 2, &n, "a+2Bb", 5, 0), OPES_ENOSPC);
    CHECK_EQ(n, 3);
    CHECK_ST(opes_xtext_decode(out, 3, &n, "a+2Bb", 5, 0), OPES_OK);
    CHECK_MEM(out, n, "a+b", 3);
    CHECK_ST(opes_xtext_decode(NULL, 0, &n, "", 0, 0), OPES_OK);
    CHECK_EQ(n, 0);
    CHECK_ST(opes_xtext_decode(NULL, 4, &n, "a", 1, 0), OPES_EINVAL);
    CHECK_ST(opes_xtext_decode(out, 4, NULL, "a", 1, 0), OPES_EINVAL);
    CHECK_ST(opes_xtext_decode(out, 4, &n, NULL, 1, 0), OPES_EINVAL);
}

static void test_xtext_encode(void)
{
    char out[1024];
    size_t n;
    unsigned char all[256];

    /* specials: "+", "=", SP, CTLs, DEL and 8-bit with upper-case hex */
    CHECK_ST(xenc(out, sizeof out, &n, "a+b=c d", 7), OPES_OK);
    CHECK_MEM(out, n, "a+2Bb+3Dc+20d", 13);
    CHECK_ST(xenc(out, sizeof out, &n, "\r\n\0\x7f\xff", 5), OPES_OK);
    CHECK_MEM(out, n, "+0D+0A+00+7F+FF", 15);
    CHECK_ST(xenc(NULL, 0, &n, "a=", 2), OPES_ENOSPC);
    CHECK_EQ(n, 4);
    CHECK_ST(xenc(NULL, 0, &n, "", 0), OPES_OK);
    CHECK_EQ(n, 0);
    CHECK_ST(xenc(out, 3, &n, "a=", 2), OPES_ENOSPC);
    CHECK_EQ(n, 4);
    CHECK_ST(opes_xtext_encode(NULL, 1, &n, "a", 1), OPES_EINVAL);

    /* every octet: encode -> validate (strict) -> decode gives the input */
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    CHECK_ST(opes_xtext_encode(out, sizeof out, &n, (const char *)all, 256), OPES_OK);
    {
        size_t off, m;
        char back[256];
        const char *g = guarded_copy(out, n);
        CHECK_ST(opes_xtext_validate(g, n, 0, &off, NULL), OPES_OK);
        CHECK_ST(opes_xtext_decode(back, sizeof back, &m, g, n, 0), OPES_OK);
        CHECK_MEM(back, m, all, 256);
        /* 94 xchars minus "+" "=" stay single, 256-92 become 3 bytes */
        CHECK_EQ(n, 92 + 3 * (256 - 92));
        for (size_t i = 0; i < n; i++)
            CHECK(out[i] > ' ' && out[i] < 0x7f);
        guarded_free(g);
    }
}

/* Each branch of HEXPOINT (RFC 6533 3), accepted and rejected. */
static void test_hexpoint(void)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
    } v[] = {
        /* ( "0"/"1" ) %x31-39 */
        {"\\x{01}", "\x01"},
        {"\\x{09}", "\x09"},
        {"\\x{11}", "\x11"},
        {"\\x{19}", "\x19"},
        {"\\x{00}", NULL}, /* NUL: no form */
        {"\\x{0A}", NULL}, /* second digit must be %x31-39 */
        {"\\x{0D}", NULL},
        {"\\x{0F}", NULL},
        {"\\x{1A}", NULL},
        {"\\x{1F}", NULL},
        /* "10" / "20" / "2B" / "3D" / "7F" / "5C" */
        {"\\x{10}", "\x10"},
        {"\\x{20}", " "},
        {"\\x{2B}", "+"},
        {"\\x{3D}", "="},
        {"\\x{7F}", "\x7f"},
        {"\\x{5C}", "\\"},
        /* QCHARs must not be escaped */
        {"\\x{21}", NULL},
        {"\\x{41}", NULL},
        {"\\x{40}", NULL},
        {"\\x{7E}", NULL},
        {"\\x{2A}", NULL},
        /* HEXDIG8 HEXDIG: 80-FF */
        {"\\x{80}", "\xc2\x80"},
        {"\\x{E9}", "\xc3\xa9"},
        {"\\x{FF}", "\xc3\xbf"},
        {"\\x{e9}", "\xc3\xa9"}, /* RFC 5234 2.3: case-insensitive */
        /* NZHEXDIG 2(HEXDIG): 100-FFF, no leading zero */
        {"\\x{100}", "\xc4\x80"},
        {"\\x{FFF}", "\xe0\xbf\xbf"},
        {"\\x{0E9}", NULL},
        {"\\x{041}", NULL},
        {"\\x{000}", NULL},
        /* NZDHEXDIG 3(HEXDIG) / "D" %x30-37 2(HEXDIG): no surrogates */
        {"\\x{1000}", "\xe1\x80\x80"},
        {"\\x{70AE}", "\xe7\x82\xae"},
        {"\\x{D7FF}", "\xed\x9f\xbf"},
        {"\\x{D800}", NULL},
        {"\\x{DBFF}", NULL},
        {"\\x{DC00}", NULL},
        {"\\x{DFFF}", NULL},
        {"\\x{E000}", "\xee\x80\x80"},
        {"\\x{FFFF}", "\xef\xbf\xbf"},
        {"\\x{0100}", NULL},
        {"\\x{00E9}", NULL},
        /* NZHEXDIG 4(HEXDIG): 10000-FFFFF */
        {"\\x{10000}", "\xf0\x90\x80\x80"},
        {"\\x{1F600}", "\xf0\x9f\x98\x80"},
        {"\\x{FFFFF}", "\xf3\xbf\xbf\xbf"},
        {"\\x{0FFFF}", NULL},
        /* "10" 4HEXDIG: 100000-10FFFF */
        {"\\x{100000}", "\xf4\x80\x80\x80"},
        {"\\x{10FFFF}", "\xf4\x8f\xbf\xbf"},
        {"\\x{110000}", NULL},
        {"\\x{1FFFFF}", NULL},
        {"\\x{010000}", NULL},
        {"\\x{10FFFFF}", NULL},
        {"\\x{0010FFFF}", NULL},
        /* malformed escapes */
        {"\\x{}", NULL},
        {"\\x{1}", NULL}, /* one digit: no form */
        {"\\x{9}", NULL},
        {"\\x{E9", NULL},
        {"\\x{E9 }", NULL},
        {"\\x{G9}", NULL},
        {"\\X{E9}", NULL}, /* %x5C.78: lower-case x only */
        {"\\x(E9)", NULL},
        {"\\xE9", NULL},
        {"\\x", NULL},
        {"\\", NULL},
        {"\\\\", NULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[16];
        size_t n = 0, off = 99;
        opes_status st = udec(v[i].in, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n, &off);
        if (v[i].out) {
            CHECK_ST(st, OPES_OK);
            CHECK_MEM(out, n, v[i].out, strlen(v[i].out));
        } else {
            CHECK_ST(st, OPES_EBAD_UTF8ADDR);
            CHECK_EQ(off, 0);
            CHECK_EQ(n, 0);
        }
        if (st != OPES_OK && v[i].out)
            fprintf(stderr, "    case %s\n", v[i].in);
        if (st == OPES_OK && !v[i].out)
            fprintf(stderr, "    case %s accepted\n", v[i].in);
    }
}

static void test_utf8addr_decode(void)
{
    char out[64];
    size_t n, off;

    /* QCHAR excludes CTLs, SP, "\", "+", "=" */
    CHECK_ST(udec("a b@c", OPES_UTF8ADDR_XTEXT, out, sizeof out, &n, &off), OPES_EBAD_UTF8ADDR);
    CHECK_EQ(off, 1);
    CHECK_ST(udec("a+b@c", OPES_UTF8ADDR_XTEXT, out, sizeof out, &n, &off), OPES_EBAD_UTF8ADDR);
    CHECK_EQ(off, 1);
    CHECK_ST(udec("a=b@c", OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n, &off), OPES_EBAD_UTF8ADDR);
    CHECK_EQ(off, 1);
    CHECK_ST(udec("ab\\x{2B}@c", OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n, &off), OPES_OK);
    CHECK_MEM(out, n, "ab+@c", 5);
    /* 1*( ... ): empty is not an encoding */
    CHECK_ST(udec("", OPES_UTF8ADDR_XTEXT, out, sizeof out, &n, &off), OPES_EBAD_UTF8ADDR);
    /* raw UTF-8: unitext only, and well-formed */
    CHECK_ST(udec("\xc3\xa9@x", OPES_UTF8ADDR_XTEXT, out, sizeof out, &n, &off),
             OPES_EBAD_UTF8ADDR);
    CHECK_EQ(off, 0);
    CHECK_ST(udec("\xc3\xa9@x", OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n, &off), OPES_OK);
    CHECK_MEM(out, n, "\xc3\xa9@x", 4);
    CHECK_ST(udec("a\xc3@x", OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n, &off), OPES_EBAD_UTF8);
    CHECK_EQ(off, 1);
    CHECK_ST(udec("a\xed\xa0\x80", OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n, &off),
             OPES_EBAD_UTF8); /* UTF-8 of a surrogate */
    CHECK_ST(udec("a\xc0\xaf", OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n, &off),
             OPES_EBAD_UTF8); /* overlong */
    /* a truncated sequence at the very end of the buffer (guarded) */
    CHECK_ST(udec("ab\xe7\x82", OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n, &off), OPES_EBAD_UTF8);
    CHECK_EQ(off, 2);
    /* the offset of a bad escape is its "\" */
    CHECK_ST(udec("abc\\x{D800}", OPES_UTF8ADDR_XTEXT, out, sizeof out, &n, &off),
             OPES_EBAD_UTF8ADDR);
    CHECK_EQ(off, 3);
    /* builder convention */
    CHECK_ST(opes_utf8addr_decode(NULL, 0, &n, "\\x{70AE}", 8, OPES_UTF8ADDR_XTEXT, NULL),
             OPES_ENOSPC);
    CHECK_EQ(n, 3);
    CHECK_ST(opes_utf8addr_decode(out, 2, &n, "\\x{70AE}", 8, OPES_UTF8ADDR_XTEXT, NULL),
             OPES_ENOSPC);
    CHECK_EQ(n, 3);
    CHECK_ST(opes_utf8addr_decode(out, 3, &n, "\\x{70AE}", 8, 2, NULL), OPES_EINVAL);
    CHECK_ST(opes_utf8addr_decode(out, 3, &n, NULL, 8, 0, NULL), OPES_EINVAL);
}

static void test_utf8addr_encode(void)
{
    char out[128];
    size_t n;

    /* xtext form: every non-QCHAR escaped, shortest HEXPOINT, upper case */
    CHECK_ST(uenc("a b+c=d\\e", 9, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "a\\x{20}b\\x{2B}c\\x{3D}d\\x{5C}e", 29);
    CHECK_ST(uenc("\x01\t\x10\x19\x7f", 5, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "\\x{01}\\x{09}\\x{10}\\x{19}\\x{7F}", 30);
    /* 2, 3, 4, 5, 6 digit forms */
    CHECK_ST(uenc("\xc3\xa9\xc4\x80\xe1\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 15,
                  OPES_UTF8ADDR_XTEXT, out, sizeof out, &n),
             OPES_OK);
    CHECK_MEM(out, n, "\\x{E9}\\x{100}\\x{1000}\\x{1F600}\\x{10FFFF}", 40);
    /* unitext form: raw UTF-8, the specials escaped */
    CHECK_ST(uenc("\xc3\xa9 +", 4, OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n), OPES_OK);
    CHECK_MEM(out, n, "\xc3\xa9\\x{20}\\x{2B}", 14);
    /* refusals */
    CHECK_ST(uenc("a\rb", 3, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_EINJECT);
    CHECK_EQ(n, 0);
    CHECK_ST(uenc("a\nb", 3, OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n), OPES_EINJECT);
    CHECK_ST(uenc("a\0b", 3, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_EINJECT);
    CHECK_ST(uenc("a\x0b", 2, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_EBAD_UTF8ADDR);
    CHECK_ST(uenc("a\x1f", 2, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_EBAD_UTF8ADDR);
    CHECK_ST(uenc("a\xc3", 2, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_EBAD_UTF8);
    CHECK_ST(uenc("\xed\xa0\x80", 3, OPES_UTF8ADDR_UNITEXT, out, sizeof out, &n), OPES_EBAD_UTF8);
    CHECK_ST(uenc("", 0, OPES_UTF8ADDR_XTEXT, out, sizeof out, &n), OPES_EBAD_UTF8ADDR);
    CHECK_ST(opes_utf8addr_encode(NULL, 0, &n, "a=", 2, OPES_UTF8ADDR_XTEXT), OPES_ENOSPC);
    CHECK_EQ(n, 7);
    CHECK_ST(opes_utf8addr_encode(out, sizeof out, &n, "a", 1, 5), OPES_EINVAL);

    /* round trip over every representable scalar value, both forms, in
     * blocks: encode -> decode gives the input */
    for (int form = 0; form <= 1; form++) {
        static char in[4 * 512], enc[12 * 512], back[4 * 512];
        uint32_t cp = 1;
        while (cp <= 0x10FFFF) {
            size_t il = 0, el, bl;
            for (int k = 0; k < 512 && cp <= 0x10FFFF; cp++) {
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    continue;
                if ((cp >= 0x0A && cp <= 0x0F) || (cp >= 0x1A && cp <= 0x1F))
                    continue;
                unsigned char u[4];
                size_t ul;
                if (cp < 0x80) {
                    u[0] = (unsigned char)cp;
                    ul = 1;
                } else if (cp < 0x800) {
                    u[0] = (unsigned char)(0xC0 | (cp >> 6));
                    u[1] = (unsigned char)(0x80 | (cp & 0x3F));
                    ul = 2;
                } else if (cp < 0x10000) {
                    u[0] = (unsigned char)(0xE0 | (cp >> 12));
                    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
                    ul = 3;
                } else {
                    u[0] = (unsigned char)(0xF0 | (cp >> 18));
                    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
                    ul = 4;
                }
                memcpy(in + il, u, ul);
                il += ul;
                k++;
            }
            if (opes_utf8addr_encode(enc, sizeof enc, &el, in, il, form) != OPES_OK ||
                opes_utf8addr_decode(back, sizeof back, &bl, enc, el, form, NULL) != OPES_OK ||
                bl != il || memcmp(back, in, il) != 0) {
                CHECK(0 && "utf8addr round trip");
                fprintf(stderr, "    form %d block ending before U+%04lX\n", form,
                        (unsigned long)cp);
                break;
            }
            if (form == OPES_UTF8ADDR_XTEXT) {
                for (size_t i = 0; i < el; i++) {
                    if ((unsigned char)enc[i] <= ' ' || (unsigned char)enc[i] >= 0x7f) {
                        CHECK(0 && "utf8addr xtext form is 7-bit printable");
                        break;
                    }
                }
            }
        }
        CHECK(cp > 0x10FFFF);
    }
}

int main(void)
{
    test_rfc_examples();
    test_xtext_validate();
    test_xtext_decode();
    test_xtext_encode();
    test_hexpoint();
    test_utf8addr_decode();
    test_utf8addr_encode();
    return TEST_END();
}
