/* cctrust measure: semi-private helpers shared by the measure sources (not installed). */
#ifndef CCT_MEASURE_INT_H
#define CCT_MEASURE_INT_H

#include <stdint.h>

#include "core/rd.h"

#define CCT_MEASURE_GUID_OVMF_TABLE_FOOTER "96b582de-1fb2-45f7-baea-a366c55a082d"
#define CCT_MEASURE_GUID_SEV_HASH_TABLE_RV "7255371f-3a3b-4b04-927b-1da6efa8d454"
#define CCT_MEASURE_GUID_SEV_ES_RESET_BLOCK "00f771de-1a7e-4fcb-890e-68c77e2fb44e"
#define CCT_MEASURE_GUID_SEV_METADATA "dc886566-984a-4798-a75e-5585a7bf67cc"
#define CCT_MEASURE_GUID_SVSM_INFO "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd"
#define CCT_MEASURE_GUID_TDX_METADATA "e47a6535-984a-4798-865e-4685a7bf8ec2"

/* GUID text to its 16-byte little-endian (EFI) layout. */
int cct_measure__guid_le(uint8_t out[16], const char *s);
/* Reader over the whole image, positioned at absolute offset off. */
void cct_measure__rd_at(cct_rd *r, const uint8_t *p, size_t n, size_t off);

#endif
