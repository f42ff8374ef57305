/* Bounded reader: see rd.h. */
#include <string.h>

#include "core/rd.h"

void cct_rd_init(cct_rd *r, const uint8_t *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = p ? len : 0;
}

int cct_rd_fail_at(cct_rd *r, int code, size_t abs_off)
{
	if (!r->err) {
		r->err = code;
		r->err_off = abs_off;
		r->err_field = r->field;
	}
	return r->err;
}

int cct_rd_fail(cct_rd *r, int code)
{
	return cct_rd_fail_at(r, code, r->base + r->off);
}

size_t cct_rd_pos(const cct_rd *r)
{
	return r->base + r->off;
}

size_t cct_rd_left(const cct_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

const uint8_t *cct_rd_take(cct_rd *r, size_t n)
{
	const uint8_t *b;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		cct_rd_fail(r, CCT_ETRUNC);
		return NULL;
	}
	b = r->p + r->off;
	r->off += n;
	return b;
}

uint8_t cct_rd_u8(cct_rd *r)
{
	const uint8_t *b = cct_rd_take(r, 1);

	return b ? b[0] : 0;
}

uint16_t cct_rd_u16le(cct_rd *r)
{
	const uint8_t *b = cct_rd_take(r, 2);

	return b ? (uint16_t)(b[0] | b[1] << 8) : 0;
}

uint32_t cct_rd_u24le(cct_rd *r)
{
	const uint8_t *b = cct_rd_take(r, 3);

	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 : 0;
}

uint32_t cct_rd_u32le(cct_rd *r)
{
	const uint8_t *b = cct_rd_take(r, 4);

	return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			   (uint32_t)b[3] << 24
		 : 0;
}

uint64_t cct_rd_u64le(cct_rd *r)
{
	uint64_t lo = cct_rd_u32le(r);
	uint64_t hi = cct_rd_u32le(r);

	return lo | hi << 32;
}

uint16_t cct_rd_u16be(cct_rd *r)
{
	const uint8_t *b = cct_rd_take(r, 2);

	return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

uint32_t cct_rd_u32be(cct_rd *r)
{
	const uint8_t *b = cct_rd_take(r, 4);

	return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
			   (uint32_t)b[3]
		 : 0;
}

void cct_rd_copy(cct_rd *r, void *dst, size_t n)
{
	const uint8_t *b = cct_rd_take(r, n);

	if (b)
		memcpy(dst, b, n);
	else
		memset(dst, 0, n);
}

void cct_rd_mbz(cct_rd *r, size_t n)
{
	size_t start = cct_rd_pos(r);
	const uint8_t *b = cct_rd_take(r, n);
	size_t i;

	if (!b)
		return;
	for (i = 0; i < n; i++) {
		if (b[i]) {
			cct_rd_fail_at(r, CCT_EMBZ, start + i);
			return;
		}
	}
}

void cct_rd_sub(cct_rd *r, size_t n, cct_rd *child)
{
	size_t start = cct_rd_pos(r);
	const uint8_t *b = cct_rd_take(r, n);

	cct_rd_init(child, b, b ? n : 0);
	child->base = start;
	child->field = r->field;
	if (!b) {
		child->err = r->err;
		child->err_off = r->err_off;
	}
}

void cct_rd_join(cct_rd *r, cct_rd *child)
{
	if (r->err)
		return;
	if (child->err) {
		r->err = child->err;
		r->err_off = child->err_off;
		r->err_field = child->err_field;
		return;
	}
	if (child->off != child->len)
		cct_rd_fail_at(r, CCT_ETRAILING, child->base + child->off);
}

void cct_rd_expect_off(cct_rd *r, size_t off)
{
	if (!r->err && r->off != off)
		cct_rd_fail(r, CCT_EFORMAT);
}

int cct_rd_check(cct_rd *r, cct_err *err, const char *what)
{
	const char *field;

	if (!r->err)
		return CCT_OK;
	field = r->err_field ? r->err_field : "field";
	switch (r->err) {
	case CCT_ETRUNC:
		return cct_err_set(err, r->err, CCT_STAGE_PARSE, r->err_off,
				   "%s: truncated at offset 0x%zx while reading %s", what,
				   r->err_off, field);
	case CCT_EMBZ:
		return cct_err_set(err, r->err, CCT_STAGE_PARSE, r->err_off,
				   "%s: reserved byte at offset 0x%zx (%s) is not zero", what,
				   r->err_off, field);
	case CCT_ETRAILING:
		return cct_err_set(err, r->err, CCT_STAGE_PARSE, r->err_off,
				   "%s: unexpected bytes at offset 0x%zx after %s", what,
				   r->err_off, field);
	default:
		return cct_err_set(err, r->err, CCT_STAGE_PARSE, r->err_off,
				   "%s: %s in %s at offset 0x%zx", what, cct_strerror(r->err),
				   field, r->err_off);
	}
}

int cct_rd_done(cct_rd *r, cct_err *err, const char *what)
{
	if (!r->err && r->off != r->len)
		cct_rd_fail(r, CCT_ETRAILING);
	return cct_rd_check(r, err, what);
}
