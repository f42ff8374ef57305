/* X.509 parsing and chain verification through OpenSSL. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "x509/vcache.h"
#include "x509/x509.h"

static int looks_pem(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 10 <= len && i < 4096; i++)
		if (!memcmp(buf + i, "-----BEGIN", 10))
			return 1;
	return 0;
}

void cct_x509_freeze(X509 *x)
{
	if (x) {
		/* purpose -1: no purpose is checked, only the extension cache is filled */
		(void)X509_check_purpose(x, -1, 0);
		ERR_clear_error();
	}
}

void cct_x509_crl_freeze(X509_CRL *crl)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *zero;

	if (!crl)
		return;
	/* a lookup sorts the revoked list (once, under the CRL's lock); serial 0 is never issued */
	zero = ASN1_INTEGER_new();
	if (zero && ASN1_INTEGER_set(zero, 0))
		(void)X509_CRL_get0_by_serial(crl, &rev, zero);
	ASN1_INTEGER_free(zero);
	ERR_clear_error();
}

static int parse_certs(STACK_OF(X509) *sk, STACK_OF(X509_CRL) *crls, const uint8_t *buf,
		       size_t len, const char *what, cct_err *err)
{
	int found = 0;

	if (len > INT32_MAX)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "%s: too large", what);
	if (looks_pem(buf, len)) {
		BIO *bio = BIO_new_mem_buf(buf, (int)len);
		STACK_OF(X509_INFO) *infos;
		int i;

		if (!bio)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
		BIO_free(bio);
		ERR_clear_error();
		if (!infos)
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
					   "%s: PEM does not decode", what);
		for (i = 0; i < sk_X509_INFO_num(infos); i++) {
			X509_INFO *xi = sk_X509_INFO_value(infos, i);

			if (xi->x509 && sk_X509_num(sk) < CCT_X509_MAX_CERTS) {
				cct_x509_freeze(xi->x509);
				sk_X509_push(sk, xi->x509);
				xi->x509 = NULL;
				found++;
			}
			if (xi->crl && crls) {
				cct_x509_crl_freeze(xi->crl);
				sk_X509_CRL_push(crls, xi->crl);
				xi->crl = NULL;
				found++;
			}
		}
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
	} else {
		const unsigned char *p = buf, *end = buf + len;

		while (p < end) {
			const unsigned char *start = p;
			X509 *x = d2i_X509(NULL, &p, (long)(end - p));

			if (!x) {
				X509_CRL *c;

				p = start;
				c = crls ? d2i_X509_CRL(NULL, &p, (long)(end - p)) : NULL;
				if (!c)
					break;
				cct_x509_crl_freeze(c);
				sk_X509_CRL_push(crls, c);
				found++;
				continue;
			}
			if (sk_X509_num(sk) >= CCT_X509_MAX_CERTS) {
				X509_free(x);
				break;
			}
			cct_x509_freeze(x);
			sk_X509_push(sk, x);
			found++;
		}
		ERR_clear_error();
		/* trailing zero padding (certificate tables) is fine; other garbage is not */
		if (found && !cct_is_zero(p, (size_t)(end - p)))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT,
					   (size_t)(p - buf),
					   "%s: bytes at offset %zu are not a DER certificate",
					   what, (size_t)(p - buf));
	}
	if (!found)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "%s: no certificate or CRL found (want PEM or DER)", what);
	return CCT_OK;
}

/* Parsed certificate/CRL sets, remembered per input text (x509/vcache): evidence carries the
 * same few chains again and again, and decoding them (RSA-4096 keys) costs more than checking
 * a signature. Objects are immutable once parsed (parse_certs froze them: cct_x509_freeze) and
 * shared by reference (X509_up_ref). */
typedef struct parsed_set {
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls;
} parsed_set;

static void parsed_set_free(void *p)
{
	parsed_set *ps = p;

	sk_X509_pop_free(ps->certs, X509_free);
	sk_X509_CRL_pop_free(ps->crls, X509_CRL_free);
	free(ps);
}

static int push_set(STACK_OF(X509) *sk, STACK_OF(X509_CRL) *crls, const parsed_set *ps)
{
	int i;

	for (i = 0; i < sk_X509_num(ps->certs); i++) {
		X509 *x = sk_X509_value(ps->certs, i);

		if (!X509_up_ref(x))
			return 0;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			return 0;
		}
	}
	for (i = 0; crls && i < sk_X509_CRL_num(ps->crls); i++) {
		X509_CRL *c = sk_X509_CRL_value(ps->crls, i);

		if (!X509_CRL_up_ref(c))
			return 0;
		if (!sk_X509_CRL_push(crls, c)) {
			X509_CRL_free(c);
			return 0;
		}
	}
	return 1;
}

