/* KBS protocol 0.4.0 in-process: the exact server logic of cctrustd (cct_kbs_handle) with a
 * SQLite store, the production composite verifier over simulated SNP evidence (`cctrust sim`),
 * a fake clock, the simulated TEE, and a lying test verifier at the seam. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/attester.h"
#include "cctrust/sim.h"
#include "cctrust/kbs.h"
#include "cctrust/composite.h"
#include "kbs/kbs_int.h"
#include "token/jose.h"

#define COOKIE_MAX (CCT_STORE_MAX_CHALLENGE + 1)

typedef struct fx {
	cct_store *store;
	cct_kbs_verifier *ver;
	cct_kbs_server *srv;
	int64_t now;
	char dir[400], sim[512], admin_key[512], other_key[512];
	char *admin_pub;
} fx;

static int64_t clock_of(void *ctx)
{
	return ((fx *)ctx)->now;
}

static char *slurp(const char *p)
{
	uint8_t *b = NULL;
	size_t n = 0;

	assert_int_equal(cct_file_read(&b, &n, p, 0, NULL), CCT_OK);
	return (char *)b;
}

static int setup(void **state)
{
	static int seq;
	fx *f = calloc(1, sizeof(*f));
	uint8_t mk[32];
	cct_kbs_config cfg;
	char url[600], pub[600];
	EVP_PKEY *k;
	cct_err err;

	snprintf(f->dir, sizeof(f->dir), "%s/kbs%d", cct_test_tmpdir(), seq++);
	snprintf(f->sim, sizeof(f->sim), "%s/sim", f->dir);
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(cct_sim_init(f->sim, &err), CCT_OK);
	snprintf(f->admin_key, sizeof(f->admin_key), "%s/admin.key", f->dir);
	snprintf(pub, sizeof(pub), "%s/admin.pub", f->dir);
	k = cct_jose_keygen("Ed25519");
	assert_int_equal(cct_jose_pem_write(f->admin_key, k, 1, NULL), CCT_OK);
	assert_int_equal(cct_jose_pem_write(pub, k, 0, NULL), CCT_OK);
	EVP_PKEY_free(k);
	snprintf(f->other_key, sizeof(f->other_key), "%s/other.key", f->dir);
	k = cct_jose_keygen("Ed25519");
	assert_int_equal(cct_jose_pem_write(f->other_key, k, 1, NULL), CCT_OK);
	EVP_PKEY_free(k);
	f->admin_pub = slurp(pub);
	memset(mk, 7, sizeof(mk));
	snprintf(url, sizeof(url), "sqlite:%s/db", f->dir);
	assert_int_equal(cct_store_open(&f->store, url, mk, &err), CCT_OK);
	{
		cct_kbs_composite_config cc;
		cct_token_signer *ts = NULL;
		char *pem;

		assert_int_equal(cct_token_signer_generate(&ts, &err), CCT_OK);
		pem = cct_token_signer_pem(ts);
		memset(&cc, 0, sizeof(cc));
		cc.signing_key_pem = pem;
		cc.trust_sim_dir = f->sim;
		cc.offline = 1;
		if (cct_kbs_verifier_composite_new(&f->ver, &cc, &err) != CCT_OK)
			fail_msg("composite verifier: %s", err.msg);
		cct_wipe(pem, strlen(pem));
		free(pem);
		cct_token_signer_free(ts);
	}
	f->now = (int64_t)time(NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = f->store;
	cfg.verifier = f->ver;
	cfg.admin_pubkey_pem = f->admin_pub;
	cfg.session_ttl_s = 300;
	cfg.now = clock_of;
	cfg.now_ctx = f;
	assert_int_equal(cct_kbs_server_new(&f->srv, &cfg, &err), CCT_OK);
	*state = f;
	return 0;
}

/* A tee-pubkey is a point on its curve: one changed coordinate byte is refused (the quick
 * public-key check is all a cofactor-1 curve needs), the genuine key accepted. */
static void jwk_points_off_curve_refused(void **state)
{
	static const char *const kinds[] = { "P-256", "P-384", "P-521" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		EVP_PKEY *k = cct_jose_keygen(kinds[i]), *back = NULL;
		json_t *jwk = cct_jose_pkey_to_jwk(k, NULL);
		uint8_t *y = NULL;
		size_t yn = 0;
		char *y2;
		cct_err err;

		assert_int_equal(cct_jose_jwk_to_pkey(&back, jwk, &err), CCT_OK);
		/* the point imported (into a copy of the curve's template) is this key's */
		assert_int_equal(EVP_PKEY_eq(back, k), 1);
		assert_int_equal(EVP_PKEY_get_bits(back), EVP_PKEY_get_bits(k));
		EVP_PKEY_free(back);
		back = NULL;
		assert_int_equal(cct_jose_b64url_decode(&y, &yn, json_string_value(json_object_get(jwk, "y")),
							strlen(json_string_value(json_object_get(jwk, "y"))),
							NULL),
				 CCT_OK);
		y[yn - 1] ^= 1;
		y2 = cct_jose_b64url(y, yn);
		json_object_set_new(jwk, "y", json_string(y2));
		assert_int_equal(cct_jose_jwk_to_pkey(&back, jwk, &err), CCT_EFORMAT);
		assert_null(back);
		free(y);
		free(y2);
		json_decref(jwk);
		EVP_PKEY_free(k);
	}
}

/* Detached content: a token detaches only from its own payload, exactly as encoded, and
 * attaching gives back the very same token. */
static void jws_detach_attach_round_trip(void **state)
{
	const char *tok = "eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln", *d2;
	char *d, *back;

	(void)state;
	d = cct_jose_jws_detach(tok, "{\"a\":1}");
	assert_non_null(d);
	assert_string_equal(d, "eyJhbGciOiJFUzI1NiJ9..c2ln");
	back = cct_jose_jws_attach(d, strlen(d), "{\"a\":1}");
	assert_non_null(back);
	assert_string_equal(back, tok);
	free(back);
	/* another payload, a payload segment that decodes alike but is not the encoder's (the
	 * last character's spare bits set), not three parts: not detached */
	assert_null(cct_jose_jws_detach(tok, "{\"a\":2}"));
	assert_null(cct_jose_jws_detach("eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfR.c2ln", "{\"a\":1}"));
	assert_null(cct_jose_jws_detach("eyJhIjoxfQ.c2ln", "{\"a\":1}"));
	/* only the detached form attaches, and only its n bytes count */
	assert_null(cct_jose_jws_attach(tok, strlen(tok), "{\"a\":1}"));
	d2 = "eyJhbGciOiJFUzI1NiJ9..c2ln.x";
	assert_null(cct_jose_jws_attach(d2, strlen(d2), "{\"a\":1}"));
	back = cct_jose_jws_attach(d2, strlen(d2) - 2, "{\"a\":1}");
	assert_string_equal(back, tok);
	free(back);
	free(d);
}

/* Ephemeral keys come from one context per curve: every call is a new key, on its curve, and
 * a JWE to a key opens with it only. */
static void keygen_fresh_per_call(void **state)
{
	static const char *const kinds[] = { "P-256", "P-384", "P-521" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		EVP_PKEY *a = cct_jose_keygen(kinds[i]), *b = cct_jose_keygen(kinds[i]);
		char *jwe = NULL;
		uint8_t *pt = NULL;
		size_t n = 0;
		cct_err err;

		assert_non_null(a);
		assert_non_null(b);
		assert_int_not_equal(EVP_PKEY_eq(a, b), 1);
		assert_int_equal(EVP_PKEY_get_bits(a), i == 0 ? 256 : i == 1 ? 384 : 521);
		assert_int_equal(cct_jose_jwe_encrypt(&jwe, a, (const uint8_t *)"k", 1, &err), CCT_OK);
		assert_int_not_equal(cct_jose_jwe_decrypt(&pt, &n, jwe, strlen(jwe), b, &err), CCT_OK);
		assert_int_equal(cct_jose_jwe_decrypt(&pt, &n, jwe, strlen(jwe), a, &err), CCT_OK);
		assert_int_equal(n, 1);
		free(pt);
		free(jwe);
		EVP_PKEY_free(a);
		EVP_PKEY_free(b);
	}
}

static void set_policies(void *fp);

/* The usual fixture: an admin set an attestation policy and a resource policy (releases to
 * any affirming guest, simulated ones included, since the tests run on the simulated TEE). */
static int setup_policies(void **state)
{
	int rc = setup(state);

	if (rc == 0)
		set_policies(*state);
	return rc;
}


static int teardown(void **state)
{
	fx *f = *state;

	cct_kbs_server_free(f->srv);
	cct_kbs_verifier_free(f->ver);
	cct_store_free(f->store);
	free(f->admin_pub);
	free(f);
	return 0;
}

/* One request; returns status, fills resp (caller clears). */
static int req(fx *f, cct_kbs_response *r, const char *method, const char *path,
	       const char *cookie, const char *auth, const char *body)
{
	cct_kbs_request q;

	memset(&q, 0, sizeof(q));
	q.method = method;
	q.path = path;
	q.cookie = cookie;
	q.authorization = auth;
	q.peer = "127.0.0.1";
	q.body = (const uint8_t *)body;
	q.body_len = body ? strlen(body) : 0;
	return cct_kbs_handle(f->srv, &q, r);
}

static void assert_problem(const cct_kbs_response *r, const char *type)
{
	json_t *j = json_loads(r->body, 0, NULL);
	const char *t = json_string_value(json_object_get(j, "type"));
	char want[200];

	snprintf(want, sizeof(want), "%s%s", CCT_KBS_ERROR_TYPE_PREFIX, type);
	if (!t || strcmp(t, want))
		fail_msg("expected problem type %s, got %s", type, r->body ? r->body : "(none)");
	assert_non_null(json_object_get(j, "detail"));
	json_decref(j);
}

static char *admin_bearer(const fx *f, const char *key, const char *role, int64_t now, int ttl)
{
	char *tok = NULL, *h;

	(void)f;

	assert_int_equal(cct_kbs_admin_token(&tok, key, role, now, ttl, NULL), CCT_OK);
	h = malloc(strlen(tok) + 8);
	sprintf(h, "Bearer %s", tok);
	free(tok);
	return h;
}

static void put_secret(fx *f, const char *res, const char *secret)
{
	cct_kbs_response r;
	char path[256], *h = admin_bearer(f, f->admin_key, "admin", f->now, 300);

	snprintf(path, sizeof(path), "/kbs/v0/resource/%s", res);
	assert_int_equal(req(f, &r, "POST", path, NULL, h, secret), 200);
	cct_kbs_response_clear(&r);
	free(h);
}

