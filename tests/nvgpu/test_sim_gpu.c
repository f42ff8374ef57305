/* Simulated NVIDIA GPU (src/attester/sim_gpu.c) against the real GPU verifier: honest simulated
 * evidence + RIMs + OCSP verify when (and only when) the simulated roots are injected, and every
 * case the GPU verifier must refuse is refused at the right stage with an actionable message:
 * golden mismatch (index, expected, actual, RIM), driver/VBIOS index conflict, wrong nonce,
 * flipped bytes, FWID mismatch, duplicate UEIDs, RIM for another version, revoked / held /
 * stale OCSP, expired RIM signer. Measurements no RIM appraises, and the PPCIe flag, do not
 * change the verdict (CC mode is not in SPDM evidence; the composite verifier enforces it).
 * `nvgpu_test_sim_gpu --generate DIR` writes a sim directory + evidence (tests/nvgpu/e2e_sim.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "sim/sim_gpu.h"
#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/nvgpu.h"
#include "nvgpu/nvgpu_internal.h"
#include "nvgpu/spdm.h"

#define NDEV 4

static cct_sim_gpu *sim;
static char dir[600];       /* saved sim: dir/{device-root.pem,rim-root.pem,rims,ocsp} */
static char devroot[700], rimroot[700], rimdir[700], ocspdir[700];
static const uint8_t nonce[32] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
				   0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
				   0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
				   0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f };

