/* The cctrust policy language (docs/policy.md): schema, validation and loading. Validation
 * collects every error with its JSON path (`cctrust policy check`); loading refuses the document
 * on the first one. Unknown keys are refused: a typo must never weaken a policy. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cctrust/core.h"
#include "policy/internal.h"

/* ---- schema ---- */

typedef enum {
	T_STR,     /* string */
	T_INT,     /* non-negative integer */
	T_BOOL,
	T_HEX,     /* hex string of hex_len bytes */
	T_HEXARR,  /* array of such hex strings */
	T_HEX1N,   /* one hex string or an array of them */
	T_STRARR,  /* array of strings */
	T_TCB,     /* {bootloader,tee,snp,microcode,fmc?} 0..255 */
	T_OBJ,     /* object (top-level sections are validated key by key) */
	T_ANY,
	T_DATE,    /* RFC 3339 time */
	T_MASKVAL, /* {"mask": N, "value": N} */
	T_MAJMIN,  /* "MAJOR.MINOR" */
	T_VERSION, /* dotted numbers, "1.55" or "96.00.9F.00.01": base in hex_len (10 or 16) */
	T_PCRS,    /* {"sha256": {"7": ["HEX", ...]}}: bank -> PCR index -> allowed values */
	T_CMDLINE, /* "exact command line" or {"prefix": "..."} */
	T_NVRULES, /* an nvtrust policy or its "authorization-rules" object */
} ktype;

typedef struct key_spec {
	const char *section; /* "" = top level */
	const char *key;
	ktype type;
	int hex_len;                 /* bytes, for T_HEX / T_HEXARR / T_HEX1N; the largest value
				      * for T_INT and the longest T_STR (0: any); the base for
				      * T_VERSION */
	const char *const *allowed;  /* T_STR / T_STRARR: the only values accepted, or NULL */
} key_spec;

static const char *const tees[] = { "snp", "tdx", "az-snp-vtpm", "az-tdx-vtpm", NULL };
static const char *const modes[] = { "on", "devtools", "off", NULL };
static const char *const prods[] = { "Milan", "Genoa", "Turin", NULL };
static const char *const keys[] = { "vcek", "vlek", NULL };
static const char *const ppcie[] = { "any", "required", "forbidden", NULL };
static const char *const cc_sources[] = { "evidence", "attester", NULL };
/* the architectures the GPU verifier knows (compared without case, as the evaluator does) */
static const char *const archs[] = { "HOPPER", "BLACKWELL", "LS10", NULL };
/* Intel's TCB statuses, as the TDX verifier names them (src/tdx/tcb.c) */
static const char *const tcb_statuses[] = { "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
					    "ConfigurationAndSWHardeningNeeded", "OutOfDate",
					    "OutOfDateConfigurationNeeded", "Revoked", NULL };

