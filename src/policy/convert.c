/* The per-verifier JSON policy formats of earlier releases (`snp verify --policy`, docs/snp.md;
 * `tdx verify --policy`, docs/tdx.md; nvtrust "authorization-rules" for `gpu verify`) converted
 * to `cctrust.policy/v1`, one key at a time, each conversion named in a deprecation warning.
 * Accepted for one release; `cctrust policy convert FILE` prints the replacement. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "json/json.h"
#include "policy/internal.h"

/* legacy key -> v1 key in the section (NULL: handled by hand below) */
typedef struct legacy_key {
	const char *legacy;
	const char *v1;
	int to_array; /* a single legacy value becomes a one-element array */
} legacy_key;

static const legacy_key snp_keys[] = {
	{ "measurement", "measurements", 1 },   { "measurements", "measurements", 1 },
	{ "chip_id", "chip_ids", 1 },           { "chip_ids", "chip_ids", 1 },
	{ "host_data", "host_data", 0 },        { "report_data", "report_data", 0 },
	{ "id_key_digest", "id_key_digests", 1 }, { "author_key_digest", "author_key_digests", 1 },
	{ "family_id", "family_id", 0 },        { "image_id", "image_id", 0 },
	{ "require_id_block", "require_id_block", 0 },
	{ "require_author_key", "require_author_key", 0 },
	{ "min_tcb", "min_reported_tcb", 0 },   { "minimum_tcb", "min_reported_tcb", 0 },
	{ "min_reported_tcb", "min_reported_tcb", 0 },
	{ "min_committed_tcb", "min_committed_tcb", 0 },
	{ "min_launch_tcb", "min_launch_tcb", 0 }, { "minimum_launch_tcb", "min_launch_tcb", 0 },
	{ "min_current_tcb", "min_current_tcb", 0 },
	{ "min_guest_svn", "min_guest_svn", 0 }, { "min_abi", "min_abi", 0 },
	{ "allow_debug", "allow_debug", 0 },    { "allow_migrate_ma", "allow_migrate_ma", 0 },
	{ "allow_smt", "allow_smt", 0 },        { "require_single_socket", "require_single_socket", 0 },
	{ "max_vmpl", "max_vmpl", 0 },          { "platform_info", "platform_info", 0 },
	{ "signing_keys", "signing_keys", 0 },  { "product", "products", 1 },
	{ NULL, NULL, 0 },
};

static const legacy_key tdx_keys[] = {
	{ "mrtd", "mrtd", 1 },       { "rtmr0", "rtmr0", 1 },   { "rtmr1", "rtmr1", 1 },
	{ "rtmr2", "rtmr2", 1 },     { "rtmr3", "rtmr3", 1 },   { "mrconfigid", "mrconfigid", 1 },
	{ "mrowner", "mrowner", 1 }, { "mrownerconfig", "mrownerconfig", 1 },
	{ "xfam", "xfam", 1 },       { "accept_tcb", "accepted_tcb_status", 1 },
	{ "deny_advisories", "deny_advisories", 1 }, { "min_tcb_date", "min_tcb_date", 0 },
	{ "allow_debug_insecure", "allow_debug", 0 }, { "report_data", "report_data", 0 },
	{ NULL, NULL, 0 },
};

static void warn(json_t *warnings, const char *fmt, const char *a, const char *b)
{
	char msg[240];

	if (!warnings)
		return;
	snprintf(msg, sizeof(msg), fmt, a, b);
	json_array_append_new(warnings, json_string(msg));
}

static const legacy_key *find(const legacy_key *t, const char *k)
{
	for (; t->legacy; t++)
		if (!strcmp(t->legacy, k))
			return t;
	return NULL;
}

/* Comma-separated strings (the TDX CLI's lists) and arrays become an array of strings. */
static json_t *as_array(const json_t *v)
{
	json_t *a;
	char *copy, *tok, *save = NULL;

	if (json_is_array(v))
		return json_deep_copy(v);
	if (!json_is_string(v))
		return json_deep_copy(v); /* validation names the type error */
	a = json_array();
	copy = strdup(json_string_value(v));
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(tok));
	free(copy);
	return a;
}

