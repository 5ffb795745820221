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
 * Connections.  Each is a bufferevent, made by its listener's transport:
 * the bufferevent reads into its input, where half a frame waits for the
 * rest, and holds in its output what the kernel has not taken yet.  The
 * read callback answers every complete frame into a buffer of replies
 * (conn_own_output); once every connection ready in this pass of the loop
 * has been served, the transport sends each one's replies in one write,
 * as Redis does before it sleeps (conn_send).  The bufferevent's write
 * event is enabled only while the kernel holds bytes back, and disabled
 * again once they are gone, so that a request and its reply cost no
 * epoll_ctl().  The idle timeout is the bufferevent's read and write
 * timeouts, one common timeout shared by every connection.  Every way out
 * goes through conn_close().
 *
 * A call answered later than its handler (rpcd-module(3)) is kept in the
 * connection's queue (call.c), and its reply, when it comes, has the loop
 * run the write callback (conn_replied), which sends it and reads again
 * once fewer than --max-inflight calls are unanswered.
 *
 * Layer: connection (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "rpcd/proto.h"
#include "rpcd.h"

/*
 * The address of the peer (the client a PROXY header named) in ss, read
 * back from its text; AF_UNSPEC for a Unix peer.
 */
static void
conn_peer_addr(const struct conn *c, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN];
	const char		*p = c->peer_ip, *end;

	memset(ss, 0, sizeof *ss);
	if (*p == '[')
		end = strchr(++p, ']');
	else
		end = strrchr(p, ':');
	if (end == NULL || (size_t)(end - p) >= sizeof host)
		return;
	memcpy(host, p, end - p);
	host[end - p] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
		ss->ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
		ss->ss_family = AF_INET6;
}

/* A Unix peer's credentials, into id; not known elsewhere. */
static void
conn_peer_cred(const struct conn *c, struct identity *id)
{
#if defined(SO_PEERCRED)
	struct ucred	uc;
	socklen_t	len = sizeof uc;

	if (c->is_tcp || getsockopt(bufferevent_getfd(c->bev), SOL_SOCKET,
	    SO_PEERCRED, &uc, &len) != 0)
		return;
	id->uid = uc.uid;
	id->gid = uc.gid;
	id->cred = 1;
#elif defined(HAVE_GETPEEREID)
	if (!c->is_tcp && getpeereid(bufferevent_getfd(c->bev), &id->uid,
	    &id->gid) == 0)
		id->cred = 1;
#endif
}

/*
 * Who the peer of c is (struct identity): its listener, its address, a
 * Unix peer's credentials, the names of a verified client certificate.
 * Free it with identity_clear().  Return -1 out of memory.
 */
int
conn_identity(const struct conn *c, struct identity *id)
{
	memset(id, 0, sizeof *id);
	id->listener = c->l->given;
	id->listener_name = c->l->name[0] != '\0' ? c->l->name : NULL;
	conn_peer_addr(c, &id->addr);
	conn_peer_cred(c, id);
	/* Not through its handshake: no certificate to ask about. */
	if (c->l->transport->tls && c->state != CONN_HANDSHAKE &&
	    c->state != CONN_REFUSING)
		return (tls_identity(c->bev, id));
	return (0);
}

/* conn_identity(), with the certificate's subject: a module's caller(). */
int
conn_caller(const struct conn *c, struct identity *id)
{
	if (conn_identity(c, id) != 0)
		return (-1);
	if (c->l->transport->tls && c->state != CONN_HANDSHAKE &&
	    c->state != CONN_REFUSING)
		return (tls_subject(c->bev, id));
	return (0);
}

/* conn_identity(), logged if memory ran out: the names it has then. */
static void
conn_identify(const struct conn *c, struct identity *id)
{
	if (conn_identity(c, id) != 0)
		log_warnx("%s: out of memory for the names of its "
		    "certificate", conn_peer(c));
}

/*
 * What names c's client for the per-client limits: a verified
 * certificate's CN, a Unix peer's user, or else its address (the one a
 * PROXY header named), without the port.
 */
static void
conn_client_key(const struct conn *c, const struct identity *id,
    char *key, size_t len)
{
	const struct sockaddr_storage	*ss = &id->addr;
	char				 host[INET6_ADDRSTRLEN];
	int				 i;

	for (i = 0; i < id->nnames; i++) {
		if (id->names[i].kind == IDENTITY_CN) {
			snprintf(key, len, "cn %s", id->names[i].value);
			return;
		}
	}
	if (id->cred)
		snprintf(key, len, "uid %lu", (unsigned long)id->uid);
	else if (ss->ss_family == AF_INET && inet_ntop(AF_INET,
	    &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof host))
		snprintf(key, len, "%s", host);
	else if (ss->ss_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof host))
		snprintf(key, len, "%s", host);
	else
		snprintf(key, len, "%s", conn_peer(c));
}

/*
 * Its peer known, once: the access list of c from the server's rules,
 * what its peer may call (out of memory, one that denies everything);
 * and its client, for the per-client limits.  A client over
 * --client-conns is refused by conn_process(), where closing is safe.
 */
