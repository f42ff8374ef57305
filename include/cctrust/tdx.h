/* cctrust: Intel TDX DCAP quote parsing and verification (quote v4 / v5, Intel QVL semantics).
 *
 * Flow: cct_tdx_quote_parse() (no allocation, borrowed slices into the caller's buffer) ->
 * cct_tdx_verify() with an optional collateral set (cct_tdx_collateral_*; parsed once, shared by
 * many quotes) and a policy -> a cct_tdx_result with the verified claims.
 * Offsets: Intel TDX DCAP Quoting Library API, appendix "Quote format" (docs/tdx.md). */
#ifndef CCTRUST_TDX_H
#define CCTRUST_TDX_H

#include <jansson.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest quote accepted (named cap; real quotes are 5-8 KiB). */
#define CCT_TDX_MAX_QUOTE (64u * 1024u)
/** Largest collateral file (TCB info, QE identity, CRL, bundle). */
#define CCT_TDX_MAX_COLLATERAL (4u * 1024u * 1024u)
#define CCT_TDX_HEADER_SIZE 48
#define CCT_TDX_TD10_BODY_SIZE 584
#define CCT_TDX_TD15_BODY_SIZE 648
#define CCT_TDX_QE_REPORT_SIZE 384
#define CCT_TDX_MAX_ADVISORIES 64
#define CCT_TDX_MAX_TCB_LEVELS 256
#define CCT_TDX_MAX_ALLOW 64    /**< values per allow-list */
#define CCT_TDX_MAX_CCEL_EVENTS 4096

/** TEE type of a TDX quote header. */
#define CCT_TDX_TEE_TYPE 0x81u
/** TD_ATTRIBUTES bit 0: the TD is debuggable (its memory is readable by the host). */
#define CCT_TDX_TD_ATTR_DEBUG 0x1u

/** Parsed TD report (TDX 1.0 body; TDX 1.5 adds tee_tcb_svn2 and mrservicetd). Byte arrays are
 *  kept exactly as they appear in the quote (attributes/XFAM are little-endian bit fields). */
typedef struct cct_tdx_td_report {
	uint8_t tee_tcb_svn[16];
	uint8_t mrseam[48];
	uint8_t mrsignerseam[48];
	uint8_t seam_attributes[8];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mrtd[48];
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn2[16];  /**< body type 3 only, else zero */
	uint8_t mrservicetd[48];   /**< body type 3 only, else zero */
} cct_tdx_td_report;

/** SGX enclave report body of the Quoting Enclave (384 bytes). */
typedef struct cct_tdx_qe_report {
	uint8_t cpu_svn[16];
	uint32_t misc_select;
	uint8_t attributes[16];
	uint8_t mr_enclave[32];
	uint8_t mr_signer[32];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint8_t report_data[64];
} cct_tdx_qe_report;

/** A parsed quote. Slices borrow the buffer given to cct_tdx_quote_parse(): valid while it is. */
typedef struct cct_tdx_quote {
	uint16_t version;          /**< 4 or 5 */
	uint16_t att_key_type;     /**< 2 = ECDSA-256 with P-256 */
	uint32_t tee_type;         /**< 0x81 */
	uint16_t qe_svn, pce_svn;  /**< header fields (reserved in v4) */
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];
	uint16_t body_type;        /**< 2 = TDX 1.0 (v4 always), 3 = TDX 1.5 */
	uint32_t body_size;
	cct_tdx_td_report body;
	cct_slice signed_data;     /**< header + (v5: body descriptor) + body: quote signature input */
	uint32_t sig_data_size;
	uint8_t quote_sig[64];     /**< r || s, big-endian */
	uint8_t att_key[64];       /**< x || y, big-endian */
	uint16_t cert_type;        /**< 6 = QE report certification data */
	cct_slice qe_report_raw;   /**< 384 bytes signed by the PCK key */
	cct_tdx_qe_report qe_report;
	uint8_t qe_report_sig[64];
	cct_slice qe_auth_data;
	uint16_t pck_cert_type;    /**< 5 = PCK chain, PEM */
	cct_slice pck_chain_pem;
	size_t size;               /**< bytes of the quote proper */
	size_t trailing_size;      /**< bytes after the signature data (tolerated, not signed) */
	/* absolute offsets, for messages */
	size_t off_sig_data, off_qe_report, off_qe_sig, off_qe_auth, off_pck_chain;
} cct_tdx_quote;

/** Parse a quote (raw bytes). No allocation. Errors (stage PARSE): ETRUNC, EUNSUPPORTED (version,
 *  key type, TEE type, body or certification data type), EFORMAT, ETOOBIG. Trailing bytes after
 *  the signature data are tolerated and counted in trailing_size. */
