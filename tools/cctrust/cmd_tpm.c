/* cctrust eventlog / tpm / vtpm: TCG event logs (TPM PCRs, TDX CCEL RTMRs), TPM 2.0 quotes,
 * Azure paravisor vTPM evidence. Argument parsing and output only; the work is in src/tpm. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/tpm.h"
#include "cli.h"
#include "json/json.h"

#define MAX_LOG (64u << 20)

static const char eventlog_usage[] =
	"usage: cctrust eventlog show LOG [--ccel] [--json]\n"
	"       cctrust eventlog replay LOG [--pcrs FILE] [--json]\n"
	"       cctrust eventlog replay LOG --ccel [--rtmrs FILE] [--json]\n"
	"\n"
	"LOG: a TCG PC Client event log (binary_bios_measurements; crypto-agile or SHA-1 legacy),\n"
	"or with --ccel a TDX CCEL event log (the ACPI CCEL log area). One replay engine serves\n"
	"both: PCR0..23 per bank, or RTMR0..3 (SHA-384).\n"
	"  --pcrs FILE   JSON {\"sha1\": {\"0\": \"HEX\", ...}, \"sha256\": {...}}: expected PCRs\n"
	"  --rtmrs FILE  JSON {\"rtmr0\": \"HEX\", ...}: expected RTMRs (with --ccel)\n"
	"  --ccel        the log is a TDX CCEL\n"
	"  --json        JSON: format, banks, \"pcrs\" / \"rtmrs\" replayed, facts (Secure Boot, EFI\n"
	"                variables, boot applications, kernel, kernel command line), events (show)\n"
	"replay exit: 0 every given register replays to its value, 1 a register differs (the\n"
	"message names the first diverging event) or an event's data no longer matches its digest,\n"
	"2 usage error or unreadable log. Without --pcrs / --rtmrs only the events' data is\n"
	"checked (--json: checks_skipped [\"expected_registers\"]).\n";

static const char tpm_usage[] =
	"usage: cctrust tpm quote verify --ak FILE --quote FILE --sig FILE [--pcrs FILE]\n"
	"                                [--nonce HEX] [--json]\n"
	"\n"
	"Verify a TPM 2.0 quote: TPMS_ATTEST of type QUOTE, signed by the attestation key.\n"
	"  --ak FILE     TPMT_PUBLIC / TPM2B_PUBLIC (binary, hex or base64), PEM public key or JWK\n"
	"  --quote FILE  TPMS_ATTEST or TPM2B_ATTEST (binary, hex or base64)\n"
	"  --sig FILE    TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA) or a bare RSA signature\n"
	"  --pcrs FILE   JSON {\"sha256\": {\"0\": \"HEX\", ...}}: the PCR values; the quote's PCR\n"
	"                digest must equal the hash of the selected ones in selection order\n"
	"  --nonce HEX   expected extraData (\"\" for an empty one)\n"
	"Without --nonce or --pcrs those checks are not done and are listed in checks_skipped.\n"
	"Values in --pcrs that the quote does not select are not attested: they are listed\n"
	"(--json: pcrs_not_quoted), and claims.pcrs holds only the quoted ones.\n"
	"exit: 0 verified, 1 rejected, 2 usage error or unreadable input\n";

static const char vtpm_usage[] =
	"usage: cctrust vtpm verify EVIDENCE.json... [--nonce HEX] [--policy FILE] [--at TIME]\n"
	"                           [--collateral DIR] [--offline] [--certs PATH] [--no-crl]\n"
	"                           [--trust-sim DIR] [--json]\n"
	"\n"
	"Verify Azure paravisor vTPM evidence in Trustee's az-snp-vtpm (v0, v1, v2) or az-tdx-vtpm\n"
	"(v0, v1: a \"td_quote\" member) format. az-snp-vtpm: the HCL report's SNP report (chain to\n"
	"AMD's pinned roots with the VCEK given, signature, debug refused, VMPL 0). az-tdx-vtpm: the\n"
	"TD quote (Intel DCAP: signature, QE report, PCK chain, CRLs, TCB info, QE identity; a\n"
	"debug TD refused) and the HCL report's TD report, whose fields must equal the quote's body.\n"
	"Then: hardware REPORT_DATA[0:32] == SHA-256(HCL runtime data), the AK (JWK \"HCLAkPub\")\n"
	"from the runtime data, the TPM quote's signature with that AK, its extraData == --nonce\n"
	"and its PCR digest over the PCR values given.\n"
	"  --nonce HEX       expected TPM quote extraData (without it: checks_skipped)\n"
	"  --policy FILE     cctrust.policy/v1 (docs/policy.md): its snp / tdx section judges the\n"
	"                    paravisor's hardware report, the vtpm section the quoted PCRs and the\n"
	"                    event log. az-tdx-vtpm without --policy: the tdx section's defaults\n"
	"                    (TCB status UpToDate, no debug)\n"
	"  --at TIME         verification time (default now)\n"
	"  --collateral DIR  SNP: AMD KDS cache; turns on the AMD CRL check (fetched unless\n"
	"                    --offline); without it the CRL is not checked (checks_skipped:\n"
	"                    snp_crl). TDX: a QVL bundle, PCS v4 directory or cctrust bundle, else\n"
	"                    the cache DIR/tdx that Intel PCS collateral is fetched into\n"
	"  --offline         never fetch (cache and files only)\n"
	"  --certs PATH      more certificates / CRLs (SNP)\n"
	"  --no-crl          az-snp-vtpm: do not check the AMD CRL even with --collateral (listed\n"
	"                    in checks_skipped as snp_crl and in insecure as no-crl)\n"
	"  --trust-sim DIR   accept the simulated SNP / TDX roots of 'cctrust sim init DIR' (tests;\n"
	"                    marked \"simulated\", and SIMULATED TEE in text)\n"
	"  --json            {verified, tee, error, checks_skipped, insecure, simulated, claims: {snp | tdx,\n"
	"                    hcl, ak_sha256, tpm_quote, pcrs}}; with several inputs one object per\n"
	"                    line with its \"evidence\" path\n"
	"EVIDENCE.json: any number of files, - (standard input) or directories of them, one at a\n"
	"time; every option applies to each.\n"
	"exit: 0 all verified, 1 any rejected, 2 usage error or unreadable input\n";

enum { O_PCRS = 256, O_RTMRS, O_CCEL, O_JSON, O_HELP, O_AK, O_QUOTE, O_SIG, O_NONCE, O_POLICY,
       O_AT, O_COLL, O_OFFLINE, O_CERTS, O_SIM, O_NOCRL };

static int read_text(char **out, size_t *n, const char *path, const char *what, cct_err *err)
{
	uint8_t *b = NULL;

	if (cct_file_read(&b, n, path, CCT_MAX_INPUT_FILE, err) != CCT_OK) {
		cct_cli_usage_error("%s: %s", what, err->msg);
		return -1;
	}
	*out = (char *)b;
	return 0;
}

static int load_regs(cct_tpm_pcrs *p, const char *path, cct_evlog_kind kind, const char *what)
{
	cct_err err;
	char *t = NULL;
	size_t n = 0;
	int rc;

	if (read_text(&t, &n, path, what, &err))
		return -1;
	rc = cct_tpm_pcrs_parse_json(p, t, n, kind, &err);
	free(t);
	if (rc != CCT_OK) {
		cct_cli_usage_error("%s: %s", what, err.msg);
		return -1;
	}
	{ /* expected values that name no register would compare nothing and "verify" */
		uint32_t b, given = 0;

		for (b = 0; b < p->nbanks; b++)
			given |= p->banks[b].mask;
		if (!given) {
			cct_cli_usage_error("%s %s: no register values in it (nothing to compare)",
					    what, path);
			return -1;
		}
	}
	return 0;
}

