/* cctrust kbs: the key broker (KBS protocol 0.4.0, Trustee-compatible) as a transport-free
 * request handler, the attestation-service seam it calls, the guest/admin client, the
 * workload-certificate CA.
 *
 * The HTTP transport (libmicrohttpd, TLS) lives in tools/cctrustd; it turns each request into a
 * cct_kbs_request, calls cct_kbs_handle(), and writes the cct_kbs_response back. Everything
 * protocol-level (sessions, nonces, tokens, policies, JWE, admin auth, audit, metrics) is here,
 * so tests and fuzzers drive the exact server logic in-process. */
#ifndef CCTRUST_KBS_H
#define CCTRUST_KBS_H

#include <jansson.h>

#include "common.h"
#include "errors.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_KBS_PROTOCOL_VERSION "0.4.0"
#define CCT_KBS_MAX_BODY (1u << 20)     /**< any request body (HTTP 413 above) */
#define CCT_KBS_MAX_JSON_DEPTH 32       /**< nesting of request JSON */
#define CCT_KBS_MAX_HEADER 65536        /**< Cookie / Authorization header value (an EAR with
					     GPU claims as Bearer token is tens of KiB) */
#define CCT_KBS_NONCE_SIZE 32
#define CCT_KBS_SESSION_TTL_DEFAULT 300 /**< seconds (Trustee default: 5 min) */
#define CCT_KBS_CERT_TTL_DEFAULT 3600
#define CCT_KBS_UNAUTH_AUDIT_DEFAULT 60 /**< unauthenticated failures audited per minute */   /**< workload certificate lifetime, seconds */
#define CCT_KBS_MAX_POLICY_RULES 256
#define CCT_KBS_ERROR_TYPE_PREFIX "https://github.com/confidential-containers/kbs/errors/"
/** OID of the workload-certificate extension holding SHA-384 of the verified claims
 *  (OCTET STRING). Under the RFC 5612 documentation arc until cctrust has its own PEN. */
#define CCT_KBS_CERT_CLAIMS_OID "1.3.6.1.4.1.32473.1.1"

/* ------------------------------------------------------------------------------------------
 * The attestation-service seam. cctrustd calls only this to turn an attest request into a
 * token, and a token back into claims. The composite verifier (src/policy + src/token) and the
 * tests' verifiers implement it.
 * ---------------------------------------------------------------------------------------- */
