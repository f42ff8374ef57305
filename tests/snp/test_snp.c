/* SEV-SNP: parser, verifier and policy on the real vectors (read in place) and on tampered
 * copies; revocation / TCB / foreign-root cases on a simulated AMD-shaped PKI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "attester/internal.h"
#include "sim/sim_snp.h"
#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/snp.h"
#include "x509/mint.h"
#include "x509/vcache.h"

#define VIRTEE "snp/virtee-sev/"
#define GSG "snp/go-sev-guest/"

static uint8_t virtee_report[CCT_SNP_REPORT_SIZE];
static uint8_t gsg_report[CCT_SNP_REPORT_SIZE];
static time_t t_2026; /* 2026-11-23: the vectors' collection date */

static void load_reports(void)
{
	size_t n;
	uint8_t *hex = cct_test_read_vector(VIRTEE "report_milan.hex", &n), *b;
	size_t bn;

	assert_int_equal(cct_hex_decode(&b, &bn, (char *)hex, n, NULL), CCT_OK);
	assert_int_equal(bn, CCT_SNP_REPORT_SIZE);
	memcpy(virtee_report, b, bn);
	free(b);
	free(hex);
	b = cct_test_read_vector(GSG "attestation.bin", &n);
	assert_int_equal(n, CCT_SNP_REPORT_SIZE);
	memcpy(gsg_report, b, n);
	free(b);
	cct_time_parse(&t_2026, "2026-11-23T00:00:00Z", NULL);
}

static cct_snp_verifier *verifier_for(const char *vcek, const char *chain)
{
	cct_snp_verifier *v;

	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	if (vcek)
		assert_int_equal(cct_snp_verifier_add_certs_path(v, cct_test_vector_path(vcek), NULL),
				 CCT_OK);
	if (chain)
		assert_int_equal(
			cct_snp_verifier_add_certs_path(v, cct_test_vector_path(chain), NULL),
			CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	cct_snp_verifier_set_time(v, t_2026);
	return v;
}

static int verify_bytes(const uint8_t *buf, cct_snp_verifier *v, const cct_snp_policy *pol,
			cct_err *err, cct_snp_result *res)
{
	cct_snp_report rep;
	int rc = cct_snp_report_parse(&rep, buf, CCT_SNP_REPORT_SIZE, err);

	if (rc != CCT_OK)
		return rc;
	return cct_snp_verify(res, v, &rep, pol, err);
}

/* ---- parser ---- */

static void parse_fields_match_expected(void **state)
{
	cct_snp_report rep;
	char hex[129];

	(void)state;
	assert_int_equal(cct_snp_report_parse(&rep, virtee_report, sizeof(virtee_report), NULL),
			 CCT_OK);
	assert_int_equal(rep.version, 2);
	assert_int_equal(rep.policy, 0x30000);
	cct_hex_encode(hex, rep.measurement, 48);
	assert_string_equal(hex, "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d"
				 "3e1a0dc39b2c60bd95b9c480cd81841f");
	cct_hex_encode(hex, rep.chip_id, 64);
	assert_string_equal(hex, "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc"
				 "15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6");
	assert_int_equal(rep.reported_tcb, 0x7308000000000003ULL);
	assert_int_equal(cct_snp_tcb_decode(rep.reported_tcb, CCT_SNP_PRODUCT_MILAN).microcode, 115);
	assert_int_equal(cct_snp_tcb_decode(rep.reported_tcb, CCT_SNP_PRODUCT_MILAN).snp, 8);
	assert_int_equal(rep.current_major, 1);
	assert_int_equal(rep.current_minor, 52);
	assert_int_equal(rep.current_build, 4);

	assert_int_equal(cct_snp_report_parse(&rep, gsg_report, sizeof(gsg_report), NULL), CCT_OK);
	assert_int_equal(rep.policy, 0xB0000);
	cct_hex_encode(hex, rep.report_id, 32);
	assert_string_equal(hex, "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a");
	assert_int_equal(rep.reported_tcb, 0x4405000000000002ULL);
}

static void parse_truncated_at_every_length(void **state)
{
	cct_snp_report rep;
	cct_err err;
	size_t n;

	(void)state;
	for (n = 0; n < CCT_SNP_REPORT_SIZE; n++) {
		assert_int_equal(cct_snp_report_parse(&rep, virtee_report, n, &err), CCT_ETRUNC);
		assert_int_equal(err.stage, CCT_STAGE_PARSE);
		assert_int_equal(err.offset, n);
	}
}

static void parse_trailing_bytes(void **state)
{
	uint8_t big[CCT_SNP_REPORT_SIZE + 1];
	cct_snp_report rep;
	cct_err err;

	(void)state;
	memcpy(big, virtee_report, CCT_SNP_REPORT_SIZE);
	big[CCT_SNP_REPORT_SIZE] = 0;
	assert_int_equal(cct_snp_report_parse(&rep, big, sizeof(big), &err), CCT_ETRAILING);
	assert_int_equal(err.offset, CCT_SNP_REPORT_SIZE);
}

static void parse_reserved_must_be_zero(void **state)
{
	static const size_t offs[] = { 0x04C, 0x188, 0x19F, 0x1EB, 0x1EF, 0x1F8, 0x29F, 0x330,
				       0x49F };
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_report rep;
	cct_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		memcpy(b, virtee_report, sizeof(b));
		b[offs[i]] = 0x01;
		assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_EMBZ);
		assert_int_equal(err.offset, offs[i]);
		assert_non_null(strstr(err.msg, "reserved"));
	}
}

