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
 * Bounded number parsing, getopt reset, allocators that cannot fail, the
 * monotonic clock and the errno test every non-blocking loop makes.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/*
 * Parse a decimal integer in [min, max], like OpenBSD's strtonum(3): on
 * failure *errstr says "invalid", "too small" or "too large".
 */
long long
parse_number(const char *s, long long min, long long max,
    const char **errstr)
{
	char		*end;
	long long	 v;

	*errstr = NULL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0')
		*errstr = "invalid";
	else if ((errno == ERANGE && v == LLONG_MIN) || v < min)
		*errstr = "too small";
	else if ((errno == ERANGE && v == LLONG_MAX) || v > max)
		*errstr = "too large";
	return (*errstr == NULL ? v : 0);
}

/* Parse a number of seconds (fractions allowed) in [min, max]. */
double
parse_seconds(const char *s, double min, double max, const char **errstr)
{
	char	*end;
	double	 v;

	*errstr = NULL;
	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' ||
	    isnan(v) || errno != 0)
		*errstr = "invalid";
	else if (v < min)
		*errstr = "too small";
	else if (v > max)
		*errstr = "too large";
	return (*errstr == NULL ? v : 0);
}

/* Make getopt start over, the portable way: BSDs want optreset. */
void
getopt_reset(void)
{
#ifdef HAVE_OPTRESET
	optreset = 1;
	optind = 1;
#else
	optind = 0;
#endif
}

void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		fatal("malloc");
	return (p);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("calloc");
	return (p);
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("reallocarray: overflow");
	if ((p = realloc(old, n * size == 0 ? 1 : n * size)) == NULL)
		fatal("realloc");
	return (p);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return (p);
}

/* Seconds on a clock that never jumps: for deadlines and rates. */
double
time_monotonic(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Did a non-blocking call fail only for now (try again later)? */
int
errno_transient(int error)
{
	return (error == EAGAIN || error == EWOULDBLOCK || error == EINTR);
}