CCT_EXTERN int cct_tdx_quote_parse(cct_tdx_quote *out, const uint8_t *buf, size_t len,
				   cct_err *err);

/** Decode a quote file's contents: raw binary, or ASCII hex (optional "0x", whitespace), or
 *  base64. *out is malloc'd (caller frees). EENCODING/ETOOBIG on failure. */
CCT_EXTERN int cct_tdx_input_decode(uint8_t **out, size_t *out_len, const uint8_t *in, size_t n,
				    cct_err *err);

/** TCB statuses (Intel PCS). CCT_TDX_TCB_NONE = not evaluated. */
typedef enum {
	CCT_TDX_TCB_NONE = 0,
	CCT_TDX_TCB_UP_TO_DATE,
	CCT_TDX_TCB_SW_HARDENING_NEEDED,
	CCT_TDX_TCB_CONFIGURATION_NEEDED,
	CCT_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	CCT_TDX_TCB_OUT_OF_DATE,
	CCT_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	CCT_TDX_TCB_REVOKED,
	CCT_TDX_TCB_COUNT
} cct_tdx_tcb_status;

/** "UpToDate", ... (static); "NotEvaluated" for NONE. */
CCT_EXTERN const char *cct_tdx_tcb_status_name(cct_tdx_tcb_status s);
/** Name (case-insensitive) to status; CCT_TDX_TCB_NONE if unknown. */
CCT_EXTERN cct_tdx_tcb_status cct_tdx_tcb_status_from_name(const char *name);

/** Collateral set: PCK CRL + issuer chain, Root CA CRL, TCB info + issuer chain + signature,
 *  QE identity + issuer chain + signature. Opaque; parse once, use for many quotes. */
typedef struct cct_tdx_collateral cct_tdx_collateral;

/** Load from a QVL JSON bundle file (dcap-qvl / PCCS field names) or a directory of PCS v4 files
 *  (tcb_info.json, qe_identity.json, *_issuer_chain.pem, pck_crl.der|pem, root_ca_crl.der|pem).
 *  Caller frees *out with cct_tdx_collateral_free(). Errors: EIO (unreadable), ECOLLATERAL
 *  (missing part), EENCODING/EFORMAT (does not decode). */
CCT_EXTERN int cct_tdx_collateral_load(cct_tdx_collateral **out, const char *path, cct_err *err);
/** Same from a bundle held in memory. */
CCT_EXTERN int cct_tdx_collateral_load_bundle(cct_tdx_collateral **out, const uint8_t *json,
					      size_t n, cct_err *err);
/** Fetch from Intel PCS v4 or a PCCS at base_url (NULL = https://api.trustedservices.intel.com)
 *  for fmspc (12 hex digits) and PCK CA ("platform" or "processor") into cache_dir (PCS v4
 *  directory layout, reused when fresh at time at), then load it. offline=1 uses the cache only
 *  (ENETWORK when it is missing). */
CCT_EXTERN int cct_tdx_collateral_fetch(cct_tdx_collateral **out, const char *base_url,
					const char *fmspc_hex, const char *ca,
					const char *cache_dir, int offline, time_t at,
					cct_err *err);
/** Load the set for fmspc_hex / ca from a collateral source (a bundle: items tdx-tcb-info
 *  <fmspc>, tdx-qe-identity tdx, tdx-pck-crl <ca>, tdx-root-ca-crl root). ECOLLATERAL names a
 *  missing item. */
struct cct_collateral_source;
CCT_EXTERN int cct_tdx_collateral_from_source(cct_tdx_collateral **out,
					      const struct cct_collateral_source *src,
					      const char *fmspc_hex, const char *ca, cct_err *err);
/** Free (NULL is fine). */
CCT_EXTERN void cct_tdx_collateral_free(cct_tdx_collateral *c);

/** Where collateral comes from (zero-initialise). */
typedef struct cct_tdx_collateral_source {
	const char *path;      /**< a QVL bundle file or a PCS v4 directory (PATH or PATH/tdx),
				    else a cache directory fetched into (PATH/tdx); NULL: none */
	const char *pccs_url;  /**< fetch from this PCS/PCCS (NULL: Intel PCS) */
	const char *cache_dir; /**< fetch cache; NULL: PATH/tdx, else cct_tdx_default_cache_dir */
	int offline;           /**< never use the network (cache only: ENETWORK when missing) */
	time_t at;             /**< verification time (freshness of cached items); 0 = now */
	const struct cct_collateral_source *bundle; /**< collateral bundle (collateral.h): when
				    set, the only source; a path that is a bundle is opened as one */
} cct_tdx_collateral_source;

/** The collateral for quote q (its FMSPC and PCK CA): loaded from src->path when that is a
 *  bundle or PCS directory, else fetched through the cache. One function for the CLI, the
 *  composite verifier and cctrustd. */
