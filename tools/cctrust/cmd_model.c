/* cctrust model: reproducible model archives and their dm-verity hash trees.
 *   model pack DIR -o MODEL.tar
 *   model verity MODEL.tar [--salt HEX|-] [--uuid UUID] [-o HASHFILE] [--threads N]
 *                [--name NAME --revision REV] [--json]
 *   model verify MODEL.tar HASHFILE ROOT [--threads N] [--json]
 *   model spec NAME@REVISION:ROOT [--json]          (check and print a model spec) */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cctrust/verity.h"
#include "cli.h"
#include "json/json.h"

#define VERITY_DEFAULT_SALT 32

static void progress_bar(uint64_t done, uint64_t total, void *ctx)
{
	int *last = ctx, pct = total ? (int)(done * 100 / total) : 100, i;

	if (pct == *last)
		return;
	*last = pct;
	fputs("\r[", stderr);
	for (i = 0; i < 40; i++)
		fputc(i < pct * 40 / 100 ? '#' : '.', stderr);
	fprintf(stderr, "] %3d%% %llu/%llu blocks", pct, (unsigned long long)done,
		(unsigned long long)total);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

static int fail(int rc, const cct_err *err, int json)
{
	cct_cli_print_error(rc, err, json);
	/* pack, verity and spec judge nothing: 1 is verify's "does not match" alone; a file type
	 * that cannot be packed or a malformed spec is invalid input */
	return CCT_EXIT_USAGE;
}

static int parse_threads(int *out, const char *s)
{
	long v;

	if (cct_cli_parse_long(&v, "--threads", s, 1, CCT_VERITY_MAX_THREADS))
		return CCT_EXIT_USAGE;
	*out = (int)v;
	return 0;
}

enum { OPT_JSON = 256, OPT_SALT, OPT_UUID, OPT_NAME, OPT_REV, OPT_THREADS, OPT_HELP };

static const char model_usage[] =
	"usage: cctrust model pack DIR -o MODEL.tar [--json]\n"
	"       cctrust model verity MODEL.tar [--salt HEX|-] [--uuid UUID] [-o HASHFILE]\n"
	"                            [--threads N] [--name NAME --revision REV] [--json]\n"
	"       cctrust model verify MODEL.tar HASHFILE ROOT|NAME@REV:ROOT [--threads N] [--json]\n"
	"       cctrust model spec NAME@REVISION:ROOT [--json]\n"
	"\n"
	"pack    a reproducible tar of DIR (sorted, mtime 0, owner 0/0, padded to 4096 bytes:\n"
	"        directly a dm-verity data device)\n"
	"verity  the dm-verity hash file (default MODEL.tar.verity), byte-identical to\n"
	"        veritysetup format with the same salt and UUID; prints the root hash\n"
	"verify  every data block against ROOT (64 hex digits or a model spec)\n"
	"spec    check and normalise a model spec (what init-data and the policy's \"model\"\n"
	"        rule carry)\n"
	"exit: 0 done / verified; 1 only from verify: a data or hash block that does not match\n"
	"ROOT, or a hash-file superblock it does not accept; 2 usage error, or unreadable, invalid\n"
	"or unsupported input (a file type pack cannot hold, a malformed spec, an output that is\n"
	"an input). An option a subcommand does not list is refused (exit 2). Details:\n"
	"docs/model.md\n";

/* -1 after printing the usage for --help (or -h, which cct_cli_getopt maps to it), else 0 */
static int model_help(int c)
{
	if (c != OPT_HELP)
		return 0;
	fputs(model_usage, stdout);
	return -1;
}

static const struct option model_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "salt", required_argument, NULL, OPT_SALT },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "revision", required_argument, NULL, OPT_REV },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* An option of model_opts that subcommand sub does not read: refused (exit 2) naming it, never
 * accepted and ignored; '?' (unknown, getopt said so): usage. */
static int model_foreign(const char *sub, int c, const char *usage)
{
	if (c != '?' && strcmp(cct_cli_long_name(model_opts, c), "?"))
		return cct_cli_foreign_option("model", sub, model_opts, c);
	return cct_cli_usage_error("%s", usage);
}

