/* Simulated TDX platform: its evidence verifies only under its own root (and is then marked
 * simulated), every policy/TCB/collateral/binding refusal fires on it, save/load round trips. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "sim/sim_tdx.h"
#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "tdx/tdx_int.h"
#include "x509/x509.h"

#define PH "tdx/phala-dcap-qvl/"

static cct_sim_tdx *sim;     /* default platform, shared */
static char *sim_root;       /* its root, PEM */

static int group_setup(void **state)
{
	(void)state;
	if (cct_sim_tdx_new(&sim, NULL, NULL) != CCT_OK)
		return -1;
	sim_root = cct_sim_tdx_root_pem(sim);
	return sim_root ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	cct_sim_tdx_free(sim);
	free(sim_root);
	return 0;
}

typedef struct {
	const char *root;            /* override root PEM, NULL = pinned Intel root */
	const char *bundle;          /* collateral bundle, NULL = quote only */
	time_t at;                   /* 0 = now */
	const cct_tdx_policy *pol;
} vopts;

static int verify(cct_tdx_result *res, const uint8_t *q, size_t n, const vopts *v, cct_err *err)
{
	cct_tdx_verify_opts o;
	cct_tdx_collateral *c = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.at = v->at;
	o.policy = v->pol;
	if (v->bundle) {
		assert_int_equal(cct_tdx_collateral_load_bundle(&c, (const uint8_t *)v->bundle,
								strlen(v->bundle), err),
				 CCT_OK);
		o.collateral = c;
	} else {
		o.quote_only = 1;
	}
	if (v->root) {
		o.trust_root_pem.p = (const uint8_t *)v->root;
		o.trust_root_pem.size = strlen(v->root);
	}
	rc = cct_tdx_verify(res, q, n, &o, err);
	cct_tdx_collateral_free(c);
	return rc;
}

static uint8_t *quote_of(const cct_sim_tdx *t, const cct_sim_tdx_quote_opts *o, size_t *n)
{
	uint8_t *q = NULL;
	cct_err err;

	assert_int_equal(cct_sim_tdx_quote(&q, n, t, o, &err), CCT_OK);
	return q;
}

static void fill(uint8_t *p, size_t n, uint8_t v)
{
	memset(p, v, n);
}

static void accepted_only_under_its_root(void **state)
{
	cct_sim_tdx_quote_opts qo;
	cct_tdx_result r;
	cct_err err;
	cct_sim_tdx *other;
	char *other_root;
	uint8_t *q;
	size_t n;
	int i;

	(void)state;
	memset(&qo, 0, sizeof(qo));
	fill(qo.mrtd, 48, 0xA1);
	for (i = 0; i < 4; i++)
		fill(qo.rtmr[i], 48, (uint8_t)(0xB0 + i));
	fill(qo.mrconfigid, 48, 0xC1);
	fill(qo.mrowner, 48, 0xC2);
	fill(qo.report_data, 64, 0x5A);
	q = quote_of(sim, &qo, &n);

	/* under the simulated root, with collateral: every check runs and passes */
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, NULL }, &err),
			 CCT_OK);
	assert_true(r.simulated);
	assert_true(r.signature_ok && r.chain_ok && r.revocation_checked && r.tcb_evaluated);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	assert_int_equal(r.qe_tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	assert_int_equal(r.tdx_module_status, CCT_TDX_TCB_UP_TO_DATE);
	assert_string_equal(r.tdx_module_id, "TDX_01");
	assert_string_equal(r.pck_ca, "platform");
	assert_memory_equal(r.fmspc, sim->fmspc, 6);
	assert_memory_equal(r.sgx_tcb_comp, sim->sgx_comp, 16);
	assert_int_equal(r.pcesvn, sim->pcesvn);
	assert_false(r.debug);
	assert_int_equal(r.quote.version, 4);
	assert_memory_equal(r.quote.body.mrtd, qo.mrtd, 48);
	assert_memory_equal(r.quote.body.rtmr[3], qo.rtmr[3], 48);
	assert_memory_equal(r.quote.body.mrconfigid, qo.mrconfigid, 48);
	assert_memory_equal(r.quote.body.mrowner, qo.mrowner, 48);
	assert_memory_equal(r.quote.body.report_data, qo.report_data, 64);
	assert_int_equal(r.quote.body.td_attributes[3], 0x10); /* SEPT_VE_DISABLE */
	assert_int_equal(r.quote.trailing_size, 0);
	assert_int_equal(r.collateral_expires, sim->coll_next_update);
	/* quote only, same root */
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, NULL, 0, NULL }, &err), CCT_OK);
	assert_true(r.simulated);
	assert_false(r.tcb_evaluated);

	/* without the override the pinned Intel root refuses it, with or without collateral */
	assert_int_equal(verify(&r, q, n, &(vopts){ NULL, NULL, 0, NULL }, &err), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	assert_non_null(strstr(err.msg, "not the pinned Intel SGX Root CA"));
	assert_false(r.simulated);
	assert_int_equal(verify(&r, q, n, &(vopts){ NULL, sim->bundle, 0, NULL }, &err),
			 CCT_ECHAIN);
	assert_false(r.simulated);

	/* another simulated platform's root: refused too (chain and collateral) */
	assert_int_equal(cct_sim_tdx_new(&other, NULL, &err), CCT_OK);
	other_root = cct_sim_tdx_root_pem(other);
	assert_int_equal(verify(&r, q, n, &(vopts){ other_root, NULL, 0, NULL }, &err),
			 CCT_ECHAIN);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, other->bundle, 0, NULL }, &err),
			 CCT_ESIGNATURE);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	free(other_root);
	cct_sim_tdx_free(other);
	free(q);
}

