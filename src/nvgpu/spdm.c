/* SPDM 1.1 GET_MEASUREMENTS request + MEASUREMENTS response parser (see spdm.h).
 * Offsets: DMTF DSP0274 1.1, section 10.11 (GET_MEASUREMENTS / MEASUREMENTS); the
 * measurement block and DMTF measurement value layout: tables 45/46 of the same section.
 * Layout table with sizes: docs/gpu.md "Evidence format". */
#include <stdio.h>
#include <string.h>

#include "nvgpu/spdm.h"
#include "core/rd.h"

static void parse_request(cct_rd *r, cct_spdm_evidence *out)
{
	cct_rd req;

	cct_rd_field(r, "GET_MEASUREMENTS request");
	cct_rd_sub(r, CCT_SPDM_REQUEST_SIZE, &req);
	cct_rd_field(&req, "request SPDMVersion");
	out->req_version = cct_rd_u8(&req);                 /* 0x00 */
	if (!req.err && out->req_version != CCT_SPDM_VERSION_11)
		cct_rd_fail_at(&req, CCT_EUNSUPPORTED, req.base);
	cct_rd_field(&req, "request RequestResponseCode");
	out->req_code = cct_rd_u8(&req);                    /* 0x01 */
	if (!req.err && out->req_code != CCT_SPDM_GET_MEASUREMENTS)
		cct_rd_fail_at(&req, CCT_EFORMAT, req.base + 1);
	cct_rd_field(&req, "request Param1");
	out->req_param1 = cct_rd_u8(&req);                  /* 0x02: bit 0 = signature requested */
	if (!req.err && !(out->req_param1 & 1))
		cct_rd_fail_at(&req, CCT_EFORMAT, req.base + 2);
	cct_rd_field(&req, "request Param2");
	out->req_param2 = cct_rd_u8(&req);                  /* 0x03: 0xFF = all measurements */
	cct_rd_field(&req, "request Nonce");
	out->req_nonce = cct_rd_take(&req, CCT_SPDM_NONCE_SIZE); /* 0x04 */
	cct_rd_field(&req, "request SlotIDParam");
	out->req_slot = cct_rd_u8(&req);                    /* 0x24 */
	cct_rd_expect_off(&req, CCT_SPDM_REQUEST_SIZE);
	cct_rd_join(r, &req);
}

static void parse_block(cct_rd *rec, cct_spdm_evidence *out, size_t i, uint8_t seen[32])
{
	cct_spdm_block *b = &out->blocks[i];
	cct_rd val;
	uint16_t msize;

	b->offset = cct_rd_pos(rec);
	cct_rd_field(rec, "measurement block Index");
	b->index = cct_rd_u8(rec);
	if (!rec->err && (b->index == 0 || (seen[b->index / 8] >> (b->index % 8)) & 1))
		cct_rd_fail_at(rec, CCT_EFORMAT, b->offset); /* index 0 is not a block; no repeats */
	seen[b->index / 8] |= (uint8_t)(1u << (b->index % 8));
	cct_rd_field(rec, "measurement block MeasurementSpecification");
	b->spec = cct_rd_u8(rec);
	if (!rec->err && b->spec != CCT_SPDM_DMTF_SPEC)
		cct_rd_fail_at(rec, CCT_EUNSUPPORTED, b->offset + 1);
	cct_rd_field(rec, "measurement block MeasurementSize");
	msize = cct_rd_u16le(rec);
	cct_rd_sub(rec, msize, &val);
	cct_rd_field(&val, "DMTFSpecMeasurementValueType");
	b->value_type = cct_rd_u8(&val);
	cct_rd_field(&val, "DMTFSpecMeasurementValueSize");
	b->value_size = cct_rd_u16le(&val);
	cct_rd_field(&val, "DMTFSpecMeasurementValue");
	b->value = cct_rd_take(&val, b->value_size);
	cct_rd_join(rec, &val);
}

