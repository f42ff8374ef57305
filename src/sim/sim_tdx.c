/* Simulated Intel TDX platform: Intel-shaped DCAP PKI, signed collateral and quotes v4/v5. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sim/presign.h"
#include "sim/sim_tdx.h"
#include "cctrust/core.h"
#include "x509/mint.h"
#include "x509/x509.h"

#define SGX_EXT_OID "1.2.840.113741.1.13.1"
#define ORG "Intel Corporation (SIMULATED)"
#define QE_AUTH_DATA_SIZE 32
#define DAY 86400L
#define DEFAULT_TCB_DATE "2024-11-13T00:00:00Z"
#define OLD_TCB_DATE "2023-08-09T00:00:00Z"

static const uint8_t intel_qe_vendor_id[16] = { 0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
						0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07 };

/* ---- SGX extension of the PCK leaf, built as DER with OpenSSL's ASN1_TYPE sequences ---- */

/* a SEQUENCE of the items of sk, as an ASN1_TYPE; consumes sk */
static ASN1_TYPE *seq_of(STACK_OF(ASN1_TYPE) *sk)
{
	unsigned char *der = NULL;
	ASN1_STRING *s = NULL;
	ASN1_TYPE *t = NULL;
	int n = sk ? i2d_ASN1_SEQUENCE_ANY(sk, &der) : 0;

	if (n > 0 && (s = ASN1_STRING_new()) != NULL && ASN1_STRING_set(s, der, n) &&
	    (t = ASN1_TYPE_new()) != NULL) {
		ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
		s = NULL;
	}
	ASN1_STRING_free(s);
	OPENSSL_free(der);
	sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
	return t;
}

static ASN1_TYPE *int_of(long v, int enumerated)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_INTEGER *i = enumerated ? ASN1_ENUMERATED_new() : ASN1_INTEGER_new();

	if (!t || !i || !(enumerated ? ASN1_ENUMERATED_set(i, v) : ASN1_INTEGER_set(i, v))) {
		ASN1_TYPE_free(t);
		ASN1_STRING_free(i);
		return NULL;
	}
	ASN1_TYPE_set(t, enumerated ? V_ASN1_ENUMERATED : V_ASN1_INTEGER, i);
	return t;
}

static ASN1_TYPE *octets_of(const uint8_t *p, size_t n)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();

	if (!t || !o || !ASN1_OCTET_STRING_set(o, p, (int)n)) {
		ASN1_TYPE_free(t);
		ASN1_OCTET_STRING_free(o);
		return NULL;
	}
	ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, o);
	return t;
}

static ASN1_TYPE *bool_of(int v)
{
	static int yes = 1;
	ASN1_TYPE *t = ASN1_TYPE_new();

	if (t) /* OpenSSL: a BOOLEAN is TRUE when the value pointer is not NULL */
		ASN1_TYPE_set(t, V_ASN1_BOOLEAN, v ? (void *)&yes : NULL);
	return t;
}

/* push v onto sk (NULL v or a failed push marks *bad) */
static void push(STACK_OF(ASN1_TYPE) *sk, ASN1_TYPE *v, int *bad)
{
	if (!sk || !v || !sk_ASN1_TYPE_push(sk, v)) {
		ASN1_TYPE_free(v);
		*bad = 1;
	}
}

/* SEQUENCE { OID base.arc, value } */
static ASN1_TYPE *pair_of(const char *base, int arc, ASN1_TYPE *value)
{
	STACK_OF(ASN1_TYPE) *sk = sk_ASN1_TYPE_new_null();
	ASN1_TYPE *o = ASN1_TYPE_new();
	ASN1_OBJECT *obj;
	char txt[64];
	int bad = 0;

	snprintf(txt, sizeof(txt), "%s.%d", base, arc);
	obj = OBJ_txt2obj(txt, 1);
	if (o && obj)
		ASN1_TYPE_set(o, V_ASN1_OBJECT, obj);
	else {
		ASN1_OBJECT_free(obj);
		ASN1_TYPE_free(o);
		o = NULL;
	}
	push(sk, o, &bad);
	push(sk, value, &bad);
	if (bad) {
		sk_ASN1_TYPE_pop_free(sk, ASN1_TYPE_free);
		return NULL;
	}
	return seq_of(sk);
}

/* DER of the SGX extension value (OPENSSL_free) */
static uint8_t *sgx_extension_der(const cct_sim_tdx *t, size_t *len)
{
	static const char tcb_oid[] = SGX_EXT_OID ".2", cfg_oid[] = SGX_EXT_OID ".7";
	STACK_OF(ASN1_TYPE) *top = sk_ASN1_TYPE_new_null(), *tcb = sk_ASN1_TYPE_new_null(),
			    *cfg = sk_ASN1_TYPE_new_null();
	uint8_t instance[16];
	unsigned char *der = NULL;
	int i, n, bad = 0;

	RAND_bytes(instance, sizeof(instance));
	for (i = 0; i < 16; i++)
		push(tcb, pair_of(tcb_oid, i + 1, int_of(t->sgx_comp[i], 0)), &bad);
	push(tcb, pair_of(tcb_oid, 17, int_of(t->pcesvn, 0)), &bad);
	push(tcb, pair_of(tcb_oid, 18, octets_of(t->cpusvn, 16)), &bad);
	push(cfg, pair_of(cfg_oid, 1, bool_of(1)), &bad); /* dynamicPlatform */
	push(cfg, pair_of(cfg_oid, 2, bool_of(1)), &bad); /* cachedKeys */
	push(cfg, pair_of(cfg_oid, 3, bool_of(1)), &bad); /* SMTEnabled */
	push(top, pair_of(SGX_EXT_OID, 1, octets_of(t->ppid, 16)), &bad);
	push(top, pair_of(SGX_EXT_OID, 2, seq_of(tcb)), &bad);
	push(top, pair_of(SGX_EXT_OID, 3, octets_of(t->pceid, 2)), &bad);
	push(top, pair_of(SGX_EXT_OID, 4, octets_of(t->fmspc, 6)), &bad);
	push(top, pair_of(SGX_EXT_OID, 5, int_of(1, 1)), &bad); /* SGX type: Scalable */
	push(top, pair_of(SGX_EXT_OID, 6, octets_of(instance, 16)), &bad);
	push(top, pair_of(SGX_EXT_OID, 7, seq_of(cfg)), &bad);
	n = bad ? 0 : i2d_ASN1_SEQUENCE_ANY(top, &der);
	sk_ASN1_TYPE_pop_free(top, ASN1_TYPE_free);
	*len = n > 0 ? (size_t)n : 0;
	return n > 0 ? der : NULL;
}

