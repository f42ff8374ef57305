/* Simulated NVIDIA GPU: NVIDIA-shaped test PKI, SPDM evidence, signed RIMs, OCSP (see sim_gpu.h).
 * Everything cryptographic goes through OpenSSL (keys, certificates, DER, ECDSA, OCSP) and
 * xmlsec1 (XML signature); the byte layouts written here are the ones src/nvgpu parses:
 * DMTF DSP0274 1.1 GET_MEASUREMENTS / MEASUREMENTS, NVIDIA opaque TLVs, SWID RIMs. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sim/presign.h"
#include "sim/sim_gpu.h"
#include "cctrust/core.h"
#include "nvgpu/dice.h"
#include "nvgpu/dl_xmlsec.h" /* libxml2 + xmlsec1, loaded on first use */
#include "nvgpu/rim.h"
#include "nvgpu/spdm.h"
#include "x509/mint.h"
#include "x509/ocsp.h"
#include "x509/x509.h"

#define NS_SWID "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define NS_RIM "https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/"
#define NS_SHA384 "http://www.w3.org/2001/04/xmlenc#sha384"
#define OID_NV_SAN_DEVICE "1.3.6.1.4.1.412.274.1"
#define NOT_AFTER_FOREVER ((time_t)253402300799LL) /* 9999-12-31T23:59:59Z, as NVIDIA */
#define SPDM_MAX_BUILD 8192u                        /* request + response we build */
#define OCSP_DEFAULT_VALIDITY (7L * 86400)
#define MAX_CERT_PEM (16u * 1024u)

/* DICE FWID / DiceTcbInfo templates: nvgpu/dice.h (the schema the verifier reads) */

/* Measurement split of NVIDIA's GH100 RIMs (0-based RIM indices). */
static int vbios_index(unsigned i)
{
	return i <= 6 || (i >= 8 && i <= 12);
}

static int driver_index(unsigned i)
{
	return i == 7 || (i >= 21 && i <= 40);
}

static void golden(uint8_t out[48], const char *kind, const char *version, unsigned idx)
{
	char s[128];
	int n = snprintf(s, sizeof(s), "cctrust-sim/%s/%s/%u", kind, version, idx);

	cct_sha384(s, (size_t)n, out);
}

/* ---- option checks ---- */
static int version_ok(const char *v)
{
	size_t i, n = v ? strlen(v) : 0;

	if (n == 0 || n >= 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '-')
			return 0;
	return 1;
}

/* "AA.BB.CC.DD.EE" -> 5 bytes */
static int vbios_parse(const char *v, uint8_t out[5])
{
	unsigned i, hi, lo;

	if (!v || strlen(v) != 14)
		return -1;
	for (i = 0; i < 5; i++) {
		const char *p = v + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 4 && p[2] != '.'))
			return -1;
		hi = (unsigned)(isdigit((unsigned char)p[0]) ? p[0] - '0'
							    : toupper((unsigned char)p[0]) - 'A' + 10);
		lo = (unsigned)(isdigit((unsigned char)p[1]) ? p[1] - '0'
							    : toupper((unsigned char)p[1]) - 'A' + 10);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int text_ok(const char *s, size_t max)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n >= max)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

/* ---- certificates ---- */
typedef struct cert_spec {
	const char *cn, *org, *country;
	int serial_attr;            /* subject serialNumber = serial hex (NVIDIA device certs) */
	EVP_PKEY *key;
	X509 *issuer;               /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	int serial_from_ski;        /* serial = SKI with the top bit cleared (NVIDIA leaves) */
	size_t serial_size;         /* random serial bytes otherwise (default 16) */
	time_t nb, na;
	int ca;
	const char *key_usage;      /* X509v3 config value */
	const char *san;            /* X509v3 config value (NULL: none) */
	const char *fwid_oid;       /* DICE FWID or TcbInfo extension (NULL: none) */
	const uint8_t *fwid_der;
	size_t fwid_len;
} cert_spec;

static int name_add(X509_NAME *n, const char *field, const char *v)
{
	return !v || X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)v,
						-1, -1, 0);
}

static X509 *mint(const cert_spec *s)
{
	X509 *x = X509_new();
	X509_NAME *name;
	BIGNUM *bn = NULL;
	uint8_t sn[20];
	unsigned int sl = 0;
	char hex[41];
	int ok = 0;

	if (!x)
		return NULL;
	if (!X509_set_version(x, 2) || !X509_set_pubkey(x, s->key))
		goto out;
	if (s->serial_from_ski) {
		if (!X509_pubkey_digest(x, EVP_sha1(), sn, &sl) || sl != 20)
			goto out;
	} else {
		sl = (unsigned)(s->serial_size ? s->serial_size : 16);
		if (sl > sizeof(sn) || RAND_bytes(sn, (int)sl) != 1)
			goto out;
	}
	sn[0] &= 0x7f; /* positive INTEGER */
	if (sn[0] == 0)
		sn[0] = 0x01; /* keep the full length, so the serial hex equals the attribute */
	bn = BN_bin2bn(sn, (int)sl, NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	if (!ASN1_TIME_set(X509_getm_notBefore(x), s->nb) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), s->na))
		goto out;
	name = X509_get_subject_name(x);
	cct_hex_encode(hex, sn, sl);
	{
		size_t i;

		for (i = 0; hex[i]; i++)
			hex[i] = (char)toupper((unsigned char)hex[i]);
	}
	/* NVIDIA device certificates: serialNumber, C, O, CN; CAs: CN, O, C */
	if (s->serial_attr) {
		if (!name_add(name, "serialNumber", hex) || !name_add(name, "C", s->country) ||
		    !name_add(name, "O", s->org) || !name_add(name, "CN", s->cn))
			goto out;
	} else if (!name_add(name, "CN", s->cn) || !name_add(name, "O", s->org) ||
		   !name_add(name, "C", s->country)) {
		goto out;
	}
	if (!X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : name))
		goto out;
	if (s->ca && !cct_mint_add_ext_conf(x, s->issuer, NID_basic_constraints, "critical,CA:TRUE"))
		goto out;
	if (!cct_mint_add_ext_conf(x, s->issuer, NID_key_usage, s->key_usage) ||
	    !cct_mint_add_ext_conf(x, s->issuer, NID_subject_key_identifier, "hash") ||
	    !cct_mint_add_ext_conf(x, s->issuer, NID_authority_key_identifier, "keyid:always"))
		goto out;
	if (s->san && !cct_mint_add_ext_conf(x, s->issuer, NID_subject_alt_name, s->san))
		goto out;
	if (s->fwid_oid && !cct_mint_add_ext_der(x, s->fwid_oid, s->fwid_der, s->fwid_len, 0))
		goto out;
	if (!X509_sign(x, s->issuer_key, EVP_sha384()))
		goto out;
	ok = 1;
