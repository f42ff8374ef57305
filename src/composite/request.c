/* KBS protocol 0.4.0 attest request body: shape checks, evidence type detection and Trustee's
 * runtime-data binding values.
 *
 * {"init-data"?: {"format","body"},
 *  "runtime-data": {"nonce": "<b64>", "tee-pubkey": JWK},
 *  "tee-evidence": {"primary_evidence": {...}, "additional_evidence": "<JSON string>" | ""}} */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/token.h"
#include "composite/internal.h"


static int shape(cct_err *err, const char *fmt, const char *name)
{
	return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, fmt, name);
}

/* Only members from the known set are allowed in objects we interpret. */
static int only_keys(const json_t *o, const char *const *allowed, const char *where,
		     cct_err *err)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v) {
		int ok = 0;

		(void)v;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(k, allowed[i]))
				ok = 1;
		if (!ok)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "%s: unknown member \"%.60s\"", where, k);
	}
	return CCT_OK;
}

static cct_cpu_form detect_cpu(const json_t *p, const char **tee)
{
	const char *prov;

	if (json_object_get(p, "attestation_report")) {
		*tee = "snp";
		return CCT_CPU_SNP_SERDE;
	}
	if (json_object_get(p, "outblob")) {
		prov = json_string_value(json_object_get(p, "provider"));
		if (prov && !strncmp(prov, "tdx", 3)) {
			*tee = "tdx";
			return CCT_CPU_TDX;
		}
		*tee = "snp";
		return CCT_CPU_SNP_TSM;
	}
	if (json_object_get(p, "hcl_report") && json_object_get(p, "td_quote")) {
		*tee = "az-tdx-vtpm";
		return CCT_CPU_AZ_TDX_VTPM;
	}
	if (json_object_get(p, "hcl_report") ||
	    (json_object_get(p, "report") && json_object_get(p, "quote") &&
	     json_object_get(p, "vcek"))) {
		*tee = "az-snp-vtpm";
		return CCT_CPU_AZ_SNP_VTPM;
	}
	if (json_object_get(p, "report")) {
		*tee = "snp";
		return CCT_CPU_SNP_RAW;
	}
	if (json_object_get(p, "quote")) {
		*tee = "tdx";
		return CCT_CPU_TDX;
	}
	*tee = NULL;
	return CCT_CPU_UNKNOWN;
}

int cct_composite__request_parse(cct_request *out, const uint8_t *body, size_t len,
			      const char *tee_hint, cct_err *err)
{
	return cct_composite__request_parse_root(out, body, len, NULL, tee_hint, err);
}

int cct_composite__request_parse_root(cct_request *out, const uint8_t *body, size_t len,
				   const json_t *root, const char *tee_hint, cct_err *err)
{
	static const char *const top_keys[] = { "runtime-data", "init-data", "tee-evidence", NULL };
	static const char *const rd_keys[] = { "nonce", "tee-pubkey", NULL };
	static const char *const te_keys[] = { "primary_evidence", "additional_evidence", "tee",
					       NULL };
	json_error_t je;
	const json_t *te, *add, *nv, *t;
	const char *tee = NULL;
	uint8_t *nb = NULL;
	size_t nn = 0;
	int rc = CCT_ERROR;

	memset(out, 0, sizeof(*out));
	if (!body && len)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	if (len > CCT_COMPOSITE_MAX_REQUEST)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "request body is %zu bytes; the limit is %u", len,
				   CCT_COMPOSITE_MAX_REQUEST);
	out->root = root ? json_incref((json_t *)root)
			 : json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
	if (!out->root) {
		rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, (size_t)je.position,
				 "request is not valid JSON: %s (line %d)", je.text, je.line);
		goto out;
	}
	if (!json_is_object(out->root)) {
		rc = shape(err, "%s must be a JSON object", "the attest request");
		goto out;
	}
	if (cct_policy__json_depth(out->root) > CCT_POLICY_MAX_DEPTH) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				 "request nests deeper than %d levels", CCT_POLICY_MAX_DEPTH);
		goto out;
	}
	if ((rc = only_keys(out->root, top_keys, "attest request", err)) != CCT_OK)
		goto out;
	rc = CCT_ERROR;
	out->runtime_data = json_object_get(out->root, "runtime-data");
	if (!out->runtime_data)
		goto evidence; /* only with a caller binding (cct_composite_opts.bound_report_data):
				  composite.c refuses a request without runtime-data otherwise */
	if (!json_is_object(out->runtime_data)) {
		rc = shape(err, "%s: missing or not an object", "runtime-data");
		goto out;
	}
	if ((rc = only_keys(out->runtime_data, rd_keys, "runtime-data", err)) != CCT_OK)
		goto out;
	rc = CCT_ERROR;
	out->nonce = json_string_value(json_object_get(out->runtime_data, "nonce"));
	if (!out->nonce) {
		rc = shape(err, "%s: missing or not a string", "runtime-data.nonce");
		goto out;
	}
	if (cct_b64_decode(&nb, &nn, out->nonce, strlen(out->nonce), NULL) != CCT_OK || nn == 0) {
		rc = shape(err, "%s: not base64", "runtime-data.nonce");
		goto out;
	}
	out->tee_pubkey = json_object_get(out->runtime_data, "tee-pubkey");
	if (!json_is_object(out->tee_pubkey) ||
	    !json_is_string(json_object_get(out->tee_pubkey, "kty"))) {
		rc = shape(err, "%s: missing or not a JWK object with \"kty\"",
			   "runtime-data.tee-pubkey");
		goto out;
	}
	if (cct_token_jwk_private_member(out->tee_pubkey)) { /* the EAR carries this JWK */
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "runtime-data.tee-pubkey carries the private key member \"%s\": "
				 "send the public key only (the attestation result would carry it)",
				 cct_token_jwk_private_member(out->tee_pubkey));
		goto out;
	}
