/* cctrust-collateral-serve: a collateral bundle behind the vendors' own URL layouts (AMD KDS,
 * Intel PCS/PCCS, NVIDIA RIM service, OCSP), optionally a validating caching proxy in front of
 * an upstream. Its own program so that libmicrohttpd is loaded only for `collateral serve`. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cctrust/collateral.h"
#include "cctrust/core.h"
#include "collateral/fetch.h"
#include "../httpd/framing.h"

#define MAX_OCSP_REQUEST 65536
#define FAIL_HOLD_S 5 /* a failed upstream fetch is not repeated for its waiters */
/* an item whose notBefore / OCSP thisUpdate is further ahead than this is not served yet (the
 * OCSP verifiers' clock skew): it was stored and served while every client refused it */
#define NOT_BEFORE_SKEW_S 300
/* connections: in all, and from one client address (as cctrustd's default --max-conns-per-ip):
 * one client holding every connection with unfinished requests (a byte now and then, within
 * the idle timeout) kept everyone else out */
#define MAX_CONNS 256u
#define MAX_CONNS_PER_IP 64u

static const char usage[] =
	"usage: cctrust collateral serve BUNDLE --listen ADDR:PORT [--port-file F]\n"
	"                 [--upstream URL] [--upstream-kds URL] [--upstream-pcs URL]\n"
	"                 [--upstream-rim URL] [--upstream-ocsp URL] [--kds-interval SECONDS]\n"
	"                 [--at RFC3339 (validation time of fetched items; default now)]\n"
	"Serves KDS /vcek/v1/.., /vlek/v1/..; PCS/PCCS /sgx|tdx/certification/v4/.. with the\n"
	"issuer-chain headers; RIM /v1/rim/ID; OCSP POST; /metrics. GET and HEAD (POST: OCSP);\n"
	"ambiguous framing (CL+TE, ...) 400; at most 64 connections per client address. Port 0\n"
	"picks a free port (written to F, which must lie outside the bundle). With --upstream (a\n"
	"directory BUNDLE; a .tar is read-only and refused, exit 2): a caching proxy (a service\n"
	"without an upstream: the bundle only), one upstream request per missing item (single\n"
	"flight, not retried), items stored only after validation, OCSP answers only for the\n"
	"certificate asked and kept until their nextUpdate (a day without one), KDS requests\n"
	"paced (default 10 s).\n";

static struct {
	cct_coll_bundle *b;
	pthread_rwlock_t lock;      /* the bundle: readers serve, one writer stores */
	pthread_mutex_t fetch_mu;   /* single flight: one upstream fetch at a time */
	int proxy;
	cct_coll_fetch_opts fo;
	const char *ocsp_upstream;
	const char *upstream;
	unsigned long hits, misses, upstream_errors;
	time_t started;
	/* the last failed fetch: waiters of the same flight share its outcome */
	cct_coll_kind fail_kind;
	char fail_key[CCT_COLLATERAL_MAX_KEY];
	time_t fail_at;
} S;

typedef struct {
	uint8_t *body;
	size_t len;
	int too_big;
	const char *bad_framing; /* why the body's framing is ambiguous (request smuggling) */
} conn;

static const char *arg_get(void *ctx, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_GET_ARGUMENT_KIND,
					   name);
}