static void sgx_extension_shape(void **state)
{
	cct_tdx_pck_ext ext;
	cct_err err;
	char cn[128];

	(void)state;
	assert_int_equal(cct_tdx__pck_ext_parse(&ext, sim->pck, &err), CCT_OK);
	assert_memory_equal(ext.fmspc, sim->fmspc, 6);
	assert_memory_equal(ext.pceid, sim->pceid, 2);
	assert_memory_equal(ext.ppid, sim->ppid, 16);
	assert_memory_equal(ext.cpusvn, sim->cpusvn, 16);
	assert_memory_equal(ext.comp, sim->sgx_comp, 16);
	assert_int_equal(ext.pcesvn, 13);
	assert_int_equal(ext.sgx_type, 1);
	cct_x509_subject_cn(sim->root, cn, sizeof(cn));
	assert_non_null(strstr(cn, "SIMULATED"));
	cct_x509_subject_cn(sim->pck, cn, sizeof(cn));
	assert_non_null(strstr(cn, "SIMULATED"));
	assert_false(cct_tdx__is_intel_root(sim->root));
}

static void binding_and_measurements(void **state)
{
	cct_sim_tdx_quote_opts qo;
	cct_tdx_policy pol;
	cct_tdx_result r;
	cct_err err;
	uint8_t allow[2][48], *q;
	size_t n;

	(void)state;
	memset(&qo, 0, sizeof(qo));
	fill(qo.report_data, 64, 0x5A);
	fill(qo.mrtd, 48, 0xA1);
	fill(qo.mrconfigid, 48, 0xC1);
	q = quote_of(sim, &qo, &n);
	memset(&pol, 0, sizeof(pol));

	/* REPORTDATA: the expected value binds; any other is refused */
	pol.has_report_data = 1;
	memcpy(pol.report_data, qo.report_data, 64);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_OK);
	pol.report_data[63] ^= 1;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_ENONCE);
	assert_int_equal(err.stage, CCT_STAGE_BINDING);
	assert_int_equal(err.offset, CCT_TDX_HEADER_SIZE + 0x208);
	memset(&pol, 0, sizeof(pol));

	/* MRTD allow-list: a different reference is refused, the right one accepted */
	fill(allow[0], 48, 0xEE);
	pol.allow[0] = (const uint8_t(*)[48])allow;
	pol.allow_count[0] = 1;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_EMEASUREMENT);
	assert_int_equal(err.stage, CCT_STAGE_MEASUREMENT);
	assert_non_null(strstr(err.msg, "MRTD"));
	memcpy(allow[1], qo.mrtd, 48);
	pol.allow_count[0] = 2;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_OK);
	/* MRCONFIGID (the composite's init-data digest) */
	pol.allow[5] = (const uint8_t(*)[48])allow;
	pol.allow_count[5] = 1;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_EMEASUREMENT);
	assert_non_null(strstr(err.msg, "MRCONFIGID"));
	free(q);
}

