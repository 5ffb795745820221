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
 * Prometheus metrics (--metrics-listen): GET /metrics answers the counters
 * of the shared statistics region in the text exposition format 0.0.4;
 * any other path is 404.  libevent's evhttp serves it.  In a single
 * process it runs on the worker's own event loop.  With --prefork it runs
 * in a process of its own that the master forks and supervises (master.c
 * says why), reading the region the workers write as the stats method
 * does: a snapshot under the master's sequence counter, while the workers
 * count with no lock.  The master binds the socket before any fork and
 * holds it, so a scrape waits in the listen queue while the process is
 * replaced instead of being refused.
 */

#include "config.h"

#include <sys/types.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "rpcd.h"

static struct listener	 metrics_listener;
static int		 metrics_bound;
static struct evhttp	*metrics_http;

/* A snapshot's copies: too large for the stack of a small process. */
static struct stats_slot	metrics_rows[RPCD_PREFORK_MAX];
static struct stats_method	metrics_methods[RPCD_METHOD_ROWS];

/* A counter or gauge of the totals, a member of struct stats_slot. */
static const struct metrics_total {
	const char	*name;
	const char	*type;
	const char	*help;
	size_t		 offset;
} metrics_totals[] = {
	{ "rpcd_connections", "gauge", "Client connections open.",
	  offsetof(struct stats_slot, connections) },
	{ "rpcd_connections_total", "counter", "Client connections accepted.",
	  offsetof(struct stats_slot, total_connections) },
	{ "rpcd_rejected_connections_total", "counter",
	  "Connections not served: busy, or no memory.",
	  offsetof(struct stats_slot, rejected) },
	{ "rpcd_bytes_received_total", "counter",
	  "Bytes of request frames received.",
	  offsetof(struct stats_slot, bytes_in) },
	{ "rpcd_bytes_sent_total", "counter", "Bytes of reply frames sent.",
	  offsetof(struct stats_slot, bytes_out) },
};

/* The per-worker series, and the kinds of client errors. */
static const struct metrics_total metrics_workers[] = {
	{ "rpcd_worker_connections", "gauge",
	  "Client connections open, per worker slot.",
	  offsetof(struct stats_slot, connections) },
	{ "rpcd_worker_requests_total", "counter",
	  "Request frames received, per worker slot.",
	  offsetof(struct stats_slot, requests) },
	{ "rpcd_worker_restarts_total", "counter",
	  "Times a worker slot's process was replaced after it died.",
	  offsetof(struct stats_slot, restarts) },
}, metrics_client_errors[] = {
	{ "too_large", NULL, NULL, offsetof(struct stats_slot, too_large) },
	{ "bad_request", NULL, NULL,
	  offsetof(struct stats_slot, bad_requests) },
	{ "foreign_protocol", NULL, NULL,
	  offsetof(struct stats_slot, foreign) },
	{ "timeout", NULL, NULL, offsetof(struct stats_slot, timeouts) },
	{ "proxy_header", NULL, NULL,
	  offsetof(struct stats_slot, proxy_errors) },
	{ "tls_handshake", NULL, NULL,
	  offsetof(struct stats_slot, tls_handshake_failures) },
};

#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])

static int64_t
metrics_value(const struct stats_slot *st, const struct metrics_total *t)
{
	int64_t	v;

	memcpy(&v, (const char *)st + t->offset, sizeof v);
	return (v);
}

/* Print a metric family's HELP and TYPE lines. */
static int
metrics_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	return (evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type) < 0);
}

/* Print a method name as a label value: \, " and newline escaped. */
static int
metrics_label(struct evbuffer *b, const char *value)
{
	int	failed = 0;

	for (; *value != '\0'; value++) {
		if (*value == '\\' || *value == '"')
			failed |= evbuffer_add_printf(b, "\\%c", *value) < 0;
		else if (*value == '\n')
			failed |= evbuffer_add(b, "\\n", 2);
		else
			failed |= evbuffer_add(b, value, 1);
	}
	return (failed);
}

/*
 * Print a family with one sample per method, the member at offset of its
 * struct stats_method.
 */
static int
metrics_method_family(struct evbuffer *b, const char *family,
    const char *type, const char *help, size_t offset)
{
	const char	*name;
	int64_t		 v;
	int		 i, failed;

	failed = metrics_family(b, family, type, help);
	for (i = 0; (name = stats_method_name(i)) != NULL; i++) {
		memcpy(&v, (const char *)&metrics_methods[i] + offset,
		    sizeof v);
		failed |= evbuffer_add_printf(b, "%s{method=\"", family) < 0;
		failed |= metrics_label(b, name);
		failed |= evbuffer_add_printf(b, "\"} %lld\n",
		    (long long)v) < 0;
	}
	return (failed);
}

