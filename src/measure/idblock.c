/* SNP ID block and ID_AUTH_INFO (SNP firmware ABI, SNP_LAUNCH_FINISH): the ID block carries the
 * expected launch digest and is signed by the ID key; the ID key is signed by the author key.
 * Keys and signatures use the ABI's little-endian ECDSA P-384 layouts. All crypto: OpenSSL. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "cctrust/core.h"
#include "cctrust/measure.h"

#define CURVE_P384 2u
#define ALGO_ECDSA_P384_SHA384 1u
#define COORD 72u /* each coordinate / signature component, zero-extended little-endian */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void cct_measure_id_block_encode(uint8_t out[CCT_MEASURE_ID_BLOCK_SIZE],
				 const cct_measure_id_block_opts *o)
{
	int i;

	memcpy(out, o->launch_digest, 48);   /* 0x00 LD */
	memcpy(out + 0x30, o->family_id, 16);/* 0x30 FAMILY_ID */
	memcpy(out + 0x40, o->image_id, 16); /* 0x40 IMAGE_ID */
	put32(out + 0x50, o->version);       /* 0x50 VERSION */
	put32(out + 0x54, o->guest_svn);     /* 0x54 GUEST_SVN */
	for (i = 0; i < 8; i++)              /* 0x58 POLICY */
		out[0x58 + i] = (uint8_t)(o->policy >> (8 * i));
}

int cct_measure_snp_policy_check(uint64_t policy, cct_err *err)
{
	if (!((policy >> 17) & 1))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "SNP guest policy 0x%llx: bit 17 is reserved and must be 1 (the "
				   "firmware refuses to launch with it clear; e.g. 0x%llx)",
				   (unsigned long long)policy,
				   (unsigned long long)(policy | (1ull << 17)));
	return CCT_OK;
}

/* Load a P-384 key from PEM: private key first, then public key. */
static int load_key(EVP_PKEY **out, const uint8_t *pem, size_t len, int need_private, cct_err *err)
{
	int rc = CCT_ERROR;
	BIO *b = NULL;
	EVP_PKEY *k = NULL;
	char group[64] = "";

	if (!pem || len > INT32_MAX || !(b = BIO_new_mem_buf(pem, (int)len))) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no key");
		goto out;
	}
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	if (!k && !need_private) {
		(void)BIO_reset(b);
		k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	}
	if (!k) {
		rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				 need_private ? "not a PEM private key" : "not a PEM key");
		goto out;
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) ||
	    strcmp(group, "secp384r1") != 0) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "key is not ECDSA P-384 (curve %s)", group[0] ? group : "?");
		goto out;
	}
	*out = k;
	k = NULL;
	rc = CCT_OK;
out:
	EVP_PKEY_free(k);
	BIO_free(b);
	return rc;
}

int cct_measure_snp_pubkey(uint8_t out[CCT_MEASURE_SNP_PUBKEY_SIZE], const uint8_t *pem,
			   size_t pem_len, cct_err *err)
{
	int rc = CCT_ERROR;
	EVP_PKEY *k = NULL;
	BIGNUM *x = NULL, *y = NULL;

	if ((rc = load_key(&k, pem, pem_len, 0, err)) != CCT_OK)
		goto out;
	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_INPUT, 0, "cannot read the public point");
		goto out;
	}
	memset(out, 0, CCT_MEASURE_SNP_PUBKEY_SIZE);
	put32(out, CURVE_P384);                         /* 0x00 CURVE */
	if (BN_bn2lebinpad(x, out + 4, COORD) != COORD || /* 0x04 QX */
	    BN_bn2lebinpad(y, out + 4 + COORD, COORD) != COORD) { /* 0x4C QY */
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_INPUT, 0, "public point too large");
		goto out;
	}
	rc = CCT_OK;
out:
	BN_free(x);
	BN_free(y);
	EVP_PKEY_free(k);
	return rc;
}

int cct_measure_key_digest(uint8_t out[48], const uint8_t *pem, size_t pem_len, cct_err *err)
{
	uint8_t pub[CCT_MEASURE_SNP_PUBKEY_SIZE];
	int rc = cct_measure_snp_pubkey(pub, pem, pem_len, err);

	if (rc == CCT_OK)
		SHA384(pub, sizeof(pub), out);
	return rc;
}

