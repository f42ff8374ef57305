/* cctrust tdx: verify / show / eventlog for Intel TDX DCAP quotes (v4, v5). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cctrust/tdx.h"
#include "cctrust/collateral.h"
#include "cli.h"
#include "json/json.h"

#define MAX_FETCHED 16
#define MAX_DENY 64

static const char *const allow_keys[8] = { "mrtd",       "rtmr0",   "rtmr1",   "rtmr2",
					   "rtmr3",      "mrconfigid", "mrowner",
					   "mrownerconfig" };

typedef struct {
	cct_tdx_policy pol;
	uint8_t allow[8][CCT_TDX_MAX_ALLOW][48];
	uint8_t xfam[CCT_TDX_MAX_ALLOW][8];
	char *deny[MAX_DENY];
} cli_policy;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cctrust tdx verify QUOTE... [--collateral PATH|BUNDLE] [--pccs URL] [--cache DIR]\n"
		"                 [--at RFC3339] [--report-data HEX] [--policy FILE]\n"
		"                 [--accept-tcb STATUS,...] [--min-tcb-date DATE]\n"
		"                 [--deny-advisory ID,...] [--mrtd HEX] [--rtmr0..3 HEX]\n"
		"                 [--mrconfigid HEX] [--mrowner HEX] [--mrownerconfig HEX]\n"
		"                 [--xfam HEX] [--ccel-table F --ccel-data F] [--quote-only]\n"
		"                 [--insecure-allow-debug] [--offline] [--trust-sim DIR] [--json]\n"
		"       cctrust tdx show QUOTE [--json]\n"
		"       cctrust tdx eventlog QUOTE --ccel-table F --ccel-data F [--json]\n"
		"--policy FILE: a cctrust.policy/v1 document (its \"tee\" and \"tdx\" rules, exactly as\n"
		"`cctrust verify` applies them; docs/policy.md); the flags above then override its\n"
		"\"tdx\" keys. The format of earlier releases (docs/tdx.md) is converted with a\n"
		"deprecation warning (`cctrust policy convert FILE`).\n"
		"QUOTE: raw binary, ASCII hex (optional 0x) or base64; several QUOTEs give one\n"
		"result per quote (one JSON object per line with --json).\n"
		"exit: 0 accepted, 1 rejected, 2 usage error or unreadable input\n");
}

static int read_quote(uint8_t **out, size_t *n, const char *path, cct_err *err)
{
	uint8_t *raw = NULL;
	size_t rn = 0;
	int rc = cct_file_read(&raw, &rn, path, 4 * CCT_TDX_MAX_QUOTE, err);

	*out = NULL;
	if (rc != CCT_OK)
		return rc;
	rc = cct_tdx_input_decode(out, n, raw, rn, err);
	free(raw);
	return rc;
}

/* An option value that names nothing ("", ","; an unset shell variable) is a usage error: it
 * used to add nothing, so --mrtd "" dropped the allow-list and accepted any MRTD. */
static int no_values(const char *what, const char *want)
{
	return cct_cli_usage_error("--%s: no value given (want %s, comma-separated)", what, want);
}

static int add_hex_list(uint8_t *dst, size_t width, size_t *count, const char *s,
			const char *what)
{
	char *copy = strdup(s), *tok, *save = NULL;
	size_t before = *count;
	int rc = 0;

	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		if (*count >= CCT_TDX_MAX_ALLOW) {
			rc = cct_cli_usage_error("%s: more than %d values", what, CCT_TDX_MAX_ALLOW);
			break;
		}
		if (cct_hex_decode_fixed(dst + *count * width, width, tok, NULL) != CCT_OK)
			rc = cct_cli_usage_error("%s: want %zu bytes of hex, got '%s'", what, width,
						 tok);
		else
			(*count)++;
	}
	free(copy);
	if (!rc && *count == before) {
		char want[48];

		snprintf(want, sizeof(want), "%zu bytes of hex", width);
		rc = no_values(what[0] == '-' ? what + 2 : what, want);
	}
	return rc;
}

static int add_accept(cli_policy *cp, const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int rc = 0, n = 0;

	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		cct_tdx_tcb_status st = cct_tdx_tcb_status_from_name(tok);

		n++;
		if (st == CCT_TDX_TCB_NONE)
			rc = cct_cli_usage_error("--accept-tcb: unknown TCB status '%s'", tok);
		else
			cp->pol.accept_tcb |= 1u << st | 1u << CCT_TDX_TCB_UP_TO_DATE;
	}
	free(copy);
	return !rc && !n ? no_values("accept-tcb", "TCB status names") : rc;
}

static int add_deny(cli_policy *cp, const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cp->pol.advisory_deny_count >= MAX_DENY) {
			free(copy);
			return cct_cli_usage_error("--deny-advisory: more than %d IDs", MAX_DENY);
		}
		cp->deny[cp->pol.advisory_deny_count++] = strdup(tok);
	}
	free(copy);
	cp->pol.advisory_deny = (const char *const *)cp->deny;
	return strspn(s, ",") == strlen(s) ? no_values("deny-advisory", "advisory IDs") : 0;
}

static int set_report_data(cli_policy *cp, const char *hex)
{
	uint8_t *b = NULL;
	size_t n = 0;
	cct_err e;

	if (cct_hex_decode(&b, &n, hex, strlen(hex), &e) != CCT_OK || n == 0 || n > 64) {
		free(b);
		return cct_cli_usage_error("--report-data: want 1 to 64 bytes of hex (shorter "
					   "values are zero-padded)");
	}
	memset(cp->pol.report_data, 0, 64);
	memcpy(cp->pol.report_data, b, n);
	cp->pol.has_report_data = 1;
	free(b);
	return 0;
}

