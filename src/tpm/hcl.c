/* Azure paravisor (HCL) reports and Trustee's az-snp-vtpm (formats v0, v1, v2) and az-tdx-vtpm
 * (v0, v1; the TD report and TD quote part is hcl_tdx.c) evidence.
 *
 * HCL report layout (Azure "HCLA" attestation report, little-endian):
 *   0x000 header: signature "HCLA", version, report_size, request_type, status, reserved[3]
 *   0x020 hardware report: 1184 bytes (SNP ATTESTATION_REPORT, or TDREPORT + padding)
 *   0x4C0 IGVM request data: data_size, version, report_type, report_data_hash_type,
 *         variable_data_size, variable_data[variable_data_size] (the runtime data: JSON with
 *         the vTPM AK as JWK "HCLAkPub")
 * The hardware report's REPORT_DATA[0:32] is SHA-256 of the variable data: that is what ties
 * the TPM attestation key to the hardware-signed launch. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cctrust/core.h"
#include "json/json.h"
#include "cctrust/snp.h"
#include "cctrust/tpm.h"
#include "core/rd.h"
#include "tpm/tpm_int.h"
#include "x509/x509.h"

#define HCL_HEADER_SIZE 0x20
#define HCL_IGVM_HEADER 20
#define MAX_RUNTIME (1u << 20)

int cct_hcl_report_parse(cct_hcl_report *out, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_rd r, igvm;
	const uint8_t *sig;
	uint32_t data_size;
	size_t i;

	memset(out, 0, sizeof(*out));
	cct_rd_init(&r, buf, len);
	cct_rd_field(&r, "HCL signature");
	sig = cct_rd_take(&r, 4);
	if (sig && memcmp(sig, "HCLA", 4))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				   "HCL report: signature is not \"HCLA\"");
	cct_rd_field(&r, "HCL version");
	out->version = cct_rd_u32le(&r);
	cct_rd_field(&r, "HCL report_size");
	out->report_size = cct_rd_u32le(&r);
	cct_rd_field(&r, "HCL request_type");
	out->request_type = cct_rd_u32le(&r);
	cct_rd_field(&r, "HCL status");
	out->status = cct_rd_u32le(&r);
	cct_rd_field(&r, "HCL reserved");
	cct_rd_take(&r, 12);
	cct_rd_field(&r, "hardware report");
	out->hw_report = cct_rd_take(&r, CCT_HCL_HW_REPORT_SIZE);
	cct_rd_field(&r, "IGVM data_size");
	data_size = cct_rd_u32le(&r);
	if (r.err)
		return cct_rd_check(&r, err, "HCL report");
	if (data_size < HCL_IGVM_HEADER || data_size > cct_rd_left(&r) + 4)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, cct_rd_pos(&r) - 4,
				   "HCL report: IGVM data_size %u does not fit the %zu bytes left",
				   data_size, cct_rd_left(&r) + 4);
	cct_rd_sub(&r, data_size - 4, &igvm);
	cct_rd_field(&igvm, "IGVM version");
	out->igvm_version = cct_rd_u32le(&igvm);
	cct_rd_field(&igvm, "IGVM report_type");
	out->report_type = cct_rd_u32le(&igvm);
	cct_rd_field(&igvm, "IGVM report_data_hash_type");
	out->hash_type = cct_rd_u32le(&igvm);
	cct_rd_field(&igvm, "IGVM variable_data_size");
	out->runtime_len = cct_rd_u32le(&igvm);
	cct_rd_field(&igvm, "IGVM variable_data");
	out->runtime = cct_rd_take(&igvm, out->runtime_len);
	cct_rd_join(&r, &igvm);
	if (r.err)
		return cct_rd_check(&r, err, "HCL report");
	if (out->report_size != HCL_HEADER_SIZE + CCT_HCL_HW_REPORT_SIZE + data_size)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 8,
				   "HCL report: report_size %u, the parts add up to %u",
				   out->report_size,
				   HCL_HEADER_SIZE + CCT_HCL_HW_REPORT_SIZE + data_size);
	if (out->report_type != CCT_HCL_REPORT_TYPE_SNP &&
	    out->report_type != CCT_HCL_REPORT_TYPE_TDX)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE,
				   HCL_HEADER_SIZE + CCT_HCL_HW_REPORT_SIZE + 8,
				   "HCL report: report_type %u (2 SNP, 4 TDX)", out->report_type);
	if (out->hash_type < 1 || out->hash_type > 3)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE,
				   HCL_HEADER_SIZE + CCT_HCL_HW_REPORT_SIZE + 12,
				   "HCL report: report_data_hash_type %u (1 SHA-256, 2 SHA-384, "
				   "3 SHA-512)", out->hash_type);
	/* the fixed-size buffer the paravisor returns is zero after report_size */
	for (i = cct_rd_pos(&r); i < len; i++)
		if (buf[i])
			return cct_err_set(err, CCT_ETRAILING, CCT_STAGE_PARSE, i,
					   "HCL report: non-zero byte after report_size");
	return CCT_OK;
}

