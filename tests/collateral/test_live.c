/* A collateral bundle replaced while in use (cct_coll_live, cctrustd SIGHUP): a reload swaps a
 * checked bundle in for new users while a snapshot taken before keeps reading the bundle it
 * was taken from (a directory behind a symbolic link stays pinned); a bundle whose manifest
 * does not parse, whose item was altered, or that has no items is refused and the current one
 * stays; the path's fingerprint says when it changed; and readers on several threads never
 * see a failure while the bundle is swapped under them (run under ASan for use-after-free). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cct_test.h"
#include "cctrust/collateral.h"
#include "cctrust/core.h"

#define KEY "vcek/Milan"
#define NREADERS 4
#define NRELOADS 200

static char d1[4096], d2[4096], link_path[4096];

/* dir: a bundle with one snp-crl item KEY = body (+ an snp-ask-ark item when two) */
static void make_bundle(const char *dir, const char *body, int two)
{
	cct_coll_bundle *b = NULL;
	cct_coll_item it;
	cct_err e;

	assert_int_equal(cct_coll_bundle_open(&b, dir, 1, &e), CCT_OK);
	memset(&it, 0, sizeof(it));
	it.kind = CCT_COLL_SNP_CRL;
	snprintf(it.key, sizeof(it.key), "%s", KEY);
	assert_int_equal(cct_coll_bundle_put(b, &it, (const uint8_t *)body, strlen(body), NULL, 0,
					     &e),
			 CCT_OK);
	if (two) {
		it.kind = CCT_COLL_SNP_ASK_ARK;
		snprintf(it.key, sizeof(it.key), "Milan");
		assert_int_equal(cct_coll_bundle_put(b, &it, (const uint8_t *)"pem", 3, NULL, 0, &e),
				 CCT_OK);
	}
	cct_coll_bundle_free(b);
}

/* point link_path at target, atomically (what an operator does: ln -s + mv -T) */
static void point_link(const char *target)
{
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.new", link_path);
	unlink(tmp);
	assert_int_equal(symlink(target, tmp), 0);
	assert_int_equal(rename(tmp, link_path), 0);
}

/* the bytes of KEY through a snapshot's source (NUL-terminated copy into out) */
static int read_key(const cct_coll_snap *s, char *out, size_t size)
{
	uint8_t *b = NULL;
	size_t n = 0;
	cct_err e;
	int rc = cct_coll_get(&s->src, CCT_COLL_SNP_CRL, KEY, &b, &n, NULL, NULL, &e);

	if (rc == CCT_OK)
		snprintf(out, size, "%.*s", (int)n, (const char *)b);
	free(b);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	snprintf(d1, sizeof(d1), "%s/live-one", cct_test_tmpdir());
	snprintf(d2, sizeof(d2), "%s/live-two", cct_test_tmpdir());
	snprintf(link_path, sizeof(link_path), "%s/live-cur", cct_test_tmpdir());
	make_bundle(d1, "one", 0);
	make_bundle(d2, "two-two", 1);
	return 0;
}

