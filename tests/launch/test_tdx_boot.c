/* TDX direct-boot RTMR tests:
 *  - PE Authenticode refusals (test_authenticode.c compares the digest with osslsigncode);
 *  - event digest forms on REAL CCEL logs (tests/vectors tdx/go-tdx-guest and
 *    vtpm/go-eventlog, GCE COS 113 TDX guests): every EV_EFI_ACTION and EV_SEPARATOR digest is
 *    SHA-384 of its data, every GRUB command-line event (EV_IPL "kernel_cmdline: ...",
 *    "grub_cmd: ...") is SHA-384 of the text without prefix and NUL; the EFI action events
 *    cctrust predicts for a direct boot carry exactly the digests logged there;
 *  - QEMU's setup-header patch, the LoadOptions form, the RTMR replay of the event list, and
 *    the launch plan's RTMRs equal `cctrust measure tdx --kernel --initrd --append`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "cctrust/measure.h"
#include "cctrust/policy.h"
#include "cctrust/tdx.h"
#include "fixtures.h"

static void authenticode_refuses_malformed(void **state)
{
	size_t n, dl = 0, cut;
	uint8_t *pe = make_pe(&n, 0), d[64];
	cct_err err;

	(void)state;
	for (cut = 0; cut < 0x800; cut += 0x40)
		assert_int_not_equal(cct_measure_pe_authenticode(d, &dl, "sha384", pe, cut, &err),
				     CCT_OK);
	p32(pe + 0x3c, 0xfffffff0); /* e_lfanew outside */
	assert_int_equal(cct_measure_pe_authenticode(d, &dl, "sha384", pe, n, &err), CCT_EFORMAT);
	p32(pe + 0x3c, 0x80);
	p32(pe + 0x98 + 0xf0 + 20, 0x7fffffff); /* section outside the file */
	assert_int_equal(cct_measure_pe_authenticode(d, &dl, "sha384", pe, n, &err), CCT_ETRUNC);
	free(pe);
}

typedef struct {
	size_t actions, separators, grub;
} ccel_counts;

static void check_log(const char *table_rel, const char *data_rel, ccel_counts *c,
		      uint8_t calling[48], uint8_t exit_inv[48], uint8_t exit_ok[48])
{
	size_t tn = 0, dn, i;
	uint8_t *table = table_rel ? cct_test_read_vector(table_rel, &tn) : NULL;
	uint8_t *data = cct_test_read_vector(data_rel, &dn), d[48];
	cct_tdx_ccel log;
	cct_err err;

	assert_int_equal(cct_tdx_ccel_parse(&log, table, tn, data, dn, &err), CCT_OK);
	for (i = 0; i < log.count; i++) {
		const cct_tdx_ccel_event *e = &log.events[i];

		if (!e->has_sha384)
			continue;
		if (e->event_type == 0x80000007u || e->event_type == 0x4u) {
			assert_int_equal(cct_measure_tdx_event_digest(d, CCT_MEASURE_TDX_EV_DATA,
								      e->data.p, e->data.size),
					 CCT_OK);
			assert_memory_equal(d, e->sha384, 48);
			if (e->event_type == 0x4u) {
				c->separators++;
				continue;
			}
			c->actions++;
			if (e->data.size == 40 && !memcmp(e->data.p, "Calling", 7))
				memcpy(calling, e->sha384, 48);
			else if (e->data.size == 29)
				memcpy(exit_inv, e->sha384, 48);
			else if (e->data.size == 40)
				memcpy(exit_ok, e->sha384, 48);
		} else if (e->event_type == 0xdu && e->data.size > 10 &&
			   (!memcmp(e->data.p, "kernel_cmdline: ", 16) ||
			    !memcmp(e->data.p, "grub_cmd: ", 10))) {
			assert_int_equal(cct_measure_tdx_event_digest(
						 d, CCT_MEASURE_TDX_EV_GRUB_STRING, e->data.p,
						 e->data.size),
					 CCT_OK);
			assert_memory_equal(d, e->sha384, 48);
			c->grub++;
		}
	}
	cct_tdx_ccel_free(&log);
	free(table);
	free(data);
}

