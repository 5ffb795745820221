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

/* Error names and messages, and the library version. */

#include "config.h"

#include "rpcd/proto.h"

static const struct {
	const char	*name;
	const char	*message;
} proto_errors[PROTO_NERRORS] = {
	[PROTO_OK] = { "ok", "no error" },
	[PROTO_ETOOLARGE] = { "frame_too_large",
	    "frame length exceeds the limit" },
	[PROTO_EJSON] = { "bad_json", "body is not well-formed JSON" },
	[PROTO_EUTF8] = { "bad_utf8", "body is not valid UTF-8" },
	[PROTO_EDEPTH] = { "too_deep", "JSON nesting exceeds the limit" },
	[PROTO_ENOTOBJECT] = { "not_object", "body is not a JSON object" },
	[PROTO_ENONAME] = { "no_method", "\"in\" or \"out\" member missing" },
	[PROTO_EBADNAME] = { "bad_method",
	    "\"in\" or \"out\" is not a string of 1 to 63 bytes" },
	[PROTO_EMETHOD] = { "unknown_method", "no such method" },
	[PROTO_EINTERNAL] = { "internal_error", "internal server error" },
	[PROTO_ESPACE] = { "no_space", "buffer too small" },
	[PROTO_EBUSY] = { "busy", "server busy: try again later" },
	[PROTO_ETIMEOUT] = { "timeout", "no answer within the deadline" },
	[PROTO_EJSONRPC] = { "bad_jsonrpc",
	    "not a JSON-RPC 2.0 request" },
};

/* Return the message for an error code. */
const char *
proto_strerror(int error)
{
	if (error < 0 || error >= PROTO_NERRORS)
		return ("unknown error");
	return (proto_errors[error].message);
}

/* Return the one-word name of an error code, as sent in error replies. */
const char *
proto_errname(int error)
{
	if (error < 0 || error >= PROTO_NERRORS)
		return ("unknown");
	return (proto_errors[error].name);
}

/* Return the library's version string. */
const char *
proto_version(void)
{
	return (PACKAGE_VERSION);
}