static const key_spec schema[] = {
	{ "", "version", T_STR, 0, NULL },
	{ "", "id", T_STR, 63, NULL }, /* the longest id cct_policy keeps (internal.h) */
	{ "", "comment", T_ANY, 0, NULL },
	{ "", "tee", T_STRARR, 0, tees },
	{ "", "snp", T_OBJ, 0, NULL },
	{ "", "tdx", T_OBJ, 0, NULL },
	{ "", "vtpm", T_OBJ, 0, NULL },
	{ "vtpm", "pcrs", T_PCRS, 0, NULL },
	{ "vtpm", "secure_boot", T_BOOL, 0, NULL },
	{ "vtpm", "kernel_cmdline", T_CMDLINE, 0, NULL },
	{ "vtpm", "boot_applications", T_HEXARR, 32, NULL },
	{ "", "gpu", T_OBJ, 0, NULL },
	{ "", "model", T_OBJ, 0, NULL },
	{ "", "init_data", T_OBJ, 0, NULL },
	{ "snp", "measurements", T_HEXARR, 48, NULL },
	{ "snp", "host_data", T_HEX, 32, NULL },
	{ "snp", "report_data", T_HEX, 64, NULL },
	{ "snp", "min_reported_tcb", T_TCB, 0, NULL },
	{ "snp", "min_committed_tcb", T_TCB, 0, NULL },
	{ "snp", "min_launch_tcb", T_TCB, 0, NULL },
	{ "snp", "min_current_tcb", T_TCB, 0, NULL },
	{ "snp", "min_guest_svn", T_INT, 0, NULL },
	{ "snp", "max_vmpl", T_INT, 3, NULL },
	{ "snp", "allow_debug", T_BOOL, 0, NULL },
	{ "snp", "allow_migrate_ma", T_BOOL, 0, NULL },
	{ "snp", "allow_smt", T_BOOL, 0, NULL },
	{ "snp", "require_single_socket", T_BOOL, 0, NULL },
	{ "snp", "chip_ids", T_HEXARR, 64, NULL },
	{ "snp", "family_id", T_HEX, 16, NULL },
	{ "snp", "image_id", T_HEX, 16, NULL },
	{ "snp", "id_key_digests", T_HEXARR, 48, NULL },
	{ "snp", "author_key_digests", T_HEXARR, 48, NULL },
	{ "snp", "require_id_block", T_BOOL, 0, NULL },
	{ "snp", "require_author_key", T_BOOL, 0, NULL },
	{ "snp", "min_version", T_VERSION, 10, NULL },
	{ "snp", "min_abi", T_MAJMIN, 0, NULL },
	{ "snp", "platform_info", T_MASKVAL, 0, NULL },
	{ "snp", "products", T_STRARR, 0, prods },
	{ "snp", "signing_keys", T_STRARR, 0, keys },
	{ "tdx", "secure_boot", T_BOOL, 0, NULL },
	{ "tdx", "kernel_cmdline", T_CMDLINE, 0, NULL },
	{ "tdx", "boot_applications", T_HEXARR, 48, NULL },
	{ "tdx", "mrtd", T_HEXARR, 48, NULL },
	{ "tdx", "rtmr0", T_HEXARR, 48, NULL },
	{ "tdx", "rtmr1", T_HEXARR, 48, NULL },
	{ "tdx", "rtmr2", T_HEXARR, 48, NULL },
	{ "tdx", "rtmr3", T_HEXARR, 48, NULL },
	{ "tdx", "mrseam", T_HEXARR, 48, NULL },
	{ "tdx", "mrowner", T_HEX1N, 48, NULL },
	{ "tdx", "mrownerconfig", T_HEX1N, 48, NULL },
	{ "tdx", "mrconfigid", T_HEX1N, 48, NULL },
	{ "tdx", "xfam", T_HEXARR, 8, NULL },
	{ "tdx", "report_data", T_HEX, 64, NULL },
	{ "tdx", "accepted_tcb_status", T_STRARR, 0, tcb_statuses },
	{ "tdx", "deny_advisories", T_STRARR, 0, NULL },
	{ "tdx", "min_tcb_date", T_DATE, 0, NULL },
	{ "tdx", "allow_debug", T_BOOL, 0, NULL },
	{ "gpu", "required", T_BOOL, 0, NULL },
	{ "gpu", "count", T_INT, 0, NULL },
	{ "gpu", "min_count", T_INT, 0, NULL },
	{ "gpu", "architectures", T_STRARR, 0, archs },
	{ "gpu", "cc_mode", T_STRARR, 0, modes },
	{ "gpu", "cc_mode_source", T_STR, 0, cc_sources },
	{ "gpu", "ppcie", T_STR, 0, ppcie },
	{ "gpu", "min_driver_version", T_VERSION, 10, NULL },
	{ "gpu", "min_vbios_version", T_VERSION, 16, NULL },
	{ "gpu", "rim_ids", T_STRARR, 0, NULL },
	{ "gpu", "require_measres", T_BOOL, 0, NULL },
	{ "gpu", "authorization_rules", T_NVRULES, 0, NULL },
	{ "model", "specs", T_STRARR, 0, NULL },
	{ "model", "init_data_key", T_STR, 0, NULL },
	{ "init_data", "required", T_BOOL, 0, NULL },
	{ "init_data", "digests", T_HEXARR, 0, NULL },
};

