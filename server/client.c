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
 * Clients, for the per-client limits (--client-conns, --client-rate): a
 * process's table of who is connected, keyed by what names a client (its
 * address, Unix user or certificate; conn.c makes the key), each with its
 * connections at once and a token bucket of requests.
 *
 * Over its rate a client is not answered busy: the connections that find
 * its bucket empty stop being read until a token comes, and wait in line,
 * so that one client's flood costs the others no CPU (its requests wait in
 * the kernel, not in our memory) and its own connections take turns.  A
 * client whose last connection closes is kept until its bucket has filled
 * again, so that reconnecting does not refill it.
 *
 * Layer: base (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "rpcd.h"

#define CLIENT_WAKE	0.01	/* s: of tokens a wait is for, at most */

struct client {
	int			 conns;
	double			 tokens;
	int64_t			 refilled;	/* ns: time_ns() */
	int64_t			 idle_since;	/* ns: its last conn closed;
						   0: not on the idle list */
	void			**waiting;	/* conns, first come first */
	int			 nwaiting;
	int			 waiting_max;
	struct event		*timer;		/* a token for the first */
	struct clients		*table;
	LIST_ENTRY(client)	 hash;
	TAILQ_ENTRY(client)	 idle;		/* no conns: freed once full */
	char			 key[];
};
LIST_HEAD(client_chain, client);
TAILQ_HEAD(client_idle, client);

struct clients {
	struct event_base	*base;
	client_resume_fn	*resume;
	double			 rate;		/* requests a second; 0: none */
	double			 burst;
	struct client_chain	*chains;
	size_t			 nchains;	/* a power of 2 */
	size_t			 n;
	struct client_idle	 idle;
};

/* A new table, whose waiting conns resume(conn) wakes. */
struct clients *
clients_new(struct event_base *base, client_resume_fn *resume)
{
	struct clients	*t;
	size_t		 i;

	t = xcalloc(1, sizeof *t);
	t->base = base;
	t->resume = resume;
	t->nchains = 64;
	t->chains = xcalloc(t->nchains, sizeof *t->chains);
	for (i = 0; i < t->nchains; i++)
		LIST_INIT(&t->chains[i]);
	TAILQ_INIT(&t->idle);
	return (t);
}

/* The rate, requests a second, and the burst of every client; 0: none. */
void
clients_set_rate(struct clients *t, double rate, double burst)
{
	t->rate = rate;
	t->burst = burst < 1 ? 1 : burst;
}

static void
client_free(struct client *cl)
{
	struct clients	*t = cl->table;

	LIST_REMOVE(cl, hash);
	if (cl->idle_since != 0)
		TAILQ_REMOVE(&t->idle, cl, idle);
	t->n--;
	if (cl->timer != NULL)
		event_free(cl->timer);
	free(cl->waiting);
	free(cl);
}

void
clients_free(struct clients *t)
{
	struct client	*cl;
	size_t		 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nchains; i++) {
		while ((cl = LIST_FIRST(&t->chains[i])) != NULL)
			client_free(cl);
	}
	free(t->chains);
	free(t);
}

/* FNV-1a: keys are short, and a peer chooses only its own. */
static size_t
clients_hash(const char *key)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (h);
}

/* Twice the chains, once there are more clients than chains. */
static void
clients_grow(struct clients *t)
{
	struct client_chain	*chains;
	struct client		*cl;
	size_t			 i, n = t->nchains * 2;

	if ((chains = calloc(n, sizeof *chains)) == NULL)
		return;		/* longer chains: slower, not wrong */
	for (i = 0; i < n; i++)
		LIST_INIT(&chains[i]);
	for (i = 0; i < t->nchains; i++) {
		while ((cl = LIST_FIRST(&t->chains[i])) != NULL) {
			LIST_REMOVE(cl, hash);
			LIST_INSERT_HEAD(&chains[clients_hash(cl->key) & (n - 1)],
			    cl, hash);
		}
	}
	free(t->chains);
	t->chains = chains;
	t->nchains = n;
}

/* Free the clients gone long enough for their buckets to be full. */
static void
clients_expire(struct clients *t, int64_t now)
{
	struct client	*cl;
	int64_t		 full;

	full = t->rate > 0 ? (int64_t)(t->burst / t->rate * 1e9) : 0;
	while ((cl = TAILQ_FIRST(&t->idle)) != NULL &&
	    now - cl->idle_since >= full)
		client_free(cl);
}

/*
 * The client of key, made with a full bucket if it is new, with one more
 * connection; NULL out of memory.
 */
