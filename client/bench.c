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
 * redis-benchmark.  Each connection keeps -P requests in flight (pings,
 * or calls of --method) and answers every reply with a new request, until
 * -n replies or -d seconds.  Latencies go into a log-linear histogram
 * (128 steps per power of two, under 1% error), so memory does not grow
 * with the run.
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

#include "rpcctl.h"

#define SUB_BITS	7
#define SUB_COUNT	(1 << SUB_BITS)
#define NBUCKETS	((64 - SUB_BITS + 1) * SUB_COUNT)

#define BENCH_READ_SIZE		16384	/* first receive buffer, bytes */
#define BENCH_STREAM_SIZE	65536	/* bytes of requests sent at once */

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
	double		 last_reply;	/* or connect time */
	unsigned int	 head, inflight;
	long long	 answered;	/* replies on this connection */
	int		 closes;	/* closed with no reply, in a row */
	size_t		 unsent;	/* request bytes queued, not yet sent */
	size_t		 woff;		/* where they start in b->stream */
};

struct bench {
	struct options		*opt;
	struct event_base	*base;
	struct bench_conn	*conns;
	int			 nconns, open, pipeline;
	long long		 requests;	/* -n; 0 with -d */
	double			 seconds;	/* -d */
	double			 start, end, deadline, last_report;
	long long		 sent, done, errors, last_done;
	long long		 resent;	/* --retry */
	unsigned char		*stream;	/* copies of the request */
	size_t			 stream_len, frame_len;
	const char		*method;	/* --method, or "ping" */
	int			 ping;		/* it is ping */
	char			*params;	/* what each pong must echo */
	size_t			 params_len;
	unsigned char		*reply;		/* a right reply, byte for byte */
	size_t			 reply_len, reply_size;
	uint64_t		 hist[NBUCKETS];
	uint64_t		 max_ns;
	int			 tty, csv, histogram, retry, complained;
	struct event		*tick, *sigint;
};

static int	bench_flush(struct bench_conn *);
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
	bc->unsent = bc->inflight * b->frame_len;
	bc->woff = 0;
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
		bc->woff = (bc->woff + w) % b->frame_len;
	}
	return (0);
}

/* Queue n more pings, all sent at now. */
static void
bench_queue(struct bench_conn *bc, int n, double now)
{
	struct bench	*b = bc->b;

	while (n-- > 0) {
		bc->sent[(bc->head + bc->inflight) % b->pipeline] = now;
		bc->inflight++;
		b->sent++;
		bc->unsent += b->frame_len;
	}
}

/*
 * Is this reply body right: for ping, the pong echoing our params; for
 * another method, any reply but an error.  One the same as the last
 * right one is right with a memcmp(), the hot path: rpcd's pong is known
 * in advance, another method's is kept when it is first seen.
 */
