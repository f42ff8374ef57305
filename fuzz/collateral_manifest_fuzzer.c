/* libFuzzer target: the collateral bundle manifest parser (manifest.json, untrusted), and the
 * vendor-URL router of `collateral serve` over the same bytes taken as a path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/collateral.h"

static const char *no_args(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return "1";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_coll_manifest m;
	cct_err err;
	char key[CCT_COLLATERAL_MAX_KEY], *path;
	cct_coll_kind kind;

	if (cct_coll_manifest_parse(&m, data, size, &err) == 0) {
		char *s = cct_coll_manifest_dump(&m);
		cct_coll_manifest m2;

		/* what we write, we read back identically */
		if (s && cct_coll_manifest_parse(&m2, (const uint8_t *)s, strlen(s), &err) != 0)
			abort();
		if (s && m2.count != m.count)
			abort();
		if (s)
			cct_coll_manifest_clear(&m2);
		free(s);
		cct_coll_manifest_clear(&m);
	}
	path = malloc(size + 1);
	if (path) {
		memcpy(path, data, size);
		path[size] = 0;
		cct_coll_route(path, no_args, NULL, &kind, key, sizeof(key));
		free(path);
	}
	cct_coll_ocsp_request_key(data, size, key, sizeof(key));
	return 0;
}
