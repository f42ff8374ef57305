/* SEV / SEV-ES / SEV-SNP launch digests, computed the way virtee/sev-snp-measure does.
 *
 * SNP: the launch digest is a chain over PAGE_INFO records (SNP firmware ABI, PAGE_INFO:
 * previous digest, contents digest, length 0x70, page type, is_imi, vmpl perms, GPA):
 * OVMF pages (normal), the OVMF SEV metadata sections (zero / secrets / CPUID / kernel hashes /
 * SVSM CAA pages), then one VMSA page per vCPU. SEV and SEV-ES: SHA-256 over the OVMF image,
 * the SEV hashes table and (SEV-ES) the VMSA pages. */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "cctrust/measure.h"
#include "core/rd.h"
#include "measure_int.h"

#define FOUR_GB 0x100000000ull
#define VMSA_GPA 0xFFFFFFFFF000ull /* VMSA pages are recorded at GPA (u64)-1 masked to 51:12 */
#define PAGE_INFO_LEN 0x70
#define BSP_EIP 0xfffffff0u

enum { PAGE_NORMAL = 1, PAGE_VMSA = 2, PAGE_ZERO = 3, PAGE_UNMEASURED = 4, PAGE_SECRETS = 5,
       PAGE_CPUID = 6 };

typedef struct gctx {
	uint8_t ld[48];
} gctx;

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void gctx_update(gctx *g, uint8_t type, uint64_t gpa, const uint8_t contents[48])
{
	uint8_t info[PAGE_INFO_LEN];

	memset(info, 0, sizeof(info));
	memcpy(info, g->ld, 48);              /* 0x00 DIGEST_CUR */
	memcpy(info + 48, contents, 48);      /* 0x30 CONTENTS */
	put16(info + 96, PAGE_INFO_LEN);      /* 0x60 LENGTH */
	info[98] = type;                      /* 0x62 PAGE_TYPE */
	/* 0x63 IMI_PAGE, 0x64..0x66 VMPL3..1 perms, 0x67 reserved: all zero */
	put64(info + 104, gpa);               /* 0x68 GPA */
	SHA384(info, sizeof(info), g->ld);
}

static void gctx_normal_pages(gctx *g, uint64_t gpa, const uint8_t *p, size_t n)
{
	uint8_t d[48];
	size_t off;

	for (off = 0; off < n; off += CCT_MEASURE_PAGE_SIZE) {
		SHA384(p + off, CCT_MEASURE_PAGE_SIZE, d);
		gctx_update(g, PAGE_NORMAL, gpa + off, d);
	}
}

static void gctx_typed_pages(gctx *g, uint8_t type, uint64_t gpa, uint64_t n)
{
	static const uint8_t zeros[48];
	uint64_t off;

	for (off = 0; off < n; off += CCT_MEASURE_PAGE_SIZE)
		gctx_update(g, type, gpa + off, zeros);
}

uint32_t cct_measure_cpu_sig(uint32_t family, uint32_t model, uint32_t stepping)
{
	uint32_t fam_low, fam_high;

	if (family > 0xf) {
		fam_low = 0xf;
		fam_high = (family - 0xf) & 0xff;
	} else {
		fam_low = family;
		fam_high = 0;
	}
	return fam_high << 20 | ((model >> 4) & 0xf) << 16 | fam_low << 8 | (model & 0xf) << 4 |
	       (stepping & 0xf);
}

int cct_measure_vcpu_sig(uint32_t *out, const char *name)
{
	/* QEMU builtin_x86_defs AMD EPYC models: family, model, stepping */
	static const struct { const char *name; uint32_t f, m, s; } types[] = {
		{ "EPYC", 23, 1, 2 }, { "EPYC-v1", 23, 1, 2 }, { "EPYC-v2", 23, 1, 2 },
		{ "EPYC-IBPB", 23, 1, 2 }, { "EPYC-v3", 23, 1, 2 }, { "EPYC-v4", 23, 1, 2 },
		{ "EPYC-Rome", 23, 49, 0 }, { "EPYC-Rome-v1", 23, 49, 0 },
		{ "EPYC-Rome-v2", 23, 49, 0 }, { "EPYC-Rome-v3", 23, 49, 0 },
		{ "EPYC-Milan", 25, 1, 1 }, { "EPYC-Milan-v1", 25, 1, 1 },
		{ "EPYC-Milan-v2", 25, 1, 1 }, { "EPYC-Genoa", 25, 17, 0 },
		{ "EPYC-Genoa-v1", 25, 17, 0 }, { "EPYC-Turin", 26, 0, 0 },
	};
	size_t i;

	for (i = 0; name && i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(types[i].name, name) == 0) {
			*out = cct_measure_cpu_sig(types[i].f, types[i].m, types[i].s);
			return CCT_OK;
		}
	}
	return CCT_EINVAL;
}

