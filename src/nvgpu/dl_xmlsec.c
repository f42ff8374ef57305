/* libxml2 + xmlsec1 (OpenSSL) loaded on first use (RIM parsing, verification and signing only). */
#define CCT_DL_XMLSEC_IMPL 1
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/dl.h"
#include "nvgpu/dl_xmlsec.h"

cct_dl_xmlsec_table cct_dl_xmlsec_fns;
static int loaded;
static char why_not[512] = "libxml2/xmlsec1 were not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* soname, then the Debian package that ships it, for the message */
static int load_one(const char *soname, const char *pkg, const char *const *names, void **slots,
		    size_t n)
{
	char why[384];

	if (cct_dl_load(soname, names, slots, n, why, sizeof(why)))
		return 1;
	snprintf(why_not, sizeof(why_not), "%s (install it: apt install %s)", why, pkg);
	return 0;
}

static void load(void)
{
	static const char *const xml[] = {
#define CCT_X(f) #f,
		CCT_LIBXML2_FUNCS(CCT_X)
	};
	static const char *const sec[] = { CCT_XMLSEC_FUNCS(CCT_X) };
	static const char *const ossl[] = { CCT_XMLSEC_OPENSSL_FUNCS(CCT_X) };
#undef CCT_X
	const size_t nx = sizeof(xml) / sizeof(xml[0]), ns = sizeof(sec) / sizeof(sec[0]),
		     no = sizeof(ossl) / sizeof(ossl[0]);
	void *slots[sizeof(xml) / sizeof(xml[0]) + sizeof(sec) / sizeof(sec[0]) +
		    sizeof(ossl) / sizeof(ossl[0])];

	_Static_assert(sizeof(cct_dl_xmlsec_fns) == sizeof(slots), "one slot per name");
	if (load_one(CCT_DL_LIBXML2_SONAME, "libxml2", xml, slots, nx) &&
	    load_one(CCT_DL_XMLSEC_SONAME, "libxmlsec1", sec, slots + nx, ns) &&
	    load_one(CCT_DL_XMLSEC_OPENSSL_SONAME, "libxmlsec1-openssl", ossl, slots + nx + ns,
		     no)) {
		memcpy(&cct_dl_xmlsec_fns, slots, sizeof(slots)); /* POSIX: void * and functions */
		loaded = 1;
	}
}

int cct_dl_xmlsec_ok(char *why, size_t size)
{
	pthread_once(&once, load);
	if (!loaded && why && size)
		snprintf(why, size, "%s", why_not);
	return loaded;
}
