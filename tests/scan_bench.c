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
 * Micro-benchmark of the request scanner ("make scan-bench"; not a test):
 * proto_request_parse() over typical bodies, printed in GB/s as the median
 * of several timed repetitions.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpcd/proto.h"

#define BENCH_SAMPLES	11		/* timed repetitions per body */
#define BENCH_SAMPLE_NS	20000000.0	/* CPU ns per repetition */

struct body {
	char	*buf;
	size_t	 len;
	size_t	 size;
};

static void
body_add(struct body *b, const char *s)
{
	size_t	n = strlen(s);

	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		if ((b->buf = realloc(b->buf, b->size)) == NULL) {
			perror("scan_bench");
			exit(1);
		}
	}
	memcpy(b->buf + b->len, s, n + 1);
	b->len += n;
}

/* {"in":"echo","params":<items repeated to about size bytes>} */
static struct body
body_make(const char *open, const char *item, const char *sep,
    const char *close, size_t size)
{
	struct body	b = { NULL, 0, 0 };
	size_t		start;

	body_add(&b, "{\"in\":\"echo\",\"params\":");
	body_add(&b, open);
	start = b.len;
	while (b.len - start < size) {
		if (b.len != start)
			body_add(&b, sep);
		body_add(&b, item);
	}
	body_add(&b, close);
	body_add(&b, "}");
	return (b);
}

static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

static int
double_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Time the parse of one body and print its median speed. */
static void
bench_run(const char *what, struct body *b)
{
	struct proto_message	m;
	double			gbps[BENCH_SAMPLES], t;
	long			n, i;
	int			k;

	if (proto_request_parse(b->buf, b->len, 0, &m) != PROTO_OK) {
		fprintf(stderr, "scan_bench: %s does not parse\n", what);
		exit(1);
	}
	/* Enough parses per repetition to outlast the clock's granularity. */
	t = now_ns();
	for (n = 0; now_ns() - t < BENCH_SAMPLE_NS / 10; n++)
		proto_request_parse(b->buf, b->len, 0, &m);
	n *= 10;
	for (k = 0; k < BENCH_SAMPLES; k++) {
		t = now_ns();
		for (i = 0; i < n; i++)
			proto_request_parse(b->buf, b->len, 0, &m);
		gbps[k] = (double)b->len * n / (now_ns() - t);
	}
	qsort(gbps, BENCH_SAMPLES, sizeof gbps[0], double_cmp);
	printf("%-16s %8zu bytes %8.2f GB/s %10.2f us/request\n", what,
	    b->len, gbps[BENCH_SAMPLES / 2], b->len / gbps[BENCH_SAMPLES / 2] /
	    1000);
	free(b->buf);
}

int
main(void)
{
	struct body	b;
	static const char	utf8[] = "\xce\x9a\xce\xb1\xce\xbb\xce\xb7"
	    "\xce\xbc\xce\xad\xcf\x81\xce\xb1 \xce\xba\xcf\x8c\xcf\x83\xce\xbc"
	    "\xce\xb5, \xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c\xe3\x80"
	    "\x82\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80\xf0\x9f"
	    "\x8e\x89\xf0\x9f\x9a\x80 ";

	b = body_make("\"", "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ,.", "", "\"", 4096);
	bench_run("ascii-4k", &b);
	b = body_make("\"", "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ,.", "", "\"", 65536);
	bench_run("ascii-64k", &b);
	b = body_make("\"", utf8, "", "\"", 65536);
	bench_run("utf8-64k", &b);
	b = body_make("[", "12345, -0.5, 3.14159e10, 0, 987654321, -42.125",
	    ", ", "]", 65536);
	bench_run("numbers-64k", &b);
	b = body_make("{\"users\":[", "{\"id\":1234,\"name\":\"Ada Lovelace\","
	    "\"tags\":[\"admin\",\"ops\"],\"addr\":{\"city\":\"London\","
	    "\"zip\":\"NW1 6XE\"},\"active\":true,\"score\":98.5}", ",", "]}",
	    65536);
	bench_run("objects-64k", &b);
	b = body_make("[", "{\"name\":\"Jos\xc3\xa9 M\xc3\xbcller\","
	    "\"city\":\"Z\xc3\xbcrich\",\"greeting\":\"\xce\x93\xce\xb5"
	    "\xce\xb9\xce\xac\",\"tag\":\"\xe4\xbd\xa0\xe5\xa5\xbd\"}",
	    ",", "]", 65536);
	bench_run("objects-utf8-64k", &b);
	return (0);
}