static int cmd_pack(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL;
	int rc, json = 0, c;
	cct_err err;

	memset(&err, 0, sizeof(err));
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "o:", model_opts)) != -1) {
		if (model_help(c))
			return CCT_EXIT_OK;
		if (c == 'o')
			out = optarg;
		else if (c == OPT_JSON)
			json = 1;
		else
			return model_foreign("pack", c, "usage: cctrust model pack DIR -o MODEL.tar");
	}
	if (optind == argc - 1)
		dir = argv[optind];
	if (!dir || !out)
		return cct_cli_usage_error("usage: cctrust model pack DIR -o MODEL.tar");
	if (!strcmp(out, "-")) /* was a file named "-"; stdout carries the report */
		return cct_cli_usage_error("model pack -o -: the archive is written to a file, not "
					   "to stdout (model verity reads it back); name a file");
	if ((rc = cct_verity_pack(dir, out, &err)) != CCT_OK)
		return fail(rc, &err, json);
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "archive", json_string(out));
		cct_cli_print_json(o, 0);
	} else {
		printf("packed %s -> %s\n", dir, out);
	}
	return CCT_EXIT_OK;
}

static int cmd_verity(int argc, char **argv)
{
	static const char *usage =
		"usage: cctrust model verity MODEL.tar [--salt HEX|-] [--uuid UUID] [-o HASHFILE]\n"
		"         [--threads N] [--name NAME --revision REV] [--json]";
	const char *data = NULL, *out = NULL, *salt = NULL, *uuid = NULL, *name = NULL, *rev = NULL;
	int rc, json = 0, threads = 0, last = -1, c;
	cct_verity_params p;
	uint8_t root[CCT_VERITY_DIGEST_SIZE];
	char hex[2 * CCT_VERITY_MAX_SALT + 1], uuid_s[37], *def_out = NULL;
	char spec_s[CCT_VERITY_SPEC_MAX + 8];
	cct_err err;

	memset(&err, 0, sizeof(err));
	memset(&p, 0, sizeof(p));
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, "o:", model_opts)) != -1) {
		if (model_help(c))
			return CCT_EXIT_OK;
		switch (c) {
		case 'o': out = optarg; break;
		case OPT_JSON: json = 1; break;
		case OPT_SALT: salt = optarg; break;
		case OPT_UUID: uuid = optarg; break;
		case OPT_NAME: name = optarg; break;
		case OPT_REV: rev = optarg; break;
		case OPT_THREADS:
			if (parse_threads(&threads, optarg))
				return CCT_EXIT_USAGE;
			break;
		default: return cct_cli_usage_error("%s", usage);
		}
	}
	if (optind == argc - 1)
		data = argv[optind];
	if (!data)
		return cct_cli_usage_error("%s", usage);
	if ((name != NULL) != (rev != NULL))
		return cct_cli_usage_error("--name and --revision go together");
	if (name) {
		/* the spec is checked before the hash file is written (with a placeholder root: the
		 * name and revision are what can be wrong); a bad --name wrote HASHFILE, then
		 * exited 2 */
		cct_verity_model_spec spec;

		snprintf(spec_s, sizeof(spec_s), "%s@%s:%064d", name, rev, 0);
		if (strlen(name) + strlen(rev) + 66 >= sizeof(spec_s) ||
		    cct_verity_model_spec_parse(&spec, spec_s, &err) != CCT_OK) {
			if (!err.msg[0])
				snprintf(err.msg, sizeof(err.msg),
					 "model spec: name or revision too long");
			return cct_cli_usage_error("--name/--revision: %s (nothing written)",
						   err.msg);
		}
		spec_s[0] = '\0';
	}
	if (salt && strcmp(salt, "-") != 0) {
		uint8_t *s = NULL;
		size_t n = 0;

		/* an empty value (an unset shell variable) meant no salt, silently: '-' says so */
		if (!*salt || cct_hex_decode(&s, &n, salt, strlen(salt), &err) != CCT_OK ||
		    n > CCT_VERITY_MAX_SALT) {
			free(s);
			return cct_cli_usage_error("--salt: '%.80s%s' is %s; expected hex of 1 to %d "
						   "bytes, or '-' for no salt", salt,
						   strlen(salt) > 80 ? "..." : "",
						   !*salt ? "empty" : n > CCT_VERITY_MAX_SALT ?
						   "too long" : "not hex (an even number of hex "
						   "digits)", CCT_VERITY_MAX_SALT);
		}
		memcpy(p.salt, s, n);
		p.salt_size = n;
		free(s);
	} else if (!salt) {
		/* veritysetup's default: 32 random bytes */
		if (RAND_bytes(p.salt, VERITY_DEFAULT_SALT) != 1)
			return cct_cli_usage_error("no randomness for the salt");
		p.salt_size = VERITY_DEFAULT_SALT;
	}
	if (uuid) {
		if (cct_verity_uuid_parse(p.uuid, uuid) != CCT_OK)
			return cct_cli_usage_error("--uuid: not a UUID (8-4-4-4-12 hex digits)");
	} else {
		if (RAND_bytes(p.uuid, 16) != 1)
			return cct_cli_usage_error("no randomness for the UUID");
		p.uuid[6] = (uint8_t)((p.uuid[6] & 0x0f) | 0x40); /* version 4 */
		p.uuid[8] = (uint8_t)((p.uuid[8] & 0x3f) | 0x80);
	}
	if (out && !strcmp(out, "-"))
		return cct_cli_usage_error("model verity -o -: the hash tree is written to a file, "
					   "not to stdout (model verify reads it back); name a file");
	if (!out) {
		size_t n = strlen(data) + sizeof(".verity");

		if (!(def_out = malloc(n)))
			return cct_cli_usage_error("out of memory");
		snprintf(def_out, n, "%s.verity", data);
		out = def_out;
	}
	rc = cct_verity_format(root, data, out, &p, threads,
			       isatty(STDERR_FILENO) ? progress_bar : NULL, &last, &err);
	if (rc != CCT_OK) {
		free(def_out);
		return fail(rc, &err, json);
	}
	cct_verity_uuid_format(uuid_s, p.uuid);
	cct_hex_encode(hex, p.salt, p.salt_size);
	spec_s[0] = '\0';
	if (name) {
		cct_verity_model_spec spec;
		char root_hex[65];

		cct_hex_encode(root_hex, root, sizeof(root));
		snprintf(spec_s, sizeof(spec_s), "%s@%s:%s", name, rev, root_hex);
		if ((rc = cct_verity_model_spec_parse(&spec, spec_s, &err)) != CCT_OK) {
			free(def_out);
			return fail(rc, &err, json);
		}
	}
	if (json) {
		json_t *o = json_object(), *pol, *model;

		cct_json__set_hex(o, "root_hash", root, sizeof(root));
		json_object_set_new(o, "hash_file", json_string(out));
		json_object_set_new(o, "uuid", json_string(uuid_s));
		json_object_set_new(o, "salt", json_string(p.salt_size ? hex : "-"));
		json_object_set_new(o, "data_blocks", json_integer((json_int_t)p.data_blocks));
		json_object_set_new(o, "data_block_size", json_integer(CCT_VERITY_BLOCK_SIZE));
		json_object_set_new(o, "hash_algorithm", json_string("sha256"));
		if (spec_s[0]) {
			json_object_set_new(o, "model_spec", json_string(spec_s));
			pol = json_object();
			model = json_object();
			json_object_set_new(model, "spec", json_string(spec_s));
			json_object_set_new(pol, "model", model);
			json_object_set_new(o, "policy", pol);
		}
		cct_cli_print_json(o, 0);
	} else {
		char root_hex[65];

		cct_hex_encode(root_hex, root, sizeof(root));
		printf("VERITY header information for %s\n", out);
		printf("UUID:            \t%s\n", uuid_s);
		printf("Hash type:       \t1\n");
		printf("Data blocks:     \t%llu\n", (unsigned long long)p.data_blocks);
		printf("Data block size: \t%d\n", CCT_VERITY_BLOCK_SIZE);
		printf("Hash block size: \t%d\n", CCT_VERITY_BLOCK_SIZE);
		printf("Hash algorithm:  \tsha256\n");
		printf("Salt:            \t%s\n", p.salt_size ? hex : "-");
		printf("Root hash:      \t%s\n", root_hex);
		if (spec_s[0])
			printf("Model spec:      \t%s\n", spec_s);
	}
	free(def_out);
	return CCT_EXIT_OK;
}

