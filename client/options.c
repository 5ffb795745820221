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
 * rpcctl's command line below main(): the global options, a command's own
 * options among which they may come, the -S list, and the exits every
 * command shares (usage_error(), server_error(), command_check()).  The
 * command table is rpcctl.c's: -h reaches it through opt->help.
 */

#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpcctl.h"

/* getopt_long() values of the options without a short form. */
enum {
	OPT_TLS = 256,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_INSECURE,
	OPT_RAW
};

/*
 * The global options.  They come before the command, and may follow its
 * name too, among its own options (rpcctl ping --json -S host:port): so no
 * command gives one of these letters or names a meaning of its own.
 */
#define GLOBAL_OPTSTRING	"hH:p:S:s:t:V"

static const struct option global_options[] = {
	{ "cacert",	required_argument,	NULL, OPT_CACERT },
	{ "cert",	required_argument,	NULL, OPT_CERT },
	{ "help",	no_argument,		NULL, 'h' },
	{ "host",	required_argument,	NULL, 'H' },
	{ "insecure",	no_argument,		NULL, OPT_INSECURE },
	{ "json",	no_argument,		NULL, 'j' },
	{ "key",	required_argument,	NULL, OPT_KEY },
	{ "port",	required_argument,	NULL, 'p' },
	{ "raw",	no_argument,		NULL, OPT_RAW },
	{ "server",	required_argument,	NULL, 'S' },
	{ "socket",	required_argument,	NULL, 's' },
	{ "timeout",	required_argument,	NULL, 't' },
	{ "tls",	no_argument,		NULL, OPT_TLS },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

#define NGLOBALS	(sizeof global_options / sizeof global_options[0])

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

/*
 * A server failed us; after SIGINT, whatever failed (a connect or a read
 * cut short by it) is the interruption's doing, and exits as one.
 */
void
server_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	rpcctl_exit(client_interrupted() ? EXIT_INTERRUPT : EXIT_SERVER, "",
	    fmt, ap);
}

/*
 * Exit as what a client_* function returned says, else return it:
 * CLIENT_FAILED exits 3 (130 after SIGINT) and CLIENT_BADREQUEST exits 2,
 * each with err, the reason it gave.
 */
int
command_check(const char *err, int r)
{
	if (r == CLIENT_FAILED)
		server_error("%s", err);
	if (r == CLIENT_BADREQUEST)
		usage_error("%s", err);
	return (r);
}

/*
 * Connect to the first server from first on that accepts, or exit 3;
 * with a serverset, to its members as they are now.  Return -1 if SIGINT
 * cut the connecting short, for a command that then ends as it would
 * between two connections (stats -i, with its summary).
 */
int
command_reconnect(struct client *c, struct options *opt, int first)
{
	char	err[1024];
	int	r;

	options_refresh(opt);
	r = client_open(c, opt, first, err, sizeof err);
	if (r == -1 && client_interrupted())
		return (-1);
	if (r == -1)
		server_error("cannot connect to %s", err);
	command_check(err, r);
	return (0);
}

/* As command_reconnect(), with SIGINT an exit like another failure. */
void
command_connect(struct client *c, struct options *opt, int first)
{
	if (command_reconnect(c, opt, first) == -1)
		server_error("interrupted while connecting");
}

/*
 * The option getopt_long() returned last, as the user typed it (the long
 * form if that was used, however abbreviated, else the short one), and the
 * command it belongs to, for the messages of option_number() and
 * option_seconds().
 */
static const char	*option_command;
static char		 option_typed[64];

/*
 * Say why getopt_long() refused arg, the word it was reading: an option
 * unknown or ambiguous, given an argument it takes none of, or without the
 * one it needs.
 */
static void
option_complain(const char *command, const char *arg, const char *optstring,
    const struct option *longopts)
{
	const struct option	*o;
	const char		*before = "unknown option ", *after = "";
	char			 typed[64];
	int			 matches = 0;

	if (strncmp(arg, "--", 2) == 0) {
		/* As typed, however abbreviated, without its "=argument". */
		snprintf(typed, sizeof typed, "%.*s", (int)strcspn(arg, "="),
		    arg);
		for (o = longopts; o->name != NULL; o++) {
			if (strncmp(o->name, typed + 2, strlen(typed + 2)) == 0)
				matches++;
			if (optopt != 0 && o->val == optopt) {
				before = "";
				after = o->has_arg == no_argument ?
				    " takes no argument" : " needs an argument";
			}
		}
		if (optopt == 0 && matches > 1)
			before = "ambiguous option ";
	} else {
		/* -x alone or in a cluster such as -cx: optopt is x. */
		snprintf(typed, sizeof typed, "-%c", optopt);
		if (optopt != '+' && optopt != ':' &&
		    strchr(optstring, optopt) != NULL) {
			before = "";
			after = " needs an argument";
		}
	}
	fprintf(stderr, "rpcctl: %s%s%s%s%s\n", command ? command : "",
	    command ? ": " : "", before, typed, after);
}

