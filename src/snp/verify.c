/* SEV-SNP verification: VCEK/VLEK chain to a pinned ARK, CRL, report signature, binding of the
 * endorsement key's TCB and hwID to the report. Policy checks are in policy.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "cctrust/snp.h"
#include "cctrust/collateral.h"
#include "collateral/fetch.h"
#include "snp/amd_roots.h"
#include "x509/vcache.h"
#include "snp/snp_coll.h"
#include "x509/x509.h"

/* AMD VCEK/VLEK certificate extensions (AMD "VCEK certificate and KDS interface spec"). */
#define OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"
#define OID_BL_SPL "1.3.6.1.4.1.3704.1.3.1"
#define OID_TEE_SPL "1.3.6.1.4.1.3704.1.3.2"
#define OID_SNP_SPL "1.3.6.1.4.1.3704.1.3.3"
#define OID_UCODE_SPL "1.3.6.1.4.1.3704.1.3.8"
#define OID_FMC_SPL "1.3.6.1.4.1.3704.1.3.9"
#define OID_HWID "1.3.6.1.4.1.3704.1.4"

/* outcome of one chain check: remembered process-wide (x509/vcache) per every input (leaf,
 * intermediates, anchors, CRLs, flags) and the window of times it holds for */
typedef struct {
	int rc;
	cct_err err;
	EVP_PKEY *key;
	cct_snp_product product;
	int simulated;
	int crl_checked;
} chain_entry;

/* certificates and CRLs offered to a verifier, sorted by role */
typedef struct {
	STACK_OF(X509) *intermediates; /* ASK / ASVK */
	STACK_OF(X509) *leaves;        /* VCEK / VLEK */
	STACK_OF(X509) *offered_arks;  /* roots: never trusted, must match a pin */
	STACK_OF(X509_CRL) *crls;
} cert_set;

struct cct_snp_verifier {
	time_t at;
	int crl_check;
	int offline;
	char *coll_dir;
	const cct_collateral_source *source; /* bundle / cache queried before KDS */
	cct_coll_bundle *own_bundle;         /* --collateral BUNDLE opened by the verifier */
	cct_collateral_source own_src;
	char kds_url[256];
	STACK_OF(X509) *arks;          /* trust anchors */
	int *ark_product;              /* parallel to arks */
	int *ark_sim;                  /* parallel to arks: trusted with _insecure */
	int ark_cap;
	/* for every report: the pinned ASKs/ASVKs, what the operator gave (--certs) and the
	 * collateral fetched (VCEKs, CRLs); only grows */
	cert_set held;
	/* the certificate table of the report verified next (_add_cert_table): it vouches for
	 * that report alone and is dropped when its cct_snp_verify returns */
	cert_set evidence;
	/* bit (product * 2 + vlek) * 2 + network: the collateral CRL was looked up (part of the
	 * cache key: an outcome is reused only where the same collateral was consulted) */
	unsigned crl_fetched;
	int skip_cache_once; /* cct_snp_verifier_clear_cache: re-verify the next chain */
	/* hash of every verifier-wide input of a chain check, valid while the certificate and CRL
	 * sets keep these sizes and neither a setter ran nor the evidence was dropped */
	uint8_t ctx_key[32];
	int ctx_counts[7];
	int ctx_valid;
};

static int cert_set_init(cert_set *cs)
{
	cs->intermediates = sk_X509_new_null();
	cs->leaves = sk_X509_new_null();
	cs->offered_arks = sk_X509_new_null();
	cs->crls = sk_X509_CRL_new_null();
	return cs->intermediates && cs->leaves && cs->offered_arks && cs->crls;
}

static void cert_set_free(cert_set *cs)
{
	sk_X509_pop_free(cs->intermediates, X509_free);
	sk_X509_pop_free(cs->leaves, X509_free);
	sk_X509_pop_free(cs->offered_arks, X509_free);
	sk_X509_CRL_pop_free(cs->crls, X509_CRL_free);
}

/* Forget the certificate table of the report just verified (or refused). */
static void drop_evidence(cct_snp_verifier *v)
{
	X509 *x;
	X509_CRL *c;
	int dropped = 0;

	while ((x = sk_X509_pop(v->evidence.intermediates)) && ++dropped)
		X509_free(x);
	while ((x = sk_X509_pop(v->evidence.leaves)) && ++dropped)
		X509_free(x);
	while ((x = sk_X509_pop(v->evidence.offered_arks)) && ++dropped)
		X509_free(x);
	while ((c = sk_X509_CRL_pop(v->evidence.crls)) && ++dropped)
		X509_CRL_free(c);
	if (dropped)
		v->ctx_valid = 0; /* the next table may have the same sizes */
}

/* v->ctx_valid = 0 for a setter: also looks the collateral CRLs up again */
static void settings_changed(cct_snp_verifier *v)
{
	v->ctx_valid = 0;
	v->crl_fetched = 0;
}

static int push_ark(cct_snp_verifier *v, X509 *x, cct_snp_product p, int sim)
{
	int n = sk_X509_num(v->arks);

	if (n >= v->ark_cap) {
		int cap = v->ark_cap ? v->ark_cap * 2 : 8;
		int *np = realloc(v->ark_product, sizeof(int) * (size_t)cap);
		int *ns;

		if (!np)
			return -1;
		v->ark_product = np;
		ns = realloc(v->ark_sim, sizeof(int) * (size_t)cap);
		if (!ns)
			return -1;
		v->ark_sim = ns;
		v->ark_cap = cap;
	}
	v->ark_product[n] = (int)p;
	v->ark_sim[n] = sim;
	sk_X509_push(v->arks, x);
	return 0;
}

