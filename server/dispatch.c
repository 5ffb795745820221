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
 * The method table and the replies.  To add a method, write a handler and
 * add one line to methods[].  ping is the hot path: its params are echoed
 * as the exact bytes received, written straight into the output buffer,
 * with no JSON tree built or printed.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <syslog.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"

typedef void (*method_fn)(struct conn *, const struct proto_message *,
    struct evbuffer *);

static void	dispatch_ping(struct conn *, const struct proto_message *,
		    struct evbuffer *);
static void	dispatch_methods(struct conn *, const struct proto_message *,
		    struct evbuffer *);
static void	dispatch_stats(struct conn *, const struct proto_message *,
		    struct evbuffer *);

static const struct method {
	const char	*name;
	method_fn	 fn;
	const char	*help;
} methods[] = {
	{ "ping", dispatch_ping, "answer pong with the params echoed" },
	{ "methods", dispatch_methods, "list the methods with their help" },
	{ "stats", dispatch_stats,
	    "version, uptime, per-worker counters with totals, settings" },
};

/*
 * Append a response frame to out, building it in place in the buffer's
 * free space: one copy of the result, no temporary.
 */
static void
dispatch_reply(struct conn *c, struct evbuffer *out, const char *kind,
    const char *result, size_t len)
{
	struct evbuffer_iovec	 v;
	size_t			 need;

	if (result == NULL) {
		result = "null";
		len = 4;
	}
	need = PROTO_HEADER_SIZE + 32 + PROTO_NAME_MAX * 6 + len;
	if (evbuffer_reserve_space(out, need, &v, 1) != 1 ||
	    proto_response_build(v.iov_base, v.iov_len, &v.iov_len, kind,
	    result, len) != PROTO_OK) {
		c->failed = 1;
		return;
	}
	evbuffer_commit_space(out, &v, 1);
	c->srv->stats->bytes_out += v.iov_len;
}

/*
 * Add v to the object o under key, or to the array o if key is NULL.
 * json-c leaves v to the caller when it cannot add it, and a NULL o or v
 * is an allocation that failed already: then v is freed and -1 returned,
 * so that a tree is built whole or thrown away, never leaked.
 */
int
dispatch_json_add(struct json_object *o, const char *key,
    struct json_object *v)
{
	int	rc = -1;

	if (o != NULL && v != NULL && key != NULL)
		rc = json_object_object_add_ex(o, key, v,
		    JSON_C_OBJECT_KEY_IS_CONSTANT);
	else if (o != NULL && v != NULL)
		rc = json_object_array_add(o, v);
	if (rc != 0)
		json_object_put(v);
	return (rc);
}

/*
 * Reply with a JSON tree as the result, or fail the reply if the tree is
 * NULL; the tree is freed.  json-c goes on printing when its buffer
 * cannot grow and returns text with pieces missing: only errno tells.
 */
static void
dispatch_reply_json(struct conn *c, struct evbuffer *out, const char *kind,
    struct json_object *o)
{
	const char	*text = NULL;
	size_t		 len;

	errno = 0;
	if (o != NULL)
		text = json_object_to_json_string_length(o,
		    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len);
	if (text == NULL || errno == ENOMEM)
		c->failed = 1;
	else
		dispatch_reply(c, out, kind, text, len);
	json_object_put(o);
}

/* Reply {"out": "error", "result": {"code": ..., "message": ...}}. */
void
dispatch_error(struct conn *c, struct evbuffer *out, int error)
{
	struct json_object	*o;

	int			 failed;

	c->srv->stats->errors++;
	o = json_object_new_object();
	failed = dispatch_json_add(o, "code",
	    json_object_new_string(proto_errname(error)));
	failed |= dispatch_json_add(o, "message",
	    json_object_new_string(proto_strerror(error)));
	if (failed) {
		json_object_put(o);
		o = NULL;
	}
	dispatch_reply_json(c, out, "error", o);
}

static void
dispatch_ping(struct conn *c, const struct proto_message *m,
    struct evbuffer *out)
{
	dispatch_reply(c, out, "pong", m->value, m->value_len);
}

static void
dispatch_methods(struct conn *c, const struct proto_message *m,
    struct evbuffer *out)
{
	struct json_object	*list, *entry;
	size_t			 i;
	int			 failed = 0;

	list = json_object_new_array();
	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		entry = json_object_new_object();
		failed |= dispatch_json_add(entry, "name",
		    json_object_new_string(methods[i].name));
		failed |= dispatch_json_add(entry, "help",
		    json_object_new_string(methods[i].help));
		failed |= dispatch_json_add(list, NULL, entry);
	}
	if (failed) {
		json_object_put(list);
		list = NULL;
	}
	dispatch_reply_json(c, out, "methods", list);
}

static void
dispatch_stats(struct conn *c, const struct proto_message *m,
    struct evbuffer *out)
{
	struct json_object	*o = stats_to_json();

	if (dispatch_json_add(o, "settings",
	    config_to_json(c->srv->settings)) != 0) {
		json_object_put(o);
		o = NULL;
	}
	dispatch_reply_json(c, out, "stats", o);
}

/*
 * A request that names no method we have: count it, log the first of the
 * connection (a client error, so at the debug level only), reply.
 */
static void
dispatch_bad_request(struct conn *c, struct evbuffer *out, int error)
{
	if (c->bad_requests++ == 0)
		log_debug("%s: bad request: %s (only the first of a "
		    "connection is logged)", c->peer, proto_strerror(error));
	c->srv->stats->bad_requests++;
	dispatch_error(c, out, error);
}

/* The name of the method of index i, or NULL past the last. */
const char *
dispatch_method_name(int i)
{
	if (i < 0 || (size_t)i >= sizeof methods / sizeof methods[0])
		return (NULL);
	return (methods[i].name);
}

/*
 * Answer one request frame's body, appending the reply to out.  A call
 * of a method is counted with the time from parsing to its reply queued,
 * and as failed if it answered with an error or could not answer.
 */
void
dispatch_frame(struct conn *c, const char *body, size_t len,
    struct evbuffer *out)
{
	struct proto_message	 m;
	size_t			 i;
	double			 start;
	int64_t			 errors;
	int			 error;

	start = time_monotonic();
	c->srv->stats->requests++;
	error = proto_request_parse(body, len, c->srv->settings->max_depth,
	    &m);
	if (error != PROTO_OK) {
		dispatch_bad_request(c, out, error);
		return;
	}
	if (log_enabled(LOG_DEBUG))
		log_debug("%s: %s %.*s", c->peer, m.name,
		    m.value_len > 64 ? 64 : (int)m.value_len,
		    m.value != NULL ? m.value : "");
	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strcmp(m.name, methods[i].name) == 0) {
			errors = c->srv->stats->errors;
			methods[i].fn(c, &m, out);
			stats_method_done(c->srv->stats, i, c->failed ||
			    c->srv->stats->errors != errors,
			    (time_monotonic() - start) * 1e9);
			return;
		}
	}
	dispatch_bad_request(c, out, PROTO_EMETHOD);
}
