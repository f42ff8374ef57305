/* tpm area on real vectors (tests/vectors/vtpm): TCG event logs replay to go-eventlog's PCRs
 * and CCEL RTMRs, the GCP TPM 2.0 dump's quote verifies, Trustee's Azure az-snp-vtpm evidence
 * v0/v1/v2 verifies; every tampered variant is rejected at the stage that owns it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "cctrust/tpm.h"
#include "tpm/tpm_int.h"

#define GE "vtpm/go-eventlog/"
#define AZ "vtpm/trustee-az-snp/"

static json_t *expected_json(const char *rel)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(rel, &n);
	json_t *j = json_loadb((const char *)b, n, 0, NULL);

	free(b);
	assert_non_null(j);
	return j;
}

static void pcrs_from(cct_tpm_pcrs *p, json_t *obj, cct_evlog_kind kind)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	cct_err err;

	assert_non_null(s);
	assert_int_equal(cct_tpm_pcrs_parse_json(p, s, strlen(s), kind, &err), CCT_OK);
	free(s);
}

static int bank_idx(const cct_tpm_pcrs *p, uint16_t alg)
{
	uint32_t b;

	for (b = 0; b < p->nbanks; b++)
		if (p->banks[b].alg == alg)
			return (int)b;
	fail_msg("no bank 0x%x", alg);
	return 0;
}

static const uint8_t *digest_of(const cct_evlog_event *e, uint16_t alg)
{
	uint32_t k;

	for (k = 0; k < e->ndigests; k++)
		if (e->digests[k].alg == alg)
			return e->digests[k].d;
	fail_msg("event without digest 0x%x", alg);
	return NULL;
}

static const char *const logs[] = { "rhel8-uefi.bin", "ubuntu-1804-amd-sev.bin",
				    "ubuntu-2104-no-secure-boot.bin" };

static void eventlog_vectors(void **state)
{
	json_t *exp = expected_json(GE "expected.json");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char rel[128];
		size_t n, k;
		uint8_t *b;
		cct_evlog log;
		cct_tpm_pcrs want;
		cct_err err;
		json_t *e = json_object_get(json_object_get(exp, "tpm_event_logs"), logs[i]);
		json_t *apps, *facts, *bank, *root;
		const char *bn;
		char *js;

		snprintf(rel, sizeof(rel), GE "tpm/%s", logs[i]);
		b = cct_test_read_vector(rel, &n);
		assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
		assert_true(log.crypto_agile);
		assert_int_equal(log.nbanks, 3);
		pcrs_from(&want, json_object_get(e, "pcrs"), CCT_EVLOG_TPM);
		assert_int_equal(want.nbanks, 2);
		assert_int_equal(cct_evlog_compare(&log, &want, &err), CCT_OK);
		/* no genuine event fails its data check */
		for (k = 0; k < log.count; k++)
			assert_true(log.events[k].data_check >= 0);
		/* boot applications in order, every bank */
		js = cct_evlog_json(&log, 0);
		root = json_loads(js, 0, NULL);
		facts = json_object_get(root, "facts");
		apps = json_object_get(facts, "efi_boot_services_application_digests");
		json_object_foreach(json_object_get(e, "efi_boot_services_application_digests"), bn,
				    bank)
			assert_true(json_equal(bank, json_object_get(apps, bn)));
		assert_true(json_is_string(json_object_get(facts, "kernel_cmdline")));
		assert_true(strstr(json_string_value(json_object_get(facts, "kernel_cmdline")),
				   "vmlinuz") != NULL);
		assert_true(json_is_boolean(json_object_get(facts, "secure_boot")));
		json_decref(root);
		free(js);
		/* one register altered: rejected, naming it */
		want.banks[bank_idx(&want, CCT_TPM_ALG_SHA256)].v[7][0] ^= 0xff;
		assert_int_equal(cct_evlog_compare(&log, &want, &err), CCT_EMEASUREMENT);
		assert_int_equal(err.stage, CCT_STAGE_MEASUREMENT);
		assert_non_null(strstr(err.msg, "sha256 PCR7"));
		cct_evlog_free(&log);
		free(b);
	}
	json_decref(exp);
}

/* rhel8: Secure Boot on, the kernel command line read from a hash-checked GRUB event */
static void eventlog_facts(void **state)
{
	size_t n;
	uint8_t *b = cct_test_read_vector(GE "tpm/rhel8-uefi.bin", &n);
	cct_evlog log;
	cct_err err;
	json_t *o, *f;
	char *js;

	(void)state;
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
	js = cct_evlog_json(&log, 1);
	o = json_loads(js, 0, NULL);
	f = json_object_get(o, "facts");
	assert_true(json_is_true(json_object_get(f, "secure_boot")));
	assert_non_null(strstr(json_string_value(json_object_get(f, "kernel_cmdline")),
			       "console=ttyS0,38400n8"));
	assert_non_null(json_object_get(json_object_get(f, "efi_variables"), "dbx"));
	assert_int_equal(json_array_size(json_object_get(o, "events")), log.count);
	json_decref(o);
	free(js);
	cct_evlog_free(&log);
	free(b);
}

static size_t find_event(const cct_evlog *log, uint32_t type, uint32_t index)
{
	size_t k;

	for (k = 0; k < log->count; k++)
		if (log->events[k].type == type && log->events[k].index == index)
			return k;
	fail_msg("no event of type 0x%x in PCR%u", type, index);
	return 0;
}