/* auth: returns cookie value (static buffer in *cookie) and the nonce (malloc'd). */
static char *do_auth(fx *f, char cookie[COOKIE_MAX], const char *tee)
{
	cct_kbs_response r;
	char body[128];
	json_t *j;
	char *nonce, *p;

	snprintf(body, sizeof(body), "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":{}}",
		 tee);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/auth", NULL, NULL, body), 200);
	p = strstr(r.set_cookie, "kbs-session-id=");
	assert_non_null(p);
	snprintf(cookie, COOKIE_MAX, "%.*s", (int)strcspn(p + 15, ";"), p + 15);
	j = json_loads(r.body, 0, NULL);
	nonce = strdup(json_string_value(json_object_get(j, "nonce")));
	assert_string_equal(json_string_value(json_object_get(j, "extra-params")), "");
	json_decref(j);
	cct_kbs_response_clear(&r);
	return nonce;
}

static char *jwk_of(EVP_PKEY *k)
{
	json_t *j = cct_jose_pkey_to_jwk(k, EVP_PKEY_is_a(k, "RSA") ? "RSA-OAEP-256"
								    : "ECDH-ES+A256KW");
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

static const char *tee_of(const fx *f)
{
	(void)f;
	return "snp";
}

/* Evidence for nonce / tee-pubkey: simulated SNP through the attester's simulator (what
 * `cctrust kbs get-resource --sim` sends). Returns the status. */
/* so: the simulator's options (TEE, GPUs), or NULL for its defaults */
static int make_evidence_with(const fx *f, char **body, const char *nonce, const char *jwk,
			      const cct_sim_opts *so)
{
	cct_attester_opts ao;
	json_t *pub;
	cct_err err;
	int rc;

	pub = json_loads(jwk, 0, NULL);
	memset(&ao, 0, sizeof(ao));
	ao.nonce_b64 = nonce;
	ao.tee_pubkey = pub;
	rc = cct_sim_evidence(body, f->sim, &ao, so, &err);
	json_decref(pub);
	return rc;
}

static int make_evidence(const fx *f, char **body, const char *nonce, const char *jwk)
{
	return make_evidence_with(f, body, nonce, jwk, NULL);
}

/* Full flow to an attested session; returns the attest status. */
static int attest_with(fx *f, char cookie[COOKIE_MAX], EVP_PKEY *k, char **token_out)
{
	cct_kbs_response r;
	char *nonce = do_auth(f, cookie, tee_of(f)), *jwk = jwk_of(k), *body = NULL;
	int st;

	assert_int_equal(make_evidence(f, &body, nonce, jwk), CCT_OK);
	st = req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body);
	if (token_out && st == 200) {
		json_t *j = json_loads(r.body, 0, NULL);

		*token_out = strdup(json_string_value(json_object_get(j, "token")));
		json_decref(j);
	}
	cct_kbs_response_clear(&r);
	free(nonce);
	free(jwk);
	free(body);
	return st;
}

static int post_json(fx *f, const char *path, const char *body)
{
	cct_kbs_response r;
	char *h = admin_bearer(f, f->admin_key, "admin", f->now, 300);
	int st = req(f, &r, "POST", path, NULL, h, body);

	cct_kbs_response_clear(&r);
	free(h);
	return st;
}

/* POST a policy (text) to path with extra JSON members (", \"resource\": ..." or ""). */
static int post_policy(fx *f, const char *path, const char *pol, const char *extra)
{
	char *b64 = cct_b64_encode((const uint8_t *)pol, strlen(pol), 0), body[4096];
	int st;

	snprintf(body, sizeof(body), "{\"policy\":\"%s\"%s}", b64, extra);
	st = post_json(f, path, body);
	free(b64);
	return st;
}

#define OPEN_RES_POLICY                                                                       \
	"{\"version\":1,\"allow_simulated\":true,\"rules\":[{\"name\":\"any-affirming\","     \
	"\"resources\":[\"*/*/*\"],\"require\":[{\"all_submods\":\"affirming\"}]}]}"

static void set_policies(void *fp)
{
	fx *f = fp;

	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\",\"id\":\"test\"}",
				     ",\"policy_id\":\"default\""), 200);
	assert_int_equal(post_policy(f, "/kbs/v0/resource-policy", OPEN_RES_POLICY, ""), 200);
}

static void flow_releases_secret_wrapped_to_attested_key(void **state, const char *kind)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX];
	EVP_PKEY *k = cct_jose_keygen(kind), *other = cct_jose_keygen(kind);
	uint8_t *pt = NULL;
	size_t n = 0;
	cct_err err;

	put_secret(f, "default/key/model", "model-key-123");
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL, NULL),
			 200);
	assert_null(strstr(r.body, "model-key-123"));
	assert_int_equal(cct_jose_jwe_decrypt(&pt, &n, r.body, r.body_len, k, &err), CCT_OK);
	assert_int_equal(n, 13);
	assert_memory_equal(pt, "model-key-123", 13);
	free(pt);
	/* only the attested private key opens it */
	assert_int_equal(cct_jose_jwe_decrypt(&pt, &n, r.body, r.body_len, other, &err),
			 CCT_ESIGNATURE);
	assert_null(pt);
	cct_kbs_response_clear(&r);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void success_ec(void **state)
{
	flow_releases_secret_wrapped_to_attested_key(state, "P-256");
}

static void success_rsa(void **state)
{
	flow_releases_secret_wrapped_to_attested_key(state, "RSA");
}

/* guest-components offers ECDH-ES+A256KW on P-384 and P-521 too (Trustee's JWE supports them) */
static void success_p384(void **state)
{
	flow_releases_secret_wrapped_to_attested_key(state, "P-384");
}

static void success_p521(void **state)
{
	flow_releases_secret_wrapped_to_attested_key(state, "P-521");
}

/* /auth writes nothing: the challenge travels sealed in the cookie. A cookie altered in one
 * character, or sealed under another master key, is refused at /attest; the genuine one
 * attests, and only then does the session have a row. */
static void session_challenge_sealed(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], bad[COOKIE_MAX], id[65], *nonce = do_auth(f, cookie, tee_of(f));
	char *jwk, *body = NULL, url[64];
	EVP_PKEY *k = cct_jose_keygen("P-256");
	void *impl;
	const cct_store_ops *ops = cct_store_backend(f->store, &impl);
	cct_store_session ss, ch;
	cct_store *other = NULL;
	uint8_t mk2[32];
	cct_err err;

	cct_kbs__sha256_hex(id, cookie, strlen(cookie));
	assert_int_equal(ops->session_get(impl, id, &ss, NULL), CCT_EINVAL);
	assert_int_equal(strncmp(cookie, "c1.", 3), 0);
	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	/* one character changed */
	snprintf(bad, sizeof(bad), "%s", cookie);
	bad[20] = bad[20] == 'A' ? 'B' : 'A';
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", bad, NULL, body), 401);
	assert_non_null(strstr(r.body, "not issued by this broker"));
	cct_kbs_response_clear(&r);
	/* the same challenge sealed under another master key */
	memset(mk2, 9, sizeof(mk2));
	snprintf(url, sizeof(url), "sqlite::memory:");
	assert_int_equal(cct_store_open(&other, url, mk2, &err), CCT_OK);
	assert_int_equal(cct_store_challenge_open(f->store, cookie, &ch, &err), CCT_OK);
	assert_string_equal(ch.nonce, nonce);
	assert_true(ch.expires > f->now);
	assert_int_equal(cct_store_challenge_seal(other, &ch, bad, &err), CCT_OK);
	assert_int_equal(cct_store_challenge_open(f->store, bad, &ch, &err), CCT_ESIGNATURE);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", bad, NULL, body), 401);
	cct_kbs_response_clear(&r);
	cct_store_free(other);
	/* nothing above spent the genuine nonce or made a row */
	assert_int_equal(ops->session_get(impl, id, &ss, NULL), CCT_EINVAL);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(ops->session_get(impl, id, &ss, NULL), CCT_OK);
	assert_int_equal(ss.nonce_used, 1);
	cct_store_session_clear(&ss);
	{ /* the same sealed bytes spelled with other unused low bits in the last base64url
	   * character: not a second session with the same nonce */
		size_t n = strlen(cookie);
		const char *pos = strchr(CCT_B64URL_ALPHABET, cookie[n - 1]);

		assert_non_null(pos);
		assert_true((n - 3) % 4 != 0); /* the sealed challenge leaves unused bits */
		snprintf(bad, sizeof(bad), "%s", cookie);
		bad[n - 1] = CCT_B64URL_ALPHABET[(pos - CCT_B64URL_ALPHABET) ^ 1];
		assert_int_equal(cct_store_challenge_open(f->store, bad, &ch, &err), CCT_EFORMAT);
		assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", bad, NULL, body), 401);
		cct_kbs_response_clear(&r);
	}
	free(body);
	free(jwk);
	free(nonce);
	EVP_PKEY_free(k);
}

/* A database writer who rewrites the nonce of a spent session's row cannot reopen it: the
 * nonce comes from the sealed cookie, and the row only says it is spent. */
static void db_rewritten_nonce_does_not_reopen(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], id[65], *nonce = do_auth(f, cookie, tee_of(f)), *jwk, *body = NULL;
	char *other_nonce, cookie2[COOKIE_MAX], *body2 = NULL;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	void *impl;
	const cct_store_ops *ops = cct_store_backend(f->store, &impl);
	cct_store_session ss;

	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	body[strlen(body) / 3] ^= 1; /* a failed attest spends the nonce */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
	cct_kbs_response_clear(&r);
	cct_kbs__sha256_hex(id, cookie, strlen(cookie));
	assert_int_equal(ops->session_get(impl, id, &ss, NULL), CCT_OK);
	assert_int_equal(ss.nonce_used, 1);
	cct_store_session_clear(&ss);
	/* the attacker deletes the spent row: the cookie's nonce is single use all the same only
	 * while the row is there, so the row going means the session starts over; but a row
	 * edited to another nonce and marked unused must not accept evidence for that nonce */
	other_nonce = do_auth(f, cookie2, tee_of(f));
	assert_int_equal(make_evidence(f, &body2, other_nonce, jwk), 0);
	assert_int_equal(ops->session_gc(impl, f->now + 100000, NULL), CCT_OK);
	memset(&ss, 0, sizeof(ss));
	snprintf(ss.id, sizeof(ss.id), "%s", id);
	snprintf(ss.tee, sizeof(ss.tee), "snp");
	snprintf(ss.nonce, sizeof(ss.nonce), "%s", other_nonce);
	ss.created = f->now;
	ss.expires = f->now + 300;
	assert_int_equal(ops->session_put(impl, &ss, NULL), CCT_OK);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body2), 401);
	assert_non_null(strstr(r.body, "not this session's challenge"));
	cct_kbs_response_clear(&r);
	free(other_nonce);
	free(body2);
	free(body);
	free(jwk);
	free(nonce);
	EVP_PKEY_free(k);
}

/* The claims memo (claims_memo.c) finds a document by the SHA-256 of the claims text, so the
 * document the composite verifier hands back must be exactly what its claims text parses to. */