size_t cct_hcl_runtime_hash(const cct_hcl_report *h, uint8_t out[64])
{
	switch (h->hash_type) {
	case 1: cct_sha256(h->runtime, h->runtime_len, out); return 32;
	case 2: cct_sha384(h->runtime, h->runtime_len, out); return 48;
	case 3: cct_sha512(h->runtime, h->runtime_len, out); return 64;
	default: return 0;
	}
}

/* ---- Trustee evidence JSON ---- */

/* A byte field: hex string, base64/base64url string (b64 != 0), or an array of numbers (v0). */
static int bytes_field(uint8_t **out, size_t *n, json_t *v, int b64, const char *name,
		       cct_err *err)
{
	*out = NULL;
	*n = 0;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		int rc = b64 ? cct_b64_decode(out, n, s, strlen(s), err)
			     : cct_hex_decode(out, n, s, strlen(s), err);

		if (rc != CCT_OK)
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
					   "evidence: \"%s\" is not %s", name,
					   b64 ? "base64" : "hex");
		return CCT_OK;
	}
	if (json_is_array(v)) {
		size_t i, k = json_array_size(v);

		if (k > CCT_MAX_INPUT_FILE)
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "evidence: %s", name);
		*out = malloc(k ? k : 1);
		if (!*out)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		for (i = 0; i < k; i++) {
			json_t *e = json_array_get(v, i);

			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) > 255) {
				free(*out);
				*out = NULL;
				return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
						   "evidence: \"%s\"[%zu] is not a byte", name, i);
			}
			(*out)[i] = (uint8_t)json_integer_value(e);
		}
		*n = k;
		return CCT_OK;
	}
	return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "evidence: \"%s\" is missing",
			   name);
}

typedef struct {
	int version;
	int tdx;            /* az-tdx-vtpm: a "td_quote" member */
	uint8_t *hcl, *msg, *sig, *vcek, *log, *tdq;
	size_t hcl_len, msg_len, sig_len, vcek_len, log_len, tdq_len;
	cct_tpm_pcrs pcrs; /* the quote's sha256 PCR values */
	uint32_t npcrs;
} az_evidence;

static void az_free(az_evidence *e)
{
	free(e->hcl);
	free(e->msg);
	free(e->sig);
	free(e->vcek);
	free(e->log);
	free(e->tdq);
}

