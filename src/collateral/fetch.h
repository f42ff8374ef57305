/* Collateral fetching with an on-disk cache (semi-private).
 * Every fetch first looks in the cache; the network is used only when allowed, with libcurl,
 * honouring HTTP 429 (Retry-After, else exponential backoff). Nothing cached is fetched again
 * unless the caller says it is stale. */
#ifndef CCT_COLLATERAL_FETCH_H
#define CCT_COLLATERAL_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "cctrust/errors.h"

#define CCT_FETCH_MAX_BODY (8u * 1024u * 1024u)
#define CCT_FETCH_MAX_RETRIES 4

typedef struct cct_fetch_opts {
	int offline;              /* never use the network */
	long timeout_s;           /* per request (default 30) */
	int max_retries;          /* on 429/5xx (0: default CCT_FETCH_MAX_RETRIES; < 0: none) */
	long min_backoff_s;       /* first backoff when no Retry-After (default 10) */
	int quiet;                /* no progress lines on stderr */
} cct_fetch_opts;

/* Read cache_path if it exists (and !refresh); else GET url (if allowed), store the body in
 * cache_path (directories created) and return it. *out malloc'd. *from_cache set when given.
 * ENETWORK when offline and not cached, or the fetch failed. */
int cct_fetch_cached(uint8_t **out, size_t *out_len, int *from_cache, const char *url,
		     const char *cache_path, int refresh, const cct_fetch_opts *opts, cct_err *err);
/* One HTTP exchange: GET, or POST when body is set; optionally capture one response header. */
typedef struct cct_fetch_req {
	const char *url;
	const char *content_type;   /* POST: Content-Type of body */
	const uint8_t *body;        /* NULL: GET */
	size_t body_len;
	const char *header_name;    /* capture this response header's value ... */
	char **header_out;          /* ... here (malloc'd, trimmed; NULL if absent) */
	size_t max_body;            /* response cap (0: CCT_FETCH_MAX_BODY) */
	cct_stage stage;            /* stage for errors (0: COLLATERAL) */
} cct_fetch_req;

/* Perform req; 200 -> *out (malloc'd, NUL-terminated), else ENETWORK/ETOOBIG naming the URL. */
int cct_fetch(uint8_t **out, size_t *out_len, const cct_fetch_req *req, const cct_fetch_opts *opts,
	      cct_err *err);
/* Plain GET (no cache). */
int cct_fetch_url(uint8_t **out, size_t *out_len, const char *url, const cct_fetch_opts *opts,
		  cct_err *err);
/* Process-wide collateral counters (thread-safe), for metrics: a cache hit is collateral served
 * from a cache or an offline directory (VCEK, CRL, TDX collateral, RIM, OCSP response); a fetch
 * is a request that went to the network. */
void cct_collateral_count_hit(void);
void cct_collateral_stats(unsigned long *cache_hits, unsigned long *network_fetches);

/* Minimum interval between two requests to URLs starting with prefix (process-wide; the
 * longest matching prefix applies; ms 0 turns pacing off). */
void cct_fetch_set_min_interval(const char *prefix, long ms);

/* mkdir -p for the directory part of path. */
int cct_mkdirs_for(const char *path);

#endif
