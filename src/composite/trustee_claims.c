/* Trustee's claim names beside cctrust's, so that resource policies written against Trustee
 * tokens read the same values from cctrust tokens. Added only where the name is free: where
 * cctrust already uses a name (snp "measurement", tdx "td_attributes") cctrust's value stays
 * (docs/kbs.md lists these differences).
 *  SNP (Trustee's snp verifier): policy_abi_major/minor, policy_smt_allowed,
 *    policy_migrate_ma, policy_debug_allowed, policy_single_socket, reported_tcb_bootloader/
 *    tee/snp/microcode, platform_tsme_enabled, platform_smt_enabled;
 *  TDX (Trustee's tdx verifier): quote.header.version, quote.body.{mr_td, mr_seam,
 *    mrsigner_seam, seam_attributes, td_attributes, xfam, mr_config_id, mr_owner,
 *    mr_owner_config, rtmr_0..rtmr_3, report_data, tcb_svn};
 *  az-snp-vtpm / az-tdx-vtpm (Trustee's vTPM verifiers): the SNP / TDX names above from the
 *    paravisor's hardware report (claims.snp / claims.tdx) at the top level, tpm {pcr00..pcr23}
 *    (the quoted SHA-256 PCRs), report_data (the TPM quote's extraData, hex);
 *  GPU / NVSwitch (Trustee's local nvidia verifier): uuid, measurements {index: hex},
 *    config {OPAQUE_FIELD_ID_<name>: value}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "composite/internal.h"
#include "nvgpu/spdm.h"

static void set_free(json_t *o, const char *k, json_t *v)
{
	if (!json_object_get(o, k))
		json_object_set_new(o, k, v);
	else
		json_decref(v);
}

static void copy_as(json_t *dst, const char *k, const json_t *src, const char *sk)
{
	const json_t *v = json_object_get(src, sk);

	if (v)
		json_object_set(dst, k, (json_t *)v);
}

/* vTPM TEEs: the hardware report's Trustee names lifted to the top level, the quoted PCRs as
 * tpm.pcrNN and the quote's extraData as report_data */
static void trustee_vtpm_claims(json_t *c, const char *hw)
{
	json_t *sub = json_deep_copy(json_object_get(c, hw)), *tpm = json_object(), *v;
	const json_t *pcrs = json_object_get(json_object_get(c, "pcrs"), "sha256");
	const char *k;
	int i;

	if (json_is_object(sub)) {
		cct_composite__trustee_cpu_claims(sub, hw);
		json_object_foreach(sub, k, v)
			if (!json_object_get(json_object_get(c, hw), k)) /* Trustee's names only */
				set_free(c, k, json_incref(v));
	}
	json_decref(sub);
	for (i = 0; i < 24; i++) {
		char ik[4], tk[8];

		snprintf(ik, sizeof(ik), "%d", i);
		snprintf(tk, sizeof(tk), "pcr%02d", i);
		if ((v = json_object_get((json_t *)pcrs, ik)))
			json_object_set(tpm, tk, v);
	}
	set_free(c, "tpm", tpm);
	v = json_object_get(json_object_get(c, "tpm_quote"), "extra_data");
	if (v)
		set_free(c, "report_data", json_incref(v));
}

