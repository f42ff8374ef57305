/* GPU verification on NVIDIA's vectors: genuine evidence passes with the values EXPECTED.md
 * states; every tampered variant is rejected with the right code and stage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/nvgpu.h"
#include "nvgpu/nvgpu_internal.h"

#define VD "nvgpu/nvidia-attestation-sdk/"
#define N931 "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
#define NE97 "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"

static uint8_t *hexfile(const char *rel, size_t *n)
{
	size_t len;
	uint8_t *txt = cct_test_read_vector(rel, &len), *out = NULL;

	assert_int_equal(cct_hex_decode(&out, n, (const char *)txt, len, NULL), CCT_OK);
	free(txt);
	return out;
}

/* evidence list of one entry from a hex report + PEM chain, optionally tampered */
static cct_nvgpu_evidence_list *one(const char *arch, const char *rep, const char *chain,
				    long flip_at)
{
	cct_nvgpu_evidence_list *l = calloc(1, sizeof(*l));
	size_t n, pn;
	uint8_t *ev = hexfile(rep, &n), *pem = cct_test_read_vector(chain, &pn);

	if (flip_at < 0)
		flip_at += (long)n;
	if (flip_at >= 0 && flip_at < (long)n && flip_at != 0x7fffffff)
		ev[flip_at] ^= 1;
	assert_int_equal(cct_nvgpu__entry_add(l, arch, ev, n, pem, pn, NULL), CCT_OK);
	free(ev);
	free(pem);
	return l;
}

static cct_nvgpu_evidence_list *json_ev(const char *rel)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(rel, &n);
	cct_nvgpu_evidence_list *l = NULL;

	assert_int_equal(cct_nvgpu_evidence_list_parse(&l, b, n, NULL), CCT_OK);
	free(b);
	return l;
}

static int run(json_t **claims, const cct_nvgpu_opts *o, const cct_nvgpu_evidence_list *l,
	       const char *nonce_hex, cct_err *err)
{
	cct_nvgpu_verifier *v = NULL;
	uint8_t nonce[32];
	int rc;

	assert_int_equal(cct_nvgpu_verifier_new(&v, o, err), CCT_OK);
	assert_int_equal(cct_hex_decode_fixed(nonce, 32, nonce_hex, NULL), CCT_OK);
	rc = cct_nvgpu__verify_claims(claims, v, l, nonce, 32, err);
	cct_nvgpu_verifier_free(v);
	return rc;
}

static const char *gstr(json_t *claims, size_t i, const char *k)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(claims, "gpus"), i), k));
}

static void offline_opts(cct_nvgpu_opts *o)
{
	cct_nvgpu_opts_init(o);
	o->offline = 1;
	o->no_ocsp = 1;
	o->no_rim = 1;
}

static void hopper_580_genuine_values(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = one("HOPPER", VD "testdata/hopperAttestationReport.txt",
					 VD "testdata/hopperCertChain.txt", 0x7fffffff);
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	assert_int_equal(run(&c, &o, l, "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca", &err), CCT_OK);
	assert_string_equal(gstr(c, 0, "hwmodel"), "GH100 A01 GSP BROM");
	assert_string_equal(gstr(c, 0, "ueid"), "509096176156678437554566035365892618958504054724");
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-driver-version"), "580.159.03");
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-vbios-version"), "96.00.74.00.20");
	assert_string_equal(gstr(c, 0, "measres"), "skipped");
	assert_string_equal(gstr(c, 0, "x-cctrust-feature-flag"), "SPT");
	assert_true(json_is_true(json_object_get(
		json_array_get(json_object_get(c, "gpus"), 0),
		"x-nvidia-gpu-attestation-report-cert-chain-fwid-match")));
	assert_true(json_is_true(json_object_get(c, "x-nvidia-overall-att-result")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void blackwell_genuine_values(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l =
		one("BLACKWELL", VD "testdata/sample_attestation_data/gpu/blackwellAttestationReport.txt",
		    VD "testdata/sample_attestation_data/gpu/blackwellCertChain.txt", 0x7fffffff);
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_OK);
	assert_string_equal(gstr(c, 0, "hwmodel"), "GB100 A01 GSP BROM");
	assert_string_equal(gstr(c, 0, "ueid"), "474146966256510137525212816567191319424869109849");
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-driver-version"), "575.32");
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-vbios-version"), "97.00.88.00.0F");
	json_decref(c);
	/* HOPPER claimed for a GB100 chain: arch check fails */
	snprintf(l->e[0].arch, sizeof(l->e[0].arch), "HOPPER");
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_EPOLICY);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void tampered_variants_rejected_at_their_stage(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l;
	json_t *c = NULL;
	cct_err err;
	const char *rep = VD "testdata/hopperAttestationReport.txt";
	const char *ch = VD "testdata/hopperCertChain.txt";
	const char *nonce = "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca";

	(void)state;
	offline_opts(&o);
	/* signature byte */
	l = one("HOPPER", rep, ch, -10);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ESIGNATURE);
	assert_int_equal(err.stage, CCT_STAGE_SIGNATURE);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* measurement byte (block 2's value) */
	l = one("HOPPER", rep, ch, 120);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ESIGNATURE);
	assert_int_equal(err.stage, CCT_STAGE_SIGNATURE);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* wrong nonce */
	l = one("HOPPER", rep, ch, 0x7fffffff);
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_ENONCE);
	assert_int_equal(err.stage, CCT_STAGE_BINDING);
	json_decref(c);
	/* foreign root: the chain does not reach the root we trust */
	o.device_root_path_insecure = cct_test_vector_path(VD "testdata/incorrect_rim_root.crt");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	json_decref(c);
	o.device_root_path_insecure = NULL;
	/* the published invalid-signature report */
	cct_nvgpu_evidence_list_free(l);
	l = one("HOPPER", VD "testdata/sample_attestation_data/gpu/hopperAttestationReportInvalidSignature.txt",
		VD "testdata/sample_attestation_data/gpu/hopperCertChainExpired.txt", 0x7fffffff);
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_ESIGNATURE);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

