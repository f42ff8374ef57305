/* Unit tests: bounded reader, errors, hex/base64, RFC 3339 time. */
#include <stdlib.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_reads_le_fields),
		cmocka_unit_test(reader_error_is_sticky_with_offset),
		cmocka_unit_test(reader_mbz_and_trailing),
		cmocka_unit_test(reader_sub_confines),
		cmocka_unit_test(hex_and_base64),
		cmocka_unit_test(input_detection),
		cmocka_unit_test(rfc3339),
		cmocka_unit_test(ct_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