static void debug_td(void **state)
{
	cct_sim_tdx_quote_opts qo;
	cct_tdx_policy pol;
	cct_tdx_result r;
	cct_err err;
	uint8_t *q;
	size_t n;

	(void)state;
	memset(&qo, 0, sizeof(qo));
	qo.debug = 1;
	q = quote_of(sim, &qo, &n);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, NULL }, &err),
			 CCT_EPOLICY);
	assert_int_equal(err.stage, CCT_STAGE_POLICY);
	assert_true(r.debug);
	memset(&pol, 0, sizeof(pol));
	pol.allow_debug_insecure = 1;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_OK);
	assert_true(r.debug);
	free(q);
}

/* a platform whose collateral says status for the platform / module / QE level */
static void tcb_case(cct_sim_tdx_collateral_opts *co, cct_tdx_tcb_status want,
		     cct_tdx_tcb_status platform)
{
	cct_tdx_policy pol;
	cct_tdx_result r;
	cct_err err;
	uint8_t *q;
	size_t n;

	assert_int_equal(cct_sim_tdx_collateral(sim, co, &err), CCT_OK);
	q = quote_of(sim, NULL, &n);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, NULL }, &err),
			 CCT_ETCB);
	assert_int_equal(err.stage, CCT_STAGE_TCB);
	assert_non_null(strstr(err.msg, cct_tdx_tcb_status_name(want)));
	assert_int_equal(r.tcb_status, want);
	assert_int_equal(r.platform_tcb_status, platform);
	memset(&pol, 0, sizeof(pol));
	pol.accept_tcb = 1u << CCT_TDX_TCB_UP_TO_DATE | 1u << want;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_OK);
	assert_int_equal(r.tcb_status, want);
	free(q);
}

static void tcb_statuses(void **state)
{
	cct_sim_tdx_collateral_opts co;
	cct_tdx_policy pol;
	cct_tdx_result r;
	cct_err err;
	const char *deny[] = { "INTEL-SA-99999" };
	uint8_t *q;
	size_t n;

	(void)state;
	memset(&co, 0, sizeof(co));
	co.tcb_status = CCT_TDX_TCB_OUT_OF_DATE;
	tcb_case(&co, CCT_TDX_TCB_OUT_OF_DATE, CCT_TDX_TCB_OUT_OF_DATE);
	/* module or QE OutOfDate converge an UpToDate platform level to OutOfDate */
	memset(&co, 0, sizeof(co));
	co.module_status = CCT_TDX_TCB_OUT_OF_DATE;
	tcb_case(&co, CCT_TDX_TCB_OUT_OF_DATE, CCT_TDX_TCB_UP_TO_DATE);
	memset(&co, 0, sizeof(co));
	co.qe_status = CCT_TDX_TCB_OUT_OF_DATE;
	tcb_case(&co, CCT_TDX_TCB_OUT_OF_DATE, CCT_TDX_TCB_UP_TO_DATE);
	memset(&co, 0, sizeof(co));
	co.tcb_status = CCT_TDX_TCB_CONFIGURATION_NEEDED;
	co.module_status = CCT_TDX_TCB_OUT_OF_DATE;
	tcb_case(&co, CCT_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
		 CCT_TDX_TCB_CONFIGURATION_NEEDED);
	/* SWHardeningNeeded with an advisory: accepted by name, then denied by advisory */
	memset(&co, 0, sizeof(co));
	co.tcb_status = CCT_TDX_TCB_SW_HARDENING_NEEDED;
	co.advisory_ids[0] = "INTEL-SA-99999";
	co.advisory_count = 1;
	co.tcb_date = "2023-02-15T00:00:00Z";
	tcb_case(&co, CCT_TDX_TCB_SW_HARDENING_NEEDED, CCT_TDX_TCB_SW_HARDENING_NEEDED);
	q = quote_of(sim, NULL, &n);
	memset(&pol, 0, sizeof(pol));
	pol.accept_tcb = 1u << CCT_TDX_TCB_SW_HARDENING_NEEDED;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_OK);
	assert_int_equal(r.advisory_count, 1);
	assert_string_equal(r.advisory_ids[0], "INTEL-SA-99999");
	assert_string_equal(r.tcb_date, "2023-02-15T00:00:00Z");
	pol.advisory_deny = deny;
	pol.advisory_deny_count = 1;
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_EPOLICY);
	pol.advisory_deny_count = 0;
	assert_int_equal(cct_time_parse(&pol.min_tcb_date, "2024-01-01T00:00:00Z", NULL), CCT_OK);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, &pol }, &err),
			 CCT_EPOLICY);
	assert_non_null(strstr(err.msg, "tcbDate"));
	free(q);
	/* back to the defaults for the other tests */
	assert_int_equal(cct_sim_tdx_collateral(sim, NULL, &err), CCT_OK);
}

