/* The paravisor vTPM options of the guest commands (evidence collect, gate, kbs get-resource),
 * defined once: --tee az-snp-vtpm|az-tdx-vtpm, --tcti CONF, --vcek FILE, --imds URL,
 * --event-log FILE|none, their defaults and checks, and the one choice between vTPM collection
 * and this machine's TEE (configfs-tsm, /dev/sev-guest, /dev/tdx_guest). */
#ifndef CCT_CLI_VTPM_H
#define CCT_CLI_VTPM_H

#include <getopt.h>

#include "cctrust/attester.h"

/* getopt_long values of the options below (above any command's own). */
enum {
	CCT_CLI_O_TEE = 0x4000,
	CCT_CLI_O_TCTI,
	CCT_CLI_O_VCEK,
	CCT_CLI_O_IMDS,
	CCT_CLI_O_EVLOG,
};

/* Put in a command's struct option array; its getopt loop hands every value to
 * cct_cli_vtpm_option first. */
#define CCT_CLI_VTPM_OPTIONS                                             \
	{ "tee", required_argument, NULL, CCT_CLI_O_TEE },               \
	{ "tcti", required_argument, NULL, CCT_CLI_O_TCTI },             \
	{ "vcek", required_argument, NULL, CCT_CLI_O_VCEK },             \
	{ "imds", required_argument, NULL, CCT_CLI_O_IMDS },             \
	{ "event-log", required_argument, NULL, CCT_CLI_O_EVLOG }

/* The --help lines every guest command prints for them (after its own usage lines). */
#define CCT_CLI_VTPM_HELP                                                                      \
	"--tee az-snp-vtpm|az-tdx-vtpm: Azure paravisor vTPM evidence through tpm2-tss (HCL\n"  \
	"report from NV index 0x01400001, TPM quote over SHA-256 PCRs 0-23 with the AK at\n"    \
	"0x81000003, qualifyingData = SHA-384(JCS({additional-evidence, nonce, tee-pubkey})),\n" \
	"GPUs from NVML as with SNP/TDX); --tcti CONF: tpm2-tss TCTI (default its own, e.g.\n"  \
	"device:/dev/tpmrm0); az-tdx-vtpm: the TD quote of the HCL report's TD report from\n"    \
	"Azure IMDS (POST /acc/tdquote); az-snp-vtpm: --vcek FILE (PEM/DER), else the VCEK from\n" \
	"IMDS THIM (GET /metadata/THIM/amd/certification); --imds URL: the IMDS base (default\n" \
	"$" CCT_ATTESTER_IMDS_ENV ", else http://169.254.169.254); --event-log FILE|none: the TCG\n" \
	"event log sent with it (default " CCT_ATTESTER_EVENT_LOG "\n"                              \
	"when readable, else no log; $" CCT_ATTESTER_EVENT_LOG_ENV " overrides that path; none: no\n" \
	"log). --tcti, --vcek, --imds and --event-log need a vTPM --tee.\n"

typedef struct cct_cli_vtpm {
	const char *tee;            /* --tee as given (NULL: not given) */
	const char *event_log;      /* --event-log as given (NULL: the default) */
	int device_opts;            /* --tcti, --vcek, --imds or --event-log given */
	cct_attester_vtpm_opts vo;  /* after cct_cli_vtpm_finish; vo.tee NULL: no vTPM */
} cct_cli_vtpm;

void cct_cli_vtpm_init(cct_cli_vtpm *v);
/* 1 when getopt value c is one of CCT_CLI_VTPM_OPTIONS (arg stored), else 0. */
int cct_cli_vtpm_option(cct_cli_vtpm *v, int c, const char *arg);
/* "az-snp-vtpm" / "az-tdx-vtpm" for either spelling (the CLI's or kbs-types' "azsnpvtpm" /
 * "aztdxvtpm"), else NULL. */
const char *cct_cli_vtpm_tee(const char *name);
/* After parsing: the checks and defaults, the same for every guest command. --tee must name a
 * vTPM unless other_tee_ok (kbs: the session's snp/tdx); --tcti/--vcek/--imds/--event-log need
 * a vTPM --tee; --vcek is az-snp-vtpm's. Fills v->vo: the event log is --event-log FILE,
 * nothing for "none", else cct_attester_event_log_default() (no log when it is not readable);
 * the IMDS base --imds, else the library's ($CCT_IMDS_URL, else the link-local address).
 * 0, or CCT_EXIT_USAGE after printing why. */
int cct_cli_vtpm_finish(cct_cli_vtpm *v, int other_tee_ok);
/* The attest request body for ao: the paravisor vTPM's when v->vo.tee is set, else this
 * machine's TEE. A library status (err filled). */
int cct_cli_vtpm_collect(char **body, const cct_attester_opts *ao, const cct_cli_vtpm *v,
			 cct_err *err);

#endif