/* the pinned AMD certificates, parsed once per process (immutable; shared by reference) */
static X509 **pinned;
static pthread_once_t pinned_once = PTHREAD_ONCE_INIT;

static void pinned_parse(void)
{
	size_t i;

	pinned = calloc(cct_snp_amd_cert_count ? cct_snp_amd_cert_count : 1, sizeof(*pinned));
	for (i = 0; pinned && i < cct_snp_amd_cert_count; i++) {
		BIO *bio = BIO_new_mem_buf(cct_snp_amd_certs[i].pem, -1);

		pinned[i] = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		cct_x509_freeze(pinned[i]); /* shared by every thread from here on */
		BIO_free(bio);
	}
	ERR_clear_error();
}

X509 *cct_snp__amd_cert_x509(size_t i)
{
	pthread_once(&pinned_once, pinned_parse);
	return pinned && i < cct_snp_amd_cert_count ? pinned[i] : NULL;
}

int cct_snp_verifier_new(cct_snp_verifier **out, cct_err *err)
{
	cct_snp_verifier *v = calloc(1, sizeof(*v));
	size_t i;

	*out = NULL;
	if (!v)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	v->at = time(NULL);
	v->crl_check = 1;
	/* CCTRUST_KDS_URL points at a KDS mirror (or a local test server) */
	snprintf(v->kds_url, sizeof(v->kds_url), "%s",
		 getenv("CCTRUST_KDS_URL") ? getenv("CCTRUST_KDS_URL") : "https://kdsintf.amd.com");
	v->arks = sk_X509_new_null();
	if (!cert_set_init(&v->held) || !cert_set_init(&v->evidence) || !v->arks) {
		cct_snp_verifier_free(v);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	for (i = 0; i < cct_snp_amd_cert_count; i++) {
		const cct_snp_amd_cert *c = &cct_snp_amd_certs[i];
		X509 *x = cct_snp__amd_cert_x509(i);

		if (!x || !X509_up_ref(x)) {
			cct_snp_verifier_free(v);
			return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
					   "pinned AMD certificate %zu does not decode", i);
		}
		if (!strcmp(c->kind, "ark"))
			push_ark(v, x, c->product, 0);
		else
			sk_X509_push(v->held.intermediates, x);
	}
	*out = v;
	return CCT_OK;
}

void cct_snp_verifier_free(cct_snp_verifier *v)
{
	if (!v)
		return;
	sk_X509_pop_free(v->arks, X509_free);
	cert_set_free(&v->held);
	cert_set_free(&v->evidence);
	free(v->ark_product);
	free(v->ark_sim);
	free(v->coll_dir);
	cct_coll_bundle_free(v->own_bundle);
	free(v);
}

void cct_snp_verifier_clear_cache(cct_snp_verifier *v)
{
	v->skip_cache_once = 1;
}

void cct_snp_verifier_set_time(cct_snp_verifier *v, time_t at)
{
	v->at = at;
}

void cct_snp_verifier_set_crl_check(cct_snp_verifier *v, int on)
{
	settings_changed(v);
	v->crl_check = on;
}

void cct_snp_verifier_set_offline(cct_snp_verifier *v, int offline)
{
	settings_changed(v);
	v->offline = offline;
}

void cct_snp_verifier_set_kds_url(cct_snp_verifier *v, const char *url)
{
	settings_changed(v);
	snprintf(v->kds_url, sizeof(v->kds_url), "%s", url);
}

void cct_snp_verifier_set_collateral_source(cct_snp_verifier *v,
					     const cct_collateral_source *src)
{
	settings_changed(v);
	v->source = src;
}

int cct_snp_verifier_set_collateral_dir(cct_snp_verifier *v, const char *dir, cct_err *err)
{
	/* "" (an unset variable) made the cache paths "/vcek/..." and "/crl/...": KDS answers
	 * would have been written at the file system's root */
	if (!dir || !dir[0])
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "the collateral directory is an empty path");
	settings_changed(v);
	if (cct_coll_is_bundle(dir)) {
		/* a collateral bundle (docs/collateral.md): read-only, looked up by key */
		int rc;

		cct_coll_bundle_free(v->own_bundle);
		v->own_bundle = NULL;
		rc = cct_coll_bundle_open(&v->own_bundle, dir, 0, err);
		if (rc != CCT_OK)
			return rc;
		cct_coll_bundle_source(&v->own_src, v->own_bundle);
		v->source = &v->own_src;
		return CCT_OK;
	}
	free(v->coll_dir);
	v->coll_dir = strdup(dir);
	if (!v->coll_dir)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	return CCT_OK;
}

static int is_self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

static int have_cert(STACK_OF(X509) *sk, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return 1;
	return 0;
}

/* Sort offered certificates into ARKs, intermediates and leaves; takes ownership. */
static void classify(cert_set *cs, STACK_OF(X509) *sk)
{
	X509 *x;

	while ((x = sk_X509_shift(sk))) {
		STACK_OF(X509) *dst;

		if (is_self_signed(x))
			dst = cs->offered_arks;
		else if (X509_check_ca(x) > 0)
			dst = cs->intermediates;
		else
			dst = cs->leaves;
		if (have_cert(dst, x))
			X509_free(x);
		else
			sk_X509_push(dst, x);
	}
}

static int add_certs_to(cert_set *cs, const uint8_t *buf, size_t len, cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int rc;

	if (!sk)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	rc = cct_x509_parse_certs(sk, cs->crls, buf, len, "certificates", err);
	classify(cs, sk);
	sk_X509_free(sk);
	return rc;
}

int cct_snp_verifier_add_certs(cct_snp_verifier *v, const uint8_t *buf, size_t len, cct_err *err)
{
	return add_certs_to(&v->held, buf, len, err);
}

