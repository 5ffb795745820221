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

/* rpcctl: global options, the command table, help and exit statuses. */

#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "rpcctl.h"

static const struct command {
	const char	*name;
	int		(*fn)(const struct options *, int, char **);
	const char	*synopsis;
	const char	*help;
} commands[] = {
	{ "ping", cmd_ping, "ping [-c count] [-i interval] [message]",
	    "send pings (default 1, 1 s apart) and show round-trip times;\n"
	    "exit 0 only if every ping is answered pong with the message" },
	{ "call", cmd_call, "call method [params | -]",
	    "call a method with JSON params (- reads them from standard\n"
	    "input) and print the result; an error reply exits 1" },
	{ "batch", cmd_batch, "batch [--retry]",
	    "read requests as JSON Lines on standard input, pipeline them\n"
	    "over one connection and print the replies as JSON Lines in order;\n"
	    "--retry sends the requests a close left unanswered again, on a\n"
	    "new connection" },
	{ "stats", cmd_stats, "stats [-i interval [-c count]]",
	    "print the server's counters per worker; with -i, a line of\n"
	    "totals and rates every interval seconds until SIGINT, or\n"
	    "count lines" },
	{ "methods", cmd_methods, "methods", "list the server's methods" },
	{ "bench", cmd_bench, "bench [-c conns] [-n requests | -d seconds] "
	    "[-P pipeline]\n              [--method name] "
	    "[--params json] [--payload bytes]\n              [--csv] "
	    "[--histogram] [--retry]",
	    "load the server with pings, or calls of --method: -c connections\n"
	    "(default 50), each keeping -P requests in flight (default 1),\n"
	    "until -n replies (default 100000) or -d seconds; then throughput\n"
	    "and latency percentiles, as text, --csv or --json; --retry sends\n"
	    "the requests a close left unanswered again, on a new connection" },
	{ "help", NULL, "help [command]", "describe a command" },
};

/* getopt_long() values of the options without a short form. */
enum {
	OPT_TLS = 256,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_INSECURE
};

static const struct option long_options[] = {
	{ "cacert",	required_argument,	NULL, OPT_CACERT },
	{ "cert",	required_argument,	NULL, OPT_CERT },
	{ "help",	no_argument,		NULL, 'h' },
	{ "host",	required_argument,	NULL, 'H' },
	{ "insecure",	no_argument,		NULL, OPT_INSECURE },
	{ "json",	no_argument,		NULL, 'j' },
	{ "key",	required_argument,	NULL, OPT_KEY },
	{ "port",	required_argument,	NULL, 'p' },
	{ "server",	required_argument,	NULL, 'S' },
	{ "socket",	required_argument,	NULL, 's' },
	{ "timeout",	required_argument,	NULL, 't' },
	{ "tls",	no_argument,		NULL, OPT_TLS },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

#define SYNOPSIS \
	"usage: rpcctl [-hV] [--insecure] [--json] [--tls] [--cacert file]\n" \
	"              [--cert file] [--key file] [-H host] [-p port]\n" \
	"              [-S address[,...]] [-s socket] [-t seconds]\n" \
	"              command [args]\n"

/* Print "rpcctl: message" and a hint, if any, and exit with status. */
static __dead void printflike(3, 0)
rpcctl_exit(int status, const char *hint, const char *fmt, va_list ap)
{
	fprintf(stderr, "rpcctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", hint);
	exit(status);
}

void
usage_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	rpcctl_exit(EXIT_USAGE, "Try 'rpcctl --help' for more information.\n",
	    fmt, ap);
}

void
server_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	rpcctl_exit(EXIT_SERVER, "", fmt, ap);
}

/*
 * The option getopt_long() returned last, as the user typed it (the long
 * form if that was used, however abbreviated, else the short one), and the
 * command it belongs to, for the messages of option_number() and
 * option_seconds().
 */
static const char	*option_command;
static char		 option_typed[64];

