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
 * rpcctl bench: a load generator on libevent, like redis-benchmark.  In a
 * closed loop, each connection keeps -P requests in flight (pings, or
 * calls of --method) and answers every reply with a new request, until -n
 * replies or -d seconds.  With --rate, the loop is open: requests are due
 * at fixed times, --rate a second, each sent on a connection with fewer
 * than -P in flight, and timed from when it was due, so that a server
 * that falls behind shows it in the latency (no coordinated omission).
 * Latencies go into log-linear histograms (128 steps per power of two,
 * under 1% error), one for the run and one for each --interval, so
 * memory does not grow with the run.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "rpcctl.h"

#define SUB_BITS	7
#define SUB_COUNT	(1 << SUB_BITS)
#define NBUCKETS	((64 - SUB_BITS + 1) * SUB_COUNT)

#define BENCH_READ_SIZE		16384	/* first receive buffer, bytes */
#define BENCH_STREAM_SIZE	65536	/* bytes of requests sent at once */
#define BENCH_CYCLE_MAX		4096	/* requests in the cycle of a mix */
#define BENCH_METHODS_MAX	64	/* lines of --methods */

/*
 * A connection reads and writes its socket itself rather than through a
 * bufferevent: a burst of replies is answered with one send() and the
 * write event is armed only when the kernel refuses bytes, so the client
 * costs what loadgen costs and does not flatter or hide the server.
 */
struct bench_conn {
	struct bench	*b;
	struct client	 c;		/* the socket and its receive buffer */
	struct event	*rev, *wev;
	double		*sent;		/* ring of send times */
	int		*which;		/* ring of their entries */
	size_t		 qpos;		/* the cycle's frame to queue next */
	double		 last_reply;	/* or connect time */
	unsigned int	 head, inflight;
	long long	 answered;	/* replies on this connection */
	int		 closes;	/* closed with no reply, in a row */
	size_t		 unsent;	/* request bytes queued, not yet sent */
	size_t		 woff;		/* where they start in b->stream */
};

/* Latencies: a histogram, and the count, sum, least and most of them. */
struct latency {
	uint64_t	hist[NBUCKETS];
	long long	n;
	uint64_t	sum_ns, min_ns, max_ns;
};

/* A request of the load: --method and --params, or a line of --methods. */
struct bench_entry {
	char			*method;
	char			*params;
	size_t			 params_len;
	long long		 weight;
	int			 ping;		/* a pong must echo the params */
	unsigned char		*reply;		/* a right reply, byte for byte */
	size_t			 reply_len, reply_size;
	size_t			 frame_len;
	struct latency		 lat;		/* with --methods */
};

struct bench {
	struct options		*opt;
	struct event_base	*base;
	struct bench_conn	*conns;
	int			 nconns, open, pipeline;
	long long		 requests;	/* -n; 0 with -d */
	double			 seconds;	/* -d */
	double			 start, end, deadline, last_report;
	long long		 sent, errors, last_done;
	double			 rate;		/* --rate a second; 0: none */
	long long		 due;		/* the requests due so far */
	long long		 planned;	/* in all, with --rate */
	int			 next_conn;	/* where the next due goes */
	struct event		*pace;		/* when the next is due */
	double			 interval;	/* --interval; 0: none */
	long long		 resent;	/* --retry */
	struct bench_entry	*entries;	/* of the load, in its order */
	int			 nentries;
	const char		*methods;	/* --methods FILE */
	/*
	 * The cycle: the entries' frames in the order they are sent, by
	 * weight, and after it its first frames again, so that most runs
	 * of queued requests are one send().
	 */
	unsigned char		*stream;
	size_t			 stream_len, cycle_bytes;
	int			*cycle;		/* the entry of each frame */
	size_t			*cycle_off;	/* where each frame starts */
	size_t			 cycle_len;	/* frames */
	struct latency		 all, last;	/* the run's; the interval's */
	int			 tty, csv, histogram, retry, complained;
	struct event		*tick, *sigint;
};

static int	bench_flush(struct bench_conn *);
static void	bench_requeue(struct bench_conn *);
static void	bench_pace(struct bench *);
static void	bench_read_cb(evutil_socket_t, short, void *);
static void	bench_write_cb(evutil_socket_t, short, void *);

static int
bucket_of(uint64_t ns)
{
	int	e;

	if (ns < SUB_COUNT)
		return ((int)ns);
	e = 63 - __builtin_clzll(ns);
	return ((e - SUB_BITS + 1) * SUB_COUNT +
	    (int)((ns >> (e - SUB_BITS)) & (SUB_COUNT - 1)));
}

/* The smallest value that falls in bucket i. */
static uint64_t
bucket_floor(int i)
{
	int	shift;

	if (i < SUB_COUNT)
		return (i);
	shift = i / SUB_COUNT - 1;
	return ((uint64_t)(SUB_COUNT + i % SUB_COUNT) << shift);
}

static void
latency_add(struct latency *l, uint64_t ns)
{
	l->hist[bucket_of(ns)]++;
	if (l->n++ == 0 || ns < l->min_ns)
		l->min_ns = ns;
	if (ns > l->max_ns)
		l->max_ns = ns;
	l->sum_ns += ns;
}

