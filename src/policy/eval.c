/* The cctrust policy language (docs/policy.md): evaluation over verified claims. Evaluation is
 * pure (no I/O) and never stops at the first failure: every failing rule is named with its
 * expected and actual values. Loading and validation: load.c; legacy formats: convert.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cctrust/core.h"
#include "policy/internal.h"

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

/* rule: a hex claim equal to the policy's one value, or one of its list of values */
static void equal_or_one_of(json_t *fails, const json_t *sec, const char *sec_name, const char *key,
			    const json_t *claims, const char *claim, const char *cat)
{
	if (json_is_array(json_object_get(sec, key)))
		one_of(fails, sec, sec_name, key, claims, claim, cat);
	else
		equal_hex(fails, sec, sec_name, key, claims, claim, cat);
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
	equal_hex(f, sec, "snp", "report_data", c, "report_data", "configuration");
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
	if ((v = json_object_get(sec, "min_abi"))) {
		/* the guest policy's ABI minimum (bits 15:8 major, 7:0 minor) */
		json_int_t gp = json_integer_value(json_object_get(c, "policy"));
		unsigned maj = 0, min = 0, have_maj = (unsigned)(gp >> 8 & 0xff),
			 have_min = (unsigned)(gp & 0xff);

		if (sscanf(json_string_value(v), "%u.%u", &maj, &min) == 2 &&
		    (have_maj < maj || (have_maj == maj && have_min < min)))
			cct_policy__fail(f, "snp.min_abi", "configuration", copy(v),
					 json_sprintf("%u.%u", have_maj, have_min),
					 "guest policy ABI minimum is below the policy's");
	}
	if ((v = json_object_get(sec, "platform_info"))) {
		json_int_t mask = json_integer_value(json_object_get(v, "mask")),
			   val = json_integer_value(json_object_get(v, "value")),
			   have = json_integer_value(json_object_get(c, "platform_info"));

		if ((have & mask) != val)
			cct_policy__fail(f, "snp.platform_info", "configuration", copy(v),
					 copy(json_object_get(c, "platform_info")),
					 "PLATFORM_INFO does not match the policy's mask/value");
	}
	if ((v = json_object_get(sec, "products")) &&
	    !str_in(v, json_string_value(json_object_get(c, "product"))))
		cct_policy__fail(f, "snp.products", "hardware", copy(v), copy(json_object_get(c, "product")),
				 "processor product not allowed");
	if ((v = json_object_get(sec, "signing_keys")) &&
	    !str_in(v, json_string_value(json_object_get(c, "signing_key"))))
		cct_policy__fail(f, "snp.signing_keys", "hardware", copy(v),
				 copy(json_object_get(c, "signing_key")), "report signing key type not allowed");
}

static void eval_eventlog(const json_t *sec, const json_t *c, json_t *f, const char *sn,
			  const char *bank);

