/* Attested TLS, relying-party side: certificate evidence and fresh evidence verified with the
 * composite verifier (same CPU / GPU modules and cctrust.policy/v1 rules as `cctrust verify`),
 * bound to the claims buffer instead of Trustee's runtime data. Every refusal names its check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "json/json.h"
#include "ratls/ratls_int.h"
#include "x509/x509.h"

static int fail(char check[48], const char *section, const char *name, cct_err *err, int code,
		cct_stage stage, const char *msg)
{
	snprintf(check, 48, "%s.%s", section, name);
	return cct_err_set(err, code, stage, 0, "%s: %s", check, msg);
}

int cct_ratls_spki_pin(char out[64], const void *x509)
{
	EVP_PKEY *pk = X509_get0_pubkey((const X509 *)x509);
	uint8_t h[32];
	size_t hl = 0;
	char *b;

	out[0] = 0;
	if (cct_ratls__spki_hash(h, &hl, 1, pk) != 0 || !(b = cct_b64_encode(h, 32, 0)))
		return -1;
	snprintf(out, 64, "sha256//%s", b);
	free(b);
	return 0;
}

static json_t *claims_json(const cct_ratls_ev *e)
{
	json_t *c = json_object(), *ph = json_object();

	json_object_set_new(ph, "alg", json_integer(e->pk_alg));
	json_object_set_new(ph, "alg_name", json_string(e->pk_alg == 1 ? "sha-256" : e->pk_alg == 7 ? "sha-384" : "sha-512"));
	cct_json__set_hex(ph, "hash", e->pk_hash, e->pk_hash_len);
	json_object_set_new(c, "pubkey-hash", ph);
	if (e->has_nonce)
		cct_json__set_hex(c, "nonce", e->nonce, e->nonce_len);
	if (e->has_exporter)
		cct_json__set_hex(c, "cctrust-exporter", e->exporter, CCT_RATLS_EXPORTER_LEN);
	if (e->has_gpu_claim)
		json_object_set_new(c, "cctrust-gpus",
				    json_pack("{s:i,s:s,s:b}", "count", (int)e->gpu_count, "cc-mode",
					      e->gpu_cc_mode, "ppcie-mode", e->gpu_ppcie));
	return c;
}

static json_t *describe(const cct_ratls_ev *e)
{
	json_t *d = json_object(), *rec = json_array();
	char tag[24];
	int ours = !strcmp(e->tee, "snp") || !strcmp(e->tee, "tdx");

	snprintf(tag, sizeof(tag), "0x%llx", (unsigned long long)e->tag);
	json_object_set_new(d, "format", json_string(e->cmw ? "cmw-collection" : "tagged-evidence"));
	json_object_set_new(d, "evidence_tag", json_string(tag));
	json_object_set_new(d, "tee", json_string(e->tee));
	json_object_set_new(d, "cpu_evidence_bytes", json_integer((json_int_t)e->cpu_len));
	json_object_set_new(d, "claims", claims_json(e));
	json_object_set_new(d, "claims_buffer_bytes", json_integer((json_int_t)e->claims_len));
	if (e->cmw) {
		json_array_append_new(rec, json_string("cpu"));
		if (e->snp_certs)
			json_array_append_new(rec, json_string("snp-certs"));
		if (e->gpus)
			json_array_append_new(rec, json_string("gpus"));
	}
	json_object_set_new(d, "records", rec);
	if (e->gpus) {
		json_t *g = json_loads(e->gpus, 0, NULL);
		const json_t *l = json_object_get(json_object_get(g, "nvidia"), "device_evidence_list");

		json_object_set_new(d, "gpu_evidence_count", json_integer((json_int_t)json_array_size(l)));
		json_decref(g);
	}
	json_object_set_new(d, "cctrust_can_verify", json_boolean(ours));
	json_object_set_new(d, "verifiable_parts",
			    ours ? json_pack("[s,s,s]", "cpu-evidence", "claims", e->gpus ? "gpu-evidence" : "pubkey-hash")
				 : json_pack("[s,s]", "claims", "pubkey-hash"));
	if (!ours)
		json_object_set_new(d, "note", json_string(!strcmp(e->tee, "sgx")
								   ? "SGX evidence: cctrust decodes the claims but does not verify SGX quotes"
								   : "unknown evidence tag: claims decoded only"));
	return d;
}

int cct_ratls_evidence_describe(json_t **out, const uint8_t *p, size_t n, cct_err *err)
{
	cct_ratls_ev e;
	int rc = cct_ratls__decode(&e, p, n, err);

	*out = NULL;
	if (rc != CCT_OK)
		return rc;
	*out = describe(&e);
	cct_ratls__ev_clear(&e);
	return CCT_OK;
}

static int load_cert(X509 **out, const uint8_t *p, size_t n, cct_err *err)
{
	const unsigned char *q = p;
	BIO *b;

	*out = NULL;
	if (n > 0 && p[0] == 0x30) {
		*out = d2i_X509(NULL, &q, (long)n);
		if (*out && q != p + n) { /* one DER certificate, nothing after it */
			X509_free(*out);
			*out = NULL;
			return cct_err_set(err, CCT_ETRAILING, CCT_STAGE_INPUT, (size_t)(q - p),
					   "%zu bytes after the DER certificate", n - (size_t)(q - p));
		}
	} else if ((b = BIO_new_mem_buf(p, (int)n))) {
		*out = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	return *out ? CCT_OK : cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0, "not a PEM or DER certificate");
}

