/* cctrust: AMD SEV-SNP attestation reports: parse, verify (VCEK/VLEK chain to pinned AMD roots,
 * CRL, report signature, TCB binding) and appraise against a policy. */
#ifndef CCTRUST_SNP_H
#define CCTRUST_SNP_H

#include <jansson.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_SNP_REPORT_SIZE 0x4A0 /* 1184 bytes */
#define CCT_SNP_SIGNED_SIZE 0x2A0 /* signature covers bytes 0x000-0x29F */
#define CCT_SNP_MAX_MEASUREMENTS 64

/* GHCB certificate table GUIDs. */
#define CCT_SNP_GUID_ARK "c0b406a4-a803-4952-9743-3fb6014cd0ae"
#define CCT_SNP_GUID_ASK "4ab7b379-bbac-4fe4-a02f-05aef327c782" /* also the ASVK */
#define CCT_SNP_GUID_VCEK "63da758d-e664-4564-adc5-f4b93be8accd"
#define CCT_SNP_GUID_VLEK "a8074bc2-a25a-483e-aae6-39c045a0b8a1"
#define CCT_SNP_GUID_CRL "92f81bc3-5811-4d3d-97ff-d19f88dc67ea"
#define CCT_SNP_MAX_CHIP_IDS 256

/* Guest policy bits (SNP ABI, GUEST_POLICY). */
#define CCT_SNP_POLICY_SMT_BIT 16
#define CCT_SNP_POLICY_RESERVED1_BIT 17 /* must be 1 */
#define CCT_SNP_POLICY_MIGRATE_MA_BIT 18
#define CCT_SNP_POLICY_DEBUG_BIT 19
#define CCT_SNP_POLICY_SINGLE_SOCKET_BIT 20

typedef enum {
	CCT_SNP_PRODUCT_UNKNOWN = 0,
	CCT_SNP_PRODUCT_MILAN,
	CCT_SNP_PRODUCT_GENOA,
	CCT_SNP_PRODUCT_TURIN
} cct_snp_product;

typedef enum { CCT_SNP_KEY_VCEK = 0, CCT_SNP_KEY_VLEK = 1, CCT_SNP_KEY_NONE = 7 } cct_snp_signing_key;

/** A decoded TCB_VERSION. The layout depends on the product (Turin has an FMC SPL). */
typedef struct cct_snp_tcb {
	uint8_t fmc;        /**< Turin only */
	uint8_t bootloader;
	uint8_t tee;
	uint8_t snp;
	uint8_t microcode;
	uint64_t raw;
} cct_snp_tcb;

/** A parsed ATTESTATION_REPORT. Filled by cct_snp_report_parse(); holds no allocation. */
typedef struct cct_snp_report {
	uint32_t version;            /* 0x000 */
	uint32_t guest_svn;          /* 0x004 */
	uint64_t policy;             /* 0x008 */
	uint8_t family_id[16];       /* 0x010 */
	uint8_t image_id[16];        /* 0x020 */
	uint32_t vmpl;               /* 0x030 */
	uint32_t signature_algo;     /* 0x034: 1 = ECDSA P-384 with SHA-384 */
	uint64_t current_tcb;        /* 0x038 */
	uint64_t platform_info;      /* 0x040 */
	uint32_t flags;              /* 0x048: author_key_en, mask_chip_key, signing_key */
	uint8_t report_data[64];     /* 0x050 */
	uint8_t measurement[48];     /* 0x090 */
	uint8_t host_data[32];       /* 0x0C0 */
	uint8_t id_key_digest[48];   /* 0x0E0 */
	uint8_t author_key_digest[48]; /* 0x110 */
	uint8_t report_id[32];       /* 0x140 */
	uint8_t report_id_ma[32];    /* 0x160 */
	uint64_t reported_tcb;       /* 0x180 */
	uint8_t cpuid_fam_id;        /* 0x188 (v3+) */
	uint8_t cpuid_mod_id;        /* 0x189 (v3+) */
	uint8_t cpuid_step;          /* 0x18A (v3+) */
	uint8_t chip_id[64];         /* 0x1A0 */
	uint64_t committed_tcb;      /* 0x1E0 */
	uint8_t current_build, current_minor, current_major;       /* 0x1E8 */
	uint8_t committed_build, committed_minor, committed_major; /* 0x1EC */
	uint64_t launch_tcb;         /* 0x1F0 */
	uint64_t launch_mit_vector;  /* 0x1F8 (v5) */
	uint64_t current_mit_vector; /* 0x200 (v5) */
	uint8_t sig_r[72];           /* 0x2A0, little-endian */
	uint8_t sig_s[72];           /* 0x2E8, little-endian */
	const uint8_t *signed_bytes; /* borrowed: the input's first 0x2A0 bytes */
	size_t signed_size;
} cct_snp_report;

