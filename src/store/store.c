#define _GNU_SOURCE
/* Store front: URL dispatch to a back end, secrets sealed with AES-256-GCM, master key. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "cctrust/core.h"
#include "cctrust/store.h"
#include "core/rd.h"
#include "store/generations.h"
#include "token/jose.h"

#define SEAL_VERSION 0x01
#define SEAL_NONCE 12
#define SEAL_TAG 16
#define MAX_BACKENDS 4

struct cct_store {
	const cct_store_ops *ops;
	void *impl;
	uint8_t key[CCT_STORE_KEY_SIZE];     /* master key: secrets, service keys */
	uint8_t row_key[CCT_STORE_KEY_SIZE]; /* HKDF(master): policies, reference values, sessions */
	uint8_t challenge_key[CCT_STORE_KEY_SIZE]; /* HKDF(master): session challenge cookies */
	cct_store_gens *gens; /* the newest generation of each sealed row seen (roll-back check) */
};

static struct {
	char prefix[32];
	cct_store_open_fn fn;
} backends[MAX_BACKENDS];
static pthread_mutex_t backends_lock = PTHREAD_MUTEX_INITIALIZER;

void cct_store_session_clear(cct_store_session *s)
{
	if (!s)
		return;
	free(s->token);
	free(s->claims);
	free(s->tee_pubkey);
	s->token = s->claims = s->tee_pubkey = NULL;
}

int cct_store_register(const char *prefix, cct_store_open_fn open_fn)
{
	int i, rc = CCT_ETOOBIG;

	if (!prefix || strlen(prefix) >= sizeof(backends[0].prefix) || !open_fn)
		return CCT_EINVAL;
	pthread_mutex_lock(&backends_lock);
	for (i = 0; i < MAX_BACKENDS; i++) {
		if (!backends[i].fn || !strcmp(backends[i].prefix, prefix)) {
			strcpy(backends[i].prefix, prefix);
			backends[i].fn = open_fn;
			rc = CCT_OK;
			break;
		}
	}
	pthread_mutex_unlock(&backends_lock);
	return rc;
}

int cct_store_open(cct_store **out, const char *url, const uint8_t master_key[32], cct_err *err)
{
	return cct_store_open_ex(out, url, master_key, NULL, err);
}

int cct_store_open_ex(cct_store **out, const char *url, const uint8_t master_key[32],
		      const cct_store_open_opts *opts, cct_err *err)
{
	cct_store *st;
	cct_store_open_fn fn = NULL;
	unsigned conns = opts && opts->connections ? opts->connections
						   : CCT_STORE_CONNECTIONS_DEFAULT;
	int i, rc;

	*out = NULL;
	if (!url || !master_key)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "store: URL and key needed");
	if (conns > CCT_STORE_CONNECTIONS_MAX)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0,
				   "store: %u connections: expected 1..%d", conns,
				   CCT_STORE_CONNECTIONS_MAX);
	st = calloc(1, sizeof(*st));
	if (!st)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	memcpy(st->key, master_key, CCT_STORE_KEY_SIZE);
	{
		uint8_t gk[CCT_STORE_KEY_SIZE];

		if (cct_store_derive_key(st->row_key, master_key,
					 "cctrust-store row integrity v1") != CCT_OK ||
		    cct_store_derive_key(st->challenge_key, master_key,
					 "cctrust-store session challenge v1") != CCT_OK ||
		    cct_store_derive_key(gk, master_key, "cctrust-store row generations v1") !=
			    CCT_OK) {
			cct_wipe(st->key, sizeof(st->key));
			free(st);
			return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
					   "HKDF of the master key failed");
		}
		rc = cct_store__gens_open(&st->gens, opts ? opts->generations : NULL, gk, err);
		cct_wipe(gk, sizeof(gk));
		if (rc != CCT_OK) {
			cct_wipe(st->key, sizeof(st->key));
			free(st);
			return rc;
		}
	}
	if (!strncmp(url, "sqlite:", 7)) {
		rc = cct_store_sqlite_open(&st->ops, &st->impl, url + 7, conns, err);
	} else {
		pthread_mutex_lock(&backends_lock);
		for (i = 0; i < MAX_BACKENDS; i++)
			if (backends[i].fn &&
			    !strncmp(url, backends[i].prefix, strlen(backends[i].prefix)))
				fn = backends[i].fn;
		pthread_mutex_unlock(&backends_lock);
		rc = fn ? fn(&st->ops, &st->impl, url, conns, err)
			: cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				      "store URL must be sqlite:PATH or postgres://... (a back end "
				      "this build has)");
	}
	if (rc != CCT_OK) {
		cct_wipe(st->key, sizeof(st->key));
		cct_wipe(st->row_key, sizeof(st->row_key));
		cct_wipe(st->challenge_key, sizeof(st->challenge_key));
		cct_store__gens_free(st->gens);
		free(st);
		return rc;
	}
	*out = st;
	return CCT_OK;
}

void cct_store_free(cct_store *st)
{
	if (!st)
		return;
	if (st->ops && st->ops->close)
		st->ops->close(st->impl);
	cct_wipe(st->key, sizeof(st->key));
	cct_wipe(st->row_key, sizeof(st->row_key));
	cct_wipe(st->challenge_key, sizeof(st->challenge_key));
	cct_store__gens_free(st->gens);
	free(st);
}

