#define _GNU_SOURCE
/* JOSE over OpenSSL EVP: JWK <-> EVP_PKEY, compact JWS (ES256, EdDSA), flattened JWE
 * (ECDH-ES+A256KW P-256/P-384/P-521 / RSA-OAEP-256 with A256GCM). See jose.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "cctrust/core.h"
#include "token/jose.h"

#define JOSE_MAX_HEADER 8192
#define JWE_IV_SIZE 12
#define JWE_TAG_SIZE 16
#define JWE_CEK_SIZE 32
#define RSA_MIN_BITS 2048

static int jerr(cct_err *err, int code, const char *fmt, const char *arg)
{
	return cct_err_set(err, code, CCT_STAGE_INPUT, 0, fmt, arg ? arg : "");
}

int cct_jose_b64url_decode(uint8_t **out, size_t *out_len, const char *s, size_t n,
			   cct_err *err)
{
	size_t i;

	*out = NULL;
	*out_len = 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, i,
					   "not base64url: character 0x%02x at position %zu",
					   (unsigned char)c, i);
	}
	return cct_b64_decode(out, out_len, s, n, err);
}

char *cct_jose_b64url(const void *p, size_t n)
{
	return cct_b64_encode(p, n, 1);
}

/* A base64url member of obj decoded to exactly want bytes (want 0: any 1..max). */
static int jwk_bytes(uint8_t **out, size_t *n, const json_t *obj, const char *key, size_t want,
		     size_t max, cct_err *err)
{
	const char *s = json_string_value(json_object_get(obj, key));

	*out = NULL;
	if (!s)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "JWK member \"%s\" missing or not a string", key);
	if (cct_jose_b64url_decode(out, n, s, strlen(s), err) != CCT_OK)
		return CCT_EENCODING;
	if ((want && *n != want) || *n == 0 || *n > max) {
		free(*out);
		*out = NULL;
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "JWK member \"%s\" has %zu bytes, expected %zu", key, *n, want);
	}
	return CCT_OK;
}

/* Keys holding only the domain parameters of each NIST curve, made once: a copy of one takes a
 * public point for a fraction of what building the group from its name costs (EVP_PKEY_fromdata
 * builds the curve, its Montgomery constants included, on every call). Read without a lock
 * once made. */
static const char *const ec_template_names[] = { "prime256v1", "secp384r1", "secp521r1" };
static EVP_PKEY *ec_templates[3];
static pthread_once_t ec_templates_once = PTHREAD_ONCE_INIT;

static void ec_templates_init(void)
{
	OSSL_PARAM params[2];
	EVP_PKEY_CTX *ctx;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)))
			continue;
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
							     (char *)ec_template_names[i], 0);
		params[1] = OSSL_PARAM_construct_end();
		if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
		    EVP_PKEY_fromdata(ctx, &ec_templates[i], EVP_PKEY_KEY_PARAMETERS, params) <= 0)
			ec_templates[i] = NULL;
		EVP_PKEY_CTX_free(ctx);
	}
}

/* The template of group, or NULL (another group, or it could not be made). */
static EVP_PKEY *ec_group_template(const char *group)
{
	size_t i;

	pthread_once(&ec_templates_once, ec_templates_init);
	for (i = 0; i < 3; i++)
		if (!strcmp(group, ec_template_names[i]))
			return ec_templates[i];
	return NULL;
}

static int ec_from_xy(EVP_PKEY **out, const char *group, const uint8_t *x, const uint8_t *y,
		      size_t clen, cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t pt[1 + 2 * 66];
	EVP_PKEY_CTX *chk = NULL;
	EVP_PKEY *tpl = ec_group_template(group), *key = tpl ? EVP_PKEY_dup(tpl) : NULL;

	pt[0] = 0x04;
	memcpy(pt + 1, x, clen);
	memcpy(pt + 1 + clen, y, clen);
	if (!key || EVP_PKEY_set1_encoded_public_key(key, pt, 1 + 2 * clen) <= 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "JWK EC point is not a valid %s public key", group);
		goto out;
	}
	/* on the curve and not the point at infinity; the NIST curves have cofactor 1, so the
	 * full check's extra scalar multiplication by the order (as costly as a signature)
	 * proves nothing more */
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (!chk || EVP_PKEY_public_check_quick(chk) <= 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "JWK EC point is not on curve %s", group);
		goto out;
	}
	*out = key;
	key = NULL;
	rc = CCT_OK;
out:
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(chk);
	return rc;
}

static int rsa_from_ne(EVP_PKEY **out, const uint8_t *n, size_t nlen, const uint8_t *e,
		       size_t elen, cct_err *err)
{
	int rc = CCT_ERROR;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		goto out;
	}
	if (BN_num_bits(bn) < RSA_MIN_BITS || !BN_is_odd(be) || BN_is_one(be)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "JWK RSA key has %d bits or a bad exponent (need >= %d bits)",
				 BN_num_bits(bn), RSA_MIN_BITS);
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "JWK RSA key is invalid");
		goto out;
	}
	*out = key;
	key = NULL;
	rc = CCT_OK;
out:
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