static int setup(void **state)
{
	cct_sim_gpu_opts so;
	cct_err err;

	(void)state;
	memset(&so, 0, sizeof(so));
	so.device_count = NDEV;
	snprintf(dir, sizeof(dir), "%s/sim/gpu", cct_test_tmpdir());
	if (cct_sim_gpu_init_dir(&sim, dir, &so, &err) != CCT_OK) {
		fprintf(stderr, "sim init: %s\n", err.msg);
		return -1;
	}
	snprintf(devroot, sizeof(devroot), "%s/%s", dir, CCT_SIM_GPU_DEVICE_ROOT);
	snprintf(rimroot, sizeof(rimroot), "%s/%s", dir, CCT_SIM_GPU_RIM_ROOT);
	snprintf(rimdir, sizeof(rimdir), "%s/%s", dir, CCT_SIM_GPU_RIM_SUBDIR);
	snprintf(ocspdir, sizeof(ocspdir), "%s/%s", dir, CCT_SIM_GPU_OCSP_SUBDIR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cct_sim_gpu_free(sim);
	return 0;
}

/* options with the simulated roots injected, offline, OCSP and RIMs from the sim directory */
static void sim_opts(cct_nvgpu_opts *o)
{
	cct_nvgpu_opts_init(o);
	o->device_root_path_insecure = devroot;
	o->rim_root_path_insecure = rimroot;
	o->rim_dir = rimdir;
	o->ocsp_dir = ocspdir;
	o->offline = 1;
}

static cct_nvgpu_evidence_list *sim_list(const cct_sim_gpu *g,
					 const cct_sim_gpu_evidence_opts *eo, int nvidia_form)
{
	char *kbs = NULL, *nv = NULL, *j;
	cct_nvgpu_evidence_list *l = NULL;
	cct_err err;

	assert_int_equal(cct_sim_gpu_evidence(&kbs, &nv, g, nonce, eo, &err), CCT_OK);
	j = nvidia_form ? nv : kbs;
	assert_int_equal(cct_nvgpu_evidence_list_parse(&l, (const uint8_t *)j, strlen(j), &err),
			 CCT_OK);
	free(kbs);
	free(nv);
	return l;
}

static int run(json_t **claims, const cct_nvgpu_opts *o, const cct_nvgpu_evidence_list *l,
	       const uint8_t *n, cct_err *err)
{
	cct_nvgpu_verifier *v = NULL;
	int rc;

	assert_int_equal(cct_nvgpu_verifier_new(&v, o, err), CCT_OK);
	rc = cct_nvgpu__verify_claims(claims, v, l, n, n ? 32 : 0, err);
	cct_nvgpu_verifier_free(v);
	return rc;
}

static json_t *gpu(json_t *c, size_t i)
{
	return json_array_get(json_object_get(c, "gpus"), i);
}

static const char *gstr(json_t *c, size_t i, const char *k)
{
	return json_string_value(json_object_get(gpu(c, i), k));
}

static const char *chain_ocsp(json_t *c, size_t i, const char *k)
{
	return json_string_value(json_object_get(json_object_get(gpu(c, i), k),
						 "x-nvidia-cert-ocsp-status"));
}

static void ueid_of(const X509 *x, char *buf, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *d = BN_bn2dec(bn);

	snprintf(buf, size, "%s", d);
	OPENSSL_free(d);
	BN_free(bn);
}

static const char *subdir(const char *name)
{
	static char p[800];

	snprintf(p, sizeof(p), "%s/%s", cct_test_tmpdir(), name);
	return p;
}

/* ---- honest evidence ---- */
static void honest_evidence_verifies_with_injected_roots(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	json_t *c = NULL;
	cct_err err;
	char ueid[80], id[160];

	(void)state;
	sim_opts(&o);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	assert_true(json_is_true(json_object_get(c, "x-nvidia-overall-att-result")));
	assert_string_equal(gstr(c, 0, "measres"), "success");
	assert_string_equal(gstr(c, 0, "hwmodel"), "GH100 A01 GSP BROM");
	ueid_of(sim->dev[0].leaf, ueid, sizeof(ueid));
	assert_string_equal(gstr(c, 0, "ueid"), ueid);
	assert_string_equal(gstr(c, 0, "x-cctrust-uuid"), sim->dev[0].uuid);
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-driver-version"), CCT_SIM_GPU_DEFAULT_DRIVER);
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-vbios-version"), CCT_SIM_GPU_DEFAULT_VBIOS);
	assert_string_equal(gstr(c, 0, "x-cctrust-feature-flag"), "SPT");
	cct_sim_gpu_rim_id(id, sizeof(id), sim, CCT_SIM_GPU_RIM_DRIVER, CCT_SIM_GPU_DEFAULT_DRIVER);
	assert_string_equal(id, "NV_GPU_DRIVER_GH100_590.12");
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-driver-rim-id"), id);
	cct_sim_gpu_rim_id(id, sizeof(id), sim, CCT_SIM_GPU_RIM_VBIOS, CCT_SIM_GPU_DEFAULT_VBIOS);
	assert_string_equal(id, "NV_GPU_VBIOS_G520_0200_885_9600A50001");
	assert_string_equal(gstr(c, 0, "x-nvidia-gpu-vbios-rim-id"), id);
	assert_true(json_is_true(json_object_get(gpu(c, 0), "x-nvidia-gpu-vbios-index-no-conflict")));
	assert_true(json_is_true(json_object_get(gpu(c, 0), "x-nvidia-gpu-attestation-report-cert-chain-fwid-match")));
	assert_string_equal(chain_ocsp(c, 0, "x-nvidia-gpu-attestation-report-cert-chain"), "good");
	assert_string_equal(chain_ocsp(c, 0, "x-nvidia-gpu-driver-rim-cert-chain"), "good");
	assert_string_equal(chain_ocsp(c, 0, "x-nvidia-gpu-vbios-rim-cert-chain"), "good");
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* NVIDIA's list form carries the nonce: it verifies with it (freshness warned) */
	l = sim_list(sim, NULL, 1);
	assert_int_equal(run(&c, &o, l, NULL, &err), CCT_OK);
	assert_non_null(strstr(gstr(c, 0, "x-nvidia-attestation-warning"), "freshness"));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void spdm_shape_matches_nvidia(void **state)
{
	uint8_t *ev = NULL;
	size_t n = 0;
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	char t[64];
	cct_err err;

	(void)state;
	assert_int_equal(cct_sim_gpu_spdm(&ev, &n, sim, 1, nonce, NULL, &err), CCT_OK);
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, &err), CCT_OK);
	assert_int_equal(sp->req_param1, 1);
	assert_int_equal(sp->req_param2, 0xff);
	assert_memory_equal(sp->req_nonce, nonce, 32);
	assert_int_equal(sp->block_count, 64);
	assert_int_equal(sp->record_size, 64 * 55);
	assert_int_equal(sp->blocks[0].value_size, 48);
	cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_DRIVER_VERSION), t, sizeof(t));
	assert_string_equal(t, "590.12");
	cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_PROJECT), t, sizeof(t));
	assert_string_equal(t, "G520");
	cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_CHIP_SKU), t, sizeof(t));
	assert_string_equal(t, "885");
	assert_memory_equal(cct_spdm_opaque_find(sp, CCT_NVOPQ_VBIOS_VERSION)->value,
			    "\x00\xa5\x00\x96\x01\x00\x00\x00", 8);
	assert_memory_equal(cct_spdm_opaque_find(sp, CCT_NVOPQ_FWID)->value, sim->dev[1].fwid, 48);
	assert_int_equal(cct_spdm_opaque_find(sp, CCT_NVOPQ_FEATURE_FLAG)->value[0], 0);
	assert_int_equal(sp->signed_size + 96, n);
	free(sp);
	free(ev);
	/* a device that does not exist, and a bad version */
	assert_int_equal(cct_sim_gpu_spdm(&ev, &n, sim, NDEV, nonce, NULL, &err), CCT_EINVAL);
	{
		cct_sim_gpu_evidence_opts eo;

		memset(&eo, 0, sizeof(eo));
		eo.vbios_version = "96.00.A5";
		assert_int_equal(cct_sim_gpu_spdm(&ev, &n, sim, 0, nonce, &eo, &err), CCT_EINVAL);
		eo.vbios_version = NULL;
		eo.gpu_count = NDEV + 1;
		assert_int_equal(cct_sim_gpu_evidence(NULL, NULL, sim, nonce, &eo, &err), CCT_EINVAL);
	}
}