int cct_snp_verifier_add_certs_path(cct_snp_verifier *v, const char *path, cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int rc;

	if (!sk)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	rc = cct_x509_load_path(sk, v->held.crls, path, err);
	classify(&v->held, sk);
	sk_X509_free(sk);
	return rc;
}

typedef struct {
	cct_snp_verifier *v;
	cct_err *err;
} table_ctx;

/* Every entry the table names as an AMD certificate or CRL must decode: a corrupt entry means the
 * evidence was altered in transit, and is refused rather than skipped. */
static int on_table_entry(void *ctx, const char *guid, const uint8_t *p, size_t n)
{
	table_ctx *t = ctx;
	const char *what = !strcmp(guid, CCT_SNP_GUID_ARK)    ? "ARK"
			   : !strcmp(guid, CCT_SNP_GUID_ASK)  ? "ASK/ASVK"
			   : !strcmp(guid, CCT_SNP_GUID_VCEK) ? "VCEK"
			   : !strcmp(guid, CCT_SNP_GUID_VLEK) ? "VLEK"
			   : !strcmp(guid, CCT_SNP_GUID_CRL)  ? "CRL"
							      : NULL;
	cct_err e;

	if (!what)
		return CCT_OK; /* other GUIDs (extra platform info, ...) are not ours to judge */
	if (!strcmp(what, "CRL")) {
		X509_CRL *crl;

		if (cct_x509_parse_crl(&crl, p, n, &e) != CCT_OK)
			return cct_err_set(t->err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
					   "SNP certificate table: the CRL entry does not decode");
		sk_X509_CRL_push(t->v->evidence.crls, crl);
		return CCT_OK;
	}
	if (add_certs_to(&t->v->evidence, p, n, &e) != CCT_OK)
		return cct_err_set(t->err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				   "SNP certificate table: the %s entry (%zu bytes) is not a "
				   "certificate",
				   what, n);
	return CCT_OK;
}

int cct_snp_verifier_add_cert_table(cct_snp_verifier *v, const uint8_t *buf, size_t len,
				    cct_err *err)
{
	table_ctx t = { v, err };
	int rc;

	v->ctx_valid = 0;
	rc = cct_snp_cert_table_parse(buf, len, on_table_entry, &t, err);
	if (rc != CCT_OK)
		drop_evidence(v); /* the report is refused: nothing of its table stays pending */
	return rc;
}

int cct_snp_verifier_trust_ark_insecure(cct_snp_verifier *v, const uint8_t *pem, size_t len,
					cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int rc, added = 0;
	X509 *x;

	if (!sk)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	rc = cct_x509_parse_certs(sk, NULL, pem, len, "trusted ARK", err);
	while ((x = sk_X509_shift(sk))) {
		if (is_self_signed(x)) {
			push_ark(v, x, CCT_SNP_PRODUCT_UNKNOWN, 1);
			added++;
		} else if (X509_check_ca(x) > 0 && !have_cert(v->held.intermediates, x)) {
			sk_X509_push(v->held.intermediates, x);
		} else {
			X509_free(x);
		}
	}
	sk_X509_free(sk);
	if (rc == CCT_OK && !added)
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "no self-signed ARK among the certificates to trust");
	return rc;
}

/* ---- helpers ---- */

static int ark_index(const cct_snp_verifier *v, const X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(v->arks); i++)
		if (cct_x509_same_key(sk_X509_value(v->arks, i), x))
			return i;
	return -1;
}

static cct_snp_product product_from_name(const char *s)
{
	if (!strncmp(s, "Milan", 5))
		return CCT_SNP_PRODUCT_MILAN;
	if (!strncmp(s, "Genoa", 5))
		return CCT_SNP_PRODUCT_GENOA;
	if (!strncmp(s, "Turin", 5))
		return CCT_SNP_PRODUCT_TURIN;
	return CCT_SNP_PRODUCT_UNKNOWN;
}

static int leaf_hwid_matches(const X509 *x, const cct_snp_report *rep)
{
	uint8_t *hw = NULL;
	size_t n = 0;
	int ok = 0;

	if (!cct_x509_ext_octets(x, OID_HWID, &hw, &n))
		return 0;
	if (n == 64 || n == 8)
		ok = !memcmp(hw, rep->chip_id, n);
	OPENSSL_free(hw);
	return ok;
}

/* A VLEK is issued by an ASVK ("SEV-VLEK-<product>") and, unlike a VCEK, names no chip (no
 * hwID extension); its own CN is "SEV-VLEK". Any of these marks it. */
static int leaf_is_vlek(const X509 *x)
{
	char cn[128];
	const uint8_t *p;
	size_t n;
	X509_NAME *iss = X509_get_issuer_name(x);

	cct_x509_subject_cn(x, cn, sizeof(cn));
	if (strstr(cn, "VLEK"))
		return 1;
	if (iss && X509_NAME_get_text_by_NID(iss, NID_commonName, cn, sizeof(cn)) > 0 &&
	    strstr(cn, "VLEK"))
		return 1;
	return !cct_x509_ext_value(x, OID_HWID, &p, &n);
}

/* Pick the endorsement key certificate for this report among the offered leaves: the held ones,
 * then the report's own. */
static X509 *find_leaf(cct_snp_verifier *v, const cct_snp_report *rep, cct_snp_signing_key key)
{
	STACK_OF(X509) *sets[2] = { v->held.leaves, v->evidence.leaves };
	X509 *fallback = NULL;
	int i, j;

	for (j = 0; j < 2; j++)
		for (i = 0; i < sk_X509_num(sets[j]); i++) {
			X509 *x = sk_X509_value(sets[j], i);

			if ((key == CCT_SNP_KEY_VLEK) != leaf_is_vlek(x))
				continue;
			if (key == CCT_SNP_KEY_VCEK && leaf_hwid_matches(x, rep))
				return x;
			if (!fallback)
				fallback = x;
		}
	return fallback;
}