/* Latency at quantile q in milliseconds. */
static double
latency_quantile(const struct latency *l, double q)
{
	uint64_t	want, seen = 0;
	int		i;

	if (l->n == 0)
		return (0);
	want = (uint64_t)ceil(q * l->n);
	if (want == 0)
		want = 1;
	for (i = 0; i < NBUCKETS; i++) {
		seen += l->hist[i];
		if (seen >= want)
			return (bucket_floor(i) / 1e6);
	}
	return (l->max_ns / 1e6);
}

static double
latency_avg(const struct latency *l)
{
	return (l->n > 0 ? l->sum_ns / 1e6 / l->n : 0);
}

/* One clock reading serves a whole callback: it is the hot path. */
static int
bench_may_send(struct bench *b, double now)
{
	if (b->requests > 0)
		return (b->sent < b->requests);
	return (now < b->deadline);
}

/* Free the connection's events and socket, for good or to reconnect. */
static void
bench_conn_shut(struct bench_conn *bc)
{
	event_free(bc->rev);
	event_free(bc->wev);
	bc->rev = bc->wev = NULL;
	client_close(&bc->c);
}

static void
bench_conn_close(struct bench_conn *bc)
{
	struct bench	*b = bc->b;

	if (bc->rev == NULL)
		return;
	bench_conn_shut(bc);
	if (--b->open == 0)
		event_base_loopexit(b->base, NULL);
}

/* Watch a new connection, with a receive buffer of its own. */
static void
bench_conn_start(struct bench_conn *bc)
{
	struct bench	*b = bc->b;

	bc->c.size = BENCH_READ_SIZE;
	bc->c.buf = xmalloc(bc->c.size);
	bc->rev = event_new(b->base, bc->c.fd, EV_READ | EV_PERSIST,
	    bench_read_cb, bc);
	bc->wev = event_new(b->base, bc->c.fd, EV_WRITE, bench_write_cb, bc);
	if (bc->rev == NULL || bc->wev == NULL)
		fatalx("event_new");
	event_add(bc->rev, NULL);
	bc->answered = 0;
}