static void eventlog_tampered(void **state)
{
	json_t *exp = expected_json(GE "expected.json");
	size_t n, k;
	uint8_t *b = cct_test_read_vector(GE "tpm/rhel8-uefi.bin", &n);
	cct_evlog log;
	cct_tpm_pcrs want;
	cct_err err;
	char needle[32];
	size_t off, seq;

	(void)state;
	pcrs_from(&want, json_object_get(json_object_get(json_object_get(exp, "tpm_event_logs"),
							 "rhel8-uefi.bin"), "pcrs"),
		  CCT_EVLOG_TPM);
	/* the data of the SecureBoot variable event changed (digest kept): named */
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
	k = find_event(&log, CCT_EV_EFI_VARIABLE_DRIVER_CONFIG, 7);
	seq = log.events[k].seq;
	off = (size_t)(log.events[k].data - b) + log.events[k].data_len - 1;
	cct_evlog_free(&log);
	b[off] ^= 1;
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
	assert_int_equal(cct_evlog_compare(&log, &want, &err), CCT_EMEASUREMENT);
	snprintf(needle, sizeof(needle), "event #%zu ", seq);
	assert_non_null(strstr(err.msg, needle));
	assert_non_null(strstr(err.msg, "EV_EFI_VARIABLE_DRIVER_CONFIG"));
	cct_evlog_free(&log);
	/* the CLI without expected values: the altered event is still a rejection (exit 1),
	 * never "verified" with its facts printed as the boot's; JSON says what was skipped */
	{
		const char *alt = cct_test_write_tmp("altered.bin", b, n);
		char *out = NULL;
		json_t *o;

		assert_int_equal(cct_test_cli(&out, "eventlog replay '%s'", alt), 1);
		assert_non_null(strstr(out, needle));
		free(out);
		assert_int_equal(cct_test_cli(&out, "eventlog replay '%s' --json", alt), 1);
		o = json_loads(out, 0, NULL);
		assert_non_null(o);
		assert_true(json_is_false(json_object_get(o, "verified")));
		assert_string_equal(json_string_value(json_array_get(json_object_get(
						o, "checks_skipped"), 0)), "expected_registers");
		json_decref(o);
		free(out);
	}
	b[off] ^= 1;

	/* a separator's digest changed: PCR4 diverges and the replay says which events fed it */
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
	k = find_event(&log, CCT_EV_SEPARATOR, 4);
	off = (size_t)(digest_of(&log.events[k], CCT_TPM_ALG_SHA256) - b);
	seq = log.events[k].seq;
	cct_evlog_free(&log);
	b[off] ^= 1;
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
	assert_int_equal(cct_evlog_compare(&log, &want, &err), CCT_EMEASUREMENT);
	assert_non_null(strstr(err.msg, "sha256 PCR4"));
	/* the separator's data no longer hashes to its digest: that event is the one named */
	snprintf(needle, sizeof(needle), "event #%zu ", seq);
	assert_non_null(strstr(err.msg, needle));
	cct_evlog_free(&log);
	b[off] ^= 1;

	/* truncated: unreadable, not a mismatch */
	assert_int_equal(cct_evlog_parse(&log, b, n - 3, CCT_EVLOG_TPM, &err), CCT_ETRUNC);
	assert_int_equal(cct_evlog_parse(&log, b, 20, CCT_EVLOG_TPM, &err), CCT_ETRUNC);
	/* a PCR index above 23 */
	{
		cct_evlog l2;

		assert_int_equal(cct_evlog_parse(&l2, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
		off = l2.events[1].offset;
		cct_evlog_free(&l2);
	}
	b[off] = 24;
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_EFORMAT);
	free(b);
	json_decref(exp);
}

static void ccel_one_engine(void **state)
{
	json_t *exp = expected_json(GE "expected.json");
	json_t *e = json_object_get(json_object_get(exp, "ccel"), "cos-113-intel-tdx.bin");
	size_t n, tn;
	uint8_t *b = cct_test_read_vector(GE "ccel/cos-113-intel-tdx.bin", &n);
	uint8_t *t = cct_test_read_vector(GE "ccel/cos-113-intel-tdx.table.bin", &tn);
	cct_evlog log;
	cct_tdx_ccel c;
	cct_tpm_pcrs want;
	cct_err err;
	json_t *r = json_object();
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char k[8];

		snprintf(k, sizeof(k), "rtmr%d", i);
		json_object_set(r, k, json_object_get(e, k));
	}
	pcrs_from(&want, r, CCT_EVLOG_CCEL);
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_CCEL, &err), CCT_OK);
	assert_int_equal(cct_evlog_compare(&log, &want, &err), CCT_OK);
	/* the TDX view is the same replay */
	assert_int_equal(cct_tdx_ccel_parse(&c, t, tn, b, n, &err), CCT_OK);
	for (i = 0; i < 4; i++)
		assert_memory_equal(c.rtmr[i], cct_evlog_find_bank(&log, CCT_TPM_ALG_SHA384)->reg[i],
				    48);
	assert_int_equal(c.count + 1, log.count);
	cct_tdx_ccel_free(&c);
	want.banks[0].v[1][5] ^= 1;
	assert_int_equal(cct_evlog_compare(&log, &want, &err), CCT_EMEASUREMENT);
	assert_non_null(strstr(err.msg, "RTMR1"));
	cct_evlog_free(&log);
	/* a TPM log is not a CCEL */
	json_decref(r);
	free(b);
	free(t);
	json_decref(exp);
}

/* ---- GCP TPM 2.0 dump ---- */

typedef struct {
	uint8_t *ak, *quote, *sig, *log;
	size_t akn, qn, sn, logn;
	cct_tpm_pcrs pcrs;
} gcp_dump;

static uint8_t *b64(const char *s, size_t *n)
{
	uint8_t *o = NULL;

	assert_int_equal(cct_b64_decode(&o, n, s, strlen(s), NULL), CCT_OK);
	return o;
}

static void gcp_load(gcp_dump *d)
{
	json_t *j = expected_json(GE "windows_gcp_shielded_vm.json"), *p;
	size_t i;

	memset(d, 0, sizeof(*d));
	d->ak = b64(json_string_value(json_object_get(json_object_get(j, "AK"), "Public")), &d->akn);
	d->quote = b64(json_string_value(json_object_get(json_object_get(j, "Quote"), "Quote")),
		       &d->qn);
	d->sig = b64(json_string_value(json_object_get(json_object_get(j, "Quote"), "Signature")),
		     &d->sn);
	d->log = b64(json_string_value(json_object_get(json_object_get(j, "Log"), "Raw")), &d->logn);
	json_array_foreach(json_object_get(json_object_get(j, "Log"), "PCRs"), i, p) {
		size_t vn;
		uint8_t *v = b64(json_string_value(json_object_get(p, "Digest")), &vn);

		assert_int_equal(json_integer_value(json_object_get(p, "DigestAlg")), 3); /* SHA-1 */
		assert_int_equal(cct_tpm_pcrs_set(&d->pcrs, CCT_TPM_ALG_SHA1,
						   (uint32_t)json_integer_value(json_object_get(p, "Index")),
						   v, vn, NULL),
				 CCT_OK);
		free(v);
	}
	json_decref(j);
}

static void gcp_free(gcp_dump *d)
{
	free(d->ak);
	free(d->quote);
	free(d->sig);
	free(d->log);
}

static int gcp_verify(gcp_dump *d, const cct_tpm_ak *ak, const uint8_t *nonce, size_t nn,
		      cct_err *err)
{
	cct_tpm_quote q;
	int rc = cct_tpm_quote_parse(&q, d->quote, d->qn, err);

	if (rc != CCT_OK)
		return rc;
	return cct_tpm_quote_verify(NULL, &q, d->quote, d->qn, d->sig, d->sn, ak, nonce, nn,
				    &d->pcrs, err);
}