static int az_parse(az_evidence *e, const char *text, size_t len, cct_err *err)
{
	json_error_t je;
	/* a member given twice (two "tpm_quote"s) is read one way here and maybe another by the
	 * next consumer of the same evidence: refused */
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *q, *pcrs, *vcek;
	int rc;
	size_t i;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(root)) {
		json_decref(root);
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "evidence: not a JSON object (%s at line %d)", je.text, je.line);
	}
	/* az-tdx-vtpm (Trustee): v0 {tpm_quote, hcl_report, td_quote} as byte arrays, v1
	 * {version: 1, tpm_quote (hex), hcl_report, td_quote (base64url)}; no vcek */
	e->tdx = json_object_get(root, "td_quote") != NULL;
	if (json_object_get(root, "version")) {
		json_t *v = json_object_get(root, "version");

		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > (e->tdx ? 1 : 2)) {
			json_decref(root);
			return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					   e->tdx ? "evidence: az-tdx-vtpm version must be 1 (or "
						    "absent: v0)"
						  : "evidence: version must be 1 or 2 (or absent: v0)");
		}
		e->version = (int)json_integer_value(v);
		q = json_object_get(root, "tpm_quote");
		rc = bytes_field(&e->hcl, &e->hcl_len, json_object_get(root, "hcl_report"), 1,
				 "hcl_report", err);
		if (rc == CCT_OK && e->tdx)
			rc = bytes_field(&e->tdq, &e->tdq_len, json_object_get(root, "td_quote"), 1,
					 "td_quote", err);
	} else if (e->tdx) {
		e->version = 0;
		q = json_object_get(root, "tpm_quote");
		rc = bytes_field(&e->hcl, &e->hcl_len, json_object_get(root, "hcl_report"), 0,
				 "hcl_report", err);
		if (rc == CCT_OK)
			rc = bytes_field(&e->tdq, &e->tdq_len, json_object_get(root, "td_quote"), 0,
					 "td_quote", err);
	} else {
		e->version = 0;
		q = json_object_get(root, "quote");
		rc = bytes_field(&e->hcl, &e->hcl_len, json_object_get(root, "report"), 0,
				 "report", err);
	}
	if (rc == CCT_OK && !json_is_object(q))
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "evidence: \"%s\" is not an object",
				 e->version || e->tdx ? "tpm_quote" : "quote");
	if (rc == CCT_OK)
		rc = bytes_field(&e->msg, &e->msg_len, json_object_get(q, "message"), 0,
				 "message", err);
	if (rc == CCT_OK)
		rc = bytes_field(&e->sig, &e->sig_len, json_object_get(q, "signature"), 0,
				 "signature", err);
	pcrs = json_is_object(q) ? json_object_get(q, "pcrs") : NULL;
	if (rc == CCT_OK && (!json_is_array(pcrs) || json_array_size(pcrs) > CCT_TPM_NUM_PCRS))
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "evidence: \"pcrs\" must be an array of at most 24 SHA-256 values");
	for (i = 0; rc == CCT_OK && i < json_array_size(pcrs); i++) {
		uint8_t *b = NULL;
		size_t bn = 0;

		rc = bytes_field(&b, &bn, json_array_get(pcrs, i), 0, "pcrs[]", err);
		if (rc == CCT_OK)
			rc = cct_tpm_pcrs_set(&e->pcrs, CCT_TPM_ALG_SHA256, (uint32_t)i, b, bn, err);
		free(b);
	}
	e->npcrs = (uint32_t)json_array_size(pcrs);
	vcek = json_object_get(root, "vcek");
	if (rc == CCT_OK && !e->tdx) {
		if (!json_is_string(vcek))
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "evidence: \"vcek\" is missing");
		else if (e->version == 0) { /* PEM text */
			e->vcek_len = strlen(json_string_value(vcek));
			e->vcek = malloc(e->vcek_len + 1);
			if (e->vcek)
				memcpy(e->vcek, json_string_value(vcek), e->vcek_len + 1);
			else
				rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		} else {
			rc = bytes_field(&e->vcek, &e->vcek_len, vcek, 1, "vcek", err);
		}
	}
	/* cctrust's extension: the TCG event log that explains the PCRs (base64) */
	if (rc == CCT_OK && json_object_get(root, "event_log"))
		rc = bytes_field(&e->log, &e->log_len, json_object_get(root, "event_log"), 1,
				 "event_log", err);
	json_decref(root);
	if (rc != CCT_OK) {
		az_free(e);
		return rc == CCT_EINVAL ? CCT_EENCODING : rc;
	}
	return CCT_OK;
}

/* The event log must replay, in the SHA-256 bank, to every quoted PCR it extends; its facts
 * (Secure Boot, kernel command line, boot applications) become claims only then. */
