/* Evidence module seam: Intel TDX primary evidence. STUB: fails closed until the TDX verifier
 * (issue 3, src/tdx) is merged.
 *
 * CONTRACT (every evidence module; see cct_ev_in / cct_ev_out in policy/internal.h):
 *   input   in->evidence        the primary_evidence object: {"quote": b64, "cc_eventlog": b64|null}
 *                               or configfs-tsm {"outblob","provider":"tdx_guest"} (quote in outblob)
 *           in->expected        the 64-byte REPORT_DATA Trustee expects (informative)
 *           in->at              verification time (collateral validity, TCB dates)
 *           in->collateral_dir, in->offline   Intel PCS/PCCS collateral cache, no network
 *           in->certs_path      extra PCK chain / CRLs
 *           in->crl_check_off_insecure        do not require CRLs
 *           in->trust_sim_dir   trust the simulated Intel root in DIR/tdx/ (set out->simulated)
 *   output  rc                  CCT_OK only if quote signature, QE report, PCK chain (+CRLs),
 *                               TCB info / QE identity verified; else the verifier's code/stage
 *           out->claims         verified claims with at least these names (rules.c reads them):
 *                               "mrtd","rtmr0".."rtmr3","mrconfigid","mrowner","mrownerconfig",
 *                               "mrseam" (lowercase hex), "tcb_status" ("UpToDate",...),
 *                               "advisory_ids" [..], "debug" (bool, TD_ATTRIBUTES.DEBUG),
 *                               "tee_tcb_svn" (hex); more are welcome (they go into the EAR)
 *           out->bound/_len     REPORT_DATA from the TD report body (64)
 *           out->init_field/_len MRCONFIGID (48)
 *           out->simulated, out->crl_checked, out->debug
 *
 * WIRING (about 30 lines): replace the body below with
 *   1. decode "quote" (or "outblob") with cct_b64_decode; cct_tdx_quote_parse(&q, bytes, n, err);
 *   2. a verifier: collateral dir / offline / at / certs / CRL flag / sim root from in->*;
 *   3. cct_tdx_verify(&res, verifier, &q, NULL policy, err) -> on error return rc;
 *   4. out->claims = the TDX claims json (rename keys to the names above where they differ);
 *      if "cc_eventlog" is present, replay it and fail on an RTMR mismatch;
 *   5. memcpy(out->bound, q.report_data, 64); out->bound_len = 64;
 *      memcpy(out->init_field, q.mrconfigid, 48); out->init_field_len = 48;
 *      out->debug = td_attributes & 1; out->simulated = res.simulated;
 * composite.c then binds REPORT_DATA and MRCONFIGID and rules.c applies the "tdx" policy. */
#include <string.h>

#include "policy/internal.h"

int cct_policy__ev_tdx(cct_ev_out *out, const cct_ev_in *in, cct_err *err)
{
	(void)in;
	memset(out, 0, sizeof(*out));
	return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
			   "TDX verifier not built in: TDX evidence cannot be verified by this "
			   "build (refused)");
}