static void eval_tdx(const json_t *sec, const json_t *c, json_t *f)
{
	static const char *const rtmrs[] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
	const json_t *acc = json_object_get(sec, "accepted_tcb_status");
	const char *st = json_string_value(json_object_get(c, "tcb_status"));
	const json_t *v;
	size_t i;

	one_of(f, sec, "tdx", "mrtd", c, "mrtd", "executables");
	for (i = 0; i < 4; i++)
		one_of(f, sec, "tdx", rtmrs[i], c, rtmrs[i], "executables");
	one_of(f, sec, "tdx", "mrseam", c, "mrseam", "hardware");
	equal_or_one_of(f, sec, "tdx", "mrowner", c, "mrowner", "configuration");
	equal_or_one_of(f, sec, "tdx", "mrownerconfig", c, "mrownerconfig", "configuration");
	equal_or_one_of(f, sec, "tdx", "mrconfigid", c, "mrconfigid", "configuration");
	one_of(f, sec, "tdx", "xfam", c, "xfam", "configuration");
	equal_hex(f, sec, "tdx", "report_data", c, "report_data", "configuration");
	if ((v = json_object_get(sec, "deny_advisories"))) {
		const json_t *adv = json_object_get(c, "advisory_ids"), *x;

		json_array_foreach(adv, i, x)
			if (str_in(v, json_string_value(x))) {
				cct_policy__fail(f, "tdx.deny_advisories", "hardware", copy(v), copy(adv),
						 "platform is affected by denied advisory %s",
						 json_string_value(x));
				break;
			}
	}
	if ((v = json_object_get(sec, "min_tcb_date"))) {
		time_t want = 0, have = 0;
		const char *d = json_string_value(json_object_get(c, "tcb_date"));

		cct_time_parse(&want, json_string_value(v), NULL);
		if (!d || cct_time_parse(&have, d, NULL) != CCT_OK || have < want)
			cct_policy__fail(f, "tdx.min_tcb_date", "hardware", copy(v),
					 copy(json_object_get(c, "tcb_date")),
					 "platform TCB date is older than the policy's minimum");
	}
	if (acc ? !str_in(acc, st) : (!st || strcmp(st, "UpToDate")))
		cct_policy__fail(f, "tdx.accepted_tcb_status", "hardware",
				 acc ? copy(acc) : json_pack("[s]", "UpToDate"),
				 copy(json_object_get(c, "tcb_status")), "platform TCB status not accepted");
	if (json_is_true(json_object_get(c, "debug")) && !get_bool(sec, "allow_debug", 0))
		cct_policy__fail(f, "tdx.allow_debug", "configuration", json_false(), json_true(),
				 "TD is debuggable (TD_ATTRIBUTES.DEBUG)");
	eval_eventlog(sec, c, f, "tdx", "sha384");
}

static const char *device_field(const cct_policy_claims *c, size_t i, const char *key)
{
	if (c->gpu_claims && c->gpu_claims[i])
		return json_string_value(json_object_get(c->gpu_claims[i], key));
	return NULL;
}

/* gpu.cc_mode. The signed SPDM report is the primary source: a GPU returns a signed
 * GET_MEASUREMENTS report with NVIDIA's opaque data only with confidential computing enabled,
 * so a verified report shows CC "on" (x-cctrust-cc-mode, set by src/nvgpu). The opaque data
 * does not distinguish "on" from "devtools" (NVIDIA's parsers read only FEATURE_FLAG
 * SPT/MPT/PPCIE from it), so the attester's NVML statement, when present, is an additional
 * claim: it must agree with the evidence ("off" contradicts a signed CC report), and being the
 * more specific one ("devtools") it is what the allowed modes are checked against.
 * cc_mode_source "attester" additionally requires the statement (devtools then cannot hide
 * behind a guest that sends none). */
static void eval_cc_mode(const json_t *sec, const json_t *modes, const json_t *stated,
			 const json_t *verified, const char *rule_n, json_t *f)
{
	const char *src = json_string_value(json_object_get(sec, "cc_mode_source"));
	const json_t *ev = verified ? json_object_get(verified, "x-cctrust-cc-mode") : NULL;
	const char *st = json_string_value(stated), *evm = json_string_value(ev);

	if (stated && !json_is_null(stated) && !st) {
		/* a statement that is there but not a mode is not "no statement": it would leave
		 * the decision to the signed report, which cannot tell devtools from on */
		cct_policy__fail(f, "gpu.cc_mode", "configuration", copy(modes), copy(stated),
				 "%s confidential-computing mode recorded by the attester is not a "
				 "string (on, devtools or off)", rule_n);
		return;
	}
	if (src && !strcmp(src, "attester") && !st) {
		cct_policy__fail(f, "gpu.cc_mode", "configuration", copy(modes), json_null(),
				 "%s confidential-computing mode is not recorded by the attester "
				 "(policy gpu.cc_mode_source \"attester\" requires its NVML "
				 "statement)", rule_n);
		return;
	}
	if (st && evm && !strcmp(st, "off")) {
		cct_policy__fail(f, "gpu.cc_mode", "configuration", copy(modes), copy(stated),
				 "%s confidential-computing mode is \"off\" as recorded by the "
				 "attester, contradicting the GPU's signed report (CC %s)", rule_n,
				 evm);
		return;
	}
	if (st) {
		if (!str_in(modes, st))
			cct_policy__fail(f, "gpu.cc_mode", "configuration", copy(modes), copy(stated),
					 "%s confidential-computing mode is \"%s\" (recorded by the "
					 "attester from NVML, bound via the CPU report)", rule_n, st);
		return;
	}
	if (!str_in(modes, evm))
		cct_policy__fail(f, "gpu.cc_mode", "configuration", copy(modes),
				 ev ? copy(ev) : json_null(),
				 "%s confidential-computing mode is %s%s%s (from the GPU's signed "
				 "report; no attester statement)", rule_n, evm ? "\"" : "",
				 evm ? evm : "not shown by verified evidence", evm ? "\"" : "");
}