static int check_event_log(json_t *claims, const az_evidence *e, cct_err *err)
{
	cct_evlog log;
	cct_tpm_pcrs want;
	const cct_evlog_bank *bk;
	uint32_t i, touched = 0;
	size_t k;
	char *js;
	json_t *o;
	int rc;

	rc = cct_evlog_parse(&log, e->log, e->log_len, CCT_EVLOG_TPM, err);
	if (rc != CCT_OK)
		return rc;
	bk = cct_evlog_find_bank(&log, CCT_TPM_ALG_SHA256);
	if (!bk || bk->incomplete) {
		cct_evlog_free(&log);
		return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
				   "event log: no complete SHA-256 bank to compare with the quote");
	}
	for (k = 0; k < log.count; k++) {
		int reg = cct_evlog_event_reg(&log, &log.events[k]);

		if (reg >= 0)
			touched |= 1u << reg;
	}
	memset(&want, 0, sizeof(want));
	for (i = 0; i < CCT_TPM_NUM_PCRS; i++) {
		if (!(touched & (1u << i)))
			continue;
		if (!(e->pcrs.banks[0].mask & (1u << i))) {
			cct_evlog_free(&log);
			return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
					   "event log: it extends PCR%u, which the quote does not "
					   "cover", i);
		}
		cct_tpm_pcrs_set(&want, CCT_TPM_ALG_SHA256, i, e->pcrs.banks[0].v[i], 32, NULL);
	}
	rc = cct_evlog_compare(&log, &want, err);
	if (rc == CCT_OK) {
		js = cct_evlog_json(&log, 0);
		o = js ? json_loads(js, 0, NULL) : NULL;
		free(js);
		if (o) {
			json_t *f = json_object_get(o, "facts");

			json_object_set_new(f, "format", json_string(log.crypto_agile ? "crypto-agile"
									       : "sha1-legacy"));
			json_object_set_new(f, "events", json_integer((json_int_t)log.count));
			json_object_set(claims, "eventlog", f);
			json_decref(o);
		}
	}
	cct_evlog_free(&log);
	return rc;
}

/* The AK: the key with kid "HCLAkPub" of the runtime data's JWK set. */
static int runtime_ak(cct_tpm_ak **ak, json_t **runtime, const cct_hcl_report *h, cct_err *err)
{
	json_error_t je;
	json_t *root = json_loadb((const char *)h->runtime, h->runtime_len, 0, &je), *keys, *k;
	size_t i;
	int rc;

	*ak = NULL;
	*runtime = NULL;
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		json_decref(root);
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE,
				   HCL_HEADER_SIZE + CCT_HCL_HW_REPORT_SIZE + HCL_IGVM_HEADER,
				   "HCL runtime data: not JSON with a \"keys\" array");
	}
	json_array_foreach(keys, i, k) {
		const char *kid = json_string_value(json_object_get(k, "kid"));
		char *text;

		if (!kid || strcmp(kid, "HCLAkPub"))
			continue;
		text = json_dumps(k, JSON_COMPACT);
		rc = text ? cct_tpm_ak_from_jwk(ak, text, strlen(text), err)
			  : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_PARSE, 0, "out of memory");
		free(text);
		if (rc != CCT_OK) {
			json_decref(root);
			return rc;
		}
		*runtime = root;
		return CCT_OK;
	}
	json_decref(root);
	return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
			   "HCL runtime data: no key with kid \"HCLAkPub\"");
}

static json_t *pcrs_claim(const cct_tpm_pcrs *p)
{
	json_t *o = json_object();
	uint32_t b, i;

	for (b = 0; b < p->nbanks; b++) {
		json_t *bj = json_object();

		for (i = 0; i < CCT_TPM_NUM_PCRS; i++) {
			char k[16];

			if (!(p->banks[b].mask & (1u << i)))
				continue;
			snprintf(k, sizeof(k), "%u", i);
			cct_json__set_hex(bj, k, p->banks[b].v[i], p->banks[b].size);
		}
		json_object_set_new(o, cct_tpm_alg_name(p->banks[b].alg), bj);
	}
	return o;
}

