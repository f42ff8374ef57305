#define _GNU_SOURCE /* usleep */
/* Attested TLS evidence: genuine evidence for a key verifies (simulated SNP + 2 GPUs, TDX),
 * and every tampered variant is refused at its named check and stage: malformed CBOR,
 * trailing bytes, another key, another nonce / exporter, a claims buffer not the one the report
 * binds, a flipped report byte, GPU CC state not the bound claim, missing GPU evidence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <time.h>

#include "cct_test.h"
#include "cctrust/sim.h"
#include "cctrust/core.h"
#include "ratls/ratls_int.h"

static char simdir[4096];
static EVP_PKEY *key, *other;
static cct_policy *pol;
static uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, exporter[32];

static int setup(void **st)
{
	cct_err err;

	(void)st;
	snprintf(simdir, sizeof(simdir), "%s/sim", cct_test_tmpdir());
	if (cct_sim_init(simdir, &err) != CCT_OK) {
		fprintf(stderr, "sim init: %s\n", err.msg);
		return -1;
	}
	key = EVP_EC_gen("P-384");
	other = EVP_EC_gen("P-384");
	memset(exporter, 0x5a, sizeof(exporter));
	return key && other && cct_policy_default(&pol, &err) == CCT_OK ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	cct_policy_free(pol);
	return 0;
}

static uint8_t *make(size_t *n, const char *tee, int gpus, const char *cc)
{
	cct_ratls_make_opts o;
	uint8_t *ev = NULL;
	cct_err err;

	memset(&o, 0, sizeof(o));
	o.tee = tee;
	o.gpus = gpus;
	o.sim_dir = simdir;
	o.sim_gpu_cc_mode = cc;
	o.nonce = nonce;
	o.nonce_len = sizeof(nonce);
	o.exporter = exporter;
	if (cct_ratls_evidence_make(&ev, n, key, &o, &err) != CCT_OK)
		fail_msg("evidence: %s", err.msg);
	return ev;
}

/* verify as fresh evidence; returns the status, check in check */
static int verify(const uint8_t *ev, size_t n, EVP_PKEY *k, const uint8_t *want_exp, char check[48],
		  cct_err *err)
{
	cct_ratls_verify_opts o;
	json_t *sec = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.composite.trust_sim_dir = simdir;
	check[0] = 0;
	rc = cct_ratls__verify_ev(&sec, check, ev, n, k, "fresh", nonce, sizeof(nonce), want_exp, pol,
				  &o, err);
	json_decref(sec);
	return rc;
}

static void expect_refused(const uint8_t *ev, size_t n, EVP_PKEY *k, const uint8_t *exp, int code,
			   cct_stage stage, const char *want_check)
{
	char check[48];
	cct_err err;
	int rc = verify(ev, n, k, exp, check, &err);

	if (rc != code || err.stage != stage || strcmp(check, want_check))
		fail_msg("want %s/%d/%s, got %s/%d/%s: %s", cct_code_name(code), (int)stage, want_check,
			 cct_code_name(rc), (int)err.stage, check, err.msg);
}

/* re-encode decoded evidence with changes */
static uint8_t *reencode(size_t *n, const cct_ratls_ev *e, const uint8_t *claims, size_t cn,
			 const char *gpus)
{
	uint8_t *out = NULL;
	cct_err err;

	assert_int_equal(cct_ratls__encode(&out, n, e->tee, e->cpu, e->cpu_len, e->snp_certs,
					   e->snp_certs_len, gpus, claims, cn, &err),
			 CCT_OK);
	return out;
}

