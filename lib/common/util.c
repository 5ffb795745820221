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
 * monotonic clock, the errno test every non-blocking loop makes, the
 * escaping of text for a log line, and a new event loop.
 */

#include "config.h"

#include <sys/resource.h>
#include <sys/select.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#if defined(__x86_64__) && defined(HAVE_X86INTRIN_H) && defined(HAVE_CPUID_H)
#include <cpuid.h>
#include <x86intrin.h>
#endif

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

/* Nanoseconds on the monotonic clock. */
static int64_t
time_clock_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

#if defined(__x86_64__) && defined(HAVE_X86INTRIN_H) && defined(HAVE_CPUID_H)
#define TIME_CALIBRATE	100000000	/* ns: of clock, to measure a ratio */
#define TIME_ANCHOR	1000000000	/* ns: of counter, between anchors */
#define TIME_PAIR	2000		/* ns: a clock and counter pair, at most */

/* Does the CPU's time-stamp counter tick at one rate, in every state? */
static int
time_tsc_invariant(void)
{
	static atomic_int	invariant = -1;
	unsigned int		a, b, c, d;
	int			v;

	if ((v = atomic_load_explicit(&invariant, memory_order_relaxed)) < 0) {
		v = __get_cpuid(0x80000007, &a, &b, &c, &d) &&
		    (d & (1U << 8)) != 0;
		atomic_store_explicit(&invariant, v, memory_order_relaxed);
	}
	return (v);
}

/*
 * Nanoseconds on the monotonic clock, cheaply: a call's latency takes a
 * reading a request.  In a virtual machine clock_gettime() costs about
 * 40 ns (kvm-clock), a twentieth of all a ping costs rpcd; the CPU's
 * invariant time-stamp counter costs 12.  Each thread scales the counter
 * to the clock by a ratio it measures between anchors, pairs of readings
 * of both taken within TIME_PAIR ns: it reads the clock alone for its
 * first TIME_CALIBRATE ns, then the counter, taking a new anchor and
 * ratio every TIME_ANCHOR ns.  So the counter strays from the clock by
 * at most TIME_PAIR for each TIME_CALIBRATE of the interval, 20 us in the
 * first second, 2 us after; and a reading never goes back.
 */
int64_t
time_ns(void)
{
	static _Thread_local struct {
		uint64_t	tsc;		/* at the anchor */
		int64_t		ns;		/* 0: none yet */
		double		scale;		/* ns a tick; 0: not measured */
		int64_t		last;		/* the last reading */
	} a;
	uint64_t	t;
	int64_t		ns, ns2;
	double		since;
	int		i;

	if (!time_tsc_invariant())
		return (time_clock_ns());
	t = __rdtsc();
	/* Unsigned: a counter read behind the anchor is far ahead here. */
	since = (double)(t - a.tsc) * a.scale;
	if (a.scale > 0 && since < TIME_ANCHOR)
		ns = a.ns + (int64_t)since;
	else {
		for (i = 0; i < 3; i++) {
			ns = time_clock_ns();
			t = __rdtsc();
			if ((ns2 = time_clock_ns()) - ns <= TIME_PAIR)
				break;
		}
		ns2 = ns + (ns2 - ns) / 2;
		if (i < 3 && (a.ns == 0 || ns2 - a.ns >= TIME_CALIBRATE)) {
			if (a.ns != 0 && t > a.tsc)
				a.scale = (double)(ns2 - a.ns) /
				    (double)(t - a.tsc);
			a.tsc = t;
			a.ns = ns2;
		}
	}
	if (ns < a.last)
		return (a.last);
	return (a.last = ns);
}
#else
int64_t
time_ns(void)
{
	return (time_clock_ns());
}
#endif

/*
 * A new event loop; with precise, its timers are kept to the microsecond
 * (on Linux a timerfd), not rounded to the millisecond.  select(2) cannot watch a descriptor numbered
 * FD_SETSIZE or above (glibc aborts the process), so with that backend the
 * descriptor limit comes down to FD_SETSIZE: accept(2) then fails with
 * EMFILE, which the listeners survive, instead of the loop crashing.
 */
struct event_base *
loop_new(int precise)
{
	struct event_config	*cfg;
	struct event_base	*base;
	struct rlimit		 rl;

	if ((cfg = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	if (precise)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL)
		fatalx("event_base_new failed");
	if (strcmp(event_base_get_method(base), "select") == 0 &&
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_SETSIZE)) {
		rl.rlim_cur = FD_SETSIZE;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("cannot lower the descriptor limit to %d for "
			    "select(2)", FD_SETSIZE);
	}
	return (base);
}

/* Did a non-blocking call fail only for now (try again later)? */
int
errno_transient(int error)
{
	return (error == EAGAIN || error == EWOULDBLOCK || error == EINTR);
}

/*
 * The length of the UTF-8 character at s, of n bytes at most, if it is a
 * printable one: 0 for an invalid sequence (overlong, a surrogate, past
 * U+10FFFF, cut short) and for a C1 control (U+0080 to U+009F, which some
 * terminals obey as they obey ESC).
 */
static size_t
str_utf8_len(const unsigned char *s, size_t n)
{
	unsigned long	cp;
	size_t		len, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return (0);
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return (0);
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (len == 3 && cp < 0x800) ||
	    (cp >= 0xd800 && cp <= 0xdfff) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return (0);
	return (len);
}

/*
 * Copy src into dst, of size bytes, escaped in the C style of vis(3):
 * \n, \r, \t and \\ for newline, carriage return, tab and backslash, \xNN
 * for every other control byte (C0, DEL), for each byte of a C1 control
 * and for a byte that is not valid UTF-8; printable ASCII and valid UTF-8
 * stay as they are.  So no text, whoever sent it, can end a log line and
 * forge the next one, or send a terminal its escape sequences, and the
 * bytes can be told back from the line.  The copy is cut short, at a whole
 * character, if dst is too small: 4 bytes per byte of src is room enough.
 * Return its length.
 */
size_t
str_escape(char *dst, size_t size, const char *src)
{
	static const char	 cstyle[] = "\n\r\t\\", letter[] = "nrt\\";
	const unsigned char	*s = (const unsigned char *)src;
	const char		*piece, *c;
	char			 e[5];
	size_t			 n = strlen(src), len = 0, k, plen;

	if (size == 0)
		return (0);
	for (; n > 0; s += k, n -= k) {
		piece = (const char *)s;
		plen = k = *s >= 0x80 ? str_utf8_len(s, n) : 0;
		if (k == 0) {
			k = 1;
			if (*s >= 0x20 && *s < 0x7f && *s != '\\')
				plen = 1;
			else {
				c = strchr(cstyle, *s);
				if (c != NULL)
					snprintf(e, sizeof e, "\\%c",
					    letter[c - cstyle]);
				else
					snprintf(e, sizeof e, "\\x%02x", *s);
				piece = e;
				plen = strlen(e);
			}
		}
		if (len + plen >= size)
			break;
		memcpy(dst + len, piece, plen);
		len += plen;
	}
	dst[len] = '\0';
	return (len);
}