static void print_regs_text(json_t *regs, int ccel)
{
	const char *k, *ik;
	json_t *v, *iv;

	if (ccel) {
		json_object_foreach(regs, k, v)
			printf("  %-6s %s\n", k, json_string_value(v));
		return;
	}
	json_object_foreach(regs, k, v) {
		json_object_foreach(v, ik, iv)
			printf("  %-6s PCR%-2s %s\n", k, ik, json_string_value(iv));
	}
}

static int cmd_eventlog(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcrs", required_argument, NULL, O_PCRS },
		{ "rtmrs", required_argument, NULL, O_RTMRS },
		{ "ccel", no_argument, NULL, O_CCEL },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *pcrs = NULL, *rtmrs = NULL, *sub, *path;
	int ccel = 0, json = 0, c, rc, show;
	cct_tpm_pcrs want;
	cct_evlog log;
	uint8_t *data = NULL;
	size_t n = 0;
	cct_err err;
	char *js;
	json_t *o;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(eventlog_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : 0;
	}
	sub = argv[1];
	if (strcmp(sub, "show") && strcmp(sub, "replay"))
		return cct_cli_usage_error("eventlog: unknown subcommand '%s' (show, replay)", sub);
	show = !strcmp(sub, "show");
	argc--; /* argv[0] is now the subcommand */
	argv++;
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case O_PCRS: pcrs = optarg; break;
		case O_RTMRS: rtmrs = optarg; break;
		case O_CCEL: ccel = 1; break;
		case O_JSON: json = 1; break;
		case O_HELP:
		case 'h': fputs(eventlog_usage, stdout); return 0;
		default: return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cct_cli_usage_error("eventlog %s: exactly one LOG (see --help)", sub);
	path = argv[optind];
	if (rtmrs && !ccel)
		return cct_cli_usage_error("--rtmrs needs --ccel");
	if (pcrs && ccel)
		return cct_cli_usage_error("--pcrs is for TPM logs; a CCEL takes --rtmrs");
	if (show && (pcrs || rtmrs))
		return cct_cli_usage_error("eventlog show takes no expected values (use replay)");
	memset(&want, 0, sizeof(want));
	if (pcrs && load_regs(&want, pcrs, CCT_EVLOG_TPM, "--pcrs"))
		return CCT_EXIT_USAGE;
	if (rtmrs && load_regs(&want, rtmrs, CCT_EVLOG_CCEL, "--rtmrs"))
		return CCT_EXIT_USAGE;
	if (cct_file_read(&data, &n, path, MAX_LOG, &err) != CCT_OK)
		return cct_cli_usage_error("%s: %s", path, err.msg);
	rc = cct_evlog_parse(&log, data, n, ccel ? CCT_EVLOG_CCEL : CCT_EVLOG_TPM, &err);
	if (rc != CCT_OK) {
		free(data);
		if (json) {
			o = json_object();
			json_object_set_new(o, "verified", json_false());
			json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
			cct_cli_print_json(o, 0);
		} else {
			fprintf(stderr, "cctrust: %s: %s\n", path, err.msg);
		}
		return CCT_EXIT_USAGE; /* unreadable log */
	}
	if (!show)
		rc = cct_evlog_compare(&log, &want, &err);
	if (!show && rc == CCT_OK && !want.nbanks) {
		/* nothing to compare with: the events' own data is all replay can judge, and an
		 * altered one fails it (its facts would otherwise be printed as the boot's) */
		size_t k;

		for (k = 0; k < log.count; k++) {
			const cct_evlog_event *e = &log.events[k];
			char rn[16];

			if (e->data_check >= 0 || cct_evlog_event_reg(&log, e) < 0)
				continue;
			rc = cct_err_set(&err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, e->offset,
					 "%s: event #%zu (%s at offset %zu) was changed: its data "
					 "does not hash to its digest",
					 cct_evlog_reg_name(&log, (uint32_t)cct_evlog_event_reg(&log, e),
							    rn, sizeof(rn)),
					 e->seq, cct_evlog_type_name(e->type), e->offset);
			break;
		}
	}
	js = cct_evlog_json(&log, show);
	o = js ? json_loads(js, 0, NULL) : NULL;
	free(js);
	if (!o) {
		cct_evlog_free(&log);
		free(data);
		fprintf(stderr, "cctrust: out of memory\n");
		return CCT_EXIT_REJECT;
	}
	if (json) {
		json_t *out = json_object();

		if (!show) {
			json_object_set_new(out, "verified", json_boolean(rc == CCT_OK));
			json_object_set_new(out, "error", cct_cli_error_json(rc, &err));
			json_object_set_new(out, "compared", json_boolean(want.nbanks > 0));
			json_object_set_new(out, "checks_skipped",
					    want.nbanks ? json_array()
							: json_pack("[s]", "expected_registers"));
		}
		json_object_update(out, o);
		cct_cli_print_json(out, 0);
	} else {
		json_t *regs = json_object_get(o, ccel ? "rtmrs" : "pcrs"), *facts;
		json_t *banks = json_object_get(o, "banks"), *b;
		size_t i;

		printf("%s: %s event log, %zu events, banks:", path,
		       json_string_value(json_object_get(o, "format")), log.count);
		json_array_foreach(banks, i, b)
			printf(" %s", json_is_string(b) ? json_string_value(b) : "?");
		printf("\n");
		if (show) {
			for (i = 0; i < log.count; i++) {
				const cct_evlog_event *e = &log.events[i];
				json_t *ev = json_array_get(json_object_get(o, "events"), i);
				const char *t = json_string_value(json_object_get(ev, "text"));
				const char *vn = json_string_value(json_object_get(ev, "variable_name"));
				const char *fpth = json_string_value(json_object_get(ev, "file_path"));
				char rn[16];
				int reg = cct_evlog_event_reg(&log, e);

				if (reg >= 0)
					cct_evlog_reg_name(&log, (uint32_t)reg, rn, sizeof(rn));
				else
					snprintf(rn, sizeof(rn), "%s%u", ccel ? "MR" : "PCR", e->index);
				printf("  #%-4zu %-6s %-34s %u bytes%s%s%s\n", e->seq, rn,
				       cct_evlog_type_name(e->type), e->data_len,
				       vn || t || fpth ? "  " : "",
				       vn ? vn : t ? t : fpth ? fpth : "",
				       e->data_check < 0 ? "  [DATA DOES NOT MATCH DIGEST]" : "");
			}
		}
		printf("%s:\n", ccel ? "replayed RTMRs" : "replayed PCRs");
		print_regs_text(regs, ccel);
		facts = json_object_get(o, "facts");
		if (facts) {
			json_t *sb = json_object_get(facts, "secure_boot");
			json_t *cl = json_object_get(facts, "kernel_cmdline");

			printf("secure boot: %s\n", json_is_true(sb) ? "on" : json_is_false(sb) ? "off"
											 : "unknown");
			if (json_is_string(cl))
				printf("kernel command line: %s\n", json_string_value(cl));
		}
		if (!show) {
			if (rc == CCT_OK)
				printf(want.nbanks ? "OK: every given register replays to its value\n"
						   : "(no expected values given: nothing compared)\n");
			else
				cct_cli_print_reject(path, rc, &err);
		}
	}
	json_decref(o);
	cct_evlog_free(&log);
	free(data);
	return show ? 0 : cct_cli_exit_code(rc);
}

