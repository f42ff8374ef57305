/* SEV-SNP ATTESTATION_REPORT parsing.
 * Offsets: AMD SEV-SNP Firmware ABI specification, Table "ATTESTATION_REPORT Structure";
 * see docs/formats/snp-report.md. Versions: 2 (Milan/Genoa), 3 (adds CPUID fields), 4 (firmware
 * 1.55.31 on Milan, e.g. Google Cloud: the version 3 layout; AMD has published no other field),
 * 5 (ABI 1.58: launch/current mitigation vectors). Every byte no version defines must be
 * zero, so a version 4 report that used one is refused naming its offset. */
#include <stdio.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/snp.h"
#include "core/rd.h"

#define SIG_ALGO_ECDSA_P384_SHA384 1

int cct_snp_report_parse(cct_snp_report *out, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_rd r;
	int rc;

	if (!out || (!buf && len))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	memset(out, 0, sizeof(*out));
	if (len < CCT_SNP_REPORT_SIZE)
		return cct_err_set(err, CCT_ETRUNC, CCT_STAGE_PARSE, len,
				   "SNP report is %zu bytes; a report is %u bytes (truncated at "
				   "offset 0x%zx)",
				   len, CCT_SNP_REPORT_SIZE, len);
	if (len > CCT_SNP_REPORT_SIZE)
		return cct_err_set(err, CCT_ETRAILING, CCT_STAGE_PARSE, CCT_SNP_REPORT_SIZE,
				   "SNP report is %zu bytes; a report is %u bytes (%zu unexpected "
				   "bytes from offset 0x%x)",
				   len, CCT_SNP_REPORT_SIZE, len - CCT_SNP_REPORT_SIZE,
				   CCT_SNP_REPORT_SIZE);
	cct_rd_init(&r, buf, len);

	cct_rd_field(&r, "VERSION");
	out->version = cct_rd_u32le(&r);                    /* 0x000 */
	if (out->version < 2 || out->version > 5)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0x000,
				   "SNP report VERSION (offset 0x000) is %u; supported: 2 to 5",
				   out->version);
	cct_rd_field(&r, "GUEST_SVN");
	out->guest_svn = cct_rd_u32le(&r);                  /* 0x004 */
	cct_rd_field(&r, "POLICY");
	out->policy = cct_rd_u64le(&r);                     /* 0x008 */
	cct_rd_field(&r, "FAMILY_ID");
	cct_rd_copy(&r, out->family_id, 16);                /* 0x010 */
	cct_rd_field(&r, "IMAGE_ID");
	cct_rd_copy(&r, out->image_id, 16);                 /* 0x020 */
	cct_rd_field(&r, "VMPL");
	out->vmpl = cct_rd_u32le(&r);                       /* 0x030 */
	cct_rd_field(&r, "SIGNATURE_ALGO");
	out->signature_algo = cct_rd_u32le(&r);             /* 0x034 */
	cct_rd_field(&r, "CURRENT_TCB");
	out->current_tcb = cct_rd_u64le(&r);                /* 0x038 */
	cct_rd_field(&r, "PLATFORM_INFO");
	out->platform_info = cct_rd_u64le(&r);              /* 0x040 */
	cct_rd_field(&r, "SIGNER_INFO");
	out->flags = cct_rd_u32le(&r);                      /* 0x048 */
	cct_rd_field(&r, "reserved 0x04C");
	cct_rd_mbz(&r, 4);                                  /* 0x04C */
	cct_rd_field(&r, "REPORT_DATA");
	cct_rd_copy(&r, out->report_data, 64);              /* 0x050 */
	cct_rd_field(&r, "MEASUREMENT");
	cct_rd_copy(&r, out->measurement, 48);              /* 0x090 */
	cct_rd_field(&r, "HOST_DATA");
	cct_rd_copy(&r, out->host_data, 32);                /* 0x0C0 */
	cct_rd_field(&r, "ID_KEY_DIGEST");
	cct_rd_copy(&r, out->id_key_digest, 48);            /* 0x0E0 */
	cct_rd_field(&r, "AUTHOR_KEY_DIGEST");
	cct_rd_copy(&r, out->author_key_digest, 48);        /* 0x110 */
	cct_rd_field(&r, "REPORT_ID");
	cct_rd_copy(&r, out->report_id, 32);                /* 0x140 */
	cct_rd_field(&r, "REPORT_ID_MA");
	cct_rd_copy(&r, out->report_id_ma, 32);             /* 0x160 */
	cct_rd_field(&r, "REPORTED_TCB");
	out->reported_tcb = cct_rd_u64le(&r);               /* 0x180 */
	if (out->version >= 3) {
		cct_rd_field(&r, "CPUID_FAM_ID");
		out->cpuid_fam_id = cct_rd_u8(&r);          /* 0x188 */
		out->cpuid_mod_id = cct_rd_u8(&r);          /* 0x189 */
		out->cpuid_step = cct_rd_u8(&r);            /* 0x18A */
		cct_rd_field(&r, "reserved 0x18B");
		cct_rd_mbz(&r, 0x1A0 - 0x18B);              /* 0x18B */
	} else {
		cct_rd_field(&r, "reserved 0x188");
		cct_rd_mbz(&r, 0x1A0 - 0x188);              /* 0x188 */
	}
	cct_rd_field(&r, "CHIP_ID");
	cct_rd_copy(&r, out->chip_id, 64);                  /* 0x1A0 */
	cct_rd_field(&r, "COMMITTED_TCB");
	out->committed_tcb = cct_rd_u64le(&r);              /* 0x1E0 */
	cct_rd_field(&r, "CURRENT_BUILD");
	out->current_build = cct_rd_u8(&r);                 /* 0x1E8 */
	out->current_minor = cct_rd_u8(&r);                 /* 0x1E9 */
	out->current_major = cct_rd_u8(&r);                 /* 0x1EA */
	cct_rd_field(&r, "reserved 0x1EB");
	cct_rd_mbz(&r, 1);                                  /* 0x1EB */
	cct_rd_field(&r, "COMMITTED_BUILD");
	out->committed_build = cct_rd_u8(&r);               /* 0x1EC */
	out->committed_minor = cct_rd_u8(&r);               /* 0x1ED */
	out->committed_major = cct_rd_u8(&r);               /* 0x1EE */
	cct_rd_field(&r, "reserved 0x1EF");
	cct_rd_mbz(&r, 1);                                  /* 0x1EF */
	cct_rd_field(&r, "LAUNCH_TCB");
	out->launch_tcb = cct_rd_u64le(&r);                 /* 0x1F0 */
	if (out->version >= 5) {
		cct_rd_field(&r, "LAUNCH_MIT_VECTOR");
		out->launch_mit_vector = cct_rd_u64le(&r);  /* 0x1F8 */
		cct_rd_field(&r, "CURRENT_MIT_VECTOR");
		out->current_mit_vector = cct_rd_u64le(&r); /* 0x200 */
		cct_rd_field(&r, "reserved 0x208");
		cct_rd_mbz(&r, CCT_SNP_SIGNED_SIZE - 0x208); /* 0x208 */
	} else {
		cct_rd_field(&r, "reserved 0x1F8");
		cct_rd_mbz(&r, CCT_SNP_SIGNED_SIZE - 0x1F8); /* 0x1F8 */
	}
	cct_rd_expect_off(&r, CCT_SNP_SIGNED_SIZE);
	cct_rd_field(&r, "SIGNATURE.R");
	cct_rd_copy(&r, out->sig_r, 72);                    /* 0x2A0 */
	cct_rd_field(&r, "SIGNATURE.S");
	cct_rd_copy(&r, out->sig_s, 72);                    /* 0x2E8 */
	cct_rd_field(&r, "reserved 0x330 (signature)");
	cct_rd_mbz(&r, CCT_SNP_REPORT_SIZE - 0x330);        /* 0x330 */

	rc = cct_rd_done(&r, err, "SNP report");
	if (rc != CCT_OK)
		return rc;
	if (out->signature_algo != SIG_ALGO_ECDSA_P384_SHA384)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 0x034,
				   "SNP report SIGNATURE_ALGO (offset 0x034) is %u; only 1 "
				   "(ECDSA P-384 with SHA-384) is defined",
				   out->signature_algo);
	if (out->flags >> 5)
		return cct_err_set(err, CCT_EMBZ, CCT_STAGE_PARSE, 0x048,
				   "SNP report SIGNER_INFO (offset 0x048) = 0x%x has reserved bits "
				   "5-31 set",
				   out->flags);
	if (cct_snp_report_signing_key(out) != CCT_SNP_KEY_VCEK &&
	    cct_snp_report_signing_key(out) != CCT_SNP_KEY_VLEK &&
	    cct_snp_report_signing_key(out) != CCT_SNP_KEY_NONE)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0x048,
				   "SNP report SIGNING_KEY (offset 0x048 bits 4:2) = %u is reserved",
				   (unsigned)cct_snp_report_signing_key(out));
	if (!((out->policy >> CCT_SNP_POLICY_RESERVED1_BIT) & 1))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0x008,
				   "SNP report POLICY (offset 0x008) = 0x%llx: bit 17 is reserved and "
				   "must be 1",
				   (unsigned long long)out->policy);
	if (out->vmpl > 3 && out->vmpl != 0xffffffffu)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0x030,
				   "SNP report VMPL (offset 0x030) is %u; valid: 0-3", out->vmpl);
	out->signed_bytes = buf;
	out->signed_size = CCT_SNP_SIGNED_SIZE;
	return CCT_OK;
}

