#define _GNU_SOURCE /* sigaction */
/* cctrust ratls: attested TLS (docs/ratls.md). Argument parsing and output only; the work is in
 * src/ratls. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/policy.h"
#include "cctrust/ratls.h"
#include "cli.h"

static const char ratls_usage[] =
	"usage: cctrust ratls cert --tee snp|tdx [--gpus all|N] [--sim DIR] --key-out KEY\n"
	"                          --cert-out CERT [--nonce HEX] [--validity 1h] [--json]\n"
	"       cctrust ratls show CERT [--json]\n"
	"       cctrust ratls serve --listen ADDR --backend URL [--tee snp|tdx] [--gpus all|N]\n"
	"                          [--sim DIR] [--rotate 1h] [--validity T] [--cert CERT --key KEY]\n"
	"                          [--port-file FILE]\n"
	"                          [--header-timeout 20] [--max-connections 64]\n"
	"                          [--max-connections-per-ip 16]\n"
	"       cctrust ratls verify HOST:PORT --policy FILE [--collateral BUNDLE]\n"
	"                          [--trust-sim DIR] [--cert-only] [--at T] [--offline] [--no-crl] [--json]\n"
	"       cctrust ratls get URL --policy FILE [-d DATA] [-H HEADER]... [-X METHOD] [-o FILE]\n"
	"                          [--collateral BUNDLE] [--trust-sim DIR] [--cert-only] [--at T]\n"
	"                          [--offline] [--no-crl]\n"
	"\n"
	"Attested TLS: the server's certificate carries CPU (SNP/TDX) and NVIDIA GPU evidence bound\n"
	"to its key (extension 2.23.133.5.4.9, CCC RA-TLS claims, RATS CMW collection); the server\n"
	"also answers GET /.well-known/cctrust/attestation?nonce=B64URL on the same connection\n"
	"with fresh evidence bound to the nonce and the connection's TLS exporter.\n"
	"  cert     make a P-384 key (KEY, mode 0600) and the attested self-signed certificate;\n"
	"           --json: the paths written and the certificate as 'show --json' describes it\n"
	"  show     print a certificate's evidence, claims and whether pubkey-hash matches its key\n"
	"  serve    TLS-terminating reverse proxy in front of BACKEND (http://HOST:PORT);\n"
	"           re-issues its key and certificate every --rotate, valid --validity (default\n"
	"           2 x rotate, not shorter than it), or serves --cert/--key as made by\n"
	"           'ratls cert', never rotated (--rotate and --validity do not apply)\n"
	"  verify   connect, verify certificate evidence + channel-bound fresh evidence against\n"
	"           the policy (cctrust.policy/v1); prints the verdict, failing check and rules,\n"
	"           and the SPKI pin (sha256//BASE64, for curl --pinnedpubkey)\n"
	"  get      like curl: the request is sent only over a connection that verified; a body\n"
	"           shorter than its Content-Length, or (without one) a connection dropped\n"
	"           without TLS close_notify, is an error (exit 2); the URL's path and -X may\n"
	"           not hold spaces or control characters (exit 2, nothing sent)\n"
	"  --sim DIR        use the simulated TEE made by 'cctrust sim init DIR' (tests, demos)\n"
	"  --trust-sim DIR  accept the simulated TEE's test roots (results marked simulated)\n"
	"  --cert-only      skip the fresh evidence (replayable: reported in checks_skipped)\n"
	"  --header-timeout SECONDS  serve: the TLS handshake and each request head must be\n"
	"                   complete within this (1..300, default 20), else the connection closes\n"
	"  --max-connections N  serve: connections at once (1..4096, default 64)\n"
	"  --max-connections-per-ip N  serve: of them from one client address (default a\n"
	"                   quarter of --max-connections); one over is closed before TLS\n"
	"an option a subcommand does not list is refused (exit 2), not ignored\n"
	"outputs (--key-out, --cert-out, --port-file, -o) that are another output or an input\n"
	"(--key, --cert, --policy, files under --sim, --trust-sim or --collateral), a directory,\n"
	"or in a directory that does not exist, are refused, nothing written; durations: up to\n"
	"3650d either way; ports: 0..65535\n"
	"test knobs: --gpu-cc-mode MODE, --measurement HEX48 (simulated TEE), --not-before DUR\n"
	"            (cert: shift the validity window, e.g. -2d for an expired certificate)\n"
	"exit (verify, get): 0 accepted, 1 rejected, 2 usage error or unreachable\n";

enum { O_TEE = 256, O_GPUS, O_SIM, O_KEYOUT, O_CERTOUT, O_NONCE, O_VALIDITY, O_JSON, O_LISTEN,
       O_BACKEND, O_ROTATE, O_PORTFILE, O_POLICY, O_COLL, O_TRUSTSIM, O_CERTONLY, O_AT, O_OFFLINE,
       O_NOCRL, O_CCMODE, O_MEAS, O_NOTBEFORE, O_CERT, O_KEY, O_HDRTIMEOUT, O_MAXCONN, O_MAXCONNIP, O_HELP };

static const struct option lopts[] = {
	{ "tee", required_argument, NULL, O_TEE },
	{ "gpus", required_argument, NULL, O_GPUS },
	{ "sim", required_argument, NULL, O_SIM },
	{ "key-out", required_argument, NULL, O_KEYOUT },
	{ "cert-out", required_argument, NULL, O_CERTOUT },
	{ "nonce", required_argument, NULL, O_NONCE },
	{ "validity", required_argument, NULL, O_VALIDITY },
	{ "json", no_argument, NULL, O_JSON },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "backend", required_argument, NULL, O_BACKEND },
	{ "rotate", required_argument, NULL, O_ROTATE },
	{ "port-file", required_argument, NULL, O_PORTFILE },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "collateral", required_argument, NULL, O_COLL },
	{ "trust-sim", required_argument, NULL, O_TRUSTSIM },
	{ "cert-only", no_argument, NULL, O_CERTONLY },
	{ "at", required_argument, NULL, O_AT },
	{ "offline", no_argument, NULL, O_OFFLINE },
	{ "no-crl", no_argument, NULL, O_NOCRL },
	{ "gpu-cc-mode", required_argument, NULL, O_CCMODE },
	{ "measurement", required_argument, NULL, O_MEAS },
	{ "not-before", required_argument, NULL, O_NOTBEFORE },
	{ "data", required_argument, NULL, 'd' },
	{ "header", required_argument, NULL, 'H' },
	{ "request", required_argument, NULL, 'X' },
	{ "output", required_argument, NULL, 'o' },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "header-timeout", required_argument, NULL, O_HDRTIMEOUT },
	{ "max-connections", required_argument, NULL, O_MAXCONN },
	{ "max-connections-per-ip", required_argument, NULL, O_MAXCONNIP },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

#define MAX_HEADERS 32

/* The options each subcommand reads; any other one is a usage error, never accepted and then
 * ignored (a --json that prints nothing, a --nonce the server never binds). */
