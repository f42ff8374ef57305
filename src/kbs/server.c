#define _GNU_SOURCE
/* The key broker as a transport-free request handler: KBS protocol 0.4.0 (auth, attest,
 * resource), admin API (Ed25519 JWT), workload certificates, health, metrics, audit.
 *
 * Invariants:
 *  - a secret leaves only inside a JWE to a tee-pubkey taken from verified claims (a session the
 *    verifier attested, or a bearer token the verifier verified), after the resource policy
 *    allowed it and the release was written to the audit log;
 *  - a nonce is consumed (atomically, in the store) before its evidence is verified, so it can
 *    be used once even across replicas;
 *  - nothing admin runs without a valid admin JWT (admin.c: keys, lifetime, aud, jti, role);
 *  - secrets are wiped after use and never appear in logs, audit records or error messages. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cctrust/core.h"
#include "cctrust/kbs.h"
#include "cctrust/token.h"
#include "collateral/fetcher.h"
#include "token/jose.h"
#include "json/json.h"
#include "kbs/kbs_int.h"

#define RES_PREFIX "/kbs/v0/resource/"
#define CERT_RESOURCE "kbs-ca/cert/workload"
#define ATT_POLICY_ID_MAX 64
#define MAX_EXTRA_ATT_POLICIES 16
/* What the verifier is given when no attestation policy was set: the built-in checks under an
 * id that says so; a token appraised under it never releases a resource. */
#define BUILTIN_POLICY_ID "builtin-unconfigured"
static const char builtin_policy[] =
	"{\"version\":\"cctrust.policy/v1\",\"id\":\"" BUILTIN_POLICY_ID "\"}";

#define ROLE_AUDITOR CCT_KBS_ROLE_AUDITOR
#define ROLE_ADMIN CCT_KBS_ROLE_ADMIN

static const double lat_buckets[] = { 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.0125,
				       0.015, 0.0175, 0.02,   0.025,  0.05, 0.1,
				       0.25,  0.5,    1,     2.5,    5 };
#define NBUCKETS (sizeof(lat_buckets) / sizeof(lat_buckets[0]))

/* the guest endpoints whose handler CPU time /metrics reports (cctrustd_request_cpu_seconds) */
enum guest_ep { EP_NONE = -1, EP_AUTH, EP_ATTEST, EP_RESOURCE, EP_COUNT };
static const char *const ep_names[EP_COUNT] = { "auth", "attest", "resource" };

struct cct_kbs_server {
	cct_kbs_config cfg;
	cct_kbs_admin *admin;
	cct_kbs_ca *ca;
	char *att_policy; /* copy of cfg.attestation_policy */
	cct_kbs_claims_memo *memo; /* parsed claims, /attest -> resource requests */
	pthread_mutex_t mlock;
	int64_t ua_window;
	uint64_t ua_count, ua_suppressed;
	struct {
		uint64_t audit_suppressed;
		uint64_t status[6]; /* by class: 1xx..5xx, index 0 unused */
		uint64_t auth, attest_ok, attest_fail, releases, denials_policy, denials_auth,
			denials_missing, admin_ok, admin_denied, certs, integrity_failures,
			collateral_unavailable;
		uint64_t lat_count, lat_bucket[NBUCKETS];
		double lat_sum;
		uint64_t vcpu_count;
		double vcpu_sum;
		/* handler CPU time of the guest endpoints, by enum guest_ep */
		uint64_t ep_count[EP_COUNT];
		double ep_cpu[EP_COUNT];
	} m;
};

/* ---- responses ---- */

static void set_body(cct_kbs_response *r, int status, const char *ctype, char *body)
{
	cct_kbs_response_clear(r);
	r->status = status;
	r->content_type = ctype;
	r->body = body;
	r->body_len = body ? strlen(body) : 0;
}

static int json_reply(cct_kbs_response *r, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	set_body(r, status, "application/json", s);
	if (!s)
		r->status = 500;
	return r->status;
}

/* {"token":"<JWS>"}: a compact JWS is base64url and dots, which JSON carries unescaped, so
 * the body is written directly instead of copying the token into a json_t (a UTF-8 scan of
 * ~15-20 KB per GPU-bearing EAR) and dumping it again (an escape scan of the same bytes).
 * Anything else goes through jansson. */
static int token_reply(cct_kbs_response *r, const char *token)
{
	static const char pre[] = "{\"token\":\"", post[] = "\"}";
	size_t n = strlen(token);
	char *s;

	/* strspn scans with a byte table: a tenth of the per-character tests' time on 20 KB */
	if (strspn(token, CCT_B64URL_ALPHABET ".") != n)
		return json_reply(r, 200, json_pack("{s:s}", "token", token));
	s = malloc(sizeof(pre) - 1 + n + sizeof(post));
	if (!s)
		return json_reply(r, 500, NULL);
	memcpy(s, pre, sizeof(pre) - 1);
	memcpy(s + sizeof(pre) - 1, token, n);
	memcpy(s + sizeof(pre) - 1 + n, post, sizeof(post));
	set_body(r, 200, "application/json", s);
	return r->status;
}

/* RFC 7807 body with Trustee's error type names. */
static int problem(cct_kbs_response *r, int status, const char *type, const char *fmt, ...)
{
	char detail[400], t[160];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(t, sizeof(t), "%s%s", CCT_KBS_ERROR_TYPE_PREFIX, type);
	j = json_pack("{s:s,s:s}", "type", t, "detail", detail);
	r->set_cookie[0] = 0;
	return json_reply(r, status, j);
}

void cct_kbs_response_clear(cct_kbs_response *r)
{
	if (!r)
		return;
	if (r->body) {
		cct_wipe(r->body, r->body_len);
		free(r->body);
	}
	r->body = NULL;
	r->body_len = 0;
}

/* ---- time, log, audit, metrics ---- */

static int64_t now_of(const cct_kbs_server *s)
{
	return s->cfg.now ? s->cfg.now(s->cfg.now_ctx) : (int64_t)time(NULL);
}

