/* Attested TLS internals: the wire format (wire.c), evidence collection (make.c), verification
 * (verify.c), the client side of the attestation request (peer.c) and the proxy (serve.c). */
#ifndef CCT_RATLS_INT_H
#define CCT_RATLS_INT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cctrust/ratls.h"

/* Decoded evidence (extension value or fresh-evidence body). Buffers owned. */
typedef struct cct_ratls_ev {
	int cmw;                     /* 1: CMW collection, 0: bare tagged evidence */
	uint64_t tag;                /* CPU evidence CBOR tag */
	char tee[8];                 /* "snp", "tdx", "sgx", "?" */
	uint8_t *cpu;                /* CPU evidence bytes (SNP report / Intel quote) */
	size_t cpu_len;
	uint8_t *claims;             /* the claims buffer as carried (its hash is bound) */
	size_t claims_len;
	uint8_t *snp_certs;          /* SNP GHCB certificate table, or NULL */
	size_t snp_certs_len;
	char *gpus;                  /* GPU evidence JSON text ({"nvidia":{..}}), or NULL */
	size_t gpus_len;
	/* claims */
	int pk_alg;                  /* IANA named-information id: 1 sha-256, 7 sha-384, 8 sha-512 */
	uint8_t pk_hash[64];
	size_t pk_hash_len;
	int has_nonce;
	uint8_t nonce[CCT_RATLS_MAX_NONCE];
	size_t nonce_len;
	int has_exporter;
	uint8_t exporter[CCT_RATLS_EXPORTER_LEN];
	int has_gpu_claim;
	unsigned gpu_count;
	char gpu_cc_mode[16];
	int gpu_ppcie;
} cct_ratls_ev;

int cct_ratls__decode(cct_ratls_ev *out, const uint8_t *p, size_t n, cct_err *err);
void cct_ratls__ev_clear(cct_ratls_ev *e);

/* The claims buffer: {"pubkey-hash": bstr([7, h]), ?"nonce", ?"cctrust-exporter",
 * ?"cctrust-gpus": bstr({"count","cc-mode","ppcie-mode"})}. */
typedef struct cct_ratls_claims_in {
	uint8_t spki_sha384[48];
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *exporter;     /* 32 bytes or NULL */
	int gpus;                    /* > 0: add the GPU claim */
	const char *gpu_cc_mode;
	int gpu_ppcie;
} cct_ratls_claims_in;
int cct_ratls__claims_encode(uint8_t **out, size_t *n, const cct_ratls_claims_in *in, cct_err *err);

/* Encode: bare tagged evidence when !force_cmw, TDX and no GPUs; else the CMW collection. */
int cct_ratls__encode(uint8_t **out, size_t *n, const char *tee, const uint8_t *cpu, size_t cpu_len,
		      const uint8_t *snp_certs, size_t snp_certs_len, const char *gpus,
		      const uint8_t *claims, size_t claims_len, cct_err *err);

/* Binding values for a claims buffer: REPORT_DATA = SHA-384(claims) || 0^16, GPU nonce = the
 * first 32 bytes of SHA-384(claims). */
void cct_ratls__binding(uint8_t rd[64], uint8_t gpu[32], const uint8_t *claims, size_t n);

/* SHA-384 / any of the hash-entry algorithms over the DER SubjectPublicKeyInfo. */
int cct_ratls__spki_hash(uint8_t *out, size_t *out_len, int alg, EVP_PKEY *pk);

/* Evidence for a key (make.c). */
int cct_ratls__make(uint8_t **out, size_t *n, EVP_PKEY *pk, const cct_ratls_make_opts *o,
		    cct_err *err);

/* Verify decoded evidence for a certificate key; section "certificate" or "fresh". Fills
 * *section_out (owned) and returns CCT_OK or the failure (check named in check). */
int cct_ratls__verify_ev(json_t **section_out, char check[48], const uint8_t *ev, size_t ev_len,
			 EVP_PKEY *pk, const char *section, const uint8_t *want_nonce,
			 size_t want_nonce_len, const uint8_t *want_exporter, const cct_policy *pol,
			 const cct_ratls_verify_opts *opts, cct_err *err);

/* verify.c: the certificate part of a verification, and the result frame. */
int cct_ratls__verify_cert_into(cct_ratls_result *r, X509 *x, const cct_policy *pol,
				const cct_ratls_verify_opts *opts);
void cct_ratls__finish(cct_ratls_result *r);

/* http.c: the little HTTP/1.x this needs, over an SSL connection, bounded. The head is read up
 * to CRLF CRLF (at most CCT_RATLS_MAX_HEAD bytes); bytes read after it stay in buf. */
#define CCT_RATLS_MAX_HEAD 16384u
typedef struct cct_ratls_head {
	char buf[CCT_RATLS_MAX_HEAD + 1];
	size_t head_len;     /* bytes of the head including the blank line */
	size_t have;         /* bytes in buf (head + what followed) */
} cct_ratls_head;
/* 1 head read, 0 clean EOF before any byte, < 0 error (ETOOBIG over the cap, EFORMAT a NUL
 * in the head, ETRUNC closed inside it). */
int cct_ratls__read_head(cct_ratls_head *h, SSL *ssl, cct_err *err);
/* The same on a non-blocking socket: the whole head by deadline_ms (cct_ratls__now_ms clock),
 * else ENETWORK. deadline_ms 0: a blocking socket, no deadline (cct_ratls__read_head). */
int cct_ratls__read_head_until(cct_ratls_head *h, SSL *ssl, long long deadline_ms, cct_err *err);
/* Monotonic milliseconds. */
long long cct_ratls__now_ms(void);
/* poll fd for events until deadline_ms (waiting again when a poll is cut short): 1 ready,
 * 0 deadline passed or poll failed. */
int cct_ratls__wait_fd(int fd, short events, long long deadline_ms);
/* After an SSL call on a non-blocking socket returned r: wait until the socket is ready for
 * what it wants (SSL_ERROR_WANT_READ / _WRITE) or deadline_ms. 1 call it again, 0 it failed
 * (any other error), -1 the deadline passed. */
int cct_ratls__ssl_wait(SSL *ssl, int r, long long deadline_ms);
/* One SSL_read, or on a non-blocking socket with a deadline: wait (until the deadline) for the
 * bytes it wants and retry. > 0 bytes, 0 closed / failed, -1 deadline passed. */
int cct_ratls__read_by(SSL *ssl, void *buf, int n, long long deadline_ms);
/* O_NONBLOCK on (1) or off (0): 0, or -1 (fd < 0 included). */
int cct_ratls__set_nonblock(int fd, int on);
/* Status code of a response head, -1 if not "HTTP/1.x NNN". */
int cct_ratls__status(const cct_ratls_head *h);
/* Content-Length of a head, -1 when absent or malformed. */
long long cct_ratls__content_length(const cct_ratls_head *h);
int cct_ratls__write_all(SSL *ssl, const void *p, size_t n);

/* serve.c: the deadline for the TLS handshake and each request head when
 * cct_ratls_serve_opts.header_timeout_s is 0 (the CLI's --header-timeout) */
#define CCT_RATLS_HEADER_TIMEOUT_S 20

/* peer.c: the fresh evidence answer must be complete within this when
 * cct_ratls_verify_opts.fresh_timeout_s is 0 (evidence from 8 GPUs takes seconds) */
#define CCT_RATLS_FRESH_TIMEOUT_S 120

#endif