static void collateral_freshness_and_revocation(void **state)
{
	cct_sim_tdx_collateral_opts co;
	cct_tdx_result r;
	cct_err err;
	time_t now = time(NULL);
	uint8_t *q;
	size_t n;

	(void)state;
	q = quote_of(sim, NULL, &n);
	/* the current set: valid now, stale after its nextUpdate, not valid before issue */
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, now, NULL }, &err),
			 CCT_OK);
	assert_int_equal(verify(&r, q, n,
				&(vopts){ sim_root, sim->bundle, sim->coll_next_update + 1, NULL },
				&err),
			 CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	assert_non_null(strstr(err.msg, "expired"));
	assert_int_equal(verify(&r, q, n,
				&(vopts){ sim_root, sim->bundle, sim->coll_issue - 1, NULL }, &err),
			 CCT_ECOLLATERAL);
	assert_non_null(strstr(err.msg, "not yet valid"));
	/* collateral issued for a window that has passed */
	memset(&co, 0, sizeof(co));
	co.issue = now - 60 * 86400;
	co.next_update = now - 30 * 86400;
	assert_int_equal(cct_sim_tdx_collateral(sim, &co, &err), CCT_OK);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, NULL }, &err),
			 CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	/* the PCK CRL lists the PCK leaf */
	memset(&co, 0, sizeof(co));
	co.revoke_pck = 1;
	assert_int_equal(cct_sim_tdx_collateral(sim, &co, &err), CCT_OK);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, NULL }, &err),
			 CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	/* the TCB info text altered after signing */
	assert_int_equal(cct_sim_tdx_collateral(sim, NULL, &err), CCT_OK);
	{
		char *b = strdup(sim->bundle), *p = strstr(b, "\\\"pcesvn\\\":13");

		assert_non_null(p);
		p[strlen("\\\"pcesvn\\\":1")] = '2';
		assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, b, 0, NULL }, &err),
				 CCT_ESIGNATURE);
		assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
		free(b);
	}
	free(q);
}

static void quote_versions(void **state)
{
	cct_sim_tdx_quote_opts qo;
	cct_tdx_result r;
	cct_err err;
	uint8_t *q;
	size_t n;

	(void)state;
	memset(&qo, 0, sizeof(qo));
	qo.version = 5;
	fill(qo.mrservicetd, 48, 0x77);
	fill(qo.report_data, 64, 0x42);
	q = quote_of(sim, &qo, &n);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, NULL }, &err),
			 CCT_OK);
	assert_int_equal(r.quote.version, 5);
	assert_int_equal(r.quote.body_type, 3);
	assert_memory_equal(r.quote.body.mrservicetd, qo.mrservicetd, 48);
	assert_memory_equal(r.quote.body.report_data, qo.report_data, 64);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	free(q);
	qo.body_type = 2;
	q = quote_of(sim, &qo, &n);
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, sim->bundle, 0, NULL }, &err),
			 CCT_OK);
	assert_int_equal(r.quote.body_type, 2);
	assert_int_equal(r.quote.body_size, CCT_TDX_TD10_BODY_SIZE);
	free(q);
	qo.version = 3;
	assert_int_equal(cct_sim_tdx_quote(&q, &n, sim, &qo, &err), CCT_EINVAL);
	assert_null(q);
}

