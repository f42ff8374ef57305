#define _GNU_SOURCE
/* Reference values (Trustee's RVPS message) and the attestation policies that name them.
 *
 * POST /kbs/v0/reference-value takes Trustee's RVPS message
 *   {"version":"0.1.0","type":"sample","payload":"<base64 of {name: value, ..}>"}
 * (the payload may also be the JSON text itself, or a JSON object) or cctrust's
 *   {"name":"...","values":[...]}.
 * Each name is stored as one row (kind reference-value) holding its values as a JSON array (a
 * scalar value is stored as a one-element array).
 *
 * A cctrust.policy/v1 policy names reference values with the string "rv:NAME" anywhere inside
 * an array (e.g. "snp":{"measurements":["rv:launch-measurement"]}): at upload and at every
 * attest the string is replaced by NAME's stored values, so the reference values that the RVPS
 * receives are the ones the policy appraises with. A name with no stored values is an error
 * (fail closed: never an empty list that would match nothing or, worse, be skipped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "kbs/kbs_int.h"

#define RV_MAX_NAME 128
#define RV_MAX_NAMES 256
#define RV_PREFIX "rv:"

static int name_ok(const char *n)
{
	return n && *n && strlen(n) <= RV_MAX_NAME &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:") ==
		       strlen(n);
}

static int put_values(json_t *out, const char *name, const json_t *v, cct_err *err)
{
	if (!name_ok(name))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "reference value name \"%.64s\" is not 1..%d of [A-Za-z0-9._-/:]",
				   name ? name : "", RV_MAX_NAME);
	if (json_object_size(out) >= RV_MAX_NAMES)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "more than %d reference values in one message", RV_MAX_NAMES);
	if (json_is_array(v))
		json_object_set_new(out, name, json_deep_copy(v));
	else if (json_is_string(v) || json_is_number(v) || json_is_boolean(v))
		json_object_set_new(out, name, json_pack("[O]", v));
	else
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "reference value \"%.64s\" must be an array or a scalar", name);
	return CCT_OK;
}

/* CCT_OK when body has no member besides a, b and c (c may be NULL): a misspelt one was
 * ignored */
static int members_only(const json_t *body, const char *a, const char *b, const char *c,
			cct_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)body, k, v)
		if (strcmp(k, a) && strcmp(k, b) && (!c || strcmp(k, c)))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "unknown member \"%.40s\" in a reference value body "
					   "(it takes %s, %s%s%s)", k, a, b, c ? ", " : "", c ? c : "");
	return CCT_OK;
}

int cct_kbs__rvps_parse(json_t **out, const json_t *body, cct_err *err)
{
	json_t *res = json_object(), *payload = NULL, *v;
	const char *type = json_string_value(json_object_get(body, "type"));
	const char *k;
	int rc = CCT_OK;

	*out = NULL;
	if (!res)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (json_object_get(body, "name")) { /* cctrust's own form */
		if ((rc = members_only(body, "name", "values", NULL, err)) != CCT_OK)
			;
		else if (!json_is_string(json_object_get(body, "name")))
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "\"name\" must be a string");
		else if (!json_is_array(json_object_get(body, "values")))
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "reference value needs \"name\" and a \"values\" array");
		else
			rc = put_values(res, json_string_value(json_object_get(body, "name")),
					json_object_get(body, "values"), err);
		goto out;
	}
	if (json_object_get(body, "type") && !type) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "\"type\" must be a string");
		goto out;
	}
	if (!type || !json_object_get(body, "payload") || !json_object_get(body, "version")) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "reference value body is neither Trustee's RVPS message "
				 "{\"version\",\"type\",\"payload\"} nor {\"name\",\"values\"}");
		goto out;
	}
	if ((rc = members_only(body, "version", "type", "payload", err)) != CCT_OK)
		goto out;
	if (strcmp(type, "sample")) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "RVPS message type \"%.32s\" is not supported (only \"sample\"; "
				 "in-toto, SWID and CoRIM provenance are not verified here)", type);
		goto out;
	}
	v = json_object_get(body, "payload");
	if (json_is_object(v)) {
		payload = json_incref(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		uint8_t *raw = NULL;
		size_t n = 0;

		if (cct_b64_decode(&raw, &n, s, strlen(s), NULL) == CCT_OK)
			payload = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
		free(raw);
		if (!payload)
			payload = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	}
	if (!json_is_object(payload)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "RVPS sample payload must be (base64 of) a JSON object "
				 "{name: [values]}");
		goto out;
	}
	json_object_foreach(payload, k, v)
		if ((rc = put_values(res, k, v, err)) != CCT_OK)
			goto out;
	if (!json_object_size(res))
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "RVPS sample payload names no reference value");
out:
	json_decref(payload);
	if (rc != CCT_OK) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return CCT_OK;
}

/* Replace "rv:NAME" members of every array under j (depth-capped by the body parser). */
static int subst(json_t *j, char *(*get)(void *, const char *), void *ctx, int depth,
		 cct_err *err)
{
	size_t i;
	const char *k;
	json_t *v;
	int rc;

	if (depth > 32)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0, "policy nested too deep");
	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			if ((rc = subst(v, get, ctx, depth + 1, err)) != CCT_OK)
				return rc;
		return CCT_OK;
	}
	if (!json_is_array(j))
		return CCT_OK;
	for (i = 0; i < json_array_size(j);) {
		const char *s = json_string_value(json_array_get(j, i));
		char *txt;
		json_t *vals;

		if (!s || strncmp(s, RV_PREFIX, strlen(RV_PREFIX))) {
			if ((rc = subst(json_array_get(j, i), get, ctx, depth + 1, err)) != CCT_OK)
				return rc;
			i++;
			continue;
		}
		txt = name_ok(s + 3) ? get(ctx, s + 3) : NULL;
		vals = txt ? json_loads(txt, 0, NULL) : NULL;
		free(txt);
		if (!json_is_array(vals) || !json_array_size(vals)) {
			json_decref(vals);
			return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
					   "policy names reference value \"%.100s\" but none is "
					   "stored (POST /kbs/v0/reference-value)", s + 3);
		}
		json_array_remove(j, i);
		{
			size_t m;

			for (m = 0; m < json_array_size(vals); m++)
				json_array_insert(j, i + m, json_array_get(vals, m));
			i += json_array_size(vals);
		}
		json_decref(vals);
	}
	return CCT_OK;
}

int cct_kbs__rvps_apply(char **out, const char *policy,
			char *(*get)(void *ctx, const char *name), void *ctx, cct_err *err)
{
	json_t *j;
	int rc;

	*out = NULL;
	if (!strstr(policy, "\"" RV_PREFIX)) { /* nothing named: unchanged */
		*out = strdup(policy);
		return *out ? CCT_OK : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0,
						   "out of memory");
	}
	j = json_loads(policy, JSON_REJECT_DUPLICATES, NULL);
	if (!j) { /* not JSON: leave it to the policy loader to name the error */
		*out = strdup(policy);
		return *out ? CCT_OK : CCT_ENOMEM;
	}
	rc = subst(j, get, ctx, 0, err);
	if (rc == CCT_OK && !(*out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	json_decref(j);
	return rc;
}
