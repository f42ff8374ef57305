/* SEV-SNP collateral keys and validation for bundles (semi-private). */
#ifndef CCT_SNP_COLL_H
#define CCT_SNP_COLL_H

#include "cctrust/collateral.h"
#include "cctrust/snp.h"

/* AMD VCEK/VLEK certificate extensions (AMD "VCEK certificate and KDS interface spec"; the
 * same OIDs as src/snp/verify.c reads for the TCB binding). */
#define CCT_SNP_OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define CCT_SNP_OID_BL_SPL "1.3.6.1.4.1.3704.1.3.1"
#define CCT_SNP_OID_TEE_SPL "1.3.6.1.4.1.3704.1.3.2"
#define CCT_SNP_OID_SNP_SPL "1.3.6.1.4.1.3704.1.3.3"
#define CCT_SNP_OID_UCODE_SPL "1.3.6.1.4.1.3704.1.3.8"
#define CCT_SNP_OID_FMC_SPL "1.3.6.1.4.1.3704.1.3.9"
#define CCT_SNP_OID_HWID "1.3.6.1.4.1.3704.1.4"

/* Bundle key "<Product>/<hwid>/<blSPL_n_...>" and KDS path "/vcek/v1/<Product>/<hwid>?..."
 * of the VCEK for rep under product p (either output may be NULL). */
void cct_snp__vcek_key(char *key, size_t keysz, char *path, size_t pathsz,
		       const cct_snp_report *rep, cct_snp_product p);
/* Validate an SNP item (snp-vcek, snp-ask-ark, snp-vlek-chain, snp-crl) at time at: chain to
 * a pinned ARK (VCEK via the pinned ASK), CRL signed by the pinned ARK, and the content is
 * what the item's key names: the ARK of the key's product, and for a VCEK the key's hwID and
 * TCB (bl/tee/snp/ucode SPL, fmcSPL for Turin) in its extensions (ECOLLATERAL naming key and
 * content; a malformed key: EFORMAT). Fills the item's not_before/not_after/next_update. */
int cct_snp__coll_validate(cct_coll_item *it, const uint8_t *p, size_t n, time_t at, cct_err *err);

#endif