static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const void *p,
				  size_t n, const char *ctype, const char *hname, const char *hval)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(n, (void *)p, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, "Content-Type", ctype);
	if (hname && hval)
		MHD_add_response_header(r, hname, hval);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *t)
{
	return send_bytes(c, status, t, strlen(t), "text/plain", NULL, NULL);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* Serve an item from the bundle: 1 served, 0 absent */
static int try_serve(struct MHD_Connection *c, cct_coll_kind kind, const char *key,
		     const conn *cn, enum MHD_Result *ret, int count)
{
	const cct_coll_item *it;
	uint8_t *body = NULL;
	size_t n = 0;
	const char *hn = NULL, *ct = NULL;
	char *hv = NULL;
	cct_err e;
	int rc = -1, fresh = 1;
	time_t now = S.fo.at ? S.fo.at : time(NULL);

	pthread_rwlock_rdlock(&S.lock);
	it = cct_coll_bundle_find(S.b, kind, key);
	if (it && S.proxy && ((it->next_update && now > it->next_update) ||
			      (it->not_after && now > it->not_after) ||
			      (it->kind == CCT_COLL_NVIDIA_OCSP && !it->next_update &&
			       now > it->not_before + CCT_COLL_OCSP_MAX_AGE_S) ||
			      (it->not_before && now + NOT_BEFORE_SKEW_S < it->not_before)))
		fresh = 0; /* the proxy refreshes what is due (OCSP: after nextUpdate, or a day
			    * after thisUpdate without one, when the verifiers refuse it) and
			    * what is not valid yet (an OCSP thisUpdate ahead of the clock) */
	if (it && fresh)
		rc = cct_coll_render(S.b, it, &body, &n, &hn, &hv, &ct, &e);
	pthread_rwlock_unlock(&S.lock);
	if (!it || !fresh)
		return 0;
	if (rc != CCT_OK) {
		/* the operator's log names why (an altered or replaced file); the client gets
		 * what cctrustd answers, not the bundle's layout */
		fprintf(stderr, "cctrust-collateral-serve: %s %s: %s%s\n", cct_coll_kind_name(kind),
			key, e.msg, S.proxy ? " (fetched again)" : "");
		if (S.proxy) /* a damaged cache entry is a miss: a validated copy replaces it */
			return 0;
		*ret = send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "collateral item unreadable\n");
		return 1;
	}
	/* OCSP answers are kept by serial: one stored for a certificate of another issuer with
	 * the same serial does not answer this request (a miss: 404, or fetched by the proxy) */
	if (kind == CCT_COLL_NVIDIA_OCSP &&
	    cct_coll_ocsp_response_answers(cn->body, cn->len, body, n, &e) != CCT_OK) {
		free(body);
		free(hv);
		return 0;
	}
	if (count)
		__atomic_add_fetch(&S.hits, 1, __ATOMIC_RELAXED);
	*ret = send_bytes(c, MHD_HTTP_OK, body, n, ct, hn, hv);
	free(body);
	free(hv);
	return 1;
}

