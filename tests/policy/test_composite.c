/* Composite verification through the library API (what the key broker calls): a simulated
 * request verifies; every truncation is refused as malformed; byte flips never verify; the
 * TOML subset, policy validation and the nvtrust authorization-rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/attester.h"
#include "cctrust/sim.h"
#include "cctrust/core.h"
#include "cctrust/composite.h"
#include "composite/internal.h"

static char simdir[512];
static char *body;
static const char *nonce_b64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

static int setup(void **state)
{
	cct_attester_opts o;
	cct_err err;
	json_t *jwk = json_loads("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\","
				 "\"x\":\"Ivr33Lt1CYwoLyeCduORPxd_DzvgvmoN0vtQw_p7lfY\","
				 "\"y\":\"azxriO6J5XqEA1agU_wEPTpCxP0b5oXL0NPcW-hmcVU\"}",
				 0, NULL);

	(void)state;
	snprintf(simdir, sizeof(simdir), "%s/sim", cct_test_tmpdir());
	if (cct_sim_init(simdir, &err) != CCT_OK)
		return -1;
	memset(&o, 0, sizeof(o));
	o.nonce_b64 = nonce_b64;
	o.tee_pubkey = jwk;
	if (cct_sim_evidence(&body, simdir, &o, NULL, &err) != CCT_OK)
		return -1;
	json_decref(jwk);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(body);
	return 0;
}

static int verify(const char *b, size_t n, const char *policy_text, json_t **result)
{
	cct_policy *pol = NULL;
	cct_composite_opts o;
	cct_composite_result r;
	cct_token_signer *s = NULL;
	uint8_t *nb = NULL;
	size_t nn = 0;
	int rc;

	assert_int_equal(policy_text ? cct_policy_load(&pol, policy_text, strlen(policy_text), NULL)
				     : cct_policy_default(&pol, NULL),
			 CCT_OK);
	assert_int_equal(cct_b64_decode(&nb, &nn, nonce_b64, strlen(nonce_b64), NULL), CCT_OK);
	assert_int_equal(cct_token_signer_generate(&s, NULL), CCT_OK);
	memset(&o, 0, sizeof(o));
	o.trust_sim_dir = simdir;
	o.expected_nonce = nb;
	o.expected_nonce_len = nn;
	rc = cct_composite_verify(&r, (const uint8_t *)b, n, pol, &o, s);
	assert_non_null(r.result);
	if (rc == CCT_OK) {
		json_t *claims = NULL;
		cct_token_verify_opts to;
		json_t *jwks = cct_token_signer_jwks(s);

		assert_non_null(r.token);
		memset(&to, 0, sizeof(to));
		to.jwks = jwks;
		assert_int_equal(cct_token_verify(&claims, r.token, strlen(r.token), &to, NULL), CCT_OK);
		json_decref(claims);
		json_decref(jwks);
	}
	if (result)
		*result = json_incref(r.result);
	cct_composite_result_clear(&r);
	cct_token_signer_free(s);
	cct_policy_free(pol);
	free(nb);
	return rc;
}

/* exp / iat of another type are refused with a message saying so, never ignored */
static void test_token_time_claims_typed(void **state)
{
	static const char *cases[][2] = {
		{ "{\"exp\": 4102444800.5}", "\"exp\" is not an integer" },
		{ "{\"exp\": \"4102444800\"}", "\"exp\" is not an integer" },
		{ "{}", "has no \"exp\"" },
		{ "{\"exp\": 4102444800, \"iat\": \"9999999999\"}", "\"iat\" is not an integer" },
	};
	cct_token_signer *s = NULL;
	json_t *jwks;
	size_t i;

	(void)state;
	assert_int_equal(cct_token_signer_generate(&s, NULL), CCT_OK);
	jwks = cct_token_signer_jwks(s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *claims = json_loads(cases[i][0], 0, NULL), *out = NULL;
		cct_token_verify_opts to;
		char *tok = NULL;
		cct_err err;

		assert_non_null(claims);
		json_object_set_new(claims, "eat_profile", json_string(CCT_TOKEN_EAR_PROFILE));
		assert_int_equal(cct_token_sign(&tok, s, claims, NULL), CCT_OK);
		memset(&to, 0, sizeof(to));
		to.jwks = jwks;
		to.at = 1700000000;
		assert_int_equal(cct_token_verify(&out, tok, strlen(tok), &to, &err), CCT_EFORMAT);
		assert_non_null(strstr(err.msg, cases[i][1]));
		json_decref(out);
		json_decref(claims);
		free(tok);
	}
	json_decref(jwks);
	cct_token_signer_free(s);
}

static void test_sim_request_verifies(void **state)
{
	(void)state;
	assert_int_equal(verify(body, strlen(body), NULL, NULL), CCT_OK);
}

