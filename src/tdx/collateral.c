/* TDX collateral: QVL JSON bundle or PCS v4 directory -> parsed, signature-checked set.
 * JSON semantics come from jansson; signatures cover the exact bytes of the "tcbInfo" /
 * "enclaveIdentity" value, located by a small bounded span scanner (json_member_span). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "cctrust/core.h"
#include "tdx/tdx_int.h"
#include "x509/vcache.h"
#include "cctrust/collateral.h"
#include "x509/x509.h"

/* ---- span scanner: finds where a member's value text starts and ends; no semantics ---- */

static size_t skip_ws(const uint8_t *b, size_t n, size_t i)
{
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	return i;
}

/* i at the opening quote; returns index after the closing quote, or 0 on error */
static size_t skip_string(const uint8_t *b, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (b[i] == '\\') {
			i++; /* the escaped character; \uXXXX digits are plain characters */
			continue;
		}
		if (b[i] == '"')
			return i + 1;
		if (b[i] < 0x20)
			return 0;
	}
	return 0;
}

static size_t skip_value(const uint8_t *b, size_t n, size_t i)
{
	int depth = 0;

	if (i >= n)
		return 0;
	if (b[i] == '"')
		return skip_string(b, n, i);
	if (b[i] != '{' && b[i] != '[') {
		size_t s = i;

		while (i < n && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' &&
		       b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
			i++;
		return i > s ? i : 0;
	}
	while (i < n) {
		if (b[i] == '"') {
			i = skip_string(b, n, i);
			if (!i)
				return 0;
			continue;
		}
		if (b[i] == '{' || b[i] == '[') {
			if (++depth > CCT_TDX_JSON_MAX_DEPTH)
				return 0;
		} else if (b[i] == '}' || b[i] == ']') {
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return 0;
}

int cct_tdx__json_member_span(const uint8_t *b, size_t n, const char *key, size_t *start,
			      size_t *end)
{
	size_t i = skip_ws(b, n, 0), klen = strlen(key);
	int found = 0;

	if (i >= n || b[i] != '{')
		return CCT_EFORMAT;
	i = skip_ws(b, n, i + 1);
	if (i < n && b[i] == '}')
		return CCT_ECOLLATERAL;
	while (i < n) {
		size_t ks, ke, vs, ve;

		if (b[i] != '"')
			return CCT_EFORMAT;
		ks = i + 1;
		i = skip_string(b, n, i);
		if (!i)
			return CCT_EFORMAT;
		ke = i - 1;
		i = skip_ws(b, n, i);
		if (i >= n || b[i] != ':')
			return CCT_EFORMAT;
		vs = skip_ws(b, n, i + 1);
		ve = skip_value(b, n, vs);
		if (!ve)
			return CCT_EFORMAT;
		if (ke - ks == klen && !memcmp(b + ks, key, klen)) {
			if (found)
				return CCT_EFORMAT; /* duplicate member: ambiguous signed bytes */
			found = 1;
			*start = vs;
			*end = ve;
		}
		i = skip_ws(b, n, ve);
		if (i < n && b[i] == ',') {
			i = skip_ws(b, n, i + 1);
			continue;
		}
		if (i < n && b[i] == '}')
			return found ? CCT_OK : CCT_ECOLLATERAL;
		return CCT_EFORMAT;
	}
	return CCT_EFORMAT;
}

/* ---- semantic parse (jansson) ---- */

static int hex_field(uint8_t *dst, size_t n, json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (!s || strlen(s) != 2 * n)
		return -1;
	return cct_hex_decode_fixed(dst, n, s, NULL) == CCT_OK ? 0 : -1;
}

static int int_field(long *out, json_t *obj, const char *key, long max)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -1;
	*out = (long)json_integer_value(v);
	return 0;
}

static int time_field(time_t *out, json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && cct_time_parse(out, s, NULL) == CCT_OK ? 0 : -1;
}

static int str_field(char *dst, size_t size, json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (!s || strlen(s) >= size)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static void levels_free(tdx_tcb_level *l, size_t n)
{
	size_t i;

	for (i = 0; l && i < n; i++)
		free(l[i].adv);
	free(l);
}

/* common part of a TCB level: tcbDate, tcbStatus, advisoryIDs */
static int level_common(tdx_tcb_level *l, json_t *lv)
{
	json_t *adv = json_object_get(lv, "advisoryIDs");
	size_t i;

	if (str_field(l->status_name, sizeof(l->status_name), lv, "tcbStatus"))
		return -1;
	l->status = cct_tdx_tcb_status_from_name(l->status_name);
	if (str_field(l->date, sizeof(l->date), lv, "tcbDate") ||
	    cct_time_parse(&l->date_t, l->date, NULL) != CCT_OK)
		return -1;
	if (!adv)
		return 0;
	if (!json_is_array(adv) || json_array_size(adv) > CCT_TDX_MAX_ADVISORIES)
		return -1;
	l->adv = calloc(json_array_size(adv) + 1, sizeof(*l->adv));
	if (!l->adv)
		return -1;
	for (i = 0; i < json_array_size(adv); i++) {
		const char *s = json_string_value(json_array_get(adv, i));

		if (!s || strlen(s) >= sizeof(l->adv[0]))
			return -1;
		memcpy(l->adv[i], s, strlen(s) + 1);
	}
	l->nadv = json_array_size(adv);
	return 0;
}

static int components(uint8_t out[16], json_t *arr)
{
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) != 16)
		return -1;
	for (i = 0; i < 16; i++) {
		long v;

		if (int_field(&v, json_array_get(arr, i), "svn", 255))
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int isv_levels(tdx_tcb_level **out, size_t *count, json_t *arr, size_t max)
{
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > max)
		return -1;
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return -1;
	*count = json_array_size(arr);
	for (i = 0; i < *count; i++) {
		json_t *lv = json_array_get(arr, i);
		long v;

		if (int_field(&v, json_object_get(lv, "tcb"), "isvsvn", 65535) ||
		    level_common(&(*out)[i], lv))
			return -1;
		(*out)[i].isvsvn = (uint16_t)v;
	}
	return 0;
}

static int module_identity(tdx_module_identity *m, json_t *o, int with_levels)
{
	if (!json_is_object(o) || hex_field(m->mrsigner, 48, o, "mrsigner") ||
	    hex_field(m->attributes, 8, o, "attributes") ||
	    hex_field(m->attributes_mask, 8, o, "attributesMask"))
		return -1;
	if (!with_levels)
		return 0;
	if (str_field(m->id, sizeof(m->id), o, "id"))
		return -1;
	return isv_levels(&m->levels, &m->nlevels, json_object_get(o, "tcbLevels"),
			  CCT_TDX_MAX_TCB_LEVELS);
}

void cct_tdx__tcb_info_clear(tdx_tcb_info *t)
{
	size_t i;

	for (i = 0; t->ids && i < t->nids; i++)
		levels_free(t->ids[i].levels, t->ids[i].nlevels);
	free(t->ids);
	levels_free(t->levels, t->nlevels);
	memset(t, 0, sizeof(*t));
}

void cct_tdx__qe_identity_clear(tdx_qe_identity *q)
{
	levels_free(q->levels, q->nlevels);
	memset(q, 0, sizeof(*q));
}

static json_t *load_json(const uint8_t *p, size_t n, const char *what, cct_err *err)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
			    "%s: JSON does not parse at line %d: %s", what, je.line, je.text);
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0, "%s: not a JSON object",
			    what);
	}
	return j;
}