/* ---- VMSA (AMD APM vol. 2, table B-4, SEV-ES save area) ---- */
static void vmsa_seg(uint8_t *p, uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
	put16(p, sel);
	put16(p + 2, attr);
	put32(p + 4, limit);
	put64(p + 8, base);
}

enum { V_ES = 0x00, V_CS = 0x10, V_SS = 0x20, V_DS = 0x30, V_FS = 0x40, V_GS = 0x50,
       V_GDTR = 0x60, V_LDTR = 0x70, V_IDTR = 0x80, V_TR = 0x90, V_EFER = 0xd0,
       V_CR4 = 0x148, V_CR0 = 0x158, V_DR7 = 0x160, V_DR6 = 0x168, V_RFLAGS = 0x170,
       V_RIP = 0x178, V_G_PAT = 0x268, V_RDX = 0x310, V_SEV_FEATURES = 0x3b0, V_XCR0 = 0x3e8,
       V_MXCSR = 0x408, V_X87_FCW = 0x410 };

static void vmsa_build(uint8_t *p, uint32_t eip, const cct_measure_snp_opts *o, int bsp)
{
	uint16_t cs_flags = 0x9b, ss_flags = 0x93, tr_flags = 0x8b, fcw = 0;
	uint64_t rdx = o->vcpu_sig, g_pat = 0x7040600070406ull, features;
	uint32_t mxcsr = 0;

	memset(p, 0, CCT_MEASURE_VMSA_SIZE);
	features = o->mode == CCT_MEASURE_MODE_SEVES ? 0 : o->guest_features;
	switch (o->vmm) {
	case CCT_MEASURE_VMM_QEMU:
		mxcsr = 0x1f80;
		fcw = 0x37f;
		break;
	case CCT_MEASURE_VMM_EC2:
		cs_flags = eip == BSP_EIP ? 0x9a : 0x9b;
		ss_flags = 0x92;
		tr_flags = 0x83;
		/* sev-snp-measure: EC2 v2 has rdx 0x600; --vmm-version 1 applies only to the BSP */
		rdx = (o->vmm_version == 1 && bsp) ? 0 : 0x600;
		break;
	case CCT_MEASURE_VMM_GCE:
		g_pat = 0x00070106; /* the GCE hypervisor overwrites the default PAT */
		rdx = 0x600;
		break;
	}
	vmsa_seg(p + V_ES, 0, 0x93, 0xffff, 0);
	vmsa_seg(p + V_CS, 0xf000, cs_flags, 0xffff, eip & 0xffff0000u);
	vmsa_seg(p + V_SS, 0, ss_flags, 0xffff, 0);
	vmsa_seg(p + V_DS, 0, 0x93, 0xffff, 0);
	vmsa_seg(p + V_FS, 0, 0x93, 0xffff, 0);
	vmsa_seg(p + V_GS, 0, 0x93, 0xffff, 0);
	vmsa_seg(p + V_GDTR, 0, 0, 0xffff, 0);
	vmsa_seg(p + V_IDTR, 0, 0, 0xffff, 0);
	vmsa_seg(p + V_LDTR, 0, 0x82, 0xffff, 0);
	vmsa_seg(p + V_TR, 0, tr_flags, 0xffff, 0);
	put64(p + V_EFER, 0x1000);   /* KVM sets EFER.SVME */
	put64(p + V_CR4, 0x40);      /* KVM sets CR4.MCE */
	put64(p + V_CR0, 0x10);
	put64(p + V_DR7, 0x400);
	put64(p + V_DR6, 0xffff0ff0);
	put64(p + V_RFLAGS, 0x2);
	put64(p + V_RIP, eip & 0xffff);
	put64(p + V_G_PAT, g_pat);
	put64(p + V_RDX, rdx);
	put64(p + V_SEV_FEATURES, features);
	put64(p + V_XCR0, 0x1);
	put32(p + V_MXCSR, mxcsr);
	put16(p + V_X87_FCW, fcw);
}

