/* The PE Authenticode SHA-384 of synthetic PEs (with and without trailing data) equals the one
 * osslsigncode (Debian) computes when it signs them; CheckSum changes do not move it, a section
 * byte does. Exits 77 (skip) when osslsigncode or openssl is missing: scripts/install-deps.sh
 * installs it and CI fails on an unexpected skip. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/measure.h"
#include "fixtures.h"

static int have_osslsigncode(void)
{
	return system("command -v osslsigncode >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1") == 0;
}

/* osslsigncode signs with SHA-384 and reports the digest it computed over the file. */
static void osslsigncode_digest(char out[97], const char *pe_path)
{
	char cmd[4096], *line = NULL;
	const char *d = cct_test_tmpdir();
	FILE *p;
	size_t cap = 0;
	int found = 0;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && ( [ -f sign.key ] || openssl req -x509 -newkey rsa:2048 -nodes "
		 "-keyout sign.key -out sign.crt -days 2 -subj /CN=cctrust-test >/dev/null 2>&1 ) "
		 "&& rm -f signed.efi && osslsigncode sign -certs sign.crt -key sign.key -h sha384 "
		 "-in '%s' -out signed.efi >/dev/null 2>&1 && osslsigncode verify -in signed.efi 2>&1",
		 d, pe_path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (getline(&line, &cap, p) > 0) {
		char *c = strstr(line, "Calculated message digest");
		size_t k = 0;

		if (!c || !(c = strchr(c, ':')))
			continue;
		for (c++; *c && k < 96; c++)
			if ((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'F') ||
			    (*c >= 'a' && *c <= 'f'))
				out[k++] = (char)(*c | 0x20);
		out[k] = 0;
		found = k == 96;
	}
	free(line);
	pclose(p);
	assert_true(found);
}

static void authenticode_vs_osslsigncode(void **state)
{
	size_t extras[] = { 0, 0x48 }, k;

	(void)state;
	if (!have_osslsigncode()) {
		fprintf(stderr, "osslsigncode not installed (scripts/install-deps.sh): skipping\n");
		exit(77);
	}
	for (k = 0; k < 2; k++) {
		size_t n, dl = 0;
		uint8_t *pe = make_pe(&n, extras[k]), d[64];
		char name[32], want[97], got[97];
		const char *path;
		cct_err err;

		snprintf(name, sizeof(name), "pe%zu.efi", k);
		path = cct_test_write_tmp(name, pe, n);
		osslsigncode_digest(want, path);
		assert_int_equal(cct_measure_pe_authenticode(d, &dl, "sha384", pe, n, &err), CCT_OK);
		assert_int_equal(dl, 48);
		cct_hex_encode(got, d, 48);
		assert_string_equal(got, want);
		/* the CheckSum is not covered, a section byte is */
		pe[0x98 + 64] ^= 0xff;
		assert_int_equal(cct_measure_pe_authenticode(d, &dl, "sha384", pe, n, &err), CCT_OK);
		cct_hex_encode(got, d, 48);
		assert_string_equal(got, want);
		pe[0x500] ^= 1;
		assert_int_equal(cct_measure_pe_authenticode(d, &dl, "sha384", pe, n, &err), CCT_OK);
		cct_hex_encode(got, d, 48);
		assert_string_not_equal(got, want);
		free(pe);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(authenticode_vs_osslsigncode),
	};

	if (system("command -v osslsigncode >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1")) {
		fprintf(stderr, "osslsigncode/openssl not installed (scripts/install-deps.sh): skip\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