/* Standard input can be read once: a second reader found it empty (or read the quote as a
 * policy), the cause not named. 0, or the usage error when val is "-" and an earlier one was. */
static int stdin_once(const char **first, const char *opt, const char *val)
{
	if (!val || strcmp(val, "-"))
		return 0;
	if (*first)
		return cct_cli_usage_error("standard input (-) given to %s and to %s: it can be read "
					   "once",
					   *first, opt);
	*first = opt;
	return 0;
}

typedef struct {
	cct_tdx_collateral *c;
	char key[32];
} fetched;

typedef struct {
	const char *collateral, *pccs, *cache, *ccel_table, *ccel_data;
	int offline, quote_only, json, repeat;
	time_t at;
	cct_tdx_collateral *coll;
	fetched fetched[MAX_FETCHED];
	size_t nfetched, fetch_cap; /* cap: MAX_FETCHED (CCT_TDX_FETCH_CACHE lowers it: tests) */
	cct_tdx_collateral *transient; /* this quote's alone, past the cap: freed after it */
	cli_policy *cp;
	cct_policy *v1;         /* --policy: cctrust.policy/v1 appraisal */
	const char *trust_root; /* hidden, tests only */
} verify_ctx;

/* collateral for this quote: --collateral (loaded once) or --pccs (one per FMSPC/CA) */
static int quote_collateral(cct_tdx_collateral **out, verify_ctx *vc, const uint8_t *buf,
			    size_t n, cct_err *err)
{
	cct_tdx_collateral_source src;
	cct_tdx_quote q;
	char fmspc[13], ca[16], key[32];
	size_t i;
	int rc;

	*out = NULL;
	if (vc->quote_only && !vc->collateral && !vc->pccs)
		return CCT_OK;
	if (vc->coll) {
		*out = vc->coll;
		return CCT_OK;
	}
	if (!vc->pccs && !(vc->collateral && cct_coll_is_bundle(vc->collateral)))
		return CCT_OK; /* cct_tdx_verify fails closed */
	if ((rc = cct_tdx_quote_parse(&q, buf, n, err)) != CCT_OK ||
	    (rc = cct_tdx_quote_pck_info(&q, fmspc, ca, err)) != CCT_OK)
		return rc;
	snprintf(key, sizeof(key), "%s-%s", fmspc, ca);
	for (i = 0; i < vc->nfetched; i++)
		if (!strcmp(vc->fetched[i].key, key)) {
			*out = vc->fetched[i].c;
			return CCT_OK;
		}
	memset(&src, 0, sizeof(src));
	if (vc->collateral && cct_coll_is_bundle(vc->collateral))
		src.path = vc->collateral; /* a bundle: looked up by this quote's FMSPC and CA */
	src.pccs_url = vc->pccs;
	src.cache_dir = vc->cache;
	src.offline = vc->offline;
	src.at = vc->at;
	rc = cct_tdx_collateral_for_quote(out, &src, &q, err);
	if (rc != CCT_OK)
		return rc;
	if (vc->nfetched >= vc->fetch_cap) {
		/* more platforms than the cache keeps: this quote's collateral is for it alone
		 * (memory stays flat; any number of platforms in one call) */
		vc->transient = *out;
		return CCT_OK;
	}
	vc->fetched[vc->nfetched].c = *out;
	snprintf(vc->fetched[vc->nfetched].key, sizeof(vc->fetched[0].key), "%s", key);
	vc->nfetched++;
	return CCT_OK;
}

static int ccel_check(const cct_tdx_quote *q, const char *tpath, const char *dpath, int *input,
		      cct_err *err)
{
	uint8_t *t = NULL, *d = NULL;
	size_t tn = 0, dn = 0;
	cct_tdx_ccel c;
	int rc;

	*input = 1;
	if ((tpath && (rc = cct_file_read(&t, &tn, tpath, 0, err)) != CCT_OK) ||
	    (rc = cct_file_read(&d, &dn, dpath, 0, err)) != CCT_OK)
		goto out;
	*input = 0;
	rc = cct_tdx_ccel_parse(&c, t, tn, d, dn, err);
	if (rc == CCT_OK) {
		rc = cct_tdx_ccel_check(&c, q, err);
		cct_tdx_ccel_free(&c);
	}
out:
	free(t);
	free(d);
	return rc;
}

