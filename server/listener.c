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
 * Listening sockets: bound once at startup (or inherited from systemd
 * through LISTEN_FDS), before any fork or privilege drop, then served by an
 * evconnlistener in each event loop, which hands what it accepts to the
 * worker.  Each listener has a transport: how its connections carry bytes.
 *
 * Layer: worker (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "rpcd.h"

#define LISTEN_FDS_START	3	/* sd_listen_fds(3) */

/*
 * A Unix socket path that exists may be a stale socket from a server that
 * died.  Remove it only if nothing answers on it.
 */
static int
listener_clear_stale(const struct addr *a)
{
	const struct sockaddr_un	*sun = (const struct sockaddr_un *)&a->ss;
	struct stat			 sb;
	int				 fd, error;

	if (lstat(sun->sun_path, &sb) != 0)
		return (0);
	if (!S_ISSOCK(sb.st_mode)) {
		log_errorx("cannot listen on %s: file exists and is not a "
		    "socket", a->text);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return (-1);
	error = connect(fd, (const struct sockaddr *)sun, a->len);
	close(fd);
	if (error == 0) {
		log_errorx("cannot listen on %s: a server is running there",
		    a->text);
		return (-1);
	}
	log_info("removing stale socket %s", sun->sun_path);
	return (unlink(sun->sun_path));
}

/*
 * The socket option that makes the kernel balance connections over the
 * sockets bound to one port: FreeBSD's SO_REUSEPORT_LB, Linux's
 * SO_REUSEPORT.  Elsewhere SO_REUSEPORT only lets the last socket win.
 */
int
listener_reuseport_option(void)
{
#if defined(SO_REUSEPORT_LB)
	return (SO_REUSEPORT_LB);
#elif defined(__linux__) && defined(SO_REUSEPORT)
	return (SO_REUSEPORT);
#else
	return (-1);
#endif
}

/*
 * Bind and listen on a, with SO_REUSEPORT if reuseport.  A Unix socket
 * file gets unix_mode unless it is -1: the umask is set around bind(2),
 * which creates the file, so it never exists with other permissions (a
 * chmod(2) after would leave a moment for a connect to fail or succeed).
 */
static int
listener_bind(const struct addr *a, struct listener *l, int reuseport,
    int unix_mode)
{
	mode_t	mask = 0;
	int	fd, on = 1, error;

	memset(l, 0, sizeof *l);
	l->is_unix = a->ss.ss_family == AF_UNIX;
	if (l->is_unix && listener_clear_stale(a) != 0)
		return (-1);
	if ((fd = socket(a->ss.ss_family, SOCK_STREAM, 0)) == -1) {
		log_error("cannot listen on %s: socket", a->text);
		return (-1);
	}
	if (!l->is_unix)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (!l->is_unix && reuseport && setsockopt(fd, SOL_SOCKET,
	    listener_reuseport_option(), &on, sizeof on) != 0) {
		log_error("cannot listen on %s: SO_REUSEPORT", a->text);
		close(fd);
		return (-1);
	}
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (l->is_unix && unix_mode != -1)
		mask = umask(~unix_mode & 0777);
	error = bind(fd, (const struct sockaddr *)&a->ss, a->len);
	if (l->is_unix && unix_mode != -1)
		umask(mask);
	if (error != 0 || listen(fd, RPCD_BACKLOG) != 0) {
		log_error("cannot listen on %s", a->text);
		close(fd);
		return (-1);
	}
	l->fd = fd;
	l->created = l->is_unix;
	l->transport = &transport_plain;
	return (0);
}

/* Describe a bound socket as addr_format() prints it, port 0 resolved. */
static void
listener_name(struct listener *l)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	if (getsockname(l->fd, (struct sockaddr *)&ss, &len) == 0) {
		memcpy(&l->addr.ss, &ss, len);
		l->addr.len = len;
		addr_format((struct sockaddr *)&ss, len, l->addr.text,
		    sizeof l->addr.text);
	}
	l->is_unix = ss.ss_family == AF_UNIX;
}

/*
 * Bind the first socket for a.  With --reuseport, bind one without
 * SO_REUSEPORT before: it fails if another process listens there, where
 * the option would quietly share the port with it.  The real socket then
 * takes the probe's port, so that port 0 is one port for every worker.
 */
static int
listener_bind_first(const struct addr *a, struct listener *l,
    const struct settings *s)
{
	struct listener	probe;

	if (!s->reuseport || a->ss.ss_family == AF_UNIX)
		return (listener_bind(a, l, s->reuseport, s->unix_mode));
	if (listener_bind(a, &probe, 0, -1) != 0)
		return (-1);
	listener_name(&probe);
	close(probe.fd);
	return (listener_bind(&probe.addr, l, 1, -1));
}

/* Sockets handed over by systemd; 0 if there are none. */
static int
listener_inherit(struct listener **out)
{
	const char	*pid, *fds, *errstr;
	int		 n, i;

	pid = getenv("LISTEN_PID");
	fds = getenv("LISTEN_FDS");
	if (pid == NULL || fds == NULL ||
	    parse_number(pid, 1, INT32_MAX, &errstr) != getpid())
		return (0);
	n = parse_number(fds, 1, RPCD_LISTEN_MAX, &errstr);
	if (errstr != NULL)
		fatalx("LISTEN_FDS is %s: %s", errstr, fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	*out = xcalloc(n, sizeof **out);
	for (i = 0; i < n; i++) {
		(*out)[i].fd = LISTEN_FDS_START + i;
		(*out)[i].transport = &transport_plain;
		fcntl((*out)[i].fd, F_SETFD, FD_CLOEXEC);
		listener_name(&(*out)[i]);
	}
	return (n);
}

/*
 * Bind every -l address, or take systemd's sockets.  Print the address of
 * each, which tests read to find an ephemeral port.  Return the count, or
 * -1 after logging why.
 */
int
listener_bind_all(const struct settings *s, struct listener **out)
{
	int	n, i;

	if ((n = listener_inherit(out)) == 0) {
		*out = xcalloc(s->nlisten, sizeof **out);
		for (n = 0; n < s->nlisten; n++) {
			if (listener_bind_first(&s->listen[n], &(*out)[n],
			    s) != 0) {
				listener_unlink_all(*out, n);
				return (-1);
			}
			listener_name(&(*out)[n]);
			(*out)[n].flags = s->listen_flags[n];
			/* For access rules: listener= names these. */
			snprintf((*out)[n].given, sizeof (*out)[n].given,
			    "%s", s->listen[n].text);
			memcpy((*out)[n].name, s->listen_name[n],
			    sizeof (*out)[n].name);
#ifdef HAVE_TLS
			if (s->listen_flags[n] & LISTEN_TLS)
				(*out)[n].transport =
				    s->listen_flags[n] & LISTEN_PROXY ?
				    &transport_tls_proxy : &transport_tls;
#endif
		}
	}
	for (i = 0; i < n; i++) {
		evutil_make_socket_nonblocking((*out)[i].fd);
		if ((*out)[i].given[0] == '\0')
			snprintf((*out)[i].given, sizeof (*out)[i].given,
			    "%s", (*out)[i].addr.text);
		log_info("listening on %s%s%s%s", (*out)[i].addr.text,
		    (*out)[i].flags & LISTEN_HTTP ? " (HTTP)" : "",
		    (*out)[i].transport->tls ? " (TLS)" : "",
		    (*out)[i].flags & LISTEN_PROXY ?
		    " (PROXY protocol header first)" : "");
	}
	return (n);
}

/*
 * Bind a TCP address for a server of another kind (metrics): l gets the
 * socket, non-blocking, and its address with port 0 resolved.  Return -1
 * after logging why.
 */
int
listener_bind_one(const struct addr *a, struct listener *l)
{
	if (listener_bind(a, l, 0, -1) != 0)
		return (-1);
	listener_name(l);
	evutil_make_socket_nonblocking(l->fd);
	fcntl(l->fd, F_SETFD, FD_CLOEXEC);
	return (0);
}

/*
 * Replace each TCP socket of a copied set with a new one bound to the same
 * (resolved) address with SO_REUSEPORT; Unix sockets stay shared.
 */
int
listener_reuseport_bind(struct listener *l, int n)
{
	struct listener	copy;
	int		i;

	for (i = 0; i < n; i++) {
		if (l[i].is_unix)
			continue;
		if (listener_bind(&l[i].addr, &copy, 1, -1) != 0)
			return (-1);
		evutil_make_socket_nonblocking(copy.fd);
		l[i].fd = copy.fd;
		l[i].created = 0;
	}
	return (0);
}

/* Remove the socket files this process created. */
void
listener_unlink_all(struct listener *l, int n)
{
	const struct sockaddr_un	*sun;
	int				 i;

	for (i = 0; i < n; i++) {
		if (!l[i].created)
			continue;
		sun = (const struct sockaddr_un *)&l[i].addr.ss;
		unlink(sun->sun_path);
	}
}

static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct listener	*l = arg;

	l->srv->accepted(l->srv, l, fd, sa);
}

static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;

	l->srv->accept_failed(l->srv, EVUTIL_SOCKET_ERROR());
}