static void parse_versions_and_algorithm(void **state)
{
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_report rep;
	cct_err err;

	(void)state;
	memcpy(b, virtee_report, sizeof(b));
	b[0] = 1;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_EUNSUPPORTED);
	assert_int_equal(err.offset, 0);
	memcpy(b, virtee_report, sizeof(b));
	b[0x34] = 2;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_EUNSUPPORTED);
	assert_int_equal(err.offset, 0x34);
	/* v3: CPUID bytes become fields; v5: mitigation vectors */
	memcpy(b, virtee_report, sizeof(b));
	b[0] = 3;
	b[0x188] = 0x19;
	b[0x189] = 0x11;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_OK);
	assert_int_equal(cct_snp_report_product(&rep), CCT_SNP_PRODUCT_GENOA);
	/* v4 (firmware 1.55.31, Google Cloud's Milan hosts) was refused: the v3 layout, and the
	 * mitigation vectors' bytes are reserved in it */
	b[0] = 4;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_OK);
	assert_int_equal(rep.version, 4);
	assert_int_equal(cct_snp_report_product(&rep), CCT_SNP_PRODUCT_GENOA);
	b[0x1F8] = 7;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_EMBZ);
	assert_int_equal(err.offset, 0x1F8);
	b[0x1F8] = 0;
	b[0] = 6;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_EUNSUPPORTED);
	assert_int_equal(err.offset, 0);
	b[0] = 5;
	b[0x188] = 0x1a;
	b[0x189] = 0x02;
	b[0x1F8] = 7;
	b[0x200] = 9;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_OK);
	assert_int_equal(rep.launch_mit_vector, 7);
	assert_int_equal(rep.current_mit_vector, 9);
	assert_int_equal(cct_snp_report_product(&rep), CCT_SNP_PRODUCT_TURIN);
	/* the same bytes are reserved in v2 */
	b[0] = 2;
	b[0x188] = 0;
	b[0x189] = 0;
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), &err), CCT_EMBZ);
	assert_int_equal(err.offset, 0x1F8);
}

static void turin_tcb_layout(void **state)
{
	cct_snp_tcb t = cct_snp_tcb_decode(0x0900000004030201ULL, CCT_SNP_PRODUCT_TURIN);

	(void)state;
	assert_int_equal(t.fmc, 1);
	assert_int_equal(t.bootloader, 2);
	assert_int_equal(t.tee, 3);
	assert_int_equal(t.snp, 4);
	assert_int_equal(t.microcode, 9);
}

/* ---- verification on real vectors ---- */

static void virtee_milan_verifies(void **state)
{
	cct_snp_verifier *v = verifier_for(VIRTEE "vcek_milan.der", VIRTEE "cert_chain_milan.pem");
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;

	(void)state;
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, &err, &res), CCT_OK);
	assert_int_equal(res.product, CCT_SNP_PRODUCT_MILAN);
	assert_true(res.chain_verified && res.signature_verified);
	assert_false(res.simulated);
	assert_int_equal(res.vcek_tcb.microcode, 115);
	cct_snp_verifier_free(v);
}

static void pinned_ask_suffices(void **state)
{
	/* only the VCEK is offered: ASK and ARK come from the pinned set */
	cct_snp_verifier *v = verifier_for(VIRTEE "vcek_milan.der", NULL);
	cct_snp_policy pol;

	(void)state;
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, NULL, NULL), CCT_OK);
	cct_snp_verifier_free(v);
}

static void gsg_debug_refused_by_default(void **state)
{
	cct_snp_verifier *v = verifier_for(GSG "vcek.der", GSG "trust/ask_ark_milan.pem");
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;

	(void)state;
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(gsg_report, v, &pol, &err, &res), CCT_EPOLICY);
	assert_int_equal(err.stage, CCT_STAGE_POLICY);
	assert_int_equal(err.offset, 0x008);
	assert_non_null(strstr(err.msg, "debug"));
	pol.allow_debug_insecure = 1;
	assert_int_equal(verify_bytes(gsg_report, v, &pol, &err, &res), CCT_OK);
	assert_true(res.debug_allowed_insecure);
	cct_snp_verifier_free(v);
}

static void every_flipped_signed_byte_rejected(void **state)
{
	cct_snp_verifier *v = verifier_for(VIRTEE "vcek_milan.der", VIRTEE "cert_chain_milan.pem");
	cct_snp_policy pol;
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_err err;
	size_t off;
	int rc;

	(void)state;
	cct_snp_policy_init(&pol);
	pol.max_vmpl = 3;
	pol.allow_debug_insecure = 1; /* so that every failure is the signature's */
	/* every byte of the signed region and of r, s: never accepted; non-reserved bytes fail
	 * at the signature (reserved ones already at parse, as must-be-zero) */
	for (off = 0; off < 0x330; off++) {
		memcpy(b, virtee_report, sizeof(b));
		b[off] ^= 0x01;
		rc = verify_bytes(b, v, &pol, &err, NULL);
		assert_int_not_equal(rc, CCT_OK);
		if (rc != CCT_EMBZ && rc != CCT_EUNSUPPORTED && rc != CCT_EFORMAT &&
		    rc != CCT_ECOLLATERAL) {
			assert_int_equal(rc, CCT_ESIGNATURE);
			assert_int_equal(err.stage, CCT_STAGE_SIGNATURE);
		}
	}
	/* a flip inside MEASUREMENT is a signature failure, not a parse failure */
	memcpy(b, virtee_report, sizeof(b));
	b[0x90] ^= 0x80;
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ESIGNATURE);
	/* upstream milan_report_invalid: byte 21 ^= 0x80 (inside POLICY) */
	memcpy(b, virtee_report, sizeof(b));
	b[21] ^= 0x80;
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ESIGNATURE);
	cct_snp_verifier_free(v);
}

