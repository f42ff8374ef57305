/* Small jansson helpers shared by the areas that build JSON results (semi-private). */
#ifndef CCT_JSON_JSON_H
#define CCT_JSON_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* 1 if the array arr holds the string s (members that are not strings are passed over). */
int cct_json__has_string(const json_t *arr, const char *s);
/* Append the string s to the array arr unless arr holds it already (a checks_skipped list). */
void cct_json__append_string_once(json_t *arr, const char *s);
/* Set obj[key] to the n bytes at p in lowercase hex (left unset when out of memory). */
void cct_json__set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n);

#endif
