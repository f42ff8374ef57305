#define _GNU_SOURCE
/* Admin API authentication: which keys may sign admin JWTs and what such a token must say.
 *
 * Keys (--admin-pubkey FILE): PEM text with one or more SubjectPublicKeyInfo keys, or a JWKS
 * ({"keys":[JWK..]}, a JWK's "alg" and "kid" are honoured) — Ed25519 (EdDSA), P-256 (ES256),
 * P-384 (ES384), RSA >= 2048 bits (RS256, PS256). Trustee's kbs-client and docker-compose
 * admin-token sign EdDSA with an Ed25519 PEM key; identity providers publish JWKS.
 *
 * Token rules, all fail closed:
 *  - alg one of the above and fitting a configured key (never "none"/HMAC); with a "kid",
 *    only keys with that kid are tried;
 *  - "exp" present and in the future (60 s skew); lifetime exp - (iat or now) at most the
 *    configured cap (--admin-max-token-lifetime, default 24 h): a longer token is refused
 *    naming both figures; "iat"/"nbf" not in the future;
 *  - "aud" (string or array) contains the configured audience when one is configured;
 *  - "jti", when present, is single use: recorded in the store until "exp" (insert-if-absent,
 *    so two replicas cannot both accept it) AND in this process's memory (the store is not
 *    trusted: a database writer deleting the row cannot get a token replayed to this
 *    replica); --admin-require-jti refuses tokens without one;
 *  - "role" (Trustee's claim): "admin" (case-insensitive) may do everything, "auditor" reads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "cctrust/core.h"
#include "cctrust/store.h"
#include "json/json.h"
#include "kbs/kbs_int.h"
#include "token/jose.h"

#define ADMIN_MAX_KEYS 32
#define ADMIN_DEFAULT_LIFETIME (24 * 3600)
#define ADMIN_SKEW 60
#define ADMIN_TIME_MAX ((json_int_t)1 << 40) /* about the year 36812 */

/* an integer NumericDate in 0..ADMIN_TIME_MAX */
static int time_claim_ok(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	       json_integer_value(v) <= ADMIN_TIME_MAX;
}
#define ADMIN_MAX_JTI 256
#define ADMIN_JTI_MEMORY 1024 /* jti digests remembered in process until their token expires */

typedef struct admin_key {
	EVP_PKEY *key;
	char alg[16]; /* from the JWK, "" = any that fits */
	char kid[128];
} admin_key;

struct cct_kbs_admin {
	admin_key k[ADMIN_MAX_KEYS];
	size_t n;
	int64_t max_lifetime;
	char *audience;
	int require_jti;
	pthread_mutex_t jti_lock;
	struct {
		char digest[65];
		int64_t until;
	} seen[ADMIN_JTI_MEMORY];
	size_t nseen;
};

static const char *const admin_algs[] = { "EdDSA", "ES256", "ES384", "RS256", "PS256" };

static int key_ok(EVP_PKEY *k)
{
	size_t i;

	for (i = 0; i < sizeof(admin_algs) / sizeof(admin_algs[0]); i++)
		if (cct_jose_alg_fits_key(admin_algs[i], k))
			return 1;
	return 0;
}

static int add_key(cct_kbs_admin *a, EVP_PKEY *k, const char *alg, const char *kid, cct_err *err)
{
	if (a->n >= ADMIN_MAX_KEYS) {
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "admin keys: more than %d keys", ADMIN_MAX_KEYS);
	}
	if (!key_ok(k) || (alg && *alg && !cct_jose_alg_fits_key(alg, k))) {
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "admin key %zu: need Ed25519, EC P-256/P-384 or RSA >= 2048 bits "
				   "(EdDSA, ES256, ES384, RS256, PS256)%s%s", a->n,
				   alg && *alg ? "; its JWK alg does not fit: " : "", alg ? alg : "");
	}
	a->k[a->n].key = k;
	snprintf(a->k[a->n].alg, sizeof(a->k[a->n].alg), "%s", alg ? alg : "");
	snprintf(a->k[a->n].kid, sizeof(a->k[a->n].kid), "%s", kid ? kid : "");
	a->n++;
	return CCT_OK;
}

