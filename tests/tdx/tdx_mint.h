/* Test-time minting of TDX evidence under a throw-away root: CA chain with the SGX extension of a
 * real PCK leaf, CRLs, a signed quote v4, and a signed collateral bundle. Tests only. */
#ifndef CCT_TDX_MINT_H
#define CCT_TDX_MINT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "x509/x509.h"

typedef struct {
	EVP_PKEY *root_key, *ca_key, *pck_key, *tcb_key, *att_key;
	X509 *root, *ca, *pck, *tcb;
	char *chain_pem;        /* leaf, CA, root */
	char *root_pem;
	uint8_t *quote;
	size_t quote_len;
	char *bundle;           /* QVL JSON collateral bundle */
} mint_t;

static EVP_PKEY *mint_key(void)
{
	return EVP_EC_gen("P-256");
}

static X509 *mint_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		       long serial, int ca, X509_EXTENSION *extra)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *bc;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	ASN1_TIME_set_string(X509_getm_notBefore(x), "20200101000000Z");
	ASN1_TIME_set_string(X509_getm_notAfter(x), "20400101000000Z");
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	bc = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
				 ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, bc, -1);
	X509_EXTENSION_free(bc);
	if (extra)
		X509_add_ext(x, extra, -1);
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static void mint_pem_append(char **dst, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	size_t old = *dst ? strlen(*dst) : 0;

	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	*dst = realloc(*dst, old + (size_t)n + 1);
	memcpy(*dst + old, p, (size_t)n);
	(*dst)[old + (size_t)n] = 0;
	BIO_free(b);
}

/* ECDSA-SHA256 -> raw r||s */
static void mint_sign(EVP_PKEY *key, const uint8_t *msg, size_t n, uint8_t out[64])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char der[80];
	size_t dl = sizeof(der);
	const unsigned char *q = der;
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;

	EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(m, der, &dl, msg, n);
	EVP_MD_CTX_free(m);
	sig = d2i_ECDSA_SIG(NULL, &q, (long)dl);
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, out, 32);
	BN_bn2binpad(s, out + 32, 32);
	ECDSA_SIG_free(sig);
}

static void mint_put16(uint8_t *p, unsigned v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; }
static void mint_put32(uint8_t *p, unsigned long v)
{
	mint_put16(p, v & 0xffff);
	mint_put16(p + 2, (v >> 16) & 0xffff);
}

/* CRL by issuer (key), revoking serial (or none when serial < 0), valid 2020..2040 */
static char *mint_crl_hex(X509 *issuer, EVP_PKEY *key, long serial)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	unsigned char *der = NULL;
	int n;
	char *hex;

	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer));
	ASN1_TIME_set_string(t, "20200101000000Z");
	X509_CRL_set1_lastUpdate(c, t);
	ASN1_TIME_set_string(t, "20400101000000Z");
	X509_CRL_set1_nextUpdate(c, t);
	if (serial >= 0) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		ASN1_INTEGER_set(s, serial);
		X509_REVOKED_set_serialNumber(r, s);
		ASN1_TIME_set_string(t, "20210101000000Z");
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(c, r);
		ASN1_INTEGER_free(s);
	}
	X509_CRL_sort(c);
	X509_CRL_sign(c, key, EVP_sha256());
	n = i2d_X509_CRL(c, &der);
	hex = malloc(2 * (size_t)n + 1);
	cct_hex_encode(hex, der, (size_t)n);
	OPENSSL_free(der);
	ASN1_TIME_free(t);
	X509_CRL_free(c);
	return hex;
}

