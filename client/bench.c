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
 * rpcctl bench: a closed-loop load generator on libevent, like
 * redis-benchmark.  Each connection keeps -P pings in flight and answers
 * every reply with a new ping, until -n replies or -d seconds.  Latencies
 * go into a log-linear histogram (128 steps per power of two, under 1%
 * error), so memory does not grow with the run.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "rpcctl.h"

#define SUB_BITS	7
#define SUB_COUNT	(1 << SUB_BITS)
#define NBUCKETS	((64 - SUB_BITS + 1) * SUB_COUNT)

struct bench_conn {
	struct bench		*b;
	struct bufferevent	*bev;
	double			*sent;		/* ring of send times */
	unsigned int		 head, inflight;
};

struct bench {
	const struct options	*opt;
	struct event_base	*base;
	struct bench_conn	*conns;
	int			 nconns, open, pipeline;
	long long		 requests;	/* -n; 0 with -d */
	double			 seconds;	/* -d */
	double			 start, end, deadline, last_report;
	long long		 sent, done, errors, last_done;
	unsigned char		*frame;
	size_t			 frame_len;
	uint64_t		 hist[NBUCKETS];
	uint64_t		 max_ns;
	int			 tty, csv, histogram;
	struct event		*tick;
};

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

/* Latency at quantile q in milliseconds. */
static double
bench_quantile(const struct bench *b, double q)
{
	uint64_t	want, seen = 0;
	int		i;

	if (b->done == 0)
		return (0);
	want = (uint64_t)ceil(q * b->done);
	if (want == 0)
		want = 1;
	for (i = 0; i < NBUCKETS; i++) {
		seen += b->hist[i];
		if (seen >= want)
			return (bucket_floor(i) / 1e6);
	}
	return (b->max_ns / 1e6);
}

/* One clock reading serves a whole callback: it is the hot path. */
static int
bench_may_send(struct bench *b, double now)
{
	if (b->requests > 0)
		return (b->sent < b->requests);
	return (now < b->deadline);
}

static void
bench_send(struct bench_conn *bc, double now)
{
	struct bench	*b = bc->b;

	bc->sent[(bc->head + bc->inflight) % b->pipeline] = now;
	bc->inflight++;
	b->sent++;
	evbuffer_add(bufferevent_get_output(bc->bev), b->frame, b->frame_len);
}

static void
bench_conn_close(struct bench_conn *bc)
{
	struct bench	*b = bc->b;

	if (bc->bev == NULL)
		return;
	bufferevent_free(bc->bev);
	bc->bev = NULL;
	if (--b->open == 0)
		event_base_loopexit(b->base, NULL);
}

/*
 * Every whole reply in the input: the buffer is made contiguous once and
 * walked in place, then drained once, so a burst of replies costs no copy
 * per reply.
 */
static void
bench_read_cb(struct bufferevent *bev, void *arg)
{
	struct bench_conn	*bc = arg;
	struct bench		*b = bc->b;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct proto_message	 m;
	unsigned char		*p;
	size_t			 len, off = 0;
	uint32_t		 body;
	uint64_t		 ns;
	double			 now = client_now();

	len = evbuffer_get_length(in);
	if ((p = evbuffer_pullup(in, -1)) == NULL)
		return;
	while (proto_frame_decode(p + off, len - off, RPCCTL_MAX_FRAME,
	    &body) == PROTO_FRAME_COMPLETE) {
		if (bc->inflight == 0 || proto_response_parse((char *)p + off +
		    PROTO_HEADER_SIZE, body, 0, &m) != PROTO_OK ||
		    strcmp(m.name, "pong") != 0)
			b->errors++;
		off += PROTO_HEADER_SIZE + body;
		if (bc->inflight == 0)
			continue;
		ns = (uint64_t)((now - bc->sent[bc->head]) * 1e9);
		b->hist[bucket_of(ns)]++;
		if (ns > b->max_ns)
			b->max_ns = ns;
		bc->head = (bc->head + 1) % b->pipeline;
		bc->inflight--;
		b->done++;
		if (bench_may_send(b, now))
			bench_send(bc, now);
	}
	evbuffer_drain(in, off);
	if (bc->inflight == 0 && !bench_may_send(b, now))
		bench_conn_close(bc);
}