static int verify_one(verify_ctx *vc, const char *path)
{
	json_t *failures = NULL;
	cct_tdx_result res;
	cct_tdx_verify_opts o;
	cct_err err;
	uint8_t *buf = NULL, *root = NULL;
	size_t n = 0, rn = 0;
	int rc, i;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	cct_err_clear(&err);
	rc = read_quote(&buf, &n, path, &err);
	if (rc == CCT_OK && vc->trust_root)
		rc = cct_file_read(&root, &rn, vc->trust_root, 0, &err);
	if (rc == CCT_OK)
		rc = quote_collateral(&o.collateral, vc, buf, n, &err);
	if (rc == CCT_OK) {
		o.at = vc->at;
		o.quote_only = vc->quote_only && !o.collateral;
		o.policy = &vc->cp->pol;
		o.trust_root_pem.p = root;
		o.trust_root_pem.size = rn;
		rc = cct_tdx_verify(&res, buf, n, &o, &err);
		for (i = 1; i < vc->repeat; i++) /* hidden --repeat: benchmark loop */
			cct_tdx_verify(&res, buf, n, &o, NULL);
	}
	if (rc == CCT_OK && vc->ccel_data) {
		int input = 0;

		rc = ccel_check(&res.quote, vc->ccel_table, vc->ccel_data, &input, &err);
		if (rc != CCT_OK && !input && !cct_code_is_input(rc))
			rc = rc == CCT_EMEASUREMENT ? rc : CCT_EFORMAT; /* damaged log: reject */
	}
	if (rc == CCT_OK && vc->v1) {
		cct_policy_claims pc;
		json_t *claims = cct_tdx_claims(&res);

		memset(&pc, 0, sizeof(pc));
		pc.tee = "tdx";
		pc.cpu_claims = claims;
		pc.sections = CCT_POLICY_SECTION_TEE | CCT_POLICY_SECTION_TDX;
		failures = cct_cli_policy_apply(vc->v1, &pc, &rc, &err);
		json_decref(claims);
	}
	if (vc->json) {
		json_t *o2 = json_object();

		json_object_set_new(o2, "quote", cct_cli_json_text(path));
		json_object_set_new(o2, "verdict", json_string(rc == CCT_OK ? "accepted"
									  : "rejected"));
		json_object_set_new(o2, "accepted", json_boolean(rc == CCT_OK));
		json_object_set_new(o2, "tcb_evaluated", json_boolean(res.tcb_evaluated));
		json_object_set_new(o2, "claims", res.parsed ? cct_tdx_claims(&res) : json_object());
		json_object_set_new(o2, "error", cct_cli_error_json(rc, &err));
		json_object_set_new(o2, "checks_skipped",
				    cct_tdx_checks_skipped(&res, vc->cp->pol.has_report_data));
		if (res.debug && vc->cp->pol.allow_debug_insecure && rc == CCT_OK)
			json_object_set_new(o2, "warning",
					    json_string("debug TD accepted (--insecure-allow-debug)"));
		if (vc->v1) {
			json_object_set_new(o2, "policy_id", json_string(cct_policy_id(vc->v1)));
			json_object_set(o2, "failures", failures ? failures : json_array());
		}
		cct_cli_print_json(o2, 1);
	} else if (rc == CCT_OK) {
		char fm[13];

		cct_hex_encode(fm, res.fmspc, 6);
		if (res.tcb_evaluated)
			printf("%s: ACCEPTED TDX quote v%u, FMSPC %s, TCB %s (tcbDate %s), QE TCB "
			       "%s%s%s\n",
			       path, res.quote.version, fm,
			       cct_tdx_tcb_status_name(res.tcb_status), res.tcb_date,
			       cct_tdx_tcb_status_name(res.qe_tcb_status),
			       res.debug ? " [DEBUG TD accepted: insecure]" : "",
			       res.simulated ? " [SIMULATED TEE: test root, not Intel]" : "");
		else
			printf("%s: ACCEPTED TDX quote v%u, FMSPC %s (quote only: signatures and "
			       "PCK chain verified, revocation and TCB NOT evaluated)%s%s\n",
			       path, res.quote.version, fm,
			       res.debug ? " [DEBUG TD accepted: insecure]" : "",
			       res.simulated ? " [SIMULATED TEE: test root, not Intel]" : "");
	} else {
		cct_cli_print_reject(path, rc, &err);
		cct_cli_print_failures(failures);
	}
	if (!vc->json) {
		json_t *sk = cct_tdx_checks_skipped(&res, vc->cp->pol.has_report_data);

		cct_cli_print_skipped(path, sk);
		json_decref(sk);
	}
	json_decref(failures);
	free(buf);
	free(root);
	cct_tdx_collateral_free(vc->transient);
	vc->transient = NULL;
	return rc;
}

enum { OPT_JSON = 256, OPT_OFFLINE, OPT_QUOTE_ONLY, OPT_DEBUG, OPT_COLL, OPT_PCCS, OPT_CACHE,
       OPT_CCEL_TABLE, OPT_CCEL_DATA, OPT_SIM, OPT_ROOT, OPT_REPEAT, OPT_AT, OPT_RD, OPT_POLICY,
       OPT_ACCEPT, OPT_DENY, OPT_MIN_DATE, OPT_XFAM, OPT_HELP, OPT_ALLOW /* + index 0..7 */ };

static const struct option verify_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "quote-only", no_argument, NULL, OPT_QUOTE_ONLY },
	{ "insecure-allow-debug", no_argument, NULL, OPT_DEBUG },
	{ "collateral", required_argument, NULL, OPT_COLL },
	{ "pccs", required_argument, NULL, OPT_PCCS },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "ccel-table", required_argument, NULL, OPT_CCEL_TABLE },
	{ "ccel-data", required_argument, NULL, OPT_CCEL_DATA },
	{ "trust-sim", required_argument, NULL, OPT_SIM },
	{ "insecure-trust-root", required_argument, NULL, OPT_ROOT }, /* tests only */
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "at", required_argument, NULL, OPT_AT },
	{ "report-data", required_argument, NULL, OPT_RD },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "accept-tcb", required_argument, NULL, OPT_ACCEPT },
	{ "deny-advisory", required_argument, NULL, OPT_DENY },
	{ "min-tcb-date", required_argument, NULL, OPT_MIN_DATE },
	{ "xfam", required_argument, NULL, OPT_XFAM },
	{ "mrtd", required_argument, NULL, OPT_ALLOW + 0 },
	{ "rtmr0", required_argument, NULL, OPT_ALLOW + 1 },
	{ "rtmr1", required_argument, NULL, OPT_ALLOW + 2 },
	{ "rtmr2", required_argument, NULL, OPT_ALLOW + 3 },
	{ "rtmr3", required_argument, NULL, OPT_ALLOW + 4 },
	{ "mrconfigid", required_argument, NULL, OPT_ALLOW + 5 },
	{ "mrowner", required_argument, NULL, OPT_ALLOW + 6 },
	{ "mrownerconfig", required_argument, NULL, OPT_ALLOW + 7 },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* the per-verifier flags as overrides of a cctrust.policy/v1 "tdx" section */
