#define _GNU_SOURCE /* getaddrinfo, SOCK_CLOEXEC */
/* Attested TLS proxy (guest side): terminates TLS with the attested certificate, answers
 * GET /.well-known/cctrust/attestation?nonce=B64URL with fresh evidence bound to the nonce and
 * to this connection's TLS exporter, and pipes every other request to the backend byte for byte
 * (request and response bodies stream both ways; server-sent events are never buffered).
 * The key and certificate are re-issued every rotate_s; connections keep the context they
 * started with. One thread per connection, capped; every read has a timeout. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "cctrust/core.h"
#include "ratls/ratls_int.h"

#define IO_TIMEOUT_S 30
#define IDLE_TIMEOUT_MS (300 * 1000)

typedef struct srv {
	const cct_ratls_serve_opts *o;
	char bhost[256], bport[16];
	pthread_mutex_t lock;       /* ctx */
	pthread_mutex_t ev_lock;    /* evidence collection (the TEE devices / simulator files) */
	SSL_CTX *ctx;
	int active;
	long long head_ms;           /* deadline for the handshake + first head, and each later head */
	/* connections per client address (guarded by lock): one client that keeps reconnecting
	 * cannot take every slot */
	struct addr_slot {
		uint8_t addr[16]; /* IPv4 as IPv4-mapped IPv6 */
		int n;
	} *addrs;
	int naddrs, per_addr;
	/* each connection's client and backend sockets (-1: none; guarded by lock): shut down
	 * when the proxy stops, so that every connection thread ends before cct_ratls_serve
	 * returns (they use this struct, on its stack) */
	struct conn_slot {
		int cfd, bfd;
	} *slots;
} srv;

typedef struct conn {
	srv *s;
	SSL_CTX *ctx;
	int fd, slot;
	uint8_t addr[16];
} conn;

/* The peer's address as 16 bytes (IPv4 mapped into IPv6). */
static void addr_key(uint8_t out[16], const struct sockaddr_storage *ss)
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

/* Take a slot for addr (lock held): 1, or 0 when that address holds per_addr already. */
static int addr_take(srv *s, const uint8_t addr[16])
{
	int i, free_slot = -1;

	for (i = 0; i < s->naddrs; i++) {
		if (s->addrs[i].n && !memcmp(s->addrs[i].addr, addr, 16)) {
			if (s->addrs[i].n >= s->per_addr)
				return 0;
			s->addrs[i].n++;
			return 1;
		}
		if (!s->addrs[i].n && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) /* cannot happen: a slot per connection */
		return 0;
	memcpy(s->addrs[free_slot].addr, addr, 16);
	s->addrs[free_slot].n = 1;
	return 1;
}

static void addr_give(srv *s, const uint8_t addr[16])
{
	int i;

	for (i = 0; i < s->naddrs; i++)
		if (s->addrs[i].n && !memcmp(s->addrs[i].addr, addr, 16)) {
			s->addrs[i].n--;
			return;
		}
}

static int split_hostport(char *host, size_t hs, char *port, size_t ps, const char *in)
{
	const char *c = strrchr(in, ':');
	size_t hl;

	if (!c || !c[1] || strlen(c + 1) >= ps)
		return -1;
	hl = (size_t)(c - in);
	if (hl && in[0] == '[' && in[hl - 1] == ']') {
		in++;
		hl -= 2;
	}
	if (hl >= hs)
		return -1;
	memcpy(host, in, hl);
	host[hl] = 0;
	strcpy(port, c + 1);
	return 0;
}

static SSL_CTX *new_ctx(const cct_ratls_serve_opts *o, cct_err *err)
{
	char *key = NULL, *cert = NULL;
	long validity = o->validity_s > 0 ? o->validity_s : 2 * (o->rotate_s > 0 ? o->rotate_s : 3600);
	SSL_CTX *ctx = NULL;
	BIO *b = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;

	if (o->cert_file || o->key_file) {
		uint8_t *kb = NULL, *cb = NULL;
		size_t kn = 0, cn = 0;

		if (!o->cert_file || !o->key_file) {
			cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "--cert and --key go together");
			return NULL;
		}
		if (cct_file_read(&cb, &cn, o->cert_file, 1u << 24, err) != CCT_OK)
			return NULL;
		if (cct_file_read(&kb, &kn, o->key_file, 1u << 16, err) != CCT_OK) {
			free(cb);
			return NULL;
		}
		cert = malloc(cn + 1);
		key = malloc(kn + 1);
		if (cert && key) {
			memcpy(cert, cb, cn);
			cert[cn] = 0;
			memcpy(key, kb, kn);
			key[kn] = 0;
		}
		cct_wipe(kb, kn);
		free(kb);
		free(cb);
		if (!cert || !key) {
			free(cert);
			free(key);
			cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			return NULL;
		}
	} else if (cct_ratls_cert_make(&key, &cert, &o->make, validity, 0, err) != CCT_OK) {
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) &&
	    (b = BIO_new_mem_buf(cert, -1)) && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		BIO_free(b);
		if ((b = BIO_new_mem_buf(key, -1)))
			k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	}
	if (!ctx || !x || !k || SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, k) != 1) {
		/* a --cert / --key that cannot serve is the caller's input: named, EINVAL */
		if (ctx && o->cert_file && !x)
			cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				    "--cert %.200s: not a PEM certificate", o->cert_file);
		else if (ctx && o->cert_file && !k)
			cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				    "--key %.200s: not an unencrypted PEM private key", o->key_file);
		else if (ctx && o->cert_file && X509_check_private_key(x, k) != 1)
			cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				    "--key %.200s is not the private key of --cert %.200s", o->key_file,
				    o->cert_file);
		else
			cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "cannot load the attested certificate");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	cct_wipe(key, strlen(key));
	free(key);
	free(cert);
	return ctx;
}

