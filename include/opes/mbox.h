/*
 * libopes — an mbox reader: a mailbox of messages split into its messages,
 * streaming and in constant memory, with the ">From " quoting undone; in a
 * build with zlib, the same for gzip-compressed mailboxes (RFC 1952).
 *
 * Part of the mail layer. The format has no standard; the reader follows
 * the description in qmail's mbox(5) (mboxrd, "popularized by Rahul Dhesi
 * in June 1995") and the "default" format of RFC 4155 appendix A:
 *
 *  - A message begins with a From_ line: any line that begins with the five
 *    characters "From " (mbox(5): "A From_ line means any line that begins
 *    with the characters F, r, o, m, space"). The reader does not require
 *    the blank line before it (mbox(5): "The reader should not attempt to
 *    take advantage of the fact that every From_ line (past the beginning
 *    of the file) is preceded by a blank line"). The mailbox must start
 *    with one: anything else is OPES_EBAD_MBOX at offset 0. An empty input
 *    is an empty mailbox.
 *  - A message runs until the next From_ line or the end of the input. Its
 *    final blank line belongs to the format, not to the message (mbox(5):
 *    a writer "appends a blank line to the message. If the last line of the
 *    message was a partial line, it writes two newlines"; a reader "strips
 *    off the final blank line"). So the line end of the message's last line
 *    stays in the message, and the empty line after it is removed. Where a
 *    writer left no blank line ("text\nFrom ..."), nothing is removed and
 *    the message ends with its last line end (as Python's mailbox module
 *    reads it); the MESSAGE_END event says so (OPES_MBOX_MF_NO_BLANK_LINE).
 *  - Line ends stay as the file has them: LF (RFC 4155 appendix A: the
 *    canonical mbox uses LF alone). A CRLF mailbox is tolerated: the CR
 *    stays in the data, and a final blank line written as CRLF is removed
 *    as an LF one is. A consumer parses the messages with the LF-tolerant
 *    flags: OPES_HEADER_LF (<opes/header.h>), OPES_MIME_LF (<opes/mime.h>).
 *  - Quoting, chosen by the caller (opes_mbox_reader_set_variant()):
 *      mboxrd (the default): a writer prepends ">" to every line matching
 *        ^>*From  ; the reader removes one ">" from every line matching
 *        ^>+From  (">From x" -> "From x", ">>From x" -> ">From x"). This is
 *        reversible: every message comes back as it was written.
 *      mboxo: a writer prepends ">" to lines starting "From " only; the
 *        reader turns ">From " at a line start into "From " and leaves
 *        ">>From " alone. What is lost: a message that really had a line
 *        ">From ..." (a quoted reply) was stored unchanged by the writer
 *        and loses its ">" when read (mbox(5) "COMMON MBOX VARIANTS": "it
 *        is impossible to tell whether [>From now through August...] was
 *        quoted in the original message").
 *    The From_ line that starts a message is never unescaped: it is not
 *    message data.
 *
 * Streaming: the reader is a push parser (opes_mbox_feed()); a message
 * arrives as any number of DATA events, never whole. Memory is constant:
 * one block of opes_mbox_reader_sizeof() bytes, allocated by _new (or given
 * by the caller to _init_in), whatever the size of the messages, of their
 * lines or of the mailbox. Without zlib the block is about 1 KiB. With
 * zlib it also holds the inflate output buffer (OPES_MBOX_GZIP_CHUNK, 32
 * KiB) and a fixed arena of OPES_MBOX_ZLIB_ARENA (64 KiB) from which
 * zlib's inflate state and its 32 KiB window are taken (zlib documents
 * "1 << windowBits" plus about 7 KB for inflate): zlib never calls malloc
 * and a gzip bomb is streamed out in chunks of at most
 * OPES_MBOX_GZIP_CHUNK bytes. A consumer that wants whole messages
 * concatenates the DATA events, with a cap of its own.
 *
 * gzip (RFC 1952): with the input set to OPES_MBOX_INPUT_AUTO (the
 * default), an input whose first two bytes are 1f 8b is gzip; members
 * written one after another (RFC 1952 2.2: a gzip file is a series of
 * members) are read as one stream, as gzip(1) does. Anything after a
 * member that is not another member (trailing zeros included) and a member
 * cut short are OPES_EBAD_GZIP. Offsets are always those of the
 * uncompressed mailbox, except the offset of a gzip error, which counts
 * the compressed bytes zlib had read when it noticed; what zlib decoded
 * before it noticed is read (and gives its events) before the error. In a
 * build without zlib (opes_features() lacks OPES_FEATURE_ZLIB) gzip input
 * is OPES_EUNSUPPORTED.
 *
 * See docs/mail.md, "mbox".
 */