/* The evidence extension's value: 0 when the certificate holds exactly one, -1 none, -2 more
 * than one (RFC 5280 4.2: an extension appears at most once; which copy a verifier reads would
 * be a choice the signer of the certificate makes for it). */
static int ext_of(const X509 *x, const uint8_t **p, size_t *n)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(CCT_RATLS_OID_EVIDENCE, 1);
	int i = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
	int again = i >= 0 ? X509_get_ext_by_OBJ(x, obj, i) : -1;
	ASN1_OCTET_STRING *os;

	ASN1_OBJECT_free(obj);
	if (i < 0)
		return -1;
	if (again >= 0)
		return -2;
	os = X509_EXTENSION_get_data(X509_get_ext(x, i));
	*p = ASN1_STRING_get0_data(os);
	*n = (size_t)ASN1_STRING_length(os);
	return 0;
}

#define DUP_EXT_MSG "the evidence extension " CCT_RATLS_OID_EVIDENCE " appears more than once " \
		    "(RFC 5280 allows one): which copy to read would be ambiguous"

int cct_ratls_cert_describe(json_t **out, const uint8_t *cert, size_t n, cct_err *err)
{
	X509 *x = NULL;
	const uint8_t *ev;
	size_t evn = 0, hl = 0;
	cct_ratls_ev e;
	json_t *d;
	uint8_t h[64];
	char pin[64], t1[40], t2[40];
	time_t nb = 0, na = 0;
	int rc;

	*out = NULL;
	if ((rc = load_cert(&x, cert, n, err)) != CCT_OK)
		return rc;
	if ((rc = ext_of(x, &ev, &evn)) != 0) {
		X509_free(x);
		if (rc == -2)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "%s", DUP_EXT_MSG);
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "no evidence extension %s (tcg-dice-tagged-evidence): not an attested "
				   "TLS certificate", CCT_RATLS_OID_EVIDENCE);
	}
	rc = cct_ratls__decode(&e, ev, evn, err);
	if (rc != CCT_OK) {
		X509_free(x);
		return rc;
	}
	d = describe(&e);
	json_object_set_new(d, "extension_oid", json_string(CCT_RATLS_OID_EVIDENCE));
	json_object_set_new(d, "extension_bytes", json_integer((json_int_t)evn));
	json_object_set_new(d, "pubkey_hash_matches",
			    json_boolean(cct_ratls__spki_hash(h, &hl, e.pk_alg, X509_get0_pubkey(x)) == 0 &&
					 hl == e.pk_hash_len && cct_ct_eq(h, e.pk_hash, hl)));
	if (cct_ratls_spki_pin(pin, x) == 0)
		json_object_set_new(d, "pin", json_string(pin));
	if (cct_x509_validity(x, &nb, &na) == 0) {
		cct_time_format(t1, sizeof(t1), nb);
		cct_time_format(t2, sizeof(t2), na);
		json_object_set_new(d, "not_before", json_string(t1));
		json_object_set_new(d, "not_after", json_string(t2));
	}
	json_object_set_new(d, "endorsements_extension",
			    json_boolean(cct_x509_ext_value(x, CCT_RATLS_OID_ENDORSEMENTS, &ev, &evn) == 1));
	cct_ratls__ev_clear(&e);
	X509_free(x);
	*out = d;
	return CCT_OK;
}