int cct_store_derive_key(uint8_t out[CCT_STORE_KEY_SIZE], const uint8_t master[CCT_STORE_KEY_SIZE],
			 const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5];
	int ok;

	EVP_KDF_free(kdf);
	if (!c)
		return CCT_ERROR;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master,
						 CCT_STORE_KEY_SIZE);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)"cctrust-store", 13);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	p[4] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(c, out, CCT_STORE_KEY_SIZE, p) > 0;
	EVP_KDF_CTX_free(c);
	return ok ? CCT_OK : CCT_ERROR;
}

/* Secrets and service keys stay under the master key (rows written by earlier versions keep
 * opening); every other sealed kind is under the derived row key. */
static const uint8_t *key_for(const cct_store *st, const char *kind)
{
	return !strcmp(kind, CCT_STORE_KIND_RESOURCE) || !strcmp(kind, CCT_STORE_KIND_SERVICE_KEY)
		       ? st->key
		       : st->row_key;
}

const cct_store_ops *cct_store_backend(const cct_store *st, void **impl)
{
	*impl = st->impl;
	return st->ops;
}

static int gcm(uint8_t *out, const uint8_t key[32], const uint8_t nonce[12], const char *aad,
	       const uint8_t *in, size_t n, uint8_t tag[16], int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0, f = 0, ok;

	if (!c || n > INT32_MAX) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) > 0 &&
	     EVP_CipherUpdate(c, NULL, &l, (const uint8_t *)aad, (int)strlen(aad)) > 0 &&
	     (n == 0 || EVP_CipherUpdate(c, out, &l, in, (int)n) > 0) &&
	     (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) > 0) &&
	     EVP_CipherFinal_ex(c, out + (n ? l : 0), &f) > 0 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) > 0);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int cct_store_seal(uint8_t **out, size_t *out_len, const uint8_t key[32], const char *aad,
		   const uint8_t *pt, size_t n, cct_err *err)
{
	uint8_t *buf;
	size_t total = 1 + SEAL_NONCE + n + SEAL_TAG;

	*out = NULL;
	*out_len = 0;
	if (n > CCT_STORE_MAX_VALUE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0,
				   "secret of %zu bytes above the %u-byte cap", n, CCT_STORE_MAX_VALUE);
	buf = malloc(total);
	if (!buf)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	buf[0] = SEAL_VERSION;
	if (RAND_bytes(buf + 1, SEAL_NONCE) != 1 ||
	    gcm(buf + 1 + SEAL_NONCE, key, buf + 1, aad, pt, n, buf + 1 + SEAL_NONCE + n, 1)) {
		free(buf);
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "sealing a secret failed");
	}
	*out = buf;
	*out_len = total;
	return CCT_OK;
}

int cct_store_unseal(uint8_t **out, size_t *out_len, const uint8_t key[32], const char *aad,
		     const uint8_t *in, size_t n, cct_err *err)
{
	uint8_t *buf, tag[SEAL_TAG];
	size_t ctn;

	*out = NULL;
	*out_len = 0;
	if (n < 1 + SEAL_NONCE + SEAL_TAG || in[0] != SEAL_VERSION)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_NONE, 0,
				   "sealed row is truncated or has an unknown version");
	ctn = n - 1 - SEAL_NONCE - SEAL_TAG;
	buf = malloc(ctn ? ctn : 1);
	if (!buf)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	memcpy(tag, in + 1 + SEAL_NONCE + ctn, SEAL_TAG);
	if (gcm(buf, key, in + 1, aad, in + 1 + SEAL_NONCE, ctn, tag, 0)) {
		cct_wipe(buf, ctn);
		free(buf);
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_NONE, 0,
				   "secret row does not decrypt (wrong master key or tampered row)");
	}
	*out = buf;
	*out_len = ctn;
	return CCT_OK;
}

static void put_i64le(uint8_t **w, int64_t v)
{
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 0; i < 8; i++)
		*(*w)++ = (uint8_t)(u >> (8 * i));
}

/* A sealed row's associated data: "cctrust-store:KIND:NAME" for rows written before row
 * generations (read as generation 0), "cctrust-store-g:KIND:NAME" for rows whose plaintext
 * starts with their 8-byte little-endian generation. The row's id in the generations table:
 * "KIND:NAME". */
static int sealed_aad(char *aad, size_t size, const char *kind, const char *name, int gen)
{
	return kind && name && strlen(name) <= CCT_STORE_MAX_NAME &&
	       snprintf(aad, size, "cctrust-store%s:%s:%s", gen ? "-g" : "", kind, name) <
		       (int)size;
}

#define GEN_SIZE 8

/* Open a sealed row: *v / *n the value, *gen its generation (0: written before generations).
 * CCT_ESIGNATURE when it opens under neither associated data. */
