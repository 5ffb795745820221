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
 * The prefork master.  It binds every listener and maps the shared stats
 * region before forking N workers, then serves no client: it reaps and
 * respawns workers (with backoff, and gives up on a crash loop), forwards
 * SIGTERM and escalates to SIGKILL after --shutdown-timeout, and on SIGHUP
 * starts a new generation and drains the old one only once every new
 * worker accepts.
 *
 * It runs a poll(2) loop rather than an event_base, so that a worker forks
 * from a process with no libevent state to inherit.  Signal handlers only
 * set flags and write a byte to a self-pipe.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rpcd.h"

struct worker {
	pid_t			 pid;		/* 0: slot empty */
	int			 index;
	int			 fd;		/* our end of its socketpair */
	int			 ready;
	int			 old;		/* draining after SIGHUP */
	double			 started;
	struct stats_slot	*stats;
};

static volatile sig_atomic_t	 master_sig_term, master_sig_hup, master_sig_chld;
static int			 master_wake[2];

static struct worker		*workers;
static int			 nworkers;	/* slots: 2 * --prefork */
static int			 restarts[RPCD_PREFORK_MAX];
static double			 respawn_at[RPCD_PREFORK_MAX];
static struct listener		*listener_sets[RPCD_PREFORK_MAX];
static double			 failures[RPCD_FAILURES_MAX];
static int			 nfailures;

static double
master_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
master_signal(int sig)
{
	int	saved_errno = errno;
	ssize_t	n;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		master_sig_term = 1;
		break;
	case SIGHUP:
		master_sig_hup = 1;
		break;
	case SIGCHLD:
		master_sig_chld = 1;
		break;
	}
	/* A full pipe already holds a wake-up: nothing is lost. */
	n = write(master_wake[1], "", 1);
	(void)n;
	errno = saved_errno;
}

/*
 * Fork worker index.  Signals are blocked across fork() so the child
 * cannot run the master's handlers before it has reset them (tmux).
 */
static int
master_spawn(const struct settings *s, int n, int index)
{
	struct worker	*w = NULL;
	sigset_t	 all, old;
	char		 role[32];
	int		 pair[2], i;
	pid_t		 pid;

	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid == 0) {
			w = &workers[i];
			break;
		}
	}
	if (w == NULL)
		fatalx("no room for worker %d", index);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
		log_warn("socketpair for worker %d", index);
		return (-1);
	}
	w->stats = stats_slot_claim(index, restarts[index]);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	switch (pid = fork()) {
	case -1:
		log_warn("fork worker %d", index);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(pair[0]);
		close(pair[1]);
		w->stats->pid = 0;
		return (-1);
	case 0:
		/* Only the master may hold the other ends, or EOF is lost. */
		for (i = 0; i < nworkers; i++) {
			if (workers[i].pid != 0)
				close(workers[i].fd);
		}
		close(pair[0]);
		close(master_wake[0]);
		close(master_wake[1]);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		snprintf(role, sizeof role, "worker %d", index);
		log_procinit(role);
		_exit(worker_run(s, listener_sets[index], n, w->stats,
		    pair[1]));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pair[1]);
	fcntl(pair[0], F_SETFD, FD_CLOEXEC);
	w->pid = pid;
	w->index = index;
	w->fd = pair[0];
	w->ready = 0;
	w->old = 0;
	w->started = master_now();
	w->stats->pid = pid;
	log_info("worker %d started, pid %ld", index, (long)pid);
	return (0);
}

/* Count the current generation's workers alive for an index. */
static int
master_alive(int index)
{
	int	i;

	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid != 0 && !workers[i].old &&
		    workers[i].index == index)
			return (1);
	}
	return (0);
}

/*
 * A worker died at start.  Back off exponentially before the next spawn;
 * after RPCD_FAILURES_MAX such deaths in RPCD_FAILURE_WINDOW seconds, give
 * up: a worker that cannot start will not start on the hundredth try.
 */
