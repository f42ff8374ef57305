/* Parsed view of evidence for `cctrust gpu show` (no trust decision). */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cctrust/core.h"
#include "json/json.h"
#include "nvgpu/nvgpu_internal.h"
#include "nvgpu/spdm.h"
#include "x509/x509.h"

static json_t *show_one(const cct_nvgpu_entry *e)
{
	json_t *o = json_object(), *blocks, *opq, *chain;
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	STACK_OF(X509) *sk = sk_X509_new_null();
	cct_err err;
	size_t i;
	int is_switch = !strcmp(e->arch, "LS10");

	json_object_set_new(o, "arch", json_string(e->arch));
	if (e->uuid[0])
		json_object_set_new(o, "uuid", json_string(e->uuid));
	json_object_set_new(o, "evidence-size", json_integer((json_int_t)e->evidence_size));
	if (sp && cct_spdm_evidence_parse(sp, e->evidence, e->evidence_size, &err) == CCT_OK) {
		json_t *req = json_object(), *resp = json_object();

		json_object_set_new(req, "SPDMVersion", json_integer(sp->req_version));
		json_object_set_new(req, "RequestResponseCode", json_integer(sp->req_code));
		json_object_set_new(req, "Param1", json_integer(sp->req_param1));
		json_object_set_new(req, "Param2", json_integer(sp->req_param2));
		cct_json__set_hex(req, "Nonce", sp->req_nonce, 32);
		json_object_set_new(req, "SlotIDParam", json_integer(sp->req_slot));
		json_object_set_new(o, "request", req);
		json_object_set_new(resp, "SPDMVersion", json_integer(sp->version));
		json_object_set_new(resp, "RequestResponseCode", json_integer(sp->code));
		json_object_set_new(resp, "Param1", json_integer(sp->param1));
		json_object_set_new(resp, "Param2", json_integer(sp->param2));
		json_object_set_new(resp, "NumberOfBlocks", json_integer(sp->block_count));
		json_object_set_new(resp, "MeasurementRecordLength",
				    json_integer(sp->record_size));
		cct_json__set_hex(resp, "Nonce", sp->resp_nonce, 32);
		json_object_set_new(resp, "OpaqueLength", json_integer(sp->opaque_size));
		cct_json__set_hex(resp, "Signature", sp->sig, CCT_SPDM_SIG_SIZE);
		json_object_set_new(o, "padding-size", json_integer((json_int_t)sp->padding_size));
		blocks = json_object();
		for (i = 0; i < sp->block_count; i++) {
			json_t *b = json_object();
			char k[8];

			snprintf(k, sizeof(k), "%u", sp->blocks[i].index);
			json_object_set_new(b, "DMTFSpecMeasurementValueType",
					    json_integer(sp->blocks[i].value_type));
			json_object_set_new(b, "DMTFSpecMeasurementValueSize",
					    json_integer(sp->blocks[i].value_size));
			cct_json__set_hex(b, "DMTFSpecMeasurementValue", sp->blocks[i].value,
					  sp->blocks[i].value_size);
			json_object_set_new(blocks, k, b);
		}
		json_object_set_new(resp, "MeasurementBlocks", blocks);
		opq = json_object();
		for (i = 0; i < sp->field_count; i++) {
			const cct_spdm_opaque_field *f = &sp->fields[i];
			const char *n = cct_spdm_opaque_name(f->type, is_switch);
			char k[64], txt[128];

			if (n)
				snprintf(k, sizeof(k), "%s", n);
			else
				snprintf(k, sizeof(k), "TYPE_%u", f->type);
			cct_spdm_opaque_text(f, txt, sizeof(txt));
			if (txt[0] && f->size > 1)
				json_object_set_new(opq, k, json_string(txt));
			else
				cct_json__set_hex(opq, k, f->value, f->size);
		}
		json_object_set_new(resp, "OpaqueData", opq);
		json_object_set_new(o, "response", resp);
	} else {
		json_object_set_new(o, "parse-error", json_string(sp ? err.msg : "out of memory"));
	}
	chain = json_array();
	if (sk && cct_x509_parse_certs(sk, NULL, e->chain_pem, e->chain_pem_size, "chain",
				       &err) == CCT_OK) {
		for (i = 0; i < (size_t)sk_X509_num(sk); i++) {
			char cn[128];

			cct_x509_subject_cn(sk_X509_value(sk, (int)i), cn, sizeof(cn));
			json_array_append_new(chain, json_string(cn));
		}
	}
	json_object_set_new(o, "certificate-chain", chain);
	if (sk)
		sk_X509_pop_free(sk, X509_free);
	free(sp);
	return o;
}

int cct_nvgpu_evidence_show(char **json_out, const cct_nvgpu_evidence_list *ev, cct_err *err)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < ev->count; i++)
		json_array_append_new(arr, show_one(&ev->e[i]));
	*json_out = json_dumps(arr, JSON_INDENT(2));
	json_decref(arr);
	if (!*json_out)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	return CCT_OK;
}

json_t *cct_nvgpu_device_claims(const json_t *claims, size_t i)
{
	const json_t *g = json_array_get(json_object_get(claims, "gpus"), i);
	json_t *o;

	if (!json_is_object(g))
		return NULL;
	o = json_deep_copy(g);
	if (!o)
		return NULL;
	json_object_set(o, "arch", json_object_get(g, "x-cctrust-arch"));
	json_object_set(o, "x-nvidia-overall-att-result",
			json_object_get(claims, "x-nvidia-overall-att-result"));
	return o;
}
