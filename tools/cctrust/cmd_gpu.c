/* cctrust gpu: verify / show NVIDIA GPU and NVSwitch evidence; check a RIM. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cctrust/nvgpu.h"
#include "cli.h"

static void usage(FILE *to)
{
	fputs("usage: cctrust gpu verify EVIDENCE.json... (--nonce HEX | --no-nonce) [--at RFC3339]\n"
	      "                          [--collateral BUNDLE] [--rim-dir DIR] [--ocsp-dir DIR]\n"
	      "                          [--cache-dir DIR] [--rim-url URL] [--ocsp-url URL]\n"
	      "                          [--policy FILE] [--expected-count N] [--expected-arch A]\n"
	      "                          [--offline] [--no-ocsp] [--no-rim] [--allow-hold] [--json]\n"
	      "                          [--each]\n"
	      "  inputs: files, - (stdin), directories (their files, by name); their entries are\n"
	      "  verified as one set (one machine's devices), or with --each every input on its own,\n"
	      "  one result per input (JSON: one line each, with \"evidence\": the input)\n"
	      "       cctrust gpu show EVIDENCE.json [--json]   (JSON either way)\n"
	      "       cctrust gpu rim verify RIM.xml [--at RFC3339] [--ocsp | --no-ocsp] [--ocsp-dir DIR]\n"
	      "                          [--ocsp-url URL] [--cache-dir DIR] [--collateral BUNDLE]\n"
	      "                          [--allow-hold] [--offline] [--trust-sim DIR] [--json]\n"
	      "  rim verify: OCSP of the RIM's signing chain only with --ocsp (the OCSP options and\n"
	      "  --cache-dir, --collateral, --allow-hold are refused without it)\n"
	      "an option a subcommand does not list is refused (exit 2), not ignored; gpu verify\n"
	      "checks OCSP unless --no-ocsp (--ocsp says so; both together are refused)\n"
	      "--nonce HEX: the expected SPDM nonce (freshness); without it the evidence is refused\n"
	      "unless --no-nonce accepts it with the nonce \"not_checked\" and freshness not\n"
	      "established. Checks not performed are listed (JSON \"checks_skipped\", else stderr).\n"
	      "--trust-sim DIR: accept the simulated GPUs of `cctrust sim init DIR` (results marked)\n"
	      "test-only: --device-root FILE, --rim-root FILE replace the pinned NVIDIA roots (rim\n"
	      "verify: --rim-root)\n"
	      "--policy FILE: a cctrust.policy/v1 document (its \"gpu\" rules over every device's\n"
	      "claims, exactly as `cctrust verify` applies them; docs/policy.md); --expected-count\n"
	      "and --expected-arch then override gpu.count / gpu.architectures. nvtrust\n"
	      "authorization-rules files are converted with a deprecation warning.\n",
	      to);
}

typedef struct {
	cct_nvgpu_opts o;
	char **files; /* the inputs (files, "-", directories: cct_inputs_each), not copied */
	int nfiles;
	int each;     /* --each: every input is its own evidence set, verified and printed alone */
	const char *nonce_hex, *policy_file;
	int json, repeat, ocsp_on, no_nonce;
	cct_policy *v1; /* --policy: cctrust.policy/v1 appraisal of the devices' claims */
} gpu_args;

enum { OPT_JSON = 256, OPT_OFFLINE, OPT_NO_OCSP, OPT_OCSP, OPT_NO_RIM, OPT_HOLD, OPT_NONCE,
       OPT_AT, OPT_RIM_DIR, OPT_OCSP_DIR, OPT_CACHE_DIR, OPT_RIM_URL, OPT_OCSP_URL, OPT_POLICY,
       OPT_COUNT, OPT_ARCH, OPT_SIM, OPT_DEVICE_ROOT, OPT_RIM_ROOT, OPT_REPEAT, OPT_HELP,
       OPT_NO_NONCE, OPT_EACH, OPT_COLLATERAL };

