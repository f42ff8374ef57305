/* cctrust collateral bundles (cctrust.collateral/v1, docs/collateral.md).
 *
 * A bundle is a directory (or a .tar of one) holding manifest.json and the vendors' own bytes
 * (DER certificates and CRLs, signed JSON, RIM XML, OCSP responses). Verifiers do not read a
 * bundle directly: they query a cct_collateral_source (kind + key -> bytes), which a bundle,
 * a cache or a fetcher can implement. */
#ifndef CCTRUST_COLLATERAL_H
#define CCTRUST_COLLATERAL_H

#include <time.h>

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_COLLATERAL_VERSION "cctrust.collateral/v1"
#define CCT_COLLATERAL_MAX_ITEMS 4096
#define CCT_COLLATERAL_MAX_MANIFEST (4u * 1024u * 1024u)
#define CCT_COLLATERAL_MAX_ITEM (8u * 1024u * 1024u)
#define CCT_COLLATERAL_MAX_KEY 256

/** Item kinds (the manifest's "kind" strings). */
typedef enum {
	CCT_COLL_SNP_VCEK = 0,     /**< "snp-vcek": key "<Product>/<hwid hex>/<tcb>" (DER) */
	CCT_COLL_SNP_VLEK_CHAIN,   /**< "snp-vlek-chain": key "<Product>" (PEM ASVK+ARK) */
	CCT_COLL_SNP_ASK_ARK,      /**< "snp-ask-ark": key "<Product>" (PEM ASK+ARK) */
	CCT_COLL_SNP_CRL,          /**< "snp-crl": key "vcek/<Product>" | "vlek/<Product>" (DER) */
	CCT_COLL_TDX_PCK_CRL,      /**< "tdx-pck-crl": key "processor" | "platform" (DER) */
	CCT_COLL_TDX_ROOT_CA_CRL,  /**< "tdx-root-ca-crl": key "root" (DER) */
	CCT_COLL_TDX_TCB_INFO,     /**< "tdx-tcb-info": key "<fmspc hex>" (signed JSON) */
	CCT_COLL_TDX_QE_IDENTITY,  /**< "tdx-qe-identity": key "tdx" (signed JSON) */
	CCT_COLL_NVIDIA_RIM,       /**< "nvidia-rim": key "<RIM id>" (XML) */
	CCT_COLL_NVIDIA_OCSP,      /**< "nvidia-ocsp": key "<serial hex>" (DER OCSP response) */
	CCT_COLL_KIND_COUNT
} cct_coll_kind;

/** "snp-vcek", ...; NULL when out of range. */
CCT_EXTERN const char *cct_coll_kind_name(cct_coll_kind k);
/** Kind from its name; -1 when unknown. */
CCT_EXTERN int cct_coll_kind_from_name(const char *name);

/** One manifest entry. Times are 0 when absent. issuer_chain: PCS issuer-chain header
 *  (PEM), for TDX items only. */
typedef struct cct_coll_item {
	cct_coll_kind kind;
	char key[CCT_COLLATERAL_MAX_KEY];
	char *path;            /**< relative to the bundle root */
	char *issuer_chain;    /**< relative path of the issuer chain (PEM) or NULL */
	char *source;          /**< URL it was fetched from (may be NULL) */
	time_t fetched_at, not_before, not_after, next_update;
	uint8_t sha256[32];
	uint8_t chain_sha256[32];
} cct_coll_item;

/** A parsed manifest. */
typedef struct cct_coll_manifest {
	cct_coll_item *items;
	size_t count;
} cct_coll_manifest;

/** Parse manifest.json (untrusted bytes): version, kinds, keys, relative paths without "..",
 *  RFC 3339 times, SHA-256 hex. Errors EENCODING (not JSON), EFORMAT/EUNSUPPORTED naming the
 *  item index and field, ETOOBIG. */
CCT_EXTERN int cct_coll_manifest_parse(cct_coll_manifest *out, const uint8_t *buf, size_t len,
				       cct_err *err);
/** Serialise (items sorted by kind, key). Caller frees. */
CCT_EXTERN char *cct_coll_manifest_dump(const cct_coll_manifest *m);
CCT_EXTERN void cct_coll_manifest_clear(cct_coll_manifest *m);

/** An opened bundle (directory or .tar). */
typedef struct cct_coll_bundle cct_coll_bundle;

/** Open a bundle: a directory with manifest.json, or a tar archive (read with libarchive).
 *  create=1 makes an empty directory bundle when path does not exist (fetch -o). Errors EIO,
 *  EFORMAT (manifest). */
CCT_EXTERN int cct_coll_bundle_open(cct_coll_bundle **out, const char *path, int create,
				    cct_err *err);