/* extra: more header lines ("Allow: GET\r\n") or NULL; close_: say the connection ends */
static void respond_x(SSL *ssl, int code, const char *reason, const char *extra, int close_,
		      const char *ctype, const void *body, size_t n)
{
	char h[384];
	int l = snprintf(h, sizeof(h),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: "
			 "no-store\r\n%s%s\r\n",
			 code, reason, ctype, n, extra ? extra : "", close_ ? "Connection: close\r\n" : "");

	if (l > 0 && (size_t)l < sizeof(h) && cct_ratls__write_all(ssl, h, (size_t)l) == 0 && n)
		cct_ratls__write_all(ssl, body, n);
}

static void respond(SSL *ssl, int code, const char *reason, const char *ctype, const void *body, size_t n)
{
	respond_x(ssl, code, reason, NULL, 0, ctype, body, n);
}

#define LINGER_MS 2000
#define LINGER_MAX (256u * 1024)

/* an error answer, after which the connection is closed. What the client is still sending is
 * read and dropped for a moment (at most LINGER_MAX bytes, LINGER_MS): closing with unread
 * bytes would reset the connection and the client could lose the answer. */
static void refuse(SSL *ssl, int code, const char *reason, const char *extra, const char *msg)
{
	long long until = cct_ratls__now_ms() + LINGER_MS;
	size_t got = 0;
	char buf[4096];
	int fd = SSL_get_fd(ssl);

	respond_x(ssl, code, reason, extra, 1, "text/plain", msg, strlen(msg));
	SSL_shutdown(ssl);
	shutdown(fd, SHUT_WR);
	while (got < LINGER_MAX) {
		ssize_t n;

		if (!cct_ratls__wait_fd(fd, POLLIN, until) ||
		    (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) <= 0)
			break;
		got += (size_t)n;
	}
}

/* 1 when the head has a header line named name (with its colon, any case) */
static int head_has(const cct_ratls_head *h, const char *name)
{
	const char *p = h->buf, *end = h->buf + h->head_len;
	size_t nl_ = strlen(name);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if ((size_t)(nl - p) > nl_ && !strncasecmp(p, name, nl_))
			return 1;
		p = nl + 1;
	}
	return 0;
}

/* The TLS handshake on a non-blocking socket, done by deadline_ms, else -1. */
static int accept_by(SSL *ssl, long long deadline_ms)
{
	int i;

	/* each turn waits for the client's next bytes, the deadline ends it; the count is only a
	 * backstop */
	for (i = 0; i < (1 << 20); i++) {
		int r = SSL_accept(ssl);

		if (r == 1)
			return 0;
		if (cct_ratls__ssl_wait(ssl, r, deadline_ms) != 1)
			return -1;
	}
	return -1;
}