int cct_x509_parse_certs(STACK_OF(X509) *sk, STACK_OF(X509_CRL) *crls, const uint8_t *buf,
			 size_t len, const char *what, cct_err *err)
{
	cct_vcache *cache = cct_vcache_shared();
	int want_crls = crls != NULL;
	cct_vcache_part parts[2] = { { buf, len }, { &want_crls, sizeof(want_crls) } };
	cct_vcache_entry *e;
	parsed_set *ps;
	uint8_t key[32];
	int rc;

	if (!cache || !cct_vcache_key(key, "x509-parsed", parts, 2))
		return parse_certs(sk, crls, buf, len, what, err);
	e = cct_vcache_get(cache, key, 0);
	if (e) {
		const parsed_set *got = cct_vcache_entry_obj(e);

		/* the cap on certificates counts what sk already holds: only within it */
		if (sk_X509_num(sk) + sk_X509_num(got->certs) <= CCT_X509_MAX_CERTS) {
			rc = push_set(sk, crls, got) ? CCT_OK
						     : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT,
								   0, "out of memory");
			cct_vcache_release(e);
			return rc;
		}
		cct_vcache_release(e);
		return parse_certs(sk, crls, buf, len, what, err);
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps || !(ps->certs = sk_X509_new_null()) || !(ps->crls = sk_X509_CRL_new_null())) {
		if (ps)
			parsed_set_free(ps);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	}
	rc = parse_certs(ps->certs, want_crls ? ps->crls : NULL, buf, len, what, err);
	if (rc != CCT_OK || sk_X509_num(sk) + sk_X509_num(ps->certs) > CCT_X509_MAX_CERTS ||
	    sk_X509_num(ps->certs) >= CCT_X509_MAX_CERTS) {
		/* failures are not remembered; near the cap, parse into the caller's set */
		parsed_set_free(ps);
		return rc != CCT_OK ? rc : parse_certs(sk, crls, buf, len, what, err);
	}
	e = cct_vcache_put(cache, key, CCT_VCACHE_FOREVER_LO, CCT_VCACHE_FOREVER_HI, CCT_OK, NULL,
			   ps, parsed_set_free);
	if (!e)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	rc = push_set(sk, crls, cct_vcache_entry_obj(e))
		     ? CCT_OK
		     : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	cct_vcache_release(e);
	return rc;
}

int cct_x509_parse_crl(X509_CRL **out, const uint8_t *buf, size_t len, cct_err *err)
{
	X509_CRL *crl = NULL;

	*out = NULL;
	if (len > INT32_MAX)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "CRL too large");
	if (looks_pem(buf, len)) {
		BIO *bio = BIO_new_mem_buf(buf, (int)len);

		if (bio)
			crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		const unsigned char *p = buf;

		crl = d2i_X509_CRL(NULL, &p, (long)len);
	}
	ERR_clear_error();
	if (!crl)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "CRL does not decode (want DER or PEM)");
	cct_x509_crl_freeze(crl);
	*out = crl;
	return CCT_OK;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cct_x509_load_path(STACK_OF(X509) *sk, STACK_OF(X509_CRL) *crls, const char *path,
		       cct_err *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (stat(path, &st) != 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot read %s", path);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		char **names = NULL, **grown;
		size_t n = 0, cap = 0, i;
		int any = 0;

		if (!d)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot open %s",
					   path);
		/* every entry (there was a cap of 256, past which readdir's order decided which
		 * certificates were seen), sorted so the result does not depend on that order */
		rc = CCT_OK;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				if (!(grown = realloc(names, cap * sizeof(*names)))) {
					rc = CCT_ENOMEM;
					break;
				}
				names = grown;
			}
			if (!(names[n] = strdup(e->d_name))) {
				rc = CCT_ENOMEM;
				break;
			}
			n++;
		}
		closedir(d);
		if (rc == CCT_OK && n)
			qsort(names, n, sizeof(names[0]), cmpstr);
		for (i = 0; rc == CCT_OK && i < n; i++) {
			char full[4096];
			const char *dot = strrchr(names[i], '.');
			int named_cert = dot && (!strcasecmp(dot, ".pem") || !strcasecmp(dot, ".der") ||
						 !strcasecmp(dot, ".crt") || !strcasecmp(dot, ".cer") ||
						 !strcasecmp(dot, ".crl"));
			cct_err e2;

			snprintf(full, sizeof(full), "%s/%s", path, names[i]);
			if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (cct_file_read(&buf, &len, full, 4u << 20, &e2) != CCT_OK) {
				if (named_cert) /* a certificate file that cannot be read: say so */
					rc = cct_err_set(err, e2.code, CCT_STAGE_INPUT, 0, "%s", e2.msg);
				continue;
			}
			if (cct_x509_parse_certs(sk, crls, buf, len, full, &e2) == CCT_OK)
				any = 1;
			else if (named_cert) /* was skipped: then "no VCEK ... give it with --certs" */
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						 "%s: named as a certificate or CRL but does not "
						 "decode (%s)",
						 full, e2.msg);
			free(buf);
			buf = NULL;
		}
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		if (rc == CCT_ENOMEM)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		if (rc != CCT_OK)
			return rc;
		if (!any)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					   "no certificate found in directory %s", path);
		return CCT_OK;
	}
	rc = cct_file_read(&buf, &len, path, 4u << 20, err);
	if (rc != CCT_OK)
		return rc;
	rc = cct_x509_parse_certs(sk, crls, buf, len, path, err);
	free(buf);
	return rc;
}