static void test_every_truncation_refused(void **state)
{
	size_t n = strlen(body), i;

	(void)state;
	for (i = 0; i < n; i += (i < 64 ? 1 : 13)) {
		json_t *res = NULL;
		int rc = verify(body, i, NULL, &res);

		assert_int_not_equal(rc, CCT_OK);
		json_decref(res);
	}
}

/* Flips in the signed report and in the runtime data (the cert table's ARK copy is not
 * trusted anyway: the pinned root is the anchor, so flips there may legitimately verify). */
static void test_byte_flips_never_verify(void **state)
{
	size_t n = strlen(body), i;
	char *b = malloc(n + 1);
	const char *rep = strstr(body, "\"report\": \""), *rd = strstr(body, "\"runtime-data\"");
	size_t rs, re, ds, de;

	(void)state;
	assert_non_null(rep);
	assert_non_null(rd);
	rs = (size_t)(rep - body) + 11;
	re = rs + strcspn(body + rs, "\"");
	ds = (size_t)(rd - body);
	de = ds + strcspn(body + ds, "}") ;
	for (i = 0; i < n; i += 3) {
		if (!((i >= rs && i < re - 4) || (i >= ds && i < de)))
			continue; /* the last base64 chars may carry unused bits */
		memcpy(b, body, n + 1);
		if (b[i] == ' ' || b[i] == '\n') /* whitespace flips may keep the same JSON */
			continue;
		b[i] ^= 0x01;
		if (verify(b, n, NULL, NULL) == CCT_OK)
			fail_msg("flip at %zu (%.40s) still verifies", i, body + (i > 20 ? i - 20 : 0));
	}
	free(b);
}

/* TDX + 2 simulated GPUs through the API: verifies with every claim the rules read; flips in
 * the quote and in the bound GPU evidence never verify. */
static void test_tdx_gpus(void **state)
{
	cct_attester_opts o;
	cct_sim_opts so;
	cct_err err;
	char *b = NULL, *c;
	json_t *res = NULL, *cpu, *g;
	size_t n, i, qs, qe;
	const char *q;
	json_t *jwk = json_loads("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\","
				 "\"x\":\"Ivr33Lt1CYwoLyeCduORPxd_DzvgvmoN0vtQw_p7lfY\","
				 "\"y\":\"azxriO6J5XqEA1agU_wEPTpCxP0b5oXL0NPcW-hmcVU\"}",
				 0, NULL);

	(void)state;
	memset(&o, 0, sizeof(o));
	memset(&so, 0, sizeof(so));
	o.nonce_b64 = nonce_b64;
	o.tee_pubkey = jwk;
	so.tee = "tdx";
	so.gpus = 2;
	assert_int_equal(cct_sim_evidence(&b, simdir, &o, &so, &err), CCT_OK);
	json_decref(jwk);
	n = strlen(b);
	assert_int_equal(verify(b, n, NULL, &res), CCT_OK);
	cpu = json_object_get(json_object_get(json_object_get(res, "submods"), "cpu0"), "claims");
	for (i = 0; i < 4; i++) {
		static const char *const k[] = { "mrtd", "rtmr3", "mrconfigid", "tcb_status" };

		assert_non_null(json_string_value(json_object_get(cpu, k[i])));
	}
	g = json_object_get(json_object_get(json_object_get(res, "submods"), "gpu1"), "claims");
	assert_string_equal(json_string_value(json_object_get(g, "measres")), "success");
	assert_string_equal(json_string_value(json_object_get(g, "arch")), "HOPPER");
	json_decref(res);
	q = strstr(b, "\"quote\": \"");
	assert_non_null(q);
	qs = (size_t)(q - b) + 10;
	qe = qs + strcspn(b + qs, "\"");
	c = malloc(n + 1);
	for (i = qs; i + 4 < qe; i += 61) {
		memcpy(c, b, n + 1);
		c[i] ^= 0x01;
		if (verify(c, n, NULL, NULL) == CCT_OK)
			fail_msg("quote flip at %zu still verifies", i - qs);
	}
	q = strstr(b, "\\\"evidence\\\":\\\"");
	assert_non_null(q);
	for (i = 0; i < 2000; i += 97) {
		memcpy(c, b, n + 1);
		c[(size_t)(q - b) + 15 + i] ^= 0x01;
		if (verify(c, n, NULL, NULL) == CCT_OK)
			fail_msg("GPU evidence flip at %zu still verifies", i);
	}
	free(c);
	free(b);
}

/* The AR4SI trust vector of each submod follows from what was verified, never hard-coded. */
static int tv(json_t *ear, const char *sub, const char *claim)
{
	return (int)json_integer_value(json_object_get(
		json_object_get(json_object_get(json_object_get(ear, "submods"), sub),
				"ear.trustworthiness-vector"),
		claim));
}

static int has_str(const json_t *arr, const char *s)
{
	size_t i;
	json_t *x;

	json_array_foreach(arr, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), s))
			return 1;
	return 0;
}

