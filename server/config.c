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
 * Settings: one table of every option, which the command line parser,
 * --help, the synopsis and the configuration file's reader are made from.
 * Every option but those marked SETTING_CMDLINE is also a directive of the
 * file, named as the long option.  To add an option, add a row to
 * settings[] and a member to struct settings (rpcd.h), and describe it in
 * rpcd(8) and, if it is a directive, in rpcd.conf(5).
 *
 * The command line overrides the file: it is parsed first, and the file
 * then sets only what the command line left alone.  SIGHUP (with
 * --prefork) reads the file again over what the command line set.
 *
 * This file parses and holds the settings, and calls nothing of the server
 * but lib/common and libproto: what a start does with them (binding, -n's
 * check that each address can be bound, loading modules) is rpcd.c's, and
 * what the kernel allows (reuseport) is handed to config_init().
 *
 * Layer: base (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"

/* How a setting's argument is read. */
enum setting_type {
	SETTING_ACTION,		/* no argument: -h, -V */
	SETTING_FLAG,		/* no argument: set to 1 */
	SETTING_COUNT,		/* no argument: add 1 (-v -v) */
	SETTING_NUMBER,		/* an integer in [min, max] */
	SETTING_WORKERS,	/* a number in [min, max], or auto */
	SETTING_MODE,		/* octal permissions; min (-1): umask */
	SETTING_STRING,
	SETTING_ADDRESS,	/* an -l address, repeatable */
	SETTING_MODULE,		/* an -m module and its arguments */
	SETTING_LEVEL,		/* a log level's name */
	SETTING_NETWORKS,	/* a network, added to a struct networks */
	SETTING_TCP_ADDRESS,	/* a host:port, in a struct addr */
	SETTING_RULE,		/* an access rule; def: 1 allow, 0 deny */
	SETTING_ORIGIN		/* an origin for CORS, repeatable */
};

/*
 * One option.  Its member of struct settings is at offset, size bytes; a
 * number is stored in it as the bits of a uint32_t or uint64_t, read back
 * signed when min is negative.
 */
struct setting {
	const char		*name;		/* the long option */
	int			 letter;	/* the short one, or 0 */
	const char		*arg;		/* its argument, or NULL */
	enum setting_type	 type;
	size_t			 offset;
	size_t			 size;
	long long		 min, max;	/* bounds of a number */
	long long		 def;		/* default of a number */
	const char		*shown;		/* the default --help shows */
	int			 flags;		/* SETTING_* below */
	const char		*help;		/* lines for --help */
};

#define SETTING_CMDLINE	0x1	/* not a directive of the file */
#define SETTING_RESTART	0x2	/* SIGHUP cannot change it */
#define SETTING_REPEAT	0x4	/* may be given more than once */

#define MEMBER(m)	.offset = offsetof(struct settings, m), \
			.size = sizeof(((struct settings *)NULL)->m)

/* Every option, in the order of --help. */
static const struct setting settings[] = {
	{ .name = "config", .letter = 'f', .arg = "file",
	  .type = SETTING_STRING, MEMBER(config), .flags = SETTING_CMDLINE,
	  .shown = RPCD_CONF_FILE ", if it exists",
	  .help = "read the settings the command line does not\n"
	    "give from this file" },
	{ .name = "check", .letter = 'n', .type = SETTING_FLAG,
	  MEMBER(check), .flags = SETTING_CMDLINE,
	  .help = "check the configuration, print the settings\n"
	    "it makes and exit" },
	{ .name = "listen", .letter = 'l', .arg = "address",
	  .type = SETTING_ADDRESS, .shown = ADDR_DEFAULT,
	  .flags = SETTING_RESTART | SETTING_REPEAT,
	  .help = "listen on host:port, [v6addr]:port or unix:/path,\n"
	    "then ,tls for TLS or ,proxy for a PROXY protocol\n"
	    "header first, ,http for HTTP and JSON-RPC 2.0,\n"
	    ",name=NAME for access rules; repeatable" },
	{ .name = "proxy-from", .arg = "network", .type = SETTING_NETWORKS,
	  MEMBER(proxy_from), .flags = SETTING_REPEAT,
	  .shown = "127.0.0.0/8 and ::1",
	  .help = "take ,proxy listeners' connections only from\n"
	    "this network, as 192.0.2.0/24; repeatable" },
	{ .name = "allow", .arg = "rule", .type = SETTING_RULE, .def = 1,
	  .flags = SETTING_REPEAT, .shown = "none: all allowed",
	  .help = "allow \"METHODS [KEY=VALUE ...]\"; with\n"
	    "--deny one list, first match wins, and\n"
	    "a call no rule matches is denied; repeatable" },
	{ .name = "deny", .arg = "rule", .type = SETTING_RULE, .def = 0,
	  .flags = SETTING_REPEAT, .shown = "none",
	  .help = "deny \"METHODS [KEY=VALUE ...]\"; repeatable" },
	{ .name = "log-denied", .type = SETTING_FLAG, MEMBER(log_denied),
	  .help = "log each call the access rules deny" },
	{ .name = "http-cors", .arg = "origin", .type = SETTING_ORIGIN,
	  .flags = SETTING_REPEAT, .shown = "none",
	  .help = "let web pages of this origin call ,http\n"
	    "listeners, as https://example.com; repeatable" },
	{ .name = "module", .letter = 'm', .arg = "module",
	  .type = SETTING_MODULE, .flags = SETTING_REPEAT,
	  .help = "load a module, \"PATH [ARG ...]\";\n"
	    "repeatable" },
	{ .name = "prefork", .letter = 'P', .arg = "workers",
	  .type = SETTING_WORKERS, MEMBER(prefork),
	  .min = 0, .max = RPCD_PREFORK_MAX, .shown = "0: a single process",
	  .flags = SETTING_RESTART,
	  .help = "run this many worker processes under a master;\n"
	    "auto: one per CPU" },
	{ .name = "reuseport", .type = SETTING_FLAG, MEMBER(reuseport),
	  .flags = SETTING_RESTART,
	  .help = "a listening socket per worker, balanced by\n"
	    "the kernel (with --prefork)" },
	{ .name = "metrics-listen", .arg = "address",
	  .type = SETTING_TCP_ADDRESS, MEMBER(metrics_listen),
	  .flags = SETTING_RESTART, .shown = "none",
	  .help = "serve Prometheus metrics over HTTP on\n"
	    "host:port, at /metrics" },
	{ .name = "register", .arg = "url", .type = SETTING_STRING,
	  MEMBER(register_url), .flags = SETTING_RESTART, .shown = "none",
	  .help = "be a serverset member in ZooKeeper, as\n"
	    "zk://HOST:PORT[,HOST:PORT...]/PATH" },
	{ .name = "advertise", .arg = "host", .type = SETTING_STRING,
	  MEMBER(advertise), .flags = SETTING_RESTART,
	  .shown = "each listener's address",
	  .help = "the host name or address clients reach the\n"
	    "listeners at, for --register" },
	{ .name = "daemon", .letter = 'd', .type = SETTING_FLAG,
	  MEMBER(daemonize), .flags = SETTING_RESTART,
	  .help = "detach and log to syslog" },
	{ .name = "user", .letter = 'u', .arg = "user",
	  .type = SETTING_STRING, MEMBER(user), .flags = SETTING_RESTART,
	  .help = "run as this user after binding" },
	{ .name = "pidfile", .arg = "file", .type = SETTING_STRING,
	  MEMBER(pidfile), .flags = SETTING_RESTART,
	  .help = "write the process id to this file" },
	{ .name = "unix-mode", .arg = "mode", .type = SETTING_MODE,
	  MEMBER(unix_mode), .min = -1, .max = 0777, .def = -1,
	  .shown = "as the umask leaves them", .flags = SETTING_RESTART,
	  .help = "permissions of Unix socket files,\n"
	    "in octal" },
	{ .name = "max-frame", .arg = "bytes", .type = SETTING_NUMBER,
	  MEMBER(max_frame), .min = 2, .max = UINT32_MAX,
	  .def = PROTO_MAX_FRAME_DEFAULT, .help = "largest request body" },
	{ .name = "max-depth", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(max_depth), .min = 1, .max = PROTO_DEPTH_MAX,
	  .def = PROTO_DEPTH_DEFAULT, .help = "deepest JSON nesting" },
	{ .name = "max-conns", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(max_conns), .min = 1, .max = 1000000, .def = 10000,
	  .help = "open connections per process" },
	{ .name = "client-conns", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(client_conns), .min = 0, .max = 1000000, .def = 0,
	  .shown = "0: no limit",
	  .help = "connections at once per client: address,\n"
	    "Unix user or certificate CN" },
	{ .name = "client-rate", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(client_rate), .min = 0, .max = 100000000, .def = 0,
	  .shown = "0: no limit",
	  .help = "requests per second per client; past it,\n"
	    "its connections wait, unread" },
	{ .name = "client-burst", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(client_burst), .min = 0, .max = 100000000, .def = 0,
	  .shown = "--client-rate",
	  .help = "requests a client may send at once over\n"
	    "--client-rate" },
	{ .name = "byte-rate", .arg = "bytes", .type = SETTING_NUMBER,
	  MEMBER(byte_rate), .min = 0, .max = INT32_MAX, .def = 0,
	  .shown = "0: no limit",
	  .help = "bytes per second read from each connection" },
	{ .name = "max-output", .arg = "bytes", .type = SETTING_NUMBER,
	  MEMBER(max_output), .min = 1024, .max = (long long)1 << 40,
	  .def = 1024 * 1024,
	  .help = "unsent replies per connection before reading\n"
	    "from it pauses" },
	{ .name = "max-inflight", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(max_inflight), .min = 1, .max = 65536, .def = 128,
	  .help = "calls unanswered per connection before\n"
	    "reading from it pauses" },
	{ .name = "call-timeout", .arg = "seconds", .type = SETTING_NUMBER,
	  MEMBER(call_timeout), .min = 1, .max = 86400, .def = 30,
	  .help = "a module's call deferred or offloaded and\n"
	    "not answered by then gets timeout" },
	{ .name = "offload-threads", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(offload_threads), .min = 1, .max = 256, .def = 4,
	  .help = "threads of each worker's pool for the work\n"
	    "modules offload (with -m)" },
	{ .name = "offload-queue", .arg = "number", .type = SETTING_NUMBER,
	  MEMBER(offload_queue), .min = 1, .max = 1000000, .def = 1024,
	  .help = "offloaded calls waiting for a thread before\n"
	    "more are answered busy" },
	{ .name = "idle-timeout", .arg = "seconds", .type = SETTING_NUMBER,
	  MEMBER(idle_timeout), .min = 0, .max = 86400 * 365, .def = 300,
	  .help = "close idle connections, 0 = never" },
	{ .name = "frame-timeout", .arg = "seconds", .type = SETTING_NUMBER,
	  MEMBER(frame_timeout), .min = 0, .max = 86400, .def = 30,
	  .help = "a frame begun must be whole within this,\n"
	    "0 = never" },
	{ .name = "shutdown-timeout", .arg = "seconds",
	  .type = SETTING_NUMBER, MEMBER(shutdown_timeout), .min = 1,
	  .max = 86400, .def = 10, .help = "time to finish on SIGTERM" },
	{ .name = "drain-delay", .arg = "seconds", .type = SETTING_NUMBER,
	  MEMBER(drain_delay), .min = 0, .max = 3600, .def = 0,
	  .help = "on SIGTERM, answer the agent \"drain\" and\n"
	    "serve this long before shutting down" },
	{ .name = "agent-listen", .arg = "address",
	  .type = SETTING_TCP_ADDRESS, MEMBER(agent_listen),
	  .flags = SETTING_RESTART, .shown = "none",
	  .help = "answer HAProxy's agent-check on host:port" },
	{ .name = "tls-cert", .arg = "file", .type = SETTING_STRING,
	  MEMBER(tls_cert),
	  .help = "certificate chain of TLS listeners (PEM)" },
	{ .name = "tls-key", .arg = "file", .type = SETTING_STRING,
	  MEMBER(tls_key), .help = "private key of tls-cert (PEM)" },
	{ .name = "tls-ca", .arg = "file", .type = SETTING_STRING,
	  MEMBER(tls_ca),
	  .help = "CA certificates that client certificates\n"
	    "must chain to (PEM)" },
	{ .name = "tls-verify", .arg = "mode", .type = SETTING_STRING,
	  MEMBER(tls_verify), .shown = "none",
	  .help = "client certificates: none, optional or\n"
	    "require (mutual TLS)" },
	{ .name = "tls-min-version", .arg = "version",
	  .type = SETTING_STRING, MEMBER(tls_min_version), .shown = "1.2",
	  .help = "oldest TLS version accepted: 1.2 or 1.3" },
	{ .name = "tls-ciphers", .arg = "list", .type = SETTING_STRING,
	  MEMBER(tls_ciphers), .shown = "OpenSSL's",
	  .help = "TLS 1.2 cipher list, in OpenSSL's syntax" },
	{ .name = "tls-ciphersuites", .arg = "list", .type = SETTING_STRING,
	  MEMBER(tls_ciphersuites), .shown = "OpenSSL's",
	  .help = "TLS 1.3 cipher suites, in OpenSSL's syntax" },
	{ .name = "tls-handshake-timeout", .arg = "seconds",
	  .type = SETTING_NUMBER, MEMBER(tls_handshake_timeout), .min = 1,
	  .max = 3600, .def = 10,
	  .help = "close a TLS connection not through its\n"
	    "handshake, or a ,proxy one without its\n"
	    "PROXY header, in this time" },
	{ .name = "log-file", .arg = "file", .type = SETTING_STRING,
	  MEMBER(log_file), .flags = SETTING_RESTART,
	  .shown = "standard error, or syslog with -d",
	  .help = "write the log to this file once started,\n"
	    "reopened on SIGUSR1 and SIGHUP" },
	{ .name = "log-level", .arg = "level", .type = SETTING_LEVEL,
	  MEMBER(log_level), .def = LOG_INFO, .shown = "info",
	  .help = "log lines this urgent or more: error,\n"
	    "warning, info or debug" },
	{ .name = "verbose", .letter = 'v', .type = SETTING_COUNT,
	  MEMBER(verbose), .flags = SETTING_REPEAT,
	  .help = "log every connection and request:\n"
	    "--log-level debug" },
	{ .name = "version", .letter = 'V', .type = SETTING_ACTION,
	  .flags = SETTING_CMDLINE, .help = "print the version and exit" },
	{ .name = "help", .letter = 'h', .type = SETTING_ACTION,
	  .flags = SETTING_CMDLINE, .help = "print this help and exit" },
};
#define NSETTINGS	(sizeof settings / sizeof settings[0])

#define HELP_COLUMN	29	/* of an option's help in --help */
#define SYNOPSIS_WIDTH	72

static char	*config_synopsis;
static char	*config_cwd;		/* where rpcd started */
static struct settings config_cmdline;	/* the command line's settings */
static uint64_t	 config_given;		/* its options, a bit per row */
static int	 config_lines[NSETTINGS]; /* where the file set each row */
static int	 config_can_reuseport;	/* the kernel balances over sockets */

/* Store v in row's member of s. */
static void
config_store(struct settings *s, const struct setting *row, long long v)
{
	char		*p = (char *)s + row->offset;
	uint32_t	 v32 = v;
	uint64_t	 v64 = v;

	if (row->size == sizeof v32)
		memcpy(p, &v32, sizeof v32);
	else if (row->size == sizeof v64)
		memcpy(p, &v64, sizeof v64);
	else
		fatalx("option %s: a member of %zu bytes", row->name,
		    row->size);
}

/* The number in row's member of s. */
static long long
config_load(const struct settings *s, const struct setting *row)
{
	const char	*p = (const char *)s + row->offset;
	uint32_t	 v32;
	uint64_t	 v64;

	if (row->size == sizeof v32) {
		memcpy(&v32, p, sizeof v32);
		return (row->min < 0 ? (int32_t)v32 : (long long)v32);
	}
	memcpy(&v64, p, sizeof v64);
	return (row->min < 0 ? (int64_t)v64 : (long long)v64);
}

/* The octal permissions of arg, or -1. */
static int
config_mode(const char *arg)
{
	char	*end;
	long	 v;

	v = strtol(arg, &end, 8);
	if (*arg < '0' || *arg > '7' || *end != '\0' || v > 0777)
		return (-1);
	return (v);
}

/* The keywords a listen address may end with, after commas. */
static const struct {
	const char	*name;
	int		 flag;
} config_keywords[] = {
	{ "tls", LISTEN_TLS },
	{ "proxy", LISTEN_PROXY },
	{ "http", LISTEN_HTTP },
};
#define NKEYWORDS	(sizeof config_keywords / sizeof config_keywords[0])

/* The LISTEN_* flag of a keyword, or 0. */
static int
config_keyword(const char *word)
{
	size_t	i;

	for (i = 0; i < NKEYWORDS; i++) {
		if (strcmp(word, config_keywords[i].name) == 0)
			return (config_keywords[i].flag);
	}
	return (0);
}

/*
 * A listener's name=, for access rules: letters, digits, ".", "_", "-",
 * one at most.  On error return -1 with why in err.
 */
static int
config_listen_name(const char *word, char *name, char *err, size_t len)
{
	size_t	n = strlen(word);

	if (n == 0 || n >= RPCD_LISTEN_NAME_MAX ||
	    strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != n) {
		snprintf(err, len, "bad name=%s (1 to %d letters, digits, "
		    "., _ or -)", word, RPCD_LISTEN_NAME_MAX - 1);
		return (-1);
	}
	memcpy(name, word, n + 1);
	return (0);
}

/*
 * Parse ADDRESS[,KEYWORD...] into a, its LISTEN_* flags and its name ("" if
 * none).  A TCP address has no comma, so the first one ends it; a Unix
 * socket path may, so only known keywords are taken from its end.  On
 * error return -1 with why in err.
 */
static int
config_listen_parse(const char *arg, struct addr *a, int *flags, char *name,
    char *err, size_t len)
{
	char	*text, *comma, *word;
	int	 flag, error;

	text = xstrdup(arg);
	*flags = 0;
	*name = '\0';
	while ((comma = strrchr(text, ',')) != NULL) {
		word = comma + 1;
		if (strncmp(word, "name=", 5) == 0 && *name == '\0') {
			if (config_listen_name(word + 5, name, err,
			    len) != 0) {
				free(text);
				return (-1);
			}
			*comma = '\0';
			continue;
		}
		if ((flag = config_keyword(word)) == 0 &&
		    strncmp(text, "unix:", 5) == 0)
			break;
		if (flag == 0) {
			snprintf(err, len, "unknown keyword %s", word);
			free(text);
			return (-1);
		}
		*flags |= flag;
		*comma = '\0';
	}
	error = addr_parse(text, a, err, len);
	free(text);
	return (error);
}

/* Write listen address i of s with its keywords, as -l takes it. */
static void
config_listen_text(const struct settings *s, int i, char *buf, size_t len)
{
	size_t	k;

	snprintf(buf, len, "%s", s->listen[i].text);
	for (k = 0; k < NKEYWORDS; k++) {
		if (s->listen_flags[i] & config_keywords[k].flag)
			snprintf(buf + strlen(buf), len - strlen(buf), ",%s",
			    config_keywords[k].name);
	}
	if (s->listen_name[i][0] != '\0')
		snprintf(buf + strlen(buf), len - strlen(buf), ",name=%s",
		    s->listen_name[i]);
}

/*
 * Add an origin of --http-cors: scheme://host[:port], as a browser sends
 * it in Origin, compared byte for byte.  On error return -1 with why in
 * err.
 */
static int
config_set_origin(struct settings *s, const char *arg, char *err,
    size_t len)
{
	const char	*host;

	if (s->nhttp_cors == RPCD_HTTP_CORS_MAX) {
		snprintf(err, len, "too many origins (%d at most)",
		    RPCD_HTTP_CORS_MAX);
		return (-1);
	}
	host = strstr(arg, "://");
	if (host == NULL || host == arg || host[3] == '\0' ||
	    strpbrk(host + 3, "/?# \t\"\\") != NULL ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789+.-") !=
	    (size_t)(host - arg)) {
		snprintf(err, len, "not an origin (scheme://host[:port], "
		    "as https://example.com)");
		return (-1);
	}
	s->http_cors[s->nhttp_cors++] = xstrdup(arg);
	return (0);
}

/*
 * Set a number, or with SETTING_WORKERS also "auto" (one per CPU), from
 * arg.  On error return -1 with why in err.
 */
static int
config_set_number(struct settings *s, const struct setting *row,
    const char *arg, char *err, size_t len)
{
	const char	*errstr;
	long long	 v;

	if (row->type == SETTING_WORKERS && strcmp(arg, "auto") == 0) {
		v = sysconf(_SC_NPROCESSORS_ONLN);
		config_store(s, row, v < 1 ? 1 : v > row->max ? row->max : v);
		return (0);
	}
	v = parse_number(arg, row->min, row->max, &errstr);
	if (errstr != NULL) {
		snprintf(err, len, "%s (%lld to %lld)", errstr, row->min,
		    row->max);
		return (-1);
	}
	config_store(s, row, v);
	return (0);
}

/* Add the listen address arg; on error return -1 with why in err. */
static int
config_set_listen(struct settings *s, const char *arg, char *err,
    size_t len)
{
	if (s->nlisten == RPCD_LISTEN_MAX) {
		snprintf(err, len, "too many addresses (%d at most)",
		    RPCD_LISTEN_MAX);
		return (-1);
	}
	if (config_listen_parse(arg, &s->listen[s->nlisten],
	    &s->listen_flags[s->nlisten], s->listen_name[s->nlisten], err,
	    len) != 0)
		return (-1);
	s->nlisten++;
	return (0);
}

/* Add the module line arg; on error return -1 with why in err. */
static int
config_set_module(struct settings *s, const char *arg, char *err,
    size_t len)
{
	if (s->nmodules == RPCD_MODULES_MAX) {
		snprintf(err, len, "too many modules (%d at most)",
		    RPCD_MODULES_MAX);
		return (-1);
	}
	if (arg[strspn(arg, " \t")] == '\0') {
		snprintf(err, len, "no module named");
		return (-1);
	}
	s->modules[s->nmodules++] = xstrdup(arg);
	return (0);
}

/*
 * Add the access rule arg, checked alone (its listener= is checked with
 * the others by config_finish()), to the one list of --allow and --deny;
 * on error return -1 with why in err.
 */
static int
config_set_rule(struct settings *s, const struct setting *row,
    const char *arg, char *err, size_t len)
{
	if (s->nrules == RPCD_ACCESS_RULES_MAX) {
		snprintf(err, len, "too many rules (%d at most)",
		    RPCD_ACCESS_RULES_MAX);
		return (-1);
	}
	if (access_rule_check(arg, err, len) != 0)
		return (-1);
	s->rules[s->nrules] = xstrdup(arg);
	s->rule_allow[s->nrules] = row->def;
	s->rule_line[s->nrules] = 0;
	s->nrules++;
	return (0);
}

/* The list of networks in row's member of s. */
static const struct networks *
config_networks(const struct settings *s, const struct setting *row)
{
	return ((const struct networks *)((const char *)s + row->offset));
}

/* Add the network arg to row's list; on error return -1 with why in err. */
static int
config_set_network(struct settings *s, const struct setting *row,
    const char *arg, char *err, size_t len)
{
	struct networks	*list = (struct networks *)((char *)s + row->offset);

	if (list->n == RPCD_NETWORKS_MAX) {
		snprintf(err, len, "too many networks (%d at most)",
		    RPCD_NETWORKS_MAX);
		return (-1);
	}
	if (network_parse(arg, &list->net[list->n], err, len) != 0)
		return (-1);
	list->n++;
	return (0);
}

/*
 * Set row's host:port from arg, refusing a Unix socket; on error return
 * -1 with why in err, the member left unset.
 */
static int
config_set_tcp(struct settings *s, const struct setting *row,
    const char *arg, char *err, size_t len)
{
	struct addr	*a = (struct addr *)((char *)s + row->offset);

	if (addr_parse(arg, a, err, len) != 0)
		return (-1);
	if (a->ss.ss_family == AF_UNIX) {
		snprintf(err, len, "not a TCP address");
		a->len = 0;
		return (-1);
	}
	return (0);
}

/*
 * Set row's member of s from arg (NULL for an option without argument);
 * on error return -1 with why in err.
 */
static int
config_set(struct settings *s, const struct setting *row, const char *arg,
    char *err, size_t len)
{
	char		**str;
	long long	 v;

	switch (row->type) {
	case SETTING_ACTION:
		break;
	case SETTING_FLAG:
		config_store(s, row, 1);
		break;
	case SETTING_COUNT:
		config_store(s, row, config_load(s, row) + 1);
		break;
	case SETTING_WORKERS:
	case SETTING_NUMBER:
		return (config_set_number(s, row, arg, err, len));
	case SETTING_MODE:
		if ((v = config_mode(arg)) == -1) {
			snprintf(err, len, "not an octal mode (0 to 0%llo)",
			    row->max);
			return (-1);
		}
		config_store(s, row, v);
		break;
	case SETTING_STRING:
		str = (char **)((char *)s + row->offset);
		free(*str);
		*str = arg != NULL ? xstrdup(arg) : NULL;
		break;
	case SETTING_ADDRESS:
		return (config_set_listen(s, arg, err, len));
	case SETTING_MODULE:
		return (config_set_module(s, arg, err, len));
	case SETTING_ORIGIN:
		return (config_set_origin(s, arg, err, len));
	case SETTING_TCP_ADDRESS:
		return (config_set_tcp(s, row, arg, err, len));
	case SETTING_NETWORKS:
		return (config_set_network(s, row, arg, err, len));
	case SETTING_RULE:
		return (config_set_rule(s, row, arg, err, len));
	case SETTING_LEVEL:
		if ((v = log_level_parse(arg)) == -1) {
			snprintf(err, len, "not error, warning, info or "
			    "debug");
			return (-1);
		}
		config_store(s, row, v);
		break;
	}
	return (0);
}

/* Order the synopsis: -a before -A before -b, long options by name. */
static int
config_synopsis_cmp(const void *a, const void *b)
{
	const struct setting	*x = *(const struct setting * const *)a;
	const struct setting	*y = *(const struct setting * const *)b;
	int			 d;

	if ((x->letter == 0) != (y->letter == 0))
		return (x->letter == 0 ? 1 : -1);
	if (x->letter == 0)
		return (strcmp(x->name, y->name));
	if ((d = tolower(x->letter) - tolower(y->letter)) != 0)
		return (d);
	return (x->letter - y->letter);
}

/* Append word to the synopsis, wrapping it under "rpcd". */
static void
config_synopsis_add(char **syn, size_t *col, const char *word)
{
	char	*next;

	if (*col + 1 + strlen(word) > SYNOPSIS_WIDTH) {
		if (asprintf(&next, "%s\n            %s", *syn, word) == -1)
			fatal("asprintf");
		*col = 12 + strlen(word);
	} else {
		if (asprintf(&next, "%s %s", *syn, word) == -1)
			fatal("asprintf");
		*col += 1 + strlen(word);
	}
	free(*syn);
	*syn = next;
}

/*
 * Make the synopsis from the table: the flags in one group, then the
 * short options with an argument, then the long ones, each sorted.
 */
static const char *
config_usage_line(void)
{
	const struct setting	*sorted[NSETTINGS];
	char			 flags[NSETTINGS + 3], word[64];
	size_t			 i, n = 0, col;

	if (config_synopsis != NULL)
		return (config_synopsis);
	for (i = 0; i < NSETTINGS; i++)
		sorted[i] = &settings[i];
	qsort(sorted, NSETTINGS, sizeof sorted[0], config_synopsis_cmp);
	flags[n++] = '[';
	flags[n++] = '-';
	for (i = 0; i < NSETTINGS; i++) {
		if (sorted[i]->letter != 0 && sorted[i]->arg == NULL)
			flags[n++] = sorted[i]->letter;
	}
	flags[n++] = ']';
	flags[n] = '\0';
	config_synopsis = xstrdup("usage: rpcd");
	col = strlen(config_synopsis);
	config_synopsis_add(&config_synopsis, &col, flags);
	for (i = 0; i < NSETTINGS; i++) {
		if (sorted[i]->letter != 0 && sorted[i]->arg != NULL)
			snprintf(word, sizeof word, "[-%c %s]",
			    sorted[i]->letter, sorted[i]->arg);
		else if (sorted[i]->letter == 0)
			snprintf(word, sizeof word, "[--%s%s%s]",
			    sorted[i]->name, sorted[i]->arg ? " " : "",
			    sorted[i]->arg ? sorted[i]->arg : "");
		else
			continue;
		config_synopsis_add(&config_synopsis, &col, word);
	}
	return (config_synopsis);
}

static __dead void printflike(1, 2)
config_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "rpcd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\nTry 'rpcd --help' for more information.\n",
	    config_usage_line());
	exit(2);
}

