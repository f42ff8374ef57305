/* Evidence module seam: one NVIDIA GPU's evidence. STUB: fails closed until the GPU verifier
 * (issue 4, src/nvgpu) is merged.
 *
 * CONTRACT (see cct_ev_in / cct_ev_out in policy/internal.h):
 *   input   in->evidence        one device entry: {"arch":"HOPPER|BLACKWELL","uuid"?,
 *                               "evidence": b64 (or hex) SPDM GET_MEASUREMENTS request+response,
 *                               "certificate": b64 of the PEM device chain} (Trustee's
 *                               device_evidence_list entry; NVIDIA's own JSON adds "nonce")
 *           in->index           gpu index (gpu0 = 0)
 *           in->expected        the 32-byte SPDM nonce Trustee expects (informative)
 *           in->at, in->collateral_dir, in->offline   RIM service / OCSP cache, no network
 *           in->trust_sim_dir   trust the simulated NVIDIA root in DIR/gpu/ (set out->simulated)
 *           in->gpu_rules       the policy's nvtrust "authorization-rules" if any (rules.c also
 *                               applies its "detached-claims" to out->claims after you return)
 *   output  rc                  CCT_OK only if the SPDM signature, device chain to the pinned
 *                               NVIDIA root (+ FWID, OCSP unless offline-allowed) and, when
 *                               available, RIM measurements verified
 *           out->claims         NVIDIA claims v3 names verbatim: "measres","secboot","dbgstat",
 *                               "hwmodel","ueid","x-nvidia-gpu-arch-check",
 *                               "x-nvidia-gpu-driver-version","x-nvidia-gpu-vbios-version",
 *                               "x-nvidia-gpu-driver-rim-id","x-nvidia-gpu-vbios-rim-id",
 *                               "x-nvidia-gpu-attestation-report-*", ... plus "arch"
 *           out->bound/_len     the SPDM GET_MEASUREMENTS requester nonce (32)
 *           out->simulated
 *
 * WIRING (about 30 lines): replace the body below with
 *   1. arch = "arch"; evidence bytes = cct_b64_decode("evidence") (or hex); chain = PEM from
 *      cct_b64_decode("certificate");
 *   2. a verifier configured from in->* (roots, sim root, RIM dir, OCSP, time, offline);
 *   3. cct_nvgpu_verify(&res, verifier, arch, evidence, chain, err) -> on error return rc;
 *   4. out->claims = the claims v3 json; memcpy(out->bound, res.request_nonce, 32);
 *      out->bound_len = 32; out->simulated = res.simulated;
 * composite.c binds the nonce, adds the attester-recorded CC state (bound via the CPU report)
 * and rules.c applies the "gpu" policy. */
#include <string.h>

#include "policy/internal.h"

int cct_policy__ev_gpu(cct_ev_out *out, const cct_ev_in *in, cct_err *err)
{
	memset(out, 0, sizeof(*out));
	return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
			   "GPU verifier not built in: gpu%d evidence cannot be verified by this "
			   "build (refused)",
			   in->index);
}
