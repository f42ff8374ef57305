/* cctrust: the guest side. Collects evidence inside a confidential VM (configfs-tsm, /dev/sev-guest,
 * /dev/tdx_guest, NVIDIA GPUs through NVML loaded with dlopen) and builds the KBS 0.4.0 attest
 * request body; plus a simulated TEE producing the same body in the real formats, signed by
 * roots generated at run time (never trusted unless a verifier is told --trust-sim DIR).
 * The attester never verifies; it collects. */
#ifndef CCTRUST_ATTESTER_H
#define CCTRUST_ATTESTER_H

#include <jansson.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Environment variable overriding the configfs-tsm report directory (tests use a fake tree). */
#define CCT_ATTESTER_TSM_ENV "CCT_TSM_ROOT"
#define CCT_ATTESTER_TSM_ROOT "/sys/kernel/config/tsm/report"
/** Environment variable naming the NVML library to dlopen (tests use a fake one). */
#define CCT_ATTESTER_NVML_ENV "CCT_NVML_LIB"
#define CCT_ATTESTER_NVML_LIB "libnvidia-ml.so.1"
/** Environment variables overriding the guest device nodes (tests). */
#define CCT_ATTESTER_SEV_DEV_ENV "CCT_SEV_GUEST_DEV"
/** Environment variable overriding the Azure IMDS base URL (default http://169.254.169.254):
 *  tests point it at a loopback fake. */
#define CCT_ATTESTER_IMDS_ENV "CCT_IMDS_URL"
#define CCT_ATTESTER_TDX_DEV_ENV "CCT_TDX_GUEST_DEV"
/** The TCG event log the vTPM guest commands send unless told otherwise (the kernel's), and the
 *  environment variable overriding that default path (tests point it at a fixture). */
#define CCT_ATTESTER_EVENT_LOG_ENV "CCT_TPM_EVENT_LOG"
#define CCT_ATTESTER_EVENT_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"
/** The CC event log sent with a TDX quote from configfs-tsm (the ACPI CCEL table), and the
 *  environment variable overriding its path (tests: a fixture, or none). */
#define CCT_ATTESTER_CCEL_ENV "CCT_CCEL"
#define CCT_ATTESTER_CCEL "/sys/firmware/acpi/tables/data/CCEL"
#define CCT_ATTESTER_MAX_GPUS 16

/** Inputs common to collection and simulation. */
typedef struct cct_attester_opts {
	const char *nonce_b64;          /**< the KBS challenge nonce, as sent (base64) */
	const json_t *tee_pubkey;       /**< the TEE's public JWK (the broker wraps secrets to it) */
	const char *init_data_toml;     /**< init-data TOML text, or NULL (must be the text the VM
					     was launched with: its digest is HOST_DATA/MRCONFIGID) */
	int no_gpu;                     /**< collect: skip GPUs even if NVML is present */
	const char *cpu_method;         /**< collect: "auto" (default), "tsm", "sev-guest", "tdx-guest" */
	const uint8_t *report_data;     /**< 64 bytes: the caller's own binding (attested TLS,
					     docs/ratls.md) used as REPORT_DATA instead of Trustee's;
					     nonce_b64/tee_pubkey are then unused and the body has no
					     "runtime-data" (verify with cct_composite_opts
					     .bound_report_data) */
	const uint8_t *gpu_nonce;       /**< 32 bytes: every GPU's SPDM nonce (with report_data) */
} cct_attester_opts;

/** Build the attest request body from this machine's TEE and GPUs.
 *  *out malloc'd JSON text. Errors: EIO (no TEE interface found), EUNSUPPORTED, EFORMAT. */
CCT_EXTERN int cct_attester_collect(char **out, const cct_attester_opts *o, cct_err *err);

