/* TPM 2.0 quotes (TPM 2.0 Library Part 2: TPMS_ATTEST 10.12.12, TPMS_QUOTE_INFO 10.12.4,
 * TPMT_PUBLIC 12.2.4, TPMT_SIGNATURE 11.3.4), parsed with the bounded reader (big-endian),
 * signatures checked with OpenSSL. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cctrust/core.h"
#include "cctrust/tpm.h"
#include "core/rd.h"
#include "token/jose.h"
#include "tpm/tpm_int.h"
#include "x509/x509.h"

#define TPM_GENERATED_VALUE 0xff544347u
#define TPM_ST_ATTEST_QUOTE 0x8018
#define TPM_ALG_ECDAA 0x001A
#define TPM_ALG_RSAES 0x0015
#define TPM_ALG_OAEP 0x0017

struct cct_tpm_ak {
	EVP_PKEY *key;
	uint16_t scheme;    /* signing scheme from TPMT_PUBLIC, or NULL */
	uint16_t hash;
};

static int parse_err(cct_rd *r, cct_err *err, const char *what)
{
	int rc = cct_rd_check(r, err, what);

	return rc != CCT_OK ? rc : CCT_EFORMAT;
}

int cct_tpm_quote_parse(cct_tpm_quote *out, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_rd r;
	uint32_t i, j, n;

	memset(out, 0, sizeof(*out));
	/* TPM2B_ATTEST: a size prefix equal to the rest */
	if (len >= 6 && (size_t)((buf[0] << 8) | buf[1]) == len - 2 &&
	    ((uint32_t)buf[2] << 24 | (uint32_t)buf[3] << 16 | (uint32_t)buf[4] << 8 | buf[5]) ==
		    TPM_GENERATED_VALUE) {
		buf += 2;
		len -= 2;
	}
	cct_rd_init(&r, buf, len);
	cct_rd_field(&r, "TPMS_ATTEST magic");
	out->magic = cct_rd_u32be(&r);
	if (!r.err && out->magic != TPM_GENERATED_VALUE)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				   "TPMS_ATTEST: magic 0x%08x, expected TPM_GENERATED_VALUE "
				   "0xff544347", out->magic);
	cct_rd_field(&r, "TPMS_ATTEST type");
	out->type = cct_rd_u16be(&r);
	if (!r.err && out->type != TPM_ST_ATTEST_QUOTE)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 4,
				   "TPMS_ATTEST: type 0x%04x, expected TPM_ST_ATTEST_QUOTE 0x8018",
				   out->type);
	cct_rd_field(&r, "qualifiedSigner");
	out->signer_len = cct_rd_u16be(&r);
	out->signer = cct_rd_take(&r, out->signer_len);
	cct_rd_field(&r, "extraData");
	out->extra_len = cct_rd_u16be(&r);
	if (!r.err && out->extra_len > 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, cct_rd_pos(&r) - 2,
				   "TPMS_ATTEST: extraData of %u bytes (TPM2B_DATA holds at most 64)",
				   out->extra_len);
	out->extra = cct_rd_take(&r, out->extra_len);
	cct_rd_field(&r, "clockInfo");
	out->clock = (uint64_t)cct_rd_u32be(&r) << 32;
	out->clock |= cct_rd_u32be(&r);
	out->reset_count = cct_rd_u32be(&r);
	out->restart_count = cct_rd_u32be(&r);
	out->safe = cct_rd_u8(&r);
	cct_rd_field(&r, "firmwareVersion");
	out->firmware_version = (uint64_t)cct_rd_u32be(&r) << 32;
	out->firmware_version |= cct_rd_u32be(&r);
	cct_rd_field(&r, "pcrSelect count");
	n = cct_rd_u32be(&r);
	if (!r.err && n > CCT_TPM_MAX_BANKS)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, cct_rd_pos(&r) - 4,
				   "TPMS_QUOTE_INFO: %u PCR selections (at most %d)", n,
				   CCT_TPM_MAX_BANKS);
	for (i = 0; !r.err && i < n; i++) {
		const uint8_t *sel;
		uint8_t sz;
		size_t at;

		cct_rd_field(&r, "pcrSelect hash");
		out->sel[i].alg = cct_rd_u16be(&r);
		cct_rd_field(&r, "pcrSelect sizeofSelect");
		at = cct_rd_pos(&r);
		sz = cct_rd_u8(&r);
		cct_rd_field(&r, "pcrSelect");
		sel = cct_rd_take(&r, sz);
		if (r.err)
			break;
		for (j = 0; j < sz; j++) {
			if (j >= 3 && sel[j])
				return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, at,
						   "TPMS_QUOTE_INFO: PCRs above 23 selected");
			if (j < 3)
				out->sel[i].mask |= (uint32_t)sel[j] << (8 * j);
		}
	}
	out->nsel = n;
	cct_rd_field(&r, "pcrDigest");
	out->pcr_digest_len = cct_rd_u16be(&r);
	if (!r.err && out->pcr_digest_len > 64)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, cct_rd_pos(&r) - 2,
				   "TPMS_QUOTE_INFO: pcrDigest of %u bytes", out->pcr_digest_len);
	out->pcr_digest = cct_rd_take(&r, out->pcr_digest_len);
	if (r.err)
		return parse_err(&r, err, "TPMS_ATTEST");
	return cct_rd_done(&r, err, "TPMS_ATTEST");
}

