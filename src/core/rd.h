/* Bounded reader for untrusted bytes (semi-private: used by every parser, not installed).
 *
 * Every read checks the remaining length before it consumes; the first failure is sticky
 * (later reads return zero and do nothing) and keeps the absolute offset where it happened,
 * so a parser is written straight through like the spec table and checked once at the end.
 * Child readers (cct_rd_sub) confine a length-prefixed region: nothing outside it can be read. */
#ifndef CCT_CORE_RD_H
#define CCT_CORE_RD_H

#include <stddef.h>
#include <stdint.h>

#include "cctrust/errors.h"

typedef struct cct_rd {
	const uint8_t *p;   /* start of this reader's bytes; never advanced */
	size_t len;         /* bytes this reader may consume */
	size_t off;         /* bytes consumed so far (0 <= off <= len) */
	size_t base;        /* absolute offset of p[0] in the whole input */
	int err;            /* sticky: first failure wins */
	size_t err_off;     /* absolute offset of the first failure */
	const char *err_field; /* name of the field being read at the first failure */
	const char *field;  /* name of the field being read now (for messages) */
} cct_rd;

void cct_rd_init(cct_rd *r, const uint8_t *p, size_t len);
/* Name the field the next reads belong to (static string); shows in error messages. */
static inline void cct_rd_field(cct_rd *r, const char *name) { r->field = name; }
/* Fail with code at the current position (no-op if already failed). Returns code. */
int cct_rd_fail(cct_rd *r, int code);
/* Fail with code at an absolute offset inside this reader's range. */
int cct_rd_fail_at(cct_rd *r, int code, size_t abs_off);
/* Absolute offset of the next byte. */
size_t cct_rd_pos(const cct_rd *r);
size_t cct_rd_left(const cct_rd *r);

/* n bytes, or NULL on failure (sets ETRUNC). Borrowed from the input. */
const uint8_t *cct_rd_take(cct_rd *r, size_t n);
uint8_t cct_rd_u8(cct_rd *r);
uint16_t cct_rd_u16le(cct_rd *r);
uint32_t cct_rd_u24le(cct_rd *r);
uint32_t cct_rd_u32le(cct_rd *r);
uint64_t cct_rd_u64le(cct_rd *r);
uint16_t cct_rd_u16be(cct_rd *r);
uint32_t cct_rd_u32be(cct_rd *r);
/* Copy n bytes into dst (zero-filled on failure). */
void cct_rd_copy(cct_rd *r, void *dst, size_t n);
/* n reserved bytes that must be zero (EMBZ at the first non-zero byte). */
void cct_rd_mbz(cct_rd *r, size_t n);
/* Child reader over the next n bytes (consumed from r). On failure child is empty+failed. */
void cct_rd_sub(cct_rd *r, size_t n, cct_rd *child);
/* Child must be fully consumed; its error (or ETRAILING) moves to the parent. */
void cct_rd_join(cct_rd *r, cct_rd *child);
/* Self-check against a spec offset (relative to this reader): EFORMAT if it differs. */
void cct_rd_expect_off(cct_rd *r, size_t off);
/* Everything consumed and no error: CCT_OK; else fills err (stage PARSE) naming what. */
int cct_rd_done(cct_rd *r, cct_err *err, const char *what);
/* Like done but allows trailing bytes. */
int cct_rd_check(cct_rd *r, cct_err *err, const char *what);

#endif
