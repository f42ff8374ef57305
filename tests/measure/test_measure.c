/* Measure tests: every published launch digest and expected error (virtee/sev vectors, read in
 * place), sev-snp-measure's EC2/GCE values, ID block / ID_AUTH_INFO, the OVMF and TDVF parsers
 * on truncations, bit flips and tampered fields, and the CLI contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cct_test.h"
#include "tdvf_fixture.h"
#include "cctrust/core.h"
#include "cctrust/measure.h"

#define VDIR "measure/virtee-sev/"

static uint8_t *vec(const char *name, size_t *n)
{
	char rel[256];

	snprintf(rel, sizeof(rel), VDIR "%s", name);
	return cct_test_read_vector(rel, n);
}

static void hex_of(char *out, const uint8_t *p, size_t n) { cct_hex_encode(out, p, n); }

/* Every launch_digest_vectors entry, through the library (EC2 included: virtee/sev's values
 * are sev-snp-measure's EC2 "v1"). */
static void published_launch_digests(void **state)
{
	size_t n, jn, i, checked = 0;
	uint8_t *j = vec("expected.json", &jn), ovmf_hash[48];
	json_t *root, *arr, *v;
	json_error_t je;

	(void)state;
	root = json_loadb((const char *)j, jn, 0, &je);
	assert_non_null(root);
	arr = json_object_get(root, "launch_digest_vectors");
	assert_true(json_array_size(arr) >= 20);
	json_array_foreach(arr, i, v) {
		const char *mode = json_string_value(json_object_get(v, "mode"));
		const char *want = json_string_value(json_object_get(v, "expected_launch_digest"));
		const char *want_err = json_string_value(json_object_get(v, "expected_error"));
		const char *oh = json_string_value(json_object_get(v, "ovmf_hash"));
		const char *vmm = json_string_value(json_object_get(v, "vmm_type"));
		json_t *gf = json_object_get(v, "guest_features");
		cct_measure_snp_opts o;
		uint8_t *ovmf, out[48];
		size_t out_n = 0;
		char hex[97];
		cct_err err;
		int rc;

		memset(&o, 0, sizeof(o));
		ovmf = vec(json_string_value(json_object_get(v, "ovmf")), &n);
		o.ovmf = ovmf;
		o.ovmf_size = n;
		o.mode = !strcmp(mode, "SEV") ? CCT_MEASURE_MODE_SEV :
			 !strcmp(mode, "SEV_ES") ? CCT_MEASURE_MODE_SEVES : CCT_MEASURE_MODE_SNP;
		o.vcpus = (uint32_t)json_integer_value(json_object_get(v, "vcpus"));
		assert_int_equal(cct_measure_vcpu_sig(&o.vcpu_sig, "EPYC-v4"), CCT_OK);
		assert_int_equal(o.vcpu_sig, 0x00800f12);
		o.guest_features = json_is_integer(gf) ? (uint64_t)json_integer_value(gf) : 1;
		o.has_kernel = !json_is_null(json_object_get(v, "kernel"));
		o.append = json_string_value(json_object_get(v, "append"));
		if (vmm && strstr(vmm, "EC2")) {
			o.vmm = CCT_MEASURE_VMM_EC2;
			o.vmm_version = 1;
		}
		if (oh && strlen(oh) == 96) {
			assert_int_equal(cct_hex_decode_fixed(ovmf_hash, 48, oh, NULL), CCT_OK);
			o.ovmf_hash = ovmf_hash;
		}
		rc = cct_measure_launch_digest(out, &out_n, &o, &err);
		if (want_err) {
			assert_int_not_equal(rc, CCT_OK);
			assert_non_null(strstr(err.msg, want_err));
		} else {
			if (rc != CCT_OK)
				fail_msg("%s: %s", json_string_value(json_object_get(v, "test")), err.msg);
			hex_of(hex, out, out_n);
			if (strcmp(hex, want) != 0)
				fail_msg("%s: got %s want %s",
					 json_string_value(json_object_get(v, "test")), hex, want);
		}
		checked++;
		free(ovmf);
	}
	assert_int_equal(checked, json_array_size(arr));
	json_decref(root);
	free(j);
}

static void ovmf_hash_of_amdsev(void **state)
{
	size_t n;
	uint8_t *ovmf = vec("ovmf_AmdSev_suffix.bin", &n), h[48];
	char hex[97];

	(void)state;
	assert_int_equal(cct_measure_snp_ovmf_hash(h, ovmf, n, NULL), CCT_OK);
	hex_of(hex, h, 48);
	assert_string_equal(hex, "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa"
				 "16aff8c374c2a55c467a50da6d466b74");
	/* an image that is not whole pages cannot be page-measured */
	assert_int_equal(cct_measure_snp_ovmf_hash(h, ovmf, n - 1, NULL), CCT_EFORMAT);
	/* nor an empty one (it would give the all-zero digest) */
	assert_int_equal(cct_measure_snp_ovmf_hash(h, ovmf, 0, NULL), CCT_EFORMAT);
	free(ovmf);
}

/* sev-snp-measure's own test values (tests/test_guest.py) for EC2 (current VMSA) and GCE. */
static void ec2_and_gce_follow_sev_snp_measure(void **state)
{
	static const struct { cct_measure_vmm vmm; uint64_t gf; uint32_t vcpus; const char *want; } c[] = {
		{ CCT_MEASURE_VMM_EC2, 0x21, 1, "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb" },
		{ CCT_MEASURE_VMM_EC2, 0x1, 1, "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056" },
		{ CCT_MEASURE_VMM_GCE, 0x1, 1, "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e" },
		{ CCT_MEASURE_VMM_GCE, 0x1, 4, "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d" },
	};
	size_t n, i, out_n;
	uint8_t *ovmf = vec("ovmf_AmdSev_suffix.bin", &n), out[48];
	char hex[97];

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cct_measure_snp_opts o;

		memset(&o, 0, sizeof(o));
		o.ovmf = ovmf;
		o.ovmf_size = n;
		o.has_kernel = 1;
		o.vcpus = c[i].vcpus;
		o.vcpu_sig = 0x00800f12;
		o.guest_features = c[i].gf;
		o.vmm = c[i].vmm;
		assert_int_equal(cct_measure_launch_digest(out, &out_n, &o, NULL), CCT_OK);
		hex_of(hex, out, out_n);
		assert_string_equal(hex, c[i].want);
	}
	free(ovmf);
}

