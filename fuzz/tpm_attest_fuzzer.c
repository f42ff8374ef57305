/* Fuzz target: TPMS_ATTEST (quote) parser, AK (TPMT_PUBLIC / TPM2B_PUBLIC) parser, and quote
 * verification of the input against a key parsed from the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_tpm_quote q;
	cct_tpm_ak *ak = NULL;
	cct_tpm_pcrs pcrs;
	size_t half = size / 2;

	memset(&pcrs, 0, sizeof(pcrs));
	if (cct_tpm_quote_parse(&q, data, size, NULL) == CCT_OK && q.extra_len < 3)
		(void)q;
	if (cct_tpm_ak_load(&ak, data, size, NULL) == CCT_OK)
		cct_tpm_ak_free(ak);
	ak = NULL;
	/* first half: a key; second half: quote; the signature is the rest of the input */
	if (cct_tpm_ak_load(&ak, data, half, NULL) == CCT_OK) {
		if (cct_tpm_quote_parse(&q, data + half, size - half, NULL) == CCT_OK)
			cct_tpm_quote_verify(NULL, &q, data + half, size - half, data, half, ak,
					     NULL, 0, &pcrs, NULL);
		cct_tpm_ak_free(ak);
	}
	return 0;
}
