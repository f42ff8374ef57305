/* OVMF footer GUID table and SEV metadata (edk2 OvmfPkg/ResetVector, sev-snp-measure ovmf.py).
 *
 * The last 32 bytes of an OVMF image are the reset vector area; the 18 bytes before them are
 * the footer entry {u16 size, GUID}. The table grows backwards from there: each entry ends
 * with {u16 size, GUID} and its data precedes it. Every read goes through cct_rd at an
 * absolute offset computed from the end; no pointer arithmetic on the image. */
#include <string.h>

#include "cctrust/measure.h"
#include "core/rd.h"
#include "measure_int.h"

#define FOOTER_TAIL 32u       /* bytes after the footer entry */
#define ENTRY_HEADER 18u      /* u16 size + GUID */
#define SEV_META_HEADER 16u
#define SEV_META_DESC 12u

int cct_measure__guid_le(uint8_t out[16], const char *s)
{
	/* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx: the first three groups are little-endian */
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t be[16];
	size_t i, k = 0;

	for (i = 0; s[i] && k < 32; i++) {
		int v;
		char c = s[i];

		if (c == '-')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return CCT_EINVAL;
		if (k % 2 == 0)
			be[k / 2] = (uint8_t)(v << 4);
		else
			be[k / 2] |= (uint8_t)v;
		k++;
	}
	if (k != 32 || s[i] != '\0')
		return CCT_EINVAL;
	for (i = 0; i < 16; i++)
		out[i] = be[order[i]];
	return CCT_OK;
}

/* Reader r positioned at absolute offset off of the image (ETRUNC if beyond it). */
void cct_measure__rd_at(cct_rd *r, const uint8_t *p, size_t n, size_t off)
{
	cct_rd_init(r, p, n);
	cct_rd_field(r, "offset");
	(void)cct_rd_take(r, off);
}

const cct_slice *cct_measure_ovmf_table_find(const cct_measure_ovmf *o, const char *guid)
{
	uint8_t g[16];
	size_t i;

	if (!o || cct_measure__guid_le(g, guid) != CCT_OK)
		return NULL;
	for (i = 0; i < o->table_count; i++)
		if (memcmp(o->table[i].guid, g, 16) == 0)
			return &o->table[i].data;
	return NULL;
}

static int parse_table(cct_measure_ovmf *o, const uint8_t *p, size_t n, cct_err *err)
{
	int rc = CCT_ERROR;
	uint8_t footer_guid[16];
	const uint8_t *g;
	size_t footer_off, table_start, end;
	uint16_t footer_size;
	cct_rd r;

	if (n < FOOTER_TAIL + ENTRY_HEADER)
		return CCT_OK; /* too small for a footer: no table (sev-snp-measure: empty) */
	footer_off = n - FOOTER_TAIL - ENTRY_HEADER;
	cct_measure__rd_at(&r, p, n, footer_off);
	cct_rd_field(&r, "ovmf_footer.size");
	footer_size = cct_rd_u16le(&r);
	cct_rd_field(&r, "ovmf_footer.guid");
	g = cct_rd_take(&r, 16);
	if ((rc = cct_rd_check(&r, err, "OVMF footer")) != CCT_OK)
		goto out;
	(void)cct_measure__guid_le(footer_guid, CCT_MEASURE_GUID_OVMF_TABLE_FOOTER);
	if (memcmp(g, footer_guid, 16) != 0 || footer_size < ENTRY_HEADER) {
		rc = CCT_OK; /* no footer table */
		goto out;
	}
	if ((size_t)(footer_size - ENTRY_HEADER) > footer_off) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, footer_off,
				 "OVMF footer table size %u exceeds the image (%zu bytes before it)",
				 (unsigned)footer_size, footer_off);
		goto out;
	}
	table_start = footer_off - (size_t)(footer_size - ENTRY_HEADER);
	end = footer_off;
	while (end - table_start >= ENTRY_HEADER) {
		uint16_t esize;
		cct_measure_table_entry *e;

		cct_measure__rd_at(&r, p, n, end - ENTRY_HEADER);
		cct_rd_field(&r, "ovmf_table.entry.size");
		esize = cct_rd_u16le(&r);
		cct_rd_field(&r, "ovmf_table.entry.guid");
		g = cct_rd_take(&r, 16);
		if ((rc = cct_rd_check(&r, err, "OVMF footer table entry")) != CCT_OK)
			goto out;
		if (esize < ENTRY_HEADER || esize > end - table_start) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, end - ENTRY_HEADER,
					 "OVMF table entry size %u invalid (must be 18..%zu)",
					 (unsigned)esize, end - table_start);
			goto out;
		}
		if (o->table_count >= CCT_MEASURE_MAX_TABLE_ENTRIES) {
			rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, end - ENTRY_HEADER,
					 "OVMF table has more than %d entries",
					 CCT_MEASURE_MAX_TABLE_ENTRIES);
			goto out;
		}
		e = &o->table[o->table_count++];
		memcpy(e->guid, g, 16);
		cct_measure__rd_at(&r, p, n, end - esize);
		e->data.size = (size_t)esize - ENTRY_HEADER;
		e->data.p = cct_rd_take(&r, e->data.size);
		if ((rc = cct_rd_check(&r, err, "OVMF table entry data")) != CCT_OK)
			goto out;
		end -= esize;
	}
	rc = CCT_OK;
