/* Fuzz target: TDX CC event log parser + replay (firmware CCEL, CCEL + AAEL, guest-components'
 * placeholder header + AAEL). First byte: bit 0 = also parse a 56-byte ACPI CCEL table taken
 * from the front of the rest. */
#include <stdint.h>
#include <string.h>

#include "cctrust/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_tdx_ccel c;
	cct_tdx_quote q;

	if (size < 1)
		return 0;
	memset(&q, 0, sizeof(q));
	if ((data[0] & 1) && size >= 57) {
		if (cct_tdx_ccel_parse(&c, data + 1, 56, data + 57, size - 57, NULL) == CCT_OK) {
			cct_tdx_ccel_check(&c, &q, NULL);
			cct_tdx_ccel_free(&c);
		}
		return 0;
	}
	if (cct_tdx_ccel_parse(&c, NULL, 0, data + 1, size - 1, NULL) == CCT_OK) {
		cct_tdx_ccel_check(&c, &q, NULL);
		cct_tdx_ccel_free(&c);
	}
	return 0;
}