static void nv_overall(const json_t *rules, const cct_policy_claims *c, json_t *failures);

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
		const char *arch;
		char rule_n[32];

		if (!cm && c->nvidia)
			cm = json_object_get(c->nvidia, "cc_mode");
		snprintf(rule_n, sizeof(rule_n), "gpu%zu", i);
		eval_cc_mode(sec, modes, cm, c->gpu_claims ? c->gpu_claims[i] : NULL, rule_n,
			     gpu_f[i]);
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
							 mr && !strcmp(mr, "skipped")
								 ? "%s measurements were not compared with "
								   "the RIMs (RIM appraisal skipped)"
								 : "%s measurements do not match the RIMs",
							 rule_n);
			}
			if ((v = json_object_get(sec, "authorization_rules")))
				cct_policy__nv_rules(v, g, (int)i, gpu_f[i]);
		}
	}
	if ((v = json_object_get(sec, "authorization_rules")))
		nv_overall(v, c, cpu_f);
	json_decref(def_modes);
}

/* nvtrust's comparison (docs/gpu.md, as src/nvgpu's own): an object is matched as a subset
 * (every member it names, recursively), anything else must be equal; a missing claim fails */
static int nv_subset(const json_t *want, const json_t *have)
{
	const char *k;
	json_t *w;

	if (json_is_object(want)) {
		if (!json_is_object(have))
			return 0;
		json_object_foreach((json_t *)want, k, w)
			if (!nv_subset(w, json_object_get(have, k)))
				return 0;
		return 1;
	}
	return have && json_equal((json_t *)want, (json_t *)have);
}

/* nvtrust "overall-claims" over the GPUs of the request: x-nvidia-overall-att-result is true
 * when there are GPUs and every one verified; iss and x-nvidia-ver are token metadata (not
 * attestation facts, skipped as src/nvgpu does); any other overall claim is not one cctrust
 * states, so a rule on it fails rather than being passed over. */
