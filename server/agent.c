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
 * The responder to HAProxy's agent-check (--agent-listen): each
 * connection gets one line, "ready" or, once a SIGTERM has asked for a
 * drain, "drain", and is closed.  HAProxy then sends the server no new
 * connection (its weight is 0) while those open go on, which is what
 * --drain-delay waits for.  It is served by whoever knows about the drain:
 * the master with --prefork, from its poll(2) loop; the event loop of a
 * single process otherwise.  The socket is bound with the listeners,
 * before any fork or privilege drop.
 *
 * Layer: worker (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rpcd.h"

#define AGENT_PER_WAKE	16	/* connections answered per wake-up */

static int	agent_listen_fd = -1;

/* Bind --agent-listen, if given; -1 after logging why it cannot be. */
int
agent_open(const struct settings *s)
{
	struct listener	l;

	if (s->agent_listen.len == 0)
		return (0);
	if (listener_bind_one(&s->agent_listen, &l) != 0)
		return (-1);
	agent_listen_fd = l.fd;
	log_info("agent-check answered on %s", l.addr.text);
	return (0);
}

/* The agent's listening socket, or -1. */
int
agent_fd(void)
{
	return (agent_listen_fd);
}

/*
 * Answer the agent connections waiting: "drain" if draining, else
 * "ready".  The line fits any socket buffer, so one write sends it.
 * HAProxy sends nothing, so closing leaves nothing unread to reset the
 * connection with.
 */
void
agent_answer(int draining)
{
	const char	*line = draining ? "drain\n" : "ready\n";
	ssize_t		 n;
	int		 fd, i;

	for (i = 0; i < AGENT_PER_WAKE; i++) {
		if ((fd = accept(agent_listen_fd, NULL, NULL)) == -1) {
			if (!errno_transient(errno) && errno != ECONNABORTED)
				log_warn("agent: accept");
			return;
		}
		n = write(fd, line, strlen(line));
		if (n != (ssize_t)strlen(line))
			log_debug("agent: write: %s", n == -1 ?
			    strerror(errno) : "short");
		close(fd);
	}
}

/* Close the agent's socket: a prefork worker does not answer it. */
void
agent_close(void)
{
	if (agent_listen_fd != -1)
		close(agent_listen_fd);
	agent_listen_fd = -1;
}
