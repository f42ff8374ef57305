/* EAR attestation results as compact JWS (RFC 7515) in Trustee's profile: ES256 over P-256, the
 * public JWK in the protected header. All crypto is OpenSSL; JSON is jansson; base64url from core.
 * Only ES256 is produced and accepted ("none" and every other alg are refused). */
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
#include "x509/x509.h"

struct cct_token_signer {
	EVP_PKEY *key;
	json_t *jwk; /* public JWK incl. kid */
};

static char *b64url(const uint8_t *p, size_t n)
{
	return cct_b64_encode(p, n, 1);
}

static int bn_member(json_t *o, const char *name, const BIGNUM *bn, int width)
{
	uint8_t buf[32];
	char *s;

	if (BN_bn2binpad(bn, buf, width) != width)
		return -1;
	s = b64url(buf, (size_t)width);
	if (!s)
		return -1;
	json_object_set_new(o, name, json_string(s));
	free(s);
	return 0;
}

static json_t *make_jwk(EVP_PKEY *k)
{
	BIGNUM *x = NULL, *y = NULL;
	json_t *jwk = json_object(), *tp;
	uint8_t d[32];
	char *t = NULL, *kid = NULL;

	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
		goto fail;
	json_object_set_new(jwk, "kty", json_string("EC"));
	json_object_set_new(jwk, "crv", json_string("P-256"));
	if (bn_member(jwk, "x", x, 32) || bn_member(jwk, "y", y, 32))
		goto fail;
	/* RFC 7638 thumbprint: required members, lexicographic order, no whitespace */
	tp = json_pack("{s:O,s:O,s:O,s:O}", "crv", json_object_get(jwk, "crv"), "kty",
		       json_object_get(jwk, "kty"), "x", json_object_get(jwk, "x"), "y",
		       json_object_get(jwk, "y"));
	t = json_dumps(tp, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(tp);
	if (!t)
		goto fail;
	cct_sha256(t, strlen(t), d);
	kid = b64url(d, 32);
	json_object_set_new(jwk, "alg", json_string("ES256"));
	json_object_set_new(jwk, "use", json_string("sig"));
	json_object_set_new(jwk, "kid", json_string(kid ? kid : ""));
	free(t);
	free(kid);
	BN_free(x);
	BN_free(y);
	return jwk;
fail:
	free(t);
	BN_free(x);
	BN_free(y);
	json_decref(jwk);
	return NULL;
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

static char *b64url_json(const json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS), *r;

	if (!t)
		return NULL;
	r = b64url((const uint8_t *)t, strlen(t));
	free(t);
	return r;
}

int cct_token_sign(char **out, const cct_token_signer *s, const json_t *claims, cct_err *err)
{
	json_t *hdr = NULL;
	char *h = NULL, *p = NULL, *sg = NULL, *input = NULL;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *sig = NULL;
	uint8_t der[80], raw[64];
	const uint8_t *dp = der;
	size_t dl = sizeof(der), n;
	int rc = CCT_ERROR;

	*out = NULL;
	hdr = json_pack("{s:s,s:s,s:O,s:O}", "alg", "ES256", "typ", "JWT", "jwk", s->jwk, "kid",
			json_object_get(s->jwk, "kid"));
	h = b64url_json(hdr);
	p = b64url_json(claims);
	if (!h || !p) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_TOKEN, 0, "cannot encode the token");
		goto out;
	}
	n = strlen(h) + 1 + strlen(p);
	input = malloc(n + 1 + 100);
	if (!input) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	strcpy(input, h);
	strcat(input, ".");
	strcat(input, p);
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->key) != 1 ||
	    EVP_DigestSign(md, der, &dl, (const uint8_t *)input, n) != 1 ||
	    !(sig = d2i_ECDSA_SIG(NULL, &dp, (long)dl)) ||
	    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) != 32) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_TOKEN, 0, "ES256 signing failed");
		goto out;
	}
	sg = b64url(raw, 64);
	if (!sg) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	input[n] = '.';
	memcpy(input + n + 1, sg, strlen(sg) + 1);
	*out = input;
	input = NULL;
	rc = CCT_OK;
