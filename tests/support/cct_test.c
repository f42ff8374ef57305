/* Test support implementation. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cct_test.h"

/* The path helpers return one of PATH_SLOTS static buffers in turn, so that several calls in
 * one expression (two paths in one command line) give distinct strings whatever order the
 * compiler evaluates the arguments in: with one buffer, gcc and clang built different tests. */
#define PATH_SLOTS 8
#define PATH_SIZE 4096

static char *path_slot(void)
{
	static char slots[PATH_SLOTS][PATH_SIZE];
	static unsigned next;

	return slots[next++ % PATH_SLOTS];
}

const char *cct_test_vector_path(const char *rel)
{
	char *buf = path_slot();
	const char *base = getenv("CCT_VECTORS");

	snprintf(buf, PATH_SIZE, "%s/%s", base ? base : "tests/vectors", rel);
	return buf;
}

uint8_t *cct_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

uint8_t *cct_test_read_vector(const char *rel, size_t *len)
{
	uint8_t *b = cct_test_read_file(cct_test_vector_path(rel), len);

	if (!b)
		fail_msg("vector %s not found (CCT_VECTORS=%s)", rel, getenv("CCT_VECTORS"));
	return b;
}

static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* the temp dir may hold simulated private keys: remove it when the test program ends */
static void rm_tmpdir(void)
{
	if (tmpdir[0] && !getenv("CCT_KEEP_TMP"))
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *cct_test_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/cct-test-XXXXXX");
		if (!mkdtemp(tmpdir))
			fail_msg("mkdtemp failed");
		atexit(rm_tmpdir);
	}
	return tmpdir;
}

const char *cct_test_write_tmp(const char *name, const void *p, size_t n)
{
	char *path = path_slot();
	FILE *f;

	snprintf(path, PATH_SIZE, "%s/%s", cct_test_tmpdir(), name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n)
		fail_msg("cannot write %s", path);
	fclose(f);
	return path;
}

int cct_test_cli(char **out, const char *fmt, ...)
{
	char args[8192], cmd[9000];
	const char *cli = getenv("CCT_CLI");
	va_list ap;
	FILE *p;
	size_t cap = 65536, n = 0;
	char *buf;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' %s", cli ? cli : "cctrust", args);
	p = popen(cmd, "r");
	if (!p)
		fail_msg("popen failed");
	buf = malloc(cap);
	for (;;) {
		size_t got;

		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		got = fread(buf + n, 1, cap - n - 1, p);
		if (!got)
			break;
		n += got;
	}
	buf[n] = 0;
	st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
