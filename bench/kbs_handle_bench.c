#define _POSIX_C_SOURCE 200809L
/* The broker's own cost per guest flow, in process and on one thread, next to the composite
 * verification of the same evidence measured in the same loop:
 *   kbs_handle_bench [-n FLOWS] [--gpus N] [--tee snp|tdx] [--dir TMPDIR] [--warmup N]
 *                    [--extra-policies K]
 * Each flow goes through cct_kbs_handle exactly as cctrustd serves it (auth, attest with fresh
 * simulated evidence bound to the session's nonce, resource release as a JWE), on a SQLite store
 * with the usual durability; then the same attest body is verified once more by
 * cct_composite_verify with EAR signing, which is what `cctrust kbs verify-bench` calls the
 * limit. Building the evidence (the guest's work) is not timed. Times are this thread's CPU
 * time, so the ratio is the broker's overhead per core, free of HTTP and of the load generator;
 * interleaving the two measurements keeps the ratio steady on a shared machine.
 * --extra-policies K stores K more attestation policies (per repository, as an operator with
 * per-resource policies would): an attest judges its evidence under each of them too.
 * Prints one JSON object. Exit 0, or 2 when the set-up or a flow fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cctrust/attester.h"
#include "cctrust/composite.h"
#include "cctrust/core.h"
#include "cctrust/kbs.h"
#include "cctrust/policy.h"
#include "cctrust/sim.h"
#include "cctrust/store.h"
#include "cctrust/token.h"
#include "token/jose.h"

#define RES_POLICY                                                                          \
	"{\"version\":1,\"allow_simulated\":true,\"rules\":[{\"name\":\"bench\","            \
	"\"resources\":[\"bench/*/*\"],\"require\":[{\"all_submods\":\"affirming\"}]}]}"

typedef struct bench {
	cct_store *store;
	cct_kbs_verifier *ver;
	cct_kbs_server *srv;
	char *admin_bearer;
	char dir[512], sim[600];
} bench;

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int handle(bench *b, cct_kbs_response *r, const char *method, const char *path,
		  const char *cookie, const char *auth, const char *body)
{
	cct_kbs_request q;

	memset(&q, 0, sizeof(q));
	memset(r, 0, sizeof(*r));
	q.method = method;
	q.path = path;
	q.cookie = cookie;
	q.authorization = auth;
	q.peer = "127.0.0.1";
	q.body = (const uint8_t *)body;
	q.body_len = body ? strlen(body) : 0;
	return cct_kbs_handle(b->srv, &q, r);
}

static int admin_post(bench *b, const char *path, const char *json_body)
{
	cct_kbs_response r;
	int st = handle(b, &r, "POST", path, NULL, b->admin_bearer, json_body);

	if (st != 200)
		fprintf(stderr, "kbs_handle_bench: %s: %d %s\n", path, st, r.body ? r.body : "");
	cct_kbs_response_clear(&r);
	return st == 200 ? 0 : -1;
}

static int admin_policy(bench *b, const char *path, const char *pol, const char *extra)
{
	char *b64 = cct_b64_encode((const uint8_t *)pol, strlen(pol), 0), body[4096];
	int rc;

	if (!b64)
		return -1;
	snprintf(body, sizeof(body), "{\"policy\":\"%s\"%s}", b64, extra);
	rc = admin_post(b, path, body);
	free(b64);
	return rc;
}

