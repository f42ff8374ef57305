/* SEV-SNP appraisal policy: defaults, JSON loading, and the checks over a verified report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cctrust/core.h"
#include "cctrust/snp.h"

void cct_snp_policy_init(cct_snp_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->max_vmpl = 0;
}

void cct_snp_policy_clear(cct_snp_policy *pol)
{
	free(pol->measurements);
	free(pol->chip_ids);
	pol->measurements = NULL;
	pol->chip_ids = NULL;
	pol->measurement_count = pol->chip_id_count = 0;
}

static int hex_field(uint8_t *dst, size_t n, json_t *v, const char *key, cct_err *err)
{
	if (!json_is_string(v))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy \"%s\": expected a hex string of %zu bytes", key, n);
	if (cct_hex_decode_fixed(dst, n, json_string_value(v), err) != CCT_OK)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy \"%s\": expected %zu bytes of hex (%zu digits)", key, n,
				   2 * n);
	return CCT_OK;
}

static int tcb_field(cct_snp_tcb *t, json_t *v, const char *key, cct_err *err)
{
	memset(t, 0, sizeof(*t));
	if (json_is_integer(v)) {
		/* raw TCB_VERSION: decoded later per product */
		t->raw = (uint64_t)json_integer_value(v);
		t->bootloader = 0xff; /* marker: raw form */
		t->tee = 0xff;
		t->snp = 0xff;
		t->microcode = 0xff;
		t->fmc = 0xfe;
		return CCT_OK;
	}
	if (json_is_object(v)) {
		const char *k;
		json_t *x;

		json_object_foreach(v, k, x) {
			uint8_t *dst;

			if (!strcmp(k, "bootloader"))
				dst = &t->bootloader;
			else if (!strcmp(k, "tee"))
				dst = &t->tee;
			else if (!strcmp(k, "snp"))
				dst = &t->snp;
			else if (!strcmp(k, "microcode"))
				dst = &t->microcode;
			else if (!strcmp(k, "fmc"))
				dst = &t->fmc;
			else
				return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						   "policy \"%s\": unknown TCB component \"%s\" "
						   "(bootloader, tee, snp, microcode, fmc)",
						   key, k);
			if (!json_is_integer(x) || json_integer_value(x) < 0 ||
			    json_integer_value(x) > 255)
				return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						   "policy \"%s.%s\": expected an integer 0-255", key,
						   k);
			*dst = (uint8_t)json_integer_value(x);
		}
		return CCT_OK;
	}
	return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
			   "policy \"%s\": expected {\"bootloader\":N,\"tee\":N,\"snp\":N,"
			   "\"microcode\":N[,\"fmc\":N]} or a raw TCB_VERSION integer",
			   key);
}

static int version_field(uint8_t *major, uint8_t *minor, json_t *v, const char *key, cct_err *err)
{
	unsigned a, b;

	if (!json_is_string(v) || sscanf(json_string_value(v), "%u.%u", &a, &b) != 2 || a > 255 ||
	    b > 255)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy \"%s\": expected \"MAJOR.MINOR\"", key);
	*major = (uint8_t)a;
	*minor = (uint8_t)b;
	return CCT_OK;
}

static int bool_field(int *dst, json_t *v, const char *key, int invert, cct_err *err)
{
	if (!json_is_boolean(v))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy \"%s\": expected true or false", key);
	*dst = invert ? !json_is_true(v) : json_is_true(v);
	return CCT_OK;
}

static int hex_list(uint8_t **dst, size_t *count, size_t elem, json_t *v, const char *key,
		    cct_err *err)
{
	size_t i, n;
	uint8_t *arr;

	if (json_is_string(v)) {
		n = 1;
	} else if (json_is_array(v)) {
		n = json_array_size(v);
	} else {
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy \"%s\": expected a hex string or a list of them", key);
	}
	if (n > 4096)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_POLICY, 0,
				   "policy \"%s\": more than 4096 entries", key);
	arr = calloc(n ? n : 1, elem);
	if (!arr)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_POLICY, 0, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *x = json_is_string(v) ? v : json_array_get(v, i);

		if (hex_field(arr + i * elem, elem, x, key, err) != CCT_OK) {
			free(arr);
			return CCT_EINVAL;
		}
	}
	free(*dst);
	*dst = arr;
	*count = n;
	return CCT_OK;
}

