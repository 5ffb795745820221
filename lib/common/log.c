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
 * Logging after OpenBSD httpd: stderr in the foreground, syslog (LOG_DAEMON)
 * as a daemon.  Foreground lines carry the time, pid and process role so
 * one prefork worker can be followed.  Every line says its level, and a
 * line below the threshold is not formatted at all.  When stderr is the
 * systemd journal, each line starts with its sd-daemon(3) priority, <N>,
 * and leaves the time to the journal.  errno is preserved.  Every message
 * is escaped (str_escape) before it is written, so that no string in it,
 * whoever sent it, can forge a line or reach a terminal as control bytes.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>	/* EVENT_LOG_*, not a call: no library */

#include "common.h"

/*
 * libevent logs from deep inside its loop, where one cause can repeat at
 * the loop's speed (an accept(2) failing with EMFILE wrote millions of
 * lines a minute): at most this many of its lines a second reach the log,
 * and the next line after says how many were left out.
 */
#define LOG_LIBEVENT_RATE	10	/* lines a second */

static int		 log_foreground = 1;
static int		 log_level = LOG_INFO;	/* the least urgent logged */
static int		 log_journal;	/* stderr is the journal's stream */
static char		*log_path;	/* stderr is this file (log_file) */
static uid_t		 log_uid = (uid_t)-1;	/* its owner, if root opens it */
static gid_t		 log_gid = (gid_t)-1;
static const char	*log_name = "rpcd";
static char		 log_role[32];
static double		 log_libevent_second;	/* the second counted */
static int		 log_libevent_lines;	/* logged in it */
static long long	 log_libevent_dropped;	/* left out since */

/* The levels a user may choose, and the word each line says. */
static const struct {
	const char	*name;
	int		 priority;
} log_levels[] = {
	{ "fatal", LOG_CRIT },
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};
#define LOG_NLEVELS	(sizeof log_levels / sizeof log_levels[0])

/* The priority of a level's name (not "fatal": always logged), or -1. */
int
log_level_parse(const char *name)
{
	size_t	i;

	for (i = 1; i < LOG_NLEVELS; i++) {
		if (strcmp(log_levels[i].name, name) == 0)
			return (log_levels[i].priority);
	}
	return (-1);
}

/* The name of a priority, as lines say it. */
const char *
log_level_name(int priority)
{
	size_t	i;

	for (i = 0; i < LOG_NLEVELS; i++) {
		if (log_levels[i].priority == priority)
			return (log_levels[i].name);
	}
	return ("unknown");
}

/*
 * Is stderr the journal?  systemd sets JOURNAL_STREAM to the device and
 * inode of the stream it connects; a child whose stderr was redirected
 * inherits the variable, so the descriptor itself must match.
 */
