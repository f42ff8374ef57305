/* Validation of SNP bundle items with the verifier's own trust anchors (the pinned AMD ARKs,
 * ASKs and ASVKs of amd_roots.c) and chain code. */
#define _GNU_SOURCE
#include <ctype.h>
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

/* the product of the pinned ARK with x's key, UNKNOWN when x is no pinned ARK */
static cct_snp_product ark_product(const X509 *x)
{
	size_t i;

	for (i = 0; i < cct_snp_amd_cert_count; i++) {
		X509 *a;

		if (strcmp(cct_snp_amd_certs[i].kind, "ark") != 0)
			continue;
		a = cct_snp__amd_cert_x509(i);
		if (a && cct_x509_same_key(a, x))
			return cct_snp_amd_certs[i].product;
	}
	return CCT_SNP_PRODUCT_UNKNOWN;
}

static const char *product_name(cct_snp_product p)
{
	return p == CCT_SNP_PRODUCT_UNKNOWN ? "no pinned" : cct_snp_product_name(p);
}

/* The chain of leaf to a pinned ARK; *product (optional) gets the ARK's product line. */
static int chain_ok(X509 *leaf, STACK_OF(X509) *extra, time_t at, const char *what,
		    cct_snp_product *product, cct_err *err)
{
	STACK_OF(X509) *roots = sk_X509_new_null(), *mid = sk_X509_new_null(), *chain = NULL;
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
	rc = cct_x509_chain_verify(&chain, &in, err);
	if (rc == CCT_OK && product)
		*product = ark_product(sk_X509_value(chain, sk_X509_num(chain) - 1));
out:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(mid, X509_free);
	return rc;
}

/* ---- the item's key against its content ---- */

static cct_snp_product product_named(const char *s, size_t n)
{
	static const cct_snp_product all[] = { CCT_SNP_PRODUCT_MILAN, CCT_SNP_PRODUCT_GENOA,
					       CCT_SNP_PRODUCT_TURIN };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strlen(cct_snp_product_name(all[i])) == n &&
		    !strncmp(cct_snp_product_name(all[i]), s, n))
			return all[i];
	return CCT_SNP_PRODUCT_UNKNOWN;
}

/* The product line a key names: "<P>" (ASK+ARK, ASVK+ARK), "vcek/<P>" / "vlek/<P>" (CRLs),
 * "<P>/<hwID>/<TCB>" (VCEK). */
static int key_product(cct_snp_product *out, const cct_coll_item *it, cct_err *err)
{
	const char *k = it->key, *slash;
	size_t n = strlen(k);

	if (it->kind == CCT_COLL_SNP_CRL) {
		if (strncmp(k, "vcek/", 5) && strncmp(k, "vlek/", 5))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "snp-crl key '%s' is not vcek/<Product> or "
					   "vlek/<Product>",
					   k);
		k += 5;
		n -= 5;
	} else if (it->kind == CCT_COLL_SNP_VCEK) {
		slash = strchr(k, '/');
		n = slash ? (size_t)(slash - k) : n;
	}
	*out = product_named(k, n);
	if (*out == CCT_SNP_PRODUCT_UNKNOWN)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "%s key '%s' names no AMD product (Milan, Genoa or Turin)",
				   cct_coll_kind_name(it->kind), it->key);
	return CCT_OK;
}

static int product_matches(const cct_coll_item *it, cct_snp_product want, cct_snp_product got,
			   const char *what, cct_err *err)
{
	if (want == got)
		return CCT_OK;
	return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
			   "%s: the key names %s, the content is not (%s %s ARK)",
			   cct_coll_kind_name(it->kind), cct_snp_product_name(want), what,
			   product_name(got));
}

/* A VCEK's key "<P>/<hwID hex>/[fmcSPL_n_]blSPL_n_teeSPL_n_snpSPL_n_ucodeSPL_n" against the
 * certificate's AMD extensions (hwID, the SPLs, and fmcSPL for Turin), as KDS issued it. */
