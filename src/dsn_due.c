/* Whether a delivery status notification is due (RFC 3461 5.2, RFC 5321
 * 6.1, 6.2, RFC 4902 3.1): the rule of docs/opes-smtp.md 11.6. */
#include "internal.h"

#include "opes/dsn.h"

/* see opes/dsn.h */
opes_status opes_dsn_due(const opes_dsn_due_input *in, int *due, int *reason)
{
    const unsigned all = OPES_DSN_NOTIFY_NEVER | OPES_DSN_NOTIFY_SUCCESS | OPES_DSN_NOTIFY_FAILURE |
                         OPES_DSN_NOTIFY_DELAY;
    int r;
    if (in == NULL || due == NULL || (in->notify & ~all) != 0 ||
        ((in->notify & OPES_DSN_NOTIFY_NEVER) && in->notify != OPES_DSN_NOTIFY_NEVER) ||
        opes_dsn_action_name(in->action) == NULL)
        return OPES_EINVAL;
    if (in->null_sender) {
        /* RFC 3461 5.2: "A DSN MUST NOT be returned to the sender for any
         * message for which the return address from the SMTP MAIL command
         * was NULL" */
        r = OPES_DSN_NOT_NULL_SENDER;
    } else if (in->notify == OPES_DSN_NOTIFY_NEVER) {
        r = OPES_DSN_NOT_NOTIFY_NEVER;
    } else if (in->action == OPES_DSN_ACTION_FAILED) {
        /* 5.2.6: FAILURE, or no NOTIFY: a "failed" DSN MUST be issued */
        if (in->notify != 0 && !(in->notify & OPES_DSN_NOTIFY_FAILURE))
            r = OPES_DSN_NOT_NOT_REQUESTED;
        else if (in->hostile)
            /* RFC 5321 6.2: no bounce for hostile content unless confident
             * it is usefully delivered: a verified sender */
            r = in->sender_verified ? OPES_DSN_DUE_HOSTILE_VERIFIED : OPES_DSN_NOT_HOSTILE;
        else
            r = OPES_DSN_DUE_FAILED;
    } else if (in->action == OPES_DSN_ACTION_DELAYED) {
        /* 5.2.5: MAY with DELAY or without NOTIFY; MUST NOT otherwise */
        if ((in->notify & OPES_DSN_NOTIFY_DELAY) || (in->notify == 0 && in->delay_default))
            r = OPES_DSN_DUE_DELAYED;
        else
            r = OPES_DSN_NOT_NOT_REQUESTED;
    } else {
        /* 5.2.2, 5.2.3: success reports only when SUCCESS was asked */
        r = (in->notify & OPES_DSN_NOTIFY_SUCCESS) ? OPES_DSN_DUE_SUCCESS
                                                   : OPES_DSN_NOT_NOT_REQUESTED;
    }
    *due = r < OPES_DSN_NOT_NULL_SENDER;
    if (reason)
        *reason = r;
    return OPES_OK;
}

/* see opes/dsn.h */
const char *opes_dsn_due_reason_name(int reason)
{
    switch (reason) {
    case OPES_DSN_DUE_FAILED:
        return "failed";
    case OPES_DSN_DUE_DELAYED:
        return "delayed";
    case OPES_DSN_DUE_SUCCESS:
        return "success";
    case OPES_DSN_DUE_HOSTILE_VERIFIED:
        return "hostile_verified";
    case OPES_DSN_NOT_NULL_SENDER:
        return "null_sender";
    case OPES_DSN_NOT_NOTIFY_NEVER:
        return "notify_never";
    case OPES_DSN_NOT_NOT_REQUESTED:
        return "not_requested";
    case OPES_DSN_NOT_HOSTILE:
        return "hostile";
    default:
        return NULL;
    }
}
