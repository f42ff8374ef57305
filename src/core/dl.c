/* dlopen-based lazy loading: see dl.h. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/dl.h"

int cct_dl_load(const char *soname, const char *const *names, void **slots, size_t n,
		char *why, size_t why_size)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	void **tmp;
	size_t i;

	if (!h) {
		const char *e = dlerror();

		if (why)
			snprintf(why, why_size, "cannot load %s: %s", soname, e ? e : "not found");
		return 0;
	}
	tmp = calloc(n ? n : 1, sizeof(*tmp));
	if (!tmp) {
		dlclose(h);
		return 0;
	}
	for (i = 0; i < n; i++) {
		tmp[i] = dlsym(h, names[i]);
		if (!tmp[i]) {
			if (why)
				snprintf(why, why_size, "%s lacks %s", soname, names[i]);
			free(tmp);
			dlclose(h);
			return 0;
		}
	}
	for (i = 0; i < n; i++)
		slots[i] = tmp[i];
	free(tmp);
	return 1; /* the handle stays open for the life of the process */
}