/* Print one option's lines of --help, its default after its help. */
static void
config_help_row(const struct setting *row)
{
	char		 head[64], arg[32];
	const char	*line, *end;
	size_t		 i;
	int		 n;

	for (i = 0; row->arg != NULL && row->arg[i] != '\0' &&
	    i < sizeof arg - 1; i++)
		arg[i] = toupper((unsigned char)row->arg[i]);
	arg[i] = '\0';
	if (row->letter != 0)
		snprintf(head, sizeof head, "  -%c, --%s%s%s", row->letter,
		    row->name, row->arg ? " " : "", arg);
	else
		snprintf(head, sizeof head, "      --%s%s%s", row->name,
		    row->arg ? " " : "", arg);
	n = printf("%s", head);
	for (line = row->help; ; line = end + 1) {
		end = strchr(line, '\n');
		printf("%*s%.*s", n < HELP_COLUMN - 1 ? HELP_COLUMN - n : 2,
		    "", end ? (int)(end - line) : (int)strlen(line), line);
		if (end == NULL)
			break;
		printf("\n");
		n = 0;
	}
	if (row->shown != NULL)
		printf(" (default %s)", row->shown);
	else if (row->type == SETTING_NUMBER)
		printf(" (default %lld)", row->def);
	printf("\n");
}

