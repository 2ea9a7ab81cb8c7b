/* Delivery status notifications: the vocabulary shared by the builder and the
 * reader (RFC 3464 2.3.3). */
#include "internal.h"

#include "opes/dsn.h"

static const char *const action_names[] = {NULL, "failed", "delayed", "delivered", "relayed",
                                           "expanded"};

/* see opes/dsn.h */
const char *opes_dsn_action_name(int action)
{
    if (action <= OPES_DSN_ACTION_NONE || action > OPES_DSN_ACTION_EXPANDED)
        return NULL;
    return action_names[action];
}

/* see opes/dsn.h */
opes_status opes_dsn_action_parse(const char *buf, size_t len, int *action)
{
    if (action == NULL || (buf == NULL && len > 0))
        return OPES_EINVAL;
    *action = OPES_DSN_ACTION_NONE;
    /* CFWS around the word (RFC 3464 2.1: RFC 822 field rules, comments
     * included); folds may end in CRLF or LF. */
    unsigned info = 0;
    size_t err = 0, b = 0, w, e;
    const unsigned opts = OPES__LX_ALLOW_LF | OPES__LX_ALLOW_RAW8;
    if (opes__lx_cfws(buf, len, 0, opts, &b, &info, &err) != OPES_OK)
        return OPES_EBAD_DSN;
    w = b;
    while (w < len && OPES__IS(buf[w], OPES__C_ALPHA))
        w++;
    if (w == b || opes__lx_cfws(buf, len, w, opts, &e, &info, &err) != OPES_OK || e != len)
        return OPES_EBAD_DSN;
    static const char *const upper[] = {NULL, "FAILED", "DELAYED", "DELIVERED", "RELAYED",
                                        "EXPANDED"};
    for (int a = OPES_DSN_ACTION_FAILED; a <= OPES_DSN_ACTION_EXPANDED; a++) {
        if (opes__ieq(buf + b, w - b, upper[a])) {
            *action = a;
            return OPES_OK;
        }
    }
    return OPES_EBAD_DSN;
}
