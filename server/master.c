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
 * respawns workers (with backoff per slot, and gives up on a crash loop),
 * folds a dead worker's counters into its slot's, forwards SIGTERM and
 * escalates to SIGKILL after --shutdown-timeout, and on SIGHUP reads the
 * configuration and loads the modules again (module.c), starts a new
 * generation with them and drains the old one, with the same escalation,
 * only once every new worker accepts; it keeps the old generation's
 * registry until the last old worker is reaped.  Until then the reload is
 * not committed: a new worker that fails, or a generation not ready in
 * the old --shutdown-timeout, rolls it back to the old generation, whose
 * settings, registry and certificates the master kept.
 * SIGUSR1 reopens the logs, here and in every worker.  It keeps its
 * privileges, so it removes
 * the pid file and socket files on exit.  It answers HAProxy's
 * agent-check (agent.c): with --drain-delay, a SIGTERM has it answer
 * "drain" for that long before it stops the workers.  With --register it
 * holds the ZooKeeper session (zk.c): the member is created once the
 * first generation accepts, and SIGTERM deletes it before anything else.
 *
 * It runs a poll(2) loop rather than an event_base, so that a worker forks
 * from a process with no libevent state to inherit.  Signal handlers only
 * set flags and write a byte to a self-pipe.
 *
 * Layer: process (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "rpcd.h"

/* A worker process: one per slot, two while a reload drains the old one. */
struct worker {
	pid_t			 pid;		/* 0: entry empty */
	int			 index;		/* its slot */
	int			 fd;		/* our end of its socketpair */
	int			 ready;
	int			 old;		/* draining after SIGHUP */
	double			 started;
	struct stats_slot	*stats;
};

/* A worker slot: what outlives the processes that fill it in turn. */
struct slot {
	struct listener		*listeners;	/* its socket set */
	double			 respawn_at;	/* 0: none scheduled */
	double			 failures[RPCD_FAILURES_MAX]; /* at start */
	int			 nfailures;
};

/* The master's state, and its main loop's. */
struct master {
	const struct settings	*settings;
	struct settings		*reloaded;	/* the last SIGHUP's, if any */
	struct registry		*old_registry;	/* the old generation's */
	/* The old generation's settings, until the reload is committed. */
	const struct settings	*old_settings;
	struct settings		*old_reloaded;	/* old_settings, if ours */
	int			 nlisteners;
	struct worker		*workers;
	int			 nworkers;	/* 2 * --prefork */
	struct slot		 slots[RPCD_PREFORK_MAX];
	struct pollfd		*pfd;		/* wake pipe, then workers */
	int			*map;		/* pfd index to worker */
	int			 stopping;
	int			 agent_drain;	/* the agent answers "drain" */
	double			 drain_at;	/* end of --drain-delay, or 0 */
	double			 deadline;	/* stopping: SIGKILL then */
	double			 old_deadline;	/* SIGKILL the old generation */
	int			 draining_old;	/* until the new one is ready */
	double			 ready_deadline; /* or roll it back then */
	int			 status;
	struct zk		*zk;		/* --register; NULL: none */
	int			 zk_leaving;	/* SIGTERM: deleting the member */
	int			 zk_pfd;	/* its index in pfd; 0: none */
	pid_t			 metrics_pid;	/* 0: none running */
	int			 metrics_fd;	/* our end of its socketpair */
	double			 metrics_respawn_at; /* 0: none scheduled */
};

static volatile sig_atomic_t	 master_sig_term, master_sig_hup;
static volatile sig_atomic_t	 master_sig_chld, master_sig_usr1;
static int			 master_wake[2];

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
	case SIGUSR1:
		master_sig_usr1 = 1;
		break;
	}
	/* A full pipe already holds a wake-up: nothing is lost. */
	n = write(master_wake[1], "", 1);
	(void)n;
	errno = saved_errno;
}

/*
 * Fork a child, what, with a socket pair to it; pair[1] is the child's
 * end.  Signals are blocked across fork() so the child cannot run the
 * master's handlers before it has reset them (tmux).  The child dies with
 * the master from the start, where the kernel can tell it.  Return 0 in
 * the child, the child's pid in the master, or -1 after logging why.
 */
