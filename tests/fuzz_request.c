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
 * libFuzzer harness for the message parser: every body is parsed as a
 * request, a response and plain JSON from an exact-size heap copy.  A
 * request that parses is rebuilt from its name and params span and must
 * parse again to the same thing.
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
	struct proto_message	 m, again;
	char			*body, *frame;
	size_t			 len;
	int			 error;

	body = malloc(size == 0 ? 1 : size);
	memcpy(body, data, size);
	proto_json_check(body, size, 0);
	proto_response_parse(body, size, 0, &m);
	error = proto_request_parse(body, size, 0, &m);
	if (error < 0 || error >= PROTO_NERRORS)
		abort();
	if (error == PROTO_OK) {
		if (m.name_len == 0 || m.name_len > PROTO_NAME_MAX ||
		    strlen(m.name) != m.name_len)
			abort();
		if (m.value != NULL && (m.value < body ||
		    m.value + m.value_len > body + size))
			abort();
		len = PROTO_HEADER_SIZE + size + sizeof m.name * 6 + 64;
		frame = malloc(len);
		if (proto_request_build(frame, len, &len, m.name, m.value,
		    m.value_len) != PROTO_OK)
			abort();
		if (proto_request_parse(frame + PROTO_HEADER_SIZE,
		    len - PROTO_HEADER_SIZE, 0, &again) != PROTO_OK ||
		    strcmp(again.name, m.name) != 0 ||
		    (m.value != NULL && (again.value_len != m.value_len ||
		    memcmp(again.value, m.value, m.value_len) != 0)))
			abort();
		free(frame);
	}
	free(body);
	return (0);
}