/*
 * Create this event loop's evconnlistener for every bound socket.  The
 * backlog passed is 0 so that libevent does not listen(2) again with its
 * own default of 128: the socket already listens with RPCD_BACKLOG.
 */
void
listener_enable_all(struct server *srv)
{
	struct listener	*l;
	int		 i;

	for (i = 0; i < srv->nlisteners; i++) {
		l = &srv->listeners[i];
		l->srv = srv;
		/*
		 * Enabled here, not by evconnlistener_new(), which ignores
		 * a failure to watch the socket: a server that never
		 * accepts must not start.
		 */
		l->evl = evconnlistener_new(srv->base, listener_accept_cb, l,
		    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 0, l->fd);
		if (l->evl == NULL || evconnlistener_enable(l->evl) != 0)
			fatalx("evconnlistener_new on %s", l->addr.text);
		evconnlistener_set_error_cb(l->evl, listener_error_cb);
	}
}

/* Accept on every listener, or on none. */
void
listener_accepting(struct server *srv, int on)
{
	int	i;

	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].evl == NULL)
			continue;
		if (on)
			evconnlistener_enable(srv->listeners[i].evl);
		else
			evconnlistener_disable(srv->listeners[i].evl);
	}
}

/* Stop accepting for good (shutdown); the sockets stay for the others. */
void
listener_close_all(struct server *srv)
{
	int	i;

	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].evl != NULL) {
			evconnlistener_free(srv->listeners[i].evl);
			srv->listeners[i].evl = NULL;
		}
	}
}