static int sealed_open(cct_store *st, const char *kind, const char *name, const uint8_t *sealed,
		       size_t sn, uint8_t **v, size_t *n, uint64_t *gen, cct_err *err)
{
	char aad[CCT_STORE_MAX_NAME + 64];
	uint8_t *pt = NULL;
	size_t pn = 0;
	int rc;

	*gen = 0;
	sealed_aad(aad, sizeof(aad), kind, name, 1);
	rc = cct_store_unseal(&pt, &pn, key_for(st, kind), aad, sealed, sn, NULL);
	if (rc == CCT_OK) {
		cct_rd r;

		if (pn < GEN_SIZE) {
			cct_wipe(pt, pn);
			free(pt);
			return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_NONE, 0,
					   "sealed row %s:%s has no generation", kind, name);
		}
		cct_rd_init(&r, pt, pn);
		*gen = cct_rd_u64le(&r);
		memmove(pt, pt + GEN_SIZE, pn - GEN_SIZE);
		cct_wipe(pt + pn - GEN_SIZE, GEN_SIZE);
		*v = pt;
		*n = pn - GEN_SIZE;
		return CCT_OK;
	}
	sealed_aad(aad, sizeof(aad), kind, name, 0);
	return cct_store_unseal(v, n, key_for(st, kind), aad, sealed, sn, err);
}

/* A row deleted through cct_store_sealed_delete leaves a tombstone: a row of kind
 * "tombstone:KIND" under the same name whose sealed plaintext is the deletion's generation
 * (AAD "cctrust-store-t:KIND:NAME", under the row's own key). A reader that knows a generation
 * of the row finds it absent only after a deletion at least as new; else the row was deleted
 * in the database. */
static int tomb_names(char *tkind, size_t ksize, char *aad, size_t asize, const char *kind,
		      const char *name)
{
	return strlen(name) <= CCT_STORE_MAX_NAME &&
	       snprintf(tkind, ksize, "tombstone:%s", kind) < (int)ksize &&
	       snprintf(aad, asize, "cctrust-store-t:%s:%s", kind, name) < (int)asize;
}

/* The generation of the row's tombstone: 0 when there is none or it does not open (a
 * tombstone a database writer forged or damaged records no deletion) */
static uint64_t tombstone_gen(cct_store *st, const char *kind, const char *name)
{
	char tkind[96], aad[CCT_STORE_MAX_NAME + 64];
	uint8_t *sealed = NULL, *pt = NULL;
	size_t sn = 0, pn = 0;
	uint64_t gen = 0;

	if (!tomb_names(tkind, sizeof(tkind), aad, sizeof(aad), kind, name) ||
	    st->ops->obj_get(st->impl, tkind, name, &sealed, &sn, NULL) != CCT_OK)
		return 0;
	if (cct_store_unseal(&pt, &pn, key_for(st, kind), aad, sealed, sn, NULL) == CCT_OK &&
	    pn == GEN_SIZE) {
		cct_rd r;

		cct_rd_init(&r, pt, pn);
		gen = cct_rd_u64le(&r);
	}
	free(pt);
	free(sealed);
	return gen;
}

/* The generation of the stored row (0: none, legacy or not opening), else of its tombstone;
 * *present (may be NULL): whether the row is stored */
static uint64_t stored_gen(cct_store *st, const char *kind, const char *name, int *present_out)
{
	uint8_t *cur = NULL, *old = NULL;
	size_t cn = 0, on = 0;
	uint64_t cg = 0;
	int present = st->ops->obj_get(st->impl, kind, name, &cur, &cn, NULL) == CCT_OK;

	if (present_out)
		*present_out = present;
	if (present)
		sealed_open(st, kind, name, cur, cn, &old, &on, &cg, NULL);
	if (old) {
		cct_wipe(old, on);
		free(old);
	}
	free(cur);
	return present ? cg : tombstone_gen(st, kind, name);
}

/* put (create == NULL) or create-if-absent, as the generation after the newest one known: the
 * table's, or the stored row's (or its tombstone's) when that is newer (written by another
 * replica) */
static int sealed_write(cct_store *st, const char *kind, const char *name, const uint8_t *v,
			size_t n, int64_t now, int *created, cct_err *err)
{
	char aad[CCT_STORE_MAX_NAME + 64], id[CCT_STORE_MAX_NAME + 64];
	uint8_t *sealed = NULL, *pt = NULL, *w;
	size_t sn = 0;
	uint64_t gen;
	int rc;

	if (!sealed_aad(aad, sizeof(aad), kind, name, 1))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "object name too long");
	if (created && !st->ops->obj_create)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				   "store back end %s cannot create-if-absent", st->ops->name);
	if (n > CCT_STORE_MAX_VALUE)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0,
				   "secret of %zu bytes above the %u-byte cap", n, CCT_STORE_MAX_VALUE);
	snprintf(id, sizeof(id), "%s:%s", kind, name);
	gen = cct_store__gens_known(st->gens, id);
	if (!created) {
		uint64_t cg = stored_gen(st, kind, name, NULL);

		if (cg > gen)
			gen = cg;
	} else {
		uint64_t tg = tombstone_gen(st, kind, name);

		if (tg > gen)
			gen = tg;
	}
	gen++;
	if (!(pt = malloc(GEN_SIZE + n + 1)))
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	w = pt;
	put_i64le(&w, (int64_t)gen);
	if (n)
		memcpy(pt + GEN_SIZE, v, n);
	rc = cct_store_seal(&sealed, &sn, key_for(st, kind), aad, pt, GEN_SIZE + n, err);
	cct_wipe(pt, GEN_SIZE + n);
	free(pt);
	if (rc == CCT_OK)
		rc = created ? st->ops->obj_create(st->impl, kind, name, sealed, sn, now, created,
						   err)
			     : st->ops->obj_put(st->impl, kind, name, sealed, sn, now, err);
	free(sealed);
	if (rc == CCT_OK && (!created || *created))
		rc = cct_store__gens_observe(st->gens, id, gen, 0, err);
	return rc;
}

