/* EAR attestation results as compact JWS (RFC 7515) in Trustee's profile: ES256 over P-256, the
 * public JWK in the protected header. JWS and JWK handling is the shared token/jose.c (OpenSSL).
 * Only ES256 is produced and accepted ("none" and every other alg are refused). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "cctrust/core.h"
#include "cctrust/token.h"
#include "token/jose.h"
#include "x509/x509.h"

struct cct_token_signer {
	EVP_PKEY *key;
	json_t *jwk; /* public JWK incl. kid */
};

static char *b64url(const uint8_t *p, size_t n)
{
	return cct_b64_encode(p, n, 1);
}

/* Public JWK of the signing key + RFC 7638 thumbprint as kid. */
static json_t *make_jwk(EVP_PKEY *k)
{
	json_t *jwk = cct_jose_pkey_to_jwk(k, "ES256"), *tp;
	uint8_t d[32];
	char *t, *kid;

	if (!jwk)
		return NULL;
	/* RFC 7638 thumbprint: required members, lexicographic order, no whitespace */
	tp = json_pack("{s:O,s:O,s:O,s:O}", "crv", json_object_get(jwk, "crv"), "kty",
		       json_object_get(jwk, "kty"), "x", json_object_get(jwk, "x"), "y",
		       json_object_get(jwk, "y"));
	t = tp ? json_dumps(tp, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(tp);
	if (!t) {
		json_decref(jwk);
		return NULL;
	}
	cct_sha256(t, strlen(t), d);
	free(t);
	kid = b64url(d, 32);
	json_object_set_new(jwk, "use", json_string("sig"));
	json_object_set_new(jwk, "kid", json_string(kid ? kid : ""));
	free(kid);
	return jwk;
}

static int signer_from_key(cct_token_signer **out, EVP_PKEY *k, cct_err *err)
{
	cct_token_signer *s;
	char grp[32] = "";

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL) ||
	    strcmp(grp, "prime256v1")) {
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_TOKEN, 0,
				   "token signing key must be EC P-256 (ES256)");
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		EVP_PKEY_free(k);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	s->key = k;
	s->jwk = make_jwk(k);
	if (!s->jwk) {
		cct_token_signer_free(s);
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_TOKEN, 0, "cannot export the public key");
	}
	*out = s;
	return CCT_OK;
}

int cct_token_signer_generate(cct_token_signer **out, cct_err *err)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	*out = NULL;
	if (!k)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_TOKEN, 0, "key generation failed");
	return signer_from_key(out, k, err);
}

int cct_token_signer_load_pem(cct_token_signer **out, const uint8_t *pem, size_t len,
			      cct_err *err)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	*out = NULL;
	BIO_free(b);
	if (!k)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_TOKEN, 0,
				   "token signing key: not a PEM private key");
	return signer_from_key(out, k, err);
}

char *cct_token_signer_pem(const cct_token_signer *s)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;

	if (!b || !PEM_write_bio_PrivateKey(b, s->key, NULL, NULL, 0, NULL, NULL))
		goto done;
	n = BIO_get_mem_data(b, &p);
	out = malloc((size_t)n + 1);
	if (out) {
		memcpy(out, p, (size_t)n);
		out[n] = 0;
	}
done:
	BIO_free(b);
	return out;
}

int cct_token_signer_set_x5c(cct_token_signer *s, const char *chain_pem, cct_err *err)
{
	BIO *b = BIO_new_mem_buf(chain_pem, -1);
	json_t *x5c = json_array();
	X509 *c;
	int rc = CCT_OK, n = 0;

	if (!b || !x5c) {
		BIO_free(b);
		json_decref(x5c);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	while (rc == CCT_OK && (c = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		uint8_t *der = NULL;
		int len = i2d_X509(c, &der);
		char *t = len > 0 ? cct_b64_encode(der, (size_t)len, 0) : NULL;

		/* RFC 7517 4.7: the first certificate holds the key the JWK describes */
		if (n == 0 && EVP_PKEY_eq(X509_get0_pubkey(c), s->key) != 1)
			rc = cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TOKEN, 0,
					 "--token-cert: the first certificate is not for the token "
					 "signing key");
		else if (!t)
			rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_TOKEN, 0,
					 "--token-cert: cannot encode certificate %d", n);
		else
			json_array_append_new(x5c, json_string(t));
		free(t);
		OPENSSL_free(der);
		X509_free(c);
		n++;
	}
	BIO_free(b);
	if (rc == CCT_OK && !n)
		rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_TOKEN, 0,
				 "--token-cert: no PEM certificate");
	if (rc == CCT_OK)
		json_object_set(s->jwk, "x5c", x5c);
	json_decref(x5c);
	return rc;
}

