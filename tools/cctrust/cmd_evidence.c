/* cctrust evidence collect: build the KBS 0.4.0 attest request body inside a confidential VM. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cctrust/attester.h"
#include "cli.h"

static const char evidence_usage[] =
	"usage: cctrust evidence collect --nonce B64 --tee-pubkey JWK_FILE|JSON [-o FILE]\n"
	"                                [--init-data TOML_FILE] [--cpu auto|tsm|sev-guest]\n"
	"                                [--no-gpu] [--tee az-snp-vtpm|az-tdx-vtpm [--tcti CONF]\n"
	"                                [--vcek FILE] [--imds URL] [--event-log FILE|none]]\n"
	"CPU evidence from configfs-tsm (/sys/kernel/config/tsm/report) or /dev/sev-guest; GPU\n"
	"evidence from NVML (libnvidia-ml.so.1, loaded at run time) with each GPU's CC mode.\n"
	"REPORT_DATA = SHA-384(JCS({additional-evidence, nonce, tee-pubkey})) as Trustee expects.\n"
	"--tee az-snp-vtpm|az-tdx-vtpm: Azure paravisor vTPM evidence through tpm2-tss instead\n"
	"(HCL report from NV index 0x01400001, TPM quote over SHA-256 PCRs 0-23 with the AK at\n"
	"0x81000003, qualifyingData = SHA-384(JCS({additional-evidence, nonce, tee-pubkey})), GPUs\n"
	"as above); --tcti: tpm2-tss TCTI (default its own, e.g. device:/dev/tpmrm0);\n"
	"az-tdx-vtpm: the TD quote of the HCL report's TD report from Azure IMDS\n"
	"(POST /acc/tdquote); az-snp-vtpm: --vcek FILE (PEM/DER), else the VCEK from IMDS THIM\n"
	"(GET /metadata/THIM/amd/certification); --imds URL: the IMDS base (default\n"
	"$CCT_IMDS_URL, else http://169.254.169.254); --event-log: the TCG event log sent with\n"
	"it (default /sys/kernel/security/tpm0/binary_bios_measurements when readable; none: no\n"
	"log).\n";

json_t *cct_cli__load_jwk(const char *arg);

json_t *cct_cli__load_jwk(const char *arg)
{
	json_error_t je;
	json_t *j = arg[0] == '{' ? json_loads(arg, JSON_REJECT_DUPLICATES, &je)
				  : json_load_file(arg, JSON_REJECT_DUPLICATES, &je);

	if (!json_is_object(j)) {
		json_decref(j);
		cct_cli_usage_error("--tee-pubkey: not a JWK JSON object (%s)", je.text);
		return NULL;
	}
	return j;
}

int cct_cmd_evidence(int argc, char **argv)
{
	enum { O_NONCE = 256, O_PK, O_INIT, O_CPU, O_NOGPU, O_TEE, O_TCTI, O_VCEK, O_LOG, O_IMDS };
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "tee-pubkey", required_argument, NULL, O_PK },
		{ "init-data", required_argument, NULL, O_INIT },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "no-gpu", no_argument, NULL, O_NOGPU },
		{ "tee", required_argument, NULL, O_TEE },
		{ "tcti", required_argument, NULL, O_TCTI },
		{ "vcek", required_argument, NULL, O_VCEK },
		{ "event-log", required_argument, NULL, O_LOG },
		{ "imds", required_argument, NULL, O_IMDS },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	cct_attester_opts o;
	const char *pk = NULL, *init = NULL, *outp = NULL, *tee = NULL, *tcti = NULL, *vcek = NULL,
		   *imds = NULL,
		   *evlog = "/sys/kernel/security/tpm0/binary_bios_measurements";
	int evlog_given = 0;
	uint8_t *ib = NULL;
	size_t in = 0;
	json_t *jwk = NULL;
	char *body = NULL;
	cct_err err;
	int c, rc = CCT_EXIT_USAGE;

	if (argc < 2 || strcmp(argv[1], "collect")) {
		fputs(evidence_usage, argc < 2 ? stderr : stdout);
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : CCT_EXIT_USAGE;
	}
	argc--;
	argv++;
	memset(&o, 0, sizeof(o));
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "o:", opts)) != -1) {
		switch (c) {
		case O_NONCE: o.nonce_b64 = optarg; break;
		case O_PK: pk = optarg; break;
		case O_INIT: init = optarg; break;
		case O_CPU: o.cpu_method = optarg; break;
		case O_NOGPU: o.no_gpu = 1; break;
		case O_TEE: tee = optarg; break;
		case O_TCTI: tcti = optarg; break;
		case O_VCEK: vcek = optarg; break;
		case O_LOG: evlog = optarg; evlog_given = 1; break;
		case O_IMDS: imds = optarg; break;
		case 'o': outp = optarg; break;
		default: fputs(evidence_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (tee && strcmp(tee, "az-snp-vtpm") && strcmp(tee, "az-tdx-vtpm"))
		return cct_cli_usage_error("--tee: az-snp-vtpm or az-tdx-vtpm (SNP and TDX are "
					   "detected)");
	if ((tcti || vcek || evlog_given || imds) && !tee)
		return cct_cli_usage_error("--tcti, --vcek, --imds and --event-log go with --tee "
					   "az-snp-vtpm|az-tdx-vtpm");
	if (vcek && !strcmp(tee, "az-tdx-vtpm"))
		return cct_cli_usage_error("--vcek: az-snp-vtpm only");
	if (!strcmp(evlog, "none") || (!evlog_given && access(evlog, R_OK) != 0))
		evlog = NULL;
	if (!o.nonce_b64 || !pk)
		return cct_cli_usage_error("evidence collect: --nonce and --tee-pubkey are required");
	if (!(jwk = cct_cli__load_jwk(pk)))
		return CCT_EXIT_USAGE;
	o.tee_pubkey = jwk;
	if (init) {
		if (cct_file_read(&ib, &in, init, 1u << 20, &err) != CCT_OK) {
			cct_cli_usage_error("--init-data: %s", err.msg);
			goto out;
		}
		o.init_data_toml = (const char *)ib;
	}
	if (tee) {
		cct_attester_vtpm_opts vo;

		memset(&vo, 0, sizeof(vo));
		vo.tee = tee;
		vo.tcti = tcti;
		vo.vcek_path = vcek;
		vo.event_log_path = evlog;
		vo.imds_url = imds;
		rc = cct_attester_collect_vtpm_ex(&body, &o, &vo, &err) != CCT_OK;
	} else {
		rc = cct_attester_collect(&body, &o, &err) != CCT_OK;
	}
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
	if (!outp)
		puts(body);
	rc = 0;
out:
	free(body);
	free(ib);
	json_decref(jwk);
	return rc;
}