/* DER value of a standard extension written in OpenSSL's config syntax (OPENSSL_free) */
static uint8_t *conf_ext_der(int nid, const char *value, size_t *len)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
	ASN1_OCTET_STRING *d = ext ? X509_EXTENSION_get_data(ext) : NULL;
	uint8_t *out = NULL;

	*len = 0;
	if (d && (out = OPENSSL_malloc((size_t)ASN1_STRING_length(d))) != NULL) {
		*len = (size_t)ASN1_STRING_length(d);
		memcpy(out, ASN1_STRING_get0_data(d), *len);
	}
	X509_EXTENSION_free(ext);
	return out;
}

/* end-entity certificate: CA:FALSE, keyUsage digitalSignature + nonRepudiation, as Intel's */
static X509 *mint_leaf(cct_mint_spec *spec, const uint8_t *sgx, size_t sgx_len)
{
	cct_mint_ext ext[3];
	uint8_t *bc, *ku;
	size_t bcl, kul, n = 0;
	X509 *x = NULL;

	bc = conf_ext_der(NID_basic_constraints, "CA:FALSE", &bcl);
	ku = conf_ext_der(NID_key_usage, "digitalSignature,nonRepudiation", &kul);
	if (bc && ku) {
		ext[n++] = (cct_mint_ext){ "2.5.29.19", bc, bcl, 1 };
		ext[n++] = (cct_mint_ext){ "2.5.29.15", ku, kul, 1 };
		if (sgx)
			ext[n++] = (cct_mint_ext){ SGX_EXT_OID, sgx, sgx_len, 0 };
		spec->exts = ext;
		spec->ext_count = n;
		x = cct_mint_cert(spec);
		spec->exts = NULL;
		spec->ext_count = 0;
	}
	OPENSSL_free(bc);
	OPENSSL_free(ku);
	return x;
}

static long random_serial(void)
{
	uint64_t v = 0;

	RAND_bytes((unsigned char *)&v, sizeof(v));
	v &= 0x7fffffffffffffffull;
	return v ? (long)v : 1;
}

static int mint_pki(cct_sim_tdx *t, const cct_sim_tdx_opts *o, time_t now)
{
	cct_mint_spec spec;
	uint8_t *sgx;
	size_t sgx_len = 0;

	t->root_key = cct_mint_ec_key("P-256");
	t->pck_ca_key = cct_mint_ec_key("P-256");
	t->pck_key = cct_mint_ec_key("P-256");
	t->tcb_key = cct_mint_ec_key("P-256");
	t->att_key = cct_mint_ec_key("P-256");
	if (!t->root_key || !t->pck_ca_key || !t->pck_key || !t->tcb_key || !t->att_key)
		return -1;
	memset(&spec, 0, sizeof(spec));
	spec.md = EVP_sha256();
	spec.org = ORG;
	spec.cn = "Intel SGX Root CA (SIMULATED)";
	spec.key = t->root_key;
	spec.issuer_key = t->root_key;
	spec.serial = random_serial();
	spec.not_before = now - DAY;
	spec.not_after = now + 25 * 365 * DAY;
	spec.is_ca = 1;
	t->root = cct_mint_cert(&spec);
	if (!t->root)
		return -1;
	spec.cn = "Intel SGX PCK Platform CA (SIMULATED)";
	spec.key = t->pck_ca_key;
	spec.issuer = t->root;
	spec.serial = random_serial();
	spec.not_after = now + 15 * 365 * DAY;
	t->pck_ca = cct_mint_cert(&spec);
	spec.is_ca = 0;
	spec.cn = "Intel SGX TCB Signing (SIMULATED)";
	spec.key = t->tcb_key;
	spec.serial = random_serial();
	spec.not_after = now + 7 * 365 * DAY;
	t->tcb = mint_leaf(&spec, NULL, 0);
	if (!t->pck_ca || !t->tcb)
		return -1;
	sgx = sgx_extension_der(t, &sgx_len);
	if (!sgx)
		return -1;
	spec.cn = "Intel SGX PCK Certificate (SIMULATED)";
	spec.key = t->pck_key;
	spec.issuer = t->pck_ca;
	spec.issuer_key = t->pck_ca_key;
	spec.serial = o && o->pck_serial ? o->pck_serial : random_serial();
	t->pck = mint_leaf(&spec, sgx, sgx_len);
	OPENSSL_free(sgx);
	return t->pck ? 0 : -1;
}

/* ---- collateral ---- */

static void hex_upper(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	cct_hex_encode(out, p, n);
	for (i = 0; out[i]; i++)
		if (out[i] >= 'a' && out[i] <= 'f')
			out[i] = (char)(out[i] - 'a' + 'A');
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];

	hex_upper(buf, p, n);
	return json_string(buf);
}

static json_t *time_json(time_t t)
{
	char buf[32];

	cct_time_format(buf, sizeof(buf), t);
	return json_string(buf);
}

static json_t *components_json(const uint8_t c[16])
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < 16; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "svn", json_integer(c[i]));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *level_json(json_t *tcb, const char *date, cct_tdx_tcb_status st,
			  const char *const *adv, size_t nadv)
{
	json_t *l = json_object();
	size_t i;

	json_object_set_new(l, "tcb", tcb);
	json_object_set_new(l, "tcbDate", json_string(date));
	json_object_set_new(l, "tcbStatus", json_string(cct_tdx_tcb_status_name(st)));
	if (nadv) {
		json_t *a = json_array();

		for (i = 0; i < nadv; i++)
			json_array_append_new(a, json_string(adv[i]));
		json_object_set_new(l, "advisoryIDs", a);
	}
	return l;
}

static json_t *isv_level_json(unsigned isvsvn, const char *date, cct_tdx_tcb_status st)
{
	json_t *tcb = json_object();

	json_object_set_new(tcb, "isvsvn", json_integer(isvsvn));
	return level_json(tcb, date, st, NULL, 0);
}

static json_t *module_json(const cct_sim_tdx *t, const char *id)
{
	json_t *m = json_object();

	if (id)
		json_object_set_new(m, "id", json_string(id));
	json_object_set_new(m, "mrsigner", hex_json(t->mrsignerseam, 48));
	json_object_set_new(m, "attributes", hex_json(t->seam_attributes, 8));
	json_object_set_new(m, "attributesMask", json_string("FFFFFFFFFFFFFFFF"));
	return m;
}

static cct_tdx_tcb_status or_up_to_date(cct_tdx_tcb_status s)
{
	return s == CCT_TDX_TCB_NONE ? CCT_TDX_TCB_UP_TO_DATE : s;
}

