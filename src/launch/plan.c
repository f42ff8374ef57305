/* Launch plan: TOML (the project's init-data TOML reader, src/policy/initdata.c) to a checked
 * cct_launch_plan. Every key is known: an unknown key, a wrong type or an out-of-range value is
 * refused with the key named, so a typo never silently changes a launch. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "launch/launch_int.h"
#include "composite/internal.h"

static int perr(cct_err *err, int code, const char *key, const char *what)
{
	return cct_err_set(err, code, CCT_STAGE_INPUT, 0, "launch plan: %s: %s", key, what);
}

static char *join_path(const char *dir, const char *p)
{
	size_t n;
	char *s;

	if (!dir || !*dir || p[0] == '/')
		return strdup(p);
	n = strlen(dir) + strlen(p) + 2;
	s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", dir, p);
	return s;
}

/* Only these keys exist; anything else is a typo. */
static int check_keys(const json_t *obj, const char *const *known, const char *where,
		      cct_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;
		int ok = 0;

		(void)v;
		for (i = 0; known[i]; i++)
			if (!strcmp(k, known[i]))
				ok = 1;
		if (!ok)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "launch plan: unknown key %s%s%.64s", where,
					   *where ? "." : "", k);
	}
	return CCT_OK;
}

/* Plan strings end up one per line in qemu.args (and in launch.sh): no control characters. */
static int no_control(const char *s, const char *name, cct_err *err)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "launch plan: %s: control character 0x%02x at character "
					   "%zu (qemu.args holds one argument per line)", name,
					   (unsigned)(unsigned char)s[i], i + 1);
	return CCT_OK;
}

static int get_str(char **out, const json_t *o, const char *key, const char *name, int path,
		   const char *dir, cct_err *err)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v)
		return CCT_OK;
	if (!json_is_string(v) || !*json_string_value(v))
		return perr(err, CCT_EINVAL, name, "expected a non-empty string");
	if (strlen(json_string_value(v)) > 4096)
		return perr(err, CCT_ETOOBIG, name, "longer than 4096 characters");
	if (no_control(json_string_value(v), name, err) != CCT_OK)
		return CCT_EINVAL;
	*out = path ? join_path(dir, json_string_value(v)) : strdup(json_string_value(v));
	return *out ? CCT_OK : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
}

/* A number in min..max: a TOML integer, or with hex_string also a "0x..." / decimal string (the
 * documented form of guest_features and policy). Anything else is refused with the key, the
 * value's type or text and the range. */
static int get_u64(uint64_t *out, int *present, const json_t *o, const char *key, uint64_t min,
		   uint64_t max, int hex_string, cct_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (present)
		*present = 0;
	if (!v)
		return CCT_OK;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < min ||
		    (uint64_t)json_integer_value(v) > max)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "launch plan: %s: %lld is out of range %llu..%llu", key,
					   (long long)json_integer_value(v), (unsigned long long)min,
					   (unsigned long long)max);
		*out = (uint64_t)json_integer_value(v);
	} else if (json_is_string(v) && hex_string) {
		const char *s = json_string_value(v);
		char *end = NULL;
		unsigned long long x;

		errno = 0;
		x = strtoull(s, &end, 0);
		if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || s[0] == ' ' || x < min ||
		    x > max)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "launch plan: %s: \"%.40s\" is not a number (\"0x...\" or "
					   "decimal) in 0x%llx..0x%llx", key, s,
					   (unsigned long long)min, (unsigned long long)max);
		*out = x;
	} else {
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "launch plan: %s: expected an integer%s in %llu..%llu, got %s", key,
				   hex_string ? " or a \"0x...\" string" : " (no quotes)",
				   (unsigned long long)min, (unsigned long long)max,
				   json_is_string(v) ? "a string" : json_is_boolean(v) ? "a boolean" :
				   json_is_array(v) ? "an array" : json_is_object(v) ? "a table" :
				   "another type");
	}
	if (present)
		*present = 1;
	return CCT_OK;
}

static int get_bool(int *out, const json_t *o, const char *key, cct_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return CCT_OK;
	if (!json_is_boolean(v))
		return perr(err, CCT_EINVAL, key, "expected true or false");
	*out = json_is_true(v);
	return CCT_OK;
}

