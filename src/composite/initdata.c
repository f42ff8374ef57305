/* Init-data (Trustee kbs/docs/initdata.md): {"format":"toml"|"json","body":"<text>"}.
 * The digest is the hash named by the body's "algorithm" over the exact body bytes; it is bound
 * to SNP HOST_DATA (32 bytes) / TDX MRCONFIGID (48 bytes), zero-padded or truncated like
 * Trustee's regularize_data.
 *
 * The TOML reader handles the subset init-data uses and nothing more: comments, blank lines,
 * [table] / [a.b] headers, bare or quoted keys, and string values (basic "..", literal '..',
 * multi-line """..""" and '''..'''), integers (decimal, 0x/0o/0b), booleans and arrays of
 * these (launch plans use the same reader). Anything else is refused with
 * the line number: a claim we cannot read is never guessed. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cctrust/core.h"
#include "composite/internal.h"

#define MAX_INIT_DATA (256u * 1024u)
#define MAX_KEY 128

typedef struct scan {
	const char *s;
	size_t n, i;
	int line;
} scan;

static int peek(const scan *c, size_t ahead)
{
	return c->i + ahead < c->n ? (unsigned char)c->s[c->i + ahead] : -1;
}

static void skip_ws(scan *c)
{
	while (peek(c, 0) == ' ' || peek(c, 0) == '\t')
		c->i++;
}

static int starts(const scan *c, const char *t)
{
	size_t k = strlen(t);

	return c->n - c->i >= k && !memcmp(c->s + c->i, t, k);
}

static int bad(cct_err *err, const scan *c, const char *what)
{
	return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "init-data TOML line %d: %s",
			   c->line, what);
}

/* Append one UTF-8 code point. */
static void put_cp(char *out, size_t *o, unsigned long cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xC0 | (cp >> 6));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xE0 | (cp >> 12));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		out[(*o)++] = (char)(0xF0 | (cp >> 18));
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	}
}

/* A string value at c->i. *out malloc'd (<= remaining input + 4 bytes). */
static int read_string(scan *c, char **out, cct_err *err)
{
	int multi = 0, literal;
	char q;
	char *b;
	size_t o = 0;

	q = (char)peek(c, 0);
	literal = q == '\'';
	if (starts(c, "\"\"\"") || starts(c, "'''")) {
		multi = 1;
		c->i += 3;
		if (peek(c, 0) == '\n') { /* a newline right after the opening is trimmed */
			c->i++;
			c->line++;
		}
	} else {
		c->i++;
	}
	b = malloc(c->n - c->i + 8);
	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	for (;;) {
		int ch = peek(c, 0);

		if (ch < 0) {
			free(b);
			return bad(err, c, "unterminated string");
		}
		if (multi ? (q == '"' ? starts(c, "\"\"\"") : starts(c, "'''")) : ch == q) {
			c->i += multi ? 3 : 1;
			break;
		}
		if (ch == '\n') {
			if (!multi) {
				free(b);
				return bad(err, c, "newline in a single-line string");
			}
			c->line++;
		}
		if (ch == '\\' && !literal) {
			int e = peek(c, 1);
			unsigned long cp = 0;
			int digits = 0, k;

			c->i += 2;
			switch (e) {
			case 'b': b[o++] = '\b'; break;
			case 't': b[o++] = '\t'; break;
			case 'n': b[o++] = '\n'; break;
			case 'f': b[o++] = '\f'; break;
			case 'r': b[o++] = '\r'; break;
			case '"': b[o++] = '"'; break;
			case '\\': b[o++] = '\\'; break;
			case 'u': digits = 4; break;
			case 'U': digits = 8; break;
			default:
				free(b);
				return bad(err, c, "unsupported escape in string");
			}
			for (k = 0; k < digits; k++) {
				int h = peek(c, 0);

				if (h < 0 || !isxdigit(h)) {
					free(b);
					return bad(err, c, "bad \\u escape");
				}
				cp = cp * 16 + (unsigned long)(isdigit(h) ? h - '0' : (tolower(h) - 'a' + 10));
				c->i++;
			}
			if (digits) {
				if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
					free(b);
					return bad(err, c, "\\u escape is not a Unicode scalar value");
				}
				put_cp(b, &o, cp);
			}
			continue;
		}
		if (ch == 0) {
			free(b);
			return bad(err, c, "NUL in string");
		}
		b[o++] = (char)ch;
		c->i++;
	}
	b[o] = 0;
	*out = b;
	return CCT_OK;
}

