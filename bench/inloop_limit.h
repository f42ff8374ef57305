/* The limit the verifier benchmarks set their rates against, in their own loop: bare OpenSSL
 * ECDSA verifications of one signed digest (the work `openssl speed ecdsapNNN` times), and the
 * CPU clock both are timed with, so that a rate and its limit see the same core at the same
 * moments. Header-only: each benchmark source is a program of its own. */
#ifndef CCT_BENCH_INLOOP_LIMIT_H
#define CCT_BENCH_INLOOP_LIMIT_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

/* CPU time of this process in seconds, like `openssl speed` (not wall-clock: the machine may be
 * shared) */
static inline double bench_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
	EVP_PKEY *key;
	EVP_PKEY_CTX *ctx;
	unsigned char dgst[64], sig[160];
	size_t dgst_len, sig_len;
} bare_ecdsa;

/* a key on curve ("P-256", "P-384") and its signature over a dgst_len-byte digest (<= 64) */
static inline int bare_ecdsa_init(bare_ecdsa *b, const char *curve, size_t dgst_len)
{
	EVP_PKEY_CTX *s = NULL;
	int ok;

	memset(b, 0, sizeof(*b));
	if (dgst_len > sizeof(b->dgst))
		return -1;
	b->dgst_len = dgst_len;
	memset(b->dgst, 0x5a, dgst_len);
	b->sig_len = sizeof(b->sig);
	ok = (b->key = EVP_EC_gen(curve)) != NULL && (s = EVP_PKEY_CTX_new(b->key, NULL)) &&
	     EVP_PKEY_sign_init(s) == 1 &&
	     EVP_PKEY_sign(s, b->sig, &b->sig_len, b->dgst, b->dgst_len) == 1 &&
	     (b->ctx = EVP_PKEY_CTX_new(b->key, NULL)) && EVP_PKEY_verify_init(b->ctx) == 1;
	EVP_PKEY_CTX_free(s);
	return ok ? 0 : -1;
}

static inline int bare_ecdsa_verify(bare_ecdsa *b)
{
	return EVP_PKEY_verify(b->ctx, b->sig, b->sig_len, b->dgst, b->dgst_len) == 1 ? 0 : -1;
}

static inline void bare_ecdsa_free(bare_ecdsa *b)
{
	EVP_PKEY_CTX_free(b->ctx);
	EVP_PKEY_free(b->key);
}

/* One call of a benchmark's loop (i: its index): 0, else non-zero once the callee said why. */
typedef int (*inloop_fn)(void *ctx, long i);

/* An inloop_fn's failure: says which call (i < 0: the warm-up before the loop) and why; -1 */
static inline int inloop_failed(const char *who, long i, const char *why)
{
	if (i < 0)
		fprintf(stderr, "%s: does not verify: %s\n", who, why);
	else
		fprintf(stderr, "%s: iteration %ld failed: %s\n", who, i, why);
	return -1;
}

/* bare_ecdsa_verify as an inloop_fn (ctx: the bare_ecdsa) */
static inline int bare_ecdsa_step(void *ctx, long i)
{
	(void)i;
	return bare_ecdsa_verify(ctx);
}

/* The rate of target next to its limit in one loop: blocks of `block` calls of target alternate
 * with blocks of block * bare_per_call calls of bare (the limit's work for as many target
 * calls), each block timed on its own, until at least iters calls of target. *rate: target
 * calls/s; *limit: the target calls/s the bare work alone allows. 0, or -1 when a call failed. */
static inline int inloop_rates(double *rate, double *limit, long iters, long block,
			       long bare_per_call, inloop_fn target, void *target_ctx, inloop_fn bare,
			       void *bare_ctx)
{
	double t0, t_target = 0, t_bare = 0;
	long i, j;

	for (i = 0; i < iters; i += block) {
		t0 = bench_cpu_s();
		for (j = 0; j < block; j++)
			if (target(target_ctx, i + j) != 0)
				return -1;
		t_target += bench_cpu_s() - t0;
		t0 = bench_cpu_s();
		for (j = 0; j < block * bare_per_call; j++)
			if (bare(bare_ctx, j) != 0)
				return -1;
		t_bare += bench_cpu_s() - t0;
	}
	*rate = (double)i / t_target;
	*limit = (double)i / t_bare;
	return 0;
}

#endif
