/* JOSE over OpenSSL EVP (semi-private): the one implementation behind EAR tokens,
 * cctrustd, the guest client and the tests. cjose covers neither ECDH-ES+A256KW nor RSA-OAEP-256,
 * so JWE is built from EVP primitives: ECDH derive, SSKDF (= JWA Concat KDF), AES key wrap,
 * AES-GCM, RSA-OAEP. No hand-rolled crypto.
 *
 * JWS: compact serialization, ES256/ES384 (raw r||s, RFC 7518 3.4), EdDSA (Ed25519, RFC 8037),
 *      RS256 and PS256 (RSA >= 2048 bits).
 * JWE: flattened JSON serialization (RFC 7516 7.2.2), alg ECDH-ES+A256KW (P-256/384/521) or
 *      RSA-OAEP-256, enc A256GCM; AAD = ASCII(BASE64URL(protected header)). */
#ifndef CCT_TOKEN_JOSE_H
#define CCT_TOKEN_JOSE_H

#include <jansson.h>
#include <openssl/evp.h>

#include "cctrust/errors.h"

#define CCT_JOSE_MAX_TOKEN (256u * 1024u)  /* a compact JWS or JWE text */
#define CCT_JOSE_MAX_PLAINTEXT (1u << 20)  /* a secret wrapped in a JWE */

/* Strict base64url (no padding, no whitespace, URL alphabet only). *out malloc'd. */
int cct_jose_b64url_decode(uint8_t **out, size_t *out_len, const char *s, size_t n,
			   cct_err *err);
/* base64url of n bytes (malloc'd, NULL on OOM). */
char *cct_jose_b64url(const void *p, size_t n);

/* Public key from a JWK object: EC P-256 / P-384 / P-521 (point checked on the curve), RSA (n >= 2048
 * bits), OKP Ed25519. *out owned by the caller (EVP_PKEY_free). */
int cct_jose_jwk_to_pkey(EVP_PKEY **out, const json_t *jwk, cct_err *err);
/* Same from JSON text. */
int cct_jose_jwk_text_to_pkey(EVP_PKEY **out, const char *text, cct_err *err);
/* Public JWK of key (EC P-256/P-384/P-521, RSA, Ed25519); alg added when not NULL. New reference. */
json_t *cct_jose_pkey_to_jwk(EVP_PKEY *key, const char *alg);

/* Compact JWS over payload. alg: "ES256" (P-256 key), "ES384" (P-384), "EdDSA" (Ed25519),
 * "RS256" / "PS256" (RSA >= 2048 bits; PSS salt = 32). hdr_extra
 * (may be NULL) is merged into the protected header (e.g. a "jwk"). *out malloc'd. */
int cct_jose_jws_sign(char **out, EVP_PKEY *key, const char *alg, const json_t *hdr_extra,
		      const char *payload, size_t payload_len, cct_err *err);
/* Split and decode a compact JWS without verifying. *header_out and *payload_out are new
 * references (either may be NULL to skip); payload must be a JSON object. */
int cct_jose_jws_peek(json_t **header_out, json_t **payload_out, const char *jws, cct_err *err);
/* The payload bytes of a compact JWS without verifying, as NUL-terminated text (*out malloc'd,
 * *out_len may be NULL): EFORMAT when it is not three parts or holds a NUL byte. */
int cct_jose_jws_payload_text(char **out, size_t *out_len, const char *jws, cct_err *err);
/* Detached content (RFC 7515 Appendix F): "HEADER..SIGNATURE" of a compact JWS whose payload
 * segment is exactly base64url(payload), malloc'd; NULL when it is not (or out of memory). */
char *cct_jose_jws_detach(const char *jws, const char *payload);
/* The compact JWS back from its detached form (n bytes, "HEADER..SIGNATURE") and its payload,
 * malloc'd; NULL when detached is not of that form (or out of memory). */
char *cct_jose_jws_attach(const char *detached, size_t n, const char *payload);
/* 1 when alg (one of the JWS algorithms above) can be used with key. */
int cct_jose_alg_fits_key(const char *alg, EVP_PKEY *key);
/* Verify a compact JWS with key; the header alg must equal expect_alg (any of the algorithms
 * above), or, expect_alg NULL, be one that fits the key.
 * On success *payload_out (may be NULL) is the payload object (new reference).
 * Errors: EFORMAT/EENCODING (malformed), EUNSUPPORTED (alg), ESIGNATURE. */
int cct_jose_jws_verify(json_t **payload_out, const char *jws, EVP_PKEY *key,
			const char *expect_alg, cct_err *err);

/* Flattened JWE of pt to recipient's public key: ECDH-ES+A256KW for EC P-256/P-384/P-521 (ephemeral key on the same curve), RSA-OAEP-256
 * for RSA; enc A256GCM. *out malloc'd JSON text. */
int cct_jose_jwe_encrypt(char **out, EVP_PKEY *recipient, const uint8_t *pt, size_t pt_len,
			 cct_err *err);
/* Decrypt a flattened JWE with the recipient's private key. *out malloc'd (wipe + free);
 * ESIGNATURE when the key or the tag does not match. */
int cct_jose_jwe_decrypt(uint8_t **out, size_t *out_len, const char *jwe, size_t jwe_len,
			 EVP_PKEY *priv, cct_err *err);

/* Fresh key pairs: "P-256", "P-384", "P-521" (EC), "RSA" (3072 bits), "Ed25519". NULL on failure. */
EVP_PKEY *cct_jose_keygen(const char *kind);
/* PEM (private or public) file / text -> key. */
int cct_jose_pem_read(EVP_PKEY **out, const char *path, int private_, cct_err *err);
/* Write key as PEM (private: PKCS#8, mode 0600; else SubjectPublicKeyInfo). */
int cct_jose_pem_write(const char *path, EVP_PKEY *key, int private_, cct_err *err);

#endif
