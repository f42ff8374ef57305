#define _GNU_SOURCE
/* The "sample" TEE: an INSECURE software attester + verifier pair over keys in a directory, so
 * the broker, its client and its benchmarks run end to end on any machine. It exercises the
 * real protocol (challenge, binding of runtime data, signed evidence, signed EAR token, tee-
 * pubkey from the token) but proves nothing about hardware. See kbs.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/core.h"
#include "cctrust/kbs.h"
#include "token/jose.h"
#include "kbs/kbs_int.h"
#include "x509/x509.h"

#define SAMPLE_TOKEN_TTL 300
#define SAMPLE_ISSUER "cctrust-sample-insecure"
#define EAR_PROFILE "tag:github.com,2024:confidential-containers/Trustee"
#define MAX_PATH 4096

typedef struct sample {
	EVP_PKEY *attester_pub;
	EVP_PKEY *token_key;
	char *jwks;
} sample;

static int path_in(char *buf, const char *dir, const char *name)
{
	return snprintf(buf, MAX_PATH, "%s/%s", dir, name) < MAX_PATH ? CCT_OK : CCT_EINVAL;
}

int cct_kbs_sample_init(const char *dir, cct_err *err)
{
	static const char *const names[2] = { "attester", "token" };
	char p[MAX_PATH], f[64];
	EVP_PKEY *k = NULL;
	int i, rc = CCT_OK;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "cannot create %s", dir);
	for (i = 0; i < 2 && rc == CCT_OK; i++) {
		k = cct_jose_keygen("P-256");
		if (!k)
			return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "key generation failed");
		snprintf(f, sizeof(f), "%s.key", names[i]);
		rc = path_in(p, dir, f);
		if (rc == CCT_OK)
			rc = cct_jose_pem_write(p, k, 1, err);
		snprintf(f, sizeof(f), "%s.pub", names[i]);
		if (rc == CCT_OK && (rc = path_in(p, dir, f)) == CCT_OK)
			rc = cct_jose_pem_write(p, k, 0, err);
		EVP_PKEY_free(k);
	}
	return rc;
}

/* SHA-384 of the canonical runtime data {"additional-evidence","nonce","tee-pubkey"}. */
static int report_data(char out[97], const char *additional, const char *nonce, const json_t *pub)
{
	json_t *rd = json_pack("{s:s,s:s,s:O}", "additional-evidence", additional ? additional : "",
			       "nonce", nonce, "tee-pubkey", pub);
	char *c = rd ? cct_kbs__canonical(rd) : NULL;
	uint8_t d[48];

	json_decref(rd);
	if (!c)
		return -1;
	cct_sha384(c, strlen(c), d);
	free(c);
	cct_hex_encode(out, d, 48);
	return 0;
}

int cct_kbs_sample_evidence(char **body_out, const char *dir, const char *nonce_b64,
			    const char *tee_pubkey_jwk, const char *measurement_hex, int svn,
			    cct_err *err)
{
	int rc = CCT_ERROR;
	char p[MAX_PATH], rdhex[97], *payload = NULL, *jws = NULL;
	EVP_PKEY *key = NULL;
	json_t *pub = NULL, *body = NULL, *claims = NULL;
	static const char zero_meas[] = "000000000000000000000000000000000000000000000000"
					"000000000000000000000000000000000000000000000000";

	*body_out = NULL;
	if ((rc = path_in(p, dir, "attester.key")) != CCT_OK ||
	    (rc = cct_jose_pem_read(&key, p, 1, err)) != CCT_OK)
		goto out;
	pub = json_loads(tee_pubkey_jwk, 0, NULL);
	if (!json_is_object(pub) || report_data(rdhex, "", nonce_b64, pub)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "tee-pubkey is not a JWK object");
		goto out;
	}
	claims = json_pack("{s:s,s:s,s:i}", "report_data", rdhex, "measurement",
			   measurement_hex ? measurement_hex : zero_meas, "svn", svn);
	payload = claims ? json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!payload || (rc = cct_jose_jws_sign(&jws, key, "ES256", NULL, payload, strlen(payload),
						err)) != CCT_OK) {
		rc = rc == CCT_OK ? CCT_ENOMEM : rc;
		goto out;
	}
	body = json_pack("{s:{s:s,s:O},s:{s:{s:s},s:s}}", "runtime-data", "nonce", nonce_b64,
			 "tee-pubkey", pub, "tee-evidence", "primary_evidence", "jws", jws,
			 "additional_evidence", "");
	*body_out = body ? json_dumps(body, JSON_COMPACT) : NULL;
	rc = *body_out ? CCT_OK : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
