/* SEV-SNP collateral keys and validation for bundles (semi-private). */
#ifndef CCT_SNP_COLL_H
#define CCT_SNP_COLL_H

#include "cctrust/collateral.h"
#include "cctrust/snp.h"

/* Bundle key "<Product>/<hwid>/<blSPL_n_...>" and KDS path "/vcek/v1/<Product>/<hwid>?..."
 * of the VCEK for rep under product p (either output may be NULL). */
void cct_snp__vcek_key(char *key, size_t keysz, char *path, size_t pathsz,
		       const cct_snp_report *rep, cct_snp_product p);
/* Validate an SNP item (snp-vcek, snp-ask-ark, snp-vlek-chain, snp-crl) at time at: chain to
 * a pinned ARK (VCEK via the pinned ASK), CRL signed by the pinned ARK. Fills the item's
 * not_before/not_after/next_update. */
int cct_snp__coll_validate(cct_coll_item *it, const uint8_t *p, size_t n, time_t at, cct_err *err);

#endif
