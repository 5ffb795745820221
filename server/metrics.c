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
 * any other path is 404.  In a single process it runs on the worker's own
 * event loop.  With --prefork it runs
 * in a process of its own that the master forks and supervises (master.c
 * says why), reading the region the workers write as the stats method
 * does: a snapshot under the master's sequence counter, while the workers
 * count with no lock.  The master binds the socket before any fork and
 * holds it, so a scrape waits in the listen queue while the process is
 * replaced instead of being refused.
 *
 * The HTTP/1.x server is ours, one request per connection, not libevent
 * 2.1's evhttp: a scrape shares the loop of the RPC connections in a
 * single process, so each connection must be bounded, and evhttp bounds
 * none.  It has no cap on connections, restarts its timeout at every byte
 * read, has no hook to end a connection at a deadline, answers 400 to
 * headers over its limit, and scans all it buffered again at each read.
 * Here a connection has RPCD_METRICS_TIMEOUT seconds in all; its request
 * line and headers at most RPCD_METRICS_HEAD_MAX bytes (431 past that);
 * a request body is refused (413); at most RPCD_METRICS_CONNS_MAX are
 * open (the listener waits for one to close), and out of descriptors the
 * listener pauses RPCD_ACCEPT_PAUSE seconds, as the RPC listeners do.
 *
 * Layer: worker (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "rpcd.h"

/* A metrics connection's life. */
enum metrics_state {
	METRICS_READING,	/* the request line and headers */
	METRICS_WRITING,	/* the reply, then close */
	METRICS_LINGERING,	/* reading to discard until the peer closes */
};

/* One metrics connection. */
struct metrics_conn {
	struct bufferevent		*bev;
	struct event			*deadline;
	enum metrics_state		 state;
	size_t				 discarded;	/* lingering */
	TAILQ_ENTRY(metrics_conn)	 entry;
};
TAILQ_HEAD(metrics_conns, metrics_conn);

static void		 metrics_conn_close(struct metrics_conn *);

static struct listener	 metrics_listener;
static int		 metrics_bound;

/* The server on an event loop, from metrics_start() to metrics_stop(). */
static struct {
	struct event_base	*base;
	struct evconnlistener	*evl;
	struct metrics_conns	 conns;
	int			 nconns;
	int			 paused;	/* PAUSE_* */
	int64_t			 full;		/* cap reached, this episode */
	struct event		*resume_ev;	/* after PAUSE_FDS */
	struct event		*full_ev;	/* end of a PAUSE_FULL episode */
} metrics;

/* A snapshot's copies: too large for the stack of a small process. */
static struct stats_slot	metrics_rows[RPCD_PREFORK_MAX];
static struct stats_method	metrics_methods[RPCD_STATS_ROWS];

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
	{ "rpcd_denied_total", "counter",
	  "Calls the access rules denied, of any name.",
	  offsetof(struct stats_slot, denied) },
	{ "rpcd_client_refused_total", "counter",
	  "Connections refused busy: over --client-conns for their client.",
	  offsetof(struct stats_slot, client_refused) },
	{ "rpcd_client_waits_total", "counter",
	  "Times a connection stopped being read until its client's next "
	  "token of --client-rate.",
	  offsetof(struct stats_slot, client_waits) },
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
	{ "proxy_untrusted", NULL, NULL,
	  offsetof(struct stats_slot, proxy_untrusted) },
	{ "tls_handshake", NULL, NULL,
	  offsetof(struct stats_slot, tls_handshake_failures) },
};