/* Fetch one item from upstream into a scratch bundle (validated there), then store it. */
static int proxy_fetch(cct_coll_kind kind, const char *key, const uint8_t *ocsp_der,
		       size_t ocsp_n, cct_err *err)
{
	char tmpl[] = "/tmp/cctrust-serve-XXXXXX";
	cct_coll_bundle *scratch = NULL;
	const cct_coll_item *it;
	uint8_t *body = NULL, *chain = NULL;
	size_t n = 0, cn = 0;
	int rc;

	if (!mkdtemp(tmpl))
		return cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "scratch directory");
	rc = cct_coll_bundle_open(&scratch, tmpl, 1, err);
	if (rc == CCT_OK && kind != CCT_COLL_TDX_ROOT_CA_CRL && kind >= CCT_COLL_TDX_PCK_CRL &&
	    kind <= CCT_COLL_TDX_QE_IDENTITY) {
		/* TDX items are checked against the Root CA CRL the bundle already holds */
		pthread_rwlock_rdlock(&S.lock);
		it = cct_coll_bundle_find(S.b, CCT_COLL_TDX_ROOT_CA_CRL, "root");
		if (it && cct_coll_bundle_read(S.b, it, &body, &n, NULL, NULL, err) == CCT_OK)
			cct_coll_bundle_put(scratch, it, body, n, NULL, 0, err);
		pthread_rwlock_unlock(&S.lock);
		free(body);
		body = NULL;
	}
	if (rc == CCT_OK) {
		if (kind == CCT_COLL_NVIDIA_OCSP) {
			cct_fetch_req req = { .url = S.ocsp_upstream,
					      .content_type = "application/ocsp-request",
					      .body = ocsp_der, .body_len = ocsp_n,
					      .max_body = 65536 };
			cct_fetch_opts fo = { .quiet = 1, .max_retries = -1 };
			uint8_t *resp = NULL;
			size_t rn = 0;

			rc = cct_fetch(&resp, &rn, &req, &fo, err);
			/* an answer about another certificate (or several) would be stored and
			 * served under this serial until the nextUpdate the upstream chose */
			if (rc == CCT_OK)
				rc = cct_coll_ocsp_response_answers(ocsp_der, ocsp_n, resp, rn, err);
			if (rc == CCT_OK)
				rc = cct_coll_store_ocsp(scratch, key, resp, rn, S.ocsp_upstream, err);
			free(resp);
		} else {
			rc = cct_coll_fetch_item(scratch, kind, key, &S.fo, err);
		}
	}
	if (rc == CCT_OK && !cct_coll_bundle_find(scratch, kind, key))
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0, "not stored");
	if (rc == CCT_OK) {
		/* everything the scratch bundle validated (the item, a Root CA CRL fetched for it) */
		const cct_coll_manifest *m = cct_coll_bundle_manifest(scratch);
		size_t i;

		for (i = 0; rc == CCT_OK && i < m->count; i++) {
			it = &m->items[i];
			rc = cct_coll_bundle_read(scratch, it, &body, &n, &chain, &cn, err);
			if (rc == CCT_OK) {
				pthread_rwlock_wrlock(&S.lock);
				rc = cct_coll_bundle_put(S.b, it, body, n, chain, chain ? cn : 0, err);
				pthread_rwlock_unlock(&S.lock);
			}
			free(body);
			free(chain);
			body = chain = NULL;
		}
	}
	free(body);
	free(chain);
	cct_coll_bundle_free(scratch);
	nftw(tmpl, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}

/* The upstream given for a kind's service, NULL when none: a miss of a service without one
 * is 404 as without a proxy (cct_coll_fetch_item would use the vendor's default service or
 * CCTRUST_*_URL: --upstream-pcs alone sent KDS and RIM misses, with the guests' chip IDs, to
 * AMD and NVIDIA) */
static const char *upstream_for(cct_coll_kind kind)
{
	switch (kind) {
	case CCT_COLL_SNP_VCEK:
	case CCT_COLL_SNP_VLEK_CHAIN:
	case CCT_COLL_SNP_ASK_ARK:
	case CCT_COLL_SNP_CRL: return S.fo.kds_url;
	case CCT_COLL_TDX_PCK_CRL:
	case CCT_COLL_TDX_ROOT_CA_CRL:
	case CCT_COLL_TDX_TCB_INFO:
	case CCT_COLL_TDX_QE_IDENTITY: return S.fo.pcs_url;
	case CCT_COLL_NVIDIA_RIM: return S.fo.rim_url;
	case CCT_COLL_NVIDIA_OCSP: return S.ocsp_upstream;
	default: return NULL;
	}
}

static enum MHD_Result metrics(struct MHD_Connection *c)
{
	const cct_coll_manifest *m;
	unsigned long hits_disk, upstream;
	time_t oldest = 0, now = time(NULL);
	size_t i, count;
	char buf[2048];

