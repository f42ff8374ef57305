/* cctrust evidence collect: this machine's evidence as a KBS 0.4.0 attest request body.
 * Order follows Trustee's guest: GPU evidence first (SPDM nonce = first 32 bytes of
 * SHA-384(JCS({nonce, tee-pubkey}))), then the CPU report over
 * SHA-384(JCS({additional-evidence, nonce, tee-pubkey})) so it covers the GPU evidence. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attester/internal.h"
#include "cctrust/core.h"
#include "cctrust/tdx.h"

/* What configfs-tsm returned must be one report over the REPORT_DATA written to inblob: a
 * truncated or padded blob, or a report over another writer's inblob, is refused here instead of
 * being sent on. The attester still does not judge the report (signature, TCB, policy). */
static int tsm_bound(const cct_tsm_report *t, const uint8_t rd[64], cct_err *err)
{
	char want[17], got_hex[17];
	const uint8_t *got;
	cct_tdx_quote q;
	cct_err e;

	if (!strcmp(t->provider, "sev_guest")) {
		if (t->outblob_len != CCT_ATTESTER_SNP_REPORT_SIZE)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "configfs-tsm outblob (sev_guest): %zu bytes; an SNP "
					   "report is %u",
					   t->outblob_len, CCT_ATTESTER_SNP_REPORT_SIZE);
		got = t->outblob + CCT_ATTESTER_SNP_REPORT_DATA_OFFSET;
	} else {
		if (cct_tdx_quote_parse(&q, t->outblob, t->outblob_len, &e) != CCT_OK)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "configfs-tsm outblob (tdx_guest): %s", e.msg);
		got = q.body.report_data;
	}
	if (memcmp(got, rd, 64)) {
		cct_hex_encode(want, rd, 8);
		cct_hex_encode(got_hex, got, 8);
		return cct_err_set(err, CCT_ENONCE, CCT_STAGE_INPUT, 0,
				   "configfs-tsm outblob (%s): REPORT_DATA is %s..., not the %s... "
				   "written to inblob (a report over another writer's inblob?)",
				   t->provider, got_hex, want);
	}
	return CCT_OK;
}

static int from_tsm(json_t **primary, const uint8_t rd[64], cct_err *err)
{
	cct_tsm_report t;
	json_t *p = json_object();
	int rc;

	rc = cct_attester__tsm_report(&t, NULL, rd, err);
	if (rc != CCT_OK) {
		json_decref(p);
		return rc;
	}
	if (strcmp(t.provider, "tdx_guest") && strcmp(t.provider, "sev_guest"))
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "configfs-tsm provider \"%s\" is not supported (sev_guest, tdx_guest)",
				 t.provider);
	else
		rc = tsm_bound(&t, rd, err);
	if (rc == CCT_OK && !strcmp(t.provider, "tdx_guest")) {
		const char *cp = getenv(CCT_ATTESTER_CCEL_ENV);
		uint8_t *ccel = NULL;
		size_t n = 0;

		cct_attester__b64_member(p, "quote", t.outblob, t.outblob_len);
		if (cct_file_read(&ccel, &n, cp && *cp ? cp : CCT_ATTESTER_CCEL, 1u << 24, NULL) ==
		    CCT_OK)
			cct_attester__b64_member(p, "cc_eventlog", ccel, n);
		else
			json_object_set_new(p, "cc_eventlog", json_null());
		free(ccel);
	} else if (rc == CCT_OK) { /* sev_guest */
		cct_attester__b64_member(p, "outblob", t.outblob, t.outblob_len);
		if (t.auxblob)
			cct_attester__b64_member(p, "auxblob", t.auxblob, t.auxblob_len);
		json_object_set_new(p, "provider", json_string(t.provider));
	}
	cct_attester__tsm_clear(&t);
	if (rc != CCT_OK) {
		json_decref(p);
		return rc;
	}
	*primary = p;
	return CCT_OK;
}

static int from_sev_guest(json_t **primary, const uint8_t rd[64], cct_err *err)
{
	uint8_t *rep = NULL, *certs = NULL;
	size_t rn = 0, cn = 0;
	json_t *p;
	int rc = cct_attester__sev_guest_report(&rep, &rn, &certs, &cn, rd, err);

	if (rc != CCT_OK)
		return rc;
	p = json_object();
	cct_attester__b64_member(p, "report", rep, rn);
	if (certs)
		cct_attester__b64_member(p, "cert_table", certs, cn);
	free(rep);
	free(certs);
	*primary = p;
	return CCT_OK;
}

static int dir_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int cct_attester_collect(char **out, const cct_attester_opts *o, cct_err *err)
{
	const char *m = o && o->cpu_method ? o->cpu_method : "auto";
	const char *tsm = getenv(CCT_ATTESTER_TSM_ENV);
	const char *sev = getenv(CCT_ATTESTER_SEV_DEV_ENV);
	uint8_t gpu_nonce[32], rd[64];
	json_t *nv = NULL, *primary = NULL;
	char *additional = NULL;
	int rc;

	*out = NULL;
	if (!o || (o->report_data ? !o->gpu_nonce : !o->nonce_b64 || !o->tee_pubkey))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "nonce and tee-pubkey (or report_data and gpu_nonce) required");
	/* set but empty (an unset variable in a script): refused, never "/" + entry nor a fall
	 * back to the real interface */
	if ((tsm && !*tsm) || (sev && !*sev))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "$%s is set but empty",
				   tsm && !*tsm ? CCT_ATTESTER_TSM_ENV : CCT_ATTESTER_SEV_DEV_ENV);
	if (!tsm)
		tsm = CCT_ATTESTER_TSM_ROOT;
	if (!sev)
		sev = "/dev/sev-guest";
	if (!strcmp(m, "auto"))
		m = dir_exists(tsm) ? "tsm" : access(sev, F_OK) == 0 ? "sev-guest" : NULL;
	if (!m)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "no TEE interface on this machine (%s, %s, /dev/tdx_guest): not a "
				   "confidential VM?",
				   tsm, sev);
	if (o->report_data)
		memcpy(gpu_nonce, o->gpu_nonce, 32);
	else if ((rc = cct_attester__gpu_nonce(gpu_nonce, o->nonce_b64, o->tee_pubkey, err)) != CCT_OK)
		return rc;
	if (!o->no_gpu) {
		rc = cct_attester__nvml_evidence(&nv, gpu_nonce, err);
		if (rc != CCT_OK)
			return rc;
	}
	if (nv) {
		json_t *a = json_pack("{s:o}", "nvidia", nv);

		additional = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		if (!additional)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	if (o->report_data)
		memcpy(rd, o->report_data, 64);
	else if ((rc = cct_attester__report_data(rd, o->nonce_b64, o->tee_pubkey, additional,
						 err)) != CCT_OK)
		goto out;
	if (!strcmp(m, "tsm"))
		rc = from_tsm(&primary, rd, err);
	else if (!strcmp(m, "sev-guest"))
		rc = from_sev_guest(&primary, rd, err);
	else if (!strcmp(m, "tdx-guest"))
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				 "/dev/tdx_guest gives only a TDREPORT; a TDX quote needs configfs-tsm "
				 "(Linux >= 6.7): use --cpu tsm");
	else
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "unknown CPU method \"%.20s\" (auto, tsm, sev-guest, tdx-guest)", m);
	if (rc != CCT_OK)
		goto out;
	rc = cct_attester__body(out, o, primary, additional, err);
out:
	free(additional);
	return rc;
}