/* ---- validation: every error, with its JSON path ---- */

typedef struct vctx {
	json_t *errors; /* array of {"path","message"}, or NULL */
	cct_err *err;   /* first error */
	int count;
} vctx;

static void verr(vctx *v, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

static void verr(vctx *v, const char *path, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->count++ == 0)
		cct_err_set(v->err, CCT_EINVAL, CCT_STAGE_POLICY, 0, "policy %s: %s", path, msg);
	if (v->errors)
		json_array_append_new(v->errors, json_pack("{s:s,s:s}", "path", path, "message", msg));
}

int cct_policy__is_hex_of(const char *s, int bytes)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n % 2 || (bytes && n != (size_t)bytes * 2))
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int allowed(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; s && list[i]; i++)
		if (list == archs ? !strcasecmp(list[i], s) : !strcmp(list[i], s))
			return 1;
	return 0;
}

/* "N(.N)*", each N 1..8 digits of base (10 or 16) */
static int is_version(const char *s, int base)
{
	size_t digits = 0;

	for (;; s++) {
		if (*s && (base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s))) {
			if (++digits > 8)
				return 0;
		} else if ((*s == '.' || !*s) && digits) {
			if (!*s)
				return 1;
			digits = 0;
		} else {
			return 0;
		}
	}
}

/* key is one of list (NULL-terminated) */
static int one_of_keys(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return 1;
	return 0;
}

/* gpu.authorization_rules: {"version"?, "authorization-rules": RULES} or RULES itself, RULES =
 * {"type"?, "overall-claims"?: {..}, "detached-claims"?: {..}}. The evaluator reads only those
 * members: any other (a typo such as "detachedclaims", claims written without
 * "detached-claims") would be a rule nothing enforces, so it is refused like an unknown key. */
static void check_nv_rules(vctx *vc, const json_t *v, const char *path)
{
	static const char *const outer[] = { "version", "authorization-rules", "policy-name", "name",
					     "comment", NULL };
	static const char *const inner[] = { "type", "overall-claims", "detached-claims", NULL };
	const json_t *rules = v, *x;
	const char *k;
	char sub[256], rpath[128];

	if (!json_is_object(v)) {
		verr(vc, path, "expected an nvtrust policy object");
		return;
	}
	snprintf(rpath, sizeof(rpath), "%s", path);
	if (json_object_get(v, "authorization-rules")) {
		json_object_foreach((json_t *)v, k, x) {
			snprintf(sub, sizeof(sub), "%s.%.60s", path, k);
			if (!one_of_keys(outer, k))
				verr(vc, sub, "unknown key of an nvtrust policy (version, "
					      "authorization-rules)");
		}
		rules = json_object_get(v, "authorization-rules");
		snprintf(rpath, sizeof(rpath), "%s.authorization-rules", path);
		if (!json_is_object(rules)) {
			verr(vc, rpath, "expected an object");
			return;
		}
	}
	json_object_foreach((json_t *)rules, k, x) {
		snprintf(sub, sizeof(sub), "%s.%.60s", rpath, k);
		if (!one_of_keys(inner, k))
			verr(vc, sub, "unknown key of nvtrust authorization rules (type, "
				      "overall-claims, detached-claims): a rule nothing would enforce");
		else if (strcmp(k, "type") ? !json_is_object(x) : !json_is_string(x))
			verr(vc, sub, "expected %s", strcmp(k, "type") ? "an object of claims"
								 : "a string");
	}
}

