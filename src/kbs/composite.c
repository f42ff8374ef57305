#define _GNU_SOURCE
/* The production attestation service behind the broker's verifier seam: composite verification
 * (src/policy: CPU evidence + GPUs + binding + policy) of the exact attest request body against
 * the session's nonce, and an EAR JWT (src/token) signed with the service's ES256 key.
 *
 * Fail closed: anything but an affirming appraisal refuses the attest (the reason names every
 * failed rule); a token is returned only for affirming results. Thread-safe: the signer and the
 * default policy are immutable after _new, each call builds its own verifier state, counters
 * are under a mutex; a collateral bundle is a cct_coll_live whose snapshot a call holds from
 * start to end, so a reload (cctrustd SIGHUP) never changes or frees it under the call. */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cctrust/core.h"
#include "cctrust/collateral.h"
#include "collateral/fetch.h"
#include "cctrust/kbs.h"
#include "cctrust/composite.h"
#include "cctrust/token.h"
#include "kbs/kbs_int.h"
#include "token/jose.h"

#define TEE_PUBKEY_POINTER "/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey"
#define DETAIL_MAX 380   /* fits the broker's RFC 7807 detail */
#define FTW_MAX_FDS 8

static const double vlat_buckets[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5 };
#define VNBUCKETS (sizeof(vlat_buckets) / sizeof(vlat_buckets[0]))

enum { V_AFFIRMING, V_CONTRAINDICATED, V_ERROR, V_NRESULTS };
static const char *const result_names[V_NRESULTS] = { "affirming", "contraindicated", "error" };

typedef struct composite {
	cct_token_signer *signer;
	cct_policy *default_policy;
	json_t *jwks;    /* {"keys":[jwk]} */
	char *jwks_text;
	char *trust_sim_dir, *collateral_dir, *certs_path, *issuer;
	cct_coll_live *bundle;  /* --collateral BUNDLE: opened once, replaced by reloads; each
				   verification holds the snapshot it started with */
	int own_bundle;         /* opened here (else the caller's, cfg->collateral_live) */
	int offline, token_ttl_s;
	pthread_mutex_t lock;
	struct {
		uint64_t results[V_NRESULTS][2]; /* [result][simulated] */
		uint64_t token_ok, token_bad;
		uint64_t lat_count, lat_bucket[VNBUCKETS];
		double lat_sum;
		long coll_entries_at_start;
	} m;
} composite;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* src into dst, cut with "..." when longer than the room (max 72 characters). */
static void clip(char *dst, size_t size, const char *src)
{
	size_t room = size - 1 < 72 ? size - 1 : 72, n = strlen(src);

	if (n <= room)
		memcpy(dst, src, n + 1);
	else
		snprintf(dst, size, "%.*s...", (int)(room - 3), src);
}

/* Every failing rule of a result, compact, into the refusal message. */
static void policy_detail(char *out, size_t size, const cct_composite_result *r)
{
	const json_t *f;
	const char *id = json_string_value(json_object_get(r->result, "policy_id"));
	size_t i, used;

	used = (size_t)snprintf(out, size, "policy \"%s\" refused:", id ? id : "?");
	json_array_foreach(json_object_get(r->result, "failures"), i, f) {
		char *e = json_dumps(json_object_get(f, "expected"), JSON_ENCODE_ANY | JSON_COMPACT);
		char *a = json_dumps(json_object_get(f, "actual"), JSON_ENCODE_ANY | JSON_COMPACT);
		char ce[80], ca[80];

		clip(ce, sizeof(ce), e ? e : "?");
		clip(ca, sizeof(ca), a ? a : "?");
		if (used < size)
			used += (size_t)snprintf(out + used, size - used,
						 "%s rule %s (expected %s, actual %s)", i ? ";" : "",
						 json_string_value(json_object_get(f, "rule")), ce, ca);
		free(e);
		free(a);
	}
	if (!i)
		snprintf(out, size, "%s", r->err.msg);
}