int cct_snp_policy_load_json(cct_snp_policy *pol, const char *text, size_t len, cct_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *obj, *v;
	const char *key;
	int rc = CCT_OK;

	if (!root)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy is not valid JSON: %s (line %d)", je.text, je.line);
	obj = json_object_get(root, "snp");
	if (!obj)
		obj = root;
	if (!json_is_object(obj)) {
		json_decref(root);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
				   "policy must be a JSON object");
	}
	json_object_foreach(obj, key, v) {
		if (rc != CCT_OK)
			break;
		if (!strcmp(key, "measurement") || !strcmp(key, "measurements"))
			rc = hex_list((uint8_t **)&pol->measurements, &pol->measurement_count, 48, v,
				      key, err);
		else if (!strcmp(key, "chip_id") || !strcmp(key, "chip_ids"))
			rc = hex_list((uint8_t **)&pol->chip_ids, &pol->chip_id_count, 64, v, key,
				      err);
		else if (!strcmp(key, "host_data"))
			rc = hex_field(pol->host_data, 32, v, key, err), pol->has_host_data = 1;
		else if (!strcmp(key, "report_data"))
			rc = hex_field(pol->report_data, 64, v, key, err), pol->has_report_data = 1;
		else if (!strcmp(key, "id_key_digest"))
			rc = hex_field(pol->id_key_digest, 48, v, key, err),
			pol->has_id_key_digest = 1;
		else if (!strcmp(key, "author_key_digest"))
			rc = hex_field(pol->author_key_digest, 48, v, key, err),
			pol->has_author_key_digest = 1;
		else if (!strcmp(key, "family_id"))
			rc = hex_field(pol->family_id, 16, v, key, err), pol->has_family_id = 1;
		else if (!strcmp(key, "image_id"))
			rc = hex_field(pol->image_id, 16, v, key, err), pol->has_image_id = 1;
		else if (!strcmp(key, "require_id_block"))
			rc = bool_field(&pol->require_id_block, v, key, 0, err);
		else if (!strcmp(key, "require_author_key"))
			rc = bool_field(&pol->require_author_key, v, key, 0, err);
		else if (!strcmp(key, "min_tcb") || !strcmp(key, "minimum_tcb") ||
			 !strcmp(key, "min_reported_tcb"))
			rc = tcb_field(&pol->min_reported_tcb, v, key, err),
			pol->has_min_reported_tcb = 1;
		else if (!strcmp(key, "min_committed_tcb"))
			rc = tcb_field(&pol->min_committed_tcb, v, key, err),
			pol->has_min_committed_tcb = 1;
		else if (!strcmp(key, "min_launch_tcb") || !strcmp(key, "minimum_launch_tcb"))
			rc = tcb_field(&pol->min_launch_tcb, v, key, err),
			pol->has_min_launch_tcb = 1;
		else if (!strcmp(key, "min_current_tcb"))
			rc = tcb_field(&pol->min_current_tcb, v, key, err),
			pol->has_min_current_tcb = 1;
		else if (!strcmp(key, "min_guest_svn")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						 "policy \"min_guest_svn\": expected an integer");
			else
				pol->min_guest_svn = (uint32_t)json_integer_value(v);
		} else if (!strcmp(key, "min_version"))
			rc = version_field(&pol->min_major, &pol->min_minor, v, key, err),
			pol->has_min_version = 1;
		else if (!strcmp(key, "min_build")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 255)
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						 "policy \"min_build\": expected an integer 0-255");
			else
				pol->min_build = (uint8_t)json_integer_value(v), pol->has_min_version = 1;
		} else if (!strcmp(key, "min_abi"))
			rc = version_field(&pol->min_abi_major, &pol->min_abi_minor, v, key, err),
			pol->has_min_abi = 1;
		else if (!strcmp(key, "allow_debug"))
			rc = bool_field(&pol->allow_debug_insecure, v, key, 0, err);
		else if (!strcmp(key, "allow_migrate_ma"))
			rc = bool_field(&pol->deny_migrate_ma, v, key, 1, err);
		else if (!strcmp(key, "allow_smt"))
			rc = bool_field(&pol->deny_smt, v, key, 1, err);
		else if (!strcmp(key, "require_single_socket"))
			rc = bool_field(&pol->require_single_socket, v, key, 0, err);
		else if (!strcmp(key, "max_vmpl")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 3)
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						 "policy \"max_vmpl\": expected 0-3");
			else
				pol->max_vmpl = (int)json_integer_value(v);
		} else if (!strcmp(key, "platform_info")) {
			json_t *m = json_object_get(v, "mask"), *val = json_object_get(v, "value");

			if (!json_is_integer(m) || !json_is_integer(val))
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						 "policy \"platform_info\": expected {\"mask\":N,"
						 "\"value\":N}");
			pol->has_platform_info_mask = 1;
			pol->platform_info_mask = (uint64_t)json_integer_value(m);
			pol->platform_info_value = (uint64_t)json_integer_value(val);
		} else if (!strcmp(key, "signing_keys")) {
			size_t i;

			pol->signing_keys_allowed = 0;
			if (!json_is_array(v))
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						 "policy \"signing_keys\": expected [\"vcek\",\"vlek\"]");
			for (i = 0; rc == CCT_OK && i < json_array_size(v); i++) {
				const char *s = json_string_value(json_array_get(v, i));

				if (s && !strcmp(s, "vcek"))
					pol->signing_keys_allowed |= 1u << CCT_SNP_KEY_VCEK;
				else if (s && !strcmp(s, "vlek"))
					pol->signing_keys_allowed |= 1u << CCT_SNP_KEY_VLEK;
				else
					rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
							 "policy \"signing_keys\": unknown key type");
			}
		} else if (!strcmp(key, "product")) {
			const char *s = json_string_value(v);

			if (s && !strcmp(s, "Milan"))
				pol->product = CCT_SNP_PRODUCT_MILAN;
			else if (s && !strcmp(s, "Genoa"))
				pol->product = CCT_SNP_PRODUCT_GENOA;
			else if (s && !strcmp(s, "Turin"))
				pol->product = CCT_SNP_PRODUCT_TURIN;
			else
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
						 "policy \"product\": Milan, Genoa or Turin");
		} else if (!strcmp(key, "version") || !strcmp(key, "comment")) {
			/* informational */
		} else
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_POLICY, 0,
					 "policy: unknown key \"%s\" (see docs/snp.md); refusing "
					 "rather than ignoring it",
					 key);
	}
	json_decref(root);
	return rc;
}