/* TCB info v3 for TDX, Intel's member order */
static char *tcb_info_text(const cct_sim_tdx *t, const cct_sim_tdx_collateral_opts *o)
{
	static const uint8_t zero[16];
	json_t *j = json_object(), *ids = json_array(), *levels = json_array(), *tcb, *mod;
	json_t *mlevels = json_array();
	const char *date = o->tcb_date ? o->tcb_date : DEFAULT_TCB_DATE;
	char *s, id[16];
	size_t nadv = o->advisory_count < CCT_SIM_TDX_MAX_ADVISORIES ? o->advisory_count
								    : CCT_SIM_TDX_MAX_ADVISORIES;

	json_object_set_new(j, "id", json_string("TDX"));
	json_object_set_new(j, "version", json_integer(3));
	json_object_set_new(j, "issueDate", time_json(t->coll_issue));
	json_object_set_new(j, "nextUpdate", time_json(t->coll_next_update));
	json_object_set_new(j, "fmspc", hex_json(t->fmspc, 6));
	json_object_set_new(j, "pceId", hex_json(t->pceid, 2));
	json_object_set_new(j, "tcbType", json_integer(0));
	json_object_set_new(j, "tcbEvaluationDataNumber", json_integer(17));
	json_object_set_new(j, "tdxModule", module_json(t, NULL));
	snprintf(id, sizeof(id), "TDX_%02X", t->tee_tcb_svn[1]);
	mod = module_json(t, id);
	json_array_append_new(mlevels, isv_level_json(t->tee_tcb_svn[0], date,
						      or_up_to_date(o->module_status)));
	if (t->tee_tcb_svn[0] > 0)
		json_array_append_new(mlevels,
				      isv_level_json(0, OLD_TCB_DATE, CCT_TDX_TCB_OUT_OF_DATE));
	json_object_set_new(mod, "tcbLevels", mlevels);
	json_array_append_new(ids, mod);
	json_object_set_new(j, "tdxModuleIdentities", ids);
	tcb = json_object();
	json_object_set_new(tcb, "sgxtcbcomponents", components_json(t->sgx_comp));
	json_object_set_new(tcb, "pcesvn", json_integer(t->pcesvn));
	json_object_set_new(tcb, "tdxtcbcomponents", components_json(t->tee_tcb_svn));
	json_array_append_new(levels, level_json(tcb, date, or_up_to_date(o->tcb_status),
						 o->advisory_ids, nadv));
	tcb = json_object();
	json_object_set_new(tcb, "sgxtcbcomponents", components_json(zero));
	json_object_set_new(tcb, "pcesvn", json_integer(0));
	json_object_set_new(tcb, "tdxtcbcomponents", components_json(zero));
	json_array_append_new(levels, level_json(tcb, OLD_TCB_DATE, CCT_TDX_TCB_OUT_OF_DATE,
						 NULL, 0));
	json_object_set_new(j, "tcbLevels", levels);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* QE identity v2 for the TD quoting enclave */
static char *qe_identity_text(const cct_sim_tdx *t, const cct_sim_tdx_collateral_opts *o)
{
	json_t *j = json_object(), *levels = json_array();
	const char *date = o->tcb_date ? o->tcb_date : DEFAULT_TCB_DATE;
	char *s;

	json_object_set_new(j, "id", json_string("TD_QE"));
	json_object_set_new(j, "version", json_integer(2));
	json_object_set_new(j, "issueDate", time_json(t->coll_issue));
	json_object_set_new(j, "nextUpdate", time_json(t->coll_next_update));
	json_object_set_new(j, "tcbEvaluationDataNumber", json_integer(17));
	json_object_set_new(j, "miscselect", json_string("00000000"));
	json_object_set_new(j, "miscselectMask", json_string("FFFFFFFF"));
	json_object_set_new(j, "attributes", json_string("11000000000000000000000000000000"));
	json_object_set_new(j, "attributesMask", json_string("FBFFFFFFFFFFFFFF0000000000000000"));
	json_object_set_new(j, "mrsigner", hex_json(t->qe_mrsigner, 32));
	json_object_set_new(j, "isvprodid", json_integer(t->qe_isvprodid));
	json_array_append_new(levels,
			      isv_level_json(t->qe_isvsvn, date, or_up_to_date(o->qe_status)));
	if (t->qe_isvsvn > 0)
		json_array_append_new(levels,
				      isv_level_json(0, OLD_TCB_DATE, CCT_TDX_TCB_OUT_OF_DATE));
	json_object_set_new(j, "tcbLevels", levels);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* ECDSA-SHA256 -> raw r || s, big-endian */
static int sign_rs(EVP_PKEY *key, const uint8_t *msg, size_t n, uint8_t out[64])
{
	uint8_t dgst[32];

	cct_sha256(msg, n, dgst);
	return cct_sim__ecdsa_sign_raw(key, dgst, sizeof(dgst), out, 32);
}

/* CRL by issuer, ECDSA-SHA256 as Intel's */
static X509_CRL *crl_of(X509 *issuer, EVP_PKEY *key, const long *serials, size_t n, time_t last,
			time_t next)
{
	X509_CRL *c = cct_mint_crl(issuer, key, 0, serials, n, -1, last, next);

	if (c && X509_CRL_sign(c, key, EVP_sha256()) <= 0) {
		X509_CRL_free(c);
		c = NULL;
	}
	return c;
}

static char *crl_hex(X509_CRL *c)
{
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(c, &der);
	char *hex = n > 0 ? malloc(2 * (size_t)n + 1) : NULL;

	if (hex)
		cct_hex_encode(hex, der, (size_t)n);
	OPENSSL_free(der);
	return hex;
}

static char *pem_concat(X509 *a, X509 *b, X509 *c)
{
	char *p[3] = { a ? cct_mint_cert_pem(a) : NULL, b ? cct_mint_cert_pem(b) : NULL,
		       c ? cct_mint_cert_pem(c) : NULL };
	size_t n = 0, i;
	char *out;

	for (i = 0; i < 3; i++)
		n += p[i] ? strlen(p[i]) : 0;
	out = malloc(n + 1);
	if (out) {
		out[0] = 0;
		for (i = 0; i < 3; i++)
			if (p[i])
				strcat(out, p[i]);
	}
	for (i = 0; i < 3; i++)
		free(p[i]);
	return out;
}

/* QVL JSON bundle from the current parts */
static char *bundle_text(const cct_sim_tdx *t)
{
	json_t *b = json_object();
	char *ca_chain = pem_concat(t->pck_ca, t->root, NULL);
	char *tcb_chain = pem_concat(t->tcb, t->root, NULL);
	char *root_crl = crl_hex(t->root_crl), *pck_crl = crl_hex(t->pck_crl);
	char sig[129], *s = NULL;

	if (b && ca_chain && tcb_chain && root_crl && pck_crl) {
		json_object_set_new(b, "pck_crl_issuer_chain", json_string(ca_chain));
		json_object_set_new(b, "root_ca_crl", json_string(root_crl));
		json_object_set_new(b, "pck_crl", json_string(pck_crl));
		json_object_set_new(b, "tcb_info_issuer_chain", json_string(tcb_chain));
		json_object_set_new(b, "tcb_info", json_string(t->tcb_info));
		cct_hex_encode(sig, t->tcb_info_sig, 64);
		json_object_set_new(b, "tcb_info_signature", json_string(sig));
		json_object_set_new(b, "qe_identity_issuer_chain", json_string(tcb_chain));
		json_object_set_new(b, "qe_identity", json_string(t->qe_identity));
		cct_hex_encode(sig, t->qe_identity_sig, 64);
		json_object_set_new(b, "qe_identity_signature", json_string(sig));
		s = json_dumps(b, JSON_INDENT(2));
	}
	json_decref(b);
	free(ca_chain);
	free(tcb_chain);
	free(root_crl);
	free(pck_crl);
	return s;
}

int cct_sim_tdx_collateral(cct_sim_tdx *t, const cct_sim_tdx_collateral_opts *opts,
			   cct_err *err)
{
	static const cct_sim_tdx_collateral_opts defaults;
	const cct_sim_tdx_collateral_opts *o = opts ? opts : &defaults;
	char *tcb = NULL, *qe = NULL, *bundle = NULL;
	X509_CRL *root_crl = NULL, *pck_crl = NULL;
	uint8_t tsig[64], qsig[64];
	time_t old_issue, old_next;
	int64_t serial64 = 0;
	long serial;
	int rc = CCT_ERROR;

	if (!t)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	if (o->revoke_pck && !ASN1_INTEGER_get_int64(&serial64, X509_get0_serialNumber(t->pck)))
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "PCK serial unreadable");
	serial = (long)serial64;
	old_issue = t->coll_issue;
	old_next = t->coll_next_update;
	t->coll_issue = o->issue ? o->issue : time(NULL) - 3600;
	t->coll_next_update = o->next_update ? o->next_update
					     : t->coll_issue + CCT_SIM_TDX_COLLATERAL_DAYS * DAY;
	tcb = tcb_info_text(t, o);
	qe = qe_identity_text(t, o);
	root_crl = crl_of(t->root, t->root_key, NULL, 0, t->coll_issue, t->coll_next_update);
	pck_crl = crl_of(t->pck_ca, t->pck_ca_key, &serial, o->revoke_pck ? 1 : 0, t->coll_issue,
			 t->coll_next_update);
	if (!tcb || !qe || !root_crl || !pck_crl ||
	    sign_rs(t->tcb_key, (const uint8_t *)tcb, strlen(tcb), tsig) != 0 ||
	    sign_rs(t->tcb_key, (const uint8_t *)qe, strlen(qe), qsig) != 0) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
				 "cannot issue the simulated TDX collateral");
		t->coll_issue = old_issue;
		t->coll_next_update = old_next;
		goto out;
	}
	free(t->tcb_info);
	free(t->qe_identity);
	X509_CRL_free(t->root_crl);
	X509_CRL_free(t->pck_crl);
	t->tcb_info = tcb;
	t->qe_identity = qe;
	t->root_crl = root_crl;
	t->pck_crl = pck_crl;
	memcpy(t->tcb_info_sig, tsig, 64);
	memcpy(t->qe_identity_sig, qsig, 64);
	tcb = qe = NULL;
	root_crl = pck_crl = NULL;
	bundle = bundle_text(t);
	if (!bundle) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot encode the bundle");
		goto out;
	}
	free(t->bundle);
	t->bundle = bundle;
	rc = CCT_OK;