typedef struct cct_kbs_verifier {
	void *ctx; /**< owned by the verifier; released by free_ctx */
	/** Verify one attest request.
	 *  tee: the "tee" of the session's auth request ("snp", "tdx", ...).
	 *  body: the exact /kbs/v0/attest request body (the evidence bundle, JSON, not NUL-
	 *        terminated): runtime-data, init-data?, tee-evidence.
	 *  nonce_b64: the session's challenge exactly as the server issued it; the verifier must
	 *        check runtime-data.nonce against it and the evidence's binding to runtime-data.
	 *  policy_json: attestation policy stored by the admin (id "default"), or NULL for the
	 *        verifier's own default.
	 *  now: verification time (unix seconds).
	 *  On CCT_OK: *token_out = signed EAR JWT, *claims_json_out = its verified claims (the JWT
	 *  payload, JSON object text), *tee_pubkey_jwk_out = the tee-pubkey JWK (JSON text) the
	 *  evidence is bound to; all malloc'd, the server frees them. On failure: err filled
	 *  (code + stage + a message naming the failed rule), outs NULL. Thread-safe. */
	int (*attest)(void *ctx, const char *tee, const char *body, size_t body_len,
		      const char *nonce_b64, const char *policy_json, int64_t now,
		      char **token_out, char **claims_json_out, char **tee_pubkey_jwk_out,
		      cct_err *err);
	/** Verify a token this service issued (signature, expiry at now, profile) for
	 *  "Authorization: Bearer". Outs as for attest. Thread-safe. */
	int (*token_verify)(void *ctx, const char *token, int64_t now, char **claims_json_out,
			    char **tee_pubkey_jwk_out, cct_err *err);
	/** The token signing key set (JWKS JSON text, malloc'd) for /.well-known/jwks.json. */
	char *(*jwks)(void *ctx);
	/** Optional: extra Prometheus text lines (malloc'd), e.g. collateral cache hits. */
	char *(*metrics)(void *ctx);
	/** Release ctx (may be NULL). */
	void (*free_ctx)(void *ctx);
	/** Optional: check an attestation policy before the admin API stores it (so a typo is
	 *  refused at write time, not at the next attest). CCT_OK or err naming the problem. */
	int (*policy_check)(void *ctx, const char *policy, size_t len, cct_err *err);
	/** Optional: attest as above with the body already parsed by the server (the same bytes,
	 *  parsed with JSON_REJECT_DUPLICATES), so the verifier need not parse it again; and, when
	 *  claims_doc_out is not NULL, the claims as parsed JSON too (a new reference to exactly
	 *  the document *claims_json_out serialises; the server keeps it for the session's
	 *  resource requests instead of parsing the claims text again). */
	int (*attest_parsed)(void *ctx, const char *tee, const char *body, size_t body_len,
			     const json_t *parsed, const char *nonce_b64, const char *policy_json,
			     int64_t now, char **token_out, char **claims_json_out,
			     char **tee_pubkey_jwk_out, json_t **claims_doc_out, cct_err *err);
	/** Optional: attest_parsed, with the same verified evidence also judged under n_also more
	 *  attestation policies (JSON texts, like policy_json), so the server verifies once
	 *  however many policies are stored: also_ok[i] = 1 when attest_parsed with
	 *  also_policy_json[i] would return CCT_OK, 0 when it would not, -1 when the verifier
	 *  cannot tell without verifying again (the server then calls attest_parsed with it).
	 *  also_ok is filled whatever the return value. */
	int (*attest_parsed_also)(void *ctx, const char *tee, const char *body, size_t body_len,
				  const json_t *parsed, const char *nonce_b64,
				  const char *policy_json, const char *const *also_policy_json,
				  size_t n_also, int *also_ok, int64_t now, char **token_out,
				  char **claims_json_out, char **tee_pubkey_jwk_out,
				  json_t **claims_doc_out, cct_err *err);
} cct_kbs_verifier;

/** A verifier that refuses everything (fail closed): what cctrustd runs when no attestation
 *  service is configured. reason (copied) is the refusal message. */
CCT_EXTERN int cct_kbs_verifier_none_new(cct_kbs_verifier **out, const char *reason);
/** The composite attestation service (the production verifier): cct_composite_verify
 *  (include/cctrust/policy.h) of the exact attest body with expected nonce = the session's,
 *  tee hint = the session's TEE ("snp"/"tdx"; anything else refused), policy = the stored
 *  attestation policy (cctrust.policy/v1; a policy that does not load refuses, never weakens)
 *  or default_policy or the built-in default; an EAR JWT signed with signing_key_pem for
 *  affirming results only (anything else refuses the attest, naming every failed rule).
 *  token_verify accepts only tokens of this key (cct_token_verify against its JWKS); the
 *  tee-pubkey is taken from the verified claims (runtime_data_claims). Thread-safe. */
typedef struct cct_kbs_composite_config {
	const char *signing_key_pem;  /**< EAR signing key, P-256 private PEM; required */
	const char *default_policy;   /**< policy text when none is stored, or NULL (built-in) */
	const char *trust_sim_dir;    /**< trust the simulated TEE of `cctrust sim init DIR`
					   (results and tokens say "simulated"); NULL in production */
	const char *collateral_dir;   /**< on-disk collateral cache (KDS / PCS / NVIDIA), or NULL */
	int offline;                  /**< never use the network for collateral */
	const char *certs_path;       /**< extra certificates / CRLs, or NULL */
	int token_ttl_s;              /**< EAR lifetime (0: 300 s) */
	const char *issuer;           /**< EAR "iss" (NULL: "cctrust") */
	const char *token_cert_pem;   /**< certificate chain of the signing key (PEM, leaf first):
					   sent as the header JWK's "x5c"; NULL: none */
	struct cct_coll_live *collateral_live; /**< the collateral bundle to use (cctrustd
					   reloads it, include/cctrust/collateral.h), not owned: it
					   must outlive the verifier; NULL: collateral_dir, a bundle
					   there opened once */
} cct_kbs_composite_config;