static void
conn_policy(struct conn *c)
{
	const struct settings	*s = c->srv->settings;
	struct identity		 id;
	char			 key[IDENTITY_KEY_MAX];

	conn_identify(c, &id);
	c->access = c->srv->access != NULL ?
	    access_list_get(c->srv->access, &id) : NULL;
	if (c->srv->clients != NULL) {
		conn_client_key(c, &id, key, sizeof key);
		/* Out of memory: not limited, rather than not served. */
		if ((c->client = client_get(c->srv->clients, key)) == NULL)
			log_warnx("%s: out of memory for its client",
			    conn_peer(c));
		else if (s->client_conns > 0 &&
		    client_conns(c->client) > s->client_conns) {
			c->client_over = 1;
			bufferevent_trigger(c->bev, EV_READ,
			    BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
		}
	}
	identity_clear(&id);
}

/*
 * The one place a connection's life moves on (enum conn_state).  Once it
 * opens, its peer is known: its access list is made then.
 */
static void
conn_set_state(struct conn *c, enum conn_state state)
{
	c->state = state;
	if (state == CONN_OPEN &&
	    (c->srv->access != NULL || c->srv->clients != NULL))
		conn_policy(c);
}

/*
 * The rules changed (SIGHUP): make the access list of a connection that
 * is open, or was; one still opening gets its list when it opens.
 */
void
conn_access_update(struct conn *c)
{
	struct identity	id;

	if (c->state < CONN_OPEN || c->state == CONN_REFUSING)
		return;
	c->access = NULL;
	if (c->srv->access == NULL)
		return;
	conn_identify(c, &id);
	c->access = access_list_get(c->srv->access, &id);
	identity_clear(&id);
}

/* Closing: reading no more, until the replies owed are sent. */
static int
conn_closing(const struct conn *c)
{
	return (c->state == CONN_CLOSING || c->state == CONN_CLOSING_LINGER);
}

static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	conn_refuse(struct conn *);
static void	conn_serve(struct conn *);
static void	conn_send(struct conn *);
struct cursor;
static int	conn_refuse_input(struct conn *, const struct cursor *, int,
		    const char *);

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

/*
 * The time of the loop's last wake-up, in milliseconds: whole seconds
 * would make a second's grace anything from none to two.
 */
static int64_t
conn_now(struct conn *c)
{
	struct timeval	now;

	event_base_gettimeofday_cached(c->srv->base, &now);
	return ((int64_t)now.tv_sec * 1000 + now.tv_usec / 1000);
}

/* The bufferevent's input, where the requests arrive. */
static struct evbuffer *
conn_in(const struct conn *c)
{
	return (bufferevent_get_input(c->bev));
}

/* Watch for requests, or stop: the idle timeout runs while watching. */
static void
conn_reading(struct conn *c, int on)
{
	if (on)
		bufferevent_enable(c->bev, EV_READ);
	else
		bufferevent_disable(c->bev, EV_READ);
}

/* Arm the write event while the kernel holds replies back, not longer. */
static void
conn_writing(struct conn *c, int on)
{
	if (on == c->writing)
		return;
	if (on)
		bufferevent_enable(c->bev, EV_WRITE);
	else
		bufferevent_disable(c->bev, EV_WRITE);
	c->writing = on;
}

/* Bytes of replies the kernel has not taken yet. */
static size_t
conn_unsent(const struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n = evbuffer_get_length(out);

	return (c->out == out ? n : n + evbuffer_get_length(c->out));
}

/*
 * Replies go to a buffer of the connection's own, made at its first
 * request, and the transport sends from it.  Not to the bufferevent's
 * output: each reply added there runs the output's callbacks, and an
 * OpenSSL bufferevent arms its write event whenever bytes land in its
 * empty output, enabled or not (two epoll_ctl() calls and a wake-up for
 * nothing).  Made at the first request, not at accept, so that an idle
 * connection costs no more.  Return -1 out of memory.
 */
static int
conn_own_output(struct conn *c)
{
	struct evbuffer	*own;

	if ((own = evbuffer_new()) == NULL)
		return (-1);
	c->out = own;
	return (0);
}

/* Free what conn_new() and conn_own_output() made. */
static void
conn_free(struct conn *c)
{
	if (c->client != NULL) {
		if (c->rate_waiting)
			client_unwait(c->client, c);
		client_put(c->client);
	}
	if (c->queued)
		TAILQ_REMOVE(&c->srv->sendq, c, send_entry);
	if (c->out != bufferevent_get_output(c->bev))
		evbuffer_free(c->out);
	bufferevent_free(c->bev);
	free(c);
}

/*
 * Set up a connection accepted on fd through listener l and start reading
 * from it; NULL (fd closed, logged) if memory ran out.
 */
struct conn *
conn_new(struct server *srv, struct listener *l, int fd,
    const struct sockaddr *sa)
{
	const struct settings	*s = srv->settings;
	struct conn		*c;
	int			 on = 1;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("accept: calloc");
		close(fd);
		return (NULL);
	}
	c->srv = srv;
	c->l = l;
	/* Under TLS the SSL takes it off: conn_handshake_done(). */
	c->proxied = (l->flags & LISTEN_PROXY) != 0;
	c->is_tcp = sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
	/* A Unix peer has no address of its own: conn_peer() names the socket. */
	if (c->is_tcp) {
		addr_format(sa, sizeof(struct sockaddr_storage), c->peer_ip,
		    sizeof c->peer_ip);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	}
	if ((c->bev = l->transport->open(srv->base, fd)) == NULL) {
		log_warnx("accept: out of memory for a connection");
		close(fd);
		free(c);
		return (NULL);
	}
	/* --byte-rate: libevent's own buckets, read by libevent only. */
	if (srv->byte_rate != NULL &&
	    bufferevent_set_rate_limit(c->bev, srv->byte_rate) != 0) {
		log_warnx("accept: out of memory for a connection");
		bufferevent_free(c->bev);
		free(c);
		return (NULL);
	}
	/* Until its first request: see conn_own_output(). */
	c->out = bufferevent_get_output(c->bev);
	TAILQ_INIT(&c->calls);
	c->accepted = conn_now(c);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	/*
	 * The opening, a TLS handshake or a PROXY header or both, has a
	 * deadline of its own, not the idle timeout: a balancer sends its
	 * header at once, and a peer that sends none would otherwise hold a
	 * slot for --idle-timeout.
	 */
	conn_set_state(c, l->transport->tls ? CONN_HANDSHAKE :
	    c->proxied ? CONN_PROXY : CONN_OPEN);
	if (c->state != CONN_OPEN)
		bufferevent_set_timeouts(c->bev, srv->handshake_timeout,
		    srv->handshake_timeout);
	else
		bufferevent_set_timeouts(c->bev, srv->idle_timeout,
		    srv->idle_timeout);
	/* The write callback runs once half of --max-output has drained. */
	bufferevent_setwatermark(c->bev, EV_WRITE, s->max_output / 2, 0);
	bufferevent_disable(c->bev, EV_WRITE);
	/* Watching the socket allocates: unwatched, it would hang. */
	if (bufferevent_enable(c->bev, EV_READ) != 0) {
		log_warnx("accept: out of memory for a connection");
		conn_free(c);
		return (NULL);
	}
	log_debug("%s: connected", conn_peer(c));
	return (c);
}

/* A PROXY header that is not one: log and count it. */
static void
conn_proxy_count(struct conn *c, const char *why)
{
	log_debug("%s: bad PROXY header: %s", conn_peer(c), why);
	c->srv->stats->proxy_errors++;
}