/* The gauges of a worker's process, per worker slot: its newest's. */
static const struct metrics_total metrics_processes[] = {
	{ "process_resident_memory_bytes", "gauge",
	  "Resident memory of the worker's process, in bytes.",
	  offsetof(struct stats_slot, rss) },
	{ "process_open_fds", "gauge",
	  "Open file descriptors of the worker's process.",
	  offsetof(struct stats_slot, open_fds) },
	{ "process_max_fds", "gauge",
	  "The worker process's limit of open file descriptors.",
	  offsetof(struct stats_slot, max_fds) },
	{ "process_start_time_seconds", "gauge",
	  "When the worker's process started, in seconds since the epoch.",
	  offsetof(struct stats_slot, start_time) },
	{ "rpcd_max_connections", "gauge",
	  "The worker's --max-conns: connections it serves at once.",
	  offsetof(struct stats_slot, max_conns) },
	{ "rpcd_max_inflight", "gauge",
	  "The worker's --max-inflight: calls unanswered per connection.",
	  offsetof(struct stats_slot, max_inflight) },
	{ "rpcd_offload_queued", "gauge",
	  "Calls waiting for a thread of the worker's offload pool.",
	  offsetof(struct stats_slot, offload_queued) },
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
 * The next row of counters to print after row (-1 at the start), with
 * its method's name and front end; -1 after the last.
 */
static int
metrics_next_row(int row, const char **name, const char **frontend)
{
	while (++row < RPCD_STATS_ROWS) {
		if ((*name = stats_row_name(row, frontend)) != NULL &&
		    stats_row_used(row, &metrics_methods[row]))
			return (row);
	}
	return (-1);
}

/* Print family{method="NAME",frontend="FRONTEND" for a row's sample. */
static int
metrics_row_labels(struct evbuffer *b, const char *family, const char *name,
    const char *frontend)
{
	int	failed;

	failed = evbuffer_add_printf(b, "%s{method=\"", family) < 0;
	failed |= metrics_label(b, name);
	failed |= evbuffer_add_printf(b, "\",frontend=\"%s\"", frontend) < 0;
	return (failed);
}

/*
 * Print a family with one sample per method and front end, the member at
 * offset of its struct stats_method.
 */
static int
metrics_method_family(struct evbuffer *b, const char *family,
    const char *type, const char *help, size_t offset)
{
	const char	*name, *frontend;
	int64_t		 v;
	int		 i, failed;

	failed = metrics_family(b, family, type, help);
	for (i = -1; (i = metrics_next_row(i, &name, &frontend)) != -1;) {
		memcpy(&v, (const char *)&metrics_methods[i] + offset,
		    sizeof v);
		failed |= metrics_row_labels(b, family, name, frontend);
		failed |= evbuffer_add_printf(b, "} %lld\n", (long long)v) < 0;
	}
	return (failed);
}

/*
 * Print the calls of each method, by front end: counts by outcome,
 * timeouts, those in flight, then durations.
 */
static int
metrics_format_methods(struct evbuffer *b)
{
	const struct stats_method	*m;
	const char			*name, *frontend;
	int64_t				 cumulative;
	int				 i, j, failed;

	failed = metrics_family(b, "rpcd_requests_total", "counter",
	    "Calls of each method, by front end and outcome (ok or error).");
	for (i = -1; (i = metrics_next_row(i, &name, &frontend)) != -1;) {
		m = &metrics_methods[i];
		failed |= metrics_row_labels(b, "rpcd_requests_total", name,
		    frontend);
		failed |= evbuffer_add_printf(b, ",outcome=\"ok\"} %lld\n",
		    (long long)(m->calls - m->errors)) < 0;
		failed |= metrics_row_labels(b, "rpcd_requests_total", name,
		    frontend);
		failed |= evbuffer_add_printf(b, ",outcome=\"error\"} %lld\n",
		    (long long)m->errors) < 0;
	}
	failed |= metrics_method_family(b, "rpcd_request_timeouts_total",
	    "counter", "Calls of each method answered timeout, past their "
	    "deadline.", offsetof(struct stats_method, timeouts));
	failed |= metrics_method_family(b, "rpcd_method_denied_total",
	    "counter", "Calls of each method the access rules denied.",
	    offsetof(struct stats_method, denied));
	failed |= metrics_method_family(b, "rpcd_method_rate_limited_total",
	    "counter", "Calls of each method that waited for their client's "
	    "token of --client-rate.",
	    offsetof(struct stats_method, rate_limited));
	failed |= metrics_method_family(b, "rpcd_requests_in_flight",
	    "gauge", "Calls of each method begun and not answered yet.",
	    offsetof(struct stats_method, in_flight));
	failed |= metrics_family(b, "rpcd_request_duration_seconds",
	    "histogram", "Time from parsing a request to its reply queued.");
	for (i = -1; (i = metrics_next_row(i, &name, &frontend)) != -1;) {
		m = &metrics_methods[i];
		for (cumulative = 0, j = 0; j <= RPCD_BUCKETS; j++) {
			cumulative += m->buckets[j];
			failed |= metrics_row_labels(b,
			    "rpcd_request_duration_seconds_bucket", name,
			    frontend);
			if (j < RPCD_BUCKETS)
				failed |= evbuffer_add_printf(b, ",le=\"%.9g\"}"
				    " %lld\n", stats_bucket_ns[j] / 1e9,
				    (long long)cumulative) < 0;
			else
				failed |= evbuffer_add_printf(b, ",le=\"+Inf\"}"
				    " %lld\n", (long long)cumulative) < 0;
		}
		failed |= metrics_row_labels(b,
		    "rpcd_request_duration_seconds_sum", name, frontend);
		failed |= evbuffer_add_printf(b, "} %.9f\n",
		    m->nanoseconds / 1e9) < 0;
		failed |= metrics_row_labels(b,
		    "rpcd_request_duration_seconds_count", name, frontend);
		failed |= evbuffer_add_printf(b, "} %lld\n",
		    (long long)m->calls) < 0;
	}
	return (failed);
}

/*
 * Print the gauges each worker publishes of its process (stats.c), for
 * the n worker slots with a process that published them; and the CPU
 * time of each slot's processes, the dead ones' included.
 */
static int
metrics_format_processes(struct evbuffer *b, int n)
{
	const struct metrics_total	*t;
	const struct stats_slot		*st;
	int64_t				 v;
	size_t				 k;
	int				 i, failed;

	failed = metrics_family(b, "process_cpu_seconds_total", "counter",
	    "User and system CPU time of the processes of each worker slot, "
	    "in seconds.");
	for (i = 0; i < n; i++)
		failed |= evbuffer_add_printf(b, "process_cpu_seconds_total"
		    "{worker=\"%d\"} %.6f\n", i,
		    metrics_rows[i].cpu_us / 1e6) < 0;
	for (k = 0; k < NITEMS(metrics_processes); k++) {
		t = &metrics_processes[k];
		failed |= metrics_family(b, t->name, t->type, t->help);
		for (i = 0; i < n; i++) {
			st = &metrics_rows[i];
			v = metrics_value(st, t);
			if (st->pid <= 0 || st->start_time == 0 || v < 0)
				continue;
			failed |= evbuffer_add_printf(b, "%s{worker=\"%d\"} "
			    "%lld\n", t->name, i, (long long)v) < 0;
		}
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
	    (long long)daemon_started) < 0;
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
	failed |= metrics_format_processes(b, n);
	if (stats_registry() >= 0) {
		failed |= metrics_family(b, "rpcd_registry_up", "gauge",
		    "1 while rpcd is a serverset member in ZooKeeper "
		    "(--register), else 0.");
		failed |= evbuffer_add_printf(b, "rpcd_registry_up %d\n",
		    stats_registry()) < 0;
	}
	return (failed ? -1 : 0);
}

/* The reason phrase of a status we answer. */
static const char *
metrics_reason(int status)
{
	switch (status) {
	case 200:
		return ("OK");
	case 400:
		return ("Bad Request");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 413:
		return ("Content Too Large");
	case 431:
		return ("Request Header Fields Too Large");
	default:
		return ("Internal Server Error");
	}
}

/*
 * The end of a request's head in the n bytes at p, past its blank line
 * (CRLF or LF); 0 if it has not all come yet.
 */
static size_t
metrics_head_end(const char *p, size_t n)
{
	const char	*nl;

	for (nl = p; (nl = memchr(nl, '\n', n - (nl - p))) != NULL; nl++) {
		if (nl + 1 < p + n && nl[1] == '\n')
			return (nl + 2 - p);
		if (nl + 2 < p + n && nl[1] == '\r' && nl[2] == '\n')
			return (nl + 3 - p);
	}
	return (0);
}

/*
 * Parse a request's head, NUL-terminated, in place: the status to answer,
 * and whether to send the head of the reply only (HEAD).  Only GET and
 * HEAD of /metrics, with no body, are served.
 */
static int
metrics_parse(char *head, int *head_only)
{
	char	*line, *method, *target, *version, *name, *value;

	line = strsep(&head, "\n");
	line[strcspn(line, "\r")] = '\0';
	method = strsep(&line, " ");
	target = strsep(&line, " ");
	version = line;
	if (*method == '\0' || target == NULL || *target == '\0' ||
	    version == NULL || (strcmp(version, "HTTP/1.0") != 0 &&
	    strcmp(version, "HTTP/1.1") != 0))
		return (400);
	while ((line = strsep(&head, "\n")) != NULL) {
		line[strcspn(line, "\r")] = '\0';
		if (*line == '\0')
			break;
		name = strsep(&line, ":");
		if (line == NULL || *name == '\0' ||
		    name[strcspn(name, " \t")] != '\0')
			return (400);
		value = line + strspn(line, " \t");
		value[strcspn(value, " \t")] = '\0';
		if (strcasecmp(name, "Transfer-Encoding") == 0 ||
		    (strcasecmp(name, "Content-Length") == 0 &&
		    strcmp(value, "0") != 0))
			return (413);
	}
	*head_only = strcmp(method, "HEAD") == 0;
	if (!*head_only && strcmp(method, "GET") != 0)
		return (405);
	if (strcmp(target, "/metrics") != 0 &&
	    strncmp(target, "/metrics?", 9) != 0)
		return (404);
	return (200);
}

/*
 * Queue the reply, status and body (the metrics for 200), and close once
 * it is sent.  Reading stops: what else the peer sends is discarded then.
 */
static void
metrics_reply(struct metrics_conn *mc, int status, int head_only)
{
	struct evbuffer	*out = bufferevent_get_output(mc->bev);
	struct evbuffer	*body;
	const char	*type = "text/plain; charset=utf-8";
	int		 failed;

	if ((body = evbuffer_new()) == NULL)
		status = 500;
	else if (status == 200) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		if (metrics_format(body) != 0) {
			status = 500;
			type = "text/plain; charset=utf-8";
			evbuffer_drain(body, evbuffer_get_length(body));
		}
	}
	if (status != 200 && body != NULL)
		evbuffer_add_printf(body, "%s\n", metrics_reason(status));
	if (status != 200)
		log_debug("metrics: answering %d %s", status,
		    metrics_reason(status));
	failed = evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n", status, metrics_reason(status), type,
	    body != NULL ? evbuffer_get_length(body) : 0,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "") < 0;
	if (body != NULL && !head_only)
		failed |= evbuffer_add_buffer(out, body);
	if (body != NULL)
		evbuffer_free(body);
	mc->state = METRICS_WRITING;
	bufferevent_disable(mc->bev, EV_READ);
	if (failed || bufferevent_enable(mc->bev, EV_WRITE) != 0)
		metrics_conn_close(mc);
}