static int get_hex16(uint8_t out[16], const json_t *o, const char *key, cct_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return CCT_OK;
	if (!json_is_string(v) || cct_hex_decode_fixed(out, 16, json_string_value(v), NULL))
		return perr(err, CCT_EINVAL, key, "expected 32 hex digits");
	return CCT_OK;
}

static int get_str_array(char **out, size_t *count, size_t cap, const json_t *o, const char *key,
			 const char *name, cct_err *err)
{
	const json_t *v = json_object_get(o, key), *e;
	size_t i;

	*count = 0;
	if (!v)
		return CCT_OK;
	if (!json_is_array(v))
		return perr(err, CCT_EINVAL, name, "expected an array of strings");
	if (json_array_size(v) > cap)
		return perr(err, CCT_ETOOBIG, name, "too many entries");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) > 1024)
			return perr(err, CCT_EINVAL, name, "expected an array of strings");
		if (no_control(json_string_value(e), name, err) != CCT_OK)
			return CCT_EINVAL;
		if (!(out[i] = strdup(json_string_value(e))))
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		*count = i + 1;
	}
	return CCT_OK;
}

/* "0000:01:00.0" (domain:bus:device.function), lowercase hex. */
int cct_launch__bdf_valid(const char *s)
{
	static const char pat[] = "hhhh:hh:hh.h";
	size_t i;

	if (!s || strlen(s) != sizeof(pat) - 1)
		return 0;
	for (i = 0; pat[i]; i++) {
		if (pat[i] == 'h') {
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
				return 0;
		} else if (s[i] != pat[i]) {
			return 0;
		}
	}
	return s[11] <= '7';
}

static int hex_ok(const char *s, size_t bytes)
{
	uint8_t buf[64];

	return s && bytes <= sizeof(buf) && cct_hex_decode_fixed(buf, bytes, s, NULL) == CCT_OK;
}

static const char *const top_keys[] = {
	"name", "tee", "firmware", "kernel", "initrd", "cmdline", "kernel_hashes", "vcpus",
	"vcpu_type", "memory", "vmm", "vmm_version", "guest_features", "policy", "ovmf_hash",
	"gpus", "init_data", "models", "disks", "id_block", "tdx", "qemu", NULL
};
static const char *const idb_keys[] = { "id_key", "author_key", "family_id", "image_id",
					"guest_svn", NULL };
static const char *const tdx_keys[] = { "mrowner", "mrownerconfig", "debug", "sept_ve_disable",
					"two_pass", NULL };
static const char *const disk_keys[] = { "file", "format", "readonly", "verity_root", NULL };
static const char *const qemu_keys[] = { "binary", "extra_args", NULL };

static int parse_disks(cct_launch_plan *p, json_t *d, const char *dir, cct_err *err)
{
	const char *name;
	json_t *t;
	int rc;

	if (!json_is_object(d))
		return perr(err, CCT_EINVAL, "disks", "expected [disks.NAME] tables");
	if (json_object_size(d) > CCT_LAUNCH_MAX_DISKS)
		return perr(err, CCT_ETOOBIG, "disks", "too many disks");
	json_object_foreach(d, name, t) {
		cct_launch_disk *k = &p->disks[p->disk_count];
		const char *fmt;
		size_t i;

		if (!json_is_object(t))
			return perr(err, CCT_EINVAL, "disks", "expected [disks.NAME] tables");
		for (i = 0; name[i]; i++)
			if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
			      name[i] == '-' || name[i] == '_') || i > 30)
				return perr(err, CCT_EINVAL, "disks",
					    "disk names are [a-z0-9_-], at most 31 characters");
		if ((rc = check_keys(t, disk_keys, "disks.*", err)) != CCT_OK)
			return rc;
		p->disk_count++;
		if (!(k->name = strdup(name)))
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		if ((rc = get_str(&k->file, t, "file", "disks.*.file", 1, dir, err)) != CCT_OK)
			return rc;
		if (!k->file)
			return perr(err, CCT_EINVAL, "disks.*.file", "missing");
		if ((rc = get_str(&k->format, t, "format", "disks.*.format", 0, NULL, err)))
			return rc;
		fmt = k->format ? k->format : "raw";
		if (strcmp(fmt, "raw") && strcmp(fmt, "qcow2"))
			return perr(err, CCT_EINVAL, "disks.*.format", "raw or qcow2");
		if (!k->format && !(k->format = strdup("raw")))
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		if ((rc = get_bool(&k->readonly, t, "readonly", err)) != CCT_OK)
			return rc;
		if ((rc = get_str(&k->verity_root, t, "verity_root", "disks.*.verity_root", 0, NULL,
				  err)))
			return rc;
		if (k->verity_root && !hex_ok(k->verity_root, 32))
			return perr(err, CCT_EINVAL, "disks.*.verity_root", "expected 64 hex digits");
		if (k->verity_root)
			k->readonly = 1; /* a verity-protected disk is never written */
	}
	return CCT_OK;
}