/* every byte of the quote proper matters: a flip anywhere is never accepted */
static void flips_are_refused(void **state)
{
	cct_tdx_result r;
	cct_err err;
	uint8_t *q;
	size_t n, i;
	cct_tdx_collateral *c = NULL;
	cct_tdx_verify_opts o;

	(void)state;
	q = quote_of(sim, NULL, &n);
	assert_int_equal(cct_tdx_collateral_load_bundle(&c, (const uint8_t *)sim->bundle,
							strlen(sim->bundle), &err),
			 CCT_OK);
	memset(&o, 0, sizeof(o));
	o.collateral = c;
	o.trust_root_pem.p = (const uint8_t *)sim_root;
	o.trust_root_pem.size = strlen(sim_root);
	assert_int_equal(cct_tdx_verify(&r, q, n, &o, &err), CCT_OK);
	/* the PEM chain's final NUL and base64 line breaks are not significant to the parser;
	 * the structured part (header .. QE auth data) is covered in full */
	for (i = 0; i < CCT_TDX_HEADER_SIZE + CCT_TDX_TD10_BODY_SIZE + 4 + 134 + 384 + 64 + 2 + 32;
	     i++) {
		q[i] ^= 0x01;
		assert_int_not_equal(cct_tdx_verify(&r, q, n, &o, &err), CCT_OK);
		q[i] ^= 0x01;
	}
	assert_int_equal(cct_tdx_verify(&r, q, n, &o, &err), CCT_OK);
	cct_tdx_collateral_free(c);
	free(q);
}

static void save_load_round_trip(void **state)
{
	char dir[4096], path[4096 + 64];
	cct_sim_tdx *t = NULL, *bad = NULL;
	cct_sim_tdx_quote_opts qo;
	cct_tdx_collateral *coll = NULL;
	cct_tdx_verify_opts o;
	cct_tdx_result r;
	cct_err err;
	uint8_t *root = NULL, *q;
	size_t rn = 0, n;
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sim-rt", cct_test_tmpdir());
	assert_int_equal(cct_sim_tdx_save(sim, dir, &err), CCT_OK);
	snprintf(path, sizeof(path), "%s/tdx/attestation.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/tdx/root_ca.pem", dir);
	assert_int_equal(stat(path, &st), 0);

	assert_int_equal(cct_sim_tdx_load(&t, dir, &err), CCT_OK);
	assert_memory_equal(t->fmspc, sim->fmspc, 6);
	assert_memory_equal(t->mrseam, sim->mrseam, 48);
	assert_memory_equal(t->qe_mrsigner, sim->qe_mrsigner, 32);
	assert_int_equal(t->qe_isvsvn, sim->qe_isvsvn);
	assert_string_equal(t->bundle, sim->bundle);
	assert_int_equal(t->coll_next_update, sim->coll_next_update);
	memset(&qo, 0, sizeof(qo));
	fill(qo.report_data, 64, 0x33);
	q = quote_of(t, &qo, &n);

	/* verifier side: only the public parts of the directory */
	assert_int_equal(cct_sim_tdx_trust_load(&root, &rn, &coll, dir, &err), CCT_OK);
	memset(&o, 0, sizeof(o));
	o.collateral = coll;
	o.trust_root_pem.p = root;
	o.trust_root_pem.size = rn;
	assert_int_equal(cct_tdx_verify(&r, q, n, &o, &err), CCT_OK);
	assert_true(r.simulated);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	cct_tdx_collateral_free(coll);
	/* the PCS v4 directory holds the same collateral */
	snprintf(path, sizeof(path), "%s/tdx/pcs", dir);
	assert_int_equal(cct_tdx_collateral_load(&coll, path, &err), CCT_OK);
	o.collateral = coll;
	assert_int_equal(cct_tdx_verify(&r, q, n, &o, &err), CCT_OK);
	cct_tdx_collateral_free(coll);
	free(root);
	free(q);

	/* re-issued collateral after a load, saved again */
	assert_int_equal(cct_sim_tdx_collateral(t, NULL, &err), CCT_OK);
	assert_int_equal(cct_sim_tdx_save(t, dir, &err), CCT_OK);
	cct_sim_tdx_free(t);
	t = NULL;
	assert_int_equal(cct_sim_tdx_load(&t, dir, &err), CCT_OK);
	cct_sim_tdx_free(t);

	/* damaged directories */
	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	assert_int_equal(cct_sim_tdx_load(&bad, path, &err), CCT_EIO);
	assert_null(bad);
	assert_int_equal(cct_sim_tdx_trust_load(&root, &rn, &coll, path, &err), CCT_EIO);
	assert_null(root);
	snprintf(path, sizeof(path), "%s/tdx/pck.key", dir);
	{
		char orig[4096 + 64];

		snprintf(orig, sizeof(orig), "%s/tdx/tcb_signing.key", dir);
		/* a key that does not belong to its certificate */
		assert_int_equal(rename(orig, path), 0);
	}
	assert_int_equal(cct_sim_tdx_load(&bad, dir, &err), CCT_EFORMAT);
	assert_non_null(strstr(err.msg, "pck.key"));
	assert_null(bad);
}

