/* The broker's collateral fetcher (semi-private): keeps network fetches of collateral off the
 * request path's sleeps. Once enabled (cctrustd), a fetch made while a request budget is open
 * on the calling thread goes to a background thread, single-flight per URL (one request to
 * AMD/Intel/NVIDIA however many guests wait for it), waits at most the rest of that request's
 * budget (default 5 s), never sleeps for Retry-After, and remembers failures for their
 * Retry-After (negative caching, 30 s without one, at most one hour). Outside a budget (the
 * CLI, tests) cct_fetch behaves as before. */
#ifndef CCT_COLLATERAL_FETCHER_H
#define CCT_COLLATERAL_FETCHER_H

#include <stddef.h>
#include <stdint.h>

#include "cctrust/errors.h"
#include "collateral/fetch.h"

/* Route fetches under a request budget of wait_s seconds through the fetcher (process-wide). */
void cct_fetcher_enable(int wait_s);
/* Open the calling thread's request budget (no-op unless enabled). */
void cct_fetcher_request_begin(void);
/* Close it; 1 if a fetch of this request was refused as unavailable (*retry_after_s: when to
 * come back), else 0. */
int cct_fetcher_request_end(long *retry_after_s);
/* Counters for /metrics. */
void cct_fetcher_stats(unsigned long *started, unsigned long *joined, unsigned long *negative,
		       unsigned long *timeouts);

/* For cct_fetch: 1 if this fetch must go through the fetcher; then cct_fetcher__get does it. */
int cct_fetcher__active(void);
int cct_fetcher__get(uint8_t **out, size_t *out_len, const cct_fetch_req *req,
		     const cct_fetch_opts *opts, cct_err *err);
/* The HTTP status and Retry-After (s) of the calling thread's last cct_fetch exchange. */
void cct_fetch__last(long *status, long *retry_after);

#endif