/* VMSA of a vCPU started by an SVSM (coconut-svsm QEMU): 32-bit protected mode at the SVSM
 * entry. sev-snp-measure sets MXCSR but not x87 FCW here (its keyword is misnamed), and the
 * digest follows that. */
static void vmsa_build_svsm(uint8_t *p, uint32_t eip, uint32_t sig)
{
	memset(p, 0, CCT_MEASURE_VMSA_SIZE);
	vmsa_seg(p + V_ES, 16, 0xc93, 0xffffffff, 0);
	vmsa_seg(p + V_CS, 8, 0xc9b, 0xffffffff, 0);
	vmsa_seg(p + V_SS, 16, 0xc93, 0xffffffff, 0);
	vmsa_seg(p + V_DS, 16, 0xc93, 0xffffffff, 0);
	vmsa_seg(p + V_FS, 16, 0xc93, 0xffffffff, 0);
	vmsa_seg(p + V_GS, 0, 0x93, 0xffff, 0);
	vmsa_seg(p + V_GDTR, 0, 0, 0xffff, 0);
	vmsa_seg(p + V_IDTR, 0, 0, 0xffff, 0);
	vmsa_seg(p + V_LDTR, 0, 0x82, 0xffff, 0);
	vmsa_seg(p + V_TR, 0, 0x8b, 0xffff, 0);
	put64(p + V_EFER, 0x1000);
	put64(p + V_CR4, 0x40);
	put64(p + V_CR0, 0x11);
	put64(p + V_DR7, 0x400);
	put64(p + V_DR6, 0xffff0ff0);
	put64(p + V_RFLAGS, 0x2);
	put64(p + V_RIP, eip);
	put64(p + V_G_PAT, 0x7040600070406ull);
	put64(p + V_RDX, sig);
	put64(p + V_SEV_FEATURES, 0x1);
	put64(p + V_XCR0, 0x1);
	put32(p + V_MXCSR, 0x1f80);
}

/* First u32 of a table entry (the GPA / EIP / offset those entries carry). */
static int table_u32(uint32_t *out, const cct_measure_ovmf *o, const char *guid,
		     const char *what, cct_err *err)
{
	const cct_slice *e = cct_measure_ovmf_table_find(o, guid);
	cct_rd r;

	*out = 0; /* defined on every path, also when the entry is missing */
	if (!e)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "can't find the %s entry (GUID %s) in the firmware table", what,
				   guid);
	cct_rd_init(&r, e->p, e->size);
	r.base = (size_t)(e->p - o->image.p);
	cct_rd_field(&r, what);
	*out = cct_rd_u32le(&r);
	return cct_rd_check(&r, err, "firmware table entry");
}

static int hashes_supported(const cct_measure_ovmf *o)
{
	uint32_t gpa = 0;

	if (!cct_measure_ovmf_table_find(o, CCT_MEASURE_GUID_SEV_HASH_TABLE_RV))
		return 0;
	if (table_u32(&gpa, o, CCT_MEASURE_GUID_SEV_HASH_TABLE_RV, "SEV hashes table", NULL))
		return 0;
	return gpa != 0;
}

/* The SEV hashes table exactly as QEMU builds it: header GUID + length, then cmdline, initrd,
 * kernel entries {GUID, u16 len 50, SHA-256}, padded to 16 bytes (168 -> 176 bytes). */
#define HASHES_TABLE_LEN (16 + 2 + 3 * (16 + 2 + 32))
#define HASHES_TABLE_PADDED ((HASHES_TABLE_LEN + 15) & ~15)