int cct_jose_jwk_to_pkey(EVP_PKEY **out, const json_t *jwk, cct_err *err)
{
	int rc = CCT_ERROR;
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	uint8_t *a = NULL, *b = NULL;
	size_t an = 0, bn = 0;

	*out = NULL;
	if (!json_is_object(jwk) || !kty) {
		rc = jerr(err, CCT_EFORMAT, "JWK is not an object with a \"kty\"%s", NULL);
		goto out;
	}
	if (!strcmp(kty, "EC")) {
		const char *group;
		size_t clen;

		if (crv && !strcmp(crv, "P-256")) {
			group = "prime256v1";
			clen = 32;
		} else if (crv && !strcmp(crv, "P-384")) {
			group = "secp384r1";
			clen = 48;
		} else if (crv && !strcmp(crv, "P-521")) {
			group = "secp521r1";
			clen = 66;
		} else {
			rc = jerr(err, CCT_EUNSUPPORTED, "JWK EC curve \"%s\" not supported", crv);
			goto out;
		}
		if ((rc = jwk_bytes(&a, &an, jwk, "x", clen, clen, err)) != CCT_OK ||
		    (rc = jwk_bytes(&b, &bn, jwk, "y", clen, clen, err)) != CCT_OK)
			goto out;
		rc = ec_from_xy(out, group, a, b, clen, err);
	} else if (!strcmp(kty, "RSA")) {
		if ((rc = jwk_bytes(&a, &an, jwk, "n", 0, 1024, err)) != CCT_OK ||
		    (rc = jwk_bytes(&b, &bn, jwk, "e", 0, 8, err)) != CCT_OK)
			goto out;
		rc = rsa_from_ne(out, a, an, b, bn, err);
	} else if (!strcmp(kty, "OKP")) {
		if (!crv || strcmp(crv, "Ed25519")) {
			rc = jerr(err, CCT_EUNSUPPORTED, "JWK OKP curve \"%s\" not supported", crv);
			goto out;
		}
		if ((rc = jwk_bytes(&a, &an, jwk, "x", 32, 32, err)) != CCT_OK)
			goto out;
		*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, an);
		rc = *out ? CCT_OK : jerr(err, CCT_EFORMAT, "JWK Ed25519 key invalid%s", NULL);
	} else {
		rc = jerr(err, CCT_EUNSUPPORTED, "JWK key type \"%s\" not supported", kty);
	}
out:
	free(a);
	free(b);
	return rc;
}

int cct_jose_jwk_text_to_pkey(EVP_PKEY **out, const char *text, cct_err *err)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	int rc;

	*out = NULL;
	if (!j)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0, "JWK is not JSON: %s",
				   je.text);
	rc = cct_jose_jwk_to_pkey(out, j, err);
	json_decref(j);
	return rc;
}

static int set_b64(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = cct_jose_b64url(p, n);
	int rc;

	if (!s)
		return -1;
	rc = json_object_set_new(o, k, json_string(s));
	free(s);
	return rc;
}

static int bn_param(EVP_PKEY *key, const char *name, uint8_t *buf, size_t size, size_t *n)
{
	BIGNUM *bn = NULL;
	int len;

	if (!EVP_PKEY_get_bn_param(key, name, &bn))
		return -1;
	len = size ? BN_bn2binpad(bn, buf, (int)size) : BN_bn2bin(bn, buf);
	BN_free(bn);
	if (len < 0)
		return -1;
	*n = (size_t)len;
	return 0;
}

json_t *cct_jose_pkey_to_jwk(EVP_PKEY *key, const char *alg)
{
	json_t *o = json_object();
	uint8_t a[512], b[512];
	size_t an = 0, bn = 0;
	int ok = 0;

	if (!o || !key)
		goto out;
	if (EVP_PKEY_is_a(key, "EC")) {
		char group[64];
		size_t clen;
		const char *crv;

		if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), NULL))
			goto out;
		if (!strcmp(group, "prime256v1")) {
			crv = "P-256";
			clen = 32;
		} else if (!strcmp(group, "secp384r1")) {
			crv = "P-384";
			clen = 48;
		} else if (!strcmp(group, "secp521r1")) {
			crv = "P-521";
			clen = 66;
		} else {
			goto out;
		}
		/* the uncompressed point 04 || x || y: one conversion to affine coordinates, where
		 * asking for x and for y converts (a field inversion) twice */
		if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, a,
						    sizeof(a), &an) &&
		    an == 1 + 2 * clen && a[0] == 0x04) {
			memcpy(b, a + 1 + clen, clen);
			memmove(a, a + 1, clen);
			an = bn = clen;
		} else if (bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, a, clen, &an) ||
			   bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, b, clen, &bn)) {
			goto out;
		}
		json_object_set_new(o, "kty", json_string("EC"));
		json_object_set_new(o, "crv", json_string(crv));
		ok = !set_b64(o, "x", a, an) && !set_b64(o, "y", b, bn);
	} else if (EVP_PKEY_is_a(key, "RSA")) {
		if (EVP_PKEY_get_bits(key) > 4096 || bn_param(key, OSSL_PKEY_PARAM_RSA_N, a, 0, &an) ||
		    bn_param(key, OSSL_PKEY_PARAM_RSA_E, b, 0, &bn))
			goto out;
		json_object_set_new(o, "kty", json_string("RSA"));
		ok = !set_b64(o, "n", a, an) && !set_b64(o, "e", b, bn);
	} else if (EVP_PKEY_is_a(key, "ED25519")) {
		an = 32;
		if (!EVP_PKEY_get_raw_public_key(key, a, &an))
			goto out;
		json_object_set_new(o, "kty", json_string("OKP"));
		json_object_set_new(o, "crv", json_string("Ed25519"));
		ok = !set_b64(o, "x", a, an);
	}
	if (ok && alg)
		json_object_set_new(o, "alg", json_string(alg));
