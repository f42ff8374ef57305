/* token verify on hostile EAR tokens: signed with a fresh key, each one wrong in one way that
 * the verifier must see (time claims at --at, bytes after a NUL). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/token.h"
#include "kbs/kbs_int.h"

#define AT 1750000000 /* 2025-06-15T15:06:40Z */

typedef struct {
	cct_token_signer *s;
	json_t *jwks;
	const char *jwks_path;
} fixture;

static void fixture_init(fixture *f)
{
	cct_err err;
	char *t;

	assert_int_equal(cct_token_signer_generate(&f->s, &err), CCT_OK);
	f->jwks = cct_token_signer_jwks(f->s);
	assert_non_null(f->jwks);
	t = json_dumps(f->jwks, JSON_COMPACT);
	assert_non_null(t);
	f->jwks_path = strdup(cct_test_write_tmp("jwks.json", t, strlen(t)));
	free(t);
}

static void fixture_free(fixture *f)
{
	cct_token_signer_free(f->s);
	json_decref(f->jwks);
	free((void *)f->jwks_path);
}

/* an affirming EAR token; extra ("{...}" JSON, or NULL) is merged into its claims */
static char *ear(const fixture *f, long long exp, const char *extra)
{
	json_t *c = json_pack("{s:s,s:I,s:I,s:{s:{s:s}}}", "eat_profile", CCT_TOKEN_EAR_PROFILE,
			      "iat", (json_int_t)(AT - 100), "exp", (json_int_t)exp, "submods",
			      "cpu0", "ear.status", "affirming");
	char *tok = NULL;
	cct_err err;

	assert_non_null(c);
	if (extra) {
		json_t *x = json_loads(extra, 0, NULL);

		assert_non_null(x);
		json_object_update(c, x);
		json_decref(x);
	}
	assert_int_equal(cct_token_sign(&tok, f->s, c, &err), CCT_OK);
	json_decref(c);
	return tok;
}

static int verify_at(const fixture *f, const char *tok, size_t n, time_t at, cct_err *err)
{
	cct_token_verify_opts o;
	json_t *claims = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.jwks = f->jwks;
	o.at = at;
	rc = cct_token_verify(&claims, tok, n, &o, err);
	json_decref(claims);
	return rc;
}

static void baseline(void **state)
{
	fixture f;
	cct_err err;
	char *tok, *out = NULL;

	(void)state;
	fixture_init(&f);
	tok = ear(&f, AT + 3600, NULL);
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT, &err), CCT_OK);
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT + 7200, &err), CCT_EEXPIRED);
	assert_int_equal(cct_test_cli(&out, "token verify '%s' --jwks '%s' --at "
					    "2025-06-15T15:06:40Z --json",
				      cct_test_write_tmp("t.jwt", tok, strlen(tok)), f.jwks_path),
			 0);
	free(out);
	/* --json: a token that cannot be read gets an object with the same members */
	{
		static const char *const members[] = { "token", "verified", "error", "affirming",
						       "key", "simulated", "checks_skipped",
						       "claims" };
		json_t *o;
		size_t i;
		char *nl;

		assert_int_equal(cct_test_cli(&out, "token verify '%s' /nonexistent --jwks '%s' "
						    "--at 2025-06-15T15:06:40Z --json 2>/dev/null",
					      cct_test_write_tmp("t.jwt", tok, strlen(tok)),
					      f.jwks_path),
				 2);
		nl = strchr(out, '\n');
		assert_non_null(nl);
		o = json_loads(nl + 1, 0, NULL);
		assert_non_null(o);
		for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
			if (!json_object_get(o, members[i]))
				fail_msg("unreadable token's JSON lacks \"%s\"", members[i]);
		json_decref(o);
		free(out);
	}
	free(tok);
	fixture_free(&f);
}

