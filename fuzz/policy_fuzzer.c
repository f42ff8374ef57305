/* Fuzz target: policy documents: load/validate, then evaluate against fixed SNP claims and a
 * GPU device list, so every rule's value handling runs on hostile input; and the formats of
 * earlier releases (kind detection and conversion, as `--policy` and `policy convert` read
 * them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a legacy policy read as each verifier's --policy and as `policy convert` (kind detected) */
static void legacy(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "snp", "tdx", "gpu", NULL };
	cct_policy *pol = NULL;
	json_t *doc = NULL, *out = NULL, *warnings = json_array();
	cct_err err;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (cct_policy_load_any(&pol, (const char *)data, size, kinds[i], NULL, warnings,
					&err) == CCT_OK)
			cct_policy_free(pol);
		pol = NULL;
	}
	if ((doc = json_loadb((const char *)data, size, 0, NULL)) != NULL &&
	    cct_policy_convert(&out, doc, NULL, warnings, &err) == CCT_OK)
		json_decref(out);
	json_decref(doc);
	json_decref(warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cct_policy *pol = NULL;
	cct_err err;
	json_t *claims, *nv, *cpu_f, *gpu_f[2], *gpu_c[2];
	cct_policy_claims c;
	json_t *init_claims;
	uint8_t init_digest[48] = {0};

	legacy(data, size);
	if (cct_policy_load(&pol, (const char *)data, size, &err) != CCT_OK)
		return 0;
	claims = json_loads("{\"measurement\":\"ab\",\"vmpl\":1,\"guest_svn\":3,\"product\":\"Milan\","
			    "\"current_version\":\"1.55.2\",\"signing_key\":\"vcek\",\"policy_bits\":"
			    "{\"debug\":true,\"smt\":true,\"migrate_ma\":true},\"reported_tcb\":"
			    "{\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":115}}",
			    0, NULL);
	nv = json_loads("{\"device_evidence_list\":[{\"arch\":\"HOPPER\"},{\"arch\":\"BLACKWELL\","
			"\"cc_mode\":\"off\"}],\"cc_mode\":\"on\",\"ppcie_mode\":true}",
			0, NULL);
	gpu_c[0] = json_loads("{\"measres\":\"success\",\"x-nvidia-gpu-driver-version\":\"550.54.15\","
			      "\"x-nvidia-gpu-vbios-version\":\"96.00.9F.00.04\",\"arch\":\"HOPPER\"}",
			      0, NULL);
	gpu_c[1] = NULL;
	init_claims = json_loads("{\"algorithm\":\"sha384\",\"data\":{\"model\":\"m@r:00\"}}", 0, NULL);
	cpu_f = json_array();
	gpu_f[0] = json_array();
	gpu_f[1] = json_array();
	memset(&c, 0, sizeof(c));
	c.tee = (size & 1) ? "snp" : "tdx";
	c.cpu_claims = claims;
	c.gpu_claims = (const json_t *const *)gpu_c;
	c.gpu_count = 2;
	c.nvidia = nv;
	c.gpu_devices = json_object_get(nv, "device_evidence_list");
	c.init_present = 1;
	c.init_digest = init_digest;
	c.init_digest_len = sizeof(init_digest);
	c.init_claims = init_claims;
	c.binding_checked = 1;
	cct_policy_evaluate(pol, &c, cpu_f, gpu_f);
	json_decref(cpu_f);
	json_decref(gpu_f[0]);
	json_decref(gpu_f[1]);
	json_decref(gpu_c[0]);
	json_decref(claims);
	json_decref(nv);
	json_decref(init_claims);
	cct_policy_free(pol);
	return 0;
}