out:
	free(tcb);
	free(qe);
	X509_CRL_free(root_crl);
	X509_CRL_free(pck_crl);
	ERR_clear_error();
	return rc;
}

/* ---- platform ---- */

static void defaults(cct_sim_tdx *t, const cct_sim_tdx_opts *o)
{
	static const uint8_t fmspc[6] = { 0x90, 0xc0, 0x6f, 0x00, 0x00, 0x00 };
	static const uint8_t comp[16] = { 2, 2, 2, 2, 3, 1, 0, 3 };
	static const uint8_t tee[16] = { 5, 1, 3 };

	memcpy(t->fmspc, o && o->has_fmspc ? o->fmspc : fmspc, 6);
	memcpy(t->sgx_comp, o && o->has_sgx_tcb ? o->sgx_comp : comp, 16);
	memcpy(t->cpusvn, t->sgx_comp, 16);
	t->pcesvn = o && o->has_sgx_tcb ? o->pcesvn : 13;
	memcpy(t->tee_tcb_svn, o && o->has_tee_tcb_svn ? o->tee_tcb_svn : tee, 16);
	t->qe_isvprodid = 2;
	t->qe_isvsvn = o && o->qe_isvsvn ? o->qe_isvsvn : 8;
	/* Intel's TDX module signer and SEAM attributes are zero; the rest is per platform */
	RAND_bytes(t->ppid, 16);
	RAND_bytes(t->mrseam, 48);
	RAND_bytes(t->qe_mrsigner, 32);
	RAND_bytes(t->qe_mrenclave, 32);
	RAND_bytes(t->qe_vendor_user_data, 16);
}

int cct_sim_tdx_new(cct_sim_tdx **out, const cct_sim_tdx_opts *o, cct_err *err)
{
	cct_sim_tdx *t = calloc(1, sizeof(*t));
	cct_sim_tdx_collateral_opts co;
	time_t now = o && o->now ? o->now : time(NULL);
	int rc = CCT_ERROR;

	*out = NULL;
	if (!t)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	defaults(t, o);
	if (mint_pki(t, o, now) != 0) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
				 "cannot mint the simulated TDX PKI");
		goto out;
	}
	memset(&co, 0, sizeof(co));
	if (o)
		co = o->collateral;
	if (!co.issue)
		co.issue = now - 3600;
	rc = cct_sim_tdx_collateral(t, &co, err);
	if (rc != CCT_OK)
		goto out;
	*out = t;
	t = NULL;
	rc = CCT_OK;
out:
	cct_sim_tdx_free(t);
	ERR_clear_error();
	return rc;
}

void cct_sim_tdx_free(cct_sim_tdx *t)
{
	if (!t)
		return;
	EVP_PKEY_free(t->root_key);
	EVP_PKEY_free(t->pck_ca_key);
	EVP_PKEY_free(t->pck_key);
	EVP_PKEY_free(t->tcb_key);
	EVP_PKEY_free(t->att_key);
	X509_free(t->root);
	X509_free(t->pck_ca);
	X509_free(t->pck);
	X509_free(t->tcb);
	X509_CRL_free(t->root_crl);
	X509_CRL_free(t->pck_crl);
	free(t->tcb_info);
	free(t->qe_identity);
	free(t->bundle);
	free(t);
}

char *cct_sim_tdx_root_pem(const cct_sim_tdx *t)
{
	return t && t->root ? cct_mint_cert_pem(t->root) : NULL;
}

/* ---- quote ---- */

typedef struct {
	uint8_t *p;
	size_t off, cap;
} writer;