static void gcp_quote(void **state)
{
	static const uint8_t empty[1] = { 0 };
	gcp_dump d;
	cct_tpm_ak *ak = NULL, *foreign = NULL;
	cct_tpm_quote q;
	cct_tpm_quote_result res;
	cct_err err;
	EVP_PKEY *k;
	BIO *bio;
	char *pem;
	long pl;

	(void)state;
	gcp_load(&d);
	assert_int_equal(cct_tpm_ak_load(&ak, d.ak, d.akn, &err), CCT_OK);
	assert_int_equal(cct_tpm_quote_parse(&q, d.quote, d.qn, &err), CCT_OK);
	assert_int_equal(q.extra_len, 0);
	assert_int_equal(q.nsel, 1);
	assert_int_equal(q.sel[0].alg, CCT_TPM_ALG_SHA1);
	assert_int_equal(q.sel[0].mask, 0xffffff);
	assert_int_equal(cct_tpm_quote_verify(&res, &q, d.quote, d.qn, d.sig, d.sn, ak, empty, 0,
					      &d.pcrs, &err),
			 CCT_OK);
	assert_int_equal(res.sig_alg, CCT_TPM_ALG_RSASSA);
	assert_int_equal(res.hash_alg, CCT_TPM_ALG_SHA1);
	assert_true(res.signature_verified && res.nonce_checked && res.pcrs_checked);

	/* wrong nonce */
	assert_int_equal(gcp_verify(&d, ak, (const uint8_t *)"x", 1, &err), CCT_ENONCE);
	assert_int_equal(err.stage, CCT_STAGE_BINDING);
	/* a PCR value changed */
	d.pcrs.banks[0].v[7][3] ^= 1;
	assert_int_equal(gcp_verify(&d, ak, empty, 0, &err), CCT_EMEASUREMENT);
	assert_int_equal(err.stage, CCT_STAGE_MEASUREMENT);
	d.pcrs.banks[0].v[7][3] ^= 1;
	/* a quote byte flipped (clock) */
	d.quote[d.qn - 60] ^= 1;
	assert_int_equal(gcp_verify(&d, ak, empty, 0, &err), CCT_ESIGNATURE);
	assert_int_equal(err.stage, CCT_STAGE_SIGNATURE);
	d.quote[d.qn - 60] ^= 1;
	/* a signature byte flipped */
	d.sig[d.sn - 1] ^= 1;
	assert_int_equal(gcp_verify(&d, ak, empty, 0, &err), CCT_ESIGNATURE);
	d.sig[d.sn - 1] ^= 1;
	/* a foreign AK (PEM) */
	k = EVP_RSA_gen(2048);
	assert_non_null(k);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
	pl = BIO_get_mem_data(bio, &pem);
	assert_int_equal(cct_tpm_ak_load(&foreign, (const uint8_t *)pem, (size_t)pl, &err), CCT_OK);
	assert_int_equal(gcp_verify(&d, foreign, empty, 0, &err), CCT_ESIGNATURE);
	BIO_free(bio);
	EVP_PKEY_free(k);
	cct_tpm_ak_free(foreign);
	/* and back to genuine: still fine */
	assert_int_equal(gcp_verify(&d, ak, empty, 0, &err), CCT_OK);
	/* truncated quote */
	assert_int_equal(cct_tpm_quote_parse(&q, d.quote, d.qn - 1, &err), CCT_ETRUNC);
	cct_tpm_ak_free(ak);
	gcp_free(&d);
}

/* The dump's raw log is in the SHA-1 legacy format and replays to the quoted PCRs. */
static void gcp_legacy_log(void **state)
{
	gcp_dump d;
	cct_evlog log;
	cct_err err;

	(void)state;
	gcp_load(&d);
	assert_int_equal(cct_evlog_parse(&log, d.log, d.logn, CCT_EVLOG_TPM, &err), CCT_OK);
	assert_false(log.crypto_agile);
	assert_int_equal(log.nbanks, 1);
	assert_int_equal(cct_evlog_compare(&log, &d.pcrs, &err), CCT_OK);
	d.pcrs.banks[0].v[14][0] ^= 1;
	assert_int_equal(cct_evlog_compare(&log, &d.pcrs, &err), CCT_EMEASUREMENT);
	assert_non_null(strstr(err.msg, "sha1 PCR14"));
	cct_evlog_free(&log);
	gcp_free(&d);
}

/* ---- Azure az-snp-vtpm (Trustee) ---- */

static char *evidence_text(const char *file)
{
	char rel[128];
	size_t n;
	uint8_t *b;

	snprintf(rel, sizeof(rel), AZ "%s", file);
	b = cct_test_read_vector(rel, &n);
	return (char *)b;
}

static int vtpm(const char *text, const char *nonce_hex, char **claims, cct_err *err)
{
	cct_vtpm_opts o;
	uint8_t *nonce = NULL;
	size_t nn = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	if (nonce_hex) {
		assert_int_equal(cct_hex_decode(&nonce, &nn, nonce_hex, strlen(nonce_hex), NULL),
				 CCT_OK);
		o.nonce = nonce;
		o.nonce_len = nn;
	}
	rc = cct_vtpm_verify_json(claims, text, strlen(text), &o, err);
	free(nonce);
	return rc;
}

static int vtpm_j(json_t *ev, const char *nonce_hex, cct_err *err)
{
	char *s = json_dumps(ev, JSON_COMPACT);
	int rc = vtpm(s, nonce_hex, NULL, err);

	free(s);
	return rc;
}

/* Replace the hex string field key of obj: flip the byte at index i (negative: from the end). */
static void flip_hex(json_t *obj, const char *key, long i)
{
	const char *s = json_string_value(json_object_get(obj, key));
	char *c = strdup(s);
	size_t n = strlen(c), at = i < 0 ? n + (size_t)(2 * i) : (size_t)(2 * i);

	c[at + 1] = c[at + 1] == '0' ? '1' : '0';
	json_object_set_new(obj, key, json_string(c));
	free(c);
}