cct_snp_signing_key cct_snp_report_signing_key(const cct_snp_report *rep)
{
	return (cct_snp_signing_key)((rep->flags >> 2) & 7);
}

cct_snp_tcb cct_snp_tcb_decode(uint64_t raw, cct_snp_product product)
{
	cct_snp_tcb t;

	memset(&t, 0, sizeof(t));
	t.raw = raw;
	if (product == CCT_SNP_PRODUCT_TURIN) {
		t.fmc = (uint8_t)(raw & 0xff);
		t.bootloader = (uint8_t)(raw >> 8);
		t.tee = (uint8_t)(raw >> 16);
		t.snp = (uint8_t)(raw >> 24);
	} else {
		t.bootloader = (uint8_t)(raw & 0xff);
		t.tee = (uint8_t)(raw >> 8);
		t.snp = (uint8_t)(raw >> 48);
	}
	t.microcode = (uint8_t)(raw >> 56);
	return t;
}

cct_snp_product cct_snp_report_product(const cct_snp_report *rep)
{
	if (rep->version < 3 || rep->cpuid_fam_id == 0)
		return CCT_SNP_PRODUCT_UNKNOWN;
	if (rep->cpuid_fam_id == 0x19) {
		if (rep->cpuid_mod_id <= 0x0f)
			return CCT_SNP_PRODUCT_MILAN;
		if ((rep->cpuid_mod_id >= 0x10 && rep->cpuid_mod_id <= 0x1f) ||
		    (rep->cpuid_mod_id >= 0xa0 && rep->cpuid_mod_id <= 0xaf))
			return CCT_SNP_PRODUCT_GENOA;
	}
	if (rep->cpuid_fam_id == 0x1a && rep->cpuid_mod_id <= 0x1f)
		return CCT_SNP_PRODUCT_TURIN;
	return CCT_SNP_PRODUCT_UNKNOWN;
}

