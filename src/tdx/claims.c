/* TDX claims as JSON with stable names (docs/tdx.md): what `cctrust tdx verify --json` prints
 * and what the composite verifier and the policy (`tdx` section) read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/tdx.h"

static void json_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char buf[129];

	if (n > 64)
		n = 64;
	cct_hex_encode(buf, p, n);
	json_object_set_new(o, k, json_string(buf));
}

json_t *cct_tdx_body_json(const cct_tdx_quote *q)
{
	const cct_tdx_td_report *b = &q->body;
	json_t *o = json_object();
	char k[8];
	int i;

	json_object_set_new(o, "version", json_integer(q->version));
	json_object_set_new(o, "body_type", json_integer(q->body_type));
	json_hex(o, "tee_tcb_svn", b->tee_tcb_svn, 16);
	json_hex(o, "mrseam", b->mrseam, 48);
	json_hex(o, "mrsignerseam", b->mrsignerseam, 48);
	json_hex(o, "seam_attributes", b->seam_attributes, 8);
	json_hex(o, "td_attributes", b->td_attributes, 8);
	json_hex(o, "xfam", b->xfam, 8);
	json_hex(o, "mrtd", b->mrtd, 48);
	json_hex(o, "mrconfigid", b->mrconfigid, 48);
	json_hex(o, "mrowner", b->mrowner, 48);
	json_hex(o, "mrownerconfig", b->mrownerconfig, 48);
	for (i = 0; i < 4; i++) {
		snprintf(k, sizeof(k), "rtmr%d", i);
		json_hex(o, k, b->rtmr[i], 48);
	}
	json_hex(o, "report_data", b->report_data, 64);
	if (q->body_type == 3) {
		json_hex(o, "tee_tcb_svn2", b->tee_tcb_svn2, 16);
		json_hex(o, "mrservicetd", b->mrservicetd, 48);
	}
	return o;
}

json_t *cct_tdx_claims(const cct_tdx_result *r)
{
	json_t *o = cct_tdx_body_json(&r->quote), *adv = json_array();
	size_t i;

	json_object_set_new(o, "debug", json_boolean(r->debug));
	json_object_set_new(o, "simulated", json_boolean(r->simulated));
	if (r->signature_ok) {
		json_hex(o, "fmspc", r->fmspc, 6);
		json_hex(o, "pceid", r->pceid, 2);
		json_object_set_new(o, "pcesvn", json_integer(r->pcesvn));
		json_hex(o, "cpusvn", r->cpusvn, 16);
		json_object_set_new(o, "pck_ca", json_string(r->pck_ca));
	}
	json_object_set_new(o, "tcb_evaluated", json_boolean(r->tcb_evaluated));
	json_object_set_new(o, "revocation_checked", json_boolean(r->revocation_checked));
	if (r->tcb_evaluated) {
		json_object_set_new(o, "tcb_status",
				    json_string(cct_tdx_tcb_status_name(r->tcb_status)));
		json_object_set_new(o, "platform_tcb_status",
				    json_string(cct_tdx_tcb_status_name(r->platform_tcb_status)));
		json_object_set_new(o, "tcb_date", json_string(r->tcb_date));
		for (i = 0; i < r->advisory_count; i++)
			json_array_append_new(adv, json_string(r->advisory_ids[i]));
		json_object_set_new(o, "advisory_ids", adv);
		json_object_set_new(o, "qe_tcb_status",
				    json_string(cct_tdx_tcb_status_name(r->qe_tcb_status)));
		if (r->tdx_module_id[0]) {
			json_t *m = json_object();

			json_object_set_new(m, "id", json_string(r->tdx_module_id));
			json_object_set_new(m, "isvsvn", json_integer(r->quote.body.tee_tcb_svn[0]));
			json_object_set_new(
				m, "tcb_status",
				json_string(cct_tdx_tcb_status_name(r->tdx_module_status)));
			json_object_set_new(o, "tdx_module", m);
		}
		if (r->collateral_expires) {
			char t[32];

			cct_time_format(t, sizeof(t), r->collateral_expires);
			json_object_set_new(o, "collateral_next_update", json_string(t));
		}
	} else {
		json_decref(adv);
		json_object_set_new(o, "tcb_status", json_null());
		json_object_set_new(o, "tcb_date", json_null());
		json_object_set_new(o, "advisory_ids", json_null());
		json_object_set_new(o, "qe_tcb_status", json_null());
	}
	return o;
}