#ifndef OPES_MBOX_H
#define OPES_MBOX_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest From_ line kept for MESSAGE_BEGIN, line end excluded; a longer
 *  one is cut there (OPES_MBOX_MF_FROM_TRUNCATED) and its rest skipped. */
#define OPES_MBOX_FROM_MAX 1000
/** zlib build: size of the inflate output buffer, the largest DATA event
 *  of a compressed mailbox. */
#define OPES_MBOX_GZIP_CHUNK 32768
/** zlib build: size of the fixed arena zlib's inflate allocates from. */
#define OPES_MBOX_ZLIB_ARENA 65536

/** Quoting variants (opes_mbox_reader_set_variant()). */
enum opes_mbox_variant {
    OPES_MBOX_MBOXRD = 0, /* default: ^>+From  loses one ">" (reversible) */
    OPES_MBOX_MBOXO = 1   /* ^>From  loses its ">"; ^>>From  stays */
};

/** What the input is (opes_mbox_reader_set_input(), opes_mbox_reader_input()). */
enum opes_mbox_input {
    OPES_MBOX_INPUT_AUTO = 0,  /* default: gzip when it starts with 1f 8b, else plain */
    OPES_MBOX_INPUT_PLAIN = 1, /* a plain mailbox */
    OPES_MBOX_INPUT_GZIP = 2   /* gzip-compressed (zlib build only) */
};

/** Message flags (opes_mbox_event.flags). */
enum opes_mbox_msg_flag {
    /** MESSAGE_BEGIN: the From_ line was longer than OPES_MBOX_FROM_MAX;
     *  from holds its first OPES_MBOX_FROM_MAX bytes. */
    OPES_MBOX_MF_FROM_TRUNCATED = 1u << 0,
    /** MESSAGE_END: no blank line ended the message (the next From_ line or
     *  the end of the input came right after its last line), so nothing was
     *  removed; a sloppy writer, or a mailbox cut short. */
    OPES_MBOX_MF_NO_BLANK_LINE = 1u << 1,
    /** MESSAGE_END: the input ended inside a line: the message's last line
     *  has no line end (a truncated mailbox). Also on MESSAGE_BEGIN when the
     *  input ended inside the From_ line. */
    OPES_MBOX_MF_NO_EOL = 1u << 2
};

/** Reader events (opes_mbox_event.type). Values are stable. */
enum opes_mbox_event_type {
    /** Nothing yet: all the bytes given were taken; give more, or eof. */
    OPES_MBOX_EV_NONE = 0,
    /** A message starts: offset is the stream offset of its From_ line,
     *  from that line (without its LF or CRLF; a copy inside the reader),
     *  index its number from 1. */
    OPES_MBOX_EV_MESSAGE_BEGIN = 1,
    /** Bytes of the message, unescaped: data. offset is the stream offset
     *  of the bytes they come from (a ">" or a line start the reader held
     *  back is given with the offset where it was). */
    OPES_MBOX_EV_DATA = 2,
    /** The message ended: size is the sum of its DATA lengths; offset the
     *  stream offset just past it and its separator (the next From_ line's
     *  offset, or the stream's length); flags. */
    OPES_MBOX_EV_MESSAGE_END = 3,
    /** The mailbox ended (after eof): index is the number of messages,
     *  offset the length of the (uncompressed) stream. Further calls return
     *  OPES_ESTATE until opes_mbox_reader_reset(). */
    OPES_MBOX_EV_END = 4,
    /** An error (the call's status): offset and detail say where and why. */
    OPES_MBOX_EV_ERROR = 5
};

/** Stable snake_case name of an event type ("none", "message_begin",
 *  "data", "message_end", "end", "error"); NULL for an unknown one. Static. */
OPES_API const char *opes_mbox_event_name(int type);

/**
 * One reader event; only the members of its type are meaningful, the others
 * are 0. The views from and data live until the next call on the reader
 * (they point into the reader, or into the buf of the call that returned
 * them, which the caller must then keep until that next call).
 */
typedef struct opes_mbox_event {
    int type;           /* enum opes_mbox_event_type */
    size_t index;       /* MESSAGE_BEGIN, DATA, MESSAGE_END: the message's
                           number from 1; END: the number of messages */
    uint64_t offset;    /* see enum opes_mbox_event_type */
    opes_str from;      /* MESSAGE_BEGIN: the From_ line */
    opes_str data;      /* DATA: message bytes, never empty */
    uint64_t size;      /* MESSAGE_END: the message's size in bytes */
    unsigned flags;     /* MESSAGE_BEGIN, MESSAGE_END: enum opes_mbox_msg_flag */
    const char *detail; /* ERROR: a static English sentence, never NULL */
} opes_mbox_event;

/** The reader (opaque). */
typedef struct opes_mbox_reader opes_mbox_reader;

/** Size in bytes of an opes_mbox_reader, for opes_mbox_reader_init_in():
 *  about 1 KiB without zlib, about 97 KiB with it. */
