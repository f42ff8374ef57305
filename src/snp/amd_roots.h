/* Pinned AMD certificates (semi-private). */
#ifndef CCT_SNP_AMD_ROOTS_H
#define CCT_SNP_AMD_ROOTS_H

#include <stddef.h>

#include "cctrust/snp.h"

typedef struct cct_snp_amd_cert {
	cct_snp_product product;
	const char *kind; /* "ark", "ask", "asvk" */
	const char *pem;
} cct_snp_amd_cert;

extern const cct_snp_amd_cert cct_snp_amd_certs[];
extern const size_t cct_snp_amd_cert_count;

#endif
