/* Minting keys, certificates and CRLs with OpenSSL (semi-private).
 * Used by the simulated TEE (test-only roots generated at run time) and by tests. Nothing minted
 * here is ever trusted unless a caller configures it explicitly. */
#ifndef CCT_X509_MINT_H
#define CCT_X509_MINT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cctrust/errors.h"

EVP_PKEY *cct_mint_rsa_key(int bits);
EVP_PKEY *cct_mint_ec_key(const char *curve /* "P-256", "P-384" */);
EVP_PKEY *cct_mint_ed25519_key(void);

typedef struct cct_mint_ext {
	const char *oid;       /* dotted OID */
	const uint8_t *der;    /* DER value placed in the extension's OCTET STRING */
	size_t der_len;
	int critical;
} cct_mint_ext;

typedef struct cct_mint_spec {
	const char *cn;           /* subject CN */
	const char *org;          /* subject O (optional) */
	const char *ou;           /* subject OU (optional) */
	EVP_PKEY *key;            /* subject public key */
	X509 *issuer;             /* NULL: self-signed */
	EVP_PKEY *issuer_key;     /* signing key (the subject key when self-signed) */
	long serial;
	time_t not_before, not_after;
	int is_ca;                /* basicConstraints CA:TRUE + keyCertSign/cRLSign */
	int pss;                  /* RSA issuer: sign RSASSA-PSS SHA-384, salt 48 (AMD) */
	const EVP_MD *md;         /* default SHA-384 */
	const cct_mint_ext *exts;
	size_t ext_count;
} cct_mint_spec;

X509 *cct_mint_cert(const cct_mint_spec *spec);
/* Add one extension to x (generic; cctrustd's workload CA uses these too): from an OpenSSL config value ("critical,CA:TRUE", "hash", ...; issuer
 * NULL = self-issued), or as raw DER under a dotted OID. 1 on success. */
int cct_mint_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value);
int cct_mint_add_ext_der(X509 *x, const char *oid, const uint8_t *der, size_t n, int critical);
/* CRL by issuer listing serials (revoked at last_update). reason < 0: none. */
X509_CRL *cct_mint_crl(X509 *issuer, EVP_PKEY *issuer_key, int pss, const long *serials,
		       size_t n, int reason, time_t last_update, time_t next_update);
/* PEM text (malloc'd, NUL-terminated). */
char *cct_mint_cert_pem(X509 *x);
char *cct_mint_key_pem(EVP_PKEY *k);        /* private key, PKCS#8 */
char *cct_mint_pubkey_pem(EVP_PKEY *k);
char *cct_mint_crl_pem(X509_CRL *c);
/* Write text as dir/name (mode 0600 when private_), taking ownership of text: wiped when private,
 * then freed. NULL text (an encoding that failed) is an error naming the file. */
int cct_mint_save_text(const char *dir, const char *name, char *text, int private_,
		       cct_err *err);
/* Read dir/name: a certificate into *x and/or a private key into *k (either may be NULL). */
int cct_mint_load_pem(const char *dir, const char *name, X509 **x, EVP_PKEY **k, cct_err *err);
/* DER of an INTEGER / IA5String / OCTET STRING; free with OPENSSL_free(). */
uint8_t *cct_mint_der_integer(long v, size_t *len);
uint8_t *cct_mint_der_ia5(const char *s, size_t *len);
uint8_t *cct_mint_der_octets(const uint8_t *p, size_t n, size_t *len);

#endif