/* clock id in seconds */
static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* this thread's CPU time: the verification's own cost, whatever else shares the core */
static double thread_cpu(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void log_line(cct_kbs_server *s, json_t *ev)
{
	char *line;

	if (!s->cfg.log)
		return;
	line = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	if (line)
		s->cfg.log(s->cfg.log_ctx, line);
	free(line);
}

/* Append an audit record; the record is also logged. CCT_OK only if it is durable. */
/* An audit record as JSON, its text in *txt (malloc'd; NULL when out of memory). */
static json_t *audit_record(const cct_kbs_request *req, const char *event, const char *outcome,
			    const char *resource, const char *who, const char *evidence_digest,
			    const char *rule, char **txt)
{
	json_t *rec = json_object();

	json_object_set_new(rec, "event", json_string(event));
	json_object_set_new(rec, "outcome", json_string(outcome));
	if (resource)
		json_object_set_new(rec, "resource", json_string(resource));
	if (who)
		json_object_set_new(rec, "who", json_string(who));
	if (req && req->peer)
		json_object_set_new(rec, "peer", json_string(req->peer));
	if (evidence_digest && *evidence_digest)
		json_object_set_new(rec, "evidence_sha256", json_string(evidence_digest));
	if (rule && *rule)
		json_object_set_new(rec, "rule", json_string(rule));
	*txt = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	return rec;
}

/* The record, stored: to the log too. */
static void audit_logged(cct_kbs_server *s, json_t *rec)
{
	json_object_set_new(rec, "audit", json_true());
	json_object_set_new(rec, "time", json_integer(now_of(s)));
	log_line(s, rec);
	json_decref(rec);
}

static int audit(cct_kbs_server *s, const cct_kbs_request *req, const char *event,
		 const char *outcome, const char *resource, const char *who,
		 const char *evidence_digest, const char *rule, cct_err *err)
{
	char *txt;
	json_t *rec = audit_record(req, event, outcome, resource, who, evidence_digest, rule, &txt);
	void *impl;
	const cct_store_ops *ops = cct_store_backend(s->cfg.store, &impl);
	int rc;

	rc = txt ? ops->audit_append(impl, now_of(s), txt, NULL, err)
		 : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	audit_logged(s, rec);
	free(txt);
	return rc;
}

/* Unauthenticated failures are audited at most cfg.unauth_audit_per_min a minute; the rest are
 * counted and written as one aggregate record when the next minute starts (a flood of
 * anonymous requests cannot grow the audit log without bound). */
static void audit_unauth_as(cct_kbs_server *s, const cct_kbs_request *req, const char *event,
			    const char *what, const char *who, const char *rule_text)
{
	int64_t now = now_of(s), window = now / 60;
	uint64_t flush = 0;
	int write;
	char rule[96];

	pthread_mutex_lock(&s->mlock);
	if (window != s->ua_window) {
		flush = s->ua_suppressed;
		s->ua_suppressed = 0;
		s->ua_count = 0;
		s->ua_window = window;
	}
	write = s->ua_count < (uint64_t)s->cfg.unauth_audit_per_min;
	if (write)
		s->ua_count++;
	else {
		s->ua_suppressed++;
		s->m.audit_suppressed++;
	}
	pthread_mutex_unlock(&s->mlock);
	if (flush) {
		snprintf(rule, sizeof(rule), "%llu unauthenticated failures not recorded one by one",
			 (unsigned long long)flush);
		audit(s, NULL, "unauthenticated", "aggregated", NULL, NULL, NULL, rule, NULL);
	}
	if (write)
		audit(s, req, event, "denied", what, who, NULL,
		      rule_text ? rule_text : "unauthenticated", NULL);
}

static void audit_unauth(cct_kbs_server *s, const cct_kbs_request *req, const char *event,
			 const char *what)
{
	audit_unauth_as(s, req, event, what, NULL, NULL);
}

#define COUNT(s, field)                          \
	do {                                     \
		pthread_mutex_lock(&(s)->mlock); \
		(s)->m.field++;                  \
		pthread_mutex_unlock(&(s)->mlock); \
	} while (0)

void cct_kbs_server_count_status(cct_kbs_server *s, int status)
{
	if (status < 100 || status > 599)
		return;
	COUNT(s, status[status / 100]);
}

static void observe_latency(cct_kbs_server *s, double secs)
{
	size_t i;

	pthread_mutex_lock(&s->mlock);
	s->m.lat_count++;
	s->m.lat_sum += secs;
	for (i = 0; i < NBUCKETS; i++)
		if (secs <= lat_buckets[i])
			s->m.lat_bucket[i]++;
	pthread_mutex_unlock(&s->mlock);
}

static void observe_verification_cpu(cct_kbs_server *s, double secs)
{
	pthread_mutex_lock(&s->mlock);
	s->m.vcpu_count++;
	s->m.vcpu_sum += secs;
	pthread_mutex_unlock(&s->mlock);
}

static void observe_endpoint_cpu(cct_kbs_server *s, enum guest_ep ep, double secs)
{
	pthread_mutex_lock(&s->mlock);
	s->m.ep_count[ep]++;
	s->m.ep_cpu[ep] += secs;
	pthread_mutex_unlock(&s->mlock);
}

static int metrics(cct_kbs_server *s, cct_kbs_response *r)
{
	char *buf = NULL, *extra = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return problem(r, 500, "HTTPFailed", "out of memory");
	pthread_mutex_lock(&s->mlock);
	fprintf(f, "# HELP cctrustd_responses_total HTTP responses by status class.\n"
		   "# TYPE cctrustd_responses_total counter\n");
	for (i = 1; i <= 5; i++)
		fprintf(f, "cctrustd_responses_total{class=\"%zuxx\"} %llu\n", i,
			(unsigned long long)s->m.status[i]);
	fprintf(f, "# TYPE cctrustd_auth_total counter\ncctrustd_auth_total %llu\n",
		(unsigned long long)s->m.auth);
	fprintf(f, "# HELP cctrustd_attestations_total Attest requests by verdict.\n"
		   "# TYPE cctrustd_attestations_total counter\n"
		   "cctrustd_attestations_total{verdict=\"affirming\"} %llu\n"
		   "cctrustd_attestations_total{verdict=\"rejected\"} %llu\n",
		(unsigned long long)s->m.attest_ok, (unsigned long long)s->m.attest_fail);
	fprintf(f, "# TYPE cctrustd_releases_total counter\ncctrustd_releases_total %llu\n",
		(unsigned long long)s->m.releases);
	fprintf(f, "# TYPE cctrustd_denials_total counter\n"
		   "cctrustd_denials_total{reason=\"policy\"} %llu\n"
		   "cctrustd_denials_total{reason=\"unauthenticated\"} %llu\n"
		   "cctrustd_denials_total{reason=\"not_found\"} %llu\n",
		(unsigned long long)s->m.denials_policy, (unsigned long long)s->m.denials_auth,
		(unsigned long long)s->m.denials_missing);
	fprintf(f, "# TYPE cctrustd_admin_requests_total counter\n"
		   "cctrustd_admin_requests_total{result=\"ok\"} %llu\n"
		   "cctrustd_admin_requests_total{result=\"denied\"} %llu\n",
		(unsigned long long)s->m.admin_ok, (unsigned long long)s->m.admin_denied);
	fprintf(f, "# HELP cctrustd_integrity_failures_total Rows refused by their integrity "
		   "check.\n# TYPE cctrustd_integrity_failures_total counter\n"
		   "cctrustd_integrity_failures_total %llu\n"
		   "# TYPE cctrustd_collateral_unavailable_total counter\n"
		   "cctrustd_collateral_unavailable_total %llu\n"
		   "# TYPE cctrustd_audit_suppressed_total counter\n"
		   "cctrustd_audit_suppressed_total %llu\n"
		   "# TYPE cctrustd_unauth_audit_per_minute gauge\n"
		   "cctrustd_unauth_audit_per_minute %d\n"
		   "# TYPE cctrustd_session_ttl_seconds gauge\ncctrustd_session_ttl_seconds %d\n",
		(unsigned long long)s->m.integrity_failures,
		(unsigned long long)s->m.collateral_unavailable,
		(unsigned long long)s->m.audit_suppressed, s->cfg.unauth_audit_per_min,
		s->cfg.session_ttl_s);
	fprintf(f, "# TYPE cctrustd_certificates_issued_total counter\n"
		   "cctrustd_certificates_issued_total %llu\n",
		(unsigned long long)s->m.certs);
	fprintf(f, "# HELP cctrustd_attest_seconds Attest request latency.\n"
		   "# TYPE cctrustd_attest_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++)
		fprintf(f, "cctrustd_attest_seconds_bucket{le=\"%g\"} %llu\n", lat_buckets[i],
			(unsigned long long)s->m.lat_bucket[i]);
	fprintf(f, "cctrustd_attest_seconds_bucket{le=\"+Inf\"} %llu\n"
		   "cctrustd_attest_seconds_sum %.6f\ncctrustd_attest_seconds_count %llu\n",
		(unsigned long long)s->m.lat_count, s->m.lat_sum,
		(unsigned long long)s->m.lat_count);
	fprintf(f, "# HELP cctrustd_verification_cpu_seconds CPU time of the attest requests' "
		   "verification (body parse, composite verification, token signing) on their "
		   "worker thread.\n"
		   "# TYPE cctrustd_verification_cpu_seconds summary\n"
		   "cctrustd_verification_cpu_seconds_sum %.6f\n"
		   "cctrustd_verification_cpu_seconds_count %llu\n",
		s->m.vcpu_sum, (unsigned long long)s->m.vcpu_count);
	fprintf(f, "# HELP cctrustd_request_cpu_seconds CPU time of the guest endpoints' handlers "
		   "on their worker thread (HTTP parsing and the socket excluded).\n"
		   "# TYPE cctrustd_request_cpu_seconds summary\n");
	for (i = 0; i < EP_COUNT; i++)
		fprintf(f,
			"cctrustd_request_cpu_seconds_sum{endpoint=\"%s\"} %.6f\n"
			"cctrustd_request_cpu_seconds_count{endpoint=\"%s\"} %llu\n",
			ep_names[i], s->m.ep_cpu[i], ep_names[i],
			(unsigned long long)s->m.ep_count[i]);
	pthread_mutex_unlock(&s->mlock);
	if (s->cfg.verifier->metrics && (extra = s->cfg.verifier->metrics(s->cfg.verifier->ctx)))
		fputs(extra, f);
	free(extra);
	extra = NULL;
	if (s->cfg.metrics_extra && (extra = s->cfg.metrics_extra(s->cfg.metrics_ctx)))
		fputs(extra, f);
	free(extra);
	fclose(f);
	set_body(r, 200, "text/plain; version=0.0.4", buf);
	return 200;
}

/* ---- sessions ---- */

static void session_id_of(char out[65], const char *cookie)
{
	cct_kbs__sha256_hex(out, cookie, strlen(cookie));
}

/* The shape of a session cookie (cct_store_challenge_seal): the prefix, then base64url. */
static int cookie_ok(const char *c)
{
	size_t p = strlen(CCT_STORE_CHALLENGE_PREFIX), n = c ? strlen(c) : 0;

	return n > p && n <= CCT_STORE_MAX_CHALLENGE && !strncmp(c, CCT_STORE_CHALLENGE_PREFIX, p) &&
	       strspn(c + p, CCT_B64URL_ALPHABET) == n - p;
}

static int handle_auth(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	cct_err err;
	json_t *body = cct_kbs__json_body(req->body, req->body_len, &err);
	const char *ver, *tee;
	uint8_t nonce[CCT_KBS_NONCE_SIZE];
	char cookie[CCT_STORE_MAX_CHALLENGE + 1], *n64 = NULL;
	cct_store_session ss;
	int64_t now = now_of(s);

	if (!body) /* Trustee's client re-handshakes on 401; its KBS answers 401 here */
		return problem(r, err.code == CCT_ETOOBIG ? 413 : 401, "SerdeError", "%s", err.msg);
	ver = json_string_value(json_object_get(body, "version"));
	tee = json_string_value(json_object_get(body, "tee"));
	if (!ver || strcmp(ver, CCT_KBS_PROTOCOL_VERSION)) {
		if (!ver && json_object_get(body, "version"))
			problem(r, 401, "AttestationError",
				"\"version\" must be a string: this server speaks exactly %s",
				CCT_KBS_PROTOCOL_VERSION);
		else
			problem(r, 401, "AttestationError",
				"KBS protocol version %.32s is not supported: this server speaks "
				"exactly %s", ver ? ver : "(missing)", CCT_KBS_PROTOCOL_VERSION);
		json_decref(body);
		return r->status;
	}
	if (!tee || !cct_kbs__tee_known(tee)) {
		if (tee)
			problem(r, 401, "AttestationError",
				"\"tee\" \"%.32s\" is not a TEE name of KBS protocol %s", tee,
				CCT_KBS_PROTOCOL_VERSION);
		else
			problem(r, 401, "AttestationError",
				"\"tee\" %s, a TEE name of KBS protocol %s",
				json_object_get(body, "tee") ? "must be a string"
							     : "missing: need one",
				CCT_KBS_PROTOCOL_VERSION);
		json_decref(body);
		return r->status;
	}
	memset(&ss, 0, sizeof(ss));
	snprintf(ss.tee, sizeof(ss.tee), "%s", tee);
	json_decref(body);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    !(n64 = cct_b64_encode(nonce, sizeof(nonce), 0)))
		return problem(r, 500, "HTTPFailed", "no randomness");
	snprintf(ss.nonce, sizeof(ss.nonce), "%s", n64);
	ss.created = now;
	ss.expires = now + s->cfg.session_ttl_s;
	/* the challenge travels sealed in the cookie: /auth writes nothing (an unauthenticated
	 * caller cannot fill the database; a database writer cannot mint a challenge) */
	if (cct_store_challenge_seal(s->cfg.store, &ss, cookie, &err) != CCT_OK) {
		free(n64);
		return problem(r, 500, "HTTPFailed", "session challenge: %s", err.msg);
	}
	COUNT(s, auth);
	json_reply(r, 200, json_pack("{s:s,s:s}", "nonce", n64, "extra-params", ""));
	snprintf(r->set_cookie, sizeof(r->set_cookie),
		 "kbs-session-id=%s; Max-Age=%d; HttpOnly; SameSite=Strict%s", cookie,
		 s->cfg.session_ttl_s, s->cfg.secure_cookie ? "; Secure" : "");
	cct_wipe(cookie, sizeof(cookie));
	free(n64);
	return r->status;
}


/* Same public key in both JWK texts. */
static int same_jwk(const char *a, const json_t *b)
{
	EVP_PKEY *ka = NULL, *kb = NULL;
	json_t *ja = json_loads(a, 0, NULL);
	int eq = ja && json_equal(ja, b);

	/* the verifier hands back the very JWK it bound: equal as JSON is the usual case; else
	 * the same key written differently */
	json_decref(ja);
	if (eq)
		return 1;
	if (cct_jose_jwk_text_to_pkey(&ka, a, NULL) != CCT_OK ||
	    cct_jose_jwk_to_pkey(&kb, b, NULL) != CCT_OK) {
		EVP_PKEY_free(ka);
		return 0;
	}
	eq = EVP_PKEY_eq(ka, kb) == 1;
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	return eq;
}

/* A sealed row (policy, reference value) as text, after its integrity check. NULL when absent
 * or refused; *refused (may be NULL) = 1 when the row exists but fails the check (audited:
 * such a row is never used). */
static char *sealed_text(cct_kbs_server *s, const cct_kbs_request *req, const char *kind,
			 const char *name, int *refused)
{
	uint8_t *v = NULL, *t;
	size_t n = 0;
	cct_err err;
	int rc = cct_store_sealed_get(s->cfg.store, kind, name, &v, &n, &err);

	if (refused)
		*refused = 0;
	if (rc == CCT_OK && (t = realloc(v, n + 1))) {
		t[n] = 0;
		return (char *)t;
	}
	if (rc == CCT_OK)
		free(v);
	else if (rc != CCT_EINVAL) {
		char what[CCT_STORE_MAX_NAME + 64];

		if (refused)
			*refused = 1;
		COUNT(s, integrity_failures);
		snprintf(what, sizeof(what), "%s/%.200s", kind, name);
		audit(s, req, "integrity", "refused", what, NULL, NULL, err.msg, NULL);
	}
	return NULL;
}

/* The attestation policy id a resource is judged under: its repository's ("repo" of
 * "repo/type/tag") when one is stored, else "default" (docs/kbs.md); digest: the SHA-256 hex
 * of the repository's row as read ("" for "default"). */
static void att_policy_for(cct_kbs_server *s, const cct_kbs_request *req, const char *res,
			   char id[CCT_STORE_MAX_NAME + 1], char digest[65], int *refused)
{
	char repo[CCT_STORE_MAX_NAME + 1], *t;
	const char *slash = strchr(res, '/');

	*refused = 0;
	digest[0] = 0;
	snprintf(repo, sizeof(repo), "%.*s", slash ? (int)(slash - res) : (int)strlen(res), res);
	/* not under the whole path: a policy_id cannot hold a '/' (cct_kbs__att_policy_id), so
	 * no row could answer it, and every release paid a store read for nothing. default_gpu
	 * amends the default and is no repository's policy (docs/security.md) */
	if (strlen(repo) <= ATT_POLICY_ID_MAX && strcmp(repo, "default_gpu") &&
	    (t = sealed_text(s, req, CCT_STORE_KIND_ATT_POLICY, repo, refused))) {
		cct_kbs__sha256_hex(digest, t, strlen(t));
		free(t);
		snprintf(id, CCT_STORE_MAX_NAME + 1, "%s", repo);
		return;
	}
	snprintf(id, CCT_STORE_MAX_NAME + 1, "default");
}

/* 1 if every submod of the claims says ear.status "affirming" (the Bearer path's check: a
 * token that does not affirm never releases anything). */
static int claims_affirming(const char *claims_json, char *why, size_t size)
{
	json_t *c = json_loads(claims_json, 0, NULL), *subs = json_object_get(c, "submods"), *sub;
	const char *k;
	int ok = json_is_object(subs) && json_object_size(subs) > 0;

	if (!ok)
		snprintf(why, size, "token has no submods");
	json_object_foreach(subs, k, sub) {
		const char *st = json_string_value(json_object_get(sub, "ear.status"));

		if (ok && (!st || strcmp(st, "affirming"))) {
			snprintf(why, size, "submods.%.40s ear.status is %.40s", k,
				 st ? st : "(absent)");
			ok = 0;
		}
	}
	json_decref(c);
	return ok;
}

/* The attestation policy id the EAR of these claims was appraised under (cpu0, else any). */
static int claims_builtin_policy(const char *claims_json)
{
	json_t *c = json_loads(claims_json, 0, NULL), *subs = json_object_get(c, "submods"), *sub;
	const char *k;
	int builtin = 0;

	json_object_foreach(subs, k, sub) {
		const char *id = json_string_value(json_object_get(sub, "ear.appraisal-policy-id"));

		if (!id || !strcmp(id, BUILTIN_POLICY_ID))
			builtin = 1;
	}
	json_decref(c);
	return builtin;
}

/* Fail closed: a release needs an attestation policy and a resource policy an admin set, the
 * session must have satisfied the attestation policy selected for this resource, and the
 * resource policy must allow it (simulated evidence only with "allow_simulated": true).
 * meta: the session's sealed record ({"passed":[ids]}), or NULL for a Bearer token.
 * CCT_OK, or err filled and *status set (403 / 500). */
static int release_gate(cct_kbs_server *s, const cct_kbs_request *req, const char *res,
			const char *claims, const char *meta, int *status, cct_err *err)
{
	char id[CCT_STORE_MAX_NAME + 1], *pol = NULL, *t, digest[65], def_digest[65] = "";
	int refused = 0, explicit_default, passed = 0, not_judged = 0, changed = 0, rc;
	json_t *doc;

	*status = 403;
	att_policy_for(s, req, res, id, digest, &refused);
	if (refused) {
		*status = 500;
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_POLICY, 0,
				   "an attestation policy row failed its integrity check (audited)");
	}
	/* the CPU default itself (or --policy): default_gpu alone only amends a policy not set */
	t = sealed_text(s, req, CCT_STORE_KIND_ATT_POLICY, "default", &refused);
	explicit_default = t != NULL || s->att_policy != NULL;
	/* the policy as the attest read it (cct_kbs__att_policy_effective's base_digest) */
	if (t || s->att_policy)
		cct_kbs__sha256_hex(def_digest, t ? t : s->att_policy,
				    strlen(t ? t : s->att_policy));
	free(t);
	if (!strcmp(id, "default"))
		memcpy(digest, def_digest, sizeof(def_digest));
	if (refused) {
		*status = 500;
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_POLICY, 0,
				   "the default attestation policy row failed its integrity check "
				   "(audited)");
	}
	if (!strcmp(id, "default") && !explicit_default)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "no attestation policy set: an admin must set one (POST "
				   "/kbs/v0/attestation-policy, policy_id \"default\" or the "
				   "resource's repository) before anything is released");
	if (meta) {
		json_t *m = json_loads(meta, 0, NULL);

		const char *was = json_string_value(
			json_object_get(json_object_get(m, "policy_digests"), id));

		passed = cct_json__has_string(json_object_get(m, "passed"), id);
		/* satisfied, but the policy was replaced since (tightened, say): that verdict is
		 * not this policy's */
		changed = passed && (!was || strcmp(was, digest));
		passed = passed && !changed;
		/* more custom policies were stored than the attest judges: this one may not
		 * have been judged at all */
		not_judged = !passed && strcmp(id, "default") &&
			     json_is_true(json_object_get(m, "over_limit")) &&
			     !cct_json__has_string(json_object_get(m, "judged"), id);
		json_decref(m);
	} else {
		/* a Bearer token carries only the policy it was issued under: the default one */
		passed = !strcmp(id, "default") && !claims_builtin_policy(claims);
	}
	if (not_judged) {
		*status = 500;
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0,
				   "attestation policy \"%.64s\" (selected for %.100s) was not "
				   "applied: more than %d attestation policies besides default and "
				   "default_gpu are stored, above the limit; nothing it guards is "
				   "released", id, res, MAX_EXTRA_ATT_POLICIES);
	}
	if (changed)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "attestation policy \"%.64s\" (selected for %.100s) was replaced "
				   "after this attestation satisfied it: attest again", id, res);
	if (!passed)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "the attestation did not satisfy attestation policy \"%.64s\" "
				   "(selected for %.100s; it may have been set after this attestation: "
				   "attest again)", id, res);
	pol = sealed_text(s, req, CCT_STORE_KIND_RES_POLICY, res, &refused);
	if (!pol && !refused)
		pol = sealed_text(s, req, CCT_STORE_KIND_RES_POLICY, "default", &refused);
	if (refused) {
		*status = 500;
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_POLICY, 0,
				   "a resource policy row failed its integrity check (audited)");
	}
	if (!pol)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "no resource policy set: an admin must set one (POST "
				   "/kbs/v0/resource-policy) before anything is released");
	doc = cct_kbs__claims_memo_get(s->memo, claims);
	if (!doc)
		doc = json_loads(claims, 0, NULL);
	rc = cct_kbs_policy_eval_claims(pol, doc, res, err);
	json_decref(doc);
	free(pol);
	return rc;
}