out:
	json_decref(hdr);
	free(h);
	free(p);
	free(sg);
	free(input);
	EVP_MD_CTX_free(md);
	ECDSA_SIG_free(sig);
	return rc;
}

/* base64url member of exactly n bytes (n = 0: any length up to 1024). malloc'd. */
static int b64_member(uint8_t **out, size_t *len, const json_t *jwk, const char *name, size_t n,
		      cct_err *err)
{
	const char *s = json_string_value(json_object_get(jwk, name));

	*out = NULL;
	if (!s || cct_b64_decode(out, len, s, strlen(s), NULL) != CCT_OK ||
	    (n && *len != n) || (!n && (*len == 0 || *len > 1024))) {
		free(*out);
		*out = NULL;
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "JWK member \"%s\" missing or not base64url of the right size", name);
	}
	return CCT_OK;
}

int cct_token_jwk_to_pkey(void **out, const json_t *jwk, cct_err *err)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *k = NULL;
	uint8_t *a = NULL, *b = NULL, *pt = NULL;
	size_t an = 0, bn_ = 0;
	BIGNUM *n = NULL, *e = NULL;
	int rc = CCT_ERROR;

	*out = NULL;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (kty && !strcmp(kty, "EC")) {
		const char *crv = json_string_value(json_object_get(jwk, "crv"));
		const char *grp = NULL;
		size_t w = 0;

		if (crv && !strcmp(crv, "P-256"))
			grp = "prime256v1", w = 32;
		else if (crv && !strcmp(crv, "P-384"))
			grp = "secp384r1", w = 48;
		else if (crv && !strcmp(crv, "P-521"))
			grp = "secp521r1", w = 66;
		if (!grp) {
			rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					 "JWK curve \"%.20s\" is not supported (P-256, P-384, P-521)",
					 crv ? crv : "none");
			goto out;
		}
		if ((rc = b64_member(&a, &an, jwk, "x", w, err)) != CCT_OK ||
		    (rc = b64_member(&b, &bn_, jwk, "y", w, err)) != CCT_OK)
			goto out;
		rc = CCT_ERROR;
		pt = malloc(1 + 2 * w);
		if (!pt)
			goto out;
		pt[0] = 4;
		memcpy(pt + 1, a, w);
		memcpy(pt + 1 + w, b, w);
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, grp, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * w))
			goto out;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else if (kty && !strcmp(kty, "RSA")) {
		if ((rc = b64_member(&a, &an, jwk, "n", 0, err)) != CCT_OK ||
		    (rc = b64_member(&b, &bn_, jwk, "e", 0, err)) != CCT_OK)
			goto out;
		rc = CCT_ERROR;
		if (an < 256) {
			rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					 "RSA JWK modulus is %zu bits; at least 2048 required", an * 8);
			goto out;
		}
		n = BN_bin2bn(a, (int)an, NULL);
		e = BN_bin2bn(b, (int)bn_, NULL);
		if (!n || !e || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "JWK kty \"%.20s\" is not supported (EC, RSA)", kty ? kty : "none");
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!ctx || !params || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "JWK does not describe a valid %s public key", kty);
		goto out;
	}
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	if (!chk || EVP_PKEY_public_check(chk) != 1) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "JWK public key fails validation (point not on the curve?)");
		goto out;
	}
	*out = k;
	k = NULL;
	rc = CCT_OK;
