/* configfs-tsm generation race check, deterministically: a fake kernel thread publishes the
 * outblob and serves the "generation" attribute through a FIFO, one value per read, so the test
 * decides exactly what the attester observes before and after its reads. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "attester/internal.h"
#include "cct_test.h"

typedef struct fake_kernel {
	char root[512];
	const long *gens; /* values served, one per open of "generation" */
	size_t count;
	int early; /* gens[0] is served before the inblob is written (a real kernel's 0 at mkdir) */
	size_t served;
} fake_kernel;

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static int find_entry(const char *root, char *out, size_t size)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "cctrust-", 8)) {
			snprintf(out, size, "%s/%s", root, e->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

/* After the listed values (or when a reader never came): "generation" becomes a regular file
 * holding the last value, as a real kernel's attribute reads any number of times. A reader
 * that reads once more than the test planned gets that value instead of blocking for ever on
 * a FIFO no one writes (a hung test under ThreadSanitizer's slowness). */
static void settle(const char *p, long value)
{
	char tmp[1300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.settled", p);
	if ((f = fopen(tmp, "w"))) {
		fprintf(f, "%ld\n", value);
		fclose(f);
		rename(tmp, p);
	}
}

/* Serve one generation value through the FIFO p, then put a fresh FIFO in its place. */
static int serve(const fake_kernel *k, const char *p, long value)
{
	char v[32], next[1300];
	int fd = -1, n, waited;

	for (waited = 0; waited < 20000 && fd < 0; waited++) {
		fd = open(p, O_WRONLY | O_NONBLOCK);
		if (fd < 0)
			sleep_ms(1);
	}
	if (fd < 0)
		return -1;
	n = snprintf(v, sizeof(v), "%ld\n", value);
	if (write(fd, v, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	/* the next value goes into a fresh FIFO: a reader still draining this one (slow under
	 * load) must never receive it, or the next open for reading would find no writer */
	snprintf(next, sizeof(next), "%s/generation.next", k->root);
	unlink(next);
	if (mkfifo(next, 0600) != 0 || rename(next, p) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void *kernel(void *arg)
{
	fake_kernel *k = arg;
	char dir[1024], p[1200];
	struct stat st;
	int waited;

	k->served = 0;
	if (k->early) { /* the entry's generation is readable from its creation on */
		for (waited = 0; waited < 20000 && !find_entry(k->root, dir, sizeof(dir)); waited++)
			sleep_ms(1);
		snprintf(p, sizeof(p), "%s/generation", dir);
		if (serve(k, p, k->gens[0]) != 0) { /* the FIFO made by mkdir() below */
			settle(p, k->gens[0]);
			return NULL;
		}
		k->served = 1;
	}
	for (waited = 0; waited < 20000; waited++) { /* wait for the entry and its inblob */
		if (find_entry(k->root, dir, sizeof(dir))) {
			snprintf(p, sizeof(p), "%s/inblob", dir);
			if (stat(p, &st) == 0 && st.st_size == 64)
				break;
		}
		sleep_ms(1);
	}
	snprintf(p, sizeof(p), "%s/outblob", dir);
	cct_test_write_tmp("ob", "REPORT", 6);
	{
		FILE *f = fopen(p, "w");

		fputs("REPORT", f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/provider", dir);
	{
		FILE *f = fopen(p, "w");

		fputs("sev_guest\n", f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/generation", dir);
	if (!k->early)
		mkfifo(p, 0600);
	for (; k->served < k->count; k->served++)
		if (serve(k, p, k->gens[k->served]) != 0)
			break;
	if (k->count)
		settle(p, k->gens[k->count - 1]);
	return NULL;
}

/* A real kernel's entry has its generation from mkdir on: mkdir is interposed (the static library
 * calls this one) so that, in early mode, the FIFO is there before the attester's first read.
 * The sanitizers' runtimes call mkdir too, before they are initialised (ThreadSanitizer's
 * log_path: CI's run-tsan.sh): an instrumented mkdir then crashed inside the runtime, which
 * spun for ever reporting it (a 600 s timeout in CI only). So mkdir itself is not
 * instrumented and calls nothing else unless a test set early mode. */
static int early_mode;

static void early_fifo(const char *path)
{
	const char *b = strrchr(path, '/');
	char p[1200];

	if (b && !strncmp(b + 1, "cctrust-", 8)) {
		snprintf(p, sizeof(p), "%s/generation", path);
		mkfifo(p, 0600);
	}
}

#if defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation) /* clang >= 14: no entry hook either */
__attribute__((disable_sanitizer_instrumentation))
#elif __has_attribute(no_sanitize)
__attribute__((no_sanitize("thread")))
#endif
#endif
int mkdir(const char *path, mode_t mode)
{
	int r = (int)syscall(SYS_mkdirat, AT_FDCWD, path, mode);

	if (r == 0 && __atomic_load_n(&early_mode, __ATOMIC_RELAXED))
		early_fifo(path);
	return r;
}

static int run_k(const long *gens, size_t count, int early, const char *name,
		 cct_tsm_report *rep, cct_err *err, size_t *served)
{
	fake_kernel k;
	pthread_t t;
	uint8_t in[64];
	int rc;

	memset(&k, 0, sizeof(k));
	snprintf(k.root, sizeof(k.root), "%s/%s", cct_test_tmpdir(), name);
	mkdir(k.root, 0700);
	k.gens = gens;
	k.count = count;
	k.early = early;
	early_mode = early;
	memset(in, 0x5a, sizeof(in));
	assert_int_equal(pthread_create(&t, NULL, kernel, &k), 0);
	rc = cct_attester__tsm_report(rep, k.root, in, err);
	pthread_join(t, NULL);
	*served = k.served;
	return rc;
}

static int run(const long *gens, size_t count, const char *name, cct_tsm_report *rep,
	       cct_err *err, size_t *served)
{
	return run_k(gens, count, 0, name, rep, err, served);
}

static void test_tsm_normal(void **state)
{
	static const long g[] = { 1, 1 };
	cct_tsm_report rep;
	cct_err err;
	size_t served;

	(void)state;
	assert_int_equal(run(g, 2, "normal", &rep, &err, &served), CCT_OK);
	assert_int_equal(rep.outblob_len, 6);
	assert_memory_equal(rep.outblob, "REPORT", 6);
	assert_string_equal(rep.provider, "sev_guest");
	assert_null(rep.auxblob);
	assert_int_equal(served, 2);
	cct_attester__tsm_clear(&rep);
}

static void test_tsm_race_retried(void **state)
{
	/* try 1: after-write 1, after-read 7 (someone wrote): retry; try 2: 7 -> 8, 8: ok */
	static const long g[] = { 1, 7, 7, 8, 8 };
	cct_tsm_report rep;
	cct_err err;
	size_t served;

	(void)state;
	assert_int_equal(run(g, 5, "race", &rep, &err, &served), CCT_OK);
	assert_int_equal(served, 5);
	cct_attester__tsm_clear(&rep);
}

static void test_tsm_hostile_refused(void **state)
{
	static const long g[] = { 1, 2, 2, 3, 4, 4, 5, 6 };
	cct_tsm_report rep;
	cct_err err;
	size_t served;

	(void)state;
	assert_int_equal(run(g, 8, "hostile", &rep, &err, &served), CCT_EIO);
	assert_non_null(strstr(err.msg, "changed while being read"));
	assert_null(rep.outblob);
}

static void test_tsm_generation_from_zero(void **state)
{
	/* a real kernel: 0 at mkdir, 1 after our inblob write, still 1 after the reads */
	static const long g[] = { 0, 1, 1 };
	cct_tsm_report rep;
	cct_err err;
	size_t served;

	(void)state;
	assert_int_equal(run_k(g, 3, 1, "zero", &rep, &err, &served), CCT_OK);
	assert_int_equal(served, 3);
	assert_memory_equal(rep.outblob, "REPORT", 6);
	cct_attester__tsm_clear(&rep);
}

static void test_tsm_other_writer_after_ours_refused(void **state)
{
	/* each try, the generation moves by two across our one write (0 -> 2, 2 -> 4, 4 -> 6):
	 * another inblob was written after ours, so the outblob is over that one: never read (the
	 * old check took try 1, its generation stable at 2 after the reads) */
	static const long g[] = { 0, 2, 2, 4, 4, 6 };
	cct_tsm_report rep;
	cct_err err;
	size_t served;

	(void)state;
	assert_int_equal(run_k(g, 6, 1, "jump", &rep, &err, &served), CCT_EIO);
	assert_int_equal(served, 6);
	assert_non_null(strstr(err.msg, "changed while being read"));
	assert_null(rep.outblob);
}

static void test_body_init_data_not_utf8(void **state)
{
	/* the request body never drops init-data it cannot carry */
	cct_attester_opts o;
	char *out = NULL;
	cct_err err;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.nonce_b64 = "AAAA";
	o.tee_pubkey = json_pack("{s:s}", "kty", "EC");
	o.init_data_toml = "version = \"0.1.0\"\nx = \"\xff\"\n";
	assert_int_equal(cct_attester__body(&out, &o, json_object(), NULL, &err), CCT_EENCODING);
	assert_null(out);
	assert_non_null(strstr(err.msg, "init-data: not UTF-8"));
	o.init_data_toml = "version = \"0.1.0\"\n";
	assert_int_equal(cct_attester__body(&out, &o, json_object(), NULL, &err), CCT_OK);
	assert_non_null(strstr(out, "\"init-data\""));
	free(out);
	json_decref((json_t *)o.tee_pubkey);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsm_normal),
		cmocka_unit_test(test_tsm_race_retried),
		cmocka_unit_test(test_tsm_hostile_refused),
		cmocka_unit_test(test_tsm_generation_from_zero),
		cmocka_unit_test(test_tsm_other_writer_after_ours_refused),
		cmocka_unit_test(test_body_init_data_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