static void refused_without_injected_roots(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	json_t *c = NULL;
	cct_err err;

	(void)state;
	/* pinned NVIDIA device root: the simulated chain does not reach it */
	sim_opts(&o);
	o.device_root_path_insecure = NULL;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	assert_false(json_is_true(json_object_get(c, "x-nvidia-overall-att-result")));
	json_decref(c);
	/* device root injected, but the pinned RIM root: the simulated RIMs are refused */
	sim_opts(&o);
	o.rim_root_path_insecure = NULL;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	assert_non_null(strstr(err.msg, "RIM"));
	json_decref(c);
	/* and without RIMs at all (no --rim-dir, offline): fail closed */
	sim_opts(&o);
	o.rim_dir = NULL;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

/* ---- golden comparison ---- */
static void golden_mismatch_names_index_digests_and_rim(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	cct_sim_gpu_rim_opts ro;
	json_t *c = NULL, *m;
	cct_err err;
	uint8_t *ev = NULL;
	size_t n;
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	char actual[97];

	(void)state;
	/* driver RIM index 22 (SPDM block 23) differs */
	memset(&ro, 0, sizeof(ro));
	ro.wrong_index = 23;
	assert_int_equal(cct_sim_gpu_rims(sim, subdir("rims-drv-mismatch"), &ro, &err), CCT_OK);
	sim_opts(&o);
	o.rim_dir = subdir("rims-drv-mismatch");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EMEASUREMENT);
	assert_int_equal(err.stage, CCT_STAGE_MEASUREMENT);
	assert_non_null(strstr(err.msg, "index 23"));
	assert_non_null(strstr(err.msg, "driver RIM NV_GPU_DRIVER_GH100_590.12"));
	assert_string_equal(gstr(c, 0, "measres"), "failure");
	assert_int_equal(json_array_size(json_object_get(gpu(c, 0), "x-cctrust-mismatched-measurements")), 1);
	m = json_array_get(json_object_get(gpu(c, 0), "x-cctrust-mismatched-measurements"), 0);
	assert_int_equal(json_integer_value(json_object_get(m, "index")), 23);
	assert_string_equal(json_string_value(json_object_get(m, "rim")), "driver");
	assert_string_equal(json_string_value(json_object_get(m, "rim-id")), "NV_GPU_DRIVER_GH100_590.12");
	/* actual = the evidence's block 23; expected = the (wrong) RIM value, which differs */
	assert_int_equal(cct_sim_gpu_spdm(&ev, &n, sim, 0, nonce, NULL, &err), CCT_OK);
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, &err), CCT_OK);
	cct_hex_encode(actual, cct_spdm_block_find(sp, 23)->value, 48);
	assert_string_equal(json_string_value(json_object_get(m, "actual")), actual);
	assert_int_equal(json_array_size(json_object_get(m, "expected")), 1);
	assert_string_not_equal(json_string_value(json_array_get(json_object_get(m, "expected"), 0)), actual);
	json_decref(c);
	/* VBIOS index 2 (block 3) differs: the VBIOS RIM is named */
	ro.wrong_index = 3;
	assert_int_equal(cct_sim_gpu_rims(sim, subdir("rims-vb-mismatch"), &ro, &err), CCT_OK);
	o.rim_dir = subdir("rims-vb-mismatch");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EMEASUREMENT);
	assert_non_null(strstr(err.msg, "index 3 (VBIOS RIM NV_GPU_VBIOS_G520_0200_885_9600A50001)"));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* the evidence side: a measurement that differs, signed by the GPU, honest RIMs */
	{
		cct_sim_gpu_evidence_opts eo;

		memset(&eo, 0, sizeof(eo));
		eo.alter_index = 8; /* driver RIM index 7 */
		l = sim_list(sim, &eo, 0);
		sim_opts(&o);
		assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EMEASUREMENT);
		assert_non_null(strstr(err.msg, "index 8 (driver RIM"));
		json_decref(c);
		cct_nvgpu_evidence_list_free(l);
	}
	/* alternatives: the real value as Hash1 next to a decoy Hash0 is accepted */
	memset(&ro, 0, sizeof(ro));
	ro.alternatives = 1;
	assert_int_equal(cct_sim_gpu_rims(sim, subdir("rims-alternatives"), &ro, &err), CCT_OK);
	l = sim_list(sim, NULL, 0);
	sim_opts(&o);
	o.rim_dir = subdir("rims-alternatives");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	free(sp);
	free(ev);
}