OPES_API size_t opes_mbox_reader_sizeof(void);

/**
 * Create a reader at the start of a mailbox: mboxrd, input AUTO.
 * @param[out] out   the reader; release with opes_mbox_reader_free()
 * @param[in]  alloc allocator for the reader (one block of
 *                   opes_mbox_reader_sizeof() bytes), or NULL for malloc
 * @return OPES_OK, OPES_EINVAL (out NULL), OPES_ENOMEM.
 */
OPES_API opes_status opes_mbox_reader_new(opes_mbox_reader **out, const opes_allocator *alloc);

/**
 * The same as opes_mbox_reader_new() in caller memory: mem must hold
 * opes_mbox_reader_sizeof() bytes, aligned for any object (as malloc
 * gives). opes_mbox_reader_free() on such a reader is a no-op.
 * @return OPES_OK, OPES_EINVAL (mem or out NULL, len too small).
 */
OPES_API opes_status opes_mbox_reader_init_in(void *mem, size_t len, opes_mbox_reader **out);

/** Release a reader made by opes_mbox_reader_new(). NULL is a no-op. */
OPES_API void opes_mbox_reader_free(opes_mbox_reader *r);

/**
 * Start a new mailbox: state, counts, offsets, the detected input and a
 * sticky error are cleared; the variant and the input setting are kept.
 * @return OPES_OK, OPES_EINVAL (r NULL).
 */
OPES_API opes_status opes_mbox_reader_reset(opes_mbox_reader *r);

/**
 * Choose the quoting variant (enum opes_mbox_variant). Only at the start of
 * a mailbox (after _new or _reset, before the first byte).
 * @return OPES_OK; OPES_EINVAL (r NULL, unknown variant); OPES_ESTATE.
 */
OPES_API opes_status opes_mbox_reader_set_variant(opes_mbox_reader *r, int variant);

/**
 * Say what the input is (enum opes_mbox_input). Only at the start of a
 * mailbox. PLAIN never looks for the gzip magic (such an input is then
 * OPES_EBAD_MBOX: it does not start with "From ").
 * @return OPES_OK; OPES_EINVAL (r NULL, unknown value); OPES_EUNSUPPORTED
 *         (GZIP in a build without zlib); OPES_ESTATE.
 */
OPES_API opes_status opes_mbox_reader_set_input(opes_mbox_reader *r, int input);

/**
 * What the input turned out to be: OPES_MBOX_INPUT_PLAIN or
 * OPES_MBOX_INPUT_GZIP once the first bytes were seen (or set), else
 * OPES_MBOX_INPUT_AUTO. A NULL r gives OPES_MBOX_INPUT_AUTO.
 */
OPES_API int opes_mbox_reader_input(const opes_mbox_reader *r);

/**
 * Read: take bytes of the mailbox (compressed or not, as they are in the
 * file) and return the next event.
 *
 * Each call returns at most one event and takes the bytes it needed for it
 * (*used <= len); bytes not taken (*used < len) must be given again, first,
 * in the next call, followed by whatever has arrived since. Bytes taken are
 * never needed again: the reader keeps what it must (at most a few bytes of
 * a line start, the From_ line, the inflate state) inside itself. When no
 * event can be produced from what was given, everything is taken and
 * OPES_INCOMPLETE is returned. Set eof when buf holds all that is left of
 * the input; then call again (len 0 is fine) until END. Events, data and
 * offsets do not depend on how the input is split (only the cutting of the
 * data into DATA events does).
 *
 * Events come in this order: for each message MESSAGE_BEGIN, any number of
 * DATA, MESSAGE_END; then END. An error is sticky: every later call returns
 * it again with the same offset.
 *
 * @param[in]  buf   bytes of the input; NULL iff len is 0
 * @param[in]  eof   nonzero: buf holds all that is left of the input
 * @param[out] used  bytes of buf taken
 * @param[out] ev    the event
 * @return OPES_OK (an event); OPES_INCOMPLETE (ev NONE, *used == len, and
 *         eof was 0); with ev ERROR: OPES_EBAD_MBOX (the input does not
 *         start with a From_ line: offset 0), OPES_EBAD_GZIP (corrupt or
 *         truncated gzip, trailing garbage; offset: compressed bytes
 *         read), OPES_EUNSUPPORTED (gzip input in a build without zlib),
 *         OPES_ENOMEM (zlib wanted more than the arena: not expected);
 *         OPES_ESTATE (END was returned: reset first; *used 0, ev NONE);
 *         OPES_EINVAL (r, used or ev NULL, buf NULL with len > 0).
 */
OPES_API opes_status opes_mbox_feed(opes_mbox_reader *r, const char *buf, size_t len, int eof,
                                    size_t *used, opes_mbox_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* OPES_MBOX_H */
