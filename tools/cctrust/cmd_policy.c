/* cctrust policy: check a cctrust.policy/v1 document (every error with its JSON path) and
 * convert the per-verifier formats of earlier releases into one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cctrust/policy.h"
#include "cli.h"

static const char usage_text[] =
	"usage: cctrust policy check FILE [--json]\n"
	"       cctrust policy convert FILE [--kind snp|tdx|gpu]\n"
	"\n"
	"check    validates a cctrust.policy/v1 document and prints every error with its JSON path\n"
	"         (exit 0 valid, 2 invalid or unreadable)\n"
	"convert  prints the cctrust.policy/v1 equivalent of a policy in the format of an earlier\n"
	"         release: `snp verify --policy` (docs/snp.md), `tdx verify --policy` (docs/tdx.md) or\n"
	"         nvtrust authorization-rules for `gpu verify`; the kind is detected unless --kind.\n"
	"         One line per converted key on stderr. A v1 document is printed unchanged.\n"
	"an option a subcommand does not list is refused (exit 2), not ignored\n";

enum { OPT_JSON = 256, OPT_KIND, OPT_HELP };

static const struct option policy_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int policy_check(const char *file, int json)
{
	uint8_t *text = NULL;
	size_t n = 0, i;
	json_t *errors = NULL, *e;
	cct_err err;
	int rc;

	if (cct_file_read(&text, &n, file, CCT_POLICY_MAX_POLICY, &err) != CCT_OK)
		return cct_cli_usage_error("%s: %s", file, err.msg);
	rc = cct_policy_check((const char *)text, n, &errors, &err);
	free(text);
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "valid", json_boolean(rc == CCT_OK));
		json_object_set(o, "errors", errors);
		cct_cli_print_json(o, 0);
	} else if (rc == CCT_OK) {
		printf("%s: valid %s policy\n", file, CCT_POLICY_VERSION);
	} else {
		json_array_foreach(errors, i, e)
			printf("%s: %s: %s\n", file, json_string_value(json_object_get(e, "path")),
			       json_string_value(json_object_get(e, "message")));
	}
	json_decref(errors);
	return rc == CCT_OK ? CCT_EXIT_OK : CCT_EXIT_USAGE;
}

static int policy_convert(const char *file, const char *kind)
{
	json_error_t je;
	json_t *legacy, *out = NULL, *warnings, *w;
	uint8_t *text = NULL;
	size_t n = 0, i;
	cct_err err;
	int rc;

	/* read as check and every --policy read it: capped, '-' is standard input, a directory
	 * or an unreadable file is named as such (json_load_file read any size, opened a file
	 * called '-', and said "'[' or '{' expected" of a directory) */
	if (cct_file_read(&text, &n, file, CCT_POLICY_MAX_POLICY, &err) != CCT_OK)
		return cct_cli_usage_error("%s: %s", file, err.msg);
	legacy = json_loadb((const char *)text, n, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!legacy)
		return cct_cli_usage_error("%s: %s (line %d)", file, je.text, je.line);
	warnings = json_array();
	rc = cct_policy_convert(&out, legacy, kind, warnings, &err);
	json_array_foreach(warnings, i, w)
		fprintf(stderr, "cctrust: %s: %s\n", file, json_string_value(w));
	if (rc == CCT_OK)
		rc = cct_policy_check_doc(out, &err);
	if (rc == CCT_OK)
		cct_cli_print_json(json_incref(out), 0);
	json_decref(out);
	json_decref(legacy);
	json_decref(warnings);
	return rc == CCT_OK ? CCT_EXIT_OK : cct_cli_usage_error("%s: %s", file, err.msg);
}

int cct_cmd_policy(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL, *kind = NULL;
	int json = 0, c;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(usage_text, sub ? stdout : stderr);
		return sub ? CCT_EXIT_OK : CCT_EXIT_USAGE;
	}
	if (strcmp(sub, "check") && strcmp(sub, "convert")) {
		fputs(usage_text, stderr);
		return cct_cli_usage_error("policy: unknown subcommand '%s'", sub);
	}
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc - 1, argv + 1, NULL, policy_opts)) != -1) {
		/* check reads --json only, convert --kind only (its output is JSON already): any
		 * other is refused, never accepted and ignored */
		if ((c == OPT_JSON && strcmp(sub, "check")) || (c == OPT_KIND && strcmp(sub, "convert")))
			return cct_cli_foreign_option("policy", sub, policy_opts, c);
		switch (c) {
		case OPT_JSON: json = 1; break;
		case OPT_KIND:
			if (strcmp(optarg, "snp") && strcmp(optarg, "tdx") && strcmp(optarg, "gpu"))
				return cct_cli_usage_error("--kind: snp, tdx or gpu");
			kind = optarg;
			break;
		case OPT_HELP: fputs(usage_text, stdout); return CCT_EXIT_OK;
		default: fputs(usage_text, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc - 1)
		return cct_cli_usage_error("policy %s: exactly one FILE", sub);
	if (!strcmp(sub, "check"))
		return policy_check(argv[1 + optind], json);
	return policy_convert(argv[1 + optind], kind);
}
