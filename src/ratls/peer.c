#define _GNU_SOURCE /* getaddrinfo, struct timeval */
/* Attested TLS, client side: connect, verify the peer (certificate evidence, then fresh
 * evidence fetched on the same connection bound to a new nonce and this connection's TLS
 * exporter), then requests over the verified connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cctrust/core.h"
#include "ratls/ratls_int.h"

static int is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static int tcp_connect(const char *host, const char *port, int timeout_s, cct_err *err)
{
	struct addrinfo hints, *res = NULL, *a;
	struct timeval tv;
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "%.100s:%.16s: %s", host, port,
			    gai_strerror(rc));
		return -1;
	}
	tv.tv_sec = timeout_s;
	tv.tv_usec = 0;
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "%.100s:%.16s: %s", host, port,
			    strerror(errno));
	return fd;
}

/* SSL_connect on a non-blocking socket, done by deadline_ms: 1, or 0 failed, -1 deadline
 * passed (a server trickling its handshake holds the client no longer than that) */
static int connect_by(SSL *ssl, long long deadline_ms)
{
	int i;

	for (i = 0; i < (1 << 20); i++) { /* each turn waits for bytes; the count is a backstop */
		int r = SSL_connect(ssl), w;

		if (r == 1)
			return 1;
		if ((w = cct_ratls__ssl_wait(ssl, r, deadline_ms)) != 1)
			return w;
	}
	return -1;
}

int cct_ratls_connect(void **ssl_out, const char *host, const char *port, int timeout_s, cct_err *err)
{
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int fd, hs;

	*ssl_out = NULL;
	if (timeout_s <= 0)
		timeout_s = 30;
	fd = tcp_connect(host, port, timeout_s, err);
	if (fd < 0)
		return CCT_ENETWORK;
	ctx = SSL_CTX_new(TLS_client_method());
	/* the certificate carries the evidence: OpenSSL's default cap on the server's
	 * certificate message (100 KiB) is below what 8 GPUs' evidence takes; the extension is
	 * bounded by CCT_RATLS_MAX_EVIDENCE, and so is the message, with room for the rest */
	if (ctx)
		SSL_CTX_set_max_cert_list(ctx, CCT_RATLS_MAX_EVIDENCE + (64u << 10));
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		close(fd);
		SSL_CTX_free(ctx);
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "TLS context failed");
	}
	/* nothing is trusted by the handshake: cct_ratls_verify_peer decides before any request,
	 * and names the failing check (a plain certificate included) */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL keeps its reference */
	/* SNI names hosts, never addresses (RFC 6066, 3) */
	if (!ssl || !SSL_set_fd(ssl, fd) ||
	    (!is_ip_literal(host) && !SSL_set_tlsext_host_name(ssl, host))) {
		SSL_free(ssl);
		close(fd);
		return cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "TLS connection failed");
	}
	hs = cct_ratls__set_nonblock(fd, 1) == 0
		     ? connect_by(ssl, cct_ratls__now_ms() + 1000LL * timeout_s)
		     : 0;
	if (hs == 1 && cct_ratls__set_nonblock(fd, 0) != 0)
		hs = 0;
	if (hs != 1) {
		unsigned long e = ERR_peek_last_error();
		long vr = SSL_get_verify_result(ssl);
		char buf[160];

		if (hs < 0)
			snprintf(buf, sizeof(buf), "not complete within %d s", timeout_s);
		else
			ERR_error_string_n(e, buf, sizeof(buf));
		cct_err_set(err, vr != X509_V_OK ? CCT_EUNTRUSTED : CCT_ENETWORK, CCT_STAGE_INPUT, 0,
			    "TLS handshake with %.100s:%.16s failed: %s%s", host, port,
			    vr != X509_V_OK ? "the server's certificate carries no attestation "
					      "evidence (ordinary TLS certificate); "
					    : "",
			    buf);
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
		return err ? err->code : CCT_ENETWORK;
	}
	*ssl_out = ssl;
	return CCT_OK;
}