/** *out freed with cct_kbs_verifier_free. Errors: EINVAL (no key), EENCODING/EUNSUPPORTED
 *  (key), policy load errors for default_policy. */
CCT_EXTERN int cct_kbs_verifier_composite_new(cct_kbs_verifier **out,
					      const cct_kbs_composite_config *cfg, cct_err *err);
/** Free a verifier made by any _new (calls free_ctx). NULL is fine. */
CCT_EXTERN void cct_kbs_verifier_free(cct_kbs_verifier *v);

/* ------------------------------------------------------------------------------------------
 * Server (transport-free).
 * ---------------------------------------------------------------------------------------- */
typedef struct cct_kbs_config {
	cct_store *store;                 /**< borrowed; required */
	const cct_kbs_verifier *verifier; /**< borrowed; required */
	const char *admin_pubkey_pem;     /**< admin token keys: PEM text (one or more Ed25519,
					       EC P-256/P-384 or RSA public keys) or a JWKS;
					       required */
	const char *attestation_policy;   /**< fallback attestation policy (--policy), or NULL */
	int session_ttl_s;                /**< 0: CCT_KBS_SESSION_TTL_DEFAULT */
	int cert_ttl_s;                   /**< 0: CCT_KBS_CERT_TTL_DEFAULT */
	const char *ca_cert_pem;          /**< workload CA; both NULL: a fresh CA per process */
	const char *ca_key_pem;
	int secure_cookie;                /**< add "Secure" to the session cookie (TLS) */
	int64_t (*now)(void *now_ctx);    /**< clock; NULL: time(NULL) */
	void *now_ctx;
	/** Optional log sink (one JSON line per event; never contains secrets). */
	void (*log)(void *log_ctx, const char *line);
	void *log_ctx;
	/** Unauthenticated failures audited one by one per minute (0: default 60); the rest
	 *  become one aggregate record. */
	int unauth_audit_per_min;
	/** Optional: extra Prometheus lines of the transport (limits, insecure modes), malloc'd. */
	char *(*metrics_extra)(void *metrics_ctx);
	void *metrics_ctx;
	int64_t admin_max_token_lifetime_s; /**< exp - (iat or now) cap; 0: 24 h */
	const char *admin_audience;       /**< admin JWT "aud" must contain it; NULL: unchecked */
	int admin_require_jti;            /**< refuse admin JWTs without "jti" (a jti present is
					       always single use) */
} cct_kbs_config;

typedef struct cct_kbs_server cct_kbs_server;

/** One HTTP request as the transport saw it. Strings NUL-terminated or NULL. */
typedef struct cct_kbs_request {
	const char *method;        /**< "GET", "POST", "DELETE" */
	const char *path;          /**< URL path without query, e.g. "/kbs/v0/auth" */
	const char *query;         /**< raw query string after '?', or NULL */
	const char *cookie;        /**< value of the kbs-session-id cookie, or NULL */
	const char *authorization; /**< the Authorization header, or NULL */
	const char *peer;          /**< client address (audit), or NULL */
	const uint8_t *body;
	size_t body_len;
} cct_kbs_request;

typedef struct cct_kbs_response {
	int status;                /**< HTTP status */
	char *body;                /**< malloc'd (may hold a JWE; wiped by _clear) */
	size_t body_len;
	const char *content_type;  /**< static string */
	char set_cookie[384];      /**< Set-Cookie value or "" */
	int retry_after;           /**< seconds for a Retry-After header (503 / 429), or 0 */
	const char *allow;         /**< static Allow header value (405), or NULL */
} cct_kbs_response;

/** *out freed with cct_kbs_server_free. Errors: CCT_EINVAL (config), CCT_EENCODING (keys). */
CCT_EXTERN int cct_kbs_server_new(cct_kbs_server **out, const cct_kbs_config *cfg,
				  cct_err *err);
