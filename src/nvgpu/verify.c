/* NVIDIA GPU / NVSwitch evidence verification and claims (see include/cctrust/nvgpu.h).
 * Order per device: parse -> device chain (pinned root, cached) -> OCSP of the chain ->
 * report signature -> FWID -> nonce -> RIMs (signature, chain, OCSP, version) -> golden
 * measurements. Then across devices: duplicate UEIDs, expected count/arch, policy. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "collateral/fetch.h"
#include "json/json.h"
#include "cctrust/collateral.h"
#include "nvgpu/dice.h"
#include "nvgpu/nvgpu_internal.h"
#include "nvgpu/rim.h"
#include "nvgpu/spdm.h"
#include "x509/ocsp.h"
#include "x509/vcache.h"
#include "x509/x509.h"

#define MAX_PINS 32 /* cache entries one device verification holds */
#define DEFAULT_RIM_URL "https://rim.attestation.nvidia.com/v1/rim/"
/* LS10 switch BIOS RIM ids name a fixed project/SKU/chip SKU (NVIDIA's settings). */
#define LS10_RIM_PREFIX "NV_SWITCH_BIOS_5612_0002_890_"

/* ASN.1 of the FWID extensions: nvgpu/dice.h */

/* ---- caches: process-wide (x509/vcache), pinned for the length of one device ---- */
typedef struct {
	STACK_OF(X509) *chain;     /* built chain, leaf first (owned) */
	EVP_PKEY *leaf_key;        /* owned reference */
	char hwmodel[128], ueid[80], expiry[32];
	uint8_t fwid[48];
	int has_fwid;
} chain_entry;

/* a RIM whose XML-DSig verified and whose signing chain verified to the RIM roots: one per
 * (RIM content, anchors) and window of the chain's validity */
typedef struct {
	cct_rim *rim;
	STACK_OF(X509) *chain;     /* built chain (owned) */
	char expiry[32];
} rim_entry;

struct cct_nvgpu_verifier {
	cct_nvgpu_opts o;
	STACK_OF(X509) *device_roots, *rim_roots;
	STACK_OF(X509) *pinned_device, *pinned_rim; /* NVIDIA's roots, to mark other roots */
	uint8_t device_roots_fp[32], rim_roots_fp[32];
	json_t *policy;
	cct_ocsp_cache *ocsp;
	cct_vcache_entry *pins[MAX_PINS]; /* released when the device's verification ends */
	size_t npins;
	cct_coll_bundle *own_bundle;   /* opts.collateral_path, opened by the verifier */
	cct_collateral_source own_src;
};

static void chain_entry_free(void *p)
{
	chain_entry *ce = p;

	if (ce->chain)
		sk_X509_pop_free(ce->chain, X509_free);
	EVP_PKEY_free(ce->leaf_key);
	free(ce);
}

static void rim_entry_free(void *p)
{
	rim_entry *re = p;

	cct_rim_free(re->rim);
	if (re->chain)
		sk_X509_pop_free(re->chain, X509_free);
	free(re);
}

/* keep e pinned until unpin_all; 0 (and e released) when the verifier holds too many */
static void *hold(cct_nvgpu_verifier *v, cct_vcache_entry *e)
{
	if (!e)
		return NULL;
	if (v->npins == MAX_PINS) {
		cct_vcache_release(e);
		return NULL;
	}
	v->pins[v->npins++] = e;
	return cct_vcache_entry_obj(e);
}

static void unpin_all(cct_nvgpu_verifier *v)
{
	while (v->npins)
		cct_vcache_release(v->pins[--v->npins]);
}

static int roots_fp(STACK_OF(X509) *sk, uint8_t fp[32])
{
	cct_vcache_part parts[CCT_X509_MAX_CERTS];
	uint8_t fps[CCT_X509_MAX_CERTS][32];
	int i;

	for (i = 0; i < sk_X509_num(sk) && i < CCT_X509_MAX_CERTS; i++) {
		cct_x509_fingerprint(sk_X509_value(sk, i), fps[i]);
		parts[i] = (cct_vcache_part){ fps[i], 32 };
	}
	return cct_vcache_key(fp, "gpu-roots", parts, (size_t)i);
}

void cct_nvgpu_opts_init(cct_nvgpu_opts *o)
{
	memset(o, 0, sizeof(*o));
}

static int load_roots(STACK_OF(X509) **out, const char *pem, const char *path, const char *what,
		      cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int rc;

	*out = NULL;
	if (!sk)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	if (path)
		rc = cct_x509_load_path(sk, NULL, path, err);
	else
		rc = cct_x509_parse_certs(sk, NULL, (const uint8_t *)pem, strlen(pem), what, err);
	if (rc != CCT_OK) {
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	*out = sk;
	return CCT_OK;
}

void cct_nvgpu_verifier_free(cct_nvgpu_verifier *v)
{
	if (!v)
		return;
	unpin_all(v);
	cct_coll_bundle_free(v->own_bundle);
	if (v->device_roots)
		sk_X509_pop_free(v->device_roots, X509_free);
	if (v->rim_roots)
		sk_X509_pop_free(v->rim_roots, X509_free);
	if (v->pinned_device)
		sk_X509_pop_free(v->pinned_device, X509_free);
	if (v->pinned_rim)
		sk_X509_pop_free(v->pinned_rim, X509_free);
	json_decref(v->policy);
	cct_ocsp_cache_free(v->ocsp);
	free(v);
}

int cct_nvgpu_verifier_new(cct_nvgpu_verifier **out, const cct_nvgpu_opts *o, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_nvgpu_verifier *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	v->o = *o;
	rc = load_roots(&v->device_roots, cct_nvgpu__device_root_pem,
			o->device_root_path_insecure, "pinned device root", err);
	if (rc == CCT_OK)
		rc = load_roots(&v->rim_roots, cct_nvgpu__rim_root_pem, o->rim_root_path_insecure,
				"pinned RIM root", err);
	if (rc == CCT_OK)
		rc = load_roots(&v->pinned_device, cct_nvgpu__device_root_pem, NULL,
				"pinned device root", err);
	if (rc == CCT_OK)
		rc = load_roots(&v->pinned_rim, cct_nvgpu__rim_root_pem, NULL, "pinned RIM root",
				err);
	if (rc == CCT_OK && (!roots_fp(v->device_roots, v->device_roots_fp) ||
			     !roots_fp(v->rim_roots, v->rim_roots_fp)))
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_INPUT, 0, "cannot hash the trust roots");
	if (rc == CCT_OK && o->collateral_path && !o->collateral) {
		rc = cct_coll_bundle_open(&v->own_bundle, o->collateral_path, 0, err);
		if (rc == CCT_OK) {
			cct_coll_bundle_source(&v->own_src, v->own_bundle);
			v->o.collateral = &v->own_src;
		}
	}
	if (rc == CCT_OK && cct_ocsp_cache_new(&v->ocsp) != CCT_OK)
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	if (rc == CCT_OK && o->policy_path) {
		json_error_t je;

		v->policy = json_load_file(o->policy_path, JSON_REJECT_DUPLICATES, &je);
		if (!v->policy || !json_is_object(v->policy))
			rc = cct_err_set(err, access(o->policy_path, R_OK) ? CCT_EIO : CCT_EENCODING,
					 CCT_STAGE_INPUT, 0, "policy %s: %s", o->policy_path,
					 v->policy ? "not a JSON object" : je.text);
	}
	if (rc != CCT_OK) {
		cct_nvgpu_verifier_free(v);
		return rc;
	}
	*out = v;
	return CCT_OK;
}