/* Close a connection for a bad PROXY header, counted once. */
static void
conn_proxy_bad(struct conn *c, const char *why)
{
	conn_proxy_count(c, why);
	conn_set_state(c, CONN_CLOSING);	/* not truncated, too */
	conn_close(c, "bad PROXY header");
}

/* The PROXY header h names the client: make it the peer. */
static void
conn_proxy_client(struct conn *c, const struct proxy_header *h)
{
	char	via[ADDR_TEXT_MAX];

	if (h->local)
		return;
	snprintf(via, sizeof via, "%s", conn_peer(c));
	addr_format((const struct sockaddr *)&h->src, h->srclen, c->peer_ip,
	    sizeof c->peer_ip);
	log_debug("%s: PROXY v%d: client %s", via, h->version, conn_peer(c));
}

/*
 * A connection on a proxy listener: take the PROXY header off the input
 * and make its client the peer; the idle timeout applies from then on.
 * Return 0 once it is taken, 1 until it has all come (within the
 * deadline set by conn_new), -1 if the connection was closed.
 */
static int
conn_proxy(struct conn *c)
{
	struct proxy_header	 h;
	unsigned char		*p;
	const char		*why;
	size_t			 len = evbuffer_get_length(conn_in(c));

	/*
	 * Nothing yet, as when a drain begins on a connection just accepted:
	 * wait for it (evbuffer_pullup() of 0 bytes is NULL, not memory out).
	 */
	if (len == 0)
		return (1);
	if (len > PROXY_V2_MAX)
		len = PROXY_V2_MAX;
	if ((p = evbuffer_pullup(conn_in(c), len)) == NULL) {
		conn_close(c, "out of memory for a PROXY header");
		return (-1);
	}
	switch (proxy_parse(p, len, &h, &why)) {
	case PROXY_MORE:
		return (1);
	case PROXY_BAD:
		conn_proxy_bad(c, why);
		return (-1);
	}
	evbuffer_drain(conn_in(c), h.len);
	conn_proxy_client(c, &h);
	conn_set_state(c, CONN_OPEN);
	bufferevent_set_timeouts(c->bev, c->srv->idle_timeout,
	    c->srv->idle_timeout);
	return (0);
}

#define CONN_WHO_MAX	(64 + 4 * 64)	/* bytes: " uid= gid= cn=" */

/*
 * Who the peer was, for the access log: " uid=U gid=G" for a Unix peer,
 * " cn=NAME" for a verified client certificate; "" otherwise.
 */
static void
conn_who(const struct conn *c, char *buf, size_t len)
{
	struct identity	id;
	size_t		n;
	int		i;

	*buf = '\0';
	conn_identity(c, &id);	/* out of memory: the names it has */
	if (id.cred)
		snprintf(buf, len, " uid=%lu gid=%lu", (unsigned long)id.uid,
		    (unsigned long)id.gid);
	for (i = 0; i < id.nnames; i++) {
		if (id.names[i].kind != IDENTITY_CN)
			continue;
		/* Escaped by the log, as every string it writes. */
		n = strlen(buf);
		snprintf(buf + n, len - n, " cn=%s", id.names[i].value);
		break;
	}
	identity_clear(&id);
}

/* Remember why the connection closes: the first reason, for its last line. */
static void
conn_ending(struct conn *c, const char *reason)
{
	if (c->ending == NULL)
		c->ending = reason;
}

/*
 * The single way a connection ends, with its line of the access log: the
 * peer (the client a PROXY header named), why it closed (and how, if it
 * lingered), where it came, its requests, bytes and time.
 */
void
conn_close(struct conn *c, const char *reason)
{
	char	who[CONN_WHO_MAX];

	conn_ending(c, reason);
	if (c->state == CONN_PROXY && evbuffer_get_length(conn_in(c)) > 0)
		conn_proxy_count(c, "truncated");
	if (c->ncalls > 0)
		call_cancel_all(c);
	if (log_enabled(LOG_INFO))
		conn_who(c, who, sizeof who);
	log_info("%s: closed: %s%s%s (listener=%s%s seconds=%.3f "
	    "requests=%lld bytes_in=%lld bytes_out=%lld)", conn_peer(c),
	    c->ending, reason != c->ending ? "; " : "",
	    reason != c->ending ? reason : "", c->l->addr.text, who,
	    (conn_now(c) - c->accepted) / 1000.0, (long long)c->frames,
	    (long long)c->bytes_in, (long long)c->bytes_out);
	if (c->l->transport->tls && c->state != CONN_HANDSHAKE &&
	    c->state != CONN_REFUSING)
		tls_close(c->bev);
	c->srv->conn_gone(c->srv, c);
	conn_free(c);
}

/*
 * Send what the kernel takes now; the write event takes the rest.  The
 * bufferevent's output holds only what the kernel refused: replies join
 * it, behind it, while it holds anything.  Return -1 if the connection
 * was closed.
 */
static int
conn_flush(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev), *from;

	if (c->out != out && (c->writing || evbuffer_get_length(out) > 0) &&
	    evbuffer_add_buffer(out, c->out) != 0)
		goto nomem;
	if (c->writing || conn_unsent(c) == 0)
		return (0);
	from = evbuffer_get_length(out) > 0 ? out : c->out;
	if (c->l->transport->send(c->bev, from) != 0) {
		conn_close(c, strerror(errno));
		return (-1);
	}
	if (from != out && evbuffer_get_length(from) > 0 &&
	    evbuffer_add_buffer(out, from) != 0)
		goto nomem;
	if (evbuffer_get_length(out) > 0)
		conn_writing(c, 1);
	return (0);
nomem:
	conn_close(c, "out of memory for a reply");
	return (-1);
}

/*
 * The replies are sent; close, or linger if the peer may still be
 * sending.  Closing a socket that holds unread input, or that input
 * reaches after, makes the kernel answer RST, and a reset can destroy
 * replies not read yet, in flight or in the peer's kernel: so, as nginx's
 * lingering close does, send FIN, read and discard what comes (until
 * RPCD_LINGER seconds pass without any, RPCD_LINGER_TIME in all, or
 * RPCD_LINGER_BYTES came), and close at the peer's end of file.  Every
 * close rpcd decides with replies to protect lingers (linger): after
 * an error reply, or a drain or a timeout once replies were sent; not a
 * close at the peer's own end of file, nor one of a connection that had
 * no reply, or of a peer that is not rpcd's client (a foreign protocol, a
 * bad PROXY header): nothing is owed to it, and a drain need not wait.
 * Under TLS the close is TLS's own.
 */