static void test_snp_gpus_genuine_and_tampered(void **st)
{
	size_t n = 0, tn = 0, cn = 0;
	uint8_t *ev = make(&n, "snp", 2, NULL), *t, *claims = NULL, bad_exp[32];
	cct_ratls_ev e;
	cct_ratls_claims_in ci;
	char check[48];
	cct_err err;
	size_t hl = 0;

	(void)st;
	assert_int_equal(verify(ev, n, key, exporter, check, &err), CCT_OK);
	/* decoded fields */
	assert_int_equal(cct_ratls__decode(&e, ev, n, &err), CCT_OK);
	assert_true(e.cmw && e.tag == CCT_RATLS_TAG_SEV_SNP && !strcmp(e.tee, "snp"));
	assert_int_equal(e.cpu_len, 1184);
	assert_true(e.has_nonce && e.has_exporter && e.has_gpu_claim && e.gpu_count == 2);
	assert_string_equal(e.gpu_cc_mode, "on");
	/* truncated and trailing bytes */
	expect_refused(ev, n - 1, key, exporter, CCT_ETRUNC, CCT_STAGE_PARSE, "fresh.evidence-format");
	t = malloc(n + 1);
	memcpy(t, ev, n);
	t[n] = 0;
	expect_refused(t, n + 1, key, exporter, CCT_ETRAILING, CCT_STAGE_PARSE, "fresh.evidence-format");
	free(t);
	/* another key, another connection */
	expect_refused(ev, n, other, exporter, CCT_EBINDING, CCT_STAGE_BINDING, "fresh.pubkey-hash");
	memset(bad_exp, 0x11, sizeof(bad_exp));
	expect_refused(ev, n, key, bad_exp, CCT_EBINDING, CCT_STAGE_BINDING, "fresh.exporter");
	/* claims the report does not bind: same key, nonce and exporter, other GPU claim order
	 * (ppcie-mode true, and the GPU JSON edited to match): REPORT_DATA mismatch */
	memset(&ci, 0, sizeof(ci));
	assert_int_equal(cct_ratls__spki_hash(ci.spki_sha384, &hl, 7, key), 0);
	ci.nonce = nonce;
	ci.nonce_len = sizeof(nonce);
	ci.exporter = exporter;
	ci.gpus = 2;
	ci.gpu_cc_mode = "on";
	ci.gpu_ppcie = 1;
	assert_int_equal(cct_ratls__claims_encode(&claims, &cn, &ci, &err), CCT_OK);
	{
		json_t *g = json_loads(e.gpus, 0, NULL);
		char *gs;

		json_object_set_new(json_object_get(g, "nvidia"), "ppcie_mode", json_true());
		gs = json_dumps(g, JSON_COMPACT);
		t = reencode(&tn, &e, claims, cn, gs);
		expect_refused(t, tn, key, exporter, CCT_EBINDING, CCT_STAGE_BINDING, "fresh.evidence");
		free(t);
		/* the GPU JSON's CC mode changed after binding: not the bound claim */
		json_object_set_new(json_object_get(g, "nvidia"), "ppcie_mode", json_false());
		json_object_set_new(json_object_get(g, "nvidia"), "cc_mode", json_string("off"));
		free(gs);
		gs = json_dumps(g, JSON_COMPACT);
		t = reencode(&tn, &e, e.claims, e.claims_len, gs);
		expect_refused(t, tn, key, exporter, CCT_EBINDING, CCT_STAGE_BINDING, "fresh.gpu-state");
		free(t);
		free(gs);
		json_decref(g);
	}
	/* GPU evidence dropped although the claims name 2 GPUs */
	t = reencode(&tn, &e, e.claims, e.claims_len, NULL);
	expect_refused(t, tn, key, exporter, CCT_EBINDING, CCT_STAGE_BINDING, "fresh.gpu-state");
	free(t);
	/* one bit of the signed report flipped (the measurement) */
	e.cpu[0x90] ^= 1;
	t = reencode(&tn, &e, e.claims, e.claims_len, e.gpus);
	{
		int rc = verify(t, tn, key, exporter, check, &err);

		assert_int_equal(rc, CCT_ESIGNATURE);
		assert_string_equal(check, "fresh.evidence");
	}
	free(t);
	free(claims);
	cct_ratls__ev_clear(&e);
	free(ev);
}

static void test_tdx_tagged(void **st)
{
	size_t n = 0;
	uint8_t *ev = make(&n, "tdx", 0, NULL);
	cct_ratls_ev e;
	char check[48];
	cct_err err;

	(void)st;
	assert_int_equal(cct_ratls__decode(&e, ev, n, &err), CCT_OK);
	assert_false(e.cmw); /* the interoperable bare tag */
	assert_true(e.tag == CCT_RATLS_TAG_INTEL_QUOTE && !strcmp(e.tee, "tdx") && !e.gpus);
	cct_ratls__ev_clear(&e);
	assert_int_equal(verify(ev, n, key, exporter, check, &err), CCT_OK);
	expect_refused(ev, n, other, exporter, CCT_EBINDING, CCT_STAGE_BINDING, "fresh.pubkey-hash");
	free(ev);
}

static void test_gpu_cc_off_is_policy(void **st)
{
	size_t n = 0;
	uint8_t *ev = make(&n, "snp", 1, "off");
	char check[48];
	cct_err err;

	(void)st;
	assert_int_equal(verify(ev, n, key, exporter, check, &err), CCT_EPOLICY);
	assert_string_equal(check, "fresh.policy");
	assert_non_null(strstr(err.msg, "gpu.cc_mode"));
	free(ev);
}

