/* TDX: parser loops, vector verdicts (read in place), tampered variants, chains/CRLs/collateral
 * minted by the simulated platform (src/attester/sim_tdx.c; more in test_sim_tdx.c). */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_tdx.h"
#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "tdx/tdx_int.h"

#define GTG "tdx/go-tdx-guest/"
#define PH "tdx/phala-dcap-qvl/"

static time_t T(const char *s)
{
	time_t t = 0;

	assert_int_equal(cct_time_parse(&t, s, NULL), CCT_OK);
	return t;
}

static int verify_at(cct_tdx_result *res, const uint8_t *q, size_t n, const char *at,
		     cct_tdx_collateral *coll, const cct_tdx_policy *pol, cct_err *err)
{
	cct_tdx_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.at = T(at);
	o.collateral = coll;
	o.quote_only = coll == NULL;
	o.policy = pol;
	return cct_tdx_verify(res, q, n, &o, err);
}

static void hexeq(const uint8_t *p, size_t n, const char *want)
{
	char *h = malloc(2 * n + 1);

	cct_hex_encode(h, p, n);
	assert_string_equal(h, want);
	free(h);
}

static void parse_vectors(void **state)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(GTG "tdx_prod_quote_SPR_E4.dat", &n);
	cct_tdx_quote q;
	cct_err err;

	(void)state;
	assert_int_equal(cct_tdx_quote_parse(&q, b, n, &err), CCT_OK);
	assert_int_equal(q.version, 4);
	assert_int_equal(q.trailing_size, 39);
	hexeq(q.body.mrtd, 48, "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f"
			       "22fc00b8dcd404bc10d5e119d7215cbb");
	hexeq(q.body.td_attributes, 8, "0000004000000000");
	hexeq(q.body.xfam, 8, "e71a060000000000");
	hexeq(q.qe_vendor_id, 16, "939a7233f79c4ca9940a0db3957f0607");
	assert_int_equal(q.qe_report.isv_svn, 4);
	assert_int_equal(q.qe_report.isv_prod_id, 2);
	assert_int_equal(q.qe_auth_data.size, 32);
	free(b);

	b = cct_test_read_vector(GTG "quote_v5_sample.dat", &n);
	assert_int_equal(cct_tdx_quote_parse(&q, b, n, &err), CCT_OK);
	assert_int_equal(q.version, 5);
	assert_int_equal(q.body_type, 3);
	assert_int_equal(q.trailing_size, 0);
	hexeq(q.body.tee_tcb_svn2, 16, "0d010400000000000000000000000000");
	free(b);

	b = cct_test_read_vector(GTG "ccel/cos-113-tdx-quote.dat", &n);
	assert_int_equal(cct_tdx_quote_parse(&q, b, n, &err), CCT_OK);
	assert_int_equal(q.trailing_size, 3065);
	free(b);
}

static void parse_truncated_and_flipped(void **state)
{
	size_t n, i;
	uint8_t *b = cct_test_read_vector(GTG "quote_v5_sample.dat", &n);
	cct_tdx_quote q;
	cct_err err;

	(void)state;
	for (i = 0; i < n; i++) {
		assert_int_equal(cct_tdx_quote_parse(&q, b, i, &err), CCT_ETRUNC);
		assert_int_equal(err.stage, CCT_STAGE_PARSE);
	}
	for (i = 0; i < n; i++) {
		int rc;

		b[i] ^= 0x80;
		rc = cct_tdx_quote_parse(&q, b, n, &err); /* never crashes; any code */
		(void)rc;
		b[i] ^= 0x80;
	}
	free(b);
}