out:
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- JWS ---- */

static char *b64url_json(const json_t *j)
{
	char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	char *s;

	if (!txt)
		return NULL;
	s = cct_jose_b64url(txt, strlen(txt));
	free(txt);
	return s;
}

/* The JWS algorithms (RFC 7518 3.1, RFC 8037): key type, digest, signature form. */
typedef struct jws_alg {
	const char *name;
	const char *key;   /* EVP key type */
	int bits;          /* EC curve size; RSA: minimum modulus */
	const char *md;    /* NULL: EdDSA (no pre-hash) */
	int pss;           /* RSA-PSS (salt = digest length) */
	size_t ec_half;    /* ECDSA: bytes of r and of s (raw r||s) */
} jws_alg;

static const jws_alg jws_algs[] = {
	{ "ES256", "EC", 256, "SHA256", 0, 32 },
	{ "ES384", "EC", 384, "SHA384", 0, 48 },
	{ "EdDSA", "ED25519", 0, NULL, 0, 0 },
	{ "RS256", "RSA", RSA_MIN_BITS, "SHA256", 0, 0 },
	{ "PS256", "RSA", RSA_MIN_BITS, "SHA256", 1, 0 },
};

static const jws_alg *jws_alg_find(const char *alg)
{
	size_t i;

	for (i = 0; alg && i < sizeof(jws_algs) / sizeof(jws_algs[0]); i++)
		if (!strcmp(jws_algs[i].name, alg))
			return &jws_algs[i];
	return NULL;
}

static int alg_matches_key(const char *alg, EVP_PKEY *key)
{
	const jws_alg *a = jws_alg_find(alg);

	if (!a || !key || !EVP_PKEY_is_a(key, a->key))
		return 0;
	if (!strcmp(a->key, "EC"))
		return EVP_PKEY_get_bits(key) == a->bits;
	if (!strcmp(a->key, "RSA"))
		return EVP_PKEY_get_bits(key) >= a->bits;
	return 1;
}

int cct_jose_alg_fits_key(const char *alg, EVP_PKEY *key)
{
	return alg_matches_key(alg, key);
}

static int ds_init(EVP_MD_CTX *md, const jws_alg *a, EVP_PKEY *key, int sign)
{
	EVP_PKEY_CTX *pc = NULL;
	const EVP_MD *d = a->md ? EVP_get_digestbyname(a->md) : NULL;

	if ((sign ? EVP_DigestSignInit(md, &pc, d, NULL, key)
		  : EVP_DigestVerifyInit(md, &pc, d, NULL, key)) <= 0)
		return -1;
	if (!strcmp(a->key, "RSA") &&
	    (EVP_PKEY_CTX_set_rsa_padding(pc, a->pss ? RSA_PKCS1_PSS_PADDING
						     : RSA_PKCS1_PADDING) <= 0 ||
	     (a->pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) <= 0)))
		return -1;
	return 0;
}