static void
bench_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct bench_conn	*bc = arg;
	double			 now = client_now();
	int			 i, on = 1;

	if (what & BEV_EVENT_CONNECTED) {
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
		    &on, sizeof on);
		for (i = 0; i < bc->b->pipeline && bench_may_send(bc->b, now);
		    i++)
			bench_send(bc, now);
		if (bc->inflight == 0)
			bench_conn_close(bc);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		if (bc->b->done == 0 && (what & BEV_EVENT_ERROR))
			server_error("cannot connect to %s: %s",
			    bc->b->opt->server, evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		bc->b->errors += bc->inflight;
		bench_conn_close(bc);
	}
}

/* Once a second: the progress line. */
static void
bench_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench	*b = arg;
	double		 now = client_now();
	double		 rps = (b->done - b->last_done) / (now - b->last_report);

	b->last_report = now;
	b->last_done = b->done;
	if (b->csv || b->opt->json)
		return;
	if (b->tty)
		fprintf(stderr, "\r%.1fs: %lld replies, %.0f req/s, "
		    "p50 %.3f ms   ", now - b->start, b->done, rps,
		    bench_quantile(b, 0.5));
	else
		printf("%.1fs: %lld replies, %.0f req/s\n", now - b->start,
		    b->done, rps);
	fflush(stdout);
}

