/* Error record and stable names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cctrust/errors.h"

const char *cct_version(void)
{
	return CCT_VERSION_STRING;
}

int cct_err_set(cct_err *err, int code, cct_stage stage, size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->stage = stage;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void cct_err_clear(cct_err *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

static const struct {
	int code;
	const char *name;
	const char *text;
} codes[] = {
	{ CCT_OK, "ok", "success" },
	{ CCT_ERROR, "internal", "internal error" },
	{ CCT_ENOMEM, "no_memory", "out of memory" },
	{ CCT_EINVAL, "invalid_argument", "invalid argument" },
	{ CCT_EIO, "io", "input could not be read" },
	{ CCT_ENETWORK, "network", "network fetch failed or not allowed" },
	{ CCT_ETRUNC, "truncated", "input is truncated" },
	{ CCT_ETRAILING, "trailing_bytes", "unexpected trailing bytes" },
	{ CCT_EFORMAT, "format", "malformed field" },
	{ CCT_EUNSUPPORTED, "unsupported", "unsupported version or algorithm" },
	{ CCT_ETOOBIG, "too_big", "length or count above limit" },
	{ CCT_EMBZ, "reserved_nonzero", "reserved field is not zero" },
	{ CCT_EENCODING, "encoding", "text encoding does not decode" },
	{ CCT_ESIGNATURE, "signature", "signature does not verify" },
	{ CCT_ECHAIN, "chain", "certificate chain does not verify to a trusted root" },
	{ CCT_EREVOKED, "revoked", "certificate revoked" },
	{ CCT_EEXPIRED, "expired", "outside validity period" },
	{ CCT_EPOLICY, "policy", "policy not satisfied" },
	{ CCT_ETCB, "tcb", "TCB not acceptable" },
	{ CCT_ENONCE, "nonce", "nonce or report data mismatch" },
	{ CCT_ECOLLATERAL, "collateral", "collateral missing or stale" },
	{ CCT_EMEASUREMENT, "measurement", "measurement mismatch" },
	{ CCT_EBINDING, "binding", "evidence not bound to the request" },
	{ CCT_EUNTRUSTED, "untrusted", "key or root not trusted" },
};

const char *cct_strerror(int code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].text;
	return "unknown error";
}

const char *cct_code_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].name;
	return "unknown";
}

const char *cct_stage_name(cct_stage stage)
{
	static const char *const names[] = {
		"none", "input", "parse", "chain", "revocation", "signature",
		"tcb", "collateral", "measurement", "binding", "policy", "token",
	};

	if ((size_t)stage < sizeof(names) / sizeof(names[0]))
		return names[stage];
	return "unknown";
}

int cct_code_is_input(int code)
{
	return code == CCT_EIO || code == CCT_EINVAL || code == CCT_ENOMEM ||
	       code == CCT_ETRUNC || code == CCT_ETRAILING || code == CCT_EENCODING ||
	       code == CCT_ETOOBIG;
}