static void quote_only_verdicts(void **state)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(GTG "tdx_prod_quote_SPR_E4.dat", &n);
	cct_tdx_result r;
	cct_err err;

	(void)state;
	assert_int_equal(verify_at(&r, b, n, "2023-07-01T01:00:00Z", NULL, NULL, &err), CCT_OK);
	hexeq(r.fmspc, 6, "50806f000000");
	hexeq(r.sgx_tcb_comp, 16, "03030202020100020000000000000000");
	hexeq(r.ppid, 16, "089ddfdb9c0359c82a3bc7719239574e");
	assert_int_equal(r.pcesvn, 11);
	assert_string_equal(r.pck_ca, "platform");
	assert_false(r.tcb_evaluated);
	assert_int_equal(verify_at(&r, b, n, "2026-11-23T00:00:00Z", NULL, NULL, &err), CCT_OK);
	assert_int_equal(verify_at(&r, b, n, "2053-07-01T01:00:00Z", NULL, NULL, &err),
			 CCT_EEXPIRED);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	free(b);
}

/* Without collateral (and not quote-only) a quote is refused at the collateral stage, after
 * it parsed: bytes that are not a quote are named as such first. */
static void no_collateral_after_parse(void **state)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(GTG "tdx_prod_quote_SPR_E4.dat", &n);
	cct_tdx_verify_opts o;
	cct_tdx_result r;
	cct_err err;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.at = T("2023-07-01T01:00:00Z");
	assert_int_equal(cct_tdx_verify(&r, b, n, &o, &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	assert_true(r.parsed);
	assert_int_equal(cct_tdx_verify(&r, b, 10, &o, &err), CCT_ETRUNC);
	assert_int_equal(err.stage, CCT_STAGE_PARSE);
	assert_false(r.parsed);
	free(b);
}

/* every byte of header + body is covered by the quote signature */
static void flips_in_signed_region(void **state)
{
	size_t n, i;
	uint8_t *b = cct_test_read_vector(GTG "tdx_prod_quote_SPR_E4.dat", &n);
	cct_tdx_result r;
	cct_err err;

	(void)state;
	for (i = 4; i < 632; i += 7) { /* 0..3: version/key type -> EUNSUPPORTED */
		if (i >= 4 && i < 8)
			continue;
		b[i] ^= 0x01;
		assert_int_equal(verify_at(&r, b, n, "2023-07-01T01:00:00Z", NULL, NULL, &err),
				 CCT_ESIGNATURE);
		assert_int_equal(err.stage, CCT_STAGE_SIGNATURE);
		b[i] ^= 0x01;
	}
	free(b);
}

static void upstream_mutations(void **state)
{
	static const struct {
		size_t idx;
		uint8_t val;
		int code;
	} cases[] = {
		{ 0, 0x03, CCT_EUNSUPPORTED }, { 0x278, 0x10, CCT_ETRUNC },
		{ 0x1343, 0x32, CCT_ECHAIN },  { 0x1329, 0x32, CCT_ECHAIN },
		{ 0xF5F, 0x32, CCT_ECHAIN },   { 0xB77, 0x32, CCT_ECHAIN },
		{ 0x1E, 0x32, CCT_ESIGNATURE }, { 0x3C, 0x32, CCT_ESIGNATURE },
		/* QE report, QE report signature, QE auth data */
		{ 834, 0, CCT_ESIGNATURE }, { 1159, 0, CCT_ESIGNATURE }, { 1220, 0, CCT_EUNTRUSTED },
	};
	size_t n, i;
	uint8_t *b = cct_test_read_vector(GTG "tdx_prod_quote_SPR_E4.dat", &n);
	cct_tdx_result r;
	cct_err err;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t old = b[cases[i].idx];

		b[cases[i].idx] = cases[i].val ? cases[i].val : old ^ 1;
		assert_int_equal(verify_at(&r, b, n, "2023-07-01T01:00:00Z", NULL, NULL, &err),
				 cases[i].code);
		b[cases[i].idx] = old;
	}
	free(b);
}