/* Read the request's head; answer once it is whole, or too long. */
static void
metrics_read_cb(struct bufferevent *bev, void *arg)
{
	struct metrics_conn	*mc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			 head[RPCD_METRICS_HEAD_MAX + 1];
	const char		*p;
	size_t			 len = evbuffer_get_length(in), n, end;
	int			 head_only = 0;

	if (mc->state == METRICS_LINGERING) {
		mc->discarded += len;
		evbuffer_drain(in, len);
		if (mc->discarded > RPCD_LINGER_BYTES)
			metrics_conn_close(mc);
		return;
	}
	n = len < RPCD_METRICS_HEAD_MAX ? len : RPCD_METRICS_HEAD_MAX;
	if ((p = (const char *)evbuffer_pullup(in, n)) == NULL) {
		metrics_conn_close(mc);
		return;
	}
	if ((end = metrics_head_end(p, n)) == 0) {
		if (len >= RPCD_METRICS_HEAD_MAX)
			metrics_reply(mc, 431, 0);
		return;
	}
	if (memchr(p, '\0', end) != NULL) {
		metrics_reply(mc, 400, 0);
		return;
	}
	memcpy(head, p, end);
	head[end] = '\0';
	metrics_reply(mc, metrics_parse(head, &head_only), head_only);
}

