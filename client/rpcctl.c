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

/* rpcctl: main(), the command table, and the usage and help they print. */

#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "rpcctl.h"

static int	command_help(struct options *, int, char **);

static const struct command {
	const char	*name;
	int		(*fn)(struct options *, int, char **);
	const char	*synopsis;
	const char	*help;
} commands[] = {
	{ "ping", cmd_ping, "ping [-c count] [-i interval] [message]",
	    "send pings (default 1, 1 s apart) and show round-trip times;\n"
	    "exit 0 only if every ping is answered pong with the message" },
	{ "call", cmd_call, "call [-r count [-i interval]] method "
	    "[params | - | @file]",
	    "call a method with JSON params (- reads them from standard\n"
	    "input, @file from a file) and print the result, count times\n"
	    "(-1: until SIGINT) interval seconds apart with -r; an error\n"
	    "reply exits 1" },
	{ "batch", cmd_batch, "batch [--retry]",
	    "read requests as JSON Lines on standard input, pipeline them\n"
	    "over one connection and print the replies as JSON Lines in order,\n"
	    "a line for each line that is not blank; --retry sends the\n"
	    "requests a close left unanswered again, on a new connection" },
	{ "stats", cmd_stats, "stats [-i interval [-c count]]",
	    "print the server's counters per worker; with -i, a line of\n"
	    "totals and rates every interval seconds until SIGINT, or\n"
	    "count lines" },
	{ "methods", cmd_methods, "methods", "list the server's methods" },
	{ "members", cmd_members, "members [zk://host:port[,...]/path]",
	    "list the members of a serverset in ZooKeeper, as rpcd\n"
	    "--register makes them (default: the one -S names)" },
	{ "bench", cmd_bench, "bench [-c conns] [-n requests | -d seconds] "
	    "[-P pipeline]\n              [--rate number] "
	    "[--interval seconds] [--method name]\n              "
	    "[--params json] [--payload bytes] [--methods file]\n"
	    "              [--csv] [--histogram] [--retry]",
	    "load the server with pings, or calls of --method, or the\n"
	    "weighted mix of --methods: -c connections (default 50), each\n"
	    "keeping -P requests in flight (default 1), until -n replies\n"
	    "(default 100000) or -d seconds; with --rate, an open loop of\n"
	    "that many requests a second, timed from when each was due;\n"
	    "--interval prints a line of latency each interval; then\n"
	    "throughput and latency as redis-benchmark, --csv or --json;\n"
	    "--retry sends the requests a close left unanswered again, on a\n"
	    "new connection" },
	{ "help", command_help, "help [command]", "describe a command" },
};

#define SYNOPSIS \
	"usage: rpcctl [-hV] [--insecure] [--json | --raw] [--tls] " \
	"[--cacert file]\n" \
	"              [--cert file] [--key file] [-H host] [-p port]\n" \
	"              [-S address[,...] | -S zk://host:port[,...]/path]\n" \
	"              [-s socket] [-t seconds]\n" \
	"              [command [args]]\n"

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
	    "      --raw             print a string result as it is, not "
	    "quoted\n"
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
	printf("\nThe options above may also follow the command's name, before "
	    "its\narguments; after it, -h prints the command's usage.\n");
	printf("\nWith no command, a shell reads lines: ping [message], call "
	    "method [params],\nmethod [params], stats, methods, help, quit; "
	    "on a terminal with line editing,\ncompletion and history in "
	    "$HOME/.rpcctl_history (%d lines)%s.\n", SHELL_HISTORY_MAX,
#ifdef HAVE_LIBEDIT
	    ""
#else
	    " if built with libedit,\nwhich this one is not"
#endif
	    );
	printf("\nexit status: 0 success, 1 error reply, 2 usage error, "
	    "3 cannot connect,\ntimed out or bad reply, 130 ping, bench or "
	    "stats -i stopped by SIGINT\n");
	exit(EXIT_OK);
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

/* Print a command's usage and what it does, and exit 0. */
static __dead void
command_usage(const char *name)
{
	const struct command	*cmd;

	if ((cmd = command_find(name)) == NULL)
		usage_error("no such command: %s", name);
	printf("usage: rpcctl %s\n\n%s\n", cmd->synopsis, cmd->help);
	exit(EXIT_OK);
}

/* -h and --help: the usage of command, or rpcctl's (NULL); exit 0. */
static __dead void
rpcctl_help(const char *command)
{
	if (command != NULL)
		command_usage(command);
	usage();
}

/* help [command]: it connects to nothing, so needs no options_finish(). */
static int
command_help(struct options *opt, int argc, char **argv)
{
	while (command_option(opt, "help", argc, argv, "", NULL) != -1)
		usage_error("usage: rpcctl help [command]");
	if (argc - optind > 1)
		usage_error("usage: rpcctl help [command]");
	if (argc == optind)
		usage();
	command_usage(argv[optind]);
}

int
main(int argc, char **argv)
{
	struct options		 opt = { .timeout = RPCCTL_TIMEOUT };
	const struct command	*cmd;
	int			 first, status;

	log_init(1, LOG_INFO, "rpcctl");
	opt.help = rpcctl_help;
	opt.server_list = getenv("RPCCTL_SERVER");
	if (opt.server_list == NULL || *opt.server_list == '\0')
		opt.server_list = ADDR_DEFAULT;
	if ((first = options_parse(&opt, argc, argv)) == -1) {
		fprintf(stderr, "Try 'rpcctl --help' for more information.\n");
		return (EXIT_USAGE);
	}
	argc -= first;
	argv += first;
	if (argc == 0) {
		/* No command: the shell. */
		options_finish(&opt);
		status = shell_run(&opt);
		client_tls_free(&opt);
		return (status);
	}
	if ((cmd = command_find(argv[0])) == NULL)
		usage_error("no such command: %s", argv[0]);
	/* The command reads its options, through command_option(). */
	getopt_reset();
	status = cmd->fn(&opt, argc, argv);
	client_tls_free(&opt);
	return (status);
}