/** Parse exactly CCT_SNP_REPORT_SIZE bytes (versions 2..5). Checks reserved fields (MBZ), the
 *  signature algorithm and the signing key field. Errors: ETRUNC, ETRAILING, EMBZ, EFORMAT,
 *  EUNSUPPORTED (stage PARSE, offset of the field). buf must outlive out (signed_bytes). */
CCT_EXTERN int cct_snp_report_parse(cct_snp_report *out, const uint8_t *buf, size_t len,
				    cct_err *err);
/** Decode a TCB_VERSION for a product (Turin layout differs). */
CCT_EXTERN cct_snp_tcb cct_snp_tcb_decode(uint64_t raw, cct_snp_product product);
/** Product from the report's CPUID fields (v3+), or UNKNOWN. */
CCT_EXTERN cct_snp_product cct_snp_report_product(const cct_snp_report *rep);
/** "Milan", "Genoa", "Turin" or "unknown". */
CCT_EXTERN const char *cct_snp_product_name(cct_snp_product p);
/** Signing key field of the report (flags bits 4:2). */
CCT_EXTERN cct_snp_signing_key cct_snp_report_signing_key(const cct_snp_report *rep);

/** Relying-party policy. Zero-initialise, then set what you need; the defaults are strict:
 *  debug refused, VMPL 0 required, CRL required (unless crl_check_insecure_off). */
typedef struct cct_snp_policy {
	uint8_t (*measurements)[48];  /**< allow-list; NULL/0 = any */
	size_t measurement_count;
	int has_host_data;
	uint8_t host_data[32];
	int has_report_data;
	uint8_t report_data[64];
	int has_id_key_digest;
	uint8_t id_key_digest[48];
	int has_author_key_digest;
	uint8_t author_key_digest[48];
	int require_id_block;       /**< id_key_digest must be non-zero */
	int require_author_key;     /**< AUTHOR_KEY_EN flag must be set */
	int has_min_reported_tcb, has_min_committed_tcb, has_min_launch_tcb, has_min_current_tcb;
	cct_snp_tcb min_reported_tcb, min_committed_tcb, min_launch_tcb, min_current_tcb;
	uint32_t min_guest_svn;
	int has_min_version;        /**< minimum firmware major.minor (current) */
	uint8_t min_major, min_minor, min_build;
	int has_min_abi;            /**< minimum guest policy ABI major.minor */
	uint8_t min_abi_major, min_abi_minor;
	int allow_debug_insecure;   /**< accept DEBUG=1 guests (visible in results) */
	int deny_migrate_ma;        /**< refuse guests that allow a migration agent */
	int deny_smt;               /**< refuse guests whose policy allows SMT */
	int require_single_socket;
	int max_vmpl;               /**< highest accepted VMPL (default 0) */
	uint8_t (*chip_ids)[64];    /**< allow-list; NULL/0 = any */
	size_t chip_id_count;
	int has_platform_info_mask; /**< (platform_info & mask) must equal value */
	uint64_t platform_info_mask, platform_info_value;
	uint32_t signing_keys_allowed; /**< bitmask of 1<<cct_snp_signing_key; 0 = VCEK|VLEK */
	cct_snp_product product;    /**< required product, UNKNOWN = any */
	int has_family_id, has_image_id;
	uint8_t family_id[16], image_id[16];
} cct_snp_policy;

/** Initialise a policy with the strict defaults. */
CCT_EXTERN void cct_snp_policy_init(cct_snp_policy *pol);
/** Load a JSON policy file (docs/snp.md) on top of pol. Errors EINVAL with the key named. */
CCT_EXTERN int cct_snp_policy_load_json(cct_snp_policy *pol, const char *text, size_t len,
					cct_err *err);
/** Free arrays allocated by cct_snp_policy_load_json. */
CCT_EXTERN void cct_snp_policy_clear(cct_snp_policy *pol);

/** A verifier: trust anchors, offered certificates and CRLs, collateral cache, options.
 *  Reuse one for many reports: verified chains are cached. Not thread-safe. */
typedef struct cct_snp_verifier cct_snp_verifier;

CCT_EXTERN int cct_snp_verifier_new(cct_snp_verifier **out, cct_err *err);
CCT_EXTERN void cct_snp_verifier_free(cct_snp_verifier *v);
/** Verification time (default: now at creation). */
CCT_EXTERN void cct_snp_verifier_set_time(cct_snp_verifier *v, time_t at);
/** Require a fresh ARK-signed CRL (default on). Off = visible in results. */
CCT_EXTERN void cct_snp_verifier_set_crl_check(cct_snp_verifier *v, int on);
/** Forbid network fetches (default: network allowed when a collateral dir is set). */
CCT_EXTERN void cct_snp_verifier_set_offline(cct_snp_verifier *v, int offline);
/** On-disk collateral cache for AMD KDS (VCEKs, cert chains, CRLs), or a collateral bundle. An
 *  empty path is CCT_EINVAL. */
CCT_EXTERN int cct_snp_verifier_set_collateral_dir(cct_snp_verifier *v, const char *dir,
						   cct_err *err);