/* The attestation endpoint. Returns 0 to keep the connection, -1 to close it. */
static int attest(srv *s, SSL *ssl, const char *target)
{
	const char *q = strchr(target, '?'), *nv = NULL;
	uint8_t exp[CCT_RATLS_EXPORTER_LEN], *nonce = NULL, *ev = NULL;
	size_t nn = 0, evn = 0, l;
	cct_ratls_make_opts mo;
	cct_err err;
	char msg[300];
	int rc;

	for (; q && *q; q = strchr(q + 1, '&'))
		if (!strncmp(q + 1, "nonce=", 6))
			nv = q + 7;
	l = nv ? strcspn(nv, "& ") : 0;
	if (!nv || !l || l > 128 || cct_b64_decode(&nonce, &nn, nv, l, &err) != CCT_OK || !nn ||
	    nn > CCT_RATLS_MAX_NONCE) {
		free(nonce);
		snprintf(msg, sizeof(msg), "nonce: 1..%u bytes, base64url\n", CCT_RATLS_MAX_NONCE);
		respond(ssl, 400, "Bad Request", "text/plain", msg, strlen(msg));
		return 0;
	}
	if (SSL_export_keying_material(ssl, exp, sizeof(exp), CCT_RATLS_EXPORTER_LABEL,
				       strlen(CCT_RATLS_EXPORTER_LABEL), NULL, 0, 0) != 1) {
		free(nonce);
		respond(ssl, 500, "Internal Server Error", "text/plain", "exporter\n", 9);
		return -1;
	}
	mo = s->o->make;
	mo.nonce = nonce;
	mo.nonce_len = nn;
	mo.exporter = exp;
	pthread_mutex_lock(&s->ev_lock);
	rc = cct_ratls_evidence_make(&ev, &evn, SSL_get_privatekey(ssl), &mo, &err);
	pthread_mutex_unlock(&s->ev_lock);
	free(nonce);
	if (rc != CCT_OK) {
		snprintf(msg, sizeof(msg), "evidence: %s\n", err.msg);
		fprintf(stderr, "cctrust ratls serve: %s", msg);
		respond(ssl, 503, "Service Unavailable", "text/plain", msg, strlen(msg));
		return 0;
	}
	respond(ssl, 200, "OK", "application/cbor", ev, evn);
	free(ev);
	return 0;
}