static __dead void
config_usage(void)
{
	size_t	i;

	printf("%s\n\n", config_usage_line());
	for (i = 0; i < NSETTINGS; i++)
		config_help_row(&settings[i]);
	exit(0);
}

/* path made absolute against the directory rpcd started in. */
static char *
config_absolute(const char *path)
{
	char	*abs;

	if (config_cwd == NULL && (config_cwd = realpath(".", NULL)) == NULL)
		fatal("cannot resolve the current directory");
	if (asprintf(&abs, "%s/%s", config_cwd, path) == -1)
		fatal("asprintf");
	return (abs);
}

/*
 * Make the pid file, TLS file and Unix socket paths absolute, once: -d
 * changes to / before they are written, removed or read again.
 */
static int
config_resolve(struct settings *s, char *err, size_t len)
{
	struct sockaddr_un	*sun;
	char			**paths[] = { &s->pidfile, &s->log_file,
	    &s->tls_cert, &s->tls_key, &s->tls_ca };
	char			 text[ADDR_TEXT_MAX], *abs;
	int			 i, error;

	for (i = 0; i < s->nlisten; i++) {
		sun = (struct sockaddr_un *)&s->listen[i].ss;
		if (sun->sun_family != AF_UNIX || sun->sun_path[0] == '/')
			continue;
		abs = config_absolute(sun->sun_path);
		snprintf(text, sizeof text, "unix:%s", abs);
		free(abs);
		if (addr_parse(text, &s->listen[i], err, len) != 0) {
			error = strlen(err);
			snprintf(err + error, len - error, ": %s", text);
			return (-1);
		}
	}
	for (i = 0; i < (int)(sizeof paths / sizeof paths[0]); i++) {
		if (*paths[i] != NULL && (*paths[i])[0] != '/') {
			abs = config_absolute(*paths[i]);
			free(*paths[i]);
			*paths[i] = abs;
		}
	}
	for (i = 0; i < s->nmodules; i++) {
		/* Absolute, or a name for the module directory: kept. */
		error = strspn(s->modules[i], " \t");
		if (s->modules[i][error] == '/' ||
		    strcspn(s->modules[i] + error, "/ \t") ==
		    strcspn(s->modules[i] + error, " \t"))
			continue;
		if (strncmp(s->modules[i] + error, "./", 2) == 0)
			error += 2;
		abs = config_absolute(s->modules[i] + error);
		free(s->modules[i]);
		s->modules[i] = abs;
	}
	return (0);
}