static int tcb_below(const cct_snp_tcb *have, const cct_snp_tcb *min, cct_snp_product p,
		     const char **comp, unsigned *h, unsigned *m)
{
	cct_snp_tcb need = *min;

	if (min->fmc == 0xfe && min->bootloader == 0xff) /* raw form */
		need = cct_snp_tcb_decode(min->raw, p);
#define CMP(f)                                                                                     \
	if (have->f < need.f) {                                                                    \
		*comp = #f;                                                                        \
		*h = have->f;                                                                      \
		*m = need.f;                                                                       \
		return 1;                                                                          \
	}
	CMP(bootloader)
	CMP(tee)
	CMP(snp)
	CMP(microcode)
	if (p == CCT_SNP_PRODUCT_TURIN)
		CMP(fmc)
#undef CMP
	return 0;
}

static int check_min_tcb(int has, uint64_t raw, const cct_snp_tcb *min, cct_snp_product p,
			 const char *name, size_t off, cct_err *err)
{
	cct_snp_tcb have = cct_snp_tcb_decode(raw, p);
	const char *comp;
	unsigned h, m;

	if (has && tcb_below(&have, min, p, &comp, &h, &m))
		return cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, off,
				   "%s (offset 0x%zx) %s SVN is %u; policy requires at least %u", name,
				   off, comp, h, m);
	return CCT_OK;
}

