#define _GNU_SOURCE
/* KBS client (libcurl): the guest flow as Trustee's kbs-client does it, and signed admin calls. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "collateral/dl_curl.h"

#include "cctrust/core.h"
#include "cctrust/kbs.h"
#include "token/jose.h"
#include "kbs/kbs_int.h"

#define CLIENT_MAX_RESPONSE (4u << 20)

typedef struct buf {
	char *p;
	size_t n;
	int over;
} buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	buf *b = ud;
	size_t add = size * nmemb;
	char *np;

	if (b->over || add > CLIENT_MAX_RESPONSE - b->n) {
		b->over = 1;
		return 0;
	}
	np = realloc(b->p, b->n + add + 1);
	if (!np)
		return 0;
	memcpy(np + b->n, ptr, add);
	b->p = np;
	b->n += add;
	b->p[b->n] = 0;
	return add;
}

static void buf_wipe(buf *b)
{
	if (b->p) {
		cct_wipe(b->p, b->n);
		free(b->p);
	}
	b->p = NULL;
	b->n = 0;
}

/* 1 when url is plain http:// to a host that is not loopback. Only the scheme and the host
 * are read; anything this does not understand (user info, an odd host) counts as not
 * loopback, so the check fails closed. */
static int plain_http_off_host(const char *url)
{
	const char *h, *end;
	char host[256];
	struct in_addr a4;
	size_t n;

	if (strncasecmp(url, "http://", 7))
		return 0;
	h = url + 7;
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)))
		return 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		return !rb || rb - h != 4 || strncmp(h, "[::1]", 5);
	}
	n = strcspn(h, ":/?#");
	if (n == 0 || n >= sizeof(host))
		return 1;
	memcpy(host, h, n);
	host[n] = 0;
	if (!strcasecmp(host, "localhost"))
		return 0;
	return !(inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127);
}

int cct_kbs_client_check_url(const cct_kbs_client_opts *o, cct_err *err)
{
	if (!o || !o->url)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no broker URL");
	/* the scheme written out: libcurl also takes "http:/host" and "http:host", and guesses
	 * http for a URL without one ("host:port"), each plain HTTP to any host that the check
	 * below, reading "http://", did not see */
	if (strncasecmp(o->url, "https://", 8) && strncasecmp(o->url, "http://", 7))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "%.200s: the broker URL must start with https:// (or http:// to "
				   "this machine)", o->url);
	if (!o->insecure_http && plain_http_off_host(o->url))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "%s is plain HTTP to a host that is not this machine: use https:// "
				   "(--cacert for a private CA), or --insecure-http to send in the "
				   "clear anyway", o->url);
	return CCT_OK;
}

/* The length of url without its trailing slashes ("https://kbs/" -> "https://kbs"); the
 * slashes of "scheme://" stay. */
static size_t base_len(const char *url)
{
	const char *sch = strstr(url, "://");
	size_t n = strlen(url), min = sch ? (size_t)(sch - url) + 3 : 0;

	while (n > min && url[n - 1] == '/')
		n--;
	return n > INT_MAX ? INT_MAX : n;
}

/* One request on handle h (keeps cookies). body NULL: GET unless method given. */
static int http(CURL *h, const cct_kbs_client_opts *o, const char *method, const char *path,
		const char *auth, const char *ctype, const void *body, size_t body_len, long *status,
		buf *out, cct_err *err)
{
	char url[2048], hdr_auth[CCT_KBS_MAX_HEADER + 64], hdr_ct[128];
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	int rc = CCT_OK;

	/* the broker's URL with its trailing slashes dropped: every path starts with one, and
	 * "//kbs/v0/auth" is another path (404) */
	if (snprintf(url, sizeof(url), "%.*s%s", (int)base_len(o->url), o->url, path) >=
	    (int)sizeof(url))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "URL too long");
	if ((rc = cct_kbs_client_check_url(o, err)) != CCT_OK)
		return rc;
	buf_wipe(out);
	out->over = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 30L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (o->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (auth) {
		snprintf(hdr_auth, sizeof(hdr_auth), "Authorization: Bearer %s", auth);
		hdrs = curl_slist_append(hdrs, hdr_auth);
	}
	if (ctype) {
		snprintf(hdr_ct, sizeof(hdr_ct), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, hdr_ct);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "%s %s: %s", method, url,
				 out->over ? "response too large" : curl_easy_strerror(cc));
	else
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (auth) { /* the bearer token, in curl's copy and in ours (not the whole 64 KiB) */
		struct curl_slist *l;

		for (l = hdrs; l; l = l->next)
			if (l->data && !strncmp(l->data, "Authorization:", 14))
				cct_wipe(l->data, strlen(l->data));
		cct_wipe(hdr_auth, strnlen(hdr_auth, sizeof(hdr_auth)));
	}
	curl_slist_free_all(hdrs);
	return rc;
}

