/* cctrustd: the key broker and attestation service daemon. HTTP/1.1 over libmicrohttpd (TLS
 * with a configured certificate; plain HTTP only on loopback unless --insecure-http) in front
 * of the transport-free handler cct_kbs_handle(). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cctrust/core.h"
#include "cctrust/collateral.h"
#include "collateral/fetcher.h"
#include "cctrustd.h"
#include "../httpd/framing.h"

/* the HTTP worker threads when --threads is not given: the CPUs this process may run on, and
 * at least MIN_DEFAULT_THREADS so a request waiting on the disk or on collateral does not hold
 * the others (more threads than CPUs only interleave requests: measured, 4 on one CPU cost
 * about 6% more CPU per flow than 2, bench/kbs.sh paired rounds) */
#define MIN_DEFAULT_THREADS 2
#define MAX_THREADS 1024
/* the store's connections when --store-connections is not given: one per worker thread, so a
 * worker does not wait for another's statement; never fewer than the library's default (4),
 * and at most 16 (a PostgreSQL server serves every replica's pool out of its max_connections,
 * 100 by default) */
#define MIN_DEFAULT_STORE_CONNS CCT_STORE_CONNECTIONS_DEFAULT
#define MAX_DEFAULT_STORE_CONNS 16
/* --connection-memory: MHD's pool per connection, which holds the request line and headers
 * (a Bearer EAR with GPU claims is the largest header) and MHD's own buffers; the body streams
 * through it. The default is the largest pool MHD takes from malloc: above 32 KiB it maps
 * every connection's pool with mmap and faults its pages in (MHD zeroes the whole pool before
 * each keep-alive request), unmapping it on close, which cost the broker 2-11% (mean 7%) more
 * CPU per guest flow (bench/kbs_ab.sh). 32 KiB takes headers up to about 32,000 bytes: a
 * Bearer EAR with one GPU's claims (about 21 KB). The maximum takes a Bearer header at
 * CCT_KBS_MAX_HEADER (tests/kbs/e2e_limits.sh sends one at each size). */
#define DEF_CONN_MEMORY (32 * 1024)
#define MIN_CONN_MEMORY (8 * 1024)
#define MAX_CONN_MEMORY (CCT_KBS_MAX_HEADER + 32 * 1024)
#define CONFIG_MAX_LINES 64
/* Defaults of the resource limits (all options, all exported in /metrics). */
#define DEF_MAX_CONNS 1024
#define DEF_MAX_CONNS_PER_IP 64
#define DEF_CONN_TIMEOUT_S 10   /* idle: a client silent this long (headers or body) is dropped */
#define DEF_RATE 200            /* requests a second per client address ... */
#define DEF_BURST 400           /* ... with this burst */
#define DEF_UNAUTH_BODY 16384   /* body limit before routing for requests with no credentials */
#define DEF_MAX_SESSIONS 100000
#define DEF_PRUNE_S 30
#define DEF_AUDIT_RETENTION_DAYS 365
#define WARN_INTERVAL_S 3600
#define RATE_SLOTS 4096

typedef struct opts {
	const char *store, *listen, *tls_cert, *tls_key, *admin_pubkey, *trust_sim, *policy;
	const char *master_key, *ca_cert, *ca_key, *port_file, *config;
	const char *collateral, *certs, *token_key, *pg_url_file, *metrics_token;
	const char *token_cert, *admin_audience, *generations;
	int insecure_http, session_ttl, cert_ttl, threads, offline, token_ttl, pg_insecure;
	int store_conns;
	int admin_require_jti;
	long long admin_max_lifetime;
	int max_conns, max_conns_per_ip, conn_timeout, rate, burst, unauth_body, max_sessions;
	int prune_interval, audit_retention_days, unauth_audit, collateral_wait, collateral_serve;
	int collateral_reload, conn_memory;
	int cfg_insecure_http, cfg_trust_sim, cfg_pg_insecure; /* set from the config file */
} opts;

typedef struct conn {
	uint8_t *body;
	size_t len;
	size_t limit;
	int too_big;
	const char *bad_framing; /* why the body's framing is ambiguous (request smuggling) */
} conn;

static opts g_o;
static int g_insecure_http, g_loopback;
static char *g_metrics_token;
static int64_t g_sessions = -1;
static uint64_t g_rate_limited, g_body_refused, g_metrics_denied;
static pthread_mutex_t g_lim_lock = PTHREAD_MUTEX_INITIALIZER;

/* Per-client token buckets (client address hashed into fixed slots: bounded memory; two
 * addresses sharing a slot share a budget, which only ever limits more). */
static struct {
	char addr[48];
	double tokens;
	double last;
} g_rate[RATE_SLOTS];

static cct_kbs_server *g_srv;
/* --collateral BUNDLE: shared by the verifier and --collateral-serve, reloaded on SIGHUP and
 * (--collateral-reload S) when the path changes; users hold a snapshot per request */
static cct_coll_live *g_live;
static int g_serve;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_json(void *ctx, const char *line)
{
	(void)ctx;
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

static void logf_(const char *level, const char *fmt, ...)
{
	char msg[512], ts[32];
	va_list ap;
	json_t *j;
	char *line;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cct_time_format(ts, sizeof(ts), time(NULL));
	j = json_pack("{s:s,s:s,s:s}", "time", ts, "level", level, "msg", msg);
	line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (line)
		log_json(NULL, line);
	free(line);
	json_decref(j);
}

/* One JSON log line about the collateral bundle in use: what = "loaded" (start-up),
 * "reloaded", or "refused" (refusal: the previous bundle stays, named with why). */
static void log_bundle(const char *what, const char *why, const char *refusal)
{
	const cct_coll_snap *s = cct_coll_live_acquire(g_live);
	const cct_coll_manifest *m = cct_coll_bundle_manifest(s->bundle);
	char ts[32], newest[32] = "", deadline[32] = "", loaded[32], msg[1024];
	time_t nf = 0, dl = 0;
	size_t i;
	json_t *j;
	char *line;

	for (i = 0; i < m->count; i++) {
		const cct_coll_item *it = &m->items[i];
		time_t d = it->next_update && (!it->not_after || it->next_update < it->not_after)
				   ? it->next_update
				   : it->not_after;

		if (it->fetched_at > nf)
			nf = it->fetched_at;
		if (d && (!dl || d < dl))
			dl = d;
	}
	if (nf)
		cct_time_format(newest, sizeof(newest), nf);
	if (dl)
		cct_time_format(deadline, sizeof(deadline), dl);
	cct_time_format(loaded, sizeof(loaded), s->loaded_at);
	cct_time_format(ts, sizeof(ts), time(NULL));
	if (refusal)
		snprintf(msg, sizeof(msg), "collateral bundle reload (%s) refused: %.400s; still using %.300s "
			 "(%zu items, manifest sha256 %.16s..., loaded %s)", why, refusal, s->path,
			 m->count, s->manifest_sha256, loaded);
	else
		snprintf(msg, sizeof(msg), "collateral bundle %s (%s): %.300s, %zu items, newest "
			 "fetched_at %s, manifest sha256 %.16s...", what, why, s->path, m->count,
			 *newest ? newest : "(none)", s->manifest_sha256);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s?,s:s?,s:s}", "time", ts, "level",
		      refusal ? "error" : "info", "msg", msg, "event", "collateral_bundle",
		      "result", refusal ? "refused" : what, "trigger", why, "bundle", s->path,
		      "items", (json_int_t)m->count, "manifest_sha256", s->manifest_sha256,
		      "newest_fetched_at", *newest ? newest : NULL, "next_deadline",
		      *deadline ? deadline : NULL, "loaded_at", loaded);
	cct_coll_live_release(g_live, s);
	if (j && refusal)
		json_object_set_new(j, "error", json_string(refusal));
	line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (line)
		log_json(NULL, line);
	free(line);
	json_decref(j);
}

