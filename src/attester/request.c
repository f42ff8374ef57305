/* Building the KBS 0.4.0 attest request body (shared by real collection and the simulator):
 * the additional evidence string, Trustee's binding values and the final JSON. */
#include <stdlib.h>
#include <string.h>

#include "attester/internal.h"
#include "composite/internal.h"
#include "cctrust/core.h"
#include "cctrust/composite.h"

int cct_attester__report_data(uint8_t out[64], const char *nonce_b64, const json_t *tee_pubkey,
			      const char *additional, cct_err *err)
{
	json_t *o = json_pack("{s:s,s:s,s:O}", "additional-evidence", additional ? additional : "",
			      "nonce", nonce_b64, "tee-pubkey", tee_pubkey);
	int rc;

	if (!o)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad nonce or tee-pubkey");
	memset(out, 0, 64);
	rc = cct_composite_runtime_digest(out, o, err);
	json_decref(o);
	return rc;
}

int cct_attester__gpu_nonce(uint8_t out[32], const char *nonce_b64, const json_t *tee_pubkey,
			    cct_err *err)
{
	json_t *o = json_pack("{s:s,s:O}", "nonce", nonce_b64, "tee-pubkey", tee_pubkey);
	uint8_t d[48];
	int rc;

	if (!o)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad nonce or tee-pubkey");
	rc = cct_composite_runtime_digest(d, o, err);
	json_decref(o);
	if (rc == CCT_OK)
		memcpy(out, d, 32);
	return rc;
}

int cct_attester__init_data_digest(uint8_t out[64], size_t *n, const char *toml, cct_err *err)
{
	json_t *id = json_pack("{s:s,s:s}", "format", "toml", "body", toml);
	cct_init_data d;
	int rc;

	if (!id)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "init-data is not UTF-8");
	rc = cct_composite__init_data(&d, id, err);
	json_decref(id);
	if (rc != CCT_OK)
		return rc;
	memcpy(out, d.digest, d.digest_len);
	*n = d.digest_len;
	cct_composite__init_data_clear(&d);
	return CCT_OK;
}

int cct_attester__body(char **out, const cct_attester_opts *o, json_t *primary,
		       const char *additional, cct_err *err)
{
	json_t *b = o->report_data /* caller-bound (attested TLS): no Trustee runtime data */
			    ? json_pack("{s:{s:o,s:s}}", "tee-evidence", "primary_evidence", primary,
					"additional_evidence", additional ? additional : "")
			    : json_pack("{s:{s:s,s:O},s:{s:o,s:s}}", "runtime-data", "nonce",
					o->nonce_b64, "tee-pubkey", o->tee_pubkey, "tee-evidence",
					"primary_evidence", primary, "additional_evidence",
					additional ? additional : "");

	*out = NULL;
	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "cannot build the request");
	/* never dropped silently: a body JSON cannot carry (not UTF-8) fails the request */
	if (o->init_data_toml &&
	    json_object_set_new(b, "init-data", json_pack("{s:s,s:s}", "format", "toml", "body",
							  o->init_data_toml)) != 0) {
		json_decref(b);
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "init-data: not UTF-8 text (a TOML document is)");
	}
	*out = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(b);
	return *out ? CCT_OK : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
}

int cct_attester__b64_member(json_t *o, const char *name, const uint8_t *p, size_t n)
{
	char *s = cct_b64_encode(p, n, 0);
	int r;

	if (!s)
		return -1;
	r = json_object_set_new(o, name, json_string(s));
	free(s);
	return r ? -1 : 0;
}