void cct_ratls_close(void *p)
{
	SSL *ssl = p;
	int fd;

	if (!ssl)
		return;
	fd = SSL_get_fd(ssl);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
}

/* GET the attestation endpoint with nonce; *body malloc'd. The answer must be complete within
 * timeout_s of asking (the socket is non-blocking meanwhile): a server trickling its bytes
 * holds the client no longer. */
static int fetch_fresh(uint8_t **body, size_t *n, SSL *ssl, const char *host, const uint8_t *nonce,
		       size_t nn, int timeout_s, cct_err *err)
{
	long long deadline = cct_ratls__now_ms() + 1000LL * timeout_s;
	int fd = SSL_get_fd(ssl);
	cct_ratls_head *h = calloc(1, sizeof(*h));
	char *nb = cct_b64_encode(nonce, nn, 1), req[512];
	long long cl;
	size_t have;
	int st, rc;

	*body = NULL;
	if (!h || !nb) {
		free(h);
		free(nb);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	while (nb[0] && nb[strlen(nb) - 1] == '=')
		nb[strlen(nb) - 1] = 0;
	snprintf(req, sizeof(req),
		 "GET %s?nonce=%s HTTP/1.1\r\nHost: %.200s\r\nAccept: application/cbor\r\n"
		 "User-Agent: cctrust/%s\r\n\r\n",
		 CCT_RATLS_PATH, nb, host ? host : "localhost", CCT_VERSION_STRING);
	free(nb);
	if (cct_ratls__write_all(ssl, req, strlen(req)) != 0) {
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "cannot send the attestation request");
		goto out;
	}
	if (cct_ratls__set_nonblock(fd, 1) != 0) {
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "the connection has no socket");
		goto out;
	}
	rc = cct_ratls__read_head_until(h, ssl, deadline, err);
	if (rc <= 0) {
		if (rc == 0)
			rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0,
					 "the server closed the connection without answering %s",
					 CCT_RATLS_PATH);
		else if (rc == CCT_ENETWORK)
			rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0,
					 "%s: no complete answer head within %d s", CCT_RATLS_PATH,
					 timeout_s);
		goto out;
	}
	st = cct_ratls__status(h);
	cl = cct_ratls__content_length(h);
	if (st != 200) {
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0,
				 "%s answered HTTP %d: the server offers no fresh evidence", CCT_RATLS_PATH, st);
		goto out;
	}
	if (cl < 0 || cl > (long long)CCT_RATLS_MAX_EVIDENCE) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "attestation response: Content-Length missing or above %u", CCT_RATLS_MAX_EVIDENCE);
		goto out;
	}
	*body = malloc((size_t)cl + 1);
	if (!*body) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	have = h->have - h->head_len;
	if (have > (size_t)cl)
		have = (size_t)cl; /* nothing else was requested: extra bytes are a protocol error */
	memcpy(*body, h->buf + h->head_len, have);
	while (have < (size_t)cl) {
		int r = cct_ratls__read_by(ssl, *body + have,
					   (int)((size_t)cl - have > 1u << 20 ? 1u << 20 : (size_t)cl - have),
					   deadline);

		if (r <= 0) {
			rc = r < 0 ? cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, have,
						 "attestation response: %zu of %lld bytes within %d s",
						 have, cl, timeout_s)
				   : cct_err_set(err, CCT_ETRUNC, CCT_STAGE_INPUT, have,
						 "attestation response ends after %zu of %lld bytes",
						 have, cl);
			goto out;
		}
		have += (size_t)r;
	}
	*n = (size_t)cl;
	rc = CCT_OK;
out:
	if (fd >= 0 && cct_ratls__set_nonblock(fd, 0) != 0 && rc == CCT_OK)
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "the socket cannot block again");
	if (rc != CCT_OK) {
		free(*body);
		*body = NULL;
	}
	free(h);
	return rc;
}