/* ---- attestation keys ---- */

/* The public key of type ("RSA", "EC") that the parameters in b describe; NULL when they do
 * not make one. */
static EVP_PKEY *public_key_from(OSSL_PARAM_BLD *b, const char *type)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	if (!(params = OSSL_PARAM_BLD_to_param(b)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return key;
}

static EVP_PKEY *rsa_key(const uint8_t *n, size_t nlen, uint32_t e)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	EVP_PKEY *key = NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_new();

	if (b && bn && be && BN_set_word(be, e ? e : 65537u) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be))
		key = public_key_from(b, "RSA");
	OSSL_PARAM_BLD_free(b);
	BN_free(bn);
	BN_free(be);
	return key;
}

static EVP_PKEY *ec_key(uint16_t curve, const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
	const char *group = curve == 0x0003 ? "P-256" : curve == 0x0004 ? "P-384"
			  : curve == 0x0005 ? "P-521" : NULL;
	size_t fl = curve == 0x0003 ? 32 : curve == 0x0004 ? 48 : 66;
	uint8_t pt[1 + 2 * 66];
	OSSL_PARAM_BLD *b;
	EVP_PKEY *key = NULL;

	if (!group || xn > fl || yn > fl)
		return NULL;
	memset(pt, 0, sizeof(pt));
	pt[0] = 4;
	memcpy(pt + 1 + fl - xn, x, xn);
	memcpy(pt + 1 + 2 * fl - yn, y, yn);
	b = OSSL_PARAM_BLD_new();
	if (b && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * fl))
		key = public_key_from(b, "EC");
	OSSL_PARAM_BLD_free(b);
	return key;
}

/* TPMT_SYM_DEF_OBJECT: algorithm [keyBits mode] */
static void skip_sym(cct_rd *r)
{
	cct_rd_field(r, "symmetric");
	if (cct_rd_u16be(r) != CCT_TPM_ALG_NULL && !r->err)
		cct_rd_take(r, 4);
}

