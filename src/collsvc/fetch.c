/* `cctrust collateral fetch`: derive the keys evidence needs, fetch what the bundle lacks from
 * the vendors' services through the one libcurl client (src/collateral/fetch.c: 429 /
 * Retry-After, per-service pacing), validate, store. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "collateral/dl_curl.h"
#include <jansson.h>

#include "cctrust/collateral.h"
#include "cctrust/core.h"
#include "cctrust/nvgpu.h"
#include "cctrust/snp.h"
#include "cctrust/tdx.h"
#include "collateral/fetch.h"
#include "snp/snp_coll.h"
#include "nvgpu/nvgpu_internal.h"
#include "composite/internal.h"

#define DEFAULT_KDS "https://kdsintf.amd.com"
#define DEFAULT_PCS "https://api.trustedservices.intel.com"
#define DEFAULT_RIM "https://rim.attestation.nvidia.com"
#define INTEL_ROOT_CRL_URL "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define MAX_NEEDS 1024
#define MAX_GPU 64

struct cct_coll_plan {
	cct_coll_fetch_opts o;
	char kds[512], pcs[512], rim[512];
	cct_coll_need *needs;
	size_t n;
	struct {
		char name[256];
		cct_nvgpu_evidence_list *ev;
	} gpu[MAX_GPU];
	size_t ngpu;
};

static void base_url(char *dst, size_t size, const char *given, const char *env, const char *dflt)
{
	const char *e = getenv(env);
	size_t n;

	snprintf(dst, size, "%s", given && *given ? given : e && *e ? e : dflt);
	n = strlen(dst);
	while (n > 0 && dst[n - 1] == '/')
		dst[--n] = 0;
}

int cct_coll_plan_new(cct_coll_plan **out, const cct_coll_fetch_opts *o)
{
	cct_coll_plan *p = calloc(1, sizeof(*p));
	char pfx[600];
	long kds_ms;

	*out = NULL;
	if (!p)
		return CCT_ENOMEM;
	if (o)
		p->o = *o;
	if (!p->o.at)
		p->o.at = time(NULL);
	base_url(p->kds, sizeof(p->kds), p->o.kds_url, "CCTRUST_KDS_URL", DEFAULT_KDS);
	base_url(p->pcs, sizeof(p->pcs), p->o.pcs_url, "CCTRUST_PCS_URL", DEFAULT_PCS);
	base_url(p->rim, sizeof(p->rim), p->o.rim_url, "CCTRUST_RIM_URL", DEFAULT_RIM);
	if (!p->o.ocsp_url) {
		const char *ocsp = getenv("CCTRUST_OCSP_URL");

		if (ocsp && *ocsp)
			p->o.ocsp_url = ocsp;
	}
	/* pacing per service, by path prefix (the services may share one mirror's base URL) */
	kds_ms = p->o.kds_interval_ms ? p->o.kds_interval_ms : 10000;
	snprintf(pfx, sizeof(pfx), "%s/vcek/", p->kds);
	cct_fetch_set_min_interval(pfx, kds_ms < 0 ? 0 : kds_ms);
	snprintf(pfx, sizeof(pfx), "%s/vlek/", p->kds);
	cct_fetch_set_min_interval(pfx, kds_ms < 0 ? 0 : kds_ms);
	snprintf(pfx, sizeof(pfx), "%s/sgx/", p->pcs);
	cct_fetch_set_min_interval(pfx, p->o.pcs_interval_ms > 0 ? p->o.pcs_interval_ms : 0);
	snprintf(pfx, sizeof(pfx), "%s/tdx/", p->pcs);
	cct_fetch_set_min_interval(pfx, p->o.pcs_interval_ms > 0 ? p->o.pcs_interval_ms : 0);
	snprintf(pfx, sizeof(pfx), "%s/v1/rim/", p->rim);
	cct_fetch_set_min_interval(pfx, p->o.rim_interval_ms > 0 ? p->o.rim_interval_ms : 0);
	if (p->o.ocsp_url && p->o.ocsp_interval_ms > 0)
		cct_fetch_set_min_interval(p->o.ocsp_url, p->o.ocsp_interval_ms);
	*out = p;
	return CCT_OK;
}