CCT_EXTERN void cct_kbs_server_free(cct_kbs_server *srv);
/** Handle one request; always fills resp (errors are RFC 7807 bodies with Trustee's type
 *  names). Thread-safe. Returns resp->status. */
CCT_EXTERN int cct_kbs_handle(cct_kbs_server *srv, const cct_kbs_request *req,
			      cct_kbs_response *resp);
/** Wipe and free the body. */
CCT_EXTERN void cct_kbs_response_clear(cct_kbs_response *resp);
/** The workload CA certificate (PEM, borrowed for the server's lifetime). */
CCT_EXTERN const char *cct_kbs_server_ca_pem(const cct_kbs_server *srv);
/** Record a transport-level event in the metrics (e.g. a 413 the transport answered). */
CCT_EXTERN void cct_kbs_server_count_status(cct_kbs_server *srv, int status);

/* ------------------------------------------------------------------------------------------
 * Resource policy (JSON; evaluated over the token's claims). See docs/kbs.md.
 * {"version":1,"rules":[{"name":"..","resources":["repo/type/tag", PATTERN ...],
 *   "require":[{"claim":"/submods/cpu0/ear.status","equals":"affirming"},
 *              {"claim":"/json/pointer","one_of":[..]},{"claim":"..","exists":true},
 *              {"all_submods":"affirming"}]}]}
 * A PATTERN is three segments where "*" matches any one segment.
 * A resource is released when some rule whose "resources" match it has every requirement
 * true. No matching rule: denied. The built-in default: every submod "affirming".
 * ---------------------------------------------------------------------------------------- */
/** Check a policy's shape. */
CCT_EXTERN int cct_kbs_policy_check(const char *policy_json, size_t len, cct_err *err);
/** CCT_OK to release; CCT_EPOLICY with the failing rule/requirement in err.msg. policy_json
 *  NULL: the built-in default. */
CCT_EXTERN int cct_kbs_policy_eval(const char *policy_json, const char *claims_json,
				   const char *resource, cct_err *err);
/** As cct_kbs_policy_eval over claims already parsed (read, never changed). */
CCT_EXTERN int cct_kbs_policy_eval_claims(const char *policy_json, const json_t *claims,
					  const char *resource, cct_err *err);

/* ------------------------------------------------------------------------------------------
 * Client (guest and admin), libcurl.
 * ---------------------------------------------------------------------------------------- */
/** Evidence provider: builds the full attest request body for the session's nonce and the
 *  client's tee-pubkey (JWK JSON text). *body_out malloc'd. This is the seam the attester
 *  (real hardware) and the simulated TEE plug into. */
typedef int (*cct_kbs_evidence_fn)(void *ctx, char **body_out, const char *tee,
				   const char *nonce_b64, const char *tee_pubkey_jwk,
				   cct_err *err);

/** The default provider of this build: always CCT_EUNSUPPORTED "no evidence provider". */
CCT_EXTERN int cct_kbs_evidence_none(void *ctx, char **body_out, const char *tee,
				     const char *nonce_b64, const char *tee_pubkey_jwk,
				     cct_err *err);

typedef struct cct_kbs_client_opts {
	const char *url;          /**< "https://host:port", or "http://127.0.0.1:port" */
	const char *cacert;       /**< PEM bundle to verify the server (NULL: system store) */
	const char *tee;          /**< "snp", "tdx" */
	cct_kbs_evidence_fn evidence;
	void *evidence_ctx;
	const char *key_kind;     /**< ephemeral tee key: "P-256" (default) or "RSA" */
	long timeout_s;           /**< per HTTP request; 0: 30 */
	/** plain http:// to a host other than loopback (127.0.0.0/8, ::1, localhost): refused
	 *  (CCT_EINVAL) unless set. Without TLS an admin call sends its bearer and a resource's
	 *  bytes in the clear, and a guest cannot tell the broker from anyone on the path, who
	 *  could hand it a key of their own. */
	int insecure_http;
	/** admin calls: the "aud" of the admin JWT (the broker's --admin-audience); NULL: none */
	const char *admin_audience;
} cct_kbs_client_opts;