/* the pinned-root path is unchanged: genuine evidence is never marked simulated, even when the
 * genuine Intel root is given as the override */
static void genuine_not_simulated(void **state)
{
	size_t n, cn;
	uint8_t *q = cct_test_read_vector(PH "sample/tdx_quote", &n);
	char *coll = (char *)cct_test_read_vector(PH "sample/tdx_quote_collateral.json", &cn);
	cct_tdx_quote pq;
	cct_tdx_result r;
	cct_err err;
	char *intel_root = NULL, *b;

	(void)state;
	coll = realloc(coll, cn + 1);
	coll[cn] = 0;
	assert_int_equal(verify(&r, q, n, &(vopts){ NULL, coll, 1752919234, NULL }, &err),
			 CCT_OK);
	assert_false(r.simulated);
	/* the quote's own third certificate is the Intel root */
	assert_int_equal(cct_tdx_quote_parse(&pq, q, n, &err), CCT_OK);
	b = strstr((const char *)pq.pck_chain_pem.p, "-----BEGIN");
	b = strstr(b + 1, "-----BEGIN");
	b = strstr(b + 1, "-----BEGIN");
	assert_non_null(b);
	intel_root = strndup(b, (size_t)((const char *)pq.pck_chain_pem.p +
					 pq.pck_chain_pem.size - b));
	assert_int_equal(verify(&r, q, n, &(vopts){ intel_root, coll, 1752919234, NULL }, &err),
			 CCT_OK);
	assert_false(r.simulated);
	/* and the simulated root does not accept genuine evidence */
	assert_int_equal(verify(&r, q, n, &(vopts){ sim_root, NULL, 1752919234, NULL }, &err),
			 CCT_ECHAIN);
	free(intel_root);
	free(coll);
	free(q);
}

static void cli_marks_simulated(void **state)
{
	char dir[4096], qpath[4096];
	cct_sim_tdx_quote_opts qo;
	char *out = NULL;
	uint8_t *q;
	size_t n;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sim-cli", cct_test_tmpdir());
	assert_int_equal(cct_sim_tdx_save(sim, dir, NULL), CCT_OK);
	memset(&qo, 0, sizeof(qo));
	fill(qo.mrtd, 48, 0xA1);
	q = quote_of(sim, &qo, &n);
	snprintf(qpath, sizeof(qpath), "%s", cct_test_write_tmp("sim_quote.dat", q, n));
	free(q);
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s' --insecure-trust-root "
					    "'%s/tdx/root_ca.pem' --collateral "
					    "'%s/tdx/collateral.json' --json",
				      qpath, dir, dir),
			 0);
	assert_non_null(strstr(out, "\"simulated\":true"));
	assert_non_null(strstr(out, "\"tcb_status\":\"UpToDate\""));
	free(out);
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s' --insecure-trust-root "
					    "'%s/tdx/root_ca.pem' --collateral '%s/tdx/pcs'",
				      qpath, dir, dir),
			 0);
	assert_non_null(strstr(out, "SIMULATED TEE"));
	free(out);
	/* no override: the pinned root refuses it */
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s' --collateral "
					    "'%s/tdx/collateral.json' --json",
				      qpath, dir),
			 1);
	assert_non_null(strstr(out, "\"stage\":\"chain\""));
	free(out);
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s' --insecure-trust-root "
					    "'%s/tdx/root_ca.pem' --collateral "
					    "'%s/tdx/collateral.json' --mrtd %096d --json",
				      qpath, dir, dir, 0),
			 1);
	assert_non_null(strstr(out, "\"code\":\"measurement\""));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepted_only_under_its_root),
		cmocka_unit_test(sgx_extension_shape),
		cmocka_unit_test(binding_and_measurements),
		cmocka_unit_test(debug_td),
		cmocka_unit_test(tcb_statuses),
		cmocka_unit_test(collateral_freshness_and_revocation),
		cmocka_unit_test(quote_versions),
		cmocka_unit_test(flips_are_refused),
		cmocka_unit_test(save_load_round_trip),
		cmocka_unit_test(genuine_not_simulated),
		cmocka_unit_test(cli_marks_simulated),
	};

	return cmocka_run_group_tests_name("tdx_sim", tests, group_setup, group_teardown);
}
