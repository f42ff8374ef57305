/* Verification result cache: sharded, bounded LRU keyed on SHA-256 of every input, with the time
 * window of the outcome. See vcache.h for the rules that keep it fail-closed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cctrust/core.h"
#include "x509/vcache.h"
#include "x509/x509.h"

#define SHARDS 16
#define BUCKETS 64 /* per shard, grows with the capacity */

struct cct_vcache_entry {
	uint8_t key[32];
	time_t lo, hi;
	int rc;
	cct_err *err;              /* NULL on success */
	void *obj;
	void (*obj_free)(void *);
	unsigned pins;             /* readers holding it (under the shard lock) */
	int dead;                  /* dropped from the table; freed at the last release */
	struct cct_vcache_entry *hnext;          /* bucket chain */
	struct cct_vcache_entry *prev, *next;    /* LRU list: head = most recent */
	struct shard *shard;
};

struct shard {
	pthread_mutex_t mu;
	cct_vcache_entry **bucket;
	size_t nbucket, count, cap;
	cct_vcache_entry *head, *tail;
	uint64_t hits, misses, inserts, evictions;
};

struct cct_vcache {
	struct shard shard[SHARDS];
};

static int enabled_flag = -1;
static pthread_once_t enabled_once = PTHREAD_ONCE_INIT;

static void enabled_init(void)
{
	const char *v = getenv("CCT_VCACHE");

	enabled_flag = !(v && !strcmp(v, "0"));
}

int cct_vcache_enabled(void)
{
	pthread_once(&enabled_once, enabled_init);
	return enabled_flag;
}

cct_vcache *cct_vcache_new(size_t capacity)
{
	cct_vcache *c;
	size_t i, per;

	if (!cct_vcache_enabled())
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (capacity < SHARDS)
		capacity = SHARDS;
	per = (capacity + SHARDS - 1) / SHARDS;
	for (i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shard[i];

		pthread_mutex_init(&s->mu, NULL);
		s->cap = per;
		s->nbucket = per < BUCKETS ? BUCKETS : per;
		s->bucket = calloc(s->nbucket, sizeof(*s->bucket));
		if (!s->bucket) {
			cct_vcache_free(c);
			return NULL;
		}
	}
	return c;
}

static void entry_destroy(cct_vcache_entry *e)
{
	if (e->obj && e->obj_free)
		e->obj_free(e->obj);
	free(e->err);
	free(e);
}

void cct_vcache_free(cct_vcache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shard[i];
		cct_vcache_entry *e = s->head, *n;

		for (; e; e = n) {
			n = e->next;
			entry_destroy(e);
		}
		free(s->bucket);
		pthread_mutex_destroy(&s->mu);
	}
	free(c);
}

/* the key is already a SHA-256: its bytes are uniformly distributed */
static size_t shard_of(const uint8_t key[32])
{
	return key[0] % SHARDS;
}

static size_t bucket_of(const struct shard *s, const uint8_t key[32])
{
	uint64_t h;

	memcpy(&h, key + 8, sizeof(h));
	return (size_t)(h % s->nbucket);
}

static void lru_unlink(struct shard *s, cct_vcache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct shard *s, cct_vcache_entry *e)
{
	e->prev = NULL;
	e->next = s->head;
	if (s->head)
		s->head->prev = e;
	s->head = e;
	if (!s->tail)
		s->tail = e;
}

