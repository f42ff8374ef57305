/* Policy language internals (semi-private): the loaded document and the failure list. The policy
 * sees claims, never evidence: nothing here (or in src/policy/) includes a verifier header. */
#ifndef CCT_POLICY_INTERNAL_H
#define CCT_POLICY_INTERNAL_H

#include <jansson.h>

#include "cctrust/policy.h"

struct cct_policy {
	json_t *doc;   /* validated document */
	char id[64];
};

/* Failure list: array of {"rule","expected","actual","message","category"}. */
void cct_policy__fail(json_t *failures, const char *rule, const char *category, json_t *expected,
		      json_t *actual, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 6, 7)))
#endif
	;

/* s is hex of exactly `bytes` bytes (any even length when 0). */
int cct_policy__is_hex_of(const char *s, int bytes);

/* Nesting depth of a JSON value (requests and policies are capped at CCT_POLICY_MAX_DEPTH). */
int cct_policy__json_depth(const json_t *v);

/* nvtrust authorization-rules: every "detached-claims" member must equal the GPU's claim (an
 * object: as a subset, member by member; a missing claim fails). */
void cct_policy__nv_rules(const json_t *rules, const json_t *gpu_claims, int index,
			  json_t *failures);

#endif