int cct_store_sealed_put(cct_store *st, const char *kind, const char *name, const uint8_t *v,
			 size_t n, int64_t now, cct_err *err)
{
	return sealed_write(st, kind, name, v, n, now, NULL, err);
}

int cct_store_sealed_create(cct_store *st, const char *kind, const char *name,
			    const uint8_t *v, size_t n, int64_t now, int *created, cct_err *err)
{
	int dummy;

	return sealed_write(st, kind, name, v, n, now, created ? created : &dummy, err);
}

int cct_store_sealed_get(cct_store *st, const char *kind, const char *name, uint8_t **v,
			 size_t *n, cct_err *err)
{
	char aad[CCT_STORE_MAX_NAME + 64], id[CCT_STORE_MAX_NAME + 64];
	uint8_t *sealed = NULL;
	size_t sn = 0;
	uint64_t gen = 0, floor;
	int rc;

	*v = NULL;
	*n = 0;
	if (!sealed_aad(aad, sizeof(aad), kind, name, 1))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "object name too long");
	snprintf(id, sizeof(id), "%s:%s", kind, name);
	/* known before the read: committed before it, so the row read is at least that one
	 * unless rolled back (a newer generation written while this read runs is no roll-back) */
	floor = cct_store__gens_known(st->gens, id);
	rc = st->ops->obj_get(st->impl, kind, name, &sealed, &sn, err);
	if (rc == CCT_OK)
		rc = sealed_open(st, kind, name, sealed, sn, v, n, &gen, err);
	free(sealed);
	if (rc == CCT_EINVAL && floor) {
		/* absent, and this store knows a generation of it: deleted, unless a deletion at
		 * least as new is recorded (the tombstone is written before the row is deleted) */
		uint64_t tg = tombstone_gen(st, kind, name);

		if (tg < floor)
			return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_NONE, 0,
					   "sealed row %s:%s is missing, but this store has written "
					   "or read its generation %llu and no deletion at least as "
					   "new is recorded: deleted in the database",
					   kind, name, (unsigned long long)floor);
		if (cct_store__gens_observe(st->gens, id, tg, floor, err) != CCT_OK)
			return CCT_EIO;
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s", kind,
				   name);
	}
	if (rc == CCT_OK && (rc = cct_store__gens_observe(st->gens, id, gen, floor, err)) != CCT_OK) {
		cct_wipe(*v, *n);
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

int cct_store_sealed_delete(cct_store *st, const char *kind, const char *name, int64_t now,
			    cct_err *err)
{
	char tkind[96], aad[CCT_STORE_MAX_NAME + 64], id[CCT_STORE_MAX_NAME + 64];
	uint8_t *sealed = NULL, pt[GEN_SIZE], *w = pt;
	size_t sn = 0;
	uint64_t gen, cg;
	int present, rc;

	if (!kind || !name || !tomb_names(tkind, sizeof(tkind), aad, sizeof(aad), kind, name))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "object name too long");
	snprintf(id, sizeof(id), "%s:%s", kind, name);
	gen = cct_store__gens_known(st->gens, id);
	cg = stored_gen(st, kind, name, &present);
	if (!present && !gen)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s", kind,
				   name);
	if (cg > gen)
		gen = cg;
	gen++;
	/* the tombstone first: a reader that finds the row gone finds the deletion recorded */
	put_i64le(&w, (int64_t)gen);
	rc = cct_store_seal(&sealed, &sn, key_for(st, kind), aad, pt, GEN_SIZE, err);
	if (rc == CCT_OK)
		rc = st->ops->obj_put(st->impl, tkind, name, sealed, sn, now, err);
	free(sealed);
	if (rc == CCT_OK)
		rc = cct_store__gens_observe(st->gens, id, gen, 0, err);
	if (rc != CCT_OK)
		return rc;
	if (!present)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "no %s named %s", kind,
				   name);
	rc = st->ops->obj_delete(st->impl, kind, name, err);
	/* another admin deleted it meanwhile: deleted all the same */
	return rc == CCT_EINVAL ? CCT_OK : rc;
}

int cct_store_secret_put(cct_store *st, const char *name, const uint8_t *v, size_t n,
			 int64_t now, cct_err *err)
{
	return cct_store_sealed_put(st, CCT_STORE_KIND_RESOURCE, name, v, n, now, err);
}

int cct_store_secret_get(cct_store *st, const char *name, uint8_t **v, size_t *n, cct_err *err)
{
	return cct_store_sealed_get(st, CCT_STORE_KIND_RESOURCE, name, v, n, err);
}