static void hashes_table(uint8_t out[HASHES_TABLE_PADDED], const cct_measure_snp_opts *o)
{
	static const char *const guids[3] = {
		"97d02dd8-bd20-4c94-aa78-e7714d36ab2a", /* cmdline */
		"44baf731-3a2f-4bd7-9af1-41e29169781d", /* initrd */
		"4de79437-abd2-427f-b835-d5b172d2045b", /* kernel */
	};
	uint8_t *e;
	int i;

	memset(out, 0, HASHES_TABLE_PADDED);
	(void)cct_measure__guid_le(out, "9438d606-4f22-4cc9-b479-a793d411fd21");
	put16(out + 16, HASHES_TABLE_LEN);
	for (i = 0; i < 3; i++) {
		e = out + 18 + i * 50;
		(void)cct_measure__guid_le(e, guids[i]);
		put16(e + 16, 50);
	}
	/* cmdline: the string with its NUL (an empty or absent one is a single NUL) */
	if (o->append && o->append[0])
		SHA256((const uint8_t *)o->append, strlen(o->append) + 1, out + 18 + 18);
	else
		SHA256((const uint8_t *)"", 1, out + 18 + 18);
	SHA256(o->initrd ? o->initrd : (const uint8_t *)"", o->initrd ? o->initrd_size : 0,
	       out + 18 + 50 + 18);
	SHA256(o->kernel ? o->kernel : (const uint8_t *)"", o->kernel ? o->kernel_size : 0,
	       out + 18 + 100 + 18);
}

static int check_pages(size_t n, const char *what, cct_err *err)
{
	if (n % CCT_MEASURE_PAGE_SIZE != 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "%s size %zu is not a multiple of 4096", what, n);
	return CCT_OK;
}

static int snp_metadata_pages(gctx *g, const cct_measure_ovmf *o, const cct_measure_snp_opts *opt,
			      int with_hashes, cct_measure_vmm vmm, cct_err *err)
{
	int rc = CCT_ERROR, has_kernel_section = 0;
	size_t i;

	for (i = 0; i < o->section_count; i++) {
		const cct_measure_sev_section *s = &o->sections[i];

		if (s->size > CCT_MEASURE_MAX_SECTION_SIZE) {
			rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
					 "SEV metadata section %zu is %u bytes (cap %u)", i,
					 s->size, CCT_MEASURE_MAX_SECTION_SIZE);
			goto out;
		}
		switch (s->type) {
		case CCT_MEASURE_SECTION_SNP_SEC_MEM:
			if ((rc = check_pages(s->size, "SNP_SEC_MEM section", err)) != CCT_OK)
				goto out;
			gctx_typed_pages(g, vmm == CCT_MEASURE_VMM_GCE ? PAGE_UNMEASURED : PAGE_ZERO,
					 s->gpa, s->size);
			break;
		case CCT_MEASURE_SECTION_SNP_SECRETS:
			gctx_typed_pages(g, PAGE_SECRETS, s->gpa, CCT_MEASURE_PAGE_SIZE);
			break;
		case CCT_MEASURE_SECTION_CPUID:
			if (vmm != CCT_MEASURE_VMM_EC2)
				gctx_typed_pages(g, PAGE_CPUID, s->gpa, CCT_MEASURE_PAGE_SIZE);
			break;
		case CCT_MEASURE_SECTION_SNP_KERNEL_HASHES:
			has_kernel_section = 1;
			if (with_hashes) {
				uint8_t page[CCT_MEASURE_PAGE_SIZE];
				uint32_t gpa;

				if ((rc = table_u32(&gpa, o, CCT_MEASURE_GUID_SEV_HASH_TABLE_RV,
						    "SEV hashes table", err)) != CCT_OK)
					goto out;
				if (s->size != CCT_MEASURE_PAGE_SIZE ||
				    (gpa & 0xfff) + HASHES_TABLE_PADDED > CCT_MEASURE_PAGE_SIZE) {
					rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
							 "SNP_KERNEL_HASHES section of %u bytes with the "
							 "table at page offset 0x%x does not hold one "
							 "hashes page", s->size, gpa & 0xfff);
					goto out;
				}
				memset(page, 0, sizeof(page));
				hashes_table(page + (gpa & 0xfff), opt);
				gctx_normal_pages(g, s->gpa, page, sizeof(page));
			} else {
				if ((rc = check_pages(s->size, "SNP_KERNEL_HASHES section", err)))
					goto out;
				gctx_typed_pages(g, PAGE_ZERO, s->gpa, s->size);
			}
			break;
		case CCT_MEASURE_SECTION_SVSM_CAA:
			if ((rc = check_pages(s->size, "SVSM_CAA section", err)) != CCT_OK)
				goto out;
			gctx_typed_pages(g, PAGE_ZERO, s->gpa, s->size);
			break;
		default:
			rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					 "unknown OVMF metadata section type %u (section %zu)",
					 s->type, i);
			goto out;
		}
	}
	if (vmm == CCT_MEASURE_VMM_EC2) /* EC2 measures the CPUID pages last */
		for (i = 0; i < o->section_count; i++)
			if (o->sections[i].type == CCT_MEASURE_SECTION_CPUID)
				gctx_typed_pages(g, PAGE_CPUID, o->sections[i].gpa,
						 CCT_MEASURE_PAGE_SIZE);
	if (with_hashes && !has_kernel_section) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "Kernel specified but OVMF metadata doesn't include "
				 "SNP_KERNEL_HASHES section");
		goto out;
	}
	rc = CCT_OK;