static void put(writer *w, const void *src, size_t n)
{
	if (w->off + n <= w->cap) {
		if (src)
			memcpy(w->p + w->off, src, n);
		else
			memset(w->p + w->off, 0, n);
	}
	w->off += n;
}

static void put_u16(writer *w, unsigned v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	put(w, b, 2);
}

static void put_u32(writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
	put_u32(w, (uint32_t)v);
	put_u32(w, (uint32_t)(v >> 32));
}

static void td_report(writer *w, const cct_sim_tdx *t, const cct_sim_tdx_quote_opts *o,
		      int td15)
{
	uint64_t attrs = o->td_attributes ? o->td_attributes : 0x10000000u; /* SEPT_VE_DISABLE */
	int i;

	if (o->debug)
		attrs |= CCT_TDX_TD_ATTR_DEBUG;
	put(w, t->tee_tcb_svn, 16);                  /* 0x000 TEE_TCB_SVN */
	put(w, t->mrseam, 48);                       /* 0x010 MRSEAM */
	put(w, t->mrsignerseam, 48);                 /* 0x040 MRSIGNERSEAM */
	put(w, t->seam_attributes, 8);               /* 0x070 SEAMATTRIBUTES */
	put_u64(w, attrs);                           /* 0x078 TDATTRIBUTES */
	put_u64(w, o->xfam ? o->xfam : 0x61ae7u);    /* 0x080 XFAM */
	put(w, o->mrtd, 48);                         /* 0x088 MRTD */
	put(w, o->mrconfigid, 48);                   /* 0x0B8 MRCONFIGID */
	put(w, o->mrowner, 48);                      /* 0x0E8 MROWNER */
	put(w, o->mrownerconfig, 48);                /* 0x118 MROWNERCONFIG */
	for (i = 0; i < 4; i++)
		put(w, o->rtmr[i], 48);              /* 0x148 RTMR0..3 */
	put(w, o->report_data, 64);                  /* 0x208 REPORTDATA */
	if (td15) {
		put(w, t->tee_tcb_svn, 16);          /* 0x248 TEE_TCB_SVN2 */
		put(w, o->mrservicetd, 48);          /* 0x258 MRSERVICETD */
	}
}

/* SGX report body of the TD quoting enclave (384 bytes) */
static void qe_report(writer *w, const cct_sim_tdx *t, const uint8_t report_data[32])
{
	static const uint8_t attributes[16] = { 0x15, 0, 0, 0, 0, 0, 0, 0, 0xe7 };

	put(w, t->cpusvn, 16);                       /* 0x000 CPUSVN */
	put_u32(w, 0);                               /* 0x010 MISCSELECT */
	put(w, NULL, 28);                            /* 0x014 reserved, ISVEXTPRODID */
	put(w, attributes, 16);                      /* 0x030 ATTRIBUTES */
	put(w, t->qe_mrenclave, 32);                 /* 0x040 MRENCLAVE */
	put(w, NULL, 32);                            /* 0x060 reserved */
	put(w, t->qe_mrsigner, 32);                  /* 0x080 MRSIGNER */
	put(w, NULL, 96);                            /* 0x0A0 reserved, CONFIGID */
	put_u16(w, t->qe_isvprodid);                 /* 0x100 ISVPRODID */
	put_u16(w, t->qe_isvsvn);                    /* 0x102 ISVSVN */
	put(w, NULL, 60);                            /* 0x104 CONFIGSVN, reserved, FAMILYID */
	put(w, report_data, 32);                     /* 0x140 REPORTDATA */
	put(w, NULL, 32);
}

int cct_sim_tdx_quote(uint8_t **out, size_t *len, const cct_sim_tdx *t,
		      const cct_sim_tdx_quote_opts *opts, cct_err *err)
{
	static const cct_sim_tdx_quote_opts zero_opts;
	const cct_sim_tdx_quote_opts *o = opts ? opts : &zero_opts;
	uint16_t version = o->version ? o->version : 4;
	uint16_t body_type = version == 4 ? 2 : o->body_type ? o->body_type : 3;
	size_t body_size = body_type == 3 ? CCT_TDX_TD15_BODY_SIZE : CCT_TDX_TD10_BODY_SIZE;
	uint8_t auth[QE_AUTH_DATA_SIZE], att_pub[65], hashed[64 + QE_AUTH_DATA_SIZE], h[32];
	size_t pub_len = 0, chain_len, qe_cert_size, sig_size, signed_size, qe_off, i;
	char *chain = NULL;
	writer w = { NULL, 0, 0 };
	int rc = CCT_ERROR;

	if (!out || !len || !t)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	*out = NULL;
	*len = 0;
	if ((version != 4 && version != 5) || (body_type != 2 && body_type != 3))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				   "quote version %u body type %u: want v4, or v5 with body 2|3",
				   version, body_type);
	if (EVP_PKEY_get_octet_string_param(t->att_key, "encoded-pub-key", att_pub,
					    sizeof(att_pub), &pub_len) != 1 ||
	    pub_len != 65) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
				 "attestation key is not a P-256 key");
		goto out;
	}
	chain = pem_concat(t->pck, t->pck_ca, t->root);
	if (!chain) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	chain_len = strlen(chain) + 1; /* Intel's QE includes the terminating NUL */
	for (i = 0; i < QE_AUTH_DATA_SIZE; i++)
		auth[i] = (uint8_t)i;
	memcpy(hashed, att_pub + 1, 64);
	memcpy(hashed + 64, auth, QE_AUTH_DATA_SIZE);
	cct_sha256(hashed, sizeof(hashed), h);
	qe_cert_size = CCT_TDX_QE_REPORT_SIZE + 64 + 2 + QE_AUTH_DATA_SIZE + 2 + 4 + chain_len;
	sig_size = 64 + 64 + 2 + 4 + qe_cert_size;
	signed_size = CCT_TDX_HEADER_SIZE + (version == 5 ? 6 : 0) + body_size;
	w.cap = signed_size + 4 + sig_size;
	w.p = calloc(1, w.cap);
	if (!w.p) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	/* header */
	put_u16(&w, version);                        /* 0x00 version */
	put_u16(&w, 2);                              /* 0x02 ECDSA-256 with P-256 */
	put_u32(&w, CCT_TDX_TEE_TYPE);               /* 0x04 TEE type */
	put_u16(&w, 0);                              /* 0x08 reserved / QE SVN */
	put_u16(&w, 0);                              /* 0x0A reserved / PCE SVN */
	put(&w, intel_qe_vendor_id, 16);             /* 0x0C QE vendor ID */
	put(&w, t->qe_vendor_user_data, 16);         /* 0x1C user data: QE ID */
	put(&w, NULL, 4);
	if (version == 5) {
		put_u16(&w, body_type);              /* 0x30 body type */
		put_u32(&w, (uint32_t)body_size);    /* 0x32 body size */
	}
	td_report(&w, t, o, body_type == 3);
	put_u32(&w, (uint32_t)sig_size);
	/* signature data: quote signature filled below */
	put(&w, NULL, 64);
	put(&w, att_pub + 1, 64);
	put_u16(&w, 6);                              /* QE report certification data */
	put_u32(&w, (uint32_t)qe_cert_size);
	qe_off = w.off;
	qe_report(&w, t, h);
	put(&w, NULL, 64);                           /* QE report signature, below */
	put_u16(&w, QE_AUTH_DATA_SIZE);
	put(&w, auth, QE_AUTH_DATA_SIZE);
	put_u16(&w, 5);                              /* PCK certificate chain */
	put_u32(&w, (uint32_t)chain_len);
	put(&w, chain, chain_len);
	if (w.off != w.cap ||
	    sign_rs(t->pck_key, w.p + qe_off, CCT_TDX_QE_REPORT_SIZE,
		    w.p + qe_off + CCT_TDX_QE_REPORT_SIZE) != 0 ||
	    sign_rs(t->att_key, w.p, signed_size, w.p + signed_size + 4) != 0) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot sign the quote");
		goto out;
	}
	*out = w.p;
	*len = w.cap;
	w.p = NULL;
	rc = CCT_OK;
