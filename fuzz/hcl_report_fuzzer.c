/* Fuzz target: the Azure HCL report parser, and az-snp-vtpm evidence JSON verification
 * (fixed clock, offline: no network). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_hcl_report h;
	cct_vtpm_opts o;
	uint8_t hash[64];
	char *claims = NULL;

	if (cct_hcl_report_parse(&h, data, size, NULL) == CCT_OK)
		cct_hcl_runtime_hash(&h, hash);
	if (size && data[0] == '{') {
		memset(&o, 0, sizeof(o));
		o.at = 1700000000;
		o.offline = 1;
		cct_vtpm_verify_json(&claims, (const char *)data, size, &o, NULL);
		free(claims);
	}
	return 0;
}
