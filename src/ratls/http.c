#define _GNU_SOURCE /* strncasecmp, memmem */
/* The few HTTP/1.x pieces attested TLS needs on a raw TLS connection (the proxy is a byte pipe
 * after the attestation request, so no HTTP library sits on that connection): read a head up
 * to CRLF CRLF within a fixed cap, the status line, Content-Length. Everything bounded. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "ratls/ratls_int.h"

int cct_ratls__write_all(SSL *ssl, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n) {
		int w = SSL_write(ssl, q, n > 1u << 30 ? 1 << 30 : (int)n);

		if (w <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

long long cct_ratls__now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int cct_ratls__wait_fd(int fd, short events, long long deadline_ms)
{
	struct pollfd p;
	long long left;
	int r;

	/* a poll cut short (EINTR, or the 60 s cap of one wait) waits again for the rest */
	while ((left = deadline_ms - cct_ratls__now_ms()) > 0) {
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 0;
	}
	return 0;
}

int cct_ratls__set_nonblock(int fd, int on)
{
	int f = fd >= 0 ? fcntl(fd, F_GETFL) : -1;

	if (f < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? f | O_NONBLOCK : f & ~O_NONBLOCK);
}

int cct_ratls__ssl_wait(SSL *ssl, int r, long long deadline_ms)
{
	int e = SSL_get_error(ssl, r);

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return 0;
	return cct_ratls__wait_fd(SSL_get_fd(ssl), e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
				  deadline_ms)
		       ? 1
		       : -1;
}

int cct_ratls__read_by(SSL *ssl, void *buf, int n, long long deadline_ms)
{
	int i, w;

	/* each turn waits for new bytes, the deadline ends it; the count is only a backstop */
	for (i = 0; i < (1 << 20); i++) {
		int r = SSL_read(ssl, buf, n);

		if (r > 0 || !deadline_ms)
			return r > 0 ? r : 0;
		if ((w = cct_ratls__ssl_wait(ssl, r, deadline_ms)) != 1)
			return w;
	}
	return -1;
}

int cct_ratls__read_head_until(cct_ratls_head *h, SSL *ssl, long long deadline_ms, cct_err *err)
{
	char *e;

	/* keep what followed the previous head (pipelined bytes) */
	if (h->head_len && h->have >= h->head_len) {
		memmove(h->buf, h->buf + h->head_len, h->have - h->head_len);
		h->have -= h->head_len;
	} else {
		h->have = 0;
	}
	h->head_len = 0;
	for (;;) {
		const char *nul;
		int r;

		h->buf[h->have] = 0;
		/* the head ends at the first CRLF CRLF; what follows it in the same read is the
		 * body's start (binary, NULs allowed), so only the head is checked for NULs */
		if ((e = memmem(h->buf, h->have, "\r\n\r\n", 4))) {
			h->head_len = (size_t)(e - h->buf) + 4;
			if ((nul = memchr(h->buf, 0, h->head_len)) != NULL)
				return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT,
						   (size_t)(nul - h->buf), "NUL byte in an HTTP head");
			return 1;
		}
		if (h->have >= CCT_RATLS_MAX_HEAD)
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
					   "HTTP head larger than %u bytes", CCT_RATLS_MAX_HEAD);
		r = cct_ratls__read_by(ssl, h->buf + h->have, (int)(CCT_RATLS_MAX_HEAD - h->have), deadline_ms);
		if (r < 0)
			return cct_err_set(err, CCT_ENETWORK, CCT_STAGE_INPUT, h->have,
					   "HTTP head not complete by its deadline");
		if (r == 0) {
			if (!h->have)
				return 0;
			return cct_err_set(err, CCT_ETRUNC, CCT_STAGE_INPUT, h->have,
					   "connection closed inside an HTTP head");
		}
		h->have += (size_t)r;
	}
}

int cct_ratls__read_head(cct_ratls_head *h, SSL *ssl, cct_err *err)
{
	return cct_ratls__read_head_until(h, ssl, 0, err);
}

int cct_ratls__status(const cct_ratls_head *h)
{
	const char *p = h->buf;

	if (h->head_len < 12 || strncmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11]))
		return -1;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

long long cct_ratls__content_length(const cct_ratls_head *h)
{
	const char *p = h->buf, *end = h->buf + h->head_len;
	long long v = -1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if ((size_t)(nl - p) > 15 && !strncasecmp(p, "content-length:", 15)) {
			const char *q = p + 15;

			while (q < nl && (*q == ' ' || *q == '\t'))
				q++;
			if (q == nl || !isdigit((unsigned char)*q) || v >= 0)
				return -1; /* empty, not a number, or repeated */
			v = 0;
			while (q < nl && isdigit((unsigned char)*q)) {
				if (v > (1LL << 40))
					return -1;
				v = v * 10 + (*q++ - '0');
			}
			while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r'))
				q++;
			if (q != nl)
				return -1;
		}
		p = nl + 1;
	}
	return v;
}