static int backend_connect(srv *s)
{
	struct addrinfo hints, *res = NULL, *a;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(s->bhost, s->bport, &hints, &res) != 0)
		return -1;
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Byte pipe between the TLS client and the backend until either side closes or idles. */
static void pipe_backend(SSL *ssl, int cfd, int bfd)
{
	struct pollfd p[2];
	char buf[16384];
	int r;

	for (;;) {
		if (SSL_pending(ssl) <= 0) {
			p[0].fd = cfd;
			p[0].events = POLLIN;
			p[1].fd = bfd;
			p[1].events = POLLIN;
			p[0].revents = p[1].revents = 0;
			r = poll(p, 2, IDLE_TIMEOUT_MS);
			if (r <= 0)
				return;
		} else {
			p[0].revents = POLLIN;
			p[1].revents = 0;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = SSL_read(ssl, buf, sizeof(buf));
			if (r <= 0) {
				int e = SSL_get_error(ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					continue;
				shutdown(bfd, SHUT_WR); /* client done sending; let the response finish */
				p[0].fd = -1;
				/* drain the backend's response */
				for (;;) {
					ssize_t n = read(bfd, buf, sizeof(buf));

					if (n <= 0 || cct_ratls__write_all(ssl, buf, (size_t)n) != 0)
						return;
				}
			}
			{
				size_t off = 0;

				while (off < (size_t)r) {
					ssize_t w = write(bfd, buf + off, (size_t)r - off);

					if (w <= 0)
						return;
					off += (size_t)w;
				}
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(bfd, buf, sizeof(buf));

			if (n <= 0 || cct_ratls__write_all(ssl, buf, (size_t)n) != 0)
				return;
		}
	}
}

/* A request to the attestation endpoint, refused: 0 when it may be answered. */
static int attest_refused(SSL *ssl, const cct_ratls_head *h, const char *method)
{
	if (strcmp(method, "GET")) {
		refuse(ssl, 405, "Method Not Allowed", "Allow: GET\r\n",
		       "the attestation endpoint answers GET only\n");
		return 1;
	}
	/* a body would be read as the next request (and go to the backend): none is taken */
	if (head_has(h, "transfer-encoding:") ||
	    (head_has(h, "content-length:") && cct_ratls__content_length(h) != 0)) {
		refuse(ssl, 400, "Bad Request", NULL, "the attestation endpoint takes no request body\n");
		return 1;
	}
	return 0;
}

static void *conn_main(void *arg)
{
	conn *c = arg;
	srv *s = c->s;
	SSL *ssl = SSL_new(c->ctx);
	cct_ratls_head *h = calloc(1, sizeof(*h));
	cct_err err;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	/* the handshake and the first head share one deadline: a client trickling bytes cannot
	 * hold a connection slot longer than that (SO_RCVTIMEO is per read) */
	long long deadline = cct_ratls__now_ms() + s->head_ms;
	int first = 1;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!ssl || !h || !SSL_set_fd(ssl, c->fd) || cct_ratls__set_nonblock(c->fd, 1) != 0 ||
	    accept_by(ssl, deadline) != 0)
		goto out;
	for (;; first = 0) {
		char method[16], target[2048];
		int r;

		if (!first) {
			/* between requests: the next one may take IO_TIMEOUT_S to start, then its
			 * head has the same deadline as the first */
			if (h->have <= h->head_len && !SSL_has_pending(ssl) &&
			    !cct_ratls__wait_fd(c->fd, POLLIN,
						cct_ratls__now_ms() + IO_TIMEOUT_S * 1000LL))
				break;
			deadline = cct_ratls__now_ms() + s->head_ms;
			if (cct_ratls__set_nonblock(c->fd, 1) != 0)
				break;
		}
		r = cct_ratls__read_head_until(h, ssl, deadline, &err);
		if (cct_ratls__set_nonblock(c->fd, 0) != 0 || r == 0)
			break;
		if (r < 0) {
			if (r == CCT_ETOOBIG)
				refuse(ssl, 431, "Request Header Fields Too Large", NULL, "request head too large\n");
			else if (r == CCT_EFORMAT)
				refuse(ssl, 400, "Bad Request", NULL, "NUL byte in the request head\n");
			break;
		}
		if (sscanf(h->buf, "%15s %2047s", method, target) != 2) {
			refuse(ssl, 400, "Bad Request", NULL, "bad request line\n");
			break;
		}
		if (!strncmp(target, CCT_RATLS_PATH, strlen(CCT_RATLS_PATH)) &&
		    (target[strlen(CCT_RATLS_PATH)] == '?' || !target[strlen(CCT_RATLS_PATH)])) {
			if (attest_refused(ssl, h, method) || attest(s, ssl, target) != 0)
				break;
			continue;
		}
		{ /* anything else: the backend gets this request and the rest of the connection */
			int bfd = backend_connect(s);
			size_t off = 0;

			if (bfd < 0) {
				refuse(ssl, 502, "Bad Gateway", NULL, "backend unreachable\n");
				break;
			}
			pthread_mutex_lock(&s->lock);
			s->slots[c->slot].bfd = bfd;
			pthread_mutex_unlock(&s->lock);
			while (off < h->have) {
				ssize_t w = write(bfd, h->buf + off, h->have - off);

				if (w <= 0)
					break;
				off += (size_t)w;
			}
			if (off == h->have)
				pipe_backend(ssl, c->fd, bfd);
			pthread_mutex_lock(&s->lock);
			s->slots[c->slot].bfd = -1;
			pthread_mutex_unlock(&s->lock);
			close(bfd);
			break;
		}
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	pthread_mutex_lock(&s->lock);
	s->slots[c->slot].cfd = -1;
	pthread_mutex_unlock(&s->lock);
	close(c->fd);
	SSL_CTX_free(c->ctx);
	free(h);
	pthread_mutex_lock(&s->lock);
	s->active--;
	addr_give(s, c->addr);
	pthread_mutex_unlock(&s->lock);
	free(c);
	ERR_clear_error();
	return NULL;
}

/* a port number 0..65535 (min_port..65535), digits only */
static int port_ok(const char *p, long min_port)
{
	long v = 0;
	size_t i;

	if (!p[0] || strlen(p) > 5)
		return 0;
	for (i = 0; p[i]; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	return v >= min_port && v <= 65535;
}

static int listen_on(const char *listen_s, int *port_out, cct_err *err)
{
	char host[256], port[16];
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, one = 1;

	if (split_hostport(host, sizeof(host), port, sizeof(port), listen_s) != 0 || !port_ok(port, 0)) {
		cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
			    "--listen %.100s: HOST:PORT, PORT a number from 0 to 65535", listen_s);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0 || !res) {
		cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "--listen %.100s: cannot resolve", listen_s);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "--listen %.100s: %s", listen_s, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "--listen %.100s: %s", listen_s,
			    strerror(errno));
		close(fd);
		return -1;
	}
	*port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					     : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* A served --cert must describe what the fresh evidence will be (same TEE, same GPU count),
 * or every client would refuse the fresh evidence: refuse to start instead. */
static int check_cert_matches(const cct_ratls_serve_opts *o, cct_err *err)
{
	uint8_t *b = NULL;
	size_t n = 0;
	json_t *d = NULL;
	const char *tee, *want = o->make.tee ? o->make.tee : "snp";
	json_int_t g;
	int rc;

	if ((rc = cct_file_read(&b, &n, o->cert_file, 1u << 24, err)) != CCT_OK)
		return rc;
	rc = cct_ratls_cert_describe(&d, b, n, err);
	free(b);
	if (rc != CCT_OK)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "--cert %.100s: %s", o->cert_file,
				   err->msg);
	tee = json_string_value(json_object_get(d, "tee"));
	g = json_integer_value(json_object_get(json_object_get(json_object_get(d, "claims"), "cctrust-gpus"),
					       "count"));
	if (!tee || strcmp(tee, want) || (o->make.gpus >= 0 ? g != o->make.gpus : g == 0)) {
		char gs[16];

		snprintf(gs, sizeof(gs), o->make.gpus < 0 ? "all" : "%d", o->make.gpus);
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "--cert %.100s carries %s evidence with %lld GPU(s) but fresh evidence "
				 "would be %s with %s GPU(s): give the --tee/--gpus it was made with",
				 o->cert_file, tee ? tee : "?", (long long)g, want, gs);
	}
	json_decref(d);
	return rc;
}