static void
conn_linger(struct conn *c, const char *reason, int linger)
{
	struct timeval	tv = { RPCD_LINGER, 0 };

	conn_ending(c, reason);
	if (!linger || c->l->transport->tls ||
	    shutdown(bufferevent_getfd(c->bev), SHUT_WR) != 0) {
		conn_close(c, reason);
		return;
	}
	log_debug("%s: lingering: %s", conn_peer(c), reason);
	conn_set_state(c, CONN_LINGERING);
	c->buffered = 0;
	evbuffer_drain(conn_in(c), evbuffer_get_length(conn_in(c)));
	c->deadline = conn_now(c) + RPCD_LINGER_TIME * 1000;
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	conn_reading(c, 1);
}

/*
 * Stop reading; close as soon as every reply queued has been sent.  The
 * calls not answered yet are cancelled: the replies owed before the first
 * of them are sent, none after; then linger, if linger is set.  Return
 * -1 if the connection is closed already.
 */
static int
conn_close_after_flush(struct conn *c, const char *reason, int linger)
{
	conn_ending(c, reason);
	if (c->ncalls > 0)
		call_cancel_all(c);
	if (conn_flush(c) != 0)
		return (-1);
	if (conn_unsent(c) == 0) {
		conn_linger(c, reason, linger);
		return (-1);
	}
	log_debug("%s: closing after flush: %s", conn_peer(c), reason);
	conn_set_state(c, linger ? CONN_CLOSING_LINGER : CONN_CLOSING);
	conn_reading(c, 0);
	return (0);
}

/*
 * Stop reading; close once every call read so far is answered and its
 * reply sent, the error that ends the connection queued behind them: the
 * requests read before it ran, so their replies are owed.  A call's
 * deadline bounds the wait.  Return -1 if the connection is closed.
 */
static int
conn_close_after_calls(struct conn *c, const char *reason, int linger)
{
	conn_ending(c, reason);
	if (c->ncalls == 0)
		return (conn_close_after_flush(c, reason, linger));
	log_debug("%s: closing once %d call(s) are answered: %s", conn_peer(c),
	    c->ncalls, reason);
	conn_set_state(c, linger ? CONN_CLOSING_LINGER : CONN_CLOSING);
	conn_reading(c, 0);
	return (conn_flush(c));
}

/*
 * Ask the kernel to ACK now.  A peer that sent the start of a small frame
 * and holds the rest back for Nagle's algorithm waits for that ACK, which
 * the delayed-ACK timer would hold for 40 ms; a peer streaming a large
 * frame is not waiting, so it costs no system call per read.
 */
static void
conn_quickack(struct conn *c, size_t partial)
{
#ifdef TCP_QUICKACK
	int	on = 1;

	if (c->is_tcp && partial < RPCD_QUICKACK_MAX)
		setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP,
		    TCP_QUICKACK, &on, sizeof on);
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
	evbuffer_drain(conn_in(c), cur->off);
	cur->total -= cur->off;
	cur->off = 0;
	if (evbuffer_pullup(conn_in(c), n) == NULL ||
	    evbuffer_peek(conn_in(c), -1, NULL, &v, 1) < 1)
		return (NULL);
	cur->p = v.iov_base;
	cur->avail = v.iov_len;
	return (cur->p);
}

/*
 * Read more now, from the read callback, before waiting for the next
 * wake-up: libevent 2.1's bufferevent reads 4 KiB per wake-up, a read and
 * an ioctl() each, so a 64 KiB frame would take sixteen, and a burst of
 * 4 KiB frames one each.  When a large frame lacks more than that, or the
 * bufferevent's last read was a full one (more is likely waiting), read
 * what the frame lacks and up to RPCD_READ_SIZE more.  A read that brought
 * bytes past the frame says the peer is sending more, one that did not
 * says nothing more is waiting.  Reading moves the input's chains, so the
 * cursor starts over.  Return 0 once the input holds need bytes past the
 * cursor, 1 if it does not, -1 if the connection was closed.
 */
static int
conn_fill(struct conn *c, struct cursor *cur, size_t need)
{
	size_t	have = cur->total - cur->off, want;
	ssize_t	r;

	if (c->l->transport->fill == NULL || c->srv->byte_rate != NULL ||
	    (need - have <= RPCD_BEV_READ && !c->readahead))
		return (1);
	evbuffer_drain(conn_in(c), cur->off);
	cur->p = NULL;
	cur->avail = cur->off = 0;
	cur->total = have;
	want = need - have + RPCD_READ_SIZE;
	if ((r = c->l->transport->fill(c->bev, need - have, want)) == -1 &&
	    !errno_transient(errno)) {
		conn_close(c, strerror(errno));
		return (-1);
	}
	if (r > 0)
		cur->total = have += r;
	c->readahead = have > need;
	return (have < need);
}

/*
 * A frame, or an HTTP request, begun and not whole by its deadline:
 * close, over HTTP once 408 is answered.  Return -1 if the connection is
 * closed already.
 */
static int
conn_frame_timeout(struct conn *c)
{
	struct cursor	cur;

	c->srv->stats->timeouts++;
	if (!(c->l->flags & LISTEN_HTTP))
		return (conn_close_after_flush(c, "frame timed out",
		    c->frames > 0));
	cur.total = evbuffer_get_length(conn_in(c));
	return (conn_refuse_input(c, &cur, dispatch_http_error(c, 408,
	    "request_timeout", "the request was not whole in time"),
	    "request timed out") == -1 ? -1 : 0);
}

/*
 * A frame may arrive slowly, but not forever: one begun must be whole
 * within --frame-timeout, or the connection is closed, whether bytes keep
 * trickling in (checked here, on each read) or not (the read timeout is
 * brought forward to the deadline).  Without this, peers sending a byte
 * now and then could hold every --max-conns slot for --idle-timeout.  A
 * completed frame is progress and restarts the clock, so a client
 * streaming large frames back to back is never taken for a slow one.
 */