int cct_store_master_key_load(uint8_t key[32], const char *path, const char *env, cct_err *err)
{
	uint8_t *buf = NULL, *dec = NULL;
	size_t n = 0, dn = 0;
	const char *ev;
	int rc = CCT_ERROR;

	if (path) {
		if ((rc = cct_file_read(&buf, &n, path, 4096, err)) != CCT_OK)
			return rc;
	} else {
		ev = env ? getenv(env) : NULL;
		if (!ev || !*ev)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "no master key: give a key file or set %s",
					   env ? env : "the environment variable");
		n = strlen(ev);
		buf = malloc(n + 1);
		if (!buf)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		memcpy(buf, ev, n + 1);
	}
	/* exactly 32 bytes is a raw key, whatever its last bytes are (a raw key may end in what
	 * looks like a newline); only text encodings are trimmed */
	if (n != CCT_STORE_KEY_SIZE)
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
			n--;
	if (n == CCT_STORE_KEY_SIZE) {
		memcpy(key, buf, CCT_STORE_KEY_SIZE);
		rc = CCT_OK;
	} else if (n == 2 * CCT_STORE_KEY_SIZE &&
		   cct_hex_decode(&dec, &dn, (const char *)buf, n, NULL) == CCT_OK &&
		   dn == CCT_STORE_KEY_SIZE) {
		memcpy(key, dec, CCT_STORE_KEY_SIZE);
		rc = CCT_OK;
	} else {
		if (dec) {
			cct_wipe(dec, dn);
			free(dec);
			dec = NULL;
		}
		if (cct_b64_decode(&dec, &dn, (const char *)buf, n, NULL) == CCT_OK &&
		    dn == CCT_STORE_KEY_SIZE) {
			memcpy(key, dec, CCT_STORE_KEY_SIZE);
			rc = CCT_OK;
		} else {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "master key must be 32 bytes (raw, 64 hex digits or base64)");
		}
	}
	if (dec) {
		cct_wipe(dec, dn);
		free(dec);
	}
	cct_wipe(buf, n);
	free(buf);
	return rc;
}

/* ---- sessions: the attested state is sealed into the row (aad binds table and id) ---- */

/* v1 (read only): base64 of the sealed JSON envelope {id, tee, expires, evidence_digest, token,
 * claims, tee_pubkey, meta}. v2 (written): the same fields sealed as length-prefixed strings in
 * a fixed order, so opening a session neither parses nor escapes the (large) token and claims. */
/* v3 (written when the claims are the token's payload, as the broker's EAR always is): the v2
 * fields with the token's payload left out ("HEADER..SIGNATURE"), the claims whole; opening
 * puts base64url(claims) back. A quarter less to seal, store, sync and read than v2, whose
 * token carried the claims base64url-encoded. The version is in the AAD, so a prefix
 * rewritten by a database writer fails the integrity check. */
#define SESSION_SEAL_PREFIX "cct-sealed-v1:"
#define SESSION_SEAL_PREFIX_V2 "cct-sealed-v2:"
#define SESSION_SEAL_PREFIX_V3 "cct-sealed-v3:"

/* the plaintext token column only says "attested"; the token is in the sealed state */
#define SESSION_TOKEN_MARK "sealed"

enum { SF_ID, SF_TEE, SF_EXPIRES, SF_DIGEST, SF_TOKEN, SF_CLAIMS, SF_PUBKEY, SF_META, SF_COUNT };

static const char *jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static int session_aad(char *aad, size_t size, const char *id, int v3)
{
	return snprintf(aad, size, "cctrust-store:sessions:%s%s", v3 ? "v3:" : "", id) <
	       (int)size;
}

static void put_field(uint8_t **w, const char *v)
{
	uint32_t n = (uint32_t)strlen(v);

	(*w)[0] = (uint8_t)n;
	(*w)[1] = (uint8_t)(n >> 8);
	(*w)[2] = (uint8_t)(n >> 16);
	(*w)[3] = (uint8_t)(n >> 24);
	memcpy(*w + 4, v, n);
	*w += 4 + n;
}

/* *col_out: the sealed column of an attested session (v3, or v2 when the claims are not the
 * token's payload), malloc'd. */
static int session_seal_column(char **col_out, cct_store *st, const cct_store_session *s,
			       const char *meta, cct_err *err)
{
	const char *f[SF_COUNT], *prefix;
	char expires[24], *b64 = NULL, *col = NULL, *elided = NULL, aad[128];
	uint8_t *pt = NULL, *w, *sealed = NULL;
	size_t pn = 0, sn = 0, i;
	int rc, v3;

	*col_out = NULL;
	if (!s->token || !s->claims || !s->tee_pubkey)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "session state incomplete");
	/* the EAR token's payload is the claims text (same serialisation): sealed once, the
	 * token detached from it */
	v3 = (elided = cct_jose_jws_detach(s->token, s->claims)) != NULL;
	prefix = v3 ? SESSION_SEAL_PREFIX_V3 : SESSION_SEAL_PREFIX_V2;
	if (!session_aad(aad, sizeof(aad), s->id, v3)) {
		free(elided);
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "session state incomplete");
	}
	snprintf(expires, sizeof(expires), "%lld", (long long)s->expires);
	f[SF_ID] = s->id;
	f[SF_TEE] = s->tee;
	f[SF_EXPIRES] = expires;
	f[SF_DIGEST] = s->evidence_digest;
	f[SF_TOKEN] = v3 ? elided : s->token;
	f[SF_CLAIMS] = s->claims;
	f[SF_PUBKEY] = s->tee_pubkey;
	f[SF_META] = meta ? meta : "";
	for (i = 0; i < SF_COUNT; i++) {
		if (strlen(f[i]) > CCT_STORE_MAX_VALUE) {
			free(elided);
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_NONE, 0,
					   "session state too large to seal");
		}
		pn += 4 + strlen(f[i]);
	}
	if (!(pt = w = malloc(pn))) {
		free(elided);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	for (i = 0; i < SF_COUNT; i++)
		put_field(&w, f[i]);
	rc = cct_store_seal(&sealed, &sn, st->row_key, aad, pt, pn, err);
	/* prefix + base64, copied once (asprintf grows its buffer piecewise: 0.1 ms for 26 KB) */
	if (rc == CCT_OK && (b64 = cct_b64_encode(sealed, sn, 0)) != NULL) {
		size_t pl = strlen(prefix), bl = strlen(b64);

		if ((col = malloc(pl + bl + 1)) != NULL) {
			memcpy(col, prefix, pl);
			memcpy(col + pl, b64, bl + 1);
		}
	}
	if (rc == CCT_OK && !col)
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	cct_wipe(pt, pn);
	free(pt);
	free(sealed);
	free(b64);
	free(elided);
	*col_out = col;
	return rc;
}