static int
log_stderr_is_journal(void)
{
	const char		*env = getenv("JOURNAL_STREAM");
	struct stat		 sb;
	unsigned long long	 dev, ino;
	int			 end = 0;

	if (env == NULL || sscanf(env, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    env[end] != '\0' || fstat(STDERR_FILENO, &sb) != 0)
		return (0);
	return ((unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino);
}

/*
 * Start logging: to stderr if foreground, else to syslog; lines less
 * urgent than level (a syslog priority) are dropped.
 */
void
log_init(int foreground, int level, const char *name)
{
	/* A log file takes the lines as standard error would, detached too. */
	log_foreground = foreground || log_path != NULL;
	log_level = level;
	log_name = name;
	log_journal = log_foreground && log_path == NULL &&
	    log_stderr_is_journal();
	if (!log_foreground)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

/* Open path, appending, as standard error; -1 with errno if it cannot. */
static int
log_file_open(const char *path)
{
	int	fd, saved_errno;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		return (-1);
	/* Root gives it to the user whose workers reopen it too. */
	if ((geteuid() == 0 && log_uid != (uid_t)-1 &&
	    fchown(fd, log_uid, log_gid) == -1) ||
	    (fd != STDERR_FILENO && dup2(fd, STDERR_FILENO) == -1)) {
		saved_errno = errno;
		close(fd);
		errno = saved_errno;
		return (-1);
	}
	if (fd != STDERR_FILENO)
		close(fd);
	return (0);
}

/*
 * Log to the file path, appending, from now on, in the foreground or not:
 * it becomes standard error, which forked processes inherit and where
 * what a library or a module writes lands too.  Opened by root, the file
 * is given to uid and gid, unless they are -1, so that processes that run
 * as them can reopen it.  -1 with errno if it cannot be opened.
 */
int
log_file(const char *path, uid_t uid, gid_t gid)
{
	log_uid = uid;
	log_gid = gid;
	if (log_file_open(path) == -1)
		return (-1);
	free(log_path);
	log_path = xstrdup(path);
	log_foreground = 1;
	log_journal = 0;
	return (0);
}

/* Would a line of this priority be logged?  For callers on a hot path. */
int
log_enabled(int priority)
{
	return (priority <= log_level);
}

/* Name this process's role ("master", "worker 2") in later lines. */
void
log_procinit(const char *role)
{
	snprintf(log_role, sizeof log_role, "%s", role);
}

/*
 * Reopen the log (SIGHUP, SIGUSR1): the log file, which may have been
 * moved away by a log rotation, or syslog, which may have been restarted.
 * A log file that cannot be opened again is written on where it was.
 */
void
log_reopen(void)
{
	if (log_path != NULL) {
		if (log_file_open(log_path) == -1)
			log_warn("log file %s: cannot reopen", log_path);
	} else if (!log_foreground) {
		closelog();
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

/*
 * Format and write one line.  The message is escaped here, once, for
 * every caller: peer names, method names, a module's lines and libevent's
 * all pass through, and a caller that forgot to escape a string cannot
 * let it forge a line.  Not at each call site as well, which would escape
 * twice (a backslash would show as four).
 */
static void printflike(2, 0)
log_vwrite(int priority, const char *fmt, va_list ap, const char *error)
{
	char		 raw[1024], msg[4 * sizeof raw], stamp[32];
	const char	*level = log_level_name(priority);
	struct tm	 tm;
	time_t		 now;
	int		 saved_errno = errno;

	if (priority > log_level)
		return;
	vsnprintf(raw, sizeof raw, fmt, ap);
	str_escape(msg, sizeof msg, raw);
	if (!log_foreground) {
		syslog(priority, "%s%s%s: %s%s%s", log_role,
		    *log_role ? ": " : "", level, msg,
		    error != NULL ? ": " : "", error != NULL ? error : "");
	} else {
		if (log_journal)
			snprintf(stamp, sizeof stamp, "<%d>", priority);
		else {
			now = time(NULL);
			localtime_r(&now, &tm);
			strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S ",
			    &tm);
		}
		fprintf(stderr, "%s%s[%ld]%s%s: %s: %s%s%s\n", stamp, log_name,
		    (long)getpid(), *log_role ? " " : "", log_role, level,
		    msg, error != NULL ? ": " : "", error != NULL ? error : "");
	}
	errno = saved_errno;
}

/*
 * Log an error that stops the program, with strerror(errno) appended:
 * logged at every level a user may choose, "error" included.
 */
void
log_error(const char *fmt, ...)
{
	va_list	ap;
	char	error[128];

	snprintf(error, sizeof error, "%s", strerror(errno));
	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, error);
	va_end(ap);
}

void
log_errorx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

/* Log a warning with strerror(errno) appended. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	char	error[128];

	snprintf(error, sizeof error, "%s", strerror(errno));
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, error);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

/* Log at debug level; callers on a hot path test log_enabled() first. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

/* Log with strerror(errno) and exit FATAL_STATUS: a broken invariant. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	char	error[128];

	snprintf(error, sizeof error, "%s", strerror(errno));
	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, error);
	va_end(ap);
	exit(FATAL_STATUS);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(FATAL_STATUS);
}

/*
 * libevent's log callback (event_set_log_callback), in every process:
 * its warnings and errors as warnings, the rest at debug level, at most
 * LOG_LIBEVENT_RATE lines a second.  A new event_base taking signals
 * over from another (a prefork worker's from the master's) is intended,
 * so that warning is only a debug line.
 */
void
log_libevent_cb(int severity, const char *msg)
{
	double	now = time_monotonic();
	int	priority = LOG_DEBUG;

	if (severity >= EVENT_LOG_WARN &&
	    strncmp(msg, "Added a signal to event base", 28) != 0)
		priority = LOG_WARNING;
	if (!log_enabled(priority))
		return;
	if (now >= log_libevent_second + 1) {
		log_libevent_second = now;
		log_libevent_lines = 0;
		if (log_libevent_dropped > 0)
			log_warnx("libevent: %lld more line(s) left out, over "
			    "%d a second", log_libevent_dropped,
			    LOG_LIBEVENT_RATE);
		log_libevent_dropped = 0;
	}
	if (log_libevent_lines++ >= LOG_LIBEVENT_RATE) {
		log_libevent_dropped++;
		return;
	}
	if (priority == LOG_WARNING)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}