static void phala_bundles(void **state)
{
	size_t n;
	uint8_t *raw = cct_test_read_vector(PH "sample/tdx_quote", &n), *q2 = NULL;
	cct_tdx_collateral *c = NULL, *d = NULL;
	cct_tdx_result r;
	cct_tdx_policy pol;
	cct_err err;

	(void)state;
	assert_int_equal(cct_tdx_collateral_load(&c, cct_test_vector_path(
						       PH "sample/tdx_quote_collateral.json"),
						 &err),
			 CCT_OK);
	assert_int_equal(verify_at(&r, raw, n, "2025-07-19T10:00:34Z", c, NULL, &err), CCT_OK);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	assert_int_equal(r.qe_tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	assert_string_equal(r.tcb_date, "2024-03-13T00:00:00Z");
	assert_string_equal(r.tdx_module_id, "TDX_01");
	assert_int_equal(r.advisory_count, 0);
	assert_true(r.revocation_checked);
	/* same collateral as a PCS v4 directory */
	assert_int_equal(cct_tdx_collateral_load(&d, cct_test_vector_path(PH "derived/tdx_quote"),
						 &err),
			 CCT_OK);
	assert_int_equal(verify_at(&r, raw, n, "2025-07-19T10:00:34Z", d, NULL, &err), CCT_OK);
	/* expired collateral: distinct, explained */
	assert_int_equal(verify_at(&r, raw, n, "2027-01-01T00:00:00Z", c, NULL, &err),
			 CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	assert_non_null(strstr(err.msg, "expired"));
	/* every level forced to OutOfDate: status OutOfDate, rejected by default, accepted by
	 * an explicit policy */
	for (size_t i = 0; i < c->tcb.nlevels; i++)
		c->tcb.levels[i].status = CCT_TDX_TCB_OUT_OF_DATE;
	assert_int_equal(verify_at(&r, raw, n, "2025-07-19T10:00:34Z", c, NULL, &err), CCT_ETCB);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_OUT_OF_DATE);
	memset(&pol, 0, sizeof(pol));
	pol.accept_tcb = 1u << CCT_TDX_TCB_UP_TO_DATE | 1u << CCT_TDX_TCB_OUT_OF_DATE;
	assert_int_equal(verify_at(&r, raw, n, "2025-07-19T10:00:34Z", c, &pol, &err), CCT_OK);
	/* min tcbDate */
	pol.min_tcb_date = T("2025-01-01T00:00:00Z");
	assert_int_equal(verify_at(&r, raw, n, "2025-07-19T10:00:34Z", c, &pol, &err),
			 CCT_EPOLICY);
	/* quote body flip with collateral -> signature */
	q2 = malloc(n);
	memcpy(q2, raw, n);
	q2[200] = 0x5a;
	assert_int_equal(verify_at(&r, q2, n, "2025-07-19T10:00:34Z", d, NULL, &err),
			 CCT_ESIGNATURE);
	/* wrong FMSPC collateral */
	free(raw);
	raw = cct_test_read_vector(GTG "ccel/cos-113-tdx-quote.dat", &n);
	assert_int_equal(verify_at(&r, raw, n, "2025-07-19T10:00:34Z", d, NULL, &err),
			 CCT_ECOLLATERAL);
	assert_non_null(strstr(err.msg, "FMSPC"));
	free(q2);
	free(raw);
	cct_tdx_collateral_free(c);
	cct_tdx_collateral_free(d);
}

static void phala_outdated_and_near(void **state)
{
	size_t n, nn;
	uint8_t *raw = cct_test_read_vector(PH "sample/tdx_quote_outdated", &n);
	uint8_t *hex = cct_test_read_vector(PH "near/quote_hex.txt", &nn), *q = NULL;
	cct_tdx_collateral *c = NULL;
	cct_tdx_result r;
	cct_err err;

	(void)state;
	assert_int_equal(cct_tdx_collateral_load(
				 &c, cct_test_vector_path(PH "sample/tdx_quote_outdated_collateral.json"),
				 &err),
			 CCT_OK);
	assert_int_equal(verify_at(&r, raw, n, "2026-03-20T10:41:14Z", c, NULL, &err), CCT_ETCB);
	assert_non_null(strstr(err.msg, "no matching TCB level"));
	/* insert a matching UpToDate level (an override) -> UpToDate */
	memset(c->tcb.levels[c->tcb.nlevels - 1].sgx, 0, 16);
	memset(c->tcb.levels[c->tcb.nlevels - 1].tdx, 0, 16);
	c->tcb.levels[c->tcb.nlevels - 1].pcesvn = 0;
	c->tcb.levels[c->tcb.nlevels - 1].status = CCT_TDX_TCB_UP_TO_DATE;
	assert_int_equal(verify_at(&r, raw, n, "2026-03-20T10:41:14Z", c, NULL, &err), CCT_OK);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	cct_tdx_collateral_free(c);

	assert_int_equal(cct_tdx_input_decode(&q, &n, hex, nn, &err), CCT_OK);
	assert_int_equal(cct_tdx_collateral_load(
				 &c, cct_test_vector_path(PH "near/quote_collateral.json"), &err),
			 CCT_OK);
	assert_int_equal(verify_at(&r, q, n, "2025-09-15T00:00:00Z", c, NULL, &err), CCT_OK);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	cct_tdx_collateral_free(c);
	free(q);
	free(raw);
	free(hex);
}

/* component arrays of the wrong length are rejected (dcap-qvl count-mismatch cases) */
static void tcb_info_component_counts(void **state)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(PH "derived/tdx_quote/tcb_info.json", &n);
	size_t s, e;
	tdx_tcb_info t;
	cct_err err;
	char *txt, *p;

	(void)state;
	assert_int_equal(cct_tdx__json_member_span(b, n, "tcbInfo", &s, &e), CCT_OK);
	assert_int_equal(cct_tdx__tcb_info_parse(&t, b + s, e - s, &err), CCT_OK);
	cct_tdx__tcb_info_clear(&t);
	txt = strndup((const char *)b + s, e - s);
	p = strstr(txt, ",{\"svn\":0},{\"svn\":0}]"); /* drop one TDX/SGX component */
	assert_non_null(p);
	memmove(p, p + 11, strlen(p + 11) + 1);
	assert_int_equal(cct_tdx__tcb_info_parse(&t, (uint8_t *)txt, strlen(txt), &err),
			 CCT_EFORMAT);
	free(txt);
	free(b);
}

