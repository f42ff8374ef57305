/* One TCG event-log engine (TCG PC Client Platform Firmware Profile 2.x, section 10):
 * the SHA-1 legacy format (TCG_PCClientPCREvent only) and the crypto-agile format (a Spec ID
 * event, then TCG_PCR_EVENT2 with one digest per bank), replayed into TPM PCRs 0..23 or, for a
 * TDX CCEL, into RTMR0..3 (MR index 1..4). Every byte goes through the bounded reader. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cctrust/core.h"
#include "cctrust/tpm.h"
#include "core/rd.h"
#include "tpm/tpm_int.h"

const char *cct_tpm_alg_name(uint16_t alg)
{
	switch (alg) {
	case CCT_TPM_ALG_SHA1: return "sha1";
	case CCT_TPM_ALG_SHA256: return "sha256";
	case CCT_TPM_ALG_SHA384: return "sha384";
	case CCT_TPM_ALG_SHA512: return "sha512";
	default: return NULL;
	}
}

uint16_t cct_tpm_alg_from_name(const char *name)
{
	static const uint16_t algs[] = { CCT_TPM_ALG_SHA1, CCT_TPM_ALG_SHA256, CCT_TPM_ALG_SHA384,
					 CCT_TPM_ALG_SHA512 };
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strcmp(name, cct_tpm_alg_name(algs[i])))
			return algs[i];
	return 0;
}

size_t cct_tpm_alg_size(uint16_t alg)
{
	switch (alg) {
	case CCT_TPM_ALG_SHA1: return 20;
	case CCT_TPM_ALG_SHA256: return 32;
	case CCT_TPM_ALG_SHA384: return 48;
	case CCT_TPM_ALG_SHA512: return 64;
	default: return 0;
	}
}

const EVP_MD *cct_tpm_md(uint16_t alg)
{
	switch (alg) {
	case CCT_TPM_ALG_SHA1: return EVP_sha1();
	case CCT_TPM_ALG_SHA256: return EVP_sha256();
	case CCT_TPM_ALG_SHA384: return EVP_sha384();
	case CCT_TPM_ALG_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

int cct_tpm_hash(uint16_t alg, const void *p, size_t n, uint8_t *out)
{
	const EVP_MD *md = cct_tpm_md(alg);
	unsigned int len = 0;

	if (!md || !EVP_Digest(p, n, out, &len, md, NULL))
		return -1;
	return (int)len;
}

const char *cct_evlog_type_name(uint32_t type)
{
	static const struct {
		uint32_t t;
		const char *n;
	} names[] = {
		{ 0x0, "EV_PREBOOT_CERT" }, { 0x1, "EV_POST_CODE" }, { 0x2, "EV_UNUSED" },
		{ 0x3, "EV_NO_ACTION" }, { 0x4, "EV_SEPARATOR" }, { 0x5, "EV_ACTION" },
		{ 0x6, "EV_EVENT_TAG" }, { 0x7, "EV_S_CRTM_CONTENTS" },
		{ 0x8, "EV_S_CRTM_VERSION" }, { 0x9, "EV_CPU_MICROCODE" },
		{ 0xa, "EV_PLATFORM_CONFIG_FLAGS" }, { 0xb, "EV_TABLE_OF_DEVICES" },
		{ 0xc, "EV_COMPACT_HASH" }, { 0xd, "EV_IPL" }, { 0xe, "EV_IPL_PARTITION_DATA" },
		{ 0xf, "EV_NONHOST_CODE" }, { 0x10, "EV_NONHOST_CONFIG" },
		{ 0x11, "EV_NONHOST_INFO" }, { 0x12, "EV_OMIT_BOOT_DEVICE_EVENTS" },
		{ 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
		{ 0x80000002, "EV_EFI_VARIABLE_BOOT" },
		{ 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
		{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
		{ 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
		{ 0x80000006, "EV_EFI_GPT_EVENT" }, { 0x80000007, "EV_EFI_ACTION" },
		{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
		{ 0x80000009, "EV_EFI_HANDOFF_TABLES" },
		{ 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
		{ 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
		{ 0x8000000c, "EV_EFI_VARIABLE_BOOT2" },
		{ 0x80000010, "EV_EFI_HCRTM_EVENT" },
		{ 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
		{ 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
		{ 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == type)
			return names[i].n;
	return "EV_UNKNOWN";
}

const char *cct_evlog_reg_name(const cct_evlog *log, uint32_t reg, char *buf, size_t size)
{
	snprintf(buf, size, "%s%u", log->kind == CCT_EVLOG_CCEL ? "RTMR" : "PCR", reg);
	return buf;
}

uint32_t cct_evlog_grub_index(const cct_evlog *log)
{
	/* GRUB measures commands into PCR 8 and files into PCR 9; TDX maps PCR 8..15 to RTMR2
	 * (MR index 3) */
	return log->kind == CCT_EVLOG_CCEL ? 3 : 8;
}