/* Open the --collateral BUNDLE path again, check it, swap it in; a refusal keeps the old. */
static void reload_bundle(const char *why)
{
	cct_err e;

	memset(&e, 0, sizeof(e));
	if (cct_coll_live_reload(g_live, &e) != CCT_OK)
		log_bundle("refused", why, e.msg[0] ? e.msg : "unreadable");
	else
		log_bundle("reloaded", why, NULL);
}

/* One worker per CPU this process may run on (its affinity mask: taskset, cpusets), at least
 * MIN_DEFAULT_THREADS. */
static int default_threads(void)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	return n < MIN_DEFAULT_THREADS ? MIN_DEFAULT_THREADS : n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cctrustd --store sqlite:PATH|postgres|postgres://... --listen ADDR:PORT\n"
		"                [--tls-cert F --tls-key F] [--insecure-http] --admin-pubkey FILE\n"
		"                [--trust-sim DIR] [--policy FILE] [--master-key FILE]\n"
		"                [--pg-url-file F] [--pg-insecure]\n"
		"                [--collateral DIR|BUNDLE [--collateral-serve]] [--offline]\n"
		"                [--certs PATH] [--collateral-wait S] [--collateral-reload S]\n"
		"                [--token-key FILE] [--token-ttl S] [--token-cert FILE]\n"
		"                [--admin-max-token-lifetime S] [--admin-audience AUD]\n"
		"                [--admin-require-jti]\n"
		"                [--session-ttl S] [--cert-ttl S]\n"
		"                [--ca-cert F --ca-key F] [--threads N] [--store-connections N]\n"
		"                [--generations FILE]\n"
		"                [--port-file F] [--config F]\n"
		"  limits:       [--max-connections N] [--max-connections-per-ip N]\n"
		"                [--conn-timeout S] [--rate-limit N/s] [--rate-burst N]\n"
		"                [--unauth-body-limit BYTES] [--max-sessions N] [--prune-interval S]\n"
		"                [--audit-retention-days D] [--unauth-audit-per-min N]\n"
		"                [--connection-memory BYTES] [--metrics-token FILE]\n"
		"Key broker and attestation service (KBS protocol 0.4.0). Nothing is released until an\n"
		"admin set an attestation policy and a resource policy. SIGHUP reloads the\n"
		"--collateral BUNDLE (checked first; a bad one is refused, the old one stays);\n"
		"--collateral-reload S also polls its path every S seconds. See cctrustd(8).\n");
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 if the client at addr may make one more request now. */
static int rate_ok(const char *addr)
{
	unsigned h = 2166136261u;
	const char *p;
	double now = mono_s();
	int ok;

	if (g_o.rate <= 0)
		return 1;
	for (p = addr; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h %= RATE_SLOTS;
	pthread_mutex_lock(&g_lim_lock);
	if (strcmp(g_rate[h].addr, addr)) {
		snprintf(g_rate[h].addr, sizeof(g_rate[h].addr), "%s", addr);
		g_rate[h].tokens = g_o.burst;
		g_rate[h].last = now;
	}
	g_rate[h].tokens += (now - g_rate[h].last) * g_o.rate;
	if (g_rate[h].tokens > g_o.burst)
		g_rate[h].tokens = g_o.burst;
	g_rate[h].last = now;
	ok = g_rate[h].tokens >= 1.0;
	if (ok)
		g_rate[h].tokens -= 1.0;
	else
		g_rate_limited++;
	pthread_mutex_unlock(&g_lim_lock);
	return ok;
}

/* Transport metrics for cct_kbs_server's /metrics: limits in force, insecure modes. */
static char *metrics_extra(void *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)ctx;
	if (!f)
		return NULL;
	fprintf(f, "# HELP cctrustd_insecure_mode An insecure option in force (1).\n"
		   "# TYPE cctrustd_insecure_mode gauge\n"
		   "cctrustd_insecure_mode{mode=\"insecure_http\"} %d\n"
		   "cctrustd_insecure_mode{mode=\"trust_sim\"} %d\n"
		   "cctrustd_insecure_mode{mode=\"pg_insecure\"} %d\n",
		g_insecure_http, g_o.trust_sim != NULL, g_o.pg_insecure);
	fprintf(f, "# HELP cctrustd_limit Resource limits in force.\n# TYPE cctrustd_limit gauge\n"
		   "cctrustd_limit{name=\"max_connections\"} %d\n"
		   "cctrustd_limit{name=\"max_connections_per_ip\"} %d\n"
		   "cctrustd_limit{name=\"conn_timeout_seconds\"} %d\n"
		   "cctrustd_limit{name=\"rate_limit_per_second\"} %d\n"
		   "cctrustd_limit{name=\"rate_burst\"} %d\n"
		   "cctrustd_limit{name=\"unauth_body_bytes\"} %d\n"
		   "cctrustd_limit{name=\"max_body_bytes\"} %u\n"
		   "cctrustd_limit{name=\"max_sessions\"} %d\n"
		   "cctrustd_limit{name=\"prune_interval_seconds\"} %d\n"
		   "cctrustd_limit{name=\"audit_retention_days\"} %d\n"
		   "cctrustd_limit{name=\"collateral_wait_seconds\"} %d\n"
		   "cctrustd_limit{name=\"worker_threads\"} %d\n"
		   "cctrustd_limit{name=\"store_connections\"} %d\n"
		   "cctrustd_limit{name=\"connection_memory_bytes\"} %d\n",
		g_o.max_conns, g_o.max_conns_per_ip, g_o.conn_timeout, g_o.rate, g_o.burst,
		g_o.unauth_body, CCT_KBS_MAX_BODY, g_o.max_sessions, g_o.prune_interval,
		g_o.audit_retention_days, g_o.collateral_wait, g_o.threads, g_o.store_conns,
		g_o.conn_memory);
	{
		unsigned long a, b, c, d;

		cct_fetcher_stats(&a, &b, &c, &d);
		fprintf(f, "# HELP cctrustd_collateral_fetches_total Background collateral fetcher.\n"
			   "# TYPE cctrustd_collateral_fetches_total counter\n"
			   "cctrustd_collateral_fetches_total{result=\"started\"} %lu\n"
			   "cctrustd_collateral_fetches_total{result=\"joined\"} %lu\n"
			   "cctrustd_collateral_fetches_total{result=\"negative_cache\"} %lu\n"
			   "cctrustd_collateral_fetches_total{result=\"wait_exceeded\"} %lu\n",
			a, b, c, d);
	}
	pthread_mutex_lock(&g_lim_lock);
	fprintf(f, "# TYPE cctrustd_rate_limited_total counter\ncctrustd_rate_limited_total %llu\n"
		   "# TYPE cctrustd_body_refused_total counter\ncctrustd_body_refused_total %llu\n"
		   "# TYPE cctrustd_metrics_denied_total counter\ncctrustd_metrics_denied_total %llu\n"
		   "# TYPE cctrustd_sessions gauge\ncctrustd_sessions %lld\n",
		(unsigned long long)g_rate_limited, (unsigned long long)g_body_refused,
		(unsigned long long)g_metrics_denied, (long long)g_sessions);
	pthread_mutex_unlock(&g_lim_lock);
	fclose(f);
	return buf;
}

