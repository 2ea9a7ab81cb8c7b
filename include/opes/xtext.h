/*
 * libopes — xtext (placeholder: being written).
 */
#ifndef OPES_XTEXT_H
#define OPES_XTEXT_H

#include "common.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* OPES_XTEXT_H */