out:
	BN_free(bn);
	ERR_clear_error();
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* DER of the DICE FWID extension: {1, SPKI of issuer_key, {sha384, fwid}}. OPENSSL_free. */
static uint8_t *fwid_ext_der(EVP_PKEY *issuer_key, const uint8_t fwid[48], size_t *len)
{
	NV_FWID_EXT *e = (NV_FWID_EXT *)ASN1_item_new(ASN1_ITEM_rptr(NV_FWID_EXT));
	unsigned char *der = NULL;
	int n = -1;

	*len = 0;
	if (!e)
		return NULL;
	ASN1_OBJECT_free(e->fwid->alg);
	e->fwid->alg = OBJ_nid2obj(NID_sha384);
	X509_PUBKEY_free(e->key);
	e->key = NULL;
	if (ASN1_INTEGER_set(e->version, 1) && X509_PUBKEY_set(&e->key, issuer_key) &&
	    ASN1_OCTET_STRING_set(e->fwid->digest, fwid, 48))
		n = ASN1_item_i2d((ASN1_VALUE *)e, &der, ASN1_ITEM_rptr(NV_FWID_EXT));
	ASN1_item_free((ASN1_VALUE *)e, ASN1_ITEM_rptr(NV_FWID_EXT));
	if (n <= 0) {
		OPENSSL_free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

/* DER of a DiceTcbInfo {vendor "NVIDIA", model "<chip> A01 GSP", svn 0, layer 0, index 0,
 * fwids [{sha384, fwid}]}. OPENSSL_free. */
static uint8_t *tcbinfo_ext_der(const char *chip, const uint8_t fwid[48], size_t *len)
{
	NV_TCBINFO *t = (NV_TCBINFO *)ASN1_item_new(ASN1_ITEM_rptr(NV_TCBINFO));
	NV_FWID *f = (NV_FWID *)ASN1_item_new(ASN1_ITEM_rptr(NV_FWID));
	unsigned char *der = NULL;
	char model[32];
	int n = -1;

	*len = 0;
	snprintf(model, sizeof(model), "%s A01 GSP", chip);
	if (t && f) {
		t->vendor = ASN1_UTF8STRING_new();
		t->model = ASN1_UTF8STRING_new();
		t->svn = ASN1_INTEGER_new();
		t->layer = ASN1_INTEGER_new();
		t->index = ASN1_INTEGER_new();
		t->fwids = sk_NV_FWID_new_null();
		ASN1_OBJECT_free(f->alg);
		f->alg = OBJ_nid2obj(NID_sha384);
		if (t->vendor && t->model && t->svn && t->layer && t->index && t->fwids &&
		    ASN1_STRING_set(t->vendor, "NVIDIA", -1) && ASN1_STRING_set(t->model, model, -1) &&
		    ASN1_INTEGER_set(t->svn, 0) && ASN1_INTEGER_set(t->layer, 0) &&
		    ASN1_INTEGER_set(t->index, 0) && ASN1_OCTET_STRING_set(f->digest, fwid, 48) &&
		    sk_NV_FWID_push(t->fwids, f) > 0) {
			f = NULL; /* owned by t */
			n = ASN1_item_i2d((ASN1_VALUE *)t, &der, ASN1_ITEM_rptr(NV_TCBINFO));
		}
	}
	ASN1_item_free((ASN1_VALUE *)f, ASN1_ITEM_rptr(NV_FWID));
	ASN1_item_free((ASN1_VALUE *)t, ASN1_ITEM_rptr(NV_TCBINFO));
	if (n <= 0) {
		OPENSSL_free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

static void fwid_for(uint8_t out[48], const char *vbios)
{
	golden(out, "fmc", vbios, 0);
}

static void make_uuid(char out[48])
{
	uint8_t u[16];

	RAND_bytes(u, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	snprintf(out, 48,
		 "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

static int mint_device(cct_sim_gpu_device *d, const cct_sim_gpu *g, time_t now)
{
	cert_spec s;
	uint8_t *der;
	size_t dlen;
	char san[96], id[17], cn[40];
	uint8_t idb[8];
	size_t i;
	int blackwell = !strcmp(g->arch, "BLACKWELL");

	d->brom_key = EVP_EC_gen("P-384");
	d->leaf_key = EVP_EC_gen("P-384");
	if (!d->brom_key || !d->leaf_key)
		return -1;
	memset(&s, 0, sizeof(s));
	snprintf(cn, sizeof(cn), "%s A01 GSP BROM", g->chip);
	s.cn = cn;
	s.org = "NVIDIA Corporation (SIMULATED)";
	s.country = "US";
	s.serial_attr = 1;
	s.serial_size = 9;
	s.key = d->brom_key;
	s.issuer = g->ica;
	s.issuer_key = g->ica_key;
	s.nb = now - 86400;
	s.na = NOT_AFTER_FOREVER;
	s.ca = 1;
	s.key_usage = "critical,keyCertSign";
	d->brom = mint(&s);
	if (!d->brom)
		return -1;
	fwid_for(d->fwid, g->vbios_version);
	der = blackwell ? tcbinfo_ext_der(g->chip, d->fwid, &dlen)
			: fwid_ext_der(d->brom_key, d->fwid, &dlen);
	if (!der)
		return -1;
	RAND_bytes(idb, sizeof(idb));
	cct_hex_encode(id, idb, sizeof(idb));
	for (i = 0; id[i]; i++)
		id[i] = (char)toupper((unsigned char)id[i]);
	snprintf(san, sizeof(san), "otherName:%s;UTF8:NVIDIA:%s:%s", OID_NV_SAN_DEVICE,
		 g->chip, id);
	memset(&s, 0, sizeof(s));
	snprintf(cn, sizeof(cn), "%s A01 GSP FMC LF", g->chip);
	s.cn = cn;
	s.org = "NVIDIA Corporation (SIMULATED)";
	s.country = "US";
	s.serial_attr = 1;
	s.serial_from_ski = 1;
	s.key = d->leaf_key;
	s.issuer = d->brom;
	s.issuer_key = d->brom_key;
	s.nb = now - 86400;
	s.na = NOT_AFTER_FOREVER;
	s.key_usage = "critical,digitalSignature";
	s.san = san;
	s.fwid_oid = blackwell ? CCT_OID_DICE_TCBINFO : CCT_OID_DICE_FWID;
	s.fwid_der = der;
	s.fwid_len = dlen;
	d->leaf = mint(&s);
	OPENSSL_free(der);
	make_uuid(d->uuid);
	return d->leaf ? 0 : -1;
}

static int mint_ca(X509 **x, EVP_PKEY **k, const char *cn, const char *org, const char *c,
		   X509 *issuer, EVP_PKEY *issuer_key, time_t nb, time_t na, const char *ku)
{
	cert_spec s;

	*k = EVP_EC_gen("P-384");
	if (!*k)
		return -1;
	memset(&s, 0, sizeof(s));
	s.cn = cn;
	s.org = org;
	s.country = c;
	s.key = *k;
	s.issuer = issuer;
	s.issuer_key = issuer ? issuer_key : *k;
	s.nb = nb;
	s.na = na;
	s.ca = 1;
	s.key_usage = ku ? ku : "critical,keyCertSign,cRLSign";
	*x = mint(&s);
	return *x ? 0 : -1;
}

void cct_sim_gpu_free(cct_sim_gpu *g)
{
	unsigned i;

	if (!g)
		return;
	for (i = 0; g->dev && i < g->device_count; i++) {
		EVP_PKEY_free(g->dev[i].brom_key);
		EVP_PKEY_free(g->dev[i].leaf_key);
		X509_free(g->dev[i].brom);
		X509_free(g->dev[i].leaf);
	}
	free(g->dev);
	EVP_PKEY_free(g->root_key);
	EVP_PKEY_free(g->identity_key);
	EVP_PKEY_free(g->ica_key);
	X509_free(g->root);
	X509_free(g->identity);
	X509_free(g->ica);
	EVP_PKEY_free(g->rim_root_key);
	EVP_PKEY_free(g->rim_ca_key);
	EVP_PKEY_free(g->rim_l3_key);
	EVP_PKEY_free(g->rim_signer_key);
	X509_free(g->rim_root);
	X509_free(g->rim_ca);
	X509_free(g->rim_l3);
	X509_free(g->rim_signer);
	free(g);
}

static int set_identity(cct_sim_gpu *g, const cct_sim_gpu_opts *o, cct_err *err)
{
	uint8_t vb[5];
	const char *drv = o && o->driver_version ? o->driver_version : CCT_SIM_GPU_DEFAULT_DRIVER;
	const char *vbios = o && o->vbios_version ? o->vbios_version : CCT_SIM_GPU_DEFAULT_VBIOS;
	const char *proj = o && o->project ? o->project : "G520";
	const char *psku = o && o->project_sku ? o->project_sku : "0200";
	const char *csku = o && o->chip_sku ? o->chip_sku : "885";
	const char *arch = o && o->arch ? o->arch : "HOPPER";

	if (strcasecmp(arch, "HOPPER") && strcasecmp(arch, "BLACKWELL"))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "arch '%s': the simulated GPU is HOPPER or BLACKWELL", arch);
	snprintf(g->arch, sizeof(g->arch), "%s", strcasecmp(arch, "HOPPER") ? "BLACKWELL" : "HOPPER");
	snprintf(g->chip, sizeof(g->chip), "%s", strcasecmp(arch, "HOPPER") ? "GB100" : "GH100");
	if (!version_ok(drv))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "driver version '%s': want 1..31 of [0-9A-Za-z.-]", drv);
	if (vbios_parse(vbios, vb) != 0)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "VBIOS version '%s': want AA.BB.CC.DD.EE (hex)", vbios);
	if (!text_ok(proj, 5) || !text_ok(psku, 5) || !text_ok(csku, 9))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "project / project SKU (1..4) and chip SKU (1..8) must be "
				   "alphanumeric");
	snprintf(g->driver_version, sizeof(g->driver_version), "%s", drv);
	snprintf(g->vbios_version, sizeof(g->vbios_version), "%02X.%02X.%02X.%02X.%02X", vb[0],
		 vb[1], vb[2], vb[3], vb[4]);
	snprintf(g->project, sizeof(g->project), "%s", proj);
	snprintf(g->project_sku, sizeof(g->project_sku), "%s", psku);
	snprintf(g->chip_sku, sizeof(g->chip_sku), "%s", csku);
	return CCT_OK;
}

int cct_sim_gpu_new(cct_sim_gpu **out, const cct_sim_gpu_opts *o, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_sim_gpu *g = NULL;
	time_t now = time(NULL);
	unsigned i, n = o && o->device_count ? o->device_count : CCT_SIM_GPU_DEFAULT_DEVICES;
	const char *nv = "NVIDIA Corporation (SIMULATED)";
	char id_cn[64], ica_cn[64], rca_cn[64], rl3_cn[64];

	if (!out)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	*out = NULL;
	if (n > CCT_SIM_GPU_MAX_DEVICES)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "%u simulated GPUs requested (at most %d)", n,
				   CCT_SIM_GPU_MAX_DEVICES);
	g = calloc(1, sizeof(*g));
	if (!g)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	rc = set_identity(g, o, err);
	if (rc != CCT_OK)
		goto out;
	g->dev = calloc(n, sizeof(*g->dev));
	if (!g->dev) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	g->device_count = n;
	snprintf(id_cn, sizeof(id_cn), "SIMULATED NVIDIA %s Identity", g->chip);
	snprintf(ica_cn, sizeof(ica_cn), "SIMULATED NVIDIA %s Provisioner ICA 1", g->chip);
	snprintf(rca_cn, sizeof(rca_cn), "SIMULATED NVIDIA Reference Value %s CA", g->chip);
	snprintf(rl3_cn, sizeof(rl3_cn), "SIMULATED NVIDIA Reference Value L3 %s 001", g->chip);
	rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
			 "cannot mint the simulated NVIDIA PKI (OpenSSL)");
	if (mint_ca(&g->root, &g->root_key, "SIMULATED NVIDIA Device Identity CA",
		    "NVIDIA (SIMULATED)", NULL, NULL, NULL, now - 86400, NOT_AFTER_FOREVER, NULL) ||
	    mint_ca(&g->identity, &g->identity_key, id_cn, nv, NULL,
		    g->root, g->root_key, now - 86400, NOT_AFTER_FOREVER, NULL) ||
	    mint_ca(&g->ica, &g->ica_key, ica_cn, nv, "US",
		    g->identity, g->identity_key, now - 86400, NOT_AFTER_FOREVER, NULL))
		goto out;
	for (i = 0; i < n; i++)
		if (mint_device(&g->dev[i], g, now) != 0)
			goto out;
	if (mint_ca(&g->rim_root, &g->rim_root_key, "SIMULATED NVIDIA CoRIM signing Root CA",
		    "NVIDIA (SIMULATED)", "US", NULL, NULL, now - 86400, now + 30L * 365 * 86400,
		    "critical,keyCertSign,cRLSign") ||
	    mint_ca(&g->rim_ca, &g->rim_ca_key, rca_cn, nv,
		    "US", g->rim_root, g->rim_root_key, now - 86400, now + 10L * 365 * 86400,
		    NULL) ||
	    mint_ca(&g->rim_l3, &g->rim_l3_key, rl3_cn,
		    nv, "US", g->rim_ca, g->rim_ca_key, now - 86400, now + 4L * 365 * 86400, NULL))
		goto out;
	{
		cert_spec s;

		g->rim_signer_key = EVP_EC_gen("P-384");
		if (!g->rim_signer_key)
			goto out;
		memset(&s, 0, sizeof(s));
		s.cn = "SIMULATED HCC RIM L4 Signer";
		s.org = nv;
		s.country = "US";
		s.key = g->rim_signer_key;
		s.issuer = g->rim_l3;
		s.issuer_key = g->rim_l3_key;
		s.nb = now - 86400;
		s.na = o && o->rim_signer_not_after ? o->rim_signer_not_after
						    : now + 2L * 365 * 86400;
		s.key_usage = "critical,digitalSignature";
		g->rim_signer = mint(&s);
		if (!g->rim_signer)
			goto out;
	}
	cct_err_clear(err);
	*out = g;
	g = NULL;
	rc = CCT_OK;
out:
	cct_sim_gpu_free(g);
	return rc;
}

/* ---- PEM helpers ---- */
char *cct_sim_gpu_chain_pem(const cct_sim_gpu *g, unsigned device)
{
	X509 *c[5];
	char *out, *p;
	size_t len = 0, i;

	if (!g || device >= g->device_count)
		return NULL;
	c[0] = g->dev[device].leaf;
	c[1] = g->dev[device].brom;
	c[2] = g->ica;
	c[3] = g->identity;
	c[4] = g->root;
	out = calloc(1, 5 * MAX_CERT_PEM);
	if (!out)
		return NULL;
	for (i = 0; i < 5; i++) {
		p = cct_mint_cert_pem(c[i]);
		if (!p || strlen(p) >= MAX_CERT_PEM) {
			free(p);
			free(out);
			return NULL;
		}
		memcpy(out + len, p, strlen(p) + 1);
		len += strlen(p);
		free(p);
	}
	return out;
}

/* ---- SPDM evidence ---- */
typedef struct {
	uint8_t *p;
	size_t n, cap;
	int bad;
} wbuf;

static void put(wbuf *b, const void *p, size_t n)
{
	if (b->bad || n > b->cap - b->n) {
		b->bad = 1;
		return;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_u8(wbuf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	put(b, &x, 1);
}

static void put_u16(wbuf *b, unsigned v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	put(b, x, 2);
}

static void put_u24(wbuf *b, unsigned v)
{
	uint8_t x[3] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16) };

	put(b, x, 3);
}

/* opaque TLV: u16 type, u16 size, value */
static void put_tlv(wbuf *b, unsigned type, const void *v, size_t n)
{
	put_u16(b, type);
	put_u16(b, (unsigned)n);
	put(b, v, n);
}

/* text padded with NULs to size (size 0: strlen + 1) */
static void put_text_tlv(wbuf *b, unsigned type, const char *s, size_t size)
{
	uint8_t v[64];
	size_t n = strlen(s);

	if (!size)
		size = n + 1;
	if (size > sizeof(v) || n >= size) {
		b->bad = 1;
		return;
	}
	memset(v, 0, size);
	memcpy(v, s, n);
	put_tlv(b, type, v, size);
}

int cct_sim_gpu_spdm(uint8_t **out, size_t *out_size, const cct_sim_gpu *g, unsigned device,
		     const uint8_t nonce[CCT_SIM_GPU_NONCE_SIZE],
		     const cct_sim_gpu_evidence_opts *o, cct_err *err)
{
	int rc = CCT_ERROR;
	const char *drv = o && o->driver_version ? o->driver_version : NULL;
	const char *vbios = o && o->vbios_version ? o->vbios_version : NULL;
	uint8_t vb[5], val[48], dgst[48], rs[96], resp_nonce[32], fwid[48], zero[256];
	uint8_t vbios_field[8];
	wbuf b = { 0 }, op = { 0 };
	unsigned i;

	if (!out || !out_size || !g || !nonce)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	*out = NULL;
	*out_size = 0;
	if (device >= g->device_count)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "simulated GPU %u does not exist (the sim has %u)", device,
				   g->device_count);
	if (!drv)
		drv = g->driver_version;
	if (!vbios)
		vbios = g->vbios_version;
	if (!version_ok(drv) || vbios_parse(vbios, vb) != 0)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "bad driver '%s' or VBIOS '%s' version", drv, vbios);
	if (o && o->alter_index > CCT_SIM_GPU_BLOCKS)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "alter_index %u is not a block index (1..%d)", o->alter_index,
				   CCT_SIM_GPU_BLOCKS);
	b.p = malloc(SPDM_MAX_BUILD);
	op.p = malloc(1024);
	if (!b.p || !op.p) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	b.cap = SPDM_MAX_BUILD;
	op.cap = 1024;
	/* GET_MEASUREMENTS request (DSP0274 1.1): version, code, Param1 = signature requested,
	 * Param2 = 0xFF (all measurements), nonce, SlotIDParam */
	put_u8(&b, CCT_SPDM_VERSION_11);
	put_u8(&b, CCT_SPDM_GET_MEASUREMENTS);
	put_u8(&b, 0x01);
	put_u8(&b, 0xFF);
	put(&b, nonce, CCT_SIM_GPU_NONCE_SIZE);
	put_u8(&b, 0x00);
	/* MEASUREMENTS response */
	put_u8(&b, CCT_SPDM_VERSION_11);
	put_u8(&b, CCT_SPDM_MEASUREMENTS);
	put_u8(&b, 0x00);
	put_u8(&b, 0x00);
	put_u8(&b, CCT_SIM_GPU_BLOCKS);                    /* NumberOfBlocks */
	put_u24(&b, CCT_SIM_GPU_BLOCKS * (4 + 3 + 48));    /* MeasurementRecordLength */
	for (i = 0; i < CCT_SIM_GPU_BLOCKS; i++) {
		if (vbios_index(i))
			golden(val, "vbios", vbios, i);
		else if (driver_index(i))
			golden(val, "driver", drv, i);
		else
			memset(val, 0, sizeof(val));
		if (o && o->alter_index == i + 1)
			val[0] ^= 0x01;
		put_u8(&b, i + 1);                           /* Index (1-based) */
		put_u8(&b, CCT_SPDM_DMTF_SPEC);              /* MeasurementSpecification */
		put_u16(&b, 3 + 48);                         /* MeasurementSize */
		put_u8(&b, 0x01);                            /* DMTFSpecMeasurementValueType */
		put_u16(&b, 48);                             /* DMTFSpecMeasurementValueSize */
		put(&b, val, 48);
	}
	RAND_bytes(resp_nonce, sizeof(resp_nonce));
	put(&b, resp_nonce, sizeof(resp_nonce));
	/* opaque data, in the order H100s send it */
	vbios_field[0] = vb[3];
	vbios_field[1] = vb[2];
	vbios_field[2] = vb[1];
	vbios_field[3] = vb[0];
	vbios_field[4] = vb[4];
	vbios_field[5] = vbios_field[6] = vbios_field[7] = 0;
	memset(zero, 0, sizeof(zero));
	memcpy(fwid, g->dev[device].fwid, 48);
	if (o && o->fwid_mismatch)
		fwid[47] ^= 0x01;
	put_tlv(&op, CCT_NVOPQ_VBIOS_VERSION, vbios_field, 8);
	put_tlv(&op, CCT_NVOPQ_BOARD_ID, "\x37\x04\x00\x00", 4);
	put_text_tlv(&op, CCT_NVOPQ_CHIP_SKU, g->chip_sku, 9);
	put_text_tlv(&op, CCT_NVOPQ_CHIP_SKU_MOD, "0", 5);
	put_text_tlv(&op, CCT_NVOPQ_PROJECT, g->project, 5);
	put_text_tlv(&op, CCT_NVOPQ_PROJECT_SKU, g->project_sku, 5);
	put_tlv(&op, CCT_NVOPQ_PROJECT_SKU_MOD, zero, 2);
	put_text_tlv(&op, CCT_NVOPQ_DRIVER_VERSION, drv, 0);
	put_tlv(&op, CCT_NVOPQ_GPU_INFO, "\x80\x01\x00\x00\x00\x00\x00\x00", 8);
	put_tlv(&op, CCT_NVOPQ_MSRSCNT, zero, 256);
	put_tlv(&op, CCT_NVOPQ_CPRINFO, "\x00\xc0\x01\x00", 4);
	put_tlv(&op, CCT_NVOPQ_NVDEC0_STATUS, "\xaa", 1);
	put_tlv(&op, CCT_NVOPQ_FWID, fwid, 48);
	put_tlv(&op, CCT_NVOPQ_PROTECTED_PCIE_STATUS, o && o->ppcie ? "\xaa" : "\x55", 1);
	put_tlv(&op, CCT_NVOPQ_OPAQUE_DATA_VERSION, "\x01\x00", 2);
	put_tlv(&op, CCT_NVOPQ_FEATURE_FLAG, o && o->ppcie ? "\x02\x00" : "\x00\x00", 2);
	if (op.bad) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "opaque data overflow");
		goto out;
	}
	put_u16(&b, (unsigned)op.n);                      /* OpaqueLength */
	put(&b, op.p, op.n);
	if (b.bad) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "evidence overflow");
		goto out;
	}
	/* signature over SHA-384(request || response without signature) */
	cct_sha384(b.p, b.n, dgst);
	if (cct_sim__ecdsa_sign_raw(g->dev[device].leaf_key, dgst, 48, rs, 48) != 0) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "signing the evidence failed");
		goto out;
	}
	put(&b, rs, sizeof(rs));
	if (b.bad) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "evidence overflow");
		goto out;
	}
	*out = b.p;
	*out_size = b.n;
	b.p = NULL;
	rc = CCT_OK;
