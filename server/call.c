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
 */

#include "config.h"

#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>

#include <event2/buffer.h>
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

/* Answer a call with a result; kind NULL is the method's name. */
void
call_reply(struct call *call, const char *kind, const char *result,
    size_t len)
{
	call->answered = 1;
	call_frame(call->conn, call->conn->out,
	    kind != NULL ? kind : call->method->name, result, len);
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
	call->answered = 1;
	if (text == NULL || errno == ENOMEM)
		call->conn->failed = 1;
	else
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
	call_error_frame(call->conn, call->conn->out, code, message);
}