static const struct option gpu_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "each", no_argument, NULL, OPT_EACH },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "no-ocsp", no_argument, NULL, OPT_NO_OCSP },
	{ "ocsp", no_argument, NULL, OPT_OCSP },
	{ "no-rim", no_argument, NULL, OPT_NO_RIM },
	{ "allow-hold", no_argument, NULL, OPT_HOLD },
	{ "nonce", required_argument, NULL, OPT_NONCE },
	{ "no-nonce", no_argument, NULL, OPT_NO_NONCE },
	{ "at", required_argument, NULL, OPT_AT },
	{ "rim-dir", required_argument, NULL, OPT_RIM_DIR },
	{ "ocsp-dir", required_argument, NULL, OPT_OCSP_DIR },
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
	{ "collateral", required_argument, NULL, OPT_COLLATERAL },
	{ "rim-url", required_argument, NULL, OPT_RIM_URL },
	{ "ocsp-url", required_argument, NULL, OPT_OCSP_URL },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "expected-count", required_argument, NULL, OPT_COUNT },
	{ "expected-arch", required_argument, NULL, OPT_ARCH },
	{ "trust-sim", required_argument, NULL, OPT_SIM },
	{ "device-root", required_argument, NULL, OPT_DEVICE_ROOT },
	{ "rim-root", required_argument, NULL, OPT_RIM_ROOT },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* The options each subcommand reads; any other one is a usage error, never accepted and then
 * ignored (a --json that prints no JSON, a --nonce or --no-rim a RIM check never looks at). */
#define OPT(o) (UINT32_C(1) << ((o) - OPT_JSON))
#define OPTS_RIM (OPT(OPT_JSON) | OPT(OPT_AT) | OPT(OPT_OCSP) | OPT(OPT_NO_OCSP) |             \
		  OPT(OPT_OCSP_DIR) | OPT(OPT_OCSP_URL) | OPT(OPT_CACHE_DIR) | OPT(OPT_COLLATERAL) | \
		  OPT(OPT_HOLD) |                                                                 \
		  OPT(OPT_OFFLINE) | OPT(OPT_SIM) | OPT(OPT_RIM_ROOT) |                            \
		  OPT(OPT_POLICY) /* refused with its own reason */)
static const struct {
	const char *sub;
	uint32_t opts;
} sub_opts[] = {
	/* every option (--ocsp: OCSP on, as it is unless --no-ocsp; both together refused) */
	{ "verify", ~UINT32_C(0) },
	/* its output is JSON: --json asks for what it prints anyway */
	{ "show", OPT(OPT_JSON) },
	{ "rim verify", OPTS_RIM },
};

/* 1 when subcommand sub reads option c (getopt's value) */
static int sub_reads(const char *sub, int c)
{
	size_t i;

	if (c < OPT_JSON || c > OPT_COLLATERAL || c == OPT_HELP)
		return 1;
	for (i = 0; i < sizeof(sub_opts) / sizeof(sub_opts[0]); i++)
		if (!strcmp(sub, sub_opts[i].sub))
			return (sub_opts[i].opts & OPT(c)) != 0;
	return 1;
}

/* rim verify checks OCSP only with --ocsp, and OCSP is the only collateral it reads: an OCSP
 * source (--ocsp-dir, --ocsp-url, the cache, a bundle) or --allow-hold without --ocsp would be
 * accepted and ignored, and reads as if the RIM's chain had been checked against it. Refused,
 * naming the option. (gpu verify's --no-ocsp / --no-rim beside a source is an explicit opt-out
 * of the check: scripts keep one set of sources and switch checks off.) */
static int rim_unused_sources(uint32_t seen)
{
	static const int ocsp_only[] = { OPT_OCSP_DIR, OPT_OCSP_URL, OPT_CACHE_DIR, OPT_COLLATERAL,
					 OPT_HOLD };
	size_t i;

	if (seen & OPT(OPT_OCSP))
		return 0;
	for (i = 0; i < sizeof(ocsp_only) / sizeof(ocsp_only[0]); i++)
		if (seen & OPT(ocsp_only[i]))
			return cct_cli_usage_error("gpu rim verify: --%s is read only with --ocsp (OCSP "
						   "of the RIM's signing chain, the only collateral "
						   "it reads, is checked only then)",
						   cct_cli_long_name(gpu_opts, ocsp_only[i]));
	return 0;
}