static void check_value(vctx *vc, const key_spec *ks, const json_t *v, const char path[80])
{
	const json_t *x;
	size_t i;
	const char *k;
	char sub[200];

	switch (ks->type) {
	case T_STR:
		if (!json_is_string(v))
			verr(vc, path, "expected a string");
		else if (ks->hex_len && json_string_length(v) > (size_t)ks->hex_len)
			/* it would be cut short in results and tokens: another policy's id */
			verr(vc, path, "at most %d bytes (got %zu)", ks->hex_len,
			     json_string_length(v));
		else if (ks->allowed && !allowed(ks->allowed, json_string_value(v)))
			verr(vc, path, "value \"%.40s\" not allowed (see docs/policy.md)",
			     json_string_value(v));
		return;
	case T_INT:
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			verr(vc, path, "expected a non-negative integer");
		else if (ks->hex_len && json_integer_value(v) > ks->hex_len)
			verr(vc, path, "expected 0..%d, got %lld", ks->hex_len,
			     (long long)json_integer_value(v));
		return;
	case T_VERSION:
		/* the evaluator compares number by number: anything else would compare as 0 there
		 * and quietly lower the minimum */
		if (!json_is_string(v) || !is_version(json_string_value(v), ks->hex_len))
			verr(vc, path, "expected a version of dotted %s numbers (e.g. \"%s\")",
			     ks->hex_len == 16 ? "hexadecimal" : "decimal",
			     ks->hex_len == 16 ? "96.00.9F.00.01" : "1.55");
		return;
	case T_BOOL:
		if (!json_is_boolean(v))
			verr(vc, path, "expected true/false");
		return;
	case T_HEX:
		if (!json_is_string(v) || !cct_policy__is_hex_of(json_string_value(v), ks->hex_len))
			verr(vc, path, "expected hex of the field's size (%d bytes)", ks->hex_len);
		return;
	case T_HEX1N:
		if (json_is_string(v)) {
			if (!cct_policy__is_hex_of(json_string_value(v), ks->hex_len))
				verr(vc, path, "expected hex of the field's size (%d bytes)",
				     ks->hex_len);
			return;
		}
		/* an array of them */
		/* fall through */
	case T_HEXARR:
	case T_STRARR:
		if (!json_is_array(v)) {
			verr(vc, path, "expected an array");
			return;
		}
		json_array_foreach(v, i, x) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!json_is_string(x))
				verr(vc, sub, "array elements must be strings");
			else if (ks->type != T_STRARR &&
				 !cct_policy__is_hex_of(json_string_value(x), ks->hex_len))
				verr(vc, sub, "array element is not hex of the field's size");
			else if (ks->allowed && !allowed(ks->allowed, json_string_value(x)))
				verr(vc, sub, "value \"%.40s\" not allowed (see docs/policy.md)",
				     json_string_value(x));
		}
		return;
	case T_TCB:
		if (!json_is_object(v)) {
			verr(vc, path, "expected {bootloader,tee,snp,microcode,fmc?}");
			return;
		}
		json_object_foreach((json_t *)v, k, x) {
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			if (strcmp(k, "bootloader") && strcmp(k, "tee") && strcmp(k, "snp") &&
			    strcmp(k, "microcode") && strcmp(k, "fmc"))
				verr(vc, sub, "unknown TCB component");
			else if (!json_is_integer(x) || json_integer_value(x) < 0 ||
				 json_integer_value(x) > 255)
				verr(vc, sub, "TCB components are 0..255");
		}
		return;
	case T_OBJ:
		if (!json_is_object(v))
			verr(vc, path, "expected an object");
		return;
	case T_ANY:
		return;
	case T_NVRULES:
		check_nv_rules(vc, v, path);
		return;
	case T_CMDLINE:
		if (!json_is_string(v) &&
		    !(json_is_object(v) && json_object_size(v) == 1 &&
		      json_is_string(json_object_get(v, "prefix"))))
			verr(vc, path, "expected a string (exact) or {\"prefix\": \"...\"}");
		return;
	case T_PCRS: {
		const char *ik;
		json_t *bank, *vals;

		if (!json_is_object(v)) {
			verr(vc, path, "expected {\"sha256\": {\"0\": [\"HEX\", ...]}}");
			return;
		}
		json_object_foreach((json_t *)v, k, bank) {
			int bytes = !strcmp(k, "sha1") ? 20 : !strcmp(k, "sha256") ? 32
				  : !strcmp(k, "sha384") ? 48 : !strcmp(k, "sha512") ? 64 : 0;

			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			if (!bytes || !json_is_object(bank)) {
				verr(vc, sub, "banks are sha1, sha256, sha384, sha512 objects");
				continue;
			}
			json_object_foreach(bank, ik, vals) {
				char *end;
				unsigned long idx = strtoul(ik, &end, 10);

				snprintf(sub, sizeof(sub), "%s.%s.%s", path, k, ik);
				if (!*ik || *end || idx > 23) {
					verr(vc, sub, "PCR indices are \"0\"..\"23\"");
					continue;
				}
				if (!json_is_array(vals) || !json_array_size(vals)) {
					verr(vc, sub, "each PCR takes a non-empty array of values");
					continue;
				}
				json_array_foreach(vals, i, x)
					if (!json_is_string(x) ||
					    !cct_policy__is_hex_of(json_string_value(x), bytes))
						verr(vc, sub, "a PCR value is not hex of its bank's size");
			}
		}
		return;
	}
	case T_DATE: {
		time_t t;

		if (!json_is_string(v) || cct_time_parse(&t, json_string_value(v), NULL) != CCT_OK)
			verr(vc, path, "expected an RFC 3339 time (e.g. 2024-05-01T00:00:00Z)");
		return;
	}
	case T_MASKVAL:
		if (!json_is_object(v) || json_object_size(v) != 2 ||
		    !json_is_integer(json_object_get(v, "mask")) ||
		    !json_is_integer(json_object_get(v, "value")))
			verr(vc, path, "expected {\"mask\": N, \"value\": N}");
		return;
	case T_MAJMIN: {
		unsigned a, b;
		char tail;

		if (!json_is_string(v) ||
		    sscanf(json_string_value(v), "%u.%u%c", &a, &b, &tail) != 2 || a > 255 || b > 255)
			verr(vc, path, "expected \"MAJOR.MINOR\"");
		return;
	}
	}
}

