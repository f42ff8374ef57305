/* OCSP status through OpenSSL; responses from memory, an offline directory, a disk cache or
 * the network (libcurl). See ocsp.h for the rules. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "collateral/fetch.h"
#include "x509/ocsp.h"
#include "x509/vcache.h"
#include "cctrust/collateral.h"
#include "x509/x509.h"

typedef struct {
	int used;
	uint8_t key[32];
	cct_ocsp_result r;
} cache_slot;

struct cct_ocsp_cache {
	pthread_mutex_t lock;
	cache_slot slot[CCT_OCSP_CACHE_SLOTS];
	size_t next;
};

int cct_ocsp_cache_new(cct_ocsp_cache **out)
{
	cct_ocsp_cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return CCT_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return CCT_OK;
}

void cct_ocsp_cache_free(cct_ocsp_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *cct_ocsp_status_name(cct_ocsp_status s)
{
	switch (s) {
	case CCT_OCSP_GOOD: return "good";
	case CCT_OCSP_REVOKED: return "revoked";
	default: return "unknown";
	}
}

const char *cct_ocsp_reason_name(int reason)
{
	static const char *const names[] = {
		"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
		"superseded", "cessationOfOperation", "certificateHold", "unused",
		"removeFromCRL", "privilegeWithdrawn", "aACompromise"
	};

	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[reason];
}

void cct_ocsp_file_name(char *buf, size_t size, const X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	char *p;

	if (!hex) {
		snprintf(buf, size, "unknown.der");
	} else {
		for (p = hex; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p - 'A' + 'a');
		p = hex;
		while (p[0] == '0' && p[1])
			p++;
		snprintf(buf, size, "%s.der", p);
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

static void cache_key(uint8_t out[32], const X509 *cert, const X509 *issuer)
{
	uint8_t both[64];

	cct_x509_fingerprint(cert, both);
	cct_x509_fingerprint(issuer, both + 32);
	cct_sha256(both, sizeof(both), out);
}

static int is_current(const cct_ocsp_result *r, const cct_ocsp_opts *o)
{
	long skew = o->skew ? o->skew : 300, max_age = o->max_age ? o->max_age : 86400;

	if (r->this_update > o->at + skew)
		return 0;
	if (r->next_update)
		return o->at <= r->next_update + skew;
	return o->at - r->this_update <= max_age;
}

static int cache_get(cct_ocsp_result *out, const uint8_t key[32], const cct_ocsp_opts *o)
{
	size_t i;
	int hit = 0;

	if (!o->cache)
		return 0;
	pthread_mutex_lock(&o->cache->lock);
	for (i = 0; i < CCT_OCSP_CACHE_SLOTS; i++) {
		cache_slot *s = &o->cache->slot[i];

		if (s->used && !memcmp(s->key, key, 32) && is_current(&s->r, o)) {
			*out = s->r;
			out->source = "memory";
			hit = 1;
			cct_collateral_count_hit();
			break;
		}
	}
	pthread_mutex_unlock(&o->cache->lock);
	return hit;
}

static void cache_put(const uint8_t key[32], const cct_ocsp_result *r, const cct_ocsp_opts *o)
{
	size_t i;
	cache_slot *s = NULL;

	if (!o->cache)
		return;
	pthread_mutex_lock(&o->cache->lock);
	for (i = 0; i < CCT_OCSP_CACHE_SLOTS && !s; i++)
		if (o->cache->slot[i].used && !memcmp(o->cache->slot[i].key, key, 32))
			s = &o->cache->slot[i];
	if (!s) {
		s = &o->cache->slot[o->cache->next];
		o->cache->next = (o->cache->next + 1) % CCT_OCSP_CACHE_SLOTS;
	}
	s->used = 1;
	memcpy(s->key, key, 32);
	s->r = *r;
	pthread_mutex_unlock(&o->cache->lock);
}

static time_t asn1_time(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* Verify one DER response for (cert, issuer); req non-NULL for a live answer (nonce). */
static int check_response(cct_ocsp_result *out, const uint8_t *der, size_t n, X509 *cert,
			  X509 *issuer, OCSP_REQUEST *req, const cct_ocsp_opts *o,
			  const char *src, time_t *win_lo, time_t *win_hi, cct_err *err)
{
	int rc = CCT_ERROR, i, count, status = -1, reason = -1;
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	X509_STORE *store = NULL;
	STACK_OF(X509) *certs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	char cn[128], t[32];

	cct_x509_subject_cn(cert, cn, sizeof(cn));
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)n);
	if (!resp || p != der + n) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "OCSP response for '%s' (%s) does not decode", cn, src);
		goto out;
	}
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "OCSP responder for '%s' answered '%s' (%s)", cn,
				 OCSP_response_status_str(OCSP_response_status(resp)), src);
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	if (!bs) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "OCSP response for '%s' is not a basic response (%s)", cn, src);
		goto out;
	}
	if (req && OCSP_check_nonce(req, bs) != 1) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "OCSP response for '%s' does not echo the request nonce", cn);
		goto out;
	}
	store = X509_STORE_new();
	certs = sk_X509_new_null();
	if (!store || !certs) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_REVOCATION, 0, "out of memory");
		goto out;
	}
	X509_STORE_add_cert(store, issuer);
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), o->at);
	X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
	sk_X509_push(certs, issuer);
	if (OCSP_basic_verify(bs, certs, store, 0) <= 0) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "OCSP response for '%s' is not signed by its issuer or a "
				 "responder the issuer delegated (%s)", cn, src);
		goto out;
	}
	count = OCSP_resp_count(bs);
	for (i = 0; i < count && status < 0; i++) {
		OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(sr);
		ASN1_OBJECT *md_oid = NULL;
		const EVP_MD *md;
		OCSP_CERTID *mine;

		if (!OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)cid))
			continue;
		md = EVP_get_digestbyobj(md_oid);
		mine = md ? OCSP_cert_to_id(md, cert, issuer) : NULL;
		if (mine && OCSP_id_cmp(mine, cid) == 0)
			status = OCSP_single_get0_status(sr, &reason, &rev, &thisupd, &nextupd);
		OCSP_CERTID_free(mine);
	}
	if (status < 0) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "OCSP response (%s) does not answer for '%s'", src, cn);
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->status = status == V_OCSP_CERTSTATUS_GOOD ? CCT_OCSP_GOOD
		      : status == V_OCSP_CERTSTATUS_REVOKED ? CCT_OCSP_REVOKED
							: CCT_OCSP_UNKNOWN;
	out->reason = status == V_OCSP_CERTSTATUS_REVOKED ? (reason < 0 ? 0 : reason) : -1;
	out->this_update = asn1_time(thisupd);
	out->next_update = nextupd ? asn1_time(nextupd) : 0;
	out->revoked_at = rev ? asn1_time(rev) : 0;
	out->source = src;
	if (!out->this_update || !is_current(out, o)) {
		cct_time_format(t, sizeof(t), o->at);
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "OCSP response for '%s' (%s) is not current at %s", cn, src, t);
		goto out;
	}
	if (win_lo && win_hi) {
		/* times at which this same answer holds: its freshness window and the validity
		 * of the issuer and of the certificate that signed it */
		long skew = o->skew ? o->skew : 300, max_age = o->max_age ? o->max_age : 86400;
		X509 *signer = NULL;

		*win_lo = out->this_update - skew;
		*win_hi = out->next_update ? out->next_update + skew : out->this_update + max_age;
		cct_vcache_window_cert(win_lo, win_hi, issuer);
		if (OCSP_resp_get0_signer(bs, &signer, certs) == 1 && signer)
			cct_vcache_window_cert(win_lo, win_hi, signer);
		else
			*win_lo = *win_hi + 1; /* unknown signer: do not remember */
	}
	rc = CCT_OK;