/*
 * Print the calls of each method: counts by outcome, timeouts, those in
 * flight, then durations.
 */
static int
metrics_format_methods(struct evbuffer *b)
{
	const struct stats_method	*m;
	const char			*name;
	int64_t				 cumulative;
	int				 i, j, failed;

	failed = metrics_family(b, "rpcd_requests_total", "counter",
	    "Calls of each method, by outcome (ok or error).");
	for (i = 0; (name = stats_method_name(i)) != NULL; i++) {
		m = &metrics_methods[i];
		failed |= evbuffer_add_printf(b, "rpcd_requests_total"
		    "{method=\"") < 0;
		failed |= metrics_label(b, name);
		failed |= evbuffer_add_printf(b, "\",outcome=\"ok\"} %lld\n"
		    "rpcd_requests_total{method=\"", (long long)(m->calls -
		    m->errors)) < 0;
		failed |= metrics_label(b, name);
		failed |= evbuffer_add_printf(b, "\",outcome=\"error\"} "
		    "%lld\n", (long long)m->errors) < 0;
	}
	failed |= metrics_method_family(b, "rpcd_request_timeouts_total",
	    "counter", "Calls of each method answered timeout, past their "
	    "deadline.", offsetof(struct stats_method, timeouts));
	failed |= metrics_method_family(b, "rpcd_requests_in_flight",
	    "gauge", "Calls of each method begun and not answered yet.",
	    offsetof(struct stats_method, in_flight));
	failed |= metrics_family(b, "rpcd_request_duration_seconds",
	    "histogram", "Time from parsing a request to its reply queued.");
	for (i = 0; (name = stats_method_name(i)) != NULL; i++) {
		m = &metrics_methods[i];
		for (cumulative = 0, j = 0; j <= RPCD_BUCKETS; j++) {
			cumulative += m->buckets[j];
			failed |= evbuffer_add_printf(b,
			    "rpcd_request_duration_seconds_bucket"
			    "{method=\"") < 0;
			failed |= metrics_label(b, name);
			if (j < RPCD_BUCKETS)
				failed |= evbuffer_add_printf(b, "\",le=\"%g\"}"
				    " %lld\n", stats_bucket_ns[j] / 1e9,
				    (long long)cumulative) < 0;
			else
				failed |= evbuffer_add_printf(b, "\",le=\"+Inf\"}"
				    " %lld\n", (long long)cumulative) < 0;
		}
		failed |= evbuffer_add_printf(b,
		    "rpcd_request_duration_seconds_sum{method=\"") < 0;
		failed |= metrics_label(b, name);
		failed |= evbuffer_add_printf(b, "\"} %.9f\n"
		    "rpcd_request_duration_seconds_count{method=\"",
		    m->nanoseconds / 1e9) < 0;
		failed |= metrics_label(b, name);
		failed |= evbuffer_add_printf(b, "\"} %lld\n",
		    (long long)m->calls) < 0;
	}
	return (failed);
}

/* Print every metric into b; -1 if memory ran out. */
static int
metrics_format(struct evbuffer *b)
{
	struct stats_slot	 sum;
	const struct metrics_total *t;
	int64_t			 v;
	size_t			 k;
	int			 i, n = stats_slots(), failed;

	stats_snapshot(metrics_rows, metrics_methods);
	memset(&sum, 0, sizeof sum);
	for (i = 0; i < n; i++) {
		for (k = 0; k < NITEMS(metrics_totals); k++)
			*(int64_t *)((char *)&sum + metrics_totals[k].offset) +=
			    metrics_value(&metrics_rows[i], &metrics_totals[k]);
	}

	failed = metrics_family(b, "rpcd_build_info", "gauge",
	    "The version of rpcd, as a label; always 1.");
	failed |= evbuffer_add_printf(b, "rpcd_build_info{version=\"%s\"} 1\n",
	    VERSION) < 0;
	failed |= metrics_family(b, "rpcd_start_time_seconds", "gauge",
	    "When rpcd started, in seconds since the epoch.");
	failed |= evbuffer_add_printf(b, "rpcd_start_time_seconds %lld\n",
	    (long long)rpcd_started) < 0;
	for (k = 0; k < NITEMS(metrics_totals); k++) {
		t = &metrics_totals[k];
		failed |= metrics_family(b, t->name, t->type, t->help);
		failed |= evbuffer_add_printf(b, "%s %lld\n", t->name,
		    (long long)metrics_value(&sum, t)) < 0;
	}
	failed |= metrics_family(b, "rpcd_client_errors_total", "counter",
	    "Errors of clients, by kind; each is logged at the debug level.");
	for (k = 0; k < NITEMS(metrics_client_errors); k++) {
		t = &metrics_client_errors[k];
		for (v = 0, i = 0; i < n; i++)
			v += metrics_value(&metrics_rows[i], t);
		failed |= evbuffer_add_printf(b,
		    "rpcd_client_errors_total{kind=\"%s\"} %lld\n", t->name,
		    (long long)v) < 0;
	}
	failed |= metrics_format_methods(b);
	for (k = 0; k < NITEMS(metrics_workers); k++) {
		t = &metrics_workers[k];
		failed |= metrics_family(b, t->name, t->type, t->help);
		for (i = 0; i < n; i++)
			failed |= evbuffer_add_printf(b, "%s{worker=\"%d\"} "
			    "%lld\n", t->name, i,
			    (long long)metrics_value(&metrics_rows[i], t)) < 0;
	}
	return (failed ? -1 : 0);
}

