#define _POSIX_C_SOURCE 200809L
/* TDX quote verification throughput next to its limit, one thread (= per core), in one loop:
 *   tdx_bench QUOTE COLLATERAL.json --at TIME [-n N]
 * The collateral loaded once (its checks cached, as in one `tdx verify` call over many quotes):
 * each further verification costs the quote's and the QE report's P-256 verifications plus
 * parsing and the TCB lookup. Blocks of verifications alternate with blocks of two bare
 * OpenSSL P-256 verifications each (what `openssl speed ecdsap256` times: the limit), each
 * block timed on its own, so a core whose speed drifts slows both alike. Prints "RATE LIMIT"
 * in quotes per second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inloop_limit.h"
#include "cctrust/core.h"
#include "cctrust/tdx.h"

int main(int argc, char **argv)
{
	enum { BLOCK = 20, VERIFIES_PER_QUOTE = 2 };
	cct_tdx_collateral *coll = NULL;
	cct_tdx_verify_opts o;
	cct_tdx_result res;
	uint8_t *quote = NULL;
	size_t n = 0;
	long iters = 3000, i, j;
	double t0, t_tdx = 0, t_bare = 0;
	bare_ecdsa b;
	cct_err err;
	int a;

	memset(&o, 0, sizeof(o));
	if (argc < 3) {
		fprintf(stderr, "usage: tdx_bench QUOTE COLLATERAL.json --at TIME [-n N]\n");
		return 2;
	}
	for (a = 3; a < argc; a++) {
		if (!strcmp(argv[a], "-n") && a + 1 < argc)
			iters = atol(argv[++a]);
		else if (!strcmp(argv[a], "--at") && a + 1 < argc &&
			 cct_time_parse(&o.at, argv[a + 1], NULL) == CCT_OK)
			a++;
		else {
			fprintf(stderr, "tdx_bench: unknown or incomplete option %s\n", argv[a]);
			return 2;
		}
	}
	if (iters < BLOCK || cct_file_read(&quote, &n, argv[1], 0, &err) != CCT_OK ||
	    cct_tdx_collateral_load(&coll, argv[2], &err) != CCT_OK) {
		fprintf(stderr, "tdx_bench: %s\n", iters < BLOCK ? "-n below 20" : err.msg);
		return 2;
	}
	o.collateral = coll;
	/* warm-up, and proof that the input verifies */
	if (cct_tdx_verify(&res, quote, n, &o, &err) != CCT_OK) {
		fprintf(stderr, "tdx_bench: does not verify: %s\n", err.msg);
		return 1;
	}
	if (bare_ecdsa_init(&b, "P-256", 32) != 0 || bare_ecdsa_verify(&b) != 0) {
		fprintf(stderr, "tdx_bench: OpenSSL P-256 set-up failed\n");
		return 2;
	}
	for (i = 0; i < iters; i += BLOCK) {
		t0 = bench_cpu_s();
		for (j = 0; j < BLOCK; j++)
			if (cct_tdx_verify(&res, quote, n, &o, &err) != CCT_OK) {
				fprintf(stderr, "tdx_bench: iteration %ld failed: %s\n", i + j,
					err.msg);
				return 1;
			}
		t_tdx += bench_cpu_s() - t0;
		t0 = bench_cpu_s();
		for (j = 0; j < BLOCK * VERIFIES_PER_QUOTE; j++)
			if (bare_ecdsa_verify(&b) != 0)
				return 1;
		t_bare += bench_cpu_s() - t0;
	}
	printf("%.1f %.1f\n", (double)i / t_tdx, (double)i / t_bare);
	bare_ecdsa_free(&b);
	cct_tdx_collateral_free(coll);
	free(quote);
	return 0;
}
