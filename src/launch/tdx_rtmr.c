/* TDX direct boot: RTMR1 / RTMR2 of the plan's kernel, initrd and command line
 * (cct_measure_tdx_direct_boot), with the event list for comparison with a CCEL replay. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "launch/launch_int.h"

int cct_launch__memory_bytes(uint64_t *out, const char *s)
{
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10), mul = 1024ull * 1024ull; /* QEMU: MiB */

	if (!end || end == s)
		return CCT_EINVAL;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': mul = 1024ull; break;
	case 'm': case 'M': mul = 1024ull * 1024ull; break;
	case 'g': case 'G': mul = 1024ull * 1024ull * 1024ull; break;
	case 't': case 'T': mul = 1024ull * 1024ull * 1024ull * 1024ull; break;
	default: return CCT_EINVAL;
	}
	if (*end && end[1])
		return CCT_EINVAL;
	if (v > UINT64_MAX / mul)
		return CCT_EINVAL;
	*out = v * mul;
	return CCT_OK;
}

int cct_launch__tdx_rtmrs(cct_launch_values *v, const cct_launch_plan *p, const uint8_t *k,
			  size_t kn, const uint8_t *i, size_t in, cct_err *err)
{
	cct_measure_tdx_boot *b = calloc(1, sizeof(*b));
	uint64_t ram = 0;
	size_t e;
	int rc;

	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (cct_launch__memory_bytes(&ram, p->memory) != CCT_OK) {
		free(b);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "launch plan: memory: "
									"not a size");
	}
	rc = cct_measure_tdx_direct_boot(b, k, kn, p->initrd ? i : NULL, in, p->cmdline, ram, err);
	if (rc != CCT_OK) {
		free(b);
		return rc;
	}
	memcpy(v->rtmr1, b->rtmr[1], 48);
	memcpy(v->rtmr2, b->rtmr[2], 48);
	v->has_rtmr12 = 1;
	v->rtmr_events = json_array();
	for (e = 0; e < b->count; e++) {
		char h[97];

		cct_hex_encode(h, b->events[e].sha384, 48);
		json_array_append_new(v->rtmr_events,
				      json_pack("{s:i,s:i,s:I,s:s,s:s}", "rtmr",
						(int)b->events[e].rtmr, "mr_index",
						(int)b->events[e].rtmr + 1, "event_type",
						(json_int_t)b->events[e].event_type, "description",
						b->events[e].description, "sha384", h));
	}
	free(b);
	return CCT_OK;
}