/* ---- helpers ---- */
/* 1 when the root of a built chain (its last certificate) is one of NVIDIA's pinned roots. */
static int chain_root_pinned(STACK_OF(X509) *chain, STACK_OF(X509) *pinned)
{
	X509 *root = sk_X509_num(chain) > 0 ? sk_X509_value(chain, sk_X509_num(chain) - 1) : NULL;
	int i;

	for (i = 0; root && i < sk_X509_num(pinned); i++)
		if (X509_cmp(root, sk_X509_value(pinned, i)) == 0)
			return 1;
	return 0;
}

static time_t now_or(const cct_nvgpu_verifier *v)
{
	return v->o.at ? v->o.at : time(NULL);
}

static void kset(json_t *o, const char *prefix, const char *suffix, json_t *val)
{
	char k[160];

	snprintf(k, sizeof(k), "%s%s", prefix, suffix);
	json_object_set_new(o, k, val);
}

static json_t *cert_chain_claims(const char *status, const char *ocsp, const char *expiry,
				 const char *reason)
{
	json_t *o = json_object();

	json_object_set_new(o, "x-nvidia-cert-status", json_string(status));
	json_object_set_new(o, "x-nvidia-cert-ocsp-status", ocsp ? json_string(ocsp) : json_null());
	json_object_set_new(o, "x-nvidia-cert-expiration-date",
			    expiry && expiry[0] ? json_string(expiry) : json_null());
	json_object_set_new(o, "x-nvidia-cert-revocation-reason",
			    reason ? json_string(reason) : json_null());
	return o;
}

static const char *status_for(int code)
{
	switch (code) {
	case CCT_EEXPIRED: return "expired";
	case CCT_EREVOKED: return "revoked";
	default: return "invalid";
	}
}

static void chain_window(STACK_OF(X509) *chain, time_t *nb, time_t *na, char *expiry, size_t esz)
{
	int i;

	*nb = 0;
	*na = (time_t)0x7fffffffffffffffLL;
	for (i = 0; i < sk_X509_num(chain); i++) {
		time_t b, a;

		if (cct_x509_validity(sk_X509_value(chain, i), &b, &a) == 0) {
			if (b > *nb)
				*nb = b;
			if (a < *na)
				*na = a;
		}
	}
	cct_time_format(expiry, esz, *na);
}

static void serial_decimal(const X509 *x, char *buf, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *d = bn ? BN_bn2dec(bn) : NULL;

	snprintf(buf, size, "%s", d ? d : "");
	OPENSSL_free(d);
	BN_free(bn);
}

/* FWID of the leaf: 1 and out filled when present and decodable; 0 absent; -1 malformed. */
static int leaf_fwid(const X509 *leaf, uint8_t out[48])
{
	const uint8_t *p;
	size_t n;
	const unsigned char *q;
	int rc = 0;

	if (cct_x509_ext_value(leaf, CCT_OID_DICE_TCBINFO, &p, &n)) {
		NV_TCBINFO *t;
		int i;

		q = p;
		t = (NV_TCBINFO *)ASN1_item_d2i(NULL, &q, (long)n, ASN1_ITEM_rptr(NV_TCBINFO));
		rc = -1;
		for (i = 0; t && t->fwids && i < sk_NV_FWID_num(t->fwids); i++) {
			NV_FWID *f = sk_NV_FWID_value(t->fwids, i);

			if (OBJ_obj2nid(f->alg) == NID_sha384 && ASN1_STRING_length(f->digest) == 48) {
				memcpy(out, ASN1_STRING_get0_data(f->digest), 48);
				rc = 1;
				break;
			}
		}
		ASN1_item_free((ASN1_VALUE *)t, ASN1_ITEM_rptr(NV_TCBINFO));
	} else if (cct_x509_ext_value(leaf, CCT_OID_DICE_FWID, &p, &n)) {
		NV_FWID_EXT *e;

		q = p;
		e = (NV_FWID_EXT *)ASN1_item_d2i(NULL, &q, (long)n, ASN1_ITEM_rptr(NV_FWID_EXT));
		rc = -1;
		if (e && q == p + n && OBJ_obj2nid(e->fwid->alg) == NID_sha384 &&
		    ASN1_STRING_length(e->fwid->digest) == 48) {
			memcpy(out, ASN1_STRING_get0_data(e->fwid->digest), 48);
			rc = 1;
		}
		ASN1_item_free((ASN1_VALUE *)e, ASN1_ITEM_rptr(NV_FWID_EXT));
	}
	ERR_clear_error();
	return rc;
}

static int arch_known(const char *arch)
{
	return !strcmp(arch, "HOPPER") || !strcmp(arch, "BLACKWELL") || !strcmp(arch, "LS10");
}

static int arch_matches_model(const char *arch, const char *hwmodel)
{
	if (!strcmp(arch, "HOPPER"))
		return !strncmp(hwmodel, "GH1", 3);
	if (!strcmp(arch, "BLACKWELL"))
		return !strncmp(hwmodel, "GB1", 3) || !strncmp(hwmodel, "GB2", 3);
	if (!strcmp(arch, "LS10"))
		return !strncmp(hwmodel, "LS_10", 5);
	return 0;
}

/* ---- device chain (once per chain text and anchors, within the chain's validity) ---- */
static int device_chain(chain_entry **out, cct_nvgpu_verifier *v, const cct_nvgpu_entry *e,
			time_t at, cct_err *err)
{
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_part parts[2] = { { v->device_roots_fp, 32 },
				     { e->chain_pem, e->chain_pem_size } };
	cct_vcache_entry *pin;
	uint8_t key[32];
	time_t nb, na;
	int rc = CCT_ERROR;
	STACK_OF(X509) *sk = NULL, *built = NULL;
	cct_x509_verify_in in;
	chain_entry *ce = NULL;
	char cn[128];

	*out = NULL;
	if (cache && !cct_vcache_key(key, "gpu-device-chain", parts, 2))
		cache = NULL;
	if (cache && (pin = cct_vcache_get(cache, key, at)) != NULL) {
		*out = hold(v, pin);
		return *out ? CCT_OK
			    : cct_err_set(err, CCT_ERROR, CCT_STAGE_CHAIN, 0,
					  "too many certificate chains in one device's evidence");
	}
	sk = sk_X509_new_null();
	if (!sk)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	rc = cct_x509_parse_certs(sk, NULL, e->chain_pem, e->chain_pem_size, "device chain", err);
	if (rc != CCT_OK) {
		err->stage = CCT_STAGE_CHAIN;
		goto out;
	}
	if (sk_X509_num(sk) < 2 || sk_X509_num(sk) > CCT_X509_MAX_CHAIN) {
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				 "device chain holds %d certificates (want 2..%d, leaf first)",
				 sk_X509_num(sk), CCT_X509_MAX_CHAIN);
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.leaf = sk_X509_value(sk, 0);
	in.untrusted = sk;
	in.roots = v->device_roots;
	in.at = at;
	in.what = "device certificate chain";
	rc = cct_x509_chain_verify(&built, &in, err);
	if (rc != CCT_OK)
		goto out;
	/* the whole presented chain must be the built one (no unused extra certificates) */
	if (sk_X509_num(built) < 2) {
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				 "device chain is too short to name the device model");
		goto out;
	}
	ce = calloc(1, sizeof(*ce));
	if (!ce) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
		goto out;
	}
	ce->chain = built;
	built = NULL;
	ce->leaf_key = X509_get_pubkey(sk_X509_value(ce->chain, 0));
	chain_window(ce->chain, &nb, &na, ce->expiry, sizeof(ce->expiry));
	cct_x509_subject_cn(sk_X509_value(ce->chain, 1), cn, sizeof(cn));
	snprintf(ce->hwmodel, sizeof(ce->hwmodel), "%s", cn);
	serial_decimal(sk_X509_value(ce->chain, 0), ce->ueid, sizeof(ce->ueid));
	ce->has_fwid = leaf_fwid(sk_X509_value(ce->chain, 0), ce->fwid);
	if (!ce->leaf_key) {
		chain_entry_free(ce);
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0, "leaf key does not decode");
		goto out;
	}
	/* the built chain holds the anchor: its window covers every certificate checked */
	if (at < nb || at > na)
		nb = na = at;
	*out = hold(v, cct_vcache_put(cache, key, nb, na, CCT_OK, NULL, ce, chain_entry_free));
	rc = *out ? CCT_OK
		  : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0,
				"out of memory (or too many chains in one device's evidence)");