static void observe(composite *c, int result, int simulated, double secs)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	c->m.results[result][simulated ? 1 : 0]++;
	c->m.lat_count++;
	c->m.lat_sum += secs;
	for (i = 0; i < VNBUCKETS; i++)
		if (secs <= vlat_buckets[i])
			c->m.lat_bucket[i]++;
	pthread_mutex_unlock(&c->lock);
}

/* Claims JSON text + tee-pubkey JWK text from EAR claims. */
/* The claims text: the payload of the token this broker just signed, which is exactly that
 * serialisation of the claims (cct_token_sign), decoded rather than serialised a second time;
 * without a token (a Bearer token's claims), serialised. */
static char *claims_text(const char *token, const json_t *claims)
{
	char *t = NULL;

	if (token && cct_jose_jws_payload_text(&t, NULL, token, NULL) == CCT_OK && *t)
		return t;
	free(t);
	return json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
}

static int claims_out(char **claims_txt, char **pub_txt, const char *token, json_t *claims,
		      cct_err *err)
{
	json_t *pub = cct_kbs__json_pointer(claims, TEE_PUBKEY_POINTER);

	*claims_txt = *pub_txt = NULL;
	if (!json_is_object(pub))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, 0,
				   "EAR has no %s", TEE_PUBKEY_POINTER);
	*claims_txt = claims_text(token, claims);
	*pub_txt = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
	if (!*claims_txt || !*pub_txt) {
		free(*claims_txt);
		free(*pub_txt);
		*claims_txt = *pub_txt = NULL;
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	return CCT_OK;
}

