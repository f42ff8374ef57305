/* Background, single-flight, negatively cached collateral fetching with a bounded wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "cctrust/core.h"
#include "collateral/fetcher.h"

#define MAX_ENTRIES 256
#define NEG_DEFAULT_S 30
#define NEG_MAX_S 3600
#define OK_KEEP_S 60

enum { IN_FLIGHT, DONE_OK, DONE_FAIL };

typedef struct entry {
	struct entry *next;
	char *key, *url, *ctype, *header_name, *header;
	uint8_t *req_body, *body;
	size_t req_len, n, max_body;
	int state, code;
	cct_stage stage;
	time_t until; /* DONE_*: forget (ok) / retry allowed (fail) after this */
	char msg[CCT_ERR_MSG_SIZE];
} entry;

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static entry *head;
static int enabled_wait; /* 0: off */
static unsigned long st_started, st_joined, st_negative, st_timeouts;
static __thread int t_in_budget, t_in_fetcher, t_unavailable;
static __thread struct timespec t_deadline;
static __thread long t_retry_after;

void cct_fetcher_enable(int wait_s)
{
	pthread_mutex_lock(&lk);
	enabled_wait = wait_s > 0 ? wait_s : 5;
	pthread_mutex_unlock(&lk);
}

void cct_fetcher_request_begin(void)
{
	int w;

	pthread_mutex_lock(&lk);
	w = enabled_wait;
	pthread_mutex_unlock(&lk);
	t_in_budget = w > 0;
	t_unavailable = 0;
	t_retry_after = 0;
	clock_gettime(CLOCK_REALTIME, &t_deadline);
	t_deadline.tv_sec += w;
}

int cct_fetcher_request_end(long *retry_after_s)
{
	int u = t_unavailable;

	if (retry_after_s)
		*retry_after_s = t_retry_after > 0 ? t_retry_after : 5;
	t_in_budget = 0;
	t_unavailable = 0;
	return u;
}

void cct_fetcher_stats(unsigned long *started, unsigned long *joined, unsigned long *negative,
		       unsigned long *timeouts)
{
	pthread_mutex_lock(&lk);
	*started = st_started;
	*joined = st_joined;
	*negative = st_negative;
	*timeouts = st_timeouts;
	pthread_mutex_unlock(&lk);
}

int cct_fetcher__active(void)
{
	return t_in_budget && !t_in_fetcher;
}

static void entry_free(entry *e)
{
	free(e->key);
	free(e->url);
	free(e->ctype);
	free(e->header_name);
	free(e->header);
	free(e->req_body);
	free(e->body);
	free(e);
}

/* Drop finished entries past their time, and the oldest finished ones above MAX_ENTRIES. */
static void sweep(time_t now)
{
	entry **pp = &head, *e;
	int n = 0;

	while ((e = *pp)) {
		if (e->state != IN_FLIGHT && (e->until <= now || n >= MAX_ENTRIES)) {
			*pp = e->next;
			entry_free(e);
			continue;
		}
		n++;
		pp = &e->next;
	}
}