int cct_jose_jws_sign(char **out, EVP_PKEY *key, const char *alg, const json_t *hdr_extra,
		      const char *payload, size_t payload_len, cct_err *err)
{
	int rc = CCT_ERROR;
	json_t *hdr = json_object();
	char *h64 = NULL, *p64 = NULL, *s64 = NULL, *input = NULL;
	uint8_t *der = NULL, *sig = NULL;
	size_t derlen = 0, siglen = 0, inlen;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = NULL;
	const jws_alg *a = jws_alg_find(alg);

	*out = NULL;
	if (!hdr || !md || !key || !a || !alg_matches_key(alg, key)) {
		rc = jerr(err, CCT_EINVAL, "JWS: key does not fit alg %s", alg);
		goto out;
	}
	if (hdr_extra)
		json_object_update(hdr, (json_t *)hdr_extra);
	json_object_set_new(hdr, "alg", json_string(alg));
	h64 = b64url_json(hdr);
	p64 = cct_jose_b64url(payload, payload_len);
	if (!h64 || !p64)
		goto oom;
	inlen = strlen(h64) + 1 + strlen(p64);
	input = malloc(inlen + 1);
	if (!input)
		goto oom;
	snprintf(input, inlen + 1, "%s.%s", h64, p64);
	if (ds_init(md, a, key, 1) ||
	    EVP_DigestSign(md, NULL, &derlen, (const uint8_t *)input, inlen) <= 0 ||
	    !(der = malloc(derlen)) ||
	    EVP_DigestSign(md, der, &derlen, (const uint8_t *)input, inlen) <= 0) {
		rc = jerr(err, CCT_ERROR, "JWS signing failed%s", NULL);
		goto out;
	}
	if (a->ec_half) { /* DER ECDSA-Sig-Value -> raw r || s */
		const uint8_t *q = der;
		const BIGNUM *r, *s;

		es = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
		if (!es || !(sig = malloc(2 * a->ec_half)))
			goto oom;
		ECDSA_SIG_get0(es, &r, &s);
		if (BN_bn2binpad(r, sig, (int)a->ec_half) != (int)a->ec_half ||
		    BN_bn2binpad(s, sig + a->ec_half, (int)a->ec_half) != (int)a->ec_half)
			goto oom;
		siglen = 2 * a->ec_half;
	} else {
		sig = der;
		der = NULL;
		siglen = derlen;
	}
	s64 = cct_jose_b64url(sig, siglen);
	if (!s64)
		goto oom;
	*out = malloc(inlen + 1 + strlen(s64) + 1);
	if (!*out)
		goto oom;
	sprintf(*out, "%s.%s", input, s64);
	rc = CCT_OK;
	goto out;
oom:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_TOKEN, 0, "out of memory signing a JWS");
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	json_decref(hdr);
	free(h64);
	free(p64);
	free(s64);
	free(input);
	free(der);
	free(sig);
	return rc;
}

/* Split a compact JWS into its three parts (pointers into jws). */
static int jws_split(const char *jws, size_t *l1, const char **p2, size_t *l2, const char **p3,
		     size_t *l3, cct_err *err)
{
	const char *d1, *d2;
	size_t n;

	/* outputs are defined on every path, also when the split fails */
	*l1 = *l2 = *l3 = 0;
	*p2 = *p3 = NULL;
	n = strnlen(jws, CCT_JOSE_MAX_TOKEN + 1);
	if (n > CCT_JOSE_MAX_TOKEN)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_TOKEN, 0,
				   "JWS longer than %u bytes", CCT_JOSE_MAX_TOKEN);
	d1 = memchr(jws, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jws)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jws)))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, 0,
				   "not a compact JWS (need exactly three dot-separated parts)");
	*l1 = (size_t)(d1 - jws);
	*p2 = d1 + 1;
	*l2 = (size_t)(d2 - *p2);
	*p3 = d2 + 1;
	*l3 = n - (size_t)(*p3 - jws);
	return CCT_OK;
}

static int decode_json_part(json_t **out, const char *p, size_t n, const char *what,
			    cct_err *err)
{
	uint8_t *raw = NULL;
	size_t rn = 0;
	json_error_t je;

	*out = NULL;
	if (cct_jose_b64url_decode(&raw, &rn, p, n, err) != CCT_OK)
		return CCT_EENCODING;
	*out = json_loadb((const char *)raw, rn, JSON_REJECT_DUPLICATES, &je);
	free(raw);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, 0,
				   "JWS %s is not a JSON object", what);
	}
	return CCT_OK;
}

int cct_jose_jws_peek(json_t **header_out, json_t **payload_out, const char *jws, cct_err *err)
{
	size_t l1, l2, l3;
	const char *p2, *p3;
	json_t *h = NULL, *p = NULL;
	int rc;

	if (header_out)
		*header_out = NULL;
	if (payload_out)
		*payload_out = NULL;
	if ((rc = jws_split(jws, &l1, &p2, &l2, &p3, &l3, err)) != CCT_OK)
		return rc;
	if (l1 > JOSE_MAX_HEADER)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_TOKEN, 0, "JWS header too long");
	if ((rc = decode_json_part(&h, jws, l1, "header", err)) != CCT_OK ||
	    (rc = decode_json_part(&p, p2, l2, "payload", err)) != CCT_OK) {
		json_decref(h);
		return rc;
	}
	if (header_out)
		*header_out = h;
	else
		json_decref(h);
	if (payload_out)
		*payload_out = p;
	else
		json_decref(p);
	return CCT_OK;
}

char *cct_jose_jws_detach(const char *jws, const char *payload)
{
	size_t l1, l2, l3;
	const char *p2, *p3;
	char *enc, *t = NULL;

	if (jws_split(jws, &l1, &p2, &l2, &p3, &l3, NULL) != CCT_OK ||
	    !(enc = cct_jose_b64url(payload, strlen(payload))))
		return NULL;
	/* the segment as the encoder writes it, so attaching gives back the very same token */
	if (strlen(enc) == l2 && !memcmp(enc, p2, l2) && (t = malloc(l1 + 2 + l3 + 1)) != NULL) {
		memcpy(t, jws, l1);
		t[l1] = t[l1 + 1] = '.';
		memcpy(t + l1 + 2, p3, l3);
		t[l1 + 2 + l3] = 0;
	}
	free(enc);
	return t;
}