static int composite_attest_also(void *ctx, const char *tee, const char *body, size_t body_len,
				 const json_t *parsed, const char *nonce_b64,
				 const char *policy_json, const char *const *also_json,
				 size_t n_also, int *also_ok, int64_t now, char **token_out,
				 char **claims_json_out, char **tee_pubkey_jwk_out,
				 json_t **claims_doc_out, cct_err *err)
{
	composite *c = ctx;
	cct_composite_opts o;
	cct_composite_result r;
	cct_policy *stored = NULL, **also = NULL;
	size_t j;
	const cct_policy *pol = c->default_policy;
	uint8_t *nonce = NULL;
	size_t nonce_len = 0;
	const cct_coll_snap *snap = NULL;
	double t0 = mono();
	int rc = CCT_ERROR, result = V_ERROR, simulated = 0;

	*token_out = *claims_json_out = *tee_pubkey_jwk_out = NULL;
	if (claims_doc_out)
		*claims_doc_out = NULL;
	memset(&r, 0, sizeof(r));
	for (j = 0; also_ok && j < n_also; j++)
		also_ok[j] = 0; /* also when refused before the verification */
	if (!tee || (strcmp(tee, "snp") && strcmp(tee, "tdx") && strcmp(tee, "azsnpvtpm") &&
		     strcmp(tee, "aztdxvtpm"))) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "tee \"%.32s\" is not verified by this service (snp, tdx, "
				 "azsnpvtpm, aztdxvtpm)",
				 tee ? tee : "");
		goto out;
	}
	if (!nonce_b64 || cct_b64_decode(&nonce, &nonce_len, nonce_b64, strlen(nonce_b64), err) !=
				  CCT_OK ||
	    nonce_len != CCT_KBS_NONCE_SIZE) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_BINDING, 0,
				 "session nonce is not base64 of %d bytes", CCT_KBS_NONCE_SIZE);
		goto out;
	}
	if (policy_json) {
		if ((rc = cct_policy_load(&stored, policy_json, strlen(policy_json), err)) != CCT_OK) {
			/* a broken stored policy must never fall back to something weaker */
			char m[CCT_ERR_MSG_SIZE];

			snprintf(m, sizeof(m), "%s", err ? err->msg : "");
			rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
					 "attestation policy unusable: %.200s", m);
			goto out;
		}
		pol = stored;
	}
	memset(&o, 0, sizeof(o));
	o.at = (time_t)now;
	o.expected_nonce = nonce;
	o.expected_nonce_len = nonce_len;
	o.tee_hint = tee;
	o.parsed_request = parsed;
	if (c->bundle) /* held to the end of this verification, whatever reloads meanwhile */
		snap = cct_coll_live_acquire(c->bundle);
	o.collateral_dir = snap ? NULL : c->collateral_dir;
	o.collateral = snap ? &snap->src : NULL;
	o.offline = c->offline;
	o.certs_path = c->certs_path;
	o.trust_sim_dir = c->trust_sim_dir;
	o.token_ttl_s = c->token_ttl_s;
	o.issuer = c->issuer;
	/* each further policy as attest_parsed would load it: one that does not load is not
	 * satisfied (never weakened to something else) */
	if (also_ok && n_also && (also = calloc(n_also, sizeof(*also))) != NULL) {
		for (j = 0; j < n_also; j++)
			if (!also_json[j] ||
			    cct_policy_load(&also[j], also_json[j], strlen(also_json[j]), NULL) != CCT_OK)
				also[j] = NULL;
		o.also_policies = (const cct_policy *const *)also;
		o.also_count = n_also;
		o.also_ok = also_ok;
	}
	rc = cct_composite_verify(&r, (const uint8_t *)body, body_len, pol, &o, c->signer);
	simulated = json_is_true(json_object_get(r.result, "simulated"));
	if (rc != CCT_OK) {
		if (r.ear) { /* evidence verified, policy refused: name every rule */
			char d[DETAIL_MAX];

			result = V_CONTRAINDICATED;
			policy_detail(d, sizeof(d), &r);
			cct_err_set(err, rc, r.err.stage, r.err.offset, "%s", d);
		} else if (err) {
			*err = r.err;
			err->code = rc;
		}
		goto out;
	}
	if (!r.token || !r.ear) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_TOKEN, 0, "verified but no token issued");
		goto out;
	}
	if ((rc = claims_out(claims_json_out, tee_pubkey_jwk_out, r.token, r.ear, err)) != CCT_OK)
		goto out;
	*token_out = r.token;
	r.token = NULL;
	if (claims_doc_out) /* the token's payload is json_dumps of this very document */
		*claims_doc_out = json_incref(r.ear);
	result = V_AFFIRMING;
	rc = CCT_OK;
out:
	observe(c, result, simulated, mono() - t0);
	if (snap)
		cct_coll_live_release(c->bundle, snap);
	cct_composite_result_clear(&r);
	cct_policy_free(stored);
	for (j = 0; also && j < n_also; j++)
		cct_policy_free(also[j]);
	free(also);
	free(nonce);
	return rc;
}

static int composite_attest_parsed(void *ctx, const char *tee, const char *body, size_t body_len,
				   const json_t *parsed, const char *nonce_b64,
				   const char *policy_json, int64_t now, char **token_out,
				   char **claims_json_out, char **tee_pubkey_jwk_out,
				   json_t **claims_doc_out, cct_err *err)
{
	return composite_attest_also(ctx, tee, body, body_len, parsed, nonce_b64, policy_json,
				     NULL, 0, NULL, now, token_out, claims_json_out,
				     tee_pubkey_jwk_out, claims_doc_out, err);
}

static int composite_attest(void *ctx, const char *tee, const char *body, size_t body_len,
			    const char *nonce_b64, const char *policy_json, int64_t now,
			    char **token_out, char **claims_json_out, char **tee_pubkey_jwk_out,
			    cct_err *err)
{
	return composite_attest_parsed(ctx, tee, body, body_len, NULL, nonce_b64, policy_json, now,
				       token_out, claims_json_out, tee_pubkey_jwk_out, NULL, err);
}

