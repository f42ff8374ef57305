/* A collateral bundle replaced while in use (include/cctrust/collateral.h, cct_coll_live):
 * cctrustd reloads its --collateral BUNDLE on SIGHUP or when the path changes, without a
 * restart. Each loaded bundle is a reference-counted snapshot: a verification holds the one it
 * started with until it is done, the live object holds the current one; a snapshot is freed by
 * whoever drops its last reference. A new bundle is opened and checked completely before it is
 * swapped in; a refused one never replaces a working one (fail closed never means "no
 * collateral"). */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "cctrust/collateral.h"
#include "cctrust/core.h"

typedef struct snap {
	cct_coll_snap pub; /* first: users see &pub */
	unsigned refs;
} snap;

/* What the path names now: enough to see that a bundle was replaced (polling). */
typedef struct fprint {
	char target[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int ok;
} fprint;

struct cct_coll_live {
	char *path;
	pthread_mutex_t lock;
	snap *cur;
	fprint loaded, tried; /* of the current bundle; of the last attempt */
	unsigned long ok, failed;
};

static void fingerprint(fprint *f, const char *path)
{
	struct stat st;
	char m[PATH_MAX + 16];

	memset(f, 0, sizeof(*f));
	if (!realpath(path, f->target) || stat(f->target, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		snprintf(m, sizeof(m), "%s/manifest.json", f->target);
		if (stat(m, &st) != 0)
			return;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	f->ok = 1;
}

static int fprint_eq(const fprint *a, const fprint *b)
{
	return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       !strcmp(a->target, b->target);
}

static void snap_free(snap *s)
{
	if (s) {
		cct_coll_bundle_free(s->pub.bundle);
		free(s);
	}
}

/* Every item's bytes (and issuer chain) against the manifest's SHA-256. */
static int check_items(const cct_coll_bundle *b, const char *path, cct_err *err)
{
	const cct_coll_manifest *m = cct_coll_bundle_manifest(b);
	size_t i;

	if (!m->count)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "collateral bundle %s has no items (refused: it would leave "
				   "the broker without collateral)", path);
	for (i = 0; i < m->count; i++) {
		const cct_coll_item *it = &m->items[i];
		uint8_t *body = NULL, *chain = NULL;
		size_t n = 0, cn = 0;
		int rc = cct_coll_bundle_read(b, it, &body, &n, it->issuer_chain ? &chain : NULL,
					      it->issuer_chain ? &cn : NULL, err);

		free(body);
		free(chain);
		if (rc != CCT_OK)
			return rc;
	}
	return CCT_OK;
}

/* Open (and with full=1 check) the bundle at path into a fresh snapshot (refs 1). */
static int snap_open(snap **out, const char *path, int full, cct_err *err)
{
	snap *s = calloc(1, sizeof(*s));
	uint8_t d[32];
	unsigned int dl = sizeof(d);
	char *dump = NULL;
	int rc;

	*out = NULL;
	if (!s)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	if (!realpath(path, s->pub.path)) {
		free(s);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "collateral bundle %s does not exist", path);
	}
	rc = cct_coll_bundle_open(&s->pub.bundle, s->pub.path, 0, err);
	if (rc == CCT_OK && full)
		rc = check_items(s->pub.bundle, path, err);
	if (rc == CCT_OK) {
		dump = cct_coll_manifest_dump(cct_coll_bundle_manifest(s->pub.bundle));
		if (!dump || EVP_Digest(dump, strlen(dump), d, &dl, EVP_sha256(), NULL) != 1)
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		else
			cct_hex_encode(s->pub.manifest_sha256, d, sizeof(d));
		free(dump);
	}
	if (rc != CCT_OK) {
		snap_free(s);
		return rc;
	}
	cct_coll_bundle_source(&s->pub.src, s->pub.bundle);
	s->pub.loaded_at = time(NULL);
	s->refs = 1;
	*out = s;
	return CCT_OK;
}

int cct_coll_live_open(cct_coll_live **out, const char *path, cct_err *err)
{
	cct_coll_live *l = calloc(1, sizeof(*l));
	int rc;

	*out = NULL;
	if (!l || !(l->path = strdup(path))) {
		free(l);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	}
	fingerprint(&l->loaded, path);
	rc = snap_open(&l->cur, path, 0, err);
	if (rc != CCT_OK) {
		free(l->path);
		free(l);
		return rc;
	}
	l->tried = l->loaded;
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return CCT_OK;
}

void cct_coll_live_free(cct_coll_live *l)
{
	if (!l)
		return;
	/* every snapshot must have been released: what is left is the live object's own */
	snap_free(l->cur);
	pthread_mutex_destroy(&l->lock);
	free(l->path);
	free(l);
}

const cct_coll_snap *cct_coll_live_acquire(cct_coll_live *l)
{
	snap *s;

	pthread_mutex_lock(&l->lock);
	s = l->cur;
	s->refs++;
	pthread_mutex_unlock(&l->lock);
	return &s->pub;
}

void cct_coll_live_release(cct_coll_live *l, const cct_coll_snap *p)
{
	snap *s = (snap *)p; /* pub is the first member */
	int last;

	if (!p)
		return;
	pthread_mutex_lock(&l->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&l->lock);
	if (last)
		snap_free(s);
}

int cct_coll_live_reload(cct_coll_live *l, cct_err *err)
{
	snap *s = NULL, *old;
	fprint f;
	int rc;

	/* the fingerprint first: a bundle replaced during the open is seen by the next poll */
	fingerprint(&f, l->path);
	rc = snap_open(&s, l->path, 1, err);
	pthread_mutex_lock(&l->lock);
	l->tried = f;
	if (rc != CCT_OK) {
		l->failed++;
		pthread_mutex_unlock(&l->lock);
		return rc;
	}
	old = l->cur;
	l->cur = s;
	l->loaded = f;
	l->ok++;
	pthread_mutex_unlock(&l->lock);
	cct_coll_live_release(l, &old->pub); /* freed here or by its last in-flight user */
	return CCT_OK;
}

int cct_coll_live_changed(cct_coll_live *l)
{
	fprint f;
	int changed;

	fingerprint(&f, l->path);
	pthread_mutex_lock(&l->lock);
	changed = !fprint_eq(&f, &l->tried);
	pthread_mutex_unlock(&l->lock);
	return changed;
}

void cct_coll_live_stats(cct_coll_live *l, unsigned long *ok, unsigned long *failed)
{
	pthread_mutex_lock(&l->lock);
	*ok = l->ok;
	*failed = l->failed;
	pthread_mutex_unlock(&l->lock);
}