static int read_key(scan *c, char *key, size_t size, cct_err *err)
{
	size_t k = 0;

	if (peek(c, 0) == '"' || peek(c, 0) == '\'') {
		char *s = NULL;
		int rc;

		if (starts(c, "\"\"\"") || starts(c, "'''"))
			return bad(err, c, "multi-line key");
		rc = read_string(c, &s, err);
		if (rc != CCT_OK)
			return rc;
		if (strlen(s) >= size) {
			free(s);
			return bad(err, c, "key too long");
		}
		strcpy(key, s);
		free(s);
		return CCT_OK;
	}
	while (peek(c, 0) >= 0 && (isalnum(peek(c, 0)) || peek(c, 0) == '_' || peek(c, 0) == '-')) {
		if (k + 1 >= size)
			return bad(err, c, "key too long");
		key[k++] = (char)peek(c, 0);
		c->i++;
	}
	key[k] = 0;
	if (!k)
		return bad(err, c, "expected a key");
	return CCT_OK;
}

static int line_end(scan *c, cct_err *err)
{
	skip_ws(c);
	if (peek(c, 0) == '#')
		while (peek(c, 0) >= 0 && peek(c, 0) != '\n')
			c->i++;
	if (peek(c, 0) == '\r')
		c->i++;
	if (peek(c, 0) < 0)
		return CCT_OK;
	if (peek(c, 0) != '\n')
		return bad(err, c, "unexpected text after the value");
	c->i++;
	c->line++;
	return CCT_OK;
}

/* Skip blanks, newlines and comments inside an array. */
static void skip_array_space(scan *c)
{
	for (;;) {
		skip_ws(c);
		if (peek(c, 0) == '#') {
			while (peek(c, 0) >= 0 && peek(c, 0) != '\n')
				c->i++;
		} else if (peek(c, 0) == '\r') {
			c->i++;
		} else if (peek(c, 0) == '\n') {
			c->i++;
			c->line++;
		} else {
			return;
		}
	}
}

#define MAX_ARRAY_DEPTH 4
#define MAX_ARRAY_ITEMS 1024

/* One value: string, integer (decimal, or 0x/0o/0b), boolean, or an array of values. */
static int read_value(scan *c, json_t **out, int depth, cct_err *err)
{
	json_t *val = NULL;
	int rc;

	*out = NULL;
	if (peek(c, 0) == '"' || peek(c, 0) == '\'') {
		char *s = NULL;

		if ((rc = read_string(c, &s, err)) != CCT_OK)
			return rc;
		val = json_string(s);
		free(s);
		if (!val)
			return bad(err, c, "string is not valid UTF-8");
	} else if (starts(c, "true")) {
		c->i += 4;
		val = json_true();
	} else if (starts(c, "false")) {
		c->i += 5;
		val = json_false();
	} else if (peek(c, 0) == '[') {
		size_t items = 0;

		if (depth >= MAX_ARRAY_DEPTH)
			return bad(err, c, "arrays nested too deeply");
		c->i++;
		val = json_array();
		if (!val)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		for (;;) {
			json_t *item = NULL;

			skip_array_space(c);
			if (peek(c, 0) == ']') {
				c->i++;
				break;
			}
			if (++items > MAX_ARRAY_ITEMS) {
				json_decref(val);
				return bad(err, c, "array too long");
			}
			if ((rc = read_value(c, &item, depth + 1, err)) != CCT_OK) {
				json_decref(val);
				return rc;
			}
			json_array_append_new(val, item);
			skip_array_space(c);
			if (peek(c, 0) == ',') {
				c->i++;
			} else if (peek(c, 0) != ']') {
				json_decref(val);
				return bad(err, c, "expected ',' or ']' in the array");
			}
		}
	} else if (peek(c, 0) >= 0 && (isdigit(peek(c, 0)) || peek(c, 0) == '-' ||
				       peek(c, 0) == '+')) {
		char num[32];
		size_t k = 0, j = 0;
		char *end;
		int base = 10;
		long long v;

		while (peek(c, 0) >= 0 && (isalnum(peek(c, 0)) || peek(c, 0) == '-' ||
					    peek(c, 0) == '+' || peek(c, 0) == '_') &&
		       k + 1 < sizeof(num)) {
			if (peek(c, 0) != '_')
				num[k++] = (char)peek(c, 0);
			c->i++;
		}
		num[k] = 0;
		if (num[0] == '0' && (num[1] == 'x' || num[1] == 'o' || num[1] == 'b')) {
			base = num[1] == 'x' ? 16 : num[1] == 'o' ? 8 : 2;
			j = 2;
			if (!num[j] || num[j] == '-' || num[j] == '+')
				return bad(err, c, "unsupported number");
		}
		errno = 0;
		v = strtoll(num + j, &end, base);
		if (*end || end == num + j || errno)
			return bad(err, c, "unsupported number");
		val = json_integer(v);
	} else {
		return bad(err, c, "unsupported value (strings, integers, booleans and arrays only)");
	}
	if (!val)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	*out = val;
	return CCT_OK;
}

