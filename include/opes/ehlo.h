/*
 * libopes — ehlo (placeholder: being written).
 */
#ifndef OPES_EHLO_H
#define OPES_EHLO_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* OPES_EHLO_H */