/* "nbf" (RFC 7519 4.1.5): a token is not accepted before it, at the --at given */
static void not_before(void **state)
{
	fixture f;
	cct_err err;
	char *tok, *out = NULL;
	const char *path;

	(void)state;
	fixture_init(&f);
	tok = ear(&f, AT + 86400, "{\"nbf\": 1750003600}");
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT, &err), CCT_EEXPIRED);
	assert_non_null(strstr(err.msg, "nbf"));
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT + 3600, &err), CCT_OK);
	path = cct_test_write_tmp("nbf.jwt", tok, strlen(tok));
	assert_int_equal(cct_test_cli(&out, "token verify '%s' --jwks '%s' --at "
					    "2025-06-15T15:06:40Z --json",
				      path, f.jwks_path),
			 1);
	assert_non_null(strstr(out, "nbf"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "token verify '%s' --jwks '%s' --at "
					    "2025-06-15T16:06:40Z",
				      path, f.jwks_path),
			 0);
	free(out);
	free(tok);
	/* present but not a NumericDate: judged, never ignored */
	tok = ear(&f, AT + 86400, "{\"nbf\": \"2025-06-15\"}");
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT, &err), CCT_EFORMAT);
	free(tok);
	fixture_free(&f);
}

/* a NUL byte ends the text the JWS code reads: the bytes after it were never judged, and a
 * valid token with anything appended after a NUL verified */
static void nul_byte(void **state)
{
	fixture f;
	cct_err err;
	char *tok, *buf, *out = NULL;
	size_t n;

	(void)state;
	fixture_init(&f);
	tok = ear(&f, AT + 3600, NULL);
	n = strlen(tok);
	buf = malloc(n + 16);
	assert_non_null(buf);
	memcpy(buf, tok, n);
	memcpy(buf + n, "\0.evil.tail\n", 13);
	assert_int_equal(verify_at(&f, buf, n + 13, AT, &err), CCT_EFORMAT);
	assert_non_null(strstr(err.msg, "NUL"));
	assert_int_equal(cct_test_cli(&out, "token verify '%s' --jwks '%s' --at "
					    "2025-06-15T15:06:40Z 2>&1",
				      cct_test_write_tmp("nul.jwt", buf, n + 13), f.jwks_path),
			 1);
	assert_non_null(strstr(out, "NUL"));
	free(out);
	/* the trailing newline a file usually has is still fine */
	memcpy(buf + n, "\n", 1);
	assert_int_equal(verify_at(&f, buf, n + 1, AT, &err), CCT_OK);
	free(buf);
	free(tok);
	fixture_free(&f);
}

/* exp near the integer maximum: exp + skew overflowed (undefined; in practice it wrapped
 * negative and a token valid for ever read as expired) */
static void exp_extremes(void **state)
{
	fixture f;
	cct_err err;
	char *tok;

	(void)state;
	fixture_init(&f);
	tok = ear(&f, INT64_MAX, NULL);
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT, &err), CCT_OK);
	free(tok);
	tok = ear(&f, INT64_MIN, NULL);
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT, &err), CCT_EEXPIRED);
	free(tok);
	tok = ear(&f, AT + 3600, "{\"nbf\": -9223372036854775807}");
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT, &err), CCT_OK);
	free(tok);
	tok = ear(&f, AT + 3600, "{\"nbf\": 9223372036854775807, \"iat\": 9223372036854775807}");
	assert_int_equal(verify_at(&f, tok, strlen(tok), AT, &err), CCT_EEXPIRED);
	free(tok);
	fixture_free(&f);
}

/* cert verify (a workload certificate from the workload CA): what a run did not check is
 * said: no claims given, or claims taken from a token whose signature it does not check */
