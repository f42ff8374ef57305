/* SNP claims as jansson objects (semi-private helpers; the public entry is cct_snp_claims in cctrust/snp.h). */
#ifndef CCT_SNP_CLAIMS_H
#define CCT_SNP_CLAIMS_H

#include <jansson.h>

#include "cctrust/snp.h"

/* New reference. res may be NULL (parse-only). */
json_t *cct_snp__claims(const cct_snp_report *rep, const cct_snp_result *res);
json_t *cct_snp__tcb_json(uint64_t raw, cct_snp_product p);

#endif
