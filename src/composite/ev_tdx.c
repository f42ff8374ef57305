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
#include "sim/sim_tdx.h"
#include "composite/internal.h"

#define MAX_CCEL (16u << 20) /* named cap: the CCEL log area (real ones are 64 KiB .. 1 MiB) */

static int b64_member(uint8_t **out, size_t *n, const json_t *o, const char *name, size_t max,
		      int required, cct_err *err)
{
	const json_t *v = json_object_get(o, name);
	const char *s;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "primary_evidence.%s: missing", name);
		return CCT_OK;
	}
	s = json_string_value(v);
	if (!s)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "primary_evidence.%s: not a base64 string", name);
	if (json_string_length(v) > (size_t)max / 3 * 4 + 4)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "primary_evidence.%s: larger than %zu bytes", name, max);
	if (cct_b64_decode(out, n, s, json_string_length(v), NULL) != CCT_OK)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "primary_evidence.%s: not base64", name);
	return CCT_OK;
}

static void hexm(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char buf[129];

	cct_hex_encode(buf, p, n);
	json_object_set_new(o, k, json_string(buf));
}

/* Claims: the names docs/policy.md promises (rules.c reads them), as `cctrust tdx verify`. */
static json_t *tdx_claims(const cct_tdx_result *r, int ccel_checked)
{
	const cct_tdx_td_report *b = &r->quote.body;
	json_t *o = json_object(), *adv = json_array();
	char k[8], t[32];
	size_t i;

	json_object_set_new(o, "quote_version", json_integer(r->quote.version));
	json_object_set_new(o, "body_type", json_integer(r->quote.body_type));
	hexm(o, "tee_tcb_svn", b->tee_tcb_svn, 16);
	hexm(o, "mrseam", b->mrseam, 48);
	hexm(o, "mrsignerseam", b->mrsignerseam, 48);
	hexm(o, "seam_attributes", b->seam_attributes, 8);
	hexm(o, "td_attributes", b->td_attributes, 8);
	hexm(o, "xfam", b->xfam, 8);
	hexm(o, "mrtd", b->mrtd, 48);
	hexm(o, "mrconfigid", b->mrconfigid, 48);
	hexm(o, "mrowner", b->mrowner, 48);
	hexm(o, "mrownerconfig", b->mrownerconfig, 48);
	for (i = 0; i < 4; i++) {
		snprintf(k, sizeof(k), "rtmr%zu", i);
		hexm(o, k, b->rtmr[i], 48);
	}
	hexm(o, "report_data", b->report_data, 64);
	if (r->quote.body_type == 3) {
		hexm(o, "tee_tcb_svn2", b->tee_tcb_svn2, 16);
		hexm(o, "mrservicetd", b->mrservicetd, 48);
	}
	json_object_set_new(o, "debug", json_boolean(r->debug));
	json_object_set_new(o, "simulated", json_boolean(r->simulated));
	hexm(o, "fmspc", r->fmspc, 6);
	hexm(o, "pceid", r->pceid, 2);
	json_object_set_new(o, "pcesvn", json_integer(r->pcesvn));
	hexm(o, "cpusvn", r->cpusvn, 16);
	json_object_set_new(o, "pck_ca", json_string(r->pck_ca));
	json_object_set_new(o, "revocation_checked", json_boolean(r->revocation_checked));
	json_object_set_new(o, "tcb_status", json_string(cct_tdx_tcb_status_name(r->tcb_status)));
	json_object_set_new(o, "platform_tcb_status",
			    json_string(cct_tdx_tcb_status_name(r->platform_tcb_status)));
	json_object_set_new(o, "tcb_date", json_string(r->tcb_date));
	for (i = 0; i < r->advisory_count; i++)
		json_array_append_new(adv, json_string(r->advisory_ids[i]));
	json_object_set_new(o, "advisory_ids", adv);
	json_object_set_new(o, "qe_tcb_status", json_string(cct_tdx_tcb_status_name(r->qe_tcb_status)));
	if (r->tdx_module_id[0])
		json_object_set_new(o, "tdx_module",
				    json_pack("{s:s,s:i,s:s}", "id", r->tdx_module_id, "isvsvn",
					      (int)b->tee_tcb_svn[0], "tcb_status",
					      cct_tdx_tcb_status_name(r->tdx_module_status)));
	if (r->collateral_expires) {
		cct_time_format(t, sizeof(t), r->collateral_expires);
		json_object_set_new(o, "collateral_next_update", json_string(t));
	}
	json_object_set_new(o, "ccel", json_string(ccel_checked ? "replayed" : "absent"));
	return o;
}

