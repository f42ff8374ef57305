/* RIM service client: GET <base><id> -> {"id","rim":"<base64 XML>",...} (libcurl). */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cctrust/core.h"
#include "nvgpu/nvgpu_internal.h"
#include "nvgpu/rim.h"

typedef struct {
	char *p;
	size_t n;
	int too_big;
} body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	body *b = ud;
	size_t add = size * nmemb;
	char *np;

	if (add > 2 * CCT_RIM_MAX_SIZE - b->n) {
		b->too_big = 1;
		return 0;
	}
	np = realloc(b->p, b->n + add + 1);
	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, ptr, add);
	b->n += add;
	b->p[b->n] = 0;
	return add;
}

int cct_nvgpu__rim_fetch(uint8_t **xml, size_t *len, const char *base, const char *id,
			 cct_err *err)
{
	int rc = CCT_ERROR;
	CURL *curl = NULL;
	body b = { 0 };
	char url[1024];
	long code = 0;
	json_t *root = NULL, *rim;
	json_error_t je;

	*xml = NULL;
	snprintf(url, sizeof(url), "%s%s", base, id);
	curl = curl_easy_init();
	if (!curl)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(curl) != CURLE_OK ||
	    (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_COLLATERAL, 0,
				 "RIM %s: fetch from %s failed (HTTP %ld)", id, url, code);
		goto out;
	}
	root = json_loadb(b.p, b.n, 0, &je);
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
	free(b.p);
	curl_easy_cleanup(curl);
	return rc;
}