/* "MAJ.MIN" + min_build -> "MAJ.MIN.BUILD" (the legacy check compared all three). */
static int snp_version(json_t *sec, const json_t *legacy, json_t *warnings, cct_err *err)
{
	const json_t *mv = json_object_get(legacy, "min_version"), *mb = json_object_get(legacy, "min_build");
	unsigned a = 0, b = 0;
	char buf[32];

	if (!mv && !mb)
		return CCT_OK;
	if (mv && (!json_is_string(mv) || sscanf(json_string_value(mv), "%u.%u", &a, &b) != 2))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy \"min_version\": expected \"MAJOR.MINOR\"");
	if (mb && (!json_is_integer(mb) || json_integer_value(mb) < 0 || json_integer_value(mb) > 255))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy \"min_build\": expected an integer 0-255");
	snprintf(buf, sizeof(buf), "%u.%u.%u", a, b, mb ? (unsigned)json_integer_value(mb) : 0u);
	json_object_set_new(sec, "min_version", json_string(buf));
	warn(warnings, "policy key \"%s\" is deprecated: use \"snp.min_version\": \"%s\" in a "
		       "cctrust.policy/v1 document",
	     mv ? "min_version" : "min_build", buf);
	return CCT_OK;
}

static int convert_section(json_t *sec, const json_t *legacy, const legacy_key *table,
			   const char *name, json_t *warnings, cct_err *err)
{
	const char *k;
	json_t *v;
	char v1[80];

	json_object_foreach((json_t *)legacy, k, v) {
		const legacy_key *lk;

		if (!strcmp(k, "version") || !strcmp(k, "comment"))
			continue;
		if (!strcmp(name, "snp") && (!strcmp(k, "min_version") || !strcmp(k, "min_build")))
			continue; /* snp_version */
		lk = find(table, k);
		if (!lk)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
					   "policy: unknown key \"%s\" (see docs/policy.md); refusing "
					   "rather than ignoring it",
					   k);
		if (lk->to_array && json_is_array(json_object_get(sec, lk->v1)) && json_is_array(v)) {
			json_array_extend(json_object_get(sec, lk->v1), v);
		} else if (lk->to_array && json_is_array(json_object_get(sec, lk->v1))) {
			json_t *a = as_array(v);

			json_array_extend(json_object_get(sec, lk->v1), a);
			json_decref(a);
		} else {
			json_object_set_new(sec, lk->v1, lk->to_array ? as_array(v) : json_deep_copy(v));
		}
		snprintf(v1, sizeof(v1), "%s.%s", name, lk->v1);
		warn(warnings, "policy key \"%s\" is deprecated: use \"%s\" in a cctrust.policy/v1 "
			       "document (cctrust policy convert)",
		     k, v1);
	}
	return CCT_OK;
}

const char *cct_policy_legacy_kind(const json_t *doc)
{
	static const char *const tdx_only[] = { "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3",
						"mrconfigid", "mrowner", "mrownerconfig", "xfam",
						"accept_tcb", "deny_advisories", "min_tcb_date",
						"allow_debug_insecure", NULL };
	const char *ver = json_string_value(json_object_get(doc, "version"));
	size_t i;

	if (!json_is_object(doc))
		return NULL;
	if (ver && !strcmp(ver, CCT_POLICY_VERSION))
		return "v1";
	if (json_object_get(doc, "authorization-rules") || json_object_get(doc, "x-cctrust-expected-count") ||
	    json_object_get(doc, "x-cctrust-expected-arch"))
		return "gpu";
	if (json_is_object(json_object_get(doc, "snp")))
		return "snp";
	for (i = 0; tdx_only[i]; i++)
		if (json_object_get(doc, tdx_only[i]))
			return "tdx";
	/* report_data is in both tables; the tdx-only keys were looked for above */
	for (i = 0; snp_keys[i].legacy; i++)
		if (strcmp(snp_keys[i].legacy, "report_data") &&
		    json_object_get(doc, snp_keys[i].legacy))
			return "snp";
	return ""; /* nothing in it tells: {} or only keys every kind has (comment, report_data) */
}