static void override_list(json_t *sec, const char *key, const char *csv, int with_uptodate)
{
	json_t *a = json_object_get(sec, key);
	char *copy = strdup(csv), *tok, *save = NULL;

	if (!a) {
		a = json_array();
		if (with_uptodate)
			json_array_append_new(a, json_string("UpToDate"));
		json_object_set_new(sec, key, a);
	}
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(tok));
	free(copy);
}

typedef struct unusable {
	verify_ctx *vc;
	int rc;
	const cct_err *err;
} unusable;

static void reject_input(void *ctx, const char *path, int *stop)
{
	unusable *u = ctx;

	(void)stop;
	if (u->vc->json) {
		json_t *o = json_object();

		json_object_set_new(o, "quote", cct_cli_json_text(path));
		json_object_set_new(o, "verdict", json_string("rejected"));
		json_object_set_new(o, "accepted", json_false());
		json_object_set_new(o, "tcb_evaluated", json_false());
		json_object_set_new(o, "claims", json_object());
		json_object_set_new(o, "error", cct_cli_error_json(u->rc, u->err));
		/* the same shape as a verified quote's: nothing was checked */
		json_object_set_new(o, "checks_skipped",
				    cct_tdx_checks_skipped(NULL, u->vc->cp->pol.has_report_data));
		if (u->vc->v1) { /* as verify_one: a --policy result always has both */
			json_object_set_new(o, "policy_id", json_string(cct_policy_id(u->vc->v1)));
			json_object_set_new(o, "failures", json_array());
		}
		cct_cli_print_json(o, 1);
	} else {
		cct_cli_print_reject(path, u->rc, u->err);
	}
}

typedef struct verify_each {
	verify_ctx *vc;
	int worst;
} verify_each;

static void verify_input(void *ctx, const char *path, int *stop)
{
	verify_each *ve = ctx;
	int e = cct_cli_exit_code(verify_one(ve->vc, path));

	(void)stop;
	if (e == CCT_EXIT_USAGE || (e == CCT_EXIT_REJECT && ve->worst == CCT_EXIT_OK))
		ve->worst = e;
	fflush(stdout); /* results as they come, for pipes too */
}

