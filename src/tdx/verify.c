/* TDX quote verification: signatures, QE binding, PCK chain + CRLs, collateral, TCB, policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "cctrust/core.h"
#include "tdx/tdx_int.h"
#include "x509/vcache.h"
#include "x509/x509.h"

int cct_tdx_quote_pck_info(const cct_tdx_quote *q, char fmspc_hex[13], char ca[16], cct_err *err)
{
	STACK_OF(X509) *roots = NULL, *chain = NULL;
	cct_tdx_pck_ext ext;
	int rc;

	rc = cct_tdx__roots(&roots, NULL, err);
	if (rc == CCT_OK)
		rc = cct_tdx__pck_chain_parse(&chain, &q->pck_chain_pem, roots, q->off_pck_chain,
					      err);
	if (rc == CCT_OK)
		rc = cct_tdx__pck_ext_parse(&ext, sk_X509_value(chain, 0), err);
	if (rc == CCT_OK) {
		cct_hex_encode(fmspc_hex, ext.fmspc, 6);
		cct_tdx__pck_ca_name(sk_X509_value(chain, 1), ca, 16);
	}
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(roots, X509_free);
	return rc;
}

static const char *const allow_names[8] = { "MRTD",       "RTMR0",   "RTMR1",
					     "RTMR2",      "RTMR3",   "MRCONFIGID",
					     "MROWNER",    "MROWNERCONFIG" };

static const uint8_t *allow_value(const cct_tdx_td_report *b, int i, size_t *off)
{
	switch (i) {
	case 0:
		*off = 0x88;
		return b->mrtd;
	case 1: case 2: case 3: case 4:
		*off = 0x148 + (size_t)(i - 1) * 48;
		return b->rtmr[i - 1];
	case 5:
		*off = 0xB8;
		return b->mrconfigid;
	case 6:
		*off = 0xE8;
		return b->mrowner;
	default:
		*off = 0x118;
		return b->mrownerconfig;
	}
}

static int policy_check(const cct_tdx_result *res, const cct_tdx_policy *pol, cct_err *err)
{
	const cct_tdx_td_report *b = &res->quote.body;
	size_t body = CCT_TDX_HEADER_SIZE + (res->quote.version == 5 ? 6 : 0), i, k;
	int j;

	if (res->debug && !pol->allow_debug_insecure)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, body + 0x78,
				   "TD_ATTRIBUTES.DEBUG is set: the host can read this TD's memory "
				   "(refused; --insecure-allow-debug accepts it)");
	if (pol->xfam_allow_count) {
		int ok = 0;

		for (k = 0; k < pol->xfam_allow_count; k++)
			ok |= !memcmp(b->xfam, pol->xfam_allow[k], 8);
		if (!ok) {
			char h[17];

			cct_hex_encode(h, b->xfam, 8);
			return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, body + 0x80,
					   "XFAM %s is not in the policy's allow-list", h);
		}
	}
	for (j = 0; j < 8; j++) {
		size_t off;
		const uint8_t *v = allow_value(b, j, &off);
		int ok = 0;

		if (!pol->allow_count[j])
			continue;
		for (k = 0; k < pol->allow_count[j]; k++)
			ok |= cct_ct_eq(v, pol->allow[j][k], 48);
		if (!ok) {
			char h[97];

			cct_hex_encode(h, v, 48);
			return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT,
					   body + off, "%s %s is not in the policy's allow-list",
					   allow_names[j], h);
		}
	}
	if (pol->has_report_data && !cct_ct_eq(b->report_data, pol->report_data, 64)) {
		char want[129], have[129];

		cct_hex_encode(want, pol->report_data, 64);
		cct_hex_encode(have, b->report_data, 64);
		return cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, body + 0x208,
				   "REPORTDATA (offset 0x%zx) is %.32s...; expected %.32s...",
				   body + 0x208, have, want);
	}
	if (!res->tcb_evaluated)
		return CCT_OK;
	{
		unsigned accept = pol->accept_tcb ? pol->accept_tcb
						  : 1u << CCT_TDX_TCB_UP_TO_DATE;

		if (!(accept & (1u << res->tcb_status)))
			return cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, 0,
					   "TCB status %s is not accepted by the policy (accepted "
					   "by default: UpToDate; --accept-tcb adds others)",
					   cct_tdx_tcb_status_name(res->tcb_status));
	}
	if (pol->min_tcb_date) {
		time_t d = 0;

		if (cct_time_parse(&d, res->tcb_date, NULL) != CCT_OK || d < pol->min_tcb_date) {
			char w[32];

			cct_time_format(w, sizeof(w), pol->min_tcb_date);
			return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
					   "tcbDate %s is older than the policy's minimum %s",
					   res->tcb_date, w);
		}
	}
	for (i = 0; i < res->advisory_count; i++)
		for (k = 0; k < pol->advisory_deny_count; k++)
			if (pol->advisory_deny[k] &&
			    !strcmp(res->advisory_ids[i], pol->advisory_deny[k]))
				return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
						   "advisory %s applies to this platform and is "
						   "denied by the policy",
						   res->advisory_ids[i]);
	return CCT_OK;
}

/* ---- per-certificate and per-anchor work, done once per process (x509/vcache) ---- */

