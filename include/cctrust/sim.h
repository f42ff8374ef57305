/* cctrust: the simulated TEE (test-only). Generates SNP, TDX and NVIDIA GPU PKIs at run time and
 * produces evidence in the real formats (the same KBS 0.4.0 attest body the attester builds),
 * signed by those roots. Nothing rooted here is trusted unless a verifier is told
 * --trust-sim DIR, and results that rely on it are marked "simulated". */
#ifndef CCTRUST_SIM_H
#define CCTRUST_SIM_H

#include <jansson.h>

#include "attester.h"
#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Create DIR with a simulated AMD-shaped SNP PKI (DIR/snp/) and CRL, an Intel-shaped TDX DCAP
 *  PKI with its collateral (DIR/tdx/), 8 NVIDIA-shaped GPUs with signed RIMs and OCSP responses
 *  (DIR/gpu/), the verifier's token signing key (DIR/token.key) and DIR/sim.json (the simulated
 *  guest's measurements: SNP MEASUREMENT, TDX MRTD and RTMR0..3). */
CCT_EXTERN int cct_sim_init(const char *dir, cct_err *err);

/** Simulation knobs (tests). Zero = defaults. */
typedef struct cct_sim_opts {
	const char *tee;                 /**< "snp" (default), "tdx", or a paravisor vTPM:
					      "az-snp-vtpm" / "az-tdx-vtpm" (Trustee v1 evidence,
					      the simulated AK in DIR/vtpm/ak.key) */
	int gpus;                        /**< simulated GPUs (0..CCT_ATTESTER_MAX_GPUS, at most the 8
					      of `sim init`): SPDM evidence bound to the GPU nonce,
					      recorded as additional evidence {"nvidia":{..}} */
	const char *gpu_cc_mode;         /**< recorded CC mode of the simulated GPUs ("on" by
					      default): with additional_evidence, rewrites its
					      nvidia.cc_mode before binding */
	const char *additional_evidence; /**< embed this additional_evidence string verbatim */
	const char *form;                /**< SNP primary evidence: "report" (default), "tsm",
					      "serde"; TDX: "quote" (default), "tsm" */
	int debug;                       /**< guest policy with DEBUG set */
	const uint8_t *measurement;      /**< 48 bytes; default: DIR/sim.json's measurement (SNP
					      MEASUREMENT, TDX MRTD) */
	const uint8_t *ccel;             /**< TDX: CCEL event log data sent as cc_eventlog; the
					      quote's RTMR0..3 are what it replays to (borrowed) */
	size_t ccel_len;
} cct_sim_opts;

/** Fresh simulated evidence bound to o->nonce_b64 / o->tee_pubkey: the attest request body.
 *  *out malloc'd JSON text. */
CCT_EXTERN int cct_sim_evidence(char **out, const char *dir, const cct_attester_opts *o,
					 const cct_sim_opts *so, cct_err *err);

/** A raw simulated SNP report (1184 bytes) over report_data and its GHCB certificate table
 *  (what a fake configfs-tsm kernel or /dev/sev-guest returns). Both malloc'd. */
CCT_EXTERN int cct_sim_raw_report(uint8_t **report, size_t *report_len, uint8_t **table,
					   size_t *table_len, const char *dir,
					   const uint8_t report_data[64], cct_err *err);

/** A simulated TDREPORT_STRUCT (1024 bytes) over report_data with DIR/sim.json's MRTD and
 *  RTMRs: what the TDX module gives a (paravisor) TD; the MAC is zero. */
CCT_EXTERN int cct_sim_td_report(uint8_t out[1024], const char *dir,
				 const uint8_t report_data[64], cct_err *err);
/** The simulated quoting enclave (what Azure's IMDS /acc/tdquote does for a guest): a TD quote
 *  over a TD report of this simulated platform. *quote malloc'd. */
CCT_EXTERN int cct_sim_td_quote(uint8_t **quote, size_t *len, const char *dir,
				const uint8_t *td_report, size_t n, cct_err *err);

/** The simulated verifier's token key set {"keys":[JWK]} (*out: new reference). */
CCT_EXTERN int cct_sim_jwks(json_t **out, const char *dir, cct_err *err);

/** cct_sim_presign_start flags: the filler thread runs at SCHED_IDLE (only on CPU time no
 *  other thread wants; a load generator's choice). Without it, at the caller's priority. */
#define CCT_SIM_PRESIGN_IDLE 1u
/** For load generators: precompute the ECDSA nonces of the simulators' P-384 signatures (the
 *  SNP report under the simulated VCEK, the SPDM measurements under a simulated device key),
 *  the pair (k^-1, r = x(kG)) that is most of a signature's cost, on one background thread
 *  (with CCT_SIM_PRESIGN_IDLE at idle scheduling priority). A
 *  signature then takes a pair, which is used once and wiped, and costs its caller a few
 *  modular multiplications, as the AMD PSP and the GPU sign on their own silicon rather than
 *  the guest's CPU; with none ready it is made as usual. The evidence is the same either way
 *  (ECDSA with a uniformly random nonce). depth: pairs kept ready, 1..4096. Process-wide;
 *  starting it again changes nothing. CCT_EINVAL for a depth out of range, CCT_ERROR when the
 *  thread cannot start (signatures are then all made as usual). */
CCT_EXTERN int cct_sim_presign_start(unsigned depth, unsigned flags, cct_err *err);
/** Stop the thread started by cct_sim_presign_start (joined), wipe the pairs left. */
CCT_EXTERN void cct_sim_presign_stop(void);
/** Bound the pairs the filler makes from now on to pairs (0: no bound, as after
 *  cct_sim_presign_start): a load generator that knows how many signatures its run needs
 *  has them all made before its clock starts (cct_sim_presign_wait), and none beyond, so the
 *  filler does not take the machine's CPU time while the broker is measured. Past the budget a
 *  signature with no pair ready is made as usual. No effect without a running filler. */
CCT_EXTERN void cct_sim_presign_budget(unsigned long pairs);
/** Wait until at least want pairs (at most the depth) are ready, the filler stopped (budget
 *  spent, or no pair could be made) or timeout_ms passed; returns the pairs ready. */
CCT_EXTERN unsigned cct_sim_presign_wait(unsigned want, unsigned timeout_ms);
/** Signatures made since the process started: with a precomputed nonce (*presigned) and as
 *  usual (*inline_signed). Either pointer may be NULL. */
CCT_EXTERN void cct_sim_presign_counts(unsigned long *presigned, unsigned long *inline_signed);

#ifdef __cplusplus
}
#endif
#endif
