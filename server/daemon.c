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
 * Process plumbing: detaching, the pid file, dropping privileges,
 * telling systemd we are ready or reloading (sd_notify without libsystemd),
 * dying with the parent, and the server's pid and start time for the
 * reports.  It calls nothing else of rpcd, so every layer may use it.
 *
 * Layer: base (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpcd.h"

static int	daemon_pidfile_fd = -1;
static int	daemon_keeper_fd = -1;	/* our end of the keeper's pipe */
static pid_t	daemon_parent;		/* we die with it, if not 0 */

time_t		daemon_started;		/* when the server began to serve */
pid_t		daemon_pid;		/* the master, or the single process */

/* Become a daemon: the parent returns to the shell once we are bound. */
void
daemon_detach(void)
{
	int	fd;

	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") != 0)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * Open and lock the pid file, before binding, so that a second rpcd given
 * the same file stops before it touches anything, and says which process
 * holds it.  flock(2), not fcntl(2): its lock belongs to the open file,
 * which -d's fork hands to the process that lives on, not to a process.
 * The file is not truncated here: it may be another rpcd's.
 */
void
daemon_pidfile_lock(const char *path)
{
	char	pid[32];
	ssize_t	n;

	daemon_pidfile_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (daemon_pidfile_fd == -1)
		fatal("cannot open pid file %s", path);
	if (flock(daemon_pidfile_fd, LOCK_EX | LOCK_NB) == 0)
		return;
	if (errno != EWOULDBLOCK)
		fatal("cannot lock pid file %s", path);
	n = pread(daemon_pidfile_fd, pid, sizeof pid - 1, 0);
	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	fatalx("pid file %s is locked by pid %s: another rpcd is running",
	    path, *pid != '\0' ? pid : "(not written yet)");
}

/* Write our pid to the locked pid file. */
void
daemon_pidfile_write(const char *path)
{
	char	pid[32];
	int	len;

	len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(daemon_pidfile_fd, 0) != 0 ||
	    pwrite(daemon_pidfile_fd, pid, len, 0) != len)
		fatal("cannot write pid file %s", path);
}

/* Remove the pid file; the lock goes with the last process holding it. */
static void
daemon_pidfile_remove(const char *path)
{
	if (path != NULL && unlink(path) != 0 && errno != ENOENT)
		log_warn("cannot remove pid file %s", path);
}

/*
 * -u in a single process: once it runs as the user, the server cannot
 * remove its pid file and socket files from directories that are root's.
 * So fork a keeper that stays privileged and only waits on a pipe for the
 * server to end.  Told of a clean exit, it removes them; if the server
 * crashed, it leaves them, as the server itself would have.  It ignores
 * the signals that a terminal or a service manager sends the whole group:
 * they are for the server, and the keeper ends after it.
 */
void
daemon_keeper_start(const char *pidfile, struct listener *l, int n,
    daemon_unlink_fn *unlink_fn)
{
	pid_t	pid;
	char	c;
	int	pair[2], i;

	if (pipe(pair) != 0 || (pid = fork()) == -1)
		fatal("cannot start the keeper");
	if (pid != 0) {
		close(pair[0]);
		fcntl(pair[1], F_SETFD, FD_CLOEXEC);
		daemon_keeper_fd = pair[1];
		return;
	}
	close(pair[1]);
	for (i = 0; i < n; i++)
		close(l[i].fd);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	log_procinit("keeper");
	if (read(pair[0], &c, 1) == 1) {
		unlink_fn(l, n);
		daemon_pidfile_remove(pidfile);
	}
	_exit(0);
}

/*
 * A clean exit: remove the pid file and the socket files we created, or
 * have the keeper remove them.
 */
void
daemon_cleanup(const char *pidfile, struct listener *l, int n,
    daemon_unlink_fn *unlink_fn)
{
	if (daemon_keeper_fd != -1) {
		if (write(daemon_keeper_fd, "x", 1) != 1)
			log_warn("cannot tell the keeper to clean up");
		close(daemon_keeper_fd);
		return;
	}
	unlink_fn(l, n);
	daemon_pidfile_remove(pidfile);
}

/*
 * In a child just forked by parent: die with it.  A worker watches a pipe
 * whose other end only its master holds, but only once its event loop
 * runs; before, in a module's worker_init() that hangs for instance, it
 * would outlive its master and hold the listening sockets.  So on Linux
 * the kernel kills it when the master dies, from here on: with SIGKILL,
 * since a worker catches SIGTERM from before its modules' worker_init().
 * If the parent died before this call, we were reparented already: go at
 * once.  Elsewhere the pipe is all there is.  A parent of 0 ends this,
 * once the loop watches the pipe: a worker whose master is gone then
 * drains, answering what it has read, instead of dying with it.
 */
void
daemon_die_with_parent(pid_t parent)
{
	daemon_parent = parent;
#if defined(HAVE_PRCTL) && defined(PR_SET_PDEATHSIG)
	if (prctl(PR_SET_PDEATHSIG, parent != 0 ? SIGKILL : 0) != 0)
		log_warn("prctl PR_SET_PDEATHSIG");
	if (parent != 0 && getppid() != parent) {
		log_warnx("parent (pid %ld) is gone: exiting", (long)parent);
		_exit(0);
	}
#endif
}

/* Switch to user's uid, gid and groups, after binding (httpd order). */
void
daemon_drop_privileges(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		fatal("cannot drop privileges to %s", user);
	if (setuid(0) == 0 && pw->pw_uid != 0)
		fatalx("still able to regain root after dropping to %s", user);
	/* A change of credentials clears Linux's parent-death signal. */
	if (daemon_parent != 0)
		daemon_die_with_parent(daemon_parent);
}

/* Send state ("READY=1") to $NOTIFY_SOCKET if systemd set it. */
void
daemon_notify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	int			 fd;

	if (path == NULL || (*path != '/' && *path != '@') ||
	    strlen(path) >= sizeof sun.sun_path)
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (*path == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return;
	if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sun,
	    len) == -1)
		log_warn("sd_notify to %s", path);
	close(fd);
}

/*
 * Tell systemd a reload begins; READY=1 ends it.  Type=notify-reload
 * wants the time on CLOCK_MONOTONIC with it, to match the two up.
 */
void
daemon_notify_reloading(void)
{
	char	state[64];

	snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(time_monotonic() * 1e6));
	daemon_notify(state);
}
