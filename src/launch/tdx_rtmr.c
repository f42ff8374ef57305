/* TDX direct boot RTMRs: not derived yet (expected.json says derived: false). */
#include "launch/launch_int.h"

int cct_launch__tdx_rtmrs(cct_launch_values *v, const cct_launch_plan *p, const uint8_t *k,
			  size_t kn, const uint8_t *i, size_t in, cct_err *err)
{
	(void)v, (void)p, (void)k, (void)kn, (void)i, (void)in, (void)err;
	return CCT_OK;
}
