/* Command inputs: files, "-" and directories, one at a time (see cct_inputs_each in core.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/core.h"

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of dir (not recursive, no dot files), sorted by name, each passed to fn. Only the
 * names of this one directory are held (for the order), never the contents. A directory with no
 * such file is an error: a verify command given only it would otherwise check nothing and
 * succeed. */
static int each_in_dir(const char *dir, cct_input_fn fn, void *ctx, int *stop, cct_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, *path = NULL;
	size_t n = 0, cap = 0, i, dl = strlen(dir), passed = 0;
	int rc = CCT_OK;

	if (!d)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot read directory %s",
				   dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof(*nn));

			if (!nn) {
				rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
				goto out;
			}
			names = nn;
			cap = nc;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n && !*stop; i++) {
		struct stat st;
		size_t len = dl + 1 + strlen(names[i]) + 1;
		char *np = realloc(path, len);

		if (!np) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
			goto out;
		}
		path = np;
		memcpy(path, dir, dl);
		path[dl] = '/';
		memcpy(path + dl + 1, names[i], len - dl - 1);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue; /* subdirectories, sockets, dangling links: not inputs */
		fn(ctx, path, stop);
		passed++;
	}
	if (!passed)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				 "directory %s holds no input files (regular files whose names do "
				 "not start with '.')", dir);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(path);
	closedir(d);
	return rc;
}

int cct_inputs_each(char *const *args, size_t n, cct_input_fn fn, void *ctx, cct_err *err)
{
	size_t i, stdins = 0;
	int stop = 0, rc = CCT_OK;

	/* standard input can be read once: a second "-" would verify an empty stream */
	for (i = 0; i < n; i++)
		stdins += !strcmp(args[i], "-");
	if (stdins > 1)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "\"-\" (standard input) given %zu times: it can be read once", stdins);
	for (i = 0; i < n && !stop && rc == CCT_OK; i++) {
		struct stat st;

		if (strcmp(args[i], "-") && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc = each_in_dir(args[i], fn, ctx, &stop, err);
		else
			fn(ctx, args[i], &stop); /* a file, "-", or a path the caller reports */
	}
	return rc;
}