static void real_ccel_event_digests(void **state)
{
	ccel_counts c = { 0, 0, 0 };
	uint8_t calling[48] = { 0 }, exit_inv[48] = { 0 }, exit_ok[48] = { 0 };
	cct_measure_tdx_boot b;
	size_t n, i, seen = 0;
	uint8_t *pe = make_pe(&n, 0);
	cct_err err;

	(void)state;
	check_log("tdx/go-tdx-guest/ccel/ccel_table.dat", "tdx/go-tdx-guest/ccel/ccel_data.dat", &c,
		  calling, exit_inv, exit_ok);
	check_log("vtpm/go-eventlog/ccel/cos-113-intel-tdx.table.bin",
		  "vtpm/go-eventlog/ccel/cos-113-intel-tdx.bin", &c, calling, exit_inv, exit_ok);
	assert_true(c.actions >= 6);     /* 3 per log */
	assert_true(c.separators >= 4);
	assert_true(c.grub >= 30);       /* every grub_cmd + the kernel command line */
	/* the EFI action events cctrust predicts are those the real TDVF logged */
	assert_int_equal(cct_measure_tdx_direct_boot(&b, pe, n, NULL, 0, "console=ttyS0",
						     2ull << 30, &err),
			 CCT_OK);
	for (i = 0; i < b.count; i++) {
		const char *desc = b.events[i].description;

		if (!strcmp(desc, "Calling EFI Application from Boot Option")) {
			assert_memory_equal(b.events[i].sha384, calling, 48);
			seen++;
		} else if (!strcmp(desc, "Exit Boot Services Invocation")) {
			assert_memory_equal(b.events[i].sha384, exit_inv, 48);
			seen++;
		} else if (!strcmp(desc, "Exit Boot Services Returned with Success")) {
			assert_memory_equal(b.events[i].sha384, exit_ok, 48);
			seen++;
		}
	}
	assert_int_equal(seen, 3);
	free(pe);
}

static void replay(uint8_t mr[48], const cct_measure_tdx_boot *b, uint32_t rtmr)
{
	size_t i;

	memset(mr, 0, 48);
	for (i = 0; i < b->count; i++) {
		uint8_t buf[96];
		unsigned int dl = 0;

		if (b->events[i].rtmr != rtmr)
			continue;
		memcpy(buf, mr, 48);
		memcpy(buf + 48, b->events[i].sha384, 48);
		EVP_Digest(buf, 96, mr, &dl, EVP_sha384(), NULL);
	}
}

static void direct_boot_events(void **state)
{
	size_t n, dl = 0;
	uint8_t *pe = make_pe(&n, 0), *patched, d[64], mr[48];
	uint8_t initrd[5000];
	const uint16_t opts[] = { 'c', 'o', 'n', 's', 'o', 'l', 'e', '=', 't', 't', 'y', 'S', '0',
				  ' ', 'i', 'n', 'i', 't', 'r', 'd', '=', 'i', 'n', 'i', 't', 'r',
				  'd', 0 };
	uint8_t opts_le[sizeof(opts)];
	cct_measure_tdx_boot b;
	cct_err err;
	unsigned int hl = 0;
	size_t i;
	uint32_t initrd_max = 0x80000000u - 0x28000u - 1;

	(void)state;
	memset(initrd, 0x5a, sizeof(initrd));
	/* QEMU's header patch, 64 GiB q35: below-4G RAM is 2 GiB */
	patched = malloc(n);
	memcpy(patched, pe, n);
	assert_int_equal(cct_measure_qemu_kernel_patch(patched, n, 64ull << 30, sizeof(initrd),
						       "console=ttyS0", &err),
			 CCT_OK);
	assert_int_equal(patched[0x210], 0xb0);
	assert_int_equal(patched[0x211], 0x81);
	assert_int_equal(g32(patched + 0x228), 0x20000);
	assert_int_equal(patched[0x224] | patched[0x225] << 8, 0xfe00);
	assert_int_equal(g32(patched + 0x218), (initrd_max - sizeof(initrd)) & ~4095u);
	assert_int_equal(g32(patched + 0x21c), sizeof(initrd));
	/* events: kernel app, calling, separator -> RTMR1; LoadOptions, initrd -> RTMR2; exits */
	assert_int_equal(cct_measure_tdx_direct_boot(&b, pe, n, initrd, sizeof(initrd),
						     "console=ttyS0", 64ull << 30, &err),
			 CCT_OK);
	assert_int_equal(b.count, 7);
	assert_int_equal(cct_measure_pe_authenticode(d, &dl, "sha384", patched, n, &err), CCT_OK);
	assert_memory_equal(b.events[0].sha384, d, 48);
	assert_memory_equal(b.kernel_authenticode, d, 48);
	assert_int_equal(b.events[0].event_type, 0x80000003u);
	assert_int_equal(b.events[3].rtmr, 2);
	for (i = 0; i < sizeof(opts) / 2; i++) {
		opts_le[2 * i] = (uint8_t)opts[i];
		opts_le[2 * i + 1] = (uint8_t)(opts[i] >> 8);
	}
	EVP_Digest(opts_le, sizeof(opts_le), d, &hl, EVP_sha384(), NULL);
	assert_memory_equal(b.events[3].sha384, d, 48);
	EVP_Digest(initrd, sizeof(initrd), d, &hl, EVP_sha384(), NULL);
	assert_memory_equal(b.events[4].sha384, d, 48);
	replay(mr, &b, 1);
	assert_memory_equal(mr, b.rtmr[1], 48);
	replay(mr, &b, 2);
	assert_memory_equal(mr, b.rtmr[2], 48);
	/* the memory size moves the initrd, hence the measured header, hence RTMR1 */
	{
		cct_measure_tdx_boot b2;

		assert_int_equal(cct_measure_tdx_direct_boot(&b2, pe, n, initrd, sizeof(initrd),
							     "console=ttyS0", 1ull << 30, &err),
				 CCT_OK);
		assert_memory_not_equal(b2.rtmr[1], b.rtmr[1], 48);
		assert_memory_equal(b2.rtmr[2], b.rtmr[2], 48);
	}
	free(patched);
	free(pe);
}

