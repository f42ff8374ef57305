/* Lazy loading of optional shared libraries (semi-private).
 *
 * libcurl (collateral fetching, the KBS client), libarchive (reproducible tar, bundle tars),
 * tpm2-tss (vTPM evidence collection, attester/dl_tss2.h), libxml2 + xmlsec1 (NVIDIA RIMs,
 * nvgpu/dl_xmlsec.h) and libcbor (attested-TLS evidence, ratls/dl_cbor.h) are loaded
 * with dlopen the first time a command needs them, so the many commands that never fetch or
 * pack do not pay for loading them and their dependency trees at every start-up. Each user
 * includes a small header (collateral/dl_curl.h, core/dl_archive.h, ...) that routes the
 * library's function names through a table filled once (pthread_once) by cct_dl_load. libcurl's
 * table starts as stubs that fail the way the real functions report failure (NULL handle, error
 * code); the other tables are unset until their cct_dl_*_ok() has returned 1, which every user
 * calls before the first library call and turns into a cct_err naming the missing shared
 * object (and, for xmlsec1 and libcbor, the Debian package to install). */
#ifndef CCT_CORE_DL_H
#define CCT_CORE_DL_H

#include <stddef.h>

/* dlopen soname (RTLD_NOW | RTLD_LOCAL) once and resolve names[i] into slots[i] for i < n.
 * Returns 1 when every symbol resolved; otherwise leaves every slot untouched and returns 0,
 * with a reason in why (if not NULL). */
int cct_dl_load(const char *soname, const char *const *names, void **slots, size_t n,
		char *why, size_t why_size);

#endif
