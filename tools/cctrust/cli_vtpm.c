/* The guest commands' paravisor vTPM options: one parser, one set of defaults, one choice
 * between vTPM and direct collection (cli_vtpm.h). */
#include <string.h>

#include "cli.h"
#include "cli_vtpm.h"

void cct_cli_vtpm_init(cct_cli_vtpm *v)
{
	memset(v, 0, sizeof(*v));
}

int cct_cli_vtpm_option(cct_cli_vtpm *v, int c, const char *arg)
{
	switch (c) {
	case CCT_CLI_O_TEE: v->tee = arg; return 1;
	case CCT_CLI_O_TCTI: v->vo.tcti = arg; break;
	case CCT_CLI_O_VCEK: v->vo.vcek_path = arg; break;
	case CCT_CLI_O_IMDS: v->vo.imds_url = arg; break;
	case CCT_CLI_O_EVLOG: v->event_log = arg; break;
	default: return 0;
	}
	v->device_opts = 1;
	return 1;
}

const char *cct_cli_vtpm_tee(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "az-snp-vtpm") || !strcmp(name, "azsnpvtpm"))
		return "az-snp-vtpm";
	if (!strcmp(name, "az-tdx-vtpm") || !strcmp(name, "aztdxvtpm"))
		return "az-tdx-vtpm";
	return NULL;
}

int cct_cli_vtpm_finish(cct_cli_vtpm *v, int other_tee_ok)
{
	v->vo.tee = cct_cli_vtpm_tee(v->tee);
	if (v->tee && !v->vo.tee && !other_tee_ok)
		return cct_cli_usage_error("--tee: az-snp-vtpm or az-tdx-vtpm (SNP and TDX are "
					   "detected)");
	if (v->device_opts && !v->vo.tee)
		return cct_cli_usage_error("--tcti, --vcek, --imds and --event-log go with --tee "
					   "az-snp-vtpm|az-tdx-vtpm");
	if (v->vo.vcek_path && !strcmp(v->vo.tee, "az-tdx-vtpm"))
		return cct_cli_usage_error("--vcek: az-snp-vtpm only (az-tdx-vtpm gets its TD "
					   "quote from IMDS)");
	/* an explicit FILE must be readable (collection fails on it); the default only when it is
	 * there: machines without the kernel's log still collect, without one */
	if (v->event_log)
		v->vo.event_log_path = strcmp(v->event_log, "none") ? v->event_log : NULL;
	else if (v->vo.tee)
		v->vo.event_log_path = cct_attester_event_log_default();
	return 0;
}

int cct_cli_vtpm_collect(char **body, const cct_attester_opts *ao, const cct_cli_vtpm *v,
			 cct_err *err)
{
	if (v && v->vo.tee)
		return cct_attester_collect_vtpm_ex(body, ao, &v->vo, err);
	return cct_attester_collect(body, ao, err);
}