char *cct_jose_jws_attach(const char *detached, size_t n, const char *payload)
{
	size_t l1, l2, l3, pl;
	const char *p2, *p3;
	char *d = malloc(n + 1), *enc = NULL, *t = NULL;

	if (!d)
		return NULL;
	memcpy(d, detached, n);
	d[n] = 0;
	if (strlen(d) == n && jws_split(d, &l1, &p2, &l2, &p3, &l3, NULL) == CCT_OK && l2 == 0 &&
	    (enc = cct_jose_b64url(payload, strlen(payload))) != NULL &&
	    (t = malloc(n + (pl = strlen(enc)) + 1)) != NULL) {
		memcpy(t, d, l1 + 1);
		memcpy(t + l1 + 1, enc, pl);
		memcpy(t + l1 + 1 + pl, p3 - 1, l3 + 2); /* the dot, the signature, the NUL */
	}
	free(enc);
	free(d);
	return t;
}

int cct_jose_jws_payload_text(char **out, size_t *out_len, const char *jws, cct_err *err)
{
	size_t l1, l2, l3, rn = 0;
	const char *p2, *p3;
	uint8_t *raw = NULL;
	char *t;
	int rc;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if ((rc = jws_split(jws, &l1, &p2, &l2, &p3, &l3, err)) != CCT_OK)
		return rc;
	if (cct_jose_b64url_decode(&raw, &rn, p2, l2, err) != CCT_OK)
		return CCT_EENCODING;
	if (memchr(raw, 0, rn)) {
		free(raw);
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_TOKEN, 0,
				   "JWS payload holds a NUL byte");
	}
	if (!(t = realloc(raw, rn + 1))) {
		free(raw);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	t[rn] = 0;
	*out = t;
	if (out_len)
		*out_len = rn;
	return CCT_OK;
}

int cct_jose_jws_verify(json_t **payload_out, const char *jws, EVP_PKEY *key,
			const char *expect_alg, cct_err *err)
{
	int rc = CCT_ERROR;
	size_t l1, l2, l3, sn = 0, derlen = 0;
	const char *p2, *p3, *alg;
	json_t *hdr = NULL, *payload = NULL;
	uint8_t *sig = NULL, *der = NULL;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	const jws_alg *a;
	int der_ossl = 0;

	if (payload_out)
		*payload_out = NULL;
	if ((rc = cct_jose_jws_peek(&hdr, &payload, jws, err)) != CCT_OK)
		goto out;
	jws_split(jws, &l1, &p2, &l2, &p3, &l3, NULL);
	alg = json_string_value(json_object_get(hdr, "alg"));
	a = jws_alg_find(alg);
	if (!alg || !a || (expect_alg && strcmp(alg, expect_alg)) || !key ||
	    !alg_matches_key(alg, key)) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_TOKEN, 0,
				 "JWS alg \"%s\" where \"%s\" with a matching key is required",
				 alg ? alg : "(none)", expect_alg ? expect_alg : "an alg fitting the key");
		goto out;
	}
	if (json_object_get(hdr, "crit")) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_TOKEN, 0,
				 "JWS header has \"crit\" extensions, none are understood");
		goto out;
	}
	if ((rc = cct_jose_b64url_decode(&sig, &sn, p3, l3, err)) != CCT_OK)
		goto out;
	{
		size_t want = a->ec_half ? 2 * a->ec_half
			      : !strcmp(a->key, "RSA") ? (size_t)EVP_PKEY_get_size(key) : 64;

		if (sn != want) {
			rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_TOKEN, 0,
					 "JWS signature has %zu bytes, expected %zu", sn, want);
			goto out;
		}
	}
	md = EVP_MD_CTX_new();
	if (!md) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_TOKEN, 0, "out of memory");
		goto out;
	}
	if (a->ec_half) {
		BIGNUM *r = BN_bin2bn(sig, (int)a->ec_half, NULL);
		BIGNUM *s = BN_bin2bn(sig + a->ec_half, (int)a->ec_half, NULL);
		int dl;

		es = ECDSA_SIG_new();
		if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
			BN_free(r);
			BN_free(s);
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_TOKEN, 0, "out of memory");
			goto out;
		}
		dl = i2d_ECDSA_SIG(es, &der);
		if (dl <= 0) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_TOKEN, 0, "out of memory");
			goto out;
		}
		derlen = (size_t)dl;
		der_ossl = 1;
	} else {
		der = sig;
		sig = NULL;
		derlen = sn;
	}
	if (ds_init(md, a, key, 0) ||
	    EVP_DigestVerify(md, der, derlen, (const uint8_t *)jws, l1 + 1 + l2) != 1) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_TOKEN, 0,
				 "JWS %s signature does not verify", alg);
		goto out;
	}
	if (payload_out) {
		*payload_out = payload;
		payload = NULL;
	}
	rc = CCT_OK;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	if (der_ossl)
		OPENSSL_free(der);
	else
		free(der);
	free(sig);
	json_decref(hdr);
	json_decref(payload);
	return rc;
}

/* ---- JWE ---- */

/* JWA 4.6.2 Concat KDF = NIST SP 800-56A single-step KDF with SHA-256 (OpenSSL "SSKDF").
 * OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo, each datum length-
 * prefixed (32-bit big-endian); apu/apv empty; SuppPubInfo = keydatalen in bits. */
