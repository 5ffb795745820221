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

/* Unit tests for lib/frame.c: the length prefix and the stream decoder. */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpcd/proto.h"
#include "tap.h"

/*
 * Feed a byte stream to the decoder in chunks of the given size, the way a
 * server appends reads to its buffer, and count the frames found.  Each
 * frame's body must be its index repeated, as make_stream() writes them.
 */
static int
feed(const unsigned char *stream, size_t len, size_t chunk, int *frames)
{
	unsigned char	*buf;
	size_t		 have = 0, fed = 0, n;
	uint32_t	 body;
	int		 status;

	*frames = 0;
	buf = malloc(len + 1);
	while (fed < len) {
		n = len - fed < chunk ? len - fed : chunk;
		memcpy(buf + have, stream + fed, n);
		have += n;
		fed += n;
		while ((status = proto_frame_decode(buf, have, 1024, &body)) ==
		    PROTO_FRAME_COMPLETE) {
			if (body != 0 && (buf[PROTO_HEADER_SIZE] != (*frames & 0xff) ||
			    buf[PROTO_HEADER_SIZE + body - 1] != (*frames & 0xff))) {
				free(buf);
				return (-1);
			}
			(*frames)++;
			memmove(buf, buf + PROTO_HEADER_SIZE + body,
			    have - PROTO_HEADER_SIZE - body);
			have -= PROTO_HEADER_SIZE + body;
		}
		if (status == PROTO_FRAME_TOO_LARGE) {
			free(buf);
			return (-1);
		}
	}
	free(buf);
	return (have == 0 ? 0 : -1);
}

/* Write count frames, frame i holding i+1 bytes of value i (0: empty). */
static size_t
make_stream(unsigned char *out, int count)
{
	unsigned char	body[256];
	size_t		len = 0;
	int		i;

	for (i = 0; i < count; i++) {
		memset(body, i, sizeof body);
		len += proto_frame_encode(out + len, 1 << 20, body, i % 200);
	}
	return (len);
}

