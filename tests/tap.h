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
 * Minimal TAP output for the C unit tests: ok(), is_int(), skip(),
 * done_testing().
 */

#ifndef RPCD_TAP_H
#define RPCD_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int	tap_count;
static int	tap_failed;

static void __attribute__((__format__(__printf__, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s line %d\n", file, line);
	}
	fflush(stdout);
}

#define ok(cond, ...)	tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

/* A check that cannot be made here, and why. */
#define skip(why) do {							\
	printf("ok %d # SKIP %s\n", ++tap_count, (why));		\
	fflush(stdout);							\
} while (0)

/* Compare two integers, printing both when they differ. */
#define is_int(got, want, ...) do {					\
	long long tap_got_ = (got), tap_want_ = (want);			\
	tap_ok(tap_got_ == tap_want_, __FILE__, __LINE__, __VA_ARGS__);	\
	if (tap_got_ != tap_want_)					\
		printf("#   got %lld, want %lld\n", tap_got_, tap_want_);	\
} while (0)

/* A program that ran no check is broken, not skipped. */
static int
done_testing(void)
{
	if (tap_count == 0)
		tap_ok(0, __FILE__, __LINE__, "the program ran no check");
	printf("1..%d\n", tap_count);
	return (tap_failed != 0);
}

#endif /* RPCD_TAP_H */