int cct_evlog_event_reg(const cct_evlog *log, const cct_evlog_event *ev)
{
	if (ev->type == CCT_EV_NO_ACTION)
		return -1;
	if (log->kind == CCT_EVLOG_CCEL)
		return ev->index >= 1 && ev->index <= 4 ? (int)ev->index - 1 : -1;
	return ev->index < CCT_TPM_NUM_PCRS ? (int)ev->index : -1;
}

const cct_evlog_bank *cct_evlog_find_bank(const cct_evlog *log, uint16_t alg)
{
	uint32_t i;

	for (i = 0; i < log->nbanks; i++)
		if (log->banks[i].alg == alg)
			return &log->banks[i];
	return NULL;
}

static int is_fill(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0xff && p[i] != 0x00)
			return 0;
	return 1;
}

/* The data of this event type is what was hashed (PFP 10.4): a changed event is visible. */
static int data_hash_matches(const cct_evlog_event *e, const cct_evlog_digest *d)
{
	uint8_t h[64];
	int n;

	n = cct_tpm_hash(d->alg, e->data, e->data_len, h);
	if (n == d->size && !memcmp(h, d->d, (size_t)n))
		return 1;
	if (e->type == CCT_EV_IPL) {
		/* GRUB: "grub_cmd: X" / "kernel_cmdline: X" (upstream) or "grub_cmd X" /
		 * "grub_kernel_cmdline X" (RHEL), digest = H(X) or H(X NUL) */
		const uint8_t *x;
		size_t xn;

		if (cct_grub_payload(e, &x, &xn) == 0) {
			n = cct_tpm_hash(d->alg, x, xn, h);
			if (n == d->size && !memcmp(h, d->d, (size_t)n))
				return 1;
			/* H(X NUL) only where the event data holds that NUL */
			if ((size_t)(x - e->data) + xn < e->data_len && x[xn] == 0) {
				n = cct_tpm_hash(d->alg, x, xn + 1, h);
				if (n == d->size && !memcmp(h, d->d, (size_t)n))
					return 1;
			}
		}
		return 0;
	}
	if (e->type == CCT_EV_EFI_VARIABLE_BOOT) {
		/* some firmware measures VariableData only (PFP errata; go-eventlog accepts it) */
		cct_efi_var v;

		if (cct_efi_var_parse(&v, e->data, e->data_len) == 0) {
			n = cct_tpm_hash(d->alg, v.value, v.value_len, h);
			if (n == d->size && !memcmp(h, d->d, (size_t)n))
				return 1;
		}
	}
	return 0;
}

static int hashed_type(const cct_evlog *log, const cct_evlog_event *e)
{
	switch (e->type) {
	case CCT_EV_SEPARATOR:
	case CCT_EV_EFI_VARIABLE_DRIVER_CONFIG:
	case CCT_EV_EFI_VARIABLE_BOOT:
	case CCT_EV_EFI_VARIABLE_AUTHORITY:
	case CCT_EV_EFI_GPT_EVENT:
	case CCT_EV_EFI_ACTION:
		return 1;
	case CCT_EV_IPL: {
		const uint8_t *x;
		size_t xn;

		return e->index == cct_evlog_grub_index(log) && cct_grub_payload(e, &x, &xn) == 0;
	}
	default:
		return 0;
	}
}