out:
	free(b.p);
	free(op.p);
	return rc;
}

int cct_sim_gpu_evidence_doc(json_t **kbs_out, json_t **nvidia_out, const cct_sim_gpu *g,
			     const uint8_t nonce[CCT_SIM_GPU_NONCE_SIZE],
			     const cct_sim_gpu_evidence_opts *o, cct_err *err)
{
	int rc = CCT_ERROR;
	unsigned i, n = o && o->gpu_count ? o->gpu_count : 1;
	json_t *kbs = kbs_out ? json_array() : NULL, *nv = nvidia_out ? json_array() : NULL;
	char nonce_hex[65];

	if (kbs_out)
		*kbs_out = NULL;
	if (nvidia_out)
		*nvidia_out = NULL;
	if (!g || !nonce || (!kbs_out && !nvidia_out)) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
		goto out;
	}
	if ((kbs_out && !kbs) || (nvidia_out && !nv)) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (n > g->device_count) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "%u GPUs requested but the simulated PKI has %u devices", n,
				 g->device_count);
		goto out;
	}
	cct_hex_encode(nonce_hex, nonce, CCT_SIM_GPU_NONCE_SIZE);
	for (i = 0; i < n; i++) {
		unsigned d = o && o->duplicate_device ? 0 : i;
		uint8_t *ev = NULL;
		size_t evn = 0;
		char *pem = NULL, *e64 = NULL, *p64 = NULL;

		rc = cct_sim_gpu_spdm(&ev, &evn, g, d, nonce, o, err);
		if (rc != CCT_OK)
			goto out;
		pem = cct_sim_gpu_chain_pem(g, d);
		e64 = cct_b64_encode(ev, evn, 0);
		p64 = pem ? cct_b64_encode((const uint8_t *)pem, strlen(pem), 0) : NULL;
		free(ev);
		free(pem);
		if (!e64 || !p64) {
			free(e64);
			free(p64);
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
		if (kbs)
			json_array_append_new(kbs, json_pack("{s:s,s:s,s:s,s:s}", "arch", g->arch,
							     "uuid", g->dev[d].uuid, "evidence", e64,
							     "certificate", p64));
		if (nv)
			json_array_append_new(nv, json_pack("{s:s,s:s,s:s,s:s}", "arch", g->arch,
							    "nonce", nonce_hex, "evidence", e64,
							    "certificate", p64));
		free(e64);
		free(p64);
	}
	if (kbs_out && !(*kbs_out = json_pack("{s:O}", "device_evidence_list", kbs))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (nvidia_out) {
		*nvidia_out = nv;
		nv = NULL;
	}
	rc = CCT_OK;
out:
	if (rc != CCT_OK && kbs_out) {
		json_decref(*kbs_out);
		*kbs_out = NULL;
	}
	json_decref(kbs);
	json_decref(nv);
	return rc;
}

int cct_sim_gpu_evidence(char **kbs_json_out, char **nvidia_json_out, const cct_sim_gpu *g,
			 const uint8_t nonce[CCT_SIM_GPU_NONCE_SIZE],
			 const cct_sim_gpu_evidence_opts *o, cct_err *err)
{
	json_t *kbs = NULL, *nv = NULL;
	int rc;

	if (kbs_json_out)
		*kbs_json_out = NULL;
	if (nvidia_json_out)
		*nvidia_json_out = NULL;
	/* with neither output wanted, the evidence is still made (and its errors reported) */
	rc = cct_sim_gpu_evidence_doc(kbs_json_out || !nvidia_json_out ? &kbs : NULL,
				      nvidia_json_out ? &nv : NULL, g, nonce, o, err);
	if (rc == CCT_OK) {
		if (kbs_json_out)
			*kbs_json_out = json_dumps(kbs, JSON_COMPACT);
		if (nvidia_json_out)
			*nvidia_json_out = json_dumps(nv, JSON_COMPACT);
		if ((kbs_json_out && !*kbs_json_out) || (nvidia_json_out && !*nvidia_json_out)) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			if (kbs_json_out) {
				free(*kbs_json_out);
				*kbs_json_out = NULL;
			}
			if (nvidia_json_out) {
				free(*nvidia_json_out);
				*nvidia_json_out = NULL;
			}
		}
	}
	json_decref(kbs);
	json_decref(nv);
	return rc;
}