/* Give every setting its default. */
static void
config_defaults(struct settings *s)
{
	size_t	i;

	memset(s, 0, sizeof *s);
	for (i = 0; i < NSETTINGS; i++) {
		if (settings[i].size != 0 &&
		    settings[i].type != SETTING_STRING &&
		    settings[i].type != SETTING_TCP_ADDRESS &&
		    settings[i].type != SETTING_NETWORKS &&
		    settings[i].type != SETTING_RULE)
			config_store(s, &settings[i], settings[i].def);
	}
}

/* Free the strings of s. */
void
config_free(struct settings *s)
{
	size_t	i;
	int	n;

	for (i = 0; i < NSETTINGS; i++) {
		if (settings[i].type == SETTING_STRING)
			free(*(char **)((char *)s + settings[i].offset));
	}
	for (n = 0; n < s->nmodules; n++)
		free(s->modules[n]);
	for (n = 0; n < s->nhttp_cors; n++)
		free(s->http_cors[n]);
	for (n = 0; n < s->nrules; n++)
		free(s->rules[n]);
	access_free(s->access);
}

/*
 * Copy src to dst, strings and all, but not the rules made: those are
 * config_finish()'s to make.
 */
static void
config_copy(struct settings *dst, const struct settings *src)
{
	char	**str;
	size_t	  i;
	int	  n;

	*dst = *src;
	for (i = 0; i < NSETTINGS; i++) {
		if (settings[i].type != SETTING_STRING)
			continue;
		str = (char **)((char *)dst + settings[i].offset);
		if (*str != NULL)
			*str = xstrdup(*str);
	}
	for (n = 0; n < src->nmodules; n++)
		dst->modules[n] = xstrdup(src->modules[n]);
	for (n = 0; n < src->nhttp_cors; n++)
		dst->http_cors[n] = xstrdup(src->http_cors[n]);
	for (n = 0; n < src->nrules; n++)
		dst->rules[n] = xstrdup(src->rules[n]);
	dst->access = NULL;
}

