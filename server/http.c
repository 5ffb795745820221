/*
 * Copyright (c) 2026 The rpcd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * HTTP/1.1 for ,http listeners, with no I/O of its own: the head of a
 * request read in place from the connection's input, as libproto reads a
 * frame, and the head of a response written into an output buffer.  Only
 * what rpcd's routes need is kept of a request; everything a peer sends is
 * checked, and whatever rpcd cannot serve safely is an error status: a
 * body both counted and chunked (a smuggling trick), a length given twice
 * differently, a header folded over lines, a head past RPCD_HTTP_HEAD_MAX.
 * Chunked request bodies are refused with 411: every client rpcd serves
 * sends JSON of a known length, and refusing them leaves one way to find
 * where a request ends.
 *
 * Layer: base (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>

#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "rpcd.h"

/* Is c a character of a token (RFC 9110 5.6.2), as a method or a name? */
static int
http_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	return (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Does the span p, len equal word, ASCII case aside? */
static int
http_is(const char *p, size_t len, const char *word)
{
	return (strlen(word) == len && strncasecmp(p, word, len) == 0);
}

/* Trim spaces and tabs from both ends of the span *p, *len. */
static void
http_trim(const char **p, size_t *len)
{
	while (*len > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
		(*len)--;
}

/*
 * The next line of the head at *p: its span without CRLF (a bare LF ends
 * one too, as RFC 9112 allows), *p moved past it; -1 if no line ends
 * before end.
 */
static int
http_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char	*nl;

	if ((nl = memchr(*p, '\n', end - *p)) == NULL)
		return (-1);
	*line = *p;
	*len = nl - *p;
	if (*len > 0 && nl[-1] == '\r')
		(*len)--;
	*p = nl + 1;
	return (0);
}

/* The method of a request line's first word. */
static int
http_method(const char *p, size_t len)
{
	if (len == 4 && memcmp(p, "POST", 4) == 0)
		return (HTTP_POST);
	if (len == 3 && memcmp(p, "GET", 3) == 0)
		return (HTTP_GET);
	if (len == 7 && memcmp(p, "OPTIONS", 7) == 0)
		return (HTTP_OPTIONS);
	return (HTTP_OTHER);
}

/*
 * The request line: METHOD SP TARGET SP HTTP/1.x.  The target's path is
 * kept, its query left out; an absolute URI's scheme and authority too.
 * Return 0 or an error status.
 */
static int
http_request_line(const char *line, size_t len, struct http_request *r)
{
	const char	*end = line + len, *sp, *target, *q;
	size_t		 n;

	for (n = 0; n < len && http_tchar(line[n]); n++)
		;
	if (n == 0 || n == len || line[n] != ' ')
		return (400);
	r->method = http_method(line, n);
	target = line + n + 1;
	if ((sp = memchr(target, ' ', end - target)) == NULL ||
	    sp == target)
		return (400);
	if (end - sp - 1 != 8 || memcmp(sp + 1, "HTTP/", 5) != 0 ||
	    sp[7] != '.' || sp[6] < '0' || sp[6] > '9' || sp[8] < '0' ||
	    sp[8] > '9')
		return (400);
	if (sp[6] != '1')
		return (505);
	/* A later HTTP/1.x is served as the latest rpcd knows, 1.1. */
	r->minor = sp[8] > '1' ? 1 : sp[8] - '0';
	if ((size_t)(sp - target) > 7 &&
	    (strncasecmp(target, "http://", 7) == 0 ||
	    strncasecmp(target, "https://", 8) == 0)) {
		target = (const char *)memchr(target, '/', sp - target) + 2;
		if ((q = memchr(target, '/', sp - target)) == NULL) {
			r->path = "/";
			r->path_len = 1;
			return (0);
		}
		target = q;
	}
	if (*target != '/' && !(r->method == HTTP_OPTIONS && *target == '*'))
		return (400);
	for (q = target; q < sp && *q != '?' && *q != '#'; q++) {
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return (400);
	}
	r->path = target;
	r->path_len = q - target;
	return (0);
}

/*
 * Content-Length: digits, the same each time it is given.  Return 0 or
 * an error status.
 */
static int
http_content_length(const char *v, size_t len, struct http_request *r)
{
	int64_t	n = 0;
	size_t	i;

	if (len == 0 || len > 18)
		return (400);
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return (400);
		n = n * 10 + (v[i] - '0');
	}
	if (r->content_length != -1 && r->content_length != n)
		return (400);
	r->content_length = n;
	return (0);
}