const char *cct_snp_product_name(cct_snp_product p)
{
	switch (p) {
	case CCT_SNP_PRODUCT_MILAN:
		return "Milan";
	case CCT_SNP_PRODUCT_GENOA:
		return "Genoa";
	case CCT_SNP_PRODUCT_TURIN:
		return "Turin";
	default:
		return "unknown";
	}
}

/* GHCB specification: certificate table = entries {GUID (16), offset u32, length u32},
 * terminated by an all-zero entry; offsets are from the start of the table. */
#define CERT_TABLE_MAX_ENTRIES 32

static void format_guid(char out[37], const uint8_t *g, int mixed_endian)
{
	static const int be[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const int le[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	const int *o = mixed_endian ? le : be;

	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[o[0]], g[o[1]], g[o[2]], g[o[3]], g[o[4]], g[o[5]], g[o[6]], g[o[7]], g[o[8]],
		 g[o[9]], g[o[10]], g[o[11]], g[o[12]], g[o[13]], g[o[14]], g[o[15]]);
}

static int known_guid(const char *s)
{
	return !strcmp(s, CCT_SNP_GUID_ARK) || !strcmp(s, CCT_SNP_GUID_ASK) ||
	       !strcmp(s, CCT_SNP_GUID_VCEK) || !strcmp(s, CCT_SNP_GUID_VLEK) ||
	       !strcmp(s, CCT_SNP_GUID_CRL);
}

int cct_snp_cert_table_parse(const uint8_t *buf, size_t len,
			     int (*fn)(void *ctx, const char *guid, const uint8_t *p, size_t n),
			     void *ctx, cct_err *err)
{
	cct_rd r;
	size_t i, header_end;
	struct {
		uint8_t guid[16];
		uint32_t off, len;
	} ent[CERT_TABLE_MAX_ENTRIES];
	size_t count = 0;
	int rc;

	cct_rd_init(&r, buf, len);
	for (;;) {
		uint8_t g[16];
		uint32_t off, n;

		cct_rd_field(&r, "certificate table entry");
		cct_rd_copy(&r, g, 16);
		off = cct_rd_u32le(&r);
		n = cct_rd_u32le(&r);
		if (r.err)
			break;
		if (cct_is_zero(g, 16) && off == 0 && n == 0)
			break;
		if (count == CERT_TABLE_MAX_ENTRIES) {
			cct_rd_fail(&r, CCT_ETOOBIG);
			break;
		}
		memcpy(ent[count].guid, g, 16);
		ent[count].off = off;
		ent[count].len = n;
		count++;
	}
	rc = cct_rd_check(&r, err, "SNP certificate table");
	if (rc != CCT_OK)
		return rc;
	header_end = cct_rd_pos(&r);
	for (i = 0; i < count; i++) {
		char guid[37];
		const uint8_t *g = ent[i].guid;
		cct_rd body;

		if (ent[i].off < header_end)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, i * 24 + 16,
					   "SNP certificate table entry %zu: offset %u points into the "
					   "table header (%zu bytes)",
					   i, ent[i].off, header_end);
		cct_rd_init(&body, buf, len);
		cct_rd_field(&body, "certificate table entry data");
		cct_rd_take(&body, ent[i].off);
		cct_rd_take(&body, ent[i].len);
		if (body.err)
			return cct_err_set(err, CCT_ETRUNC, CCT_STAGE_PARSE, i * 24 + 16,
					   "SNP certificate table entry %zu: bytes %u..%llu are outside "
					   "the %zu-byte table",
					   i, ent[i].off,
					   (unsigned long long)ent[i].off + ent[i].len, len);
		/* GUIDs are stored in RFC 4122 byte order (what KVM/QEMU, go-sev-guest and virtee
		 * write); accept the mixed-endian UEFI form too when only it names a known GUID. */
		format_guid(guid, g, 0);
		if (!known_guid(guid)) {
			char le[37];

			format_guid(le, g, 1);
			if (known_guid(le))
				memcpy(guid, le, sizeof(le));
		}
		rc = fn(ctx, guid, buf + ent[i].off, ent[i].len);
		if (rc != CCT_OK)
			return rc;
	}
	return CCT_OK;
}
