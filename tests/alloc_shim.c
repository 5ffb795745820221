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
 * An allocation-failure shim for tests/allocfail.py, built only by "make
 * check": loaded with LD_PRELOAD, it counts the calls to malloc, calloc
 * and realloc a process makes, rpcd's and its libraries' alike, and makes
 * call number ALLOCFAIL_N fail with ENOMEM (unset or 0: none fails).  So
 * that the test can tell the phases of a run apart, it appends to the
 * file ALLOCFAIL_LOG a line "PID accept COUNT" each time accept() returns
 * a connection and "PID exit COUNT FAILED" at exit, FAILED being how many
 * calls it failed.  With ALLOCFAIL_BACKTRACE set, it prints where the
 * failed call came from on standard error.
 *
 * The real functions are found with dlsym(RTLD_NEXT), so the shim wraps
 * whatever malloc comes after it: the C library's, or a sanitizer's when
 * its runtime is a shared library (gcc's ASan).  A runtime linked into
 * the program (clang's default) defines malloc in the program itself,
 * which comes before any preload: the shim then counts nothing, and the
 * test says so.  Under a sanitizer the shim is not instrumented: it runs
 * while the runtime initialises, before its shadow memory is mapped.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))

static void	*(*real_malloc)(size_t);
static void	*(*real_calloc)(size_t, size_t);
static void	*(*real_realloc)(void *, size_t);
static int	 (*real_accept4)(int, struct sockaddr *, socklen_t *, int);

static unsigned long	 shim_calls, shim_failed, shim_target;
static int		 shim_started, shim_resolving, shim_backtrace;
static int		 shim_log = -1;

/* Find the functions the shim wraps. */
NO_SANITIZE
static void
shim_init(void)
{
	if (real_malloc != NULL || shim_resolving)
		return;
	/* dlsym() may allocate: those calls fail rather than recurse. */
	shim_resolving = 1;
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_accept4 = dlsym(RTLD_NEXT, "accept4");
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	shim_resolving = 0;
}

/*
 * Count one allocation; true if it is the one to fail.  Counting starts
 * once the shim's constructor has read the environment: what a sanitizer
 * allocates as it starts, before that, is neither counted nor failed.
 */
NO_SANITIZE
static int
shim_fail(void)
{
	void	*frames[32];

	shim_init();
	if (!shim_started || ++shim_calls != shim_target)
		return (0);
	shim_failed++;
	if (shim_backtrace)
		backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	errno = ENOMEM;
	return (1);
}

/*
 * Append a line to the log: no allocation, one write(2).  The log is
 * opened here, not as the shim starts, which may be before a sanitizer's
 * open() works.
 */
NO_SANITIZE
static void
shim_note(const char *what)
{
	const char	*path;
	char		 line[128];
	int		 n, saved_errno = errno;

	if (shim_log == -1 && (path = getenv("ALLOCFAIL_LOG")) != NULL)
		shim_log = open(path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0644);
	if (shim_log == -1)
		return;
	n = snprintf(line, sizeof line, "%ld %s %lu %lu\n", (long)getpid(),
	    what, shim_calls, shim_failed);
	if (n > 0 && write(shim_log, line, n) != n) {
		close(shim_log);
		shim_log = -1;
	}
	errno = saved_errno;
}

NO_SANITIZE
void *
malloc(size_t size)
{
	if (shim_fail() || real_malloc == NULL)
		return (NULL);
	return (real_malloc(size));
}

NO_SANITIZE
void *
calloc(size_t n, size_t size)
{
	if (shim_fail() || real_calloc == NULL)
		return (NULL);
	return (real_calloc(n, size));
}

/* realloc(p, 0) frees p: that is not an allocation that can fail. */
NO_SANITIZE
void *
realloc(void *p, size_t size)
{
	shim_init();
	if (p != NULL && size == 0)
		return (real_realloc(p, size));
	if (shim_fail() || real_realloc == NULL)
		return (NULL);
	return (real_realloc(p, size));
}

NO_SANITIZE
int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int	s;

	shim_init();
	if ((s = real_accept4(fd, sa, len, flags)) != -1)
		shim_note("accept");
	return (s);
}

NO_SANITIZE
int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return (accept4(fd, sa, len, 0));
}

NO_SANITIZE __attribute__((constructor)) static void
shim_start(void)
{
	const char	*s;

	shim_init();
	if ((s = getenv("ALLOCFAIL_N")) != NULL)
		shim_target = strtoul(s, NULL, 10);
	shim_backtrace = getenv("ALLOCFAIL_BACKTRACE") != NULL;
	shim_started = 1;
}

NO_SANITIZE __attribute__((destructor)) static void
shim_exit(void)
{
	shim_note("exit");
}
