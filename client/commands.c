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

/* The commands: ping, call, batch, stats, methods and members. */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rpcctl.h"

#define BATCH_WINDOW	128	/* requests in flight in a batch */

/*
 * Parse a reply's result span into a json-c tree, or exit 3.  NULL stands
 * for a JSON null as well as for no result at all.
 */
static struct json_object *
result_tree(const struct client *c)
{
	struct json_object	*o;
	struct json_tokener	*tok;
	enum json_tokener_error	 error;

	if (c->reply.value == NULL)
		return (NULL);
	if ((tok = json_tokener_new()) == NULL)
		fatalx("json_tokener_new");
	o = json_tokener_parse_ex(tok, c->reply.value, c->reply.value_len);
	/*
	 * A number, true, false or null could go on for all json-c knows
	 * from the span alone: a nul byte tells it the text ends there.
	 */
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	error = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (error != json_tokener_success)
		server_error("%s sent a result json-c cannot read: %s",
		    c->server, json_tokener_error_desc(error));
	return (o);
}

/* Print a reply as the server sent it, one line. */
static void
reply_raw(const struct client *c)
{
	printf("%.*s\n", (int)c->body_len, c->body);
}

/*
 * An error reply: print its code and message on stderr (in the shell, on
 * standard output after "(error)", as redis-cli) and, with --json, the
 * reply itself as any other; return exit status 1.
 */
static int
reply_error(const struct client *c, const char *method)
{
	struct json_object	*o, *code, *msg;

	o = result_tree(c);
	if (!json_object_object_get_ex(o, "code", &code) ||
	    !json_object_object_get_ex(o, "message", &msg))
		server_error("%s sent an error without code and message",
		    c->server);
	if (c->opt->json)
		reply_raw(c);
	if (c->opt->shell)
		printf("(error) %s: %s\n", json_object_get_string(code),
		    json_object_get_string(msg));
	else
		fprintf(stderr, "rpcctl: %s: %s: %s\n", method,
		    json_object_get_string(code), json_object_get_string(msg));
	json_object_put(o);
	return (EXIT_REPLY);
}

static int
is_error(const struct client *c)
{
	return (strcmp(c->reply.name, "error") == 0);
}

/*
 * Send one request and read its reply: 0, or -1 if SIGINT came first;
 * exit if the server failed us.
 */
static int
call_once(struct client *c, const char *method, const char *params)
{
	if (command_check(c->err, client_send(c, method, params,
	    params == NULL ? 0 : strlen(params))) == -1)
		return (-1);
	return (command_check(c->err, client_read(c)));
}

#define PING_USAGE \
	"usage: rpcctl ping [-c count] [-i interval] [message]"

/* ping's round trips so far, for its summary. */
struct ping_stats {
	long long	sent, received;
	double		min, max, sum, sum2;	/* milliseconds */
};

