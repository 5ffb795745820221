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
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and
 * 2) that a load balancer sends before the client's bytes, naming the
 * client it connected on behalf of.  A pure function of the bytes
 * received so far, so that tests/proxy_test.c can try every prefix of a
 * header; conn.c feeds it a connection's input.
 *
 * Layer: connection (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "rpcd.h"

#define PROXY_V1_PREFIX	"PROXY "
#define PROXY_V2_HEAD	16	/* signature, version, family, length */

static const unsigned char proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Are the first len bytes of buf those of the first n of sig? */
static int
proxy_prefix(const unsigned char *buf, size_t len, const void *sig,
    size_t n)
{
	return (memcmp(buf, sig, len < n ? len : n) == 0);
}

/* A v1 port: decimal, 0 to 65535, no leading zero; -1 if not. */
static long
proxy_v1_port(const char *s)
{
	long	v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0') || strlen(s) > 5)
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (*s - '0');
	}
	return (v > 65535 ? -1 : v);
}

/*
 * "PROXY TCP4 src dst sport dport" (CRLF already cut off), or "PROXY
 * UNKNOWN" and anything: the source into h.
 */
static int
proxy_v1_line(char *line, struct proxy_header *h, const char **why)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&h->src;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&h->src;
	struct in6_addr		 dst;
	char			*word[6], *p = line;
	long			 sport, dport;
	int			 n, family;

	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 &&
	    (line[13] == '\0' || line[13] == ' ')) {
		h->local = 1;
		return (PROXY_OK);
	}
	for (n = 0; n < 6; n++) {
		word[n] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 5) {
		*why = "v1: not 6 words";
		return (PROXY_BAD);
	}
	if (strcmp(word[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(word[1], "TCP6") == 0)
		family = AF_INET6;
	else {
		*why = "v1: unknown protocol";
		return (PROXY_BAD);
	}
	sport = proxy_v1_port(word[4]);
	dport = proxy_v1_port(word[5]);
	if (sport == -1 || dport == -1) {
		*why = "v1: bad port";
		return (PROXY_BAD);
	}
	/* The destination is checked, then forgotten. */
	if (inet_pton(family, word[3], &dst) != 1)
		n = 0;
	else if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(sport);
		h->srclen = sizeof *sin;
		n = inet_pton(AF_INET, word[2], &sin->sin_addr);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(sport);
		h->srclen = sizeof *sin6;
		n = inet_pton(AF_INET6, word[2], &sin6->sin6_addr);
	}
	if (n != 1) {
		*why = "v1: bad address";
		return (PROXY_BAD);
	}
	return (PROXY_OK);
}

/* Version 1: one line of text, CRLF-terminated, at most 107 bytes. */
static int
proxy_v1(const unsigned char *buf, size_t len, struct proxy_header *h,
    const char **why)
{
	char		 line[PROXY_V1_MAX + 1];
	const void	*lf;
	size_t		 n;

	if (len > PROXY_V1_MAX)
		len = PROXY_V1_MAX;
	if ((lf = memchr(buf, '\n', len)) == NULL) {
		if (len == PROXY_V1_MAX) {
			*why = "v1: no CRLF in 107 bytes";
			return (PROXY_BAD);
		}
		return (PROXY_MORE);
	}
	n = (const unsigned char *)lf - buf;
	if (n == 0 || buf[n - 1] != '\r') {
		*why = "v1: LF without CR";
		return (PROXY_BAD);
	}
	if (memchr(buf, '\0', n) != NULL) {
		*why = "v1: NUL in the line";
		return (PROXY_BAD);
	}
	memcpy(line, buf, n - 1);
	line[n - 1] = '\0';
	h->version = 1;
	h->len = n + 1;
	return (proxy_v1_line(line, h, why));
}

/* Check that the TLVs after the addresses fill the rest exactly. */
static int
proxy_v2_tlvs(const unsigned char *p, size_t len)
{
	size_t	n;

	while (len > 0) {
		if (len < 3)
			return (-1);
		n = 3 + ((size_t)p[1] << 8 | p[2]);
		if (n > len)
			return (-1);
		p += n;
		len -= n;
	}
	return (0);
}

/* Version 2: 16 bytes of binary header, then addresses and TLVs. */
static int
proxy_v2(const unsigned char *buf, size_t len, struct proxy_header *h,
    const char **why)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&h->src;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&h->src;
	const unsigned char	*a = buf + PROXY_V2_HEAD;
	size_t			 body, need;

	if (len > 12 && (buf[12] & 0xf0) != 0x20) {
		*why = "v2: version not 2";
		return (PROXY_BAD);
	}
	if (len > 12 && (buf[12] & 0x0f) > 1) {
		*why = "v2: command neither LOCAL nor PROXY";
		return (PROXY_BAD);
	}
	if (len < PROXY_V2_HEAD)
		return (PROXY_MORE);
	body = (size_t)buf[14] << 8 | buf[15];
	if (len < PROXY_V2_HEAD + body)
		return (PROXY_MORE);
	h->version = 2;
	h->len = PROXY_V2_HEAD + body;
	switch (buf[13] >> 4) {
	case 0:
		need = 0;
		break;
	case 1:
		need = 12;
		break;
	case 2:
		need = 36;
		break;
	case 3:
		need = 216;
		break;
	default:
		*why = "v2: unknown address family";
		return (PROXY_BAD);
	}
	if ((buf[13] & 0x0f) > 2) {
		*why = "v2: unknown transport";
		return (PROXY_BAD);
	}
	if (body < need || proxy_v2_tlvs(a + need, body - need) != 0) {
		*why = "v2: addresses or TLVs do not fit its length";
		return (PROXY_BAD);
	}
	/* LOCAL (a health check of the balancer's own), or no address. */
	if ((buf[12] & 0x0f) == 0 || need == 0) {
		h->local = 1;
		return (PROXY_OK);
	}
	switch (buf[13] >> 4) {
	case 1:
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		memcpy(&sin->sin_port, a + 8, 2);
		h->srclen = sizeof *sin;
		break;
	case 2:
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		memcpy(&sin6->sin6_port, a + 32, 2);
		h->srclen = sizeof *sin6;
		break;
	case 3:
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, a, sizeof sun->sun_path - 1);
		h->srclen = sizeof *sun;
		break;
	}
	return (PROXY_OK);
}

/*
 * Parse the PROXY header at the start of the len bytes of buf.  Return
 * PROXY_OK with h filled in (h->len: the bytes it takes; h->local: no
 * address given, keep the connection's own), PROXY_MORE if the bytes so
 * far are the start of a header, or PROXY_BAD with the reason in why.
 */
int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_header *h,
    const char **why)
{
	memset(h, 0, sizeof *h);
	*why = NULL;
	if (len == 0)
		return (PROXY_MORE);
	if (buf[0] == 'P') {
		if (!proxy_prefix(buf, len, PROXY_V1_PREFIX,
		    sizeof PROXY_V1_PREFIX - 1)) {
			*why = "no PROXY signature";
			return (PROXY_BAD);
		}
		return (proxy_v1(buf, len, h, why));
	}
	if (!proxy_prefix(buf, len, proxy_v2_sig, sizeof proxy_v2_sig)) {
		*why = "no PROXY signature";
		return (PROXY_BAD);
	}
	return (proxy_v2(buf, len, h, why));
}
