/* The attestation service cctrustd runs in production: the composite verifier of src/policy
 * and src/token. It is not in this build yet; until it is, cctrustd fails closed (every attest
 * is refused) unless the insecure sample TEE is chosen explicitly.
 *
 * To wire it in: build a cct_kbs_verifier (include/cctrust/kbs.h) whose attest() runs the
 * composite verification of the request body (`cctrust verify` semantics) with the session
 * nonce, trust anchors (+ sim roots from trust_sim_dir) and the policy, signs the EAR JWT, and
 * returns token, claims and the tee-pubkey from runtime_data_claims; token_verify() checks an
 * EAR it issued; jwks() returns its key set. Then return it from this function. */
#include "cctrustd.h"

int cctrustd_composite_verifier_new(cct_kbs_verifier **out, const char *trust_sim_dir,
				    const char *policy_path, cct_err *err)
{
	(void)policy_path;
	*out = NULL;
	if (trust_sim_dir)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				   "--trust-sim needs the composite verifier, which is not in this "
				   "build");
	if (cct_kbs_verifier_none_new(out, "no attestation service in this build: the composite "
					   "verifier is not built in (attestation refused)") != CCT_OK)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	return CCT_OK;
}
