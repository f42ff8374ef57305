/* Fuzz target: the TCG event-log engine (TPM and CCEL), its JSON view with decoded events,
 * and a comparison against fixed registers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[64];
	cct_evlog log;
	cct_tpm_pcrs want;
	int kind;

	memset(&want, 0, sizeof(want));
	cct_tpm_pcrs_set(&want, CCT_TPM_ALG_SHA256, 7, zero, 32, NULL);
	cct_tpm_pcrs_set(&want, CCT_TPM_ALG_SHA384, 1, zero, 48, NULL);
	for (kind = CCT_EVLOG_TPM; kind <= CCT_EVLOG_CCEL; kind++) {
		if (cct_evlog_parse(&log, data, size, (cct_evlog_kind)kind, NULL) != CCT_OK)
			continue;
		free(cct_evlog_json(&log, 1));
		cct_evlog_compare(&log, &want, NULL);
		cct_evlog_free(&log);
	}
	return 0;
}
