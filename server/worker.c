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
 * One event loop serving the bound listeners: the whole server in single
 * process mode.  The event_base is created here, after any fork, never
 * inherited.  SIGTERM and SIGINT drain: stop accepting, answer what was
 * received, flush, exit 0 within --shutdown-timeout.  SIGHUP and SIGUSR1
 * reopen the logs.
 *
 * Layer: worker (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#ifdef HAVE_MALLOPT
#include <malloc.h>
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "rpcd.h"

/* Stop accepting for a reason (PAUSE_*). */
static void
worker_pause(struct server *srv, int reason)
{
	struct timeval	tv = { RPCD_ACCEPT_PAUSE, 0 };

	if (srv->paused == 0)
		listener_accepting(srv, 0);
	srv->paused |= reason;
	if (reason == PAUSE_FDS) {
		log_warnx("out of file descriptors: not accepting for %ds",
		    RPCD_ACCEPT_PAUSE);
		evtimer_add(srv->resume_ev, &tv);
	}
}

/* Clear a reason to pause; accept again when none is left. */
static void
worker_resume(struct server *srv, int reason)
{
	if ((srv->paused & reason) == 0)
		return;
	srv->paused &= ~reason;
	if (srv->paused == 0 && !srv->draining)
		listener_accepting(srv, 1);
}

/*
 * A connection came at --max-conns.  Leave the next ones to another worker
 * that has room, if one does; otherwise they are accepted and answered
 * busy, as Redis and memcached answer "too many clients", rather than left
 * to wait in the listen queue for minutes.  A busy server reaches the limit
 * once per closed connection: the log says so once per episode, which
 * ends when the limit has not been reached for RPCD_ACCEPT_PAUSE seconds
 * (worker_full_cb).
 */
static void
worker_full(struct server *srv)
{
	evtimer_del(srv->full_ev);
	if (srv->full_pauses++ == 0)
		log_warnx("%d connections open (--max-conns): new ones are "
		    "answered busy or left to a worker with room",
		    srv->nconns);
	if (stats_room_elsewhere(srv->stats, srv->settings->max_conns))
		worker_pause(srv, PAUSE_FULL);
}

/* The --max-conns episode is over: say how often the limit was hit. */
static void
worker_full_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	log_info("below --max-conns again (it was reached %lld time(s))",
	    (long long)srv->full_pauses);
	srv->full_pauses = 0;
}

static void
worker_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	worker_resume(srv, PAUSE_FDS);
}

/*
 * A listener accepted fd: serve it, or answer busy past --max-conns.  A
 * ,proxy listener's peer outside --proxy-from could name any client in
 * its header: it is closed at once, before it sends one.  A Unix socket's
 * peers are this host's, let in by the socket file's permissions.
 */
static void
worker_accept(struct server *srv, struct listener *l, int fd,
    const struct sockaddr *sa)
{
	const struct networks	*trusted = &srv->settings->proxy_from;
	struct conn		*c;
	char			 peer[ADDR_TEXT_MAX];
	int			 over = srv->nconns >= srv->settings->max_conns;

	if ((l->flags & LISTEN_PROXY) && sa->sa_family != AF_UNIX &&
	    !network_match(trusted->net, trusted->n, sa)) {
		srv->stats->proxy_untrusted++;
		if (log_enabled(LOG_DEBUG))
			log_debug("%s: not in --proxy-from: closed",
			    addr_format(sa, sizeof(struct sockaddr_storage),
			    peer, sizeof peer));
		close(fd);
		return;
	}
	if ((c = conn_new(srv, l, fd, sa)) == NULL) {
		srv->stats->rejected++;
		return;
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	srv->stats->connections++;
	srv->stats->total_connections++;
	if (srv->nconns >= srv->settings->max_conns)
		worker_full(srv);
	if (over) {
		srv->stats->rejected++;
		conn_reject(c);
	}
}

/*
 * accept(2) failed.  Out of descriptors, the pending connection stays in
 * the queue and the listener would fire again at once: pause for a while
 * instead of spinning (tmux, httpd, memcached do the same).
 */
static void
worker_accept_failed(struct server *srv, int error)
{
	if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
	    error == ENOMEM)
		worker_pause(srv, PAUSE_FDS);
	else
		log_warnx("accept: %s", evutil_socket_error_to_string(error));
}