/* getopt_long() for rpcctl's options (command NULL) or a command's. */
static int
option_next(const char *command, int argc, char **argv,
    const char *optstring, const struct option *longopts)
{
	int	ch, longindex = -1, word;

	/* getopt's own messages would name argv[0]: a path, or a command. */
	opterr = 0;
	/* The word getopt reads now (0: it starts over, at 1). */
	word = optind > 0 ? optind : 1;
	ch = getopt_long(argc, argv, optstring, longopts, &longindex);
	option_command = command;
	if (ch == '?')
		option_complain(command, argv[word], optstring, longopts);
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
 * addr_parse() checks an address and resolves its name in one go, but a
 * name that does not resolve is a server that cannot be reached (exit 3,
 * and the next of the list is tried), not a bad command line (exit 2).
 * Tell the two apart: is text well-formed with a literal for its host?
 */
static int
servers_resolvable(const char *text)
{
	struct addr	 a;
	const char	*host = text, *port;
	char		*literal, err[128];
	size_t		 n;
	int		 ok;

	if (strncmp(text, "unix:", 5) == 0)
		return (0);
	if (*text == '[') {
		host = text + 1;
		if ((port = strchr(host, ']')) == NULL || port[1] != ':')
			return (0);
	} else if ((port = strrchr(text, ':')) == NULL)
		return (0);
	if (port == host || port - host >= 256)
		return (0);
	if (*port == ']')
		port++;
	n = strlen(port) + 16;
	literal = xmalloc(n);
	snprintf(literal, n, "%s%s", host == text ? "127.0.0.1" : "[::1]",
	    port);
	ok = addr_parse(literal, &a, err, sizeof err) == 0;
	free(literal);
	return (ok);
}

/*
 * A serverset's zk://HOST:PORT[,...]/PATH that this rpcctl can read, or
 * exit 2 saying why not.
 */
void
serverset_check(const char *url)
{
	char		 hosts[ZK_URL_MAX], path[ZK_URL_MAX];
	const char	*why;

	if ((why = zk_url_split(url, hosts, sizeof hosts, path,
	    sizeof path)) != NULL)
		usage_error("bad serverset %s: %s", url, why);
#ifndef HAVE_ZOOKEEPER
	usage_error("%s: rpcctl was built without ZooKeeper", url);
#endif
}

/*
 * Parse the -S list into opt->servers, or exit 2; with list 0, the text is
 * one address (a socket path may hold a comma).  A name that does not
 * resolve is told when connecting, as a server that refuses.  A list that
 * is a serverset, zk://..., is its members now, or exit 3.
 */
static void
servers_parse(struct options *opt, const char *text, int list)
{
	struct addr	*a;
	char		*copy, *p, *next, err[128], why_zk[1024];
	char		 members[RPCCTL_SERVERS_MAX * ADDR_TEXT_MAX];

	if (list && strncmp(text, "zk://", 5) == 0) {
		serverset_check(text);
		opt->registry = text;
		if (discover_list(text, opt->tls, opt->timeout, members,
		    sizeof members, why_zk, sizeof why_zk) == -1)
			server_error("%s", why_zk);
		servers_parse(opt, members, 1);
		return;
	}
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
		a = &opt->servers[opt->nservers];
		if (addr_parse(p, a, err, sizeof err) != 0) {
			if (!servers_resolvable(p))
				usage_error("bad server address %s: %s", p,
				    err);
			snprintf(a->text, sizeof a->text, "%s", p);
			snprintf(opt->unresolved[opt->nservers],
			    sizeof opt->unresolved[0], "%s", err);
		}
		servers_host(opt->hosts[opt->nservers], p);
		opt->nservers++;
	} while ((p = next) != NULL);
	free(copy);
}

/*
 * Before connecting again: with a serverset, read its members anew if
 * they may have changed.  A read that fails, or finds none to connect to,
 * keeps the list as it was: its servers are tried as they were.
 */
