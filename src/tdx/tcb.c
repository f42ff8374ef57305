/* TDX TCB evaluation with Intel QVL semantics: TCB level selection (SGX components + PCESVN from
 * the PCK certificate, TDX components from TEE_TCB_SVN), TDX module identity and its TCB levels,
 * QE identity -> QE TCB status, and the convergence rules between the three. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cctrust/core.h"
#include "tdx/tdx_int.h"

static const char *const status_names[CCT_TDX_TCB_COUNT] = {
	"NotEvaluated",
	"UpToDate",
	"SWHardeningNeeded",
	"ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded",
	"OutOfDate",
	"OutOfDateConfigurationNeeded",
	"Revoked",
};

const char *cct_tdx_tcb_status_name(cct_tdx_tcb_status s)
{
	return (unsigned)s < CCT_TDX_TCB_COUNT ? status_names[s] : "Unknown";
}

cct_tdx_tcb_status cct_tdx_tcb_status_from_name(const char *name)
{
	int i;

	for (i = 1; name && i < CCT_TDX_TCB_COUNT; i++)
		if (!strcasecmp(name, status_names[i]))
			return (cct_tdx_tcb_status)i;
	return CCT_TDX_TCB_NONE;
}

/* QVL convergeTcbStatusWithTdxModuleStatus / convergeTcbStatusWithQeTcbStatus */
static cct_tdx_tcb_status converge(cct_tdx_tcb_status level, cct_tdx_tcb_status other)
{
	if (other == CCT_TDX_TCB_OUT_OF_DATE) {
		if (level == CCT_TDX_TCB_UP_TO_DATE || level == CCT_TDX_TCB_SW_HARDENING_NEEDED)
			return CCT_TDX_TCB_OUT_OF_DATE;
		if (level == CCT_TDX_TCB_CONFIGURATION_NEEDED ||
		    level == CCT_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return CCT_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (other == CCT_TDX_TCB_REVOKED)
		return CCT_TDX_TCB_REVOKED;
	return level;
}

static void add_advisories(cct_tdx_result *res, const tdx_tcb_level *l)
{
	size_t i, k;

	for (i = 0; i < l->nadv; i++) {
		int dup = 0;

		for (k = 0; k < res->advisory_count; k++)
			if (!strcmp(res->advisory_ids[k], l->adv[i]))
				dup = 1;
		if (!dup && res->advisory_count < CCT_TDX_MAX_ADVISORIES)
			memcpy(res->advisory_ids[res->advisory_count++], l->adv[i],
			       sizeof(res->advisory_ids[0]));
	}
}

static int masked_eq(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((a[i] & mask[i]) != (b[i] & mask[i]))
			return 0;
	return 1;
}

static int qe_identity_eval(cct_tdx_result *res, const tdx_qe_identity *qi,
			    const cct_tdx_quote *q, const tdx_tcb_level **level, cct_err *err)
{
	const cct_tdx_qe_report *r = &q->qe_report;
	size_t i;

	*level = NULL;
	if (memcmp(r->mr_signer, qi->mrsigner, 32) != 0)
		return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TCB, q->off_qe_report + 0x80,
				   "QE identity: QE report MRSIGNER differs from the TD_QE identity");
	if (r->isv_prod_id != qi->isvprodid)
		return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TCB, q->off_qe_report + 0x100,
				   "QE identity: ISVPRODID %u, identity wants %u", r->isv_prod_id,
				   qi->isvprodid);
	if ((r->misc_select & qi->miscselect_mask) != (qi->miscselect & qi->miscselect_mask))
		return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TCB, q->off_qe_report + 0x10,
				   "QE identity: MISCSELECT 0x%08x does not match 0x%08x under "
				   "mask 0x%08x",
				   r->misc_select, qi->miscselect, qi->miscselect_mask);
	if (!masked_eq(r->attributes, qi->attributes, qi->attributes_mask, 16))
		return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TCB, q->off_qe_report + 0x30,
				   "QE identity: ATTRIBUTES do not match under attributesMask");
	/* first level (highest first) whose ISVSVN the QE reaches; none -> Revoked */
	res->qe_tcb_status = CCT_TDX_TCB_REVOKED;
	for (i = 0; i < qi->nlevels; i++) {
		if (r->isv_svn >= qi->levels[i].isvsvn) {
			*level = &qi->levels[i];
			res->qe_tcb_status = qi->levels[i].status;
			if (res->qe_tcb_status == CCT_TDX_TCB_NONE)
				return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_TCB, 0,
						   "QE identity: unrecognized tcbStatus \"%s\"",
						   qi->levels[i].status_name);
			break;
		}
	}
	return CCT_OK;
}

static int sgx_ge(const cct_tdx_pck_ext *pck, const tdx_tcb_level *l)
{
	int i;

	for (i = 0; i < 16; i++)
		if (pck->comp[i] < l->sgx[i])
			return 0;
	return pck->pcesvn >= l->pcesvn;
}

static int tdx_ge(const uint8_t svn[16], const tdx_tcb_level *l)
{
	/* with a TDX module version (TEE_TCB_SVN[1] > 0), bytes 0..1 are judged by the module
	 * identity instead */
	int i = svn[1] > 0 ? 2 : 0;

	for (; i < 16; i++)
		if (svn[i] < l->tdx[i])
			return 0;
	return 1;
}

