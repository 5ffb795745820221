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
 * Requests: parse a frame, check the access rules, find its method in the
 * registry and call its handler, which answers through the call (call.c).
 * The built-in methods are registered here like any module's.  ping is
 * the hot path: its params are echoed as the exact bytes received,
 * written straight into the output buffer, with no JSON tree built or
 * printed.
 *
 * Layer: call (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"

static void	dispatch_ping(struct call *);
static void	dispatch_methods(struct call *);
static void	dispatch_stats(struct call *);

/*
 * Append an error reply of code and message to out, or, behind calls of
 * the connection not answered yet, queue it to wait its turn.  Return -1
 * if it could not be built.
 */
static int
dispatch_fail(struct conn *c, struct evbuffer *out, const char *code,
    const char *message)
{
	struct call	 from, *call;

	if (c->ncalls == 0)
		return (call_error_frame(c, out, code, message));
	memset(&from, 0, sizeof from);
	from.conn = c;
	if ((call = call_queue(&from)) == NULL)
		return (-1);
	call_fail(call, code, message);
	return (call_handled(call));
}

/* dispatch_fail() with a libproto error code. */
int
dispatch_error(struct conn *c, struct evbuffer *out, int error)
{
	return (dispatch_fail(c, out, proto_errname(error),
	    proto_strerror(error)));
}

/*
 * The access rules deny the connection a call of name (method, if it is
 * one of ours): count it, log it with --log-denied, answer forbidden.
 * The connection stays open.
 */
static int
dispatch_denied(struct conn *c, struct evbuffer *out, const char *name,
    const struct method *method)
{
	char	message[PROTO_NAME_MAX + 32];

	c->srv->stats->denied++;
	if (method != NULL)
		stats_method_denied(c->srv->stats, method->index);
	/* The log escapes what it writes; the reply is JSON, escaped too. */
	if (c->srv->settings->log_denied)
		log_info("%s: forbidden: %s", conn_peer(c), name);
	snprintf(message, sizeof message, "not allowed to call %s", name);
	return (dispatch_fail(c, out, "forbidden", message));
}

static void
dispatch_ping(struct call *call)
{
	call_reply(call, "pong", call->params, call->params_len);
}

static void
dispatch_methods(struct call *call)
{
	const struct method	*m;
	struct json_object	*list, *entry;
	int			 i, failed = 0;

	list = json_object_new_array();
	for (i = 0; i < registry_count(); i++) {
		m = registry_get(i);
		/* Only what this caller may call. */
		if (call->conn->access != NULL &&
		    !access_check(call->conn->access, m->name))
			continue;
		entry = json_object_new_object();
		failed |= json_add(entry, "name",
		    json_object_new_string(m->name));
		failed |= json_add(entry, "help",
		    json_object_new_string(m->help));
		if (m->owner != NULL)
			failed |= json_add(entry, "module",
			    json_object_new_string(m->owner));
		failed |= json_add(list, NULL, entry);
	}
	if (failed) {
		json_object_put(list);
		list = NULL;
	}
	call_reply_json(call, NULL, list);
}

static void
dispatch_stats(struct call *call)
{
	struct json_object	*o = stats_to_json();

	if (json_add(o, "settings",
	    config_to_json(call->conn->srv->settings)) != 0) {
		json_object_put(o);
		o = NULL;
	}
	call_reply_json(call, NULL, o);
}

/* Register the built-in methods, first, before any module's. */
void
dispatch_init(void)
{
	registry_add("ping", "answer pong with the params echoed",
	    dispatch_ping);
	registry_add("methods", "list the methods with their help",
	    dispatch_methods);
	registry_add("stats",
	    "version, uptime, per-worker counters with totals, settings",
	    dispatch_stats);
}

/*
 * A request that names no method we have: count it, log the first of the
 * connection (a client error, so at the debug level only), reply.
 */
static int
dispatch_bad_request(struct conn *c, struct evbuffer *out, int error)
{
	if (!c->bad_logged) {
		c->bad_logged = 1;
		log_debug("%s: bad request: %s (only the first of a "
		    "connection is logged)", conn_peer(c),
		    proto_strerror(error));
	}
	c->srv->stats->bad_requests++;
	return (dispatch_error(c, out, error));
}

/*
 * Run a call behind another of its connection not answered yet, kept
 * from the start so that its reply waits its turn.  Return -1 if its
 * reply could not be built.
 */
static int
dispatch_kept(struct call *from)
{
	struct conn	*c = from->conn;
	struct call	*call;

	if ((call = call_queue(from)) == NULL) {
		stats_method_done(c->srv->stats, from->method->index, 1, 0);
		return (-1);
	}
	c->srv->stats->running = call->method->index;
	call->method->fn(call);
	c->srv->stats->running = -1;
	return (call_handled(call));
}

/*
 * Answer one request frame's body, appending the reply to out.  A call
 * of a method is counted with the time from parsing to its reply queued,
 * and as failed if it answered with an error or could not answer.  The
 * call lives on the stack unless it must wait for an earlier one of its
 * connection, or its handler keeps it (defer, offload): call.c.  *now is
 * when the request began: when the one before it in this read ended, or
 * when the read was taken up (conn_process), one clock reading a request;
 * it is set to when this one ended.  Return -1 if the reply could not be
 * built: the connection must close.
 */
int
dispatch_frame(struct conn *c, const char *body, size_t len,
    struct evbuffer *out, int64_t *now)
{
	struct proto_message	 m;
	struct call		 call;
	int			 error, rc;

	call.started = *now;
	c->srv->stats->requests++;
	error = proto_request_parse(body, len, c->srv->settings->max_depth,
	    &m);
	if (error != PROTO_OK)
		return (dispatch_bad_request(c, out, error));
	if (log_enabled(LOG_DEBUG))
		log_debug("%s: %s %.*s", conn_peer(c), m.name,
		    m.value_len > 64 ? 64 : (int)m.value_len,
		    m.value != NULL ? m.value : "");
	/*
	 * The rules first, on any name: a caller refused a name learns
	 * nothing of whether it is a method.  With no rules, no cost but a
	 * test of a pointer.
	 */
	call.method = registry_find(m.name);
	if (c->access != NULL && !access_check(c->access, m.name))
		return (dispatch_denied(c, out, m.name, call.method));
	if (call.method == NULL)
		return (dispatch_bad_request(c, out, PROTO_EMETHOD));
	/* The call that waited for its client's token (conn.c). */
	if (c->rate_delayed) {
		c->rate_delayed = 0;
		stats_method_rate_limited(c->srv->stats, call.method->index);
	}
	stats_method_begin(c->srv->stats, call.method->index);
	call.conn = c;
	call.params = m.value;
	call.params_len = m.value_len;
	call.refs = 0;
	call.data = NULL;
	atomic_init(&call.state, CALL_RUNNING);
	if (c->ncalls > 0) {
		rc = dispatch_kept(&call);
		*now = time_ns();
		return (rc);
	}
	/*
	 * Which method runs, for the master's line if a signal kills us in
	 * it: a plain store into our own slot, nothing the RPC path would
	 * feel.
	 */
	c->srv->stats->running = call.method->index;
	call.method->fn(&call);
	c->srv->stats->running = -1;
	if (call_unanswered(&call))
		call_error(&call, PROTO_EINTERNAL);
	*now = time_ns();
	switch (atomic_load_explicit(&call.state, memory_order_relaxed)) {
	case CALL_DEFERRED:
	case CALL_WORKING:
		/* Kept past its handler: counted when it is answered. */
		return (0);
	case CALL_ANSWERED:
		stats_method_done(c->srv->stats, call.method->index, 0,
		    *now - call.started);
		return (0);
	default:
		stats_method_done(c->srv->stats, call.method->index, 1,
		    *now - call.started);
		return (atomic_load_explicit(&call.state,
		    memory_order_relaxed) == CALL_BROKEN ? -1 : 0);
	}
}
