/* libFuzzer: attestation result tokens (EAR JWTs) and JWKs from untrusted hands: a relying
 * party's `token verify`, a Bearer token presented to cctrustd, the claims of a workload
 * certificate, a tee-pubkey. The first byte picks what the rest is:
 *   0  a token verified with its header JWK trusted (the whole parse and the signature check)
 *   1  a token verified against a JWKS of another key (the key must be refused)
 *   2  a JWK (JSON): public key import, private-member detection
 *   3  a token verified with its header JWK, any profile, a large skew
 * A success yields claims (a JSON object) and a failure none; a token under mode 1 is never
 * accepted (no token can carry a signature of a key generated here and never published). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cctrust/core.h"
#include "cctrust/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *other_jwks(void)
{
	static json_t *jwks;
	cct_token_signer *s = NULL;
	cct_err err;

	if (!jwks && cct_token_signer_generate(&s, &err) == CCT_OK) {
		jwks = cct_token_signer_jwks(s);
		cct_token_signer_free(s);
	}
	return jwks;
}

static void verify(const uint8_t *data, size_t size, int mode)
{
	cct_token_verify_opts o;
	json_t *claims = NULL;
	cct_err err;
	int rc;

	memset(&o, 0, sizeof(o));
	o.at = 1767225600; /* 2026-01-01: deterministic */
	if (mode == 1) {
		if (!(o.jwks = other_jwks()))
			abort();
	} else {
		o.trust_header_jwk_insecure = 1;
	}
	if (mode == 3)
		o.skew_s = 1 << 30;
	rc = cct_token_verify(&claims, (const char *)data, size, &o, &err);
	if (rc == CCT_OK && (!json_is_object(claims) || mode == 1))
		abort();
	if (rc != CCT_OK && claims)
		abort();
	json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *jwk;
	void *pk = NULL;
	cct_err err;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 2:
		jwk = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
		if (!jwk)
			return 0;
		(void)cct_token_jwk_private_member(jwk);
		if (cct_token_jwk_to_pkey(&pk, jwk, &err) == CCT_OK) {
			if (!pk)
				abort();
			EVP_PKEY_free(pk);
		} else if (pk) {
			abort();
		}
		json_decref(jwk);
		break;
	default:
		verify(data + 1, size - 1, data[0] & 3);
	}
	return 0;
}