static void composite_claims_doc_is_claims_text(void **state)
{
	fx *f = *state;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, tee_of(f)), *jwk, *body = NULL;
	char *tok = NULL, *claims = NULL, *pub = NULL;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	json_t *parsed, *doc = NULL, *reparsed;
	cct_err err;

	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	parsed = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(f->ver->attest_parsed);
	assert_int_equal(f->ver->attest_parsed(f->ver->ctx, "snp", body, strlen(body), parsed, nonce,
					       NULL, f->now, &tok, &claims, &pub, &doc, &err),
			 CCT_OK);
	reparsed = json_loads(claims, 0, NULL);
	assert_non_null(doc);
	assert_true(json_equal(doc, reparsed));
	json_decref(reparsed);
	json_decref(doc);
	free(tok);
	free(claims);
	free(pub);
	/* refused: no document */
	body[strlen(body) / 2] ^= 1;
	json_decref(parsed);
	parsed = json_loads(body, 0, NULL);
	doc = json_true(); /* a static sentinel: must come back NULL */
	if (parsed)
		assert_int_not_equal(f->ver->attest_parsed(f->ver->ctx, "snp", body, strlen(body),
							   parsed, nonce, NULL, f->now, &tok, &claims,
							   &pub, &doc, &err),
				     CCT_OK);
	else
		doc = NULL;
	assert_null(doc);
	json_decref(parsed);
	free(body);
	free(jwk);
	free(nonce);
	EVP_PKEY_free(k);
}

/* Appraisals the composite verifier has counted (its metrics text): one per verification. */
static long appraisals(const fx *f)
{
	char *m = f->ver->metrics ? f->ver->metrics(f->ver->ctx) : NULL, *p;
	long n = 0;

	for (p = m; p && (p = strstr(p, "cctrustd_verifier_results_total{")) != NULL; p++) {
		char *e = strchr(p, '}');

		if (e)
			n += strtol(e + 1, NULL, 10);
	}
	free(m);
	return n;
}

/* attest_parsed_also judges further policies with one verification, each exactly as
 * attest_parsed with that policy would (satisfied, not satisfied, not loadable), and hands
 * back -1 for a policy whose GPU checks differ (the server verifies again with it). */
static void attest_also_matches_attest_each(void **state)
{
	fx *f = *state;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, "snp"), *jwk, *body = NULL, pol[512];
	char *tok = NULL, *claims = NULL, *pub = NULL;
	const char *also[4];
	int ok[4] = { 7, 7, 7, 7 }, i;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	cct_sim_opts so;
	json_t *parsed, *doc = NULL;
	cct_err err;
	long before;

	jwk = jwk_of(k);
	memset(&so, 0, sizeof(so));
	so.tee = "snp";
	so.gpus = 1;
	assert_int_equal(make_evidence_with(f, &body, nonce, jwk, &so), CCT_OK);
	parsed = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
	snprintf(pol, sizeof(pol), "{\"version\":\"cctrust.policy/v1\",\"id\":\"strict\","
		 "\"snp\":{\"measurements\":[\"%096d\"]}}", 0);
	also[0] = "{\"version\":\"cctrust.policy/v1\",\"id\":\"open\"}";
	also[1] = pol;
	also[2] = "{\"version\":";
	also[3] = "{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"require_measres\":false}}";
	assert_non_null(f->ver->attest_parsed_also);
	before = appraisals(f);
	assert_int_equal(f->ver->attest_parsed_also(f->ver->ctx, "snp", body, strlen(body), parsed,
						    nonce, NULL, also, 4, ok, f->now, &tok,
						    &claims, &pub, &doc, &err),
			 CCT_OK);
	assert_int_equal(appraisals(f), before + 1); /* verified once */
	assert_int_equal(ok[0], 1);
	assert_int_equal(ok[1], 0);
	assert_int_equal(ok[2], 0);
	assert_int_equal(ok[3], -1);
	json_decref(doc);
	free(tok);
	free(claims);
	free(pub);
	/* each as attest_parsed would decide it on its own */
	for (i = 0; i < 3; i++) {
		doc = NULL;
		assert_int_equal(f->ver->attest_parsed(f->ver->ctx, "snp", body, strlen(body), parsed,
						       nonce, also[i], f->now, &tok, &claims, &pub,
						       &doc, &err) == CCT_OK,
				 ok[i]);
		json_decref(doc);
		free(tok);
		free(claims);
		free(pub);
		tok = claims = pub = NULL;
	}
	/* evidence that does not verify satisfies none */
	body[strlen(body) / 2] ^= 1;
	json_decref(parsed);
	parsed = json_loads(body, 0, NULL);
	if (parsed) {
		ok[0] = ok[1] = ok[2] = ok[3] = 7;
		doc = NULL;
		assert_int_not_equal(f->ver->attest_parsed_also(f->ver->ctx, "snp", body,
								strlen(body), parsed, nonce, NULL,
								also, 4, ok, f->now, &tok, &claims,
								&pub, &doc, &err),
				     CCT_OK);
		assert_int_equal(ok[0], 0);
		assert_int_equal(ok[1], 0);
		assert_int_equal(ok[2], 0);
		assert_true(ok[3] <= 0);
		assert_null(doc);
	}
	json_decref(parsed);
	free(body);
	free(jwk);
	free(nonce);
	EVP_PKEY_free(k);
}

/* The memo hands back only the document put under the same text: another text (one byte
 * apart) misses, and the ring forgets the oldest once it is full. */
static void claims_memo_content_addressed(void **state)
{
	cct_kbs_claims_memo *m = cct_kbs__claims_memo_new();
	json_t *a = json_pack("{s:s}", "ear.status", "affirming"), *got;
	char text[64];
	int i;

	(void)state;
	assert_non_null(m);
	cct_kbs__claims_memo_put(m, "{\"ear.status\":\"affirming\"}", a);
	got = cct_kbs__claims_memo_get(m, "{\"ear.status\":\"affirming\"}");
	assert_ptr_equal(got, a);
	json_decref(got);
	assert_null(cct_kbs__claims_memo_get(m, "{\"ear.status\":\"affirminG\"}"));
	assert_null(cct_kbs__claims_memo_get(m, NULL));
	for (i = 0; i < 64; i++) {
		json_t *o = json_pack("{s:i}", "n", i);

		snprintf(text, sizeof(text), "{\"n\":%d}", i);
		cct_kbs__claims_memo_put(m, text, o);
		json_decref(o);
	}
	assert_null(cct_kbs__claims_memo_get(m, "{\"ear.status\":\"affirming\"}"));
	got = cct_kbs__claims_memo_get(m, "{\"n\":63}");
	assert_int_equal(json_integer_value(json_object_get(got, "n")), 63);
	json_decref(got);
	json_decref(a);
	cct_kbs__claims_memo_free(m);
}

static void replayed_nonce_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, tee_of(f)), *jwk, *body = NULL, *tok;
	EVP_PKEY *k = cct_jose_keygen("P-256");

	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 200);
	tok = strdup(r.body);
	cct_kbs_response_clear(&r);
	/* as Trustee: re-attesting an attested session returns its token (no second appraisal) */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 200);
	assert_string_equal(r.body, tok);
	cct_kbs_response_clear(&r);
	/* the same evidence on a fresh session: its nonce is not that session's challenge */
	free(nonce);
	nonce = do_auth(f, cookie, tee_of(f));
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
	assert_problem(&r, "AttestationError");
	cct_kbs_response_clear(&r);
	free(tok);
	free(nonce);
	free(jwk);
	free(body);
	EVP_PKEY_free(k);
}

/* An attest refused before any verification (no cookie, another session's nonce, a body
 * without the fields, a nonce already spent: a replay) is a denial like a rejected verdict:
 * counted in attestations_total{verdict="rejected"} and audited with its reason. They were
 * neither: a host replaying evidence left no trace. */
static void attest_refusals_counted_and_audited(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char c1[COOKIE_MAX], c2[COOKIE_MAX], c3[COOKIE_MAX], *n1 = do_auth(f, c1, tee_of(f));
	char *n2 = do_auth(f, c2, tee_of(f)), *n3 = do_auth(f, c3, tee_of(f)), *jwk, *jwk2;
	char *body = NULL, *body3 = NULL, *h = admin_bearer(f, f->admin_key, "auditor", f->now, 600);
	EVP_PKEY *k = cct_jose_keygen("P-256"), *k2 = cct_jose_keygen("P-256");
	json_t *b, *a, *rec;
	size_t i, denied = 0, replay = 0, foreign = 0;

	jwk = jwk_of(k);
	jwk2 = jwk_of(k2);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", NULL, NULL, "{}"), 401);
	cct_kbs_response_clear(&r);
	/* session 1's evidence on session 2 */
	assert_int_equal(make_evidence(f, &body, n1, jwk), 0);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", c2, NULL, body), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", c2, NULL, "{\"tee-evidence\":{}}"),
			 401);
	cct_kbs_response_clear(&r);
	/* session 3: evidence bound to k, runtime-data naming k2: the verifier refuses it (its
	 * own count) and spends the nonce; the same request again is a replay */
	assert_int_equal(make_evidence(f, &body3, n3, jwk), 0);
	b = json_loads(body3, 0, NULL);
	json_object_set_new(json_object_get(b, "runtime-data"), "tee-pubkey",
			    json_loads(jwk2, 0, NULL));
	free(body3);
	body3 = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", c3, NULL, body3), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", c3, NULL, body3), 401);
	assert_non_null(strstr(r.body, "nonce already used"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/metrics", NULL, NULL, NULL), 200);
	assert_non_null(strstr(r.body, "cctrustd_attestations_total{verdict=\"rejected\"} 5"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
	a = json_loads(r.body, 0, NULL);
	json_array_foreach(a, i, rec) {
		const char *ev = json_string_value(json_object_get(rec, "event"));
		const char *out = json_string_value(json_object_get(rec, "outcome"));
		const char *rule = json_string_value(json_object_get(rec, "rule"));

		if (strcmp(ev, "attest") || !out || strcmp(out, "denied") || !rule)
			continue;
		denied++;
		replay += strstr(rule, "nonce already used") != NULL;
		foreign += strstr(rule, "not this session's challenge") != NULL;
	}
	assert_int_equal(denied, 4);
	assert_int_equal(replay, 1);
	assert_int_equal(foreign, 1);
	json_decref(a);
	cct_kbs_response_clear(&r);
	free(n1);
	free(n2);
	free(n3);
	free(jwk);
	free(jwk2);
	free(body);
	free(body3);
	free(h);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* A tee-pubkey that carries its private key ("d") is refused: accepted, the EAR (a bearer
 * token) and the session row held the key that opens every JWE released to the session. */
static void tee_pubkey_with_private_key_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, tee_of(f)), *jwk, *body = NULL;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	json_t *j = cct_jose_pkey_to_jwk(k, "ECDH-ES+A256KW");

	json_object_set_new(j, "d", json_string("nYXO4nbhQsLACUysYGVZijeflzI49dimaSXV-eK16d8"));
	jwk = json_dumps(j, JSON_COMPACT);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
	assert_problem(&r, "AttestationError");
	assert_non_null(strstr(r.body, "private key"));
	assert_null(strstr(r.body, "token"));
	cct_kbs_response_clear(&r);
	json_decref(j);
	free(jwk);
	free(body);
	free(nonce);
	EVP_PKEY_free(k);
}

static void expired_session_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, tee_of(f)), *jwk, *body = NULL;
	EVP_PKEY *k = cct_jose_keygen("P-256");

	put_secret(f, "default/key/model", "s");
	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	f->now += 301; /* past the 300 s session */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
	assert_problem(&r, "AttestationError");
	cct_kbs_response_clear(&r);
	/* an attested session stops releasing once it expires */
	f->now -= 301;
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	f->now += 301;
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL, NULL),
			 401);
	assert_problem(&r, "TokenNotFound");
	cct_kbs_response_clear(&r);
	free(nonce);
	free(jwk);
	free(body);
	EVP_PKEY_free(k);
}

