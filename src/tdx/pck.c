/* PCK certificate chain from the quote, pinned Intel SGX Root CA, SGX extensions of the PCK leaf.
 * All ASN.1 goes through OpenSSL (d2i_ASN1_SEQUENCE_ANY / ASN1_TYPE), nothing hand-walked. */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "cctrust/core.h"
#include "tdx/tdx_int.h"
#include "x509/x509.h"

/* Intel SGX Root CA (CN=Intel SGX Root CA, 2018-05-21 .. 2049-12-31), the only trust anchor of
 * DCAP. SHA-256 of the DER: 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3;
 * SHA-256 of its SubjectPublicKeyInfo: a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e */
static const char intel_sgx_root_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw\n"
	"aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv\n"
	"cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ\n"
	"BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG\n"
	"A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0\n"
	"aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT\n"
	"AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7\n"
	"1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB\n"
	"uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ\n"
	"MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50\n"
	"ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV\n"
	"Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI\n"
	"KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg\n"
	"AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=\n"
	"-----END CERTIFICATE-----\n";

static const uint8_t intel_root_spki_sha256[32] = {
	0xa0, 0xaf, 0x03, 0x12, 0x89, 0xf5, 0xd5, 0xd4, 0x13, 0x2f, 0x91, 0x86, 0x06, 0x8a, 0x7f, 0xc1,
	0x36, 0x28, 0x63, 0x3b, 0xa2, 0x35, 0x77, 0x74, 0x72, 0xe2, 0x9b, 0x6b, 0x6c, 0x67, 0xa4, 0x9e,
};

#define SGX_EXT_OID "1.2.840.113741.1.13.1"
#define SGX_EXT_MAX_ITEMS 32

/* PEM certificates from text; CCT_OK with count, or ECHAIN naming the certificate. */
static int pem_certs(STACK_OF(X509) *sk, const uint8_t *p, size_t n, size_t max,
		     const char *what, cct_err *err)
{
	BIO *bio;
	X509 *x;
	unsigned long e;

	if (n > INT32_MAX)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_CHAIN, 0, "%s: too large", what);
	bio = BIO_new_mem_buf(p, (int)n);
	if (!bio)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if ((size_t)sk_X509_num(sk) >= max) {
			X509_free(x);
			BIO_free(bio);
			return cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
					   "%s: more than %zu certificates", what, max);
		}
		cct_x509_freeze(x);
		sk_X509_push(sk, x);
	}
	e = ERR_peek_last_error();
	BIO_free(bio);
	ERR_clear_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		return CCT_OK; /* clean end of the PEM text */
	if (e)
		return cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				   "%s: certificate #%d does not decode (PEM/DER damaged)", what,
				   sk_X509_num(sk) + 1);
	return CCT_OK;
}

int cct_tdx__roots(STACK_OF(X509) **out, const cct_slice *override, cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int rc = CCT_ERROR;

	*out = NULL;
	if (!sk)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	if (override && override->p && override->size) {
		rc = pem_certs(sk, override->p, override->size, CCT_X509_MAX_CHAIN,
			       "trust root", err);
	} else {
		uint8_t h[32];
		unsigned char *der = NULL;
		int dlen;

		rc = pem_certs(sk, (const uint8_t *)intel_sgx_root_ca_pem,
			       sizeof(intel_sgx_root_ca_pem) - 1, 1, "pinned root", err);
		if (rc == CCT_OK && sk_X509_num(sk) == 1) {
			dlen = i2d_PUBKEY(X509_get0_pubkey(sk_X509_value(sk, 0)), &der);
			if (dlen > 0)
				cct_sha256(der, (size_t)dlen, h);
			OPENSSL_free(der);
			if (dlen <= 0 || !cct_ct_eq(h, intel_root_spki_sha256, 32))
				rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_CHAIN, 0,
						 "pinned Intel SGX Root CA key does not match its "
						 "pinned hash (build corrupted)");
		}
	}
	if (rc == CCT_OK && sk_X509_num(sk) == 0)
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0, "no trust root");
	if (rc != CCT_OK) {
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	*out = sk;
	return CCT_OK;
}

int cct_tdx__is_intel_root(const X509 *cert)
{
	unsigned char *der = NULL;
	uint8_t h[32];
	int dlen = i2d_PUBKEY(X509_get0_pubkey(cert), &der), same;

	if (dlen > 0)
		cct_sha256(der, (size_t)dlen, h);
	OPENSSL_free(der);
	same = dlen > 0 && cct_ct_eq(h, intel_root_spki_sha256, 32);
	ERR_clear_error();
	return same;
}