static void test_trust_vector_from_what_was_verified(void **state)
{
	cct_attester_opts o;
	cct_sim_opts so;
	cct_policy *pol = NULL;
	cct_composite_opts co;
	cct_composite_result r;
	cct_err err;
	char *b = NULL, *req, *rep_b64, *jwk_txt, dir[600], cmd[2000];
	uint8_t *nb = NULL, *rep = NULL, *hex;
	size_t nn = 0, rn = 0, hn;
	json_t *jwk = json_loads("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\","
				 "\"x\":\"Ivr33Lt1CYwoLyeCduORPxd_DzvgvmoN0vtQw_p7lfY\","
				 "\"y\":\"azxriO6J5XqEA1agU_wEPTpCxP0b5oXL0NPcW-hmcVU\"}",
				 0, NULL);

	(void)state;
	assert_int_equal(cct_policy_default(&pol, NULL), CCT_OK);
	assert_int_equal(cct_b64_decode(&nb, &nn, nonce_b64, strlen(nonce_b64), NULL), CCT_OK);
	memset(&o, 0, sizeof(o));
	memset(&so, 0, sizeof(so));
	o.nonce_b64 = nonce_b64;
	o.tee_pubkey = jwk;
	so.tee = "tdx";
	so.gpus = 1;
	assert_int_equal(cct_sim_evidence(&b, simdir, &o, &so, &err), CCT_OK);
	/* 1. simulated TEE, everything checked: hardware and identity unrecognised (97), the
	 *    GPU's executables appraised against its RIMs (2), nothing skipped */
	memset(&co, 0, sizeof(co));
	co.trust_sim_dir = simdir;
	co.expected_nonce = nb;
	co.expected_nonce_len = nn;
	assert_int_equal(cct_composite_verify(&r, (const uint8_t *)b, strlen(b), pol, &co, NULL), CCT_OK);
	assert_int_equal(tv(r.ear, "cpu0", "hardware"), 97);
	assert_int_equal(tv(r.ear, "cpu0", "instance-identity"), 97);
	assert_int_equal(tv(r.ear, "gpu0", "hardware"), 97);
	assert_int_equal(tv(r.ear, "gpu0", "executables"), 2);
	assert_int_equal(json_array_size(json_object_get(r.result, "checks_skipped")), 0);
	cct_composite_result_clear(&r);
	/* 2. no session nonce, binding skipped: the GPU nonce is "not_checked", both listed */
	co.expected_nonce = NULL;
	co.skip_binding_insecure = 1;
	assert_int_equal(cct_composite_verify(&r, (const uint8_t *)b, strlen(b), pol, &co, NULL), CCT_OK);
	assert_true(has_str(json_object_get(r.result, "checks_skipped"), "nonce"));
	assert_true(has_str(json_object_get(r.result, "checks_skipped"), "binding"));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(json_object_get(r.result, "submods"),
								    "gpu0"), "claims"),
				    "x-nvidia-gpu-attestation-report-nonce-match")),
			    "not_checked");
	cct_composite_result_clear(&r);
	free(b);
	/* 3. a real SNP report (virtee/sev, genuine AMD chain), binding and CRL skipped: genuine
	 *    hardware (2), but no claim on the instance (0): it may be revoked or replayed */
	hex = cct_test_read_vector("snp/virtee-sev/report_milan.hex", &hn);
	assert_int_equal(cct_hex_decode(&rep, &rn, (const char *)hex, hn, NULL), CCT_OK);
	rep_b64 = cct_b64_encode(rep, rn, 0);
	req = malloc(strlen(rep_b64) + 1024);
	sprintf(req, "{\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":%s},\"tee-evidence\":"
		     "{\"primary_evidence\":{\"report\":\"%s\"},\"additional_evidence\":\"\"}}",
		nonce_b64, (jwk_txt = json_dumps(jwk, JSON_COMPACT)), rep_b64);
	free(jwk_txt);
	snprintf(dir, sizeof(dir), "%s/vcerts", cct_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && cp '%s' '%s' '%s/'", dir, dir,
		 cct_test_vector_path("snp/virtee-sev/vcek_milan.der"),
		 cct_test_vector_path("snp/virtee-sev/cert_chain_milan.pem"), dir);
	assert_int_equal(system(cmd), 0);
	memset(&co, 0, sizeof(co));
	co.certs_path = dir;
	co.offline = 1;
	co.crl_check_off_insecure = 1;
	co.skip_binding_insecure = 1;
	assert_int_equal(cct_composite_verify(&r, (const uint8_t *)req, strlen(req), pol, &co, NULL), CCT_OK);
	assert_int_equal(tv(r.ear, "cpu0", "hardware"), 2);
	assert_int_equal(tv(r.ear, "cpu0", "instance-identity"), 0);
	assert_true(has_str(json_object_get(r.result, "checks_skipped"), "crl"));
	assert_true(has_str(json_object_get(r.result, "checks_skipped"), "binding"));
	assert_true(has_str(json_object_get(r.result, "checks_skipped"), "nonce"));
	cct_composite_result_clear(&r);
	free(req);
	free(rep_b64);
	free(rep);
	free(hex);
	free(nb);
	json_decref(jwk);
	cct_policy_free(pol);
}

