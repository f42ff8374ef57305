/* Fuzz target: TDX collateral JSON (QVL bundle, PCS tcbInfo/enclaveIdentity files, span scanner). */
#include <stdint.h>
#include <string.h>

#include "cctrust/tdx.h"
#include "tdx/tdx_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_tdx_collateral *c = NULL;
	tdx_tcb_info t;
	tdx_qe_identity q;
	size_t s, e;

	if (cct_tdx_collateral_load_bundle(&c, data, size, NULL) == CCT_OK)
		cct_tdx_collateral_free(c);
	if (cct_tdx__tcb_info_parse(&t, data, size, NULL) == CCT_OK)
		cct_tdx__tcb_info_clear(&t);
	if (cct_tdx__qe_identity_parse(&q, data, size, NULL) == CCT_OK)
		cct_tdx__qe_identity_clear(&q);
	if (cct_tdx__json_member_span(data, size, "tcbInfo", &s, &e) == CCT_OK &&
	    cct_tdx__tcb_info_parse(&t, data + s, e - s, NULL) == CCT_OK)
		cct_tdx__tcb_info_clear(&t);
	cct_tdx__json_member_span(data, size, "enclaveIdentity", &s, &e);
	return 0;
}