/* ---- RIMs ---- */
void cct_sim_gpu_rim_id(char *buf, size_t size, const cct_sim_gpu *g, cct_sim_gpu_rim_kind kind,
			const char *version)
{
	char v[40];

	if (kind == CCT_SIM_GPU_RIM_DRIVER) {
		if (!strcmp(g->arch, "BLACKWELL"))
			snprintf(buf, size, "NV_GPU_CC_DRIVER_%s_%s", g->chip, version);
		else
			snprintf(buf, size, "NV_GPU_DRIVER_%s_%s", g->chip, version);
		return;
	}
	cct_rim_id_version(v, sizeof(v), version);
	snprintf(buf, size, "NV_GPU_VBIOS_%s_%s_%s_%s", g->project, g->project_sku, g->chip_sku, v);
}

/* KeyInfo certificate text: the PEM body (base64 in 64-column lines), as NVIDIA writes it */
static char *pem_body(X509 *x)
{
	char *pem = cct_mint_cert_pem(x), *b, *e;

	if (!pem)
		return NULL;
	b = strchr(pem, '\n');
	e = strstr(pem, "-----END");
	if (!b || !e || e < b + 1) {
		free(pem);
		return NULL;
	}
	memmove(pem, b + 1, (size_t)(e - (b + 1)));
	pem[e - (b + 1)] = '\0';
	return pem;
}