/* Sim evidence of TEE tee (no GPUs) for the session key of setup(); freed by the caller. */
static char *sim_body_of(const char *tee)
{
	cct_attester_opts o;
	cct_sim_opts so;
	cct_err err;
	char *b = NULL;
	json_t *jwk = json_loads("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\","
				 "\"x\":\"Ivr33Lt1CYwoLyeCduORPxd_DzvgvmoN0vtQw_p7lfY\","
				 "\"y\":\"azxriO6J5XqEA1agU_wEPTpCxP0b5oXL0NPcW-hmcVU\"}",
				 0, NULL);

	memset(&o, 0, sizeof(o));
	memset(&so, 0, sizeof(so));
	o.nonce_b64 = nonce_b64;
	o.tee_pubkey = jwk;
	so.tee = tee;
	assert_int_equal(cct_sim_evidence(&b, simdir, &o, &so, &err), CCT_OK);
	json_decref(jwk);
	return b;
}

/* The EAR's cpu0 "executables" of body b under policy_text (the request must verify). */
static int executables_of(const char *b, const char *policy_text)
{
	cct_policy *pol = NULL;
	cct_composite_opts co;
	cct_composite_result r;
	uint8_t *nb = NULL;
	size_t nn = 0;
	int v;

	assert_int_equal(cct_policy_load(&pol, policy_text, strlen(policy_text), NULL), CCT_OK);
	assert_int_equal(cct_b64_decode(&nb, &nn, nonce_b64, strlen(nonce_b64), NULL), CCT_OK);
	memset(&co, 0, sizeof(co));
	co.trust_sim_dir = simdir;
	co.expected_nonce = nb;
	co.expected_nonce_len = nn;
	assert_int_equal(cct_composite_verify(&r, (const uint8_t *)b, strlen(b), pol, &co, NULL),
			 CCT_OK);
	v = tv(r.ear, "cpu0", "executables");
	cct_composite_result_clear(&r);
	cct_policy_free(pol);
	free(nb);
	return v;
}

/* The EAR said executables 2 ("compared with reference values") for an az-tdx-vtpm guest whose
 * policy pinned only an SNP measurement: the snp section, which never judges a TD, was read for
 * every TEE but tdx. The section that judges the TEE's launch measurement decides. */
static void test_executables_claim_of_the_judging_section(void **state)
{
	char *b = sim_body_of("az-tdx-vtpm"), pol[512];
	json_t *res = NULL;
	const char *mrtd;

	(void)state;
	assert_int_equal(verify(b, strlen(b), "{\"version\":\"cctrust.policy/v1\",\"tee\":"
						"[\"az-tdx-vtpm\"]}", &res), CCT_OK);
	mrtd = json_string_value(json_object_get(
		json_object_get(json_object_get(json_object_get(json_object_get(res, "submods"),
								"cpu0"), "claims"), "tdx"),
		"mrtd"));
	assert_non_null(mrtd);
	snprintf(pol, sizeof(pol), "{\"version\":\"cctrust.policy/v1\",\"tee\":[\"az-tdx-vtpm\"],"
				   "\"snp\":{\"measurements\":[\"%096d\"]}}", 0);
	assert_int_equal(executables_of(b, pol), 0);
	snprintf(pol, sizeof(pol), "{\"version\":\"cctrust.policy/v1\",\"tdx\":{\"mrtd\":[\"%s\"]}}",
		 mrtd);
	assert_int_equal(executables_of(b, pol), 2);
	json_decref(res);
	free(b);
}

/* A vtpm section was read only for the vTPM TEEs: a policy pinning vTPM PCRs and Secure Boot
 * with an snp (or tdx) section, or a "tee" list naming snp, accepted plain SNP / TDX evidence
 * with none of its vtpm rules checked. Every vtpm rule now fails for evidence with no vTPM. */
static void test_vtpm_rules_fail_without_vtpm(void **state)
{
	static const char *const tees[] = { "snp", "tdx" };
	char pol[600];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		char *b = sim_body_of(tees[i]);
		json_t *res = NULL, *f;
		size_t j;
		int pcr = 0, sb = 0;

		snprintf(pol, sizeof(pol),
			 "{\"version\":\"cctrust.policy/v1\",\"tee\":[\"%s\",\"az-%s-vtpm\"],"
			 "\"vtpm\":{\"pcrs\":{\"sha256\":{\"7\":[\"%064d\"]}},\"secure_boot\":true}}",
			 tees[i], tees[i], 0);
		assert_int_equal(verify(b, strlen(b), pol, &res), CCT_EPOLICY);
		json_array_foreach(json_object_get(res, "failures"), j, f) {
			const char *r = json_string_value(json_object_get(f, "rule"));

			pcr |= !strcmp(r, "vtpm.pcrs.sha256.7");
			sb |= !strcmp(r, "vtpm.secure_boot");
		}
		if (!pcr || !sb)
			fail_msg("%s: vtpm rules not failed", tees[i]);
		json_decref(res);
		/* an empty vtpm section has no rule to fail */
		snprintf(pol, sizeof(pol), "{\"version\":\"cctrust.policy/v1\",\"%s\":{},\"vtpm\":{}}",
			 tees[i]);
		assert_int_equal(verify(b, strlen(b), pol, NULL), CCT_OK);
		free(b);
	}
}

