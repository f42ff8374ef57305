/* The virtee `sev` crate's serde JSON of an AttestationReport (what Trustee's guest-components
 * send as SNP primary evidence) re-encoded into the 1184-byte ABI report, so the signature is
 * checked over the exact bytes the firmware signed. Byte arrays are JSON arrays of 0..255;
 * TCB versions are {"fmc"?,"bootloader","tee","snp","microcode"}; versions are the flat
 * current_build/minor/major fields (older crates) or {"current":{"major","minor","build"}}.
 * Reserved fields are written as zero: the SNP parser requires them to be zero anyway.
 * The layout follows the crate's versions; unknown members are ignored, missing optional ones
 * (cpuid_*, mitigation vectors) are zero, missing required ones are refused by name. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/snp.h"
#include "composite/internal.h"

#define MAX_CERT_ENTRIES 8
#define MAX_CERT_BYTES (64u * 1024u)

static void put_le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int need(cct_err *err, const char *name, const char *what)
{
	return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
			   "attestation_report.%s: %s", name, what);
}

static int get_uint(uint64_t *out, const json_t *o, const char *name, int required,
		    uint64_t max, cct_err *err)
{
	const json_t *v = json_object_get(o, name);

	*out = 0;
	if (!v || json_is_null(v))
		return required ? need(err, name, "missing") : CCT_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return need(err, name, "not an unsigned integer in range");
	*out = (uint64_t)json_integer_value(v);
	return CCT_OK;
}

static int get_bytes(uint8_t *dst, size_t n, const json_t *o, const char *name, cct_err *err)
{
	const json_t *v = json_object_get(o, name), *x;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) != n)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "attestation_report.%s: expected an array of %zu bytes", name, n);
	json_array_foreach(v, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
			return need(err, name, "element is not a byte");
		dst[i] = (uint8_t)json_integer_value(x);
	}
	return CCT_OK;
}

static int get_tcb(uint8_t *dst, const json_t *o, const char *name, int turin, cct_err *err)
{
	const json_t *t = json_object_get(o, name);
	uint64_t bl, tee, snp, uc, fmc;
	int rc;

	if (json_is_integer(t)) { /* some versions serialise the raw u64 */
		put_le(dst, (uint64_t)json_integer_value(t), 8);
		return CCT_OK;
	}
	if (!json_is_object(t))
		return need(err, name, "expected a TCB object");
	if ((rc = get_uint(&bl, t, "bootloader", 1, 255, err)) ||
	    (rc = get_uint(&tee, t, "tee", 1, 255, err)) ||
	    (rc = get_uint(&snp, t, "snp", 1, 255, err)) ||
	    (rc = get_uint(&uc, t, "microcode", 1, 255, err)) ||
	    (rc = get_uint(&fmc, t, "fmc", 0, 255, err)))
		return rc;
	memset(dst, 0, 8);
	if (turin) { /* Turin: fmc, bl, tee, snp, reserved[3], ucode */
		dst[0] = (uint8_t)fmc;
		dst[1] = (uint8_t)bl;
		dst[2] = (uint8_t)tee;
		dst[3] = (uint8_t)snp;
	} else {     /* Milan/Genoa: bl, tee, reserved[4], snp, ucode */
		dst[0] = (uint8_t)bl;
		dst[1] = (uint8_t)tee;
		dst[6] = (uint8_t)snp;
	}
	dst[7] = (uint8_t)uc;
	return CCT_OK;
}

static int get_version(uint8_t *dst, const json_t *o, const char *prefix, cct_err *err)
{
	char k[32];
	const json_t *nested = json_object_get(o, prefix);
	uint64_t b, mi, ma;
	int rc;

	if (json_is_object(nested)) {
		if ((rc = get_uint(&b, nested, "build", 1, 255, err)) ||
		    (rc = get_uint(&mi, nested, "minor", 1, 255, err)) ||
		    (rc = get_uint(&ma, nested, "major", 1, 255, err)))
			return rc;
	} else {
		snprintf(k, sizeof(k), "%s_build", prefix);
		if ((rc = get_uint(&b, o, k, 1, 255, err)))
			return rc;
		snprintf(k, sizeof(k), "%s_minor", prefix);
		if ((rc = get_uint(&mi, o, k, 1, 255, err)))
			return rc;
		snprintf(k, sizeof(k), "%s_major", prefix);
		if ((rc = get_uint(&ma, o, k, 1, 255, err)))
			return rc;
	}
	dst[0] = (uint8_t)b;
	dst[1] = (uint8_t)mi;
	dst[2] = (uint8_t)ma;
	return CCT_OK;
}