/* Tell the first failure of the run on stderr; later ones are counted. */
static void printflike(2, 3)
bench_complain(struct bench *b, const char *fmt, ...)
{
	va_list	ap;

	if (b->complained)
		return;
	b->complained = 1;
	if (b->tty)
		fputc('\n', stderr);
	fprintf(stderr, "rpcctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The connection is lost, and with it the pings in flight on it. */
static void printflike(2, 3)
bench_conn_fail(struct bench_conn *bc, const char *fmt, ...)
{
	va_list	ap;
	char	why[256];

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	bench_complain(bc->b, "%s", why);
	bc->b->errors += bc->inflight;
	bc->inflight = 0;
	bench_conn_close(bc);
}

/*
 * The server closed the connection or reset it.  Without --retry the pings
 * in flight are lost; with it they are sent again, keeping their send
 * times, on a new connection: to the same server if this one answered,
 * else to the next, and not after RPCCTL_RETRIES closes in a row with no
 * reply.
 */
static void printflike(2, 3)
bench_conn_lost(struct bench_conn *bc, const char *fmt, ...)
{
	struct bench	*b = bc->b;
	struct client	 c;
	va_list		 ap;
	char		 why[256], err[1024];
	int		 first = bc->c.index;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (!b->retry) {
		bench_conn_fail(bc, "%s", why);
		return;
	}
	if (bc->answered > 0)
		bc->closes = 0;
	else if (++bc->closes > RPCCTL_RETRIES) {
		bench_conn_fail(bc, "%s with no reply, %d times in a row", why,
		    bc->closes);
		return;
	} else
		first++;
	options_refresh(b->opt);
	if (command_check(err, client_open(&c, b->opt, first, err,
	    sizeof err)) == -1) {
		bench_conn_fail(bc, "%s; cannot connect to %s", why, err);
		return;
	}
	bench_conn_shut(bc);
	bc->c = c;
	bench_conn_start(bc);
	b->resent += bc->inflight;
	bench_requeue(bc);
	bc->last_reply = time_monotonic();
	bench_flush(bc);
}

/* Send what is queued until done or the kernel refuses; 0, or -1. */
static int
bench_flush(struct bench_conn *bc)
{
	struct bench	*b = bc->b;
	size_t		 n;
	ssize_t		 w;

	while (bc->unsent > 0) {
		n = b->stream_len - bc->woff;
		if (n > bc->unsent)
			n = bc->unsent;
		w = client_send_some(&bc->c, b->stream + bc->woff, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(bc->wev, NULL);
			return (0);
		}
		if (w == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			bench_conn_lost(bc, "cannot send to %s: %s",
			    bc->c.server, strerror(errno));
			return (-1);
		}
		if (w == -1) {
			bench_conn_fail(bc, "cannot send to %s: %s",
			    bc->c.server, strerror(errno));
			return (-1);
		}
		bc->unsent -= w;
		bc->woff = (bc->woff + w) % b->cycle_bytes;
	}
	return (0);
}

/* Queue the cycle's next n requests, all sent at now. */
static void
bench_queue(struct bench_conn *bc, int n, double now)
{
	struct bench	*b = bc->b;
	unsigned int	 slot;

	while (n-- > 0) {
		slot = (bc->head + bc->inflight) % b->pipeline;
		bc->sent[slot] = now;
		bc->which[slot] = b->cycle[bc->qpos];
		bc->inflight++;
		b->sent++;
		bc->unsent += b->entries[bc->which[slot]].frame_len;
		if (++bc->qpos == b->cycle_len)
			bc->qpos = 0;
	}
}

/*
 * On a new connection: queue again the requests in flight, the cycle's
 * frames before qpos, keeping their send times.
 */
static void
bench_requeue(struct bench_conn *bc)
{
	struct bench	*b = bc->b;
	size_t		 first, i;

	first = (bc->qpos + b->cycle_len - bc->inflight % b->cycle_len) %
	    b->cycle_len;
	bc->woff = b->cycle_off[first];
	bc->unsent = 0;
	for (i = 0; i < bc->inflight; i++)
		bc->unsent += b->entries[b->cycle[(first + i) %
		    b->cycle_len]].frame_len;
}

/*
 * Is this reply body right for entry e: for ping, the pong echoing its
 * params; for another method, any reply but an error.  One the same as
 * the last right one is right with a memcmp(), the hot path: rpcd's pong
 * is known in advance, another method's is kept when it is first seen.
 */
static int
bench_reply_ok(struct bench_entry *e, const char *body, size_t len)
{
	struct proto_message	m;

	if (e->reply != NULL && len == e->reply_len &&
	    memcmp(body, e->reply, len) == 0)
		return (1);
	if (proto_response_parse(body, len, 0, &m) != PROTO_OK)
		return (0);
	if (e->ping)
		return (strcmp(m.name, "pong") == 0 &&
		    m.value_len == e->params_len &&
		    memcmp(m.value, e->params, m.value_len) == 0);
	if (strcmp(m.name, "error") == 0)
		return (0);
	if (len > e->reply_size)
		e->reply = xreallocarray(e->reply, e->reply_size = len, 1);
	memcpy(e->reply, body, len);
	e->reply_len = len;
	return (1);
}

/*
 * Every whole reply in the buffer is timed and answered by a new ping;
 * then one send() carries all the new pings.  Returns how many replies
 * were read, or -1 if the connection is gone.
 */
static int
bench_replies(struct bench_conn *bc, double now)
{
	struct bench		*b = bc->b;
	struct client		*c = &bc->c;
	struct bench_entry	*e;
	size_t			 off = 0, need;
	uint32_t		 body = 0;
	uint64_t		 ns;
	int			 n = 0, status;

	for (;;) {
		status = proto_frame_decode(c->buf + off, c->len - off,
		    RPCCTL_MAX_FRAME, &body);
		if (status != PROTO_FRAME_COMPLETE)
			break;
		if (bc->inflight == 0) {
			bench_conn_fail(bc, "%s sent a reply to no request",
			    bc->c.server);
			return (-1);
		}
		e = &b->entries[bc->which[bc->head]];
		if (!bench_reply_ok(e, c->buf + off + PROTO_HEADER_SIZE,
		    body)) {
			if (e->ping)
				bench_complain(b, "%s sent a reply that is "
				    "not the pong", bc->c.server);
			else
				bench_complain(b, "%s answered %s with an "
				    "error or a reply that is not JSON",
				    bc->c.server, e->method);
			b->errors++;
		} else {
			ns = (uint64_t)((now - bc->sent[bc->head]) * 1e9);
			latency_add(&b->all, ns);
			if (b->interval > 0)
				latency_add(&b->last, ns);
			if (b->nentries > 1)
				latency_add(&e->lat, ns);
		}
		bc->head = (bc->head + 1) % b->pipeline;
		bc->inflight--;
		off += PROTO_HEADER_SIZE + body;
		n++;
	}
	if (status == PROTO_FRAME_TOO_LARGE) {
		bench_conn_fail(bc, "%s sent a frame of %u bytes, over the "
		    "limit of %d", bc->c.server, body, RPCCTL_MAX_FRAME);
		return (-1);
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	need = status == PROTO_FRAME_NEED_MORE && c->len >= PROTO_HEADER_SIZE ?
	    PROTO_HEADER_SIZE + (size_t)body : 0;
	if (c->len == c->size || need > c->size) {
		c->size = need > c->size * 2 ? need : c->size * 2;
		c->buf = xreallocarray(c->buf, c->size, 1);
	}
	return (n);
}

static void
bench_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_conn	*bc = arg;
	struct bench		*b = bc->b;
	struct client		*c = &bc->c;
	double			 now;
	ssize_t			 r;
	int			 n;

	r = client_recv(c, c->buf + c->len, c->size - c->len);
	if (r == -1 && errno_transient(errno))
		return;
	if (r == 0) {
		bench_conn_lost(bc, "%s closed the connection%s",
		    bc->c.server, c->len > 0 ? " in mid-frame" : "");
		return;
	}
	if (r == -1 && errno == ECONNRESET) {
		bench_conn_lost(bc, "cannot read from %s: %s",
		    bc->c.server, strerror(errno));
		return;
	}
	if (r == -1) {
		bench_conn_fail(bc, "cannot read from %s: %s",
		    bc->c.server, strerror(errno));
		return;
	}
	c->len += r;
	now = time_monotonic();
	bc->last_reply = now;
	if ((n = bench_replies(bc, now)) <= 0)
		return;
	bc->answered += n;
	if (b->rate > 0) {
		/* Replies made room for what waited for it. */
		bench_pace(b);
		if (bc->rev == NULL)
			return;
	} else {
		if (b->requests > 0 && b->requests - b->sent < n)
			n = b->requests - b->sent;
		if (bench_may_send(b, now))
			bench_queue(bc, n, now);
	}
	if (bench_flush(bc) == 0 && bc->inflight == 0 && b->due >= b->planned)
		bench_conn_close(bc);
	/* TLS: replies OpenSSL decrypted already; poll(2) cannot see them. */
	else if (bc->rev != NULL && c->ssl != NULL && client_tls_pending(c))
		event_active(bc->rev, EV_READ, 0);
}

static void
bench_write_cb(evutil_socket_t fd, short what, void *arg)
{
	bench_flush(arg);
}

/*
 * --rate: send each request due by now on the next connection with fewer
 * than -P in flight, timed from when it was due, then wait until the
 * next is due.  A request no connection has room for waits for a reply
 * to make some, and is still timed from when it was due.  Once all are
 * sent, the connections with none in flight are done.
 */
static void
bench_pace(struct bench *b)
{
	struct bench_conn	*bc = NULL;
	struct timeval		 tv;
	double			 now = time_monotonic(), at;
	int			 i, tried;

	while (b->due < b->planned &&
	    (at = b->start + b->due / b->rate) <= now) {
		for (tried = 0; tried < b->nconns; tried++) {
			bc = &b->conns[b->next_conn];
			b->next_conn = (b->next_conn + 1) % b->nconns;
			if (bc->rev != NULL &&
			    bc->inflight < (unsigned int)b->pipeline)
				break;
		}
		if (tried == b->nconns)
			return;
		if (bc->inflight == 0)
			bc->last_reply = now;
		bench_queue(bc, 1, at);
		b->due++;
		bench_flush(bc);
	}
	if (b->due < b->planned) {
		at = b->start + b->due / b->rate - now;
		tv.tv_sec = (time_t)at;
		tv.tv_usec = (suseconds_t)((at - tv.tv_sec) * 1e6);
		event_add(b->pace, &tv);
		return;
	}
	for (i = 0; i < b->nconns; i++) {
		if (b->conns[i].inflight == 0 && b->conns[i].unsent == 0)
			bench_conn_close(&b->conns[i]);
	}
}

static void
bench_pace_cb(evutil_socket_t fd, short what, void *arg)
{
	bench_pace(arg);
}

/* --interval: the last interval's line, and a new interval. */
static void
bench_interval(struct bench *b, double now, double rps)
{
	struct latency	*l = &b->last;

	if (b->opt->json)
		printf("{\"time\": %.3f, \"requests\": %lld, \"rps\": %.0f, "
		    "\"avg_ms\": %.3f, \"min_ms\": %.3f, \"p50_ms\": %.3f, "
		    "\"p99_ms\": %.3f, \"max_ms\": %.3f}\n", now - b->start,
		    l->n, rps, latency_avg(l), l->min_ns / 1e6,
		    latency_quantile(l, .5), latency_quantile(l, .99),
		    l->max_ns / 1e6);
	else
		printf("%7.1fs %9.0f req/s  latency ms: avg %.3f  min %.3f  "
		    "p50 %.3f  p99 %.3f  max %.3f\n", now - b->start, rps,
		    latency_avg(l), l->min_ns / 1e6, latency_quantile(l, .5),
		    latency_quantile(l, .99), l->max_ns / 1e6);
	fflush(stdout);
	memset(l, 0, sizeof *l);
}

/*
 * Once a second, or each --interval: fail the connections that waited
 * longer than -t for a reply (a timer per connection would cost more
 * than the check), then print the progress line, or the interval's.
 */
static void
bench_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench		*b = arg;
	struct bench_conn	*bc;
	double			 now = time_monotonic();
	double			 rps = (b->all.n - b->last_done) /
				    (now - b->last_report);
	int			 i;

	for (i = 0; i < b->nconns; i++) {
		bc = &b->conns[i];
		if (bc->rev != NULL && bc->inflight > 0 &&
		    now - bc->last_reply > b->opt->timeout)
			bench_conn_fail(bc, "timed out waiting for %s after "
			    "%gs", bc->c.server, b->opt->timeout);
	}
	b->last_report = now;
	b->last_done = b->all.n;
	if (b->interval > 0)
		bench_interval(b, now, rps);
	else if (b->csv || b->opt->json)
		return;
	else if (b->tty)
		fprintf(stderr, "\r%.1fs: %lld replies, %.0f req/s, "
		    "p50 %.3f ms   ", now - b->start, b->all.n, rps,
		    latency_quantile(&b->all, 0.5));
	else
		printf("%.1fs: %lld replies, %.0f req/s\n", now - b->start,
		    b->all.n, rps);
	fflush(stdout);
}

/* SIGINT: stop, and report what was measured so far. */
static void
bench_sigint_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench	*b = arg;

	event_base_loopbreak(b->base);
}