	cct_collateral_stats(&hits_disk, &upstream);
	pthread_rwlock_rdlock(&S.lock);
	m = cct_coll_bundle_manifest(S.b);
	count = m->count;
	for (i = 0; i < m->count; i++)
		if (m->items[i].fetched_at && (!oldest || m->items[i].fetched_at < oldest))
			oldest = m->items[i].fetched_at;
	pthread_rwlock_unlock(&S.lock);
	snprintf(buf, sizeof(buf),
		 "# HELP cctrust_collateral_hits_total Requests answered from the bundle.\n"
		 "# TYPE cctrust_collateral_hits_total counter\n"
		 "cctrust_collateral_hits_total %lu\n"
		 "# HELP cctrust_collateral_misses_total Requests for items the bundle lacked.\n"
		 "# TYPE cctrust_collateral_misses_total counter\n"
		 "cctrust_collateral_misses_total %lu\n"
		 "# HELP cctrust_collateral_upstream_requests_total Requests sent upstream.\n"
		 "# TYPE cctrust_collateral_upstream_requests_total counter\n"
		 "cctrust_collateral_upstream_requests_total %lu\n"
		 "# HELP cctrust_collateral_upstream_errors_total Upstream fetches that failed or "
		 "did not validate.\n"
		 "# TYPE cctrust_collateral_upstream_errors_total counter\n"
		 "cctrust_collateral_upstream_errors_total %lu\n"
		 "# HELP cctrust_collateral_items Items in the bundle.\n"
		 "# TYPE cctrust_collateral_items gauge\n"
		 "cctrust_collateral_items %zu\n"
		 "# HELP cctrust_collateral_oldest_item_age_seconds Age of the oldest fetched item.\n"
		 "# TYPE cctrust_collateral_oldest_item_age_seconds gauge\n"
		 "cctrust_collateral_oldest_item_age_seconds %ld\n",
		 __atomic_load_n(&S.hits, __ATOMIC_RELAXED),
		 __atomic_load_n(&S.misses, __ATOMIC_RELAXED), upstream,
		 __atomic_load_n(&S.upstream_errors, __ATOMIC_RELAXED), count,
		 oldest ? (long)(now - oldest) : 0L);
	return send_bytes(c, MHD_HTTP_OK, buf, strlen(buf), "text/plain; version=0.0.4", NULL,
			  NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	conn *cn = *con_cls;
	cct_coll_kind kind;
	char key[CCT_COLLATERAL_MAX_KEY];
	enum MHD_Result ret = MHD_NO;
	cct_err e;
	int is_post = !strcmp(method, "POST");
	/* HEAD is GET without the body (MHD sends the headers only): the same status, type,
	 * length and issuer-chain header, so a probe sees what a GET would get */
	int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");

	(void)cls;
	(void)version;
	if (!cn) {
		cn = calloc(1, sizeof(*cn));
		if (!cn)
			return MHD_NO;
		*con_cls = cn;
		/* answered before any body, as cctrustd does: two Content-Length headers, or one
		 * with a Transfer-Encoding (RFC 9112 6.3: MHD frames the body by the chunks, a
		 * proxy in front may frame it by the length, and the rest is a smuggled request),
		 * two Transfer-Encodings, one other than chunked (MHD waited for a body it cannot
		 * frame, to the timeout), or a declared length above the limit (read and dropped,
		 * for as long as the client kept sending) */
		cn->bad_framing = cct_httpd_framing_refusal(c);
		cn->too_big = !cn->bad_framing && cct_httpd_declared_above(c, MAX_OCSP_REQUEST);
		if (!cn->bad_framing && !cn->too_big)
			return MHD_YES;
	}
	if (cn->bad_framing) {
		char msg[128];

		snprintf(msg, sizeof(msg), "request framing refused: %s\n", cn->bad_framing);
		return send_text(c, MHD_HTTP_BAD_REQUEST, msg);
	}
	if (cn->too_big)
		return send_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body above 65536 bytes\n");
	if (*upload_size) {
		/* past the limit only a chunked body gets here: MHD cannot answer during an
		 * upload, and reading the rest only to drop it would let a client keep the
		 * server reading without bound, so the connection is closed */
		if (*upload_size > MAX_OCSP_REQUEST - cn->len)
			return MHD_NO;
		{
			uint8_t *nb = realloc(cn->body, cn->len + *upload_size);

			if (!nb)
				return MHD_NO;
			memcpy(nb + cn->len, upload, *upload_size);
			cn->body = nb;
			cn->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!*url)
		return send_text(c, MHD_HTTP_BAD_REQUEST,
				 "request path with an encoded NUL (%00), or empty\n");
	if (!is_get && !is_post) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			19, (void *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);

		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "Content-Type", "text/plain");
		MHD_add_response_header(r, "Allow", "GET, HEAD, POST");
		ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (is_get && !strcmp(url, "/metrics"))
		return metrics(c);
	if (is_post) {
		if (cct_coll_ocsp_request_key(cn->body, cn->len, key, sizeof(key)) != 0)
			return send_text(c, MHD_HTTP_BAD_REQUEST, "not a single-certificate OCSP "
								"request\n");
		kind = CCT_COLL_NVIDIA_OCSP;
	} else if (cct_coll_route(url, arg_get, c, &kind, key, sizeof(key)) != 0) {
		return send_text(c, MHD_HTTP_NOT_FOUND, "not a collateral URL\n");
	}
	if (try_serve(c, kind, key, cn, &ret, 1))
		return ret;
	__atomic_add_fetch(&S.misses, 1, __ATOMIC_RELAXED);
	if (!upstream_for(kind))
		return send_text(c, MHD_HTTP_NOT_FOUND, "not in the collateral bundle\n");
	/* single flight: whoever holds the lock fetches; the others then find it stored */
	pthread_mutex_lock(&S.fetch_mu);
	if (try_serve(c, kind, key, cn, &ret, 1)) {
		pthread_mutex_unlock(&S.fetch_mu);
		return ret;
	}
	if (S.fail_at && time(NULL) - S.fail_at < FAIL_HOLD_S && S.fail_kind == kind &&
	    !strcmp(S.fail_key, key)) {
		pthread_mutex_unlock(&S.fetch_mu);
		return send_text(c, MHD_HTTP_BAD_GATEWAY, "upstream failed or did not validate\n");
	}
	if (proxy_fetch(kind, key, cn->body, cn->len, &e) != CCT_OK) {
		S.fail_kind = kind;
		snprintf(S.fail_key, sizeof(S.fail_key), "%s", key);
		S.fail_at = time(NULL);
		pthread_mutex_unlock(&S.fetch_mu);
		__atomic_add_fetch(&S.upstream_errors, 1, __ATOMIC_RELAXED);
		fprintf(stderr, "cctrust-collateral-serve: %s %s: %s\n", cct_coll_kind_name(kind),
			key, e.msg);
		return send_text(c, MHD_HTTP_BAD_GATEWAY, "upstream failed or did not validate\n");
	}
	pthread_mutex_unlock(&S.fetch_mu);
	if (try_serve(c, kind, key, cn, &ret, 0))
		return ret;
	return send_text(c, MHD_HTTP_BAD_GATEWAY, "stored item is not current\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		free(cn->body);
		free(cn);
	}
	*con_cls = NULL;
}

/* 1 when the port file (or its F.tmp) is the bundle or lies inside a directory bundle */
static int port_file_in_bundle(const char *port_file, const char *bundle)
{
	char *dir = strdup(port_file), *rd = NULL, *rb = realpath(bundle, NULL), *slash;
	int in = 0;
	struct stat st;
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	if (cct_file_same(port_file, bundle) || cct_file_same(tmp, bundle))
		in = 1;
	else if (dir && rb && stat(rb, &st) == 0 && S_ISDIR(st.st_mode)) {
		slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir] = 0; /* "/x" -> "/" */
		rd = realpath(slash ? dir : ".", NULL);
		in = rd && (!strcmp(rd, rb) ||
			    (!strncmp(rd, rb, strlen(rb)) &&
			     (rd[strlen(rb)] == '/' || !strcmp(rb, "/"))));
	}
	free(dir);
	free(rd);
	free(rb);
	return in;
}