static void cert_checks_skipped(void **state)
{
	static const char claims[] = "{\"submods\": {\"cpu0\": {\"ear.status\": \"affirming\"}}}";
	cct_kbs_ca *ca = NULL;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *req = X509_REQ_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *csr = NULL, *pem = NULL, *out = NULL, *cert, *cap, *clp;
	long n;
	cct_err err;
	json_t *o;
	time_t now = time(NULL), later = now + 7200;
	char at[32], at_late[32];

	(void)state;
	/* the generated CA is valid from now on */
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	strftime(at_late, sizeof(at_late), "%Y-%m-%dT%H:%M:%SZ", gmtime(&later));
	assert_non_null(k);
	assert_non_null(req);
	assert_non_null(b);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
						    MBSTRING_ASC, (const unsigned char *)"workload",
						    -1, -1, 0),
			 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(b, req), 1);
	n = BIO_get_mem_data(b, &csr);
	assert_int_equal(cct_kbs__ca_new(&ca, NULL, NULL, &err), CCT_OK);
	assert_int_equal(cct_kbs__ca_issue(&pem, ca, (const uint8_t *)csr, (size_t)n, k, claims,
					   (int64_t)now, 3600, &err),
			 CCT_OK);
	cert = strdup(cct_test_write_tmp("cert.pem", pem, strlen(pem)));
	cap = strdup(cct_test_write_tmp("ca.pem", cct_kbs__ca_pem(ca),
					strlen(cct_kbs__ca_pem(ca))));
	clp = strdup(cct_test_write_tmp("claims.json", claims, strlen(claims)));
	assert_int_equal(cct_test_cli(&out, "cert verify '%s' --ca '%s' --at %s --json", cert, cap,
				      at),
			 0);
	o = json_loads(out, 0, NULL);
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "valid")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "checks_skipped"),
							     0)),
			    "claims_digest");
	json_decref(o);
	free(out);
	assert_int_equal(cct_test_cli(&out, "cert verify '%s' --ca '%s' --at %s "
					    "2>&1", cert, cap, at),
			 0);
	assert_non_null(strstr(out, "claims_digest"));
	free(out);
	assert_int_equal(cct_test_cli(&out, "cert verify '%s' --ca '%s' --claims '%s' --at "
					    "%s --json", cert, cap, clp, at),
			 0);
	o = json_loads(out, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "checks_skipped")), 0);
	json_decref(o);
	free(out);
	/* a NUL in --claims: the bytes after it were left out of the digest, unseen */
	{
		char buf[sizeof(claims) + 16];
		const char *np;

		memcpy(buf, claims, sizeof(claims)); /* with its NUL */
		memcpy(buf + sizeof(claims), "{\"x\": 1}", 8);
		np = cct_test_write_tmp("claims-nul.json", buf, sizeof(claims) + 8);
		assert_int_equal(cct_test_cli(&out, "cert verify '%s' --ca '%s' --claims '%s' --at "
						    "%s --json", cert, cap, np, at),
				 2);
		assert_non_null(strstr(out, "NUL"));
		free(out);
	}
	/* claims from a token: its signature is not what this command checks, and says so */
	{
		static const char tok[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWJtb2RzIjogeyJjcHUwIjogeyJlYXIu"
					  "c3RhdHVzIjogImFmZmlybWluZyJ9fX0.c2ln";
		const char *tp = cct_test_write_tmp("claims.jwt", tok, strlen(tok));

		assert_int_equal(cct_test_cli(&out, "cert verify '%s' --ca '%s' --token '%s' --at "
						    "%s --json", cert, cap, tp, at),
				 0);
		assert_non_null(strstr(out, "\"token_signature\""));
		free(out);
	}
	/* --at honoured: after the certificate's notAfter */
	assert_int_equal(cct_test_cli(&out, "cert verify '%s' --ca '%s' --claims '%s' --at "
					    "%s --json", cert, cap, clp, at_late),
			 1);
	free(out);
	free(cert);
	free(cap);
	free(clp);
	free(pem);
	cct_kbs__ca_free(ca);
	BIO_free(b);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(baseline),
		cmocka_unit_test(not_before),
		cmocka_unit_test(nul_byte),
		cmocka_unit_test(exp_extremes),
		cmocka_unit_test(cert_checks_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