static int concat_kdf(uint8_t kek[32], const uint8_t *z, size_t zlen, const char *alg)
{
	uint8_t info[64];
	size_t alen = strlen(alg), n = 0;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM p[4];
	int ok = 0;

	if (alen > 32)
		return -1;
	info[n++] = 0; info[n++] = 0; info[n++] = 0; info[n++] = (uint8_t)alen;
	memcpy(info + n, alg, alen);
	n += alen;
	memset(info + n, 0, 8); /* PartyUInfo, PartyVInfo: empty */
	n += 8;
	info[n++] = 0; info[n++] = 0; info[n++] = 1; info[n++] = 0; /* 256 bits */
	kdf = EVP_KDF_fetch(NULL, "SSKDF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	p[3] = OSSL_PARAM_construct_end();
	ok = kctx && EVP_KDF_derive(kctx, kek, 32, p) > 0;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

/* ECDH of priv with peer. The peer is checked to be on the curve and not the point at
 * infinity; on the NIST curves (cofactor 1) that is full validity, so OpenSSL's own peer check,
 * which adds a scalar multiplication by the order (as costly as the ECDH itself), is not run. */
static int ecdh(uint8_t *z, size_t *zlen, EVP_PKEY *priv, EVP_PKEY *peer)
{
	EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	int ok = chk && c && EVP_PKEY_public_check_quick(chk) > 0 &&
		 EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer_ex(c, peer, 0) > 0 &&
		 EVP_PKEY_derive(c, NULL, zlen) > 0 && *zlen <= 66 &&
		 EVP_PKEY_derive(c, z, zlen) > 0;

	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

/* AES-256 key wrap (RFC 3394) of in (enc=1) or unwrap (enc=0). */
static int aes_kw(uint8_t *out, int *outlen, const uint8_t kek[32], const uint8_t *in, int inlen,
		  int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	if (!c)
		return -1;
	EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	ok = EVP_CipherInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL, enc) > 0 &&
	     EVP_CipherUpdate(c, out, &n1, in, inlen) > 0 && EVP_CipherFinal_ex(c, out + n1, &n2) > 0;
	EVP_CIPHER_CTX_free(c);
	*outlen = n1 + n2;
	return ok ? 0 : -1;
}

static int rsa_oaep256(uint8_t *out, size_t *outlen, EVP_PKEY *key, const uint8_t *in,
		       size_t inlen, int enc)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	int ok = c && (enc ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c)) > 0 &&
		 EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0 &&
		 EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) > 0 &&
		 EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) > 0 &&
		 (enc ? EVP_PKEY_encrypt(c, out, outlen, in, inlen)
		      : EVP_PKEY_decrypt(c, out, outlen, in, inlen)) > 0;

	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

/* A256GCM; enc=1 fills tag, enc=0 checks it. */
static int aes_gcm(uint8_t *out, const uint8_t cek[32], const uint8_t iv[12], const char *aad,
		   const uint8_t *in, size_t inlen, uint8_t tag[16], int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, ok;

	if (!c || inlen > INT32_MAX) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) > 0 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) > 0 &&
	     EVP_CipherInit_ex(c, NULL, NULL, cek, iv, enc) > 0 &&
	     EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) > 0 &&
	     (inlen == 0 || EVP_CipherUpdate(c, out, &n, in, (int)inlen) > 0) &&
	     (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) > 0) &&
	     EVP_CipherFinal_ex(c, out + (inlen ? n : 0), &fin) > 0 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) > 0);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* JWK curve name of an EC key on P-256 / P-384 / P-521, else NULL. */
static const char *ec_curve(EVP_PKEY *key)
{
	char group[64];

	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL))
		return NULL;
	return !strcmp(group, "prime256v1") ? "P-256"
	       : !strcmp(group, "secp384r1") ? "P-384"
	       : !strcmp(group, "secp521r1") ? "P-521" : NULL;
}