out:
	ERR_clear_error();
	sk_X509_free(certs);
	X509_STORE_free(store);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return rc;
}

/* A stored response (no nonce), verified once per (response bytes, certificate, issuer,
 * tolerances) and window of times it holds for (x509/vcache); failures are not remembered. */
static int check_stored(cct_ocsp_result *out, const uint8_t *der, size_t n, X509 *cert,
			X509 *issuer, const cct_ocsp_opts *o, const char *src, cct_err *err)
{
	cct_vcache *cache = cct_vcache_shared();
	uint8_t fps[64], key[32];
	long tol[2] = { o->skew, o->max_age };
	cct_vcache_part parts[3] = { { der, n }, { fps, 64 }, { tol, sizeof(tol) } };
	cct_vcache_entry *e;
	cct_ocsp_result *r;
	time_t lo = 0, hi = -1;
	int rc;

	cct_x509_fingerprint(cert, fps);
	cct_x509_fingerprint(issuer, fps + 32);
	if (cache && !cct_vcache_key(key, "ocsp-response", parts, 3))
		cache = NULL;
	if (cache && (e = cct_vcache_get(cache, key, o->at)) != NULL) {
		*out = *(const cct_ocsp_result *)cct_vcache_entry_obj(e);
		out->source = src;
		cct_vcache_release(e);
		return CCT_OK;
	}
	rc = check_response(out, der, n, cert, issuer, NULL, o, src, &lo, &hi, err);
	if (rc != CCT_OK || !cache || lo > hi || o->at < lo || o->at > hi)
		return rc;
	r = malloc(sizeof(*r));
	if (r) {
		*r = *out;
		cct_vcache_release(cct_vcache_put(cache, key, lo, hi, CCT_OK, NULL, r, free));
	}
	return rc;
}

