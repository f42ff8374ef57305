/* Fuzz target: the az-tdx-vtpm parse path: an HCL report holding a TD report
 * (cct_hcl_report_parse + cct_td_report_parse), and the comparison of that TD report with a
 * parsed TD quote (cct_td_report_match_quote). Input: u16le length L, then L bytes of HCL
 * report (or a bare TD report), then a TD quote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/tdx.h"
#include "cctrust/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_hcl_report h;
	cct_td_report r;
	cct_tdx_quote q;
	const uint8_t *rep = NULL, *quote;
	size_t l, rn = 0;

	if (size < 2)
		return 0;
	l = (size_t)data[0] | (size_t)data[1] << 8;
	if (l > size - 2)
		l = size - 2;
	if (cct_hcl_report_parse(&h, data + 2, l, NULL) == CCT_OK) {
		if (h.report_type == CCT_HCL_REPORT_TYPE_TDX) {
			rep = h.hw_report;
			rn = CCT_HCL_HW_REPORT_SIZE;
		}
	} else {
		rep = data + 2;
		rn = l;
	}
	if (!rep || cct_td_report_parse(&r, rep, rn, NULL) != CCT_OK)
		return 0;
	quote = data + 2 + l;
	if (cct_tdx_quote_parse(&q, quote, size - 2 - l, NULL) == CCT_OK)
		cct_td_report_match_quote(&r, &q, NULL);
	return 0;
}