static void wrong_report_data_rejected(void **state)
{
	cct_snp_verifier *v = verifier_for(GSG "vcek.der", NULL);
	cct_snp_policy pol;
	cct_err err;

	(void)state;
	cct_snp_policy_init(&pol);
	pol.allow_debug_insecure = 1;
	pol.has_report_data = 1;
	memset(pol.report_data, 0, 64);
	memcpy(pol.report_data, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(verify_bytes(gsg_report, v, &pol, &err, NULL), CCT_OK);
	pol.report_data[63] = 1; /* upstream bad value */
	pol.report_data[0] = 0;
	assert_int_equal(verify_bytes(gsg_report, v, &pol, &err, NULL), CCT_ENONCE);
	assert_int_equal(err.stage, CCT_STAGE_BINDING);
	assert_int_equal(err.offset, 0x050);
	cct_snp_verifier_free(v);
}

static void expired_vcek_rejected(void **state)
{
	cct_snp_verifier *v = verifier_for(VIRTEE "vcek_milan.der", VIRTEE "cert_chain_milan.pem");
	cct_snp_policy pol;
	cct_err err;
	time_t after, before;

	(void)state;
	cct_snp_policy_init(&pol);
	cct_time_parse(&after, "2030-04-04T00:00:00Z", NULL); /* VCEK notAfter 2030-04-03 */
	cct_snp_verifier_set_time(v, after);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, &err, NULL), CCT_EEXPIRED);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	cct_snp_verifier_free(v);
	v = verifier_for(VIRTEE "vcek_milan.der", VIRTEE "cert_chain_milan.pem");
	cct_time_parse(&before, "2023-01-01T00:00:00Z", NULL); /* before notBefore */
	cct_snp_verifier_set_time(v, before);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, &err, NULL), CCT_EEXPIRED);
	cct_snp_verifier_free(v);
}

static void tampered_vcek_rejected(void **state)
{
	size_t n;
	uint8_t *der = cct_test_read_vector(VIRTEE "vcek_milan.der", &n);
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_err err;
	int rc;

	(void)state;
	der[40] ^= 0xff; /* upstream milan_chain_invalid */
	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	cct_snp_verifier_set_time(v, t_2026);
	rc = cct_snp_verifier_add_certs(v, der, n, &err);
	cct_snp_policy_init(&pol);
	if (rc == CCT_OK) {
		rc = verify_bytes(virtee_report, v, &pol, &err, NULL);
		assert_true(rc == CCT_ECHAIN || rc == CCT_ECOLLATERAL);
	}
	free(der);
	cct_snp_verifier_free(v);
}

static void other_chips_vcek_rejected(void **state)
{
	/* the go-sev-guest VCEK (another chip, another TCB) offered for the virtee report */
	cct_snp_verifier *v = verifier_for(GSG "vcek.der", NULL);
	cct_snp_policy pol;
	cct_err err;

	(void)state;
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, &err, NULL), CCT_ESIGNATURE);
	cct_snp_verifier_free(v);
}

static void crl_required_by_default(void **state)
{
	cct_snp_verifier *v = verifier_for(VIRTEE "vcek_milan.der", NULL);
	cct_snp_policy pol;
	cct_err err;

	(void)state;
	cct_snp_policy_init(&pol);
	cct_snp_verifier_set_crl_check(v, 1);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, &err, NULL), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	assert_non_null(strstr(err.msg, "--no-crl"));
	cct_snp_verifier_free(v);
}

static void turin_vcek_chain_verifies(void **state)
{
	/* no Turin report exists in the vectors: check the chain + extensions via a report
	 * whose signature cannot match; the failure must come after the chain, at the signature */
	cct_snp_verifier *v = verifier_for(VIRTEE "vcek_turin.der", VIRTEE "cert_chain_turin.pem");
	cct_snp_policy pol;
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_err err;

	(void)state;
	memcpy(b, virtee_report, sizeof(b));
	memcpy(b + 0x1A0, "\x1e\x55\x0a\x8e\xe5\xcf\x9f\x4d", 8);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ESIGNATURE);
	cct_snp_verifier_free(v);
}


static void foreign_ark_rejected(void **state)
{
	/* a look-alike ARK/ASK (same names, RSA-PSS) re-signs the real VCEK: the report signature
	 * still verifies (same VCEK key), so only ARK pinning can reject it */
	size_t n;
	uint8_t *der = cct_test_read_vector(VIRTEE "vcek_milan.der", &n);
	const unsigned char *p = der;
	X509 *vcek = d2i_X509(NULL, &p, (long)n), *ark, *ask;
	EVP_PKEY *ark_key = cct_mint_rsa_key(2048), *ask_key = cct_mint_rsa_key(2048);
	cct_mint_spec spec;
	cct_snp_verifier *v;
	cct_snp_policy pol;
	char *pem;
	cct_err err;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	(void)state;
	assert_non_null(vcek);
	memset(&spec, 0, sizeof(spec));
	spec.cn = "ARK-Milan";
	spec.org = "Advanced Micro Devices";
	spec.key = ark_key;
	spec.issuer_key = ark_key;
	spec.not_before = t_2026 - 86400;
	spec.not_after = t_2026 + 86400 * 365;
	spec.is_ca = 1;
	spec.pss = 1;
	ark = cct_mint_cert(&spec);
	spec.cn = "SEV-Milan";
	spec.key = ask_key;
	spec.issuer = ark;
	ask = cct_mint_cert(&spec);
	X509_set_issuer_name(vcek, X509_get_subject_name(ask));
	EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, ask_key);
	EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
	EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48);
	assert_true(X509_sign_ctx(vcek, m) > 0);
	EVP_MD_CTX_free(m);

	cct_snp_policy_init(&pol);
	/* offered with its ARK: the ARK is not pinned */
	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	cct_snp_verifier_set_time(v, t_2026);
	pem = cct_mint_cert_pem(vcek);
	cct_snp_verifier_add_certs(v, (uint8_t *)pem, strlen(pem), NULL);
	free(pem);
	pem = cct_mint_cert_pem(ask);
	cct_snp_verifier_add_certs(v, (uint8_t *)pem, strlen(pem), NULL);
	free(pem);
	pem = cct_mint_cert_pem(ark);
	cct_snp_verifier_add_certs(v, (uint8_t *)pem, strlen(pem), NULL);
	free(pem);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, &err, NULL), CCT_ECHAIN);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	assert_non_null(strstr(err.msg, "pinned"));
	cct_snp_verifier_free(v);
	/* offered without its ARK: no path to a pinned ARK */
	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	cct_snp_verifier_set_time(v, t_2026);
	pem = cct_mint_cert_pem(vcek);
	cct_snp_verifier_add_certs(v, (uint8_t *)pem, strlen(pem), NULL);
	free(pem);
	pem = cct_mint_cert_pem(ask);
	cct_snp_verifier_add_certs(v, (uint8_t *)pem, strlen(pem), NULL);
	free(pem);
	assert_int_equal(verify_bytes(virtee_report, v, &pol, &err, NULL), CCT_ECHAIN);
	cct_snp_verifier_free(v);
	X509_free(vcek);
	X509_free(ark);
	X509_free(ask);
	EVP_PKEY_free(ark_key);
	EVP_PKEY_free(ask_key);
	free(der);
}

