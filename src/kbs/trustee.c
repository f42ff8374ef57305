#define _GNU_SOURCE
/* Trustee conventions the broker maps onto cctrust's own (see docs/kbs.md, compatibility):
 * TEE names of the KBS protocol, attestation policy ids (default_cpu, default_gpu, custom),
 * Rego bodies (refused, naming the cctrust equivalent), and the effective attestation policy
 * (stored default + default_gpu's "gpu" section + reference values). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/store.h"
#include "kbs/kbs_int.h"

int cct_kbs__tee_known(const char *tee)
{
	/* kbs-types 0.18 Tee names (serde lowercase); others fail deserialization in Trustee */
	static const char *const tees[] = { "agent", "azsnpvtpm", "aztdxvtpm", "cca", "csv",
					    "hygondcu", "sample", "sampledevice", "se", "sev",
					    "sgx", "snp", "tdx", "tpm", "nvidia" };
	size_t i;

	for (i = 0; tee && i < sizeof(tees) / sizeof(tees[0]); i++)
		if (!strcmp(tee, tees[i]))
			return 1;
	return 0;
}

const char *cct_kbs__rego_detail(const char *text, int attestation)
{
	json_t *j;

	if (!text)
		return NULL;
	j = json_loads(text, 0, NULL);
	if (j) {
		json_decref(j);
		return NULL;
	}
	if (!strstr(text, "package ") && !strstr(text, "default allow") &&
	    !strstr(text, "import rego") && !strstr(text, "import future"))
		return NULL;
	return attestation
		       ? "Rego is not supported: attestation policies are cctrust.policy/v1 JSON "
			 "(docs/policy.md); Trustee's default_cpu/default_gpu is "
			 "{\"version\":\"cctrust.policy/v1\"} (debug refused, GPUs in CC mode), "
			 "reference values are named \"rv:NAME\""
		       : "Rego is not supported: resource policies are JSON (docs/kbs.md); "
			 "Trustee's default is {\"version\":1,\"rules\":[{\"name\":\"a\","
			 "\"resources\":[\"*/*/*\"],\"require\":[{\"all_submods\":"
			 "\"affirming\"}]}]}";
}

int cct_kbs__att_policy_id(const char *id, const char **store_as, int *active, cct_err *err)
{
	*active = 0;
	*store_as = NULL;
	if (!id || !strcmp(id, "default") || !strcmp(id, "default_cpu")) {
		/* Trustee's CPU default: cctrust's one policy covers the CPU and its GPUs */
		*store_as = "default";
		*active = 1;
		return CCT_OK;
	}
	if (!strcmp(id, "default_gpu")) { /* its "gpu" section overrides the default's */
		*store_as = "default_gpu";
		*active = 1;
		return CCT_OK;
	}
	if (!*id || strlen(id) > 64 ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		    strlen(id))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "policy_id must be 1..64 of [A-Za-z0-9._-]");
	*store_as = id; /* stored, but appraisal uses default (+ default_gpu): said in the reply */
	return CCT_OK;
}

/* A sealed row as text (integrity checked: docs/security.md). NULL when absent; a row that
 * fails its check also sets *tampered and names itself in tampered_what. */
typedef struct rv_ctx {
	cct_store *st;
	int tampered;
	char what[160];
} rv_ctx;

static char *obj_text(rv_ctx *c, const char *kind, const char *name)
{
	uint8_t *v = NULL, *t;
	size_t n = 0;
	int rc = cct_store_sealed_get(c->st, kind, name, &v, &n, NULL);

	if (rc != CCT_OK) {
		if (rc != CCT_EINVAL && !c->tampered) {
			c->tampered = 1;
			snprintf(c->what, sizeof(c->what), "%s/%.100s", kind, name);
		}
		return NULL;
	}
	if (!(t = realloc(v, n + 1))) {
		free(v);
		return NULL;
	}
	t[n] = 0;
	return (char *)t;
}

static char *refval_get(void *ctx, const char *name)
{
	return obj_text(ctx, CCT_STORE_KIND_REFVAL, name);
}

int cct_kbs__att_policy_effective(char **out, cct_store *st, const char *fallback,
				  char base_digest[65], cct_err *err)
{
	rv_ctx c = { st, 0, "" };
	char *base = obj_text(&c, CCT_STORE_KIND_ATT_POLICY, "default");
	char *gpu = obj_text(&c, CCT_STORE_KIND_ATT_POLICY, "default_gpu");
	char *merged = NULL;
	int rc = CCT_OK;

	*out = NULL;
	if (c.tampered)
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_POLICY, 0,
				 "stored row %s fails its integrity check", c.what);
	if (rc == CCT_OK && !base && fallback && !(base = strdup(fallback)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (base_digest) {
		base_digest[0] = 0;
		if (base)
			cct_kbs__sha256_hex(base_digest, base, strlen(base));
	}
	/* fail closed: default_gpu only amends the CPU default; without one (never set, or its
	 * row deleted) there is no attestation policy, not the empty CPU policy plus a GPU part */
	if (rc == CCT_OK && gpu && base) {
		json_t *b = json_loads(base, 0, NULL);
		json_t *g = json_loads(gpu, 0, NULL);

		if (!json_is_object(b) || !json_is_object(json_object_get(g, "gpu")))
			rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
					 "stored policies default / default_gpu do not combine "
					 "(default_gpu needs a \"gpu\" section)");
		else {
			json_object_set(b, "gpu", json_object_get(g, "gpu"));
			if (!(merged = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS)))
				rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0,
						 "out of memory");
		}
		json_decref(b);
		json_decref(g);
		if (merged) {
			free(base);
			base = merged;
		}
	}
	if (rc == CCT_OK && base)
		rc = cct_kbs__rvps_apply(out, base, refval_get, &c, err);
	if (rc == CCT_OK && c.tampered) {
		free(*out);
		*out = NULL;
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_POLICY, 0,
				 "stored row %s fails its integrity check", c.what);
	}
	free(base);
	free(gpu);
	return rc;
}

int cct_kbs__rvps_apply_store(char **out, const char *policy, cct_store *st, cct_err *err)
{
	rv_ctx c = { st, 0, "" };
	int rc = cct_kbs__rvps_apply(out, policy, refval_get, &c, err);

	if (rc == CCT_OK && c.tampered) {
		free(*out);
		*out = NULL;
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_POLICY, 0,
				 "stored row %s fails its integrity check", c.what);
	}
	return rc;
}
