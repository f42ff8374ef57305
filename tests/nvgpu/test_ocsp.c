/* OCSP of device chains, end to end on evidence signed by a test chain minted at test time
 * (OpenSSL CLI): good, revoked, certificateHold (refused unless allowed), responses signed by
 * the wrong key, stale responses, missing responses offline. The test roots are configured
 * explicitly (device_root_path_insecure); nothing here is trusted by default.
 * `nvgpu_test_ocsp --generate DIR` only writes the synthetic material (used by bench/gpu.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/nvgpu.h"
#include "nvgpu/nvgpu_internal.h"
#include "x509/ocsp.h"
#include "x509/x509.h"

static char dir[512];
static const uint8_t nonce[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static const char *mint_script =
	"set -e; cd '%s'\n"
	"exec >mint.log 2>&1\n"
	"printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' >ca.ext\n"
	"printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n' >leaf.ext\n"
	"for k in root brom leaf other; do openssl ecparam -name secp384r1 -genkey -noout -out $k.key; done\n"
	"openssl req -x509 -new -key root.key -subj '/CN=Test Device Root' -days 3650 -out root.pem "
	"  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign\n"
	"openssl req -new -key brom.key -subj '/CN=GH100 A01 GSP BROM' -out brom.csr\n"
	"openssl x509 -req -in brom.csr -CA root.pem -CAkey root.key -set_serial 0x1001 -days 3650 -out brom.pem -extfile ca.ext\n"
	"openssl req -new -key leaf.key -subj '/CN=GH100 A01 GSP FMC LF' -out leaf.csr\n"
	"openssl x509 -req -in leaf.csr -CA brom.pem -CAkey brom.key -set_serial 0x2002 -days 3650 -out leaf.pem -extfile leaf.ext\n"
	"cat leaf.pem brom.pem root.pem > chain.pem\n"
	"openssl ocsp -issuer brom.pem -cert leaf.pem -reqout leaf.req -no_nonce\n"
	"openssl ocsp -issuer root.pem -cert brom.pem -reqout brom.req -no_nonce\n"
	"now=$(date -u +%%y%%m%%d%%H%%M%%SZ)\n"
	"printf 'V\\t491231235959Z\\t\\t1001\\tunknown\\t/CN=GH100 A01 GSP BROM\\n' >root-idx.txt\n"
	"printf 'V\\t491231235959Z\\t\\t2002\\tunknown\\t/CN=GH100 A01 GSP FMC LF\\n' >good-idx.txt\n"
	"printf \"R\\t491231235959Z\\t$now,keyCompromise\\t2002\\tunknown\\t/CN=GH100 A01 GSP FMC LF\\n\" >rev-idx.txt\n"
	"printf \"R\\t491231235959Z\\t$now,certificateHold\\t2002\\tunknown\\t/CN=GH100 A01 GSP FMC LF\\n\" >hold-idx.txt\n"
	"for d in good revoked hold foreign; do mkdir -p $d; "
	"  openssl ocsp -index root-idx.txt -rsigner root.pem -rkey root.key -CA root.pem -reqin brom.req -respout $d/1001.der -ndays 2; done\n"
	"openssl ocsp -index good-idx.txt -rsigner brom.pem -rkey brom.key -CA brom.pem -reqin leaf.req -respout good/2002.der -ndays 2\n"
	"openssl ocsp -index rev-idx.txt -rsigner brom.pem -rkey brom.key -CA brom.pem -reqin leaf.req -respout revoked/2002.der -ndays 2\n"
	"openssl ocsp -index hold-idx.txt -rsigner brom.pem -rkey brom.key -CA brom.pem -reqin leaf.req -respout hold/2002.der -ndays 2\n"
	"openssl req -x509 -new -key other.key -subj '/CN=GH100 A01 GSP BROM' -days 30 -out other.pem\n"
	"openssl ocsp -index good-idx.txt -rsigner other.pem -rkey other.key -CA brom.pem -reqin leaf.req -respout foreign/2002.der -ndays 2\n";

/* SPDM request + response with one block and a driver-version opaque field, signed by leaf.key */
static uint8_t *make_evidence(size_t *n_out, int flip)
{
	uint8_t *b = calloc(1, 1024), dgst[48], *sig_der = NULL;
	size_t n = 0, i, siglen = 0;
	const unsigned char *q;
	char path[700];
	FILE *f;
	EVP_PKEY *key;
	EVP_PKEY_CTX *ctx;
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;

	b[n++] = 0x11; b[n++] = 0xe0; b[n++] = 0x01; b[n++] = 0xff;
	memcpy(b + n, nonce, 32); n += 32;
	b[n++] = 0;
	b[n++] = 0x11; b[n++] = 0x60; b[n++] = 0; b[n++] = 0;
	b[n++] = 1;                                   /* NumberOfBlocks */
	b[n++] = 55; b[n++] = 0; b[n++] = 0;          /* MeasurementRecordLength */
	b[n++] = 1; b[n++] = 1; b[n++] = 51; b[n++] = 0;
	b[n++] = 1; b[n++] = 48; b[n++] = 0;
	for (i = 0; i < 48; i++)
		b[n++] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 32; i++)
		b[n++] = (uint8_t)(0x50 + i);         /* responder nonce */
	b[n++] = 11; b[n++] = 0;                      /* OpaqueLength */
	b[n++] = 3; b[n++] = 0; b[n++] = 7; b[n++] = 0;
	memcpy(b + n, "590.12", 7); n += 7;
	cct_sha384(b, n, dgst);
	snprintf(path, sizeof(path), "%s/leaf.key", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ctx = EVP_PKEY_CTX_new(key, NULL);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, NULL, &siglen, dgst, 48), 1);
	sig_der = malloc(siglen);
	assert_int_equal(EVP_PKEY_sign(ctx, sig_der, &siglen, dgst, 48), 1);
	q = sig_der;
	sig = d2i_ECDSA_SIG(NULL, &q, (long)siglen);
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, b + n, 48);
	BN_bn2binpad(s, b + n + 48, 48);
	n += 96;
	if (flip)
		b[60] ^= 1;
	ECDSA_SIG_free(sig);
	free(sig_der);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	*n_out = n;
	return b;
}