#define OPT(o) (UINT64_C(1) << ((o) - O_TEE))
#define OPT_CURL (UINT64_C(1) << 40) /* -d, -H, -X, -o */
#define OPTS_MAKE (OPT(O_TEE) | OPT(O_GPUS) | OPT(O_SIM) | OPT(O_CCMODE) | OPT(O_MEAS))
#define OPTS_VERIFY (OPT(O_POLICY) | OPT(O_COLL) | OPT(O_TRUSTSIM) | OPT(O_CERTONLY) | OPT(O_AT) | \
		     OPT(O_OFFLINE) | OPT(O_NOCRL))
static const struct {
	const char *sub;
	uint64_t opts;
} sub_opts[] = {
	{ "cert", OPTS_MAKE | OPT(O_KEYOUT) | OPT(O_CERTOUT) | OPT(O_NONCE) | OPT(O_VALIDITY) |
			  OPT(O_NOTBEFORE) | OPT(O_JSON) },
	{ "show", OPT(O_JSON) },
	{ "serve", OPTS_MAKE | OPT(O_LISTEN) | OPT(O_BACKEND) | OPT(O_ROTATE) | OPT(O_VALIDITY) |
			   OPT(O_CERT) | OPT(O_KEY) | OPT(O_PORTFILE) | OPT(O_HDRTIMEOUT) |
			   OPT(O_MAXCONN) | OPT(O_MAXCONNIP) },
	{ "verify", OPTS_VERIFY | OPT(O_JSON) },
	{ "get", OPTS_VERIFY | OPT_CURL },
};

/* 1 when subcommand sub reads option c (getopt's value); an unknown subcommand reads all,
 * and is refused as unknown after parsing */
static int sub_reads(const char *sub, int c)
{
	uint64_t bit = (c == 'd' || c == 'H' || c == 'X' || c == 'o') ? OPT_CURL
		       : c >= O_TEE && c < O_HELP ? OPT(c) : 0;
	size_t i;

	if (!bit)
		return 1;
	for (i = 0; i < sizeof(sub_opts) / sizeof(sub_opts[0]); i++)
		if (!strcmp(sub, sub_opts[i].sub))
			return (sub_opts[i].opts & bit) != 0;
	return 1;
}


typedef struct args {
	cct_ratls_make_opts make;
	cct_ratls_verify_opts vo;
	const char *key_out, *cert_out, *cert, *key, *listen, *backend, *port_file, *policy, *data, *method,
		*out_file;
	const char *headers[MAX_HEADERS];
	size_t nheaders;
	long validity, rotate, not_before;
	int json, tee_set, header_timeout, max_conn, max_conn_ip;
	uint8_t nonce[64], meas[48];
	char *pos[4];
	int npos;
} args;

