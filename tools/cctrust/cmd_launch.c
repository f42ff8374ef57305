/* cctrust launch: launch plans (docs/launch.md).
 *   launch plan PLAN.toml [-o DIR] [--json]       qemu.args, launch.sh, expected.json, policy.json
 *   launch diagnose PLAN.toml EVIDENCE [--json]   does the evidence come from this plan? why not? */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cctrust/launch.h"
#include "cli.h"

static const char launch_usage[] =
	"usage: cctrust launch plan PLAN.toml [-o DIR] [--json]\n"
	"       cctrust launch diagnose PLAN.toml EVIDENCE [--json]\n"
	"\n"
	"plan: from one TOML launch plan (docs/launch.md) write into DIR (default .):\n"
	"  qemu.args      the QEMU argument list, one argument per line\n"
	"  launch.sh      binds the plan's GPUs to vfio-pci and runs QEMU with qemu.args\n"
	"  expected.json  the reference values the launch produces (SNP MEASUREMENT = cctrust\n"
	"                 measure snp, HOST_DATA, ID block digests; TDX MRTD, MRCONFIGID, RTMRs),\n"
	"                 each with \"derived\": true|false and where it comes from\n"
	"  policy.json    a cctrust.policy/v1 policy pinning exactly those values, GPUs in CC\n"
	"                 mode, the model rule (cctrust verify --policy policy.json)\n"
	"  --json prints {\"qemu_args\", \"launch_sh\", \"expected\", \"policy\"} on stdout instead\n"
	"  (no file written; -o with --json is a usage error).\n"
	"  A file that would overwrite one of the plan's inputs (the plan, firmware, kernel,\n"
	"  initrd, init-data, keys, disks) is refused before anything is written (exit 2).\n"
	"\n"
	"diagnose: EVIDENCE is a raw SNP report, a TDX quote (binary, hex or base64) or a KBS attest\n"
	"  request. Exit 0 when it matches the plan; 1 when not, naming the plan variation that\n"
	"  reproduces its measurement (vCPU count 1-256, vCPU type, VMM type, guest features, kernel\n"
	"  hashes on/off; TDX: page-add order) or the fields that still match. Signatures are not\n"
	"  checked here (cctrust verify does that). JSON: \"matches\", \"explained_by\" ({\"vcpus\": 7}),\n"
	"  \"fields\", \"evidence\", \"searched\", \"elapsed_ms\", \"message\".\n"
	"\n"
	"exit status: 0 written / matches, 1 does not match, 2 usage error or unreadable input\n";

static int fail(int rc, const cct_err *err, int json)
{
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "error", cct_cli_error_json(rc, err));
		cct_cli_print_json(o, 0);
	} else {
		fprintf(stderr, "cctrust launch: %s\n", err->msg);
	}
	return CCT_EXIT_USAGE;
}

static int write_text(const char *dir, const char *name, const char *text, int mode, cct_err *err)
{
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = cct_file_write(path, text, strlen(text), 0, err);
	if (rc == CCT_OK && mode && chmod(path, (mode_t)mode) != 0)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "chmod %s failed", path);
	return rc;
}

static int write_json(const char *dir, const char *name, const json_t *v, cct_err *err)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (!s)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	s = realloc(s, strlen(s) + 2);
	strcat(s, "\n");
	rc = write_text(dir, name, s, 0, err);
	free(s);
	return rc;
}

static const char *const plan_outputs[] = { "qemu.args", "launch.sh", "expected.json",
					    "policy.json", NULL };

/* An output `launch plan` would write into dir that is one of the plan's inputs (the plan file,
 * firmware, kernel, initrd, init-data, ID keys, disks; another spelling or a link included):
 * an error naming both, before anything is written. */
