/* cctrust: the policy language `cctrust.policy/v1` (docs/policy.md): load and validate a policy
 * document, and evaluate VERIFIED claims against it (every failing rule named, with expected and
 * actual values). The policy sees claims, never evidence bytes: it includes no verifier header.
 * The same document serves `cctrust verify`, cctrustd and `cctrust snp|tdx|gpu verify --policy`. */
#ifndef CCTRUST_POLICY_H
#define CCTRUST_POLICY_H

#include <jansson.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest policy document. */
#define CCT_POLICY_MAX_POLICY (1u * 1024u * 1024u)
/** Deepest JSON nesting accepted in requests and policies. */
#define CCT_POLICY_MAX_DEPTH 32
/** Most failures listed in one result. */
#define CCT_POLICY_MAX_FAILURES 64
/** The policy language version this build reads. */
#define CCT_POLICY_VERSION "cctrust.policy/v1"

/* ---- Policy --------------------------------------------------------------------------------- */

/** A loaded policy (opaque; immutable once loaded, safe to share between threads). */
typedef struct cct_policy cct_policy;

/** Load a policy document (docs/policy.md). Unknown keys are refused (a typo must not weaken a
 *  policy). Errors: EINVAL / EENCODING / ETOOBIG with the key path named (stage POLICY). */
CCT_EXTERN int cct_policy_load(cct_policy **out, const char *text, size_t len, cct_err *err);
/** The default policy: any TEE, debug refused, VMPL 0, GPUs in CC mode "on", no reference
 *  values (measurements are reported but not pinned). */
CCT_EXTERN int cct_policy_default(cct_policy **out, cct_err *err);
CCT_EXTERN void cct_policy_free(cct_policy *pol);
/** Policy id (the "id" key, default "default"), borrowed. */
CCT_EXTERN const char *cct_policy_id(const cct_policy *pol);

/** Load a policy from a parsed document (validated; pol keeps its own copy). */
CCT_EXTERN int cct_policy_load_doc(cct_policy **out, const json_t *doc, cct_err *err);
/** Validate a policy document and report EVERY error: *errors (new reference, may be NULL) is an
 *  array of {"path": "snp.max_vmpl", "message": "..."}. CCT_OK when valid; else the first
 *  error's code (EINVAL, EENCODING, EUNSUPPORTED, ETOOBIG) with err set to it. */
CCT_EXTERN int cct_policy_check(const char *text, size_t len, json_t **errors, cct_err *err);
/** Validate a parsed document (first error in err). */
CCT_EXTERN int cct_policy_check_doc(const json_t *doc, cct_err *err);
/** The loaded document (borrowed). */
CCT_EXTERN const json_t *cct_policy_document(const cct_policy *pol);
/* ---- Formats of earlier releases ---------------------------------------------------------- */

/** Which format doc is: "v1", or the legacy per-verifier format "snp" (docs/snp.md), "tdx"
 *  (docs/tdx.md) or "gpu" (nvtrust authorization-rules); "" when no key tells (an empty
 *  object, or only keys every kind has: comment, report_data); NULL when doc is not an object. */
CCT_EXTERN const char *cct_policy_legacy_kind(const json_t *doc);
/** Convert a legacy policy of kind ("snp"/"tdx"/"gpu"; NULL: detected, EINVAL when nothing in
 *  it tells) into a v1 document
 *  (*out new reference). One deprecation message per converted key, naming its v1 key, is
 *  appended to warnings (array, may be NULL). A v1 document is copied unchanged. */
CCT_EXTERN int cct_policy_convert(json_t **out, const json_t *legacy, const char *kind,
				  json_t *warnings, cct_err *err);
/** The single verifiers' `--policy`: text is a v1 document or a legacy one of `kind` (converted,
 *  with warnings); NULL text = the v1 defaults. overrides ({"snp": {"max_vmpl": 1}, ...}, may be
 *  NULL) replace keys of the document's sections (the per-verifier flags). */
CCT_EXTERN int cct_policy_load_any(cct_policy **out, const char *text, size_t len, const char *kind,
				   const json_t *overrides, json_t *warnings, cct_err *err);

/** Borrowed section of the loaded policy ("snp", "tdx", "gpu", "model", "init_data", ...), or
 *  NULL when the document has none. */
CCT_EXTERN const json_t *cct_policy_section(const cct_policy *pol, const char *name);

/* ---- Evaluation over verified claims -------------------------------------------------------- */

/** Sections of a policy (cct_policy_claims.sections). */
#define CCT_POLICY_SECTION_TEE 0x01u
#define CCT_POLICY_SECTION_SNP 0x02u
#define CCT_POLICY_SECTION_TDX 0x04u
#define CCT_POLICY_SECTION_GPU 0x08u
#define CCT_POLICY_SECTION_MODEL 0x10u
#define CCT_POLICY_SECTION_INIT_DATA 0x20u
#define CCT_POLICY_SECTIONS_ALL 0x3fu

/** What the policy is evaluated on: claims produced by a verifier (stable names, docs/policy.md),
 *  never evidence bytes. Zero-initialise; unset members are "absent". */
typedef struct cct_policy_claims {
	const char *tee;                 /**< "snp" / "tdx"; NULL: no CPU evidence (GPU only) */
	const json_t *cpu_claims;        /**< verified CPU claims, or NULL */
	const json_t *const *gpu_claims; /**< verified claims per GPU (NULL entries: not verified) */
	size_t gpu_count;
	const json_t *nvidia;            /**< attester-recorded GPU state (bound via the CPU) */
	const json_t *gpu_devices;       /**< the request's device entries (array) or NULL */
	int init_present;                /**< init-data was supplied */
	const uint8_t *init_digest;      /**< its digest (the bound HOST_DATA / MRCONFIGID value) */
	size_t init_digest_len;
	const json_t *init_claims;       /**< {"version","algorithm","data":{..}} */
	int binding_checked;             /**< runtime data / init-data binding was checked */
	unsigned sections;               /**< CCT_POLICY_SECTION_* to evaluate; 0 = all (the
					      composite). A single verifier evaluates its own:
					      `snp verify` TEE|SNP, `tdx verify` TEE|TDX, `gpu verify`
					      GPU */
} cct_policy_claims;

/** Evaluate every rule of pol over c. Failures ({"rule","expected","actual","message",
 *  "category"}) are appended to cpu_failures (CPU, platform, model, init-data rules) and to
 *  gpu_failures[i] (per GPU; may be NULL when c->gpu_count is 0). Sections with no claims to
 *  judge (e.g. "tdx" for an SNP guest) are not evaluated. */
CCT_EXTERN void cct_policy_evaluate(const cct_policy *pol, const cct_policy_claims *c,
				    json_t *cpu_failures, json_t **gpu_failures);

/** CCT_OK for an empty failure list; else CCT_EPOLICY (stage POLICY) in err:
 *  "N policy rule(s) failed: <first rule>: <its message>". */
CCT_EXTERN int cct_policy_failures_error(const json_t *failures, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