static int cmd_verify(int argc, char **argv)
{
	verify_ctx vc;
	cli_policy *cp = calloc(1, sizeof(*cp));
	char **quotes = NULL; /* the inputs: files, "-", directories (cct_inputs_each) */
	const char *policy_file = NULL;
	json_t *ov = json_object(), *ovt = json_object();
	size_t nq = 0, k;
	int rc = 0, worst = CCT_EXIT_OK, c;
	const char *tcb_opt = NULL; /* a TCB appraisal flag, which --quote-only cannot apply */
	long num;
	cct_err err;

	memset(&vc, 0, sizeof(vc));
	vc.fetch_cap = MAX_FETCHED;
	{ /* hidden, tests only: a smaller cache, so the path past it runs with one platform */
		const char *cap = getenv("CCT_TDX_FETCH_CACHE");

		if (cap && *cap >= '0' && *cap <= '9' && !cap[1])
			vc.fetch_cap = (size_t)(*cap - '0');
	}
	vc.cp = cp;
	vc.repeat = 1;
	json_object_set_new(ov, "tdx", ovt);
	if (!cp) {
		json_decref(ov);
		return cct_cli_usage_error("out of memory");
	}
	cct_cli_getopt_begin();
	while (!rc && (c = cct_cli_getopt(argc, argv, NULL, verify_opts)) != -1) {
		const char *v = optarg;

		switch (c) {
		case OPT_JSON: vc.json = 1; break;
		case OPT_OFFLINE: vc.offline = 1; break;
		case OPT_QUOTE_ONLY: vc.quote_only = 1; break;
		case OPT_DEBUG:
			cp->pol.allow_debug_insecure = 1;
			json_object_set_new(ovt, "allow_debug", json_true());
			break;
		case OPT_COLL: vc.collateral = v; break;
		case OPT_PCCS: vc.pccs = v; break;
		case OPT_CACHE: vc.cache = v; break;
		case OPT_CCEL_TABLE: vc.ccel_table = v; break;
		case OPT_CCEL_DATA: vc.ccel_data = v; break;
		case OPT_SIM: /* simulated TEE: its root + collateral */
			vc.trust_root = cct_cli_sim_path(v, "tdx/root_ca.pem");
			if (!vc.collateral)
				vc.collateral = cct_cli_sim_path(v, "tdx/collateral.json");
			break;
		case OPT_ROOT: vc.trust_root = v; break;
		case OPT_REPEAT:
			if (cct_cli_parse_long(&num, "--repeat", v, 1, 10000000))
				rc = CCT_EXIT_USAGE;
			else
				vc.repeat = (int)num;
			break;
		case OPT_AT:
			if (cct_cli_parse_time(&vc.at, v) != 0)
				rc = CCT_EXIT_USAGE;
			break;
		case OPT_RD: rc = set_report_data(cp, v); break;
		case OPT_POLICY: policy_file = v; break;
		case OPT_ACCEPT:
			tcb_opt = "--accept-tcb";
			rc = add_accept(cp, v);
			override_list(ovt, "accepted_tcb_status", v, 1);
			break;
		case OPT_DENY:
			tcb_opt = "--deny-advisory";
			rc = add_deny(cp, v);
			override_list(ovt, "deny_advisories", v, 0);
			break;
		case OPT_MIN_DATE:
			tcb_opt = "--min-tcb-date";
			if (cct_time_parse(&cp->pol.min_tcb_date, v, &err) != CCT_OK)
				rc = cct_cli_usage_error("--min-tcb-date: %s", err.msg);
			json_object_set_new(ovt, "min_tcb_date", json_string(v));
			break;
		case OPT_XFAM:
			rc = add_hex_list(&cp->xfam[0][0], 8, &cp->pol.xfam_allow_count, v, "--xfam");
			override_list(ovt, "xfam", v, 0);
			break;
		case OPT_HELP:
			usage(stdout);
			rc = -1;
			break;
		default:
			if (c >= OPT_ALLOW && c < OPT_ALLOW + 8) {
				int k2 = c - OPT_ALLOW;

				rc = add_hex_list(&cp->allow[k2][0][0], 48, &cp->pol.allow_count[k2], v,
						  allow_keys[k2]);
				override_list(ovt, allow_keys[k2], v, 0);
			} else {
				usage(stderr);
				rc = CCT_EXIT_USAGE;
			}
		}
	}
	if (!rc && optind < argc) {
		quotes = argv + optind;
		nq = (size_t)(argc - optind);
	}
	if (!rc && nq) {
		/* --ccel-table, --ccel-data and --insecure-trust-root are read again for every
		 * quote: from standard input only the first quote would get them */
		const char *by = NULL;
		const char *const per_quote[3] = { vc.ccel_table, vc.ccel_data, vc.trust_root };
		static const char *const names[3] = { "--ccel-table", "--ccel-data",
						      "--insecure-trust-root" };

		rc = stdin_once(&by, "--policy", policy_file);
		for (k = 0; !rc && k < 3; k++) {
			rc = stdin_once(&by, names[k], per_quote[k]);
			if (!rc && by == names[k] && cct_cli_inputs_many(quotes, (int)nq))
				rc = cct_cli_usage_error("%s -: it is read for every QUOTE, and "
							 "standard input can be read once (give a "
							 "file)",
							 names[k]);
		}
		for (k = 0; !rc && k < nq; k++)
			rc = stdin_once(&by, "a QUOTE", quotes[k]);
		/* each file is read before any quote is verified: an unreadable one is a usage
		 * error (exit 2), not noticed only for a quote that verified (an untrusted quote
		 * was rejected, exit 1, with the file unread) */
		for (k = 0; !rc && k < 3; k++) {
			uint8_t *b = NULL;
			size_t bn = 0;

			if (!per_quote[k] || !strcmp(per_quote[k], "-"))
				continue;
			if (cct_file_read(&b, &bn, per_quote[k], 0, &err) != CCT_OK)
				rc = cct_cli_usage_error("%s: %s", names[k], err.msg);
			free(b);
		}
		if (rc)
			goto done;
	}
	if (!rc && vc.quote_only && (vc.collateral || vc.pccs))
		fprintf(stderr, "cctrust: --quote-only not applied: collateral is given (--collateral, "
				"--pccs or --trust-sim), so the full verification runs\n");
	/* flags that would be silently ignored: a TCB rule where no TCB is evaluated, a cache
	 * directory where nothing is fetched (the quote was accepted as if they had held) */
	if (!rc && tcb_opt && vc.quote_only && !vc.collateral && !vc.pccs)
		rc = cct_cli_usage_error("%s: --quote-only evaluates no TCB level, so this rule "
					 "cannot be applied (give --collateral or --pccs, or drop "
					 "%s)",
					 tcb_opt, tcb_opt);
	/* "" (an unset variable) silently meant Intel's PCS and the default cache */
	if (!rc && vc.pccs && !vc.pccs[0])
		rc = cct_cli_usage_error("--pccs: empty URL (give the PCCS or PCS base URL, e.g. "
					 "https://api.trustedservices.intel.com)");
	if (!rc && vc.cache && !vc.cache[0])
		rc = cct_cli_usage_error("--cache: empty path");
	if (!rc && vc.cache && !vc.pccs)
		rc = cct_cli_usage_error("--cache DIR is where --pccs URL stores what it fetches; "
					 "without --pccs nothing is fetched (a cached set is itself "
					 "a --collateral directory: DIR/<fmspc>-<ca>)");
	if (!rc && policy_file) {
		/* cctrust.policy/v1: the verifier checks crypto, collateral, TCB level and binding;
		 * the "tee" and "tdx" rules appraise, exactly as in `cctrust verify` */
		int has_rd = cp->pol.has_report_data;
		uint8_t rd[64];

		memcpy(rd, cp->pol.report_data, 64);
		rc = cct_cli_policy_load(&vc.v1, policy_file, "tdx", ov);
		cct_tdx_policy_appraise_none(&cp->pol);
		cp->pol.has_report_data = has_rd;
		memcpy(cp->pol.report_data, rd, 64);
	}
	if (rc == -1) {
		rc = 0;
		goto done;
	}
	if (rc)
		goto done;
	for (k = 0; k < 8; k++)
		cp->pol.allow[k] = (const uint8_t (*)[48])cp->allow[k];
	cp->pol.xfam_allow = (const uint8_t (*)[8])cp->xfam;
	if (!nq) {
		usage(stderr);
		rc = CCT_EXIT_USAGE;
		goto done;
	}
	if (vc.collateral && vc.pccs) {
		rc = cct_cli_usage_error("--collateral and --pccs are exclusive");
		goto done;
	}
	if ((vc.ccel_table && !vc.ccel_data)) {
		rc = cct_cli_usage_error("--ccel-table needs --ccel-data");
		goto done;
	}
	if (!vc.at)
		vc.at = time(NULL);
	if (vc.collateral && !cct_coll_is_bundle(vc.collateral)) {
		int lrc = cct_tdx_collateral_load(&vc.coll, vc.collateral, &err);

		if (lrc != CCT_OK) {
			/* unreadable collateral: every quote gets the same answer */
			unusable u = { &vc, lrc, &err };
			cct_err derr;

			rc = cct_cli_exit_code(lrc);
			if (cct_inputs_each(quotes, nq, reject_input, &u, &derr) != CCT_OK)
				rc = cct_cli_inputs_stopped(
					&derr, vc.json, cct_cli_inputs_many(quotes, (int)nq),
					json_pack("{s:s,s:b}", "verdict", "rejected", "accepted", 0));
			goto done;
		}
	}
	{
		/* one quote at a time: memory stays flat however many inputs */
		verify_each ve = { &vc, CCT_EXIT_OK };
		cct_err derr;

		if (cct_inputs_each(quotes, nq, verify_input, &ve, &derr) != CCT_OK)
			ve.worst = cct_cli_inputs_stopped(
				&derr, vc.json, cct_cli_inputs_many(quotes, (int)nq),
				json_pack("{s:s,s:b}", "verdict", "rejected", "accepted", 0));
		worst = ve.worst;
	}
	rc = worst;
done:
	cct_tdx_collateral_free(vc.coll);
	for (k = 0; k < vc.nfetched; k++)
		cct_tdx_collateral_free(vc.fetched[k].c);
	for (k = 0; k < MAX_DENY; k++)
		free(cp->deny[k]);
	free(cp);
	cct_policy_free(vc.v1);
	json_decref(ov);
	return rc;
}

