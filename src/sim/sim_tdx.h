/* Simulated Intel TDX platform (semi-private): an Intel-shaped DCAP PKI generated at run time and
 * fresh quotes in the real formats signed by it. Nothing here is ever trusted unless a verifier is
 * told to (cct_tdx_verify_opts.trust_root_pem, `cctrust tdx verify --insecure-trust-root`, the
 * composite verifier's --trust-sim DIR); results verified that way carry `simulated`.
 *
 * PKI (every certificate ECDSA P-256 / SHA-256, every name marked SIMULATED):
 *   "Intel SGX Root CA (SIMULATED)"            self-signed CA; signs the Root CA CRL
 *    +- "Intel SGX PCK Platform CA (SIMULATED)" CA; signs the PCK CRL
 *    |   +- "Intel SGX PCK Certificate (SIMULATED)" with the SGX extensions
 *    |      (OID 1.2.840.113741.1.13.1: PPID, TCB = 16 components + PCESVN + CPUSVN, PCE-ID,
 *    |      FMSPC, SGX type, platform instance ID, configuration); its key signs QE reports
 *    +- "Intel SGX TCB Signing (SIMULATED)"      signs TCB info and QE identity
 *   attestation key (P-256)                     certified by the QE report, signs quotes
 * Collateral (one set, re-issuable with cct_sim_tdx_collateral()): Root CA CRL (by the root),
 * PCK CRL (by the Platform CA), TCB info v3 "TDX" (tdxModule + tdxModuleIdentities TDX_01 +
 * tcbLevels) and QE identity v2 "TD_QE", each signed over the exact bytes of its JSON text.
 * The platform TCB level (status chosen, UpToDate by default) is followed by an all-zero
 * OutOfDate level, as Intel lists them (highest first).
 *
 * Use from the composite CLI:
 *   cctrust sim init DIR
 *     cct_sim_tdx_new(&t, NULL, &err); cct_sim_tdx_save(t, DIR, &err); cct_sim_tdx_free(t);
 *   cctrust sim evidence DIR --tee tdx --nonce .. --tee-pubkey .. [--init-data F]
 *     cct_sim_tdx_load(&t, DIR, &err);
 *     q.report_data = SHA-384(JCS(runtime data)) zero-padded to 64 bytes (the caller computes);
 *     q.mrconfigid  = the 48-byte init-data digest (zero when there is no init-data);
 *     cct_sim_tdx_quote(&quote, &len, t, &q, &err);   -> "primary_evidence" (caller encodes)
 *     (the collateral lives 30 days, as Intel's: when t->coll_next_update has passed,
 *      cct_sim_tdx_collateral(t, NULL, &err) + cct_sim_tdx_save() re-issue it)
 *   cctrust verify REQUEST.json --trust-sim DIR
 *     cct_sim_tdx_trust_load(&root_pem, &root_len, &coll, DIR, &err);
 *     opts.trust_root_pem = {root_pem, root_len}; opts.collateral = coll;
 *     cct_tdx_verify(&res, quote, len, &opts, &err);  -> res.simulated == 1
 *
 * Saved layout, all under DIR/tdx/ (CCT_SIM_TDX_SUBDIR); *.key are PKCS#8 PEM, mode 0600:
 *   root_ca.pem            the simulated trust anchor (what --insecure-trust-root takes)
 *   root_ca.key  pck_platform_ca.pem  pck_platform_ca.key  pck.pem  pck.key
 *   tcb_signing.pem  tcb_signing.key  attestation.key
 *   pck_chain.pem          PCK leaf, Platform CA, root: the chain embedded in every quote
 *   info.json              platform parameters (FMSPC, TCB, QE/module identity), "simulated"
 *   collateral.json        QVL JSON bundle: `cctrust tdx verify --collateral` reads it
 *   pcs/                   the same collateral in the Intel PCS v4 directory layout
 *                          (tcb_info.json, qe_identity.json, *_issuer_chain.pem, pck_crl.der,
 *                          root_ca_crl.der): also a valid `--collateral DIR`
 */