static void
bench_histogram(const struct bench *b)
{
	uint64_t	rows[32] = { 0 }, top = 0;
	int		i, r, first = -1, last = 0;

	/* One row per power of two of microseconds. */
	for (i = 0; i < NBUCKETS; i++) {
		if (b->hist[i] == 0)
			continue;
		r = 0;
		while (r < 31 && bucket_floor(i) >= (uint64_t)1000 << r)
			r++;
		rows[r] += b->hist[i];
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

static void
bench_report(const struct bench *b)
{
	double	t = b->end - b->start;
	double	rps = t > 0 ? b->done / t : 0;

	if (b->opt->json)
		printf("{\"requests\": %lld, \"errors\": %lld, \"seconds\": "
		    "%.3f, \"rps\": %.0f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
		    "\"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
		    "\"conns\": %d, \"pipeline\": %d}\n", b->done, b->errors,
		    t, rps, bench_quantile(b, .5), bench_quantile(b, .9),
		    bench_quantile(b, .99), bench_quantile(b, .999),
		    b->max_ns / 1e6, b->nconns, b->pipeline);
	else if (b->csv)
		printf("requests,errors,seconds,rps,p50_ms,p90_ms,p99_ms,"
		    "p999_ms,max_ms,conns,pipeline\n"
		    "%lld,%lld,%.3f,%.0f,%.3f,%.3f,%.3f,%.3f,%.3f,%d,%d\n",
		    b->done, b->errors, t, rps, bench_quantile(b, .5),
		    bench_quantile(b, .9), bench_quantile(b, .99),
		    bench_quantile(b, .999), b->max_ns / 1e6, b->nconns,
		    b->pipeline);
	else {
		if (b->tty)
			fprintf(stderr, "\n");
		printf("%lld requests in %.2f s over %d connections, pipeline "
		    "%d: %.0f requests/s, %lld errors\n", b->done, t,
		    b->nconns, b->pipeline, rps, b->errors);
		printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  "
		    "max %.3f\n", bench_quantile(b, .5), bench_quantile(b, .9),
		    bench_quantile(b, .99), bench_quantile(b, .999),
		    b->max_ns / 1e6);
	}
	if (b->histogram)
		bench_histogram(b);
}

#define BENCH_USAGE "usage: rpcctl bench [-c conns] [-n requests | -d seconds] " \
    "[-P pipeline] [--payload bytes] [--csv] [--histogram]"

int
cmd_bench(const struct options *opt, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "csv",	no_argument,		NULL, 'C' },
		{ "histogram",	no_argument,		NULL, 'G' },
		{ "payload",	required_argument,	NULL, 'L' },
		{ NULL,		0,			NULL, 0 }
	};
	struct bench			 b;
	struct addr			 a;
	struct timeval			 second = { 1, 0 };
	const char			*errstr;
	char				 err[128], *params;
	long long			 payload = 16;
	size_t				 size;
	int				 ch, i;

	memset(&b, 0, sizeof b);
	b.opt = opt;
	b.nconns = 50;
	b.pipeline = 1;
	getopt_reset();
	while ((ch = getopt_long(argc, argv, "+c:d:n:P:", longopts,
	    NULL)) != -1) {
		errstr = NULL;
		switch (ch) {
		case 'c':
			b.nconns = parse_number(optarg, 1, 10000, &errstr);
			break;
		case 'd':
			b.seconds = parse_seconds(optarg, 0.1, 86400, &errstr);
			break;
		case 'n':
			b.requests = parse_number(optarg, 1, 1LL << 40,
			    &errstr);
			break;
		case 'P':
			b.pipeline = parse_number(optarg, 1, 10000, &errstr);
			break;
		case 'C':
			b.csv = 1;
			break;
		case 'G':
			b.histogram = 1;
			break;
		case 'L':
			payload = parse_number(optarg, 0, 1 << 20, &errstr);
			break;
		default:
			usage_error(BENCH_USAGE);
		}
		if (errstr != NULL)
			usage_error("bench -%c %s: %s", ch, optarg, errstr);
	}
	if (optind != argc || (b.requests > 0 && b.seconds > 0))
		usage_error(BENCH_USAGE);
	if (b.requests == 0 && b.seconds == 0)
		b.requests = 100000;
	if (addr_parse(opt->server, &a, err, sizeof err) != 0)
		usage_error("bad server address %s: %s", opt->server, err);

	params = xmalloc(payload + 3);
	params[0] = '"';
	memset(params + 1, 'x', payload);
	params[payload + 1] = '"';
	params[payload + 2] = '\0';
	size = PROTO_HEADER_SIZE + payload + 64;
	b.frame = xmalloc(size);
	if (proto_request_build(b.frame, size, &b.frame_len, "ping", params,
	    payload + 2) != PROTO_OK)
		fatalx("cannot build the request");
	free(params);

	if ((b.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	b.tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
	b.conns = xcalloc(b.nconns, sizeof *b.conns);
	b.start = b.last_report = client_now();
	b.deadline = b.start + b.seconds;
	for (i = 0; i < b.nconns; i++) {
		b.conns[i].b = &b;
		b.conns[i].sent = xcalloc(b.pipeline, sizeof(double));
		b.conns[i].bev = bufferevent_socket_new(b.base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
		if (b.conns[i].bev == NULL)
			fatalx("bufferevent_socket_new");
		bufferevent_setcb(b.conns[i].bev, bench_read_cb, NULL,
		    bench_event_cb, &b.conns[i]);
		bufferevent_enable(b.conns[i].bev, EV_READ | EV_WRITE);
		if (bufferevent_socket_connect(b.conns[i].bev,
		    (struct sockaddr *)&a.ss, a.len) != 0)
			server_error("cannot connect to %s", a.text);
		b.open++;
	}
	b.tick = event_new(b.base, -1, EV_PERSIST, bench_tick_cb, &b);
	event_add(b.tick, &second);
	event_base_dispatch(b.base);
	b.end = client_now();

	bench_report(&b);
	for (i = 0; i < b.nconns; i++) {
		if (b.conns[i].bev != NULL)
			bufferevent_free(b.conns[i].bev);
		free(b.conns[i].sent);
	}
	event_free(b.tick);
	event_base_free(b.base);
	free(b.conns);
	free(b.frame);
	return (b.errors > 0 ? EXIT_SERVER : EXIT_OK);
}