static int vcek_matches_key(const cct_coll_item *it, X509 *x, cct_snp_product p, cct_err *err)
{
	static const char *const names[] = { "fmcSPL", "blSPL", "teeSPL", "snpSPL", "ucodeSPL" };
	static const char *const shown[] = { "fmc", "bl", "tee", "snp", "ucode" };
	static const char *const oids[] = { CCT_SNP_OID_FMC_SPL, CCT_SNP_OID_BL_SPL,
					    CCT_SNP_OID_TEE_SPL, CCT_SNP_OID_SNP_SPL,
					    CCT_SNP_OID_UCODE_SPL };
	const char *hw = strchr(it->key, '/'), *tcb = hw ? strchr(hw + 1, '/') : NULL, *s;
	size_t hwn = hw && tcb ? (size_t)(tcb - hw - 1) : 0, want_hw = p == CCT_SNP_PRODUCT_TURIN ? 8 : 64;
	uint8_t khw[64], *chw = NULL;
	size_t chwn = 0, i;
	char kt[96] = "", ct[96] = "", hx[17], khex[129];
	int rc = CCT_OK, mismatch = 0;

	if (tcb && hwn == 2 * want_hw)
		snprintf(khex, sizeof(khex), "%.*s", (int)hwn, hw + 1);
	if (!tcb || hwn != 2 * want_hw || cct_hex_decode_fixed(khw, want_hw, khex, NULL) != CCT_OK) {
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "snp-vcek key '%.80s': want <Product>/<hwID: %zu hex digits>/<TCB>",
				   it->key, 2 * want_hw);
	}
	if (!cct_x509_ext_octets(x, CCT_SNP_OID_HWID, &chw, &chwn))
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "snp-vcek: the certificate has no hwID extension (a VLEK?)");
	if (chwn != want_hw || memcmp(chw, khw, want_hw) != 0) {
		cct_hex_encode(hx, chw, chwn < 8 ? chwn : 8);
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "snp-vcek: the key names hwID %.16s..., the certificate's hwID is "
				 "%s... (%zu bytes): a VCEK of another chip",
				 hw + 1, hx, chwn);
		OPENSSL_free(chw);
		return rc;
	}
	OPENSSL_free(chw);
	/* the TCB part, field by field in KDS order */
	s = tcb + 1;
	for (i = p == CCT_SNP_PRODUCT_TURIN ? 0 : 1; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t nl = strlen(names[i]);
		long kv = -1, cv = -1;
		char *end;

		if (!strncmp(s, names[i], nl) && s[nl] == '_' && isdigit((unsigned char)s[nl + 1])) {
			kv = strtol(s + nl + 1, &end, 10);
			s = *end == '_' ? end + 1 : end;
			if (kv > 255 || (*end != '_' && *end != 0))
				kv = -1;
		}
		if (kv < 0)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "snp-vcek key '%.60s...': the TCB part wants %s%s_n_teeSPL_n_"
					   "snpSPL_n_ucodeSPL_n (n 0..255)",
					   it->key, p == CCT_SNP_PRODUCT_TURIN ? "fmcSPL_n_" : "",
					   "blSPL");
		if (cct_x509_ext_integer(x, oids[i], &cv) != 0)
			cv = -1;
		if (cv != kv)
			mismatch = 1;
		snprintf(kt + strlen(kt), sizeof(kt) - strlen(kt), " %s=%ld", shown[i], kv);
		snprintf(ct + strlen(ct), sizeof(ct) - strlen(ct), " %s=%ld", shown[i], cv);
	}
	if (*s)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "snp-vcek key '%.60s...': unexpected '%.20s' after ucodeSPL",
				   it->key, s);
	if (mismatch)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "snp-vcek: the key names TCB%s, the certificate is for TCB%s (-1: "
				   "absent)",
				   kt, ct);
	return CCT_OK;
}

int cct_snp__coll_validate(cct_coll_item *it, const uint8_t *p, size_t n, time_t at, cct_err *err)
{
	STACK_OF(X509) *sk = sk_X509_new_null(), *arks = sk_X509_new_null();
	cct_snp_product kp = CCT_SNP_PRODUCT_UNKNOWN, got = CCT_SNP_PRODUCT_UNKNOWN;
	int rc = CCT_OK, i, k, found;

	if (!sk || !arks || pinned(arks, "ark")) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	it->not_before = it->not_after = it->next_update = 0;
	rc = key_product(&kp, it, err);
	if (rc != CCT_OK)
		goto out;
	if (it->kind == CCT_COLL_SNP_CRL) {
		X509_CRL *crl = NULL;

		rc = cct_x509_parse_crl(&crl, p, n, err);
		if (rc != CCT_OK)
			goto out;
		found = 0;
		for (i = 0; i < sk_X509_num(arks) && !found; i++)
			if (X509_CRL_verify(crl, X509_get0_pubkey(sk_X509_value(arks, i))) == 1) {
				found = 1;
				got = ark_product(sk_X509_value(arks, i));
			}
		ERR_clear_error();
		it->not_before = asn1_t(X509_CRL_get0_lastUpdate(crl));
		it->next_update = asn1_t(X509_CRL_get0_nextUpdate(crl));
		X509_CRL_free(crl);
		if (!found)
			rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_REVOCATION, 0,
					 "AMD CRL %s is not signed by a pinned AMD ARK", it->key);
		else
			rc = product_matches(it, kp, got, "signed by the", err);
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
		rc = chain_ok(sk_X509_value(sk, 0), NULL, at, "VCEK chain", &got, err);
		if (rc == CCT_OK)
			rc = product_matches(it, kp, got, "chains to the", err);
		if (rc == CCT_OK)
			rc = vcek_matches_key(it, sk_X509_value(sk, 0), kp, err);
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
			got = ark_product(x);
			if (got == CCT_SNP_PRODUCT_UNKNOWN) {
				rc = cct_err_set(err, CCT_ECHAIN, CCT_STAGE_CHAIN, 0,
						 "%s %s: the ARK is not one of AMD's pinned roots",
						 cct_coll_kind_name(it->kind), it->key);
				goto out;
			}
		} else {
			rc = chain_ok(x, sk, at, "ASK/ASVK chain", &got, err);
			if (rc != CCT_OK)
				goto out;
		}
		/* every certificate of the item belongs to the product its key names */
		rc = product_matches(it, kp, got, "its ARK is the", err);
		if (rc != CCT_OK)
			goto out;
	}
out:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	sk_X509_pop_free(arks, X509_free);
	return rc;
}