int cct_tdx__tcb_info_parse(tdx_tcb_info *t, const uint8_t *p, size_t n, cct_err *err)
{
	json_t *j, *ids, *levels, *mod;
	const char *bad = NULL;
	size_t i;

	memset(t, 0, sizeof(*t));
	j = load_json(p, n, "TCB info", err);
	if (!j)
		return CCT_EFORMAT;
	if (str_field(t->id, sizeof(t->id), j, "id"))
		bad = "id";
	else if (int_field(&t->version, j, "version", 1000))
		bad = "version";
	else if (time_field(&t->issue_date, j, "issueDate"))
		bad = "issueDate";
	else if (time_field(&t->next_update, j, "nextUpdate"))
		bad = "nextUpdate";
	else if (hex_field(t->fmspc, 6, j, "fmspc"))
		bad = "fmspc";
	else if (hex_field(t->pceid, 2, j, "pceId"))
		bad = "pceId";
	if (bad)
		goto out;
	if (strcmp(t->id, "TDX") != 0 || t->version != 3) {
		json_decref(j);
		cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
			    "TCB info: id \"%s\" version %ld is not TDX TCB info v3", t->id,
			    t->version);
		cct_tdx__tcb_info_clear(t);
		return CCT_EUNSUPPORTED;
	}
	mod = json_object_get(j, "tdxModule");
	if (mod) {
		if (module_identity(&t->module, mod, 0)) {
			bad = "tdxModule";
			goto out;
		}
		t->has_module = 1;
	}
	ids = json_object_get(j, "tdxModuleIdentities");
	if (ids) {
		if (!json_is_array(ids) || json_array_size(ids) > CCT_TDX_MAX_MODULE_IDS) {
			bad = "tdxModuleIdentities";
			goto out;
		}
		t->ids = calloc(json_array_size(ids) + 1, sizeof(*t->ids));
		if (!t->ids) {
			bad = "tdxModuleIdentities (out of memory)";
			goto out;
		}
		for (i = 0; i < json_array_size(ids); i++) {
			t->nids = i + 1;
			if (module_identity(&t->ids[i], json_array_get(ids, i), 1)) {
				bad = "tdxModuleIdentities[]";
				goto out;
			}
		}
	}
	levels = json_object_get(j, "tcbLevels");
	if (!json_is_array(levels) || json_array_size(levels) == 0 ||
	    json_array_size(levels) > CCT_TDX_MAX_TCB_LEVELS) {
		bad = "tcbLevels";
		goto out;
	}
	t->levels = calloc(json_array_size(levels), sizeof(*t->levels));
	if (!t->levels) {
		bad = "tcbLevels (out of memory)";
		goto out;
	}
	t->nlevels = json_array_size(levels);
	for (i = 0; i < t->nlevels; i++) {
		json_t *lv = json_array_get(levels, i), *tcb = json_object_get(lv, "tcb");
		long v;

		if (!json_is_object(tcb) ||
		    components(t->levels[i].sgx, json_object_get(tcb, "sgxtcbcomponents")) ||
		    components(t->levels[i].tdx, json_object_get(tcb, "tdxtcbcomponents")) ||
		    int_field(&v, tcb, "pcesvn", 65535) || level_common(&t->levels[i], lv)) {
			bad = "tcbLevels[] (want 16 sgxtcbcomponents, 16 tdxtcbcomponents, pcesvn, "
			      "tcbDate, tcbStatus)";
			goto out;
		}
		t->levels[i].pcesvn = (uint16_t)v;
	}