int cct_store_session_seal_attested(cct_store *st, const cct_store_session *s, const char *meta,
				    cct_err *err)
{
	char *col;
	int rc = session_seal_column(&col, st, s, meta, err);

	if (rc != CCT_OK)
		return rc;
	rc = st->ops->session_set_attested(st->impl, s->id, SESSION_TOKEN_MARK, col, s->tee_pubkey,
					   s->evidence_digest, err);
	free(col);
	return rc;
}

/* The session's row from its challenge, unless there is one (a concurrent insert losing the
 * race finds the winner's row). */
static int session_ensure(cct_store *st, const cct_store_session *s, cct_err *err)
{
	cct_store_session cur;
	int rc = st->ops->session_get(st->impl, s->id, &cur, NULL);

	cct_store_session_clear(&cur);
	if (rc == CCT_OK)
		return CCT_OK;
	rc = st->ops->session_put(st->impl, s, err);
	if (rc != CCT_OK && st->ops->session_get(st->impl, s->id, &cur, NULL) == CCT_OK)
		rc = CCT_OK;
	cct_store_session_clear(&cur);
	return rc;
}

int cct_store_session_horizon(cct_store *st, int64_t *horizon, cct_err *err)
{
	uint8_t *v = NULL;
	size_t n = 0;
	char txt[24];
	int rc = st->ops->obj_get(st->impl, CCT_STORE_KIND_SESSION_HORIZON, "evicted", &v, &n, err);

	*horizon = 0;
	if (rc == CCT_EINVAL)
		return CCT_OK;
	if (rc != CCT_OK)
		return rc;
	if (n == 0 || n >= sizeof(txt)) {
		free(v);
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_NONE, 0, "session horizon row");
	}
	memcpy(txt, v, n);
	txt[n] = 0;
	free(v);
	*horizon = strtoll(txt, NULL, 10);
	return CCT_OK;
}

int cct_store_session_spend(cct_store *st, const cct_store_session *s, int64_t now, cct_err *err)
{
	int rc = session_ensure(st, s, err);

	return rc == CCT_OK ? st->ops->session_consume_nonce(st->impl, s->id, s->nonce, now, err)
			    : rc;
}

/* ---- session challenges: the state of a session before /attest, held by the client ---- */

#define CHALLENGE_PREFIX CCT_STORE_CHALLENGE_PREFIX
#define CHALLENGE_AAD "cctrust-store:session-challenge:v1"

int cct_store_challenge_seal(cct_store *st, const cct_store_session *s,
			     char out[CCT_STORE_MAX_CHALLENGE + 1], cct_err *err)
{
	/* created, expires, then tee and nonce as the sealed session's fields (put_field) */
	uint8_t pt[8 + 8 + 4 + sizeof(s->tee) + 4 + sizeof(s->nonce)], *w = pt, *sealed = NULL;
	size_t sn = 0;
	char *b64;
	int rc;

	out[0] = 0;
	put_i64le(&w, s->created);
	put_i64le(&w, s->expires);
	if (strnlen(s->tee, sizeof(s->tee)) == sizeof(s->tee) ||
	    strnlen(s->nonce, sizeof(s->nonce)) == sizeof(s->nonce))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "session challenge fields");
	put_field(&w, s->tee);
	put_field(&w, s->nonce);
	if ((rc = cct_store_seal(&sealed, &sn, st->challenge_key, CHALLENGE_AAD, pt,
				 (size_t)(w - pt), err)) != CCT_OK)
		return rc;
	b64 = cct_jose_b64url(sealed, sn);
	free(sealed);
	if (!b64 || strlen(CHALLENGE_PREFIX) + strlen(b64) > CCT_STORE_MAX_CHALLENGE) {
		free(b64);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "session challenge encoding");
	}
	snprintf(out, CCT_STORE_MAX_CHALLENGE + 1, "%s%s", CHALLENGE_PREFIX, b64);
	free(b64);
	return CCT_OK;
}

/* A put_field string into dst (NUL-terminated); too long for dst: a format error. */
static void take_field(cct_rd *r, char *dst, size_t size)
{
	size_t n = cct_rd_u32le(r);
	const uint8_t *p = cct_rd_take(r, n);

	if (p && n < size)
		memcpy(dst, p, n);
	else
		cct_rd_fail(r, CCT_EFORMAT);
}

