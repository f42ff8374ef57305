/* Semi-private helpers of the kbs area (not installed). */
#ifndef CCT_KBS_INT_H
#define CCT_KBS_INT_H

#include <jansson.h>
#include <openssl/evp.h>

#include "cctrust/kbs.h"

/* RFC 6901 JSON pointer lookup (borrowed result, NULL if absent or malformed). */
json_t *cct_kbs__json_pointer(json_t *root, const char *ptr);
/* 1 if res is "repo/type/tag" with segments of [A-Za-z0-9._-]{1,128} and no "..". */
int cct_kbs__resource_path_ok(const char *res);
/* Nesting depth of JSON text (outside strings), capped scan; -1 if above max. */
int cct_kbs__json_depth_ok(const uint8_t *p, size_t n, int max);
/* Load a JSON object body with the KBS caps (size, depth, duplicate keys). */
json_t *cct_kbs__json_body(const uint8_t *p, size_t n, cct_err *err);
/* Canonical text used for digests of claims: compact, sorted keys (malloc'd). */
char *cct_kbs__canonical(const json_t *j);
/* Hex SHA-256 / SHA-384 of bytes into out (65 / 97 bytes). */
void cct_kbs__sha256_hex(char out[65], const void *p, size_t n);

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

#endif
