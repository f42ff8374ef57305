/* cctrust tpm: TCG event logs (TPM PCRs and TDX RTMRs: one replay engine), TPM 2.0 quotes,
 * and Azure paravisor (HCL) vTPM evidence. */
#ifndef CCTRUST_TPM_H
#define CCTRUST_TPM_H

#include <time.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TPM_ALG_ID values (TPM 2.0 Part 2, 6.3) that cctrust handles. */
#define CCT_TPM_ALG_RSA 0x0001
#define CCT_TPM_ALG_SHA1 0x0004
#define CCT_TPM_ALG_SHA256 0x000B
#define CCT_TPM_ALG_SHA384 0x000C
#define CCT_TPM_ALG_SHA512 0x000D
#define CCT_TPM_ALG_NULL 0x0010
#define CCT_TPM_ALG_RSASSA 0x0014
#define CCT_TPM_ALG_RSAPSS 0x0016
#define CCT_TPM_ALG_ECDSA 0x0018
#define CCT_TPM_ALG_ECC 0x0023

#define CCT_TPM_NUM_PCRS 24
#define CCT_TPM_MAX_BANKS 8
/** Named cap on events in one log (real logs hold tens to a few thousand). */
#define CCT_EVLOG_MAX_EVENTS 65536

/** Name of a hash algorithm ("sha1", "sha256", ...) or NULL. */
CCT_EXTERN const char *cct_tpm_alg_name(uint16_t alg);
/** Hash algorithm from its name, or 0. */
CCT_EXTERN uint16_t cct_tpm_alg_from_name(const char *name);
/** Digest size of a hash algorithm, or 0 when unknown. */
CCT_EXTERN size_t cct_tpm_alg_size(uint16_t alg);

/* ---- TCG event log (PC Client PFP: SHA-1 legacy and crypto-agile; TDX CCEL) ---- */

/** What the registers of a log are. */
typedef enum {
	CCT_EVLOG_TPM = 0,  /**< TPM PCRs 0..23 (binary_bios_measurements) */
	CCT_EVLOG_CCEL = 1  /**< TDX: MR index 1..4 = RTMR0..3 (index 0 = MRTD, not replayed); AAEL
			         events' register index 16 and above -> RTMR3 (as guest-components
			         maps it), 5..15 refused */
} cct_evlog_kind;

typedef struct cct_evlog_digest {
	uint16_t alg;
	uint16_t size;
	const uint8_t *d;       /**< borrowed from the log buffer */
} cct_evlog_digest;

typedef struct cct_evlog_event {
	size_t seq;             /**< 0-based number in the log (the Spec ID event is 0) */
	size_t offset;          /**< byte offset in the log */
	uint32_t index;         /**< PCR index (TPM) or MR index (CCEL) */
	uint32_t type;
	uint32_t ndigests;
	cct_evlog_digest digests[CCT_TPM_MAX_BANKS];
	const uint8_t *data;    /**< borrowed */
	uint32_t data_len;
	/** 1: the event data hashes to its digests (types where the spec says it must);
	 *  0: not a type whose digest is a hash of its data; -1: it does not (tampered). */
	int data_check;
	int replayed;           /**< extended into a register (not EV_NO_ACTION, not MRTD) */
} cct_evlog_event;

typedef struct cct_evlog_bank {
	uint16_t alg;
	uint16_t size;
	int incomplete;         /**< some replayed event had no digest of this bank */
	uint8_t reg[CCT_TPM_NUM_PCRS][64];
} cct_evlog_bank;

/** A parsed and replayed log. Events borrow from the input buffer, which must outlive it. */
typedef struct cct_evlog {
	cct_evlog_kind kind;
	int crypto_agile;       /**< 0: SHA-1 legacy format */
	uint32_t nregs;         /**< 24 (TPM) or 4 (CCEL) */
	uint32_t nbanks;
	cct_evlog_bank banks[CCT_TPM_MAX_BANKS];
	int startup_locality;   /**< -1 when the log has no StartupLocality event */
	int ccel_placeholder;   /**< CCEL: guest-components' placeholder header (all-zero Spec ID
				     signature) followed by the attestation agent's log (AAEL) only:
				     RTMR3 events alone */
	cct_evlog_event *events;
	size_t count;
} cct_evlog;