/* docs/policy.md "Zero GPUs": per-GPU rules have no GPU to judge in a request without GPU
 * evidence (body: SNP, no GPU); required / min_count / count are what demand GPUs. */
static void test_zero_gpus_need_required(void **state)
{
	static const struct {
		const char *gpu;
		int rc;
	} cases[] = {
		{ "{\"architectures\":[\"BLACKWELL\"],\"min_driver_version\":\"999.0\"}", CCT_OK },
		{ "{\"architectures\":[\"HOPPER\"],\"required\":true}", CCT_EPOLICY },
		{ "{\"min_count\":1}", CCT_EPOLICY },
		{ "{\"count\":1}", CCT_EPOLICY },
		{ "{\"authorization_rules\":{\"overall-claims\":{\"x-nvidia-overall-att-result\":true}}}",
		  CCT_EPOLICY },
	};
	char pol[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(pol, sizeof(pol), "{\"version\":\"cctrust.policy/v1\",\"gpu\":%s}",
			 cases[i].gpu);
		if (verify(body, strlen(body), pol, NULL) != cases[i].rc)
			fail_msg("%s: not %d", pol, cases[i].rc);
	}
}

/* A tee-pubkey carrying its private key ("d") was verified and put into the EAR, a bearer
 * token: whoever held it could open every secret wrapped to that key. Refused at the request
 * (cctrustd refuses it before the nonce is spent too). */
static void tee_pubkey_private_members_refused(void **state)
{
	json_t *req = json_loads(body, 0, NULL), *res = NULL;
	char *b, *t;

	(void)state;
	assert_non_null(req);
	json_object_set_new(json_object_get(json_object_get(req, "runtime-data"), "tee-pubkey"),
			    "d", json_string("AAAA"));
	b = json_dumps(req, JSON_COMPACT);
	assert_int_equal(verify(b, strlen(b), NULL, &res), CCT_EFORMAT);
	t = json_dumps(res, 0);
	if (!t || !strstr(t, "private key member \\\"d\\\""))
		fail_msg("not named: %s", t ? t : "(null)");
	free(t);
	json_decref(res);
	free(b);
	json_decref(req);
}

static void test_named_rules(void **state)
{
	json_t *res = NULL, *f;
	const char *pol = "{\"version\":\"cctrust.policy/v1\",\"id\":\"x\",\"tee\":[\"tdx\"],"
			  "\"snp\":{\"min_guest_svn\":5,\"allow_smt\":false},\"gpu\":{\"min_count\":1}}";

	(void)state;
	assert_int_equal(verify(body, strlen(body), pol, &res), CCT_EPOLICY);
	f = json_object_get(res, "failures");
	assert_int_equal(json_array_size(f), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "rule")), "tee");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 1), "rule")),
			    "snp.min_guest_svn");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 2), "rule")),
			    "snp.allow_smt");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 3), "rule")),
			    "gpu.min_count");
	json_decref(res);
}

/* A policy without "tee" accepted every CPU TEE: one pinning only TDX values (or only SNP)
 * accepted genuine evidence of the other TEE with nothing of it pinned. It now allows the TEEs
 * its CPU sections judge; with no CPU section, or with a "tee" list, as before. (body: SNP.) */
static void test_tee_implied_by_sections(void **state)
{
	static const struct {
		const char *pol;
		int rc;
	} cases[] = {
		{ "{\"version\":\"cctrust.policy/v1\",\"tdx\":{}}", CCT_EPOLICY },
		{ "{\"version\":\"cctrust.policy/v1\",\"vtpm\":{}}", CCT_EPOLICY },
		{ "{\"version\":\"cctrust.policy/v1\",\"snp\":{}}", CCT_OK },
		{ "{\"version\":\"cctrust.policy/v1\",\"snp\":{},\"tdx\":{}}", CCT_OK },
		{ "{\"version\":\"cctrust.policy/v1\"}", CCT_OK },
		{ "{\"version\":\"cctrust.policy/v1\",\"gpu\":{}}", CCT_OK },
		{ "{\"version\":\"cctrust.policy/v1\",\"tee\":[\"snp\"],\"tdx\":{}}", CCT_OK },
	};
	json_t *res, *f0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		res = NULL;
		if (verify(body, strlen(body), cases[i].pol, &res) != cases[i].rc)
			fail_msg("%s: not %d", cases[i].pol, cases[i].rc);
		f0 = json_array_get(json_object_get(res, "failures"), 0);
		if (cases[i].rc == CCT_EPOLICY &&
		    (strcmp(json_string_value(json_object_get(f0, "rule")), "tee") ||
		     !strstr(json_string_value(json_object_get(f0, "message")), "no section for it")))
			fail_msg("%s: not the tee rule", cases[i].pol);
		json_decref(res);
	}
}

