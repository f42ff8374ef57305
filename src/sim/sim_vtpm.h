/* Simulated Azure paravisor vTPM (semi-private; sim_vtpm.c). */
#ifndef CCT_SIM_VTPM_H
#define CCT_SIM_VTPM_H

#include <jansson.h>

#include "cctrust/sim.h"

/* Trustee v1 evidence of so->tee ("az-snp-vtpm" or "az-tdx-vtpm") whose TPM quote's
 * qualifying data is nonce (<= 64 bytes; the attest request puts Trustee's 48-byte runtime-data
 * hash there) and whose HCL user data is the nonce zero-padded. *primary: new reference. */
int cct_sim__vtpm_primary(json_t **primary, const char *dir, const cct_sim_opts *so,
			  const uint8_t *nonce, size_t nonce_len, cct_err *err);

#endif