/* TDX module: MRSIGNERSEAM / SEAMATTRIBUTES against tdxModule or TDX_<version> identity, and the
 * identity's TCB level for TEE_TCB_SVN[0] */
static int module_eval(cct_tdx_result *res, const tdx_tcb_info *t, const cct_tdx_quote *q,
		       const tdx_tcb_level **level, cct_err *err)
{
	const cct_tdx_td_report *b = &q->body;
	uint8_t version = b->tee_tcb_svn[1], isvsvn = b->tee_tcb_svn[0];
	const tdx_module_identity *id = NULL;
	size_t i;
	char want[16];

	*level = NULL;
	res->tdx_module_status = CCT_TDX_TCB_UP_TO_DATE;
	if (version > 0) {
		snprintf(want, sizeof(want), "TDX_%02X", version);
		for (i = 0; i < t->nids; i++)
			if (!strcasecmp(t->ids[i].id, want))
				id = &t->ids[i];
		if (!id)
			return cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, CCT_TDX_HEADER_SIZE + 1,
					   "TDX module: TCB info has no identity %s for TEE_TCB_SVN "
					   "module version %u",
					   want, version);
		snprintf(res->tdx_module_id, sizeof(res->tdx_module_id), "%s", want);
	} else if (!t->has_module) {
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_TCB, 0,
				   "TDX module: TCB info has no tdxModule");
	}
	{
		const tdx_module_identity *m = id ? id : &t->module;

		if (memcmp(b->mrsignerseam, m->mrsigner, 48) != 0)
			return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TCB,
					   CCT_TDX_HEADER_SIZE + 0x40,
					   "TDX module: MRSIGNERSEAM differs from the TCB info's "
					   "%s mrsigner",
					   id ? id->id : "tdxModule");
		if (!masked_eq(b->seam_attributes, m->attributes, m->attributes_mask, 8))
			return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TCB,
					   CCT_TDX_HEADER_SIZE + 0x70,
					   "TDX module: SEAMATTRIBUTES do not match %s under its "
					   "mask",
					   id ? id->id : "tdxModule");
	}
	if (!id)
		return CCT_OK;
	for (i = 0; i < id->nlevels; i++) {
		if (isvsvn >= id->levels[i].isvsvn) {
			*level = &id->levels[i];
			res->tdx_module_status = id->levels[i].status;
			if (res->tdx_module_status == CCT_TDX_TCB_NONE)
				return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_TCB, 0,
						   "TDX module %s: unrecognized tcbStatus \"%s\"",
						   id->id, id->levels[i].status_name);
			return CCT_OK;
		}
	}
	return cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, CCT_TDX_HEADER_SIZE,
			   "TDX module %s: no TCB level for module ISVSVN %u (TCB not supported)",
			   id->id, isvsvn);
}

int cct_tdx__tcb_evaluate(cct_tdx_result *res, const cct_tdx_collateral *c,
			  const cct_tdx_quote *q, const cct_tdx_pck_ext *pck, cct_err *err)
{
	const tdx_tcb_info *t = &c->tcb;
	const tdx_tcb_level *sgx = NULL, *tdx = NULL, *mod = NULL, *qel = NULL;
	char a[16], b[16];
	size_t i;
	int rc;

	if (memcmp(t->fmspc, pck->fmspc, 6) != 0) {
		cct_hex_encode(a, t->fmspc, 6);
		cct_hex_encode(b, pck->fmspc, 6);
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_TCB, 0,
				   "TCB info is for FMSPC %s but the PCK certificate has FMSPC %s",
				   a, b);
	}
	if (memcmp(t->pceid, pck->pceid, 2) != 0)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_TCB, 0,
				   "TCB info PCE ID differs from the PCK certificate's");
	rc = qe_identity_eval(res, &c->qe, q, &qel, err);
	if (rc != CCT_OK)
		return rc;
	/* QVL matchTcbLevels: the first level the SGX TCB reaches is the SGX level; the first
	 * of those the TDX TCB also reaches is the TDX level */
	for (i = 0; i < t->nlevels; i++) {
		if (!sgx_ge(pck, &t->levels[i]))
			continue;
		if (!sgx)
			sgx = &t->levels[i];
		if (tdx_ge(q->body.tee_tcb_svn, &t->levels[i])) {
			tdx = &t->levels[i];
			break;
		}
	}
	if (!sgx || !tdx)
		return cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, 0,
				   "no matching TCB level found: the platform's %s TCB is below "
				   "every level of the TCB info (TCB not supported)",
				   sgx ? "TDX (TEE_TCB_SVN)" : "SGX (PCK CPUSVN/PCESVN)");
	if (tdx->status == CCT_TDX_TCB_NONE)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_TCB, 0,
				   "TCB level: unrecognized tcbStatus \"%s\"", tdx->status_name);
	rc = module_eval(res, t, q, &mod, err);
	if (rc != CCT_OK)
		return rc;
	res->platform_tcb_status = tdx->status;
	res->tcb_status = converge(converge(tdx->status, res->tdx_module_status),
				   res->qe_tcb_status);
	snprintf(res->tcb_date, sizeof(res->tcb_date), "%s", tdx->date);
	res->advisory_count = 0;
	add_advisories(res, tdx);
	if (mod)
		add_advisories(res, mod);
	if (qel)
		add_advisories(res, qel);
	res->tcb_evaluated = 1;
	return CCT_OK;
}