int cct_store_challenge_open(cct_store *st, const char *cookie, cct_store_session *out,
			     cct_err *err)
{
	uint8_t *raw = NULL, *pt = NULL;
	size_t rn = 0, pn = 0;
	cct_rd r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cookie || strncmp(cookie, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)) ||
	    strlen(cookie) > CCT_STORE_MAX_CHALLENGE)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "session cookie: expected \"%s\" and at most %u characters",
				   CHALLENGE_PREFIX, CCT_STORE_MAX_CHALLENGE);
	cookie += strlen(CHALLENGE_PREFIX);
	if (cct_jose_b64url_decode(&raw, &rn, cookie, strlen(cookie), NULL) != CCT_OK)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				   "session cookie: not base64url");
	{ /* one spelling per challenge: the session is named by the cookie's text, so a
	   * base64url with other unused low bits in its last character (the same sealed bytes)
	   * must not be another session with the same nonce */
		char *canon = cct_jose_b64url(raw, rn);
		int same = canon && !strcmp(canon, cookie);

		free(canon);
		if (!same) {
			free(raw);
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					   "session cookie: not the base64url this broker issued "
					   "(non-canonical encoding)");
		}
	}
	rc = cct_store_unseal(&pt, &pn, st->challenge_key, CHALLENGE_AAD, raw, rn, err);
	free(raw);
	if (rc != CCT_OK)
		return cct_err_set(err, rc == CCT_EFORMAT ? CCT_EFORMAT : CCT_ESIGNATURE,
				   CCT_STAGE_INPUT, 0,
				   "session cookie was not issued by this broker (or its master key)");
	cct_rd_init(&r, pt, pn);
	out->created = (int64_t)cct_rd_u64le(&r);
	out->expires = (int64_t)cct_rd_u64le(&r);
	take_field(&r, out->tee, sizeof(out->tee));
	take_field(&r, out->nonce, sizeof(out->nonce));
	rc = cct_rd_done(&r, err, "session challenge");
	cct_wipe(pt, pn);
	free(pt);
	if (rc != CCT_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

int cct_store_session_attest_commit(cct_store *st, const cct_store_session *s, const char *meta,
				    int64_t now, const char *audit_record, cct_err *err)
{
	char *col;
	int rc = session_seal_column(&col, st, s, meta, err);

	if (rc != CCT_OK)
		return rc;
	if (st->ops->session_attest_commit) {
		rc = st->ops->session_attest_commit(st->impl, s, now, SESSION_TOKEN_MARK, col,
						    s->tee_pubkey, s->evidence_digest, now,
						    audit_record, err);
	} else if ((rc = session_ensure(st, s, err)) == CCT_OK &&
		   (rc = st->ops->session_consume_nonce(st->impl, s->id, s->nonce, now, err)) ==
			   CCT_OK &&
		 (rc = st->ops->session_set_attested(st->impl, s->id, SESSION_TOKEN_MARK, col,
						     s->tee_pubkey, s->evidence_digest, err)) ==
			 CCT_OK)
		rc = st->ops->audit_append(st->impl, now, audit_record, NULL, err);
	free(col);
	return rc;
}

/* The v2 fields of an unsealed session (pointers into pt, lengths in n). */
static int session_fields_v2(const uint8_t *pt, size_t pn, const char *f[SF_COUNT],
			     size_t n[SF_COUNT])
{
	cct_rd r;
	int i;

	cct_rd_init(&r, pt, pn);
	for (i = 0; i < SF_COUNT; i++) {
		n[i] = cct_rd_u32le(&r);
		f[i] = (const char *)cct_rd_take(&r, n[i]);
	}
	return cct_rd_done(&r, NULL, "sealed session") == CCT_OK;
}

static char *strndup_or_null(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, p, n);
		d[n] = 0;
	}
	return d;
}

/* Fill out from the unsealed v2 or v3 state: CCT_OK, or CCT_ESIGNATURE when it is malformed. */
static int session_from_v2(cct_store_session *out, char **meta, const char *id,
			   const uint8_t *pt, size_t pn, int v3)
{
	const char *f[SF_COUNT];
	size_t n[SF_COUNT];
	char num[24];
	char *end;
	long long exp;

	if (!session_fields_v2(pt, pn, f, n) || n[SF_ID] != strlen(id) ||
	    memcmp(f[SF_ID], id, n[SF_ID]) || n[SF_EXPIRES] == 0 || n[SF_EXPIRES] >= sizeof(num))
		return CCT_ESIGNATURE;
	memcpy(num, f[SF_EXPIRES], n[SF_EXPIRES]);
	num[n[SF_EXPIRES]] = 0;
	exp = strtoll(num, &end, 10);
	if (*end)
		return CCT_ESIGNATURE;
	snprintf(out->tee, sizeof(out->tee), "%.*s", (int)n[SF_TEE], f[SF_TEE]);
	snprintf(out->evidence_digest, sizeof(out->evidence_digest), "%.*s", (int)n[SF_DIGEST],
		 f[SF_DIGEST]);
	out->expires = exp; /* the sealed expiry wins: a database writer cannot extend a session */
	if (v3) { /* the claims whole, the token without its payload */
		if (!n[SF_CLAIMS] || memchr(f[SF_CLAIMS], 0, n[SF_CLAIMS]))
			return CCT_ESIGNATURE;
		if (!(out->claims = strndup_or_null(f[SF_CLAIMS], n[SF_CLAIMS])))
			return CCT_ENOMEM;
		if (!(out->token = cct_jose_jws_attach(f[SF_TOKEN], n[SF_TOKEN], out->claims)))
			return CCT_ESIGNATURE;
	} else {
		out->token = strndup_or_null(f[SF_TOKEN], n[SF_TOKEN]);
		if (n[SF_CLAIMS]) {
			out->claims = strndup_or_null(f[SF_CLAIMS], n[SF_CLAIMS]);
		} else if (out->token && /* the claims are the token's payload */
			   cct_jose_jws_payload_text(&out->claims, NULL, out->token, NULL) !=
				   CCT_OK) {
			return CCT_ESIGNATURE;
		}
	}
	out->tee_pubkey = strndup_or_null(f[SF_PUBKEY], n[SF_PUBKEY]);
	if (meta && n[SF_META])
		*meta = strndup_or_null(f[SF_META], n[SF_META]);
	return out->token && out->claims && out->tee_pubkey ? CCT_OK : CCT_ENOMEM;
}