out:
	return rc;
}

static int parse_sev_metadata(cct_measure_ovmf *o, const uint8_t *p, size_t n, cct_err *err)
{
	int rc = CCT_ERROR;
	const cct_slice *e = cct_measure_ovmf_table_find(o, CCT_MEASURE_GUID_SEV_METADATA);
	uint32_t from_end, size, version, count, i;
	size_t start;
	const uint8_t *sig;
	cct_rd r, items;

	if (!e)
		return CCT_OK;
	cct_rd_init(&r, e->p, e->size);
	r.base = (size_t)(e->p - p);
	cct_rd_field(&r, "sev_metadata_offset");
	from_end = cct_rd_u32le(&r);
	if ((rc = cct_rd_check(&r, err, "OVMF SEV metadata table entry")) != CCT_OK)
		goto out;
	if (from_end > n || from_end < SEV_META_HEADER) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, r.base,
				 "SEV metadata offset %u from the end is outside the %zu-byte image",
				 from_end, n);
		goto out;
	}
	start = n - from_end;
	cct_measure__rd_at(&r, p, n, start);
	cct_rd_field(&r, "sev_metadata.signature");
	sig = cct_rd_take(&r, 4);
	cct_rd_field(&r, "sev_metadata.size");
	size = cct_rd_u32le(&r);
	cct_rd_field(&r, "sev_metadata.version");
	version = cct_rd_u32le(&r);
	cct_rd_field(&r, "sev_metadata.num_items");
	count = cct_rd_u32le(&r);
	if ((rc = cct_rd_check(&r, err, "OVMF SEV metadata header")) != CCT_OK)
		goto out;
	if (memcmp(sig, "ASEV", 4) != 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, start,
				 "wrong SEV metadata signature (expected \"ASEV\")");
		goto out;
	}
	if (version != 1) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, start + 8,
				 "SEV metadata version %u (expected 1)", version);
		goto out;
	}
	if (count > CCT_MEASURE_MAX_SECTIONS) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, start + 12,
				 "SEV metadata has %u sections (cap %d)", count,
				 CCT_MEASURE_MAX_SECTIONS);
		goto out;
	}
	if (size < SEV_META_HEADER) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, start + 4,
				 "SEV metadata size %u smaller than its header", size);
		goto out;
	}
	cct_rd_sub(&r, size - SEV_META_HEADER, &items);
	for (i = 0; i < count; i++) {
		cct_measure_sev_section *s = &o->sections[i];

		cct_rd_field(&items, "sev_metadata.section.gpa");
		s->gpa = cct_rd_u32le(&items);
		cct_rd_field(&items, "sev_metadata.section.size");
		s->size = cct_rd_u32le(&items);
		cct_rd_field(&items, "sev_metadata.section.type");
		s->type = cct_rd_u32le(&items);
	}
	if ((rc = cct_rd_check(&items, err, "OVMF SEV metadata sections")) != CCT_OK)
		goto out;
	if ((rc = cct_rd_check(&r, err, "OVMF SEV metadata")) != CCT_OK)
		goto out;
	o->section_count = count;
	rc = CCT_OK;
out:
	return rc;
}

int cct_measure_ovmf_parse(cct_measure_ovmf *out, const uint8_t *image, size_t n, cct_err *err)
{
	int rc = CCT_ERROR;

	if (!out || (!image && n)) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no OVMF image");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->image.p = image;
	out->image.size = n;
	if ((rc = parse_table(out, image, n, err)) != CCT_OK)
		goto out;
	if ((rc = parse_sev_metadata(out, image, n, err)) != CCT_OK)
		goto out;
	rc = CCT_OK;
out:
	return rc;
}