/* The composite request the existing verifier reads (no runtime-data: caller-bound). */
static json_t *composite_body(const cct_ratls_ev *e)
{
	json_t *pe = json_object(), *b;
	char *s = cct_b64_encode(e->cpu, e->cpu_len, 0), *c = NULL;

	if (!strcmp(e->tee, "snp")) {
		json_object_set_new(pe, "report", json_string(s));
		if (e->snp_certs && (c = cct_b64_encode(e->snp_certs, e->snp_certs_len, 0)))
			json_object_set_new(pe, "cert_table", json_string(c));
	} else {
		json_object_set_new(pe, "quote", json_string(s));
		json_object_set_new(pe, "cc_eventlog", json_null());
	}
	free(s);
	free(c);
	b = json_pack("{s:{s:o,s:s,s:s}}", "tee-evidence", "primary_evidence", pe,
		      "additional_evidence", e->gpus ? e->gpus : "", "tee", e->tee);
	return b;
}

/* The GPU CC state the attester recorded must be the one the claims (hence the CPU) bind. */
static int gpu_state(const cct_ratls_ev *e, char check[48], const char *section, cct_err *err)
{
	json_t *g;
	const json_t *nv, *l;
	const char *cm;
	int ok;

	if (!e->gpus)
		return e->has_gpu_claim && e->gpu_count
			       ? fail(check, section, "gpu-state", err, CCT_EBINDING, CCT_STAGE_BINDING,
				      "the claims name GPUs but no GPU evidence is present")
			       : CCT_OK;
	if (!e->has_gpu_claim)
		return fail(check, section, "gpu-state", err, CCT_EBINDING, CCT_STAGE_BINDING,
			    "GPU evidence without the cctrust-gpus claim: its CC state is not bound");
	g = json_loads(e->gpus, JSON_REJECT_DUPLICATES, NULL);
	nv = json_object_get(g, "nvidia");
	l = json_object_get(nv, "device_evidence_list");
	cm = json_string_value(json_object_get(nv, "cc_mode"));
	ok = json_is_object(nv) && json_is_array(l) && json_array_size(l) == e->gpu_count && cm &&
	     !strcmp(cm, e->gpu_cc_mode) &&
	     (json_is_true(json_object_get(nv, "ppcie_mode")) ? 1 : 0) == (e->gpu_ppcie ? 1 : 0);
	json_decref(g);
	return ok ? CCT_OK
		  : fail(check, section, "gpu-state", err, CCT_EBINDING, CCT_STAGE_BINDING,
			 "the GPU evidence's count / cc_mode / ppcie_mode differ from the bound "
			 "cctrust-gpus claim");
}

