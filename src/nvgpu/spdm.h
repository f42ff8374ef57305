/* SPDM 1.1 GET_MEASUREMENTS request + MEASUREMENTS response as NVIDIA GPUs and NVSwitches
 * return them (semi-private). Offsets and field order: DMTF DSP0274 1.1.x, tables
 * "GET_MEASUREMENTS request message" and "Successful MEASUREMENTS response message";
 * NVIDIA opaque data: a sequence of {u16 type, u16 size, value} records (see docs/gpu.md).
 * The parser never allocates: every pointer in the result is borrowed from the input. */
#ifndef CCT_NVGPU_SPDM_H
#define CCT_NVGPU_SPDM_H

#include <stddef.h>
#include <stdint.h>

#include "cctrust/errors.h"

#define CCT_SPDM_REQUEST_SIZE 37       /* version, code, param1, param2, nonce[32], slot */
#define CCT_SPDM_NONCE_SIZE 32
#define CCT_SPDM_SIG_SIZE 96           /* ECDSA P-384 raw r||s */
#define CCT_SPDM_MAX_BLOCKS 255        /* NumberOfBlocks is one byte */
#define CCT_SPDM_MAX_OPAQUE_FIELDS 64  /* opaque TLV records kept */
#define CCT_SPDM_MAX_EVIDENCE (64u * 1024u)
#define CCT_SPDM_VERSION_11 0x11
#define CCT_SPDM_GET_MEASUREMENTS 0xE0
#define CCT_SPDM_MEASUREMENTS 0x60
#define CCT_SPDM_DMTF_SPEC 0x01        /* MeasurementSpecification bit 0: DMTF */

/* NVIDIA opaque data field types (GPU numbering; NVSwitch reuses 22..26 differently). */
enum {
	CCT_NVOPQ_CERT_ISSUER_NAME = 1,
	CCT_NVOPQ_CERT_AUTHORITY_KEY_ID = 2,
	CCT_NVOPQ_DRIVER_VERSION = 3,
	CCT_NVOPQ_GPU_INFO = 4,
	CCT_NVOPQ_SKU = 5,
	CCT_NVOPQ_VBIOS_VERSION = 6,
	CCT_NVOPQ_MANUFACTURER_ID = 7,
	CCT_NVOPQ_TAMPER_DETECTION = 8,
	CCT_NVOPQ_SMC = 9,
	CCT_NVOPQ_VPR = 10,
	CCT_NVOPQ_NVDEC0_STATUS = 11,
	CCT_NVOPQ_MSRSCNT = 12,
	CCT_NVOPQ_CPRINFO = 13,
	CCT_NVOPQ_BOARD_ID = 14,
	CCT_NVOPQ_CHIP_SKU = 15,
	CCT_NVOPQ_CHIP_SKU_MOD = 16,
	CCT_NVOPQ_PROJECT = 17,
	CCT_NVOPQ_PROJECT_SKU = 18,
	CCT_NVOPQ_PROJECT_SKU_MOD = 19,
	CCT_NVOPQ_FWID = 20,
	CCT_NVOPQ_PROTECTED_PCIE_STATUS = 21,
	CCT_NVOPQ_SWITCH_PDI = 22,
	CCT_NVOPQ_FLOORSWEPT_PORTS = 23,
	CCT_NVOPQ_POSITION_ID = 24,
	CCT_NVOPQ_LOCK_SWITCH_STATUS = 25,
	CCT_NVOPQ_SWITCH_GPU_PDIS = 26,
	CCT_NVOPQ_GPU_LINK_CONN = 32,
	CCT_NVOPQ_SYS_ENABLE_STATUS = 33,
	CCT_NVOPQ_OPAQUE_DATA_VERSION = 34,
	CCT_NVOPQ_CHIP_INFO = 35,
	CCT_NVOPQ_FEATURE_FLAG = 36,
	CCT_NVOPQ_INVALID = 255
};

typedef struct cct_spdm_block {
	uint8_t index;          /* 1-based measurement index */
	uint8_t spec;           /* MeasurementSpecification */
	uint8_t value_type;     /* DMTFSpecMeasurementValueType */
	uint16_t value_size;
	const uint8_t *value;   /* borrowed */
	size_t offset;          /* absolute offset of the block in the evidence */
} cct_spdm_block;

typedef struct cct_spdm_opaque_field {
	uint16_t type;
	uint16_t size;
	const uint8_t *value;   /* borrowed */
	size_t offset;          /* absolute offset of the value */
} cct_spdm_opaque_field;

typedef struct cct_spdm_evidence {
	/* request (offset 0) */
	uint8_t req_version, req_code, req_param1, req_param2, req_slot;
	const uint8_t *req_nonce;          /* 32 bytes at offset 4 */
	/* response (offset 37) */
	uint8_t version, code, param1, param2;
	uint8_t block_count;
	uint32_t record_size;
	cct_spdm_block blocks[CCT_SPDM_MAX_BLOCKS];
	const uint8_t *resp_nonce;         /* 32 bytes */
	uint16_t opaque_size;
	const uint8_t *opaque;
	size_t opaque_offset;
	cct_spdm_opaque_field fields[CCT_SPDM_MAX_OPAQUE_FIELDS];
	size_t field_count;
	const uint8_t *sig;                /* 96 bytes: r || s, big-endian */
	size_t sig_offset;
	const uint8_t *signed_bytes;       /* request || response without signature */
	size_t signed_size;
	size_t padding_size;               /* zero bytes after the signature (not signed) */
	size_t size;                       /* whole evidence, padding included */
} cct_spdm_evidence;

/* Parse request + response. Zero bytes after the signature are accepted as padding
 * (padding_size); a non-zero byte there is ETRAILING at its offset.
 * Errors (stage PARSE): ETRUNC, ETRAILING, EFORMAT (wrong codes,
 * block index/size/spec), EUNSUPPORTED (SPDM version), ETOOBIG (caps). */
int cct_spdm_evidence_parse(cct_spdm_evidence *out, const uint8_t *buf, size_t len, cct_err *err);
/* First opaque field of that type, or NULL. */
const cct_spdm_opaque_field *cct_spdm_opaque_find(const cct_spdm_evidence *ev, uint16_t type);
/* Block with that 1-based index, or NULL. */
const cct_spdm_block *cct_spdm_block_find(const cct_spdm_evidence *ev, unsigned index);
/* Stable name of an opaque field ("DRIVER_VERSION"); switch=1 uses NVSwitch names. */
const char *cct_spdm_opaque_name(uint16_t type, int is_switch);
/* Opaque field value as text without trailing NULs (printable ASCII only, else ""). */
void cct_spdm_opaque_text(const cct_spdm_opaque_field *f, char *buf, size_t size);

#endif