evidence:
	out->init_data = json_object_get(out->root, "init-data");
	if (json_is_null(out->init_data))
		out->init_data = NULL;
	if (out->init_data && !json_is_object(out->init_data)) {
		rc = shape(err, "%s: not an object {\"format\",\"body\"}", "init-data");
		goto out;
	}
	te = json_object_get(out->root, "tee-evidence");
	if (!json_is_object(te)) {
		rc = shape(err, "%s: missing or not an object", "tee-evidence");
		goto out;
	}
	if ((rc = only_keys(te, te_keys, "tee-evidence", err)) != CCT_OK)
		goto out;
	rc = CCT_ERROR;
	out->primary = json_object_get(te, "primary_evidence");
	if (!json_is_object(out->primary)) {
		rc = shape(err, "%s: missing or not an object", "tee-evidence.primary_evidence");
		goto out;
	}
	add = json_object_get(te, "additional_evidence");
	if (add && !json_is_string(add) && !json_is_null(add)) {
		rc = shape(err, "%s: must be a JSON string (Trustee sends the GPU evidence JSON as a "
				"string)",
			   "tee-evidence.additional_evidence");
		goto out;
	}
	out->additional = add && json_is_string(add) ? json_string_value(add) : "";
	if (out->additional[0]) {
		out->additional_doc = json_loads(out->additional, JSON_REJECT_DUPLICATES, &je);
		if (!out->additional_doc || !json_is_object(out->additional_doc)) {
			rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
					 "tee-evidence.additional_evidence: not a JSON object text "
					 "(%s)",
					 out->additional_doc ? "not an object" : je.text);
			goto out;
		}
		if (cct_policy__json_depth(out->additional_doc) > CCT_POLICY_MAX_DEPTH) {
			rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
					 "additional_evidence nests too deep");
			goto out;
		}
		nv = json_object_get(out->additional_doc, "nvidia");
		if (nv && json_is_object(nv)) {
			out->nvidia = nv;
			out->gpu_devices = json_object_get(nv, "device_evidence_list");
		} else if (nv && json_is_array(nv)) {
			out->gpu_devices = nv; /* NVIDIA's own [{"arch","nonce","evidence",..}] */
		}
		if (nv && !out->gpu_devices) {
			rc = shape(err, "%s: no device_evidence_list", "additional_evidence.nvidia");
			goto out;
		}
		if (out->gpu_devices && !json_is_array(out->gpu_devices)) {
			rc = shape(err, "%s: not an array", "nvidia.device_evidence_list");
			goto out;
		}
		if (out->gpu_devices && json_array_size(out->gpu_devices) > CCT_COMPOSITE_MAX_GPUS) {
			rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
					 "%zu GPU evidence entries; the limit is %d",
					 json_array_size(out->gpu_devices), CCT_COMPOSITE_MAX_GPUS);
			goto out;
		}
		if (!nv) {
			const char *k;
			json_t *v;

			json_object_foreach(out->additional_doc, k, v) {
				(void)v;
				rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
						 "additional_evidence: device class \"%.40s\" is not "
						 "supported (only \"nvidia\")",
						 k);
				goto out;
			}
		}
	}
	out->cpu_form = detect_cpu(out->primary, &tee);
	t = json_object_get(te, "tee");
	if (t && !json_is_string(t)) {
		rc = shape(err, "%s: not a string", "tee-evidence.tee");
		goto out;
	}
	if (!tee_hint && t)
		tee_hint = json_string_value(t);
	/* KBS protocol (kbs-types) spells Trustee's az-snp-vtpm / az-tdx-vtpm verifiers
	 * "azsnpvtpm" / "aztdxvtpm" */
	if (tee_hint && !strcmp(tee_hint, "azsnpvtpm"))
		tee_hint = "az-snp-vtpm";
	else if (tee_hint && !strcmp(tee_hint, "aztdxvtpm"))
		tee_hint = "az-tdx-vtpm";
	if (out->cpu_form == CCT_CPU_UNKNOWN) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "primary_evidence: unknown shape (expected SNP "
				 "{attestation_report,cert_chain} | {report,cert_table} | "
				 "{outblob,auxblob,provider}, TDX {quote,cc_eventlog}, az-snp-vtpm "
				 "{tpm_quote,hcl_report,vcek} or az-tdx-vtpm "
				 "{tpm_quote,hcl_report,td_quote})");
		goto out;
	}
	if (tee_hint && strcmp(tee_hint, tee)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "the session's TEE is \"%.16s\" but primary_evidence is %s evidence",
				 tee_hint, tee);
		goto out;
	}
	out->tee = tee;
	rc = CCT_OK;