int cct_cmd_eventlog(int argc, char **argv)
{
	return cmd_eventlog(argc, argv);
}

/* Binary structure files may be raw, hex or base64 text. */
static int read_blob(uint8_t **out, size_t *n, const char *path, const char *what, int keep_text)
{
	uint8_t *raw = NULL;
	size_t rn = 0;
	cct_err err;

	if (cct_file_read(&raw, &rn, path, 1u << 20, &err) != CCT_OK ||
	    cct_cli_empty_input(raw, rn, "", path, &err) != CCT_OK) {
		free(raw);
		cct_cli_usage_error("%s: %s", what, err.msg);
		return -1;
	}
	if (keep_text && rn && (raw[0] == '{' || (rn > 11 && !memcmp(raw, "-----BEGIN ", 11)))) {
		*out = raw;
		*n = rn;
		return 0;
	}
	if (cct_input_decode(out, n, raw, rn, 0, &err) != CCT_OK) {
		free(raw);
		cct_cli_usage_error("%s: %s", what, err.msg);
		return -1;
	}
	free(raw);
	return 0;
}

/* quoted: {bank: {"i": HEX}} of the given PCR values the quote selects (what its digest
 * vouches for); else {bank: [i, ...]} of the given ones it does not select (unattested) */
static json_t *quoted_pcrs_json(const cct_tpm_quote *q, const cct_tpm_pcrs *p, int quoted)
{
	json_t *o = json_object();
	uint32_t b, i, k;

	for (b = 0; b < p->nbanks; b++) {
		const char *an = cct_tpm_alg_name(p->banks[b].alg);
		uint32_t sel = 0, m;
		json_t *v;

		for (i = 0; i < q->nsel; i++)
			if (q->sel[i].alg == p->banks[b].alg)
				sel |= q->sel[i].mask;
		m = p->banks[b].mask & (quoted ? sel : ~sel);
		if (!m || !an)
			continue;
		v = quoted ? json_object() : json_array();
		for (k = 0; k < CCT_TPM_NUM_PCRS; k++) {
			char key[4];

			if (!(m & (1u << k)))
				continue;
			if (!quoted) {
				json_array_append_new(v, json_integer(k));
				continue;
			}
			snprintf(key, sizeof(key), "%u", k);
			cct_json__set_hex(v, key, p->banks[b].v[k], p->banks[b].size);
		}
		json_object_set_new(o, an, v);
	}
	return o;
}