/* Answer a request: /metrics, or 404. */
static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = evhttp_uri_get_path(uri);
	struct evbuffer		*b;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if ((b = evbuffer_new()) == NULL || metrics_format(b) != 0 ||
	    evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8") != 0)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		evhttp_send_reply(req, HTTP_OK, "OK", b);
	if (b != NULL)
		evbuffer_free(b);
}

/*
 * Bind --metrics-listen, if given, before any fork and before privileges
 * are dropped.  Return -1 after logging why it cannot be bound.
 */
int
metrics_bind(const struct settings *s)
{
	if (s->metrics_listen.len == 0)
		return (0);
	if (listener_bind_one(&s->metrics_listen, &metrics_listener) != 0)
		return (-1);
	metrics_bound = 1;
	log_info("serving metrics on http://%s/metrics",
	    metrics_listener.addr.text);
	return (0);
}

/* Is there a metrics server to run? */
int
metrics_enabled(void)
{
	return (metrics_bound);
}

/* In a worker: the socket is the metrics process's to serve. */
void
metrics_close(void)
{
	if (metrics_bound)
		close(metrics_listener.fd);
	metrics_bound = 0;
}

/* Serve /metrics on base, if it was asked for. */
void
metrics_start(struct event_base *base)
{
	if (!metrics_bound)
		return;
	if ((metrics_http = evhttp_new(base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_allowed_methods(metrics_http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(metrics_http, RPCD_METRICS_TIMEOUT);
	evhttp_set_gencb(metrics_http, metrics_request_cb, NULL);
	if (evhttp_accept_socket(metrics_http, metrics_listener.fd) != 0)
		fatalx("cannot serve metrics on %s",
		    metrics_listener.addr.text);
}

/* Stop serving; the socket is closed with the server. */
void
metrics_stop(void)
{
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
}

static void
metrics_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct event_base	*base = arg;

	if (sig == SIGHUP || sig == SIGUSR1) {
		log_reopen();
		log_info("%s: logs reopened", sig == SIGHUP ? "SIGHUP" :
		    "SIGUSR1");
	} else
		event_base_loopbreak(base);
}

/* The master's end of our pipe closed: it is gone, so go too. */
static void
metrics_master_cb(evutil_socket_t fd, short events, void *arg)
{
	struct event_base	*base = arg;
	char			 buf[16];

	if (read(fd, buf, sizeof buf) > 0)
		return;
	log_warnx("master is gone: shutting down");
	event_base_loopbreak(base);
}

/*
 * The metrics process of --prefork: serve until SIGTERM, or until the
 * master's end of master_fd closes.  Return the exit status.
 */
int
metrics_run(const struct settings *s, int master_fd)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	struct event		*ev[NITEMS(sigs) + 1];
	struct event_base	*base;
	size_t			 i;

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	for (i = 0; i < NITEMS(sigs); i++) {
		ev[i] = evsignal_new(base, sigs[i], metrics_signal_cb, base);
		if (ev[i] == NULL || evsignal_add(ev[i], NULL) != 0)
			fatalx("cannot watch signal %d", sigs[i]);
	}
	ev[i] = event_new(base, master_fd, EV_READ | EV_PERSIST,
	    metrics_master_cb, base);
	if (ev[i] == NULL || event_add(ev[i], NULL) != 0)
		fatalx("cannot watch the master");
	if (s->user != NULL)
		daemon_drop_privileges(s->user);
	metrics_start(base);

	if (event_base_dispatch(base) == -1)
		fatalx("the metrics event loop failed");

	metrics_stop();
	for (i = 0; i < NITEMS(ev); i++)
		event_free(ev[i]);
	event_base_free(base);
	return (0);
}