/* The verifier seam, handing over the body already parsed when the verifier takes it. */
static int verifier_attest(cct_kbs_server *s, const char *tee, const cct_kbs_request *req,
			   const json_t *body, const char *nonce, const char *pol, int64_t now,
			   char **token, char **claims, char **teepub, json_t **claims_doc,
			   cct_err *err)
{
	const cct_kbs_verifier *v = s->cfg.verifier;

	*claims_doc = NULL;
	if (v->attest_parsed && body)
		return v->attest_parsed(v->ctx, tee, (const char *)req->body, req->body_len, body,
					nonce, pol, now, token, claims, teepub, claims_doc, err);
	return v->attest(v->ctx, tee, (const char *)req->body, req->body_len, nonce, pol, now,
			 token, claims, teepub, err);
}

/* The other stored attestation policies (per resource or repository; at most
 * MAX_EXTRA_ATT_POLICIES besides default and default_gpu), each with the reference values it
 * names applied. */
typedef struct extra_pols {
	char *id[MAX_EXTRA_ATT_POLICIES], *text[MAX_EXTRA_ATT_POLICIES];
	char digest[MAX_EXTRA_ATT_POLICIES][65]; /* SHA-256 hex of the row as read */
	int ok[MAX_EXTRA_ATT_POLICIES]; /* 1 satisfied, 0 not, -1 not judged yet */
	size_t n;
	int over_limit; /* more were stored than are loaded: those are never satisfied */
} extra_pols;