static pid_t
master_fork(struct master *m, int pair[2], const char *what)
{
	sigset_t	 all, old;
	pid_t		 pid, master = getpid();
	int		 i;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
		log_warn("socketpair for %s", what);
		return (-1);
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	switch (pid = fork()) {
	case -1:
		log_warn("fork %s", what);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(pair[0]);
		close(pair[1]);
		return (-1);
	case 0:
		daemon_die_with_parent(master);
		/* Only the master may hold the other ends, or EOF is lost. */
		for (i = 0; i < m->nworkers; i++) {
			if (m->workers[i].pid != 0)
				close(m->workers[i].fd);
		}
		if (m->metrics_pid != 0)
			close(m->metrics_fd);
		close(pair[0]);
		close(master_wake[0]);
		close(master_wake[1]);
		agent_close();
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		/* Until the child's loop watches it, a forwarded one is lost. */
		signal(SIGUSR1, SIG_IGN);
		sigprocmask(SIG_SETMASK, &old, NULL);
		log_procinit(what);
		return (0);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pair[1]);
	fcntl(pair[0], F_SETFD, FD_CLOEXEC);
	return (pid);
}

/* Fork the worker for slot index. */
static int
master_spawn(struct master *m, int index)
{
	struct worker	*w = NULL;
	struct slot	*slot = &m->slots[index];
	char		 role[32];
	int		 pair[2], i;
	pid_t		 pid;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid == 0) {
			w = &m->workers[i];
			break;
		}
	}
	if (w == NULL)
		fatalx("no room for worker %d", index);
	w->stats = stats_slot_claim(index);
	snprintf(role, sizeof role, "worker %d", index);
	if ((pid = master_fork(m, pair, role)) == -1) {
		stats_slot_retire(w->stats, 0);
		return (-1);
	}
	if (pid == 0) {
		metrics_close();
		_exit(worker_run(m->settings, slot->listeners, m->nlisteners,
		    w->stats, pair[1], NULL));
	}
	w->pid = pid;
	w->index = index;
	w->fd = pair[0];
	w->ready = 0;
	w->old = 0;
	w->started = time_monotonic();
	w->stats->pid = pid;
	log_info("worker %d started, pid %ld", index, (long)pid);
	return (0);
}

/*
 * Fork the metrics server.  evhttp needs an event loop, and the master
 * keeps none, so that every worker forks from a process with no libevent
 * state; so the metrics server is a child of its own, which reads the
 * shared statistics as a worker's stats method does, and is replaced
 * when it dies.
 */
static void
master_spawn_metrics(struct master *m)
{
	int	pair[2];
	pid_t	pid;

	m->metrics_respawn_at = 0;
	if ((pid = master_fork(m, pair, "metrics")) == -1) {
		m->metrics_respawn_at = time_monotonic() + RPCD_METRICS_RESPAWN;
		return;
	}
	if (pid == 0)
		_exit(metrics_run(m->settings, pair[1]));
	m->metrics_pid = pid;
	m->metrics_fd = pair[0];
	log_info("metrics server started, pid %ld", (long)pid);
}

/* Free settings a SIGHUP read, if any. */
static void
master_free_settings(struct settings *s)
{
	if (s != NULL) {
		config_free(s);
		free(s);
	}
}

/* Spawn slot index's worker, or try again in a second. */
static void
master_spawn_or_retry(struct master *m, int index)
{
	if (master_spawn(m, index) != 0)
		m->slots[index].respawn_at = time_monotonic() + 1;
}

/* Is the current generation's worker for slot index alive? */
static int
master_alive(struct master *m, int index)
{
	int	i;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid != 0 && !m->workers[i].old &&
		    m->workers[i].index == index)
			return (1);
	}
	return (0);
}

/*
 * A worker died at start.  Back off exponentially before the next spawn;
 * after RPCD_FAILURES_MAX such deaths in RPCD_FAILURE_WINDOW seconds, give
 * up: a worker that cannot start will not start on the hundredth try.
 * Deaths are counted per slot, so that N crashing workers do not reach
 * the limit N times faster than one.
 */