int cct_jose_jwe_encrypt(char **out, EVP_PKEY *recipient, const uint8_t *pt, size_t pt_len,
			 cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t cek[JWE_CEK_SIZE], iv[JWE_IV_SIZE], tag[JWE_TAG_SIZE], z[66], kek[32];
	uint8_t ek[1024], *ct = NULL;
	size_t zlen = sizeof(z), eklen = sizeof(ek);
	json_t *hdr = json_object(), *jwe = json_object(), *epk = NULL;
	EVP_PKEY *eph = NULL;
	char *h64 = NULL, *txt = NULL;
	const char *alg;
	int kwlen = 0;

	*out = NULL;
	if (!hdr || !jwe || !recipient || pt_len > CCT_JOSE_MAX_PLAINTEXT ||
	    !(ct = malloc(pt_len ? pt_len : 1))) {
		rc = cct_err_set(err, pt_len > CCT_JOSE_MAX_PLAINTEXT ? CCT_ETOOBIG : CCT_ENOMEM,
				 CCT_STAGE_NONE, 0, "JWE: secret too large or out of memory");
		goto out;
	}
	if (RAND_bytes(cek, sizeof(cek)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1)
		goto crypto;
	if (EVP_PKEY_is_a(recipient, "EC") && ec_curve(recipient)) {
		/* the ephemeral key is on the recipient's curve (JWA 4.6: P-256, P-384, P-521) */
		alg = "ECDH-ES+A256KW";
		eph = cct_jose_keygen(ec_curve(recipient));
		epk = eph ? cct_jose_pkey_to_jwk(eph, NULL) : NULL;
		if (!epk || ecdh(z, &zlen, eph, recipient) || concat_kdf(kek, z, zlen, alg) ||
		    aes_kw(ek, &kwlen, kek, cek, sizeof(cek), 1))
			goto crypto;
		eklen = (size_t)kwlen;
		json_object_set_new(hdr, "epk", epk);
		epk = NULL;
	} else if (EVP_PKEY_is_a(recipient, "RSA") && EVP_PKEY_get_bits(recipient) >= RSA_MIN_BITS) {
		alg = "RSA-OAEP-256";
		if ((size_t)EVP_PKEY_get_size(recipient) > sizeof(ek) ||
		    rsa_oaep256(ek, &eklen, recipient, cek, sizeof(cek), 1))
			goto crypto;
	} else {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				 "JWE: tee-pubkey must be EC P-256, P-384, P-521 or RSA >= %d bits", RSA_MIN_BITS);
		goto out;
	}
	json_object_set_new(hdr, "alg", json_string(alg));
	json_object_set_new(hdr, "enc", json_string("A256GCM"));
	h64 = b64url_json(hdr);
	if (!h64 || aes_gcm(ct, cek, iv, h64, pt, pt_len, tag, 1))
		goto crypto;
	json_object_set_new(jwe, "protected", json_string(h64));
	if (set_b64(jwe, "encrypted_key", ek, eklen) || set_b64(jwe, "iv", iv, sizeof(iv)) ||
	    set_b64(jwe, "ciphertext", ct, pt_len) || set_b64(jwe, "tag", tag, sizeof(tag)))
		goto crypto;
	txt = json_dumps(jwe, JSON_COMPACT);
	if (!txt)
		goto crypto;
	*out = txt;
	rc = CCT_OK;
	goto out;
crypto:
	rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "JWE encryption failed");
out:
	cct_wipe(cek, sizeof(cek));
	cct_wipe(kek, sizeof(kek));
	cct_wipe(z, sizeof(z));
	if (ct) {
		cct_wipe(ct, pt_len);
		free(ct);
	}
	json_decref(epk);
	json_decref(hdr);
	json_decref(jwe);
	EVP_PKEY_free(eph);
	free(h64);
	return rc;
}

static int jwe_member(uint8_t **out, size_t *n, const json_t *jwe, const char *k, cct_err *err)
{
	const char *s = json_string_value(json_object_get(jwe, k));

	*out = NULL;
	if (!s)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "JWE member \"%s\" missing", k);
	return cct_jose_b64url_decode(out, n, s, strlen(s), err);
}

