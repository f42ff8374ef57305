/* Small jansson helpers shared by the areas that build JSON results (see json/json.h). */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "json/json.h"

int cct_json__has_string(const json_t *arr, const char *s)
{
	const json_t *x;
	size_t i;

	json_array_foreach(arr, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), s))
			return 1;
	return 0;
}

void cct_json__append_string_once(json_t *arr, const char *s)
{
	if (!cct_json__has_string(arr, s))
		json_array_append_new(arr, json_string(s));
}

void cct_json__set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);

	if (!h)
		return;
	cct_hex_encode(h, p, n);
	json_object_set_new(obj, key, json_string(h));
	free(h);
}