/* ---- simulated PKI: revocation, TCB mismatch, foreign root ---- */

static cct_sim_snp *sim;

static int sim_setup(void **state)
{
	cct_sim_snp_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.rsa_bits = 2048; /* fast for tests; `cctrust sim init` uses AMD's 4096 */
	o.vcek_serial = 77;
	return cct_sim_snp_new(&sim, &o, NULL) == CCT_OK ? 0 : -1;
}

static int sim_teardown(void **state)
{
	(void)state;
	cct_sim_snp_free(sim);
	return 0;
}

static cct_snp_verifier *sim_verifier(const cct_sim_snp *s, int crl)
{
	cct_snp_verifier *v;
	char *ark = cct_mint_cert_pem(s->ark), *ask = cct_mint_cert_pem(s->ask),
	     *vcek = cct_mint_cert_pem(s->vcek);

	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	assert_int_equal(cct_snp_verifier_trust_ark_insecure(v, (uint8_t *)ark, strlen(ark), NULL),
			 CCT_OK);
	assert_int_equal(cct_snp_verifier_add_certs(v, (uint8_t *)ask, strlen(ask), NULL), CCT_OK);
	assert_int_equal(cct_snp_verifier_add_certs(v, (uint8_t *)vcek, strlen(vcek), NULL),
			 CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, crl);
	free(ark);
	free(ask);
	free(vcek);
	return v;
}

static void sim_report_verifies_and_is_marked(void **state)
{
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v = sim_verifier(sim, 0);
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;

	(void)state;
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_true(res.simulated);
	cct_snp_verifier_free(v);
	/* without the explicit trust, the same evidence is refused */
	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	{
		char *ask = cct_mint_cert_pem(sim->ask), *vcek = cct_mint_cert_pem(sim->vcek),
		     *ark = cct_mint_cert_pem(sim->ark);

		cct_snp_verifier_add_certs(v, (uint8_t *)ask, strlen(ask), NULL);
		cct_snp_verifier_add_certs(v, (uint8_t *)vcek, strlen(vcek), NULL);
		cct_snp_verifier_add_certs(v, (uint8_t *)ark, strlen(ark), NULL);
		free(ask);
		free(vcek);
		free(ark);
	}
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_ECHAIN);
	assert_non_null(strstr(err.msg, "pinned"));
	cct_snp_verifier_free(v);
}

/* A version 4 report (firmware 1.55.31, e.g. Google Cloud's Milan hosts) was refused as an
 * unsupported version before its signature was looked at; signed, it verifies as version 3 does,
 * and its claims say version 4. */
static void sim_version4_report_verifies(void **state)
{
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v = sim_verifier(sim, 0);
	cct_snp_policy pol;
	cct_snp_result res;
	cct_snp_report rep;
	cct_err err;
	char *claims;

	(void)state;
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	b[0] = 4;
	assert_int_equal(cct_sim_snp_sign(b, sim->vcek_key), 0);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), NULL), CCT_OK);
	claims = cct_snp_claims_json(&rep, &res);
	assert_non_null(strstr(claims, "\"version\":4"));
	free(claims);
	/* the signature covers the version: the same report relabelled is refused */
	b[0] = 3;
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_ESIGNATURE);
	cct_snp_verifier_free(v);
}

/* A report whose CHIP_ID is masked (SIGNER_INFO bit 1, all zero) skips the VCEK hwID
 * comparison: it verified with checks_skipped listing crl alone, as if the chip were
 * compared. Now "chip_id" is listed; an unmasked report does not list it. */
static void masked_chip_id_listed_as_skipped(void **state)
{
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v = sim_verifier(sim, 0);
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;
	json_t *sk;
	char *t;

	(void)state;
	cct_snp_policy_init(&pol);
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_int_equal(res.chip_id_masked, 0);
	sk = cct_snp_checks_skipped(&res, 1);
	t = json_dumps(sk, JSON_COMPACT);
	assert_string_equal(t, "[\"crl\"]");
	free(t);
	json_decref(sk);
	b[0x048] |= 2;
	memset(b + 0x1A0, 0, 64);
	assert_int_equal(cct_sim_snp_sign(b, sim->vcek_key), 0);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_int_equal(res.chip_id_masked, 1);
	sk = cct_snp_checks_skipped(&res, 1);
	t = json_dumps(sk, JSON_COMPACT);
	assert_string_equal(t, "[\"crl\",\"chip_id\"]");
	free(t);
	json_decref(sk);
	/* a zero CHIP_ID without the mask bit is still compared (and fails) */
	b[0x048] &= (uint8_t)~2;
	assert_int_equal(cct_sim_snp_sign(b, sim->vcek_key), 0);
	assert_int_not_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	cct_snp_verifier_free(v);
}

static void sim_revoked_vcek_rejected(void **state)
{
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;
	time_t now = time(NULL);
	long serial = 77, other = 5;
	char *crl;

	(void)state;
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);

	/* fresh CRL not listing the VCEK: accepted, and CRL reported as checked */
	v = sim_verifier(sim, 1);
	crl = cct_sim_snp_crl_pem(sim, &other, 1, now - 3600, now + 86400);
	assert_int_equal(cct_snp_verifier_add_certs(v, (uint8_t *)crl, strlen(crl), NULL), CCT_OK);
	free(crl);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_true(res.crl_checked);
	cct_snp_verifier_free(v);

	/* CRL listing the VCEK: revoked */
	v = sim_verifier(sim, 1);
	crl = cct_sim_snp_crl_pem(sim, &serial, 1, now - 3600, now + 86400);
	cct_snp_verifier_add_certs(v, (uint8_t *)crl, strlen(crl), NULL);
	free(crl);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	cct_snp_verifier_free(v);

	/* stale CRL: fail closed */
	v = sim_verifier(sim, 1);
	crl = cct_sim_snp_crl_pem(sim, &other, 1, now - 10 * 86400, now - 86400);
	cct_snp_verifier_add_certs(v, (uint8_t *)crl, strlen(crl), NULL);
	free(crl);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_ECOLLATERAL);
	assert_non_null(strstr(err.msg, "not current"));
	cct_snp_verifier_free(v);
}

