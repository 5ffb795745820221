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
 * Address syntax shared by rpcd -l and rpcctl -S: host:port, [v6addr]:port
 * and unix:/path; and networks, as rpcd --proxy-from takes them.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int
addr_parse_unix(const char *path, struct addr *a, char *err, size_t errlen)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&a->ss;

	if (*path == '\0') {
		snprintf(err, errlen, "empty socket path");
		return (-1);
	}
	if (strlen(path) >= sizeof sun->sun_path) {
		snprintf(err, errlen, "socket path too long (%zu bytes max)",
		    sizeof sun->sun_path - 1);
		return (-1);
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	a->len = sizeof *sun;
	return (0);
}

/*
 * Parse text into a socket address.  Host names are resolved; the first
 * address returned is used.  On failure write a reason into err.
 */
int
addr_parse(const char *text, struct addr *a, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	char		 host[256];
	const char	*port, *end;
	size_t		 hostlen;
	const char	*errstr;
	int		 error;

	memset(a, 0, sizeof *a);
	if (strncmp(text, "unix:", 5) == 0) {
		if (addr_parse_unix(text + 5, a, err, errlen) != 0)
			return (-1);
		snprintf(a->text, sizeof a->text, "%s", text);
		return (0);
	}
	if (*text == '[') {
		if ((end = strchr(text, ']')) == NULL || end[1] != ':') {
			snprintf(err, errlen, "expected [address]:port");
			return (-1);
		}
		text++;
		port = end + 2;
	} else {
		if ((end = strrchr(text, ':')) == NULL) {
			snprintf(err, errlen,
			    "expected host:port, [address]:port or unix:path");
			return (-1);
		}
		port = end + 1;
	}
	hostlen = end - text;
	if (hostlen == 0 || hostlen >= sizeof host) {
		snprintf(err, errlen, "bad host");
		return (-1);
	}
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	parse_number(port, 0, 65535, &errstr);
	if (errstr != NULL) {
		snprintf(err, errlen, "port is %s", errstr);
		return (-1);
	}

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		/* Out of memory is no fault of the address given. */
		if (error == EAI_MEMORY)
			fatalx("%s: %s", text, gai_strerror(error));
		snprintf(err, errlen, "%s", gai_strerror(error));
		return (-1);
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	addr_format((struct sockaddr *)&a->ss, a->len, a->text,
	    sizeof a->text);
	return (0);
}

/* Print a socket address in the syntax addr_parse() reads. */
const char *
addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_un	*sun = (const struct sockaddr_un *)sa;
	char				 host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		if (len <= offsetof(struct sockaddr_un, sun_path))
			snprintf(buf, size, "unix:");
		else
			snprintf(buf, size, "unix:%.*s",
			    (int)(len - offsetof(struct sockaddr_un,
			    sun_path)), sun->sun_path);
		break;
	default:
		snprintf(buf, size, "family %d", sa->sa_family);
		break;
	}
	return (buf);
}

/* ::ffff:0:0/96, where IPv6 holds the IPv4 addresses. */
static const unsigned char network_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * Parse a numeric ADDRESS[/BITS], IPv4 or IPv6, into n; without /BITS the
 * network is that one address.  An address with bits set past its prefix
 * is refused: 10.1.2.3/8 is likelier a mistake than a way to write
 * 10.0.0.0/8.  On failure write a reason into err.
 */
int
network_parse(const char *text, struct network *n, char *err, size_t errlen)
{
	char		 host[INET6_ADDRSTRLEN];
	const char	*slash, *errstr;
	struct in_addr	 in;
	size_t		 len;
	int		 max, bits, i;

	memset(n, 0, sizeof *n);
	slash = strchr(text, '/');
	len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (len >= sizeof host)
		len = sizeof host - 1;
	memcpy(host, text, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, &in) == 1) {
		memcpy(n->addr, network_v4mapped, sizeof network_v4mapped);
		memcpy(n->addr + sizeof network_v4mapped, &in, sizeof in);
		max = 32;
	} else if (inet_pton(AF_INET6, host, n->addr) == 1)
		max = 128;
	else {
		snprintf(err, errlen, "not an IPv4 or IPv6 address");
		return (-1);
	}
	bits = max;
	if (slash != NULL) {
		bits = parse_number(slash + 1, 0, max, &errstr);
		if (errstr != NULL) {
			snprintf(err, errlen, "prefix length is %s (0 to %d)",
			    errstr, max);
			return (-1);
		}
	}
	n->bits = 128 - max + bits;
	for (i = n->bits; i < 128; i++) {
		if (n->addr[i / 8] & (0x80 >> i % 8)) {
			snprintf(err, errlen, "address bits set past the "
			    "prefix length /%d", bits);
			return (-1);
		}
	}
	return (0);
}