/* Connection: a list of options, of which close and keep-alive count. */
static void
http_connection(const char *v, size_t len, struct http_request *r)
{
	const char	*end = v + len, *comma;
	size_t		 n;

	while (v < end) {
		if ((comma = memchr(v, ',', end - v)) == NULL)
			comma = end;
		n = comma - v;
		http_trim(&v, &n);
		if (http_is(v, n, "close"))
			r->close = 1;
		else if (http_is(v, n, "keep-alive"))
			r->keep_alive = 1;
		v = comma + 1;
	}
}

/*
 * Content-Type: JSON, by any of the media types JSON-RPC over HTTP has
 * used, parameters (a charset) aside.
 */
static void
http_content_type(const char *v, size_t len, struct http_request *r)
{
	const char	*semi;

	if ((semi = memchr(v, ';', len)) != NULL)
		len = semi - v;
	http_trim(&v, &len);
	r->json = http_is(v, len, "application/json") ||
	    http_is(v, len, "application/json-rpc") ||
	    http_is(v, len, "application/jsonrequest");
	r->has_type = 1;
}

/* One header line: NAME ":" VALUE.  Return 0 or an error status. */
static int
http_header(const char *line, size_t len, struct http_request *r)
{
	const char	*colon, *v;
	size_t		 n, vlen;

	/* A line folded onto the one before is obsolete, and a trick. */
	if (line[0] == ' ' || line[0] == '\t')
		return (400);
	for (n = 0; n < len && http_tchar(line[n]); n++)
		;
	if (n == 0 || n == len || line[n] != ':')
		return (400);
	colon = line + n;
	v = colon + 1;
	vlen = line + len - v;
	http_trim(&v, &vlen);
	if (memchr(v, '\0', vlen) != NULL)
		return (400);
	/* By the first letter: most headers are none of these. */
	switch (line[0] | 0x20) {
	case 'a':
		if (http_is(line, n, "access-control-request-method"))
			r->preflight = 1;
		break;
	case 'c':
		if (http_is(line, n, "content-length"))
			return (http_content_length(v, vlen, r));
		if (http_is(line, n, "content-type"))
			http_content_type(v, vlen, r);
		else if (http_is(line, n, "connection"))
			http_connection(v, vlen, r);
		break;
	case 'e':
		if (http_is(line, n, "expect"))
			r->expect = http_is(v, vlen, "100-continue") ? 1 : -1;
		break;
	case 'h':
		if (http_is(line, n, "host"))
			r->host = 1;
		break;
	case 'o':
		if (http_is(line, n, "origin")) {
			r->origin = v;
			r->origin_len = vlen;
		}
		break;
	case 't':
		if (http_is(line, n, "transfer-encoding"))
			r->chunked = http_is(v, vlen, "chunked") ? 1 : -1;
		break;
	}
	return (0);
}

/*
 * Parse the head of the request at p, len bytes of input, at most max of
 * them: HTTP_MORE while it is not all there, HTTP_OK once it is (r filled
 * in, its spans pointing into p), or the status of the error to answer.
 */