static void test_swap_keeps_snapshots(void **state)
{
	cct_coll_live *l = NULL;
	const cct_coll_snap *s1, *s2;
	char got[64], bad[4200], p[4300];
	unsigned long ok, failed;
	cct_err e;
	FILE *f;

	(void)state;
	point_link(d1);
	assert_int_equal(cct_coll_live_open(&l, link_path, &e), CCT_OK);
	assert_int_equal(cct_coll_live_changed(l), 0);
	s1 = cct_coll_live_acquire(l);
	assert_int_equal(read_key(s1, got, sizeof(got)), CCT_OK);
	assert_string_equal(got, "one");
	assert_int_equal(cct_coll_bundle_manifest(s1->bundle)->count, 1);
	assert_int_equal(strlen(s1->manifest_sha256), 64);

	point_link(d2);
	assert_int_equal(cct_coll_live_changed(l), 1);
	assert_int_equal(cct_coll_live_reload(l, &e), CCT_OK);
	assert_int_equal(cct_coll_live_changed(l), 0);
	s2 = cct_coll_live_acquire(l);
	assert_int_equal(read_key(s2, got, sizeof(got)), CCT_OK);
	assert_string_equal(got, "two-two");
	assert_int_equal(cct_coll_bundle_manifest(s2->bundle)->count, 2);
	assert_string_not_equal(s1->manifest_sha256, s2->manifest_sha256);
	/* the snapshot taken before the reload still reads its own bundle (link pinned) */
	assert_int_equal(read_key(s1, got, sizeof(got)), CCT_OK);
	assert_string_equal(got, "one");
	cct_coll_live_release(l, s1);
	cct_coll_live_release(l, s2);

	/* refused: a manifest that does not parse */
	snprintf(bad, sizeof(bad), "%s/live-bad", cct_test_tmpdir());
	mkdir(bad, 0755);
	snprintf(p, sizeof(p), "%s/manifest.json", bad);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("{\"version\": \"cctrust.collateral/v1\", \"items\": [", f);
	fclose(f);
	point_link(bad);
	assert_int_equal(cct_coll_live_changed(l), 1);
	assert_int_not_equal(cct_coll_live_reload(l, &e), CCT_OK);
	assert_int_equal(cct_coll_live_changed(l), 0); /* tried: not again until it changes */
	s2 = cct_coll_live_acquire(l);
	assert_int_equal(read_key(s2, got, sizeof(got)), CCT_OK);
	assert_string_equal(got, "two-two");
	cct_coll_live_release(l, s2);

	/* refused: an item altered after the manifest was written */
	snprintf(bad, sizeof(bad), "%s/live-altered", cct_test_tmpdir());
	make_bundle(bad, "three", 0);
	{
		cct_coll_bundle *b = NULL;

		assert_int_equal(cct_coll_bundle_open(&b, bad, 0, &e), CCT_OK);
		snprintf(p, sizeof(p), "%s/%s", bad, cct_coll_bundle_manifest(b)->items[0].path);
		cct_coll_bundle_free(b);
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("THREE", f);
	fclose(f);
	point_link(bad);
	assert_int_equal(cct_coll_live_reload(l, &e), CCT_ESIGNATURE);
	assert_non_null(strstr(e.msg, "SHA-256"));

	/* refused: no items (it would leave no collateral) */
	snprintf(bad, sizeof(bad), "%s/live-empty", cct_test_tmpdir());
	mkdir(bad, 0755);
	snprintf(p, sizeof(p), "%s/manifest.json", bad);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("{\"version\": \"cctrust.collateral/v1\", \"items\": []}", f);
	fclose(f);
	point_link(bad);
	assert_int_equal(cct_coll_live_reload(l, &e), CCT_ECOLLATERAL);

	cct_coll_live_stats(l, &ok, &failed);
	assert_int_equal(ok, 1);
	assert_int_equal(failed, 3);
	s2 = cct_coll_live_acquire(l);
	assert_int_equal(read_key(s2, got, sizeof(got)), CCT_OK);
	assert_string_equal(got, "two-two");
	cct_coll_live_release(l, s2);
	cct_coll_live_free(l);
}

static int stop;
static long reads_bad;
static pthread_mutex_t bad_lock = PTHREAD_MUTEX_INITIALIZER;

static void *reader(void *arg)
{
	cct_coll_live *l = arg;
	char got[64];

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		const cct_coll_snap *s = cct_coll_live_acquire(l);
		int rc = read_key(s, got, sizeof(got)), i;

		for (i = 0; rc == CCT_OK && i < 3; i++) /* a use spans several reads */
			rc = read_key(s, got, sizeof(got));
		if (rc != CCT_OK || (strcmp(got, "one") && strcmp(got, "two-two"))) {
			pthread_mutex_lock(&bad_lock);
			reads_bad++;
			pthread_mutex_unlock(&bad_lock);
		}
		cct_coll_live_release(l, s);
	}
	return NULL;
}

static void test_readers_during_reloads(void **state)
{
	cct_coll_live *l = NULL;
	pthread_t th[NREADERS];
	unsigned long ok, failed;
	cct_err e;
	int i;

	(void)state;
	point_link(d1);
	assert_int_equal(cct_coll_live_open(&l, link_path, &e), CCT_OK);
	for (i = 0; i < NREADERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, l), 0);
	for (i = 0; i < NRELOADS; i++) {
		point_link(i % 2 ? d1 : d2);
		assert_int_equal(cct_coll_live_reload(l, &e), CCT_OK);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(reads_bad, 0);
	cct_coll_live_stats(l, &ok, &failed);
	assert_int_equal(ok, NRELOADS);
	assert_int_equal(failed, 0);
	cct_coll_live_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_swap_keeps_snapshots, setup),
		cmocka_unit_test_setup(test_readers_during_reloads, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
