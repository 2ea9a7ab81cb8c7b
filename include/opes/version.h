/*
 * libopes — version and build features.
 *
 * This file is the one source of the release number: the Makefile reads the
 * three OPES_VERSION_* numbers from it.
 */
#ifndef OPES_VERSION_H
#define OPES_VERSION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OPES_VERSION_MAJOR 0
#define OPES_VERSION_MINOR 1
#define OPES_VERSION_PATCH 0
#define OPES_VERSION_STR "0.1.0"
/** 0xMMmmpp: one byte each for major, minor, patch. */
#define OPES_VERSION_NUM 0x000100
/** True when the headers are at least version x.y.z. */
#define OPES_VERSION_AT_LEAST(x, y, z) (OPES_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

/** The library's OPES_VERSION_NUM, to compare with the headers' at run time. */
OPES_API unsigned opes_version(void);
/** The library's OPES_VERSION_STR; a static string, never NULL. */
OPES_API const char *opes_version_str(void);

/** Bits of opes_features(). */
enum opes_feature {
    /** Built with zlib: the mbox reader (<opes/mbox.h>) reads gzip-compressed
     *  mailboxes (OPES_MBOX_INPUT_GZIP, and OPES_MBOX_INPUT_AUTO detecting
     *  the 1f 8b magic). Without it such input is OPES_EUNSUPPORTED. */
    OPES_FEATURE_ZLIB = 1u << 0
};

/**
 * The optional features this build of the library has (OPES_FEATURE_* bits).
 * Options never change a public header; ask here at run time.
 */
OPES_API unsigned opes_features(void);

/**
 * The name of one feature bit ("zlib"), or NULL for a bit that names no
 * feature. Lets a tool list features without knowing them.
 */
OPES_API const char *opes_feature_name(unsigned bit);

#ifdef __cplusplus
}
#endif
#endif /* OPES_VERSION_H */