out:
	json_decref(j);
	if (bad) {
		cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
			    "TCB info: field %s is missing or malformed", bad);
		cct_tdx__tcb_info_clear(t);
		return CCT_EFORMAT;
	}
	return CCT_OK;
}

int cct_tdx__qe_identity_parse(tdx_qe_identity *q, const uint8_t *p, size_t n, cct_err *err)
{
	json_t *j;
	const char *bad = NULL;
	uint8_t b4[4] = { 0 }; /* read below even when an earlier field was refused */
	long v = 0;

	memset(q, 0, sizeof(*q));
	j = load_json(p, n, "QE identity", err);
	if (!j)
		return CCT_EFORMAT;
	if (str_field(q->id, sizeof(q->id), j, "id"))
		bad = "id";
	else if (int_field(&q->version, j, "version", 1000))
		bad = "version";
	else if (time_field(&q->issue_date, j, "issueDate"))
		bad = "issueDate";
	else if (time_field(&q->next_update, j, "nextUpdate"))
		bad = "nextUpdate";
	else if (hex_field(b4, 4, j, "miscselect"))
		bad = "miscselect";
	q->miscselect = (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
	if (!bad && hex_field(b4, 4, j, "miscselectMask"))
		bad = "miscselectMask";
	q->miscselect_mask =
		(uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
	if (bad)
		goto out;
	if (hex_field(q->attributes, 16, j, "attributes"))
		bad = "attributes";
	else if (hex_field(q->attributes_mask, 16, j, "attributesMask"))
		bad = "attributesMask";
	else if (hex_field(q->mrsigner, 32, j, "mrsigner"))
		bad = "mrsigner";
	else if (int_field(&v, j, "isvprodid", 65535))
		bad = "isvprodid";
	else if (isv_levels(&q->levels, &q->nlevels, json_object_get(j, "tcbLevels"),
			    CCT_TDX_MAX_QE_LEVELS))
		bad = "tcbLevels";
	q->isvprodid = (uint16_t)v;
	if (!bad && (strcmp(q->id, "TD_QE") != 0 || q->version != 2)) {
		json_decref(j);
		cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
			    "QE identity: id \"%s\" version %ld is not TD_QE identity v2", q->id,
			    q->version);
		cct_tdx__qe_identity_clear(q);
		return CCT_EUNSUPPORTED;
	}
out:
	json_decref(j);
	if (bad) {
		cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
			    "QE identity: field %s is missing or malformed", bad);
		cct_tdx__qe_identity_clear(q);
		return CCT_EFORMAT;
	}
	return CCT_OK;
}

/* ---- loading ---- */

void cct_tdx_collateral_free(cct_tdx_collateral *c)
{
	if (!c)
		return;
	sk_X509_pop_free(c->tcb_chain, X509_free);
	sk_X509_pop_free(c->qe_chain, X509_free);
	sk_X509_pop_free(c->pck_crl_chain, X509_free);
	X509_CRL_free(c->pck_crl);
	X509_CRL_free(c->root_crl);
	free(c->tcb_info_raw);
	free(c->qe_id_raw);
	cct_tdx__tcb_info_clear(&c->tcb);
	cct_tdx__qe_identity_clear(&c->qe);
	free(c);
}

static int set_chain(STACK_OF(X509) **dst, const uint8_t *p, size_t n, const char *what,
		     cct_err *err)
{
	int rc;

	*dst = sk_X509_new_null();
	if (!*dst)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	rc = cct_x509_parse_certs(*dst, NULL, p, n, what, err);
	if (rc != CCT_OK) {
		if (err)
			err->stage = CCT_STAGE_COLLATERAL;
		return rc == CCT_EENCODING ? CCT_EFORMAT : rc;
	}
	return CCT_OK;
}

static int all_hex(const uint8_t *p, size_t n)
{
	size_t i, d = 0;

	for (i = 0; i < n; i++) {
		if (isspace(p[i]))
			continue;
		if (!isxdigit(p[i]))
			return 0;
		d++;
	}
	return d > 0 && d % 2 == 0;
}

/* CRL as DER, PEM or hex text of DER */
static int set_crl(X509_CRL **dst, const uint8_t *p, size_t n, const char *what, cct_err *err)
{
	uint8_t *bin = NULL;
	size_t bn = 0;
	int rc;

	if (all_hex(p, n)) {
		rc = cct_hex_decode(&bin, &bn, (const char *)p, n, err);
		if (rc == CCT_OK)
			rc = cct_x509_parse_crl(dst, bin, bn, err);
		free(bin);
	} else {
		rc = cct_x509_parse_crl(dst, p, n, err);
	}
	if (rc != CCT_OK)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "%s: does not decode as a CRL (want DER, PEM or hex DER)", what);
	return CCT_OK;
}

static int set_sig(uint8_t sig[64], const char *hex, const char *what, cct_err *err)
{
	if (!hex || strlen(hex) != 128 || cct_hex_decode_fixed(sig, 64, hex, NULL) != CCT_OK)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "%s: want 128 hex digits (ECDSA P-256 r || s)", what);
	return CCT_OK;
}