out:
	EVP_PKEY_free(key);
	json_decref(pub);
	json_decref(body);
	json_decref(claims);
	free(payload);
	free(jws);
	return rc;
}

int cct_kbs_evidence_sample(void *ctx, char **body_out, const char *tee, const char *nonce_b64,
			    const char *tee_pubkey_jwk, cct_err *err)
{
	if (!tee || strcmp(tee, "sample"))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "the sample attester only produces tee \"sample\" evidence");
	return cct_kbs_sample_evidence(body_out, (const char *)ctx, nonce_b64, tee_pubkey_jwk,
				       NULL, 1, err);
}

/* Attestation policy of the sample TEE: {"measurements":[hex...],"min_svn":n}. */
static int policy_ok(const char *policy, const char *meas, json_int_t svn, cct_err *err)
{
	json_t *p, *ms, *m;
	size_t i;
	int rc = CCT_OK, found = 0;

	if (!policy)
		return CCT_OK;
	p = json_loads(policy, 0, NULL);
	if (!json_is_object(p)) {
		json_decref(p);
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "attestation policy is not a JSON object");
	}
	ms = json_object_get(p, "measurements");
	if (ms) {
		json_array_foreach(ms, i, m) {
			if (json_is_string(m) && !strcmp(json_string_value(m), meas))
				found = 1;
		}
		if (!found)
			rc = cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
					 "rule measurements: %.24s... is not a reference value", meas);
	}
	if (rc == CCT_OK && json_is_integer(json_object_get(p, "min_svn")) &&
	    svn < json_integer_value(json_object_get(p, "min_svn")))
		rc = cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, 0, "rule min_svn: svn %lld < %lld",
				 (long long)svn,
				 (long long)json_integer_value(json_object_get(p, "min_svn")));
	json_decref(p);
	return rc;
}

static int sample_attest(void *ctx, const char *tee, const char *body, size_t body_len,
			 const char *nonce, const char *policy, int64_t now, char **token_out,
			 char **claims_out, char **pub_out, cct_err *err)
{
	sample *s = ctx;
	int rc = CCT_ERROR;
	json_t *req = NULL, *ev = NULL, *rd, *pub, *claims = NULL, *hdr = NULL;
	const char *jws, *rnonce, *add, *got_rd, *meas;
	char want_rd[97], *payload = NULL;

	*token_out = *claims_out = *pub_out = NULL;
	if (strcmp(tee, "sample")) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "this service verifies only tee \"sample\" (insecure test TEE)");
		goto out;
	}
	req = cct_kbs__json_body((const uint8_t *)body, body_len, err);
	if (!req) {
		rc = CCT_EFORMAT;
		goto out;
	}
	rd = json_object_get(req, "runtime-data");
	rnonce = json_string_value(json_object_get(rd, "nonce"));
	pub = json_object_get(rd, "tee-pubkey");
	jws = json_string_value(json_object_get(
		json_object_get(json_object_get(req, "tee-evidence"), "primary_evidence"), "jws"));
	add = json_string_value(
		json_object_get(json_object_get(req, "tee-evidence"), "additional_evidence"));
	if (!rnonce || !json_is_object(pub) || !jws) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "sample evidence needs runtime-data and primary_evidence.jws");
		goto out;
	}
	if (strcmp(rnonce, nonce)) {
		rc = cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 0,
				 "runtime-data.nonce is not the challenge");
		goto out;
	}
	if ((rc = cct_jose_jws_verify(&ev, jws, s->attester_pub, "ES256", err)) != CCT_OK) {
		if (err)
			err->stage = CCT_STAGE_SIGNATURE;
		goto out;
	}
	got_rd = json_string_value(json_object_get(ev, "report_data"));
	meas = json_string_value(json_object_get(ev, "measurement"));
	if (!got_rd || !meas || !json_is_integer(json_object_get(ev, "svn"))) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "sample evidence lacks report_data / measurement / svn");
		goto out;
	}
	if (report_data(want_rd, add, rnonce, pub) || strcmp(want_rd, got_rd)) {
		rc = cct_err_set(err, CCT_EBINDING, CCT_STAGE_BINDING, 0,
				 "report_data is not SHA-384 of this runtime data (nonce / tee-pubkey "
				 "/ additional evidence not bound)");
		goto out;
	}
	if ((rc = policy_ok(policy, meas, json_integer_value(json_object_get(ev, "svn")), err)) !=
	    CCT_OK)
		goto out;
	claims = json_pack(
		"{s:s,s:I,s:I,s:s,s:{s:s,s:s},s:{s:{s:s,s:{s:i,s:i,s:i,s:i},s:s,"
		"s:{s:{s:s,s:O},s:s,s:{s:s,s:O}}}}}",
		"eat_profile", EAR_PROFILE, "iat", (json_int_t)now, "exp",
		(json_int_t)(now + SAMPLE_TOKEN_TTL), "iss", SAMPLE_ISSUER, "ear.verifier-id",
		"developer", "cctrust", "build", CCT_VERSION_STRING, "submods", "cpu0", "ear.status",
		"affirming", "ear.trustworthiness-vector", "instance-identity", 2, "configuration", 2,
		"executables", 3, "hardware", 97, "ear.appraisal-policy-id",
		policy ? "stored" : "sample-default", "ear.veraison.annotated-evidence", "sample",
		"measurement", meas, "svn", json_object_get(ev, "svn"), "report_data", got_rd,
		"runtime_data_claims", "nonce", rnonce, "tee-pubkey", pub);
	hdr = claims ? json_pack("{s:s,s:o}", "typ", "JWT", "jwk",
				 cct_jose_pkey_to_jwk(s->token_key, NULL))
		     : NULL;
	payload = claims ? json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!payload || !hdr) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if ((rc = cct_jose_jws_sign(token_out, s->token_key, "ES256", hdr, payload, strlen(payload),
				    err)) != CCT_OK)
		goto out;
	*claims_out = payload;
	payload = NULL;
	*pub_out = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
	if (!*pub_out) {
		free(*token_out);
		free(*claims_out);
		*token_out = *claims_out = NULL;
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	rc = CCT_OK;
out:
	json_decref(req);
	json_decref(ev);
	json_decref(claims);
	json_decref(hdr);
	free(payload);
	return rc;
}