/*
 * A connection is closing: forget it, accept again below --max-conns, and
 * end the loop when the last one goes during a drain.
 */
static void
worker_conn_gone(struct server *srv, struct conn *c)
{
	struct timeval	tv = { RPCD_ACCEPT_PAUSE, 0 };

	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->nconns--;
	srv->stats->connections--;
	if (srv->nconns < srv->settings->max_conns) {
		worker_resume(srv, PAUSE_FULL);
		if (srv->full_pauses > 0)
			evtimer_add(srv->full_ev, &tv);
	}
	/* Not event_base_loopexit(): it allocates, so it can fail. */
	if (srv->draining && srv->nconns == 0)
		event_base_loopbreak(srv->base);
}

static void
worker_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c;
	int		 n = 0;

	TAILQ_FOREACH(c, &srv->conns, entry) {
		if (conn_unanswered(c))
			n++;
	}
	log_warnx("shutdown timeout: closing %d connection(s), %d with "
	    "requests or replies unfinished", srv->nconns, n);
	event_base_loopbreak(srv->base);
}

/* Begin a graceful shutdown. */
static void
worker_drain(struct server *srv)
{
	struct conn	*c, *next;
	struct timeval	 tv = { srv->settings->shutdown_timeout, 0 };

	if (srv->draining)
		return;
	srv->draining = 1;
	srv->stats->draining = 1;
	srv->agent_drain = 1;
	if (srv->delay_ev != NULL)
		evtimer_del(srv->delay_ev);
	log_info("shutting down: %d connection(s) open", srv->nconns);
	listener_close_all(srv);
	evtimer_del(srv->resume_ev);
	evtimer_del(srv->full_ev);
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_drain(c);
	}
	if (srv->nconns == 0) {
		event_base_loopbreak(srv->base);
		return;
	}
	srv->drain_ev = evtimer_new(srv->base, worker_timeout_cb, srv);
	if (srv->drain_ev == NULL)
		fatalx("evtimer_new");
	evtimer_add(srv->drain_ev, &tv);
}

static void
worker_delay_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	log_info("drain delay over");
	worker_drain(srv);
}

static void	worker_stop(struct server *);

/* The process above is done with SIGTERM (its member is gone): go on. */
static void
worker_stop_cb(void *arg)
{
	struct server	*srv = arg;

	if (!srv->agent_drain && !srv->draining)
		worker_stop(srv);
}

/*
 * SIGTERM: first tell the process above (a single process's --register
 * deletes its member, so that clients stop choosing it), then with
 * --drain-delay, have the agent answer "drain" and go on serving for the
 * delay, so that the load balancer stops sending new connections before
 * the listeners close; a second signal, or a worker of a master (which
 * waited already), drains at once.
 */
static void
worker_stop(struct server *srv)
{
	struct timeval	tv = { srv->settings->drain_delay, 0 };

	if (srv->hooks != NULL && !srv->stop_asked) {
		srv->stop_asked = 1;
		srv->hooks->stopping(srv->hooks->arg, worker_stop_cb, srv);
		return;
	}
	if (srv->agent_drain || srv->master_ev != NULL ||
	    srv->settings->drain_delay == 0) {
		worker_drain(srv);
		return;
	}
	srv->agent_drain = 1;
	log_info("draining: the agent answers \"drain\"; serving %ds more "
	    "before shutting down", srv->settings->drain_delay);
	srv->delay_ev = evtimer_new(srv->base, worker_delay_cb, srv);
	if (srv->delay_ev == NULL || evtimer_add(srv->delay_ev, &tv) != 0) {
		log_warnx("drain delay: cannot set a timer; shutting down now");
		worker_drain(srv);
	}
}

/*
 * SIGHUP in a single process: the access rules of the file again, applied
 * to every connection open, whose lists are made anew before the old
 * rules, which own the old lists, go.  On an error the rules stay.
 */
static void
worker_reload_access(struct server *srv)
{
	struct access	*old = srv->access, *rules;
	struct conn	*c;

	if (config_reload_access(srv->settings, &rules) != 0)
		return;
	srv->access = rules;
	TAILQ_FOREACH(c, &srv->conns, entry)
		conn_access_update(c);
	if (old != srv->settings->access)
		access_free(old);
	log_info("SIGHUP: access rules read again: %s", rules != NULL ?
	    "in force" : "none, every call allowed");
}

