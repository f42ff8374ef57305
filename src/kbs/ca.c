#define _GNU_SOURCE
/* Workload CA: short-lived X.509 certificates for attested keys (RA-TLS style), with the
 * SHA-384 of the verified claims in a private extension; and their verification. OpenSSL only. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "token/jose.h"
#include "x509/mint.h"
#include "kbs/kbs_int.h"
#include "x509/x509.h"

#define CA_GENERATED_DAYS 30
#define MAX_CERT_INPUT (64 * 1024)

struct cct_kbs_ca {
	X509 *cert;
	EVP_PKEY *key;
	char *pem;
};

static char *to_pem(X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;

	if (b && PEM_write_bio_X509(b, c) && (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (out = malloc((size_t)n + 1))) {
		memcpy(out, p, (size_t)n);
		out[n] = 0;
	}
	BIO_free(b);
	return out;
}

static int random_serial(X509 *c)
{
	uint8_t b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return 0;
	b[0] &= 0x7f;
	b[0] |= 0x40; /* positive, 16 bytes */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
	BN_free(bn);
	return ok;
}

static int generate(cct_kbs_ca *ca)
{
	X509_NAME *nm;
	X509 *c = X509_new();

	ca->key = cct_jose_keygen("P-256");
	if (!c || !ca->key)
		goto fail;
	X509_set_version(c, 2);
	if (!random_serial(c))
		goto fail;
	X509_gmtime_adj(X509_getm_notBefore(c), -60);
	X509_gmtime_adj(X509_getm_notAfter(c), (long)CA_GENERATED_DAYS * 86400);
	nm = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"cctrust", -1, -1, 0);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
				   (const unsigned char *)"cctrustd workload CA", -1, -1, 0);
	X509_set_issuer_name(c, nm);
	X509_set_pubkey(c, ca->key);
	if (!cct_mint_add_ext_conf(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !cct_mint_add_ext_conf(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !cct_mint_add_ext_conf(c, c, NID_subject_key_identifier, "hash") ||
	    !X509_sign(c, ca->key, EVP_sha256()))
		goto fail;
	ca->cert = c;
	return 1;
fail:
	X509_free(c);
	return 0;
}

int cct_kbs__ca_new(cct_kbs_ca **out, const char *cert_pem, const char *key_pem, cct_err *err)
{
	cct_kbs_ca *ca = calloc(1, sizeof(*ca));
	BIO *b;

	*out = NULL;
	if (!ca)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (!!cert_pem != !!key_pem) {
		free(ca);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				   "workload CA needs both a certificate and a key");
	}
	if (cert_pem) {
		b = BIO_new_mem_buf(cert_pem, -1);
		ca->cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		b = BIO_new_mem_buf(key_pem, -1);
		ca->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		if (!ca->cert || !ca->key || X509_check_private_key(ca->cert, ca->key) != 1) {
			cct_kbs__ca_free(ca);
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
					   "workload CA certificate/key unreadable or not a pair");
		}
	} else if (!generate(ca)) {
		cct_kbs__ca_free(ca);
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot generate a CA");
	}
	cct_x509_freeze(ca->cert); /* the issuer of every thread's certificates */
	ca->pem = to_pem(ca->cert);
	if (!ca->pem) {
		cct_kbs__ca_free(ca);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	*out = ca;
	return CCT_OK;
}

void cct_kbs__ca_free(cct_kbs_ca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca->pem);
	free(ca);
}

const char *cct_kbs__ca_pem(const cct_kbs_ca *ca)
{
	return ca->pem;
}

static X509_REQ *read_csr(const uint8_t *p, size_t n)
{
	X509_REQ *r = NULL;
	BIO *b;

	if (n == 0 || n > MAX_CERT_INPUT)
		return NULL;
	b = BIO_new_mem_buf(p, (int)n);
	if (b && n > 10 && !memcmp(p, "-----BEGIN", 10))
		r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	else if (b)
		r = d2i_X509_REQ_bio(b, NULL);
	BIO_free(b);
	return r;
}

