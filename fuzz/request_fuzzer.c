/* Fuzz target: a KBS 0.4.0 attest request body through the whole composite path (shape checks,
 * init-data TOML, virtee serde re-encoding, base64, SNP report parse, JCS binding, policy), offline
 * with no trusted simulated roots: nothing may crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>

#include "cctrust/composite.h"
#include "composite/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cct_policy *pol;
	cct_composite_opts o = { 0 };
	cct_composite_result r;
	json_t *toml = NULL;
	cct_err err;

	if (!pol && cct_policy_default(&pol, NULL) != CCT_OK)
		abort();
	o.offline = 1;
	o.at = 1700000000;
	cct_composite_verify(&r, data, size, pol, &o, NULL);
	if (!r.result || (r.status == CCT_OK)) /* nothing verifies without trusted roots */
		abort();
	cct_composite_result_clear(&r);
	/* the init-data TOML reader on its own */
	if (cct_composite__toml_parse(&toml, (const char *)data, size, &err) == CCT_OK)
		json_decref(toml);
	return 0;
}