static void sim_vcek_tcb_mismatch_rejected(void **state)
{
	cct_sim_snp *s2;
	cct_sim_snp_opts o;
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_err err;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.rsa_bits = 2048;
	o.vcek_tcb_mismatch = 1;
	assert_int_equal(cct_sim_snp_new(&s2, &o, NULL), CCT_OK);
	assert_int_equal(cct_sim_snp_report(b, s2, NULL, NULL), CCT_OK);
	v = sim_verifier(s2, 0);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ETCB);
	assert_int_equal(err.stage, CCT_STAGE_TCB);
	assert_int_equal(err.offset, 0x180);
	cct_snp_verifier_free(v);
	cct_sim_snp_free(s2);
}

static void sim_policy_rules(void **state)
{
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_sim_snp_report_opts ro;
	cct_snp_verifier *v = sim_verifier(sim, 0);
	cct_snp_policy pol;
	cct_err err;
	const char *json;

	(void)state;
	memset(&ro, 0, sizeof(ro));
	memset(ro.measurement, 0xab, 48);
	memset(ro.host_data, 0x11, 32);
	ro.vmpl = 1;
	ro.policy = 0x30000 | (1u << 18); /* migration agent allowed */
	assert_int_equal(cct_sim_snp_report(b, sim, &ro, NULL), CCT_OK);

	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_EPOLICY); /* VMPL 1 > 0 */
	assert_int_equal(err.offset, 0x030);
	pol.max_vmpl = 1;
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_OK);

	json = "{\"max_vmpl\":1,\"measurements\":[\"" /* wrong measurement */
	       "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	       "000000000000000\"]}";
	cct_snp_policy_init(&pol);
	assert_int_equal(cct_snp_policy_load_json(&pol, json, strlen(json), &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_EMEASUREMENT);
	cct_snp_policy_clear(&pol);

	json = "{\"max_vmpl\":1,\"allow_migrate_ma\":false}";
	cct_snp_policy_init(&pol);
	assert_int_equal(cct_snp_policy_load_json(&pol, json, strlen(json), &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_EPOLICY);
	assert_non_null(strstr(err.msg, "migration"));

	json = "{\"max_vmpl\":1,\"host_data\":\"1111111111111111111111111111111111111111111111111111"
	       "111111111111\",\"min_tcb\":{\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":115}}";
	cct_snp_policy_init(&pol);
	assert_int_equal(cct_snp_policy_load_json(&pol, json, strlen(json), &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_OK);
	pol.min_reported_tcb.microcode = 116; /* downgraded TCB relative to the policy */
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ETCB);
	assert_non_null(strstr(err.msg, "microcode"));

	json = "{\"max_vmp\":1}"; /* typo: refused, not ignored */
	cct_snp_policy_init(&pol);
	assert_int_equal(cct_snp_policy_load_json(&pol, json, strlen(json), &err), CCT_EINVAL);
	assert_non_null(strstr(err.msg, "max_vmp"));
	cct_snp_verifier_free(v);
}


static void sim_turin_v5_verifies(void **state)
{
	cct_sim_snp *t;
	cct_sim_snp_opts o;
	cct_sim_snp_report_opts ro;
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_snp_result res;
	cct_snp_report rep;
	cct_err err;
	char *claims;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.rsa_bits = 2048;
	o.product = CCT_SNP_PRODUCT_TURIN;
	o.tcb = (cct_snp_tcb){ .fmc = 1, .bootloader = 2, .tee = 3, .snp = 4, .microcode = 9 };
	assert_int_equal(cct_sim_snp_new(&t, &o, NULL), CCT_OK);
	memset(&ro, 0, sizeof(ro));
	ro.version = 5;
	assert_int_equal(cct_sim_snp_report(b, t, &ro, NULL), CCT_OK);
	v = sim_verifier(t, 0);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_int_equal(res.product, CCT_SNP_PRODUCT_TURIN);
	assert_int_equal(res.vcek_tcb.fmc, 1);
	assert_int_equal(cct_snp_report_parse(&rep, b, sizeof(b), NULL), CCT_OK);
	claims = cct_snp_claims_json(&rep, &res);
	assert_non_null(strstr(claims, "\"fmc\":1"));
	free(claims);
	/* a minimum FMC SPL above the platform's: refused */
	pol.has_min_reported_tcb = 1;
	pol.min_reported_tcb = (cct_snp_tcb){ .fmc = 2 };
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_ETCB);
	assert_non_null(strstr(err.msg, "fmc"));
	cct_snp_verifier_free(v);
	cct_sim_snp_free(t);
}


static void sim_vlek_verifies(void **state)
{
	cct_sim_snp *l;
	cct_sim_snp_opts o;
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.rsa_bits = 2048;
	o.vlek = 1;
	assert_int_equal(cct_sim_snp_new(&l, &o, NULL), CCT_OK);
	assert_int_equal(cct_sim_snp_report(b, l, NULL, NULL), CCT_OK);
	v = sim_verifier(l, 0);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_int_equal(res.signing_key, CCT_SNP_KEY_VLEK);
	pol.signing_keys_allowed = 1u << CCT_SNP_KEY_VCEK;
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EPOLICY);
	cct_snp_verifier_free(v);
	/* the report claims VCEK but only a VLEK is offered: no endorsement key for it */
	b[0x48] = 0;
	cct_sim_snp_sign(b, l->vcek_key);
	v = sim_verifier(l, 0);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_ECOLLATERAL);
	cct_snp_verifier_free(v);
	cct_sim_snp_free(l);
}

/* cctrust snp verify's text names the chain that was verified: a VLEK chains through the ASVK
 * (it printed "ARK->ASK->VLEK"). */
