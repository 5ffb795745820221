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
 * Transports: how the connections of a listener carry bytes.  Each
 * connection is a bufferevent, and conn.c does everything it can through
 * it.  A transport makes that bufferevent and does the two things a
 * bufferevent cannot be asked to: send replies now, in the pass of the
 * loop that read their requests, so that a request and its reply cost one
 * read, one write and no epoll_ctl() (a socket bufferevent writes only
 * from its write event, which must be armed first); read the rest of a
 * large frame at once (a bufferevent reads 4 KiB per wake-up, each with
 * an ioctl() first); and tell whether the peer has sent anything not read
 * yet, so a drain knows when a connection is idle.  This file is the only
 * one that does I/O on a connection's socket.
 *
 * Layer: connection (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#ifdef HAVE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent_ssl.h>
#endif

#include "rpcd.h"

static struct bufferevent *
transport_plain_open(struct event_base *base, int fd)
{
	return (bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE));
}

/*
 * Write what the kernel takes now from buf: write(2) when it is one
 * chunk, as a burst of small replies is, else evbuffer_write()'s
 * writev(2).  The bufferevent freezes the start of its output so that
 * only it drains it; this does what its write event would, so it thaws
 * the output meanwhile.  Return -1 on an error that ends the connection,
 * with errno set.
 */
static int
transport_plain_send(struct bufferevent *bev, struct evbuffer *buf)
{
	struct evbuffer		*out = bufferevent_get_output(bev);
	struct evbuffer_iovec	 v;
	int			 fd = bufferevent_getfd(bev);
	ssize_t			 n;

	if (buf == out)
		evbuffer_unfreeze(out, 1);
	/* Given one vector, peek returns 1 however many chunks there are. */
	if (evbuffer_peek(buf, -1, NULL, &v, 1) != 1 ||
	    v.iov_len != evbuffer_get_length(buf))
		n = evbuffer_write(buf, fd);
	else if ((n = write(fd, v.iov_base, v.iov_len)) > 0)
		evbuffer_drain(buf, n);
	if (buf == out)
		evbuffer_freeze(out, 1);
	return (n == -1 && !errno_transient(errno) ? -1 : 0);
}

/*
 * Read up to n bytes into the input now, in one system call, for a frame
 * that lacks lack bytes.  Past RPCD_FILL_UNASKED, only what has arrived
 * (FIONREAD): memory follows what the peer sent, not what a frame header
 * announces.  Up to it, the space is taken unasked, which saves a system
 * call on the rest of a kilobyte frame: a peer that stalls holds no more
 * of ours than one that sent that much.  The frame must end up in one
 * piece.  If the room left in the input's last chunk holds what it lacks,
 * read into that room and on into a new chunk, as libevent reads
 * (readv(2)); reserving one piece there, libevent would move the chunk
 * into a larger one, a copy into fresh memory that took 12% of rpcd's
 * time with 4 KiB requests.  Else reserve one piece, for which libevent
 * moves the chunk (of at most 4 KiB) or starts a new one.  The bufferevent
 * freezes the end of its input so that only it fills it, so thaw it
 * meanwhile.  Return what readv(2) returns; nothing waiting is EAGAIN (the
 * bufferevent sees end of file and errors itself).
 */
static ssize_t
transport_plain_fill(struct bufferevent *bev, size_t lack, size_t n)
{
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_iovec	 v[2];
	int			 fd = bufferevent_getfd(bev), avail, nv;
	ssize_t			 r = -1;

	if (n > RPCD_FILL_UNASKED) {
		if (ioctl(fd, FIONREAD, &avail) == -1)
			return (-1);
		if (avail <= 0) {
			errno = EAGAIN;
			return (-1);
		}
		if ((size_t)avail < n)
			n = avail;
	}
	evbuffer_unfreeze(in, 0);
	/* What a chunk's room may hold: no second chunk made for nothing. */
	nv = lack <= RPCD_BEV_READ ? evbuffer_reserve_space(in, n, v, 2) : 0;
	if (nv < 1 || (nv == 2 && v[0].iov_len < lack))
		nv = evbuffer_reserve_space(in, n, v, 1);
	/* The pieces may hold more than n: read n, no more. */
	if (nv == 2)
		v[1].iov_len = n - v[0].iov_len;
	else if (nv == 1 && v[0].iov_len > n)
		v[0].iov_len = n;
	if (nv < 1)
		errno = ENOMEM;
	else if ((r = readv(fd, v, nv)) > 0) {
		if ((size_t)r <= v[0].iov_len) {
			v[0].iov_len = r;
			nv = 1;
		} else
			v[1].iov_len = r - v[0].iov_len;
		evbuffer_commit_space(in, v, nv);
	}
	evbuffer_freeze(in, 0);
	return (r);
}