static void gtg_collateral_dir(void **state)
{
	static const char *const files[][2] = {
		{ "collateral/sample_tcbInfo_response", "tcb_info.json" },
		{ "collateral/sample_qeIdentity_response", "qe_identity.json" },
		{ "collateral/derived/tcb_info_issuer_chain.pem", "tcb_info_issuer_chain.pem" },
		{ "collateral/pckcrl", "pck_crl.der" },
		{ "collateral/derived/pck_crl_issuer_chain.pem", "pck_crl_issuer_chain.pem" },
		{ "collateral/rootcrl.der", "root_ca_crl.der" },
	};
	char dir[512], name[600];
	size_t n, i, k;
	uint8_t *q = cct_test_read_vector(GTG "tdx_prod_quote_SPR_E4.dat", &n), *v5;
	cct_tdx_collateral *c = NULL;
	cct_tdx_result r;
	cct_tdx_pck_ext ext;
	cct_err err;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/gtg", cct_test_tmpdir());
	mkdir(dir, 0755);
	for (i = 0; i < 6; i++) {
		uint8_t *b = cct_test_read_vector(
			(snprintf(name, sizeof(name), GTG "%s", files[i][0]), name), &k);

		snprintf(name, sizeof(name), "gtg/%s", files[i][1]);
		cct_test_write_tmp(name, b, k);
		free(b);
	}
	assert_int_equal(cct_tdx_collateral_load(&c, dir, &err), CCT_OK);
	/* upstream: no matching TCB level; QE identity matches with QE TCB UpToDate */
	assert_int_equal(verify_at(&r, q, n, "2023-07-01T01:00:00Z", c, NULL, &err), CCT_ETCB);
	assert_int_equal(r.qe_tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	assert_true(r.revocation_checked);
	assert_int_equal(verify_at(&r, q, n, "2053-07-01T01:00:00Z", c, NULL, &err),
			 CCT_ECOLLATERAL);
	assert_non_null(strstr(err.msg, "TCB info expired"));
	/* upstream's test-only edit: tcbLevels[0] components all zero -> UpToDate */
	memset(c->tcb.levels[0].sgx, 0, 16);
	memset(c->tcb.levels[0].tdx, 0, 16);
	assert_int_equal(verify_at(&r, q, n, "2023-07-01T01:00:00Z", c, NULL, &err), CCT_OK);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	cct_tdx_collateral_free(c);

	/* v5 quote with TCB info v5: evaluated directly (its QE identity file is from 2023) */
	v5 = cct_test_read_vector(GTG "quote_v5_sample.dat", &k);
	{
		uint8_t *ti = cct_test_read_vector(GTG "collateral/sample_tcbinfo_response_v5", &n);

		cct_test_write_tmp("gtg/tcb_info.json", ti, n);
		free(ti);
	}
	assert_int_equal(cct_tdx_collateral_load(&c, dir, &err), CCT_OK);
	assert_int_equal(verify_at(&r, v5, k, "2026-02-03T01:00:00Z", NULL, NULL, &err), CCT_OK);
	{
		STACK_OF(X509) *roots = NULL, *chain = NULL;

		assert_int_equal(cct_tdx__roots(&roots, NULL, &err), CCT_OK);
		assert_int_equal(cct_tdx__pck_chain_parse(&chain, &r.quote.pck_chain_pem, roots, 0,
							  &err),
				 CCT_OK);
		assert_int_equal(cct_tdx__pck_ext_parse(&ext, sk_X509_value(chain, 0), &err),
				 CCT_OK);
		assert_int_equal(cct_tdx__tcb_evaluate(&r, c, &r.quote, &ext, &err), CCT_OK);
		assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
		assert_string_equal(r.tcb_date, "2024-11-13T00:00:00Z");
		assert_string_equal(r.tdx_module_id, "TDX_01");
		assert_int_equal(r.tdx_module_status, CCT_TDX_TCB_UP_TO_DATE);
		assert_int_equal(r.qe_tcb_status, CCT_TDX_TCB_UP_TO_DATE);
		sk_X509_pop_free(chain, X509_free);
		sk_X509_pop_free(roots, X509_free);
	}
	cct_tdx_collateral_free(c);
	free(v5);
	free(q);
}

static void policy_checks(void **state)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(GTG "ccel/cos-113-tdx-quote.dat", &n);
	uint8_t mr[1][48], xf[1][8];
	cct_tdx_policy pol;
	cct_tdx_result r;
	cct_err err;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	pol.has_report_data = 1; /* nonce.dat is all zero */
	assert_int_equal(verify_at(&r, b, n, "2025-01-01T00:00:00Z", NULL, &pol, &err), CCT_OK);
	pol.report_data[5] = 1;
	assert_int_equal(verify_at(&r, b, n, "2025-01-01T00:00:00Z", NULL, &pol, &err), CCT_ENONCE);
	pol.report_data[5] = 0;
	memcpy(mr[0], r.quote.body.mrtd, 48);
	pol.allow[0] = (const uint8_t (*)[48])mr;
	pol.allow_count[0] = 1;
	assert_int_equal(verify_at(&r, b, n, "2025-01-01T00:00:00Z", NULL, &pol, &err), CCT_OK);
	mr[0][0] ^= 1;
	assert_int_equal(verify_at(&r, b, n, "2025-01-01T00:00:00Z", NULL, &pol, &err),
			 CCT_EMEASUREMENT);
	pol.allow_count[0] = 0;
	memset(xf, 0, sizeof(xf));
	pol.xfam_allow = (const uint8_t (*)[8])xf;
	pol.xfam_allow_count = 1;
	assert_int_equal(verify_at(&r, b, n, "2025-01-01T00:00:00Z", NULL, &pol, &err), CCT_EPOLICY);
	free(b);
}

