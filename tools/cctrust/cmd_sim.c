/* cctrust sim: the simulated TEE for tests and demos (never trusted unless --trust-sim DIR). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cctrust/attester.h"
#include "cctrust/sim.h"
#include "cctrust/token.h"
#include "cli.h"

static const char sim_usage[] =
	"usage: cctrust sim init DIR [--force]   (--force: replace the roots of an existing one)\n"
	"       cctrust sim evidence DIR --tee snp|tdx|az-snp-vtpm|az-tdx-vtpm [--gpus N]\n"
	"                            --nonce B64 --tee-pubkey JWK_FILE\n"
	"                            [-o FILE] [--init-data TOML_FILE]\n"
	"                            [--form report|tsm|serde (snp) | quote|tsm (tdx)]\n"
	"                            [--gpu-cc-mode on|devtools|off] [--additional-evidence FILE]\n"
	"                            [--debug-guest] [--measurement HEX] [--ccel-data FILE]\n"
	"       cctrust sim report DIR --report-data HEX -o REPORT_FILE CERT_TABLE_FILE\n"
	"                                       raw report + GHCB table (fake-kernel helper)\n"
	"       cctrust sim td-report DIR --report-data HEX -o TDREPORT_FILE\n"
	"                                       a TD report (1024 bytes) of the simulated TD\n"
	"       cctrust sim td-quote DIR --td-report FILE -o QUOTE_FILE\n"
	"                                       the simulated quoting enclave: a TD quote over a\n"
	"                                       TD report (what Azure IMDS /acc/tdquote returns)\n"
	"       cctrust sim jwks DIR            the simulated verifier's token key set (JWKS)\n"
	"       cctrust sim tee-key [-o PRIVATE_PEM]   a fresh P-256 TEE key; prints its public JWK\n"
	"\n"
	"\n"
	"A simulated TEE: AMD-shaped SNP, Intel-shaped TDX (DCAP PKI + collateral) and NVIDIA-shaped\n"
	"GPU (device PKI, signed RIMs, OCSP) roots generated at run time, and evidence in the real\n"
	"formats bound to the request exactly as a real guest binds it: SNP REPORT_DATA / TDX\n"
	"REPORTDATA = SHA-384(JCS({additional-evidence,nonce,tee-pubkey})), HOST_DATA / MRCONFIGID =\n"
	"init-data digest, each GPU's SPDM nonce = SHA-384(JCS({nonce,tee-pubkey}))[0..32], the GPUs'\n"
	"CC mode recorded (--gpu-cc-mode, default on). --measurement sets the SNP MEASUREMENT or the\n"
	"TDX MRTD; --ccel-data sends a CCEL event log and sets RTMR0..3 to its replay (TDX).\n"
	"az-snp-vtpm / az-tdx-vtpm: Trustee v1 paravisor evidence: HCL report (runtime data with\n"
	"the simulated vTPM AK of DIR/vtpm/ak.key, SNP report or TD report over its SHA-256, and\n"
	"for TDX the TD quote made from that report), TPM quote over SHA-256 PCRs 0..23 with\n"
	"qualifying data = the 48-byte runtime-data hash; GPUs bound as for SNP/TDX.\n"
	"Verifiers accept it only with --trust-sim DIR, and mark such results \"simulated\".\n";

static int sim_init(int argc, char **argv)
{
	const char *dir = NULL;
	char marker[4096];
	struct stat st;
	int force = 0, i;
	cct_err err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = 1;
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else
			return cct_cli_usage_error("usage: cctrust sim init DIR [--force]");
	}
	if (!dir)
		return cct_cli_usage_error("usage: cctrust sim init DIR [--force]");
	/* new roots in a directory that holds a simulated TEE would silently invalidate every
	 * piece of evidence made with it, and change what a --trust-sim DIR user trusts */
	if (snprintf(marker, sizeof(marker), "%s/sim.json", dir) >= (int)sizeof(marker))
		return cct_cli_usage_error("sim init: the path is too long");
	if (!force && stat(marker, &st) == 0)
		return cct_cli_usage_error("sim init: %s already holds a simulated TEE (sim.json); "
					   "its roots would be replaced: remove it, or pass --force",
					   dir);
	/* what would stop it half-way is found before anything is written: a file where one of
	 * its directories goes, a directory where one of its files goes (it used to leave snp/ and
	 * tdx/ with fresh keys behind when gpu/ was a file) */
	{
		static const char *const subdirs[] = { "snp", "tdx", "gpu" };
		static const char *const files[] = { "token.key", "sim.json" };
		size_t i;

		if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
			return cct_cli_usage_error("sim init: %s is not a directory", dir);
		for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
			snprintf(marker, sizeof(marker), "%s/%s", dir, subdirs[i]);
			if (stat(marker, &st) == 0 && !S_ISDIR(st.st_mode))
				return cct_cli_usage_error("sim init: %s is not a directory (the "
							   "simulated TEE puts its %s platform there)",
							   marker, subdirs[i]);
		}
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(marker, sizeof(marker), "%s/%s", dir, files[i]);
			if (stat(marker, &st) == 0 && S_ISDIR(st.st_mode))
				return cct_cli_usage_error("sim init: %s is a directory (the simulated "
							   "TEE writes a file there)", marker);
		}
	}
	if (cct_sim_init(dir, &err) != CCT_OK)
		return cct_cli_usage_error("sim init: %s", err.msg);
	printf("simulated TEE created in %s (SNP and TDX platforms, 8 GPUs, verifier token key)\n",
	       dir);
	return 0;
}