static int setup(bench *b, const char *tmp, long extra_policies, cct_err *err)
{
	uint8_t mk[32];
	char url[700], pub[600], key[600], *pem = NULL, *tok = NULL;
	cct_kbs_composite_config cc;
	cct_token_signer *ts = NULL;
	cct_kbs_config cfg;
	EVP_PKEY *k;
	uint8_t *pubpem = NULL;
	size_t pn = 0;
	int rc;

	snprintf(b->dir, sizeof(b->dir), "%s/cct-kbs-handle-bench.XXXXXX", tmp);
	if (!mkdtemp(b->dir))
		return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "mkdtemp %s failed", b->dir);
	snprintf(b->sim, sizeof(b->sim), "%s/sim", b->dir);
	if ((rc = cct_sim_init(b->sim, err)) != CCT_OK)
		return rc;
	snprintf(pub, sizeof(pub), "%s/admin.pub", b->dir);
	snprintf(key, sizeof(key), "%s/admin.key", b->dir);
	k = cct_jose_keygen("Ed25519");
	if (!k || cct_jose_pem_write(pub, k, 0, err) != CCT_OK ||
	    cct_jose_pem_write(key, k, 1, err) != CCT_OK ||
	    cct_kbs_admin_token(&tok, key, "admin", (int64_t)time(NULL), 3600, err) != CCT_OK) {
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "admin key: %s", err->msg);
	}
	EVP_PKEY_free(k);
	b->admin_bearer = malloc(strlen(tok) + 8);
	if (!b->admin_bearer)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	sprintf(b->admin_bearer, "Bearer %s", tok);
	free(tok);
	if ((rc = cct_file_read(&pubpem, &pn, pub, 0, err)) != CCT_OK)
		return rc;
	if (RAND_bytes(mk, sizeof(mk)) != 1)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "no randomness");
	snprintf(url, sizeof(url), "sqlite:%s/db", b->dir);
	if ((rc = cct_store_open(&b->store, url, mk, err)) != CCT_OK ||
	    (rc = cct_token_signer_generate(&ts, err)) != CCT_OK)
		return rc;
	pem = cct_token_signer_pem(ts);
	memset(&cc, 0, sizeof(cc));
	cc.signing_key_pem = pem;
	cc.trust_sim_dir = b->sim;
	cc.offline = 1;
	rc = cct_kbs_verifier_composite_new(&b->ver, &cc, err);
	cct_wipe(pem, strlen(pem));
	free(pem);
	cct_token_signer_free(ts);
	if (rc != CCT_OK)
		return rc;
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = b->store;
	cfg.verifier = b->ver;
	cfg.admin_pubkey_pem = (const char *)pubpem;
	cfg.session_ttl_s = 300;
	rc = cct_kbs_server_new(&b->srv, &cfg, err);
	free(pubpem);
	if (rc != CCT_OK)
		return rc;
	if (admin_policy(b, "/kbs/v0/attestation-policy", "{\"version\":\"cctrust.policy/v1\"}",
			 ",\"policy_id\":\"default\"") ||
	    admin_policy(b, "/kbs/v0/resource-policy", RES_POLICY, "") ||
	    admin_post(b, "/kbs/v0/resource/bench/key/model", "0123456789abcdef0123456789abcdef"))
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "admin set-up refused");
	for (; extra_policies > 0; extra_policies--) {
		char id[64];

		snprintf(id, sizeof(id), ",\"policy_id\":\"repo%ld\"", extra_policies);
		if (admin_policy(b, "/kbs/v0/attestation-policy",
				 "{\"version\":\"cctrust.policy/v1\"}", id))
			return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
					   "admin set-up refused (extra policy)");
	}
	return CCT_OK;
}

/* One composite verification of body with EAR signing, its thread CPU time added to *t when
 * timed: 200, or 0 when it fails. */
static int limit_verify(double *t, int timed, const char *body, const uint8_t *nonce,
			size_t nonce_len, const char *tee, const char *sim, const cct_policy *pol,
			cct_token_signer *signer)
{
	cct_composite_opts vo;
	cct_composite_result cr;
	double t0;
	int st;

	memset(&vo, 0, sizeof(vo));
	vo.expected_nonce = nonce;
	vo.expected_nonce_len = nonce_len;
	vo.tee_hint = tee;
	vo.trust_sim_dir = sim;
	vo.offline = 1;
	t0 = cpu_s();
	st = cct_composite_verify(&cr, (const uint8_t *)body, strlen(body), pol, &vo, signer) ==
			     CCT_OK
		     ? 200
		     : 0;
	if (st != 200)
		fprintf(stderr, "kbs_handle_bench: composite: %s\n", cr.err.msg);
	/* freeing the result is part of a verification, as in verify-bench */
	cct_composite_result_clear(&cr);
	*t += timed ? cpu_s() - t0 : 0;
	return st;
}