static void test_policy_validation(void **state)
{
	static const char *bad[] = {
		"[]",
		"{}",
		"{\"version\":\"cctrust.policy/v2\"}",
		"{\"version\":\"cctrust.policy/v1\",\"snp\":{\"measurment\":[]}}",
		"{\"version\":\"cctrust.policy/v1\",\"snp\":{\"measurements\":[\"abcd\"]}}",
		"{\"version\":\"cctrust.policy/v1\",\"snp\":{\"host_data\":\"zz\"}}",
		"{\"version\":\"cctrust.policy/v1\",\"snp\":{\"min_reported_tcb\":{\"bl\":1}}}",
		"{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"cc_mode\":[\"maybe\"]}}",
		"{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"ppcie\":\"sometimes\"}}",
		"{\"version\":\"cctrust.policy/v1\",\"model\":{\"specs\":[\"no-root\"]}}",
		"{\"version\":\"cctrust.policy/v1\",\"tee\":[\"sgx\"]}",
		"{\"version\":\"cctrust.policy/v1\",\"version\":\"cctrust.policy/v1\"}",
	};
	size_t i;
	cct_policy *p = NULL;
	cct_err err;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(cct_policy_load(&p, bad[i], strlen(bad[i]), &err), CCT_OK);
		assert_null(p);
		assert_int_equal(err.stage, CCT_STAGE_POLICY);
	}
}

static void test_toml_subset(void **state)
{
	const char *t = "# c\nalgorithm = \"sha384\"\nversion = '0.1.0'\n\n[data]\n"
			"\"a.b\" = '''\nline1\nline2'''\nesc = \"x\\u00e9\\n\" # trailing\nn = 42\n"
			"[data.sub]\nflag = true\n";
	json_t *o = NULL;
	cct_err err;

	(void)state;
	assert_int_equal(cct_composite__toml_parse(&o, t, strlen(t), &err), CCT_OK);
	assert_string_equal(json_string_value(json_object_get(o, "version")), "0.1.0");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "data"), "a.b")),
			    "line1\nline2");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "data"), "esc")),
			    "x\xc3\xa9\n");
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(o, "data"), "sub"), "flag")));
	json_decref(o);
	/* arrays (launch plans) and radix integers are read; inline tables, floats, dates and
	 * unterminated arrays are not */
	assert_int_equal(cct_composite__toml_parse(&o, "a = [1, \"x\",\n [true], # c\n]\nb = 0x1f\n",
						   37, &err),
			 CCT_OK);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "a"), 0)), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "a"), 1)), "x");
	assert_true(json_is_true(json_array_get(json_array_get(json_object_get(o, "a"), 2), 0)));
	assert_int_equal(json_integer_value(json_object_get(o, "b")), 31);
	json_decref(o);
	assert_int_equal(cct_composite__toml_parse(&o, "a = {x = 1}\n", 12, &err), CCT_EFORMAT);
	assert_int_equal(cct_composite__toml_parse(&o, "a = 1.5\n", 8, &err), CCT_EFORMAT);
	assert_int_equal(cct_composite__toml_parse(&o, "a = 1979-05-27\n", 15, &err), CCT_EFORMAT);
	assert_int_equal(cct_composite__toml_parse(&o, "a = [1, 2\n", 10, &err), CCT_EFORMAT);
	assert_int_equal(cct_composite__toml_parse(&o, "a = [[[[[1]]]]]\n", 16, &err), CCT_EFORMAT);
	assert_int_equal(cct_composite__toml_parse(&o, "a = \"x\n", 7, &err), CCT_EFORMAT);
	assert_int_equal(cct_composite__toml_parse(&o, "a = 1\na = 2\n", 12, &err), CCT_EFORMAT);
	assert_non_null(strstr(err.msg, "line 2: duplicate key \"a\""));
	assert_int_equal(cct_composite__toml_parse(&o, "[[t]]\n", 6, &err), CCT_EFORMAT);
	assert_int_equal(cct_composite__toml_parse(&o, "a = \"\\u0000\"\n", 13, &err), CCT_EFORMAT);
}