out:
	OSSL_PARAM_BLD_free(bld);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_free(k);
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	free(pt);
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
	const char *d1, *d2, *alg, *prof;
	uint8_t *hb = NULL, *pb = NULL, *sb = NULL;
	size_t hn = 0, pn = 0, sn = 0, i;
	json_t *hdr = NULL, *claims = NULL, *key = NULL;
	const json_t *hjwk, *sub, *v;
	void *pk = NULL;
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	uint8_t *der = NULL;
	int dl, skew, rc = CCT_ERROR;
	EVP_MD_CTX *md = NULL;
	time_t at;
	json_error_t je;
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
	d1 = memchr(token, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
		return tok_err(err, CCT_EFORMAT, "not a compact JWS (header.payload.signature)");
	if (cct_b64_decode(&hb, &hn, token, (size_t)(d1 - token), NULL) != CCT_OK ||
	    cct_b64_decode(&pb, &pn, d1 + 1, (size_t)(d2 - d1 - 1), NULL) != CCT_OK ||
	    cct_b64_decode(&sb, &sn, d2 + 1, len - (size_t)(d2 + 1 - token), NULL) != CCT_OK) {
		rc = tok_err(err, CCT_EENCODING, "token part is not base64url");
		goto out;
	}
	hdr = json_loadb((const char *)hb, hn, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(hdr)) {
		rc = tok_err(err, CCT_EENCODING, "token header is not a JSON object");
		goto out;
	}
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (!alg || strcmp(alg, "ES256")) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_TOKEN, 0,
				 "token alg \"%.20s\" refused: only ES256 is accepted (never \"none\")",
				 alg ? alg : "(missing)");
		goto out;
	}
	if (json_object_get(hdr, "crit")) {
		rc = tok_err(err, CCT_EUNSUPPORTED, "token header has \"crit\" extensions");
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
				     "token signing key is not in the trusted key set (--jwks)");
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
	if (sn != 64) {
		rc = tok_err(err, CCT_ESIGNATURE, "ES256 signature must be 64 bytes (r||s)");
		goto out;
	}
	rc = cct_token_jwk_to_pkey(&pk, key, err);
	if (rc != CCT_OK) {
		if (err)
			err->stage = CCT_STAGE_TOKEN;
		goto out;
	}
	rc = CCT_ERROR;
	r = BN_bin2bn(sb, 32, NULL);
	s = BN_bin2bn(sb + 32, 32, NULL);
	sig = ECDSA_SIG_new();
	if (!r || !s || !sig || !ECDSA_SIG_set0(sig, r, s))
		goto out;
	r = s = NULL;
	dl = i2d_ECDSA_SIG(sig, &der);
	md = EVP_MD_CTX_new();
	if (dl <= 0 || !md || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestVerify(md, der, (size_t)dl, (const uint8_t *)token, (size_t)(d2 - token)) != 1) {
		rc = tok_err(err, CCT_ESIGNATURE, "token signature does not verify with its key");
		goto out;
	}
	claims = json_loadb((const char *)pb, pn, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(claims)) {
		rc = tok_err(err, CCT_EENCODING, "token payload is not a JSON object");
		goto out;
	}
	v = json_object_get(claims, "exp");
	if (!json_is_integer(v)) {
		rc = tok_err(err, CCT_EFORMAT, "token has no \"exp\"");
		goto out;
	}
	if ((json_int_t)at > json_integer_value(v) + skew) {
		rc = cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_TOKEN, 0,
				 "token expired (exp %lld, now %lld)", (long long)json_integer_value(v),
				 (long long)at);
		goto out;
	}
	v = json_object_get(claims, "iat");
	if (json_is_integer(v) && json_integer_value(v) > (json_int_t)at + skew) {
		rc = tok_err(err, CCT_EEXPIRED, "token issued in the future (iat after now)");
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
	free(hb);
	free(pb);
	free(sb);
	OPENSSL_free(der);
	json_decref(hdr);
	json_decref(claims);
	json_decref(key);
	EVP_PKEY_free((EVP_PKEY *)pk);
	ECDSA_SIG_free(sig);
	BN_free(r);
	BN_free(s);
	EVP_MD_CTX_free(md);
	return rc;
}