out:
	return rc;
}

int cct_measure_snp_ovmf_hash(uint8_t out[48], const uint8_t *ovmf, size_t n, cct_err *err)
{
	gctx g;
	cct_measure_ovmf *fw;
	int rc;

	if (n == 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "OVMF image is empty");
	if ((rc = check_pages(n, "OVMF image", err)) != CCT_OK)
		return rc;
	if (n > CCT_MEASURE_MAX_FIRMWARE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "OVMF image too large");
	/* firmware, not any page-sized file: its footer table must parse, as for a launch
	 * digest (sev-snp-measure reads the same table before it hashes the pages) */
	if (!(fw = calloc(1, sizeof(*fw))))
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	rc = cct_measure_ovmf_parse(fw, ovmf, n, err);
	free(fw);
	if (rc != CCT_OK)
		return rc;
	memset(&g, 0, sizeof(g));
	gctx_normal_pages(&g, FOUR_GB - n, ovmf, n);
	memcpy(out, g.ld, 48);
	return CCT_OK;
}

static int ap_eip_of(uint32_t *eip, const cct_measure_ovmf *o, uint32_t vcpus, cct_err *err)
{
	int rc = table_u32(eip, o, CCT_MEASURE_GUID_SEV_ES_RESET_BLOCK, "SEV-ES reset block", err);

	if (rc != CCT_OK)
		return rc;
	if (*eip == 0 && vcpus > 1)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "the firmware's SEV-ES reset EIP is 0: no AP start address for "
				   "%u vCPUs", vcpus);
	return CCT_OK;
}

int cct_measure_vmsa_page(uint8_t out[CCT_MEASURE_VMSA_SIZE], const cct_measure_snp_opts *o,
			  uint32_t i, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_measure_ovmf *fw = NULL, *svsm = NULL;
	uint32_t eip = 0;

	fw = calloc(1, sizeof(*fw));
	svsm = calloc(1, sizeof(*svsm));
	if (!fw || !svsm) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		goto out;
	}
	if (o->mode == CCT_MEASURE_MODE_SNP_SVSM) {
		if ((rc = cct_measure_ovmf_parse(svsm, o->svsm, o->svsm_size, err)) != CCT_OK)
			goto out;
		if ((rc = table_u32(&eip, svsm, CCT_MEASURE_GUID_SVSM_INFO, "SVSM info", err)))
			goto out;
		eip += (uint32_t)(FOUR_GB - o->ovmf_size - o->ovmf_vars_size - o->svsm_size);
		vmsa_build_svsm(out, eip, o->vcpu_sig);
	} else {
		if ((rc = cct_measure_ovmf_parse(fw, o->ovmf, o->ovmf_size, err)) != CCT_OK)
			goto out;
		if ((rc = ap_eip_of(&eip, fw, i + 1, err)) != CCT_OK)
			goto out;
		vmsa_build(out, i == 0 ? BSP_EIP : eip, o, i == 0);
	}
	rc = CCT_OK;
out:
	free(fw);
	free(svsm);
	return rc;
}

