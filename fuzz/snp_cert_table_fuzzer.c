/* libFuzzer: GHCB certificate table parser and the certificate intake behind it. */
#include "cctrust/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_snp_verifier *v;
	cct_err err;

	if (cct_snp_verifier_new(&v, &err) != CCT_OK)
		return 0;
	cct_snp_verifier_add_cert_table(v, data, size, &err);
	cct_snp_verifier_free(v);
	return 0;
}