int
http_parse(const char *p, size_t len, size_t max, struct http_request *r)
{
	const char	*start = p, *end, *line;
	size_t		 n;
	int		 status, headers = 0;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	end = p + (len < max ? len : max);
	/* Blank lines before a request are allowed: some clients send one. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (http_line(&p, end, &line, &n) != 0)
		return (len >= max ? 431 : HTTP_MORE);
	if ((status = http_request_line(line, n, r)) != 0)
		return (status);
	for (;;) {
		if (http_line(&p, end, &line, &n) != 0)
			return (len >= max ? 431 : HTTP_MORE);
		if (n == 0)
			break;
		if (++headers > RPCD_HTTP_HEADERS_MAX)
			return (431);
		if ((status = http_header(line, n, r)) != 0)
			return (status);
	}
	r->head_len = p - start;
	if (r->minor >= 1 && !r->host)
		return (400);
	if (r->chunked != 0 && r->content_length != -1)
		return (400);
	if (r->chunked == 1)
		return (411);
	if (r->chunked == -1 || r->expect == -1)
		return (r->chunked == -1 ? 501 : 417);
	if (r->minor == 0 && !r->keep_alive)
		r->close = 1;
	return (HTTP_OK);
}

/* The reason phrase of a status rpcd answers. */
const char *
http_reason(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 204: return ("No Content");
	case 400: return ("Bad Request");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 411: return ("Length Required");
	case 413: return ("Content Too Large");
	case 415: return ("Unsupported Media Type");
	case 417: return ("Expectation Failed");
	case 431: return ("Request Header Fields Too Large");
	case 501: return ("Not Implemented");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	case 505: return ("HTTP Version Not Supported");
	default: return ("Internal Server Error");
	}
}

/* The Date header's value, formatted once a second. */
static const char *
http_date(void)
{
	static char	 date[40];
	static time_t	 when;
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (now != when && gmtime_r(&now, &tm) != NULL) {
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		when = now;
	}
	return (date);
}

/* Copy the string s to p; return the end of the copy. */
static char *
http_put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return (p + len);
}

#define HTTP_PUT(p, s)	http_put((p), (s), sizeof(s) - 1)

/*
 * Append the head of a response to out: status, a JSON body of len bytes
 * to follow (none for 204, and no type for none), the connection closing
 * after it or not, and, with origin, CORS's header for it; extra, if not
 * NULL, is header lines of the caller's, each ended by CRLF.  Built in
 * place in the output, as call.c builds a frame: every response has one.
 * Return -1 out of memory.
 */
int
http_response_head(struct evbuffer *out, int status, size_t len, int close,
    const char *origin, const char *extra)
{
	struct evbuffer_iovec	 v;
	const char		*reason = http_reason(status), *date;
	char			*p, digits[24];
	size_t			 need, n = 0;

	date = http_date();
	need = 128 + strlen(reason) + strlen(date) +
	    (origin != NULL ? strlen(origin) : 0) +
	    (extra != NULL ? strlen(extra) : 0);
	if (evbuffer_reserve_space(out, need, &v, 1) != 1)
		return (-1);
	p = HTTP_PUT((char *)v.iov_base, "HTTP/1.1 ");
	*p++ = '0' + status / 100;
	*p++ = '0' + status / 10 % 10;
	*p++ = '0' + status % 10;
	*p++ = ' ';
	p = http_put(p, reason, strlen(reason));
	p = HTTP_PUT(p, "\r\nDate: ");
	p = http_put(p, date, strlen(date));
	p = HTTP_PUT(p, "\r\n");
	if (len > 0)
		p = HTTP_PUT(p, "Content-Type: application/json\r\n");
	if (close)
		p = HTTP_PUT(p, "Connection: close\r\n");
	if (origin != NULL) {
		p = HTTP_PUT(p, "Access-Control-Allow-Origin: ");
		p = http_put(p, origin, strlen(origin));
		p = HTTP_PUT(p, "\r\nVary: Origin\r\n");
	}
	if (extra != NULL)
		p = http_put(p, extra, strlen(extra));
	if (status != 204) {
		p = HTTP_PUT(p, "Content-Length: ");
		do
			digits[n++] = '0' + len % 10;
		while ((len /= 10) > 0);
		while (n > 0)
			*p++ = digits[--n];
		p = HTTP_PUT(p, "\r\n");
	}
	p = HTTP_PUT(p, "\r\n");
	v.iov_len = p - (char *)v.iov_base;
	return (evbuffer_commit_space(out, &v, 1));
}
