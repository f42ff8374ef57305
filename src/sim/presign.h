/* ECDSA signing for the simulated TEE (internal): the simulators' evidence signatures go
 * through here (the SNP report under the simulated VCEK, the SPDM measurements under the
 * simulated device key, the TDX quote and its QE report), so a load generator can have the
 * P-384 ones' nonces precomputed (cct_sim_presign_start in cctrust/sim.h). */
#ifndef CCT_SIM_PRESIGN_H
#define CCT_SIM_PRESIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

/* ECDSA signature of the digest dgst (n bytes) under key, as r and s (free with
 * ECDSA_SIG_free): with a precomputed nonce when the key is P-384 and one is ready, else as
 * EVP_PKEY_sign makes it. NULL on failure. */
ECDSA_SIG *cct_sim__ecdsa_sign(EVP_PKEY *key, const uint8_t *dgst, size_t n);
/* The same signature as raw r || s, each big-endian in width bytes (rs: 2 * width bytes), the
 * form the SNP report, SPDM and TDX quotes carry (SNP then reverses each half). 0, or -1 on
 * failure. */
int cct_sim__ecdsa_sign_raw(EVP_PKEY *key, const uint8_t *dgst, size_t n, uint8_t *rs,
			    size_t width);

#endif