static void test_nv_authorization_rules(void **state)
{
	json_t *rules = json_loads("{\"version\":\"4.0\",\"authorization-rules\":{\"type\":\"JWT\","
				   "\"detached-claims\":{\"measres\":\"success\",\"secboot\":true,"
				   "\"dbgstat\":\"disabled\"}}}",
				   0, NULL);
	json_t *good = json_loads("{\"measres\":\"success\",\"secboot\":true,\"dbgstat\":\"disabled\"}",
				  0, NULL);
	json_t *bad = json_loads("{\"measres\":\"fail\",\"secboot\":true}", 0, NULL);
	json_t *f = json_array();

	(void)state;
	cct_policy__nv_rules(rules, good, 0, f);
	assert_int_equal(json_array_size(f), 0);
	cct_policy__nv_rules(rules, bad, 1, f);
	assert_int_equal(json_array_size(f), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "rule")),
			    "gpu.authorization_rules.measres");
	json_decref(rules);
	json_decref(good);
	json_decref(bad);
	json_decref(f);
}

/* nvtrust's comparison, as docs/gpu.md and src/nvgpu: a detached claim that is an object is
 * matched as a subset; every overall claim but the token metadata is enforced (it used to be
 * passed over) */
static void test_nv_rules_subset_and_overall(void **state)
{
	static const char pol_text[] =
		"{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"require_measres\":false,"
		"\"authorization_rules\":{\"version\":\"3.0\",\"authorization-rules\":{"
		"\"overall-claims\":{\"iss\":\"x\",\"x-nvidia-ver\":\"3.0\","
		"\"x-nvidia-overall-att-result\":true%s},"
		"\"detached-claims\":{\"x-nvidia-gpu-attestation-report-cert-chain\":"
		"{\"x-nvidia-cert-status\":\"valid\"}}}}}}";
	json_t *g = json_loads("{\"arch\":\"HOPPER\",\"x-cctrust-cc-mode\":\"on\","
			       "\"x-nvidia-gpu-attestation-report-cert-chain\":{\"x-nvidia-cert-status\":"
			       "\"valid\",\"x-nvidia-cert-ocsp-status\":\"good\"}}",
			       0, NULL);
	const json_t *gs[2] = { g, NULL };
	json_t *cpu_f, *gpu_f[2];
	cct_policy_claims c;
	cct_policy *pol = NULL;
	char text[1024];
	cct_err err;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.gpu_claims = gs;
	c.sections = CCT_POLICY_SECTION_GPU;
	/* one verified GPU: the subset matches, the overall result is true */
	snprintf(text, sizeof(text), pol_text, "");
	assert_int_equal(cct_policy_load(&pol, text, strlen(text), &err), CCT_OK);
	c.gpu_count = 1;
	cpu_f = json_array();
	gpu_f[0] = json_array();
	cct_policy_evaluate(pol, &c, cpu_f, gpu_f);
	assert_int_equal(json_array_size(cpu_f), 0);
	assert_int_equal(json_array_size(gpu_f[0]), 0);
	json_decref(cpu_f);
	json_decref(gpu_f[0]);
	/* a second GPU that did not verify: x-nvidia-overall-att-result is false */
	c.gpu_count = 2;
	cpu_f = json_array();
	gpu_f[0] = json_array();
	gpu_f[1] = json_array();
	cct_policy_evaluate(pol, &c, cpu_f, gpu_f);
	assert_int_equal(json_array_size(cpu_f), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cpu_f, 0), "rule")),
			    "gpu.authorization_rules.overall-claims.x-nvidia-overall-att-result");
	json_decref(cpu_f);
	json_decref(gpu_f[0]);
	json_decref(gpu_f[1]);
	cct_policy_free(pol);
	/* an overall claim cctrust does not state cannot be met: refused, not passed over */
	snprintf(text, sizeof(text), pol_text, ",\"x-nvidia-some-claim\":\"x\"");
	assert_int_equal(cct_policy_load(&pol, text, strlen(text), &err), CCT_OK);
	c.gpu_count = 1;
	cpu_f = json_array();
	gpu_f[0] = json_array();
	cct_policy_evaluate(pol, &c, cpu_f, gpu_f);
	assert_int_equal(json_array_size(cpu_f), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cpu_f, 0), "rule")),
			    "gpu.authorization_rules.overall-claims.x-nvidia-some-claim");
	assert_int_equal(json_array_size(gpu_f[0]), 0);
	json_decref(cpu_f);
	json_decref(gpu_f[0]);
	cct_policy_free(pol);
	json_decref(g);
}

/* gpu.authorization_rules is validated like every other key: a member the evaluator does not
 * read (a typo, claims written without "detached-claims") is refused, never a rule nothing
 * enforces */
