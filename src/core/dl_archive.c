/* libarchive loaded on first use (model packs and collateral bundle tars only). */
#define CCT_DL_ARCHIVE_IMPL 1
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/dl.h"
#include "core/dl_archive.h"

cct_dl_archive_table cct_dl_archive_fns;
static int loaded;
static char why_not[256] = "libarchive was not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const names[] = {
#define CCT_X(f) #f,
		CCT_ARCHIVE_FUNCS(CCT_X)
#undef CCT_X
	};
	void *slots[sizeof(names) / sizeof(names[0])];

	_Static_assert(sizeof(cct_dl_archive_fns) == sizeof(slots), "one slot per function");
	if (cct_dl_load("libarchive.so.13", names, slots, sizeof(names) / sizeof(names[0]),
			why_not, sizeof(why_not))) {
		memcpy(&cct_dl_archive_fns, slots, sizeof(slots));
		loaded = 1;
	}
}

int cct_dl_archive_ok(char *why, size_t size)
{
	pthread_once(&once, load);
	if (!loaded && why && size)
		snprintf(why, size, "%s", why_not);
	return loaded;
}