static int setup(void **state)
{
	char cmd[8192];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/ocsp", cct_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), mint_script, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static cct_nvgpu_evidence_list *synth_list(int flip)
{
	cct_nvgpu_evidence_list *l = calloc(1, sizeof(*l));
	char path[700];
	size_t n, pn;
	uint8_t *ev = make_evidence(&n, flip), *pem;

	snprintf(path, sizeof(path), "%s/chain.pem", dir);
	pem = cct_test_read_file(path, &pn);
	assert_non_null(pem);
	assert_int_equal(cct_nvgpu__entry_add(l, "HOPPER", ev, n, pem, pn, NULL), CCT_OK);
	free(ev);
	free(pem);
	return l;
}

static int verify_with(const char *sub, int allow_hold, time_t at, json_t **claims, cct_err *err)
{
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	cct_nvgpu_evidence_list *l = synth_list(0);
	char root[700], od[700];
	int rc;

	cct_nvgpu_opts_init(&o);
	snprintf(root, sizeof(root), "%s/root.pem", dir);
	snprintf(od, sizeof(od), "%s/%s", dir, sub);
	o.device_root_path_insecure = root;
	o.ocsp_dir = od;
	o.offline = 1;
	o.no_rim = 1;
	o.allow_hold = allow_hold;
	o.at = at;
	assert_int_equal(cct_nvgpu_verifier_new(&v, &o, NULL), CCT_OK);
	rc = cct_nvgpu__verify_claims(claims, v, l, nonce, 32, err);
	cct_nvgpu_verifier_free(v);
	cct_nvgpu_evidence_list_free(l);
	return rc;
}

static json_t *chain_claims(json_t *c)
{
	return json_object_get(json_array_get(json_object_get(c, "gpus"), 0),
			       "x-nvidia-gpu-attestation-report-cert-chain");
}

static void good_responses_accept(void **state)
{
	json_t *c = NULL;
	cct_err err;

	(void)state;
	assert_int_equal(verify_with("good", 0, 0, &c, &err), CCT_OK);
	assert_string_equal(json_string_value(json_object_get(chain_claims(c), "x-nvidia-cert-ocsp-status")), "good");
	json_decref(c);
}

static void revoked_leaf_is_rejected(void **state)
{
	json_t *c = NULL;
	cct_err err;

	(void)state;
	assert_int_equal(verify_with("revoked", 1, 0, &c, &err), CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	assert_string_equal(json_string_value(json_object_get(chain_claims(c), "x-nvidia-cert-revocation-reason")), "keyCompromise");
	json_decref(c);
}

static void hold_refused_unless_allowed(void **state)
{
	json_t *c = NULL;
	cct_err err;

	(void)state;
	assert_int_equal(verify_with("hold", 0, 0, &c, &err), CCT_EREVOKED);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	assert_non_null(strstr(err.msg, "certificateHold"));
	json_decref(c);
	assert_int_equal(verify_with("hold", 1, 0, &c, &err), CCT_OK);
	assert_string_equal(json_string_value(json_object_get(chain_claims(c), "x-nvidia-cert-revocation-reason")), "certificateHold");
	json_decref(c);
}

static void foreign_signer_stale_and_missing_fail_closed(void **state)
{
	json_t *c = NULL;
	cct_err err;

	(void)state;
	assert_int_equal(verify_with("foreign", 0, 0, &c, &err), CCT_ECOLLATERAL);
	assert_int_equal(err.stage, CCT_STAGE_REVOCATION);
	json_decref(c);
	assert_int_equal(verify_with("good", 0, time(NULL) + 10 * 86400, &c, &err), CCT_ECOLLATERAL);
	assert_non_null(strstr(err.msg, "not current"));
	json_decref(c);
	assert_int_equal(verify_with("nonexistent", 0, 0, &c, &err), CCT_ECOLLATERAL);
	assert_non_null(strstr(err.msg, "2002.der"));
	json_decref(c);
}

static void synthetic_signature_flip_rejected(void **state)
{
	cct_nvgpu_opts o;
	cct_nvgpu_verifier *v = NULL;
	cct_nvgpu_evidence_list *l = synth_list(1);
	char root[700];
	cct_err err;

	(void)state;
	cct_nvgpu_opts_init(&o);
	snprintf(root, sizeof(root), "%s/root.pem", dir);
	o.device_root_path_insecure = root;
	o.no_ocsp = 1;
	o.no_rim = 1;
	assert_int_equal(cct_nvgpu_verifier_new(&v, &o, NULL), CCT_OK);
	assert_int_equal(cct_nvgpu_verify(NULL, v, l, nonce, 32, &err), CCT_ESIGNATURE);
	/* the pinned NVIDIA root does not accept the test chain */
	cct_nvgpu_verifier_free(v);
	o.device_root_path_insecure = NULL;
	assert_int_equal(cct_nvgpu_verifier_new(&v, &o, NULL), CCT_OK);
	assert_int_equal(cct_nvgpu_verify(NULL, v, l, nonce, 32, &err), CCT_ECHAIN);
	cct_nvgpu_verifier_free(v);
	cct_nvgpu_evidence_list_free(l);
}

static int generate(const char *out)
{
	char cmd[8192], p[700];
	size_t n, pn;
	uint8_t *ev;
	char *e64, *p64, *pem;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", out);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	snprintf(cmd, sizeof(cmd), mint_script, dir);
	if (system(cmd) != 0)
		return 1;
	ev = make_evidence(&n, 0);
	snprintf(p, sizeof(p), "%s/chain.pem", dir);
	pem = (char *)cct_test_read_file(p, &pn);
	if (!pem)
		return 1;
	e64 = cct_b64_encode(ev, n, 0);
	p64 = cct_b64_encode((uint8_t *)pem, pn, 0);
	snprintf(p, sizeof(p), "%s/evidence.json", dir);
	f = fopen(p, "w");
	fprintf(f, "[{\"arch\":\"HOPPER\",\"nonce\":\"0102030405060708090a0b0c0d0e0f10"
		   "1112131415161718191a1b1c1d1e1f20\",\"evidence\":\"%s\",\"certificate\":\"%s\"}]\n",
		e64, p64);
	fclose(f);
	free(e64);
	free(p64);
	free(pem);
	free(ev);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_responses_accept),
		cmocka_unit_test(revoked_leaf_is_rejected),
		cmocka_unit_test(hold_refused_unless_allowed),
		cmocka_unit_test(foreign_signer_stale_and_missing_fail_closed),
		cmocka_unit_test(synthetic_signature_flip_rejected),
	};

	if (argc == 3 && !strcmp(argv[1], "--generate"))
		return generate(argv[2]);
	return cmocka_run_group_tests(tests, setup, NULL);
}