static void az_vectors(void **state)
{
	json_t *exp = expected_json(AZ "expected.json");
	static const char *const files[] = { "evidence-v1.json", "evidence-v2.json" };
	size_t f;

	(void)state;
	for (f = 0; f < 2; f++) {
		json_t *x = json_object_get(exp, files[f]);
		const char *nonce = json_string_value(json_object_get(x, "tpm_quote_nonce_hex"));
		char *text = evidence_text(files[f]), *claims = NULL;
		json_t *cl, *ev, *bad, *q;
		cct_err err;
		uint8_t *hcl;
		size_t hn;
		char *enc;

		assert_int_equal(vtpm(text, nonce, &claims, &err), CCT_OK);
		cl = json_loads(claims, 0, NULL);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(json_object_get(cl, "pcrs"), "sha256"), "0")),
				    json_string_value(json_object_get(x, "pcr0")));
		assert_int_equal(json_object_size(json_object_get(json_object_get(cl, "pcrs"),
								  "sha256")),
				 24);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(cl, "snp"), "product")),
				    "Milan");
		json_decref(cl);
		free(claims);

		ev = json_loads(text, 0, NULL);
		/* wrong nonce */
		assert_int_equal(vtpm(text, "00", NULL, &err), CCT_ENONCE);
		assert_int_equal(err.stage, CCT_STAGE_BINDING);
		/* quote message byte flipped (in the clock) */
		bad = json_deep_copy(ev);
		q = json_object_get(bad, "tpm_quote");
		flip_hex(q, "message", -60);
		assert_int_equal(vtpm_j(bad, nonce, &err), CCT_ESIGNATURE);
		assert_int_equal(err.stage, CCT_STAGE_SIGNATURE);
		json_decref(bad);
		/* signature byte flipped */
		bad = json_deep_copy(ev);
		flip_hex(json_object_get(bad, "tpm_quote"), "signature", -1);
		assert_int_equal(vtpm_j(bad, nonce, &err), CCT_ESIGNATURE);
		json_decref(bad);
		/* PCR changed */
		bad = json_deep_copy(ev);
		q = json_object_get(bad, "tpm_quote");
		{
			json_t *p = json_object_get(q, "pcrs");
			json_t *holder = json_object();

			json_object_set(holder, "v", json_array_get(p, 9));
			flip_hex(holder, "v", 0);
			json_array_set(p, 9, json_object_get(holder, "v"));
			json_decref(holder);
		}
		assert_int_equal(vtpm_j(bad, nonce, &err), CCT_EMEASUREMENT);
		assert_int_equal(err.stage, CCT_STAGE_MEASUREMENT);
		json_decref(bad);
		/* HCL runtime data byte changed (the AK's modulus): REPORT_DATA binding */
		bad = json_deep_copy(ev);
		assert_int_equal(cct_b64_decode(&hcl, &hn, json_string_value(json_object_get(
									  bad, "hcl_report")),
						strlen(json_string_value(json_object_get(bad,
											"hcl_report"))),
						NULL),
				 CCT_OK);
		hcl[0x20 + 1184 + 20 + 120] ^= 0x01;
		enc = cct_b64_encode(hcl, hn, 1);
		json_object_set_new(bad, "hcl_report", json_string(enc));
		assert_int_equal(vtpm_j(bad, nonce, &err), CCT_EBINDING);
		assert_int_equal(err.stage, CCT_STAGE_BINDING);
		free(enc);
		/* SNP report byte changed (measurement): the hardware signature */
		hcl[0x20 + 1184 + 20 + 120] ^= 0x01;
		hcl[0x20 + 0x90] ^= 0x01;
		enc = cct_b64_encode(hcl, hn, 1);
		json_object_set_new(bad, "hcl_report", json_string(enc));
		assert_int_equal(vtpm_j(bad, nonce, &err), CCT_ESIGNATURE);
		free(enc);
		free(hcl);
		json_decref(bad);
		/* the VCEK of the other vector is the same chip here; a missing one fails closed */
		bad = json_deep_copy(ev);
		json_object_del(bad, "vcek");
		assert_int_not_equal(vtpm_j(bad, nonce, &err), CCT_OK);
		json_decref(bad);
		/* no nonce: verified, with the skip listed */
		assert_int_equal(vtpm(text, NULL, &claims, &err), CCT_OK);
		assert_non_null(strstr(claims, "tpm_quote_nonce"));
		free(claims);
		json_decref(ev);
		free(text);
	}
	json_decref(exp);
}

/* Trustee's legacy v0 shape (byte arrays, "quote"/"report", PEM VCEK) built from v1. */
static void az_v0(void **state)
{
	char *text = evidence_text("evidence-v1.json");
	json_t *v1 = json_loads(text, 0, NULL), *v0 = json_object(), *q = json_object(), *a;
	uint8_t *bytes;
	size_t n, i;
	const char *fields[] = { "message", "signature" };
	cct_err err;
	char *pem, *s;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		const char *h = json_string_value(json_object_get(json_object_get(v1, "tpm_quote"),
								  fields[k]));

		assert_int_equal(cct_hex_decode(&bytes, &n, h, strlen(h), NULL), CCT_OK);
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_integer(bytes[i]));
		json_object_set_new(q, fields[k], a);
		free(bytes);
	}
	a = json_array();
	for (i = 0; i < 24; i++) {
		const char *h = json_string_value(json_array_get(
			json_object_get(json_object_get(v1, "tpm_quote"), "pcrs"), i));
		json_t *pa = json_array();
		size_t j;

		assert_int_equal(cct_hex_decode(&bytes, &n, h, strlen(h), NULL), CCT_OK);
		for (j = 0; j < n; j++)
			json_array_append_new(pa, json_integer(bytes[j]));
		json_array_append_new(a, pa);
		free(bytes);
	}
	json_object_set_new(q, "pcrs", a);
	json_object_set_new(v0, "quote", q);
	s = (char *)json_string_value(json_object_get(v1, "hcl_report"));
	assert_int_equal(cct_b64_decode(&bytes, &n, s, strlen(s), NULL), CCT_OK);
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(bytes[i]));
	json_object_set_new(v0, "report", a);
	free(bytes);
	s = (char *)json_string_value(json_object_get(v1, "vcek"));
	assert_int_equal(cct_b64_decode(&bytes, &n, s, strlen(s), NULL), CCT_OK);
	s = cct_b64_encode(bytes, n, 0); /* v1 is base64url; PEM is standard base64 */
	free(bytes);
	n = strlen(s);
	pem = malloc(n + n / 64 + 128);
	{
		size_t o = (size_t)sprintf(pem, "-----BEGIN CERTIFICATE-----\n");

		for (i = 0; i < n; i += 64)
			o += (size_t)sprintf(pem + o, "%.64s\n", s + i);
		sprintf(pem + o, "-----END CERTIFICATE-----\n");
	}
	json_object_set_new(v0, "vcek", json_string(pem));
	free(pem);
	free(s);
	if (vtpm_j(v0, "6368616c6c656e6765", &err) != CCT_OK)
		fail_msg("v0: %s", err.msg);
	assert_int_equal(vtpm_j(v0, "6368616c6c656e6766", &err), CCT_ENONCE);
	json_decref(v0);
	json_decref(v1);
	free(text);
}