/*
 * The reply is sent: close our side and read on until the peer closes,
 * so that what it sent unread does not make the kernel reset the
 * connection and lose the reply before the peer has read it.
 */
static void
metrics_write_cb(struct bufferevent *bev, void *arg)
{
	struct metrics_conn	*mc = arg;
	struct timeval		 tv = { RPCD_LINGER, 0 };

	if (mc->state != METRICS_WRITING)
		return;
	mc->state = METRICS_LINGERING;
	if (shutdown(bufferevent_getfd(bev), SHUT_WR) != 0 ||
	    bufferevent_enable(bev, EV_READ) != 0) {
		metrics_conn_close(mc);
		return;
	}
	evtimer_add(mc->deadline, &tv);
	/* What came while the reply was written. */
	metrics_read_cb(bev, mc);
}

static void
metrics_event_cb(struct bufferevent *bev, short what, void *arg)
{
	metrics_conn_close(arg);
}

/* The connection's time is up: RPCD_METRICS_TIMEOUT, or the linger. */
static void
metrics_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct metrics_conn	*mc = arg;

	if (mc->state == METRICS_READING)
		log_debug("metrics: no whole request in %ds: closing",
		    RPCD_METRICS_TIMEOUT);
	metrics_conn_close(mc);
}

/* Stop accepting for a reason (PAUSE_*). */
static void
metrics_pause(int reason)
{
	if (metrics.paused == 0)
		evconnlistener_disable(metrics.evl);
	metrics.paused |= reason;
}

