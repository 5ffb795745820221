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
 * Unit tests for server/proxy.c: headers of both versions whole, every
 * prefix of them (the start of a header, never an error), and broken ones.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "rpcd.h"
#include "tap.h"

#define V2_SIG	"\r\n\r\n\0\r\nQUIT\n"

/* A v2 PROXY TCP4 header from 192.0.2.7:4660, with two TLVs after. */
static const unsigned char v2_tcp4_tlvs[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x11, 0x00, 0x16,
	192, 0, 2, 7,  127, 0, 0, 1,  0x12, 0x34,  0x1f, 0x90,
	0x04, 0x00, 0x03, 'a', 'b', 'c',	/* PP2_TYPE_NOOP */
	0x05, 0x00, 0x01, 'x',			/* PP2_TYPE_UNIQUE_ID */
};

/* A v2 PROXY TCP6 header from [2001:db8::1]:443. */
static const unsigned char v2_tcp6[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x21, 0x00, 0x24,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x01, 0xbb,  0x1f, 0x90,
};

/* A v2 LOCAL header, HAProxy's own health check: no address. */
static const unsigned char v2_local[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x20, 0x00, 0x00, 0x00,
};

/* The result of parsing len bytes of buf, and the source as text. */
static int
parse(const void *buf, size_t len, struct proxy_header *h, char *src,
    const char **why)
{
	int	rc;

	rc = proxy_parse(buf, len, h, why);
	*src = '\0';
	if (rc == PROXY_OK && !h->local)
		addr_format((struct sockaddr *)&h->src, h->srclen, src,
		    ADDR_TEXT_MAX);
	return (rc);
}

/* Every proper prefix of a good header is the start of one. */
static void
prefixes(const void *buf, size_t len, const char *name)
{
	struct proxy_header	 h;
	const char		*why;
	size_t			 n;

	for (n = 0; n < len; n++) {
		if (proxy_parse(buf, n, &h, &why) != PROXY_MORE)
			break;
	}
	is_int((long long)n, (long long)len,
	    "%s: each of its %zu prefixes asks for more", name, len);
}

/* A good header, whole and followed by a frame, then its prefixes. */
static void
good(const void *hdr, size_t len, const char *name, int version,
    const char *want)
{
	struct proxy_header	 h;
	unsigned char		*buf;
	const char		*why;
	char			 src[ADDR_TEXT_MAX];
	int			 rc;

	buf = malloc(len + 6);
	memcpy(buf, hdr, len);
	memcpy(buf + len, "\x02\0\0\0{}", 6);
	rc = parse(buf, len + 6, &h, src, &why);
	ok(rc == PROXY_OK && h.version == version && h.len == len &&
	    strcmp(src, want) == 0 && h.local == (*want == '\0'),
	    "%s: v%d, %zu bytes, source '%s' (got %d, v%d, %zu bytes, '%s'%s%s)",
	    name, version, len, want, rc, h.version, h.len, src,
	    why ? ": " : "", why ? why : "");
	free(buf);
	prefixes(hdr, len, name);
}

/* A broken header: an error with a reason, from its first wrong byte. */
static void
bad(const void *hdr, size_t len, const char *name)
{
	struct proxy_header	 h;
	const char		*why;
	char			 src[ADDR_TEXT_MAX];
	int			 rc;

	rc = parse(hdr, len, &h, src, &why);
	ok(rc == PROXY_BAD && why != NULL, "%s: refused (%s)", name,
	    why ? why : "no reason");
}

/* A copy of v2_tcp4_tlvs with byte i set to v. */
static const unsigned char *
v2_with(size_t i, unsigned char v)
{
	static unsigned char	copy[sizeof v2_tcp4_tlvs];

	memcpy(copy, v2_tcp4_tlvs, sizeof copy);
	copy[i] = v;
	return (copy);
}

int
main(void)
{
	static const char	long_line[] = "PROXY TCP4 192.0.2.7 127.0.0.1 "
	    "1234 8080                                                    "
	    "                         \r\n";
	struct proxy_header	 h;
	const char		*why;

	good("PROXY TCP4 192.0.2.7 127.0.0.1 4660 8080\r\n", 42, "v1 TCP4", 1,
	    "192.0.2.7:4660");
	good("PROXY TCP6 2001:db8::1 ::1 443 8080\r\n", 37, "v1 TCP6", 1,
	    "[2001:db8::1]:443");
	good("PROXY UNKNOWN\r\n", 15, "v1 UNKNOWN", 1, "");
	good("PROXY UNKNOWN ffff::1 ::1 1 2\r\n", 31, "v1 UNKNOWN, addresses",
	    1, "");
	good(v2_tcp4_tlvs, sizeof v2_tcp4_tlvs, "v2 TCP4 with TLVs", 2,
	    "192.0.2.7:4660");
	good(v2_tcp6, sizeof v2_tcp6, "v2 TCP6", 2, "[2001:db8::1]:443");
	good(v2_local, sizeof v2_local, "v2 LOCAL", 2, "");

	bad("\x02\0\0\0{}", 6, "a frame, no header");
	bad("PROXZ", 5, "v1 signature wrong in its fifth byte");
	bad("GET / HTTP/1.0\r\n", 16, "HTTP");
	bad(V2_SIG "\x21\x11\0\x08" "12345678", 24,
	    "v2 with a length too short for TCP4");
	bad("\r\n\r\n\0\r\nQUIX", 12, "v2 signature wrong in its twelfth byte");
	bad(v2_with(12, 0x11), sizeof v2_tcp4_tlvs, "v2: version 1 in a v2 "
	    "header");
	bad(v2_with(12, 0x22), sizeof v2_tcp4_tlvs, "v2: command 2");
	bad(v2_with(13, 0x41), sizeof v2_tcp4_tlvs, "v2: address family 4");
	bad(v2_with(13, 0x13), sizeof v2_tcp4_tlvs, "v2: transport 3");
	bad(v2_with(30, 0x09), sizeof v2_tcp4_tlvs,
	    "v2: a TLV longer than the header");
	bad("PROXY TCP4 192.0.2.7 127.0.0.1 4660 8080\n", 41, "v1: LF alone");
	bad("PROXY TCP4 192.0.2.300 127.0.0.1 4660 8080\r\n", 44,
	    "v1: bad address");
	bad("PROXY TCP4 2001:db8::1 127.0.0.1 4660 8080\r\n", 44,
	    "v1: TCP4 with an IPv6 address");
	bad("PROXY TCP4 192.0.2.7 127.0.0.1 65536 8080\r\n", 43,
	    "v1: port over 65535");
	bad("PROXY TCP4 192.0.2.7 127.0.0.1 0123 8080\r\n", 42,
	    "v1: port with a leading zero");
	bad("PROXY TCP4 192.0.2.7 127.0.0.1 4660\r\n", 37, "v1: five words");
	bad("PROXY TCP4 192.0.2.7  127.0.0.1 4660 8080\r\n", 43,
	    "v1: two spaces");
	bad("PROXY UDP4 192.0.2.7 127.0.0.1 4660 8080\r\n", 42,
	    "v1: UDP4");
	bad(long_line, sizeof long_line - 1, "v1: no CRLF in 107 bytes");
	is_int(proxy_parse((const unsigned char *)long_line, 106, &h, &why),
	    PROXY_MORE, "v1: 106 bytes without CRLF may still end");
	done_testing();
}