static int parse_tpmt_public(cct_tpm_ak *ak, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_rd r;
	uint16_t type, n;
	const uint8_t *p;

	cct_rd_init(&r, buf, len);
	cct_rd_field(&r, "TPMT_PUBLIC type");
	type = cct_rd_u16be(&r);
	cct_rd_field(&r, "nameAlg");
	cct_rd_u16be(&r);
	cct_rd_field(&r, "objectAttributes");
	cct_rd_u32be(&r);
	cct_rd_field(&r, "authPolicy");
	cct_rd_take(&r, cct_rd_u16be(&r));
	if (r.err)
		return parse_err(&r, err, "TPMT_PUBLIC");
	skip_sym(&r);
	cct_rd_field(&r, "scheme");
	ak->scheme = cct_rd_u16be(&r);
	if (ak->scheme != CCT_TPM_ALG_NULL && !r.err) {
		ak->hash = cct_rd_u16be(&r);
		if (ak->scheme == TPM_ALG_ECDAA)
			cct_rd_u16be(&r); /* count */
	}
	if (type == CCT_TPM_ALG_RSA) {
		uint32_t e;

		cct_rd_field(&r, "keyBits");
		cct_rd_u16be(&r);
		cct_rd_field(&r, "exponent");
		e = cct_rd_u32be(&r);
		cct_rd_field(&r, "unique (RSA modulus)");
		n = cct_rd_u16be(&r);
		p = cct_rd_take(&r, n);
		if (r.err)
			return parse_err(&r, err, "TPMT_PUBLIC");
		ak->key = rsa_key(p, n, e);
	} else if (type == CCT_TPM_ALG_ECC) {
		uint16_t curve, xn, yn;
		const uint8_t *x, *y;

		cct_rd_field(&r, "curveID");
		curve = cct_rd_u16be(&r);
		cct_rd_field(&r, "kdf");
		if (cct_rd_u16be(&r) != CCT_TPM_ALG_NULL && !r.err)
			cct_rd_u16be(&r);
		cct_rd_field(&r, "unique x");
		xn = cct_rd_u16be(&r);
		x = cct_rd_take(&r, xn);
		cct_rd_field(&r, "unique y");
		yn = cct_rd_u16be(&r);
		y = cct_rd_take(&r, yn);
		if (r.err)
			return parse_err(&r, err, "TPMT_PUBLIC");
		ak->key = ec_key(curve, x, xn, y, yn);
		if (!ak->key)
			return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0,
					   "TPMT_PUBLIC: ECC curve 0x%04x or point not usable",
					   curve);
	} else {
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0,
				   "TPMT_PUBLIC: key type 0x%04x (RSA or ECC only)", type);
	}
	if (!ak->key)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				   "TPMT_PUBLIC: the RSA key is not usable");
	if (ak->scheme == TPM_ALG_RSAES || ak->scheme == TPM_ALG_OAEP)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				   "TPMT_PUBLIC: an encryption key is not an attestation key");
	return cct_rd_done(&r, err, "TPMT_PUBLIC");
}

void cct_tpm_ak_free(cct_tpm_ak *ak)
{
	if (!ak)
		return;
	EVP_PKEY_free(ak->key);
	free(ak);
}

int cct_tpm_ak_load(cct_tpm_ak **out, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_tpm_ak *ak;
	int rc;

	*out = NULL;
	if (len && buf[0] == '{')
		return cct_tpm_ak_from_jwk(out, (const char *)buf, len, err);
	ak = calloc(1, sizeof(*ak));
	if (!ak)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	ak->scheme = CCT_TPM_ALG_NULL;
	if (len > 11 && !memcmp(buf, "-----BEGIN ", 11)) {
		BIO *bio = BIO_new_mem_buf(buf, (int)len);

		ak->key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (!ak->key) {
			cct_tpm_ak_free(ak);
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
					   "AK: PEM without a readable public key");
		}
		*out = ak;
		return CCT_OK;
	}
	/* TPM2B_PUBLIC (size prefix) or TPMT_PUBLIC */
	if (len >= 2 && (size_t)((buf[0] << 8) | buf[1]) == len - 2)
		rc = parse_tpmt_public(ak, buf + 2, len - 2, err);
	else
		rc = parse_tpmt_public(ak, buf, len, err);
	if (rc != CCT_OK) {
		cct_tpm_ak_free(ak);
		return rc;
	}
	*out = ak;
	return CCT_OK;
}

int cct_tpm_ak_from_jwk(cct_tpm_ak **out, const char *jwk, size_t len, cct_err *err)
{
	cct_tpm_ak *ak;
	char *text;
	int rc;

	*out = NULL;
	ak = calloc(1, sizeof(*ak));
	text = malloc(len + 1);
	if (!ak || !text) {
		free(ak);
		free(text);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	}
	memcpy(text, jwk, len);
	text[len] = 0;
	ak->scheme = CCT_TPM_ALG_NULL;
	rc = cct_jose_jwk_text_to_pkey(&ak->key, text, err);
	free(text);
	if (rc != CCT_OK) {
		cct_tpm_ak_free(ak);
		return rc;
	}
	*out = ak;
	return CCT_OK;
}

int cct_tpm_ak_fingerprint(const cct_tpm_ak *ak, uint8_t out[32])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(ak->key, &der);

	if (n <= 0)
		return CCT_ERROR;
	cct_sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	return CCT_OK;
}

/* ---- verification ---- */

typedef struct {
	uint16_t alg, hash;
	const uint8_t *s, *r_, *s_;
	size_t slen, rlen, s_len;
} tpm_sig;