static void wrong_tee_pubkey_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, tee_of(f)), *jwk_a, *jwk_b, *body = NULL, *sw;
	EVP_PKEY *a = cct_jose_keygen("P-256"), *b = cct_jose_keygen("P-256");
	json_t *j;

	jwk_a = jwk_of(a);
	jwk_b = jwk_of(b);
	/* evidence bound to key A, request claims key B */
	assert_int_equal(make_evidence(f, &body, nonce, jwk_a), 0);
	j = json_loads(body, 0, NULL);
	json_object_set_new(json_object_get(j, "runtime-data"), "tee-pubkey",
			    json_loads(jwk_b, 0, NULL));
	sw = json_dumps(j, JSON_COMPACT);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, sw), 401);
	assert_problem(&r, "AttestationError");
	assert_non_null(strstr(r.body, "binding"));
	cct_kbs_response_clear(&r);
	json_decref(j);
	free(sw);
	free(nonce);
	free(jwk_a);
	free(jwk_b);
	free(body);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

/* Flip one byte of the simulated SNP report inside the request body (re-encoded). */
static char *tamper_report(const char *body, size_t off)
{
	json_t *j = json_loads(body, 0, NULL);
	json_t *pe = json_object_get(json_object_get(j, "tee-evidence"), "primary_evidence");
	const char *b64 = json_string_value(json_object_get(pe, "report"));
	uint8_t *raw = NULL;
	size_t n = 0;
	char *enc, *out;

	assert_non_null(b64);
	assert_int_equal(cct_b64_decode(&raw, &n, b64, strlen(b64), NULL), CCT_OK);
	assert_true(off < n);
	raw[off] ^= 0x01;
	enc = cct_b64_encode(raw, n, 0);
	json_object_set_new(pe, "report", json_string(enc));
	out = json_dumps(j, JSON_COMPACT);
	free(enc);
	free(raw);
	json_decref(j);
	return out;
}

static void tampered_sim_evidence_refused(void **state)
{
	/* measurement, report_data, host_data, the signature's r component */
	static const size_t offs[] = { 0x90, 0x50, 0xC0, 0x2A0 };
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce, *jwk, *body = NULL, *bad;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	size_t i;

	jwk = jwk_of(k);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		nonce = do_auth(f, cookie, "snp");
		assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
		bad = tamper_report(body, offs[i]);
		assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, bad), 401);
		assert_problem(&r, "AttestationError");
		/* the VCEK signature covers every byte before 0x2A0: caught before binding */
		if (!strstr(r.body, "signature/signature: report signature"))
			fail_msg("offset 0x%zx: %s", offs[i], r.body);
		cct_kbs_response_clear(&r);
		/* the nonce was consumed: the genuine body is refused too on this session */
		assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
		cct_kbs_response_clear(&r);
		free(bad);
		free(body);
		body = NULL;
		free(nonce);
	}
	free(jwk);
	EVP_PKEY_free(k);
}

static void tampered_evidence_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce, *jwk, *body = NULL, *p;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	int i;

	jwk = jwk_of(k);
	for (i = 0; i < 3; i++) {
		nonce = do_auth(f, cookie, tee_of(f));
		assert_int_equal(make_evidence(f, &body, nonce, jwk),
				 0);
		p = strstr(body, "\"report\"");
		assert_non_null(p);
		p = strchr(p + 9, '"'); /* the value's opening quote */
		assert_non_null(p);
		p++;
		/* flip one base64 character of the simulated SNP report: in the guest policy /
		 * family id, in the MEASUREMENT, in the signature */
		p += i == 0 ? 12 : i == 1 ? 120 : 950;
		*p = *p == 'A' ? 'B' : 'A';
		assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
		assert_problem(&r, "AttestationError");
		cct_kbs_response_clear(&r);
		free(body);
		body = NULL;
		free(nonce);
	}
	free(jwk);
	EVP_PKEY_free(k);
}

static void nonce_mismatch_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, tee_of(f)), *jwk, *body = NULL;
	EVP_PKEY *k = cct_jose_keygen("P-256");

	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				       jwk), 0);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
	assert_non_null(strstr(r.body, "not this session's challenge"));
	cct_kbs_response_clear(&r);
	free(nonce);
	free(jwk);
	free(body);
	EVP_PKEY_free(k);
}

static void resource_policy_deny(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *h, *b64, body[2048];
	const char *pol = "{\"version\":1,\"allow_simulated\":true,\"rules\":[{\"name\":\"needs-prod-image\","
			  "\"resources\":[\"default/key/*\"],\"require\":[{\"claim\":"
			  "\"/submods/cpu0/ear.veraison.annotated-evidence/snp/measurement\","
			  "\"equals\":\"ff\"}]}]}";
	EVP_PKEY *k = cct_jose_keygen("P-256");
	json_t *audit;

	put_secret(f, "default/key/model", "s3");
	h = admin_bearer(f, f->admin_key, "admin", f->now, 300);
	b64 = cct_b64_encode((const uint8_t *)pol, strlen(pol), 0);
	snprintf(body, sizeof(body), "{\"policy\":\"%s\",\"resource\":\"default/key/model\"}", b64);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource-policy", NULL, h, body), 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL, NULL),
			 401); /* Trustee: PolicyDeny is 401 */
	assert_problem(&r, "PolicyDeny");
	assert_non_null(strstr(r.body, "needs-prod-image"));
	cct_kbs_response_clear(&r);
	/* the denial is in the audit log with its rule */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
	audit = json_loads(r.body, 0, NULL);
	assert_non_null(strstr(r.body, "\"outcome\":\"denied\""));
	assert_non_null(strstr(r.body, "needs-prod-image"));
	assert_null(strstr(r.body, "s3\""));
	json_decref(audit);
	cct_kbs_response_clear(&r);
	/* an invalid policy is refused at upload */
	snprintf(body, sizeof(body), "{\"policy\":\"e30=\"}");
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource-policy", NULL, h, body), 400);
	cct_kbs_response_clear(&r);
	free(b64);
	free(h);
	EVP_PKEY_free(k);
}

static int post_att_policy(fx *f, const char *h, const char *pol)
{
	cct_kbs_response r;
	char *b64 = cct_b64_encode((const uint8_t *)pol, strlen(pol), 0), body[2048];
	int st;

	snprintf(body, sizeof(body), "{\"type\":\"json\",\"policy_id\":\"default\",\"policy\":\"%s\"}",
		 b64);
	st = req(f, &r, "POST", "/kbs/v0/attestation-policy", NULL, h, body);
	cct_kbs_response_clear(&r);
	free(b64);
	return st;
}

static void attestation_policy_enforced(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *h, *nonce, *jwk, *body = NULL, pol[512];
	EVP_PKEY *k = cct_jose_keygen("P-256");

	h = admin_bearer(f, f->admin_key, "admin", f->now, 300);
	/* a policy with a typo is refused when written, never applied */
	assert_int_equal(post_att_policy(f, h, "{\"version\":\"cctrust.policy/v1\","
					       "\"snp\":{\"measurment\":[]}}"), 400);
	snprintf(pol, sizeof(pol), "{\"version\":\"cctrust.policy/v1\",\"id\":\"pinned\","
		 "\"snp\":{\"measurements\":[\"%096d\"],\"min_guest_svn\":3}}", 0);
	assert_int_equal(post_att_policy(f, h, pol), 200);
	nonce = do_auth(f, cookie, "snp");
	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
	assert_problem(&r, "AttestationError");
	/* every failing rule is named */
	assert_non_null(strstr(r.body, "snp.measurements"));
	assert_non_null(strstr(r.body, "snp.min_guest_svn"));
	assert_non_null(strstr(r.body, "pinned"));
	cct_kbs_response_clear(&r);
	/* the default policy accepts the same guest again */
	assert_int_equal(post_att_policy(f, h, "{\"version\":\"cctrust.policy/v1\"}"), 200);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	free(nonce);
	free(jwk);
	free(body);
	free(h);
	EVP_PKEY_free(k);
}

/* The composite verifier refuses a session whose TEE it does not verify, and a bearer token
 * signed by any key but its own (here: the simulated TEE's own verifier key). */
static void composite_refuses_foreign_tee_and_tokens(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *nonce = do_auth(f, cookie, "sample"), *jwk, *body = NULL, path[700];
	char *tok = NULL, *hdr;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	cct_composite_result cr;
	cct_composite_opts o;
	cct_policy *pol = NULL;
	cct_token_signer *sim_signer = NULL;
	uint8_t *pem = NULL;
	size_t n = 0;

	jwk = jwk_of(k);
	assert_int_equal(make_evidence(f, &body, nonce, jwk), 0);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", cookie, NULL, body), 401);
	assert_non_null(strstr(r.body, "not verified by this service"));
	cct_kbs_response_clear(&r);
	/* a genuine EAR over the same evidence, signed by a key the broker does not hold */
	snprintf(path, sizeof(path), "%s/token.key", f->sim);
	assert_int_equal(cct_file_read(&pem, &n, path, 0, NULL), CCT_OK);
	assert_int_equal(cct_token_signer_load_pem(&sim_signer, pem, n, NULL), CCT_OK);
	assert_int_equal(cct_policy_default(&pol, NULL), CCT_OK);
	memset(&o, 0, sizeof(o));
	o.trust_sim_dir = f->sim;
	o.at = (time_t)f->now;
	assert_int_equal(cct_composite_verify(&cr, (const uint8_t *)body, strlen(body), pol, &o,
					      sim_signer), CCT_OK);
	tok = cr.token;
	assert_non_null(tok);
	hdr = malloc(strlen(tok) + 8);
	sprintf(hdr, "Bearer %s", tok);
	put_secret(f, "default/key/model", "never");
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", NULL, hdr, NULL),
			 401);
	assert_problem(&r, "TokenVerifierError");
	cct_kbs_response_clear(&r);
	free(hdr);
	cct_composite_result_clear(&cr);
	cct_policy_free(pol);
	cct_token_signer_free(sim_signer);
	free(pem);
	free(nonce);
	free(jwk);
	free(body);
	EVP_PKEY_free(k);
}