out:
	free(nb);
	if (rc != CCT_OK)
		cct_composite__request_clear(out);
	return rc;
}

void cct_composite__request_clear(cct_request *r)
{
	if (!r)
		return;
	json_decref(r->root);
	json_decref(r->additional_doc);
	memset(r, 0, sizeof(*r));
}

int cct_composite__cpu_binding(uint8_t out[64], const cct_request *r, cct_err *err)
{
	json_t *o = json_object();
	int rc;

	if (!o)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_object_set_new(o, "additional-evidence", json_string(r->additional));
	json_object_set_new(o, "nonce", json_string(r->nonce));
	json_object_set(o, "tee-pubkey", (json_t *)r->tee_pubkey);
	memset(out, 0, 64);
	rc = cct_composite_runtime_digest(out, o, err); /* 48 bytes, zero-padded to 64 */
	json_decref(o);
	return rc;
}

int cct_composite__gpu_binding(uint8_t out[32], const cct_request *r, cct_err *err)
{
	json_t *o = json_object();
	uint8_t d[48];
	int rc;

	if (!o)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_object_set_new(o, "nonce", json_string(r->nonce));
	json_object_set(o, "tee-pubkey", (json_t *)r->tee_pubkey);
	rc = cct_composite_runtime_digest(d, o, err);
	json_decref(o);
	if (rc == CCT_OK)
		memcpy(out, d, 32); /* SPDM nonce = first 32 bytes */
	return rc;
}

/* A base64 member of the primary evidence (the evidence modules share it). */
int cct_composite__b64_member(uint8_t **out, size_t *n, const json_t *o, const char *name,
			      size_t max, int required, cct_err *err)
{
	const json_t *v = json_object_get(o, name);
	const char *s;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "primary_evidence.%s: missing", name);
		return CCT_OK;
	}
	s = json_string_value(v);
	if (!s)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "primary_evidence.%s: not a base64 string", name);
	if (json_string_length(v) > (size_t)max / 3 * 4 + 4)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "primary_evidence.%s: larger than %zu bytes", name, max);
	if (cct_b64_decode(out, n, s, json_string_length(v), NULL) != CCT_OK)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "primary_evidence.%s: not base64", name);
	return CCT_OK;
}