int cct_ratls_serve(const cct_ratls_serve_opts *o, cct_err *err)
{
	int header_timeout_s = o->header_timeout_s;
	srv s;
	int rc, lfd, port = 0, maxc = o->max_connections > 0 ? o->max_connections : 64;
	long rotate = o->rotate_s > 0 ? o->rotate_s : 3600;
	time_t issued;
	const char *b = o->backend;

	memset(&s, 0, sizeof(s));
	s.o = o;
	if (header_timeout_s < 0 || header_timeout_s > 300)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "header timeout: 1..300 s");
	if (o->max_connections_per_addr < 0 || o->max_connections_per_addr > maxc)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "connections per client address: 1..%d (the connection limit)",
				   maxc);
	s.per_addr = o->max_connections_per_addr ? o->max_connections_per_addr
						 : (maxc / 4 ? maxc / 4 : 1);
	s.head_ms = 1000LL * (header_timeout_s ? header_timeout_s : CCT_RATLS_HEADER_TIMEOUT_S);
	if (!b || strncmp(b, "http://", 7) ||
	    split_hostport(s.bhost, sizeof(s.bhost), s.bport, sizeof(s.bport), b + 7) != 0 ||
	    !port_ok(s.bport, 1))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "--backend %.100s: http://HOST:PORT (no path), PORT a number from 1 "
				   "to 65535", b ? b : "(none)");
	/* the port file is written once listening: never over the key or certificate served */
	if (o->port_file && (cct_file_same(o->port_file, o->cert_file) || cct_file_same(o->port_file, o->key_file)))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "--port-file %.100s is the --cert or --key file: refusing to overwrite an input",
				   o->port_file);
	/* the served certificate must stay valid until it is re-issued; a --cert is never
	 * re-issued, so a rotation or validity for it would be accepted and ignored */
	if (o->cert_file && (o->rotate_s > 0 || o->validity_s > 0))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "--%s does not apply to --cert %.100s: a served certificate is never "
				   "re-issued and keeps its own validity",
				   o->rotate_s > 0 ? "rotate" : "validity", o->cert_file);
	if (!o->cert_file && o->validity_s > 0 && o->validity_s < rotate)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "--validity %lds is shorter than --rotate %lds: the certificate would "
				   "be served expired until it is re-issued",
				   o->validity_s, rotate);
	if (o->cert_file && (rc = check_cert_matches(o, err)) != CCT_OK)
		return rc;
	if (!(s.addrs = calloc((size_t)maxc, sizeof(*s.addrs))) ||
	    !(s.slots = malloc((size_t)maxc * sizeof(*s.slots)))) {
		free(s.addrs);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	}
	for (int i = 0; i < maxc; i++)
		s.slots[i].cfd = s.slots[i].bfd = -1;
	s.naddrs = maxc;
	pthread_mutex_init(&s.lock, NULL);
	pthread_mutex_init(&s.ev_lock, NULL);
	s.ctx = new_ctx(o, err);
	if (!s.ctx) {
		free(s.addrs);
		free(s.slots);
		return err ? err->code : CCT_ERROR;
	}
	issued = time(NULL);
	lfd = listen_on(o->listen, &port, err);
	if (lfd < 0) {
		SSL_CTX_free(s.ctx);
		free(s.addrs);
		free(s.slots);
		return err ? err->code : CCT_EIO;
	}
	if (o->port_file) {
		char t[16];

		snprintf(t, sizeof(t), "%d\n", port);
		if (cct_file_write(o->port_file, t, strlen(t), 0, err) != CCT_OK) {
			close(lfd);
			SSL_CTX_free(s.ctx);
			free(s.addrs);
			free(s.slots);
			return err->code;
		}
	}
	fprintf(stderr, "cctrust ratls serve: listening on port %d, backend %s\n", port, b);
	/* an atomic read: a signal handler sets *stop in the CLI, another thread may in a library
	 * caller (a plain read would race with that thread's write) */
	while (!o->stop || !__atomic_load_n(o->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { lfd, POLLIN, 0 };
		struct sockaddr_storage peer;
		socklen_t peer_len;
		uint8_t addr[16];
		int cfd;

		if (!o->cert_file && time(NULL) - issued >= rotate) {
			cct_err e2;
			SSL_CTX *n;

			pthread_mutex_lock(&s.ev_lock);
			n = new_ctx(o, &e2);
			pthread_mutex_unlock(&s.ev_lock);
			if (n) {
				pthread_mutex_lock(&s.lock);
				SSL_CTX_free(s.ctx);
				s.ctx = n;
				pthread_mutex_unlock(&s.lock);
				fprintf(stderr, "cctrust ratls serve: key and certificate re-issued\n");
			} else {
				fprintf(stderr, "cctrust ratls serve: re-issue failed: %s\n", e2.msg);
			}
			issued = time(NULL);
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		peer_len = sizeof(peer);
		cfd = accept4(lfd, (struct sockaddr *)&peer, &peer_len, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		addr_key(addr, &peer);
		pthread_mutex_lock(&s.lock);
		if (s.active >= maxc || !addr_take(&s, addr)) {
			pthread_mutex_unlock(&s.lock);
			close(cfd);
			continue;
		}
		{
			conn *c = calloc(1, sizeof(*c));
			pthread_t th;
			pthread_attr_t at;

			if (!c) {
				addr_give(&s, addr);
				pthread_mutex_unlock(&s.lock);
				close(cfd);
				continue;
			}
			c->s = &s;
			c->fd = cfd;
			for (c->slot = 0; s.slots[c->slot].cfd >= 0; c->slot++)
				; /* active < maxc: one is free */
			s.slots[c->slot].cfd = cfd;
			c->ctx = s.ctx;
			memcpy(c->addr, addr, 16);
			SSL_CTX_up_ref(s.ctx);
			s.active++;
			pthread_mutex_unlock(&s.lock);
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			if (pthread_create(&th, &at, conn_main, c) != 0) {
				int slot = c->slot;

				close(cfd);
				SSL_CTX_free(c->ctx);
				free(c);
				pthread_mutex_lock(&s.lock);
				s.active--;
				s.slots[slot].cfd = -1;
				addr_give(&s, addr);
				pthread_mutex_unlock(&s.lock);
			}
			pthread_attr_destroy(&at);
		}
	}
	close(lfd);
	/* the connection threads use s (this stack frame): they must all have ended before it
	 * is gone. Their sockets are shut down, which ends every wait on them (handshake, head,
	 * pipe, the backend's answer); evidence being made is bounded by the attester. The
	 * bound below is a backstop only: the slots are then left allocated, never freed under
	 * a thread still running. */
	pthread_mutex_lock(&s.lock);
	for (int i = 0; i < maxc; i++) {
		if (s.slots[i].cfd >= 0)
			shutdown(s.slots[i].cfd, SHUT_RDWR);
		if (s.slots[i].bfd >= 0)
			shutdown(s.slots[i].bfd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&s.lock);
	for (int i = 0, a = 1; i < 1200 && a; i++) {
		pthread_mutex_lock(&s.lock);
		a = s.active;
		pthread_mutex_unlock(&s.lock);
		if (!a) {
			free(s.addrs); /* no thread left to give a slot back */
			free(s.slots);
		} else {
			usleep(50000);
		}
	}
	SSL_CTX_free(s.ctx);
	return CCT_OK;
}