static int rim_text(char **out, size_t *len, const char *chip, cct_sim_gpu_rim_kind kind,
		    const char *version, const cct_sim_gpu_rim_opts *o)
{
	FILE *f = open_memstream(out, len);
	uint8_t tag[48], h[48], decoy[48];
	char tag_hex[97], hx[97], dx[97], seed[96];
	unsigned i;
	const char *kname = kind == CCT_SIM_GPU_RIM_DRIVER ? "driver" : "vbios";

	if (!f)
		return -1;
	snprintf(seed, sizeof(seed), "cctrust-sim/rim/%s/%s", kname, version);
	cct_sha384(seed, strlen(seed), tag);
	cct_hex_encode(tag_hex, tag, 48);
	fprintf(f,
		"<SoftwareIdentity xmlns=\"%s\" xmlns:ns0=\"%s\" xmlns:ns2=\"%s\" corpus=\"false\" "
		"name=\"%s\" patch=\"false\" supplemental=\"false\" tagId=\"%s\" version=\"1.0\" "
		"tagVersion=\"0\">\n",
		NS_SWID, NS_SWID, NS_SHA384, chip, tag_hex);
	fprintf(f, "    <ns0:Entity name=\"NVIDIA Corporation (SIMULATED)\" "
		   "role=\"softwareCreator tagCreator\"/>\n");
	fprintf(f,
		"    <ns0:Meta xmlns:ns1=\"%s\" colloquialVersion=\"%s\" edition=\"GPU\" "
		"product=\"%s\" revision=\"r1\" PayloadType=\"direct\" ns1:BindingSpec=\"RIMIM\" "
		"ns1:BindingSpecVersion=\"1.01\" ns1:PlatformManufacturerId=\"5703\" "
		"ns1:PlatformManufacturerStr=\"NVIDIA Corporation\" ns1:PlatformModel=\"%s\" "
		"ns1:FirmwareManufacturer=\"NVIDIA Corporation\" "
		"ns1:FirmwareManufacturerId=\"5703\"/>\n",
		NS_RIM, version, chip, chip);
	fprintf(f, "    <ns0:Payload xmlns:SHA384=\"%s\">\n", NS_SHA384);
	for (i = 0; i < CCT_SIM_GPU_BLOCKS; i++) {
		int active = kind == CCT_SIM_GPU_RIM_DRIVER ? driver_index(i) : vbios_index(i);
		const char *gk = kname;

		if (kind == CCT_SIM_GPU_RIM_DRIVER && o && o->conflict && i == 0) {
			active = 1; /* also claims a VBIOS index */
			gk = "vbios";
		}
		if (active)
			golden(h, gk, version, i);
		else
			memset(h, 0, sizeof(h));
		if (active && o && o->wrong_index == i + 1)
			h[0] ^= 0xff;
		cct_hex_encode(hx, h, 48);
		if (active && o && o->alternatives) {
			golden(decoy, "decoy", version, i);
			cct_hex_encode(dx, decoy, 48);
			fprintf(f,
				"        <ns0:Resource type=\"Measurement\" index=\"%u\" "
				"active=\"True\" alternatives=\"2\" ns2:Hash0=\"%s\" ns2:Hash1=\"%s\" "
				"name=\"Measurement_%u\" size=\"48\"/>\n",
				i, dx, hx, i);
		} else {
			fprintf(f,
				"        <ns0:Resource type=\"Measurement\" index=\"%u\" active=\"%s\" "
				"alternatives=\"1\" ns2:Hash0=\"%s\" name=\"Measurement_%u\" "
				"size=\"48\"/>\n",
				i, active ? "True" : "False", hx, i);
		}
	}
	fprintf(f, "    </ns0:Payload>\n</SoftwareIdentity>\n");
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* NVIDIA's ds:Signature has no whitespace between elements; xmlsec's template has newlines */
static void strip_blank_text(xmlNodePtr n)
{
	xmlNodePtr c, next;

	for (c = n->children; c; c = next) {
		next = c->next;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			strip_blank_text(c);
		}
	}
}

