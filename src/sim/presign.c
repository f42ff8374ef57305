#define _GNU_SOURCE
/* Precomputed ECDSA nonces for the simulators' P-384 signatures (cctrust/sim.h,
 * cct_sim_presign_start). A load generator builds two P-384 signatures per simulated guest
 * flow (SNP report, SPDM measurements); the scalar multiplication k*G is almost all of each.
 * A thread at SCHED_IDLE priority computes (k^-1 mod n, r = x(kG) mod n) pairs ahead, on CPU
 * time nothing else wants, and a signature takes one: s = k^-1 (z + r d) mod n, by OpenSSL.
 *
 * k is drawn by OpenSSL (ECDSA_sign_setup: uniform in [1, n)), and (k^-1, r) depend only on
 * the curve, not on the signing key, so one pool serves every P-384 key. A pair is popped
 * under the lock by exactly one signer and wiped after its one use: no nonce is ever used
 * twice. With the pool empty, stopped or never started, signing is EVP_PKEY_sign as before.
 *
 * ECDSA_sign_setup and ECDSA_do_sign_ex are deprecated in OpenSSL 3.0 (the EVP interface has
 * no way to pass a nonce); they stay available unless OpenSSL is built without the 3.0
 * deprecated API, and then this file signs as usual and the pool never starts. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "cctrust/sim.h"
#include "sim/presign.h"

#define PRESIGN_MAX_DEPTH 4096u

typedef struct nonce_pair {
	BIGNUM *kinv, *r;
} nonce_pair;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t room;  /* the filler waits here while the pool is full */
	pthread_cond_t added; /* cct_sim_presign_wait waits here for the filler */
	int running;          /* the filler thread exists (started, not yet joined) */
	int stopping;
	int idle;             /* the filler runs at SCHED_IDLE */
	int done;             /* the filler stopped (budget spent, or no nonce could be made) */
	pthread_t thread;
	nonce_pair *pool;
	unsigned depth, count;
	unsigned long budget; /* pairs the filler may still make; ULONG_MAX: no bound */
} g = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.room = PTHREAD_COND_INITIALIZER,
	.added = PTHREAD_COND_INITIALIZER };
static atomic_ulong presigned_count, inline_count; /* signatures made each way */

static void pair_wipe(nonce_pair *p)
{
	BN_clear_free(p->kinv);
	BN_clear_free(p->r);
	p->kinv = p->r = NULL;
}

#ifndef OPENSSL_NO_DEPRECATED_3_0
static void *filler(void *arg)
{
	EC_KEY *setup_key = arg; /* a throwaway P-384 key: ECDSA_sign_setup wants one */
	struct sched_param sp = { 0 };
	BN_CTX *ctx = BN_CTX_new();
	nonce_pair p;

	/* best effort: without SCHED_IDLE the filler still only works while the pool has room */
	if (g.idle)
		pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	for (;;) {
		pthread_mutex_lock(&g.lock);
		while (!g.stopping && g.budget > 0 && g.count >= g.depth)
			pthread_cond_wait(&g.room, &g.lock);
		if (g.stopping || g.budget == 0) {
			pthread_mutex_unlock(&g.lock);
			break;
		}
		pthread_mutex_unlock(&g.lock);
		p.kinv = p.r = NULL;
		if (!ctx || ECDSA_sign_setup(setup_key, ctx, &p.kinv, &p.r) != 1) {
			ERR_clear_error();
			pair_wipe(&p);
			break; /* signing goes on as usual */
		}
		pthread_mutex_lock(&g.lock);
		if (!g.stopping && g.count < g.depth) {
			g.pool[g.count++] = p;
			p.kinv = p.r = NULL;
			if (g.budget != ULONG_MAX)
				g.budget--;
			pthread_cond_broadcast(&g.added);
		}
		pthread_mutex_unlock(&g.lock);
		pair_wipe(&p);
	}
	pthread_mutex_lock(&g.lock);
	g.done = 1;
	pthread_cond_broadcast(&g.added);
	pthread_mutex_unlock(&g.lock);
	BN_CTX_free(ctx);
	EC_KEY_free(setup_key);
	return NULL;
}
#endif

int cct_sim_presign_start(unsigned depth, unsigned flags, cct_err *err)
{
#ifdef OPENSSL_NO_DEPRECATED_3_0
	(void)depth;
	(void)flags;
	return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0,
			   "this OpenSSL has no ECDSA_sign_setup: signatures are made as usual");
#else
	EC_KEY *setup_key;
	nonce_pair *pool;
	int rc = CCT_OK;

	if (depth < 1 || depth > PRESIGN_MAX_DEPTH)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "presign depth %u: 1..%u", depth, PRESIGN_MAX_DEPTH);
	pthread_mutex_lock(&g.lock);
	if (g.running) {
		pthread_mutex_unlock(&g.lock);
		return CCT_OK;
	}
	setup_key = EC_KEY_new_by_curve_name(NID_secp384r1);
	pool = calloc(depth, sizeof(*pool));
	if (!setup_key || !pool || EC_KEY_generate_key(setup_key) != 1) {
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "presign: no P-384 key");
		goto fail;
	}
	g.pool = pool;
	g.depth = depth;
	g.count = 0;
	g.stopping = 0;
	g.done = 0;
	g.budget = ULONG_MAX;
	g.idle = (flags & CCT_SIM_PRESIGN_IDLE) != 0;
	if (pthread_create(&g.thread, NULL, filler, setup_key) != 0) {
		g.pool = NULL;
		g.depth = 0;
		rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "presign: no thread");
		goto fail;
	}
	g.running = 1;
	pthread_mutex_unlock(&g.lock);
	return CCT_OK;