static int parse_listen(struct sockaddr_in *sa, const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	/* digits only: strtol alone took "" as port 0 (a random port) and " 5" as 5 */
	if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_PORTFILE, O_UP, O_UPKDS, O_UPPCS, O_UPRIM, O_UPOCSP, O_KDSINT,
	       O_AT };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "port-file", required_argument, NULL, O_PORTFILE },
		{ "upstream", required_argument, NULL, O_UP },
		{ "upstream-kds", required_argument, NULL, O_UPKDS },
		{ "upstream-pcs", required_argument, NULL, O_UPPCS },
		{ "upstream-rim", required_argument, NULL, O_UPRIM },
		{ "upstream-ocsp", required_argument, NULL, O_UPOCSP },
		{ "kds-interval", required_argument, NULL, O_KDSINT },
		{ "at", required_argument, NULL, O_AT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *port_file = NULL;
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	size_t items;
	char ocsp_url[1200];
	sigset_t set;
	int c, sig, at_given = 0, kds_interval_given = 0;
	double sec;
	char *end;
	cct_err err;

	memset(&S.fo, 0, sizeof(S.fo));
	S.fo.quiet = 1;
	/* one upstream request per miss: a 429 / 5xx was retried up to 4 times after its
	 * Retry-After (up to 2 min each) while the client waited and every other miss queued
	 * behind the single flight */
	S.fo.no_retry = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: listen = optarg; break;
		case O_PORTFILE: port_file = optarg; break;
		case O_UP: S.upstream = optarg; break;
		case O_UPKDS: S.fo.kds_url = optarg; break;
		case O_UPPCS: S.fo.pcs_url = optarg; break;
		case O_UPRIM: S.fo.rim_url = optarg; break;
		case O_UPOCSP: S.ocsp_upstream = optarg; break;
		case O_KDSINT:
			/* digits, then at most 3 decimals, as `collateral fetch` takes them: strtod
			 * alone also took "nan", "-0", "0x10" and blanks, and "0.0001" became 0 ms,
			 * which is the 10 s default */
			sec = strtod(optarg, &end);
			if (!isdigit((unsigned char)optarg[0]) || *end || !(sec >= 0 && sec <= 3600) ||
			    strspn(optarg, "0123456789.") != strlen(optarg) ||
			    (strchr(optarg, '.') &&
			     (strlen(strchr(optarg, '.') + 1) < 1 ||
			      strlen(strchr(optarg, '.') + 1) > 3))) {
				fprintf(stderr, "cctrust: --kds-interval: '%s' is not a number of "
						"seconds in 0..3600\n",
					optarg);
				return 2;
			}
			S.fo.kds_interval_ms = sec == 0 ? -1 : (long)(sec * 1000);
			kds_interval_given = 1;
			break;
		case O_AT:
			if (cct_time_parse(&S.fo.at, optarg, &err) != CCT_OK) {
				fprintf(stderr, "cctrust: --at: %s\n", err.msg);
				return 2;
			}
			if (S.fo.at <= 0) { /* 0 means "now" to the validators */
				fprintf(stderr, "cctrust: --at: expected a time after "
						"1970-01-01T00:00:00Z\n");
				return 2;
			}
			at_given = 1;
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (listen && parse_listen(&sa, listen) != 0) {
		fprintf(stderr, "cctrust: collateral serve: --listen '%s': expected IPv4:PORT "
				"(an IPv4 address, PORT 0-65535 in digits)\n",
			listen);
		return 2;
	}
	if (optind != argc - 1 || !listen) {
		fprintf(stderr, "cctrust: collateral serve: one BUNDLE and --listen IPv4:PORT\n");
		fputs(usage, stderr);
		return 2;
	}
	{
		/* "" (an unset variable) would make a proxy for URLs that cannot be fetched */
		const char *const urls[5] = { S.upstream, S.fo.kds_url, S.fo.pcs_url, S.fo.rim_url,
					      S.ocsp_upstream };
		static const char *const names[5] = { "--upstream", "--upstream-kds",
						      "--upstream-pcs", "--upstream-rim",
						      "--upstream-ocsp" };
		int k;

		for (k = 0; k < 5; k++)
			if (urls[k] && !urls[k][0]) {
				fprintf(stderr, "cctrust: collateral serve: %s: empty URL\n",
					names[k]);
				return 2;
			}
	}
	if (S.upstream) {
		if (!S.fo.kds_url)
			S.fo.kds_url = S.upstream;
		if (!S.fo.pcs_url)
			S.fo.pcs_url = S.upstream;
		if (!S.fo.rim_url)
			S.fo.rim_url = S.upstream;
		if (!S.ocsp_upstream) {
			snprintf(ocsp_url, sizeof(ocsp_url), "%s/ocsp", S.upstream);
			S.ocsp_upstream = ocsp_url;
		}
	}
	S.proxy = S.fo.kds_url || S.fo.pcs_url || S.fo.rim_url || S.ocsp_upstream;
	/* both only steer what the proxy fetches: without an upstream they would do nothing */
	if (at_given && !S.proxy) {
		fprintf(stderr, "cctrust: collateral serve: --at is the validation time of items "
				"fetched from an upstream; give --upstream (or --upstream-*), or drop "
				"--at (a bundle is served as it is)\n");
		return 2;
	}
	if (kds_interval_given && !S.fo.kds_url) {
		fprintf(stderr, "cctrust: collateral serve: --kds-interval paces requests to a KDS "
				"upstream; give --upstream or --upstream-kds, or drop it\n");
		return 2;
	}
	if (S.proxy) {
		/* the proxy stores what it fetches: a tar bundle cannot take it (every validated
		 * miss would be answered 502), so it is refused before the daemon starts */
		struct stat st;

		if (stat(argv[optind], &st) == 0 && !S_ISDIR(st.st_mode)) {
			fprintf(stderr,
				"cctrust: collateral serve: %s is a tar bundle, which is read-only; "
				"--upstream/--upstream-* need a directory bundle to store fetched "
				"items in (unpack it: mkdir DIR && tar -xf %s -C DIR), or serve the "
				"tar without an upstream\n",
				argv[optind], argv[optind]);
			return 2;
		}
	}
	if (port_file && port_file_in_bundle(port_file, argv[optind])) {
		/* the port file (and F.tmp) replaced the .tar or the manifest with a number */
		fprintf(stderr, "cctrust: collateral serve: --port-file %s (or %s.tmp, written "
				"first) is the bundle %s or inside it; expected a path outside the "
				"bundle\n",
			port_file, port_file, argv[optind]);
		return 2;
	}
	if (cct_coll_bundle_open(&S.b, argv[optind], S.proxy, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		return 2;
	}
	/* counted before the daemon starts: from then on a proxied fetch may add items under
	 * S.lock (ThreadSanitizer found the start-up line reading the manifest unlocked) */
	items = cct_coll_bundle_manifest(S.b)->count;
	pthread_rwlock_init(&S.lock, NULL);
	pthread_mutex_init(&S.fetch_mu, NULL);
	S.started = time(NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				     MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
			     (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, MAX_CONNS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, MAX_CONNS_PER_IP,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED,
			     on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK,
			     cct_httpd_unescape_without_nul, NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "cctrust: cannot listen on %s: %s\n", listen, strerror(errno));
		cct_coll_bundle_free(S.b);
		return 2;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (port_file) {
		char tmp[4200], pb[16];

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		snprintf(pb, sizeof(pb), "%u", di ? (unsigned)di->port : 0u);
		if (cct_file_write(tmp, pb, strlen(pb), 0, &err) != CCT_OK ||
		    rename(tmp, port_file) != 0) {
			fprintf(stderr, "cctrust: cannot write %s\n", port_file);
			MHD_stop_daemon(d);
			cct_coll_bundle_free(S.b);
			return 2;
		}
	}
	fprintf(stderr, "cctrust-collateral-serve: %s on %s port %u (%zu items)%s%s\n",
		argv[optind], listen, di ? (unsigned)di->port : 0u, items, S.proxy ? ", proxy for " : "",
		S.proxy ? (S.upstream ? S.upstream : "upstreams") : "");
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	cct_coll_bundle_free(S.b);
	return 0;
}