static void test_nv_rules_validated(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"authorization-rules\":{\"detachedclaims\":{\"measres\":\"success\"}}}",
		  "gpu.authorization_rules.authorization-rules.detachedclaims" },
		{ "{\"measres\":\"success\"}", "gpu.authorization_rules.measres" },
		{ "{\"detached-claims\":5}", "gpu.authorization_rules.detached-claims" },
		{ "{\"authorization-rules\":[]}", "gpu.authorization_rules.authorization-rules" },
		{ "{\"version\":\"3.0\",\"authorization-rules\":{},\"overall\":{}}",
		  "gpu.authorization_rules.overall" },
		{ "[]", "gpu.authorization_rules" },
	};
	static const char *const good[] = {
		"{\"version\":\"3.0\",\"authorization-rules\":{\"type\":\"JWT\","
		"\"overall-claims\":{\"iss\":\"x\"},\"detached-claims\":{\"measres\":\"success\"}}}",
		"{\"detached-claims\":{\"measres\":\"success\"}}",
	};
	char text[512];
	json_t *errors = NULL;
	cct_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"authorization_rules\":%s}}",
			 bad[i][0]);
		assert_int_not_equal(cct_policy_check(text, strlen(text), &errors, &err), CCT_OK);
		assert_int_equal(json_array_size(errors), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "path")),
				    bad[i][1]);
		json_decref(errors);
	}
	/* an id longer than results and tokens keep would be cut into another policy's id */
	snprintf(text, sizeof(text), "{\"version\":\"cctrust.policy/v1\",\"id\":\"%064d\"}", 0);
	assert_int_not_equal(cct_policy_check(text, strlen(text), &errors, &err), CCT_OK);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "path")),
			    "id");
	json_decref(errors);
	snprintf(text, sizeof(text), "{\"version\":\"cctrust.policy/v1\",\"id\":\"%063d\"}", 0);
	assert_int_equal(cct_policy_check(text, strlen(text), NULL, &err), CCT_OK);
	/* an architecture the GPU verifier does not know never matches: refused as a typo */
	snprintf(text, sizeof(text), "{\"version\":\"cctrust.policy/v1\",\"gpu\":{"
				     "\"architectures\":[\"hopper\",\"H100\"]}}");
	assert_int_not_equal(cct_policy_check(text, strlen(text), &errors, &err), CCT_OK);
	assert_int_equal(json_array_size(errors), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "path")),
			    "gpu.architectures[1]");
	json_decref(errors);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"version\":\"cctrust.policy/v1\",\"gpu\":{\"authorization_rules\":%s}}",
			 good[i]);
		assert_int_equal(cct_policy_check(text, strlen(text), NULL, &err), CCT_OK);
	}
}

/* an attester cc_mode statement that is not a mode is refused, not taken as no statement (the
 * signed report, which cannot tell devtools from on, then decided alone) */
static void test_cc_mode_statement_not_a_string(void **state)
{
	static const char pol_text[] = "{\"version\":\"cctrust.policy/v1\"}";
	json_t *g = json_loads("{\"arch\":\"HOPPER\",\"x-cctrust-cc-mode\":\"on\","
			       "\"measres\":\"success\"}", 0, NULL);
	json_t *nv = json_loads("{\"cc_mode\":5}", 0, NULL), *cpu_f = json_array(), *gpu_f[1];
	const json_t *gs[1] = { g };
	cct_policy_claims c;
	cct_policy *pol = NULL;
	cct_err err;

	(void)state;
	assert_int_equal(cct_policy_load(&pol, pol_text, strlen(pol_text), &err), CCT_OK);
	memset(&c, 0, sizeof(c));
	c.gpu_claims = gs;
	c.gpu_count = 1;
	c.nvidia = nv;
	c.sections = CCT_POLICY_SECTION_GPU;
	gpu_f[0] = json_array();
	cct_policy_evaluate(pol, &c, cpu_f, gpu_f);
	assert_int_equal(json_array_size(gpu_f[0]), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(gpu_f[0], 0), "rule")),
			    "gpu.cc_mode");
	json_decref(gpu_f[0]);
	/* a null statement is no statement: the signed report ("on") decides */
	json_object_set_new(nv, "cc_mode", json_null());
	gpu_f[0] = json_array();
	cct_policy_evaluate(pol, &c, cpu_f, gpu_f);
	assert_int_equal(json_array_size(gpu_f[0]), 0);
	assert_int_equal(json_array_size(cpu_f), 0);
	json_decref(gpu_f[0]);
	json_decref(cpu_f);
	json_decref(nv);
	json_decref(g);
	cct_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_request_verifies),
		cmocka_unit_test(test_nv_rules_subset_and_overall),
		cmocka_unit_test(test_nv_rules_validated),
		cmocka_unit_test(test_cc_mode_statement_not_a_string),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_byte_flips_never_verify),
		cmocka_unit_test(test_tdx_gpus),
		cmocka_unit_test(test_trust_vector_from_what_was_verified),
		cmocka_unit_test(test_named_rules),
		cmocka_unit_test(test_tee_implied_by_sections),
		cmocka_unit_test(test_executables_claim_of_the_judging_section),
		cmocka_unit_test(test_vtpm_rules_fail_without_vtpm),
		cmocka_unit_test(test_zero_gpus_need_required),
		cmocka_unit_test(tee_pubkey_private_members_refused),
		cmocka_unit_test(test_policy_validation),
		cmocka_unit_test(test_toml_subset),
		cmocka_unit_test(test_nv_authorization_rules),
		cmocka_unit_test(test_token_time_claims_typed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
