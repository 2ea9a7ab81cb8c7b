/*
 * libopes — delivery status notifications (RFC 3461, RFC 3464, RFC 6522,
 * RFC 6533, RFC 8689 5, RFC 4902 3.1): the vocabulary shared by the report
 * builder (this header) and the report reader (<opes/dsn_read.h>).
 *
 * Part of the opes layer: it uses the smtp layer (xtext, enhanced codes)
 * and the mail layer (header, MIME, date).
 *
 * OPES extension fields of the delivery-status part (docs/opes-smtp.md 11;
 * X- names because they are not registered, RFC 3464 2.4):
 *     per-message:            X-OPES-System: <absolute URI>
 *     per-message (default
 *     for every recipient) or
 *     per-recipient:          X-OPES-Service: <absolute URI>
 *                             X-OPES-Bypassable: yes / no
 */
#ifndef OPES_DSN_H
#define OPES_DSN_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The extension field names (docs/opes-smtp.md 11). */
#define OPES_DSN_FIELD_SYSTEM "X-OPES-System"
#define OPES_DSN_FIELD_SERVICE "X-OPES-Service"
#define OPES_DSN_FIELD_BYPASSABLE "X-OPES-Bypassable"

/** Action values (RFC 3464 2.3.3). 0 is "not given" (a reader's result). */
enum opes_dsn_action {
    OPES_DSN_ACTION_NONE = 0,
    OPES_DSN_ACTION_FAILED = 1,
    OPES_DSN_ACTION_DELAYED = 2,
    OPES_DSN_ACTION_DELIVERED = 3,
    OPES_DSN_ACTION_RELAYED = 4,
    OPES_DSN_ACTION_EXPANDED = 5
};

/** "failed", "delayed", ... as RFC 3464 writes them; NULL for NONE or a
 *  value out of range. Static. */
OPES_API const char *opes_dsn_action_name(int action);

/** Parse an action-value (case-insensitive, RFC 3464 2.3.3; CFWS around it
 *  tolerated). @return OPES_OK, OPES_EBAD_DSN (not one of the five),
 *  OPES_EINVAL. */
OPES_API opes_status opes_dsn_action_parse(const char *buf, size_t len, int *action);

/** RET (RFC 3461 4.3). */
enum opes_dsn_ret {
    OPES_DSN_RET_UNSET = 0, /* no RET parameter */
    OPES_DSN_RET_FULL = 1,
    OPES_DSN_RET_HDRS = 2
};

/** NOTIFY (RFC 3461 4.1), as bits; 0 is "no NOTIFY parameter". */
enum opes_dsn_notify {
    OPES_DSN_NOTIFY_NEVER = 1u << 0,
    OPES_DSN_NOTIFY_SUCCESS = 1u << 1,
    OPES_DSN_NOTIFY_FAILURE = 1u << 2,
    OPES_DSN_NOTIFY_DELAY = 1u << 3
};

/* ---- the report builder --------------------------------------------------- */

#ifdef __cplusplus
}
#endif
#endif /* OPES_DSN_H */
