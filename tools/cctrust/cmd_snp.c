/* cctrust snp: verify and show AMD SEV-SNP attestation reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/collateral.h"
#include "cctrust/snp.h"
#include "cli.h"

static const char snp_usage[] =
	"usage: cctrust snp verify REPORT... [--certs PATH] [--cert-table FILE] [--collateral DIR]\n"
	"                          [--at RFC3339] [--report-data HEX] [--policy FILE]\n"
	"                          [--max-vmpl N] [--insecure-allow-debug] [--offline] [--no-crl]\n"
	"                          [--trust-sim DIR] [--trust-ark-insecure PEM] [--json]\n"
	"       cctrust snp show REPORT [--json]\n"
	"\n"
	"REPORT: raw binary (1184 bytes, optionally followed by the GHCB certificate table of an\n"
	"extended report), hex text (an even number of digits) or base64 text. Chain: VCEK/VLEK ->\n"
	"ASK/ASVK -> ARK, where the ARK must be one of AMD's pinned root keys (Milan, Genoa, Turin).\n"
	"  --certs PATH         PEM/DER file or directory with VCEK/VLEK, ASK/ASVK, ARK, CRLs\n"
	"  --cert-table FILE    GHCB certificate table (configfs-tsm auxblob, sev-guest certs)\n"
	"  --collateral DIR     on-disk cache for AMD KDS; fetched there unless --offline;\n"
	"                       or a collateral bundle (manifest.json / .tar, docs/collateral.md)\n"
	"  --at TIME            verification time (default now), e.g. 2024-05-01T00:00:00Z\n"
	"  --report-data HEX    expected REPORT_DATA (up to 64 bytes, zero-padded)\n"
	"  --policy FILE        cctrust.policy/v1 document (its \"tee\" and \"snp\" rules, exactly as\n"
	"                       `cctrust verify` applies them; docs/policy.md). The format of earlier\n"
	"                       releases (docs/snp.md) is converted with a deprecation warning\n"
	"                       (`cctrust policy convert FILE`)\n"
	"  --max-vmpl N         accept VMPL up to N (default 0; with --policy: snp.max_vmpl)\n"
	"  --insecure-allow-debug  accept guests whose policy allows debugging (reported; with\n"
	"                       --policy: snp.allow_debug)\n"
	"  --offline            never use the network\n"
	"  --no-crl             do not check the AMD CRL (reported in the output)\n"
	"  --trust-sim DIR      accept the simulated TEE of 'cctrust sim init DIR' (marked)\n"
	"  --trust-ark-insecure PEM  also trust this ARK (tests); results say \"simulated\": true,\n"
	"                       \"insecure\": [\"simulated-root\"]\n"
	"  --json               one JSON object per report: {verified, error, claims, ...}\n"
	"exit: 0 all accepted, 1 any rejected, 2 usage error or unreadable input\n";

enum { OPT_CERTS = 256, OPT_TABLE, OPT_COLL, OPT_AT, OPT_RD, OPT_POLICY, OPT_VMPL, OPT_DEBUG,
       OPT_OFFLINE, OPT_NOCRL, OPT_JSON, OPT_TRUST, OPT_SIM, OPT_HELP };

static const struct option snp_opts[] = {
	{ "certs", required_argument, NULL, OPT_CERTS },
	{ "cert-table", required_argument, NULL, OPT_TABLE },
	{ "collateral", required_argument, NULL, OPT_COLL },
	{ "at", required_argument, NULL, OPT_AT },
	{ "report-data", required_argument, NULL, OPT_RD },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "max-vmpl", required_argument, NULL, OPT_VMPL },
	{ "insecure-allow-debug", no_argument, NULL, OPT_DEBUG },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "no-crl", no_argument, NULL, OPT_NOCRL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "trust-ark-insecure", required_argument, NULL, OPT_TRUST },
	{ "trust-sim", required_argument, NULL, OPT_SIM },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	uint8_t *bytes;  /* decoded input (owned) */
	size_t len;
	cct_snp_report rep;
} loaded_report;

/* Read REPORT, decode text forms; split off a trailing certificate table, offered to v for this
 * report alone (the verifier drops it when the report's cct_snp_verify returns). The report is
 * parsed first: a table offered for a report that is never verified would vouch for the next. */