static void check_event_data(const cct_evlog *log, cct_evlog_event *e)
{
	uint32_t i;
	int ok = 1, any = 0;

	if (!hashed_type(log, e)) {
		e->data_check = 0;
		return;
	}
	for (i = 0; i < e->ndigests; i++) {
		if (!cct_tpm_md(e->digests[i].alg))
			continue;
		any = 1;
		if (!data_hash_matches(e, &e->digests[i]))
			ok = 0;
	}
	e->data_check = !any ? 0 : ok ? 1 : -1;
}

/* TCG_EfiSpecIDEvent: the crypto-agile log's banks and digest sizes (PFP 10.4.5.1). */
static void parse_spec_id(cct_rd *ev, cct_evlog *out)
{
	uint32_t n, i;

	cct_rd_field(ev, "Spec ID platform class/version/errata/uintn size");
	cct_rd_take(ev, 8);
	cct_rd_field(ev, "Spec ID numberOfAlgorithms");
	n = cct_rd_u32le(ev);
	if (!ev->err && (n == 0 || n > CCT_TPM_MAX_BANKS)) {
		cct_rd_fail_at(ev, CCT_ETOOBIG, cct_rd_pos(ev) - 4);
		return;
	}
	for (i = 0; !ev->err && i < n; i++) {
		uint16_t alg, size;
		uint32_t k;

		cct_rd_field(ev, "Spec ID algorithmId");
		alg = cct_rd_u16le(ev);
		cct_rd_field(ev, "Spec ID digestSize");
		size = cct_rd_u16le(ev);
		if (ev->err)
			return;
		if (size == 0 || size > 64 ||
		    (cct_tpm_alg_size(alg) && cct_tpm_alg_size(alg) != size)) {
			cct_rd_fail_at(ev, CCT_EFORMAT, cct_rd_pos(ev) - 2);
			return;
		}
		for (k = 0; k < out->nbanks; k++)
			if (out->banks[k].alg == alg) {
				cct_rd_fail_at(ev, CCT_EFORMAT, cct_rd_pos(ev) - 4);
				return;
			}
		out->banks[out->nbanks].alg = alg;
		out->banks[out->nbanks].size = size;
		out->nbanks++;
	}
	cct_rd_field(ev, "Spec ID vendorInfo");
	cct_rd_take(ev, cct_rd_u8(ev));
}

static int grow(cct_evlog *out, size_t *cap)
{
	cct_evlog_event *n;
	size_t c = *cap ? *cap * 2 : 256;

	if (c > CCT_EVLOG_MAX_EVENTS)
		c = CCT_EVLOG_MAX_EVENTS;
	n = realloc(out->events, c * sizeof(*n));
	if (!n)
		return -1;
	out->events = n;
	*cap = c;
	return 0;
}

static void init_regs(cct_evlog *out)
{
	uint32_t b, i;

	for (b = 0; b < out->nbanks; b++) {
		memset(out->banks[b].reg, 0, sizeof(out->banks[b].reg));
		/* PCR 17..22 reset to all ones at TPM2_Startup (PC Client PTP, PCR attributes) */
		if (out->kind == CCT_EVLOG_TPM)
			for (i = 17; i <= 22; i++)
				memset(out->banks[b].reg[i], 0xff, out->banks[b].size);
	}
}

static void extend(cct_evlog *out, cct_evlog_event *e)
{
	int reg = cct_evlog_event_reg(out, e);
	uint32_t b, k;

	if (reg < 0)
		return;
	e->replayed = 1;
	for (b = 0; b < out->nbanks; b++) {
		cct_evlog_bank *bk = &out->banks[b];
		const cct_evlog_digest *d = NULL;
		uint8_t buf[128];

		for (k = 0; k < e->ndigests; k++)
			if (e->digests[k].alg == bk->alg)
				d = &e->digests[k];
		if (!d || !cct_tpm_md(bk->alg)) {
			bk->incomplete = 1;
			continue;
		}
		memcpy(buf, bk->reg[reg], bk->size);
		memcpy(buf + bk->size, d->d, bk->size);
		cct_tpm_hash(bk->alg, buf, 2u * bk->size, bk->reg[reg]);
	}
}