static int
bench_reply_ok(struct bench *b, const char *body, size_t len)
{
	struct proto_message	m;

	if (b->reply != NULL && len == b->reply_len &&
	    memcmp(body, b->reply, len) == 0)
		return (1);
	if (proto_response_parse(body, len, 0, &m) != PROTO_OK)
		return (0);
	if (b->ping)
		return (strcmp(m.name, "pong") == 0 &&
		    m.value_len == b->params_len &&
		    memcmp(m.value, b->params, m.value_len) == 0);
	if (strcmp(m.name, "error") == 0)
		return (0);
	if (len > b->reply_size)
		b->reply = xreallocarray(b->reply, b->reply_size = len, 1);
	memcpy(b->reply, body, len);
	b->reply_len = len;
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
	struct bench	*b = bc->b;
	struct client	*c = &bc->c;
	size_t		 off = 0, need;
	uint32_t	 body = 0;
	uint64_t	 ns;
	int		 n = 0, status;

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
		if (!bench_reply_ok(b, c->buf + off + PROTO_HEADER_SIZE,
		    body)) {
			if (b->ping)
				bench_complain(b, "%s sent a reply that is "
				    "not the pong", bc->c.server);
			else
				bench_complain(b, "%s answered %s with an "
				    "error or a reply that is not JSON",
				    bc->c.server, b->method);
			b->errors++;
		} else {
			ns = (uint64_t)((now - bc->sent[bc->head]) * 1e9);
			b->hist[bucket_of(ns)]++;
			if (ns > b->max_ns)
				b->max_ns = ns;
			b->done++;
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
	if (b->requests > 0 && b->requests - b->sent < n)
		n = b->requests - b->sent;
	if (bench_may_send(b, now))
		bench_queue(bc, n, now);
	if (bench_flush(bc) == 0 && bc->inflight == 0)
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
 * Once a second: fail the connections that waited longer than -t for a
 * reply (a timer per connection would cost more than the check), then
 * print the progress line.
 */
static void
bench_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench	*b = arg;
	double		 now = time_monotonic();
	double		 rps = (b->done - b->last_done) / (now - b->last_report);
	int		 i;

	for (i = 0; i < b->nconns; i++) {
		if (b->conns[i].rev != NULL &&
		    now - b->conns[i].last_reply > b->opt->timeout)
			bench_conn_fail(&b->conns[i], "timed out waiting "
			    "for %s after %gs", b->conns[i].c.server,
			    b->opt->timeout);
	}
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
		    "\"conns\": %d, \"pipeline\": %d, \"resent\": %lld}\n",
		    b->done, b->errors, t, rps, bench_quantile(b, .5),
		    bench_quantile(b, .9), bench_quantile(b, .99),
		    bench_quantile(b, .999), b->max_ns / 1e6, b->nconns,
		    b->pipeline, b->resent);
	else if (b->csv)
		printf("requests,errors,seconds,rps,p50_ms,p90_ms,p99_ms,"
		    "p999_ms,max_ms,conns,pipeline,resent\n"
		    "%lld,%lld,%.3f,%.0f,%.3f,%.3f,%.3f,%.3f,%.3f,%d,%d,%lld\n",
		    b->done, b->errors, t, rps, bench_quantile(b, .5),
		    bench_quantile(b, .9), bench_quantile(b, .99),
		    bench_quantile(b, .999), b->max_ns / 1e6, b->nconns,
		    b->pipeline, b->resent);
	else {
		if (b->tty)
			fprintf(stderr, "\n");
		printf("%lld requests in %.2f s over %d connections, pipeline "
		    "%d: %.0f requests/s, %lld errors", b->done, t,
		    b->nconns, b->pipeline, rps, b->errors);
		if (b->retry)
			printf(", %lld resent", b->resent);
		printf("\nlatency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  "
		    "max %.3f\n", bench_quantile(b, .5), bench_quantile(b, .9),
		    bench_quantile(b, .99), bench_quantile(b, .999),
		    b->max_ns / 1e6);
	}
	if (b->histogram)
		bench_histogram(b);
}

/*
 * The request stream: enough copies of the request frame, with params
 * (NULL: a string of payload bytes), that any run of queued requests,
 * from any offset inside the first copy, is one send().  And for ping the
 * reply rpcd sends, to check a pong with one memcmp().
 */
static void
bench_prepare(struct bench *b, const char *params, size_t payload)
{
	unsigned char	*frame;
	size_t		 size, copies, i;
	int		 error;

	if (params != NULL) {
		b->params_len = strlen(params);
		b->params = xstrdup(params);
	} else {
		b->params_len = payload + 2;
		b->params = xmalloc(b->params_len);
		b->params[0] = '"';
		memset(b->params + 1, 'x', payload);
		b->params[payload + 1] = '"';
	}
	/* Measure, then build. */
	error = proto_request_build(NULL, 0, &size, b->method, b->params,
	    b->params_len);
	if (error != PROTO_ESPACE)
		usage_error("bench: --method %s: %s", b->method,
		    proto_strerror(error));
	frame = xmalloc(size);
	if (proto_request_build(frame, size, &b->frame_len, b->method,
	    b->params, b->params_len) != PROTO_OK)
		fatalx("cannot build the request");
	if (b->ping) {
		proto_response_build(NULL, 0, &size, "pong", b->params,
		    b->params_len);
		b->reply = xmalloc(b->reply_size = size);
		if (proto_response_build(b->reply, size, &b->reply_len,
		    "pong", b->params, b->params_len) != PROTO_OK)
			fatalx("cannot build the reply");
		b->reply_len -= PROTO_HEADER_SIZE;
		memmove(b->reply, b->reply + PROTO_HEADER_SIZE, b->reply_len);
	}

	copies = BENCH_STREAM_SIZE / b->frame_len;
	if (copies < 1)
		copies = 1;
	if (copies > (size_t)b->pipeline)
		copies = b->pipeline;
	b->stream_len = (copies + 1) * b->frame_len;
	b->stream = xreallocarray(NULL, copies + 1, b->frame_len);
	for (i = 0; i <= copies; i++)
		memcpy(b->stream + i * b->frame_len, frame, b->frame_len);
	free(frame);
}