static void admin_auth_required(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char *h;

	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource/a/b/c", NULL, NULL, "x"), 401);
	assert_problem(&r, "AdminAuth");
	cct_kbs_response_clear(&r);
	h = admin_bearer(f, f->other_key, "admin", f->now, 300); /* wrong key */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource/a/b/c", NULL, h, "x"), 401);
	assert_problem(&r, "AdminAuth");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 401);
	cct_kbs_response_clear(&r);
	free(h);
	h = admin_bearer(f, f->admin_key, "admin", f->now - 600, 300); /* expired */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource/a/b/c", NULL, h, "x"), 401);
	cct_kbs_response_clear(&r);
	free(h);
	h = admin_bearer(f, f->admin_key, "auditor", f->now, 300); /* role too weak to write */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource/a/b/c", NULL, h, "x"), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
	cct_kbs_response_clear(&r);
	free(h);
	h = admin_bearer(f, f->admin_key, "admin", f->now, 300);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource/a/b/c", NULL, h, "x"), 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/admin/resources", NULL, h, NULL), 200);
	assert_string_equal(r.body, "[\"a/b/c\"]");
	cct_kbs_response_clear(&r);
	/* an unattested guest cannot read it */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/a/b/c", NULL, NULL, NULL), 401);
	assert_problem(&r, "TokenNotFound");
	cct_kbs_response_clear(&r);
	free(h);
}

static void bearer_token_releases(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *tok = NULL, *h;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	uint8_t *pt = NULL;
	size_t n = 0;

	put_secret(f, "repo/t/x", "bearer-secret");
	assert_int_equal(attest_with(f, cookie, k, &tok), 200);
	h = malloc(strlen(tok) + 8);
	sprintf(h, "Bearer %s", tok);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/repo/t/x", NULL, h, NULL), 200);
	assert_int_equal(cct_jose_jwe_decrypt(&pt, &n, r.body, r.body_len, k, NULL), CCT_OK);
	assert_memory_equal(pt, "bearer-secret", 13);
	free(pt);
	cct_kbs_response_clear(&r);
	memcpy(h, "bearer", 6); /* the scheme is case-insensitive (RFC 7235) */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/repo/t/x", NULL, h, NULL), 200);
	cct_kbs_response_clear(&r);
	memcpy(h, "Bearer", 6);
	h[strlen(h) - 3] ^= 1; /* tampered signature */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/repo/t/x", NULL, h, NULL), 401);
	assert_problem(&r, "TokenVerifierError");
	cct_kbs_response_clear(&r);
	h[strlen(h) - 3] ^= 1;
	f->now += 400; /* token expired */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/repo/t/x", NULL, h, NULL), 401);
	cct_kbs_response_clear(&r);
	free(h);
	free(tok);
	EVP_PKEY_free(k);
}

static void malformed_requests(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	cct_kbs_request q;
	char *big = malloc(CCT_KBS_MAX_BODY + 2);

	assert_int_equal(req(f, &r, "POST", "/kbs/v0/auth", NULL, NULL,
			     "{\"version\":\"0.3.0\",\"tee\":\"snp\"}"), 401);
	assert_non_null(strstr(r.body, "0.4.0"));
	cct_kbs_response_clear(&r);
	/* a member of another JSON type is named as such, not as missing */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/auth", NULL, NULL,
			     "{\"version\":\"0.4.0\",\"tee\":5}"), 401);
	assert_non_null(strstr(r.body, "must be a string"));
	assert_null(strstr(r.body, "missing"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/auth", NULL, NULL,
			     "{\"version\":4,\"tee\":\"snp\"}"), 401);
	assert_non_null(strstr(r.body, "must be a string"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/auth", NULL, NULL, "{\"version\":\"0.4.0\"}"),
			 401);
	assert_non_null(strstr(r.body, "missing"));
	cct_kbs_response_clear(&r);
	/* Trustee answers 401 (its client re-handshakes); cctrust keeps its detail */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/auth", NULL, NULL, "{\"version\":"), 401);
	assert_problem(&r, "SerdeError");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/auth", NULL, NULL,
			     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
			     "]]]]]]"), 413);
	cct_kbs_response_clear(&r);
	memset(big, 'a', CCT_KBS_MAX_BODY + 1);
	big[CCT_KBS_MAX_BODY + 1] = 0;
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.path = "/kbs/v0/auth";
	q.body = (uint8_t *)big;
	q.body_len = CCT_KBS_MAX_BODY + 1;
	assert_int_equal(cct_kbs_handle(f->srv, &q, &r), 413);
	cct_kbs_response_clear(&r);
	free(big);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/a/../b", NULL, NULL, NULL), 404);
	assert_problem(&r, "InvalidRequestPath");
	cct_kbs_response_clear(&r);
	/* a "." segment (HTTP clients remove it: no guest could fetch it), and its admin write */
	assert_false(cct_kbs__resource_path_ok("bench/./model"));
	assert_false(cct_kbs__resource_path_ok("a/b/."));
	assert_true(cct_kbs__resource_path_ok("a/b/.c"));
	assert_true(cct_kbs__resource_path_ok("a/b/c.d"));
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/a/b", NULL, NULL, NULL), 404);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", "zz", NULL, "{}"), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest",
			     "0000000000000000000000000000000000000000000000000000000000000000",
			     NULL, "{}"), 401);
	cct_kbs_response_clear(&r);
}

static void operations_endpoints(void **state)
{
	fx *f = *state;
	cct_kbs_response r;

	assert_int_equal(req(f, &r, "GET", "/healthz", NULL, NULL, NULL), 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/readyz", NULL, NULL, NULL), 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/.well-known/jwks.json", NULL, NULL, NULL), 200);
	assert_non_null(strstr(r.body, "\"kty\":\"EC\""));
	assert_null(strstr(r.body, "\"d\""));
	cct_kbs_response_clear(&r);
	/* handler CPU by guest endpoint: one refused attest and one refused release count;
	 * an admin write under the resource path does not count as a release */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attest", "zz", NULL, "{}"), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/a/b/c", NULL, NULL, NULL), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource/a/b/c", NULL, NULL, "x"), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/metrics", NULL, NULL, NULL), 200);
	assert_non_null(strstr(r.body, "cctrustd_attestations_total{verdict=\"affirming\"}"));
	assert_non_null(strstr(r.body, "cctrustd_attest_seconds_bucket"));
	assert_non_null(strstr(r.body, "cctrustd_request_cpu_seconds_count{endpoint=\"attest\"} 1\n"));
	assert_non_null(strstr(r.body, "cctrustd_request_cpu_seconds_count{endpoint=\"resource\"} 1\n"));
	assert_non_null(strstr(r.body, "cctrustd_request_cpu_seconds_count{endpoint=\"auth\"} 0\n"));
	assert_non_null(strstr(r.body, "cctrustd_request_cpu_seconds_sum{endpoint=\"attest\"} "));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/nope", NULL, NULL, NULL), 404);
	assert_null(r.allow);
	cct_kbs_response_clear(&r);
	/* a path of ours with a method it does not take: 405 and the methods it does */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/auth", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "POST");
	assert_non_null(strstr(r.body, "InvalidRequestPath"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "PUT", "/kbs/v0/resource/a/b/c", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "GET, POST, DELETE");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/metrics", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "GET, HEAD");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "DELETE", "/kbs/v0/resource-policy/a", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "GET");
	cct_kbs_response_clear(&r);
	/* the admin endpoints' Allow says what each serves (not a 404 for the other method) */
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/audit", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "GET");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/admin/resources", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "GET");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/attestation-policy", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "POST");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "DELETE", "/kbs/v0/resource-policy", NULL, NULL, NULL), 405);
	assert_string_equal(r.allow, "GET, POST");
	cct_kbs_response_clear(&r);
	/* HEAD reads as GET where GET only reads (load balancers' health checks), and nowhere else:
	 * a HEAD on a resource would release it with nobody to receive it */
	assert_int_equal(req(f, &r, "HEAD", "/healthz", NULL, NULL, NULL), 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "HEAD", "/kbs/v0/resource/a/b/c", NULL, NULL, NULL), 405);
	cct_kbs_response_clear(&r);
}

/* a CSR for k, with CN workload-1 (or no subject at all when cn is NULL) */
static char *make_csr_cn(EVP_PKEY *k, const char *cn)
{
	X509_REQ *q = X509_REQ_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long n;

	X509_REQ_set_version(q, 0);
	if (cn)
		X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(q), "CN", MBSTRING_ASC,
					   (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_pubkey(q, k);
	X509_REQ_sign(q, k, EVP_sha256());
	PEM_write_bio_X509_REQ(b, q);
	n = BIO_get_mem_data(b, &p);
	out = strndup(p, (size_t)n);
	BIO_free(b);
	X509_REQ_free(q);
	return out;
}

static char *make_csr(EVP_PKEY *k)
{
	return make_csr_cn(k, "workload-1");
}

static void workload_certificate(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *tok = NULL, *csr, *csr_other, *info = NULL;
	EVP_PKEY *k = cct_jose_keygen("P-256"), *other = cct_jose_keygen("P-256");
	const char *ca = cct_kbs_server_ca_pem(f->srv);
	json_t *claims = NULL;
	char *ctext;
	cct_err err;

	assert_int_equal(attest_with(f, cookie, k, &tok), 200);
	csr = make_csr(k);
	csr_other = make_csr(other);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/cert", cookie, NULL, csr_other), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/cert", cookie, NULL, csr), 200);
	assert_int_equal(cct_jose_jws_peek(NULL, &claims, tok, NULL), CCT_OK);
	ctext = json_dumps(claims, JSON_COMPACT);
	assert_int_equal(cct_kbs_cert_verify((uint8_t *)r.body, r.body_len, (const uint8_t *)ca,
					     strlen(ca), ctext, f->now, &info, &err), CCT_OK);
	assert_non_null(strstr(info, "workload-1"));
	free(info);
	/* other claims do not match the digest; outside validity fails */
	assert_int_equal(cct_kbs_cert_verify((uint8_t *)r.body, r.body_len, (const uint8_t *)ca,
					     strlen(ca), "{\"x\":1}", f->now, NULL, &err),
			 CCT_EBINDING);
	assert_int_equal(cct_kbs_cert_verify((uint8_t *)r.body, r.body_len, (const uint8_t *)ca,
					     strlen(ca), NULL, f->now + 7200, NULL, &err),
			 CCT_EEXPIRED);
	{ /* the leaf (CA:FALSE) given as the CA anchors nothing */
		const char *end = strstr(r.body, "-----END CERTIFICATE-----");
		size_t ln;

		assert_non_null(end);
		ln = (size_t)(end - r.body) + strlen("-----END CERTIFICATE-----");
		assert_int_equal(cct_kbs_cert_verify((uint8_t *)r.body, r.body_len,
						     (const uint8_t *)r.body, ln, NULL, f->now, NULL,
						     &err),
				 CCT_EFORMAT);
		assert_non_null(strstr(err.msg, "no CA certificate"));
	}
	cct_kbs_response_clear(&r);
	{ /* a CSR without a subject: a leaf of its own name, not the CA's (which would read as
	   * self-signed and fail its own verification) */
		char *anon = make_csr_cn(k, NULL);

		assert_int_equal(req(f, &r, "POST", "/kbs/v0/cert", cookie, NULL, anon), 200);
		assert_int_equal(cct_kbs_cert_verify((uint8_t *)r.body, r.body_len,
						     (const uint8_t *)ca, strlen(ca), ctext, f->now,
						     &info, &err),
				 CCT_OK);
		assert_non_null(strstr(info, "cctrust workload"));
		free(info);
		cct_kbs_response_clear(&r);
		free(anon);
	}
	json_decref(claims);
	free(ctext);
	free(csr);
	free(csr_other);
	free(tok);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* Nothing leaves without its audit record: with the audit log failing (a trigger refuses its
 * inserts), a certificate is refused with 500 like a resource, and no certificate is issued. */
