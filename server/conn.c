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
 * Connections.  Each has a read event, a write event and two evbuffers:
 * the input keeps half a frame between reads, the output holds what the
 * kernel has not taken yet.  Replies are written from the read callback,
 * as Redis does before it sleeps, and the write event is armed only while
 * the kernel holds bytes back: a request and its reply cost one read,
 * one write and no epoll_ctl().  Every way out goes through conn_close().
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "rpcd/proto.h"
#include "rpcd.h"

static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);

/*
 * Recognise a peer speaking TLS or HTTP from its first bytes: they
 * would otherwise read as a length of hundreds of megabytes and the
 * connection would wait for a frame that never comes.
 */
static const char *
conn_foreign_protocol(const unsigned char *h, size_t len)
{
	static const char	*http[] = { "GET ", "POST", "HEAD", "PUT ",
	    "DELE", "OPTI", "PATC", "CONN", "TRAC", "PRI " };
	size_t			 i;

	/*
	 * A TLS handshake record, 16 03 xx, then a length, then 01 for a
	 * ClientHello: a frame of 790 bytes also starts 16 03, but its sixth
	 * byte is JSON, never 01.
	 */
	if (len >= 6 && h[0] == 0x16 && h[1] == 0x03 && h[5] == 0x01)
		return ("TLS");
	for (i = 0; i < sizeof http / sizeof http[0]; i++) {
		if (memcmp(h, http[i], 4) == 0)
			return ("HTTP");
	}
	return (NULL);
}

/* Free a connection's events, buffers and socket. */
static void
conn_free(struct conn *c)
{
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	close(c->fd);
	free(c);
}

/* Watch for requests, or stop: the idle timeout runs while watching. */
static void
conn_reading(struct conn *c, int on)
{
	if (on && !c->reading)
		event_add(c->rev, c->srv->idle_timeout);
	else if (!on && c->reading)
		event_del(c->rev);
	c->reading = on;
}

/* Accept a new connection on fd: count it, set it up, start reading. */
void
conn_new(struct server *srv, int fd, const struct sockaddr *sa)
{
	const struct settings	*s = srv->settings;
	struct conn		*c;
	int			 on = 1;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("accept: calloc");
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->is_tcp = sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
	if (c->is_tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_read_cb,
	    c);
	c->wev = event_new(srv->base, fd, EV_WRITE | EV_PERSIST,
	    conn_write_cb, c);
	if (c->in == NULL || c->out == NULL || c->rev == NULL ||
	    c->wev == NULL) {
		log_warnx("accept: out of memory for a connection");
		conn_free(c);
		return;
	}
	conn_reading(c, 1);

	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	srv->stats->connections++;
	srv->stats->total_connections++;
	log_debug("fd %d: connected (%d open)", fd, srv->nconns);
	if (srv->nconns >= s->max_conns)
		listener_pause(srv, &srv->paused_full);
}

/* The single way a connection ends. */
void
conn_close(struct conn *c, const char *reason)
{
	struct server	*srv = c->srv;

	log_debug("fd %d: closed: %s", c->fd, reason);
	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->nconns--;
	srv->stats->connections--;
	conn_free(c);
	if (srv->paused_full && srv->nconns < srv->settings->max_conns)
		listener_resume(srv, &srv->paused_full);
	if (srv->draining && srv->nconns == 0)
		event_base_loopexit(srv->base, NULL);
}

/*
 * Read up to RPCD_READ_SIZE bytes into the input, without asking the
 * kernel first how many there are as evbuffer_read() does: one system
 * call, not two.  Memory follows what the peer sent, not what its frame
 * header announces.  Return what read(2) or readv(2) returns.
 */
