#define _POSIX_C_SOURCE 200809L
/* SNP verification throughput, one thread (= per core):
 *   snp_bench REPORT CERTS... [-n N] [--full-chain] [--at TIME]
 * cached: the chain is verified once, then each report costs parse + P-384 verify + checks;
 * full-chain: the chain (ARK self-signature, ASK and VCEK RSA-PSS-4096) is re-verified each time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cctrust/core.h"
#include "cctrust/snp.h"

static double now_s(void)
{
	struct timespec ts;

	/* CPU time of this process, like `openssl speed` (not wall-clock: the machine may be shared) */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_snp_report rep;
	uint8_t *raw, *bytes;
	size_t n, len;
	long iters = 2000, i;
	int full = 0, a;
	double t0, dt;
	time_t at = 0;
	cct_err err;

	if (argc < 3) {
		fprintf(stderr, "usage: snp_bench REPORT CERTS... [-n N] [--full-chain] [--at T]\n");
		return 2;
	}
	if (cct_snp_verifier_new(&v, &err) != CCT_OK)
		return 2;
	for (a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "-n") && a + 1 < argc)
			iters = atol(argv[++a]);
		else if (!strcmp(argv[a], "--full-chain"))
			full = 1;
		else if (!strcmp(argv[a], "--at") && a + 1 < argc)
			cct_time_parse(&at, argv[++a], NULL);
		else if (cct_snp_verifier_add_certs_path(v, argv[a], &err) != CCT_OK) {
			fprintf(stderr, "%s\n", err.msg);
			return 2;
		}
	}
	if (cct_file_read(&raw, &n, argv[1], 0, &err) != CCT_OK ||
	    cct_input_decode(&bytes, &len, raw, n, CCT_SNP_REPORT_SIZE, &err) != CCT_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	if (at)
		cct_snp_verifier_set_time(v, at);
	cct_snp_policy_init(&pol);
	pol.allow_debug_insecure = 1;
	/* warm-up, and proof that the input verifies */
	if (cct_snp_report_parse(&rep, bytes, len, &err) != CCT_OK ||
	    cct_snp_verify(NULL, v, &rep, &pol, &err) != CCT_OK) {
		fprintf(stderr, "does not verify: %s\n", err.msg);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < iters; i++) {
		if (full)
			cct_snp_verifier_clear_cache(v);
		if (cct_snp_report_parse(&rep, bytes, len, &err) != CCT_OK ||
		    cct_snp_verify(NULL, v, &rep, &pol, &err) != CCT_OK) {
			fprintf(stderr, "iteration %ld failed: %s\n", i, err.msg);
			return 1;
		}
	}
	dt = now_s() - t0;
	printf("%.1f\n", (double)iters / dt);
	free(raw);
	free(bytes);
	cct_snp_verifier_free(v);
	return 0;
}