/* Read ping's options into *count and *interval, and the global ones. */
static void
ping_options(struct options *opt, int argc, char **argv, long long *count,
    double *interval)
{
	int	ch;

	while ((ch = command_option(opt, "ping", argc, argv, "c:i:",
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			*count = option_number(1, 1000000000);
			break;
		case 'i':
			*interval = option_seconds(0, 3600);
			break;
		default:
			usage_error(PING_USAGE);
		}
	}
	if (argc - optind > 1)
		usage_error(PING_USAGE);
	options_finish(opt);
}

/* The right pong came ms after its ping: count it and print its line. */
static void
ping_record(struct ping_stats *ps, const struct client *c, double ms)
{
	ps->received++;
	if (ps->received == 1 || ms < ps->min)
		ps->min = ms;
	if (ms > ps->max)
		ps->max = ms;
	ps->sum += ms;
	ps->sum2 += ms * ms;
	if (c->opt->json)
		reply_raw(c);
	else
		printf("pong from %s: seq=%lld time=%.3f ms\n", c->server,
		    ps->sent - 1, ms);
	fflush(stdout);
}

/* The summary, as ping(8)'s: losses, then min/avg/max/stddev. */
static void
ping_summary(const struct ping_stats *ps, const char *server)
{
	double	avg = ps->received ? ps->sum / ps->received : 0;

	printf("--- %s ping statistics ---\n", server);
	printf("%lld sent, %lld received, %.0f%% loss\n", ps->sent,
	    ps->received, 100.0 * (ps->sent - ps->received) / ps->sent);
	if (ps->received > 0)
		printf("rtt min/avg/max/stddev = %.3f/%.3f/%.3f/%.3f ms\n",
		    ps->min, avg, ps->max,
		    sqrt(fmax(0, ps->sum2 / ps->received - avg * avg)));
}

int
cmd_ping(struct options *opt, int argc, char **argv)
{
	struct client		 c;
	struct json_object	*msg;
	struct ping_stats	 ps = { 0 };
	const char		*params;
	long long		 count = 1;
	double			 interval = 1, t, ms;
	int			 status = EXIT_OK;

	ping_options(opt, argc, argv, &count, &interval);
	msg = json_object_new_string(optind < argc ? argv[optind] : "rpcctl");
	params = json_object_to_json_string_ext(msg,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	command_connect(&c, opt, 0);
	/* SIGINT ends the pings, as ping(8)'s, with the summary. */
	client_catch_sigint();
	while (ps.sent < count) {
		if (ps.sent > 0 && interval > 0 && command_check(c.err,
		    client_pause(interval, c.err, sizeof c.err)) == -1)
			break;
		t = time_monotonic();
		ps.sent++;
		if (call_once(&c, "ping", params) == -1)
			break;
		ms = (time_monotonic() - t) * 1000;
		if (is_error(&c)) {
			status = reply_error(&c, "ping");
			client_consume(&c);
			continue;
		}
		if (strcmp(c.reply.name, "pong") != 0 || c.reply.value == NULL ||
		    c.reply.value_len != strlen(params) ||
		    memcmp(c.reply.value, params, c.reply.value_len) != 0)
			server_error("%s answered ping with %.*s",
			    c.server, (int)c.body_len, c.body);
		ping_record(&ps, &c, ms);
		client_consume(&c);
	}
	if (!opt->json)
		ping_summary(&ps, c.server);
	json_object_put(msg);
	client_close(&c);
	return (client_interrupted() ? EXIT_INTERRUPT : status);
}

/* Read all of f, with a NUL after it. */
static char *
read_all(FILE *f, size_t *len)
{
	char	*buf = NULL;
	size_t	 size = 0, n;

	*len = 0;
	do {
		if (size - *len < 4096) {
			size = size * 2 + 4096;
			buf = xreallocarray(buf, size, 1);
		}
		n = fread(buf + *len, 1, size - *len - 1, f);
		*len += n;
	} while (n > 0);
	buf[*len] = '\0';
	return (buf);
}

/*
 * call's params as typed: JSON, "-" for standard input or "@FILE" for a
 * file's contents (JSON never starts with "@").  Exit 2 if they cannot be
 * read or are not JSON; *input is what to free.
 */
static const char *
call_params(const char *arg, size_t *len, char **input)
{
	const char	*path = arg + 1;
	FILE		*f;
	int		 error;

	*input = NULL;
	if (strcmp(arg, "-") == 0)
		arg = *input = read_all(stdin, len);
	else if (arg[0] == '@') {
		if ((f = fopen(path, "r")) == NULL)
			usage_error("call: cannot read params from %s: %s",
			    path, strerror(errno));
		arg = *input = read_all(f, len);
		if (ferror(f))
			usage_error("call: cannot read params from %s: %s",
			    path, strerror(errno));
		fclose(f);
	} else
		*len = strlen(arg);
	if ((error = proto_json_check(arg, *len, PROTO_DEPTH_MAX)) != PROTO_OK)
		usage_error("params are not JSON: %s", proto_strerror(error));
	return (arg);
}

#define CALL_USAGE	"usage: rpcctl call [-r count [-i interval]] method " \
	"[params | - | @file]"

int
cmd_call(struct options *opt, int argc, char **argv)
{
	struct client	 c;
	const char	*params = NULL;
	char		*input = NULL;
	size_t		 len = 0;
	long long	 repeat = 1, n;
	double		 interval = -1;
	int		 ch, status = EXIT_OK;

	while ((ch = command_option(opt, "call", argc, argv, "i:r:",
	    NULL)) != -1) {
		switch (ch) {
		case 'i':
			interval = option_seconds(0, 3600);
			break;
		case 'r':
			if ((repeat = option_number(-1, 1000000000)) == 0)
				usage_error("call: -r 0: expected a count, or "
				    "-1 for until SIGINT");
			break;
		default:
			usage_error(CALL_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2 || (interval >= 0 && repeat == 1))
		usage_error(CALL_USAGE);
	options_finish(opt);
	if (argc == 2)
		params = call_params(argv[1], &len, &input);
	command_connect(&c, opt, 0);
	/* Repeats end at SIGINT, as ping's do. */
	if (repeat != 1)
		client_catch_sigint();
	for (n = 0; repeat < 0 || n < repeat; n++) {
		if (n > 0 && interval > 0 && command_check(c.err,
		    client_pause(interval, c.err, sizeof c.err)) == -1)
			break;
		if (command_check(c.err, client_send(&c, argv[0], params,
		    len)) == -1 || command_check(c.err, client_read(&c)) == -1)
			break;
		if (call_print(&c, argv[0]) != EXIT_OK)
			status = EXIT_REPLY;
		fflush(stdout);
		client_consume(&c);
	}
	free(input);
	client_close(&c);
	return (client_interrupted() ? EXIT_INTERRUPT : status);
}

static long long
stats_get(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v))
		return (0);
	return (json_object_get_int64(v));
}

/* The value of key as a column, blank where o has no such key. */
static void
stats_cell(char *cell, size_t size, struct json_object *o, const char *key)
{
	*cell = '\0';
	if (json_object_object_get_ex(o, key, NULL))
		snprintf(cell, size, "%lld", stats_get(o, key));
}

/* A latency bound as a column: "<N", "inf" past the last, "-" if none. */
static const char *
stats_bound(struct json_object *o, const char *key)
{
	static char	cell[2][24];
	static int	n;
	long long	v = stats_get(o, key);

	n = !n;
	if (v == 0)
		return ("-");
	if (v < 0)
		return ("inf");
	snprintf(cell[n], sizeof cell[n], "<%lld", v);
	return (cell[n]);
}

static void
stats_row(const char *label, struct json_object *o)
{
	char	pid[24], restarts[24];

	/* The total is no process: its pid stays blank. */
	stats_cell(pid, sizeof pid, o, "pid");
	stats_cell(restarts, sizeof restarts, o, "restarts");
	printf("%-8s %8s %8s %6lld %12lld %12lld %8lld %12lld %12lld\n",
	    label, pid, restarts, stats_get(o, "connections"),
	    stats_get(o, "total_connections"), stats_get(o, "requests"),
	    stats_get(o, "errors"), stats_get(o, "bytes_in"),
	    stats_get(o, "bytes_out"));
}

/* The per-method table of stats: counters and latency percentiles. */
static void
stats_methods(struct json_object *methods)
{
	struct json_object	*m, *name, *frontend;
	char			 label[128];
	size_t			 i;

	printf("\n%-16s %12s %8s %8s %9s %8s %8s\n", "method", "calls",
	    "errors", "timeouts", "in_flight", "p50_us", "p99_us");
	for (i = 0; i < json_object_array_length(methods); i++) {
		m = json_object_array_get_idx(methods, i);
		if (!json_object_object_get_ex(m, "name", &name))
			continue;
		/* Calls over HTTP have a row of their own: "ping/http". */
		snprintf(label, sizeof label, "%s", json_object_get_string(name));
		if (json_object_object_get_ex(m, "frontend", &frontend) &&
		    strcmp(json_object_get_string(frontend), "framed") != 0)
			snprintf(label + strlen(label), sizeof label -
			    strlen(label), "/%s", json_object_get_string(frontend));
		printf("%-16s %12lld %8lld %8lld %9lld %8s %8s\n",
		    label, stats_get(m, "calls"),
		    stats_get(m, "errors"), stats_get(m, "timeouts"),
		    stats_get(m, "in_flight"),
		    stats_bound(m, "p50_us"), stats_bound(m, "p99_us"));
	}
}

/* One sample of stats -i: the totals, and when they were read. */
struct stats_sample {
	double		at;
	long long	requests;
	long long	errors;
};

/* Print a rate of stats -i, "-" without an earlier sample to count from. */
static void
stats_rate(long long now, long long then, double seconds)
{
	if (seconds > 0)
		printf(" %10.1f", (now - then) / seconds);
	else
		printf(" %10s", "-");
}

/*
 * stats -i: every interval, a line of the totals with the rates since the
 * line before (redis-cli --stat); a connection per sample, so that a
 * reload or a restart of rpcd shows as a gap, not as an end.  SIGINT or
 * the count-th line ends it with a summary.
 */
static int
stats_watch(struct options *opt, double interval, long long count)
{
	struct json_object	*o, *total;
	struct stats_sample	 first = { 0 }, last = { 0 }, now;
	struct client		 c;
	char			 server[ADDR_TEXT_MAX];
	struct tm		 tm;
	time_t			 clock;
	char			 stamp[16], err[128];
	long long		 n = 0;
	int			 status = EXIT_OK;

	client_catch_sigint();
	while (count == 0 || n < count) {
		if (n > 0 && command_check(err, client_pause(interval, err,
		    sizeof err)) == -1)
			break;
		if (command_reconnect(&c, opt, 0) == -1)
			break;
		if (call_once(&c, "stats", NULL) == -1) {
			client_close(&c);
			break;
		}
		now.at = time_monotonic();
		if (is_error(&c)) {
			status = reply_error(&c, "stats");
			client_close(&c);
			break;
		}
		if (opt->json) {
			reply_raw(&c);
			fflush(stdout);
			client_close(&c);
			n++;
			continue;
		}
		if ((o = result_tree(&c)) == NULL ||
		    !json_object_object_get_ex(o, "total", &total))
			server_error("%s sent stats without a total",
			    c.server);
		snprintf(server, sizeof server, "%s", c.server);
		client_close(&c);
		now.requests = stats_get(total, "requests");
		now.errors = stats_get(total, "errors");
		if (n % 20 == 0)
			printf("%-8s %12s %10s %10s %10s %8s\n", "time",
			    "requests", "req/s", "errors", "errors/s", "conns");
		clock = time(NULL);
		localtime_r(&clock, &tm);
		strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
		printf("%-8s %12lld", stamp, now.requests);
		stats_rate(now.requests, last.requests, n ? now.at - last.at : 0);
		printf(" %10lld", now.errors);
		stats_rate(now.errors, last.errors, n ? now.at - last.at : 0);
		printf(" %8lld\n", stats_get(total, "connections"));
		fflush(stdout);
		json_object_put(o);
		if (n++ == 0)
			first = now;
		last = now;
	}
	if (!opt->json && n > 1)
		printf("--- %s: %lld requests in %.1f s (%.1f/s), %lld errors\n",
		    server, last.requests - first.requests,
		    last.at - first.at, (last.requests - first.requests) /
		    (last.at - first.at), last.errors - first.errors);
	return (client_interrupted() ? EXIT_INTERRUPT : status);
}

#define STATS_USAGE	"usage: rpcctl stats [-i interval [-c count]]"

int
cmd_stats(struct options *opt, int argc, char **argv)
{
	struct client	c;
	long long	count = 0;
	double		interval = 0;
	int		ch, status;

	while ((ch = command_option(opt, "stats", argc, argv, "c:i:",
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			count = option_number(1, 1000000000);
			break;
		case 'i':
			interval = option_seconds(0.1, 3600);
			break;
		default:
			usage_error(STATS_USAGE);
		}
	}
	if (argc != optind || (count != 0 && interval == 0))
		usage_error(STATS_USAGE);
	options_finish(opt);
	if (interval > 0)
		return (stats_watch(opt, interval, count));
	command_connect(&c, opt, 0);
	call_once(&c, "stats", NULL);
	status = table_print(&c, "stats");
	client_close(&c);
	return (status);
}

/* The stats table: a row per worker, the totals, a row per method. */
static void
stats_table(struct json_object *o, const char *server)
{
	struct json_object	*workers, *v;
	char			 label[24];
	size_t			 i;

	if (!json_object_object_get_ex(o, "workers", &workers) ||
	    !json_object_is_type(workers, json_type_array))
		server_error("%s sent stats without workers", server);
	printf("rpcd %s, pid %lld, up %.0f s\n",
	    json_object_object_get_ex(o, "version", &v) ?
	    json_object_get_string(v) : "?", stats_get(o, "pid"),
	    json_object_object_get_ex(o, "uptime", &v) ?
	    json_object_get_double(v) : 0.0);
	printf("%-8s %8s %8s %6s %12s %12s %8s %12s %12s\n", "worker", "pid",
	    "restarts", "conns", "total_conns", "requests", "errors",
	    "bytes_in", "bytes_out");
	for (i = 0; i < json_object_array_length(workers); i++) {
		snprintf(label, sizeof label, "%zu", i);
		stats_row(label, json_object_array_get_idx(workers, i));
	}
	if (json_object_object_get_ex(o, "total", &v))
		stats_row("total", v);
	if (json_object_object_get_ex(o, "methods", &v) &&
	    json_object_is_type(v, json_type_array))
		stats_methods(v);
}

/* The methods table: a line each, its name and its help. */
static void
methods_table(struct json_object *o, const char *server)
{
	struct json_object	*m, *name, *help;
	size_t			 i;

	if (!json_object_is_type(o, json_type_array))
		server_error("%s sent methods that are not a list", server);
	for (i = 0; i < json_object_array_length(o); i++) {
		m = json_object_array_get_idx(o, i);
		if (json_object_object_get_ex(m, "name", &name) &&
		    json_object_object_get_ex(m, "help", &help))
			printf("%-12s %s\n", json_object_get_string(name),
			    json_object_get_string(help));
	}
}

/*
 * Print a reply: with --json as sent; an error reply is told; else the
 * result as table prints it, without a table as call prints it: with
 * --raw a string as it is, else indented JSON.  Return the exit status it
 * makes.
 */
static int
reply_print(const struct client *c, const char *method,
    void (*table)(struct json_object *, const char *))
{
	struct json_object	*o;

	if (is_error(c))
		return (reply_error(c, method));
	if (c->opt->json) {
		reply_raw(c);
		return (EXIT_OK);
	}
	o = result_tree(c);
	if (table != NULL && o == NULL)
		server_error("%s sent %s without a result", c->server, method);
	if (table != NULL)
		table(o, c->server);
	else if (c->opt->raw && json_object_is_type(o, json_type_string))
		/* As it is, NUL bytes and all. */
		fwrite(json_object_get_string(o), 1,
		    json_object_get_string_len(o), stdout);
	else
		fputs(o == NULL ? "null" : json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
		    stdout);
	if (table == NULL)
		putchar('\n');
	json_object_put(o);
	return (EXIT_OK);
}

/* A call's reply; call and the shell's lines share this printer. */
int
call_print(const struct client *c, const char *method)
{
	return (reply_print(c, method, NULL));
}

/* The reply to stats or methods as a table, for those commands and lines. */
int
table_print(const struct client *c, const char *method)
{
	return (reply_print(c, method, strcmp(method, "stats") == 0 ?
	    stats_table : methods_table));
}

int
cmd_methods(struct options *opt, int argc, char **argv)
{
	struct client	c;
	int		status;

	while (command_option(opt, "methods", argc, argv, "", NULL) != -1)
		usage_error("usage: rpcctl methods");
	if (argc != optind)
		usage_error("usage: rpcctl methods");
	options_finish(opt);
	command_connect(&c, opt, 0);
	call_once(&c, "methods", NULL);
	status = table_print(&c, "methods");
	client_close(&c);
	return (status);
}

#define MEMBERS_USAGE	"usage: rpcctl members [zk://host:port[,...]/path]"

/* members: the serverset's members, a line each, or JSON with --json. */
int
cmd_members(struct options *opt, int argc, char **argv)
{
	struct json_object	*all = NULL, *one, *extra;
	struct member		*m;
	const char		*url, *status;
	char			 err[1024], text[ADDR_TEXT_MAX], host[256];
	int			 n, i;

	while (command_option(opt, "members", argc, argv, "", NULL) != -1)
		usage_error(MEMBERS_USAGE);
	if (argc - optind > 1)
		usage_error(MEMBERS_USAGE);
	url = argc - optind == 1 ? argv[optind] : opt->server_list;
	if (url == NULL || strncmp(url, "zk://", 5) != 0)
		usage_error("members needs a serverset, zk://host:port/path, "
		    "as its argument or -S");
	serverset_check(url);
	if ((n = discover_members(url, opt->timeout, &m, err,
	    sizeof err)) == -1)
		server_error("cannot read the members of %s: %s", url, err);
	if (opt->json && (all = json_object_new_array()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < n; i++) {
		if (opt->json) {
			if ((one = json_object_new_object()) == NULL ||
			    json_add(one, "name",
			    json_object_new_string(m[i].name)) != 0 ||
			    json_object_object_add(one, "data",
			    json_object_get(m[i].data)) != 0 ||
			    json_add(all, NULL, one) != 0)
				fatalx("out of memory");
			continue;
		}
		status = member_status(&m[i]);
		printf("%s %s", m[i].name, status != NULL ? status : "-");
		printf(" %s", member_endpoint(&m[i], NULL, text, sizeof text,
		    host, sizeof host) == 0 ? text : "-");
		extra = member_get(m[i].data, "additionalEndpoints",
		    json_type_object);
		if (extra != NULL) {
			json_object_object_foreach(extra, name, v) {
				(void)v;
				if (member_endpoint(&m[i], name, text,
				    sizeof text, host, sizeof host) == 0)
					printf(" %s=%s", name, text);
			}
		}
		printf("\n");
	}
	if (opt->json) {
		printf("%s\n", json_object_to_json_string_ext(all,
		    JSON_C_TO_STRING_PLAIN));
		json_object_put(all);
	}
	discover_free(m, n);
	return (EXIT_OK);
}

/*
 * batch: each line of standard input is a request, sent as it is; up to
 * BATCH_WINDOW lines are in flight.  Replies are printed one per line in
 * input order; a line that is not a request gets an error line of its
 * own, in its place, and is not sent; a blank line gets none, but counts
 * in the line numbers.  A close left the requests from the head on
 * unanswered: they are sent again on a new connection with --retry, or
 * after a frame_too_large reply, which the server sends before it closes
 * (rpc-protocol(7)); else batch ends there.
 */
struct batch_entry {
	char		*local;		/* error line for a bad input line */
	char		*frame;		/* else the request, kept to resend */
	size_t		 len, size;
	long long	 lineno;	/* of standard input, from 1 */
};

struct batch {
	struct client		c;
	struct batch_entry	window[BATCH_WINDOW];
	long long		head, tail;	/* next to print, to fill */
	long long		answered;	/* replies on this connection */
	int			closes;		/* in a row with no reply */
	int			retry;		/* --retry */
	int			too_large;	/* the last reply said so */
};

#define BATCH_USAGE	"usage: rpcctl batch [--retry] < requests.jsonl"

/* The error line standing in for a bad input line. */
static char *
batch_error(int error, long long lineno)
{
	char	 msg[128];
	char	*frame;
	size_t	 len;

	snprintf(msg, sizeof msg, "line %lld: %s", lineno,
	    proto_strerror(error));
	proto_error_build(NULL, 0, &len, proto_errname(error), msg);
	frame = xmalloc(len + 1);
	if (proto_error_build(frame, len, &len, proto_errname(error), msg) !=
	    PROTO_OK)
		fatalx("cannot build an error line");
	memmove(frame, frame + PROTO_HEADER_SIZE, len - PROTO_HEADER_SIZE);
	frame[len - PROTO_HEADER_SIZE] = '\0';
	return (frame);
}

/* Is the reply read an error reply with this code? */
static int
batch_reply_is(const struct client *c, int error)
{
	struct json_object	*o, *code;
	int			 is;

	if (!is_error(c))
		return (0);
	o = result_tree(c);
	is = json_object_object_get_ex(o, "code", &code) &&
	    strcmp(json_object_get_string(code), proto_errname(error)) == 0;
	json_object_put(o);
	return (is);
}

/*
 * The server closed with the requests from head on unanswered: connect
 * again, to the same server if it answered anything on this connection,
 * else to the next one, and send them again, in order.  When rpcd closes
 * a connection itself it has answered every request it read, so none of
 * these ran (if it died, they may have: --retry is the user's call, but
 * after frame_too_large the close is the protocol's).  Give up after
 * RPCCTL_RETRIES closes in a row with no reply.
 */
static void
batch_resend(struct batch *bt)
{
	struct client		*c = &bt->c;
	struct batch_entry	*e;
	char			 was[ADDR_TEXT_MAX];
	long long		 i, n = 0, lineno;
	int			 first = c->index, too_large = bt->too_large;

	snprintf(was, sizeof was, "%s", c->server);
	lineno = bt->window[bt->head % BATCH_WINDOW].lineno;
	if (!bt->retry && !too_large)
		server_error("%s closed the connection%s before answering "
		    "line %lld", was, c->len > 0 ? " in mid-frame" : "",
		    lineno);
	if (bt->answered > 0)
		bt->closes = 0;
	else if (++bt->closes > RPCCTL_RETRIES)
		server_error("%s closed the connection with no reply, %d "
		    "times in a row", was, bt->closes);
	else
		first++;
	client_close(c);
	command_connect(c, c->opt, first);
	c->retry = 1;
	bt->answered = 0;
	bt->too_large = 0;
	for (i = bt->head; i < bt->tail; i++) {
		e = &bt->window[i % BATCH_WINDOW];
		if (e->local == NULL) {
			command_check(c->err, client_send_raw(c, e->frame,
			    e->len));
			n++;
		}
	}
	fprintf(stderr, "rpcctl: %s closed the connection%s: %lld requests "
	    "from line %lld resent to %s\n", was, too_large ?
	    " after frame_too_large" : "", n, lineno, c->server);
}

/* Print the next line in order, reading its reply if it has one. */
static void
batch_print(struct batch *bt)
{
	struct batch_entry	*e = &bt->window[bt->head % BATCH_WINDOW];

	if (e->local != NULL) {
		puts(e->local);
		free(e->local);
		e->local = NULL;
	} else {
		while (command_check(bt->c.err, client_read(&bt->c)) ==
		    CLIENT_CLOSED)
			batch_resend(bt);
		reply_raw(&bt->c);
		bt->too_large = batch_reply_is(&bt->c, PROTO_ETOOLARGE);
		client_consume(&bt->c);
		bt->answered++;
	}
	bt->head++;
}

/*
 * Take line lineno of standard input, its newline cut, into the window: a
 * request is sent, anything else gets an error line in its place.  A blank
 * line (spaces, tabs and CRs at most: JSON's white space) is neither.
 */
static void
batch_add(struct batch *bt, const char *line, size_t len, long long lineno)
{
	struct batch_entry	*e;
	struct proto_message	 m;
	size_t			 n;
	int			 error;

	if (strspn(line, " \t\r") == len)
		return;
	e = &bt->window[bt->tail++ % BATCH_WINDOW];
	e->lineno = lineno;
	if ((error = proto_request_parse(line, len, PROTO_DEPTH_MAX, &m)) !=
	    PROTO_OK) {
		e->local = batch_error(error, lineno);
		return;
	}
	n = PROTO_HEADER_SIZE + len;
	if (n > e->size)
		e->frame = xreallocarray(e->frame, e->size = n, 1);
	proto_frame_encode(e->frame, n, line, len);
	e->len = n;
	command_check(bt->c.err, client_send_raw(&bt->c, e->frame, n));
}

int
cmd_batch(struct options *opt, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "retry",	no_argument,	NULL, 'r' },
		{ NULL,		0,		NULL, 0 }
	};
	struct batch			*bt;
	char				*line = NULL;
	size_t				 linesize = 0;
	ssize_t				 len;
	long long			 lineno = 0;
	int				 ch, retry = 0, i;

	while ((ch = command_option(opt, "batch", argc, argv, "",
	    longopts)) != -1) {
		if (ch != 'r')
			usage_error(BATCH_USAGE);
		retry = 1;
	}
	if (optind != argc)
		usage_error(BATCH_USAGE);
	options_finish(opt);
	bt = xcalloc(1, sizeof *bt);
	bt->retry = retry;
	command_connect(&bt->c, opt, 0);
	/* A close is told to batch_resend(), which decides. */
	bt->c.retry = 1;
	for (;;) {
		if ((len = getline(&line, &linesize, stdin)) != -1) {
			if (len > 0 && line[len - 1] == '\n')
				line[--len] = '\0';
			batch_add(bt, line, len, ++lineno);
		}
		/* Print what is in order; wait for replies past the window. */
		while (bt->head < bt->tail &&
		    (bt->window[bt->head % BATCH_WINDOW].local != NULL ||
		    bt->tail - bt->head == BATCH_WINDOW || len == -1))
			batch_print(bt);
		if (len == -1)
			break;
	}
	fflush(stdout);
	free(line);
	for (i = 0; i < BATCH_WINDOW; i++)
		free(bt->window[i].frame);
	client_close(&bt->c);
	free(bt);
	return (EXIT_OK);
}