static int is_default_att_policy(const char *id)
{
	return !strcmp(id, "default") || !strcmp(id, "default_gpu");
}

static void extra_pols_free(extra_pols *x)
{
	size_t j;

	for (j = 0; j < x->n; j++) {
		free(x->id[j]);
		free(x->text[j]);
	}
	x->n = 0;
}

static void extra_policies_load(cct_kbs_server *s, const cct_kbs_request *req, extra_pols *x)
{
	void *impl;
	const cct_store_ops *ops = cct_store_backend(s->cfg.store, &impl);
	char *txt = NULL;
	json_t *names, *nm;
	size_t i;

	x->n = 0;
	x->over_limit = 0;
	if (ops->obj_list(impl, CCT_STORE_KIND_ATT_POLICY, &txt, NULL) != CCT_OK)
		return;
	names = json_loads(txt, 0, NULL);
	free(txt);
	json_array_foreach(names, i, nm) {
		const char *id = json_string_value(nm);
		char *pol, *applied = NULL;
		cct_err ae;

		if (!id || is_default_att_policy(id))
			continue;
		/* the admin API refuses more; rows a database writer added fail closed */
		if (x->n >= MAX_EXTRA_ATT_POLICIES) {
			x->over_limit = 1;
			break;
		}
		if (!(pol = sealed_text(s, req, CCT_STORE_KIND_ATT_POLICY, id, NULL)))
			continue;
		cct_kbs__sha256_hex(x->digest[x->n], pol, strlen(pol));
		/* with the reference values it names (a tampered one: not satisfied) */
		if (cct_kbs__rvps_apply_store(&applied, pol, s->cfg.store, &ae) != CCT_OK) {
			free(pol);
			continue;
		}
		free(pol);
		if (!(x->id[x->n] = strdup(id))) {
			free(applied);
			continue;
		}
		x->text[x->n] = applied;
		x->ok[x->n] = -1;
		x->n++;
	}
	json_decref(names);
}

/* Append to passed the ids of the policies the attest body satisfies: as the verifier judged
 * them with the attest itself, or, where it could not (ok -1), by verifying again. */
static void extra_policies_judge(cct_kbs_server *s, const cct_kbs_request *req,
				 const json_t *body, const cct_store_session *ss, extra_pols *x,
				 json_t *passed, json_t *digests, int64_t now)
{
	size_t j;

	for (j = 0; j < x->n; j++) {
		char *t = NULL, *c = NULL, *k = NULL;
		json_t *doc = NULL;
		cct_err e;

		if (x->ok[j] < 0) {
			x->ok[j] = verifier_attest(s, ss->tee, req, body, ss->nonce, x->text[j], now, &t,
						   &c, &k, &doc, &e) == CCT_OK;
			json_decref(doc);
			free(t);
			free(c);
			free(k);
		}
		if (x->ok[j] == 1) {
			json_array_append_new(passed, json_string(x->id[j]));
			json_object_set_new(digests, x->id[j], json_string(x->digest[j]));
		}
	}
}