static void cli_vlek_chain_named(void **state)
{
	cct_sim_snp *l;
	cct_sim_snp_opts o;
	uint8_t b[CCT_SNP_REPORT_SIZE];
	char *ark, *ask, *vlek, *certs, rep[4096], arkp[4096], certp[4096], *out = NULL;
	int st;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.rsa_bits = 2048;
	o.vlek = 1;
	assert_int_equal(cct_sim_snp_new(&l, &o, NULL), CCT_OK);
	assert_int_equal(cct_sim_snp_report(b, l, NULL, NULL), CCT_OK);
	ark = cct_mint_cert_pem(l->ark);
	ask = cct_mint_cert_pem(l->ask);
	vlek = cct_mint_cert_pem(l->vcek);
	certs = malloc(strlen(ask) + strlen(vlek) + 1);
	assert_non_null(certs);
	strcpy(certs, ask);
	strcat(certs, vlek);
	snprintf(rep, sizeof(rep), "%s", cct_test_write_tmp("vlek-report.bin", b, sizeof(b)));
	snprintf(arkp, sizeof(arkp), "%s", cct_test_write_tmp("vlek-ark.pem", ark, strlen(ark)));
	snprintf(certp, sizeof(certp), "%s",
		 cct_test_write_tmp("vlek-certs.pem", certs, strlen(certs)));
	st = cct_test_cli(&out, "snp verify '%s' --trust-ark-insecure '%s' --certs '%s' --offline "
				"--no-crl 2>/dev/null",
			  rep, arkp, certp);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "signed by VLEK"));
	assert_non_null(strstr(out, "ARK->ASVK->VLEK"));
	assert_null(strstr(out, "ASK->VLEK"));
	free(out);
	free(ark);
	free(ask);
	free(vlek);
	free(certs);
	cct_sim_snp_free(l);
}

static void cert_table_roundtrip(void **state)
{
	/* a GHCB table with VCEK + ASK entries, built by hand in the ABI layout */
	char *vcek = cct_mint_cert_pem(sim->vcek), *ask = cct_mint_cert_pem(sim->ask),
	     *ark = cct_mint_cert_pem(sim->ark);
	size_t nv = strlen(vcek), na = strlen(ask), off = 3 * 24;
	uint8_t *t = calloc(1, off + nv + na);
	static const uint8_t vguid[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
					   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
	static const uint8_t aguid[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
					   0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_err err;
	size_t cut;

	(void)state;
	memcpy(t, vguid, 16);
	t[16] = (uint8_t)off;
	t[20] = (uint8_t)(nv & 0xff);
	t[21] = (uint8_t)(nv >> 8);
	memcpy(t + 24, aguid, 16);
	t[40] = (uint8_t)((off + nv) & 0xff);
	t[41] = (uint8_t)((off + nv) >> 8);
	t[44] = (uint8_t)(na & 0xff);
	t[45] = (uint8_t)(na >> 8);
	memcpy(t + off, vcek, nv);
	memcpy(t + off + nv, ask, na);
	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	cct_snp_verifier_trust_ark_insecure(v, (uint8_t *)ark, strlen(ark), NULL);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	assert_int_equal(cct_snp_verifier_add_cert_table(v, t, off + nv + na, &err), CCT_OK);
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_OK);
	cct_snp_verifier_free(v);
	/* a corrupt certificate entry is refused, not skipped */
	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	t[off + 40] = '!';
	assert_int_equal(cct_snp_verifier_add_cert_table(v, t, off + nv + na, &err), CCT_EFORMAT);
	assert_non_null(strstr(err.msg, "VCEK"));
	memcpy(t + off, vcek, nv);
	cct_snp_verifier_free(v);
	/* every truncation of the table fails cleanly (never reads past it) */
	for (cut = 0; cut < off + nv + na; cut += 7) {
		int rc;

		assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
		rc = cct_snp_verifier_add_cert_table(v, t, cut, &err);
		assert_true(rc == CCT_OK || rc == CCT_ETRUNC || rc == CCT_EFORMAT);
		cct_snp_verifier_free(v);
	}
	free(t);
	free(vcek);
	free(ask);
	free(ark);
}

/* ---- a report's certificate table vouches for that report alone ---- */

/* DER of a certificate or CRL (malloc'd) */
static uint8_t *cert_der(X509 *x, size_t *n)
{
	uint8_t *der = NULL;
	int len = i2d_X509(x, &der);

	assert_true(len > 0);
	*n = (size_t)len;
	return der;
}

static uint8_t *crl_der(X509_CRL *c, size_t *n)
{
	uint8_t *der = NULL;
	int len = i2d_X509_CRL(c, &der);

	assert_true(len > 0);
	*n = (size_t)len;
	return der;
}

/* A GHCB certificate table of count DER entries (malloc'd); the entries are freed. */
static uint8_t *table_of(size_t *n, const char *const *guids, uint8_t **der, size_t *len,
			 size_t count)
{
	uint8_t *t = cct_attester__cert_table(n, guids, (const uint8_t *const *)der, len, count);
	size_t i;

	assert_non_null(t);
	for (i = 0; i < count; i++)
		OPENSSL_free(der[i]);
	return t;
}

/* A sim CRL (signed by the sim ARK) as the one-entry certificate table of an extended report */
static uint8_t *crl_table(size_t *n, const long *serials, size_t count, time_t last,
			  time_t next)
{
	static const char *const guids[1] = { CCT_SNP_GUID_CRL };
	X509_CRL *crl = cct_mint_crl(sim->ark, sim->ark_key, 1, serials, count, -1, last, next);
	uint8_t *der[1];
	size_t len[1];

	assert_non_null(crl);
	der[0] = crl_der(crl, &len[0]);
	X509_CRL_free(crl);
	return table_of(n, guids, der, len, 1);
}

/* A collateral directory (test tmp dir/name, malloc'd path) whose cached AMD CRL
 * (crl/vcek-Milan.crl, DER as KDS serves it) is a sim CRL revoking serial, current [last, next]. */
static char *make_collateral(const char *name, const long *serial, time_t last, time_t next)
{
	X509_CRL *crl = cct_mint_crl(sim->ark, sim->ark_key, 1, serial, 1, -1, last, next);
	char *dir = malloc(512), sub[600], file[700];
	uint8_t *der;
	size_t n;
	FILE *f;

	assert_non_null(crl);
	assert_non_null(dir);
	snprintf(dir, 512, "%s/%s", cct_test_tmpdir(), name);
	snprintf(sub, sizeof(sub), "%s/crl", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(file, sizeof(file), "%s/vcek-Milan.crl", sub);
	der = crl_der(crl, &n);
	f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(der, 1, n, f), n);
	fclose(f);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return dir;
}

static void table_foreign_ark_stays_with_its_report(void **state)
{
	/* the first report's table carries a look-alike ARK: that report is refused, and the next
	 * report, genuine and without a table, is judged without it */
	static const char *const guids[1] = { CCT_SNP_GUID_ARK };
	EVP_PKEY *key = cct_mint_rsa_key(2048);
	cct_snp_verifier *v = sim_verifier(sim, 0);
	uint8_t b[CCT_SNP_REPORT_SIZE], *t, *der[1];
	size_t tn, len[1];
	cct_mint_spec spec;
	cct_snp_policy pol;
	cct_err err;
	X509 *ark;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	spec.cn = "ARK-Milan";
	spec.org = "Advanced Micro Devices";
	spec.key = key;
	spec.issuer_key = key;
	spec.not_before = time(NULL) - 86400;
	spec.not_after = time(NULL) + 86400 * 365;
	spec.is_ca = 1;
	spec.pss = 1;
	ark = cct_mint_cert(&spec);
	der[0] = cert_der(ark, &len[0]);
	t = table_of(&tn, guids, der, len, 1);
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);

	assert_int_equal(cct_snp_verifier_add_cert_table(v, t, tn, &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ECHAIN);
	assert_non_null(strstr(err.msg, "pinned"));
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_OK);
	/* and again with the table: refused again (the cache does not carry the good outcome) */
	assert_int_equal(cct_snp_verifier_add_cert_table(v, t, tn, &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ECHAIN);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_OK);
	cct_snp_verifier_free(v);
	free(t);
	X509_free(ark);
	EVP_PKEY_free(key);
}