static void hcl_parse(void **state)
{
	char *text = evidence_text("evidence-v2.json");
	json_t *ev = json_loads(text, 0, NULL);
	const char *s = json_string_value(json_object_get(ev, "hcl_report"));
	cct_hcl_report h;
	cct_err err;
	uint8_t *b, hash[64];
	size_t n;

	(void)state;
	assert_int_equal(cct_b64_decode(&b, &n, s, strlen(s), NULL), CCT_OK);
	assert_int_equal(cct_hcl_report_parse(&h, b, n, &err), CCT_OK);
	assert_int_equal(h.report_type, CCT_HCL_REPORT_TYPE_SNP);
	assert_int_equal(h.hash_type, 1);
	assert_int_equal(h.runtime_len, 1110);
	assert_int_equal(cct_hcl_runtime_hash(&h, hash), 32);
	assert_memory_equal(hash, h.hw_report + 0x50, 32);
	/* truncated, wrong magic, padding not zero, report_size inconsistent */
	assert_int_not_equal(cct_hcl_report_parse(&h, b, 0x20 + 1184 + 10, &err), CCT_OK);
	b[0] ^= 1;
	assert_int_equal(cct_hcl_report_parse(&h, b, n, &err), CCT_EFORMAT);
	b[0] ^= 1;
	b[n - 1] = 1;
	assert_int_equal(cct_hcl_report_parse(&h, b, n, &err), CCT_ETRAILING);
	b[n - 1] = 0;
	b[8] ^= 1;
	assert_int_equal(cct_hcl_report_parse(&h, b, n, &err), CCT_EFORMAT);
	free(b);
	json_decref(ev);
	free(text);
}

static const char *write_text(const char *name, const char *text)
{
	return cct_test_write_tmp(name, text, strlen(text));
}

/* CLI contracts: exit codes and JSON shapes of eventlog, tpm quote verify, vtpm verify. */
static void cli_contract(void **state)
{
	const char *v = getenv("CCT_VECTORS");
	const char *good, *bad, *rt;
	char *out = NULL;
	json_t *o;

	(void)state;
	good = write_text("good.json",
				  "{\"sha256\": {\"0\": \"24af52a4f429b71a3184a6d64cddad17e54ea030e2aa"
				  "6576bf3a5a3d8bd3328f\"}}");
	assert_int_equal(cct_test_cli(&out, "eventlog replay '%s/" GE "tpm/rhel8-uefi.bin' "
					    "--pcrs '%s' --json", v, good),
			 0);
	o = json_loads(out, 0, NULL);
	assert_true(json_is_true(json_object_get(o, "verified")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
					    o, "pcrs"), "sha256"), "0")),
			    "24af52a4f429b71a3184a6d64cddad17e54ea030e2aa6576bf3a5a3d8bd3328f");
	json_decref(o);
	free(out);
	bad = write_text("bad.json",
				 "{\"sha256\": {\"0\": \"00af52a4f429b71a3184a6d64cddad17e54ea030e2aa"
				 "6576bf3a5a3d8bd3328f\"}}");
	assert_int_equal(cct_test_cli(&out, "eventlog replay '%s/" GE "tpm/rhel8-uefi.bin' "
					    "--pcrs '%s'", v, bad),
			 1);
	assert_non_null(strstr(out, "PCR0"));
	free(out);
	/* unreadable: missing file, a log that is not one, malformed --pcrs */
	assert_int_equal(cct_test_cli(&out, "eventlog replay /nonexistent"), 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "eventlog replay '%s/" AZ "expected.json'", v), 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "eventlog replay '%s/" GE "tpm/rhel8-uefi.bin' "
					    "--pcrs '%s/" AZ "expected.json'", v, v),
			 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "eventlog show '%s/" GE "tpm/rhel8-uefi.bin'", v), 0);
	assert_non_null(strstr(out, "EV_EFI_BOOT_SERVICES_APPLICATION"));
	free(out);
	rt = write_text("r.json", "{\"rtmr0\": \"3fa2f61f395b7f5feefb4ec2df61297f109ad8abc"
				"d6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6\"}");
	assert_int_equal(cct_test_cli(&out, "eventlog replay '%s/" GE "ccel/cos-113-intel-tdx.bin' "
					    "--ccel --rtmrs '%s' --json", v, rt),
			 0);
	assert_non_null(strstr(out, "\"rtmrs\""));
	free(out);
	/* a file of fill is not an event log, and expected values naming no register compare
	 * nothing: both refused, never "verified" */
	{
		static const uint8_t zeros[4096];
		const char *z = cct_test_write_tmp("zeros.bin", zeros, sizeof(zeros));
		const char *none = write_text("none.json", "{\"sha256\": {}}");

		assert_int_equal(cct_test_cli(&out, "eventlog replay '%s' --json", z), 2);
		assert_non_null(strstr(out, "no events"));
		free(out);
		assert_int_equal(cct_test_cli(&out, "eventlog replay '%s/" GE "tpm/rhel8-uefi.bin' "
						    "--pcrs '%s' --json 2>&1", v, none),
				 2);
		assert_non_null(strstr(out, "no register values"));
		free(out);
	}
	/* vtpm verify */
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' --nonce "
					    "6368616c6c656e6765 --json", v),
			 0);
	assert_non_null(strstr(out, "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' --nonce 00",
				      v),
			 1);
	free(out);
	/* after the VCEK expired */
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' --nonce "
					    "6368616c6c656e6765 --at 2033-01-01T00:00:00Z", v),
			 1);
	free(out);
	/* --collateral turns the AMD CRL check on; a cache without the CRL, offline, fails
	 * closed, and --no-crl lifts it, listed as skipped and insecure */
	{
		char coll[4096], *slash;

		snprintf(coll, sizeof(coll), "%s", good);
		slash = strrchr(coll, '/');
		assert_non_null(slash);
		*slash = '\0';
		assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' "
						    "--collateral '%s' --offline --json", v, coll),
				 1);
		assert_non_null(strstr(out, "\"revocation\""));
		assert_non_null(strstr(out, "\"insecure\": []"));
		free(out);
		assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' "
						    "--collateral '%s' --offline --no-crl --json", v,
					      coll),
				 0);
		assert_non_null(strstr(out, "\"snp_crl\""));
		assert_non_null(strstr(out, "\"no-crl\""));
		free(out);
	}
	/* policy over PCRs */
	good = write_text("pol.json", "{\"version\": \"cctrust.policy/v1\", \"snp\": "
				  "{\"products\": [\"Milan\"]}, \"vtpm\": {\"pcrs\": {\"sha256\": "
				  "{\"0\": [\"e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48d"
				  "ced\"]}}}}");
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' --nonce "
					    "6368616c6c656e6765 --policy '%s'", v, good),
			 0);
	free(out);
	bad = write_text("pol2.json", "{\"version\": \"cctrust.policy/v1\", \"vtpm\": "
				 "{\"pcrs\": {\"sha256\": {\"0\": [\"f15c44796beabf46abcec7c57e5909420"
				 "41e47497e4ec27571c8b7664f48dced\"]}}}}");
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' --nonce "
					    "6368616c6c656e6765 --policy '%s' --json", v, bad),
			 1);
	assert_non_null(strstr(out, "\"policy\""));
	assert_non_null(strstr(out, "vtpm.pcrs.sha256.0"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "vtpm verify /nonexistent"), 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' --bogus", v),
			 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "tpm quote verify --ak /nonexistent --quote x --sig y"),
			 2);
	free(out);
	assert_int_equal(cct_test_cli(&out, "eventlog --help"), 0);
	free(out);
	assert_int_equal(cct_test_cli(&out, "vtpm --help"), 0);
	free(out);
	assert_int_equal(cct_test_cli(&out, "tpm --help"), 0);
	free(out);
}