static int
conn_check_partial(struct conn *c, int completed)
{
	struct server	*srv = c->srv;
	int64_t		 now, timeout = srv->settings->frame_timeout * 1000;
	struct timeval	 left;
	int		 partial = evbuffer_get_length(conn_in(c)) > 0;

	if ((completed || !partial) && c->deadline != 0) {
		c->deadline = 0;
		bufferevent_set_timeouts(c->bev, srv->idle_timeout,
		    srv->idle_timeout);
	}
	if (!partial || timeout == 0)
		return (0);
	now = conn_now(c);
	if (c->deadline == 0)
		c->deadline = now + timeout;
	else if (now >= c->deadline)
		return (conn_frame_timeout(c));
	left.tv_sec = (c->deadline - now) / 1000;
	left.tv_usec = (c->deadline - now) % 1000 * 1000;
	if (srv->settings->idle_timeout == 0 ||
	    left.tv_sec < srv->settings->idle_timeout)
		bufferevent_set_timeouts(c->bev, &left, srv->idle_timeout);
	return (0);
}

/*
 * Past --max-inflight calls unanswered, stop reading: further requests
 * wait in the kernel, not in our memory.  conn_write_cb resumes as calls
 * are answered.
 */
static void
conn_calls_full(struct conn *c)
{
	log_debug("%s: %d calls unanswered: pausing", conn_peer(c), c->ncalls);
	c->calls_full = 1;
	conn_reading(c, 0);
}

/*
 * Its client's bucket of --client-rate is empty: stop reading, and wait
 * in its line for a token (client.c); the frame waits in the input, the
 * rest in the kernel.  -1 if the connection was closed: no memory for
 * the wait.
 */
static int
conn_rate_wait(struct conn *c)
{
	/* Served while it waits (a drain): in line once. */
	if (c->rate_waiting)
		return (0);
	if (client_wait(c->client, c) != 0) {
		conn_close(c, "out of memory for a wait");
		return (-1);
	}
	c->srv->stats->client_waits++;
	c->rate_waiting = 1;
	c->rate_delayed = 1;
	conn_reading(c, 0);
	return (0);
}

/*
 * A token came for c (client.c): read on, unless something else holds it.
 * The first call, the one that waited, is counted (dispatch_frame).
 */
void
conn_rate_resume(void *arg)
{
	struct conn	*c = arg;

	c->rate_waiting = 0;
	if (conn_closing(c) || c->throttled || c->calls_full)
		return;
	conn_reading(c, 1);
	conn_serve(c);
}

/* conn_next_frame(): a frame too large, and the connection closing. */
#define CONN_FRAME_CLOSING	(-2)

/*
 * The first bytes h, len of them, of a connection's input: 0 if they may
 * be a frame, 1 if they may be TLS's (wait for more), -1 if the peer
 * speaks another protocol, which closes the connection.  Inside TLS the
 * bytes are ours: no sniffing there.
 */
static int
conn_sniff(struct conn *c, const unsigned char *h, size_t len)
{
	const char	*foreign;

	if (c->frames > 0 || c->l->transport->tls)
		return (0);
	if (h[0] == 0x16 && h[1] == 0x03 && len < 6)
		return (1);	/* TLS or a 790-byte frame: wait and see */
	if ((foreign = conn_foreign_protocol(h, len)) == NULL)
		return (0);
	log_debug("%s: peer speaks %s, not rpcd: closing", conn_peer(c), foreign);
	c->srv->stats->errors++;
	c->srv->stats->foreign++;
	conn_close(c, "foreign protocol");
	return (-1);
}

/*
 * Input that cannot be served, its error reply queued behind the calls
 * read before it (failed: it could not be built): drop the rest and
 * close after them.  CONN_FRAME_CLOSING, or -1 if closed already.
 */
static int
conn_refuse_input(struct conn *c, const struct cursor *cur, int failed,
    const char *reason)
{
	evbuffer_drain(conn_in(c), cur->total);
	if (failed) {
		conn_close(c, "out of memory for a reply");
		return (-1);
	}
	if (conn_close_after_calls(c, reason, 1) != 0)
		return (-1);
	return (CONN_FRAME_CLOSING);
}

/*
 * A frame over --max-frame: its header is all that is read.  Answer
 * too_large, and close.
 */
static int
conn_too_large(struct conn *c, const struct cursor *cur, uint32_t body)
{
	log_debug("%s: frame of %u bytes over the limit", conn_peer(c), body);
	c->srv->stats->too_large++;
	return (conn_refuse_input(c, cur, dispatch_error(c, PROTO_ETOOLARGE),
	    "frame too large"));
}

/*
 * The next whole frame of the input at cur: 1, with *frame and *body
 * set; 0 while it is not all there; -1 if the connection was closed;
 * CONN_FRAME_CLOSING for a frame too large.
 */
static int
conn_next_frame(struct conn *c, struct cursor *cur, unsigned char **frame,
    uint32_t *body)
{
	unsigned char	*h;
	size_t		 len = cur->total - cur->off;
	int		 status, partial;

	if (len < PROTO_HEADER_SIZE) {
		if ((partial = conn_fill(c, cur, PROTO_HEADER_SIZE)) != 0)
			return (partial == -1 ? -1 : 0);
		len = cur->total - cur->off;
	}
	/* Six bytes tell TLS and HTTP from a frame. */
	if ((h = conn_contiguous(c, cur, len < 6 ? len : 6)) == NULL) {
		conn_close(c, "out of memory for a frame");
		return (-1);
	}
	if ((status = conn_sniff(c, h, len)) != 0)
		return (status == 1 ? 0 : -1);
	/* Only the header is read: the limit is checked first. */
	status = proto_frame_decode(h, len, c->srv->settings->max_frame,
	    body);
	if (status == PROTO_FRAME_TOO_LARGE)
		return (conn_too_large(c, cur, *body));
	if (status == PROTO_FRAME_NEED_MORE &&
	    (partial = conn_fill(c, cur, PROTO_HEADER_SIZE + *body)) != 0)
		return (partial == -1 ? -1 : 0);
	if ((*frame = conn_contiguous(c, cur, PROTO_HEADER_SIZE +
	    *body)) == NULL) {
		conn_close(c, "out of memory for a frame");
		return (-1);
	}
	return (1);
}

