#define _POSIX_C_SOURCE 200809L
/* Precomputed ECDSA nonces for the simulators (src/sim/presign.c, cct_sim_presign_start): a
 * signature made with a precomputed nonce verifies under its key and no other digest, no
 * nonce is used twice (every r differs), one pool serves every P-384 key, a P-256 key and a
 * stopped or never started pool sign as usual, and the depth is bounded. The simulated SNP
 * report and SPDM signatures that go through it are verified end to end by the kbs and nvgpu
 * tests (tests/kbs/e2e_loadgen.sh runs the load generator, which starts the pool). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cct_test.h"
#include "cctrust/sim.h"
#include "sim/presign.h"

#define SIGS 64

static int verifies(EVP_PKEY *key, const uint8_t dgst[48], const ECDSA_SIG *sig)
{
	unsigned char *der = NULL;
	int n = i2d_ECDSA_SIG(sig, &der), ok;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);

	ok = n > 0 && c && EVP_PKEY_verify_init(c) == 1 &&
	     EVP_PKEY_verify(c, der, (size_t)n, dgst, 48) == 1;
	EVP_PKEY_CTX_free(c);
	OPENSSL_free(der);
	return ok;
}

static unsigned long presigned(void)
{
	unsigned long p = 0;

	cct_sim_presign_counts(&p, NULL);
	return p;
}

static unsigned long inline_signed(void)
{
	unsigned long i = 0;

	cct_sim_presign_counts(NULL, &i);
	return i;
}

/* sign once with key; true when that signature took a precomputed nonce */
static int sign_took_pair(EVP_PKEY *key, const uint8_t dgst[48], ECDSA_SIG **out)
{
	unsigned long before = presigned();

	*out = cct_sim__ecdsa_sign(key, dgst, 48);
	return presigned() == before + 1;
}

/* wait (bounded: 5 s) until the filler has a pair ready for key; 1 when one was used */
static int wait_for_pair(EVP_PKEY *key, const uint8_t dgst[48])
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	ECDSA_SIG *sig = NULL;
	int i, took = 0;

	for (i = 0; i < 500 && !took; i++) {
		nanosleep(&ts, NULL);
		took = sign_took_pair(key, dgst, &sig);
		assert_non_null(sig);
		assert_true(verifies(key, dgst, sig));
		ECDSA_SIG_free(sig);
	}
	return took;
}

static void signs_as_usual_without_a_pool(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	uint8_t dgst[48];
	ECDSA_SIG *sig;
	unsigned long inl = inline_signed();

	(void)state;
	assert_non_null(key);
	RAND_bytes(dgst, sizeof(dgst));
	assert_false(sign_took_pair(key, dgst, &sig));
	assert_non_null(sig);
	assert_true(verifies(key, dgst, sig));
	assert_int_equal(inline_signed(), inl + 1);
	ECDSA_SIG_free(sig);
	/* not a digest a signature can be made over */
	assert_null(cct_sim__ecdsa_sign(key, dgst, 0));
	assert_null(cct_sim__ecdsa_sign(NULL, dgst, 48));
	EVP_PKEY_free(key);
}

static void depth_bounded(void **state)
{
	cct_err err;

	(void)state;
	assert_int_equal(cct_sim_presign_start(0, 0, &err), CCT_EINVAL);
	assert_int_equal(cct_sim_presign_start(4097, 0, &err), CCT_EINVAL);
	cct_sim_presign_stop(); /* nothing started: nothing to stop */
}

/* Every presigned signature verifies under its own key over its own digest only, two keys
 * share the pool, and no r repeats (a repeated r would be a reused nonce). */
