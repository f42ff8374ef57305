/* Shared CLI helpers: exit codes, error JSON, time options. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int cct_cli_exit_code(int rc)
{
	if (rc == CCT_OK)
		return CCT_EXIT_OK;
	if (cct_code_is_input(rc))
		return CCT_EXIT_USAGE;
	return CCT_EXIT_REJECT;
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
			    json_string(err && err->msg[0] ? err->msg : cct_strerror(rc)));
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
	return 0;
}

void cct_cli_print_reject(const char *what, int rc, const cct_err *err)
{
	printf("%s: REJECTED [%s/%s] %s\n", what, cct_stage_name(err->stage), cct_code_name(rc),
	       err->msg[0] ? err->msg : cct_strerror(rc));
}

void cct_cli_json_hex(json_t *obj, const char *key, const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);

	if (!h)
		return;
	cct_hex_encode(h, p, n);
	json_object_set_new(obj, key, json_string(h));
	free(h);
}

const char *cct_cli_sim_path(const char *dir, const char *rel)
{
	static char bufs[16][4096];
	static unsigned next;
	char *b = bufs[next++ % 16];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, rel);
	return b;
}