/* 0, CCT_EXIT_USAGE, or -1 after --help; sub: the subcommand, for the options it reads */
static int parse_args(gpu_args *a, const char *sub, int argc, char **argv)
{
	json_t *ov = NULL;
	uint32_t seen = 0; /* the options given on the command line (OPT bits) */
	long num;
	int c, rc = 0;

	cct_nvgpu_opts_init(&a->o);
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, NULL, gpu_opts)) != -1) {
		const char *val = optarg;

		if (!sub_reads(sub, c))
			return cct_cli_foreign_option("gpu", sub, gpu_opts, c);
		if (c >= OPT_JSON && c <= OPT_COLLATERAL)
			seen |= OPT(c);
		switch (c) {
		case OPT_JSON: a->json = 1; break;
		case OPT_OFFLINE: a->o.offline = 1; break;
		case OPT_NO_OCSP: a->o.no_ocsp = 1; break;
		case OPT_OCSP: a->ocsp_on = 1; break;
		case OPT_NO_RIM: a->o.no_rim = 1; break;
		case OPT_HOLD: a->o.allow_hold = 1; break;
		case OPT_NONCE: a->nonce_hex = val; break;
		case OPT_NO_NONCE: a->o.no_nonce = 1; break;
		case OPT_AT:
			if (cct_cli_parse_time(&a->o.at, val) != 0)
				return CCT_EXIT_USAGE;
			break;
		case OPT_RIM_DIR: a->o.rim_dir = val; break;
		case OPT_OCSP_DIR: a->o.ocsp_dir = val; break;
		case OPT_CACHE_DIR: a->o.cache_dir = val; break;
		case OPT_COLLATERAL: a->o.collateral_path = val; break;
		case OPT_RIM_URL: a->o.rim_url = val; break;
		case OPT_OCSP_URL: a->o.ocsp_url = val; break;
		case OPT_POLICY: a->policy_file = val; break;
		case OPT_COUNT:
			if (cct_cli_parse_long(&num, "--expected-count", val, 1, 4096))
				return CCT_EXIT_USAGE;
			a->o.expected_count = (int)num;
			break;
		case OPT_ARCH:
			/* a name no device has would only reject everything (exit 1), as a typo */
			if (strcasecmp(val, "HOPPER") && strcasecmp(val, "BLACKWELL") &&
			    strcasecmp(val, "LS10"))
				return cct_cli_usage_error("--expected-arch: '%s' is not HOPPER, "
							   "BLACKWELL or LS10", val);
			a->o.expected_arch = val;
			break;
		case OPT_SIM:
			/* the simulated TEE of `cctrust sim init DIR`: its roots, RIMs, OCSP */
			a->o.device_root_path_insecure = cct_cli_sim_path(val, "gpu/device-root.pem");
			a->o.rim_root_path_insecure = cct_cli_sim_path(val, "gpu/rim-root.pem");
			if (!a->o.rim_dir)
				a->o.rim_dir = cct_cli_sim_path(val, "gpu/rims");
			if (!a->o.ocsp_dir)
				a->o.ocsp_dir = cct_cli_sim_path(val, "gpu/ocsp");
			break;
		case OPT_DEVICE_ROOT: a->o.device_root_path_insecure = val; break;
		case OPT_RIM_ROOT: a->o.rim_root_path_insecure = val; break;
		case OPT_REPEAT:
			if (cct_cli_parse_long(&num, "--repeat", val, 1, 10000000))
				return CCT_EXIT_USAGE;
			a->repeat = (int)num;
			break;
		case OPT_EACH: a->each = 1; break;
		case OPT_HELP: usage(stdout); return -1;
		default: usage(stderr); return CCT_EXIT_USAGE;
		}
	}
	if (a->ocsp_on && a->o.no_ocsp)
		return cct_cli_usage_error("gpu %s: --ocsp and --no-ocsp contradict each other", sub);
	if (!strcmp(sub, "rim verify") && (rc = rim_unused_sources(seen)) != 0)
		return rc;
	/* the simulated PKI has no responders and no RIM service (as `cctrust verify --trust-sim`):
	 * a response or RIM missing from its directories, or one not current at --at, is named as
	 * such instead of "no OCSP responder URL (no AIA)" after a pointless network attempt;
	 * an explicit --ocsp-url / --rim-url is still used */
	if ((seen & OPT(OPT_SIM)) && !(seen & (OPT(OPT_OCSP_URL) | OPT(OPT_RIM_URL))))
		a->o.offline = 1;
	if (optind < argc) {
		a->files = argv + optind;
		a->nfiles = argc - optind;
	}
	if (!a->policy_file)
		return 0;
	if (!strcmp(a->policy_file, "-")) { /* standard input can be read once */
		int i;

		for (i = 0; i < a->nfiles; i++)
			if (!strcmp(a->files[i], "-"))
				return cct_cli_usage_error("gpu %s: --policy - and the input - both "
							   "name standard input (it can be read once)",
							   sub);
	}
	/* cctrust.policy/v1 (or nvtrust rules, converted): --expected-count/--expected-arch
	 * override its "gpu" keys; the verifier does crypto, chains, RIMs and OCSP only */
	ov = json_pack("{s:{}}", "gpu");
	if (a->o.expected_count)
		json_object_set_new(json_object_get(ov, "gpu"), "count",
				    json_integer(a->o.expected_count));
	if (a->o.expected_arch)
		json_object_set_new(json_object_get(ov, "gpu"), "architectures",
				    json_pack("[s]", a->o.expected_arch));
	a->o.expected_count = 0;
	a->o.expected_arch = NULL;
	rc = cct_cli_policy_load(&a->v1, a->policy_file, "gpu", ov);
	json_decref(ov);
	/* gpu.require_measres false also tells the GPU module not to look for RIMs, as in
	 * `cctrust verify` (docs/policy.md): measres "skipped", "rim" listed as skipped */
	if (rc == 0 && json_is_false(json_object_get(cct_policy_section(a->v1, "gpu"),
						     "require_measres")))
		a->o.no_rim = 1;
	return rc;
}

