/* Collateral fetching: cache first, then libcurl with 429 backoff. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <pthread.h>
#include <strings.h>

#include "cctrust/core.h"
#include "collateral/fetch.h"
#include "collateral/fetcher.h"

static __thread long last_status, last_retry_after;

void cct_fetch__last(long *status, long *retry_after)
{
	*status = last_status;
	*retry_after = last_retry_after;
}

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
	size_t n, max;
	int too_big;
	const char *want_header;
	char *header;
} exchange;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	exchange *b = ud;
	size_t add = size * nmemb;
	uint8_t *np;

	if (add > b->max - b->n) {
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

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	exchange *b = ud;
	size_t n = size * nmemb, k, s, e;

	if (!b->want_header || n > 65536)
		return n;
	k = strlen(b->want_header);
	if (n > k && p[k] == ':' && !strncasecmp(p, b->want_header, k)) {
		s = k + 1;
		e = n;
		while (s < e && (p[s] == ' ' || p[s] == '\t'))
			s++;
		while (e > s && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
			e--;
		free(b->header);
		b->header = strndup(p + s, e - s);
	}
	return n;
}

static unsigned long stat_hits, stat_fetches;

void cct_collateral_count_hit(void)
{
	__atomic_add_fetch(&stat_hits, 1, __ATOMIC_RELAXED);
}

void cct_collateral_stats(unsigned long *cache_hits, unsigned long *network_fetches)
{
	if (cache_hits)
		*cache_hits = __atomic_load_n(&stat_hits, __ATOMIC_RELAXED);
	if (network_fetches)
		*network_fetches = __atomic_load_n(&stat_fetches, __ATOMIC_RELAXED);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int cct_fetch(uint8_t **out, size_t *out_len, const cct_fetch_req *req, const cct_fetch_opts *opts,
	      cct_err *err)
{
	long timeout = opts && opts->timeout_s ? opts->timeout_s : 30;
	int retries = !opts || !opts->max_retries ? CCT_FETCH_MAX_RETRIES
			: opts->max_retries < 0	  ? 0
						  : opts->max_retries;
	long backoff = opts && opts->min_backoff_s ? opts->min_backoff_s : 10;
	cct_stage stage = req->stage ? req->stage : CCT_STAGE_COLLATERAL;
	int attempt;

	*out = NULL;
	*out_len = 0;
	if (req->header_out)
		*req->header_out = NULL;
	if (opts && opts->offline)
		return cct_err_set(err, CCT_ENETWORK, stage, 0,
				   "%s is needed but network access is off (--offline); put it in "
				   "the collateral directory",
				   req->url);
	/* in a broker request: background, single-flight, bounded wait, no sleeps */
	if (cct_fetcher__active())
		return cct_fetcher__get(out, out_len, req, opts, err);
	pthread_once(&curl_once, curl_init_once);
	for (attempt = 0;; attempt++) {
		CURL *c = curl_easy_init();
		struct curl_slist *hdr = NULL;
		exchange b = { NULL, 0, req->max_body ? req->max_body : CCT_FETCH_MAX_BODY, 0,
			       req->header_name, NULL };
		long status = 0;
		curl_off_t retry_after = 0;
		CURLcode cc;

		if (!c)
			return cct_err_set(err, CCT_ENOMEM, stage, 0, "curl init");
		curl_easy_setopt(c, CURLOPT_URL, req->url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &b);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
		curl_easy_setopt(c, CURLOPT_USERAGENT, "cctrust/" CCT_VERSION_STRING);
		if (req->body) {
			char ct[128];

			snprintf(ct, sizeof(ct), "Content-Type: %s",
				 req->content_type ? req->content_type : "application/octet-stream");
			hdr = curl_slist_append(NULL, ct);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		}
		__atomic_add_fetch(&stat_fetches, 1, __ATOMIC_RELAXED);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after);
		curl_easy_cleanup(c);
		last_status = status;
		last_retry_after = (long)retry_after;
		curl_slist_free_all(hdr);
		if (cc == CURLE_OK && status == 200) {
			*out = b.p ? b.p : calloc(1, 1);
			*out_len = b.n;
			if (req->header_out)
				*req->header_out = b.header;
			else
				free(b.header);
			return *out ? CCT_OK : cct_err_set(err, CCT_ENOMEM, stage, 0, "out of memory");
		}
		free(b.p);
		free(b.header);
		if (b.too_big)
			return cct_err_set(err, CCT_ETOOBIG, stage, 0,
					   "%s: response larger than %zu bytes", req->url, b.max);
		if ((status == 429 || status >= 500) && attempt < retries) {
			long wait = retry_after > 0 ? (long)retry_after : backoff << attempt;

			if (wait > 120)
				wait = 120;
			if (!opts || !opts->quiet)
				fprintf(stderr, "cctrust: %s answered %ld; retrying in %ld s\n",
					req->url, status, wait);
			sleep((unsigned)wait);
			continue;
		}
		if (cc != CURLE_OK)
			return cct_err_set(err, CCT_ENETWORK, stage, 0, "fetching %s failed: %s",
					   req->url, curl_easy_strerror(cc));
		return cct_err_set(err, CCT_ENETWORK, stage, 0, "fetching %s failed: HTTP %ld",
				   req->url, status);
	}
}

int cct_fetch_url(uint8_t **out, size_t *out_len, const char *url, const cct_fetch_opts *opts,
		  cct_err *err)
{
	cct_fetch_req req = { .url = url };

	return cct_fetch(out, out_len, &req, opts, err);
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
		if (rc == CCT_OK) {
			cct_collateral_count_hit();
			if (from_cache)
				*from_cache = 1;
		}
		return rc;
	}
	rc = cct_fetch_url(out, out_len, url, opts, err);
	if (rc != CCT_OK)
		return rc;
	if (cache_path && cct_mkdirs_for(cache_path) == 0)
		cct_file_write(cache_path, *out, *out_len, 0, NULL); /* cache is best effort */
	return CCT_OK;
}
