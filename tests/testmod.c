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
 * The module the test suite loads into rpcd (never installed).  Its
 * arguments: "fail" fails its init, "take=NAME" registers a method NAME
 * too, "bare" none of its own, so that copies of it load side by side;
 * "worker=fail", "worker=crash" and "worker=hang" have its worker_init()
 * fail, abort(3) or never return, as a broken module's would.  Built
 * again with TESTMOD_ABI_MAJOR, TESTMOD_ABI_MINOR or TESTMOD_NO_DESCRIPTOR
 * set, for the descriptors rpcd must refuse.
 */

#include <sys/types.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpcd/module.h>

#ifdef TESTMOD_NO_DESCRIPTOR
/* Under another name, rpcd cannot find it. */
#undef RPCD_MODULE_DESCRIPTOR
#define RPCD_MODULE_DESCRIPTOR	testmod_descriptor
#endif

#ifndef TESTMOD_ABI_MAJOR
#define TESTMOD_ABI_MAJOR	RPCD_MODULE_ABI_MAJOR
#endif
#ifndef TESTMOD_ABI_MINOR
#define TESTMOD_ABI_MINOR	RPCD_MODULE_ABI_MINOR
#endif

static const struct rpcd_api	*api;
static const char		*worker = "";	/* what worker_init does */

/* echo: the params back, at once. */
static void
testmod_echo(struct rpcd_call *call, void *arg)
{
	const char	*params;
	size_t		 len;

	params = api->params(call, &len);
	if (params == NULL)
		api->reply(call, "null", 4);
	else
		api->reply(call, params, len);
}

/* badjson: a result that is not JSON. */
static void
testmod_badjson(struct rpcd_call *call, void *arg)
{
	api->reply(call, "{\"a\": 1} \"out\"", 14);
}

/* fail: an error of the module's own. */
static void
testmod_fail(struct rpcd_call *call, void *arg)
{
	api->reply_error(call, "nope", "the test module says no");
}

/* silent: returns without an answer. */
static void
testmod_silent(struct rpcd_call *call, void *arg)
{
}

/* crash: dies by a signal, as a buggy handler would. */
static void
testmod_crash(struct rpcd_call *call, void *arg)
{
	abort();
}

/* pid: the pid of the worker that answers. */
static void
testmod_pid(struct rpcd_call *call, void *arg)
{
	char	pid[24];
	int	len;

	len = snprintf(pid, sizeof pid, "%ld", (long)getpid());
	api->reply(call, pid, len);
}

/*
 * block: holds its worker for params milliseconds, then answers true; a
 * handler must not block, but a test can catch this one in flight.
 */
static void
testmod_block(struct rpcd_call *call, void *arg)
{
	const char	*params;
	char		 ms[16] = "";
	size_t		 len;

	if ((params = api->params(call, &len)) != NULL &&
	    len < sizeof ms)
		memcpy(ms, params, len);
	poll(NULL, 0, atoi(ms));
	api->reply(call, "true", 4);
}

static const struct rpcd_method testmod_methods[] = {
	{ "echo", "the params back", testmod_echo, NULL, 0, NULL },
	{ "badjson", "a result that is not JSON", testmod_badjson, NULL, 0,
	    NULL },
	{ "fail", "an error reply", testmod_fail, NULL, 0, NULL },
	{ "silent", "no answer at all", testmod_silent, NULL, 0, NULL },
	{ "crash", "abort(3) the worker", testmod_crash, NULL, 0, NULL },
	{ "pid", "the worker's pid", testmod_pid, NULL, 0, NULL },
	{ "block", "hold the worker for params ms", testmod_block, NULL, 0,
	    NULL },
};

static int
testmod_init(const struct rpcd_api *a, int argc, char **argv, char *err,
    size_t len)
{
	struct rpcd_method	extra;
	size_t			i;
	int			n, bare = 0;

	api = a;
	for (n = 1; n < argc; n++)
		bare |= strcmp(argv[n], "bare") == 0;
	for (i = 0; !bare &&
	    i < sizeof testmod_methods / sizeof testmod_methods[0]; i++) {
		if (api->register_method(&testmod_methods[i]) != 0)
			return (-1);
	}
	for (n = 1; n < argc; n++) {
		if (strcmp(argv[n], "fail") == 0) {
			strncpy(err, "asked to fail", len - 1);
			return (-1);
		}
		if (strncmp(argv[n], "worker=", 7) == 0)
			worker = argv[n] + 7;
		if (strncmp(argv[n], "take=", 5) == 0) {
			extra = testmod_methods[0];
			extra.name = argv[n] + 5;
			api->register_method(&extra);
		}
	}
	return (0);
}

/* In each worker: start, or fail as the worker= argument says. */
static int
testmod_worker_init(const struct rpcd_api *a, struct event_base *base)
{
	if (strcmp(worker, "crash") == 0)
		abort();
	if (strcmp(worker, "hang") == 0) {
		/* Until SIGKILL: rpcd catches SIGTERM from here on. */
		for (;;)
			poll(NULL, 0, -1);
	}
	return (strcmp(worker, "fail") == 0 ? -1 : 0);
}

const struct rpcd_module RPCD_MODULE_DESCRIPTOR = {
	TESTMOD_ABI_MAJOR, TESTMOD_ABI_MINOR, "test", "1.0", testmod_init,
	testmod_worker_init, NULL
};