CCT_EXTERN void cct_coll_bundle_free(cct_coll_bundle *b);
CCT_EXTERN const cct_coll_manifest *cct_coll_bundle_manifest(const cct_coll_bundle *b);
/** 1 when path looks like a bundle (directory with manifest.json, or a .tar file). */
CCT_EXTERN int cct_coll_is_bundle(const char *path);
/** Find an item by kind and key (NULL when absent). */
CCT_EXTERN const cct_coll_item *cct_coll_bundle_find(const cct_coll_bundle *b, cct_coll_kind kind,
						     const char *key);
/** Read an item's bytes (and its issuer chain when chain != NULL), checking the manifest's
 *  SHA-256. Errors EIO, ESIGNATURE (digest mismatch: the item was altered). */
CCT_EXTERN int cct_coll_bundle_read(const cct_coll_bundle *b, const cct_coll_item *it,
				    uint8_t **body, size_t *len, uint8_t **chain, size_t *chain_len,
				    cct_err *err);
/** Store (or replace) an item in a directory bundle and rewrite manifest.json atomically.
 *  it->path/sha256 are computed; the caller fills kind, key, source and times. */
CCT_EXTERN int cct_coll_bundle_put(cct_coll_bundle *b, const cct_coll_item *it,
				   const uint8_t *body, size_t len, const uint8_t *chain,
				   size_t chain_len, cct_err *err);
/** Write a directory bundle as a tar archive at path. */
CCT_EXTERN int cct_coll_bundle_write_tar(const cct_coll_bundle *b, const char *path, cct_err *err);

/** A source of collateral for verifiers: get() returns CCT_OK with malloc'd bytes (and the
 *  issuer chain when asked and present), ECOLLATERAL when the item is absent, or another error
 *  when it is present but unusable. */
typedef struct cct_collateral_source {
	void *ctx;
	int (*get)(void *ctx, cct_coll_kind kind, const char *key, uint8_t **body, size_t *len,
		   uint8_t **chain, size_t *chain_len, cct_err *err);
} cct_collateral_source;

/** A source reading from bundle b (b must outlive the source). Counts hits for /metrics. */
CCT_EXTERN void cct_coll_bundle_source(cct_collateral_source *src, cct_coll_bundle *b);
/** Convenience: get through a source (NULL source -> ECOLLATERAL). */
CCT_EXTERN int cct_coll_get(const cct_collateral_source *src, cct_coll_kind kind, const char *key,
			    uint8_t **body, size_t *len, uint8_t **chain, size_t *chain_len,
			    cct_err *err);


/* ---- validation, freshness, fetching (src/collsvc: uses the verifiers' own checks) ---- */

/** Test-only trust overrides (simulated GPU PKI); production leaves them NULL. */
typedef struct cct_coll_trust {
	const char *gpu_device_root_insecure;
	const char *gpu_rim_root_insecure;
} cct_coll_trust;

/** Validate an item's bytes with the verifiers' own checks at time at: AMD chain / CRL
 *  signature (src/snp), Intel TCB info / QE identity / CRL signatures and issuer chains
 *  (src/tdx; TDX items need b's tdx-root-ca-crl), RIM XML-DSig and chain (src/nvgpu), OCSP
 *  response signature (src/x509/ocsp). Fills it->not_before/not_after/next_update from the
 *  bytes. b may be NULL (then TDX items other than the Root CA CRL cannot be validated). */
CCT_EXTERN int cct_coll_validate(cct_coll_item *it, const uint8_t *body, size_t len,
				 const uint8_t *chain, size_t chain_len, const cct_coll_bundle *b,
				 const uint8_t *root_crl, size_t root_crl_len,
				 const cct_coll_trust *trust, time_t at, cct_err *err);

typedef enum {
	CCT_COLL_FRESH = 0,    /**< valid and fresh at T (+ DAYS) */
	CCT_COLL_EXPIRING,     /**< valid at T but expires / is due before T + DAYS */
	CCT_COLL_EXPIRED,      /**< past notAfter / nextUpdate at T (or not yet valid) */
	CCT_COLL_INVALID       /**< altered, does not decode, or a signature / chain fails */
} cct_coll_state;

/** "fresh", "expiring", "expired", "invalid". */
CCT_EXTERN const char *cct_coll_state_name(cct_coll_state s);

typedef struct cct_coll_check_entry {
	const cct_coll_item *item;   /**< borrowed from the bundle */
	cct_coll_state state;
	time_t not_before, not_after, next_update; /**< from the bytes (0: n/a) */
	time_t deadline;             /**< earliest of not_after / next_update (0: none) */
	cct_err err;                 /**< why (state != FRESH) */
} cct_coll_check_entry;

/** Check every item of b at time at, requiring freshness for within_s more seconds.
 *  *out (malloc'd, b->count entries). Returns CCT_OK when every item is FRESH, else
 *  ECOLLATERAL (also for a bundle without items: nothing was checked). */
