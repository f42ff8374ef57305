/* The cctrust policy language (docs/policy.md): load + validate, then evaluate over verified
 * claims. Evaluation is pure (no I/O) and never stops at the first failure: every failing rule
 * is named with its expected and actual values. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cctrust/core.h"
#include "policy/internal.h"

/* ---- schema ---- */

typedef enum { T_STR, T_INT, T_BOOL, T_HEX, T_HEXARR, T_STRARR, T_TCB, T_OBJ, T_ANY,
	       T_PCRS } ktype;

typedef struct key_spec {
	const char *section; /* "" = top level */
	const char *key;
	ktype type;
	int hex_len;         /* bytes, for T_HEX / T_HEXARR */
} key_spec;

static const key_spec schema[] = {
	{ "", "version", T_STR, 0 },
	{ "", "id", T_STR, 0 },
	{ "", "comment", T_ANY, 0 },
	{ "", "tee", T_STRARR, 0 },
	{ "", "snp", T_OBJ, 0 },
	{ "", "tdx", T_OBJ, 0 },
	{ "", "vtpm", T_OBJ, 0 },
	{ "", "gpu", T_OBJ, 0 },
	{ "", "model", T_OBJ, 0 },
	{ "", "init_data", T_OBJ, 0 },
	{ "snp", "measurements", T_HEXARR, 48 },
	{ "snp", "host_data", T_HEX, 32 },
	{ "snp", "min_reported_tcb", T_TCB, 0 },
	{ "snp", "min_committed_tcb", T_TCB, 0 },
	{ "snp", "min_launch_tcb", T_TCB, 0 },
	{ "snp", "min_current_tcb", T_TCB, 0 },
	{ "snp", "min_guest_svn", T_INT, 0 },
	{ "snp", "max_vmpl", T_INT, 0 },
	{ "snp", "allow_debug", T_BOOL, 0 },
	{ "snp", "allow_migrate_ma", T_BOOL, 0 },
	{ "snp", "allow_smt", T_BOOL, 0 },
	{ "snp", "require_single_socket", T_BOOL, 0 },
	{ "snp", "chip_ids", T_HEXARR, 64 },
	{ "snp", "family_id", T_HEX, 16 },
	{ "snp", "image_id", T_HEX, 16 },
	{ "snp", "id_key_digests", T_HEXARR, 48 },
	{ "snp", "author_key_digests", T_HEXARR, 48 },
	{ "snp", "require_id_block", T_BOOL, 0 },
	{ "snp", "require_author_key", T_BOOL, 0 },
	{ "snp", "min_version", T_STR, 0 },
	{ "snp", "products", T_STRARR, 0 },
	{ "snp", "signing_keys", T_STRARR, 0 },
	{ "vtpm", "pcrs", T_PCRS, 0 },
	{ "tdx", "mrtd", T_HEXARR, 48 },
	{ "tdx", "rtmr0", T_HEXARR, 48 },
	{ "tdx", "rtmr1", T_HEXARR, 48 },
	{ "tdx", "rtmr2", T_HEXARR, 48 },
	{ "tdx", "rtmr3", T_HEXARR, 48 },
	{ "tdx", "mrseam", T_HEXARR, 48 },
	{ "tdx", "mrowner", T_HEX, 48 },
	{ "tdx", "mrownerconfig", T_HEX, 48 },
	{ "tdx", "mrconfigid", T_HEX, 48 },
	{ "tdx", "accepted_tcb_status", T_STRARR, 0 },
	{ "tdx", "allow_debug", T_BOOL, 0 },
	{ "gpu", "required", T_BOOL, 0 },
	{ "gpu", "count", T_INT, 0 },
	{ "gpu", "min_count", T_INT, 0 },
	{ "gpu", "architectures", T_STRARR, 0 },
	{ "gpu", "cc_mode", T_STRARR, 0 },
	{ "gpu", "ppcie", T_STR, 0 },
	{ "gpu", "min_driver_version", T_STR, 0 },
	{ "gpu", "min_vbios_version", T_STR, 0 },
	{ "gpu", "rim_ids", T_STRARR, 0 },
	{ "gpu", "require_measres", T_BOOL, 0 },
	{ "gpu", "authorization_rules", T_OBJ, 0 },
	{ "model", "specs", T_STRARR, 0 },
	{ "model", "init_data_key", T_STR, 0 },
	{ "init_data", "required", T_BOOL, 0 },
	{ "init_data", "digests", T_HEXARR, 0 },
};