static void
bench_histogram(const struct bench *b)
{
	uint64_t	rows[32] = { 0 }, top = 0;
	int		i, r, first = -1, last = 0;

	/* One row per power of two of microseconds. */
	for (i = 0; i < NBUCKETS; i++) {
		if (b->all.hist[i] == 0)
			continue;
		r = 0;
		while (r < 31 && bucket_floor(i) >= (uint64_t)1000 << r)
			r++;
		rows[r] += b->all.hist[i];
	}
	for (r = 0; r < 32; r++) {
		if (rows[r] == 0)
			continue;
		if (first == -1)
			first = r;
		last = r;
		if (rows[r] > top)
			top = rows[r];
	}
	printf("latency histogram:\n");
	for (r = first; r >= 0 && r <= last; r++) {
		printf("  < %8.3f ms %10llu |%.*s\n", (1000 << r) / 1e6,
		    (unsigned long long)rows[r],
		    (int)(rows[r] * 50 / (top ? top : 1)),
		    "##################################################");
	}
}

/* --methods: each method's share of the replies and its latency. */
static void
bench_report_methods(const struct bench *b)
{
	const struct latency	*l;
	int			 k;

	printf("  by method (msec):\n");
	printf("  %-16s %6s %10s %9s %9s %9s %9s\n", "method", "share",
	    "requests", "avg", "p50", "p99", "max");
	for (k = 0; k < b->nentries; k++) {
		l = &b->entries[k].lat;
		printf("  %-16s %5.1f%% %10lld %9.3f %9.3f %9.3f %9.3f\n",
		    b->entries[k].method, b->all.n > 0 ?
		    100.0 * l->n / b->all.n : 0, l->n, latency_avg(l),
		    latency_quantile(l, .5), latency_quantile(l, .99),
		    l->max_ns / 1e6);
	}
}