/** CCT_OK when o->url may be used: https://, or http:// to this machine, or insecure_http set;
 *  else CCT_EINVAL saying why. Every request checks it; call it to refuse before any work. */
CCT_EXTERN int cct_kbs_client_check_url(const cct_kbs_client_opts *o, cct_err *err);

/** Guest flow: auth -> evidence -> attest -> GET resource -> decrypt with the ephemeral key.
 *  As cct_kbs_client_get_resource; token_out (may be NULL) gets the EAR JWT the broker issued
 *  on attest (malloc'd) once the attest succeeded, even when the resource is then refused. */
CCT_EXTERN int cct_kbs_client_get_resource_ex(uint8_t **secret, size_t *secret_len,
					      const cct_kbs_client_opts *o, const char *resource,
					      char **problem_out, char **token_out, cct_err *err);
/** Guest flow: auth -> evidence -> attest -> GET resource -> decrypt with the ephemeral key.
 *  On CCT_OK *secret (malloc'd; wipe + free). When the broker refuses, returns CCT_EPOLICY
 *  (403), CCT_EUNTRUSTED (401) or CCT_EINVAL (404) and *problem_out (if not NULL) gets the
 *  RFC 7807 body (malloc'd). Transport failures: CCT_ENETWORK. */
CCT_EXTERN int cct_kbs_client_get_resource(uint8_t **secret, size_t *secret_len,
					   const cct_kbs_client_opts *o, const char *resource,
					   char **problem_out, cct_err *err);
/** Steps of one guest flow, as timed by cct_kbs_client_flow. */
typedef enum cct_kbs_step {
	CCT_KBS_STEP_AUTH = 0,     /**< POST /kbs/v0/auth */
	CCT_KBS_STEP_EVIDENCE,     /**< the evidence provider (guest side, not the broker) */
	CCT_KBS_STEP_ATTEST,       /**< POST /kbs/v0/attest */
	CCT_KBS_STEP_RESOURCE,     /**< GET /kbs/v0/resource/... */
	CCT_KBS_STEP_UNWRAP,       /**< JWE decryption with the ephemeral key */
	CCT_KBS_STEPS
} cct_kbs_step;

typedef struct cct_kbs_flow_times {
	double seconds[CCT_KBS_STEPS]; /**< wall-clock seconds per step */
	int step;                      /**< -1 when the flow succeeded, else the failing step */
	long status;                   /**< HTTP status of the failing step (0: not HTTP) */
} cct_kbs_flow_times;

/** cct_kbs_client_get_resource with per-step timing and the failing step in *t. */
CCT_EXTERN int cct_kbs_client_flow(uint8_t **secret, size_t *secret_len,
				   const cct_kbs_client_opts *o, const char *resource,
				   cct_kbs_flow_times *t, cct_err *err);

/** Load generator (`cctrust kbs bench`): `clients` threads run `flows` full guest flows in
 *  total against one broker. Latency is measured per endpoint (auth, attest, resource) and
 *  for the flow without the evidence step (the guest's cost, built in process). */
typedef struct cct_kbs_loadgen_opts {
	const cct_kbs_client_opts *client;
	const char *resource;      /**< REPO/TYPE/TAG */
	int clients;               /**< threads, 1..256 */
	long flows;                /**< total flows, 1..10,000,000 */
	/** called about once per second from one thread (may be NULL) */
	void (*progress)(void *ctx, long done, long failed, double elapsed_s);
	void *progress_ctx;
	/** the Bearer token the broker's /metrics asks for (cctrustd --metrics-token), or NULL */
	const char *metrics_bearer;
} cct_kbs_loadgen_opts;

