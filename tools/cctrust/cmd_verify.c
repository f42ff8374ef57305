/* cctrust verify: KBS 0.4.0 attest requests (CPU + GPU evidence) against a policy, one at a
 * time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/composite.h"
#include "cctrust/token.h"
#include "cli.h"

static const char verify_usage[] =
	"usage: cctrust verify REQUEST.json... [--policy FILE] [--nonce B64] [--at RFC3339]\n"
	"                      [--collateral DIR] [--offline] [--certs PATH] [--no-crl]\n"
	"                      [--trust-sim DIR] [--tee snp|tdx|az-snp-vtpm|az-tdx-vtpm]\n"
	"                      [--signing-key PEM]\n"
	"                      [--skip-binding-insecure] [--json | --token] [--token-always]\n"
	"\n"
	"REQUEST.json is exactly the body of a KBS protocol 0.4.0 attest request (any number of\n"
	"them, - for standard input, or directories of them; one at a time, every option applies\n"
	"to each; with several, --json prints one object per line with its \"request\" path):\n"
	"  {\"runtime-data\":{\"nonce\",\"tee-pubkey\"},\"init-data\"?,\n"
	"   \"tee-evidence\":{\"primary_evidence\":{..},\"additional_evidence\":\"<GPU JSON>\"}}\n"
	"Checks: CPU evidence (SNP, TDX or an Azure paravisor vTPM), REPORT_DATA = SHA-384(JCS({additional-evidence,nonce,\n"
	"tee-pubkey})), init-data digest = HOST_DATA/MRCONFIGID, each NVIDIA GPU's evidence (SPDM\n"
	"signature, chain, OCSP, RIMs) and SPDM nonce, then the policy (docs/policy.md).\n"
	"  --collateral PATH AMD KDS cache; Intel QVL bundle / PCS dir / cache (PATH or PATH/tdx);\n"
	"                    NVIDIA RIMs and OCSP responses (PATH/nvidia/rims, PATH/nvidia/ocsp);\n"
	"                    or a collateral bundle (manifest.json / .tar, docs/collateral.md)\n"
	"  --offline         never use the network (missing collateral: rejected)\n"
	"  --policy FILE     cctrust policy (default: debug refused, VMPL 0, GPU CC mode on)\n"
	"  --nonce B64       the session nonce the request must carry (freshness)\n"
	"  --trust-sim DIR   accept the simulated TEE made by 'cctrust sim init DIR' (its SNP,\n"
	"                    TDX and GPU test roots are trusted; results marked)\n"
	"  --certs PATH      extra certificates / CRLs for the CPU chain\n"
	"  --no-crl          do not require revocation (CRLs, GPU OCSP; reported as insecure)\n"
	"  --skip-binding-insecure  do not check runtime-data binding (replaying captured\n"
	"                    evidence only; the result says binding: skipped)\n"
	"  --signing-key PEM EAR signing key (default: DIR/token.key with --trust-sim)\n"
	"  --json            the full result; --token: the signed EAR JWT only\n"
	"  --token-always    also print the token of a REJECTED result (its ear.status says so);\n"
	"                    by default a token is printed only when the result is affirming;\n"
	"                    with --json or --token\n"
	"exit: 0 all accepted, 1 any rejected, 2 usage error or unreadable input\n";

static int load_file(uint8_t **b, size_t *n, const char *path, size_t max, const char *what)
{
	cct_err err;

	if (cct_file_read(b, n, path, max, &err) != CCT_OK)
		return cct_cli_usage_error("%s: %s", what, err.msg);
	return 0;
}

static void print_human(const char *path, const cct_composite_result *r)
{
	const json_t *res = r->result, *f;
	size_t i;

	if (r->status == CCT_OK) {
		printf("%s: ACCEPTED %s%s, binding %s, nonce %s, policy \"%s\"\n", path,
		       json_string_value(json_object_get(res, "tee")),
		       json_is_true(json_object_get(res, "simulated")) ? " (SIMULATED TEE: test roots)"
								      : "",
		       json_string_value(json_object_get(res, "binding")),
		       json_string_value(json_object_get(res, "nonce")),
		       json_string_value(json_object_get(res, "policy_id")));
	} else {
		cct_cli_print_reject(path, r->status, &r->err);
	}
	json_array_foreach(json_object_get(res, "failures"), i, f) {
		char *e = json_dumps(json_object_get(f, "expected"), JSON_ENCODE_ANY | JSON_COMPACT);
		char *a = json_dumps(json_object_get(f, "actual"), JSON_ENCODE_ANY | JSON_COMPACT);

		printf("  rule %s: %s\n    expected %s\n    actual   %s\n",
		       json_string_value(json_object_get(f, "rule")),
		       json_string_value(json_object_get(f, "message")), e ? e : "?", a ? a : "?");
		free(e);
		free(a);
	}
	cct_cli_print_skipped(path, json_object_get(res, "checks_skipped"));
}

typedef struct verify_each {
	const cct_composite_opts *o;
	const cct_policy *pol;
	const cct_token_signer *signer;
	int json, token, token_always, multi, worst;
} verify_each;

/* one request (cct_inputs_each): verified, printed, forgotten */
static void verify_input(void *ctx, const char *path, int *stop)
{
	verify_each *e = ctx;
	cct_composite_result r;
	uint8_t *body = NULL;
	size_t n = 0;
	cct_err err;
	int code;

	(void)stop;
	memset(&r, 0, sizeof(r));
	if (cct_file_read(&body, &n, path, CCT_COMPOSITE_MAX_REQUEST, &err) != CCT_OK) {
		fprintf(stderr, "cctrust: %s: %s\n", path, err.msg);
		if (e->worst < CCT_EXIT_USAGE)
			e->worst = CCT_EXIT_USAGE;
		if (e->json) { /* one object per input, the unreadable ones too */
			json_t *res = json_object();

			if (e->multi)
				json_object_set_new(res, "request", cct_cli_json_text(path));
			json_object_set_new(res, "verified", json_false());
			json_object_set_new(res, "error",
					    cct_cli_error_json(err.code, &err));
			/* as a request refused before any stage: what the options turned off is
			 * still listed (the result never reads as if those checks had run) */
			{
				json_t *sk = json_array(), *ins = json_array();

				if (e->o->crl_check_off_insecure) {
					json_array_append_new(ins, json_string("no-crl"));
					json_array_append_new(sk, json_string("crl"));
				}
				if (e->o->skip_binding_insecure) {
					json_array_append_new(ins, json_string("skip-binding"));
					json_array_append_new(sk, json_string("binding"));
				}
				if (!e->o->expected_nonce) {
					json_array_append_new(ins, json_string("nonce-not-checked"));
					json_array_append_new(sk, json_string("nonce"));
				}
				json_object_set_new(res, "checks_skipped", sk);
				json_object_set_new(res, "insecure", ins);
			}
			json_object_set_new(res, "failures", json_array());
			cct_cli_print_json(res, e->multi);
		}
		return;
	}
	cct_composite_verify(&r, body, n, e->pol, e->o, e->signer);
	if (e->json) {
		json_t *res = json_deep_copy(r.result);

		if (e->multi)
			json_object_set_new(res, "request", cct_cli_json_text(path));
		/* a rejected result never carries a usable token unless asked (then its
		 * ear.status says it is not affirming) */
		if (r.token && (r.status == CCT_OK || e->token_always))
			json_object_set_new(res, "token", json_string(r.token));
		cct_cli_print_json(res, e->multi);
	} else if (e->token) {
		if (r.token && (r.status == CCT_OK || e->token_always))
			puts(r.token);
		if (r.status != CCT_OK)
			fprintf(stderr, "cctrust: %s: REJECTED [%s/%s] %s\n", path,
				cct_stage_name(r.err.stage), cct_code_name(r.status), r.err.msg);
	} else {
		print_human(path, &r);
	}
	code = cct_cli_exit_code(r.status);
	if (code > e->worst)
		e->worst = code;
	cct_composite_result_clear(&r);
	free(body);
}

