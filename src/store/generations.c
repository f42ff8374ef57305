#define _GNU_SOURCE
/* Row generations (generations.h): an open-addressing table of row id -> newest generation,
 * under one mutex, saved as JSON {"format", "generations": {id: N}, "mac"} with an
 * HMAC-SHA-256 over the generations object's canonical text. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cctrust/core.h"
#include "store/generations.h"

#define GENS_FORMAT "cctrust-store-generations/v1"
#define GENS_MAX_FILE (64u << 20)

typedef struct gen_slot {
	char *id; /* NULL: empty */
	uint64_t gen;
} gen_slot;

struct cct_store_gens {
	pthread_mutex_t lock;
	char *path;
	uint8_t mac_key[32];
	gen_slot *slot;
	size_t cap, used; /* cap a power of two, used <= cap / 2 */
};

static size_t hash_of(const char *s)
{
	size_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static gen_slot *find(const cct_store_gens *g, const char *id)
{
	size_t i;

	if (!g->cap)
		return NULL;
	for (i = hash_of(id) & (g->cap - 1);; i = (i + 1) & (g->cap - 1))
		if (!g->slot[i].id || !strcmp(g->slot[i].id, id))
			return &g->slot[i];
}

static int grow(cct_store_gens *g)
{
	size_t cap = g->cap ? g->cap * 2 : 64, i, j;
	gen_slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -1;
	for (i = 0; i < g->cap; i++) {
		if (!g->slot[i].id)
			continue;
		for (j = hash_of(g->slot[i].id) & (cap - 1); s[j].id; j = (j + 1) & (cap - 1))
			;
		s[j] = g->slot[i];
	}
	free(g->slot);
	g->slot = s;
	g->cap = cap;
	return 0;
}

/* Set id to gen (insert or raise). -1 out of memory. */
static int set(cct_store_gens *g, const char *id, uint64_t gen)
{
	gen_slot *s;

	if ((g->used + 1) * 2 > g->cap && grow(g) != 0)
		return -1;
	s = find(g, id);
	if (!s->id) {
		if (!(s->id = strdup(id)))
			return -1;
		g->used++;
	}
	s->gen = gen;
	return 0;
}

/* The generations object (every id, with `extra` set to its generation on top when given). */
static json_t *gens_json(const cct_store_gens *g, const char *extra, uint64_t extra_gen)
{
	json_t *o = json_object();
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < g->cap; i++)
		if (g->slot[i].id &&
		    json_object_set_new(o, g->slot[i].id, json_integer((json_int_t)g->slot[i].gen)))
			goto fail;
	if (extra && json_object_set_new(o, extra, json_integer((json_int_t)extra_gen)))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* HMAC-SHA-256 of the canonical text of gens, as hex. */
static int mac_hex(char out[65], const uint8_t key[32], const json_t *gens)
{
	char *text = json_dumps(gens, JSON_COMPACT | JSON_SORT_KEYS);
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM p[2];
	uint8_t d[32];
	size_t dn = 0;
	int ok;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	ok = text && c && EVP_MAC_init(c, key, 32, p) > 0 &&
	     EVP_MAC_update(c, (const uint8_t *)text, strlen(text)) > 0 &&
	     EVP_MAC_final(c, d, &dn, sizeof(d)) > 0 && dn == 32;
	if (ok)
		cct_hex_encode(out, d, 32);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	free(text);
	return ok ? 0 : -1;
}

static int save(const cct_store_gens *g, const char *extra, uint64_t extra_gen, cct_err *err)
{
	json_t *gens = gens_json(g, extra, extra_gen), *doc;
	char mac[65], *text;
	int rc;

	if (!gens || mac_hex(mac, g->mac_key, gens) != 0) {
		json_decref(gens);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0,
				   "generation file %s: out of memory", g->path);
	}
	doc = json_pack("{s:s, s:o, s:s}", "format", GENS_FORMAT, "generations", gens, "mac", mac);
	text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0,
				   "generation file %s: out of memory", g->path);
	rc = cct_file_write(g->path, text, strlen(text), 1, err);
	free(text);
	return rc;
}

static int load(cct_store_gens *g, cct_err *err)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	json_error_t je;
	json_t *doc = NULL, *gens, *v;
	const char *k, *fmt, *mac;
	char want[65];
	struct stat st;
	int rc = CCT_OK;

	if (stat(g->path, &st) != 0 && errno == ENOENT)
		return CCT_OK; /* the first run: created on the first write */
	if ((rc = cct_file_read(&buf, &n, g->path, GENS_MAX_FILE, err)) != CCT_OK)
		return rc;
	doc = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	fmt = json_string_value(json_object_get(doc, "format"));
	mac = json_string_value(json_object_get(doc, "mac"));
	gens = json_object_get(doc, "generations");
	if (!doc || !fmt || strcmp(fmt, GENS_FORMAT) != 0 || !mac || !json_is_object(gens)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "generation file %s: not a %s document", g->path, GENS_FORMAT);
		goto out;
	}
	if (mac_hex(want, g->mac_key, gens) != 0) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	if (strlen(mac) != 64 || CRYPTO_memcmp(want, mac, 64) != 0) {
		rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_INPUT, 0,
				 "generation file %s: its MAC does not verify under this master "
				 "key (edited, or another broker's)",
				 g->path);
		goto out;
	}
	json_object_foreach(gens, k, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "generation file %s: %s: not a generation", g->path, k);
			goto out;
		}
		if (set(g, k, (uint64_t)json_integer_value(v)) != 0) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
	}
out:
	json_decref(doc);
	return rc;
}

void cct_store__gens_free(cct_store_gens *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->cap; i++)
		free(g->slot[i].id);
	free(g->slot);
	free(g->path);
	cct_wipe(g->mac_key, sizeof(g->mac_key));
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int cct_store__gens_open(cct_store_gens **out, const char *path, const uint8_t mac_key[32],
			 cct_err *err)
{
	cct_store_gens *g = calloc(1, sizeof(*g));
	int rc;

	*out = NULL;
	if (!g)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	pthread_mutex_init(&g->lock, NULL);
	memcpy(g->mac_key, mac_key, 32);
	if (path && !(g->path = strdup(path))) {
		cct_store__gens_free(g);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	if (g->path && (rc = load(g, err)) != CCT_OK) {
		cct_store__gens_free(g);
		return rc;
	}
	*out = g;
	return CCT_OK;
}

uint64_t cct_store__gens_known(cct_store_gens *g, const char *id)
{
	gen_slot *s;
	uint64_t v;

	pthread_mutex_lock(&g->lock);
	s = find(g, id);
	v = s && s->id ? s->gen : 0;
	pthread_mutex_unlock(&g->lock);
	return v;
}

int cct_store__gens_observe(cct_store_gens *g, const char *id, uint64_t gen, uint64_t floor,
			    cct_err *err)
{
	gen_slot *s;
	uint64_t known;
	int rc = CCT_OK;

	if (gen < floor)
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_NONE, 0,
				   "sealed row %s is generation %llu, older than generation %llu "
				   "this broker has written or read: rolled back in the database",
				   id, (unsigned long long)gen, (unsigned long long)floor);
	pthread_mutex_lock(&g->lock);
	s = find(g, id);
	known = s && s->id ? s->gen : 0;
	if (gen > known) {
		/* the file first: a generation is known only once it survives a restart */
		if (g->path)
			rc = save(g, id, gen, err);
		if (rc == CCT_OK && set(g, id, gen) != 0)
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}
