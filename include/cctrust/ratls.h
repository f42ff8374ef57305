/* cctrust: attested TLS (RA-TLS) for confidential GPU VMs (docs/ratls.md).
 *
 * The guest makes a P-384 key and a self-signed certificate whose extension
 * tcg-dice-tagged-evidence (2.23.133.5.4.9) carries CPU evidence (SNP report / TDX quote) whose
 * REPORT_DATA is SHA-384(claims buffer) || 0^16, and NVIDIA GPU evidence whose SPDM nonce is the
 * first 32 bytes of the same digest. The claims buffer (CCC Interoperable RA-TLS) holds
 * "pubkey-hash" = CoSWID hash-entry [7, SHA-384(DER SubjectPublicKeyInfo)], an optional "nonce",
 * and cctrust claims ("cctrust-exporter": the TLS exporter of one connection for channel-bound
 * fresh evidence; "cctrust-gpus": the recorded GPU CC state). TDX without GPUs uses the
 * interoperable tagged form #6.0x1a7501([quote, claims]); SNP and CPU + GPU use a RATS CMW
 * collection (draft-ietf-rats-msg-wrap). The server also answers
 * GET /.well-known/cctrust/attestation?nonce=B64URL on the same connection with fresh evidence
 * (same encoding) whose claims bind that nonce AND the connection's exporter.
 * Verification reuses the composite verifier (composite.h) and the cctrust.policy/v1 policy. */
#ifndef CCTRUST_RATLS_H
#define CCTRUST_RATLS_H

#include <stdio.h>

#include <jansson.h>

#include "common.h"
#include "errors.h"
#include "composite.h"
#include "policy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_RATLS_OID_EVIDENCE "2.23.133.5.4.9"      /**< tcg-dice-tagged-evidence */
#define CCT_RATLS_OID_ENDORSEMENTS "2.23.133.5.4.2"  /**< tcg-dice-endorsement-manifest */
#define CCT_RATLS_EXPORTER_LABEL "EXPORTER-cctrust-attestation"
#define CCT_RATLS_EXPORTER_LEN 32
#define CCT_RATLS_PATH "/.well-known/cctrust/attestation"
#define CCT_RATLS_TAG_INTEL_QUOTE 0x1a7501u          /**< CBOR tag: Intel SGX/TDX quote */
#define CCT_RATLS_TAG_INTEL_REPORT 0x1a7502u
#define CCT_RATLS_TAG_SGX_LEGACY 0x1a7503u
#define CCT_RATLS_TAG_SEV_SNP 0x1a7504u              /**< CBOR tag: AMD SEV-SNP evidence */
#define CCT_RATLS_CMWC_TYPE "tag:cctrust.dev,2026:ratls-evidence/v1"
#define CCT_RATLS_MT_EVIDENCE "application/vnd.cctrust.ratls-tagged-evidence+cbor"
#define CCT_RATLS_MT_SNP_CERTS "application/vnd.cctrust.snp-cert-table"
#define CCT_RATLS_MT_GPUS "application/vnd.cctrust.nvidia-evidence+json"
/** Largest evidence extension / fresh evidence body accepted. */
#define CCT_RATLS_MAX_EVIDENCE (4u * 1024u * 1024u)
/** Longest nonce carried in a claims buffer. */
#define CCT_RATLS_MAX_NONCE 64u

/** What to attest (guest side). Zero = SNP, no GPUs, real hardware. */
typedef struct cct_ratls_make_opts {
	const char *tee;             /**< "snp" (default) or "tdx" */
	int gpus;                    /**< GPUs: 0 none, -1 all present, N exactly N */
	const char *sim_dir;         /**< simulated TEE (cctrust sim init DIR); NULL = this machine */
	const char *sim_gpu_cc_mode; /**< simulated GPUs' CC mode (default "on"; tests) */
	const uint8_t *sim_measurement; /**< 48 bytes: other simulated launch measurement (tests) */
	const uint8_t *nonce;        /**< optional nonce claim */
	size_t nonce_len;
	const uint8_t *exporter;     /**< CCT_RATLS_EXPORTER_LEN bytes: channel binding, or NULL */
} cct_ratls_make_opts;

/** Evidence for the public key pkey (an EVP_PKEY *): the CBOR bytes that go into the
 *  evidence extension (or the fresh-evidence response). *out malloc'd. */
CCT_EXTERN int cct_ratls_evidence_make(uint8_t **out, size_t *out_len, const void *pkey,
				       const cct_ratls_make_opts *o, cct_err *err);

/** A new P-384 key and a self-signed certificate carrying its evidence, valid from now - 60 s
 *  for validity_s seconds (not_before_offset_s shifts the window; tests make old certificates).
 *  *key_pem (PKCS#8) and *cert_pem malloc'd; the caller wipes the key. */
CCT_EXTERN int cct_ratls_cert_make(char **key_pem, char **cert_pem, const cct_ratls_make_opts *o,
				   long validity_s, long not_before_offset_s, cct_err *err);

/** Decode evidence bytes (extension value or fresh-evidence body) for display: a JSON
 *  description {"format","tee","evidence_tag","claims":{..},"records":[..],"gpus"}. Never
 *  verifies anything. *out: new reference. */
CCT_EXTERN int cct_ratls_evidence_describe(json_t **out, const uint8_t *p, size_t n, cct_err *err);

/** Describe a certificate (PEM or DER): its evidence, its claims and whether pubkey-hash
 *  matches its key ("pubkey_hash_matches"), and which parts cctrust can verify. */
CCT_EXTERN int cct_ratls_cert_describe(json_t **out, const uint8_t *cert, size_t n, cct_err *err);

