/* Fuzz target: RIM (SWID XML) parser and its XML signature check (libxml2 + xmlsec1). */
#include <stdint.h>
#include <stdlib.h>

#include "nvgpu/rim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_rim *rim = NULL;
	cct_err err;

	if (cct_rim_parse(&rim, data, size, &err) != CCT_OK)
		return 0;
	(void)cct_rim_verify_signature(rim, "fuzz", &err);
	(void)cct_rim_find(rim, 0);
	cct_rim_free(rim);
	return 0;
}