/* Durations are bounded so that no arithmetic on them (validity windows, 2 x rotate) can
 * overflow: at most MAX_DURATION_S either way. */
#define MAX_DURATION_S (3650L * 86400) /* 3650d */

/* "90", "90s", "30m", "1h", "2d", optionally negative, |value| <= 3650d */
static int duration(long *out, const char *s)
{
	char *e;
	long v, unit;

	errno = 0;
	v = strtol(s, &e, 10);
	if (e == s || errno == ERANGE)
		return -1;
	if (!*e || !strcmp(e, "s"))
		unit = 1;
	else if (!strcmp(e, "m"))
		unit = 60;
	else if (!strcmp(e, "h"))
		unit = 3600;
	else if (!strcmp(e, "d"))
		unit = 86400;
	else
		return -1;
	if (v > MAX_DURATION_S / unit || v < -(MAX_DURATION_S / unit))
		return -1;
	*out = v * unit;
	return 0;
}

/* a whole number lo..hi */
static int bounded_int(int *out, const char *s, long lo, long hi)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (e == s || *e || errno == ERANGE || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse(args *a, int argc, char **argv)
{
	int c;
	size_t n;

	memset(a, 0, sizeof(*a));
	a->make.tee = "snp";
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "-d:H:X:o:", lopts)) != -1) {
		if (!sub_reads(argv[0], c)) {
			if (c == 'd' || c == 'H' || c == 'X' || c == 'o')
				return cct_cli_usage_error("ratls %s: -%c is an option of 'ratls get' "
							   "only (cctrust ratls --help)",
							   argv[0], c);
			return cct_cli_foreign_option("ratls", argv[0], lopts, c);
		}
		switch (c) {
		case 1:
			if (a->npos >= 4)
				return cct_cli_usage_error("ratls: too many arguments");
			a->pos[a->npos++] = optarg;
			break;
		case O_TEE:
			if (strcmp(optarg, "snp") && strcmp(optarg, "tdx"))
				return cct_cli_usage_error("--tee: snp or tdx");
			a->make.tee = optarg;
			a->tee_set = 1;
			break;
		case O_GPUS:
			if (!strcmp(optarg, "all")) {
				a->make.gpus = -1;
			} else {
				char *e;
				long g = strtol(optarg, &e, 10);

				if (*e || g < 0 || g > CCT_COMPOSITE_MAX_GPUS)
					return cct_cli_usage_error("--gpus: all or 0..%d", CCT_COMPOSITE_MAX_GPUS);
				a->make.gpus = (int)g;
			}
			break;
		case O_SIM: a->make.sim_dir = optarg; break;
		case O_KEYOUT: a->key_out = optarg; break;
		case O_CERT: a->cert = optarg; break;
		case O_KEY: a->key = optarg; break;
		case O_CERTOUT: a->cert_out = optarg; break;
		case O_NONCE:
			n = strlen(optarg);
			if (n % 2 || n / 2 > sizeof(a->nonce) || !n ||
			    cct_hex_decode_fixed(a->nonce, n / 2, optarg, NULL) != CCT_OK)
				return cct_cli_usage_error("--nonce: 1..64 bytes as hex");
			a->make.nonce = a->nonce;
			a->make.nonce_len = n / 2;
			break;
		case O_VALIDITY:
			if (duration(&a->validity, optarg) || a->validity <= 0)
				return cct_cli_usage_error("--validity: a duration from 1s to 3650d, such as 1h");
			break;
		case O_NOTBEFORE:
			if (duration(&a->not_before, optarg))
				return cct_cli_usage_error("--not-before: a duration from -3650d to 3650d, "
							   "such as -2d");
			break;
		case O_ROTATE:
			if (duration(&a->rotate, optarg) || a->rotate <= 0)
				return cct_cli_usage_error("--rotate: a duration from 1s to 3650d, such as 1h");
			break;
		case O_HDRTIMEOUT:
			if (bounded_int(&a->header_timeout, optarg, 1, 300))
				return cct_cli_usage_error("--header-timeout: whole seconds from 1 to 300");
			break;
		case O_MAXCONNIP:
			if (bounded_int(&a->max_conn_ip, optarg, 1, 4096))
				return cct_cli_usage_error("--max-connections-per-ip: 1 to 4096, at "
							   "most --max-connections");
			break;
		case O_MAXCONN:
			if (bounded_int(&a->max_conn, optarg, 1, 4096))
				return cct_cli_usage_error("--max-connections: 1 to 4096");
			break;
		case O_JSON: a->json = 1; break;
		case O_LISTEN: a->listen = optarg; break;
		case O_BACKEND: a->backend = optarg; break;
		case O_PORTFILE: a->port_file = optarg; break;
		case O_POLICY: a->policy = optarg; break;
		case O_COLL: a->vo.composite.collateral_dir = optarg; break;
		case O_TRUSTSIM: a->vo.composite.trust_sim_dir = optarg; break;
		case O_CERTONLY: a->vo.cert_only = 1; break;
		case O_AT:
			if (cct_cli_parse_time(&a->vo.composite.at, optarg) != 0)
				return CCT_EXIT_USAGE;
			break;
		case O_OFFLINE: a->vo.composite.offline = 1; break;
		case O_NOCRL: a->vo.composite.crl_check_off_insecure = 1; break;
		case O_CCMODE: a->make.sim_gpu_cc_mode = optarg; break;
		case O_MEAS:
			if (cct_hex_decode_fixed(a->meas, 48, optarg, NULL) != CCT_OK)
				return cct_cli_usage_error("--measurement: 48 bytes as hex");
			a->make.sim_measurement = a->meas;
			break;
		case 'd': a->data = optarg; break;
		case 'H':
			if (a->nheaders >= MAX_HEADERS)
				return cct_cli_usage_error("-H: at most %d headers", MAX_HEADERS);
			a->headers[a->nheaders++] = optarg;
			break;
		case 'X': a->method = optarg; break;
		case 'o': a->out_file = optarg; break;
		case O_HELP: fputs(ratls_usage, stdout); return -1;
		default: fputs(ratls_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	return 0;
}

/* An output must not be another output nor any file the command reads: checked before anything
 * is written (a key written over the certificate, or over the simulator's sim.json, is lost). */
#define SIM_WALK_MAX_DEPTH 6
#define SIM_WALK_MAX_FILES 20000


/* 1 when out is one of the files under dir (the simulated TEE reads its keys, certificates and
 * sim.json from there), copying the one it is into hit; bounded in depth and in files. */
static int under_dir(char *hit, size_t hs, const char *out, const char *dir, int depth, int *budget)
{
	DIR *d;
	struct dirent *e;
	char p[4096];
	int found = 0;

	if (depth > SIM_WALK_MAX_DEPTH || !(d = opendir(dir)))
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (--*budget < 0)
			break;
		if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
			continue;
		if (cct_file_same(out, p)) {
			snprintf(hit, hs, "%s", p);
			found = 1;
		} else if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
			found = under_dir(hit, hs, out, p, depth + 1, budget);
		}
	}
	closedir(d);
	return found;
}

