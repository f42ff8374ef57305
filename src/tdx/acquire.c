/* Collateral for a quote, from wherever the caller keeps it: a QVL bundle file, a PCS v4
 * directory, or a fetch from Intel PCS / a PCCS through an on-disk cache (offline: cache only).
 * One function for `cctrust tdx verify`, `cctrust verify` and cctrustd. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/core.h"
#include "cctrust/tdx.h"

static int is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void cct_tdx_default_cache_dir(char *buf, size_t size)
{
	const char *x = getenv("CCT_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");

	if (x && *x)
		snprintf(buf, size, "%s", x);
	else if (xdg && *xdg)
		snprintf(buf, size, "%s/cctrust-tdx", xdg);
	else
		snprintf(buf, size, "%s/.cache/cctrust-tdx", home ? home : "/tmp");
}

int cct_tdx_collateral_is_local(const char *path)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/tcb_info.json", path);
	if (is_file(path) || is_file(p))
		return 1;
	snprintf(p, sizeof(p), "%s/tdx", path);
	if (is_file(p))
		return 1;
	snprintf(p, sizeof(p), "%s/tdx/tcb_info.json", path);
	return is_file(p);
}

/* A bundle file or a PCS v4 directory: load it. 1 loaded, 0 not one of those, <0 error. */
static int try_load(cct_tdx_collateral **out, const char *path, cct_err *err)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/tcb_info.json", path);
	if (!is_file(path) && !is_file(p))
		return 0;
	return cct_tdx_collateral_load(out, path, err) == CCT_OK ? 1 : err->code;
}

int cct_tdx_collateral_for_quote(cct_tdx_collateral **out, const cct_tdx_collateral_source *src,
				 const cct_tdx_quote *q, cct_err *err)
{
	char sub[4096], cache[4096], fmspc[13], ca[16];
	int rc;

	*out = NULL;
	if (src->path) {
		if ((rc = try_load(out, src->path, err)) != 0)
			return rc == 1 ? CCT_OK : rc;
		snprintf(sub, sizeof(sub), "%s/tdx", src->path);
		if ((rc = try_load(out, sub, err)) != 0)
			return rc == 1 ? CCT_OK : rc;
		if (!is_dir(src->path))
			return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					   "collateral %s: not a QVL bundle, a PCS directory or a cache "
					   "directory",
					   src->path);
	}
	rc = cct_tdx_quote_pck_info(q, fmspc, ca, err);
	if (rc != CCT_OK)
		return rc;
	if (src->cache_dir)
		snprintf(cache, sizeof(cache), "%s", src->cache_dir);
	else if (src->path)
		snprintf(cache, sizeof(cache), "%s/tdx", src->path);
	else
		cct_tdx_default_cache_dir(cache, sizeof(cache));
	return cct_tdx_collateral_fetch(out, src->pccs_url, fmspc, ca, cache, src->offline,
					src->at ? src->at : time(NULL), err);
}
