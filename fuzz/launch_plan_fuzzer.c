/* Fuzz target: launch plans (the TOML reader with arrays and radix integers, then every plan
 * key's checks), and the diagnose evidence front end (KBS request / raw report / quote detection)
 * on the same bytes against a fixed plan whose firmware cannot be read (so only parsing runs). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/launch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_launch_plan p;
	cct_err err;
	json_t *o = NULL;
	static const char fixed[] = "tee = \"snp\"\nfirmware = \"/nonexistent/cctrust-fuzz.fd\"\n"
				    "vcpus = 2\n";

	if (cct_launch_plan_parse(&p, (const char *)data, size, "/nonexistent", &err) == CCT_OK)
		cct_launch_plan_clear(&p);
	if (cct_launch_plan_parse(&p, fixed, sizeof(fixed) - 1, NULL, &err) == CCT_OK) {
		(void)cct_launch_diagnose(&o, &p, data, size, &err);
		json_decref(o);
		cct_launch_plan_clear(&p);
	}
	return 0;
}