static int dup_bytes(uint8_t **dst, size_t *dn, const void *p, size_t n)
{
	*dst = malloc(n + 1);
	if (!*dst)
		return CCT_ENOMEM;
	memcpy(*dst, p, n);
	(*dst)[n] = 0;
	*dn = n;
	return CCT_OK;
}

static int crl_times(const X509_CRL *crl, time_t *last, time_t *next);

/* fingerprints of every certificate of sk appended to parts (at most max) */
static size_t chain_parts(cct_vcache_part *parts, uint8_t (*fps)[32], size_t max,
			  STACK_OF(X509) *sk)
{
	size_t k = 0;
	int i;

	for (i = 0; i < sk_X509_num(sk) && k < max; i++, k++) {
		cct_x509_fingerprint(sk_X509_value(sk, i), fps[k]);
		parts[k].p = fps[k];
		parts[k].n = 32;
	}
	return k;
}

/* content hash (cache key part) and the earliest nextUpdate, computed once at load */
static int seal(cct_tdx_collateral *c, cct_err *err)
{
	enum { MAXP = 3 * (CCT_X509_MAX_CHAIN + 1) + 8 };
	cct_vcache_part parts[MAXP];
	uint8_t fps[MAXP][32];
	unsigned int n = 32;
	size_t k = 0;
	time_t last, next;

	parts[k++] = (cct_vcache_part){ c->tcb_info_raw, c->tcb_info_len };
	parts[k++] = (cct_vcache_part){ c->tcb_sig, 64 };
	parts[k++] = (cct_vcache_part){ c->qe_id_raw, c->qe_id_len };
	parts[k++] = (cct_vcache_part){ c->qe_sig, 64 };
	if (!X509_CRL_digest(c->pck_crl, EVP_sha256(), fps[k], &n) ||
	    !X509_CRL_digest(c->root_crl, EVP_sha256(), fps[k + 1], &n))
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_COLLATERAL, 0,
				   "collateral: cannot hash the CRLs");
	parts[k] = (cct_vcache_part){ fps[k], 32 };
	parts[k + 1] = (cct_vcache_part){ fps[k + 1], 32 };
	k += 2;
	/* each chain is delimited by its count so certificates cannot move between chains */
	{
		STACK_OF(X509) *chains[3] = { c->tcb_chain, c->qe_chain, c->pck_crl_chain };
		int counts[3], j;

		for (j = 0; j < 3; j++) {
			counts[j] = sk_X509_num(chains[j]);
			k += chain_parts(parts + k, fps + k, MAXP - k - 1, chains[j]);
		}
		parts[k++] = (cct_vcache_part){ counts, sizeof(counts) };
		if (!cct_vcache_key(c->content_hash, "tdx-collateral", parts, k))
			return cct_err_set(err, CCT_ERROR, CCT_STAGE_COLLATERAL, 0,
					   "collateral: cannot hash its content");
	}
	c->content_hashed = 1;
	c->earliest_next_update = c->tcb.next_update;
	if (c->qe.next_update < c->earliest_next_update)
		c->earliest_next_update = c->qe.next_update;
	if (crl_times(c->root_crl, &last, &next) == 0 && next < c->earliest_next_update)
		c->earliest_next_update = next;
	if (crl_times(c->pck_crl, &last, &next) == 0 && next < c->earliest_next_update)
		c->earliest_next_update = next;
	ERR_clear_error();
	return CCT_OK;
}

static int parse_signed_parts(cct_tdx_collateral *c, cct_err *err)
{
	int rc = cct_tdx__tcb_info_parse(&c->tcb, c->tcb_info_raw, c->tcb_info_len, err);

	if (rc != CCT_OK)
		return rc;
	rc = cct_tdx__qe_identity_parse(&c->qe, c->qe_id_raw, c->qe_id_len, err);
	if (rc != CCT_OK)
		return rc;
	return seal(c, err);
}

int cct_tdx_collateral_load_bundle(cct_tdx_collateral **out, const uint8_t *buf, size_t n,
				   cct_err *err)
{
	static const char *const keys[] = { "pck_crl_issuer_chain", "root_ca_crl", "pck_crl",
					    "tcb_info_issuer_chain", "tcb_info",
					    "tcb_info_signature", "qe_identity_issuer_chain",
					    "qe_identity", "qe_identity_signature" };
	cct_tdx_collateral *c = NULL;
	json_t *j = NULL;
	const char *v[9];
	size_t len[9], i;
	int rc = CCT_ERROR;

	*out = NULL;
	j = load_json(buf, n, "collateral bundle", err);
	if (!j)
		return CCT_EFORMAT;
	for (i = 0; i < 9; i++) {
		json_t *x = json_object_get(j, keys[i]);

		if (!json_is_string(x)) {
			rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					 "collateral bundle: \"%s\" is missing or not a string "
					 "(fail closed)",
					 keys[i]);
			goto out;
		}
		v[i] = json_string_value(x);
		len[i] = json_string_length(x);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	if ((rc = set_chain(&c->pck_crl_chain, (const uint8_t *)v[0], len[0],
			    "pck_crl_issuer_chain", err)) != CCT_OK ||
	    (rc = set_crl(&c->root_crl, (const uint8_t *)v[1], len[1], "root_ca_crl", err)) !=
		    CCT_OK ||
	    (rc = set_crl(&c->pck_crl, (const uint8_t *)v[2], len[2], "pck_crl", err)) != CCT_OK ||
	    (rc = set_chain(&c->tcb_chain, (const uint8_t *)v[3], len[3],
			    "tcb_info_issuer_chain", err)) != CCT_OK ||
	    (rc = set_sig(c->tcb_sig, v[5], "tcb_info_signature", err)) != CCT_OK ||
	    (rc = set_chain(&c->qe_chain, (const uint8_t *)v[6], len[6],
			    "qe_identity_issuer_chain", err)) != CCT_OK ||
	    (rc = set_sig(c->qe_sig, v[8], "qe_identity_signature", err)) != CCT_OK)
		goto out;
	/* the JSON string's content is exactly the signed text */
	if (dup_bytes(&c->tcb_info_raw, &c->tcb_info_len, v[4], len[4]) != CCT_OK ||
	    dup_bytes(&c->qe_id_raw, &c->qe_id_len, v[7], len[7]) != CCT_OK) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	rc = parse_signed_parts(c, err);
	if (rc != CCT_OK)
		goto out;
	*out = c;
	c = NULL;
	rc = CCT_OK;
out:
	json_decref(j);
	cct_tdx_collateral_free(c);
	return rc;
}