#define BENCH_USAGE "usage: rpcctl bench [-c conns] [-n requests | -d seconds] " \
    "[-P pipeline] [--method name] [--params json] [--payload bytes] " \
    "[--csv] [--histogram] [--retry]"

/*
 * Read bench's options into b, with the defaults, and the global ones;
 * --params comes back in *params and --payload in *payload (-1: none).
 */
static void
bench_options(struct bench *b, struct options *opt, int argc, char **argv,
    const char **params, long long *payload)
{
	static const struct option	 longopts[] = {
		{ "csv",	no_argument,		NULL, 'C' },
		{ "histogram",	no_argument,		NULL, 'G' },
		{ "method",	required_argument,	NULL, 'M' },
		{ "params",	required_argument,	NULL, 'J' },
		{ "payload",	required_argument,	NULL, 'L' },
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
		case 'L':
			*payload = option_number(0, 1 << 20);
			break;
		case 'M':
			b->method = optarg;
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

	b->base = loop_new();
	b->tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO);
	b->conns = xcalloc(b->nconns, sizeof *b->conns);
	for (i = 0; i < b->nconns; i++) {
		bc = &b->conns[i];
		bc->b = b;
		bc->sent = xcalloc(b->pipeline, sizeof(double));
		/* A serverset's members share the connections. */
		command_connect(&bc->c, b->opt, b->opt->registry ? i : 0);
		bench_conn_start(bc);
		b->open++;
	}
	b->start = b->last_report = time_monotonic();
	b->deadline = b->start + b->seconds;
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
	struct timeval	second = { 1, 0 };

	b->tick = event_new(b->base, -1, EV_PERSIST, bench_tick_cb, b);
	b->sigint = event_new(b->base, client_catch_sigint(), EV_READ,
	    bench_sigint_cb, b);
	if (b->tick == NULL || b->sigint == NULL)
		fatalx("event_new");
	event_add(b->tick, &second);
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
	}
	event_free(b->tick);
	event_free(b->sigint);
	event_base_free(b->base);
	free(b->conns);
	free(b->stream);
	free(b->params);
	free(b->reply);
}

int
cmd_bench(struct options *opt, int argc, char **argv)
{
	struct bench	 b;
	const char	*params = NULL;
	long long	 payload = -1;
	int		 error;

	memset(&b, 0, sizeof b);
	b.opt = opt;
	b.nconns = 50;
	b.pipeline = 1;
	b.method = "ping";
	bench_options(&b, opt, argc, argv, &params, &payload);
	if (b.requests == 0 && b.seconds == 0)
		b.requests = 100000;
	if (params != NULL && (error = proto_json_check(params,
	    strlen(params), PROTO_DEPTH_MAX)) != PROTO_OK)
		usage_error("bench: --params are not JSON: %s",
		    proto_strerror(error));
	b.ping = strcmp(b.method, "ping") == 0;

	bench_prepare(&b, params, payload != -1 ? payload : 16);
	bench_start(&b);
	bench_run(&b);
	bench_report(&b);
	bench_free(&b);
	if (client_interrupted())
		return (EXIT_INTERRUPT);
	return (b.errors > 0 ? EXIT_SERVER : EXIT_OK);
}
