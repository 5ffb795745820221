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
 * libFuzzer harness for what an ,http listener reads before any method
 * runs: server/http.c's head parser, and libproto's JSON-RPC parser and
 * array stepper.  The first byte sets the head limit and the depth; the
 * rest, copied to an exact-size heap buffer so ASan sees any read past
 * it, is both a request head and a JSON-RPC body.  A head parsed must lie
 * inside what it was given and the limit; a JSON-RPC request parsed must
 * be JSON, its spans inside the body, its params an array or an object;
 * a batch's every element must be JSON on its own.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpcd/proto.h"
#include "rpcd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Is the span p, len inside buf, size? */
static int
inside(const char *buf, size_t size, const char *p, size_t len)
{
	return (p >= buf && p <= buf + size && len <= (size_t)(buf + size - p));
}

static void
check_head(const char *buf, size_t size, size_t max)
{
	struct http_request	r;
	int			status;

	status = http_parse(buf, size, max, &r);
	if (status == HTTP_MORE)
		return;
	if (status != HTTP_OK) {
		if (status < 400 || status > 599 || http_reason(status) == NULL)
			abort();
		return;
	}
	if (r.head_len == 0 || r.head_len > size || r.head_len > max ||
	    r.path_len == 0 || r.content_length < -1 ||
	    (r.origin != NULL && !inside(buf, r.head_len, r.origin,
	    r.origin_len)) || r.chunked != 0 || r.minor > 1)
		abort();
	/* The path is the target's, or "/" for an absolute one without. */
	if (!inside(buf, r.head_len, r.path, r.path_len) &&
	    !(r.path_len == 1 && r.path[0] == '/'))
		abort();
}

static void
check_jsonrpc(const char *buf, size_t size, unsigned int depth)
{
	struct proto_jsonrpc	 r;
	const char		*e;
	size_t			 off = 0, len;
	int			 error, n = 0;

	error = proto_jsonrpc_parse(buf, size, depth, &r);
	if (error == PROTO_OK) {
		if (proto_json_check(buf, size, depth) != PROTO_OK ||
		    r.method_len == 0 || r.method_len > PROTO_NAME_MAX ||
		    strlen(r.method) != r.method_len ||
		    (r.params != NULL && (!inside(buf, size, r.params,
		    r.params_len) || (*r.params != '[' && *r.params != '{'))))
			abort();
	}
	if (r.id != NULL && (!inside(buf, size, r.id, r.id_len) ||
	    proto_json_check(r.id, r.id_len, depth) != PROTO_OK))
		abort();
	if (proto_json_check(buf, size, depth) != PROTO_OK)
		return;
	while (proto_json_element(buf, size, &off, &e, &len) == PROTO_OK &&
	    e != NULL) {
		if (!inside(buf, size, e, len) ||
		    proto_json_check(e, len, PROTO_DEPTH_MAX) != PROTO_OK ||
		    ++n > (int)size)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	maxes[] = { 16, 256, RPCD_HTTP_HEAD_MAX, 65536 };
	char			*buf;

	if (size < 1)
		return (0);
	if ((buf = malloc(size - 1 + 1)) == NULL)
		return (0);
	memcpy(buf, data + 1, size - 1);
	check_head(buf, size - 1, maxes[data[0] & 3]);
	check_jsonrpc(buf, size - 1, (data[0] >> 2) % 8 + 1);
	free(buf);
	return (0);
}
