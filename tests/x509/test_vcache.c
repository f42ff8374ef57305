/* x509/vcache: the verification cache shared by the TDX, SNP and GPU verifiers. The cache itself
 * (windows, failures replayed, LRU bound, pins surviving eviction, concurrent use) and, on real
 * vectors, that a warm cache never turns a failure into a success: expiry is re-checked when the
 * verification time moves, tampered inputs miss, a cached failure stays a failure. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/snp.h"
#include "cctrust/tdx.h"
#include "x509/vcache.h"
#include "x509/x509.h"

static time_t T(const char *s)
{
	time_t t = 0;

	assert_int_equal(cct_time_parse(&t, s, NULL), CCT_OK);
	return t;
}

static void key_of(uint8_t key[32], const char *what)
{
	cct_vcache_part p = { what, strlen(what) };

	assert_int_equal(cct_vcache_key(key, "test", &p, 1), 1);
}

static int freed;
static void count_free(void *p)
{
	free(p);
	freed++;
}

static void windows_and_failures(void **state)
{
	cct_vcache *c = cct_vcache_new(64);
	cct_vcache_entry *e;
	uint8_t k[32], k2[32];
	cct_err err, got;

	(void)state;
	assert_non_null(c); /* (not run with CCT_VCACHE=0) */
	key_of(k, "chain A");
	/* part boundaries are part of the key */
	{
		cct_vcache_part a[2] = { { "ab", 2 }, { "c", 1 } }, b[2] = { { "a", 1 }, { "bc", 2 } };

		uint8_t k3[32];

		assert_int_equal(cct_vcache_key(k2, "test", a, 2), 1);
		assert_int_equal(cct_vcache_key(k3, "test", b, 2), 1);
		assert_memory_not_equal(k2, k3, 32);
	}
	cct_vcache_release(cct_vcache_put(c, k, 100, 200, CCT_OK, NULL, NULL, NULL));
	assert_null(cct_vcache_get(c, k, 99));
	assert_null(cct_vcache_get(c, k, 201));
	e = cct_vcache_get(c, k, 100);
	assert_non_null(e);
	assert_int_equal(cct_vcache_entry_rc(e, NULL), CCT_OK);
	cct_vcache_release(e);
	e = cct_vcache_get(c, k, 200);
	assert_non_null(e);
	cct_vcache_release(e);
	/* a failure replaces it and is replayed with its exact error, only at its own time */
	cct_err_set(&err, CCT_EEXPIRED, CCT_STAGE_CHAIN, 7, "leaf expired");
	cct_vcache_release(cct_vcache_put(c, k, 250, 250, CCT_EEXPIRED, &err, NULL, NULL));
	assert_null(cct_vcache_get(c, k, 150));
	e = cct_vcache_get(c, k, 250);
	assert_non_null(e);
	memset(&got, 0, sizeof(got));
	assert_int_equal(cct_vcache_entry_rc(e, &got), CCT_EEXPIRED);
	assert_int_equal(got.stage, CCT_STAGE_CHAIN);
	assert_int_equal(got.offset, 7);
	assert_string_equal(got.msg, "leaf expired");
	cct_vcache_release(e);
	/* an empty window is never remembered, but the caller still gets its entry */
	key_of(k2, "chain B");
	e = cct_vcache_put(c, k2, 10, 5, CCT_OK, NULL, malloc(8), count_free);
	assert_non_null(e);
	freed = 0;
	cct_vcache_release(e);
	assert_int_equal(freed, 1);
	assert_null(cct_vcache_get(c, k2, 7));
	cct_vcache_free(c);
}

