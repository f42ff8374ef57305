/* Evidence module: Azure paravisor vTPM evidence (Trustee az-snp-vtpm v0/v1/v2, az-tdx-vtpm
 * v0/v1) as the CPU evidence of an attest request. The tpm area does the crypto (HCL report, SNP
 * report to AMD's pinned roots or TD quote with Intel collateral and the TD report it was made
 * from, runtime-data binding, AK, TPM quote over the PCRs); this module hands the
 * composite what it binds: the quote's extraData, which Trustee's guest sets to the runtime-data
 * hash (SHA-384(JCS(...)), 48 bytes), zero-padded to 64 like REPORT_DATA. GPUs are bound as for
 * SNP/TDX: the additional evidence is inside that hash, each GPU's SPDM nonce is the runtime
 * data's. Relying-party rules (snp / tdx section on the paravisor's hardware report, vtpm on the
 * quoted PCRs and event log) are evaluated by src/policy. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/tpm.h"
#include "composite/internal.h"
#include "json/json.h"

/* whether claims.checks_skipped names the check */
static int skipped_listed(const json_t *claims, const char *check)
{
	return cct_json__has_string(json_object_get(claims, "checks_skipped"), check);
}

int cct_composite__ev_vtpm(cct_ev_out *out, const cct_ev_in *in, cct_err *err)
{
	cct_vtpm_opts o;
	char *text = NULL, *claims = NULL;
	const char *xd;
	json_t *cl = NULL;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	text = json_dumps(in->evidence, JSON_COMPACT);
	if (!text)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	memset(&o, 0, sizeof(o));
	o.at = in->at;
	o.collateral_dir = in->collateral_dir;
	o.offline = in->offline;
	o.certs_path = in->certs_path;
	o.trust_sim_dir = in->trust_sim_dir;
	o.require_crl = !in->crl_check_off_insecure;
	o.no_crl = in->crl_check_off_insecure; /* with collateral too (listed in insecure) */
	o.collateral = in->collateral;
	rc = cct_vtpm_verify_json(&claims, text, strlen(text), &o, err);
	free(text);
	if (rc != CCT_OK)
		goto out;
	cl = claims ? json_loads(claims, 0, NULL) : NULL;
	xd = json_string_value(json_object_get(json_object_get(cl, "tpm_quote"), "extra_data"));
	n = xd ? strlen(xd) / 2 : 0;
	if (!cl || !xd || n > 64 || cct_hex_decode_fixed(out->bound, n, xd, err) != CCT_OK) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "vTPM evidence: the TPM quote's extraData is missing or too long");
		goto out;
	}
	out->bound_len = 64; /* extraData zero-padded, compared with the expected REPORT_DATA */
	out->init_field_len = 0; /* Trustee's vTPM evidence carries no init-data field */
	out->simulated = json_is_true(json_object_get(cl, "simulated"));
	if (json_object_get(cl, "tdx")) { /* TDX: PCK revocation is always checked */
		out->crl_checked = json_is_true(
			json_object_get(json_object_get(cl, "tdx"), "revocation_checked"));
		out->debug = json_is_true(json_object_get(json_object_get(cl, "tdx"), "debug"));
	} else {
		/* the vTPM verifier lists the CRL as skipped when it did not check it (no
		 * collateral and not required, or --no-crl) */
		out->crl_checked = !skipped_listed(cl, "snp_crl");
		out->debug = json_is_true(json_object_get(
			json_object_get(json_object_get(cl, "snp"), "policy_bits"), "debug"));
	}
	out->claims = cl;
	cl = NULL;
	rc = CCT_OK;
out:
	json_decref(cl);
	free(claims);
	return rc;
}
