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
 * Framing: a 4-byte little-endian length, then the body.  The length is
 * assembled byte by byte so the wire format does not depend on the host's
 * byte order, and the decoder never trusts it for an allocation.
 */

#include "config.h"

#include <string.h>

#include "rpcd/proto.h"

/* Store a length in the 4 bytes at p, least significant byte first. */
void
proto_frame_put_length(unsigned char *p, uint32_t len)
{
	p[0] = len & 0xff;
	p[1] = (len >> 8) & 0xff;
	p[2] = (len >> 16) & 0xff;
	p[3] = (len >> 24) & 0xff;
}

/* Read the length stored in the 4 bytes at p. */
uint32_t
proto_frame_get_length(const unsigned char *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

/*
 * Look at the bytes received so far.  Report a whole frame (its body is the
 * *body_len bytes after the header), the need for more bytes, or a length
 * above max.  The limit is checked as soon as the header is in, so a peer
 * announcing 4 GiB is refused before anything is buffered for it.
 */
int
proto_frame_decode(const void *buf, size_t len, uint32_t max,
    uint32_t *body_len)
{
	uint32_t	n;

	if (len < PROTO_HEADER_SIZE)
		return (PROTO_FRAME_NEED_MORE);
	n = proto_frame_get_length(buf);
	*body_len = n;
	if (n > max)
		return (PROTO_FRAME_TOO_LARGE);
	if (len - PROTO_HEADER_SIZE < n)
		return (PROTO_FRAME_NEED_MORE);
	return (PROTO_FRAME_COMPLETE);
}

/*
 * Write a frame holding body into dst.  Return the frame's size; if that is
 * more than size, nothing is written.  Return 0 for a body too long for the
 * 32-bit length.
 */
size_t
proto_frame_encode(void *dst, size_t size, const void *body, size_t len)
{
	unsigned char	*p = dst;

	if (len > UINT32_MAX || len > SIZE_MAX - PROTO_HEADER_SIZE)
		return (0);
	if (size < len + PROTO_HEADER_SIZE)
		return (len + PROTO_HEADER_SIZE);
	proto_frame_put_length(p, len);
	if (len != 0)
		memcpy(p + PROTO_HEADER_SIZE, body, len);
	return (len + PROTO_HEADER_SIZE);
}