/** Parse a log and replay it into every bank. Trailing 0x00/0xFF fill is allowed. */
CCT_EXTERN int cct_evlog_parse(cct_evlog *out, const uint8_t *data, size_t len,
			       cct_evlog_kind kind, cct_err *err);
CCT_EXTERN void cct_evlog_free(cct_evlog *log);
/** Bank of a hash algorithm or NULL. */
CCT_EXTERN const cct_evlog_bank *cct_evlog_find_bank(const cct_evlog *log, uint16_t alg);
/** "EV_SEPARATOR", "EV_EFI_VARIABLE_DRIVER_CONFIG", ... (never NULL). */
CCT_EXTERN const char *cct_evlog_type_name(uint32_t type);
/** Register name for a log: "PCR7" or "RTMR1". buf >= 16 bytes. */
CCT_EXTERN const char *cct_evlog_reg_name(const cct_evlog *log, uint32_t reg, char *buf,
					  size_t size);
/** Register an event extends (CCEL: MR index - 1), or -1 when it is not replayed. */
CCT_EXTERN int cct_evlog_event_reg(const cct_evlog *log, const cct_evlog_event *ev);

/** Expected register values, any banks, any indices. */
typedef struct cct_tpm_pcrs {
	uint32_t nbanks;
	struct {
		uint16_t alg;
		uint16_t size;
		uint32_t mask;  /**< bit i: value i given */
		uint8_t v[CCT_TPM_NUM_PCRS][64];
	} banks[CCT_TPM_MAX_BANKS];
} cct_tpm_pcrs;

/** JSON {"sha1": {"0": "HEX", ...}, "sha256": {...}} (TPM) or {"rtmr0": "HEX", ...} (CCEL,
 *  stored as bank sha384). Errors EENCODING/EFORMAT naming the key. */
CCT_EXTERN int cct_tpm_pcrs_parse_json(cct_tpm_pcrs *out, const char *text, size_t len,
				       cct_evlog_kind kind, cct_err *err);
/** Set one value (replaces). */
CCT_EXTERN int cct_tpm_pcrs_set(cct_tpm_pcrs *p, uint16_t alg, uint32_t index,
				const uint8_t *v, size_t n, cct_err *err);
/** Every given register replays to its value and no hash-checked event was altered:
 *  CCT_OK, else EMEASUREMENT (stage MEASUREMENT) naming the register and the event. */
CCT_EXTERN int cct_evlog_compare(const cct_evlog *log, const cct_tpm_pcrs *want, cct_err *err);
/** The log as JSON text: {"format","banks","pcrs"|"rtmrs","facts"[,"events"]}; free(). */
CCT_EXTERN char *cct_evlog_json(const cct_evlog *log, int with_events);

/* ---- TPM 2.0 quote (TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE) ---- */

typedef struct cct_tpm_quote {
	uint32_t magic;
	uint16_t type;
	const uint8_t *signer;      /**< qualifiedSigner (TPM2B_NAME body), borrowed */
	uint16_t signer_len;
	const uint8_t *extra;       /**< extraData (the nonce), borrowed */
	uint16_t extra_len;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	uint8_t safe;
	uint64_t firmware_version;
	uint32_t nsel;              /**< PCR selections */
	struct {
		uint16_t alg;
		uint32_t mask;          /**< bit i = PCR i (PCRs above 23 refused) */
	} sel[CCT_TPM_MAX_BANKS];
	const uint8_t *pcr_digest;  /**< borrowed */
	uint16_t pcr_digest_len;
} cct_tpm_quote;

/** Parse a TPMS_ATTEST (or a TPM2B_ATTEST holding one) of type QUOTE. */
CCT_EXTERN int cct_tpm_quote_parse(cct_tpm_quote *out, const uint8_t *buf, size_t len,
				   cct_err *err);