static int load_report(loaded_report *lr, const char *path, cct_snp_verifier *v, cct_err *err)
{
	uint8_t *raw = NULL;
	size_t n = 0;
	int rc;

	memset(lr, 0, sizeof(*lr));
	rc = cct_file_read(&raw, &n, path, 1u << 20, err);
	if (rc != CCT_OK)
		return rc;
	rc = cct_input_decode(&lr->bytes, &lr->len, raw, n, CCT_SNP_REPORT_SIZE, err);
	free(raw);
	if (rc != CCT_OK)
		return rc;
	if (lr->len > CCT_SNP_REPORT_SIZE && v) {
		/* extended report: the GHCB certificate table follows the report */
		rc = cct_snp_report_parse(&lr->rep, lr->bytes, CCT_SNP_REPORT_SIZE, err);
		if (rc != CCT_OK)
			return rc;
		return cct_snp_verifier_add_cert_table(v, lr->bytes + CCT_SNP_REPORT_SIZE,
						       lr->len - CCT_SNP_REPORT_SIZE, err);
	}
	return cct_snp_report_parse(&lr->rep, lr->bytes, lr->len, err);
}

static void print_human(const char *path, const cct_snp_report *rep, const cct_snp_result *res,
			int rc, const cct_err *err, int crl_off)
{
	char m[97];

	if (rc != CCT_OK) {
		cct_cli_print_reject(path, rc, err);
		return;
	}
	cct_hex_encode(m, rep->measurement, 48);
	printf("%s: VERIFIED %s report v%u signed by %s%s\n", path,
	       cct_snp_product_name(res->product), rep->version,
	       res->signing_key == CCT_SNP_KEY_VLEK ? "VLEK" : "VCEK",
	       res->simulated ? " (SIMULATED TEE: test roots, not AMD)" : "");
	printf("  measurement %s\n", m);
	/* the chain that was verified: a VLEK is endorsed by the ASVK, a VCEK by the ASK */
	printf("  chain ARK->%s ok; signature ok; TCB binding ok; revocation %s\n",
	       res->signing_key == CCT_SNP_KEY_VLEK ? "ASVK->VLEK" : "ASK->VCEK",
	       crl_off ? "NOT CHECKED (--no-crl)" : "checked (AMD CRL)");
	if (res->debug_allowed_insecure)
		printf("  WARNING: guest is debuggable; accepted only because of "
		       "--insecure-allow-debug\n");
}

/* --policy: crypto and binding by the verifier, appraisal by the cctrust.policy/v1 rules over
 * the report's claims (the `tee` and `snp` sections), as the composite verifier does. */
static int appraise_v1(const cct_policy *vpol, const cct_snp_report *rep, cct_snp_result *res,
		       json_t **failures, cct_err *err)
{
	cct_policy_claims c;
	json_t *claims = cct_snp_claims(rep, res);
	int rc = CCT_OK;

	memset(&c, 0, sizeof(c));
	c.tee = "snp";
	c.cpu_claims = claims;
	c.sections = CCT_POLICY_SECTION_TEE | CCT_POLICY_SECTION_SNP;
	*failures = cct_cli_policy_apply(vpol, &c, &rc, err);
	json_decref(claims);
	if (rc == CCT_OK)
		res->debug_allowed_insecure = (int)((rep->policy >> CCT_SNP_POLICY_DEBUG_BIT) & 1);
	return rc;
}

/* Standard input can be read once: a second reader found it empty ('SNP report is 0 bytes',
 * the cause not named). 0, or the usage error when val is "-" and an earlier one was too. */
static int stdin_once(const char **first, const char *opt, const char *val)
{
	if (strcmp(val, "-"))
		return 0;
	if (*first)
		return cct_cli_usage_error("standard input (-) given to %s and to %s: it can be read "
					   "once",
					   *first, opt);
	*first = opt;
	return 0;
}

/* --cert-table FILEs: offered with every report (a verifier keeps a table for one report) */
typedef struct {
	uint8_t **bytes;
	size_t *len;
	size_t count;
} cert_tables;

static void cert_tables_free(cert_tables *t)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		free(t->bytes[i]);
	free(t->bytes);
	free(t->len);
}

/* Read and check one --cert-table FILE (a throwaway verifier judges its entries now, so a
 * corrupt table is a usage error rather than every report's rejection). */