static int try_file(cct_ocsp_result *out, const char *dir, X509 *cert, X509 *issuer,
		    const cct_ocsp_opts *o, const char *src, cct_err *err)
{
	char name[128], path[4096];
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc;

	cct_ocsp_file_name(name, sizeof(name), cert);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, R_OK) != 0)
		return CCT_EIO;
	rc = cct_file_read(&buf, &n, path, CCT_OCSP_MAX_RESPONSE, err);
	if (rc == CCT_OK)
		rc = check_stored(out, buf, n, cert, issuer, o, src, err);
	free(buf);
	return rc;
}

static int fetch(cct_ocsp_result *out, X509 *cert, X509 *issuer, const cct_ocsp_opts *o,
		 uint8_t **der_out, size_t *der_n, cct_err *err)
{
	int rc = CCT_ERROR, len;
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL;
	STACK_OF(OPENSSL_STRING) *aia = NULL;
	const char *url = o->url;
	unsigned char *reqder = NULL;
	uint8_t *resp = NULL;
	size_t resp_n = 0;
	cct_fetch_req freq = { .content_type = "application/ocsp-request",
			       .max_body = CCT_OCSP_MAX_RESPONSE,
			       .stage = CCT_STAGE_REVOCATION };
	cct_fetch_opts fo = { .timeout_s = o->timeout ? o->timeout : 10L, .max_retries = -1 };
	cct_err ferr;
	char cn[128];

	cct_x509_subject_cn(cert, cn, sizeof(cn));
	if (!url) {
		aia = X509_get1_ocsp(cert);
		url = aia && sk_OPENSSL_STRING_num(aia) > 0 ? sk_OPENSSL_STRING_value(aia, 0)
							    : NULL;
	}
	if (!url) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				 "no OCSP responder URL for '%s' (no AIA)", cn);
		goto out;
	}
	req = OCSP_REQUEST_new();
	id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	if (!req || !id || !OCSP_request_add0_id(req, id)) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_REVOCATION, 0, "out of memory");
		goto out;
	}
	id = NULL;
	OCSP_request_add1_nonce(req, NULL, -1);
	len = i2d_OCSP_REQUEST(req, &reqder);
	if (len <= 0) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_REVOCATION, 0, "out of memory");
		goto out;
	}
	freq.url = url;
	freq.body = reqder;
	freq.body_len = (size_t)len;
	if (cct_fetch(&resp, &resp_n, &freq, &fo, &ferr) != CCT_OK) {
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_REVOCATION, 0,
				 "OCSP for '%s': %s", cn, ferr.msg);
		goto out;
	}
	rc = check_response(out, resp, resp_n, cert, issuer, req, o, "network", NULL, NULL, err);
	if (rc == CCT_OK) {
		*der_out = resp;
		*der_n = resp_n;
		resp = NULL;
	}
out:
	free(resp);
	OPENSSL_free(reqder);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	X509_email_free(aia);
	return rc;
}