/* The claims digest: SHA-384 of the canonical claims text. */
static int claims_digest(uint8_t out[48], const char *claims_json)
{
	json_t *j = json_loads(claims_json, 0, NULL);
	char *c = j ? cct_kbs__canonical(j) : NULL;

	json_decref(j);
	if (!c)
		return 0;
	cct_sha384(c, strlen(c), out);
	free(c);
	return 1;
}

static X509_EXTENSION *claims_ext(const uint8_t dg[48])
{
	ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *outer = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *obj = OBJ_txt2obj(CCT_KBS_CERT_CLAIMS_OID, 1);
	unsigned char *der = NULL;
	int n;
	X509_EXTENSION *e = NULL;

	if (inner && outer && obj && ASN1_OCTET_STRING_set(inner, dg, 48) &&
	    (n = i2d_ASN1_OCTET_STRING(inner, &der)) > 0 && ASN1_OCTET_STRING_set(outer, der, n))
		e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, outer);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(inner);
	ASN1_OCTET_STRING_free(outer);
	ASN1_OBJECT_free(obj);
	return e;
}

int cct_kbs__ca_issue(char **pem_out, cct_kbs_ca *ca, const uint8_t *csr_buf, size_t csr_len,
		      EVP_PKEY *tee_pub, const char *claims_json, int64_t now, int ttl_s,
		      cct_err *err)
{
	int rc = CCT_ERROR;
	X509_REQ *csr = read_csr(csr_buf, csr_len);
	EVP_PKEY *ck = NULL;
	X509 *c = NULL;
	X509_EXTENSION *e = NULL;
	uint8_t dg[48];
	char *leaf = NULL;
	X509_NAME *subj, *anon = NULL;

	*pem_out = NULL;
	if (!csr) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "body is not a PKCS#10 CSR (PEM or DER, at most 64 KiB)");
		goto out;
	}
	ck = X509_REQ_get_pubkey(csr);
	if (!ck || X509_REQ_verify(csr, ck) != 1) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0,
				 "CSR self-signature does not verify");
		goto out;
	}
	if (!tee_pub || EVP_PKEY_eq(ck, tee_pub) != 1) {
		rc = cct_err_set(err, CCT_EBINDING, CCT_STAGE_BINDING, 0,
				 "CSR public key is not the attested tee-pubkey");
		goto out;
	}
	if (!claims_digest(dg, claims_json)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "claims are not JSON");
		goto out;
	}
	c = X509_new();
	subj = X509_REQ_get_subject_name(csr);
	/* a CSR without a subject: a name of its own, never the CA's (a leaf named as its issuer
	 * reads as self-signed, and cct_kbs_cert_verify refuses it) */
	if (subj && !X509_NAME_entry_count(subj)) {
		anon = X509_NAME_new();
		if (!anon || !X509_NAME_add_entry_by_txt(anon, "CN", MBSTRING_ASC,
							 (const unsigned char *)"cctrust workload",
							 -1, -1, 0)) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
		subj = anon;
	}
	if (!c || !X509_set_version(c, 2) || !random_serial(c) ||
	    !X509_time_adj_ex(X509_getm_notBefore(c), 0, -60, (time_t *)&now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(c), 0, ttl_s, (time_t *)&now) ||
	    !X509_set_issuer_name(c, X509_get_subject_name(ca->cert)) ||
	    !subj || !X509_set_subject_name(c, subj) ||
	    !X509_set_pubkey(c, ck) ||
	    !cct_mint_add_ext_conf(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !cct_mint_add_ext_conf(c, ca->cert, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
	    !cct_mint_add_ext_conf(c, ca->cert, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !cct_mint_add_ext_conf(c, ca->cert, NID_authority_key_identifier, "keyid:always") ||
	    !(e = claims_ext(dg)) || !X509_add_ext(c, e, -1) || !X509_sign(c, ca->key, EVP_sha256()) ||
	    !(leaf = to_pem(c))) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "certificate issuance failed");
		goto out;
	}
	*pem_out = malloc(strlen(leaf) + strlen(ca->pem) + 1);
	if (!*pem_out) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	strcpy(*pem_out, leaf);
	strcat(*pem_out, ca->pem);
	rc = CCT_OK;
out:
	free(leaf);
	X509_EXTENSION_free(e);
	X509_free(c);
	X509_NAME_free(anon);
	EVP_PKEY_free(ck);
	X509_REQ_free(csr);
	return rc;
}