static void warn_insecure(const char *when)
{
	if (g_insecure_http)
		logf_("warning", "INSECURE (%s): --insecure-http%s: plain HTTP on non-loopback %s; "
				 "tokens, cookies and admin JWTs cross the network in clear", when,
		      g_o.cfg_insecure_http ? " (from the config file)" : "", g_o.listen);
	if (g_o.trust_sim)
		logf_("warning", "INSECURE (%s): --trust-sim %s%s: simulated TEE roots are trusted; "
				 "only resource policies with \"allow_simulated\": true release to them",
		      when, g_o.trust_sim, g_o.cfg_trust_sim ? " (from the config file)" : "");
	if (g_o.pg_insecure)
		logf_("warning", "INSECURE (%s): --pg-insecure%s: the PostgreSQL connection is not "
				 "required to use sslmode=verify-full", when,
		      g_o.cfg_pg_insecure ? " (from the config file)" : "");
}

static void wipe_free(void *p)
{
	if (p) {
		cct_wipe(p, strlen(p));
		free(p);
	}
}

static enum MHD_Result send_resp(struct MHD_Connection *c, cct_kbs_response *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body = r->body ? r->body : strdup("");

	if (!body)
		return MHD_NO;
	/* the body may be a JWE: MHD keeps our buffer and wipes it through wipe_free */
	resp = MHD_create_response_from_buffer_with_free_callback(r->body ? r->body_len : 0, body,
								  wipe_free);
	if (!resp) {
		wipe_free(body);
		r->body = NULL;
		return MHD_NO;
	}
	r->body = NULL;
	r->body_len = 0;
	MHD_add_response_header(resp, "Content-Type", r->content_type ? r->content_type
								       : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->set_cookie[0])
		MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
	if (r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	cct_wipe(r->set_cookie, sizeof(r->set_cookie));
	return ret;
}

static const char *coll_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* --collateral-serve: the vendors' own URL layouts (AMD KDS, Intel PCS/PCCS with the
 * issuer-chain headers, NVIDIA RIM service; OCSP as POST /ocsp) answered from the bundle, so
 * guests, snpguest and PCCS clients can point at the broker. Read-only: a miss is a 404 (the
 * `cctrust collateral serve --upstream` proxy fetches). 1 when url is a collateral URL (*ret
 * set), 0 otherwise. */
static int serve_collateral(struct MHD_Connection *c, const char *url, const char *method,
			    const conn *cn, enum MHD_Result *ret)
{
	char key[CCT_COLLATERAL_MAX_KEY];
	cct_coll_kind kind;
	const cct_coll_item *it;
	uint8_t *body = NULL;
	size_t n = 0;
	const char *hn = NULL, *ct = NULL, *msg = NULL;
	char *hv = NULL;
	struct MHD_Response *r;
	cct_err e;
	unsigned status = 200;

	if (!strcmp(method, "POST") && !strcmp(url, "/ocsp")) {
		kind = CCT_COLL_NVIDIA_OCSP;
		if (cn->too_big || cct_coll_ocsp_request_key(cn->body, cn->len, key, sizeof(key)) != 0) {
			status = 400;
			msg = "not a single-certificate OCSP request\n";
		}
	} else if ((strcmp(method, "GET") && strcmp(method, "HEAD")) ||
		   cct_coll_route(url, coll_arg, c, &kind, key, sizeof(key)) != 0) {
		return 0; /* HEAD answers as GET (libmicrohttpd sends no body) */
	}
	if (!msg) { /* the bundle of the moment, held until its bytes are copied out */
		const cct_coll_snap *s = cct_coll_live_acquire(g_live);

		it = cct_coll_bundle_find(s->bundle, kind, key);
		if (!it) {
			status = 404;
			msg = "not in the collateral bundle\n";
		} else if (cct_coll_render(s->bundle, it, &body, &n, &hn, &hv, &ct, &e) != CCT_OK) {
			status = 500;
			msg = "collateral item unreadable\n";
			logf_("error", "--collateral-serve %s %s: %s", cct_coll_kind_name(kind), key,
			      e.msg);
		} else if (kind == CCT_COLL_NVIDIA_OCSP &&
			   cct_coll_ocsp_response_answers(cn->body, cn->len, body, n, &e) != CCT_OK) {
			/* kept by serial: an answer about another issuer's certificate with the
			 * same serial does not answer this request */
			free(body);
			body = NULL;
			free(hv);
			hv = NULL;
			status = 404;
			msg = "not in the collateral bundle\n";
		}
		cct_coll_live_release(g_live, s);
	}
	if (msg)
		r = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer_with_free_callback(n, body, free);
	if (!r) {
		free(body);
		free(hv);
		*ret = MHD_NO;
		return 1;
	}
	MHD_add_response_header(r, "Content-Type", msg ? "text/plain" : ct ? ct : "application/octet-stream");
	if (!msg && hn && hv)
		MHD_add_response_header(r, hn, hv);
	*ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	free(hv);
	return 1;
}

/* A refusal cctrustd answers itself, before the KBS handler: RFC 7807 JSON of type
 * PREFIX+type; counted in the status counts (except 401, as before) and in *counter if given. */