static int
master_backoff(struct master *m, int index, double now)
{
	struct slot	*slot = &m->slots[index];
	double		 delay;
	int		 i, recent = 0;

	slot->failures[slot->nfailures++ % RPCD_FAILURES_MAX] = now;
	for (i = 0; i < RPCD_FAILURES_MAX && i < slot->nfailures; i++) {
		if (now - slot->failures[i] < RPCD_FAILURE_WINDOW)
			recent++;
	}
	if (recent >= RPCD_FAILURES_MAX)
		return (-1);
	delay = RPCD_RESPAWN_DELAY_MS << (recent - 1);
	if (delay > RPCD_RESPAWN_DELAY_MAX)
		delay = RPCD_RESPAWN_DELAY_MAX;
	slot->respawn_at = now + delay / 1000;
	log_warnx("worker %d died at start; next try in %.1fs", index,
	    delay / 1000);
	return (0);
}

/*
 * Log how a child, "worker N" or "metrics server", ended; running says
 * what it was doing if a signal killed it, or is empty.
 */
static void
master_log_death(const char *what, pid_t pid, int status,
    const char *running)
{
	if (WIFSIGNALED(status))
		log_warnx("%s (pid %ld) killed by signal %d%s%s", what,
		    (long)pid, WTERMSIG(status), running,
#ifdef WCOREDUMP
		    WCOREDUMP(status) ? ", core dumped" :
#endif
		    "");
	else if (WEXITSTATUS(status) != 0)
		log_warnx("%s (pid %ld) exited with status %d", what,
		    (long)pid, WEXITSTATUS(status));
	else
		log_info("%s (pid %ld) exited", what, (long)pid);
}

/* How a child ended, in a few words: "exit 1", "killed by signal 6". */
static void
master_status_text(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
}

/*
 * The method the dead worker w was running, as its stats slot says, in
 * words for master_log_death(); empty if none.
 */
static void
master_running(struct master *m, const struct worker *w, char *buf,
    size_t len)
{
	const struct method	*method;
	const char		*name;

	buf[0] = '\0';
	if ((name = stats_method_name(w->stats->running)) == NULL ||
	    (method = registry_lookup(w->old ? m->old_registry :
	    registry_current(), name)) == NULL)
		return;
	snprintf(buf, len, " while running method %s (%s%s)", name,
	    method->module != NULL ? "module " : "built in",
	    method->module != NULL ? module_name(method->module) : "");
}

/* The metrics server died: replace it in a while, unless it failed. */
static void
master_reap_metrics(struct master *m, int status, double now)
{
	master_log_death("metrics server", m->metrics_pid, status, "");
	close(m->metrics_fd);
	m->metrics_pid = 0;
	if (m->stopping)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == FATAL_STATUS)
		log_warnx("metrics server failed fatally: not respawning");
	else
		m->metrics_respawn_at = now + RPCD_METRICS_RESPAWN;
}

/*
 * Give the settings the old generation runs with back to the master,
 * with its registry and certificates, for the workers it respawns; the
 * failed attempt's settings and certificates are freed, and its registry
 * kept until its last worker is gone, as an old generation's is.
 */
static void
master_restore(struct master *m)
{
	master_free_settings(m->reloaded);
	m->settings = m->old_settings;
	m->reloaded = m->old_reloaded;
	m->old_settings = NULL;
	m->old_reloaded = NULL;
	log_init(!m->settings->daemonize, config_log_level(m->settings),
	    "rpcd");
	m->old_registry = registry_use(m->old_registry);
	tls_rollback();
}

/*
 * Roll a reload back, for why: the old generation is the current one
 * again, respawned if one of its workers dies, and the new one is
 * stopped as an old one is drained, SIGKILLed at --shutdown-timeout.
 */
static void
master_rollback(struct master *m, const char *why, double now)
{
	struct worker	*w;
	int		 i;

	log_warnx("SIGHUP: %s; rolling back: still serving with the running "
	    "configuration and workers", why);
	for (i = 0; i < m->nworkers; i++) {
		w = &m->workers[i];
		if (w->pid == 0)
			continue;
		if (w->old) {
			w->old = 0;
			stats_slot_newest(w->stats);
		} else {
			w->old = 1;
			kill(w->pid, SIGTERM);
		}
	}
	master_restore(m);
	/* An old worker that died meanwhile was not respawned: do it now. */
	for (i = 0; i < m->settings->prefork; i++)
		m->slots[i].respawn_at = master_alive(m, i) ? 0 : now;
	m->draining_old = 0;
	m->ready_deadline = 0;
	m->old_deadline = now + m->settings->shutdown_timeout;
	daemon_notify("READY=1");
}

