/* A synthetic TDVF image shared by the measure and launch tests: footer table, TDVF descriptor,
 * two sections. Header-only (static inline). */
#ifndef CCT_TEST_TDVF_FIXTURE_H
#define CCT_TEST_TDVF_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/core.h"

static inline void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void put_guid(uint8_t *p, const char *g)
{
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t be[16];
	char hex[33];
	int i, k = 0;

	for (i = 0; g[i]; i++)
		if (g[i] != '-')
			hex[k++] = g[i];
	hex[k] = 0;
	assert_int_equal(cct_hex_decode_fixed(be, 16, hex, NULL), CCT_OK);
	for (i = 0; i < 16; i++)
		p[i] = be[order[i]];
}

#define TDVF_SIZE (3 * 4096)
/* layout: page 0 = BFV data (extended), page 1 = descriptor, page 2 = footer page */
static inline void make_tdvf(uint8_t *img)
{
	uint8_t *d = img + 4096, *t;
	size_t i;

	for (i = 0; i < 4096; i++)
		img[i] = (uint8_t)(i * 7 + 3);
	memset(img + 4096, 0, 2 * 4096);
	memcpy(d, "TDVF", 4);
	put32(d + 4, 16 + 2 * 32);
	put32(d + 8, 1);
	put32(d + 12, 2);
	/* section 0: BFV, 1 page of data at offset 0 -> GPA 0xfffff000, MR.EXTEND */
	put32(d + 16, 0); put32(d + 20, 4096); put64(d + 24, 0xfffff000ull); put64(d + 32, 4096);
	put32(d + 40, 0); put32(d + 44, 1);
	/* section 1: TEMP_MEM, 2 pages at 0x800000, no data */
	put32(d + 48, 0); put32(d + 52, 0); put64(d + 56, 0x800000ull); put64(d + 64, 8192);
	put32(d + 72, 3); put32(d + 76, 0);
	/* footer table ending 32 bytes before the end: one entry (TDX metadata offset) + footer */
	t = img + TDVF_SIZE - 32 - 18;           /* footer entry */
	put_guid(t + 2, "96b582de-1fb2-45f7-baea-a366c55a082d");
	t[0] = 18 + 22; t[1] = 0;                 /* footer size covers the 22-byte entry */
	t -= 22;                                  /* entry: u32 offset, u16 size, GUID */
	put32(t, TDVF_SIZE - 4096);               /* descriptor offset from the end */
	t[4] = 22; t[5] = 0;
	put_guid(t + 6, "e47a6535-984a-4798-865e-4685a7bf8ec2");
}

#endif