static int load_jwks(cct_kbs_admin *a, const char *text, cct_err *err)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je), *keys, *one;
	size_t i;
	int rc = CCT_OK;

	if (!j)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "admin keys: not PEM and not JSON (line %d: %s)", je.line, je.text);
	keys = json_object_get(j, "keys");
	if (!keys && json_object_get(j, "kty"))
		keys = json_pack("[O]", j);
	else
		json_incref(keys);
	if (!json_is_array(keys) || !json_array_size(keys)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "admin keys: a JWKS needs a non-empty \"keys\" array");
		goto out;
	}
	json_array_foreach(keys, i, one) {
		EVP_PKEY *k = NULL;
		const char *use = json_string_value(json_object_get(one, "use"));

		if (use && strcmp(use, "sig"))
			continue; /* an encryption key never signs admin tokens */
		if ((rc = cct_jose_jwk_to_pkey(&k, one, err)) != CCT_OK ||
		    (rc = add_key(a, k, json_string_value(json_object_get(one, "alg")),
				  json_string_value(json_object_get(one, "kid")), err)) != CCT_OK)
			goto out;
	}
out:
	json_decref(keys);
	json_decref(j);
	return rc;
}

static int load_pem(cct_kbs_admin *a, const char *text, cct_err *err)
{
	BIO *b = BIO_new_mem_buf(text, -1);
	EVP_PKEY *k;
	int rc = CCT_OK;

	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	while (rc == CCT_OK && (k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)))
		rc = add_key(a, k, NULL, NULL, err);
	BIO_free(b);
	if (rc == CCT_OK && !a->n)
		rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				 "admin keys: no PEM public key (need Ed25519, EC P-256/P-384 or "
				 "RSA) and not a JWKS");
	return rc;
}

void cct_kbs__admin_free(cct_kbs_admin *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		EVP_PKEY_free(a->k[i].key);
	free(a->audience);
	pthread_mutex_destroy(&a->jti_lock);
	free(a);
}