static int
master_backoff(int index, double now)
{
	double	delay;
	int	i, recent = 0;

	failures[nfailures++ % RPCD_FAILURES_MAX] = now;
	for (i = 0; i < RPCD_FAILURES_MAX && i < nfailures; i++) {
		if (now - failures[i] < RPCD_FAILURE_WINDOW)
			recent++;
	}
	if (recent >= RPCD_FAILURES_MAX)
		return (-1);
	delay = RPCD_RESPAWN_DELAY_MS << (recent - 1);
	if (delay > RPCD_RESPAWN_DELAY_MAX)
		delay = RPCD_RESPAWN_DELAY_MAX;
	respawn_at[index] = now + delay / 1000;
	log_warnx("worker %d died at start; next try in %.1fs", index,
	    delay / 1000);
	return (0);
}

/* Reap every dead worker; return -1 if the master must give up. */
static int
master_reap(int stopping)
{
	struct worker	*w;
	double		 now = master_now();
	pid_t		 pid;
	int		 status, i, give_up = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (w = NULL, i = 0; i < nworkers; i++) {
			if (workers[i].pid == pid)
				w = &workers[i];
		}
		if (w == NULL)
			continue;
		if (WIFSIGNALED(status))
			log_warnx("worker %d (pid %ld) killed by signal %d%s",
			    w->index, (long)pid, WTERMSIG(status),
#ifdef WCOREDUMP
			    WCOREDUMP(status) ? ", core dumped" :
#endif
			    "");
		else if (WEXITSTATUS(status) != 0)
			log_warnx("worker %d (pid %ld) exited with status %d",
			    w->index, (long)pid, WEXITSTATUS(status));
		else
			log_info("worker %d (pid %ld) exited", w->index,
			    (long)pid);
		close(w->fd);
		w->stats->pid = 0;
		w->pid = 0;
		if (stopping || w->old)
			continue;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
			/* fatal(): a retry would fail the same way. */
			log_warnx("worker %d failed fatally: not respawning",
			    w->index);
			continue;
		}
		restarts[w->index]++;
		if (now - w->started < RPCD_FAST_DEATH) {
			if (master_backoff(w->index, now) != 0)
				give_up = 1;
		} else
			respawn_at[w->index] = now;
	}
	return (give_up ? -1 : 0);
}

/* Is a respawn scheduled for any worker index? */
static int
master_respawning(int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (respawn_at[i] != 0)
			return (1);
	}
	return (0);
}

static int
master_count(void)
{
	int	i, n = 0;

	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid != 0)
			n++;
	}
	return (n);
}

static void
master_kill_all(int sig, int only_old)
{
	int	i;

	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid != 0 && (!only_old || workers[i].old))
			kill(workers[i].pid, sig);
	}
}

/* Read ready bytes and end-of-file from the workers' sockets. */
static void
master_read_workers(struct pollfd *pfd, int *map, int n)
{
	char	buf[16];
	int	i;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0 || map[i] < 0)
			continue;
		if (read(pfd[i].fd, buf, sizeof buf) > 0)
			workers[map[i]].ready = 1;
	}
}

/* Every worker of the current generation is accepting. */
static int
master_generation_ready(int want)
{
	int	i, n = 0;

	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid != 0 && !workers[i].old &&
		    workers[i].ready)
			n++;
	}
	return (n >= want);
}

/* SIGHUP: mark the running workers old and start a new generation. */
static void
master_reload(const struct settings *s, int n)
{
	int	i;

	log_info("SIGHUP: starting a new generation of %d workers",
	    s->prefork);
	log_reopen();
	for (i = 0; i < nworkers; i++) {
		if (workers[i].pid != 0)
			workers[i].old = 1;
	}
	for (i = 0; i < s->prefork; i++) {
		if (master_spawn(s, n, i) != 0)
			respawn_at[i] = master_now() + 1;
	}
}