#define CCT_KBS_LOADGEN_MAX_ERROR_TYPES 16
typedef struct cct_kbs_loadgen_report {
	long flows, failures;
	int clients;
	double seconds;            /**< wall-clock of the whole run */
	double evidence_s;         /**< total time spent building evidence (excluded) */
	/** per endpoint (auth, attest, resource) and [3] the whole flow without evidence:
	 *  p50, p90, p99, max in milliseconds, over the flows that reached the step */
	double ms[4][4];
	long samples[4];
	struct {
		char type[64];         /**< "attest: HTTP 403", "auth: network", ... */
		long count;
	} errors[CCT_KBS_LOADGEN_MAX_ERROR_TYPES];
	size_t error_types;
	long errors_other;         /**< beyond the distinct types kept */
	/** The broker's own CPU time per request over the run, from its /metrics read before and
	 *  after (cctrustd_request_cpu_seconds by endpoint, cctrustd_verification_cpu_seconds):
	 *  [0] auth, [1] attest, [2] resource (releases), [3] the verification within an attest,
	 *  in milliseconds, and the requests each counted. Set only when server_cpu_ok; else
	 *  server_cpu_why says why not (no such metrics, /metrics refused, or fewer attests counted
	 *  than this run made: another replica answered). Other traffic the broker served during
	 *  the run is counted too. */
	int server_cpu_ok;
	double server_cpu_ms[4];
	long server_requests[4];
	char server_cpu_why[128];
} cct_kbs_loadgen_report;

CCT_EXTERN int cct_kbs_loadgen_run(cct_kbs_loadgen_report *r, const cct_kbs_loadgen_opts *o,
				   cct_err *err);
/** The report as compact JSON (malloc'd). */
CCT_EXTERN char *cct_kbs_loadgen_json(const cct_kbs_loadgen_report *r);

/** GET path on the broker (e.g. "/metrics"), with "Authorization: Bearer bearer" unless
 *  bearer is NULL. *status_out = HTTP status, *resp_out body (malloc'd, NUL-terminated). */
CCT_EXTERN int cct_kbs_client_get(int *status_out, char **resp_out, size_t *resp_len,
				  const cct_kbs_client_opts *o, const char *path,
				  const char *bearer, cct_err *err);
/** Admin request signed with an Ed25519 private key (PEM file): a fresh EdDSA JWT with
 *  {"role":role,"iat","exp":+300s}. *status_out = HTTP status, *resp_out body (malloc'd). */
CCT_EXTERN int cct_kbs_client_admin(int *status_out, char **resp_out, size_t *resp_len,
				    const cct_kbs_client_opts *o, const char *admin_key_path,
				    const char *role, const char *method, const char *path,
				    const uint8_t *body, size_t body_len, cct_err *err);
/** Make an admin JWT (EdDSA) with the given role valid for ttl_s seconds (no "jti": usable
 *  for several calls until it expires, unless the broker requires one). *out malloc'd. */
CCT_EXTERN int cct_kbs_admin_token(char **out, const char *admin_key_path, const char *role,
				   int64_t now, int ttl_s, cct_err *err);
/** A single-use admin JWT: as cct_kbs_admin_token with a random "jti" (the broker's
 *  --admin-require-jti; a jti is single use either way) and, when audience is set, that
 *  "aud" (the broker's --admin-audience). What cct_kbs_client_admin sends on each call. */
CCT_EXTERN int cct_kbs_admin_token_once(char **out, const char *admin_key_path,
					const char *role, int64_t now, int ttl_s,
					const char *audience, cct_err *err);

/* ------------------------------------------------------------------------------------------
 * Workload certificates.
 * ---------------------------------------------------------------------------------------- */
/** Verify a workload certificate (PEM or DER) against the CA (PEM) at time at: chain,
 *  validity, the claims-digest extension present; when claims_json is not NULL, its SHA-384
 *  (of the exact bytes the CA hashed: compact, sorted keys) must equal the extension.
 *  *info_out (may be NULL): JSON {"subject","not_before","not_after","claims_sha384"}. */
CCT_EXTERN int cct_kbs_cert_verify(const uint8_t *cert, size_t cert_len, const uint8_t *ca,
				   size_t ca_len, const char *claims_json, int64_t at,
				   char **info_out, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