static void *worker(void *arg)
{
	entry *e = arg;
	cct_fetch_opts o;
	cct_fetch_req r;
	cct_err err;
	uint8_t *body = NULL;
	size_t n = 0;
	char *hdr = NULL;
	long status = 0, ra = 0;
	int rc;

	t_in_fetcher = 1;
	memset(&o, 0, sizeof(o));
	o.max_retries = -1; /* no sleeping retries: a failure is remembered instead */
	o.timeout_s = 20;
	o.quiet = 1;
	memset(&r, 0, sizeof(r));
	r.url = e->url;
	r.content_type = e->ctype;
	r.body = e->req_body;
	r.body_len = e->req_len;
	r.header_name = e->header_name;
	r.header_out = e->header_name ? &hdr : NULL;
	r.max_body = e->max_body;
	r.stage = e->stage;
	rc = cct_fetch(&body, &n, &r, &o, &err);
	cct_fetch__last(&status, &ra);
	pthread_mutex_lock(&lk);
	if (rc == CCT_OK) {
		e->state = DONE_OK;
		e->body = body;
		e->n = n;
		e->header = hdr;
		e->until = time(NULL) + OK_KEEP_S;
	} else {
		e->state = DONE_FAIL;
		e->code = rc;
		snprintf(e->msg, sizeof(e->msg), "%s", err.msg);
		if (ra <= 0)
			ra = NEG_DEFAULT_S;
		e->until = time(NULL) + (ra > NEG_MAX_S ? NEG_MAX_S : ra);
		free(hdr);
	}
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&lk);
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int cct_fetcher__get(uint8_t **out, size_t *out_len, const cct_fetch_req *req,
		     const cct_fetch_opts *opts, cct_err *err)
{
	char *key = NULL, bh[65] = "";
	entry *e;
	time_t now = time(NULL);
	cct_stage stage = req->stage ? req->stage : CCT_STAGE_COLLATERAL;
	int rc;

	(void)opts;
	*out = NULL;
	*out_len = 0;
	if (req->header_out)
		*req->header_out = NULL;
	if (req->body) {
		uint8_t d[32];
		size_t i;

		EVP_Digest(req->body, req->body_len, d, NULL, EVP_sha256(), NULL);
		for (i = 0; i < 32; i++)
			snprintf(bh + 2 * i, 3, "%02x", d[i]);
	}
	if (asprintf(&key, "%s\n%s\n%s", req->url, bh, req->header_name ? req->header_name : "") < 0)
		return cct_err_set(err, CCT_ENOMEM, stage, 0, "out of memory");
	pthread_mutex_lock(&lk);
	sweep(now);
	for (e = head; e && strcmp(e->key, key); e = e->next)
		;
	if (!e) {
		pthread_t th;
		pthread_attr_t at;

		e = calloc(1, sizeof(*e));
		if (e) {
			e->key = key;
			key = NULL;
			e->url = strdup(req->url);
			e->ctype = dup_or_null(req->content_type);
			e->header_name = dup_or_null(req->header_name);
			e->max_body = req->max_body;
			e->stage = stage;
			e->state = IN_FLIGHT;
			if (req->body && (e->req_body = malloc(req->body_len ? req->body_len : 1)))
				memcpy(e->req_body, req->body, req->body_len);
			e->req_len = req->body_len;
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			if (!e->url || pthread_create(&th, &at, worker, e) != 0) {
				entry_free(e);
				e = NULL;
			} else {
				e->next = head;
				head = e;
				st_started++;
			}
			pthread_attr_destroy(&at);
		}
		if (!e) {
			pthread_mutex_unlock(&lk);
			free(key);
			return cct_err_set(err, CCT_ENOMEM, stage, 0, "cannot start a fetch");
		}
	} else if (e->state == IN_FLIGHT) {
		st_joined++;
	}
	free(key);
	while (e->state == IN_FLIGHT &&
	       pthread_cond_timedwait(&cv, &lk, &t_deadline) != ETIMEDOUT)
		;
	if (e->state == DONE_OK) {
		*out = malloc(e->n + 1);
		if (*out) {
			memcpy(*out, e->body, e->n);
			(*out)[e->n] = 0;
			*out_len = e->n;
		}
		if (req->header_out && e->header)
			*req->header_out = strdup(e->header);
		rc = *out ? CCT_OK : cct_err_set(err, CCT_ENOMEM, stage, 0, "out of memory");
	} else if (e->state == DONE_FAIL) {
		long left = (long)(e->until - now);

		st_negative++;
		t_unavailable = 1;
		t_retry_after = left > 0 ? left : 1;
		rc = cct_err_set(err, CCT_ENETWORK, stage, 0,
				 "collateral unavailable: %.300s (not retried for %ld s)", e->msg,
				 t_retry_after);
	} else {
		st_timeouts++;
		t_unavailable = 1;
		t_retry_after = 5;
		rc = cct_err_set(err, CCT_ENETWORK, stage, 0,
				 "collateral unavailable: %.300s still being fetched after the "
				 "request's wait budget", req->url);
	}
	pthread_mutex_unlock(&lk);
	return rc;
}