out:
	if (sk)
		sk_X509_pop_free(sk, X509_free);
	if (built)
		sk_X509_pop_free(built, X509_free);
	return rc;
}

/* OCSP of every non-root certificate of chain. Fills ocsp_status / reason for the claims. */
static int chain_ocsp(cct_nvgpu_verifier *v, STACK_OF(X509) *chain, time_t at, const char *what,
		      const char **ocsp_status, const char **reason, cct_err *err)
{
	cct_ocsp_opts oo;
	int i, rc;

	*reason = NULL;
	if (v->o.no_ocsp) {
		*ocsp_status = "skipped";
		return CCT_OK;
	}
	memset(&oo, 0, sizeof(oo));
	oo.at = at;
	oo.dir = v->o.ocsp_dir;
	oo.cache_dir = v->o.cache_dir;
	oo.url = v->o.ocsp_url;
	oo.source = v->o.collateral;
	oo.offline = v->o.offline;
	oo.cache = v->ocsp;
	*ocsp_status = "good";
	for (i = 0; i + 1 < sk_X509_num(chain); i++) {
		cct_ocsp_result r;
		char cn[128];

		rc = cct_ocsp_check(&r, sk_X509_value(chain, i), sk_X509_value(chain, i + 1), &oo,
				    err);
		if (rc != CCT_OK) {
			*ocsp_status = "unavailable";
			return rc;
		}
		cct_x509_subject_cn(sk_X509_value(chain, i), cn, sizeof(cn));
		if (r.status == CCT_OCSP_REVOKED) {
			*ocsp_status = "revoked";
			*reason = cct_ocsp_reason_name(r.reason);
			if (r.reason == 6 && v->o.allow_hold)
				continue; /* certificateHold explicitly allowed */
			return cct_err_set(err, CCT_EREVOKED, CCT_STAGE_REVOCATION, 0,
					   "%s: certificate '%s' is revoked (%s)%s", what, cn,
					   *reason ? *reason : "?",
					   r.reason == 6 ? "; --allow-hold accepts a hold" : "");
		}
		if (r.status != CCT_OCSP_GOOD) {
			*ocsp_status = "unknown";
			return cct_err_set(err, CCT_EREVOKED, CCT_STAGE_REVOCATION, 0,
					   "%s: OCSP responder does not know certificate '%s'",
					   what, cn);
		}
	}
	return CCT_OK;
}

/* ---- RIMs ---- */
static int find_rim_file(char *path, size_t size, const char *dir, const char *id)
{
	DIR *d;
	struct dirent *de;
	size_t idlen = strlen(id);
	int found = 0;

	snprintf(path, size, "%s/%s.xml", dir, id);
	if (access(path, R_OK) == 0)
		return 1;
	snprintf(path, size, "%s/%s", dir, id);
	if (access(path, R_OK) == 0)
		return 1;
	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		const char *m = strstr(de->d_name, id);
		char c;

		if (!m)
			continue;
		c = m[idlen];
		/* the id must be a whole word of the name: it starts the name or follows '_'/'-'
		 * (not XNV_GPU_...), and ends with "_suffix", ".xml" or the name (not 535.86.091).
		 * The document itself must still state the right device and kind (rim_identity). */
		if (m != de->d_name && m[-1] != '_' && m[-1] != '-')
			continue;
		if (c == '_' || c == '-' || c == '\0' || !strcmp(m + idlen, ".xml")) {
			snprintf(path, size, "%s/%s", dir, de->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static int load_rim_bytes(uint8_t **xml, size_t *len, cct_nvgpu_verifier *v, const char *id,
			  char *src, size_t srcsz, cct_err *err)
{
	char path[4096];
	int rc;

	if (v->o.collateral) {
		cct_err e;

		rc = cct_coll_get(v->o.collateral, CCT_COLL_NVIDIA_RIM, id, xml, len, NULL, NULL,
				  &e);
		if (rc == CCT_OK) {
			snprintf(src, srcsz, "collateral bundle");
			return CCT_OK;
		}
		if (rc != CCT_ECOLLATERAL) {
			if (err)
				*err = e;
			return rc;
		}
	}
	if (v->o.rim_dir && find_rim_file(path, sizeof(path), v->o.rim_dir, id)) {
		snprintf(src, srcsz, "%s", path);
		cct_collateral_count_hit();
		return cct_file_read(xml, len, path, CCT_RIM_MAX_SIZE, err);
	}
	if (v->o.cache_dir) {
		snprintf(path, sizeof(path), "%s/%s.xml", v->o.cache_dir, id);
		if (access(path, R_OK) == 0) {
			snprintf(src, srcsz, "%s", path);
			cct_collateral_count_hit();
			return cct_file_read(xml, len, path, CCT_RIM_MAX_SIZE, err);
		}
	}
	if (v->o.offline)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "RIM %s not found in %s and --offline forbids fetching it "
				   "(or use --no-rim to skip the golden comparison)",
				   id, v->o.rim_dir ? v->o.rim_dir : "(no --rim-dir)");
	{
		/* what the RIM service answered for an id is remembered (its content is still
		 * verified every time it is used) */
		const char *url = v->o.rim_url ? v->o.rim_url : DEFAULT_RIM_URL;
		cct_vcache *cache = cct_vcache_shared();
		cct_vcache_part parts[2] = { { url, strlen(url) }, { id, strlen(id) } };
		cct_vcache_entry *pin = NULL;
		uint8_t key[32];
		cct_slice *got;

		if (cache && !cct_vcache_key(key, "gpu-rim-fetched", parts, 2))
			cache = NULL;
		if (cache && (pin = cct_vcache_get(cache, key, 0)) != NULL) {
			got = cct_vcache_entry_obj(pin);
			*xml = malloc(got->size ? got->size : 1);
			if (*xml)
				memcpy(*xml, got->p, got->size);
			*len = got->size;
			cct_vcache_release(pin);
			snprintf(src, srcsz, "RIM service (remembered)");
			return *xml ? CCT_OK
				    : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0,
						  "out of memory");
		}
		rc = cct_nvgpu__rim_fetch(xml, len, url, id, err);
		if (rc == CCT_OK && cache) {
			got = malloc(sizeof(*got) + *len);
			if (got) {
				got->p = (uint8_t *)(got + 1);
				got->size = *len;
				memcpy((uint8_t *)(got + 1), *xml, *len);
				cct_vcache_release(cct_vcache_put(cache, key, CCT_VCACHE_FOREVER_LO,
								  CCT_VCACHE_FOREVER_HI, CCT_OK,
								  NULL, got, free));
			}
		}
	}
	if (rc == CCT_OK && v->o.cache_dir) {
		mkdir(v->o.cache_dir, 0700);
		snprintf(path, sizeof(path), "%s/%s.xml", v->o.cache_dir, id);
		cct_file_write(path, *xml, *len, 0, NULL); /* best effort */
	}
	snprintf(src, srcsz, "RIM service");
	return rc;
}

/* Parse + XML-DSig + signing chain at `at`, once per (RIM content, anchors) and window of the
 * chain's validity; failures are not remembered. */
static int get_rim(rim_entry **out, cct_nvgpu_verifier *v, const char *id, time_t at,
		   json_t *claims, const char *kp, cct_err *err)
{
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_entry *pin;
	rim_entry *re = NULL;
	uint8_t *xml = NULL, key[32];
	size_t len = 0;
	cct_rim *rim = NULL;
	STACK_OF(X509) *chain = NULL;
	time_t nb, na;
	int rc = CCT_ERROR;
	char src[4096], what[256], expiry[32];

	*out = NULL;
	snprintf(what, sizeof(what), "RIM %s", id);
	rc = load_rim_bytes(&xml, &len, v, id, src, sizeof(src), err);
	if (rc != CCT_OK) {
		if (err->stage == CCT_STAGE_INPUT)
			err->stage = CCT_STAGE_COLLATERAL;
		if (rc == CCT_EIO)
			rc = err->code = CCT_ECOLLATERAL;
		goto out;
	}
	kset(claims, kp, "-rim-fetched", json_true());
	{
		cct_vcache_part parts[2] = { { v->rim_roots_fp, 32 }, { xml, len } };

		if (cache && !cct_vcache_key(key, "gpu-rim", parts, 2))
			cache = NULL;
	}
	if (cache && (pin = cct_vcache_get(cache, key, at)) != NULL) {
		re = hold(v, pin);
		if (!re) {
			rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_COLLATERAL, 0,
					 "too many RIMs in one device's evidence");
			goto out;
		}
		kset(claims, kp, "-rim-schema-validated", json_true());
		kset(claims, kp, "-rim-signature-verified", json_true());
		*out = re;
		rc = CCT_OK;
		goto out;
	}
	rc = cct_rim_parse(&rim, xml, len, err);
	if (rc != CCT_OK)
		goto out;
	kset(claims, kp, "-rim-schema-validated", json_true());
	rc = cct_rim_verify_signature(rim, what, err);
	if (rc != CCT_OK) {
		kset(claims, kp, "-rim-signature-verified", json_false());
		goto out;
	}
	kset(claims, kp, "-rim-signature-verified", json_true());
	rc = cct_rim_verify_chain(&chain, rim, v->rim_roots, at, what, err);
	if (rc != CCT_OK) {
		char exp[32] = "";

		if (cct_x509_validity(sk_X509_value(rim->certs, 0), &nb, &na) == 0)
			cct_time_format(exp, sizeof(exp), na);
		kset(claims, kp, "-rim-cert-chain",
		     cert_chain_claims(status_for(rc), NULL, exp, NULL));
		goto out;
	}
	chain_window(chain, &nb, &na, expiry, sizeof(expiry));
	re = calloc(1, sizeof(*re));
	if (!re) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	re->rim = rim;
	re->chain = chain;
	memcpy(re->expiry, expiry, sizeof(expiry));
	rim = NULL;
	chain = NULL;
	if (at < nb || at > na)
		nb = na = at;
	*out = hold(v, cct_vcache_put(cache, key, nb, na, CCT_OK, NULL, re, rim_entry_free));
	rc = *out ? CCT_OK
		  : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0,
				"out of memory (or too many RIMs in one device's evidence)");