static void nv_overall(const json_t *rules, const cct_policy_claims *c, json_t *failures)
{
	const json_t *ar = json_object_get(rules, "authorization-rules"), *oc, *v;
	json_t *overall = json_object();
	const char *k;
	char rule[160];
	size_t i;
	int all = c->gpu_count > 0;

	if (!ar)
		ar = rules;
	oc = json_object_get(ar, "overall-claims");
	for (i = 0; i < c->gpu_count; i++)
		all = all && c->gpu_claims && c->gpu_claims[i];
	json_object_set_new(overall, "x-nvidia-overall-att-result", json_boolean(all));
	json_object_foreach((json_t *)oc, k, v) {
		const json_t *have = json_object_get(overall, k);

		if (!strcmp(k, "iss") || !strcmp(k, "x-nvidia-ver") || nv_subset(v, have))
			continue;
		snprintf(rule, sizeof(rule), "gpu.authorization_rules.overall-claims.%.100s", k);
		cct_policy__fail(failures, rule, "executables", copy(v), copy(have),
				 "overall claim %s %s the nvtrust authorization rule", k,
				 have ? "differs from" : "is not stated by cctrust: it cannot meet");
	}
	json_decref(overall);
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

		if (!nv_subset(v, have)) {
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

/* Event-log rules (vtpm and tdx sections) over claims.eventlog, which a verifier sets only when
 * the log replayed to the quoted PCRs / RTMRs: secure_boot, kernel_cmdline, boot_applications
 * (digests of the given bank). Without a log every rule fails (fail closed). */
static void eval_eventlog(const json_t *sec, const json_t *c, json_t *f, const char *sn,
			  const char *bank)
{
	const json_t *ev = json_object_get(c, "eventlog"), *w;
	const char *cl = json_string_value(json_object_get(ev, "kernel_cmdline"));
	char rule[48];

	if ((w = json_object_get(sec, "secure_boot"))) {
		const json_t *h = json_object_get(ev, "secure_boot");

		snprintf(rule, sizeof(rule), "%s.secure_boot", sn);
		if (!json_is_boolean(h) || json_is_true(h) != json_is_true(w))
			cct_policy__fail(f, rule, "configuration", copy(w), copy(h),
					 "Secure Boot is %s in the verified event log",
					 !ev ? "unknown (no event log)"
					 : !json_is_boolean(h) ? "not recorded"
					 : json_is_true(h) ? "on" : "off");
	}
	if ((w = json_object_get(sec, "kernel_cmdline"))) {
		const char *px = json_string_value(json_object_get(w, "prefix"));
		int ok = cl && (px ? !strncmp(cl, px, strlen(px)) : !strcmp(cl, json_string_value(w)));

		snprintf(rule, sizeof(rule), "%s.kernel_cmdline", sn);
		if (!ok)
			cct_policy__fail(f, rule, "executables", copy(w),
					 copy(json_object_get(ev, "kernel_cmdline")),
					 "the kernel command line %s",
					 !ev ? "is unknown (no event log)"
					 : !cl ? "is not in the verified event log"
					 : px ? "does not start with the required prefix"
					      : "differs from the required one");
	}
	if ((w = json_object_get(sec, "boot_applications"))) {
		const json_t *apps = json_object_get(
			json_object_get(ev, "efi_boot_services_application_digests"), bank);
		const json_t *a;
		size_t i;

		/* every boot application the firmware loaded is an approved one */
		snprintf(rule, sizeof(rule), "%s.boot_applications", sn);
		if (!json_array_size(apps))
			cct_policy__fail(f, rule, "executables", copy(w), json_null(),
					 "no boot applications in a verified event log");
		json_array_foreach(apps, i, a)
			if (!str_in(w, json_string_value(a)))
				cct_policy__fail(f, rule, "executables", copy(w), copy(a),
						 "boot application %zu is not an approved one", i);
	}
}

/* vtpm.pcrs: every listed PCR is quoted (claims.pcrs, from the verified quote) with one of the
 * allowed values. c NULL: evidence without a vTPM (tee snp / tdx), where every vtpm rule fails:
 * a rule that cannot be checked is not passed over. */
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
						 hv  ? "is not one of the allowed values"
						 : c ? "is not covered by the verified quote"
						     : "cannot be checked: the evidence has no vTPM quote");
		}
	}
	eval_eventlog(sec, c, f, "vtpm", "sha256");
}

/* The CPU TEEs a policy without "tee" allows: those its CPU sections judge (snp: snp and
 * az-snp-vtpm, tdx: tdx and az-tdx-vtpm, vtpm: both vTPM TEEs). A policy that pins an SNP
 * measurement must not accept a TDX guest with nothing pinned because it named no "tee".
 * Any when it has no CPU section at all. */
enum { SEC_SNP = 1, SEC_TDX = 2, SEC_VTPM = 4 };

static const struct {
	const char *tee;
	unsigned judged_by; /* the sections any one of which allows it */
} tee_sections[] = {
	{ "snp", SEC_SNP },
	{ "tdx", SEC_TDX },
	{ "az-snp-vtpm", SEC_SNP | SEC_VTPM },
	{ "az-tdx-vtpm", SEC_TDX | SEC_VTPM },
};

static unsigned cpu_sections(const json_t *doc)
{
	return (json_object_get(doc, "snp") ? SEC_SNP : 0) |
	       (json_object_get(doc, "tdx") ? SEC_TDX : 0) |
	       (json_object_get(doc, "vtpm") ? SEC_VTPM : 0);
}

static int tee_in_sections(unsigned have, const char *tee)
{
	size_t i;

	if (!have)
		return 1;
	for (i = 0; i < sizeof(tee_sections) / sizeof(tee_sections[0]); i++)
		if (!strcmp(tee, tee_sections[i].tee))
			return (tee_sections[i].judged_by & have) != 0;
	return 0;
}