int
main(void)
{
	unsigned char	 h[4], big[1 << 16], frame[64];
	unsigned char	*stream;
	uint32_t	 body = 12345, want, got;
	size_t		 len, chunk;
	int		 frames, i;

	/* The length is little-endian on every host. */
	proto_frame_put_length(h, 0x11223344);
	ok(h[0] == 0x44 && h[1] == 0x33 && h[2] == 0x22 && h[3] == 0x11,
	    "length 0x11223344 is written 44 33 22 11");
	proto_frame_put_length(h, 26);
	ok(memcmp(h, "\x1a\0\0\0", 4) == 0, "length 26 is written 1a 00 00 00");
	is_int(proto_frame_get_length((const unsigned char *)"\x1a\x00\x00\x00"),
	    26, "1a 00 00 00 reads as 26");
	is_int(proto_frame_get_length((const unsigned char *)"\xff\xff\xff\xff"),
	    0xffffffffu, "ff ff ff ff reads as 0xFFFFFFFF");
	is_int(proto_frame_get_length((const unsigned char *)"\x00\x00\x00\x01"),
	    0x01000000, "the last byte is the most significant");

	/* The encoder. */
	len = proto_frame_encode(frame, sizeof frame, "{}", 2);
	is_int(len, 6, "a 2-byte body makes a 6-byte frame");
	ok(memcmp(frame, "\x02\0\0\0{}", 6) == 0, "frame bytes are 02 00 00 00 {}");
	memset(frame, 0xaa, sizeof frame);
	is_int(proto_frame_encode(frame, 5, "{}", 2), 6,
	    "too small a buffer reports the size needed");
	ok(frame[0] == 0xaa, "and writes nothing");
	is_int(proto_frame_encode(frame, 4, "", 0), 4, "an empty body encodes");
	ok(memcmp(frame, "\0\0\0\0", 4) == 0, "as four zero bytes");
	if (sizeof(size_t) > 4)
		is_int(proto_frame_encode(frame, sizeof frame, "",
		    (size_t)UINT32_MAX + 1), 0,
		    "a body over 4 GiB is refused");
	else
		skip("a body over 4 GiB cannot be passed: size_t has 32 bits");
	/* With a 32-bit size_t this length fits the header but not the sum. */
	is_int(proto_frame_encode(frame, sizeof frame, "", SIZE_MAX - 1), 0,
	    "a body whose frame size overflows size_t is refused");

	/* The decoder, header by header. */
	is_int(proto_frame_decode("", 0, 100, &body), PROTO_FRAME_NEED_MORE,
	    "no bytes: need more");
	is_int(proto_frame_decode("\x05\0\0", 3, 100, &body),
	    PROTO_FRAME_NEED_MORE, "3 header bytes: need more");
	is_int(proto_frame_decode("\x05\0\0\0abcd", 8, 100, &body),
	    PROTO_FRAME_NEED_MORE, "header and 4 of 5 body bytes: need more");
	is_int(proto_frame_decode("\x05\0\0\0abcde", 9, 100, &body),
	    PROTO_FRAME_COMPLETE, "header and 5 body bytes: complete");
	is_int(body, 5, "body length is 5");
	is_int(proto_frame_decode("\0\0\0\0", 4, 100, &body),
	    PROTO_FRAME_COMPLETE, "zero-length frame is complete");
	is_int(body, 0, "with a body of 0 bytes");
	is_int(proto_frame_decode("\x64\0\0\0", 4, 100, &body),
	    PROTO_FRAME_NEED_MORE, "length == limit is accepted");
	is_int(proto_frame_decode("\x65\0\0\0", 4, 100, &body),
	    PROTO_FRAME_TOO_LARGE, "length == limit + 1 is too large");
	is_int(body, 101, "and reports the announced length");
	is_int(proto_frame_decode("\xff\xff\xff\xff", 4, UINT32_MAX - 1,
	    &body), PROTO_FRAME_TOO_LARGE,
	    "0xFFFFFFFF is too large at once, from the header alone");
	is_int(proto_frame_decode("\xff\xff\xff\xff", 4, UINT32_MAX, &body),
	    PROTO_FRAME_NEED_MORE, "0xFFFFFFFF with no limit: need more");
	is_int(proto_frame_decode("\x02\0\0\0{}\x02\0\0\0[]", 12, 100, &body),
	    PROTO_FRAME_COMPLETE, "two frames in a buffer: the first is complete");
	is_int(body, 2, "and its length is its own");

	/* Streams: 500 frames, cut into every size of read. */
	stream = malloc(1 << 20);
	len = make_stream(stream, 500);
	for (chunk = 1; chunk <= 9; chunk++) {
		ok(feed(stream, len, chunk, &frames) == 0 && frames == 500,
		    "500 frames fed %zu byte(s) at a time decode in order",
		    chunk);
	}
	ok(feed(stream, len, len, &frames) == 0 && frames == 500,
	    "500 frames in one buffer decode in order");
	ok(feed(stream, len, 4093, &frames) == 0 && frames == 500,
	    "500 frames in 4093-byte reads decode in order");

	/* Random round trips. */
	srandom(20261122);
	for (i = 0; i < 1000; i++) {
		want = random() % sizeof big;
		memset(big, i, want);
		len = proto_frame_encode(stream, 1 << 20, big, want);
		if (len != want + 4 ||
		    proto_frame_decode(stream, len, sizeof big, &got) !=
		    PROTO_FRAME_COMPLETE || got != want ||
		    memcmp(stream + 4, big, want) != 0 ||
		    proto_frame_decode(stream, len - 1, sizeof big, &got) !=
		    PROTO_FRAME_NEED_MORE)
			break;
	}
	is_int(i, 1000, "1000 random frames round-trip");
	free(stream);

	return (done_testing());
}