int cct_composite__toml_parse(json_t **out, const char *text, size_t len, cct_err *err)
{
	scan c = { text, len, 0, 1 };
	json_t *root = json_object(), *cur = root;
	char key[MAX_KEY];
	int rc = CCT_ERROR;

	*out = NULL;
	if (!root)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (len > MAX_INIT_DATA) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "init-data too large");
		goto out;
	}
	while (c.i < c.n) {
		json_t *val = NULL;

		skip_ws(&c);
		if (peek(&c, 0) == '#' || peek(&c, 0) == '\n' || peek(&c, 0) == '\r') {
			if ((rc = line_end(&c, err)) != CCT_OK)
				goto out;
			continue;
		}
		if (peek(&c, 0) == '[') {
			if (peek(&c, 1) == '[') {
				rc = bad(err, &c, "arrays of tables are not supported");
				goto out;
			}
			c.i++;
			cur = root;
			for (;;) {
				json_t *t;

				skip_ws(&c);
				if ((rc = read_key(&c, key, sizeof(key), err)) != CCT_OK)
					goto out;
				t = json_object_get(cur, key);
				if (!t) {
					t = json_object();
					json_object_set_new(cur, key, t);
				} else if (!json_is_object(t)) {
					rc = bad(err, &c, "table name clashes with a value");
					goto out;
				}
				cur = t;
				skip_ws(&c);
				if (peek(&c, 0) == '.') {
					c.i++;
					continue;
				}
				break;
			}
			if (peek(&c, 0) != ']') {
				rc = bad(err, &c, "expected ']'");
				goto out;
			}
			c.i++;
			if ((rc = line_end(&c, err)) != CCT_OK)
				goto out;
			continue;
		}
		if ((rc = read_key(&c, key, sizeof(key), err)) != CCT_OK)
			goto out;
		skip_ws(&c);
		if (peek(&c, 0) != '=') {
			rc = bad(err, &c, "expected '=' after the key (dotted keys are not supported)");
			goto out;
		}
		c.i++;
		skip_ws(&c);
		if ((rc = read_value(&c, &val, 0, err)) != CCT_OK)
			goto out;
		if (json_object_get(cur, key)) {
			json_decref(val);
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "init-data TOML line %d: duplicate key \"%.64s\"", c.line,
					 key);
			goto out;
		}
		json_object_set_new(cur, key, val);
		if ((rc = line_end(&c, err)) != CCT_OK)
			goto out;
	}
	*out = root;
	root = NULL;
	rc = CCT_OK;
out:
	json_decref(root);
	return rc;
}

int cct_composite__init_data(cct_init_data *out, const json_t *init_data, cct_err *err)
{
	const char *fmt, *body, *alg;
	const EVP_MD *md;
	unsigned int dl = 0;
	json_error_t je;
	int rc = CCT_ERROR;

	memset(out, 0, sizeof(*out));
	if (!init_data)
		return CCT_OK;
	fmt = json_string_value(json_object_get(init_data, "format"));
	body = json_string_value(json_object_get(init_data, "body"));
	if (!fmt || !body)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "init-data: expected {\"format\": \"toml\"|\"json\", \"body\": "
				   "string}");
	if (!strcmp(fmt, "toml")) {
		rc = cct_composite__toml_parse(&out->claims, body, strlen(body), err);
	} else if (!strcmp(fmt, "json")) {
		out->claims = json_loads(body, JSON_REJECT_DUPLICATES, &je);
		rc = out->claims && json_is_object(out->claims)
			     ? CCT_OK
			     : cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
					   "init-data body is not a JSON object");
	} else {
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "init-data format \"%.20s\" is not supported (toml, json)", fmt);
	}
	if (rc != CCT_OK)
		goto out;
	rc = CCT_ERROR;
	alg = json_string_value(json_object_get(out->claims, "algorithm"));
	if (!alg) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "init-data has no \"algorithm\" (sha256, sha384, sha512)");
		goto out;
	}
	md = !strcmp(alg, "sha256")   ? EVP_sha256()
	     : !strcmp(alg, "sha384") ? EVP_sha384()
	     : !strcmp(alg, "sha512") ? EVP_sha512()
				      : NULL;
	if (!md) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "init-data algorithm \"%.20s\" is not supported", alg);
		goto out;
	}
	snprintf(out->algorithm, sizeof(out->algorithm), "%s", alg);
	if (EVP_Digest(body, strlen(body), out->digest, &dl, md, NULL) != 1) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "digest failed");
		goto out;
	}
	out->digest_len = dl;
	out->present = 1;
	rc = CCT_OK;
out:
	if (rc != CCT_OK)
		cct_composite__init_data_clear(out);
	return rc;
}

void cct_composite__init_data_clear(cct_init_data *d)
{
	if (!d)
		return;
	json_decref(d->claims);
	memset(d, 0, sizeof(*d));
}
