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

typedef struct tdx_loop {
	const uint8_t *quote;
	size_t n;
	cct_tdx_verify_opts o;
} tdx_loop;

static int tdx_step(void *ctx, long i)
{
	tdx_loop *t = ctx;
	cct_tdx_result res;
	cct_err err;

	if (cct_tdx_verify(&res, t->quote, t->n, &t->o, &err) != CCT_OK)
		return inloop_failed("tdx_bench", i, err.msg);
	return 0;
}

int main(int argc, char **argv)
{
	enum { BLOCK = 20, VERIFIES_PER_QUOTE = 2 };
	cct_tdx_collateral *coll = NULL;
	tdx_loop t;
	uint8_t *quote = NULL;
	size_t n = 0;
	long iters = 3000;
	double rate, limit;
	bare_ecdsa b;
	cct_err err;
	int a;

	memset(&t, 0, sizeof(t));
	if (argc < 3) {
		fprintf(stderr, "usage: tdx_bench QUOTE COLLATERAL.json --at TIME [-n N]\n");
		return 2;
	}
	for (a = 3; a < argc; a++) {
		if (!strcmp(argv[a], "-n") && a + 1 < argc)
			iters = atol(argv[++a]);
		else if (!strcmp(argv[a], "--at") && a + 1 < argc &&
			 cct_time_parse(&t.o.at, argv[a + 1], NULL) == CCT_OK)
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
	t.o.collateral = coll;
	t.quote = quote;
	t.n = n;
	/* warm-up, and proof that the input verifies */
	if (tdx_step(&t, -1) != 0)
		return 1;
	if (bare_ecdsa_init(&b, "P-256", 32) != 0 || bare_ecdsa_verify(&b) != 0) {
		fprintf(stderr, "tdx_bench: OpenSSL P-256 set-up failed\n");
		return 2;
	}
	if (inloop_rates(&rate, &limit, iters, BLOCK, VERIFIES_PER_QUOTE, tdx_step, &t,
			 bare_ecdsa_step, &b) != 0)
		return 1;
	printf("%.1f %.1f\n", rate, limit);
	bare_ecdsa_free(&b);
	cct_tdx_collateral_free(coll);
	free(quote);
	return 0;
}
