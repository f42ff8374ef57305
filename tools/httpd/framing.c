/* Request framing and decoding shared by cctrustd and cctrust-collateral-serve: framing.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "framing.h"

/* MHD_KeyValueIterator: count the Content-Length ([0]) and Transfer-Encoding ([1]) headers
 * into (int *)cls */
static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	int *n = cls;

	(void)kind;
	(void)value;
	n[0] += !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH);
	n[1] += !strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	return MHD_YES;
}

/* 1 when the request's one Transfer-Encoding is exactly "chunked" (any case, spaces around):
 * the only coding libmicrohttpd frames (RFC 9112 6.1: chunked must be the final coding, and no
 * other is accepted here) */
static int te_chunked(struct MHD_Connection *c)
{
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	size_t n;

	if (!te)
		return 0;
	te += strspn(te, " \t");
	n = strlen(te);
	while (n && (te[n - 1] == ' ' || te[n - 1] == '\t'))
		n--;
	return n == 7 && !strncasecmp(te, "chunked", 7);
}

const char *cct_httpd_framing_refusal(struct MHD_Connection *c)
{
	int n[2] = { 0, 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, n);
	if (n[0] > 1)
		return "more than one Content-Length header";
	if (n[0] && n[1])
		return "Content-Length and Transfer-Encoding headers together";
	if (n[1] > 1)
		return "more than one Transfer-Encoding header";
	if (n[1] && !te_chunked(c))
		return "a Transfer-Encoding other than chunked";
	return NULL;
}

int cct_httpd_declared_above(struct MHD_Connection *c, size_t limit)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end = NULL;
	unsigned long long v;

	if (!cl)
		return 0;
	errno = 0;
	v = strtoull(cl, &end, 10);
	return !errno && end && !*end && *cl != '-' && v > (unsigned long long)limit;
}

size_t cct_httpd_unescape_without_nul(void *cls, struct MHD_Connection *c, char *s)
{
	size_t n = MHD_http_unescape(s);

	(void)cls;
	(void)c;
	if (strlen(s) != n) {
		s[0] = 0;
		return 0;
	}
	return n;
}
