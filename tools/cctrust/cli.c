/* Shared CLI helpers: exit codes, error JSON, time options. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "cli.h"
#include "cctrust/policy.h"
#include "cctrust/token.h"

int cct_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cctrust: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CCT_EXIT_USAGE;
}

int cct_cli_text_check(const char *opt, const char *file, const uint8_t *b, size_t n)
{
	const uint8_t *nul = memchr(b, 0, n);
	json_t *s;

	if (nul) {
		cct_cli_usage_error("%s %s: a NUL byte at offset %zu: not text", opt, file,
				    (size_t)(nul - b));
		return 1;
	}
	if (!(s = json_stringn((const char *)b, n))) {
		cct_cli_usage_error("%s %s: not UTF-8 text", opt, file);
		return 1;
	}
	json_decref(s);
	return 0;
}

int cct_cli_exit_code(int rc)
{
	if (rc == CCT_OK)
		return CCT_EXIT_OK;
	if (cct_code_is_input(rc))
		return CCT_EXIT_USAGE;
	return CCT_EXIT_REJECT;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * at most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

json_t *cct_cli_json_text(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *buf, *o;
	const unsigned char *p;
	size_t n;

	if (j || !s)
		return j ? j : json_null();
	/* not UTF-8 (a file name on Linux is any bytes): each byte that is not part of a
	 * well-formed sequence written as the text \xHH, so the name is still there to match */
	if (!(buf = malloc(4 * strlen(s) + 1)))
		return json_null();
	for (p = (const unsigned char *)s, o = buf; *p; p += n) {
		if ((n = utf8_seq(p))) {
			memcpy(o, p, n);
			o += n;
		} else {
			o += sprintf(o, "\\x%02x", *p);
			n = 1;
		}
	}
	*o = 0;
	j = json_string(buf);
	free(buf);
	return j ? j : json_null();
}

json_t *cct_cli_error_json(int rc, const cct_err *err)
{
	json_t *o;

	if (rc == CCT_OK)
		return json_null();
	o = json_object();
	json_object_set_new(o, "code", json_string(cct_code_name(rc)));
	json_object_set_new(o, "stage", json_string(cct_stage_name(err ? err->stage : 0)));
	json_object_set_new(o, "message",
			    cct_cli_json_text(err && err->msg[0] ? err->msg : cct_strerror(rc)));
	if (err && err->offset)
		json_object_set_new(o, "offset", json_integer((json_int_t)err->offset));
	return o;
}

void cct_cli_print_json(json_t *obj, int one_line)
{
	char *s = json_dumps(obj, one_line ? JSON_COMPACT : JSON_INDENT(2));

	if (s) {
		puts(s);
		free(s);
	}
	fflush(stdout);
	json_decref(obj);
}

int cct_cli_parse_time(time_t *out, const char *s)
{
	cct_err err;

	if (cct_time_parse(out, s, &err) != CCT_OK) {
		cct_cli_usage_error("--at: %s", err.msg);
		return -1;
	}
	/* the verifiers read a verification time of 0 as "now": an earlier time cannot mean what
	 * the caller asked for, and no certificate is valid then anyway */
	if (*out <= 0) {
		cct_cli_usage_error("--at: '%.40s': expected a time after 1970-01-01T00:00:00Z", s);
		return -1;
	}
	return 0;
}

void cct_cli_print_error(int rc, const cct_err *err, int json)
{
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "error", cct_cli_error_json(rc, err));
		cct_cli_print_json(o, 0);
	} else {
		fprintf(stderr, "cctrust: %s\n", err->msg[0] ? err->msg : cct_strerror(rc));
	}
}

void cct_cli_print_reject(const char *what, int rc, const cct_err *err)
{
	printf("%s: REJECTED [%s/%s] %s\n", what, cct_stage_name(err->stage), cct_code_name(rc),
	       err->msg[0] ? err->msg : cct_strerror(rc));
}

