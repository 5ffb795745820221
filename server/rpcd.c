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

/* rpcd: options, start-up order and exit statuses. */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rpcd/proto.h"
#include "rpcd.h"

time_t	rpcd_started;
pid_t	rpcd_pid;

enum {
	OPT_IDLE_TIMEOUT = 256,
	OPT_MAX_CONNS,
	OPT_MAX_DEPTH,
	OPT_MAX_FRAME,
	OPT_MAX_OUTPUT,
	OPT_PIDFILE,
	OPT_REUSEPORT,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_UNIX_MODE
};

static const struct option long_options[] = {
	{ "daemon",		no_argument,		NULL, 'd' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "idle-timeout",	required_argument,	NULL, OPT_IDLE_TIMEOUT },
	{ "listen",		required_argument,	NULL, 'l' },
	{ "max-conns",		required_argument,	NULL, OPT_MAX_CONNS },
	{ "max-depth",		required_argument,	NULL, OPT_MAX_DEPTH },
	{ "max-frame",		required_argument,	NULL, OPT_MAX_FRAME },
	{ "max-output",		required_argument,	NULL, OPT_MAX_OUTPUT },
	{ "pidfile",		required_argument,	NULL, OPT_PIDFILE },
	{ "prefork",		required_argument,	NULL, 'P' },
	{ "reuseport",		no_argument,		NULL, OPT_REUSEPORT },
	{ "shutdown-timeout",	required_argument,	NULL,
	    OPT_SHUTDOWN_TIMEOUT },
	{ "unix-mode",		required_argument,	NULL, OPT_UNIX_MODE },
	{ "user",		required_argument,	NULL, 'u' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

#define SYNOPSIS \
	"usage: rpcd [-dhVv] [-l address] [-P workers] [-u user]\n" \
	"            [--idle-timeout seconds] [--max-conns number]\n" \
	"            [--max-depth number] [--max-frame bytes]\n" \
	"            [--max-output bytes] [--pidfile file] [--reuseport]\n" \
	"            [--shutdown-timeout seconds] [--unix-mode mode]\n"

static __dead void printflike(1, 2)
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "rpcd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%sTry 'rpcd --help' for more information.\n",
	    SYNOPSIS);
	exit(2);
}

static __dead void
usage(void)
{
	printf(SYNOPSIS "\n"
	    "  -l, --listen ADDR          listen on host:port, [v6addr]:port "
	    "or unix:/path;\n"
	    "                             repeatable (default %s)\n"
	    "  -P, --prefork N|auto       run N worker processes (auto: one "
	    "per CPU)\n"
	    "                             under a master (default 0: a "
	    "single process)\n"
	    "      --reuseport            a listening socket per worker, "
	    "balanced by\n"
	    "                             the kernel (with --prefork)\n"
	    "  -d, --daemon               detach and log to syslog\n"
	    "  -u, --user USER            run as USER after binding\n"
	    "      --pidfile FILE         write the process id to FILE\n"
	    "      --unix-mode MODE       permissions of Unix socket files, "
	    "in octal\n"
	    "                             (default: as the umask leaves them)\n"
	    "      --max-frame BYTES      largest request body (default %d)\n"
	    "      --max-depth N          deepest JSON nesting (default %d)\n"
	    "      --max-conns N          open connections (default %d)\n"
	    "      --max-output BYTES     unsent replies per connection "
	    "before reading\n"
	    "                             from it pauses (default %d)\n"
	    "      --idle-timeout SECS    close idle connections, 0 = never "
	    "(default %d)\n"
	    "      --shutdown-timeout SECS  time to finish on SIGTERM "
	    "(default %d)\n"
	    "  -v, --verbose              log every connection and request\n"
	    "  -V, --version              print the version and exit\n"
	    "  -h, --help                 print this help and exit\n",
	    RPCD_LISTEN_DEFAULT, RPCD_MAX_FRAME, RPCD_MAX_DEPTH,
	    RPCD_MAX_CONNS, RPCD_MAX_OUTPUT, RPCD_IDLE_TIMEOUT,
	    RPCD_SHUTDOWN_TIMEOUT);
	exit(0);
}

/* A numeric option in [min, max], or a usage error naming it. */
static long long
option_number(const char *name, const char *arg, long long min,
    long long max)
{
	const char	*errstr;
	long long	 v;

	v = parse_number(arg, min, max, &errstr);
	if (errstr != NULL)
		usage_error("--%s %s: %s (%lld to %lld)", name, arg, errstr,
		    min, max);
	return (v);
}

/* path made absolute against the directory rpcd started in. */
static char *
options_absolute(const char *path)
{
	char	*cwd, *abs;

	if ((cwd = realpath(".", NULL)) == NULL)
		fatal("cannot resolve the current directory");
	if (asprintf(&abs, "%s/%s", cwd, path) == -1)
		fatal("asprintf");
	free(cwd);
	return (abs);
}

/*
 * Make the pid file and Unix socket paths absolute, once: -d changes to /
 * before they are written or removed.
 */
static void
options_resolve(struct settings *s)
{
	struct sockaddr_un	*sun;
	char			 text[ADDR_TEXT_MAX], err[128], *abs;
	int			 i;

	for (i = 0; i < s->nlisten; i++) {
		sun = (struct sockaddr_un *)&s->listen[i].ss;
		if (sun->sun_family != AF_UNIX || sun->sun_path[0] == '/')
			continue;
		abs = options_absolute(sun->sun_path);
		snprintf(text, sizeof text, "unix:%s", abs);
		if (addr_parse(text, &s->listen[i], err, sizeof err) != 0) {
			fprintf(stderr, "rpcd: -l unix:%s: %s\n", abs, err);
			exit(2);
		}
		free(abs);
	}
	if (s->pidfile != NULL && s->pidfile[0] != '/')
		s->pidfile = options_absolute(s->pidfile);
}

