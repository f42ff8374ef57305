/* Composite verification internals (semi-private): the attest request, init-data and the
 * per-evidence-type module seam. Policy evaluation is src/policy (claims only). */
#ifndef CCT_COMPOSITE_INTERNAL_H
#define CCT_COMPOSITE_INTERNAL_H

#include <jansson.h>

#include "cctrust/composite.h"
#include "cctrust/policy.h"
#include "policy/internal.h"

/* ---- JCS helpers (jcs.c) ---- */
int cct_composite__utf16_cmp(const char *a, size_t an, const char *b, size_t bn);
/* ECMAScript Number::toString of d into out (>= 32 bytes); -1 for NaN/Inf. */
int cct_composite__es_number(char *out, size_t size, double d);

/* ---- The attest request (request.c) ---- */

typedef enum {
	CCT_CPU_UNKNOWN = 0,
	CCT_CPU_SNP_RAW,    /* {"report": b64 report [+ cert table], "cert_table"?: b64} */
	CCT_CPU_SNP_TSM,    /* configfs-tsm {"outblob","auxblob"?,"provider":"sev_guest"} */
	CCT_CPU_SNP_SERDE,  /* virtee sev serde {"attestation_report":{..},"cert_chain":[..]|null} */
	CCT_CPU_TDX,        /* {"quote": b64, "cc_eventlog": b64|null} or tsm provider tdx_guest */
	CCT_CPU_AZ_SNP_VTPM,/* Trustee az-snp-vtpm {"version"?,"tpm_quote"|"quote","hcl_report"|
			       "report","vcek"} (src/tpm) */
	CCT_CPU_AZ_TDX_VTPM,/* Trustee az-tdx-vtpm {"version"?,"tpm_quote","hcl_report","td_quote"}
			       (src/tpm) */
} cct_cpu_form;

typedef struct cct_request {
	json_t *root;               /* owned: the whole body */
	const json_t *runtime_data; /* borrowed from root */
	const char *nonce;          /* runtime-data.nonce (string, as sent) */
	const json_t *tee_pubkey;   /* runtime-data.tee-pubkey (JWK object) */
	const json_t *init_data;    /* {"format","body"} or NULL */
	const json_t *primary;      /* tee-evidence.primary_evidence */
	const char *additional;     /* tee-evidence.additional_evidence string ("" if none) */
	json_t *additional_doc;     /* owned: parsed additional evidence, NULL when "" */
	const json_t *gpu_devices;  /* borrowed: array of device entries (may be NULL) */
	const json_t *nvidia;       /* borrowed: the "nvidia" object (CC state lives here) */
	cct_cpu_form cpu_form;
	const char *tee;            /* "snp" / "tdx" / "az-snp-vtpm" / "az-tdx-vtpm" */
} cct_request;

/* Parse and shape-check a request body. Errors name the member (stage INPUT). */
int cct_composite__request_parse(cct_request *out, const uint8_t *body, size_t len,
			      const char *tee_hint, cct_err *err);
/* The same with the body already parsed (JSON_REJECT_DUPLICATES) as root (NULL: parse it). */
int cct_composite__request_parse_root(cct_request *out, const uint8_t *body, size_t len,
				   const json_t *root, const char *tee_hint, cct_err *err);
void cct_composite__request_clear(cct_request *r);
/* CPU REPORT_DATA Trustee expects: pad64(SHA-384(JCS({additional-evidence, nonce, tee-pubkey}))) */
int cct_composite__cpu_binding(uint8_t out[64], const cct_request *r, cct_err *err);
/* GPU SPDM nonce: first 32 bytes of SHA-384(JCS({nonce, tee-pubkey})) */
int cct_composite__gpu_binding(uint8_t out[32], const cct_request *r, cct_err *err);

/* A base64 member of an evidence object -> bytes (*out malloc'd); absent or null -> *out NULL,
 * CCT_OK unless required. The text is capped at the base64 size of max bytes (ETOOBIG). */
int cct_composite__b64_member(uint8_t **out, size_t *n, const json_t *o, const char *name,
			      size_t max, int required, cct_err *err);

/* ---- init-data (initdata.c) ---- */
typedef struct cct_init_data {
	int present;
	char algorithm[8];       /* "sha256" / "sha384" / "sha512" */
	uint8_t digest[64];
	size_t digest_len;
	json_t *claims;          /* owned: {"version","algorithm","data":{...}} */
} cct_init_data;

/* Digest init-data {"format":"toml"|"json","body":"..."} and read its claims (a TOML subset:
 * key = "basic" | 'literal' | '''multi-line''' | """multi-line""", [tables], comments). */
