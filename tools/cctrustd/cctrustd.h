/* cctrustd internals shared by its files (not installed). */
#ifndef CCTRUSTD_H
#define CCTRUSTD_H

#include "cctrust/kbs.h"
#include "cctrust/store.h"

/* Register the PostgreSQL back end (postgres:// and postgresql://) when libpq is built in.
 * Returns 1 when registered, 0 when this build has no libpq. */
int cctrustd_store_pg_register(void);

/* The production attestation service: the composite verifier (CPU + GPUs, policy, EAR token)
 * trusting the simulated TEE's roots under trust_sim_dir when not NULL. This is THE seam the
 * composite-verification engineer fills in (tools/cctrustd/verifier.c). */
int cctrustd_composite_verifier_new(cct_kbs_verifier **out, const char *trust_sim_dir,
				    const char *policy_path, cct_err *err);

#endif