/* A refusal: keep the RFC 7807 body, map the status to a code. */
static int refused(long status, buf *b, char **problem_out, const char *step, cct_err *err)
{
	json_t *j = b->p ? json_loads(b->p, 0, NULL) : NULL;
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *detail = json_string_value(json_object_get(j, "detail"));
	const char *t = type && strrchr(type, '/') ? strrchr(type, '/') + 1 : "?";
	/* PolicyDeny: 401 as Trustee answers it (403 from older brokers) */
	int code = status == 403 || !strcmp(t, "PolicyDeny") ? CCT_EPOLICY
		   : status == 404 ? CCT_EINVAL : CCT_EUNTRUSTED;

	if (problem_out && !*problem_out && b->p)
		*problem_out = strdup(b->p);
	if (status == 431) /* from libmicrohttpd, before the broker sees the request */
		detail = "the request's headers do not fit the broker's per-connection memory "
			 "(cctrustd --connection-memory)";
	cct_err_set(err, code, code == CCT_EPOLICY ? CCT_STAGE_POLICY : CCT_STAGE_TOKEN, 0,
		    "%s refused (HTTP %ld %s): %.180s", step, status, t, detail ? detail : "");
	json_decref(j);
	return code;
}

int cct_kbs_evidence_none(void *ctx, char **body_out, const char *tee, const char *nonce_b64,
			  const char *tee_pubkey_jwk, cct_err *err)
{
	(void)ctx; (void)nonce_b64; (void)tee_pubkey_jwk;
	*body_out = NULL;
	return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
			   "no evidence provider in this build for tee \"%s\"", tee ? tee : "?");
}

