/* X.509 and signature helpers over OpenSSL (semi-private, shared by every verifier).
 * No hand-made ASN.1: everything here goes through libcrypto. */
#ifndef CCT_X509_X509_H
#define CCT_X509_X509_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cctrust/errors.h"

#define CCT_X509_MAX_CHAIN 8
#define CCT_X509_MAX_CERTS 64 /* certificates read from one file or directory */

/* Append every certificate in buf (PEM with one or more certs, or one DER cert, or
 * concatenated DER certs) to sk. CRLs in PEM are appended to crls when crls != NULL.
 * Returns CCT_OK if at least one certificate or CRL was read. */
int cct_x509_parse_certs(STACK_OF(X509) *sk, STACK_OF(X509_CRL) *crls, const uint8_t *buf,
			 size_t len, const char *what, cct_err *err);
/* Same from a file, or from every regular file of a directory (sorted). */
int cct_x509_load_path(STACK_OF(X509) *sk, STACK_OF(X509_CRL) *crls, const char *path,
		       cct_err *err);
/* One CRL, DER or PEM. */
int cct_x509_parse_crl(X509_CRL **out, const uint8_t *buf, size_t len, cct_err *err);

/* Fill in what OpenSSL otherwise computes inside a certificate (extensions, key identifiers,
 * hash, self-signed flag) or a CRL (its revocation list sorted for lookup) the first time it is
 * used. Call it before an object is shared between threads: OpenSSL 3.0 fills that cache on
 * first use under a lock it does not hold for every read, so two threads using a fresh object
 * at once race (a thread may compare a key identifier the other is replacing, or search a
 * revocation list the other is sorting). Every parser in this file does it; so must code that
 * decodes certificates or CRLs itself. NULL is ignored. */
void cct_x509_freeze(X509 *x);
void cct_x509_crl_freeze(X509_CRL *crl);

/* Inputs of a chain verification. roots are the only trust anchors (pinned by the caller). */
typedef struct cct_x509_verify_in {
	X509 *leaf;
	STACK_OF(X509) *untrusted;  /* intermediates offered (may be NULL) */
	STACK_OF(X509) *roots;      /* trust anchors */
	STACK_OF(X509_CRL) *crls;   /* may be NULL */
	int crl_check;              /* 0: none; 1: leaf; 2: every certificate */
	time_t at;                  /* verification time */
	const char *what;           /* "VCEK chain": used in messages */
	cct_stage stage;            /* stage to report (default CHAIN) */
} cct_x509_verify_in;

/* Verify leaf -> ... -> a root at time in->at. On success *chain_out (if not NULL) receives the
 * built chain (leaf first; free with sk_X509_pop_free(.., X509_free)). Errors: ECHAIN, EEXPIRED,
 * EREVOKED, ECOLLATERAL (CRL missing/stale). */
int cct_x509_chain_verify(STACK_OF(X509) **chain_out, const cct_x509_verify_in *in, cct_err *err);

/* The DER contents of extension oid ("1.3.6.1.4.1.3704.1.4") of cert; 1 if present. Borrowed. */
int cct_x509_ext_value(const X509 *cert, const char *oid, const uint8_t **p, size_t *n);
/* Extension holding a DER INTEGER -> *out. CCT_OK, or EFORMAT/ECHAIN if missing. */
int cct_x509_ext_integer(const X509 *cert, const char *oid, long *out);
/* Extension holding an IA5String/UTF8String -> buf. 1 if present and decodes. */
int cct_x509_ext_string(const X509 *cert, const char *oid, char *buf, size_t size);
/* Extension holding an OCTET STRING (or raw bytes if not DER OCTET STRING) -> *p,*n (borrowed
 * into a static-free copy: caller frees *p with OPENSSL_free). 1 if present. */
int cct_x509_ext_octets(const X509 *cert, const char *oid, uint8_t **p, size_t *n);
/* 1 if both certificates carry the same public key. */
int cct_x509_same_key(const X509 *a, const X509 *b);
/* Subject CN (or "?"). */
void cct_x509_subject_cn(const X509 *cert, char *buf, size_t size);
/* validity check at time t: CCT_OK or EEXPIRED with a message naming what and the bounds. */
int cct_x509_check_time(const X509 *cert, time_t t, const char *what, cct_err *err);
/* notBefore/notAfter as time_t. */
int cct_x509_validity(const X509 *cert, time_t *not_before, time_t *not_after);
/* SHA-256 of the DER encoding (cache keys). */
void cct_x509_fingerprint(const X509 *cert, uint8_t out[32]);

/* ECDSA verification of msg with md (e.g. EVP_sha384()) where the signature is given as raw
 * r and s of rs_len bytes each, big-endian (le=0) or little-endian (le=1, AMD). 1 = valid. */
int cct_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t n,
			const uint8_t *r, const uint8_t *s, size_t rs_len, int le);
/* Same over a precomputed digest. */
int cct_ecdsa_verify_digest_rs(EVP_PKEY *key, const uint8_t *dgst, size_t dlen,
			       const uint8_t *r, const uint8_t *s, size_t rs_len, int le);
/* One-shot digest helpers. */
void cct_sha256(const void *p, size_t n, uint8_t out[32]);
void cct_sha384(const void *p, size_t n, uint8_t out[48]);
void cct_sha512(const void *p, size_t n, uint8_t out[64]);

#endif