static void workload_certificate_needs_audit(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *csr, path[600];
	EVP_PKEY *k = cct_jose_keygen("P-256");
	sqlite3 *db;

	put_secret(f, "default/key/model", "model-key-123");
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	csr = make_csr(k);
	snprintf(path, sizeof(path), "%s/db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN "
				      "SELECT RAISE(ABORT, 'audit log down'); END", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 500);
	assert_non_null(strstr(r.body, "audit log unavailable"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/cert", cookie, NULL, csr), 500);
	assert_null(strstr(r.body, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(r.body, "audit log unavailable"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/metrics", NULL, NULL, NULL), 200);
	assert_non_null(strstr(r.body, "cctrustd_certificates_issued_total 0\n"));
	cct_kbs_response_clear(&r);
	/* the audit log back: issued */
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER audit_down", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/cert", cookie, NULL, csr), 200);
	assert_non_null(strstr(r.body, "BEGIN CERTIFICATE"));
	cct_kbs_response_clear(&r);
	free(csr);
	EVP_PKEY_free(k);
}

/* A verifier at the seam that lies about the tee-pubkey: the server must not trust it over
 * runtime-data, and the none verifier refuses everything. */
static int lying_attest(void *ctx, const char *tee, const char *body, size_t len,
			const char *nonce, const char *pol, int64_t now, char **t, char **c,
			char **k, cct_err *err)
{
	EVP_PKEY *x = cct_jose_keygen("P-256");

	(void)ctx; (void)tee; (void)body; (void)len; (void)nonce; (void)pol; (void)now; (void)err;
	*t = strdup("a.b.c");
	*c = strdup("{\"submods\":{\"cpu0\":{\"ear.status\":\"affirming\"}}}");
	*k = jwk_of(x);
	EVP_PKEY_free(x);
	return CCT_OK;
}

static void seam_verifier_cannot_swap_key(void **state)
{
	fx *f = *state;
	cct_kbs_verifier lying = { 0 }, *none = NULL;
	cct_kbs_server *srv2 = NULL;
	cct_kbs_config cfg;
	cct_kbs_response r;
	cct_kbs_server *saved = f->srv;
	char cookie[COOKIE_MAX];
	EVP_PKEY *k = cct_jose_keygen("P-256");
	int i;

	lying.attest = lying_attest;
	lying.token_verify = f->ver->token_verify;
	lying.ctx = f->ver->ctx;
	assert_int_equal(cct_kbs_verifier_none_new(&none, "no service"), CCT_OK);
	for (i = 0; i < 2; i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.store = f->store;
		cfg.verifier = i ? none : &lying;
		cfg.admin_pubkey_pem = f->admin_pub;
		cfg.now = clock_of;
		cfg.now_ctx = f;
		assert_int_equal(cct_kbs_server_new(&srv2, &cfg, NULL), CCT_OK);
		f->srv = srv2;
		assert_int_equal(attest_with(f, cookie, k, NULL), 401);
		assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/a/b/c", cookie, NULL, NULL), 401);
		cct_kbs_response_clear(&r);
		f->srv = saved;
		cct_kbs_server_free(srv2);
	}
	cct_kbs_verifier_free(none);
	EVP_PKEY_free(k);
}

/* Issue 11, attack 1: whoever can write the database inserts a session row for a cookie it
 * got from /auth, with affirming claims and its own key. The row is not sealed by the broker:
 * refused, audited. A genuine sealed state copied under another session id is refused too. */
static void db_injected_session_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], cookie2[COOKIE_MAX], id[65], id2[65];
	EVP_PKEY *k = cct_jose_keygen("P-256"), *mine = cct_jose_keygen("P-256");
	char *jwk = jwk_of(mine), *n2;
	cct_store_session ss, genuine;
	void *impl;
	const cct_store_ops *ops = cct_store_backend(f->store, &impl);

	put_secret(f, "default/key/model", "model-key-123");
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	cct_kbs__sha256_hex(id, cookie, strlen(cookie));
	assert_int_equal(ops->session_get(impl, id, &genuine, NULL), CCT_OK);
	assert_non_null(genuine.claims);
	/* the attacker's own row: plain affirming claims, its own key */
	memset(&ss, 0, sizeof(ss));
	free(do_auth(f, cookie2, tee_of(f)));
	cct_kbs__sha256_hex(id2, cookie2, strlen(cookie2));
	snprintf(ss.id, sizeof(ss.id), "%s", id2);
	snprintf(ss.tee, sizeof(ss.tee), "snp");
	snprintf(ss.nonce, sizeof(ss.nonce), "AAAA");
	ss.created = f->now;
	ss.expires = f->now + 3600;
	assert_int_equal(ops->session_put(impl, &ss, NULL), CCT_OK);
	assert_int_equal(ops->session_set_attested(impl, id2, genuine.token,
						   "{\"submods\":{\"cpu0\":{\"ear.status\":"
						   "\"affirming\"}}}", jwk, "00", NULL), CCT_OK);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie2, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "not sealed"));
	cct_kbs_response_clear(&r);
	/* the genuine sealed state copied into the attacker's row: bound to the other id */
	n2 = do_auth(f, cookie2, tee_of(f));
	free(n2);
	cct_kbs__sha256_hex(id2, cookie2, strlen(cookie2));
	snprintf(ss.id, sizeof(ss.id), "%s", id2);
	assert_int_equal(ops->session_put(impl, &ss, NULL), CCT_OK);
	assert_int_equal(ops->session_set_attested(impl, id2, genuine.token, genuine.claims, jwk,
						   "00", NULL), CCT_OK);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie2, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "integrity"));
	cct_kbs_response_clear(&r);
	/* both refusals are audited; the genuine session still releases */
	{
		char *h = admin_bearer(f, f->admin_key, "auditor", f->now, 300);

		assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
		assert_non_null(strstr(r.body, "\"event\":\"integrity\""));
		assert_null(strstr(r.body, "\"outcome\":\"released\""));
		cct_kbs_response_clear(&r);
		free(h);
	}
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 200);
	cct_kbs_response_clear(&r);
	cct_store_session_clear(&genuine);
	free(jwk);
	EVP_PKEY_free(k);
	EVP_PKEY_free(mine);
}

/* Policy and reference-value rows written straight into the database (no master key) are
 * refused, never applied. */
static void db_tampered_policy_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *h;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	void *impl;
	const cct_store_ops *ops = cct_store_backend(f->store, &impl);
	const char *open_pol = OPEN_RES_POLICY;

	put_secret(f, "default/key/model", "model-key-123");
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	/* the attacker replaces the resource policy with a plain permissive one */
	assert_int_equal(ops->obj_put(impl, CCT_STORE_KIND_RES_POLICY, "default/key/model",
				      (const uint8_t *)open_pol, strlen(open_pol), f->now, NULL),
			 CCT_OK);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 500);
	assert_non_null(strstr(r.body, "integrity"));
	cct_kbs_response_clear(&r);
	/* the attestation policy row too */
	assert_int_equal(ops->obj_put(impl, CCT_STORE_KIND_ATT_POLICY, "default",
				      (const uint8_t *)"{}", 2, f->now, NULL), CCT_OK);
	assert_int_equal(attest_with(f, cookie, k, NULL), 500);
	/* and a reference value: not served */
	assert_int_equal(ops->obj_put(impl, CCT_STORE_KIND_REFVAL, "forged",
				      (const uint8_t *)"[\"ff\"]", 6, f->now, NULL), CCT_OK);
	h = admin_bearer(f, f->admin_key, "auditor", f->now, 300);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/reference-value", NULL, h, NULL), 200);
	assert_null(strstr(r.body, "forged"));
	cct_kbs_response_clear(&r);
	/* read one by one, a tampered row is an integrity failure, not "none stored" (404 told
	 * the admin the resource falls back to the default policy) */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/reference-value/forged", NULL, h, NULL), 500);
	assert_non_null(strstr(r.body, "integrity"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource-policy/default/key/model", NULL, h,
			     NULL), 500);
	assert_non_null(strstr(r.body, "integrity"));
	assert_null(strstr(r.body, "allow_simulated"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource-policy/default/key/none", NULL, h,
			     NULL), 404);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
	assert_non_null(strstr(r.body, "resource-policy/default/key/model"));
	assert_non_null(strstr(r.body, "attestation-policy/default"));
	assert_non_null(strstr(r.body, "reference-value/forged"));
	cct_kbs_response_clear(&r);
	free(h);
	EVP_PKEY_free(k);
}

/* A secret row swapped with another resource's (the seal's associated data names the other
 * resource): refused with 500, counted and audited as an integrity failure, never as absent. */
static void db_swapped_secret_refused(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *h;
	EVP_PKEY *k = cct_jose_keygen("P-256");
	void *impl;
	const cct_store_ops *ops = cct_store_backend(f->store, &impl);
	uint8_t *row = NULL;
	size_t n = 0;

	put_secret(f, "default/key/a", "secret-a");
	put_secret(f, "default/key/b", "secret-b");
	assert_int_equal(ops->obj_get(impl, CCT_STORE_KIND_RESOURCE, "default/key/b", &row, &n,
				      NULL), CCT_OK);
	assert_int_equal(ops->obj_put(impl, CCT_STORE_KIND_RESOURCE, "default/key/a", row, n,
				      f->now, NULL), CCT_OK);
	free(row);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/a", cookie, NULL, NULL),
			 500);
	assert_null(strstr(r.body, "secret-b"));
	assert_non_null(strstr(r.body, "integrity"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/nope", cookie, NULL,
			     NULL), 404);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/metrics", NULL, NULL, NULL), 200);
	assert_non_null(strstr(r.body, "cctrustd_integrity_failures_total 1\n"));
	assert_non_null(strstr(r.body, "cctrustd_denials_total{reason=\"not_found\"} 1\n"));
	cct_kbs_response_clear(&r);
	h = admin_bearer(f, f->admin_key, "auditor", f->now, 300);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
	assert_non_null(strstr(r.body, "\"event\":\"integrity\""));
	assert_non_null(strstr(r.body, "resource/default/key/a"));
	cct_kbs_response_clear(&r);
	free(h);
	EVP_PKEY_free(k);
}

