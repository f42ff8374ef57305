/* cctrust: NVIDIA GPU and NVSwitch attestation (Hopper, Blackwell, LS10).
 *
 * Evidence: NVIDIA's evidence JSON [{"arch","nonce","evidence","certificate"}] or the KBS form
 * {"device_evidence_list":[{"arch","uuid","evidence","certificate"}]}; "evidence" is base64 of
 * the SPDM 1.1 GET_MEASUREMENTS request (37 bytes) followed by the MEASUREMENTS response, and
 * "certificate" base64 of the PEM device chain, leaf first.
 *
 * Verification: SPDM parse, P-384 signature over SHA-384(request || response without
 * signature) with the leaf key, device chain to the pinned NVIDIA Device Identity CA, leaf FWID
 * vs opaque FWID, nonce, OCSP of every chain certificate, driver/VBIOS (switch BIOS) RIMs with
 * their XML signature, chain to the pinned RIM root and OCSP, golden measurement comparison,
 * policy. Claims use NVIDIA's claims v3 names. No OpenSSL types in this header. */
#ifndef CCTRUST_NVGPU_H
#define CCTRUST_NVGPU_H

#include <jansson.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_NVGPU_MAX_DEVICES 64          /**< evidence entries in one list */
#define CCT_NVGPU_MAX_JSON (16u << 20)    /**< evidence JSON document size */

/** Parsed evidence list (opaque; owns decoded copies of every entry). */
typedef struct cct_nvgpu_evidence_list cct_nvgpu_evidence_list;

/** Parse an evidence JSON document (either form). Errors: EENCODING (JSON, base64), EFORMAT
 *  (missing field), ETOOBIG. The SPDM bytes are parsed later, by verification. *out is freed
 *  with cct_nvgpu_evidence_list_free(). */
CCT_EXTERN int cct_nvgpu_evidence_list_parse(cct_nvgpu_evidence_list **out, const uint8_t *json,
					     size_t len, cct_err *err);
/** The same from a document already parsed (with JSON_REJECT_DUPLICATES): the array, or an
 *  object with "device_evidence_list". root stays the caller's. */
CCT_EXTERN int cct_nvgpu_evidence_list_from_json(cct_nvgpu_evidence_list **out,
						 const json_t *root, cct_err *err);
/** Number of entries. */
CCT_EXTERN size_t cct_nvgpu_evidence_list_count(const cct_nvgpu_evidence_list *l);
/** Append the entries of src to dst (both stay owned by their callers). */
CCT_EXTERN int cct_nvgpu_evidence_list_append(cct_nvgpu_evidence_list *dst,
					      const cct_nvgpu_evidence_list *src, cct_err *err);
/** Free (NULL is fine). */
CCT_EXTERN void cct_nvgpu_evidence_list_free(cct_nvgpu_evidence_list *l);

struct cct_collateral_source;
/** Options. Strings are borrowed and must outlive the verifier. Initialise with
 *  cct_nvgpu_opts_init(): everything checked, time = now, no directories. */
typedef struct cct_nvgpu_opts {
	time_t at;                    /**< verification time (0: now, read per verification) */
	const char *rim_dir;          /**< local RIM files (<id>.xml, or any name containing id) */
	const char *ocsp_dir;         /**< offline OCSP responses (<serial hex>.der) */
	const char *cache_dir;        /**< where fetched RIMs/OCSP responses are cached (NULL: none) */
	const struct cct_collateral_source *collateral; /**< bundle queried first for RIMs
					 *  (nvidia-rim <id>) and OCSP (nvidia-ocsp <serial>) */
	const char *collateral_path;  /**< a collateral bundle (directory or .tar) the verifier
					 *  opens and queries first (when collateral is NULL) */
	const char *rim_url;          /**< RIM service base (default NVIDIA's /v1/rim/) */
	const char *ocsp_url;         /**< OCSP responder override (default: AIA / NVIDIA's) */
	int offline;                  /**< never use the network */
	int no_ocsp;                  /**< skip OCSP (claims say "skipped") */
	int no_rim;                   /**< skip golden comparison (measres = "skipped") */
	int allow_hold;               /**< accept OCSP certificateHold */
	const char *policy_path;      /**< nvtrust authorization-rules JSON policy (may be NULL) */
	int expected_count;           /**< devices expected (0: any) */
	const char *expected_arch;    /**< "HOPPER", "BLACKWELL", "LS10" (NULL: any) */
	int allow_duplicate_ueid_insecure; /**< accept one device presented twice */
	const char *device_root_path_insecure; /**< replace the pinned device root (tests) */
	const char *rim_root_path_insecure;    /**< replace the pinned RIM root (tests) */
	int no_nonce;                 /**< accept without an expected nonce: nonce-match claims say
				       *   "not_checked", freshness "not-established" */
} cct_nvgpu_opts;

