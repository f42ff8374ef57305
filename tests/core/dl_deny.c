/* Test shim (LD_PRELOAD) for tests/core/e2e_lazy_libs.sh: dlopen of a file name listed in
 * CCT_DL_DENY (colon-separated sonames) fails as if that library were not installed; every
 * other dlopen goes to the real one. Lets a test check the message and the fail-closed result
 * of a command whose lazily loaded library is missing, without uninstalling anything. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

void *dlopen(const char *file, int mode);

static int denied(const char *file)
{
	const char *list = getenv("CCT_DL_DENY"), *p;
	size_t n;

	if (!file || !list)
		return 0;
	n = strlen(file);
	for (p = list; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, file, n))
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

void *dlopen(const char *file, int mode)
{
	static void *(*real)(const char *, int);
	char path[512];

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "dlopen");
	if (!real)
		return NULL;
	if (denied(file) && strlen(file) < sizeof(path) - 32) {
		/* fail the way a missing library does, dlerror() set and naming it */
		memcpy(path, "/nonexistent/cct-dl-deny/", 25);
		memcpy(path + 25, file, strlen(file) + 1);
		return real(path, mode);
	}
	return real(file, mode);
}