void cct_coll_plan_free(cct_coll_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->ngpu; i++)
		cct_nvgpu_evidence_list_free(p->gpu[i].ev);
	free(p->needs);
	free(p);
}

const cct_coll_need *cct_coll_plan_needs(const cct_coll_plan *p, size_t *count)
{
	*count = p->n;
	return p->needs;
}

/* the vendor URL of an item */
static int item_url(const cct_coll_plan *p, cct_coll_kind kind, const char *key, char *url,
		    size_t size)
{
	char prod[64], q[256];
	const char *s;
	size_t i;
	int field = 0;

	switch (kind) {
	case CCT_COLL_SNP_VCEK: {
		/* "<Product>/<hwid>/blSPL_2_teeSPL_0_..." -> /vcek/v1/<Product>/<hwid>?blSPL=2&... */
		const char *a = strchr(key, '/'), *b = a ? strchr(a + 1, '/') : NULL;

		if (!a || !b || strlen(b + 1) >= sizeof(q))
			return -1;
		snprintf(q, sizeof(q), "%s", b + 1);
		for (i = 0; q[i]; i++)
			if (q[i] == '_')
				q[i] = (field++ % 2) ? '&' : '=';
		snprintf(url, size, "%s/vcek/v1/%.*s?%s", p->kds, (int)(b - key), key, q);
		return 0;
	}
	case CCT_COLL_SNP_ASK_ARK:
		snprintf(url, size, "%s/vcek/v1/%s/cert_chain", p->kds, key);
		return 0;
	case CCT_COLL_SNP_VLEK_CHAIN:
		snprintf(url, size, "%s/vlek/v1/%s/cert_chain", p->kds, key);
		return 0;
	case CCT_COLL_SNP_CRL:
		s = strchr(key, '/');
		if (!s || (strncmp(key, "vcek/", 5) && strncmp(key, "vlek/", 5)))
			return -1;
		snprintf(prod, sizeof(prod), "%s", s + 1);
		snprintf(url, size, "%s/%.4s/v1/%s/crl", p->kds, key, prod);
		return 0;
	case CCT_COLL_TDX_TCB_INFO:
		snprintf(url, size, "%s/tdx/certification/v4/tcb?fmspc=%s", p->pcs, key);
		return 0;
	case CCT_COLL_TDX_QE_IDENTITY:
		snprintf(url, size, "%s/tdx/certification/v4/qe/identity", p->pcs);
		return 0;
	case CCT_COLL_TDX_PCK_CRL:
		snprintf(url, size, "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", p->pcs, key);
		return 0;
	case CCT_COLL_TDX_ROOT_CA_CRL:
		snprintf(url, size, "%s/sgx/certification/v4/rootcacrl", p->pcs);
		return 0;
	case CCT_COLL_NVIDIA_RIM:
		snprintf(url, size, "%s/v1/rim/%s", p->rim, key);
		return 0;
	case CCT_COLL_NVIDIA_OCSP:
		snprintf(url, size, "%s", p->o.ocsp_url ? p->o.ocsp_url : "(certificate AIA)");
		return 0;
	default:
		return -1;
	}
}

static const char *chain_header(cct_coll_kind k)
{
	switch (k) {
	case CCT_COLL_TDX_TCB_INFO: return "TCB-Info-Issuer-Chain";
	case CCT_COLL_TDX_QE_IDENTITY: return "SGX-Enclave-Identity-Issuer-Chain";
	case CCT_COLL_TDX_PCK_CRL: return "SGX-PCK-CRL-Issuer-Chain";
	default: return NULL;
	}
}

static cct_coll_need *need_find(cct_coll_plan *p, cct_coll_kind kind, const char *key)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->needs[i].kind == kind && !strcmp(p->needs[i].key, key))
			return &p->needs[i];
	return NULL;
}

static cct_coll_need *need_add(cct_coll_plan *p, cct_coll_kind kind, const char *key,
			       cct_err *err)
{
	cct_coll_need *n = need_find(p, kind, key), *nn;

	if (n)
		return n;
	if (p->n >= MAX_NEEDS || strlen(key) >= CCT_COLLATERAL_MAX_KEY) {
		cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0, "too many items or key too long");
		return NULL;
	}
	nn = realloc(p->needs, (p->n + 1) * sizeof(*nn));
	if (!nn) {
		cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		return NULL;
	}
	p->needs = nn;
	n = &p->needs[p->n++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	snprintf(n->key, sizeof(n->key), "%s", key);
	if (item_url(p, kind, key, n->url, sizeof(n->url)) != 0) {
		p->n--;
		cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0, "%s: bad key \"%s\"",
			    cct_coll_kind_name(kind), key);
		return NULL;
	}
	return n;
}

