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
 * A call's whole life, and the one place a reply frame is encoded.  A
 * handler gets a call (the method, the params span) and answers through
 * it, never through the connection or its buffers.  A reply is built in
 * place in the output buffer's free space, measured first by libproto, so
 * a result is copied once and no temporary is made.  The functions of the
 * module API that act on a call are here too (module.c's table).
 *
 * A call answered later (defer, offload) is kept on the heap, in its
 * connection's queue of calls in request order; so is every call after
 * it until the queue empties, so that replies keep the order of their
 * requests on a connection, whatever the order they are answered in.
 * The call at the head writes its reply straight into the output; the
 * others into a buffer of their own, moved on when their turn comes.
 *
 * A call's life is its state (enum call_state, rpcd.h) and, once kept,
 * the count of what holds it: its connection's queue, its handler while it
 * runs, its module (defer), the thread pool (offload).  The last to let go
 * frees it (call_release).  A call answers once; a reply that cannot be
 * built breaks it, and its connection closes.
 *
 * Layer: call (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"

static void	call_expire_cb(evutil_socket_t, short, void *);

static enum call_state
call_state(const struct call *call)
{
	return (atomic_load_explicit(&call->state, memory_order_relaxed));
}

static void
call_set_state(struct call *call, enum call_state state)
{
	atomic_store_explicit(&call->state, state, memory_order_relaxed);
}

/* Kept on the heap (call_new), which a call on dispatch's stack is not. */
static int
call_is_kept(const struct call *call)
{
	return (call->refs > 0);
}

/*
 * Append a frame built by a libproto builder to out: measure it (the
 * builders take size 0 like snprintf), reserve that much and build it
 * there.  -1 if it cannot be built.
 */
static int
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
	if (error != PROTO_OK)
		return (-1);
	evbuffer_commit_space(out, &v, 1);
	c->srv->stats->bytes_out += v.iov_len;
	c->bytes_out += v.iov_len;
	return (0);
}

/*
 * Append {"out": kind, "result": result} to out; result NULL is null.
 * -1 if it cannot be built.
 */
static int
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
	return (call_put(c, out, PROTO_ESPACE, need, kind, result, len, NULL,
	    NULL));
}

/* Append an error reply with code and message to out, and count it. */
static int
call_error_frame(struct conn *c, struct evbuffer *out, const char *code,
    const char *message)
{
	size_t	need;
	int	error;

	c->srv->stats->errors++;
	error = proto_error_build(NULL, 0, &need, code, message);
	return (call_put(c, out, error, need, NULL, NULL, 0, code, message));
}

/*
 * rpcd's error words as JSON-RPC 2.0 codes: the spec's own where one
 * fits, -32000 to -32099 (the range it leaves to servers) for the rest,
 * -32000 for a module's own words.  The word goes along as "data".
 */
static const struct {
	const char	*word;
	int		 jsonrpc;	/* JSON-RPC 2.0's code */
	int		 status;	/* HTTP's, for /call/METHOD */
} call_codes[] = {
	{ "bad_json", -32700, 400 },
	{ "bad_utf8", -32700, 400 },
	{ "too_deep", -32700, 400 },
	{ "not_object", -32600, 400 },
	{ "no_method", -32600, 400 },
	{ "bad_method", -32600, 400 },
	{ "bad_jsonrpc", -32600, 400 },
	{ "unknown_method", -32601, 404 },
	{ "bad_params", -32602, 400 },
	{ "internal_error", -32603, 500 },
	{ "no_memory", -32603, 500 },
	{ "frame_too_large", -32001, 413 },
	{ "busy", -32002, 503 },
	{ "timeout", -32003, 504 },
	{ "forbidden", -32004, 403 },
};

/*
 * The JSON-RPC code of rpcd's error word code, or with jsonrpc 0 its HTTP
 * status; a module's own word gets -32000, or 500.
 */
static int
call_code(const char *code, int jsonrpc)
{
	size_t	i;

	for (i = 0; i < sizeof call_codes / sizeof call_codes[0]; i++) {
		if (strcmp(code, call_codes[i].word) == 0)
			return (jsonrpc ? call_codes[i].jsonrpc :
			    call_codes[i].status);
	}
	return (jsonrpc ? -32000 : 500);
}

