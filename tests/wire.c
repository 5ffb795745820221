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
 * wire: a raw client for the tests.  Each argument is one write(2):
 *   j:JSON   the JSON text framed (4-byte little-endian length first)
 *   x:HEX    raw bytes given in hex
 *   h:N      only a header announcing N bytes
 * With -c all arguments go in one write; with -r N each argument is sent N
 * times over in one write; with -1 every byte is a write of its own.  Once
 * everything is written, -s shuts down the writing side and "[sent]" goes
 * to standard error.  With -w nothing is read: the connection is held open
 * for -t seconds, then closed.  Otherwise each reply frame's body is
 * printed on a line, until -n frames have come, the server closes
 * ("[closed]") or -t seconds pass ("[timeout]").  With -T all of it goes
 * through TLS, the server's certificate unchecked.  Exit 0 unless the
 * connection fails.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_TLS
#include <openssl/ssl.h>
#endif

#include "rpcd/proto.h"
#include "common.h"

static unsigned char	*out;
static size_t		 outlen, outsize;

#ifdef HAVE_TLS
static SSL		*ssl;	/* -T */

/* Run a TLS handshake on the blocking socket fd. */
static void
tls_start(int fd)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd))
		fatalx("cannot set up TLS");
	/* A record with no data (a session ticket) must not block a read. */
	SSL_clear_mode(ssl, SSL_MODE_AUTO_RETRY);
	SSL_CTX_free(ctx);
	if (SSL_connect(ssl) != 1)
		fatalx("TLS handshake failed");
}

static ssize_t
io_write(int fd, const void *p, size_t n)
{
	int	r;

	if (ssl == NULL)
		return (write(fd, p, n));
	if ((r = SSL_write(ssl, p, n)) <= 0)
		errno = EPIPE;
	return (r <= 0 ? -1 : r);
}

static ssize_t
io_read(int fd, void *p, size_t n)
{
	int	r;

	if (ssl == NULL)
		return (read(fd, p, n));
	if ((r = SSL_read(ssl, p, n)) > 0)
		return (r);
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
	case SSL_ERROR_SYSCALL:
		return (0);
	default:
		errno = EPROTO;
		return (-1);
	}
}

/* Decrypted bytes poll(2) cannot see. */
static int
io_pending(void)
{
	return (ssl != NULL && SSL_pending(ssl) > 0);
}
#else
#define io_write	write
#define io_read		read
#define io_pending()	0
#endif

static void
put(const void *p, size_t n)
{
	if (outlen + n > outsize) {
		outsize = (outlen + n) * 2;
		out = xreallocarray(out, outsize, 1);
	}
	memcpy(out + outlen, p, n);
	outlen += n;
}

static void
put_arg(const char *arg)
{
	unsigned char	 h[4];
	unsigned int	 byte;
	const char	*errstr;
	size_t		 len;

	if (strncmp(arg, "j:", 2) == 0) {
		len = strlen(arg + 2);
		proto_frame_put_length(h, len);
		put(h, 4);
		put(arg + 2, len);
	} else if (strncmp(arg, "h:", 2) == 0) {
		proto_frame_put_length(h, parse_number(arg + 2, 0, UINT32_MAX,
		    &errstr));
		put(h, 4);
	} else if (strncmp(arg, "x:", 2) == 0) {
		for (arg += 2; arg[0] != '\0' && arg[1] != '\0'; arg += 2) {
			if (sscanf(arg, "%2x", &byte) != 1)
				fatalx("bad hex: %s", arg);
			h[0] = byte;
			put(h, 1);
		}
	} else
		fatalx("argument must start j:, x: or h:: %s", arg);
}

static void
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = io_write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			/* Closed on us: what it sent first is still to read. */
			if (errno == EPIPE || errno == ECONNRESET)
				return;
			printf("[write error: %s]\n", strerror(errno));
			exit(0);
		}
		p += w;
		n -= w;
	}
}

/* Send the buffer repeat times over in a single write. */
static void
write_repeated(int fd, long long repeat)
{
	unsigned char	*one;
	size_t		 len = outlen;

	one = xmalloc(len);
	memcpy(one, out, len);
	while (--repeat > 0)
		put(one, len);
	free(one);
	write_all(fd, out, outlen);
}