int cct_x509_validity(const X509 *cert, time_t *not_before, time_t *not_after)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm))
		return -1;
	*not_before = timegm(&tm);
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
		return -1;
	*not_after = timegm(&tm);
	return 0;
}

int cct_x509_check_time(const X509 *cert, time_t t, const char *what, cct_err *err)
{
	time_t nb, na;
	char a[32], b[32], c[32];

	if (cct_x509_validity(cert, &nb, &na) != 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_CHAIN, 0,
				   "%s: validity dates do not decode", what);
	if (t < nb || t > na) {
		cct_time_format(a, sizeof(a), nb);
		cct_time_format(b, sizeof(b), na);
		cct_time_format(c, sizeof(c), t);
		return cct_err_set(err, CCT_EEXPIRED, CCT_STAGE_CHAIN, 0,
				   "%s is not valid at %s (valid %s .. %s)", what, c, a, b);
	}
	return CCT_OK;
}

void cct_x509_subject_cn(const X509 *cert, char *buf, size_t size)
{
	X509_NAME *name = X509_get_subject_name(cert);

	if (!name || X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)size) < 0)
		snprintf(buf, size, "?");
}

int cct_x509_same_key(const X509 *a, const X509 *b)
{
	EVP_PKEY *ka = X509_get0_pubkey(a), *kb = X509_get0_pubkey(b);

	return ka && kb && EVP_PKEY_eq(ka, kb) == 1;
}

void cct_x509_fingerprint(const X509 *cert, uint8_t out[32])
{
	unsigned int n = 32;

	X509_digest(cert, EVP_sha256(), out, &n);
}

static int map_verify_error(int e, const char *what, const char *cn, time_t at, cct_stage stage,
			    cct_err *err)
{
	char t[32];

	cct_time_format(t, sizeof(t), at);
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return cct_err_set(err, CCT_EEXPIRED, stage, 0,
				   "%s: certificate '%s' is not valid at %s", what, cn, t);
	case X509_V_ERR_CERT_REVOKED:
		return cct_err_set(err, CCT_EREVOKED, CCT_STAGE_REVOCATION, 0,
				   "%s: certificate '%s' is revoked", what, cn);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				   "%s: no CRL for '%s' (revocation cannot be checked; fail closed)",
				   what, cn);
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				   "%s: the CRL for '%s' is not current at %s", what, cn, t);
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_REVOCATION, 0,
				   "%s: the CRL for '%s' is not signed by its issuer", what, cn);
	default:
		return cct_err_set(err, CCT_ECHAIN, stage, 0, "%s: certificate '%s': %s", what,
				   cn, X509_verify_cert_error_string(e));
	}
}

/* A CRL is current while thisUpdate <= at <= nextUpdate (docs/tdx.md, the verification cache's
 * window, collateral check). OpenSSL calls a CRL expired when nextUpdate <= at (X509_cmp_time
 * counts equality as earlier), so at exactly nextUpdate it disagreed with all three; that one
 * instant is accepted here, any later one still fails. */