int cct_kbs__admin_new(cct_kbs_admin **out, const char *keys, int64_t max_lifetime_s,
		       const char *audience, int require_jti, cct_err *err)
{
	cct_kbs_admin *a = calloc(1, sizeof(*a));
	const char *p = keys;
	int rc;

	*out = NULL;
	if (!a)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (!keys) {
		free(a);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no admin keys");
	}
	a->max_lifetime = max_lifetime_s > 0 ? max_lifetime_s : ADMIN_DEFAULT_LIFETIME;
	a->require_jti = require_jti;
	pthread_mutex_init(&a->jti_lock, NULL);
	if (audience && *audience && !(a->audience = strdup(audience))) {
		cct_kbs__admin_free(a);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	rc = *p == '{' ? load_jwks(a, p, err) : load_pem(a, keys, err);
	if (rc != CCT_OK) {
		cct_kbs__admin_free(a);
		return rc;
	}
	*out = a;
	return CCT_OK;
}

static int aud_has(const json_t *aud, const char *want)
{
	if (json_is_string(aud))
		return !strcmp(json_string_value(aud), want);
	return cct_json__has_string(aud, want);
}

static int tfail(cct_err *err, int code, const char *fmt, long long a, long long b)
{
	return cct_err_set(err, code, CCT_STAGE_TOKEN, 0, fmt, a, b);
}

int cct_kbs__admin_verify(const cct_kbs_admin *a, const char *jwt, int64_t now,
			  cct_kbs_admin_claims *out, cct_err *err)
{
	json_t *hdr = NULL, *claims = NULL;
	const char *alg, *kid, *role, *jti;
	size_t i, tried = 0;
	int rc = CCT_ESIGNATURE, kid_known = 0;
	int64_t exp, start;
	cct_err e2;

	memset(out, 0, sizeof(*out));
	snprintf(out->who, sizeof(out->who), "admin");
	if ((rc = cct_jose_jws_peek(&hdr, NULL, jwt, err)) != CCT_OK)
		return rc;
	alg = json_string_value(json_object_get(hdr, "alg"));
	kid = json_string_value(json_object_get(hdr, "kid"));
	for (i = 0; alg && i < sizeof(admin_algs) / sizeof(admin_algs[0]); i++)
		if (!strcmp(alg, admin_algs[i]))
			break;
	if (!alg || i == sizeof(admin_algs) / sizeof(admin_algs[0])) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_TOKEN, 0,
				 "admin JWT alg \"%.16s\" is not one of EdDSA, ES256, ES384, RS256, "
				 "PS256", alg ? alg : "(none)");
		goto out;
	}
	for (i = 0; kid && i < a->n; i++)
		if (!strcmp(a->k[i].kid, kid))
			kid_known = 1;
	rc = CCT_ESIGNATURE;
	for (i = 0; i < a->n && rc != CCT_OK; i++) {
		if (kid_known && strcmp(a->k[i].kid, kid))
			continue;
		if ((a->k[i].alg[0] && strcmp(a->k[i].alg, alg)) ||
		    !cct_jose_alg_fits_key(alg, a->k[i].key))
			continue;
		tried++;
		rc = cct_jose_jws_verify(&claims, jwt, a->k[i].key, alg, &e2);
	}
	if (rc != CCT_OK) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_TOKEN, 0,
				 "admin JWT (%s) is not signed by a configured admin key (%zu of %zu "
				 "keys fit)", alg, tried, a->n);
		goto out;
	}
	if (json_is_string(json_object_get(claims, "sub")))
		snprintf(out->who, sizeof(out->who), "admin:%.60s",
			 json_string_value(json_object_get(claims, "sub")));
	if (!json_is_integer(json_object_get(claims, "exp"))) {
		rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0,
				 "admin JWT has no integer \"exp\"");
		goto out;
	}
	/* NumericDates in a plausible range, so that exp - iat and exp + skew cannot overflow
	 * (a lifetime wrapping negative passed the cap, a jti kept until a negative time was
	 * forgotten at once) */
	if (!time_claim_ok(json_object_get(claims, "exp")) ||
	    (json_object_get(claims, "iat") && !time_claim_ok(json_object_get(claims, "iat"))) ||
	    (json_object_get(claims, "nbf") && !time_claim_ok(json_object_get(claims, "nbf")))) {
		rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0,
				 "admin JWT \"exp\", \"iat\" or \"nbf\" is not an integer time in "
				 "0..2^40 (seconds since the epoch)");
		goto out;
	}
	exp = json_integer_value(json_object_get(claims, "exp"));
	if (exp <= now - ADMIN_SKEW) {
		rc = tfail(err, CCT_EEXPIRED, "admin JWT expired (exp %lld, now %lld)", exp, now);
		goto out;
	}
	start = now;
	if (json_object_get(claims, "iat")) {
		if (!json_is_integer(json_object_get(claims, "iat")) ||
		    json_integer_value(json_object_get(claims, "iat")) > now + ADMIN_SKEW) {
			rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0,
					 "admin JWT \"iat\" is not an integer or is in the future");
			goto out;
		}
		start = json_integer_value(json_object_get(claims, "iat"));
	}
	if (json_object_get(claims, "nbf") &&
	    (!json_is_integer(json_object_get(claims, "nbf")) ||
	     json_integer_value(json_object_get(claims, "nbf")) > now + ADMIN_SKEW)) {
		rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0,
				 "admin JWT is not valid yet (\"nbf\")");
		goto out;
	}
	if (exp - start > a->max_lifetime + ADMIN_SKEW) {
		rc = tfail(err, CCT_EEXPIRED,
			   "admin JWT lifetime %lld s is longer than this server accepts (%lld s, "
			   "--admin-max-token-lifetime)", exp - start, a->max_lifetime);
		goto out;
	}
	if (a->audience && !aud_has(json_object_get(claims, "aud"), a->audience)) {
		rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_TOKEN, 0,
				 "admin JWT \"aud\" does not name this server (\"%.80s\")",
				 a->audience);
		goto out;
	}
	jti = json_string_value(json_object_get(claims, "jti"));
	if (json_object_get(claims, "jti") && (!jti || !*jti || strlen(jti) > ADMIN_MAX_JTI)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, 0,
				 "admin JWT \"jti\" must be a string of 1..%d characters",
				 ADMIN_MAX_JTI);
		goto out;
	}
	if (!jti && a->require_jti) {
		rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_TOKEN, 0,
				 "admin JWT has no \"jti\" (this server runs with --admin-require-jti)");
		goto out;
	}
	if (jti)
		cct_kbs__sha256_hex(out->jti, jti, strlen(jti));
	out->exp = exp;
	role = json_string_value(json_object_get(claims, "role"));
	out->role = !role ? CCT_KBS_ROLE_NONE
		    : !strcasecmp(role, "admin") ? CCT_KBS_ROLE_ADMIN
		    : !strcasecmp(role, "auditor") ? CCT_KBS_ROLE_AUDITOR : CCT_KBS_ROLE_NONE;
	if (out->role == CCT_KBS_ROLE_NONE) {
		rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_TOKEN, 0,
				 "admin JWT role \"%.32s\" is not \"admin\" or \"auditor\"",
				 role ? role : "(none)");
		goto out;
	}
	rc = CCT_OK;
