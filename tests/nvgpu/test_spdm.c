/* SPDM evidence parser: NVIDIA vectors parse to the values of expected.json; every truncation,
 * trailing non-zero bytes (zero padding is accepted) and bit flips in the header are rejected at the parse stage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "nvgpu/spdm.h"

#define VD "nvgpu/nvidia-attestation-sdk/"

static uint8_t *read_hex_vector(const char *rel, size_t *n)
{
	size_t len;
	uint8_t *txt = cct_test_read_vector(rel, &len), *out = NULL;

	assert_int_equal(cct_hex_decode(&out, n, (const char *)txt, len, NULL), CCT_OK);
	free(txt);
	return out;
}

static void hex_eq(const uint8_t *p, size_t n, const char *want)
{
	char h[2 * 256 + 1];

	assert_true(n <= 256);
	cct_hex_encode(h, p, n);
	assert_string_equal(h, want);
}

static void hopper_580_matches_upstream_parse(void **state)
{
	size_t n;
	uint8_t *ev = read_hex_vector(VD "testdata/hopperAttestationReport.txt", &n);
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	char txt[64];

	(void)state;
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, NULL), CCT_OK);
	assert_int_equal(sp->req_version, 0x11);
	assert_int_equal(sp->req_code, 0xe0);
	assert_int_equal(sp->req_param1, 0x01);
	assert_int_equal(sp->req_param2, 0xff);
	hex_eq(sp->req_nonce, 32, "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca");
	assert_int_equal(sp->code, 0x60);
	assert_int_equal(sp->block_count, 64);
	assert_int_equal(sp->record_size, 3520);
	assert_int_equal(sp->opaque_size, 435);
	hex_eq(sp->resp_nonce, 32, "1c877b01400fbe0d8c5530050fc3311098534bf65d0a95f1a21d32b62fe317fb");
	hex_eq(cct_spdm_block_find(sp, 2)->value, 48,
	       "b558fdac9af53b91ff3bdb06ff589859d6fbc1050d875c88329347f24ff7b3d11ac53688ba56db03cf8751913107e0db");
	hex_eq(cct_spdm_block_find(sp, 42)->value, 48,
	       "11baaa3599e7a7b70151cf427c62fc95556d9102a9f87499085b3ec122ba64c35b78d505ce847e8b7b1bd90e0c59dcce");
	cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_DRIVER_VERSION), txt, sizeof(txt));
	assert_string_equal(txt, "580.159.03");
	cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_PROJECT), txt, sizeof(txt));
	assert_string_equal(txt, "1010");
	cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_CHIP_SKU), txt, sizeof(txt));
	assert_string_equal(txt, "862");
	hex_eq(cct_spdm_opaque_find(sp, CCT_NVOPQ_FWID)->value, 48,
	       "f1ae7d0093a3f5689cced58045c9744f94eb2aa4ddca88135197fb41a7be45576c2881cf920e2cbcc090b1cb921f7b2d");
	hex_eq(cct_spdm_opaque_find(sp, CCT_NVOPQ_VBIOS_VERSION)->value, 8, "0074009620000000");
	hex_eq(sp->sig, 96,
	       "08e9e5438d4e63bb016c3b07e2e838e7eb124a1e5a63df6d8911440048eb4062003aad2c8e6a82ead7b22741a3a7470ccb548fb4c630b372abaa70c2372ddcd9e45eeb8b394f1573db4d85172f93acdda3189d52eb5c08cbbdd267b8598b5f60");
	assert_int_equal(sp->signed_size + 96, n);
	free(sp);
	free(ev);
}

static void switch_matches_upstream_parse(void **state)
{
	size_t n;
	uint8_t *ev = cct_test_read_vector(VD "derived/switch_evidence_ls10_0.bin", &n);
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	char txt[64];

	(void)state;
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, NULL), CCT_OK);
	assert_int_equal(sp->block_count, 31);
	assert_int_equal(sp->record_size, 1705);
	assert_int_equal(sp->opaque_size, 288);
	hex_eq(sp->req_nonce, 32, "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb");
	cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_VBIOS_VERSION), txt, sizeof(txt));
	assert_string_equal(txt, "96.10.55.00.01");
	hex_eq(cct_spdm_block_find(sp, 27)->value, 48,
	       "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a");
	free(sp);
	free(ev);
}

static void every_shipped_evidence_parses(void **state)
{
	static const char *const bins[] = {
		"evidence_hopper_590_12_0", "hopper_evidence_0", "hopper_evidence_cert_hold_0",
		"multi_gpu_hopper_1", "multi_gpu_hopper_2", "multi_gpu_hopper_3",
		"multi_switch_ls10_0",
	};
	static const char *const txts[] = {
		"testdata/sample_attestation_data/gpu/blackwellAttestationReport.txt",
		"testdata/sample_attestation_data/gpu/hopperAttestationReport.txt",
		"testdata/sample_attestation_data/gpu/hopperAttestationReportExpired.txt",
		"testdata/sample_attestation_data/gpu/hopperAttestationReportInvalidSignature.txt",
		"testdata/sample_attestation_data/switch/switchAttestationReportInvalidSignature.txt",
	};
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	char rel[256];
	size_t i, n;
	uint8_t *ev;

	(void)state;
	for (i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		snprintf(rel, sizeof(rel), VD "derived/%s.bin", bins[i]);
		ev = cct_test_read_vector(rel, &n);
		assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, NULL), CCT_OK);
		free(ev);
	}
	for (i = 0; i < sizeof(txts) / sizeof(txts[0]); i++) {
		snprintf(rel, sizeof(rel), VD "%s", txts[i]);
		ev = read_hex_vector(rel, &n);
		assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, NULL), CCT_OK);
		free(ev);
	}
	free(sp);
}

static void truncated_at_every_length_and_trailing(void **state)
{
	size_t n, k;
	uint8_t *ev = cct_test_read_vector(VD "derived/switch_evidence_ls10_0.bin", &n), *big;
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	cct_err err;

	(void)state;
	for (k = 0; k < n; k++) {
		assert_int_equal(cct_spdm_evidence_parse(sp, ev, k, &err), CCT_ETRUNC);
		assert_int_equal(err.stage, CCT_STAGE_PARSE);
	}
	/* zero bytes after the signature are padding: accepted, counted, not signed */
	big = calloc(1, n + 40);
	memcpy(big, ev, n);
	assert_int_equal(cct_spdm_evidence_parse(sp, big, n + 40, &err), CCT_OK);
	assert_int_equal(sp->padding_size, 40);
	assert_int_equal(sp->signed_size + CCT_SPDM_SIG_SIZE, n);
	assert_int_equal(sp->size, n + 40);
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, &err), CCT_OK);
	assert_int_equal(sp->padding_size, 0);
	/* a non-zero byte anywhere after the signature is not padding */
	for (k = n; k < n + 40; k += 13) {
		big[k] = 0x01;
		assert_int_equal(cct_spdm_evidence_parse(sp, big, n + 40, &err), CCT_ETRAILING);
		assert_int_equal(err.offset, k);
		assert_int_equal(err.stage, CCT_STAGE_PARSE);
		/* says what is wrong and where, in words that parse */
		assert_non_null(strstr(err.msg, "after Signature (only zero padding may follow it)"));
		big[k] = 0;
	}
	free(big);
	free(sp);
	free(ev);
}

