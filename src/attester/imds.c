/* Azure Instance Metadata Service (IMDS), asked from inside an Azure confidential VM through
 * libcurl loaded on first use (collateral/dl_curl.h):
 *   - POST {base}/acc/tdquote {"report": base64url(TD report)} -> {"quote": base64url(TD quote)}:
 *     the host's quoting enclave turns the paravisor's TD report into a TD quote (TDX);
 *   - GET {base}/metadata/THIM/amd/certification (header "Metadata: true") ->
 *     {"vcekCert": PEM, "certificateChain": PEM}: the VCEK of this host's SNP chip (SNP).
 * base: the caller's, else $CCT_IMDS_URL, else http://169.254.169.254. Never through a proxy
 * (IMDS is link-local); responses capped at 1 MiB; 30 s per request; no redirects. Nothing
 * fetched here is trusted: the verifier checks the quote and the VCEK. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attester/internal.h"
#include "cctrust/core.h"
#include "collateral/dl_curl.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_MAX_BODY (1u << 20)

const char *cct_attester__imds_base(const char *given)
{
	const char *e = getenv(CCT_ATTESTER_IMDS_ENV);

	return given && *given ? given : e && *e ? e : IMDS_DEFAULT;
}

typedef struct {
	char *p;
	size_t n;
	int over;
} body;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	body *b = ud;
	size_t k = sz * nm;
	char *q;

	if (b->n + k > IMDS_MAX_BODY) {
		b->over = 1;
		return 0;
	}
	q = realloc(b->p, b->n + k + 1);
	if (!q)
		return 0;
	memcpy(q + b->n, p, k);
	b->p = q;
	b->n += k;
	b->p[b->n] = 0;
	return k;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One request; 200 -> parsed JSON object (*out, new reference). */
static int imds_json(json_t **out, const char *url, const char *post, cct_err *err)
{
	struct curl_slist *hdr = NULL;
	body b = { NULL, 0, 0 };
	json_error_t je;
	long code = 0;
	CURLcode cc;
	CURL *c;
	char why[256];

	*out = NULL;
	if (!cct_dl_curl_ok(why, sizeof(why)))
		return cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0,
				   "IMDS: libcurl is not available (%s)", why);
	pthread_once(&curl_once, curl_init_once);
	c = curl_easy_init();
	if (!c)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "IMDS: curl_easy_init failed");
	hdr = curl_slist_append(hdr, "Metadata: true");
	if (post)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	if (b.over) {
		free(b.p);
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "IMDS %.200s: reply over %u bytes", url, IMDS_MAX_BODY);
	}
	if (cc != CURLE_OK || code != 200) {
		free(b.p);
		return cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "IMDS %.200s: %s (HTTP %ld)",
				   url, cc != CURLE_OK ? curl_easy_strerror(cc) : "failed", code);
	}
	*out = b.p ? json_loadb(b.p, b.n, 0, &je) : NULL;
	free(b.p);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "IMDS %.200s: the reply is not a JSON object", url);
	}
	return CCT_OK;
}

int cct_attester__imds_td_quote(uint8_t **quote, size_t *n, const char *base,
				const uint8_t *td_report, size_t len, cct_err *err)
{
	char url[1024], *rep = cct_b64_encode(td_report, len, 1), *post;
	const char *q;
	json_t *req, *res = NULL;
	int rc;

	*quote = NULL;
	*n = 0;
	snprintf(url, sizeof(url), "%s/acc/tdquote", cct_attester__imds_base(base));
	req = rep ? json_pack("{s:s}", "report", rep) : NULL;
	free(rep);
	post = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!post)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	rc = imds_json(&res, url, post, err);
	free(post);
	if (rc != CCT_OK)
		return rc;
	q = json_string_value(json_object_get(res, "quote"));
	if (!q || cct_b64_decode(quote, n, q, strlen(q), NULL) != CCT_OK || !*n) {
		free(*quote);
		*quote = NULL;
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "IMDS %s: no base64url \"quote\" in the reply", url);
	}
	json_decref(res);
	return rc;
}

int cct_attester__imds_vcek(uint8_t **der, size_t *n, const char *base, cct_err *err)
{
	char url[1024];
	const char *pem;
	json_t *res = NULL;
	X509 *x = NULL;
	BIO *bio;
	int rc, len;

	*der = NULL;
	*n = 0;
	snprintf(url, sizeof(url), "%s/metadata/THIM/amd/certification",
		 cct_attester__imds_base(base));
	rc = imds_json(&res, url, NULL, err);
	if (rc != CCT_OK)
		return rc;
	pem = json_string_value(json_object_get(res, "vcekCert"));
	bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	json_decref(res);
	if (!x)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "IMDS %s: no PEM certificate in \"vcekCert\"", url);
	len = i2d_X509(x, der);
	X509_free(x);
	if (len <= 0)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	*n = (size_t)len;
	return CCT_OK;
}