static void refusal(cct_kbs_response *r, int status, const char *type, const char *detail,
		    uint64_t *counter)
{
	json_t *j = json_pack("{s:s+,s:s}", "type", CCT_KBS_ERROR_TYPE_PREFIX, type, "detail",
			      detail);

	memset(r, 0, sizeof(*r));
	r->status = status;
	r->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	r->body_len = r->body ? strlen(r->body) : 0;
	r->content_type = "application/json";
	if (counter) {
		pthread_mutex_lock(&g_lim_lock);
		(*counter)++;
		pthread_mutex_unlock(&g_lim_lock);
	}
	if (status != 401)
		cct_kbs_server_count_status(g_srv, status);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	conn *cn = *con_cls;
	cct_kbs_request req;
	cct_kbs_response resp;
	char query[128] = "", peer[64] = "";
	const char *after, *limit;
	const union MHD_ConnectionInfo *ci;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (!cn) {
		const char *ck, *au;

		cn = calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		*con_cls = cn;
		/* before routing: a request with no credentials (no session cookie, no
		 * Authorization) gets the small body limit, and the caller's rate is checked */
		ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id");
		au = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		cn->limit = (ck || au) ? CCT_KBS_MAX_BODY : (size_t)g_o.unauth_body;
		/* answered before any body (and before "100 Continue"): two Content-Length
		 * headers, or one with a Transfer-Encoding (RFC 9112 6.3: MHD would frame the body
		 * by the chunks, a proxy in front may have framed it by the length: the rest is
		 * a smuggled request), or a declared length above the limit, which would
		 * otherwise be read and dropped */
		cn->bad_framing = cct_httpd_framing_refusal(c);
		cn->too_big = !cn->bad_framing && cct_httpd_declared_above(c, cn->limit);
		if (!cn->bad_framing && !cn->too_big)
			return MHD_YES;
	}
	if (*upload_size) {
		if (!cn->too_big && *upload_size <= cn->limit - cn->len) {
			uint8_t *nb = realloc(cn->body, cn->len + *upload_size + 1);

			if (!nb)
				return MHD_NO;
			memcpy(nb + cn->len, upload, *upload_size);
			cn->body = nb;
			cn->len += *upload_size;
			cn->body[cn->len] = 0;
			*upload_size = 0;
			return MHD_YES;
		}
		/* past the limit: only a chunked body gets here (a declared length above it was
		 * answered 413 before the body). MHD cannot answer during an upload, and reading
		 * the rest only to drop it lets a client make the broker read without bound: the
		 * connection is closed instead. */
		pthread_mutex_lock(&g_lim_lock);
		g_body_refused++;
		pthread_mutex_unlock(&g_lim_lock);
		return MHD_NO;
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id");
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	if (after || limit) {
		snprintf(query, sizeof(query), "after=%.20s&limit=%.10s", after ? after : "0",
			 limit ? limit : "100");
		req.query = query;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer,
				  sizeof(peer));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer,
				  sizeof(peer));
		req.peer = peer;
	}
	req.body = cn->body;
	req.body_len = cn->too_big ? (size_t)CCT_KBS_MAX_BODY + 1 : cn->len;
	if (cn->bad_framing) {
		refusal(&resp, 400, "SerdeError", cn->bad_framing, NULL);
	} else if (!*url) {
		refusal(&resp, 400, "InvalidRequestPath",
			"request path with an encoded NUL (%00), or empty", NULL);
	} else if (!rate_ok(peer)) {
		refusal(&resp, 429, "TooManyRequests", "request rate limit of this client exceeded",
			NULL);
	} else if (cn->too_big && cn->limit < CCT_KBS_MAX_BODY) {
		refusal(&resp, 413, "SerdeError",
			"request without credentials: body above the --unauth-body-limit",
			&g_body_refused);
	} else if (g_metrics_token && (!strcmp(url, "/metrics") || !strcmp(url, "/kbs/v0/metrics")) &&
		   (!req.authorization || strncasecmp(req.authorization, "Bearer ", 7) ||
		    strlen(req.authorization + 7) != strlen(g_metrics_token) ||
		    !cct_ct_eq(req.authorization + 7, g_metrics_token, strlen(g_metrics_token)))) {
		refusal(&resp, 401, "TokenNotFound",
			"/metrics needs Authorization: Bearer <metrics token>", &g_metrics_denied);
	} else if (g_serve && serve_collateral(c, url, method, cn, &ret)) {
		return ret;
	} else {
		cct_kbs_handle(g_srv, &req, &resp);
	}
	if (resp.status == 429 || resp.status == 503) {
		struct MHD_Response *mr;
		char *b = resp.body ? resp.body : strdup(""), ra[24];

		mr = b ? MHD_create_response_from_buffer_with_free_callback(resp.body_len, b, free)
		       : NULL;
		resp.body = NULL;
		if (!mr) {
			free(b);
			return MHD_NO;
		}
		MHD_add_response_header(mr, "Content-Type", "application/json");
		snprintf(ra, sizeof(ra), "%d", resp.retry_after > 0 ? resp.retry_after
				  : resp.status == 429 ? 1 : 5);
		MHD_add_response_header(mr, "Retry-After", ra);
		ret = MHD_queue_response(c, (unsigned)resp.status, mr);
		MHD_destroy_response(mr);
		return ret;
	}
	ret = send_resp(c, &resp);
	cct_kbs_response_clear(&resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!cn)
		return;
	if (cn->body) {
		cct_wipe(cn->body, cn->len);
		free(cn->body);
	}
	free(cn);
	*con_cls = NULL;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, int *loopback)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	long port;
	char *end;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = 0;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -1;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		*len = sizeof(*a);
	}
	return 0;
}

static char *read_text(const char *path, cct_err *err)
{
	uint8_t *b = NULL;
	size_t n = 0;

	if (cct_file_read(&b, &n, path, 1u << 20, err) != CCT_OK)
		return NULL;
	return (char *)b;
}

/* the ranges of the numeric options (0: the default, or "off" where the manual says so) */
#define TTL_MAX 315360000L  /* ten years, in seconds */
#define COUNT_MAX 100000000L
#define SECONDS_MAX 86400L

/* The numeric options, one table for the command line and the config file: the name (long
 * option and config key), getopt's value (0: config file only), the field, its range, and
 * whether 0 means "off" (kept as -1, which the defaults below leave alone). Each is a whole
 * number in its range: atoi took "abc" as 0, which several read as "default" and --rate-limit
 * as "off". */
typedef struct num_opt {
	const char *name;
	int val;
	size_t field;
	long min, max;
	int zero_is_off;
} num_opt;

#define NUM(name, val, field, min, max, off) { name, val, offsetof(opts, field), min, max, off }
static const num_opt num_opts[] = {
	NUM("session-ttl", 't', session_ttl, 0, TTL_MAX, 0),
	NUM("cert-ttl", 'e', cert_ttl, 0, TTL_MAX, 0),
	NUM("threads", 'n', threads, 0, MAX_THREADS, 0), /* 0: one per CPU (default_threads) */
	NUM("token-ttl", 'Y', token_ttl, 0, TTL_MAX, 0),
	NUM("max-connections", 1004, max_conns, 0, COUNT_MAX, 0),
	NUM("max-connections-per-ip", 1005, max_conns_per_ip, 0, COUNT_MAX, 0),
	NUM("conn-timeout", 1006, conn_timeout, 0, SECONDS_MAX, 0),
	NUM("rate-limit", 1007, rate, 0, COUNT_MAX, 1),
	NUM("rate-burst", 1008, burst, 0, COUNT_MAX, 0),
	NUM("unauth-body-limit", 1009, unauth_body, 0, COUNT_MAX, 0),
	NUM("max-sessions", 1010, max_sessions, 0, COUNT_MAX, 0),
	NUM("prune-interval", 1011, prune_interval, 0, SECONDS_MAX, 0),
	NUM("audit-retention-days", 1012, audit_retention_days, 0, 36500, 1),
	NUM("unauth-audit-per-min", 1013, unauth_audit, 0, COUNT_MAX, 0),
	NUM("collateral-wait", 1014, collateral_wait, 0, 3600, 0),
	NUM("collateral-serve", 0, collateral_serve, 0, 1, 0), /* on the command line a flag */
	NUM("collateral-reload", 1017, collateral_reload, 0, SECONDS_MAX, 0),
	NUM("store-connections", 1018, store_conns, 1, CCT_STORE_CONNECTIONS_MAX, 0),
	NUM("connection-memory", 1019, conn_memory, MIN_CONN_MEMORY, MAX_CONN_MEMORY, 0),
};
#undef NUM

/* The numeric option of getopt value val (non-zero), or of config key name; NULL if none. */
static const num_opt *num_opt_of(int val, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++)
		if (val ? num_opts[i].val == val : !strcmp(num_opts[i].name, name))
			return &num_opts[i];
	return NULL;
}

/* v into o's field for n: 0, or -1 after saying why. From the config file, a field the command
 * line set already stays (flags win), but the value is checked all the same. */