/* Enveloped signature (C14N 1.1, ecdsa-sha384, sha384 digest, URI="") by the RIM signer, then
 * KeyInfo/X509Data with signer, L3, CA and root (KeyInfo is outside what is signed, as in
 * NVIDIA's RIMs: the enveloped transform removes the whole ds:Signature). */
static int rim_sign(char **xml_out, size_t *len_out, const char *text, size_t len,
		    const cct_sim_gpu *g, cct_err *err)
{
	int rc = CCT_ERROR;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, sig, ref, ki, xd;
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecKeyPtr key = NULL;
	xmlSecKeyDataPtr data = NULL;
	xmlBufferPtr buf = NULL;
	xmlSaveCtxtPtr sv = NULL;
	X509 *certs[4];
	size_t i;

	certs[0] = g->rim_signer;
	certs[1] = g->rim_l3;
	certs[2] = g->rim_ca;
	certs[3] = g->rim_root;
	if ((rc = cct_rim_xml_ready(CCT_STAGE_NONE, err)) != CCT_OK)
		return rc;
	doc = xmlReadMemory(text, (int)len, "sim-rim.xml", NULL, XML_PARSE_NONET);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "RIM template does not parse");
		goto out;
	}
	sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformInclC14N11Id,
					      xmlSecTransformEcdsaSha384Id, NULL,
					      (const xmlChar *)"ds");
	if (!sig || !xmlAddChild(root, sig)) {
		xmlFreeNode(sig);
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "xmlsec template failed");
		goto out;
	}
	ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha384Id, NULL,
					      (const xmlChar *)"", NULL);
	if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
	    !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformInclC14N11Id)) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "xmlsec template failed");
		goto out;
	}
	strip_blank_text(sig); /* before signing: SignedInfo is canonicalised as it stands */
	if (EVP_PKEY_up_ref(g->rim_signer_key) != 1) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "key reference failed");
		goto out;
	}
	data = xmlSecOpenSSLEvpKeyAdopt(g->rim_signer_key);
	if (!data) {
		EVP_PKEY_free(g->rim_signer_key); /* drop the reference taken above */
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "xmlsec key failed");
		goto out;
	}
	key = xmlSecKeyCreate();
	if (!key || xmlSecKeySetValue(key, data) < 0) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "xmlsec key failed");
		goto out;
	}
	data = NULL; /* owned by key */
	ctx = xmlSecDSigCtxCreate(NULL);
	if (!ctx) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "xmlsec context failed");
		goto out;
	}
	ctx->signKey = key;
	key = NULL; /* owned by ctx */
	if (xmlSecDSigCtxSign(ctx, sig) < 0) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "xmlsec signing failed");
		goto out;
	}
	ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
	xd = ki ? xmlSecTmplKeyInfoAddX509Data(ki) : NULL;
	if (!xd) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "xmlsec KeyInfo failed");
		goto out;
	}
	for (i = 0; i < 4; i++) {
		char *body = pem_body(certs[i]);

		if (!body || !xmlNewTextChild(xd, xd->ns, (const xmlChar *)"X509Certificate",
					      (const xmlChar *)body)) {
			free(body);
			rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "KeyInfo failed");
			goto out;
		}
		free(body);
	}
	strip_blank_text(sig); /* KeyInfo is outside SignedInfo: no effect on the signature */
	buf = xmlBufferCreate();
	sv = buf ? xmlSaveToBuffer(buf, NULL, XML_SAVE_NO_DECL) : NULL;
	if (!sv || xmlSaveDoc(sv, doc) < 0) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "RIM serialisation failed");
		goto out;
	}
	xmlSaveClose(sv);
	sv = NULL;
	*len_out = (size_t)xmlBufferLength(buf);
	*xml_out = malloc(*len_out + 1);
	if (!*xml_out) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	memcpy(*xml_out, xmlBufferContent(buf), *len_out);
	(*xml_out)[*len_out] = '\0';
	rc = CCT_OK;
out:
	if (sv)
		xmlSaveClose(sv);
	if (buf)
		xmlBufferFree(buf);
	if (ctx)
		xmlSecDSigCtxDestroy(ctx);
	if (key)
		xmlSecKeyDestroy(key);
	if (data)
		xmlSecKeyDataDestroy(data);
	if (doc)
		xmlFreeDoc(doc);
	ERR_clear_error();
	return rc;
}

static const char *rim_version(const cct_sim_gpu *g, cct_sim_gpu_rim_kind kind,
			       const cct_sim_gpu_rim_opts *o)
{
	if (kind == CCT_SIM_GPU_RIM_DRIVER)
		return o && o->driver_version ? o->driver_version : g->driver_version;
	return o && o->vbios_version ? o->vbios_version : g->vbios_version;
}