/* TPMT_SIGNATURE, or a bare signature taken with the AK's scheme (default RSASSA/ECDSA SHA-256). */
static int parse_sig(tpm_sig *sg, const uint8_t *buf, size_t len, const cct_tpm_ak *ak,
		     cct_err *err)
{
	int is_rsa = EVP_PKEY_is_a(ak->key, "RSA");
	size_t modlen = is_rsa ? (size_t)EVP_PKEY_get_size(ak->key) : 0;
	uint16_t first = len >= 2 ? (uint16_t)(buf[0] << 8 | buf[1]) : 0;
	cct_rd r;

	memset(sg, 0, sizeof(*sg));
	if (is_rsa && len == modlen) {
		sg->alg = ak->scheme == CCT_TPM_ALG_RSAPSS ? CCT_TPM_ALG_RSAPSS : CCT_TPM_ALG_RSASSA;
		sg->hash = ak->scheme != CCT_TPM_ALG_NULL && ak->hash ? ak->hash
								    : CCT_TPM_ALG_SHA256;
		sg->s = buf;
		sg->slen = len;
		return CCT_OK;
	}
	if (!is_rsa && len && buf[0] == 0x30) { /* DER ECDSA-Sig-Value */
		sg->alg = CCT_TPM_ALG_ECDSA;
		sg->hash = ak->scheme == CCT_TPM_ALG_ECDSA && ak->hash ? ak->hash
								       : CCT_TPM_ALG_SHA256;
		sg->s = buf;
		sg->slen = len;
		return CCT_OK;
	}
	cct_rd_init(&r, buf, len);
	cct_rd_field(&r, "TPMT_SIGNATURE sigAlg");
	sg->alg = cct_rd_u16be(&r);
	cct_rd_field(&r, "TPMT_SIGNATURE hash");
	sg->hash = cct_rd_u16be(&r);
	if (first == CCT_TPM_ALG_RSASSA || first == CCT_TPM_ALG_RSAPSS) {
		cct_rd_field(&r, "TPMT_SIGNATURE sig");
		sg->slen = cct_rd_u16be(&r);
		sg->s = cct_rd_take(&r, sg->slen);
	} else if (first == CCT_TPM_ALG_ECDSA) {
		cct_rd_field(&r, "TPMT_SIGNATURE signatureR");
		sg->rlen = cct_rd_u16be(&r);
		sg->r_ = cct_rd_take(&r, sg->rlen);
		cct_rd_field(&r, "TPMT_SIGNATURE signatureS");
		sg->s_len = cct_rd_u16be(&r);
		sg->s_ = cct_rd_take(&r, sg->s_len);
	} else {
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0,
				   "signature: neither a %zu-byte RSA signature nor a TPMT_SIGNATURE "
				   "with RSASSA/RSAPSS/ECDSA (sigAlg 0x%04x)", modlen, first);
	}
	if (!cct_tpm_md(sg->hash) && !r.err)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 2,
				   "TPMT_SIGNATURE: hash algorithm 0x%04x", sg->hash);
	return cct_rd_done(&r, err, "TPMT_SIGNATURE");
}

static int check_sig(const tpm_sig *sg, const uint8_t *msg, size_t n, const cct_tpm_ak *ak)
{
	const EVP_MD *md = cct_tpm_md(sg->hash);
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0, is_rsa = EVP_PKEY_is_a(ak->key, "RSA");

	if (!md)
		return 0;
	if (sg->alg == CCT_TPM_ALG_ECDSA && !is_rsa) {
		if (sg->r_) {
			uint8_t r[66], s[66];
			size_t fl = ((size_t)EVP_PKEY_get_bits(ak->key) + 7) / 8;

			if (sg->rlen > fl || sg->s_len > fl || fl > sizeof(r))
				return 0;
			memset(r, 0, sizeof(r));
			memset(s, 0, sizeof(s));
			memcpy(r + fl - sg->rlen, sg->r_, sg->rlen);
			memcpy(s + fl - sg->s_len, sg->s_, sg->s_len);
			return cct_ecdsa_verify_rs(ak->key, md, msg, n, r, s, fl, 0) == 1;
		}
	} else if (!is_rsa || (sg->alg != CCT_TPM_ALG_RSASSA && sg->alg != CCT_TPM_ALG_RSAPSS)) {
		return 0;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return 0;
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, ak->key) == 1) {
		if (sg->alg == CCT_TPM_ALG_RSAPSS &&
		    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		     /* TPMs sign PSS with salt = hash length or the maximum; accept either */
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1))
			goto out;
		ok = EVP_DigestVerify(ctx, sg->s, sg->slen, msg, n) == 1;
	}
