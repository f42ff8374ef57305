/* az-tdx-vtpm: the TD report in an Azure HCL report and the TD quote made from it.
 *
 * On an Azure TDX confidential VM the paravisor asks the TDX module for a TD report
 * (TDG.MR.REPORT) with REPORTDATA[0:32] = SHA-256(HCL runtime data) and puts it at the start of
 * the HCL report's hardware-report area; the guest sends that TD report to the host's quoting
 * enclave (Azure IMDS /acc/tdquote) and gets a TD quote whose body copies the report's fields.
 * The TD report's MAC is checkable only on that platform, so the verifier
 *   1. verifies the TD quote (Intel DCAP: signature, QE report, PCK chain to Intel's pinned root,
 *      CRLs, TCB info / QE identity) with the existing TDX verifier,
 *   2. requires every field the quote copies from the TD report to equal the HCL's TD report
 *      (Trustee compares REPORTDATA only; cctrust compares all of them, so the HCL report cannot
 *      carry another TD's report beside a genuine quote),
 *   3. and hands REPORTDATA to the common HCL check (hcl.c): [0:32] == SHA-256(runtime data).
 *
 * TDREPORT_STRUCT (Intel TDX module ABI, 1024 bytes, little-endian):
 *   0x000 REPORTMACSTRUCT: REPORTTYPE(4) reserved(12) CPUSVN(16) TEE_TCB_INFO_HASH(48)
 *         TEE_INFO_HASH(48) REPORTDATA(64) reserved(32) MAC(32)
 *   0x100 TEE_TCB_INFO(239): VALID(8) TEE_TCB_SVN(16) MRSEAM(48) MRSIGNERSEAM(48)
 *         ATTRIBUTES(8) [TEE_TCB_SVN2(16), TDX 1.5] reserved
 *   0x1EF reserved(17)
 *   0x200 TDINFO_STRUCT(512): ATTRIBUTES(8) XFAM(8) MRTD(48) MRCONFIGID(48) MROWNER(48)
 *         MROWNERCONFIG(48) RTMR[4](192) SERVTD_HASH(48) reserved(64)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "cctrust/tpm.h"
#include "core/rd.h"
#include "tpm/tpm_int.h"

#define TDR_TYPE_TDX 0x81u

int cct_td_report_parse(cct_td_report *out, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_rd r;
	const uint8_t *t;
	int i;

	memset(out, 0, sizeof(*out));
	cct_rd_init(&r, buf, len < CCT_TD_REPORT_SIZE ? len : CCT_TD_REPORT_SIZE);
	cct_rd_field(&r, "TD report REPORTTYPE");
	t = cct_rd_take(&r, 4);
	cct_rd_field(&r, "TD report reserved");
	cct_rd_take(&r, 12);
	cct_rd_field(&r, "TD report CPUSVN");
	out->cpusvn = cct_rd_take(&r, 16);
	cct_rd_field(&r, "TD report TEE_TCB_INFO_HASH, TEE_INFO_HASH");
	cct_rd_take(&r, 96);
	cct_rd_field(&r, "TD report REPORTDATA");
	out->report_data = cct_rd_take(&r, 64);
	cct_rd_field(&r, "TD report reserved, MAC");
	cct_rd_take(&r, 64);
	cct_rd_field(&r, "TEE_TCB_INFO VALID");
	cct_rd_take(&r, 8);
	cct_rd_field(&r, "TEE_TCB_INFO TEE_TCB_SVN");
	out->tee_tcb_svn = cct_rd_take(&r, 16);
	cct_rd_field(&r, "TEE_TCB_INFO MRSEAM");
	out->mrseam = cct_rd_take(&r, 48);
	cct_rd_field(&r, "TEE_TCB_INFO MRSIGNERSEAM");
	out->mrsignerseam = cct_rd_take(&r, 48);
	cct_rd_field(&r, "TEE_TCB_INFO ATTRIBUTES");
	out->seam_attributes = cct_rd_take(&r, 8);
	cct_rd_field(&r, "TEE_TCB_INFO reserved");
	cct_rd_take(&r, 239 - 128 + 17);
	cct_rd_field(&r, "TDINFO ATTRIBUTES");
	out->td_attributes = cct_rd_take(&r, 8);
	cct_rd_field(&r, "TDINFO XFAM");
	out->xfam = cct_rd_take(&r, 8);
	cct_rd_field(&r, "TDINFO MRTD");
	out->mrtd = cct_rd_take(&r, 48);
	cct_rd_field(&r, "TDINFO MRCONFIGID");
	out->mrconfigid = cct_rd_take(&r, 48);
	cct_rd_field(&r, "TDINFO MROWNER");
	out->mrowner = cct_rd_take(&r, 48);
	cct_rd_field(&r, "TDINFO MROWNERCONFIG");
	out->mrownerconfig = cct_rd_take(&r, 48);
	for (i = 0; i < 4; i++) {
		cct_rd_field(&r, "TDINFO RTMR");
		out->rtmr[i] = cct_rd_take(&r, 48);
	}
	cct_rd_field(&r, "TDINFO SERVTD_HASH, reserved");
	cct_rd_take(&r, 112);
	if (r.err)
		return cct_rd_check(&r, err, "TD report");
	memcpy(out->report_type, t, 4);
	if (t[0] != TDR_TYPE_TDX)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				   "TD report: REPORTTYPE.TYPE is 0x%02x, not 0x81 (TDX)", t[0]);
	return CCT_OK;
}

int cct_td_report_match_quote(const cct_td_report *r, const void *tdx_quote, cct_err *err)
{
	const cct_tdx_td_report *b = &((const cct_tdx_quote *)tdx_quote)->body;
	static const char *const rtmr_names[4] = { "RTMR0", "RTMR1", "RTMR2", "RTMR3" };
	struct {
		const char *name;
		const uint8_t *have, *want;
		size_t n, off;
	} f[16] = {
		{ "TEE_TCB_SVN", r->tee_tcb_svn, b->tee_tcb_svn, 16, 0x108 },
		{ "MRSEAM", r->mrseam, b->mrseam, 48, 0x118 },
		{ "MRSIGNERSEAM", r->mrsignerseam, b->mrsignerseam, 48, 0x148 },
		{ "SEAM ATTRIBUTES", r->seam_attributes, b->seam_attributes, 8, 0x178 },
		{ "TD ATTRIBUTES", r->td_attributes, b->td_attributes, 8, 0x200 },
		{ "XFAM", r->xfam, b->xfam, 8, 0x208 },
		{ "MRTD", r->mrtd, b->mrtd, 48, 0x210 },
		{ "MRCONFIGID", r->mrconfigid, b->mrconfigid, 48, 0x240 },
		{ "MROWNER", r->mrowner, b->mrowner, 48, 0x270 },
		{ "MROWNERCONFIG", r->mrownerconfig, b->mrownerconfig, 48, 0x2A0 },
		{ NULL, NULL, NULL, 0, 0 }, { NULL, NULL, NULL, 0, 0 },
		{ NULL, NULL, NULL, 0, 0 }, { NULL, NULL, NULL, 0, 0 },
		{ "REPORTDATA", r->report_data, b->report_data, 64, 0x80 },
		{ NULL, NULL, NULL, 0, 0 },
	};
	size_t i;

	for (i = 0; i < 4; i++) {
		f[10 + i].name = rtmr_names[i];
		f[10 + i].have = r->rtmr[i];
		f[10 + i].want = b->rtmr[i];
		f[10 + i].n = 48;
		f[10 + i].off = 0x2D0 + 48 * i;
	}
	for (i = 0; f[i].name; i++) {
		if (!f[i].have)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_BINDING, 0,
					   "TD report not parsed");
		if (memcmp(f[i].have, f[i].want, f[i].n)) {
			char h[97], w[97];

			cct_hex_encode(h, f[i].have, f[i].n < 48 ? f[i].n : 48);
			cct_hex_encode(w, f[i].want, f[i].n < 48 ? f[i].n : 48);
			return cct_err_set(err, CCT_EBINDING, CCT_STAGE_BINDING, f[i].off,
					   "the HCL report's TD report is not the one the TD quote "
					   "was made from: %s differs (TD report %.32s..., quote "
					   "%.32s...)",
					   f[i].name, h, w);
		}
	}
	return CCT_OK;
}

/* The simulated root and collateral of `cctrust sim init DIR` (DIR/tdx/): public parts only. */
static int sim_trust(uint8_t **root, size_t *rn, cct_tdx_collateral **coll, const char *dir,
		     int want_coll, cct_err *err)
{
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/tdx/root_ca.pem", dir);
	rc = cct_file_read(root, rn, path, 1u << 20, err);
	if (rc == CCT_OK && want_coll) {
		snprintf(path, sizeof(path), "%s/tdx/collateral.json", dir);
		rc = cct_tdx_collateral_load(coll, path, err);
	}
	return rc;
}

