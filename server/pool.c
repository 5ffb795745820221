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
 * A worker's thread pool, for the work modules offload from the event
 * loop (offload() in rpcd-module(3)).  It starts in each worker, after
 * the fork, only when modules are loaded: never in the master, whose
 * threads a fork would not copy.  --offload-threads threads take calls
 * from a queue of at most --offload-queue; a call offloaded past that is
 * answered busy at once, so that a slow pool pushes back on its clients
 * instead of growing.
 *
 * A work function's reply is not written from its thread: the thread
 * keeps it in the call (pool_stash), and once the work function returns
 * puts the call on a list of those done and wakes the loop through a
 * pipe; the loop answers the call from there, so that only the loop
 * builds replies and touches connections.  A pipe rather than
 * event_active() from the thread: that needs an event_base made
 * thread-safe by evthread_use_pthreads(), which would put a lock around
 * every event operation of the loop, the fast path included.
 *
 * Layer: call (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "rpcd.h"

static struct {
	pthread_mutex_t	 lock;		/* of all below but the loop's */
	pthread_cond_t	 wake;		/* a job queued, or stop */
	struct call_list jobs;		/* offloaded, not started */
	int		 njobs;
	struct call_list done;		/* their work function returned */
	int		 signalled;	/* a byte is in the pipe */
	int		 stop;
	/* The loop's. */
	int		 started;
	int		 max;		/* --offload-queue */
	struct stats_slot *stats;	/* njobs is published there */
	void		(*done_fn)(struct call *); /* answers a call done */
	pthread_t	*threads;
	int		 nthreads;
	int		 pipe[2];	/* a done call wakes the loop */
	struct event	*ev;
} pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.jobs = TAILQ_HEAD_INITIALIZER(pool.jobs),
	.done = TAILQ_HEAD_INITIALIZER(pool.done),
	.pipe = { -1, -1 },
};

/* The call whose work function runs on this thread, if a pool thread. */
static __thread struct call	*pool_call;

/* A pool thread: run the work of each call queued, until told to stop. */
static void *
pool_main(void *arg)
{
	struct call	*call;

	pthread_mutex_lock(&pool.lock);
	for (;;) {
		while (!pool.stop && TAILQ_EMPTY(&pool.jobs))
			pthread_cond_wait(&pool.wake, &pool.lock);
		if (pool.stop)
			break;
		call = TAILQ_FIRST(&pool.jobs);
		TAILQ_REMOVE(&pool.jobs, call, job);
		pool.stats->offload_queued = --pool.njobs;
		pthread_mutex_unlock(&pool.lock);

		/* A call cancelled while it waited is not worth starting. */
		if (!call_is_cancelled(call)) {
			pool_call = call;
			call->work((struct rpcd_call *)call, call->work_arg);
			pool_call = NULL;
		}

		pthread_mutex_lock(&pool.lock);
		TAILQ_INSERT_TAIL(&pool.done, call, job);
		/* One byte wakes the loop for every call done until it runs. */
		if (!pool.signalled && write(pool.pipe[1], "", 1) == 1)
			pool.signalled = 1;
	}
	pthread_mutex_unlock(&pool.lock);
	return (NULL);
}

/* Answer the calls done, from the loop. */
static void
pool_answer_done(void)
{
	struct call_list	 done;
	struct call		*call;

	TAILQ_INIT(&done);
	pthread_mutex_lock(&pool.lock);
	TAILQ_CONCAT(&done, &pool.done, job);
	pool.signalled = 0;
	pthread_mutex_unlock(&pool.lock);
	while ((call = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, call, job);
		pool.done_fn(call);
	}
}

static void
pool_done_cb(evutil_socket_t fd, short events, void *arg)
{
	char	buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		;
	pool_answer_done();
}

/*
 * In a worker: start the threads, with every signal blocked (signals are
 * the loop's), and watch the pipe; done_fn answers each call done, from
 * the loop.
 */
void
pool_start(struct server *srv, void (*done_fn)(struct call *))
{
	const struct settings	*s = srv->settings;
	sigset_t		 all, old;
	int			 i, error;

	if (pipe(pool.pipe) != 0)
		fatal("pipe");
	for (i = 0; i < 2; i++) {
		if (fcntl(pool.pipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(pool.pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("fcntl");
	}
	pool.ev = event_new(srv->base, pool.pipe[0], EV_READ | EV_PERSIST,
	    pool_done_cb, NULL);
	if (pool.ev == NULL || event_add(pool.ev, NULL) != 0)
		fatalx("cannot watch the thread pool's pipe");
	pool.max = s->offload_queue;
	pool.done_fn = done_fn;
	pool.stats = srv->stats;
	pool.threads = xcalloc(s->offload_threads, sizeof *pool.threads);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < s->offload_threads; i++) {
		if ((error = pthread_create(&pool.threads[i], NULL, pool_main,
		    NULL)) != 0) {
			errno = error;
			fatal("pthread_create");
		}
		pool.nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pool.started = 1;
	log_debug("thread pool: %d threads, a queue of %d", pool.nthreads,
	    pool.max);
}

/*
 * In a worker that ends, its connections closed (their calls cancelled):
 * wait for the work functions running, drop the calls queued.
 */
void
pool_stop(void)
{
	int	i;

	if (!pool.started)
		return;
	pthread_mutex_lock(&pool.lock);
	pool.stop = 1;
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < pool.nthreads; i++)
		pthread_join(pool.threads[i], NULL);
	TAILQ_CONCAT(&pool.done, &pool.jobs, job);
	pool.njobs = 0;
	pool_answer_done();
	event_free(pool.ev);
	close(pool.pipe[0]);
	close(pool.pipe[1]);
	free(pool.threads);
	pool.started = 0;
}

/*
 * From the loop: queue call, whose work and work_arg are set, for a
 * thread; -1 if the queue is full (or there is no pool: no module).
 */
int
pool_push(struct call *call)
{
	int	rc = -1;

	pthread_mutex_lock(&pool.lock);
	if (pool.started && pool.njobs < pool.max) {
		TAILQ_INSERT_TAIL(&pool.jobs, call, job);
		pool.stats->offload_queued = ++pool.njobs;
		pthread_cond_signal(&pool.wake);
		rc = 0;
	}
	pthread_mutex_unlock(&pool.lock);
	return (rc);
}

/* Is call the one whose work function runs on this thread? */
int
pool_running(const struct call *call)
{
	return (pool_call == call);
}