int cct_kbs_client_get_resource(uint8_t **secret, size_t *secret_len,
				const cct_kbs_client_opts *o, const char *resource,
				char **problem_out, cct_err *err)
{
	return cct_kbs_client_get_resource_ex(secret, secret_len, o, resource, problem_out, NULL,
					      err);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define STEP(t, i, expr)                                                 \
	do {                                                             \
		double t0_ = mono_s();                                   \
		expr;                                                    \
		if (t) {                                                 \
			(t)->seconds[i] += mono_s() - t0_;               \
			(t)->step = (i);                                 \
		}                                                        \
	} while (0)

/* One request of the flow, timed as step i with its HTTP status recorded; any reply but 200 is the
 * broker's refusal, named after the step (what). body: JSON, or NULL for a GET. */
static int flow_request(CURL *h, const cct_kbs_client_opts *o, cct_kbs_flow_times *t, int i,
			const char *what, const char *method, const char *path, const char *body,
			buf *b, char **problem_out, cct_err *err)
{
	long status = 0;
	int rc;

	STEP(t, i,
	     rc = http(h, o, method, path, NULL, body ? "application/json" : NULL, body,
		       body ? strlen(body) : 0, &status, b, err));
	if (t)
		t->status = status;
	if (rc == CCT_OK && status != 200)
		rc = refused(status, b, problem_out, what, err);
	return rc;
}

static int flow(uint8_t **secret, size_t *secret_len, const cct_kbs_client_opts *o,
		const char *resource, char **problem_out, char **token_out,
		cct_kbs_flow_times *t, cct_err *err)
{
	int rc = CCT_ERROR;
	CURL *h = curl_easy_init();
	buf b = { 0 };
	json_t *j = NULL, *jwk = NULL;
	char *req = NULL, *pubtxt = NULL, *ev = NULL, path[512];
	const char *nonce, *tee = o->tee ? o->tee : "snp";
	EVP_PKEY *key = NULL;
	cct_kbs_evidence_fn evf = o->evidence ? o->evidence : cct_kbs_evidence_none;

	*secret = NULL;
	*secret_len = 0;
	if (problem_out)
		*problem_out = NULL;
	if (token_out)
		*token_out = NULL;
	if (!h) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "curl init failed");
		goto out;
	}
	if (!cct_kbs__resource_path_ok(resource)) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "resource must be REPO/TYPE/TAG ([A-Za-z0-9._-]+ each)");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_COOKIEFILE, ""); /* in-memory cookie engine */
	/* 1. auth */
	j = json_pack("{s:s,s:s,s:{}}", "version", CCT_KBS_PROTOCOL_VERSION, "tee", tee,
		      "extra-params");
	req = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	j = NULL;
	if (!req) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if ((rc = flow_request(h, o, t, CCT_KBS_STEP_AUTH, "auth", "POST", "/kbs/v0/auth", req, &b,
			       problem_out, err)) != CCT_OK)
		goto out;
	j = json_loads(b.p ? b.p : "", 0, NULL);
	nonce = json_string_value(json_object_get(j, "nonce"));
	if (!nonce) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "auth reply has no nonce");
		goto out;
	}
	/* 2. ephemeral tee key + evidence bound to nonce and key */
	key = cct_jose_keygen(o->key_kind ? o->key_kind : "P-256");
	jwk = key ? cct_jose_pkey_to_jwk(key, EVP_PKEY_is_a(key, "RSA") ? "RSA-OAEP-256"
								       : "ECDH-ES+A256KW")
		  : NULL;
	pubtxt = jwk ? json_dumps(jwk, JSON_COMPACT) : NULL;
	if (!pubtxt) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "tee key generation failed");
		goto out;
	}
	STEP(t, CCT_KBS_STEP_EVIDENCE, rc = evf(o->evidence_ctx, &ev, tee, nonce, pubtxt, err));
	if (t)
		t->status = 0;
	if (rc != CCT_OK)
		goto out;
	/* 3. attest */
	if ((rc = flow_request(h, o, t, CCT_KBS_STEP_ATTEST, "attest", "POST", "/kbs/v0/attest", ev,
			       &b, problem_out, err)) != CCT_OK)
		goto out;
	if (token_out) {
		json_t *t = json_loads(b.p ? b.p : "", 0, NULL);
		const char *tok = json_string_value(json_object_get(t, "token"));

		*token_out = tok ? strdup(tok) : NULL;
		json_decref(t);
	}
	/* 4. resource (cookie) */
	snprintf(path, sizeof(path), "/kbs/v0/resource/%s", resource);
	if ((rc = flow_request(h, o, t, CCT_KBS_STEP_RESOURCE, "resource", "GET", path, NULL, &b,
			       problem_out, err)) != CCT_OK)
		goto out;
	/* 5. unwrap with the ephemeral private key */
	STEP(t, CCT_KBS_STEP_UNWRAP,
	     rc = cct_jose_jwe_decrypt(secret, secret_len, b.p ? b.p : "", b.n, key, err));
	if (t)
		t->status = 0;
	if (rc == CCT_OK && t)
		t->step = -1;
out:
	buf_wipe(&b);
	json_decref(j);
	json_decref(jwk);
	free(req);
	free(pubtxt);
	free(ev);
	EVP_PKEY_free(key);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

int cct_kbs_client_get_resource_ex(uint8_t **secret, size_t *secret_len,
				   const cct_kbs_client_opts *o, const char *resource,
				   char **problem_out, char **token_out, cct_err *err)
{
	return flow(secret, secret_len, o, resource, problem_out, token_out, NULL, err);
}