/* trust anchors, parsed once per override text (or once for the pinned Intel root) */
typedef struct roots_obj {
	STACK_OF(X509) *sk;
	uint8_t fp[32];
} roots_obj;

static void roots_obj_free(void *p)
{
	roots_obj *o = p;

	sk_X509_pop_free(o->sk, X509_free);
	free(o);
}

/* parsing is a pure function of the text: the outcome holds at every time. Failures are not
 * remembered (they are cheap and rare). */
static cct_vcache_entry *roots_get(const cct_slice *override, cct_err *err, int *rc)
{
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_part part = { override ? override->p : NULL, override ? override->size : 0 };
	cct_vcache_entry *e;
	roots_obj *o;
	uint8_t key[32];

	if (cache && !cct_vcache_key(key, "tdx-roots-parsed", &part, 1))
		cache = NULL;
	if (cache && (e = cct_vcache_get(cache, key, 0)) != NULL) {
		*rc = CCT_OK;
		return e;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		*rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
		return NULL;
	}
	*rc = cct_tdx__roots(&o->sk, override, err);
	if (*rc == CCT_OK && !cct_tdx__roots_fp(o->sk, o->fp))
		*rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_CHAIN, 0, "cannot hash the trust roots");
	if (*rc != CCT_OK) {
		roots_obj_free(o);
		return NULL;
	}
	e = cct_vcache_put(cache, key, CCT_VCACHE_FOREVER_LO, CCT_VCACHE_FOREVER_HI, CCT_OK, NULL,
			   o, roots_obj_free);
	if (!e)
		*rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	return e;
}

/* the attestation key as an EVP_PKEY, once per key (a QE certifies one key for many quotes;
 * building the key object costs as much as a third of a signature verification) */
static void pkey_free(void *p)
{
	EVP_PKEY_free(p);
}

static cct_vcache_entry *att_key_get(const uint8_t xy[64])
{
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_part part = { xy, 64 };
	cct_vcache_entry *e;
	EVP_PKEY *k;
	uint8_t key[32];

	if (cache && !cct_vcache_key(key, "tdx-att-key", &part, 1))
		cache = NULL;
	if (cache && (e = cct_vcache_get(cache, key, 0)) != NULL)
		return e;
	k = cct_tdx__p256_key(xy);
	if (!k)
		return NULL; /* not a P-256 point: not remembered */
	return cct_vcache_put(cache, key, CCT_VCACHE_FOREVER_LO, CCT_VCACHE_FOREVER_HI, CCT_OK,
			      NULL, k, pkey_free);
}

/* the quote's PCK chain, parsed and pinned to the anchors once per (PEM text, anchors); the SGX
 * extension parse and the CA name with it (pure functions of the leaf / intermediate) */
typedef struct pck_obj {
	STACK_OF(X509) *chain;
	int ext_rc;
	cct_err ext_err;
	cct_tdx_pck_ext ext;
	char ca[16];
	int intel_root;
} pck_obj;