void cct_token_signer_free(cct_token_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	json_decref(s->jwk);
	free(s);
}

json_t *cct_token_signer_jwk(const cct_token_signer *s)
{
	return json_deep_copy(s->jwk);
}

json_t *cct_token_signer_jwks(const cct_token_signer *s)
{
	return json_pack("{s:[o]}", "keys", cct_token_signer_jwk(s));
}

int cct_token_sign(char **out, const cct_token_signer *s, const json_t *claims, cct_err *err)
{
	json_t *hdr;
	char *payload;
	int rc;

	*out = NULL;
	hdr = json_pack("{s:s,s:O,s:O}", "typ", "JWT", "jwk", s->jwk, "kid",
			json_object_get(s->jwk, "kid"));
	payload = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	if (!hdr || !payload)
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_TOKEN, 0, "cannot encode the token");
	else
		rc = cct_jose_jws_sign(out, s->key, "ES256", hdr, payload, strlen(payload), err);
	json_decref(hdr);
	free(payload);
	return rc;
}

const char *cct_token_jwk_private_member(const json_t *jwk)
{
	static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };
	size_t i;

	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (json_object_get(jwk, priv[i]))
			return priv[i];
	return NULL;
}

int cct_token_jwk_to_pkey(void **out, const json_t *jwk, cct_err *err)
{
	EVP_PKEY *k = NULL;
	int rc = cct_jose_jwk_to_pkey(&k, jwk, err);

	*out = k;
	return rc;
}

static int same_ec_key(const json_t *a, const json_t *b)
{
	static const char *const m[] = { "kty", "crv", "x", "y" };
	size_t i;

	for (i = 0; i < 4; i++) {
		const char *x = json_string_value(json_object_get(a, m[i]));
		const char *y = json_string_value(json_object_get(b, m[i]));

		if (!x || !y || strcmp(x, y))
			return 0;
	}
	return 1;
}

static int tok_err(cct_err *err, int code, const char *msg)
{
	return cct_err_set(err, code, CCT_STAGE_TOKEN, 0, "%s", msg);
}