static void vmsa_layout(void **state)
{
	size_t n;
	uint8_t *ovmf = vec("ovmf_AmdSev_suffix.bin", &n), page[4096];
	cct_measure_snp_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.ovmf = ovmf;
	o.ovmf_size = n;
	o.vcpus = 2;
	o.vcpu_sig = 0x00800f12;
	o.guest_features = 0x21;
	assert_int_equal(cct_measure_vmsa_page(page, &o, 0, NULL), CCT_OK);
	assert_int_equal(page[0x178], 0xf0); /* rip = 0xfff0 */
	assert_int_equal(page[0x179], 0xff);
	assert_int_equal(page[0x310], 0x12); /* rdx = CPUID signature */
	assert_int_equal(page[0x312], 0x80);
	assert_int_equal(page[0x3b0], 0x21); /* sev_features = guest features */
	assert_int_equal(page[0x408], 0x80); /* mxcsr 0x1f80 */
	assert_int_equal(page[0x410], 0x7f); /* x87 fcw 0x37f */
	free(ovmf);
}

static void id_block_and_auth_block(void **state)
{
	size_t idk_n, auk_n, ids_n, aus_n, ab_n, b_n;
	uint8_t *idk = vec("idblock/test_id_key.pem", &idk_n), *auk = vec("idblock/test_auth_key.pem", &auk_n);
	uint8_t *ids = vec("idblock/test_id_sig.bin", &ids_n), *aus = vec("idblock/test_auth_sig.bin", &aus_n);
	uint8_t *ab = vec("idblock/test_auth_block.bin", &ab_n), *b = NULL;
	uint8_t idb[96], idpub[0x404], aupub[0x404], auth[4096], d[48], sig[512];
	cct_measure_id_block_opts o;
	char *s;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(cct_hex_decode_fixed(o.launch_digest, 48,
		"a14d638341e5674628fe1e02fbedebe5e5ab4faf1dd72d8966068e615bb99efd13d214b35c231715b38e263dc6059745", NULL), CCT_OK);
	o.version = 1;
	o.policy = 0x30000;
	cct_measure_id_block_encode(idb, &o);
	s = cct_b64_encode(idb, 96, 0);
	assert_string_equal(s, "oU1jg0HlZ0Yo/h4C++3r5eWrT68d1y2JZgaOYVu5nv0T0hSzXCMXFbOOJj3GBZdFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAwAAAAAA");
	free(s);
	assert_int_equal(cct_measure_key_digest(d, idk, idk_n, NULL), CCT_OK);
	s = cct_b64_encode(d, 48, 0);
	assert_string_equal(s, "WfssaG36T+9J84M5qndckAUcKNVzg93DuvO160sUlt87DbvcuuX+J2d6ZEggdz/i");
	free(s);
	assert_int_equal(cct_measure_key_digest(d, auk, auk_n, NULL), CCT_OK);
	s = cct_b64_encode(d, 48, 0);
	assert_string_equal(s, "7tgRafsMteDsNHlPEo/U4MSkb2fGWhrfqB/LJLzAiMJyNpt//D6ytq9qQoShs2xf");
	free(s);
	assert_int_equal(cct_measure_snp_pubkey(idpub, idk, idk_n, NULL), CCT_OK);
	assert_int_equal(cct_measure_snp_pubkey(aupub, auk, auk_n, NULL), CCT_OK);
	/* the published signatures verify: ID block by the ID key, ID key by the author key */
	assert_int_equal(ids_n, 512);
	assert_int_equal(cct_measure_snp_sig_verify(ids, idb, 96, idk, idk_n, NULL), CCT_OK);
	assert_int_equal(cct_measure_snp_sig_verify(aus, idpub, sizeof(idpub), auk, auk_n, NULL), CCT_OK);
	cct_measure_id_auth_encode(auth, ids, idpub, aus, aupub);
	assert_int_equal(ab_n, 4096);
	assert_memory_equal(auth, ab, 4096);
	/* tampered: wrong key, flipped ID block byte */
	assert_int_equal(cct_measure_snp_sig_verify(ids, idb, 96, auk, auk_n, NULL), CCT_ESIGNATURE);
	idb[5] ^= 1;
	assert_int_equal(cct_measure_snp_sig_verify(ids, idb, 96, idk, idk_n, NULL), CCT_ESIGNATURE);
	idb[5] ^= 1;
	/* a fresh signature verifies */
	assert_int_equal(cct_measure_snp_sign(sig, idb, 96, idk, idk_n, NULL), CCT_OK);
	assert_int_equal(cct_measure_snp_sig_verify(sig, idb, 96, idk, idk_n, NULL), CCT_OK);
	/* not a P-384 key */
	assert_int_not_equal(cct_measure_snp_pubkey(idpub, (const uint8_t *)"junk", 4, NULL), CCT_OK);
	(void)b;
	(void)b_n;
	free(idk); free(auk); free(ids); free(aus); free(ab);
}

/* What every parse result must satisfy: a failure is a named parse error (code set, stage
 * INPUT, message naming the field, offset inside the image); a success only borrows bytes of
 * the image it was given. */
static int ovmf_outcome_ok(int rc, const cct_measure_ovmf *o, const uint8_t *img, size_t n,
			   const cct_err *err)
{
	size_t i;

	if (rc != CCT_OK)
		return rc == err->code && err->msg[0] && err->offset <= n &&
		       (rc == CCT_EFORMAT || rc == CCT_ETRUNC || rc == CCT_EUNSUPPORTED ||
			rc == CCT_ETOOBIG || rc == CCT_EMBZ);
	if (o->image.p != img || o->image.size != n)
		return 0;
	for (i = 0; i < o->table_count; i++)
		if (o->table[i].data.p < img || o->table[i].data.p + o->table[i].data.size > img + n)
			return 0;
	return 1;
}

