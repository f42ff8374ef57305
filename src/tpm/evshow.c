/* Event log: decoding of the event data the PC Client PFP defines (EFI variables, images,
 * GPT, separators, GRUB IPL text), derived facts, the JSON view, and expected-register files. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cctrust/core.h"
#include "cctrust/tpm.h"
#include "core/rd.h"
#include "tpm/tpm_int.h"

static const uint8_t efi_global_guid[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					     0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };

void cct_efi_guid_str(char out[37], const uint8_t *g)
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}

/* UTF-16LE to ASCII ('?' for anything else), NUL-terminated, truncated to size. */
static void utf16_ascii(char *out, size_t size, const uint8_t *p, size_t nchars)
{
	size_t i, o = 0;

	for (i = 0; i < nchars && o + 1 < size; i++) {
		uint16_t c = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);

		if (!c)
			break;
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = 0;
}

int cct_efi_var_parse(cct_efi_var *v, const uint8_t *p, size_t n)
{
	cct_rd r;
	uint64_t nlen, dlen;
	const uint8_t *name;

	memset(v, 0, sizeof(*v));
	cct_rd_init(&r, p, n);
	v->guid = cct_rd_take(&r, 16);
	nlen = cct_rd_u64le(&r);
	dlen = cct_rd_u64le(&r);
	if (r.err || nlen > cct_rd_left(&r) / 2 || dlen > cct_rd_left(&r))
		return -1;
	name = cct_rd_take(&r, (size_t)nlen * 2);
	v->value = cct_rd_take(&r, (size_t)dlen);
	v->value_len = (size_t)dlen;
	if (r.err || cct_rd_left(&r) != 0)
		return -1;
	utf16_ascii(v->name, sizeof(v->name), name, (size_t)nlen);
	return 0;
}

static const char *const grub_prefixes[] = { "grub_cmd: ", "kernel_cmdline: ", "grub_cmd ",
					     "grub_kernel_cmdline " };

int cct_grub_payload(const cct_evlog_event *e, const uint8_t **x, size_t *xn)
{
	size_t i, n = e->data_len;

	if (e->type != CCT_EV_IPL || !e->data)
		return -1;
	while (n && e->data[n - 1] == 0)
		n--;
	for (i = 0; i < sizeof(grub_prefixes) / sizeof(grub_prefixes[0]); i++) {
		size_t pl = strlen(grub_prefixes[i]);

		if (n >= pl && !memcmp(e->data, grub_prefixes[i], pl)) {
			*x = e->data + pl;
			*xn = n - pl;
			return 0;
		}
	}
	return -1;
}

int cct_grub_is_cmdline(const cct_evlog_event *e)
{
	return e->type == CCT_EV_IPL && e->data &&
	       ((e->data_len > 16 && !memcmp(e->data, "kernel_cmdline: ", 16)) ||
		(e->data_len > 20 && !memcmp(e->data, "grub_kernel_cmdline ", 20)));
}

static int contains(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (!memcmp(p + i, needle, k))
			return 1;
	return 0;
}