out:
	EVP_MD_CTX_free(ctx);
	return ok;
}

int cct_tpm_quote_verify(cct_tpm_quote_result *res, const cct_tpm_quote *q,
			 const uint8_t *quote, size_t quote_len, const uint8_t *sig, size_t sig_len,
			 const cct_tpm_ak *ak, const uint8_t *nonce, size_t nonce_len,
			 const cct_tpm_pcrs *pcrs, cct_err *err)
{
	cct_tpm_quote_result tmp;
	tpm_sig sg;
	int rc;
	uint32_t i, k, b;

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	/* a TPM2B_ATTEST wrapper is not part of what was signed */
	if (quote_len >= 6 && (size_t)((quote[0] << 8) | quote[1]) == quote_len - 2 &&
	    quote[2] == 0xff && quote[3] == 0x54) {
		quote += 2;
		quote_len -= 2;
	}
	rc = parse_sig(&sg, sig, sig_len, ak, err);
	if (rc != CCT_OK)
		return rc;
	res->sig_alg = sg.alg;
	res->hash_alg = sg.hash;
	if (!check_sig(&sg, quote, quote_len, ak))
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0,
				   "TPM quote: the %s/%s signature does not verify with the AK",
				   sg.alg == CCT_TPM_ALG_ECDSA ? "ECDSA"
				   : sg.alg == CCT_TPM_ALG_RSAPSS ? "RSAPSS" : "RSASSA",
				   cct_tpm_alg_name(sg.hash) ? cct_tpm_alg_name(sg.hash) : "?");
	res->signature_verified = 1;
	if (nonce) {
		if (q->extra_len != nonce_len || (nonce_len && !cct_ct_eq(q->extra, nonce, nonce_len))) {
			char a[129] = "", x[129] = "";

			cct_hex_encode(a, q->extra, q->extra_len);
			cct_hex_encode(x, nonce, nonce_len > 64 ? 64 : nonce_len);
			return cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 0,
					   "TPM quote: extraData %.32s%s (%u bytes) is not the nonce "
					   "%.32s%s (%zu bytes)", a, q->extra_len > 16 ? "..." : "",
					   q->extra_len, x, nonce_len > 16 ? "..." : "", nonce_len);
		}
		res->nonce_checked = 1;
	}
	if (pcrs) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		uint8_t h[64];
		unsigned int hn = 0;

		if (!ctx || EVP_DigestInit_ex(ctx, cct_tpm_md(sg.hash), NULL) != 1) {
			EVP_MD_CTX_free(ctx);
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_MEASUREMENT, 0,
					   "out of memory");
		}
		for (i = 0; i < q->nsel; i++) {
			for (b = 0; b < pcrs->nbanks; b++)
				if (pcrs->banks[b].alg == q->sel[i].alg)
					break;
			for (k = 0; k < CCT_TPM_NUM_PCRS; k++) {
				if (!(q->sel[i].mask & (1u << k)))
					continue;
				if (b == pcrs->nbanks || !(pcrs->banks[b].mask & (1u << k))) {
					EVP_MD_CTX_free(ctx);
					return cct_err_set(err, CCT_EMEASUREMENT,
							   CCT_STAGE_MEASUREMENT, 0,
							   "TPM quote selects %s PCR%u but no value "
							   "was given for it",
							   cct_tpm_alg_name(q->sel[i].alg)
								   ? cct_tpm_alg_name(q->sel[i].alg)
								   : "?", k);
				}
				EVP_DigestUpdate(ctx, pcrs->banks[b].v[k], pcrs->banks[b].size);
			}
		}
		EVP_DigestFinal_ex(ctx, h, &hn);
		EVP_MD_CTX_free(ctx);
		if (hn != q->pcr_digest_len || !cct_ct_eq(h, q->pcr_digest, hn))
			return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
					   "TPM quote: the PCR digest does not match the %s hash of "
					   "the PCR values given (a PCR value was changed)",
					   cct_tpm_alg_name(sg.hash));
		res->pcrs_checked = 1;
	}
	return CCT_OK;
}