/** Verification options. */
typedef struct cct_ratls_verify_opts {
	cct_composite_opts composite; /**< at, collateral_dir, offline, trust_sim_dir, ... (the
				       binding fields are set by cct_ratls itself) */
	int cert_only;                /**< do not ask for channel-bound fresh evidence (weaker:
				       replayable; the result says so) */
	const char *host;             /**< Host header for the attestation request */
	int fresh_timeout_s;          /**< the fresh evidence answer (head and body) must be
				       complete within this many seconds of asking; 0: 120 */
} cct_ratls_verify_opts;

/** Result of a verification. Release with cct_ratls_result_clear. */
typedef struct cct_ratls_result {
	int status;       /**< CCT_OK: certificate evidence AND fresh evidence verified, policy met */
	cct_err err;      /**< first failure */
	char check[48];   /**< failing check, e.g. "certificate.pubkey-hash", "fresh.exporter" */
	char pin[64];     /**< "sha256//BASE64" of the peer's SubjectPublicKeyInfo */
	json_t *result;   /**< owned: {"verified","check","error","pin","certificate":{..},
			       "fresh":{..},"failures":[..],"simulated","checks_skipped":[..]} */
} cct_ratls_result;
CCT_EXTERN void cct_ratls_result_clear(cct_ratls_result *r);

/** Verify the certificate (an X509 *) alone: evidence extension, pubkey-hash, validity at
 *  opts->composite.at, CPU + GPU evidence and the policy. Returns r->status. */
CCT_EXTERN int cct_ratls_verify_cert(cct_ratls_result *r, const void *x509, const cct_policy *pol,
				     const cct_ratls_verify_opts *opts);

/** Verify the peer of an established TLS client connection (an SSL *): the certificate as
 *  above, then (unless cert_only) GET CCT_RATLS_PATH?nonce=... on this connection and the fresh
 *  evidence bound to the nonce and to this connection's exporter. The connection stays usable
 *  for requests after it. Returns r->status. */
CCT_EXTERN int cct_ratls_verify_peer(void *ssl, const cct_policy *pol,
				     const cct_ratls_verify_opts *opts, cct_ratls_result *r);

/** Connect to HOST:PORT (TCP, timeout_s for connect, for the whole TLS handshake and then
 *  for each read; 0 = 30 s) and complete a TLS handshake (nothing is trusted yet: call cct_ratls_verify_peer before sending anything). *ssl_out (an SSL *) closed with cct_ratls_close.
 *  Errors: ENETWORK (unreachable, handshake failed). */
CCT_EXTERN int cct_ratls_connect(void **ssl_out, const char *host, const char *port, int timeout_s,
				 cct_err *err);
CCT_EXTERN void cct_ratls_close(void *ssl);

/** Send one HTTP/1.0 request (Connection: close) on a verified connection and stream the
 *  response body to out as it arrives (server-sent events are not buffered). headers: "Name:
 *  value" lines (a "Host:" among them replaces the one made of host). data non-NULL: POST
 *  (unless method given). *status: the HTTP status.
 *  The body ends after Content-Length bytes, or without one at the server's TLS close_notify:
 *  fewer bytes, or a connection cut without close_notify, is ETRUNC (what arrived was
 *  written to out). */
CCT_EXTERN int cct_ratls_request(void *ssl, const char *method, const char *path, const char *host,
				 const char *const *headers, size_t nheaders, const uint8_t *data,
				 size_t data_len, FILE *out, int *status, cct_err *err);

/** OpenSSL verify callback for SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, cb): accepts a
 *  self-signed leaf only if it carries the evidence extension (the evidence itself is checked
 *  by cct_ratls_verify_peer after the handshake). */
struct x509_store_ctx_st; /* OpenSSL's X509_STORE_CTX */
CCT_EXTERN int cct_ratls_verify_callback(int preverify_ok, struct x509_store_ctx_st *ctx);

/** Proxy server (guest side). */
typedef struct cct_ratls_serve_opts {
	const char *listen;          /**< "HOST:PORT" (port 0: any; see port_file) */
	const char *backend;         /**< "http://HOST:PORT" */
	cct_ratls_make_opts make;    /**< evidence source */
	long rotate_s;               /**< re-issue key + certificate every rotate_s (0: 1 hour) */
	long validity_s;             /**< certificate lifetime (0: 2 * rotate) */
	const char *cert_file;       /**< serve this certificate (from cct_ratls_cert_make / `ratls
				      cert`) and key_file instead of issuing one; no rotation */
	const char *key_file;
	const char *port_file;       /**< write the bound port here once listening */
	int max_connections;         /**< concurrent connections (0: 64) */
	volatile int *stop;          /**< set non-zero to stop (checked every 200 ms, read with
	                                  an atomic load: a signal handler, or another thread
	                                  with __atomic_store_n) */
	int header_timeout_s;        /**< deadline for a connection's TLS handshake and each
				      request head, 1..300 s (0: 20) */
	int max_connections_per_addr; /**< concurrent connections from one client address, at
				      most max_connections (0: a quarter of it, at least 1); one
				      over is closed before TLS */
} cct_ratls_serve_opts;

/** Run the TLS-terminating proxy until *stop (or a fatal error). */
CCT_EXTERN int cct_ratls_serve(const cct_ratls_serve_opts *o, cct_err *err);

/** "sha256//BASE64" of the SubjectPublicKeyInfo of an X509 * (curl --pinnedpubkey form). */
CCT_EXTERN int cct_ratls_spki_pin(char out[64], const void *x509);

#ifdef __cplusplus
}
#endif
#endif
