/* libcurl loaded on first use; stubs that fail cleanly when it is missing. */
#define CCT_DL_CURL_IMPL 1
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "collateral/dl_curl.h"
#include "core/dl.h"

static CURLcode stub_global_init(long flags)
{
	(void)flags;
	return CURLE_FAILED_INIT;
}
static CURL *stub_easy_init(void)
{
	return NULL;
}
static void stub_easy_cleanup(CURL *c)
{
	(void)c;
}
static CURLcode stub_easy_setopt(CURL *c, CURLoption o, ...)
{
	(void)c;
	(void)o;
	return CURLE_FAILED_INIT;
}
static CURLcode stub_easy_perform(CURL *c)
{
	(void)c;
	return CURLE_FAILED_INIT;
}
static CURLcode stub_easy_getinfo(CURL *c, CURLINFO i, ...)
{
	(void)c;
	(void)i;
	return CURLE_FAILED_INIT;
}
static const char *stub_easy_strerror(CURLcode e)
{
	(void)e;
	return "libcurl is not available";
}
static char *stub_easy_unescape(CURL *c, const char *s, int n, int *out)
{
	(void)c;
	(void)s;
	(void)n;
	(void)out;
	return NULL;
}
static char *stub_easy_escape(CURL *c, const char *s, int n)
{
	(void)c;
	(void)s;
	(void)n;
	return NULL;
}

static void stub_free(void *p)
{
	(void)p;
}
static struct curl_slist *stub_slist_append(struct curl_slist *l, const char *s)
{
	(void)l;
	(void)s;
	return NULL;
}
static void stub_slist_free_all(struct curl_slist *l)
{
	(void)l;
}

static cct_dl_curl_table table = {
	stub_global_init,   stub_easy_init,     stub_easy_cleanup,  stub_easy_setopt,
	stub_easy_perform,  stub_easy_getinfo,  stub_easy_strerror, stub_easy_unescape, stub_easy_escape,
	stub_free,          stub_slist_append,  stub_slist_free_all,
};
static int loaded;
static char why_not[256] = "libcurl was not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const names[] = {
#define CCT_X(f) #f,
		CCT_CURL_FUNCS(CCT_X)
#undef CCT_X
	};
	void *slots[sizeof(names) / sizeof(names[0])];
	size_t n = sizeof(names) / sizeof(names[0]);

	_Static_assert(sizeof(table) == sizeof(slots), "one slot per function");
	if (cct_dl_load("libcurl.so.4", names, slots, n, why_not, sizeof(why_not))) {
		memcpy(&table, slots, sizeof(table)); /* POSIX: void * and function pointers */
		loaded = 1;
	}
}

const cct_dl_curl_table *cct_dl_curl(void)
{
	pthread_once(&once, load);
	return &table;
}

int cct_dl_curl_ok(char *why, size_t size)
{
	pthread_once(&once, load);
	if (!loaded && why && size)
		snprintf(why, size, "%s", why_not);
	return loaded;
}