CCT_EXTERN int cct_coll_check(cct_coll_check_entry **out, size_t *count, cct_coll_bundle *b,
			      time_t at, long within_s, const cct_coll_trust *trust, cct_err *err);

/** Fetch options. URLs: service bases (defaults: AMD KDS, Intel PCS, NVIDIA RIM service;
 *  OCSP: the certificates' AIA). */
typedef struct cct_coll_fetch_opts {
	const char *kds_url, *pcs_url, *rim_url, *ocsp_url;
	time_t at;                   /**< validation time (0 = now) */
	long kds_interval_ms;        /**< minimum interval between KDS requests (default 10000;
					  < 0: none) */
	long pcs_interval_ms, rim_interval_ms, ocsp_interval_ms; /**< (default 0) */
	const char *snp_product;     /**< product for v2 reports that do not say (default Milan) */
	int no_ocsp;                 /**< do not fetch OCSP responses for GPU chains */
	int refresh;                 /**< refetch items that are present and fresh */
	int progress;                /**< progress line on stderr (TTY) */
	int quiet;                   /**< no per-retry messages */
	cct_coll_trust trust;
	int no_retry;                /**< one request per item: a 429 / 5xx fails it at once (the
					  serving proxy, whose client waits and whose fetches are
					  one at a time), instead of waiting Retry-After */
} cct_coll_fetch_opts;

/** One needed item and what happened to it. */
typedef struct cct_coll_need {
	cct_coll_kind kind;
	char key[CCT_COLLATERAL_MAX_KEY];
	char url[1024];
	enum { CCT_NEED_PENDING, CCT_NEED_PRESENT, CCT_NEED_STORED, CCT_NEED_FAILED } state;
	cct_err err;                 /**< FAILED: why (names the URL) */
} cct_coll_need;

typedef struct cct_coll_plan cct_coll_plan;

CCT_EXTERN int cct_coll_plan_new(cct_coll_plan **out, const cct_coll_fetch_opts *o);
CCT_EXTERN void cct_coll_plan_free(cct_coll_plan *p);
/** Add an explicit key (kind + key as in the manifest). */
CCT_EXTERN int cct_coll_plan_add(cct_coll_plan *p, cct_coll_kind kind, const char *key,
				 cct_err *err);
/** SNP: everything a report with this product / hwID / TCB needs (VCEK, ASK+ARK, CRL).
 *  hwid_hex: 128 hex digits (8 bytes / 16 digits on Turin); tcb: raw REPORTED_TCB. */
CCT_EXTERN int cct_coll_plan_add_snp(cct_coll_plan *p, const char *product, const char *hwid_hex,
				     uint64_t tcb, cct_err *err);
/** SNP product only: ASK+ARK, VLEK chain and both CRLs. */
CCT_EXTERN int cct_coll_plan_add_snp_product(cct_coll_plan *p, const char *product, cct_err *err);
/** TDX: TCB info for fmspc, QE identity, PCK CRLs (processor and platform unless ca given),
 *  Root CA CRL. */
CCT_EXTERN int cct_coll_plan_add_tdx(cct_coll_plan *p, const char *fmspc_hex, const char *ca,
				     cct_err *err);
/** Derive every key a piece of evidence needs: SNP report (raw/hex/base64, extended), TDX
 *  quote, NVIDIA GPU evidence JSON, or a KBS attestation request. EFORMAT when it is none. */
CCT_EXTERN int cct_coll_plan_add_evidence(cct_coll_plan *p, const uint8_t *buf, size_t len,
					  const char *name, cct_err *err);
/** Fill b: items present, valid and fresh are kept (no request); others are fetched,
 *  validated, and stored only when valid (a good item is never replaced by an invalid one).
 *  Returns CCT_OK when every needed item is in b, ECOLLATERAL otherwise (see the needs). */
CCT_EXTERN int cct_coll_fetch(cct_coll_bundle *b, cct_coll_plan *p, cct_err *err);
/** The needs and their outcome (after cct_coll_fetch). */
CCT_EXTERN const cct_coll_need *cct_coll_plan_needs(const cct_coll_plan *p, size_t *count);


/* ---- serving the vendors' URL layouts (cctrust-collateral-serve, cctrustd) ---- */

/** Map a vendor URL (path + query arguments through arg()) to an item: KDS
 *  /vcek/v1/<P>/<hwid>?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..[&fmcSPL=..], /vcek|vlek/v1/<P>/
 *  cert_chain and /crl; PCS/PCCS /tdx/certification/v4/tcb?fmspc=, /tdx/certification/v4/qe/
 *  identity, /sgx|tdx/certification/v4/pckcrl?ca=, /sgx/certification/v4/rootcacrl; RIM
 *  /v1/rim/<id>. Returns 0, or -1 when the URL is none of these. */