static json_t *pck_chain_json(const cct_tdx_quote *q)
{
	json_t *arr = json_array();
	BIO *bio;
	X509 *x;

	if (q->pck_chain_pem.size > INT32_MAX)
		return arr;
	bio = BIO_new_mem_buf(q->pck_chain_pem.p, (int)q->pck_chain_pem.size);
	while (bio && json_array_size(arr) < 8 &&
	       (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		json_t *c = json_object();
		char *s = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
		char *iss = X509_NAME_oneline(X509_get_issuer_name(x), NULL, 0);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;
		BIO *mb = BIO_new(BIO_s_mem());
		char tb[64];
		int l;

		json_object_set_new(c, "subject", json_string(s ? s : "?"));
		json_object_set_new(c, "issuer", json_string(iss ? iss : "?"));
		json_object_set_new(c, "serial", json_string(hex ? hex : "?"));
		if (mb && ASN1_TIME_print(mb, X509_get0_notBefore(x)) &&
		    (l = BIO_read(mb, tb, sizeof(tb) - 1)) > 0) {
			tb[l] = 0;
			json_object_set_new(c, "not_before", json_string(tb));
		}
		if (mb && ASN1_TIME_print(mb, X509_get0_notAfter(x)) &&
		    (l = BIO_read(mb, tb, sizeof(tb) - 1)) > 0) {
			tb[l] = 0;
			json_object_set_new(c, "not_after", json_string(tb));
		}
		BIO_free(mb);
		OPENSSL_free(s);
		OPENSSL_free(iss);
		OPENSSL_free(hex);
		BN_free(bn);
		X509_free(x);
		json_array_append_new(arr, c);
	}
	BIO_free(bio);
	ERR_clear_error();
	return arr;
}

static json_t *show_json(const cct_tdx_quote *q)
{
	json_t *o = json_object(), *h = json_object(), *qe = json_object(), *sig = json_object();
	char tee[16];

	json_object_set_new(h, "version", json_integer(q->version));
	json_object_set_new(h, "att_key_type", json_integer(q->att_key_type));
	snprintf(tee, sizeof(tee), "0x%x", q->tee_type);
	json_object_set_new(h, "tee_type", json_string(tee));
	json_object_set_new(h, "qe_svn", json_integer(q->qe_svn));
	json_object_set_new(h, "pce_svn", json_integer(q->pce_svn));
	cct_json__set_hex(h, "qe_vendor_id", q->qe_vendor_id, 16);
	cct_json__set_hex(h, "user_data", q->user_data, 20);
	json_object_set_new(o, "header", h);
	json_object_set_new(o, "body", cct_tdx_body_json(q));
	json_object_set_new(sig, "size", json_integer(q->sig_data_size));
	cct_json__set_hex(sig, "quote_signature", q->quote_sig, 64);
	cct_json__set_hex(sig, "attestation_key", q->att_key, 64);
	json_object_set_new(sig, "certification_data_type", json_integer(q->cert_type));
	cct_json__set_hex(qe, "cpu_svn", q->qe_report.cpu_svn, 16);
	json_object_set_new(qe, "misc_select", json_integer(q->qe_report.misc_select));
	cct_json__set_hex(qe, "attributes", q->qe_report.attributes, 16);
	cct_json__set_hex(qe, "mr_enclave", q->qe_report.mr_enclave, 32);
	cct_json__set_hex(qe, "mr_signer", q->qe_report.mr_signer, 32);
	json_object_set_new(qe, "isv_prod_id", json_integer(q->qe_report.isv_prod_id));
	json_object_set_new(qe, "isv_svn", json_integer(q->qe_report.isv_svn));
	cct_json__set_hex(qe, "report_data", q->qe_report.report_data, 64);
	json_object_set_new(sig, "qe_report", qe);
	cct_json__set_hex(sig, "qe_report_signature", q->qe_report_sig, 64);
	cct_json__set_hex(sig, "qe_auth_data", q->qe_auth_data.p, q->qe_auth_data.size);
	json_object_set_new(sig, "pck_certification_data_type", json_integer(q->pck_cert_type));
	json_object_set_new(sig, "pck_chain", pck_chain_json(q));
	json_object_set_new(o, "signature_data", sig);
	json_object_set_new(o, "trailing_bytes", json_integer((json_int_t)q->trailing_size));
	return o;
}

static void print_obj(json_t *o, const char *indent)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		if (json_is_object(v)) {
			char sub[64];

			printf("%s%s:\n", indent, k);
			snprintf(sub, sizeof(sub), "%s  ", indent);
			print_obj(v, sub);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;

			printf("%s%s:\n", indent, k);
			json_array_foreach(v, i, e)
			{
				char *s = json_dumps(e, JSON_COMPACT);

				printf("%s  - %s\n", indent, s ? s : "?");
				free(s);
			}
		} else {
			char *s = json_dumps(v, JSON_ENCODE_ANY);

			printf("%s%-24s %s\n", indent, k, s ? s : "?");
			free(s);
		}
	}
}