fail:
	pthread_mutex_unlock(&g.lock);
	ERR_clear_error();
	EC_KEY_free(setup_key);
	free(pool);
	return rc;
#endif
}

void cct_sim_presign_stop(void)
{
	pthread_t t;
	unsigned i;

	pthread_mutex_lock(&g.lock);
	if (!g.running) {
		pthread_mutex_unlock(&g.lock);
		return;
	}
	g.stopping = 1;
	t = g.thread;
	pthread_cond_broadcast(&g.room);
	pthread_mutex_unlock(&g.lock);
	pthread_join(t, NULL);
	pthread_mutex_lock(&g.lock);
	for (i = 0; i < g.count; i++)
		pair_wipe(&g.pool[i]);
	free(g.pool);
	g.pool = NULL;
	g.count = g.depth = 0;
	g.running = 0;
	pthread_mutex_unlock(&g.lock);
}

void cct_sim_presign_budget(unsigned long pairs)
{
	pthread_mutex_lock(&g.lock);
	if (g.running) {
		g.budget = pairs ? pairs : ULONG_MAX;
		pthread_cond_broadcast(&g.room);
	}
	pthread_mutex_unlock(&g.lock);
}

unsigned cct_sim_presign_wait(unsigned want, unsigned timeout_ms)
{
	struct timespec until;
	unsigned have;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g.lock);
	if (want > g.depth)
		want = g.depth;
	while (g.running && !g.done && g.count < want && g.budget > 0)
		if (pthread_cond_timedwait(&g.added, &g.lock, &until) != 0)
			break;
	have = g.count;
	pthread_mutex_unlock(&g.lock);
	return have;
}

void cct_sim_presign_counts(unsigned long *presigned, unsigned long *inline_signed)
{
	if (presigned)
		*presigned = atomic_load(&presigned_count);
	if (inline_signed)
		*inline_signed = atomic_load(&inline_count);
}

/* One ready pair for a P-384 key (it is the caller's alone now), or 0. */
static int take_pair(nonce_pair *p, EVP_PKEY *key)
{
	int got = 0;

	p->kinv = p->r = NULL;
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 384)
		return 0;
	pthread_mutex_lock(&g.lock);
	if (g.count > 0) {
		*p = g.pool[--g.count];
		g.pool[g.count].kinv = g.pool[g.count].r = NULL;
		got = 1;
		pthread_cond_signal(&g.room);
	}
	pthread_mutex_unlock(&g.lock);
	return got;
}

ECDSA_SIG *cct_sim__ecdsa_sign(EVP_PKEY *key, const uint8_t *dgst, size_t n)
{
	EVP_PKEY_CTX *c;
	unsigned char der[160];
	const unsigned char *q = der;
	size_t dl = sizeof(der);
	ECDSA_SIG *sig = NULL;
	nonce_pair p;

	if (!key || !dgst || n == 0 || n > 64)
		return NULL;
#ifndef OPENSSL_NO_DEPRECATED_3_0
	if (take_pair(&p, key)) {
		EC_KEY *ek = EVP_PKEY_get1_EC_KEY(key);

		if (ek)
			sig = ECDSA_do_sign_ex(dgst, (int)n, p.kinv, p.r, ek);
		EC_KEY_free(ek);
		pair_wipe(&p);
		if (sig) {
			atomic_fetch_add(&presigned_count, 1);
			return sig;
		}
		ERR_clear_error(); /* s = 0 with this nonce (never in practice): sign as usual */
	}
#else
	(void)p;
#endif
	c = EVP_PKEY_CTX_new(key, NULL);
	if (c && EVP_PKEY_sign_init(c) == 1 && EVP_PKEY_sign(c, der, &dl, dgst, n) == 1)
		sig = d2i_ECDSA_SIG(NULL, &q, (long)dl);
	EVP_PKEY_CTX_free(c);
	if (sig)
		atomic_fetch_add(&inline_count, 1);
	else
		ERR_clear_error();
	return sig;
}

int cct_sim__ecdsa_sign_raw(EVP_PKEY *key, const uint8_t *dgst, size_t n, uint8_t *rs,
			    size_t width)
{
	ECDSA_SIG *sig = cct_sim__ecdsa_sign(key, dgst, n);
	const BIGNUM *r, *s;
	int ok = -1;

	if (!sig)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, rs, (int)width) == (int)width &&
	    BN_bn2binpad(s, rs + width, (int)width) == (int)width)
		ok = 0;
	ECDSA_SIG_free(sig);
	return ok;
}
