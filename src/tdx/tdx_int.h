/* TDX verifier internals shared by the files of src/tdx (semi-private, not installed). */
#ifndef CCT_TDX_INT_H
#define CCT_TDX_INT_H

#include <openssl/x509.h>

#include "cctrust/tdx.h"

#define CCT_TDX_PCK_CHAIN_LEN 3  /* PCK leaf, PCK Platform/Processor CA, Intel SGX Root CA */
#define CCT_TDX_MAX_MODULE_IDS 16
#define CCT_TDX_MAX_QE_LEVELS 64
#define CCT_TDX_JSON_MAX_DEPTH 32

/* SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1). */
typedef struct cct_tdx_pck_ext {
	uint8_t ppid[16];
	uint8_t cpusvn[16];
	uint8_t comp[16];
	uint16_t pcesvn;
	uint8_t pceid[2];
	uint8_t fmspc[6];
	long sgx_type;
} cct_tdx_pck_ext;

/* Trust anchors: the pinned Intel SGX Root CA, or override (PEM, tests only). New stack. */
int cct_tdx__roots(STACK_OF(X509) **out, const cct_slice *override, cct_err *err);
/* PCK chain from the quote's PEM text: exactly leaf, intermediate, root; the root must be the
 * pinned one (same key, self-signature verifies under it). New stack, leaf first. */
int cct_tdx__pck_chain_parse(STACK_OF(X509) **out, const cct_slice *pem, STACK_OF(X509) *roots,
			     size_t offset, cct_err *err);
/* 1 if cert carries the pinned Intel SGX Root CA key (SPKI SHA-256). */
int cct_tdx__is_intel_root(const X509 *cert);
int cct_tdx__pck_ext_parse(cct_tdx_pck_ext *out, const X509 *leaf, cct_err *err);
/* "platform" / "processor" from the intermediate's CN, "" if neither. */
void cct_tdx__pck_ca_name(const X509 *ca, char *buf, size_t size);
/* EVP_PKEY for a raw P-256 point x||y (64 bytes). */
EVP_PKEY *cct_tdx__p256_key(const uint8_t xy[64]);

/* Collateral internals. */
typedef struct tdx_tcb_level {
	uint8_t sgx[16];
	uint16_t pcesvn;
	uint8_t tdx[16];
	uint16_t isvsvn;            /* module / QE levels */
	cct_tdx_tcb_status status;
	char status_name[40];
	char date[32];
	time_t date_t;
	char (*adv)[32];            /* advisory IDs (malloc'd) */
	size_t nadv;
} tdx_tcb_level;

typedef struct tdx_module_identity {
	char id[16];
	uint8_t mrsigner[48];
	uint8_t attributes[8], attributes_mask[8];
	tdx_tcb_level *levels;
	size_t nlevels;
} tdx_module_identity;

typedef struct tdx_tcb_info {
	char id[16];
	long version;
	time_t issue_date, next_update;
	uint8_t fmspc[6], pceid[2];
	int has_module;
	tdx_module_identity module;  /* "tdxModule" (no levels) */
	tdx_module_identity *ids;
	size_t nids;
	tdx_tcb_level *levels;
	size_t nlevels;
} tdx_tcb_info;

typedef struct tdx_qe_identity {
	char id[16];
	long version;
	time_t issue_date, next_update;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	tdx_tcb_level *levels;
	size_t nlevels;
} tdx_qe_identity;

struct cct_tdx_collateral {
	STACK_OF(X509) *tcb_chain, *qe_chain, *pck_crl_chain;
	X509_CRL *pck_crl, *root_crl;
	uint8_t *tcb_info_raw, *qe_id_raw;  /* exact signed bytes */
	size_t tcb_info_len, qe_id_len;
	uint8_t tcb_sig[64], qe_sig[64];
	tdx_tcb_info tcb;
	tdx_qe_identity qe;
	/* SHA-256 over every signed part (set at load; read-only afterwards, so one collateral
	 * object may be shared by concurrent verifications) */
	uint8_t content_hash[32];
	int content_hashed;
	time_t earliest_next_update; /* min nextUpdate of TCB info, QE identity, both CRLs */
};

/* Signatures, chains, CRLs and freshness of the collateral at time at. The outcome is cached
 * process-wide (x509/vcache) per (content hash, trust anchors roots_fp) and the window of
 * verification times over which it holds; c is never written. */
int cct_tdx__collateral_check(const cct_tdx_collateral *c, STACK_OF(X509) *roots,
			      const uint8_t roots_fp[32], time_t at, cct_err *err);
/* SHA-256 over the DER of every certificate of sk (a trust anchor set), for cache keys. */
int cct_tdx__roots_fp(STACK_OF(X509) *sk, uint8_t fp[32]);
/* Parse TCB info / QE identity JSON text (the exact signed bytes). */
int cct_tdx__tcb_info_parse(tdx_tcb_info *out, const uint8_t *p, size_t n, cct_err *err);
int cct_tdx__qe_identity_parse(tdx_qe_identity *out, const uint8_t *p, size_t n, cct_err *err);
void cct_tdx__tcb_info_clear(tdx_tcb_info *t);
void cct_tdx__qe_identity_clear(tdx_qe_identity *q);
/* Raw text span of top-level member key of the JSON object in buf (not a semantic parse). */
int cct_tdx__json_member_span(const uint8_t *buf, size_t n, const char *key, size_t *start,
			      size_t *end);

/* TCB evaluation (Intel QVL TcbLevelCheck / TdxModuleCheck / QE identity). Fills the TCB part of
 * res. Returns CCT_OK with a status, or ETCB / EUNTRUSTED / ECOLLATERAL. */
int cct_tdx__tcb_evaluate(cct_tdx_result *res, const cct_tdx_collateral *c,
			  const cct_tdx_quote *q, const cct_tdx_pck_ext *pck, cct_err *err);

/* Validate one bundle item (tdx-root-ca-crl, tdx-pck-crl, tdx-tcb-info, tdx-qe-identity) at
 * time at with the pinned Intel SGX Root CA: issuer chain (+ Root CA CRL) and signature;
 * fills the item's not_before/next_update. */
#include "cctrust/collateral.h"
int cct_tdx__coll_validate(cct_coll_item *it, const uint8_t *p, size_t n, const uint8_t *chain,
			   size_t chain_n, const uint8_t *root_crl, size_t root_n, time_t at,
			   cct_err *err);

#endif