int cct_launch_plan_parse(cct_launch_plan *p, const char *text, size_t len, const char *dir,
			  cct_err *err)
{
	json_t *root = NULL, *t;
	const char *s;
	uint64_t u = 0;
	int rc, have = 0;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (len > CCT_LAUNCH_MAX_PLAN)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "launch plan too large");
	if ((rc = cct_composite__toml_parse(&root, text, len, err)) != CCT_OK) {
		/* the reader is init-data's: its messages say "init-data TOML line N", which names
		 * the wrong file here (the plan's own syntax error sent the user to init_data =) */
		static const char pre[] = "init-data TOML";

		if (err && !strncmp(err->msg, pre, sizeof(pre) - 1)) {
			char m[sizeof(err->msg)];

			snprintf(m, sizeof(m), "launch plan TOML%s", err->msg + sizeof(pre) - 1);
			memcpy(err->msg, m, sizeof(m));
		}
		return rc;
	}
	if ((rc = check_keys(root, top_keys, "", err)) != CCT_OK)
		goto out;
	rc = CCT_EINVAL;
	s = json_string_value(json_object_get(root, "tee"));
	if (!s || (strcmp(s, "snp") && strcmp(s, "tdx"))) {
		rc = perr(err, CCT_EINVAL, "tee", "\"snp\" or \"tdx\" required");
		goto out;
	}
	p->tee = !strcmp(s, "snp") ? CCT_LAUNCH_SNP : CCT_LAUNCH_TDX;
	if ((rc = get_str(&p->name, root, "name", "name", 0, NULL, err)) != CCT_OK ||
	    (rc = get_str(&p->firmware, root, "firmware", "firmware", 1, dir, err)) != CCT_OK ||
	    (rc = get_str(&p->kernel, root, "kernel", "kernel", 1, dir, err)) != CCT_OK ||
	    (rc = get_str(&p->initrd, root, "initrd", "initrd", 1, dir, err)) != CCT_OK ||
	    (rc = get_str(&p->cmdline, root, "cmdline", "cmdline", 0, NULL, err)) != CCT_OK ||
	    (rc = get_str(&p->vcpu_type, root, "vcpu_type", "vcpu_type", 0, NULL, err)) != CCT_OK ||
	    (rc = get_str(&p->memory, root, "memory", "memory", 0, NULL, err)) != CCT_OK ||
	    (rc = get_str(&p->ovmf_hash, root, "ovmf_hash", "ovmf_hash", 0, NULL, err)) != CCT_OK ||
	    (rc = get_str(&p->init_data, root, "init_data", "init_data", 1, dir, err)) != CCT_OK)
		goto out;
	if (!p->firmware) {
		rc = perr(err, CCT_EINVAL, "firmware", "missing");
		goto out;
	}
	if ((p->initrd || p->cmdline) && !p->kernel) {
		rc = perr(err, CCT_EINVAL, "initrd/cmdline", "need a kernel (direct boot)");
		goto out;
	}
	if (p->ovmf_hash && !hex_ok(p->ovmf_hash, 48)) {
		rc = perr(err, CCT_EINVAL, "ovmf_hash", "expected 96 hex digits");
		goto out;
	}
	if (!p->memory && !(p->memory = strdup("4G"))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	for (i = 0; p->memory[i]; i++)
		if (!((p->memory[i] >= '0' && p->memory[i] <= '9') ||
		      (i > 0 && !p->memory[i + 1] && strchr("KMGTkmgt", p->memory[i])))) {
			rc = perr(err, CCT_EINVAL, "memory", "expected a size such as \"64G\"");
			goto out;
		}
	{ /* QEMU takes the text as it is: its value must be a size a guest can have */
		uint64_t bytes = 0;

		if (cct_launch__memory_bytes(&bytes, p->memory) != CCT_OK ||
		    bytes < CCT_LAUNCH_MIN_MEMORY || bytes > CCT_LAUNCH_MAX_MEMORY) {
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					 "launch plan: memory: \"%.40s\" is out of range 64M..64T "
					 "(a number is MiB, as QEMU's -m)", p->memory);
			goto out;
		}
	}
	p->kernel_hashes = p->kernel != NULL;
	if ((rc = get_bool(&p->kernel_hashes, root, "kernel_hashes", err)) != CCT_OK)
		goto out;
	if (p->kernel_hashes && !p->kernel) {
		rc = perr(err, CCT_EINVAL, "kernel_hashes", "needs a kernel");
		goto out;
	}
	if ((rc = get_u64(&u, &have, root, "vcpus", 1, CCT_LAUNCH_MAX_VCPUS, 0, err)) != CCT_OK)
		goto out;
	if (!have) {
		rc = perr(err, CCT_EINVAL, "vcpus", "missing (an integer in 1..256)");
		goto out;
	}
	p->vcpus = (uint32_t)u;
	if (!p->vcpu_type && !(p->vcpu_type = strdup(p->tee == CCT_LAUNCH_SNP ? "EPYC-v4" : "host"))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (p->tee == CCT_LAUNCH_SNP && cct_measure_vcpu_sig(&p->vcpu_sig, p->vcpu_type) != 0) {
		rc = perr(err, CCT_EINVAL, "vcpu_type", "unknown vCPU type (see cctrust measure snp)");
		goto out;
	}
	s = json_string_value(json_object_get(root, "vmm"));
	if (json_object_get(root, "vmm") && !s) {
		rc = perr(err, CCT_EINVAL, "vmm", "expected \"qemu\", \"ec2\" or \"gce\"");
		goto out;
	}
	if (!s || !strcmp(s, "qemu")) {
		p->vmm = CCT_MEASURE_VMM_QEMU;
	} else if (!strcmp(s, "ec2")) {
		p->vmm = CCT_MEASURE_VMM_EC2;
	} else if (!strcmp(s, "gce")) {
		p->vmm = CCT_MEASURE_VMM_GCE;
	} else {
		rc = perr(err, CCT_EINVAL, "vmm", "expected \"qemu\", \"ec2\" or \"gce\"");
		goto out;
	}
	u = 0;
	/* as measure snp --vmm-version: 0 and 2 the current VMSA, 1 EC2's older one */
	if ((rc = get_u64(&u, NULL, root, "vmm_version", 0, 2, 0, err)) != CCT_OK)
		goto out;
	p->vmm_version = (int)u;
	/* 1 selects EC2's older VMSA: with vmm "qemu" or "gce" nothing reads it, and the plan's
	 * MEASUREMENT was the current VMSA's of that type */
	if (p->vmm_version == 1 && p->vmm != CCT_MEASURE_VMM_EC2) {
		rc = perr(err, CCT_EINVAL, "vmm_version",
			  "1 (EC2's older VMSA) needs vmm = \"ec2\"");
		goto out;
	}
	p->guest_features = 0x1;
	p->policy = 0x30000;
	if ((rc = get_u64(&p->guest_features, NULL, root, "guest_features", 0, UINT64_MAX, 1,
			  err)) ||
	    (rc = get_u64(&p->policy, NULL, root, "policy", 0, UINT64_MAX, 1, err)))
		goto out;
	{
		cct_err why;

		if (cct_measure_snp_policy_check(p->policy, &why) != CCT_OK) {
			rc = perr(err, CCT_EINVAL, "policy", why.msg);
			goto out;
		}
	}
	if ((rc = get_str_array(p->gpus, &p->gpu_count, CCT_LAUNCH_MAX_GPUS, root, "gpus", "gpus",
				 err)))
		goto out;
	for (i = 0; i < p->gpu_count; i++) {
		size_t j;

		if (!cct_launch__bdf_valid(p->gpus[i])) {
			rc = perr(err, CCT_EINVAL, "gpus", "expected PCI addresses like 0000:01:00.0");
			goto out;
		}
		/* one device cannot be passed through twice (and the policy's gpu.count would
		 * demand a GPU the guest never has) */
		for (j = 0; j < i; j++)
			if (!strcmp(p->gpus[i], p->gpus[j])) {
				rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
						 "launch plan: gpus: %s is listed twice", p->gpus[i]);
				goto out;
			}
	}
	if ((rc = get_str_array(p->models, &p->model_count, CCT_LAUNCH_MAX_MODELS, root, "models",
				"models", err)))
		goto out;
	for (i = 0; i < p->model_count; i++) {
		const char *c = strrchr(p->models[i], ':');

		if (!strchr(p->models[i], '@') || !c || !hex_ok(c + 1, 32)) {
			rc = perr(err, CCT_EINVAL, "models",
				  "expected \"name@revision:verity-root-hex\" (cctrust model)");
			goto out;
		}
	}
	if ((t = json_object_get(root, "disks")) && (rc = parse_disks(p, t, dir, err)) != CCT_OK)
		goto out;
	if ((t = json_object_get(root, "id_block"))) {
		if (!json_is_object(t) || (rc = check_keys(t, idb_keys, "id_block", err)) != CCT_OK) {
			rc = json_is_object(t) ? rc : perr(err, CCT_EINVAL, "id_block", "a table");
			goto out;
		}
		if ((rc = get_str(&p->id_key, t, "id_key", "id_block.id_key", 1, dir, err)) ||
		    (rc = get_str(&p->author_key, t, "author_key", "id_block.author_key", 1, dir,
				  err)) ||
		    (rc = get_hex16(p->family_id, t, "family_id", err)) ||
		    (rc = get_hex16(p->image_id, t, "image_id", err)))
			goto out;
		u = 0;
		if ((rc = get_u64(&u, NULL, t, "guest_svn", 0, UINT32_MAX, 0, err)) != CCT_OK)
			goto out;
		p->guest_svn = (uint32_t)u;
		if (!p->id_key) {
			rc = perr(err, CCT_EINVAL, "id_block.id_key", "missing");
			goto out;
		}
	}
	p->sept_ve_disable = 1;
	if ((t = json_object_get(root, "tdx"))) {
		if (!json_is_object(t) || (rc = check_keys(t, tdx_keys, "tdx", err)) != CCT_OK) {
			rc = json_is_object(t) ? rc : perr(err, CCT_EINVAL, "tdx", "a table");
			goto out;
		}
		if ((rc = get_str(&p->mrowner, t, "mrowner", "tdx.mrowner", 0, NULL, err)) ||
		    (rc = get_str(&p->mrownerconfig, t, "mrownerconfig", "tdx.mrownerconfig", 0, NULL,
				  err)) ||
		    (rc = get_bool(&p->tdx_debug, t, "debug", err)) ||
		    (rc = get_bool(&p->sept_ve_disable, t, "sept_ve_disable", err)) ||
		    (rc = get_bool(&p->tdx_two_pass, t, "two_pass", err)))
			goto out;
		if ((p->mrowner && !hex_ok(p->mrowner, 48)) ||
		    (p->mrownerconfig && !hex_ok(p->mrownerconfig, 48))) {
			rc = perr(err, CCT_EINVAL, "tdx.mrowner", "expected 96 hex digits");
			goto out;
		}
	}
	if ((t = json_object_get(root, "qemu"))) {
		const json_t *ea;

		if (!json_is_object(t) || (rc = check_keys(t, qemu_keys, "qemu", err)) != CCT_OK) {
			rc = json_is_object(t) ? rc : perr(err, CCT_EINVAL, "qemu", "a table");
			goto out;
		}
		if ((rc = get_str(&p->qemu, t, "binary", "qemu.binary", 0, NULL, err)) != CCT_OK)
			goto out;
		if ((ea = json_object_get(t, "extra_args"))) {
			if (!json_is_array(ea) || json_array_size(ea) > 64) {
				rc = perr(err, CCT_EINVAL, "qemu.extra_args", "at most 64 strings");
				goto out;
			}
			p->extra_args = calloc(json_array_size(ea) + 1, sizeof(char *));
			if (!p->extra_args) {
				rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
				goto out;
			}
			if ((rc = get_str_array(p->extra_args, &p->extra_arg_count, 64, t,
						"extra_args", "qemu.extra_args", err)) != CCT_OK)
				goto out;
		}
	}
	if (!p->qemu && !(p->qemu = strdup("qemu-system-x86_64"))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (p->tee == CCT_LAUNCH_TDX && (p->id_key || json_object_get(root, "guest_features") ||
					 json_object_get(root, "policy"))) {
		rc = perr(err, CCT_EINVAL, "id_block/guest_features/policy", "SNP keys in a TDX plan");
		goto out;
	}
	if (p->tee == CCT_LAUNCH_TDX) {
		/* the VMSA's VMM type and SNP's kernel-hashes=on: nothing in a TDX launch reads them
		 * (vmm = "ec2" in a TDX plan was accepted and ignored) */
		static const char *const snp_only[] = { "vmm", "vmm_version", "kernel_hashes", NULL };

		for (i = 0; snp_only[i]; i++)
			if (json_object_get(root, snp_only[i])) {
				rc = perr(err, CCT_EINVAL, snp_only[i],
					  "an SNP key in a TDX plan (nothing in a TDX launch "
					  "reads it)");
				goto out;
			}
	}
	if (p->tee == CCT_LAUNCH_SNP && json_object_get(root, "tdx")) {
		rc = perr(err, CCT_EINVAL, "tdx", "a TDX table in an SNP plan");
		goto out;
	}
	if (!p->name) {
		p->name = strdup("plan");
		if (!p->name) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
	}
	rc = CCT_OK;
out:
	json_decref(root);
	if (rc != CCT_OK)
		cct_launch_plan_clear(p);
	return rc;
}