int cct_ratls__verify_ev(json_t **section_out, char check[48], const uint8_t *evb, size_t evn,
			 EVP_PKEY *pk, const char *section, const uint8_t *want_nonce,
			 size_t want_nonce_len, const uint8_t *want_exporter, const cct_policy *pol,
			 const cct_ratls_verify_opts *opts, cct_err *err)
{
	cct_ratls_ev e;
	cct_composite_opts co;
	cct_composite_result cr;
	uint8_t h[64], rd[64], gn[32];
	size_t hl = 0;
	char *body = NULL;
	json_t *b, *sec = json_object();
	int rc;

	*section_out = sec;
	memset(&cr, 0, sizeof(cr));
	rc = cct_ratls__decode(&e, evb, evn, err);
	if (rc != CCT_OK) {
		snprintf(check, 48, "%s.evidence-format", section);
		return rc;
	}
	json_object_set_new(sec, "evidence", describe(&e));
	if (strcmp(e.tee, "snp") && strcmp(e.tee, "tdx")) {
		rc = fail(check, section, "evidence-type", err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT,
			  "evidence type not verifiable by cctrust (SNP and TDX are)");
		goto out;
	}
	if (cct_ratls__spki_hash(h, &hl, e.pk_alg, pk) != 0 || hl != e.pk_hash_len ||
	    !cct_ct_eq(h, e.pk_hash, hl)) {
		rc = fail(check, section, "pubkey-hash", err, CCT_EBINDING, CCT_STAGE_BINDING,
			  "the claims' pubkey-hash is not the hash of this certificate's "
			  "SubjectPublicKeyInfo: evidence made for another key");
		goto out;
	}
	json_object_set_new(sec, "pubkey_hash", json_string("verified"));
	if (want_nonce) {
		if (!e.has_nonce || e.nonce_len != want_nonce_len || !cct_ct_eq(e.nonce, want_nonce, want_nonce_len)) {
			rc = fail(check, section, "nonce", err, CCT_ENONCE, CCT_STAGE_BINDING,
				  "the claims' nonce is not the one sent: replayed evidence");
			goto out;
		}
		json_object_set_new(sec, "nonce", json_string("verified"));
	}
	if (want_exporter) {
		if (!e.has_exporter || !cct_ct_eq(e.exporter, want_exporter, CCT_RATLS_EXPORTER_LEN)) {
			rc = fail(check, section, "exporter", err, CCT_EBINDING, CCT_STAGE_BINDING,
				  "the claims' TLS exporter is not this connection's: the evidence was "
				  "made for another TLS connection (relayed or intercepted)");
			goto out;
		}
		json_object_set_new(sec, "exporter", json_string("verified"));
	}
	if ((rc = gpu_state(&e, check, section, err)) != CCT_OK)
		goto out;
	cct_ratls__binding(rd, gn, e.claims, e.claims_len);
	co = opts->composite;
	co.expected_nonce = NULL;
	co.expected_nonce_len = 0;
	co.bound_report_data = rd;
	co.bound_gpu_nonce = gn;
	co.tee_hint = e.tee;
	co.parsed_request = NULL; /* the request is built here */
	b = composite_body(&e);
	body = b ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	if (!body) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	cct_composite_verify(&cr, (const uint8_t *)body, strlen(body), pol, &co, NULL);
	json_object_set(sec, "composite", cr.result);
	rc = cr.status;
	if (rc != CCT_OK) {
		snprintf(check, 48, "%s.%s", section, rc == CCT_EPOLICY ? "policy" : "evidence");
		*err = cr.err;
	}
out:
	json_object_set_new(sec, "verified", json_boolean(rc == CCT_OK));
	cct_composite_result_clear(&cr);
	free(body);
	cct_ratls__ev_clear(&e);
	return rc;
}

void cct_ratls_result_clear(cct_ratls_result *r)
{
	if (!r)
		return;
	json_decref(r->result);
	memset(r, 0, sizeof(*r));
}

/* RFC 5280 4.2: a certificate with a critical extension the verifier does not process is
 * refused. Processed: the evidence extension (critical or not) and what OpenSSL implements. */
static int unknown_critical(const X509 *x, cct_err *err)
{
	ASN1_OBJECT *ev = OBJ_txt2obj(CCT_RATLS_OID_EVIDENCE, 1);
	int i, n = X509_get_ext_count(x), rc = CCT_OK;
	char oid[80];

	for (i = 0; i < n && rc == CCT_OK; i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);

		if (!X509_EXTENSION_get_critical(e) || (ev && !OBJ_cmp(o, ev)) ||
		    X509_supported_extension(e))
			continue;
		if (OBJ_obj2txt(oid, sizeof(oid), o, 1) <= 0)
			snprintf(oid, sizeof(oid), "?");
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "certificate.critical-extension: extension %s is critical and cctrust "
				 "does not process it (RFC 5280: refused)", oid);
	}
	ASN1_OBJECT_free(ev);
	return rc;
}

