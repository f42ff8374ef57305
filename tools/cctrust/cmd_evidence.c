/* cctrust evidence collect: build the KBS 0.4.0 attest request body inside a confidential VM. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/attester.h"
#include "cctrust/core.h"
#include "cli.h"
#include "cli_vtpm.h"

static const char evidence_usage[] =
	"usage: cctrust evidence collect --nonce B64 --tee-pubkey JWK_FILE|JSON|- [-o FILE]\n"
	"                                [--init-data TOML_FILE] [--cpu auto|tsm|sev-guest]\n"
	"                                [--no-gpu] [--tee az-snp-vtpm|az-tdx-vtpm [--tcti CONF]\n"
	"                                [--vcek FILE] [--imds URL] [--event-log FILE|none]]\n"
	"--cpu is for this machine's own TEE: refused (exit 2) with a vTPM --tee.\n"
	"CPU evidence from configfs-tsm (/sys/kernel/config/tsm/report) or /dev/sev-guest; GPU\n"
	"evidence from NVML (libnvidia-ml.so.1, loaded at run time) with each GPU's CC mode.\n"
	"REPORT_DATA = SHA-384(JCS({additional-evidence, nonce, tee-pubkey})) as Trustee expects.\n"
	CCT_CLI_VTPM_HELP;

json_t *cct_cli__load_jwk(const char *arg);

/* A JWK is small: a file (or - for standard input) is read through the bounded reader. */
#define JWK_MAX (64u * 1024u)

json_t *cct_cli__load_jwk(const char *arg)
{
	json_error_t je;
	uint8_t *b = NULL;
	size_t n = 0;
	cct_err err;
	json_t *j;

	if (arg[0] == '{') {
		j = json_loads(arg, JSON_REJECT_DUPLICATES, &je);
	} else if (cct_file_read(&b, &n, arg, JWK_MAX, &err) != CCT_OK) {
		cct_cli_usage_error("--tee-pubkey: %s", err.msg);
		return NULL;
	} else {
		j = json_loadb((const char *)b, n, JSON_REJECT_DUPLICATES, &je);
		free(b);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		cct_cli_usage_error("--tee-pubkey: not a JWK JSON object (%s)", je.text);
		return NULL;
	}
	return j;
}

/* 1 (after the message) when -o would replace one of the inputs, or when standard input (-)
 * is named by more than one option (it can be read once: the second would read it empty). */
static int inputs_conflict(const char *outp, const char *pk, const char *init,
			   const cct_cli_vtpm *vt)
{
	const char *in_opts[] = { "--tee-pubkey", "--init-data", "--vcek", "--event-log" };
	const char *ins[] = { pk && pk[0] != '{' ? pk : NULL, init, vt->vo.vcek_path,
			      vt->vo.event_log_path };
	size_t i, stdins = 0;

	for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		if (!ins[i])
			continue;
		if (!strcmp(ins[i], "-"))
			stdins++;
		else if (outp && cct_cli_same_output(outp, ins[i]))
			return cct_cli_usage_error("evidence collect: -o %s is also %s: it would be "
						   "overwritten", outp, in_opts[i]);
	}
	if (stdins > 1)
		return cct_cli_usage_error("evidence collect: standard input (-) given for %zu "
					   "options: it can be read once", stdins);
	return 0;
}

