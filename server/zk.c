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
 * --register: rpcd as a member of a Finagle/Aurora serverset in
 * ZooKeeper.  One session, in the prefork master or the single process,
 * holds one ephemeral sequential znode PATH/member_NNNNNNNNNN whose data
 * is the serverset member JSON: the first framed TCP listener as
 * serviceEndpoint, the others and the metrics port as
 * additionalEndpoints, status ALIVE, shard 0, and rpcd's own version and
 * weight (its workers) under "rpcd", which serverset readers ignore.
 *
 * The member follows readiness: zk_start() is called once the workers
 * accept, and only then is the session opened and the member created
 * (PATH's parents too, if missing).  SIGTERM deletes it first
 * (zk_leave()), and the shutdown goes on once ZooKeeper confirms, or
 * after RPCD_ZK_LEAVE_TIMEOUT seconds; closing the session at exit would
 * delete it too, but only after the drain.  A lost connection keeps the
 * member while the session lives; an expired session loses it, and a new
 * session creates it again.  ZooKeeper out of reach never stops serving:
 * the client library keeps trying the hosts, the log says so at growing
 * intervals, and rpcd_registry_up in /metrics is 0 until the member is
 * there.
 *
 * The C client (libzookeeper_mt) runs its own I/O and completion threads
 * and calls back on them.  Those callbacks touch nothing of rpcd: each
 * writes one fixed-size message to a pipe (atomically, being shorter
 * than PIPE_BUF), which the master's poll loop, or a single process's
 * event loop, reads with zk_news().  The threads start with every
 * signal blocked, so that signals reach the main thread only, and the
 * library logs only with -v (--log-level debug), through the pipe too.
 *
 * Layer: process (server/rpcd.h).  Called by master.c and rpcd.c; calls
 * only the layers below (metrics.c for its address, stats.c for the
 * gauge, config.c to read --register).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#ifdef HAVE_ZOOKEEPER
#include <zookeeper/zookeeper.h>
#endif

#include "rpcd.h"

#ifdef HAVE_ZOOKEEPER

#define ZK_PREFIX	"/member_"	/* as Finagle and Aurora name them */
#define ZK_TEXT_MAX	512		/* bytes of a message's text */

/* News from the library's threads, one write(2) each. */
enum zk_kind {
	ZK_SESSION,		/* rc: the session's new ZOO_*_STATE */
	ZK_CREATED,		/* rc: of the member's create; text: its path */
	ZK_PARENT,		/* rc: of a parent's create */
	ZK_DELETED,		/* rc: of the member's delete */
	ZK_LOG			/* text: a line of the library's log */
};

struct zk_msg {
	int	kind;		/* enum zk_kind */
	int	rc;
	long	session;	/* zk->session it is of; 0: any */
	char	text[ZK_TEXT_MAX];
};

/* The session and the member: the main thread's alone. */
struct zk {
	char			 hosts[ZK_URL_MAX];
	char			 path[ZK_URL_MAX];	/* the serverset */
	char			*data;		/* the member's JSON */
	zhandle_t		*zh;		/* NULL: no session */
	long			 session;	/* of zh, counted from 1 */
	int			 started;	/* zk_start() was called */
	int			 connected;
	int			 creating;	/* the member's create is sent */
	int			 parents_made;	/* for this create */
	int			 doubtful;	/* a create's answer was lost */
	char			 node[ZK_URL_MAX + 32]; /* ours; "" */
	int			 deleting;
	int			 leaving;	/* zk_leave() was called */
	void			(*left)(void *); /* NULL once called */
	void			*left_arg;
	double			 leave_by;
	double			 attempt_end;	/* give a new session up then */
	double			 retry_at;	/* connect or create then; 0 */
	int			 retry_delay;	/* seconds, doubling */
	double			 warn_at;	/* "still unreachable" then */
	int			 warn_delay;	/* seconds, doubling */
	int			 timeout;	/* ms: the session's, as granted */
	double			 down_since;	/* the connection was lost */
	struct event		*news_ev;	/* a single process's loop */
	struct event		*timer_ev;
};

/* The pipe's write end, for the library's threads. */
static int	zk_pipe[2] = { -1, -1 };

/*
 * On a thread of the library: send news to the main thread.  If the pipe
 * is full, the main thread is that far behind; the news is dropped
 * rather than a thread of the library blocked, which zookeeper_close()
 * would then wait for.
 */
static void
zk_send(int kind, int rc, long session, const char *text)
{
	struct zk_msg	msg;
	ssize_t		n;

	memset(&msg, 0, sizeof msg);
	msg.kind = kind;
	msg.rc = rc;
	msg.session = session;
	if (text != NULL)
		snprintf(msg.text, sizeof msg.text, "%s", text);
	n = write(zk_pipe[1], &msg, sizeof msg);
	(void)n;
}

/* On the library's threads: a session event. */
static void
zk_watcher_cb(zhandle_t *zh, int type, int state, const char *path,
    void *ctx)
{
	if (type == ZOO_SESSION_EVENT)
		zk_send(ZK_SESSION, state, (long)(intptr_t)ctx, NULL);
}

static void
zk_created_cb(int rc, const char *value, const void *data)
{
	zk_send(ZK_CREATED, rc, (long)(intptr_t)data, value);
}

static void
zk_parent_cb(int rc, const char *value, const void *data)
{
	zk_send(ZK_PARENT, rc, (long)(intptr_t)data, NULL);
}

static void
zk_deleted_cb(int rc, const void *data)
{
	zk_send(ZK_DELETED, rc, (long)(intptr_t)data, NULL);
}

static void
zk_log_cb(const char *line)
{
	zk_send(ZK_LOG, 0, 0, line);
}

/* Publish whether the member is in ZooKeeper now. */
static void
zk_gauge(struct zk *zk)
{
	stats_registry_set(zk->connected && zk->node[0] != '\0');
}

/*
 * An endpoint {"host": H, "port": P} for a bound address, named key in
 * o: H is --advertise, else the address, or this host's name for a
 * wildcard one, which is no address a client can use.
 */
static int
zk_endpoint(const struct settings *s, struct json_object *o,
    const char *key, const struct addr *a)
{
	struct json_object	*e;
	char			 host[NI_MAXHOST], port[NI_MAXSERV];
	int			 wildcard = 0, failed;

	if (getnameinfo((const struct sockaddr *)&a->ss, a->len, host,
	    sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV)
	    != 0)
		return (-1);
	if (a->ss.ss_family == AF_INET)
		wildcard = ((const struct sockaddr_in *)&a->ss)->
		    sin_addr.s_addr == htonl(INADDR_ANY);
	else if (a->ss.ss_family == AF_INET6)
		wildcard = IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	if (s->advertise != NULL)
		snprintf(host, sizeof host, "%s", s->advertise);
	else if (wildcard && gethostname(host, sizeof host) != 0)
		return (-1);
	host[sizeof host - 1] = '\0';
	if ((e = json_object_new_object()) == NULL)
		return (-1);
	failed = json_add(e, "host", json_object_new_string(host));
	failed |= json_add(e, "port", json_object_new_int(atoi(port)));
	/* Not json_add(): key may be a name made here, which is copied. */
	if (json_object_object_add(o, key, e) != 0) {
		json_object_put(e);
		failed = 1;
	}
	return (failed ? -1 : 0);
}

/*
 * The name of listener l among the additional endpoints: its ,name=, or
 * its kind (tcp, tls, http, https), with -2, -3... after a name taken.
 */
static void
zk_endpoint_name(struct json_object *extra, const struct listener *l,
    char *name, size_t len)
{
	const char	*kind;
	int		 i;

	if (l->name[0] != '\0')
		kind = l->name;
	else if (l->flags & LISTEN_HTTP)
		kind = l->transport->tls ? "https" : "http";
	else
		kind = l->transport->tls ? "tls" : "tcp";
	snprintf(name, len, "%s", kind);
	for (i = 2; json_object_object_get_ex(extra, name, NULL); i++)
		snprintf(name, len, "%s-%d", kind, i);
}

/* The member's JSON, or NULL if memory ran out. */
static char *
zk_member(const struct settings *s, const struct listener *listeners,
    int n)
{
	struct json_object	*o, *extra, *own;
	const struct listener	*main_l = NULL;
	const struct addr	*metrics;
	char			 name[RPCD_LISTEN_NAME_MAX + 16], *data;
	int			 i, failed = 0;

	/* The first framed TCP listener, else the first TCP one. */
	for (i = 0; i < n && main_l == NULL; i++) {
		if (!listeners[i].is_unix && !(listeners[i].flags & LISTEN_HTTP))
			main_l = &listeners[i];
	}
	for (i = 0; i < n && main_l == NULL; i++) {
		if (!listeners[i].is_unix)
			main_l = &listeners[i];
	}
	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	if (main_l != NULL)
		failed |= zk_endpoint(s, o, "serviceEndpoint", &main_l->addr);
	if ((extra = json_object_new_object()) == NULL) {
		json_object_put(o);
		return (NULL);
	}
	failed |= json_add(o, "additionalEndpoints", extra);
	/* A Unix socket is no endpoint for another host: left out. */
	for (i = 0; i < n && !failed; i++) {
		if (&listeners[i] == main_l || listeners[i].is_unix)
			continue;
		zk_endpoint_name(extra, &listeners[i], name, sizeof name);
		failed |= zk_endpoint(s, extra, name, &listeners[i].addr);
	}
	if ((metrics = metrics_address()) != NULL && !failed)
		failed |= zk_endpoint(s, extra, "metrics", metrics);
	failed |= json_add(o, "status", json_object_new_string("ALIVE"));
	failed |= json_add(o, "shard", json_object_new_int(0));
	if ((own = json_object_new_object()) == NULL) {
		json_object_put(o);
		return (NULL);
	}
	failed |= json_add(o, "rpcd", own);
	failed |= json_add(own, "version", json_object_new_string(VERSION));
	failed |= json_add(own, "weight",
	    json_object_new_int(s->prefork > 0 ? s->prefork : 1));
	data = failed ? NULL : xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return (data);
}

/*
 * Ready what --register asks for: the member's JSON from the bound
 * listeners and metrics port.  Nothing is sent before zk_start().
 */
struct zk *
zk_new(const struct settings *s, const struct listener *listeners, int n)
{
	struct zk	*zk;
	const char	*why;
	int		 i;

	zk = xcalloc(1, sizeof *zk);
	if ((why = zk_url_split(s->register_url, zk->hosts,
	    sizeof zk->hosts, zk->path, sizeof zk->path)) != NULL)
		fatalx("register %s: %s", s->register_url, why);
	if ((zk->data = zk_member(s, listeners, n)) == NULL)
		fatalx("register: cannot make the member's JSON");
	if (pipe(zk_pipe) != 0)
		fatal("pipe");
	for (i = 0; i < 2; i++) {
		fcntl(zk_pipe[i], F_SETFL, O_NONBLOCK);
		fcntl(zk_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	zk->retry_delay = RPCD_ZK_RETRY;
	return (zk);
}

/* Try again in a while, twice as long as the last time. */
static void
zk_retry(struct zk *zk)
{
	zk->retry_at = time_monotonic() + zk->retry_delay;
	zk->retry_delay *= 2;
	if (zk->retry_delay > RPCD_ZK_RETRY_MAX)
		zk->retry_delay = RPCD_ZK_RETRY_MAX;
}

/*
 * Open a session.  zookeeper_init() only resolves the hosts and starts
 * the threads: the connection is theirs to make, and they try the hosts
 * in turn, a few times a second, until one answers.  If none has in
 * RPCD_ZK_ATTEMPT seconds, zk_tick() closes the handle and tries again
 * after a pause that doubles each time.
 */
static void
zk_connect(struct zk *zk)
{
	sigset_t	all, old;

	zk->session++;
	zoo_set_debug_level(log_enabled(LOG_DEBUG) ? ZOO_LOG_LEVEL_WARN : 0);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	zk->zh = zookeeper_init2(zk->hosts, zk_watcher_cb,
	    RPCD_ZK_SESSION_TIMEOUT, NULL, (void *)(intptr_t)zk->session, 0,
	    zk_log_cb);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (zk->zh == NULL) {
		log_warn("register: ZooKeeper client for %s; trying again in "
		    "%ds", zk->hosts, zk->retry_delay);
		zk_retry(zk);
		return;
	}
	zk->attempt_end = time_monotonic() + RPCD_ZK_ATTEMPT;
	log_info("register: connecting to ZooKeeper at %s", zk->hosts);
}

/* End the session, which deletes its ephemeral member, if any. */
static void
zk_disconnect(struct zk *zk)
{
	if (zk->zh != NULL)
		zookeeper_close(zk->zh);
	zk->zh = NULL;
	zk->connected = 0;
	zk->down_since = 0;
	zk->warn_at = 0;
	zk->creating = 0;
	zk->deleting = 0;
	zk->node[0] = '\0';
	zk_gauge(zk);
}

/* Create the member, as PATH/member_ and a sequence number. */
static void
zk_create(struct zk *zk)
{
	char	prefix[sizeof zk->path + sizeof ZK_PREFIX];
	int	rc;

	snprintf(prefix, sizeof prefix, "%s%s", zk->path, ZK_PREFIX);
	rc = zoo_acreate(zk->zh, prefix, zk->data, strlen(zk->data),
	    &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, zk_created_cb,
	    (void *)(intptr_t)zk->session);
	if (rc != ZOK) {
		log_warnx("register: cannot create %s: %s; trying again in "
		    "%ds", prefix, zerror(rc), zk->retry_delay);
		zk_retry(zk);
		return;
	}
	zk->creating = 1;
}

/*
 * Create PATH's missing parts, then the member again.  ZooKeeper answers
 * a session's requests in order, so they need not wait for each other.
 */
static void
zk_create_parents(struct zk *zk)
{
	char	part[sizeof zk->path];
	char	*slash;

	zk->parents_made = 1;
	snprintf(part, sizeof part, "%s", zk->path);
	for (slash = strchr(part + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash != NULL)
			*slash = '\0';
		if (zoo_acreate(zk->zh, part, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0,
		    zk_parent_cb, (void *)(intptr_t)zk->session) != ZOK)
			break;
		if (slash == NULL)
			break;
		*slash = '/';
	}
	zk_create(zk);
}

/* Delete the member, if there is one and the session is up. */
static void
zk_delete(struct zk *zk)
{
	int	rc;

	if (zk->node[0] == '\0' || !zk->connected || zk->deleting)
		return;
	rc = zoo_adelete(zk->zh, zk->node, -1, zk_deleted_cb,
	    (void *)(intptr_t)zk->session);
	if (rc != ZOK)
		log_warnx("register: cannot delete %s: %s", zk->node,
		    zerror(rc));
	else
		zk->deleting = 1;
}

/* The member is gone, or will not be before the shutdown: go on. */
static void
zk_done_leaving(struct zk *zk)
{
	void	(*left)(void *) = zk->left;

	zk->left = NULL;
	if (left != NULL)
		left(zk->left_arg);
}

/* Is there a member to create now? */
static int
zk_wants_member(const struct zk *zk)
{
	return (zk->started && !zk->leaving && zk->connected &&
	    zk->node[0] == '\0' && !zk->creating && zk->retry_at == 0);
}

/* The session changed state. */
static void
zk_session(struct zk *zk, int state)
{
	if (state == ZOO_CONNECTED_STATE && zk->doubtful && !zk->leaving) {
		/*
		 * The create may have made a member whose name never came:
		 * closing the session deletes it, and a new session makes
		 * one member again, not a second one.
		 */
		log_info("register: the member's create was cut off: "
		    "registering in a new session");
		zk->doubtful = 0;
		zk_disconnect(zk);
		zk_connect(zk);
	} else if (state == ZOO_CONNECTED_STATE) {
		zk->connected = 1;
		zk->attempt_end = 0;
		zk->down_since = 0;
		zk->warn_at = 0;
		zk->retry_delay = RPCD_ZK_RETRY;
		log_info("register: connected to ZooKeeper, session 0x%llx, "
		    "timeout %dms", (unsigned long long)
		    zoo_client_id(zk->zh)->client_id,
		    zoo_recv_timeout(zk->zh));
		if (zk_wants_member(zk))
			zk_create(zk);
		if (zk->leaving)
			zk_delete(zk);
	} else if (state == ZOO_EXPIRED_SESSION_STATE ||
	    state == ZOO_AUTH_FAILED_STATE) {
		log_warnx("register: ZooKeeper session %s%s",
		    state == ZOO_AUTH_FAILED_STATE ? "refused" : "expired",
		    zk->node[0] != '\0' ? ": the member is gone" : "");
		zk_disconnect(zk);
		if (zk->leaving)
			zk_done_leaving(zk);
		else if (state == ZOO_AUTH_FAILED_STATE)
			zk_retry(zk);
		else
			zk_connect(zk);
	} else if (zk->connected) {
		zk->connected = 0;
		zk->timeout = zoo_recv_timeout(zk->zh);
		zk->down_since = time_monotonic();
		zk->warn_delay = RPCD_ZK_RETRY;
		zk->warn_at = zk->down_since + zk->warn_delay;
		log_warnx("register: lost ZooKeeper; reconnecting (the member "
		    "stays while the session lives)");
	}
	zk_gauge(zk);
}

/* The member's create was answered. */
static void
zk_created(struct zk *zk, int rc, const char *path)
{
	zk->creating = 0;
	if (rc == ZOK) {
		snprintf(zk->node, sizeof zk->node, "%s", path);
		zk->retry_delay = RPCD_ZK_RETRY;
		zk->parents_made = 0;
		log_info("register: member %s created", zk->node);
		if (zk->leaving)
			zk_delete(zk);
	} else if (rc == ZNONODE && !zk->parents_made && !zk->leaving)
		zk_create_parents(zk);
	else if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT) {
		log_warnx("register: creating the member: %s", zerror(rc));
		zk->doubtful = 1;
	} else if (!zk->leaving) {
		log_warnx("register: cannot create the member under %s: %s; "
		    "trying again in %ds", zk->path, zerror(rc),
		    zk->retry_delay);
		zk->parents_made = 0;
		zk_retry(zk);
	}
	if (zk->leaving && !zk->deleting)
		zk_done_leaving(zk);
	zk_gauge(zk);
}

/* The member's delete was answered. */
static void
zk_deleted(struct zk *zk, int rc)
{
	zk->deleting = 0;
	if (rc == ZOK || rc == ZNONODE)
		log_info("register: member %s deleted", zk->node);
	else
		log_warnx("register: cannot delete %s: %s; the session's end "
		    "deletes it", zk->node, zerror(rc));
	if (rc == ZOK || rc == ZNONODE)
		zk->node[0] = '\0';
	zk_gauge(zk);
	zk_done_leaving(zk);
}

/* Act on one message of the library's threads. */
static void
zk_handle(struct zk *zk, const struct zk_msg *msg)
{
	if (msg->kind == ZK_LOG) {
		log_debug("zookeeper: %s", msg->text);
		return;
	}
	/* News of a session closed since. */
	if (msg->session != zk->session || zk->zh == NULL)
		return;
	switch (msg->kind) {
	case ZK_SESSION:
		zk_session(zk, msg->rc);
		break;
	case ZK_CREATED:
		zk_created(zk, msg->rc, msg->text);
		break;
	case ZK_PARENT:
		if (msg->rc != ZOK && msg->rc != ZNODEEXISTS)
			log_warnx("register: cannot create the parents of %s: "
			    "%s", zk->path, zerror(msg->rc));
		break;
	case ZK_DELETED:
		zk_deleted(zk, msg->rc);
		break;
	}
}

/* The timer of a single process's loop, for zk_next(). */
static void
zk_arm(struct zk *zk)
{
	struct timeval	tv;
	double		next, now;

	if (zk->timer_ev == NULL)
		return;
	evtimer_del(zk->timer_ev);
	if ((next = zk_next(zk)) == 0)
		return;
	now = time_monotonic();
	next = next > now ? next - now : 0;
	tv.tv_sec = (time_t)next;
	tv.tv_usec = (suseconds_t)((next - tv.tv_sec) * 1e6) + 1;
	evtimer_add(zk->timer_ev, &tv);
}

/* The pipe is readable: act on each message in it. */
void
zk_news(struct zk *zk)
{
	struct zk_msg	msg;

	while (read(zk_pipe[0], &msg, sizeof msg) == (ssize_t)sizeof msg) {
		msg.text[sizeof msg.text - 1] = '\0';
		zk_handle(zk, &msg);
	}
	zk_arm(zk);
}

static void
zk_news_cb(evutil_socket_t fd, short events, void *arg)
{
	zk_news(arg);
}

static void
zk_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct zk	*zk = arg;

	zk_tick(zk, time_monotonic());
	zk_arm(zk);
}

/*
 * The workers serve: open the session, and create the member once it is
 * up.  A single process passes its loop, which then reads the news; the
 * master passes NULL and polls zk_fd() itself.
 */
void
zk_start(struct zk *zk, struct event_base *base)
{
	if (zk->started)
		return;
	zk->started = 1;
	if (base != NULL) {
		zk->news_ev = event_new(base, zk_pipe[0], EV_READ | EV_PERSIST,
		    zk_news_cb, zk);
		zk->timer_ev = evtimer_new(base, zk_timer_cb, zk);
		if (zk->news_ev == NULL || zk->timer_ev == NULL ||
		    event_add(zk->news_ev, NULL) != 0)
			fatalx("register: cannot watch ZooKeeper's news");
	}
	zk_connect(zk);
	zk_arm(zk);
}

/* What the master polls for news. */
int
zk_fd(const struct zk *zk)
{
	return (zk_pipe[0]);
}

/* When zk_tick() has something to do (time_monotonic()); 0: never. */
double
zk_next(const struct zk *zk)
{
	double	next = 0;

	if (zk->leaving && zk->left != NULL)
		next = zk->leave_by;
	if (zk->retry_at != 0 && (next == 0 || zk->retry_at < next))
		next = zk->retry_at;
	if (zk->attempt_end != 0 && (next == 0 || zk->attempt_end < next))
		next = zk->attempt_end;
	if (zk->warn_at != 0 && (next == 0 || zk->warn_at < next))
		next = zk->warn_at;
	if (zk->zh != NULL && !zk->connected && zk->down_since != 0 &&
	    (next == 0 || zk->down_since + (double)zk->timeout / 1000 < next))
		next = zk->down_since + (double)zk->timeout / 1000;
	return (next);
}

/*
 * Timers: give up waiting for the member's deletion; give a new session
 * up that no host answered; connect or create again after a pause; say
 * again, less and less often, that a session's connection is lost.
 */
void
zk_tick(struct zk *zk, double now)
{
	if (zk->attempt_end != 0 && now >= zk->attempt_end) {
		log_warnx("register: no answer from ZooKeeper at %s in %ds; "
		    "serving unregistered, trying again in %ds", zk->hosts,
		    RPCD_ZK_ATTEMPT, zk->retry_delay);
		zk->attempt_end = 0;
		zk_disconnect(zk);
		zk_retry(zk);
	}
	if (zk->leaving && zk->left != NULL && now >= zk->leave_by) {
		log_warnx("register: ZooKeeper did not confirm the member's "
		    "deletion in %ds; going on (the session's end deletes "
		    "it)", RPCD_ZK_LEAVE_TIMEOUT);
		zk_done_leaving(zk);
	}
	if (zk->retry_at != 0 && now >= zk->retry_at && !zk->leaving) {
		zk->retry_at = 0;
		if (zk->zh == NULL)
			zk_connect(zk);
		else if (zk_wants_member(zk))
			zk_create(zk);
	}
	/*
	 * Out of touch for the session's timeout, the session is gone, or
	 * unusable (ZooKeeper refuses a client that has seen data newer
	 * than its own, after it lost its own): a new one.
	 */
	if (zk->zh != NULL && !zk->connected && zk->down_since != 0 &&
	    now >= zk->down_since + (double)zk->timeout / 1000 &&
	    !zk->leaving) {
		log_warnx("register: no connection to ZooKeeper for the "
		    "session's timeout (%dms): registering in a new session",
		    zk->timeout);
		zk_disconnect(zk);
		zk_connect(zk);
	}
	if (zk->warn_at != 0 && now >= zk->warn_at) {
		log_warnx("register: ZooKeeper at %s out of reach for %.0fs; "
		    "trying on while the session lives", zk->hosts,
		    now - zk->down_since);
		zk->warn_delay *= 2;
		if (zk->warn_delay > RPCD_ZK_RETRY_MAX)
			zk->warn_delay = RPCD_ZK_RETRY_MAX;
		zk->warn_at = now + zk->warn_delay;
	}
}

/*
 * SIGTERM: delete the member first, and call left(arg) once ZooKeeper
 * confirms, or at once if there is none, or after RPCD_ZK_LEAVE_TIMEOUT
 * seconds.
 */
void
zk_leave(struct zk *zk, void (*left)(void *), void *arg)
{
	if (zk->leaving)
		return;
	zk->leaving = 1;
	zk->left = left;
	zk->left_arg = arg;
	zk->leave_by = time_monotonic() + RPCD_ZK_LEAVE_TIMEOUT;
	zk->retry_at = 0;
	zk->attempt_end = 0;
	zk->warn_at = 0;
	if (zk->node[0] != '\0' && zk->connected)
		zk_delete(zk);
	else if (!zk->creating && (zk->node[0] == '\0' || zk->zh == NULL))
		zk_done_leaving(zk);
	zk_arm(zk);
}

/* End the session and free zk. */
void
zk_free(struct zk *zk)
{
	if (zk == NULL)
		return;
	zk_disconnect(zk);
	if (zk->news_ev != NULL)
		event_free(zk->news_ev);
	if (zk->timer_ev != NULL)
		event_free(zk->timer_ev);
	close(zk_pipe[0]);
	close(zk_pipe[1]);
	zk_pipe[0] = zk_pipe[1] = -1;
	free(zk->data);
	free(zk);
}

#else /* !HAVE_ZOOKEEPER: config.c refuses --register, so no zk is made. */

struct zk *
zk_new(const struct settings *s, const struct listener *listeners, int n)
{
	fatalx("register: rpcd was built without ZooKeeper");
}

void
zk_start(struct zk *zk, struct event_base *base)
{
}

int
zk_fd(const struct zk *zk)
{
	return (-1);
}

void
zk_news(struct zk *zk)
{
}

double
zk_next(const struct zk *zk)
{
	return (0);
}

void
zk_tick(struct zk *zk, double now)
{
}

void
zk_leave(struct zk *zk, void (*left)(void *), void *arg)
{
	left(arg);
}

void
zk_free(struct zk *zk)
{
}

#endif /* HAVE_ZOOKEEPER */