static void test_malformed(void **st)
{
	static const uint8_t not_cbor[] = { 0xff, 0x00 };
	static const uint8_t wrong_tag[] = { 0xc1, 0x82, 0x41, 0x00, 0x41, 0x00 }; /* 1([h'00',h'00']) */
	static const uint8_t map_no_type[] = { 0xa1, 0x63, 'c', 'p', 'u', 0x00 };
	cct_ratls_ev e;
	cct_err err;

	(void)st;
	assert_int_equal(cct_ratls__decode(&e, not_cbor, sizeof(not_cbor), &err), CCT_EENCODING);
	assert_int_equal(cct_ratls__decode(&e, NULL, 0, &err), CCT_ETRUNC);
	/* an unknown tag decodes (show) but its claims buffer h'00' is not a map */
	assert_int_equal(cct_ratls__decode(&e, wrong_tag, sizeof(wrong_tag), &err), CCT_EFORMAT);
	assert_non_null(strstr(err.msg, "claims buffer"));
	assert_int_equal(cct_ratls__decode(&e, map_no_type, sizeof(map_no_type), &err), CCT_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "__cmwc_t"));
	/* refused before libcbor allocates: a declared array of 2^32 items, 17 levels of nesting,
	 * indefinite lengths, two top-level items */
	{
		static const uint8_t huge[] = { 0x9b, 0, 0, 0, 1, 0, 0, 0, 0, 0x00 };
		static const uint8_t indef[] = { 0x9f, 0x00, 0xff };
		static const uint8_t two[] = { 0x00, 0x00 };
		uint8_t deep[18];

		assert_int_equal(cct_ratls__decode(&e, huge, sizeof(huge), &err), CCT_ETOOBIG);
		memset(deep, 0x81, 17);
		deep[17] = 0x00;
		assert_int_equal(cct_ratls__decode(&e, deep, sizeof(deep), &err), CCT_EFORMAT);
		assert_non_null(strstr(err.msg, "deeper"));
		assert_int_equal(cct_ratls__decode(&e, deep + 1, sizeof(deep) - 1, &err), CCT_EFORMAT);
		assert_int_equal(cct_ratls__decode(&e, indef, sizeof(indef), &err), CCT_EFORMAT);
		assert_non_null(strstr(err.msg, "indefinite"));
		assert_int_equal(cct_ratls__decode(&e, two, sizeof(two), &err), CCT_ETRAILING);
	}
}

/* claims.cctrust-gpus.cc-mode with a NUL in it ("on\0x") is refused: as a C string it would
 * read "on" and match GPU evidence whose cc_mode is "on" */
static void test_cc_mode_nul(void **st)
{
	cct_ratls_claims_in ci;
	uint8_t *claims = NULL, *ev = NULL, *p;
	size_t cn = 0, n = 0, i;
	cct_ratls_ev e;
	cct_err err;

	(void)st;
	memset(&ci, 0, sizeof(ci));
	ci.gpus = 1;
	ci.gpu_cc_mode = "onXx";
	assert_int_equal(cct_ratls__claims_encode(&claims, &cn, &ci, &err), CCT_OK);
	for (p = NULL, i = 0; i + 4 <= cn; i++)
		if (!memcmp(claims + i, "onXx", 4))
			p = claims + i;
	assert_non_null(p);
	p[2] = 0; /* same length: the CBOR stays well formed */
	assert_int_equal(cct_ratls__encode(&ev, &n, "tdx", (const uint8_t *)"quote", 5, NULL, 0, NULL,
					   claims, cn, &err),
			 CCT_OK);
	assert_int_equal(cct_ratls__decode(&e, ev, n, &err), CCT_EFORMAT);
	assert_non_null(strstr(err.msg, "claims.cctrust-gpus.cc-mode"));
	free(ev);
	free(claims);
}