static int plan_output_clash(const cct_launch_plan *p, const char *plan, const char *dir,
			     cct_err *err)
{
	struct {
		const char *key, *path;
	} in[8 + CCT_LAUNCH_MAX_DISKS];
	char out[4096];
	size_t n = 0, i, k;

	in[n].key = "the plan file";
	in[n++].path = plan;
	in[n].key = "firmware =";
	in[n++].path = p->firmware;
	in[n].key = "kernel =";
	in[n++].path = p->kernel;
	in[n].key = "initrd =";
	in[n++].path = p->initrd;
	in[n].key = "init_data =";
	in[n++].path = p->init_data;
	in[n].key = "[id_block] id_key =";
	in[n++].path = p->id_key;
	in[n].key = "[id_block] author_key =";
	in[n++].path = p->author_key;
	for (i = 0; i < p->disk_count && i < CCT_LAUNCH_MAX_DISKS; i++) {
		in[n].key = "[disks] file =";
		in[n++].path = p->disks[i].file;
	}
	for (k = 0; plan_outputs[k]; k++) {
		snprintf(out, sizeof(out), "%s/%s", dir, plan_outputs[k]);
		for (i = 0; i < n; i++)
			if (in[i].path && cct_file_same(out, in[i].path))
				return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
						   "-o %s: writing %s would overwrite the plan's "
						   "input: %s %s (nothing written; choose another "
						   "-o DIR)", dir, out, in[i].key, in[i].path);
	}
	return CCT_OK;
}

/* Every output `launch plan` writes into dir can be written: dir is a directory (or does not
 * exist yet) and no output path is a directory. Checked before the first file is written, so
 * a refusal leaves nothing behind (a directory named launch.sh used to fail the run after
 * qemu.args had been written). */
static int plan_outputs_writable(const char *dir, cct_err *err)
{
	char out[4096];
	struct stat st;
	size_t k;

	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "-o %s: not a directory (nothing written)", dir);
	for (k = 0; plan_outputs[k]; k++) {
		snprintf(out, sizeof(out), "%s/%s", dir, plan_outputs[k]);
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "-o %s: %s is a directory where launch plan writes "
					   "its %s file (nothing written)", dir, out,
					   plan_outputs[k]);
	}
	return CCT_OK;
}