static int digest_snp(uint8_t out[48], const cct_measure_ovmf *fw, const cct_measure_snp_opts *o,
		      cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t bsp[CCT_MEASURE_VMSA_SIZE], ap[CCT_MEASURE_VMSA_SIZE], d[48];
	uint32_t eip, i;
	gctx g;

	memset(&g, 0, sizeof(g));
	if (o->ovmf_hash) {
		memcpy(g.ld, o->ovmf_hash, 48);
	} else {
		if ((rc = check_pages(fw->image.size, "OVMF image", err)) != CCT_OK)
			goto out;
		gctx_normal_pages(&g, FOUR_GB - fw->image.size, fw->image.p, fw->image.size);
	}
	if ((rc = snp_metadata_pages(&g, fw, o, o->has_kernel, o->vmm, err)) != CCT_OK)
		goto out;
	if ((rc = ap_eip_of(&eip, fw, o->vcpus, err)) != CCT_OK)
		goto out;
	vmsa_build(bsp, BSP_EIP, o, 1);
	vmsa_build(ap, eip, o, 0);
	for (i = 0; i < o->vcpus; i++) {
		SHA384(i == 0 ? bsp : ap, CCT_MEASURE_VMSA_SIZE, d);
		gctx_update(&g, PAGE_VMSA, VMSA_GPA, d);
	}
	memcpy(out, g.ld, 48);
	rc = CCT_OK;
out:
	return rc;
}

int cct_measure_snp_vcpu_scan(uint8_t (*out)[CCT_MEASURE_SNP_DIGEST_SIZE], uint32_t max_vcpus,
			      const cct_measure_snp_opts *o, cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t bsp[CCT_MEASURE_VMSA_SIZE], ap[CCT_MEASURE_VMSA_SIZE], d_bsp[48], d_ap[48];
	uint32_t eip, i;
	cct_measure_ovmf *fw = NULL;
	gctx g;

	if (!out || !o || !o->ovmf || !o->ovmf_hash || o->mode != CCT_MEASURE_MODE_SNP ||
	    max_vcpus == 0 || max_vcpus > CCT_MEASURE_MAX_VCPUS)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "vCPU scan: SNP mode, an OVMF hash and 1..%d vCPUs needed",
				   CCT_MEASURE_MAX_VCPUS);
	if (!(fw = calloc(1, sizeof(*fw))))
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	if ((rc = cct_measure_ovmf_parse(fw, o->ovmf, o->ovmf_size, err)) != CCT_OK)
		goto out;
	memset(&g, 0, sizeof(g));
	memcpy(g.ld, o->ovmf_hash, 48);
	if ((rc = snp_metadata_pages(&g, fw, o, o->has_kernel, o->vmm, err)) != CCT_OK)
		goto out;
	if ((rc = ap_eip_of(&eip, fw, max_vcpus, err)) != CCT_OK)
		goto out;
	vmsa_build(bsp, BSP_EIP, o, 1);
	vmsa_build(ap, eip, o, 0);
	SHA384(bsp, sizeof(bsp), d_bsp);
	SHA384(ap, sizeof(ap), d_ap);
	for (i = 0; i < max_vcpus; i++) {
		gctx_update(&g, PAGE_VMSA, VMSA_GPA, i == 0 ? d_bsp : d_ap);
		memcpy(out[i], g.ld, 48);
	}
	rc = CCT_OK;
out:
	free(fw);
	return rc;
}

static int digest_svsm(uint8_t out[48], const cct_measure_ovmf *fw, cct_measure_ovmf *svsm,
		       const cct_measure_snp_opts *o, cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t page[CCT_MEASURE_VMSA_SIZE], d[48];
	uint64_t ovmf_gpa = FOUR_GB - fw->image.size, svsm_gpa;
	uint32_t eip, i;
	gctx g;

	if ((rc = check_pages(fw->image.size, "OVMF image", err)) != CCT_OK)
		goto out;
	if ((rc = check_pages(o->svsm_size, "SVSM image", err)) != CCT_OK)
		goto out;
	if (o->ovmf_vars_size > ovmf_gpa || o->svsm_size > ovmf_gpa - o->ovmf_vars_size ||
	    o->ovmf_vars_size % CCT_MEASURE_PAGE_SIZE) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "OVMF vars size %llu does not fit below the firmware",
				 (unsigned long long)o->ovmf_vars_size);
		goto out;
	}
	svsm_gpa = ovmf_gpa - o->ovmf_vars_size - o->svsm_size;
	if ((rc = cct_measure_ovmf_parse(svsm, o->svsm, o->svsm_size, err)) != CCT_OK)
		goto out;
	if ((rc = table_u32(&eip, svsm, CCT_MEASURE_GUID_SVSM_INFO, "SVSM info", err)) != CCT_OK)
		goto out;
	memset(&g, 0, sizeof(g));
	gctx_normal_pages(&g, ovmf_gpa, fw->image.p, fw->image.size);
	gctx_normal_pages(&g, svsm_gpa, o->svsm, o->svsm_size);
	if ((rc = snp_metadata_pages(&g, svsm, o, 0, CCT_MEASURE_VMM_QEMU, err)) != CCT_OK)
		goto out;
	vmsa_build_svsm(page, (uint32_t)(eip + svsm_gpa), o->vcpu_sig);
	SHA384(page, sizeof(page), d);
	for (i = 0; i < o->vcpus; i++)
		gctx_update(&g, PAGE_VMSA, VMSA_GPA, d);
	memcpy(out, g.ld, 48);
	rc = CCT_OK;