typedef struct named_path {
	const char *opt, *path;
} named_path;

/* Each output against the earlier outputs, the input files and everything under the input
 * directory dir_opt DIR (--sim, --trust-sim, --collateral): a usage error naming both options,
 * or 0. */
static int output_clash(const named_path *outs, size_t nout, const named_path *ins, size_t nin,
			const char *dir_opt, const char *sim_dir)
{
	char hit[4096];
	size_t i, j;

	for (i = 0; i < nout; i++) {
		int budget = SIM_WALK_MAX_FILES;
		const char *slash;
		char parent[4096];
		struct stat st;

		if (!outs[i].path)
			continue;
		/* a directory where the file goes, or a directory that does not exist: refused
		 * before anything is written (cert wrote KEY, then failed on --cert-out) */
		if (stat(outs[i].path, &st) == 0 && S_ISDIR(st.st_mode))
			return cct_cli_usage_error("%s %s: is a directory, not a file to write (nothing "
						   "written)", outs[i].opt, outs[i].path);
		if ((slash = strrchr(outs[i].path, '/'))) {
			snprintf(parent, sizeof(parent), "%.*s",
				 slash == outs[i].path ? 1 : (int)(slash - outs[i].path), outs[i].path);
			if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
				return cct_cli_usage_error("%s %s: %s is not an existing directory "
							   "(nothing written)", outs[i].opt, outs[i].path,
							   parent);
		}
		for (j = 0; j < i; j++)
			if (outs[j].path && cct_cli_same_output(outs[i].path, outs[j].path))
				return cct_cli_usage_error("%s %s and %s %s are the same file: give each "
							   "output its own (nothing written)",
							   outs[i].opt, outs[i].path, outs[j].opt,
							   outs[j].path);
		for (j = 0; j < nin; j++)
			if (ins[j].path && cct_file_same(outs[i].path, ins[j].path))
				return cct_cli_usage_error("%s %s is the same file as the input %s %s: "
							   "refusing to overwrite an input (nothing "
							   "written)",
							   outs[i].opt, outs[i].path, ins[j].opt, ins[j].path);
		if (sim_dir && under_dir(hit, sizeof(hit), outs[i].path, sim_dir, 0, &budget))
			return cct_cli_usage_error("%s %s is the same file as %s, an input of %s %s: "
						   "refusing to overwrite an input (nothing written)",
						   outs[i].opt, outs[i].path, hit, dir_opt, sim_dir);
	}
	return 0;
}