int cct_ratls_verify_peer(void *p, const cct_policy *pol, const cct_ratls_verify_opts *opts,
			  cct_ratls_result *r)
{
	SSL *ssl = p;
	cct_ratls_verify_opts d;
	X509 *x;
	uint8_t nonce[32], exp[CCT_RATLS_EXPORTER_LEN], *body = NULL;
	size_t bn = 0;
	json_t *sec = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!opts) {
		memset(&d, 0, sizeof(d));
		opts = &d;
	}
	r->result = json_object();
	x = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	if (!x) {
		rc = cct_err_set(&r->err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no peer certificate");
		snprintf(r->check, sizeof(r->check), "certificate.present");
		r->status = rc;
		goto out;
	}
	rc = cct_ratls__verify_cert_into(r, x, pol, opts);
	if (rc != CCT_OK || opts->cert_only)
		goto out;
	/* a TLS 1.2 exporter without the extended master secret does not identify the connection
	 * (RFC 7627, RFC 9266): a relay can make two handshakes share one master secret */
	if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1) {
		rc = cct_err_set(&r->err, CCT_EBINDING, CCT_STAGE_BINDING, 0,
				 "fresh.exporter: TLS 1.2 without the extended master secret (RFC 7627): "
				 "the TLS exporter does not identify this connection, so no evidence can "
				 "be bound to it (TLS 1.3, or TLS 1.2 with extended master secret, needed)");
		snprintf(r->check, sizeof(r->check), "fresh.exporter");
		goto done;
	}
	if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
	    SSL_export_keying_material(ssl, exp, sizeof(exp), CCT_RATLS_EXPORTER_LABEL,
				       strlen(CCT_RATLS_EXPORTER_LABEL), NULL, 0, 0) != 1) {
		rc = cct_err_set(&r->err, CCT_ERROR, CCT_STAGE_NONE, 0, "nonce or TLS exporter failed");
		snprintf(r->check, sizeof(r->check), "fresh.exporter");
		goto done;
	}
	rc = fetch_fresh(&body, &bn, ssl, opts->host, nonce, sizeof(nonce),
			 opts->fresh_timeout_s > 0 ? opts->fresh_timeout_s : CCT_RATLS_FRESH_TIMEOUT_S,
			 &r->err);
	if (rc != CCT_OK) {
		snprintf(r->check, sizeof(r->check), "fresh.endpoint");
		goto done;
	}
	rc = cct_ratls__verify_ev(&sec, r->check, body, bn, X509_get0_pubkey(x), "fresh", nonce,
				  sizeof(nonce), exp, pol, opts, &r->err);
	json_object_set_new(r->result, "fresh", sec);
done:
	r->status = rc;
out:
	free(body);
	cct_ratls__finish(r);
	return r->status;
}

/* The request line is "METHOD SP PATH SP HTTP/1.0": a method that is not an RFC 9110 token, or
 * a path with a space or control character, would end it early and write other header lines
 * (or a second request) of the caller's input. */
static const char *request_line_bad(const char *method, const char *path)
{
	const unsigned char *q;

	if (!method[0] || strspn(method, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "abcdefghijklmnopqrstuvwxyz") != strlen(method))
		return "method: not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)";
	if (path[0] != '/')
		return "path: must start with /";
	for (q = (const unsigned char *)path; *q; q++)
		if (*q <= 0x20 || *q == 0x7f)
			return "path: a space or control character (percent-encode it)";
	return NULL;
}

