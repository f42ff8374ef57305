/* libFuzzer: the evidence-file decoder every verify command reads its input with (raw
 * binary, hex text or base64 text, cct_input_decode) on any bytes. The first byte picks the
 * expected length (none, an SNP report's, a TDX quote's header or a small one); the decoded
 * bytes are never more than the input. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t expect[4] = { 0, 1184, 48, 4 };
	uint8_t *out = NULL;
	size_t n = 0;
	cct_err err;

	if (size < 1)
		return 0;
	if (cct_input_decode(&out, &n, data + 1, size - 1, expect[data[0] & 3], &err) == CCT_OK) {
		if (n > size - 1)
			abort(); /* decoding never grows the input */
		free(out);
	} else if (out) {
		abort(); /* a failure leaves nothing to free */
	}
	return 0;
}
