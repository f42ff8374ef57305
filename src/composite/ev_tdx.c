/* Evidence module: Intel TDX primary evidence -> verified claims (src/tdx does the work).
 *
 * Accepted shapes of primary_evidence:
 *   {"quote": b64, "cc_eventlog": b64 | null}      (Trustee's TDX evidence; base64 or base64url)
 *   {"outblob": b64, "provider": "tdx_guest", "cc_eventlog"?: b64}   (configfs-tsm)
 * Collateral (TCB info, QE identity, CRLs), first that applies:
 *   1. in->collateral_dir is a file (QVL JSON bundle) or a PCS v4 directory (tcb_info.json);
 *   2. in->collateral_dir/tdx is one of those;
 *   3. --trust-sim DIR: DIR/tdx/collateral.json (with the simulated root);
 *   4. fetched from Intel PCS per FMSPC / PCK CA into the cache in->collateral_dir/tdx (or
 *      $CCT_CACHE_DIR, $XDG_CACHE_HOME/cctrust-tdx, ~/.cache/cctrust-tdx); in->offline uses
 *      the cache only (missing: ENETWORK).
 * The module verifies quote signature, QE report, PCK chain + CRLs, TCB info / QE identity and
 * replays the CCEL event log into RTMR0..3 when cc_eventlog is present; it applies NO
 * relying-party policy (TCB status, debug, reference values: rules.c, "tdx" section) and no
 * binding comparison (composite.c binds REPORTDATA and MRCONFIGID). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "cctrust/collateral.h"
#include "cctrust/tpm.h"
#include "sim/sim_tdx.h"
#include "composite/internal.h"

#define MAX_CCEL (16u << 20) /* named cap: the CCEL log area (real ones are 64 KiB .. 1 MiB) */

/* Claims: the library's TDX claims (what `cctrust tdx verify --json` prints, the names
 * docs/policy.md promises) plus the composite's own: quote_version and whether CCEL replayed. */
static json_t *tdx_claims(const cct_tdx_result *r, int ccel_checked)
{
	json_t *o = cct_tdx_claims(r);

	if (!o)
		return NULL;
	json_object_set_new(o, "quote_version", json_integer(r->quote.version));
	/* "replayed": RTMR0..3 from the log; "rtmr3-replayed": guest-components' placeholder
	 * header + agent log (no firmware log in the guest), RTMR3 only */
	json_object_set_new(o, "ccel", json_string(ccel_checked == 2 ? "rtmr3-replayed"
						   : ccel_checked ? "replayed" : "absent"));
	return o;
}

static int get_collateral(cct_tdx_collateral **out, const cct_ev_in *in, const cct_tdx_quote *q,
			  cct_err *err)
{
	cct_tdx_collateral_source src;
	int rc;

	*out = NULL;
	memset(&src, 0, sizeof(src));
	src.path = in->collateral_dir;
	src.offline = in->offline;
	src.at = in->at;
	src.bundle = in->collateral;
	if (in->trust_sim_dir && !in->collateral &&
	    !(in->collateral_dir && cct_tdx_collateral_is_local(in->collateral_dir))) {
		/* the simulator's own collateral, unless an explicit bundle was given */
		uint8_t *root = NULL;
		size_t rn = 0;

		rc = cct_sim_tdx_trust_load(&root, &rn, out, in->trust_sim_dir, err);
		free(root);
		return rc;
	}
	return cct_tdx_collateral_for_quote(out, &src, q, err);
}

/* Event-derived facts of a CCEL that replayed to the quote (tdx policy rules: secure_boot,
 * kernel_cmdline, boot_applications). The one event-log engine also checks that no hash-checked
 * event's data was changed behind an unchanged digest; a changed one is refused, named. */