CCT_EXTERN int cct_coll_route(const char *path, const char *(*arg)(void *ctx, const char *name),
			      void *ctx, cct_coll_kind *kind, char *key, size_t keysz);
/** The OCSP item key (certificate serial, lowercase hex without leading zeros) of a DER OCSP
 *  request; -1 when it does not decode or asks about more than one certificate. */
CCT_EXTERN int cct_coll_ocsp_request_key(const uint8_t *der, size_t n, char *key, size_t keysz);
/** Age (seconds after thisUpdate) past which the verifiers refuse an OCSP answer that has no
 *  nextUpdate (cct_ocsp_opts.max_age's default): its deadline in `collateral check`, and when
 *  the caching proxy refetches it. */
#define CCT_COLL_OCSP_MAX_AGE_S 86400
/** CCT_OK when a DER OCSP response answers exactly the one certificate a DER OCSP request asks
 *  about (one SingleResponse, its CertID the request's: hash algorithm, issuer name and key
 *  hashes, serial); otherwise CCT_ECOLLATERAL naming the serials. What a caching proxy checks
 *  before storing an upstream's answer under the request's key: it has no certificate or issuer
 *  to verify the responder against. */
CCT_EXTERN int cct_coll_ocsp_response_answers(const uint8_t *req, size_t req_n,
					      const uint8_t *resp, size_t resp_n, cct_err *err);
/** What the vendor would answer for an item: the body (RIM: the service's JSON around the
 *  XML), and for TDX items the issuer-chain header (name and URL-encoded value, malloc'd). */
CCT_EXTERN int cct_coll_render(const cct_coll_bundle *b, const cct_coll_item *it, uint8_t **body,
			       size_t *len, const char **header_name, char **header_value,
			       const char **content_type, cct_err *err);
/** Fetch one item from the services in o into b (validated first; OCSP not by key). */
CCT_EXTERN int cct_coll_fetch_item(cct_coll_bundle *b, cct_coll_kind kind, const char *key,
				   const cct_coll_fetch_opts *o, cct_err *err);
/** Store a validated OCSP response (DER) under key in b. */
CCT_EXTERN int cct_coll_store_ocsp(cct_coll_bundle *b, const char *key, const uint8_t *der,
				   size_t n, const char *source, cct_err *err);

/* ---- a bundle replaced while in use (cctrustd --collateral BUNDLE, SIGHUP) ---- */

/** A collateral bundle that can be replaced while verifications use it. Users take a snapshot
 *  for the length of one use (a verification, a served response) and release it; a reload
 *  opens and checks the new bundle completely first and swaps it in only when that succeeded,
 *  so a snapshot stays valid (and the bundle it names open) until its last user released it,
 *  and a refused bundle leaves the current one in place. Thread-safe. */
typedef struct cct_coll_live cct_coll_live;

/** One loaded bundle, as users see it (read-only). */
typedef struct cct_coll_snap {
	cct_coll_bundle *bundle;
	cct_collateral_source src;  /**< reads bundle */
	time_t loaded_at;           /**< when this bundle was opened */
	char path[4096];            /**< what was opened (symbolic links resolved) */
	char manifest_sha256[65];   /**< SHA-256 (hex) of the manifest's canonical form */
} cct_coll_snap;

/** Open path as a live bundle: cct_coll_bundle_open (manifest parsed, shape checked). A
 *  symbolic link is resolved, so that replacing the link later does not change what an open
 *  bundle reads. Errors as cct_coll_bundle_open. */
CCT_EXTERN int cct_coll_live_open(cct_coll_live **out, const char *path, cct_err *err);
CCT_EXTERN void cct_coll_live_free(cct_coll_live *l);
/** The current bundle; hold it for one use, then cct_coll_live_release. Never NULL. */
CCT_EXTERN const cct_coll_snap *cct_coll_live_acquire(cct_coll_live *l);
CCT_EXTERN void cct_coll_live_release(cct_coll_live *l, const cct_coll_snap *s);
/** Open the path given to _open again and check it completely: the manifest as at open, at
 *  least one item, and every item's bytes (and issuer chain) read back against the manifest's
 *  SHA-256. Only then is it swapped in (new acquires get it; held snapshots keep theirs).
 *  On failure the current bundle stays and err names why. Counts ok / failed. */
CCT_EXTERN int cct_coll_live_reload(cct_coll_live *l, cct_err *err);
/** 1 when the path now names something other than what was last loaded or tried (file
 *  identity, size, modification time of manifest.json or the .tar; link target), else 0. */
CCT_EXTERN int cct_coll_live_changed(cct_coll_live *l);
/** Reloads so far: swapped in / refused. */
CCT_EXTERN void cct_coll_live_stats(cct_coll_live *l, unsigned long *ok, unsigned long *failed);

#ifdef __cplusplus
}
#endif
#endif
