/* RFC 8785 JSON Canonicalization Scheme over jansson values.
 *
 * - object members sorted by their names as arrays of UTF-16 code units (RFC 8785 3.2.3);
 * - strings: only '"', '\\' and controls < 0x20 escaped; \b \t \n \f \r short forms, other
 *   controls as \u00xx with lowercase hex (3.2.2.2); everything else emitted as UTF-8;
 * - numbers: ECMAScript Number.prototype.toString of the IEEE-754 double (3.2.2.3): the shortest
 *   decimal that round-trips, in fixed notation for exponents -7 < e < 21, else "de+x".
 *   Integers are I-JSON: converted to double first (values beyond 2^53 round as in ES).
 * - literals null/true/false; no whitespace. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/composite.h"
#include "composite/internal.h"
#include "x509/x509.h"

typedef struct buf {
	char *p;
	size_t n, cap;
	int oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
	char *q;
	size_t cap;

	if (b->oom || n == 0) /* nothing to copy (and no buffer yet to copy into) */
		return;
	if (n > b->cap - b->n) {
		cap = b->cap ? b->cap : 256;
		while (cap - b->n < n) {
			if (cap > ((size_t)1 << 40)) {
				b->oom = 1;
				return;
			}
			cap *= 2;
		}
		q = realloc(b->p, cap + 1);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void puts_(buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Next UTF-16 code unit of a UTF-8 string (jansson guarantees valid UTF-8). *pending holds the
 * low surrogate of a supplementary character between calls. Returns -1 at the end. */
static long next_unit(const unsigned char *s, size_t n, size_t *i, long *pending)
{
	unsigned long cp;
	unsigned char c;

	if (*pending >= 0) {
		long u = *pending;

		*pending = -1;
		return u;
	}
	if (*i >= n)
		return -1;
	c = s[*i];
	if (c < 0x80) {
		cp = c;
		*i += 1;
	} else if ((c & 0xE0) == 0xC0 && *i + 1 < n) {
		cp = ((unsigned long)(c & 0x1F) << 6) | (s[*i + 1] & 0x3F);
		*i += 2;
	} else if ((c & 0xF0) == 0xE0 && *i + 2 < n) {
		cp = ((unsigned long)(c & 0x0F) << 12) | ((unsigned long)(s[*i + 1] & 0x3F) << 6) |
		     (s[*i + 2] & 0x3F);
		*i += 3;
	} else if ((c & 0xF8) == 0xF0 && *i + 3 < n) {
		cp = ((unsigned long)(c & 0x07) << 18) | ((unsigned long)(s[*i + 1] & 0x3F) << 12) |
		     ((unsigned long)(s[*i + 2] & 0x3F) << 6) | (s[*i + 3] & 0x3F);
		*i += 4;
	} else {
		cp = c; /* not reachable for jansson strings; keeps the order total */
		*i += 1;
	}
	if (cp >= 0x10000) {
		cp -= 0x10000;
		*pending = (long)(0xDC00 | (cp & 0x3FF));
		return (long)(0xD800 | (cp >> 10));
	}
	return (long)cp;
}

int cct_composite__utf16_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;
	long pa = -1, pb = -1;

	for (;;) {
		long x = next_unit((const unsigned char *)a, an, &i, &pa);
		long y = next_unit((const unsigned char *)b, bn, &j, &pb);

		if (x < 0 || y < 0)
			return x < 0 ? (y < 0 ? 0 : -1) : 1;
		if (x != y)
			return x < y ? -1 : 1;
	}
}

static void put_string(buf *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i, run = 0;

	put(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		char u[7];

		if (c == '"')
			e = "\\\"";
		else if (c == '\\')
			e = "\\\\";
		else if (c == '\b')
			e = "\\b";
		else if (c == '\t')
			e = "\\t";
		else if (c == '\n')
			e = "\\n";
		else if (c == '\f')
			e = "\\f";
		else if (c == '\r')
			e = "\\r";
		else if (c < 0x20) {
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hexd[c >> 4];
			u[5] = hexd[c & 15];
			u[6] = 0;
			e = u;
		}
		if (e) {
			put(b, s + i - run, run);
			run = 0;
			puts_(b, e);
		} else {
			run++;
		}
	}
	put(b, s + n - run, run);
	put(b, "\"", 1);
}

int cct_composite__es_number(char *out, size_t size, double d)
{
	char tmp[40], digits[20];
	int prec, exp10 = 0, k = 0, n, i;
	char *e, *p;

	if (!isfinite(d) || size < 32)
		return -1;
	if (d == 0) {
		snprintf(out, size, "0");
		return 0;
	}
	/* shortest round-tripping significand */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	p = tmp;
	if (*p == '-')
		p++;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && k < (int)sizeof(digits) - 1)
			digits[k++] = *p;
	digits[k] = 0;
	e = strchr(tmp, 'e');
	exp10 = e ? atoi(e + 1) : 0;
	while (k > 1 && digits[k - 1] == '0')
		digits[--k] = 0;
	n = exp10 + 1; /* position of the decimal point relative to the digits */
	p = out;
	if (d < 0)
		*p++ = '-';
	if (k <= n && n <= 21) {
		memcpy(p, digits, (size_t)k);
		p += k;
		for (i = 0; i < n - k; i++)
			*p++ = '0';
	} else if (0 < n && n <= 21) {
		memcpy(p, digits, (size_t)n);
		p += n;
		*p++ = '.';
		memcpy(p, digits + n, (size_t)(k - n));
		p += k - n;
	} else if (-6 < n && n <= 0) {
		*p++ = '0';
		*p++ = '.';
		for (i = 0; i < -n; i++)
			*p++ = '0';
		memcpy(p, digits, (size_t)k);
		p += k;
	} else {
		*p++ = digits[0];
		if (k > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)(k - 1));
			p += k - 1;
		}
		p += snprintf(p, 8, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
	*p = 0;
	return 0;
}

