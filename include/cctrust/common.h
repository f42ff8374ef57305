/* cctrust: common definitions shared by every public header. */
#ifndef CCTRUST_COMMON_H
#define CCTRUST_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define CCT_EXTERN __attribute__((visibility("default")))
#else
#define CCT_EXTERN
#endif

#define CCT_VERSION_STRING "0.1.0"

/** A borrowed byte range: valid while its owner is; never freed through this struct. */
typedef struct cct_slice {
	const uint8_t *p;
	size_t size;
} cct_slice;

/** Library version string ("0.1.0"). */
CCT_EXTERN const char *cct_version(void);

#ifdef __cplusplus
}
#endif
#endif