/** An attestation key: TPMT_PUBLIC / TPM2B_PUBLIC (binary), PEM public key, or JWK text. */
typedef struct cct_tpm_ak cct_tpm_ak;
CCT_EXTERN int cct_tpm_ak_load(cct_tpm_ak **out, const uint8_t *buf, size_t len, cct_err *err);
/** From a JWK (JSON text of one key). */
CCT_EXTERN int cct_tpm_ak_from_jwk(cct_tpm_ak **out, const char *jwk, size_t len, cct_err *err);
CCT_EXTERN void cct_tpm_ak_free(cct_tpm_ak *ak);
/** SHA-256 of the AK's SubjectPublicKeyInfo (DER). */
CCT_EXTERN int cct_tpm_ak_fingerprint(const cct_tpm_ak *ak, uint8_t out[32]);

/** What a quote check established. */
typedef struct cct_tpm_quote_result {
	uint16_t sig_alg;           /**< RSASSA / RSAPSS / ECDSA */
	uint16_t hash_alg;
	int signature_verified;
	int nonce_checked;
	int pcrs_checked;
} cct_tpm_quote_result;

/** Verify: the signature (TPMT_SIGNATURE, or a bare RSA/ECDSA-DER signature taken as the AK's
 *  scheme, RSASSA-SHA256 by default) over the quote bytes with the AK; extraData == nonce
 *  (nonce may be NULL only with nonce_len 0 meaning "empty extraData"); the PCR digest ==
 *  hash of the selected values of pcrs in selection order (pcrs NULL: not checked, and
 *  result->pcrs_checked stays 0). Stages: SIGNATURE, BINDING (nonce), MEASUREMENT (PCRs). */
CCT_EXTERN int cct_tpm_quote_verify(cct_tpm_quote_result *res, const cct_tpm_quote *q,
				    const uint8_t *quote, size_t quote_len, const uint8_t *sig,
				    size_t sig_len, const cct_tpm_ak *ak, const uint8_t *nonce,
				    size_t nonce_len, const cct_tpm_pcrs *pcrs, cct_err *err);

/* ---- Azure paravisor (HCL) report and Trustee az-snp-vtpm / az-tdx-vtpm evidence ---- */

#define CCT_HCL_HW_REPORT_SIZE 1184
#define CCT_HCL_REPORT_TYPE_SNP 2
#define CCT_HCL_REPORT_TYPE_TDX 4

typedef struct cct_hcl_report {
	uint32_t version;
	uint32_t report_size;
	uint32_t request_type;
	uint32_t status;
	const uint8_t *hw_report;   /**< 1184 bytes: the SNP report, or the TD report (1024) + pad */
	uint32_t igvm_version;
	uint32_t report_type;       /**< CCT_HCL_REPORT_TYPE_* */
	uint32_t hash_type;         /**< 1 SHA-256, 2 SHA-384, 3 SHA-512 */
	const uint8_t *runtime;     /**< variable runtime data (JSON), borrowed */
	uint32_t runtime_len;
} cct_hcl_report;

/** Parse an HCL report (header "HCLA", hardware report, IGVM request data). */
CCT_EXTERN int cct_hcl_report_parse(cct_hcl_report *out, const uint8_t *buf, size_t len,
				    cct_err *err);
/** Hash of the runtime data by the report's hash type; returns its size (32/48/64) or 0. */
CCT_EXTERN size_t cct_hcl_runtime_hash(const cct_hcl_report *h, uint8_t out[64]);

/** TDREPORT_STRUCT size (Intel TDX module ABI): REPORTMACSTRUCT 256, TEE_TCB_INFO 239,
 *  reserved 17, TDINFO_STRUCT 512. An az-tdx-vtpm HCL report carries one at the start of its
 *  hardware report. */
#define CCT_TD_REPORT_SIZE 1024

/** The fields of a TD report that a TD quote's body copies (views into the report, borrowed).
 *  The report's MAC is only checkable on the platform that made it: a verifier compares these
 *  fields with the body of a TD quote whose signature it verified. */