/* Parser robustness on the real footer: every truncation (kept at the end, as firmware is read
 * from the end) and every bit flip in the last 512 bytes gives a named failure or a result
 * inside the image; the flips that break the footer's structure are detected. */
static void ovmf_parser_truncations_and_flips(void **state)
{
	size_t n, k, fail = 0, ok = 0, changed = 0, tables;
	uint8_t *ovmf = vec("ovmf_AmdSev_suffix.bin", &n), *copy = malloc(n);
	cct_measure_ovmf *o = malloc(sizeof(*o));
	cct_err err;
	int bit, rc;

	(void)state;
	assert_int_equal(cct_measure_ovmf_parse(o, ovmf, n, &err), CCT_OK);
	assert_true(o->table_count >= 4);
	assert_true(o->section_count >= 4);
	assert_non_null(cct_measure_ovmf_table_find(o, "dc886566-984a-4798-a75e-5585a7bf67cc"));
	tables = o->table_count;
	for (k = 1; k < n; k++) { /* suffixes of the image */
		cct_err_clear(&err);
		rc = cct_measure_ovmf_parse(o, ovmf + k, n - k, &err);
		assert_true(ovmf_outcome_ok(rc, o, ovmf + k, n - k, &err));
		rc == CCT_OK ? ok++ : fail++;
	}
	/* the SEV metadata lies before the footer: cutting it off must be noticed */
	assert_true(fail > 0);
	assert_true(ok > 0);
	memcpy(copy, ovmf, n);
	fail = 0;
	for (k = n - 512; k < n; k++) {
		for (bit = 0; bit < 8; bit++) {
			copy[k] ^= (uint8_t)(1 << bit);
			cct_err_clear(&err);
			rc = cct_measure_ovmf_parse(o, copy, n, &err);
			assert_true(ovmf_outcome_ok(rc, o, copy, n, &err));
			if (rc != CCT_OK)
				fail++;
			else if (o->table_count != tables)
				changed++; /* footer GUID or size no longer found: table dropped */
			copy[k] ^= (uint8_t)(1 << bit);
		}
	}
	assert_true(fail > 0);
	assert_true(changed > 0);
	assert_memory_equal(copy, ovmf, n);
	free(copy);
	free(o);
	free(ovmf);
}

static size_t find(const uint8_t *p, size_t n, const char *s)
{
	size_t i, l = strlen(s);

	for (i = 0; i + l <= n; i++)
		if (!memcmp(p + i, s, l))
			return i;
	return (size_t)-1;
}

static void ovmf_tampered_fields(void **state)
{
	size_t n, at;
	uint8_t *ovmf = vec("ovmf_AmdSev_suffix.bin", &n);
	cct_measure_ovmf *o = malloc(sizeof(*o));
	cct_err err;

	(void)state;
	at = find(ovmf, n, "ASEV");
	assert_true(at != (size_t)-1);
	ovmf[at] = 'B';
	assert_int_equal(cct_measure_ovmf_parse(o, ovmf, n, &err), CCT_EFORMAT);
	assert_int_equal(err.offset, at);
	assert_non_null(strstr(err.msg, "ASEV"));
	ovmf[at] = 'A';
	ovmf[at + 8] = 2; /* version */
	assert_int_equal(cct_measure_ovmf_parse(o, ovmf, n, &err), CCT_EUNSUPPORTED);
	ovmf[at + 8] = 1;
	ovmf[at + 12] = 200; /* num_items above the cap */
	assert_int_equal(cct_measure_ovmf_parse(o, ovmf, n, &err), CCT_ETOOBIG);
	ovmf[at + 12] = 60;  /* more items than the metadata size holds */
	assert_int_equal(cct_measure_ovmf_parse(o, ovmf, n, &err), CCT_ETRUNC);
	ovmf[at + 12] = 0;
	/* footer table entry size below 18 */
	ovmf[n - 50] = 3;
	ovmf[n - 49] = 0;
	assert_int_equal(cct_measure_ovmf_parse(o, ovmf, n, &err), CCT_OK); /* footer too small: no table */
	free(o);
	free(ovmf);
}

/* ---- TDVF: a synthetic image (tests/support/tdvf_fixture.h) ---- */