/* {"<key>": {...signed...}, "signature": "<hex>"} as Intel PCS v4 serves it */
static int load_signed_file(uint8_t **raw, size_t *raw_len, uint8_t sig[64], const uint8_t *p,
			    size_t n, const char *key, const char *what, cct_err *err)
{
	size_t s = 0, e = 0;
	json_t *j;
	int rc;

	j = load_json(p, n, what, err);
	if (!j)
		return CCT_EFORMAT;
	rc = set_sig(sig, json_string_value(json_object_get(j, "signature")), what, err);
	json_decref(j);
	if (rc != CCT_OK)
		return rc;
	rc = cct_tdx__json_member_span(p, n, key, &s, &e);
	if (rc != CCT_OK)
		return cct_err_set(err, rc == CCT_ECOLLATERAL ? CCT_ECOLLATERAL : CCT_EFORMAT,
				   CCT_STAGE_COLLATERAL, 0,
				   "%s: no single top-level \"%s\" member", what, key);
	if (dup_bytes(raw, raw_len, p + s, e - s) != CCT_OK)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	return CCT_OK;
}

/* Where the parts come from: a PCS v4 directory, or a collateral source (bundle) for one
 * FMSPC and PCK CA. */
typedef struct part_reader {
	const char *dir;
	const cct_collateral_source *src;
	const char *fmspc, *ca;
} part_reader;

static int source_part(uint8_t **buf, size_t *n, const part_reader *r, const char *name,
		       cct_err *err)
{
	static const struct {
		const char *name;
		cct_coll_kind kind;
		int chain;
	} map[] = {
		{ "tcb_info.json", CCT_COLL_TDX_TCB_INFO, 0 },
		{ "tcb_info_issuer_chain.pem", CCT_COLL_TDX_TCB_INFO, 1 },
		{ "qe_identity.json", CCT_COLL_TDX_QE_IDENTITY, 0 },
		{ "qe_identity_issuer_chain.pem", CCT_COLL_TDX_QE_IDENTITY, 1 },
		{ "pck_crl.der", CCT_COLL_TDX_PCK_CRL, 0 },
		{ "pck_crl_issuer_chain.pem", CCT_COLL_TDX_PCK_CRL, 1 },
		{ "root_ca_crl.der", CCT_COLL_TDX_ROOT_CA_CRL, 0 },
	};
	uint8_t *body = NULL, *chain = NULL;
	size_t bn = 0, cn = 0, i;
	const char *key;
	int rc;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].name, name))
			break;
	if (i == sizeof(map) / sizeof(map[0]))
		return CCT_ECOLLATERAL;
	key = map[i].kind == CCT_COLL_TDX_TCB_INFO	   ? r->fmspc
	      : map[i].kind == CCT_COLL_TDX_QE_IDENTITY ? "tdx"
	      : map[i].kind == CCT_COLL_TDX_PCK_CRL	   ? r->ca
							   : "root";
	rc = cct_coll_get(r->src, map[i].kind, key, &body, &bn, map[i].chain ? &chain : NULL,
			  map[i].chain ? &cn : NULL, err);
	if (rc != CCT_OK)
		return rc;
	if (map[i].chain) {
		free(body);
		if (!chain)
			return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					   "bundle item %s %s has no issuer chain",
					   cct_coll_kind_name(map[i].kind), key);
		*buf = chain;
		*n = cn;
	} else {
		*buf = body;
		*n = bn;
	}
	return CCT_OK;
}

/* read dir/name (first existing of a list); ECOLLATERAL when none exists */
static int read_part(uint8_t **buf, size_t *n, const part_reader *r, const char *const *names,
		     cct_err *err)
{
	char path[4096];
	struct stat st;
	size_t i;
	int rc;

	if (r->src) {
		for (i = 0; names[i]; i++) {
			rc = source_part(buf, n, r, names[i], err);
			if (rc != CCT_ECOLLATERAL)
				return rc;
		}
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "collateral bundle has no %s for FMSPC %s / PCK CA %s (fail "
				   "closed)",
				   names[0], r->fmspc, r->ca);
	}
	for (i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", r->dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return cct_file_read(buf, n, path, CCT_TDX_MAX_COLLATERAL, err);
	}
	return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
			   "collateral directory %s has no %s (fail closed)", r->dir, names[0]);
}