int cct_coll_plan_add(cct_coll_plan *p, cct_coll_kind kind, const char *key, cct_err *err)
{
	if (kind == CCT_COLL_NVIDIA_OCSP)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "an OCSP response needs the certificate and its issuer: fetch it "
				   "--from the GPU evidence");
	/* a RIM id is one URL path segment and a bundle key: "" (an unset variable) or
	 * "../x" used to be requested as /v1/rim/ and /v1/rim/../x, and could never be stored */
	if (kind == CCT_COLL_NVIDIA_RIM &&
	    (!key || !key[0] || key[0] == '.' ||
	     strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		     strlen(key)))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "'%.80s' is not a RIM id (letters, digits, '.', '_' and '-', e.g. "
				   "NV_GPU_DRIVER_GH100_550.144.03)",
				   key ? key : "");
	return need_add(p, kind, key, err) ? CCT_OK : (err ? err->code : CCT_EINVAL);
}

static int product_ok(const char *s)
{
	return s && (!strcmp(s, "Milan") || !strcmp(s, "Genoa") || !strcmp(s, "Turin"));
}

static cct_snp_product product_of(const char *s)
{
	return !strcmp(s, "Genoa") ? CCT_SNP_PRODUCT_GENOA
	       : !strcmp(s, "Turin") ? CCT_SNP_PRODUCT_TURIN
				     : CCT_SNP_PRODUCT_MILAN;
}

int cct_coll_plan_add_snp_product(cct_coll_plan *p, const char *product, cct_err *err)
{
	char k[64];

	if (!product_ok(product))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "SNP product must be Milan, Genoa or Turin");
	snprintf(k, sizeof(k), "vcek/%s", product);
	if (!need_add(p, CCT_COLL_SNP_ASK_ARK, product, err) ||
	    !need_add(p, CCT_COLL_SNP_VLEK_CHAIN, product, err) ||
	    !need_add(p, CCT_COLL_SNP_CRL, k, err))
		return err ? err->code : CCT_ERROR;
	snprintf(k, sizeof(k), "vlek/%s", product);
	return need_add(p, CCT_COLL_SNP_CRL, k, err) ? CCT_OK : (err ? err->code : CCT_ERROR);
}

static int add_snp_report(cct_coll_plan *p, const cct_snp_report *rep, cct_snp_product prod,
			  cct_err *err)
{
	char key[CCT_COLLATERAL_MAX_KEY], k[64];
	const char *pn = cct_snp_product_name(prod);
	int vlek = cct_snp_report_signing_key(rep) == CCT_SNP_KEY_VLEK;

	snprintf(k, sizeof(k), "%s/%s", vlek ? "vlek" : "vcek", pn);
	if (!need_add(p, vlek ? CCT_COLL_SNP_VLEK_CHAIN : CCT_COLL_SNP_ASK_ARK, pn, err) ||
	    !need_add(p, CCT_COLL_SNP_CRL, k, err))
		return err ? err->code : CCT_ERROR;
	if (vlek)
		return CCT_OK; /* a VLEK is provisioned to the host, not served per chip by KDS */
	cct_snp__vcek_key(key, sizeof(key), NULL, 0, rep, prod);
	return need_add(p, CCT_COLL_SNP_VCEK, key, err) ? CCT_OK : (err ? err->code : CCT_ERROR);
}

int cct_coll_plan_add_snp(cct_coll_plan *p, const char *product, const char *hwid_hex,
			  uint64_t tcb, cct_err *err)
{
	cct_snp_report rep;
	cct_snp_product prod;
	size_t n = hwid_hex ? strlen(hwid_hex) : 0;

	if (!product_ok(product))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "SNP product must be Milan, Genoa or Turin");
	prod = product_of(product);
	if (n != (prod == CCT_SNP_PRODUCT_TURIN ? 16u : 128u))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "--snp-hwid wants %u hex digits for %s",
				   prod == CCT_SNP_PRODUCT_TURIN ? 16u : 128u, product);
	memset(&rep, 0, sizeof(rep));
	if (cct_hex_decode_fixed(rep.chip_id, n / 2, hwid_hex, err) != CCT_OK)
		return CCT_EINVAL;
	rep.reported_tcb = tcb;
	rep.signature_algo = 1;
	rep.version = 2;
	rep.flags = 0; /* SIGNING_KEY 0 = VCEK */
	return add_snp_report(p, &rep, prod, err);
}