static int ccel_facts(json_t *claims, const uint8_t *log, size_t ln, const cct_tdx_quote *q,
		      cct_err *err)
{
	cct_evlog ev;
	cct_tpm_pcrs want;
	char *js;
	json_t *o;
	int rc, i;

	rc = cct_evlog_parse(&ev, log, ln, CCT_EVLOG_CCEL, err);
	if (rc != CCT_OK)
		return rc;
	memset(&want, 0, sizeof(want));
	/* after guest-components' placeholder header only RTMR3 (the agent's events) is logged */
	for (i = ev.ccel_placeholder ? 3 : 0; i < 4; i++)
		cct_tpm_pcrs_set(&want, CCT_TPM_ALG_SHA384, (uint32_t)i, q->body.rtmr[i], 48, NULL);
	rc = cct_evlog_compare(&ev, &want, err);
	if (rc == CCT_OK) {
		js = cct_evlog_json(&ev, 0);
		o = js ? json_loads(js, 0, NULL) : NULL;
		free(js);
		if (o)
			json_object_set(claims, "eventlog", json_object_get(o, "facts"));
		json_decref(o);
	}
	cct_evlog_free(&ev);
	return rc;
}

int cct_composite__ev_tdx(cct_ev_out *out, const cct_ev_in *in, cct_err *err)
{
	cct_tdx_collateral *coll = NULL;
	cct_tdx_result *res = NULL;
	cct_tdx_quote q;
	cct_tdx_ccel ccel;
	uint8_t *quote = NULL, *log = NULL, *root = NULL;
	size_t qn = 0, ln = 0, rn = 0;
	const char *prov = json_string_value(json_object_get(in->evidence, "provider"));
	int rc = CCT_ERROR, tsm = json_object_get(in->evidence, "outblob") != NULL;

	memset(out, 0, sizeof(*out));
	memset(&ccel, 0, sizeof(ccel));
	if (in->cpu_form != CCT_CPU_TDX)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "not TDX evidence");
	if (tsm && (!prov || strncmp(prov, "tdx", 3)))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "configfs-tsm provider \"%.30s\" is not TDX", prov ? prov : "");
	rc = cct_composite__b64_member(&quote, &qn, in->evidence, tsm ? "outblob" : "quote",
				       CCT_TDX_MAX_QUOTE, 1,
			err);
	if (rc == CCT_OK)
		rc = cct_composite__b64_member(&log, &ln, in->evidence, "cc_eventlog", MAX_CCEL, 0,
					       err);
	if (rc != CCT_OK)
		goto out;
	rc = cct_tdx_quote_parse(&q, quote, qn, err);
	if (rc != CCT_OK)
		goto out;
	rc = get_collateral(&coll, in, &q, err);
	if (rc != CCT_OK) {
		if (err->stage == CCT_STAGE_NONE || err->stage == CCT_STAGE_INPUT)
			err->stage = CCT_STAGE_COLLATERAL;
		goto out;
	}
	if (in->trust_sim_dir &&
	    (rc = cct_sim_tdx_trust_load(&root, &rn, NULL, in->trust_sim_dir, err)) != CCT_OK)
		goto out;
	/* crypto + TCB evaluation only: every status and debug pass here, rules.c decides */
	rc = cct_tdx_verify_unappraised(&res, quote, qn, in->at, coll, root, rn, err);
	if (rc != CCT_OK)
		goto out;
	if (log) { /* CCEL: the log must replay to the quote's RTMR0..3 */
		rc = cct_tdx_ccel_parse(&ccel, NULL, 0, log, ln, err);
		if (rc == CCT_OK)
			rc = cct_tdx_ccel_check(&ccel, &res->quote, err);
		if (rc != CCT_OK) {
			if (rc != CCT_EMEASUREMENT) {
				char m[CCT_ERR_MSG_SIZE];

				snprintf(m, sizeof(m), "cc_eventlog: %.200s", err->msg);
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_MEASUREMENT, err->offset,
						 "%s", m);
			}
			goto out;
		}
	}
	out->claims = tdx_claims(res, !log ? 0 : ccel.aael_only ? 2 : 1);
	if (!out->claims) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (log && (rc = ccel_facts(out->claims, log, ln, &res->quote, err)) != CCT_OK)
		goto out;
	memcpy(out->bound, res->quote.body.report_data, 64);
	out->bound_len = 64;
	memcpy(out->init_field, res->quote.body.mrconfigid, 48);
	out->init_field_len = 48;
	out->simulated = res->simulated;
	out->crl_checked = res->revocation_checked;
	out->debug = res->debug;
	rc = CCT_OK;
out:
	cct_tdx_ccel_free(&ccel);
	cct_tdx_collateral_free(coll);
	free(res);
	free(quote);
	free(log);
	free(root);
	return rc;
}