static void bounded_and_pinned(void **state)
{
	cct_vcache *c = cct_vcache_new(32);
	cct_vcache_entry *pinned;
	cct_vcache_stats st;
	uint8_t k[32], first[32];
	char name[32];
	int i;

	(void)state;
	assert_non_null(c);
	freed = 0;
	key_of(first, "entry 0");
	pinned = cct_vcache_put(c, first, CCT_VCACHE_FOREVER_LO, CCT_VCACHE_FOREVER_HI, CCT_OK,
				NULL, strdup("object 0"), count_free);
	assert_non_null(pinned);
	for (i = 1; i < 1000; i++) {
		snprintf(name, sizeof(name), "entry %d", i);
		key_of(k, name);
		cct_vcache_release(cct_vcache_put(c, k, 0, 10, CCT_OK, NULL, strdup(name),
						  count_free));
	}
	cct_vcache_stats_get(c, &st);
	assert_true(st.entries <= 32 + 16); /* capacity, rounded up per shard */
	assert_true(st.evictions >= 1000 - 48);
	/* entry 0 was evicted long ago, but its object lives while pinned */
	assert_null(cct_vcache_get(c, first, 0));
	assert_string_equal((const char *)cct_vcache_entry_obj(pinned), "object 0");
	{
		int before = freed;

		cct_vcache_release(pinned);
		assert_int_equal(freed, before + 1);
	}
	cct_vcache_free(c);
	assert_int_equal(freed, 1000); /* every object freed exactly once */
}

static cct_vcache *shared_c;
static void *hammer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint8_t k[32];
	char name[32];
	int i;

	for (i = 0; i < 20000; i++) {
		cct_vcache_entry *e;

		snprintf(name, sizeof(name), "k%d", (int)((i * 7 + id) % 200));
		key_of(k, name);
		e = cct_vcache_get(shared_c, k, 5);
		if (e) {
			/* the object always matches its key */
			if (strcmp(cct_vcache_entry_obj(e), name))
				return (void *)1;
			cct_vcache_release(e);
		} else {
			cct_vcache_release(cct_vcache_put(shared_c, k, 0, 10, CCT_OK, NULL,
							  strdup(name), free));
		}
	}
	return NULL;
}

static void concurrent(void **state)
{
	pthread_t t[4];
	void *r;
	uintptr_t i;

	(void)state;
	shared_c = cct_vcache_new(64);
	assert_non_null(shared_c);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	cct_vcache_free(shared_c);
}

/* ---- on real vectors, through the verifiers ---- */

#define PH "tdx/phala-dcap-qvl/"

static int tdx_at(const uint8_t *q, size_t n, cct_tdx_collateral *c, const char *at, cct_err *err)
{
	cct_tdx_verify_opts o;
	cct_tdx_result r;

	memset(&o, 0, sizeof(o));
	o.at = T(at);
	o.collateral = c;
	return cct_tdx_verify(&r, q, n, &o, err);
}

static void tdx_warm_cache_stays_closed(void **state)
{
	size_t n, i;
	uint8_t *q = cct_test_read_vector(PH "sample/tdx_quote", &n), *bad;
	cct_tdx_collateral *c = NULL;
	cct_err err;
	int k;

	(void)state;
	assert_int_equal(cct_tdx_collateral_load(&c, cct_test_vector_path(
						       PH "sample/tdx_quote_collateral.json"),
						 &err),
			 CCT_OK);
	for (k = 0; k < 2; k++) { /* second round: every outcome comes from the cache */
		assert_int_equal(tdx_at(q, n, c, "2025-07-19T10:00:34Z", &err), CCT_OK);
		/* later than the collateral's nextUpdate: stale, although a success is cached */
		assert_int_equal(tdx_at(q, n, c, "2026-06-01T00:00:00Z", &err), CCT_ECOLLATERAL);
		assert_int_equal(err.stage, CCT_STAGE_COLLATERAL);
		/* before it was issued */
		assert_int_equal(tdx_at(q, n, c, "2024-01-01T00:00:00Z", &err), CCT_ECOLLATERAL);
		assert_int_equal(tdx_at(q, n, c, "2025-07-19T10:00:35Z", &err), CCT_OK);
	}
	/* tampered PCK certificate chain text (inside the leaf's base64) with the genuine one
	 * cached: a different key, so the tampered chain is checked and refused */
	bad = malloc(n);
	assert_non_null(bad);
	memcpy(bad, q, n);
	for (i = 0; i + 27 < n; i++)
		if (!memcmp(bad + i, "-----BEGIN CERTIFICATE-----", 27))
			break;
	assert_true(i + 27 < n);
	i += 27 + 400; /* well inside the leaf certificate */
	bad[i] = bad[i] == 'A' ? 'B' : 'A';
	for (k = 0; k < 2; k++) {
		assert_int_not_equal(tdx_at(bad, n, c, "2025-07-19T10:00:34Z", &err), CCT_OK);
		assert_int_equal(tdx_at(q, n, c, "2025-07-19T10:00:34Z", &err), CCT_OK);
	}
	/* tampered quote body (signed bytes) with the key and chain cached */
	memcpy(bad, q, n);
	bad[48 + 10] ^= 1;
	assert_int_equal(tdx_at(bad, n, c, "2025-07-19T10:00:34Z", &err), CCT_ESIGNATURE);
	free(bad);
	cct_tdx_collateral_free(c);
	free(q);
}

