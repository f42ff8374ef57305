#define _GNU_SOURCE
/* Small shared helpers of the kbs area: JSON body caps, canonical text, digests. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "kbs/kbs_int.h"
#include "x509/x509.h"

int cct_kbs__json_depth_ok(const uint8_t *p, size_t n, int max)
{
	int depth = 0, in_str = 0, esc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return -1;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 0;
}

json_t *cct_kbs__json_body(const uint8_t *p, size_t n, cct_err *err)
{
	json_error_t je;
	json_t *j;

	if (n > CCT_KBS_MAX_BODY) {
		cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
			    "request body of %zu bytes above the %u-byte cap", n, CCT_KBS_MAX_BODY);
		return NULL;
	}
	if (cct_kbs__json_depth_ok(p, n, CCT_KBS_MAX_JSON_DEPTH) != 0) {
		cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
			    "request JSON nested deeper than %d", CCT_KBS_MAX_JSON_DEPTH);
		return NULL;
	}
	j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, (size_t)je.position,
			    "request body is not JSON: %s (at byte %d)", je.text, je.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "request body is not a JSON object");
		return NULL;
	}
	return j;
}

char *cct_kbs__canonical(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

void cct_kbs__sha256_hex(char out[65], const void *p, size_t n)
{
	uint8_t d[32];

	cct_sha256(p, n, d);
	cct_hex_encode(out, d, 32);
}