static int handle_attest(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	cct_err err;
	json_t *body = NULL, *rd, *pub;
	const char *nonce;
	cct_store_session ss, challenge;
	char *token = NULL, *claims = NULL, *teepub = NULL, *pol = NULL, digest[65], id[65];
	char pol_digest[65] = "";
	char who[32], *meta = NULL;
	int64_t now = now_of(s);
	double t0 = mono(), vcpu = 0;
	int rc, status, explicit_pol, spend_nonce = 0;
	long retry_after = 0;
	json_t *passed, *digests, *meta_j, *rec, *claims_doc = NULL;
	char *rec_txt = NULL;
	/* why an attest was refused before any verification (a replayed nonce, another
	 * session's, a forged or expired cookie, a body without the fields): a denial all the
	 * same, counted and audited on the way out (under the unauthenticated per-minute cap) */
	const char *refusal = NULL;
	extra_pols extra;

	memset(&ss, 0, sizeof(ss));
	extra.n = 0;
	who[0] = 0;
	if (!cookie_ok(req->cookie)) {
		refusal = "no valid session cookie";
		status = problem(r, 401, "AttestationError",
				 "no valid kbs-session-id cookie: call /kbs/v0/auth first");
		goto out;
	}
	session_id_of(id, req->cookie);
	snprintf(who, sizeof(who), "session:%.16s", id);
	/* the challenge (tee, nonce, lifetime) from the sealed cookie; the row, if there is one,
	 * only for its state: attested (sealed, integrity-checked) or nonce spent */
	if (cct_store_challenge_open(s->cfg.store, req->cookie, &challenge, &err) != CCT_OK) {
		refusal = "session cookie refused (not sealed by this broker)";
		status = problem(r, 401, "AttestationError",
				 "session refused: %s: call /kbs/v0/auth again", err.msg);
		goto out;
	}
	/* an expired challenge needs no database read */
	if (challenge.expires <= now) {
		refusal = "session expired";
		status = problem(r, 401, "AttestationError",
				 "session expired: call /kbs/v0/auth again");
		goto out;
	}
	if ((rc = cct_store_session_open(s->cfg.store, id, &ss, NULL, &err)) == CCT_ESIGNATURE) {
		COUNT(s, integrity_failures);
		audit(s, req, "integrity", "refused", "sessions", who, NULL, err.msg, NULL);
		status = problem(r, 401, "AttestationError", "session refused: %s", err.msg);
		goto out;
	}
	if (rc != CCT_OK && rc != CCT_EINVAL) {
		status = problem(r, 500, "AttestationError", "session store: %s", err.msg);
		goto out;
	}
	if (rc == CCT_OK && ss.token && *ss.token && ss.expires > now) {
		/* as Trustee: an attested session gets its token again */
		status = token_reply(r, ss.token);
		goto out;
	}
	if (rc == CCT_OK && (ss.nonce_used || (ss.token && *ss.token))) {
		refusal = "nonce already used";
		status = problem(r, 401, "AttestationError",
				 "nonce already used: call /kbs/v0/auth again");
		goto out;
	}
	if (rc == CCT_EINVAL) {
		/* no row: fresh, unless the session cap evicted it (maybe spent) before expiry */
		int64_t horizon = 0;

		if (cct_store_session_horizon(s->cfg.store, &horizon, &err) != CCT_OK) {
			status = problem(r, 500, "AttestationError", "session store: %s", err.msg);
			goto out;
		}
		if (challenge.created <= horizon) {
			refusal = "session evicted by the session cap";
			status = problem(r, 401, "AttestationError",
					 "session evicted by the session cap (--max-sessions): call "
					 "/kbs/v0/auth again");
			goto out;
		}
	}
	cct_store_session_clear(&ss);
	ss = challenge;
	snprintf(ss.id, sizeof(ss.id), "%s", id);
	vcpu = thread_cpu();
	body = cct_kbs__json_body(req->body, req->body_len, &err);
	vcpu = thread_cpu() - vcpu;
	if (!body) {
		refusal = err.code == CCT_ETOOBIG ? NULL : "attest body is not a JSON object";
		status = problem(r, err.code == CCT_ETOOBIG ? 413 : 401, "SerdeError", "%s", err.msg);
		goto out;
	}
	rd = json_object_get(body, "runtime-data");
	nonce = json_string_value(json_object_get(rd, "nonce"));
	pub = json_object_get(rd, "tee-pubkey");
	if (!nonce || !json_is_object(pub) || !json_is_object(json_object_get(body, "tee-evidence"))) {
		refusal = "attest body without runtime-data.nonce, tee-pubkey or tee-evidence";
		status = problem(r, 401, "AttestationError",
				 "attest body needs runtime-data.nonce, runtime-data.tee-pubkey and "
				 "tee-evidence");
		goto out;
	}
	/* a tee-pubkey with its "d" would put the key that opens every JWE of the session into
	 * the EAR and the session row: refused before the nonce is spent */
	if (cct_token_jwk_private_member(pub)) {
		refusal = "runtime-data.tee-pubkey carries private key members";
		status = problem(r, 401, "AttestationError",
				 "runtime-data.tee-pubkey carries private key members (\"d\", ...): "
				 "send the public key only");
		goto out;
	}
	if (strlen(nonce) != strlen(ss.nonce) || !cct_ct_eq(nonce, ss.nonce, strlen(ss.nonce))) {
		refusal = "runtime-data.nonce is not this session's challenge";
		status = problem(r, 401, "AttestationError",
				 "runtime-data.nonce is not this session's challenge");
		goto out;
	}
	/* single use: a success spends the nonce in the same commit that records the session
	 * as attested (a concurrent attempt with the same nonce then finds it spent and is
	 * refused); every other outcome from here on spends it on the way out */
	spend_nonce = 1;
	cct_kbs__sha256_hex(digest, req->body, req->body_len);
	/* the stored default (+ default_gpu, reference values applied; sealed rows, integrity
	 * checked), else --policy, else the built-in checks under an id that never releases */
	rc = cct_kbs__att_policy_effective(&pol, s->cfg.store, s->att_policy, pol_digest, &err);
	if (rc == CCT_ESIGNATURE) {
		COUNT(s, integrity_failures);
		audit(s, req, "integrity", "refused", "attestation-policy/default", who, NULL,
		      err.msg, NULL);
		status = problem(r, 500, "AttestationError", "%s (audited)", err.msg);
		goto out;
	}
	explicit_pol = pol != NULL;
	/* the other stored attestation policies this evidence may satisfy (a release checks that
	 * the one selected for its resource is among them): judged with the same verification
	 * where the verifier can, so an attest verifies once however many are stored */
	if (rc == CCT_OK)
		extra_policies_load(s, req, &extra);
	cct_fetcher_request_begin();
	if (rc == CCT_OK) {
		const cct_kbs_verifier *v = s->cfg.verifier;
		double v0 = thread_cpu();

		if (extra.n && v->attest_parsed_also)
			rc = v->attest_parsed_also(v->ctx, ss.tee, (const char *)req->body,
						   req->body_len, body, ss.nonce,
						   pol ? pol : builtin_policy,
						   (const char *const *)extra.text, extra.n,
						   extra.ok, now, &token, &claims, &teepub,
						   &claims_doc, &err);
		else
			rc = verifier_attest(s, ss.tee, req, body, ss.nonce,
					     pol ? pol : builtin_policy, now, &token, &claims,
					     &teepub, &claims_doc, &err);
		observe_verification_cpu(s, vcpu + thread_cpu() - v0);
	}
	if (cct_fetcher_request_end(&retry_after) && rc != CCT_OK) {
		/* collateral could not be had within the wait budget: not the guest's fault, and
		 * not a verdict; the nonce is spent, so the guest starts again at /auth */
		COUNT(s, collateral_unavailable);
		status = problem(r, 503, "AttestationError", "collateral unavailable: %s", err.msg);
		r->retry_after = (int)retry_after;
		goto out;
	}
	if (rc == CCT_OK && (!token || !claims || !teepub || !same_jwk(teepub, pub))) {
		rc = cct_err_set(&err, CCT_EBINDING, CCT_STAGE_BINDING, 0,
				 "the verified tee-pubkey differs from runtime-data.tee-pubkey");
	}
	if (rc != CCT_OK) {
		char rule[CCT_ERR_MSG_SIZE + 40];

		COUNT(s, attest_fail);
		snprintf(rule, sizeof(rule), "%s/%s: %s", cct_stage_name(err.stage),
			 cct_code_name(err.code), err.msg);
		audit(s, req, "attest", "rejected", NULL, who, digest, rule, NULL);
		status = problem(r, 401, "AttestationError", "%s", rule);
		goto out;
	}
	/* the other stored attestation policies (per resource / repository) this evidence
	 * satisfies; a release checks the one selected for the resource is among them */
	passed = json_array();
	/* and which text of each: a release under a policy replaced since is refused */
	digests = json_object();
	if (explicit_pol) {
		json_array_append_new(passed, json_string("default"));
		json_object_set_new(digests, "default", json_string(pol_digest));
	}
	extra_policies_judge(s, req, body, &ss, &extra, passed, digests, now);
	meta_j = json_pack("{s:o,s:o}", "passed", passed, "policy_digests", digests);
	if (meta_j && extra.over_limit) {
		/* the ids judged, so a release names the limit for a policy that was not */
		json_t *judged = json_array();
		size_t j;

		for (j = 0; j < extra.n; j++)
			json_array_append_new(judged, json_string(extra.id[j]));
		json_object_set_new(meta_j, "judged", judged);
		json_object_set_new(meta_j, "over_limit", json_true());
	}
	meta = meta_j ? json_dumps(meta_j, JSON_COMPACT) : NULL;
	json_decref(meta_j);
	/* the sealed expiry: never later than this broker's own session lifetime from now (a
	 * challenge sealed by a replica with a longer --session-ttl keeps this broker's) */
	if (ss.expires > now + s->cfg.session_ttl_s)
		ss.expires = now + s->cfg.session_ttl_s;
	ss.token = token;
	ss.claims = claims;
	ss.tee_pubkey = teepub;
	snprintf(ss.evidence_digest, sizeof(ss.evidence_digest), "%s", digest);
	/* one commit: the nonce spent, the session sealed as attested, the audit record */
	rec = audit_record(req, "attest", "affirming", NULL, who, digest, NULL, &rec_txt);
	rc = rec_txt ? cct_store_session_attest_commit(s->cfg.store, &ss, meta, now, rec_txt, &err)
		     : cct_err_set(&err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	ss.token = ss.claims = ss.tee_pubkey = NULL;
	if (rc == CCT_ENONCE) {
		spend_nonce = 0;
		refusal = "nonce already used (by a concurrent attest)";
		json_decref(rec);
		status = problem(r, 401, "AttestationError", "%s", err.msg);
		goto out;
	}
	if (rc != CCT_OK) {
		json_decref(rec);
		status = problem(r, 500, "AttestationError", "session store: %s", err.msg);
		goto out;
	}
	spend_nonce = 0;
	cct_kbs__claims_memo_put(s->memo, claims, claims_doc);
	audit_logged(s, rec);
	COUNT(s, attest_ok);
	status = token_reply(r, token);
out:
	if (refusal) {
		COUNT(s, attest_fail);
		audit_unauth_as(s, req, "attest", NULL, who[0] ? who : NULL, refusal);
	}
	if (spend_nonce)
		cct_store_session_spend(s->cfg.store, &ss, now, NULL);
	extra_pols_free(&extra);
	free(rec_txt);
	observe_latency(s, mono() - t0);
	cct_store_session_clear(&ss);
	json_decref(body);
	json_decref(claims_doc);
	free(token);
	free(claims);
	free(teepub);
	free(pol);
	free(meta);
	return status;
}

/* The caller's verified claims and tee-pubkey: from a Bearer token the verifier accepts, or
 * from an attested, unexpired session. 0 on success; else the response is filled. */
static int caller_claims(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r,
			 char **claims, char **teepub, char who[80], char digest[65], char **meta)
{
	cct_err err;
	int64_t now = now_of(s);
	char why[160];

	*claims = *teepub = *meta = NULL;
	digest[0] = 0;
	if (req->authorization && !strncasecmp(req->authorization, "Bearer ", 7)) {
		const char *tok = req->authorization + 7;

		if (strlen(tok) > CCT_KBS_MAX_HEADER ||
		    s->cfg.verifier->token_verify(s->cfg.verifier->ctx, tok, now, claims, teepub,
						  &err) != CCT_OK) {
			COUNT(s, denials_auth);
			problem(r, 401, "TokenVerifierError", "bearer token rejected: %s",
				strlen(tok) > CCT_KBS_MAX_HEADER ? "too long" : err.msg);
			free(*claims);
			free(*teepub);
			*claims = *teepub = NULL;
			return -1;
		}
		cct_kbs__sha256_hex(digest, tok, strlen(tok));
		snprintf(who, 80, "token:%.16s", digest);
		if (!claims_affirming(*claims, why, sizeof(why))) {
			COUNT(s, denials_auth);
			problem(r, 401, "TokenVerifierError",
				"bearer token does not affirm: %s", why);
			free(*claims);
			free(*teepub);
			*claims = *teepub = NULL;
			return -1;
		}
		return 0;
	}
	if (cookie_ok(req->cookie)) {
		cct_store_session ss;
		char id[65];
		int rc;

		session_id_of(id, req->cookie);
		rc = cct_store_session_open(s->cfg.store, id, &ss, meta, &err);
		if (rc == CCT_ESIGNATURE) {
			COUNT(s, integrity_failures);
			COUNT(s, denials_auth);
			snprintf(who, 80, "session:%.16s", id);
			audit(s, req, "integrity", "refused", "sessions", who, NULL, err.msg, NULL);
			problem(r, 401, "TokenNotFound", "session refused: %s", err.msg);
			return -1;
		}
		if (rc == CCT_OK && ss.expires > now && ss.token && ss.claims && ss.tee_pubkey) {
			*claims = ss.claims;
			*teepub = ss.tee_pubkey;
			ss.claims = ss.tee_pubkey = NULL;
			snprintf(digest, 65, "%s", ss.evidence_digest);
			snprintf(who, 80, "session:%.16s", id);
			cct_store_session_clear(&ss);
			return 0;
		}
		cct_store_session_clear(&ss);
		free(*meta);
		*meta = NULL;
	}
	COUNT(s, denials_auth);
	problem(r, 401, "TokenNotFound",
		"no attested session (kbs-session-id cookie) or valid Bearer token; the session "
		"may have expired");
	return -1;
}

static int handle_resource_get(cct_kbs_server *s, const cct_kbs_request *req,
			       cct_kbs_response *r, const char *res)
{
	cct_err err;
	char *claims = NULL, *teepub = NULL, *pol = NULL, *jwe = NULL, who[80] = "", digest[65];
	uint8_t *secret = NULL;
	size_t n = 0;
	EVP_PKEY *key = NULL;
	int status, rc;

	if (caller_claims(s, req, r, &claims, &teepub, who, digest, &pol) != 0) {
		audit_unauth(s, req, "release", res);
		return r->status;
	}
	if (release_gate(s, req, res, claims, pol, &status, &err) != CCT_OK) {
		COUNT(s, denials_policy);
		audit(s, req, "release", "denied", res, who, digest, err.msg, NULL);
		status = status == 500 ? problem(r, 500, "PluginInternalError", "%s", err.msg)
				       : problem(r, 401, "PolicyDeny", "Access denied by policy: %s",
						 err.msg);
		goto out;
	}
	rc = cct_store_secret_get(s->cfg.store, res, &secret, &n, &err);
	if (rc == CCT_ESIGNATURE || rc == CCT_EFORMAT) {
		/* the row is there but does not open (tampered, swapped, other master key) */
		char what[CCT_STORE_MAX_NAME + 64];

		COUNT(s, integrity_failures);
		snprintf(what, sizeof(what), "%s/%.200s", CCT_STORE_KIND_RESOURCE, res);
		audit(s, req, "integrity", "refused", what, who, digest, err.msg, NULL);
		status = problem(r, 500, "PluginInternalError",
				 "resource %s failed its integrity check (audited): %s", res,
				 err.msg);
		goto out;
	}
	if (rc != CCT_OK) {
		if (rc == CCT_EINVAL)
			COUNT(s, denials_missing);
		audit(s, req, "release", "denied", res, who, digest,
		      rc == CCT_EINVAL ? "not found" : err.msg, NULL);
		status = rc == CCT_EINVAL
				 ? problem(r, 404, "InvalidRequestPath", "resource %s not found", res)
				 : problem(r, 500, "PluginInternalError", "resource store: %s", err.msg);
		goto out;
	}
	if (cct_jose_jwk_text_to_pkey(&key, teepub, &err) != CCT_OK ||
	    cct_jose_jwe_encrypt(&jwe, key, secret, n, &err) != CCT_OK) {
		status = problem(r, 401, "JweError", "cannot wrap to the attested tee-pubkey: %s",
				 err.msg);
		goto out;
	}
	/* the release is audited durably before the secret leaves */
	if (audit(s, req, "release", "released", res, who, digest, NULL, &err) != CCT_OK) {
		status = problem(r, 500, "PluginInternalError", "audit log unavailable: %s",
				 err.msg);
		goto out;
	}
	COUNT(s, releases);
	set_body(r, 200, "application/json", jwe);
	jwe = NULL;
	status = 200;
out:
	if (secret) {
		cct_wipe(secret, n);
		free(secret);
	}
	if (jwe) {
		cct_wipe(jwe, strlen(jwe));
		free(jwe);
	}
	EVP_PKEY_free(key);
	free(claims);
	free(teepub);
	free(pol);
	return status;
}

static int handle_cert(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	cct_err err;
	char *claims = NULL, *teepub = NULL, *pol = NULL, *pem = NULL, who[80] = "", digest[65];
	EVP_PKEY *key = NULL;
	int status;

	if (caller_claims(s, req, r, &claims, &teepub, who, digest, &pol) != 0) {
		/* a denial like a release's: counted (caller_claims) and audited */
		audit_unauth(s, req, "certificate", CERT_RESOURCE);
		return r->status;
	}
	if (release_gate(s, req, CERT_RESOURCE, claims, pol, &status, &err) != CCT_OK) {
		COUNT(s, denials_policy);
		audit(s, req, "certificate", "denied", CERT_RESOURCE, who, digest, err.msg, NULL);
		status = status == 500 ? problem(r, 500, "PluginInternalError", "%s", err.msg)
				       : problem(r, 401, "PolicyDeny", "Access denied by policy: %s",
						 err.msg);
		goto out;
	}
	if (req->body_len > 64 * 1024) {
		status = problem(r, 413, "SerdeError", "CSR larger than 64 KiB");
		goto out;
	}
	if (cct_jose_jwk_text_to_pkey(&key, teepub, &err) != CCT_OK ||
	    cct_kbs__ca_issue(&pem, s->ca, req->body, req->body_len, key, claims, now_of(s),
			      s->cfg.cert_ttl_s, &err) != CCT_OK) {
		audit(s, req, "certificate", "denied", CERT_RESOURCE, who, digest, err.msg, NULL);
		status = problem(r, err.code == CCT_EBINDING ? 401 : 400,
				 err.code == CCT_EBINDING ? "PolicyDeny" : "SerdeError", "%s", err.msg);
		goto out;
	}
	/* like a release: audited durably before the certificate leaves */
	if (audit(s, req, "certificate", "issued", CERT_RESOURCE, who, digest, NULL, &err) !=
	    CCT_OK) {
		status = problem(r, 500, "PluginInternalError", "audit log unavailable: %s",
				 err.msg);
		goto out;
	}
	COUNT(s, certs);
	set_body(r, 200, "application/pem-certificate-chain", pem);
	pem = NULL;
	status = 200;
out:
	EVP_PKEY_free(key);
	free(claims);
	free(teepub);
	free(pol);
	free(pem);
	return status;
}

/* ---- admin ---- */

/* 0 if the request carries an admin JWT with at least need_role; else response filled. */
static int admin_auth(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r,
		      int need_role, char who[80])
{
	cct_err err;
	cct_kbs_admin_claims t;
	int ok = 0;

	snprintf(who, 80, "admin");
	if (!req->authorization || strncasecmp(req->authorization, "Bearer ", 7) ||
	    strlen(req->authorization) > CCT_KBS_MAX_HEADER) {
		cct_err_set(&err, CCT_EUNTRUSTED, CCT_STAGE_TOKEN, 0,
			    "admin endpoint needs Authorization: Bearer <admin JWT>");
	} else if (cct_kbs__admin_verify(s->admin, req->authorization + 7, now_of(s), &t, &err) ==
		   CCT_OK) {
		snprintf(who, 80, "%s", t.who);
		if (t.role < need_role)
			cct_err_set(&err, CCT_EPOLICY, CCT_STAGE_TOKEN, 0,
				    "admin JWT role \"%s\" may not call this endpoint",
				    t.role == ROLE_AUDITOR ? "auditor" : "admin");
		else if (cct_kbs__admin_consume_jti(s->admin, s->cfg.store, &t, now_of(s), &err) == CCT_OK)
			ok = 1;
	}
	if (ok) {
		COUNT(s, admin_ok);
		return 0;
	}
	COUNT(s, admin_denied);
	audit_unauth(s, req, "admin", req->path);
	problem(r, 401, "AdminAuth", "Admin auth error: %s", err.msg);
	return -1;
}

static int admin_done(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r,
		      const char *who, const char *what, int rc, const cct_err *err)
{
	if (rc != CCT_OK) {
		int st = rc == CCT_EINVAL ? 404 : rc == CCT_ETOOBIG ? 413 : rc == CCT_EIO ? 500 : 400;

		return problem(r, st, st == 404 ? "InvalidRequestPath" : "SerdeError", "%s",
			       err->msg);
	}
	audit(s, req, "admin", what, req->path, who, NULL, NULL, NULL);
	return json_reply(r, 200, json_object());
}

/* CCT_OK if the attestation policy id (not default / default_gpu) may be stored: it is stored
 * already, or fewer than MAX_EXTRA_ATT_POLICIES others are (one more would never be applied);
 * else CCT_EPOLICY (400). */
static int att_policy_room(cct_kbs_server *s, const char *id, cct_err *err)
{
	void *impl;
	const cct_store_ops *ops = cct_store_backend(s->cfg.store, &impl);
	char *txt = NULL;
	json_t *names, *nm;
	size_t i, others = 0;
	int rc = ops->obj_list(impl, CCT_STORE_KIND_ATT_POLICY, &txt, err);

	if (rc != CCT_OK)
		return rc;
	names = json_loads(txt, 0, NULL);
	free(txt);
	json_array_foreach(names, i, nm) {
		const char *have = json_string_value(nm);

		if (have && !strcmp(have, id)) {
			json_decref(names);
			return CCT_OK; /* a replacement */
		}
		if (have && !is_default_att_policy(have))
			others++;
	}
	json_decref(names);
	if (others >= MAX_EXTRA_ATT_POLICIES)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_INPUT, 0,
				   "policy_id %.64s refused: at most %d attestation policies "
				   "besides default and default_gpu are applied and %zu are "
				   "stored (limit reached); replace one of them (POST with its "
				   "policy_id)", id, MAX_EXTRA_ATT_POLICIES, others);
	return CCT_OK;
}