/* 1 (after the message) when output file out is one of the inputs (NULL entries skipped): the
 * output would replace what it was made from */
static int output_over_input(const char *out_opt, const char *out, const char *const *in_opts,
			     const char *const *ins, size_t n)
{
	size_t i;

	for (i = 0; out && i < n; i++)
		if (ins[i] && strcmp(ins[i], "-") && cct_cli_same_output(out, ins[i])) {
			cct_cli_usage_error("%s %s is also %s: it would be overwritten", out_opt, out,
					    in_opts[i]);
			return 1;
		}
	return 0;
}

static char *read_text(const char *path, const char *what)
{
	uint8_t *b = NULL;
	size_t n = 0;
	cct_err err;

	if (cct_file_read(&b, &n, path, 4u << 20, &err) != CCT_OK) {
		cct_cli_usage_error("%s: %s", what, err.msg);
		return NULL;
	}
	/* read as a C string: a NUL would cut it short */
	if (cct_cli_text_check(what, path, b, n)) {
		free(b);
		return NULL;
	}
	return (char *)b;
}

static int sim_evidence(int argc, char **argv)
{
	enum { O_TEE = 256, O_GPUS, O_NONCE, O_PK, O_INIT, O_FORM, O_CC, O_ADD, O_DEBUG, O_MEAS,
	       O_CCEL };
	static const struct option opts[] = {
		{ "tee", required_argument, NULL, O_TEE },
		{ "gpus", required_argument, NULL, O_GPUS },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "tee-pubkey", required_argument, NULL, O_PK },
		{ "init-data", required_argument, NULL, O_INIT },
		{ "form", required_argument, NULL, O_FORM },
		{ "gpu-cc-mode", required_argument, NULL, O_CC },
		{ "additional-evidence", required_argument, NULL, O_ADD },
		{ "debug-guest", no_argument, NULL, O_DEBUG },
		{ "measurement", required_argument, NULL, O_MEAS },
		{ "ccel-data", required_argument, NULL, O_CCEL },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	cct_attester_opts ao;
	cct_sim_opts so;
	const char *pk_file = NULL, *init_file = NULL, *add_file = NULL, *outp = NULL;
	const char *ccel_file = NULL;
	char *init = NULL, *add = NULL, *body = NULL;
	uint8_t *ccel = NULL;
	uint8_t meas[48];
	json_t *pk = NULL;
	json_error_t je;
	cct_err err;
	int c, rc = CCT_EXIT_USAGE, gpus_given = 0;
	long num;

	memset(&ao, 0, sizeof(ao));
	memset(&so, 0, sizeof(so));
	so.tee = "snp";
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "o:", opts)) != -1) {
		switch (c) {
		case O_TEE: so.tee = optarg; break;
		case O_GPUS:
			if (cct_cli_parse_long(&num, "--gpus", optarg, 0, 16))
				return CCT_EXIT_USAGE;
			so.gpus = (int)num;
			gpus_given = 1;
			break;
		case O_NONCE: ao.nonce_b64 = optarg; break;
		case O_PK: pk_file = optarg; break;
		case O_INIT: init_file = optarg; break;
		case O_FORM: so.form = optarg; break;
		case O_CC: so.gpu_cc_mode = optarg; break;
		case O_ADD: add_file = optarg; break;
		case O_DEBUG: so.debug = 1; break;
		case O_CCEL: ccel_file = optarg; break;
		case O_MEAS:
			if (cct_hex_decode_fixed(meas, 48, optarg, &err) != CCT_OK)
				return cct_cli_usage_error("--measurement: 48 bytes of hex expected");
			so.measurement = meas;
			break;
		case 'o': outp = optarg; break;
		default:
			fputs(sim_usage, stderr);
			return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cct_cli_usage_error("sim evidence: exactly one DIR expected");
	if (strcmp(so.tee, "snp") && strcmp(so.tee, "tdx") && strcmp(so.tee, "az-snp-vtpm") &&
	    strcmp(so.tee, "az-tdx-vtpm"))
		return cct_cli_usage_error("--tee: snp, tdx, az-snp-vtpm or az-tdx-vtpm");
	if (so.gpus < 0 || so.gpus > CCT_ATTESTER_MAX_GPUS)
		return cct_cli_usage_error("--gpus: 0..%d", CCT_ATTESTER_MAX_GPUS);
	if (so.gpu_cc_mode && strcmp(so.gpu_cc_mode, "on") && strcmp(so.gpu_cc_mode, "devtools") &&
	    strcmp(so.gpu_cc_mode, "off"))
		return cct_cli_usage_error("--gpu-cc-mode: on, devtools or off");
	if (ccel_file && strcmp(so.tee, "tdx"))
		return cct_cli_usage_error("--ccel-data: TDX only");
	/* options that would change nothing are refused, never accepted and ignored */
	if (so.form && !strncmp(so.tee, "az-", 3))
		return cct_cli_usage_error("--form: snp and tdx evidence only (%s evidence has one "
					   "form)", so.tee);
	if (gpus_given && add_file)
		return cct_cli_usage_error("--gpus and --additional-evidence exclude each other (the "
					   "GPUs are those of the additional evidence)");
	if (so.gpu_cc_mode && !add_file && so.gpus == 0)
		return cct_cli_usage_error("--gpu-cc-mode: no GPUs to record it for (--gpus N or "
					   "--additional-evidence FILE)");
	{
		const char *in_opts[] = { "--tee-pubkey", "--init-data", "--additional-evidence",
					  "--ccel-data" };
		const char *ins[] = { pk_file, init_file, add_file, ccel_file };

		size_t i, stdins = 0;

		if (output_over_input("-o", outp, in_opts, ins, 4))
			return CCT_EXIT_USAGE;
		/* standard input can be read once: a second "-" would read it empty */
		for (i = 1; i < 4; i++)
			stdins += ins[i] && !strcmp(ins[i], "-");
		if (stdins > 1)
			return cct_cli_usage_error("sim evidence: standard input (-) given for %zu "
						   "options: it can be read once", stdins);
	}
	if (!ao.nonce_b64 || !pk_file)
		return cct_cli_usage_error("sim evidence: --nonce and --tee-pubkey are required");
	/* as 'evidence collect': what the verifier would refuse later is refused here */
	if (cct_cli_check_nonce_b64(ao.nonce_b64))
		return CCT_EXIT_USAGE;
	pk = json_load_file(pk_file, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(pk)) {
		json_decref(pk);
		return cct_cli_usage_error("--tee-pubkey %s: not a JWK JSON object (%s)", pk_file, je.text);
	}
	if (cct_cli_check_tee_pubkey(pk, pk_file)) {
		json_decref(pk);
		return CCT_EXIT_USAGE;
	}
	ao.tee_pubkey = pk;
	if (init_file && !(init = read_text(init_file, "--init-data")))
		goto out;
	if (add_file && !(add = read_text(add_file, "--additional-evidence")))
		goto out;
	if (ccel_file) {
		if (cct_file_read(&ccel, &so.ccel_len, ccel_file, 16u << 20, &err) != CCT_OK) {
			cct_cli_usage_error("--ccel-data: %s", err.msg);
			goto out;
		}
		so.ccel = ccel;
	}
	ao.init_data_toml = init;
	so.additional_evidence = add;
	if (cct_sim_evidence(&body, argv[optind], &ao, &so, &err) != CCT_OK) {
		cct_cli_usage_error("sim evidence: %s", err.msg);
		goto out;
	}
	if (outp) {
		if (cct_file_write(outp, body, strlen(body), 0, &err) != CCT_OK) {
			cct_cli_usage_error("-o: %s", err.msg);
			goto out;
		}
	} else {
		puts(body);
	}
	rc = 0;
out:
	free(init);
	free(add);
	free(body);
	free(ccel);
	json_decref(pk);
	return rc;
}

/* A raw report + certificate table over REPORT_DATA: the fake kernel side of the attester tests. */
static int sim_report(int argc, char **argv)
{
	uint8_t rd[64], *rep = NULL, *tab = NULL;
	size_t rn = 0, tn = 0;
	cct_err err;
	int rc = CCT_EXIT_USAGE;

	if (argc != 7 || strcmp(argv[2], "--report-data") || strcmp(argv[4], "-o"))
		return cct_cli_usage_error("usage: cctrust sim report DIR --report-data HEX128 -o "
					   "REPORT_FILE CERT_TABLE_FILE");
	if (cct_hex_decode_fixed(rd, 64, argv[3], &err) != CCT_OK)
		return cct_cli_usage_error("--report-data: 64 bytes of hex expected");
	/* one file for both: the table would replace the report */
	if (cct_cli_same_output(argv[5], argv[6]))
		return cct_cli_usage_error("sim report: REPORT_FILE and CERT_TABLE_FILE are the same "
					   "file (%s)", argv[6]);
	if (cct_sim_raw_report(&rep, &rn, &tab, &tn, argv[1], rd, &err) != CCT_OK ||
	    cct_file_write(argv[5], rep, rn, 0, &err) != CCT_OK) {
		cct_cli_usage_error("sim report: %s", err.msg);
	} else if (cct_file_write(argv[6], tab, tn, 0, &err) != CCT_OK) {
		/* a report without its table is not what was asked for: none is left behind */
		unlink(argv[5]);
		cct_cli_usage_error("sim report: %s", err.msg);
	} else {
		rc = 0;
	}
	free(rep);
	free(tab);
	return rc;
}

/* A TD report over REPORT_DATA: what the paravisor of an Azure TDX VM puts in its HCL report. */
static int sim_td_report(int argc, char **argv)
{
	uint8_t rd[64], rep[1024];
	cct_err err;

	if (argc != 6 || strcmp(argv[2], "--report-data") || strcmp(argv[4], "-o"))
		return cct_cli_usage_error("usage: cctrust sim td-report DIR --report-data HEX128 "
					   "-o TDREPORT_FILE");
	if (cct_hex_decode_fixed(rd, 64, argv[3], &err) != CCT_OK)
		return cct_cli_usage_error("--report-data: 64 bytes of hex expected");
	if (cct_sim_td_report(rep, argv[1], rd, &err) != CCT_OK ||
	    cct_file_write(argv[5], rep, sizeof(rep), 0, &err) != CCT_OK)
		return cct_cli_usage_error("sim td-report: %s", err.msg);
	return 0;
}

/* The quoting enclave: a TD quote over a TD report (the fake IMDS of the guest tests). */
static int sim_td_quote(int argc, char **argv)
{
	uint8_t *rep = NULL, *q = NULL;
	size_t rn = 0, qn = 0;
	cct_err err;
	int rc = 0;

	if (argc != 6 || strcmp(argv[2], "--td-report") || strcmp(argv[4], "-o"))
		return cct_cli_usage_error("usage: cctrust sim td-quote DIR --td-report FILE -o "
					   "QUOTE_FILE");
	if (strcmp(argv[3], "-") && cct_cli_same_output(argv[5], argv[3]))
		return cct_cli_usage_error("sim td-quote: -o %s is also --td-report: it would be "
					   "overwritten", argv[5]);
	if (cct_file_read(&rep, &rn, argv[3], 4096, &err) != CCT_OK ||
	    cct_sim_td_quote(&q, &qn, argv[1], rep, rn, &err) != CCT_OK ||
	    cct_file_write(argv[5], q, qn, 0, &err) != CCT_OK)
		rc = cct_cli_usage_error("sim td-quote: %s", err.msg);
	free(rep);
	free(q);
	return rc;
}

static int sim_jwks(int argc, char **argv)
{
	json_t *j = NULL;
	cct_err err;

	if (argc != 2)
		return cct_cli_usage_error("usage: cctrust sim jwks DIR");
	if (cct_sim_jwks(&j, argv[1], &err) != CCT_OK)
		return cct_cli_usage_error("sim jwks: %s", err.msg);
	cct_cli_print_json(j, 0);
	return 0;
}

/* A TEE key pair as a guest would make one: public JWK out, private PEM kept (optional). */
static int sim_tee_key(int argc, char **argv)
{
	cct_token_signer *k = NULL;
	json_t *jwk, *pub;
	cct_err err;
	char *pem;
	int rc = 0;

	if (cct_token_signer_generate(&k, &err) != CCT_OK)
		return cct_cli_usage_error("%s", err.msg);
	if (argc == 3 && !strcmp(argv[1], "-o")) {
		pem = cct_token_signer_pem(k);
		if (!pem)
			rc = cct_cli_usage_error("-o: out of memory encoding the private key");
		else if (cct_file_write(argv[2], pem, strlen(pem), 1, &err) != CCT_OK)
			rc = cct_cli_usage_error("-o: %s", err.msg); /* which file and why */
		if (pem) {
			cct_wipe(pem, strlen(pem));
			free(pem);
		}
	} else if (argc != 1) {
		rc = cct_cli_usage_error("usage: cctrust sim tee-key [-o PRIVATE_PEM]");
	}
	jwk = cct_token_signer_jwk(k);
	pub = json_pack("{s:s,s:s,s:s,s:O,s:O}", "kty", "EC", "crv", "P-256", "alg",
			"ECDH-ES+A256KW", "x", json_object_get(jwk, "x"), "y", json_object_get(jwk, "y"));
	json_decref(jwk);
	cct_token_signer_free(k);
	if (rc == 0)
		cct_cli_print_json(pub, 0);
	else
		json_decref(pub);
	return rc;
}

int cct_cmd_sim(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(sim_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : 0;
	}
	/* --help / -h after any subcommand: the one usage text covers them all */
	if (cct_cli_asks_help(argc, argv, 2)) {
		fputs(sim_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "init"))
		return sim_init(argc - 1, argv + 1);
	if (!strcmp(argv[1], "evidence"))
		return sim_evidence(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return sim_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "td-report"))
		return sim_td_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "td-quote"))
		return sim_td_quote(argc - 1, argv + 1);
	if (!strcmp(argv[1], "jwks"))
		return sim_jwks(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tee-key"))
		return sim_tee_key(argc - 1, argv + 1);
	fputs(sim_usage, stderr);
	return cct_cli_usage_error("sim: unknown subcommand '%s'", argv[1]);
}