/*
 * A worker of the new generation, w, died fatally or before it accepted:
 * the generation will not be ready, so roll the reload back now.
 */
static void
master_reload_failed(struct master *m, const struct worker *w, int status,
    double now)
{
	char	how[64], why[128];

	master_status_text(status, how, sizeof how);
	snprintf(why, sizeof why, "new worker %d failed%s (%s)", w->index,
	    w->ready ? "" : " at start", how);
	master_rollback(m, why, now);
}

/* Reap every dead worker; return -1 if the master must give up. */
static int
master_reap(struct master *m)
{
	struct worker	*w;
	double		 now = time_monotonic();
	char		 what[32], running[256];
	pid_t		 pid;
	int		 status, i, respawn, fatally, give_up = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (w = NULL, i = 0; i < m->nworkers; i++) {
			if (m->workers[i].pid == pid)
				w = &m->workers[i];
		}
		if (w == NULL) {
			if (pid == m->metrics_pid)
				master_reap_metrics(m, status, now);
			continue;
		}
		snprintf(what, sizeof what, "worker %d", w->index);
		master_running(m, w, running, sizeof running);
		master_log_death(what, w->pid, status, running);
		close(w->fd);
		w->pid = 0;
		respawn = !m->stopping && !w->old;
		fatally = WIFEXITED(status) &&
		    WEXITSTATUS(status) == FATAL_STATUS;
		if (respawn && m->draining_old && (fatally || !w->ready)) {
			stats_slot_retire(w->stats, 0);
			master_reload_failed(m, w, status, now);
			continue;
		}
		if (respawn && fatally) {
			/* fatal(): a retry would fail the same way. */
			log_warnx("worker %d failed fatally: not respawning",
			    w->index);
			respawn = 0;
		}
		stats_slot_retire(w->stats, respawn);
		if (!respawn)
			continue;
		if (now - w->started < RPCD_FAST_DEATH) {
			if (master_backoff(m, w->index, now) != 0)
				give_up = 1;
		} else
			m->slots[w->index].respawn_at = now;
	}
	return (give_up ? -1 : 0);
}

/* Is a respawn scheduled for any slot? */
static int
master_respawning(struct master *m)
{
	int	i;

	for (i = 0; i < m->settings->prefork; i++) {
		if (m->slots[i].respawn_at != 0)
			return (1);
	}
	return (0);
}

/* Count the running workers, or only the old generation's. */
static int
master_count(struct master *m, int only_old)
{
	int	i, n = 0;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid != 0 && (!only_old || m->workers[i].old))
			n++;
	}
	return (n);
}

/*
 * Tell the workers, through their stats slots, that they shut down after
 * --drain-delay: HTTP's /ready says so from now on, as the agent does.
 */
static void
master_leaving(struct master *m)
{
	int	i;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid != 0)
			m->workers[i].stats->leaving = 1;
	}
}

static void
master_kill_all(struct master *m, int sig, int only_old)
{
	int	i;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid != 0 && (!only_old || m->workers[i].old))
			kill(m->workers[i].pid, sig);
	}
	if (!only_old && m->metrics_pid != 0)
		kill(m->metrics_pid, sig);
}

/* Read ready bytes and end-of-file from the workers' sockets. */
static void
master_read_workers(struct master *m, int np)
{
	char	buf[16];
	int	i;

	for (i = 0; i < np; i++) {
		if (m->pfd[i].revents == 0 || m->map[i] < 0)
			continue;
		if (read(m->pfd[i].fd, buf, sizeof buf) > 0)
			m->workers[m->map[i]].ready = 1;
	}
}

/* Every worker of the current generation is accepting. */
static int
master_generation_ready(struct master *m)
{
	int	i, n = 0;

	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid != 0 && !m->workers[i].old &&
		    m->workers[i].ready)
			n++;
	}
	return (n >= m->settings->prefork);
}

/*
 * SIGHUP: read the configuration and load the modules again and, if they
 * can be used, mark the running workers old and start a new generation
 * with them; if not, keep serving with the running one (nginx's rule).
 */
