/* Unit tests: bounded reader, errors, hex/base64, RFC 3339 time. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "core/rd.h"

static void reader_reads_le_fields(void **state)
{
	const uint8_t b[] = { 1, 0, 0, 0, 2, 0, 3, 4, 5, 6, 7, 8, 9, 10 };
	cct_rd r;

	(void)state;
	cct_rd_init(&r, b, sizeof(b));
	assert_int_equal(cct_rd_u32le(&r), 1);
	assert_int_equal(cct_rd_u16le(&r), 2);
	assert_int_equal(cct_rd_u64le(&r), 0x0a09080706050403ULL);
	assert_int_equal(cct_rd_done(&r, NULL, "t"), CCT_OK);
}

static void reader_error_is_sticky_with_offset(void **state)
{
	const uint8_t b[] = { 1, 2, 3 };
	cct_rd r;
	cct_err err;

	(void)state;
	cct_rd_init(&r, b, sizeof(b));
	cct_rd_u16le(&r);
	cct_rd_field(&r, "big");
	assert_int_equal(cct_rd_u32le(&r), 0);
	assert_int_equal(cct_rd_u8(&r), 0); /* sticky: would have succeeded */
	assert_int_equal(cct_rd_done(&r, &err, "thing"), CCT_ETRUNC);
	assert_int_equal(err.offset, 2);
	assert_int_equal(err.stage, CCT_STAGE_PARSE);
	assert_non_null(strstr(err.msg, "big"));
}

static void reader_mbz_and_trailing(void **state)
{
	const uint8_t b[] = { 0, 0, 7, 0, 9 };
	cct_rd r, c;
	cct_err err;

	(void)state;
	cct_rd_init(&r, b, sizeof(b));
	cct_rd_mbz(&r, 4);
	assert_int_equal(cct_rd_done(&r, &err, "t"), CCT_EMBZ);
	assert_int_equal(err.offset, 2);

	cct_rd_init(&r, b, sizeof(b));
	cct_rd_sub(&r, 3, &c);
	cct_rd_u16le(&c); /* leaves one byte in the child */
	cct_rd_join(&r, &c);
	assert_int_equal(cct_rd_check(&r, &err, "t"), CCT_ETRAILING);
	assert_int_equal(err.offset, 2);

	cct_rd_init(&r, b, sizeof(b));
	cct_rd_take(&r, 4);
	assert_int_equal(cct_rd_done(&r, &err, "t"), CCT_ETRAILING);
	assert_int_equal(err.offset, 4);
}

static void reader_sub_confines(void **state)
{
	const uint8_t b[] = { 2, 0xaa, 0xbb, 0xcc };
	cct_rd r, c;

	(void)state;
	cct_rd_init(&r, b, sizeof(b));
	cct_rd_sub(&r, cct_rd_u8(&r), &c);
	assert_int_equal(cct_rd_u16le(&c), 0xbbaa);
	assert_null(cct_rd_take(&c, 1)); /* 0xcc belongs to the parent */
	assert_int_equal(c.err, CCT_ETRUNC);
	assert_int_equal(c.err_off, 3);
	cct_rd_init(&r, b, 2);
	cct_rd_sub(&r, (size_t)-1, &c); /* huge length never wraps */
	assert_int_equal(r.err, CCT_ETRUNC);
}