int cct_jose_jwe_decrypt(uint8_t **out, size_t *out_len, const char *jwe_txt, size_t jwe_len,
			 EVP_PKEY *priv, cct_err *err)
{
	int rc = CCT_ERROR;
	json_error_t je;
	json_t *jwe = NULL, *hdr = NULL;
	uint8_t *hraw = NULL, *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL, *pt = NULL;
	size_t hn = 0, ekn = 0, ivn = 0, ctn = 0, tagn = 0, zlen = 66, cekn = 0;
	uint8_t cek[512], kek[32], z[66];
	const char *h64, *alg, *enc;
	EVP_PKEY *epk = NULL;
	int kwlen = 0;

	*out = NULL;
	*out_len = 0;
	if (jwe_len > CCT_JOSE_MAX_TOKEN * 8) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "JWE too large");
		goto out;
	}
	jwe = json_loadb(jwe_txt, jwe_len, JSON_REJECT_DUPLICATES, &je);
	h64 = json_string_value(json_object_get(jwe, "protected"));
	if (!jwe || !h64) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "not a flattened JWE (no \"protected\" member)");
		goto out;
	}
	if ((rc = cct_jose_b64url_decode(&hraw, &hn, h64, strlen(h64), err)) != CCT_OK)
		goto out;
	hdr = json_loadb((const char *)hraw, hn, JSON_REJECT_DUPLICATES, &je);
	alg = json_string_value(json_object_get(hdr, "alg"));
	enc = json_string_value(json_object_get(hdr, "enc"));
	if (!alg || !enc || strcmp(enc, "A256GCM") || json_object_get(hdr, "crit") ||
	    json_object_get(hdr, "zip")) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "JWE header must have enc A256GCM and no crit/zip");
		goto out;
	}
	if ((rc = jwe_member(&ek, &ekn, jwe, "encrypted_key", err)) != CCT_OK ||
	    (rc = jwe_member(&iv, &ivn, jwe, "iv", err)) != CCT_OK ||
	    (rc = jwe_member(&ct, &ctn, jwe, "ciphertext", err)) != CCT_OK ||
	    (rc = jwe_member(&tag, &tagn, jwe, "tag", err)) != CCT_OK)
		goto out;
	if (ivn != JWE_IV_SIZE || tagn != JWE_TAG_SIZE || ctn > CCT_JOSE_MAX_PLAINTEXT) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "JWE iv/tag/ciphertext has a wrong size");
		goto out;
	}
	if (!strcmp(alg, "ECDH-ES+A256KW") && EVP_PKEY_is_a(priv, "EC")) {
		if ((rc = cct_jose_jwk_to_pkey(&epk, json_object_get(hdr, "epk"), err)) != CCT_OK)
			goto out;
		if (EVP_PKEY_get_bits(epk) != EVP_PKEY_get_bits(priv) || ekn != 40 ||
		    ecdh(z, &zlen, priv, epk) || concat_kdf(kek, z, zlen, alg) ||
		    aes_kw(cek, &kwlen, kek, ek, (int)ekn, 0) || kwlen != JWE_CEK_SIZE) {
			rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0,
					 "JWE key unwrap failed: not encrypted to this key");
			goto out;
		}
		cekn = JWE_CEK_SIZE;
	} else if (!strcmp(alg, "RSA-OAEP-256") && EVP_PKEY_is_a(priv, "RSA")) {
		cekn = sizeof(cek);
		if (ekn > sizeof(cek) || rsa_oaep256(cek, &cekn, priv, ek, ekn, 0) ||
		    cekn != JWE_CEK_SIZE) {
			rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0,
					 "JWE key decryption failed: not encrypted to this key");
			goto out;
		}
	} else {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "JWE alg \"%s\" does not fit the private key", alg);
		goto out;
	}
	pt = malloc(ctn ? ctn : 1);
	if (!pt) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (aes_gcm(pt, cek, iv, h64, ct, ctn, tag, 0)) {
		cct_wipe(pt, ctn);
		free(pt);
		pt = NULL;
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0,
				 "JWE authentication tag does not verify");
		goto out;
	}
	*out = pt;
	*out_len = ctn;
	pt = NULL;
	rc = CCT_OK;
out:
	cct_wipe(cek, sizeof(cek));
	cct_wipe(kek, sizeof(kek));
	cct_wipe(z, sizeof(z));
	EVP_PKEY_free(epk);
	json_decref(jwe);
	json_decref(hdr);
	free(hraw);
	free(ek);
	free(iv);
	free(ct);
	free(tag);
	return rc;
}

/* EC key generation on a context set up once per curve: EVP_PKEY_Q_keygen looks the
 * algorithm and group up again on every call, which costs more than the P-256 key itself (the
 * broker makes one ephemeral key per JWE). A context is not for concurrent use: one lock. */
static EVP_PKEY *ec_keygen(const char *curve)
{
	static const char *const curves[] = { "P-256", "P-384", "P-521" };
	static EVP_PKEY_CTX *ctx[3];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	EVP_PKEY *k = NULL;
	size_t i;

	for (i = 0; i < 3 && strcmp(curve, curves[i]); i++)
		;
	if (i == 3)
		return NULL;
	pthread_mutex_lock(&lock);
	if (!ctx[i] && (ctx[i] = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) &&
	    (EVP_PKEY_keygen_init(ctx[i]) <= 0 ||
	     EVP_PKEY_CTX_set_group_name(ctx[i], curves[i]) <= 0)) {
		EVP_PKEY_CTX_free(ctx[i]);
		ctx[i] = NULL;
	}
	if (ctx[i] && EVP_PKEY_keygen(ctx[i], &k) <= 0)
		k = NULL;
	pthread_mutex_unlock(&lock);
	return k;
}

EVP_PKEY *cct_jose_keygen(const char *kind)
{
	if (!strcmp(kind, "P-256") || !strcmp(kind, "P-384") || !strcmp(kind, "P-521"))
		return ec_keygen(kind);
	if (!strcmp(kind, "RSA"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	if (!strcmp(kind, "Ed25519"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return NULL;
}

int cct_jose_pem_read(EVP_PKEY **out, const char *path, int private_, cct_err *err)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	BIO *b;
	int rc;

	*out = NULL;
	if ((rc = cct_file_read(&buf, &n, path, 1u << 20, err)) != CCT_OK)
		return rc;
	b = BIO_new_mem_buf(buf, (int)n);
	if (b)
		*out = private_ ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)
				: PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	cct_wipe(buf, n);
	free(buf);
	if (!*out)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "%s: not a PEM %s key", path, private_ ? "private" : "public");
	return CCT_OK;
}

int cct_jose_pem_write(const char *path, EVP_PKEY *key, int private_, cct_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	int rc, ok;

	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	ok = private_ ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
		      : PEM_write_bio_PUBKEY(b, key);
	n = BIO_get_mem_data(b, &p);
	rc = ok && n > 0 ? cct_file_write(path, p, (size_t)n, private_, err)
			 : cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot encode key");
	if (p && n > 0)
		cct_wipe(p, (size_t)n);
	BIO_free(b);
	return rc;
}