/* Clear a reason to pause; accept again when none is left. */
static void
metrics_resume(int reason)
{
	if ((metrics.paused & reason) == 0)
		return;
	metrics.paused &= ~reason;
	if (metrics.paused == 0)
		evconnlistener_enable(metrics.evl);
}

static void
metrics_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	metrics_resume(PAUSE_FDS);
}

/* The cap's episode is over: say how often it was reached. */
static void
metrics_full_cb(evutil_socket_t fd, short events, void *arg)
{
	log_info("metrics connections below the limit again (it was reached "
	    "%lld time(s))", (long long)metrics.full);
	metrics.full = 0;
}

/*
 * The only end of a connection: free it, and accept again below the cap.
 * Freeing the bufferevent from its own callback is safe: libevent holds a
 * reference while it runs one.
 */
static void
metrics_conn_close(struct metrics_conn *mc)
{
	struct timeval	tv = { RPCD_ACCEPT_PAUSE, 0 };

	TAILQ_REMOVE(&metrics.conns, mc, entry);
	metrics.nconns--;
	event_free(mc->deadline);
	bufferevent_free(mc->bev);
	free(mc);
	if (metrics.paused & PAUSE_FULL) {
		metrics_resume(PAUSE_FULL);
		evtimer_add(metrics.full_ev, &tv);
	}
}