static int cmd_show(int argc, char **argv)
{
	static const struct option show_opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int json = 0, rc, c;
	uint8_t *buf = NULL;
	size_t n = 0;
	cct_tdx_quote q;
	cct_err err;

	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, NULL, show_opts)) != -1) {
		if (c != OPT_JSON)
			return cct_cli_usage_error("usage: cctrust tdx show QUOTE [--json]");
		json = 1;
	}
	if (optind < argc)
		path = argv[optind];
	if (optind + 1 < argc)
		return cct_cli_usage_error("show takes one QUOTE");
	if (!path)
		return cct_cli_usage_error("usage: cctrust tdx show QUOTE [--json]");
	rc = read_quote(&buf, &n, path, &err);
	if (rc == CCT_OK)
		rc = cct_tdx_quote_parse(&q, buf, n, &err);
	if (rc != CCT_OK) {
		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "quote", cct_cli_json_text(path));
			json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
			cct_cli_print_json(o, 1);
		} else {
			cct_cli_print_reject(path, rc, &err);
		}
		free(buf);
		return CCT_EXIT_USAGE;
	}
	{
		json_t *o = show_json(&q);

		if (json) {
			cct_cli_print_json(o, 0);
		} else {
			printf("TDX quote %s (%zu bytes, %zu trailing)\n", path, q.size,
			       q.trailing_size);
			print_obj(o, "  ");
			json_decref(o);
		}
	}
	free(buf);
	return CCT_EXIT_OK;
}

static const char *event_type_name(uint32_t t)
{
	switch (t) {
	case 0x3: return "EV_NO_ACTION";
	case 0x4: return "EV_SEPARATOR";
	case 0x5: return "EV_ACTION";
	case 0x7: return "EV_S_CRTM_CONTENTS";
	case 0x8: return "EV_S_CRTM_VERSION";
	case 0xd: return "EV_IPL";
	case 0xa: return "EV_PLATFORM_CONFIG_FLAGS";
	case 0x80000001: return "EV_EFI_VARIABLE_DRIVER_CONFIG";
	case 0x80000002: return "EV_EFI_VARIABLE_BOOT";
	case 0x80000003: return "EV_EFI_BOOT_SERVICES_APPLICATION";
	case 0x80000004: return "EV_EFI_BOOT_SERVICES_DRIVER";
	case 0x80000007: return "EV_EFI_ACTION";
	case 0x80000008: return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
	case 0x80000009: return "EV_EFI_HANDOFF_TABLES";
	case 0x8000000a: return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
	case 0x8000000b: return "EV_EFI_HANDOFF_TABLES2";
	case 0x800000e0: return "EV_EFI_VARIABLE_AUTHORITY";
	default: return "EV_UNKNOWN";
	}
}

/* an input or log that cannot be replayed: with --json the same object as a replay, so a
 * consumer never reads a text line where it asked for JSON */
static void eventlog_reject(const char *what, int rc, const cct_err *err, int json)
{
	json_t *o;

	if (!json) {
		cct_cli_print_reject(what, rc, err);
		return;
	}
	o = json_object();
	json_object_set_new(o, "events", json_array());
	json_object_set_new(o, "replay", json_null());
	json_object_set_new(o, "match", json_false());
	json_object_set_new(o, "error", cct_cli_error_json(rc, err));
	cct_cli_print_json(o, 0);
}

