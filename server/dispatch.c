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

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"

static void	dispatch_ping(struct call *);
static void	dispatch_methods(struct call *);
static void	dispatch_stats(struct call *);

/* How a framed request's reply is written. */
static const struct reply_to dispatch_framed = { .form = REPLY_FRAME,
    .origin = -1 };

/*
 * Answer a request that reaches no method (an error, or an answer of
 * HTTP's own such as /ready's) with result or with code and message, as
 * to says, at once or, behind calls of the connection not answered yet,
 * queued to wait its turn.  Return -1 if it could not be built.
 */
static int
dispatch_answer(struct conn *c, const struct reply_to *to,
    const char *result, size_t len, const char *code, const char *message)
{
	struct call	 from, *call = &from;
	int		 rc;

	memset(&from, 0, sizeof from);
	from.conn = c;
	from.to = *to;
	atomic_init(&from.state, CALL_RUNNING);
	if (c->ncalls > 0 && (call = call_queue(&from)) == NULL)
		return (-1);
	if (code != NULL)
		rc = call_fail(call, code, message);
	else
		rc = call_reply(call, "", result, len);
	return (call == &from ? rc : call_handled(call));
}

/* dispatch_answer() of an error. */
static int
dispatch_fail(struct conn *c, const struct reply_to *to, const char *code,
    const char *message)
{
	return (dispatch_answer(c, to, NULL, 0, code, message));
}

/*
 * Answer an error of libproto's that ends the connection (too large,
 * busy): a frame, or on an HTTP listener a response that says so.
 */
int
dispatch_error(struct conn *c, int error)
{
	struct reply_to	to = { .form = REPLY_HTTP, .close = 1,
	    .origin = -1 };

	return (dispatch_fail(c, (c->l->flags & LISTEN_HTTP) ? &to :
	    &dispatch_framed, proto_errname(error), proto_strerror(error)));
}

/*
 * The access rules deny the connection a call of name (method, if it is
 * one of ours): count it, log it with --log-denied, answer forbidden.
 * The connection stays open.
 */
static int
dispatch_denied(struct conn *c, const struct reply_to *to, const char *name,
    const struct method *method)
{
	char	message[PROTO_NAME_MAX + 32];

	c->srv->stats->denied++;
	if (method != NULL)
		stats_method_denied(c->srv->stats,
		    stats_row(method, to));
	/* The log escapes what it writes; the reply is JSON, escaped too. */
	if (c->srv->settings->log_denied)
		log_info("%s: forbidden: %s", conn_peer(c), name);
	snprintf(message, sizeof message, "not allowed to call %s", name);
	return (dispatch_fail(c, to, "forbidden", message));
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
dispatch_bad_request(struct conn *c, const struct reply_to *to, int error)
{
	if (!c->bad_logged) {
		c->bad_logged = 1;
		log_debug("%s: bad request: %s (only the first of a "
		    "connection is logged)", conn_peer(c),
		    proto_strerror(error));
	}
	c->srv->stats->bad_requests++;
	return (dispatch_fail(c, to, proto_errname(error),
	    proto_strerror(error)));
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
		stats_method_done(c->srv->stats,
		    stats_row(from->method, &from->to), 1, 0);
		return (-1);
	}
	c->srv->stats->running = call->method->index;
	call->method->fn(call);
	c->srv->stats->running = -1;
	return (call_handled(call));
}

/*
 * Call the method name with the params span, its reply written as to
 * says.  A call of a method is counted with the time from parsing to its
 * reply queued, and as failed if it answered with an error or could not
 * answer.  The call lives on the stack unless it must wait for an earlier
 * one of its connection, or its handler keeps it (defer, offload):
 * call.c.  *now is when the request began: when the one before it in this
 * read ended, or when the read was taken up (conn_process), one clock
 * reading a request; it is set to when this one ended.  Return -1 if the
 * reply could not be built: the connection must close.
 */
static int
dispatch_call(struct conn *c, const struct reply_to *to, const char *name,
    const char *params, size_t params_len, int64_t *now)
{
	struct call	call;
	int		rc;

	call.started = *now;
	if (log_enabled(LOG_DEBUG))
		log_debug("%s: %s %.*s", conn_peer(c), name,
		    params_len > 64 ? 64 : (int)params_len,
		    params != NULL ? params : "");
	/*
	 * The rules first, on any name: a caller refused a name learns
	 * nothing of whether it is a method.  With no rules, no cost but a
	 * test of a pointer.
	 */
	call.method = registry_find(name);
	if (c->access != NULL && !access_check(c->access, name))
		return (dispatch_denied(c, to, name, call.method));
	if (call.method == NULL)
		return (dispatch_bad_request(c, to, PROTO_EMETHOD));
	/* The call that waited for its client's token (conn.c). */
	if (c->rate_delayed) {
		c->rate_delayed = 0;
		stats_method_rate_limited(c->srv->stats,
		    stats_row(call.method, to));
	}
	stats_method_begin(c->srv->stats, stats_row(call.method, to));
	call.conn = c;
	call.params = params;
	call.params_len = params_len;
	call.refs = 0;
	call.data = NULL;
	call.to = *to;
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
		stats_method_done(c->srv->stats, stats_row(call.method, to), 0,
		    *now - call.started);
		return (0);
	default:
		stats_method_done(c->srv->stats, stats_row(call.method, to), 1,
		    *now - call.started);
		return (atomic_load_explicit(&call.state,
		    memory_order_relaxed) == CALL_BROKEN ? -1 : 0);
	}
}