static void ccel_replay(void **state)
{
	size_t n, tn, dn, i;
	uint8_t *q = cct_test_read_vector(GTG "ccel/cos-113-tdx-quote.dat", &n);
	uint8_t *t = cct_test_read_vector(GTG "ccel/ccel_table.dat", &tn);
	uint8_t *d = cct_test_read_vector(GTG "ccel/ccel_data.dat", &dn);
	cct_tdx_quote quote;
	cct_tdx_ccel c;
	cct_err err;

	(void)state;
	assert_int_equal(cct_tdx_quote_parse(&quote, q, n, &err), CCT_OK);
	assert_int_equal(cct_tdx_ccel_parse(&c, t, tn, d, dn, &err), CCT_OK);
	assert_true(c.count > 10);
	assert_int_equal(cct_tdx_ccel_check(&c, &quote, &err), CCT_OK);
	cct_tdx_ccel_free(&c);
	/* a changed digest no longer replays */
	d[0x80] ^= 1;
	if (cct_tdx_ccel_parse(&c, t, tn, d, dn, &err) == CCT_OK) {
		assert_int_equal(cct_tdx_ccel_check(&c, &quote, &err), CCT_EMEASUREMENT);
		cct_tdx_ccel_free(&c);
	}
	d[0x80] ^= 1;
	/* truncations of the log never crash; checksum of the table is enforced */
	for (i = 0; i < 4096; i += 13) {
		if (cct_tdx_ccel_parse(&c, NULL, 0, d, i, &err) == CCT_OK)
			cct_tdx_ccel_free(&c);
	}
	t[20] ^= 1;
	assert_int_equal(cct_tdx_ccel_parse(&c, t, tn, d, dn, &err), CCT_EFORMAT);
	free(q);
	free(t);
	free(d);
}

