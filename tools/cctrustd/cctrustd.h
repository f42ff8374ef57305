/* cctrustd internals shared by its files (not installed). */
#ifndef CCTRUSTD_H
#define CCTRUSTD_H

#include "cctrust/kbs.h"
#include "cctrust/store.h"
#include "store/postgres.h"

/* Register the PostgreSQL back end (postgres:// and postgresql://) when libpq is built in.
 * Returns 1 when registered, 0 when this build has no libpq. */
int cctrustd_store_pg_register(void);

/* How the production attestation service is set up (flags / config file). */
typedef struct cctrustd_verifier_opts {
	const char *trust_sim_dir;  /* --trust-sim DIR: accept the simulated TEE (marked) */
	const char *policy_text;    /* --policy FILE contents, or NULL (built-in default) */
	const char *collateral_dir; /* --collateral DIR */
	struct cct_coll_live *collateral_live; /* --collateral BUNDLE, opened (and reloaded) by
						  main.c; NULL when DIR is no bundle */
	int offline;                /* --offline */
	const char *certs_path;     /* --certs PATH */
	const char *token_key_path; /* --token-key FILE (created 0600 when absent); NULL: the key
				       kept sealed in the store (shared by replicas) */
	int token_ttl_s;            /* --token-ttl S */
	const char *token_cert_pem; /* --token-cert FILE contents (x5c), or NULL */
} cctrustd_verifier_opts;

/* The production attestation service: the composite verifier (CPU + GPUs, binding, policy,
 * EAR token with a persistent ES256 key) of include/cctrust/kbs.h. *key_source_out (may be
 * NULL) says where the signing key came from, for the startup log. */
int cctrustd_composite_verifier_new(cct_kbs_verifier **out, const cctrustd_verifier_opts *o,
				    cct_store *store, const char **key_source_out, cct_err *err);

#endif