static int load_parts(cct_tdx_collateral **out, const part_reader *pr, cct_err *err)
{
	static const char *const n_tcb[] = { "tcb_info.json", NULL };
	static const char *const n_qe[] = { "qe_identity.json", NULL };
	static const char *const n_tcb_chain[] = { "tcb_info_issuer_chain.pem", NULL };
	static const char *const n_qe_chain[] = { "qe_identity_issuer_chain.pem",
						  "tcb_info_issuer_chain.pem", NULL };
	static const char *const n_pck_crl[] = { "pck_crl.der", "pck_crl.pem", NULL };
	static const char *const n_pck_chain[] = { "pck_crl_issuer_chain.pem", NULL };
	static const char *const n_root_crl[] = { "root_ca_crl.der", "root_ca_crl.pem", NULL };
	cct_tdx_collateral *c = calloc(1, sizeof(*c));
	uint8_t *b = NULL;
	size_t n = 0;
	int rc = CCT_ERROR;

	*out = NULL;
	if (!c)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
#define PART(names, stmt)                                      \
	do {                                                   \
		rc = read_part(&b, &n, pr, names, err);       \
		if (rc == CCT_OK)                              \
			rc = (stmt);                           \
		free(b);                                       \
		b = NULL;                                      \
		if (rc != CCT_OK)                              \
			goto out;                              \
	} while (0)
	PART(n_tcb, load_signed_file(&c->tcb_info_raw, &c->tcb_info_len, c->tcb_sig, b, n,
				     "tcbInfo", "tcb_info.json", err));
	PART(n_qe, load_signed_file(&c->qe_id_raw, &c->qe_id_len, c->qe_sig, b, n,
				    "enclaveIdentity", "qe_identity.json", err));
	PART(n_tcb_chain, set_chain(&c->tcb_chain, b, n, "tcb_info_issuer_chain.pem", err));
	PART(n_qe_chain, set_chain(&c->qe_chain, b, n, "qe_identity_issuer_chain.pem", err));
	PART(n_pck_crl, set_crl(&c->pck_crl, b, n, "pck_crl", err));
	PART(n_pck_chain, set_chain(&c->pck_crl_chain, b, n, "pck_crl_issuer_chain.pem", err));
	PART(n_root_crl, set_crl(&c->root_crl, b, n, "root_ca_crl", err));
#undef PART
	rc = parse_signed_parts(c, err);
	if (rc != CCT_OK)
		goto out;
	*out = c;
	c = NULL;
out:
	cct_tdx_collateral_free(c);
	return rc;
}

int cct_tdx_collateral_load(cct_tdx_collateral **out, const char *path, cct_err *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (!path || stat(path, &st) != 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot read collateral %s",
				   path ? path : "(null)");
	if (S_ISDIR(st.st_mode)) {
		part_reader pr = { .dir = path };

		return load_parts(out, &pr, err);
	}
	rc = cct_file_read(&buf, &n, path, CCT_TDX_MAX_COLLATERAL, err);
	if (rc != CCT_OK)
		return rc;
	rc = cct_tdx_collateral_load_bundle(out, buf, n, err);
	free(buf);
	return rc;
}

int cct_tdx_collateral_from_source(cct_tdx_collateral **out, const cct_collateral_source *src,
				   const char *fmspc_hex, const char *ca, cct_err *err)
{
	part_reader pr = { .src = src, .fmspc = fmspc_hex, .ca = ca };

	*out = NULL;
	if (!src || !fmspc_hex || !ca)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0, "bad argument");
	return load_parts(out, &pr, err);
}

/* ---- checks ---- */

static int check_window(time_t issue, time_t next, time_t at, const char *what, cct_err *err)
{
	char a[32], b[32], t[32];

	cct_time_format(a, sizeof(a), issue);
	cct_time_format(b, sizeof(b), next);
	cct_time_format(t, sizeof(t), at);
	if (at > next)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "%s expired: nextUpdate %s is before the verification time %s; "
				   "fetch fresh collateral",
				   what, b, t);
	if (at < issue)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "%s is not yet valid: issued %s, after the verification time %s",
				   what, a, t);
	return CCT_OK;
}

static int crl_times(const X509_CRL *crl, time_t *last, time_t *next)
{
	struct tm tm;
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);

	if (!nu || !ASN1_TIME_to_tm(X509_CRL_get0_lastUpdate(crl), &tm))
		return -1;
	*last = timegm(&tm);
	if (!ASN1_TIME_to_tm(nu, &tm))
		return -1;
	*next = timegm(&tm);
	return 0;
}

/* chain[0] -> pinned roots at time at, with the Root CA CRL */
static int check_signer_chain(STACK_OF(X509) *chain, STACK_OF(X509) *roots, X509_CRL *root_crl,
			      time_t at, const char *what, cct_err *err)
{
	cct_x509_verify_in in;
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	int rc;

	if (!crls)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	sk_X509_CRL_push(crls, root_crl);
	memset(&in, 0, sizeof(in));
	in.leaf = sk_X509_value(chain, 0);
	in.untrusted = chain;
	in.roots = roots;
	in.crls = crls;
	in.crl_check = 1;
	in.at = at;
	in.what = what;
	in.stage = CCT_STAGE_COLLATERAL;
	rc = cct_x509_chain_verify(NULL, &in, err);
	sk_X509_CRL_free(crls);
	return rc;
}