/* Expected register values must name each register once, canonically: a repeated key ("0"
 * twice) or an alias ("00", "+0", " 0") kept one of two values and silently dropped the
 * other, so a wrong first value still "verified". */
static void pcrs_json_ambiguous(void **state)
{
	static const char *const bad[] = {
		"{\"sha256\": {\"0\": \"%s\", \"0\": \"%s\"}}",
		"{\"sha256\": {\"00\": \"%s\", \"0\": \"%s\"}}",
		"{\"sha256\": {\"+0\": \"%s\", \"0\": \"%s\"}}",
		"{\"sha256\": {\" 0\": \"%s\", \"0\": \"%s\"}}",
		"{\"sha256\": {\"0\": \"%s\"}, \"sha256\": {\"0\": \"%s\"}}",
	};
	static const char wrong[] = "00af52a4f429b71a3184a6d64cddad17e54ea030e2aa6576bf3a5a3d8bd3328f";
	static const char right[] = "24af52a4f429b71a3184a6d64cddad17e54ea030e2aa6576bf3a5a3d8bd3328f";
	const char *v = getenv("CCT_VECTORS");
	char js[512], *out = NULL;
	cct_tpm_pcrs p;
	cct_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(js, sizeof(js), bad[i], wrong, right);
		assert_int_not_equal(cct_tpm_pcrs_parse_json(&p, js, strlen(js), CCT_EVLOG_TPM, &err),
				     CCT_OK);
		assert_int_equal(cct_test_cli(&out, "eventlog replay '%s/" GE "tpm/rhel8-uefi.bin' "
						    "--pcrs '%s' 2>&1", v, write_text("dup.json", js)),
				 2);
		free(out);
	}
	snprintf(js, sizeof(js), "{\"rtmr0\": \"%096d\", \"rtmr0\": \"%096d\"}", 0, 0);
	assert_int_not_equal(cct_tpm_pcrs_parse_json(&p, js, strlen(js), CCT_EVLOG_CCEL, &err),
			     CCT_OK);
	/* the canonical spellings still parse */
	snprintf(js, sizeof(js), "{\"sha256\": {\"0\": \"%s\", \"10\": \"%s\", \"23\": \"%s\"}}",
		 right, right, right);
	assert_int_equal(cct_tpm_pcrs_parse_json(&p, js, strlen(js), CCT_EVLOG_TPM, &err), CCT_OK);
	assert_int_equal(p.banks[0].mask, (1u << 0) | (1u << 10) | (1u << 23));
}

static size_t put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return 4;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return 2;
}

/* A crypto-agile log (banks sha1, sha256) with one EV_POST_CODE in PCR0 whose two digests are
 * both sha256: the replay kept the second, another tool may take the first. Refused, naming
 * the offset of the repeated algorithm. */
static void eventlog_digest_twice(void **state)
{
	uint8_t b[256];
	size_t n = 0, at;
	cct_evlog log;
	cct_err err;
	char *out = NULL;

	(void)state;
	memset(b, 0, sizeof(b));
	n += put32(b + n, 0);
	n += put32(b + n, CCT_EV_NO_ACTION);
	n += 20;
	n += put32(b + n, 16 + 8 + 4 + 2 * 4 + 1);
	memcpy(b + n, "Spec ID Event03", 16);
	n += 16;
	b[n + 4] = 0; /* platform class 0, spec 2.0 errata 0, uintn 2 */
	b[n + 5] = 2;
	b[n + 7] = 2;
	n += 8;
	n += put32(b + n, 2);
	n += put16(b + n, CCT_TPM_ALG_SHA1);
	n += put16(b + n, 20);
	n += put16(b + n, CCT_TPM_ALG_SHA256);
	n += put16(b + n, 32);
	b[n++] = 0;
	n += put32(b + n, 0);
	n += put32(b + n, 1); /* EV_POST_CODE */
	n += put32(b + n, 2);
	n += put16(b + n, CCT_TPM_ALG_SHA256);
	memset(b + n, 0xaa, 32);
	n += 32;
	at = n;
	n += put16(b + n, CCT_TPM_ALG_SHA256);
	memset(b + n, 0xbb, 32);
	n += 32;
	n += put32(b + n, 4);
	memcpy(b + n, "POST", 4);
	n += 4;
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_EFORMAT);
	assert_int_equal(err.offset, at);
	assert_int_equal(cct_test_cli(&out, "eventlog show '%s' 2>&1",
				      cct_test_write_tmp("twice.bin", b, n)),
			 2);
	free(out);
	/* the same log with sha1 + sha256 digests parses */
	put16(b + at, CCT_TPM_ALG_SHA1);
	memmove(b + at + 2 + 20, b + at + 2 + 32, n - (at + 2 + 32));
	n -= 12;
	assert_int_equal(cct_evlog_parse(&log, b, n, CCT_EVLOG_TPM, &err), CCT_OK);
	assert_int_equal(log.count, 2);
	cct_evlog_free(&log);
}

/* Evidence naming a member twice (a bogus "tpm_quote", then the real one) verified with the
 * last: another reader of the same JSON may take the first. Refused as unreadable input. */