int cct_cmd_evidence(int argc, char **argv)
{
	enum { O_NONCE = 256, O_PK, O_INIT, O_CPU, O_NOGPU, O_HELP };
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "tee-pubkey", required_argument, NULL, O_PK },
		{ "init-data", required_argument, NULL, O_INIT },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "no-gpu", no_argument, NULL, O_NOGPU },
		CCT_CLI_VTPM_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	cct_attester_opts o;
	cct_cli_vtpm vt;
	const char *pk = NULL, *init = NULL, *outp = NULL;
	uint8_t *ib = NULL;
	size_t in = 0;
	json_t *jwk = NULL;
	char *body = NULL;
	cct_err err;
	int c, rc = CCT_EXIT_USAGE;

	if (argc < 2 || strcmp(argv[1], "collect")) {
		int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

		fputs(evidence_usage, help ? stdout : stderr);
		if (!help && argc >= 2)
			return cct_cli_usage_error("evidence: unknown subcommand '%s'", argv[1]);
		return help ? 0 : CCT_EXIT_USAGE;
	}
	argc--;
	argv++;
	memset(&o, 0, sizeof(o));
	cct_cli_vtpm_init(&vt);
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "o:", opts)) != -1) {
		if (cct_cli_vtpm_option(&vt, c, optarg))
			continue;
		switch (c) {
		case O_HELP: fputs(evidence_usage, stdout); return 0;
		case O_NONCE: o.nonce_b64 = optarg; break;
		case O_PK: pk = optarg; break;
		case O_INIT: init = optarg; break;
		case O_CPU: o.cpu_method = optarg; break;
		case O_NOGPU: o.no_gpu = 1; break;
		case 'o': outp = optarg; break;
		default: fputs(evidence_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	/* a usage error, before any file is read or any evidence (GPUs first) collected */
	if (o.cpu_method && strcmp(o.cpu_method, "auto") && strcmp(o.cpu_method, "tsm") &&
	    strcmp(o.cpu_method, "sev-guest"))
		return cct_cli_usage_error("evidence collect: --cpu: '%s' is not one of auto, tsm, "
					   "sev-guest (a TDX quote comes through tsm)", o.cpu_method);
	if (cct_cli_vtpm_finish(&vt, 0))
		return CCT_EXIT_USAGE;
	/* a vTPM's evidence comes through tpm2-tss and IMDS: --cpu would be ignored there */
	if (vt.vo.tee && o.cpu_method)
		return cct_cli_usage_error("evidence collect: --cpu does not apply with --tee %s (its "
					   "evidence comes from the vTPM, not configfs-tsm or "
					   "/dev/sev-guest)", vt.vo.tee);
	if (vt.vo.tee && init)
		return cct_cli_usage_error("evidence collect: --init-data does not apply with --tee "
					   "%s (its evidence carries no init-data field)", vt.vo.tee);
	if (!o.nonce_b64 || !pk)
		return cct_cli_usage_error("evidence collect: --nonce and --tee-pubkey are required");
	if (inputs_conflict(outp, pk, init, &vt))
		return CCT_EXIT_USAGE;
	/* what the verifier will refuse is refused here, before evidence is bound to it */
	if (cct_cli_check_nonce_b64(o.nonce_b64))
		return CCT_EXIT_USAGE;
	if (!(jwk = cct_cli__load_jwk(pk)))
		return CCT_EXIT_USAGE;
	if (cct_cli_check_tee_pubkey(jwk, NULL)) {
		json_decref(jwk);
		return CCT_EXIT_USAGE;
	}
	o.tee_pubkey = jwk;
	if (init) {
		if (cct_file_read(&ib, &in, init, 1u << 20, &err) != CCT_OK) {
			cct_cli_usage_error("--init-data: %s", err.msg);
			goto out;
		}
		/* TOML text: a NUL would cut it short, bytes that are not UTF-8 drop it */
		if (cct_cli_text_check("--init-data", init, ib, in))
			goto out;
		o.init_data_toml = (const char *)ib;
	}
	rc = cct_cli_vtpm_collect(&body, &o, &vt, &err) != CCT_OK;
	if (rc) {
		rc = CCT_EXIT_USAGE;
		cct_cli_usage_error("evidence collect: %s", err.msg);
		goto out;
	}
	rc = CCT_EXIT_USAGE;
	if (outp && cct_file_write(outp, body, strlen(body), 0, &err) != CCT_OK) {
		cct_cli_usage_error("-o: %s", err.msg);
		goto out;
	}
	/* evidence that did not reach standard output is no success (closed, full, a dead pipe) */
	if (!outp && (puts(body) < 0 || fflush(stdout) != 0)) {
		cct_cli_usage_error("evidence collect: cannot write the request to standard output: "
				    "%s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(body);
	free(ib);
	json_decref(jwk);
	return rc;
}
