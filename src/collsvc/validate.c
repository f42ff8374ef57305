/* Validation of bundle items with the verifiers' own checks, and the freshness report of
 * `cctrust collateral check`. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cctrust/collateral.h"
#include "cctrust/core.h"
#include "cctrust/nvgpu.h"
#include "nvgpu/rim.h"
#include "snp/snp_coll.h"
#include "tdx/tdx_int.h"
#include "x509/ocsp.h"

/* The RIM id an item's key names against what the document states (Meta colloquialVersion,
 * product, edition), for the ids the GPU verifier asks for (src/nvgpu/verify.c):
 * NV_GPU_DRIVER_<chip>_<version> and NV_GPU_CC_DRIVER_<chip>_<version> (the driver version as
 * the RIM states it), NV_GPU_VBIOS_<project>_<SKU>_<chip SKU>_<VERSION> and
 * NV_SWITCH_BIOS_<...>_<VERSION> (the BIOS version without dots, upper case). A RIM under
 * another id's key would be handed to a verifier that asks for that id. */
static int rim_matches_key(const char *key, const char *ver, const char *product,
			   const char *edition, cct_err *err)
{
	const char *last = strrchr(key, '_'), *want_ed, *rest = NULL;
	char got[64], chip[64] = "";
	int driver = 0;

	if (!strncmp(key, "NV_GPU_DRIVER_", 14))
		rest = key + 14, driver = 1;
	else if (!strncmp(key, "NV_GPU_CC_DRIVER_", 17))
		rest = key + 17, driver = 1;
	else if (!strncmp(key, "NV_GPU_VBIOS_", 13))
		rest = key + 13;
	else if (!strncmp(key, "NV_SWITCH_BIOS_", 15))
		rest = key + 15;
	if (!rest || !last || last < rest || !last[1])
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "nvidia-rim key '%.80s' is not a RIM id the GPU verifier asks for "
				   "(NV_GPU_DRIVER_<chip>_<version>, NV_GPU_CC_DRIVER_, NV_GPU_VBIOS_, "
				   "NV_SWITCH_BIOS_)",
				   key);
	want_ed = !strncmp(key, "NV_SWITCH_", 10) ? "SWITCH" : "GPU";
	if (driver) {
		snprintf(chip, sizeof(chip), "%.*s", (int)(last - rest), rest);
		snprintf(got, sizeof(got), "%s", ver);
	} else {
		cct_rim_id_version(got, sizeof(got), ver);
	}
	if (strcasecmp(edition, want_ed) != 0 || strcmp(got, last + 1) != 0 ||
	    (driver && strcasecmp(product, chip) != 0) || (!driver && strchr(ver, '.') == NULL))
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "nvidia-rim: the key names a %s %s%s%s version %s, the RIM is a %s "
				   "%s RIM version %s",
				   want_ed, driver ? "driver" : "BIOS", driver ? " for " : "", chip,
				   last + 1, edition[0] ? edition : "(no edition)",
				   product[0] ? product : "(no product)", ver[0] ? ver : "(none)");
	return CCT_OK;
}

static int validate_rim(cct_coll_item *it, const uint8_t *p, size_t n, const cct_coll_trust *tr,
			time_t at, cct_err *err)
{
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	char *info = NULL;
	json_t *j;
	int rc;

	cct_nvgpu_opts_init(&o);
	o.at = at;
	o.offline = 1;
	o.no_ocsp = 1; /* OCSP of the RIM chain is its own item (nvidia-ocsp) */
	if (tr) {
		o.device_root_path_insecure = tr->gpu_device_root_insecure;
		o.rim_root_path_insecure = tr->gpu_rim_root_insecure;
	}
	rc = cct_nvgpu_verifier_new(&v, &o, err);
	if (rc != CCT_OK)
		return rc;
	rc = cct_nvgpu_rim_check(&info, v, p, n, err);
	j = info ? json_loads(info, 0, NULL) : NULL;
	if (j) {
		const char *nb = json_string_value(json_object_get(j, "signer-not-before"));
		const char *na = json_string_value(json_object_get(j, "signer-not-after"));

		if (nb)
			cct_time_parse(&it->not_before, nb, NULL);
		if (na)
			cct_time_parse(&it->not_after, na, NULL);
	}
	if (rc == CCT_OK) {
		const char *ver = j ? json_string_value(json_object_get(j, "version")) : NULL;
		const char *prod = j ? json_string_value(json_object_get(j, "product")) : NULL;
		const char *ed = j ? json_string_value(json_object_get(j, "edition")) : NULL;

		rc = rim_matches_key(it->key, ver ? ver : "", prod ? prod : "", ed ? ed : "", err);
	}
	json_decref(j);
	free(info);
	cct_nvgpu_verifier_free(v);
	return rc;
}