static int is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A bundle file or a PCS v4 directory: load it. 1 loaded, 0 not one of those, <0 error. */
static int try_load(cct_tdx_collateral **out, const char *path, cct_err *err)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/tcb_info.json", path);
	if (!is_file(path) && !is_file(p))
		return 0;
	return cct_tdx_collateral_load(out, path, err) == CCT_OK ? 1 : err->code;
}

static int get_collateral(cct_tdx_collateral **out, const cct_ev_in *in, const cct_tdx_quote *q,
			  cct_err *err)
{
	char sub[4096], cache[4096], fmspc[13], ca[16];
	const char *x = getenv("CCT_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	int rc;

	*out = NULL;
	if (in->collateral_dir) {
		if ((rc = try_load(out, in->collateral_dir, err)) != 0)
			return rc == 1 ? CCT_OK : rc;
		snprintf(sub, sizeof(sub), "%s/tdx", in->collateral_dir);
		if ((rc = try_load(out, sub, err)) != 0)
			return rc == 1 ? CCT_OK : rc;
	}
	if (in->trust_sim_dir) {
		uint8_t *root = NULL;
		size_t rn = 0;

		rc = cct_sim_tdx_trust_load(&root, &rn, out, in->trust_sim_dir, err);
		free(root);
		return rc;
	}
	rc = cct_tdx_quote_pck_info(q, fmspc, ca, err);
	if (rc != CCT_OK)
		return rc;
	if (in->collateral_dir)
		snprintf(cache, sizeof(cache), "%s/tdx", in->collateral_dir);
	else if (x && *x)
		snprintf(cache, sizeof(cache), "%s", x);
	else if (xdg && *xdg)
		snprintf(cache, sizeof(cache), "%s/cctrust-tdx", xdg);
	else
		snprintf(cache, sizeof(cache), "%s/.cache/cctrust-tdx", home ? home : "/tmp");
	if (in->collateral_dir && !is_dir(in->collateral_dir))
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "--collateral %s: not a QVL bundle, a PCS directory or a cache "
				   "directory", in->collateral_dir);
	return cct_tdx_collateral_fetch(out, NULL, fmspc, ca, cache, in->offline, in->at, err);
}

int cct_composite__ev_tdx(cct_ev_out *out, const cct_ev_in *in, cct_err *err)
{
	cct_tdx_collateral *coll = NULL;
	cct_tdx_verify_opts vo;
	cct_tdx_policy pol;
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
	rc = b64_member(&quote, &qn, in->evidence, tsm ? "outblob" : "quote", CCT_TDX_MAX_QUOTE, 1,
			err);
	if (rc == CCT_OK)
		rc = b64_member(&log, &ln, in->evidence, "cc_eventlog", MAX_CCEL, 0, err);
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
	memset(&pol, 0, sizeof(pol));
	pol.accept_tcb = ((1u << CCT_TDX_TCB_COUNT) - 1) & ~1u;
	pol.allow_debug_insecure = 1;
	memset(&vo, 0, sizeof(vo));
	vo.at = in->at;
	vo.collateral = coll;
	vo.policy = &pol;
	vo.trust_root_pem.p = root;
	vo.trust_root_pem.size = rn;
	res = calloc(1, sizeof(*res));
	if (!res) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	rc = cct_tdx_verify(res, quote, qn, &vo, err);
	if (rc != CCT_OK)
		goto out;
	if (!res->tcb_evaluated || !res->revocation_checked) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "TDX TCB or revocation not evaluated (fail closed)");
		goto out;
	}
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
	out->claims = tdx_claims(res, log != NULL);
	if (!out->claims) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
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
