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
 * A shim for the crash-loop tests, built only by "make check": loaded
 * with LD_PRELOAD into rpcd -P, it makes every worker die as it starts.
 * A worker builds its event loop after the fork; the prefork master never
 * builds one.  So a process that calls event_base_new_with_config() here,
 * as loop_new() does, kills itself with SIGKILL, as a crash at start
 * would end it.
 */

#include <signal.h>
#include <unistd.h>

struct event_base;
struct event_config;

struct event_base	*event_base_new_with_config(const struct event_config *);

struct event_base *
event_base_new_with_config(const struct event_config *cfg)
{
	kill(getpid(), SIGKILL);
	return (NULL);
}
