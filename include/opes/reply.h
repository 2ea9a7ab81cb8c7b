/*
 * libopes — reply (placeholder: being written).
 */
#ifndef OPES_REPLY_H
#define OPES_REPLY_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* OPES_REPLY_H */
