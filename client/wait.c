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
 * Waiting: for a socket until a deadline, or a pause, either ended at once
 * by SIGINT once a command catches it.  Below net.c and tls.c, which both
 * wait; it prints nothing and exits never.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpcctl.h"

/*
 * The SIGINT handler writes a byte to this pipe, and every wait polls its
 * read end: a flag alone, set just before poll() began, would go unseen
 * until the reply or the timeout.  The byte is never read, so every wait
 * after it ends at once.
 */
static int			client_sigint_pipe[2] = { -1, -1 };
static volatile sig_atomic_t	client_sigint_seen;

static void
client_sigint_cb(int sig)
{
	int	saved_errno = errno;
	ssize_t	n;

	client_sigint_seen = 1;
	/* A full pipe already holds a byte: nothing is lost. */
	n = write(client_sigint_pipe[1], "", 1);
	(void)n;
	errno = saved_errno;
}

/*
 * Catch SIGINT from now on, even if it was ignored (as for a job started
 * with & from a script), as ping(8) does: it ends every wait here, and
 * the fd returned becomes readable, for an event loop.
 */
int
client_catch_sigint(void)
{
	struct sigaction	sa;
	int			i;

	if (pipe(client_sigint_pipe) == -1)
		fatal("pipe");
	for (i = 0; i < 2; i++) {
		fcntl(client_sigint_pipe[i], F_SETFL, O_NONBLOCK);
		fcntl(client_sigint_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = client_sigint_cb;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1)
		fatal("sigaction");
	return (client_sigint_pipe[0]);
}

/* Has SIGINT come since client_catch_sigint()? */
int
client_interrupted(void)
{
	return (client_sigint_seen);
}

/*
 * Wait for fd to be ready for events until deadline; return the events
 * that came, 0 if it timed out, -1 if SIGINT came (once caught), or
 * CLIENT_FAILED if poll(2) failed, with errno set.  An fd of -1 is never
 * ready: the wait is a pause.
 */
int
client_wait(int fd, short events, double deadline)
{
	struct pollfd	pfd[2] = {
		{ fd, events, 0 },
		{ client_sigint_pipe[0], POLLIN, 0 }
	};
	double		left;
	int		n;

	for (;;) {
		left = deadline - time_monotonic();
		if (left <= 0)
			return (0);
		n = poll(pfd, 2, (int)(left * 1000) + 1);
		if (n > 0 && pfd[1].revents != 0)
			return (-1);
		if (n > 0)
			return (pfd[0].revents);
		if (n == -1 && errno != EINTR)
			return (CLIENT_FAILED);
	}
}

/*
 * Sleep for seconds: 0, -1 if SIGINT cut it short, or CLIENT_FAILED with
 * why in err.
 */
int
client_pause(double seconds, char *err, size_t len)
{
	int	r;

	r = client_wait(-1, 0, time_monotonic() + seconds);
	if (r == CLIENT_FAILED)
		snprintf(err, len, "poll: %s", strerror(errno));
	return (r);
}
