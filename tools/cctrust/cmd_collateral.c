/* cctrust collateral: fetch | check | serve (one bundle format, docs/collateral.md). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cctrust/collateral.h"
#include "collateral/fetch.h"
#include "cli.h"

static const char coll_usage[] =
	"usage: cctrust collateral fetch -o BUNDLE [--from FILE...] [--snp-product P]\n"
	"                 [--snp-hwid HEX --snp-tcb TCB] [--tdx-fmspc HEX [--tdx-ca CA]]\n"
	"                 [--gpu-rim ID] [--kds-url URL] [--pcs-url URL] [--rim-url URL]\n"
	"                 [--ocsp-url URL] [--kds-interval SECONDS] [--at RFC3339] [--no-ocsp]\n"
	"                 [--refresh] [--quiet]\n"
	"       cctrust collateral check BUNDLE [--at RFC3339] [--within DAYS] [--json]\n"
	"       cctrust collateral serve BUNDLE --listen ADDR [--port-file F] [--upstream URL]\n"
	"BUNDLE: a directory with manifest.json (cctrust.collateral/v1) or a .tar of one.\n"
	"fetch: derives every key the evidence needs (SNP reports, TDX quotes, GPU evidence, KBS\n"
	"  requests; --from takes any number of files, '-' once, or directories of them), keeps items that are present, valid and fresh, fetches the rest (HTTP 429\n"
	"  Retry-After; at most one KDS request per --kds-interval, default 10 s) and stores an item\n"
	"  only when its signature / chain verifies. Env: CCTRUST_KDS_URL, CCTRUST_PCS_URL,\n"
	"  CCTRUST_RIM_URL, CCTRUST_OCSP_URL. exit: 0 every needed item stored, 1 some missing\n"
	"  (each named with its URL), 2 usage.\n"
	"check: verifies every item and its freshness at --at (default now) and for DAYS more;\n"
	"  an OCSP answer's responder chain needs the evidence's certificates: listed as not\n"
	"  checked (checks_skipped ocsp_responder_chain).\n"
	"  exit: 0 all valid and fresh, 1 any expired / stale / invalid (named) or no items at\n"
	"  all (nothing to check), 2 unreadable.\n"
	"serve: the vendors' URL layouts from the bundle (separate program cctrust-collateral-serve).\n"
	"test-only (fetch, check): --gpu-device-root FILE, --gpu-rim-root FILE replace the pinned\n"
	"  NVIDIA roots (simulated GPUs).\n";

/* the check collateral check cannot do on a stored OCSP answer alone (checks_skipped) */
#define OCSP_SKIPPED "ocsp_responder_chain"

static char *days_left(char *buf, size_t size, time_t deadline, time_t at)
{
	if (!deadline)
		snprintf(buf, size, "no expiry");
	else
		snprintf(buf, size, "%.1f days left", (double)(deadline - at) / 86400.0);
	return buf;
}

static json_t *jt(time_t t)
{
	char b[32];

	if (!t)
		return json_null();
	cct_time_format(b, sizeof(b), t);
	return json_string(b);
}

