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
 * and unix:/path.
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
