/*
 * The SMTP session, client role (filled in by the client stage).
 */
#include "internal.h"
#include "session_internal.h"

void opes__session_client_reset(opes_session *s)
{
    s->q_head = s->q_len = 0;
}

opes_status opes__session_client_feed(opes_session *s, const char *buf, size_t len, size_t *used,
                                      opes_session_event *ev)
{
    (void)s;
    (void)buf;
    (void)len;
    (void)used;
    (void)ev;
    return OPES_ESTATE;
}
