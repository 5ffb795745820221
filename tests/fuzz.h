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

/* The records of the connection harnesses' inputs. */

#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * The chunk of a write record whose length starts at data[*i]: two bytes,
 * little-endian, then the bytes, cut short where the input ends.  Store
 * its length in *n and move *i past it.
 */
static inline const uint8_t *
fuzz_chunk(const uint8_t *data, size_t size, size_t *i, size_t *n)
{
	const uint8_t	*p;

	if (*i + 2 > size) {
		*i = size;
		*n = 0;
		return (data + size);
	}
	*n = data[*i] | data[*i + 1] << 8;
	*i += 2;
	if (*n > size - *i)
		*n = size - *i;
	p = data + *i;
	*i += *n;
	return (p);
}

#endif /* FUZZ_H */