/** Defaults (all checks on). */
CCT_EXTERN void cct_nvgpu_opts_init(cct_nvgpu_opts *o);

/** A verifier: pinned roots, policy, and caches (device chains, RIMs, OCSP answers) that make
 *  repeated verifications cheap. Thread-compatible (one thread at a time). */
typedef struct cct_nvgpu_verifier cct_nvgpu_verifier;

/** Create a verifier. Errors: EIO/EFORMAT (policy or root file), ENOMEM. */
CCT_EXTERN int cct_nvgpu_verifier_new(cct_nvgpu_verifier **out, const cct_nvgpu_opts *o,
				      cct_err *err);
/** Free (NULL is fine). */
CCT_EXTERN void cct_nvgpu_verifier_free(cct_nvgpu_verifier *v);

/** Verify every entry of ev against the expected nonce (nonce_size 32). nonce NULL: ENONCE
 *  (stage BINDING) unless opts.no_nonce, which accepts with the nonce "not_checked" (never
 *  compared with the evidence file's own "nonce") and freshness "not-established".
 *  *claims_json_out (optional, malloc'd, caller frees) gets
 *  {"x-nvidia-overall-att-result":bool,"checks_skipped":[...],"x-cctrust-simulated":bool,
 *   "x-cctrust-freshness":"established"|"not-established","gpus":[{claims v3...}]}, also on
 *  rejection. checks_skipped names every check not performed ("nonce", "ocsp", "rim",
 *  "fwid"); x-cctrust-simulated is true when a device chain or RIM chain ended at an
 *  overriding root (device_root_path_insecure / rim_root_path_insecure) instead of NVIDIA's
 *  pinned one (per device: x-cctrust-device-root, x-nvidia-*-rim-root "untrusted-override").
 *  secboot and dbgstat are "unknown": no evidence field states them.
 *  A RIM must state the device's kind (edition GPU/SWITCH), chip (product, PlatformModel),
 *  the RIM kind (driver / VBIOS version form) and the version the evidence reports.
 *  Returns CCT_OK only when every device and the policy pass; else the first failure's code,
 *  with err naming the device, stage and check. */
CCT_EXTERN int cct_nvgpu_verify(char **claims_json_out, cct_nvgpu_verifier *v,
				const cct_nvgpu_evidence_list *ev, const uint8_t *nonce,
				size_t nonce_size, cct_err *err);

/** Check one RIM file on its own (XML signature, chain to the RIM root at time at (0: now),
 *  OCSP unless o->no_ocsp). *info_json_out (optional, malloc'd) gets its identity, version,
 *  validity and golden measurements. */
CCT_EXTERN int cct_nvgpu_rim_check(char **info_json_out, cct_nvgpu_verifier *v,
				   const uint8_t *xml, size_t len, cct_err *err);

/** Parsed view of an evidence list as JSON (request, response, blocks, opaque fields, chain
 *  subjects), for `cctrust gpu show`. No trust decision. */
CCT_EXTERN int cct_nvgpu_evidence_show(char **json_out, const cct_nvgpu_evidence_list *ev,
				       cct_err *err);

/** One device's claims for the policy (`gpu` section) and the EAR: gpus[i] of the claims that
 *  cct_nvgpu_verify returns, with "arch" (from x-cctrust-arch) and the overall result added.
 *  New reference, or NULL when there is no device i. */
CCT_EXTERN json_t *cct_nvgpu_device_claims(const json_t *claims, size_t i);

#ifdef __cplusplus
}
#endif
#endif