/*
 * Answer one request frame's body, appending the reply to the
 * connection's output.  Return -1 if the reply could not be built: the
 * connection must close.
 */
int
dispatch_frame(struct conn *c, const char *body, size_t len, int64_t *now)
{
	struct proto_message	 m;
	int			 error;

	c->srv->stats->requests++;
	error = proto_request_parse(body, len, c->srv->settings->max_depth,
	    &m);
	if (error != PROTO_OK)
		return (dispatch_bad_request(c, &dispatch_framed, error));
	return (dispatch_call(c, &dispatch_framed, m.name, m.value,
	    m.value_len, now));
}

/*
 * One JSON-RPC 2.0 request, alone or of a batch.  One that is not one
 * answers the error with its id, or null if it had none: only a good
 * request without an id is a notification, answered with nothing.
 */
static int
dispatch_jsonrpc(struct conn *c, const struct reply_to *to,
    const char *body, size_t len, int64_t *now)
{
	struct proto_jsonrpc	 r;
	struct reply_to		 mine = *to;
	int			 error;

	error = proto_jsonrpc_parse(body, len, c->srv->settings->max_depth,
	    &r);
	mine.id = r.id;
	mine.id_len = r.id_len;
	if (error != PROTO_OK) {
		if (mine.id == NULL) {
			mine.id = "null";
			mine.id_len = 4;
		}
		return (dispatch_bad_request(c, &mine, error));
	}
	return (dispatch_call(c, &mine, r.method, r.params, r.params_len,
	    now));
}

/*
 * A JSON-RPC batch: an array of requests, each answered in the batch's
 * one reply (call_batch_open()).  Not JSON is one parse error; an empty
 * batch, or one of more calls than --max-inflight, one invalid request.
 */
static int
dispatch_batch(struct conn *c, const struct reply_to *to, const char *body,
    size_t len, int64_t *now)
{
	struct reply_to	 one = *to, elements = *to;
	struct call	*batch;
	const char	*e;
	size_t		 off = 0, elen;
	int		 n = 0, error;

	one.id = "null";
	one.id_len = 4;
	if ((error = proto_json_check(body, len,
	    c->srv->settings->max_depth)) != PROTO_OK)
		return (dispatch_bad_request(c, &one, error));
	while (proto_json_element(body, len, &off, &e, &elen) == PROTO_OK &&
	    e != NULL)
		n++;
	if (n == 0 || n > c->srv->settings->max_inflight)
		return (dispatch_fail(c, &one, "bad_jsonrpc", n == 0 ?
		    "an empty batch" : "a batch of more calls than "
		    "--max-inflight"));
	if ((batch = call_batch_open(c, to)) == NULL)
		return (-1);
	elements.form = REPLY_ELEMENT;
	elements.batch = batch;
	off = 0;
	while (proto_json_element(body, len, &off, &e, &elen) == PROTO_OK &&
	    e != NULL) {
		if (dispatch_jsonrpc(c, &elements, e, elen, now) != 0) {
			call_batch_close(batch);
			return (-1);
		}
	}
	return (call_batch_close(batch));
}

/*
 * The index of the request's Origin in --http-cors: -1 if it sent none,
 * -2 if it is not one of them.
 */
static int
dispatch_origin(const struct conn *c, const struct http_request *r)
{
	const struct settings	*s = c->srv->settings;
	int			 i;

	if (r->origin == NULL)
		return (-1);
	for (i = 0; i < s->nhttp_cors; i++) {
		if (strlen(s->http_cors[i]) == r->origin_len &&
		    memcmp(s->http_cors[i], r->origin, r->origin_len) == 0)
			return (i);
	}
	return (-2);
}

/* The value of a hex digit, or 0x100 (past any byte) if c is none. */
static unsigned int
dispatch_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return ((c | 0x20) - 'a' + 10);
	return (0x100);
}

/*
 * The method name of /call/NAME, its %XX escapes decoded, into name
 * (PROTO_NAME_MAX + 1 bytes); -1 if it is not one.
 */
static int
dispatch_call_name(const char *p, size_t len, char *name)
{
	size_t		n = 0;
	unsigned int	 v;

	while (len > 0) {
		if (n == PROTO_NAME_MAX)
			return (-1);
		if (*p == '%') {
			/*
			 * By hand: the path is not NUL-terminated, and
			 * sscanf() looks for the NUL first.
			 */
			if (len < 3 || (v = dispatch_hex(p[1]) << 4 |
			    dispatch_hex(p[2])) == 0 || v > 0xff)
				return (-1);
			name[n++] = v;
			p += 3;
			len -= 3;
		} else {
			name[n++] = *p++;
			len--;
		}
	}
	name[n] = '\0';
	return (n > 0 ? 0 : -1);
}