/* --methods with --json: "methods", each one's replies and latency. */
static void
bench_json_methods(const struct bench *b)
{
	const struct latency	*l;
	struct json_object	*name;
	int			 k;

	printf(", \"methods\": [");
	for (k = 0; k < b->nentries; k++) {
		l = &b->entries[k].lat;
		if ((name = json_object_new_string(b->entries[k].method)) ==
		    NULL)
			fatalx("out of memory");
		printf("%s{\"method\": %s, \"weight\": %lld, \"requests\": "
		    "%lld, \"avg_ms\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": "
		    "%.3f, \"max_ms\": %.3f}", k > 0 ? ", " : "",
		    json_object_to_json_string(name), b->entries[k].weight,
		    l->n, latency_avg(l), latency_quantile(l, .5),
		    latency_quantile(l, .99), l->max_ns / 1e6);
		json_object_put(name);
	}
	printf("]");
}

/*
 * The results: as redis-benchmark prints them, or one JSON object or a
 * CSV header and row, whose first fields stay as they were for scripts.
 */
static void
bench_report(const struct bench *b)
{
	const struct latency	*l = &b->all;
	double			 t = b->end - b->start;
	double			 rps = t > 0 ? l->n / t : 0;

	if (b->opt->json)
		printf("{\"requests\": %lld, \"errors\": %lld, \"seconds\": "
		    "%.3f, \"rps\": %.0f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
		    "\"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
		    "\"conns\": %d, \"pipeline\": %d, \"resent\": %lld, "
		    "\"avg_ms\": %.3f, \"min_ms\": %.3f, \"rate\": %.0f",
		    l->n, b->errors, t, rps, latency_quantile(l, .5),
		    latency_quantile(l, .9), latency_quantile(l, .99),
		    latency_quantile(l, .999), l->max_ns / 1e6, b->nconns,
		    b->pipeline, b->resent, latency_avg(l), l->min_ns / 1e6,
		    b->rate);
	if (b->opt->json && b->nentries > 1)
		bench_json_methods(b);
	if (b->opt->json)
		printf("}\n");
	else if (b->csv)
		printf("requests,errors,seconds,rps,p50_ms,p90_ms,p99_ms,"
		    "p999_ms,max_ms,conns,pipeline,resent,avg_ms,min_ms,rate\n"
		    "%lld,%lld,%.3f,%.0f,%.3f,%.3f,%.3f,%.3f,%.3f,%d,%d,%lld,"
		    "%.3f,%.3f,%.0f\n", l->n, b->errors, t, rps,
		    latency_quantile(l, .5), latency_quantile(l, .9),
		    latency_quantile(l, .99), latency_quantile(l, .999),
		    l->max_ns / 1e6, b->nconns, b->pipeline, b->resent,
		    latency_avg(l), l->min_ns / 1e6, b->rate);
	else {
		if (b->tty && b->interval == 0)
			fprintf(stderr, "\n");
		if (b->nentries == 1)
			printf("====== %s ======\n", b->entries[0].method);
		else
			printf("====== %s: %d methods ======\n", b->methods,
			    b->nentries);
		printf("  %lld requests completed in %.2f seconds\n", l->n, t);
		printf("  %d parallel connections, pipeline %d\n", b->nconns,
		    b->pipeline);
		if (b->rate > 0)
			printf("  open loop: %.0f requests per second asked, "
			    "latency from when each was due\n", b->rate);
		printf("  %lld errors", b->errors);
		if (b->retry)
			printf(", %lld resent", b->resent);
		printf("\n\nSummary:\n");
		printf("  throughput summary: %.2f requests per second\n", rps);
		printf("  latency summary (msec):\n");
		printf("  %9s %9s %9s %9s %9s %9s %9s\n", "avg", "min", "p50",
		    "p90", "p99", "p99.9", "max");
		printf("  %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n",
		    latency_avg(l), l->min_ns / 1e6, latency_quantile(l, .5),
		    latency_quantile(l, .9), latency_quantile(l, .99),
		    latency_quantile(l, .999), l->max_ns / 1e6);
		if (b->nentries > 1)
			bench_report_methods(b);
	}
	if (b->histogram)
		bench_histogram(b);
}

