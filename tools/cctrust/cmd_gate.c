/* cctrust gate: verify this machine's own evidence (fresh nonce, ephemeral TEE key) against a
 * policy; only then set the GPUs ready (NVML) and exec COMMAND. Any failure: COMMAND is not
 * started, the reason goes to stderr, exit 1 (2 for usage, 127 when exec fails). The boot gate of a confidential
 * GPU VM (dist/cctrust-gate.service). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cctrust/attester.h"
#include "cctrust/composite.h"
#include "cctrust/token.h"
#include "cli.h"
#include "cli_vtpm.h"

static const char gate_usage[] =
	"usage: cctrust gate --policy FILE [--trust-sim DIR] [--certs PATH] [--collateral DIR]\n"
	"                    [--offline] [--no-crl] [--init-data TOML] [--cpu auto|tsm|sev-guest]\n"
	"                    [--no-gpu] [--tee az-snp-vtpm|az-tdx-vtpm [--tcti CONF]\n"
	"                    [--vcek FILE] [--imds URL] [--event-log FILE|none]]\n"
	"                    -- COMMAND [ARGS...]\n"
	"--cpu is for this machine's own TEE: refused (exit 2) with a vTPM --tee.\n"
	"Collects this VM's evidence for a fresh nonce, verifies it (CPU, GPUs, binding, policy),\n"
	"sets the GPUs' ready state (after checking that the GPUs present are the ones attested)\n"
	"and execs COMMAND. On any failure COMMAND is not run.\n"
	"exit status: COMMAND's own once started; 1 refused, 2 usage error, 127 COMMAND cannot be\n"
	"executed.\n"
	CCT_CLI_VTPM_HELP;

int cct_cmd_gate(int argc, char **argv)
{
	enum { O_POLICY = 256, O_SIM, O_CERTS, O_COLL, O_OFF, O_NOCRL, O_INIT, O_CPU, O_NOGPU, O_HELP };
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, O_POLICY },
		{ "trust-sim", required_argument, NULL, O_SIM },
		{ "certs", required_argument, NULL, O_CERTS },
		{ "collateral", required_argument, NULL, O_COLL },
		{ "offline", no_argument, NULL, O_OFF },
		{ "no-crl", no_argument, NULL, O_NOCRL },
		{ "init-data", required_argument, NULL, O_INIT },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "no-gpu", no_argument, NULL, O_NOGPU },
		CCT_CLI_VTPM_OPTIONS,
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	cct_attester_opts ao;
	cct_composite_opts co;
	cct_composite_result r;
	cct_attester_gpu_state gs;
	cct_policy *pol = NULL;
	cct_token_signer *tee = NULL;
	cct_cli_vtpm vt;
	const char *policy_file = NULL, *init = NULL;
	uint8_t nonce[32], *b = NULL, *ib = NULL;
	char *nonce_b64 = NULL, *body = NULL;
	json_t *jwk = NULL, *pub = NULL;
	size_t n = 0;
	cct_err err;
	int c, rc = CCT_EXIT_USAGE;

	memset(&ao, 0, sizeof(ao));
	memset(&co, 0, sizeof(co));
	memset(&r, 0, sizeof(r));
	cct_cli_vtpm_init(&vt);
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "+", opts)) != -1) {
		if (cct_cli_vtpm_option(&vt, c, optarg))
			continue;
		switch (c) {
		case O_HELP: fputs(gate_usage, stdout); return 0;
		case O_POLICY: policy_file = optarg; break;
		case O_SIM: co.trust_sim_dir = optarg; break;
		case O_CERTS: co.certs_path = optarg; break;
		case O_COLL: co.collateral_dir = optarg; break;
		case O_OFF: co.offline = 1; break;
		case O_NOCRL: co.crl_check_off_insecure = 1; break;
		case O_INIT: init = optarg; break;
		case O_CPU: ao.cpu_method = optarg; break;
		case O_NOGPU: ao.no_gpu = 1; break;
		default: fputs(gate_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	/* a usage error, before any file is read or any evidence collected */
	if (ao.cpu_method && strcmp(ao.cpu_method, "auto") && strcmp(ao.cpu_method, "tsm") &&
	    strcmp(ao.cpu_method, "sev-guest"))
		return cct_cli_usage_error("gate: --cpu: '%s' is not one of auto, tsm, sev-guest "
					   "(a TDX quote comes through tsm)", ao.cpu_method);
	if (!policy_file)
		return cct_cli_usage_error("gate: --policy FILE is required (the gate never runs "
					   "without one)");
	if (optind >= argc)
		return cct_cli_usage_error("gate: no COMMAND after --");
	if (cct_cli_vtpm_finish(&vt, 0))
		return CCT_EXIT_USAGE;
	/* standard input can be read once: a second "-" would read it empty */
	{
		const char *ins[] = { policy_file, init, vt.vo.vcek_path, vt.vo.event_log_path };
		size_t i, stdins = 0;

		for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++)
			stdins += ins[i] && !strcmp(ins[i], "-");
		if (stdins > 1)
			return cct_cli_usage_error("gate: standard input (-) given for %zu options: "
						   "it can be read once", stdins);
	}
	/* a vTPM's evidence comes through tpm2-tss and IMDS: --cpu would be ignored there */
	if (vt.vo.tee && ao.cpu_method)
		return cct_cli_usage_error("gate: --cpu does not apply with --tee %s (its evidence "
					   "comes from the vTPM, not configfs-tsm or /dev/sev-guest)",
					   vt.vo.tee);
	/* nor does init-data: vTPM evidence has no field for it (a usage error, not a refusal) */
	if (vt.vo.tee && init)
		return cct_cli_usage_error("gate: --init-data does not apply with --tee %s (its "
					   "evidence carries no init-data field)", vt.vo.tee);
	if (cct_file_read(&b, &n, policy_file, CCT_POLICY_MAX_POLICY, &err) != CCT_OK ||
	    cct_policy_load(&pol, (const char *)b, n, &err) != CCT_OK) {
		cct_cli_usage_error("--policy %s: %s", policy_file, err.msg);
		goto out;
	}
	if (init) {
		if (cct_file_read(&ib, &n, init, 1u << 20, &err) != CCT_OK) {
			cct_cli_usage_error("--init-data: %s", err.msg);
			goto out;
		}
		/* TOML text: a NUL would cut it short, bytes that are not UTF-8 drop it */
		if (cct_cli_text_check("--init-data", init, ib, n))
			goto out;
		ao.init_data_toml = (const char *)ib;
	}
	rc = CCT_EXIT_REJECT;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 || !(nonce_b64 = cct_b64_encode(nonce, 32, 0)) ||
	    cct_token_signer_generate(&tee, &err) != CCT_OK) {
		fprintf(stderr, "cctrust gate: cannot make a nonce / TEE key\n");
		goto out;
	}
	jwk = cct_token_signer_jwk(tee);
	pub = json_pack("{s:s,s:s,s:s,s:O,s:O}", "kty", "EC", "crv", "P-256", "alg", "ECDH-ES+A256KW",
			"x", json_object_get(jwk, "x"), "y", json_object_get(jwk, "y"));
	ao.nonce_b64 = nonce_b64;
	ao.tee_pubkey = pub;
	rc = cct_cli_vtpm_collect(&body, &ao, &vt, &err);
	if (rc != CCT_OK) {
		rc = CCT_EXIT_REJECT;
		fprintf(stderr, "cctrust gate: REFUSED: cannot collect evidence: %s\n", err.msg);
		goto out;
	}
	rc = CCT_EXIT_REJECT;
	co.expected_nonce = nonce;
	co.expected_nonce_len = 32;
	if (cct_composite_verify(&r, (const uint8_t *)body, strlen(body), pol, &co, NULL) != CCT_OK) {
		json_t *f;
		size_t i;

		fprintf(stderr, "cctrust gate: REFUSED [%s/%s] %s\n", cct_stage_name(r.err.stage),
			cct_code_name(r.status), r.err.msg);
		json_array_foreach(json_object_get(r.result, "failures"), i, f)
			fprintf(stderr, "  rule %s: %s\n", json_string_value(json_object_get(f, "rule")),
				json_string_value(json_object_get(f, "message")));
		goto out;
	}
	/* the ready switch is system-wide: it is flipped only for the GPUs just attested, and a
	 * state that cannot be read is a failure, not "no GPUs" */
	if (!ao.no_gpu) {
		json_int_t attested = json_integer_value(json_object_get(r.result, "gpu_count"));

		if (cct_attester_gpu_state_get(&gs, &err) != CCT_OK) {
			fprintf(stderr, "cctrust gate: REFUSED: attested, but the GPUs' state cannot "
					"be read: %s\n", err.msg);
			goto out;
		}
		if ((json_int_t)gs.gpu_count != attested) {
			fprintf(stderr, "cctrust gate: REFUSED: %u GPU(s) present now, %lld attested\n",
				gs.gpu_count, (long long)attested);
			goto out;
		}
		if (gs.present && cct_attester_gpu_set_ready(1, &err) != CCT_OK) {
			fprintf(stderr, "cctrust gate: REFUSED: attested, but GPUs cannot be set "
					"ready: %s\n", err.msg);
			goto out;
		}
	}
	fprintf(stderr, "cctrust gate: attested (%s%s); starting %s\n",
		json_string_value(json_object_get(r.result, "tee")),
		json_is_true(json_object_get(r.result, "simulated")) ? ", SIMULATED" : "", argv[optind]);
	fflush(NULL);
	cct_composite_result_clear(&r);
	cct_policy_free(pol);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "cctrust gate: cannot exec %s: %s\n", argv[optind], strerror(errno));
	pol = NULL;
	rc = 127;
out:
	cct_composite_result_clear(&r);
	cct_policy_free(pol);
	cct_token_signer_free(tee);
	json_decref(jwk);
	json_decref(pub);
	free(nonce_b64);
	free(body);
	free(b);
	free(ib);
	return rc;
}
