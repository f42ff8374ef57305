/* OCSP (RFC 6960) status of one certificate, through OpenSSL (semi-private, generic).
 *
 * Sources, in order: the in-memory cache (cct_ocsp_cache), the offline directory
 * (opts->dir), the on-disk cache (opts->cache_dir), then the responder (libcurl POST to
 * opts->url or the certificate's AIA OCSP URL) unless opts->offline. A file in the offline
 * directory or cache is named after the certificate serial: lowercase hex of the serial
 * number without leading zeros, plus ".der" (cct_ocsp_file_name). Every response must be
 * signed by the issuer or by a responder the issuer delegated (id-kp-OCSPSigning), must
 * name the certificate (CertID), and must be current at opts->at: thisUpdate <= at + skew
 * and at <= nextUpdate + skew (no nextUpdate: at - thisUpdate <= max_age). Live requests
 * carry a nonce that the response must echo; stored responses cannot, so for them the
 * freshness window is what bounds replay. */
#ifndef CCT_X509_OCSP_H
#define CCT_X509_OCSP_H

#include <time.h>
#include <openssl/x509.h>

#include "cctrust/errors.h"

struct cct_collateral_source;

#define CCT_OCSP_MAX_RESPONSE (64u * 1024u)
#define CCT_OCSP_CACHE_SLOTS 256

typedef struct cct_ocsp_cache cct_ocsp_cache;

typedef struct cct_ocsp_opts {
	time_t at;              /* verification time */
	const char *dir;        /* offline responses (may be NULL) */
	const char *cache_dir;  /* fetched responses are stored here (may be NULL) */
	const char *url;        /* responder override (NULL: AIA of the certificate) */
	int offline;            /* never use the network */
	long skew;              /* seconds of clock skew tolerated (default 300 when 0) */
	long max_age;           /* seconds, when nextUpdate is absent (default 86400 when 0) */
	long timeout;           /* seconds for a fetch (default 10 when 0) */
	cct_ocsp_cache *cache;  /* may be NULL */
	const struct cct_collateral_source *source; /* bundle (nvidia-ocsp <serial>), may be NULL */
} cct_ocsp_opts;

typedef enum {
	CCT_OCSP_GOOD = 0,
	CCT_OCSP_REVOKED = 1,
	CCT_OCSP_UNKNOWN = 2
} cct_ocsp_status;

typedef struct cct_ocsp_result {
	cct_ocsp_status status;
	int reason;             /* CRL reason code when revoked, else -1 */
	time_t this_update, next_update, revoked_at; /* next_update 0 when absent */
	const char *source;     /* "memory", "dir", "cache", "network" */
} cct_ocsp_result;

/* Status of cert (issued by issuer). CCT_OK: *out holds a verified, current answer (which
 * may be REVOKED or UNKNOWN: the caller decides). Errors (stage REVOCATION): ECOLLATERAL
 * (no current response, response not for this certificate, bad signature, nonce mismatch),
 * ENETWORK (fetch failed), ENOMEM. */
int cct_ocsp_check(cct_ocsp_result *out, X509 *cert, X509 *issuer, const cct_ocsp_opts *opts,
		   cct_err *err);
/* "<serial hex>.der" */
void cct_ocsp_file_name(char *buf, size_t size, const X509 *cert);
/* "good", "revoked", "unknown" */
const char *cct_ocsp_status_name(cct_ocsp_status s);
/* RFC 5280 CRLReason name in NVIDIA's spelling ("certificateHold", "keyCompromise", ...). */
const char *cct_ocsp_reason_name(int reason);

/* A stored response on its own (collateral check, no certificate at hand): successful, basic,
 * signature verifies under the signer certificate it carries. thisUpdate / nextUpdate of its
 * first answer. The chain to the issuer is checked when a verifier uses it (cct_ocsp_check). */
int cct_ocsp_response_inspect(const uint8_t *der, size_t n, time_t *this_update,
			      time_t *next_update, cct_err *err);

int cct_ocsp_cache_new(cct_ocsp_cache **out);
void cct_ocsp_cache_free(cct_ocsp_cache *c);

#endif