int cct_launch_plan_load(cct_launch_plan *p, const char *path, cct_err *err)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	char *dir, *slash, *base, *dot, *abs;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = cct_file_read(&buf, &n, path, CCT_LAUNCH_MAX_PLAN, err)) != CCT_OK)
		return rc;
	dir = strdup(path);
	if (!dir) {
		free(buf);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	/* absolute paths: launch.sh and qemu.args work from any directory */
	abs = realpath(slash ? (*dir ? dir : "/") : ".", NULL);
	rc = cct_launch_plan_parse(p, (const char *)buf, n, abs ? abs : (slash ? dir : NULL), err);
	free(abs);
	free(buf);
	if (rc == CCT_OK) {
		p->path = strdup(path);
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : (char *)path;
		if (!strcmp(p->name, "plan") && *base) {
			free(p->name);
			p->name = strdup(base);
			if (p->name && (dot = strrchr(p->name, '.')) && dot != p->name)
				*dot = '\0';
		}
		if (!p->path || !p->name) {
			cct_launch_plan_clear(p);
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		}
	}
	free(dir);
	return rc;
}

void cct_launch_plan_clear(cct_launch_plan *p)
{
	size_t i;

	if (!p)
		return;
	free(p->path);
	free(p->name);
	free(p->firmware);
	free(p->kernel);
	free(p->initrd);
	free(p->cmdline);
	free(p->vcpu_type);
	free(p->memory);
	free(p->ovmf_hash);
	for (i = 0; i < CCT_LAUNCH_MAX_GPUS; i++)
		free(p->gpus[i]);
	free(p->init_data);
	for (i = 0; i < CCT_LAUNCH_MAX_DISKS; i++) {
		free(p->disks[i].name);
		free(p->disks[i].file);
		free(p->disks[i].format);
		free(p->disks[i].verity_root);
	}
	for (i = 0; i < CCT_LAUNCH_MAX_MODELS; i++)
		free(p->models[i]);
	free(p->id_key);
	free(p->author_key);
	free(p->mrowner);
	free(p->mrownerconfig);
	free(p->qemu);
	if (p->extra_args)
		for (i = 0; p->extra_args[i]; i++)
			free(p->extra_args[i]);
	free(p->extra_args);
	memset(p, 0, sizeof(*p));
}
