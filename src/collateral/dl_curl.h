/* libcurl, loaded on first use (core/dl.h). Include this instead of <curl/curl.h>: the curl
 * functions the library calls are routed through a table that cct_dl_curl() fills once. */
#ifndef CCT_COLLATERAL_DL_CURL_H
#define CCT_COLLATERAL_DL_CURL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#define CCT_CURL_FUNCS(X)                                                                  \
	X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_setopt)     \
	X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_strerror)                    \
	X(curl_easy_unescape) X(curl_easy_escape) X(curl_free) X(curl_slist_append) X(curl_slist_free_all)

typedef struct cct_dl_curl_table {
#define CCT_X(f) __typeof__(&f) f;
	CCT_CURL_FUNCS(CCT_X)
#undef CCT_X
} cct_dl_curl_table;

/* The table (never NULL): the real libcurl, or stubs that fail (curl_easy_init returns NULL)
 * when libcurl.so.4 cannot be loaded. */
const cct_dl_curl_table *cct_dl_curl(void);
/* 1 when libcurl is loaded; else 0 and why (if not NULL) says why. */
int cct_dl_curl_ok(char *why, size_t size);

#ifndef CCT_DL_CURL_IMPL
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (cct_dl_curl()->curl_global_init)
#define curl_easy_init (cct_dl_curl()->curl_easy_init)
#define curl_easy_cleanup (cct_dl_curl()->curl_easy_cleanup)
#define curl_easy_setopt (cct_dl_curl()->curl_easy_setopt)
#define curl_easy_perform (cct_dl_curl()->curl_easy_perform)
#define curl_easy_getinfo (cct_dl_curl()->curl_easy_getinfo)
#define curl_easy_strerror (cct_dl_curl()->curl_easy_strerror)
#define curl_easy_unescape (cct_dl_curl()->curl_easy_unescape)
#define curl_easy_escape (cct_dl_curl()->curl_easy_escape)
#define curl_free (cct_dl_curl()->curl_free)
#define curl_slist_append (cct_dl_curl()->curl_slist_append)
#define curl_slist_free_all (cct_dl_curl()->curl_slist_free_all)
#endif

#endif