static void tdvf_mrtd(void **state)
{
	uint8_t *img = malloc(TDVF_SIZE), mrtd[48], want[48], rec[128];
	cct_measure_tdvf *t = malloc(sizeof(*t));
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	cct_err err;
	size_t k;
	int p, c;

	(void)state;
	make_tdvf(img);
	assert_int_equal(cct_measure_tdvf_parse(t, img, TDVF_SIZE, &err), CCT_OK);
	assert_int_equal(t->section_count, 2);
	assert_int_equal(cct_measure_tdx_mrtd(mrtd, t, 0, &err), CCT_OK);
	/* independent construction of the expected records */
	EVP_DigestInit_ex(h, EVP_sha384(), NULL);
	memset(rec, 0, 128); memcpy(rec, "MEM.PAGE.ADD", 12); put64(rec + 16, 0xfffff000ull);
	EVP_DigestUpdate(h, rec, 128);
	for (c = 0; c < 16; c++) {
		memset(rec, 0, 128); memcpy(rec, "MR.EXTEND", 9); put64(rec + 16, 0xfffff000ull + 256u * c);
		EVP_DigestUpdate(h, rec, 128);
		EVP_DigestUpdate(h, img + 256 * c, 256);
	}
	for (p = 0; p < 2; p++) {
		memset(rec, 0, 128); memcpy(rec, "MEM.PAGE.ADD", 12); put64(rec + 16, 0x800000ull + 4096u * p);
		EVP_DigestUpdate(h, rec, 128);
	}
	EVP_DigestFinal_ex(h, want, NULL);
	assert_memory_equal(mrtd, want, 48);
	/* the data is measured: one byte changes the MRTD */
	img[100] ^= 1;
	assert_int_equal(cct_measure_tdvf_parse(t, img, TDVF_SIZE, &err), CCT_OK);
	assert_int_equal(cct_measure_tdx_mrtd(want, t, 0, &err), CCT_OK);
	assert_memory_not_equal(mrtd, want, 48);
	img[100] ^= 1;
	/* tampered descriptor fields */
	img[4096] = 'X';
	assert_int_equal(cct_measure_tdvf_parse(t, img, TDVF_SIZE, &err), CCT_EFORMAT);
	img[4096] = 'T';
	img[4096 + 8] = 2;
	assert_int_equal(cct_measure_tdvf_parse(t, img, TDVF_SIZE, &err), CCT_EUNSUPPORTED);
	img[4096 + 8] = 1;
	img[4096 + 24] = 1; /* section 0 GPA not page aligned */
	assert_int_equal(cct_measure_tdvf_parse(t, img, TDVF_SIZE, &err), CCT_EFORMAT);
	assert_int_equal(err.offset, 4096 + 16);
	img[4096 + 24] = 0;
	/* every suffix and every bit flip of the descriptor: a named failure, or sections that
	 * stay inside the image, and an MRTD that differs from the genuine one whenever the flip
	 * changed a measured field */
	{
		size_t bad = 0, differ = 0, sc;
		int rc;

		for (k = 1; k < TDVF_SIZE; k += 7) {
			cct_err_clear(&err);
			rc = cct_measure_tdvf_parse(t, img + k, TDVF_SIZE - k, &err);
			if (rc != CCT_OK) {
				assert_int_equal(err.code, rc);
				assert_true(err.msg[0] != 0);
				bad++;
			} else {
				for (sc = 0; sc < t->section_count; sc++)
					assert_true((uint64_t)t->sections[sc].data_offset +
							    t->sections[sc].raw_size <= TDVF_SIZE - k);
			}
		}
		assert_true(bad > 0);
		bad = 0;
		for (k = 4096; k < 4096 + 80; k++)
			for (c = 0; c < 8; c++) {
				img[k] ^= (uint8_t)(1 << c);
				cct_err_clear(&err);
				rc = cct_measure_tdvf_parse(t, img, TDVF_SIZE, &err);
				if (rc == CCT_OK)
					rc = cct_measure_tdx_mrtd(want, t, 0, &err);
				if (rc != CCT_OK) {
					assert_int_equal(err.code, rc);
					assert_true(err.msg[0] != 0);
					bad++;
				} else if (memcmp(want, mrtd, 48)) {
					differ++;
				} else {
					/* same MRTD: only bytes the MRTD does not cover may have
					 * changed: descriptor length (4..7), section type (40, 72),
					 * attribute bits other than MR_EXTEND/PAGE_AUG (44, 76),
					 * section 0's raw_size (20; MR.EXTEND hashes mem_size bytes)
					 * and section 1's data location (48..55: not extended) */
					size_t r = k - 4096;

					assert_true((r >= 4 && r < 8) || (r >= 20 && r < 24) ||
						    (r >= 40 && r < 44) || (r >= 72 && r < 76) ||
						    (r >= 48 && r < 56) ||
						    (((r >= 44 && r < 48) || r >= 76) &&
						     !(r == 44 && c < 2) && !(r == 76 && c < 2)));
				}
				img[k] ^= (uint8_t)(1 << c);
			}
		assert_true(bad > 0);
		assert_true(differ > 0);
	}
	/* a plain OVMF is not a TDVF */
	memset(img + TDVF_SIZE - 100, 0, 100);
	assert_int_equal(cct_measure_tdvf_parse(t, img, TDVF_SIZE, &err), CCT_EFORMAT);
	EVP_MD_CTX_free(h);
	free(t);
	free(img);
}

static void cli_contract(void **state)
{
	char *out = NULL;
	const char *ovmf = cct_test_vector_path(VDIR "ovmf_AmdSev_suffix.bin");
	char cmd[1024];
	int rc;

	(void)state;
	snprintf(cmd, sizeof(cmd), "measure snp --ovmf '%s' --vcpus 4 --vcpu-type EPYC-v4 "
		 "--kernel /dev/null --initrd /dev/null --guest-features 0x21 --json", ovmf);
	rc = cct_test_cli(&out, "%s", cmd);
	if (rc != 0 || !strstr(out, "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942"))
		fail_msg("measure snp: exit %d, no expected launch digest in:\n%s", rc, out);
	assert_non_null(strstr(out, "\"policy\""));
	free(out);
	ovmf = cct_test_vector_path(VDIR "ovmf_OvmfX64_suffix.bin");
	snprintf(cmd, sizeof(cmd), "measure snp --ovmf '%s' --vcpus 1 --vcpu-type EPYC-v4 "
		 "--kernel /dev/null --json", ovmf);
	rc = cct_test_cli(&out, "%s", cmd);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(out, "SNP_KERNEL_HASHES"));
	free(out);
	rc = cct_test_cli(&out, "measure snp --vcpus 1");
	assert_int_equal(rc, 2);
	free(out);
}

#define OVMF_HASH "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c3" \
		  "74c2a55c467a50da6d466b74"
#define ZERO_LD "0000000000000000000000000000000000000000000000000000000000000000" \
		"00000000000000000000000000000000"

/* Every usage error says which option, the value and what is allowed: out-of-range values
 * exited 2 with nothing on stderr (--vcpu-sig 0x1ffffffff, --vmm-version 3, --guest-svn 2^32),
 * --vcpus 0 was called missing. */