/* Issue 11, attack 2: nothing is released until an admin set both policies; simulated
 * evidence needs "allow_simulated"; a token appraised under the built-in checks never
 * releases. */
static void no_policies_fail_closed(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], *tok = NULL, *h;
	EVP_PKEY *k = cct_jose_keygen("P-256");

	put_secret(f, "default/key/model", "model-key-123");
	assert_int_equal(attest_with(f, cookie, k, &tok), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "no attestation policy set"));
	cct_kbs_response_clear(&r);
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\"}", ""), 200);
	/* attested before the policy was set: attest again */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "attest again"));
	cct_kbs_response_clear(&r);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "no resource policy set"));
	cct_kbs_response_clear(&r);
	/* a resource policy without allow_simulated: the simulated guest is refused */
	assert_int_equal(post_policy(f, "/kbs/v0/resource-policy",
				     "{\"version\":1,\"rules\":[{\"resources\":[\"*/*/*\"],"
				     "\"require\":[{\"all_submods\":\"affirming\"}]}]}", ""), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "SIMULATED"));
	cct_kbs_response_clear(&r);
	assert_int_equal(post_policy(f, "/kbs/v0/resource-policy", OPEN_RES_POLICY, ""), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 200);
	cct_kbs_response_clear(&r);
	/* the token issued under the built-in checks (before any policy) never releases */
	h = malloc(strlen(tok) + 8);
	sprintf(h, "Bearer %s", tok);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", NULL, h, NULL),
			 401);
	cct_kbs_response_clear(&r);
	free(h);
	free(tok);
	EVP_PKEY_free(k);
}

/* default_gpu is no attestation policy by itself: with it stored and the CPU default absent
 * (never set, or deleted by a database writer) nothing is released, whatever the evidence. */
static void default_gpu_alone_fails_closed(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX];
	EVP_PKEY *k = cct_jose_keygen("P-256");
	void *impl;
	const cct_store_ops *ops = cct_store_backend(f->store, &impl);

	put_secret(f, "default/key/model", "model-key-123");
	assert_int_equal(post_policy(f, "/kbs/v0/resource-policy", OPEN_RES_POLICY, ""), 200);
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"min_count\":0}}",
				     ",\"policy_id\":\"default_gpu\""), 200);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "no attestation policy set"));
	cct_kbs_response_clear(&r);
	/* with the CPU default set too: released */
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\"}", ""), 200);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 200);
	cct_kbs_response_clear(&r);
	/* default_gpu amends the default, it is no repository's policy: a resource of a
	 * repository named so is judged by the default (it was judged by default_gpu, which no
	 * attest ever records as satisfied: never released) */
	put_secret(f, "default_gpu/key/model", "gpu-repo-key");
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default_gpu/key/model", cookie, NULL,
			     NULL), 200);
	cct_kbs_response_clear(&r);
	/* a database writer deletes the CPU default: closed again (this broker has read it, so
	 * the attest itself is refused as deleted in the database: 500) */
	assert_int_equal(ops->obj_delete(impl, CCT_STORE_KIND_ATT_POLICY, "default", NULL), CCT_OK);
	assert_int_equal(attest_with(f, cookie, k, NULL), 500);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 401);
	cct_kbs_response_clear(&r);
	EVP_PKEY_free(k);
}

/* policy_id values other than "default" are applied: the policy whose id is a resource's
 * repository judges that repository's resources. */
static void per_repository_attestation_policy(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], pol[512];
	EVP_PKEY *k = cct_jose_keygen("P-256");
	long before;

	set_policies(f);
	put_secret(f, "vault/key/a", "vault-secret");
	put_secret(f, "other/key/a", "other-secret");
	snprintf(pol, sizeof(pol), "{\"version\":\"cctrust.policy/v1\",\"id\":\"vault\","
		 "\"snp\":{\"measurements\":[\"%096d\"]}}", 0);
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy", pol,
				     ",\"policy_id\":\"vault\""), 200);
	before = appraisals(f);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(appraisals(f), before + 1); /* the "vault" policy without verifying again */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/vault/key/a", cookie, NULL, NULL),
			 401);
	assert_non_null(strstr(r.body, "attestation policy \\\"vault\\\""));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/other/key/a", cookie, NULL, NULL),
			 200);
	cct_kbs_response_clear(&r);
	/* a policy the guest satisfies opens the repository */
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\",\"id\":\"vault\"}",
				     ",\"policy_id\":\"vault\""), 200);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/vault/key/a", cookie, NULL, NULL),
			 200);
	cct_kbs_response_clear(&r);
	EVP_PKEY_free(k);
}

/* A session kept the verdict of the attestation policy it satisfied at its attest: an admin who
 * replaced that policy with a stricter one (a measurement pinned, every TEE refused) still saw
 * the session's secrets released until it expired. The release compares the policy it reads
 * with the one the attest judged, for default and a repository's own policy alike. */
static void replaced_attestation_policy_not_obeyed_by_old_session(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX];
	EVP_PKEY *k = cct_jose_keygen("P-256");

	set_policies(f);
	put_secret(f, "default/key/a", "secret-a");
	put_secret(f, "vault/key/a", "vault-secret");
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\",\"id\":\"vault\"}",
				     ",\"policy_id\":\"vault\""), 200);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/a", cookie, NULL, NULL),
			 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/vault/key/a", cookie, NULL, NULL),
			 200);
	cct_kbs_response_clear(&r);
	/* the default replaced by one no TEE satisfies: refused, also on the same session */
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\",\"tee\":[]}", ""), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/a", cookie, NULL, NULL),
			 401);
	assert_null(strstr(r.body, "secret-a"));
	assert_non_null(strstr(r.body, "attest again"));
	cct_kbs_response_clear(&r);
	/* the repository's own policy is judged by its own text: still the one satisfied */
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/vault/key/a", cookie, NULL, NULL),
			 200);
	cct_kbs_response_clear(&r);
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\",\"id\":\"vault\","
				     "\"snp\":{\"min_guest_svn\":99}}",
				     ",\"policy_id\":\"vault\""), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/vault/key/a", cookie, NULL, NULL),
			 401);
	assert_null(strstr(r.body, "vault-secret"));
	cct_kbs_response_clear(&r);
	/* a new attest is judged under the policies as they are now: the default refuses it */
	assert_int_equal(attest_with(f, cookie, k, NULL), 401);
	EVP_PKEY_free(k);
}

/* Up to 16 attestation policies besides default / default_gpu are applied, wherever their ids
 * sort; a 17th id is refused at the admin API, and one beyond the limit in the store anyway
 * fails closed with a message naming the limit. */
static void sixteen_custom_attestation_policies(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], id[32], extra[64], res[64];
	EVP_PKEY *k = cct_jose_keygen("P-256");
	const char *open_pol = "{\"version\":\"cctrust.policy/v1\"}";
	cct_err err;
	int i;

	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy",
				     "{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"min_count\":0}}",
				     ",\"policy_id\":\"default_gpu\""), 200);
	for (i = 0; i < 16; i++) { /* half sort before "default", half after */
		snprintf(id, sizeof(id), "%c%02d", i < 8 ? 'a' : 'r', i);
		snprintf(extra, sizeof(extra), ",\"policy_id\":\"%s\"", id);
		assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy", open_pol, extra), 200);
		snprintf(res, sizeof(res), "%s/key/s", id);
		put_secret(f, res, "s");
	}
	/* a 17th id: refused, naming the limit; replacing a stored one is fine */
	{
		char *b64 = cct_b64_encode((const uint8_t *)open_pol, strlen(open_pol), 0);
		char body[256], *h = admin_bearer(f, f->admin_key, "admin", f->now, 300);

		snprintf(body, sizeof(body), "{\"policy\":\"%s\",\"policy_id\":\"z16\"}", b64);
		assert_int_equal(req(f, &r, "POST", "/kbs/v0/attestation-policy", NULL, h, body),
				 400);
		assert_non_null(strstr(r.body, "16"));
		assert_non_null(strstr(r.body, "limit"));
		cct_kbs_response_clear(&r);
		free(h);
		free(b64);
	}
	assert_int_equal(post_policy(f, "/kbs/v0/attestation-policy", open_pol,
				     ",\"policy_id\":\"r15\""), 200);
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	for (i = 0; i < 16; i++) {
		snprintf(res, sizeof(res), "/kbs/v0/resource/%c%02d/key/s", i < 8 ? 'a' : 'r', i);
		assert_int_equal(req(f, &r, "GET", res, cookie, NULL, NULL), 200);
		cct_kbs_response_clear(&r);
	}
	/* a 17th written into the store past the admin API: not applied, and its resources are
	 * refused saying why (not "did not satisfy") */
	assert_int_equal(cct_store_sealed_put(f->store, CCT_STORE_KIND_ATT_POLICY, "z16",
					      (const uint8_t *)open_pol, strlen(open_pol), f->now,
					      &err), CCT_OK);
	put_secret(f, "z16/key/s", "s");
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_not_equal(req(f, &r, "GET", "/kbs/v0/resource/z16/key/s", cookie, NULL, NULL),
			     200);
	assert_non_null(strstr(r.body, "limit"));
	assert_null(strstr(r.body, "did not satisfy"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/r15/key/s", cookie, NULL, NULL), 200);
	cct_kbs_response_clear(&r);
	EVP_PKEY_free(k);
}

/* Admin body members of the wrong JSON type are refused naming the member, never read as
 * absent: {"policy_id":5} is not the default attestation policy, {"resource":5} not the
 * global resource policy. */
static void admin_body_member_types(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char cookie[COOKIE_MAX], body[512], *h = admin_bearer(f, f->admin_key, "admin", f->now, 300);
	char *att = cct_b64_encode((const uint8_t *)"{\"version\":\"cctrust.policy/v1\"}", 31, 0);
	char *res = cct_b64_encode((const uint8_t *)OPEN_RES_POLICY, strlen(OPEN_RES_POLICY), 0);
	EVP_PKEY *k = cct_jose_keygen("P-256");
	static const char *const bad_att[] = { "\"policy_id\":5", "\"policy_id\":null",
					       "\"policy_id\":[\"default\"]", "\"type\":5" };
	size_t i;

	put_secret(f, "default/key/model", "model-key-123");
	for (i = 0; i < sizeof(bad_att) / sizeof(bad_att[0]); i++) {
		snprintf(body, sizeof(body), "{%s,\"policy\":\"%s\"}", bad_att[i], att);
		assert_int_equal(req(f, &r, "POST", "/kbs/v0/attestation-policy", NULL, h, body),
				 400);
		assert_non_null(strstr(r.body, bad_att[i][1] == 'p' ? "policy_id" : "type"));
		assert_non_null(strstr(r.body, "must be a string"));
		cct_kbs_response_clear(&r);
	}
	snprintf(body, sizeof(body), "{\"policy\":5}");
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attestation-policy", NULL, h, body), 400);
	assert_non_null(strstr(r.body, "\\\"policy\\\" must be a string"));
	cct_kbs_response_clear(&r);
	snprintf(body, sizeof(body), "{\"resource\":5,\"policy\":\"%s\"}", res);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource-policy", NULL, h, body), 400);
	assert_non_null(strstr(r.body, "resource"));
	assert_non_null(strstr(r.body, "must be a string"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/reference-value", NULL, h,
			     "{\"name\":5,\"values\":[\"aa\"]}"), 400);
	assert_non_null(strstr(r.body, "\\\"name\\\" must be a string"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/reference-value", NULL, h,
			     "{\"version\":\"0.1.0\",\"type\":5,\"payload\":{}}"), 400);
	assert_non_null(strstr(r.body, "\\\"type\\\" must be a string"));
	cct_kbs_response_clear(&r);
	/* a member the endpoint does not take is refused, named: a misspelt "resource" stored the
	 * policy as the global default, a misspelt "policy_id" replaced the default attestation
	 * policy, an unknown "type" was taken as json */
	snprintf(body, sizeof(body), "{\"policyid\":\"repo1\",\"policy\":\"%s\"}", att);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attestation-policy", NULL, h, body), 400);
	assert_non_null(strstr(r.body, "unknown member \\\"policyid\\\""));
	cct_kbs_response_clear(&r);
	snprintf(body, sizeof(body), "{\"type\":\"yaml\",\"policy\":\"%s\"}", att);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/attestation-policy", NULL, h, body), 400);
	assert_non_null(strstr(r.body, "yaml"));
	cct_kbs_response_clear(&r);
	snprintf(body, sizeof(body), "{\"resouce\":\"default/key/model\",\"policy\":\"%s\"}", res);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/resource-policy", NULL, h, body), 400);
	assert_non_null(strstr(r.body, "unknown member \\\"resouce\\\""));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/reference-value", NULL, h,
			     "{\"name\":\"rv1\",\"values\":[\"aa\"],\"vaules\":[\"bb\"]}"), 400);
	assert_non_null(strstr(r.body, "vaules"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/reference-value", NULL, h,
			     "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":{\"rv2\":[\"aa\"]},"
			     "\"paylaod\":{}}"), 400);
	assert_non_null(strstr(r.body, "paylaod"));
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource-policy", NULL, h, NULL), 404);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/reference-value/rv1", NULL, h, NULL), 404);
	cct_kbs_response_clear(&r);
	/* none of them was stored as a default: still nothing released */
	assert_int_equal(attest_with(f, cookie, k, NULL), 200);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/default/key/model", cookie, NULL,
			     NULL), 401);
	assert_non_null(strstr(r.body, "no attestation policy set"));
	cct_kbs_response_clear(&r);
	free(att);
	free(res);
	free(h);
	EVP_PKEY_free(k);
}

