/* configfs-tsm (Linux >= 6.7): /sys/kernel/config/tsm/report/<entry>/{inblob, outblob, auxblob,
 * provider, generation}. Protocol: mkdir an entry, write the 64-byte inblob, read the outblob
 * (the report/quote) and auxblob (SNP: GHCB certificate table), then check that "generation" is
 * the one observed right after our write, and that our write advanced it by exactly one (when it
 * was readable before): if another writer touched the entry in between, the blobs may belong to
 * their inblob, so the read is retried (and refused after a few tries).
 * The root is $CCT_TSM_ROOT when set (tests use a fake tree driven by a fake kernel). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "attester/internal.h"
#include "cctrust/core.h"

#define TSM_MAX_BLOB (128u * 1024u)
#define TSM_TRIES 3
#define TSM_WAIT_MS 5000 /* a real kernel answers at once; a fake one may lag */

static int read_attr(uint8_t **out, size_t *n, const char *dir, const char *name, int required,
		     cct_err *err)
{
	char path[4200];
	cct_err e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*out = NULL;
	*n = 0;
	if (cct_file_read(out, n, path, TSM_MAX_BLOB, &e) != CCT_OK) {
		if (!required && access(path, F_OK) != 0)
			return CCT_OK;
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "configfs-tsm: %s", e.msg);
	}
	return CCT_OK;
}

static long read_generation(const char *dir)
{
	uint8_t *b = NULL;
	size_t n = 0;
	long g = -1;

	if (read_attr(&b, &n, dir, "generation", 1, NULL) == CCT_OK && b)
		g = strtol((const char *)b, NULL, 10);
	free(b);
	return g;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int write_inblob(const char *dir, const uint8_t inblob[64], cct_err *err)
{
	char path[4200];
	ssize_t w;
	int fd;

	snprintf(path, sizeof(path), "%s/inblob", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "configfs-tsm: cannot open %s: %s",
				   path, strerror(errno));
	w = write(fd, inblob, 64);
	close(fd);
	if (w != 64)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "configfs-tsm: writing the 64-byte inblob failed");
	return CCT_OK;
}

int cct_attester__tsm_report(cct_tsm_report *out, const char *root, const uint8_t inblob[64],
			     cct_err *err)
{
	char dir[4096];
	uint8_t rnd[8], *prov = NULL;
	char rh[17];
	size_t pn = 0;
	long g0, g1 = -1, g2, waited;
	int tries, rc = CCT_ERROR;

	memset(out, 0, sizeof(*out));
	if (!root)
		root = getenv(CCT_ATTESTER_TSM_ENV);
	if (!root)
		root = CCT_ATTESTER_TSM_ROOT;
	RAND_bytes(rnd, sizeof(rnd));
	cct_hex_encode(rh, rnd, sizeof(rnd));
	if (!*root) /* the entry would be made at "/" */
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "configfs-tsm root is empty ($%s set but empty?)",
				   CCT_ATTESTER_TSM_ENV);
	if (strlen(root) > 3000)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "configfs-tsm root too long");
	snprintf(dir, sizeof(dir), "%s/cctrust-%ld-%s", root, (long)getpid(), rh);
	if (mkdir(dir, 0700) != 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "configfs-tsm: cannot create %s: %s (is configfs mounted and the "
				   "kernel >= 6.7 with a TSM provider?)",
				   dir, strerror(errno));
	for (tries = 0; tries < TSM_TRIES; tries++) {
		cct_attester__tsm_clear(out);
		g0 = read_generation(dir);
		rc = write_inblob(dir, inblob, err);
		if (rc != CCT_OK)
			goto out;
		rc = CCT_ERROR;
		for (waited = 0; waited < TSM_WAIT_MS; waited += 10) {
			g1 = read_generation(dir);
			if (g1 >= 0 && g1 != g0)
				break;
			sleep_ms(10);
		}
		if (g1 < 0 || g1 == g0) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					 "configfs-tsm: generation did not advance after writing inblob");
			goto out;
		}
		/* our write is one increment: more means another writer wrote the entry after us,
		 * and the outblob would be over its inblob */
		if (g0 >= 0 && g1 != g0 + 1)
			continue;
		if ((rc = read_attr(&out->outblob, &out->outblob_len, dir, "outblob", 1, err)) ||
		    (rc = read_attr(&out->auxblob, &out->auxblob_len, dir, "auxblob", 0, err)) ||
		    (rc = read_attr(&prov, &pn, dir, "provider", 1, err)))
			goto out;
		snprintf(out->provider, sizeof(out->provider), "%.*s", (int)strcspn((char *)prov, "\n"),
			 (char *)prov);
		free(prov);
		prov = NULL;
		g2 = read_generation(dir);
		if (g2 == g1 && out->outblob_len) {
			rc = CCT_OK;
			goto out;
		}
		/* someone else wrote the entry between our write and our reads: retry */
	}
	rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
			 "configfs-tsm: the report entry changed while being read (%d tries): "
			 "another process is using it",
			 TSM_TRIES);
out:
	free(prov);
	if (rc != CCT_OK)
		cct_attester__tsm_clear(out);
	rmdir(dir); /* configfs removes the attributes with the entry */
	return rc;
}

void cct_attester__tsm_clear(cct_tsm_report *r)
{
	free(r->outblob);
	free(r->auxblob);
	memset(r, 0, sizeof(*r));
}
