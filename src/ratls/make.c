/* Attested TLS, guest side: evidence bound to a key (claims buffer -> REPORT_DATA and GPU
 * nonce -> the simulated TEE or this machine's TEE and GPUs) and the self-signed certificate. */
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cctrust/attester.h"
#include "cctrust/sim.h"
#include "cctrust/core.h"
#include "ratls/ratls_int.h"
#include "x509/mint.h"

static int b64_field(uint8_t **out, size_t *n, const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	*out = NULL;
	*n = 0;
	if (!s)
		return 1; /* absent */
	return cct_b64_decode(out, n, s, strlen(s), NULL) == CCT_OK ? 0 : -1;
}

int cct_ratls__make(uint8_t **out, size_t *n, EVP_PKEY *pk, const cct_ratls_make_opts *o,
		    cct_err *err)
{
	cct_ratls_claims_in ci;
	cct_attester_opts ao;
	cct_sim_opts so;
	cct_attester_gpu_state gs;
	const char *tee = o->tee ? o->tee : "snp";
	uint8_t *claims = NULL, rd[64], gn[32], *cpu = NULL, *certs = NULL;
	size_t cn = 0, hl = 0, cpun = 0, certsn = 0;
	char *body = NULL;
	const char *add;
	json_t *b = NULL, *pe;
	int rc, gpus = o->gpus;

	*out = NULL;
	*n = 0;
	if (strcmp(tee, "snp") && strcmp(tee, "tdx"))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "--tee %.16s: snp or tdx", tee);
	if (o->nonce_len > CCT_RATLS_MAX_NONCE)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "nonce above %u bytes",
				   CCT_RATLS_MAX_NONCE);
	memset(&ci, 0, sizeof(ci));
	memset(&gs, 0, sizeof(gs));
	if (cct_ratls__spki_hash(ci.spki_sha384, &hl, 7, pk) != 0)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "cannot encode the public key");
	ci.nonce = o->nonce;
	ci.nonce_len = o->nonce_len;
	ci.exporter = o->exporter;
	if (o->sim_dir) {
		if (gpus < 0)
			gpus = 8; /* `cctrust sim init` makes 8 GPUs */
		ci.gpu_cc_mode = o->sim_gpu_cc_mode ? o->sim_gpu_cc_mode : "on";
	} else if (gpus) {
		/* the GPUs' CC state is claimed (bound by the CPU report) before their evidence */
		if ((rc = cct_attester_gpu_state_get(&gs, err)) != CCT_OK)
			return rc;
		if (!gs.present)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					   "--gpus: no NVIDIA GPU found through NVML");
		if (gpus > 0 && (unsigned)gpus != gs.gpu_count)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "--gpus %d: this machine has %u GPUs (evidence covers all: "
					   "--gpus all)", gpus, gs.gpu_count);
		gpus = (int)gs.gpu_count;
		ci.gpu_cc_mode = gs.cc_mode;
		ci.gpu_ppcie = gs.ppcie;
	}
	ci.gpus = gpus;
	if ((rc = cct_ratls__claims_encode(&claims, &cn, &ci, err)) != CCT_OK)
		return rc;
	cct_ratls__binding(rd, gn, claims, cn);
	memset(&ao, 0, sizeof(ao));
	ao.report_data = rd;
	ao.gpu_nonce = gn;
	ao.no_gpu = gpus == 0;
	if (o->sim_dir) {
		memset(&so, 0, sizeof(so));
		so.tee = tee;
		so.gpus = gpus;
		so.gpu_cc_mode = ci.gpu_cc_mode;
		so.measurement = o->sim_measurement;
		rc = cct_sim_evidence(&body, o->sim_dir, &ao, &so, err);
	} else {
		rc = cct_attester_collect(&body, &ao, err);
	}
	if (rc != CCT_OK)
		goto out;
	b = json_loads(body, 0, NULL);
	pe = json_object_get(json_object_get(b, "tee-evidence"), "primary_evidence");
	add = json_string_value(json_object_get(json_object_get(b, "tee-evidence"), "additional_evidence"));
	if (!json_is_object(pe)) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "attester returned no evidence");
		goto out;
	}
	/* raw CPU evidence from whichever interface produced it */
	if (b64_field(&cpu, &cpun, pe, "report") == 1 && b64_field(&cpu, &cpun, pe, "quote") == 1)
		b64_field(&cpu, &cpun, pe, "outblob");
	if (b64_field(&certs, &certsn, pe, "cert_table") == 1)
		b64_field(&certs, &certsn, pe, "auxblob");
	if (!cpu) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "the attester's evidence form has no raw report/quote");
		goto out;
	}
	if (gpus && (!add || !add[0])) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "no GPU evidence collected");
		goto out;
	}
	rc = cct_ratls__encode(out, n, tee, cpu, cpun, !strcmp(tee, "snp") ? certs : NULL, certsn,
			       gpus ? add : NULL, claims, cn, err);
