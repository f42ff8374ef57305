/* tpm2-tss loaded on first use (vTPM evidence collection only). */
#define CCT_DL_TSS2_IMPL 1
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "attester/dl_tss2.h"
#include "core/dl.h"

cct_dl_tss2_table cct_dl_tss2_fns;
static int loaded;
static char why_not[256] = "tpm2-tss was not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const esys[] = {
#define CCT_X(f) #f,
		CCT_TSS2_ESYS_FUNCS(CCT_X)
	};
	static const char *const mu[] = { CCT_TSS2_MU_FUNCS(CCT_X) };
	static const char *const ldr[] = { CCT_TSS2_TCTILDR_FUNCS(CCT_X) };
#undef CCT_X
	void *slots[sizeof(esys) / sizeof(esys[0]) + sizeof(mu) / sizeof(mu[0]) +
		    sizeof(ldr) / sizeof(ldr[0])];
	size_t ne = sizeof(esys) / sizeof(esys[0]), nm = sizeof(mu) / sizeof(mu[0]),
	       nl = sizeof(ldr) / sizeof(ldr[0]);

	_Static_assert(sizeof(cct_dl_tss2_fns) == sizeof(slots), "one slot per function");
	if (cct_dl_load("libtss2-esys.so.0", esys, slots, ne, why_not, sizeof(why_not)) &&
	    cct_dl_load("libtss2-mu.so.0", mu, slots + ne, nm, why_not, sizeof(why_not)) &&
	    cct_dl_load("libtss2-tctildr.so.0", ldr, slots + ne + nm, nl, why_not,
			sizeof(why_not))) {
		memcpy(&cct_dl_tss2_fns, slots, sizeof(slots));
		loaded = 1;
	}
}

int cct_dl_tss2_ok(char *why, size_t size)
{
	pthread_once(&once, load);
	if (!loaded && why && size)
		snprintf(why, size, "%s", why_not);
	return loaded;
}
