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

int main(int argc, char **argv)
{
	enum { BLOCK = 10 };
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	cct_nvgpu_evidence_list *ev = NULL;
	uint8_t *doc = NULL, nonce[32];
	size_t n = 0, devices;
	long iters = 1000, i, j;
	double t0, t_gpu = 0, t_bare = 0;
	char *claims = NULL;
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
	if (iters < BLOCK || cct_hex_decode_fixed(nonce, sizeof(nonce), argv[2], &err) != CCT_OK ||
	    cct_file_read(&doc, &n, argv[1], 0, &err) != CCT_OK ||
	    cct_nvgpu_evidence_list_parse(&ev, doc, n, &err) != CCT_OK ||
	    cct_nvgpu_verifier_new(&v, &o, &err) != CCT_OK) {
		fprintf(stderr, "gpu_bench: %s\n", iters < BLOCK ? "-n below 10" : err.msg);
		return 2;
	}
	/* warm-up, and proof that the input verifies */
	if (cct_nvgpu_verify(&claims, v, ev, nonce, sizeof(nonce), &err) != CCT_OK) {
		fprintf(stderr, "gpu_bench: does not verify: %s\n", err.msg);
		return 1;
	}
	free(claims);
	if (bare_ecdsa_init(&b, "P-384", 48) != 0 || bare_ecdsa_verify(&b) != 0) {
		fprintf(stderr, "gpu_bench: OpenSSL P-384 set-up failed\n");
		return 2;
	}
	devices = cct_nvgpu_evidence_list_count(ev);
	for (i = 0; i < iters; i += BLOCK) {
		t0 = bench_cpu_s();
		for (j = 0; j < BLOCK; j++) {
			claims = NULL;
			if (cct_nvgpu_verify(&claims, v, ev, nonce, sizeof(nonce), &err) != CCT_OK) {
				fprintf(stderr, "gpu_bench: iteration %ld failed: %s\n", i + j,
					err.msg);
				return 1;
			}
			free(claims);
		}
		t_gpu += bench_cpu_s() - t0;
		t0 = bench_cpu_s();
		for (j = 0; j < BLOCK * (long)devices; j++)
			if (bare_ecdsa_verify(&b) != 0)
				return 1;
		t_bare += bench_cpu_s() - t0;
	}
	printf("%.1f %.1f\n", (double)i * (double)devices / t_gpu,
	       (double)i * (double)devices / t_bare);
	bare_ecdsa_free(&b);
	cct_nvgpu_verifier_free(v);
	cct_nvgpu_evidence_list_free(ev);
	free(doc);
	return 0;
}
