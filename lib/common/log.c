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
 * one prefork worker can be followed.  errno is preserved.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static int		 log_foreground = 1;
static int		 log_verbose;
static const char	*log_name = "rpcd";
static char		 log_role[32];

/* Start logging: to stderr if foreground, else to syslog. */
void
log_init(int foreground, int verbose, const char *name)
{
	log_foreground = foreground;
	log_verbose = verbose;
	log_name = name;
	if (!foreground)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

/* Name this process's role ("master", "worker 2") in later lines. */
void
log_procinit(const char *role)
{
	snprintf(log_role, sizeof log_role, "%s", role);
}

/* Reopen the log (SIGHUP): syslog may have been restarted. */
void
log_reopen(void)
{
	if (!log_foreground) {
		closelog();
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

static void printflike(2, 0)
log_vwrite(int priority, const char *fmt, va_list ap, const char *error)
{
	char		 msg[1024], stamp[32];
	struct tm	 tm;
	time_t		 now;
	int		 saved_errno = errno;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!log_foreground) {
		if (error != NULL)
			syslog(priority, "%s%s%s: %s", log_role,
			    *log_role ? ": " : "", msg, error);
		else
			syslog(priority, "%s%s%s", log_role,
			    *log_role ? ": " : "", msg);
	} else {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s %s[%ld]%s%s: %s%s%s\n", stamp, log_name,
		    (long)getpid(), *log_role ? " " : "", log_role, msg,
		    error != NULL ? ": " : "", error != NULL ? error : "");
	}
	errno = saved_errno;
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

/* Log at debug level, only with -v; callers on a hot path test first. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
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