static int composite_token_verify(void *ctx, const char *token, int64_t now,
				  char **claims_json_out, char **tee_pubkey_jwk_out, cct_err *err)
{
	composite *c = ctx;
	cct_token_verify_opts vo;
	json_t *claims = NULL;
	int rc;

	*claims_json_out = *tee_pubkey_jwk_out = NULL;
	memset(&vo, 0, sizeof(vo));
	vo.jwks = c->jwks;
	vo.at = (time_t)now;
	rc = cct_token_verify(&claims, token, strlen(token), &vo, err);
	if (rc == CCT_OK)
		rc = claims_out(claims_json_out, tee_pubkey_jwk_out, NULL, claims, err);
	json_decref(claims);
	pthread_mutex_lock(&c->lock);
	if (rc == CCT_OK)
		c->m.token_ok++;
	else
		c->m.token_bad++;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static int composite_policy_check(void *ctx, const char *policy, size_t len, cct_err *err)
{
	cct_policy *p = NULL;
	int rc;

	(void)ctx;
	rc = cct_policy_load(&p, policy, len, err);
	cct_policy_free(p);
	return rc;
}

static char *composite_jwks(void *ctx)
{
	composite *c = ctx;

	return dup_or_null(c->jwks_text);
}

/* Files in the collateral cache (nftw: no global state needed, count through a static in a
 * lock-protected walk). */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;
static long walk_count;

static int count_file(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p;
	(void)st;
	(void)f;
	if (flag == FTW_F)
		walk_count++;
	return 0;
}

static long collateral_entries(const char *dir)
{
	long n;

	if (!dir)
		return -1;
	pthread_mutex_lock(&walk_lock);
	walk_count = 0;
	n = nftw(dir, count_file, FTW_MAX_FDS, FTW_PHYS) == 0 ? walk_count : -1;
	pthread_mutex_unlock(&walk_lock);
	return n;
}

static char *composite_metrics(void *ctx)
{
	composite *c = ctx;
	char *buf = NULL;
	size_t len = 0, i, s;
	FILE *f = open_memstream(&buf, &len);
	long entries = c->bundle ? -1 : collateral_entries(c->collateral_dir);

	if (!f)
		return NULL;
	pthread_mutex_lock(&c->lock);
	fprintf(f, "# HELP cctrustd_verifier_results_total Composite appraisals by result.\n"
		   "# TYPE cctrustd_verifier_results_total counter\n");
	for (i = 0; i < V_NRESULTS; i++)
		for (s = 0; s < 2; s++)
			fprintf(f, "cctrustd_verifier_results_total{result=\"%s\",simulated=\"%s\"} "
				   "%llu\n", result_names[i], s ? "true" : "false",
				(unsigned long long)c->m.results[i][s]);
	fprintf(f, "# HELP cctrustd_verifier_seconds Composite verification time (evidence, "
		   "binding, policy, token signing; no HTTP, no store).\n"
		   "# TYPE cctrustd_verifier_seconds histogram\n");
	for (i = 0; i < VNBUCKETS; i++)
		fprintf(f, "cctrustd_verifier_seconds_bucket{le=\"%g\"} %llu\n", vlat_buckets[i],
			(unsigned long long)c->m.lat_bucket[i]);
	fprintf(f, "cctrustd_verifier_seconds_bucket{le=\"+Inf\"} %llu\n"
		   "cctrustd_verifier_seconds_sum %.6f\ncctrustd_verifier_seconds_count %llu\n",
		(unsigned long long)c->m.lat_count, c->m.lat_sum, (unsigned long long)c->m.lat_count);
	fprintf(f, "# TYPE cctrustd_bearer_tokens_total counter\n"
		   "cctrustd_bearer_tokens_total{result=\"valid\"} %llu\n"
		   "cctrustd_bearer_tokens_total{result=\"rejected\"} %llu\n",
		(unsigned long long)c->m.token_ok, (unsigned long long)c->m.token_bad);
	{
		unsigned long hits, fetches;

		cct_collateral_stats(&hits, &fetches);
		fprintf(f, "# HELP cctrustd_collateral_cache_hits_total Collateral served from a "
			   "cache or offline directory (VCEK, CRL, TDX collateral, RIM, OCSP).\n"
			   "# TYPE cctrustd_collateral_cache_hits_total counter\n"
			   "cctrustd_collateral_cache_hits_total %lu\n"
			   "# HELP cctrustd_collateral_network_requests_total Collateral requests "
			   "that went to the network.\n"
			   "# TYPE cctrustd_collateral_network_requests_total counter\n"
			   "cctrustd_collateral_network_requests_total %lu\n",
			hits, fetches);
	}
	if (entries >= 0) {
		long fetched = entries - c->m.coll_entries_at_start;

		fprintf(f, "# HELP cctrustd_collateral_cache_entries Files in the collateral cache "
			   "(--collateral).\n# TYPE cctrustd_collateral_cache_entries gauge\n"
			   "cctrustd_collateral_cache_entries %ld\n"
			   "# HELP cctrustd_collateral_cache_fetched Entries fetched into the cache since "
			   "start (cache misses that went to the network).\n"
			   "# TYPE cctrustd_collateral_cache_fetched gauge\n"
			   "cctrustd_collateral_cache_fetched %ld\n",
			entries, fetched > 0 ? fetched : 0);
	}
	if (c->bundle) {
		/* freshness of the bundle as its manifest states it (`cctrust collateral check`
		 * verifies signatures and chains): items, expired ones, time to the next deadline */
		const cct_coll_snap *sn = cct_coll_live_acquire(c->bundle);
		const cct_coll_manifest *m = cct_coll_bundle_manifest(sn->bundle);
		time_t now = time(NULL), next = 0;
		size_t expired = 0;
		unsigned long ok, failed;

		for (i = 0; m && i < m->count; i++) {
			const cct_coll_item *it = &m->items[i];
			time_t d = it->next_update && (!it->not_after || it->next_update < it->not_after)
					   ? it->next_update
					   : it->not_after;

			if (!d)
				continue;
			if (d <= now)
				expired++;
			if (!next || d < next)
				next = d;
		}
		fprintf(f, "# HELP cctrustd_collateral_bundle_items Items in the collateral bundle "
			   "(--collateral BUNDLE).\n# TYPE cctrustd_collateral_bundle_items gauge\n"
			   "cctrustd_collateral_bundle_items %zu\n"
			   "# HELP cctrustd_collateral_bundle_expired_items Items past their "
			   "nextUpdate / notAfter now.\n"
			   "# TYPE cctrustd_collateral_bundle_expired_items gauge\n"
			   "cctrustd_collateral_bundle_expired_items %zu\n"
			   "# HELP cctrustd_collateral_bundle_next_deadline_seconds Seconds until the "
			   "earliest nextUpdate / notAfter of any item (negative: already past).\n"
			   "# TYPE cctrustd_collateral_bundle_next_deadline_seconds gauge\n"
			   "cctrustd_collateral_bundle_next_deadline_seconds %lld\n",
			m ? m->count : 0, expired, next ? (long long)(next - now) : 0LL);
		cct_coll_live_stats(c->bundle, &ok, &failed);
		fprintf(f, "# HELP cctrustd_collateral_bundle_loaded_timestamp_seconds When the "
			   "bundle in use was opened (start-up or the last successful reload).\n"
			   "# TYPE cctrustd_collateral_bundle_loaded_timestamp_seconds gauge\n"
			   "cctrustd_collateral_bundle_loaded_timestamp_seconds %lld\n"
			   "# HELP cctrustd_collateral_bundle_reloads_total Bundle reloads (SIGHUP, "
			   "--collateral-reload): swapped in, or refused (the previous bundle stays).\n"
			   "# TYPE cctrustd_collateral_bundle_reloads_total counter\n"
			   "cctrustd_collateral_bundle_reloads_total{result=\"ok\"} %lu\n"
			   "cctrustd_collateral_bundle_reloads_total{result=\"failed\"} %lu\n",
			(long long)sn->loaded_at, ok, failed);
		cct_coll_live_release(c->bundle, sn);
	}
	pthread_mutex_unlock(&c->lock);
	fclose(f);
	return buf;
}

static void composite_free(void *ctx)
{
	composite *c = ctx;

	if (!c)
		return;
	cct_token_signer_free(c->signer);
	cct_policy_free(c->default_policy);
	json_decref(c->jwks);
	free(c->jwks_text);
	free(c->trust_sim_dir);
	free(c->collateral_dir);
	if (c->own_bundle)
		cct_coll_live_free(c->bundle);
	free(c->certs_path);
	free(c->issuer);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int cct_kbs_verifier_composite_new(cct_kbs_verifier **out, const cct_kbs_composite_config *cfg,
				   cct_err *err)
{
	cct_kbs_verifier *v = NULL;
	composite *c = NULL;
	int rc = CCT_ERROR;

	*out = NULL;
	if (!cfg || !cfg->signing_key_pem) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				 "composite verifier needs a token signing key");
		goto out;
	}
	v = calloc(1, sizeof(*v));
	c = calloc(1, sizeof(*c));
	if (!v || !c) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	pthread_mutex_init(&c->lock, NULL);
	if ((rc = cct_token_signer_load_pem(&c->signer, (const uint8_t *)cfg->signing_key_pem,
					    strlen(cfg->signing_key_pem), err)) != CCT_OK)
		goto out;
	if (cfg->token_cert_pem &&
	    (rc = cct_token_signer_set_x5c(c->signer, cfg->token_cert_pem, err)) != CCT_OK)
		goto out;
	rc = cfg->default_policy
		     ? cct_policy_load(&c->default_policy, cfg->default_policy,
				       strlen(cfg->default_policy), err)
		     : cct_policy_default(&c->default_policy, err);
	if (rc != CCT_OK)
		goto out;
	c->jwks = cct_token_signer_jwks(c->signer);
	c->jwks_text = c->jwks ? json_dumps(c->jwks, JSON_COMPACT) : NULL;
	c->trust_sim_dir = dup_or_null(cfg->trust_sim_dir);
	c->collateral_dir = dup_or_null(cfg->collateral_dir);
	c->certs_path = dup_or_null(cfg->certs_path);
	c->issuer = dup_or_null(cfg->issuer);
	if (!c->jwks_text || (cfg->trust_sim_dir && !c->trust_sim_dir) ||
	    (cfg->collateral_dir && !c->collateral_dir) || (cfg->certs_path && !c->certs_path) ||
	    (cfg->issuer && !c->issuer)) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (cfg->collateral_live) {
		c->bundle = cfg->collateral_live; /* the caller's, reloaded by the caller */
	} else if (c->collateral_dir && cct_coll_is_bundle(c->collateral_dir)) {
		/* a collateral bundle (docs/collateral.md) is opened once, not per attestation (a
		 * .tar would be read whole each time), and read-only from then on */
		rc = cct_coll_live_open(&c->bundle, c->collateral_dir, err);
		if (rc != CCT_OK)
			goto out;
		c->own_bundle = 1;
	}
	c->offline = cfg->offline;
	c->token_ttl_s = cfg->token_ttl_s;
	c->m.coll_entries_at_start = c->bundle ? 0 : collateral_entries(c->collateral_dir);
	v->ctx = c;
	v->attest = composite_attest;
	v->attest_parsed = composite_attest_parsed;
	v->attest_parsed_also = composite_attest_also;
	v->token_verify = composite_token_verify;
	v->jwks = composite_jwks;
	v->metrics = composite_metrics;
	v->policy_check = composite_policy_check;
	v->free_ctx = composite_free;
	*out = v;
	v = NULL;
	c = NULL;
	rc = CCT_OK;
out:
	composite_free(c);
	free(v);
	return rc;
}