static int is_hex_of(const char *s, int bytes)
{
	size_t n = strlen(s), i;

	if (n == 0 || n % 2 || (bytes && n != (size_t)bytes * 2))
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int bad_key(cct_err *err, const char *sec, const char *key, const char *what)
{
	return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0, "policy %s%s%s: %s", sec,
			   sec[0] ? "." : "", key, what);
}

static int check_value(const key_spec *ks, const json_t *v, cct_err *err)
{
	const json_t *x;
	size_t i;
	const char *k;

	switch (ks->type) {
	case T_STR:
		return json_is_string(v) ? CCT_OK : bad_key(err, ks->section, ks->key, "expected a string");
	case T_INT:
		return json_is_integer(v) && json_integer_value(v) >= 0
			       ? CCT_OK
			       : bad_key(err, ks->section, ks->key, "expected a non-negative integer");
	case T_BOOL:
		return json_is_boolean(v) ? CCT_OK : bad_key(err, ks->section, ks->key, "expected true/false");
	case T_HEX:
		return json_is_string(v) && is_hex_of(json_string_value(v), ks->hex_len)
			       ? CCT_OK
			       : bad_key(err, ks->section, ks->key, "expected hex of the field's size");
	case T_HEXARR:
	case T_STRARR:
		if (!json_is_array(v))
			return bad_key(err, ks->section, ks->key, "expected an array");
		json_array_foreach(v, i, x) {
			if (!json_is_string(x))
				return bad_key(err, ks->section, ks->key, "array elements must be strings");
			if (ks->type == T_HEXARR && !is_hex_of(json_string_value(x), ks->hex_len))
				return bad_key(err, ks->section, ks->key,
					       "array element is not hex of the field's size");
		}
		return CCT_OK;
	case T_TCB:
		if (!json_is_object(v))
			return bad_key(err, ks->section, ks->key, "expected {bootloader,tee,snp,microcode,fmc?}");
		json_object_foreach((json_t *)v, k, x) {
			if (strcmp(k, "bootloader") && strcmp(k, "tee") && strcmp(k, "snp") &&
			    strcmp(k, "microcode") && strcmp(k, "fmc"))
				return bad_key(err, ks->section, ks->key, "unknown TCB component");
			if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
				return bad_key(err, ks->section, ks->key, "TCB components are 0..255");
		}
		return CCT_OK;
	case T_OBJ:
		return json_is_object(v) ? CCT_OK : bad_key(err, ks->section, ks->key, "expected an object");
	case T_ANY:
		return CCT_OK;
	case T_PCRS: { /* {"sha256": {"7": ["HEX", ...]}}: bank -> PCR index -> allowed values */
		const char *ik;
		json_t *bank, *vals;

		if (!json_is_object(v))
			return bad_key(err, ks->section, ks->key,
				       "expected {\"sha256\": {\"0\": [\"HEX\", ...]}}");
		json_object_foreach((json_t *)v, k, bank) {
			int bytes = !strcmp(k, "sha1") ? 20 : !strcmp(k, "sha256") ? 32
				  : !strcmp(k, "sha384") ? 48 : !strcmp(k, "sha512") ? 64 : 0;

			if (!bytes || !json_is_object(bank))
				return bad_key(err, ks->section, ks->key,
					       "banks are sha1, sha256, sha384, sha512 objects");
			json_object_foreach(bank, ik, vals) {
				char *end;
				unsigned long idx = strtoul(ik, &end, 10);

				if (!*ik || *end || idx > 23)
					return bad_key(err, ks->section, ks->key,
						       "PCR indices are \"0\"..\"23\"");
				if (!json_is_array(vals) || !json_array_size(vals))
					return bad_key(err, ks->section, ks->key,
						       "each PCR takes a non-empty array of values");
				json_array_foreach(vals, i, x)
					if (!json_is_string(x) ||
					    !is_hex_of(json_string_value(x), bytes))
						return bad_key(err, ks->section, ks->key,
							       "a PCR value is not hex of its bank's "
							       "size");
			}
		}
		return CCT_OK;
	}
	}
	return CCT_ERROR;
}