/* --sim DIR must hold a simulated TEE (made by 'cctrust sim init DIR'): a usage error if not */
static int sim_readable(const char *dir)
{
	char p[4096];
	FILE *f;

	if (!dir)
		return 0;
	snprintf(p, sizeof(p), "%s/sim.json", dir);
	if (!(f = fopen(p, "rb")))
		return cct_cli_usage_error("--sim %s: %s: %s (run 'cctrust sim init %s')", dir, p,
					   strerror(errno), dir);
	fclose(f);
	return 0;
}

static int cmd_cert(args *a)
{
	named_path outs[2] = { { "--key-out", a->key_out }, { "--cert-out", a->cert_out } };
	char *key = NULL, *cert = NULL;
	json_t *d = NULL;
	cct_err err;
	int rc;

	if (!a->key_out || !a->cert_out || a->npos)
		return cct_cli_usage_error("ratls cert: --key-out KEY and --cert-out CERT required");
	if (!a->tee_set)
		return cct_cli_usage_error("ratls cert: --tee snp|tdx required");
	if ((rc = sim_readable(a->make.sim_dir)) != 0 ||
	    (rc = output_clash(outs, 2, NULL, 0, "--sim", a->make.sim_dir)) != 0)
		return rc;
	rc = cct_ratls_cert_make(&key, &cert, &a->make, a->validity > 0 ? a->validity : 3600,
				 a->not_before, &err);
	if (rc != CCT_OK) {
		fprintf(stderr, "cctrust: ratls cert: %s\n", err.msg);
		return cct_cli_exit_code(rc);
	}
	rc = cct_file_write(a->key_out, key, strlen(key), 1, &err);
	cct_wipe(key, strlen(key));
	free(key);
	if (rc == CCT_OK)
		rc = cct_file_write(a->cert_out, cert, strlen(cert), 0, &err);
	if (rc == CCT_OK && a->json)
		rc = cct_ratls_cert_describe(&d, (const uint8_t *)cert, strlen(cert), &err);
	free(cert);
	if (rc != CCT_OK)
		return cct_cli_usage_error("ratls cert: %s", err.msg);
	fprintf(stderr, "cctrust: wrote %s (0600) and %s\n", a->key_out, a->cert_out);
	if (a->json) /* what was written and what the certificate binds (as 'ratls show --json') */
		cct_cli_print_json(json_pack("{s:o,s:s,s:o,s:o}", "key_out", cct_cli_json_text(a->key_out),
					     "key_mode", "0600", "cert_out", cct_cli_json_text(a->cert_out),
					     "certificate", d),
				   0);
	return CCT_EXIT_OK;
}

static int cmd_show(args *a)
{
	uint8_t *b = NULL;
	size_t n = 0;
	json_t *d = NULL, *c;
	cct_err err;
	int rc;

	if (a->npos != 1)
		return cct_cli_usage_error("ratls show: exactly one CERT");
	if (cct_file_read(&b, &n, a->pos[0], 1u << 24, &err) != CCT_OK)
		return cct_cli_usage_error("%s: %s", a->pos[0], err.msg);
	rc = cct_ratls_cert_describe(&d, b, n, &err);
	free(b);
	if (rc != CCT_OK) {
		if (a->json)
			cct_cli_print_json(json_pack("{s:o}", "error", cct_cli_error_json(rc, &err)), 0);
		else
			fprintf(stderr, "cctrust: %s: %s\n", a->pos[0], err.msg);
		return rc == CCT_EFORMAT || rc == CCT_EUNSUPPORTED ? CCT_EXIT_REJECT : CCT_EXIT_USAGE;
	}
	if (a->json) {
		cct_cli_print_json(d, 0);
		return CCT_EXIT_OK;
	}
	c = json_object_get(d, "claims");
	printf("%s: %s, evidence %s (tag %s), %s\n", a->pos[0],
	       json_string_value(json_object_get(d, "format")), json_string_value(json_object_get(d, "tee")),
	       json_string_value(json_object_get(d, "evidence_tag")),
	       json_is_true(json_object_get(d, "cctrust_can_verify")) ? "verifiable by cctrust"
								     : "NOT verifiable by cctrust (claims only)");
	printf("  pubkey-hash   %s %s: %s\n",
	       json_string_value(json_object_get(json_object_get(c, "pubkey-hash"), "alg_name")),
	       json_string_value(json_object_get(json_object_get(c, "pubkey-hash"), "hash")),
	       json_is_true(json_object_get(d, "pubkey_hash_matches")) ? "matches the certificate's key"
								      : "DOES NOT MATCH the certificate's key");
	if (json_object_get(c, "nonce"))
		printf("  nonce         %s\n", json_string_value(json_object_get(c, "nonce")));
	if (json_object_get(c, "cctrust-gpus"))
		printf("  gpus          %lld, cc-mode %s\n",
		       (long long)json_integer_value(json_object_get(json_object_get(c, "cctrust-gpus"), "count")),
		       json_string_value(json_object_get(json_object_get(c, "cctrust-gpus"), "cc-mode")));
	printf("  valid         %s .. %s\n  pin           %s\n",
	       json_string_value(json_object_get(d, "not_before")),
	       json_string_value(json_object_get(d, "not_after")), json_string_value(json_object_get(d, "pin")));
	json_decref(d);
	return CCT_EXIT_OK;
}