static void validate_section(vctx *vc, const json_t *obj, const char *section)
{
	const char *k;
	json_t *v;
	size_t i;
	char path[80];

	json_object_foreach((json_t *)obj, k, v) {
		const key_spec *ks = NULL;

		snprintf(path, sizeof(path), "%.20s%s%.50s", section, section[0] ? "." : "", k);
		for (i = 0; i < sizeof(schema) / sizeof(schema[0]); i++)
			if (!strcmp(schema[i].section, section) && !strcmp(schema[i].key, k))
				ks = &schema[i];
		if (!ks) {
			verr(vc, path, "unknown key (a typo must not weaken a policy; see "
				       "docs/policy.md)");
			continue;
		}
		check_value(vc, ks, v, path);
		if (ks->type == T_OBJ && !section[0] && json_is_object(v))
			validate_section(vc, v, k);
	}
}

static void validate_doc(vctx *vc, const json_t *doc)
{
	const char *ver;
	const json_t *specs, *x;
	size_t i;

	if (!json_is_object(doc)) {
		verr(vc, "$", "policy must be a JSON object");
		return;
	}
	if (cct_policy__json_depth(doc) > CCT_POLICY_MAX_DEPTH) {
		verr(vc, "$", "policy nests too deep");
		return;
	}
	ver = json_string_value(json_object_get(doc, "version"));
	if (!ver || strcmp(ver, CCT_POLICY_VERSION)) {
		if (vc->count++ == 0)
			cct_err_set(vc->err, CCT_EUNSUPPORTED, CCT_STAGE_POLICY, 0,
				    "policy \"version\" must be \"%s\" (got %s%.40s%s)",
				    CCT_POLICY_VERSION, ver ? "\"" : "", ver ? ver : "none",
				    ver ? "\"" : "");
		if (vc->errors)
			json_array_append_new(vc->errors,
					      json_pack("{s:s,s:s}", "path", "version", "message",
							"must be \"" CCT_POLICY_VERSION "\""));
	}
	validate_section(vc, doc, "");
	specs = json_object_get(json_object_get(doc, "model"), "specs");
	json_array_foreach(specs, i, x) {
		const char *s = json_string_value(x), *at, *colon;
		char path[64];

		if (!s)
			continue; /* already reported */
		at = strchr(s, '@');
		colon = at ? strchr(at, ':') : NULL;
		if (!at || at == s || !colon || colon == at + 1 || !cct_policy__is_hex_of(colon + 1, 0)) {
			snprintf(path, sizeof(path), "model.specs[%zu]", i);
			verr(vc, path, "expected \"name@revision:verity-root-hex\"");
		}
	}
}

