/* cctrust: one binary, subcommands per evidence area. */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "cctrust/common.h"
#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "snp", cct_cmd_snp, "AMD SEV-SNP reports: verify, show" },
	{ "tdx", cct_cmd_tdx, "Intel TDX DCAP quotes: verify, show, eventlog" },
	{ "vtpm", cct_cmd_vtpm, "Azure paravisor vTPM evidence (az-snp-vtpm, az-tdx-vtpm): verify" },
	{ "tpm", cct_cmd_tpm, "TPM 2.0 quotes: quote verify" },
	{ "eventlog", cct_cmd_eventlog, "TCG event logs / TDX CCEL: show, replay against PCRs/RTMRs" },
	{ "gpu", cct_cmd_gpu, "NVIDIA GPU / NVSwitch evidence: verify, show, rim verify" },
	{ "verify", cct_cmd_verify, "composite attest request (CPU + GPUs) against a policy" },
	{ "policy", cct_cmd_policy, "cctrust.policy/v1 documents: check, convert older formats" },
	{ "token", cct_cmd_token, "attestation result tokens (EAR JWT): verify" },
	{ "evidence", cct_cmd_evidence, "collect evidence inside a confidential VM" },
	{ "gate", cct_cmd_gate, "verify this machine, then run a command" },
	{ "sim", cct_cmd_sim, "simulated TEE for tests and demos (never trusted by default)" },
	{ "measure", cct_cmd_measure, "reference values: SNP launch digest, TDX MRTD" },
	{ "model", cct_cmd_model, "model integrity: reproducible pack, dm-verity" },
	{ "kbs", cct_cmd_kbs, "key broker client (guest and admin)" },
	{ "cert", cct_cmd_cert, "workload certificates: verify" },
	{ "collateral", cct_cmd_collateral, "vendor collateral bundles: fetch, check, serve" },
	{ "ratls", cct_cmd_ratls, "attested TLS: cert, show, serve, verify, get" },
	{ "launch", cct_cmd_launch, "launch plans: QEMU line, expected values, policy; diagnose" },
	{ "host", cct_cmd_host, "host preparation: bind GPUs to vfio-pci and back" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: cctrust <command> [args]   (cctrust <command> --help for details)\n\n"
		   "Verify confidential GPU VMs: SEV-SNP / TDX evidence, NVIDIA GPU evidence,\n"
		   "policies and signed results.\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nexit status of verify commands: 0 accepted, 1 rejected, 2 usage error or "
		   "unreadable input\n(cctrust --version prints the version)\n");
}

/* --json: a run that ends with exit 2 having written nothing on standard output (a usage
 * error, a file named by an option that cannot be read) still prints one JSON object,
 * {"error": {"code", "stage", "message"}}, the message being what it said on standard error.
 * Standard output and error go through counting streams for that (only with --json). */
static size_t stdout_bytes;
static char err_line[512], err_best[512];
static size_t err_line_len;
static int best_ours;
static const char *prog_name = "cctrust";

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t out_write(void *c, const char *buf, size_t n)
{
	(void)c;
	if (write_all(1, buf, n))
		return -1;
	stdout_bytes += n;
	return (ssize_t)n;
}

/* the rest of line after "NAME: ", or NULL */
static const char *after_name(const char *line, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(line, name, n) && !strncmp(line + n, ": ", 2) ? line + n + 2 : NULL;
}

/* a line is this program's complaint when it starts with its name and ": " ("cctrust: ...",
 * not a usage text's "cctrust.checks_skipped" or "cctrust: usage: ...") or is getopt's
 * ("ARGV0: unrecognized option"); the last such line is the message, else the last line */
static void err_line_end(void)
{
	const char *rest = after_name(err_line, "cctrust");
	int ours;

	if (!rest)
		rest = after_name(err_line, prog_name);
	ours = (rest && strncmp(rest, "usage:", 6)) || strstr(err_line, ": unrecognized option") ||
	       strstr(err_line, ": invalid option") || strstr(err_line, ": option ");
	if (!err_line_len)
		return;
	if (ours || !best_ours)
		memcpy(err_best, err_line, err_line_len + 1);
	best_ours |= ours;
	err_line_len = 0;
	err_line[0] = 0;
}

static ssize_t err_write(void *c, const char *buf, size_t n)
{
	size_t i;

	(void)c;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			err_line_end();
		} else if (err_line_len + 1 < sizeof(err_line)) {
			err_line[err_line_len++] = buf[i];
			err_line[err_line_len] = 0;
		}
	}
	return write_all(2, buf, n) ? -1 : (ssize_t)n;
}

/* --json as getopt_long reads it: the option or an abbreviation of it ("--js"; "--j" is --json
 * wherever no other long option starts with j), with a value too ("--json=x", refused by
 * getopt: a usage error that still owes its JSON); also before the command ("cctrust --json
 * snp", refused as an unknown command) */
static int is_json_opt(const char *a)
{
	size_t n = strcspn(a, "=");

	return n >= 3 && n <= 6 && !strncmp(a, "--json", n);
}

static int json_requested(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (is_json_opt(argv[i]))
			return 1;
	}
	return 0;
}

static void json_streams(void)
{
	cookie_io_functions_t out = { .write = out_write }, err = { .write = err_write };
	FILE *o = fopencookie(NULL, "w", out), *e = fopencookie(NULL, "w", err);

	if (!o || !e) {
		if (o)
			fclose(o);
		if (e)
			fclose(e);
		return;
	}
	setvbuf(e, NULL, _IONBF, 0);
	fflush(stdout);
	fflush(stderr);
	stdout = o;
	stderr = e;
}

static void json_usage_error(void)
{
	const char *m;
	json_t *o;
	char *s;
	size_t pl;

	fflush(stdout);
	fflush(stderr);
	err_line_end();
	if (stdout_bytes)
		return;
	m = err_best[0] ? err_best : "usage error";
	pl = strlen(prog_name);
	if (!strncmp(m, prog_name, pl) && !strncmp(m + pl, ": ", 2))
		m += pl + 2;
	else if (!strncmp(m, "cctrust: ", 9))
		m += 9;
	o = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "invalid_argument", "stage", "input",
		      "message", m);
	s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
	fflush(stdout);
}

/* A command that succeeded but whose standard output could not be written (a full disk, a
 * closed descriptor) must not exit 0: a script would take the missing or cut result for the
 * verdict. 2, as for any input or output the command could not handle. */
static int output_checked(int rc)
{
	int bad;

	errno = 0;
	bad = fflush(stdout) != 0 || ferror(stdout);
	if (bad && rc == 0) {
		fprintf(stderr, "cctrust: cannot write the standard output: %s\n",
			errno ? strerror(errno) : "write error");
		return CCT_EXIT_USAGE;
	}
	return rc;
}

int main(int argc, char **argv)
{
	size_t i;
	int json, rc;

	if (argc < 2) {
		usage(stderr);
		return CCT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return output_checked(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("cctrust %s\n", cct_version());
		return output_checked(0);
	}
	prog_name = argv[0];
	json = json_requested(argc, argv);
	if (json)
		json_streams();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			rc = commands[i].fn(argc - 1, argv + 1);
			if (json && rc == CCT_EXIT_USAGE)
				json_usage_error();
			return output_checked(rc);
		}
	fprintf(stderr, "cctrust: unknown command '%s'\n", argv[1]);
	usage(stderr);
	if (json)
		json_usage_error();
	return CCT_EXIT_USAGE;
}