struct client *
client_get(struct clients *t, const char *key)
{
	struct client_chain	*chain;
	struct client		*cl;
	size_t			 len = strlen(key);
	int64_t			 now = time_ns();

	clients_expire(t, now);
	chain = &t->chains[clients_hash(key) & (t->nchains - 1)];
	LIST_FOREACH(cl, chain, hash) {
		if (strcmp(cl->key, key) == 0)
			break;
	}
	if (cl == NULL) {
		if ((cl = calloc(1, sizeof *cl + len + 1)) == NULL)
			return (NULL);
		memcpy(cl->key, key, len + 1);
		cl->table = t;
		cl->tokens = t->burst;
		cl->refilled = now;
		LIST_INSERT_HEAD(chain, cl, hash);
		if (++t->n > t->nchains)
			clients_grow(t);
	} else if (cl->idle_since != 0) {
		TAILQ_REMOVE(&t->idle, cl, idle);
		cl->idle_since = 0;
	}
	cl->conns++;
	return (cl);
}

/* One connection of cl less; it must not be waiting. */
void
client_put(struct client *cl)
{
	struct clients	*t = cl->table;

	if (--cl->conns > 0)
		return;
	if (t->rate == 0) {
		client_free(cl);
		return;
	}
	cl->idle_since = time_ns();
	TAILQ_INSERT_TAIL(&t->idle, cl, idle);
}

/* Its connections at once. */
int
client_conns(const struct client *cl)
{
	return (cl->conns);
}

/* Tokens come with time, up to the burst. */
static void
client_refill(struct client *cl)
{
	struct clients	*t = cl->table;
	int64_t		 now = time_ns();

	cl->tokens += (now - cl->refilled) / 1e9 * t->rate;
	if (cl->tokens > t->burst)
		cl->tokens = t->burst;
	cl->refilled = now;
}

/*
 * Take a token for one request: 1, or 0 if the bucket is empty.  The
 * clock is read only when it looks empty.
 */
int
client_take(struct client *cl)
{
	if (cl->table->rate == 0)
		return (1);
	if (cl->tokens < 1)
		client_refill(cl);
	if (cl->tokens < 1)
		return (0);
	cl->tokens--;
	return (1);
}

/*
 * Wake the first in line when tokens have come: CLIENT_WAKE seconds'
 * worth, or one, or the burst, so that a client held at a high rate is
 * woken a hundred times a second, not at every token.
 */
static void
client_timer_arm(struct client *cl)
{
	struct clients	*t = cl->table;
	struct timeval	 tv;
	double		 s, want;

	want = t->rate * CLIENT_WAKE;
	if (want < 1)
		want = 1;
	if (want > t->burst)
		want = t->burst;
	s = (want - cl->tokens) / t->rate;
	if (s < 0)
		s = 0;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - tv.tv_sec) * 1e6) + 1;
	evtimer_add(cl->timer, &tv);
}

/*
 * The timer: wake conns first in line, as many as there are tokens (at
 * least one: the one the timer waited for), each taking its turn; one
 * that finds none again waits at the end of the line.
 */
static void
client_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*cl = arg;
	struct clients	*t = cl->table;
	void		*conn;
	int		 n;

	client_refill(cl);
	for (n = cl->nwaiting; n > 0 && cl->nwaiting > 0; n--) {
		if (cl->tokens < 1)
			break;
		conn = cl->waiting[0];
		memmove(cl->waiting, cl->waiting + 1,
		    --cl->nwaiting * sizeof *cl->waiting);
		t->resume(conn);
	}
	if (cl->nwaiting > 0 && !evtimer_pending(cl->timer, NULL))
		client_timer_arm(cl);
}

/*
 * conn found no token: it waits in line until resume(conn) is called.
 * -1 out of memory.
 */
int
client_wait(struct client *cl, void *conn)
{
	void	**w;
	int	  max;

	if (cl->timer == NULL &&
	    (cl->timer = evtimer_new(cl->table->base, client_timer_cb,
	    cl)) == NULL)
		return (-1);
	if (cl->nwaiting == cl->waiting_max) {
		max = cl->waiting_max == 0 ? 4 : cl->waiting_max * 2;
		if ((w = realloc(cl->waiting, max * sizeof *w)) == NULL)
			return (-1);
		cl->waiting = w;
		cl->waiting_max = max;
	}
	cl->waiting[cl->nwaiting++] = conn;
	if (!evtimer_pending(cl->timer, NULL))
		client_timer_arm(cl);
	return (0);
}

/* conn closes while it waits: out of the line. */
void
client_unwait(struct client *cl, void *conn)
{
	int	i;

	for (i = 0; i < cl->nwaiting; i++) {
		if (cl->waiting[i] == conn) {
			memmove(cl->waiting + i, cl->waiting + i + 1,
			    (cl->nwaiting - i - 1) * sizeof *cl->waiting);
			cl->nwaiting--;
			break;
		}
	}
	if (cl->nwaiting == 0 && cl->timer != NULL)
		evtimer_del(cl->timer);
}