static void tcb_query(char *buf, size_t size, const cct_snp_tcb *t, cct_snp_product p)
{
	if (p == CCT_SNP_PRODUCT_TURIN)
		snprintf(buf, size, "fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", t->fmc,
			 t->bootloader, t->tee, t->snp, t->microcode);
	else
		snprintf(buf, size, "blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", t->bootloader,
			 t->tee, t->snp, t->microcode);
}

void cct_snp__vcek_key(char *key, size_t keysz, char *path, size_t pathsz,
		       const cct_snp_report *rep, cct_snp_product p)
{
	cct_snp_tcb t = cct_snp_tcb_decode(rep->reported_tcb, p);
	char hw[129], q[128], name[128];
	size_t k;

	cct_hex_encode(hw, rep->chip_id, p == CCT_SNP_PRODUCT_TURIN ? 8 : 64);
	tcb_query(q, sizeof(q), &t, p);
	snprintf(name, sizeof(name), "%s", q);
	for (k = 0; name[k]; k++)
		if (name[k] == '&' || name[k] == '=')
			name[k] = '_';
	if (key)
		snprintf(key, keysz, "%s/%s/%s", cct_snp_product_name(p), hw, name);
	if (path)
		snprintf(path, pathsz, "/vcek/v1/%s/%s?%s", cct_snp_product_name(p), hw, q);
}

/* The VCEK from the collateral source (bundle), if it has one. */
static X509 *source_vcek(cct_snp_verifier *v, const cct_snp_report *rep, cct_snp_product p)
{
	char key[CCT_COLLATERAL_MAX_KEY];
	uint8_t *body = NULL;
	size_t n = 0;
	const unsigned char *d;
	X509 *x = NULL;
	cct_err e;

	cct_snp__vcek_key(key, sizeof(key), NULL, 0, rep, p);
	if (cct_coll_get(v->source, CCT_COLL_SNP_VCEK, key, &body, &n, NULL, NULL, &e) != CCT_OK)
		return NULL;
	d = body;
	x = d2i_X509(NULL, &d, (long)n);
	ERR_clear_error();
	free(body);
	cct_x509_freeze(x);
	if (x)
		sk_X509_push(v->held.leaves, x);
	return x;
}

/* Fetch (or read from the collateral cache) the VCEK for this report from AMD KDS. */
static X509 *fetch_vcek(cct_snp_verifier *v, const cct_snp_report *rep, cct_err *err)
{
	static const cct_snp_product order[] = { CCT_SNP_PRODUCT_MILAN, CCT_SNP_PRODUCT_GENOA,
						 CCT_SNP_PRODUCT_TURIN };
	cct_snp_product p = cct_snp_report_product(rep);
	cct_fetch_opts fo = { .offline = v->offline };
	size_t i;

	for (i = 0; v->source && i < 3; i++) {
		X509 *x = source_vcek(v, rep, p != CCT_SNP_PRODUCT_UNKNOWN ? p : order[i]);

		if (x)
			return x;
		if (p != CCT_SNP_PRODUCT_UNKNOWN)
			break;
	}
	if (!v->coll_dir && v->offline)
		return NULL;
	for (i = 0; i < 3; i++) {
		cct_snp_product try = p != CCT_SNP_PRODUCT_UNKNOWN ? p : order[i];
		cct_snp_tcb t = cct_snp_tcb_decode(rep->reported_tcb, try);
		char hw[129], q[128], url[768], cache[4096];
		uint8_t *body = NULL;
		size_t n = 0;
		const unsigned char *d;
		X509 *x;

		cct_hex_encode(hw, rep->chip_id, try == CCT_SNP_PRODUCT_TURIN ? 8 : 64);
		tcb_query(q, sizeof(q), &t, try);
		snprintf(url, sizeof(url), "%s/vcek/v1/%s/%s?%s", v->kds_url,
			 cct_snp_product_name(try), hw, q);
		if (v->coll_dir) {
			char name[128];
			size_t k;

			snprintf(name, sizeof(name), "%s", q);
			for (k = 0; name[k]; k++)
				if (name[k] == '&' || name[k] == '=')
					name[k] = '_';
			snprintf(cache, sizeof(cache), "%s/vcek/%s/%s/%s.der", v->coll_dir,
				 cct_snp_product_name(try), hw, name);
		}
		if (cct_fetch_cached(&body, &n, NULL, url, v->coll_dir ? cache : NULL, 0, &fo,
				     err) == CCT_OK) {
			d = body;
			x = d2i_X509(NULL, &d, (long)n);
			free(body);
			ERR_clear_error();
			cct_x509_freeze(x);
			if (x) {
				sk_X509_push(v->held.leaves, x);
				return x;
			}
		}
		if (p != CCT_SNP_PRODUCT_UNKNOWN)
			break;
	}
	return NULL;
}

/* Keep a collateral CRL (owned) unless an identical one is held already. */
static void hold_crl(cct_snp_verifier *v, X509_CRL *crl)
{
	int i;

	for (i = 0; i < sk_X509_CRL_num(v->held.crls); i++)
		if (X509_CRL_match(sk_X509_CRL_value(v->held.crls, i), crl) == 0) {
			X509_CRL_free(crl);
			return;
		}
	if (!sk_X509_CRL_push(v->held.crls, crl))
		X509_CRL_free(crl);
}

/* Fetch the ARK-signed CRL for a product (VCEK or VLEK path) into the verifier; from KDS only
 * when network is set. */