static int check_json_sig(X509 *signer, const uint8_t *raw, size_t n, const uint8_t sig[64],
			  const char *what, cct_err *err)
{
	if (!cct_ecdsa_verify_rs(X509_get0_pubkey(signer), EVP_sha256(), raw, n, sig, sig + 32,
				 32, 0))
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
				   "%s: ECDSA signature over the exact JSON text does not verify "
				   "under the signing certificate",
				   what);
	return CCT_OK;
}

static int check_uncached(const cct_tdx_collateral *c, STACK_OF(X509) *roots, time_t at,
			  cct_err *err)
{
	time_t last, next;
	X509 *root = sk_X509_value(roots, 0);
	int rc, i, root_ok = 0;

	/* freshness first: the clearest explanation of stale collateral */
	rc = check_window(c->tcb.issue_date, c->tcb.next_update, at, "TCB info", err);
	if (rc != CCT_OK)
		return rc;
	rc = check_window(c->qe.issue_date, c->qe.next_update, at, "QE identity", err);
	if (rc != CCT_OK)
		return rc;
	if (crl_times(c->root_crl, &last, &next) != 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "Root CA CRL: thisUpdate/nextUpdate missing");
	rc = check_window(last, next, at, "Root CA CRL", err);
	if (rc != CCT_OK)
		return rc;
	if (crl_times(c->pck_crl, &last, &next) != 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "PCK CRL: thisUpdate/nextUpdate missing");
	rc = check_window(last, next, at, "PCK CRL", err);
	if (rc != CCT_OK)
		return rc;
	/* Root CA CRL signed by a pinned root */
	for (i = 0; i < sk_X509_num(roots); i++) {
		root = sk_X509_value(roots, i);
		if (X509_CRL_verify(c->root_crl, X509_get0_pubkey(root)) == 1) {
			root_ok = 1;
			break;
		}
	}
	ERR_clear_error();
	if (!root_ok)
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
				   "Root CA CRL is not signed by the pinned Intel SGX Root CA");
	/* TCB info and QE identity: signing chains to the root, then the JSON signatures */
	rc = check_signer_chain(c->tcb_chain, roots, c->root_crl, at, "TCB info issuer chain",
				err);
	if (rc == CCT_OK)
		rc = check_json_sig(sk_X509_value(c->tcb_chain, 0), c->tcb_info_raw,
				    c->tcb_info_len, c->tcb_sig, "TCB info", err);
	if (rc == CCT_OK)
		rc = check_signer_chain(c->qe_chain, roots, c->root_crl, at,
					"QE identity issuer chain", err);
	if (rc == CCT_OK)
		rc = check_json_sig(sk_X509_value(c->qe_chain, 0), c->qe_id_raw, c->qe_id_len,
				    c->qe_sig, "QE identity", err);
	/* PCK CRL: its issuer (PCK Platform/Processor CA) chains to the root and signed it */
	if (rc == CCT_OK)
		rc = check_signer_chain(c->pck_crl_chain, roots, c->root_crl, at,
					"PCK CRL issuer chain", err);
	if (rc == CCT_OK &&
	    X509_CRL_verify(c->pck_crl, X509_get0_pubkey(sk_X509_value(c->pck_crl_chain, 0))) != 1)
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
				 "PCK CRL is not signed by the first certificate of its issuer "
				 "chain");
	ERR_clear_error();
	return rc;
}

int cct_tdx__roots_fp(STACK_OF(X509) *sk, uint8_t fp[32])
{
	cct_vcache_part parts[CCT_X509_MAX_CHAIN + 1];
	uint8_t fps[CCT_X509_MAX_CHAIN + 1][32];
	size_t k = chain_parts(parts, fps, CCT_X509_MAX_CHAIN + 1, sk);

	return cct_vcache_key(fp, "tdx-roots", parts, k);
}

/* verification times over which a successful check stays successful: every signed item's
 * issue..next window and every certificate's validity (issuer chains and anchors) */
static void success_window(const cct_tdx_collateral *c, STACK_OF(X509) *roots, time_t *lo,
			   time_t *hi)
{
	STACK_OF(X509) *chains[4] = { c->tcb_chain, c->qe_chain, c->pck_crl_chain, roots };
	int i, j;

	*lo = CCT_VCACHE_FOREVER_LO;
	*hi = CCT_VCACHE_FOREVER_HI;
	cct_vcache_window(lo, hi, c->tcb.issue_date, c->tcb.next_update);
	cct_vcache_window(lo, hi, c->qe.issue_date, c->qe.next_update);
	cct_vcache_window_crl(lo, hi, c->root_crl);
	cct_vcache_window_crl(lo, hi, c->pck_crl);
	for (j = 0; j < 4; j++)
		for (i = 0; i < sk_X509_num(chains[j]); i++)
			cct_vcache_window_cert(lo, hi, sk_X509_value(chains[j], i));
}