int cct_coll_plan_add_tdx(cct_coll_plan *p, const char *fmspc_hex, const char *ca, cct_err *err)
{
	char f[13];
	size_t i;

	if (!fmspc_hex || strlen(fmspc_hex) != 12)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "FMSPC must be 12 hex digits");
	for (i = 0; i < 12; i++) {
		if (!strchr("0123456789abcdefABCDEF", fmspc_hex[i]))
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
					   "FMSPC must be 12 hex digits");
		f[i] = (char)(fmspc_hex[i] | 0x20);
	}
	f[12] = 0;
	if (!need_add(p, CCT_COLL_TDX_ROOT_CA_CRL, "root", err) ||
	    !need_add(p, CCT_COLL_TDX_TCB_INFO, f, err) ||
	    !need_add(p, CCT_COLL_TDX_QE_IDENTITY, "tdx", err))
		return err ? err->code : CCT_ERROR;
	if (!ca || !strcmp(ca, "processor"))
		if (!need_add(p, CCT_COLL_TDX_PCK_CRL, "processor", err))
			return err ? err->code : CCT_ERROR;
	if (!ca || !strcmp(ca, "platform"))
		if (!need_add(p, CCT_COLL_TDX_PCK_CRL, "platform", err))
			return err ? err->code : CCT_ERROR;
	if (ca && strcmp(ca, "processor") && strcmp(ca, "platform"))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "PCK CA must be processor or platform");
	return CCT_OK;
}

static int add_gpu(cct_coll_plan *p, const uint8_t *buf, size_t len, const char *name,
		   cct_err *err)
{
	cct_nvgpu_evidence_list *ev = NULL;
	int rc;

	if (p->ngpu >= MAX_GPU)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "too many GPU evidence files");
	rc = cct_nvgpu_evidence_list_parse(&ev, buf, len, err);
	if (rc != CCT_OK)
		return rc;
	p->gpu[p->ngpu].ev = ev;
	snprintf(p->gpu[p->ngpu].name, sizeof(p->gpu[p->ngpu].name), "%s", name ? name : "GPU");
	p->ngpu++;
	return CCT_OK;
}

/* A KBS attestation request (the composite verifier's parser): its CPU report or quote and its
 * GPU devices. */
static int add_kbs_request(cct_coll_plan *p, const uint8_t *buf, size_t len, const char *name,
			   cct_err *err)
{
	cct_request req;
	const char *member = NULL;
	uint8_t *cpu = NULL;
	size_t cn = 0;
	int rc;

	memset(&req, 0, sizeof(req));
	rc = cct_composite__request_parse(&req, buf, len, NULL, err);
	if (rc != CCT_OK)
		return rc;
	switch (req.cpu_form) {
	case CCT_CPU_SNP_RAW: member = "report"; break;
	case CCT_CPU_SNP_TSM: member = "outblob"; break;
	case CCT_CPU_TDX:
		member = json_object_get(req.primary, "outblob") ? "outblob" : "quote";
		break;
	case CCT_CPU_AZ_TDX_VTPM: member = "td_quote"; break; /* base64url (v1) */
	case CCT_CPU_AZ_SNP_VTPM: { /* the SNP report inside the HCL report (v1: base64url) */
		json_t *h = json_object_get(req.primary, "hcl_report");
		uint8_t *hb = NULL;
		size_t hn = 0;

		if (json_is_string(h) && cct_b64_decode(&hb, &hn, json_string_value(h),
							json_string_length(h), NULL) == CCT_OK &&
		    hn >= 0x20 + CCT_SNP_REPORT_SIZE && (cpu = malloc(CCT_SNP_REPORT_SIZE))) {
			memcpy(cpu, hb + 0x20, CCT_SNP_REPORT_SIZE);
			cn = CCT_SNP_REPORT_SIZE;
		}
		free(hb);
		break;
	}
	case CCT_CPU_SNP_SERDE: {
		cct_snp_verifier *v = NULL;

		rc = cct_snp_verifier_new(&v, err);
		if (rc == CCT_OK)
			rc = cct_composite__snp_serde(&cpu, &cn, v, req.primary, err);
		cct_snp_verifier_free(v);
		break;
	}
	default:
		break;
	}
	if (rc == CCT_OK && member) {
		json_t *m = json_object_get(req.primary, member);

		if (!json_is_string(m) ||
		    cct_b64_decode(&cpu, &cn, json_string_value(m), json_string_length(m), err) !=
			    CCT_OK)
			rc = cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
					 "%s: primary_evidence.%s is not base64", name, member);
	}
	if (rc == CCT_OK && cpu)
		rc = cct_coll_plan_add_evidence(p, cpu, cn, name, err);
	if (rc == CCT_OK && req.gpu_devices && json_array_size(req.gpu_devices) > 0) {
		json_t *w = json_pack("{s:O}", "device_evidence_list", req.gpu_devices);
		char *txt = w ? json_dumps(w, JSON_COMPACT) : NULL;

		rc = txt ? add_gpu(p, (const uint8_t *)txt, strlen(txt), name, err)
			 : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		free(txt);
		json_decref(w);
	}
	free(cpu);
	cct_composite__request_clear(&req);
	return rc;
}