int
master_run(const struct settings *s, struct listener *listeners, int n)
{
	struct pollfd	*pfd;
	int		*map;
	double		 now, deadline = 0, next;
	int		 i, np, timeout, stopping = 0, draining_old = 0;
	int		 status = 0;

	log_procinit("master");
	nworkers = 2 * s->prefork;
	workers = xcalloc(nworkers, sizeof *workers);
	pfd = xcalloc(nworkers + 1, sizeof *pfd);
	map = xcalloc(nworkers + 1, sizeof *map);
	stats_region_create(nworkers);
	if (pipe(master_wake) != 0)
		fatal("pipe");
	for (i = 0; i < 2; i++) {
		fcntl(master_wake[i], F_SETFL, O_NONBLOCK);
		fcntl(master_wake[i], F_SETFD, FD_CLOEXEC);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, master_signal);
	signal(SIGINT, master_signal);
	signal(SIGHUP, master_signal);
	signal(SIGCHLD, master_signal);

	/*
	 * --reuseport: worker i always serves socket set i, so a respawned
	 * or reloaded worker takes over the connections queued for its dead
	 * or draining predecessor.
	 */
	for (i = 0; i < s->prefork; i++) {
		if (i == 0 || !s->reuseport)
			listener_sets[i] = listeners;
		else {
			listener_sets[i] = xcalloc(n, sizeof *listeners);
			memcpy(listener_sets[i], listeners, n * sizeof *listeners);
			if (listener_reuseport_bind(listener_sets[i], n) != 0)
				fatalx("cannot bind --reuseport sockets");
		}
	}
	for (i = 0; i < s->prefork; i++) {
		if (master_spawn(s, n, i) != 0)
			respawn_at[i] = master_now() + 1;
	}

	for (;;) {
		if (master_sig_chld) {
			master_sig_chld = 0;
			if (master_reap(stopping) != 0) {
				log_warnx("workers keep dying at start (%d "
				    "times in %ds): giving up",
				    RPCD_FAILURES_MAX, RPCD_FAILURE_WINDOW);
				status = 1;
				stopping = 1;
				master_kill_all(SIGTERM, 0);
				deadline = master_now() + s->shutdown_timeout;
			}
		}
		if (master_sig_term && !stopping) {
			log_info("shutting down %d workers", master_count());
			stopping = 1;
			master_kill_all(SIGTERM, 0);
			deadline = master_now() + s->shutdown_timeout;
		}
		master_sig_term = 0;
		if (master_sig_hup && !stopping && master_count() >
		    s->prefork)
			log_warnx("SIGHUP: the previous generation is still "
			    "draining; ignored");
		else if (master_sig_hup && !stopping) {
			master_reload(s, n);
			draining_old = 1;
		}
		master_sig_hup = 0;

		now = master_now();
		if (stopping) {
			if (master_count() == 0)
				break;
			if (now >= deadline) {
				log_warnx("shutdown timeout: killing %d "
				    "workers", master_count());
				master_kill_all(SIGKILL, 0);
				deadline = now + 3600;
			}
		} else {
			if (draining_old && master_generation_ready(
			    s->prefork)) {
				log_info("new generation ready: draining the "
				    "old one");
				master_kill_all(SIGTERM, 1);
				draining_old = 0;
			}
			for (i = 0; i < s->prefork; i++) {
				if (!master_alive(i) && respawn_at[i] != 0 &&
				    now >= respawn_at[i]) {
					respawn_at[i] = 0;
					if (master_spawn(s, n, i) != 0)
						respawn_at[i] = now + 1;
				}
			}
			if (master_count() == 0 && !master_respawning(
			    s->prefork)) {
				log_warnx("no worker left");
				status = 1;
				break;
			}
		}

		/* Sleep until a signal, a worker's byte or the next timer. */
		next = stopping ? deadline : now + 60;
		for (i = 0; i < s->prefork && !stopping; i++) {
			if (respawn_at[i] != 0 && respawn_at[i] < next)
				next = respawn_at[i];
		}
		timeout = next <= now ? 0 : (int)((next - now) * 1000) + 1;
		pfd[0].fd = master_wake[0];
		pfd[0].events = POLLIN;
		map[0] = -1;
		for (np = 1, i = 0; i < nworkers; i++) {
			if (workers[i].pid == 0)
				continue;
			pfd[np].fd = workers[i].fd;
			pfd[np].events = POLLIN;
			map[np++] = i;
		}
		if (poll(pfd, np, timeout) > 0) {
			char	buf[64];

			while (read(master_wake[0], buf, sizeof buf) > 0)
				;
			master_read_workers(pfd, map, np);
		}
	}

	log_info("exiting");
	free(pfd);
	free(map);
	free(workers);
	return (status);
}
