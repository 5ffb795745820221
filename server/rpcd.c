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
 * rpcd: start-up order and exit statuses.
 *
 * Layer: process (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rpcd.h"

/*
 * -n, once the certificates and modules are loaded as for a start: check
 * that each address can be bound here (a TCP one on port 0, so that a
 * running rpcd does not fail the check), print the settings as directives
 * and exit 0; or exit 1 naming the address that cannot be bound.
 */
static __dead void
rpcd_check(const struct settings *s)
{
	struct sockaddr_storage	ss;
	int			fd, n;

	for (n = 0; n < s->nlisten; n++) {
		ss = s->listen[n].ss;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = 0;
		else if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		else
			continue;
		if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&ss, s->listen[n].len) != 0) {
			fprintf(stderr, "rpcd: cannot listen on %s: %s\n",
			    s->listen[n].text, strerror(errno));
			exit(1);
		}
		close(fd);
	}
	config_print(s);
	fprintf(stderr, "rpcd: the configuration%s%s is valid\n",
	    s->config != NULL ? " in " : "",
	    s->config != NULL ? s->config : "");
	exit(0);
}

/* A single process's loop accepts: register. */
static void
rpcd_zk_serving(void *arg, struct event_base *base)
{
	zk_start(arg, base);
}

/* SIGTERM in a single process: out of ZooKeeper first. */
static void
rpcd_zk_stopping(void *arg, void (*done)(void *), void *done_arg)
{
	zk_leave(arg, done, done_arg);
}

/* Before the loop is freed: the session ends with the events on it. */
static void
rpcd_zk_exiting(void *arg)
{
	zk_free(arg);
}

/*
 * --log-file: the log goes to the file from now on, once rpcd has bound
 * its addresses (what stops a start is still printed where it was
 * started).  Opened by root, the file is given to --user, whose processes
 * reopen it.  -1 if it cannot be opened.
 */
static int
rpcd_log_file(const struct settings *s)
{
	struct passwd	*pw = NULL;

	if (s->user != NULL && (pw = getpwnam(s->user)) == NULL) {
		log_errorx("unknown user %s", s->user);
		return (-1);
	}
	if (log_file(s->log_file, pw != NULL ? pw->pw_uid : (uid_t)-1,
	    pw != NULL ? pw->pw_gid : (gid_t)-1) == -1) {
		log_error("log file %s", s->log_file);
		return (-1);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct settings		 s;
	struct listener		*listeners;
	struct zk		*zk = NULL;
	struct worker_hooks	 hooks;
	struct stats_slot	*stats;
	int			 nlisteners, status;

	dispatch_init();
	config_init(argc, argv, &s, listener_reuseport_option() != -1);
	log_init(1, config_log_level(&s), "rpcd");
	/* Certificates and keys are read while privileges last. */
	if (tls_init(&s) != 0)
		exit(1);
	/* Before any fork: a bad module stops the start, not a worker. */
	module_load_all(&s);
	/* -n: checked once what a start would load is loaded. */
	if (s.check)
		rpcd_check(&s);

	/*
	 * Lock the pid file and bind first, so errors reach the terminal
	 * before detaching.
	 */
	if (s.pidfile != NULL)
		daemon_pidfile_lock(s.pidfile);
	if ((nlisteners = listener_bind_all(&s, &listeners)) == -1)
		exit(1);
	if (metrics_bind(&s) != 0 || agent_open(&s) != 0) {
		listener_unlink_all(listeners, nlisteners);
		exit(1);
	}
	if (s.log_file != NULL && rpcd_log_file(&s) != 0) {
		listener_unlink_all(listeners, nlisteners);
		exit(1);
	}
	if (s.daemonize) {
		daemon_detach();
		log_init(0, config_log_level(&s), "rpcd");
		/* Standard error is /dev/null now: the log file again. */
		if (s.log_file != NULL)
			log_reopen();
	}
	daemon_pid = getpid();
	daemon_started = time(NULL);
	if (s.pidfile != NULL)
		daemon_pidfile_write(s.pidfile);

	/* The prefork master keeps its privileges: it cleans up itself. */
	if (s.prefork == 0 && s.user != NULL)
		daemon_keeper_start(s.pidfile, listeners, nlisteners,
		    listener_unlink_all);

	daemon_notify("READY=1");
	if (s.register_url != NULL)
		zk = zk_new(&s, listeners, nlisteners);
	if (s.prefork > 0) {
		status = master_run(&s, listeners, nlisteners, zk);
		zk_free(zk);
	} else {
		stats = stats_region_create(1, 1);
		if (zk != NULL)
			stats_registry_set(0);
		hooks.serving = rpcd_zk_serving;
		hooks.stopping = rpcd_zk_stopping;
		hooks.exiting = rpcd_zk_exiting;
		hooks.arg = zk;
		status = worker_run(&s, listeners, nlisteners, stats, -1,
		    zk != NULL ? &hooks : NULL);
	}

	daemon_cleanup(s.pidfile, listeners, nlisteners, listener_unlink_all);
	free(listeners);
	config_free(&s);
	return (status);
}
