/* Row generations: the newest generation of each sealed row (kind and name) this process has
 * written or opened, so that a database writer who puts an older sealed row back (a policy, a
 * secret or a reference-value list the admin has since replaced) is refused instead of obeyed.
 * Kept in memory, and in a file when one is named (HMAC-SHA-256 under a key derived from the
 * master key), so that a restart does not forget them. docs/security.md. */
#ifndef CCT_STORE_GENERATIONS_H
#define CCT_STORE_GENERATIONS_H

#include <stdint.h>

#include "cctrust/errors.h"

typedef struct cct_store_gens cct_store_gens;

/* path NULL: in memory only. A file that exists must carry a valid MAC under mac_key, else
 * CCT_ESIGNATURE (a tampered or foreign file) or CCT_EFORMAT; a missing file is an empty
 * table (created on the first write). */
int cct_store__gens_open(cct_store_gens **out, const char *path, const uint8_t mac_key[32],
			 cct_err *err);
void cct_store__gens_free(cct_store_gens *g);
/* The newest generation known for id (0: none). */
uint64_t cct_store__gens_known(cct_store_gens *g, const char *id);
/* A row id of generation gen was written, or opened by a read that began when floor was the
 * newest generation known (cct_store__gens_known before the read): CCT_ESIGNATURE when gen is
 * older than floor (a roll-back: floor was committed before the read began, so a read of the
 * current row returns at least it). Else gen becomes the newest known when it is newer (saved
 * to the file first: CCT_EIO when that fails, and nothing is recorded). A generation learnt
 * after the read began does not count against it: that read may have fetched the row just
 * before a newer one was committed. */
int cct_store__gens_observe(cct_store_gens *g, const char *id, uint64_t gen, uint64_t floor,
			    cct_err *err);

#endif
