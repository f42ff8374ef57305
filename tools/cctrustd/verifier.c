/* The attestation service cctrustd runs: the composite verifier of src/kbs/composite.c with a
 * persistent EAR signing key. The key is the same across restarts and across replicas, so a
 * token issued by one replica verifies on another and /.well-known/jwks.json is stable:
 *   --token-key FILE   a P-256 private key (PEM); generated there (0600) on first start;
 *   otherwise          kept in the store, sealed under the master key (kind "service-key"),
 *                      created once (insert-if-absent: racing replicas agree on the winner). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cctrust/core.h"
#include "cctrust/token.h"
#include "cctrustd.h"

#define TOKEN_KEY_NAME "ear-signing-key"
#define TOKEN_KEY_MAX 16384

static char *fresh_key_pem(cct_err *err)
{
	cct_token_signer *s = NULL;
	char *pem;

	if (cct_token_signer_generate(&s, err) != CCT_OK)
		return NULL;
	pem = cct_token_signer_pem(s);
	cct_token_signer_free(s);
	if (!pem)
		cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	return pem;
}

static void wipe_str(char *p)
{
	if (p) {
		cct_wipe(p, strlen(p));
		free(p);
	}
}

/* The key PEM (malloc'd, NUL-terminated) from FILE, generating it when absent. */
static int key_from_file(char **pem, const char *path, cct_err *err)
{
	uint8_t *b = NULL;
	size_t n = 0;
	struct stat st;
	int rc;

	*pem = NULL;
	if (stat(path, &st) != 0 && errno == ENOENT) {
		char *fresh = fresh_key_pem(err);

		if (!fresh)
			return err ? err->code : CCT_ERROR;
		rc = cct_file_write(path, fresh, strlen(fresh), 1, err);
		wipe_str(fresh);
		if (rc != CCT_OK)
			return rc;
	}
	if ((rc = cct_file_read(&b, &n, path, TOKEN_KEY_MAX, err)) != CCT_OK)
		return rc;
	*pem = (char *)b; /* cct_file_read NUL-terminates */
	return CCT_OK;
}

static int key_from_store(char **pem, cct_store *store, cct_err *err)
{
	uint8_t *b = NULL;
	size_t n = 0;
	char *fresh, *t;
	int rc, created = 0;

	*pem = NULL;
	rc = cct_store_sealed_get(store, CCT_STORE_KIND_SERVICE_KEY, TOKEN_KEY_NAME, &b, &n, err);
	if (rc == CCT_EINVAL) { /* first start: create it, then read whatever won */
		if (!(fresh = fresh_key_pem(err)))
			return err ? err->code : CCT_ERROR;
		rc = cct_store_sealed_create(store, CCT_STORE_KIND_SERVICE_KEY, TOKEN_KEY_NAME,
					     (const uint8_t *)fresh, strlen(fresh),
					     (int64_t)time(NULL), &created, err);
		wipe_str(fresh);
		if (rc == CCT_OK)
			rc = cct_store_sealed_get(store, CCT_STORE_KIND_SERVICE_KEY, TOKEN_KEY_NAME,
						  &b, &n, err);
	}
	if (rc != CCT_OK)
		return rc;
	t = realloc(b, n + 1);
	if (!t) {
		cct_wipe(b, n);
		free(b);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	t[n] = 0;
	*pem = t;
	return CCT_OK;
}

int cctrustd_composite_verifier_new(cct_kbs_verifier **out, const cctrustd_verifier_opts *o,
				    cct_store *store, const char **key_source_out, cct_err *err)
{
	cct_kbs_composite_config cfg;
	char *pem = NULL;
	int rc = CCT_ERROR;

	*out = NULL;
	if (o->token_key_path)
		rc = key_from_file(&pem, o->token_key_path, err);
	else
		rc = key_from_store(&pem, store, err);
	if (rc != CCT_OK)
		goto out;
	if (key_source_out)
		*key_source_out = o->token_key_path ? o->token_key_path : "the store (sealed)";
	memset(&cfg, 0, sizeof(cfg));
	cfg.signing_key_pem = pem;
	cfg.default_policy = o->policy_text;
	cfg.trust_sim_dir = o->trust_sim_dir;
	cfg.collateral_dir = o->collateral_dir;
	cfg.collateral_live = o->collateral_live;
	cfg.offline = o->offline;
	cfg.certs_path = o->certs_path;
	cfg.token_ttl_s = o->token_ttl_s;
	cfg.issuer = "cctrustd";
	cfg.token_cert_pem = o->token_cert_pem;
	rc = cct_kbs_verifier_composite_new(out, &cfg, err);
out:
	wipe_str(pem);
	return rc;
}