static volatile sig_atomic_t stop_flag;
static volatile int stop_int;

static void on_signal(int s)
{
	(void)s;
	stop_flag = 1;
	stop_int = 1;
}

static int cmd_serve(args *a)
{
	named_path outs[1] = { { "--port-file", a->port_file } };
	named_path ins[2] = { { "--cert", a->cert }, { "--key", a->key } };
	cct_ratls_serve_opts so;
	struct sigaction sa;
	cct_err err;
	int rc;

	if (!a->listen || !a->backend || a->npos)
		return cct_cli_usage_error("ratls serve: --listen ADDR and --backend URL required");
	if (a->max_conn_ip > (a->max_conn ? a->max_conn : 64))
		return cct_cli_usage_error("--max-connections-per-ip %d is above --max-connections %d",
					   a->max_conn_ip, a->max_conn ? a->max_conn : 64);
	if ((rc = sim_readable(a->make.sim_dir)) != 0 ||
	    (rc = output_clash(outs, 1, ins, 2, "--sim", a->make.sim_dir)) != 0)
		return rc;
	memset(&so, 0, sizeof(so));
	so.listen = a->listen;
	so.backend = a->backend;
	so.make = a->make;
	so.rotate_s = a->rotate;
	so.validity_s = a->validity;
	so.port_file = a->port_file;
	so.cert_file = a->cert;
	so.key_file = a->key;
	so.max_connections = a->max_conn;
	so.max_connections_per_addr = a->max_conn_ip;
	so.header_timeout_s = a->header_timeout;
	so.stop = &stop_int;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = cct_ratls_serve(&so, &err);
	if (rc != CCT_OK) {
		fprintf(stderr, "cctrust: ratls serve: %s\n", err.msg);
		return cct_cli_exit_code(rc) == CCT_EXIT_USAGE ? CCT_EXIT_USAGE : CCT_EXIT_REJECT;
	}
	return CCT_EXIT_OK;
}

static int load_policy(cct_policy **pol, const char *file)
{
	uint8_t *b = NULL;
	size_t n = 0;
	cct_err err;
	int rc;

	if (!file)
		return cct_cli_usage_error("--policy FILE required");
	if (cct_file_read(&b, &n, file, CCT_POLICY_MAX_POLICY, &err) != CCT_OK)
		return cct_cli_usage_error("--policy: %s", err.msg);
	rc = cct_policy_load(pol, (const char *)b, n, &err);
	free(b);
	if (rc != CCT_OK)
		return cct_cli_usage_error("--policy %s: %s", file, err.msg);
	return 0;
}

/* "HOST:PORT", "[IPV6]:PORT", or (dflt_port non-NULL) "HOST" / "[IPV6]" alone: host without
 * the brackets (getaddrinfo takes the address itself), port digits. -1 when malformed. */
static int split_target(char *host, size_t hs, char *port, size_t ps, const char *in,
			const char *dflt_port)
{
	const char *h = in, *he, *c;

	if (*in == '[') {
		h = in + 1;
		if (!(he = strchr(h, ']')) || he == h || memchr(h, '[', (size_t)(he - h)))
			return -1;
		c = he[1] ? he + 1 : NULL;
		if (c && *c != ':')
			return -1;
	} else {
		c = strrchr(in, ':');
		he = c ? c : in + strlen(in);
		if (c && memchr(in, ':', (size_t)(c - in))) /* an IPv6 address needs its brackets */
			return -1;
	}
	if (!c && !dflt_port)
		return -1;
	if (he == h || (size_t)(he - h) >= hs)
		return -1;
	if (c && (!c[1] || strlen(c + 1) >= ps || strspn(c + 1, "0123456789") != strlen(c + 1)))
		return -1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = 0;
	snprintf(port, ps, "%s", c ? c + 1 : dflt_port);
	return 0;
}

