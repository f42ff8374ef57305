/* az-tdx-vtpm through the library: simulated paravisor evidence (cct_sim_evidence, tee
 * az-tdx-vtpm) verified by cct_vtpm_verify_json; every field a TD quote copies from the TD
 * report, changed in the HCL report's TD report, is refused at binding naming that field; the
 * TD report parser refuses short input and a non-TDX report type; fields the quote does not
 * copy (the MAC, reserved bytes) do not change the verdict (documented: the MAC is only
 * checkable on the platform). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/sim.h"
#include "cctrust/tdx.h"
#include "cctrust/tpm.h"

static char sim_dir[512];
static json_t *evidence;     /* the primary evidence (Trustee az-tdx-vtpm v1) */
static uint8_t nonce[48];

static int setup(void **state)
{
	cct_attester_opts ao;
	cct_sim_opts so;
	cct_err err;
	char *body = NULL;
	json_t *pk, *req;
	const char *x;
	size_t n = 0;
	uint8_t *m = NULL;

	(void)state;
	snprintf(sim_dir, sizeof(sim_dir), "%s/sim", cct_test_tmpdir());
	if (cct_sim_init(sim_dir, &err) != CCT_OK)
		return -1;
	pk = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "alg",
		       "ECDH-ES+A256KW", "x", "YWm3pK6Mxd6bty6EhDLXk_PBpWlqRzF2tEReVC_POv0", "y",
		       "oclkWDo5emabe2nq2bGjYFRHv8yQHJIjSwIyKglEdv8");
	memset(&ao, 0, sizeof(ao));
	memset(&so, 0, sizeof(so));
	ao.nonce_b64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	ao.tee_pubkey = pk;
	so.tee = "az-tdx-vtpm";
	if (cct_sim_evidence(&body, sim_dir, &ao, &so, &err) != CCT_OK) {
		fprintf(stderr, "sim evidence: %s\n", err.msg);
		json_decref(pk);
		return -1;
	}
	req = json_loads(body, 0, NULL);
	free(body);
	json_decref(pk);
	evidence = json_incref(json_object_get(json_object_get(req, "tee-evidence"),
					       "primary_evidence"));
	json_decref(req);
	/* the quote's extraData: after magic, type, qualifiedSigner */
	x = json_string_value(json_object_get(json_object_get(evidence, "tpm_quote"), "message"));
	if (!x || cct_hex_decode(&m, &n, x, strlen(x), &err) != CCT_OK || n < 60)
		return -1;
	{
		size_t sl = (size_t)m[6] << 8 | m[7], o = 8 + sl;

		if (((size_t)m[o] << 8 | m[o + 1]) != 48)
			return -1;
		memcpy(nonce, m + o + 2, 48);
	}
	free(m);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(evidence);
	return 0;
}

/* verify evidence e; returns the code, err filled */
static int verify(json_t *e, cct_err *err)
{
	cct_vtpm_opts o;
	char *text = json_dumps(e, JSON_COMPACT), *claims = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.trust_sim_dir = sim_dir;
	o.nonce = nonce;
	o.nonce_len = sizeof(nonce);
	o.offline = 1;
	rc = cct_vtpm_verify_json(&claims, text, strlen(text), &o, err);
	free(text);
	free(claims);
	return rc;
}

/* a copy of the evidence with HCL report byte off XORed with x */
static json_t *hcl_flipped(size_t off, uint8_t x)
{
	json_t *e = json_deep_copy(evidence);
	const char *h = json_string_value(json_object_get(e, "hcl_report"));
	uint8_t *b = NULL;
	size_t n = 0;
	char *s;

	assert_int_equal(cct_b64_decode(&b, &n, h, strlen(h), NULL), CCT_OK);
	assert_true(off < n);
	b[off] ^= x;
	s = cct_b64_encode(b, n, 1);
	json_object_set_new(e, "hcl_report", json_string(s));
	free(s);
	free(b);
	return e;
}

static void accepted(void **state)
{
	cct_err err;

	(void)state;
	assert_int_equal(verify(evidence, &err), CCT_OK);
}

