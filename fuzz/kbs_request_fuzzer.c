/* Every HTTP request body parser of cctrustd, through the real handler where one exists.
 * The first byte picks the target; the rest is the body:
 *   0 auth, 1 attest (server), 2 attest (composite verifier, offline), 3 resource-policy,
 *   4 attestation-policy, 5 reference-value, 6 resource policy / claims evaluation,
 *   7 CSR (workload certificate), 8 JOSE (JWE, JWS, JWK), 9 resource path,
 *   10 bearer token, 11 admin JWT, 12 session cookie (the sealed challenge, at /attest and a
 *   resource request), 13 a broker's /metrics text as `cctrust kbs bench` reads it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "cctrust/core.h"
#include "cctrust/kbs.h"
#include "cctrust/store.h"
#include "cctrust/token.h"
#include "token/jose.h"
#include "kbs/kbs_int.h"

static cct_kbs_server *srv;
static cct_kbs_verifier *ver;
static cct_store *store;
static char cookie[CCT_STORE_MAX_CHALLENGE + 1], admin_auth[2048];
static EVP_PKEY *ec_key, *tee_pub;
static cct_kbs_ca *ca;
static const char claims[] = "{\"submods\":{\"cpu0\":{\"ear.status\":\"affirming\","
			     "\"x\":[1,{\"y\":\"z\"}]}}}";

static void init(void)
{
	char dir[] = "/tmp/cct-fuzz-kbs.XXXXXX", p[256], *tok = NULL, *pub = NULL;
	uint8_t mk[32] = { 1 };
	EVP_PKEY *adm = cct_jose_keygen("Ed25519");
	BIO *b = BIO_new(BIO_s_mem());
	cct_kbs_config cfg;
	cct_kbs_request q;
	cct_kbs_response r;
	long n;
	char *bp = NULL, *c;

	if (!mkdtemp(dir) || !adm || !b)
		abort();
	{
		cct_kbs_composite_config cc;
		cct_token_signer *ts = NULL;
		char *pem;

		if (cct_token_signer_generate(&ts, NULL))
			abort();
		pem = cct_token_signer_pem(ts);
		memset(&cc, 0, sizeof(cc));
		cc.signing_key_pem = pem;
		cc.offline = 1;
		if (cct_kbs_verifier_composite_new(&ver, &cc, NULL))
			abort();
		cct_wipe(pem, strlen(pem));
		free(pem);
		cct_token_signer_free(ts);
	}
	if (cct_store_open(&store, "sqlite::memory:", mk, NULL))
		abort();
	PEM_write_bio_PUBKEY(b, adm);
	n = BIO_get_mem_data(b, &bp);
	pub = strndup(bp, (size_t)n);
	snprintf(p, sizeof(p), "%s/admin.key", dir);
	cct_jose_pem_write(p, adm, 1, NULL);
	if (cct_kbs_admin_token(&tok, p, "admin", (int64_t)time(NULL), 3600, NULL))
		abort();
	snprintf(admin_auth, sizeof(admin_auth), "Bearer %s", tok);
	free(tok);
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = store;
	cfg.verifier = ver;
	cfg.admin_pubkey_pem = pub;
	if (cct_kbs_server_new(&srv, &cfg, NULL))
		abort();
	free(pub);
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.path = "/kbs/v0/auth";
	q.body = (const uint8_t *)"{\"version\":\"0.4.0\",\"tee\":\"snp\"}";
	q.body_len = strlen((const char *)q.body);
	cct_kbs_handle(srv, &q, &r);
	c = strstr(r.set_cookie, "kbs-session-id=");
	if (c)
		snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(c + 15, ";"), c + 15);
	cct_kbs_response_clear(&r);
	ec_key = cct_jose_keygen("P-256");
	tee_pub = ec_key;
	if (cct_kbs__ca_new(&ca, NULL, NULL, NULL))
		abort();
	BIO_free(b);
	EVP_PKEY_free(adm);
	/* keys are in memory now: leave nothing behind in /tmp */
	{
		static const char *const files[] = { "admin.key" };
		size_t i;

		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
			remove(p);
		}
		remove(dir);
	}
}