/* Print a network in the syntax network_parse() reads. */
void
network_format(const struct network *n, char *buf, size_t size)
{
	char	host[INET6_ADDRSTRLEN];

	if (n->bits >= 96 && memcmp(n->addr, network_v4mapped,
	    sizeof network_v4mapped) == 0) {
		inet_ntop(AF_INET, n->addr + sizeof network_v4mapped, host,
		    sizeof host);
		snprintf(buf, size, "%s/%d", host, n->bits - 96);
	} else {
		inet_ntop(AF_INET6, n->addr, host, sizeof host);
		snprintf(buf, size, "%s/%d", host, n->bits);
	}
}

/* Is the address of sa, IPv4 or IPv6, in one of the count networks? */
int
network_match(const struct network *nets, int count,
    const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	unsigned char			 a[16];
	const struct network		*n;
	int				 i, whole, rest;

	if (sa->sa_family == AF_INET) {
		memcpy(a, network_v4mapped, sizeof network_v4mapped);
		memcpy(a + sizeof network_v4mapped, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6)
		memcpy(a, &sin6->sin6_addr, sizeof a);
	else
		return (0);
	for (i = 0; i < count; i++) {
		n = &nets[i];
		whole = n->bits / 8;
		rest = n->bits % 8;
		if (memcmp(a, n->addr, whole) == 0 && (rest == 0 ||
		    ((a[whole] ^ n->addr[whole]) & (0xff00 >> rest)) == 0))
			return (1);
	}
	return (0);
}

/*
 * Split a serverset's zk://HOST:PORT[,HOST:PORT...]/PATH (rpcd's
 * --register, rpcctl's -S) into ZooKeeper's connect string and the path,
 * which must be absolute, not "/" and without empty, "." or ".." parts
 * (ZooKeeper refuses them).  Return NULL, or what is wrong.
 */
const char *
zk_url_split(const char *url, char *hosts, size_t hlen, char *path,
    size_t plen)
{
	const char	*slash, *p, *end, *item, *colon;
	size_t		 n;

	if (strncmp(url, "zk://", 5) != 0 ||
	    (slash = strchr(url + 5, '/')) == NULL || slash == url + 5)
		return ("expected zk://HOST:PORT[,HOST:PORT...]/PATH");
	url += 5;
	if ((size_t)(slash - url) >= hlen || strlen(slash) >= plen)
		return ("too long");
	for (item = url; item < slash; item = end + 1) {
		if ((end = memchr(item, ',', slash - item)) == NULL)
			end = slash;
		for (colon = NULL, p = item; p < end; p++) {
			if (*p == ':')
				colon = p;
		}
		n = colon != NULL ? (size_t)(end - colon - 1) : 0;
		if (colon == NULL || colon == item || n == 0 || n > 5 ||
		    strspn(colon + 1, "0123456789") < n ||
		    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
			return ("each host must be HOST:PORT, the port 1 to "
			    "65535");
	}
	for (p = slash; *p != '\0'; p = end) {
		if ((end = strchr(p + 1, '/')) == NULL)
			end = p + strlen(p);
		n = end - p - 1;
		if (n == 0 || (n == 1 && p[1] == '.') ||
		    (n == 2 && p[1] == '.' && p[2] == '.'))
			return ("the path must be absolute, not /, without "
			    "empty, . or .. parts");
	}
	memcpy(hosts, url, slash - url);
	hosts[slash - url] = '\0';
	snprintf(path, plen, "%s", slash);
	return (NULL);
}