int cct_ocsp_check(cct_ocsp_result *out, X509 *cert, X509 *issuer, const cct_ocsp_opts *o,
		   cct_err *err)
{
	uint8_t key[32], *der = NULL;
	size_t n = 0;
	int rc;
	cct_err e1, e2;
	char name[128], cn[128];

	memset(out, 0, sizeof(*out));
	if (!cert || !issuer)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_REVOCATION, 0, "bad argument");
	cache_key(key, cert, issuer);
	if (cache_get(out, key, o))
		return CCT_OK;
	cct_err_clear(&e1);
	cct_err_clear(&e2);
	if (o->source) {
		uint8_t *b = NULL;
		size_t bn = 0;
		char key[128];

		cct_ocsp_file_name(key, sizeof(key), cert);
		if (strlen(key) > 4)
			key[strlen(key) - 4] = 0; /* drop ".der" */
		rc = cct_coll_get(o->source, CCT_COLL_NVIDIA_OCSP, key, &b, &bn, NULL, NULL, &e1);
		if (rc == CCT_OK)
			rc = check_response(out, b, bn, cert, issuer, NULL, o, "bundle", NULL, NULL, &e1);
		free(b);
		if (rc == CCT_OK)
			goto found;
	}
	if (o->dir) {
		rc = try_file(out, o->dir, cert, issuer, o, "dir", &e1);
		if (rc == CCT_OK)
			goto found;
	}
	if (o->cache_dir) {
		rc = try_file(out, o->cache_dir, cert, issuer, o, "cache", &e2);
		if (rc == CCT_OK)
			goto found;
	}
	cct_ocsp_file_name(name, sizeof(name), cert);
	cct_x509_subject_cn(cert, cn, sizeof(cn));
	if (o->offline) {
		if (e1.code && e1.code != CCT_EIO && err)
			*err = e1;
		else if (e2.code && e2.code != CCT_EIO && err)
			*err = e2;
		else
			cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				    "no OCSP response for '%s' in %s/%s and --offline forbids "
				    "fetching it", cn, o->dir ? o->dir : "(no --ocsp-dir)", name);
		return err ? err->code : CCT_ECOLLATERAL;
	}
	rc = fetch(out, cert, issuer, o, &der, &n, err);
	if (rc != CCT_OK) {
		/* a stored response was found but refused (stale, another certificate): that is
		 * the news; the failed fetch of a fresh one alone ("no AIA") hid it */
		const cct_err *held = e1.code && e1.code != CCT_EIO   ? &e1
				      : e2.code && e2.code != CCT_EIO ? &e2
								      : NULL;

		if (held && err) {
			char why[CCT_ERR_MSG_SIZE];

			snprintf(why, sizeof(why), "%s", err->msg);
			cct_err_set(err, held->code, held->stage, held->offset,
				    "%s; and no fresh response: %s", held->msg, why);
			rc = held->code;
		}
		return rc;
	}
	if (o->cache_dir) {
		char path[4096];

		mkdir(o->cache_dir, 0700);
		snprintf(path, sizeof(path), "%s/%s", o->cache_dir, name);
		cct_file_write(path, der, n, 0, NULL); /* best effort: cache only */
	}
	free(der);
found:
	cache_put(key, out, o);
	return CCT_OK;
}

int cct_ocsp_response_inspect(const uint8_t *der, size_t n, time_t *this_update,
			      time_t *next_update, cct_err *err)
{
	const unsigned char *d = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &d, (long)n);
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL, *rev = NULL;
	int rc = CCT_OK, reason;

	*this_update = *next_update = 0;
	if (!resp || d != der + n ||
	    OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    !(bs = OCSP_response_get1_basic(resp)) || OCSP_resp_count(bs) < 1) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_REVOCATION, 0,
				 "not a successful basic OCSP response");
		goto out;
	}
	if (OCSP_basic_verify(bs, NULL, NULL, OCSP_NOVERIFY) <= 0) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_REVOCATION, 0,
				 "OCSP response signature does not verify under its signer "
				 "certificate");
		goto out;
	}
	OCSP_single_get0_status(OCSP_resp_get0(bs, 0), &reason, &rev, &thisupd, &nextupd);
	*this_update = asn1_time(thisupd);
	*next_update = nextupd ? asn1_time(nextupd) : 0;
out:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return rc;
}