static int crl_time_cb(int ok, X509_STORE_CTX *ctx)
{
	const X509_CRL *crl;
	const ASN1_TIME *nu;
	int day, sec;
	ASN1_TIME *at;

	if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_CRL_HAS_EXPIRED)
		return ok;
	crl = X509_STORE_CTX_get0_current_crl(ctx);
	nu = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
	if (!nu)
		return ok;
	at = ASN1_TIME_set(NULL, X509_VERIFY_PARAM_get_time(X509_STORE_CTX_get0_param(ctx)));
	if (!at)
		return ok;
	if (ASN1_TIME_diff(&day, &sec, nu, at) == 1 && day == 0 && sec == 0) {
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		ok = 1;
	}
	ASN1_TIME_free(at);
	return ok;
}

int cct_x509_chain_verify(STACK_OF(X509) **chain_out, const cct_x509_verify_in *in, cct_err *err)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = CCT_ERROR, i;
	/* CHECK_SS_SIGNATURE: a root's self-signature is checked too (a pinned root with a broken
	 * self-signature is corrupt, and sim roots get the same treatment) */
	unsigned long flags = X509_V_FLAG_USE_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN |
			      X509_V_FLAG_CHECK_SS_SIGNATURE;
	cct_stage stage = in->stage ? in->stage : CCT_STAGE_CHAIN;
	const char *what = in->what ? in->what : "certificate chain";

	if (chain_out)
		*chain_out = NULL;
	if (!in->leaf || !in->roots || sk_X509_num(in->roots) == 0)
		return cct_err_set(err, CCT_ECHAIN, stage, 0, "%s: no leaf or no trust anchor",
				   what);
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!store || !ctx) {
		rc = cct_err_set(err, CCT_ENOMEM, stage, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(in->roots); i++)
		X509_STORE_add_cert(store, sk_X509_value(in->roots, i));
	if (in->crl_check == 1)
		flags |= X509_V_FLAG_CRL_CHECK;
	else if (in->crl_check == 2)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	if (!X509_STORE_CTX_init(ctx, store, in->leaf, in->untrusted)) {
		rc = cct_err_set(err, CCT_ENOMEM, stage, 0, "out of memory");
		goto out;
	}
	if (in->crls)
		X509_STORE_CTX_set0_crls(ctx, in->crls);
	X509_STORE_CTX_set_flags(ctx, flags);
	X509_STORE_CTX_set_time(ctx, 0, in->at);
	X509_STORE_CTX_set_verify_cb(ctx, crl_time_cb);
	/* purpose checks are meaningless for attestation keys: accept any extended key usage */
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	X509_STORE_CTX_set_depth(ctx, CCT_X509_MAX_CHAIN);
	if (X509_verify_cert(ctx) != 1) {
		X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
		char cn[128];

		if (bad)
			cct_x509_subject_cn(bad, cn, sizeof(cn));
		else
			snprintf(cn, sizeof(cn), "?");
		rc = map_verify_error(X509_STORE_CTX_get_error(ctx), what, cn, in->at, stage, err);
		ERR_clear_error();
		goto out;
	}
	if (chain_out)
		*chain_out = X509_STORE_CTX_get1_chain(ctx);
	rc = CCT_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

static X509_EXTENSION *find_ext(const X509 *cert, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int idx;

	if (!obj)
		return NULL;
	idx = X509_get_ext_by_OBJ(cert, obj, -1);
	ASN1_OBJECT_free(obj);
	return idx < 0 ? NULL : X509_get_ext(cert, idx);
}

int cct_x509_ext_value(const X509 *cert, const char *oid, const uint8_t **p, size_t *n)
{
	X509_EXTENSION *ext = find_ext(cert, oid);
	ASN1_OCTET_STRING *os;

	if (!ext)
		return 0;
	os = X509_EXTENSION_get_data(ext);
	*p = ASN1_STRING_get0_data(os);
	*n = (size_t)ASN1_STRING_length(os);
	return 1;
}

int cct_x509_ext_integer(const X509 *cert, const char *oid, long *out)
{
	const uint8_t *p;
	size_t n;
	ASN1_INTEGER *ai;
	const unsigned char *q;

	if (!cct_x509_ext_value(cert, oid, &p, &n))
		return CCT_EFORMAT;
	q = p;
	ai = d2i_ASN1_INTEGER(NULL, &q, (long)n);
	if (!ai) {
		ERR_clear_error();
		return CCT_EFORMAT;
	}
	if (!ASN1_INTEGER_get_int64((int64_t *)out, ai)) {
		ASN1_INTEGER_free(ai);
		ERR_clear_error();
		return CCT_EFORMAT;
	}
	ASN1_INTEGER_free(ai);
	return CCT_OK;
}

int cct_x509_ext_string(const X509 *cert, const char *oid, char *buf, size_t size)
{
	const uint8_t *p;
	size_t n;
	const unsigned char *q;
	ASN1_STRING *s;
	int len;

	if (!cct_x509_ext_value(cert, oid, &p, &n) || size == 0)
		return 0;
	q = p;
	s = d2i_ASN1_IA5STRING(NULL, &q, (long)n);
	if (!s) {
		q = p;
		s = d2i_ASN1_UTF8STRING(NULL, &q, (long)n);
	}
	ERR_clear_error();
	if (!s)
		return 0;
	len = ASN1_STRING_length(s);
	if ((size_t)len >= size)
		len = (int)size - 1;
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)len);
	buf[len] = '\0';
	ASN1_STRING_free(s);
	return 1;
}

