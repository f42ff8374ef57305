/* CCEL: ACPI CCEL table + TCG2 crypto-agile event log (TCG PC Client PFP spec 10.2), replayed
 * into RTMR0..3 (MR index 1..4) with SHA-384. Parsed through the bounded reader. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/tdx.h"
#include "core/rd.h"
#include "x509/x509.h"

#define CCEL_TABLE_SIZE 56
#define EV_NO_ACTION 3u
#define TPM_ALG_SHA1 0x0004
#define TPM_ALG_SHA256 0x000B
#define TPM_ALG_SHA384 0x000C
#define TPM_ALG_SHA512 0x000D
#define MAX_ALGS 8

struct alg {
	uint16_t id, size;
};

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

/* TCG_PCClientPCREvent (SHA-1 format) carrying the TCG_EfiSpecIDEvent: digest sizes */
static int all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void parse_spec_id(cct_rd *r, struct alg *algs, uint32_t *nalgs, int *placeholder)
{
	cct_rd ev;
	uint32_t size, i;
	const uint8_t *sig;

	cct_rd_field(r, "first event header");
	cct_rd_take(r, 4 + 4 + 20); /* PCR index, EV_NO_ACTION, SHA-1 digest */
	cct_rd_field(r, "Spec ID event size");
	size = cct_rd_u32le(r);
	cct_rd_field(r, "Spec ID event");
	cct_rd_sub(r, size, &ev);
	sig = cct_rd_take(&ev, 16);
	/* guest-components' placeholder header (no CCEL in the guest, AAEL follows) has an
	 * all-zero signature; everything else must be a real Spec ID Event */
	*placeholder = sig && all_zero(sig, 16);
	if (sig && !*placeholder && memcmp(sig, "Spec ID Event03", 16) != 0)
		cct_rd_fail_at(&ev, CCT_EFORMAT, ev.base);
	cct_rd_take(&ev, 8); /* platform class, spec version, errata, uintn size */
	*nalgs = cct_rd_u32le(&ev);
	if (!ev.err && (*nalgs == 0 || *nalgs > MAX_ALGS))
		cct_rd_fail(&ev, CCT_ETOOBIG);
	for (i = 0; !ev.err && i < *nalgs; i++) {
		algs[i].id = cct_rd_u16le(&ev);
		algs[i].size = cct_rd_u16le(&ev);
	}
	cct_rd_take(&ev, cct_rd_u8(&ev)); /* vendor info */
	cct_rd_join(r, &ev);
}

static int is_fill(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0xff && p[i] != 0x00)
			return 0;
	return 1;
}

int cct_tdx_ccel_parse(cct_tdx_ccel *out, const uint8_t *table, size_t table_len,
		       const uint8_t *data, size_t data_len, cct_err *err)
{
	struct alg algs[MAX_ALGS];
	uint32_t nalgs = 0;
	cct_rd r;
	int rc = CCT_ERROR;

	memset(out, 0, sizeof(*out));
	if (table) {
		rc = parse_table(out, table, table_len, err);
		if (rc != CCT_OK)
			return rc;
		/* the log area holds at most LAML bytes */
		if (out->log_area_min_len && data_len > out->log_area_min_len)
			data_len = (size_t)out->log_area_min_len;
	}
	out->events = calloc(CCT_TDX_MAX_CCEL_EVENTS, sizeof(*out->events));
	if (!out->events)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_PARSE, 0, "out of memory");
	cct_rd_init(&r, data, data_len);
	parse_spec_id(&r, algs, &nalgs, &out->aael_only);
	while (!r.err && cct_rd_left(&r) >= 8) {
		cct_tdx_ccel_event *e;
		size_t start = cct_rd_pos(&r);
		const uint8_t *peek = data + r.off;
		uint32_t count, i, dsize;
		cct_rd ev;

		/* end of log: 0xFF/0x00 fill of the rest of the log area */
		if (is_fill(peek, 8) && is_fill(peek, cct_rd_left(&r)))
			break;
		if (out->count >= CCT_TDX_MAX_CCEL_EVENTS) {
			cct_rd_fail(&r, CCT_ETOOBIG);
			break;
		}
		e = &out->events[out->count];
		e->offset = start;
		cct_rd_field(&r, "event MR index");
		e->mr_index = cct_rd_u32le(&r);
		cct_rd_field(&r, "event type");
		e->event_type = cct_rd_u32le(&r);
		cct_rd_field(&r, "digest count");
		count = cct_rd_u32le(&r);
		if (!r.err && (count == 0 || count > nalgs)) {
			cct_rd_fail_at(&r, CCT_EFORMAT, start + 8);
			break;
		}
		if (!r.err && e->mr_index >= 16) /* AAEL register index (PCR numbering) */
			e->mr_index = 4;
		if (!r.err && (e->mr_index > 4 ||
			       (out->aael_only && e->mr_index != 4 && e->event_type != EV_NO_ACTION))) {
			/* after the placeholder header only the agent's RTMR3 events can follow */
			cct_rd_fail_at(&r, CCT_EFORMAT, start);
			break;
		}
		for (i = 0; !r.err && i < count; i++) {
			uint16_t id, k, size = 0;
			const uint8_t *d;

			cct_rd_field(&r, "digest algorithm");
			id = cct_rd_u16le(&r);
			for (k = 0; k < nalgs; k++)
				if (algs[k].id == id)
					size = algs[k].size;
			if (!r.err && !size) {
				cct_rd_fail_at(&r, CCT_EFORMAT, cct_rd_pos(&r) - 2);
				break;
			}
			cct_rd_field(&r, "digest");
			d = cct_rd_take(&r, size);
			if (d && id == TPM_ALG_SHA384 && size == 48) {
				memcpy(e->sha384, d, 48);
				e->has_sha384 = 1;
			}
		}
		cct_rd_field(&r, "event size");
		dsize = cct_rd_u32le(&r);
		cct_rd_field(&r, "event data");
		cct_rd_sub(&r, dsize, &ev);
		e->data.p = cct_rd_take(&ev, dsize);
		e->data.size = e->data.p ? dsize : 0;
		cct_rd_join(&r, &ev);
		if (r.err)
			break;
		out->count++;
		if (e->event_type == EV_NO_ACTION || e->mr_index == 0)
			continue;
		if (!e->has_sha384) {
			cct_rd_fail_at(&r, CCT_EUNSUPPORTED, start + 8);
			break;
		}
		{
			uint8_t buf[96];

			memcpy(buf, out->rtmr[e->mr_index - 1], 48);
			memcpy(buf + 48, e->sha384, 48);
			cct_sha384(buf, 96, out->rtmr[e->mr_index - 1]);
		}
	}
	rc = cct_rd_check(&r, err, "CCEL event log");
	if (rc != CCT_OK) {
		cct_tdx_ccel_free(out);
		return rc;
	}
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