int cct_sim_gpu_rim_xml(char **xml_out, size_t *len_out, const cct_sim_gpu *g,
			cct_sim_gpu_rim_kind kind, const cct_sim_gpu_rim_opts *o, cct_err *err)
{
	char *text = NULL;
	size_t tlen = 0, n = 0;
	const char *ver;
	uint8_t vb[5];
	int rc;

	if (!xml_out || !g || (kind != CCT_SIM_GPU_RIM_DRIVER && kind != CCT_SIM_GPU_RIM_VBIOS))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	*xml_out = NULL;
	if (len_out)
		*len_out = 0;
	ver = rim_version(g, kind, o);
	if (kind == CCT_SIM_GPU_RIM_DRIVER ? !version_ok(ver) : vbios_parse(ver, vb) != 0)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad %s RIM version '%s'",
				   kind == CCT_SIM_GPU_RIM_DRIVER ? "driver" : "VBIOS", ver);
	if (o && o->wrong_index > CCT_SIM_GPU_BLOCKS)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "wrong_index %u is not a block index (1..%d)", o->wrong_index,
				   CCT_SIM_GPU_BLOCKS);
	if (rim_text(&text, &tlen, g->chip, kind, ver, o) != 0)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	rc = rim_sign(xml_out, &n, text, tlen, g, err);
	free(text);
	if (rc == CCT_OK && len_out)
		*len_out = n;
	return rc;
}

static int write_rim(const cct_sim_gpu *g, const char *dir, cct_sim_gpu_rim_kind kind,
		     const cct_sim_gpu_rim_opts *o, cct_err *err)
{
	char *xml = NULL, id[160], path[4096];
	size_t n = 0;
	const char *idv = kind == CCT_SIM_GPU_RIM_DRIVER ? (o ? o->driver_id_version : NULL)
							 : (o ? o->vbios_id_version : NULL);
	int rc;

	if (!idv)
		idv = rim_version(g, kind, o);
	if (!version_ok(idv))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad RIM id version '%s'",
				   idv);
	rc = cct_sim_gpu_rim_xml(&xml, &n, g, kind, o, err);
	if (rc != CCT_OK)
		return rc;
	cct_sim_gpu_rim_id(id, sizeof(id), g, kind, idv);
	snprintf(path, sizeof(path), "%s/%s.xml", dir, id);
	rc = cct_file_write(path, xml, n, 0, err);
	free(xml);
	return rc;
}

/* mkdir -p */
static int make_dir(const char *dir, cct_err *err)
{
	struct stat st;
	char p[4096];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad directory name");
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)))
			return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0,
					   "cannot create directory %s", p);
		p[i] = dir[i];
	}
	return CCT_OK;
}

int cct_sim_gpu_rims(const cct_sim_gpu *g, const char *dir, const cct_sim_gpu_rim_opts *o,
		     cct_err *err)
{
	int rc;

	if (!g || !dir)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	rc = make_dir(dir, err);
	if (rc == CCT_OK)
		rc = write_rim(g, dir, CCT_SIM_GPU_RIM_DRIVER, o, err);
	if (rc == CCT_OK)
		rc = write_rim(g, dir, CCT_SIM_GPU_RIM_VBIOS, o, err);
	return rc;
}

/* ---- OCSP ---- */
static int ocsp_one(X509 *cert, X509 *issuer, EVP_PKEY *issuer_key, const char *dir,
		    int revoked, int reason, time_t tu, time_t nu, cct_err *err)
{
	int rc = CCT_ERROR, len;
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *thisupd = ASN1_TIME_set(NULL, tu), *nextupd = ASN1_TIME_set(NULL, nu);
	ASN1_TIME *revtime = ASN1_TIME_set(NULL, tu - 3600);
	unsigned char *der = NULL;
	char name[96], path[4096];

	if (!id || !bs || !thisupd || !nextupd || !revtime ||
	    !OCSP_basic_add1_status(bs, id,
				    revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD,
				    revoked ? reason : 0, revoked ? revtime : NULL, thisupd,
				    nextupd) ||
	    !OCSP_basic_sign(bs, issuer, issuer_key, EVP_sha384(), NULL, 0) ||
	    !(resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) ||
	    (len = i2d_OCSP_RESPONSE(resp, &der)) <= 0) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot make an OCSP response");
		goto out;
	}
	cct_ocsp_file_name(name, sizeof(name), cert);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = cct_file_write(path, der, (size_t)len, 0, err);
out:
	OPENSSL_free(der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(revtime);
	ERR_clear_error();
	return rc;
}

int cct_sim_gpu_ocsp(const cct_sim_gpu *g, const char *dir, const cct_sim_gpu_ocsp_opts *o,
		     cct_err *err)
{
	time_t tu = o && o->this_update ? o->this_update : time(NULL) - 60;
	time_t nu = o && o->next_update ? o->next_update : tu + OCSP_DEFAULT_VALIDITY;
	cct_sim_gpu_revoke_target rv = o ? o->revoke : CCT_SIM_GPU_REVOKE_NONE;
	int reason = o && o->reason ? o->reason : 1;
	unsigned i;
	int rc;

	if (!g || !dir)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	rc = make_dir(dir, err);
	if (rc != CCT_OK)
		return rc;
	if ((rc = ocsp_one(g->identity, g->root, g->root_key, dir, 0, 0, tu, nu, err)) ||
	    (rc = ocsp_one(g->ica, g->identity, g->identity_key, dir, 0, 0, tu, nu, err)) ||
	    (rc = ocsp_one(g->rim_ca, g->rim_root, g->rim_root_key, dir, 0, 0, tu, nu, err)) ||
	    (rc = ocsp_one(g->rim_l3, g->rim_ca, g->rim_ca_key, dir, 0, 0, tu, nu, err)) ||
	    (rc = ocsp_one(g->rim_signer, g->rim_l3, g->rim_l3_key, dir,
			   rv == CCT_SIM_GPU_REVOKE_RIM_SIGNER, reason, tu, nu, err)))
		return rc;
	for (i = 0; i < g->device_count; i++) {
		if ((rc = ocsp_one(g->dev[i].brom, g->ica, g->ica_key, dir, 0, 0, tu, nu, err)) ||
		    (rc = ocsp_one(g->dev[i].leaf, g->dev[i].brom, g->dev[i].brom_key, dir,
				   i == 0 && rv == CCT_SIM_GPU_REVOKE_DEVICE_LEAF, reason, tu, nu,
				   err)))
			return rc;
	}
	return CCT_OK;
}

/* ---- save / load ---- */
static int save_pair(const char *dir, const char *base, X509 *x, EVP_PKEY *k, cct_err *err)
{
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "%s.pem", base);
	rc = cct_mint_save_text(dir, name, cct_mint_cert_pem(x), 0, err);
	if (rc != CCT_OK)
		return rc;
	snprintf(name, sizeof(name), "%s.key", base);
	return cct_mint_save_text(dir, name, cct_mint_key_pem(k), 1, err);
}

static void ueid_of(const X509 *x, char *buf, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *d = bn ? BN_bn2dec(bn) : NULL;

	snprintf(buf, size, "%s", d ? d : "");
	OPENSSL_free(d);
	BN_free(bn);
}

