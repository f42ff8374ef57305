/* The QEMU argument list of a launch plan, the launch script, and `launch plan`'s whole output.
 *
 * SNP (QEMU >= 9.1): q35 with confidential-guest-support, guest RAM from memory-backend-memfd,
 * sev-snp-guest with policy, kernel-hashes, host-data (init-data digest), id-block/id-auth.
 * TDX (QEMU >= 10): q35 with kernel-irqchip=split, tdx-guest with mrconfigid (init-data digest)
 * and mrowner/mrownerconfig. GPUs: one pcie-root-port + vfio-pci each and a 256 GiB 64-bit MMIO
 * window for OVMF (NVIDIA's deployment guide). Disks: virtio-blk with serial=NAME. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "launch/launch_int.h"

/* QEMU option values: ',' is doubled (QEMU's escape inside key=value lists). */
static char *qesc(const char *s)
{
	size_t n = 0, i, o = 0;
	char *r;

	for (i = 0; s[i]; i++)
		n += s[i] == ',' ? 2 : 1;
	r = malloc(n + 1);
	if (!r)
		return NULL;
	for (i = 0; s[i]; i++) {
		r[o++] = s[i];
		if (s[i] == ',')
			r[o++] = ',';
	}
	r[o] = 0;
	return r;
}

static void add(json_t *a, const char *s)
{
	json_array_append_new(a, json_string(s));
}

static void addf(json_t *a, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
static void addf(json_t *a, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	add(a, buf);
}

static int args_from(json_t **out, const cct_launch_plan *p, const cct_launch_values *v,
		     cct_err *err)
{
	json_t *a = json_array();
	char *e = NULL, *b64 = NULL, obj[4096 + 8192];
	size_t i;
	int rc = CCT_ERROR;

	if (!a)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	add(a, "-accel");
	add(a, "kvm");
	add(a, "-nodefaults");
	add(a, "-nographic");
	add(a, "-serial");
	add(a, "stdio");
	add(a, "-machine");
	if (p->tee == CCT_LAUNCH_SNP) {
		add(a, "q35,confidential-guest-support=sev0,memory-backend=ram1,vmport=off");
		add(a, "-object");
		addf(a, "memory-backend-memfd,id=ram1,size=%s,share=true,prealloc=false",
		     p->memory);
		snprintf(obj, sizeof(obj), "sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,"
			 "policy=0x%llx", (unsigned long long)p->policy);
		if (p->kernel_hashes)
			strcat(obj, ",kernel-hashes=on");
		if (v->has_init_data) {
			b64 = cct_b64_encode(v->host_data, 32, 0);
			if (!b64)
				goto nomem;
			strcat(obj, ",host-data=");
			strcat(obj, b64);
			free(b64);
			b64 = NULL;
		}
		if (v->has_id_block) {
			b64 = cct_b64_encode(v->id_block, 96, 0);
			if (!b64)
				goto nomem;
			strcat(obj, ",id-block=");
			strcat(obj, b64);
			free(b64);
			b64 = cct_b64_encode(v->id_auth, 4096, 0);
			if (!b64)
				goto nomem;
			add(a, "-object");
			/* id-auth is 5.5 KB of base64: its own buffer */
			{
				size_t n = strlen(obj) + strlen(b64) + 64;
				char *full = malloc(n);

				if (!full)
					goto nomem;
				snprintf(full, n, "%s,id-auth=%s%s", obj, b64,
					 v->has_author_key ? ",author-key-enabled=on" : "");
				add(a, full);
				free(full);
			}
			free(b64);
			b64 = NULL;
		} else {
			add(a, "-object");
			add(a, obj);
		}
		add(a, "-cpu");
		add(a, p->vcpu_type);
	} else {
		add(a, "q35,kernel-irqchip=split,confidential-guest-support=tdx0,"
		       "memory-backend=ram1,hpet=off");
		add(a, "-object");
		addf(a, "memory-backend-ram,id=ram1,size=%s", p->memory);
		snprintf(obj, sizeof(obj), "tdx-guest,id=tdx0,sept-ve-disable=%s",
			 p->sept_ve_disable ? "on" : "off");
		if (v->has_init_data) {
			b64 = cct_b64_encode(v->mrconfigid, 48, 0);
			if (!b64)
				goto nomem;
			strcat(obj, ",mrconfigid=");
			strcat(obj, b64);
			free(b64);
			b64 = NULL;
		}
		{
			const char *names[2] = { "mrowner", "mrownerconfig" };
			const char *vals[2] = { p->mrowner, p->mrownerconfig };
			uint8_t raw[48];
			int k;

			for (k = 0; k < 2; k++) {
				if (!vals[k])
					continue;
				if (cct_hex_decode_fixed(raw, 48, vals[k], err) != CCT_OK)
					goto fail;
				b64 = cct_b64_encode(raw, 48, 0);
				if (!b64)
					goto nomem;
				strcat(obj, ",");
				strcat(obj, names[k]);
				strcat(obj, "=");
				strcat(obj, b64);
				free(b64);
				b64 = NULL;
			}
		}
		if (p->tdx_debug)
			strcat(obj, ",debug=on");
		add(a, "-object");
		add(a, obj);
		add(a, "-cpu");
		add(a, p->vcpu_type);
	}
	add(a, "-smp");
	addf(a, "%u", p->vcpus);
	add(a, "-m");
	add(a, p->memory);
	add(a, "-bios");
	add(a, p->firmware);
	if (p->kernel) {
		add(a, "-kernel");
		add(a, p->kernel);
		if (p->initrd) {
			add(a, "-initrd");
			add(a, p->initrd);
		}
		if (p->cmdline) {
			add(a, "-append");
			add(a, p->cmdline);
		}
	}
	for (i = 0; i < p->gpu_count; i++) {
		add(a, "-device");
		addf(a, "pcie-root-port,id=rp%zu,bus=pcie.0,chassis=%zu", i, i + 1);
		add(a, "-device");
		addf(a, "vfio-pci,host=%s,bus=rp%zu", p->gpus[i], i);
	}
	if (p->gpu_count) {
		add(a, "-fw_cfg");
		add(a, "name=opt/ovmf/X-PciMmio64Mb,string=262144");
	}
	for (i = 0; i < p->disk_count; i++) {
		const cct_launch_disk *d = &p->disks[i];

		if (!(e = qesc(d->file)))
			goto nomem;
		add(a, "-drive");
		addf(a, "file=%s,if=none,id=disk-%s,format=%s%s", e, d->name, d->format,
		     d->readonly ? ",readonly=on" : "");
		free(e);
		e = NULL;
		add(a, "-device");
		addf(a, "virtio-blk-pci,drive=disk-%s,serial=%s", d->name, d->name);
	}
	for (i = 0; i < p->extra_arg_count; i++)
		add(a, p->extra_args[i]);
	/* one argument per line in qemu.args: refuse control characters (the plan's strings are
	 * checked key by key when it is read; this catches what they are joined with, such as
	 * the plan's directory). The message names the QEMU option and shows the argument with
	 * its control characters escaped. */
	{
		json_t *s;

		json_array_foreach(a, i, s) {
			const char *c = json_string_value(s), *opt;
			char shown[96];
			size_t k, o = 0;

			for (k = 0; c[k] && (unsigned char)c[k] >= 0x20 && c[k] != 0x7f; k++)
				;
			if (!c[k])
				continue;
			for (k = 0; c[k] && o + 5 < sizeof(shown); k++) {
				if ((unsigned char)c[k] < 0x20 || c[k] == 0x7f)
					o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x",
							      (unsigned)(unsigned char)c[k]);
				else
					shown[o++] = c[k];
			}
			shown[o] = 0;
			opt = i ? json_string_value(json_array_get(a, i - 1)) : "";
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					 "launch plan: control character in QEMU argument %zu%s%s%s "
					 "\"%s%s\" (qemu.args holds one argument per line)", i,
					 opt[0] == '-' ? " (the value of " : "",
					 opt[0] == '-' ? opt : "", opt[0] == '-' ? ")" : "", shown,
					 c[k] ? "..." : "");
			goto fail;
		}
	}
	*out = a;
	return CCT_OK;