static int add_chain(cct_snp_verifier *v, const json_t *chain, cct_err *err)
{
	const json_t *e;
	size_t i;

	if (!chain || json_is_null(chain))
		return CCT_OK;
	if (!json_is_array(chain) || json_array_size(chain) > MAX_CERT_ENTRIES)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "cert_chain: expected an array of at most %d entries",
				   MAX_CERT_ENTRIES);
	json_array_foreach(chain, i, e) {
		const json_t *d = json_object_get(e, "data"), *x;
		uint8_t *buf;
		size_t j, n;
		int rc;

		if (!json_is_array(d) || json_array_size(d) == 0 ||
		    json_array_size(d) > MAX_CERT_BYTES)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "cert_chain[%zu].data: expected an array of bytes", i);
		n = json_array_size(d);
		buf = malloc(n);
		if (!buf)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		json_array_foreach(d, j, x) {
			if (!json_is_integer(x) || json_integer_value(x) < 0 ||
			    json_integer_value(x) > 255) {
				free(buf);
				return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						   "cert_chain[%zu].data[%zu]: not a byte", i, j);
			}
			buf[j] = (uint8_t)json_integer_value(x);
		}
		rc = cct_snp_verifier_add_certs(v, buf, n, err);
		free(buf);
		if (rc != CCT_OK)
			return rc;
	}
	return CCT_OK;
}

int cct_composite__snp_serde(uint8_t **report, size_t *n, void *verifier, const json_t *ev,
			  cct_err *err)
{
	const json_t *r = json_object_get(ev, "attestation_report"), *sig;
	uint8_t *b = calloc(1, CCT_SNP_REPORT_SIZE);
	uint64_t u, fam = 0;
	int turin, rc = CCT_ERROR;

	*report = NULL;
	*n = 0;
	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	if (!json_is_object(r)) {
		rc = need(err, "", "not an object");
		goto out;
	}
	if ((rc = get_uint(&fam, r, "cpuid_fam_id", 0, 255, err)) != CCT_OK)
		goto out;
	turin = fam == 0x1A;
	if (!turin) { /* a TCB carrying a non-null fmc also means the Turin layout */
		const json_t *t = json_object_get(r, "reported_tcb");

		turin = json_is_object(t) && json_is_integer(json_object_get(t, "fmc"));
	}
#define U(off, name, req, max, width)                                   \
	do {                                                            \
		if ((rc = get_uint(&u, r, name, req, max, err)) != CCT_OK) \
			goto out;                                       \
		put_le(b + (off), u, width);                            \
	} while (0)
	U(0x000, "version", 1, 0xffffffffu, 4);
	U(0x004, "guest_svn", 1, 0xffffffffu, 4);
	U(0x008, "policy", 1, UINT64_MAX >> 1, 8);
	if ((rc = get_bytes(b + 0x010, 16, r, "family_id", err)) ||
	    (rc = get_bytes(b + 0x020, 16, r, "image_id", err)))
		goto out;
	U(0x030, "vmpl", 1, 0xffffffffu, 4);
	U(0x034, "sig_algo", 1, 0xffffffffu, 4);
	if ((rc = get_tcb(b + 0x038, r, "current_tcb", turin, err)))
		goto out;
	U(0x040, "plat_info", 1, UINT64_MAX >> 1, 8);
	if (json_object_get(r, "key_info"))
		U(0x048, "key_info", 1, 0xffffffffu, 4);
	else
		U(0x048, "_author_key_en", 0, 0xffffffffu, 4);
	if ((rc = get_bytes(b + 0x050, 64, r, "report_data", err)) ||
	    (rc = get_bytes(b + 0x090, 48, r, "measurement", err)) ||
	    (rc = get_bytes(b + 0x0C0, 32, r, "host_data", err)) ||
	    (rc = get_bytes(b + 0x0E0, 48, r, "id_key_digest", err)) ||
	    (rc = get_bytes(b + 0x110, 48, r, "author_key_digest", err)) ||
	    (rc = get_bytes(b + 0x140, 32, r, "report_id", err)) ||
	    (rc = get_bytes(b + 0x160, 32, r, "report_id_ma", err)) ||
	    (rc = get_tcb(b + 0x180, r, "reported_tcb", turin, err)))
		goto out;
	U(0x188, "cpuid_fam_id", 0, 255, 1);
	U(0x189, "cpuid_mod_id", 0, 255, 1);
	U(0x18A, "cpuid_step", 0, 255, 1);
	if ((rc = get_bytes(b + 0x1A0, 64, r, "chip_id", err)) ||
	    (rc = get_tcb(b + 0x1E0, r, "committed_tcb", turin, err)) ||
	    (rc = get_version(b + 0x1E8, r, "current", err)) ||
	    (rc = get_version(b + 0x1EC, r, "committed", err)) ||
	    (rc = get_tcb(b + 0x1F0, r, "launch_tcb", turin, err)))
		goto out;
	U(0x1F8, "launch_mit_vector", 0, UINT64_MAX >> 1, 8);
	U(0x200, "current_mit_vector", 0, UINT64_MAX >> 1, 8);
#undef U
	sig = json_object_get(r, "signature");
	if (!json_is_object(sig)) {
		rc = need(err, "signature", "missing");
		goto out;
	}
	if ((rc = get_bytes(b + 0x2A0, 72, sig, "r", err)) ||
	    (rc = get_bytes(b + 0x2E8, 72, sig, "s", err)))
		goto out;
	rc = add_chain(verifier, json_object_get(ev, "cert_chain"), err);
	if (rc != CCT_OK)
		goto out;
	*report = b;
	*n = CCT_SNP_REPORT_SIZE;
	b = NULL;
	rc = CCT_OK;
out:
	free(b);
	return rc;
}