/* getopt_long() for rpcctl's options (command NULL) or a command's. */
int
option_next(const char *command, int argc, char **argv,
    const char *optstring, const struct option *longopts)
{
	int	ch, longindex = -1;

	/* getopt's own messages would name argv[0]: a path, or a command. */
	opterr = 0;
	ch = getopt_long(argc, argv, optstring, longopts, &longindex);
	option_command = command;
	if (ch != '?')
		;
	else if (optopt == 0)
		fprintf(stderr, "rpcctl: %s%sunknown option %s\n",
		    command ? command : "", command ? ": " : "",
		    argv[optind - 1]);
	else if (strncmp(argv[optind - 1], "--", 2) == 0)
		fprintf(stderr, "rpcctl: %s%s%s needs an argument\n",
		    command ? command : "", command ? ": " : "",
		    argv[optind - 1]);
	else if (strchr(optstring, optopt) == NULL)
		fprintf(stderr, "rpcctl: %s%sunknown option -%c\n",
		    command ? command : "", command ? ": " : "", optopt);
	else
		fprintf(stderr, "rpcctl: %s%s-%c needs an argument\n",
		    command ? command : "", command ? ": " : "", optopt);
	if (longindex >= 0)
		snprintf(option_typed, sizeof option_typed, "--%s",
		    longopts[longindex].name);
	else
		snprintf(option_typed, sizeof option_typed, "-%c", ch);
	return (ch);
}

/* Exit 2 with a bad option argument: what was typed, why, and the range. */
static __dead void
option_error(const char *errstr, const char *range)
{
	usage_error("%s%s%s %s: %s (%s)", option_command ? option_command : "",
	    option_command ? " " : "", option_typed, optarg, errstr, range);
}

/* The last option's argument as an integer in [min, max], or exit 2. */
long long
option_number(long long min, long long max)
{
	const char	*errstr;
	char		 range[64];
	long long	 v;

	v = parse_number(optarg, min, max, &errstr);
	if (errstr != NULL) {
		snprintf(range, sizeof range, "%lld to %lld", min, max);
		option_error(errstr, range);
	}
	return (v);
}

/* The last option's argument as seconds in [min, max], or exit 2. */
double
option_seconds(double min, double max)
{
	const char	*errstr;
	char		 range[64];
	double		 v;

	v = parse_seconds(optarg, min, max, &errstr);
	if (errstr != NULL) {
		snprintf(range, sizeof range, "%g to %g", min, max);
		option_error(errstr, range);
	}
	return (v);
}

static __dead void
usage(void)
{
	size_t	i;

	printf(SYNOPSIS "\n"
	    "  -S, --server ADDR     host:port, [v6addr]:port or unix:/path, or a\n"
	    "                        comma-separated list tried in order until\n"
	    "                        one accepts (default $RPCCTL_SERVER, else\n"
	    "                        %s)\n"
	    "  -H, --host HOST       server host (default %s)\n"
	    "  -p, --port PORT       server port (default %s)\n"
	    "  -s, --socket PATH     server Unix socket\n"
	    "  -t, --timeout SECS    bound on connecting and each reply "
	    "(default %g)\n"
	    "      --json            print raw JSON replies, for scripts\n"
	    "      --tls             speak TLS to the server\n"
	    "      --cacert FILE     CA certificates the server's must chain "
	    "to\n"
	    "                        (default the system's)\n"
	    "      --cert FILE       client certificate chain, for mutual TLS\n"
	    "      --key FILE        its private key (default: in the same "
	    "file)\n"
	    "      --insecure        skip the checks of the server's "
	    "certificate\n"
	    "                        and host name\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "\ncommands:\n", ADDR_DEFAULT, ADDR_DEFAULT_HOST, ADDR_DEFAULT_PORT,
	    RPCCTL_TIMEOUT);
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		printf("  %s\n", commands[i].synopsis);
	printf("\nexit status: 0 success, 1 error reply, 2 usage error, "
	    "3 cannot connect,\ntimed out or bad reply, 130 ping, bench or "
	    "stats -i stopped by SIGINT\n");
	exit(EXIT_OK);
}

/*
 * Copy the host of address text, as typed, for TLS to check the server's
 * certificate against: "" for a Unix socket.
 */
static void
servers_host(char host[256], const char *text)
{
	const char	*end;
	size_t		 n;

	*host = '\0';
	if (strncmp(text, "unix:", 5) == 0)
		return;
	if (*text == '[' && (end = strchr(text, ']')) != NULL)
		text++;
	else if ((end = strrchr(text, ':')) == NULL)
		return;
	n = end - text;
	if (n < 256) {
		memcpy(host, text, n);
		host[n] = '\0';
	}
}

