#define _POSIX_C_SOURCE 200809L
/* launch diagnose timing on a 4 MiB OVMF (the bound: under 5 s):
 *   launch_bench OVMF_SUFFIX [-n N]
 * OVMF_SUFFIX is a firmware image whose last page holds the footer table and SEV metadata
 * (tests/vectors/measure/virtee-sev/ovmf_AmdSev_suffix.bin); it is padded at the front with
 * pseudo-random pages to 4 MiB so the OVMF page digest covers 1024 pages, as a real OVMF.fd.
 * Reports: worst case (no variation matches: the whole search space), a 7-vCPU report, a
 * guest_features 0x21 + EPYC-Genoa report, each with the OVMF digest recomputed per run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "cctrust/measure.h"

#define OVMF_SIZE (4u * 1024u * 1024u)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *what, const cct_launch_plan *plan, const char *variant_toml,
	       const char *dir, int n, int no_match)
{
	uint8_t rep[1184];
	double best = 1e9, worst = 0;
	int i;
	json_t *o = NULL;
	cct_err err;

	memset(rep, 0, sizeof(rep));
	rep[0] = 2;
	rep[0x0a] = 0x03;
	rep[0x34] = 1;
	if (no_match) {
		memset(rep + 0x90, 0xab, 48);
	} else {
		cct_launch_plan v;
		char text[1024];

		snprintf(text, sizeof(text),
			 "tee = \"snp\"\nfirmware = \"ovmf4m.fd\"\nkernel = \"empty\"\n%s", variant_toml);
		if (cct_launch_plan_parse(&v, text, strlen(text), dir, &err) != CCT_OK ||
		    cct_launch_plan_build(&o, &v, &err) != CCT_OK) {
			fprintf(stderr, "%s: %s\n", what, err.msg);
			return 1;
		}
		cct_hex_decode_fixed(rep + 0x90, 48,
				     json_string_value(json_object_get(
					     json_object_get(json_object_get(json_object_get(
								     o, "expected"), "values"),
							     "measurement"),
					     "value")),
				     NULL);
		json_decref(o);
		cct_launch_plan_clear(&v);
	}
	for (i = 0; i < n; i++) {
		double t0 = now_s(), t;
		char *s;

		o = NULL;
		(void)cct_launch_diagnose(&o, plan, rep, sizeof(rep), &err);
		t = now_s() - t0;
		if (!o) {
			fprintf(stderr, "%s: %s\n", what, err.msg);
			return 1;
		}
		best = t < best ? t : best;
		worst = t > worst ? t : worst;
		if (i == 0) {
			s = json_dumps(json_object_get(o, "explained_by"), JSON_ENCODE_ANY);
			printf("%-34s explained_by %-52s searched %lld\n", what, s ? s : "?",
			       (long long)json_integer_value(json_object_get(o, "searched")));
			free(s);
		}
		json_decref(o);
	}
	printf("%-34s best %.3f s  worst %.3f s  (%d runs)\n", "", best, worst, n);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *suffix = NULL, *img;
	size_t sn = 0, i;
	int n = 5, rc = 0;
	char dir[] = "/tmp/cct-launch-bench.XXXXXX", path[256], cmd[512];
	cct_launch_plan plan;
	cct_err err;
	const char *text = "tee = \"snp\"\nfirmware = \"ovmf4m.fd\"\nkernel = \"empty\"\n"
			   "cmdline = \"console=ttyS0\"\nvcpus = 4\n";
	const char *text7 = "cmdline = \"console=ttyS0\"\nvcpus = 7\n";
	const char *textg = "cmdline = \"console=ttyS0\"\nvcpus = 4\nvcpu_type = \"EPYC-Genoa\"\n"
			    "guest_features = \"0x21\"\n";

	if (argc < 2) {
		fprintf(stderr, "usage: launch_bench OVMF_SUFFIX [-n N]\n");
		return 2;
	}
	if (argc > 3 && !strcmp(argv[2], "-n"))
		n = atoi(argv[3]);
	if (cct_file_read(&suffix, &sn, argv[1], OVMF_SIZE, &err) != CCT_OK || sn % 4096) {
		fprintf(stderr, "%s: unreadable or not whole pages\n", argv[1]);
		return 2;
	}
	if (!mkdtemp(dir))
		return 2;
	img = malloc(OVMF_SIZE);
	if (!img)
		return 2;
	for (i = 0; i < OVMF_SIZE - sn; i++)
		img[i] = (uint8_t)((i * 2654435761u) >> 13);
	memcpy(img + OVMF_SIZE - sn, suffix, sn);
	snprintf(path, sizeof(path), "%s/ovmf4m.fd", dir);
	cct_file_write(path, img, OVMF_SIZE, 0, &err);
	snprintf(path, sizeof(path), "%s/empty", dir);
	cct_file_write(path, "", 0, 0, &err);
	if (cct_launch_plan_parse(&plan, text, strlen(text), dir, &err) != CCT_OK) {
		fprintf(stderr, "plan: %s\n", err.msg);
		free(img);
		return 2;
	}
	printf("launch diagnose, 4 MiB OVMF (OVMF page digest recomputed per run), 1 thread:\n");
	rc |= run("no variation matches (full search)", &plan, NULL, dir, n, 1);
	rc |= run("report from 7 vCPUs", &plan, text7, dir, n, 0);
	rc |= run("EPYC-Genoa + guest_features 0x21", &plan, textg, dir, n, 0);
	cct_launch_plan_clear(&plan);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	free(img);
	free(suffix);
	return rc;
}