static int in_list(const uint8_t *v, const uint8_t *list, size_t count, size_t elem)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (cct_ct_eq(v, list + i * elem, elem))
			return 1;
	return 0;
}

int cct_snp_report_data_check(const cct_snp_report *rep, const uint8_t expected[64], cct_err *err)
{
	char a[129], b[129];

	if (cct_ct_eq(rep->report_data, expected, 64))
		return CCT_OK;
	cct_hex_encode(a, expected, 64);
	cct_hex_encode(b, rep->report_data, 64);
	return cct_err_set(err, CCT_ENONCE, CCT_STAGE_BINDING, 0x050,
			   "REPORT_DATA (offset 0x050) is %.32s...; expected %.32s...", b, a);
}

int cct_snp_policy_check(const cct_snp_report *rep, cct_snp_product p, const cct_snp_policy *pol,
			 cct_err *err)
{
	char a[129], b[129];
	int rc;

	if (((rep->policy >> CCT_SNP_POLICY_DEBUG_BIT) & 1) && !pol->allow_debug_insecure)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x008,
				   "guest policy 0x%llx (offset 0x008) allows debugging (DEBUG, bit "
				   "19): the host can read and change guest memory; accept only with "
				   "--insecure-allow-debug",
				   (unsigned long long)rep->policy);
	if ((int64_t)rep->vmpl > pol->max_vmpl)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x030,
				   "report VMPL (offset 0x030) is %u; policy accepts at most %d (use "
				   "--max-vmpl N for guests under an SVSM or paravisor)",
				   rep->vmpl, pol->max_vmpl);
	if (pol->has_report_data &&
	    (rc = cct_snp_report_data_check(rep, pol->report_data, err)) != CCT_OK)
		return rc;
	if (pol->measurement_count &&
	    !in_list(rep->measurement, (const uint8_t *)pol->measurements, pol->measurement_count, 48)) {
		cct_hex_encode(a, rep->measurement, 48);
		return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_POLICY, 0x090,
				   "launch MEASUREMENT %s (offset 0x090) is not among the %zu "
				   "expected value(s)",
				   a, pol->measurement_count);
	}
	if (pol->has_host_data && !cct_ct_eq(rep->host_data, pol->host_data, 32)) {
		cct_hex_encode(a, pol->host_data, 32);
		cct_hex_encode(b, rep->host_data, 32);
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x0C0,
				   "HOST_DATA (offset 0x0C0) is %s; expected %s", b, a);
	}
	if (pol->has_family_id && !cct_ct_eq(rep->family_id, pol->family_id, 16))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x010,
				   "FAMILY_ID (offset 0x010) differs from the policy");
	if (pol->has_image_id && !cct_ct_eq(rep->image_id, pol->image_id, 16))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x020,
				   "IMAGE_ID (offset 0x020) differs from the policy");
	if ((pol->require_id_block || pol->has_id_key_digest) && cct_is_zero(rep->id_key_digest, 48))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x0E0,
				   "policy requires an ID block but ID_KEY_DIGEST (offset 0x0E0) is "
				   "zero: the guest was launched without one");
	if (pol->has_id_key_digest && !cct_ct_eq(rep->id_key_digest, pol->id_key_digest, 48))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x0E0,
				   "ID_KEY_DIGEST (offset 0x0E0) differs from the policy");
	if ((pol->require_author_key || pol->has_author_key_digest) && !(rep->flags & 1))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x048,
				   "policy requires an author key but AUTHOR_KEY_EN (offset 0x048 "
				   "bit 0) is clear");
	if (pol->has_author_key_digest &&
	    !cct_ct_eq(rep->author_key_digest, pol->author_key_digest, 48))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x110,
				   "AUTHOR_KEY_DIGEST (offset 0x110) differs from the policy");
	if (pol->chip_id_count &&
	    !in_list(rep->chip_id, (const uint8_t *)pol->chip_ids, pol->chip_id_count, 64)) {
		cct_hex_encode(a, rep->chip_id, 64);
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x1A0,
				   "CHIP_ID %.32s... (offset 0x1A0) is not in the policy's allow-list",
				   a);
	}
	if ((rc = check_min_tcb(pol->has_min_reported_tcb, rep->reported_tcb,
				&pol->min_reported_tcb, p, "REPORTED_TCB", 0x180, err)) ||
	    (rc = check_min_tcb(pol->has_min_committed_tcb, rep->committed_tcb,
				&pol->min_committed_tcb, p, "COMMITTED_TCB", 0x1E0, err)) ||
	    (rc = check_min_tcb(pol->has_min_launch_tcb, rep->launch_tcb, &pol->min_launch_tcb, p,
				"LAUNCH_TCB", 0x1F0, err)) ||
	    (rc = check_min_tcb(pol->has_min_current_tcb, rep->current_tcb, &pol->min_current_tcb,
				p, "CURRENT_TCB", 0x038, err)))
		return rc;
	if (rep->guest_svn < pol->min_guest_svn)
		return cct_err_set(err, CCT_ETCB, CCT_STAGE_POLICY, 0x004,
				   "GUEST_SVN (offset 0x004) is %u; policy requires at least %u",
				   rep->guest_svn, pol->min_guest_svn);
	if (pol->has_min_version) {
		uint32_t have = (uint32_t)rep->current_major << 16 | rep->current_minor << 8 |
				rep->current_build;
		uint32_t need = (uint32_t)pol->min_major << 16 | pol->min_minor << 8 | pol->min_build;

		if (have < need)
			return cct_err_set(err, CCT_ETCB, CCT_STAGE_TCB, 0x1E8,
					   "firmware %u.%u build %u (offset 0x1E8) is older than the "
					   "policy's %u.%u build %u",
					   rep->current_major, rep->current_minor, rep->current_build,
					   pol->min_major, pol->min_minor, pol->min_build);
	}
	if (pol->has_min_abi) {
		unsigned maj = (unsigned)(rep->policy >> 8 & 0xff), min = (unsigned)(rep->policy & 0xff);

		if (maj < pol->min_abi_major || (maj == pol->min_abi_major && min < pol->min_abi_minor))
			return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x008,
					   "guest policy ABI minimum %u.%u is below the policy's %u.%u",
					   maj, min, pol->min_abi_major, pol->min_abi_minor);
	}
	if (pol->deny_migrate_ma && ((rep->policy >> CCT_SNP_POLICY_MIGRATE_MA_BIT) & 1))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x008,
				   "guest policy allows a migration agent (MIGRATE_MA, bit 18); the "
				   "policy forbids it");
	if (pol->deny_smt && ((rep->policy >> CCT_SNP_POLICY_SMT_BIT) & 1))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x008,
				   "guest policy allows SMT (bit 16); the policy forbids it");
	if (pol->require_single_socket && !((rep->policy >> CCT_SNP_POLICY_SINGLE_SOCKET_BIT) & 1))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x008,
				   "guest policy does not require a single socket (bit 20)");
	if (pol->has_platform_info_mask &&
	    (rep->platform_info & pol->platform_info_mask) != pol->platform_info_value)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x040,
				   "PLATFORM_INFO 0x%llx (offset 0x040) does not match the policy "
				   "(mask 0x%llx, value 0x%llx)",
				   (unsigned long long)rep->platform_info,
				   (unsigned long long)pol->platform_info_mask,
				   (unsigned long long)pol->platform_info_value);
	if (pol->signing_keys_allowed &&
	    !(pol->signing_keys_allowed & (1u << cct_snp_report_signing_key(rep))))
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0x048,
				   "report is signed by a %s; the policy does not accept that key",
				   cct_snp_report_signing_key(rep) == CCT_SNP_KEY_VLEK ? "VLEK" : "VCEK");
	if (pol->product != CCT_SNP_PRODUCT_UNKNOWN && pol->product != p)
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "platform is %s; the policy requires %s", cct_snp_product_name(p),
				   cct_snp_product_name(pol->product));
	return CCT_OK;
}
