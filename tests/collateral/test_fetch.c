/* cct_fetch against a throw-away HTTP server on 127.0.0.1: GET with a captured header, POST,
 * 429 then success (Retry-After honoured), 404, oversized body, offline refusal, cache. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "collateral/fetch.h"

static pid_t server;
static char base[128];

static const char server_py[] =
	"import http.server, sys\n"
	"state = {'n429': 0}\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def log_message(self, *a): pass\n"
	"    def reply(self, code, body=b'', hdrs=()):\n"
	"        self.send_response(code)\n"
	"        for k, v in hdrs: self.send_header(k, v)\n"
	"        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)\n"
	"    def do_GET(self):\n"
	"        if self.path == '/hello': self.reply(200, b'hello', [('X-Chain', '%2D%2D%2Dchain')])\n"
	"        elif self.path == '/busy':\n"
	"            state['n429'] += 1\n"
	"            if state['n429'] == 1: self.reply(429, b'', [('Retry-After', '1')])\n"
	"            else: self.reply(200, b'after-retry')\n"
	"        elif self.path == '/big': self.reply(200, b'x' * 5000)\n"
	"        else: self.reply(404)\n"
	"    def do_POST(self):\n"
	"        n = int(self.headers.get('Content-Length', 0)); body = self.rfile.read(n)\n"
	"        self.reply(200, self.headers.get('Content-Type', '').encode() + b'|' + body)\n"
	"s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	"open(sys.argv[1], 'w').write(str(s.server_address[1]))\n"
	"s.serve_forever()\n";

static int start(void **state)
{
	const char *py = cct_test_write_tmp("server.py", server_py, strlen(server_py));
	char script[4096], portfile[4096];
	int i;

	(void)state;
	snprintf(script, sizeof(script), "%s", py);
	snprintf(portfile, sizeof(portfile), "%s/port", cct_test_tmpdir());
	server = fork();
	if (server == 0) {
		execlp("python3", "python3", script, portfile, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		size_t n;
		uint8_t *p = cct_test_read_file(portfile, &n);

		if (p && n) {
			snprintf(base, sizeof(base), "http://127.0.0.1:%s", (char *)p);
			free(p);
			return 0;
		}
		free(p);
		usleep(50000);
	}
	return -1;
}

static int stop(void **state)
{
	(void)state;
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	return 0;
}

static void get_with_header(void **state)
{
	char url[256], *hdr = NULL;
	uint8_t *out;
	size_t n;
	cct_fetch_req req = { .url = url, .header_name = "x-chain", .header_out = &hdr };

	(void)state;
	snprintf(url, sizeof(url), "%s/hello", base);
	assert_int_equal(cct_fetch(&out, &n, &req, NULL, NULL), CCT_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_string_equal(hdr, "%2D%2D%2Dchain");
	free(out);
	free(hdr);
}

static void post_body(void **state)
{
	char url[256];
	uint8_t *out;
	size_t n;
	cct_fetch_req req = { .url = url, .content_type = "application/ocsp-request",
			      .body = (const uint8_t *)"\x30\x03", .body_len = 2 };

	(void)state;
	snprintf(url, sizeof(url), "%s/ocsp", base);
	assert_int_equal(cct_fetch(&out, &n, &req, NULL, NULL), CCT_OK);
	assert_int_equal(n, strlen("application/ocsp-request|") + 2);
	assert_memory_equal(out, "application/ocsp-request|\x30\x03", n);
	free(out);
}

static void retry_after_429(void **state)
{
	char url[256];
	uint8_t *out;
	size_t n;
	cct_fetch_opts fo = { .quiet = 1 };
	cct_fetch_opts none = { .quiet = 1, .max_retries = -1 };
	cct_err err;

	(void)state;
	snprintf(url, sizeof(url), "%s/busy", base);
	assert_int_equal(cct_fetch_url(&out, &n, url, &fo, NULL), CCT_OK);
	assert_memory_equal(out, "after-retry", 11);
	free(out);
	/* without retries a 429 is a failure naming the status */
	assert_int_equal(cct_fetch_url(&out, &n, url, &none, &err), CCT_OK); /* 2nd+ hit: 200 */
	free(out);
	snprintf(url, sizeof(url), "%s/missing", base);
	assert_int_equal(cct_fetch_url(&out, &n, url, &none, &err), CCT_ENETWORK);
	assert_non_null(strstr(err.msg, "HTTP 404"));
}

static void caps_offline_and_cache(void **state)
{
	char url[256], cache[4096];
	uint8_t *out;
	size_t n;
	int from_cache;
	cct_fetch_req req = { .url = url, .max_body = 1000 };
	cct_fetch_opts off = { .offline = 1 };
	cct_err err;

	(void)state;
	snprintf(url, sizeof(url), "%s/big", base);
	assert_int_equal(cct_fetch(&out, &n, &req, NULL, &err), CCT_ETOOBIG);
	assert_int_equal(cct_fetch_url(&out, &n, url, &off, &err), CCT_ENETWORK);
	assert_non_null(strstr(err.msg, "--offline"));
	snprintf(url, sizeof(url), "%s/hello", base);
	snprintf(cache, sizeof(cache), "%s/cache/a/b/hello", cct_test_tmpdir());
	assert_int_equal(cct_fetch_cached(&out, &n, &from_cache, url, cache, 0, NULL, NULL), CCT_OK);
	assert_false(from_cache);
	free(out);
	/* now served from the cache even offline */
	assert_int_equal(cct_fetch_cached(&out, &n, &from_cache, url, cache, 0, &off, NULL), CCT_OK);
	assert_true(from_cache);
	assert_memory_equal(out, "hello", 5);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_with_header),
		cmocka_unit_test(post_body),
		cmocka_unit_test(retry_after_429),
		cmocka_unit_test(caps_offline_and_cache),
	};

	return cmocka_run_group_tests(tests, start, stop);
}
