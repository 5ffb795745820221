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
 * Unit tests for network_parse(), network_format() and network_match()
 * (lib/common/addr.c), which decide whose PROXY header rpcd believes: a
 * table of networks as given, as printed, and addresses in and out of
 * them, IPv4 clients of a dual-stack socket (::ffff:a.b.c.d) included;
 * then the networks refused, with their reasons.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "tap.h"

static const struct {
	const char	*given;
	const char	*printed;
	const char	*in;		/* addresses in it, blank-separated */
	const char	*out;		/* and not */
} match_table[] = {
	{ "127.0.0.0/8", "127.0.0.0/8", "127.0.0.1 127.255.255.255 "
	    "::ffff:127.0.0.1", "128.0.0.1 126.255.255.255 ::1 ::127.0.0.1" },
	{ "192.0.2.7", "192.0.2.7/32", "192.0.2.7 ::ffff:192.0.2.7",
	    "192.0.2.6 192.0.2.8" },
	{ "10.0.0.0/9", "10.0.0.0/9", "10.0.0.1 10.127.255.255",
	    "10.128.0.0 11.0.0.1" },
	{ "0.0.0.0/0", "0.0.0.0/0", "1.2.3.4 255.255.255.255 ::ffff:8.8.8.8",
	    "::1 2001:db8::1" },
	{ "::1", "::1/128", "::1", "::2 127.0.0.1" },
	{ "2001:db8::/33", "2001:db8::/33", "2001:db8::1 "
	    "2001:db8:7fff:ffff::1", "2001:db8:8000::1 2001:db9::1" },
	{ "::/0", "::/0", "::1 2001:db8::1 127.0.0.1", "" },
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8", "10.1.2.3", "11.1.2.3" },
};

static const struct {
	const char	*given;
	const char	*why;
} refused_table[] = {
	{ "", "not an IPv4 or IPv6 address" },
	{ "localhost", "not an IPv4 or IPv6 address" },
	{ "10.0.0", "not an IPv4 or IPv6 address" },
	{ "10.0.0.0/", "prefix length is invalid (0 to 32)" },
	{ "10.0.0.0/33", "prefix length is too large (0 to 32)" },
	{ "10.0.0.0/-1", "prefix length is too small (0 to 32)" },
	{ "10.0.0.0/8x", "prefix length is invalid (0 to 32)" },
	{ "2001:db8::/129", "prefix length is too large (0 to 128)" },
	{ "10.1.2.3/8", "address bits set past the prefix length /8" },
	{ "2001:db8::1/64", "address bits set past the prefix length /64" },
	{ "[::1]", "not an IPv4 or IPv6 address" },
};

/* Is text, an IPv4 or IPv6 address, in the network? */
static int
matches(const struct network *n, const char *text)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		return (network_match(n, 1, (struct sockaddr *)&sin));
	}
	if (inet_pton(AF_INET6, text, &sin6.sin6_addr) != 1)
		return (-1);
	sin6.sin6_family = AF_INET6;
	return (network_match(n, 1, (struct sockaddr *)&sin6));
}

/* Do the blank-separated addresses of list all match (want 1) or not? */
static int
all(const struct network *n, const char *list, int want)
{
	char	buf[256], *word, *rest = buf;

	snprintf(buf, sizeof buf, "%s", list);
	while ((word = strsep(&rest, " ")) != NULL) {
		if (*word != '\0' && matches(n, word) != want)
			return (0);
	}
	return (1);
}

int
main(void)
{
	struct network		 n[2];
	struct sockaddr_in	 sin;
	char			 buf[128], err[128];
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof match_table / sizeof match_table[0]; i++) {
		rc = network_parse(match_table[i].given, &n[0], err,
		    sizeof err);
		network_format(&n[0], buf, sizeof buf);
		ok(rc == 0 && strcmp(buf, match_table[i].printed) == 0,
		    "%s is taken, printed %s", match_table[i].given, buf);
		ok(all(&n[0], match_table[i].in, 1), "%s holds %s",
		    match_table[i].given, match_table[i].in);
		ok(all(&n[0], match_table[i].out, 0), "%s does not hold %s",
		    match_table[i].given, match_table[i].out);
	}
	for (i = 0; i < sizeof refused_table / sizeof refused_table[0]; i++) {
		*err = '\0';
		rc = network_parse(refused_table[i].given, &n[0], err,
		    sizeof err);
		ok(rc == -1 && strcmp(err, refused_table[i].why) == 0,
		    "'%s' is refused: %s", refused_table[i].given, err);
	}

	network_parse("192.0.2.0/24", &n[0], err, sizeof err);
	network_parse("::1", &n[1], err, sizeof err);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.200", &sin.sin_addr);
	ok(network_match(n, 2, (struct sockaddr *)&sin) == 1,
	    "a list matches an address in its first network");
	ok(network_match(n, 0, (struct sockaddr *)&sin) == 0,
	    "an empty list matches nothing");
	sin.sin_family = AF_UNIX;
	ok(network_match(n, 2, (struct sockaddr *)&sin) == 0,
	    "a Unix socket's peer is in no network");
	done_testing();
}