static void presigned_signatures_verify_and_never_share_a_nonce(void **state)
{
	EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t dgst[SIGS][48], other[48];
	BIGNUM *r[SIGS];
	ECDSA_SIG *sig;
	const BIGNUM *sr, *ss;
	cct_err err;
	int i, j, took = 0;
	unsigned long inl;

	(void)state;
	assert_non_null(k1);
	assert_non_null(k2);
	assert_non_null(p256);
	/* at the test's own priority: on a CI box busy with other tests an idle-priority filler
	 * could wait for seconds (the load generator's idle priority is in e2e_loadgen.sh) */
	assert_int_equal(cct_sim_presign_start(8, 0, &err), CCT_OK);
	assert_int_equal(cct_sim_presign_start(8, 0, &err), CCT_OK); /* again: no change */
	for (i = 0; i < SIGS; i++) /* before the first signature, which signs dgst[0] */
		assert_int_equal(RAND_bytes(dgst[i], 48), 1);
	assert_true(wait_for_pair(k1, dgst[0]));
	for (i = 0; i < SIGS; i++) {
		EVP_PKEY *k = i % 2 ? k2 : k1;

		if (i % 8 == 0) /* let the filler catch up now and then (it also signs) */
			wait_for_pair(k, dgst[i]);
		took += sign_took_pair(k, dgst[i], &sig);
		assert_non_null(sig);
		assert_true(verifies(k, dgst[i], sig));
		memcpy(other, dgst[i], 48);
		other[0] ^= 1;
		assert_false(verifies(k, other, sig));
		assert_false(verifies(i % 2 ? k1 : k2, dgst[i], sig));
		ECDSA_SIG_get0(sig, &sr, &ss);
		r[i] = BN_dup(sr);
		assert_non_null(r[i]);
		ECDSA_SIG_free(sig);
	}
	assert_true(took > 0);
	for (i = 0; i < SIGS; i++)
		for (j = i + 1; j < SIGS; j++)
			assert_int_not_equal(BN_cmp(r[i], r[j]), 0);
	/* a P-256 key is signed as usual, pool or not */
	inl = inline_signed();
	assert_false(sign_took_pair(p256, dgst[0], &sig));
	assert_non_null(sig);
	assert_true(verifies(p256, dgst[0], sig));
	assert_int_equal(inline_signed(), inl + 1);
	ECDSA_SIG_free(sig);
	/* stopped: as usual again, and it starts again */
	cct_sim_presign_stop();
	cct_sim_presign_stop();
	assert_false(sign_took_pair(k1, dgst[1], &sig));
	assert_true(verifies(k1, dgst[1], sig));
	ECDSA_SIG_free(sig);
	/* idle priority: its signatures verify, whether a pair was ready or not (on a busy
	 * machine the filler may not have run yet) */
	assert_int_equal(cct_sim_presign_start(1, CCT_SIM_PRESIGN_IDLE, &err), CCT_OK);
	wait_for_pair(k2, dgst[2]);
	cct_sim_presign_stop();
	for (i = 0; i < SIGS; i++)
		BN_free(r[i]);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(p256);
}

/* A budget: the filler makes exactly that many pairs (waited for, before any signature), the
 * signatures take them, and past the budget they are made as usual; nothing waits forever. */
static void budget_then_inline(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	uint8_t dgst[48];
	ECDSA_SIG *sig;
	cct_err err;
	int i;

	(void)state;
	assert_non_null(key);
	RAND_bytes(dgst, sizeof(dgst));
	assert_int_equal(cct_sim_presign_wait(4, 10), 0); /* no filler: at once, none */
	assert_int_equal(cct_sim_presign_start(16, 0, &err), CCT_OK);
	cct_sim_presign_budget(5);
	/* the pool may hold pairs made before the budget was set: at most 16 in all */
	assert_true(cct_sim_presign_wait(16, 20000) >= 5);
	for (i = 0; i < 5; i++) {
		assert_true(sign_took_pair(key, dgst, &sig));
		assert_true(verifies(key, dgst, sig));
		ECDSA_SIG_free(sig);
	}
	/* budget spent: the filler has stopped, the pool runs dry and signing goes on inline */
	for (i = 0; i < 22 && sign_took_pair(key, dgst, &sig); i++) /* 16 + 5 at most */
		ECDSA_SIG_free(sig);
	assert_true(i < 22);
	assert_non_null(sig);
	assert_true(verifies(key, dgst, sig));
	ECDSA_SIG_free(sig);
	assert_int_equal(cct_sim_presign_wait(1, 50), 0); /* stopped filler: no wait */
	cct_sim_presign_stop();
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signs_as_usual_without_a_pool),
		cmocka_unit_test(depth_bounded),
		cmocka_unit_test(presigned_signatures_verify_and_never_share_a_nonce),
		cmocka_unit_test(budget_then_inline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