static void fetch_crl(cct_snp_verifier *v, cct_snp_product p, int vlek, int refresh, int network)
{
	cct_fetch_opts fo = { .offline = v->offline || !network };
	char url[512], cache[4096];
	uint8_t *body = NULL;
	size_t n = 0;
	X509_CRL *crl;
	cct_err e;

	if (v->source) {
		snprintf(url, sizeof(url), "%s/%s", vlek ? "vlek" : "vcek", cct_snp_product_name(p));
		if (cct_coll_get(v->source, CCT_COLL_SNP_CRL, url, &body, &n, NULL, NULL, &e) ==
		    CCT_OK) {
			if (cct_x509_parse_crl(&crl, body, n, &e) == CCT_OK)
				hold_crl(v, crl);
			free(body);
			body = NULL;
			if (!refresh)
				return;
		}
	}
	if (!v->coll_dir && fo.offline)
		return;
	snprintf(url, sizeof(url), "%s/%s/v1/%s/crl", v->kds_url, vlek ? "vlek" : "vcek",
		 cct_snp_product_name(p));
	if (v->coll_dir)
		snprintf(cache, sizeof(cache), "%s/crl/%s-%s.crl", v->coll_dir,
			 vlek ? "vlek" : "vcek", cct_snp_product_name(p));
	if (cct_fetch_cached(&body, &n, NULL, url, v->coll_dir ? cache : NULL, refresh, &fo,
			     &e) != CCT_OK)
		return;
	if (cct_x509_parse_crl(&crl, body, n, &e) == CCT_OK)
		hold_crl(v, crl);
	free(body);
}

/* The collateral CRL (bundle, cache, KDS) is consulted whatever else is held: looked up once per
 * product and key type, into the held CRLs. Without network, only the bundle and the cache. */
static void fetch_crl_once(cct_snp_verifier *v, cct_snp_product p, int vlek, int network)
{
	unsigned slot = (((unsigned)p & 7u) * 2 + (vlek ? 1u : 0u)) * 2;

	if (v->crl_fetched & ((network ? 2u : 3u) << slot))
		return; /* done (a lookup with network covers one without) */
	fetch_crl(v, p, vlek, 0, network);
	v->crl_fetched |= (network ? 2u : 1u) << slot;
	v->ctx_valid = 0; /* the key says which collateral was consulted */
}

static int crl_signed_by(X509_CRL *crl, X509 *ark)
{
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ark)) != 0)
		return 0;
	if (X509_CRL_verify(crl, X509_get0_pubkey(ark)) != 1) {
		ERR_clear_error();
		return 0;
	}
	return 1;
}

/* thisUpdate and nextUpdate of crl; 0 when it has no nextUpdate (never current) */
static int crl_times(X509_CRL *crl, time_t *last, time_t *next)
{
	struct tm tm;

	if (!X509_CRL_get0_nextUpdate(crl) ||
	    !ASN1_TIME_to_tm(X509_CRL_get0_lastUpdate(crl), &tm))
		return 0;
	*last = timegm(&tm);
	if (!ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tm))
		return 0;
	*next = timegm(&tm);
	return 1;
}

/* What the CRLs signed by one ARK say about a chain at one time. */
typedef struct {
	int signed_crls;  /* CRLs signed by the ARK, current or not */
	int current_crls; /* of them, current at the verification time */
	X509 *revoked;    /* a chain certificate some current CRL lists */
	time_t lo, hi;    /* times at which the same CRLs are current, so the outcome holds */
} crl_verdict;

static void crl_judge(crl_verdict *d, STACK_OF(X509_CRL) *crls, STACK_OF(X509) *chain, time_t at)
{
	X509 *ark = sk_X509_value(chain, sk_X509_num(chain) - 1);
	int i, k;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		time_t last, next;

		if (!crl_signed_by(crl, ark))
			continue;
		d->signed_crls++;
		if (!crl_times(crl, &last, &next))
			continue;
		if (at < last || at > next) {
			/* not current now: the outcome holds only while it is not current either */
			if (at < last && last - 1 < d->hi)
				d->hi = last - 1;
			if (at > next && next + 1 > d->lo)
				d->lo = next + 1;
			continue;
		}
		d->current_crls++;
		cct_vcache_window(&d->lo, &d->hi, last, next);
		for (k = 0; !d->revoked && k + 1 < sk_X509_num(chain); k++) {
			X509 *x = sk_X509_value(chain, k);
			X509_REVOKED *rev = NULL;

			if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(x)) == 1)
				d->revoked = x;
		}
	}
}

/* The verdict of the held CRLs and the report's own, within the window lo..hi. */
static void crl_judge_all(crl_verdict *d, const cct_snp_verifier *v, STACK_OF(X509) *chain,
			  time_t lo, time_t hi)
{
	memset(d, 0, sizeof(*d));
	d->lo = lo;
	d->hi = hi;
	crl_judge(d, v->held.crls, chain, v->at);
	crl_judge(d, v->evidence.crls, chain, v->at);
}

/* Every CRL signed by the chain's ARK counts: the held ones (--certs, collateral) and the
 * report's own. A certificate is revoked when any current one lists it, so an older CRL that came
 * with the evidence cannot hide a revocation the collateral's newer CRL records. */