int cct_sim_gpu_save(const cct_sim_gpu *g, const char *dir, cct_err *err)
{
	int rc;
	unsigned i;
	char sub[4096], fw[97], ueid[64];
	json_t *info = NULL, *devs = json_array();

	if (!g || !dir) {
		json_decref(devs);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	}
	if ((rc = make_dir(dir, err)) ||
	    (rc = save_pair(dir, "device-root", g->root, g->root_key, err)) ||
	    (rc = save_pair(dir, "identity", g->identity, g->identity_key, err)) ||
	    (rc = save_pair(dir, "ica", g->ica, g->ica_key, err)) ||
	    (rc = save_pair(dir, "rim-root", g->rim_root, g->rim_root_key, err)) ||
	    (rc = save_pair(dir, "rim-ca", g->rim_ca, g->rim_ca_key, err)) ||
	    (rc = save_pair(dir, "rim-l3", g->rim_l3, g->rim_l3_key, err)) ||
	    (rc = save_pair(dir, "rim-signer", g->rim_signer, g->rim_signer_key, err)))
		goto out;
	snprintf(sub, sizeof(sub), "%s/devices", dir);
	if ((rc = make_dir(sub, err)))
		goto out;
	for (i = 0; i < g->device_count; i++) {
		snprintf(sub, sizeof(sub), "%s/devices/%u", dir, i);
		if ((rc = make_dir(sub, err)) ||
		    (rc = save_pair(sub, "brom", g->dev[i].brom, g->dev[i].brom_key, err)) ||
		    (rc = save_pair(sub, "leaf", g->dev[i].leaf, g->dev[i].leaf_key, err)) ||
		    (rc = cct_mint_save_text(sub, "chain.pem", cct_sim_gpu_chain_pem(g, i), 0, err)))
			goto out;
		cct_hex_encode(fw, g->dev[i].fwid, 48);
		ueid_of(g->dev[i].leaf, ueid, sizeof(ueid));
		json_array_append_new(devs, json_pack("{s:s,s:s,s:s}", "uuid", g->dev[i].uuid,
						      "ueid", ueid, "fwid", fw));
	}
	info = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:O}", "simulated", 1, "arch", g->arch,
			 "driver_version", g->driver_version, "vbios_version", g->vbios_version,
			 "project", g->project, "project_sku", g->project_sku, "chip_sku",
			 g->chip_sku, "devices", devs);
	rc = cct_mint_save_text(dir, "info.json", info ? json_dumps(info, JSON_INDENT(2)) : NULL, 0, err);
out:
	json_decref(info);
	json_decref(devs);
	return rc;
}

static int load_pair(const char *dir, const char *base, X509 **x, EVP_PKEY **k, cct_err *err)
{
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "%s.pem", base);
	rc = cct_mint_load_pem(dir, name, x, NULL, err);
	if (rc != CCT_OK)
		return rc;
	snprintf(name, sizeof(name), "%s.key", base);
	rc = cct_mint_load_pem(dir, name, NULL, k, err);
	if (rc == CCT_OK && X509_check_private_key(*x, *k) != 1) {
		ERR_clear_error();
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "%s/%s.key is not the key of %s.pem", dir, base, base);
	}
	return rc;
}

int cct_sim_gpu_load(cct_sim_gpu **out, const char *dir, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_sim_gpu *g = NULL;
	char path[4096], sub[4096];
	json_t *info = NULL, *devs;
	json_error_t je;
	cct_sim_gpu_opts so;
	size_t i, n;

	if (!out || !dir)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	*out = NULL;
	snprintf(path, sizeof(path), "%s/info.json", dir);
	info = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!info) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				 "cannot read %s (made by 'cctrust sim init'): %s", path, je.text);
		goto out;
	}
	devs = json_object_get(info, "devices");
	n = json_array_size(devs);
	if (json_object_get(info, "simulated") != json_true() || n == 0 ||
	    n > CCT_SIM_GPU_MAX_DEVICES) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "%s is not a simulated GPU description (1..%d devices)", path,
				 CCT_SIM_GPU_MAX_DEVICES);
		goto out;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.driver_version = json_string_value(json_object_get(info, "driver_version"));
	so.vbios_version = json_string_value(json_object_get(info, "vbios_version"));
	so.project = json_string_value(json_object_get(info, "project"));
	so.project_sku = json_string_value(json_object_get(info, "project_sku"));
	so.chip_sku = json_string_value(json_object_get(info, "chip_sku"));
	so.arch = json_string_value(json_object_get(info, "arch"));
	if (!so.driver_version || !so.vbios_version || !so.project || !so.project_sku ||
	    !so.chip_sku) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "%s lacks a version or project field", path);
		goto out;
	}
	rc = set_identity(g, &so, err);
	if (rc != CCT_OK)
		goto out;
	if ((rc = load_pair(dir, "device-root", &g->root, &g->root_key, err)) ||
	    (rc = load_pair(dir, "identity", &g->identity, &g->identity_key, err)) ||
	    (rc = load_pair(dir, "ica", &g->ica, &g->ica_key, err)) ||
	    (rc = load_pair(dir, "rim-root", &g->rim_root, &g->rim_root_key, err)) ||
	    (rc = load_pair(dir, "rim-ca", &g->rim_ca, &g->rim_ca_key, err)) ||
	    (rc = load_pair(dir, "rim-l3", &g->rim_l3, &g->rim_l3_key, err)) ||
	    (rc = load_pair(dir, "rim-signer", &g->rim_signer, &g->rim_signer_key, err)))
		goto out;
	g->dev = calloc(n, sizeof(*g->dev));
	if (!g->dev) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	g->device_count = (unsigned)n;
	for (i = 0; i < n; i++) {
		json_t *d = json_array_get(devs, i);
		const char *uuid = json_string_value(json_object_get(d, "uuid"));
		const char *fw = json_string_value(json_object_get(d, "fwid"));

		snprintf(sub, sizeof(sub), "%s/devices/%zu", dir, i);
		if ((rc = load_pair(sub, "brom", &g->dev[i].brom, &g->dev[i].brom_key, err)) ||
		    (rc = load_pair(sub, "leaf", &g->dev[i].leaf, &g->dev[i].leaf_key, err)))
			goto out;
		if (!uuid || strlen(uuid) >= sizeof(g->dev[i].uuid) || !fw ||
		    cct_hex_decode_fixed(g->dev[i].fwid, 48, fw, NULL) != CCT_OK) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "%s: device %zu needs a uuid and a 48-byte fwid", path, i);
			goto out;
		}
		snprintf(g->dev[i].uuid, sizeof(g->dev[i].uuid), "%s", uuid);
	}
	*out = g;
	g = NULL;
	rc = CCT_OK;
out:
	json_decref(info);
	cct_sim_gpu_free(g);
	return rc;
}

int cct_sim_gpu_write_collateral(const cct_sim_gpu *g, const char *dir, cct_err *err)
{
	char sub[4096];
	int rc;

	if (!g || !dir)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad argument");
	rc = make_dir(dir, err);
	if (rc != CCT_OK)
		return rc;
	snprintf(sub, sizeof(sub), "%s/%s", dir, CCT_SIM_GPU_RIM_SUBDIR);
	rc = cct_sim_gpu_rims(g, sub, NULL, err);
	if (rc != CCT_OK)
		return rc;
	snprintf(sub, sizeof(sub), "%s/%s", dir, CCT_SIM_GPU_OCSP_SUBDIR);
	return cct_sim_gpu_ocsp(g, sub, NULL, err);
}

int cct_sim_gpu_init_dir(cct_sim_gpu **out, const char *dir, const cct_sim_gpu_opts *opts,
			 cct_err *err)
{
	cct_sim_gpu *g = NULL;
	int rc;

	if (out)
		*out = NULL;
	rc = cct_sim_gpu_new(&g, opts, err);
	if (rc == CCT_OK)
		rc = cct_sim_gpu_save(g, dir, err);
	if (rc == CCT_OK)
		rc = cct_sim_gpu_write_collateral(g, dir, err);
	if (rc == CCT_OK && out) {
		*out = g;
		g = NULL;
	}
	cct_sim_gpu_free(g);
	return rc;
}