/* Evidence as some driver stacks return it: the SPDM bytes followed by zero padding. The
 * signature still verifies, the padding length is reported; a non-zero byte there is refused. */
static void zero_padding_after_signature(void **state)
{
	const char *rep = VD "testdata/hopperAttestationReport.txt";
	const char *nonce = "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca";
	size_t n, pn;
	uint8_t *ev = hexfile(rep, &n), *pem = cct_test_read_vector(VD "testdata/hopperCertChain.txt", &pn);
	uint8_t *pad = calloc(1, n + 256);
	cct_nvgpu_evidence_list *l = calloc(1, sizeof(*l));
	cct_nvgpu_opts o;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	memcpy(pad, ev, n);
	assert_int_equal(cct_nvgpu__entry_add(l, "HOPPER", pad, n + 256, pem, pn, NULL), CCT_OK);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(c, "gpus"), 0), "x-cctrust-evidence-padding")),
			 256);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(c, "gpus"), 0),
						 "x-nvidia-gpu-attestation-report-signature-verified")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* one non-zero byte in the padding: refused at parse, before any trust decision */
	pad[n + 100] = 0x80;
	l = calloc(1, sizeof(*l));
	assert_int_equal(cct_nvgpu__entry_add(l, "HOPPER", pad, n + 256, pem, pn, NULL), CCT_OK);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ETRAILING);
	assert_int_equal(err.stage, CCT_STAGE_PARSE);
	assert_int_equal(err.offset, n + 100);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	free(pad);
	free(ev);
	free(pem);
}