/* An optional string member k of an admin body: *v NULL when absent. Present with another
 * JSON type (null included) it is refused naming it, never read as absent ({"policy_id":5}
 * is not the default policy). */
static int string_member(const char **v, const json_t *body, const char *k, cct_err *err)
{
	const json_t *m = json_object_get(body, k);

	*v = json_string_value(m);
	if (m && !*v)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "\"%s\" must be a string", k);
	return CCT_OK;
}

/* CCT_OK when every member of an admin body is one of names (NULL-terminated), else CCT_EFORMAT
 * naming the first other one: a misspelt member was ignored, and its intent lost with it (a
 * "resouce" stored a resource's policy as the global default, a "policyid" replaced the default
 * attestation policy). */
static int members_known(const json_t *body, const char *const *names, cct_err *err)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)body, k, v) {
		for (i = 0; names[i] && strcmp(names[i], k); i++)
			;
		if (!names[i])
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "unknown member \"%.40s\" (this endpoint takes %s%s%s%s%s)",
					   k, names[0], names[1] ? ", " : "", names[1] ? names[1] : "",
					   names[1] && names[2] ? ", " : "",
					   names[1] && names[2] ? names[2] : "");
	}
	return CCT_OK;
}

/* Base64 member "policy" of a JSON body -> text (malloc'd, NUL-terminated). */
static int b64_member(char **out, const json_t *body, const char *k, cct_err *err)
{
	const char *b = NULL;
	uint8_t *raw = NULL, *t;
	size_t n = 0;

	*out = NULL;
	if (string_member(&b, body, k, err) != CCT_OK)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "\"%s\" must be a string (base64)", k);
	if (!b)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "body needs \"%s\" (base64)", k);
	if (cct_b64_decode(&raw, &n, b, strlen(b), err) != CCT_OK)
		return CCT_EENCODING;
	t = realloc(raw, n + 1);
	if (!t) {
		free(raw);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	t[n] = 0;
	*out = (char *)t;
	return CCT_OK;
}