out:
	if (chain)
		sk_X509_pop_free(chain, X509_free);
	cct_rim_free(rim);
	free(xml);
	return rc;
}

/* Driver versions are decimal groups ("580.159.03"); VBIOS / switch BIOS versions are five
 * hex pairs ("96.00.74.00.20"). The form tells which kind of RIM a document is. */
static int is_driver_version(const char *v)
{
	int groups = 1;

	if (!isdigit((unsigned char)*v))
		return 0;
	for (; *v; v++) {
		if (*v == '.')
			groups++;
		else if (!isdigit((unsigned char)*v))
			return 0;
	}
	return groups >= 2 && groups <= 4;
}

static int is_bios_version(const char *v)
{
	int i;

	for (i = 0; i < 5; i++, v += 3)
		if (!isxdigit((unsigned char)v[0]) || !isxdigit((unsigned char)v[1]) ||
		    v[2] != (i == 4 ? '\0' : '.'))
			return 0;
	return 1;
}

/* The identity a RIM states (SoftwareIdentity tagId, Meta edition/product/PlatformModel/
 * colloquialVersion) against what the evidence asks for: the device kind (GPU or SWITCH),
 * its chip (from the device chain's model, "GH100 A01 GSP BROM" -> GH100, "LS_10 ..." -> LS10)
 * and the RIM kind (driver or VBIOS by the form of its version). A RIM for another chip, device
 * kind or RIM kind is refused, whatever its file was called. */
static int rim_identity(const cct_rim *rim, const char *what, const char *chip, int is_switch,
			int driver, json_t *claims, const char *kp, cct_err *err)
{
	const char *want_ed = is_switch ? "SWITCH" : "GPU";
	const char *kind = driver ? "driver" : is_switch ? "switch BIOS" : "VBIOS";
	int kind_ok = driver ? is_driver_version(rim->version) : is_bios_version(rim->version);
	int chip_ok = chip[0] && !strcasecmp(rim->product, chip) &&
		      (!rim->platform_model[0] || !strcasecmp(rim->platform_model, chip));

	kset(claims, kp, "-rim-tag-id", rim->tag_id[0] ? json_string(rim->tag_id) : json_null());
	kset(claims, kp, "-rim-product", json_string(rim->product));
	if (!rim->tag_id[0] || strcasecmp(rim->edition, want_ed) || !chip_ok || !kind_ok) {
		kset(claims, kp, "-rim-identity-match", json_false());
		if (!rim->tag_id[0])
			return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					   "%s: RIM has no SoftwareIdentity tagId", what);
		if (strcasecmp(rim->edition, want_ed) || !chip_ok)
			return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					   "%s: RIM is for a %s %s (PlatformModel %s) but the "
					   "device is a %s %s: a RIM for another device",
					   what, rim->edition[0] ? rim->edition : "(no edition)",
					   rim->product[0] ? rim->product : "(no product)",
					   rim->platform_model[0] ? rim->platform_model : "-",
					   want_ed, chip[0] ? chip : "(unknown chip)");
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "%s: RIM version '%s' is not a %s version: not a %s RIM", what,
				   rim->version, kind, kind);
	}
	kset(claims, kp, "-rim-identity-match", json_true());
	return CCT_OK;
}

