/* Fuzz target: TDX quote parser + quote-only verification (no network, fixed clock). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_tdx_quote q;
	cct_tdx_result r;
	cct_tdx_verify_opts o;
	uint8_t *dec = NULL;
	size_t n = 0;

	cct_tdx_quote_parse(&q, data, size, NULL);
	memset(&o, 0, sizeof(o));
	o.at = 1700000000;
	o.quote_only = 1;
	cct_tdx_verify(&r, data, size, &o, NULL);
	if (cct_tdx_input_decode(&dec, &n, data, size, NULL) == CCT_OK)
		cct_tdx_quote_parse(&q, dec, n, NULL);
	free(dec);
	return 0;
}
