/* cctrust token: verify an EAR attestation result token (JWT) and print its claims. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/token.h"
#include "cli.h"
#include "json/json.h"

static const char token_usage[] =
	"usage: cctrust token verify TOKEN... [--jwks FILE] [--at RFC3339]\n"
	"                            [--insecure-trust-header-jwk] [--allow-non-affirming] [--json]\n"
	"TOKEN: a file, - (standard input) or a directory of token files; any number, one at a\n"
	"time (with several, --json prints one object per token with its \"token\" path).\n"
	"Checks: ES256 only (never \"none\"), the signing key is in the JWKS, the signature,\n"
	"exp/iat/nbf at --at (default now), eat_profile = Trustee's EAR profile, EAR submods, every\n"
	"submod's ear.status \"affirming\" (unless --allow-non-affirming).\n"
	"--json: {verified, error, affirming, key, simulated, checks_skipped, claims}; simulated and\n"
	"checks_skipped are what the verifier wrote into the token's submods (cctrust.simulated,\n"
	"cctrust.checks_skipped), also said in text mode.\n"
	"exit: 0 every token valid and affirming (or valid, with --allow-non-affirming), 1 any\n"
	"rejected, 2 usage or an unreadable input\n";

typedef struct token_each {
	cct_token_verify_opts o;
	int json, aff, multi, worst;
} token_each;

/* one token (cct_inputs_each): verified, printed, forgotten */
static void token_verify_input(void *ctx, const char *path, int *stop)
{
	token_each *e = ctx;
	json_t *claims = NULL, *out, *v, *skipped;
	uint8_t *tok = NULL;
	size_t n = 0;
	int rc, affirming = 1, code, simulated = 0;
	const char *k;
	cct_err err;

	(void)stop;
	cct_err_clear(&err);
	if (cct_file_read(&tok, &n, path, CCT_TOKEN_MAX_SIZE + 16, &err) != CCT_OK ||
	    cct_cli_empty_input(tok, n, "token", path, &err) != CCT_OK) {
		free(tok);
		fprintf(stderr, "cctrust: %s: %s\n", path, err.msg);
		if (e->worst < CCT_EXIT_USAGE)
			e->worst = CCT_EXIT_USAGE;
		if (e->json) { /* one object per input, the unreadable ones too */
			out = json_object();
			if (e->multi)
				json_object_set_new(out, "token", cct_cli_json_text(path));
			json_object_set_new(out, "verified", json_false());
			json_object_set_new(out, "error",
					    cct_cli_error_json(err.code, &err));
			json_object_set_new(out, "affirming", json_false());
			/* the documented members, as for a token that was read */
			json_object_set_new(out, "key",
					    json_string(e->o.jwks ? "jwks" : "header-jwk-insecure"));
			json_object_set_new(out, "simulated", json_false());
			json_object_set_new(out, "checks_skipped", json_array());
			json_object_set_new(out, "claims", json_null());
			cct_cli_print_json(out, e->multi);
		}
		return;
	}
	skipped = json_array();
	rc = cct_token_verify(&claims, (const char *)tok, n, &e->o, &err);
	if (rc == CCT_OK)
		json_object_foreach(json_object_get(claims, "submods"), k, v) {
			const char *st = json_string_value(json_object_get(v, "ear.status"));
			json_t *x;
			size_t i;

			if (!st || strcmp(st, "affirming"))
				affirming = 0;
			/* what the appraisal rested on, as the verifier wrote it into the token */
			simulated |= json_is_true(json_object_get(v, "cctrust.simulated"));
			json_array_foreach(json_object_get(v, "cctrust.checks_skipped"), i, x)
				if (json_is_string(x))
					cct_json__append_string_once(skipped, json_string_value(x));
		}
	if (e->json) {
		out = json_object();
		if (e->multi)
			json_object_set_new(out, "token", cct_cli_json_text(path));
		json_object_set_new(out, "verified", json_boolean(rc == CCT_OK));
		json_object_set_new(out, "error", cct_cli_error_json(rc, &err));
		json_object_set_new(out, "affirming", json_boolean(rc == CCT_OK && affirming));
		json_object_set_new(out, "key",
				    json_string(e->o.jwks ? "jwks" : "header-jwk-insecure"));
		json_object_set_new(out, "simulated", json_boolean(simulated));
		json_object_set(out, "checks_skipped", skipped);
		json_object_set(out, "claims", claims ? claims : json_null());
		cct_cli_print_json(out, e->multi);
	} else if (rc == CCT_OK) {
		char *txt = json_dumps(claims, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (e->multi)
			printf("%s: ", path);
		printf("token: VALID (%s)%s%s\n%s\n",
		       affirming ? "all submods affirming" : "NOT affirming",
		       e->o.jwks ? "" : " key NOT pinned (--insecure-trust-header-jwk)",
		       simulated ? " SIMULATED TEE (test roots)" : "", txt ? txt : "");
		if (json_array_size(skipped))
			cct_cli_print_skipped("token", skipped);
		free(txt);
	} else {
		cct_cli_print_reject(e->multi ? path : "token", rc, &err);
	}
	json_decref(claims);
	json_decref(skipped);
	free(tok);
	if (rc != CCT_OK)
		code = cct_cli_exit_code(rc) == CCT_EXIT_USAGE ? CCT_EXIT_REJECT : cct_cli_exit_code(rc);
	else
		code = e->aff && !affirming ? CCT_EXIT_REJECT : 0;
	if (code > e->worst)
		e->worst = code;
}

static int token_verify(int argc, char **argv)
{
	enum { O_JWKS = 256, O_AT, O_HDR, O_AFF, O_JSON, O_NONAFF, O_HELP };
	static const struct option opts[] = {
		{ "jwks", required_argument, NULL, O_JWKS },
		{ "at", required_argument, NULL, O_AT },
		{ "insecure-trust-header-jwk", no_argument, NULL, O_HDR },
		{ "require-affirming", no_argument, NULL, O_AFF }, /* the default now */
		{ "allow-non-affirming", no_argument, NULL, O_NONAFF },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	token_each e;
	json_t *jwks = NULL;
	json_error_t je;
	cct_err derr;
	int c;

	memset(&e, 0, sizeof(e));
	e.aff = 1;
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case O_HELP:
			json_decref(jwks);
			fputs(token_usage, stdout);
			return 0;
		case O_JWKS:
			json_decref(jwks);
			jwks = json_load_file(optarg, JSON_REJECT_DUPLICATES, &je);
			if (!json_is_object(jwks))
				return cct_cli_usage_error("--jwks %s: not a JWKS JSON object", optarg);
			break;
		case O_AT:
			if (cct_cli_parse_time(&e.o.at, optarg) != 0) {
				json_decref(jwks);
				return CCT_EXIT_USAGE;
			}
			break;
		case O_HDR: e.o.trust_header_jwk_insecure = 1; break;
		case O_AFF: e.aff = 1; break;
		case O_NONAFF: e.aff = 0; break;
		case O_JSON: e.json = 1; break;
		default:
			json_decref(jwks);
			fputs(token_usage, stderr);
			return CCT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		json_decref(jwks);
		return cct_cli_usage_error("token verify: a TOKEN_FILE (or -, or a directory) expected");
	}
	e.o.jwks = jwks;
	/* one token at a time: memory stays flat however many inputs */
	e.multi = cct_cli_inputs_many(argv + optind, argc - optind);
	if (cct_inputs_each(argv + optind, (size_t)(argc - optind), token_verify_input, &e, &derr) !=
	    CCT_OK)
		e.worst = cct_cli_inputs_stopped(
			&derr, e.json, e.multi,
			json_pack("{s:b,s:b}", "verified", 0, "affirming", 0));
	json_decref(jwks);
	return e.worst;
}

int cct_cmd_token(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(token_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "verify"))
		return token_verify(argc - 1, argv + 1);
	fputs(token_usage, stderr);
	return cct_cli_usage_error("token: unknown subcommand '%s'", argv[1]);
}