static int rim_stage(rim_entry **out, cct_nvgpu_verifier *v, const char *id, const char *want_ver,
		     const char *role, const char *chip, int is_switch, int driver, time_t at,
		     json_t *claims, const char *kp, cct_err *err)
{
	rim_entry *re;
	const char *ocsp = NULL, *reason = NULL;
	char what[256];
	int rc;

	*out = NULL;
	kset(claims, kp, "-rim-id", json_string(id));
	rc = get_rim(&re, v, id, at, claims, kp, err);
	if (rc != CCT_OK)
		return rc;
	snprintf(what, sizeof(what), "%s RIM %s", role, id);
	/* a RIM signed under an overriding root (simulated TEE, tests) is marked */
	if (chain_root_pinned(re->chain, v->pinned_rim)) {
		kset(claims, kp, "-rim-root", json_string("pinned"));
	} else {
		kset(claims, kp, "-rim-root", json_string("untrusted-override"));
		json_object_set_new(claims, "x-cctrust-simulated", json_true());
	}
	rc = chain_ocsp(v, re->chain, at, what, &ocsp, &reason, err);
	kset(claims, kp, "-rim-cert-chain",
	     cert_chain_claims(rc == CCT_OK ? "valid" : status_for(rc), ocsp, re->expiry, reason));
	if (rc != CCT_OK)
		return rc;
	rc = rim_identity(re->rim, what, chip, is_switch, driver, claims, kp, err);
	if (rc != CCT_OK)
		return rc;
	if (strcasecmp(re->rim->version, want_ver) != 0) {
		kset(claims, kp, "-rim-version-match", json_false());
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "%s: RIM is for version %s but the evidence reports %s",
				   what, re->rim->version, want_ver);
	}
	kset(claims, kp, "-rim-version-match", json_true());
	kset(claims, kp, "-rim-measurements-available", json_boolean(re->rim->meas_count > 0));
	*out = re;
	return CCT_OK;
}

/* ---- golden comparison ---- */
static int golden_compare(const cct_spdm_evidence *sp, const cct_rim *a, const char *a_role,
			  const char *a_id, const cct_rim *b, const char *b_role,
			  const char *b_id, json_t *claims, const char *prefix, cct_err *err)
{
	json_t *mism = json_array();
	const cct_spdm_opaque_field *nvdec = cct_spdm_opaque_find(sp, CCT_NVOPQ_NVDEC0_STATUS);
	int nvdec_disabled = nvdec && nvdec->size >= 1 && nvdec->value[0] == 0x55;
	unsigned idx, conflicts = 0, first_conflict = 0;
	char first[200] = "";
	size_t nm;

	for (idx = 0; idx < 256; idx++) {
		const cct_rim_measurement *ma = a ? cct_rim_find(a, idx) : NULL;
		const cct_rim_measurement *mb = b ? cct_rim_find(b, idx) : NULL;
		const cct_rim_measurement *g;
		const char *role, *id;
		const cct_spdm_block *blk;
		unsigned k;
		int ok = 0;

		if (ma && !ma->active)
			ma = NULL;
		if (mb && !mb->active)
			mb = NULL;
		if (ma && mb) {
			if (!conflicts++)
				first_conflict = idx;
			continue;
		}
		g = ma ? ma : mb;
		role = ma ? a_role : b_role;
		id = ma ? a_id : b_id;
		if (!g)
			continue;
		if (idx == 35 && nvdec_disabled)
			continue; /* NVDEC0 disabled: its measurement is not appraised */
		blk = cct_spdm_block_find(sp, idx + 1);
		if (blk && blk->value && blk->value_size == CCT_RIM_HASH_SIZE)
			for (k = 0; k < g->alt_count && !ok; k++)
				ok = cct_ct_eq(blk->value, g->hash[k], CCT_RIM_HASH_SIZE);
		if (!ok) {
			json_t *m = json_object(), *exp = json_array();

			json_object_set_new(m, "index", json_integer(idx + 1));
			json_object_set_new(m, "rim-index", json_integer(idx));
			json_object_set_new(m, "rim", json_string(role));
			json_object_set_new(m, "rim-id", json_string(id));
			for (k = 0; k < g->alt_count; k++) {
				char h[97];

				cct_hex_encode(h, g->hash[k], CCT_RIM_HASH_SIZE);
				json_array_append_new(exp, json_string(h));
			}
			json_object_set_new(m, "expected", exp);
			if (blk && blk->value)
				cct_json__set_hex(m, "actual", blk->value, blk->value_size);
			else
				json_object_set_new(m, "actual", json_null());
			json_array_append_new(mism, m);
			if (!first[0])
				snprintf(first, sizeof(first), "index %u (%s RIM %s)", idx + 1,
					 role, id);
		}
	}
	if (b && a)
		kset(claims, prefix, "vbios-index-no-conflict", json_boolean(conflicts == 0));
	nm = json_array_size(mism);
	if (conflicts) {
		json_decref(mism);
		json_object_set_new(claims, "measres", json_string("failure"));
		return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
				   "driver and VBIOS RIMs both set measurement index %u "
				   "(%u conflicting indices)", first_conflict + 1, conflicts);
	}
	if (nm) {
		json_object_set_new(claims, "x-cctrust-mismatched-measurements", mism);
		json_object_set_new(claims, "measres", json_string("failure"));
		return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
				   "%zu measurement(s) differ from the RIMs, first at %s "
				   "(see x-cctrust-mismatched-measurements)", nm, first);
	}
	json_decref(mism);
	json_object_set_new(claims, "measres", json_string("success"));
	return CCT_OK;
}

/* VBIOS version: 8 bytes {u32le major word, u8 minor, ...} -> "96.00.74.00.20"; switches send
 * ASCII already. */
static void vbios_version(const cct_spdm_opaque_field *f, char *buf, size_t size)
{
	buf[0] = '\0';
	if (!f)
		return;
	cct_spdm_opaque_text(f, buf, size);
	if (buf[0] && strchr(buf, '.'))
		return;
	if (f->size >= 5) {
		uint32_t w = (uint32_t)f->value[0] | (uint32_t)f->value[1] << 8 |
			     (uint32_t)f->value[2] << 16 | (uint32_t)f->value[3] << 24;

		snprintf(buf, size, "%02X.%02X.%02X.%02X.%02X", (w >> 24) & 0xff,
			 (w >> 16) & 0xff, (w >> 8) & 0xff, w & 0xff, f->value[4]);
	} else {
		buf[0] = '\0';
	}
}

