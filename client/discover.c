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
 * -S zk://HOSTS/PATH and the members command: the servers are the
 * members of a Finagle/Aurora serverset in ZooKeeper, as rpcd --register
 * makes them.  Each member is a child znode of PATH holding JSON whose
 * serviceEndpoint, or with --tls its additionalEndpoints' "tls", is the
 * address to connect to; members whose status is not ALIVE are left out.
 *
 * How a server is chosen: the members, in the order of their znodes'
 * names (so of their sequence numbers), are turned by an origin drawn at
 * random once per run, and that becomes the -S list, tried in order from
 * its first.  So separate runs spread over the members, and one run keeps
 * to the same member while the serverset stays as it is.  bench starts
 * its connection i at the list's i-th member, spreading them over all.
 *
 * One ZooKeeper session is kept for the run; reading PATH's children
 * leaves a watch on them.  The watch, and any change of the session, only
 * set a flag from the library's thread: before connecting again (a
 * command's next connection, bench --retry or batch --retry after a
 * close), options_refresh() reads the members anew if the flag is set.
 * A read that fails there keeps the list it had.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#ifdef HAVE_ZOOKEEPER
#define THREADED		/* libzookeeper_mt: its synchronous calls */
#include <zookeeper/zookeeper.h>
#endif

#include "rpcctl.h"

#define MEMBERS_MAX	4096		/* children of PATH read */
#define MEMBER_DATA_MAX	65536		/* bytes of a member's JSON */

#ifdef HAVE_ZOOKEEPER

#define DISCOVER_SESSION_MS	10000	/* the session timeout asked for */

static zhandle_t	*discover_zh;
static pthread_mutex_t	 discover_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 discover_cond = PTHREAD_COND_INITIALIZER;
static int		 discover_state;	/* ZOO_*_STATE; lock held */
static int		 discover_stale = 1;	/* lock held */

/* On a thread of the library: the session changed, or PATH's children. */
static void
discover_watcher(zhandle_t *zh, int type, int state, const char *path,
    void *arg)
{
	(void)zh;
	(void)path;
	(void)arg;
	pthread_mutex_lock(&discover_lock);
	if (type == ZOO_SESSION_EVENT)
		discover_state = state;
	discover_stale = 1;
	pthread_cond_broadcast(&discover_cond);
	pthread_mutex_unlock(&discover_lock);
}

/* Read the members again next time: no watch is left to say so. */
static void
discover_mark_stale(void)
{
	pthread_mutex_lock(&discover_lock);
	discover_stale = 1;
	pthread_mutex_unlock(&discover_lock);
}

static void
discover_close(void)
{
	if (discover_zh != NULL)
		zookeeper_close(discover_zh);
	discover_zh = NULL;
}

/*
 * A session with ZooKeeper at hosts, opened within timeout seconds unless
 * the one kept is still connected: 0, or -1 with why in err.
 */
