/* Semi-private helpers of the kbs area (not installed). */
#ifndef CCT_KBS_INT_H
#define CCT_KBS_INT_H

#include <jansson.h>
#include <openssl/evp.h>

#include "cctrust/kbs.h"

/* RFC 6901 JSON pointer lookup (borrowed result, NULL if absent or malformed). */
json_t *cct_kbs__json_pointer(json_t *root, const char *ptr);
/* 1 if res is "repo/type/tag" with segments of [A-Za-z0-9._-]{1,128}, at most
 * CCT_STORE_MAX_NAME (256) characters in all, and no "..". */
int cct_kbs__resource_path_ok(const char *res);
/* Nesting depth of JSON text (outside strings), capped scan; -1 if above max. */
int cct_kbs__json_depth_ok(const uint8_t *p, size_t n, int max);
/* Load a JSON object body with the KBS caps (size, depth, duplicate keys). */
json_t *cct_kbs__json_body(const uint8_t *p, size_t n, cct_err *err);
/* The broker's CPU counters in the text of its /metrics (loadgen.c): 0 when all were found. */
int cct_kbs__metrics_cpu_parse(const char *text, double sum[4], long count[4]);
/* Canonical text used for digests of claims: compact, sorted keys (malloc'd). */
char *cct_kbs__canonical(const json_t *j);
/* Hex SHA-256 / SHA-384 of bytes into out (65 / 97 bytes). */
void cct_kbs__sha256_hex(char out[65], const void *p, size_t n);

/* Parsed claims of recently attested sessions, found by the SHA-256 of their text (claims_memo.c).
 * _get: a new reference, or NULL (not there: parse the text). */
typedef struct cct_kbs_claims_memo cct_kbs_claims_memo;
cct_kbs_claims_memo *cct_kbs__claims_memo_new(void);
void cct_kbs__claims_memo_free(cct_kbs_claims_memo *m);
void cct_kbs__claims_memo_put(cct_kbs_claims_memo *m, const char *text, json_t *doc);
json_t *cct_kbs__claims_memo_get(cct_kbs_claims_memo *m, const char *text);

/* Workload CA. */
typedef struct cct_kbs_ca cct_kbs_ca;
int cct_kbs__ca_new(cct_kbs_ca **out, const char *cert_pem, const char *key_pem, cct_err *err);
void cct_kbs__ca_free(cct_kbs_ca *ca);
const char *cct_kbs__ca_pem(const cct_kbs_ca *ca);
/* Issue a certificate for a CSR (PEM or DER) whose key must equal tee_pub. *pem_out = leaf +
 * CA (PEM, malloc'd). Errors: EFORMAT (CSR), ESIGNATURE (CSR self-signature), EBINDING (key). */
int cct_kbs__ca_issue(char **pem_out, cct_kbs_ca *ca, const uint8_t *csr, size_t csr_len,
		      EVP_PKEY *tee_pub, const char *claims_json, int64_t now, int ttl_s,
		      cct_err *err);

/* Admin API authentication (admin.c): the admin key set (PEM public keys or a JWKS; EdDSA,
 * ES256, ES384, RS256, PS256) and the token rules (exp, lifetime cap, iat/nbf, aud, jti, role). */
enum { CCT_KBS_ROLE_NONE = 0, CCT_KBS_ROLE_AUDITOR = 1, CCT_KBS_ROLE_ADMIN = 2 };
#define CCT_KBS_STORE_KIND_ADMIN_JTI "admin-jti"
typedef struct cct_kbs_admin cct_kbs_admin;
typedef struct cct_kbs_admin_claims {
	int role;          /* CCT_KBS_ROLE_* */
	char who[80];      /* "admin:<sub>" or "admin" */
	char jti[65];      /* SHA-256 hex of the jti claim, "" when absent */
	int64_t exp;
} cct_kbs_admin_claims;
/* keys: PEM text with one or more public keys, or JWKS JSON ({"keys":[..]}) or one JWK.
 * max_lifetime_s: exp - (iat or now) cap (0: 24 h). audience: required "aud" (NULL: not
 * checked). require_jti: refuse tokens without "jti". */
int cct_kbs__admin_new(cct_kbs_admin **out, const char *keys, int64_t max_lifetime_s,
		       const char *audience, int require_jti, cct_err *err);
void cct_kbs__admin_free(cct_kbs_admin *a);
/* Verify an admin JWT (signature with a configured key, then the claim rules). */
int cct_kbs__admin_verify(const cct_kbs_admin *a, const char *jwt, int64_t now,
			  cct_kbs_admin_claims *out, cct_err *err);
/* Record a jti as used until exp (atomic insert-if-absent in the store, so a token is used once
 * across replicas); CCT_ENONCE when it was used before. Expired jti rows are
 * removed. */
int cct_kbs__admin_consume_jti(cct_kbs_admin *a, cct_store *store, const cct_kbs_admin_claims *t,
			       int64_t now,
			       cct_err *err);

/* Trustee RVPS reference values (rvps.c). */
/* Parse a POST /kbs/v0/reference-value body: Trustee's RVPS message {"version","type",
 * "payload"} (type "sample": payload = JSON text of {name: [values]}) or cctrust's
 * {"name","values":[..]}. *out: new object {name: [values], ..}. */
int cct_kbs__rvps_parse(json_t **out, const json_t *body, cct_err *err);
/* Substitute reference values into a cctrust.policy/v1 text: every string "rv:NAME" inside an
 * array is replaced by the values stored under NAME (looked up with get). A name with no
 * stored values is an error (never an empty, vacuous list). *out malloc'd text. */
int cct_kbs__rvps_apply(char **out, const char *policy,
			char *(*get)(void *ctx, const char *name), void *ctx, cct_err *err);

/* Trustee conventions (trustee.c). */
/* 1 if tee is a TEE name of KBS protocol 0.4.0 (kbs-types 0.18). */
int cct_kbs__tee_known(const char *tee);
/* A problem detail when text is a Rego policy (naming the cctrust equivalent), else NULL. */
const char *cct_kbs__rego_detail(const char *text, int attestation);
/* Trustee policy_id -> stored id: absent/"default"/"default_cpu" -> "default",
 * "default_gpu" -> "default_gpu" (its "gpu" section overrides), custom ids stored as such
 * (*active = 0: appraisal does not use them). */
int cct_kbs__att_policy_id(const char *id, const char **store_as, int *active, cct_err *err);
/* The attestation policy an attest uses: stored "default", else fallback (--policy), with the
 * stored "default_gpu" gpu section and reference values applied. *out NULL: built-in (also
 * when only "default_gpu" is stored: it amends a CPU default, it is none by itself).
 * base_digest (may be NULL): SHA-256 hex of the stored "default" row (else fallback) as read,
 * "" with neither: what a release compares to tell the policy a session satisfied. */
int cct_kbs__att_policy_effective(char **out, cct_store *st, const char *fallback,
				  char base_digest[65], cct_err *err);
/* cct_kbs__rvps_apply with the values stored in st. */
int cct_kbs__rvps_apply_store(char **out, const char *policy, cct_store *st, cct_err *err);

#endif