/* ---- one device ---- */
static int verify_device(json_t **claims_out, cct_nvgpu_verifier *v, const cct_nvgpu_entry *e,
			 size_t idx, const uint8_t *nonce, time_t at, cct_err *err)
{
	int rc = CCT_ERROR, is_switch = !strcmp(e->arch, "LS10");
	const char *kp = is_switch ? "x-nvidia-switch" : "x-nvidia-gpu";
	char prefix[40], buf[200], drv[64] = "", vb[64] = "", warn[512] = "";
	json_t *c = json_object(), *skipped = json_array();
	cct_spdm_evidence *sp = NULL;
	chain_entry *ce = NULL;
	const char *ocsp = NULL, *reason = NULL;
	const cct_spdm_opaque_field *f;
	uint8_t dgst[48];
	rim_entry *r_drv = NULL, *r_vb = NULL;
	char drv_id[160] = "", vb_id[160] = "", dev_chip[32] = "";
	size_t k;

	snprintf(prefix, sizeof(prefix), "%s-", kp);
	json_object_set_new(c, "x-cctrust-arch", json_string(e->arch));
	/* No evidence field states the secure-boot or debug state of a GPU (matching golden
	 * measurements says which firmware runs, not these): never claimed, always unknown. */
	json_object_set_new(c, "secboot", json_string("unknown"));
	json_object_set_new(c, "dbgstat", json_string("unknown"));
	if (e->uuid[0])
		json_object_set_new(c, "x-cctrust-uuid", json_string(e->uuid));
	if (!arch_known(e->arch)) {
		kset(c, prefix, "arch-check", json_false());
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "arch \"%s\" is not HOPPER, BLACKWELL or LS10", e->arch);
		goto out;
	}
	/* parse */
	sp = malloc(sizeof(*sp));
	if (!sp) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_PARSE, 0, "out of memory");
		goto out;
	}
	rc = cct_spdm_evidence_parse(sp, e->evidence, e->evidence_size, err);
	kset(c, prefix, "attestation-report-parsed", json_boolean(rc == CCT_OK));
	if (rc != CCT_OK)
		goto out;
	/* zero padding after the signature: accepted, not signed, reported */
	json_object_set_new(c, "x-cctrust-evidence-padding", json_integer((json_int_t)sp->padding_size));
	cct_json__set_hex(c, "eat_nonce", sp->req_nonce, CCT_SPDM_NONCE_SIZE);
	f = cct_spdm_opaque_find(sp, CCT_NVOPQ_DRIVER_VERSION);
	cct_spdm_opaque_text(f, drv, sizeof(drv));
	vbios_version(cct_spdm_opaque_find(sp, CCT_NVOPQ_VBIOS_VERSION), vb, sizeof(vb));
	if (!is_switch)
		kset(c, prefix, "driver-version", drv[0] ? json_string(drv) : json_null());
	kset(c, prefix, is_switch ? "bios-version" : "vbios-version",
	     vb[0] ? json_string(vb) : json_null());
	f = cct_spdm_opaque_find(sp, CCT_NVOPQ_FEATURE_FLAG);
	if (f) {
		/* OPAQUE_FIELD_ID_FEATURE_FLAG: a little-endian integer of 1..8 bytes (NVIDIA's and
		 * Trustee's parsers): 0 SPT, 1 MPT, 2 PPCIE; absent: a pre-flag ("legacy") firmware */
		static const char *const modes[] = { "SPT", "MPT", "PPCIE" };
		uint64_t flag = 0;
		size_t k;
		const char *m;

		if (f->size == 0 || f->size > 8) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, f->offset,
					 "device %zu: opaque FEATURE_FLAG has %u bytes (1..8 expected)",
					 idx, f->size);
			goto out;
		}
		for (k = f->size; k-- > 0;)
			flag = (flag << 8) | f->value[k];
		m = flag < 3 ? modes[flag] : "unknown";
		json_object_set_new(c, "x-cctrust-feature-flag", json_string(m));
		json_object_set_new(c, "x-cctrust-ppcie-mode", json_boolean(flag == 2));
	}
	/* device chain */
	rc = device_chain(&ce, v, e, at, err);
	if (rc != CCT_OK) {
		kset(c, prefix, "attestation-report-cert-chain",
		     cert_chain_claims(status_for(rc), NULL, NULL, NULL));
		goto out;
	}
	json_object_set_new(c, "hwmodel", json_string(ce->hwmodel));
	json_object_set_new(c, "ueid", json_string(ce->ueid));
	/* chip of the device (first word of the model, "LS_10" -> "LS10"): names its RIMs */
	for (k = 0; ce->hwmodel[k] && ce->hwmodel[k] != ' ' && strlen(dev_chip) + 1 < sizeof(dev_chip);
	     k++)
		if (ce->hwmodel[k] != '_')
			dev_chip[strlen(dev_chip)] = ce->hwmodel[k];
	/* a chain that ends at an overriding root (simulated TEE, tests) is marked */
	if (chain_root_pinned(ce->chain, v->pinned_device)) {
		json_object_set_new(c, "x-cctrust-device-root", json_string("pinned"));
	} else {
		json_object_set_new(c, "x-cctrust-device-root", json_string("untrusted-override"));
		json_object_set_new(c, "x-cctrust-simulated", json_true());
	}
	kset(c, prefix, "arch-check", json_boolean(arch_matches_model(e->arch, ce->hwmodel)));
	if (!arch_matches_model(e->arch, ce->hwmodel)) {
		rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_CHAIN, 0,
				 "arch %s does not match the device model '%s' of the chain",
				 e->arch, ce->hwmodel);
		goto out;
	}
	snprintf(buf, sizeof(buf), "device %zu chain", idx);
	if (v->o.no_ocsp)
		cct_json__append_string_once(skipped, "ocsp");
	rc = chain_ocsp(v, ce->chain, at, buf, &ocsp, &reason, err);
	kset(c, prefix, "attestation-report-cert-chain",
	     cert_chain_claims(rc == CCT_OK ? "valid" : status_for(rc), ocsp, ce->expiry, reason));
	if (rc != CCT_OK)
		goto out;
	/* signature: SHA-384(request || response without signature), raw r||s */
	cct_sha384(sp->signed_bytes, sp->signed_size, dgst);
	if (!cct_ecdsa_verify_digest_rs(ce->leaf_key, dgst, sizeof(dgst), sp->sig, sp->sig + 48,
					48, 0)) {
		kset(c, prefix, "attestation-report-signature-verified", json_false());
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, sp->sig_offset,
				 "device %zu: SPDM signature at offset 0x%zx does not verify with "
				 "the leaf key of its chain", idx, sp->sig_offset);
		goto out;
	}
	kset(c, prefix, "attestation-report-signature-verified", json_true());
	/* a GPU signs a GET_MEASUREMENTS report carrying NVIDIA's opaque data only with
	 * confidential computing enabled: the verified report itself shows CC on (the opaque data
	 * does not tell "on" from "devtools"; see rules.c gpu.cc_mode) */
	json_object_set_new(c, "x-cctrust-cc-mode", json_string("on"));
	/* FWID of the leaf vs the signed opaque FWID */
	f = cct_spdm_opaque_find(sp, CCT_NVOPQ_FWID);
	if (ce->has_fwid < 0) {
		kset(c, prefix, "attestation-report-cert-chain-fwid-match", json_false());
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_CHAIN, 0,
				 "leaf certificate FWID extension does not decode");
		goto out;
	}
	if (f && ce->has_fwid == 1) {
		if (f->size != 48 || !cct_ct_eq(f->value, ce->fwid, 48)) {
			kset(c, prefix, "attestation-report-cert-chain-fwid-match", json_false());
			rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, f->offset,
					 "device %zu: opaque FWID differs from the leaf "
					 "certificate's FWID (DICE TcbInfo)", idx);
			goto out;
		}
		kset(c, prefix, "attestation-report-cert-chain-fwid-match", json_true());
	} else if (f && ce->has_fwid == 0) {
		kset(c, prefix, "attestation-report-cert-chain-fwid-match", json_false());
		rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				 "device %zu: evidence carries an FWID but the leaf certificate "
				 "has no FWID extension", idx);
		goto out;
	} else {
		kset(c, prefix, "attestation-report-cert-chain-fwid-match", json_null());
		cct_json__append_string_once(skipped, "fwid");
		snprintf(warn + strlen(warn), sizeof(warn) - strlen(warn),
			 "%sevidence has no opaque FWID; firmware identity bound only by the "
			 "signature", warn[0] ? "; " : "");
	}
	/* nonce: only an expected nonce from the caller establishes freshness (the "nonce" of
	 * the evidence file is the attester's word, never compared against itself) */
	if (!nonce) {
		kset(c, prefix, "attestation-report-nonce-match", json_string("not_checked"));
		json_object_set_new(c, "x-cctrust-freshness", json_string("not-established"));
		cct_json__append_string_once(skipped, "nonce");
		if (!v->o.no_nonce) {
			rc = cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 4,
					 "device %zu: no expected nonce: give --nonce HEX (or "
					 "--no-nonce to accept evidence whose freshness is not "
					 "established)", idx);
			goto out;
		}
		snprintf(warn + strlen(warn), sizeof(warn) - strlen(warn),
			 "%sno expected nonce (--no-nonce): freshness not established",
			 warn[0] ? "; " : "");
	} else if (!cct_ct_eq(nonce, sp->req_nonce, CCT_SPDM_NONCE_SIZE)) {
		char want[65], got[65];

		cct_hex_encode(want, nonce, 32);
		cct_hex_encode(got, sp->req_nonce, 32);
		kset(c, prefix, "attestation-report-nonce-match", json_false());
		rc = cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 4,
				 "device %zu: SPDM request nonce %s differs from the expected %s",
				 idx, got, want);
		goto out;
	} else {
		kset(c, prefix, "attestation-report-nonce-match", json_true());
		json_object_set_new(c, "x-cctrust-freshness", json_string("established"));
	}
	/* RIMs */
	if (v->o.no_rim) {
		cct_json__append_string_once(skipped, "rim");
		json_object_set_new(c, "measres", json_string("skipped"));
		snprintf(warn + strlen(warn), sizeof(warn) - strlen(warn),
			 "%s--no-rim: measurements not appraised", warn[0] ? "; " : "");
		rc = CCT_OK;
		goto out;
	}
	if (is_switch) {
		char ver[64];

		cct_rim_id_version(ver, sizeof(ver), vb);
		snprintf(vb_id, sizeof(vb_id), "%s%s", LS10_RIM_PREFIX, ver);
		rc = rim_stage(&r_vb, v, vb_id, vb, "switch BIOS", dev_chip, 1, 0, at, c,
			       "x-nvidia-switch-bios", err);
		if (rc != CCT_OK)
			goto out;
		json_object_set_new(c, "oemid", r_vb->rim->manufacturer_id[0]
						     ? json_string(r_vb->rim->manufacturer_id)
						     : json_null());
		rc = golden_compare(sp, r_vb->rim, "switch BIOS", vb_id, NULL, NULL, NULL, c,
				    "x-nvidia-switch-", err);
		goto out;
	}
	{
		char proj[24] = "", psku[24] = "", csku[24] = "", chip[24] = "", ver[40];

		if (!drv[0] || !vb[0]) {
			rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					 "device %zu: evidence lacks the driver or VBIOS version "
					 "that names its RIMs", idx);
			goto out;
		}
		cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_PROJECT), proj, sizeof(proj));
		cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_PROJECT_SKU), psku,
				     sizeof(psku));
		cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_CHIP_SKU), csku,
				     sizeof(csku));
		cct_spdm_opaque_text(cct_spdm_opaque_find(sp, CCT_NVOPQ_CHIP_INFO), chip,
				     sizeof(chip));
		if (!strcmp(e->arch, "BLACKWELL"))
			snprintf(drv_id, sizeof(drv_id), "NV_GPU_CC_DRIVER_%s_%s",
				 chip[0] ? chip : "GB100", drv);
		else
			snprintf(drv_id, sizeof(drv_id), "NV_GPU_DRIVER_GH100_%s", drv);
		cct_rim_id_version(ver, sizeof(ver), vb);
		snprintf(vb_id, sizeof(vb_id), "NV_GPU_VBIOS_%s_%s_%s_%s", proj, psku, csku, ver);
		rc = rim_stage(&r_drv, v, drv_id, drv, "driver", dev_chip, 0, 1, at, c,
			       "x-nvidia-gpu-driver", err);
		if (rc != CCT_OK)
			goto out;
		rc = rim_stage(&r_vb, v, vb_id, vb, "VBIOS", dev_chip, 0, 0, at, c, "x-nvidia-gpu-vbios",
			       err);
		if (rc != CCT_OK)
			goto out;
		json_object_set_new(c, "oemid", r_drv->rim->manufacturer_id[0]
						     ? json_string(r_drv->rim->manufacturer_id)
						     : json_null());
		rc = golden_compare(sp, r_drv->rim, "driver", drv_id, r_vb->rim, "VBIOS", vb_id, c,
				    "x-nvidia-gpu-", err);
	}
