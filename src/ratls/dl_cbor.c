/* libcbor loaded on first use (attested-TLS evidence encoding and decoding only). */
#define CCT_DL_CBOR_IMPL 1
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/dl.h"
#include "ratls/dl_cbor.h"

cct_dl_cbor_table cct_dl_cbor_fns;
static int loaded;
static char why_not[512] = "libcbor was not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const names[] = {
#define CCT_X(f) #f,
		CCT_CBOR_FUNCS(CCT_X)
#undef CCT_X
	};
	void *slots[sizeof(names) / sizeof(names[0])];
	char why[384];

	_Static_assert(sizeof(cct_dl_cbor_fns) == sizeof(slots), "one slot per function");
	if (cct_dl_load(CCT_DL_CBOR_SONAME, names, slots, sizeof(names) / sizeof(names[0]), why,
			sizeof(why))) {
		memcpy(&cct_dl_cbor_fns, slots, sizeof(slots)); /* POSIX: void * and functions */
		loaded = 1;
	} else {
		snprintf(why_not, sizeof(why_not), "%s (install it: apt install %s)", why,
			 CCT_DL_CBOR_PACKAGE);
	}
}

int cct_dl_cbor_ok(char *why, size_t size)
{
	pthread_once(&once, load);
	if (!loaded && why && size)
		snprintf(why, size, "%s", why_not);
	return loaded;
}
