#define _POSIX_C_SOURCE 200809L
/* SNP verification throughput, one thread (= per core):
 *   snp_bench REPORT VCEK CERTS... [-n N] [--full-chain] [--interleave] [--at TIME]
 * cached: the chain is verified once, then each report costs parse + P-384 verify + checks;
 * full-chain: the chain (ARK self-signature, ASK and VCEK RSA-PSS-4096) is re-verified each time.
 * Prints verifications/s. --interleave: also the limit in the same loop, "RATE LIMIT": blocks of
 * SNP verifications alternate with blocks of bare OpenSSL P-384 verifications of the same report
 * signature with the VCEK's key (EVP, SHA-384 of the signed bytes), each block timed on its own,
 * so a core whose speed drifts slows both alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "inloop_limit.h"
#include "cctrust/core.h"
#include "cctrust/snp.h"

/* the report's signature (r, s: 72-byte little-endian at 0x2A0) as DER, for EVP */
enum { SIGNED_LEN = 0x2A0, SIG_COMPONENT = 72 };

static int bare_signature(uint8_t **der, int *der_len, const uint8_t *report)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(report + SIGNED_LEN, SIG_COMPONENT, NULL);
	BIGNUM *s = BN_lebin2bn(report + SIGNED_LEN + SIG_COMPONENT, SIG_COMPONENT, NULL);

	*der = NULL;
	if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		ECDSA_SIG_free(sig);
		BN_free(r);
		BN_free(s);
		return -1;
	}
	*der_len = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return *der_len > 0 ? 0 : -1;
}

/* the VCEK's public key from its DER or PEM certificate */
static EVP_PKEY *vcek_key(const char *path)
{
	uint8_t *raw;
	size_t n;
	const unsigned char *p;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	BIO *b;

	if (cct_file_read(&raw, &n, path, 0, NULL) != CCT_OK)
		return NULL;
	p = raw;
	x = d2i_X509(NULL, &p, (long)n);
	if (!x && (b = BIO_new_mem_buf(raw, (int)n)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (x)
		k = X509_get_pubkey(x);
	X509_free(x);
	free(raw);
	return k;
}

static int bare_verify(EVP_PKEY *key, const uint8_t *report, const uint8_t *der, int der_len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestVerifyInit(c, NULL, EVP_sha384(), NULL, key) == 1 &&
		 EVP_DigestVerify(c, der, (size_t)der_len, report, SIGNED_LEN) == 1;

	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/* one SNP verification: parse + verify (full: the chain re-verified, its cache cleared first) */
typedef struct snp_loop {
	cct_snp_verifier *v;
	cct_snp_policy pol;
	const uint8_t *bytes;
	size_t len;
	int full;
} snp_loop;

static int snp_step(void *ctx, long i)
{
	snp_loop *l = ctx;
	cct_snp_report rep;
	cct_err err;

	if (l->full)
		cct_snp_verifier_clear_cache(l->v);
	if (cct_snp_report_parse(&rep, l->bytes, l->len, &err) != CCT_OK ||
	    cct_snp_verify(NULL, l->v, &rep, &l->pol, &err) != CCT_OK)
		return inloop_failed("snp_bench", i, err.msg);
	return 0;
}

/* the limit's work: the report's own signature verified bare */
typedef struct bare_loop {
	EVP_PKEY *key;
	const uint8_t *report, *der;
	int der_len;
} bare_loop;

static int bare_step(void *ctx, long i)
{
	bare_loop *b = ctx;

	(void)i;
	return bare_verify(b->key, b->report, b->der, b->der_len);
}

int main(int argc, char **argv)
{
	snp_loop l;
	uint8_t *raw, *bytes;
	size_t n, len;
	long iters = 2000, i;
	int interleave = 0, a, der_len = 0;
	uint8_t *der = NULL;
	EVP_PKEY *key = NULL;
	double t0, dt;
	time_t at = 0;
	cct_err err;

	if (argc < 3) {
		fprintf(stderr, "usage: snp_bench REPORT VCEK CERTS... [-n N] [--full-chain] "
				"[--interleave] [--at T]\n");
		return 2;
	}
	memset(&l, 0, sizeof(l));
	if (cct_snp_verifier_new(&l.v, &err) != CCT_OK)
		return 2;
	for (a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "-n") && a + 1 < argc)
			iters = atol(argv[++a]);
		else if (!strcmp(argv[a], "--full-chain"))
			l.full = 1;
		else if (!strcmp(argv[a], "--interleave"))
			interleave = 1;
		else if (!strcmp(argv[a], "--at") && a + 1 < argc)
			cct_time_parse(&at, argv[++a], NULL);
		else if (cct_snp_verifier_add_certs_path(l.v, argv[a], &err) != CCT_OK) {
			fprintf(stderr, "%s\n", err.msg);
			return 2;
		}
	}
	if (cct_file_read(&raw, &n, argv[1], 0, &err) != CCT_OK ||
	    cct_input_decode(&bytes, &len, raw, n, CCT_SNP_REPORT_SIZE, &err) != CCT_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	cct_snp_verifier_set_offline(l.v, 1);
	cct_snp_verifier_set_crl_check(l.v, 0);
	if (at)
		cct_snp_verifier_set_time(l.v, at);
	cct_snp_policy_init(&l.pol);
	l.pol.allow_debug_insecure = 1;
	l.bytes = bytes;
	l.len = len;
	/* warm-up, and proof that the input verifies */
	if (snp_step(&l, -1) != 0)
		return 1;
	if (interleave) {
		enum { BLOCK = 10 };
		bare_loop b;
		double rate, limit;

		if (!(key = vcek_key(argv[2])) || bare_signature(&der, &der_len, bytes) != 0 ||
		    bare_verify(key, bytes, der, der_len) != 0) {
			fprintf(stderr, "%s: the report's signature does not verify with it bare\n",
				argv[2]);
			return 1;
		}
		b.key = key;
		b.report = bytes;
		b.der = der;
		b.der_len = der_len;
		if (inloop_rates(&rate, &limit, iters, BLOCK, 1, snp_step, &l, bare_step, &b) != 0)
			return 1;
		printf("%.1f %.1f\n", rate, limit);
		EVP_PKEY_free(key);
		OPENSSL_free(der);
	} else {
		t0 = bench_cpu_s();
		for (i = 0; i < iters; i++)
			if (snp_step(&l, i) != 0)
				return 1;
		dt = bench_cpu_s() - t0;
		printf("%.1f\n", (double)iters / dt);
	}
	free(raw);
	free(bytes);
	cct_snp_verifier_free(l.v);
	return 0;
}