/*
 * Parse the -S list into opt->servers, or exit 2; with list 0, the text is
 * one address (a socket path may hold a comma).
 */
static void
servers_parse(struct options *opt, const char *text, int list)
{
	char	*copy, *p, *next, err[128];

	p = copy = xstrdup(text);
	opt->nservers = 0;
	do {
		if (list && (next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		else
			next = NULL;
		if (*p == '\0')
			usage_error("empty address in %s", text);
		if (opt->nservers == RPCCTL_SERVERS_MAX)
			usage_error("more than %d servers in %s",
			    RPCCTL_SERVERS_MAX, text);
		if (addr_parse(p, &opt->servers[opt->nservers], err,
		    sizeof err) != 0)
			usage_error("bad server address %s: %s", p, err);
		servers_host(opt->hosts[opt->nservers], p);
		opt->nservers++;
	} while ((p = next) != NULL);
	free(copy);
}

static const struct command *
command_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return (&commands[i]);
	}
	return (NULL);
}

static int
command_help(int argc, char **argv)
{
	const struct command	*cmd;

	if (argc < 2)
		usage();
	if ((cmd = command_find(argv[1])) == NULL)
		usage_error("no such command: %s", argv[1]);
	printf("usage: rpcctl %s\n\n%s\n", cmd->synopsis, cmd->help);
	return (EXIT_OK);
}

int
main(int argc, char **argv)
{
	struct options		 opt = { .timeout = RPCCTL_TIMEOUT };
	const struct command	*cmd;
	const char		*host = NULL, *port = NULL, *sockpath = NULL;
	const char		*server;
	char			 one[ADDR_TEXT_MAX + 64];
	int			 ch, list = 1, status;

	log_init(1, LOG_INFO, "rpcctl");
	server = getenv("RPCCTL_SERVER");
	if (server == NULL || *server == '\0')
		server = ADDR_DEFAULT;
	while ((ch = option_next(NULL, argc, argv, "+hH:p:S:s:t:V",
	    long_options)) != -1) {
		switch (ch) {
		case 'h':
			usage();
		case 'H':
			host = optarg;
			break;
		case 'j':
			opt.json = 1;
			break;
		case 'p':
			option_number(1, 65535);
			port = optarg;
			break;
		case 'S':
			server = optarg;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 't':
			opt.timeout = option_seconds(0.001, 86400);
			break;
		case 'V':
			printf("rpcctl %s\n", VERSION);
			return (EXIT_OK);
		case OPT_TLS:
			opt.tls = 1;
			break;
		case OPT_CACERT:
			opt.cacert = optarg;
			break;
		case OPT_CERT:
			opt.cert = optarg;
			break;
		case OPT_KEY:
			opt.key = optarg;
			break;
		case OPT_INSECURE:
			opt.insecure = 1;
			break;
		default:
			fprintf(stderr, "Try 'rpcctl --help' for more "
			    "information.\n");
			return (EXIT_USAGE);
		}
	}
	/* -s, then -H and -p, name one server and win over -S. */
	if (sockpath != NULL)
		snprintf(one, sizeof one, "unix:%s", sockpath);
	else if (host != NULL || port != NULL)
		snprintf(one, sizeof one, strchr(host ? host : "", ':') ?
		    "[%s]:%s" : "%s:%s", host ? host : ADDR_DEFAULT_HOST,
		    port ? port : ADDR_DEFAULT_PORT);
	if (sockpath != NULL || host != NULL || port != NULL) {
		server = one;
		list = 0;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage_error("no command given");
	if ((cmd = command_find(argv[0])) == NULL)
		usage_error("no such command: %s", argv[0]);
	if (cmd->fn == NULL)
		return (command_help(argc, argv));
	servers_parse(&opt, server, list);
	if (!opt.tls && (opt.cacert != NULL || opt.cert != NULL ||
	    opt.key != NULL || opt.insecure))
		usage_error("--cacert, --cert, --key and --insecure need --tls");
	if (opt.key != NULL && opt.cert == NULL)
		usage_error("--key needs --cert");
	if (opt.tls)
		client_tls_init(&opt);
	status = cmd->fn(&opt, argc, argv);
	client_tls_free(&opt);
	return (status);
}