static void chain_with_self_signed_leaf_is_refused(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = one("HOPPER", VD "testdata/hopperAttestationReport.txt",
					 VD "testdata/hopperCertChain.txt", 0x7fffffff);
	size_t pn;
	uint8_t *root = cct_test_read_vector(VD "testdata/incorrect_rim_root.crt", &pn);
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	/* replace the device chain by a foreign self-signed certificate */
	free(l->e[0].chain_pem);
	l->e[0].chain_pem = root;
	l->e[0].chain_pem_size = pn;
	assert_int_equal(run(&c, &o, l, "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca", &err), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void serialized_lists_and_duplicate_ueids(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	l = json_ev(VD "serialized_test_evidence/multi_gpu_hopper.json");
	assert_int_equal(cct_nvgpu_evidence_list_count(l), 4);
	assert_int_equal(run(&c, &o, l, NE97, &err), CCT_OK);
	json_decref(c);
	o.expected_count = 8;
	assert_int_equal(run(&c, &o, l, NE97, &err), CCT_EPOLICY);
	json_decref(c);
	o.expected_count = 0;
	cct_nvgpu_evidence_list_free(l);
	l = json_ev(VD "serialized_test_evidence/multi_switch_ls10.json");
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_EPOLICY);
	assert_int_equal(err.stage, CCT_STAGE_POLICY);
	assert_non_null(strstr(err.msg, "same UEID"));
	assert_true(json_is_false(json_object_get(c, "x-nvidia-overall-att-result")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void kbs_form_parses(void **state)
{
	const char *doc_fmt = "{\"device_evidence_list\":[{\"arch\":\"LS10\",\"uuid\":\"SW-1\","
			      "\"evidence\":\"%s\",\"certificate\":\"%s\"}]}";
	size_t n, pn;
	uint8_t *ev = cct_test_read_vector(VD "derived/switch_evidence_ls10_0.bin", &n);
	uint8_t *pem = cct_test_read_vector(VD "derived/switch_evidence_ls10_0.pem", &pn);
	char *e64 = cct_b64_encode(ev, n, 0), *p64 = cct_b64_encode(pem, pn, 0);
	char *doc = malloc(strlen(e64) + strlen(p64) + 256);
	cct_nvgpu_evidence_list *l = NULL;
	cct_nvgpu_opts o;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	sprintf(doc, doc_fmt, e64, p64);
	assert_int_equal(cct_nvgpu_evidence_list_parse(&l, (uint8_t *)doc, strlen(doc), &err), CCT_OK);
	offline_opts(&o);
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_OK);
	assert_string_equal(gstr(c, 0, "x-cctrust-uuid"), "SW-1");
	assert_string_equal(gstr(c, 0, "x-nvidia-switch-bios-version"), "96.10.55.00.01");
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	assert_int_equal(cct_nvgpu_evidence_list_parse(&l, (const uint8_t *)"{\"x\":1}", 7, &err),
			 CCT_EFORMAT);
	assert_int_equal(cct_nvgpu_evidence_list_parse(&l, (const uint8_t *)"[{", 2, &err),
			 CCT_EENCODING);
	/* an "arch" that is there but not a string is not called missing */
	assert_int_equal(cct_nvgpu_evidence_list_parse(&l, (const uint8_t *)"[{\"arch\":5}]", 12,
						       &err),
			 CCT_EFORMAT);
	assert_string_equal(err.msg, "device evidence 0: \"arch\" is not a string (want HOPPER, "
				     "BLACKWELL or LS10)");
	assert_int_equal(cct_nvgpu_evidence_list_parse(&l, (const uint8_t *)"[{}]", 4, &err),
			 CCT_EFORMAT);
	assert_string_equal(err.msg, "device evidence 0: \"arch\" missing");
	free(doc);
	free(e64);
	free(p64);
	free(ev);
	free(pem);
}

static const char *rim_dir_with(const char *name, const char *src_rel, const char *as)
{
	static char dir[512];
	char cmd[2048];

	snprintf(dir, sizeof(dir), "%s/%s", cct_test_tmpdir(), name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && cp '%s' '%s/%s'", dir, dir,
		 cct_test_vector_path(src_rel), dir, as);
	assert_int_equal(system(cmd), 0);
	return dir;
}

static void switch_with_genuine_rim_full_golden_comparison(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = json_ev(VD "serialized_test_evidence/switch_evidence_ls10.json");
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	o.no_rim = 0;
	o.rim_dir = rim_dir_with("swrim", VD "testdata/switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml",
				 "switchVBIOSRim_NV_SWITCH_BIOS_5612_0002_890_9610550001.xml");
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_OK);
	assert_string_equal(gstr(c, 0, "measres"), "success");
	assert_string_equal(gstr(c, 0, "oemid"), "5703");
	/* genuine RIM under NVIDIA's pinned roots: identity matches, nothing marked simulated */
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(c, "gpus"), 0),
						 "x-nvidia-switch-bios-rim-identity-match")));
	assert_string_equal(gstr(c, 0, "x-nvidia-switch-bios-rim-root"), "pinned");
	assert_string_equal(gstr(c, 0, "x-cctrust-device-root"), "pinned");
	assert_true(json_is_false(json_object_get(c, "x-cctrust-simulated")));
	/* matching golden measurements say which firmware runs, not its debug state */
	assert_string_equal(gstr(c, 0, "secboot"), "unknown");
	assert_string_equal(gstr(c, 0, "dbgstat"), "unknown");
	json_decref(c);
	/* NVIDIA's genuine, validly signed RIM of a GH100 GPU driver offered as this switch's BIOS
	 * RIM: a RIM for another device is refused by what it states, whatever its file name */
	o.rim_dir = rim_dir_with("swrim-gpu", VD "testdata/NV_GPU_DRIVER_GH100_550.144.03.xml",
				 "NV_SWITCH_BIOS_5612_0002_890_9610550001.xml");
	o.at = 1780272000; /* 2026-06-01: the RIM signer is valid */
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	assert_non_null(strstr(err.msg, "another device"));
	assert_non_null(strstr(err.msg, "GH100"));
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(c, "gpus"), 0),
						  "x-nvidia-switch-bios-rim-identity-match")));
	json_decref(c);
	o.at = 0;
	/* the same RIM with a broken signature */
	o.rim_dir = rim_dir_with("swrim-bad", VD "testdata/sample_rims/NV_SWITCH_BIOS_5612_0002_890_9610550001_invalid_signature.xml",
				 "NV_SWITCH_BIOS_5612_0002_890_9610550001.xml");
	o.at = 1748736000; /* 2025-06-01: signer valid */
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_ESIGNATURE);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	json_decref(c);
	/* RIMs missing and no --no-rim: fail closed */
	o.at = 0;
	o.rim_dir = rim_dir_with("empty", VD "testdata/incorrect_rim_root.crt", "x.crt");
	assert_int_equal(run(&c, &o, l, N931, &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void rim_from_wrong_driver_version_refused(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = one("HOPPER", VD "testdata/hopperAttestationReport.txt",
					 VD "testdata/hopperCertChain.txt", 0x7fffffff);
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	o.no_rim = 0;
	/* genuine 550.144.03 driver RIM offered under the 580.159.03 id */
	o.rim_dir = rim_dir_with("wrongver", VD "testdata/NV_GPU_DRIVER_GH100_550.144.03.xml",
				 "NV_GPU_DRIVER_GH100_580.159.03.xml");
	o.at = 1780272000; /* 2026-06-01 */
	assert_int_equal(run(&c, &o, l, "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca", &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	assert_non_null(strstr(err.msg, "550.144.03"));
	assert_true(json_is_false(json_object_get(json_array_get(json_object_get(c, "gpus"), 0),
						  "x-nvidia-gpu-driver-rim-version-match")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static int rim_check(const char *rel, time_t at, const char *root_rel, cct_err *err)
{
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	size_t n;
	uint8_t *x = cct_test_read_vector(rel, &n);
	char *info = NULL;
	int rc;

	cct_nvgpu_opts_init(&o);
	o.no_ocsp = 1;
	o.at = at;
	o.rim_root_path_insecure = root_rel ? cct_test_vector_path(root_rel) : NULL;
	assert_int_equal(cct_nvgpu_verifier_new(&v, &o, NULL), CCT_OK);
	rc = cct_nvgpu_rim_check(&info, v, x, n, err);
	assert_non_null(info);
	free(info);
	free(x);
	cct_nvgpu_verifier_free(v);
	return rc;
}

static void rim_documents(void **state)
{
	cct_err err;

	(void)state;
	assert_int_equal(rim_check(VD "testdata/NV_GPU_DRIVER_GH100_550.144.03.xml", 1780272000, NULL, &err), CCT_OK);
	assert_int_equal(rim_check(VD "testdata/NV_GPU_DRIVER_GH100_550.144.03.xml", 1780272000,
				   VD "testdata/incorrect_rim_root.crt", &err), CCT_ECHAIN);
	assert_int_equal(rim_check(VD "testdata/NV_GPU_DRIVER_GH100_550.144.03.xml", 1717200000, NULL, &err), CCT_EEXPIRED);
	assert_int_equal(rim_check(VD "testdata/incorrect_signature_driver_rim.xml", 1780272000, NULL, &err), CCT_ESIGNATURE);
	assert_int_equal(rim_check(VD "testdata/incorrect_cert_chain_driver_rim.xml", 1780272000, NULL, &err), CCT_ECHAIN);
	assert_int_equal(rim_check(VD "testdata/sample_rims/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml", 1717200000, NULL, &err), CCT_OK);
	assert_int_equal(rim_check(VD "testdata/sample_rims/NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml", 1795392000, NULL, &err), CCT_EEXPIRED);
	assert_int_equal(rim_check(VD "testdata/sample_rims/NV_GPU_DRIVER_GH100_570.124.03_expired.xml", 1717200000, NULL, &err), CCT_ESIGNATURE);
}

static void policy_authorization_rules(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = json_ev(VD "serialized_test_evidence/hopper_evidence.json");
	const char *good = "{\"version\":\"3.0\",\"authorization-rules\":{\"type\":\"JWT\","
			   "\"overall-claims\":{\"iss\":\"x\",\"x-nvidia-overall-att-result\":true},"
			   "\"detached-claims\":{\"x-nvidia-gpu-arch-check\":true,"
			   "\"x-nvidia-gpu-attestation-report-cert-chain\":{\"x-nvidia-cert-status\":\"valid\"}}}}";
	const char *strict = "{\"authorization-rules\":{\"detached-claims\":{\"measres\":\"success\"}}}";
	json_t *c = NULL;
	cct_err err;

	(void)state;
	offline_opts(&o);
	o.policy_path = cct_test_write_tmp("pol-good.json", good, strlen(good));
	assert_int_equal(run(&c, &o, l, NE97, &err), CCT_OK);
	json_decref(c);
	o.policy_path = cct_test_write_tmp("pol-strict.json", strict, strlen(strict));
	assert_int_equal(run(&c, &o, l, NE97, &err), CCT_EPOLICY); /* measres is "skipped" */
	assert_int_equal(err.stage, CCT_STAGE_POLICY);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void cli_contract(void **state)
{
	char *out = NULL;
	const char *ev = cct_test_vector_path(VD "serialized_test_evidence/hopper_evidence.json");
	char path[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s", ev);
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --offline --no-ocsp --no-rim --json --nonce %s", path, NE97), 0);
	assert_non_null(strstr(out, "\"verified\": true"));
	assert_non_null(strstr(out, "\"x-nvidia-overall-att-result\": true"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --offline --no-ocsp --no-rim --json --nonce %s", path, N931), 1);
	assert_non_null(strstr(out, "\"stage\": \"binding\""));
	free(out);
	assert_int_equal(cct_test_cli(&out, "gpu verify /nonexistent.json --no-rim"), 2);
	free(out);
	/* no --nonce: the evidence file's own nonce is never the expected one. Refused, and the
	 * nonce is "not_checked" (never true); --no-nonce accepts it saying freshness is not
	 * established and listing every skipped check */
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --offline --no-ocsp --no-rim --json", path), 1);
	assert_non_null(strstr(out, "\"x-nvidia-gpu-attestation-report-nonce-match\": \"not_checked\""));
	assert_null(strstr(out, "\"x-nvidia-gpu-attestation-report-nonce-match\": true"));
	assert_non_null(strstr(out, "\"code\": \"nonce\""));
	free(out);
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --offline --no-ocsp --no-rim --json --no-nonce", path), 0);
	assert_non_null(strstr(out, "\"x-nvidia-gpu-attestation-report-nonce-match\": \"not_checked\""));
	assert_non_null(strstr(out, "\"freshness\": \"not-established\""));
	assert_non_null(strstr(out, "\"checks_skipped\": [\n    \"ocsp\",\n    \"nonce\",\n    \"rim\"\n  ]"));
	assert_non_null(strstr(out, "\"simulated\": false"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --offline --no-ocsp --no-rim --no-nonce 2>&1", path), 0);
	assert_non_null(strstr(out, "checks skipped (the verdict does not rest on them): ocsp, nonce, rim"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --nonce %s --no-nonce", path, NE97), 2);
	free(out);
	/* with the nonce: freshness established */
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --offline --no-ocsp --no-rim --json --nonce %s", path, NE97), 0);
	assert_non_null(strstr(out, "\"freshness\": \"established\""));
	free(out);
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --nonce 12", path), 2);
	free(out);
	/* offline without --no-ocsp: no OCSP response available -> rejected, fail closed */
	assert_int_equal(cct_test_cli(&out, "gpu verify %s --offline --no-rim --nonce %s", path, NE97), 1);
	free(out);
	assert_int_equal(cct_test_cli(&out, "gpu show %s", path), 0);
	assert_non_null(strstr(out, "FEATURE_FLAG"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hopper_580_genuine_values),
		cmocka_unit_test(blackwell_genuine_values),
		cmocka_unit_test(tampered_variants_rejected_at_their_stage),
		cmocka_unit_test(zero_padding_after_signature),
		cmocka_unit_test(chain_with_self_signed_leaf_is_refused),
		cmocka_unit_test(serialized_lists_and_duplicate_ueids),
		cmocka_unit_test(kbs_form_parses),
		cmocka_unit_test(switch_with_genuine_rim_full_golden_comparison),
		cmocka_unit_test(rim_from_wrong_driver_version_refused),
		cmocka_unit_test(rim_documents),
		cmocka_unit_test(policy_authorization_rules),
		cmocka_unit_test(cli_contract),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