int cct_coll_plan_add_evidence(cct_coll_plan *p, const uint8_t *buf, size_t len,
			       const char *name, cct_err *err)
{
	uint8_t *bin = NULL;
	size_t n = 0, i = 0;
	cct_tdx_quote q;
	cct_snp_report rep;
	cct_err e;
	int rc;

	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '[')) {
		json_t *j = json_loadb((const char *)buf, len, 0, NULL);
		int kbs = j && json_is_object(j) && json_object_get(j, "tee-evidence");

		json_decref(j);
		return kbs ? add_kbs_request(p, buf, len, name, err) : add_gpu(p, buf, len, name, err);
	}
	/* TDX quote? */
	if (cct_tdx_input_decode(&bin, &n, buf, len, &e) == CCT_OK &&
	    cct_tdx_quote_parse(&q, bin, n, &e) == CCT_OK) {
		char fmspc[13], ca[16];

		rc = cct_tdx_quote_pck_info(&q, fmspc, ca, err);
		if (rc == CCT_OK)
			rc = cct_coll_plan_add_tdx(p, fmspc, ca, err);
		free(bin);
		return rc;
	}
	free(bin);
	bin = NULL;
	/* SNP report (an extended report's certificate table may follow) */
	if (cct_input_decode(&bin, &n, buf, len, CCT_SNP_REPORT_SIZE, &e) == CCT_OK &&
	    n >= CCT_SNP_REPORT_SIZE &&
	    cct_snp_report_parse(&rep, bin, CCT_SNP_REPORT_SIZE, &e) == CCT_OK) {
		cct_snp_product prod = cct_snp_report_product(&rep);

		if (prod == CCT_SNP_PRODUCT_UNKNOWN)
			prod = p->o.snp_product ? product_of(p->o.snp_product) : CCT_SNP_PRODUCT_MILAN;
		rc = add_snp_report(p, &rep, prod, err);
		free(bin);
		return rc;
	}
	free(bin);
	return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
			   "%s: not an SNP report, a TDX quote, GPU evidence or a KBS request",
			   name ? name : "evidence");
}

/* ---- fetching ---- */

static void progress(const cct_coll_plan *p, size_t i, const cct_coll_need *n)
{
	if (!p->o.progress)
		return;
	fprintf(stderr, "\r\033[K[%zu/%zu] %s %s", i + 1, p->n, cct_coll_kind_name(n->kind),
		n->key);
	fflush(stderr);
}