#ifndef CCT_ATTESTER_SIM_TDX_H
#define CCT_ATTESTER_SIM_TDX_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cctrust/tdx.h"

#define CCT_SIM_TDX_SUBDIR "tdx"
#define CCT_SIM_TDX_ROOT_FILE "root_ca.pem"
#define CCT_SIM_TDX_COLLATERAL_FILE "collateral.json"
#define CCT_SIM_TDX_PCS_DIR "pcs"
#define CCT_SIM_TDX_MAX_ADVISORIES 8
/** Default collateral lifetime (Intel issues TCB info / CRLs for 30 days). */
#define CCT_SIM_TDX_COLLATERAL_DAYS 30

/** Collateral parameters. Zero-initialised = defaults. */
typedef struct cct_sim_tdx_collateral_opts {
	time_t issue;                      /**< issueDate / CRL thisUpdate (0 = now - 1 h) */
	time_t next_update;                /**< nextUpdate (0 = issue + 30 days) */
	cct_tdx_tcb_status tcb_status;     /**< the platform's TCB level (NONE = UpToDate) */
	cct_tdx_tcb_status module_status;  /**< TDX_01 level of the module ISVSVN (NONE = UpToDate) */
	cct_tdx_tcb_status qe_status;      /**< QE identity level of the QE ISVSVN (NONE = UpToDate) */
	const char *tcb_date;              /**< platform level tcbDate (NULL = 2024-11-13T00:00:00Z) */
	const char *advisory_ids[CCT_SIM_TDX_MAX_ADVISORIES]; /**< on the platform level; borrowed */
	size_t advisory_count;
	int revoke_pck;                    /**< the PCK CRL lists the PCK leaf's serial */
} cct_sim_tdx_collateral_opts;

/** Platform parameters. Zero-initialised = defaults. */
typedef struct cct_sim_tdx_opts {
	time_t now;                 /**< base of every validity window (0 = time(NULL)) */
	int has_fmspc;
	uint8_t fmspc[6];           /**< default 90C06F000000 */
	int has_sgx_tcb;
	uint8_t sgx_comp[16];       /**< PCK TCB components = CPUSVN (default 02 02 02 02 03 01 00 03) */
	uint16_t pcesvn;            /**< default 13 (only with has_sgx_tcb, else 13) */
	int has_tee_tcb_svn;
	uint8_t tee_tcb_svn[16];    /**< default 05 01 02 00..: module ISVSVN 5, TDX_01, SEAM 2 */
	uint16_t qe_isvsvn;         /**< 0 = 8 */
	long pck_serial;            /**< 0 = random 63-bit */
	cct_sim_tdx_collateral_opts collateral; /**< the first collateral set */
} cct_sim_tdx_opts;

/** A simulated platform. Fields are readable; change them only through the functions. */
typedef struct cct_sim_tdx {
	EVP_PKEY *root_key, *pck_ca_key, *pck_key, *tcb_key, *att_key;
	X509 *root, *pck_ca, *pck, *tcb;
	uint8_t fmspc[6], pceid[2], ppid[16], cpusvn[16], sgx_comp[16];
	uint16_t pcesvn;
	uint8_t tee_tcb_svn[16], mrseam[48], mrsignerseam[48], seam_attributes[8];
	uint8_t qe_mrsigner[32], qe_mrenclave[32], qe_vendor_user_data[16];
	uint16_t qe_isvprodid, qe_isvsvn;
	/* current collateral: texts are the exact signed bytes */
	char *tcb_info, *qe_identity;
	uint8_t tcb_info_sig[64], qe_identity_sig[64];
	X509_CRL *root_crl, *pck_crl;
	char *bundle;               /**< QVL JSON bundle (NUL-terminated) */
	time_t coll_issue, coll_next_update;
} cct_sim_tdx;

/** Mint a new platform and its first collateral. *out freed with cct_sim_tdx_free(). */
int cct_sim_tdx_new(cct_sim_tdx **out, const cct_sim_tdx_opts *opts, cct_err *err);
/** NULL is fine. Private keys are freed by OpenSSL (which clears them). */
void cct_sim_tdx_free(cct_sim_tdx *t);