int cct_vtpm_verify_json(char **claims_json, const char *evidence, size_t len,
			 const cct_vtpm_opts *opts, cct_err *err)
{
	json_t *claims = json_object(), *skipped = json_array(), *runtime = NULL, *hj;
	cct_snp_verifier *v = NULL;
	cct_snp_policy pol;
	cct_snp_report rep;
	cct_snp_result sres;
	cct_hcl_report h;
	cct_tpm_quote q;
	cct_tpm_quote_result qres;
	cct_tpm_ak *ak = NULL;
	az_evidence e;
	uint8_t hash[64], fp[32], hw_rd[64];
	size_t hn, hw_rd_off = 0;
	int rc, have_ev = 0;
	uint32_t sel_sha256 = 0, i;

	if (claims_json)
		*claims_json = NULL;
	cct_snp_policy_init(&pol);
	memset(&sres, 0, sizeof(sres));
	rc = az_parse(&e, evidence, len, err);
	json_object_set_new(claims, "tee", json_string(rc == CCT_OK && e.tdx ? "az-tdx-vtpm"
									    : "az-snp-vtpm"));
	if (rc != CCT_OK)
		goto out;
	have_ev = 1;
	json_object_set_new(claims, "evidence_version", json_integer(e.version));

	/* 1. structures */
	rc = cct_hcl_report_parse(&h, e.hcl, e.hcl_len, err);
	if (rc != CCT_OK)
		goto out;
	if (e.tdx) {
		int sim = 0;

		if (h.report_type != CCT_HCL_REPORT_TYPE_TDX) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
					 "az-tdx-vtpm evidence holds a non-TDX (type %u) HCL report",
					 h.report_type);
			goto out;
		}
		rc = cct_tpm_quote_parse(&q, e.msg, e.msg_len, err);
		if (rc != CCT_OK)
			goto out;
		/* 2. the TD quote (Intel DCAP) and the HCL's TD report it was made from */
		rc = cct_tpm__az_tdx_hw(claims, &h, e.tdq, e.tdq_len, opts, hw_rd, &sim, err);
		if (sim)
			json_object_set_new(claims, "simulated", json_true());
		if (rc != CCT_OK)
			goto out;
		hw_rd_off = HCL_HEADER_SIZE + 0x80;
		goto bind;
	}
	if (h.report_type != CCT_HCL_REPORT_TYPE_SNP) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "az-snp-vtpm evidence holds a non-SNP (type %u) HCL report",
				 h.report_type);
		goto out;
	}
	rc = cct_snp_report_parse(&rep, h.hw_report, CCT_SNP_REPORT_SIZE, err);
	if (rc != CCT_OK) {
		if (err)
			err->offset += HCL_HEADER_SIZE;
		goto out;
	}
	rc = cct_tpm_quote_parse(&q, e.msg, e.msg_len, err);
	if (rc != CCT_OK)
		goto out;

	/* 2. the hardware report: chain to AMD's pinned roots, signature, policy */
	rc = cct_snp_verifier_new(&v, err);
	if (rc != CCT_OK)
		goto out;
	cct_snp_verifier_set_time(v, opts && opts->at ? opts->at : time(NULL));
	if (opts && opts->collateral_dir) {
		rc = cct_snp_verifier_set_collateral_dir(v, opts->collateral_dir, err);
		if (rc != CCT_OK)
			goto out;
		cct_snp_verifier_set_offline(v, opts->offline);
	} else {
		cct_snp_verifier_set_offline(v, 1);
	}
	/* without collateral the CRL is checked only when required (from --certs / the cache);
	 * no_crl turns it off with collateral too */
	if (!opts || opts->no_crl || (!opts->collateral_dir && !opts->require_crl)) {
		cct_snp_verifier_set_crl_check(v, 0);
		json_array_append_new(skipped, json_string("snp_crl"));
	}
	if (opts && opts->certs_path) {
		rc = cct_snp_verifier_add_certs_path(v, opts->certs_path, err);
		if (rc != CCT_OK)
			goto out;
	}
	if (opts && opts->trust_sim_dir) {
		char path[4096];
		uint8_t *b = NULL;
		size_t bn = 0;

		snprintf(path, sizeof(path), "%s/snp/ark.pem", opts->trust_sim_dir);
		rc = cct_file_read(&b, &bn, path, 1u << 20, err);
		if (rc == CCT_OK)
			rc = cct_snp_verifier_trust_ark_insecure(v, b, bn, err);
		free(b);
		b = NULL;
		/* the simulated ASK (a real guest's comes from AMD KDS or the pinned set) and CRL */
		snprintf(path, sizeof(path), "%s/snp/ask.pem", opts->trust_sim_dir);
		if (rc == CCT_OK && cct_file_read(&b, &bn, path, 1u << 20, NULL) == CCT_OK) {
			rc = cct_snp_verifier_add_certs(v, b, bn, err);
			free(b);
			b = NULL;
		}
		snprintf(path, sizeof(path), "%s/snp/crl.pem", opts->trust_sim_dir);
		if (rc == CCT_OK && cct_file_read(&b, &bn, path, 1u << 20, NULL) == CCT_OK) {
			rc = cct_snp_verifier_add_certs(v, b, bn, err);
			free(b);
		}
		if (rc != CCT_OK)
			goto out;
	}
	rc = cct_snp_verifier_add_certs(v, e.vcek, e.vcek_len, err);
	if (rc != CCT_OK)
		goto out;
	rc = cct_snp_verify(&sres, v, &rep, &pol, err);
	if (rc != CCT_OK)
		goto out;
	{
		char *sc = cct_snp_claims_json(&rep, &sres);
		json_t *sj = sc ? json_loads(sc, 0, NULL) : NULL;

		free(sc);
		json_object_set_new(claims, "snp", sj ? sj : json_null());
		if (sres.simulated)
			json_object_set_new(claims, "simulated", json_true());
	}

	memcpy(hw_rd, rep.report_data, 64);
	hw_rd_off = HCL_HEADER_SIZE + 0x50;

	/* 3. REPORT_DATA binds the runtime data (and so the AK) */
