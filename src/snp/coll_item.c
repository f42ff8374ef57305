/* Validation of SNP bundle items with the verifier's own trust anchors (the pinned AMD ARKs,
 * ASKs and ASVKs of amd_roots.c) and chain code. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cctrust/core.h"
#include "snp/amd_roots.h"
#include "snp/snp_coll.h"
#include "x509/x509.h"

static time_t asn1_t(const ASN1_TIME *a)
{
	struct tm tm;

	if (!a || !ASN1_TIME_to_tm(a, &tm))
		return 0;
	return timegm(&tm);
}

/* pinned certificates of kind (NULL: all) into sk: the verifier's shared copies, referenced */
static int pinned(STACK_OF(X509) *sk, const char *kind)
{
	size_t i;

	for (i = 0; i < cct_snp_amd_cert_count; i++) {
		X509 *x;

		if (kind && strcmp(cct_snp_amd_certs[i].kind, kind) != 0)
			continue;
		x = cct_snp__amd_cert_x509(i);
		if (!x || !X509_up_ref(x))
			return -1;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			return -1;
		}
	}
	return 0;
}

static int chain_ok(X509 *leaf, STACK_OF(X509) *extra, time_t at, const char *what, cct_err *err)
{
	STACK_OF(X509) *roots = sk_X509_new_null(), *mid = sk_X509_new_null();
	cct_x509_verify_in in;
	int rc, i;

	if (!roots || !mid || pinned(roots, "ark") || pinned(mid, "ask") || pinned(mid, "asvk")) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "pinned AMD certificates");
		goto out;
	}
	for (i = 0; extra && i < sk_X509_num(extra); i++)
		if (X509_check_issued(sk_X509_value(extra, i), sk_X509_value(extra, i)) != X509_V_OK)
			sk_X509_push(mid, X509_dup(sk_X509_value(extra, i)));
	memset(&in, 0, sizeof(in));
	in.leaf = leaf;
	in.untrusted = mid;
	in.roots = roots;
	in.at = at;
	in.what = what;
	rc = cct_x509_chain_verify(NULL, &in, err);
out:
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(mid, X509_free);
	return rc;
}

int cct_snp__coll_validate(cct_coll_item *it, const uint8_t *p, size_t n, time_t at, cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null(), *arks = sk_X509_new_null();
	int rc = CCT_OK, i, k, found;

	if (!sk || !arks || pinned(arks, "ark")) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	it->not_before = it->not_after = it->next_update = 0;
	if (it->kind == CCT_COLL_SNP_CRL) {
		X509_CRL *crl = NULL;

		rc = cct_x509_parse_crl(&crl, p, n, err);
		if (rc != CCT_OK)
			goto out;
		found = 0;
		for (i = 0; i < sk_X509_num(arks) && !found; i++)
			found = X509_CRL_verify(crl, X509_get0_pubkey(sk_X509_value(arks, i))) == 1;
		ERR_clear_error();
		it->not_before = asn1_t(X509_CRL_get0_lastUpdate(crl));
		it->next_update = asn1_t(X509_CRL_get0_nextUpdate(crl));
		X509_CRL_free(crl);
		if (!found)
			rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_REVOCATION, 0,
					 "AMD CRL %s is not signed by a pinned AMD ARK", it->key);
		goto out;
	}
	rc = cct_x509_parse_certs(sk, NULL, p, n, cct_coll_kind_name(it->kind), err);
	if (rc != CCT_OK)
		goto out;
	if (sk_X509_num(sk) == 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0, "%s %s: no certificate",
				 cct_coll_kind_name(it->kind), it->key);
		goto out;
	}
	if (it->kind == CCT_COLL_SNP_VCEK) {
		if (sk_X509_num(sk) != 1) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					 "snp-vcek %s: want one certificate", it->key);
			goto out;
		}
		cct_x509_validity(sk_X509_value(sk, 0), &it->not_before, &it->not_after);
		rc = chain_ok(sk_X509_value(sk, 0), NULL, at, "VCEK chain", err);
		goto out;
	}
	/* ASK+ARK / ASVK+ARK: the ARK must be a pinned key, the other certificate chain to it */
	for (k = 0; k < sk_X509_num(sk); k++) {
		X509 *x = sk_X509_value(sk, k);
		time_t nb, na;

		cct_x509_validity(x, &nb, &na);
		if (!it->not_after || na < it->not_after)
			it->not_after = na;
		if (nb > it->not_before)
			it->not_before = nb;
		if (X509_check_issued(x, x) == X509_V_OK) {
			found = 0;
			for (i = 0; i < sk_X509_num(arks) && !found; i++)
				found = cct_x509_same_key(sk_X509_value(arks, i), x);
			if (!found) {
				rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
						 "%s %s: the ARK is not one of AMD's pinned roots",
						 cct_coll_kind_name(it->kind), it->key);
				goto out;
			}
		} else {
			rc = chain_ok(x, sk, at, "ASK/ASVK chain", err);
			if (rc != CCT_OK)
				goto out;
		}
	}
out:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	sk_X509_pop_free(arks, X509_free);
	return rc;
}