out:
	json_decref(b);
	free(body);
	free(cpu);
	free(certs);
	free(claims);
	return rc;
}

int cct_ratls_evidence_make(uint8_t **out, size_t *out_len, const void *pkey,
			    const cct_ratls_make_opts *o, cct_err *err)
{
	cct_ratls_make_opts d;

	if (!o) {
		memset(&d, 0, sizeof(d));
		o = &d;
	}
	return cct_ratls__make(out, out_len, (EVP_PKEY *)pkey, o, err);
}

int cct_ratls_cert_make(char **key_pem, char **cert_pem, const cct_ratls_make_opts *o,
			long validity_s, long not_before_offset_s, cct_err *err)
{
	EVP_PKEY *k = EVP_EC_gen("P-384");
	X509 *x = NULL;
	X509_NAME *nm;
	uint8_t *ev = NULL, serial[16];
	size_t evn = 0;
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *obj = NULL;
	X509_EXTENSION *ext = NULL;
	BIGNUM *bn = NULL;
	int rc;

	*key_pem = *cert_pem = NULL;
	if (!k)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "P-384 key generation failed");
	if (validity_s <= 0)
		validity_s = 3600;
	rc = cct_ratls_evidence_make(&ev, &evn, k, o, err);
	if (rc != CCT_OK)
		goto out;
	x = X509_new();
	os = ASN1_OCTET_STRING_new();
	obj = OBJ_txt2obj(CCT_RATLS_OID_EVIDENCE, 1);
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!x || !os || !obj || !bn || !X509_set_version(x, 2) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), not_before_offset_s - 60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), not_before_offset_s + validity_s) ||
	    !X509_set_pubkey(x, k))
		goto fail;
	nm = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"cctrust", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
					(const unsigned char *)"cctrust attested TLS", -1, -1, 0) ||
	    !X509_set_issuer_name(x, nm))
		goto fail;
	/* not critical: OpenSSL and others refuse unknown critical extensions (CCC RA-TLS note) */
	if (!ASN1_OCTET_STRING_set(os, ev, (int)evn) ||
	    !(ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) || !X509_add_ext(x, ext, -1) ||
	    cct_mint_add_ext_conf(x, x, NID_basic_constraints, "critical,CA:FALSE") != 1 ||
	    cct_mint_add_ext_conf(x, x, NID_key_usage, "critical,digitalSignature") != 1 ||
	    cct_mint_add_ext_conf(x, x, NID_ext_key_usage, "serverAuth") != 1 ||
	    cct_mint_add_ext_conf(x, x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") != 1 ||
	    !X509_sign(x, k, EVP_sha384()))
		goto fail;
	*cert_pem = cct_mint_cert_pem(x);
	*key_pem = cct_mint_key_pem(k);
	if (!*cert_pem || !*key_pem) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
		goto fail;
	}
	rc = CCT_OK;
	goto out;
fail:
	rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "certificate construction failed");
out:
	BN_free(bn);
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	X509_free(x);
	EVP_PKEY_free(k);
	free(ev);
	return rc;
}