static int coll_check(int argc, char **argv)
{
	enum { O_AT = 256, O_WITHIN, O_JSON, O_DEVROOT, O_RIMROOT };
	static const struct option opts[] = {
		{ "at", required_argument, NULL, O_AT },
		{ "within", required_argument, NULL, O_WITHIN },
		{ "json", no_argument, NULL, O_JSON },
		{ "gpu-device-root", required_argument, NULL, O_DEVROOT },
		{ "gpu-rim-root", required_argument, NULL, O_RIMROOT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cct_coll_trust trust = { NULL, NULL };
	cct_coll_bundle *b = NULL;
	cct_coll_check_entry *r = NULL;
	time_t at = time(NULL);
	long within = 0;
	int c, json = 0, rc;
	size_t n = 0, i, nskip = 0;
	json_t *arr = NULL;
	cct_err err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_AT:
			if (cct_cli_parse_time(&at, optarg) != 0)
				return CCT_EXIT_USAGE;
			break;
		case O_WITHIN:
			if (cct_cli_parse_long(&within, "--within (days)", optarg, 0, 36500) != 0)
				return CCT_EXIT_USAGE;
			break;
		case O_JSON: json = 1; break;
		case O_DEVROOT: trust.gpu_device_root_insecure = optarg; break;
		case O_RIMROOT: trust.gpu_rim_root_insecure = optarg; break;
		case 'h': fputs(coll_usage, stdout); return 0;
		default: fputs(coll_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cct_cli_usage_error("collateral check: one BUNDLE expected");
	if (cct_coll_bundle_open(&b, argv[optind], 0, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		return CCT_EXIT_USAGE;
	}
	rc = cct_coll_check(&r, &n, b, at, within * 86400L, &trust, &err);
	if (json)
		arr = json_array();
	for (i = 0; i < n; i++) {
		const cct_coll_check_entry *e = &r[i];
		/* a stored OCSP answer alone: its signature is checked under the signer certificate
		 * it carries, but whether that signer speaks for the certificate's issuer (and so
		 * chains to NVIDIA's root) needs the certificate and its issuer, which only a
		 * verifier holding the evidence has (cct_ocsp_check): never claimed here */
		const char *skip = e->item->kind == CCT_COLL_NVIDIA_OCSP ? OCSP_SKIPPED : NULL;
		char dl[64], nu[32] = "-";

		if (skip)
			nskip++;

		if (e->next_update)
			cct_time_format(nu, sizeof(nu), e->next_update);
		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "kind", json_string(cct_coll_kind_name(e->item->kind)));
			json_object_set_new(o, "key", json_string(e->item->key));
			json_object_set_new(o, "path", json_string(e->item->path));
			json_object_set_new(o, "state", json_string(cct_coll_state_name(e->state)));
			json_object_set_new(o, "not_before", jt(e->not_before));
			json_object_set_new(o, "not_after", jt(e->not_after));
			json_object_set_new(o, "next_update", jt(e->next_update));
			json_object_set_new(o, "days_left",
					    e->deadline ? json_real((double)(e->deadline - at) / 86400.0)
							: json_null());
			json_object_set_new(o, "error",
					    e->state == CCT_COLL_FRESH ? json_null()
								       : cct_cli_error_json(e->err.code, &e->err));
			json_object_set_new(o, "checks_skipped",
					    skip ? json_pack("[s]", skip) : json_array());
			json_array_append_new(arr, o);
		} else {
			printf("%-8s %-15s %s: %s, next update %s%s%s%s\n",
			       cct_coll_state_name(e->state), cct_coll_kind_name(e->item->kind),
			       e->item->key, days_left(dl, sizeof(dl), e->deadline, at), nu,
			       skip ? "; not checked: the responder's chain to NVIDIA's root (a "
				      "verifier checks it with the certificate and its issuer)"
				    : "",
			       e->state == CCT_COLL_FRESH ? "" : " -- ",
			       e->state == CCT_COLL_FRESH ? "" : e->err.msg);
		}
	}
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "bundle", json_string(argv[optind]));
		json_object_set_new(o, "at", jt(at));
		json_object_set_new(o, "within_days", json_integer(within));
		json_object_set_new(o, "ok", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "count", json_integer((json_int_t)n));
		json_object_set_new(o, "checks_skipped",
				    nskip ? json_pack("[s]", OCSP_SKIPPED) : json_array());
		json_object_set_new(o, "items", arr);
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		cct_cli_print_json(o, 0);
	} else {
		printf("%s: %zu items, %s", argv[optind], n,
		       rc != CCT_OK ? err.msg
		       : nskip	    ? "all valid and fresh as far as checked"
				    : "all valid and fresh");
		if (nskip)
			printf(" (not checked: the responder chain of %zu OCSP answer%s)", nskip,
			       nskip == 1 ? "" : "s");
		if (!n && rc != CCT_OK)
			printf(" ('cctrust collateral fetch -o BUNDLE --from EVIDENCE' fills it)");
		printf("\n");
	}
	free(r);
	cct_coll_bundle_free(b);
	return rc == CCT_OK ? CCT_EXIT_OK : CCT_EXIT_REJECT;
}