int cct_tpm__az_tdx_hw(json_t *claims, const cct_hcl_report *h, const uint8_t *tdq,
		       size_t tdq_len, const cct_vtpm_opts *opts, uint8_t report_data[64],
		       int *simulated, cct_err *err)
{
	cct_tdx_collateral *coll = NULL;
	cct_tdx_collateral_source src;
	cct_tdx_result *res = NULL;
	cct_tdx_quote q;
	cct_td_report tr;
	uint8_t *root = NULL;
	size_t rn = 0;
	int rc, local;

	*simulated = 0;
	rc = cct_td_report_parse(&tr, h->hw_report, CCT_HCL_HW_REPORT_SIZE, err);
	if (rc != CCT_OK) {
		if (err)
			err->offset += 0x20;
		return rc;
	}
	rc = cct_tdx_quote_parse(&q, tdq, tdq_len, err);
	if (rc != CCT_OK) {
		if (err) {
			char m[CCT_ERR_MSG_SIZE];

			snprintf(m, sizeof(m), "td_quote: %.200s", err->msg);
			snprintf(err->msg, sizeof(err->msg), "%s", m);
		}
		return rc;
	}
	/* collateral: an explicit bundle / PCS directory first, then the simulator's, then the
	 * cache or Intel PCS (as ev_tdx and `cctrust tdx verify` do) */
	local = opts && opts->collateral_dir && cct_tdx_collateral_is_local(opts->collateral_dir);
	if (opts && opts->trust_sim_dir) {
		rc = sim_trust(&root, &rn, &coll, opts->trust_sim_dir,
			       !local && !opts->collateral, err);
		if (rc != CCT_OK)
			goto out;
	}
	if (!coll) {
		memset(&src, 0, sizeof(src));
		src.path = opts ? opts->collateral_dir : NULL;
		src.pccs_url = opts ? opts->pccs_url : NULL;
		src.offline = opts ? opts->offline : 0;
		src.at = opts ? opts->at : 0;
		src.bundle = opts ? opts->collateral : NULL;
		rc = cct_tdx_collateral_for_quote(&coll, &src, &q, err);
		if (rc != CCT_OK) {
			if (err && (err->stage == CCT_STAGE_NONE || err->stage == CCT_STAGE_INPUT))
				err->stage = CCT_STAGE_COLLATERAL;
			goto out;
		}
	}
	/* crypto + TCB evaluation here; TCB status is the policy's (tdx section), a debug TD is
	 * refused as the SNP path refuses a debug paravisor */
	rc = cct_tdx_verify_unappraised(&res, tdq, tdq_len, opts && opts->at ? opts->at : time(NULL),
					coll, root, rn, err);
	if (rc != CCT_OK)
		goto out;
	{
		json_t *tj = cct_tdx_claims(res);

		if (tj)
			json_object_set_new(tj, "quote_version", json_integer(res->quote.version));
		json_object_set_new(claims, "tdx", tj ? tj : json_null());
	}
	*simulated = res->simulated;
	if (res->debug) {
		rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				 "TD quote: the TD is debuggable (TD_ATTRIBUTES.DEBUG): the "
				 "paravisor's memory is readable by the host");
		goto out;
	}
	rc = cct_td_report_match_quote(&tr, &res->quote, err);
	if (rc != CCT_OK) {
		if (err)
			err->offset += 0x20;
		goto out;
	}
	memcpy(report_data, tr.report_data, 64);
	rc = CCT_OK;
out:
	cct_tdx_collateral_free(coll);
	free(res);
	free(root);
	return rc;
}
