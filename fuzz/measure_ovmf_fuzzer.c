/* Fuzz target: OVMF footer table + SEV metadata, TDVF metadata, and the launch digest / MRTD
 * computations driven by them (inputs capped so a run stays fast). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/measure.h"

#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_measure_ovmf *o;
	cct_measure_tdvf *t;
	cct_measure_snp_opts opts;
	uint8_t out[48];
	size_t n = 0;
	cct_err err;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	o = malloc(sizeof(*o));
	t = malloc(sizeof(*t));
	if (!o || !t)
		goto out;
	(void)cct_measure_ovmf_parse(o, data, size, &err);
	if (cct_measure_tdvf_parse(t, data, size, &err) == CCT_OK) {
		uint64_t total = 0;
		size_t i;

		for (i = 0; i < t->section_count; i++)
			total += t->sections[i].mem_size;
		if (total <= 16u * 1024 * 1024) /* keep the MRTD walk short */
			(void)cct_measure_tdx_mrtd(out, t, (int)(size & 1), &err);
	}
	memset(&opts, 0, sizeof(opts));
	opts.ovmf = data;
	opts.ovmf_size = size;
	opts.vcpus = 2;
	opts.vcpu_sig = 0x00800f12;
	opts.guest_features = 1;
	opts.has_kernel = 1;
	if (cct_measure_ovmf_parse(o, data, size, &err) == CCT_OK) {
		uint64_t total = 0;
		size_t i;

		for (i = 0; i < o->section_count; i++)
			total += o->sections[i].size;
		if (total <= 16u * 1024 * 1024) {
			(void)cct_measure_launch_digest(out, &n, &opts, &err);
			opts.mode = CCT_MEASURE_MODE_SEVES;
			(void)cct_measure_launch_digest(out, &n, &opts, &err);
		}
	}
out:
	free(o);
	free(t);
	return 0;
}