int cct_policy_convert(json_t **out, const json_t *legacy, const char *kind, json_t *warnings,
		       cct_err *err)
{
	json_t *doc = NULL, *sec = NULL;
	const char *found = cct_policy_legacy_kind(legacy);
	/* a v1 document is already converted, whatever kind is named: printed unchanged (read
	 * as a legacy one of that kind it lost its other sections or was refused) */
	const char *k = found && !strcmp(found, "v1") ? found : kind ? kind : found;
	int rc;

	*out = NULL;
	if (!k)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0, "policy must be a JSON object");
	if (!*k)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy has no key that tells which verifier it is for: name the "
				   "kind (snp, tdx or gpu; `policy convert --kind`)");
	if (!strcmp(k, "v1")) {
		*out = json_deep_copy(legacy);
		return *out ? CCT_OK : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	doc = json_pack("{s:s}", "version", CCT_POLICY_VERSION);
	sec = json_object();
	if (!doc || !sec) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (json_object_get(legacy, "comment"))
		json_object_set(doc, "comment", json_object_get(legacy, "comment"));
	if (!strcmp(k, "snp")) {
		const json_t *src = json_is_object(json_object_get(legacy, "snp"))
					    ? json_object_get(legacy, "snp")
					    : legacy;

		if (src != legacy &&
		    json_object_size(legacy) > (size_t)(1 + !!json_object_get(legacy, "version") +
							!!json_object_get(legacy, "comment"))) {
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
					 "policy: keys beside \"snp\" are not understood");
			goto out;
		}
		rc = convert_section(sec, src, snp_keys, "snp", warnings, err);
		if (rc == CCT_OK)
			rc = snp_version(sec, src, warnings, err);
	} else if (!strcmp(k, "tdx")) {
		rc = convert_section(sec, legacy, tdx_keys, "tdx", warnings, err);
		if (rc == CCT_OK && json_object_get(sec, "accepted_tcb_status")) {
			/* the legacy list always included UpToDate */
			json_t *acc = json_object_get(sec, "accepted_tcb_status");

			if (!cct_json__has_string(acc, "UpToDate"))
				json_array_insert_new(acc, 0, json_string("UpToDate"));
		}
	} else if (!strcmp(k, "gpu")) {
		const char *key;
		json_t *v;

		rc = CCT_OK;
		json_object_foreach((json_t *)legacy, key, v) {
			if (!strcmp(key, "authorization-rules")) {
				json_object_set(sec, "authorization_rules", v);
				warn(warnings, "policy key \"%s\" (nvtrust) is deprecated: use \"%s\" in a "
					       "cctrust.policy/v1 document",
				     key, "gpu.authorization_rules");
			} else if (!strcmp(key, "x-cctrust-expected-count")) {
				json_object_set(sec, "count", v);
				warn(warnings, "policy key \"%s\" is deprecated: use \"%s\"", key, "gpu.count");
			} else if (!strcmp(key, "x-cctrust-expected-arch")) {
				json_object_set_new(sec, "architectures", as_array(v));
				warn(warnings, "policy key \"%s\" is deprecated: use \"%s\"", key,
				     "gpu.architectures");
			} else if (strcmp(key, "version") && strcmp(key, "comment") &&
				   strcmp(key, "policy-name") && strcmp(key, "name")) {
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						 "policy: unknown key \"%s\" in an nvtrust policy", key);
				break;
			}
		}
	} else {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0, "unknown policy kind \"%s\"", k);
	}
	if (rc != CCT_OK)
		goto out;
	json_object_set_new(doc, k, sec);
	sec = NULL;
	*out = doc;
	doc = NULL;
out:
	json_decref(sec);
	json_decref(doc);
	return rc;
}

int cct_policy_load_any(cct_policy **out, const char *text, size_t len, const char *kind,
			const json_t *overrides, json_t *warnings, cct_err *err)
{
	json_error_t je;
	json_t *legacy = NULL, *doc = NULL;
	const char *found;
	int rc;

	*out = NULL;
	if (text) {
		if (len > CCT_POLICY_MAX_POLICY)
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0,
					   "policy larger than %u bytes", CCT_POLICY_MAX_POLICY);
		legacy = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
		if (!legacy)
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_POLICY, 0,
					   "policy is not valid JSON: %s (line %d)", je.text, je.line);
		found = cct_policy_legacy_kind(legacy);
		if (found && !*found) /* nothing in it tells: it is the verifier's own */
			found = kind;
		if (found && strcmp(found, "v1") && kind && strcmp(found, kind)) {
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
					 "policy looks like a %s policy, not a %s one", found, kind);
			goto out;
		}
		rc = cct_policy_convert(&doc, legacy, found, warnings, err);
		if (rc != CCT_OK)
			goto out;
	} else {
		doc = json_pack("{s:s}", "version", CCT_POLICY_VERSION);
	}
	if (overrides) {
		const char *sname;
		json_t *sv;

		json_object_foreach((json_t *)overrides, sname, sv) {
			json_t *sec = json_object_get(doc, sname);

			if (!json_is_object(sec)) {
				sec = json_object();
				json_object_set_new(doc, sname, sec);
			}
			json_object_update(sec, sv);
		}
	}
	rc = cct_policy_load_doc(out, doc, err);
out:
	json_decref(legacy);
	json_decref(doc);
	return rc;
}