static void every_copied_field(void **state)
{
	static const struct {
		size_t off;
		const char *name;
	} f[] = {
		{ 0x80, "REPORTDATA" },  { 0x108, "TEE_TCB_SVN" }, { 0x118, "MRSEAM" },
		{ 0x148, "MRSIGNERSEAM" }, { 0x178, "SEAM ATTRIBUTES" }, { 0x200, "TD ATTRIBUTES" },
		{ 0x208, "XFAM" },       { 0x210, "MRTD" },        { 0x240, "MRCONFIGID" },
		{ 0x270, "MROWNER" },    { 0x2A0, "MROWNERCONFIG" }, { 0x2D0, "RTMR0" },
		{ 0x300, "RTMR1" },      { 0x330, "RTMR2" },       { 0x360, "RTMR3" },
		{ 0x38F, "RTMR3" },      /* the last byte of the last field */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		json_t *e = hcl_flipped(0x20 + f[i].off, 0x04);
		cct_err err;
		char want[64];
		int rc = verify(e, &err);

		json_decref(e);
		snprintf(want, sizeof(want), "%s differs", f[i].name);
		if (rc != CCT_EBINDING || err.stage != CCT_STAGE_BINDING || !strstr(err.msg, want))
			fail_msg("TD report +0x%zx (%s): rc %d stage %d: %s", f[i].off, f[i].name, rc,
				 err.stage, err.msg);
	}
}

static void uncopied_bytes(void **state)
{
	/* the MAC (0xE0..0xFF), the reserved tail of TEE_TCB_INFO, SERVTD_HASH: not in the quote */
	static const size_t offs[] = { 0xE0, 0xFF, 0x190, 0x390, 0x3BF, 0x3FF };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		json_t *e = hcl_flipped(0x20 + offs[i], 0x01);
		cct_err err;

		assert_int_equal(verify(e, &err), CCT_OK);
		json_decref(e);
	}
	/* the report type: no longer a TD report (parse) */
	{
		json_t *e = hcl_flipped(0x20, 0x01);
		cct_err err;

		assert_int_equal(verify(e, &err), CCT_EFORMAT);
		assert_int_equal(err.stage, CCT_STAGE_PARSE);
		assert_non_null(strstr(err.msg, "0x81"));
		json_decref(e);
	}
}

static void td_report_parser(void **state)
{
	uint8_t r[CCT_TD_REPORT_SIZE];
	cct_td_report tr;
	cct_err err;
	size_t n;

	(void)state;
	memset(r, 0, sizeof(r));
	r[0] = 0x81;
	assert_int_equal(cct_td_report_parse(&tr, r, sizeof(r), &err), CCT_OK);
	assert_ptr_equal(tr.mrtd, r + 0x210);
	assert_ptr_equal(tr.rtmr[3], r + 0x360);
	assert_ptr_equal(tr.report_data, r + 0x80);
	for (n = 0; n < sizeof(r); n += 97)
		assert_int_equal(cct_td_report_parse(&tr, r, n, &err), CCT_ETRUNC);
	assert_int_equal(cct_td_report_parse(&tr, r, sizeof(r) - 1, &err), CCT_ETRUNC);
	r[0] = 0x00; /* SGX report type */
	assert_int_equal(cct_td_report_parse(&tr, r, sizeof(r), &err), CCT_EFORMAT);
}

static void sim_quote_from_report(void **state)
{
	/* the simulated quoting enclave quotes a TD report of its platform only */
	uint8_t rd[64], r[1024], *q = NULL;
	size_t qn = 0;
	cct_tdx_quote tq;
	cct_td_report tr;
	cct_err err;

	(void)state;
	memset(rd, 0x5a, sizeof(rd));
	assert_int_equal(cct_sim_td_report(r, sim_dir, rd, &err), CCT_OK);
	assert_int_equal(cct_sim_td_quote(&q, &qn, sim_dir, r, sizeof(r), &err), CCT_OK);
	assert_int_equal(cct_tdx_quote_parse(&tq, q, qn, &err), CCT_OK);
	assert_int_equal(cct_td_report_parse(&tr, r, sizeof(r), &err), CCT_OK);
	assert_int_equal(cct_td_report_match_quote(&tr, &tq, &err), CCT_OK);
	assert_memory_equal(tq.body.report_data, rd, 64);
	free(q);
	r[0x118] ^= 1; /* MRSEAM of another platform */
	assert_int_not_equal(cct_sim_td_quote(&q, &qn, sim_dir, r, sizeof(r), &err), CCT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepted),
		cmocka_unit_test(every_copied_field),
		cmocka_unit_test(uncopied_bytes),
		cmocka_unit_test(td_report_parser),
		cmocka_unit_test(sim_quote_from_report),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