static int cmd_eventlog(int argc, char **argv)
{
	const char *path = NULL, *tpath = NULL, *dpath = NULL;
	uint8_t *buf = NULL, *t = NULL, *d = NULL;
	size_t n = 0, tn = 0, dn = 0, k;
	static const struct option log_opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "ccel-table", required_argument, NULL, OPT_CCEL_TABLE },
		{ "ccel-data", required_argument, NULL, OPT_CCEL_DATA },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, i, rc, exit_code = CCT_EXIT_USAGE, ch;
	cct_tdx_quote q;
	cct_tdx_ccel c;
	cct_err err;

	memset(&c, 0, sizeof(c));
	cct_cli_getopt_begin();
	while ((ch = cct_cli_getopt(argc, argv, NULL, log_opts)) != -1) {
		if (ch == OPT_JSON)
			json = 1;
		else if (ch == OPT_CCEL_TABLE)
			tpath = optarg;
		else if (ch == OPT_CCEL_DATA)
			dpath = optarg;
		else
			return cct_cli_usage_error(
				"usage: cctrust tdx eventlog QUOTE --ccel-table F --ccel-data F [--json]");
	}
	/* one quote: its RTMRs are what the log is replayed against (more were once taken
	 * silently, the last one used) */
	if (argc - optind > 1)
		return cct_cli_usage_error("tdx eventlog: one QUOTE (its RTMRs are what the CCEL log "
					   "is replayed against), got %d",
					   argc - optind);
	if (optind < argc)
		path = argv[optind];
	if (!path || !dpath)
		return cct_cli_usage_error(
			"usage: cctrust tdx eventlog QUOTE --ccel-table F --ccel-data F [--json]");
	{
		const char *by = NULL;

		if ((rc = stdin_once(&by, "--ccel-table", tpath)) != 0 ||
		    (rc = stdin_once(&by, "--ccel-data", dpath)) != 0 ||
		    (rc = stdin_once(&by, "the QUOTE", path)) != 0)
			return rc;
	}
	rc = read_quote(&buf, &n, path, &err);
	if (rc == CCT_OK)
		rc = cct_tdx_quote_parse(&q, buf, n, &err);
	if (rc == CCT_OK && tpath)
		rc = cct_file_read(&t, &tn, tpath, 0, &err);
	if (rc == CCT_OK)
		rc = cct_file_read(&d, &dn, dpath, 0, &err);
	if (rc == CCT_OK) {
		rc = cct_tdx_ccel_parse(&c, t, tn, d, dn, &err);
		if (rc != CCT_OK) {
			eventlog_reject("CCEL", rc, &err, json);
			goto out;
		}
	}
	if (rc != CCT_OK) {
		eventlog_reject(path, rc, &err, json);
		goto out;
	}
	rc = cct_tdx_ccel_check(&c, &q, &err);
	if (json) {
		json_t *o = json_object(), *evs = json_array(), *rep = json_object();

		for (k = 0; k < c.count; k++) {
			json_t *e = json_object();

			json_object_set_new(e, "index", json_integer((json_int_t)k));
			json_object_set_new(e, "mr_index", json_integer(c.events[k].mr_index));
			json_object_set_new(e, "event_type", json_integer(c.events[k].event_type));
			json_object_set_new(e, "event_type_name",
					    json_string(event_type_name(c.events[k].event_type)));
			if (c.events[k].has_sha384)
				cct_json__set_hex(e, "sha384", c.events[k].sha384, 48);
			json_object_set_new(e, "data_size",
					    json_integer((json_int_t)c.events[k].data.size));
			json_array_append_new(evs, e);
		}
		for (i = 0; i < 4; i++) {
			json_t *r = json_object();
			char key[8];

			snprintf(key, sizeof(key), "rtmr%d", i);
			cct_json__set_hex(r, "replayed", c.rtmr[i], 48);
			cct_json__set_hex(r, "quote", q.body.rtmr[i], 48);
			json_object_set_new(r, "match",
					    json_boolean(!memcmp(c.rtmr[i], q.body.rtmr[i], 48)));
			json_object_set_new(rep, key, r);
		}
		json_object_set_new(o, "events", evs);
		json_object_set_new(o, "replay", rep);
		json_object_set_new(o, "match", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		cct_cli_print_json(o, 0);
	} else {
		printf("CCEL: %zu events\n", c.count);
		for (k = 0; k < c.count; k++) {
			char h[97] = "-";

			if (c.events[k].has_sha384)
				cct_hex_encode(h, c.events[k].sha384, 48);
			printf("  #%-4zu MR%u %-34s %s (%zu bytes)\n", k, c.events[k].mr_index,
			       event_type_name(c.events[k].event_type), h, c.events[k].data.size);
		}
		for (i = 0; i < 4; i++) {
			char a[97], b[97];

			cct_hex_encode(a, c.rtmr[i], 48);
			cct_hex_encode(b, q.body.rtmr[i], 48);
			printf("RTMR%d replayed %s\n      quote    %s  %s\n", i, a, b,
			       strcmp(a, b) ? "MISMATCH" : "match");
		}
		printf("%s\n", rc == CCT_OK ? "event log replays to the quote's RTMRs"
					    : "event log does NOT replay to the quote's RTMRs");
	}
	exit_code = rc == CCT_OK ? CCT_EXIT_OK : CCT_EXIT_REJECT;
out:
	cct_tdx_ccel_free(&c);
	free(buf);
	free(t);
	free(d);
	if (rc != CCT_OK && exit_code == CCT_EXIT_USAGE)
		return cct_cli_exit_code(rc);
	return exit_code;
}

int cct_cmd_tdx(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : CCT_EXIT_OK;
	}
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show") || !strcmp(argv[1], "eventlog")) {
		if (cct_cli_asks_help(argc, argv, 2)) {
			usage(stdout);
			return CCT_EXIT_OK;
		}
		return !strcmp(argv[1], "show") ? cmd_show(argc - 1, argv + 1)
						: cmd_eventlog(argc - 1, argv + 1);
	}
	return cct_cli_usage_error("tdx: unknown subcommand '%s' (verify, show, eventlog)",
				   argv[1]);
}
