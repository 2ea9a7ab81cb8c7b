/*
 * libopes — OPES for SMTP: the umbrella header. Users write
 *
 *     #include <opes/opes.h>
 *
 * and link with `pkg-config --libs libopes`.
 *
 * Layers (arrows point down only): core (status, version, utf8) -> smtp
 * (smtp_config, path, params, xtext, command, reply, enhanced, ehlo, data, session) -> mail
 * (header, uri, date, received, mbox) -> opes (trace, bypass) / dsn.
 */
#ifndef OPES_OPES_H
#define OPES_OPES_H

#include "common.h"
#include "status.h"
#include "version.h"
#include "utf8.h"
#include "smtp_config.h"
#include "xtext.h"
#include "path.h"
#include "params.h"
#include "command.h"
#include "reply.h"
#include "enhanced.h"
#include "ehlo.h"
#include "data.h"
#include "session.h"
#include "header.h"
#include "uri.h"
#include "date.h"
#include "received.h"
#include "trace.h"
#include "bypass.h"
#include "mime.h"
#include "dsn.h"
#include "mbox.h"
#include "dsn_read.h"

#endif /* OPES_OPES_H */