static void table_vcek_stays_with_its_report(void **state)
{
	/* the first report brings its VCEK in its table; the next one, without a table, has none */
	static const char *const guids[2] = { CCT_SNP_GUID_VCEK, CCT_SNP_GUID_ASK };
	char *ark = cct_mint_cert_pem(sim->ark);
	uint8_t b[CCT_SNP_REPORT_SIZE], *t, *der[2];
	size_t tn, len[2];
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_err err;

	(void)state;
	der[0] = cert_der(sim->vcek, &len[0]);
	der[1] = cert_der(sim->ask, &len[1]);
	t = table_of(&tn, guids, der, len, 2);
	assert_int_equal(cct_snp_verifier_new(&v, NULL), CCT_OK);
	assert_int_equal(cct_snp_verifier_trust_ark_insecure(v, (uint8_t *)ark, strlen(ark), NULL),
			 CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	cct_snp_verifier_set_crl_check(v, 0);
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);

	assert_int_equal(cct_snp_verifier_add_cert_table(v, t, tn, &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_CHAIN);
	assert_non_null(strstr(err.msg, "no VCEK certificate"));
	cct_snp_verifier_free(v);
	free(t);
	free(ark);
}

/* v: the sim verifier with CRL checking on and the collateral directory dir */
static cct_snp_verifier *sim_verifier_coll(const char *dir)
{
	cct_snp_verifier *v = sim_verifier(sim, 1);

	assert_int_equal(cct_snp_verifier_set_collateral_dir(v, dir, NULL), CCT_OK);
	cct_snp_verifier_set_offline(v, 1);
	return v;
}

static void evidence_crl_cannot_hide_revocation(void **state)
{
	/* an older AMD CRL, still current and listing nothing, comes with the evidence; the
	 * collateral's newer CRL revokes the VCEK. Every current CRL counts: revoked. */
	time_t now = time(NULL);
	long serial = 77, other = 5;
	uint8_t b[CCT_SNP_REPORT_SIZE], *old_t, *new_t;
	size_t old_n, new_n;
	char *old_pem;
	X509_CRL *old_crl;
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;
	char *revoking_coll, *benign_coll;

	(void)state;
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);
	old_t = crl_table(&old_n, &other, 1, now - 30 * 86400, now + 30 * 86400);
	new_t = crl_table(&new_n, &serial, 1, now - 3600, now + 86400);
	revoking_coll = make_collateral("coll-revoking", &serial, now - 3600, now + 86400);
	benign_coll = make_collateral("coll-benign", &other, now - 30 * 86400, now + 30 * 86400);

	/* older CRL in the table, newer revoking one in the collateral */
	v = sim_verifier_coll(revoking_coll);
	assert_int_equal(cct_snp_verifier_add_cert_table(v, old_t, old_n, &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	assert_true(res.crl_checked);
	/* the reverse in the same verifier: the report without a table is still revoked */
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EREVOKED);
	assert_true(res.crl_checked);
	cct_snp_verifier_free(v);

	/* newer revoking CRL in the table, older one in the collateral: revoked too; the next
	 * report without the table is judged by the collateral's CRL alone */
	v = sim_verifier_coll(benign_coll);
	assert_int_equal(cct_snp_verifier_add_cert_table(v, new_t, new_n, &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EREVOKED);
	assert_true(res.crl_checked);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
	assert_true(res.crl_checked);
	/* the cached acceptance does not stand for the report with its revoking table */
	assert_int_equal(cct_snp_verifier_add_cert_table(v, new_t, new_n, &err), CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EREVOKED);
	cct_snp_verifier_free(v);

	/* an older CRL given with the certificates (--certs) does not hide it either */
	v = sim_verifier_coll(revoking_coll);
	old_crl = cct_mint_crl(sim->ark, sim->ark_key, 1, &other, 1, -1, now - 30 * 86400,
			       now + 30 * 86400);
	old_pem = cct_mint_crl_pem(old_crl);
	assert_int_equal(cct_snp_verifier_add_certs(v, (uint8_t *)old_pem, strlen(old_pem), NULL),
			 CCT_OK);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EREVOKED);
	assert_true(res.crl_checked);
	cct_snp_verifier_free(v);

	X509_CRL_free(old_crl);
	free(old_pem);
	free(revoking_coll);
	free(benign_coll);
	free(old_t);
	free(new_t);
}

static void cached_outcome_ends_where_a_held_crl_begins(void **state)
{
	/* two held CRLs: one current, one revoking the VCEK from a later thisUpdate. Accepted before
	 * that time; the cached acceptance must not outlive it. */
	time_t now = time(NULL);
	long serial = 77, other = 5;
	char *benign = cct_sim_snp_crl_pem(sim, &other, 1, now - 86400, now + 30 * 86400);
	char *later = cct_sim_snp_crl_pem(sim, &serial, 1, now + 86400, now + 30 * 86400);
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v = sim_verifier(sim, 1);
	cct_snp_policy pol;
	cct_err err;

	(void)state;
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);
	assert_int_equal(cct_snp_verifier_add_certs(v, (uint8_t *)benign, strlen(benign), NULL),
			 CCT_OK);
	assert_int_equal(cct_snp_verifier_add_certs(v, (uint8_t *)later, strlen(later), NULL),
			 CCT_OK);
	cct_snp_verifier_set_time(v, now);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_OK);
	cct_snp_verifier_set_time(v, now + 2 * 86400);
	assert_int_equal(verify_bytes(b, v, &pol, &err, NULL), CCT_EREVOKED);
	cct_snp_verifier_free(v);
	free(benign);
	free(later);
}