static void
master_reload(struct master *m)
{
	struct settings	*s;
	struct registry	*r;
	char		 err[PATH_MAX + 512];
	int		 i;

	daemon_notify_reloading();
	log_reopen();
	if ((s = config_reload(m->settings)) == NULL) {
		daemon_notify("READY=1");
		return;
	}
	if ((r = module_reload(s, err, sizeof err)) == NULL) {
		log_warnx("SIGHUP: %s; still serving with the running "
		    "configuration and workers", err);
		config_free(s);
		free(s);
		daemon_notify("READY=1");
		return;
	}
	/* No old worker is left (or SIGHUP is ignored): nothing uses it. */
	if (m->old_registry != NULL)
		registry_free(m->old_registry);
	m->old_registry = registry_use(r);
	/* Kept until the new generation is ready, for a rollback. */
	m->old_settings = m->settings;
	m->old_reloaded = m->reloaded;
	m->ready_deadline = time_monotonic() +
	    m->old_settings->shutdown_timeout;
	/* The last reload's is for workers gone already, not these. */
	m->old_deadline = 0;
	m->settings = m->reloaded = s;
	log_init(!s->daemonize, config_log_level(s), "rpcd");
	/* The new generation inherits the certificates read now. */
	tls_reload(s);
	log_info("SIGHUP: starting a new generation of %d workers",
	    m->settings->prefork);
	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid != 0)
			m->workers[i].old = 1;
	}
	for (i = 0; i < m->settings->prefork; i++)
		master_spawn_or_retry(m, i);
	m->draining_old = 1;
}

/*
 * The new generation accepts: commit the reload, freeing what the old
 * generation's settings and certificates were kept for, and SIGTERM it.
 */
static void
master_commit(struct master *m, double now)
{
	log_info("new generation ready: draining the old one");
	daemon_notify("READY=1");
	master_free_settings(m->old_reloaded);
	m->old_settings = NULL;
	m->old_reloaded = NULL;
	tls_commit();
	master_kill_all(m, SIGTERM, 1);
	m->draining_old = 0;
	m->ready_deadline = 0;
	m->old_deadline = now + m->settings->shutdown_timeout;
}

/*
 * Commit a reload once the new generation accepts, or roll it back if it
 * is not ready in the old --shutdown-timeout: a worker stuck in a
 * module's worker_init() would hold the old generation and every later
 * reload.  SIGKILL what is left of the old generation after
 * --shutdown-timeout, as on stop, for the same reason.
 */
static void
master_drain_old(struct master *m, double now)
{
	char	why[64];

	if (m->draining_old && master_generation_ready(m))
		master_commit(m, now);
	else if (m->draining_old && now >= m->ready_deadline) {
		snprintf(why, sizeof why, "the new generation is not ready "
		    "after %ds", m->old_settings->shutdown_timeout);
		master_rollback(m, why, now);
	}
	if (m->old_deadline != 0 && now >= m->old_deadline) {
		if (master_count(m, 1) > 0) {
			log_warnx("reload: killing %d old worker(s) still "
			    "draining after %ds", master_count(m, 1),
			    m->settings->shutdown_timeout);
			master_kill_all(m, SIGKILL, 1);
		}
		m->old_deadline = 0;
	}
}

/* Forward SIGTERM to every worker; SIGKILL the rest at the deadline. */
static void
master_stop(struct master *m)
{
	m->stopping = 1;
	m->agent_drain = 1;
	m->drain_at = 0;
	master_kill_all(m, SIGTERM, 0);
	m->deadline = time_monotonic() + m->settings->shutdown_timeout;
}

/*
 * Map the stats, open the wake-up pipe, catch signals and bind each
 * slot's socket set.
 */
static void
master_init(struct master *m, const struct settings *s,
    struct listener *listeners, int n, struct zk *zk)
{
	int	i;

	memset(m, 0, sizeof *m);
	m->settings = s;
	m->zk = zk;
	m->nlisteners = n;
	m->nworkers = 2 * s->prefork;
	m->workers = xcalloc(m->nworkers, sizeof *m->workers);
	m->pfd = xcalloc(m->nworkers + 3, sizeof *m->pfd);
	m->map = xcalloc(m->nworkers + 3, sizeof *m->map);
	stats_region_create(m->nworkers, s->prefork);
	if (zk != NULL)
		stats_registry_set(0);
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
	signal(SIGUSR1, master_signal);

