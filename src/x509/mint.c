/* Minting keys, certificates and CRLs (simulated TEE and tests). */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "x509/mint.h"
#include "x509/x509.h"

EVP_PKEY *cct_mint_rsa_key(int bits)
{
	return EVP_RSA_gen((unsigned)bits);
}

EVP_PKEY *cct_mint_ec_key(const char *curve)
{
	return EVP_EC_gen(curve);
}

EVP_PKEY *cct_mint_ed25519_key(void)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);

	if (c && EVP_PKEY_keygen_init(c) == 1)
		EVP_PKEY_keygen(c, &k);
	EVP_PKEY_CTX_free(c);
	return k;
}

static int sign_with(X509 *x, X509_CRL *crl, EVP_PKEY *key, int pss, const EVP_MD *md)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	if (!mctx)
		return 0;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
		md = NULL;
	if (EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1)
		goto out;
	if (pss && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
			goto out;
	}
	ok = x ? X509_sign_ctx(x, mctx) > 0 : X509_CRL_sign_ctx(crl, mctx) > 0;
out:
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return ok;
}

int cct_mint_add_ext_der(X509 *x, const char *oid, const uint8_t *der, size_t n, int critical)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = 0;

	if (obj && os && ASN1_OCTET_STRING_set(os, der, (int)n))
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os);
	if (ext)
		ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok;
}

int cct_mint_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

X509 *cct_mint_cert(const cct_mint_spec *s)
{
	X509 *x = X509_new();
	X509_NAME *name;
	size_t i;
	const EVP_MD *md = s->md ? s->md : EVP_sha384();

	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial);
	ASN1_TIME_set(X509_getm_notBefore(x), s->not_before);
	ASN1_TIME_set(X509_getm_notAfter(x), s->not_after);
	X509_set_pubkey(x, s->key);
	name = X509_get_subject_name(x);
	if (s->ou)
		X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)s->ou,
					   -1, -1, 0);
	if (s->org)
		X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)s->org,
					   -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1,
				   0);
	X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : name);
	if (s->is_ca) {
		cct_mint_add_ext_conf(x, s->issuer, NID_basic_constraints, "critical,CA:TRUE");
		cct_mint_add_ext_conf(x, s->issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	}
	cct_mint_add_ext_conf(x, s->issuer, NID_subject_key_identifier, "hash");
	if (s->issuer)
		cct_mint_add_ext_conf(x, s->issuer, NID_authority_key_identifier, "keyid:always");
	for (i = 0; i < s->ext_count; i++)
		if (!cct_mint_add_ext_der(x, s->exts[i].oid, s->exts[i].der, s->exts[i].der_len,
				 s->exts[i].critical))
			goto fail;
	if (!sign_with(x, NULL, s->issuer_key, s->pss, md))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

X509_CRL *cct_mint_crl(X509 *issuer, EVP_PKEY *issuer_key, int pss, const long *serials,
		       size_t n, int reason, time_t last_update, time_t next_update)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	size_t i;

	if (!crl || !t)
		goto fail;
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ASN1_TIME_set(t, last_update);
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_set(t, next_update);
	X509_CRL_set1_nextUpdate(crl, t);
	for (i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();

		ASN1_INTEGER_set(sn, serials[i]);
		X509_REVOKED_set_serialNumber(r, sn);
		ASN1_TIME_set(t, last_update);
		X509_REVOKED_set_revocationDate(r, t);
		if (reason >= 0) {
			ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();

			ASN1_ENUMERATED_set(e, reason);
			X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
			ASN1_ENUMERATED_free(e);
		}
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(sn);
	}
	X509_CRL_sort(crl);
	if (!sign_with(NULL, crl, issuer_key, pss, EVP_sha384()))
		goto fail;
	ASN1_TIME_free(t);
	return crl;
fail:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return NULL;
}

static char *bio_text(BIO *b)
{
	char *p = NULL, *out;
	long n = BIO_get_mem_data(b, &p);

	out = malloc((size_t)n + 1);
	if (out) {
		memcpy(out, p, (size_t)n);
		out[n] = 0;
	}
	BIO_free(b);
	return out;
}

char *cct_mint_cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (!b || !PEM_write_bio_X509(b, x)) {
		BIO_free(b);
		return NULL;
	}
	return bio_text(b);
}

char *cct_mint_key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(b);
		return NULL;
	}
	return bio_text(b);
}

char *cct_mint_pubkey_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (!b || !PEM_write_bio_PUBKEY(b, k)) {
		BIO_free(b);
		return NULL;
	}
	return bio_text(b);
}

char *cct_mint_crl_pem(X509_CRL *c)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (!b || !PEM_write_bio_X509_CRL(b, c)) {
		BIO_free(b);
		return NULL;
	}
	return bio_text(b);
}

uint8_t *cct_mint_der_integer(long v, size_t *len)
{
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int n;

	ASN1_INTEGER_set(ai, v);
	n = i2d_ASN1_INTEGER(ai, &der);
	ASN1_INTEGER_free(ai);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

uint8_t *cct_mint_der_ia5(const char *s, size_t *len)
{
	ASN1_IA5STRING *a = ASN1_IA5STRING_new();
	unsigned char *der = NULL;
	int n;

	ASN1_STRING_set(a, s, -1);
	n = i2d_ASN1_IA5STRING(a, &der);
	ASN1_IA5STRING_free(a);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

uint8_t *cct_mint_der_octets(const uint8_t *p, size_t plen, size_t *len)
{
	ASN1_OCTET_STRING *a = ASN1_OCTET_STRING_new();
	unsigned char *der = NULL;
	int n;

	ASN1_OCTET_STRING_set(a, p, (int)plen);
	n = i2d_ASN1_OCTET_STRING(a, &der);
	ASN1_OCTET_STRING_free(a);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

int cct_mint_save_text(const char *dir, const char *name, char *text, int private_, cct_err *err)
{
	char path[4096];
	int rc;

	if (!text)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot encode %s", name);
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "path too long: %s", dir);
	else
		rc = cct_file_write(path, text, strlen(text), private_, err);
	if (private_)
		cct_wipe(text, strlen(text));
	free(text);
	return rc;
}

int cct_mint_load_pem(const char *dir, const char *name, X509 **x, EVP_PKEY **k, cct_err *err)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "cannot read %s (made by 'cctrust sim init')", path);
	if (x) {
		*x = PEM_read_X509(f, NULL, NULL, NULL);
		cct_x509_freeze(*x); /* the simulated roots are shared by the load generator's threads */
	}
	if (k)
		*k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if ((x && !*x) || (k && !*k))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "%s does not decode",
				   path);
	return CCT_OK;
}