/* debug: TD_ATTRIBUTES.DEBUG; revoke_pck: PCK CRL lists the leaf; status: TCB level status */
static void mint_all(mint_t *m, X509 *real_pck, int debug, int revoke_pck, const char *status)
{
	ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
	int idx = X509_get_ext_by_OBJ(real_pck, oid, -1);
	X509_EXTENSION *sgx = X509_get_ext(real_pck, idx);
	uint8_t *q, att_xy[65], h[32], *auth;
	size_t xy_len = sizeof(att_xy), pem_len, sig_len, off;
	char sig_hex[129], *tcb_info, *qe_id, *pck_crl, *root_crl, *chain_tcb = NULL;
	uint8_t sig[64];
	json_t *b;

	ASN1_OBJECT_free(oid);
	memset(m, 0, sizeof(*m));
	m->root_key = mint_key();
	m->ca_key = mint_key();
	m->pck_key = mint_key();
	m->tcb_key = mint_key();
	m->att_key = mint_key();
	m->root = mint_cert("Test SGX Root CA", m->root_key, NULL, NULL, 1, 1, NULL);
	m->ca = mint_cert("Test SGX PCK Platform CA", m->ca_key, m->root, m->root_key, 2, 1, NULL);
	m->pck = mint_cert("Test SGX PCK Certificate", m->pck_key, m->ca, m->ca_key, 77, 0, sgx);
	m->tcb = mint_cert("Test SGX TCB Signing", m->tcb_key, m->root, m->root_key, 3, 0, NULL);
	mint_pem_append(&m->chain_pem, m->pck);
	mint_pem_append(&m->chain_pem, m->ca);
	mint_pem_append(&m->chain_pem, m->root);
	mint_pem_append(&m->root_pem, m->root);
	mint_pem_append(&chain_tcb, m->tcb);
	mint_pem_append(&chain_tcb, m->root);

	/* quote v4: header 48, body 584, sig data */
	pem_len = strlen(m->chain_pem);
	sig_len = 64 + 64 + 2 + 4 + 384 + 64 + 2 + 32 + 2 + 4 + pem_len;
	m->quote_len = 48 + 584 + 4 + sig_len;
	q = m->quote = calloc(1, m->quote_len);
	mint_put16(q, 4);
	mint_put16(q + 2, 2);
	mint_put32(q + 4, 0x81);
	memcpy(q + 12, "\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07", 16);
	q[48 + 0] = 2;                   /* TEE_TCB_SVN[0] */
	q[48 + 0x78] = debug ? 1 : 0;    /* TDATTRIBUTES */
	q[48 + 0x78 + 3] = 0x10;
	memset(q + 48 + 0x88, 0xAB, 48); /* MRTD */
	memset(q + 48 + 0x208, 0x5A, 64); /* REPORTDATA */
	mint_put32(q + 632, (unsigned long)sig_len);
	off = 636;
	EVP_PKEY_get_octet_string_param(m->att_key, "encoded-pub-key", att_xy, sizeof(att_xy),
					&xy_len);
	memcpy(q + off + 64, att_xy + 1, 64);
	mint_put16(q + off + 128, 6);
	mint_put32(q + off + 130, (unsigned long)(sig_len - 134));
	off += 134;                                    /* QE report */
	mint_put16(q + off + 0x100, 2);                /* ISVPRODID */
	mint_put16(q + off + 0x102, 5);                /* ISVSVN */
	q[off + 0x30] = 0x15;                          /* ATTRIBUTES */
	memset(q + off + 0x80, 0xDC, 32);              /* MRSIGNER */
	auth = q + off + 384 + 64 + 2;
	memset(auth, 0x11, 32);
	{
		uint8_t hb[96];

		memcpy(hb, att_xy + 1, 64);
		memcpy(hb + 64, auth, 32);
		cct_sha256(hb, 96, h);
	}
	memcpy(q + off + 0x140, h, 32);
	mint_sign(m->pck_key, q + off, 384, q + off + 384);
	mint_put16(q + off + 384 + 64, 32);
	mint_put16(q + off + 384 + 64 + 2 + 32, 5);
	mint_put32(q + off + 384 + 64 + 2 + 32 + 2, (unsigned long)pem_len);
	memcpy(q + off + 384 + 64 + 2 + 32 + 6, m->chain_pem, pem_len);
	mint_sign(m->att_key, q, 632, q + 636);

	/* collateral: TCB info with one all-zero level, QE identity for MRSIGNER 0xDC.. */
	{
		char comps[2048] = "", *p = comps;
		int i;

		for (i = 0; i < 16; i++)
			p += sprintf(p, "%s{\"svn\":0}", i ? "," : "");
		tcb_info = malloc(8192);
		snprintf(tcb_info, 8192,
			 "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"2021-01-01T00:00:00Z\","
			 "\"nextUpdate\":\"2039-01-01T00:00:00Z\",\"fmspc\":\"%s\",\"pceId\":\"0000\","
			 "\"tcbType\":0,\"tcbEvaluationDataNumber\":1,\"tdxModule\":{\"mrsigner\":\"%096d\","
			 "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},"
			 "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":0,"
			 "\"tdxtcbcomponents\":[%s]},\"tcbDate\":\"2024-01-01T00:00:00Z\","
			 "\"tcbStatus\":\"%s\",\"advisoryIDs\":[\"INTEL-SA-00001\"]}]}",
			 "50806f000000", 0, comps, comps, status);
	}
	qe_id = malloc(4096);
	snprintf(qe_id, 4096,
		 "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2021-01-01T00:00:00Z\","
		 "\"nextUpdate\":\"2039-01-01T00:00:00Z\",\"tcbEvaluationDataNumber\":1,"
		 "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
		 "\"attributes\":\"11000000000000000000000000000000\","
		 "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
		 "\"DCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDC\","
		 "\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4},\"tcbDate\":"
		 "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}");
	pck_crl = mint_crl_hex(m->ca, m->ca_key, revoke_pck ? 77 : -1);
	root_crl = mint_crl_hex(m->root, m->root_key, -1);
	b = json_object();
	{
		char *ca_chain = NULL;

		mint_pem_append(&ca_chain, m->ca);
		mint_pem_append(&ca_chain, m->root);
		json_object_set_new(b, "pck_crl_issuer_chain", json_string(ca_chain));
		free(ca_chain);
	}
	json_object_set_new(b, "root_ca_crl", json_string(root_crl));
	json_object_set_new(b, "pck_crl", json_string(pck_crl));
	json_object_set_new(b, "tcb_info_issuer_chain", json_string(chain_tcb));
	json_object_set_new(b, "tcb_info", json_string(tcb_info));
	mint_sign(m->tcb_key, (const uint8_t *)tcb_info, strlen(tcb_info), sig);
	cct_hex_encode(sig_hex, sig, 64);
	json_object_set_new(b, "tcb_info_signature", json_string(sig_hex));
	json_object_set_new(b, "qe_identity_issuer_chain", json_string(chain_tcb));
	json_object_set_new(b, "qe_identity", json_string(qe_id));
	mint_sign(m->tcb_key, (const uint8_t *)qe_id, strlen(qe_id), sig);
	cct_hex_encode(sig_hex, sig, 64);
	json_object_set_new(b, "qe_identity_signature", json_string(sig_hex));
	m->bundle = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	free(tcb_info);
	free(qe_id);
	free(pck_crl);
	free(root_crl);
	free(chain_tcb);
}

static void mint_free(mint_t *m)
{
	EVP_PKEY_free(m->root_key);
	EVP_PKEY_free(m->ca_key);
	EVP_PKEY_free(m->pck_key);
	EVP_PKEY_free(m->tcb_key);
	EVP_PKEY_free(m->att_key);
	X509_free(m->root);
	X509_free(m->ca);
	X509_free(m->pck);
	X509_free(m->tcb);
	free(m->chain_pem);
	free(m->root_pem);
	free(m->quote);
	free(m->bundle);
}

#endif