static ssize_t
conn_read(struct conn *c)
{
	struct evbuffer_iovec	 v[2];
	struct iovec		 iov[2];
	ssize_t			 r;
	int			 i, n;

	if ((n = evbuffer_reserve_space(c->in, RPCD_READ_SIZE, v, 2)) <= 0) {
		errno = ENOMEM;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	r = n == 1 ? read(c->fd, iov[0].iov_base, iov[0].iov_len) :
	    readv(c->fd, iov, n);
	if (r <= 0) {
		evbuffer_commit_space(c->in, v, 0);
		return (r);
	}
	if ((size_t)r <= v[0].iov_len) {
		v[0].iov_len = r;
		n = 1;
	} else
		v[1].iov_len = r - v[0].iov_len;
	evbuffer_commit_space(c->in, v, n);
	return (r);
}

/*
 * Write the output: write(2) when it is one chunk, as a burst of small
 * replies is, else evbuffer_write()'s writev(2).  Return what they do.
 */
static ssize_t
conn_write(struct conn *c)
{
	struct evbuffer_iovec	v;
	ssize_t			n;

	if (evbuffer_peek(c->out, -1, NULL, &v, 1) != 1)
		return (evbuffer_write(c->out, c->fd));
	if ((n = write(c->fd, v.iov_base, v.iov_len)) > 0)
		evbuffer_drain(c->out, n);
	return (n);
}

/*
 * Write what the kernel takes now; the write event takes the rest.
 * Return -1 if the connection was closed.
 */
static int
conn_flush(struct conn *c)
{
	if (evbuffer_get_length(c->out) == 0)
		return (0);
	if (conn_write(c) == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		conn_close(c, strerror(errno));
		return (-1);
	}
	if (evbuffer_get_length(c->out) > 0 && !c->writing) {
		event_add(c->wev, c->srv->idle_timeout);
		c->writing = 1;
	}
	return (0);
}

/*
 * Stop reading; close as soon as every reply queued has been sent.
 * Return -1 if the connection is closed already.
 */
static int
conn_close_after_flush(struct conn *c, const char *reason)
{
	if (conn_flush(c) != 0)
		return (-1);
	if (evbuffer_get_length(c->out) == 0) {
		conn_close(c, reason);
		return (-1);
	}
	log_debug("fd %d: closing after flush: %s", c->fd, reason);
	c->closing = 1;
	conn_reading(c, 0);
	return (0);
}

/* Ask the kernel to ACK now: the peer may be waiting on it (Nagle). */
static void
conn_quickack(struct conn *c)
{
#ifdef TCP_QUICKACK
	int	on = 1;

	if (c->is_tcp)
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
#endif
}

/*
 * A cursor over the input.  The frames in its first chunk are read in
 * place and drained together at the end; only a frame that straddles two
 * chunks is pulled up into one.
 */
struct cursor {
	unsigned char	*p;	/* the first chunk */
	size_t		 avail;	/* its length */
	size_t		 off;	/* bytes of it consumed */
	size_t		 total;	/* bytes in the whole input */
};

/* Return n contiguous bytes at the cursor, or NULL out of memory. */
static unsigned char *
conn_contiguous(struct conn *c, struct cursor *cur, size_t n)
{
	struct evbuffer_iovec	v;

	if (cur->avail - cur->off >= n)
		return (cur->p + cur->off);
	evbuffer_drain(c->in, cur->off);
	cur->total -= cur->off;
	cur->off = 0;
	if (evbuffer_pullup(c->in, n) == NULL ||
	    evbuffer_peek(c->in, -1, NULL, &v, 1) < 1)
		return (NULL);
	cur->p = v.iov_base;
	cur->avail = v.iov_len;
	return (cur->p);
}

/*
 * Answer every complete frame in the input buffer, up to a cap so that
 * one pipelining client cannot starve the others; replies are appended to
 * the output buffer.  Return -1 if the connection was closed.
 */
static int
conn_process(struct conn *c)
{
	struct server		*srv = c->srv;
	struct cursor		 cur = { NULL, 0, 0, 0 };
	unsigned char		*h, *frame;
	const char		*foreign;
	size_t			 len;
	uint32_t		 body;
	int			 n, status;

	cur.total = evbuffer_get_length(c->in);
	for (n = 0; n < RPCD_FRAMES_PER_EVENT; n++) {
		len = cur.total - cur.off;
		if (len < PROTO_HEADER_SIZE)
			break;
		/* Six bytes tell TLS and HTTP from a frame. */
		if ((h = conn_contiguous(c, &cur, len < 6 ? len : 6)) == NULL) {
			conn_close(c, "out of memory for a frame");
			return (-1);
		}
		if (c->frames == 0 && h[0] == 0x16 && h[1] == 0x03 && len < 6)
			break;	/* TLS or a 790-byte frame: wait and see */
		if (c->frames == 0 &&
		    (foreign = conn_foreign_protocol(h, len)) != NULL) {
			log_info("fd %d: peer speaks %s, not rpcd: closing",
			    c->fd, foreign);
			srv->stats->errors++;
			conn_close(c, "foreign protocol");
			return (-1);
		}
		/* Only the header is read: the limit is checked first. */
		status = proto_frame_decode(h, len, srv->settings->max_frame,
		    &body);
		if (status == PROTO_FRAME_TOO_LARGE) {
			log_debug("fd %d: frame of %u bytes over the limit",
			    c->fd, body);
			dispatch_error(c, c->out, PROTO_ETOOLARGE);
			evbuffer_drain(c->in, cur.total);
			return (conn_close_after_flush(c, "frame too large"));
		}
		if (status == PROTO_FRAME_NEED_MORE)
			break;
		frame = conn_contiguous(c, &cur, PROTO_HEADER_SIZE + body);
		if (frame == NULL) {
			conn_close(c, "out of memory for a frame");
			return (-1);
		}
		c->frames++;
		srv->stats->bytes_in += PROTO_HEADER_SIZE + body;
		dispatch_frame(c, (char *)frame + PROTO_HEADER_SIZE, body,
		    c->out);
		cur.off += PROTO_HEADER_SIZE + body;
		if (c->failed) {
			conn_close(c, "out of memory for a reply");
			return (-1);
		}
	}
	evbuffer_drain(c->in, cur.off);
	len = cur.total - cur.off;
	if (n == RPCD_FRAMES_PER_EVENT && len >= PROTO_HEADER_SIZE) {
		/* More to do: come back after the other connections. */
		event_active(c->rev, EV_READ, 1);
	} else if (len > 0)
		conn_quickack(c);
	return (0);
}

/*
 * Answer every complete frame buffered, cap or not, unless the peer
 * leaves its replies unread past --max-output.  For the end: shutdown,
 * or a peer that half-closed after its last request.
 */
static int
conn_process_all(struct conn *c)
{
	int64_t	before;

	do {
		before = c->frames;
		if (conn_process(c) != 0)
			return (-1);
	} while (!c->closing && c->frames != before &&
	    evbuffer_get_length(c->out) <= c->srv->settings->max_output);
	return (0);
}

/*
 * A frame may arrive slowly, but not forever: a partial frame older than
 * the idle timeout closes the connection even if bytes keep trickling in.
 */
static int
conn_check_partial(struct conn *c)
{
	struct timeval	now;
	int		timeout = c->srv->settings->idle_timeout;

	if (evbuffer_get_length(c->in) == 0) {
		c->partial_since = 0;
		return (0);
	}
	if (timeout == 0)
		return (0);
	event_base_gettimeofday_cached(c->srv->base, &now);
	if (c->partial_since == 0)
		c->partial_since = now.tv_sec;
	else if (now.tv_sec - c->partial_since > timeout) {
		conn_close(c, "partial frame timed out");
		return (-1);
	}
	return (0);
}

/*
 * Back-pressure: a client that pipelines but does not read would make the
 * output buffer grow without bound.  Past --max-output stop reading it;
 * conn_write_cb resumes once half of the output has drained.
 */
static void
conn_throttle(struct conn *c)
{
	if (evbuffer_get_length(c->out) <= c->srv->settings->max_output)
		return;
	log_debug("fd %d: peer not reading its replies: pausing", c->fd);
	c->throttled = 1;
	conn_reading(c, 0);
}

/* Answer what has come, send it, and decide what to read next. */
static void
conn_serve(struct conn *c)
{
	if (c->closing || c->throttled)
		return;
	if (conn_process(c) != 0 || c->closing || conn_flush(c) != 0)
		return;
	if (c->last_request && c->frames > 0) {
		conn_close_after_flush(c, "shutting down");
		return;
	}
	if (conn_check_partial(c) != 0)
		return;
	conn_throttle(c);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 r;

	if (c->closing)
		return;	/* an event_active() from before */
	if (what & EV_TIMEOUT) {
		conn_close(c, "idle timeout");
		return;
	}
	r = conn_read(c);
	if (r == 0) {
		/* The peer may have half-closed: send what it asked for. */
		if (conn_process_all(c) == 0 && !c->closing)
			conn_close_after_flush(c, "end of file");
		return;
	}
	if (r == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		conn_close(c, strerror(errno));
		return;
	}
	conn_serve(c);
}

/* The kernel takes bytes again; or the peer stopped reading for good. */
static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	size_t		 left;

	if (what & EV_TIMEOUT) {
		conn_close(c, "idle timeout");
		return;
	}
	if (conn_write(c) == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		conn_close(c, strerror(errno));
		return;
	}
	left = evbuffer_get_length(c->out);
	if (left == 0) {
		event_del(c->wev);
		c->writing = 0;
		if (c->closing) {
			conn_close(c, "flushed");
			return;
		}
	}
	if (c->throttled && left <= c->srv->settings->max_output / 2) {
		log_debug("fd %d: replies drained: resuming", c->fd);
		c->throttled = 0;
		conn_reading(c, 1);
		conn_serve(c);
	}
}

/*
 * Shutting down: answer what the peer has already sent, including bytes
 * still in the kernel's receive queue, then close once that is flushed.
 * A connection accepted just before the shutdown may not have sent its
 * first request yet: it gets that one request answered (within
 * --shutdown-timeout), so connect-request-close clients lose nothing when
 * workers are replaced.
 */
void
conn_drain(struct conn *c)
{
	ssize_t	got;

	if (c->closing)
		return;
	do {
		got = conn_read(c);
		if (conn_process_all(c) != 0 || c->closing)
			return;
		/* What the peer does not read is not answered further. */
		if (evbuffer_get_length(c->out) >
		    c->srv->settings->max_output)
			break;
	} while (got > 0);
	if (c->frames == 0 && got != 0) {
		c->last_request = 1;
		return;
	}
	conn_close_after_flush(c, "shutting down");
}