	/*
	 * --reuseport: worker i always serves socket set i, so a respawned
	 * or reloaded worker takes over the connections queued for its dead
	 * or draining predecessor.
	 */
	for (i = 0; i < s->prefork; i++) {
		if (i == 0 || !s->reuseport)
			m->slots[i].listeners = listeners;
		else {
			m->slots[i].listeners = xcalloc(n, sizeof *listeners);
			memcpy(m->slots[i].listeners, listeners,
			    n * sizeof *listeners);
			if (listener_reuseport_bind(m->slots[i].listeners,
			    n) != 0)
				fatalx("cannot bind --reuseport sockets");
		}
	}
}

/*
 * The member is out of ZooKeeper: SIGTERM's work goes on, at the next
 * turn of the loop, which the wake-up pipe starts now.
 */
static void
master_zk_left(void *arg)
{
	ssize_t	n;

	master_sig_term = 1;
	n = write(master_wake[1], "", 1);
	(void)n;
}

/* Act on the signals caught since the last turn of the loop. */
static void
master_handle_signals(struct master *m)
{
	if (master_sig_chld) {
		master_sig_chld = 0;
		if (master_reap(m) != 0) {
			log_errorx("a worker keeps dying at start (%d times in "
			    "%ds): giving up", RPCD_FAILURES_MAX,
			    RPCD_FAILURE_WINDOW);
			m->status = FATAL_STATUS;
			master_stop(m);
		}
	}
	if (master_sig_usr1) {
		master_sig_usr1 = 0;
		log_reopen();
		log_info("SIGUSR1: logs reopened");
		master_kill_all(m, SIGUSR1, 0);
	}
	if (master_sig_term && m->zk != NULL && !m->zk_leaving &&
	    !m->stopping) {
		/*
		 * Clients stop choosing this server before anything else
		 * changes; a second SIGTERM does not wait for ZooKeeper.
		 */
		master_sig_term = 0;
		m->zk_leaving = 1;
		zk_leave(m->zk, master_zk_left, NULL);
	}
	if (master_sig_term && !m->stopping && !m->agent_drain &&
	    m->settings->drain_delay > 0) {
		/* The workers serve on meanwhile: see worker_stop(). */
		log_info("draining: the agent answers \"drain\"; serving %ds "
		    "more before shutting down", m->settings->drain_delay);
		m->agent_drain = 1;
		m->drain_at = time_monotonic() + m->settings->drain_delay;
		master_leaving(m);
	} else if (master_sig_term && !m->stopping) {
		log_info("shutting down %d workers", master_count(m, 0));
		master_stop(m);
	}
	master_sig_term = 0;
	if (master_sig_hup && !m->stopping && master_count(m, 1) > 0)
		log_warnx("SIGHUP: the previous generation is still "
		    "draining; ignored");
	else if (master_sig_hup && !m->stopping)
		master_reload(m);
	master_sig_hup = 0;
}

/*
 * Advance the timers: SIGKILL at the stop deadline, drain the old
 * generation once the new one is ready and kill it at its deadline,
 * respawn.  Return 1 when the loop
 * is over.
 */
static int
master_tick(struct master *m, double now)
{
	int	i;

	if (m->drain_at != 0 && now >= m->drain_at) {
		log_info("drain delay over: shutting down %d workers",
		    master_count(m, 0));
		master_stop(m);
	}
	if (m->zk != NULL) {
		zk_tick(m->zk, now);
		/* Registration follows readiness: the first generation's. */
		if (!m->stopping && !m->zk_leaving &&
		    master_generation_ready(m))
			zk_start(m->zk, NULL);
	}
	if (m->stopping) {
		if (master_count(m, 0) == 0 && m->metrics_pid == 0)
			return (1);
		if (now >= m->deadline) {
			log_warnx("shutdown timeout: killing %d workers",
			    master_count(m, 0));
			master_kill_all(m, SIGKILL, 0);
			m->deadline = now + 3600;
		}
		return (0);
	}
	master_drain_old(m, now);
	/* Until it is committed, a rollback may need it again. */
	if (m->old_registry != NULL && !m->draining_old &&
	    master_count(m, 1) == 0) {
		registry_free(m->old_registry);
		m->old_registry = NULL;
	}
	if (m->metrics_respawn_at != 0 && now >= m->metrics_respawn_at)
		master_spawn_metrics(m);
	for (i = 0; i < m->settings->prefork; i++) {
		if (!master_alive(m, i) && m->slots[i].respawn_at != 0 &&
		    now >= m->slots[i].respawn_at) {
			m->slots[i].respawn_at = 0;
			master_spawn_or_retry(m, i);
		}
	}
	if (master_count(m, 0) == 0 && !master_respawning(m)) {
		log_errorx("no worker left");
		m->status = FATAL_STATUS;
		return (1);
	}
	return (0);
}

