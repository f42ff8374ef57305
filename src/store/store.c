#define _GNU_SOURCE
/* Store front: URL dispatch to a back end, secrets sealed with AES-256-GCM, master key. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cctrust/core.h"
#include "cctrust/store.h"

#define SEAL_VERSION 0x01
#define SEAL_NONCE 12
#define SEAL_TAG 16
#define MAX_BACKENDS 4

struct cct_store {
	const cct_store_ops *ops;
	void *impl;
	uint8_t key[CCT_STORE_KEY_SIZE];
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
	cct_store *st;
	cct_store_open_fn fn = NULL;
	int i, rc;

	*out = NULL;
	if (!url || !master_key)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "store: URL and key needed");
	st = calloc(1, sizeof(*st));
	if (!st)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	memcpy(st->key, master_key, CCT_STORE_KEY_SIZE);
	if (!strncmp(url, "sqlite:", 7)) {
		rc = cct_store_sqlite_open(&st->ops, &st->impl, url + 7, err);
	} else {
		pthread_mutex_lock(&backends_lock);
		for (i = 0; i < MAX_BACKENDS; i++)
			if (backends[i].fn &&
			    !strncmp(url, backends[i].prefix, strlen(backends[i].prefix)))
				fn = backends[i].fn;
		pthread_mutex_unlock(&backends_lock);
		rc = fn ? fn(&st->ops, &st->impl, url, err)
			: cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				      "store URL must be sqlite:PATH or postgres://... (a back end "
				      "this build has)");
	}
	if (rc != CCT_OK) {
		cct_wipe(st->key, sizeof(st->key));
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
	free(st);
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

static int sealed_aad(char *aad, size_t size, const char *kind, const char *name)
{
	return kind && name && strlen(name) <= CCT_STORE_MAX_NAME &&
	       snprintf(aad, size, "cctrust-store:%s:%s", kind, name) < (int)size;
}

/* put (create == NULL) or create-if-absent */
static int sealed_write(cct_store *st, const char *kind, const char *name, const uint8_t *v,
			size_t n, int64_t now, int *created, cct_err *err)
{
	char aad[CCT_STORE_MAX_NAME + 64];
	uint8_t *sealed = NULL;
	size_t sn = 0;
	int rc;

	if (!sealed_aad(aad, sizeof(aad), kind, name))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "object name too long");
	if (created && !st->ops->obj_create)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_NONE, 0,
				   "store back end %s cannot create-if-absent", st->ops->name);
	rc = cct_store_seal(&sealed, &sn, st->key, aad, v, n, err);
	if (rc == CCT_OK)
		rc = created ? st->ops->obj_create(st->impl, kind, name, sealed, sn, now, created,
						   err)
			     : st->ops->obj_put(st->impl, kind, name, sealed, sn, now, err);
	free(sealed);
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
	char aad[CCT_STORE_MAX_NAME + 64];
	uint8_t *sealed = NULL;
	size_t sn = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (!sealed_aad(aad, sizeof(aad), kind, name))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "object name too long");
	rc = st->ops->obj_get(st->impl, kind, name, &sealed, &sn, err);
	if (rc == CCT_OK)
		rc = cct_store_unseal(v, n, st->key, aad, sealed, sn, err);
	free(sealed);
	return rc;
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