int cct_kbs_client_flow(uint8_t **secret, size_t *secret_len, const cct_kbs_client_opts *o,
			const char *resource, cct_kbs_flow_times *t, cct_err *err)
{
	if (t) {
		memset(t, 0, sizeof(*t));
		t->step = CCT_KBS_STEP_AUTH;
	}
	return flow(secret, secret_len, o, resource, NULL, NULL, t, err);
}

static int admin_token(char **out, const char *admin_key_path, const char *role, int64_t now,
		       int ttl_s, int once, const char *audience, cct_err *err)
{
	EVP_PKEY *k = NULL;
	json_t *c;
	char *payload = NULL, jti[33];
	uint8_t rnd[16];
	int rc;

	*out = NULL;
	if (once && RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "no random bytes for the jti");
	if (once)
		cct_hex_encode(jti, rnd, sizeof(rnd));
	if ((rc = cct_jose_pem_read(&k, admin_key_path, 1, err)) != CCT_OK)
		return rc;
	c = json_pack("{s:s,s:I,s:I,s:s}", "role", role ? role : "admin", "iat", (json_int_t)now,
		      "exp", (json_int_t)(now + ttl_s), "sub", "cctrust-cli");
	if (c && once)
		json_object_set_new(c, "jti", json_string(jti));
	if (c && audience)
		json_object_set_new(c, "aud", json_string(audience));
	payload = c ? json_dumps(c, JSON_COMPACT) : NULL;
	json_decref(c);
	rc = payload ? cct_jose_jws_sign(out, k, "EdDSA", NULL, payload, strlen(payload), err)
		     : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	free(payload);
	EVP_PKEY_free(k);
	return rc;
}

int cct_kbs_admin_token(char **out, const char *admin_key_path, const char *role, int64_t now,
			int ttl_s, cct_err *err)
{
	return admin_token(out, admin_key_path, role, now, ttl_s, 0, NULL, err);
}

int cct_kbs_admin_token_once(char **out, const char *admin_key_path, const char *role,
			     int64_t now, int ttl_s, const char *audience, cct_err *err)
{
	return admin_token(out, admin_key_path, role, now, ttl_s, 1, audience, err);
}

/* One request on a handle of its own: *status_out and the body (malloc'd, NUL-terminated). */
static int request(int *status_out, char **resp_out, size_t *resp_len,
		   const cct_kbs_client_opts *o, const char *bearer, const char *method,
		   const char *path, const uint8_t *body, size_t body_len, cct_err *err)
{
	CURL *h = curl_easy_init();
	buf b = { 0 };
	long status = 0;
	int rc;

	*status_out = 0;
	*resp_out = NULL;
	*resp_len = 0;
	if (!h)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "curl init failed");
	rc = http(h, o, method, path, bearer, body ? "application/octet-stream" : NULL,
		  body ? (const void *)body : NULL, body_len, &status, &b, err);
	if (rc == CCT_OK) {
		*status_out = (int)status;
		*resp_out = b.p ? b.p : strdup("");
		*resp_len = b.p ? b.n : 0;
		b.p = NULL;
	}
	buf_wipe(&b);
	curl_easy_cleanup(h);
	return rc;
}

int cct_kbs_client_admin(int *status_out, char **resp_out, size_t *resp_len,
			 const cct_kbs_client_opts *o, const char *admin_key_path, const char *role,
			 const char *method, const char *path, const uint8_t *body, size_t body_len,
			 cct_err *err)
{
	char *tok = NULL;
	int rc = admin_key_path ? cct_kbs_admin_token_once(&tok, admin_key_path, role,
							   (int64_t)time(NULL), 300,
							   o->admin_audience, err)
				: CCT_OK;

	*status_out = 0;
	*resp_out = NULL;
	*resp_len = 0;
	if (rc == CCT_OK)
		rc = request(status_out, resp_out, resp_len, o, tok, method, path, body, body_len,
			     err);
	free(tok);
	return rc;
}

int cct_kbs_client_get(int *status_out, char **resp_out, size_t *resp_len,
		       const cct_kbs_client_opts *o, const char *path, const char *bearer,
		       cct_err *err)
{
	return request(status_out, resp_out, resp_len, o, bearer, "GET", path, NULL, 0, err);
}