static void print_verdict(FILE *f_, const char *target, const cct_ratls_result *r)
{
	const json_t *f;
	size_t i;

	if (r->status == CCT_OK) {
		const json_t *cc = json_object_get(json_object_get(r->result, "certificate"), "composite");
		const char *tee = json_string_value(json_object_get(cc, "tee"));

		fprintf(f_, "%s: ACCEPTED %s + %lld GPU(s), certificate evidence%s%s\n", target, tee ? tee : "?",
		       (long long)json_integer_value(json_object_get(cc, "gpu_count")),
		       json_object_get(r->result, "fresh") ? " + channel-bound fresh evidence"
							   : " only (no fresh evidence: replayable)",
		       json_is_true(json_object_get(r->result, "simulated")) ? " (SIMULATED TEE: test roots)" : "");
		cct_cli_print_skipped(target, json_object_get(r->result, "checks_skipped"));
	} else {
		fprintf(f_, "%s: REJECTED check %s [%s/%s] %s\n", target, r->check[0] ? r->check : "?",
		       cct_stage_name(r->err.stage), cct_code_name(r->status), r->err.msg);
	}
	json_array_foreach(json_object_get(r->result, "failures"), i, f) {
		char *e = json_dumps(json_object_get(f, "expected"), JSON_ENCODE_ANY | JSON_COMPACT);
		char *ac = json_dumps(json_object_get(f, "actual"), JSON_ENCODE_ANY | JSON_COMPACT);

		fprintf(f_, "  rule %s: %s\n    expected %s\n    actual   %s\n",
		       json_string_value(json_object_get(f, "rule")),
		       json_string_value(json_object_get(f, "message")), e ? e : "?", ac ? ac : "?");
		free(e);
		free(ac);
	}
	if (r->pin[0])
		fprintf(f_, "  pin %s\n", r->pin);
}

/* connect + verify; returns exit code, *ssl_out set on acceptance */
static int connect_verify(void **ssl_out, args *a, const char *host, const char *port,
			  const cct_policy *pol, const char *label, int print_ok)
{
	cct_ratls_result r;
	cct_err err;
	void *ssl = NULL;
	int rc;

	*ssl_out = NULL;
	/* a server that closes the connection must give an error, not kill the client: writes
	 * to a closed socket fail with EPIPE instead */
	signal(SIGPIPE, SIG_IGN);
	if (cct_ratls_connect(&ssl, host, port, 30, &err) != CCT_OK) {
		/* the verdict's fields as after a refusal (a label that is not UTF-8 escaped, not
		 * a failed json_pack printing a bare "usage error") */
		if (a->json)
			cct_cli_print_json(json_pack("{s:o,s:b,s:s,s:o,s:n,s:[],s:[ss],s:[],s:b}", "target",
						     cct_cli_json_text(label), "verified", 0, "check",
						     strncmp(err.msg, "TLS handshake", 13) ? "connect" : "handshake",
						     "error", cct_cli_error_json(err.code, &err), "pin",
						     "failures", "checks_skipped",
						     "certificate-evidence (not reached)",
						     "fresh-evidence (not reached)", "insecure", "simulated", 0),
					   0);
		else
			fprintf(stderr, "cctrust: %s: unreachable: %s\n", label, err.msg);
		return CCT_EXIT_USAGE;
	}
	a->vo.host = label; /* the Host header: the target as given (host:port, [v6]:port) */
	rc = cct_ratls_verify_peer(ssl, pol, &a->vo, &r);
	if (a->json && (print_ok || rc != CCT_OK)) {
		json_t *o = json_deep_copy(r.result);

		json_object_set_new(o, "target", cct_cli_json_text(label));
		cct_cli_print_json(o, 0);
	} else if (print_ok || rc != CCT_OK) {
		print_verdict(print_ok ? stdout : stderr, label, &r); /* get: stdout is the body */
	}
	cct_ratls_result_clear(&r);
	if (rc != CCT_OK) {
		cct_ratls_close(ssl);
		return CCT_EXIT_REJECT;
	}
	*ssl_out = ssl;
	return CCT_EXIT_OK;
}

static int cmd_verify(args *a)
{
	cct_policy *pol = NULL;
	char host[256], port[16];
	void *ssl = NULL;
	int rc;

	if (a->npos != 1 || split_target(host, sizeof(host), port, sizeof(port), a->pos[0], NULL))
		return cct_cli_usage_error("ratls verify: HOST:PORT or [IPV6]:PORT expected");
	if ((rc = load_policy(&pol, a->policy)) != 0)
		return rc;
	rc = connect_verify(&ssl, a, host, port, pol, a->pos[0], 1);
	cct_ratls_close(ssl);
	cct_policy_free(pol);
	return rc;
}