/* The devices' claims appraised by the policy's "gpu" rules, as `cctrust verify` does; stated:
 * the attester's NVML statements of the inputs (load_input), per device in "devices". */
static json_t *appraise_v1(const cct_policy *pol, const char *claims_text, const json_t *stated,
			   int *rc, cct_err *err)
{
	json_t *claims = json_loads(claims_text, 0, NULL), **dev, *failures;
	size_t n = json_array_size(json_object_get(claims, "gpus")), i;
	cct_policy_claims c;

	dev = calloc(n ? n : 1, sizeof(*dev));
	for (i = 0; dev && i < n; i++)
		dev[i] = cct_nvgpu_device_claims(claims, i);
	memset(&c, 0, sizeof(c));
	c.gpu_claims = (const json_t *const *)dev;
	c.gpu_count = dev ? n : 0;
	c.sections = CCT_POLICY_SECTION_GPU;
	/* Trustee's {"device_evidence_list", "cc_mode"?, "ppcie_mode"?}: the attester's NVML
	 * statement must agree as in `cctrust verify`, whichever way the input came (file, -,
	 * directory, several) */
	c.nvidia = stated;
	c.gpu_devices = json_object_get(stated, "devices");
	failures = cct_cli_policy_apply(pol, &c, rc, err);
	for (i = 0; dev && i < n; i++)
		json_decref(dev[i]);
	free(dev);
	json_decref(claims);
	return failures;
}

typedef struct load_ctx {
	cct_nvgpu_evidence_list *all;
	json_t *stated; /* {"devices": [{"cc_mode"?}, ...], "ppcie_mode"?}, or NULL: not wanted */
	size_t inputs;
	cct_err *err;
	int rc;
} load_ctx;

/* The attester's NVML statements of one input (the KBS form's "cc_mode" and "ppcie_mode", and a
 * device's own "cc_mode"), one entry per device, in the order the devices are verified: each
 * device keeps its own input's statement. A "ppcie_mode" that is not the same in every input
 * (stated in one, absent or different in another) is not borrowed across inputs: it becomes
 * null, which no "ppcie" rule accepts. */