static void cli_usage_errors_name_option_and_range(void **state)
{
	static const struct {
		const char *args, *want[3];
	} cases[] = {
		{ "--vcpus 1 --vcpu-sig 0x1ffffffff", { "--vcpu-sig", "0x1ffffffff", "4294967295" } },
		{ "--vcpus 1 --vcpu-type EPYC-v4 --vmm-version 3", { "--vmm-version", "'3'", "0..2" } },
		/* EC2's older VMSA with another VMM type: nothing read it (exit 0, QEMU's digest) */
		{ "--vcpus 1 --vcpu-type EPYC-v4 --vmm-version 1",
		  { "--vmm-version 1", "--vmm-type ec2", "qemu" } },
		{ "--vcpus 1 --vcpu-type EPYC-v4 --vmm-type gce --vmm-version 1",
		  { "--vmm-version 1", "--vmm-type ec2", "gce" } },
		{ "--vcpus 0 --vcpu-type EPYC-v4", { "--vcpus", "'0'", "1..4096" } },
		{ "--vcpus 5000 --vcpu-type EPYC-v4", { "--vcpus", "'5000'", "1..4096" } },
		{ "--vcpus 1 --vcpu-family 271 --vcpu-model 1 --vcpu-stepping 1",
		  { "--vcpu-family", "'271'", "0..270" } },
		{ "--vcpus 1 --vcpu-type EPYC-v4 --guest-features xyz",
		  { "--guest-features", "'xyz'", "0xffffffffffffffff" } },
	};
	const char *ovmf = cct_test_vector_path(VDIR "ovmf_AmdSev_suffix.bin");
	const char *key = cct_test_vector_path(VDIR "idblock/test_id_key.pem");
	char *out = NULL, okey[1024];
	size_t i, k;
	int rc;

	(void)state;
	snprintf(okey, sizeof(okey), "%s", key);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = cct_test_cli(&out, "measure snp --ovmf '%s' --ovmf-hash " OVMF_HASH " %s 2>&1",
				  ovmf, cases[i].args);
		if (rc != 2)
			fail_msg("%s: exit %d, want 2", cases[i].args, rc);
		for (k = 0; k < 3; k++)
			if (!strstr(out, cases[i].want[k]))
				fail_msg("%s: no '%s' in the message:\n%s", cases[i].args,
					 cases[i].want[k], out);
		free(out);
	}
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s' "
			  "--guest-svn 4294967296 2>&1", okey);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "--guest-svn"));
	assert_non_null(strstr(out, "4294967295"));
	free(out);
	/* a guest policy the firmware refuses (bit 17 clear) was written into the ID block */
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s' "
			  "--policy 0 2>&1", okey);
	assert_int_equal(rc, 2);
	if (!strstr(out, "--policy 0") || !strstr(out, "bit 17") || !strstr(out, "0x20000"))
		fail_msg("--policy 0 not refused by name: %s", out);
	free(out);
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s' "
			  "--policy 0x20000 --json 2>&1", okey);
	assert_int_equal(rc, 0);
	free(out);
	/* a hex value names its option (was "expected 16 bytes of hex ..." alone) */
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s' "
			  "--family-id 00 2>&1", okey);
	assert_int_equal(rc, 2);
	if (!strstr(out, "--family-id: '00'") || !strstr(out, "16 bytes"))
		fail_msg("--family-id not named: %s", out);
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --ovmf-hash " OVMF_HASH " --vcpus 1 "
			  "--vcpu-type EPYC-v4 --id-key '%s' --image-id zz 2>&1", ovmf, okey);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "--image-id: 'zz'"));
	free(out);
}

/* The vCPU is given one way (the usage line's alternatives): a type, a signature, or family +
 * model + stepping. --vcpu-type EPYC-v4 --vcpu-sig ... measured the signature and never looked
 * at the type; --vcpu-family alone measured model 0, stepping 0. */
static void cli_vcpu_options_are_alternatives(void **state)
{
	static const struct {
		const char *args, *want;
	} cases[] = {
		{ "--vcpu-type EPYC-v4 --vcpu-sig 0x00a00f11", "alternatives" },
		{ "--vcpu-type nonsense --vcpu-sig 0x00a00f11", "alternatives" },
		{ "--vcpu-sig 0x00a00f11 --vcpu-family 25 --vcpu-model 1 --vcpu-stepping 1",
		  "alternatives" },
		{ "--vcpu-type EPYC-Milan --vcpu-model 1", "alternatives" },
		{ "--vcpu-family 25", "missing --vcpu-model --vcpu-stepping" },
		{ "--vcpu-family 25 --vcpu-model 1", "missing --vcpu-stepping" },
		{ "--vcpu-stepping 1", "missing --vcpu-family --vcpu-model" },
		{ "--mode sev --vcpu-type nonsense", "unknown type" },
	};
	const char *ovmf = cct_test_vector_path(VDIR "ovmf_AmdSev_suffix.bin");
	char *out = NULL;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = cct_test_cli(&out, "measure snp --ovmf '%s' --ovmf-hash " OVMF_HASH
				  " --vcpus 1 %s 2>&1", ovmf, cases[i].args);
		if (rc != 2 || !strstr(out, cases[i].want))
			fail_msg("%s: exit %d, want 2 and '%s':\n%s", cases[i].args, rc,
				 cases[i].want, out);
		free(out);
	}
	/* each alone still measures: the Milan signature three ways, one digest */
	{
		const char *alone[] = { "--vcpu-type EPYC-Milan", "--vcpu-sig 0x00a00f11",
					"--vcpu-family 25 --vcpu-model 1 --vcpu-stepping 1" };
		char first[200] = "";

		for (i = 0; i < 3; i++) {
			rc = cct_test_cli(&out, "measure snp --ovmf '%s' --ovmf-hash " OVMF_HASH
					  " --vcpus 1 %s", ovmf, alone[i]);
			assert_int_equal(rc, 0);
			assert_true(strlen(out) == 97);
			if (!i)
				snprintf(first, sizeof(first), "%s", out);
			else
				assert_string_equal(out, first);
			free(out);
		}
	}
}