/*
 * The body of an HTTP reply, in pieces written one after the other: the
 * result, or an error object that json-c prints (tree, freed by the
 * caller), alone or inside JSON-RPC's envelope; none for a notification.
 */
struct call_body {
	const char		*pieces[5];
	size_t			 lens[5];
	int			 n;
	size_t			 len;
	struct json_object	*tree;
};

static void
call_body_add(struct call_body *b, const char *p, size_t len)
{
	b->pieces[b->n] = p;
	b->lens[b->n++] = len;
	b->len += len;
}

/* Make the body of call's reply; -1 out of memory. */
static int
call_body_make(struct call *call, struct call_body *b, const char *result,
    size_t len, const char *code, const char *message)
{
	struct json_object	*e;
	const char		*text;
	size_t			 tlen;
	int			 jsonrpc = call->to.form != REPLY_HTTP;

	memset(b, 0, sizeof *b);
	if (code != NULL) {
		e = b->tree = json_object_new_object();
		if (json_add(e, "code", jsonrpc ?
		    json_object_new_int(call_code(code, 1)) :
		    json_object_new_string(code)) != 0 ||
		    json_add(e, "message", json_object_new_string(message != NULL ?
		    message : "")) != 0 ||
		    (jsonrpc && json_add(e, "data",
		    json_object_new_string(code)) != 0))
			return (-1);
		errno = 0;
		text = json_object_to_json_string_length(e,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &tlen);
		if (text == NULL || errno == ENOMEM)
			return (-1);
	} else {
		text = result != NULL ? result : "null";
		tlen = result != NULL ? len : 4;
	}
	if (!jsonrpc) {
		call_body_add(b, text, tlen);
		return (0);
	}
	if (call->to.id == NULL)
		return (0);	/* a notification: no answer */
	if (code != NULL)
		call_body_add(b, "{\"jsonrpc\":\"2.0\",\"error\":", 25);
	else
		call_body_add(b, "{\"jsonrpc\":\"2.0\",\"result\":", 26);
	call_body_add(b, text, tlen);
	call_body_add(b, ",\"id\":", 6);
	call_body_add(b, call->to.id, call->to.id_len);
	call_body_add(b, "}", 1);
	return (0);
}

/* The origin --http-cors allowed for the request, or NULL. */
static const char *
call_origin(const struct call *call)
{
	if (call->to.origin < 0)
		return (NULL);
	return (call->conn->srv->settings->http_cors[(int)call->to.origin]);
}

/*
 * Append an HTTP reply, or a batch's element, to out: its head (none for
 * an element), the status the error's code maps to or the call's own;
 * then the body.  -1 if it cannot be built.
 */
static int
call_http(struct call *call, struct evbuffer *out, const char *result,
    size_t len, const char *code, const char *message)
{
	struct conn		*c = call->conn;
	struct call_body	 b;
	size_t			 before = evbuffer_get_length(out);
	int			 i, status = 200, rc = -1;

	if (code != NULL)
		c->srv->stats->errors++;
	if (call_body_make(call, &b, result, len, code, message) != 0)
		goto done;
	if (call->to.status != 0)
		status = call->to.status;
	else if (code != NULL && call->to.form == REPLY_HTTP)
		status = call_code(code, 0);
	/*
	 * A notification's is 200 and empty, as JSON-RPC libraries want
	 * it (jsonrpclib takes no other status); a preflight's is 204.
	 */
	if (status == 204 || b.n == 0) {
		b.n = 0;
		b.len = 0;
	}
	if (call->to.form != REPLY_ELEMENT &&
	    http_response_head(out, status, b.len, call->to.close,
	    call_origin(call), call->to.extra) != 0)
		goto done;
	for (i = 0; i < b.n; i++) {
		if (evbuffer_add(out, b.pieces[i], b.lens[i]) != 0)
			goto done;
	}
	c->srv->stats->bytes_out += evbuffer_get_length(out) - before;
	c->bytes_out += evbuffer_get_length(out) - before;
	rc = 0;
done:
	json_object_put(b.tree);
	return (rc);
}

/*
 * A batch's elements are all answered: write its head, for the length of
 * them all with the brackets and commas the elements get now, into its
 * own place in the queue (empty if every one was a notification).  -1 if
 * it cannot be built.
 */