/* REPORTED_TCB: decimal digits, or 0x and hex digits, within 64 bits. Nothing else: strtoull
 * alone took "-1" as 2^64 - 1, skipped blanks and read "010" as octal. */
static int parse_u64(uint64_t *out, const char *s)
{
	const char *d = s;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned long long v;
	char *end;

	if (hex)
		d += 2;
	if (!*d)
		return -1;
	for (s = d; *s; s++)
		if (!(hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
			return -1;
	errno = 0;
	v = strtoull(d, &end, hex ? 16 : 10);
	if (errno == ERANGE || *end)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* SECONDS: digits with an optional fraction of up to 3 digits (milliseconds), at most max.
 * strtod alone also took "nan", "inf", "1e3", "0x10" and blanks. */
static int parse_seconds(double *out, const char *s, double max)
{
	size_t i = 0, frac = 0;
	char *end;

	while (isdigit((unsigned char)s[i]))
		i++;
	if (i == 0)
		return -1;
	if (s[i] == '.') {
		for (i++; isdigit((unsigned char)s[i]); i++)
			frac++;
		if (frac == 0 || frac > 3)
			return -1;
	}
	if (s[i] || i > 16)
		return -1;
	*out = strtod(s, &end);
	return *end || *out > max ? -1 : 0;
}

/* copy every item of a (tar) bundle into a directory bundle */
static int copy_items(cct_coll_bundle *dst, const cct_coll_bundle *src, cct_err *err)
{
	const cct_coll_manifest *m = cct_coll_bundle_manifest(src);
	size_t i;
	int rc = CCT_OK;

	for (i = 0; i < m->count && rc == CCT_OK; i++) {
		uint8_t *b = NULL, *c = NULL;
		size_t bn = 0, cn = 0;

		rc = cct_coll_bundle_read(src, &m->items[i], &b, &bn, &c, &cn, err);
		if (rc == CCT_OK)
			rc = cct_coll_bundle_put(dst, &m->items[i], b, bn, c, cn, err);
		free(b);
		free(c);
	}
	return rc;
}

static void rm_tree(const char *dir)
{
	char cmd[4200];

	if (!strncmp(dir, "/tmp/cctrust-fetch-", 19) && !strchr(dir, '\'')) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cctrust: could not remove %s\n", dir);
	}
}

typedef struct {
	cct_coll_plan *plan;
	int failed;
} from_ctx;

/* cct_inputs_each: one evidence file into the plan; the first that fails stops the run */
static void from_one(void *ctx, const char *path, int *stop)
{
	from_ctx *fc = ctx;
	uint8_t *buf = NULL;
	size_t n = 0;
	cct_err err;

	if (cct_file_read(&buf, &n, path, CCT_MAX_INPUT_FILE, &err) != CCT_OK ||
	    cct_coll_plan_add_evidence(fc->plan, buf, n, path, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: %s: %s\n", path, err.msg);
		fc->failed = 1;
		*stop = 1;
	}
	free(buf);
}

/* from: room for argc evidence paths (every --from and every operand): no cap on how many */
static int coll_fetch_from(int argc, char **argv, const char **from)
{
	enum { O_FROM = 256, O_PROD, O_HWID, O_TCB, O_FMSPC, O_CA, O_RIM, O_KDS, O_PCS, O_RIMURL,
	       O_OCSP, O_KDSINT, O_AT, O_NOOCSP, O_REFRESH, O_QUIET, O_DEVROOT, O_RIMROOT };
	static const struct option opts[] = {
		{ "from", required_argument, NULL, O_FROM },
		{ "snp-product", required_argument, NULL, O_PROD },
		{ "snp-hwid", required_argument, NULL, O_HWID },
		{ "snp-tcb", required_argument, NULL, O_TCB },
		{ "tdx-fmspc", required_argument, NULL, O_FMSPC },
		{ "tdx-ca", required_argument, NULL, O_CA },
		{ "gpu-rim", required_argument, NULL, O_RIM },
		{ "kds-url", required_argument, NULL, O_KDS },
		{ "pcs-url", required_argument, NULL, O_PCS },
		{ "rim-url", required_argument, NULL, O_RIMURL },
		{ "ocsp-url", required_argument, NULL, O_OCSP },
		{ "kds-interval", required_argument, NULL, O_KDSINT },
		{ "at", required_argument, NULL, O_AT },
		{ "no-ocsp", no_argument, NULL, O_NOOCSP },
		{ "refresh", no_argument, NULL, O_REFRESH },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "gpu-device-root", required_argument, NULL, O_DEVROOT },
		{ "gpu-rim-root", required_argument, NULL, O_RIMROOT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cct_coll_fetch_opts fo;
	cct_coll_plan *plan = NULL;
	cct_coll_bundle *b = NULL, *old = NULL;
	const char *out = NULL, *products[8], *fmspcs[32], *rims[64], *hwid = NULL,
		   *tcb = NULL, *ca = NULL;
	size_t nfrom = 0, nprod = 0, nfm = 0, nrim = 0, i, nn = 0, stored = 0, present = 0,
	       failed = 0;
	const cct_coll_need *needs;
	unsigned long hits0, req0, hits1, req1;
	char tmpdir[] = "/tmp/cctrust-fetch-XXXXXX";
	int c, rc = CCT_OK, tar = 0, exit_code;
	double sec;
	struct stat ost;
	cct_err err;

	memset(&fo, 0, sizeof(fo));
	cct_err_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case O_FROM:
			from[nfrom++] = optarg;
			break;
		case O_PROD:
			if (nprod >= 8)
				return cct_cli_usage_error("too many --snp-product");
			products[nprod++] = optarg;
			break;
		case O_HWID: hwid = optarg; break;
		case O_TCB: tcb = optarg; break;
		case O_FMSPC:
			if (nfm >= 32)
				return cct_cli_usage_error("too many --tdx-fmspc");
			fmspcs[nfm++] = optarg;
			break;
		case O_CA: ca = optarg; break;
		case O_RIM:
			if (nrim >= 64)
				return cct_cli_usage_error("too many --gpu-rim");
			rims[nrim++] = optarg;
			break;
		case O_KDS: fo.kds_url = optarg; break;
		case O_PCS: fo.pcs_url = optarg; break;
		case O_RIMURL: fo.rim_url = optarg; break;
		case O_OCSP: fo.ocsp_url = optarg; break;
		case O_KDSINT:
			if (parse_seconds(&sec, optarg, 3600) != 0)
				return cct_cli_usage_error("--kds-interval: '%s' is not a number of "
							   "seconds in 0..3600",
							   optarg);
			fo.kds_interval_ms = sec == 0 ? -1 : (long)(sec * 1000);
			break;
		case O_AT:
			if (cct_cli_parse_time(&fo.at, optarg) != 0)
				return CCT_EXIT_USAGE;
			break;
		case O_NOOCSP: fo.no_ocsp = 1; break;
		case O_REFRESH: fo.refresh = 1; break;
		case O_QUIET: fo.quiet = 1; break;
		case O_DEVROOT: fo.trust.gpu_device_root_insecure = optarg; break;
		case O_RIMROOT: fo.trust.gpu_rim_root_insecure = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(coll_usage, stdout); return 0;
		default: fputs(coll_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	/* "--from A B C": the files after the options are evidence too */
	for (; optind < argc; optind++) {
		if (!nfrom)
			return cct_cli_usage_error("unexpected argument '%s'", argv[optind]);
		from[nfrom++] = argv[optind];
	}
	if (!out)
		return cct_cli_usage_error("collateral fetch: -o BUNDLE is required");
	/* standard input can be read once: the second '-' found it empty ("not an SNP
	 * report, ...", the cause not named) */
	for (i = 0, nn = 0; i < nfrom; i++)
		if (!strcmp(from[i], "-") && ++nn > 1)
			return cct_cli_usage_error("--from: standard input (-) given more than once: "
						   "it can be read once");
	nn = 0;
	{
		/* "" (an unset variable) silently meant the vendor's default service */
		const char *const urls[4] = { fo.kds_url, fo.pcs_url, fo.rim_url, fo.ocsp_url };
		static const char *const names[4] = { "--kds-url", "--pcs-url", "--rim-url",
						      "--ocsp-url" };

		for (i = 0; i < 4; i++)
			if (urls[i] && !urls[i][0])
				return cct_cli_usage_error("%s: empty URL", names[i]);
	}
	if ((hwid != NULL) != (tcb != NULL))
		return cct_cli_usage_error("--snp-hwid and --snp-tcb go together");
	/* options that would otherwise be accepted and do nothing */
	if (hwid && nprod > 1)
		return cct_cli_usage_error("--snp-hwid names one chip: give one --snp-product (its "
					   "product), not %zu",
					   nprod);
	if (ca && !nfm)
		return cct_cli_usage_error("--tdx-ca goes with --tdx-fmspc (a quote given with "
					   "--from names its own PCK CA)");
	if (!nfrom && !nprod && !hwid && !nfm && !nrim)
		return cct_cli_usage_error("collateral fetch: nothing to fetch (--from, --snp-*, "
					   "--tdx-fmspc or --gpu-rim)");
	if (nprod == 1)
		fo.snp_product = products[0];
	fo.progress = isatty(2) && !fo.quiet;
	if (cct_coll_plan_new(&plan, &fo) != CCT_OK)
		return CCT_EXIT_USAGE;
	{ /* each a file, '-' or a directory of evidence files (a fleet's), one at a time */
		from_ctx fc = { plan, 0 };
		cct_err derr;

		if (cct_inputs_each((char *const *)from, nfrom, from_one, &fc, &derr) != CCT_OK) {
			fprintf(stderr, "cctrust: --from: %s\n", derr.msg);
			fc.failed = 1;
		}
		if (fc.failed) {
			cct_coll_plan_free(plan);
			return CCT_EXIT_USAGE;
		}
	}
	for (i = 0; i < nprod && !hwid; i++)
		if ((rc = cct_coll_plan_add_snp_product(plan, products[i], &err)) != CCT_OK)
			break;
	if (rc == CCT_OK && hwid) {
		uint64_t t;

		if (parse_u64(&t, tcb) != 0)
			rc = cct_err_set(&err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					 "--snp-tcb: '%.40s' is not a raw 64-bit REPORTED_TCB "
					 "(decimal digits, or 0x and at most 16 hex digits)",
					 tcb);
		else
			rc = cct_coll_plan_add_snp(plan, nprod ? products[0] : "Milan", hwid, t,
						   &err);
	}
	for (i = 0; rc == CCT_OK && i < nfm; i++)
		rc = cct_coll_plan_add_tdx(plan, fmspcs[i], ca, &err);
	for (i = 0; rc == CCT_OK && i < nrim; i++)
		rc = cct_coll_plan_add(plan, CCT_COLL_NVIDIA_RIM, rims[i], &err);
	if (rc != CCT_OK) {
		cct_coll_plan_free(plan);
		return cct_cli_usage_error("%s", err.msg);
	}
	/* a .tar bundle is rebuilt: its items are copied into a scratch directory first (a
	 * directory named *.tar is a directory bundle: it used to be fetched into scratch, then
	 * the archive could not be written over the directory and every fetched item was lost) */
	tar = strlen(out) > 4 && !strcmp(out + strlen(out) - 4, ".tar") &&
	      !(stat(out, &ost) == 0 && S_ISDIR(ost.st_mode));
	if (tar) {
		/* the archive is written next to it once everything is fetched: a directory that
		 * cannot take it is found now, not after minutes of paced KDS requests whose
		 * answers would then be thrown away */
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", out);
		if (access(dirname(parent), W_OK) != 0) {
			int e = errno;

			snprintf(parent, sizeof(parent), "%s", out);
			cct_coll_plan_free(plan);
			return cct_cli_usage_error("-o %s: cannot write in %s: %s", out,
						   dirname(parent), strerror(e));
		}
		if (!mkdtemp(tmpdir)) {
			cct_coll_plan_free(plan);
			return cct_cli_usage_error("cannot create a scratch directory");
		}
		rc = cct_coll_bundle_open(&b, tmpdir, 1, &err);
		if (rc == CCT_OK && access(out, F_OK) == 0) {
			rc = cct_coll_bundle_open(&old, out, 0, &err);
			if (rc == CCT_OK)
				rc = copy_items(b, old, &err);
			cct_coll_bundle_free(old);
		}
	} else {
		rc = cct_coll_bundle_open(&b, out, 1, &err);
	}
	if (rc != CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		cct_coll_bundle_free(b);
		cct_coll_plan_free(plan);
		if (tar)
			rm_tree(tmpdir);
		return CCT_EXIT_USAGE;
	}
	cct_collateral_stats(&hits0, &req0);
	rc = cct_coll_fetch(b, plan, &err);
	cct_collateral_stats(&hits1, &req1);
	if (tar) {
		cct_err te;

		if (cct_coll_bundle_write_tar(b, out, &te) != CCT_OK) {
			fprintf(stderr, "cctrust: %s\n", te.msg);
			rc = CCT_EIO;
		}
		rm_tree(tmpdir);
	}
	needs = cct_coll_plan_needs(plan, &nn);
	for (i = 0; i < nn; i++) {
		if (needs[i].state == CCT_NEED_STORED)
			stored++;
		else if (needs[i].state == CCT_NEED_PRESENT)
			present++;
		else if (needs[i].state == CCT_NEED_FAILED) {
			failed++;
			/* the URL that failed, when the (bounded) message does not carry it whole */
			int with_url = needs[i].url[0] && !strstr(needs[i].err.msg, needs[i].url);

			printf("missing %s %s: %s%s%s%s\n", cct_coll_kind_name(needs[i].kind),
			       needs[i].key, needs[i].err.msg, with_url ? " [" : "",
			       with_url ? needs[i].url : "", with_url ? "]" : "");
		}
	}
	printf("collateral fetch %s: %zu needed, %zu stored, %zu already present, %zu missing, "
	       "%lu upstream requests\n",
	       out, nn, stored, present, failed, req1 - req0);
	exit_code = rc == CCT_OK ? CCT_EXIT_OK : rc == CCT_EIO ? CCT_EXIT_USAGE : CCT_EXIT_REJECT;
	cct_coll_bundle_free(b);
	cct_coll_plan_free(plan);
	return exit_code;
}

static int coll_fetch(int argc, char **argv)
{
	const char **from = calloc((size_t)argc + 1, sizeof(*from));
	int rc;

	if (!from)
		return cct_cli_usage_error("out of memory");
	rc = coll_fetch_from(argc, argv, from);
	free(from);
	return rc;
}

/* `collateral serve` runs cctrust-collateral-serve (libmicrohttpd stays out of this binary):
 * next to this executable first, then $PATH. */
static int coll_serve(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	int i;

	if (!args)
		return CCT_EXIT_USAGE;
	args[0] = "cctrust-collateral-serve";
	for (i = 1; i < argc; i++)
		args[i] = argv[i];
	if (n > 0) {
		self[n] = 0;
		snprintf(path, sizeof(path), "%s/cctrust-collateral-serve", dirname(self));
		if (access(path, X_OK) == 0)
			execv(path, args);
	}
	execvp("cctrust-collateral-serve", args);
	free(args);
	return cct_cli_usage_error("collateral serve: cctrust-collateral-serve is not installed "
				   "(build it with libmicrohttpd)");
}

int cct_cmd_collateral(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(coll_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "fetch"))
		return coll_fetch(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return coll_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return coll_serve(argc - 1, argv + 1);
	fputs(coll_usage, stderr);
	return cct_cli_usage_error("collateral: unknown subcommand '%s' (fetch, check, serve)",
				   argv[1]);
}