static void parse_opaque(cct_rd *r, cct_spdm_evidence *out)
{
	cct_rd op;

	out->opaque_offset = cct_rd_pos(r);
	cct_rd_field(r, "OpaqueData");
	cct_rd_sub(r, out->opaque_size, &op);
	out->opaque = op.p;
	while (!op.err && cct_rd_left(&op) > 0) {
		cct_spdm_opaque_field *f;

		if (out->field_count >= CCT_SPDM_MAX_OPAQUE_FIELDS) {
			cct_rd_fail(&op, CCT_ETOOBIG);
			break;
		}
		f = &out->fields[out->field_count];
		cct_rd_field(&op, "opaque field DataType");
		f->type = cct_rd_u16le(&op);
		cct_rd_field(&op, "opaque field DataSize");
		f->size = cct_rd_u16le(&op);
		f->offset = cct_rd_pos(&op);
		cct_rd_field(&op, "opaque field value");
		f->value = cct_rd_take(&op, f->size);
		if (!op.err)
			out->field_count++;
	}
	cct_rd_join(r, &op);
}

int cct_spdm_evidence_parse(cct_spdm_evidence *out, const uint8_t *buf, size_t len, cct_err *err)
{
	cct_rd r, rec;
	size_t i;
	uint8_t seen[32];
	int rc;

	if (!out || (!buf && len))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_PARSE, 0, "bad argument");
	memset(out, 0, sizeof(*out));
	if (len > CCT_SPDM_MAX_EVIDENCE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, 0,
				   "SPDM evidence is %zu bytes (cap %u)", len,
				   CCT_SPDM_MAX_EVIDENCE);
	memset(seen, 0, sizeof(seen));
	cct_rd_init(&r, buf, len);
	parse_request(&r, out);

	/* MEASUREMENTS response, offsets relative to its start (absolute = +37) */
	cct_rd_field(&r, "response SPDMVersion");
	out->version = cct_rd_u8(&r);                        /* +0 */
	if (!r.err && out->version != CCT_SPDM_VERSION_11)
		cct_rd_fail_at(&r, CCT_EUNSUPPORTED, CCT_SPDM_REQUEST_SIZE);
	cct_rd_field(&r, "response RequestResponseCode");
	out->code = cct_rd_u8(&r);                           /* +1 */
	if (!r.err && out->code != CCT_SPDM_MEASUREMENTS)
		cct_rd_fail_at(&r, CCT_EFORMAT, CCT_SPDM_REQUEST_SIZE + 1);
	cct_rd_field(&r, "response Param1");
	out->param1 = cct_rd_u8(&r);                         /* +2 */
	cct_rd_field(&r, "response Param2");
	out->param2 = cct_rd_u8(&r);                         /* +3 */
	cct_rd_field(&r, "NumberOfBlocks");
	out->block_count = cct_rd_u8(&r);                    /* +4 */
	cct_rd_field(&r, "MeasurementRecordLength");
	out->record_size = cct_rd_u24le(&r);                 /* +5 */
	cct_rd_field(&r, "MeasurementRecord");
	cct_rd_sub(&r, out->record_size, &rec);              /* +8 */
	for (i = 0; i < out->block_count && !rec.err; i++)
		parse_block(&rec, out, i, seen);
	cct_rd_join(&r, &rec);
	cct_rd_field(&r, "response Nonce");
	out->resp_nonce = cct_rd_take(&r, CCT_SPDM_NONCE_SIZE); /* +8+L1 */
	cct_rd_field(&r, "OpaqueLength");
	out->opaque_size = cct_rd_u16le(&r);                 /* +40+L1 */
	parse_opaque(&r, out);                               /* +42+L1 */
	out->sig_offset = cct_rd_pos(&r);
	cct_rd_field(&r, "Signature");
	out->sig = cct_rd_take(&r, CCT_SPDM_SIG_SIZE);       /* +42+L1+L2 */
	/* Some driver stacks return the evidence in a larger zero-filled buffer: zero bytes after
	 * the signature are padding (the signature does not cover them), anything else is not. */
	if (!r.err) {
		const uint8_t *pad = r.p + r.off;
		size_t left = cct_rd_left(&r), k;

		/* the error reads "unexpected bytes at offset X after <this>" */
		cct_rd_field(&r, "Signature (only zero padding may follow it)");
		for (k = 0; k < left && !pad[k]; k++)
			;
		if (k < left) {
			cct_rd_fail_at(&r, CCT_ETRAILING, cct_rd_pos(&r) + k);
		} else {
			out->padding_size = left;
			cct_rd_take(&r, left);
		}
	}
	rc = cct_rd_done(&r, err, "SPDM evidence");
	if (rc != CCT_OK) {
		const cct_spdm_evidence zero = { 0 };

		*out = zero;
		return rc;
	}
	out->signed_bytes = buf;
	out->signed_size = out->sig_offset;
	out->size = len;
	return CCT_OK;
}