/*
 * Make entry e's request frame, into frame (NULL: only measure it), and
 * for ping the reply rpcd sends, to check a pong with one memcmp().
 */
static void
bench_entry_build(struct bench_entry *e, unsigned char *frame,
    const char *where)
{
	size_t	size;
	int	error;

	if (frame == NULL) {
		error = proto_request_build(NULL, 0, &e->frame_len, e->method,
		    e->params, e->params_len);
		if (error != PROTO_ESPACE)
			usage_error("bench: %s %s: %s", where, e->method,
			    proto_strerror(error));
		e->ping = strcmp(e->method, "ping") == 0;
		if (!e->ping)
			return;
		proto_response_build(NULL, 0, &size, "pong", e->params,
		    e->params_len);
		e->reply = xmalloc(e->reply_size = size);
		if (proto_response_build(e->reply, size, &e->reply_len,
		    "pong", e->params, e->params_len) != PROTO_OK)
			fatalx("cannot build the reply");
		e->reply_len -= PROTO_HEADER_SIZE;
		memmove(e->reply, e->reply + PROTO_HEADER_SIZE, e->reply_len);
		return;
	}
	if (proto_request_build(frame, e->frame_len, &size, e->method,
	    e->params, e->params_len) != PROTO_OK)
		fatalx("cannot build the request");
}

/*
 * The cycle of requests: the entries by smooth weighted round robin (as
 * nginx spreads its upstreams), so that each comes back evenly spaced, as
 * many frames as the weights add up to, at most BENCH_CYCLE_MAX.  Then the
 * stream: the cycle's frames, and its first ones again, up to -P or
 * BENCH_STREAM_SIZE bytes, so that any run of queued requests from inside
 * the cycle is, mostly, one send().
 */
static void
bench_prepare(struct bench *b)
{
	long long	*current, total = 0;
	size_t		 i, extra, off;
	int		 k, best;

	for (k = 0; k < b->nentries; k++) {
		bench_entry_build(&b->entries[k], NULL, b->methods != NULL ?
		    "--methods" : "--method");
		total += b->entries[k].weight;
	}
	b->cycle_len = total < BENCH_CYCLE_MAX ? total : BENCH_CYCLE_MAX;
	b->cycle = xcalloc(b->cycle_len, sizeof *b->cycle);
	b->cycle_off = xcalloc(b->cycle_len, sizeof *b->cycle_off);
	current = xcalloc(b->nentries, sizeof *current);
	for (i = 0; i < b->cycle_len; i++) {
		for (best = 0, k = 0; k < b->nentries; k++) {
			current[k] += b->entries[k].weight;
			if (current[k] > current[best])
				best = k;
		}
		current[best] -= total;
		b->cycle[i] = best;
		b->cycle_off[i] = b->cycle_bytes;
		b->cycle_bytes += b->entries[best].frame_len;
	}
	free(current);
	extra = 0;
	for (off = 0; extra < (size_t)b->pipeline && off < BENCH_STREAM_SIZE;
	    extra++)
		off += b->entries[b->cycle[extra % b->cycle_len]].frame_len;
	b->stream_len = b->cycle_bytes + off;
	b->stream = xmalloc(b->stream_len);
	for (off = 0, i = 0; off < b->stream_len; i++) {
		bench_entry_build(&b->entries[b->cycle[i % b->cycle_len]],
		    b->stream + off, NULL);
		off += b->entries[b->cycle[i % b->cycle_len]].frame_len;
	}
}

/*
 * --methods FILE: a line "WEIGHT METHOD [PARAMS]" for each request of the
 * mix, PARAMS as JSON; blank lines and those starting with # are skipped.
 * Exit 2, naming the line, on one that is not so.
 */
