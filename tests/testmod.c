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
 * too, "bare" none of its own, so that copies of it load side by side,
 * "only=NAME,..." only those of its own (the fuzzer's: none that crashes
 * or blocks);
 * "worker=fail", "worker=crash" and "worker=hang" have its worker_init()
 * fail, abort(3) or never return, as a broken module's would.  Built
 * again with TESTMOD_ABI_MAJOR, TESTMOD_ABI_MINOR or TESTMOD_NO_DESCRIPTOR
 * set, for the descriptors rpcd must refuse.
 *
 * Its deferred methods answer from a timer of the worker's event loop;
 * what rpcd did to them (cancels, replies refused) is counted, and the
 * counts method tells, so that a test sees what a module would.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

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

/* What happened to the deferred and offloaded calls of this worker. */
static struct {
	int		cancels;	/* cancel callbacks run */
	int		refused;	/* replies to cancelled calls, refused */
	atomic_int	started;	/* work functions begun */
	atomic_int	stopped;	/* work functions that saw a cancel */
} testmod_counts;

/* The calls hold keeps, for release. */
#define TESTMOD_HELD_MAX	64
static struct rpcd_call	*testmod_held[TESTMOD_HELD_MAX];
static int		 testmod_nheld;

/* A deferred call and the timer that answers it. */
struct testmod_later {
	struct rpcd_call		*call;
	struct event			*timer;
	char				 value[64];
	size_t				 len;
	LIST_ENTRY(testmod_later)	 entry;
};
static LIST_HEAD(, testmod_later) testmod_laters =
    LIST_HEAD_INITIALIZER(testmod_laters);

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

/*
 * refuse: an error whose message is the params, a JSON string, decoded
 * (\n, \uXXXX below 0x80 and the other short escapes), and a log line
 * saying so, as a module that logs its errors would: a client's text
 * that reaches the log through a module.
 */