out:
	free(w.p);
	free(chain);
	ERR_clear_error();
	return rc;
}

/* ---- TD report (TDREPORT_STRUCT, 1024 bytes) and the quoting enclave's view of it ---- */

int cct_sim_tdx_td_report(uint8_t out[1024], const cct_sim_tdx *t,
			  const cct_sim_tdx_quote_opts *opts)
{
	static const cct_sim_tdx_quote_opts zero_opts;
	const cct_sim_tdx_quote_opts *o = opts ? opts : &zero_opts;
	uint8_t body[CCT_TDX_TD10_BODY_SIZE];
	writer b = { body, 0, sizeof(body) };
	uint8_t h[48];

	/* the quote body's fields in quote order, then placed where the TD report keeps them */
	td_report(&b, t, o, 0);
	memset(out, 0, 1024);
	/* REPORTMACSTRUCT: type TDX (0x81), subtype 0, version 0 */
	out[0] = 0x81;
	memcpy(out + 0x10, t->cpusvn, 16);
	memcpy(out + 0x80, body + 0x208, 64);        /* REPORTDATA */
	/* TEE_TCB_INFO: VALID, TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, ATTRIBUTES */
	memset(out + 0x100, 0xff, 1);                /* the fields present: 0..7 */
	memcpy(out + 0x108, body, 0x78);
	/* TDINFO: ATTRIBUTES, XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 */
	memcpy(out + 0x200, body + 0x78, 0x208 - 0x78);
	/* the hashes the MAC covers (the MAC itself stays zero: only the platform could check it) */
	cct_sha384(out + 0x100, 239, h);
	memcpy(out + 0x20, h, 48);
	cct_sha384(out + 0x200, 512, h);
	memcpy(out + 0x50, h, 48);
	return CCT_OK;
}

int cct_sim_tdx_quote_for_td_report(uint8_t **out, size_t *len, const cct_sim_tdx *t,
				    const uint8_t *td_report, size_t n, cct_err *err)
{
	cct_sim_tdx_quote_opts qo;
	uint8_t mine[1024];
	int i;

	if (n != 1024 || td_report[0] != 0x81)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "not a TD report (1024 bytes, type 0x81)");
	memset(&qo, 0, sizeof(qo));
	memcpy(qo.report_data, td_report + 0x80, 64);
	for (i = 0; i < 8; i++)
		qo.td_attributes |= (uint64_t)td_report[0x200 + i] << (8 * i);
	for (i = 0; i < 8; i++)
		qo.xfam |= (uint64_t)td_report[0x208 + i] << (8 * i);
	memcpy(qo.mrtd, td_report + 0x210, 48);
	memcpy(qo.mrconfigid, td_report + 0x240, 48);
	memcpy(qo.mrowner, td_report + 0x270, 48);
	memcpy(qo.mrownerconfig, td_report + 0x2A0, 48);
	memcpy(qo.rtmr, td_report + 0x2D0, 192);
	/* the platform's quoting enclave quotes only reports of its own platform: the sim's
	 * stand-in for the MAC check is that the TEE_TCB_INFO is this platform's */
	cct_sim_tdx_td_report(mine, t, &qo);
	if (memcmp(mine + 0x100, td_report + 0x100, 239))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0x100,
				   "TD report of another (simulated) platform: TEE_TCB_INFO differs");
	return cct_sim_tdx_quote(out, len, t, &qo, err);
}

/* ---- save / load ---- */

/* dir/name into buf; CCT_OK or EINVAL when it does not fit */
static int join(char *buf, size_t size, const char *dir, const char *name, cct_err *err)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "path too long: %s/%s",
				   dir, name);
	return CCT_OK;
}

static int mkdir_p1(const char *path, cct_err *err)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "cannot create %s: %s", path,
				   strerror(errno));
	return CCT_OK;
}

static int save_blob(const char *dir, const char *name, const void *p, size_t n, int private_,
		     cct_err *err)
{
	char path[4096];

	if (!p)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot encode %s", name);
	if (join(path, sizeof(path), dir, name, err) != CCT_OK)
		return CCT_EINVAL;
	return cct_file_write(path, p, n, private_, err);
}

static int save_crl_der(const char *dir, const char *name, X509_CRL *c, cct_err *err)
{
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(c, &der);
	int rc = save_blob(dir, name, n > 0 ? der : NULL, n > 0 ? (size_t)n : 0, 0, err);

	OPENSSL_free(der);
	return rc;
}

/* {"<key>":<exact signed text>,"signature":"<hex>"} as Intel PCS v4 serves it */
static char *pcs_signed(const char *key, const char *text, const uint8_t sig[64])
{
	char hex[129], *s;

	cct_hex_encode(hex, sig, 64);
	if (asprintf(&s, "{\"%s\":%s,\"signature\":\"%s\"}", key, text, hex) < 0)
		return NULL;
	return s;
}

static char *info_text(const cct_sim_tdx *t)
{
	json_t *j = json_object();
	char h[97], *s;

#define HEX(k, p, n)                                       \
	do {                                               \
		cct_hex_encode(h, p, n);                   \
		json_object_set_new(j, k, json_string(h)); \
	} while (0)
	json_object_set_new(j, "simulated", json_true());
	json_object_set_new(j, "tee", json_string("tdx"));
	HEX("fmspc", t->fmspc, 6);
	HEX("pceid", t->pceid, 2);
	HEX("ppid", t->ppid, 16);
	HEX("cpusvn", t->cpusvn, 16);
	HEX("sgx_tcb_components", t->sgx_comp, 16);
	json_object_set_new(j, "pcesvn", json_integer(t->pcesvn));
	HEX("tee_tcb_svn", t->tee_tcb_svn, 16);
	HEX("mrseam", t->mrseam, 48);
	HEX("mrsignerseam", t->mrsignerseam, 48);
	HEX("seam_attributes", t->seam_attributes, 8);
	HEX("qe_mrsigner", t->qe_mrsigner, 32);
	HEX("qe_mrenclave", t->qe_mrenclave, 32);
	HEX("qe_id", t->qe_vendor_user_data, 16);
	json_object_set_new(j, "qe_isvprodid", json_integer(t->qe_isvprodid));
	json_object_set_new(j, "qe_isvsvn", json_integer(t->qe_isvsvn));
#undef HEX
	s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	return s;
}