/* EV_NO_ACTION "StartupLocality\0" + locality (PFP 10.4.5.3): PCR0's initial value. */
static void startup_locality(cct_evlog *out, const cct_evlog_event *e)
{
	uint32_t b;

	if (out->kind != CCT_EVLOG_TPM || e->index != 0 || e->data_len != 17 ||
	    memcmp(e->data, "StartupLocality\0", 16) != 0)
		return;
	out->startup_locality = e->data[16];
	for (b = 0; b < out->nbanks; b++) {
		memset(out->banks[b].reg[0], 0, out->banks[b].size);
		out->banks[b].reg[0][out->banks[b].size - 1] = e->data[16];
	}
}

int cct_evlog_parse(cct_evlog *out, const uint8_t *data, size_t len, cct_evlog_kind kind,
		    cct_err *err)
{
	cct_rd r;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->nregs = kind == CCT_EVLOG_CCEL ? 4 : CCT_TPM_NUM_PCRS;
	out->startup_locality = -1;
	if (!data || len < 32)
		return cct_err_set(err, CCT_ETRUNC, CCT_STAGE_PARSE, 0,
				   "event log: %zu bytes is too short for a first event", len);
	cct_rd_init(&r, data, len);

	/* First event, always TCG_PCClientPCREvent (SHA-1 format). Crypto-agile logs put the
	 * Spec ID Event03 here; otherwise the whole log is in the SHA-1 format. */
	if (len >= 48 && rd_le32(data + 4) == CCT_EV_NO_ACTION &&
	    (!memcmp(data + 32, "Spec ID Event03", 16) ||
	     (kind == CCT_EVLOG_CCEL && cct_is_zero(data + 32, 16)))) {
		cct_evlog_event *e;
		cct_rd ev;
		uint32_t size;

		out->crypto_agile = 1;
		out->ccel_placeholder = kind == CCT_EVLOG_CCEL && cct_is_zero(data + 32, 16);
		if (grow(out, &cap))
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_PARSE, 0, "out of memory");
		e = &out->events[0];
		memset(e, 0, sizeof(*e));
		cct_rd_field(&r, "Spec ID event PCR index");
		e->index = cct_rd_u32le(&r);
		e->type = cct_rd_u32le(&r);
		cct_rd_field(&r, "Spec ID event digest");
		e->digests[0].d = cct_rd_take(&r, 20);
		e->digests[0].alg = CCT_TPM_ALG_SHA1;
		e->digests[0].size = 20;
		e->ndigests = 1;
		cct_rd_field(&r, "Spec ID event size");
		size = cct_rd_u32le(&r);
		cct_rd_field(&r, "Spec ID event");
		cct_rd_sub(&r, size, &ev);
		e->data = ev.p;
		e->data_len = ev.err ? 0 : size;
		cct_rd_take(&ev, 16);
		parse_spec_id(&ev, out);
		cct_rd_join(&r, &ev);
		if (!r.err)
			out->count = 1;
	} else {
		out->nbanks = 1;
		out->banks[0].alg = CCT_TPM_ALG_SHA1;
		out->banks[0].size = 20;
		if (kind == CCT_EVLOG_CCEL)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 32,
					   "CCEL: the first event is not a Spec ID Event03 "
					   "(a CCEL is always crypto-agile)");
	}
	init_regs(out);

	while (!r.err && cct_rd_left(&r) > 0) {
		cct_evlog_event *e;
		size_t start = cct_rd_pos(&r);
		const uint8_t *peek = data + r.off;
		uint32_t i, k, count, dsize;
		cct_rd ev;

		/* end of log: 0xFF/0x00 fill of the rest of the log area */
		if (is_fill(peek, cct_rd_left(&r) < 8 ? cct_rd_left(&r) : 8) &&
		    is_fill(peek, cct_rd_left(&r)))
			break;
		if (out->count >= CCT_EVLOG_MAX_EVENTS) {
			cct_rd_fail(&r, CCT_ETOOBIG);
			break;
		}
		if (out->count >= cap && grow(out, &cap)) {
			cct_evlog_free(out);
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_PARSE, 0, "out of memory");
		}
		e = &out->events[out->count];
		memset(e, 0, sizeof(*e));
		e->seq = out->count;
		e->offset = start;
		cct_rd_field(&r, kind == CCT_EVLOG_CCEL ? "event MR index" : "event PCR index");
		e->index = cct_rd_u32le(&r);
		cct_rd_field(&r, "event type");
		e->type = cct_rd_u32le(&r);
		if (r.err)
			break;
		if (kind == CCT_EVLOG_CCEL && e->index >= 16)
			e->index = 4; /* AAEL register index (PCR numbering) -> RTMR3 */
		if (e->index >= (kind == CCT_EVLOG_CCEL ? 5u : (uint32_t)CCT_TPM_NUM_PCRS) ||
		    (out->ccel_placeholder && e->index != 4 && e->type != CCT_EV_NO_ACTION)) {
			/* after the placeholder header only the agent's RTMR3 events can follow */
			cct_rd_fail_at(&r, CCT_EFORMAT, start);
			break;
		}
		if (out->crypto_agile) {
			cct_rd_field(&r, "digest count");
			count = cct_rd_u32le(&r);
			if (!r.err && (count == 0 || count > out->nbanks)) {
				cct_rd_fail_at(&r, CCT_EFORMAT, start + 8);
				break;
			}
			for (i = 0; !r.err && i < count; i++) {
				const cct_evlog_bank *bk;

				cct_rd_field(&r, "digest algorithm");
				e->digests[i].alg = cct_rd_u16le(&r);
				bk = cct_evlog_find_bank(out, e->digests[i].alg);
				if (!r.err && !bk) {
					cct_rd_fail_at(&r, CCT_EFORMAT, cct_rd_pos(&r) - 2);
					break;
				}
				/* one digest per bank: a second one of the same algorithm would
				 * leave the replay to pick one of two (another tool the other) */
				for (k = 0; !r.err && k < i; k++)
					if (e->digests[k].alg == e->digests[i].alg) {
						size_t at = cct_rd_pos(&r) - 2;
						int rc;

						/* the message first: e and bk live in out */
						rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, at,
								 "TCG event log: event #%zu (offset "
								 "%zu) carries a second %s digest at "
								 "offset %zu (one per bank)",
								 e->seq, start,
								 cct_tpm_alg_name(bk->alg)
									 ? cct_tpm_alg_name(bk->alg)
									 : "same-algorithm", at);
						cct_evlog_free(out);
						return rc;
					}
				if (r.err)
					break;
				cct_rd_field(&r, "digest");
				e->digests[i].size = bk->size;
				e->digests[i].d = cct_rd_take(&r, bk->size);
			}
			e->ndigests = count;
		} else {
			cct_rd_field(&r, "SHA-1 digest");
			e->digests[0].alg = CCT_TPM_ALG_SHA1;
			e->digests[0].size = 20;
			e->digests[0].d = cct_rd_take(&r, 20);
			e->ndigests = 1;
		}
		cct_rd_field(&r, "event size");
		dsize = cct_rd_u32le(&r);
		cct_rd_field(&r, "event data");
		cct_rd_sub(&r, dsize, &ev);
		e->data = cct_rd_take(&ev, dsize);
		e->data_len = e->data ? dsize : 0;
		cct_rd_join(&r, &ev);
		if (r.err)
			break;
		out->count++;
		if (e->type == CCT_EV_NO_ACTION) {
			startup_locality(out, e);
			continue;
		}
		check_event_data(out, e);
		extend(out, e);
	}
	rc = cct_rd_check(&r, err, kind == CCT_EVLOG_CCEL ? "CCEL event log" : "TCG event log");
	if (rc == CCT_OK && out->count == 0) /* fill from the first byte: not a log */
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "TCG event log: no events (%zu bytes of 0x00 / 0xFF fill from the "
				 "start): not an event log",
				 len);
	if (rc != CCT_OK) {
		cct_evlog_free(out);
		return rc;
	}
	return CCT_OK;
}