const char *cct_cli_sim_path(const char *dir, const char *rel)
{
	static char bufs[16][4096];
	static unsigned next;
	char *b = bufs[next++ % 16];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, rel);
	return b;
}

const char *cct_cli_long_name(const struct option *longopts, int c)
{
	size_t i;

	for (i = 0; longopts[i].name; i++)
		if (longopts[i].val == c)
			return longopts[i].name;
	return "?";
}

int cct_cli_foreign_option(const char *cmd, const char *sub, const struct option *longopts,
			   int c)
{
	return cct_cli_usage_error("%s %s: --%s does not apply to it (cctrust %s --help lists each "
				   "subcommand's options)",
				   cmd, sub, cct_cli_long_name(longopts, c), cmd);
}

int cct_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	const struct option *o;
	char with_h[64];
	int help = 0, c;

	if (!shortopts)
		shortopts = "";
	/* -h is --help wherever a command has --help and no -h of its own */
	for (o = longopts; o && o->name; o++)
		if (!strcmp(o->name, "help") && !o->flag)
			help = o->val;
	if (help && !strchr(shortopts, 'h') && strlen(shortopts) + 2 <= sizeof(with_h)) {
		snprintf(with_h, sizeof(with_h), "%sh", shortopts);
		shortopts = with_h;
	} else {
		help = 0;
	}
	opterr = 1;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	return help && c == 'h' ? help : c;
}

int cct_cli_parse_long(long *out, const char *opt, const char *v, long min, long max)
{
	if (cct_parse_long(out, v, min, max) != CCT_OK)
		return cct_cli_usage_error("%s: '%s' is not a whole number in %ld..%ld", opt, v, min,
					   max);
	return 0;
}