/* Shared start of cct_ratls_verify_cert / _peer: fills r->result's frame. */
int cct_ratls__verify_cert_into(cct_ratls_result *r, X509 *x, const cct_policy *pol,
				const cct_ratls_verify_opts *opts)
{
	const uint8_t *ev;
	size_t evn = 0;
	json_t *sec = NULL;
	time_t at = opts->composite.at ? opts->composite.at : time(NULL);
	int rc;

	cct_ratls_spki_pin(r->pin, x);
	json_object_set_new(r->result, "pin", json_string(r->pin));
	if ((rc = ext_of(x, &ev, &evn)) != 0) {
		rc = rc == -2 ? fail(r->check, "certificate", "evidence-extension", &r->err, CCT_EFORMAT,
				     CCT_STAGE_INPUT, DUP_EXT_MSG)
			      : fail(r->check, "certificate", "evidence-extension", &r->err,
				     CCT_EUNTRUSTED, CCT_STAGE_INPUT,
				     "no evidence extension 2.23.133.5.4.9: an ordinary TLS certificate, "
				     "not attested");
		goto out;
	}
	if ((rc = unknown_critical(x, &r->err)) != CCT_OK) {
		snprintf(r->check, sizeof(r->check), "certificate.critical-extension");
		goto out;
	}
	if ((rc = cct_x509_check_time(x, at, "attested TLS certificate", &r->err)) != CCT_OK) {
		snprintf(r->check, sizeof(r->check), "certificate.validity");
		goto out;
	}
	rc = cct_ratls__verify_ev(&sec, r->check, ev, evn, X509_get0_pubkey(x), "certificate", NULL, 0,
				  NULL, pol, opts, &r->err);
out:
	if (sec)
		json_object_set_new(r->result, "certificate", sec);
	r->status = rc;
	return rc;
}

/* Append each string of from that into does not hold yet (a composite result's lists hold
 * only strings). */
static void add_unique(json_t *into, const json_t *from)
{
	const json_t *x;
	size_t i;

	json_array_foreach(from, i, x)
		if (json_is_string(x))
			cct_json__append_string_once(into, json_string_value(x));
}

void cct_ratls__finish(cct_ratls_result *r)
{
	json_t *f = json_array(), *skipped = json_array(), *insecure = json_array(), *c, *comp;
	const char *secs[2] = { "certificate", "fresh" };
	int simulated = 0;
	size_t i;

	/* accepted without fresh evidence: certificate-only (replayable); refused before it: the
	 * fresh evidence was not reached (a refusal is no statement about replay) */
	if (!json_object_get(r->result, "fresh"))
		json_array_append_new(skipped,
				      json_string(r->status == CCT_OK
							  ? "fresh-evidence (certificate-only: replayable)"
							  : "fresh-evidence (not reached)"));
	/* the verdict claims no more than the evidence verifications checked: what either of them
	 * skipped or turned off is listed here too, not only inside its section */
	for (i = 0; i < 2; i++) {
		comp = json_object_get(json_object_get(r->result, secs[i]), "composite");
		c = json_object_get(comp, "failures");
		if (json_is_array(c))
			json_array_extend(f, c);
		if (json_is_true(json_object_get(comp, "simulated")))
			simulated = 1;
		add_unique(skipped, json_object_get(comp, "checks_skipped"));
		add_unique(insecure, json_object_get(comp, "insecure"));
	}
	json_object_set_new(r->result, "failures", f);
	json_object_set_new(r->result, "checks_skipped", skipped);
	json_object_set_new(r->result, "insecure", insecure);
	json_object_set_new(r->result, "simulated", json_boolean(simulated));
	json_object_set_new(r->result, "verified", json_boolean(r->status == CCT_OK));
	json_object_set_new(r->result, "check", r->status == CCT_OK ? json_null() : json_string(r->check));
	json_object_set_new(r->result, "error",
			    r->status == CCT_OK ? json_null()
						: json_pack("{s:s,s:s,s:s}", "code", cct_code_name(r->status),
							    "stage", cct_stage_name(r->err.stage), "message",
							    r->err.msg));
}

int cct_ratls_verify_cert(cct_ratls_result *r, const void *x509, const cct_policy *pol,
			  const cct_ratls_verify_opts *opts)
{
	cct_ratls_verify_opts d;

	memset(r, 0, sizeof(*r));
	if (!opts) {
		memset(&d, 0, sizeof(d));
		opts = &d;
	}
	r->result = json_object();
	cct_ratls__verify_cert_into(r, (X509 *)x509, pol, opts);
	cct_ratls__finish(r);
	return r->status;
}

int cct_ratls_verify_callback(int preverify_ok, X509_STORE_CTX *ctx)
{
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);
	const uint8_t *p;
	size_t n;

	(void)preverify_ok;
	/* the chain is the evidence, not a CA: accept only a certificate that carries it;
	 * cct_ratls_verify_peer does the real verification after the handshake */
	if (X509_STORE_CTX_get_error_depth(ctx) != 0 || !x || ext_of(x, &p, &n) != 0)
		return 0;
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 1;
}
