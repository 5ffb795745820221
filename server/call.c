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
 * Replies: the one place a reply frame is encoded.  A handler gets a call
 * (the method, the params span) and answers through it, never through the
 * connection or its buffers.  A reply is built in place in the output
 * buffer's free space, measured first by libproto, so a result is copied
 * once and no temporary is made.
 *
 * A call answered later (defer, offload) is kept on the heap, in its
 * connection's queue of calls in request order; so is every call after
 * it until the queue empties, so that replies keep the order of their
 * requests on a connection, whatever the order they are answered in.
 * The call at the head writes its reply straight into the output; the
 * others into a buffer of their own, moved on when their turn comes.
 *
 * Layer: call (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"

/*
 * Append a frame built by a libproto builder to out: measure it (the
 * builders take size 0 like snprintf), reserve that much and build it
 * there.  A reply that cannot be built fails the connection.
 */
static void
call_put(struct conn *c, struct evbuffer *out, int error, size_t need,
    const char *kind, const char *result, size_t len, const char *code,
    const char *message)
{
	struct evbuffer_iovec	 v;

	if (error == PROTO_ESPACE &&
	    evbuffer_reserve_space(out, need, &v, 1) == 1) {
		if (kind != NULL)
			error = proto_response_build(v.iov_base, need,
			    &v.iov_len, kind, result, len);
		else
			error = proto_error_build(v.iov_base, need,
			    &v.iov_len, code, message);
	}
	if (error != PROTO_OK) {
		c->failed = 1;
		return;
	}
	evbuffer_commit_space(out, &v, 1);
	c->srv->stats->bytes_out += v.iov_len;
}

/* Append {"out": kind, "result": result} to out; result NULL is null. */
void
call_frame(struct conn *c, struct evbuffer *out, const char *kind,
    const char *result, size_t len)
{
	size_t	need;

	if (result == NULL) {
		result = "null";
		len = 4;
	}
	/*
	 * Room for the longest frame such a result makes (a name of
	 * PROTO_NAME_MAX bytes, each escaped to 6), not a measuring pass
	 * first: the reply is built once, on the hot path of every ping.
	 */
	need = PROTO_HEADER_SIZE + 32 + PROTO_NAME_MAX * 6 + len;
	call_put(c, out, PROTO_ESPACE, need, kind, result, len, NULL, NULL);
}

/* Append an error reply with code and message to out, and count it. */
void
call_error_frame(struct conn *c, struct evbuffer *out, const char *code,
    const char *message)
{
	size_t	need;
	int	error;

	c->srv->stats->errors++;
	error = proto_error_build(NULL, 0, &need, code, message);
	call_put(c, out, error, need, NULL, NULL, 0, code, message);
}

/*
 * Where a kept call's reply goes: straight into the output when every
 * reply owed before it has gone, else into a buffer of its own until its
 * turn; NULL out of memory.
 */
static struct evbuffer *
call_out(struct call *call)
{
	if (TAILQ_FIRST(&call->conn->calls) == call)
		return (call->conn->out);
	if (call->out == NULL)
		call->out = evbuffer_new();
	return (call->out);
}

/*
 * Move the replies at the head of the queue, answered, into the output,
 * in request order (evbuffer_add_buffer() moves their chains: no copy),
 * and have the loop send them.
 */
static void
call_advance(struct conn *c)
{
	struct call	*call;
	int		 moved = 0;

	while ((call = TAILQ_FIRST(&c->calls)) != NULL && call->answered) {
		if (call->out != NULL &&
		    evbuffer_add_buffer(c->out, call->out) != 0)
			c->failed = 1;
		TAILQ_REMOVE(&c->calls, call, entry);
		c->ncalls--;
		call->queued = 0;
		call_release(call);
		moved = 1;
	}
	if (moved || c->failed)
		c->srv->replied(c);
}

/*
 * Answer a kept call with a result, or with the error code and message if
 * code is not NULL; count it, and send on what is due.
 */
static void
call_answer_kept(struct call *call, const char *kind, const char *result,
    size_t len, const char *code, const char *message)
{
	struct conn	*c = call->conn;
	struct evbuffer	*out;

	if (call->timer != NULL)
		evtimer_del(call->timer);
	if ((out = call_out(call)) == NULL)
		c->failed = 1;
	else if (code != NULL)
		call_error_frame(c, out, code, message);
	else
		call_frame(c, out, kind, result, len);
	if (call->method != NULL)
		stats_method_done(c->srv->stats, call->method->index,
		    call->failed || c->failed,
		    (time_monotonic() - call->started) * 1e9);
	call_advance(c);
}

/* Answer a call with a result; kind NULL is the method's name. */
void
call_reply(struct call *call, const char *kind, const char *result,
    size_t len)
{
	call->answered = 1;
	if (kind == NULL)
		kind = call->method->name;
	if (call->heap)
		call_answer_kept(call, kind, result, len, NULL, NULL);
	else
		call_frame(call->conn, call->conn->out, kind, result, len);
}

/*
 * Answer a call with a JSON tree as the result, or fail the reply if the
 * tree is NULL; the tree is freed.  json-c goes on printing when its
 * buffer cannot grow and returns text with pieces missing: only errno
 * tells.
 */
void
call_reply_json(struct call *call, const char *kind, struct json_object *o)
{
	const char	*text = NULL;
	size_t		 len;

	errno = 0;
	if (o != NULL)
		text = json_object_to_json_string_length(o,
		    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
	if (text == NULL || errno == ENOMEM) {
		call->conn->failed = 1;
		call_error(call, PROTO_EINTERNAL);
	} else
		call_reply(call, kind, text, len);
	json_object_put(o);
}

/* Answer a call with an error of libproto's. */
void
call_error(struct call *call, int error)
{
	call_fail(call, proto_errname(error), proto_strerror(error));
}

/* Answer a call with an error of its own code and message. */
void
call_fail(struct call *call, const char *code, const char *message)
{
	call->answered = call->failed = 1;
	if (call->heap)
		call_answer_kept(call, NULL, NULL, 0, code, message);
	else
		call_error_frame(call->conn, call->conn->out, code, message);
}

/* A copy of call on the heap, at the end of its connection's queue. */
static struct call *
call_new(const struct call *from)
{
	struct call	*call;

	if ((call = malloc(sizeof *call)) == NULL)
		return (NULL);
	*call = *from;
	call->busy = call->deferred = call->held = call->working = 0;
	atomic_init(&call->cancelled, 0);
	call->heap = call->queued = 1;
	call->out = NULL;
	call->timer = NULL;
	call->copy = NULL;
	call->stash_kind = STASH_NONE;
	call->stash = NULL;
	TAILQ_INSERT_TAIL(&call->conn->calls, call, entry);
	call->conn->ncalls++;
	return (call);
}

/*
 * A request behind a call not answered yet: its reply must wait for its
 * turn, so it is kept from the start, its handler about to run on it.
 * NULL out of memory.
 */
struct call *
call_queue(const struct call *from)
{
	struct call	*call;

	if ((call = call_new(from)) != NULL)
		call->busy = 1;
	return (call);
}

/*
 * From a handler: keep the call past it (defer, offload), with its own
 * copy of the params, which live in the input buffer.  Return the call to
 * answer, or NULL out of memory.
 */
struct call *
call_keep(struct call *call)
{
	struct call	*kept = call;
	char		*copy = NULL;

	if (call->params != NULL &&
	    (copy = malloc(call->params_len)) == NULL)
		return (NULL);
	if (!call->heap && (kept = call_new(call)) == NULL) {
		free(copy);
		return (NULL);
	}
	if (copy != NULL) {
		memcpy(copy, call->params, call->params_len);
		kept->params = kept->copy = copy;
	}
	call->deferred = kept->deferred = 1;
	return (kept);
}

/*
 * Tell the module that a call it holds, or works on, is cancelled: with
 * a cancel callback, that is the last it hears of the call but for its
 * work function, which keeps it until it returns; without, the module
 * keeps the call until it answers, and the reply is dropped.  The call is
 * marked first, so that a reply from the callback is refused.
 */
static void
call_cancel(struct call *call)
{
	const struct rpcd_method	*def = &call->method->def;

	atomic_store(&call->cancelled, 1);
	if (call->timer != NULL)
		evtimer_del(call->timer);
	if ((!call->held && !call->working) || def->cancel == NULL)
		return;
	call->busy = 1;
	def->cancel((struct rpcd_call *)call, def->arg);
	call->busy = call->held = 0;
}

/* A kept call's deadline passed: answer it timeout and cancel it. */
static void
call_expire_cb(evutil_socket_t fd, short events, void *arg)
{
	struct call	*call = arg;
	struct conn	*c = call->conn;

	log_debug("%s: %s: no answer by the deadline", c->peer,
	    call->method->name);
	stats_method_timeout(c->srv->stats, call->method->index);
	call->busy = 1;
	call_error(call, PROTO_ETIMEOUT);
	call_cancel(call);
	call->busy = 0;
	call_release(call);
}

/*
 * Arm the deadline of a call kept by its module: its method's timeout_ms,
 * or --call-timeout.  Return -1 out of memory.
 */
int
call_deadline(struct call *call)
{
	struct server	*srv = call->conn->srv;
	struct timeval	 tv;
	int		 ms = call->method->def.timeout_ms;

	if (ms <= 0) {
		tv.tv_sec = srv->settings->call_timeout;
		tv.tv_usec = 0;
	} else {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = ms % 1000 * 1000;
	}
	call->timer = evtimer_new(srv->base, call_expire_cb, call);
	if (call->timer == NULL || evtimer_add(call->timer, &tv) != 0)
		return (-1);
	return (0);
}

/* Its handler returned on a kept call: one not answered nor kept fails. */
void
call_handled(struct call *call)
{
	if (!call->answered && !call->deferred)
		call_error(call, PROTO_EINTERNAL);
	call->busy = 0;
	call_release(call);
}

/*
 * Free a kept call once nothing holds it: queue, handler, module nor
 * work function.
 */
void
call_release(struct call *call)
{
	if (!call->heap || call->queued || call->busy || call->held ||
	    call->working)
		return;
	if (call->out != NULL)
		evbuffer_free(call->out);
	if (call->timer != NULL)
		event_free(call->timer);
	free(call->copy);
	free(call->stash);
	free(call);
}

/*
 * The connection is going: empty its queue.  A call not answered yet is
 * counted as failed and cancelled.  All are marked before any module
 * hears of it, so that a cancel callback's reply to another call of the
 * connection is refused too; the queue holds each until it is dealt with.
 */
void
call_cancel_all(struct conn *c)
{
	struct call	*call;
	double		 now = time_monotonic();

	TAILQ_FOREACH(call, &c->calls, entry) {
		if (!call->answered && call->method != NULL) {
			atomic_store(&call->cancelled, 1);
			stats_method_done(c->srv->stats, call->method->index,
			    1, (now - call->started) * 1e9);
		}
	}
	while ((call = TAILQ_FIRST(&c->calls)) != NULL) {
		if (atomic_load(&call->cancelled))
			call_cancel(call);
		TAILQ_REMOVE(&c->calls, call, entry);
		c->ncalls--;
		call->queued = 0;
		call->conn = NULL;
		call_release(call);
	}
}