static int validate_section(const json_t *obj, const char *section, cct_err *err)
{
	const char *k;
	json_t *v;
	size_t i;
	int rc;

	json_object_foreach((json_t *)obj, k, v) {
		const key_spec *ks = NULL;

		for (i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
			if (!strcmp(schema[i].section, section) && !strcmp(schema[i].key, k))
				ks = &schema[i];
		if (!ks)
			return bad_key(err, section, k,
				       "unknown key (a typo must not weaken a policy; see docs/policy.md)");
		rc = check_value(ks, v, err);
		if (rc != CCT_OK)
			return rc;
		if (ks->type == T_OBJ && !section[0]) {
			rc = validate_section(v, k, err);
			if (rc != CCT_OK)
				return rc;
		}
	}
	return CCT_OK;
}

static int check_strs(const json_t *doc, const char *sec, const char *key,
		      const char *const *allowed, cct_err *err)
{
	const json_t *a = json_object_get(sec[0] ? json_object_get(doc, sec) : doc, key), *x;
	size_t i, j;

	json_array_foreach(a, i, x) {
		int ok = 0;

		for (j = 0; allowed[j]; j++)
			if (!strcmp(json_string_value(x), allowed[j]))
				ok = 1;
		if (!ok)
			return bad_key(err, sec, key, "value not allowed (see docs/policy.md)");
	}
	return CCT_OK;
}

int cct_policy_load(cct_policy **out, const char *text, size_t len, cct_err *err)
{
	static const char *const tees[] = { "snp", "tdx", "az-snp-vtpm", NULL };
	static const char *const modes[] = { "on", "devtools", "off", NULL };
	static const char *const prods[] = { "Milan", "Genoa", "Turin", NULL };
	static const char *const keys[] = { "vcek", "vlek", NULL };
	json_error_t je;
	json_t *doc = NULL;
	cct_policy *p = NULL;
	const char *ver, *id, *pp;
	int rc = CCT_ERROR;

	*out = NULL;
	if (len > CCT_POLICY_MAX_POLICY)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0, "policy larger than %u bytes",
				   CCT_POLICY_MAX_POLICY);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_POLICY, 0,
				   "policy is not valid JSON: %s (line %d)", je.text, je.line);
	if (!json_is_object(doc)) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0, "policy must be a JSON object");
		goto out;
	}
	if (cct_policy__json_depth(doc) > CCT_POLICY_MAX_DEPTH) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0, "policy nests too deep");
		goto out;
	}
	ver = json_string_value(json_object_get(doc, "version"));
	if (!ver || strcmp(ver, CCT_POLICY_VERSION)) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_POLICY, 0,
				 "policy \"version\" must be \"%s\" (got %s%.40s%s)", CCT_POLICY_VERSION,
				 ver ? "\"" : "", ver ? ver : "none", ver ? "\"" : "");
		goto out;
	}
	if ((rc = validate_section(doc, "", err)) != CCT_OK ||
	    (rc = check_strs(doc, "", "tee", tees, err)) != CCT_OK ||
	    (rc = check_strs(doc, "gpu", "cc_mode", modes, err)) != CCT_OK ||
	    (rc = check_strs(doc, "snp", "products", prods, err)) != CCT_OK ||
	    (rc = check_strs(doc, "snp", "signing_keys", keys, err)) != CCT_OK)
		goto out;
	pp = json_string_value(json_object_get(json_object_get(doc, "gpu"), "ppcie"));
	if (pp && strcmp(pp, "any") && strcmp(pp, "required") && strcmp(pp, "forbidden")) {
		rc = bad_key(err, "gpu", "ppcie", "expected \"any\", \"required\" or \"forbidden\"");
		goto out;
	}
	{
		const json_t *specs = json_object_get(json_object_get(doc, "model"), "specs"), *x;
		size_t i;

		json_array_foreach(specs, i, x) {
			const char *s = json_string_value(x), *at = strchr(s, '@'), *colon;

			colon = at ? strchr(at, ':') : NULL;
			if (!at || at == s || !colon || colon == at + 1 || !is_hex_of(colon + 1, 0)) {
				rc = bad_key(err, "model", "specs",
					     "expected \"name@revision:verity-root-hex\"");
				goto out;
			}
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	id = json_string_value(json_object_get(doc, "id"));
	snprintf(p->id, sizeof(p->id), "%s", id ? id : "default");
	p->doc = doc;
	doc = NULL;
	*out = p;
	rc = CCT_OK;
out:
	json_decref(doc);
	return rc;
}

int cct_policy_default(cct_policy **out, cct_err *err)
{
	static const char def[] = "{\"version\":\"" CCT_POLICY_VERSION "\",\"id\":\"default\"}";

	return cct_policy_load(out, def, sizeof(def) - 1, err);
}

void cct_policy_free(cct_policy *pol)
{
	if (!pol)
		return;
	json_decref(pol->doc);
	free(pol);
}

const char *cct_policy_id(const cct_policy *pol)
{
	return pol ? pol->id : "default";
}

const json_t *cct_policy_section(const cct_policy *pol, const char *name)
{
	return pol && name ? json_object_get(pol->doc, name) : NULL;
}

int cct_policy__json_depth(const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	int d = 0, t;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			t = cct_policy__json_depth(x);
			if (t > d)
				d = t;
			if (d > CCT_POLICY_MAX_DEPTH)
				break;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			t = cct_policy__json_depth(x);
			if (t > d)
				d = t;
			if (d > CCT_POLICY_MAX_DEPTH)
				break;
		}
		return d + 1;
	}
	return 0;
}

