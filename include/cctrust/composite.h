/* cctrust: composite attestation (one KBS 0.4.0 attest request: CPU evidence + GPU evidence)
 * verified, bound to its runtime data exactly as Trustee does it, appraised against a
 * `cctrust.policy/v1` policy (policy.h, docs/policy.md), and signed as an EAR JWT (token.h).
 *
 * Flow: request bytes -> cct_composite__request_parse (shape, caps) -> per-evidence-type modules
 * (src/composite/ev_*.c: SNP, TDX, NVIDIA GPUs) -> verified claims ->
 * binding (REPORT_DATA / SPDM nonce / init-data digest) -> policy rules -> result + EAR claims. */
#ifndef CCTRUST_COMPOSITE_H
#define CCTRUST_COMPOSITE_H

#include <jansson.h>

#include "common.h"
#include "errors.h"
#include "policy.h"
#include "token.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest attest request body accepted (named cap; the broker uses the same). */
#define CCT_COMPOSITE_MAX_REQUEST (4u * 1024u * 1024u)
/** Most GPUs (devices) in one request. */
#define CCT_COMPOSITE_MAX_GPUS 16

/* ---- RFC 8785 JSON Canonicalization Scheme ------------------------------------------------ */

/** Canonical JSON (RFC 8785) of v: object members sorted by UTF-16 code units, no whitespace,
 *  ECMAScript number formatting, minimal string escaping. *out is malloc'd, NUL-terminated;
 *  out_len (may be NULL) excludes the NUL. Errors: EINVAL (NaN/Inf, depth > CCT_POLICY_MAX_DEPTH),
 *  ENOMEM. */
CCT_EXTERN int cct_composite_jcs(char **out, size_t *out_len, const json_t *v, cct_err *err);

/** Trustee's runtime-data digest: SHA-384(JCS(obj)) (48 bytes). */
CCT_EXTERN int cct_composite_runtime_digest(uint8_t out[48], const json_t *obj, cct_err *err);

/* ---- Composite verification ----------------------------------------------------------------- */

struct cct_collateral_source;
/** Options of one verification. Zero-initialise; every weakening option ends in _insecure. */
typedef struct cct_composite_opts {
	time_t at;                     /**< verification time; 0 = now */
	const uint8_t *expected_nonce; /**< the session nonce (decoded bytes); NULL = not checked */
	size_t expected_nonce_len;
	const char *tee_hint;          /**< "snp"/"tdx" from the auth request, or NULL (detected) */
	const char *collateral_dir;    /**< on-disk collateral (docs/composite.md): AMD KDS cache,
					    Intel QVL bundle / PCS dir / cache (DIR or DIR/tdx),
					    NVIDIA RIMs and OCSP (DIR/nvidia/{rims,ocsp}) */
	const struct cct_collateral_source *collateral; /**< collateral bundle/cache queried first
					    (include/cctrust/collateral.h); a collateral_dir that is a
					    bundle (manifest.json or .tar) is opened as one */
	int offline;                   /**< never use the network */
	const char *certs_path;        /**< extra certificates / CRLs (file or directory) */
	const char *trust_sim_dir;     /**< trust the simulated TEE's roots in this dir (results say
					    "simulated"); NULL in production */
	int crl_check_off_insecure;    /**< do not require revocation: CRLs (SNP, TDX) and GPU
					    OCSP (real vectors ship none) */
	int skip_binding_insecure;     /**< do not check REPORT_DATA / SPDM nonces / init-data:
					    ONLY for replaying captured evidence; result says so */
	int token_ttl_s;               /**< EAR lifetime (default 300, Trustee's 5 minutes) */
	const char *issuer;            /**< EAR "iss" (default "cctrust") */
	const uint8_t *bound_report_data; /**< 64 bytes: the caller's binding (attested TLS,
					       docs/ratls.md) replaces Trustee's runtime data: the
					       request has no "runtime-data", REPORT_DATA must equal
					       these bytes and every GPU's SPDM nonce bound_gpu_nonce */
	const uint8_t *bound_gpu_nonce;   /**< 32 bytes; required with bound_report_data */
	const json_t *parsed_request;     /**< optional: the body as the caller already parsed it
					       (JSON_REJECT_DUPLICATES, e.g. the broker), so it is
					       not parsed twice; body/len must still be its bytes */
	const cct_policy *const *also_policies; /**< optional: more policies to judge the same
					       verified evidence under (the broker's per-resource
					       attestation policies), without verifying it again */
	size_t also_count;                /**< entries in also_policies and also_ok */
	int *also_ok;                     /**< out: also_ok[i] = 1 when cct_composite_verify with
					       also_policies[i] would return CCT_OK for this request,
					       0 when it would not, -1 when that needs the evidence
					       verified again (its GPU rules or RIM requirement differ
					       from pol's): the caller verifies with it */
} cct_composite_opts;

/** Outcome of cct_composite_verify. Release with cct_composite_result_clear. */
typedef struct cct_composite_result {
	int status;       /**< CCT_OK: every check and rule passed ("affirming") */
	cct_err err;      /**< first failure (stage/code/message) when status != CCT_OK */
	json_t *result;   /**< owned: the full result (docs/composite.md), always set on return */
	json_t *ear;      /**< owned: EAR claims set, or NULL when evidence did not verify */
	char *token;      /**< owned: signed EAR JWT when a signer was given and ear != NULL */
} cct_composite_result;

/** Verify one KBS 0.4.0 attest request body (the bytes as received) against pol.
 *  signer may be NULL (no token). Always fills out->result (also on failure: it names the
 *  failing check or every failing rule). Returns out->status. A token is issued for policy
 *  failures too (ear.status "contraindicated"), never when evidence or binding fails.
 *  Errors: EINVAL/EENCODING/ETOOBIG/EFORMAT (request shape), EUNSUPPORTED (evidence type not
 *  built in), chain/signature/TCB codes from the verifiers, EBINDING/ENONCE (binding), EPOLICY. */
CCT_EXTERN int cct_composite_verify(cct_composite_result *out, const uint8_t *body, size_t len,
				    const cct_policy *pol, const cct_composite_opts *opts,
				    const cct_token_signer *signer);
CCT_EXTERN void cct_composite_result_clear(cct_composite_result *r);

#ifdef __cplusplus
}
#endif
#endif