static int cmd_plan(int argc, char **argv)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' },
					     { "output", required_argument, NULL, 'o' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *plan = NULL, *dir = ".";
	int json = 0, ch, rc, have_dir = 0;
	cct_launch_plan p;
	json_t *o = NULL, *a;
	cct_err err;
	char *args = NULL;
	size_t k, len = 0;

	cct_cli_getopt_begin();
	while ((ch = cct_cli_getopt(argc, argv, "o:h", lo)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'o': dir = optarg; have_dir = 1; break;
		case 'h': fputs(launch_usage, stdout); return CCT_EXIT_OK;
		default: fputs(launch_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return cct_cli_usage_error("%s", launch_usage);
	plan = argv[optind];
	/* --json prints the outputs instead of writing them: an -o DIR with it was accepted and
	 * nothing was written there */
	if (json && have_dir)
		return cct_cli_usage_error("launch plan: -o %s does not apply with --json (which "
					   "prints the outputs on stdout and writes no file): give "
					   "one of them", dir);
	if ((rc = cct_launch_plan_load(&p, plan, &err)) != CCT_OK)
		return fail(rc, &err, json);
	if (!json && ((rc = plan_output_clash(&p, plan, dir, &err)) != CCT_OK ||
		      (rc = plan_outputs_writable(dir, &err)) != CCT_OK)) {
		cct_launch_plan_clear(&p);
		return fail(rc, &err, json);
	}
	rc = cct_launch_plan_build(&o, &p, &err);
	cct_launch_plan_clear(&p);
	if (rc != CCT_OK)
		return fail(rc, &err, json);
	if (json) {
		cct_cli_print_json(o, 0);
		return CCT_EXIT_OK;
	}
	a = json_object_get(o, "qemu_args");
	for (k = 0; k < json_array_size(a); k++)
		len += strlen(json_string_value(json_array_get(a, k))) + 1;
	args = malloc(len + 1);
	if (!args) {
		json_decref(o);
		return cct_cli_usage_error("out of memory");
	}
	args[0] = 0;
	len = 0;
	for (k = 0; k < json_array_size(a); k++) {
		const char *s = json_string_value(json_array_get(a, k));

		memcpy(args + len, s, strlen(s));
		len += strlen(s);
		args[len++] = '\n';
	}
	args[len] = 0;
	if (mkdir(dir, 0755) != 0 && (errno != EEXIST || access(dir, W_OK) != 0))
		rc = cct_err_set(&err, CCT_EIO, CCT_STAGE_NONE, 0, "-o %s: cannot write there: %s",
				 dir, strerror(errno));
	if (rc == CCT_OK)
		rc = write_text(dir, "qemu.args", args, 0, &err);
	if (rc == CCT_OK)
		rc = write_text(dir, "launch.sh",
				json_string_value(json_object_get(o, "launch_sh")), 0755, &err);
	if (rc == CCT_OK)
		rc = write_json(dir, "expected.json", json_object_get(o, "expected"), &err);
	if (rc == CCT_OK)
		rc = write_json(dir, "policy.json", json_object_get(o, "policy"), &err);
	free(args);
	if (rc != CCT_OK) {
		json_decref(o);
		return fail(rc, &err, 0);
	}
	{
		json_t *vals = json_object_get(json_object_get(o, "expected"), "values");
		const char *key;
		json_t *v;

		printf("wrote %s/{qemu.args,launch.sh,expected.json,policy.json}\n", dir);
		json_object_foreach(vals, key, v) {
			json_t *x = json_object_get(v, "value");
			char *s = json_is_null(x) ? NULL : json_dumps(x, JSON_ENCODE_ANY);

			printf("  %-18s %s\n", key,
			       s ? s : "(not derived from the plan's inputs)");
			free(s);
		}
	}
	json_decref(o);
	return CCT_EXIT_OK;
}

static int cmd_diagnose(int argc, char **argv)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *plan = NULL, *evf = NULL;
	int json = 0, ch, rc;
	cct_launch_plan p;
	json_t *o = NULL;
	uint8_t *ev = NULL;
	size_t n = 0;
	cct_err err;

	cct_cli_getopt_begin();
	while ((ch = cct_cli_getopt(argc, argv, "h", lo)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'h': fputs(launch_usage, stdout); return CCT_EXIT_OK;
		default: fputs(launch_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (optind != argc - 2)
		return cct_cli_usage_error("launch diagnose: %s (PLAN.toml and EVIDENCE)\n"
					   "usage: cctrust launch diagnose PLAN.toml EVIDENCE [--json]",
					   optind > argc - 2 ? "missing argument" :
					   "unexpected argument");
	plan = argv[optind];
	evf = argv[optind + 1];
	if ((rc = cct_launch_plan_load(&p, plan, &err)) != CCT_OK)
		return fail(rc, &err, json);
	if ((rc = cct_file_read(&ev, &n, evf, 16u << 20, &err)) != CCT_OK) {
		cct_launch_plan_clear(&p);
		return fail(rc, &err, json);
	}
	rc = cct_launch_diagnose(&o, &p, ev, n, &err);
	free(ev);
	cct_launch_plan_clear(&p);
	if (!o)
		return fail(rc, &err, json);
	if (json) {
		cct_cli_print_json(json_incref(o), 0);
	} else {
		const char *k;
		json_t *v;

		printf("%s: %s\n", rc == CCT_OK ? "MATCHES" : "DIFFERS",
		       json_string_value(json_object_get(o, "message")));
		json_object_foreach(json_object_get(o, "fields"), k, v)
			printf("  %-18s %s  %s\n", k,
			       json_is_true(json_object_get(v, "match")) ? "match " : "DIFFER",
			       json_string_value(json_object_get(v, "actual")));
	}
	json_decref(o);
	return rc == CCT_OK ? CCT_EXIT_OK : CCT_EXIT_REJECT;
}

int cct_cmd_launch(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(launch_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : CCT_EXIT_OK;
	}
	if (!strcmp(argv[1], "plan"))
		return cmd_plan(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diagnose"))
		return cmd_diagnose(argc - 1, argv + 1);
	return cct_cli_usage_error("launch: unknown subcommand '%s'\n%s", argv[1], launch_usage);
}
