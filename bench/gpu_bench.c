#define _POSIX_C_SOURCE 200809L
/* GPU verification throughput next to its limit, one thread (= per core), in one loop:
 *   gpu_bench EVIDENCE NONCE_HEX [--device-root F] [--rim-dir D] [--ocsp-dir D] [--no-ocsp]
 *             [--no-rim] [--at TIME] [-n N]
 * Offline, with the verifier's caches warm (device chains, RIMs, OCSP answers): each further
 * verification costs one P-384 verify per device plus parsing and claims. Blocks of
 * verifications alternate with blocks of bare OpenSSL P-384 verifications of a signed digest
 * (what `openssl speed ecdsap384` times: the limit, one per device), each block timed on its
 * own, so a core whose speed drifts slows both alike. Prints "RATE LIMIT" in device
 * verifications per second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inloop_limit.h"
#include "cctrust/core.h"
#include "cctrust/nvgpu.h"

typedef struct gpu_loop {
	cct_nvgpu_verifier *v;
	cct_nvgpu_evidence_list *ev;
	uint8_t nonce[32];
} gpu_loop;

static int gpu_step(void *ctx, long i)
{
	gpu_loop *g = ctx;
	char *claims = NULL;
	cct_err err;

	if (cct_nvgpu_verify(&claims, g->v, g->ev, g->nonce, sizeof(g->nonce), &err) != CCT_OK)
		return inloop_failed("gpu_bench", i, err.msg);
	free(claims);
	return 0;
}

int main(int argc, char **argv)
{
	enum { BLOCK = 10 };
	cct_nvgpu_opts o;
	gpu_loop g = { 0 };
	uint8_t *doc = NULL;
	size_t n = 0, devices;
	long iters = 1000;
	double rate, limit;
	bare_ecdsa b;
	cct_err err;
	int a;

	if (argc < 3) {
		fprintf(stderr, "usage: gpu_bench EVIDENCE NONCE_HEX [--device-root F] [--rim-dir D] "
				"[--ocsp-dir D] [--no-ocsp] [--no-rim] [--at TIME] [-n N]\n");
		return 2;
	}
	cct_nvgpu_opts_init(&o);
	o.offline = 1;
	for (a = 3; a < argc; a++) {
		if (!strcmp(argv[a], "-n") && a + 1 < argc)
			iters = atol(argv[++a]);
		else if (!strcmp(argv[a], "--device-root") && a + 1 < argc)
			o.device_root_path_insecure = argv[++a];
		else if (!strcmp(argv[a], "--rim-dir") && a + 1 < argc)
			o.rim_dir = argv[++a];
		else if (!strcmp(argv[a], "--ocsp-dir") && a + 1 < argc)
			o.ocsp_dir = argv[++a];
		else if (!strcmp(argv[a], "--no-ocsp"))
			o.no_ocsp = 1;
		else if (!strcmp(argv[a], "--no-rim"))
			o.no_rim = 1;
		else if (!strcmp(argv[a], "--at") && a + 1 < argc &&
			 cct_time_parse(&o.at, argv[a + 1], NULL) == CCT_OK)
			a++;
		else {
			fprintf(stderr, "gpu_bench: unknown or incomplete option %s\n", argv[a]);
			return 2;
		}
	}
	if (iters < BLOCK ||
	    cct_hex_decode_fixed(g.nonce, sizeof(g.nonce), argv[2], &err) != CCT_OK ||
	    cct_file_read(&doc, &n, argv[1], 0, &err) != CCT_OK ||
	    cct_nvgpu_evidence_list_parse(&g.ev, doc, n, &err) != CCT_OK ||
	    cct_nvgpu_verifier_new(&g.v, &o, &err) != CCT_OK) {
		fprintf(stderr, "gpu_bench: %s\n", iters < BLOCK ? "-n below 10" : err.msg);
		return 2;
	}
	/* warm-up, and proof that the input verifies */
	if (gpu_step(&g, -1) != 0)
		return 1;
	if (bare_ecdsa_init(&b, "P-384", 48) != 0 || bare_ecdsa_verify(&b) != 0) {
		fprintf(stderr, "gpu_bench: OpenSSL P-384 set-up failed\n");
		return 2;
	}
	devices = cct_nvgpu_evidence_list_count(g.ev);
	if (inloop_rates(&rate, &limit, iters, BLOCK, (long)devices, gpu_step, &g, bare_ecdsa_step,
			 &b) != 0)
		return 1;
	/* in device verifications per second */
	printf("%.1f %.1f\n", rate * (double)devices, limit * (double)devices);
	bare_ecdsa_free(&b);
	cct_nvgpu_verifier_free(g.v);
	cct_nvgpu_evidence_list_free(g.ev);
	free(doc);
	return 0;
}