static void pck_obj_free(void *p)
{
	pck_obj *o = p;

	sk_X509_pop_free(o->chain, X509_free);
	free(o);
}

static cct_vcache_entry *pck_get(const cct_tdx_quote *q, const roots_obj *roots,
				 uint8_t key[32], cct_err *err, int *rc)
{
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_part parts[2] = { { roots->fp, 32 },
				     { q->pck_chain_pem.p, q->pck_chain_pem.size } };
	cct_vcache_entry *e;
	pck_obj *o;

	if (!cct_vcache_key(key, "tdx-pck-parsed", parts, 2)) {
		memset(key, 0, 32);
		cache = NULL;
	}
	if (cache && (e = cct_vcache_get(cache, key, 0)) != NULL) {
		*rc = CCT_OK;
		return e;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		*rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
		return NULL;
	}
	*rc = cct_tdx__pck_chain_parse(&o->chain, &q->pck_chain_pem, roots->sk, q->off_pck_chain,
				       err);
	if (*rc != CCT_OK) {
		pck_obj_free(o);
		return NULL;
	}
	o->ext_rc = cct_tdx__pck_ext_parse(&o->ext, sk_X509_value(o->chain, 0), &o->ext_err);
	cct_tdx__pck_ca_name(sk_X509_value(o->chain, 1), o->ca, sizeof(o->ca));
	o->intel_root = cct_tdx__is_intel_root(sk_X509_value(o->chain, CCT_TDX_PCK_CHAIN_LEN - 1));
	e = cct_vcache_put(cache, key, CCT_VCACHE_FOREVER_LO, CCT_VCACHE_FOREVER_HI, CCT_OK, NULL,
			   o, pck_obj_free);
	if (!e)
		*rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	return e;
}

static int verify_pck_chain_uncached(STACK_OF(X509) *chain, STACK_OF(X509) *roots,
				     const cct_tdx_collateral *coll, time_t at, cct_err *err)
{
	cct_x509_verify_in in;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = NULL;
	int rc;

	if (!untrusted)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
	/* only the intermediate is offered: the anchor is always the pinned root */
	sk_X509_push(untrusted, sk_X509_value(chain, 1));
	memset(&in, 0, sizeof(in));
	in.leaf = sk_X509_value(chain, 0);
	in.untrusted = untrusted;
	in.roots = roots;
	in.at = at;
	in.what = "PCK certificate chain";
	if (coll) {
		crls = sk_X509_CRL_new_null();
		if (!crls) {
			sk_X509_free(untrusted);
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_CHAIN, 0, "out of memory");
		}
		sk_X509_CRL_push(crls, coll->pck_crl);
		sk_X509_CRL_push(crls, coll->root_crl);
		in.crls = crls;
		in.crl_check = 2;
	}
	rc = cct_x509_chain_verify(NULL, &in, err);
	sk_X509_CRL_free(crls);
	sk_X509_free(untrusted);
	return rc;
}

/* PCK chain to the anchors at time at (with the collateral's CRLs when given), once per
 * (chain, anchors, collateral content) and window of times: the validity of every certificate
 * involved and of both CRLs */
