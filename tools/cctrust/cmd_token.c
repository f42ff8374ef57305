/* cctrust token: verify an EAR attestation result token (JWT) and print its claims. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cctrust/token.h"
#include "cli.h"

static const char token_usage[] =
	"usage: cctrust token verify TOKEN_FILE|- [--jwks FILE] [--at RFC3339]\n"
	"                            [--insecure-trust-header-jwk] [--allow-non-affirming] [--json]\n"
	"Checks: ES256 only (never \"none\"), the signing key is in the JWKS, the signature,\n"
	"exp/iat at --at (default now), eat_profile = Trustee's EAR profile, EAR submods, every\n"
	"submod's ear.status \"affirming\" (unless --allow-non-affirming).\n"
	"exit: 0 valid and affirming (or valid, with --allow-non-affirming), 1 rejected, 2 usage\n";

static int token_verify(int argc, char **argv)
{
	enum { O_JWKS = 256, O_AT, O_HDR, O_AFF, O_JSON, O_NONAFF };
	static const struct option opts[] = {
		{ "jwks", required_argument, NULL, O_JWKS },
		{ "at", required_argument, NULL, O_AT },
		{ "insecure-trust-header-jwk", no_argument, NULL, O_HDR },
		{ "require-affirming", no_argument, NULL, O_AFF }, /* the default now */
		{ "allow-non-affirming", no_argument, NULL, O_NONAFF },
		{ "json", no_argument, NULL, O_JSON },
		{ NULL, 0, NULL, 0 },
	};
	cct_token_verify_opts o;
	json_t *jwks = NULL, *claims = NULL, *out;
	uint8_t *tok = NULL;
	size_t n = 0;
	int c, json = 0, aff = 1, rc, affirming = 1;
	const char *k;
	json_t *v;
	json_error_t je;
	cct_err err;

	memset(&o, 0, sizeof(o));
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case O_JWKS:
			jwks = json_load_file(optarg, JSON_REJECT_DUPLICATES, &je);
			if (!json_is_object(jwks))
				return cct_cli_usage_error("--jwks %s: not a JWKS JSON object", optarg);
			break;
		case O_AT:
			if (cct_cli_parse_time(&o.at, optarg) != 0)
				return CCT_EXIT_USAGE;
			break;
		case O_HDR: o.trust_header_jwk_insecure = 1; break;
		case O_AFF: aff = 1; break;
		case O_NONAFF: aff = 0; break;
		case O_JSON: json = 1; break;
		default: fputs(token_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		json_decref(jwks);
		return cct_cli_usage_error("token verify: one TOKEN_FILE expected");
	}
	if (!strcmp(argv[optind], "-")) {
		char buf[4096];
		size_t r;

		while ((r = fread(buf, 1, sizeof(buf), stdin)) > 0 && n < CCT_TOKEN_MAX_SIZE + 1) {
			uint8_t *t = realloc(tok, n + r + 1);

			if (!t)
				break;
			tok = t;
			memcpy(tok + n, buf, r);
			n += r;
		}
		if (!tok) {
			json_decref(jwks);
			return cct_cli_usage_error("token verify: empty input");
		}
	} else if (cct_file_read(&tok, &n, argv[optind], CCT_TOKEN_MAX_SIZE + 16, &err) != CCT_OK) {
		json_decref(jwks);
		return cct_cli_usage_error("%s: %s", argv[optind], err.msg);
	}
	o.jwks = jwks;
	cct_err_clear(&err);
	rc = cct_token_verify(&claims, (const char *)tok, n, &o, &err);
	if (rc == CCT_OK)
		json_object_foreach(json_object_get(claims, "submods"), k, v) {
			const char *s = json_string_value(json_object_get(v, "ear.status"));

			if (!s || strcmp(s, "affirming"))
				affirming = 0;
		}
	if (json) {
		out = json_object();
		json_object_set_new(out, "verified", json_boolean(rc == CCT_OK));
		json_object_set_new(out, "error", cct_cli_error_json(rc, &err));
		json_object_set_new(out, "affirming", json_boolean(rc == CCT_OK && affirming));
		json_object_set_new(out, "key", json_string(jwks ? "jwks" : "header-jwk-insecure"));
		json_object_set(out, "claims", claims ? claims : json_null());
		cct_cli_print_json(out, 0);
	} else if (rc == CCT_OK) {
		char *s = json_dumps(claims, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("token: VALID (%s)%s\n%s\n", affirming ? "all submods affirming" : "NOT affirming",
		       jwks ? "" : " key NOT pinned (--insecure-trust-header-jwk)", s ? s : "");
		free(s);
	} else {
		cct_cli_print_reject("token", rc, &err);
	}
	json_decref(claims);
	json_decref(jwks);
	free(tok);
	if (rc != CCT_OK)
		return cct_cli_exit_code(rc) == CCT_EXIT_USAGE ? CCT_EXIT_REJECT : cct_cli_exit_code(rc);
	return aff && !affirming ? CCT_EXIT_REJECT : 0;
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