void cct_evlog_free(cct_evlog *log)
{
	if (!log)
		return;
	free(log->events);
	log->events = NULL;
	log->count = 0;
}

int cct_tpm_pcrs_set(cct_tpm_pcrs *p, uint16_t alg, uint32_t index, const uint8_t *v, size_t n,
		     cct_err *err)
{
	uint32_t b;

	if (index >= CCT_TPM_NUM_PCRS)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "register index %u is above 23", index);
	if (!cct_tpm_alg_size(alg) || cct_tpm_alg_size(alg) != n)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "%s[%u]: %zu bytes, expected %zu",
				   cct_tpm_alg_name(alg) ? cct_tpm_alg_name(alg) : "?", index, n,
				   cct_tpm_alg_size(alg));
	for (b = 0; b < p->nbanks; b++)
		if (p->banks[b].alg == alg)
			break;
	if (b == p->nbanks) {
		if (p->nbanks >= CCT_TPM_MAX_BANKS)
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "too many banks");
		p->nbanks++;
		p->banks[b].alg = alg;
		p->banks[b].size = (uint16_t)n;
		p->banks[b].mask = 0;
	}
	memcpy(p->banks[b].v[index], v, n);
	p->banks[b].mask |= 1u << index;
	return CCT_OK;
}

/* Name the event that explains a diverging register: the first extended event of that
 * register whose data no longer hashes to its digest, else say which events fed it. */