/** (Re)issue the collateral (TCB info, QE identity, both CRLs, bundle) under the simulated
 *  root, e.g. with another TCB status or validity window. opts NULL = defaults. */
int cct_sim_tdx_collateral(cct_sim_tdx *t, const cct_sim_tdx_collateral_opts *opts,
			   cct_err *err);

/** What goes into a quote. Zero-initialised = a v4 quote of a non-debug TD, all
 *  measurements zero, XFAM 0x61ae7. */
typedef struct cct_sim_tdx_quote_opts {
	uint16_t version;           /**< 4 (0 = 4) or 5 */
	uint16_t body_type;         /**< v5 only: 2 (TDX 1.0) or 3 (TDX 1.5; 0 = 3) */
	uint8_t report_data[64];    /**< REPORTDATA, verbatim */
	uint8_t mrtd[48];
	uint8_t rtmr[4][48];
	uint8_t mrconfigid[48];     /**< the composite puts the init-data digest here */
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint64_t td_attributes;     /**< TD_ATTRIBUTES, verbatim (little-endian in the quote) */
	int debug;                  /**< sets TD_ATTRIBUTES bit 0 (CCT_TDX_TD_ATTR_DEBUG) */
	uint64_t xfam;              /**< 0 = 0x61ae7 */
	uint8_t mrservicetd[48];    /**< body type 3 only */
} cct_sim_tdx_quote_opts;

/** A fresh signed quote: header (Intel QE vendor ID), TD report, ECDSA-P256 signature by the
 *  attestation key over header (+ v5 body descriptor) + body, certification data type 6: QE
 *  report signed by the PCK key with report_data = SHA-256(attestation key || QE auth data) ||
 *  0^32, QE auth data (32 bytes), nested type 5 PCK chain (PEM leaf, CA, root).
 *  *out is malloc'd (caller frees); opts NULL = defaults. */
int cct_sim_tdx_quote(uint8_t **out, size_t *len, const cct_sim_tdx *t,
		      const cct_sim_tdx_quote_opts *opts, cct_err *err);

/** The TDREPORT_STRUCT (1024 bytes) the TDX module would return for these fields
 *  (TDG.MR.REPORT): REPORTMACSTRUCT (type 0x81, CPUSVN, TEE_TCB_INFO / TDINFO hashes,
 *  REPORTDATA; the MAC zero), TEE_TCB_INFO of this platform, TDINFO. A quote made with the same
 *  opts has a body equal to it. */
int cct_sim_tdx_td_report(uint8_t out[1024], const cct_sim_tdx *t,
			  const cct_sim_tdx_quote_opts *opts);
/** The quoting enclave's side: a v4 quote over a TD report of this platform (its TEE_TCB_INFO
 *  must be this platform's, the stand-in for the MAC check). */
int cct_sim_tdx_quote_for_td_report(uint8_t **out, size_t *len, const cct_sim_tdx *t,
				    const uint8_t *td_report, size_t n, cct_err *err);

/** The simulated root certificate as PEM (malloc'd, NUL-terminated; NULL on failure). */
char *cct_sim_tdx_root_pem(const cct_sim_tdx *t);

/** Write the platform to sim_dir/tdx/ (created; see the layout above). */
int cct_sim_tdx_save(const cct_sim_tdx *t, const char *sim_dir, cct_err *err);
/** Read a platform saved by cct_sim_tdx_save() from sim_dir/tdx/ (keys checked against their
 *  certificates, collateral from collateral.json). EIO (missing file), EFORMAT (does not
 *  decode or keys do not match). */
int cct_sim_tdx_load(cct_sim_tdx **out, const char *sim_dir, cct_err *err);
/** Verifier side of --trust-sim DIR: only the public parts. *root_pem (malloc'd) receives
 *  sim_dir/tdx/root_ca.pem and *coll (if coll != NULL; free with cct_tdx_collateral_free())
 *  the collateral of sim_dir/tdx/collateral.json. */
int cct_sim_tdx_trust_load(uint8_t **root_pem, size_t *root_len, cct_tdx_collateral **coll,
			   const char *sim_dir, cct_err *err);

#endif