static void add_statements(load_ctx *lc, const uint8_t *buf, size_t n)
{
	json_t *root = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
	json_t *devs = json_object_get(lc->stated, "devices"), *list, *e, *pm;
	const json_t *top_cm;
	size_t i;

	list = json_is_array(root) ? root : json_object_get(root, "device_evidence_list");
	top_cm = json_is_object(root) ? json_object_get(root, "cc_mode") : NULL;
	pm = json_is_object(root) ? json_object_get(root, "ppcie_mode") : NULL;
	json_array_foreach(list, i, e) {
		const json_t *cm = json_is_object(root) ? json_object_get(e, "cc_mode") : NULL;
		json_t *d = json_object();

		if (!cm)
			cm = top_cm;
		if (cm)
			json_object_set_new(d, "cc_mode", json_deep_copy(cm));
		json_array_append_new(devs, d);
	}
	if (lc->inputs++ == 0) {
		if (pm)
			json_object_set_new(lc->stated, "ppcie_mode", json_deep_copy(pm));
	} else {
		const json_t *had = json_object_get(lc->stated, "ppcie_mode");

		if ((had || pm) && !(had && pm && json_equal((json_t *)had, pm)))
			json_object_set_new(lc->stated, "ppcie_mode", json_null());
	}
	json_decref(root);
}

/* one input's entries appended to the set (cct_inputs_each) */
static void load_input(void *ctx, const char *path, int *stop)
{
	load_ctx *lc = ctx;
	uint8_t *buf = NULL;
	size_t n = 0;
	cct_nvgpu_evidence_list *l = NULL;
	int rc = cct_file_read(&buf, &n, path, CCT_NVGPU_MAX_JSON, lc->err);

	if (rc == CCT_OK)
		rc = cct_nvgpu_evidence_list_parse(&l, buf, n, lc->err);
	if (rc == CCT_OK && !lc->all) {
		lc->all = l;
		l = NULL;
	} else if (rc == CCT_OK) {
		rc = cct_nvgpu_evidence_list_append(lc->all, l, lc->err);
	}
	if (rc == CCT_OK && lc->stated)
		add_statements(lc, buf, n);
	free(buf);
	cct_nvgpu_evidence_list_free(l);
	if (rc != CCT_OK) {
		lc->rc = rc;
		*stop = 1;
	}
}

/* the inputs as one evidence set (their entries verified together); stated (may be NULL): the
 * attester's statements of every input (add_statements) */
static int load_evidence_of(cct_nvgpu_evidence_list **out, json_t **stated, char *const *files,
			    size_t nfiles, cct_err *err)
{
	load_ctx lc = { NULL, NULL, 0, err, CCT_OK };
	int rc;

	if (stated)
		lc.stated = json_pack("{s:[]}", "devices");
	rc = cct_inputs_each(files, nfiles, load_input, &lc, err);
	if (rc == CCT_OK)
		rc = lc.rc;
	if (rc == CCT_OK && !lc.all)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "no evidence file found");
	if (rc != CCT_OK) {
		cct_nvgpu_evidence_list_free(lc.all);
		json_decref(lc.stated);
		return rc;
	}
	*out = lc.all;
	if (stated)
		*stated = lc.stated;
	return CCT_OK;
}

