/* Request framing and decoding for the two programs that serve HTTP through libmicrohttpd
 * (cctrustd and cctrust-collateral-serve): the requests whose body a proxy in front could frame
 * otherwise than libmicrohttpd does, refused before any body is read, and %00 in a path or an
 * argument (docs/security.md, 4 and 8). */
#ifndef CCT_TOOLS_HTTPD_FRAMING_H
#define CCT_TOOLS_HTTPD_FRAMING_H

#include <stddef.h>

#include <microhttpd.h>

/* Why the request's framing is refused, or NULL: two Content-Length headers, one with a
 * Transfer-Encoding (RFC 9112 6.3: libmicrohttpd frames by the chunks, a proxy may frame by the
 * length, and the rest is a smuggled request), two Transfer-Encoding headers (libmicrohttpd
 * reads the first, a proxy may read the list), or one other than "chunked" alone (a body
 * libmicrohttpd cannot frame: it waited to the timeout). */
const char *cct_httpd_framing_refusal(struct MHD_Connection *c);

/* 1 when the request declares (Content-Length) a body longer than limit. */
int cct_httpd_declared_above(struct MHD_Connection *c, size_t limit);

/* MHD_OPTION_UNESCAPE_CALLBACK: libmicrohttpd decodes %HH in the path and the arguments, which
 * the servers take as C strings, so a %00 would cut them there (a/b/c%00evil acted on a/b/c).
 * A value that decodes to a NUL is emptied instead (an argument is then missing; an empty
 * path, which no request line otherwise has, is refused before routing). */
size_t cct_httpd_unescape_without_nul(void *cls, struct MHD_Connection *c, char *s);

#endif