/* The error word of a status http_parse() answers, for the body. */
static const char *
conn_http_word(int status)
{
	switch (status) {
	case 411: return ("length_required");
	case 417: return ("expectation_failed");
	case 431: return ("head_too_large");
	case 501: return ("not_implemented");
	case 505: return ("version_not_supported");
	default: return ("bad_request");
	}
}

/*
 * An HTTP request's head that cannot be served, or its body over
 * --max-frame: answer its status, and close.
 */
static int
conn_http_refuse(struct conn *c, const struct cursor *cur, int status)
{
	log_debug("%s: HTTP %d", conn_peer(c), status);
	if (status == 413)
		c->srv->stats->too_large++;
	return (conn_refuse_input(c, cur, dispatch_http_error(c, status,
	    status == 413 ? proto_errname(PROTO_ETOOLARGE) :
	    conn_http_word(status), http_reason(status)), "bad HTTP request"));
}

/*
 * A client that asked to be told before it sends a body gets 100
 * Continue, once, when nothing is owed before it (it sends the body after
 * a second anyway).
 */
static int
conn_http_continue(struct conn *c)
{
	static const char	cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (c->continued || c->ncalls > 0)
		return (0);
	c->continued = 1;
	if (evbuffer_add(c->out, cont, sizeof cont - 1) != 0) {
		conn_close(c, "out of memory for a reply");
		return (-1);
	}
	conn_send(c);
	return (0);
}

/*
 * The next whole HTTP request of the input at cur, as conn_next_frame()
 * finds a frame: its head read in place (pulled up into one piece of at
 * most RPCD_HTTP_HEAD_MAX bytes if it straddles two), then its body, at
 * most --max-frame bytes.  1 with *r set and *req, *size the request; 0
 * while it is not all there; -1 if the connection was closed;
 * CONN_FRAME_CLOSING for one refused.
 */
static int
conn_next_request(struct conn *c, struct cursor *cur, struct http_request *r,
    unsigned char **req, size_t *size)
{
	size_t		 len = cur->total - cur->off, n, body;
	unsigned char	*h;
	int		 status, partial;

	if (len == 0)
		return (0);
	if ((h = conn_contiguous(c, cur, 1)) == NULL)
		goto nomem;
	n = cur->avail - cur->off;
	status = http_parse((char *)h, n, RPCD_HTTP_HEAD_MAX, r);
	if (status == HTTP_MORE && len > n) {
		n = len < RPCD_HTTP_HEAD_MAX ? len : RPCD_HTTP_HEAD_MAX;
		if ((h = conn_contiguous(c, cur, n)) == NULL)
			goto nomem;
		status = http_parse((char *)h, n, RPCD_HTTP_HEAD_MAX, r);
	}
	if (status == HTTP_MORE)
		return (0);
	if (status != HTTP_OK)
		return (conn_http_refuse(c, cur, status));
	if (r->content_length > (int64_t)c->srv->settings->max_frame)
		return (conn_http_refuse(c, cur, 413));
	body = r->content_length > 0 ? r->content_length : 0;
	*size = r->head_len + body;
	if (len < *size) {
		if (r->expect == 1 && conn_http_continue(c) != 0)
			return (-1);
		if ((partial = conn_fill(c, cur, *size)) != 0)
			return (partial == -1 ? -1 : 0);
	}
	if ((*req = conn_contiguous(c, cur, *size)) == NULL)
		goto nomem;
	c->continued = 0;
	return (1);
nomem:
	conn_close(c, "out of memory for a request");
	return (-1);
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
	struct http_request	 r;
	unsigned char		*frame = NULL;
	int64_t			 now;
	size_t			 len, size = 0;
	uint32_t		 body = 0;
	int			 n, rc, partial;
	int			 http = (c->l->flags & LISTEN_HTTP) != 0;

	if (c->state == CONN_PROXY && (partial = conn_proxy(c)) != 0)
		return (partial == -1 ? -1 : 0);
	if (c->client_over) {
		srv->stats->client_refused++;
		log_debug("%s: over --client-conns: answering busy",
		    conn_peer(c));
		conn_refuse(c);
		return (-1);
	}
	cur.total = evbuffer_get_length(conn_in(c));
	now = time_ns();		/* when dispatch_frame() starts */
	for (n = 0; n < RPCD_FRAMES_PER_EVENT; n++) {
		if (c->ncalls >= srv->settings->max_inflight) {
			conn_calls_full(c);
			break;
		}
		if (http)
			rc = conn_next_request(c, &cur, &r, &frame, &size);
		else if ((rc = conn_next_frame(c, &cur, &frame, &body)) == 1)
			size = PROTO_HEADER_SIZE + body;
		if (rc == 0)
			break;
		if (rc != 1)
			return (rc == CONN_FRAME_CLOSING ? 0 : -1);
		if (c->client != NULL && !client_take(c->client)) {
			if (conn_rate_wait(c) != 0)
				return (-1);
			break;
		}
		if (c->frames++ == 0 && conn_own_output(c) != 0) {
			conn_close(c, "out of memory for a reply");
			return (-1);
		}
		srv->stats->bytes_in += size;
		c->bytes_in += size;
		if (!http)
			rc = dispatch_frame(c, (char *)frame +
			    PROTO_HEADER_SIZE, body, &now);
		else {
			/* Draining: this one is the last, and says so. */
			r.close |= srv->draining;
			rc = dispatch_http(c, &r, (char *)frame + r.head_len,
			    size - r.head_len, &now);
		}
		cur.off += size;
		if (rc != 0) {
			conn_close(c, "out of memory for a reply");
			return (-1);
		}
		if (http && r.close) {
			evbuffer_drain(conn_in(c), cur.total);
			return (conn_close_after_calls(c, srv->draining ?
			    "shutting down" : "Connection: close", 1) != 0 ?
			    -1 : 0);
		}
	}
	evbuffer_drain(conn_in(c), cur.off);
	c->buffered = cur.total - cur.off;
	len = c->buffered;
	if (n == RPCD_FRAMES_PER_EVENT && len >= PROTO_HEADER_SIZE) {
		/* More to do: come back after the other connections. */
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
	} else if (len > 0)
		conn_quickack(c, len);
	/* Paused with frames waiting is no slow peer's doing. */
	return (conn_check_partial(c, n > 0 || c->calls_full ||
	    c->rate_waiting));
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
	} while (!conn_closing(c) && c->frames != before &&
	    conn_unsent(c) <= c->srv->settings->max_output);
	return (0);
}