static json_t *text_json(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	json_t *j;
	size_t i;

	if (!s)
		return json_null();
	while (n && p[n - 1] == 0)
		n--;
	for (i = 0; i < n; i++)
		s[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : (p[i] == '\n' || p[i] == '\t') ? (char)p[i] : '?';
	s[n] = 0;
	j = json_string(s);
	free(s);
	return j;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *j;

	if (!s)
		return json_null();
	cct_hex_encode(s, p, n);
	j = json_string(s);
	free(s);
	return j;
}

/* EFI device path: the file path nodes (type 4, subtype 4) joined. */
static json_t *devpath_file(const uint8_t *p, size_t n)
{
	char out[512] = "";
	size_t off = 0, o = 0;

	while (off + 4 <= n) {
		uint8_t type = p[off], sub = p[off + 1];
		uint16_t len = (uint16_t)(p[off + 2] | p[off + 3] << 8);

		if (len < 4 || off + len > n)
			break;
		if (type == 0x7f)
			break;
		if (type == 4 && sub == 4) {
			char seg[256];

			utf16_ascii(seg, sizeof(seg), p + off + 4, (len - 4u) / 2);
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", seg);
			if (o >= sizeof(out))
				o = sizeof(out) - 1;
		}
		off += len;
	}
	return o ? json_string(out) : json_null();
}

static void decode_event(json_t *j, const cct_evlog_event *e)
{
	cct_rd r;

	switch (e->type) {
	case CCT_EV_EFI_VARIABLE_DRIVER_CONFIG:
	case CCT_EV_EFI_VARIABLE_BOOT:
	case CCT_EV_EFI_VARIABLE_BOOT2:
	case CCT_EV_EFI_VARIABLE_AUTHORITY: {
		cct_efi_var v;
		char g[37];

		if (cct_efi_var_parse(&v, e->data, e->data_len) != 0)
			break;
		cct_efi_guid_str(g, v.guid);
		json_object_set_new(j, "variable_guid", json_string(g));
		json_object_set_new(j, "variable_name", json_string(v.name));
		json_object_set_new(j, "variable_size", json_integer((json_int_t)v.value_len));
		if (!strcmp(v.name, "SecureBoot") && v.value_len == 1)
			json_object_set_new(j, "secure_boot", json_boolean(v.value[0] == 1));
		if (e->type == CCT_EV_EFI_VARIABLE_BOOT && !strncmp(v.name, "Boot", 4) &&
		    v.value_len > 6) {
			/* EFI_LOAD_OPTION: attributes u32, file path list length u16, description */
			size_t i = 6, k;
			char desc[128];

			for (k = 6; k + 1 < v.value_len && (v.value[k] || v.value[k + 1]); k += 2)
				;
			utf16_ascii(desc, sizeof(desc), v.value + i, (k - i) / 2);
			json_object_set_new(j, "boot_option", json_string(desc));
		}
		break;
	}
	case CCT_EV_EFI_BOOT_SERVICES_APPLICATION:
	case CCT_EV_EFI_BOOT_SERVICES_DRIVER:
	case CCT_EV_EFI_RUNTIME_SERVICES_DRIVER: {
		uint64_t len, dpl;

		cct_rd_init(&r, e->data, e->data_len);
		cct_rd_u64le(&r);
		len = cct_rd_u64le(&r);
		cct_rd_u64le(&r);
		dpl = cct_rd_u64le(&r);
		if (r.err || dpl > cct_rd_left(&r))
			break;
		json_object_set_new(j, "image_length", json_integer((json_int_t)len));
		json_object_set_new(j, "file_path",
				    devpath_file(cct_rd_take(&r, (size_t)dpl), (size_t)dpl));
		break;
	}
	case CCT_EV_EFI_GPT_EVENT: {
		const uint8_t *hdr;
		char g[37];
		uint64_t np;

		cct_rd_init(&r, e->data, e->data_len);
		hdr = cct_rd_take(&r, 92);
		np = cct_rd_u64le(&r);
		if (r.err || memcmp(hdr, "EFI PART", 8))
			break;
		cct_efi_guid_str(g, hdr + 56);
		json_object_set_new(j, "disk_guid", json_string(g));
		json_object_set_new(j, "partitions", json_integer((json_int_t)np));
		break;
	}
	case CCT_EV_SEPARATOR:
		json_object_set_new(j, "separator", hex_json(e->data, e->data_len));
		if (e->data_len == 4 && rd_le32(e->data) != 0)
			json_object_set_new(j, "separator_error", json_true());
		break;
	case CCT_EV_S_CRTM_VERSION:
		if (e->data_len % 2 == 0) {
			char s[256];

			utf16_ascii(s, sizeof(s), e->data, e->data_len / 2);
			json_object_set_new(j, "text", json_string(s));
		}
		break;
	case CCT_EV_EFI_PLATFORM_FIRMWARE_BLOB: {
		uint64_t base, len;

		cct_rd_init(&r, e->data, e->data_len);
		base = cct_rd_u64le(&r);
		len = cct_rd_u64le(&r);
		if (!r.err) {
			json_object_set_new(j, "blob_base", json_integer((json_int_t)base));
			json_object_set_new(j, "blob_length", json_integer((json_int_t)len));
		}
		break;
	}
	case CCT_EV_NO_ACTION:
		if (e->data_len >= 16 && !memcmp(e->data, "Spec ID Event03", 16))
			json_object_set_new(j, "text", json_string("Spec ID Event03"));
		else if (e->data_len == 17 && !memcmp(e->data, "StartupLocality", 16))
			json_object_set_new(j, "startup_locality", json_integer(e->data[16]));
		else if (e->data_len >= 16 && e->data[15] == 0)
			json_object_set_new(j, "text", text_json(e->data, 15));
		break;
	case CCT_EV_IPL:
	case CCT_EV_EFI_ACTION:
	case CCT_EV_ACTION:
	case CCT_EV_POST_CODE:
		json_object_set_new(j, "text", text_json(e->data, e->data_len));
		break;
	default:
		break;
	}
}

static json_t *digests_json(const cct_evlog_event *e)
{
	json_t *d = json_object();
	uint32_t k;

	for (k = 0; k < e->ndigests; k++) {
		const char *an = cct_tpm_alg_name(e->digests[k].alg);
		char key[16];

		if (!an) {
			snprintf(key, sizeof(key), "0x%04x", e->digests[k].alg);
			an = key;
		}
		json_object_set_new(d, an, hex_json(e->digests[k].d, e->digests[k].size));
	}
	return d;
}

static json_t *regs_json(const cct_evlog *log)
{
	json_t *o = json_object();
	uint32_t b, i;

	if (log->kind == CCT_EVLOG_CCEL) {
		const cct_evlog_bank *bk = cct_evlog_find_bank(log, CCT_TPM_ALG_SHA384);

		for (i = 0; bk && !bk->incomplete && i < log->nregs; i++) {
			char k[16];

			snprintf(k, sizeof(k), "rtmr%u", i);
			json_object_set_new(o, k, hex_json(bk->reg[i], 48));
		}
		return o;
	}
	for (b = 0; b < log->nbanks; b++) {
		const cct_evlog_bank *bk = &log->banks[b];
		const char *an = cct_tpm_alg_name(bk->alg);
		json_t *bj;

		if (!an || bk->incomplete)
			continue;
		bj = json_object();
		for (i = 0; i < log->nregs; i++) {
			char k[16];

			snprintf(k, sizeof(k), "%u", i);
			json_object_set_new(bj, k, hex_json(bk->reg[i], bk->size));
		}
		json_object_set_new(o, an, bj);
	}
	return o;
}

/* Facts derived from events whose data the digest vouches for (data_check == 1), or from the
 * digests themselves (images). Events whose data was altered contribute nothing. */
static json_t *facts_json(const cct_evlog *log)
{
	json_t *f = json_object(), *vars = json_object(), *apps = json_object(), *kern = json_array();
	json_t *sb = json_null(), *cmdline = json_null();
	size_t i, altered = 0, gxn;
	const uint8_t *gx;
	uint32_t k;

	for (i = 0; i < log->count; i++) {
		const cct_evlog_event *e = &log->events[i];

		if (!e->replayed)
			continue;
		if (e->data_check < 0) {
			altered++;
			continue;
		}
		if (e->type == CCT_EV_EFI_VARIABLE_DRIVER_CONFIG && e->data_check == 1) {
			cct_efi_var v;

			if (cct_efi_var_parse(&v, e->data, e->data_len) == 0 &&
			    !memcmp(v.guid, efi_global_guid, 16) && !strcmp(v.name, "SecureBoot") &&
			    v.value_len == 1) {
				json_decref(sb);
				sb = json_boolean(v.value[0] == 1);
			}
			if (cct_efi_var_parse(&v, e->data, e->data_len) == 0 && v.name[0])
				json_object_set_new(vars, v.name, digests_json(e));
		}
		if (e->type == CCT_EV_EFI_BOOT_SERVICES_APPLICATION) {
			for (k = 0; k < e->ndigests; k++) {
				const char *an = cct_tpm_alg_name(e->digests[k].alg);
				json_t *a;

				if (!an)
					continue;
				a = json_object_get(apps, an);
				if (!a) {
					a = json_array();
					json_object_set_new(apps, an, a);
				}
				json_array_append_new(a, hex_json(e->digests[k].d, e->digests[k].size));
			}
		}
		if (cct_grub_is_cmdline(e) && e->data_check == 1) {
			const uint8_t *x;
			size_t xn;

			if (cct_grub_payload(e, &x, &xn) == 0) {
				json_decref(cmdline);
				cmdline = text_json(x, xn);
			}
		}
		if (e->type == CCT_EV_IPL &&
		    e->index == (log->kind == CCT_EVLOG_CCEL ? 3u : 9u) && e->data &&
		    cct_grub_payload(e, &gx, &gxn) != 0 && /* a file, not a GRUB command */
		    (contains(e->data, e->data_len, "vmlinuz") ||
		     contains(e->data, e->data_len, "Kernel"))) {
			json_t *kj = digests_json(e);

			json_object_set_new(kj, "path", text_json(e->data, e->data_len));
			json_array_append_new(kern, kj);
		}
	}
	json_object_set_new(f, "secure_boot", sb);
	json_object_set_new(f, "efi_variables", vars);
	json_object_set_new(f, "efi_boot_services_application_digests", apps);
	json_object_set_new(f, "kernel_cmdline", cmdline);
	json_object_set_new(f, "kernel", kern);
	json_object_set_new(f, "altered_events", json_integer((json_int_t)altered));
	return f;
}

char *cct_evlog_json(const cct_evlog *log, int with_events)
{
	json_t *o = json_object(), *banks = json_array();
	uint32_t b;
	size_t i;
	char *s;

	json_object_set_new(o, "format", json_string(log->kind == CCT_EVLOG_CCEL ? "ccel"
						      : log->crypto_agile ? "crypto-agile"
									  : "sha1-legacy"));
	for (b = 0; b < log->nbanks; b++) {
		const char *an = cct_tpm_alg_name(log->banks[b].alg);

		json_array_append_new(banks, an ? json_string(an) : json_integer(log->banks[b].alg));
	}
	json_object_set_new(o, "banks", banks);
	json_object_set_new(o, "event_count", json_integer((json_int_t)log->count));
	if (log->startup_locality >= 0)
		json_object_set_new(o, "startup_locality", json_integer(log->startup_locality));
	json_object_set_new(o, log->kind == CCT_EVLOG_CCEL ? "rtmrs" : "pcrs", regs_json(log));
	json_object_set_new(o, "facts", facts_json(log));
	if (with_events) {
		json_t *evs = json_array();

		for (i = 0; i < log->count; i++) {
			const cct_evlog_event *e = &log->events[i];
			json_t *j = json_object();

			json_object_set_new(j, "seq", json_integer((json_int_t)e->seq));
			json_object_set_new(j, "offset", json_integer((json_int_t)e->offset));
			json_object_set_new(j, log->kind == CCT_EVLOG_CCEL ? "mr_index" : "pcr",
					    json_integer(e->index));
			json_object_set_new(j, "type", json_string(cct_evlog_type_name(e->type)));
			json_object_set_new(j, "type_value", json_integer(e->type));
			json_object_set_new(j, "digests", digests_json(e));
			json_object_set_new(j, "data_size", json_integer(e->data_len));
			if (e->data_check)
				json_object_set_new(j, "data_matches_digest",
						    json_boolean(e->data_check > 0));
			decode_event(j, e);
			json_array_append_new(evs, j);
		}
		json_object_set_new(o, "events", evs);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static int reg_value(cct_tpm_pcrs *out, uint16_t alg, uint32_t idx, const char *key,
		     json_t *v, cct_err *err)
{
	uint8_t buf[64];
	size_t n = cct_tpm_alg_size(alg);

	if (!json_is_string(v) || strlen(json_string_value(v)) != 2 * n)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "registers: \"%s\" must be %zu hex digits", key, 2 * n);
	if (cct_hex_decode_fixed(buf, n, json_string_value(v), err) != CCT_OK)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   "registers: \"%s\" is not hex", key);
	return cct_tpm_pcrs_set(out, alg, idx, buf, n, err);
}

int cct_tpm_pcrs_parse_json(cct_tpm_pcrs *out, const char *text, size_t len, cct_evlog_kind kind,
			    cct_err *err)
{
	json_error_t je;
	/* a register named twice (a repeated key, or "7" and "07") would leave one of two
	 * expected values silently unused: refused, as is any key not written canonically */
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v;
	const char *key;
	int rc = CCT_OK;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root)) {
		int parsed = root != NULL;

		json_decref(root);
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_INPUT, 0,
				   parsed ? "registers: not a JSON object%s"
					  : "registers: not valid JSON: %s",
				   parsed ? "" : je.text);
	}
	json_object_foreach(root, key, v) {
		if (kind == CCT_EVLOG_CCEL) {
			if (strlen(key) != 5 || strncmp(key, "rtmr", 4) || key[4] < '0' ||
			    key[4] > '3') {
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						 "registers: unknown key \"%s\" (rtmr0..rtmr3)", key);
				break;
			}
			if (out->nbanks && (out->banks[0].mask & (1u << (key[4] - '0')))) {
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						 "registers: \"%s\" is given twice", key);
				break;
			}
			rc = reg_value(out, CCT_TPM_ALG_SHA384, (uint32_t)(key[4] - '0'), key, v,
				       err);
		} else {
			uint16_t alg = cct_tpm_alg_from_name(key);
			const char *ik;
			json_t *iv;

			if (!alg || !json_is_object(v)) {
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						 "registers: \"%s\" is not a bank object "
						 "(sha1, sha256, sha384, sha512)", key);
				break;
			}
			json_object_foreach(v, ik, iv) {
				unsigned long idx = 0;
				const char *c;
				uint32_t b;

				/* decimal digits only, no sign, space or leading zero */
				for (c = ik; *c >= '0' && *c <= '9' && idx < CCT_TPM_NUM_PCRS; c++)
					idx = idx * 10 + (unsigned long)(*c - '0');
				if (!*ik || *c || idx >= CCT_TPM_NUM_PCRS || (ik[0] == '0' && ik[1])) {
					rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
							 "registers: %s: \"%s\" is not a PCR index "
							 "0..23", key, ik);
					break;
				}
				for (b = 0; b < out->nbanks; b++)
					if (out->banks[b].alg == alg &&
					    (out->banks[b].mask & (1u << idx)))
						break;
				if (b < out->nbanks) {
					rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
							 "registers: %s PCR%lu is given twice", key,
							 idx);
					break;
				}
				rc = reg_value(out, alg, (uint32_t)idx, ik, iv, err);
				if (rc != CCT_OK)
					break;
			}
		}
		if (rc != CCT_OK)
			break;
	}
	json_decref(root);
	return rc;
}