/** Collateral source (a bundle, include/cctrust/collateral.h) queried for VCEKs and CRLs
 *  before the collateral directory and KDS. Borrowed; NULL turns it off. */
struct cct_collateral_source;
CCT_EXTERN void cct_snp_verifier_set_collateral_source(cct_snp_verifier *v,
						       const struct cct_collateral_source *src);
/** KDS base URL (default https://kdsintf.amd.com). */
CCT_EXTERN void cct_snp_verifier_set_kds_url(cct_snp_verifier *v, const char *url);
/** Forget verified chains (the next report re-verifies its whole chain). */
CCT_EXTERN void cct_snp_verifier_clear_cache(cct_snp_verifier *v);
/** Offer certificates / CRLs from a PEM or DER file, or every file of a directory. */
CCT_EXTERN int cct_snp_verifier_add_certs_path(cct_snp_verifier *v, const char *path,
					       cct_err *err);
/** Offer certificates / CRLs from memory (PEM, DER). */
CCT_EXTERN int cct_snp_verifier_add_certs(cct_snp_verifier *v, const uint8_t *buf, size_t len,
					  cct_err *err);
/** Offer the GHCB certificate table of the extended report verified next (GUID table). Its
 *  certificates and CRLs vouch for that report alone: they apply to the next cct_snp_verify and
 *  are dropped when it returns, whatever the outcome (and at once when this call fails). Parse
 *  the report first, so that a table is never left pending for a report that is not verified. */
CCT_EXTERN int cct_snp_verifier_add_cert_table(cct_snp_verifier *v, const uint8_t *buf,
					       size_t len, cct_err *err);
/** Trust an additional ARK (PEM). FOR TESTS AND THE SIMULATED TEE ONLY: results say so. */
CCT_EXTERN int cct_snp_verifier_trust_ark_insecure(cct_snp_verifier *v, const uint8_t *pem,
						   size_t len, cct_err *err);

/** What a successful (or partial) verification established. */
typedef struct cct_snp_result {
	cct_snp_product product;
	cct_snp_signing_key signing_key;
	int chain_verified;
	int signature_verified;
	int crl_checked;            /**< 0 when CRL checking was turned off; 1 also when a CRL
				     *   revoked the chain (the result is then CCT_EREVOKED) */
	int debug_allowed_insecure; /**< the guest is debuggable and policy allowed it */
	int simulated;              /**< chain ends at an ARK trusted with _trust_ark_insecure */
	cct_snp_tcb vcek_tcb;
	int chip_id_masked;         /**< the report's CHIP_ID is masked (MASK_CHIP_ID, all zero):
				     *   the VCEK's hwID could not be compared with it */
} cct_snp_result;

/** Verify one parsed report: chain, CRL, report signature, VCEK TCB/hwID binding, then policy.
 *  Returns CCT_OK or the first failure (err says stage and why). result may be NULL. */
CCT_EXTERN int cct_snp_verify(cct_snp_result *result, cct_snp_verifier *v,
			      const cct_snp_report *rep, const cct_snp_policy *pol, cct_err *err);
/** The report's REPORT_DATA equals expected (binding / freshness): CCT_ENONCE, stage BINDING,
 *  offset 0x050 otherwise. */
CCT_EXTERN int cct_snp_report_data_check(const cct_snp_report *rep, const uint8_t expected[64],
					 cct_err *err);
/** Policy checks alone (no crypto), for callers that verified the signature elsewhere. */
CCT_EXTERN int cct_snp_policy_check(const cct_snp_report *rep, cct_snp_product product,
				    const cct_snp_policy *pol, cct_err *err);

/** Claims of a report with stable names (docs/snp.md; what `cctrust snp verify --json` prints
 *  as "claims", what the composite verifier and the policy's `snp` section read). res may be
 *  NULL (parse-only: no product or signing-key facts). New reference. */
CCT_EXTERN json_t *cct_snp_claims(const cct_snp_report *rep, const cct_snp_result *res);
/** Checks a verification did not perform, as a JSON array of names (new reference):
 *  "report_data" when no expected REPORT_DATA was compared (no binding, no freshness), "crl"
 *  when revocation was not checked (res NULL or res->crl_checked 0), "chip_id" when the
 *  report's CHIP_ID was masked, so the VCEK's hwID was not compared with it (the VCEK's
 *  signature still binds the report to its chip). Every verify command prints it as
 *  "checks_skipped". */
CCT_EXTERN json_t *cct_snp_checks_skipped(const cct_snp_result *res, int report_data_checked);
/** Claims of a report as JSON text (the CLI's "claims" object). Caller frees with free(). */
CCT_EXTERN char *cct_snp_claims_json(const cct_snp_report *rep, const cct_snp_result *res);

/** Parse a GHCB certificate table: calls fn for each (guid text, bytes) entry. */
CCT_EXTERN int cct_snp_cert_table_parse(const uint8_t *buf, size_t len,
					int (*fn)(void *ctx, const char *guid, const uint8_t *p,
						  size_t n),
					void *ctx, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