static int cmd_tpm_quote_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ak", required_argument, NULL, O_AK },
		{ "quote", required_argument, NULL, O_QUOTE },
		{ "sig", required_argument, NULL, O_SIG },
		{ "pcrs", required_argument, NULL, O_PCRS },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *akp = NULL, *qp = NULL, *sp = NULL, *pp = NULL, *nonce_hex = NULL;
	uint8_t *akb = NULL, *qb = NULL, *sb = NULL, *nonce = NULL;
	size_t akn = 0, qn = 0, sn = 0, nn = 0;
	int json = 0, c, rc, ex = CCT_EXIT_USAGE;
	cct_tpm_pcrs pcrs;
	cct_tpm_quote q;
	cct_tpm_quote_result res;
	cct_tpm_ak *ak = NULL;
	cct_err err;

	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case O_AK: akp = optarg; break;
		case O_QUOTE: qp = optarg; break;
		case O_SIG: sp = optarg; break;
		case O_PCRS: pp = optarg; break;
		case O_NONCE: nonce_hex = optarg; break;
		case O_JSON: json = 1; break;
		case O_HELP:
		case 'h': fputs(tpm_usage, stdout); return 0;
		default: return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc || !akp || !qp || !sp)
		return cct_cli_usage_error("tpm quote verify: --ak, --quote and --sig are required");
	memset(&pcrs, 0, sizeof(pcrs));
	memset(&res, 0, sizeof(res));
	if (pp && load_regs(&pcrs, pp, CCT_EVLOG_TPM, "--pcrs"))
		return CCT_EXIT_USAGE;
	if (nonce_hex && cct_hex_decode(&nonce, &nn, nonce_hex, strlen(nonce_hex), &err) != CCT_OK)
		return cct_cli_usage_error("--nonce: %s", err.msg);
	if (nonce_hex && !nonce) {
		nonce = malloc(1);
		if (!nonce)
			return CCT_EXIT_USAGE;
	}
	if (read_blob(&akb, &akn, akp, "--ak", 1) || read_blob(&qb, &qn, qp, "--quote", 0) ||
	    read_blob(&sb, &sn, sp, "--sig", 0))
		goto out;
	rc = cct_tpm_ak_load(&ak, akb, akn, &err);
	if (rc == CCT_OK)
		rc = cct_tpm_quote_parse(&q, qb, qn, &err);
	if (rc == CCT_OK)
		rc = cct_tpm_quote_verify(&res, &q, qb, qn, sb, sn, ak, nonce, nn, pp ? &pcrs : NULL,
					  &err);
	ex = cct_cli_exit_code(rc);
	if (json) {
		json_t *o = json_object(), *sk = json_array();

		json_object_set_new(o, "verified", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		json_object_set_new(o, "signature_verified", json_boolean(res.signature_verified));
		json_object_set_new(o, "nonce_checked", json_boolean(res.nonce_checked));
		json_object_set_new(o, "pcrs_checked", json_boolean(res.pcrs_checked));
		if (!nonce_hex)
			json_array_append_new(sk, json_string("nonce"));
		if (!pp)
			json_array_append_new(sk, json_string("pcr_digest"));
		json_object_set_new(o, "checks_skipped", sk);
		if (res.signature_verified) {
			json_t *cl = json_object(), *sel = json_object();
			uint32_t i, k;

			cct_json__set_hex(cl, "extra_data", q.extra, q.extra_len);
			cct_json__set_hex(cl, "qualified_signer", q.signer, q.signer_len);
			json_object_set_new(cl, "clock", json_integer((json_int_t)q.clock));
			json_object_set_new(cl, "reset_count", json_integer(q.reset_count));
			json_object_set_new(cl, "restart_count", json_integer(q.restart_count));
			json_object_set_new(cl, "safe", json_boolean(q.safe));
			json_object_set_new(cl, "firmware_version",
					    json_integer((json_int_t)q.firmware_version));
			for (i = 0; i < q.nsel; i++) {
				json_t *a = json_array();
				const char *an = cct_tpm_alg_name(q.sel[i].alg);

				for (k = 0; k < CCT_TPM_NUM_PCRS; k++)
					if (q.sel[i].mask & (1u << k))
						json_array_append_new(a, json_integer(k));
				json_object_set_new(sel, an ? an : "unknown", a);
			}
			json_object_set_new(cl, "pcr_selection", sel);
			cct_json__set_hex(cl, "pcr_digest", q.pcr_digest, q.pcr_digest_len);
			json_object_set_new(cl, "hash", json_string(cct_tpm_alg_name(res.hash_alg)));
			if (res.pcrs_checked) /* the values the digest vouches for, and only those */
				json_object_set_new(cl, "pcrs", quoted_pcrs_json(&q, &pcrs, 1));
			json_object_set_new(o, "claims", cl);
		}
		if (res.pcrs_checked)
			json_object_set_new(o, "pcrs_not_quoted", quoted_pcrs_json(&q, &pcrs, 0));
		cct_cli_print_json(o, 0);
	} else if (rc == CCT_OK) {
		json_t *nq = res.pcrs_checked ? quoted_pcrs_json(&q, &pcrs, 0) : NULL, *iv;
		const char *ik;

		printf("OK: TPM quote verified (signature%s%s)\n",
		       res.nonce_checked ? ", nonce" : "", res.pcrs_checked ? ", PCR digest" : "");
		if (!nonce_hex || !pp)
			printf("not checked:%s%s\n", nonce_hex ? "" : " nonce", pp ? "" : " pcr_digest");
		json_object_foreach(nq, ik, iv) {
			size_t i;
			json_t *x;

			printf("not attested (given in --pcrs, not selected by the quote): %s PCR", ik);
			json_array_foreach(iv, i, x)
				printf("%s%lld", i ? "," : "", (long long)json_integer_value(x));
			printf("\n");
		}
		json_decref(nq);
	} else {
		cct_cli_print_reject(qp, rc, &err);
	}
out:
	cct_tpm_ak_free(ak);
	free(akb);
	free(qb);
	free(sb);
	free(nonce);
	return ex;
}