/* Sleep until a signal, a worker's byte or the next timer. */
static void
master_wait(struct master *m, double now)
{
	double	next;
	char	buf[64];
	int	i, np, timeout;

	next = m->stopping ? m->deadline : now + 60;
	if (!m->stopping && m->old_deadline != 0 && m->old_deadline < next)
		next = m->old_deadline;
	if (!m->stopping && m->draining_old && m->ready_deadline < next)
		next = m->ready_deadline;
	if (m->drain_at != 0 && m->drain_at < next)
		next = m->drain_at;
	if (!m->stopping && m->metrics_respawn_at != 0 &&
	    m->metrics_respawn_at < next)
		next = m->metrics_respawn_at;
	if (m->zk != NULL && zk_next(m->zk) != 0 && zk_next(m->zk) < next)
		next = zk_next(m->zk);
	for (i = 0; i < m->settings->prefork && !m->stopping; i++) {
		if (m->slots[i].respawn_at != 0 &&
		    m->slots[i].respawn_at < next)
			next = m->slots[i].respawn_at;
	}
	timeout = next <= now ? 0 : (int)((next - now) * 1000) + 1;
	m->pfd[0].fd = master_wake[0];
	m->pfd[0].events = POLLIN;
	m->map[0] = -1;
	np = 1;
	if (agent_fd() != -1) {
		m->pfd[np].fd = agent_fd();
		m->pfd[np].events = POLLIN;
		m->map[np++] = -1;
	}
	m->zk_pfd = 0;
	if (m->zk != NULL) {
		m->zk_pfd = np;
		m->pfd[np].fd = zk_fd(m->zk);
		m->pfd[np].events = POLLIN;
		m->map[np++] = -1;
	}
	for (i = 0; i < m->nworkers; i++) {
		if (m->workers[i].pid == 0)
			continue;
		m->pfd[np].fd = m->workers[i].fd;
		m->pfd[np].events = POLLIN;
		m->map[np++] = i;
	}
	if (poll(m->pfd, np, timeout) > 0) {
		while (read(master_wake[0], buf, sizeof buf) > 0)
			;
		if (agent_fd() != -1 && m->pfd[1].revents != 0)
			agent_answer(m->agent_drain);
		if (m->zk_pfd != 0 && m->pfd[m->zk_pfd].revents != 0)
			zk_news(m->zk);
		master_read_workers(m, np);
	}
}

/*
 * Run the workers until stopped, registered in ZooKeeper with zk if not
 * NULL; return the exit status.
 */
int
master_run(const struct settings *s, struct listener *listeners, int n,
    struct zk *zk)
{
	struct master	m;
	double		now;
	int		i;

	log_procinit("master");
	/* Set before any fork: every child logs libevent's lines so too. */
	event_set_log_callback(log_libevent_cb);
	master_init(&m, s, listeners, n, zk);
	for (i = 0; i < s->prefork; i++)
		master_spawn_or_retry(&m, i);
	if (metrics_enabled())
		master_spawn_metrics(&m);
	for (;;) {
		master_handle_signals(&m);
		now = time_monotonic();
		if (master_tick(&m, now))
			break;
		master_wait(&m, now);
	}
	log_info("exiting");
	free(m.pfd);
	free(m.map);
	free(m.workers);
	master_free_settings(m.reloaded);
	master_free_settings(m.old_reloaded);
	if (m.old_registry != NULL)
		registry_free(m.old_registry);
	return (m.status);
}