static int load_evidence(cct_nvgpu_evidence_list **out, gpu_args *a, cct_err *err)
{
	*out = NULL;
	return load_evidence_of(out, NULL, a->files, (size_t)a->nfiles, err);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_human(const char *claims, int rc, const cct_err *err)
{
	json_error_t je;
	json_t *c = claims ? json_loads(claims, 0, &je) : NULL;
	json_t *gpus = json_object_get(c, "gpus"), *g;
	size_t i;

	json_array_foreach(gpus, i, g) {
		const char *drv = json_string_value(json_object_get(g, "x-nvidia-gpu-driver-version"));
		const char *vb = json_string_value(json_object_get(g, "x-nvidia-gpu-vbios-version"));

		if (!vb)
			vb = json_string_value(json_object_get(g, "x-nvidia-switch-bios-version"));
		printf("device %zu: %s %s ueid %s driver %s vbios %s measres %s\n", i,
		       json_string_value(json_object_get(g, "x-cctrust-arch")),
		       json_string_value(json_object_get(g, "hwmodel"))
			       ? json_string_value(json_object_get(g, "hwmodel")) : "?",
		       json_string_value(json_object_get(g, "ueid"))
			       ? json_string_value(json_object_get(g, "ueid")) : "?",
		       drv ? drv : "-", vb ? vb : "-",
		       json_string_value(json_object_get(g, "measres")));
		if (json_is_string(json_object_get(g, "x-nvidia-attestation-warning")))
			printf("  warning: %s\n", json_string_value(
				       json_object_get(g, "x-nvidia-attestation-warning")));
	}
	if (rc == CCT_OK)
		printf("gpu evidence: ACCEPTED\n");
	else
		cct_cli_print_reject("gpu evidence", rc, err);
	json_decref(c);
}

/* Verify one evidence set (the entries of files) and print its result; label names the input
 * with --each. The verifier is made once and reused. Returns the exit code. */
/* The checks the options turned off, each named prefix + "nonce" / "ocsp" / "rim": "" as in
 * checks_skipped, "no-" as in insecure. */
static json_t *turned_off(const gpu_args *a, const char *prefix)
{
	static const char *const names[] = { "nonce", "ocsp", "rim" };
	const int off[] = { a->o.no_nonce, a->o.no_ocsp, a->o.no_rim };
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (off[i])
			json_array_append_new(arr, json_sprintf("%s%s", prefix, names[i]));
	return arr;
}

static int verify_set(gpu_args *a, cct_nvgpu_verifier **vp, const uint8_t *nonce,
		      char *const *files, size_t nfiles, const char *label)
{
	cct_nvgpu_evidence_list *ev = NULL;
	cct_nvgpu_verifier *v = NULL;
	char *claims = NULL;
	json_t *failures = NULL, *stated = NULL;
	cct_err err;
	int rc, ex;

	cct_err_clear(&err);
	rc = load_evidence_of(&ev, a->v1 ? &stated : NULL, files, nfiles, &err);
	if (rc == CCT_OK && !*vp)
		rc = cct_nvgpu_verifier_new(vp, &a->o, &err);
	v = *vp;
	if (rc == CCT_OK) {
		double t0 = now_s(), t1;
		int i;

		rc = cct_nvgpu_verify(&claims, v, ev, a->nonce_hex ? nonce : NULL, 32, &err);
		t1 = now_s();
		if (a->repeat > 0) {
			double t2, t3;

			t2 = now_s();
			for (i = 0; i < a->repeat; i++) {
				char *c2 = NULL;
				cct_err e2;

				cct_nvgpu_verify(&c2, v, ev, a->nonce_hex ? nonce : NULL, 32, &e2);
				free(c2);
			}
			t3 = now_s();
			fprintf(stderr,
				"gpu-bench: devices %zu cold_us %.0f warm_us %.1f per_device_per_s %.1f\n",
				cct_nvgpu_evidence_list_count(ev), (t1 - t0) * 1e6,
				(t3 - t2) * 1e6 / a->repeat,
				(double)a->repeat * (double)cct_nvgpu_evidence_list_count(ev) /
					(t3 - t2));
		}
	}
	if (rc == CCT_OK && a->v1 && claims)
		failures = appraise_v1(a->v1, claims, stated, &rc, &err);
	ex = cct_cli_exit_code(rc);
	/* a rejected device whose bytes were readable is a rejection, not unreadable input */
	if (rc != CCT_OK && claims && err.stage != CCT_STAGE_INPUT)
		ex = CCT_EXIT_REJECT;
	if (a->json) {
		json_t *o = json_object(), *cj;
		json_error_t je;

		cj = claims ? json_loads(claims, 0, &je) : NULL;
		if (label)
			json_object_set_new(o, "evidence", cct_cli_json_text(label));
		json_object_set_new(o, "verified", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		/* what the verdict rests on: skipped checks, freshness, simulated/overriding roots */
		if (json_is_array(json_object_get(cj, "checks_skipped"))) {
			json_object_set(o, "checks_skipped", json_object_get(cj, "checks_skipped"));
		} else { /* refused before any claims: at least what the options turned off */
			json_object_set_new(o, "checks_skipped", turned_off(a, ""));
		}
		json_object_set_new(o, "freshness",
				    json_is_string(json_object_get(cj, "x-cctrust-freshness"))
					    ? json_copy(json_object_get(cj, "x-cctrust-freshness"))
					    : json_string("not-established"));
		json_object_set_new(o, "simulated",
				    json_boolean(json_is_true(json_object_get(cj, "x-cctrust-simulated"))));
		{ /* as snp/tdx verify: the explicit weakenings and a simulated root, by name */
			json_t *ins = turned_off(a, "no-");

			if (json_is_true(json_object_get(cj, "x-cctrust-simulated")))
				json_array_append_new(ins, json_string("simulated-root"));
			json_object_set_new(o, "insecure", ins);
		}
		json_object_set_new(o, "claims", cj ? cj : json_null());
		if (a->v1) {
			json_object_set_new(o, "policy_id", json_string(cct_policy_id(a->v1)));
			json_object_set(o, "failures", failures ? failures : json_array());
		}
		cct_cli_print_json(o, label != NULL); /* --each: one line per input */
	} else if (claims) {
		json_t *cj = json_loads(claims, 0, NULL);

		if (label)
			printf("%s:\n", label);
		print_human(claims, rc, &err);
		cct_cli_print_failures(failures);
		if (json_is_true(json_object_get(cj, "x-cctrust-simulated")))
			fprintf(stderr, "gpu evidence: SIMULATED / UNTRUSTED ROOT: a device or RIM chain "
					"ends at an overriding root, not NVIDIA's\n");
		cct_cli_print_skipped(label ? label : "gpu evidence", json_object_get(cj, "checks_skipped"));
		json_decref(cj);
	} else {
		cct_cli_print_reject(label ? label : "gpu evidence", rc, &err);
	}
	json_decref(failures);
	json_decref(stated);
	free(claims);
	cct_nvgpu_evidence_list_free(ev);
	fflush(stdout);
	return ex;
}

typedef struct each_ctx {
	gpu_args *a;
	cct_nvgpu_verifier **vp;
	const uint8_t *nonce;
	int worst;
} each_ctx;

static void verify_each_input(void *ctx, const char *path, int *stop)
{
	each_ctx *ec = ctx;
	char *one[1] = { (char *)path };
	int e = verify_set(ec->a, ec->vp, ec->nonce, one, 1, path);

	(void)stop;
	if (e == CCT_EXIT_USAGE || (e == CCT_EXIT_REJECT && ec->worst == CCT_EXIT_OK))
		ec->worst = e;
}

static int cmd_verify(int argc, char **argv)
{
	gpu_args a;
	cct_nvgpu_verifier *v = NULL;
	uint8_t nonce[32];
	cct_err err;
	int rc, ex;

	memset(&a, 0, sizeof(a));
	if ((rc = parse_args(&a, "verify", argc, argv)) != 0) {
		cct_policy_free(a.v1);
		return rc < 0 ? CCT_EXIT_OK : CCT_EXIT_USAGE;
	}
	if (a.nfiles == 0) {
		usage(stderr);
		cct_policy_free(a.v1);
		return CCT_EXIT_USAGE;
	}
	if (a.nonce_hex && cct_hex_decode_fixed(nonce, sizeof(nonce), a.nonce_hex, &err) != CCT_OK)
		return cct_cli_usage_error("--nonce: want 64 hex digits (32 bytes)");
	if (a.nonce_hex && a.o.no_nonce)
		return cct_cli_usage_error("--nonce and --no-nonce exclude each other");
	if (!a.each) {
		/* every input's entries together: one machine's devices */
		ex = verify_set(&a, &v, nonce, a.files, (size_t)a.nfiles, NULL);
	} else {
		/* every input on its own, one at a time: memory flat however many inputs */
		each_ctx ec = { &a, &v, nonce, CCT_EXIT_OK };

		if (cct_inputs_each(a.files, (size_t)a.nfiles, verify_each_input, &ec, &err) !=
		    CCT_OK) {
			fprintf(stderr, "cctrust: %s\n", err.msg);
			ec.worst = CCT_EXIT_USAGE;
			if (a.json) { /* one line per input: the one that ended the run too */
				json_t *o = json_object();

				json_object_set_new(o, "verified", json_false());
				json_object_set_new(o, "error", cct_cli_error_json(err.code, &err));
				cct_cli_print_json(o, 1);
			}
		}
		ex = ec.worst;
	}
	cct_policy_free(a.v1);
	cct_nvgpu_verifier_free(v);
	return ex;
}

static int cmd_show(int argc, char **argv)
{
	gpu_args a;
	cct_nvgpu_evidence_list *ev = NULL;
	char *out = NULL;
	cct_err err;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = parse_args(&a, "show", argc, argv)) != 0) {
		cct_policy_free(a.v1);
		return rc < 0 ? CCT_EXIT_OK : CCT_EXIT_USAGE;
	}
	if (a.nfiles == 0) {
		usage(stderr);
		return CCT_EXIT_USAGE;
	}
	rc = load_evidence(&ev, &a, &err);
	if (rc == CCT_OK)
		rc = cct_nvgpu_evidence_show(&out, ev, &err);
	if (rc == CCT_OK)
		puts(out);
	else
		fprintf(stderr, "cctrust: %s\n", err.msg);
	free(out);
	cct_nvgpu_evidence_list_free(ev);
	return rc == CCT_OK ? CCT_EXIT_OK : CCT_EXIT_USAGE;
}