static int cmd_verify(int argc, char **argv)
{
	static const char *usage =
		"usage: cctrust model verify MODEL.tar HASHFILE ROOT|NAME@REV:ROOT [--threads N] [--json]";
	const char *pos[3] = { NULL, NULL, NULL };
	int np = 0, rc, json = 0, threads = 0, in_hash = 0, last = -1, c;
	uint8_t root[CCT_VERITY_DIGEST_SIZE];
	uint64_t bad = 0;
	cct_verity_model_spec spec;
	cct_err err;
	const char *root_s;

	memset(&err, 0, sizeof(err));
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, NULL, model_opts)) != -1) {
		if (model_help(c))
			return CCT_EXIT_OK;
		if (c == OPT_JSON)
			json = 1;
		else if (c == OPT_THREADS) {
			if (parse_threads(&threads, optarg))
				return CCT_EXIT_USAGE;
		} else
			return model_foreign("verify", c, usage);
	}
	for (; optind < argc && np < 3; optind++)
		pos[np++] = argv[optind];
	if (np != 3 || optind != argc)
		return cct_cli_usage_error("%s", usage);
	root_s = pos[2];
	if (strchr(root_s, '@')) {
		if (cct_verity_model_spec_parse(&spec, root_s, &err) != CCT_OK)
			return cct_cli_usage_error("ROOT: %s", err.msg);
		memcpy(root, spec.root, sizeof(root));
	} else if (cct_hex_decode_fixed(root, sizeof(root), root_s, &err) != CCT_OK) {
		return cct_cli_usage_error("ROOT: need 64 hex digits (%s)", err.msg);
	}
	rc = cct_verity_verify(&bad, &in_hash, pos[0], pos[1], root, threads,
			       isatty(STDERR_FILENO) ? progress_bar : NULL, &last, &err);
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "verified", json_boolean(rc == CCT_OK));
		cct_json__set_hex(o, "root_hash", root, sizeof(root));
		if (rc == CCT_EMEASUREMENT) {
			json_object_set_new(o, in_hash ? "bad_hash_block" : "bad_block",
					    json_integer((json_int_t)bad));
		}
		json_object_set_new(o, "error", cct_cli_error_json(rc, &err));
		cct_cli_print_json(o, 0);
	} else if (rc == CCT_OK) {
		printf("%s: OK (every data block matches root hash)\n", pos[0]);
	} else if (rc == CCT_EMEASUREMENT) {
		printf("%s: REJECTED %s\n", pos[0], err.msg);
	} else {
		fprintf(stderr, "cctrust: %s\n", err.msg[0] ? err.msg : cct_strerror(rc));
	}
	return cct_cli_exit_code(rc);
}