static int
call_batch_finish(struct call *batch, struct evbuffer *out)
{
	struct call	*e, *last = NULL;
	size_t		 len = 0, before, sent;
	int		 n = 0, failed = 0;

	for (e = TAILQ_NEXT(batch, entry); e != NULL && e->to.batch == batch;
	    e = TAILQ_NEXT(e, entry)) {
		if (e->out == NULL || evbuffer_get_length(e->out) == 0)
			continue;
		len += evbuffer_get_length(e->out);
		failed |= evbuffer_prepend(e->out, n++ == 0 ? "[" : ",", 1);
		last = e;
	}
	if (last != NULL)
		failed |= evbuffer_add(last->out, "]", 1);
	if (failed)
		return (-1);
	if (n > 0)
		len += n + 1;
	before = evbuffer_get_length(out);
	if (http_response_head(out, 200, len, batch->to.close,
	    call_origin(batch), NULL) != 0)
		return (-1);
	/* The head, and the brackets and commas: the elements counted theirs. */
	sent = evbuffer_get_length(out) - before + (n > 0 ? n + 1 : 0);
	batch->conn->srv->stats->bytes_out += sent;
	batch->conn->bytes_out += sent;
	return (0);
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

/* Free a kept call once nothing holds it any more. */
static void
call_release(struct call *call)
{
	if (--call->refs > 0)
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
 * Move the replies at the head of the queue, answered, into the output,
 * in request order (evbuffer_add_buffer() moves their chains: no copy),
 * and have the loop send them, or close the connection if the output
 * could not take one.
 */
static void
call_advance(struct conn *c)
{
	struct call	*call;
	int		 moved = 0, broken = 0;

	while ((call = TAILQ_FIRST(&c->calls)) != NULL) {
		switch (call_state(call)) {
		case CALL_RUNNING:
		case CALL_DEFERRED:
		case CALL_WORKING:
			goto done;	/* not answered yet */
		case CALL_BROKEN:
			broken = 1;
			break;
		default:
			break;
		}
		if (call->out != NULL &&
		    evbuffer_add_buffer(c->out, call->out) != 0)
			broken = 1;
		TAILQ_REMOVE(&c->calls, call, entry);
		c->ncalls--;
		call_release(call);	/* the queue's */
		moved = 1;
	}
done:
	if (moved || broken)
		c->srv->replied(c, broken ? -1 : 0);
}

/*
 * Answer a call with a result, or with the error code and message if
 * code is not NULL; a kept one is counted, and what is due sent on.
 * Return 0, or -1 if the reply could not be built (or, with neither kind
 * nor code, is not to be): the call is broken, and its connection closes.
 */
static int
call_answer(struct call *call, const char *kind, const char *result,
    size_t len, const char *code, const char *message)
{
	struct conn	*c = call->conn;
	struct evbuffer	*out = c->out;
	int		 rc;

	if (call_is_kept(call)) {
		if (call->timer != NULL)
			evtimer_del(call->timer);
		out = call_out(call);
	}
	if (out == NULL)
		rc = -1;
	else if (call->to.form == REPLY_BATCH)
		rc = call_batch_finish(call, out);
	else if (kind == NULL && code == NULL)
		rc = -1;
	else if (call->to.form != REPLY_FRAME)
		rc = call_http(call, out, result, len, code, message);
	else if (code != NULL)
		rc = call_error_frame(c, out, code, message);
	else
		rc = call_frame(c, out, kind, result, len);
	call_set_state(call, rc != 0 ? CALL_BROKEN : code != NULL ?
	    CALL_FAILED : CALL_ANSWERED);
	/* The last of a batch's elements answers the batch. */
	if (rc == 0 && call->to.batch != NULL &&
	    --call->to.batch->pending == 0)
		rc = call_answer(call->to.batch, NULL, NULL, 0, NULL, NULL);
	if (!call_is_kept(call))
		return (rc);
	if (call->method != NULL)
		stats_method_done(c->srv->stats, stats_row(call->method, &call->to),
		    code != NULL || rc != 0,
		    time_ns() - call->started);
	call_advance(c);
	return (rc);
}

/* Answer a call with a result; kind NULL is the method's name. */
int
call_reply(struct call *call, const char *kind, const char *result,
    size_t len)
{
	if (kind == NULL)
		kind = call->method->name;
	return (call_answer(call, kind, result, len, NULL, NULL));
}

/*
 * Answer a call with a JSON tree as the result, the tree freed.  NULL, or
 * a tree json-c could not print, is memory run out: that breaks the call,
 * as a reply that cannot be built does.  json-c goes on printing when its
 * buffer cannot grow and returns text with pieces missing: only errno
 * tells.
 */
int
call_reply_json(struct call *call, const char *kind, struct json_object *o)
{
	const char	*text = NULL;
	size_t		 len;
	int		 rc;

	errno = 0;
	if (o != NULL)
		text = json_object_to_json_string_length(o,
		    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
	if (text == NULL || errno == ENOMEM)
		rc = call_answer(call, NULL, NULL, 0, NULL, NULL);
	else
		rc = call_reply(call, kind, text, len);
	json_object_put(o);
	return (rc);
}

/* Answer a call with an error of libproto's. */
int
call_error(struct call *call, int error)
{
	return (call_fail(call, proto_errname(error), proto_strerror(error)));
}

/* Answer a call with an error of its own code and message. */
int
call_fail(struct call *call, const char *code, const char *message)
{
	return (call_answer(call, NULL, NULL, 0, code, message));
}

/* A copy of call on the heap, at the end of its connection's queue. */
static struct call *
call_new(const struct call *from)
{
	struct call	*call;

	if ((call = malloc(sizeof *call)) == NULL)
		return (NULL);
	*call = *from;
	call->refs = 1;		/* the queue's */
	call->out = NULL;
	call->timer = NULL;
	call->copy = NULL;
	call->stash_kind = STASH_NONE;
	call->stash = NULL;
	if (call->to.batch != NULL)
		call->to.batch->pending++;
	TAILQ_INSERT_TAIL(&call->conn->calls, call, entry);
	call->conn->ncalls++;
	return (call);
}

/*
 * A request behind a call not answered yet: its reply must wait for its
 * turn, so it is kept from the start, its handler about to run on it
 * (which holds it until call_handled()).  NULL out of memory.
 */
struct call *
call_queue(const struct call *from)
{
	struct call	*call;

	if ((call = call_new(from)) != NULL) {
		call_set_state(call, CALL_RUNNING);
		call->refs++;
	}
	return (call);
}

/* Still running: its handler returned without answering or keeping it. */
int
call_unanswered(const struct call *call)
{
	return (call_state(call) == CALL_RUNNING);
}

/*
 * A kept call's handler returned: one not answered nor kept fails.
 * Return -1 if its reply could not be built.
 */
int
call_handled(struct call *call)
{
	int	rc;

	if (call_unanswered(call))
		call_error(call, PROTO_EINTERNAL);
	rc = call_state(call) == CALL_BROKEN ? -1 : 0;
	call_release(call);	/* the handler's */
	return (rc);
}

/*
 * A JSON-RPC batch: a call of its own, queued before its elements, that
 * writes the reply's head once they are all answered (call_batch_finish).
 * It waits for them, and for the one hold call_batch_close() lets go once
 * they are all made, so that those answered at once do not end it early.
 * NULL out of memory.
 */
struct call *
call_batch_open(struct conn *c, const struct reply_to *to)
{
	struct call	 from, *batch;

	memset(&from, 0, sizeof from);
	from.conn = c;
	from.to = *to;
	from.to.form = REPLY_BATCH;
	if ((batch = call_queue(&from)) != NULL)
		batch->pending = 1;
	return (batch);
}

/*
 * Every element of the batch is made: let go of the hold, and answer the
 * batch if they are answered.  Return -1 if its reply could not be built.
 */
int
call_batch_close(struct call *batch)
{
	int	rc = 0;

	if (--batch->pending == 0)
		rc = call_answer(batch, NULL, NULL, 0, NULL, NULL);
	call_release(batch);	/* dispatch's, as a handler's */
	return (rc);
}

/*
 * The module (DEFERRED) or the pool (WORKING) takes over a call from its
 * handler, which goes on to the heap with its own copy of the params
 * (they live in the input buffer) unless it is there.  Its deadline is
 * its method's timeout_ms, or --call-timeout.  Return the call kept, or
 * NULL out of memory, the call untouched.
 */
static struct call *
call_keep(struct call *call, enum call_state state)
{
	struct server	*srv = call->conn->srv;
	struct call	*kept = call;
	struct timeval	 tv = { srv->settings->call_timeout, 0 };
	char		*copy = NULL;
	int		 ms = call->method->def.timeout_ms;

	/* The params and a JSON-RPC id, both in the input buffer. */
	if ((call->params != NULL || call->to.id != NULL) &&
	    (copy = malloc(call->params_len + call->to.id_len)) == NULL)
		return (NULL);
	if (!call_is_kept(call) && (kept = call_new(call)) == NULL) {
		free(copy);
		return (NULL);
	}
	if (ms > 0) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = ms % 1000 * 1000;
	}
	kept->timer = evtimer_new(srv->base, call_expire_cb, kept);
	if (kept->timer == NULL || evtimer_add(kept->timer, &tv) != 0) {
		free(copy);
		if (kept != call) {
			/* Not kept after all: out of its queue. */
			TAILQ_REMOVE(&kept->conn->calls, kept, entry);
			kept->conn->ncalls--;
			call_release(kept);
		}
		return (NULL);
	}
	if (copy != NULL) {
		if (call->params != NULL) {
			memcpy(copy, call->params, call->params_len);
			kept->params = copy;
		}
		if (call->to.id != NULL) {
			memcpy(copy + call->params_len, call->to.id,
			    call->to.id_len);
			kept->to.id = copy + call->params_len;
		}
		kept->copy = copy;
	}
	kept->refs++;		/* the module's, or the pool's */
	call_set_state(call, state);
	call_set_state(kept, state);
	return (kept);
}

/*
 * Tell the module of a call cancelled while it held it or its work ran
 * (CALL_CANCELLING_*): with a cancel callback, that is the last it hears
 * of the call but for its work function, which keeps it until it returns;
 * without, the module keeps the call until it answers, and the reply is
 * dropped.  A reply from the callback is refused.
 */
static void
call_tell_cancel(struct call *call)
{
	const struct rpcd_method	*def;
	enum call_state			 state = call_state(call);

	if (state != CALL_CANCELLING_HELD && state != CALL_CANCELLING_WORKING)
		return;
	call_set_state(call, state == CALL_CANCELLING_HELD ?
	    CALL_CANCELLED_HELD : CALL_CANCELLED_WORKING);
	def = &call->method->def;
	if (def->cancel == NULL)
		return;
	call->refs++;		/* through the callback */
	def->cancel((struct rpcd_call *)call, def->arg);
	if (call_state(call) == CALL_CANCELLED_HELD) {
		call_set_state(call, CALL_CANCELLED);
		call_release(call);	/* the module's */
	}
	call_release(call);
}

/*
 * Mark a call not answered as cancelled: its module or the pool is told
 * next (call_tell_cancel).  0 if it was answered or cancelled already.
 */
static int
call_mark_cancelled(struct call *call)
{
	switch (call_state(call)) {
	case CALL_RUNNING:
		call_set_state(call, CALL_CANCELLED);
		return (1);
	case CALL_DEFERRED:
		call_set_state(call, CALL_CANCELLING_HELD);
		return (1);
	case CALL_WORKING:
		call_set_state(call, CALL_CANCELLING_WORKING);
		return (1);
	default:
		return (0);
	}
}

/* A kept call's deadline passed: answer it timeout and cancel it. */
static void
call_expire_cb(evutil_socket_t fd, short events, void *arg)
{
	struct call	*call = arg;
	struct conn	*c = call->conn;
	enum call_state	 was = call_state(call);

	log_debug("%s: %s: no answer by the deadline", conn_peer(c),
	    call->method->name);
	stats_method_timeout(c->srv->stats,
	    stats_row(call->method, &call->to));
	call->refs++;		/* through the answer and the callback */
	call_error(call, PROTO_ETIMEOUT);
	/* Answered, yet still its module's or the pool's: cancel that. */
	call_set_state(call, was);
	call_mark_cancelled(call);
	call_tell_cancel(call);
	call_release(call);
}

/* The module lets go of a call it held; rc is what its API call returns. */
static int
call_let_go(struct call *call, int rc)
{
	call_release(call);	/* the module's */
	return (rc);
}

/*
 * On a pool thread: keep the work function's answer, a result or
 * "code\0message", for the loop to send (call_offloaded); nothing of the
 * connection is touched here.  -1 if it answered already, or the call
 * was cancelled.
 */
static int
call_stash(struct call *call, int kind, const char *a, size_t alen,
    const char *b)
{
	size_t	blen = b != NULL ? strlen(b) + 1 : 0;

	if (call->stash_kind != STASH_NONE || call_is_cancelled(call))
		return (-1);
	call->stash_kind = kind;
	if (a == NULL || (kind == STASH_ERROR && b == NULL)) {
		call->stash_len = 0;
		return (0);
	}
	if ((call->stash = malloc(alen + blen)) == NULL) {
		call->stash_kind = STASH_NOMEM;
		return (0);
	}
	memcpy(call->stash, a, alen);
	if (b != NULL)
		memcpy(call->stash + alen, b, blen);
	call->stash_len = alen + blen;
	return (0);
}

/*
 * A module's answer, with a result; one that is not JSON would break the
 * stream's framing for the client, so it is answered internal_error
 * instead.  The params themselves (an echo) were checked when the request
 * was read: they are not scanned twice.
 */
static void
call_module_answer(struct call *call, const char *result, size_t len)
{
	if (result == NULL || ((result != call->params ||
	    len != call->params_len) &&
	    proto_json_check(result, len, PROTO_DEPTH_MAX) != 0)) {
		log_warnx("module %s: method %s answered with a result that "
		    "is not JSON", call->method->owner, call->method->name);
		call_error(call, PROTO_EINTERNAL);
	} else
		call_reply(call, NULL, result, len);
}

/* A module's answer, an error; one not a word and UTF-8 is not sent. */
static void
call_module_fail(struct call *call, const char *code, const char *message)
{
	const char	*p;
	size_t		 need;

	for (p = code; p != NULL && *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_')
			break;
	}
	if (p == NULL || *p != '\0' || message == NULL ||
	    proto_error_build(NULL, 0, &need, code, message) != PROTO_ESPACE) {
		log_warnx("module %s: method %s answered with an error that "
		    "is not a word and a UTF-8 message", call->method->owner,
		    call->method->name);
		call_error(call, PROTO_EINTERNAL);
	} else
		call_fail(call, code, message);
}

/*
 * Whether a module may answer call from the loop now: -1 if not (a reply
 * refused), 1 if it holds the call and lets go with this answer, 0 if its
 * handler runs.  A cancelled call the module held is let go, refused.
 */
static int
call_module_may_answer(struct call *call)
{
	switch (call_state(call)) {
	case CALL_RUNNING:
		return (0);
	case CALL_DEFERRED:
		/* Not the handler's copy on dispatch's stack: the kept one. */
		return (call_is_kept(call) ? 1 : -1);
	case CALL_CANCELLING_HELD:
	case CALL_CANCELLED_HELD:
		call_set_state(call, CALL_CANCELLED);
		return (call_let_go(call, -1));
	default:
		return (-1);
	}
}

/* Back in the loop: answer an offloaded call as its work function did. */
void
call_offloaded(struct call *call)
{
	char	*code = call->stash, *message;

	if (call_is_cancelled(call))
		call_set_state(call, CALL_CANCELLED);
	else if (call->stash_kind == STASH_RESULT)
		call_module_answer(call, call->stash, call->stash_len);
	else if (call->stash_kind == STASH_ERROR && code != NULL) {
		message = code + strlen(code) + 1;
		call_module_fail(call, code, message);
	} else if (call->stash_kind == STASH_ERROR)
		call_module_fail(call, NULL, NULL);
	else {
		if (call->stash_kind == STASH_NONE)
			log_warnx("module %s: method %s: its work returned "
			    "without an answer", call->method->owner,
			    call->method->name);
		call_error(call, PROTO_EINTERNAL);
	}
	call_release(call);	/* the pool's */
}

const char *
call_api_params(const struct rpcd_call *rc, size_t *len)
{
	const struct call	*call = (const struct call *)rc;

	*len = call->params_len;
	return (call->params);
}

const char *
call_api_method(const struct rpcd_call *rc)
{
	return (((const struct call *)rc)->method->name);
}

int
call_api_reply(struct rpcd_call *rc, const char *result, size_t len)
{
	struct call	*call = (struct call *)rc;
	int		 held;

	if (pool_running(call))
		return (call_stash(call, STASH_RESULT, result, len, NULL));
	if ((held = call_module_may_answer(call)) == -1)
		return (-1);
	call_module_answer(call, result, len);
	return (held ? call_let_go(call, 0) : 0);
}

int
call_api_reply_error(struct rpcd_call *rc, const char *code,
    const char *message)
{
	struct call	*call = (struct call *)rc;
	int		 held;

	if (pool_running(call))
		return (call_stash(call, STASH_ERROR, code,
		    code != NULL ? strlen(code) + 1 : 0, message));
	if ((held = call_module_may_answer(call)) == -1)
		return (-1);
	call_module_fail(call, code, message);
	return (held ? call_let_go(call, 0) : 0);
}

/*
 * From a handler: keep the call, to be answered later from the loop.
 * Out of memory it is answered internal_error, and NULL returned; NULL
 * too, the call untouched, for one not in its handler, answered or
 * deferred already.
 */
struct rpcd_call *
call_api_defer(struct rpcd_call *rc)
{
	struct call	*call = (struct call *)rc, *kept;

	if (call_state(call) != CALL_RUNNING)
		return (NULL);
	if ((kept = call_keep(call, CALL_DEFERRED)) == NULL) {
		call_error(call, PROTO_EINTERNAL);
		return (NULL);
	}
	return ((struct rpcd_call *)kept);
}

/*
 * From a handler: have a thread of the pool run work(call, arg), which
 * answers; the loop sends its answer.  A full queue answers busy at once;
 * out of memory, internal_error: -1 then, and for a call not in its
 * handler, answered or deferred already (untouched).
 */
int
call_api_offload(struct rpcd_call *rc, rpcd_work_fn *work, void *arg)
{
	struct call	*call = (struct call *)rc, *kept;

	if (call_state(call) != CALL_RUNNING || work == NULL)
		return (-1);
	if ((kept = call_keep(call, CALL_WORKING)) == NULL) {
		call_error(call, PROTO_EINTERNAL);
		return (-1);
	}
	kept->work = work;
	kept->work_arg = arg;
	if (pool_push(kept) == 0)
		return (0);
	call_error(kept, PROTO_EBUSY);
	call_release(kept);	/* the pool's, which never took it */
	return (-1);
}

int
call_api_cancelled(const struct rpcd_call *rc)
{
	return (call_is_cancelled((const struct call *)rc));
}

/*
 * Who is calling.  The strings are the last caller's, kept until the
 * next: a handler copies what it keeps (modules call this from the loop
 * only).
 */
int
call_api_caller(const struct rpcd_call *rc, struct rpcd_caller *caller,
    size_t size)
{
	static struct identity	 id;
	const struct call	*call = (const struct call *)rc;
	const struct conn	*c = call->conn;
	struct rpcd_caller	 who;

	if (c == NULL)
		return (-1);
	identity_clear(&id);
	if (c->srv->identify(c, &id) != 0)
		log_warnx("%s: out of memory for the names of its "
		    "certificate", conn_peer(c));
	who.address = c->peer_ip[0] != '\0' ? c->peer_ip : NULL;
	who.listener = id.listener;
	who.uid = id.cred ? (long)id.uid : -1;
	who.gid = id.cred ? (long)id.gid : -1;
	who.subject = id.subject;
	memcpy(caller, &who, size < sizeof who ? size : sizeof who);
	return (0);
}

void
call_api_set_data(struct rpcd_call *rc, void *data)
{
	((struct call *)rc)->data = data;
}

void *
call_api_data(const struct rpcd_call *rc)
{
	return (((const struct call *)rc)->data);
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
	int64_t		 now = time_ns();

	TAILQ_FOREACH(call, &c->calls, entry) {
		if (call_mark_cancelled(call) && call->method != NULL)
			stats_method_done(c->srv->stats, stats_row(call->method, &call->to),
			    1, now - call->started);
	}
	while ((call = TAILQ_FIRST(&c->calls)) != NULL) {
		if (call->timer != NULL)
			evtimer_del(call->timer);
		call_tell_cancel(call);
		TAILQ_REMOVE(&c->calls, call, entry);
		c->ncalls--;
		call->conn = NULL;
		call_release(call);	/* the queue's */
	}
}