out:
	if (rc != CCT_OK) {
		/* refused before a later stage: what the options turn off there was not checked
		 * either, and measurements opted out of were not compared (not "failure") */
		if (!nonce)
			cct_json__append_string_once(skipped, "nonce");
		if (v->o.no_ocsp)
			cct_json__append_string_once(skipped, "ocsp");
		if (v->o.no_rim) {
			cct_json__append_string_once(skipped, "rim");
			if (!json_object_get(c, "measres"))
				json_object_set_new(c, "measres", json_string("skipped"));
		}
	}
	json_object_set_new(c, "x-nvidia-attestation-warning",
			    warn[0] ? json_string(warn) : json_null());
	json_object_set_new(c, "x-cctrust-checks-skipped", skipped);
	if (!json_object_get(c, "x-cctrust-simulated"))
		json_object_set_new(c, "x-cctrust-simulated", json_false());
	if (rc != CCT_OK && !json_object_get(c, "measres"))
		json_object_set_new(c, "measres", json_string("failure"));
	free(sp);
	unpin_all(v);
	*claims_out = c;
	return rc;
}

/* ---- policy: nvtrust "authorization-rules" ---- */
static int json_subset(json_t *want, json_t *have)
{
	const char *k;
	json_t *w;

	if (json_is_object(want)) {
		if (!json_is_object(have))
			return 0;
		json_object_foreach(want, k, w)
			if (!json_subset(w, json_object_get(have, k)))
				return 0;
		return 1;
	}
	return have && json_equal(want, have);
}

static int apply_policy(json_t *policy, json_t *overall, json_t *gpus, cct_err *err)
{
	json_t *rules = json_object_get(policy, "authorization-rules"), *oc, *dc, *w;
	const char *k;
	size_t i;

	if (!json_is_object(rules))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "policy has no \"authorization-rules\" object");
	oc = json_object_get(rules, "overall-claims");
	json_object_foreach(oc, k, w) {
		if (!strcmp(k, "iss") || !strcmp(k, "x-nvidia-ver"))
			continue; /* token metadata, not attestation facts */
		if (!json_subset(w, json_object_get(overall, k)))
			return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
					   "policy: overall claim \"%s\" does not match", k);
	}
	dc = json_object_get(rules, "detached-claims");
	for (i = 0; i < json_array_size(gpus); i++) {
		json_t *g = json_array_get(gpus, i);

		json_object_foreach(dc, k, w)
			if (!json_subset(w, json_object_get(g, k)))
				return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
						   "policy: device %zu claim \"%s\" does not "
						   "match the policy", i, k);
	}
	return CCT_OK;
}

