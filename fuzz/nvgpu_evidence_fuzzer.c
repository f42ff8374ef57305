/* libFuzzer: NVIDIA GPU / NVSwitch evidence documents as `gpu verify` and `gpu show` read them
 * from files, standard input or a guest (nvtrust's serialized list, or an object with
 * "device_evidence_list"): cct_nvgpu_evidence_list_parse, then the descriptive view of every
 * entry (SPDM request, response, measurement blocks, opaque fields, certificate chain). A
 * parsed list has at most CCT_NVGPU_MAX_DEVICES entries; a failure leaves nothing to free. */
#include <stdlib.h>

#include "cctrust/core.h"
#include "cctrust/nvgpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_nvgpu_evidence_list *l = NULL;
	char *shown = NULL;
	cct_err err;

	if (cct_nvgpu_evidence_list_parse(&l, data, size, &err) != CCT_OK) {
		if (l)
			abort();
		return 0;
	}
	if (!l || cct_nvgpu_evidence_list_count(l) > CCT_NVGPU_MAX_DEVICES)
		abort();
	if (cct_nvgpu_evidence_show(&shown, l, &err) == CCT_OK && !shown)
		abort();
	free(shown);
	cct_nvgpu_evidence_list_free(l);
	return 0;
}
