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
 * libproto: the rpcd wire protocol, with no I/O of its own.
 *
 * A frame is a 4-byte unsigned length in little-endian byte order followed
 * by that many bytes of UTF-8 JSON.  A request body is
 * {"in": "<method>", "params": <any JSON>} and a response body is
 * {"out": "<kind>", "result": <any JSON>}.
 *
 * Nothing here allocates: the decoder reports spans into the caller's
 * buffer and the encoders write into a buffer the caller provides.
 */

#ifndef RPCD_PROTO_H
#define RPCD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PROTO_HEADER_SIZE	4		/* bytes of length prefix */
#define PROTO_MAX_FRAME_DEFAULT	(1024 * 1024)	/* bytes of body */
#define PROTO_DEPTH_DEFAULT	32		/* nested arrays/objects */
#define PROTO_DEPTH_MAX		512		/* hard cap on any depth limit */
#define PROTO_NAME_MAX		63		/* bytes of "in"/"out" value */

/* Error codes; each has a one-word name and a message. */
enum proto_error {
	PROTO_OK = 0,
	PROTO_ETOOLARGE,	/* frame longer than the limit */
	PROTO_EJSON,		/* body is not well-formed JSON */
	PROTO_EUTF8,		/* body is not valid UTF-8 */
	PROTO_EDEPTH,		/* nesting deeper than the limit */
	PROTO_ENOTOBJECT,	/* body is JSON but not an object */
	PROTO_ENONAME,		/* "in" (or "out") missing */
	PROTO_EBADNAME,		/* "in" (or "out") not a string or too long */
	PROTO_EMETHOD,		/* no such method (sent by servers) */
	PROTO_EINTERNAL,	/* server failed to answer (sent by servers) */
	PROTO_ESPACE,		/* caller's buffer is too small */
	PROTO_EBUSY,		/* server too busy (sent by servers) */
	PROTO_ETIMEOUT,		/* no answer in time (sent by servers) */
	PROTO_EJSONRPC,		/* not a JSON-RPC 2.0 request */
	PROTO_NERRORS
};

/* Result of proto_frame_decode(). */
enum proto_frame_status {
	PROTO_FRAME_NEED_MORE,	/* not a whole frame yet */
	PROTO_FRAME_COMPLETE,	/* a whole frame; *body_len is its size */
	PROTO_FRAME_TOO_LARGE	/* announced length exceeds the limit */
};

/*
 * A parsed message.  For a request, name is the "in" value and value the
 * "params" span; for a response, name is "out" and value is "result".
 * value points into the parsed body and is NULL when the member is absent.
 */
struct proto_message {
	char		 name[PROTO_NAME_MAX + 1];
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

/*
 * A JSON-RPC 2.0 request (proto_jsonrpc_parse()): its method, and the
 * spans of its params and its id in the parsed body, NULL when absent (no
 * id: a notification).
 */
struct proto_jsonrpc {
	char		 method[PROTO_NAME_MAX + 1];
	size_t		 method_len;
	const char	*params;
	size_t		 params_len;
	const char	*id;
	size_t		 id_len;
};

/* error.c */
const char	*proto_strerror(int);
const char	*proto_errname(int);
const char	*proto_version(void);

/* frame.c */
void		 proto_frame_put_length(unsigned char *, uint32_t);
uint32_t	 proto_frame_get_length(const unsigned char *);
int		 proto_frame_decode(const void *, size_t, uint32_t, uint32_t *);
size_t		 proto_frame_encode(void *, size_t, const void *, size_t);

/* message.c */
int		 proto_json_check(const char *, size_t, unsigned int);
int		 proto_request_parse(const char *, size_t, unsigned int,
		     struct proto_message *);
int		 proto_response_parse(const char *, size_t, unsigned int,
		     struct proto_message *);
int		 proto_request_build(void *, size_t, size_t *, const char *,
		     const char *, size_t);
int		 proto_response_build(void *, size_t, size_t *, const char *,
		     const char *, size_t);
int		 proto_error_build(void *, size_t, size_t *, const char *,
		     const char *);
int		 proto_jsonrpc_parse(const char *, size_t, unsigned int,
		     struct proto_jsonrpc *);
int		 proto_json_element(const char *, size_t, size_t *,
		     const char **, size_t *);

#ifdef __cplusplus
}
#endif

#endif /* RPCD_PROTO_H */