/*
 * Send what the kernel takes now, with back-pressure: a client that
 * pipelines but does not read would make the output buffer grow without
 * bound.  Past --max-output stop reading it; conn_write_cb resumes once
 * half of the output has drained.
 */
static void
conn_send_now(struct conn *c)
{
	if (conn_flush(c) != 0 ||
	    conn_unsent(c) <= c->srv->settings->max_output)
		return;
	log_debug("%s: peer not reading its replies: pausing", conn_peer(c));
	c->throttled = 1;
	conn_reading(c, 0);
}

/*
 * Shutting down: has this connection nothing left to answer?  Nothing
 * buffered, nothing waiting in the kernel, and not a connection accepted
 * just before the shutdown whose first request may still be on its way.
 */
static int
conn_idle(struct conn *c)
{
	if (c->last_request && c->frames == 0)
		return (0);
	return (c->ncalls == 0 && evbuffer_get_length(conn_in(c)) == 0 &&
	    !c->l->transport->pending(c->bev));
}

/*
 * Shutting down: close once idle, or once the peer stops reading, or
 * once a peer still sending RPCD_DRAIN_GRACE seconds after the drain
 * began (a client that pipelines without a pause is never idle) has every
 * call it sent so far answered.  The close lingers: what the peer sends
 * meanwhile is discarded, not answered, for it to send again on another
 * connection, and no reset destroys the replies it has not read yet.
 */
static void
conn_drain_step(struct conn *c)
{
	const char	*reason = NULL;

	if (conn_idle(c))
		reason = "shutting down";
	else if (conn_unsent(c) > c->srv->settings->max_output)
		reason = "shutting down: replies unread";
	else if (c->ncalls == 0 && !(c->last_request && c->frames == 0) &&
	    conn_now(c) - c->srv->drain_began > RPCD_DRAIN_GRACE * 1000)
		reason = "shutting down: still sending";
	if (reason != NULL)
		conn_close_after_flush(c, reason, c->frames > 0);
}

/*
 * Have the replies sent once every connection ready in this pass of the
 * loop has been served, as Redis sends its replies before it sleeps: a
 * peer woken by the first reply of a burst finds the others there, where
 * replies sent one read at a time would wake it for each (the waker pays
 * for the wake-up: an interprocessor interrupt, costly in a VM).  Once
 * the queue holds more than held_max bytes (RPCD_SEND_HELD_MAX, counted
 * as connections join it), send it at once.  That keeps large replies in
 * bursts too, and the memory they hold across a pass well within what the
 * heap keeps (worker_tune_malloc: 8 MiB with the default --max-frame).
 * Holding every connection's 64 KiB replies grew and trimmed the heap by
 * megabytes each pass (fresh pages, zeroed by the kernel); sending each at
 * once woke the peer for each.
 */
static void
conn_send(struct conn *c)
{
	struct server	*srv = c->srv;
	size_t		 unsent = conn_unsent(c);

	if (c->queued || unsent == 0)
		return;
	/* Run last in this pass: behind the callbacks already due. */
	if (TAILQ_EMPTY(&srv->sendq))
		event_active(srv->send_ev, EV_WRITE, 0);
	TAILQ_INSERT_TAIL(&srv->sendq, c, send_entry);
	c->queued = 1;
	if ((srv->held += unsent) > srv->held_max)
		conn_send_queued(-1, 0, srv);
}

/* Send the replies of the pass; pause a peer that leaves them unread. */
void
conn_send_queued(evutil_socket_t fd, short what, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c;

	while ((c = TAILQ_FIRST(&srv->sendq)) != NULL) {
		TAILQ_REMOVE(&srv->sendq, c, send_entry);
		c->queued = 0;
		conn_send_now(c);
	}
	srv->held = 0;
}

/*
 * Answer what has come, and have it sent; shutting down, send it now and
 * decide whether to close.
 */
static void
conn_serve(struct conn *c)
{
	int	rc;

	if (c->srv->draining)
		rc = conn_process_all(c);
	else
		rc = conn_process(c);
	if (rc != 0 || conn_closing(c))
		return;
	if (!c->srv->draining)
		conn_send(c);
	else if (conn_flush(c) == 0)
		conn_drain_step(c);
}

/*
 * Lingering: discard what came; close past RPCD_LINGER_BYTES, or
 * RPCD_LINGER_TIME, which a peer sending a byte now and then would
 * otherwise put off for ever (each read restarts the read timeout).
 */
static void
conn_linger_read(struct conn *c)
{
	struct evbuffer	*in = conn_in(c);

	c->buffered += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->buffered > RPCD_LINGER_BYTES)
		conn_close(c, "lingered over its bytes");
	else if (conn_now(c) >= c->deadline)
		conn_close(c, "lingered over its time");
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->state == CONN_LINGERING) {
		conn_linger_read(c);
		return;
	}
	if (conn_closing(c) || c->state == CONN_BROKEN || c->throttled ||
	    c->calls_full || c->rate_waiting)
		return;	/* a deferred trigger from before */
	c->readahead = evbuffer_get_length(conn_in(c)) >= c->buffered +
	    RPCD_BEV_READ;
	conn_serve(c);
}

/*
 * The output is down to half of --max-output, or empty, or a kept call
 * was answered (conn_replied): send what is due, resume reading a
 * connection throttled or past --max-inflight once it no longer is,
 * disarm the write event, finish a close.
 */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	size_t		 left;
	int		 resume = 0;

	if (c->state == CONN_LINGERING)
		return;	/* a trigger from before */
	if (c->state == CONN_BROKEN) {
		conn_close(c, "out of memory for a reply");
		return;
	}
	if (conn_flush(c) != 0)
		return;
	if ((left = conn_unsent(c)) == 0) {
		conn_writing(c, 0);
		if (conn_closing(c) && c->ncalls == 0) {
			conn_linger(c, "flushed",
			    c->state == CONN_CLOSING_LINGER);
			return;
		}
	}
	if (c->throttled && left <= c->srv->settings->max_output / 2) {
		log_debug("%s: replies drained: resuming", conn_peer(c));
		c->throttled = 0;
		resume = 1;
	}
	if (c->calls_full && c->ncalls < c->srv->settings->max_inflight) {
		log_debug("%s: calls answered: resuming", conn_peer(c));
		c->calls_full = 0;
		resume = 1;
	}
	if (conn_closing(c))
		return;
	if (resume && !c->throttled && !c->calls_full && !c->rate_waiting) {
		conn_reading(c, 1);
		conn_serve(c);
	} else if (c->srv->draining)
		conn_drain_step(c);
}