static int verify_pck_chain(const pck_obj *pck, const uint8_t pck_key[32],
			    const roots_obj *roots, const cct_tdx_collateral *coll, time_t at,
			    int *revocation_checked, cct_err *err)
{
	static const uint8_t none[32];
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_part parts[2] = {
		{ pck_key, 32 }, { coll && coll->content_hashed ? coll->content_hash : none, 32 }
	};
	cct_vcache_entry *e;
	uint8_t key[32];
	time_t lo = CCT_VCACHE_FOREVER_LO, hi = CCT_VCACHE_FOREVER_HI;
	cct_err local;
	int rc, i;

	if ((coll && !coll->content_hashed) || !cct_vcache_key(key, "tdx-pck-chain", parts, 2))
		cache = NULL;
	e = cache ? cct_vcache_get(cache, key, at) : NULL;
	if (e) {
		rc = cct_vcache_entry_rc(e, err);
		cct_vcache_release(e);
		*revocation_checked = coll && rc == CCT_OK;
		return rc;
	}
	cct_err_clear(&local);
	rc = verify_pck_chain_uncached(pck->chain, roots->sk, coll, at, &local);
	if (rc == CCT_OK) {
		for (i = 0; i < sk_X509_num(pck->chain); i++)
			cct_vcache_window_cert(&lo, &hi, sk_X509_value(pck->chain, i));
		for (i = 0; i < sk_X509_num(roots->sk); i++)
			cct_vcache_window_cert(&lo, &hi, sk_X509_value(roots->sk, i));
		if (coll) {
			cct_vcache_window_crl(&lo, &hi, coll->pck_crl);
			cct_vcache_window_crl(&lo, &hi, coll->root_crl);
		}
	}
	if (rc != CCT_OK || at < lo || at > hi)
		lo = hi = at;
	cct_vcache_release(cct_vcache_put(cache, key, lo, hi, rc, &local, NULL, NULL));
	if (err)
		*err = local;
	*revocation_checked = coll && rc == CCT_OK;
	return rc;
}

void cct_tdx_policy_appraise_none(cct_tdx_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->accept_tcb = ((1u << CCT_TDX_TCB_COUNT) - 1) & ~1u;
	pol->allow_debug_insecure = 1;
}