static int cmd_get(args *a)
{
	cct_policy *pol = NULL;
	char host[300], port[16] = "443", hp[300], pathbuf[8192];
	const char *u, *path, *slash;
	size_t hl, pl;
	void *ssl = NULL;
	FILE *out = stdout;
	cct_err err;
	int rc, status = 0;

	if (a->npos != 1 || strncmp(a->pos[0], "https://", 8))
		return cct_cli_usage_error("ratls get: one https:// URL expected");
	u = a->pos[0] + 8;
	/* the authority ends at the path, the query or the fragment; never cut short */
	hl = strcspn(u, "/?#");
	slash = u + hl;
	if (!hl || hl >= sizeof(hp))
		return cct_cli_usage_error("ratls get: the URL's host:port is empty or above %zu bytes",
					   sizeof(hp) - 1);
	snprintf(hp, sizeof(hp), "%.*s", (int)hl, u);
	/* the request line takes the path (a bare ?query gets its /), never the fragment; a
	 * space or control character in it, or a method not an HTTP token, would inject header
	 * lines: refused before connecting */
	pl = strcspn(slash, "#");
	if (pl >= sizeof(pathbuf) - 1)
		return cct_cli_usage_error("ratls get: the URL's path is above %zu bytes", sizeof(pathbuf) - 2);
	snprintf(pathbuf, sizeof(pathbuf), "%s%.*s", *slash == '/' ? "" : "/", (int)pl, slash);
	path = pathbuf;
	for (hl = 0; path[hl]; hl++)
		if ((unsigned char)path[hl] <= 0x20 || path[hl] == 0x7f)
			return cct_cli_usage_error("ratls get: a space or control character in the URL's "
						   "path (percent-encode it)");
	if (a->method && (!a->method[0] || strspn(a->method, "!#$%&'*+-.^_`|~0123456789"
							      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
							      "abcdefghijklmnopqrstuvwxyz") !=
							   strlen(a->method)))
		return cct_cli_usage_error("-X %s: an HTTP method (a token: letters, digits, "
					   "!#$%%&'*+-.^_`|~)", a->method);
	if (split_target(host, sizeof(host), port, sizeof(port), hp, "443"))
		return cct_cli_usage_error("ratls get: bad host:port in the URL (HOST, HOST:PORT, "
					   "[IPV6] or [IPV6]:PORT)");
	if (a->out_file && !strcmp(a->out_file, "-")) /* was a file named "-" (as curl: stdout) */
		a->out_file = NULL;
	{ /* -o replaces its file only after the connection verified; never an input's */
		named_path outs[1] = { { "-o", a->out_file } },
			   ins[2] = { { "--policy", a->policy },
				      { "--collateral", a->vo.composite.collateral_dir } };

		if ((rc = output_clash(outs, 1, ins, 2, "--trust-sim",
				       a->vo.composite.trust_sim_dir)) != 0 ||
		    (rc = output_clash(outs, 1, NULL, 0, "--collateral",
				       a->vo.composite.collateral_dir)) != 0)
			return rc;
	}
	if ((rc = load_policy(&pol, a->policy)) != 0)
		return rc;
	a->json = 0;
	rc = connect_verify(&ssl, a, host, port, pol, hp, 0);
	if (rc != CCT_EXIT_OK)
		goto out;
	if (a->out_file && !(out = fopen(a->out_file, "wb"))) {
		rc = cct_cli_usage_error("-o %s: cannot open", a->out_file);
		goto out;
	}
	if (cct_ratls_request(ssl, a->method, path, hp, a->headers, a->nheaders, (const uint8_t *)a->data,
			      a->data ? strlen(a->data) : 0, out, &status, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: ratls get: %s\n", err.msg);
		rc = CCT_EXIT_USAGE;
	} else if (status >= 400) {
		fprintf(stderr, "cctrust: ratls get: HTTP %d\n", status);
		rc = CCT_EXIT_REJECT;
	}
out:
	if (out && out != stdout)
		fclose(out);
	cct_ratls_close(ssl);
	cct_policy_free(pol);
	return rc;
}

int cct_cmd_ratls(int argc, char **argv)
{
	args a;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(ratls_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : CCT_EXIT_OK;
	}
	rc = parse(&a, argc - 1, argv + 1);
	if (rc)
		return rc < 0 ? CCT_EXIT_OK : rc;
	if (!strcmp(argv[1], "cert"))
		return cmd_cert(&a);
	if (!strcmp(argv[1], "show"))
		return cmd_show(&a);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(&a);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(&a);
	if (!strcmp(argv[1], "get"))
		return cmd_get(&a);
	fputs(ratls_usage, stderr);
	return cct_cli_usage_error("ratls: unknown subcommand '%s'", argv[1]);
}
