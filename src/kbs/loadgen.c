/* Load generator for a running broker (`cctrust kbs bench`): N client threads, M full guest
 * flows, latency per endpoint from the client's side, errors by type. The evidence step (built in
 * process by the caller's provider, e.g. the simulated TEE) is timed apart and excluded. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cctrust/core.h"
#include "cctrust/kbs.h"
#include "kbs/kbs_int.h"

#define LOADGEN_MAX_CLIENTS 256
#define LOADGEN_MAX_FLOWS 10000000L

static const int endpoint_step[3] = { CCT_KBS_STEP_AUTH, CCT_KBS_STEP_ATTEST,
				      CCT_KBS_STEP_RESOURCE };
static const char *const step_names[CCT_KBS_STEPS] = { "auth", "evidence", "attest", "resource",
						       "unwrap" };

typedef struct run {
	const cct_kbs_loadgen_opts *o;
	cct_kbs_loadgen_report *r;
	float *lat[4];           /* per flow, milliseconds; < 0: step not reached */
	long next, done;
	double evidence_s, t0, last_progress;
	pthread_mutex_t lock;
} run;

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void error_type(char *buf, size_t size, const cct_kbs_flow_times *t, int rc)
{
	const char *step = t->step >= 0 && t->step < CCT_KBS_STEPS ? step_names[t->step] : "?";

	if (t->status && t->status != 200)
		snprintf(buf, size, "%s: HTTP %ld", step, t->status);
	else
		snprintf(buf, size, "%s: %s", step, cct_code_name(rc));
}

/* under r->lock */
static void count_error(cct_kbs_loadgen_report *r, const char *type)
{
	size_t i;

	for (i = 0; i < r->error_types; i++)
		if (!strcmp(r->errors[i].type, type)) {
			r->errors[i].count++;
			return;
		}
	if (r->error_types == CCT_KBS_LOADGEN_MAX_ERROR_TYPES) {
		r->errors_other++;
		return;
	}
	snprintf(r->errors[r->error_types].type, sizeof(r->errors[0].type), "%s", type);
	r->errors[r->error_types++].count = 1;
}

static void *worker(void *arg)
{
	run *g = arg;

	for (;;) {
		cct_kbs_flow_times t;
		cct_err err;
		uint8_t *s = NULL;
		size_t n = 0, k;
		long i;
		int rc;
		char type[64];
		double total = 0, now;

		pthread_mutex_lock(&g->lock);
		i = g->next < g->o->flows ? g->next++ : -1;
		pthread_mutex_unlock(&g->lock);
		if (i < 0)
			break;
		rc = cct_kbs_client_flow(&s, &n, g->o->client, g->o->resource, &t, &err);
		if (s) {
			cct_wipe(s, n);
			free(s);
		}
		for (k = 0; k < 3; k++) {
			int st = endpoint_step[k];
			int reached = rc == CCT_OK || t.step >= st;

			g->lat[k][i] = reached ? (float)(t.seconds[st] * 1e3) : -1.0f;
		}
		for (k = 0; k < CCT_KBS_STEPS; k++)
			if (k != CCT_KBS_STEP_EVIDENCE)
				total += t.seconds[k];
		g->lat[3][i] = rc == CCT_OK ? (float)(total * 1e3) : -1.0f;
		now = mono_s();
		pthread_mutex_lock(&g->lock);
		g->done++;
		g->evidence_s += t.seconds[CCT_KBS_STEP_EVIDENCE];
		if (rc != CCT_OK) {
			g->r->failures++;
			error_type(type, sizeof(type), &t, rc);
			count_error(g->r, type);
		}
		if (g->o->progress && (now - g->last_progress >= 1.0 || g->done == g->o->flows)) {
			g->last_progress = now;
			g->o->progress(g->o->progress_ctx, g->done, g->r->failures, now - g->t0);
		}
		pthread_mutex_unlock(&g->lock);
	}
	return NULL;
}

static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* p50, p90, p99, max of the non-negative values of v (sorted in place) */
static long percentiles(double out[4], float *v, long n)
{
	long m = 0, i;

	for (i = 0; i < n; i++)
		if (v[i] >= 0)
			v[m++] = v[i];
	memset(out, 0, 4 * sizeof(double));
	if (!m)
		return 0;
	qsort(v, (size_t)m, sizeof(float), cmp_f);
	out[0] = v[(m - 1) * 50 / 100];
	out[1] = v[(m - 1) * 90 / 100];
	out[2] = v[(m - 1) * 99 / 100];
	out[3] = v[m - 1];
	return m;
}

