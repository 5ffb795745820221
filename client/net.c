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
 * The connection: connect with a timeout, send requests built by libproto,
 * read replies with a timeout and a size limit.  Anything the server does
 * wrong is returned as CLIENT_FAILED with a message saying what in c->err:
 * the command chooses what to print and how to exit.  Once a command
 * catches SIGINT, the signal ends any wait (wait.c) instead.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rpcctl.h"

/* Say why in c->err, for the command to tell: return CLIENT_FAILED. */
static int printflike(2, 3)
client_error(struct client *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return (CLIENT_FAILED);
}

/*
 * Connect to one address within the timeout, and with --tls run the
 * handshake: 0, or an errno value; -1 for a failed handshake, with why
 * in tls_err; CLIENT_FAILED if the system failed us, with why in tls_err.
 */
static int
client_try(struct client *c, const struct addr *a, const char *host,
    char *tls_err, size_t len_err)
{
	socklen_t	len = sizeof errno;
	double		deadline = time_monotonic() + c->opt->timeout;
	int		error = 0, on = 1, ready;

	if ((c->fd = socket(a->ss.ss_family, SOCK_STREAM, 0)) == -1) {
		snprintf(tls_err, len_err, "socket: %s", strerror(errno));
		return (CLIENT_FAILED);
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	if (connect(c->fd, (const struct sockaddr *)&a->ss, a->len) != 0) {
		if (errno != EINPROGRESS)
			error = errno;
		else if ((ready = client_wait(c->fd, POLLOUT,
		    deadline)) == 0)
			error = ETIMEDOUT;
		else if (ready == -1)
			error = EINTR;
		else if (ready == CLIENT_FAILED) {
			snprintf(tls_err, len_err, "poll: %s",
			    strerror(errno));
			error = CLIENT_FAILED;
		} else
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
	}
	if (error != 0) {
		close(c->fd);
		c->fd = -1;
		return (error);
	}
	if (a->ss.ss_family != AF_UNIX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
#ifdef SO_NOSIGPIPE
	setsockopt(c->fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
	if (c->opt->tls && (error = client_tls_start(c, *host != '\0' ?
	    host : NULL, deadline, tls_err, len_err)) != 0) {
		client_tls_close(c);
		close(c->fd);
		c->fd = -1;
		return (error);
	}
	return (0);
}

/*
 * Connect to the servers of the -S list in turn, from the one at first on
 * (wrapping around), until one accepts, as libpq does with several hosts.
 * Return 0, -1 with each server's failure in err, or CLIENT_FAILED if the
 * system failed us (no socket, no poll), with why in err.
 */
int
client_open(struct client *c, struct options *opt, int first,
    char *err, size_t errlen)
{
	const struct addr	*a;
	const char		*why;
	char			 tls_err[512];
	size_t			 off = 0;
	int			 i, error;

	memset(c, 0, sizeof *c);
	c->opt = opt;
	*err = '\0';
	for (i = 0; i < opt->nservers; i++) {
		c->index = (first + i) % opt->nservers;
		a = &opt->servers[c->index];
		/* A name that did not resolve is not tried. */
		why = opt->unresolved[c->index];
		if (*why == '\0') {
			error = client_try(c, a, opt->hosts[c->index], tls_err,
			    sizeof tls_err);
			if (error == 0) {
				snprintf(c->server, sizeof c->server, "%s",
				    a->text);
				return (0);
			}
			if (error == CLIENT_FAILED) {
				snprintf(err, errlen, "%s", tls_err);
				return (CLIENT_FAILED);
			}
			why = error == -1 ? tls_err : strerror(error);
		}
		if (off < errlen)
			off += snprintf(err + off, errlen - off, "%s%s: %s",
			    i > 0 ? "; " : "", a->text, why);
	}
	return (-1);
}

/*
 * Read what has come, without waiting: 1 if something (or the end) had,
 * 0 if nothing, -1 on an error of read(2), CLIENT_FAILED if the server
 * broke the protocol.  Every reply must answer a request already sent and
 * be within the limit, which bounds what is buffered.
 */
static int
client_fill(struct client *c)
{
	size_t		off = 0;
	uint32_t	body;
	ssize_t		r;
	int		status, replies = 0;

	if (c->size - c->len < 65536) {
		c->size = c->len + 65536 * 2;
		c->buf = xreallocarray(c->buf, c->size, 1);
	}
	r = client_recv(c, c->buf + c->len, c->size - c->len);
	if (r == -1 && errno_transient(errno))
		return (0);
	/* With --retry a reset is a close like another: requests resent. */
	if (r == -1 && !(c->retry && errno == ECONNRESET))
		return (-1);
	if (r <= 0) {
		c->eof = 1;
		return (1);
	}
	c->len += r;
	for (;;) {
		status = proto_frame_decode(c->buf + off, c->len - off,
		    RPCCTL_MAX_FRAME, &body);
		if (status == PROTO_FRAME_TOO_LARGE)
			return (client_error(c, "%s sent a frame of %u bytes, "
			    "over the limit of %d", c->server, body,
			    RPCCTL_MAX_FRAME));
		if (status != PROTO_FRAME_COMPLETE)
			return (1);
		if (++replies > c->pending)
			return (client_error(c, "%s sent a reply to no "
			    "request", c->server));
		off += PROTO_HEADER_SIZE + body;
	}
}

/* client_fill() returned got < 0: say why in c->err, if it did not. */
static int
client_fill_error(struct client *c, int got)
{
	if (got == CLIENT_FAILED)
		return (got);
	return (client_error(c, "cannot read from %s: %s", c->server,
	    strerror(errno)));
}

/*
 * Send one whole request frame.  Replies are taken in while the kernel
 * makes us wait: the server may stop reading until they are, and a client
 * that only wrote would deadlock with it.  If the server closes, sending
 * stops and client_read() reports what it said.  Returns 0, -1 if SIGINT
 * came first, or CLIENT_FAILED with why in c->err.
 */
int
client_send_raw(struct client *c, const void *p, size_t n)
{
	const char	*q = p;
	double		 deadline = time_monotonic() + c->opt->timeout;
	ssize_t		 w;
	int		 ready, error, got;

	c->pending++;
	while (n > 0 && !c->eof) {
		w = client_send_some(c, q, n);
		if (w == -1 && errno_transient(errno)) {
			ready = client_wait(c->fd, POLLIN | POLLOUT, deadline);
			if (ready == -1)
				return (-1);
			if (ready == CLIENT_FAILED)
				return (client_error(c, "poll: %s",
				    strerror(errno)));
			if (ready == 0)
				return (client_error(c, "timed out sending to "
				    "%s", c->server));
			if ((ready & (POLLIN | POLLHUP)) &&
			    (got = client_fill(c)) < 0)
				return (client_fill_error(c, got));
			continue;
		}
		if (w == -1) {
			/* A reply may have come before the server closed. */
			error = errno;
			got = error == EPIPE || error == ECONNRESET ?
			    client_fill(c) : 0;
			if (got == CLIENT_FAILED)
				return (got);
			if ((error == EPIPE || error == ECONNRESET) &&
			    (got == 1 || c->retry)) {
				c->eof = 1;
				break;
			}
			return (client_error(c, "cannot send to %s: %s",
			    c->server, strerror(error)));
		}
		q += w;
		n -= w;
		deadline = time_monotonic() + c->opt->timeout;
	}
	return (0);
}

/*
 * Send one request; params is JSON text or NULL.  As client_send_raw(),
 * or CLIENT_BADREQUEST, with why in c->err, if it cannot be built.
 */
int
client_send(struct client *c, const char *method, const char *params,
    size_t len)
{
	char	 small[4096], *frame = small;
	size_t	 need;
	int	 error, sent;

	error = proto_request_build(frame, sizeof small, &need, method, params,
	    len);
	if (error == PROTO_ESPACE) {
		frame = xmalloc(need);
		error = proto_request_build(frame, need, &need, method, params,
		    len);
	}
	if (error != PROTO_OK) {
		snprintf(c->err, sizeof c->err, "cannot build a request for "
		    "%s: %s", method, proto_strerror(error));
		return (CLIENT_BADREQUEST);
	}
	sent = client_send_raw(c, frame, need);
	if (frame != small)
		free(frame);
	return (sent);
}

/*
 * Read until one whole reply frame is buffered and parse it into c->reply;
 * return 0, -1 if SIGINT came first, CLIENT_CLOSED if the server closed
 * first and c->retry is set, or CLIENT_FAILED with why in c->err.  Call
 * client_consume() once done with the reply.
 */
int
client_read(struct client *c)
{
	double		deadline = time_monotonic() + c->opt->timeout;
	uint32_t	body;
	int		status, got, error, ready;

	for (;;) {
		status = proto_frame_decode(c->buf, c->len, RPCCTL_MAX_FRAME,
		    &body);
		if (status == PROTO_FRAME_TOO_LARGE)
			return (client_error(c, "%s sent a frame of %u bytes, "
			    "over the limit of %d", c->server, body,
			    RPCCTL_MAX_FRAME));
		if (status == PROTO_FRAME_COMPLETE)
			break;
		if (c->eof && c->retry)
			return (CLIENT_CLOSED);
		if (c->eof)
			return (client_error(c, "%s closed the connection%s",
			    c->server, c->len > 0 ? " in mid-frame" : ""));
		if ((got = client_fill(c)) < 0)
			return (client_fill_error(c, got));
		if (got == 0 && (ready = client_wait(c->fd, POLLIN,
		    deadline)) == -1)
			return (-1);
		if (got == 0 && ready == CLIENT_FAILED)
			return (client_error(c, "poll: %s", strerror(errno)));
		if (got == 0 && ready == 0)
			return (client_error(c, "timed out waiting for %s "
			    "after %gs", c->server, c->opt->timeout));
	}
	c->body = c->buf + PROTO_HEADER_SIZE;
	c->body_len = body;
	error = proto_response_parse(c->body, body, PROTO_DEPTH_MAX,
	    &c->reply);
	if (error != PROTO_OK)
		return (client_error(c, "%s sent a bad reply: %s", c->server,
		    proto_strerror(error)));
	return (0);
}

/* Drop the reply last read from the buffer. */
void
client_consume(struct client *c)
{
	size_t	n = PROTO_HEADER_SIZE + c->body_len;

	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	c->pending--;
}

/* Read what has come, decrypted with --tls: as read(2). */
ssize_t
client_recv(struct client *c, void *buf, size_t n)
{
	if (c->ssl != NULL)
		return (client_tls_read(c, buf, n));
	return (read(c->fd, buf, n));
}

/* Send what the kernel takes, encrypted with --tls: as send(2). */
ssize_t
client_send_some(struct client *c, const void *buf, size_t n)
{
	if (c->ssl != NULL)
		return (client_tls_write(c, buf, n));
	return (send(c->fd, buf, n, MSG_NOSIGNAL));
}

void
client_close(struct client *c)
{
	if (c->ssl != NULL)
		client_tls_close(c);
	close(c->fd);
	free(c->buf);
	c->buf = NULL;
}