static int cmd_spec(int argc, char **argv)
{
	cct_verity_model_spec spec;
	cct_err err;
	char buf[CCT_VERITY_SPEC_MAX];
	static const char *usage = "usage: cctrust model spec NAME@REVISION:ROOT [--json]";
	int rc, json = 0, c;

	/* --json is the one option spec reads; any other, or a second SPEC, is refused (an
	 * argument after the first one used to be ignored) */
	cct_cli_getopt_begin();
	while ((c = cct_cli_getopt(argc, argv, NULL, model_opts)) != -1) {
		if (model_help(c))
			return CCT_EXIT_OK;
		if (c == OPT_JSON)
			json = 1;
		else
			return model_foreign("spec", c, usage);
	}
	if (optind != argc - 1)
		return cct_cli_usage_error("%s", usage);
	if ((rc = cct_verity_model_spec_parse(&spec, argv[optind], &err)) != CCT_OK)
		return fail(rc, &err, json);
	cct_verity_model_spec_format(buf, sizeof(buf), &spec);
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(spec.name));
		json_object_set_new(o, "revision", json_string(spec.revision));
		cct_json__set_hex(o, "root_hash", spec.root, sizeof(spec.root));
		json_object_set_new(o, "model_spec", json_string(buf));
		cct_cli_print_json(o, 0);
	} else {
		puts(buf);
	}
	return CCT_EXIT_OK;
}

int cct_cmd_model(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(model_usage, sub ? stdout : stderr);
		return sub ? CCT_EXIT_OK : CCT_EXIT_USAGE;
	}
	if (!strcmp(sub, "pack"))
		return cmd_pack(argc - 1, argv + 1);
	if (!strcmp(sub, "verity"))
		return cmd_verity(argc - 1, argv + 1);
	if (!strcmp(sub, "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(sub, "spec"))
		return cmd_spec(argc - 1, argv + 1);
	return cct_cli_usage_error("model: unknown subcommand '%s' (pack, verity, verify, spec)", sub);
}
