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
 * Unit test of time_ns() (lib/common/util.c), the clock of every call's
 * latency: over 1.5 s, so across a new anchor of the time-stamp counter
 * where there is one, each reading lies between the monotonic clock's
 * readings just before and just after it, within TOLERANCE, and never
 * goes back.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common.h"
#include "tap.h"

#define TOLERANCE	100000		/* ns */
#define RUN		1500000000	/* ns */

static int64_t
clock_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

int
main(void)
{
	int64_t		before, t, after, last = 0, start, worst = 0;
	long		n = 0, outside = 0, back = 0;

	start = clock_ns();
	do {
		before = clock_ns();
		t = time_ns();
		after = clock_ns();
		if (t < before - TOLERANCE || t > after + TOLERANCE) {
			if (outside++ == 0)
				printf("# %lld ns outside [%lld, %lld]\n",
				    (long long)t, (long long)before,
				    (long long)after);
		}
		if (t < before && before - t > worst)
			worst = before - t;
		if (t > after && t - after > worst)
			worst = t - after;
		back += t < last;
		last = t;
		n++;
	} while (after - start < RUN);
	printf("# %ld readings, worst %lld ns off the clock\n", n,
	    (long long)worst);
	ok(outside == 0, "every reading within %d ns of the clock (%ld not)",
	    TOLERANCE, outside);
	ok(back == 0, "no reading behind the one before (%ld were)", back);
	return (done_testing());
}