/* the public certificate path: cct_ratls_cert_make + cct_ratls_verify_cert (certificate only) */
static void test_cert_make_verify(void **st)
{
	cct_ratls_make_opts mo;
	cct_ratls_verify_opts vo;
	cct_ratls_result r;
	char *kp = NULL, *cp = NULL;
	X509 *x;
	BIO *b;
	cct_err err;

	(void)st;
	memset(&mo, 0, sizeof(mo));
	mo.tee = "snp";
	mo.gpus = 1;
	mo.sim_dir = simdir;
	assert_int_equal(cct_ratls_cert_make(&kp, &cp, &mo, 3600, 0, &err), CCT_OK);
	b = BIO_new_mem_buf(cp, -1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	memset(&vo, 0, sizeof(vo));
	vo.composite.trust_sim_dir = simdir;
	assert_int_equal(cct_ratls_verify_cert(&r, x, pol, &vo), CCT_OK);
	assert_true(json_is_true(json_object_get(r.result, "verified")));
	assert_int_equal(json_array_size(json_object_get(r.result, "checks_skipped")), 1);
	assert_int_equal(strncmp(r.pin, "sha256//", 8), 0);
	cct_ratls_result_clear(&r);
	/* two hours later: outside its validity */
	vo.composite.at = time(NULL) + 7200;
	assert_int_equal(cct_ratls_verify_cert(&r, x, pol, &vo), CCT_EEXPIRED);
	assert_string_equal(r.check, "certificate.validity");
	cct_ratls_result_clear(&r);
	/* without --trust-sim: the simulated roots are not trusted */
	vo.composite.at = 0;
	vo.composite.trust_sim_dir = NULL;
	vo.composite.offline = 1;
	assert_int_not_equal(cct_ratls_verify_cert(&r, x, pol, &vo), CCT_OK);
	assert_string_equal(r.check, "certificate.evidence");
	cct_ratls_result_clear(&r);
	/* the OpenSSL verify callback: the attested self-signed leaf passes X509_verify_cert,
	 * an ordinary self-signed certificate does not */
	{
		X509_STORE *store = X509_STORE_new();
		X509_STORE_CTX *sc = X509_STORE_CTX_new();
		X509 *plain = X509_new();
		EVP_PKEY *pk = EVP_EC_gen("P-256");

		X509_STORE_set_verify_cb(store, cct_ratls_verify_callback);
		assert_int_equal(X509_STORE_CTX_init(sc, store, x, NULL), 1);
		assert_int_equal(X509_verify_cert(sc), 1);
		X509_STORE_CTX_cleanup(sc);
		X509_set_version(plain, 2);
		ASN1_INTEGER_set(X509_get_serialNumber(plain), 1);
		X509_gmtime_adj(X509_getm_notBefore(plain), -60);
		X509_gmtime_adj(X509_getm_notAfter(plain), 3600);
		X509_NAME_add_entry_by_txt(X509_get_subject_name(plain), "CN", MBSTRING_ASC,
					   (const unsigned char *)"plain", -1, -1, 0);
		X509_set_issuer_name(plain, X509_get_subject_name(plain));
		X509_set_pubkey(plain, pk);
		assert_true(X509_sign(plain, pk, EVP_sha256()) > 0);
		assert_int_equal(X509_STORE_CTX_init(sc, store, plain, NULL), 1);
		assert_int_not_equal(X509_verify_cert(sc), 1);
		X509_STORE_CTX_free(sc);
		X509_STORE_free(store);
		X509_free(plain);
		EVP_PKEY_free(pk);
	}
	X509_free(x);
	cct_wipe(kp, strlen(kp));
	free(kp);
	free(cp);
}

/* A certificate from cct_ratls_cert_make, its key, and a copy changed by edit() and signed
 * again with that key: what a hostile server could present. */
static X509 *cert_edited(EVP_PKEY **k_out, void (*edit)(X509 *x))
{
	cct_ratls_make_opts mo;
	char *kp = NULL, *cp = NULL;
	X509 *x;
	BIO *b;
	cct_err err;

	memset(&mo, 0, sizeof(mo));
	mo.tee = "tdx";
	mo.sim_dir = simdir;
	assert_int_equal(cct_ratls_cert_make(&kp, &cp, &mo, 3600, 0, &err), CCT_OK);
	b = BIO_new_mem_buf(cp, -1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(kp, -1);
	*k_out = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	assert_non_null(*k_out);
	if (edit) {
		edit(x);
		assert_true(X509_sign(x, *k_out, EVP_sha384()) > 0);
	}
	cct_wipe(kp, strlen(kp));
	free(kp);
	free(cp);
	return x;
}

static int cert_verdict(X509 *x, char check[48])
{
	cct_ratls_verify_opts vo;
	cct_ratls_result r;
	int rc;

	memset(&vo, 0, sizeof(vo));
	vo.composite.trust_sim_dir = simdir;
	rc = cct_ratls_verify_cert(&r, x, pol, &vo);
	snprintf(check, 48, "%s", rc == CCT_OK ? "" : r.check);
	assert_int_equal(json_is_true(json_object_get(r.result, "verified")), rc == CCT_OK);
	cct_ratls_result_clear(&r);
	return rc;
}

static int evidence_index(const X509 *x)
{
	ASN1_OBJECT *o = OBJ_txt2obj(CCT_RATLS_OID_EVIDENCE, 1);
	int i = X509_get_ext_by_OBJ(x, o, -1);

	ASN1_OBJECT_free(o);
	assert_true(i >= 0);
	return i;
}

static void edit_duplicate(X509 *x)
{
	X509_EXTENSION *e = X509_EXTENSION_dup(X509_get_ext(x, evidence_index(x)));

	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* a second evidence extension, holding evidence made for another key */
static void edit_duplicate_other(X509 *x)
{
	uint8_t *ev = NULL;
	size_t n = 0;
	cct_ratls_make_opts mo;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *o = OBJ_txt2obj(CCT_RATLS_OID_EVIDENCE, 1);
	X509_EXTENSION *e;
	cct_err err;

	memset(&mo, 0, sizeof(mo));
	mo.tee = "tdx";
	mo.sim_dir = simdir;
	assert_int_equal(cct_ratls_evidence_make(&ev, &n, other, &mo, &err), CCT_OK);
	assert_int_equal(ASN1_OCTET_STRING_set(os, ev, (int)n), 1);
	e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(os);
	free(ev);
}

static void edit_evidence_critical(X509 *x)
{
	assert_int_equal(X509_EXTENSION_set_critical(X509_get_ext(x, evidence_index(x)), 1), 1);
}

static void edit_unknown_critical(X509 *x)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *o = OBJ_txt2obj("1.3.6.1.4.1.55555.1.2", 1);
	X509_EXTENSION *e;

	assert_int_equal(ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2), 1);
	e = X509_EXTENSION_create_by_OBJ(NULL, o, 1, os);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(os);
}

/* the evidence extension twice (RFC 5280: at most once; which copy a verifier reads is the
 * certificate maker's choice) is refused by verify and by show, whatever the copies hold */
static void test_cert_duplicate_extension(void **st)
{
	void (*edits[2])(X509 *) = { edit_duplicate, edit_duplicate_other };
	EVP_PKEY *k = NULL;
	char check[48];
	size_t i;

	(void)st;
	for (i = 0; i < 2; i++) {
		X509 *x = cert_edited(&k, edits[i]);
		unsigned char *der = NULL;
		int dn = i2d_X509(x, &der);
		json_t *d = NULL;
		cct_err err;

		assert_true(dn > 0);
		assert_int_equal(cert_verdict(x, check), CCT_EFORMAT);
		assert_string_equal(check, "certificate.evidence-extension");
		assert_int_equal(cct_ratls_cert_describe(&d, der, (size_t)dn, &err), CCT_EFORMAT);
		assert_non_null(strstr(err.msg, "more than once"));
		assert_null(d);
		OPENSSL_free(der);
		X509_free(x);
		EVP_PKEY_free(k);
	}
	/* show reads one DER certificate: bytes after it are refused, not ignored */
	{
		X509 *x = cert_edited(&k, NULL);
		unsigned char *der = NULL, *d2;
		int dn = i2d_X509(x, &der);
		json_t *d = NULL;
		cct_err err;

		assert_int_equal(cct_ratls_cert_describe(&d, der, (size_t)dn, &err), CCT_OK);
		json_decref(d);
		d2 = malloc((size_t)dn + 1);
		memcpy(d2, der, (size_t)dn);
		d2[dn] = 0;
		assert_int_equal(cct_ratls_cert_describe(&d, d2, (size_t)dn + 1, &err), CCT_ETRAILING);
		assert_null(d);
		free(d2);
		OPENSSL_free(der);
		X509_free(x);
		EVP_PKEY_free(k);
	}
	/* the unchanged certificate, re-signed, still verifies */
	{
		X509 *x = cert_edited(&k, NULL);

		assert_int_equal(cert_verdict(x, check), CCT_OK);
		X509_free(x);
		EVP_PKEY_free(k);
	}
}

/* a critical extension cctrust does not process is refused (RFC 5280); the evidence extension
 * itself marked critical is processed, so accepted */
static void test_cert_critical_extension(void **st)
{
	EVP_PKEY *k = NULL;
	char check[48];
	X509 *x;

	(void)st;
	x = cert_edited(&k, edit_unknown_critical);
	assert_int_equal(cert_verdict(x, check), CCT_EUNSUPPORTED);
	assert_string_equal(check, "certificate.critical-extension");
	X509_free(x);
	EVP_PKEY_free(k);
	x = cert_edited(&k, edit_evidence_critical);
	assert_int_equal(cert_verdict(x, check), CCT_OK);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* A client and a server SSL joined by a BIO pair, handshake done: the server (an attested
 * certificate) at most TLS 1.2, with or without the extended master secret. */
static void tls12_pair(SSL **c_out, SSL **s_out, int ems)
{
	EVP_PKEY *k = NULL;
	X509 *x = cert_edited(&k, NULL);
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method()), *sc = SSL_CTX_new(TLS_server_method());
	SSL *c, *s;
	BIO *cb = NULL, *sb = NULL;
	int i, cd = 0, sd = 0;

	assert_non_null(cc);
	assert_non_null(sc);
	assert_int_equal(SSL_CTX_use_certificate(sc, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sc, k), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(sc, TLS1_2_VERSION), 1);
	if (!ems)
		SSL_CTX_set_options(sc, SSL_OP_NO_EXTENDED_MASTER_SECRET);
	SSL_CTX_set_verify(cc, SSL_VERIFY_NONE, NULL);
	c = SSL_new(cc);
	s = SSL_new(sc);
	assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (i = 0; i < 100 && !(cd && sd); i++) {
		cd = cd || SSL_do_handshake(c) == 1;
		sd = sd || SSL_do_handshake(s) == 1;
	}
	assert_true(cd && sd);
	assert_int_equal(SSL_version(c), TLS1_2_VERSION);
	assert_int_equal(SSL_get_extms_support(c), ems ? 1 : 0);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
	X509_free(x);
	EVP_PKEY_free(k);
	*c_out = c;
	*s_out = s;
}

/* TLS 1.2 without the extended master secret: the exporter does not identify the connection
 * (RFC 7627), so the fresh evidence is refused before it is asked for; with it, the client
 * goes on to ask (the server here never answers: fresh.endpoint) */
static void test_exporter_needs_ems(void **st)
{
	cct_ratls_verify_opts vo;
	cct_ratls_result r;
	SSL *c, *s;
	int ems;

	(void)st;
	memset(&vo, 0, sizeof(vo));
	vo.composite.trust_sim_dir = simdir;
	for (ems = 0; ems < 2; ems++) {
		tls12_pair(&c, &s, ems);
		assert_int_not_equal(cct_ratls_verify_peer(c, pol, &vo, &r), CCT_OK);
		assert_true(json_is_true(json_object_get(json_object_get(r.result, "certificate"),
							 "verified")));
		assert_string_equal(r.check, ems ? "fresh.endpoint" : "fresh.exporter");
		if (!ems)
			assert_non_null(strstr(r.err.msg, "extended master secret"));
		cct_ratls_result_clear(&r);
		SSL_free(c);
		SSL_free(s);
	}
}

/* A hostile server on 127.0.0.1 that trickles one byte every 100 ms for at most 8 s: of a TLS
 * record (mode 0, during the handshake), or, after a genuine handshake with an attested
 * certificate, of the attestation answer's head (mode 1). */
typedef struct trickle {
	int lfd, mode;
	SSL_CTX *ctx;
} trickle;

static void *trickle_main(void *arg)
{
	trickle *t = arg;
	static const char rec[] = "\x16\x03\x03\x3f\xff", head[] = "HTTP/1.1 200 OK\r\nX-Slow: ";
	char buf[4096];
	int fd = accept(t->lfd, NULL, NULL), i;
	SSL *ssl = NULL;

	if (fd < 0)
		return NULL;
	if (t->mode >= 1) {
		ssl = SSL_new(t->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1 || SSL_read(ssl, buf, sizeof(buf)) <= 0 || t->mode == 2)
			goto out; /* mode 2: a handshake, then nothing */
	}
	for (i = 0; i < 80; i++) { /* bounded: 8 s */
		char c = t->mode == 0 ? (i < 5 ? rec[i] : 0) : (i < 25 ? head[i] : 'a');

		if (t->mode == 0 ? send(fd, &c, 1, MSG_NOSIGNAL) != 1 : SSL_write(ssl, &c, 1) != 1)
			break;
		usleep(100000);
	}
out:
	SSL_free(ssl);
	close(fd);
	return NULL;
}

static void trickle_start(trickle *t, pthread_t *th, char port[16], int mode, SSL_CTX *ctx)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->lfd = socket(AF_INET, SOCK_STREAM, 0);
	t->mode = mode;
	t->ctx = ctx;
	assert_true(t->lfd >= 0);
	assert_int_equal(bind(t->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(t->lfd, 1), 0);
	assert_int_equal(getsockname(t->lfd, (struct sockaddr *)&a, &al), 0);
	snprintf(port, 16, "%u", (unsigned)ntohs(a.sin_port));
	assert_int_equal(pthread_create(th, NULL, trickle_main, t), 0);
}

/* evidence of 8 GPUs makes the certificate larger than OpenSSL's default 100 KiB cap on the
 * server's certificate message: the client takes up to the evidence limit */
static void edit_large(X509 *x)
{
	static unsigned char pad[150000];
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *o = OBJ_txt2obj("1.3.6.1.4.1.55555.1.3", 1);
	X509_EXTENSION *e;

	memset(pad, 0x04, sizeof(pad));
	assert_int_equal(ASN1_OCTET_STRING_set(os, pad, (int)sizeof(pad)), 1);
	e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(o);
	ASN1_OCTET_STRING_free(os);
}

static void test_large_certificate(void **st)
{
	EVP_PKEY *k = NULL;
	X509 *x = cert_edited(&k, edit_large);
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
	trickle t;
	pthread_t th;
	char port[16], check[48];
	void *ssl = NULL;
	cct_err err;

	(void)st;
	signal(SIGPIPE, SIG_IGN);
	assert_true(i2d_X509(x, NULL) > 150000);
	assert_int_equal(cert_verdict(x, check), CCT_OK);
	assert_int_equal(SSL_CTX_use_certificate(sc, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sc, k), 1);
	trickle_start(&t, &th, port, 2, sc);
	if (cct_ratls_connect(&ssl, "127.0.0.1", port, 10, &err) != CCT_OK)
		fail_msg("connect: %s", err.msg);
	assert_int_equal(cct_ratls__write_all(ssl, "x", 1), 0);
	cct_ratls_close(ssl);
	pthread_join(th, NULL);
	close(t.lfd);
	SSL_CTX_free(sc);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* a server trickling bytes (each read well within the per-read timeout) holds the client no
 * longer than the handshake's whole timeout, nor the fresh answer's */
static void test_trickling_server_deadline(void **st)
{
	trickle t;
	pthread_t th;
	char port[16];
	void *ssl = NULL;
	cct_err err;
	time_t t0;

	(void)st;
	signal(SIGPIPE, SIG_IGN); /* the trickling server writes on after the client closed */
	/* the handshake: 2 s in all */
	trickle_start(&t, &th, port, 0, NULL);
	t0 = time(NULL);
	assert_int_equal(cct_ratls_connect(&ssl, "127.0.0.1", port, 2, &err), CCT_ENETWORK);
	assert_true(time(NULL) - t0 <= 4);
	assert_non_null(strstr(err.msg, "not complete within 2 s"));
	pthread_join(th, NULL);
	close(t.lfd);
	/* the fresh evidence answer: fresh_timeout_s 2 */
	{
		EVP_PKEY *k = NULL;
		X509 *x = cert_edited(&k, NULL);
		SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
		cct_ratls_verify_opts vo;
		cct_ratls_result r;

		assert_int_equal(SSL_CTX_use_certificate(sc, x), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(sc, k), 1);
		trickle_start(&t, &th, port, 1, sc);
		assert_int_equal(cct_ratls_connect(&ssl, "127.0.0.1", port, 30, &err), CCT_OK);
		memset(&vo, 0, sizeof(vo));
		vo.composite.trust_sim_dir = simdir;
		vo.fresh_timeout_s = 2;
		t0 = time(NULL);
		assert_int_equal(cct_ratls_verify_peer(ssl, pol, &vo, &r), CCT_ENETWORK);
		assert_true(time(NULL) - t0 <= 4);
		assert_string_equal(r.check, "fresh.endpoint");
		assert_non_null(strstr(r.err.msg, "within 2 s"));
		cct_ratls_result_clear(&r);
		cct_ratls_close(ssl);
		pthread_join(th, NULL);
		close(t.lfd);
		SSL_CTX_free(sc);
		X509_free(x);
		EVP_PKEY_free(k);
	}
}

/* cct_ratls_serve in a thread until *stop */
typedef struct serve_run {
	cct_ratls_serve_opts o;
	volatile int stop;
	int rc;
	cct_err err;
} serve_run;

static void *serve_main(void *arg)
{
	serve_run *r = arg;

	r->rc = cct_ratls_serve(&r->o, &r->err);
	return NULL;
}

/* stopping the proxy ends its connection threads before cct_ratls_serve returns (they use its
 * stack frame): a client still in its handshake window is closed at once, not left to a
 * thread that outlives the call */
static void test_serve_stop_ends_connections(void **st)
{
	serve_run r;
	pthread_t th;
	char pf[4200], buf[16];
	FILE *f;
	int port = 0, fd, i;
	struct sockaddr_in a;
	struct timeval tv = { 3, 0 };
	time_t t0;

	(void)st;
	signal(SIGPIPE, SIG_IGN);
	snprintf(pf, sizeof(pf), "%s/serve.port", cct_test_tmpdir());
	remove(pf);
	memset(&r, 0, sizeof(r));
	r.o.listen = "127.0.0.1:0";
	r.o.backend = "http://127.0.0.1:9";
	r.o.make.tee = "tdx";
	r.o.make.sim_dir = simdir;
	r.o.port_file = pf;
	r.o.header_timeout_s = 300;
	r.o.stop = &r.stop;
	assert_int_equal(pthread_create(&th, NULL, serve_main, &r), 0);
	for (i = 0; i < 100 && !port; i++) {
		usleep(100000);
		if ((f = fopen(pf, "r"))) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
	}
	assert_true(port > 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	usleep(500000); /* accepted: its thread waits for the handshake (300 s) */
	t0 = time(NULL);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE); /* serve reads it atomically */
	pthread_join(th, NULL);
	assert_int_equal(r.rc, CCT_OK);
	assert_true(time(NULL) - t0 <= 3);
	/* the connection was closed by the stop, not held by a thread still running */
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
}

/* the composite's caller binding: a body without runtime-data is refused unless the caller
 * binds it, and a body with runtime-data is refused when the caller binds */
static void test_composite_caller_binding(void **st)
{
	cct_attester_opts ao;
	cct_sim_opts so;
	cct_composite_opts co;
	cct_composite_result r;
	uint8_t rd[64], gn[32];
	char *body = NULL;
	cct_err err;

	(void)st;
	memset(rd, 0x42, sizeof(rd));
	memset(gn, 0x24, sizeof(gn));
	memset(&ao, 0, sizeof(ao));
	ao.report_data = rd;
	ao.gpu_nonce = gn;
	memset(&so, 0, sizeof(so));
	so.gpus = 1;
	assert_int_equal(cct_sim_evidence(&body, simdir, &ao, &so, &err), CCT_OK);
	assert_null(strstr(body, "runtime-data"));
	memset(&co, 0, sizeof(co));
	co.trust_sim_dir = simdir;
	/* not bound by the caller: refused as a shape error, never verified */
	assert_int_equal(cct_composite_verify(&r, (uint8_t *)body, strlen(body), pol, &co, NULL), CCT_EFORMAT);
	assert_non_null(strstr(r.err.msg, "runtime-data"));
	cct_composite_result_clear(&r);
	co.bound_report_data = rd;
	co.bound_gpu_nonce = gn;
	assert_int_equal(cct_composite_verify(&r, (uint8_t *)body, strlen(body), pol, &co, NULL), CCT_OK);
	assert_string_equal(json_string_value(json_object_get(r.result, "nonce")), "caller-bound");
	cct_composite_result_clear(&r);
	/* another caller binding */
	rd[0] ^= 1;
	assert_int_equal(cct_composite_verify(&r, (uint8_t *)body, strlen(body), pol, &co, NULL), CCT_EBINDING);
	cct_composite_result_clear(&r);
	rd[0] ^= 1;
	gn[0] ^= 1;
	assert_int_equal(cct_composite_verify(&r, (uint8_t *)body, strlen(body), pol, &co, NULL), CCT_EBINDING);
	assert_non_null(strstr(r.err.msg, "gpu0"));
	cct_composite_result_clear(&r);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snp_gpus_genuine_and_tampered),
		cmocka_unit_test(test_tdx_tagged),
		cmocka_unit_test(test_gpu_cc_off_is_policy),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_cc_mode_nul),
		cmocka_unit_test(test_cert_make_verify),
		cmocka_unit_test(test_composite_caller_binding),
		cmocka_unit_test(test_cert_duplicate_extension),
		cmocka_unit_test(test_cert_critical_extension),
		cmocka_unit_test(test_exporter_needs_ems),
		cmocka_unit_test(test_trickling_server_deadline),
		cmocka_unit_test(test_large_certificate),
		cmocka_unit_test(test_serve_stop_ends_connections),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