out:
	return rc;
}

static int digest_sev(uint8_t out[32], const cct_measure_ovmf *fw, const cct_measure_snp_opts *o,
		      cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t table[HASHES_TABLE_PADDED], bsp[CCT_MEASURE_VMSA_SIZE], ap[CCT_MEASURE_VMSA_SIZE];
	uint32_t eip = 0, i;
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, fw->image.p, fw->image.size);
	if (o->has_kernel) {
		if (!hashes_supported(fw)) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "Kernel specified but OVMF doesn't support "
					 "kernel/initrd/cmdline measurement");
			goto out;
		}
		hashes_table(table, o);
		SHA256_Update(&c, table, sizeof(table));
	}
	if (o->mode == CCT_MEASURE_MODE_SEVES) {
		if ((rc = ap_eip_of(&eip, fw, o->vcpus, err)) != CCT_OK)
			goto out;
		vmsa_build(bsp, BSP_EIP, o, 1);
		vmsa_build(ap, eip, o, 0);
		for (i = 0; i < o->vcpus; i++)
			SHA256_Update(&c, i == 0 ? bsp : ap, CCT_MEASURE_VMSA_SIZE);
	}
	SHA256_Final(out, &c);
	rc = CCT_OK;
out:
	return rc;
}

int cct_measure_launch_digest(uint8_t out[48], size_t *out_len, const cct_measure_snp_opts *o,
			      cct_err *err)
{
	int rc = CCT_ERROR;
	cct_measure_ovmf *fw = NULL, *svsm = NULL;

	if (!out || !out_len || !o || !o->ovmf) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "missing launch inputs");
		goto out;
	}
	if (o->ovmf_size > CCT_MEASURE_MAX_FIRMWARE || o->svsm_size > CCT_MEASURE_MAX_FIRMWARE) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				 "firmware image larger than %u bytes", CCT_MEASURE_MAX_FIRMWARE);
		goto out;
	}
	if (o->vcpus > CCT_MEASURE_MAX_VCPUS) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "%u vCPUs (cap %d)", o->vcpus,
				 CCT_MEASURE_MAX_VCPUS);
		goto out;
	}
	if (o->ovmf_hash && o->mode != CCT_MEASURE_MODE_SNP) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "a precomputed OVMF hash only works with SNP mode");
		goto out;
	}
	fw = calloc(1, sizeof(*fw));
	svsm = calloc(1, sizeof(*svsm));
	if (!fw || !svsm) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		goto out;
	}
	if ((rc = cct_measure_ovmf_parse(fw, o->ovmf, o->ovmf_size, err)) != CCT_OK)
		goto out;
	switch (o->mode) {
	case CCT_MEASURE_MODE_SNP:
		rc = digest_snp(out, fw, o, err);
		*out_len = 48;
		break;
	case CCT_MEASURE_MODE_SNP_SVSM:
		if (o->vmm != CCT_MEASURE_VMM_QEMU || o->has_kernel || !o->svsm) {
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					 "SVSM mode needs an SVSM image, QEMU, and no kernel");
			goto out;
		}
		rc = digest_svsm(out, fw, svsm, o, err);
		*out_len = 48;
		break;
	case CCT_MEASURE_MODE_SEV:
	case CCT_MEASURE_MODE_SEVES:
		rc = digest_sev(out, fw, o, err);
		*out_len = 32;
		break;
	default:
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "unknown mode");
		break;
	}
out:
	free(fw);
	free(svsm);
	return rc;
}
