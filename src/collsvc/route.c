/* The vendors' URL layouts over a bundle: KDS, PCS/PCCS, RIM service, OCSP. Used by
 * cctrust-collateral-serve (and cctrustd). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/dl_curl.h"
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "cctrust/collateral.h"
#include "cctrust/core.h"

static int prod_ok(const char *p, size_t n)
{
	return (n == 5 && (!strncmp(p, "Milan", 5) || !strncmp(p, "Genoa", 5) ||
			   !strncmp(p, "Turin", 5)));
}

static int num_ok(const char *s)
{
	size_t i;

	if (!s || !*s || strlen(s) > 3)
		return 0;
	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int hex_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

int cct_coll_route(const char *path, const char *(*arg)(void *ctx, const char *name), void *ctx,
		   cct_coll_kind *kind, char *key, size_t keysz)
{
	const char *p, *q;
	size_t n;

	if (!strncmp(path, "/vcek/v1/", 9) || !strncmp(path, "/vlek/v1/", 9)) {
		int vlek = path[1] == 'v' && path[2] == 'l';

		p = path + 9;
		q = strchr(p, '/');
		if (!q || !prod_ok(p, (size_t)(q - p)))
			return -1;
		n = (size_t)(q - p);
		q++;
		if (!strcmp(q, "cert_chain")) {
			*kind = vlek ? CCT_COLL_SNP_VLEK_CHAIN : CCT_COLL_SNP_ASK_ARK;
			snprintf(key, keysz, "%.*s", (int)n, p);
			return 0;
		}
		if (!strcmp(q, "crl")) {
			*kind = CCT_COLL_SNP_CRL;
			snprintf(key, keysz, "%s/%.*s", vlek ? "vlek" : "vcek", (int)n, p);
			return 0;
		}
		if (!vlek && (strlen(q) == 128 || strlen(q) == 16) && hex_ok(q, strlen(q))) {
			const char *bl = arg(ctx, "blSPL"), *tee = arg(ctx, "teeSPL"),
				   *snp = arg(ctx, "snpSPL"), *uc = arg(ctx, "ucodeSPL"),
				   *fmc = arg(ctx, "fmcSPL");
			char hw[129];
			size_t i;

			if (!num_ok(bl) || !num_ok(tee) || !num_ok(snp) || !num_ok(uc) ||
			    (fmc && !num_ok(fmc)))
				return -1;
			for (i = 0; q[i]; i++)
				hw[i] = (char)(q[i] | 0x20);
			hw[i] = 0;
			if (fmc)
				snprintf(key, keysz,
					 "%.*s/%s/fmcSPL_%s_blSPL_%s_teeSPL_%s_snpSPL_%s_ucodeSPL_%s",
					 (int)n, p, hw, fmc, bl, tee, snp, uc);
			else
				snprintf(key, keysz, "%.*s/%s/blSPL_%s_teeSPL_%s_snpSPL_%s_ucodeSPL_%s",
					 (int)n, p, hw, bl, tee, snp, uc);
			*kind = CCT_COLL_SNP_VCEK;
			return 0;
		}
		return -1;
	}
	if (!strcmp(path, "/tdx/certification/v4/tcb")) {
		const char *f = arg(ctx, "fmspc");
		size_t i;

		if (!f || strlen(f) != 12 || !hex_ok(f, 12))
			return -1;
		for (i = 0; i < 12 && i + 1 < keysz; i++)
			key[i] = (char)(f[i] | 0x20);
		key[i] = 0;
		*kind = CCT_COLL_TDX_TCB_INFO;
		return 0;
	}
	if (!strcmp(path, "/tdx/certification/v4/qe/identity")) {
		*kind = CCT_COLL_TDX_QE_IDENTITY;
		snprintf(key, keysz, "tdx");
		return 0;
	}
	if (!strcmp(path, "/sgx/certification/v4/pckcrl") ||
	    !strcmp(path, "/tdx/certification/v4/pckcrl")) {
		const char *ca = arg(ctx, "ca");

		if (!ca || (strcasecmp(ca, "processor") && strcasecmp(ca, "platform")))
			return -1;
		*kind = CCT_COLL_TDX_PCK_CRL;
		snprintf(key, keysz, "%s", (ca[1] | 0x20) == 'r' ? "processor" : "platform");
		return 0;
	}
	if (!strcmp(path, "/sgx/certification/v4/rootcacrl") ||
	    !strcmp(path, "/IntelSGXRootCA.der")) {
		*kind = CCT_COLL_TDX_ROOT_CA_CRL;
		snprintf(key, keysz, "root");
		return 0;
	}
	if (!strncmp(path, "/v1/rim/", 8) && path[8]) {
		p = path + 8;
		for (n = 0; p[n]; n++)
			if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
				    p[n]))
				return -1;
		if (n >= keysz || n >= CCT_COLLATERAL_MAX_KEY || p[0] == '.')
			return -1;
		*kind = CCT_COLL_NVIDIA_RIM;
		snprintf(key, keysz, "%s", p);
		return 0;
	}
	return -1;
}

int cct_coll_ocsp_request_key(const uint8_t *der, size_t n, char *key, size_t keysz)
{
	const unsigned char *d = der;
	OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &d, (long)n);
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, *h;
	int rc = -1;

	if (!req || d != der + n || OCSP_request_onereq_count(req) != 1)
		goto out;
	if (!OCSP_id_get0_info(NULL, NULL, NULL, &serial,
			       OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0))) ||
	    !serial)
		goto out;
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	if (!hex)
		goto out;
	for (h = hex; *h == '0' && h[1]; h++)
		;
	if (strlen(h) + 1 > keysz || *h == '-')
		goto out;
	for (n = 0; h[n]; n++)
		key[n] = (char)(h[n] | 0x20);
	key[n] = 0;
	rc = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	OCSP_REQUEST_free(req);
	return rc;
}

/* the serial of an OCSP CertID as lowercase hex for messages ("?" when unreadable) */
static void serial_hex(const OCSP_CERTID *id, char *out, size_t outsz)
{
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, *h;
	size_t i;

	snprintf(out, outsz, "?");
	if (id && OCSP_id_get0_info(NULL, NULL, NULL, &serial, (OCSP_CERTID *)id) && serial &&
	    (bn = ASN1_INTEGER_to_BN(serial, NULL)) && (hex = BN_bn2hex(bn))) {
		for (h = hex; *h == '0' && h[1]; h++)
			;
		for (i = 0; h[i] && i + 1 < outsz; i++)
			out[i] = (char)(h[i] | 0x20);
		out[i] = 0;
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

int cct_coll_ocsp_response_answers(const uint8_t *req, size_t req_n, const uint8_t *resp,
				   size_t resp_n, cct_err *err)
{
	const unsigned char *d = req, *r = resp;
	OCSP_REQUEST *rq = d2i_OCSP_REQUEST(NULL, &d, (long)req_n);
	OCSP_RESPONSE *rs = d2i_OCSP_RESPONSE(NULL, &r, (long)resp_n);
	OCSP_BASICRESP *bs = NULL;
	const OCSP_CERTID *want = NULL, *got = NULL;
	char ws[80], gs[80];
	int rc = CCT_OK, count;

	if (!rq || d != req + req_n || OCSP_request_onereq_count(rq) != 1) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "OCSP request: expected one DER request about one certificate");
		goto out;
	}
	want = OCSP_onereq_get0_id(OCSP_request_onereq_get0(rq, 0));
	if (!rs || r != resp + resp_n ||
	    OCSP_response_status(rs) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    !(bs = OCSP_response_get1_basic(rs))) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "OCSP response: expected a successful basic DER response");
		goto out;
	}
	count = OCSP_resp_count(bs);
	if (count == 1)
		got = OCSP_SINGLERESP_get0_id(OCSP_resp_get0(bs, 0));
	if (count != 1 || !got || OCSP_id_cmp(want, got) != 0) {
		serial_hex(want, ws, sizeof(ws));
		if (count == 1)
			serial_hex(got, gs, sizeof(gs));
		else
			snprintf(gs, sizeof(gs), "%d certificates", count);
		rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				 "OCSP response answers %s%s, the request asked about serial %s "
				 "(expected one answer with the request's CertID)",
				 count == 1 ? "serial " : "", gs, ws);
	}