int cct_tdx__pck_chain_parse(STACK_OF(X509) **out, const cct_slice *pem, STACK_OF(X509) *roots,
			     size_t offset, cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *root;
	int rc = CCT_ERROR, i, pinned = 0;

	*out = NULL;
	if (!sk)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	rc = pem_certs(sk, pem->p, pem->size, CCT_X509_MAX_CHAIN, "PCK certificate chain", err);
	if (rc != CCT_OK) {
		if (err)
			err->offset = offset;
		goto out;
	}
	if (sk_X509_num(sk) != CCT_TDX_PCK_CHAIN_LEN) {
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, offset,
				 "PCK certificate chain: want %d PEM certificates (PCK leaf, "
				 "intermediate CA, root CA), found %d",
				 CCT_TDX_PCK_CHAIN_LEN, sk_X509_num(sk));
		goto out;
	}
	/* the chain's root must be a pinned root: same key, and its self-signature verifies */
	root = sk_X509_value(sk, CCT_TDX_PCK_CHAIN_LEN - 1);
	for (i = 0; i < sk_X509_num(roots); i++) {
		X509 *anchor = sk_X509_value(roots, i);

		if (cct_x509_same_key(root, anchor) &&
		    X509_verify(root, X509_get0_pubkey(anchor)) == 1)
			pinned = 1;
	}
	ERR_clear_error();
	if (!pinned) {
		char cn[128];

		cct_x509_subject_cn(root, cn, sizeof(cn));
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, offset,
				 "PCK certificate chain: root certificate '%s' is not the pinned "
				 "Intel SGX Root CA (key differs or self-signature does not verify)",
				 cn);
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = CCT_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

void cct_tdx__pck_ca_name(const X509 *ca, char *buf, size_t size)
{
	char cn[128];

	cct_x509_subject_cn(ca, cn, sizeof(cn));
	if (strstr(cn, "Platform"))
		snprintf(buf, size, "platform");
	else if (strstr(cn, "Processor"))
		snprintf(buf, size, "processor");
	else
		snprintf(buf, size, "%s", "");
}

EVP_PKEY *cct_tdx__p256_key(const uint8_t xy[64])
{
	uint8_t pt[65];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	pt[0] = 0x04; /* uncompressed point */
	memcpy(pt + 1, xy, 64);
	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	ERR_clear_error();
	return key;
}

/* [OID, value] pair of the SGX extension; returns the OID's last arc under base, or -1. */
static int ext_item(STACK_OF(ASN1_TYPE) **pair_out, const ASN1_TYPE *item, const char *base)
{
	STACK_OF(ASN1_TYPE) *pair;
	const unsigned char *q;
	const ASN1_TYPE *oid;
	char txt[64];
	size_t bl = strlen(base);
	long arc;
	char *end;

	*pair_out = NULL;
	if (ASN1_TYPE_get(item) != V_ASN1_SEQUENCE)
		return -1;
	q = item->value.sequence->data;
	pair = d2i_ASN1_SEQUENCE_ANY(NULL, &q, item->value.sequence->length);
	if (!pair)
		return -1;
	*pair_out = pair;
	if (sk_ASN1_TYPE_num(pair) != 2)
		return -1;
	oid = sk_ASN1_TYPE_value(pair, 0);
	if (ASN1_TYPE_get(oid) != V_ASN1_OBJECT ||
	    OBJ_obj2txt(txt, sizeof(txt), oid->value.object, 1) <= 0)
		return -1;
	if (strncmp(txt, base, bl) != 0 || txt[bl] != '.')
		return -1;
	arc = strtol(txt + bl + 1, &end, 10);
	if (*end || arc < 0 || arc > 1000)
		return -1;
	return (int)arc;
}

static int octets(uint8_t *dst, size_t n, const ASN1_TYPE *v)
{
	if (ASN1_TYPE_get(v) != V_ASN1_OCTET_STRING ||
	    (size_t)ASN1_STRING_length(v->value.octet_string) != n)
		return -1;
	memcpy(dst, ASN1_STRING_get0_data(v->value.octet_string), n);
	return 0;
}

static int small_int(long *out, const ASN1_TYPE *v, long max)
{
	int64_t x;
	int ok;

	if (ASN1_TYPE_get(v) == V_ASN1_INTEGER)
		ok = ASN1_INTEGER_get_int64(&x, v->value.integer);
	else if (ASN1_TYPE_get(v) == V_ASN1_ENUMERATED)
		ok = ASN1_ENUMERATED_get_int64(&x, v->value.enumerated);
	else
		return -1;
	if (!ok || x < 0 || x > max)
		return -1;
	*out = (long)x;
	return 0;
}