static const char *write_key(const char *name, EVP_PKEY *k)
{
	static char path[1024];
	FILE *f;

	assert_non_null(k);
	snprintf(path, sizeof(path), "%s/%s", cct_test_tmpdir(), name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	EVP_PKEY_free(k);
	return path;
}

/* measure judges nothing, so it never exits 1: input it cannot use (firmware without the section
 * a kernel needs, a TDVF that is not one, an ID key of another curve) is exit 2, as the docs
 * and --help say; these exited 1, the verifiers' "rejected". */
static void cli_invalid_input_exits_2(void **state)
{
	const char *ovmf = cct_test_vector_path(VDIR "ovmf_OvmfX64_suffix.bin");
	uint8_t junk[8192];
	const char *g, *key;
	char *out = NULL, gpath[1024];
	size_t i;
	int rc;

	(void)state;
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --vcpus 1 --vcpu-type EPYC-v4 "
			  "--kernel /dev/null 2>&1", ovmf);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "SNP_KERNEL_HASHES"));
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --vcpus 1 --vcpu-type EPYC-v4 "
			  "--kernel /dev/null --json", ovmf);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "\"error\""));
	free(out);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	g = cct_test_write_tmp("garbage.tdvf", junk, sizeof(junk));
	snprintf(gpath, sizeof(gpath), "%s", g);
	rc = cct_test_cli(&out, "measure tdx --tdvf '%s' 2>&1", gpath);
	assert_int_equal(rc, 2);
	free(out);
	key = write_key("p256.pem", EVP_EC_gen("P-256"));
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s' 2>&1",
			  key);
	assert_int_equal(rc, 2);
	free(out);
	key = write_key("ed25519.pem", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s' 2>&1",
			  key);
	assert_int_equal(rc, 2);
	free(out);
	rc = cct_test_cli(&out, "measure snp --help");
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "exit: 0 done; 2 "));
	free(out);
}

/* A file's bytes equal to a vector's (an input left as it was). */
static int same_bytes(const char *path, const uint8_t *want, size_t n)
{
	size_t got = 0;
	uint8_t *b = cct_test_read_file(path, &got);
	int same = b && got == n && !memcmp(b, want, n);

	free(b);
	return same;
}

static int exists(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f)
		fclose(f);
	return f != NULL;
}

/* An output never replaces an input or another output, and nothing is written before every input
 * is read: --id-block over the ID private key exited 0 with the key replaced, --id-block over
 * --ovmf destroyed the firmware, --id-block over --author-key was written before the author key
 * was read (key gone, then "not a PEM key"), --dump-vmsa overwrote an --ovmf DIR/vmsa0.bin,
 * --mode seves --id-key wrote the VMSA files before its error, --mode sev --dump-vmsa made an
 * empty directory. */