const cct_spdm_opaque_field *cct_spdm_opaque_find(const cct_spdm_evidence *ev, uint16_t type)
{
	size_t i;

	for (i = 0; i < ev->field_count; i++)
		if (ev->fields[i].type == type)
			return &ev->fields[i];
	return NULL;
}

const cct_spdm_block *cct_spdm_block_find(const cct_spdm_evidence *ev, unsigned index)
{
	size_t i;

	for (i = 0; i < ev->block_count; i++)
		if (ev->blocks[i].index == index)
			return &ev->blocks[i];
	return NULL;
}

const char *cct_spdm_opaque_name(uint16_t type, int is_switch)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ 1, "CERT_ISSUER_NAME" }, { 2, "CERT_AUTHORITY_KEY_IDENTIFIER" },
		{ 3, "DRIVER_VERSION" }, { 4, "GPU_INFO" }, { 5, "SKU" },
		{ 6, "VBIOS_VERSION" }, { 7, "MANUFACTURER_ID" }, { 8, "TAMPER_DETECTION" },
		{ 9, "SMC" }, { 10, "VPR" }, { 11, "NVDEC0_STATUS" }, { 12, "MSRSCNT" },
		{ 13, "CPRINFO" }, { 14, "BOARD_ID" }, { 15, "CHIP_SKU" }, { 16, "CHIP_SKU_MOD" },
		{ 17, "PROJECT" }, { 18, "PROJECT_SKU" }, { 19, "PROJECT_SKU_MOD" },
		{ 20, "FWID" }, { 21, "PROTECTED_PCIE_STATUS" }, { 22, "SWITCH_PDI" },
		{ 23, "FLOORSWEPT_PORTS" }, { 24, "POSITION_ID" }, { 25, "LOCK_SWITCH_STATUS" },
		{ 32, "GPU_LINK_CONN" }, { 33, "SYS_ENABLE_STATUS" },
		{ 34, "OPAQUE_DATA_VERSION" }, { 35, "CHIP_INFO" }, { 36, "FEATURE_FLAG" },
		{ 255, "INVALID" },
	};
	size_t i;

	if (is_switch) {
		switch (type) {
		case 22: return "DEVICE_PDI";
		case 23: return "DISABLED_PORTS";
		case 24: return "SWITCH_POSITION_ID";
		case 25: return "SWITCH_LOCK_STATUS";
		case 26: return "SWITCH_GPU_PDIS";
		default: break;
		}
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	return NULL;
}

void cct_spdm_opaque_text(const cct_spdm_opaque_field *f, char *buf, size_t size)
{
	size_t n = 0, i;

	buf[0] = '\0';
	if (!f || size == 0)
		return;
	while (n < f->size && f->value[n] != 0)
		n++;
	for (i = n; i < f->size; i++)
		if (f->value[i] != 0)
			return; /* bytes after the terminating NUL: not a string */
	for (i = 0; i < n; i++)
		if (f->value[i] < 0x20 || f->value[i] > 0x7e)
			return;
	if (n >= size)
		n = size - 1;
	memcpy(buf, f->value, n);
	buf[n] = '\0';
}