static int check_revocation(cct_snp_verifier *v, STACK_OF(X509) *chain, cct_snp_product p,
			    int vlek, int simulated, time_t *lo, time_t *hi, cct_err *err)
{
	crl_verdict d;
	char t[32], cn[128];

	/* AMD's KDS never has a CRL for a simulated (test) root: the bundle and cache only */
	fetch_crl_once(v, p, vlek, !simulated);
	crl_judge_all(&d, v, chain, *lo, *hi);
	if (!d.current_crls && d.signed_crls) {
		fetch_crl(v, p, vlek, 1, !simulated); /* every one is stale: refresh */
		crl_judge_all(&d, v, chain, *lo, *hi);
	}
	cct_time_format(t, sizeof(t), v->at);
	if (d.revoked) {
		cct_x509_subject_cn(d.revoked, cn, sizeof(cn));
		return cct_err_set(err, CCT_EREVOKED, CCT_STAGE_REVOCATION, 0,
				   "certificate '%s' is revoked by the AMD %s CRL", cn,
				   cct_snp_product_name(p));
	}
	if (!d.signed_crls)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				   "no AMD CRL signed by the %s ARK is available (give it with "
				   "--certs or --collateral, or turn revocation off explicitly "
				   "with --no-crl)",
				   cct_snp_product_name(p));
	if (!d.current_crls)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				   "the AMD %s CRL is not current at %s (stale or not yet valid); "
				   "refresh the collateral",
				   cct_snp_product_name(p), t);
	*lo = d.lo;
	*hi = d.hi;
	return CCT_OK;
}

static int trusts_simulated_ark(const cct_snp_verifier *v)
{
	int i;

	for (i = 0; i < sk_X509_num(v->arks); i++)
		if (v->ark_sim[i])
			return 1;
	return 0;
}

/* The first root offered (held, or with the report) that is not a pinned ARK, or NULL. */
static X509 *unpinned_offered_root(cct_snp_verifier *v)
{
	STACK_OF(X509) *sets[2] = { v->held.offered_arks, v->evidence.offered_arks };
	int i, j;

	for (j = 0; j < 2; j++)
		for (i = 0; i < sk_X509_num(sets[j]); i++)
			if (ark_index(v, sk_X509_value(sets[j], i)) < 0)
				return sk_X509_value(sets[j], i);
	return NULL;
}

static void chain_entry_free(void *p)
{
	chain_entry *e = p;

	EVP_PKEY_free(e->key);
	free(e);
}

/* every input of the chain check, hashed: the offered intermediates and roots (held and the
 * report's own), the pinned anchors with their product and simulated marks, the CRLs and how they
 * may be fetched */
static int ctx_key(cct_snp_verifier *v)
{
	enum { MAXP = 256, NCERTSETS = 5, NSETS = 7 };
	STACK_OF(X509) *sets[NCERTSETS] = { v->held.intermediates, v->arks, v->held.offered_arks,
					    v->evidence.intermediates,
					    v->evidence.offered_arks };
	STACK_OF(X509_CRL) *crl_sets[NSETS - NCERTSETS] = { v->held.crls, v->evidence.crls };
	cct_vcache_part parts[MAXP];
	uint8_t (*fps)[32];
	int flags[4] = { v->crl_check, v->offline, sk_X509_num(v->arks), (int)v->crl_fetched };
	int counts[NSETS];
	size_t k = 0, f = 0, total = 0;
	unsigned int n = 32;
	int i, j, ok;

	for (j = 0; j < NCERTSETS; j++)
		counts[j] = sk_X509_num(sets[j]);
	for (j = NCERTSETS; j < NSETS; j++)
		counts[j] = sk_X509_CRL_num(crl_sets[j - NCERTSETS]);
	if (v->ctx_valid && !memcmp(counts, v->ctx_counts, sizeof(counts)))
		return 1;
	for (j = 0; j < NSETS; j++)
		total += (size_t)counts[j];
	if (total + NSETS + 5 > MAXP)
		return 0; /* unusually many certificates: verify without the cache */
	fps = malloc((total ? total : 1) * 32);
	if (!fps)
		return 0;
	for (j = 0; j < NSETS; j++) {
		for (i = 0; i < counts[j]; i++) {
			if (j < NCERTSETS) {
				cct_x509_fingerprint(sk_X509_value(sets[j], i), fps[f]);
			} else if (!X509_CRL_digest(sk_X509_CRL_value(crl_sets[j - NCERTSETS], i),
						    EVP_sha256(), fps[f], &n)) {
				free(fps);
				return 0;
			}
			parts[k++] = (cct_vcache_part){ fps[f++], 32 };
		}
		parts[k++] = (cct_vcache_part){ NULL, 0 }; /* set separator */
	}
	parts[k++] = (cct_vcache_part){ flags, sizeof(flags) };
	parts[k++] = (cct_vcache_part){ v->ark_product, sizeof(int) * (size_t)flags[2] };
	parts[k++] = (cct_vcache_part){ v->ark_sim, sizeof(int) * (size_t)flags[2] };
	parts[k++] = (cct_vcache_part){ v->coll_dir, v->coll_dir ? strlen(v->coll_dir) : 0 };
	parts[k++] = (cct_vcache_part){ v->kds_url, strlen(v->kds_url) };
	ok = cct_vcache_key(v->ctx_key, "snp-verifier", parts, k);
	free(fps);
	if (ok) {
		memcpy(v->ctx_counts, counts, sizeof(counts));
		v->ctx_valid = 1;
	}
	return ok;
}

static int chain_key(uint8_t key[32], cct_snp_verifier *v, X509 *leaf, int vlek)
{
	uint8_t fp[32];
	cct_vcache_part parts[3] = { { NULL, 32 }, { fp, 32 }, { &vlek, sizeof(vlek) } };

	if (!ctx_key(v))
		return 0;
	parts[0].p = v->ctx_key;
	cct_x509_fingerprint(leaf, fp);
	return cct_vcache_key(key, "snp-chain", parts, 3);
}

/* Verify (or look up) the chain of leaf. Returns the pinned entry (release it) whose object is
 * the chain_entry, or NULL when out of memory. */