int cct_tdx_verify(cct_tdx_result *out, const uint8_t *buf, size_t len,
		   const cct_tdx_verify_opts *opts, cct_err *err)
{
	static const cct_tdx_policy default_policy;
	cct_tdx_result local, *res = out ? out : &local;
	const cct_tdx_policy *pol = opts && opts->policy ? opts->policy : &default_policy;
	cct_tdx_collateral *coll = opts ? opts->collateral : NULL;
	cct_vcache_entry *roots_e = NULL, *pck_e = NULL, *att_e = NULL;
	const roots_obj *roots;
	const pck_obj *pck;
	uint8_t pck_key[32];
	EVP_PKEY *att = NULL;
	cct_tdx_quote *q = &res->quote;
	time_t at;
	uint8_t h[32];
	unsigned char *hashed = NULL;
	int rc = CCT_ERROR;

	memset(res, 0, sizeof(*res));
	cct_err_clear(err);
	if (!opts || (!buf && len))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	at = opts->at ? opts->at : time(NULL);

	/* what is not a quote is said first, whatever else is missing */
	rc = cct_tdx_quote_parse(q, buf, len, err);
	if (rc != CCT_OK)
		goto out;
	res->parsed = 1;
	res->debug = q->body.td_attributes[0] & CCT_TDX_TD_ATTR_DEBUG;
	if (!coll && !opts->quote_only) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "no TCB collateral given and quote-only verification not "
				 "requested (fail closed)");
		goto out;
	}

	/* 1. quote signature: attestation key over header + body */
	att_e = att_key_get(q->att_key);
	att = att_e ? cct_vcache_entry_obj(att_e) : NULL;
	if (!att) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, q->off_sig_data + 64,
				 "attestation public key is not a P-256 point");
		goto out;
	}
	if (!cct_ecdsa_verify_rs(att, EVP_sha256(), q->signed_data.p, q->signed_data.size,
				 q->quote_sig, q->quote_sig + 32, 32, 0)) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, q->off_sig_data,
				 "quote signature does not verify under the attestation key "
				 "(header or TD report altered)");
		goto out;
	}
	/* 2. PCK chain structure and pinned root */
	roots_e = roots_get(&opts->trust_root_pem, err, &rc);
	if (!roots_e)
		goto out;
	roots = cct_vcache_entry_obj(roots_e);
	pck_e = pck_get(q, roots, pck_key, err, &rc);
	if (!pck_e)
		goto out;
	pck = cct_vcache_entry_obj(pck_e);
	/* an override root (simulated TEE, tests) that is not Intel's marks every claim */
	if (opts->trust_root_pem.p && opts->trust_root_pem.size)
		res->simulated = !pck->intel_root;
	/* 3. QE report signature by the PCK leaf key */
	if (!cct_ecdsa_verify_rs(X509_get0_pubkey(sk_X509_value(pck->chain, 0)), EVP_sha256(),
				 q->qe_report_raw.p, q->qe_report_raw.size, q->qe_report_sig,
				 q->qe_report_sig + 32, 32, 0)) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, q->off_qe_sig,
				 "QE report signature does not verify under the PCK leaf key");
		goto out;
	}
	/* 4. QE report_data = SHA-256(attestation key || QE authentication data) || 0^32 */
	hashed = malloc(64 + q->qe_auth_data.size);
	if (!hashed) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_SIGNATURE, 0, "out of memory");
		goto out;
	}
	memcpy(hashed, q->att_key, 64);
	if (q->qe_auth_data.size)
		memcpy(hashed + 64, q->qe_auth_data.p, q->qe_auth_data.size);
	cct_sha256(hashed, 64 + q->qe_auth_data.size, h);
	if (!cct_ct_eq(h, q->qe_report.report_data, 32) ||
	    !cct_is_zero(q->qe_report.report_data + 32, 32)) {
		rc = cct_err_set(err, CCT_EUNTRUSTED, CCT_STAGE_SIGNATURE, q->off_qe_report + 0x140,
				 "QE report_data is not SHA-256(attestation key || QE "
				 "authentication data) || 32 zero bytes: the attestation key is "
				 "not certified by the QE");
		goto out;
	}
	res->signature_ok = 1;
	/* 5. PCK SGX extensions */
	if (pck->ext_rc != CCT_OK) {
		if (err)
			*err = pck->ext_err;
		rc = pck->ext_rc;
		goto out;
	}
	memcpy(res->fmspc, pck->ext.fmspc, 6);
	memcpy(res->pceid, pck->ext.pceid, 2);
	memcpy(res->ppid, pck->ext.ppid, 16);
	memcpy(res->cpusvn, pck->ext.cpusvn, 16);
	memcpy(res->sgx_tcb_comp, pck->ext.comp, 16);
	res->pcesvn = pck->ext.pcesvn;
	snprintf(res->pck_ca, sizeof(res->pck_ca), "%s", pck->ca);
	/* 6. collateral (checked once per content, anchors and window of verification times) */
	if (coll) {
		rc = cct_tdx__collateral_check(coll, roots->sk, roots->fp, at, err);
		if (rc != CCT_OK)
			goto out;
		res->collateral_expires = coll->earliest_next_update;
	}
	/* 7. PCK chain to the pinned root at the verification time, with CRLs when available */
	rc = verify_pck_chain(pck, pck_key, roots, coll, at, &res->revocation_checked, err);
	if (rc != CCT_OK)
		goto out;
	res->chain_ok = 1;
	/* 8. TCB */
	if (coll) {
		rc = cct_tdx__tcb_evaluate(res, coll, q, &pck->ext, err);
		if (rc != CCT_OK)
			goto out;
	}
	/* 9. policy */
	rc = policy_check(res, pol, err);
	if (rc != CCT_OK)
		goto out;
	rc = CCT_OK;
out:
	free(hashed);
	cct_vcache_release(att_e);
	cct_vcache_release(pck_e);
	cct_vcache_release(roots_e);
	ERR_clear_error();
	return rc;
}

int cct_tdx_verify_unappraised(cct_tdx_result **out, const uint8_t *quote, size_t len, time_t at,
			       cct_tdx_collateral *coll, const uint8_t *root_pem, size_t root_len,
			       cct_err *err)
{
	cct_tdx_verify_opts vo;
	cct_tdx_policy pol;
	int rc;

	*out = calloc(1, sizeof(**out));
	if (!*out)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	cct_tdx_policy_appraise_none(&pol);
	memset(&vo, 0, sizeof(vo));
	vo.at = at;
	vo.collateral = coll;
	vo.policy = &pol;
	vo.trust_root_pem.p = root_pem;
	vo.trust_root_pem.size = root_len;
	rc = cct_tdx_verify(*out, quote, len, &vo, err);
	if (rc == CCT_OK && (!(*out)->tcb_evaluated || !(*out)->revocation_checked))
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "TDX TCB or revocation not evaluated (fail closed)");
	return rc;
}