int cct_x509_ext_octets(const X509 *cert, const char *oid, uint8_t **p, size_t *n)
{
	const uint8_t *v;
	size_t vn;
	const unsigned char *q;
	ASN1_OCTET_STRING *os;

	*p = NULL;
	*n = 0;
	if (!cct_x509_ext_value(cert, oid, &v, &vn))
		return 0;
	q = v;
	os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)vn);
	ERR_clear_error();
	if (os && q == v + vn) {
		*n = (size_t)ASN1_STRING_length(os);
		*p = OPENSSL_memdup(ASN1_STRING_get0_data(os), *n ? *n : 1);
		ASN1_OCTET_STRING_free(os);
	} else {
		/* some issuers put the raw bytes directly in the extension value */
		ASN1_OCTET_STRING_free(os);
		*n = vn;
		*p = OPENSSL_memdup(v, vn ? vn : 1);
	}
	return *p != NULL;
}

static int ecdsa_verify_common(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t n,
			       int is_digest, const uint8_t *r, const uint8_t *s, size_t rs_len,
			       int le)
{
	uint8_t rb[80], sb[80];
	BIGNUM *br = NULL, *bs = NULL;
	ECDSA_SIG *sig = NULL;
	unsigned char *der = NULL;
	int derlen, ok = 0;
	size_t i;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;

	if (!key || rs_len > sizeof(rb))
		return 0;
	for (i = 0; i < rs_len; i++) {
		rb[i] = le ? r[rs_len - 1 - i] : r[i];
		sb[i] = le ? s[rs_len - 1 - i] : s[i];
	}
	br = BN_bin2bn(rb, (int)rs_len, NULL);
	bs = BN_bin2bn(sb, (int)rs_len, NULL);
	sig = ECDSA_SIG_new();
	if (!br || !bs || !sig || !ECDSA_SIG_set0(sig, br, bs)) {
		BN_free(br);
		BN_free(bs);
		goto out;
	}
	derlen = i2d_ECDSA_SIG(sig, &der);
	if (derlen <= 0)
		goto out;
	if (is_digest) {
		pctx = EVP_PKEY_CTX_new(key, NULL);
		if (pctx && EVP_PKEY_verify_init(pctx) == 1)
			ok = EVP_PKEY_verify(pctx, der, (size_t)derlen, msg, n) == 1;
	} else {
		mctx = EVP_MD_CTX_new();
		if (mctx && EVP_DigestVerifyInit(mctx, NULL, md, NULL, key) == 1)
			ok = EVP_DigestVerify(mctx, der, (size_t)derlen, msg, n) == 1;
	}
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	ERR_clear_error();
	return ok;
}

int cct_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t n,
			const uint8_t *r, const uint8_t *s, size_t rs_len, int le)
{
	return ecdsa_verify_common(key, md, msg, n, 0, r, s, rs_len, le);
}

int cct_ecdsa_verify_digest_rs(EVP_PKEY *key, const uint8_t *dgst, size_t dlen,
			       const uint8_t *r, const uint8_t *s, size_t rs_len, int le)
{
	return ecdsa_verify_common(key, NULL, dgst, dlen, 1, r, s, rs_len, le);
}

void cct_sha256(const void *p, size_t n, uint8_t out[32])
{
	EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL);
}

void cct_sha384(const void *p, size_t n, uint8_t out[48])
{
	EVP_Digest(p, n, out, NULL, EVP_sha384(), NULL);
}

void cct_sha512(const void *p, size_t n, uint8_t out[64])
{
	EVP_Digest(p, n, out, NULL, EVP_sha512(), NULL);
}