static void
bench_methods(struct bench *b, const char *path)
{
	struct bench_entry	*e;
	FILE			*f;
	char			*line = NULL, *p, *method;
	const char		*why;
	size_t			 size = 0;
	long long		 lineno = 0, weight;
	int			 error;

	if ((f = fopen(path, "r")) == NULL)
		usage_error("bench: --methods %s: %s", path, strerror(errno));
	while (getline(&line, &size, f) != -1) {
		lineno++;
		p = line + strspn(line, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		weight = parse_number(strsep(&p, " \t"), 1, 1000000, &why);
		if (why != NULL)
			usage_error("bench: --methods %s:%lld: the weight is "
			    "%s (1 to 1000000)", path, lineno, why);
		if (p != NULL)
			p += strspn(p, " \t");
		if (p == NULL || *p == '\0')
			usage_error("bench: --methods %s:%lld: no method",
			    path, lineno);
		method = strsep(&p, " \t");
		if (p != NULL)
			p += strspn(p, " \t");
		if (p != NULL && *p == '\0')
			p = NULL;
		if (p != NULL && (error = proto_json_check(p, strlen(p),
		    PROTO_DEPTH_MAX)) != PROTO_OK)
			usage_error("bench: --methods %s:%lld: the params are "
			    "not JSON: %s", path, lineno,
			    proto_strerror(error));
		if (b->nentries == BENCH_METHODS_MAX)
			usage_error("bench: --methods %s: more than %d "
			    "methods", path, BENCH_METHODS_MAX);
		b->entries = xreallocarray(b->entries, b->nentries + 1,
		    sizeof *b->entries);
		e = &b->entries[b->nentries++];
		memset(e, 0, sizeof *e);
		e->weight = weight;
		e->method = xstrdup(method);
		/* A pong without params echoes null. */
		if (p == NULL && strcmp(method, "ping") == 0)
			e->params = xstrdup("null");
		else if (p != NULL)
			e->params = xstrdup(p);
		if (e->params != NULL)
			e->params_len = strlen(e->params);
	}
	if (ferror(f))
		usage_error("bench: --methods %s: %s", path, strerror(errno));
	fclose(f);
	free(line);
	if (b->nentries == 0)
		usage_error("bench: --methods %s: no method in it", path);
}

#define BENCH_USAGE "usage: rpcctl bench [-c conns] [-n requests | -d seconds] " \
    "[-P pipeline] [--rate number] [--interval seconds] [--method name] " \
    "[--params json] [--payload bytes] [--methods file] [--csv] " \
    "[--histogram] [--retry]"

/*
 * Read bench's options into b, with the defaults, and the global ones;
 * --method comes back in *method, --params in *params and --payload in
 * *payload (-1: none).
 */
static void
bench_options(struct bench *b, struct options *opt, int argc, char **argv,
    const char **method, const char **params, long long *payload)
{
	static const struct option	 longopts[] = {
		{ "csv",	no_argument,		NULL, 'C' },
		{ "histogram",	no_argument,		NULL, 'G' },
		{ "interval",	required_argument,	NULL, 'I' },
		{ "method",	required_argument,	NULL, 'M' },
		{ "methods",	required_argument,	NULL, 'F' },
		{ "params",	required_argument,	NULL, 'J' },
		{ "payload",	required_argument,	NULL, 'L' },
		{ "rate",	required_argument,	NULL, 'R' },
		{ "retry",	no_argument,		NULL, 'r' },
		{ NULL,		0,			NULL, 0 }
	};
	int				 ch;

	while ((ch = command_option(opt, "bench", argc, argv, "c:d:n:P:",
	    longopts)) != -1) {
		switch (ch) {
		case 'c':
			b->nconns = option_number(1, 10000);
			break;
		case 'd':
			b->seconds = option_seconds(0.1, 86400);
			break;
		case 'n':
			b->requests = option_number(1, 1LL << 40);
			break;
		case 'P':
			b->pipeline = option_number(1, 10000);
			break;
		case 'C':
			b->csv = 1;
			break;
		case 'G':
			b->histogram = 1;
			break;
		case 'I':
			b->interval = option_seconds(0.01, 3600);
			break;
		case 'R':
			b->rate = option_number(1, 10000000);
			break;
		case 'L':
			*payload = option_number(0, 1 << 20);
			break;
		case 'M':
			*method = optarg;
			break;
		case 'F':
			b->methods = optarg;
			break;
		case 'J':
			*params = optarg;
			break;
		case 'r':
			b->retry = 1;
			break;
		default:
			usage_error(BENCH_USAGE);
		}
	}
	if (optind != argc || (b->requests > 0 && b->seconds > 0) ||
	    (*params != NULL && *payload != -1))
		usage_error(BENCH_USAGE);
	if (b->methods != NULL && (*method != NULL || *params != NULL ||
	    *payload != -1))
		usage_error("bench: --methods gives the methods and params: "
		    "not with --method, --params or --payload");
	if (b->interval > 0 && b->csv)
		usage_error("bench: --interval prints text, or JSON lines "
		    "with --json: not --csv");
	options_finish(opt);
}

/*
 * Open the -c connections, then send each its first -P requests: the
 * clock of the run starts once all are open.
 */
static void
bench_start(struct bench *b)
{
	struct bench_conn	*bc;
	int			 i, n;

	/* --rate's requests are due to the microsecond, not the ms. */
	b->base = loop_new(b->rate > 0);
	b->tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
	b->conns = xcalloc(b->nconns, sizeof *b->conns);
	for (i = 0; i < b->nconns; i++) {
		bc = &b->conns[i];
		bc->b = b;
		bc->sent = xcalloc(b->pipeline, sizeof *bc->sent);
		bc->which = xcalloc(b->pipeline, sizeof *bc->which);
		/* Each starts at its own place in a mix. */
		bc->qpos = (size_t)i * b->cycle_len / b->nconns;
		bc->woff = b->cycle_off[bc->qpos];
		/* A serverset's members share the connections. */
		command_connect(&bc->c, b->opt, b->opt->registry ? i : 0);
		bench_conn_start(bc);
		b->open++;
	}
	b->start = b->last_report = time_monotonic();
	b->deadline = b->start + b->seconds;
	if (b->rate > 0) {
		b->planned = b->requests > 0 ? b->requests :
		    (long long)ceil(b->rate * b->seconds);
		if ((b->pace = event_new(b->base, -1, 0, bench_pace_cb,
		    b)) == NULL)
			fatalx("event_new");
		for (i = 0; i < b->nconns; i++)
			b->conns[i].last_reply = b->start;
		bench_pace(b);
		return;
	}
	for (i = 0; i < b->nconns; i++) {
		bc = &b->conns[i];
		bc->last_reply = b->start;
		n = b->pipeline;
		if (b->requests > 0 && b->requests - b->sent < n)
			n = b->requests - b->sent;
		bench_queue(bc, n, b->start);
		if (bench_flush(bc) == 0 && bc->inflight == 0)
			bench_conn_close(bc);
	}
}

/* Run until every connection is done, or SIGINT; a tick every second. */
static void
bench_run(struct bench *b)
{
	struct timeval	tick = { 1, 0 };

	if (b->interval > 0) {
		tick.tv_sec = (time_t)b->interval;
		tick.tv_usec = (suseconds_t)((b->interval - tick.tv_sec) *
		    1e6);
	}
	b->tick = event_new(b->base, -1, EV_PERSIST, bench_tick_cb, b);
	b->sigint = event_new(b->base, client_catch_sigint(), EV_READ,
	    bench_sigint_cb, b);
	if (b->tick == NULL || b->sigint == NULL)
		fatalx("event_new");
	event_add(b->tick, &tick);
	event_add(b->sigint, NULL);
	if (b->open > 0)
		event_base_dispatch(b->base);
	b->end = time_monotonic();
}

/* Close what is still open and free the run. */
static void
bench_free(struct bench *b)
{
	int	i;

	for (i = 0; i < b->nconns; i++) {
		bench_conn_close(&b->conns[i]);
		free(b->conns[i].sent);
		free(b->conns[i].which);
	}
	event_free(b->tick);
	event_free(b->sigint);
	if (b->pace != NULL)
		event_free(b->pace);
	event_base_free(b->base);
	free(b->conns);
	free(b->stream);
	free(b->cycle);
	free(b->cycle_off);
	for (i = 0; i < b->nentries; i++) {
		free(b->entries[i].method);
		free(b->entries[i].params);
		free(b->entries[i].reply);
	}
	free(b->entries);
}

/* The load of --method, --params and --payload: one entry. */
static void
bench_single(struct bench *b, const char *method, const char *params,
    long long payload)
{
	struct bench_entry	*e;
	int			 error;

	if (params != NULL && (error = proto_json_check(params,
	    strlen(params), PROTO_DEPTH_MAX)) != PROTO_OK)
		usage_error("bench: --params are not JSON: %s",
		    proto_strerror(error));
	e = b->entries = xcalloc(1, sizeof *b->entries);
	b->nentries = 1;
	e->weight = 1;
	e->method = xstrdup(method != NULL ? method : "ping");
	if (params != NULL) {
		e->params_len = strlen(params);
		e->params = xstrdup(params);
	} else {
		if (payload == -1)
			payload = 16;
		e->params_len = payload + 2;
		e->params = xmalloc(e->params_len);
		e->params[0] = '"';
		memset(e->params + 1, 'x', payload);
		e->params[payload + 1] = '"';
	}
}

int
cmd_bench(struct options *opt, int argc, char **argv)
{
	struct bench	 b;
	const char	*method = NULL, *params = NULL;
	long long	 payload = -1;

	memset(&b, 0, sizeof b);
	b.opt = opt;
	b.nconns = 50;
	b.pipeline = 1;
	bench_options(&b, opt, argc, argv, &method, &params, &payload);
	if (b.requests == 0 && b.seconds == 0)
		b.requests = 100000;
	if (b.methods != NULL)
		bench_methods(&b, b.methods);
	else
		bench_single(&b, method, params, payload);
	bench_prepare(&b);
	bench_start(&b);
	bench_run(&b);
	bench_report(&b);
	bench_free(&b);
	if (client_interrupted())
		return (EXIT_INTERRUPT);
	return (b.errors > 0 ? EXIT_SERVER : EXIT_OK);
}