static int handle_admin(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r,
			const char *res)
{
	cct_err err;
	char who[80], *txt = NULL, *pol = NULL;
	void *impl;
	const cct_store_ops *ops = cct_store_backend(s->cfg.store, &impl);
	json_t *body = NULL;
	int rc, status, is_get = !strcmp(req->method, "GET");
	const char *p = req->path;
	int64_t now = now_of(s);

	cct_err_clear(&err);
	if (admin_auth(s, req, r, is_get ? ROLE_AUDITOR : ROLE_ADMIN, who) != 0)
		return r->status;
	if (res) { /* POST/DELETE /kbs/v0/resource/<r>/<t>/<g> */
		if (!strcmp(req->method, "DELETE")) {
			/* a sealed tombstone records the deletion (docs/security.md, 1) */
			rc = cct_store_sealed_delete(s->cfg.store, CCT_STORE_KIND_RESOURCE, res,
						     now, &err);
			return admin_done(s, req, r, who, "resource-deleted", rc, &err);
		}
		rc = cct_store_secret_put(s->cfg.store, res, req->body, req->body_len, now, &err);
		return admin_done(s, req, r, who, "resource-written", rc, &err);
	}
	if (!strcmp(p, "/kbs/v0/admin/resources") && is_get) {
		rc = ops->obj_list(impl, CCT_STORE_KIND_RESOURCE, &txt, &err);
		if (rc != CCT_OK)
			return admin_done(s, req, r, who, "", rc, &err);
		set_body(r, 200, "application/json", txt);
		return 200;
	}
	if (!strcmp(p, "/kbs/v0/audit") && is_get) {
		long long after = 0;
		int limit = 100;
		const char *q = req->query;

		if (q && strstr(q, "after="))
			after = strtoll(strstr(q, "after=") + 6, NULL, 10);
		if (q && strstr(q, "limit="))
			limit = (int)strtol(strstr(q, "limit=") + 6, NULL, 10);
		rc = ops->audit_query(impl, after, limit, &txt, &err);
		if (rc != CCT_OK)
			return admin_done(s, req, r, who, "", rc, &err);
		set_body(r, 200, "application/json", txt);
		return 200;
	}
	if (is_get && (!strcmp(p, "/kbs/v0/resource-policy") ||
		       !strncmp(p, "/kbs/v0/resource-policy/", 24))) {
		const char *name = p[23] == '/' ? p + 24 : "default";
		int refused = 0;

		txt = sealed_text(s, req, CCT_STORE_KIND_RES_POLICY, name, &refused);
		if (refused) /* a row is there: "no policy" would say releases fall back */
			return problem(r, 500, "PluginInternalError",
				       "resource policy %.140s failed its integrity check (audited)",
				       name);
		if (!txt)
			return problem(r, 404, "InvalidRequestPath", "no resource policy %.140s", name);
		/* as Trustee: the body is the policy, base64url without padding */
		pol = cct_jose_b64url(txt, strlen(txt));
		free(txt);
		set_body(r, pol ? 200 : 500, "text/plain", pol);
		return r->status;
	}
	if (is_get && !strncmp(p, "/kbs/v0/reference-value/", 24)) {
		int refused = 0;
		char *v = sealed_text(s, req, CCT_STORE_KIND_REFVAL, p + 24, &refused);

		if (refused)
			return problem(r, 500, "PluginInternalError",
				       "reference value %.128s failed its integrity check (audited)",
				       p + 24);
		if (!v)
			return problem(r, 404, "InvalidRequestPath", "no reference value %.128s",
				       p + 24);
		status = json_reply(r, 200, json_pack("{s:o}", p + 24,
						      json_loads(v, 0, NULL) ?: json_array()));
		free(v);
		return status;
	}
	if (is_get && !strcmp(p, "/kbs/v0/reference-value")) {
		json_t *all = json_object(), *names;
		size_t i;
		json_t *nm;

		rc = ops->obj_list(impl, CCT_STORE_KIND_REFVAL, &txt, &err);
		if (rc != CCT_OK) {
			json_decref(all);
			return admin_done(s, req, r, who, "", rc, &err);
		}
		names = json_loads(txt, 0, NULL);
		free(txt);
		json_array_foreach(names, i, nm) {
			char *v = sealed_text(s, req, CCT_STORE_KIND_REFVAL, json_string_value(nm),
					      NULL);

			if (v)
				json_object_set_new(all, json_string_value(nm), json_loads(v, 0, NULL));
			free(v);
		}
		json_decref(names);
		return json_reply(r, 200, all);
	}
	if (is_get)
		return problem(r, 404, "InvalidRequestPath", "no admin endpoint GET %.100s", p);
	/* writes with a JSON body */
	if (!(body = cct_kbs__json_body(req->body, req->body_len, &err)))
		return problem(r, err.code == CCT_ETOOBIG ? 413 : 400, "SerdeError", "%s", err.msg);
	if (!strcmp(p, "/kbs/v0/attestation-policy")) {
		static const char *const known[] = { "type", "policy_id", "policy", NULL };
		const char *id = NULL, *as = NULL, *type = NULL, *rego;
		char *applied = NULL;
		int active = 0;

		if ((rc = members_known(body, known, &err)) == CCT_OK &&
		    (rc = string_member(&id, body, "policy_id", &err)) == CCT_OK &&
		    (rc = string_member(&type, body, "type", &err)) == CCT_OK &&
		    (!type || !strcmp(type, "json") || !strcmp(type, "rego") ||
		     (rc = cct_err_set(&err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				       "\"type\" \"%.32s\" is not \"json\" (a cctrust.policy/v1 "
				       "document)", type)) == CCT_OK) &&
		    (rc = cct_kbs__att_policy_id(id, &as, &active, &err)) == CCT_OK &&
		    (rc = b64_member(&txt, body, "policy", &err)) == CCT_OK &&
		    ((rego = cct_kbs__rego_detail(txt, 1)) ||
		     (type && !strcmp(type, "rego") && (rego = "Rego policies are not supported: "
							"send a cctrust.policy/v1 JSON document "
							"with \"type\":\"json\""))))
			rc = cct_err_set(&err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0, "%s", rego);
		/* checked as it will be appraised: with the reference values it names */
		if (rc == CCT_OK &&
		    (rc = cct_kbs__rvps_apply_store(&applied, txt, s->cfg.store, &err)) == CCT_OK &&
		    !strcmp(as, "default_gpu")) {
			json_t *g = json_loads(applied, 0, NULL);

			if (!json_is_object(json_object_get(g, "gpu")))
				rc = cct_err_set(&err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						 "policy_id default_gpu: the policy needs a "
						 "\"gpu\" section");
			json_decref(g);
		}
		if (rc == CCT_OK && s->cfg.verifier->policy_check &&
		    s->cfg.verifier->policy_check(s->cfg.verifier->ctx, applied, strlen(applied),
						  &err))
			rc = CCT_EFORMAT;
		free(applied);
		if (rc == CCT_OK && !active)
			rc = att_policy_room(s, as, &err);
		if (rc == CCT_OK) /* sealed: a database writer cannot forge or edit it */
			rc = cct_store_sealed_put(s->cfg.store, CCT_STORE_KIND_ATT_POLICY, as,
						  (uint8_t *)txt, strlen(txt), now, &err);
		status = admin_done(s, req, r, who, "attestation-policy-written", rc, &err);
		if (rc == CCT_OK && !active) /* never silently ignored */
			status = json_reply(r, 200, json_pack("{s:s,s:b,s:s}", "policy_id", as,
							      "active", 0, "detail",
							      "stored; the attest is appraised under "
							      "policy_id default (default_cpu) and "
							      "default_gpu; this policy must also be "
							      "satisfied for resources of the "
							      "repository named like it"));
	} else if (!strcmp(p, "/kbs/v0/resource-policy")) {
		static const char *const known[] = { "policy", "resource", NULL };
		const char *target = NULL, *rego;

		if ((rc = members_known(body, known, &err)) == CCT_OK)
			rc = string_member(&target, body, "resource", &err);
		if (rc == CCT_OK && target && !cct_kbs__resource_path_ok(target))
			rc = cct_err_set(&err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "\"resource\" must be repo/type/tag");
		else if (rc == CCT_OK && (rc = b64_member(&txt, body, "policy", &err)) == CCT_OK &&
			 (rego = cct_kbs__rego_detail(txt, 0)))
			rc = cct_err_set(&err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0, "%s", rego);
		else if (rc == CCT_OK && (rc = cct_kbs_policy_check(txt, strlen(txt), &err)) == CCT_OK)
			rc = cct_store_sealed_put(s->cfg.store, CCT_STORE_KIND_RES_POLICY,
						  target ? target : "default", (uint8_t *)txt,
						  strlen(txt), now, &err);
		status = admin_done(s, req, r, who, "resource-policy-written", rc, &err);
	} else if (!strcmp(p, "/kbs/v0/reference-value")) {
		json_t *vals = NULL, *v;
		const char *k;

		rc = cct_kbs__rvps_parse(&vals, body, &err);
		json_object_foreach(vals, k, v) {
			char *t = json_dumps(v, JSON_COMPACT);

			rc = t ? cct_store_sealed_put(s->cfg.store, CCT_STORE_KIND_REFVAL, k,
						      (uint8_t *)t, strlen(t), now, &err)
			       : cct_err_set(&err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			free(t);
			if (rc != CCT_OK)
				break;
		}
		json_decref(vals);
		status = admin_done(s, req, r, who, "reference-value-written", rc, &err);
	} else {
		status = problem(r, 404, "InvalidRequestPath", "no admin endpoint POST %.100s", p);
	}
	json_decref(body);
	free(txt);
	return status;
}

/* ---- routing ---- */

/* The methods a route takes. HEAD is GET where a GET only reads (the transport sends no body:
 * health checks); never on resources, whose GET is a release. */
enum { M_GET = 1, M_HEAD = 2, M_POST = 4, M_DELETE = 8 };

static int route_resource(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	const char *res = req->path + strlen(RES_PREFIX);

	if (!cct_kbs__resource_path_ok(res))
		return problem(r, 404, "InvalidRequestPath",
			       "Request path %.100s is invalid: need "
			       "/kbs/v0/resource/<repository>/<type>/<tag>",
			       req->path);
	if (!strcmp(req->method, "GET"))
		return handle_resource_get(s, req, r, res);
	return handle_admin(s, req, r, res);
}

static int route_admin(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	return handle_admin(s, req, r, NULL);
}

static int route_ca(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	char *pem = strdup(cct_kbs__ca_pem(s->ca));

	(void)req;
	set_body(r, pem ? 200 : 500, "application/x-pem-file", pem);
	return r->status;
}

static int route_jwks(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	char *j = s->cfg.verifier->jwks ? s->cfg.verifier->jwks(s->cfg.verifier->ctx) : NULL;

	(void)req;
	if (!j)
		j = strdup("{\"keys\":[]}");
	set_body(r, j ? 200 : 500, "application/json", j);
	return r->status;
}

static int route_healthz(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	(void)s;
	(void)req;
	return json_reply(r, 200, json_pack("{s:s}", "status", "ok"));
}

static int route_readyz(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	void *impl;
	const cct_store_ops *ops = cct_store_backend(s->cfg.store, &impl);
	int ok = ops->ping(impl);

	(void)req;
	return json_reply(r, ok ? 200 : 503,
			  json_pack("{s:s,s:s}", "status", ok ? "ready" : "store unavailable", "store",
				    ops->name));
}

static int route_metrics(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	(void)req;
	return metrics(s, r);
}

/* Every path the broker answers: one entry names the path (exact, or a prefix), the methods it
 * takes (anything else is a 405 with an Allow header built from them) and its handler. */
static const struct route {
	const char *path;
	int prefix;
	unsigned methods;
	int (*handle)(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r);
	enum guest_ep ep; /* set on the guest endpoints: their handler CPU goes to /metrics */
} routes[] = {
	{ "/kbs/v0/auth", 0, M_POST, handle_auth, EP_AUTH },
	{ "/kbs/v0/attest", 0, M_POST, handle_attest, EP_ATTEST },
	{ RES_PREFIX, 1, M_GET | M_POST | M_DELETE, route_resource, EP_RESOURCE },
	{ "/kbs/v0/cert", 0, M_POST, handle_cert, EP_NONE },
	{ "/kbs/v0/cert/ca", 0, M_GET | M_HEAD, route_ca, EP_NONE },
	{ "/.well-known/jwks.json", 0, M_GET | M_HEAD, route_jwks, EP_NONE },
	{ "/healthz", 0, M_GET | M_HEAD, route_healthz, EP_NONE },
	{ "/kbs/v0/healthz", 0, M_GET | M_HEAD, route_healthz, EP_NONE },
	{ "/readyz", 0, M_GET | M_HEAD, route_readyz, EP_NONE },
	{ "/kbs/v0/readyz", 0, M_GET | M_HEAD, route_readyz, EP_NONE },
	{ "/metrics", 0, M_GET | M_HEAD, route_metrics, EP_NONE },
	{ "/kbs/v0/metrics", 0, M_GET | M_HEAD, route_metrics, EP_NONE },
	/* the admin endpoints besides resources: GET reads, POST writes (handle_admin serves
	 * exactly these methods; any other gets 405 with its Allow) */
	{ "/kbs/v0/attestation-policy", 0, M_POST, route_admin, EP_NONE },
	{ "/kbs/v0/resource-policy", 0, M_GET | M_POST, route_admin, EP_NONE },
	{ "/kbs/v0/resource-policy/", 1, M_GET, route_admin, EP_NONE },
	{ "/kbs/v0/reference-value", 0, M_GET | M_POST, route_admin, EP_NONE },
	{ "/kbs/v0/reference-value/", 1, M_GET, route_admin, EP_NONE },
	{ "/kbs/v0/audit", 0, M_GET, route_admin, EP_NONE },
	{ "/kbs/v0/admin/resources", 0, M_GET, route_admin, EP_NONE },
};

static const struct route *route_of(const char *p)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].prefix ? !strncmp(p, routes[i].path, strlen(routes[i].path))
				     : !strcmp(p, routes[i].path))
			return &routes[i];
	return NULL;
}