static int cmd_rim(int argc, char **argv)
{
	gpu_args a;
	cct_nvgpu_verifier *v = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	char *info = NULL;
	cct_err err;
	json_t *skipped, *insecure;
	int rc, ex, overriding_root;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || strcmp(argv[1], "verify")) {
		usage(stderr);
		return CCT_EXIT_USAGE;
	}
	if ((rc = parse_args(&a, "rim verify", argc - 1, argv + 1)) != 0) {
		cct_policy_free(a.v1);
		return rc < 0 ? CCT_EXIT_OK : CCT_EXIT_USAGE;
	}
	if (a.v1) { /* a RIM alone has no claims a policy could judge: not silently ignored */
		cct_policy_free(a.v1);
		return cct_cli_usage_error("gpu rim verify: --policy applies to evidence (gpu "
					   "verify), not to a RIM on its own");
	}
	if (a.nfiles != 1) {
		usage(stderr);
		return CCT_EXIT_USAGE;
	}
	a.o.no_ocsp = !a.ocsp_on; /* a RIM on its own: OCSP only when asked (--ocsp) */
	overriding_root = a.o.rim_root_path_insecure != NULL;
	skipped = json_array();
	insecure = json_array();
	if (a.o.no_ocsp)
		json_array_append_new(skipped, json_string("ocsp"));
	if (overriding_root)
		json_array_append_new(insecure, json_string("simulated-root"));
	cct_err_clear(&err);
	/* the RIM cap (CCT_RIM_MAX_SIZE, 4 MiB, docs/gpu.md): a larger input is refused as it is
	 * read, not after reading up to the 64 MiB default */
	rc = cct_file_read(&buf, &n, a.files[0], 4u << 20, &err);
	if (rc == CCT_OK)
		rc = cct_cli_empty_input(buf, n, "RIM", a.files[0], &err);
	if (rc == CCT_OK)
		rc = cct_nvgpu_verifier_new(&v, &a.o, &err);
	if (rc == CCT_OK)
		rc = cct_nvgpu_rim_check(&info, v, buf, n, &err);
	ex = cct_cli_exit_code(rc);
	if (a.json) {
		json_t *o = json_object();
		json_error_t je;

		json_object_set_new(o, "verified", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		json_object_set_new(o, "rim", info ? json_loads(info, 0, &je) : json_null());
		/* as gpu verify: what the verdict does not rest on, and a root that is not NVIDIA's */
		json_object_set(o, "checks_skipped", skipped);
		json_object_set_new(o, "simulated", json_boolean(overriding_root));
		json_object_set(o, "insecure", insecure);
		cct_cli_print_json(o, 0);
	} else {
		if (info)
			puts(info);
		if (rc == CCT_OK)
			printf("RIM: ACCEPTED\n");
		else
			cct_cli_print_reject("RIM", rc, &err);
		if (overriding_root)
			fprintf(stderr, "RIM: SIMULATED / UNTRUSTED ROOT: the signing chain ends at an "
					"overriding root (--trust-sim, --rim-root), not NVIDIA's\n");
		cct_cli_print_skipped("RIM", skipped);
	}
	json_decref(skipped);
	json_decref(insecure);
	free(info);
	free(buf);
	cct_nvgpu_verifier_free(v);
	return ex;
}

int cct_cmd_gpu(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CCT_EXIT_USAGE;
	}
	/* --help / -h, alone or after any subcommand (show, rim verify): the one usage text */
	if (cct_cli_asks_help(argc, argv, 1)) {
		usage(stdout);
		return CCT_EXIT_OK;
	}
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return cmd_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rim"))
		return cmd_rim(argc - 1, argv + 1);
	usage(stderr);
	return CCT_EXIT_USAGE;
}
