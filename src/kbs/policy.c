#define _GNU_SOURCE
/* Resource policy: which verified claims release which resource. Pure: no I/O. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cctrust/kbs.h"
#include "kbs/kbs_int.h"

#define PTR_MAX_DEPTH 32
#define PTR_MAX_TOKEN 256

static const char default_policy[] =
	"{\"version\":1,\"rules\":[{\"name\":\"default-affirming\",\"resources\":[\"*/*/*\"],"
	"\"require\":[{\"all_submods\":\"affirming\"}]}]}";

json_t *cct_kbs__json_pointer(json_t *root, const char *ptr)
{
	char tok[PTR_MAX_TOKEN];
	const char *p = ptr;
	json_t *cur = root;
	int depth = 0;

	if (!ptr || (*ptr && *ptr != '/'))
		return NULL;
	while (*p && cur) {
		size_t n = 0;

		if (++depth > PTR_MAX_DEPTH)
			return NULL;
		p++; /* '/' */
		while (*p && *p != '/') {
			char c = *p++;

			if (c == '~') {
				if (*p == '0')
					c = '~';
				else if (*p == '1')
					c = '/';
				else
					return NULL;
				p++;
			}
			if (n + 1 >= sizeof(tok))
				return NULL;
			tok[n++] = c;
		}
		tok[n] = 0;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *end = NULL;
			unsigned long i = strtoul(tok, &end, 10);

			if (!n || *end || (n > 1 && tok[0] == '0'))
				return NULL;
			cur = json_array_get(cur, i);
		} else {
			return NULL;
		}
	}
	return cur;
}

int cct_kbs__resource_path_ok(const char *res)
{
	int seg = 0;
	size_t len = 0;
	const char *p;

	/* the store's name limit: a longer path (three segments may reach 386 characters) was
	 * accepted here and by the client, then refused by the store as a 404 */
	if (!res || !*res || strlen(res) > CCT_STORE_MAX_NAME)
		return 0;
	for (p = res;; p++) {
		if (*p == '/' || *p == 0) {
			/* "." alone is a dot-segment: HTTP clients remove it, so no guest could
			 * name the resource (".." is refused below) */
			if (len == 0 || len > 128 || (len == 1 && p[-1] == '.'))
				return 0;
			seg++;
			len = 0;
			if (*p == 0)
				break;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return 0;
		len++;
	}
	return seg == 3 && !strstr(res, "..") && res[0] != '.';
}

/* Pattern: three segments, "*" matches one whole segment. */
static int pattern_match(const char *pat, const char *res)
{
	while (*pat && *res) {
		const char *pe = strchr(pat, '/'), *re = strchr(res, '/');
		size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
		size_t rl = re ? (size_t)(re - res) : strlen(res);

		if (!(pl == 1 && pat[0] == '*') && (pl != rl || strncmp(pat, res, pl)))
			return 0;
		if (!pe || !re)
			return !pe && !re;
		pat = pe + 1;
		res = re + 1;
	}
	return 0;
}

/* The first key of obj not in the NULL-terminated list known, or NULL. */
static const char *unknown_key(const json_t *obj, const char *const *known)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, k, v) {
		for (i = 0; known[i] && strcmp(known[i], k); i++)
			;
		if (!known[i])
			return k;
	}
	return NULL;
}

/* "repo/type/tag": three non-empty segments, '*' only as a whole segment */
static int pattern_ok(const char *pat)
{
	int segs = 1;
	size_t len = 0;
	const char *p;

	for (p = pat;; p++) {
		if (*p == '/' || !*p) {
			if (!len)
				return 0;
			if (!*p)
				return segs == 3;
			segs++;
			len = 0;
		} else {
			if (*p == '*' && (len || (p[1] && p[1] != '/')))
				return 0;
			len++;
		}
	}
}

/* 1 if ptr is a JSON pointer cct_kbs__json_pointer can follow ("" or "/..." with "~0" / "~1"
 * the only escapes, tokens of at most PTR_MAX_TOKEN - 1 bytes, at most PTR_MAX_DEPTH of them).
 * One it cannot follow finds nothing in any claims: {"exists": false} on it would always hold. */
static int pointer_ok(const char *ptr)
{
	size_t n = 0;
	int depth = 0;

	if (*ptr && *ptr != '/')
		return 0;
	for (; *ptr; ptr++) {
		if (*ptr == '/') {
			if (++depth > PTR_MAX_DEPTH)
				return 0;
			n = 0;
			continue;
		}
		if (*ptr == '~' && ptr[1] != '0' && ptr[1] != '1')
			return 0;
		if (*ptr == '~')
			ptr++;
		if (++n >= PTR_MAX_TOKEN)
			return 0;
	}
	return 1;
}