int
main(int argc, char **argv)
{
	struct addr	 a;
	struct pollfd	 pfd;
	unsigned char	*in = NULL;
	size_t		 inlen = 0, insize = 0, i;
	double		 timeout = 5, deadline;
	const char	*errstr;
	char		 err[128];
	uint32_t	 body;
	long long	 repeat = 1, frames = -1, got = 0;
	int		 fd, ch, bytewise = 0, coalesce = 0, noread = 0, on = 1;
	int		 halfclose = 0, tls = 0;
	ssize_t		 r;

	log_init(1, 0, "wire");
	while ((ch = getopt(argc, argv, "1cn:r:st:Tw")) != -1) {
		switch (ch) {
		case 'T':
			tls = 1;
			break;
		case 's':
			halfclose = 1;
			break;
		case 'w':
			noread = 1;
			break;
		case 'c':
			coalesce = 1;
			break;
		case '1':
			bytewise = 1;
			break;
		case 'n':
			frames = parse_number(optarg, 0, 100000000, &errstr);
			break;
		case 'r':
			repeat = parse_number(optarg, 1, 100000000, &errstr);
			break;
		case 't':
			timeout = parse_seconds(optarg, 0, 3600, &errstr);
			break;
		default:
			fprintf(stderr, "usage: wire [-1csTw] [-n frames] "
			    "[-r repeat] [-t seconds] address [j:|x:|h:]...\n");
			return (2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || addr_parse(argv[0], &a, err, sizeof err) != 0)
		fatalx("bad address: %s", argc < 1 ? "(none)" : err);
	/* A server that closes early is a result to print, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if ((fd = socket(a.ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&a.ss, a.len) != 0)
		fatal("connect %s", argv[0]);
	if (a.ss.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
#ifdef HAVE_TLS
	if (tls)
		tls_start(fd);
#else
	if (tls)
		fatalx("-T: built without TLS");
#endif

	for (i = 1; i < (size_t)argc; i++) {
		if (!coalesce || i == 1)
			outlen = 0;
		put_arg(argv[i]);
		if (coalesce && i + 1 < (size_t)argc)
			continue;
		if (bytewise) {
			for (r = 0; r < (ssize_t)outlen; r++)
				write_all(fd, out + r, 1);
		} else if (repeat > 1)
			write_repeated(fd, repeat);
		else
			write_all(fd, out, outlen);
	}

#ifdef HAVE_TLS
	if (halfclose && ssl != NULL)
		SSL_shutdown(ssl);
#endif
	if (halfclose)
		shutdown(fd, SHUT_WR);
	fprintf(stderr, "[sent]\n");
	if (noread) {
		poll(NULL, 0, (int)(timeout * 1000));
		return (0);
	}
	deadline = time_monotonic() + timeout;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (frames < 0 || got < frames) {
		/* Print every whole frame buffered so far. */
		while (inlen >= 4 && (body = proto_frame_get_length(in)) <=
		    inlen - 4 && (frames < 0 || got < frames)) {
			printf("%.*s\n", (int)body, in + 4);
			fflush(stdout);
			memmove(in, in + 4 + body, inlen - 4 - body);
			inlen -= 4 + body;
			got++;
		}
		if (frames >= 0 && got >= frames)
			break;
		if (!io_pending() && poll(&pfd, 1,
		    (int)((deadline - time_monotonic()) * 1000)) <= 0) {
			printf("[timeout]\n");
			break;
		}
		if (inlen + 65536 > insize) {
			insize = inlen + 65536;
			in = xreallocarray(in, insize, 1);
		}
		if ((r = io_read(fd, in + inlen, 65536)) == -1 &&
		    errno == EAGAIN)
			continue;
		if (r <= 0) {
			printf(r == 0 ? "[closed]\n" : "[reset]\n");
			break;
		}
		inlen += r;
	}
	fflush(stdout);
	/* Free what a leak checker would otherwise report: it fails the test. */
	free(in);
	free(out);
#ifdef HAVE_TLS
	SSL_free(ssl);
#endif
	close(fd);
	return (0);
}