int cct_cli_asks_help(int argc, char **argv, int from)
{
	int i;

	for (i = from; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int cct_cli_getopt_begin(void)
{
	optind = 0; /* full re-initialisation of GNU getopt for this argv */
	return 0;
}

int cct_cli_policy_load(cct_policy **out, const char *file, const char *kind,
			const json_t *overrides)
{
	uint8_t *text = NULL;
	size_t n = 0;
	json_t *warnings = json_array(), *w;
	cct_err err;
	size_t i;
	int rc;

	*out = NULL;
	if (file && cct_file_read(&text, &n, file, CCT_POLICY_MAX_POLICY, &err) != CCT_OK) {
		json_decref(warnings);
		return cct_cli_usage_error("--policy %s: %s", file, err.msg);
	}
	rc = cct_policy_load_any(out, (const char *)text, n, kind, overrides, warnings, &err);
	free(text);
	json_array_foreach(warnings, i, w)
		fprintf(stderr, "cctrust: warning: --policy %s: %s\n", file ? file : "-",
			json_string_value(w));
	json_decref(warnings);
	if (rc != CCT_OK)
		return cct_cli_usage_error("--policy %s: %s", file ? file : "(flags)", err.msg);
	return 0;
}

json_t *cct_cli_policy_apply(const cct_policy *pol, const cct_policy_claims *c, int *rc,
			     cct_err *err)
{
	json_t *cpu = json_array(), *all = json_array(), **gpu = NULL;
	size_t i;

	if (c->gpu_count) {
		gpu = calloc(c->gpu_count, sizeof(*gpu));
		for (i = 0; gpu && i < c->gpu_count; i++)
			gpu[i] = json_array();
	}
	if (c->gpu_count && !gpu) {
		*rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		json_decref(cpu);
		return all;
	}
	cct_policy_evaluate(pol, c, cpu, gpu);
	json_array_extend(all, cpu);
	for (i = 0; i < c->gpu_count; i++) {
		json_array_extend(all, gpu[i]);
		json_decref(gpu[i]);
	}
	free(gpu);
	json_decref(cpu);
	if (*rc == CCT_OK && json_array_size(all))
		*rc = cct_policy_failures_error(all, err);
	return all;
}

void cct_cli_print_skipped(const char *what, const json_t *skipped)
{
	const json_t *x;
	size_t i;

	if (!json_array_size(skipped))
		return;
	fprintf(stderr, "%s: checks skipped (the verdict does not rest on them):", what);
	json_array_foreach(skipped, i, x)
		fprintf(stderr, "%s %s", i ? "," : "", json_string_value(x));
	fputc('\n', stderr);
}

void cct_cli_print_failures(const json_t *failures)
{
	const json_t *f;
	size_t i;

	json_array_foreach(failures, i, f)
		printf("  rule %s: %s\n", json_string_value(json_object_get(f, "rule")),
		       json_string_value(json_object_get(f, "message")));
}

int cct_cli_inputs_many(char *const *args, int n)
{
	struct stat st;

	return n > 1 || (n == 1 && strcmp(args[0], "-") && stat(args[0], &st) == 0 &&
			 S_ISDIR(st.st_mode));
}

int cct_cli_inputs_stopped(const cct_err *err, int json, int multi, json_t *obj)
{
	fprintf(stderr, "cctrust: %s\n", err->msg);
	if (json && multi && err->code == CCT_EIO) {
		if (!obj)
			obj = json_pack("{s:b}", "verified", 0);
		if (obj) {
			json_object_set_new(obj, "error", cct_cli_error_json(err->code, err));
			cct_cli_print_json(obj, 1);
		}
	} else {
		json_decref(obj);
	}
	return CCT_EXIT_USAGE;
}

int cct_cli_empty_input(const uint8_t *b, size_t n, const char *what, const char *path,
			cct_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr(" \t\r\n", b[i]) || !b[i])
			return CCT_OK;
	return cct_err_set(err, CCT_ETRUNC, CCT_STAGE_INPUT, 0, "%s%s%s is empty", what,
			   what[0] ? " " : "", path);
}

int cct_cli_same_output(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	const char *na = sa ? sa + 1 : a, *nb = sb ? sb + 1 : b;
	char da[4096], db[4096];

	if (cct_file_same(a, b) || !strcmp(a, b))
		return 1;
	if (strcmp(na, nb))
		return 0;
	snprintf(da, sizeof(da), "%.*s", sa ? (sa == a ? 1 : (int)(sa - a)) : 1, sa ? a : ".");
	snprintf(db, sizeof(db), "%.*s", sb ? (sb == b ? 1 : (int)(sb - b)) : 1, sb ? b : ".");
	return !strcmp(da, db) || cct_file_same(da, db);
}

int cct_cli_check_nonce_b64(const char *nonce_b64)
{
	uint8_t *nb = NULL;
	size_t nn = 0;
	int bad = cct_b64_decode(&nb, &nn, nonce_b64, strlen(nonce_b64), NULL) != CCT_OK || nn == 0;

	free(nb);
	if (bad)
		return cct_cli_usage_error("--nonce: '%.64s' is not base64 (the broker's challenge "
					   "nonce, as /kbs/v0/auth gives it)",
					   nonce_b64);
	return 0;
}

int cct_cli_check_tee_pubkey(const json_t *jwk, const char *src)
{
	void *key = NULL;
	cct_err err;

	/* the verifier refuses them: the attestation result would carry the private key */
	if (cct_token_jwk_private_member(jwk))
		return cct_cli_usage_error("--tee-pubkey%s%s: carries the private key member \"%s\": "
					   "give the public key only",
					   src ? " " : "", src ? src : "",
					   cct_token_jwk_private_member(jwk));
	if (cct_token_jwk_to_pkey(&key, jwk, &err) != CCT_OK)
		return cct_cli_usage_error("--tee-pubkey%s%s: not a usable public key: %s", src ? " " : "",
					   src ? src : "", err.msg);
	EVP_PKEY_free((EVP_PKEY *)key);
	return 0;
}
