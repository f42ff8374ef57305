/* cctrust cert verify: check a cctrustd workload certificate (chain to the workload CA,
 * validity at --at, claims-digest extension, optionally equal to given claims or token). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cctrust/kbs.h"
#include "cli.h"
#include "token/jose.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: cctrust cert verify CERT.pem --ca CA.pem [--claims CLAIMS.json | "
		   "--token TOKEN] [--at RFC3339] [--json]\n"
		   "Without --claims or --token the claims-digest extension is compared with nothing;\n"
		   "--token takes the claims from the token's payload without checking its signature\n"
		   "(cctrust token verify does). Both are listed in checks_skipped (--json) or on a\n"
		   "'not checked' line.\n"
		   "exit status: 0 valid, 1 rejected, 2 usage error or unreadable input\n");
}

/* what this run does not check: without --claims / --token the certificate's claims digest
 * is compared with nothing; with --token the claims are the token's payload, its signature
 * unchecked (that is `cctrust token verify`) */
static json_t *skipped_json(const char *claims_path, const char *token_path)
{
	json_t *a = json_array();

	if (!claims_path && !token_path)
		json_array_append_new(a, json_string("claims_digest"));
	if (token_path)
		json_array_append_new(a, json_string("token_signature"));
	return a;
}

int cct_cmd_cert(int argc, char **argv)
{
	static const struct option lo[] = { { "ca", 1, 0, 'c' }, { "claims", 1, 0, 'l' },
					    { "token", 1, 0, 't' }, { "at", 1, 0, 'a' },
					    { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' },
					    { 0, 0, 0, 0 } };
	const char *ca = NULL, *claims_path = NULL, *token_path = NULL, *at_s = NULL;
	int json = 0, ch, rc, ex;
	time_t at = time(NULL);
	uint8_t *cert = NULL, *cab = NULL, *cl = NULL;
	size_t cn = 0, can = 0, cln = 0;
	char *claims = NULL, *info = NULL;
	cct_err err;

	if (argc < 2 || strcmp(argv[1], "verify")) {
		int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

		usage(help ? stdout : stderr);
		return help ? 0 : CCT_EXIT_USAGE;
	}
	argc--;
	argv++;
	cct_cli_getopt_begin();
	while ((ch = cct_cli_getopt(argc, argv, "h", lo)) != -1) {
		switch (ch) {
		case 'c': ca = optarg; break;
		case 'l': claims_path = optarg; break;
		case 't': token_path = optarg; break;
		case 'a': at_s = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cct_cli_usage_error("cert verify: exactly one CERT.pem expected, %d given "
					   "(see --help)",
					   argc - optind);
	if (!ca)
		return cct_cli_usage_error("cert verify: --ca CA.pem (the workload CA, GET "
					   "/kbs/v0/ca) is required");
	if (claims_path && token_path)
		return cct_cli_usage_error("cert verify: --claims and --token are alternatives: "
					   "give one");
	if (at_s && cct_cli_parse_time(&at, at_s) != 0)
		return CCT_EXIT_USAGE;
	if (cct_file_read(&cert, &cn, argv[optind], 1u << 20, &err) != CCT_OK ||
	    cct_file_read(&cab, &can, ca, 1u << 20, &err) != CCT_OK ||
	    (claims_path && cct_file_read(&cl, &cln, claims_path, 1u << 20, &err) != CCT_OK) ||
	    (token_path && cct_file_read(&cl, &cln, token_path, 1u << 20, &err) != CCT_OK) ||
	    cct_cli_empty_input(cert, cn, "workload certificate", argv[optind], &err) != CCT_OK ||
	    cct_cli_empty_input(cab, can, "--ca", ca, &err) != CCT_OK) {
		rc = err.code;
		goto done;
	}
	if (token_path) {
		/* the claims are the token's payload; the token's own signature is checked by
		 * `cctrust token verify` */
		json_t *payload = NULL;

		while (cln && (cl[cln - 1] == '\n' || cl[cln - 1] == ' '))
			cl[--cln] = 0;
		if ((rc = cct_jose_jws_peek(NULL, &payload, (const char *)cl, &err)) != CCT_OK)
			goto done;
		claims = json_dumps(payload, JSON_COMPACT);
		json_decref(payload);
	} else if (claims_path) {
		/* the text after a NUL would be left out of the digest compared, unseen */
		if (memchr(cl, 0, cln)) {
			rc = cct_err_set(&err, CCT_EENCODING, CCT_STAGE_INPUT,
					 (size_t)((uint8_t *)memchr(cl, 0, cln) - cl),
					 "--claims %s: holds a NUL byte (not JSON text)", claims_path);
			goto done;
		}
		claims = strdup((const char *)cl);
	}
	rc = cct_kbs_cert_verify(cert, cn, cab, can, claims, (int64_t)at, &info, &err);
done:
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "valid", json_boolean(rc == CCT_OK));
		json_object_set_new(o, "certificate", info ? json_loads(info, 0, NULL) : json_null());
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		json_object_set_new(o, "checks_skipped", skipped_json(claims_path, token_path));
		cct_cli_print_json(o, 1);
	} else if (rc == CCT_OK) {
		json_t *sk = skipped_json(claims_path, token_path);

		printf("VALID workload certificate %s\n", info ? info : "");
		if (json_array_size(sk))
			cct_cli_print_skipped("cert", sk);
		json_decref(sk);
	} else {
		cct_cli_print_reject("workload certificate", rc, &err);
	}
	ex = cct_cli_exit_code(rc);
	free(cert);
	free(cab);
	free(cl);
	free(claims);
	free(info);
	return ex;
}
