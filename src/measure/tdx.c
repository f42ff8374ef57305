/* Intel TDX: TDVF metadata (TDX Virtual Firmware Design Guide, section 11) and the MRTD the
 * TDX module accumulates while the VMM builds the TD (TDX module spec, TDH.MEM.PAGE.ADD and
 * TDH.MR.EXTEND: each adds a 128-byte record to a SHA-384; MR.EXTEND also the 256 data bytes). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cctrust/measure.h"
#include "core/rd.h"
#include "measure_int.h"

#define TDVF_DESC_HEADER 16u
#define TDVF_SECTION_SIZE 32u
#define MR_EXTEND_CHUNK 256u

int cct_measure_tdvf_parse(cct_measure_tdvf *out, const uint8_t *image, size_t n, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_measure_ovmf *o = NULL;
	const cct_slice *e;
	const uint8_t *sig;
	uint32_t from_end, length, version, count, i;
	size_t start;
	cct_rd r, secs;

	if (!out || (!image && n)) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no TDVF image");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->image.p = image;
	out->image.size = n;
	if (!(o = calloc(1, sizeof(*o)))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_PARSE, 0, "out of memory");
		goto out;
	}
	if ((rc = cct_measure_ovmf_parse(o, image, n, err)) != CCT_OK)
		goto out;
	if (!(e = cct_measure_ovmf_table_find(o, CCT_MEASURE_GUID_TDX_METADATA))) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "no TDX metadata entry (GUID %s) in the firmware footer table: "
				 "not a TDVF image", CCT_MEASURE_GUID_TDX_METADATA);
		goto out;
	}
	cct_rd_init(&r, e->p, e->size);
	r.base = (size_t)(e->p - image);
	cct_rd_field(&r, "tdx_metadata_offset");
	from_end = cct_rd_u32le(&r);
	if ((rc = cct_rd_check(&r, err, "TDX metadata table entry")) != CCT_OK)
		goto out;
	if (from_end > n || from_end < TDVF_DESC_HEADER) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, r.base,
				 "TDVF metadata offset %u from the end is outside the %zu-byte image",
				 from_end, n);
		goto out;
	}
	start = n - from_end;
	cct_measure__rd_at(&r, image, n, start);
	cct_rd_field(&r, "tdvf.signature");
	sig = cct_rd_take(&r, 4);
	cct_rd_field(&r, "tdvf.length");
	length = cct_rd_u32le(&r);
	cct_rd_field(&r, "tdvf.version");
	version = cct_rd_u32le(&r);
	cct_rd_field(&r, "tdvf.number_of_section_entries");
	count = cct_rd_u32le(&r);
	if ((rc = cct_rd_check(&r, err, "TDVF metadata descriptor")) != CCT_OK)
		goto out;
	if (memcmp(sig, "TDVF", 4) != 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, start,
				 "TDVF descriptor signature is not \"TDVF\"");
		goto out;
	}
	if (version != 1) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, start + 8,
				 "TDVF metadata version %u (expected 1)", version);
		goto out;
	}
	if (count > CCT_MEASURE_MAX_SECTIONS) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, start + 12,
				 "TDVF metadata has %u sections (cap %d)", count,
				 CCT_MEASURE_MAX_SECTIONS);
		goto out;
	}
	if (length < TDVF_DESC_HEADER + (uint64_t)count * TDVF_SECTION_SIZE) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, start + 4,
				 "TDVF metadata length %u too small for %u sections", length, count);
		goto out;
	}
	cct_rd_sub(&r, (size_t)count * TDVF_SECTION_SIZE, &secs);
	for (i = 0; i < count; i++) {
		cct_measure_tdvf_section *s = &out->sections[i];
		size_t at = cct_rd_pos(&secs);

		cct_rd_field(&secs, "tdvf.section.data_offset");
		s->data_offset = cct_rd_u32le(&secs);
		cct_rd_field(&secs, "tdvf.section.raw_data_size");
		s->raw_size = cct_rd_u32le(&secs);
		cct_rd_field(&secs, "tdvf.section.memory_address");
		s->gpa = cct_rd_u64le(&secs);
		cct_rd_field(&secs, "tdvf.section.memory_data_size");
		s->mem_size = cct_rd_u64le(&secs);
		cct_rd_field(&secs, "tdvf.section.type");
		s->type = cct_rd_u32le(&secs);
		cct_rd_field(&secs, "tdvf.section.attributes");
		s->attributes = cct_rd_u32le(&secs);
		if (secs.err)
			break;
		if (s->gpa % CCT_MEASURE_PAGE_SIZE || s->mem_size % CCT_MEASURE_PAGE_SIZE ||
		    s->mem_size < s->raw_size || s->mem_size > CCT_MEASURE_MAX_SECTION_SIZE ||
		    s->gpa > UINT64_MAX - s->mem_size) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, at,
					 "TDVF section %u: memory 0x%llx+0x%llx not page aligned, "
					 "smaller than its raw data (0x%x) or too large", i,
					 (unsigned long long)s->gpa, (unsigned long long)s->mem_size,
					 s->raw_size);
			goto out;
		}
		if ((s->attributes & CCT_MEASURE_TDVF_ATTR_MR_EXTEND) &&
		    ((uint64_t)s->data_offset + s->mem_size > n)) {
			/* MR.EXTEND hashes mem_size bytes of image data starting at data_offset */
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, at,
					 "TDVF section %u: extended data 0x%x+0x%llx beyond the "
					 "%zu-byte image", i, s->data_offset,
					 (unsigned long long)s->mem_size, n);
			goto out;
		}
		if ((uint64_t)s->data_offset + s->raw_size > n) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, at,
					 "TDVF section %u: raw data 0x%x+0x%x beyond the image", i,
					 s->data_offset, s->raw_size);
			goto out;
		}
	}
	if ((rc = cct_rd_check(&secs, err, "TDVF sections")) != CCT_OK)
		goto out;
	out->section_count = count;
	rc = CCT_OK;
