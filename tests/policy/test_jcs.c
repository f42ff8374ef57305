/* RFC 8785 canonicalization: the RFC's own examples, number formatting, key order, escaping;
 * and Trustee's binding values. */
#include <stdlib.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/composite.h"
#include "composite/internal.h"

static char *canon(const char *in)
{
	json_error_t je;
	json_t *v = json_loads(in, JSON_DECODE_ANY, &je);
	char *out = NULL;
	cct_err err;

	assert_non_null(v);
	assert_int_equal(cct_composite_jcs(&out, NULL, v, &err), CCT_OK);
	json_decref(v);
	return out;
}

/* RFC 8785 section 3.2.2 example */
static void test_rfc8785_example(void **state)
{
	char *c;

	(void)state;
	c = canon("{\n \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
		  " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
		  " \"literals\": [null, true, false]\n}");
	assert_string_equal(c, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,"
			       "0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
	free(c);
}

/* RFC 8785 section 3.2.3: sorting by UTF-16 code units (the emoji sorts before U+FB33) */
static void test_rfc8785_sorting(void **state)
{
	char *c;

	(void)state;
	c = canon("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter "
		  "Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
		  "\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}");
	assert_string_equal(c, "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
			       "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro "
			       "Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew "
			       "Letter Dalet With Dagesh\"}");
	free(c);
}

/* ECMAScript Number::toString, RFC 8785 appendix B samples */
static void test_numbers(void **state)
{
	static const struct {
		double d;
		const char *s;
	} t[] = {
		{ 0.0, "0" }, { -0.0, "0" }, { 1.0, "1" }, { -1.5, "-1.5" },
		{ 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 9007199254740992.0, "9007199254740992" }, { 9007199254740994.0, "9007199254740994" },
		{ 295147905179352830000.0, "295147905179352830000" }, { 1e21, "1e+21" },
		{ 1e20, "100000000000000000000" }, { 0.000001, "0.000001" }, { 1e-7, "1e-7" },
		{ 123456789012345680000.0, "123456789012345680000" }, { 0.1, "0.1" },
		{ 4.35, "4.35" }, { 0.3, "0.3" }, { 100.0, "100" }, { 1.5e-6, "0.0000015" },
		{ -1e-7, "-1e-7" }, { 333333333.3333333, "333333333.3333333" },
	};
	char buf[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(cct_composite__es_number(buf, sizeof(buf), t[i].d), 0);
		assert_string_equal(buf, t[i].s);
	}
}

static void test_nested_and_integers(void **state)
{
	char *c;

	(void)state;
	c = canon("{ \"b\" : [ 1 , {\"z\":1,\"a\":[]} ], \"a\" : {}, \"c\": 12345678901 }");
	assert_string_equal(c, "{\"a\":{},\"b\":[1,{\"a\":[],\"z\":1}],\"c\":12345678901}");
	free(c);
	c = canon("\"\\u0001\\u001f\\b\\t\\f\\u007f\"");
	assert_string_equal(c, "\"\\u0001\\u001f\\b\\t\\f\x7f\"");
	free(c);
}

static void test_depth_cap(void **state)
{
	char deep[200];
	json_t *v;
	char *out = NULL;
	cct_err err;
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		deep[i] = '[';
	for (i = 0; i < 40; i++)
		deep[40 + i] = ']';
	deep[80] = 0;
	v = json_loads(deep, 0, NULL);
	assert_non_null(v);
	assert_int_equal(cct_composite_jcs(&out, NULL, v, &err), CCT_EINVAL);
	assert_null(out);
	json_decref(v);
}

/* Trustee binding: SHA-384 over the JCS bytes, padded to 64 */
static void test_runtime_digest(void **state)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s}}", "nonce", "bm9uY2U=", "additional-evidence", "",
			      "tee-pubkey", "kty", "EC", "crv", "P-256");
	uint8_t d[48], want[48];
	const char *canon_text =
		"{\"additional-evidence\":\"\",\"nonce\":\"bm9uY2U=\",\"tee-pubkey\":{\"crv\":\"P-256\","
		"\"kty\":\"EC\"}}";
	cct_err err;

	(void)state;
	assert_int_equal(cct_composite_runtime_digest(d, o, &err), CCT_OK);
	{
		extern void cct_sha384(const void *p, size_t n, uint8_t out[48]);

		cct_sha384(canon_text, strlen(canon_text), want);
	}
	assert_memory_equal(d, want, 48);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8785_example),
		cmocka_unit_test(test_rfc8785_sorting),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_nested_and_integers),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_runtime_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