/* The directive called name, or NULL. */
static const struct setting *
config_directive(const char *name)
{
	size_t	i;

	for (i = 0; i < NSETTINGS; i++) {
		if (!(settings[i].flags & SETTING_CMDLINE) &&
		    strcmp(settings[i].name, name) == 0)
			return (&settings[i]);
	}
	return (NULL);
}

/*
 * Split a line of the file into its directive and its value (the rest of
 * the line, NULL if empty), dropping a comment: a # that starts a word.
 * Return 0 for a line with no directive.
 */
static int
config_split(char *line, char **name, char **value)
{
	char	*p, *end;

	for (p = line; *p != '\0'; p++) {
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	for (p = line; isspace((unsigned char)*p); p++)
		;
	if (*p == '\0')
		return (0);
	*name = p;
	while (*p != '\0' && !isspace((unsigned char)*p))
		p++;
	*value = NULL;
	if (*p != '\0') {
		*p++ = '\0';
		while (isspace((unsigned char)*p))
			p++;
		*value = p;
	}
	return (1);
}

/* Did the command line give --allow or --deny? */
static int
config_given_rules(void)
{
	size_t	i;

	for (i = 0; i < NSETTINGS; i++) {
		if (settings[i].type == SETTING_RULE &&
		    (config_given & ((uint64_t)1 << i)))
			return (1);
	}
	return (0);
}

/*
 * Make the access rules of s, checking each listener= against the
 * listeners; on error return -1 with "file:line: allow RULE: why" (or
 * "--allow RULE: why") in err.
 */
static int
config_access(struct settings *s, char *err, size_t len)
{
	char	why[256];
	int	bad;

	s->access = access_new(s->rules, s->rule_allow, s->nrules, s->listen,
	    (const char (*)[RPCD_LISTEN_NAME_MAX])s->listen_name, s->nlisten,
	    &bad, why, sizeof why);
	if (bad == -1)
		return (0);
	if (s->rule_line[bad] != 0)
		snprintf(err, len, "%s:%d: %s %s: %s", s->config,
		    s->rule_line[bad], s->rule_allow[bad] ? "allow" : "deny",
		    s->rules[bad], why);
	else
		snprintf(err, len, "--%s %s: %s", s->rule_allow[bad] ?
		    "allow" : "deny", s->rules[bad], why);
	return (-1);
}

/*
 * Read the file into s, skipping (but checking) what the command line
 * gave.  On error return -1 with "file:line: why" in err.
 */
static int
config_read(const char *path, struct settings *s, char *err, size_t len)
{
	const struct setting	*row;
	struct settings		 scratch, *to;
	FILE			*f;
	char			*line = NULL, *name, *value, why[256];
	size_t			 size = 0, i;
	int			 lineno = 0, error = -1, given;

	memset(config_lines, 0, sizeof config_lines);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return (-1);
	}
	config_defaults(&scratch);
	while (getline(&line, &size, f) != -1) {
		lineno++;
		if (!config_split(line, &name, &value))
			continue;
		if ((row = config_directive(name)) == NULL) {
			snprintf(err, len, "%s:%d: unknown directive %s", path,
			    lineno, name);
			goto out;
		}
		i = row - settings;
		if (config_lines[i] != 0 && !(row->flags & SETTING_REPEAT)) {
			snprintf(err, len, "%s:%d: %s given twice (first on "
			    "line %d)", path, lineno, name, config_lines[i]);
			goto out;
		}
		if (row->arg == NULL && value != NULL) {
			snprintf(err, len, "%s:%d: %s takes no value: %s",
			    path, lineno, name, value);
			goto out;
		}
		if (row->arg != NULL && value == NULL) {
			snprintf(err, len, "%s:%d: %s needs %s %s", path,
			    lineno, name, strchr("aeiou", *row->arg) ? "an" :
			    "a", row->arg);
			goto out;
		}
		/* Rules on the command line replace all of the file's. */
		given = row->type == SETTING_RULE ? config_given_rules() :
		    (config_given & ((uint64_t)1 << i)) != 0;
		to = given ? &scratch : s;
		if (config_set(to, row, value, why, sizeof why) != 0) {
			snprintf(err, len, "%s:%d: %s %s: %s", path, lineno,
			    name, value, why);
			goto out;
		}
		if (row->type == SETTING_RULE)
			to->rule_line[to->nrules - 1] = lineno;
		config_lines[i] = lineno;
	}
	if (ferror(f))
		snprintf(err, len, "%s: %s", path, strerror(errno));
	else
		error = 0;
out:
	config_free(&scratch);
	free(line);
	fclose(f);
	return (error);
}