static void cli_outputs_never_overwrite_inputs(void **state)
{
	static const struct {
		const char *args, *victim, *opt_out, *opt_in;
	} cases[] = {
		{ "--ovmf T/o.fd --id-key T/k.pem --id-block T/k.pem", "k.pem", "--id-block",
		  "--id-key" },
		{ "--ovmf T/o.fd --id-key T/k.pem --id-block T/o.fd", "o.fd", "--id-block", "--ovmf" },
		{ "--ovmf T/o.fd --id-key T/k.pem --author-key T/a.pem --auth-block T/a.pem", "a.pem",
		  "--auth-block", "--author-key" },
		{ "--ovmf T/o.fd --id-key T/k.pem --author-key T/a.pem --id-block T/a.pem", "a.pem",
		  "--id-block", "--author-key" },
		{ "--ovmf T/d/vmsa0.bin --dump-vmsa T/d", "d/vmsa0.bin", "--dump-vmsa", "--ovmf" },
		{ "--ovmf T/o.fd --id-key T/k.pem --id-block T/link.pem", "k.pem", "--id-block",
		  "--id-key" },
		{ "--ovmf T/o.fd --id-key T/k.pem --id-block T/hard.fd", "o.fd", "--id-block",
		  "--ovmf" },
		{ "--ovmf T/o.fd --id-key T/k.pem --author-key T/a.pem --id-block T/x.bin "
		  "--auth-block T/./x.bin", NULL, "--auth-block", "--id-block" },
		{ "--ovmf T/o.fd --id-key T/k.pem --id-block T/d/vmsa1.bin --dump-vmsa T/d", NULL,
		  "--dump-vmsa", "--id-block" },
	};
	const char *t = cct_test_tmpdir();
	size_t ovmf_n = 0, key_n = 0, au_n = 0, i;
	uint8_t *ovmf = vec("ovmf_AmdSev_suffix.bin", &ovmf_n);
	uint8_t *key = vec("idblock/test_id_key.pem", &key_n);
	uint8_t *au = vec("idblock/test_auth_key.pem", &au_n);
	char cmd[4096], args[2048], path[1024], *out = NULL;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *a = cases[i].args;
		size_t w = 0;

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/o' && mkdir -p '%s/o/d'", t, t);
		assert_int_equal(system(cmd), 0);
		cct_test_write_tmp("o/o.fd", ovmf, ovmf_n);
		cct_test_write_tmp("o/d/vmsa0.bin", ovmf, ovmf_n);
		cct_test_write_tmp("o/k.pem", key, key_n);
		cct_test_write_tmp("o/a.pem", au, au_n);
		snprintf(cmd, sizeof(cmd), "cd '%s/o' && ln -s k.pem link.pem && ln o.fd hard.fd", t);
		assert_int_equal(system(cmd), 0);
		for (; *a && w + 600 < sizeof(args); a++) { /* T: this case's directory */
			if (*a == 'T' && a[1] == '/')
				w += (size_t)snprintf(args + w, sizeof(args) - w, "'%s/o'", t);
			else
				args[w++] = *a;
		}
		args[w] = 0;
		rc = cct_test_cli(&out, "measure snp --vcpus 2 --vcpu-type EPYC-v4 %s 2>&1", args);
		if (rc != 2 || !strstr(out, cases[i].opt_out) || !strstr(out, cases[i].opt_in))
			fail_msg("%s: exit %d, want 2 naming %s and %s:\n%s", args, rc,
				 cases[i].opt_out, cases[i].opt_in, out);
		free(out);
		snprintf(path, sizeof(path), "%s/o/%s", t, "o.fd");
		assert_true(same_bytes(path, ovmf, ovmf_n));
		snprintf(path, sizeof(path), "%s/o/%s", t, "d/vmsa0.bin");
		assert_true(same_bytes(path, ovmf, ovmf_n));
		snprintf(path, sizeof(path), "%s/o/%s", t, "k.pem");
		assert_true(same_bytes(path, key, key_n));
		snprintf(path, sizeof(path), "%s/o/%s", t, "a.pem");
		assert_true(same_bytes(path, au, au_n));
		snprintf(path, sizeof(path), "%s/o/%s", t, "x.bin");
		assert_false(exists(path));
		snprintf(path, sizeof(path), "%s/o/%s", t, "d/vmsa1.bin");
		assert_false(exists(path));
	}
	/* measure id-block: the same rule */
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s/o/k.pem' "
			  "--author-key '%s/o/a.pem' --auth-block '%s/o/link.pem' 2>&1", t, t, t);
	if (rc != 2 || !strstr(out, "--auth-block") || !strstr(out, "--id-key"))
		fail_msg("id-block --auth-block over --id-key: exit %d:\n%s", rc, out);
	free(out);
	snprintf(path, sizeof(path), "%s/o/k.pem", t);
	assert_true(same_bytes(path, key, key_n));
	/* refused or failed runs write nothing: every input is read before any output */
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --mode seves --vcpus 2 --vcpu-type "
			  "EPYC-v4 --id-key '%s/o/k.pem' --dump-vmsa '%s/o/v1' 2>&1", t, t, t);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "only for SNP"));
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --mode sev --dump-vmsa '%s/o/v2' 2>&1",
			  t, t);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "--dump-vmsa"));
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --vcpus 2 --vcpu-type EPYC-v4 "
			  "--id-key '%s/o/k.pem' --author-key '%s/o/missing.pem' --id-block "
			  "'%s/o/x.bin' --dump-vmsa '%s/o/v3' 2>&1", t, t, t, t, t);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "--author-key"));
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --vcpus 2 --vcpu-type EPYC-v4 "
			  "--id-key '%s/o/k.pem' --author-key '%s/o/o.fd' --id-block '%s/o/x.bin' "
			  "2>&1", t, t, t, t);
	assert_int_equal(rc, 2);
	free(out);
	/* an output that cannot be written (a directory where a file goes, a directory that does
	 * not exist) is refused before any is written: the ID block, vmsa0.bin and vmsa1.bin were
	 * written, then the run failed on the next output (exit 2) */
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/o/adir' '%s/o/v5/vmsa1.bin'", t, t);
	assert_int_equal(system(cmd), 0);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --vcpus 2 --vcpu-type EPYC-v4 "
			  "--id-key '%s/o/k.pem' --author-key '%s/o/a.pem' --id-block '%s/o/x.bin' "
			  "--auth-block '%s/o/adir' 2>&1", t, t, t, t, t);
	if (rc != 2 || !strstr(out, "--auth-block") || !strstr(out, "is a directory"))
		fail_msg("--auth-block DIR: exit %d:\n%s", rc, out);
	free(out);
	rc = cct_test_cli(&out, "measure id-block --launch-digest " ZERO_LD " --id-key '%s/o/k.pem' "
			  "--author-key '%s/o/a.pem' --id-block '%s/o/x.bin' --auth-block "
			  "'%s/o/nodir/y.bin' 2>&1", t, t, t, t);
	if (rc != 2 || !strstr(out, "--auth-block") || !strstr(out, "not an existing directory"))
		fail_msg("--auth-block NODIR/y.bin: exit %d:\n%s", rc, out);
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --vcpus 2 --vcpu-type EPYC-v4 "
			  "--dump-vmsa '%s/o/v5' 2>&1", t, t);
	if (rc != 2 || !strstr(out, "vmsa1.bin: is a directory"))
		fail_msg("--dump-vmsa with vmsa1.bin a directory: exit %d:\n%s", rc, out);
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --vcpus 2 --vcpu-type EPYC-v4 "
			  "--id-key '%s/o/k.pem' --id-block '%s/o/x.bin' --dump-vmsa '%s/o/no/v6' "
			  "2>&1", t, t, t, t);
	if (rc != 2 || !strstr(out, "--dump-vmsa") || !strstr(out, "not an existing directory"))
		fail_msg("--dump-vmsa NODIR/v6: exit %d:\n%s", rc, out);
	free(out);
	snprintf(path, sizeof(path), "%s/o/v5/vmsa0.bin", t);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/o/v1", t);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/o/v2", t);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/o/v3", t);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/o/x.bin", t);
	assert_false(exists(path));
	/* and a run with every output distinct writes them all */
	rc = cct_test_cli(&out, "measure snp --ovmf '%s/o/o.fd' --vcpus 2 --vcpu-type EPYC-v4 "
			  "--id-key '%s/o/k.pem' --author-key '%s/o/a.pem' --id-block '%s/o/x.bin' "
			  "--auth-block '%s/o/y.bin' --dump-vmsa '%s/o/v4' 2>&1", t, t, t, t, t, t);
	assert_int_equal(rc, 0);
	free(out);
	{
		static const char *const made[] = { "x.bin", "y.bin", "v4/vmsa0.bin", "v4/vmsa1.bin" };
		static const size_t size[] = { 96, 4096, 4096, 4096 };
		size_t n = 0;
		uint8_t *b;

		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/o/%s", t, made[i]);
			b = cct_test_read_file(path, &n);
			assert_non_null(b);
			assert_int_equal(n, size[i]);
			free(b);
		}
	}
	free(ovmf);
	free(key);
	free(au);
}

/* Smaller contracts: --mode sev took --vcpus/--vcpu-type/--guest-features and silently ignored
 * them (now said on stderr, digest unchanged, as sev-snp-measure); measure tdx --kernel EMPTY
 * said only "no kernel"; --memory 0 and 1 passed parsing. */