static void az_duplicate_member(void **state)
{
	json_t *ev = expected_json(AZ "evidence-v1.json");
	char *q = json_dumps(json_object_get(ev, "tpm_quote"), JSON_COMPACT), *rest, *text;
	char *out = NULL;
	const char *v = getenv("CCT_VECTORS");
	size_t n;

	(void)state;
	assert_non_null(q);
	json_object_del(ev, "tpm_quote");
	rest = json_dumps(ev, JSON_COMPACT);
	assert_non_null(rest);
	n = strlen(rest);
	rest[n - 1] = 0; /* the closing brace */
	assert_true(asprintf(&text, "%s, \"tpm_quote\": {\"message\": \"00\", \"pcrs\": [], "
				    "\"signature\": \"00\"}, \"tpm_quote\": %s}", rest, q) > 0);
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s' --nonce 6368616c6c656e6765 --json",
				      cct_test_write_tmp("dup-ev.json", text, strlen(text))),
			 2);
	assert_non_null(strstr(out, "duplicate"));
	free(out);
	/* the same evidence without the decoy still verifies */
	assert_int_equal(cct_test_cli(&out, "vtpm verify '%s/" AZ "evidence-v1.json' --nonce "
					    "6368616c6c656e6765", v),
			 0);
	free(out);
	free(text);
	free(rest);
	free(q);
	json_decref(ev);
}

/* tpm quote verify on files cut from the GCP dump */
static void cli_quote(void **state)
{
	gcp_dump d;
	const char *ak, *q, *s, *p;
	char *out = NULL, pj[4096];
	size_t o = 0;
	uint32_t i;

	(void)state;
	gcp_load(&d);
	ak = strdup(cct_test_write_tmp("ak.bin", d.ak, d.akn));
	q = strdup(cct_test_write_tmp("quote.bin", d.quote, d.qn));
	s = strdup(cct_test_write_tmp("sig.bin", d.sig, d.sn));
	o += (size_t)snprintf(pj + o, sizeof(pj) - o, "{\"sha1\": {");
	for (i = 0; i < 24; i++) {
		char h[41];

		cct_hex_encode(h, d.pcrs.banks[0].v[i], 20);
		o += (size_t)snprintf(pj + o, sizeof(pj) - o, "%s\"%u\": \"%s\"", i ? ", " : "", i, h);
	}
	o += (size_t)snprintf(pj + o, sizeof(pj) - o, "}}");
	p = strdup(cct_test_write_tmp("pcrs.json", pj, o));
	assert_int_equal(cct_test_cli(&out, "tpm quote verify --ak '%s' --quote '%s' --sig '%s' "
					    "--pcrs '%s' --nonce '' --json", ak, q, s, p),
			 0);
	assert_non_null(strstr(out, "a610f27bc687ce906243287d832706036e79f6e1"));
	assert_non_null(strstr(out, "\"pcrs_not_quoted\": {}"));
	free(out);
	/* values the quote does not select verify nothing: never presented as attested */
	{
		char pj2[4200];
		const char *p2;
		json_t *oj;

		snprintf(pj2, sizeof(pj2), "%.*s, \"sha256\": {\"3\": \"%064d\"}}", (int)o - 1, pj,
			 0);
		p2 = strdup(cct_test_write_tmp("pcrs2.json", pj2, strlen(pj2)));
		assert_int_equal(cct_test_cli(&out, "tpm quote verify --ak '%s' --quote '%s' "
						    "--sig '%s' --pcrs '%s' --json", ak, q, s, p2),
				 0);
		oj = json_loads(out, 0, NULL);
		assert_non_null(oj);
		assert_int_equal(json_integer_value(json_array_get(json_object_get(
					 json_object_get(oj, "pcrs_not_quoted"), "sha256"), 0)), 3);
		assert_null(json_object_get(json_object_get(json_object_get(oj, "claims"), "pcrs"),
					    "sha256"));
		assert_int_equal(json_object_size(json_object_get(json_object_get(json_object_get(
					 oj, "claims"), "pcrs"), "sha1")), 24);
		json_decref(oj);
		free(out);
		assert_int_equal(cct_test_cli(&out, "tpm quote verify --ak '%s' --quote '%s' "
						    "--sig '%s' --pcrs '%s'", ak, q, s, p2),
				 0);
		assert_non_null(strstr(out, "not attested"));
		assert_non_null(strstr(out, "sha256 PCR3"));
		free(out);
		free((void *)p2);
	}
	assert_int_equal(cct_test_cli(&out, "tpm quote verify --ak '%s' --quote '%s' --sig '%s' "
					    "--pcrs '%s' --nonce 01", ak, q, s, p),
			 1);
	free(out);
	assert_int_equal(cct_test_cli(&out, "eventlog replay '%s' --pcrs '%s'",
				      cct_test_write_tmp("log.bin", d.log, d.logn), p),
			 0);
	free(out);
	free((void *)ak);
	free((void *)q);
	free((void *)s);
	free((void *)p);
	gcp_free(&d);
}