int cct_composite__init_data(cct_init_data *out, const json_t *init_data, cct_err *err);
void cct_composite__init_data_clear(cct_init_data *d);
/* Parse the TOML subset into a JSON object (for the fuzzer and tests). */
int cct_composite__toml_parse(json_t **out, const char *text, size_t len, cct_err *err);

/* ---- The evidence module seam (ev_snp.c, ev_tdx.c, ev_gpu.c) ----
 * Every evidence type is one module: a function that turns its evidence JSON into VERIFIED claims
 * plus the raw values the composite binds. Modules do crypto and structure only; binding
 * comparisons and relying-party policy are done by composite.c / rules.c over what they return,
 * so that every module is bound and appraised the same way. */
typedef struct cct_ev_in {
	const json_t *evidence;        /* the evidence object (CPU: primary_evidence; GPU: one
					  device entry {"arch","uuid"?,"evidence","certificate"}) */
	cct_cpu_form cpu_form;         /* CPU modules: detected shape */
	const uint8_t *expected;       /* binding value Trustee expects (CPU: 64-byte REPORT_DATA;
					  GPU: 32-byte SPDM nonce); informative: compare yourself
					  only if the format needs it to parse (the composite
					  compares what you return in out->bound) */
	size_t expected_len;
	time_t at;                     /* verification time */
	const char *collateral_dir;    /* offline/online collateral cache, may be NULL */
	const struct cct_collateral_source *collateral; /* bundle, may be NULL */
	int offline;                   /* never use the network */
	const char *certs_path;        /* extra certificates / CRLs, may be NULL */
	int crl_check_off_insecure;    /* revocation lists not required */
	const char *trust_sim_dir;     /* trust the simulated roots in this dir, may be NULL */
	const json_t *gpu_rules;       /* GPU: nvtrust "authorization-rules" (or NULL) */
	int index;                     /* GPU: device index (gpu0 = 0) */
	int gpu_no_rim;                /* GPU: skip the RIM golden comparison (policy
					  gpu.require_measres = false; measres "skipped") */
	void **gpu_ctx;                /* GPU: verifier shared by the GPUs of one request (created
					  on first use; the caller frees it with
					  cct_composite__ev_gpu_ctx_free), may be NULL */
} cct_ev_in;

typedef struct cct_ev_out {
	json_t *claims;                /* owned: verified claims (stable names, docs/policy.md) */
	uint8_t bound[64];             /* CPU: REPORT_DATA as signed; GPU: SPDM requester nonce */
	size_t bound_len;              /* 64 (CPU) / 32 (GPU); 0 = the module found none (fails) */
	uint8_t init_field[48];        /* CPU: SNP HOST_DATA (32) / TDX MRCONFIGID (48) */
	size_t init_field_len;
	int simulated;                 /* rooted in a --trust-sim root */
	int crl_checked;               /* revocation was checked */
	int chip_id_unchecked;         /* SNP: CHIP_ID masked, the VCEK's hwID not compared */
	int debug;                     /* the TEE is debuggable (policy decides) */
} cct_ev_out;

typedef int (*cct_ev_verify_fn)(cct_ev_out *out, const cct_ev_in *in, cct_err *err);

int cct_composite__ev_snp(cct_ev_out *out, const cct_ev_in *in, cct_err *err);
int cct_composite__ev_tdx(cct_ev_out *out, const cct_ev_in *in, cct_err *err);
int cct_composite__ev_gpu(cct_ev_out *out, const cct_ev_in *in, cct_err *err);
int cct_composite__ev_vtpm(cct_ev_out *out, const cct_ev_in *in, cct_err *err);
void cct_composite__ev_out_clear(cct_ev_out *o);
void cct_composite__ev_gpu_ctx_free(void *ctx);
/* virtee sev serde JSON {"attestation_report","cert_chain"} -> the 1184-byte ABI report
 * (*report malloc'd); the cert_chain entries are offered to v (a cct_snp_verifier *). */
int cct_composite__snp_serde(uint8_t **report, size_t *n, void *v, const json_t *ev, cct_err *err);

/* Trustee's flat claim names beside cctrust's (trustee_claims.c); names already used by
 * cctrust are left alone. */
void cct_composite__trustee_cpu_claims(json_t *cpu_claims, const char *tee);
void cct_composite__trustee_gpu_claims(json_t *gpu_claims, const uint8_t *spdm, size_t n,
				       const char *uuid);

#endif