static int num_opt_set(opts *o, const num_opt *n, const char *v, int from_config)
{
	int *f = (int *)(void *)((char *)o + n->field);
	long x;

	if (cct_parse_long(&x, v, n->min, n->max) != CCT_OK) {
		fprintf(stderr, "cctrustd: %s%s: '%s' is not a whole number in %ld..%ld\n",
			from_config ? "config " : "--", n->name, v, n->min, n->max);
		return -1;
	}
	if (!from_config || !*f)
		*f = x == 0 && n->zero_is_off ? -1 : (int)x;
	return 0;
}

/* Config file: "key = value" lines, keys are the long option names; flags win. */
static int load_config(opts *o, const char *path, char **store_lines)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0, lineno = 0;

	if (!f) {
		logf_("error", "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *v, *e;
		const num_opt *num;

		lineno++;
		/* a line longer than the buffer, or more settings than the table holds, would be
		 * cut or dropped without a word (a security option among them): refused */
		if (!strchr(line, '\n') && !feof(f)) {
			fclose(f);
			logf_("error", "config %s: line %d is longer than %zu characters", path,
			      lineno, sizeof(line) - 2);
			return -1;
		}
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '#' || *k == '\n' || !*k)
			continue;
		if (n == CONFIG_MAX_LINES) {
			fclose(f);
			logf_("error", "config %s: more than %d settings (line %d)", path,
			      CONFIG_MAX_LINES, lineno);
			return -1;
		}
		v = strchr(k, '=');
		if (!v) {
			fclose(f);
			logf_("error", "config %s: line without '=': %.60s", path, k);
			return -1;
		}
		*v++ = 0;
		for (e = v + strlen(v); e > v && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\r'); e--)
			;
		*e = 0;
		while (*v == ' ')
			v++;
		for (e = k + strlen(k); e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = 0;
		store_lines[n] = strdup(v);
		if (!store_lines[n])
			break;
		v = store_lines[n++];
#define CFG(name, field) else if (!strcmp(k, name)) { if (!o->field) o->field = v; }
		if (0) {
		}
		CFG("store", store) CFG("listen", listen) CFG("tls-cert", tls_cert)
		CFG("tls-key", tls_key) CFG("admin-pubkey", admin_pubkey)
		else if (!strcmp(k, "trust-sim")) {
			if (!o->trust_sim) {
				o->trust_sim = v;
				o->cfg_trust_sim = 1;
			}
		}
		CFG("policy", policy) CFG("master-key", master_key)
		CFG("ca-cert", ca_cert) CFG("ca-key", ca_key)
		CFG("collateral", collateral) CFG("certs", certs) CFG("token-key", token_key)
		CFG("pg-url-file", pg_url_file) CFG("metrics-token", metrics_token)
		CFG("token-cert", token_cert) CFG("admin-audience", admin_audience)
		CFG("generations", generations)
		else if (!strcmp(k, "admin-max-token-lifetime")) {
			long lt;

			if (cct_parse_long(&lt, v, 1, TTL_MAX) != CCT_OK) {
				fprintf(stderr, "cctrustd: config admin-max-token-lifetime: '%s' is not a "
						"whole number in 1..%ld\n", v, TTL_MAX);
				goto bad;
			}
			if (!o->admin_max_lifetime)
				o->admin_max_lifetime = lt;
		}
		else if (!strcmp(k, "admin-require-jti")) o->admin_require_jti |= !strcmp(v, "true");
		else if ((num = num_opt_of(0, k)) != NULL) {
			if (num_opt_set(o, num, v, 1))
				goto bad;
		}
		else if (!strcmp(k, "pg-insecure")) {
			o->cfg_pg_insecure = !strcmp(v, "true");
			o->pg_insecure |= o->cfg_pg_insecure;
		}
		else if (!strcmp(k, "offline")) o->offline |= !strcmp(v, "true");
		else if (!strcmp(k, "insecure-http")) {
			o->cfg_insecure_http = !strcmp(v, "true");
			o->insecure_http |= o->cfg_insecure_http;
		}
		else {
			fclose(f);
			logf_("error", "config %s: unknown key %.60s", path, k);
			return -1;
		}
#undef CFG
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	logf_("error", "config %s: a number out of its range (above)", path);
	return -1;
}

/* A key or database file must not be readable or writable by group or others. */
static int private_file_ok(const char *path, const char *what, cct_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return CCT_OK; /* created 0600 (umask 077) */
	if (st.st_mode & 077)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "%s %s is accessible to group/others (mode %03o): chmod 600 it",
				   what, path, (unsigned)(st.st_mode & 0777));
	return CCT_OK;
}

/* --trust-sim DIR: the verifiers read the simulated roots from DIR on every verification
 * (src/composite, src/tpm), so they are checked here, at start-up, instead of on the first
 * attest: DIR is what 'cctrust sim init DIR' made (the SNP, TDX and GPU roots the verifiers,
 * the vTPM ones included, read there), and they are not open to every user (a world-writable
 * DIR, subdirectory or root file is refused). Loading the roots once would make later
 * changes to DIR irrelevant; until then DIR must stay as it was (docs/kbs.md). */
static int sim_dir_ok(const char *dir)
{
	static const struct {
		const char *rel;
		int is_dir;
	} need[] = {
		{ "", 1 },
		{ "sim.json", 0 },
		{ "snp", 1 },
		{ "snp/ark.pem", 0 },
		{ "snp/ask.pem", 0 },
		{ "snp/crl.pem", 0 },
		{ "tdx", 1 },
		{ "tdx/root_ca.pem", 0 },
		{ "tdx/collateral.json", 0 },
		{ "gpu", 1 },
		{ "gpu/device-root.pem", 0 },
		{ "gpu/rim-root.pem", 0 },
		{ "gpu/rims", 1 },
		{ "gpu/ocsp", 1 },
	};
	char p[4096];
	const char *why;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (snprintf(p, sizeof(p), "%s%s%s", dir, *need[i].rel ? "/" : "", need[i].rel) >=
		    (int)sizeof(p)) {
			logf_("error", "--trust-sim %.200s: path too long", dir);
			return -1;
		}
		if (stat(p, &st) != 0)
			why = strerror(errno);
		else if (need[i].is_dir && !S_ISDIR(st.st_mode))
			why = "not a directory";
		else if (!need[i].is_dir && !S_ISREG(st.st_mode))
			why = "not a regular file";
		else if (access(p, need[i].is_dir ? R_OK | X_OK : R_OK) != 0)
			why = strerror(errno);
		else
			why = NULL;
		if (why) {
			logf_("error", "--trust-sim %.150s: %.250s: %s (expected the directory that "
				       "'cctrust sim init DIR' made, with its simulated roots)", dir, p,
			      why);
			return -1;
		}
		if (st.st_mode & S_IWOTH) {
			logf_("error", "--trust-sim %.150s: %.250s is writable by others (mode %03o): "
				       "the simulated roots are read from it on every verification; "
				       "chmod o-w it", dir, p, (unsigned)(st.st_mode & 0777));
			return -1;
		}
	}
	return 0;
}

/* Master key: --master-key FILE, else $CCTRUSTD_MASTER_KEY, else (SQLite only) PATH.key
 * created 0600 next to the database on first start. */