static int check_requirement(const json_t *req, cct_err *err, size_t ri)
{
	static const char *const known[] = { "claim", "equals", "one_of", "exists", "all_submods",
					     NULL };
	const char *unknown;
	const char *claim = json_string_value(json_object_get(req, "claim"));
	json_t *allsub = json_object_get(req, "all_submods");
	int ops = !!json_object_get(req, "equals") + !!json_object_get(req, "one_of") +
		  !!json_object_get(req, "exists");

	if (!json_is_object(req))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "requirement %zu is not an object", ri);
	/* a misspelt operator must not leave a requirement that is always true */
	if ((unknown = unknown_key(req, known)))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "requirement %zu: unknown key \"%.40s\" (claim, equals, one_of, "
				   "exists, all_submods)", ri, unknown);
	if (allsub) {
		if (!json_is_string(allsub) || claim || ops)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
					   "requirement %zu: \"all_submods\" takes a status string "
					   "and nothing else", ri);
		return CCT_OK;
	}
	if (!claim || (*claim && *claim != '/') || ops != 1)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "requirement %zu needs a \"claim\" JSON pointer and exactly one "
				   "of equals / one_of / exists", ri);
	if (!pointer_ok(claim))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "requirement %zu: \"claim\" is not a JSON pointer that can be "
				   "followed (RFC 6901: only ~0 and ~1 escapes; at most %d tokens of "
				   "%d bytes): it would match nothing", ri, PTR_MAX_DEPTH,
				   PTR_MAX_TOKEN - 1);
	if (json_object_get(req, "one_of") && !json_is_array(json_object_get(req, "one_of")))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "requirement %zu: \"one_of\" must be an array", ri);
	if (json_object_get(req, "exists") && !json_is_boolean(json_object_get(req, "exists")))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "requirement %zu: \"exists\" must be true or false", ri);
	return CCT_OK;
}

static int check_policy(const json_t *pol, cct_err *err)
{
	static const char *const known_top[] = { "version", "rules", "allow_simulated", NULL };
	static const char *const known_rule[] = { "name", "resources", "require", "allow_simulated",
						  NULL };
	json_t *rules = json_object_get(pol, "rules"), *rule, *v;
	const char *unknown;
	size_t i, j;

	if (!json_is_object(pol) || json_integer_value(json_object_get(pol, "version")) != 1)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "resource policy must be an object with \"version\": 1");
	/* unknown keys are refused, as in attestation policies: a typo must not weaken a policy */
	if ((unknown = unknown_key(pol, known_top)))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "resource policy: unknown key \"%.40s\" (version, rules, "
				   "allow_simulated)", unknown);
	if (json_object_get(pol, "allow_simulated") &&
	    !json_is_boolean(json_object_get(pol, "allow_simulated")))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "\"allow_simulated\" must be a boolean");
	if (!json_is_array(rules) || json_array_size(rules) > CCT_KBS_MAX_POLICY_RULES)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
				   "resource policy needs a \"rules\" array of at most %d rules",
				   CCT_KBS_MAX_POLICY_RULES);
	json_array_foreach(rules, i, rule) {
		json_t *res = json_object_get(rule, "resources");
		json_t *req = json_object_get(rule, "require");

		if (!json_is_object(rule))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
					   "rule %zu is not an object", i);
		if ((unknown = unknown_key(rule, known_rule)))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
					   "rule %zu: unknown key \"%.40s\" (name, resources, "
					   "require, allow_simulated)", i, unknown);
		if (!json_is_array(res) || !json_is_array(req) || !json_array_size(res))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
					   "rule %zu needs \"resources\" and \"require\" arrays", i);
		if (!json_array_size(req))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
					   "rule %zu: \"require\" is empty, so it would release to "
					   "any attested session; say so with {\"all_submods\": "
					   "\"affirming\"} or name the claims", i);
		if (json_object_get(rule, "name") && !json_is_string(json_object_get(rule, "name")))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
					   "rule %zu: \"name\" must be a string", i);
		if (json_object_get(rule, "allow_simulated") &&
		    !json_is_boolean(json_object_get(rule, "allow_simulated")))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
					   "rule %zu: \"allow_simulated\" must be a boolean", i);
		json_array_foreach(res, j, v) {
			if (!json_is_string(v) || !pattern_ok(json_string_value(v)))
				return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_POLICY, 0,
						   "rule %zu: resources must be \"repo/type/tag\" "
						   "patterns ('*' a whole segment)", i);
		}
		json_array_foreach(req, j, v) {
			int rc = check_requirement(v, err, j);

			if (rc != CCT_OK)
				return rc;
		}
	}
	return CCT_OK;
}