typedef struct member {
	const char *key;
	size_t key_len;
	json_t *val;
} member;

static int member_cmp(const void *x, const void *y)
{
	const member *a = x, *b = y;

	return cct_composite__utf16_cmp(a->key, a->key_len, b->key, b->key_len);
}

static int emit(buf *b, const json_t *v, int depth, cct_err *err)
{
	char num[40];
	size_t i, n;

	if (depth > CCT_POLICY_MAX_DEPTH)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_BINDING, 0,
				   "JSON nested deeper than %d levels", CCT_POLICY_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_NULL:
		puts_(b, "null");
		break;
	case JSON_TRUE:
		puts_(b, "true");
		break;
	case JSON_FALSE:
		puts_(b, "false");
		break;
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		if (cct_composite__es_number(num, sizeof(num), json_number_value(v)) != 0)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_BINDING, 0,
					   "JSON number is not finite (RFC 8785 forbids NaN/Inf)");
		puts_(b, num);
		break;
	case JSON_ARRAY:
		put(b, "[", 1);
		for (i = 0; i < json_array_size(v); i++) {
			int rc;

			if (i)
				put(b, ",", 1);
			rc = emit(b, json_array_get(v, i), depth + 1, err);
			if (rc != CCT_OK)
				return rc;
		}
		put(b, "]", 1);
		break;
	case JSON_OBJECT: {
		member *m;
		const char *key;
		json_t *val;
		int rc = CCT_OK;

		n = json_object_size(v);
		m = calloc(n ? n : 1, sizeof(*m));
		if (!m)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		i = 0;
		json_object_foreach((json_t *)v, key, val) {
			m[i].key = key;
			m[i].key_len = strlen(key); /* jansson object keys are NUL-free here */
			m[i].val = val;
			i++;
		}
		qsort(m, n, sizeof(*m), member_cmp);
		put(b, "{", 1);
		for (i = 0; i < n && rc == CCT_OK; i++) {
			if (i)
				put(b, ",", 1);
			put_string(b, m[i].key, m[i].key_len);
			put(b, ":", 1);
			rc = emit(b, m[i].val, depth + 1, err);
		}
		put(b, "}", 1);
		free(m);
		if (rc != CCT_OK)
			return rc;
		break;
	}
	default:
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_BINDING, 0, "unknown JSON type");
	}
	return CCT_OK;
}

int cct_composite_jcs(char **out, size_t *out_len, const json_t *v, cct_err *err)
{
	buf b = { 0 };
	int rc = CCT_ERROR;

	if (!out || !v)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "bad argument");
	*out = NULL;
	rc = emit(&b, v, 0, err);
	if (rc == CCT_OK && b.oom)
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (rc != CCT_OK) {
		free(b.p);
		return rc;
	}
	if (!b.p) {
		b.p = malloc(1);
		if (!b.p)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	b.p[b.n] = 0;
	*out = b.p;
	if (out_len)
		*out_len = b.n;
	return CCT_OK;
}

int cct_composite_runtime_digest(uint8_t out[48], const json_t *obj, cct_err *err)
{
	char *c = NULL;
	size_t n = 0;
	int rc = cct_composite_jcs(&c, &n, obj, err);

	if (rc != CCT_OK)
		return rc;
	cct_sha384(c, n, out);
	free(c);
	return CCT_OK;
}