/* cctrust verify with tee az-snp-vtpm: the composite path and the policy's vtpm section */
static void composite_az(void **state)
{
	char *text = evidence_text("evidence-v1.json"), *body, *out = NULL;
	json_t *req = json_object(), *rd = json_object(), *te = json_object(), *pk;
	const char *rq, *good, *bad, *invalid;

	(void)state;
	pk = json_loads("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"x\":"
			"\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":"
			"\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}", 0, NULL);
	json_object_set_new(rd, "nonce", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	json_object_set_new(rd, "tee-pubkey", pk);
	json_object_set_new(req, "runtime-data", rd);
	json_object_set_new(te, "primary_evidence", json_loads(text, 0, NULL));
	json_object_set_new(te, "additional_evidence", json_string(""));
	json_object_set_new(req, "tee-evidence", te);
	body = json_dumps(req, JSON_COMPACT);
	rq = strdup(write_text("azreq.json", body));
	good = strdup(write_text("azpol.json", "{\"version\": \"cctrust.policy/v1\", \"tee\": "
				 "[\"az-snp-vtpm\"], \"snp\": {\"products\": [\"Milan\"]}, "
				 "\"vtpm\": {\"pcrs\": {\"sha256\": {\"0\": [\"e15c44796beabf46"
				 "abcec7c57e590942041e47497e4ec27571c8b7664f48dced\"]}}}}"));
	bad = strdup(write_text("azpol2.json", "{\"version\": \"cctrust.policy/v1\", \"vtpm\": "
				"{\"pcrs\": {\"sha256\": {\"0\": [\"f15c44796beabf46abcec7c57e5909"
				"42041e47497e4ec27571c8b7664f48dced\"]}}}}"));
	invalid = strdup(write_text("azpol3.json", "{\"version\": \"cctrust.policy/v1\", "
				    "\"vtpm\": {\"pcrs\": {\"sha256\": {\"24\": [\"00\"]}}}}"));
	/* captured evidence (its quote nonce is "challenge"): binding skipped, CRL off */
	assert_int_equal(cct_test_cli(&out, "verify '%s' --no-crl --skip-binding-insecure "
					    "--policy '%s' --json", rq, good),
			 0);
	assert_non_null(strstr(out, "\"tee\": \"az-snp-vtpm\""));
	assert_non_null(strstr(out, "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "verify '%s' --no-crl --skip-binding-insecure "
					    "--policy '%s' --json", rq, bad),
			 1);
	assert_non_null(strstr(out, "vtpm.pcrs.sha256.0"));
	free(out);
	/* bound to another nonce: the quote's extraData is not the runtime-data hash */
	assert_int_equal(cct_test_cli(&out, "verify '%s' --no-crl --policy '%s' --json", rq, good),
			 1);
	assert_non_null(strstr(out, "\"binding\""));
	free(out);
	/* revocation required by default and no CRL offline: fails closed */
	assert_int_equal(cct_test_cli(&out, "verify '%s' --offline --skip-binding-insecure --json",
				      rq),
			 1);
	free(out);
	/* a policy with a PCR index out of range does not load */
	assert_int_equal(cct_test_cli(&out, "verify '%s' --no-crl --skip-binding-insecure "
					    "--policy '%s'", rq, invalid),
			 2);
	free(out);
	/* nor one whose kernel_cmdline rule is neither a string nor {"prefix"} */
	assert_int_equal(cct_test_cli(&out, "verify '%s' --no-crl --skip-binding-insecure "
					    "--policy '%s'", rq,
				      write_text("azpol4.json", "{\"version\": \"cctrust.policy/v1\", "
						 "\"vtpm\": {\"kernel_cmdline\": {\"suffix\": \"x\"}}}")),
			 2);
	free(out);
	/* Trustee's evidence carries no event log: a Secure Boot rule cannot pass (fail closed) */
	assert_int_equal(cct_test_cli(&out, "verify '%s' --no-crl --skip-binding-insecure "
					    "--policy '%s' --json", rq,
				      write_text("azpol5.json", "{\"version\": \"cctrust.policy/v1\", "
						 "\"vtpm\": {\"secure_boot\": true}}")),
			 1);
	assert_non_null(strstr(out, "vtpm.secure_boot"));
	free(out);
	free((void *)rq);
	free((void *)good);
	free((void *)bad);
	free((void *)invalid);
	free(body);
	json_decref(req);
	free(text);
}

/* TDX: the same engine's facts over a CCEL that replays to the (simulated) quote's RTMRs;
 * the tdx section's event-log rules; a changed event behind an unchanged digest refused. */
static void composite_tdx_ccel(void **state)
{
	const char *v = getenv("CCT_VECTORS");
	char sim[512], *out = NULL, logp[600];
	const char *jwk, *good, *bad, *req, *treq;
	size_t n;
	uint8_t *log;
	cct_evlog ev;
	cct_err err;
	size_t k, off = 0;

	(void)state;
	snprintf(sim, sizeof(sim), "%s/sim", cct_test_tmpdir());
	snprintf(logp, sizeof(logp), "%s/" GE "ccel/cos-113-intel-tdx.bin", v);
	assert_int_equal(cct_test_cli(&out, "sim init '%s'", sim), 0);
	free(out);
	assert_int_equal(cct_test_cli(&out, "sim tee-key"), 0);
	jwk = strdup(write_text("tee.jwk", out));
	free(out);
	req = strdup(cct_test_write_tmp("tdxreq.json", "", 0));
	assert_int_equal(cct_test_cli(&out, "sim evidence '%s' --tee tdx --nonce "
					    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --tee-pubkey '%s' "
					    "--ccel-data '%s' -o '%s'", sim, jwk, logp, req),
			 0);
	free(out);
	good = strdup(write_text("tdxpol.json", "{\"version\": \"cctrust.policy/v1\", \"tdx\": "
				 "{\"secure_boot\": false, \"kernel_cmdline\": {\"prefix\": "
				 "\"/syslinux/vmlinuz.A init=/usr/lib/systemd/systemd\"}}}"));
	bad = strdup(write_text("tdxpol2.json", "{\"version\": \"cctrust.policy/v1\", \"tdx\": "
				"{\"secure_boot\": true}}"));
	assert_int_equal(cct_test_cli(&out, "verify '%s' --trust-sim '%s' --policy '%s' --json", req,
				      sim, good),
			 0);
	assert_non_null(strstr(out, "\"eventlog\""));
	free(out);
	assert_int_equal(cct_test_cli(&out, "verify '%s' --trust-sim '%s' --policy '%s' --json", req,
				      sim, bad),
			 1);
	assert_non_null(strstr(out, "tdx.secure_boot"));
	free(out);
	/* the SecureBoot variable's data changed, its digest kept: RTMRs still replay, the engine
	 * names the event */
	log = cct_test_read_vector(GE "ccel/cos-113-intel-tdx.bin", &n);
	assert_int_equal(cct_evlog_parse(&ev, log, n, CCT_EVLOG_CCEL, &err), CCT_OK);
	for (k = 0; k < ev.count; k++)
		if (ev.events[k].type == CCT_EV_EFI_VARIABLE_DRIVER_CONFIG) {
			off = (size_t)(ev.events[k].data - log) + ev.events[k].data_len - 1;
			break;
		}
	cct_evlog_free(&ev);
	assert_true(off > 0);
	log[off] ^= 1;
	treq = strdup(cct_test_write_tmp("tdxreq2.json", "", 0));
	assert_int_equal(cct_test_cli(&out, "sim evidence '%s' --tee tdx --nonce "
					    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --tee-pubkey '%s' "
					    "--ccel-data '%s' -o '%s'", sim, jwk,
				      cct_test_write_tmp("ccel-changed.bin", log, n), treq),
			 0);
	free(out);
	assert_int_equal(cct_test_cli(&out, "verify '%s' --trust-sim '%s' --json", treq, sim), 1);
	assert_non_null(strstr(out, "EV_EFI_VARIABLE_DRIVER_CONFIG"));
	free(out);
	free(log);
	free((void *)jwk);
	free((void *)req);
	free((void *)treq);
	free((void *)good);
	free((void *)bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eventlog_vectors),
		cmocka_unit_test(eventlog_facts),
		cmocka_unit_test(eventlog_tampered),
		cmocka_unit_test(ccel_one_engine),
		cmocka_unit_test(gcp_quote),
		cmocka_unit_test(gcp_legacy_log),
		cmocka_unit_test(az_vectors),
		cmocka_unit_test(az_v0),
		cmocka_unit_test(hcl_parse),
		cmocka_unit_test(cli_contract),
		cmocka_unit_test(cli_quote),
		cmocka_unit_test(pcrs_json_ambiguous),
		cmocka_unit_test(eventlog_digest_twice),
		cmocka_unit_test(az_duplicate_member),
		cmocka_unit_test(composite_az),
		cmocka_unit_test(composite_tdx_ccel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