static json_t *load(const char *txt, size_t len, cct_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(txt, len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		cct_err_set(err, CCT_EENCODING, CCT_STAGE_POLICY, (size_t)je.position,
			    "resource policy is not JSON: %s", je.text);
	return j;
}

int cct_kbs_policy_check(const char *policy_json, size_t len, cct_err *err)
{
	json_t *p = load(policy_json, len, err);
	int rc;

	if (!p)
		return CCT_EENCODING;
	rc = check_policy(p, err);
	json_decref(p);
	return rc;
}

static void describe(char *buf, size_t size, const json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	snprintf(buf, size, "%s", s ? s : "(absent)");
	free(s);
}

/* 1 if the requirement holds; else 0 and why in buf. */
static int requirement_holds(const json_t *req, json_t *claims, char *why, size_t size)
{
	const char *claim = json_string_value(json_object_get(req, "claim"));
	json_t *want, *allsub = json_object_get(req, "all_submods");
	json_t *got;
	char gs[96], ws[96];

	if (allsub) {
		json_t *subs = json_object_get(claims, "submods"), *sub;
		const char *k;

		if (!json_is_object(subs) || !json_object_size(subs)) {
			snprintf(why, size, "token has no submods");
			return 0;
		}
		json_object_foreach(subs, k, sub) {
			const char *st = json_string_value(json_object_get(sub, "ear.status"));

			if (!st || strcmp(st, json_string_value(allsub))) {
				snprintf(why, size, "submods.%.40s ear.status is %.40s, required %.40s",
					 k, st ? st : "(absent)", json_string_value(allsub));
				return 0;
			}
		}
		return 1;
	}
	got = cct_kbs__json_pointer(claims, claim);
	if ((want = json_object_get(req, "exists"))) {
		if (!!got == json_is_true(want))
			return 1;
		snprintf(why, size, "claim %.80s is %s", claim, got ? "present" : "absent");
		return 0;
	}
	if ((want = json_object_get(req, "equals"))) {
		if (got && json_equal(got, want))
			return 1;
	} else {
		size_t i;
		json_t *v;

		want = json_object_get(req, "one_of");
		json_array_foreach(want, i, v) {
			if (got && json_equal(got, v))
				return 1;
		}
	}
	describe(gs, sizeof(gs), got);
	describe(ws, sizeof(ws), want);
	snprintf(why, size, "claim %.60s is %.70s, required %.70s", claim, gs, ws);
	return 0;
}

/* 1 if any submod of the claims comes from a simulated TEE or GPU (marked by the verifier). */
static int claims_simulated(json_t *claims)
{
	json_t *subs = json_object_get(claims, "submods"), *sub;
	const char *k;

	json_object_foreach(subs, k, sub) {
		if (json_is_true(json_object_get(sub, "cctrust.simulated")))
			return 1;
	}
	return 0;
}

int cct_kbs_policy_eval(const char *policy_json, const char *claims_json, const char *resource,
			cct_err *err)
{
	json_t *claims = claims_json ? json_loads(claims_json, 0, NULL) : NULL;
	int rc = cct_kbs_policy_eval_claims(policy_json, claims, resource, err);

	json_decref(claims);
	return rc;
}

int cct_kbs_policy_eval_claims(const char *policy_json, const json_t *claims_doc,
			       const char *resource, cct_err *err)
{
	int rc = CCT_ERROR, matched = 0, sim;
	json_t *pol = NULL, *rules, *rule;
	/* read only: jansson's getters take non-const pointers */
	json_t *claims = (json_t *)claims_doc;
	char why[256] = "", first[340] = "";
	size_t i;

	if (!policy_json)
		policy_json = default_policy;
	if (!(pol = load(policy_json, strlen(policy_json), err))) {
		rc = CCT_EPOLICY;
		goto out;
	}
	if ((rc = check_policy(pol, err)) != CCT_OK) {
		rc = CCT_EPOLICY;
		goto out;
	}
	if (!json_is_object(claims)) {
		rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0, "no verified claims");
		goto out;
	}
	sim = claims_simulated(claims);
	rules = json_object_get(pol, "rules");
	json_array_foreach(rules, i, rule) {
		json_t *res = json_object_get(rule, "resources"), *v, *req;
		size_t j;
		int hit = 0, ok = 1;
		const char *name = json_string_value(json_object_get(rule, "name"));
		int allow_sim = json_is_true(json_object_get(rule, "allow_simulated")) ||
				json_is_true(json_object_get(pol, "allow_simulated"));

		json_array_foreach(res, j, v) {
			if (pattern_match(json_string_value(v), resource))
				hit = 1;
		}
		if (!hit)
			continue;
		matched = 1;
		if (sim && !allow_sim) {
			ok = 0;
			snprintf(why, sizeof(why), "evidence is from a SIMULATED TEE and the rule "
						   "does not say \"allow_simulated\": true");
		}
		json_array_foreach(json_object_get(rule, "require"), j, req) {
			if (!ok)
				break;
			if (!requirement_holds(req, claims, why, sizeof(why))) {
				ok = 0;
				break;
			}
		}
		if (ok) {
			rc = CCT_OK;
			goto out;
		}
		if (!first[0])
			snprintf(first, sizeof(first), "rule %.60s: %s",
				 name ? name : "(unnamed)", why);
	}
	rc = cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0, "%s",
			 matched ? first : "no policy rule covers this resource");
out:
	json_decref(pol);
	return rc;
}
