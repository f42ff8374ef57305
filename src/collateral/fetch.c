/* Collateral fetching: cache first, then libcurl with 429 backoff. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cctrust/core.h"
#include "collateral/fetch.h"

int cct_mkdirs_for(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		buf[i] = '/';
	}
	return 0;
}

typedef struct {
	uint8_t *p;
	size_t n;
	int too_big;
} body_buf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	body_buf *b = ud;
	size_t add = size * nmemb;
	uint8_t *np;

	if (b->n + add > CCT_FETCH_MAX_BODY) {
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

int cct_fetch_url(uint8_t **out, size_t *out_len, const char *url, const cct_fetch_opts *opts,
		  cct_err *err)
{
	static int curl_ready;
	long timeout = opts && opts->timeout_s ? opts->timeout_s : 30;
	int retries = opts && opts->max_retries ? opts->max_retries : CCT_FETCH_MAX_RETRIES;
	long backoff = opts && opts->min_backoff_s ? opts->min_backoff_s : 10;
	int attempt;

	*out = NULL;
	*out_len = 0;
	if (opts && opts->offline)
		return cct_err_set(err, CCT_ENETWORK, CCT_STAGE_COLLATERAL, 0,
				   "%s is needed but network access is off (--offline); put it in "
				   "the collateral directory",
				   url);
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
	for (attempt = 0;; attempt++) {
		CURL *c = curl_easy_init();
		body_buf b = { NULL, 0, 0 };
		long status = 0;
		curl_off_t retry_after = 0;
		CURLcode cc;

		if (!c)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "curl init");
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
		curl_easy_setopt(c, CURLOPT_USERAGENT, "cctrust/" CCT_VERSION_STRING);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after);
		curl_easy_cleanup(c);
		if (cc == CURLE_OK && status == 200) {
			*out = b.p ? b.p : calloc(1, 1);
			*out_len = b.n;
			return CCT_OK;
		}
		free(b.p);
		if (b.too_big)
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
					   "%s: response larger than %u bytes", url,
					   CCT_FETCH_MAX_BODY);
		if ((status == 429 || status >= 500) && attempt < retries) {
			long wait = retry_after > 0 ? (long)retry_after : backoff << attempt;

			if (wait > 120)
				wait = 120;
			if (!opts || !opts->quiet)
				fprintf(stderr, "cctrust: %s answered %ld; retrying in %ld s\n", url,
					status, wait);
			sleep((unsigned)wait);
			continue;
		}
		if (cc != CURLE_OK)
			return cct_err_set(err, CCT_ENETWORK, CCT_STAGE_COLLATERAL, 0,
					   "fetching %s failed: %s", url, curl_easy_strerror(cc));
		return cct_err_set(err, CCT_ENETWORK, CCT_STAGE_COLLATERAL, 0,
				   "fetching %s failed: HTTP %ld", url, status);
	}
}

int cct_fetch_cached(uint8_t **out, size_t *out_len, int *from_cache, const char *url,
		     const char *cache_path, int refresh, const cct_fetch_opts *opts, cct_err *err)
{
	struct stat st;
	int rc;

	if (from_cache)
		*from_cache = 0;
	if (cache_path && !refresh && stat(cache_path, &st) == 0 && S_ISREG(st.st_mode)) {
		rc = cct_file_read(out, out_len, cache_path, CCT_FETCH_MAX_BODY, err);
		if (rc == CCT_OK && from_cache)
			*from_cache = 1;
		return rc;
	}
	rc = cct_fetch_url(out, out_len, url, opts, err);
	if (rc != CCT_OK)
		return rc;
	if (cache_path && cct_mkdirs_for(cache_path) == 0)
		cct_file_write(cache_path, *out, *out_len, 0, NULL); /* cache is best effort */
	return CCT_OK;
}