static void sim_chain_outcome_reused_by_a_new_verifier(void **state)
{
	/* a process (the broker, verify-bench) makes a verifier per request: the second one,
	 * trusting the same simulated ARK with the same collateral, reuses the first one's chain
	 * outcome (x509/vcache) instead of verifying the chain and the CRL again; one whose
	 * collateral CRL revokes the VCEK does not */
	time_t now = time(NULL);
	long serial = 77, other = 5;
	char *benign = make_collateral("coll-reuse-benign", &other, now - 3600, now + 86400);
	char *revoking = make_collateral("coll-reuse-revoking", &serial, now - 3600, now + 86400);
	cct_vcache *cache = cct_vcache_shared();
	cct_vcache_stats s0, s1;
	uint8_t b[CCT_SNP_REPORT_SIZE];
	cct_snp_verifier *v;
	cct_snp_policy pol;
	cct_snp_result res;
	cct_err err;
	int i;

	(void)state;
	assert_non_null(cache); /* unset CCT_VCACHE=0 to run this test */
	assert_int_equal(cct_sim_snp_report(b, sim, NULL, NULL), CCT_OK);
	cct_snp_policy_init(&pol);
	for (i = 0; i < 2; i++) {
		v = sim_verifier_coll(benign);
		cct_snp_verifier_set_time(v, now);
		cct_vcache_stats_get(cache, &s0);
		assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_OK);
		assert_true(res.crl_checked);
		cct_vcache_stats_get(cache, &s1);
		if (i == 1) { /* found, nothing verified again */
			assert_true(s1.hits > s0.hits);
			assert_int_equal(s1.inserts, s0.inserts);
		}
		cct_snp_verifier_free(v);
	}
	v = sim_verifier_coll(revoking);
	cct_snp_verifier_set_time(v, now);
	assert_int_equal(verify_bytes(b, v, &pol, &err, &res), CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	cct_snp_verifier_free(v);
	free(benign);
	free(revoking);
}

int main(void)
{
	const struct CMUnitTest real[] = {
		cmocka_unit_test(parse_fields_match_expected),
		cmocka_unit_test(parse_truncated_at_every_length),
		cmocka_unit_test(parse_trailing_bytes),
		cmocka_unit_test(parse_reserved_must_be_zero),
		cmocka_unit_test(parse_versions_and_algorithm),
		cmocka_unit_test(turin_tcb_layout),
		cmocka_unit_test(virtee_milan_verifies),
		cmocka_unit_test(pinned_ask_suffices),
		cmocka_unit_test(gsg_debug_refused_by_default),
		cmocka_unit_test(every_flipped_signed_byte_rejected),
		cmocka_unit_test(wrong_report_data_rejected),
		cmocka_unit_test(expired_vcek_rejected),
		cmocka_unit_test(tampered_vcek_rejected),
		cmocka_unit_test(other_chips_vcek_rejected),
		cmocka_unit_test(crl_required_by_default),
		cmocka_unit_test(turin_vcek_chain_verifies),
		cmocka_unit_test(foreign_ark_rejected),
	};
	const struct CMUnitTest simulated[] = {
		cmocka_unit_test(sim_report_verifies_and_is_marked),
		cmocka_unit_test(sim_version4_report_verifies),
		cmocka_unit_test(masked_chip_id_listed_as_skipped),
		cmocka_unit_test(sim_revoked_vcek_rejected),
		cmocka_unit_test(sim_vcek_tcb_mismatch_rejected),
		cmocka_unit_test(sim_policy_rules),
		cmocka_unit_test(cert_table_roundtrip),
		cmocka_unit_test(sim_turin_v5_verifies),
		cmocka_unit_test(sim_vlek_verifies),
		cmocka_unit_test(cli_vlek_chain_named),
		cmocka_unit_test(table_foreign_ark_stays_with_its_report),
		cmocka_unit_test(table_vcek_stays_with_its_report),
		cmocka_unit_test(evidence_crl_cannot_hide_revocation),
		cmocka_unit_test(cached_outcome_ends_where_a_held_crl_begins),
		cmocka_unit_test(sim_chain_outcome_reused_by_a_new_verifier),
	};
	int rc;

	load_reports();
	rc = cmocka_run_group_tests_name("snp_real_vectors", real, NULL, NULL);
	rc |= cmocka_run_group_tests_name("snp_simulated", simulated, sim_setup, sim_teardown);
	return rc;
}