int cct_cmd_verify(int argc, char **argv)
{
	enum { O_POLICY = 256, O_NONCE, O_AT, O_COLL, O_OFFLINE, O_CERTS, O_NOCRL, O_SIM, O_TEE,
	       O_KEY, O_SKIP, O_JSON, O_TOKEN, O_HELP, O_TOKEN_ALWAYS };
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, O_POLICY },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "at", required_argument, NULL, O_AT },
		{ "collateral", required_argument, NULL, O_COLL },
		{ "offline", no_argument, NULL, O_OFFLINE },
		{ "certs", required_argument, NULL, O_CERTS },
		{ "no-crl", no_argument, NULL, O_NOCRL },
		{ "trust-sim", required_argument, NULL, O_SIM },
		{ "tee", required_argument, NULL, O_TEE },
		{ "signing-key", required_argument, NULL, O_KEY },
		{ "skip-binding-insecure", no_argument, NULL, O_SKIP },
		{ "json", no_argument, NULL, O_JSON },
		{ "token", no_argument, NULL, O_TOKEN },
		{ "token-always", no_argument, NULL, O_TOKEN_ALWAYS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	cct_composite_opts o;
	cct_policy *pol = NULL;
	cct_token_signer *signer = NULL;
	const char *policy_file = NULL, *key_file = NULL, *nonce = NULL;
	uint8_t *nb = NULL, *b;
	size_t n = 0, nn = 0;
	int c, json = 0, token = 0, token_always = 0, rc = CCT_EXIT_USAGE;
	char keypath[4096];
	verify_each e;
	cct_err err;

	memset(&o, 0, sizeof(o));
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case O_HELP: fputs(verify_usage, stdout); return 0;
		case O_POLICY: policy_file = optarg; break;
		case O_NONCE: nonce = optarg; break;
		case O_AT:
			if (cct_cli_parse_time(&o.at, optarg) != 0)
				return CCT_EXIT_USAGE;
			break;
		case O_COLL: o.collateral_dir = optarg; break;
		case O_OFFLINE: o.offline = 1; break;
		case O_CERTS: o.certs_path = optarg; break;
		case O_NOCRL: o.crl_check_off_insecure = 1; break;
		case O_SIM: o.trust_sim_dir = optarg; break;
		case O_TEE:
			/* cctrust's names and Trustee's wire names of the same TEEs */
			if (strcmp(optarg, "snp") && strcmp(optarg, "tdx") &&
			    strcmp(optarg, "az-snp-vtpm") && strcmp(optarg, "az-tdx-vtpm") &&
			    strcmp(optarg, "azsnpvtpm") && strcmp(optarg, "aztdxvtpm"))
				return cct_cli_usage_error("--tee: snp, tdx, az-snp-vtpm (azsnpvtpm) or "
							   "az-tdx-vtpm (aztdxvtpm)");
			o.tee_hint = optarg;
			break;
		case O_KEY: key_file = optarg; break;
		case O_SKIP: o.skip_binding_insecure = 1; break;
		case O_JSON: json = 1; break;
		case O_TOKEN: token = 1; break;
		case O_TOKEN_ALWAYS: token_always = 1; break;
		default: fputs(verify_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(verify_usage, stderr);
		return cct_cli_usage_error("verify: a REQUEST.json (or -, or a directory) expected");
	}
	if (json && token)
		return cct_cli_usage_error("verify: --json and --token are exclusive");
	/* standard input can be read once: the requests would find it empty */
	for (c = optind; policy_file && !strcmp(policy_file, "-") && c < argc; c++)
		if (!strcmp(argv[c], "-"))
			return cct_cli_usage_error("verify: --policy - and the request - both name "
						   "standard input (it can be read once)");
	/* the text output carries no token: asking for the token of a rejected result there is
	 * refused, never accepted and ignored (--signing-key, a key to sign with, changes no
	 * verdict and stays accepted) */
	if (!json && !token && token_always)
		return cct_cli_usage_error("verify: --token-always does not apply to the text output "
					   "(it goes with --json or --token)");
	if (nonce) {
		if (cct_b64_decode(&nb, &nn, nonce, strlen(nonce), &err) != CCT_OK || !nn)
			return cct_cli_usage_error("--nonce: not base64");
		o.expected_nonce = nb;
		o.expected_nonce_len = nn;
	}
	if (policy_file) {
		if (load_file(&b, &n, policy_file, CCT_POLICY_MAX_POLICY, "--policy"))
			goto out;
		c = cct_policy_load(&pol, (const char *)b, n, &err);
		free(b);
		if (c != CCT_OK) {
			cct_cli_usage_error("--policy %s: %s", policy_file, err.msg);
			goto out;
		}
	} else if (cct_policy_default(&pol, &err) != CCT_OK) {
		cct_cli_usage_error("default policy: %s", err.msg);
		goto out;
	}
	if (!key_file && o.trust_sim_dir) {
		snprintf(keypath, sizeof(keypath), "%s/token.key", o.trust_sim_dir);
		key_file = keypath;
	}
	if (key_file) {
		if (load_file(&b, &n, key_file, 1u << 16,
			      key_file == keypath ? "--trust-sim (its token signing key)" : "--signing-key"))
			goto out;
		c = cct_token_signer_load_pem(&signer, b, n, &err);
		cct_wipe(b, n);
		free(b);
		if (c != CCT_OK) {
			cct_cli_usage_error("--signing-key %s: %s", key_file, err.msg);
			goto out;
		}
	} else if (token) {
		if (cct_token_signer_generate(&signer, &err) != CCT_OK)
			goto out;
		fprintf(stderr, "cctrust: no --signing-key: token signed with an ephemeral key "
				"(verify it with the JWK in its header only)\n");
	}
	/* one request at a time: memory stays flat however many inputs */
	memset(&e, 0, sizeof(e));
	e.o = &o;
	e.pol = pol;
	e.signer = signer;
	e.json = json;
	e.token = token;
	e.token_always = token_always;
	e.multi = cct_cli_inputs_many(argv + optind, argc - optind);
	if (cct_inputs_each(argv + optind, (size_t)(argc - optind), verify_input, &e, &err) !=
	    CCT_OK) {
		fprintf(stderr, "cctrust: %s\n", err.msg);
		e.worst = CCT_EXIT_USAGE;
		if (json && e.multi) { /* one object per input: the one that ended the run too */
			json_t *res = json_object();

			json_object_set_new(res, "verified", json_false());
			json_object_set_new(res, "error", cct_cli_error_json(err.code, &err));
			cct_cli_print_json(res, 1);
		}
	}
	rc = e.worst;
out:
	cct_token_signer_free(signer);
	cct_policy_free(pol);
	free(nb);
	return rc;
}