static int
discover_session(const char *hosts, double timeout, char *err, size_t len)
{
	struct timespec	ts;
	double		deadline;
	int		state;
	static int	closes_at_exit;

	pthread_mutex_lock(&discover_lock);
	state = discover_state;
	pthread_mutex_unlock(&discover_lock);
	if (discover_zh != NULL && state == ZOO_CONNECTED_STATE)
		return (0);
	discover_close();
	/* Ended at exit, not left to expire on ZooKeeper. */
	if (!closes_at_exit++)
		atexit(discover_close);
	/* The library logs to standard error: errors are rpcctl's to say. */
	zoo_set_debug_level(0);
	pthread_mutex_lock(&discover_lock);
	discover_state = 0;
	pthread_mutex_unlock(&discover_lock);
	if ((discover_zh = zookeeper_init(hosts, discover_watcher,
	    DISCOVER_SESSION_MS, NULL, NULL, 0)) == NULL) {
		snprintf(err, len, "%s", strerror(errno));
		return (-1);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	deadline = ts.tv_sec + ts.tv_nsec / 1e9 + timeout;
	ts.tv_sec = deadline;
	ts.tv_nsec = (deadline - ts.tv_sec) * 1e9;
	pthread_mutex_lock(&discover_lock);
	while (discover_state != ZOO_CONNECTED_STATE &&
	    discover_state != ZOO_EXPIRED_SESSION_STATE &&
	    discover_state != ZOO_AUTH_FAILED_STATE &&
	    pthread_cond_timedwait(&discover_cond, &discover_lock, &ts) == 0)
		;
	state = discover_state;
	pthread_mutex_unlock(&discover_lock);
	if (state == ZOO_CONNECTED_STATE)
		return (0);
	discover_close();
	snprintf(err, len, "no answer from ZooKeeper within %gs", timeout);
	return (-1);
}

/* A member's data as a JSON object, or NULL if it is none. */
static struct json_object *
member_parse(const char *buf, int len)
{
	struct json_tokener	*tok;
	struct json_object	*o = NULL;

	if (len <= 0 || (tok = json_tokener_new()) == NULL)
		return (NULL);
	o = json_tokener_parse_ex(tok, buf, len);
	if (o != NULL && (json_tokener_get_parse_end(tok) != (size_t)len ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return (o);
}

static int
member_compare(const void *a, const void *b)
{
	return (strcmp(((const struct member *)a)->name,
	    ((const struct member *)b)->name));
}

/*
 * Read the members of the serverset at url, sorted by name, leaving a
 * watch on them: their count, or -1 with why in err.
 */
int
discover_members(const char *url, double timeout, struct member **members,
    char *err, size_t len)
{
	struct String_vector	 children = { 0, NULL };
	struct member		*m;
	char			 hosts[ZK_URL_MAX], path[ZK_URL_MAX];
	char			 child[ZK_URL_MAX + 256], *buf;
	int			 i, n = 0, rc, got;

	*members = NULL;
	if (zk_url_split(url, hosts, sizeof hosts, path, sizeof path) != NULL)
		fatalx("%s: not a serverset", url);
	if (discover_session(hosts, timeout, err, len) == -1)
		return (-1);
	pthread_mutex_lock(&discover_lock);
	discover_stale = 0;
	pthread_mutex_unlock(&discover_lock);
	rc = zoo_get_children(discover_zh, path, 1, &children);
	if (rc != ZOK)
		discover_mark_stale();
	if (rc == ZNONODE)
		return (0);
	if (rc != ZOK) {
		snprintf(err, len, "%s", zerror(rc));
		return (-1);
	}
	m = *members = xcalloc(children.count < MEMBERS_MAX ?
	    children.count + 1 : MEMBERS_MAX, sizeof *m);
	buf = xmalloc(MEMBER_DATA_MAX);
	for (i = 0; i < children.count && n < MEMBERS_MAX; i++) {
		snprintf(child, sizeof child, "%s/%s", path,
		    children.data[i]);
		got = MEMBER_DATA_MAX;
		/* A member gone since the list was read is left out. */
		if ((rc = zoo_get(discover_zh, child, 0, buf, &got,
		    NULL)) == ZNONODE)
			continue;
		if (rc != ZOK) {
			snprintf(err, len, "%s: %s", children.data[i],
			    zerror(rc));
			discover_mark_stale();
			discover_free(*members, n);
			*members = NULL;
			n = -1;
			break;
		}
		snprintf(m[n].name, sizeof m[n].name, "%s", children.data[i]);
		m[n++].data = member_parse(buf, got);
	}
	free(buf);
	deallocate_String_vector(&children);
	if (n > 0)
		qsort(*members, n, sizeof **members, member_compare);
	return (n);
}

int
discover_changed(void)
{
	int	stale;

	pthread_mutex_lock(&discover_lock);
	stale = discover_stale;
	pthread_mutex_unlock(&discover_lock);
	return (stale);
}

#else /* !HAVE_ZOOKEEPER */

int
discover_members(const char *url, double timeout, struct member **members,
    char *err, size_t len)
{
	(void)url;
	(void)timeout;
	*members = NULL;
	snprintf(err, len, "rpcctl was built without ZooKeeper");
	return (-1);
}

int
discover_changed(void)
{
	return (1);
}

#endif /* HAVE_ZOOKEEPER */

void
discover_free(struct member *m, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		json_object_put(m[i].data);
	free(m);
}

/* Member key of o if it is of type, else NULL. */
struct json_object *
member_get(struct json_object *o, const char *key, int type)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return (NULL);
	return (v);
}

/*
 * The address of a member's endpoint (NULL: its serviceEndpoint, else the
 * additionalEndpoints' of that name) as rpcctl's -S takes it, HOST:PORT
 * or [HOST]:PORT for IPv6, and its host alone: 0, or -1 if it has none.
 * A host of other characters than a name's or an address's is none: the
 * registry's data is not trusted to be an address.
 */
int
member_endpoint(const struct member *m, const char *name, char *text,
    size_t len, char *host, size_t hlen)
{
	struct json_object	*e, *h, *p;
	const char		*s;
	int			 port;

	e = name == NULL ? member_get(m->data, "serviceEndpoint",
	    json_type_object) : member_get(member_get(m->data,
	    "additionalEndpoints", json_type_object), name, json_type_object);
	if ((h = member_get(e, "host", json_type_string)) == NULL ||
	    (p = member_get(e, "port", json_type_int)) == NULL)
		return (-1);
	s = json_object_get_string(h);
	port = json_object_get_int(p);
	if (*s == '\0' || strlen(s) >= hlen || port < 1 || port > 65535 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:") != strlen(s))
		return (-1);
	snprintf(host, hlen, "%s", s);
	snprintf(text, len, strchr(s, ':') != NULL ? "[%s]:%d" : "%s:%d", s,
	    port);
	return (0);
}

/* A member's status, or NULL if it gives none. */
const char *
member_status(const struct member *m)
{
	struct json_object	*status;

	status = member_get(m->data, "status", json_type_string);
	return (status != NULL ? json_object_get_string(status) : NULL);
}

static int
member_alive(const struct member *m)
{
	const char	*status = member_status(m);

	return (status != NULL && strcmp(status, "ALIVE") == 0);
}

/* Where rpcctl connects to a member: its TLS endpoint with --tls. */
static int
member_address(int tls, const struct member *m, char *text, size_t len)
{
	char	host[256];

	if (!member_alive(m))
		return (-1);
	if (tls && member_endpoint(m, "tls", text, len, host,
	    sizeof host) == 0)
		return (0);
	return (member_endpoint(m, NULL, text, len, host, sizeof host));
}

/*
 * The addresses to connect to in the serverset at url, as a -S list (at
 * most RPCCTL_SERVERS_MAX of them, turned by the run's origin) in list: 0,
 * or -1 with why in err.
 */
int
discover_list(const char *url, int tls, double timeout, char *list,
    size_t size, char *err, size_t len)
{
	static unsigned int	 origin;
	static int		 drawn;
	struct member		*m;
	char			 why[512], (*text)[ADDR_TEXT_MAX];
	int			 n, i, k = 0;
	size_t			 off = 0;

	if ((n = discover_members(url, timeout, &m, why, sizeof why)) == -1) {
		snprintf(err, len, "cannot read the members of %s: %s", url,
		    why);
		return (-1);
	}
	text = xcalloc(n + 1, sizeof *text);
	for (i = 0; i < n; i++) {
		if (member_address(tls, &m[i], text[k], sizeof text[k]) == 0)
			k++;
	}
	discover_free(m, n);
	if (k == 0) {
		free(text);
		snprintf(err, len, "no member of %s to connect to%s", url,
		    tls ? " over TLS" : "");
		return (-1);
	}
	if (!drawn && getentropy(&origin, sizeof origin) == -1)
		origin = getpid() ^ time_ns();
	drawn = 1;
	*list = '\0';
	for (i = 0; i < k && i < RPCCTL_SERVERS_MAX && off < size; i++)
		off += snprintf(list + off, size - off, "%s%s",
		    i > 0 ? "," : "", text[(origin + i) % k]);
	free(text);
	return (0);
}