nomem:
	rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
fail:
	if (rc == CCT_ERROR)
		rc = err ? (err->code ? err->code : CCT_ERROR) : CCT_ERROR;
	free(e);
	free(b64);
	json_decref(a);
	return rc;
}

int cct_launch_qemu_args(json_t **out, const cct_launch_plan *p, cct_err *err)
{
	cct_launch_values v;
	int rc;

	*out = NULL;
	if ((rc = cct_launch__values(&v, p, err)) != CCT_OK)
		return rc;
	rc = args_from(out, p, &v, err);
	cct_launch__values_clear(&v);
	return rc;
}

/* s single-quoted for sh, written to f whole (no length limit: a truncated path would run
 * another program) */
static void shq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static char *launch_sh(const cct_launch_plan *p)
{
	char *buf = NULL;
	const char *src;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("#!/bin/bash\n# Generated by cctrust launch plan from ", f);
	/* the plan's name inside a comment: a control character (a newline in a file name)
	 * would end the comment and start a command */
	for (src = p->path ? p->path : p->name; src && *src; src++)
		fputc((unsigned char)*src < 0x20 || *src == 0x7f ? '?' : *src, f);
	fputs(": starts the confidential VM.\n"
	      "# qemu.args holds one QEMU argument per line; expected.json and policy.json\n"
	      "# hold the reference values this launch produces.\n"
	      "set -euo pipefail\n"
	      "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
	      "CCTRUST=${CCTRUST:-cctrust}\n",
	      f);
	for (i = 0; i < p->gpu_count; i++) {
		fputs("\"$CCTRUST\" host gpu bind ", f);
		shq(f, p->gpus[i]);
		fputs("   # vfio-pci; refuses a shared IOMMU group\n", f);
	}
	fputs("mapfile -t args < \"$here/qemu.args\"\nexec ", f);
	shq(f, p->qemu);
	fputs(" \"${args[@]}\" \"$@\"\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int cct_launch_plan_build(json_t **out, const cct_launch_plan *p, cct_err *err)
{
	cct_launch_values v;
	json_t *args = NULL, *o;
	char *sh;
	int rc;

	*out = NULL;
	if ((rc = cct_launch__values(&v, p, err)) != CCT_OK)
		return rc;
	if ((rc = args_from(&args, p, &v, err)) != CCT_OK)
		goto out;
	if (!(sh = launch_sh(p))) {
		json_decref(args);
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "qemu_args", args);
	json_object_set_new(o, "launch_sh", json_string(sh));
	free(sh);
	json_object_set_new(o, "expected", cct_launch__expected_json(p, &v));
	json_object_set_new(o, "policy", cct_launch__policy_json(p, &v));
	*out = o;
out:
	cct_launch__values_clear(&v);
	return rc;
}
