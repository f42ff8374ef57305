#define _GNU_SOURCE
/* TDX collateral from Intel PCS v4 or a PCCS over HTTPS (libcurl), cached on disk in the PCS v4
 * directory layout, so the cache is itself a valid --collateral directory (offline use). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "collateral/dl_curl.h"

#include "cctrust/core.h"
#include "collateral/fetch.h"
#include "tdx/tdx_int.h"

#define DEFAULT_PCS "https://api.trustedservices.intel.com"
#define INTEL_ROOT_CRL_URL "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define FETCH_MAX_BODY (4u << 20)
#define FETCH_TIMEOUT_S 30L

/* GET url; store body as dir/name and (when header_name) the URL-decoded header as dir/chain */
static int get_part(const char *url, const char *dir, const char *name, const char *header_name,
		    const char *chain_name, cct_err *err)
{
	uint8_t *body = NULL;
	size_t n = 0;
	char *header = NULL, path[4096];
	cct_fetch_req req = { .url = url, .header_name = header_name,
			      .header_out = header_name ? &header : NULL,
			      .max_body = FETCH_MAX_BODY };
	cct_fetch_opts fo = { .timeout_s = FETCH_TIMEOUT_S };
	int rc;

	rc = cct_fetch(&body, &n, &req, &fo, err);
	if (rc == CCT_OK && header_name && !header)
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "%s: response has no %s header", url, header_name);
	if (rc == CCT_OK) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		rc = cct_file_write(path, body, n, 0, err);
	}
	if (rc == CCT_OK && header_name) {
		int dn = 0;
		char *dec = curl_easy_unescape(NULL, header, 0, &dn);

		if (!dec) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		} else {
			snprintf(path, sizeof(path), "%s/%s", dir, chain_name);
			rc = cct_file_write(path, dec, (size_t)dn, 0, err);
			curl_free(dec);
		}
	}
	free(body);
	free(header);
	return rc;
}

static int valid_hex(const char *s, size_t n)
{
	size_t i;

	if (!s || strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

int cct_tdx_collateral_fetch(cct_tdx_collateral **out, const char *base_url,
			     const char *fmspc_hex, const char *ca, const char *cache_dir,
			     int offline, time_t at, cct_err *err)
{
	char dir[4096], url[2048];
	const char *base = base_url && *base_url ? base_url : DEFAULT_PCS;
	cct_tdx_collateral *c = NULL;
	cct_err cached_err;
	int rc;

	*out = NULL;
	if (!valid_hex(fmspc_hex, 12) || !ca ||
	    (strcmp(ca, "platform") != 0 && strcmp(ca, "processor") != 0) || !cache_dir)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "collateral fetch: want 12-hex-digit FMSPC, CA platform or "
				   "processor, and a cache directory");
	if (mkdir(cache_dir, 0755) != 0 && errno != EEXIST)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
				   "cannot create cache directory %s", cache_dir);
	snprintf(dir, sizeof(dir), "%s/%s-%s", cache_dir, fmspc_hex, ca);
	/* cache hit: loads and is current at the verification time */
	if (cct_tdx_collateral_load(&c, dir, &cached_err) == CCT_OK) {
		if (at >= c->tcb.issue_date && at <= c->tcb.next_update &&
		    at >= c->qe.issue_date && at <= c->qe.next_update) {
			cct_collateral_count_hit();
			*out = c;
			return CCT_OK;
		}
		cct_tdx_collateral_free(c);
		c = NULL;
	}
	if (offline)
		return cct_err_set(err, CCT_ENETWORK, CCT_STAGE_COLLATERAL, 0,
				   "no current collateral for FMSPC %s in cache %s and --offline "
				   "forbids fetching",
				   fmspc_hex, dir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
				   "cannot create cache directory %s", dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(url, sizeof(url), "%s/tdx/certification/v4/tcb?fmspc=%s", base, fmspc_hex);
	rc = get_part(url, dir, "tcb_info.json", "TCB-Info-Issuer-Chain",
		      "tcb_info_issuer_chain.pem", err);
	if (rc == CCT_OK) {
		snprintf(url, sizeof(url), "%s/tdx/certification/v4/qe/identity", base);
		rc = get_part(url, dir, "qe_identity.json", "SGX-Enclave-Identity-Issuer-Chain",
			      "qe_identity_issuer_chain.pem", err);
	}
	if (rc == CCT_OK) {
		snprintf(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der",
			 base, ca);
		rc = get_part(url, dir, "pck_crl.der", "SGX-PCK-CRL-Issuer-Chain",
			      "pck_crl_issuer_chain.pem", err);
	}
	if (rc == CCT_OK) {
		/* a PCCS serves the Root CA CRL itself; Intel PCS points to its certificate site */
		snprintf(url, sizeof(url), "%s/sgx/certification/v4/rootcacrl", base);
		rc = get_part(url, dir, "root_ca_crl.der", NULL, NULL, err);
		if (rc != CCT_OK)
			rc = get_part(INTEL_ROOT_CRL_URL, dir, "root_ca_crl.der", NULL, NULL, err);
	}
	if (rc != CCT_OK)
		return rc;
	return cct_tdx_collateral_load(out, dir, err);
}