/* present, valid and fresh at the fetch time? */
static int have_good(cct_coll_bundle *b, cct_coll_kind kind, const char *key,
		     const cct_coll_fetch_opts *o)
{
	const cct_coll_item *it = cct_coll_bundle_find(b, kind, key);
	cct_coll_item tmp;
	uint8_t *body = NULL, *chain = NULL;
	size_t n = 0, cn = 0;
	cct_err e;
	int rc;

	if (!it)
		return 0;
	tmp = *it;
	rc = cct_coll_bundle_read(b, it, &body, &n, &chain, &cn, &e);
	if (rc == CCT_OK)
		rc = cct_coll_validate(&tmp, body, n, chain, cn, b, NULL, 0, &o->trust, o->at, &e);
	free(body);
	free(chain);
	if (rc != CCT_OK)
		return 0;
	if ((tmp.next_update && o->at > tmp.next_update) || (tmp.not_after && o->at > tmp.not_after))
		return 0;
	/* an OCSP answer without nextUpdate: the verifiers refuse it a day after thisUpdate */
	if (kind == CCT_COLL_NVIDIA_OCSP && !tmp.next_update &&
	    o->at > tmp.not_before + CCT_COLL_OCSP_MAX_AGE_S)
		return 0;
	return 1;
}

static int store(cct_coll_bundle *b, cct_coll_need *nd, const uint8_t *body, size_t n,
		 const uint8_t *chain, size_t cn, const char *url, const cct_coll_fetch_opts *o)
{
	cct_coll_item it;
	int rc;

	memset(&it, 0, sizeof(it));
	it.kind = nd->kind;
	snprintf(it.key, sizeof(it.key), "%s", nd->key);
	it.source = (char *)url;
	it.fetched_at = time(NULL);
	rc = cct_coll_validate(&it, body, n, chain, cn, b, NULL, 0, &o->trust, o->at, &nd->err);
	if (rc != CCT_OK) {
		char m[CCT_ERR_MSG_SIZE];

		snprintf(m, sizeof(m), "%s", nd->err.msg);
		cct_err_set(&nd->err, rc, CCT_STAGE_COLLATERAL, 0, "%s: not stored, invalid: %s",
			    url, m);
		nd->state = CCT_NEED_FAILED;
		return rc;
	}
	rc = cct_coll_bundle_put(b, &it, body, n, chain, cn, &nd->err);
	nd->state = rc == CCT_OK ? CCT_NEED_STORED : CCT_NEED_FAILED;
	return rc;
}

static int fetch_one(cct_coll_bundle *b, cct_coll_plan *p, cct_coll_need *nd)
{
	const char *hdr = chain_header(nd->kind);
	char *header = NULL, *dec = NULL;
	uint8_t *body = NULL, *xml = NULL;
	size_t n = 0, xn = 0;
	int dn = 0, rc;
	cct_fetch_req req = { .url = nd->url, .header_name = hdr,
			      .header_out = hdr ? &header : NULL,
			      .max_body = CCT_COLLATERAL_MAX_ITEM };
	cct_fetch_opts fo = { .quiet = p->o.quiet, .max_retries = p->o.no_retry ? -1 : 0 };

	rc = cct_fetch(&body, &n, &req, &fo, &nd->err);
	if (rc != CCT_OK && nd->kind == CCT_COLL_TDX_ROOT_CA_CRL && !strcmp(p->pcs, DEFAULT_PCS)) {
		/* Intel PCS serves the Root CA CRL from its certificate site */
		snprintf(nd->url, sizeof(nd->url), "%s", INTEL_ROOT_CRL_URL);
		req.url = nd->url;
		rc = cct_fetch(&body, &n, &req, &fo, &nd->err);
	}
	if (rc != CCT_OK) {
		nd->state = CCT_NEED_FAILED;
		return rc;
	}
	if (hdr && !header) {
		free(body);
		nd->state = CCT_NEED_FAILED;
		return cct_err_set(&nd->err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "%s: response has no %s header", nd->url, hdr);
	}
	if (header) {
		dec = curl_easy_unescape(NULL, header, 0, &dn);
		free(header);
	}
	if (nd->kind == CCT_COLL_NVIDIA_RIM) {
		/* the service answers {"id","rim":"<base64 XML>",...}; the bundle keeps the XML */
		json_t *j = json_loadb((const char *)body, n, 0, NULL);
		json_t *r = j ? json_object_get(j, "rim") : NULL;

		if (!json_is_string(r) ||
		    cct_b64_decode(&xml, &xn, json_string_value(r), json_string_length(r), NULL) !=
			    CCT_OK) {
			rc = cct_err_set(&nd->err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					 "%s: answer has no base64 \"rim\"", nd->url);
			nd->state = CCT_NEED_FAILED;
		}
		json_decref(j);
		if (rc == CCT_OK)
			rc = store(b, nd, xml, xn, NULL, 0, nd->url, &p->o);
	} else {
		rc = store(b, nd, body, n, (const uint8_t *)dec, dec ? (size_t)dn : 0, nd->url,
			   &p->o);
	}
	if (dec)
		curl_free(dec);
	free(xml);
	free(body);
	return rc;
}

