/* Fuzz target: SPDM GET_MEASUREMENTS request + MEASUREMENTS response parser, opaque lookups. */
#include <stdint.h>
#include <stdlib.h>

#include "nvgpu/spdm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cct_spdm_evidence ev;
	cct_err err;
	char txt[64];
	size_t i;

	if (cct_spdm_evidence_parse(&ev, data, size, &err) != CCT_OK)
		return 0;
	/* a parse covers the input exactly: signed bytes, signature, zero padding */
	if (ev.signed_size + CCT_SPDM_SIG_SIZE + ev.padding_size != size || ev.size != size)
		abort();
	for (i = ev.signed_size + CCT_SPDM_SIG_SIZE; i < size; i++)
		if (data[i])
			abort();
	for (i = 0; i < ev.field_count; i++) {
		cct_spdm_opaque_text(&ev.fields[i], txt, sizeof(txt));
		(void)cct_spdm_opaque_name(ev.fields[i].type, (int)(i & 1));
	}
	for (i = 0; i < 256; i++)
		(void)cct_spdm_block_find(&ev, (unsigned)i);
	return 0;
}
