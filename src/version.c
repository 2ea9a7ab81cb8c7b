/* Version and build features. */
#include "internal.h"

/* see opes/version.h */
unsigned opes_version(void)
{
    return OPES_VERSION_NUM;
}

/* see opes/version.h */
const char *opes_version_str(void)
{
    return OPES_VERSION_STR;
}

/* see opes/version.h */
unsigned opes_features(void)
{
    unsigned f = 0;
#if defined(OPES_HAVE_ZLIB) && OPES_HAVE_ZLIB
    f |= OPES_FEATURE_ZLIB;
#endif
    return f;
}

/* see opes/version.h */
const char *opes_feature_name(unsigned bit)
{
    switch (bit) {
    case OPES_FEATURE_ZLIB:
        return "zlib";
    default:
        return NULL;
    }
}