CCT_EXTERN int cct_tdx_collateral_for_quote(cct_tdx_collateral **out,
					    const cct_tdx_collateral_source *src,
					    const cct_tdx_quote *q, cct_err *err);
/** 1 when path (or path/tdx) is a QVL bundle file or a PCS v4 directory. */
CCT_EXTERN int cct_tdx_collateral_is_local(const char *path);
/** $CCT_CACHE_DIR, else $XDG_CACHE_HOME/cctrust-tdx, else ~/.cache/cctrust-tdx. */
CCT_EXTERN void cct_tdx_default_cache_dir(char *buf, size_t size);

/** Relying-party policy. Zero-initialised = defaults: accept UpToDate only, debug refused. */
typedef struct cct_tdx_policy {
	unsigned accept_tcb;        /**< bit (1u << status); 0 = UpToDate only */
	time_t min_tcb_date;        /**< 0 = none */
	const char *const *advisory_deny; /**< advisory IDs that reject; borrowed */
	size_t advisory_deny_count;
	/** allow-lists (count 0 = any value): index 0 MRTD, 1..4 RTMR0..3, 5 MRCONFIGID,
	 *  6 MROWNER, 7 MROWNERCONFIG; values are borrowed arrays of 48-byte entries */
	const uint8_t (*allow[8])[48];
	size_t allow_count[8];
	const uint8_t (*xfam_allow)[8];
	size_t xfam_allow_count;
	int allow_debug_insecure;   /**< accept TD_ATTRIBUTES.DEBUG (visibly) */
	int has_report_data;
	uint8_t report_data[64];
} cct_tdx_policy;

/** A policy that appraises nothing: every TCB status with a matching level and a debug TD pass,
 *  so the quote's crypto, collateral and TCB evaluation run and the relying-party decision is
 *  left to a `cctrust.policy/v1` document (policy.h) over cct_tdx_claims. */
CCT_EXTERN void cct_tdx_policy_appraise_none(cct_tdx_policy *pol);

/** Verification options. */
typedef struct cct_tdx_verify_opts {
	time_t at;                          /**< verification time (0 = now) */
	cct_tdx_collateral *collateral;     /**< NULL: quote-only (needs quote_only = 1). The
					     *  per-time check result is cached in it: do not share
					     *  one collateral between threads */
	int quote_only;                     /**< verify signatures + PCK chain, no TCB evaluation */
	const cct_tdx_policy *policy;       /**< NULL = defaults */
	cct_slice trust_root_pem;           /**< tests and the simulated TEE only: replaces the
					     *  pinned Intel SGX Root CA; results from another root
					     *  carry cct_tdx_result.simulated */
} cct_tdx_verify_opts;

/** What a verification established (filled as far as verification got, even on failure). */
typedef struct cct_tdx_result {
	cct_tdx_quote quote;
	int parsed, signature_ok, chain_ok;
	int revocation_checked;
	uint8_t fmspc[6], pceid[2], ppid[16], cpusvn[16];
	uint8_t sgx_tcb_comp[16];
	uint16_t pcesvn;
	char pck_ca[16];                    /**< "platform" / "processor" */
	int tcb_evaluated;
	cct_tdx_tcb_status tcb_status;      /**< converged with TDX module and QE statuses */
	cct_tdx_tcb_status platform_tcb_status; /**< TCB level status before convergence */
	char tcb_date[32];
	char advisory_ids[CCT_TDX_MAX_ADVISORIES][32];
	size_t advisory_count;
	cct_tdx_tcb_status qe_tcb_status;
	char tdx_module_id[16];             /**< "TDX_01", or "" when version 0 */
	cct_tdx_tcb_status tdx_module_status;
	int debug;                          /**< TD_ATTRIBUTES.DEBUG set */
	time_t collateral_expires;          /**< earliest nextUpdate of the collateral (0 = none) */
	int simulated;                      /**< the PCK chain ends at a trust_root_pem override
					     *  root that is not the pinned Intel SGX Root CA
					     *  (simulated TEE / tests): never genuine Intel */
} cct_tdx_result;

/** Verify one quote (raw bytes). Returns CCT_OK when every check and the policy pass.
 *  out (may be NULL) receives the claims. Stages/codes: PARSE (see parse), SIGNATURE
 *  (ESIGNATURE quote or QE report signature; EUNTRUSTED QE report_data does not bind the
 *  attestation key), CHAIN (ECHAIN, EEXPIRED), REVOCATION (EREVOKED, ECOLLATERAL), COLLATERAL
 *  (ECOLLATERAL missing/expired/inconsistent, ESIGNATURE, ECHAIN), TCB (ETCB no matching level
 *  or status not accepted, EUNTRUSTED QE identity or TDX module mismatch), POLICY (EPOLICY debug,
 *  XFAM, advisory, tcbDate; EMEASUREMENT allow-lists), BINDING (ENONCE report_data). */