/* Name where option name was set: "file:line: name" or "--name". */
static void
config_where(const struct settings *s, const char *name, char *buf,
    size_t len)
{
	const struct setting	*row = config_directive(name);
	int			 line = config_lines[row - settings];

	if (line != 0)
		snprintf(buf, len, "%s:%d: %s", s->config, line, name);
	else
		snprintf(buf, len, "--%s", name);
}

/* Is str NULL (the default) or one of the words of the NULL-ended list? */
static int
config_one_of(const char *str, const char *const *words)
{
	for (; str != NULL && *words != NULL; words++) {
		if (strcmp(str, *words) == 0)
			return (1);
	}
	return (str == NULL);
}

/*
 * The TLS settings: each TLS listener needs a certificate and its key,
 * checking client certificates needs their CA, and a build without
 * OpenSSL takes none of them.  On error return -1 with why in err.
 */
static int
config_check_tls(const struct settings *s, char *err, size_t len)
{
	static const char *const verify[] = { "none", "optional", "require",
	    NULL };
	static const char *const versions[] = { "1.2", "1.3", NULL };
	char			 where[PATH_MAX + 32];
	int			 i;

	for (i = 0; i < s->nlisten; i++) {
		if (!(s->listen_flags[i] & LISTEN_TLS))
			continue;
#ifndef HAVE_TLS
		snprintf(err, len, "listen %s,tls: built without TLS",
		    s->listen[i].text);
		return (-1);
#endif
		if (s->tls_cert == NULL || s->tls_key == NULL) {
			snprintf(err, len, "listen %s,tls needs tls-cert and "
			    "tls-key", s->listen[i].text);
			return (-1);
		}
	}
	if (!config_one_of(s->tls_verify, verify)) {
		config_where(s, "tls-verify", where, sizeof where);
		snprintf(err, len, "%s %s: expected none, optional or require",
		    where, s->tls_verify);
		return (-1);
	}
	if (!config_one_of(s->tls_min_version, versions)) {
		config_where(s, "tls-min-version", where, sizeof where);
		snprintf(err, len, "%s %s: expected 1.2 or 1.3", where,
		    s->tls_min_version);
		return (-1);
	}
	if (s->tls_verify != NULL && strcmp(s->tls_verify, "none") != 0 &&
	    s->tls_ca == NULL) {
		config_where(s, "tls-verify", where, sizeof where);
		snprintf(err, len, "%s %s needs tls-ca", where, s->tls_verify);
		return (-1);
	}
#ifndef HAVE_TLS
	if (s->tls_cert != NULL || s->tls_key != NULL || s->tls_ca != NULL ||
	    s->tls_verify != NULL || s->tls_min_version != NULL ||
	    s->tls_ciphers != NULL || s->tls_ciphersuites != NULL) {
		snprintf(err, len, "TLS options: built without TLS");
		return (-1);
	}
#endif
	return (0);
}

/*
 * --register and --advertise: a URL ZooKeeper's client can use, in a
 * build with ZooKeeper, and a host name or address to advertise.  On
 * error return -1 with why in err.
 */