int cct_nvgpu__verify_claims(json_t **claims_out, cct_nvgpu_verifier *v,
			     const cct_nvgpu_evidence_list *ev, const uint8_t *nonce,
			     size_t nonce_size, cct_err *err)
{
	int rc = CCT_ERROR, first = CCT_OK;
	json_t *all = json_object(), *gpus = json_array(), *pc, *pa;
	time_t at = now_or(v);
	cct_err e1;
	size_t i, j;
	int want_count = v->o.expected_count;
	const char *want_arch = v->o.expected_arch;

	if (claims_out)
		*claims_out = NULL;
	cct_err_clear(err);
	if (!ev || ev->count == 0) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no device evidence");
		goto out;
	}
	if (nonce && nonce_size != CCT_SPDM_NONCE_SIZE) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "expected nonce must be 32 bytes (got %zu)", nonce_size);
		goto out;
	}
	for (i = 0; i < ev->count; i++) {
		json_t *c = NULL;

		cct_err_clear(&e1);
		rc = verify_device(&c, v, &ev->e[i], i, nonce, at, &e1);
		json_array_append_new(gpus, c);
		if (rc != CCT_OK && first == CCT_OK) {
			first = rc;
			if (err) {
				*err = e1;
				if (ev->count > 1 && !strstr(e1.msg, "device ")) {
					char m[CCT_ERR_MSG_SIZE];

					snprintf(m, sizeof(m), "device %zu: %.200s", i, e1.msg);
					memcpy(err->msg, m, sizeof(m));
				}
			}
		}
	}
	if (first == CCT_OK) {
		/* one device presented twice proves nothing about a second device */
		for (i = 0; i < ev->count && first == CCT_OK; i++)
			for (j = i + 1; j < ev->count && first == CCT_OK; j++) {
				const char *a = json_string_value(
					json_object_get(json_array_get(gpus, i), "ueid"));
				const char *b = json_string_value(
					json_object_get(json_array_get(gpus, j), "ueid"));

				if (a && b && !strcmp(a, b) && !v->o.allow_duplicate_ueid_insecure)
					first = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
							    "devices %zu and %zu have the same UEID "
							    "%s (one device presented twice)",
							    i, j, a);
			}
	}
	pc = v->policy ? json_object_get(v->policy, "x-cctrust-expected-count") : NULL;
	pa = v->policy ? json_object_get(v->policy, "x-cctrust-expected-arch") : NULL;
	if (json_is_integer(pc) && !want_count)
		want_count = (int)json_integer_value(pc);
	if (json_is_string(pa) && !want_arch)
		want_arch = json_string_value(pa);
	if (first == CCT_OK && want_count && (size_t)want_count != ev->count)
		first = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				    "policy expects %d devices, evidence has %zu", want_count,
				    ev->count);
	for (i = 0; first == CCT_OK && want_arch && i < ev->count; i++)
		if (strcasecmp(ev->e[i].arch, want_arch))
			first = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
					    "policy expects arch %s, device %zu is %s", want_arch,
					    i, ev->e[i].arch);
	json_object_set_new(all, "x-nvidia-overall-att-result", json_boolean(first == CCT_OK));
	{ /* what the verdict does not rest on: union of the devices' skipped checks; marks */
		json_t *sk = json_array(), *g, *x;
		size_t gi, xi;
		int sim = 0, fresh = 1;

		json_array_foreach(gpus, gi, g) {
			json_array_foreach(json_object_get(g, "x-cctrust-checks-skipped"), xi, x)
				cct_json__append_string_once(sk, json_string_value(x));
			sim |= json_is_true(json_object_get(g, "x-cctrust-simulated"));
			fresh &= json_is_true(json_object_get(
					 g, "x-nvidia-gpu-attestation-report-nonce-match")) ||
				 json_is_true(json_object_get(
					 g, "x-nvidia-switch-attestation-report-nonce-match"));
		}
		json_object_set_new(all, "checks_skipped", sk);
		json_object_set_new(all, "x-cctrust-simulated", json_boolean(sim));
		json_object_set_new(all, "x-cctrust-freshness",
				    json_string(fresh && ev->count ? "established" : "not-established"));
	}
	json_object_set_new(all, "gpus", gpus);
	gpus = NULL;
	if (first == CCT_OK && v->policy) {
		first = apply_policy(v->policy, all, json_object_get(all, "gpus"), err);
		if (first != CCT_OK)
			json_object_set_new(all, "x-nvidia-overall-att-result", json_false());
	}
	rc = first;
out:
	json_decref(gpus);
	if (claims_out && rc != CCT_EINVAL) {
		*claims_out = all;
		all = NULL;
	}
	json_decref(all);
	return rc;
}

int cct_nvgpu_verify(char **claims_json_out, cct_nvgpu_verifier *v,
		     const cct_nvgpu_evidence_list *ev, const uint8_t *nonce, size_t nonce_size,
		     cct_err *err)
{
	json_t *c = NULL;
	int rc = cct_nvgpu__verify_claims(&c, v, ev, nonce, nonce_size, err);

	if (claims_json_out)
		*claims_json_out = c ? json_dumps(c, JSON_COMPACT) : NULL;
	json_decref(c);
	return rc;
}

int cct_nvgpu_rim_check(char **info_json_out, cct_nvgpu_verifier *v, const uint8_t *xml,
			size_t len, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_rim *rim = NULL;
	STACK_OF(X509) *chain = NULL;
	json_t *o = json_object(), *ms = json_array();
	time_t at = now_or(v), nb, na;
	const char *ocsp = NULL, *reason = NULL;
	char t[32], cn[128];
	size_t i;
	unsigned k;

	if (info_json_out)
		*info_json_out = NULL;
	rc = cct_rim_parse(&rim, xml, len, err);
	if (rc != CCT_OK)
		goto out;
	json_object_set_new(o, "name", json_string(rim->name));
	json_object_set_new(o, "tag-id", json_string(rim->tag_id));
	json_object_set_new(o, "version", json_string(rim->version));
	json_object_set_new(o, "product", json_string(rim->product));
	json_object_set_new(o, "edition", json_string(rim->edition));
	json_object_set_new(o, "manufacturer-id", json_string(rim->manufacturer_id));
	cct_x509_subject_cn(sk_X509_value(rim->certs, 0), cn, sizeof(cn));
	json_object_set_new(o, "signer", json_string(cn));
	if (cct_x509_validity(sk_X509_value(rim->certs, 0), &nb, &na) == 0) {
		cct_time_format(t, sizeof(t), nb);
		json_object_set_new(o, "signer-not-before", json_string(t));
		cct_time_format(t, sizeof(t), na);
		json_object_set_new(o, "signer-not-after", json_string(t));
	}
	for (i = 0; i < rim->meas_count; i++) {
		json_t *m = json_object(), *h = json_array();

		json_object_set_new(m, "index", json_integer(rim->meas[i].index));
		json_object_set_new(m, "active", json_boolean(rim->meas[i].active));
		for (k = 0; k < rim->meas[i].alt_count; k++) {
			char hx[97];

			cct_hex_encode(hx, rim->meas[i].hash[k], CCT_RIM_HASH_SIZE);
			json_array_append_new(h, json_string(hx));
		}
		json_object_set_new(m, "hashes", h);
		json_array_append_new(ms, m);
	}
	json_object_set_new(o, "measurements", ms);
	ms = NULL;
	rc = cct_rim_verify_signature(rim, "RIM", err);
	json_object_set_new(o, "signature-verified", json_boolean(rc == CCT_OK));
	if (rc != CCT_OK)
		goto out;
	rc = cct_rim_verify_chain(&chain, rim, v->rim_roots, at, "RIM signing chain", err);
	json_object_set_new(o, "cert-chain", json_string(rc == CCT_OK ? "valid" : status_for(rc)));
	if (rc != CCT_OK)
		goto out;
	rc = chain_ocsp(v, chain, at, "RIM signing chain", &ocsp, &reason, err);
	json_object_set_new(o, "ocsp", json_string(ocsp ? ocsp : "unavailable"));
	if (reason)
		json_object_set_new(o, "revocation-reason", json_string(reason));
out:
	json_object_set_new(o, "verified", json_boolean(rc == CCT_OK));
	if (info_json_out)
		*info_json_out = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	json_decref(ms);
	if (chain)
		sk_X509_pop_free(chain, X509_free);
	cct_rim_free(rim);
	return rc;
}