CCT_EXTERN int cct_tdx_verify(cct_tdx_result *out, const uint8_t *quote, size_t len,
			      const cct_tdx_verify_opts *opts, cct_err *err);

/** Verify a quote whose appraisal a policy makes elsewhere (the composite, vTPM evidence):
 *  signatures, PCK chain, collateral and the TCB evaluated with every status and debug
 *  accepted here, then fail closed unless the TCB and revocation were evaluated. root_pem
 *  (may be NULL) as cct_tdx_verify_opts.trust_root_pem. *out malloc'd (free()), filled as far
 *  as verification got, also on failure. */
CCT_EXTERN int cct_tdx_verify_unappraised(cct_tdx_result **out, const uint8_t *quote,
					  size_t len, time_t at, cct_tdx_collateral *coll,
					  const uint8_t *root_pem, size_t root_len, cct_err *err);

/** PCK CA of a quote's leaf ("platform"/"processor") and FMSPC, for fetching collateral.
 *  fmspc_hex receives 13 bytes. */
CCT_EXTERN int cct_tdx_quote_pck_info(const cct_tdx_quote *q, char fmspc_hex[13], char ca[16],
				      cct_err *err);

/* ---- CCEL event log (ACPI CCEL table + TCG2 crypto-agile log) ---- */

/** One event. digest is the SHA-384 digest; event data is borrowed from the log buffer. */
typedef struct cct_tdx_ccel_event {
	uint32_t mr_index;      /**< 0 = MRTD, 1..4 = RTMR0..3 */
	uint32_t event_type;
	int has_sha384;
	uint8_t sha384[48];
	cct_slice data;
	size_t offset;
} cct_tdx_ccel_event;

/** Parsed log and replay. Caller frees with cct_tdx_ccel_free(). */
typedef struct cct_tdx_ccel {
	cct_tdx_ccel_event *events;
	size_t count;
	uint8_t rtmr[4][48];    /**< replayed RTMR0..3 */
	uint64_t log_area_start;
	uint64_t log_area_min_len;
	int aael_only;          /**< guest-components' placeholder header (no firmware log): only
				     RTMR3, the attestation agent's events, is replayed and checked */
} cct_tdx_ccel;

/** Parse the ACPI CCEL table (may be NULL) and the event log data, replay into RTMR0..3.
 *  The log is parsed through the bounded reader; the data buffer must outlive *out.
 *  Accepted (as Trustee accepts them): a firmware CCEL log ("Spec ID Event03" header), the
 *  same followed by the attestation agent's log (AAEL), and guest-components' placeholder
 *  header (an all-zero Spec ID signature) followed by the AAEL alone (aael_only). Event MR
 *  index 0..4 is the CC MR index (MRTD, RTMR0..3); AAEL events carry the agent's register
 *  index (PCR numbering, default 17), mapped as guest-components maps it: 16 and above ->
 *  RTMR3. Indices 5..15 are refused (ambiguous). */
CCT_EXTERN int cct_tdx_ccel_parse(cct_tdx_ccel *out, const uint8_t *table, size_t table_len,
				  const uint8_t *data, size_t data_len, cct_err *err);
CCT_EXTERN void cct_tdx_ccel_free(cct_tdx_ccel *c);
/** Compare the replayed RTMRs with a quote's: CCT_OK or EMEASUREMENT naming the first RTMR
 *  (with aael_only, RTMR3 alone: RTMR0..2 have no log to replay). */
CCT_EXTERN int cct_tdx_ccel_check(const cct_tdx_ccel *c, const cct_tdx_quote *q, cct_err *err);

/* ---- Claims (stable JSON names, docs/tdx.md) ---- */

/** The quote body (TD report) as JSON: version, body_type, mrtd, rtmr0..3, report_data, ...
 *  New reference. */
CCT_EXTERN json_t *cct_tdx_body_json(const cct_tdx_quote *q);
/** Verified claims of a result: the body, then fmspc, pck_ca, tcb_status, tcb_date,
 *  advisory_ids, tdx_module, ... (null where TCB was not evaluated). New reference. */
CCT_EXTERN json_t *cct_tdx_claims(const cct_tdx_result *r);
/** Checks a verification did not perform, as a JSON array of names (new reference):
 *  "report_data" (no expected REPORT_DATA compared: no binding, no freshness), "crl" (PCK
 *  revocation not checked), "tcb" (TCB level, QE identity and TDX module not evaluated:
 *  --quote-only or verification stopped before). */
CCT_EXTERN json_t *cct_tdx_checks_skipped(const cct_tdx_result *r, int report_data_checked);

#ifdef __cplusplus
}
#endif
#endif