static int sample_token_verify(void *ctx, const char *token, int64_t now, char **claims_out,
			       char **pub_out, cct_err *err)
{
	sample *s = ctx;
	json_t *c = NULL, *pub;
	const char *prof;
	int rc;

	*claims_out = *pub_out = NULL;
	if ((rc = cct_jose_jws_verify(&c, token, s->token_key, "ES256", err)) != CCT_OK)
		return rc;
	prof = json_string_value(json_object_get(c, "eat_profile"));
	pub = cct_kbs__json_pointer(
		c, "/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey");
	if (!prof || strcmp(prof, EAR_PROFILE) || !json_is_object(pub)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, 0,
				 "token is not an EAR in the Trustee profile with a tee-pubkey");
	} else if (!json_is_integer(json_object_get(c, "exp")) ||
		   json_integer_value(json_object_get(c, "exp")) <= now) {
		rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0, "token expired");
	} else {
		*claims_out = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
		*pub_out = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
		rc = *claims_out && *pub_out ? CCT_OK
					     : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "oom");
		if (rc != CCT_OK) {
			free(*claims_out);
			free(*pub_out);
			*claims_out = *pub_out = NULL;
		}
	}
	json_decref(c);
	return rc;
}

static char *sample_jwks(void *ctx)
{
	sample *s = ctx;

	return s->jwks ? strdup(s->jwks) : NULL;
}

static void sample_free(void *ctx)
{
	sample *s = ctx;

	if (!s)
		return;
	EVP_PKEY_free(s->attester_pub);
	EVP_PKEY_free(s->token_key);
	free(s->jwks);
	free(s);
}

int cct_kbs_verifier_sample_insecure_new(cct_kbs_verifier **out, const char *dir, cct_err *err)
{
	cct_kbs_verifier *v = calloc(1, sizeof(*v));
	sample *s = calloc(1, sizeof(*s));
	char p[MAX_PATH];
	json_t *jwk, *set;
	int rc;

	*out = NULL;
	if (!v || !s) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto fail;
	}
	if ((rc = path_in(p, dir, "attester.pub")) != CCT_OK ||
	    (rc = cct_jose_pem_read(&s->attester_pub, p, 0, err)) != CCT_OK ||
	    (rc = path_in(p, dir, "token.key")) != CCT_OK ||
	    (rc = cct_jose_pem_read(&s->token_key, p, 1, err)) != CCT_OK)
		goto fail;
	jwk = cct_jose_pkey_to_jwk(s->token_key, "ES256");
	set = jwk ? json_pack("{s:[o]}", "keys", jwk) : NULL;
	s->jwks = set ? json_dumps(set, JSON_COMPACT) : NULL;
	json_decref(set);
	v->ctx = s;
	v->attest = sample_attest;
	v->token_verify = sample_token_verify;
	v->jwks = sample_jwks;
	v->free_ctx = sample_free;
	*out = v;
	return CCT_OK;
fail:
	sample_free(s);
	free(v);
	return rc;
}