int cct_tdx__collateral_check(const cct_tdx_collateral *c, STACK_OF(X509) *roots,
			      const uint8_t roots_fp[32], time_t at, cct_err *err)
{
	cct_vcache *cache = c->content_hashed ? cct_vcache_shared() : NULL;
	cct_vcache_part parts[2] = { { c->content_hash, 32 }, { roots_fp, 32 } };
	cct_vcache_entry *e;
	uint8_t key[32];
	time_t lo, hi;
	cct_err local;
	int rc;

	if (cache && !cct_vcache_key(key, "tdx-collateral-check", parts, 2))
		cache = NULL;
	e = cache ? cct_vcache_get(cache, key, at) : NULL;
	if (e) {
		rc = cct_vcache_entry_rc(e, err);
		cct_vcache_release(e);
		return rc;
	}
	cct_err_clear(&local);
	rc = check_uncached(c, roots, at, &local);
	if (rc == CCT_OK)
		success_window(c, roots, &lo, &hi);
	else
		lo = hi = at;
	/* a success is only cached for times inside every window it relied on (an at outside it
	 * would mean a check missed something: then remember nothing beyond this very time) */
	if (rc != CCT_OK || at < lo || at > hi)
		lo = hi = at;
	cct_vcache_release(cct_vcache_put(cache, key, lo, hi, rc, &local, NULL, NULL));
	if (err)
		*err = local;
	return rc;
}

/* ---- one bundle item (collateral fetch / check) ---- */

int cct_tdx__coll_validate(cct_coll_item *it, const uint8_t *p, size_t n, const uint8_t *chain,
			   size_t chain_n, const uint8_t *root_crl, size_t root_n, time_t at,
			   cct_err *err)
{
	STACK_OF(X509) *roots = NULL, *sk = NULL;
	X509_CRL *crl = NULL, *rcrl = NULL;
	uint8_t *raw = NULL, sig[64];
	size_t raw_n = 0;
	time_t last, next;
	int rc, i, ok = 0, tcb = it->kind == CCT_COLL_TDX_TCB_INFO;
	const char *what = cct_coll_kind_name(it->kind);

	it->not_before = it->not_after = it->next_update = 0;
	rc = cct_tdx__roots(&roots, NULL, err);
	if (rc != CCT_OK)
		return rc;
	if (it->kind == CCT_COLL_TDX_ROOT_CA_CRL) {
		rc = set_crl(&crl, p, n, "root_ca_crl", err);
		if (rc != CCT_OK)
			goto out;
		for (i = 0; i < sk_X509_num(roots) && !ok; i++)
			ok = X509_CRL_verify(crl, X509_get0_pubkey(sk_X509_value(roots, i))) == 1;
		if (crl_times(crl, &last, &next) == 0) {
			it->not_before = last;
			it->next_update = next;
		}
		if (!ok)
			rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
					 "Root CA CRL is not signed by the pinned Intel SGX Root CA");
		goto out;
	}
	/* the other three need their issuer chain and the Root CA CRL for it */
	if (!chain || !root_crl) {
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "%s %s: %s missing (fail closed)", what, it->key,
				 !chain ? "issuer chain" : "Root CA CRL (tdx-root-ca-crl root)");
		goto out;
	}
	rc = set_chain(&sk, chain, chain_n, "issuer chain", err);
	if (rc == CCT_OK)
		rc = set_crl(&rcrl, root_crl, root_n, "root_ca_crl", err);
	if (rc != CCT_OK)
		goto out;
	if (it->kind == CCT_COLL_TDX_PCK_CRL) {
		rc = set_crl(&crl, p, n, "pck_crl", err);
		if (rc == CCT_OK && crl_times(crl, &last, &next) == 0) {
			it->not_before = last;
			it->next_update = next;
		}
		if (rc == CCT_OK)
			rc = check_signer_chain(sk, roots, rcrl, at, "PCK CRL issuer chain", err);
		if (rc == CCT_OK &&
		    X509_CRL_verify(crl, X509_get0_pubkey(sk_X509_value(sk, 0))) != 1)
			rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
					 "PCK CRL (%s) is not signed by its issuer chain", it->key);
		goto out;
	}
	rc = load_signed_file(&raw, &raw_n, sig, p, n, tcb ? "tcbInfo" : "enclaveIdentity", what,
			      err);
	if (rc != CCT_OK)
		goto out;
	if (tcb) {
		tdx_tcb_info t;
		char fm[13];

		memset(&t, 0, sizeof(t));
		rc = cct_tdx__tcb_info_parse(&t, raw, raw_n, err);
		it->not_before = t.issue_date;
		it->next_update = t.next_update;
		cct_hex_encode(fm, t.fmspc, 6);
		cct_tdx__tcb_info_clear(&t);
		if (rc == CCT_OK && strcasecmp(fm, it->key) != 0)
			rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					 "TCB info is for FMSPC %s, not %s", fm, it->key);
	} else {
		tdx_qe_identity q;

		memset(&q, 0, sizeof(q));
		rc = cct_tdx__qe_identity_parse(&q, raw, raw_n, err);
		it->not_before = q.issue_date;
		it->next_update = q.next_update;
		cct_tdx__qe_identity_clear(&q);
	}
	if (rc == CCT_OK)
		rc = check_signer_chain(sk, roots, rcrl, at,
					tcb ? "TCB info issuer chain" : "QE identity issuer chain",
					err);
	if (rc == CCT_OK)
		rc = check_json_sig(sk_X509_value(sk, 0), raw, raw_n, sig,
				    tcb ? "TCB info" : "QE identity", err);
out:
	ERR_clear_error();
	free(raw);
	X509_CRL_free(crl);
	X509_CRL_free(rcrl);
	if (sk)
		sk_X509_pop_free(sk, X509_free);
	sk_X509_pop_free(roots, X509_free);
	return rc;
}
