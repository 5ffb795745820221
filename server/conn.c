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
 * Connections: one bufferevent each.  Its input evbuffer is the read
 * buffer that keeps half a frame between reads; its output evbuffer holds
 * what the kernel has not taken yet.  Replies are written from the read
 * callback, and the bufferevent's write event is enabled only while the
 * kernel holds bytes back.  Every way out goes through conn_close().
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "rpcd/proto.h"
#include "rpcd.h"

static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);

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

/* Accept a new connection on fd: count it, set it up, start reading. */
void
conn_new(struct server *srv, int fd, const struct sockaddr *sa)
{
	const struct settings	*s = srv->settings;
	struct conn		*c;
	struct timeval		 tv;
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
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("accept: cannot create a bufferevent");
		close(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	if (s->idle_timeout > 0) {
		tv.tv_sec = s->idle_timeout;
		tv.tv_usec = 0;
		bufferevent_set_timeouts(c->bev, &tv, &tv);
	}
	bufferevent_enable(c->bev, EV_READ);
	bufferevent_disable(c->bev, EV_WRITE);

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
	bufferevent_free(c->bev);
	free(c);
	if (srv->paused_full && srv->nconns < srv->settings->max_conns)
		listener_resume(srv, &srv->paused_full);
	if (srv->draining && srv->nconns == 0)
		event_base_loopexit(srv->base, NULL);
}

/* Stop reading; close as soon as every reply queued has been sent. */
static void
conn_close_after_flush(struct conn *c, const char *reason)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_close(c, reason);
		return;
	}
	log_debug("fd %d: closing after flush: %s", c->fd, reason);
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
}

/*
 * Write the replies now, as Redis does before it sleeps, rather than arm
 * the write event and wait a turn of the loop for it: a request and its
 * reply then cost no epoll_ctl().  Whatever the kernel does not take is
 * left to the write event.  Return -1 if the connection was closed.
 */
static int
conn_flush(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	int		 n;

	if (evbuffer_get_length(out) == 0)
		return (0);
	/* The bufferevent freezes the front of its output against us. */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, c->fd);
	evbuffer_freeze(out, 1);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		conn_close(c, strerror(errno));
		return (-1);
	}
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(c->bev, EV_WRITE);
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
 * Answer every complete frame in the input buffer, up to a cap so that
 * one pipelining client cannot starve the others; replies are appended to
 * the output buffer, which libevent writes once the callback returns.
 * Return -1 if the connection was closed.
 */
static int
conn_process(struct conn *c)
{
	struct server		*srv = c->srv;
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	unsigned char		 h[6], *frame;
	const char		*foreign;
	size_t			 len;
	uint32_t		 body;
	int			 n, status;

	for (n = 0; n < RPCD_FRAMES_PER_EVENT; n++) {
		len = evbuffer_get_length(in);
		if (len < PROTO_HEADER_SIZE)
			break;
		evbuffer_copyout(in, h, len < sizeof h ? len : sizeof h);
		if (c->frames == 0 && h[0] == 0x16 && h[1] == 0x03 &&
		    len < sizeof h)
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
			dispatch_error(c, out, PROTO_ETOOLARGE);
			evbuffer_drain(in, len);
			conn_close_after_flush(c, "frame too large");
			return (c->closing ? 0 : -1);
		}
		if (status == PROTO_FRAME_NEED_MORE)
			break;
		frame = evbuffer_pullup(in, PROTO_HEADER_SIZE + body);
		if (frame == NULL) {
			conn_close(c, "out of memory for a frame");
			return (-1);
		}
		c->frames++;
		srv->stats->bytes_in += PROTO_HEADER_SIZE + body;
		dispatch_frame(c, (char *)frame + PROTO_HEADER_SIZE, body, out);
		evbuffer_drain(in, PROTO_HEADER_SIZE + body);
		if (c->failed) {
			conn_close(c, "out of memory for a reply");
			return (-1);
		}
	}
	len = evbuffer_get_length(in);
	if (n == RPCD_FRAMES_PER_EVENT && len >= PROTO_HEADER_SIZE) {
		/* More to do: come back after the other connections. */
		bufferevent_trigger(c->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	} else if (len > 0)
		conn_quickack(c);
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

	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
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
	size_t	max = c->srv->settings->max_output;

	if (evbuffer_get_length(bufferevent_get_output(c->bev)) <= max)
		return;
	c->throttled = 1;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, max / 2, 0);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

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

/* The output buffer drained to its low-water mark. */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	int		 empty;

	empty = evbuffer_get_length(bufferevent_get_output(bev)) == 0;
	if (c->closing) {
		if (empty)
			conn_close(c, "flushed");
		return;
	}
	if (empty)
		bufferevent_disable(bev, EV_WRITE);
	if (c->throttled) {
		c->throttled = 0;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
		conn_read_cb(bev, c);
	}
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_EOF) {
		/* The peer may have half-closed: send what it asked for. */
		conn_close_after_flush(c, "end of file");
	} else if (what & BEV_EVENT_ERROR)
		conn_close(c, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_TIMEOUT)
		conn_close(c, "idle timeout");
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
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	int64_t		 before;
	int		 got;

	if (c->closing)
		return;
	do {
		got = evbuffer_read(in, c->fd, 65536);
		do {
			before = c->frames;
			if (conn_process(c) != 0 || c->closing)
				return;
		} while (c->frames != before);
		/* What the peer does not read is not answered further. */
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    c->srv->settings->max_output)
			break;
	} while (got > 0);
	if (c->frames == 0 && got != 0) {
		c->last_request = 1;
		return;
	}
	conn_close_after_flush(c, "shutting down");
}