static void handle(const char *method, const char *path, const char *ck, const char *auth,
		   const uint8_t *body, size_t n)
{
	cct_kbs_request q;
	cct_kbs_response r;

	memset(&q, 0, sizeof(q));
	q.method = method;
	q.path = path;
	q.cookie = ck;
	q.authorization = auth;
	q.body = body;
	q.body_len = n;
	cct_kbs_handle(srv, &q, &r);
	cct_kbs_response_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *s, *t = NULL, *c = NULL, *k = NULL;
	uint8_t *pt = NULL;
	size_t n = size ? size - 1 : 0, ptn = 0;
	const uint8_t *body = data + 1;
	json_t *h = NULL, *pl = NULL;
	EVP_PKEY *key = NULL;

	if (!ready) {
		init();
		ready = 1;
	}
	if (size == 0)
		return 0;
	s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, body, n);
	s[n] = 0;
	switch (data[0] % 14) {
	case 0: handle("POST", "/kbs/v0/auth", NULL, NULL, body, n); break;
	case 1: handle("POST", "/kbs/v0/attest", cookie, NULL, body, n); break;
	case 2:
		ver->attest(ver->ctx, "snp", s, n, "bm9uY2U=", NULL, 0, &t, &c, &k, NULL);
		free(t);
		free(c);
		free(k);
		t = c = k = NULL;
		ver->attest(ver->ctx, "snp", s, n, "bm9uY2U=", s, 0, &t, &c, &k, NULL);
		break;
	case 3: handle("POST", "/kbs/v0/resource-policy", NULL, admin_auth, body, n); break;
	case 4: handle("POST", "/kbs/v0/attestation-policy", NULL, admin_auth, body, n); break;
	case 5: handle("POST", "/kbs/v0/reference-value", NULL, admin_auth, body, n); break;
	case 6:
		cct_kbs_policy_check(s, n, NULL);
		cct_kbs_policy_eval(s, claims, "a/b/c", NULL);
		cct_kbs_policy_eval(NULL, s, "a/b/c", NULL);
		break;
	case 7: cct_kbs__ca_issue(&t, ca, body, n, tee_pub, claims, 1800000000, 60, NULL); break;
	case 8:
		cct_jose_jwe_decrypt(&pt, &ptn, s, n, ec_key, NULL);
		cct_jose_jws_peek(&h, &pl, s, NULL);
		cct_jose_jwk_text_to_pkey(&key, s, NULL);
		break;
	case 9: {
		char path[1200];

		snprintf(path, sizeof(path), "/kbs/v0/resource/%.1100s", s);
		handle("GET", path, cookie, NULL, NULL, 0);
		handle("GET", s, NULL, NULL, NULL, 0);
		break;
	}
	case 10: {
		char *a = malloc(n + 8);

		if (a) {
			sprintf(a, "Bearer %s", s);
			handle("GET", "/kbs/v0/resource/a/b/c", NULL, a, NULL, 0);
			handle("POST", "/kbs/v0/cert", NULL, a, body, n);
			free(a);
		}
		break;
	}
	case 13: {
		double sum[4];
		long count[4];

		cct_kbs__metrics_cpu_parse(s, sum, count);
		break;
	}
	case 12: {
		cct_store_session ch;

		cct_store_challenge_open(store, s, &ch, NULL);
		handle("POST", "/kbs/v0/attest", s, NULL, (const uint8_t *)"{}", 2);
		handle("GET", "/kbs/v0/resource/a/b/c", s, NULL, NULL, 0);
		break;
	}
	default: {
		char *a = malloc(n + 8);

		if (a) {
			sprintf(a, "Bearer %s", s);
			handle("GET", "/kbs/v0/audit", NULL, a, NULL, 0);
			free(a);
		}
		break;
	}
	}
	free(s);
	free(t);
	free(c);
	free(k);
	free(pt);
	json_decref(h);
	json_decref(pl);
	EVP_PKEY_free(key);
	return 0;
}
