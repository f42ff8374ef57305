/* Hex and base64 encodings, and auto-detection of binary/hex/base64 evidence files. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"

void cct_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cct_hex_decode(uint8_t **out, size_t *out_len, const char *s, size_t slen, cct_err *err)
{
	uint8_t *buf;
	size_t i, n = 0;
	int hi = -1;

	*out = NULL;
	*out_len = 0;
	if (slen >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		slen -= 2;
	}
	buf = malloc(slen / 2 + 1);
	if (!buf)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	for (i = 0; i < slen; i++) {
		int v;

		if (isspace((unsigned char)s[i]))
			continue;
		v = hexval((unsigned char)s[i]);
		if (v < 0) {
			free(buf);
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, i,
					   "not hex: character 0x%02x at position %zu",
					   (unsigned char)s[i], i);
		}
		if (hi < 0) {
			hi = v;
		} else {
			buf[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		free(buf);
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, slen,
				   "hex text has an odd number of digits");
	}
	*out = buf;
	*out_len = n;
	return CCT_OK;
}

int cct_hex_decode_fixed(uint8_t *buf, size_t n, const char *s, cct_err *err)
{
	uint8_t *tmp = NULL;
	size_t len = 0;
	int rc;

	rc = cct_hex_decode(&tmp, &len, s, strlen(s), err);
	if (rc != CCT_OK)
		return rc;
	if (len != n) {
		free(tmp);
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "expected %zu bytes of hex (%zu digits), got %zu bytes", n,
				   2 * n, len);
	}
	memcpy(buf, tmp, n);
	free(tmp);
	return CCT_OK;
}

/* base64 digit value + 1 (0: not a digit), standard and URL alphabets */
static const uint8_t b64tab[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0, 63,  0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0, 64,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

static int b64val(int c)
{
	return (int)b64tab[c & 0xff] - 1;
}

int cct_b64_decode(uint8_t **out, size_t *out_len, const char *s, size_t slen, cct_err *err)
{
	uint8_t *buf;
	uint32_t acc = 0;
	size_t i, n = 0, nbits = 0, ndig = 0, npad = 0;

	*out = NULL;
	*out_len = 0;
	buf = malloc(slen / 4 * 3 + 4);
	if (!buf)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	for (i = 0; i < slen; i++) {
		int v;

		/* fast path: whole groups of four digits on a group boundary */
		while (!nbits && !npad && i + 4 <= slen) {
			const unsigned char *q = (const unsigned char *)s + i;
			uint32_t a = b64tab[q[0]], b = b64tab[q[1]], c = b64tab[q[2]],
				 d = b64tab[q[3]], g;

			if (!a || !b || !c || !d)
				break;
			g = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
			buf[n++] = (uint8_t)(g >> 16);
			buf[n++] = (uint8_t)(g >> 8);
			buf[n++] = (uint8_t)g;
			ndig += 4;
			i += 4;
		}
		if (i >= slen)
			break;
		if (isspace((unsigned char)s[i]))
			continue;
		if (s[i] == '=') {
			npad++;
			continue;
		}
		v = b64val((unsigned char)s[i]);
		if (v < 0 || npad) {
			free(buf);
			return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, i,
					   "not base64: character 0x%02x at position %zu",
					   (unsigned char)s[i], i);
		}
		ndig++;
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			buf[n++] = (uint8_t)(acc >> nbits);
			acc &= (1u << nbits) - 1;
		}
	}
	if (ndig % 4 == 1 || npad > 2 || (npad && (ndig + npad) % 4)) {
		free(buf);
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, slen,
				   "base64 text has a bad length or padding");
	}
	*out = buf;
	*out_len = n;
	return CCT_OK;
}

char *cct_b64_encode(const uint8_t *in, size_t n, int url)
{
	const char *alpha = url ? CCT_B64URL_ALPHABET
				: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1);
	size_t i, o = 0;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = alpha[v >> 6 & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int is_text(const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isprint(in[i]) && !isspace(in[i]))
			return 0;
	return n > 0;
}

/* 1 when the text is hex digits only (white space and a leading 0x aside), their number in
 * *digits; any number of them, odd included */
static int hex_digits_only(const uint8_t *in, size_t n, size_t *digits)
{
	size_t i = 0;

	*digits = 0;
	while (i < n && isspace(in[i]))
		i++;
	if (i + 1 < n && in[i] == '0' && (in[i + 1] == 'x' || in[i + 1] == 'X'))
		i += 2;
	for (; i < n; i++) {
		if (isspace(in[i]))
			continue;
		if (hexval(in[i]) < 0)
			return 0;
		++*digits;
	}
	return *digits > 0;
}

int cct_input_decode(uint8_t **out, size_t *out_len, const uint8_t *in, size_t n,
		     size_t expect_len, cct_err *err)
{
	uint8_t *copy;
	size_t digits;
	int rc;

	*out = NULL;
	*out_len = 0;
	if ((expect_len && n == expect_len) || !is_text(in, n)) {
		copy = malloc(n ? n : 1);
		if (!copy)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		memcpy(copy, in, n);
		*out = copy;
		*out_len = n;
		return CCT_OK;
	}
	if (!hex_digits_only(in, n, &digits))
		digits = 0;
	if (digits % 2)
		/* hex with a digit lost or added: read as base64 it would decode to other bytes
		 * and fail later on some field, far from the cause (base64 of evidence made only
		 * of hex digits, at an odd length, does not occur in practice) */
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "hex text has an odd number of digits (%zu): a digit is missing "
				   "or one too many",
				   digits);
	if (digits) {
		size_t skip = 0;

		while (skip < n && isspace(in[skip]))
			skip++;
		rc = cct_hex_decode(out, out_len, (const char *)in + skip, n - skip, err);
		/* expect_len or more: an SNP report may be followed by its certificate table */
		if (rc == CCT_OK && (!expect_len || *out_len >= expect_len))
			return rc;
		if (rc == CCT_OK && expect_len) {
			/* too short as hex: could also be base64 made only of hex letters; try that */
			free(*out);
			*out = NULL;
		}
	}
	rc = cct_b64_decode(out, out_len, (const char *)in, n, err);
	if (rc != CCT_OK)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "input is text but neither hex nor base64");
	return CCT_OK;
}
