/* libFuzzer: SEV-SNP report parser, claims serialisation and policy checks on any bytes. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_snp_report rep;
	cct_snp_policy pol;
	cct_err err;
	char *json;

	if (cct_snp_report_parse(&rep, data, size, &err) != CCT_OK)
		return 0;
	json = cct_snp_claims_json(&rep, NULL);
	free(json);
	cct_snp_policy_init(&pol);
	pol.has_report_data = 1;
	cct_snp_policy_check(&rep, cct_snp_report_product(&rep), &pol, &err);
	return 0;
}