static void
testmod_refuse(struct rpcd_call *call, void *arg)
{
	const char	*p, *end;
	char		 msg[256], *m = msg;
	unsigned int	 cp;
	size_t		 len;

	if ((p = api->params(call, &len)) == NULL || len < 2 || *p != '"') {
		api->reply_error(call, "bad_params", "a string");
		return;
	}
	for (end = p + len - 1, p++; p < end && m < msg + sizeof msg - 1;
	    p++) {
		if (*p != '\\' || p + 1 >= end)
			*m++ = *p;
		else if (*++p == 'u' && end - p > 4 &&
		    sscanf(p + 1, "%4x", &cp) == 1 && cp < 0x80) {
			*m++ = cp;
			p += 4;
		} else
			*m++ = *p == 'n' ? '\n' : *p == 'r' ? '\r' :
			    *p == 't' ? '\t' : *p;
	}
	*m = '\0';
	api->log(RPCD_LOG_INFO, "testmod: refused: %s", msg);
	api->reply_error(call, "nope", msg);
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

/* The milliseconds of params N or [N, VALUE], and VALUE (or N). */
static int
testmod_later_params(struct rpcd_call *call, struct testmod_later *l)
{
	const char	*params, *comma, *end;
	size_t		 len;

	if ((params = api->params(call, &len)) == NULL || len == 0 ||
	    len >= sizeof l->value)
		return (-1);
	if (params[0] != '[') {
		/* Ended, for atoi(3): work's l is on the stack, not zeroed. */
		memcpy(l->value, params, len);
		l->value[len] = '\0';
		l->len = len;
		return (atoi(l->value));
	}
	if ((comma = memchr(params, ',', len)) == NULL ||
	    (end = memchr(params, ']', len)) == NULL || end < comma)
		return (-1);
	while (comma + 1 < end && comma[1] == ' ')
		comma++;
	l->len = end - comma - 1;
	memcpy(l->value, comma + 1, l->len);
	return (atoi(params + 1));
}

static void
testmod_later_free(struct testmod_later *l)
{
	LIST_REMOVE(l, entry);
	event_free(l->timer);
	free(l);
}

static void
testmod_later_cb(evutil_socket_t fd, short events, void *arg)
{
	struct testmod_later	*l = arg;

	if (api->reply(l->call, l->value, l->len) != 0)
		testmod_counts.refused++;
	testmod_later_free(l);
}

/*
 * A later call is cancelled: its timer goes, and the call with it, found
 * by the pointer the module set on it.
 */
static void
testmod_later_cancel(struct rpcd_call *call, void *arg)
{
	struct testmod_later	*l = api->data(call);

	testmod_counts.cancels++;
	if (l == NULL || l->call != call) {
		api->log(RPCD_LOG_WARN, "testmod: cancel of a call it does "
		    "not hold");
		return;
	}
	testmod_later_free(l);
}

/*
 * later: answers params N after N milliseconds, or [N, VALUE] with VALUE,
 * from a timer of the worker's event loop.
 */
static void
testmod_later(struct rpcd_call *call, void *arg)
{
	struct testmod_later	*l;
	struct timeval		 tv;
	int			 ms;

	if ((l = calloc(1, sizeof *l)) == NULL ||
	    (ms = testmod_later_params(call, l)) < 0) {
		free(l);
		api->reply_error(call, "bad_params", "N or [N, VALUE]");
		return;
	}
	l->timer = evtimer_new(api->event_base(), testmod_later_cb, l);
	if (l->timer == NULL || (l->call = api->defer(call)) == NULL) {
		if (l->timer != NULL)
			event_free(l->timer);
		free(l);
		return;
	}
	LIST_INSERT_HEAD(&testmod_laters, l, entry);
	api->set_data(l->call, l);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = ms % 1000 * 1000;
	evtimer_add(l->timer, &tv);
}

/* hold: deferred until release is called. */
static void
testmod_hold(struct rpcd_call *call, void *arg)
{
	if (testmod_nheld == TESTMOD_HELD_MAX) {
		api->reply_error(call, "full", "too many calls held");
		return;
	}
	if ((call = api->defer(call)) != NULL)
		testmod_held[testmod_nheld++] = call;
}

/* A held call is cancelled: forget it. */
static void
testmod_hold_cancel(struct rpcd_call *call, void *arg)
{
	int	i;

	testmod_counts.cancels++;
	for (i = 0; i < testmod_nheld; i++) {
		if (testmod_held[i] == call) {
			testmod_held[i] = testmod_held[--testmod_nheld];
			return;
		}
	}
	api->log(RPCD_LOG_WARN, "testmod: cancel of a call it does not hold");
}

/* release: answers every call held with its params, then the count. */
static void
testmod_release(struct rpcd_call *call, void *arg)
{
	const char	*params;
	char		 n[16];
	size_t		 len;
	int		 i;

	for (i = 0; i < testmod_nheld; i++) {
		if ((params = api->params(testmod_held[i], &len)) == NULL)
			api->reply(testmod_held[i], "null", 4);
		else
			api->reply(testmod_held[i], params, len);
	}
	len = snprintf(n, sizeof n, "%d", testmod_nheld);
	testmod_nheld = 0;
	api->reply(call, n, len);
}

/*
 * On a thread of the pool: wait N ms, watching for a cancel, then answer
 * VALUE, or an error if VALUE is "fail".
 */
static void
testmod_work_fn(struct rpcd_call *call, void *arg)
{
	struct testmod_later	l;
	int			ms;

	atomic_fetch_add(&testmod_counts.started, 1);
	if (api->data(call) != (void *)testmod_work_fn) {
		api->reply_error(call, "no_data", "the call lost its pointer");
		return;
	}
	for (ms = testmod_later_params(call, &l); ms > 0; ms -= 5) {
		if (api->cancelled(call)) {
			atomic_fetch_add(&testmod_counts.stopped, 1);
			return;
		}
		poll(NULL, 0, ms < 5 ? ms : 5);
	}
	if (l.len == 6 && memcmp(l.value, "\"fail\"", 6) == 0)
		api->reply_error(call, "nope", "the work failed");
	else
		api->reply(call, l.value, l.len);
}

/* work: later, on a thread of the pool. */
static void
testmod_work(struct rpcd_call *call, void *arg)
{
	struct testmod_later	l;

	if (testmod_later_params(call, &l) < 0)
		api->reply_error(call, "bad_params", "N or [N, VALUE]");
	else {
		/* Set before offload(), which keeps it. */
		api->set_data(call, (void *)testmod_work_fn);
		api->offload(call, testmod_work_fn, NULL);
	}
}

/* A call offloaded is cancelled: its work function sees it too. */
static void
testmod_work_cancel(struct rpcd_call *call, void *arg)
{
	testmod_counts.cancels++;
}

/* Append ", "NAME": VALUE" to buf, VALUE a JSON string or null. */
static void
testmod_whoami_add(char *buf, size_t size, const char *name,
    const char *value)
{
	size_t	n = strlen(buf);

	n += snprintf(buf + n, size - n, "%s\"%s\": ", n > 1 ? ", " : "",
	    name);
	if (value == NULL) {
		snprintf(buf + n, size - n, "null");
		return;
	}
	n += snprintf(buf + n, size - n, "\"");
	/* Tests choose the names: no quote or backslash to escape. */
	for (; *value != '\0' && n + 2 < size; value++)
		buf[n++] = *value == '"' || *value == '\\' ? '?' : *value;
	snprintf(buf + n, size - n, "\"");
}

/* whoami: the caller, as caller() tells it. */
static void
testmod_whoami(struct rpcd_call *call, void *arg)
{
	struct rpcd_caller	who;
	char			buf[1024] = "{";
	size_t			n;

	if (api->caller(call, &who, sizeof who) != 0) {
		api->reply_error(call, "gone", "no caller");
		return;
	}
	testmod_whoami_add(buf, sizeof buf, "address", who.address);
	testmod_whoami_add(buf, sizeof buf, "listener", who.listener);
	n = strlen(buf);
	snprintf(buf + n, sizeof buf - n, ", \"uid\": %ld, \"gid\": %ld",
	    who.uid, who.gid);
	testmod_whoami_add(buf, sizeof buf, "subject", who.subject);
	n = strlen(buf);
	snprintf(buf + n, sizeof buf - n, "}");
	api->reply(call, buf, strlen(buf));
}

/* counts: what rpcd did to this worker's deferred calls. */
static void
testmod_counts_method(struct rpcd_call *call, void *arg)
{
	char	text[128];
	int	len;

	len = snprintf(text, sizeof text, "{\"cancels\": %d, \"refused\": %d, "
	    "\"started\": %d, \"stopped\": %d}", testmod_counts.cancels,
	    testmod_counts.refused, atomic_load(&testmod_counts.started),
	    atomic_load(&testmod_counts.stopped));
	api->reply(call, text, len);
}

static const struct rpcd_method testmod_methods[] = {
	{ "echo", "the params back", testmod_echo, NULL, 0, NULL },
	{ "badjson", "a result that is not JSON", testmod_badjson, NULL, 0,
	    NULL },
	{ "fail", "an error reply", testmod_fail, NULL, 0, NULL },
	{ "refuse", "an error whose message is the params string, logged",
	    testmod_refuse, NULL, 0, NULL },
	{ "silent", "no answer at all", testmod_silent, NULL, 0, NULL },
	{ "crash", "abort(3) the worker", testmod_crash, NULL, 0, NULL },
	{ "pid", "the worker's pid", testmod_pid, NULL, 0, NULL },
	{ "block", "hold the worker for params ms", testmod_block, NULL, 0,
	    NULL },
	{ "later", "answer N or [N, VALUE] after N ms", testmod_later,
	    testmod_later_cancel, 0, NULL },
	{ "later_nc", "later, without a cancel callback", testmod_later, NULL,
	    0, NULL },
	{ "deadline", "later, with a deadline of 100 ms", testmod_later,
	    testmod_later_cancel, 100, NULL },
	{ "hold", "answer the params once release is called", testmod_hold,
	    testmod_hold_cancel, 0, NULL },
	{ "release", "answer the calls held; their count", testmod_release,
	    NULL, 0, NULL },
	{ "work", "later, on the thread pool", testmod_work,
	    testmod_work_cancel, 0, NULL },
	{ "work_deadline", "work, with a deadline of 100 ms", testmod_work,
	    testmod_work_cancel, 100, NULL },
	{ "whoami", "the caller: address, listener, uid, gid, subject",
	    testmod_whoami, NULL, 0, NULL },
	{ "counts", "cancels and refused replies", testmod_counts_method, NULL,
	    0, NULL },
};

/* Is name in list, a comma-separated list of names? */
static int
testmod_listed(const char *list, const char *name)
{
	size_t		 len = strlen(name);
	const char	*p;

	for (p = list; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

static int
testmod_init(const struct rpcd_api *a, int argc, char **argv, char *err,
    size_t len)
{
	struct rpcd_method	extra;
	const char		*only = NULL;
	size_t			i;
	int			n, bare = 0;

	api = a;
	for (n = 1; n < argc; n++) {
		bare |= strcmp(argv[n], "bare") == 0;
		if (strncmp(argv[n], "only=", 5) == 0)
			only = argv[n] + 5;
	}
	for (i = 0; !bare &&
	    i < sizeof testmod_methods / sizeof testmod_methods[0]; i++) {
		if (only != NULL &&
		    !testmod_listed(only, testmod_methods[i].name))
			continue;
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