out:
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(rs);
	OCSP_REQUEST_free(rq);
	return rc;
}

int cct_coll_render(const cct_coll_bundle *b, const cct_coll_item *it, uint8_t **body,
		    size_t *len, const char **header_name, char **header_value,
		    const char **content_type, cct_err *err)
{
	uint8_t *chain = NULL;
	size_t cn = 0;
	int rc;

	*header_name = NULL;
	*header_value = NULL;
	*content_type = "application/octet-stream";
	rc = cct_coll_bundle_read(b, it, body, len, &chain, &cn, err);
	if (rc != CCT_OK)
		return rc;
	switch (it->kind) {
	case CCT_COLL_TDX_TCB_INFO:
		*header_name = "TCB-Info-Issuer-Chain";
		*content_type = "application/json";
		break;
	case CCT_COLL_TDX_QE_IDENTITY:
		*header_name = "SGX-Enclave-Identity-Issuer-Chain";
		*content_type = "application/json";
		break;
	case CCT_COLL_TDX_PCK_CRL:
		*header_name = "SGX-PCK-CRL-Issuer-Chain";
		*content_type = "application/pkix-crl";
		break;
	case CCT_COLL_SNP_VLEK_CHAIN:
	case CCT_COLL_SNP_ASK_ARK:
		*content_type = "application/x-pem-file";
		break;
	case CCT_COLL_SNP_CRL:
	case CCT_COLL_TDX_ROOT_CA_CRL:
		*content_type = "application/pkix-crl";
		break;
	case CCT_COLL_NVIDIA_OCSP:
		*content_type = "application/ocsp-response";
		break;
	case CCT_COLL_NVIDIA_RIM: {
		char *b64 = cct_b64_encode(*body, *len, 0), *txt = NULL, hex[65];
		json_t *o;

		cct_hex_encode(hex, it->sha256, 32);
		o = json_pack("{s:s, s:s, s:s, s:s}", "id", it->key, "rim", b64 ? b64 : "",
			      "sha256", hex, "rim_format", "xml");
		txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		free(b64);
		free(*body);
		*body = (uint8_t *)txt;
		*len = txt ? strlen(txt) : 0;
		*content_type = "application/json";
		if (!txt)
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		break;
	}
	default:
		break;
	}
	if (rc == CCT_OK && *header_name) {
		char *e = chain ? curl_easy_escape(NULL, (const char *)chain, (int)cn) : NULL;

		if (e) {
			*header_value = strdup(e);
			curl_free(e);
		}
		if (!*header_value)
			rc = cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
					 "%s %s has no issuer chain", cct_coll_kind_name(it->kind),
					 it->key);
	}
	free(chain);
	if (rc != CCT_OK) {
		free(*body);
		*body = NULL;
	}
	return rc;
}
