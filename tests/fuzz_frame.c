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
 * libFuzzer harness for the frame decoder: the input is a byte stream that
 * is decoded frame by frame against a limit taken from its first byte.
 * The input is copied to an exact-size heap buffer so ASan sees any read
 * past it; the decoder must never report more than it was given.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpcd/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*buf, *p;
	size_t		 left;
	uint32_t	 limit, body;
	int		 status;

	if (size == 0)
		return (0);
	limit = (uint32_t)data[0] << (data[0] % 24);
	buf = malloc(size - 1 == 0 ? 1 : size - 1);
	memcpy(buf, data + 1, size - 1);
	p = buf;
	left = size - 1;
	while ((status = proto_frame_decode(p, left, limit, &body)) ==
	    PROTO_FRAME_COMPLETE) {
		if (body > limit || body > left - PROTO_HEADER_SIZE)
			abort();
		p += PROTO_HEADER_SIZE + body;
		left -= PROTO_HEADER_SIZE + body;
	}
	if (status == PROTO_FRAME_TOO_LARGE && body <= limit)
		abort();
	free(buf);
	return (0);
}