/* Remove e from the table and list; returns 1 if the caller must destroy it now. */
static int drop(struct shard *s, cct_vcache_entry *e)
{
	cct_vcache_entry **pp = &s->bucket[bucket_of(s, e->key)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(s, e);
	s->count--;
	e->dead = 1;
	return e->pins == 0;
}

static cct_vcache_entry *find(struct shard *s, const uint8_t key[32])
{
	cct_vcache_entry *e = s->bucket[bucket_of(s, key)];

	while (e && memcmp(e->key, key, 32))
		e = e->hnext;
	return e;
}

cct_vcache_entry *cct_vcache_get(cct_vcache *c, const uint8_t key[32], time_t at)
{
	struct shard *s;
	cct_vcache_entry *e;

	if (!c)
		return NULL;
	s = &c->shard[shard_of(key)];
	pthread_mutex_lock(&s->mu);
	e = find(s, key);
	if (e && at >= e->lo && at <= e->hi) {
		e->pins++;
		if (s->head != e) {
			lru_unlink(s, e);
			lru_push_front(s, e);
		}
		s->hits++;
	} else {
		e = NULL;
		s->misses++;
	}
	pthread_mutex_unlock(&s->mu);
	return e;
}

int cct_vcache_entry_rc(const cct_vcache_entry *e, cct_err *err)
{
	if (e->rc != CCT_OK && err) {
		if (e->err)
			*err = *e->err;
		else
			cct_err_set(err, e->rc, CCT_STAGE_NONE, 0, "check failed (cached)");
	}
	return e->rc;
}

void *cct_vcache_entry_obj(const cct_vcache_entry *e)
{
	return e->obj;
}

void cct_vcache_release(cct_vcache_entry *e)
{
	struct shard *s;
	int destroy;

	if (!e)
		return;
	s = e->shard;
	if (!s) { /* standalone: never in a table */
		entry_destroy(e);
		return;
	}
	pthread_mutex_lock(&s->mu);
	e->pins--;
	destroy = e->dead && e->pins == 0;
	pthread_mutex_unlock(&s->mu);
	if (destroy)
		entry_destroy(e);
}

cct_vcache_entry *cct_vcache_put(cct_vcache *c, const uint8_t key[32], time_t lo, time_t hi,
				 int rc, const cct_err *err, void *obj, void (*obj_free)(void *))
{
	struct shard *s;
	cct_vcache_entry *e, *old, *victim = NULL, *replaced = NULL;

	e = calloc(1, sizeof(*e));
	if (!e)
		goto oom;
	if (rc != CCT_OK) {
		e->err = malloc(sizeof(*e->err));
		if (!e->err) {
			free(e);
			goto oom;
		}
		if (err && err->code)
			*e->err = *err;
		else
			cct_err_set(e->err, rc, CCT_STAGE_NONE, 0, "check failed (cached)");
	}
	memcpy(e->key, key, 32);
	e->lo = lo;
	e->hi = hi;
	e->rc = rc;
	e->obj = obj;
	e->obj_free = obj_free;
	e->pins = 1;
	if (!c || lo > hi)
		return e; /* standalone: the caller's only, freed at release */
	s = &c->shard[shard_of(key)];
	e->shard = s;
	pthread_mutex_lock(&s->mu);
	old = find(s, key);
	if (old && drop(s, old))
		replaced = old;
	if (s->count >= s->cap && s->tail) {
		cct_vcache_entry *t = s->tail;

		if (drop(s, t))
			victim = t;
		s->evictions++;
	}
	{
		size_t b = bucket_of(s, key);

		e->hnext = s->bucket[b];
		s->bucket[b] = e;
	}
	lru_push_front(s, e);
	s->count++;
	s->inserts++;
	pthread_mutex_unlock(&s->mu);
	if (replaced)
		entry_destroy(replaced);
	if (victim)
		entry_destroy(victim);
	return e;
oom:
	if (obj && obj_free)
		obj_free(obj);
	return NULL;
}

void cct_vcache_stats_get(cct_vcache *c, cct_vcache_stats *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	for (i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shard[i];

		pthread_mutex_lock(&s->mu);
		out->hits += s->hits;
		out->misses += s->misses;
		out->inserts += s->inserts;
		out->evictions += s->evictions;
		out->entries += s->count;
		pthread_mutex_unlock(&s->mu);
	}
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_init(void)
{
	/* fetched once: an implicit fetch per digest costs a method-store lookup every time */
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int cct_vcache_key(uint8_t key[32], const char *domain, const cct_vcache_part *parts,
		   size_t count)
{
	EVP_MD_CTX *ctx;
	unsigned int n = 32;
	size_t i;
	uint64_t len;
	int ok;

	pthread_once(&sha256_once, sha256_init);
	ctx = sha256_md ? EVP_MD_CTX_new() : NULL;
	ok = ctx && EVP_DigestInit_ex(ctx, sha256_md, NULL);
	len = strlen(domain);
	ok = ok && EVP_DigestUpdate(ctx, &len, sizeof(len)) &&
	     EVP_DigestUpdate(ctx, domain, (size_t)len);
	for (i = 0; ok && i < count; i++) {
		len = parts[i].n;
		ok = EVP_DigestUpdate(ctx, &len, sizeof(len)) &&
		     (!parts[i].n || EVP_DigestUpdate(ctx, parts[i].p, parts[i].n));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, key, &n);
	EVP_MD_CTX_free(ctx);
	return ok ? 1 : 0;
}

static cct_vcache *shared_cache;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void shared_init(void)
{
	const char *v = getenv("CCT_VCACHE_SIZE");
	long n = v ? strtol(v, NULL, 10) : 0;

	shared_cache = cct_vcache_new(n > 0 ? (size_t)n : 1024);
}

cct_vcache *cct_vcache_shared(void)
{
	pthread_once(&shared_once, shared_init);
	return shared_cache;
}

void cct_vcache_window_cert(time_t *lo, time_t *hi, const X509 *x)
{
	time_t nb, na;

	if (!x || cct_x509_validity(x, &nb, &na) != 0) {
		*lo = CCT_VCACHE_FOREVER_HI; /* empty window: nothing gets cached */
		*hi = CCT_VCACHE_FOREVER_LO;
		return;
	}
	cct_vcache_window(lo, hi, nb, na);
}

void cct_vcache_window_crl(time_t *lo, time_t *hi, const X509_CRL *crl)
{
	const ASN1_TIME *nu = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
	struct tm a, b;

	if (!nu || !ASN1_TIME_to_tm(X509_CRL_get0_lastUpdate(crl), &a) ||
	    !ASN1_TIME_to_tm(nu, &b)) {
		*lo = CCT_VCACHE_FOREVER_HI;
		*hi = CCT_VCACHE_FOREVER_LO;
		return;
	}
	cct_vcache_window(lo, hi, timegm(&a), timegm(&b));
}