/* ---- evaluation ---- */

void cct_policy__fail(json_t *failures, const char *rule, const char *category, json_t *expected,
		      json_t *actual, const char *fmt, ...)
{
	json_t *f;
	char msg[400];
	va_list ap;

	if (!failures || json_array_size(failures) >= CCT_POLICY_MAX_FAILURES) {
		json_decref(expected);
		json_decref(actual);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = json_object();
	json_object_set_new(f, "rule", json_string(rule));
	json_object_set_new(f, "category", json_string(category));
	json_object_set_new(f, "expected", expected ? expected : json_null());
	json_object_set_new(f, "actual", actual ? actual : json_null());
	json_object_set_new(f, "message", json_string(msg));
	json_array_append_new(failures, f);
}

static json_t *copy(const json_t *v)
{
	return v ? json_deep_copy(v) : json_null();
}

static int str_in(const json_t *arr, const char *s)
{
	const json_t *x;
	size_t i;

	if (!s)
		return 0;
	json_array_foreach(arr, i, x)
		if (!strcasecmp(json_string_value(x), s))
			return 1;
	return 0;
}

static int get_bool(const json_t *sec, const char *key, int def)
{
	const json_t *v = json_object_get(sec, key);

	return v ? json_is_true(v) : def;
}

/* rule: claim string must be one of the policy's hex array (case-insensitive) */
static void one_of(json_t *fails, const json_t *sec, const char *sec_name, const char *key,
		   const json_t *claims, const char *claim, const char *cat)
{
	const json_t *want = json_object_get(sec, key);
	const char *have = json_string_value(json_object_get(claims, claim));
	char rule[64];

	if (!want)
		return;
	snprintf(rule, sizeof(rule), "%s.%s", sec_name, key);
	if (!str_in(want, have))
		cct_policy__fail(fails, rule, cat, copy(want), copy(json_object_get(claims, claim)),
				 "%s %s is not one of the %zu reference values", sec_name, claim,
				 json_array_size(want));
}

static void equal_hex(json_t *fails, const json_t *sec, const char *sec_name, const char *key,
		      const json_t *claims, const char *claim, const char *cat)
{
	const json_t *want = json_object_get(sec, key);
	const char *have = json_string_value(json_object_get(claims, claim));
	char rule[64];

	if (!want)
		return;
	snprintf(rule, sizeof(rule), "%s.%s", sec_name, key);
	if (!have || strcasecmp(have, json_string_value(want)))
		cct_policy__fail(fails, rule, cat, copy(want), copy(json_object_get(claims, claim)),
				 "%s %s differs from the reference value", sec_name, claim);
}

static void min_tcb(json_t *fails, const json_t *sec, const char *key, const json_t *claims,
		    const char *claim)
{
	const json_t *want = json_object_get(sec, key), *have = json_object_get(claims, claim), *x;
	const char *k;
	char rule[64];

	if (!want)
		return;
	snprintf(rule, sizeof(rule), "snp.%s", key);
	json_object_foreach((json_t *)want, k, x) {
		const json_t *h = json_object_get(have, k);

		if (!h || json_integer_value(h) < json_integer_value(x)) {
			cct_policy__fail(fails, rule, "hardware", copy(want), copy(have),
					 "%s.%s is %lld, below the minimum %lld", claim, k,
					 h ? (long long)json_integer_value(h) : -1LL,
					 (long long)json_integer_value(x));
			return;
		}
	}
}

/* Compare dotted versions component by component; base 10 or 16. <0, 0, >0. */
static int version_cmp(const char *a, const char *b, int base)
{
	while (*a || *b) {
		char *ea, *eb;
		unsigned long x = strtoul(a, &ea, base), y = strtoul(b, &eb, base);

		if (x != y)
			return x < y ? -1 : 1;
		a = *ea ? ea + 1 : ea;
		b = *eb ? eb + 1 : eb;
		if (ea == a && eb == b)
			break;
	}
	return 0;
}

static void eval_snp(const json_t *sec, const json_t *c, json_t *f)
{
	const json_t *pb = json_object_get(c, "policy_bits"), *v;
	json_int_t vmpl = json_integer_value(json_object_get(c, "vmpl"));
	json_int_t max_vmpl = json_object_get(sec, "max_vmpl")
				      ? json_integer_value(json_object_get(sec, "max_vmpl"))
				      : 0;
	const char *ver;

	one_of(f, sec, "snp", "measurements", c, "measurement", "executables");
	equal_hex(f, sec, "snp", "host_data", c, "host_data", "configuration");
	equal_hex(f, sec, "snp", "family_id", c, "family_id", "configuration");
	equal_hex(f, sec, "snp", "image_id", c, "image_id", "configuration");
	one_of(f, sec, "snp", "chip_ids", c, "chip_id", "instance-identity");
	one_of(f, sec, "snp", "id_key_digests", c, "id_key_digest", "configuration");
	one_of(f, sec, "snp", "author_key_digests", c, "author_key_digest", "configuration");
	min_tcb(f, sec, "min_reported_tcb", c, "reported_tcb");
	min_tcb(f, sec, "min_committed_tcb", c, "committed_tcb");
	min_tcb(f, sec, "min_launch_tcb", c, "launch_tcb");
	min_tcb(f, sec, "min_current_tcb", c, "current_tcb");
	if ((v = json_object_get(sec, "min_guest_svn")) &&
	    json_integer_value(json_object_get(c, "guest_svn")) < json_integer_value(v))
		cct_policy__fail(f, "snp.min_guest_svn", "configuration", copy(v),
				 copy(json_object_get(c, "guest_svn")), "guest SVN below the minimum");
	if (vmpl > max_vmpl)
		cct_policy__fail(f, "snp.max_vmpl", "configuration", json_integer(max_vmpl),
				 json_integer(vmpl), "report requested at VMPL %lld; at most %lld accepted",
				 (long long)vmpl, (long long)max_vmpl);
	if (json_is_true(json_object_get(pb, "debug")) && !get_bool(sec, "allow_debug", 0))
		cct_policy__fail(f, "snp.allow_debug", "configuration", json_false(), json_true(),
				 "guest policy allows debugging (DEBUG bit 19): the host can read "
				 "guest memory");
	if (json_is_true(json_object_get(pb, "migrate_ma")) && !get_bool(sec, "allow_migrate_ma", 1))
		cct_policy__fail(f, "snp.allow_migrate_ma", "configuration", json_false(), json_true(),
				 "guest policy allows a migration agent");
	if (json_is_true(json_object_get(pb, "smt")) && !get_bool(sec, "allow_smt", 1))
		cct_policy__fail(f, "snp.allow_smt", "configuration", json_false(), json_true(),
				 "guest policy allows SMT");
	if (get_bool(sec, "require_single_socket", 0) &&
	    !json_is_true(json_object_get(pb, "single_socket")))
		cct_policy__fail(f, "snp.require_single_socket", "configuration", json_true(),
				 json_false(), "guest policy does not require a single socket");
	if (get_bool(sec, "require_id_block", 0)) {
		const char *d = json_string_value(json_object_get(c, "id_key_digest"));
		int zero = !d || strspn(d, "0") == strlen(d);

		if (zero)
			cct_policy__fail(f, "snp.require_id_block", "configuration",
					 json_string("non-zero id_key_digest"), copy(json_object_get(c, "id_key_digest")),
					 "the guest was launched without an ID block");
	}
	if (get_bool(sec, "require_author_key", 0) && !json_is_true(json_object_get(c, "author_key_en")))
		cct_policy__fail(f, "snp.require_author_key", "configuration", json_true(), json_false(),
				 "the ID block has no author key");
	if ((v = json_object_get(sec, "min_version")) &&
	    (!(ver = json_string_value(json_object_get(c, "current_version"))) ||
	     version_cmp(ver, json_string_value(v), 10) < 0))
		cct_policy__fail(f, "snp.min_version", "hardware", copy(v),
				 copy(json_object_get(c, "current_version")),
				 "SNP firmware version below the minimum");
	if ((v = json_object_get(sec, "products")) &&
	    !str_in(v, json_string_value(json_object_get(c, "product"))))
		cct_policy__fail(f, "snp.products", "hardware", copy(v), copy(json_object_get(c, "product")),
				 "processor product not allowed");
	if ((v = json_object_get(sec, "signing_keys")) &&
	    !str_in(v, json_string_value(json_object_get(c, "signing_key"))))
		cct_policy__fail(f, "snp.signing_keys", "hardware", copy(v),
				 copy(json_object_get(c, "signing_key")), "report signing key type not allowed");
}

static void eval_tdx(const json_t *sec, const json_t *c, json_t *f)
{
	static const char *const rtmrs[] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
	const json_t *acc = json_object_get(sec, "accepted_tcb_status");
	const char *st = json_string_value(json_object_get(c, "tcb_status"));
	size_t i;

	one_of(f, sec, "tdx", "mrtd", c, "mrtd", "executables");
	for (i = 0; i < 4; i++)
		one_of(f, sec, "tdx", rtmrs[i], c, rtmrs[i], "executables");
	one_of(f, sec, "tdx", "mrseam", c, "mrseam", "hardware");
	equal_hex(f, sec, "tdx", "mrowner", c, "mrowner", "configuration");
	equal_hex(f, sec, "tdx", "mrownerconfig", c, "mrownerconfig", "configuration");
	equal_hex(f, sec, "tdx", "mrconfigid", c, "mrconfigid", "configuration");
	if (acc ? !str_in(acc, st) : (!st || strcmp(st, "UpToDate")))
		cct_policy__fail(f, "tdx.accepted_tcb_status", "hardware",
				 acc ? copy(acc) : json_pack("[s]", "UpToDate"),
				 copy(json_object_get(c, "tcb_status")), "platform TCB status not accepted");
	if (json_is_true(json_object_get(c, "debug")) && !get_bool(sec, "allow_debug", 0))
		cct_policy__fail(f, "tdx.allow_debug", "configuration", json_false(), json_true(),
				 "TD is debuggable (TD_ATTRIBUTES.DEBUG)");
}

static const char *device_field(const cct_policy_claims *c, size_t i, const char *key)
{
	if (c->gpu_claims && c->gpu_claims[i])
		return json_string_value(json_object_get(c->gpu_claims[i], key));
	return NULL;
}

static void eval_gpu(const json_t *sec, const cct_policy_claims *c, const json_t *devices,
		     json_t *cpu_f, json_t **gpu_f)
{
	const json_t *modes = json_object_get(sec, "cc_mode"), *v;
	json_t *def_modes = json_pack("[s]", "on");
	const char *ppcie = json_string_value(json_object_get(sec, "ppcie"));
	size_t n = c->gpu_count, i;

	if (!modes)
		modes = def_modes;
	if ((v = json_object_get(sec, "count")) && (size_t)json_integer_value(v) != n)
		cct_policy__fail(cpu_f, "gpu.count", "configuration", copy(v), json_integer((json_int_t)n),
				 "%zu GPUs attested; the policy requires exactly %lld", n,
				 (long long)json_integer_value(v));
	if ((v = json_object_get(sec, "min_count")) && (size_t)json_integer_value(v) > n)
		cct_policy__fail(cpu_f, "gpu.min_count", "configuration", copy(v), json_integer((json_int_t)n),
				 "%zu GPUs attested; the policy requires at least %lld", n,
				 (long long)json_integer_value(v));
	if (get_bool(sec, "required", 0) && n == 0)
		cct_policy__fail(cpu_f, "gpu.required", "configuration", json_true(), json_integer(0),
				 "no GPU evidence in the request");
	for (i = 0; i < n; i++) {
		const json_t *dev = json_array_get(devices, i);
		const json_t *cm = json_object_get(dev, "cc_mode");
		const char *mode, *arch;
		char rule_n[32];

		if (!cm && c->nvidia)
			cm = json_object_get(c->nvidia, "cc_mode");
		mode = json_string_value(cm);
		snprintf(rule_n, sizeof(rule_n), "gpu%zu", i);
		if (!str_in(modes, mode))
			cct_policy__fail(gpu_f[i], "gpu.cc_mode", "configuration", copy(modes), copy(cm),
					 "%s confidential-computing mode is %s%s%s (recorded by the "
					 "attester from NVML, bound via the CPU report)",
					 rule_n, mode ? "\"" : "", mode ? mode : "not recorded",
					 mode ? "\"" : "");
		if (ppcie && strcmp(ppcie, "any")) {
			/* the GPU's own signed FEATURE_FLAG when verified, else the attester's record */
			const json_t *pm = c->gpu_claims && c->gpu_claims[i]
						   ? json_object_get(c->gpu_claims[i], "x-cctrust-ppcie-mode")
						   : NULL;
			int on;

			if (!pm)
				pm = json_object_get(c->nvidia, "ppcie_mode");
			on = json_is_true(pm);

			if (!json_is_boolean(pm) || on != !strcmp(ppcie, "required"))
				cct_policy__fail(gpu_f[i], "gpu.ppcie", "configuration",
						 json_string(ppcie), copy(pm),
						 "protected-PCIe mode does not match the policy");
		}
		arch = device_field(c, i, "arch");
		if (!arch)
			arch = json_string_value(json_object_get(dev, "arch"));
		if ((v = json_object_get(sec, "architectures")) && !str_in(v, arch))
			cct_policy__fail(gpu_f[i], "gpu.architectures", "hardware", copy(v),
					 arch ? json_string(arch) : json_null(),
					 "%s architecture not allowed", rule_n);
		if (!c->gpu_claims || !c->gpu_claims[i])
			continue; /* not verified: the module's failure already rejects */
		{
			const json_t *g = c->gpu_claims[i];
			const char *ueid = json_string_value(json_object_get(g, "ueid"));
			size_t j;

			/* one GPU presented twice proves nothing about a second GPU */
			for (j = 0; ueid && j < i; j++) {
				const char *other = c->gpu_claims[j]
					? json_string_value(json_object_get(c->gpu_claims[j], "ueid"))
					: NULL;

				if (other && !strcmp(ueid, other))
					cct_policy__fail(gpu_f[i], "gpu.unique_devices", "hardware",
							 json_string("distinct UEIDs"), json_string(ueid),
							 "%s is the same device as gpu%zu (UEID %s): one GPU "
							 "presented twice", rule_n, j, ueid);
			}
			const char *dv = json_string_value(json_object_get(g, "x-nvidia-gpu-driver-version"));
			const char *vb = json_string_value(json_object_get(g, "x-nvidia-gpu-vbios-version"));

			if ((v = json_object_get(sec, "min_driver_version")) &&
			    (!dv || version_cmp(dv, json_string_value(v), 10) < 0))
				cct_policy__fail(gpu_f[i], "gpu.min_driver_version", "executables", copy(v),
						 dv ? json_string(dv) : json_null(),
						 "%s driver version below the minimum", rule_n);
			if ((v = json_object_get(sec, "min_vbios_version")) &&
			    (!vb || version_cmp(vb, json_string_value(v), 16) < 0))
				cct_policy__fail(gpu_f[i], "gpu.min_vbios_version", "executables", copy(v),
						 vb ? json_string(vb) : json_null(),
						 "%s VBIOS version below the minimum", rule_n);
			if ((v = json_object_get(sec, "rim_ids"))) {
				const char *k[2] = { "x-nvidia-gpu-driver-rim-id", "x-nvidia-gpu-vbios-rim-id" };
				int j;

				for (j = 0; j < 2; j++) {
					const char *id = json_string_value(json_object_get(g, k[j]));

					if (!str_in(v, id))
						cct_policy__fail(gpu_f[i], "gpu.rim_ids", "executables", copy(v),
								 id ? json_string(id) : json_null(),
								 "%s %s not allowed", rule_n, k[j]);
				}
			}
			if (get_bool(sec, "require_measres", 1)) {
				const char *mr = json_string_value(json_object_get(g, "measres"));

				if (!mr || strcmp(mr, "success"))
					cct_policy__fail(gpu_f[i], "gpu.require_measres", "executables",
							 json_string("success"), copy(json_object_get(g, "measres")),
							 "%s measurements do not match the RIMs", rule_n);
			}
			if ((v = json_object_get(sec, "authorization_rules")))
				cct_policy__nv_rules(v, g, (int)i, gpu_f[i]);
		}
	}
	json_decref(def_modes);
}

void cct_policy__nv_rules(const json_t *rules, const json_t *g, int index, json_t *failures)
{
	const json_t *ar = json_object_get(rules, "authorization-rules"), *dc, *v;
	const char *k;
	char rule[160];

	if (!ar)
		ar = rules;
	dc = json_object_get(ar, "detached-claims");
	json_object_foreach((json_t *)dc, k, v) {
		const json_t *have = json_object_get(g, k);

		if (!have || !json_equal((json_t *)have, (json_t *)v)) {
			snprintf(rule, sizeof(rule), "gpu.authorization_rules.%.120s", k);
			cct_policy__fail(failures, rule, "executables", copy(v), copy(have),
					 "gpu%d claim %s differs from the nvtrust authorization rule",
					 index, k);
		}
	}
}

static void eval_model(const json_t *sec, const cct_policy_claims *c, json_t *f)
{
	const json_t *specs = json_object_get(sec, "specs"), *data, *have = NULL;
	const char *key = json_string_value(json_object_get(sec, "init_data_key"));

	if (!specs)
		return;
	if (!key)
		key = "model";
	if (!c->init_present) {
		cct_policy__fail(f, "model.specs", "file-system", copy(specs), json_null(),
				 "no init-data in the request: the model's dm-verity root is not attested");
		return;
	}
	data = json_object_get(c->init_claims, "data");
	have = json_object_get(data ? data : c->init_claims, key);
	if (!have)
		have = json_object_get(c->init_claims, key);
	if (!c->binding_checked)
		cct_policy__fail(f, "model.init_data_bound", "file-system", json_true(), json_false(),
				 "init-data is not bound (binding skipped): its model spec cannot be "
				 "trusted");
	else if (!str_in(specs, json_string_value(have)))
		cct_policy__fail(f, "model.specs", "file-system", copy(specs), copy(have),
				 "init-data \"%s\" is not one of the expected model specs "
				 "(name@revision:verity-root)",
				 key);
}

static void eval_init_data(const json_t *sec, const cct_policy_claims *c, json_t *f)
{
	const json_t *digests = json_object_get(sec, "digests");
	char hex[129];

	if (get_bool(sec, "required", 0) && !c->init_present)
		cct_policy__fail(f, "init_data.required", "configuration", json_true(), json_false(),
				 "the request carries no init-data");
	if (digests) {
		if (!c->init_present) {
			cct_policy__fail(f, "init_data.digests", "configuration", copy(digests), json_null(),
					 "the request carries no init-data");
			return;
		}
		cct_hex_encode(hex, c->init_digest, c->init_digest_len);
		if (!str_in(digests, hex))
			cct_policy__fail(f, "init_data.digests", "configuration", copy(digests),
					 json_string(hex), "init-data digest is not an approved one");
	}
}

/* vtpm.pcrs: every listed PCR is quoted (claims.pcrs, from the verified quote) with one of the
 * allowed values. */
static void eval_vtpm(const json_t *sec, const json_t *c, json_t *f)
{
	const json_t *want = json_object_get(sec, "pcrs"), *have = json_object_get(c, "pcrs");
	const char *bank, *ik;
	json_t *bv, *vals;

	json_object_foreach((json_t *)want, bank, bv) {
		json_object_foreach(bv, ik, vals) {
			const json_t *hv = json_object_get(json_object_get(have, bank), ik);
			char rule[48];

			snprintf(rule, sizeof(rule), "vtpm.pcrs.%s.%s", bank, ik);
			if (!str_in(vals, json_string_value(hv)))
				cct_policy__fail(f, rule, "executables", copy(vals), copy(hv),
						 "%s PCR%s %s", bank, ik,
						 hv ? "is not one of the allowed values"
						    : "is not covered by the verified quote");
		}
	}
}

void cct_policy_evaluate(const cct_policy *pol, const cct_policy_claims *c, json_t *cpu_f, json_t **gpu_f)
{
	const json_t *doc = pol->doc, *tees = json_object_get(doc, "tee");
	const json_t *devices = c->gpu_devices;

	if (!c->tee) {
		/* GPU evidence judged alone (gpu verify --policy): no CPU, platform or model claims */
		eval_gpu(json_object_get(doc, "gpu"), c, devices, cpu_f, gpu_f);
		return;
	}
	if (tees && !str_in(tees, c->tee))
		cct_policy__fail(cpu_f, "tee", "hardware", copy(tees), json_string(c->tee),
				 "CPU TEE \"%s\" is not allowed by the policy", c->tee);
	if (!strcmp(c->tee, "snp"))
		eval_snp(json_object_get(doc, "snp"), c->cpu_claims, cpu_f);
	else if (!strcmp(c->tee, "tdx"))
		eval_tdx(json_object_get(doc, "tdx"), c->cpu_claims, cpu_f);
	else if (!strcmp(c->tee, "az-snp-vtpm")) {
		/* the snp section judges the paravisor's hardware report */
		eval_snp(json_object_get(doc, "snp"), json_object_get(c->cpu_claims, "snp"), cpu_f);
		eval_vtpm(json_object_get(doc, "vtpm"), c->cpu_claims, cpu_f);
	}
	eval_gpu(json_object_get(doc, "gpu"), c, devices, cpu_f, gpu_f);
	eval_model(json_object_get(doc, "model"), c, cpu_f);
	eval_init_data(json_object_get(doc, "init_data"), c, cpu_f);
}