static cct_vcache_entry *verify_chain(cct_snp_verifier *v, X509 *leaf, int vlek)
{
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_entry *ve;
	chain_entry *e;
	STACK_OF(X509) *chain = NULL, *untrusted = NULL;
	X509 *foreign;
	cct_x509_verify_in in;
	uint8_t key[32];
	time_t lo = CCT_VCACHE_FOREVER_LO, hi = CCT_VCACHE_FOREVER_HI;
	int k;

	if (v->crl_check) {
		/* the collateral CRL is an input of the outcome: looked up before the cache is
		 * asked, so that a new verifier with the same collateral finds what an earlier one
		 * verified (the product is the leaf's; the chain's ARK must agree). With a simulated
		 * root trusted, from the bundle and the cache only (check_revocation looks there,
		 * and no further, for a simulated chain): only the chain says whether KDS may be
		 * asked, and a chain that ends at AMD's root asks it after the lookup (a key the
		 * lookup did not use: such an outcome is verified again, never reused wrongly). */
		char name[64];

		if (cct_x509_ext_string(leaf, OID_PRODUCT_NAME, name, sizeof(name)) &&
		    product_from_name(name) != CCT_SNP_PRODUCT_UNKNOWN)
			fetch_crl_once(v, product_from_name(name), vlek, !trusts_simulated_ark(v));
	}
	if (cache && !chain_key(key, v, leaf, vlek))
		cache = NULL;
	if (cache && !v->skip_cache_once && (ve = cct_vcache_get(cache, key, v->at)) != NULL)
		return ve;
	v->skip_cache_once = 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;

	/* roots shipped with the evidence are never trusted: they must be a pinned key */
	if ((foreign = unpinned_offered_root(v))) {
		char cn[128];

		cct_x509_subject_cn(foreign, cn, sizeof(cn));
		e->rc = cct_err_set(&e->err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				    "the ARK shipped with the evidence ('%s') is not one of "
				    "AMD's pinned root keys; a root that arrives with the "
				    "evidence is never trusted",
				    cn);
		goto out;
	}
	/* the held intermediates and the report's own */
	untrusted = sk_X509_dup(v->held.intermediates);
	for (k = 0; untrusted && k < sk_X509_num(v->evidence.intermediates); k++)
		if (!sk_X509_push(untrusted, sk_X509_value(v->evidence.intermediates, k))) {
			sk_X509_free(untrusted);
			untrusted = NULL;
		}
	if (!untrusted) {
		e->rc = cct_err_set(&e->err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.leaf = leaf;
	in.untrusted = untrusted;
	in.roots = v->arks;
	in.at = v->at;
	in.what = vlek ? "VLEK chain" : "VCEK chain";
	e->rc = cct_x509_chain_verify(&chain, &in, &e->err);
	if (e->rc != CCT_OK)
		goto out;
	if (sk_X509_num(chain) != 3) {
		e->rc = cct_err_set(&e->err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				    "%s has %d certificates; AMD chains are ARK -> ASK/ASVK -> "
				    "VCEK/VLEK",
				    in.what, sk_X509_num(chain));
		goto out;
	}
	k = ark_index(v, sk_X509_value(chain, 2));
	if (k < 0) {
		e->rc = cct_err_set(&e->err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				    "%s does not end at a pinned ARK", in.what);
		goto out;
	}
	e->simulated = v->ark_sim[k];
	e->product = (cct_snp_product)v->ark_product[k];
	if (e->product == CCT_SNP_PRODUCT_UNKNOWN) {
		char name[64];

		if (cct_x509_ext_string(leaf, OID_PRODUCT_NAME, name, sizeof(name)))
			e->product = product_from_name(name);
		if (e->product == CCT_SNP_PRODUCT_UNKNOWN)
			e->product = CCT_SNP_PRODUCT_MILAN;
	}
	if (X509_get0_pubkey(leaf) == NULL || EVP_PKEY_get_base_id(X509_get0_pubkey(leaf)) !=
						      EVP_PKEY_EC) {
		e->rc = cct_err_set(&e->err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				    "%s leaf key is not an EC P-384 key", in.what);
		goto out;
	}
	if (v->crl_check) {
		/* the outcome holds while the CRLs current now stay current, and no other one
		 * becomes so */
		e->rc = check_revocation(v, chain, e->product, vlek, e->simulated, &lo, &hi,
					 &e->err);
		e->crl_checked = e->rc == CCT_OK || e->rc == CCT_EREVOKED;
		if (e->rc != CCT_OK)
			goto out;
	}
	e->key = EVP_PKEY_dup(X509_get0_pubkey(leaf));
	if (!e->key) {
		e->rc = cct_err_set(&e->err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
		goto out;
	}
	e->rc = CCT_OK;
	/* the outcome holds while every certificate of the chain is valid */
	for (k = 0; k < sk_X509_num(chain); k++)
		cct_vcache_window_cert(&lo, &hi, sk_X509_value(chain, k));
out:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_free(untrusted);
	/* the collateral CRLs the check fetched are inputs too: kept under the key with them */
	if (cache && !chain_key(key, v, leaf, vlek))
		cache = NULL;
	if (e->rc != CCT_OK || v->at < lo || v->at > hi)
		lo = hi = v->at;
	return cct_vcache_put(cache, key, lo, hi, e->rc, &e->err, e, chain_entry_free);
}

static int check_tcb_binding(const X509 *leaf, const cct_snp_report *rep, cct_snp_product p,
			     int vlek, cct_snp_result *res, cct_err *err)
{
	cct_snp_tcb t = cct_snp_tcb_decode(rep->reported_tcb, p);
	long bl, tee, snp, uc, fmc = 0;
	char name[64];

	if (cct_x509_ext_integer(leaf, OID_BL_SPL, &bl) || cct_x509_ext_integer(leaf, OID_TEE_SPL, &tee) ||
	    cct_x509_ext_integer(leaf, OID_SNP_SPL, &snp) ||
	    cct_x509_ext_integer(leaf, OID_UCODE_SPL, &uc) ||
	    (p == CCT_SNP_PRODUCT_TURIN && cct_x509_ext_integer(leaf, OID_FMC_SPL, &fmc)))
		return cct_err_set(err, CCT_ECHAIN, CCT_STAGE_TCB, 0,
				   "%s certificate lacks the AMD TCB extensions (blSPL, teeSPL, "
				   "snpSPL, ucodeSPL%s)",
				   vlek ? "VLEK" : "VCEK", p == CCT_SNP_PRODUCT_TURIN ? ", fmcSPL" : "");
	res->vcek_tcb.bootloader = (uint8_t)bl;
	res->vcek_tcb.tee = (uint8_t)tee;
	res->vcek_tcb.snp = (uint8_t)snp;
	res->vcek_tcb.microcode = (uint8_t)uc;
	res->vcek_tcb.fmc = (uint8_t)fmc;
	if (bl != t.bootloader || tee != t.tee || snp != t.snp || uc != t.microcode ||
	    (p == CCT_SNP_PRODUCT_TURIN && fmc != t.fmc))
		return cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, 0x180,
				   "%s was issued for TCB bl=%ld tee=%ld snp=%ld ucode=%ld%s but the "
				   "report's REPORTED_TCB (offset 0x180) is bl=%u tee=%u snp=%u "
				   "ucode=%u",
				   vlek ? "VLEK" : "VCEK", bl, tee, snp, uc,
				   p == CCT_SNP_PRODUCT_TURIN ? " (+fmc)" : "", t.bootloader, t.tee,
				   t.snp, t.microcode);
	if (!vlek) {
		int masked = (rep->flags & 2) && cct_is_zero(rep->chip_id, 64);

		if (res)
			res->chip_id_masked = masked; /* listed in checks_skipped */
		if (!masked && !leaf_hwid_matches(leaf, rep))
			return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_TCB, 0x1A0,
					   "VCEK hwID does not match the report's CHIP_ID (offset "
					   "0x1A0): the VCEK belongs to another chip");
	}
	if (cct_x509_ext_string(leaf, OID_PRODUCT_NAME, name, sizeof(name)) &&
	    product_from_name(name) != CCT_SNP_PRODUCT_UNKNOWN && product_from_name(name) != p)
		return cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
				   "endorsement key is for product '%s' but its chain ends at the "
				   "%s ARK",
				   name, cct_snp_product_name(p));
	return CCT_OK;
}