static void snp_warm_cache_rechecks_expiry(void **state)
{
	size_t hn;
	uint8_t *hex = cct_test_read_vector("snp/virtee-sev/report_milan.hex", &hn);
	uint8_t rep_bytes[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v = NULL;
	cct_snp_report rep;
	cct_snp_policy pol;
	cct_err err;
	int k;

	(void)state;
	while (hn && (hex[hn - 1] == '\n' || hex[hn - 1] == '\r'))
		hn--;
	assert_int_equal(hn, 2 * CCT_SNP_REPORT_SIZE);
	for (k = 0; k < CCT_SNP_REPORT_SIZE; k++) {
		unsigned x;

		assert_int_equal(sscanf((const char *)hex + 2 * k, "%2x", &x), 1);
		rep_bytes[k] = (uint8_t)x;
	}
	assert_int_equal(cct_snp_report_parse(&rep, rep_bytes, sizeof(rep_bytes), &err), CCT_OK);
	assert_int_equal(cct_snp_verifier_new(&v, &err), CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	assert_int_equal(cct_snp_verifier_add_certs_path(
				 v, cct_test_vector_path("snp/virtee-sev/vcek_milan.der"), &err),
			 CCT_OK);
	assert_int_equal(cct_snp_verifier_add_certs_path(
				 v, cct_test_vector_path("snp/virtee-sev/cert_chain_milan.pem"),
				 &err),
			 CCT_OK);
	cct_snp_policy_init(&pol);
	pol.allow_debug_insecure = 1;
	for (k = 0; k < 2; k++) {
		cct_snp_verifier_set_time(v, T("2026-01-01T00:00:00Z"));
		assert_int_equal(cct_snp_verify(NULL, v, &rep, &pol, &err), CCT_OK);
		/* the same verifier, later than the VCEK's notAfter: the cached chain must not
		 * answer for it */
		cct_snp_verifier_set_time(v, T("2031-01-01T00:00:00Z"));
		assert_int_equal(cct_snp_verify(NULL, v, &rep, &pol, &err), CCT_EEXPIRED);
	}
	/* a report signed by someone else, with the chain cached */
	rep_bytes[0x50] ^= 1;
	assert_int_equal(cct_snp_report_parse(&rep, rep_bytes, sizeof(rep_bytes), &err), CCT_OK);
	cct_snp_verifier_set_time(v, T("2026-01-01T00:00:00Z"));
	assert_int_equal(cct_snp_verify(NULL, v, &rep, &pol, &err), CCT_ESIGNATURE);
	cct_snp_verifier_free(v);
	free(hex);
}

/* ---- shared parsed objects, first used by several threads at once ----
 * Parsed certificates and CRLs are remembered per input text and shared by reference. OpenSSL
 * fills a certificate's extension cache and sorts a CRL's revoked list on first use; the parsers
 * do it before sharing (cct_x509_freeze), or threads verifying together race inside OpenSSL:
 * ThreadSanitizer (make tsan) reports it, and a lookup in a half-sorted revoked list could miss
 * a revoked serial. Each thread checks real outcomes: the Intel chain verifies against its
 * root CRL, a revoked serial of the PCK CRL is found, a made-up one is not. */

#define SHARED_THREADS 4
#define SHARED_ROUNDS 20
static STACK_OF(X509) *shared_certs;
static X509_CRL *shared_pck_crl, *shared_root_crl;
static pthread_barrier_t shared_start;

static void *first_use(void *arg)
{
	static const uint8_t revoked[] = { 0x6f, 0xc3, 0x4e, 0x50, 0x23, 0xe7, 0x28, 0x92, 0x34, 0x35,
					   0xd6, 0x1a, 0xa4, 0xb8, 0x3c, 0x61, 0x81, 0x66, 0xad,
					   0x35 };
	STACK_OF(X509) *roots = sk_X509_new_null(), *untrusted = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	BIGNUM *bn = BN_bin2bn(revoked, sizeof(revoked), NULL);
	X509_REVOKED *rev = NULL;
	cct_x509_verify_in in;
	cct_err err;
	int i, bad = 0;

	(void)arg;
	/* the issuer chain file: the Platform CA, then the Root CA */
	sk_X509_push(roots, sk_X509_value(shared_certs, 1));
	sk_X509_push(untrusted, sk_X509_value(shared_certs, 0));
	sk_X509_CRL_push(crls, shared_root_crl);
	memset(&in, 0, sizeof(in));
	in.leaf = sk_X509_value(shared_certs, 0);
	in.untrusted = untrusted;
	in.roots = roots;
	in.crls = crls;
	in.crl_check = 1;
	in.at = T("2025-07-01T00:00:00Z");
	pthread_barrier_wait(&shared_start);
	for (i = 0; i < 10 && !bad; i++) {
		bad |= cct_x509_chain_verify(NULL, &in, &err) != CCT_OK;
		bad |= !BN_to_ASN1_INTEGER(bn, serial) ||
		       X509_CRL_get0_by_serial(shared_pck_crl, &rev, serial) != 1;
		bad |= !ASN1_INTEGER_set(serial, 12345) ||
		       X509_CRL_get0_by_serial(shared_pck_crl, &rev, serial) != 0;
	}
	sk_X509_free(roots);
	sk_X509_free(untrusted);
	sk_X509_CRL_free(crls);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return bad ? (void *)1 : NULL;
}

static X509_CRL *crl_vector(const char *rel)
{
	X509_CRL *crl = NULL;
	size_t n;
	uint8_t *b = cct_test_read_vector(rel, &n);
	cct_err err;

	assert_int_equal(cct_x509_parse_crl(&crl, b, n, &err), CCT_OK);
	free(b);
	return crl;
}

static void shared_objects_first_use(void **state)
{
	pthread_t t[SHARED_THREADS];
	size_t n;
	uint8_t *pem = cct_test_read_vector(PH "derived/tdx_quote/pck_crl_issuer_chain.pem", &n);
	uint8_t *text = malloc(n + SHARED_ROUNDS);
	void *r;
	cct_err err;
	int i, round;

	(void)state;
	assert_non_null(text);
	memcpy(text, pem, n);
	/* fresh objects each round: one more trailing newline is a new text to the parse cache */
	for (round = 0; round < SHARED_ROUNDS; round++) {
		text[n + round] = '\n';
		shared_certs = sk_X509_new_null();
		assert_int_equal(cct_x509_parse_certs(shared_certs, NULL, text, n + round + 1,
						      "chain", &err),
				 CCT_OK);
		assert_int_equal(sk_X509_num(shared_certs), 2);
		shared_pck_crl = crl_vector(PH "derived/tdx_quote/pck_crl.der");
		shared_root_crl = crl_vector(PH "derived/tdx_quote/root_ca_crl.der");
		assert_int_equal(pthread_barrier_init(&shared_start, NULL, SHARED_THREADS), 0);
		for (i = 0; i < SHARED_THREADS; i++)
			assert_int_equal(pthread_create(&t[i], NULL, first_use, NULL), 0);
		for (i = 0; i < SHARED_THREADS; i++) {
			assert_int_equal(pthread_join(t[i], &r), 0);
			assert_null(r);
		}
		pthread_barrier_destroy(&shared_start);
		sk_X509_pop_free(shared_certs, X509_free);
		X509_CRL_free(shared_pck_crl);
		X509_CRL_free(shared_root_crl);
	}
	free(text);
	free(pem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(windows_and_failures),
		cmocka_unit_test(bounded_and_pinned),
		cmocka_unit_test(concurrent),
		cmocka_unit_test(tdx_warm_cache_stays_closed),
		cmocka_unit_test(snp_warm_cache_rechecks_expiry),
		cmocka_unit_test(shared_objects_first_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