/* The TEEs tee_in_sections allows, for a refusal's "expected". New reference. */
static json_t *tees_of_sections(unsigned have)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sizeof(tee_sections) / sizeof(tee_sections[0]); i++)
		if (tee_sections[i].judged_by & have)
			json_array_append_new(a, json_string(tee_sections[i].tee));
	return a;
}

void cct_policy_evaluate(const cct_policy *pol, const cct_policy_claims *c, json_t *cpu_f, json_t **gpu_f)
{
	const json_t *doc = pol->doc, *tees = json_object_get(doc, "tee");
	const json_t *devices = c->gpu_devices;

	unsigned sec = c->sections ? c->sections : CCT_POLICY_SECTIONS_ALL;

	if (c->tee && (sec & CCT_POLICY_SECTION_TEE) && tees && !str_in(tees, c->tee))
		cct_policy__fail(cpu_f, "tee", "hardware", copy(tees), json_string(c->tee),
				 "CPU TEE \"%s\" is not allowed by the policy", c->tee);
	/* the list is built only for a refusal: this runs for every policy at every attest */
	if (c->tee && (sec & CCT_POLICY_SECTION_TEE) && !tees &&
	    !tee_in_sections(cpu_sections(doc), c->tee))
		cct_policy__fail(cpu_f, "tee", "hardware", tees_of_sections(cpu_sections(doc)),
				 json_string(c->tee),
				 "CPU TEE \"%s\" is not allowed by the policy: it has no section for "
				 "it and no \"tee\" list (a policy allows the TEEs its snp/tdx/vtpm "
				 "sections judge)",
				 c->tee);
	if (c->tee && !strcmp(c->tee, "snp") && (sec & CCT_POLICY_SECTION_SNP)) {
		eval_snp(json_object_get(doc, "snp"), c->cpu_claims, cpu_f);
		/* no vTPM in plain SNP / TDX evidence: its vtpm rules fail, never skipped */
		eval_vtpm(json_object_get(doc, "vtpm"), NULL, cpu_f);
	} else if (c->tee && !strcmp(c->tee, "tdx") && (sec & CCT_POLICY_SECTION_TDX)) {
		eval_tdx(json_object_get(doc, "tdx"), c->cpu_claims, cpu_f);
		eval_vtpm(json_object_get(doc, "vtpm"), NULL, cpu_f);
	} else if (c->tee && !strcmp(c->tee, "az-snp-vtpm") && (sec & CCT_POLICY_SECTION_SNP)) {
		/* the snp section judges the paravisor's hardware report, vtpm the quoted PCRs */
		eval_snp(json_object_get(doc, "snp"), json_object_get(c->cpu_claims, "snp"), cpu_f);
		eval_vtpm(json_object_get(doc, "vtpm"), c->cpu_claims, cpu_f);
	} else if (c->tee && !strcmp(c->tee, "az-tdx-vtpm") && (sec & CCT_POLICY_SECTION_TDX)) {
		/* the tdx section judges the TD quote / TD report, vtpm the quoted PCRs */
		eval_tdx(json_object_get(doc, "tdx"), json_object_get(c->cpu_claims, "tdx"), cpu_f);
		eval_vtpm(json_object_get(doc, "vtpm"), c->cpu_claims, cpu_f);
	}
	if (sec & CCT_POLICY_SECTION_GPU)
		eval_gpu(json_object_get(doc, "gpu"), c, devices, cpu_f, gpu_f);
	if (sec & CCT_POLICY_SECTION_MODEL)
		eval_model(json_object_get(doc, "model"), c, cpu_f);
	if (sec & CCT_POLICY_SECTION_INIT_DATA)
		eval_init_data(json_object_get(doc, "init_data"), c, cpu_f);
}

int cct_policy_failures_error(const json_t *failures, cct_err *err)
{
	const json_t *f0 = json_array_get(failures, 0);

	if (!f0)
		return CCT_OK;
	return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0, "%zu policy rule(s) failed: %s: %s",
			   json_array_size(failures), json_string_value(json_object_get(f0, "rule")),
			   json_string_value(json_object_get(f0, "message")));
}