void
options_refresh(struct options *opt)
{
	char	members[RPCCTL_SERVERS_MAX * ADDR_TEXT_MAX], err[1024];

	if (opt->registry != NULL && discover_changed() &&
	    discover_list(opt->registry, opt->tls, opt->timeout, members,
	    sizeof members, err, sizeof err) == 0)
		servers_parse(opt, members, 1);
}

/*
 * Take global option ch into opt: 0, or -1 if it is none.  -h and --help
 * print the usage of command, or rpcctl's (NULL), through opt->help, and
 * exit 0.
 */
static int
option_global(struct options *opt, const char *command, int ch)
{
	switch (ch) {
	case 'h':
		opt->help(command);
	case 'H':
		opt->host = optarg;
		break;
	case 'j':
		opt->json = 1;
		break;
	case 'p':
		option_number(1, 65535);
		opt->port = optarg;
		break;
	case 'S':
		opt->server_list = optarg;
		break;
	case 's':
		opt->sockpath = optarg;
		break;
	case 't':
		opt->timeout = option_seconds(0.001, 86400);
		break;
	case 'V':
		printf("rpcctl %s\n", VERSION);
		exit(EXIT_OK);
	case OPT_TLS:
		opt->tls = 1;
		break;
	case OPT_CACERT:
		opt->cacert = optarg;
		break;
	case OPT_CERT:
		opt->cert = optarg;
		break;
	case OPT_KEY:
		opt->key = optarg;
		break;
	case OPT_INSECURE:
		opt->insecure = 1;
		break;
	case OPT_RAW:
		opt->raw = 1;
		break;
	default:
		return (-1);
	}
	return (0);
}

/*
 * The next of a command's own options (optstring and longopts, in the
 * manner of getopt_long()), taking in the global options found among them
 * as if they came before the command.  Parsing stops at the first operand.
 */
int
command_option(struct options *opt, const char *command, int argc,
    char **argv, const char *optstring, const struct option *longopts)
{
	struct option	all[32];
	char		shorts[64];
	size_t		n = 0, i;
	int		ch;

	snprintf(shorts, sizeof shorts, "+%s%s", optstring, GLOBAL_OPTSTRING);
	for (i = 0; longopts != NULL && longopts[i].name != NULL; i++) {
		if (n == sizeof all / sizeof all[0] - NGLOBALS)
			fatalx("%s: too many options", command);
		all[n++] = longopts[i];
	}
	for (i = 0; i < NGLOBALS; i++)
		all[n++] = global_options[i];
	while ((ch = option_next(command, argc, argv, shorts, all)) != -1) {
		if (option_global(opt, command, ch) == -1)
			return (ch);
	}
	return (-1);
}

/*
 * Make the global options ready to connect with, once the command's are
 * read, or exit 2: the servers (-s, or -H and -p, name one and win over
 * -S) and TLS.
 */
void
options_finish(struct options *opt)
{
	char	one[ADDR_TEXT_MAX + 64], err[512];

	if (opt->sockpath != NULL)
		snprintf(one, sizeof one, "unix:%s", opt->sockpath);
	else if (opt->host != NULL || opt->port != NULL)
		snprintf(one, sizeof one, strchr(opt->host ? opt->host : "",
		    ':') ? "[%s]:%s" : "%s:%s",
		    opt->host ? opt->host : ADDR_DEFAULT_HOST,
		    opt->port ? opt->port : ADDR_DEFAULT_PORT);
	if (opt->sockpath != NULL || opt->host != NULL || opt->port != NULL)
		servers_parse(opt, one, 0);
	else
		servers_parse(opt, opt->server_list, 1);
	if (!opt->tls && (opt->cacert != NULL || opt->cert != NULL ||
	    opt->key != NULL || opt->insecure))
		usage_error("--cacert, --cert, --key and --insecure need "
		    "--tls");
	if (opt->key != NULL && opt->cert == NULL)
		usage_error("--key needs --cert");
	if (opt->raw && opt->json)
		usage_error("--raw and --json print the result two ways: "
		    "give one");
	if (opt->tls && client_tls_init(opt, err, sizeof err) == -1)
		usage_error("%s", err);
}

/*
 * Read the global options before the command's name into opt: the index
 * of that name in argv, or -1 after telling of an option that is none.
 */
int
options_parse(struct options *opt, int argc, char **argv)
{
	int	ch;

	while ((ch = option_next(NULL, argc, argv, "+" GLOBAL_OPTSTRING,
	    global_options)) != -1) {
		if (option_global(opt, NULL, ch) == -1)
			return (-1);
	}
	return (optind);
}