int main(int argc, char **argv)
{
	static bench b;
	cct_sim_opts so;
	cct_attester_opts ao;
	cct_policy *pol = NULL;
	cct_token_signer *signer = NULL;
	cct_kbs_response r;
	cct_err err;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", *tee = "snp";
	long flows = 200, warmup = 2, extra = 0, i;
	int gpus = 1, a, ex = 2;
	double t_auth = 0, t_attest = 0, t_res = 0, t_comp = 0, t0;
	char cmd[700];

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-n") && a + 1 < argc)
			flows = atol(argv[++a]);
		else if (!strcmp(argv[a], "--gpus") && a + 1 < argc)
			gpus = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--tee") && a + 1 < argc)
			tee = argv[++a];
		else if (!strcmp(argv[a], "--dir") && a + 1 < argc)
			tmp = argv[++a];
		else if (!strcmp(argv[a], "--warmup") && a + 1 < argc)
			warmup = atol(argv[++a]);
		else if (!strcmp(argv[a], "--extra-policies") && a + 1 < argc)
			extra = atol(argv[++a]);
		else {
			fprintf(stderr, "usage: kbs_handle_bench [-n FLOWS] [--gpus N] [--tee snp|tdx] "
					"[--dir TMPDIR] [--warmup N] [--extra-policies K]\n");
			return 2;
		}
	}
	if (flows < 1 || flows > 100000 || gpus < 0 || gpus > 8 || warmup < 0 || warmup > 100 ||
	    extra < 0 || extra > 16) {
		fprintf(stderr, "kbs_handle_bench: -n 1..100000, --gpus 0..8, --warmup 0..100, "
				"--extra-policies 0..16\n");
		return 2;
	}
	if (setup(&b, tmp, extra, &err) != CCT_OK || cct_policy_default(&pol, &err) != CCT_OK ||
	    cct_token_signer_generate(&signer, &err) != CCT_OK) {
		fprintf(stderr, "kbs_handle_bench: set-up: %s\n", err.msg);
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.tee = tee;
	so.gpus = gpus;
	/* the first flows fill the process's caches (verified RIMs, chains, OCSP, prepared
	 * statements) for the broker only, since it runs first: they are not timed */
	for (i = -warmup; i < flows; i++) {
		char cookie[512] = "", *p, *body = NULL;
		const char *nonce;
		json_t *j, *jwk;
		EVP_PKEY *k = cct_jose_keygen("P-256");
		uint8_t *nb = NULL;
		size_t nn = 0;
		int st;

		/* auth */
		t0 = cpu_s();
		st = handle(&b, &r, "POST", "/kbs/v0/auth", NULL, NULL,
			    strcmp(tee, "tdx") ? "{\"version\":\"0.4.0\",\"tee\":\"snp\",\"extra-params\":{}}"
					       : "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"extra-params\":{}}");
		t_auth += i >= 0 ? cpu_s() - t0 : 0;
		p = strstr(r.set_cookie, "kbs-session-id=");
		if (st != 200 || !p || !k) {
			fprintf(stderr, "kbs_handle_bench: auth: %d\n", st);
			cct_kbs_response_clear(&r);
			EVP_PKEY_free(k);
			goto out;
		}
		snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(p + 15, ";"), p + 15);
		j = json_loads(r.body, 0, NULL);
		cct_kbs_response_clear(&r);
		nonce = json_string_value(json_object_get(j, "nonce"));
		/* the guest's evidence (not timed) */
		jwk = cct_jose_pkey_to_jwk(k, "ECDH-ES+A256KW");
		memset(&ao, 0, sizeof(ao));
		ao.nonce_b64 = nonce;
		ao.tee_pubkey = jwk;
		if (!nonce || cct_sim_evidence(&body, b.sim, &ao, &so, &err) != CCT_OK ||
		    cct_b64_decode(&nb, &nn, nonce, strlen(nonce), &err) != CCT_OK) {
			fprintf(stderr, "kbs_handle_bench: evidence: %s\n", err.msg);
			json_decref(j);
			json_decref(jwk);
			EVP_PKEY_free(k);
			free(body);
			goto out;
		}
		/* the limit: the same body, verified and signed in process; before the broker on odd
		 * flows and after it on even ones, so neither side always finds the other's data in
		 * the caches */
		st = i & 1 ? limit_verify(&t_comp, i >= 0, body, nb, nn, tee, b.sim, pol, signer) : 200;
		/* attest, then the resource */
		t0 = cpu_s();
		if (st == 200)
			st = handle(&b, &r, "POST", "/kbs/v0/attest", cookie, NULL, body);
		t_attest += i >= 0 ? cpu_s() - t0 : 0;
		if (st != 200)
			fprintf(stderr, "kbs_handle_bench: attest: %d %s\n", st, r.body ? r.body : "");
		cct_kbs_response_clear(&r);
		if (st == 200) {
			t0 = cpu_s();
			st = handle(&b, &r, "GET", "/kbs/v0/resource/bench/key/model", cookie, NULL,
				    NULL);
			t_res += i >= 0 ? cpu_s() - t0 : 0;
			if (st != 200)
				fprintf(stderr, "kbs_handle_bench: resource: %d %s\n", st,
					r.body ? r.body : "");
			cct_kbs_response_clear(&r);
		}
		/* the limit after the broker on even flows */
		if (st == 200 && !(i & 1))
			st = limit_verify(&t_comp, i >= 0, body, nb, nn, tee, b.sim, pol, signer);
		free(nb);
		free(body);
		json_decref(jwk);
		json_decref(j);
		EVP_PKEY_free(k);
		if (st != 200)
			goto out;
	}
	printf("{\"tee\":\"%s\",\"gpus\":%d,\"extra_policies\":%ld,\"flows\":%ld,"
	       "\"broker_ms_per_flow\":%.3f,"
	       "\"auth_ms\":%.3f,\"attest_ms\":%.3f,\"resource_ms\":%.3f,"
	       "\"composite_verify_ms\":%.3f,\"broker_over_composite\":%.2f,"
	       "\"attest_over_composite\":%.2f}\n",
	       tee, gpus, extra, flows, (t_auth + t_attest + t_res) * 1e3 / (double)flows,
	       t_auth * 1e3 / (double)flows, t_attest * 1e3 / (double)flows,
	       t_res * 1e3 / (double)flows, t_comp * 1e3 / (double)flows,
	       (t_auth + t_attest + t_res) / t_comp, t_attest / t_comp);
	ex = 0;
out:
	cct_kbs_server_free(b.srv);
	cct_kbs_verifier_free(b.ver);
	cct_store_free(b.store);
	cct_policy_free(pol);
	cct_token_signer_free(signer);
	free(b.admin_bearer);
	if (b.dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "kbs_handle_bench: could not remove %s\n", b.dir);
	}
	return ex;
}