static void cli_ignored_options_and_tdx_inputs(void **state)
{
	const char *ovmf = cct_test_vector_path(VDIR "ovmf_AmdSev_suffix.bin");
	const char *empty;
	static const char *const mem[] = { "0", "1", "63M", "65T", "65537G" };
	char o[1024], e[1024], plain[200], *out = NULL;
	size_t i;
	int rc;

	(void)state;
	snprintf(o, sizeof(o), "%s", ovmf);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --mode sev 2>&1", o);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "warning"));
	snprintf(plain, sizeof(plain), "%s", out);
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --mode sev --vcpus 4 --vcpu-type EPYC-v4 "
			  "--guest-features 0x21 2>/dev/null", o);
	assert_int_equal(rc, 0);
	assert_string_equal(out, plain);
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --mode sev --vcpus 4 --vcpu-type EPYC-v4 "
			  "--guest-features 0x21 2>&1 >/dev/null", o);
	assert_int_equal(rc, 0);
	if (!strstr(out, "mode 'sev'") || !strstr(out, "--vcpus") || !strstr(out, "--vcpu-type") ||
	    !strstr(out, "--guest-features") || !strstr(out, "ignored"))
		fail_msg("sev: ignored options not named: %s", out);
	free(out);
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --mode seves --vcpus 1 --vcpu-type EPYC-v4 "
			  "--guest-features 0x21 2>&1 >/dev/null", o);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "--guest-features ignored"));
	free(out);
	/* snp:svsm: the SVSM VMSAs carry fixed features (0x1); said, as for sev (the warning
	 * comes before the inputs are read: this AmdSev OVMF has no SVSM) */
	rc = cct_test_cli(&out, "measure snp --ovmf '%s' --svsm '%s' --vars-size 0 --vcpus 1 "
			  "--vcpu-type EPYC-v4 --guest-features 0x21 2>&1 >/dev/null", o, o);
	if (!strstr(out, "mode 'snp:svsm'") || !strstr(out, "--guest-features ignored"))
		fail_msg("snp:svsm: ignored options not named (exit %d): %s", rc, out);
	free(out);
	empty = cct_test_write_tmp("empty-kernel", "", 0);
	snprintf(e, sizeof(e), "%s", empty);
	/* --svsm / --vars-size outside mode snp:svsm: refused, not measured as plain SNP (--mode
	 * snp --svsm S --vars-size N printed the digest without the SVSM, exit 0) */
	{
		static const char *const svsm[] = {
			"--mode snp --svsm '%s' --vars-size 4096", "--mode sev --svsm '%s'",
			"--mode seves --svsm '%s'", "--vars-size 4096",
		};

		for (i = 0; i < sizeof(svsm) / sizeof(svsm[0]); i++) {
			char args[2048], cmd[4096];

			snprintf(args, sizeof(args), svsm[i], e);
			snprintf(cmd, sizeof(cmd), "measure snp --ovmf '%s' --vcpus 1 --vcpu-type "
				 "EPYC-v4 %s 2>&1", o, args);
			rc = cct_test_cli(&out, "%s", cmd);
			if (rc != 2 || !strstr(out, "snp:svsm") ||
			    !strstr(out, strstr(svsm[i], "--svsm") ? "--svsm" : "--vars-size"))
				fail_msg("%s: exit %d, want 2 naming the option:\n%s", args, rc, out);
			free(out);
		}
	}
	rc = cct_test_cli(&out, "measure tdx --kernel '%s' 2>&1", e);
	assert_int_equal(rc, 2);
	if (!strstr(out, "--kernel") || !strstr(out, e) || !strstr(out, "empty"))
		fail_msg("empty kernel not named: %s", out);
	free(out);
	for (i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
		rc = cct_test_cli(&out, "measure tdx --kernel '%s' --memory %s 2>&1", e, mem[i]);
		if (rc != 2 || !strstr(out, "--memory") || !strstr(out, "64M..64T"))
			fail_msg("--memory %s: exit %d: %s", mem[i], rc, out);
		free(out);
	}
	/* in range: parsing passes, the empty kernel is what is refused */
	rc = cct_test_cli(&out, "measure tdx --kernel '%s' --memory 64M 2>&1", e);
	assert_int_equal(rc, 2);
	assert_null(strstr(out, "--memory"));
	free(out);
	/* a run that fails on --kernel prints no MRTD (it was on stdout before the kernel was
	 * read, exit 2) */
	{
		uint8_t *img = malloc(TDVF_SIZE);
		char tp[1024];

		assert_non_null(img);
		make_tdvf(img);
		snprintf(tp, sizeof(tp), "%s", cct_test_write_tmp("cli.tdvf", img, TDVF_SIZE));
		free(img);
		rc = cct_test_cli(&out, "measure tdx --tdvf '%s' --kernel '%s' 2>/dev/null", tp, e);
		assert_int_equal(rc, 2);
		if (out[0])
			fail_msg("failed run printed: %s", out);
		free(out);
		rc = cct_test_cli(&out, "measure tdx --tdvf '%s'", tp);
		assert_int_equal(rc, 0);
		assert_int_equal(strlen(out), 97);
		free(out);
		/* --two-pass without --tdvf: refused, not ignored; a stray argument is named */
		rc = cct_test_cli(&out, "measure tdx --two-pass --kernel '%s' 2>&1", e);
		if (rc != 2 || !strstr(out, "--two-pass needs --tdvf"))
			fail_msg("--two-pass without --tdvf: exit %d:\n%s", rc, out);
		free(out);
		rc = cct_test_cli(&out, "measure tdx --tdvf '%s' stray 2>&1", tp);
		if (rc != 2 || !strstr(out, "unexpected argument stray"))
			fail_msg("stray argument: exit %d:\n%s", rc, out);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(published_launch_digests),
		cmocka_unit_test(ovmf_hash_of_amdsev),
		cmocka_unit_test(ec2_and_gce_follow_sev_snp_measure),
		cmocka_unit_test(vmsa_layout),
		cmocka_unit_test(id_block_and_auth_block),
		cmocka_unit_test(ovmf_parser_truncations_and_flips),
		cmocka_unit_test(ovmf_tampered_fields),
		cmocka_unit_test(tdvf_mrtd),
		cmocka_unit_test(cli_contract),
		cmocka_unit_test(cli_usage_errors_name_option_and_range),
		cmocka_unit_test(cli_vcpu_options_are_alternatives),
		cmocka_unit_test(cli_invalid_input_exits_2),
		cmocka_unit_test(cli_outputs_never_overwrite_inputs),
		cmocka_unit_test(cli_ignored_options_and_tdx_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
