/* cctrust: attestation result tokens: EAR (draft-ietf-rats-ear) as a JWT in Trustee's profile
 * (ES256, the verifier's public JWK in the protected header), JWKS publication and verification.
 * Never an unsigned token: "alg":"none" and every algorithm other than ES256 is refused. */
#ifndef CCTRUST_TOKEN_H
#define CCTRUST_TOKEN_H

#include <jansson.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Trustee's EAR profile. */
#define CCT_TOKEN_EAR_PROFILE "tag:github.com,2024:confidential-containers/Trustee"
/** Largest token accepted by cct_token_verify (named cap). */
#define CCT_TOKEN_MAX_SIZE (256u * 1024u)

/** A token signing key (EC P-256). Opaque; immutable after load, shareable between threads. */
typedef struct cct_token_signer cct_token_signer;

/** Generate a fresh P-256 signing key. */
CCT_EXTERN int cct_token_signer_generate(cct_token_signer **out, cct_err *err);
/** Load a P-256 private key (PEM, PKCS#8 or SEC1). */
CCT_EXTERN int cct_token_signer_load_pem(cct_token_signer **out, const uint8_t *pem, size_t len,
					 cct_err *err);
/** Private key as PKCS#8 PEM (malloc'd; wipe and free it). */
CCT_EXTERN char *cct_token_signer_pem(const cct_token_signer *s);
CCT_EXTERN void cct_token_signer_free(cct_token_signer *s);
/** Add the signing key's certificate chain (PEM, leaf first; the leaf must certify the signing
 *  key) as "x5c" of the JWK in every token header and in the JWKS, so that a relying party
 *  (Trustee's KBS) can verify tokens against its trusted certificates. */
CCT_EXTERN int cct_token_signer_set_x5c(cct_token_signer *s, const char *chain_pem, cct_err *err);
/** Public JWK {"kty":"EC","crv":"P-256","x","y","alg":"ES256","kid"} (new reference). kid is the
 *  RFC 7638 thumbprint. */
CCT_EXTERN json_t *cct_token_signer_jwk(const cct_token_signer *s);
/** {"keys":[jwk]} (new reference). */
CCT_EXTERN json_t *cct_token_signer_jwks(const cct_token_signer *s);

/** Sign claims as a compact JWS: header {"alg":"ES256","typ":"JWT","jwk":..,"kid":..}.
 *  claims is not modified. *out malloc'd. */
CCT_EXTERN int cct_token_sign(char **out, const cct_token_signer *s, const json_t *claims,
			      cct_err *err);

/** What cct_token_verify checks beyond the signature. Zero-initialise. */
typedef struct cct_token_verify_opts {
	const json_t *jwks;            /**< trusted keys {"keys":[...]}; the header JWK must be one */
	int trust_header_jwk_insecure; /**< accept the header's JWK without jwks (says so) */
	time_t at;                     /**< time for exp/iat (0 = now) */
	int skew_s;                    /**< allowed clock skew (default 60) */
	const char *profile;           /**< required eat_profile (default CCT_TOKEN_EAR_PROFILE) */
} cct_token_verify_opts;

/** Verify a compact JWS EAR token: ES256 only, key trusted via jwks (or explicitly not), signature,
 *  exp / iat at opts->at, eat_profile, submods present with ear.status. *claims_out (new reference)
 *  gets the claims. Errors: EENCODING/EFORMAT (shape), EUNSUPPORTED (alg), EUNTRUSTED (key),
 *  ESIGNATURE, EEXPIRED, EPOLICY (profile); stage TOKEN. */
CCT_EXTERN int cct_token_verify(json_t **claims_out, const char *token, size_t len,
				const cct_token_verify_opts *opts, cct_err *err);

/** An EVP_PKEY from a public JWK (EC P-256/P-384/P-521 or RSA >= 2048); validates the point.
 *  Returns an EVP_PKEY * as void * (OpenSSL type kept out of this header). Free with
 *  EVP_PKEY_free. Errors: EFORMAT / EUNSUPPORTED naming the member. */
CCT_EXTERN int cct_token_jwk_to_pkey(void **out, const json_t *jwk, cct_err *err);
/** The first private key member a JWK carries ("d"; RSA "p", "q", "dp", "dq", "qi", "oth"; a
 *  symmetric "k": RFC 7518 6.2.2, 6.3.2, 6.4), or NULL for a public key alone. A tee-pubkey
 *  with one is refused: the attestation result would carry the key. */
CCT_EXTERN const char *cct_token_jwk_private_member(const json_t *jwk);

#ifdef __cplusplus
}
#endif
#endif