int cct_cmd_tpm(int argc, char **argv)
{
	if ((argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) ||
	    (argc == 3 && !strcmp(argv[1], "quote") &&
	     (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))) {
		fputs(tpm_usage, stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "quote") || strcmp(argv[2], "verify")) {
		fputs(tpm_usage, stderr);
		return CCT_EXIT_USAGE;
	}
	return cmd_tpm_quote_verify(argc - 2, argv + 2);
}

typedef struct vtpm_each {
	const cct_vtpm_opts *vo;
	const cct_policy *pol; /* --policy, or NULL */
	int json, multi, worst;
} vtpm_each;

/* what the options turned off, as `snp verify` lists it (--no-crl applies to az-snp-vtpm) */
static json_t *vtpm_insecure(const cct_vtpm_opts *vo, int tdx)
{
	json_t *a = json_array();

	if (vo->no_crl && !tdx)
		json_array_append_new(a, json_string("no-crl"));
	return a;
}

/* one evidence file (cct_inputs_each): verified, printed, forgotten */
static void vtpm_verify_input(void *ctx, const char *path, int *stop)
{
	vtpm_each *e = ctx;
	cct_policy *dflt = NULL;
	const cct_policy *pol = e->pol;
	json_t *failures = NULL, *cl = NULL;
	size_t n = 0;
	char *text = NULL, *claims = NULL;
	const char *tee;
	int rc, tdx, code;
	cct_err err;

	(void)stop;
	if (read_text(&text, &n, path, path, &err)) {
		if (e->worst < CCT_EXIT_USAGE)
			e->worst = CCT_EXIT_USAGE;
		if (e->json) { /* one object per input, the unreadable ones too (as snp/tdx/gpu) */
			json_t *o = json_object();

			if (e->multi)
				json_object_set_new(o, "evidence", cct_cli_json_text(path));
			json_object_set_new(o, "verified", json_false());
			json_object_set_new(o, "tee", json_null());
			json_object_set_new(o, "error", cct_cli_error_json(err.code, &err));
			json_object_set_new(o, "checks_skipped", json_array());
			json_object_set_new(o, "insecure", vtpm_insecure(e->vo, 0));
			json_object_set_new(o, "simulated", json_false());
			json_object_set_new(o, "claims", json_null());
			cct_cli_print_json(o, e->multi);
		}
		return;
	}
	rc = cct_vtpm_verify_json(&claims, text, n, e->vo, &err);
	cl = claims ? json_loads(claims, 0, NULL) : NULL;
	tee = json_string_value(json_object_get(cl, "tee"));
	if (!tee)
		tee = "az-snp-vtpm";
	tdx = !strcmp(tee, "az-tdx-vtpm");
	/* TDX: the TCB status is a relying-party rule; without --policy the tdx section's
	 * defaults decide (UpToDate only), as `cctrust tdx verify` does */
	if (rc == CCT_OK && tdx && !pol) {
		if (cct_cli_policy_load(&dflt, NULL, "tdx", NULL) != 0)
			rc = cct_err_set(&err, CCT_EPOLICY, CCT_STAGE_POLICY, 0, "default policy");
		pol = dflt;
	}
	if (rc == CCT_OK && pol) {
		cct_policy_claims pc;

		memset(&pc, 0, sizeof(pc));
		pc.tee = tee;
		pc.cpu_claims = cl;
		pc.sections = CCT_POLICY_SECTION_TEE |
			      (tdx ? CCT_POLICY_SECTION_TDX : CCT_POLICY_SECTION_SNP);
		failures = cct_cli_policy_apply(pol, &pc, &rc, &err);
	}
	if (e->json) {
		json_t *o = json_object();

		if (e->multi)
			json_object_set_new(o, "evidence", cct_cli_json_text(path));
		json_object_set_new(o, "verified", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "tee", json_string(tee));
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		if (cl && json_object_get(cl, "checks_skipped"))
			json_object_set(o, "checks_skipped", json_object_get(cl, "checks_skipped"));
		else
			json_object_set_new(o, "checks_skipped", json_array());
		json_object_set_new(o, "insecure", vtpm_insecure(e->vo, tdx));
		json_object_set_new(o, "simulated",
				    json_boolean(json_is_true(json_object_get(cl, "simulated"))));
		if (pol)
			json_object_set_new(o, "failures",
					    failures ? json_incref(failures) : json_array());
		json_object_set(o, "claims", cl ? cl : json_null());
		cct_cli_print_json(o, e->multi);
	} else if (rc == CCT_OK) {
		json_t *p0 = json_object_get(json_object_get(json_object_get(cl, "pcrs"), "sha256"),
					     "0");
		json_t *sk = json_object_get(cl, "checks_skipped"), *s;
		size_t i;

		printf("%s: OK (%s: %s, HCL runtime-data binding, AK, TPM quote)%s\n", path, tee,
		       tdx ? "TD quote, TD report" : "SNP report",
		       json_is_true(json_object_get(cl, "simulated")) ? " (SIMULATED TEE: test roots)"
								: "");
		if (json_is_string(p0))
			printf("  PCR0 (sha256) %s\n", json_string_value(p0));
		json_array_foreach(sk, i, s)
			printf("  not checked: %s\n", json_string_value(s));
		if (e->vo->no_crl && !tdx)
			printf("  insecure: no-crl (the AMD CRL was not checked)\n");
	} else {
		cct_cli_print_reject(path, rc, &err);
		if (failures)
			cct_cli_print_failures(failures);
	}
	code = cct_cli_exit_code(rc);
	if (code > e->worst)
		e->worst = code;
	json_decref(failures);
	json_decref(cl);
	cct_policy_free(dflt);
	free(claims);
	free(text);
}