/* GPU: a verifier run over the evidence derives RIM ids and the OCSP requests; what the bundle
 * lacks is fetched into a scratch cache, then validated and stored. */
typedef struct {
	cct_coll_plan *p;
	cct_collateral_source inner;
} rec_src;

static int rec_get(void *ctx, cct_coll_kind kind, const char *key, uint8_t **body, size_t *len,
		   uint8_t **chain, size_t *chain_len, cct_err *err)
{
	rec_src *r = ctx;
	int rc = r->inner.get(r->inner.ctx, kind, key, body, len, chain, chain_len, err);
	cct_coll_need *nd;

	if (rc == CCT_OK && (nd = need_add(r->p, kind, key, NULL)) &&
	    nd->state == CCT_NEED_PENDING)
		nd->state = CCT_NEED_PRESENT;
	return rc;
}

static void import_dir(cct_coll_bundle *b, cct_coll_plan *p, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		cct_coll_kind k;
		char key[CCT_COLLATERAL_MAX_KEY], path[4096];
		uint8_t *body = NULL;
		size_t n = 0;
		cct_coll_need *nd;
		cct_err e;

		if (l > 4 && !strcmp(de->d_name + l - 4, ".xml"))
			k = CCT_COLL_NVIDIA_RIM;
		else if (l > 4 && !strcmp(de->d_name + l - 4, ".der"))
			k = CCT_COLL_NVIDIA_OCSP;
		else
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(l - 4), de->d_name);
		nd = need_add(p, k, key, &e);
		if (!nd)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (cct_file_read(&body, &n, path, CCT_COLLATERAL_MAX_ITEM, &nd->err) == CCT_OK)
			store(b, nd, body, n, NULL, 0, nd->url, &p->o);
		else
			nd->state = CCT_NEED_FAILED;
		free(body);
		unlink(path);
	}
	if (d)
		closedir(d);
}

static int run_gpu(cct_coll_bundle *b, cct_coll_plan *p, size_t gi)
{
	char tmpl[] = "/tmp/cctrust-gpu-XXXXXX", rim[600];
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	rec_src rs;
	cct_collateral_source src;
	cct_err e;
	size_t k, i;
	int rc;

	if (!mkdtemp(tmpl))
		return CCT_EIO;
	rs.p = p;
	cct_coll_bundle_source(&rs.inner, b);
	src.ctx = &rs;
	src.get = rec_get;
	snprintf(rim, sizeof(rim), "%s/v1/rim/", p->rim);
	cct_nvgpu_opts_init(&o);
	o.at = p->o.at;
	o.collateral = &src;
	o.cache_dir = tmpl;
	o.rim_url = rim;
	o.ocsp_url = p->o.ocsp_url;
	o.no_ocsp = p->o.no_ocsp;
	o.device_root_path_insecure = p->o.trust.gpu_device_root_insecure;
	o.rim_root_path_insecure = p->o.trust.gpu_rim_root_insecure;
	rc = cct_nvgpu_verifier_new(&v, &o, &e);
	/* one device at a time, bound to its own request nonce: this run only derives and
	 * fetches collateral, it is not a verdict */
	for (k = 0; rc == CCT_OK && k < p->gpu[gi].ev->count; k++) {
		const cct_nvgpu_entry *en = &p->gpu[gi].ev->e[k];
		cct_nvgpu_evidence_list one = { NULL, 0 };

		rc = cct_nvgpu__entry_add(&one, en->arch, en->evidence, en->evidence_size,
					  en->chain_pem, en->chain_pem_size, &e);
		if (rc == CCT_OK)
			rc = cct_nvgpu_verify(NULL, v, &one, en->evidence_size >= 36 ? en->evidence + 4
										: NULL,
					      32, &e);
		for (i = 0; i < one.count; i++) {
			free(one.e[i].evidence);
			free(one.e[i].chain_pem);
		}
		free(one.e);
		if (rc != CCT_OK && e.stage != CCT_STAGE_COLLATERAL &&
		    e.stage != CCT_STAGE_REVOCATION && rc != CCT_ENETWORK)
			rc = CCT_OK; /* a verdict, not missing collateral: next device */
	}
	cct_nvgpu_verifier_free(v);
	import_dir(b, p, tmpl);
	rmdir(tmpl);
	/* a verdict (nonce, measurements, policy) is not ours to judge here; missing collateral is */
	if (rc != CCT_OK && (e.stage == CCT_STAGE_COLLATERAL || e.stage == CCT_STAGE_REVOCATION ||
			     rc == CCT_ENETWORK)) {
		char key[CCT_COLLATERAL_MAX_KEY];
		cct_coll_need *nd;

		snprintf(key, sizeof(key), "gpu-%zu", gi);
		nd = need_add(p, CCT_COLL_NVIDIA_RIM, key, NULL);
		if (nd) {
			nd->url[0] = 0; /* not one URL: the message names what failed */
			nd->state = CCT_NEED_FAILED;
			cct_err_set(&nd->err, rc, e.stage, 0, "%s: %s", p->gpu[gi].name, e.msg);
		}
		return rc;
	}
	return CCT_OK;
}

