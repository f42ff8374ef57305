/* CCEL: ACPI CCEL table + TCG2 crypto-agile event log (TCG PC Client PFP spec 10.2), replayed
 * into RTMR0..3 (MR index 1..4) with SHA-384 by the shared event-log engine (src/tpm). */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "cctrust/tpm.h"
#include "core/rd.h"
#include "x509/x509.h"

#define CCEL_TABLE_SIZE 56

static int parse_table(cct_tdx_ccel *out, const uint8_t *t, size_t n, cct_err *err)
{
	cct_rd r;
	const uint8_t *sig;
	uint32_t length;
	uint8_t sum = 0;
	size_t i;

	cct_rd_init(&r, t, n);
	cct_rd_field(&r, "CCEL signature");
	sig = cct_rd_take(&r, 4);
	cct_rd_field(&r, "CCEL length");
	length = cct_rd_u32le(&r);
	cct_rd_field(&r, "CCEL header");
	cct_rd_take(&r, 28); /* revision, checksum, OEM ID/table/revision, creator */
	cct_rd_field(&r, "CC type");
	cct_rd_take(&r, 4);  /* CC type, subtype, reserved */
	cct_rd_field(&r, "log area minimum length");
	out->log_area_min_len = cct_rd_u64le(&r);
	cct_rd_field(&r, "log area start address");
	out->log_area_start = cct_rd_u64le(&r);
	if (cct_rd_check(&r, err, "CCEL table") != CCT_OK)
		return r.err;
	if (memcmp(sig, "CCEL", 4) != 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				   "CCEL table: signature is not \"CCEL\"");
	if (length < CCEL_TABLE_SIZE || length > n)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 4,
				   "CCEL table: length %u does not fit the %zu-byte table", length,
				   n);
	for (i = 0; i < length; i++)
		sum = (uint8_t)(sum + t[i]);
	if (sum != 0)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 9,
				   "CCEL table: checksum does not add up to zero");
	return CCT_OK;
}

/* The log itself goes through the one event-log engine (src/tpm/eventlog.c), which replays
 * MR index 1..4 into RTMR0..3 with the SHA-384 bank; this keeps the TDX view of it. */
int cct_tdx_ccel_parse(cct_tdx_ccel *out, const uint8_t *table, size_t table_len,
		       const uint8_t *data, size_t data_len, cct_err *err)
{
	const cct_evlog_bank *bk;
	cct_evlog log;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (table) {
		rc = parse_table(out, table, table_len, err);
		if (rc != CCT_OK)
			return rc;
		/* the log area holds at most LAML bytes */
		if (out->log_area_min_len && data_len > out->log_area_min_len)
			data_len = (size_t)out->log_area_min_len;
	}
	rc = cct_evlog_parse(&log, data, data_len, CCT_EVLOG_CCEL, err);
	if (rc != CCT_OK)
		return rc;
	bk = cct_evlog_find_bank(&log, CCT_TPM_ALG_SHA384);
	if (!bk || bk->incomplete) {
		for (i = 0; i < log.count; i++)
			if (log.events[i].replayed)
				break;
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE,
				 i < log.count ? log.events[i].offset + 8 : 0,
				 "CCEL event log: an RTMR event carries no SHA-384 digest");
		cct_evlog_free(&log);
		return rc;
	}
	if (log.count > CCT_TDX_MAX_CCEL_EVENTS + 1) {
		cct_evlog_free(&log);
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, 0,
				   "CCEL event log: more than %d events", CCT_TDX_MAX_CCEL_EVENTS);
	}
	out->events = calloc(log.count ? log.count : 1, sizeof(*out->events));
	if (!out->events) {
		cct_evlog_free(&log);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_PARSE, 0, "out of memory");
	}
	for (i = 1; i < log.count; i++) { /* event 0 is the Spec ID event */
		const cct_evlog_event *e = &log.events[i];
		cct_tdx_ccel_event *t = &out->events[out->count++];
		uint32_t k;

		t->mr_index = e->index;
		t->event_type = e->type;
		t->offset = e->offset;
		t->data.p = e->data;
		t->data.size = e->data_len;
		for (k = 0; k < e->ndigests; k++)
			if (e->digests[k].alg == CCT_TPM_ALG_SHA384) {
				memcpy(t->sha384, e->digests[k].d, 48);
				t->has_sha384 = 1;
			}
	}
	for (i = 0; i < 4; i++)
		memcpy(out->rtmr[i], bk->reg[i], 48);
	out->aael_only = log.ccel_placeholder;
	cct_evlog_free(&log);
	return CCT_OK;
}

void cct_tdx_ccel_free(cct_tdx_ccel *c)
{
	if (!c)
		return;
	free(c->events);
	c->events = NULL;
	c->count = 0;
}

int cct_tdx_ccel_check(const cct_tdx_ccel *c, const cct_tdx_quote *q, cct_err *err)
{
	int i;

	for (i = c->aael_only ? 3 : 0; i < 4; i++)
		if (!cct_ct_eq(c->rtmr[i], q->body.rtmr[i], 48)) {
			char a[97], b[97];

			cct_hex_encode(a, c->rtmr[i], 48);
			cct_hex_encode(b, q->body.rtmr[i], 48);
			return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
					   "RTMR%d: event log replays to %.16s..., quote has %.16s...",
					   i, a, b);
		}
	return CCT_OK;
}