static int cmd_vtpm_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "at", required_argument, NULL, O_AT },
		{ "collateral", required_argument, NULL, O_COLL },
		{ "offline", no_argument, NULL, O_OFFLINE },
		{ "certs", required_argument, NULL, O_CERTS },
		{ "trust-sim", required_argument, NULL, O_SIM },
		{ "no-crl", no_argument, NULL, O_NOCRL },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *nonce_hex = NULL, *policy = NULL;
	cct_vtpm_opts vo;
	cct_policy *pol = NULL;
	uint8_t *nonce = NULL;
	size_t nn = 0;
	int json = 0, c;
	vtpm_each e;
	cct_err err;

	memset(&vo, 0, sizeof(vo));
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case O_NONCE: nonce_hex = optarg; break;
		case O_POLICY: policy = optarg; break;
		case O_AT:
			if (cct_cli_parse_time(&vo.at, optarg))
				return CCT_EXIT_USAGE;
			break;
		case O_COLL: vo.collateral_dir = optarg; break;
		case O_OFFLINE: vo.offline = 1; break;
		case O_CERTS: vo.certs_path = optarg; break;
		case O_SIM: vo.trust_sim_dir = optarg; break;
		case O_NOCRL: vo.no_crl = 1; break;
		case O_JSON: json = 1; break;
		case O_HELP:
		case 'h': fputs(vtpm_usage, stdout); return 0;
		default: return CCT_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cct_cli_usage_error("vtpm verify: an EVIDENCE.json (or -, or a directory) "
					   "expected (see --help)");
	if (nonce_hex) {
		if (cct_hex_decode(&nonce, &nn, nonce_hex, strlen(nonce_hex), &err) != CCT_OK)
			return cct_cli_usage_error("--nonce: %s", err.msg);
		if (!nonce && !(nonce = malloc(1)))
			return CCT_EXIT_USAGE;
		vo.nonce = nonce;
		vo.nonce_len = nn;
	}
	if (policy && cct_cli_policy_load(&pol, policy, "snp", NULL) != 0) {
		free(nonce);
		return CCT_EXIT_USAGE;
	}
	/* one evidence file at a time: memory stays flat however many inputs */
	memset(&e, 0, sizeof(e));
	e.vo = &vo;
	e.pol = pol;
	e.json = json;
	e.multi = cct_cli_inputs_many(argv + optind, argc - optind);
	if (cct_inputs_each(argv + optind, (size_t)(argc - optind), vtpm_verify_input, &e, &err) !=
	    CCT_OK)
		e.worst = cct_cli_inputs_stopped(&err, e.json, e.multi, NULL);
	cct_policy_free(pol);
	free(nonce);
	return e.worst;
}

int cct_cmd_vtpm(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(vtpm_usage, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "verify")) {
		fputs(vtpm_usage, stderr);
		return CCT_EXIT_USAGE;
	}
	return cmd_vtpm_verify(argc - 1, argv + 1);
}