/** Azure-style paravisor vTPM evidence through tpm2-tss: HCL report from NV index 0x01400001
 *  (after writing the nonce as user data to 0x01400002 when it exists), TPM2_Quote over the
 *  SHA-256 PCRs 0..23 with the AK at 0x81000003 and qualifyingData = nonce, the PCR values.
 *  *out: Trustee az-snp-vtpm v1 evidence {version, tpm_quote, hcl_report, vcek} (new
 *  reference). tcti: tpm2-tss TCTI configuration (NULL = its default); vcek_path: the VCEK
 *  (PEM/DER; on Azure from the IMDS THIM endpoint), NULL = "" (the verifier then fails);
 *  event_log_path: the TCG event log to send as "event_log" (cctrust's extension), NULL = none. */
CCT_EXTERN int cct_attester_vtpm_collect(json_t **out, const char *tcti, const uint8_t *nonce,
					 size_t nonce_len, const char *vcek_path,
					 const char *event_log_path, cct_err *err);
/** The attest request body with az-snp-vtpm evidence whose quote nonce is Trustee's
 *  runtime-data hash SHA-384(JCS({additional-evidence, nonce, tee-pubkey})) (GPUs from NVML
 *  unless o->no_gpu, bound as with SNP/TDX; no init-data). */
CCT_EXTERN int cct_attester_collect_vtpm(char **out, const cct_attester_opts *o,
					 const char *tcti, const char *vcek_path,
					 const char *event_log_path, cct_err *err);

/** Paravisor vTPM collection options (Azure CVMs). Zero-initialised = az-snp-vtpm with the
 *  default TCTI, no event log, the VCEK from IMDS. */
typedef struct cct_attester_vtpm_opts {
	const char *tee;            /**< "az-snp-vtpm" (NULL) or "az-tdx-vtpm" */
	const char *tcti;           /**< tpm2-tss TCTI configuration (NULL: its default) */
	const char *vcek_path;      /**< az-snp-vtpm: the VCEK (PEM/DER); NULL: from the IMDS THIM
				         endpoint (GET {imds}/metadata/THIM/amd/certification) */
	const char *event_log_path; /**< TCG event log sent as "event_log" (NULL: none) */
	const char *imds_url;       /**< IMDS base URL (NULL: $CCT_IMDS_URL, else
				         http://169.254.169.254) */
} cct_attester_vtpm_opts;

/** The default event log of vTPM collection: $CCT_TPM_EVENT_LOG when set and not empty, else
 *  CCT_ATTESTER_EVENT_LOG; NULL when that file is not readable (no log is sent then, and
 *  collection goes on: a machine without the kernel's log still attests, and policy rules on
 *  the log's facts fail closed at the verifier). Static storage or the environment's. */
CCT_EXTERN const char *cct_attester_event_log_default(void);

/** Trustee v1 evidence of vo->tee: as cct_attester_vtpm_collect; az-tdx-vtpm: the HCL report's
 *  TD report is sent to IMDS (POST {imds}/acc/tdquote {"report": base64url}) for the TD quote:
 *  {version, tpm_quote, hcl_report, td_quote}. *out: new reference. */
CCT_EXTERN int cct_attester_vtpm_collect_ex(json_t **out, const cct_attester_vtpm_opts *vo,
					    const uint8_t *nonce, size_t nonce_len, cct_err *err);
/** The attest request body with the vTPM evidence of vo->tee (as cct_attester_collect_vtpm). */
CCT_EXTERN int cct_attester_collect_vtpm_ex(char **out, const cct_attester_opts *o,
					    const cct_attester_vtpm_opts *vo, cct_err *err);

/** GPU confidential-computing state from NVML. */
typedef struct cct_attester_gpu_state {
	int present;          /**< NVML loaded and at least one GPU */
	unsigned gpu_count;
	char cc_mode[12];     /**< "on", "devtools", "off" */
	int ppcie;            /**< protected-PCIe (multi-GPU) mode */
	int ready;            /**< GPUs accept work (conf-compute ready state) */
} cct_attester_gpu_state;

/** Read the GPUs' CC state through NVML (dlopen). present = 0 when NVML is absent. */
CCT_EXTERN int cct_attester_gpu_state_get(cct_attester_gpu_state *out, cct_err *err);
/** Set the GPUs' ready state (after a successful attestation). */
CCT_EXTERN int cct_attester_gpu_set_ready(int ready, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