static int sim_subdir(char *buf, size_t size, const char *sim_dir, const char *sub, cct_err *err)
{
	if (!sim_dir ||
	    snprintf(buf, size, "%s/%s%s%s", sim_dir, CCT_SIM_TDX_SUBDIR, sub ? "/" : "",
		     sub ? sub : "") >= (int)size)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad simulator directory");
	return CCT_OK;
}

int cct_sim_tdx_save(const cct_sim_tdx *t, const char *sim_dir, cct_err *err)
{
	char dir[4096], pcs[4096];
	int rc = CCT_ERROR;

	if (!t)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	if ((rc = sim_subdir(dir, sizeof(dir), sim_dir, NULL, err)) != CCT_OK ||
	    (rc = sim_subdir(pcs, sizeof(pcs), sim_dir, CCT_SIM_TDX_PCS_DIR, err)) != CCT_OK ||
	    (rc = mkdir_p1(sim_dir, err)) != CCT_OK || (rc = mkdir_p1(dir, err)) != CCT_OK ||
	    (rc = mkdir_p1(pcs, err)) != CCT_OK)
		return rc;
	if ((rc = cct_mint_save_text(dir, CCT_SIM_TDX_ROOT_FILE, cct_mint_cert_pem(t->root), 0, err)) ||
	    (rc = cct_mint_save_text(dir, "root_ca.key", cct_mint_key_pem(t->root_key), 1, err)) ||
	    (rc = cct_mint_save_text(dir, "pck_platform_ca.pem", cct_mint_cert_pem(t->pck_ca), 0, err)) ||
	    (rc = cct_mint_save_text(dir, "pck_platform_ca.key", cct_mint_key_pem(t->pck_ca_key), 1,
			    err)) ||
	    (rc = cct_mint_save_text(dir, "pck.pem", cct_mint_cert_pem(t->pck), 0, err)) ||
	    (rc = cct_mint_save_text(dir, "pck.key", cct_mint_key_pem(t->pck_key), 1, err)) ||
	    (rc = cct_mint_save_text(dir, "tcb_signing.pem", cct_mint_cert_pem(t->tcb), 0, err)) ||
	    (rc = cct_mint_save_text(dir, "tcb_signing.key", cct_mint_key_pem(t->tcb_key), 1, err)) ||
	    (rc = cct_mint_save_text(dir, "attestation.key", cct_mint_key_pem(t->att_key), 1, err)) ||
	    (rc = cct_mint_save_text(dir, "pck_chain.pem", pem_concat(t->pck, t->pck_ca, t->root), 0,
			    err)) ||
	    (rc = cct_mint_save_text(dir, "info.json", info_text(t), 0, err)) ||
	    (rc = save_blob(dir, CCT_SIM_TDX_COLLATERAL_FILE, t->bundle,
			    t->bundle ? strlen(t->bundle) : 0, 0, err)))
		return rc;
	/* the same collateral in the Intel PCS v4 directory layout */
	if ((rc = cct_mint_save_text(pcs, "tcb_info.json",
			    pcs_signed("tcbInfo", t->tcb_info, t->tcb_info_sig), 0, err)) ||
	    (rc = cct_mint_save_text(pcs, "qe_identity.json",
			    pcs_signed("enclaveIdentity", t->qe_identity, t->qe_identity_sig), 0,
			    err)) ||
	    (rc = cct_mint_save_text(pcs, "tcb_info_issuer_chain.pem", pem_concat(t->tcb, t->root, NULL),
			    0, err)) ||
	    (rc = cct_mint_save_text(pcs, "qe_identity_issuer_chain.pem",
			    pem_concat(t->tcb, t->root, NULL), 0, err)) ||
	    (rc = cct_mint_save_text(pcs, "pck_crl_issuer_chain.pem",
			    pem_concat(t->pck_ca, t->root, NULL), 0, err)) ||
	    (rc = save_crl_der(pcs, "pck_crl.der", t->pck_crl, err)) ||
	    (rc = save_crl_der(pcs, "root_ca_crl.der", t->root_crl, err)))
		return rc;
	return CCT_OK;
}

/* dir/name, a file 'cctrust sim init' made, opened for reading; its path (for messages) in path */
static int open_made(FILE **f, char *path, size_t size, const char *dir, const char *name,
		     cct_err *err)
{
	if (join(path, size, dir, name, err) != CCT_OK)
		return CCT_EINVAL;
	*f = fopen(path, "r");
	if (!*f)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "cannot read %s (made by 'cctrust sim init')", path);
	return CCT_OK;
}

static int load_cert(X509 **x, const char *dir, const char *name, cct_err *err)
{
	char path[4096];
	FILE *f;
	int rc;

	if ((rc = open_made(&f, path, sizeof(path), dir, name, err)) != CCT_OK)
		return rc;
	*x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!*x)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "%s is not a PEM certificate", path);
	return CCT_OK;
}

/* private key, checked against its certificate (NULL cert: none) */
static int load_key(EVP_PKEY **k, const char *dir, const char *name, X509 *cert, cct_err *err)
{
	char path[4096];
	FILE *f;
	int rc;

	if ((rc = open_made(&f, path, sizeof(path), dir, name, err)) != CCT_OK)
		return rc;
	*k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*k || (cert && X509_check_private_key(cert, *k) != 1)) {
		ERR_clear_error();
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "%s: not a PEM private key%s", path,
				   cert ? " matching its certificate" : "");
	}
	if (EVP_PKEY_get_base_id(*k) != EVP_PKEY_EC || EVP_PKEY_get_bits(*k) != 256)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "%s: want an ECDSA P-256 key", path);
	return CCT_OK;
}

static int info_hex(uint8_t *dst, size_t n, json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s && strlen(s) == 2 * n && cct_hex_decode_fixed(dst, n, s, NULL) == CCT_OK ? 0 : -1;
}

static int info_u16(uint16_t *dst, json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return -1;
	*dst = (uint16_t)json_integer_value(v);
	return 0;
}