static int parse_tcb(cct_tdx_pck_ext *out, const ASN1_TYPE *v, unsigned *seen)
{
	STACK_OF(ASN1_TYPE) *items = NULL, *pair = NULL;
	const unsigned char *q;
	int i, rc = -1;

	if (ASN1_TYPE_get(v) != V_ASN1_SEQUENCE)
		return -1;
	q = v->value.sequence->data;
	items = d2i_ASN1_SEQUENCE_ANY(NULL, &q, v->value.sequence->length);
	if (!items || sk_ASN1_TYPE_num(items) > SGX_EXT_MAX_ITEMS)
		goto out;
	for (i = 0; i < sk_ASN1_TYPE_num(items); i++) {
		int arc = ext_item(&pair, sk_ASN1_TYPE_value(items, i), SGX_EXT_OID ".2");
		const ASN1_TYPE *val;
		long x;

		if (arc < 1 || arc > 18)
			goto out;
		val = sk_ASN1_TYPE_value(pair, 1);
		if (arc <= 16) {
			if (small_int(&x, val, 255))
				goto out;
			out->comp[arc - 1] = (uint8_t)x;
		} else if (arc == 17) {
			if (small_int(&x, val, 65535))
				goto out;
			out->pcesvn = (uint16_t)x;
		} else if (octets(out->cpusvn, 16, val)) {
			goto out;
		}
		if (*seen & (1u << arc))
			goto out; /* duplicate */
		*seen |= 1u << arc;
		sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
		pair = NULL;
	}
	rc = 0;
out:
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(items, ASN1_TYPE_free);
	return rc;
}

int cct_tdx__pck_ext_parse(cct_tdx_pck_ext *out, const X509 *leaf, cct_err *err)
{
	STACK_OF(ASN1_TYPE) *items = NULL, *pair = NULL;
	const uint8_t *p;
	const unsigned char *q;
	size_t n;
	unsigned seen = 0, tcb_seen = 0;
	int rc = CCT_ERROR, i, bad = 0;

	memset(out, 0, sizeof(*out));
	if (!cct_x509_ext_value(leaf, SGX_EXT_OID, &p, &n))
		return cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				   "PCK leaf certificate has no SGX extensions (OID %s)",
				   SGX_EXT_OID);
	q = p;
	items = d2i_ASN1_SEQUENCE_ANY(NULL, &q, (long)n);
	if (!items || q != p + n || sk_ASN1_TYPE_num(items) > SGX_EXT_MAX_ITEMS) {
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				 "PCK leaf: SGX extensions are not a DER SEQUENCE (or too many items)");
		goto out;
	}
	for (i = 0; i < sk_ASN1_TYPE_num(items) && !bad; i++) {
		int arc = ext_item(&pair, sk_ASN1_TYPE_value(items, i), SGX_EXT_OID);
		const ASN1_TYPE *val = pair && sk_ASN1_TYPE_num(pair) == 2
					       ? sk_ASN1_TYPE_value(pair, 1) : NULL;

		if (arc < 0 || !val) {
			bad = 1;
			break;
		}
		if (arc < 32 && (seen & (1u << arc)))
			bad = 1; /* duplicate item */
		if (arc < 32)
			seen |= 1u << arc;
		switch (arc) {
		case 1:
			bad |= octets(out->ppid, 16, val) != 0;
			break;
		case 2:
			bad |= parse_tcb(out, val, &tcb_seen) != 0;
			break;
		case 3:
			bad |= octets(out->pceid, 2, val) != 0;
			break;
		case 4:
			bad |= octets(out->fmspc, 6, val) != 0;
			break;
		case 5:
			bad |= small_int(&out->sgx_type, val, 255) != 0;
			break;
		default:
			break; /* PlatformInstanceID, Configuration: not used for TDX */
		}
		sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
		pair = NULL;
	}
	if (bad) {
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				 "PCK leaf: SGX extension item #%d does not decode", i + 1);
		goto out;
	}
	/* PPID, TCB (16 components, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type are mandatory */
	if ((seen & 0x3e) != 0x3e || tcb_seen != 0x7fffeu) {
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				 "PCK leaf: SGX extensions incomplete (items 0x%x, TCB items 0x%x)",
				 seen, tcb_seen);
		goto out;
	}
	rc = CCT_OK;
out:
	ERR_clear_error();
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(items, ASN1_TYPE_free);
	return rc;
}