static void hex_and_base64(void **state)
{
	uint8_t *out;
	size_t n;
	char h[16];
	char *e;
	uint8_t fixed[2];

	(void)state;
	assert_int_equal(cct_hex_decode(&out, &n, "0aFf 10", 7, NULL), CCT_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "\x0a\xff\x10", 3);
	cct_hex_encode(h, out, n);
	assert_string_equal(h, "0aff10");
	free(out);
	assert_int_equal(cct_hex_decode(&out, &n, "abc", 3, NULL), CCT_EENCODING);
	assert_int_equal(cct_hex_decode(&out, &n, "zz", 2, NULL), CCT_EENCODING);
	assert_int_equal(cct_hex_decode_fixed(fixed, 2, "0102", NULL), CCT_OK);
	assert_int_equal(cct_hex_decode_fixed(fixed, 2, "010203", NULL), CCT_EENCODING);

	assert_int_equal(cct_b64_decode(&out, &n, "aGVsbG8=", 8, NULL), CCT_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	free(out);
	assert_int_equal(cct_b64_decode(&out, &n, "aGVsbG8", 7, NULL), CCT_OK); /* unpadded */
	free(out);
	assert_int_equal(cct_b64_decode(&out, &n, "a$==", 4, NULL), CCT_EENCODING);
	e = cct_b64_encode((const uint8_t *)"hello", 5, 0);
	assert_string_equal(e, "aGVsbG8=");
	free(e);
	e = cct_b64_encode((const uint8_t *)"\xfb\xff", 2, 1);
	assert_string_equal(e, "-_8");
	free(e);
}

/* The four-digit fast path and the digit-by-digit path agree: every length, both alphabets,
 * line breaks anywhere, padding; a bad digit is reported at its own offset either way. */
static void base64_round_trips_and_offsets(void **state)
{
	uint8_t data[300], *out;
	size_t len, n, cut;
	unsigned seed = 7;

	(void)state;
	for (len = 0; len < sizeof(data); len++)
		data[len] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
	for (len = 0; len < 200; len += 7) {
		for (int url = 0; url <= 1; url++) {
			char *e = cct_b64_encode(data, len, url), *wrapped;
			size_t el = strlen(e), k, o = 0;

			assert_int_equal(cct_b64_decode(&out, &n, e, el, NULL), CCT_OK);
			assert_int_equal(n, len);
			if (len)
				assert_memory_equal(out, data, len);
			free(out);
			/* a newline after every 5th character puts groups off their boundary */
			wrapped = malloc(el + el / 5 + 2);
			for (k = 0; k < el; k++) {
				wrapped[o++] = e[k];
				if (k % 5 == 4)
					wrapped[o++] = '\n';
			}
			assert_int_equal(cct_b64_decode(&out, &n, wrapped, o, NULL), CCT_OK);
			assert_int_equal(n, len);
			if (len)
				assert_memory_equal(out, data, len);
			free(out);
			free(wrapped);
			for (cut = 0; cut < el && cut < 24; cut += 5) {
				char *bad = malloc(el + 1);
				cct_err err;

				memcpy(bad, e, el + 1);
				bad[cut] = '*';
				assert_int_equal(cct_b64_decode(&out, &n, bad, el, &err), CCT_EENCODING);
				assert_int_equal(err.offset, cut);
				free(bad);
			}
			free(e);
		}
	}
}

static void input_detection(void **state)
{
	uint8_t raw[4] = { 0, 1, 2, 0xff }, *out;
	size_t n;

	(void)state;
	assert_int_equal(cct_input_decode(&out, &n, raw, 4, 4, NULL), CCT_OK);
	assert_int_equal(n, 4);
	free(out);
	assert_int_equal(cct_input_decode(&out, &n, (const uint8_t *)"000102ff\n", 9, 4, NULL),
			 CCT_OK);
	assert_memory_equal(out, raw, 4);
	free(out);
	assert_int_equal(cct_input_decode(&out, &n, (const uint8_t *)" 0x000102ff\n", 12, 4, NULL),
			 CCT_OK);
	assert_memory_equal(out, raw, 4);
	free(out);
	assert_int_equal(cct_input_decode(&out, &n, (const uint8_t *)"AAEC/w==", 8, 4, NULL),
			 CCT_OK);
	assert_memory_equal(out, raw, 4);
	free(out);
	assert_int_equal(cct_input_decode(&out, &n, (const uint8_t *)"not evidence!", 13, 4, NULL),
			 CCT_EENCODING);
	/* hex with a digit missing: an error that says so, not base64 ("000102f" decodes) */
	{
		cct_err e;

		assert_int_equal(cct_input_decode(&out, &n, (const uint8_t *)"000102f\n", 8, 4, &e),
				 CCT_EENCODING);
		assert_non_null(strstr(e.msg, "odd number of digits (7)"));
		assert_int_equal(cct_input_decode(&out, &n, (const uint8_t *)"0x000102f", 9, 0, &e),
				 CCT_EENCODING);
		assert_non_null(strstr(e.msg, "odd number of digits (7)"));
	}
}

static void rfc3339(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(cct_time_parse(&t, "1970-01-01T00:00:00Z", NULL), CCT_OK);
	assert_int_equal(t, 0);
	assert_int_equal(cct_time_parse(&t, "2024-02-29T12:00:00.123+01:00", NULL), CCT_OK);
	assert_int_equal(t, 1709204400);
	assert_int_equal(cct_time_parse(&t, "2026-11-23", NULL), CCT_OK);
	assert_int_equal(t, 1795392000);
	assert_int_equal(cct_time_parse(&t, "2024-13-01T00:00:00Z", NULL), CCT_EINVAL);
	/* 29 February only in leap years: 2000 and 2024 are, 1900, 2023 and 2025 are not */
	assert_int_equal(cct_time_parse(&t, "2000-02-29T00:00:00Z", NULL), CCT_OK);
	assert_int_equal(t, 951782400);
	assert_int_equal(cct_time_parse(&t, "2023-02-29T00:00:00Z", NULL), CCT_EINVAL);
	assert_int_equal(cct_time_parse(&t, "2025-02-29", NULL), CCT_EINVAL);
	assert_int_equal(cct_time_parse(&t, "1900-02-29T00:00:00Z", NULL), CCT_EINVAL);
	assert_int_equal(cct_time_parse(&t, "2026-02-30T00:00:00Z", NULL), CCT_EINVAL);
	assert_int_equal(cct_time_parse(&t, "2024-01-01T00:00:00", NULL), CCT_EINVAL);
	assert_int_equal(cct_time_parse(&t, "yesterday", NULL), CCT_EINVAL);
}

static void ct_and_errors(void **state)
{
	cct_err err;

	(void)state;
	assert_true(cct_ct_eq("abc", "abc", 3));
	assert_false(cct_ct_eq("abc", "abd", 3));
	assert_int_equal(cct_err_set(&err, CCT_ESIGNATURE, CCT_STAGE_SIGNATURE, 0x2a0, "x %d", 1),
			 CCT_ESIGNATURE);
	assert_string_equal(err.msg, "x 1");
	assert_string_equal(cct_code_name(CCT_ESIGNATURE), "signature");
	assert_string_equal(cct_stage_name(CCT_STAGE_CHAIN), "chain");
	assert_true(cct_code_is_input(CCT_ETRUNC));
	assert_false(cct_code_is_input(CCT_ESIGNATURE));
}

typedef struct seen {
	char paths[16][256];
	int n, stop_after;
} seen;

static void collect(void *ctx, const char *path, int *stop)
{
	seen *s = ctx;

	if (s->n < 16)
		snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
	s->n++;
	if (s->stop_after && s->n == s->stop_after)
		*stop = 1;
}

/* A device is written in place, never replaced by a renamed file (as root that would turn
 * /dev/null into a regular file for every later process). */
static void file_write_keeps_devices(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(cct_file_write("/dev/null", "x", 1, 0, NULL), CCT_OK);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(cct_file_write("/", "x", 1, 0, NULL), CCT_EIO);
}

/* Reading stops at the limit: a file of exactly max bytes is read, one byte more is refused
 * (a regular file by its size, before any read), and a device without end is read to max + 1
 * bytes at most. */
static void file_read_limit(void **state)
{
	char path[4200];
	uint8_t *b = NULL, data[3000];
	size_t n = 0;
	cct_err err;

	(void)state;
	memset(data, 'x', sizeof(data));
	snprintf(path, sizeof(path), "%s", cct_test_write_tmp("limit.bin", data, sizeof(data)));
	assert_int_equal(cct_file_read(&b, &n, path, sizeof(data), &err), CCT_OK);
	assert_int_equal(n, sizeof(data));
	assert_int_equal(b[n], 0);
	free(b);
	assert_int_equal(cct_file_read(&b, &n, path, sizeof(data) - 1, &err), CCT_ETOOBIG);
	assert_null(b);
	assert_non_null(strstr(err.msg, "larger than the 2999-byte limit"));
	assert_int_equal(cct_file_read(&b, &n, "/dev/zero", 100000, &err), CCT_ETOOBIG);
	assert_null(b);
	assert_int_equal(cct_file_read(&b, &n, "/dev/null", 10, &err), CCT_OK);
	assert_int_equal(n, 0);
	free(b);
}

/* cct_parse_long: a whole decimal number in range, nothing else */
static void parse_long_whole_numbers_only(void **state)
{
	static const char *const bad[] = { "", "abc", "1e6", "10m", "5 ", "0x10", "3.0",
					   "99999999999999999999" };
	long v = 7;
	size_t i;

	(void)state;
	assert_int_equal(cct_parse_long(&v, "42", 0, 100), CCT_OK);
	assert_int_equal(v, 42);
	assert_int_equal(cct_parse_long(&v, "-3", -5, 5), CCT_OK);
	assert_int_equal(v, -3);
	assert_int_equal(cct_parse_long(&v, "101", 0, 100), CCT_EINVAL);
	assert_int_equal(cct_parse_long(&v, "-1", 0, 100), CCT_EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cct_parse_long(&v, bad[i], LONG_MIN, LONG_MAX), CCT_EINVAL);
	assert_int_equal(cct_parse_long(&v, NULL, 0, 1), CCT_EINVAL);
	assert_int_equal(v, -3); /* untouched by a refusal */
}

static void inputs_files_dirs_stdin(void **state)
{
	const char *dir = cct_test_tmpdir();
	char d[512], sub[600], p[700], *args[4];
	seen s;
	cct_err err;
	int i;

	(void)state;
	snprintf(d, sizeof(d), "%s/inputs", dir);
	mkdir(d, 0700);
	snprintf(sub, sizeof(sub), "%s/sub", d);
	mkdir(sub, 0700);
	for (i = 0; i < 3; i++) { /* created out of order: listed by name */
		static const char *const names[3] = { "b.bin", "a.bin", ".hidden" };
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		f = fopen(p, "w");
		assert_non_null(f);
		fputs("x", f);
		fclose(f);
	}
	args[0] = "-";
	args[1] = d;
	args[2] = "/nonexistent/q.bin";
	memset(&s, 0, sizeof(s));
	assert_int_equal(cct_inputs_each(args, 3, collect, &s, &err), CCT_OK);
	assert_int_equal(s.n, 4); /* "-", a.bin, b.bin (no dot file, no subdirectory), missing */
	assert_string_equal(s.paths[0], "-");
	snprintf(p, sizeof(p), "%s/a.bin", d);
	assert_string_equal(s.paths[1], p);
	snprintf(p, sizeof(p), "%s/b.bin", d);
	assert_string_equal(s.paths[2], p);
	assert_string_equal(s.paths[3], "/nonexistent/q.bin");
	/* the callback can stop the iteration, inside a directory too */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(cct_inputs_each(args, 3, collect, &s, &err), CCT_OK);
	assert_int_equal(s.n, 2);
	/* an unreadable directory is an error after the inputs before it */
	chmod(sub, 0);
	args[0] = "-";
	args[1] = sub;
	memset(&s, 0, sizeof(s));
	if (access(sub, R_OK) != 0) { /* (root reads it anyway) */
		assert_int_equal(cct_inputs_each(args, 2, collect, &s, &err), CCT_EIO);
		assert_int_equal(s.n, 1);
	}
	chmod(sub, 0700);
	/* so is a directory without input files (sub is empty): a verify of nothing never
	 * succeeds */
	memset(&s, 0, sizeof(s));
	assert_int_equal(cct_inputs_each(args, 2, collect, &s, &err), CCT_EIO);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(err.msg, "no input files"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_reads_le_fields),
		cmocka_unit_test(reader_error_is_sticky_with_offset),
		cmocka_unit_test(reader_mbz_and_trailing),
		cmocka_unit_test(reader_sub_confines),
		cmocka_unit_test(hex_and_base64),
		cmocka_unit_test(base64_round_trips_and_offsets),
		cmocka_unit_test(file_write_keeps_devices),
		cmocka_unit_test(file_read_limit),
		cmocka_unit_test(parse_long_whole_numbers_only),
		cmocka_unit_test(input_detection),
		cmocka_unit_test(rfc3339),
		cmocka_unit_test(ct_and_errors),
		cmocka_unit_test(inputs_files_dirs_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