out:
	json_decref(hdr);
	json_decref(claims);
	return rc;
}

/* Remember a jti digest in process until its token expires: 0 when it was seen before. When
 * the memory is full of live tokens, the one expiring first is forgotten (the store still
 * holds it). */
static int jti_remember(cct_kbs_admin *a, const char *digest, int64_t until, int64_t now)
{
	size_t i, j = 0, soonest = 0;
	int fresh = 1;

	pthread_mutex_lock(&a->jti_lock);
	for (i = 0; i < a->nseen; i++) {
		if (a->seen[i].until < now)
			continue; /* expired: dropped by the compaction below */
		if (!strcmp(a->seen[i].digest, digest))
			fresh = 0;
		a->seen[j++] = a->seen[i];
	}
	a->nseen = j;
	if (fresh) {
		if (a->nseen == ADMIN_JTI_MEMORY) {
			for (i = 1; i < a->nseen; i++)
				if (a->seen[i].until < a->seen[soonest].until)
					soonest = i;
			a->seen[soonest] = a->seen[--a->nseen];
		}
		snprintf(a->seen[a->nseen].digest, sizeof(a->seen[0].digest), "%s", digest);
		a->seen[a->nseen++].until = until;
	}
	pthread_mutex_unlock(&a->jti_lock);
	return fresh;
}

int cct_kbs__admin_consume_jti(cct_kbs_admin *a, cct_store *store, const cct_kbs_admin_claims *t,
			       int64_t now, cct_err *err)
{
	void *impl;
	const cct_store_ops *ops = cct_store_backend(store, &impl);
	char v[32], *names = NULL;
	json_t *list;
	size_t i;
	int created = 0, rc;

	if (!t->jti[0])
		return CCT_OK;
	if (a && !jti_remember(a, t->jti, t->exp + ADMIN_SKEW, now))
		return cct_err_set(err, CCT_ENONCE, CCT_STAGE_TOKEN, 0,
				   "admin JWT \"jti\" was used before (single use)");
	snprintf(v, sizeof(v), "%lld", (long long)t->exp + ADMIN_SKEW);
	rc = ops->obj_create(impl, CCT_KBS_STORE_KIND_ADMIN_JTI, t->jti, (const uint8_t *)v,
			     strlen(v), now, &created, err);
	if (rc != CCT_OK)
		return rc;
	if (!created)
		return cct_err_set(err, CCT_ENONCE, CCT_STAGE_TOKEN, 0,
				   "admin JWT \"jti\" was used before (single use)");
	/* forget the ones whose tokens have expired (they cannot be replayed any more) */
	if (ops->obj_list(impl, CCT_KBS_STORE_KIND_ADMIN_JTI, &names, NULL) != CCT_OK)
		return CCT_OK;
	list = json_loads(names, 0, NULL);
	free(names);
	for (i = 0; i < json_array_size(list); i++) {
		const char *n = json_string_value(json_array_get(list, i));
		uint8_t *val = NULL;
		size_t vn = 0;

		if (n && ops->obj_get(impl, CCT_KBS_STORE_KIND_ADMIN_JTI, n, &val, &vn, NULL) ==
				 CCT_OK &&
		    strtoll((const char *)val, NULL, 10) < now)
			ops->obj_delete(impl, CCT_KBS_STORE_KIND_ADMIN_JTI, n, NULL);
		free(val);
	}
	json_decref(list);
	return CCT_OK;
}
