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
 * A module built against module.h as rpcd 1.0 shipped it (tests/abi-1.0,
 * a copy kept as released), to show that a module built for ABI 1.0
 * loads and works in today's rpcd unchanged: "old_echo" answers its
 * params at once, "old_later" from a timer of the worker's loop, through
 * the 1.0 table's first and last functions.
 */

#include <sys/types.h>

#include <stdlib.h>

#include <event2/event.h>

#include <rpcd/module.h>

#if RPCD_MODULE_ABI_MINOR != 0
#error "oldmod must be built against the 1.0 header, tests/abi-1.0"
#endif

static const struct rpcd_api	*api;

struct oldmod_later {
	struct rpcd_call	*call;
	struct event		*timer;
};

static void
oldmod_echo(struct rpcd_call *call, void *arg)
{
	const char	*params;
	size_t		 len;

	if ((params = api->params(call, &len)) == NULL)
		api->reply(call, "null", 4);
	else
		api->reply(call, params, len);
}

static void
oldmod_later_cb(evutil_socket_t fd, short events, void *arg)
{
	struct oldmod_later	*l = arg;

	api->reply(l->call, "\"later\"", 7);
	event_free(l->timer);
	free(l);
}

static void
oldmod_later(struct rpcd_call *call, void *arg)
{
	struct oldmod_later	*l;
	struct timeval		 tv = { 0, 10000 };

	if ((l = calloc(1, sizeof *l)) == NULL ||
	    (l->timer = evtimer_new(api->event_base(), oldmod_later_cb,
	    l)) == NULL) {
		free(l);
		api->reply_error(call, "nomem", "out of memory");
		return;
	}
	if ((l->call = api->defer(call)) == NULL) {
		event_free(l->timer);
		free(l);
		return;
	}
	evtimer_add(l->timer, &tv);
}

static const struct rpcd_method oldmod_methods[] = {
	{ "old_echo", "the params back", oldmod_echo, NULL, 0, NULL },
	{ "old_later", "\"later\", 10 ms later", oldmod_later, NULL, 0, NULL },
};

static int
oldmod_init(const struct rpcd_api *a, int argc, char **argv, char *err,
    size_t errlen)
{
	size_t	i;

	api = a;
	for (i = 0; i < sizeof oldmod_methods / sizeof oldmod_methods[0]; i++)
		if (api->register_method(&oldmod_methods[i]) != 0)
			return (-1);
	return (0);
}

const struct rpcd_module RPCD_MODULE_DESCRIPTOR = {
	RPCD_MODULE_ABI_MAJOR, RPCD_MODULE_ABI_MINOR, "old", "1.0",
	oldmod_init, NULL, NULL
};
