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
#include <time.h>
#include <unistd.h>

#include "attester/internal.h"
#include "cct_test.h"

typedef struct fake_kernel {
	char root[512];
	const long *gens; /* values served, one per open of "generation" */
	size_t count;
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

static void *kernel(void *arg)
{
	fake_kernel *k = arg;
	char dir[1024], p[1200];
	struct stat st;
	int waited;

	for (waited = 0; waited < 3000; waited++) { /* wait for the entry and its inblob */
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
	mkfifo(p, 0600);
	for (k->served = 0; k->served < k->count; k->served++) {
		char v[32];
		int fd = -1, n;

		for (waited = 0; waited < 3000 && fd < 0; waited++) {
			fd = open(p, O_WRONLY | O_NONBLOCK);
			if (fd < 0)
				sleep_ms(1);
		}
		if (fd < 0)
			break;
		n = snprintf(v, sizeof(v), "%ld\n", k->gens[k->served]);
		if (write(fd, v, (size_t)n) != n)
			break;
		/* the next value goes into a fresh FIFO: a reader still draining this one (slow under
		 * load) must never receive it, or the next open for reading would find no writer */
		{
			char next[1300];

			snprintf(next, sizeof(next), "%s/generation.next", k->root);
			unlink(next);
			if (mkfifo(next, 0600) != 0 || rename(next, p) != 0)
				break;
		}
		close(fd);
	}
	return NULL;
}

static int run(const long *gens, size_t count, const char *name, cct_tsm_report *rep,
	       cct_err *err, size_t *served)
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
	memset(in, 0x5a, sizeof(in));
	assert_int_equal(pthread_create(&t, NULL, kernel, &k), 0);
	rc = cct_attester__tsm_report(rep, k.root, in, err);
	pthread_join(t, NULL);
	*served = k.served;
	return rc;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsm_normal),
		cmocka_unit_test(test_tsm_race_retried),
		cmocka_unit_test(test_tsm_hostile_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