int cct_measure_snp_sign(uint8_t out[CCT_MEASURE_SNP_SIG_SIZE], const uint8_t *msg, size_t n,
			 const uint8_t *key_pem, size_t key_len, cct_err *err)
{
	int rc = CCT_ERROR;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *c = NULL;
	ECDSA_SIG *sig = NULL;
	unsigned char der[256];
	const unsigned char *dp = der;
	size_t der_len = sizeof(der);
	const BIGNUM *r, *s;

	if ((rc = load_key(&k, key_pem, key_len, 1, err)) != CCT_OK)
		goto out;
	if (!(c = EVP_MD_CTX_new()) || EVP_DigestSignInit(c, NULL, EVP_sha384(), NULL, k) != 1 ||
	    EVP_DigestSign(c, der, &der_len, msg, n) != 1 ||
	    !(sig = d2i_ECDSA_SIG(NULL, &dp, (long)der_len))) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_SIGNATURE, 0, "ECDSA signing failed");
		goto out;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	memset(out, 0, CCT_MEASURE_SNP_SIG_SIZE);
	if (BN_bn2lebinpad(r, out, COORD) != COORD || BN_bn2lebinpad(s, out + COORD, COORD) != COORD) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_SIGNATURE, 0, "signature too large");
		goto out;
	}
	rc = CCT_OK;
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return rc;
}

int cct_measure_snp_sig_verify(const uint8_t sig[CCT_MEASURE_SNP_SIG_SIZE], const uint8_t *msg,
			       size_t n, const uint8_t *key_pem, size_t key_len, cct_err *err)
{
	int rc = CCT_ERROR;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *c = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int der_len;

	if ((rc = load_key(&k, key_pem, key_len, 0, err)) != CCT_OK)
		goto out;
	r = BN_lebin2bn(sig, COORD, NULL);
	s = BN_lebin2bn(sig + COORD, COORD, NULL);
	if (!r || !s || !(es = ECDSA_SIG_new()) || !ECDSA_SIG_set0(es, r, s)) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_SIGNATURE, 0, "out of memory");
		goto out;
	}
	r = s = NULL; /* owned by es */
	if ((der_len = i2d_ECDSA_SIG(es, &der)) <= 0) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_SIGNATURE, 0, "signature encoding");
		goto out;
	}
	if (!(c = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(c, NULL, EVP_sha384(), NULL, k) != 1 ||
	    EVP_DigestVerify(c, der, (size_t)der_len, msg, n) != 1) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0,
				 "ECDSA P-384 signature does not verify with the given key");
		goto out;
	}
	rc = CCT_OK;
out:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return rc;
}

void cct_measure_id_auth_encode(uint8_t out[CCT_MEASURE_ID_AUTH_SIZE],
				const uint8_t id_block_sig[CCT_MEASURE_SNP_SIG_SIZE],
				const uint8_t id_pubkey[CCT_MEASURE_SNP_PUBKEY_SIZE],
				const uint8_t id_key_sig[CCT_MEASURE_SNP_SIG_SIZE],
				const uint8_t author_pubkey[CCT_MEASURE_SNP_PUBKEY_SIZE])
{
	memset(out, 0, CCT_MEASURE_ID_AUTH_SIZE);
	put32(out + 0x00, ALGO_ECDSA_P384_SHA384);             /* ID_KEY_ALGO */
	put32(out + 0x04, ALGO_ECDSA_P384_SHA384);             /* AUTH_KEY_ALGO */
	memcpy(out + 0x40, id_block_sig, CCT_MEASURE_SNP_SIG_SIZE);  /* ID_BLOCK_SIG */
	memcpy(out + 0x240, id_pubkey, CCT_MEASURE_SNP_PUBKEY_SIZE); /* ID_KEY */
	memcpy(out + 0x680, id_key_sig, CCT_MEASURE_SNP_SIG_SIZE);   /* ID_KEY_SIG */
	memcpy(out + 0x880, author_pubkey, CCT_MEASURE_SNP_PUBKEY_SIZE); /* AUTHOR_KEY */
}