static void describe_divergence(const cct_evlog *log, int reg, char *buf, size_t size)
{
	size_t i, n = 0, first = 0, last = 0;

	for (i = 0; i < log->count; i++) {
		const cct_evlog_event *e = &log->events[i];

		if (!e->replayed || cct_evlog_event_reg(log, e) != reg)
			continue;
		if (e->data_check < 0) {
			snprintf(buf, size, "first diverging event #%zu (%s at offset %zu): its data "
				 "does not hash to its digest", e->seq, cct_evlog_type_name(e->type),
				 e->offset);
			return;
		}
		if (!n++)
			first = i;
		last = i;
	}
	if (!n)
		snprintf(buf, size, "no event extends it (its value was not produced by this log)");
	else
		snprintf(buf, size, "events #%zu..#%zu (%zu) extend it; one of their digests or the "
			 "register value was changed; last event #%zu (%s at offset %zu)",
			 log->events[first].seq, log->events[last].seq, n, log->events[last].seq,
			 cct_evlog_type_name(log->events[last].type), log->events[last].offset);
}

int cct_evlog_compare(const cct_evlog *log, const cct_tpm_pcrs *want, cct_err *err)
{
	uint32_t b, i;
	size_t k;

	for (b = 0; b < want->nbanks; b++) {
		const cct_evlog_bank *bk = cct_evlog_find_bank(log, want->banks[b].alg);
		const char *an = cct_tpm_alg_name(want->banks[b].alg);

		if (!want->banks[b].mask)
			continue;
		if (!bk)
			return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
					   "the log has no %s bank to compare with", an);
		for (i = 0; i < log->nregs; i++) {
			char rn[16], why[200], a[129], x[129];

			if (!(want->banks[b].mask & (1u << i)))
				continue;
			if (bk->incomplete)
				return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
						   "%s bank: some events carry no %s digest, "
						   "it cannot be replayed", an, an);
			if (cct_ct_eq(bk->reg[i], want->banks[b].v[i], bk->size))
				continue;
			describe_divergence(log, (int)i, why, sizeof(why));
			cct_hex_encode(a, bk->reg[i], bk->size);
			cct_hex_encode(x, want->banks[b].v[i], bk->size);
			return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, 0,
					   "%s %s: replays to %.16s..., expected %.16s...; %s", an,
					   cct_evlog_reg_name(log, i, rn, sizeof(rn)), a, x, why);
		}
	}
	/* a replay that matches but carries an altered hash-checked event still lies */
	for (k = 0; k < log->count; k++) {
		const cct_evlog_event *e = &log->events[k];
		int reg = cct_evlog_event_reg(log, e);
		char rn[16];

		if (e->data_check >= 0 || reg < 0)
			continue;
		for (b = 0; b < want->nbanks; b++)
			if (want->banks[b].mask & (1u << reg))
				return cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT,
						   e->offset,
						   "%s: event #%zu (%s at offset %zu) was changed: its "
						   "data does not hash to its digest",
						   cct_evlog_reg_name(log, (uint32_t)reg, rn, sizeof(rn)),
						   e->seq, cct_evlog_type_name(e->type), e->offset);
	}
	return CCT_OK;
}