/*
 * A connection came: serve it, for RPCD_METRICS_TIMEOUT seconds at most.
 * At RPCD_METRICS_CONNS_MAX the listener waits for one to close; the log
 * says so once per episode, which ends once the cap has not been reached
 * for RPCD_ACCEPT_PAUSE seconds (metrics_full_cb).
 */
static void
metrics_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct metrics_conn	*mc;
	struct timeval		 tv = { RPCD_METRICS_TIMEOUT, 0 };

	if ((mc = calloc(1, sizeof *mc)) == NULL ||
	    (mc->bev = bufferevent_socket_new(metrics.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (mc->deadline = evtimer_new(metrics.base, metrics_deadline_cb,
	    mc)) == NULL || evtimer_add(mc->deadline, &tv) != 0 ||
	    bufferevent_enable(mc->bev, EV_READ) != 0) {
		log_debug("metrics: no memory for a connection");
		if (mc != NULL && mc->deadline != NULL)
			event_free(mc->deadline);
		if (mc != NULL && mc->bev != NULL)
			bufferevent_free(mc->bev);
		else
			evutil_closesocket(fd);
		free(mc);
		return;
	}
	bufferevent_setcb(mc->bev, metrics_read_cb, metrics_write_cb,
	    metrics_event_cb, mc);
	TAILQ_INSERT_TAIL(&metrics.conns, mc, entry);
	if (++metrics.nconns < RPCD_METRICS_CONNS_MAX)
		return;
	evtimer_del(metrics.full_ev);
	if (metrics.full++ == 0)
		log_warnx("%d metrics connections open: accepting no more "
		    "until one closes", metrics.nconns);
	metrics_pause(PAUSE_FULL);
}

/*
 * accept(2) failed.  Out of descriptors, the connection stays queued and
 * the listener would fire again at once: pause instead of spinning.
 */
static void
metrics_accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct timeval	tv = { RPCD_ACCEPT_PAUSE, 0 };
	int		error = EVUTIL_SOCKET_ERROR();

	if (error != EMFILE && error != ENFILE && error != ENOBUFS &&
	    error != ENOMEM) {
		log_warnx("metrics: accept: %s",
		    evutil_socket_error_to_string(error));
		return;
	}
	log_warnx("metrics: out of file descriptors: not accepting for %ds",
	    RPCD_ACCEPT_PAUSE);
	metrics_pause(PAUSE_FDS);
	evtimer_add(metrics.resume_ev, &tv);
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

/* The address metrics are served on, port 0 resolved; NULL: none. */
const struct addr *
metrics_address(void)
{
	return (metrics_bound ? &metrics_listener.addr : NULL);
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

/*
 * Serve /metrics on base, if it was asked for.  The backlog passed is 0
 * so that libevent does not listen(2) again: the socket listens already.
 */
void
metrics_start(struct event_base *base)
{
	if (!metrics_bound)
		return;
	metrics.base = base;
	TAILQ_INIT(&metrics.conns);
	metrics.resume_ev = evtimer_new(base, metrics_resume_cb, NULL);
	metrics.full_ev = evtimer_new(base, metrics_full_cb, NULL);
	metrics.evl = evconnlistener_new(base, metrics_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 0, metrics_listener.fd);
	if (metrics.resume_ev == NULL || metrics.full_ev == NULL ||
	    metrics.evl == NULL || evconnlistener_enable(metrics.evl) != 0)
		fatalx("cannot serve metrics on %s",
		    metrics_listener.addr.text);
	evconnlistener_set_error_cb(metrics.evl, metrics_accept_error_cb);
}

/* Stop serving: close every connection; the socket stays. */
void
metrics_stop(void)
{
	if (metrics.evl == NULL)
		return;
	while (!TAILQ_EMPTY(&metrics.conns))
		metrics_conn_close(TAILQ_FIRST(&metrics.conns));
	evconnlistener_free(metrics.evl);
	event_free(metrics.resume_ev);
	event_free(metrics.full_ev);
	memset(&metrics, 0, sizeof metrics);
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

	base = loop_new(0);
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