static int load_info(cct_sim_tdx *t, const char *dir, cct_err *err)
{
	char path[4096];
	json_error_t je;
	json_t *j;
	int bad;

	if (join(path, sizeof(path), dir, "info.json", err) != CCT_OK)
		return CCT_EINVAL;
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "%s: %s", path, je.text);
	bad = info_hex(t->fmspc, 6, j, "fmspc") || info_hex(t->pceid, 2, j, "pceid") ||
	      info_hex(t->ppid, 16, j, "ppid") || info_hex(t->cpusvn, 16, j, "cpusvn") ||
	      info_hex(t->sgx_comp, 16, j, "sgx_tcb_components") ||
	      info_u16(&t->pcesvn, j, "pcesvn") || info_hex(t->tee_tcb_svn, 16, j, "tee_tcb_svn") ||
	      info_hex(t->mrseam, 48, j, "mrseam") ||
	      info_hex(t->mrsignerseam, 48, j, "mrsignerseam") ||
	      info_hex(t->seam_attributes, 8, j, "seam_attributes") ||
	      info_hex(t->qe_mrsigner, 32, j, "qe_mrsigner") ||
	      info_hex(t->qe_mrenclave, 32, j, "qe_mrenclave") ||
	      info_hex(t->qe_vendor_user_data, 16, j, "qe_id") ||
	      info_u16(&t->qe_isvprodid, j, "qe_isvprodid") ||
	      info_u16(&t->qe_isvsvn, j, "qe_isvsvn");
	json_decref(j);
	if (bad)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "%s: a platform field is missing or malformed", path);
	return CCT_OK;
}

static int bundle_part(const char **out, json_t *b, const char *key)
{
	*out = json_string_value(json_object_get(b, key));
	return *out ? 0 : -1;
}

static int crl_from_hex(X509_CRL **c, const char *hex)
{
	uint8_t *der = NULL;
	size_t n = 0;
	int rc = cct_hex_decode(&der, &n, hex, strlen(hex), NULL);

	if (rc == CCT_OK)
		rc = cct_x509_parse_crl(c, der, n, NULL);
	free(der);
	return rc == CCT_OK ? 0 : -1;
}

/* collateral parts back from the saved bundle (its texts are the exact signed bytes) */
static int load_bundle(cct_sim_tdx *t, const char *dir, cct_err *err)
{
	char path[4096];
	uint8_t *buf = NULL;
	size_t n = 0;
	json_t *b = NULL;
	const char *tcb, *qe, *tsig, *qsig, *rcrl, *pcrl;
	int rc;

	if (join(path, sizeof(path), dir, CCT_SIM_TDX_COLLATERAL_FILE, err) != CCT_OK)
		return CCT_EINVAL;
	rc = cct_file_read(&buf, &n, path, CCT_TDX_MAX_COLLATERAL, err);
	if (rc != CCT_OK)
		return rc;
	b = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
	if (!b || bundle_part(&tcb, b, "tcb_info") || bundle_part(&qe, b, "qe_identity") ||
	    bundle_part(&tsig, b, "tcb_info_signature") ||
	    bundle_part(&qsig, b, "qe_identity_signature") ||
	    bundle_part(&rcrl, b, "root_ca_crl") || bundle_part(&pcrl, b, "pck_crl") ||
	    cct_hex_decode_fixed(t->tcb_info_sig, 64, tsig, NULL) != CCT_OK ||
	    cct_hex_decode_fixed(t->qe_identity_sig, 64, qsig, NULL) != CCT_OK ||
	    crl_from_hex(&t->root_crl, rcrl) || crl_from_hex(&t->pck_crl, pcrl) ||
	    !(t->tcb_info = strdup(tcb)) || !(t->qe_identity = strdup(qe))) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "%s: not a simulated TDX collateral bundle", path);
		goto out;
	}
	{
		json_t *ti = json_loads(tcb, 0, NULL);
		const char *a = json_string_value(json_object_get(ti, "issueDate"));
		const char *z = json_string_value(json_object_get(ti, "nextUpdate"));

		if (!a || !z || cct_time_parse(&t->coll_issue, a, NULL) != CCT_OK ||
		    cct_time_parse(&t->coll_next_update, z, NULL) != CCT_OK)
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "%s: TCB info has no issueDate/nextUpdate", path);
		json_decref(ti);
		if (rc != CCT_OK)
			goto out;
	}
	t->bundle = (char *)buf;
	buf = NULL;
	t->bundle = realloc(t->bundle, n + 1);
	if (!t->bundle) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		goto out;
	}
	t->bundle[n] = 0;
	rc = CCT_OK;
out:
	json_decref(b);
	free(buf);
	ERR_clear_error();
	return rc;
}

int cct_sim_tdx_load(cct_sim_tdx **out, const char *sim_dir, cct_err *err)
{
	cct_sim_tdx *t;
	char dir[4096];
	int rc;

	*out = NULL;
	rc = sim_subdir(dir, sizeof(dir), sim_dir, NULL, err);
	if (rc != CCT_OK)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if ((rc = load_cert(&t->root, dir, CCT_SIM_TDX_ROOT_FILE, err)) ||
	    (rc = load_cert(&t->pck_ca, dir, "pck_platform_ca.pem", err)) ||
	    (rc = load_cert(&t->pck, dir, "pck.pem", err)) ||
	    (rc = load_cert(&t->tcb, dir, "tcb_signing.pem", err)) ||
	    (rc = load_key(&t->root_key, dir, "root_ca.key", t->root, err)) ||
	    (rc = load_key(&t->pck_ca_key, dir, "pck_platform_ca.key", t->pck_ca, err)) ||
	    (rc = load_key(&t->pck_key, dir, "pck.key", t->pck, err)) ||
	    (rc = load_key(&t->tcb_key, dir, "tcb_signing.key", t->tcb, err)) ||
	    (rc = load_key(&t->att_key, dir, "attestation.key", NULL, err)) ||
	    (rc = load_info(t, dir, err)) || (rc = load_bundle(t, dir, err))) {
		cct_sim_tdx_free(t);
		return rc;
	}
	*out = t;
	return CCT_OK;
}

int cct_sim_tdx_trust_load(uint8_t **root_pem, size_t *root_len, cct_tdx_collateral **coll,
			   const char *sim_dir, cct_err *err)
{
	char path[4096];
	int rc;

	*root_pem = NULL;
	*root_len = 0;
	if (coll)
		*coll = NULL;
	rc = sim_subdir(path, sizeof(path), sim_dir, CCT_SIM_TDX_ROOT_FILE, err);
	if (rc == CCT_OK)
		rc = cct_file_read(root_pem, root_len, path, CCT_TDX_MAX_COLLATERAL, err);
	if (rc == CCT_OK && coll) {
		rc = sim_subdir(path, sizeof(path), sim_dir, CCT_SIM_TDX_COLLATERAL_FILE, err);
		if (rc == CCT_OK)
			rc = cct_tdx_collateral_load(coll, path, err);
	}
	if (rc != CCT_OK) {
		free(*root_pem);
		*root_pem = NULL;
		*root_len = 0;
	}
	return rc;
}