int cct_ratls_request(void *p, const char *method, const char *path, const char *host,
		      const char *const *headers, size_t nheaders, const uint8_t *data, size_t data_len,
		      FILE *out, int *status, cct_err *err)
{
	SSL *ssl = p;
	cct_ratls_head *h = calloc(1, sizeof(*h));
	char *req = NULL;
	size_t cap = 1024 + strlen(path) + (host ? strlen(host) : 0), i, len;
	unsigned long long got;
	long long cl;
	int rc = CCT_OK, r, clean = 0, own_host;

	*status = 0;
	for (i = 0; i < nheaders; i++)
		cap += strlen(headers[i]) + 2;
	req = malloc(cap);
	if (!h || !req) {
		free(h);
		free(req);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	if (!method)
		method = data ? "POST" : "GET";
	if (request_line_bad(method, path) || (host && strpbrk(host, "\r\n"))) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "request %s",
				 request_line_bad(method, path) ? request_line_bad(method, path)
								: "host: a line break");
		goto out;
	}
	/* a caller's Host header replaces ours (as curl's -H does): two would be refused, or
	 * read differently, by the servers behind */
	for (i = 0, own_host = 0; i < nheaders; i++)
		if (!strncasecmp(headers[i], "host:", 5))
			own_host = 1;
	len = (size_t)snprintf(req, cap, "%s %s HTTP/1.0\r\n", method, path);
	if (!own_host)
		len += (size_t)snprintf(req + len, cap - len, "Host: %s\r\n", host ? host : "localhost");
	len += (size_t)snprintf(req + len, cap - len, "Connection: close\r\n");
	for (i = 0; i < nheaders; i++) {
		if (strpbrk(headers[i], "\r\n")) {
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "header %zu has a line break", i);
			goto out;
		}
		len += (size_t)snprintf(req + len, cap - len, "%s\r\n", headers[i]);
	}
	if (data)
		len += (size_t)snprintf(req + len, cap - len, "Content-Length: %zu\r\n", data_len);
	len += (size_t)snprintf(req + len, cap - len, "\r\n");
	if (cct_ratls__write_all(ssl, req, len) != 0 || (data && data_len && cct_ratls__write_all(ssl, data, data_len) != 0)) {
		rc = cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "cannot send the request");
		goto out;
	}
	r = cct_ratls__read_head(h, ssl, err);
	if (r <= 0) {
		rc = r == 0 ? cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, 0, "no response") : r;
		goto out;
	}
	*status = cct_ratls__status(h);
	if (*status < 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0, "not an HTTP response");
		goto out;
	}
	/* HTTP/1.0 with Connection: close: the body is Content-Length bytes, or without one
	 * everything until the server closes the TLS connection (close_notify); a response to HEAD
	 * and 1xx / 204 / 304 have none */
	cl = !strcmp(method, "HEAD") || *status / 100 == 1 || *status == 204 || *status == 304
		     ? 0
		     : cct_ratls__content_length(h);
	got = h->have - h->head_len;
	if (cl >= 0 && got > (unsigned long long)cl)
		got = (unsigned long long)cl; /* nothing else was asked for */
	if (got)
		fwrite(h->buf + h->head_len, 1, (size_t)got, out);
	fflush(out);
	while (cl < 0 || got < (unsigned long long)cl) {
		char buf[16384];
		size_t want = cl < 0 || (unsigned long long)cl - got > sizeof(buf) ? sizeof(buf)
										   : (size_t)((unsigned long long)cl - got);

		r = SSL_read(ssl, buf, (int)want);
		if (r <= 0) {
			clean = SSL_get_error(ssl, r) == SSL_ERROR_ZERO_RETURN;
			break;
		}
		fwrite(buf, 1, (size_t)r, out);
		fflush(out); /* server-sent events reach the reader as they arrive */
		got += (unsigned long long)r;
	}
	ERR_clear_error();
	if (cl >= 0 && got < (unsigned long long)cl)
		rc = cct_err_set(err, CCT_ETRUNC, CCT_STAGE_INPUT, (size_t)got,
				 "the response body ends after %llu of its %lld bytes (Content-Length): "
				 "truncated", got, cl);
	else if (cl < 0 && !clean)
		rc = cct_err_set(err, CCT_ETRUNC, CCT_STAGE_INPUT, (size_t)got,
				 "the connection ended after %llu body bytes without a TLS close_notify "
				 "(and the response has no Content-Length): the body may be truncated", got);
out:
	free(h);
	free(req);
	return rc;
}