/* Unauthenticated failures are audited at most 60 a minute one by one; the rest become one
 * aggregate record when the next minute starts (an anonymous flood cannot grow the log). */
static void unauthenticated_audit_aggregated(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char *h = admin_bearer(f, f->admin_key, "auditor", f->now, 600);
	json_t *a, *rec;
	size_t i, denied = 0, aggregated = 0;
	int k;

	f->now = (f->now / 60) * 60 + 1; /* start of a minute */
	for (k = 0; k < 100; k++) {
		assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/a/b/c", NULL, NULL, NULL), 401);
		cct_kbs_response_clear(&r);
	}
	f->now += 60;
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/resource/a/b/c", NULL, NULL, NULL), 401);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
	a = json_loads(r.body, 0, NULL);
	json_array_foreach(a, i, rec) {
		const char *ev = json_string_value(json_object_get(rec, "event"));
		const char *rule = json_string_value(json_object_get(rec, "rule"));

		if (!strcmp(ev, "release"))
			denied++;
		if (!strcmp(ev, "unauthenticated") && rule && strstr(rule, "40 unauthenticated"))
			aggregated++;
	}
	assert_int_equal(denied, 61);
	assert_int_equal(aggregated, 1);
	json_decref(a);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/metrics", NULL, NULL, NULL), 200);
	assert_non_null(strstr(r.body, "cctrustd_audit_suppressed_total 40"));
	cct_kbs_response_clear(&r);
	free(h);
}

/* A certificate request without an attested session or a valid Bearer token is a denial as a
 * release's is: counted and audited (it was counted, never audited). */
static void certificate_unauthenticated_audited(void **state)
{
	fx *f = *state;
	cct_kbs_response r;
	char *h = admin_bearer(f, f->admin_key, "auditor", f->now, 600);
	json_t *a, *rec;
	size_t i, denied = 0;

	assert_int_equal(req(f, &r, "POST", "/kbs/v0/cert", NULL, NULL, "csr"), 401);
	assert_problem(&r, "TokenNotFound");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "POST", "/kbs/v0/cert", NULL, "Bearer a.b.c", "csr"), 401);
	assert_problem(&r, "TokenVerifierError");
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/kbs/v0/audit", NULL, h, NULL), 200);
	a = json_loads(r.body, 0, NULL);
	json_array_foreach(a, i, rec) {
		const char *ev = json_string_value(json_object_get(rec, "event"));
		const char *out = json_string_value(json_object_get(rec, "outcome"));
		const char *res = json_string_value(json_object_get(rec, "resource"));

		if (!strcmp(ev, "certificate") && out && !strcmp(out, "denied") && res &&
		    !strcmp(res, "kbs-ca/cert/workload"))
			denied++;
	}
	assert_int_equal(denied, 2);
	json_decref(a);
	cct_kbs_response_clear(&r);
	assert_int_equal(req(f, &r, "GET", "/metrics", NULL, NULL, NULL), 200);
	assert_non_null(strstr(r.body, "cctrustd_denials_total{reason=\"unauthenticated\"} 2"));
	cct_kbs_response_clear(&r);
	free(h);
}

/* A resource policy a typo would weaken is refused when stored: an unknown key anywhere (a
 * misspelt operator left a requirement that was always true), an empty "require", a resource
 * pattern that is not repo/type/tag. */
static void resource_policy_typos_refused(void **state)
{
	static const char *const bad[] = {
		"{\"version\":1,\"rules\":[],\"allow_simulate\":true}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"require\":[{\"all_submods\":"
		"\"affirming\"}],\"nmae\":\"x\"}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"require\":[{\"claim\":"
		"\"/submods/cpu0/ear.status\",\"not_equals\":\"contraindicated\"}]}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"require\":[{\"claim\":"
		"\"/x\",\"equals\":1,\"one_f\":[]}]}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"require\":[]}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/b\"],\"require\":[{\"all_submods\":"
		"\"affirming\"}]}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/*x/c\"],\"require\":[{\"all_submods\":"
		"\"affirming\"}]}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a//c\"],\"require\":[{\"all_submods\":"
		"\"affirming\"}]}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"**\"],\"require\":[{\"all_submods\":"
		"\"affirming\"}]}]}",
		"{\"version\":1,\"rules\":[\"a/b/c\"]}",
		/* a pointer that can never be followed found nothing: "exists": false held always */
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"require\":[{\"claim\":"
		"\"/submods/cpu0/cctrust~2binding\",\"exists\":false}]}]}",
		"{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"require\":[{\"claim\":"
		"\"/submods/cpu0/x~\",\"exists\":false}]}]}",
	};
	const char *good = "{\"version\":1,\"allow_simulated\":false,\"rules\":[{\"name\":\"r\","
			   "\"resources\":[\"a/*/c\",\"*/*/*\"],\"allow_simulated\":true,"
			   "\"require\":[{\"all_submods\":\"affirming\"},{\"claim\":\"/x\","
			   "\"exists\":true}]}]}";
	cct_err err;
	size_t i;

	(void)state;
	assert_int_equal(cct_kbs_policy_check(good, strlen(good), &err), CCT_OK);
	{
		/* a token of 300 bytes (the evaluator follows at most 255) */
		char big[600];

		snprintf(big, sizeof(big), "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],"
					   "\"require\":[{\"claim\":\"/%0300d\",\"exists\":false}]}]}", 0);
		assert_int_not_equal(cct_kbs_policy_check(big, strlen(big), &err), CCT_OK);
		assert_int_not_equal(cct_kbs_policy_eval(big, "{\"submods\":{}}", "a/b/c", &err),
				     CCT_OK);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cct_kbs_policy_check(bad[i], strlen(bad[i]), &err) == CCT_OK)
			fail_msg("accepted: %s", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jwk_points_off_curve_refused),
		cmocka_unit_test(jws_detach_attach_round_trip),
		cmocka_unit_test_setup_teardown(success_ec, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(success_rsa, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(success_p384, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(success_p521, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(composite_claims_doc_is_claims_text, setup_policies,
						teardown),
		cmocka_unit_test(claims_memo_content_addressed),
		cmocka_unit_test(keygen_fresh_per_call),
		cmocka_unit_test_setup_teardown(session_challenge_sealed, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(db_rewritten_nonce_does_not_reopen, setup_policies,
						teardown),
		cmocka_unit_test_setup_teardown(replayed_nonce_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(attest_refusals_counted_and_audited, setup_policies,
						teardown),
		cmocka_unit_test_setup_teardown(tee_pubkey_with_private_key_refused, setup_policies,
						teardown),
		cmocka_unit_test_setup_teardown(expired_session_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(wrong_tee_pubkey_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(tampered_sim_evidence_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(tampered_evidence_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(composite_refuses_foreign_tee_and_tokens, setup_policies,
						teardown),
		cmocka_unit_test_setup_teardown(nonce_mismatch_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(resource_policy_deny, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(attestation_policy_enforced, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(admin_auth_required, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(bearer_token_releases, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(malformed_requests, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(operations_endpoints, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(workload_certificate, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(workload_certificate_needs_audit, setup_policies,
						teardown),
		cmocka_unit_test_setup_teardown(seam_verifier_cannot_swap_key, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(db_injected_session_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(db_tampered_policy_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(db_swapped_secret_refused, setup_policies, teardown),
		cmocka_unit_test_setup_teardown(no_policies_fail_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(default_gpu_alone_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(unauthenticated_audit_aggregated, setup, teardown),
		cmocka_unit_test_setup_teardown(certificate_unauthenticated_audited, setup_policies,
						teardown),
		cmocka_unit_test_setup_teardown(per_repository_attestation_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(replaced_attestation_policy_not_obeyed_by_old_session,
						setup, teardown),
		cmocka_unit_test_setup_teardown(admin_body_member_types, setup, teardown),
		cmocka_unit_test(resource_policy_typos_refused),
		cmocka_unit_test_setup_teardown(sixteen_custom_attestation_policies, setup_policies,
						teardown),
		cmocka_unit_test_setup_teardown(attest_also_matches_attest_each, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
