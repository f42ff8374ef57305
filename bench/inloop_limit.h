/* The limit the verifier benchmarks set their rates against, in their own loop: bare OpenSSL
 * ECDSA verifications of one signed digest (the work `openssl speed ecdsapNNN` times), and the
 * CPU clock both are timed with, so that a rate and its limit see the same core at the same
 * moments. Header-only: each benchmark source is a program of its own. */
#ifndef CCT_BENCH_INLOOP_LIMIT_H
#define CCT_BENCH_INLOOP_LIMIT_H

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

#endif