/*
 * A kept call was answered, outside the read callback maybe (a module's
 * timer, the thread pool): have the loop run the write callback.  Later,
 * not now, so that a close it decides never runs inside a module's call.
 */
void
conn_replied(struct conn *c, int status)
{
	if (status != 0)
		conn_set_state(c, CONN_BROKEN);
	bufferevent_trigger(c->bev, EV_WRITE,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/*
 * The TLS handshake ended: from now on the idle timeout applies; or it
 * failed (a peer speaking plain text, a bad certificate, a stall past the
 * deadline), which is the peer's fault: a debug line and a count.
 */
static void
conn_handshake_done(struct conn *c, short what)
{
	struct server		*srv = c->srv;
	struct proxy_header	 h;
	const char		*why;
	int			 proxy;

	proxy = tls_proxy_header(c->bev, &h, &why);
	/* No header by the deadline: missing, as on a plain listener. */
	if (proxy == PROXY_MORE && c->proxied &&
	    (what & BEV_EVENT_TIMEOUT)) {
		proxy = PROXY_BAD;
		why = "timed out";
	}
	if (proxy == PROXY_OK)
		conn_proxy_client(c, &h);
	if (what & BEV_EVENT_CONNECTED) {
		log_debug("%s: TLS handshake done", conn_peer(c));
		bufferevent_set_timeouts(c->bev, srv->idle_timeout,
		    srv->idle_timeout);
		if (c->state == CONN_REFUSING)
			conn_refuse(c);
		else
			conn_set_state(c, CONN_OPEN);
		return;
	}
	if (proxy == PROXY_BAD) {
		conn_proxy_bad(c, why);
		return;
	}
	srv->stats->tls_handshake_failures++;
	log_debug("%s: TLS handshake failed: %s", conn_peer(c),
	    what & BEV_EVENT_TIMEOUT ? "timed out" : tls_error(c->bev));
	conn_close(c, "TLS handshake failed");
}

/* End of file, an error, or the idle timeout. */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	const char	*reason;

	if (c->state == CONN_HANDSHAKE || c->state == CONN_REFUSING)
		conn_handshake_done(c, what);
	else if (c->state == CONN_LINGERING)
		conn_close(c, what & BEV_EVENT_TIMEOUT ? "lingered" :
		    "lingered to the end of file");
	else if (c->state == CONN_PROXY && (what & BEV_EVENT_TIMEOUT))
		conn_proxy_bad(c, "timed out");
	else if (what & BEV_EVENT_TIMEOUT) {
		reason = c->deadline != 0 ? "frame timed out" :
		    "idle timeout";
		/*
		 * Replies left unread that long: nothing to linger for.  (A
		 * write timeout has disabled the write event, too.)
		 */
		if ((what & BEV_EVENT_WRITING) || conn_closing(c) ||
		    conn_unsent(c) > 0) {
			c->srv->stats->timeouts++;
			conn_close(c, reason);
		} else if (c->deadline != 0)
			conn_frame_timeout(c);
		else {
			c->srv->stats->timeouts++;
			conn_close_after_flush(c, reason, c->frames > 0);
		}
	} else if (what & BEV_EVENT_EOF) {
		/*
		 * The peer may have half-closed: send what it asked for.  An
		 * OpenSSL bufferevent deletes its events at the end of file
		 * though EV_WRITE stays enabled, so arm it again, closing or
		 * not: replies left would wait for no event, and no timeout,
		 * forever.
		 */
		c->writing = 0;
		if (conn_closing(c))
			conn_close_after_flush(c, "end of file",
			    c->state == CONN_CLOSING_LINGER);
		else if (conn_process_all(c) == 0 && !conn_closing(c))
			conn_close_after_flush(c, "end of file", 0);
	} else
		conn_close(c, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/*
 * Shutting down: answer what the peer has already sent, reading on
 * through the bufferevent until the connection is idle, or for
 * RPCD_DRAIN_GRACE seconds if it never is (conn_drain_step), then close,
 * lingering, once the replies are flushed.  An idle connection closes at
 * once.  One accepted just before the shutdown gets its first request
 * answered (within --shutdown-timeout), so that connect-request-close
 * clients lose nothing when workers are replaced.
 */
void
conn_drain(struct conn *c)
{
	if (c->state >= CONN_BROKEN)
		return;		/* closing already */
	if (c->frames == 0 && conn_now(c) - c->accepted <
	    RPCD_DRAIN_GRACE * 1000)
		c->last_request = 1;
	/* The same for every connection: they are drained in one pass. */
	c->srv->drain_began = conn_now(c);
	conn_serve(c);
}

/*
 * Answer busy, then close.  Refused, it is none of its client's
 * connections while it lingers.
 */
static void
conn_refuse(struct conn *c)
{
	if (c->client != NULL) {
		client_put(c->client);
		c->client = NULL;
	}
	dispatch_error(c, PROTO_EBUSY);
	conn_close_after_flush(c, "busy", 1);
}

/*
 * Refuse a connection over --max-conns: a busy error, then close; over
 * TLS once the handshake is done, so that one that fails is counted as on
 * any connection.
 */
void
conn_reject(struct conn *c)
{
	log_debug("%s: over --max-conns: answering busy", conn_peer(c));
	if (c->state == CONN_HANDSHAKE)
		conn_set_state(c, CONN_REFUSING);
	else
		conn_refuse(c);
}

/* Does the connection hold requests or replies not yet answered or sent? */
int
conn_unanswered(const struct conn *c)
{
	return (c->ncalls > 0 || evbuffer_get_length(conn_in(c)) > 0 ||
	    conn_unsent(c) > 0);
}