static unsigned method_bit(const char *m)
{
	return !strcmp(m, "GET")      ? M_GET
	       : !strcmp(m, "HEAD")   ? M_HEAD
	       : !strcmp(m, "POST")   ? M_POST
	       : !strcmp(m, "DELETE") ? M_DELETE
				      : 0;
}

/* The Allow header of a method set (static strings: the response keeps the pointer). */
static const char *allow_of(unsigned methods)
{
	switch (methods) {
	case M_GET:
		return "GET";
	case M_POST:
		return "POST";
	case M_GET | M_HEAD:
		return "GET, HEAD";
	case M_GET | M_POST:
		return "GET, POST";
	case M_GET | M_POST | M_DELETE:
		return "GET, POST, DELETE";
	default:
		return NULL; /* a method set without its Allow text: a route table mistake */
	}
}

int cct_kbs_handle(cct_kbs_server *s, const cct_kbs_request *req, cct_kbs_response *r)
{
	const char *p = req->path ? req->path : "", *m = req->method ? req->method : "";
	const struct route *rt = route_of(p);
	cct_kbs_request at = *req;
	int status;

	memset(r, 0, sizeof(*r));
	r->status = 500;
	at.path = p;
	at.method = m;
	if (req->body_len > CCT_KBS_MAX_BODY) {
		status = problem(r, 413, "SerdeError", "request body above %u bytes",
				 CCT_KBS_MAX_BODY);
	} else if (!rt) {
		status = problem(r, 404, "InvalidRequestPath", "Request path %.100s is invalid", p);
	} else if (rt->methods & method_bit(m)) {
		/* a resource GET is a guest's release; POST and DELETE there are admin writes */
		enum guest_ep ep = rt->ep == EP_RESOURCE && strcmp(m, "GET") ? EP_NONE : rt->ep;
		double cpu0 = ep != EP_NONE ? thread_cpu() : 0;

		status = rt->handle(s, &at, r);
		if (ep != EP_NONE)
			observe_endpoint_cpu(s, ep, thread_cpu() - cpu0);
	} else if ((r->allow = allow_of(rt->methods)) != NULL) {
		status = problem(r, 405, "InvalidRequestPath", "%.100s takes %s, not %.16s", p,
				 r->allow, m);
	} else {
		status = problem(r, 500, "InvalidRequestPath", "no Allow text for the methods of %.100s",
				 p);
	}
	cct_kbs_server_count_status(s, status);
	return status;
}

/* ---- lifecycle ---- */

int cct_kbs_server_new(cct_kbs_server **out, const cct_kbs_config *cfg, cct_err *err)
{
	cct_kbs_server *s;
	int rc;

	*out = NULL;
	if (!cfg || !cfg->store || !cfg->verifier || !cfg->verifier->attest ||
	    !cfg->verifier->token_verify || !cfg->admin_pubkey_pem)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				   "kbs server needs a store, a verifier and an admin public key");
	s = calloc(1, sizeof(*s));
	if (!s)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	s->cfg = *cfg;
	if (s->cfg.session_ttl_s <= 0)
		s->cfg.session_ttl_s = CCT_KBS_SESSION_TTL_DEFAULT;
	if (s->cfg.cert_ttl_s <= 0)
		s->cfg.cert_ttl_s = CCT_KBS_CERT_TTL_DEFAULT;
	if (s->cfg.unauth_audit_per_min <= 0)
		s->cfg.unauth_audit_per_min = CCT_KBS_UNAUTH_AUDIT_DEFAULT;
	pthread_mutex_init(&s->mlock, NULL);
	if ((rc = cct_kbs__admin_new(&s->admin, cfg->admin_pubkey_pem,
				     cfg->admin_max_token_lifetime_s, cfg->admin_audience,
				     cfg->admin_require_jti, err)) != CCT_OK)
		goto fail;
	if (!(s->memo = cct_kbs__claims_memo_new())) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto fail;
	}
	if (cfg->attestation_policy && !(s->att_policy = strdup(cfg->attestation_policy))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto fail;
	}
	if ((rc = cct_kbs__ca_new(&s->ca, cfg->ca_cert_pem, cfg->ca_key_pem, err)) != CCT_OK)
		goto fail;
	s->cfg.attestation_policy = s->att_policy;
	*out = s;
	return CCT_OK;
fail:
	cct_kbs_server_free(s);
	return rc;
}

void cct_kbs_server_free(cct_kbs_server *s)
{
	if (!s)
		return;
	cct_kbs__admin_free(s->admin);
	cct_kbs__ca_free(s->ca);
	free(s->att_policy);
	cct_kbs__claims_memo_free(s->memo);
	pthread_mutex_destroy(&s->mlock);
	free(s);
}

const char *cct_kbs_server_ca_pem(const cct_kbs_server *s)
{
	return cct_kbs__ca_pem(s->ca);
}

/* ---- the fail-closed verifier ---- */

static int none_attest(void *ctx, const char *tee, const char *body, size_t body_len,
		       const char *nonce, const char *policy, int64_t now, char **t, char **c,
		       char **k, cct_err *err)
{
	(void)tee; (void)body; (void)body_len; (void)nonce; (void)policy; (void)now;
	*t = *c = *k = NULL;
	return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_POLICY, 0, "%s", (const char *)ctx);
}

static int none_token(void *ctx, const char *token, int64_t now, char **c, char **k,
		      cct_err *err)
{
	(void)token; (void)now;
	*c = *k = NULL;
	return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_TOKEN, 0, "%s", (const char *)ctx);
}

int cct_kbs_verifier_none_new(cct_kbs_verifier **out, const char *reason)
{
	cct_kbs_verifier *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v)
		return CCT_ENOMEM;
	v->ctx = strdup(reason ? reason : "no attestation service configured");
	if (!v->ctx) {
		free(v);
		return CCT_ENOMEM;
	}
	v->attest = none_attest;
	v->token_verify = none_token;
	v->free_ctx = free;
	*out = v;
	return CCT_OK;
}

void cct_kbs_verifier_free(cct_kbs_verifier *v)
{
	if (!v)
		return;
	if (v->free_ctx)
		v->free_ctx(v->ctx);
	free(v);
}