/* The octal permissions of --unix-mode, or a usage error. */
static int
option_mode(const char *arg)
{
	char	*end;
	long	 v;

	v = strtol(arg, &end, 8);
	if (*arg < '0' || *arg > '7' || *end != '\0' || v > 0777)
		usage_error("--unix-mode %s: not an octal mode (0 to 0777)",
		    arg);
	return (v);
}

static void
options_parse(int argc, char **argv, struct settings *s)
{
	char	err[128];
	int	ch;

	while ((ch = getopt_long(argc, argv, "dhl:P:u:Vv", long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'P':
			if (strcmp(optarg, "auto") == 0) {
				s->prefork = sysconf(_SC_NPROCESSORS_ONLN);
				if (s->prefork < 1)
					s->prefork = 1;
				if (s->prefork > RPCD_PREFORK_MAX)
					s->prefork = RPCD_PREFORK_MAX;
			} else
				s->prefork = option_number("prefork", optarg,
				    0, RPCD_PREFORK_MAX);
			break;
		case OPT_REUSEPORT:
			s->reuseport = 1;
			break;
		case 'd':
			s->daemonize = 1;
			break;
		case 'h':
			usage();
		case 'l':
			if (s->nlisten == RPCD_LISTEN_MAX)
				usage_error("too many -l options (%d at most)",
				    RPCD_LISTEN_MAX);
			if (addr_parse(optarg, &s->listen[s->nlisten], err,
			    sizeof err) != 0) {
				fprintf(stderr, "rpcd: -l %s: %s\n", optarg,
				    err);
				exit(2);
			}
			s->nlisten++;
			break;
		case 'u':
			s->user = optarg;
			break;
		case 'V':
			printf("rpcd %s\n", VERSION);
			exit(0);
		case 'v':
			s->verbose++;
			break;
		case OPT_IDLE_TIMEOUT:
			s->idle_timeout = option_number("idle-timeout", optarg,
			    0, 86400 * 365);
			break;
		case OPT_MAX_CONNS:
			s->max_conns = option_number("max-conns", optarg, 1,
			    1000000);
			break;
		case OPT_MAX_DEPTH:
			s->max_depth = option_number("max-depth", optarg, 1,
			    PROTO_DEPTH_MAX);
			break;
		case OPT_MAX_FRAME:
			s->max_frame = option_number("max-frame", optarg, 2,
			    UINT32_MAX);
			break;
		case OPT_MAX_OUTPUT:
			s->max_output = option_number("max-output", optarg,
			    1024, (long long)1 << 40);
			break;
		case OPT_PIDFILE:
			s->pidfile = optarg;
			break;
		case OPT_UNIX_MODE:
			s->unix_mode = option_mode(optarg);
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			s->shutdown_timeout = option_number("shutdown-timeout",
			    optarg, 1, 86400);
			break;
		default:
			fprintf(stderr, "%sTry 'rpcd --help' for more "
			    "information.\n", SYNOPSIS);
			exit(2);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument: %s", argv[optind]);
	if (s->reuseport && s->prefork == 0)
		usage_error("--reuseport needs --prefork");
	if (s->reuseport && listener_reuseport_option() == -1)
		usage_error("--reuseport: this system's kernel does not "
		    "balance connections over sockets");
	if (s->nlisten == 0 && addr_parse(RPCD_LISTEN_DEFAULT, &s->listen[0],
	    err, sizeof err) == 0)
		s->nlisten = 1;
	options_resolve(s);
}

int
main(int argc, char **argv)
{
	struct settings	 s = {
		.max_frame = RPCD_MAX_FRAME,
		.max_depth = RPCD_MAX_DEPTH,
		.max_conns = RPCD_MAX_CONNS,
		.max_output = RPCD_MAX_OUTPUT,
		.idle_timeout = RPCD_IDLE_TIMEOUT,
		.shutdown_timeout = RPCD_SHUTDOWN_TIMEOUT,
		.unix_mode = -1,
	};
	struct listener	*listeners;
	int		 nlisteners, status;

	options_parse(argc, argv, &s);
	log_init(1, s.verbose, "rpcd");

	/*
	 * Lock the pid file and bind first, so errors reach the terminal
	 * before detaching.
	 */
	if (s.pidfile != NULL)
		daemon_pidfile_lock(s.pidfile);
	if ((nlisteners = listener_bind_all(&s, &listeners)) == -1)
		exit(1);
	if (s.daemonize) {
		daemon_detach();
		log_init(0, s.verbose, "rpcd");
	}
	rpcd_pid = getpid();
	rpcd_started = time(NULL);
	if (s.pidfile != NULL)
		daemon_pidfile_write(s.pidfile);

	/* The prefork master keeps its privileges: it cleans up itself. */
	if (s.prefork == 0 && s.user != NULL)
		daemon_keeper_start(s.pidfile, listeners, nlisteners);

	daemon_notify_ready();
	if (s.prefork > 0)
		status = master_run(&s, listeners, nlisteners);
	else
		status = worker_run(&s, listeners, nlisteners,
		    stats_region_create(1, 1), -1);

	daemon_cleanup(s.pidfile, listeners, nlisteners);
	free(listeners);
	return (status);
}