static int
config_check_register(const struct settings *s, char *err, size_t len)
{
	char		 where[PATH_MAX + 32], hosts[ZK_URL_MAX];
	char		 path[ZK_URL_MAX];
	const char	*why;

	if (s->register_url == NULL) {
		if (s->advertise == NULL)
			return (0);
		config_where(s, "advertise", where, sizeof where);
		snprintf(err, len, "%s needs register", where);
		return (-1);
	}
	config_where(s, "register", where, sizeof where);
#ifndef HAVE_ZOOKEEPER
	snprintf(err, len, "%s: rpcd was built without ZooKeeper", where);
	return (-1);
#endif
	if ((why = zk_url_split(s->register_url, hosts,
	    sizeof hosts, path, sizeof path)) != NULL) {
		snprintf(err, len, "%s %s: %s", where, s->register_url, why);
		return (-1);
	}
	if (s->advertise != NULL && (*s->advertise == '\0' ||
	    strlen(s->advertise) >= ADDR_TEXT_MAX ||
	    strspn(s->advertise, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
	    strlen(s->advertise))) {
		config_where(s, "advertise", where, sizeof where);
		snprintf(err, len, "%s %s: expected a host name or address",
		    where, s->advertise);
		return (-1);
	}
	return (0);
}

/*
 * Check what no single setting can and complete s: the default address,
 * absolute paths.  On error return -1 with why in err, naming the line of
 * the file that set it.
 */
static int
config_finish(struct settings *s, char *err, size_t len)
{
	char	where[PATH_MAX + 32];

	config_where(s, "reuseport", where, sizeof where);
	if (s->reuseport && s->prefork == 0) {
		snprintf(err, len, "%s needs prefork", where);
		return (-1);
	}
	if (s->reuseport && !config_can_reuseport) {
		snprintf(err, len, "%s: this system's kernel does not "
		    "balance connections over sockets", where);
		return (-1);
	}
	if (config_check_tls(s, err, len) != 0 ||
	    config_check_register(s, err, len) != 0)
		return (-1);
	if (s->nlisten == 0 && addr_parse(ADDR_DEFAULT, &s->listen[0], err,
	    len) == 0)
		s->nlisten = 1;
	/* PROXY headers are believed from this host alone, unless told. */
	if (s->proxy_from.n == 0 && network_parse("127.0.0.0/8",
	    &s->proxy_from.net[0], err, len) == 0 && network_parse("::1",
	    &s->proxy_from.net[1], err, len) == 0)
		s->proxy_from.n = 2;
	if (config_resolve(s, err, len) != 0)
		return (-1);
	return (config_access(s, err, len));
}

/* Write row's value in s to buf as the file would give it; "" if unset. */
static void
config_value(const struct settings *s, const struct setting *row,
    char *buf, size_t len)
{
	const struct addr	*a;
	const struct networks	*list;
	const char		*str;
	long long		 v;
	int			 i;

	*buf = '\0';
	switch (row->type) {
	case SETTING_ACTION:
		break;
	case SETTING_FLAG:
	case SETTING_COUNT:
	case SETTING_NUMBER:
	case SETTING_WORKERS:
		snprintf(buf, len, "%lld", config_load(s, row));
		break;
	case SETTING_MODE:
		if ((v = config_load(s, row)) >= 0)
			snprintf(buf, len, "0%llo", v);
		break;
	case SETTING_STRING:
		str = *(char * const *)((const char *)s + row->offset);
		snprintf(buf, len, "%s", str != NULL ? str : "");
		break;
	case SETTING_ADDRESS:
		for (i = 0; i < s->nlisten; i++) {
			if (i > 0)
				snprintf(buf + strlen(buf), len - strlen(buf),
				    " ");
			config_listen_text(s, i, buf + strlen(buf),
			    len - strlen(buf));
		}
		break;
	case SETTING_MODULE:
		for (i = 0; i < s->nmodules; i++)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    i > 0 ? "; " : "", s->modules[i]);
		break;
	case SETTING_ORIGIN:
		for (i = 0; i < s->nhttp_cors; i++)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    i > 0 ? " " : "", s->http_cors[i]);
		break;
	case SETTING_LEVEL:
		snprintf(buf, len, "%s", log_level_name(config_load(s, row)));
		break;
	case SETTING_TCP_ADDRESS:
		a = (const struct addr *)((const char *)s + row->offset);
		if (a->len != 0)
			snprintf(buf, len, "%s", a->text);
		break;
	case SETTING_NETWORKS:
		list = config_networks(s, row);
		for (i = 0; i < list->n; i++) {
			if (i > 0)
				snprintf(buf + strlen(buf), len - strlen(buf),
				    " ");
			network_format(&list->net[i], buf + strlen(buf),
			    len - strlen(buf));
		}
		break;
	case SETTING_RULE:
		for (i = 0; i < s->nrules; i++) {
			if (s->rule_allow[i] == row->def)
				snprintf(buf + strlen(buf), len - strlen(buf),
				    "%s%s", *buf != '\0' ? "; " : "",
				    s->rules[i]);
		}
		break;
	}
}

/*
 * -n: print the settings of s as directives, a line each (a line per
 * address, module or -v), those without a value commented out.
 */
void
config_print(const struct settings *s)
{
	const struct setting	*row;
	const struct networks	*list;
	char			 value[PATH_MAX + 64];
	size_t			 i;
	int			 n;

	for (i = 0; i < NSETTINGS; i++) {
		row = &settings[i];
		if (row->flags & SETTING_CMDLINE)
			continue;
		config_value(s, row, value, sizeof value);
		if (row->type == SETTING_ADDRESS) {
			for (n = 0; n < s->nlisten; n++) {
				config_listen_text(s, n, value, sizeof value);
				printf("%s %s\n", row->name, value);
			}
		} else if (row->type == SETTING_MODULE) {
			for (n = 0; n < s->nmodules; n++)
				printf("%s %s\n", row->name, s->modules[n]);
			if (s->nmodules == 0)
				printf("#%s\n", row->name);
		} else if (row->type == SETTING_ORIGIN) {
			for (n = 0; n < s->nhttp_cors; n++)
				printf("%s %s\n", row->name, s->http_cors[n]);
			if (s->nhttp_cors == 0)
				printf("#%s\n", row->name);
		} else if (row->type == SETTING_RULE) {
			/* One list: printed in its order, at the first row. */
			for (n = 0; row->def && n < s->nrules; n++)
				printf("%s %s\n", s->rule_allow[n] ? "allow" :
				    "deny", s->rules[n]);
			if (s->nrules == 0)
				printf("#%s\n", row->name);
		} else if (row->type == SETTING_NETWORKS) {
			list = config_networks(s, row);
			for (n = 0; n < list->n; n++) {
				network_format(&list->net[n], value,
				    sizeof value);
				printf("%s %s\n", row->name, value);
			}
		} else if (row->type == SETTING_COUNT && *value != '0') {
			for (n = 0; n < config_load(s, row); n++)
				printf("%s\n", row->name);
		} else if (row->arg == NULL)
			printf("%s%s\n", strcmp(value, "0") == 0 ? "#" : "",
			    row->name);
		else
			printf("%s%s%s%s\n", *value == '\0' ? "#" : "",
			    row->name, *value == '\0' ? "" : " ", value);
	}
}

/*
 * Parse the command line into s (exit 2 on a usage error), then read the
 * file, -f's or the default one if it exists (exit 1 on an error in it).
 * The long options and the short ones are made from the table.
 * can_reuseport says whether this kernel balances connections over
 * sockets bound to one address (listener.c knows): if not, reuseport is
 * refused, now and at a reload.
 */
void
config_init(int argc, char **argv, struct settings *s, int can_reuseport)
{
	static char		 name[] = "rpcd";
	struct option		 longopts[NSETTINGS + 1];
	const struct setting	*row;
	char			 optstring[2 * NSETTINGS + 1];
	char			 err[PATH_MAX + 256], *path;
	size_t			 i, n = 0;
	int			 ch;

	if (NSETTINGS > 64)
		fatalx("more options than config_given has bits");
	memset(longopts, 0, sizeof longopts);
	for (i = 0; i < NSETTINGS; i++) {
		longopts[i].name = settings[i].name;
		longopts[i].has_arg = settings[i].arg != NULL ?
		    required_argument : no_argument;
		longopts[i].val = 256 + i;
		if (settings[i].letter != 0) {
			optstring[n++] = settings[i].letter;
			if (settings[i].arg != NULL)
				optstring[n++] = ':';
		}
	}
	optstring[n] = '\0';
	config_can_reuseport = can_reuseport;

	/* getopt's own messages name argv[0], the libtool wrapper's path. */
	argv[0] = name;
	config_defaults(s);
	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) !=
	    -1) {
		for (row = NULL, i = 0; i < NSETTINGS; i++) {
			if (ch == (int)(256 + i) || ch == settings[i].letter)
				row = &settings[i];
		}
		if (row == NULL) {
			fprintf(stderr, "%s\nTry 'rpcd --help' for more "
			    "information.\n", config_usage_line());
			exit(2);
		}
		if (row->letter == 'h')
			config_usage();
		if (row->letter == 'V') {
			printf("rpcd %s\n", VERSION);
			exit(0);
		}
		if (config_set(s, row, optarg, err, sizeof err) != 0)
			config_usage_error("--%s %s: %s", row->name, optarg,
			    err);
		config_given |= (uint64_t)1 << (row - settings);
	}
	if (optind != argc)
		config_usage_error("unexpected argument: %s", argv[optind]);