void cct_composite__trustee_cpu_claims(json_t *c, const char *tee)
{
	if (!json_is_object(c))
		return;
	if (!strcmp(tee, "az-snp-vtpm") || !strcmp(tee, "az-tdx-vtpm")) {
		trustee_vtpm_claims(c, !strcmp(tee, "az-snp-vtpm") ? "snp" : "tdx");
	} else if (!strcmp(tee, "snp")) {
		const json_t *pb = json_object_get(c, "policy_bits");
		const json_t *rt = json_object_get(c, "reported_tcb");
		json_int_t pi = json_integer_value(json_object_get(c, "platform_info"));

		set_free(c, "policy_abi_major", json_deep_copy(json_object_get(pb, "abi_major")));
		set_free(c, "policy_abi_minor", json_deep_copy(json_object_get(pb, "abi_minor")));
		set_free(c, "policy_smt_allowed", json_deep_copy(json_object_get(pb, "smt")));
		set_free(c, "policy_migrate_ma", json_deep_copy(json_object_get(pb, "migrate_ma")));
		set_free(c, "policy_debug_allowed", json_deep_copy(json_object_get(pb, "debug")));
		set_free(c, "policy_single_socket",
			 json_deep_copy(json_object_get(pb, "single_socket")));
		set_free(c, "reported_tcb_bootloader",
			 json_deep_copy(json_object_get(rt, "bootloader")));
		set_free(c, "reported_tcb_tee", json_deep_copy(json_object_get(rt, "tee")));
		set_free(c, "reported_tcb_snp", json_deep_copy(json_object_get(rt, "snp")));
		set_free(c, "reported_tcb_microcode",
			 json_deep_copy(json_object_get(rt, "microcode")));
		/* PLATFORM_INFO bit 0 SMT_EN, bit 1 TSME_EN (SNP ABI, ATTESTATION_REPORT) */
		set_free(c, "platform_smt_enabled", json_boolean(pi & 1));
		set_free(c, "platform_tsme_enabled", json_boolean(pi >> 1 & 1));
	} else if (!strcmp(tee, "tdx")) {
		json_t *q = json_object(), *h = json_object(), *b = json_object();
		char k[16];
		int i;

		json_object_set_new(h, "version", json_sprintf("%02x00",
			(int)json_integer_value(json_object_get(c, "quote_version"))));
		copy_as(b, "mr_td", c, "mrtd");
		copy_as(b, "mr_seam", c, "mrseam");
		copy_as(b, "mrsigner_seam", c, "mrsignerseam");
		copy_as(b, "seam_attributes", c, "seam_attributes");
		copy_as(b, "td_attributes", c, "td_attributes");
		copy_as(b, "xfam", c, "xfam");
		copy_as(b, "mr_config_id", c, "mrconfigid");
		copy_as(b, "mr_owner", c, "mrowner");
		copy_as(b, "mr_owner_config", c, "mrownerconfig");
		copy_as(b, "report_data", c, "report_data");
		copy_as(b, "tcb_svn", c, "tee_tcb_svn");
		for (i = 0; i < 4; i++) {
			char ck[8];

			snprintf(k, sizeof(k), "rtmr_%d", i);
			snprintf(ck, sizeof(ck), "rtmr%d", i);
			copy_as(b, k, c, ck);
		}
		json_object_set_new(q, "header", h);
		json_object_set_new(q, "body", b);
		set_free(c, "quote", q);
	}
}

void cct_composite__trustee_gpu_claims(json_t *c, const uint8_t *ev, size_t n, const char *uuid)
{
	cct_spdm_evidence *sp = malloc(sizeof(*sp));
	json_t *m, *cfg;
	size_t i;
	int is_switch = !strcmp(json_string_value(json_object_get(c, "arch")) ?: "", "LS10");

	if (!sp || !json_is_object(c) || cct_spdm_evidence_parse(sp, ev, n, NULL) != CCT_OK) {
		free(sp);
		return;
	}
	if (uuid && *uuid)
		set_free(c, "uuid", json_string(uuid));
	m = json_object();
	for (i = 0; i < sp->block_count; i++) {
		char k[8], *hx = malloc(2 * (size_t)sp->blocks[i].value_size + 1);

		snprintf(k, sizeof(k), "%u", sp->blocks[i].index);
		if (hx) {
			cct_hex_encode(hx, sp->blocks[i].value, sp->blocks[i].value_size);
			json_object_set_new(m, k, json_string(hx));
		}
		free(hx);
	}
	set_free(c, "measurements", m);
	cfg = json_object();
	for (i = 0; i < sp->field_count; i++) {
		const cct_spdm_opaque_field *f = &sp->fields[i];
		const char *nm = cct_spdm_opaque_name(f->type, is_switch);
		char key[64], txt[256], *hx;

		if (!nm)
			continue;
		snprintf(key, sizeof(key), "OPAQUE_FIELD_ID_%s", nm);
		cct_spdm_opaque_text(f, txt, sizeof(txt));
		if (f->type == CCT_NVOPQ_FEATURE_FLAG && json_object_get(c, "x-cctrust-feature-flag")) {
			json_object_set(cfg, key, json_object_get(c, "x-cctrust-feature-flag"));
		} else if (txt[0]) {
			json_object_set_new(cfg, key, json_string(txt));
		} else if ((hx = malloc(2 * (size_t)f->size + 1))) {
			cct_hex_encode(hx, f->value, f->size);
			json_object_set_new(cfg, key, json_string(hx));
			free(hx);
		}
	}
	set_free(c, "config", cfg);
	free(sp);
}
