/* Pinned AMD certificates (semi-private). */
#ifndef CCT_SNP_AMD_ROOTS_H
#define CCT_SNP_AMD_ROOTS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "cctrust/snp.h"

typedef struct cct_snp_amd_cert {
	cct_snp_product product;
	const char *kind; /* "ark", "ask", "asvk" */
	const char *pem;
} cct_snp_amd_cert;

extern const cct_snp_amd_cert cct_snp_amd_certs[];
extern const size_t cct_snp_amd_cert_count;

/* cct_snp_amd_certs[i] decoded, once per process and frozen (cct_x509_freeze): shared and
 * read-only, X509_up_ref to keep it. NULL when i is out of range or the PEM does not decode. */
X509 *cct_snp__amd_cert_x509(size_t i);

#endif