#ifndef HAVE_ZOOKEEPER
	if (s->register_url != NULL)
		config_usage_error("--register: rpcd was built without "
		    "ZooKeeper");
#endif

	if (s->config == NULL && access(RPCD_CONF_FILE, F_OK) == 0)
		s->config = xstrdup(RPCD_CONF_FILE);
	if (s->config != NULL && s->config[0] != '/') {
		path = config_absolute(s->config);
		free(s->config);
		s->config = path;
	}
	config_copy(&config_cmdline, s);
	if (s->config != NULL && config_read(s->config, s, err,
	    sizeof err) != 0) {
		fprintf(stderr, "rpcd: %s\n", err);
		exit(1);
	}
	if (config_finish(s, err, sizeof err) != 0) {
		fprintf(stderr, "rpcd: %s\n", err);
		exit(s->config != NULL ? 1 : 2);
	}
}

/*
 * The command line's settings with the file read again over them, or NULL
 * with why in err.
 */
static struct settings *
config_reread(char *err, size_t len)
{
	struct settings	*s;

	s = xcalloc(1, sizeof *s);
	config_copy(s, &config_cmdline);
	if (s->config != NULL && (config_read(s->config, s, err, len) != 0 ||
	    config_finish(s, err, len) != 0)) {
		config_free(s);
		free(s);
		return (NULL);
	}
	return (s);
}

/*
 * SIGHUP: read the file again over the command line's settings.  A
 * setting that cannot change without a restart keeps its running value,
 * and the log says so.  Return the new settings, or NULL after logging
 * why the file cannot be used.  The modules are the caller's to load
 * (module_reload()).
 */
struct settings *
config_reload(const struct settings *running)
{
	const struct setting	*row;
	struct settings		*s;
	char			 err[PATH_MAX + 256], was[PATH_MAX + 64];
	char			 now[PATH_MAX + 64];
	size_t			 i;

	if ((s = config_reread(err, sizeof err)) == NULL) {
		log_warnx("SIGHUP: %s; still serving with the running "
		    "configuration and workers", err);
		return (NULL);
	}
	if (s->config == NULL)
		log_info("SIGHUP: no configuration file: the settings stay");
	for (i = 0; i < NSETTINGS; i++) {
		row = &settings[i];
		if (!(row->flags & SETTING_RESTART))
			continue;
		config_value(running, row, was, sizeof was);
		config_value(s, row, now, sizeof now);
		if (strcmp(was, now) == 0)
			continue;
		log_warnx("SIGHUP: %s changed from '%s' to '%s': it needs a "
		    "restart, and stays '%s' until then", row->name, was, now,
		    was);
		if (row->type == SETTING_ADDRESS) {
			memcpy(s->listen, running->listen, sizeof s->listen);
			memcpy(s->listen_flags, running->listen_flags,
			    sizeof s->listen_flags);
			s->nlisten = running->nlisten;
		} else if (row->type == SETTING_STRING) {
			config_set(s, row, *was != '\0' ? was : NULL, err,
			    sizeof err);
		} else if (row->type == SETTING_TCP_ADDRESS) {
			memcpy((char *)s + row->offset,
			    (const char *)running + row->offset, row->size);
		} else
			config_store(s, row, config_load(running, row));
	}
	return (s);
}

/*
 * SIGHUP in a single process: read the access rules of the file again
 * (the command line's, if it gave any, stay), with the whole file checked
 * as a reload checks it; what else it changed is not applied.  Return 0
 * with the new rules in *access (NULL: none), or -1 after logging why the
 * file cannot be used: the running rules stay.
 */
int
config_reload_access(const struct settings *running, struct access **access)
{
	struct settings	*s;
	char		 err[PATH_MAX + 256];

	if (running->config == NULL) {
		log_info("SIGHUP: no configuration file: the access rules "
		    "stay");
		return (-1);
	}
	if ((s = config_reread(err, sizeof err)) == NULL) {
		log_warnx("SIGHUP: %s; the running access rules stay", err);
		return (-1);
	}
	*access = s->access;
	s->access = NULL;
	config_free(s);
	free(s);
	return (0);
}

/* The log threshold, a syslog priority: -v is --log-level debug. */
int
config_log_level(const struct settings *s)
{
	return (s->verbose > 0 ? LOG_DEBUG : s->log_level);
}

/* The settings a worker runs with, for the stats reply. */
struct json_object *
config_to_json(const struct settings *s)
{
	const struct setting	*row;
	const struct networks	*list;
	struct json_object	*o, *v;
	char			 value[PATH_MAX + 64];
	size_t			 i;
	int			 n, failed = 0;

	if ((o = json_object_new_object()) == NULL)
		return (NULL);
	for (i = 0; i < NSETTINGS; i++) {
		row = &settings[i];
		if (row->flags & SETTING_CMDLINE)
			continue;
		config_value(s, row, value, sizeof value);
		switch (row->type) {
		case SETTING_ADDRESS:
			v = json_object_new_array();
			for (n = 0; n < s->nlisten; n++) {
				config_listen_text(s, n, value, sizeof value);
				failed |= json_add(v, NULL,
				    json_object_new_string(value));
			}
			break;
		case SETTING_MODULE:
			v = json_object_new_array();
			for (n = 0; n < s->nmodules; n++)
				failed |= json_add(v, NULL,
				    json_object_new_string(s->modules[n]));
			break;
		case SETTING_ORIGIN:
			v = json_object_new_array();
			for (n = 0; n < s->nhttp_cors; n++)
				failed |= json_add(v, NULL,
				    json_object_new_string(s->http_cors[n]));
			break;
		case SETTING_NETWORKS:
			v = json_object_new_array();
			list = config_networks(s, row);
			for (n = 0; n < list->n; n++) {
				network_format(&list->net[n], value,
				    sizeof value);
				failed |= json_add(v, NULL,
				    json_object_new_string(value));
			}
			break;
		case SETTING_RULE:
			/* One list, "allow ..." and "deny ...", in order. */
			if (!row->def)
				continue;
			v = json_object_new_array();
			for (n = 0; n < s->nrules; n++) {
				snprintf(value, sizeof value, "%s %s",
				    s->rule_allow[n] ? "allow" : "deny",
				    s->rules[n]);
				failed |= json_add(v, NULL,
				    json_object_new_string(value));
			}
			break;
		case SETTING_FLAG:
			v = json_object_new_boolean(config_load(s, row));
			break;
		case SETTING_LEVEL:
			v = json_object_new_string(value);
			break;
		case SETTING_MODE:
		case SETTING_STRING:
		case SETTING_TCP_ADDRESS:
			if (*value == '\0')
				continue;	/* not set: left out */
			v = json_object_new_string(value);
			break;
		default:
			v = json_object_new_int64(config_load(s, row));
			break;
		}
		failed |= json_add(o, row->name, v);
	}
	if (failed) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}