/* Fill out from the unsealed v1 JSON envelope: CCT_OK, CCT_ESIGNATURE when malformed. */
static int session_from_v1(cct_store_session *out, char **meta, const char *id,
			   const uint8_t *pt, size_t pn)
{
	json_t *env = json_loadb((const char *)pt, pn, 0, NULL);
	int rc;

	if (!env || strcmp(jstr(env, "id"), id) ||
	    !json_is_string(json_object_get(env, "claims")) ||
	    !json_is_string(json_object_get(env, "tee_pubkey")) ||
	    !json_is_string(json_object_get(env, "token"))) {
		json_decref(env);
		return CCT_ESIGNATURE;
	}
	snprintf(out->tee, sizeof(out->tee), "%s", jstr(env, "tee"));
	snprintf(out->evidence_digest, sizeof(out->evidence_digest), "%s",
		 jstr(env, "evidence_digest"));
	out->expires = json_integer_value(json_object_get(env, "expires"));
	out->token = strdup(json_string_value(json_object_get(env, "token")));
	out->claims = strdup(json_string_value(json_object_get(env, "claims")));
	out->tee_pubkey = strdup(json_string_value(json_object_get(env, "tee_pubkey")));
	if (meta && json_object_get(env, "meta"))
		*meta = json_dumps(json_object_get(env, "meta"), JSON_COMPACT);
	rc = out->token && out->claims && out->tee_pubkey ? CCT_OK : CCT_ENOMEM;
	json_decref(env);
	return rc;
}

int cct_store_session_open(cct_store *st, const char *id, cct_store_session *out, char **meta,
			   cct_err *err)
{
	cct_store_session raw;
	uint8_t *sealed = NULL, *pt = NULL;
	size_t sn = 0, pn = 0, plen = 0;
	char aad[128];
	const char *c;
	int rc, v2 = 0, v3 = 0;

	memset(out, 0, sizeof(*out));
	if (meta)
		*meta = NULL;
	if ((rc = st->ops->session_get(st->impl, id, &raw, err)) != CCT_OK)
		return rc;
	if (!raw.claims) { /* not attested: only the (unauthenticated) challenge state */
		*out = raw;
		cct_store_session_clear(out);
		return CCT_OK;
	}
	c = raw.claims;
	if (!strncmp(c, SESSION_SEAL_PREFIX_V3, strlen(SESSION_SEAL_PREFIX_V3))) {
		v2 = v3 = 1;
		plen = strlen(SESSION_SEAL_PREFIX_V3);
	} else if (!strncmp(c, SESSION_SEAL_PREFIX_V2, strlen(SESSION_SEAL_PREFIX_V2))) {
		v2 = 1;
		plen = strlen(SESSION_SEAL_PREFIX_V2);
	} else if (!strncmp(c, SESSION_SEAL_PREFIX, strlen(SESSION_SEAL_PREFIX))) {
		plen = strlen(SESSION_SEAL_PREFIX);
	}
	if (!plen || !session_aad(aad, sizeof(aad), id, v3) ||
	    cct_b64_decode(&sealed, &sn, c + plen, strlen(c) - plen, NULL) != CCT_OK) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_NONE, 0,
				 "session row %.16s is not sealed by this broker (written by "
				 "someone without the master key)", id);
	} else if (cct_store_unseal(&pt, &pn, st->row_key, aad, sealed, sn, NULL) != CCT_OK) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_NONE, 0,
				 "session row %.16s fails its integrity check (tampered, copied or "
				 "another master key)", id);
	} else {
		*out = raw;
		out->token = out->claims = out->tee_pubkey = NULL;
		rc = v2 ? session_from_v2(out, meta, id, pt, pn, v3)
			: session_from_v1(out, meta, id, pt, pn);
		if (rc == CCT_ESIGNATURE)
			cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_NONE, 0,
				    "session row %.16s: sealed state malformed", id);
		else if (rc != CCT_OK)
			cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		if (rc != CCT_OK) {
			cct_store_session_clear(out);
			if (meta) {
				free(*meta);
				*meta = NULL;
			}
		}
	}
	if (pt) {
		cct_wipe(pt, pn);
		free(pt);
	}
	free(sealed);
	cct_store_session_clear(&raw);
	return rc;
}