static int master_key(uint8_t key[32], const opts *o, cct_err *err)
{
	char p[4096];
	struct stat st;

	if (o->master_key) {
		if (private_file_ok(o->master_key, "master key", err) != CCT_OK)
			return CCT_EINVAL;
		return cct_store_master_key_load(key, o->master_key, NULL, err);
	}
	if (getenv("CCTRUSTD_MASTER_KEY"))
		return cct_store_master_key_load(key, NULL, "CCTRUSTD_MASTER_KEY", err);
	if (strncmp(o->store, "sqlite:", 7) || !strcmp(o->store + 7, ":memory:")) {
		if (!strncmp(o->store, "sqlite:", 7)) {
			FILE *r = fopen("/dev/urandom", "rb");
			int ok = r && fread(key, 1, 32, r) == 32;

			if (r)
				fclose(r);
			return ok ? CCT_OK : cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "no urandom");
		}
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				   "a shared store needs --master-key FILE or CCTRUSTD_MASTER_KEY");
	}
	snprintf(p, sizeof(p), "%s.key", o->store + 7);
	if (stat(p, &st) != 0) {
		FILE *r = fopen("/dev/urandom", "rb");
		uint8_t k[32];
		int ok = r && fread(k, 1, 32, r) == 32;
		int rc;

		if (r)
			fclose(r);
		if (!ok)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "no urandom");
		rc = cct_file_write(p, k, 32, 1, err);
		cct_wipe(k, sizeof(k));
		if (rc != CCT_OK)
			return rc;
		logf_("warning", "created master key %s (keep it apart from the database in "
				 "production: --master-key)", p);
	}
	if (private_file_ok(p, "master key", err) != CCT_OK)
		return CCT_EINVAL;
	return cct_store_master_key_load(key, p, NULL, err);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "store", 1, 0, 's' }, { "listen", 1, 0, 'l' }, { "tls-cert", 1, 0, 'c' },
		{ "tls-key", 1, 0, 'k' }, { "insecure-http", 0, 0, 'I' },
		{ "admin-pubkey", 1, 0, 'a' }, { "trust-sim", 1, 0, 'T' }, { "policy", 1, 0, 'p' },
		{ "master-key", 1, 0, 'm' },
		{ "session-ttl", 1, 0, 't' }, { "cert-ttl", 1, 0, 'e' }, { "ca-cert", 1, 0, 'C' },
		{ "ca-key", 1, 0, 'K' }, { "threads", 1, 0, 'n' }, { "port-file", 1, 0, 'P' },
		{ "config", 1, 0, 'f' }, { "collateral", 1, 0, 'D' }, { "offline", 0, 0, 'O' },
		{ "certs", 1, 0, 'X' }, { "token-key", 1, 0, 'y' }, { "token-ttl", 1, 0, 'Y' },
		{ "pg-url-file", 1, 0, 1001 }, { "pg-insecure", 0, 0, 1002 },
		{ "metrics-token", 1, 0, 1003 }, { "max-connections", 1, 0, 1004 },
		{ "max-connections-per-ip", 1, 0, 1005 }, { "conn-timeout", 1, 0, 1006 },
		{ "rate-limit", 1, 0, 1007 }, { "rate-burst", 1, 0, 1008 },
		{ "unauth-body-limit", 1, 0, 1009 }, { "max-sessions", 1, 0, 1010 },
		{ "prune-interval", 1, 0, 1011 }, { "audit-retention-days", 1, 0, 1012 },
		{ "unauth-audit-per-min", 1, 0, 1013 }, { "collateral-wait", 1, 0, 1014 },
		{ "collateral-serve", 0, 0, 1016 }, { "collateral-reload", 1, 0, 1017 },
		{ "token-cert", 1, 0, 'Z' }, { "admin-max-token-lifetime", 1, 0, 'L' },
		{ "admin-audience", 1, 0, 'U' }, { "admin-require-jti", 0, 0, 'J' },
		{ "store-connections", 1, 0, 1018 }, { "connection-memory", 1, 0, 1019 },
		{ "generations", 1, 0, 1020 },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	opts o;
	char *cfg_lines[CONFIG_MAX_LINES] = { 0 };
	int ch, rc = 2, loopback = 0, i, sig;
	const num_opt *num;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	cct_err err;
	uint8_t key[32];
	cct_store *store = NULL;
	cct_kbs_verifier *ver = NULL;
	cct_kbs_config cfg;
	char *admin_pem = NULL, *policy = NULL, *tls_cert = NULL, *tls_key = NULL;
	char *ca_cert = NULL, *ca_key = NULL, *token_cert = NULL;
	struct MHD_Daemon *d = NULL;
	unsigned int flags;
	char *pg_url = NULL;
	time_t last_warn, next_prune, next_poll;
	sigset_t set;

	memset(&o, 0, sizeof(o));
	memset(&cfg, 0, sizeof(cfg));
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o.store = optarg; break;
		case 'l': o.listen = optarg; break;
		case 'c': o.tls_cert = optarg; break;
		case 'k': o.tls_key = optarg; break;
		case 'I': o.insecure_http = 1; break;
		case 'a': o.admin_pubkey = optarg; break;
		case 'T': o.trust_sim = optarg; break;
		case 'p': o.policy = optarg; break;
		case 'm': o.master_key = optarg; break;
		case 1020: o.generations = optarg; break;
		case 'C': o.ca_cert = optarg; break;
		case 'K': o.ca_key = optarg; break;
		case 'P': o.port_file = optarg; break;
		case 'f': o.config = optarg; break;
		case 'D': o.collateral = optarg; break;
		case 'O': o.offline = 1; break;
		case 'X': o.certs = optarg; break;
		case 'y': o.token_key = optarg; break;
		case 1001: o.pg_url_file = optarg; break;
		case 1002: o.pg_insecure = 1; break;
		case 1003: o.metrics_token = optarg; break;
		case 1016: o.collateral_serve = 1; break;
		case 'Z': o.token_cert = optarg; break;
		case 'L': {
			char *e = NULL;

			o.admin_max_lifetime = strtoll(optarg, &e, 10);
			if (!e || *e || o.admin_max_lifetime <= 0) {
				fprintf(stderr, "cctrustd: --admin-max-token-lifetime: seconds > 0\n");
				return 2;
			}
			break;
		}
		case 'U': o.admin_audience = optarg; break;
		case 'J': o.admin_require_jti = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			if (!(num = num_opt_of(ch, NULL))) {
				usage(stderr);
				return 2;
			}
			if (num_opt_set(&o, num, optarg, 0))
				return 2;
			break;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.config && load_config(&o, o.config, cfg_lines) != 0)
		goto out;
	/* num_opts bounds it already; 0 (or absent) is one per CPU, below */
	if (o.threads < 0 || o.threads > MAX_THREADS) {
		fprintf(stderr, "cctrustd: --threads %d: expected 0..%d (0 or absent: one per CPU, at "
				"least %d)\n", o.threads, MAX_THREADS, MIN_DEFAULT_THREADS);
		goto out;
	}
	if (o.store_conns < 0 || o.store_conns > CCT_STORE_CONNECTIONS_MAX) {
		fprintf(stderr, "cctrustd: --store-connections %d: expected 1..%d (absent: one per "
				"worker thread, %d..%d)\n", o.store_conns < 0 ? 0 : o.store_conns,
			CCT_STORE_CONNECTIONS_MAX, MIN_DEFAULT_STORE_CONNS, MAX_DEFAULT_STORE_CONNS);
		goto out;
	}
	if (!o.threads)
		o.threads = default_threads();
	if (!o.store_conns)
		o.store_conns = o.threads < MIN_DEFAULT_STORE_CONNS   ? MIN_DEFAULT_STORE_CONNS
				: o.threads > MAX_DEFAULT_STORE_CONNS ? MAX_DEFAULT_STORE_CONNS
								      : o.threads;
	if (!o.store || !o.listen || !o.admin_pubkey) {
		usage(stderr);
		goto out;
	}
	/* every file this process creates (database, WAL, keys) is 0600 */
	umask(077);