/* evidence of a simulated platform (src/attester/sim_tdx.c) with the given collateral */
static int minted_verify(cct_sim_tdx *t, const cct_sim_tdx_quote_opts *qo, int with_coll,
			 int use_root, const cct_tdx_policy *pol, cct_tdx_result *r, cct_err *err)
{
	cct_tdx_verify_opts o;
	cct_tdx_collateral *c = NULL;
	char *root = cct_sim_tdx_root_pem(t);
	uint8_t *q = NULL;
	size_t n = 0;
	int rc;

	assert_int_equal(cct_sim_tdx_quote(&q, &n, t, qo, err), CCT_OK);
	memset(&o, 0, sizeof(o));
	if (with_coll) {
		assert_int_equal(cct_tdx_collateral_load_bundle(&c, (uint8_t *)t->bundle,
								strlen(t->bundle), err),
				 CCT_OK);
		o.collateral = c;
	} else {
		o.quote_only = 1;
	}
	o.policy = pol;
	if (use_root) {
		o.trust_root_pem.p = (const uint8_t *)root;
		o.trust_root_pem.size = strlen(root);
	}
	rc = cct_tdx_verify(r, q, n, &o, err);
	cct_tdx_collateral_free(c);
	free(root);
	free(q);
	return rc;
}

static void minted_chains(void **state)
{
	cct_sim_tdx *t = NULL;
	cct_sim_tdx_collateral_opts co;
	cct_sim_tdx_quote_opts debug;
	cct_tdx_result r;
	cct_tdx_policy pol;
	cct_err err;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	memset(&co, 0, sizeof(co));
	co.advisory_ids[0] = "INTEL-SA-00001";
	co.advisory_count = 1;
	assert_int_equal(cct_sim_tdx_new(&t, NULL, &err), CCT_OK);
	assert_int_equal(cct_sim_tdx_collateral(t, &co, &err), CCT_OK);
	/* foreign root: rejected under the pinned Intel root */
	assert_int_equal(minted_verify(t, NULL, 0, 0, NULL, &r, &err), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	assert_int_equal(minted_verify(t, NULL, 1, 0, NULL, &r, &err), CCT_ECHAIN);
	/* the same evidence under its own (test) root passes, with collateral too */
	assert_int_equal(minted_verify(t, NULL, 0, 1, NULL, &r, &err), CCT_OK);
	assert_int_equal(minted_verify(t, NULL, 1, 1, NULL, &r, &err), CCT_OK);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_UP_TO_DATE);
	assert_true(r.simulated);
	assert_int_equal(r.advisory_count, 1);
	assert_string_equal(r.advisory_ids[0], "INTEL-SA-00001");
	{
		const char *deny[] = { "INTEL-SA-00001" };

		pol.advisory_deny = deny;
		pol.advisory_deny_count = 1;
		assert_int_equal(minted_verify(t, NULL, 1, 1, &pol, &r, &err), CCT_EPOLICY);
		memset(&pol, 0, sizeof(pol));
	}
	/* tampered TCB info text: signature over the exact bytes fails */
	{
		char *p = strstr(t->bundle, "2024-11-13T00:00:00Z");

		p[3] = '5';
		assert_int_equal(minted_verify(t, NULL, 1, 1, NULL, &r, &err), CCT_ESIGNATURE);
		assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	}

	/* revoked PCK */
	memset(&co, 0, sizeof(co));
	co.revoke_pck = 1;
	assert_int_equal(cct_sim_tdx_collateral(t, &co, &err), CCT_OK);
	assert_int_equal(minted_verify(t, NULL, 0, 1, NULL, &r, &err), CCT_OK); /* no CRL */
	assert_int_equal(minted_verify(t, NULL, 1, 1, NULL, &r, &err), CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);

	/* TCB status not accepted, then accepted by name */
	memset(&co, 0, sizeof(co));
	co.tcb_status = CCT_TDX_TCB_SW_HARDENING_NEEDED;
	assert_int_equal(cct_sim_tdx_collateral(t, &co, &err), CCT_OK);
	assert_int_equal(minted_verify(t, NULL, 1, 1, NULL, &r, &err), CCT_ETCB);
	assert_int_equal(err.stage, CCT_STAGE_TCB);
	pol.accept_tcb = 1u << CCT_TDX_TCB_UP_TO_DATE | 1u << CCT_TDX_TCB_SW_HARDENING_NEEDED;
	assert_int_equal(minted_verify(t, NULL, 1, 1, &pol, &r, &err), CCT_OK);
	assert_int_equal(r.tcb_status, CCT_TDX_TCB_SW_HARDENING_NEEDED);
	memset(&pol, 0, sizeof(pol));

	/* debug TD: refused by default, accepted only when asked */
	memset(&debug, 0, sizeof(debug));
	debug.debug = 1;
	assert_int_equal(minted_verify(t, &debug, 0, 1, NULL, &r, &err), CCT_EPOLICY);
	assert_true(r.debug);
	pol.allow_debug_insecure = 1;
	assert_int_equal(minted_verify(t, &debug, 0, 1, &pol, &r, &err), CCT_OK);
	cct_sim_tdx_free(t);
}