static int cert_tables_add(cert_tables *t, const char *path, cct_err *err)
{
	cct_snp_verifier *check = NULL;
	uint8_t *b = NULL, **nb;
	size_t n = 0, *nl;
	int rc;

	rc = cct_file_read(&b, &n, path, 1u << 20, err);
	if (rc == CCT_OK)
		rc = cct_snp_verifier_new(&check, err);
	if (rc == CCT_OK)
		rc = cct_snp_verifier_add_cert_table(check, b, n, err);
	cct_snp_verifier_free(check);
	if (rc != CCT_OK) {
		free(b);
		return rc;
	}
	nb = realloc(t->bytes, sizeof(*nb) * (t->count + 1));
	if (nb)
		t->bytes = nb;
	nl = nb ? realloc(t->len, sizeof(*nl) * (t->count + 1)) : NULL;
	if (!nl) {
		free(b);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	t->len = nl;
	t->bytes[t->count] = b;
	t->len[t->count++] = n;
	return CCT_OK;
}

typedef struct snp_each {
	cct_snp_verifier *v;
	const cct_policy *vpol;
	cct_snp_policy *pol;
	const uint8_t *rd;
	int has_rd, json, crl, multi, worst;
	const cert_tables *tables;
} snp_each;

/* one report (cct_inputs_each): verified, printed, forgotten */
static void snp_verify_input(void *ctx, const char *path, int *stop)
{
	snp_each *e = ctx;
	cct_err err;
	int rc;
	loaded_report lr;
	cct_snp_result res;
	json_t *failures = NULL;
	int code;
	size_t i;

	memset(&res, 0, sizeof(res));
	cct_err_clear(&err);
	rc = load_report(&lr, path, e->v, &err);
	for (i = 0; rc == CCT_OK && i < e->tables->count; i++)
		rc = cct_snp_verifier_add_cert_table(e->v, e->tables->bytes[i], e->tables->len[i],
						     &err);
	if (rc == CCT_OK && !e->vpol)
		rc = cct_snp_verify(&res, e->v, &lr.rep, e->pol, &err);
	else if (rc == CCT_OK) {
		rc = cct_snp_verify(&res, e->v, &lr.rep, NULL, &err);
		if (rc == CCT_OK && e->has_rd)
			rc = cct_snp_report_data_check(&lr.rep, e->rd, &err);
		if (rc == CCT_OK)
			rc = appraise_v1(e->vpol, &lr.rep, &res, &failures, &err);
	}
	code = cct_cli_exit_code(rc);
	if (code > e->worst)
		e->worst = code;
	if (e->json) {
		json_t *o = json_object(), *ins = json_array();

		json_object_set_new(o, "verified", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		json_object_set_new(o, "claims", lr.rep.signed_bytes
							  ? cct_snp_claims(&lr.rep, &res)
							  : json_null());
		if (e->multi)
			json_object_set_new(o, "report", cct_cli_json_text(path));
		json_object_set_new(o, "crl_checked", json_boolean(res.crl_checked));
		if (!e->crl)
			json_array_append_new(ins, json_string("no-crl"));
		if (res.debug_allowed_insecure)
			json_array_append_new(ins, json_string("insecure-allow-debug"));
		if (res.simulated)
			json_array_append_new(ins, json_string("simulated-root"));
		json_object_set_new(o, "insecure", ins);
		json_object_set_new(o, "simulated", json_boolean(res.simulated));
		json_object_set_new(o, "checks_skipped", cct_snp_checks_skipped(&res, e->has_rd));
		if (e->vpol) {
			json_object_set_new(o, "policy_id", json_string(cct_policy_id(e->vpol)));
			json_object_set(o, "failures", failures ? failures : json_array());
		}
		cct_cli_print_json(o, 1);
	} else {
		json_t *sk = cct_snp_checks_skipped(&res, e->has_rd);

		print_human(path, &lr.rep, &res, rc, &err, !e->crl);
		cct_cli_print_failures(failures);
		cct_cli_print_skipped(path, sk);
		json_decref(sk);
	}
	json_decref(failures);
	free(lr.bytes);
	(void)stop;
	fflush(stdout);
}

static int snp_verify(int argc, char **argv)
{
	cct_snp_verifier *v = NULL;
	cert_tables tables = { NULL, NULL, 0 };
	cct_snp_policy pol;
	cct_policy *vpol = NULL;
	uint8_t rd[64];
	int has_rd = 0;
	cct_err err;
	int json = 0, crl = 1, offline = 0, worst = CCT_EXIT_OK, c;
	time_t at = 0;
	const char *policy_file = NULL, *rd_hex = NULL, *stdin_by = NULL, **table_paths = NULL;
	size_t ntables = 0, k;
	long max_vmpl = -1;
	int allow_debug = 0;
	int rc;

	cct_snp_policy_init(&pol);
	if (cct_snp_verifier_new(&v, &err) != CCT_OK) {
		worst = cct_cli_usage_error("%s", err.msg);
		goto out;
	}
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, NULL, snp_opts)) != -1) {
		switch (c) {
		case OPT_CERTS:
			if (cct_snp_verifier_add_certs_path(v, optarg, &err) != CCT_OK) {
				worst = cct_cli_usage_error("--certs: %s", err.msg);
				goto out;
			}
			break;
		case OPT_TABLE: { /* read once the REPORTs are known (one of them may be "-") */
			const char **nt = realloc(table_paths, sizeof(*nt) * (ntables + 1));

			if ((worst = stdin_once(&stdin_by, "--cert-table", optarg)) != 0)
				goto out;
			if (!nt) {
				worst = cct_cli_usage_error("out of memory");
				goto out;
			}
			table_paths = nt;
			table_paths[ntables++] = optarg;
			break;
		}
		case OPT_COLL: { /* a KDS cache directory, or a collateral bundle */
			struct stat st;

			/* any other file used to be taken for a cache directory, and the report
			 * then rejected for a missing VCEK or CRL, naming nothing about the path */
			if (stat(optarg, &st) == 0 && !S_ISDIR(st.st_mode) &&
			    !cct_coll_is_bundle(optarg)) {
				worst = cct_cli_usage_error("--collateral %s: neither a directory (the "
							    "KDS cache) nor a collateral bundle (a "
							    "directory with manifest.json, or a .tar)",
							    optarg);
				goto out;
			}
			if (cct_snp_verifier_set_collateral_dir(v, optarg, &err) != CCT_OK) {
				worst = cct_cli_usage_error("--collateral %s: %s", optarg, err.msg);
				goto out;
			}
			break;
		}
		case OPT_AT:
			if (cct_cli_parse_time(&at, optarg) != 0) {
				worst = CCT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_RD:
			rd_hex = optarg;
			break;
		case OPT_POLICY:
			if ((worst = stdin_once(&stdin_by, "--policy", optarg)) != 0)
				goto out;
			policy_file = optarg;
			break;
		case OPT_VMPL:
			/* as every numeric option: strtol alone took "" as 0 */
			if (cct_cli_parse_long(&max_vmpl, "--max-vmpl", optarg, 0, 3) != 0) {
				worst = CCT_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_DEBUG:
			allow_debug = 1;
			break;
		case OPT_OFFLINE:
			offline = 1;
			break;
		case OPT_NOCRL:
			crl = 0;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_TRUST: {
			uint8_t *b = NULL;
			size_t n;

			if ((worst = stdin_once(&stdin_by, "--trust-ark-insecure", optarg)) != 0)
				goto out;
			if (cct_file_read(&b, &n, optarg, 1u << 20, &err) != CCT_OK ||
			    cct_snp_verifier_trust_ark_insecure(v, b, n, &err) != CCT_OK) {
				free(b);
				worst = cct_cli_usage_error("--trust-ark-insecure: %s", err.msg);
				goto out;
			}
			free(b);
			break;
		}
		case OPT_SIM: {
			/* the simulated AMD platform: its ARK (trusted, results marked simulated),
			 * ASK, VCEK and CRL */
			uint8_t *b = NULL;
			size_t n;

			if (cct_file_read(&b, &n, cct_cli_sim_path(optarg, "snp/ark.pem"), 1u << 20,
					  &err) != CCT_OK ||
			    cct_snp_verifier_trust_ark_insecure(v, b, n, &err) != CCT_OK ||
			    cct_snp_verifier_add_certs_path(v, cct_cli_sim_path(optarg, "snp/ask.pem"),
							    &err) != CCT_OK ||
			    cct_snp_verifier_add_certs_path(v, cct_cli_sim_path(optarg, "snp/vcek.pem"),
							    &err) != CCT_OK) {
				free(b);
				worst = cct_cli_usage_error("--trust-sim: %s", err.msg);
				goto out;
			}
			free(b);
			cct_snp_verifier_add_certs_path(v, cct_cli_sim_path(optarg, "snp/crl.pem"),
							NULL);
			break;
		}
		case OPT_HELP:
			fputs(snp_usage, stdout);
			worst = 0;
			goto out;
		default:
			fputs(snp_usage, stderr);
			worst = CCT_EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		fputs(snp_usage, stderr);
		worst = cct_cli_usage_error("snp verify: no REPORT given");
		goto out;
	}
	for (c = optind; stdin_by && c < argc; c++)
		if ((worst = stdin_once(&stdin_by, "a REPORT", argv[c])) != 0)
			goto out;
	for (k = 0; k < ntables; k++)
		if (cert_tables_add(&tables, table_paths[k], &err) != CCT_OK) {
			worst = cct_cli_usage_error("--cert-table: %s", err.msg);
			goto out;
		}
	if (policy_file) {
		json_t *ov = json_object(), *sec = json_object();

		if (max_vmpl >= 0)
			json_object_set_new(sec, "max_vmpl", json_integer(max_vmpl));
		if (allow_debug)
			json_object_set_new(sec, "allow_debug", json_true());
		json_object_set_new(ov, "snp", sec);
		rc = cct_cli_policy_load(&vpol, policy_file, "snp", ov);
		json_decref(ov);
		if (rc) {
			worst = rc;
			goto out;
		}
	}
	if (rd_hex) {
		uint8_t *b = NULL;
		size_t n = 0;

		if (cct_hex_decode(&b, &n, rd_hex, strlen(rd_hex), &err) != CCT_OK || n == 0 ||
		    n > 64) {
			free(b);
			worst = cct_cli_usage_error("--report-data: expected 1 to 64 bytes of hex");
			goto out;
		}
		memset(rd, 0, 64);
		memcpy(rd, b, n);
		memcpy(pol.report_data, rd, 64);
		pol.has_report_data = has_rd = 1;
		free(b);
	}
	if (max_vmpl >= 0)
		pol.max_vmpl = (int)max_vmpl;
	if (allow_debug)
		pol.allow_debug_insecure = 1;
	if (at)
		cct_snp_verifier_set_time(v, at);
	cct_snp_verifier_set_crl_check(v, crl);
	cct_snp_verifier_set_offline(v, offline);

	{
		/* one report at a time: memory stays flat however many inputs */
		snp_each e = { v, vpol, &pol, rd, has_rd, json, crl, 0, CCT_EXIT_OK, &tables };
		cct_err derr;

		e.multi = cct_cli_inputs_many(argv + optind, argc - optind);
		if (cct_inputs_each(argv + optind, (size_t)(argc - optind), snp_verify_input, &e,
				    &derr) != CCT_OK)
			e.worst = cct_cli_inputs_stopped(&derr, e.json, e.multi, NULL);
		worst = e.worst;
	}
out:
	free(table_paths);
	cct_snp_policy_clear(&pol);
	cct_policy_free(vpol);
	cert_tables_free(&tables);
	cct_snp_verifier_free(v);
	return worst;
}

static int snp_show(int argc, char **argv)
{
	static const struct option show_opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, rc, c;
	const char *path = NULL;
	loaded_report lr;
	cct_snp_verifier *tv = NULL;
	cct_err err;
	json_t *o;

	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, NULL, show_opts)) != -1) {
		if (c == OPT_JSON) {
			json = 1;
		} else if (c == OPT_HELP) {
			fputs(snp_usage, stdout);
			return 0;
		} else {
			fputs(snp_usage, stderr);
			return CCT_EXIT_USAGE;
		}
	}
	if (optind < argc)
		path = argv[optind];
	if (optind + 1 < argc)
		return cct_cli_usage_error("snp show: one REPORT at a time");
	if (!path)
		return cct_cli_usage_error("snp show: no REPORT given");
	/* an extended report (the certificate table after the report, as SNP_GET_EXT_REPORT
	 * returns it and verify takes it): the table is parsed by a throwaway verifier, so a
	 * damaged one is still refused; show prints the report */
	memset(&lr, 0, sizeof(lr));
	rc = cct_snp_verifier_new(&tv, &err);
	if (rc == CCT_OK)
		rc = load_report(&lr, path, tv, &err);
	cct_snp_verifier_free(tv);
	if (rc != CCT_OK) {
		free(lr.bytes);
		if (json) {
			o = json_object();
			json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
			cct_cli_print_json(o, 1);
		} else {
			fprintf(stderr, "cctrust: %s: %s\n", path, err.msg);
		}
		return cct_cli_exit_code(rc) == CCT_EXIT_OK ? CCT_EXIT_USAGE : cct_cli_exit_code(rc);
	}
	o = cct_snp_claims(&lr.rep, NULL);
	if (json) {
		cct_cli_print_json(o, 0);
	} else {
		const char *k;
		json_t *val;

		json_object_foreach(o, k, val) {
			char *s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);

			printf("%-20s %s\n", k, s ? s : "?");
			free(s);
		}
		json_decref(o);
	}
	free(lr.bytes);
	return 0;
}

int cct_cmd_snp(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(snp_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "verify"))
		return snp_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return snp_show(argc - 1, argv + 1);
	fputs(snp_usage, stderr);
	return cct_cli_usage_error("snp: unknown subcommand '%s'", argv[1]);
}
