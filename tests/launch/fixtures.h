/* Synthetic launch inputs shared by the launch tests: a PE32+ EFI application shaped like a
 * bzImage (setup header, protocol 2.15) and a TDVF image (footer table, TDVF descriptor, two
 * sections). Header-only helpers (static) so each test program stays one file plus this. */
#ifndef CCT_TEST_LAUNCH_FIXTURES_H
#define CCT_TEST_LAUNCH_FIXTURES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/core.h"

static inline void p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void p32(uint8_t *p, uint32_t v) { p16(p, (uint16_t)v); p16(p + 2, (uint16_t)(v >> 16)); }
static inline uint32_t g32(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24); }

/* A PE32+ EFI application that is also a bzImage-shaped setup header (protocol 2.15):
 * headers 0x400 bytes, .text at 0x400 and .data at 0x600 (0x200 each), then `extra` bytes. */
static inline uint8_t *make_pe(size_t *n, size_t extra)
{
	size_t size = 0x800 + extra, i;
	uint8_t *f = calloc(1, size), *o = NULL, *s;

	assert_non_null(f);
	f[0] = 'M';
	f[1] = 'Z';
	p32(f + 0x3c, 0x80);
	memcpy(f + 0x80, "PE\0\0", 4);
	p16(f + 0x84, 0x8664);
	p16(f + 0x86, 2);
	p16(f + 0x94, 0xf0);
	p16(f + 0x96, 0x0206);
	o = f + 0x98;
	p16(o, 0x20b);
	p32(o + 4, 0x200);
	p32(o + 16, 0x1000);
	p32(o + 20, 0x1000);
	p32(o + 24, 0x100000);
	p32(o + 32, 0x1000);
	p32(o + 36, 0x200);
	p32(o + 56, 0x3000);
	p32(o + 60, 0x400);       /* SizeOfHeaders */
	p32(o + 64, 0x12345678);  /* CheckSum: not hashed */
	p16(o + 68, 10);
	p32(o + 108, 16);         /* NumberOfRvaAndSizes */
	s = o + 0xf0;
	memcpy(s, ".text", 5);
	p32(s + 8, 0x200); p32(s + 12, 0x1000); p32(s + 16, 0x200); p32(s + 20, 0x400);
	p32(s + 36, 0x60000020);
	s += 40;
	memcpy(s, ".data", 5);
	p32(s + 8, 0x200); p32(s + 12, 0x2000); p32(s + 16, 0x200); p32(s + 20, 0x600);
	p32(s + 36, 0xc0000040);
	f[0x1f1] = 1;
	memcpy(f + 0x202, "HdrS", 4);
	p16(f + 0x206, 0x20f);
	f[0x211] = 1;
	p32(f + 0x22c, 0x7fffffff);
	for (i = 0x400; i < size; i++)
		f[i] = (uint8_t)(i * 13 + 7);
	*n = size;
	return f;
}

/* ---- TDX: the synthetic TDVF of tests/support/tdvf_fixture.h ---- */
#include "tdvf_fixture.h"

#endif