static void json_span_scanner(void **state)
{
	static const char *ok = " {\"a\":[1,{\"b\":\"}\\\"\"}],\"tcbInfo\" : {\"x\":\"\\\\\"} ,\"z\":1}";
	size_t s = 0, e = 0;

	(void)state;
	assert_int_equal(cct_tdx__json_member_span((const uint8_t *)ok, strlen(ok), "tcbInfo", &s,
						   &e),
			 CCT_OK);
	assert_int_equal(e - s, strlen("{\"x\":\"\\\\\"}"));
	assert_memory_equal(ok + s, "{\"x\":\"\\\\\"}", e - s);
	assert_int_equal(cct_tdx__json_member_span((const uint8_t *)"{\"tcbInfo\":1,\"tcbInfo\":2}",
						   25, "tcbInfo", &s, &e),
			 CCT_EFORMAT);
	assert_int_equal(cct_tdx__json_member_span((const uint8_t *)"{\"x\":1}", 7, "tcbInfo", &s,
						   &e),
			 CCT_ECOLLATERAL);
	assert_int_equal(cct_tdx__json_member_span((const uint8_t *)"{\"tcbInfo\":{", 12,
						   "tcbInfo", &s, &e),
			 CCT_EFORMAT);
}

static void cli_contract(void **state)
{
	char *out = NULL;
	const char *v = getenv("CCT_VECTORS");

	(void)state;
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s/" PH "sample/tdx_quote' --collateral "
					    "'%s/" PH "sample/tdx_quote_collateral.json' --at "
					    "2025-07-19T10:00:34Z --offline --json",
				      v, v),
			 0);
	assert_non_null(strstr(out, "\"tcb_status\":\"UpToDate\""));
	assert_non_null(strstr(out, "\"fmspc\":\"b0c06f000000\""));
	free(out);
	/* --quote-only with collateral: the full verification runs, and stderr says so */
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s/" PH "sample/tdx_quote' --collateral "
					    "'%s/" PH "sample/tdx_quote_collateral.json' --at "
					    "2025-07-19T10:00:34Z --offline --quote-only --json 2>&1",
				      v, v),
			 0);
	assert_non_null(strstr(out, "--quote-only not applied"));
	assert_non_null(strstr(out, "\"tcb_status\":\"UpToDate\""));
	free(out);
	/* several quotes: one JSON line each; worst verdict wins */
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s/" GTG "tdx_prod_quote_SPR_E4.dat' '%s/" GTG
					    "quote_v5_sample.dat' --quote-only --at "
					    "2026-11-23T00:00:00Z --json",
				      v, v),
			 0);
	assert_non_null(strchr(strchr(out, '\n') + 1, '{') == NULL ? NULL : out);
	free(out);
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s/" GTG "tdx_prod_quote_SPR_E4.dat' "
					    "--at 2026-11-23T00:00:00Z --json",
				      v),
			 1); /* no collateral and no --quote-only: fail closed */
	free(out);
	assert_int_equal(cct_test_cli(&out, "tdx verify /nonexistent --quote-only"), 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "tdx verify '%s/" GTG "tdx_prod_quote_SPR_E4.dat' "
					    "--quote-only --bogus",
				      v),
			 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "tdx eventlog '%s/" GTG "ccel/cos-113-tdx-quote.dat' "
					    "--ccel-table '%s/" GTG "ccel/ccel_table.dat' "
					    "--ccel-data '%s/" GTG "ccel/ccel_data.dat' --json",
				      v, v, v),
			 0);
	assert_non_null(strstr(out, "\"match\": true"));
	free(out);
	/* two quotes: refused (the last one used to be replayed against, the first ignored) */
	assert_int_equal(cct_test_cli(&out, "tdx eventlog '%s/" GTG "tdx_prod_quote_SPR_E4.dat' "
					    "'%s/" GTG "ccel/cos-113-tdx-quote.dat' "
					    "--ccel-table '%s/" GTG "ccel/ccel_table.dat' "
					    "--ccel-data '%s/" GTG "ccel/ccel_data.dat' --json",
				      v, v, v, v),
			 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "tdx show '%s/" PH "sample/tdx-quote.hex' --json", v), 0);
	assert_non_null(strstr(out, "\"tee_type\": \"0x81\""));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_vectors),
		cmocka_unit_test(parse_truncated_and_flipped),
		cmocka_unit_test(quote_only_verdicts),
		cmocka_unit_test(no_collateral_after_parse),
		cmocka_unit_test(flips_in_signed_region),
		cmocka_unit_test(upstream_mutations),
		cmocka_unit_test(phala_bundles),
		cmocka_unit_test(phala_outdated_and_near),
		cmocka_unit_test(tcb_info_component_counts),
		cmocka_unit_test(gtg_collateral_dir),
		cmocka_unit_test(policy_checks),
		cmocka_unit_test(ccel_replay),
		cmocka_unit_test(minted_chains),
		cmocka_unit_test(json_span_scanner),
		cmocka_unit_test(cli_contract),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
