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
 * libFuzzer harness for rpcctl's reply reader, client/net.c's
 * client_read(), fed through a socket pair by a fake server.
 *
 * The input is one byte, the number of requests outstanding and the
 * --retry flag, then records: an op byte and, to write, a two-byte
 * little-endian length and that many bytes.  After each chunk the client
 * reads every reply it can.  client_read() returns CLIENT_FAILED on a bad
 * reply, with why in c->err (rpcctl then exits): the harness checks the
 * verdict was due and ends the run; "timed out" (the timeout is 0) only
 * means the rest has not been written yet.
 *
 * Each reply read must be the next whole frame written, parse as a
 * response, and answer a request still outstanding; the buffer holds no
 * more than was written and not consumed.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpcctl.h"
#include "fuzz.h"

/* Ops of the records. */
enum {
	OP_WRITE,		/* write a chunk, read replies */
	OP_WRITE_ONLY,		/* write a chunk; the next joins it */
	OP_READ,		/* read replies */
	OP_CLOSE,		/* the server closes */
	OP_NOPS
};

/* The fake server's side: what it wrote, and how much was consumed. */
struct fake {
	int		 fd;
	unsigned char	*sent;
	size_t		 nsent, size;
	size_t		 consumed;	/* bytes of replies taken */
	int		 replies;
	int		 closed;
};

/* Complete frames at the start of buf that fit the client's limit. */
static int
fuzz_frames(const char *buf, size_t len, int *too_large)
{
	uint32_t	body;
	size_t		off = 0;
	int		n = 0, status;

	*too_large = 0;
	if (buf == NULL)
		return (0);	/* nothing read yet */
	while ((status = proto_frame_decode(buf + off, len - off,
	    RPCCTL_MAX_FRAME, &body)) == PROTO_FRAME_COMPLETE) {
		off += PROTO_HEADER_SIZE + body;
		n++;
	}
	*too_large = status == PROTO_FRAME_TOO_LARGE;
	return (n);
}

/* A reply was read: it must be the next frame written, and a response. */
static void
fuzz_check_reply(struct client *c, struct fake *srv, int outstanding)
{
	struct proto_message	m;
	const unsigned char	*want = srv->sent + srv->consumed;

	if (++srv->replies > outstanding || c->pending <= 0)
		abort();	/* more replies than requests */
	if (c->body != c->buf + PROTO_HEADER_SIZE ||
	    PROTO_HEADER_SIZE + c->body_len > c->len ||
	    c->len > srv->nsent - srv->consumed)
		abort();
	if (proto_frame_get_length(want) != c->body_len ||
	    memcmp(c->body, want + PROTO_HEADER_SIZE, c->body_len) != 0)
		abort();	/* not the frame the server sent next */
	if (proto_response_parse(c->body, c->body_len, PROTO_DEPTH_MAX,
	    &m) != PROTO_OK || strcmp(m.name, c->reply.name) != 0 ||
	    c->reply.name_len == 0 || c->reply.name_len > PROTO_NAME_MAX)
		abort();
	srv->consumed += PROTO_HEADER_SIZE + c->body_len;
}

/*
 * rpcctl gave up: was it due?  A frame over the limit, more replies than
 * requests, a reply that does not parse, or the end before a reply.
 */
static void
fuzz_check_verdict(struct client *c)
{
	struct proto_message	m;
	int			frames, too_large, undue;

	frames = fuzz_frames(c->buf, c->len, &too_large);
	if (strstr(c->err, "over the limit") != NULL)
		undue = !too_large;
	else if (strstr(c->err, "a reply to no request") != NULL)
		undue = frames <= c->pending;
	else if (strstr(c->err, "sent a bad reply") != NULL)
		undue = frames == 0 || proto_response_parse(c->buf +
		    PROTO_HEADER_SIZE, proto_frame_get_length(
		    (unsigned char *)c->buf), PROTO_DEPTH_MAX, &m) == PROTO_OK;
	else if (strstr(c->err, "closed the connection") != NULL)
		undue = !c->eof || frames > 0;
	else
		undue = 1;
	if (undue)
		abort();	/* an error it had no reason for */
}

/*
 * Read replies while requests are outstanding.  Return 0 to go on, -1
 * once rpcctl would have exited or the server closed.
 */
static int
fuzz_read(struct client *c, struct fake *srv, int outstanding)
{
	int	rc, too_large;

	while (c->pending > 0) {
		if ((rc = client_read(c)) == CLIENT_FAILED) {
			if (strncmp(c->err, "timed out", 9) != 0) {
				fuzz_check_verdict(c);
				return (-1);
			}
			break;
		}
		if (rc == CLIENT_CLOSED) {
			if (!c->eof || !c->retry)
				abort();
			return (-1);
		}
		if (rc != 0)
			abort();
		fuzz_check_reply(c, srv, outstanding);
		client_consume(c);
	}
	/* What it kept is no more than the replies still due, all sound. */
	if (fuzz_frames(c->buf, c->len, &too_large) > c->pending || too_large)
		abort();
	return (0);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options	opt;
	struct client	c;
	struct fake	srv;
	const uint8_t	*chunk;
	size_t		i = 1, n;
	ssize_t		w;
	int		sv[2], op, outstanding, done = 0;

	if (size < 1)
		return (0);
	signal(SIGPIPE, SIG_IGN);
	memset(&opt, 0, sizeof opt);
	opt.timeout = 0;
	memset(&c, 0, sizeof c);
	memset(&srv, 0, sizeof srv);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	c.opt = &opt;
	snprintf(c.server, sizeof c.server, "fuzz");
	c.fd = sv[0];
	c.pending = outstanding = data[0] & 0xf;
	c.retry = data[0] >> 4 & 1;
	srv.fd = sv[1];
	srv.size = 4096;
	if ((srv.sent = malloc(srv.size)) == NULL)
		abort();

	while (i < size && !done) {
		op = data[i++] % OP_NOPS;
		switch (op) {
		case OP_WRITE:
		case OP_WRITE_ONLY:
			chunk = fuzz_chunk(data, size, &i, &n);
			/* A full socket is the end of what this server says. */
			if (!srv.closed && (w = write(srv.fd, chunk, n)) > 0) {
				if (srv.nsent + w > srv.size &&
				    (srv.sent = realloc(srv.sent,
				    srv.size = (srv.nsent + w) * 2)) == NULL)
					abort();
				memcpy(srv.sent + srv.nsent, chunk, w);
				srv.nsent += w;
			}
			if (op == OP_WRITE)
				done = fuzz_read(&c, &srv, outstanding) != 0;
			break;
		case OP_READ:
			done = fuzz_read(&c, &srv, outstanding) != 0;
			break;
		case OP_CLOSE:
			shutdown(srv.fd, SHUT_WR);
			srv.closed = 1;
			done = fuzz_read(&c, &srv, outstanding) != 0;
			break;
		}
	}
	if (!done) {
		shutdown(srv.fd, SHUT_WR);
		fuzz_read(&c, &srv, outstanding);
	}
	client_close(&c);
	close(srv.fd);
	free(srv.sent);
	return (0);
}
