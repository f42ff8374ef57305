/* RIM service client: GET <base><id> -> {"id","rim":"<base64 XML>",...} (libcurl). */
#include <stdlib.h>
#include <string.h>


#include "cctrust/core.h"
#include "collateral/fetch.h"
#include "nvgpu/nvgpu_internal.h"
#include "nvgpu/rim.h"

int cct_nvgpu__rim_fetch(uint8_t **xml, size_t *len, const char *base, const char *id,
			 cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t *body = NULL;
	size_t n = 0;
	char url[1024];
	json_t *root = NULL, *rim;
	json_error_t je;
	cct_fetch_req req = { .url = url, .max_body = 2 * CCT_RIM_MAX_SIZE };
	cct_fetch_opts fo = { .timeout_s = 20 };

	*xml = NULL;
	snprintf(url, sizeof(url), "%s%s", base, id);
	rc = cct_fetch(&body, &n, &req, &fo, err);
	if (rc != CCT_OK)
		goto out;
	rc = CCT_ERROR;
	root = json_loadb((const char *)body, n, 0, &je);
	rim = root ? json_object_get(root, "rim") : NULL;
	if (!json_is_string(rim) ||
	    cct_b64_decode(xml, len, json_string_value(rim), json_string_length(rim), NULL) !=
		    CCT_OK) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "RIM %s: service answer has no base64 \"rim\"", id);
		goto out;
	}
	rc = CCT_OK;
out:
	json_decref(root);
	free(body);
	return rc;
}