int cct_coll_validate(cct_coll_item *it, const uint8_t *body, size_t len, const uint8_t *chain,
		      size_t chain_len, const cct_coll_bundle *b, const uint8_t *root_crl,
		      size_t root_crl_len, const cct_coll_trust *trust, time_t at, cct_err *err)
{
	uint8_t *rb = NULL;
	size_t rn = 0;
	int rc;

	it->not_before = it->not_after = it->next_update = 0;
	switch (it->kind) {
	case CCT_COLL_SNP_VCEK:
	case CCT_COLL_SNP_VLEK_CHAIN:
	case CCT_COLL_SNP_ASK_ARK:
	case CCT_COLL_SNP_CRL:
		return cct_snp__coll_validate(it, body, len, at, err);
	case CCT_COLL_TDX_ROOT_CA_CRL:
		return cct_tdx__coll_validate(it, body, len, NULL, 0, NULL, 0, at, err);
	case CCT_COLL_TDX_PCK_CRL:
	case CCT_COLL_TDX_TCB_INFO:
	case CCT_COLL_TDX_QE_IDENTITY:
		if (!root_crl && b) {
			const cct_coll_item *r =
				cct_coll_bundle_find(b, CCT_COLL_TDX_ROOT_CA_CRL, "root");
			cct_err e;

			if (r && cct_coll_bundle_read(b, r, &rb, &rn, NULL, NULL, &e) == CCT_OK) {
				root_crl = rb;
				root_crl_len = rn;
			}
		}
		rc = cct_tdx__coll_validate(it, body, len, chain, chain_len, root_crl, root_crl_len,
					    at, err);
		free(rb);
		return rc;
	case CCT_COLL_NVIDIA_RIM:
		return validate_rim(it, body, len, trust, at, err);
	case CCT_COLL_NVIDIA_OCSP:
		return cct_ocsp_response_inspect(body, len, &it->not_before, &it->next_update, err);
	default:
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0, "unknown kind");
	}
}

const char *cct_coll_state_name(cct_coll_state s)
{
	switch (s) {
	case CCT_COLL_FRESH: return "fresh";
	case CCT_COLL_EXPIRING: return "expiring";
	case CCT_COLL_EXPIRED: return "expired";
	default: return "invalid";
	}
}

static time_t earliest(time_t a, time_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

int cct_coll_check(cct_coll_check_entry **out, size_t *count, cct_coll_bundle *b, time_t at,
		   long within_s, const cct_coll_trust *trust, cct_err *err)
{
	const cct_coll_manifest *m = cct_coll_bundle_manifest(b);
	cct_coll_check_entry *r = calloc(m->count + 1, sizeof(*r));
	size_t i, bad = 0;

	*out = NULL;
	*count = 0;
	if (!r)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	for (i = 0; i < m->count; i++) {
		cct_coll_check_entry *e = &r[i];
		cct_coll_item it = m->items[i];
		uint8_t *body = NULL, *chain = NULL;
		size_t n = 0, cn = 0;
		char t[32];
		int rc;

		e->item = &m->items[i];
		rc = cct_coll_bundle_read(b, e->item, &body, &n, &chain, &cn, &e->err);
		if (rc == CCT_OK)
			rc = cct_coll_validate(&it, body, n, chain, cn, b, NULL, 0, trust, at,
					       &e->err);
		free(body);
		free(chain);
		e->not_before = it.not_before;
		e->not_after = it.not_after;
		e->next_update = it.next_update;
		e->deadline = earliest(it.not_after, it.next_update);
		/* an OCSP answer without nextUpdate is refused by the verifiers past thisUpdate +
		 * their max age: "no expiry" would call it fresh for ever */
		if (rc == CCT_OK && it.kind == CCT_COLL_NVIDIA_OCSP && !it.next_update &&
		    it.not_before)
			e->deadline = earliest(e->deadline, it.not_before + CCT_COLL_OCSP_MAX_AGE_S);
		if (rc == CCT_EEXPIRED || (e->deadline && at > e->deadline) ||
		    (rc == CCT_ECOLLATERAL && strstr(e->err.msg, "not current"))) {
			/* past its own nextUpdate / notAfter, or checked against a CRL that is */
			e->state = CCT_COLL_EXPIRED;
			if (rc == CCT_OK || (e->deadline && at > e->deadline)) {
				cct_time_format(t, sizeof(t), e->deadline);
				cct_err_set(&e->err, CCT_EEXPIRED, CCT_STAGE_COLLATERAL, 0,
					    "%s %s expired at %s (%s)",
					    cct_coll_kind_name(it.kind), it.key, t,
					    e->deadline == it.next_update ? "nextUpdate"
					    : e->deadline == it.not_after ? "notAfter"
					    : "thisUpdate + 1 day: no nextUpdate");
			}
		} else if (rc == CCT_OK && it.not_before && at < it.not_before) {
			e->state = CCT_COLL_EXPIRED;
			cct_time_format(t, sizeof(t), it.not_before);
			cct_err_set(&e->err, CCT_EEXPIRED, CCT_STAGE_COLLATERAL, 0,
				    "%s %s is not valid before %s", cct_coll_kind_name(it.kind),
				    it.key, t);
		} else if (rc != CCT_OK) {
			e->state = CCT_COLL_INVALID;
		} else if (within_s > 0 && e->deadline && at + within_s > e->deadline) {
			e->state = CCT_COLL_EXPIRING;
			cct_time_format(t, sizeof(t), e->deadline);
			cct_err_set(&e->err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				    "%s %s is due for renewal at %s, within the %ld days asked",
				    cct_coll_kind_name(it.kind), it.key, t, within_s / 86400);
		} else {
			e->state = CCT_COLL_FRESH;
			cct_err_clear(&e->err);
		}
		if (e->state != CCT_COLL_FRESH)
			bad++;
	}
	*out = r;
	*count = m->count;
	/* "every item fresh" of no items would claim a check that never ran */
	if (!m->count)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "the bundle holds no collateral items: nothing to check");
	if (bad)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "%zu of %zu items are not fresh and valid", bad, m->count);
	return CCT_OK;
}