int cct_coll_fetch(cct_coll_bundle *b, cct_coll_plan *p, cct_err *err)
{
	size_t i, failed = 0;

	for (i = 0; i < p->n; i++) {
		cct_coll_need *nd = &p->needs[i];

		progress(p, i, nd);
		if (nd->state != CCT_NEED_PENDING)
			continue;
		if (!p->o.refresh && have_good(b, nd->kind, nd->key, &p->o)) {
			nd->state = CCT_NEED_PRESENT;
			continue;
		}
		fetch_one(b, p, nd);
	}
	for (i = 0; i < p->ngpu; i++)
		run_gpu(b, p, i);
	if (p->o.progress)
		fprintf(stderr, "\n");
	for (i = 0; i < p->n; i++)
		if (p->needs[i].state == CCT_NEED_FAILED)
			failed++;
	if (failed)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "%zu of %zu needed items are missing", failed, p->n);
	return CCT_OK;
}

int cct_coll_fetch_item(cct_coll_bundle *b, cct_coll_kind kind, const char *key,
			const cct_coll_fetch_opts *o, cct_err *err)
{
	cct_coll_plan *p = NULL;
	cct_coll_need *nd;
	int rc;

	if (cct_coll_plan_new(&p, o) != CCT_OK)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	if ((kind == CCT_COLL_TDX_TCB_INFO || kind == CCT_COLL_TDX_QE_IDENTITY ||
	     kind == CCT_COLL_TDX_PCK_CRL) &&
	    !have_good(b, CCT_COLL_TDX_ROOT_CA_CRL, "root", &p->o)) {
		/* their issuer chains are checked against the Root CA CRL: fetch it first */
		nd = need_add(p, CCT_COLL_TDX_ROOT_CA_CRL, "root", err);
		if (nd && fetch_one(b, p, nd) != CCT_OK) {
			if (err)
				*err = nd->err;
			cct_coll_plan_free(p);
			return CCT_ECOLLATERAL;
		}
	}
	nd = need_add(p, kind, key, err);
	if (!nd) {
		cct_coll_plan_free(p);
		return err ? err->code : CCT_EINVAL;
	}
	rc = fetch_one(b, p, nd);
	if (rc != CCT_OK && err)
		*err = nd->err;
	cct_coll_plan_free(p);
	return rc;
}

int cct_coll_store_ocsp(cct_coll_bundle *b, const char *key, const uint8_t *der, size_t n,
			const char *source, cct_err *err)
{
	cct_coll_need nd;
	cct_coll_fetch_opts o;
	int rc;

	memset(&nd, 0, sizeof(nd));
	memset(&o, 0, sizeof(o));
	o.at = time(NULL);
	nd.kind = CCT_COLL_NVIDIA_OCSP;
	snprintf(nd.key, sizeof(nd.key), "%s", key);
	rc = store(b, &nd, der, n, NULL, 0, source, &o);
	if (rc != CCT_OK && err)
		*err = nd.err;
	return rc;
}