bind:
	hn = cct_hcl_runtime_hash(&h, hash);
	if (!hn || hn > 64 || !cct_ct_eq(hw_rd, hash, hn < 32 ? hn : 32) ||
	    (hn > 32 && !cct_ct_eq(hw_rd, hash, hn))) {
		rc = cct_err_set(err, CCT_EBINDING, CCT_STAGE_BINDING, hw_rd_off,
				 "HCL report: %s is not the hash of the runtime data "
				 "(the runtime data or its AK was changed)",
				 e.tdx ? "the TD report's REPORTDATA" : "SNP REPORT_DATA");
		goto out;
	}
	hj = json_object();
	json_object_set_new(hj, "report_type", json_string(e.tdx ? "tdx" : "snp"));
	cct_json__set_hex(hj, "runtime_data_hash", hash, hn);
	rc = runtime_ak(&ak, &runtime, &h, err);
	if (rc != CCT_OK) {
		json_decref(hj);
		goto out;
	}
	if (json_object_get(runtime, "vm-configuration"))
		json_object_set(hj, "vm_configuration", json_object_get(runtime, "vm-configuration"));
	if (json_is_string(json_object_get(runtime, "user-data")))
		json_object_set(hj, "user_data", json_object_get(runtime, "user-data"));
	json_object_set_new(claims, "hcl", hj);
	if (cct_tpm_ak_fingerprint(ak, fp) == CCT_OK)
		cct_json__set_hex(claims, "ak_sha256", fp, 32);

	/* 4. the TPM quote: AK signature, nonce, PCR digest over the given values */
	for (i = 0; i < q.nsel; i++)
		if (q.sel[i].alg == CCT_TPM_ALG_SHA256)
			sel_sha256 |= q.sel[i].mask;
	rc = cct_tpm_quote_verify(&qres, &q, e.msg, e.msg_len, e.sig, e.sig_len, ak,
				  opts ? opts->nonce : NULL, opts ? opts->nonce_len : 0, &e.pcrs,
				  err);
	if (rc != CCT_OK)
		goto out;
	{
		json_t *qj = json_object();

		cct_json__set_hex(qj, "extra_data", q.extra, q.extra_len);
		json_object_set_new(qj, "clock", json_integer((json_int_t)q.clock));
		json_object_set_new(qj, "reset_count", json_integer(q.reset_count));
		json_object_set_new(qj, "restart_count", json_integer(q.restart_count));
		json_object_set_new(qj, "firmware_version",
				    json_integer((json_int_t)q.firmware_version));
		json_object_set_new(qj, "signature_scheme",
				    json_string(qres.sig_alg == CCT_TPM_ALG_ECDSA ? "ecdsa"
						: qres.sig_alg == CCT_TPM_ALG_RSAPSS ? "rsapss"
										     : "rsassa"));
		json_object_set_new(qj, "hash", json_string(cct_tpm_alg_name(qres.hash_alg)));
		json_object_set_new(claims, "tpm_quote", qj);
	}
	if (!qres.nonce_checked)
		json_array_append_new(skipped, json_string("tpm_quote_nonce"));
	/* only the PCRs the quote vouches for */
	e.pcrs.banks[0].mask &= sel_sha256;
	json_object_set_new(claims, "pcrs", pcrs_claim(&e.pcrs));

	/* 5. the event log (optional) explains the quoted PCRs */
	if (e.log) {
		rc = check_event_log(claims, &e, err);
		if (rc != CCT_OK)
			goto out;
	}
	rc = CCT_OK;
out:
	json_object_set_new(claims, "checks_skipped", skipped);
	if (claims_json)
		*claims_json = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(claims);
	json_decref(runtime);
	cct_tpm_ak_free(ak);
	cct_snp_verifier_free(v);
	cct_snp_policy_clear(&pol);
	if (have_ev)
		az_free(&e);
	return rc;
}