typedef struct cct_td_report {
	uint8_t report_type[4];     /**< type 0x81 (TDX), subtype, version, reserved */
	const uint8_t *cpusvn;      /**< 16 */
	const uint8_t *report_data; /**< 64 */
	const uint8_t *tee_tcb_svn; /**< 16 (TEE_TCB_INFO) */
	const uint8_t *mrseam;      /**< 48 */
	const uint8_t *mrsignerseam;/**< 48 */
	const uint8_t *seam_attributes; /**< 8 */
	const uint8_t *td_attributes;   /**< 8 (TDINFO) */
	const uint8_t *xfam;        /**< 8 */
	const uint8_t *mrtd;        /**< 48 */
	const uint8_t *mrconfigid;  /**< 48 */
	const uint8_t *mrowner;     /**< 48 */
	const uint8_t *mrownerconfig; /**< 48 */
	const uint8_t *rtmr[4];     /**< 48 each */
} cct_td_report;

/** Parse a TDREPORT_STRUCT (len >= 1024; bytes after it are not read): report type 0x81
 *  (EFORMAT otherwise). */
CCT_EXTERN int cct_td_report_parse(cct_td_report *out, const uint8_t *buf, size_t len,
				   cct_err *err);
/** Compare a TD report with the body of a TD quote (a cct_tdx_quote, tdx.h, passed as
 *  void * so that this header does not need tdx.h): every field the quote copies from the
 *  report (TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, SEAM attributes, TD attributes, XFAM, MRTD,
 *  MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3, REPORTDATA) must be equal: CCT_OK, or
 *  EBINDING (stage BINDING) naming the first field that differs. */
CCT_EXTERN int cct_td_report_match_quote(const cct_td_report *r, const void *tdx_quote,
					 cct_err *err);

struct cct_collateral_source;

/** Options of a vTPM evidence verification. */
typedef struct cct_vtpm_opts {
	const uint8_t *nonce;       /**< expected quote extraData; NULL = not checked (skipped) */
	size_t nonce_len;
	time_t at;                  /**< verification time (0 = now) */
	const char *collateral_dir; /**< AMD KDS cache; enables the CRL check */
	int require_crl;            /**< require the AMD CRL even without collateral_dir (from
				         --certs / the cache: fails closed when none is there) */
	int offline;
	const char *certs_path;     /**< extra certificates / CRLs */
	const char *trust_sim_dir;  /**< trust the simulated SNP / TDX roots of `cctrust sim init
				         DIR` (tests; claims say "simulated") */
	/* az-tdx-vtpm: the TD quote's collateral (TCB info, QE identity, CRLs), as for
	 * `cctrust tdx verify`: collateral_dir when it is a QVL bundle or PCS v4 directory, else
	 * this bundle source, else fetched from pccs_url (NULL: Intel PCS) into the cache
	 * collateral_dir/tdx (offline: cache only) */
	const struct cct_collateral_source *collateral; /**< collateral bundle, may be NULL */
	const char *pccs_url;
	int no_crl; /**< az-snp-vtpm: do not check the AMD CRL, collateral_dir or not (listed in
		         claims.checks_skipped as "snp_crl"; the caller reports it as insecure) */
} cct_vtpm_opts;

/** Verify Trustee az-snp-vtpm evidence (JSON v0, v1, v2) or az-tdx-vtpm evidence (v0, v1:
 *  a "td_quote" member): evidence only, with the strict hardware baseline (SNP: debug refused,
 *  VMPL 0; TDX: debug TD refused, TCB evaluated and PCK revocation checked, the HCL's TD report
 *  equal to the quote's body); relying-party rules (snp / tdx section, vtpm) are the policy
 *  language's (cct_policy_evaluate with tee "az-snp-vtpm" / "az-tdx-vtpm" over these claims).
 *  claims.tee names which. On success or failure *claims_json (if not NULL) receives what was
 *  established so far (free()). */
CCT_EXTERN int cct_vtpm_verify_json(char **claims_json, const char *evidence, size_t len,
				    const cct_vtpm_opts *opts, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