int cct_kbs_cert_verify(const uint8_t *cert, size_t cert_len, const uint8_t *ca, size_t ca_len,
			const char *claims_json, int64_t at, char **info_out, cct_err *err)
{
	int rc = CCT_ERROR;
	STACK_OF(X509) *leafs = sk_X509_new_null(), *roots = sk_X509_new_null(), *chain = NULL;
	cct_x509_verify_in in;
	uint8_t *ext = NULL, dg[48];
	size_t en = 0;
	char hex[97], nb[32], na[32], cn[128];
	time_t tb, ta;

	if (info_out)
		*info_out = NULL;
	if (!leafs || !roots) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if ((rc = cct_x509_parse_certs(leafs, NULL, cert, cert_len, "workload certificate", err)) !=
		    CCT_OK ||
	    (rc = cct_x509_parse_certs(roots, NULL, ca, ca_len, "workload CA", err)) != CCT_OK)
		goto out;
	{ /* only CA certificates anchor: a chain PEM (leaf + CA, as POST /kbs/v0/cert answers)
	   * given as the CA must not make its leaf, or any CA:FALSE certificate, a trust anchor */
		int i;

		for (i = sk_X509_num(roots) - 1; i >= 0; i--)
			if (X509_check_ca(sk_X509_value(roots, i)) != 1)
				X509_free(sk_X509_delete(roots, i));
		if (!sk_X509_num(roots)) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "the workload CA file holds no CA certificate "
					 "(basicConstraints CA:TRUE): give the CA, GET /kbs/v0/ca");
			goto out;
		}
	}
	memset(&in, 0, sizeof(in));
	in.leaf = sk_X509_value(leafs, 0);
	in.roots = roots;
	in.at = (time_t)at;
	in.what = "workload certificate";
	if ((rc = cct_x509_chain_verify(&chain, &in, err)) != CCT_OK)
		goto out;
	if (!cct_x509_ext_octets(in.leaf, CCT_KBS_CERT_CLAIMS_OID, &ext, &en) || en != 48) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_CHAIN, 0,
				 "certificate has no claims-digest extension %s (48-byte OCTET STRING)",
				 CCT_KBS_CERT_CLAIMS_OID);
		goto out;
	}
	cct_hex_encode(hex, ext, 48);
	if (claims_json) {
		if (!claims_digest(dg, claims_json)) {
			rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0, "claims are not JSON");
			goto out;
		}
		if (!cct_ct_eq(dg, ext, 48)) {
			rc = cct_err_set(err, CCT_EBINDING, CCT_STAGE_BINDING, 0,
					 "claims digest differs: certificate %.16s..., claims given "
					 "hash to another value", hex);
			goto out;
		}
	}
	if (info_out) {
		json_t *j;

		cct_x509_validity(in.leaf, &tb, &ta);
		cct_time_format(nb, sizeof(nb), tb);
		cct_time_format(na, sizeof(na), ta);
		cct_x509_subject_cn(in.leaf, cn, sizeof(cn));
		j = json_pack("{s:s,s:s,s:s,s:s,s:b}", "subject_cn", cn, "not_before", nb,
			      "not_after", na, "claims_sha384", hex, "claims_checked",
			      claims_json != NULL);
		*info_out = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
	}
	rc = CCT_OK;
out:
	OPENSSL_free(ext);
	if (chain)
		sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(leafs, X509_free);
	sk_X509_pop_free(roots, X509_free);
	return rc;
}