/* HAProxy's agent-check asks. */
static void
worker_agent_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	agent_answer(srv->agent_drain);
}

static void
worker_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct server	*srv = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		worker_stop(srv);
		break;
	case SIGHUP:
	case SIGUSR1:
		log_reopen();
		if (sig == SIGHUP && srv->master_ev == NULL) {
			log_info("SIGHUP: logs reopened; the access rules and "
			    "certificates are read again, the rest of the "
			    "configuration only with --prefork");
			worker_reload_access(srv);
			tls_reload(srv->settings);
			/* No generation to roll back to: in use at once. */
			tls_commit();
		} else
			log_info("%s: logs reopened", sig == SIGHUP ? "SIGHUP" :
			    "SIGUSR1");
		break;
	}
}

/* The master's end of our pipe closed: it is gone, so go too. */
static void
worker_master_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;
	char		 buf[16];

	if (read(fd, buf, sizeof buf) > 0)
		return;
	log_warnx("master is gone: shutting down");
	event_del(srv->master_ev);
	worker_drain(srv);
}

/*
 * A frame larger than one read is pulled up into one buffer and freed once
 * answered.  glibc would return that memory to the kernel and take it back
 * for the next frame, two brk() calls per request and fresh pages for the
 * kernel to zero each time: keep free memory for a few frames instead.
 */
static void
worker_tune_malloc(const struct settings *s)
{
#if defined(HAVE_MALLOPT) && defined(M_TRIM_THRESHOLD) && \
    defined(M_MMAP_THRESHOLD)
	size_t	frame = (size_t)s->max_frame * 2;

	if (frame > RPCD_MALLOC_KEEP)
		frame = RPCD_MALLOC_KEEP;
	mallopt(M_MMAP_THRESHOLD, frame);
	mallopt(M_TRIM_THRESHOLD, frame * 4);
#endif
}

/*
 * Make srv a server on base with no connection yet: the handlers that the
 * layers below call back (listener.c, conn.c, call.c), its timers, and
 * its connections' common timeouts.  worker_run() and the fuzz harness
 * build theirs with it.
 */
void
server_init(struct server *srv, struct event_base *base,
    const struct settings *s, struct stats_slot *stats)
{
	struct timeval	idle = { s->idle_timeout, 0 };
	struct timeval	handshake = { s->tls_handshake_timeout, 0 };

	memset(srv, 0, sizeof *srv);
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->sendq);
	srv->base = base;
	srv->settings = s;
	srv->stats = stats;
	srv->access = s->access;
	srv->held_max = RPCD_SEND_HELD_MAX;
	srv->accepted = worker_accept;
	srv->accept_failed = worker_accept_failed;
	srv->conn_gone = worker_conn_gone;
	srv->replied = conn_replied;
	srv->identify = conn_caller;
	/* Every connection has the same timeout: a queue, not a heap. */
	if (s->idle_timeout > 0 && (srv->idle_timeout =
	    event_base_init_common_timeout(base, &idle)) == NULL)
		fatalx("event_base_init_common_timeout failed");
	if ((srv->handshake_timeout = event_base_init_common_timeout(base,
	    &handshake)) == NULL)
		fatalx("event_base_init_common_timeout failed");
	srv->resume_ev = evtimer_new(base, worker_resume_cb, srv);
	srv->full_ev = evtimer_new(base, worker_full_cb, srv);
	srv->send_ev = event_new(base, -1, 0, conn_send_queued, srv);
	if (srv->resume_ev == NULL || srv->full_ev == NULL ||
	    srv->send_ev == NULL)
		fatalx("evtimer_new");
	if (s->client_conns > 0 || s->client_rate > 0) {
		srv->clients = clients_new(base, conn_rate_resume);
		clients_set_rate(srv->clients, s->client_rate,
		    s->client_burst > 0 ? s->client_burst : s->client_rate);
	}
	if (s->byte_rate > 0 && (srv->byte_rate = ev_token_bucket_cfg_new(
	    s->byte_rate, s->byte_rate, EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX,
	    NULL)) == NULL)
		fatalx("ev_token_bucket_cfg_new");
}