/* expected.json / policy.json of a TDX direct-boot plan: RTMR1/RTMR2 equal
 * `cctrust measure tdx --kernel --initrd --append --memory`, the events are listed, the policy
 * pins them and loads. */
static void plan_rtmrs_equal_measure_tdx(void **state)
{
	size_t n;
	uint8_t *pe = make_pe(&n, 0), initrd[777], tdvf[TDVF_SIZE];
	char plan[2048], *out = NULL, *pol_text;
	const char *dir = cct_test_tmpdir();
	cct_launch_plan p;
	cct_err err;
	json_t *o = NULL, *cli, *vals, *tdx;
	cct_policy *pol = NULL;

	(void)state;
	memset(initrd, 7, sizeof(initrd));
	make_tdvf(tdvf);
	cct_test_write_tmp("tdvf.fd", tdvf, sizeof(tdvf));
	cct_test_write_tmp("vmlinuz.efi", pe, n);
	cct_test_write_tmp("initrd.img", initrd, sizeof(initrd));
	snprintf(plan, sizeof(plan),
		 "tee = \"tdx\"\nfirmware = \"tdvf.fd\"\nkernel = \"vmlinuz.efi\"\n"
		 "initrd = \"initrd.img\"\ncmdline = \"console=hvc0 root=/dev/vda\"\nvcpus = 2\n"
		 "memory = \"16G\"\n");
	assert_int_equal(cct_launch_plan_parse(&p, plan, strlen(plan), dir, &err), CCT_OK);
	assert_int_equal(cct_launch_plan_build(&o, &p, &err), CCT_OK);
	cct_launch_plan_clear(&p);
	assert_int_equal(cct_test_cli(&out,
				      "measure tdx --kernel '%s/vmlinuz.efi' --initrd "
				      "'%s/initrd.img' --append 'console=hvc0 root=/dev/vda' "
				      "--memory 16G --json",
				      dir, dir),
			 0);
	cli = json_loads(out, 0, NULL);
	assert_non_null(cli);
	assert_int_equal(json_array_size(json_object_get(cli, "rtmr_events")), 7);
	vals = json_object_get(json_object_get(o, "expected"), "values");
	assert_true(json_is_true(json_object_get(json_object_get(vals, "rtmr1"), "derived")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(vals, "rtmr1"),
							      "value")),
			    json_string_value(json_object_get(cli, "rtmr1")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(vals, "rtmr2"),
							      "value")),
			    json_string_value(json_object_get(cli, "rtmr2")));
	assert_true(json_equal(json_object_get(json_object_get(o, "expected"), "rtmr_events"),
			       json_object_get(cli, "rtmr_events")));
	tdx = json_object_get(json_object_get(o, "policy"), "tdx");
	assert_string_equal(json_string_value(json_array_get(json_object_get(tdx, "rtmr1"), 0)),
			    json_string_value(json_object_get(cli, "rtmr1")));
	pol_text = json_dumps(json_object_get(o, "policy"), 0);
	assert_int_equal(cct_policy_load(&pol, pol_text, strlen(pol_text), &err), CCT_OK);
	cct_policy_free(pol);
	free(pol_text);
	/* --initrd without --memory is a usage error (the address depends on it) */
	free(out);
	out = NULL;
	assert_int_equal(cct_test_cli(&out, "measure tdx --kernel '%s/vmlinuz.efi' --initrd "
					    "'%s/initrd.img'", dir, dir),
			 2);
	json_decref(cli);
	json_decref(o);
	free(out);
	free(pe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(authenticode_refuses_malformed),
		cmocka_unit_test(real_ccel_event_digests),
		cmocka_unit_test(direct_boot_events),
		cmocka_unit_test(plan_rtmrs_equal_measure_tdx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