static void header_faults_have_codes_and_offsets(void **state)
{
	size_t n, k;
	uint8_t *ev = cct_test_read_vector(VD "derived/hopper_evidence_0.bin", &n);
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	cct_err err;

	(void)state;
	ev[0] = 0x12; /* request SPDM version */
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, &err), CCT_EUNSUPPORTED);
	assert_int_equal(err.offset, 0);
	ev[0] = 0x11;
	ev[38] = 0x61; /* response code */
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, &err), CCT_EFORMAT);
	assert_int_equal(err.offset, 38);
	ev[38] = 0x60;
	ev[45 + 1] = 0x02; /* first block's MeasurementSpecification */
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, &err), CCT_EUNSUPPORTED);
	assert_int_equal(err.offset, 46);
	ev[46] = 0x01;
	/* every single-bit flip anywhere: never a crash, and the parse either fails or
	 * still covers exactly the input */
	for (k = 0; k < n * 8; k += 3) {
		ev[k / 8] ^= (uint8_t)(1u << (k % 8));
		if (cct_spdm_evidence_parse(sp, ev, n, &err) == CCT_OK)
			assert_int_equal(sp->signed_size + CCT_SPDM_SIG_SIZE, n);
		else
			assert_int_equal(err.stage, CCT_STAGE_PARSE);
		ev[k / 8] ^= (uint8_t)(1u << (k % 8));
	}
	assert_int_equal(cct_spdm_evidence_parse(sp, ev, n, &err), CCT_OK);
	free(sp);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hopper_580_matches_upstream_parse),
		cmocka_unit_test(switch_matches_upstream_parse),
		cmocka_unit_test(every_shipped_evidence_parses),
		cmocka_unit_test(truncated_at_every_length_and_trailing),
		cmocka_unit_test(header_faults_have_codes_and_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
