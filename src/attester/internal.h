/* Attester internals (semi-private). */
#ifndef CCT_ATTESTER_INTERNAL_H
#define CCT_ATTESTER_INTERNAL_H

#include <jansson.h>

#include "cctrust/attester.h"
#include "cctrust/composite.h"

/* Trustee's CPU REPORT_DATA for (nonce, tee-pubkey, additional evidence string). */
int cct_attester__report_data(uint8_t out[64], const char *nonce_b64, const json_t *tee_pubkey,
			      const char *additional, cct_err *err);
/* Trustee's GPU SPDM nonce. */
int cct_attester__gpu_nonce(uint8_t out[32], const char *nonce_b64, const json_t *tee_pubkey,
			    cct_err *err);
/* Digest of init-data TOML (its own "algorithm"). */
int cct_attester__init_data_digest(uint8_t out[64], size_t *n, const char *toml, cct_err *err);
/* The request body; primary is consumed (reference stolen). */
int cct_attester__body(char **out, const cct_attester_opts *o, json_t *primary,
		       const char *additional, cct_err *err);
int cct_attester__b64_member(json_t *o, const char *name, const uint8_t *p, size_t n);
/* GHCB certificate table from DER certificates (RFC 4122 GUID byte order). malloc'd. */
uint8_t *cct_attester__cert_table(size_t *n, const char *const *guids, const uint8_t *const *der,
				  const size_t *der_len, size_t count);

/* configfs-tsm: write inblob (64 bytes), read outblob/auxblob/provider with the generation check.
 * root NULL = $CCT_TSM_ROOT or /sys/kernel/config/tsm/report. Blobs malloc'd. */
typedef struct cct_tsm_report {
	uint8_t *outblob, *auxblob;
	size_t outblob_len, auxblob_len;
	char provider[32];
} cct_tsm_report;
int cct_attester__tsm_report(cct_tsm_report *out, const char *root, const uint8_t inblob[64],
			     cct_err *err);
void cct_attester__tsm_clear(cct_tsm_report *r);
/* Size of an SEV-SNP ATTESTATION_REPORT in MSG_REPORT_RSP (SEV-SNP firmware ABI, table 23).
 * The attester collects and never judges, so it carries the ABI size rather than the verifier's
 * header. */
#define CCT_ATTESTER_SNP_REPORT_SIZE 1184u
/* Offset of REPORT_DATA in it (same table; every report version). */
#define CCT_ATTESTER_SNP_REPORT_DATA_OFFSET 0x50u

/* /dev/sev-guest SNP_GET_EXT_REPORT: report (1184 bytes) + certificate table, malloc'd. */
int cct_attester__sev_guest_report(uint8_t **report, size_t *report_len, uint8_t **certs,
				   size_t *certs_len, const uint8_t report_data[64], cct_err *err);
/* /dev/tdx_guest TDX_CMD_GET_REPORT0: the 1024-byte TDREPORT (the quote needs configfs-tsm). */
int cct_attester__tdx_report(uint8_t out[1024], const uint8_t report_data[64], cct_err *err);

/* Azure IMDS (imds.c, libcurl loaded on first use): base URL (given, $CCT_IMDS_URL, default);
 * the TD quote for a TD report (POST /acc/tdquote); the VCEK as DER (THIM, OPENSSL_free). */
const char *cct_attester__imds_base(const char *given);
int cct_attester__imds_td_quote(uint8_t **quote, size_t *n, const char *base,
				const uint8_t *td_report, size_t len, cct_err *err);
int cct_attester__imds_vcek(uint8_t **der, size_t *n, const char *base, cct_err *err);

/* NVML (dlopen): GPU evidence for a 32-byte nonce. *out = {"device_evidence_list":[..],
 * "cc_mode","ppcie_mode"} (new reference), or NULL when no NVML / no GPU. */
int cct_attester__nvml_evidence(json_t **out, const uint8_t nonce[32], cct_err *err);

#endif