/* Free what server_init() and a run of the loop made; not the base. */
void
server_free(struct server *srv)
{
	struct event	**evs[] = { &srv->resume_ev, &srv->full_ev,
			    &srv->send_ev, &srv->drain_ev, &srv->master_ev,
			    &srv->agent_ev, &srv->delay_ev };
	size_t		  i;

	for (i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	clients_free(srv->clients);
	srv->clients = NULL;
	if (srv->byte_rate != NULL)
		ev_token_bucket_cfg_free(srv->byte_rate);
	srv->byte_rate = NULL;
	/* A SIGHUP's rules are ours; the settings' are the settings'. */
	if (srv->access != srv->settings->access)
		access_free(srv->access);
	srv->access = srv->settings->access;
}


static const int	 worker_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
#define WORKER_NSIGS	(sizeof worker_sigs / sizeof worker_sigs[0])

/* Have the loop take the signals that drain and reopen the logs. */
static void
worker_watch_signals(struct server *srv, struct event **sigev)
{
	size_t	i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < WORKER_NSIGS; i++) {
		sigev[i] = evsignal_new(srv->base, worker_sigs[i],
		    worker_signal_cb, srv);
		if (sigev[i] == NULL || evsignal_add(sigev[i], NULL) != 0)
			fatalx("cannot watch signal %d", worker_sigs[i]);
	}
}

/*
 * A prefork worker watches its master's pipe and says it is ready there;
 * a single process serves the metrics and the agent itself.
 */
static void
worker_watch_peers(struct server *srv, int master_fd)
{
	if (master_fd == -1) {
		metrics_start(srv->base);
		if (srv->hooks != NULL)
			srv->hooks->serving(srv->hooks->arg, srv->base);
		if (agent_fd() == -1)
			return;
		srv->agent_ev = event_new(srv->base, agent_fd(),
		    EV_READ | EV_PERSIST, worker_agent_cb, srv);
		if (srv->agent_ev == NULL || event_add(srv->agent_ev, NULL) != 0)
			fatalx("cannot watch the agent's socket");
		return;
	}
	srv->master_ev = event_new(srv->base, master_fd, EV_READ | EV_PERSIST,
	    worker_master_cb, srv);
	if (srv->master_ev == NULL || event_add(srv->master_ev, NULL) != 0)
		fatalx("cannot watch the master");
	/* The pipe tells now: a master's death drains us. */
	daemon_die_with_parent(0);
	if (write(master_fd, "R", 1) != 1)
		fatal("cannot tell the master we are ready");
}

/*
 * Serve the listeners until shut down; return the exit status.  A prefork
 * worker gets master_fd, its end of a socketpair with the master: it
 * writes one byte there once it accepts, and end of file there means the
 * master has died.  A single process (master_fd -1) may get hooks, which
 * it calls once it accepts, at SIGTERM and before it frees its loop.
 */
int
worker_run(const struct settings *s, struct listener *listeners, int n,
    struct stats_slot *stats, int master_fd, const struct worker_hooks *hooks)
{
	struct event	*sigev[WORKER_NSIGS];
	struct server	 srv;
	struct conn	*c;
	size_t		 i;

	stats->pid = getpid();
	worker_tune_malloc(s);
	event_set_log_callback(log_libevent_cb);
	server_init(&srv, loop_new(0), s, stats);
	srv.listeners = listeners;
	srv.nlisteners = n;
	srv.hooks = hooks;
	log_debug("event backend: %s", event_base_get_method(srv.base));
	worker_watch_signals(&srv, sigev);
	if (s->user != NULL)
		daemon_drop_privileges(s->user);
	module_worker_init(&srv);
	listener_enable_all(&srv);
	stats_process_start(srv.base, stats, s);
	worker_watch_peers(&srv, master_fd);

	/* The loop fails only when its backend does (out of memory). */
	if (event_base_dispatch(srv.base) == -1)
		fatalx("the event loop failed (%s)",
		    event_base_get_method(srv.base));

	while ((c = TAILQ_FIRST(&srv.conns)) != NULL)
		conn_close(c, "server exiting");
	module_worker_exit();
	listener_close_all(&srv);
	for (i = 0; i < WORKER_NSIGS; i++)
		event_free(sigev[i]);
	server_free(&srv);
	metrics_stop();
	stats_process_stop();
	if (hooks != NULL)
		hooks->exiting(hooks->arg);
	event_base_free(srv.base);
	log_info("exiting");
	return (0);
}