#define DEF(f, v) if (o.f == 0) o.f = (v); else if (o.f < 0) o.f = 0;
	DEF(max_conns, DEF_MAX_CONNS) DEF(max_conns_per_ip, DEF_MAX_CONNS_PER_IP)
	DEF(conn_timeout, DEF_CONN_TIMEOUT_S) DEF(rate, DEF_RATE) DEF(burst, DEF_BURST)
	DEF(unauth_body, DEF_UNAUTH_BODY) DEF(max_sessions, DEF_MAX_SESSIONS)
	DEF(prune_interval, DEF_PRUNE_S) DEF(audit_retention_days, DEF_AUDIT_RETENTION_DAYS)
	DEF(unauth_audit, CCT_KBS_UNAUTH_AUDIT_DEFAULT) DEF(collateral_wait, 5)
	DEF(conn_memory, DEF_CONN_MEMORY)
#undef DEF
	if (o.burst < o.rate)
		o.burst = o.rate;
	if (o.unauth_body > (int)CCT_KBS_MAX_BODY)
		o.unauth_body = CCT_KBS_MAX_BODY;
	/* PostgreSQL: the URL (with its password) from a file or the environment, not argv */
	if (o.pg_url_file && strcmp(o.store, "postgres") && strcmp(o.store, "postgresql")) {
		logf_("error", "--pg-url-file %s (command line or config file) is read only with "
			       "--store postgres, and the store is %s: give one or the other",
		      o.pg_url_file, !strncmp(o.store, "sqlite:", 7) ? o.store : "a postgres:// URL");
		goto out;
	}
	if (!strcmp(o.store, "postgres") || !strcmp(o.store, "postgresql")) {
		const char *ev = getenv("CCTRUSTD_PG_URL");

		if (o.pg_url_file) {
			if (private_file_ok(o.pg_url_file, "PostgreSQL URL file", &err) != CCT_OK ||
			    !(pg_url = read_text(o.pg_url_file, &err))) {
				logf_("error", "%s", err.msg);
				goto out;
			}
			pg_url[strcspn(pg_url, "\r\n")] = 0;
		} else if (ev && *ev) {
			pg_url = strdup(ev);
		}
		if (!pg_url) {
			logf_("error", "--store postgres needs --pg-url-file FILE or CCTRUSTD_PG_URL");
			goto out;
		}
		o.store = pg_url;
	} else if (!strncmp(o.store, "postgres", 8) && cct_store_postgres_has_password(o.store)) {
		logf_("warning", "the PostgreSQL password is on the command line (visible in ps): use "
				 "--store postgres with --pg-url-file or CCTRUSTD_PG_URL");
	}
	if (!strncmp(o.store, "postgres", 8) && !o.pg_insecure &&
	    !strstr(o.store, "sslmode=verify-full") &&
	    !(getenv("PGSSLMODE") && !strcmp(getenv("PGSSLMODE"), "verify-full"))) {
		logf_("error", "PostgreSQL must be reached with sslmode=verify-full (add it to the URL "
			       "with sslrootcert=...), or give --pg-insecure for a local test database");
		goto out;
	}
	if (!strncmp(o.store, "sqlite:", 7) && strcmp(o.store + 7, ":memory:") &&
	    private_file_ok(o.store + 7, "database", &err) != CCT_OK) {
		logf_("error", "%s", err.msg);
		goto out;
	}
	if (o.metrics_token) {
		if (private_file_ok(o.metrics_token, "metrics token", &err) != CCT_OK ||
		    !(g_metrics_token = read_text(o.metrics_token, &err))) {
			logf_("error", "%s", err.msg);
			goto out;
		}
		g_metrics_token[strcspn(g_metrics_token, "\r\n")] = 0;
		if (strlen(g_metrics_token) < 16) {
			logf_("error", "--metrics-token: the token must have at least 16 characters");
			goto out;
		}
	}
	if (!!o.tls_cert != !!o.tls_key || !!o.ca_cert != !!o.ca_key) {
		logf_("error", "--tls-cert/--tls-key and --ca-cert/--ca-key go in pairs");
		goto out;
	}
	if (parse_listen(o.listen, &ss, &sslen, &loopback) != 0) {
		logf_("error", "--listen must be IPv4:PORT or [IPv6]:PORT, got %s", o.listen);
		goto out;
	}
	if (!o.tls_cert && !loopback && !o.insecure_http) {
		logf_("error", "refusing plain HTTP on non-loopback %s: give --tls-cert/--tls-key "
			       "(or --insecure-http for development)", o.listen);
		goto out;
	}
	if (o.trust_sim && sim_dir_ok(o.trust_sim) != 0)
		goto out;
	g_loopback = loopback;
	g_insecure_http = !o.tls_cert && !loopback && o.insecure_http;
	g_o = o;
	warn_insecure("start-up");
	if (o.tls_cert && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		logf_("error", "this libmicrohttpd has no TLS support");
		goto out;
	}
	if (cct_store_postgres_register() == 0 && strncmp(o.store, "sqlite:", 7))
		logf_("warning", "this cctrustd has no PostgreSQL support (built without libpq)");
	if (master_key(key, &o, &err) != CCT_OK) {
		logf_("error", "master key: %s", err.msg);
		goto out;
	}
	{
		cct_store_open_opts so = { .connections = (unsigned)o.store_conns,
					   .generations = o.generations };

		rc = cct_store_open_ex(&store, o.store, key, &so, &err);
		if (rc == CCT_OK)
			logf_("info", "sealed row generations: %s%s", o.generations ? o.generations
					: "in memory only",
			      o.generations ? "" : " (a roll-back is refused until a restart; "
						   "--generations FILE keeps them)");
	}
	cct_wipe(key, sizeof(key));
	if (rc != CCT_OK) {
		logf_("error", "store %s: %s", strncmp(o.store, "sqlite:", 7) ? "(postgres)" : o.store,
		      err.msg);
		rc = 2;
		goto out;
	}
	rc = 2;
	if (!(admin_pem = read_text(o.admin_pubkey, &err)) ||
	    (o.policy && !(policy = read_text(o.policy, &err))) ||
	    (o.tls_cert && (!(tls_cert = read_text(o.tls_cert, &err)) ||
			    !(tls_key = read_text(o.tls_key, &err)))) ||
	    (o.token_cert && !(token_cert = read_text(o.token_cert, &err))) ||
	    (o.ca_cert && (!(ca_cert = read_text(o.ca_cert, &err)) ||
			   !(ca_key = read_text(o.ca_key, &err))))) {
		logf_("error", "%s", err.msg);
		goto out;
	}
	{
		cctrustd_verifier_opts vo;
		const char *key_src = "";

		int is_bundle = o.collateral && cct_coll_is_bundle(o.collateral);

		if ((o.collateral_serve || o.collateral_reload > 0) && !is_bundle) {
			logf_("error", "%s needs --collateral BUNDLE (a directory with manifest.json "
				       "or a .tar: docs/collateral.md)",
			      o.collateral_serve ? "--collateral-serve" : "--collateral-reload");
			goto out;
		}
		if (is_bundle) {
			if (cct_coll_live_open(&g_live, o.collateral, &err) != CCT_OK) {
				logf_("error", "attestation service: collateral bundle %s: %s",
				      o.collateral, err.msg);
				goto out;
			}
			log_bundle("loaded", "start-up", NULL);
		}
		if (o.collateral_serve) {
			g_serve = 1;
			logf_("info", "serving the collateral bundle %s at the vendors' URL layouts "
				      "(KDS, PCS/PCCS, RIM service, POST /ocsp)", o.collateral);
		}
		memset(&vo, 0, sizeof(vo));
		vo.trust_sim_dir = o.trust_sim;
		vo.policy_text = policy;
		vo.collateral_dir = o.collateral;
		vo.collateral_live = g_live;
		vo.offline = o.offline;
		vo.certs_path = o.certs;
		vo.token_key_path = o.token_key;
		vo.token_ttl_s = o.token_ttl;
		vo.token_cert_pem = token_cert;
		if (cctrustd_composite_verifier_new(&ver, &vo, store, &key_src, &err) != CCT_OK) {
			logf_("error", "attestation service: %s%s%s", o.policy ? o.policy : "",
			      o.policy ? ": " : "", err.msg);
			goto out;
		}
		logf_("info", "attestation service: composite verifier (policy %s, EAR key from %s%s%s)",
		      o.policy ? o.policy : "built-in default", key_src,
		      o.collateral ? ", collateral " : "", o.collateral ? o.collateral : "");
	}
	cfg.store = store;
	cfg.verifier = ver;
	cfg.admin_pubkey_pem = admin_pem;
	cfg.attestation_policy = policy;
	cfg.session_ttl_s = o.session_ttl;
	cfg.cert_ttl_s = o.cert_ttl;
	cfg.ca_cert_pem = ca_cert;
	cfg.ca_key_pem = ca_key;
	cfg.secure_cookie = o.tls_cert != NULL;
	cfg.log = log_json;
	cfg.unauth_audit_per_min = o.unauth_audit;
	cct_fetcher_enable(o.collateral_wait);
	cfg.metrics_extra = metrics_extra;
	cfg.admin_max_token_lifetime_s = o.admin_max_lifetime;
	cfg.admin_audience = o.admin_audience;
	cfg.admin_require_jti = o.admin_require_jti;
	if (cct_kbs_server_new(&g_srv, &cfg, &err) != CCT_OK) {
		logf_("error", "%s", err.msg);
		goto out;
	}
	/* signals are taken synchronously by the main thread */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* MHD_USE_TURBO: read, write and accept before asking epoll whether the socket is ready
	 * (non-blocking sockets; a miss costs one EAGAIN): under bench/kbs.sh's guest flows 2%
	 * less broker CPU per flow (bench/kbs_ab.sh, 2 x 16 paired rounds) */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL | MHD_USE_TURBO;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls_cert)
		flags |= MHD_USE_TLS;
	/* TLS 1.2+ with AEAD ciphers and forward secrecy only (GnuTLS priority string) */
	d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)o.max_conns,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o.max_conns_per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o.conn_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o.conn_memory,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_UNESCAPE_CALLBACK, cct_httpd_unescape_without_nul, NULL,
		tls_cert ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END,
		"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:"
		"+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA",
		MHD_OPTION_HTTPS_MEM_CERT, tls_cert, MHD_OPTION_HTTPS_MEM_KEY, tls_key, MHD_OPTION_END);
	if (!d) {
		logf_("error", "cannot listen on %s: %s", o.listen, strerror(errno));
		goto out;
	}
	{
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		unsigned port = di ? di->port : 0;

		logf_("info", "cctrustd %s listening on %s (port %u, %s, store %s)", cct_version(),
		      o.listen, port, tls_cert ? "TLS" : "plain HTTP", strncmp(o.store, "sqlite:", 7) ? "postgres" : "sqlite");
		if (o.port_file) {
			char pbuf[16];

			snprintf(pbuf, sizeof(pbuf), "%u\n", port);
			/* a script waits for this file: without it, stop rather than serve unseen */
			if (cct_file_write(o.port_file, pbuf, strlen(pbuf), 0, &err) != CCT_OK) {
				logf_("error", "--port-file: %s; stopping", err.msg);
				goto out;
			}
		}
	}
	/* the pruner: expired sessions, the session cap, audit retention; hourly warnings;
	 * collateral bundle reloads (SIGHUP, --collateral-reload polling) */
	last_warn = time(NULL);
	next_prune = 0;
	next_poll = time(NULL) + o.collateral_reload;
	for (;;) {
		struct timespec to = { 1, 0 };
		time_t tnow = time(NULL), wait;

		if (tnow >= next_prune) {
			void *impl;
			const cct_store_ops *ops = cct_store_backend(store, &impl);
			int64_t left = -1, now = (int64_t)tnow;

			if (ops->session_prune(impl, now, o.max_sessions, &left, &err) != CCT_OK)
				logf_("warning", "session pruner: %s", err.msg);
			pthread_mutex_lock(&g_lim_lock);
			g_sessions = left;
			pthread_mutex_unlock(&g_lim_lock);
			if (o.audit_retention_days > 0 &&
			    ops->audit_prune(impl, now - (int64_t)o.audit_retention_days * 86400,
					     &err) != CCT_OK)
				logf_("warning", "audit retention: %s", err.msg);
			next_prune = time(NULL) + (o.prune_interval > 0 ? o.prune_interval : 1);
		}
		if (time(NULL) - last_warn >= WARN_INTERVAL_S) {
			warn_insecure("hourly");
			last_warn = time(NULL);
		}
		if (g_live && o.collateral_reload > 0 && time(NULL) >= next_poll) {
			if (cct_coll_live_changed(g_live))
				reload_bundle("the bundle path changed (--collateral-reload)");
			next_poll = time(NULL) + o.collateral_reload;
		}
		tnow = time(NULL);
		wait = next_prune - tnow;
		if (g_live && o.collateral_reload > 0 && next_poll - tnow < wait)
			wait = next_poll - tnow;
		to.tv_sec = wait > 0 ? wait : 0;
		sig = sigtimedwait(&set, NULL, &to);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig == SIGHUP) {
			if (g_live)
				reload_bundle("SIGHUP");
			else
				logf_("info", "SIGHUP: no --collateral BUNDLE to reload; nothing "
					      "else is reloaded");
		}
	}
	logf_("info", "cctrustd stopping");
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	cct_kbs_server_free(g_srv);
	cct_kbs_verifier_free(ver);
	cct_coll_live_free(g_live); /* after the verifier, which borrowed it */
	cct_store_free(store);
	free(admin_pem);
	free(policy);
	free(tls_cert);
	if (tls_key) {
		cct_wipe(tls_key, strlen(tls_key));
		free(tls_key);
	}
	free(ca_cert);
	free(token_cert);
	if (ca_key) {
		cct_wipe(ca_key, strlen(ca_key));
		free(ca_key);
	}
	for (i = 0; i < CONFIG_MAX_LINES; i++)
		free(cfg_lines[i]);
	if (pg_url) {
		cct_wipe(pg_url, strlen(pg_url));
		free(pg_url);
	}
	free(g_metrics_token);
	return rc;
}