static int verify_report(cct_snp_result *result, cct_snp_verifier *v, const cct_snp_report *rep,
			 const cct_snp_policy *pol, cct_err *err)
{
	cct_snp_result local;
	cct_snp_result *res = result ? result : &local;
	cct_snp_signing_key key = cct_snp_report_signing_key(rep);
	int vlek = key == CCT_SNP_KEY_VLEK;
	int rc = CCT_ERROR;
	cct_vcache_entry *pin = NULL;
	const chain_entry *ce;
	X509 *leaf;

	memset(res, 0, sizeof(*res));
	res->signing_key = key;
	res->product = cct_snp_report_product(rep);
	if (!rep->signed_bytes)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "report was not parsed");
	if (key == CCT_SNP_KEY_NONE)
		return cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_SIGNATURE, 0x048,
				   "the report is not signed (SIGNING_KEY = none)");
	leaf = find_leaf(v, rep, key);
	if (!leaf && !vlek)
		leaf = fetch_vcek(v, rep, err);
	if (!leaf)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_CHAIN, 0,
				   "no %s certificate for this report (chip_id %02x%02x%02x%02x...): "
				   "give it with --certs, an extended report's certificate table, or "
				   "--collateral DIR%s",
				   vlek ? "VLEK" : "VCEK", rep->chip_id[0], rep->chip_id[1],
				   rep->chip_id[2], rep->chip_id[3],
				   v->offline ? " (network fetch is off: --offline)" : "");
	pin = verify_chain(v, leaf, vlek);
	if (!pin)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	ce = cct_vcache_entry_obj(pin);
	res->crl_checked = ce->crl_checked; /* also when the CRL revoked the chain */
	if (ce->rc != CCT_OK) {
		if (err)
			*err = ce->err;
		rc = ce->rc;
		goto out;
	}
	res->chain_verified = 1;
	res->product = ce->product;
	res->simulated = ce->simulated;
	/* SNP ABI: SIGNATURE covers bytes 0x000-0x29F; r and s are 72-byte little-endian. */
	if (!cct_ecdsa_verify_rs(ce->key, EVP_sha384(), rep->signed_bytes, rep->signed_size,
				 rep->sig_r, rep->sig_s, 72, 1)) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0x2A0,
				 "report signature (offset 0x2A0) does not verify with the %s over "
				 "bytes 0x000-0x29F: the report was altered or signed by another key",
				 vlek ? "VLEK" : "VCEK");
		goto out;
	}
	res->signature_verified = 1;
	rc = check_tcb_binding(leaf, rep, ce->product, vlek, res, err);
	if (rc != CCT_OK)
		goto out;
	if (pol) {
		rc = cct_snp_policy_check(rep, ce->product, pol, err);
		if (rc != CCT_OK)
			goto out;
		res->debug_allowed_insecure =
			(int)((rep->policy >> CCT_SNP_POLICY_DEBUG_BIT) & 1);
	}
	rc = CCT_OK;
out:
	cct_vcache_release(pin);
	return rc;
}

int cct_snp_verify(cct_snp_result *result, cct_snp_verifier *v, const cct_snp_report *rep,
		   const cct_snp_policy *pol, cct_err *err)
{
	int rc = verify_report(result, v, rep, pol, err);

	/* the certificate table vouched for this report alone */
	drop_evidence(v);
	return rc;
}
