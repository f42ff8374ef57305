/* Test support: cmocka includes, reading vectors in place, running the CLI. */
#ifndef CCT_TEST_H
#define CCT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Path under $CCT_VECTORS (tests/vectors); a static buffer, valid for the next 7 calls of
 * the path helpers (vector_path, write_tmp). */
const char *cct_test_vector_path(const char *rel);
/* Read a vector file; fails the test if missing. Caller frees. */
uint8_t *cct_test_read_vector(const char *rel, size_t *len);
/* Read any file; NULL if missing. Caller frees. */
uint8_t *cct_test_read_file(const char *path, size_t *len);
/* Write bytes to a new file in a per-test temp dir; returns a static path, valid
 * for the next 7 calls of the path helpers. */
const char *cct_test_write_tmp(const char *name, const void *p, size_t n);
/* Temp directory for this test process (created once). */
const char *cct_test_tmpdir(void);
/* Run the cctrust CLI with a shell-quoted argument string; capture stdout (caller frees) and
 * return the exit status. */
int cct_test_cli(char **out, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#endif