out:
	free(o);
	return rc;
}

static int page_add(EVP_MD_CTX *h, uint64_t gpa)
{
	uint8_t rec[128];
	int i;

	memset(rec, 0, sizeof(rec));
	memcpy(rec, "MEM.PAGE.ADD", 12);
	for (i = 0; i < 8; i++)
		rec[16 + i] = (uint8_t)(gpa >> (8 * i));
	return EVP_DigestUpdate(h, rec, sizeof(rec));
}

static int mr_extend_page(EVP_MD_CTX *h, const cct_measure_tdvf_section *s, const uint8_t *img,
			  uint64_t page)
{
	uint8_t rec[128];
	uint64_t k, gpa, off;
	int i;

	for (k = 0; k < CCT_MEASURE_PAGE_SIZE / MR_EXTEND_CHUNK; k++) {
		gpa = s->gpa + page * CCT_MEASURE_PAGE_SIZE + k * MR_EXTEND_CHUNK;
		off = s->data_offset + page * CCT_MEASURE_PAGE_SIZE + k * MR_EXTEND_CHUNK;
		memset(rec, 0, sizeof(rec));
		memcpy(rec, "MR.EXTEND", 9);
		for (i = 0; i < 8; i++)
			rec[16 + i] = (uint8_t)(gpa >> (8 * i));
		if (!EVP_DigestUpdate(h, rec, sizeof(rec)) ||
		    !EVP_DigestUpdate(h, img + off, MR_EXTEND_CHUNK))
			return 0;
	}
	return 1;
}

int cct_measure_tdx_mrtd(uint8_t out[48], const cct_measure_tdvf *t, int two_pass, cct_err *err)
{
	int rc = CCT_ERROR, ok = 1;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	size_t i;
	uint64_t p, pages;

	if (!h || !EVP_DigestInit_ex(h, EVP_sha384(), NULL)) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_MEASUREMENT, 0, "SHA-384 unavailable");
		goto out;
	}
	for (i = 0; i < t->section_count && ok; i++) {
		const cct_measure_tdvf_section *s = &t->sections[i];
		int add = !(s->attributes & CCT_MEASURE_TDVF_ATTR_PAGE_AUG);
		int ext = (s->attributes & CCT_MEASURE_TDVF_ATTR_MR_EXTEND) != 0;

		pages = s->mem_size / CCT_MEASURE_PAGE_SIZE;
		if (two_pass) {
			for (p = 0; p < pages && ok && add; p++)
				ok = page_add(h, s->gpa + p * CCT_MEASURE_PAGE_SIZE);
			for (p = 0; p < pages && ok && ext; p++)
				ok = mr_extend_page(h, s, t->image.p, p);
		} else {
			for (p = 0; p < pages && ok; p++) {
				if (add)
					ok = page_add(h, s->gpa + p * CCT_MEASURE_PAGE_SIZE);
				if (ok && ext)
					ok = mr_extend_page(h, s, t->image.p, p);
			}
		}
	}
	if (!ok || !EVP_DigestFinal_ex(h, out, NULL)) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_MEASUREMENT, 0, "SHA-384 failed");
		goto out;
	}
	rc = CCT_OK;
out:
	EVP_MD_CTX_free(h);
	return rc;
}