/* Has the peer sent bytes, or end of file, that are not read yet? */
static int
transport_plain_pending(struct bufferevent *bev)
{
	char	byte;

	return (recv(bufferevent_getfd(bev), &byte, 1, MSG_PEEK) != -1 ||
	    !errno_transient(errno));
}

const struct transport transport_plain = {
	"plain",
	transport_plain_open,
	transport_plain_send,
	transport_plain_fill,
	transport_plain_pending,
	0,
};

#ifdef HAVE_TLS
/*
 * A TLS connection: libevent's OpenSSL bufferevent on the socket, with
 * ssl in the accepting state; it runs the handshake, then reads and
 * decrypts into the input.  A peer that closes without close_notify has
 * ended the connection like any other (rpcd frames its own messages).
 */
static struct bufferevent *
transport_tls_bev(struct event_base *base, int fd, SSL *ssl)
{
	struct bufferevent	*bev;

	if (ssl == NULL)
		return (NULL);
	/* On failure libevent frees ssl (BEV_OPT_CLOSE_ON_FREE). */
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return (bev);
}

static struct bufferevent *
transport_tls_open(struct event_base *base, int fd)
{
	return (transport_tls_bev(base, fd, tls_ssl_new()));
}

/*
 * The same behind a proxy: the SSL reads the PROXY header off the socket
 * before the handshake (tls_ssl_new_proxied).
 */
static struct bufferevent *
transport_tls_proxy_open(struct event_base *base, int fd)
{
	return (transport_tls_bev(base, fd, tls_ssl_new_proxied(fd)));
}

/*
 * Encrypt and write what the kernel takes now from buf, a record at a
 * time, as the plain transport does, so that a reply needs no write
 * event.  A record OpenSSL could not send is retried by libevent from the
 * output (conn_flush moves what is left there) with at least as many
 * bytes from the same place, as OpenSSL requires, since this writes at
 * most RPCD_TLS_WRITE bytes at once, as libevent does.
 */
static int
transport_tls_send(struct bufferevent *bev, struct evbuffer *buf)
{
	SSL			*ssl = bufferevent_openssl_get_ssl(bev);
	struct evbuffer_iovec	 v;
	int			 n, error;

	while (evbuffer_peek(buf, RPCD_TLS_WRITE, NULL, &v, 1) >= 1) {
		if (v.iov_len > RPCD_TLS_WRITE)
			v.iov_len = RPCD_TLS_WRITE;
		ERR_clear_error();
		if ((n = SSL_write(ssl, v.iov_base, v.iov_len)) > 0) {
			evbuffer_drain(buf, n);
			continue;
		}
		error = SSL_get_error(ssl, n);
		if (error == SSL_ERROR_WANT_WRITE ||
		    error == SSL_ERROR_WANT_READ)
			return (0);
		if (error != SSL_ERROR_SYSCALL || errno == 0)
			errno = EPROTO;
		ERR_clear_error();
		return (errno_transient(errno) ? 0 : -1);
	}
	return (0);
}

/* Decrypted bytes OpenSSL holds, bytes its BIOs hold, or on the socket. */
static int
transport_tls_pending(struct bufferevent *bev)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);

	return (SSL_pending(ssl) > 0 || BIO_pending(SSL_get_rbio(ssl)) > 0 ||
	    transport_plain_pending(bev));
}

const struct transport transport_tls = {
	"tls",
	transport_tls_open,
	transport_tls_send,
	NULL,
	transport_tls_pending,
	1,
};

const struct transport transport_tls_proxy = {
	"tls-proxy",
	transport_tls_proxy_open,
	transport_tls_send,
	NULL,
	transport_tls_pending,
	1,
};
#endif /* HAVE_TLS */
