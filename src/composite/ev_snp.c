/* Evidence module: AMD SEV-SNP primary evidence -> verified claims (src/snp does the work).
 *
 * Accepted shapes of primary_evidence:
 *   {"report": b64(1184-byte report [+ GHCB certificate table]), "cert_table"?: b64}
 *   {"outblob": b64, "auxblob"?: b64 (GHCB certificate table), "provider": "sev_guest"}
 *       (configfs-tsm; base64 or base64url)
 *   {"attestation_report": {virtee sev serde}, "cert_chain": [{"cert_type","data":[..]}] | null}
 *       (what Trustee's guest-components send; see serde_snp.c)
 * The module verifies chain (to the pinned AMD roots, or a --trust-sim root), revocation, report
 * signature and TCB binding; it applies NO relying-party policy (rules.c does, naming each rule)
 * and no binding comparison (composite.c does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/snp.h"
#include "cctrust/collateral.h"
#include "composite/internal.h"

#define MAX_SNP_BLOB (1u << 20)

static int add_sim_trust(cct_snp_verifier *v, const char *dir, cct_err *err)
{
	char path[4096];
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/snp/ark.pem", dir);
	rc = cct_file_read(&b, &n, path, 1u << 20, err);
	if (rc != CCT_OK)
		return rc;
	rc = cct_snp_verifier_trust_ark_insecure(v, b, n, err);
	free(b);
	if (rc != CCT_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/snp/crl.pem", dir);
	if (cct_file_read(&b, &n, path, 1u << 20, NULL) == CCT_OK) {
		rc = cct_snp_verifier_add_certs(v, b, n, err);
		free(b);
	}
	return rc;
}

int cct_composite__ev_snp(cct_ev_out *out, const cct_ev_in *in, cct_err *err)
{
	cct_snp_verifier *v = NULL;
	cct_snp_report rep;
	cct_snp_result res;
	uint8_t *report = NULL, *table = NULL;
	size_t rn = 0, tn = 0;
	int rc = CCT_ERROR;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	rc = cct_snp_verifier_new(&v, err);
	if (rc != CCT_OK)
		goto out;
	switch (in->cpu_form) {
	case CCT_CPU_SNP_RAW:
		rc = cct_composite__b64_member(&report, &rn, in->evidence, "report",
						       MAX_SNP_BLOB, 1, err);
		if (rc == CCT_OK)
			rc = cct_composite__b64_member(&table, &tn, in->evidence, "cert_table",
							       MAX_SNP_BLOB, 0, err);
		break;
	case CCT_CPU_SNP_TSM: {
		const char *prov = json_string_value(json_object_get(in->evidence, "provider"));

		if (prov && strcmp(prov, "sev_guest") && strcmp(prov, "sev-guest")) {
			rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					 "configfs-tsm provider \"%.30s\" is not SEV-SNP", prov);
			break;
		}
		rc = cct_composite__b64_member(&report, &rn, in->evidence, "outblob",
						       MAX_SNP_BLOB, 1, err);
		if (rc == CCT_OK)
			rc = cct_composite__b64_member(&table, &tn, in->evidence, "auxblob",
							       MAX_SNP_BLOB, 0, err);
		break;
	}
	case CCT_CPU_SNP_SERDE:
		rc = cct_composite__snp_serde(&report, &rn, v, in->evidence, err);
		break;
	default:
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "not SNP evidence");
	}
	if (rc != CCT_OK)
		goto out;
	if (in->at)
		cct_snp_verifier_set_time(v, in->at);
	cct_snp_verifier_set_offline(v, in->offline);
	cct_snp_verifier_set_crl_check(v, !in->crl_check_off_insecure);
	cct_snp_verifier_set_collateral_source(v, in->collateral);
	if (in->collateral_dir &&
	    (rc = cct_snp_verifier_set_collateral_dir(v, in->collateral_dir, err)) != CCT_OK)
		goto out;
	if (in->certs_path && (rc = cct_snp_verifier_add_certs_path(v, in->certs_path, err)) != CCT_OK)
		goto out;
	if (in->trust_sim_dir && (rc = add_sim_trust(v, in->trust_sim_dir, err)) != CCT_OK)
		goto out;
	if (rn > CCT_SNP_REPORT_SIZE) { /* extended report: the certificate table follows */
		rc = cct_snp_verifier_add_cert_table(v, report + CCT_SNP_REPORT_SIZE,
						     rn - CCT_SNP_REPORT_SIZE, err);
		if (rc != CCT_OK)
			goto out;
		rn = CCT_SNP_REPORT_SIZE;
	}
	if (table && tn && (rc = cct_snp_verifier_add_cert_table(v, table, tn, err)) != CCT_OK)
		goto out;
	rc = cct_snp_report_parse(&rep, report, rn, err);
	if (rc != CCT_OK)
		goto out;
	rc = cct_snp_verify(&res, v, &rep, NULL, err); /* crypto + TCB binding; policy: rules.c */
	if (rc != CCT_OK)
		goto out;
	out->claims = cct_snp_claims(&rep, &res);
	if (!out->claims) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	memcpy(out->bound, rep.report_data, 64);
	out->bound_len = 64;
	memcpy(out->init_field, rep.host_data, 32);
	out->init_field_len = 32;
	out->simulated = res.simulated;
	out->crl_checked = res.crl_checked;
	out->chip_id_unchecked = res.chip_id_masked;
	out->debug = (int)((rep.policy >> CCT_SNP_POLICY_DEBUG_BIT) & 1);
	rc = CCT_OK;
out:
	cct_snp_verifier_free(v);
	free(report);
	free(table);
	return rc;
}

void cct_composite__ev_out_clear(cct_ev_out *o)
{
	if (!o)
		return;
	json_decref(o->claims);
	memset(o, 0, sizeof(*o));
}