int cct_policy_check(const char *text, size_t len, json_t **errors, cct_err *err)
{
	json_error_t je;
	json_t *doc;
	vctx vc;

	if (errors)
		*errors = json_array();
	memset(&vc, 0, sizeof(vc));
	vc.errors = errors ? *errors : NULL;
	vc.err = err;
	if (len > CCT_POLICY_MAX_POLICY) {
		verr(&vc, "$", "policy larger than the cap");
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0,
				   "policy larger than %u bytes", CCT_POLICY_MAX_POLICY);
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		char path[64];

		snprintf(path, sizeof(path), "$ (line %d, column %d)", je.line, je.column);
		verr(&vc, path, "not valid JSON: %s", je.text);
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_POLICY, 0,
				   "policy is not valid JSON: %s (line %d)", je.text, je.line);
	}
	validate_doc(&vc, doc);
	json_decref(doc);
	return vc.count ? (err && err->code ? err->code : CCT_EINVAL) : CCT_OK;
}

int cct_policy_check_doc(const json_t *doc, cct_err *err)
{
	vctx vc;

	memset(&vc, 0, sizeof(vc));
	vc.err = err;
	validate_doc(&vc, doc);
	return vc.count ? (err && err->code ? err->code : CCT_EINVAL) : CCT_OK;
}

int cct_policy_load_doc(cct_policy **out, const json_t *doc, cct_err *err)
{
	cct_policy *p;
	const char *id;
	vctx vc;

	*out = NULL;
	memset(&vc, 0, sizeof(vc));
	vc.err = err;
	validate_doc(&vc, doc);
	if (vc.count)
		return err && err->code ? err->code : CCT_EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	p->doc = json_deep_copy(doc);
	if (!p->doc) {
		free(p);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	id = json_string_value(json_object_get(doc, "id"));
	snprintf(p->id, sizeof(p->id), "%s", id ? id : "default");
	*out = p;
	return CCT_OK;
}

int cct_policy_load(cct_policy **out, const char *text, size_t len, cct_err *err)
{
	json_error_t je;
	json_t *doc;
	int rc;

	*out = NULL;
	if (len > CCT_POLICY_MAX_POLICY)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0, "policy larger than %u bytes",
				   CCT_POLICY_MAX_POLICY);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_POLICY, 0,
				   "policy is not valid JSON: %s (line %d)", je.text, je.line);
	rc = cct_policy_load_doc(out, doc, err);
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

const json_t *cct_policy_document(const cct_policy *pol)
{
	return pol ? pol->doc : NULL;
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
