/* cctrust: one binary, subcommands per evidence area. */
#include <stdio.h>
#include <string.h>

#include "cctrust/common.h"
#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "snp", cct_cmd_snp, "AMD SEV-SNP reports: verify, show" },
	{ "tdx", cct_cmd_tdx, "Intel TDX DCAP quotes: verify, show, eventlog" },
	{ "vtpm", cct_cmd_vtpm, "Azure paravisor vTPM evidence (az-snp-vtpm): verify" },
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
		   "unreadable input\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CCT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("cctrust %s\n", cct_version());
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "cctrust: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CCT_EXIT_USAGE;
}
