/* Model spec "name@revision:root": a model name (may contain '/', as in "org/model"), a
 * revision (tag or commit), and the 64-hex-digit dm-verity root hash of its packed archive. */
#include <stdio.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/verity.h"

static int name_char(char c, int slash)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || (slash && c == '/');
}

int cct_verity_model_spec_parse(cct_verity_model_spec *out, const char *s, cct_err *err)
{
	const char *at, *colon;
	size_t nlen, rlen, i;

	memset(out, 0, sizeof(*out));
	if (!s || strlen(s) >= CCT_VERITY_SPEC_MAX || !(at = strchr(s, '@')) ||
	    !(colon = strchr(at, ':')))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "model spec must be name@revision:root");
	nlen = (size_t)(at - s);
	rlen = (size_t)(colon - at - 1);
	if (nlen == 0 || nlen >= sizeof(out->name) || rlen == 0 || rlen >= sizeof(out->revision))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "model spec: empty or too long name or revision");
	for (i = 0; i < nlen; i++)
		if (!name_char(s[i], 1))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, i,
					   "model spec: character %zu of the name is not allowed", i);
	for (i = 0; i < rlen; i++)
		if (!name_char(at[1 + i], 0))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, nlen + 1 + i,
					   "model spec: character %zu of the revision is not allowed",
					   i);
	if (strlen(colon + 1) != 2 * CCT_VERITY_DIGEST_SIZE ||
	    cct_hex_decode_fixed(out->root, CCT_VERITY_DIGEST_SIZE, colon + 1, NULL) != CCT_OK)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, (size_t)(colon + 1 - s),
				   "model spec: root must be 64 hex digits");
	memcpy(out->name, s, nlen);
	memcpy(out->revision, at + 1, rlen);
	return CCT_OK;
}

void cct_verity_model_spec_format(char *buf, size_t size, const cct_verity_model_spec *spec)
{
	char hex[2 * CCT_VERITY_DIGEST_SIZE + 1];

	cct_hex_encode(hex, spec->root, CCT_VERITY_DIGEST_SIZE);
	snprintf(buf, size, "%s@%s:%s", spec->name, spec->revision, hex);
}
