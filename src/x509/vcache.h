/* Verification result cache (semi-private, shared by the TDX, SNP and GPU verifiers).
 *
 * One outcome of an expensive check (a certificate chain, signed collateral, a RIM signature,
 * an OCSP response) is remembered under a 32-byte key that the caller derives with SHA-256 from
 * EVERY input of the check (content bytes, trust anchors, CRLs, flags; never the verification
 * time) together with the closed time window [lo, hi] over which that outcome does not change.
 * A lookup at time `at` hits only when lo <= at <= hi, so expiry and not-yet-valid are re-checked
 * by construction: a success is stored with the intersection of every validity window it relied
 * on, a failure with [at, at] (or the whole time line when it does not depend on time), so a
 * cached failure is replayed as that same failure and can never turn into a success.
 *
 * Bounded: least-recently-used entries are dropped beyond the capacity. Thread-safe without a
 * global lock: 16 shards, each with its own short mutex held only to look up or insert, never
 * while a verification runs. An entry may carry an immutable object (parsed certificates, a
 * public key) shared by readers; a reader pins it with cct_vcache_get and unpins it with
 * cct_vcache_release, so eviction never frees an object in use.
 *
 * CCT_VCACHE=0 in the environment disables every cache (each check runs every time), which is
 * how the tests compare cached and uncached outcomes and the bench measures the difference. */
#ifndef CCT_X509_VCACHE_H
#define CCT_X509_VCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "cctrust/errors.h"

#define CCT_VCACHE_FOREVER_LO ((time_t)INT64_MIN)
#define CCT_VCACHE_FOREVER_HI ((time_t)INT64_MAX)

typedef struct cct_vcache cct_vcache;
typedef struct cct_vcache_entry cct_vcache_entry;

/* capacity: entries kept (at least 16). NULL when out of memory or disabled by CCT_VCACHE=0
 * (every function accepts a NULL cache and then caches nothing). */
cct_vcache *cct_vcache_new(size_t capacity);
void cct_vcache_free(cct_vcache *c);

/* The entry under key whose window contains at, pinned (release it), or NULL. */
cct_vcache_entry *cct_vcache_get(cct_vcache *c, const uint8_t key[32], time_t at);
/* Outcome of a pinned entry: its status code (CCT_OK or the failure) and, when err != NULL and
 * the outcome is a failure, the exact error recorded with it. */
int cct_vcache_entry_rc(const cct_vcache_entry *e, cct_err *err);
/* The object stored with the entry (read-only; valid until released). */
void *cct_vcache_entry_obj(const cct_vcache_entry *e);
void cct_vcache_release(cct_vcache_entry *e);

/* Remember outcome rc (+ err when rc != CCT_OK) for key over [lo, hi]; replaces an entry with
 * the same key. obj (may be NULL) is owned by the entry from now on and freed with obj_free
 * when the entry is dropped and no longer pinned. Returns the new entry pinned (release it):
 * when c is NULL or the window is empty it is a standalone entry that is not remembered, so
 * the caller uses the same code path either way. NULL only when out of memory (obj freed). */
cct_vcache_entry *cct_vcache_put(cct_vcache *c, const uint8_t key[32], time_t lo, time_t hi,
				 int rc, const cct_err *err, void *obj,
				 void (*obj_free)(void *));

/* Counters since the cache was made (for tests, the bench and /metrics). */
typedef struct cct_vcache_stats {
	uint64_t hits, misses, inserts, evictions;
	size_t entries;
} cct_vcache_stats;
void cct_vcache_stats_get(cct_vcache *c, cct_vcache_stats *out);

/* The process-wide cache every verifier uses (capacity CCT_VCACHE_SIZE, default 1024 entries;
 * keys start with a per-check domain string so checks never collide). NULL when disabled. */
cct_vcache *cct_vcache_shared(void);

/* Narrow [*lo, *hi] to a certificate's validity / a CRL's thisUpdate..nextUpdate; an
 * undecodable time makes the window empty (lo > hi), and an empty window is never cached. */
void cct_vcache_window_cert(time_t *lo, time_t *hi, const X509 *x);
void cct_vcache_window_crl(time_t *lo, time_t *hi, const X509_CRL *crl);

/* 1 unless CCT_VCACHE=0 was set when first asked. */
int cct_vcache_enabled(void);

/* Key derivation: SHA-256 over a domain string and any number of (pointer, length) parts, each
 * length-prefixed so that part boundaries cannot be shifted. parts[i].p may be NULL with n 0.
 * Returns 1, or 0 when hashing failed (the caller then must not use the cache). */
typedef struct cct_vcache_part {
	const void *p;
	size_t n;
} cct_vcache_part;
int cct_vcache_key(uint8_t key[32], const char *domain, const cct_vcache_part *parts,
		   size_t count);

/* Narrow [*lo, *hi] to its intersection with [a, b]. */
static inline void cct_vcache_window(time_t *lo, time_t *hi, time_t a, time_t b)
{
	if (a > *lo)
		*lo = a;
	if (b < *hi)
		*hi = b;
}

#endif
