/*
 * libopes — the enhanced mail system status code registry (RFC 3463,
 * RFC 5248 and later registrations).
 *
 * A read-only table of every code in the IANA "Simple Mail Transfer Protocol
 * (SMTP) Enhanced Status Codes Registry" with its sample text (title), its
 * "associated basic status code" and its reference, and a few queries on it.
 * Nothing here allocates; every string returned is a static constant of the
 * library. The grammar of a code ("5.7.1") is opes_reply_enhanced_parse() in
 * <opes/reply.h>.
 *
 * The registry lists its codes with the class wildcard X ("X.7.1"): a code
 * registered there is registered for each class 2, 4 and 5. Its description
 * may say for which class the condition is useful ("This is useful only as a
 * permanent error"), but that is advice, not a limit on the registration, and
 * no entry of the registry is limited to some classes (docs/enhanced.md).
 *
 * Part of the smtp layer.
 */
#ifndef OPES_ENHANCED_H
#define OPES_ENHANCED_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags of a registry entry. */
enum opes_enhanced_flag {
    /** Deprecated by its defining document (X.6.10: "This is a duplicate of
     *  X.6.8 and is thus deprecated.", RFC 6531 4.2). */
    OPES_ENHANCED_DEPRECATED = 1u << 0
};

/**
 * One registered code, for every class: X.subject.detail. Plain data; every
 * pointer is to a static constant of the library, valid for the life of the
 * process.
 */
typedef struct opes_enhanced_entry {
    int subject;            /* 0..7 */
    int detail;             /* 0..999 */
    const char *title;      /* the registry's "Sample Text" ("Mailbox full");
                               "" for X.6.10, which the registry leaves blank */
    const char *basic;      /* the registry's "Associated basic status code"
                               as written there ("451, 550", "Any", "Not
                               given", "5XX"), or NULL where it gives none
                               (X.6.10, X.7.28) or it was not verified (X.7.29) */
    const int *basic_codes; /* the reply codes named in basic, ascending;
                               NULL iff nbasic is 0 */
    size_t nbasic;
    const char *reference; /* "RFC 3463"; several as "RFC 7372, RFC 6376" */
    unsigned flags;        /* OR of enum opes_enhanced_flag */
} opes_enhanced_entry;

/**
 * Look a code up in the registry.
 *
 * @param cls      2, 4 or 5 (RFC 3463 2)
 * @param subject  0..999
 * @param detail   0..999
 * @param[out] entry  OPES_OK: the entry (static; never freed). May be NULL
 *                    to test registration only.
 * @return OPES_OK (registered); OPES_ENOTFOUND (well-formed but not
 *         registered); OPES_EINVAL (cls not 2, 4 or 5, or subject or detail
 *         outside 0..999).
 */
OPES_API opes_status opes_enhanced_lookup(int cls, int subject, int detail,
                                          const opes_enhanced_entry **entry);

/**
 * Look a code given as text up in the registry: buf[0..len) must be the
 * whole code, as opes_reply_enhanced_parse() checks it ("5.7.1"; no leading
 * zeros, no spaces).
 *
 * @param[out] entry  as for opes_enhanced_lookup() (may be NULL)
 * @param[out] cls    the code's class, also on OPES_ENOTFOUND (may be NULL)
 * @return OPES_OK; OPES_ENOTFOUND (well-formed, not registered);
 *         OPES_EBAD_ENHANCED_CODE (malformed); OPES_EINVAL (buf NULL, len > 0).
 */
OPES_API opes_status opes_enhanced_lookup_str(const char *buf, size_t len,
                                              const opes_enhanced_entry **entry, int *cls);

/**
 * The registry's title ("Sample Text") of cls.subject.detail, e.g.
 * "Bad destination mailbox address" for 5.1.1.
 * @return a static string; "" for X.6.10 (registered, no sample text); NULL
 *         when the code is not registered or cls is not 2, 4 or 5.
 */
OPES_API const char *opes_enhanced_title(int cls, int subject, int detail);

/**
 * The summary of a class sub-code in the registry (RFC 3463 2): 2
 * "Success", 4 "Persistent Transient Failure", 5 "Permanent Failure".
 * @return a static string, or NULL for any other value.
 */
OPES_API const char *opes_enhanced_class_title(int cls);

/**
 * The summary of a subject sub-code in the registry (RFC 3463 2): 0 "Other
 * or Undefined Status" .. 7 "Security or Policy Status".
 * @return a static string, or NULL for a subject not registered (> 7, < 0).
 */
OPES_API const char *opes_enhanced_subject_title(int subject);

/** Number of entries of the registry table. */
OPES_API size_t opes_enhanced_count(void);

/**
 * Iterate over the registry in order of subject, then detail. Start with
 * *pos = 0:
 *
 *     size_t pos = 0;
 *     const opes_enhanced_entry *e;
 *     while (opes_enhanced_next(&pos, &e) == OPES_OK)
 *         printf("X.%d.%d %s\n", e->subject, e->detail, e->title);
 *
 * @return OPES_OK (*entry set, *pos advanced); OPES_ENOTFOUND (no more);
 *         OPES_EINVAL (pos or entry NULL).
 */
OPES_API opes_status opes_enhanced_next(size_t *pos, const opes_enhanced_entry **entry);

/**
 * A sensible enhanced code for a basic reply code, for a server that must
 * send one (RFC 2034) and has nothing more specific. The rule
 * (docs/enhanced.md):
 *  - 2yz replies of RFC 5321 4.2.3 give "2.0.0": a success reports no
 *    condition to classify;
 *  - the other replies of RFC 5321 4.2.3 give the registered code that
 *    states that reply's meaning (500 "5.5.2", 501 "5.5.4", 452 "4.3.1",
 *    552 "5.2.2"), X.S.0 when the meaning fixes only the subject (421, 451
 *    "4.3.0", 551, 553 "5.1.0"), and X.0.0 when the registry associates the
 *    reply with codes of several subjects (450 "4.0.0", 550, 554 "5.0.0"):
 *    RFC 3463 3.1, X.0.0 is for errors "for which only the class of the
 *    error is known";
 *  - another reply that the registry associates with codes of one subject
 *    only gives that code when there is one (523 "5.7.10", 556 "5.1.10"),
 *    else X.S.0 (535 "5.7.0");
 *  - any other 2yz, 4yz or 5yz reply gives its class with ".0.0".
 * The class always equals the reply's first digit.
 *
 * @param reply_code  a Reply-code (RFC 5321 4.2: 2-5, 0-5, 0-9)
 * @return a static NUL-terminated code; NULL for a 3yz reply (RFC 2034 4:
 *         3xx replies carry no enhanced code) or a value that is not a
 *         Reply-code.
 */
OPES_API const char *opes_enhanced_default(int reply_code);

#ifdef __cplusplus
}
#endif
#endif /* OPES_ENHANCED_H */