/* Does the request's path equal path? */
static int
dispatch_path(const struct http_request *r, const char *path)
{
	return (r->path_len == strlen(path) &&
	    memcmp(r->path, path, r->path_len) == 0);
}

/* The headers of CORS's answer to a preflight. */
#define DISPATCH_STRING(n)	DISPATCH_STRING_(n)
#define DISPATCH_STRING_(n)	#n
#define DISPATCH_PREFLIGHT "Access-Control-Allow-Methods: POST, GET\r\n" \
	"Access-Control-Allow-Headers: Content-Type\r\n" \
	"Access-Control-Max-Age: " DISPATCH_STRING(RPCD_HTTP_CORS_AGE) "\r\n"

/*
 * A POST's body must be JSON, by its Content-Type: a cross-origin page
 * can send a form or text/plain without asking CORS first, never JSON.
 */
static int
dispatch_post(struct conn *c, const struct http_request *r,
    struct reply_to *to, size_t len)
{
	if (r->method != HTTP_POST) {
		to->status = 405;
		to->extra = "Allow: POST, OPTIONS\r\n";
		return (dispatch_fail(c, to, "method_not_allowed",
		    "use POST"));
	}
	if (!r->json && (len > 0 || r->has_type)) {
		to->status = 415;
		return (dispatch_fail(c, to, "unsupported_media_type",
		    "the body must be JSON: Content-Type: application/json"));
	}
	return (1);
}

/*
 * Answer an HTTP request on an ,http listener, its body (len bytes)
 * whole: JSON-RPC 2.0 on POST /, a method's params on POST /call/METHOD,
 * GET /methods, GET /ready for balancers, and CORS's preflights.  Return
 * -1 if the reply could not be built: the connection must close.
 */
int
dispatch_http(struct conn *c, const struct http_request *r,
    const char *body, size_t len, int64_t *now)
{
	struct reply_to	 to = { .form = REPLY_HTTP, .close = r->close };
	char		 name[PROTO_NAME_MAX + 1];
	int		 origin, rc;

	c->srv->stats->requests++;
	if ((origin = dispatch_origin(c, r)) == -2) {
		to.origin = -1;
		to.status = 403;
		return (dispatch_fail(c, &to, "origin_not_allowed",
		    "this origin is not one of --http-cors"));
	}
	to.origin = origin;
	if (r->method == HTTP_OPTIONS) {
		to.status = 204;
		if (origin >= 0 && r->preflight)
			to.extra = DISPATCH_PREFLIGHT;
		else
			to.extra = "Allow: POST, GET, OPTIONS\r\n";
		return (dispatch_answer(c, &to, NULL, 0, NULL, NULL));
	}
	if (dispatch_path(r, "/")) {
		if ((rc = dispatch_post(c, r, &to, len)) != 1)
			return (rc);
		to.form = REPLY_JSONRPC;
		while (len > 0 && isspace((unsigned char)*body)) {
			body++;
			len--;
		}
		if (len > 0 && *body == '[')
			return (dispatch_batch(c, &to, body, len, now));
		return (dispatch_jsonrpc(c, &to, body, len, now));
	}
	if (r->path_len > 6 && memcmp(r->path, "/call/", 6) == 0) {
		if ((rc = dispatch_post(c, r, &to, len)) != 1)
			return (rc);
		if (dispatch_call_name(r->path + 6, r->path_len - 6,
		    name) != 0)
			return (dispatch_bad_request(c, &to, PROTO_EBADNAME));
		if (len > 0 && (rc = proto_json_check(body, len,
		    c->srv->settings->max_depth)) != PROTO_OK)
			return (dispatch_bad_request(c, &to, rc));
		return (dispatch_call(c, &to, name, len > 0 ? body : NULL,
		    len, now));
	}
	if (dispatch_path(r, "/methods") || dispatch_path(r, "/ready")) {
		if (r->method != HTTP_GET) {
			to.status = 405;
			to.extra = "Allow: GET, OPTIONS\r\n";
			return (dispatch_fail(c, &to, "method_not_allowed",
			    "use GET"));
		}
		if (dispatch_path(r, "/methods"))
			return (dispatch_call(c, &to, "methods", NULL, 0,
			    now));
		/* From SIGTERM on, through --drain-delay too. */
		if (c->srv->draining || c->srv->agent_drain ||
		    c->srv->stats->leaving) {
			to.status = 503;
			return (dispatch_fail(c, &to, "draining",
			    "shutting down"));
		}
		return (dispatch_answer(c, &to, "{\"ready\": true}", 15, NULL,
		    NULL));
	}
	to.status = 404;
	return (dispatch_fail(c, &to, "not_found", "no such path"));
}

/*
 * An HTTP request that cannot be read (a bad head, a body over the
 * limit, too slow): answer status with the error, then the connection
 * closes.
 */
int
dispatch_http_error(struct conn *c, int status, const char *code,
    const char *message)
{
	struct reply_to	to = { .form = REPLY_HTTP, .close = 1, .origin = -1,
	    .status = status };

	c->srv->stats->requests++;
	c->srv->stats->bad_requests++;
	return (dispatch_fail(c, &to, code, message));
}