/* The broker's CPU counters, from its /metrics: sum (seconds) and count for auth, attest,
 * resource and the verification. */
typedef struct cpu_counters {
	double sum[4];
	long count[4];
} cpu_counters;

/* Parse the Prometheus text of /metrics (NUL-terminated; the client caps its size): 0 when
 * every counter was found, else -1. Lines that match none are skipped; a value that does not
 * parse reads as 0. */
int cct_kbs__metrics_cpu_parse(const char *text, double sum[4], long count[4])
{
	static const char *const sums[4] = {
		"cctrustd_request_cpu_seconds_sum{endpoint=\"auth\"} ",
		"cctrustd_request_cpu_seconds_sum{endpoint=\"attest\"} ",
		"cctrustd_request_cpu_seconds_sum{endpoint=\"resource\"} ",
		"cctrustd_verification_cpu_seconds_sum ",
	};
	static const char *const counts[4] = {
		"cctrustd_request_cpu_seconds_count{endpoint=\"auth\"} ",
		"cctrustd_request_cpu_seconds_count{endpoint=\"attest\"} ",
		"cctrustd_request_cpu_seconds_count{endpoint=\"resource\"} ",
		"cctrustd_verification_cpu_seconds_count ",
	};
	const char *line = text;
	int seen = 0, i;

	memset(sum, 0, 4 * sizeof(double));
	memset(count, 0, 4 * sizeof(long));
	while (line && *line) {
		for (i = 0; i < 4; i++) {
			if (!strncmp(line, sums[i], strlen(sums[i]))) {
				sum[i] = strtod(line + strlen(sums[i]), NULL);
				seen |= 1 << i;
			} else if (!strncmp(line, counts[i], strlen(counts[i]))) {
				count[i] = strtol(line + strlen(counts[i]), NULL, 10);
				seen |= 1 << (4 + i);
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return seen == 0xff ? 0 : -1;
}

/* 0 when read, else -1 with why */
static int read_server_cpu(cpu_counters *c, const cct_kbs_loadgen_opts *o, char *why,
			   size_t why_size)
{
	int status = 0, rc;
	char *body = NULL;
	size_t n = 0;
	cct_err err;

	memset(c, 0, sizeof(*c));
	if (cct_kbs_client_get(&status, &body, &n, o->client, "/metrics", o->metrics_bearer,
			       &err) != CCT_OK) {
		snprintf(why, why_size, "/metrics: %.100s", err.msg);
		return -1;
	}
	if (status != 200) {
		snprintf(why, why_size, "/metrics answered HTTP %d%s", status,
			 status == 401 ? ": the broker guards it (cctrustd --metrics-token); give "
					 "its token with --metrics-token FILE"
				       : "");
		free(body);
		return -1;
	}
	rc = cct_kbs__metrics_cpu_parse(body, c->sum, c->count);
	free(body);
	if (rc != 0)
		snprintf(why, why_size, "the broker's /metrics has no per-request CPU counters "
					"(cctrustd_request_cpu_seconds: an older cctrustd?)");
	return rc;
}

/* r->server_*: the counters' growth over the run, per request */
static void server_cpu(cct_kbs_loadgen_report *r, const cpu_counters *a, const cpu_counters *b)
{
	int i;

	for (i = 0; i < 4; i++) {
		long dn = b->count[i] - a->count[i];
		double ds = b->sum[i] - a->sum[i];

		if (dn < 0 || ds < 0) {
			snprintf(r->server_cpu_why, sizeof(r->server_cpu_why),
				 "the broker's counters went back during the run (restarted, or "
				 "another replica answered /metrics)");
			return;
		}
		r->server_requests[i] = dn;
		r->server_cpu_ms[i] = dn ? ds * 1e3 / (double)dn : 0;
	}
	if (r->server_requests[1] < r->samples[1]) {
		snprintf(r->server_cpu_why, sizeof(r->server_cpu_why),
			 "the broker counted %ld attests, this run made %ld: another replica "
			 "answered", r->server_requests[1], r->samples[1]);
		return;
	}
	r->server_cpu_ok = 1;
}

int cct_kbs_loadgen_run(cct_kbs_loadgen_report *r, const cct_kbs_loadgen_opts *o, cct_err *err)
{
	cpu_counters before, after;
	int have_before;
	pthread_t th[LOADGEN_MAX_CLIENTS];
	run g;
	int i, started = 0;
	int rc = CCT_OK;

	memset(r, 0, sizeof(*r));
	if (!o || !o->client || !o->resource || o->clients < 1 ||
	    o->clients > LOADGEN_MAX_CLIENTS || o->flows < 1 || o->flows > LOADGEN_MAX_FLOWS)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "load generator: clients 1..%d, flows 1..%ld",
				   LOADGEN_MAX_CLIENTS, LOADGEN_MAX_FLOWS);
	memset(&g, 0, sizeof(g));
	g.o = o;
	g.r = r;
	for (i = 0; i < 4; i++) {
		g.lat[i] = malloc(sizeof(float) * (size_t)o->flows);
		if (!g.lat[i]) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
	}
	pthread_mutex_init(&g.lock, NULL);
	have_before = read_server_cpu(&before, o, r->server_cpu_why, sizeof(r->server_cpu_why)) == 0;
	g.t0 = g.last_progress = mono_s();
	for (i = 0; i < o->clients; i++)
		if (pthread_create(&th[i], NULL, worker, &g) == 0)
			started++;
	if (!started) {
		pthread_mutex_destroy(&g.lock);
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot start client threads");
		goto out;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	r->seconds = mono_s() - g.t0;
	pthread_mutex_destroy(&g.lock);
	r->flows = g.done;
	r->clients = started;
	r->evidence_s = g.evidence_s;
	for (i = 0; i < 4; i++)
		r->samples[i] = percentiles(r->ms[i], g.lat[i], o->flows);
	if (have_before &&
	    read_server_cpu(&after, o, r->server_cpu_why, sizeof(r->server_cpu_why)) == 0)
		server_cpu(r, &before, &after);
out:
	for (i = 0; i < 4; i++)
		free(g.lat[i]);
	return rc;
}

char *cct_kbs_loadgen_json(const cct_kbs_loadgen_report *r)
{
	static const char *const names[4] = { "auth", "attest", "resource", "flow" };
	json_t *o = json_object(), *lat = json_object(), *errs = json_object();
	double busy = r->seconds;
	char *s;
	size_t i;

	if (!o || !lat || !errs) {
		json_decref(o);
		json_decref(lat);
		json_decref(errs);
		return NULL;
	}
	json_object_set_new(o, "flows", json_integer(r->flows));
	json_object_set_new(o, "clients", json_integer(r->clients));
	json_object_set_new(o, "failures", json_integer(r->failures));
	json_object_set_new(o, "seconds", json_real(r->seconds));
	json_object_set_new(o, "flows_per_s",
			    json_real(busy > 0 ? (double)(r->flows - r->failures) / busy : 0));
	json_object_set_new(o, "evidence_ms_per_flow",
			    json_real(r->flows ? r->evidence_s * 1e3 / (double)r->flows : 0));
	for (i = 0; i < 4; i++)
		json_object_set_new(lat, names[i],
				    json_pack("{s:f,s:f,s:f,s:f,s:I}", "p50", r->ms[i][0], "p90",
					      r->ms[i][1], "p99", r->ms[i][2], "max", r->ms[i][3],
					      "n", (json_int_t)r->samples[i]));
	json_object_set_new(o, "latency_ms", lat);
	for (i = 0; i < r->error_types; i++)
		json_object_set_new(errs, r->errors[i].type, json_integer(r->errors[i].count));
	if (r->errors_other)
		json_object_set_new(errs, "other", json_integer(r->errors_other));
	json_object_set_new(o, "errors", errs);
	if (r->server_cpu_ok) {
		json_object_set_new(
			o, "server_cpu_ms",
			json_pack("{s:f,s:f,s:f,s:f,s:f,s:{s:I,s:I,s:I}}", "auth", r->server_cpu_ms[0],
				  "attest", r->server_cpu_ms[1], "resource", r->server_cpu_ms[2],
				  "verification", r->server_cpu_ms[3], "handlers_per_flow",
				  r->server_cpu_ms[0] + r->server_cpu_ms[1] + r->server_cpu_ms[2],
				  "requests", "auth", (json_int_t)r->server_requests[0], "attest",
				  (json_int_t)r->server_requests[1], "resource",
				  (json_int_t)r->server_requests[2]));
	} else {
		json_object_set_new(o, "server_cpu_ms", json_null());
		json_object_set_new(o, "server_cpu_unavailable", json_string(r->server_cpu_why));
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