static void driver_vbios_index_conflict_refused(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	cct_sim_gpu_rim_opts ro;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	memset(&ro, 0, sizeof(ro));
	ro.conflict = 1;
	assert_int_equal(cct_sim_gpu_rims(sim, subdir("rims-conflict"), &ro, &err), CCT_OK);
	sim_opts(&o);
	o.rim_dir = subdir("rims-conflict");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EMEASUREMENT);
	assert_int_equal(err.stage, CCT_STAGE_MEASUREMENT);
	assert_non_null(strstr(err.msg, "both set measurement index 1"));
	assert_true(json_is_false(json_object_get(gpu(c, 0), "x-nvidia-gpu-vbios-index-no-conflict")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

/* Measurements no RIM marks active are not appraised, and the feature flag (PPCIe vs SPT) is
 * reported, not judged: the SPDM evidence says nothing about CC mode. */
static void unappraised_index_and_ppcie_do_not_change_the_verdict(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l;
	cct_sim_gpu_evidence_opts eo;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	memset(&eo, 0, sizeof(eo));
	eo.alter_index = 50; /* RIM index 49: inactive in both RIMs */
	eo.ppcie = 1;
	l = sim_list(sim, &eo, 0);
	sim_opts(&o);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	assert_string_equal(gstr(c, 0, "measres"), "success");
	assert_string_equal(gstr(c, 0, "x-cctrust-feature-flag"), "PPCIE");
	assert_true(json_is_true(json_object_get(gpu(c, 0), "x-cctrust-ppcie-mode")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

/* ---- binding and integrity ---- */
static void wrong_nonce_refused(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	json_t *c = NULL;
	cct_err err;
	uint8_t other[32];

	(void)state;
	memcpy(other, nonce, 32);
	other[31] ^= 0x80;
	sim_opts(&o);
	assert_int_equal(run(&c, &o, l, other, &err), CCT_ENONCE);
	assert_int_equal(err.stage, CCT_STAGE_BINDING);
	assert_int_equal(err.offset, 4);
	assert_true(json_is_false(json_object_get(gpu(c, 0), "x-nvidia-gpu-attestation-report-nonce-match")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void flipped_measurement_and_signature_bytes_refused(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	cct_err err;
	size_t blk, k, size = l->e[0].evidence_size;
	unsigned tried = 0;

	(void)state;
	sim_opts(&o);
	o.no_ocsp = 1;
	o.no_rim = 1;
	assert_int_equal(cct_nvgpu_verifier_new(&v, &o, &err), CCT_OK);
	assert_int_equal(cct_nvgpu_verify(NULL, v, l, nonce, 32, &err), CCT_OK);
	/* first and last byte of every measurement value: block b's value at 37 + 8 + 55 b + 7 */
	for (blk = 0; blk < 64; blk++) {
		size_t at[2] = { 37 + 8 + 55 * blk + 7, 37 + 8 + 55 * blk + 7 + 47 };

		for (k = 0; k < 2; k++) {
			l->e[0].evidence[at[k]] ^= 0x01;
			assert_int_equal(cct_nvgpu_verify(NULL, v, l, nonce, 32, &err), CCT_ESIGNATURE);
			assert_int_equal(err.stage, CCT_STAGE_SIGNATURE);
			l->e[0].evidence[at[k]] ^= 0x01;
			tried++;
		}
	}
	/* every signature byte, and the opaque driver version's first byte */
	for (k = size - 96; k < size; k++) {
		l->e[0].evidence[k] ^= 0x40;
		assert_int_equal(cct_nvgpu_verify(NULL, v, l, nonce, 32, &err), CCT_ESIGNATURE);
		l->e[0].evidence[k] ^= 0x40;
		tried++;
	}
	assert_int_equal(tried, 128 + 96);
	assert_int_equal(cct_nvgpu_verify(NULL, v, l, nonce, 32, &err), CCT_OK);
	cct_nvgpu_verifier_free(v);
	cct_nvgpu_evidence_list_free(l);
}

static void fwid_mismatch_refused(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l;
	cct_sim_gpu_evidence_opts eo;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	memset(&eo, 0, sizeof(eo));
	eo.fwid_mismatch = 1;
	l = sim_list(sim, &eo, 0);
	sim_opts(&o);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	assert_non_null(strstr(err.msg, "FWID"));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

/* ---- several GPUs ---- */
static void multi_gpu_distinct_ueids_and_duplicates(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l;
	cct_sim_gpu_evidence_opts eo;
	json_t *c = NULL;
	cct_err err;
	size_t i, j;

	(void)state;
	memset(&eo, 0, sizeof(eo));
	eo.gpu_count = NDEV;
	l = sim_list(sim, &eo, 0);
	assert_int_equal(cct_nvgpu_evidence_list_count(l), NDEV);
	sim_opts(&o);
	o.expected_count = NDEV;
	o.expected_arch = "HOPPER";
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	for (i = 0; i < NDEV; i++)
		for (j = i + 1; j < NDEV; j++)
			assert_string_not_equal(gstr(c, i, "ueid"), gstr(c, j, "ueid"));
	json_decref(c);
	o.expected_count = NDEV + 1;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EPOLICY);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* one device presented twice */
	eo.gpu_count = 2;
	eo.duplicate_device = 1;
	l = sim_list(sim, &eo, 0);
	sim_opts(&o);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EPOLICY);
	assert_int_equal(err.stage, CCT_STAGE_POLICY);
	assert_non_null(strstr(err.msg, "same UEID"));
	json_decref(c);
	o.allow_duplicate_ueid_insecure = 1;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

/* ---- RIM version ---- */
static void rim_for_another_driver_version_refused(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	cct_sim_gpu_rim_opts ro;
	cct_sim_gpu_evidence_opts eo;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	/* a 575.51 RIM stored under the 590.12 id */
	memset(&ro, 0, sizeof(ro));
	ro.driver_version = "575.51";
	ro.driver_id_version = CCT_SIM_GPU_DEFAULT_DRIVER;
	assert_int_equal(cct_sim_gpu_rims(sim, subdir("rims-wrong-version"), &ro, &err), CCT_OK);
	sim_opts(&o);
	o.rim_dir = subdir("rims-wrong-version");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	assert_non_null(strstr(err.msg, "RIM is for version 575.51 but the evidence reports 590.12"));
	assert_true(json_is_false(json_object_get(gpu(c, 0), "x-nvidia-gpu-driver-rim-version-match")));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* evidence from driver 575.51 while only the 590.12 RIMs exist: not found, fail closed */
	memset(&eo, 0, sizeof(eo));
	eo.driver_version = "575.51";
	l = sim_list(sim, &eo, 0);
	sim_opts(&o);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECOLLATERAL);
	assert_non_null(strstr(err.msg, "NV_GPU_DRIVER_GH100_575.51"));
	json_decref(c);
	/* ...and with RIMs generated for 575.51 it verifies */
	memset(&ro, 0, sizeof(ro));
	ro.driver_version = "575.51";
	assert_int_equal(cct_sim_gpu_rims(sim, subdir("rims-575"), &ro, &err), CCT_OK);
	o.rim_dir = subdir("rims-575");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

static void rim_check_signature_chain_and_tamper(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	char *xml = NULL, *info = NULL, *p;
	size_t n = 0;
	json_t *j;
	cct_err err;

	(void)state;
	assert_int_equal(cct_sim_gpu_rim_xml(&xml, &n, sim, CCT_SIM_GPU_RIM_VBIOS, NULL, &err), CCT_OK);
	assert_int_equal(strlen(xml), n);
	assert_null(strstr(xml, "<?xml")); /* no declaration, like NVIDIA's files */
	assert_non_null(strstr(xml, "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"));
	sim_opts(&o);
	assert_int_equal(cct_nvgpu_verifier_new(&v, &o, &err), CCT_OK);
	assert_int_equal(cct_nvgpu_rim_check(&info, v, (uint8_t *)xml, n, &err), CCT_OK);
	j = json_loads(info, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "version")), CCT_SIM_GPU_DEFAULT_VBIOS);
	assert_string_equal(json_string_value(json_object_get(j, "signer")), "SIMULATED HCC RIM L4 Signer");
	assert_string_equal(json_string_value(json_object_get(j, "ocsp")), "good");
	assert_int_equal(json_array_size(json_object_get(j, "measurements")), 64);
	json_decref(j);
	free(info);
	/* one golden hex digit changed after signing: the XML signature breaks */
	p = strstr(xml, "index=\"1\" active=\"True\" alternatives=\"1\" ns2:Hash0=\"");
	assert_non_null(p);
	p += strlen("index=\"1\" active=\"True\" alternatives=\"1\" ns2:Hash0=\"");
	*p = *p == 'a' ? 'b' : 'a';
	assert_int_equal(cct_nvgpu_rim_check(&info, v, (uint8_t *)xml, n, &err), CCT_ESIGNATURE);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	free(info);
	cct_nvgpu_verifier_free(v);
	free(xml);
}

/* ---- OCSP and time ---- */
static void ocsp_revoked_held_stale_and_expired_signer(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l = sim_list(sim, NULL, 0);
	cct_sim_gpu_ocsp_opts oo;
	json_t *c = NULL;
	cct_err err;

	(void)state;
	memset(&oo, 0, sizeof(oo));
	oo.revoke = CCT_SIM_GPU_REVOKE_DEVICE_LEAF;
	oo.reason = 1;
	assert_int_equal(cct_sim_gpu_ocsp(sim, subdir("ocsp-leaf-revoked"), &oo, &err), CCT_OK);
	sim_opts(&o);
	o.ocsp_dir = subdir("ocsp-leaf-revoked");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	assert_non_null(strstr(err.msg, "GH100 A01 GSP FMC LF"));
	json_decref(c);
	/* RIM signer on hold: refused unless allowed */
	oo.revoke = CCT_SIM_GPU_REVOKE_RIM_SIGNER;
	oo.reason = 6;
	assert_int_equal(cct_sim_gpu_ocsp(sim, subdir("ocsp-rim-hold"), &oo, &err), CCT_OK);
	o.ocsp_dir = subdir("ocsp-rim-hold");
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EREVOKED);
	assert_non_null(strstr(err.msg, "certificateHold"));
	json_decref(c);
	o.allow_hold = 1;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	json_decref(c);
	/* responses are 7 days old at +10 days: stale, fail closed */
	sim_opts(&o);
	o.at = time(NULL) + 10 * 86400;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	json_decref(c);
	/* the RIM signer (2 years) has expired 3 years from now; device chain valid to 9999 */
	o.no_ocsp = 1;
	o.at = time(NULL) + 3L * 365 * 86400;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EEXPIRED);
	assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
}

/* ---- persistence ---- */
static void save_load_round_trip(void **state)
{
	cct_sim_gpu *g = NULL;
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l;
	cct_sim_gpu_evidence_opts eo;
	json_t *c = NULL, *info;
	char path[800];
	struct stat st;
	cct_err err;

	(void)state;
	assert_int_equal(cct_sim_gpu_load(&g, dir, &err), CCT_OK);
	assert_int_equal(g->device_count, NDEV);
	assert_string_equal(g->dev[2].uuid, sim->dev[2].uuid);
	assert_int_equal(X509_cmp(g->dev[2].leaf, sim->dev[2].leaf), 0);
	memset(&eo, 0, sizeof(eo));
	eo.gpu_count = 3;
	l = sim_list(g, &eo, 0);
	sim_opts(&o);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	cct_sim_gpu_free(g);
	/* layout: keys private, info.json names the devices */
	snprintf(path, sizeof(path), "%s/devices/0/leaf.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	snprintf(path, sizeof(path), "%s/info.json", dir);
	info = json_load_file(path, 0, NULL);
	assert_true(json_is_true(json_object_get(info, "simulated")));
	assert_int_equal(json_array_size(json_object_get(info, "devices")), NDEV);
	json_decref(info);
	/* missing directory / mismatched key */
	assert_int_equal(cct_sim_gpu_load(&g, subdir("no-such-sim"), &err), CCT_EIO);
	assert_null(g);
}

/* ---- Blackwell ---- */
static void blackwell_sim_verifies_with_dice_tcbinfo(void **state)
{
	cct_sim_gpu *g = NULL;
	cct_sim_gpu_opts so;
	cct_sim_gpu_evidence_opts eo;
	cct_nvgpu_opts o;
	cct_nvgpu_evidence_list *l;
	json_t *c = NULL;
	char d[800], root[900], rroot[900], rd[900], od[900];
	cct_err err;

	(void)state;
	memset(&so, 0, sizeof(so));
	so.arch = "cobalt";
	assert_int_equal(cct_sim_gpu_new(&g, &so, &err), CCT_EINVAL);
	so.arch = "BLACKWELL";
	so.device_count = 2;
	snprintf(d, sizeof(d), "%s", subdir("sim-bw/gpu"));
	assert_int_equal(cct_sim_gpu_init_dir(NULL, d, &so, &err), CCT_OK);
	assert_int_equal(cct_sim_gpu_load(&g, d, &err), CCT_OK);
	assert_string_equal(g->arch, "BLACKWELL");
	memset(&eo, 0, sizeof(eo));
	eo.gpu_count = 2;
	l = sim_list(g, &eo, 0);
	cct_nvgpu_opts_init(&o);
	snprintf(root, sizeof(root), "%s/%s", d, CCT_SIM_GPU_DEVICE_ROOT);
	snprintf(rroot, sizeof(rroot), "%s/%s", d, CCT_SIM_GPU_RIM_ROOT);
	snprintf(rd, sizeof(rd), "%s/%s", d, CCT_SIM_GPU_RIM_SUBDIR);
	snprintf(od, sizeof(od), "%s/%s", d, CCT_SIM_GPU_OCSP_SUBDIR);
	o.device_root_path_insecure = root;
	o.rim_root_path_insecure = rroot;
	o.rim_dir = rd;
	o.ocsp_dir = od;
	o.offline = 1;
	o.expected_arch = "BLACKWELL";
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_OK);
	assert_string_equal(gstr(c, 0, "hwmodel"), "GB100 A01 GSP BROM");
	assert_string_equal(gstr(c, 1, "x-nvidia-gpu-driver-rim-id"), "NV_GPU_CC_DRIVER_GB100_590.12");
	assert_string_equal(gstr(c, 1, "measres"), "success");
	assert_true(json_is_true(json_object_get(gpu(c, 0), "x-nvidia-gpu-attestation-report-cert-chain-fwid-match")));
	json_decref(c);
	/* presented as HOPPER: the GB100 chain does not match */
	snprintf(l->e[0].arch, sizeof(l->e[0].arch), "HOPPER");
	o.expected_arch = NULL;
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_EPOLICY);
	assert_non_null(strstr(err.msg, "GB100"));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	/* FWID in the TcbInfo differs from the opaque FWID */
	eo.gpu_count = 1;
	eo.fwid_mismatch = 1;
	l = sim_list(g, &eo, 0);
	assert_int_equal(run(&c, &o, l, nonce, &err), CCT_ECHAIN);
	assert_non_null(strstr(err.msg, "FWID"));
	json_decref(c);
	cct_nvgpu_evidence_list_free(l);
	cct_sim_gpu_free(g);
}

static int generate(const char *out)
{
	cct_sim_gpu *g = NULL;
	cct_sim_gpu_opts so;
	cct_sim_gpu_rim_opts ro;
	cct_err err;
	char *kbs = NULL, *nv = NULL, p[1024], hex[65];
	int rc;

	memset(&so, 0, sizeof(so));
	so.device_count = 2;
	snprintf(p, sizeof(p), "%s/gpu", out);
	rc = cct_sim_gpu_init_dir(&g, p, &so, &err);
	if (rc == CCT_OK) {
		cct_sim_gpu_evidence_opts eo;

		memset(&eo, 0, sizeof(eo));
		eo.gpu_count = 2;
		rc = cct_sim_gpu_evidence(&kbs, &nv, g, nonce, &eo, &err);
	}
	if (rc == CCT_OK) {
		snprintf(p, sizeof(p), "%s/evidence-kbs.json", out);
		rc = cct_file_write(p, kbs, strlen(kbs), 0, &err);
	}
	if (rc == CCT_OK) {
		snprintf(p, sizeof(p), "%s/evidence-nvidia.json", out);
		rc = cct_file_write(p, nv, strlen(nv), 0, &err);
	}
	if (rc == CCT_OK) {
		cct_hex_encode(hex, nonce, 32);
		snprintf(p, sizeof(p), "%s/nonce.hex", out);
		rc = cct_file_write(p, hex, 64, 0, &err);
	}
	if (rc == CCT_OK) {
		memset(&ro, 0, sizeof(ro));
		ro.wrong_index = 23;
		snprintf(p, sizeof(p), "%s/rims-mismatch", out);
		rc = cct_sim_gpu_rims(g, p, &ro, &err);
	}
	if (rc != CCT_OK)
		fprintf(stderr, "generate: %s\n", err.msg);
	free(kbs);
	free(nv);
	cct_sim_gpu_free(g);
	return rc == CCT_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(honest_evidence_verifies_with_injected_roots),
		cmocka_unit_test(spdm_shape_matches_nvidia),
		cmocka_unit_test(refused_without_injected_roots),
		cmocka_unit_test(golden_mismatch_names_index_digests_and_rim),
		cmocka_unit_test(driver_vbios_index_conflict_refused),
		cmocka_unit_test(unappraised_index_and_ppcie_do_not_change_the_verdict),
		cmocka_unit_test(wrong_nonce_refused),
		cmocka_unit_test(flipped_measurement_and_signature_bytes_refused),
		cmocka_unit_test(fwid_mismatch_refused),
		cmocka_unit_test(multi_gpu_distinct_ueids_and_duplicates),
		cmocka_unit_test(rim_for_another_driver_version_refused),
		cmocka_unit_test(rim_check_signature_chain_and_tamper),
		cmocka_unit_test(ocsp_revoked_held_stale_and_expired_signer),
		cmocka_unit_test(save_load_round_trip),
		cmocka_unit_test(blackwell_sim_verifies_with_dice_tcbinfo),
	};

	if (argc == 3 && !strcmp(argv[1], "--generate"))
		return generate(argv[2]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