int cct_token_verify(json_t **claims_out, const char *token, size_t len,
		     const cct_token_verify_opts *opts, cct_err *err)
{
	cct_token_verify_opts dflt;
	const char *alg, *prof;
	size_t i;
	json_t *hdr = NULL, *claims = NULL, *key = NULL;
	const json_t *hjwk, *sub, *v;
	void *pk = NULL;
	char *text = NULL;
	int skew, rc = CCT_ERROR;
	time_t at;
	const char *k;

	if (claims_out)
		*claims_out = NULL;
	if (!opts) {
		memset(&dflt, 0, sizeof(dflt));
		opts = &dflt;
	}
	at = opts->at ? opts->at : time(NULL);
	skew = opts->skew_s > 0 ? opts->skew_s : 60;
	while (len && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' '))
		len--;
	if (len > CCT_TOKEN_MAX_SIZE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_TOKEN, 0, "token larger than %u bytes",
				   CCT_TOKEN_MAX_SIZE);
	/* a NUL ends the string the JWS code reads: what follows it would ride along unsigned */
	if (memchr(token, 0, len))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, (size_t)((const char *)memchr(
						 token, 0, len) - token),
				   "token holds a NUL byte (a compact JWS is base64url text)");
	text = strndup(token, len);
	if (!text)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	rc = cct_jose_jws_peek(&hdr, NULL, text, err);
	if (rc != CCT_OK)
		goto out;
	rc = CCT_ERROR;
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (!alg || strcmp(alg, "ES256")) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_TOKEN, 0,
				 "token alg \"%.20s\" refused: only ES256 is accepted (never \"none\")",
				 alg ? alg : "(missing)");
		goto out;
	}
	hjwk = json_object_get(hdr, "jwk");
	if (opts->jwks) {
		const json_t *keys = json_object_get(opts->jwks, "keys"), *x;
		const char *kid = json_string_value(json_object_get(hdr, "kid"));

		json_array_foreach(keys, i, x) {
			const char *xk = json_string_value(json_object_get(x, "kid"));

			if ((hjwk && same_ec_key(x, hjwk)) || (!hjwk && kid && xk && !strcmp(kid, xk))) {
				key = json_incref((json_t *)x);
				break;
			}
		}
		if (!key) {
			rc = tok_err(err, CCT_EUNTRUSTED,
				     "token signing key is not in the trusted key set (not "
				     "signed by a key this verifier trusts)");
			goto out;
		}
	} else if (opts->trust_header_jwk_insecure && hjwk) {
		key = json_incref((json_t *)hjwk);
	} else {
		rc = tok_err(err, CCT_EUNTRUSTED,
			     "no trusted key set: give the verifier's JWKS (--jwks FILE; cctrust sim "
			     "jwks DIR prints the simulated one)");
		goto out;
	}
	rc = cct_token_jwk_to_pkey(&pk, key, err);
	if (rc != CCT_OK) {
		if (err)
			err->stage = CCT_STAGE_TOKEN;
		goto out;
	}
	/* signature, alg/key fit and "crit" refusal: the shared JWS code */
	rc = cct_jose_jws_verify(&claims, text, (EVP_PKEY *)pk, "ES256", err);
	if (rc != CCT_OK) {
		if (rc == CCT_ESIGNATURE)
			tok_err(err, CCT_ESIGNATURE, "token signature does not verify with its key");
		goto out;
	}
	rc = CCT_ERROR;
	v = json_object_get(claims, "exp");
	if (!json_is_integer(v)) {
		rc = tok_err(err, CCT_EFORMAT,
			     v ? "token \"exp\" is not an integer NumericDate (seconds since the "
				 "epoch)"
			       : "token has no \"exp\"");
		goto out;
	}
	/* at - skew: exp + skew overflows for an exp near the integer maximum */
	if ((json_int_t)at - skew > json_integer_value(v)) {
		rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0,
				 "token expired (exp %lld, now %lld)", (long long)json_integer_value(v),
				 (long long)at);
		goto out;
	}
	v = json_object_get(claims, "iat");
	if (v && !json_is_integer(v)) { /* present: judged, never ignored for its type */
		rc = tok_err(err, CCT_EFORMAT,
			     "token \"iat\" is not an integer NumericDate (seconds since the epoch)");
		goto out;
	}
	if (json_is_integer(v) && json_integer_value(v) > (json_int_t)at + skew) {
		rc = tok_err(err, CCT_EEXPIRED, "token issued in the future (iat after now)");
		goto out;
	}
	v = json_object_get(claims, "nbf"); /* RFC 7519 4.1.5: not accepted before nbf */
	if (v && !json_is_integer(v)) {
		rc = tok_err(err, CCT_EFORMAT,
			     "token \"nbf\" is not an integer NumericDate (seconds since the epoch)");
		goto out;
	}
	if (json_is_integer(v) && json_integer_value(v) > (json_int_t)at + skew) {
		rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0,
				 "token not valid yet (nbf %lld, now %lld)",
				 (long long)json_integer_value(v), (long long)at);
		goto out;
	}
	prof = json_string_value(json_object_get(claims, "eat_profile"));
	if (!prof || strcmp(prof, opts->profile ? opts->profile : CCT_TOKEN_EAR_PROFILE)) {
		rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_TOKEN, 0,
				 "token eat_profile \"%.80s\" is not \"%s\"", prof ? prof : "(missing)",
				 opts->profile ? opts->profile : CCT_TOKEN_EAR_PROFILE);
		goto out;
	}
	sub = json_object_get(claims, "submods");
	if (!json_is_object(sub) || json_object_size(sub) == 0) {
		rc = tok_err(err, CCT_EFORMAT, "token has no EAR submods");
		goto out;
	}
	json_object_foreach((json_t *)sub, k, v) {
		if (!json_is_string(json_object_get(v, "ear.status"))) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, 0,
					 "submod \"%.40s\" has no ear.status", k);
			goto out;
		}
	}
	if (claims_out) {
		*claims_out = claims;
		claims = NULL;
	}
	rc = CCT_OK;
out:
	free(text);
	json_decref(hdr);
	json_decref(claims);
	json_decref(key);
	EVP_PKEY_free((EVP_PKEY *)pk);
	return rc;
}
