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
 * libFuzzer harness for a connection of rpcd, in process: the server's own
 * conn.c, dispatch.c, call.c and worker.c, with the test module loaded,
 * serve one end of a socket pair (or of a loopback TCP connection) on an
 * event loop that the harness steps, and the input is what the peer does
 * at the other end.
 *
 * The input is two bytes of settings, then records: an op byte and, for
 * the ops that write, a two-byte little-endian length and that many bytes
 * (fewer if the input ends first).  The ops write a chunk, read the
 * replies, step the loop, begin a drain, half-close, reset, wait for the
 * short timers, have the deadlines of the calls kept pass, or have the
 * test module's timers fire.  At the end the peer half-closes, reads, and
 * closes; the connection must then be gone, and unless it had a reason to
 * stop, every request answered up to the first one still kept by the
 * module (the server cancels it and the calls after it).
 *
 * The test module's calls answered later come from the input too: hold
 * (until release), later and deadline (from a timer of the loop, or a
 * deadline), and work (offloaded to the thread pool).  A timer of 0 ms
 * fires on the next pass of the loop, and OP_TIMERS and OP_DEADLINE fire
 * the others at once, where the input says: the harness does not wait
 * for them.  It does wait for the pool to answer work due within
 * FUZZ_WORK_MS, as a client would wait for its reply, so that where that
 * reply comes does not depend on the threads' speed; longer work runs
 * until its deadline or its connection's end cancels it.
 *
 * The settings choose the front end too: a plain listener; a ",proxy"
 * one, where the input's bytes are the PROXY header and then frames, and
 * the header tells the harness where the frames begin; a ",tls" one,
 * where a client on memory BIOs completes a real handshake first and the
 * chunks are its application data; or a ",tls" one sent the chunks raw,
 * whose replies are not frames and are not checked, or with the settings'
 * top bit a ",tls,proxy" one sent them raw: a PROXY header, if they make
 * one, then TLS records.  Built without
 * OpenSSL, both TLS choices are the plain listener.  The certificate is
 * made when the harness starts, valid for a day.
 *
 * After every step: each reply is a well-formed response frame that
 * answers the next request sent, in order (the method's reply, with the
 * params echoed by ping and echo, or an error with the code the request
 * deserves); nothing follows frame_too_large or busy; every connection's
 * buffers stay within --max-frame and --max-output and what one read or
 * one round of replies adds.  ASan, UBSan and LeakSanitizer watch the
 * rest.
 *
 * The server logs to stderr: run with -close_fd_mask=2, as "make fuzz"
 * does, or the log drowns libFuzzer's.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_TLS
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#endif

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"
#include "fuzz.h"

/* Passes of the loop per step: deferred callbacks run on the next one. */
#define FUZZ_PASSES		4
/* Steps in a row with nothing read that the end may take. */
#define FUZZ_END_STEPS		64
/* Milliseconds each may wait for bytes, with small buffers: see the end. */
#define FUZZ_STALL_MS		50
/* Tries to write a chunk the kernel will not take, reading meanwhile. */
#define FUZZ_WRITE_TRIES	16
/* Bytes of a reply that echoes nothing: stats, the largest, is < 4 KiB. */
#define FUZZ_REPLY_MAX		8192
/* Bytes of kernel buffer with the "small buffers" setting. */
#define FUZZ_SMALL_BUF		4096
/* Milliseconds of the idle and handshake timeouts made short. */
#define FUZZ_SHORT_MS		2
/* Steps a TLS handshake may take. */
#define FUZZ_HANDSHAKE_STEPS	16
/* Waits for the short timers a run may take. */
#define FUZZ_WAITS		4
/* Milliseconds of work (the test module's) the harness waits for. */
#define FUZZ_WORK_MS		10
/* Milliseconds a run may wait for the thread pool, in all. */
#define FUZZ_POOL_MS		100
/* Threads of the pool: few, so that work queues behind work. */
#define FUZZ_THREADS		2
/* Timers OP_TIMERS fires at once; more wait for the next. */
#define FUZZ_TIMERS_MAX		256

/* Front ends: the listener the connection is accepted on. */
enum {
	FRONT_PLAIN,
	FRONT_PROXY,		/* -l ADDR,proxy: the input begins a header */
	FRONT_TLS,		/* -l ADDR,tls: a client speaks TLS */
	FRONT_TLS_RAW,		/* -l ADDR,tls: the input as it comes */
	FRONT_NUM
};

/* What the PROXY header sent so far is, as far as the harness knows. */
enum {
	HDR_NONE,		/* no header expected */
	HDR_MORE,		/* the start of one */
	HDR_DONE,		/* whole: frames follow */
	HDR_BAD
};

/* Ops of the records. */
enum {
	OP_WRITE,		/* write a chunk, step */
	OP_WRITE_READ,		/* write a chunk, step, read replies */
	OP_WRITE_ONLY,		/* write a chunk; the next joins it */
	OP_READ,		/* step, read replies */
	OP_STEP,
	OP_DRAIN,		/* shut down, as on SIGTERM */
	OP_SHUTDOWN,		/* half-close */
	OP_RESET,		/* close at once, a reset on TCP; the end */
	OP_WAIT,		/* let the short timers expire, step */
	OP_DEADLINE,		/* the deadlines of the calls kept pass, step */
	OP_TIMERS,		/* the module's timers fire, step */
	OP_NOPS
};

/* The client end of a connection, and what it sent and was answered. */
struct peer {
	int		 fd;
	int		 busy;		/* expects busy, then the end */
	unsigned char	*sent;		/* every byte written */
	size_t		 nsent, sentsize;
	size_t		 answered;	/* offset of the next request */
	unsigned char	*recv;		/* read, not yet a whole reply */
	size_t		 nrecv, recvsize;
	size_t		 received;	/* bytes read in all */
	int		 replies;
	int		 ended;		/* nothing may follow the last reply */
	int		 eof;		/* the server closed */
	int		 wr_shut;	/* we half-closed */
	int		 small;		/* small kernel buffers */
	int		 front;		/* FRONT_* */
	int		 header;	/* HDR_* */
	size_t		 start;		/* offset of the first frame */
	size_t		 pushed;	/* bytes the kernel took in all */
#ifdef HAVE_TLS
	SSL		*ssl;		/* FRONT_TLS: the client */
	BIO		*rbio, *wbio;	/* its ciphertext, in and out */
	unsigned char	*cipher;	/* made, not yet taken by the kernel */
	size_t		 ncipher, ciphersize;
	int		 sock_eof;	/* the socket's end: no more ciphertext */
	int		 shut_pending;	/* half-close once it is all sent */
#endif
};

static struct settings	 fuzz_defaults;
static struct settings	 fuzz_settings;
static struct event_base *fuzz_base;
static const struct timeval *fuzz_idle;	/* a common timeout of a day */
static struct stats_slot *fuzz_stats;
static const struct timeval *fuzz_short;	/* FUZZ_SHORT_MS */
static struct server	 fuzz_srv;
static struct listener	 fuzz_listeners[FRONT_NUM];
static struct listener	 fuzz_tls_proxy;	/* FRONT_TLS_RAW, proxied */
static int		 fuzz_proxied;
static int		 fuzz_tcp_fd = -1;	/* a loopback listener */
static int		 fuzz_timers;	/* short timers: they may expire */
static struct event	*fuzz_wait_ev;	/* bounds a wait for the pool */
static double		 fuzz_pool_left; /* seconds of FUZZ_POOL_MS left */
#ifdef HAVE_TLS
static SSL_CTX		*fuzz_client_ctx;
#endif

static void
fuzz_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	/* The harness's bound of a wait for the pool ends the wait. */
}

/* Append n bytes to *buf, growing it. */
static void
fuzz_append(unsigned char **buf, size_t *len, size_t *size, const void *p,
    size_t n)
{
	if (*len + n > *size) {
		*size = (*len + n) * 2;
		if ((*buf = realloc(*buf, *size)) == NULL)
			abort();
	}
	memcpy(*buf + *len, p, n);
	*len += n;
}

/* The code of an error reply's result, or NULL. */
static char *
fuzz_error_code(const struct proto_message *m)
{
	struct json_tokener	*tok;
	struct json_object	*o, *code;
	char			*name = NULL;

	if (m->value == NULL || (tok = json_tokener_new()) == NULL)
		return (NULL);
	o = json_tokener_parse_ex(tok, m->value, m->value_len);
	if (json_object_object_get_ex(o, "code", &code) &&
	    json_object_is_type(code, json_type_string))
		name = strdup(json_object_get_string(code));
	json_object_put(o);
	json_tokener_free(tok);
	return (name);
}

/* How a method answers. */
enum {
	EXPECT_ECHO,		/* its params, or null */
	EXPECT_ANY,		/* a result of its own */
	EXPECT_ERROR,		/* an error with its code */
	EXPECT_LATER,		/* later: the VALUE of its params */
	EXPECT_WORK		/* its work: VALUE, or nope for "fail" */
};

/*
 * What each method answers: the built-in ones and the test module's
 * (tests/testmod.c).  A result's "out", or an error's code; and for the
 * calls the module keeps, the errors they may be answered instead (a
 * deadline, a full hold list, a full pool queue).  Those are the calls
 * that may be left unanswered at the end.
 */
static const struct expect {
	const char	*method;
	const char	*out;
	const char	*code;
	int		 kind;		/* EXPECT_* */
	const char	*may;		/* kept: codes separated by spaces */
} fuzz_expects[] = {
	{ "ping", "pong", NULL, EXPECT_ECHO, NULL },
	{ "methods", "methods", NULL, EXPECT_ANY, NULL },
	{ "stats", "stats", NULL, EXPECT_ANY, NULL },
	{ "echo", "echo", NULL, EXPECT_ECHO, NULL },
	{ "badjson", NULL, "internal_error", EXPECT_ERROR, NULL },
	{ "fail", NULL, "nope", EXPECT_ERROR, NULL },
	{ "silent", NULL, "internal_error", EXPECT_ERROR, NULL },
	{ "hold", "hold", NULL, EXPECT_ECHO, "timeout full" },
	{ "release", "release", NULL, EXPECT_ANY, NULL },
	{ "later", "later", NULL, EXPECT_LATER, "timeout" },
	{ "later_nc", "later_nc", NULL, EXPECT_LATER, "timeout" },
	{ "deadline", "deadline", NULL, EXPECT_LATER, "timeout" },
	{ "work", "work", NULL, EXPECT_WORK, "timeout busy" },
	{ "work_deadline", "work_deadline", NULL, EXPECT_WORK,
	    "timeout busy" },
};

static const struct expect *
fuzz_expect(const char *method)
{
	size_t	i;

	for (i = 0; i < sizeof fuzz_expects / sizeof fuzz_expects[0]; i++) {
		if (strcmp(fuzz_expects[i].method, method) == 0)
			return (&fuzz_expects[i]);
	}
	return (NULL);
}

/* May a kept call of e be answered an error with code instead? */
static int
fuzz_may(const struct expect *e, const char *code)
{
	const char	*p;
	size_t		 len = strlen(code);

	for (p = e->may; p != NULL && *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncmp(p, code, len) == 0 &&
		    (p[len] == ' ' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

/* JSON's white space, which a parser leaves out around a value. */
static int
fuzz_json_space(char ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r');
}

/*
 * The params of the test module's later and work methods, N or [N,
 * VALUE] (testmod_later_params()): the milliseconds they wait, and in
 * *value the result they answer; -1 for params they refuse.
 */
static int
fuzz_later_params(const char *params, size_t len, const char **value,
    size_t *vlen)
{
	const char	*comma, *end;
	char		 text[64];
	int		 ms;

	if (params == NULL || len == 0 || len >= sizeof text)
		return (-1);
	memcpy(text, params, len);
	text[len] = '\0';
	if (params[0] != '[') {
		*value = params;
		*vlen = len;
		ms = atoi(text);
	} else {
		if ((comma = memchr(params, ',', len)) == NULL ||
		    (end = memchr(params, ']', len)) == NULL || end < comma)
			return (-1);
		/*
		 * The module sends VALUE as it is, and its reply's parser
		 * leaves out the JSON white space around it: so does this.
		 */
		while (comma + 1 < end && fuzz_json_space(comma[1]))
			comma++;
		while (end - 1 > comma && fuzz_json_space(end[-1]))
			end--;
		*value = comma + 1;
		*vlen = end - comma - 1;
		ms = atoi(text + 1);
	}
	return (ms < 0 ? -1 : ms);
}

/*
 * Check a reply to a call of a method that answers a result: the result
 * it must be, or an error it may be instead.  Return whether the result
 * echoes the params.
 */
static int
fuzz_check_result(const struct expect *e, const struct proto_message *req,
    const struct proto_message *m)
{
	const char	*want = NULL, *value = req->value;
	char		*code;
	size_t		 len = req->value_len;
	int		 ok;

	if (e->kind == EXPECT_LATER || e->kind == EXPECT_WORK) {
		if (fuzz_later_params(req->value, req->value_len, &value,
		    &len) == -1)
			want = "bad_params";
		else if (e->kind == EXPECT_WORK && len == 6 &&
		    memcmp(value, "\"fail\"", 6) == 0)
			want = "nope";
		else if (proto_json_check(value, len, PROTO_DEPTH_MAX) != 0)
			want = proto_errname(PROTO_EINTERNAL);
	} else if (e->kind == EXPECT_ECHO && value == NULL) {
		value = "null";
		len = 4;
	}
	if (strcmp(m->name, "error") == 0) {
		if ((code = fuzz_error_code(m)) == NULL)
			abort();
		ok = (want != NULL && strcmp(code, want) == 0) ||
		    fuzz_may(e, code);
		free(code);
		if (!ok)
			abort();	/* an error it does not deserve */
		return (0);
	}
	if (want != NULL || strcmp(m->name, e->out) != 0)
		abort();
	if (e->kind != EXPECT_ANY && (m->value_len != len ||
	    memcmp(m->value, value, len) != 0))
		abort();	/* not the result of its params */
	return (e->kind == EXPECT_ECHO);
}

/*
 * On a proxy listener, where the frames begin: after the PROXY header,
 * once the bytes sent hold all of it.  The parser has tests of its own
 * (tests/proxy_test.c); here it tells what the server must make of them.
 */
static void
fuzz_header(struct peer *p)
{
	struct proxy_header	 h;
	const char		*why;
	size_t			 len = p->nsent;

	if (p->header != HDR_MORE)
		return;
	if (len > PROXY_V2_MAX)
		len = PROXY_V2_MAX;
	switch (proxy_parse(p->sent, len, &h, &why)) {
	case PROXY_OK:
		p->header = HDR_DONE;
		p->start = p->answered = h.len;
		break;
	case PROXY_BAD:
		p->header = HDR_BAD;
		break;
	}
}

/*
 * Check one reply against the request it must answer: the next whole one
 * the peer sent, or the header of one over --max-frame.
 */
static void
fuzz_check_reply(struct peer *p, const char *body, size_t len)
{
	const struct settings	*s = &fuzz_settings;
	struct proto_message	 m, req;
	const unsigned char	*h;
	size_t			 left;
	uint32_t		 reqlen;
	char			*code;
	const struct expect	*e;
	const char		*want = NULL;
	int			 status, error, echo = 0;

	if (p->ended)
		abort();	/* a reply after the last one */
	fuzz_header(p);
	if (!p->busy && (p->header == HDR_MORE || p->header == HDR_BAD))
		abort();	/* a reply before a whole, good PROXY header */
	h = p->sent + p->answered;
	left = p->nsent - p->answered;
	if (proto_response_parse(body, len, 0, &m) != PROTO_OK)
		abort();
	if (p->busy) {
		want = proto_errname(PROTO_EBUSY);
		p->ended = 1;
	} else {
		status = proto_frame_decode(h, left, s->max_frame, &reqlen);
		if (status == PROTO_FRAME_NEED_MORE)
			abort();	/* no whole request to answer */
		if (status == PROTO_FRAME_TOO_LARGE) {
			want = proto_errname(PROTO_ETOOLARGE);
			p->ended = 1;
		} else if ((error = proto_request_parse((const char *)h +
		    PROTO_HEADER_SIZE, reqlen, s->max_depth, &req)) !=
		    PROTO_OK)
			want = proto_errname(error);
		else if ((e = fuzz_expect(req.name)) == NULL)
			want = proto_errname(PROTO_EMETHOD);
		else if (e->kind == EXPECT_ERROR)
			want = e->code;
		else
			echo = fuzz_check_result(e, &req, &m);
		p->answered += PROTO_HEADER_SIZE + reqlen;
	}
	if (want != NULL) {
		code = fuzz_error_code(&m);
		if (strcmp(m.name, "error") != 0 || code == NULL ||
		    strcmp(code, want) != 0)
			abort();
		free(code);
	}
	if (!echo && len > FUZZ_REPLY_MAX)
		abort();	/* the bound of fuzz_check_bounds() */
	p->replies++;
}

/*
 * Read what has come on the socket: the bytes read, 0 at its end or on an
 * error, -1 if nothing is waiting.
 */
static ssize_t
fuzz_sock_read(int fd, void *buf, size_t size)
{
	ssize_t	r;

	while ((r = read(fd, buf, size)) == -1 && errno == EINTR)
		;
	if (r == -1 && errno == EAGAIN)
		return (-1);
	return (r < 0 ? 0 : r);
}

/* Read what the server sent, as it comes. */
static void
fuzz_recv(struct peer *p)
{
	unsigned char	buf[16384];
	ssize_t		r;

	while (!p->eof && (r = fuzz_sock_read(p->fd, buf, sizeof buf)) != -1) {
		if (r == 0)
			p->eof = 1;
		else {
			fuzz_append(&p->recv, &p->nrecv, &p->recvsize, buf, r);
			p->received += r;
		}
	}
}

#ifdef HAVE_TLS
/*
 * Move the client's ciphertext to the socket, what the kernel takes; the
 * rest waits for the next call.  A half-close waits for it all.
 */
static void
fuzz_tls_push(struct peer *p)
{
	unsigned char	buf[16384];
	ssize_t		w;
	int		n;

	while ((n = BIO_read(p->wbio, buf, sizeof buf)) > 0)
		fuzz_append(&p->cipher, &p->ncipher, &p->ciphersize, buf, n);
	while (p->ncipher > 0) {
		w = send(p->fd, p->cipher, p->ncipher, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			return;
		if (w == -1)
			p->ncipher = 0;	/* the server has closed */
		else {
			memmove(p->cipher, p->cipher + w, p->ncipher - w);
			p->ncipher -= w;
			p->pushed += w;
		}
	}
	if (p->shut_pending) {
		shutdown(p->fd, SHUT_WR);
		p->shut_pending = 0;
	}
}

/* Move the server's ciphertext from the socket to the client. */
static void
fuzz_tls_pull(struct peer *p)
{
	unsigned char	buf[16384];
	ssize_t		r;

	while (!p->sock_eof &&
	    (r = fuzz_sock_read(p->fd, buf, sizeof buf)) != -1) {
		if (r == 0) {
			p->sock_eof = 1;
			BIO_set_mem_eof_return(p->rbio, 0);
		} else if (BIO_write(p->rbio, buf, r) != r)
			abort();
	}
}

/*
 * Read the application data the server sent.  Its close_notify, the end
 * of the socket or a TLS error is the end.
 */
static void
fuzz_tls_read(struct peer *p)
{
	unsigned char	buf[16384];
	int		n;

	fuzz_tls_pull(p);
	while (!p->eof) {
		ERR_clear_error();
		if ((n = SSL_read(p->ssl, buf, sizeof buf)) > 0) {
			fuzz_append(&p->recv, &p->nrecv, &p->recvsize, buf, n);
			p->received += n;
		} else if (SSL_get_error(p->ssl, n) == SSL_ERROR_WANT_READ)
			break;
		else
			p->eof = 1;
	}
	ERR_clear_error();
	fuzz_tls_push(p);
}
#endif

/* Read what the server sent and check each whole reply. */
static void
fuzz_read(struct peer *p)
{
	size_t		off = 0;
	uint32_t	body;
	int		status;

#ifdef HAVE_TLS
	if (p->ssl != NULL)
		fuzz_tls_read(p);
	else
#endif
		fuzz_recv(p);
	if (p->front == FRONT_TLS_RAW) {
		p->nrecv = 0;	/* TLS records, not frames */
		return;
	}
	/* No reply is larger than the largest params, or FUZZ_REPLY_MAX. */
	while ((status = proto_frame_decode(p->recv + off, p->nrecv - off,
	    fuzz_settings.max_frame + FUZZ_REPLY_MAX, &body)) ==
	    PROTO_FRAME_COMPLETE) {
		fuzz_check_reply(p, (char *)p->recv + off + PROTO_HEADER_SIZE,
		    body);
		off += PROTO_HEADER_SIZE + body;
	}
	if (status == PROTO_FRAME_TOO_LARGE)
		abort();
	memmove(p->recv, p->recv + off, p->nrecv - off);
	p->nrecv -= off;
}

/*
 * The bounds of a connection's buffers.  The input holds at most a frame
 * and what one more read brought.  The output holds at most --max-output
 * and one round of replies (conn.c answers up to RPCD_FRAMES_PER_EVENT
 * frames, then pauses reading if the output is over): pongs as large as
 * the input they echo, and other replies of at most FUZZ_REPLY_MAX bytes;
 * and the replies of the calls kept behind one not answered yet, which
 * come in at once when it is.  Those are at most --max-inflight, one
 * reply each (call.c).
 */
static void
fuzz_check_bounds(void)
{
	const struct settings	*s = &fuzz_settings;
	struct conn		*c;
	struct call		*call;
	struct evbuffer		*out;
	size_t			 in_max, out_max, reply_max, unsent;
	int			 n;

	in_max = PROTO_HEADER_SIZE + s->max_frame + RPCD_READ_SIZE +
	    RPCD_BEV_READ * 4;
	reply_max = s->max_frame + FUZZ_REPLY_MAX;
	out_max = s->max_output + in_max +
	    (size_t)RPCD_FRAMES_PER_EVENT * FUZZ_REPLY_MAX +
	    (size_t)s->max_inflight * reply_max;
	TAILQ_FOREACH(c, &fuzz_srv.conns, entry) {
		/* The replies not sent, and what the kernel refused. */
		out = bufferevent_get_output(c->bev);
		unsent = evbuffer_get_length(out);
		if (c->out != out)
			unsent += evbuffer_get_length(c->out);
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) > in_max || unsent > out_max)
			abort();
		n = 0;
		TAILQ_FOREACH(call, &c->calls, entry) {
			if (call->out != NULL &&
			    evbuffer_get_length(call->out) > reply_max)
				abort();
			n++;
		}
		if (n != c->ncalls || n > s->max_inflight)
			abort();
	}
}

/*
 * Requests sent and not answered: whole frames, and a header over
 * --max-frame, which is answered too.
 */
static int
fuzz_unanswered(const struct peer *p)
{
	size_t		off = p->answered;
	uint32_t	body;
	int		n = 0, status;

	if (p->header == HDR_MORE || p->header == HDR_BAD)
		return (0);	/* closed without a reply */
	while ((status = proto_frame_decode(p->sent + off, p->nsent - off,
	    fuzz_settings.max_frame, &body)) == PROTO_FRAME_COMPLETE) {
		off += PROTO_HEADER_SIZE + body;
		n++;
	}
	/*
	 * The first bytes of a TLS record, or of a frame: conn.c waits.
	 * Inside TLS it does not look.
	 */
	if (status == PROTO_FRAME_TOO_LARGE && off == p->start &&
	    p->nsent - off < 6 && p->sent[off] == 0x16 &&
	    p->sent[off + 1] == 0x03 && p->front != FRONT_TLS)
		return (n);
	return (n + (status == PROTO_FRAME_TOO_LARGE));
}

/*
 * Is the first request not answered one the module may keep?  The server
 * cancels such a call at the end, and sends no reply of those after it.
 */
static int
fuzz_first_kept(const struct peer *p)
{
	struct proto_message	 req;
	const struct expect	*e;
	uint32_t		 body;

	if (proto_frame_decode(p->sent + p->answered, p->nsent - p->answered,
	    fuzz_settings.max_frame, &body) != PROTO_FRAME_COMPLETE ||
	    proto_request_parse((const char *)p->sent + p->answered +
	    PROTO_HEADER_SIZE, body, fuzz_settings.max_depth, &req) !=
	    PROTO_OK)
		return (0);
	return ((e = fuzz_expect(req.name)) != NULL && e->may != NULL);
}

/*
 * Has a short timer expired, in this run?  Any of them: the busy peer's
 * connection may have held the only slot.
 */
static int
fuzz_expired(void)
{
	return (fuzz_stats->timeouts > 0 ||
	    fuzz_stats->tls_handshake_failures > 0);
}

/*
 * After the peer's half-close, has the server answered every request and
 * closed?  It may stop early for a reason: a frame too large, a foreign
 * protocol (closed with no reply and an error counted), a drain, replies
 * left unread (small buffers fill while a round is answered), a short
 * timer that expired, or a call the module kept.  Raw bytes to a TLS
 * listener get no frames.
 */
static int
fuzz_finished(const struct peer *p, const struct stats_slot *before)
{
	const struct stats_slot	*now = fuzz_stats;

	if (!p->eof)
		return (0);
	if (p->ended || fuzz_srv.draining || p->small ||
	    p->front == FRONT_TLS_RAW ||
	    (p->replies == 0 && now->errors > before->errors) ||
	    fuzz_expired())
		return (1);
	return (fuzz_unanswered(p) == 0 || fuzz_first_kept(p));
}

/*
 * Is a call offloaded to the pool whose work is due within FUZZ_WORK_MS
 * still there?  Its params say how long the test module works.
 */
static int
fuzz_pool_due(void)
{
	struct conn	*c;
	struct call	*call;
	const char	*value;
	size_t		 len;
	int		 ms;

	TAILQ_FOREACH(c, &fuzz_srv.conns, entry) {
		TAILQ_FOREACH(call, &c->calls, entry) {
			if (atomic_load(&call->state) != CALL_WORKING)
				continue;
			ms = fuzz_later_params(call->params, call->params_len,
			    &value, &len);
			if (ms <= FUZZ_WORK_MS)
				return (1);
		}
	}
	return (0);
}

/*
 * Wait for the pool to answer the work due, as a client waits for its
 * replies: the loop sleeps until the pool's pipe wakes it, or the time the
 * run has left for this (work queued behind longer work may not come).
 */
static void
fuzz_pool_wait(void)
{
	struct timeval	tv;
	double		start;
	int		i;

	while (fuzz_pool_left > 0 && fuzz_pool_due()) {
		tv.tv_sec = 0;
		tv.tv_usec = fuzz_pool_left * 1e6;
		start = time_monotonic();
		evtimer_add(fuzz_wait_ev, &tv);
		event_base_loop(fuzz_base, EVLOOP_ONCE);
		evtimer_del(fuzz_wait_ev);
		for (i = 0; i < FUZZ_PASSES; i++)
			event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
		fuzz_pool_left -= time_monotonic() - start;
	}
}

/* Let the loop run what is ready, and the pool the work due. */
static void
fuzz_step(void)
{
	int	i;

	for (i = 0; i < FUZZ_PASSES; i++)
		event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	fuzz_pool_wait();
	fuzz_check_bounds();
}

/*
 * The deadlines of the calls kept pass (--call-timeout, a method's
 * timeout_ms), at once: each is answered timeout and cancelled.
 */
static void
fuzz_deadlines(void)
{
	struct conn	*c;
	struct call	*call;

	TAILQ_FOREACH(c, &fuzz_srv.conns, entry) {
		TAILQ_FOREACH(call, &c->calls, entry) {
			if (call->timer != NULL &&
			    evtimer_pending(call->timer, NULL))
				event_active(call->timer, EV_TIMEOUT, 1);
		}
	}
}

/*
 * Does a connection wait for calls kept: to close (a frame too large
 * behind them), or to read again (--max-inflight of them)?  Only their
 * deadlines end the wait then, and a peer that half-closed meanwhile is
 * heard of only once the connection reads again.
 */
static int
fuzz_closing_waits(void)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &fuzz_srv.conns, entry) {
		if ((c->state == CONN_CLOSING || c->state == CONN_CLOSING_LINGER ||
		    c->calls_full) && c->ncalls > 0)
			return (1);
	}
	return (0);
}

/* Is ev the deadline of a call of a connection? */
static int
fuzz_is_deadline(const struct event *ev)
{
	struct conn	*c;
	struct call	*call;

	TAILQ_FOREACH(c, &fuzz_srv.conns, entry) {
		TAILQ_FOREACH(call, &c->calls, entry) {
			if (call->timer == ev)
				return (1);
		}
	}
	return (0);
}

struct fuzz_timers {
	struct event	*ev[FUZZ_TIMERS_MAX];
	int		 n;
};

/* Collect the module's timers: pending, with no descriptor, not ours. */
static int
fuzz_timer_collect(const struct event_base *base, const struct event *ev,
    void *arg)
{
	struct fuzz_timers	*t = arg;

	if (event_get_fd(ev) != -1 ||
	    (event_get_events(ev) & (EV_READ | EV_WRITE | EV_SIGNAL)) != 0 ||
	    event_get_callback(ev) == fuzz_timer_cb ||
	    ev == fuzz_srv.resume_ev || ev == fuzz_srv.full_ev ||
	    !event_pending(ev, EV_TIMEOUT, NULL) || fuzz_is_deadline(ev))
		return (0);
	/* The walk hands out const pointers; activated after it ends. */
	t->ev[t->n++] = (struct event *)(uintptr_t)ev;
	return (t->n == FUZZ_TIMERS_MAX);
}

/*
 * The timers of the test module fire at once, as if their time had come:
 * later's replies, those of calls already cancelled too.  Collected
 * first: a callback must not change the base while it is walked.
 */
static void
fuzz_module_timers(void)
{
	struct fuzz_timers	t;
	int			i;

	t.n = 0;
	event_base_foreach_event(fuzz_base, fuzz_timer_collect, &t);
	for (i = 0; i < t.n; i++)
		event_active(t.ev[i], EV_TIMEOUT, 1);
}

/*
 * Write a chunk.  A server that stops reading is waited for as a client
 * would, reading replies meanwhile; one that still takes nothing, or has
 * closed, leaves the rest unsent.
 */
static void
fuzz_write(struct peer *p, const unsigned char *data, size_t n)
{
	ssize_t	w;
	int	tries = 0;

#ifdef HAVE_TLS
	/*
	 * The client takes it all; its ciphertext goes as the kernel takes
	 * it, waited for in the same way, and the rest with the next calls.
	 */
	if (p->ssl != NULL) {
		ERR_clear_error();
		if (n == 0 || p->wr_shut || SSL_write(p->ssl, data, n) <= 0) {
			ERR_clear_error();
			return;
		}
		fuzz_append(&p->sent, &p->nsent, &p->sentsize, data, n);
		fuzz_tls_push(p);
		while (p->ncipher > 0 && tries++ < FUZZ_WRITE_TRIES) {
			fuzz_step();
			fuzz_read(p);
		}
		return;
	}
#endif
	while (n > 0 && !p->wr_shut && tries < FUZZ_WRITE_TRIES) {
		w = send(p->fd, data, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EAGAIN) {
			fuzz_step();
			fuzz_read(p);
			tries++;
			continue;
		}
		if (w == -1)
			break;		/* the server has closed */
		fuzz_append(&p->sent, &p->nsent, &p->sentsize, data, w);
		p->pushed += w;
		data += w;
		n -= w;
	}
}

/*
 * Half-close.  A TLS client sends close_notify first, unless told to end
 * as a peer that vanishes does.
 */
static void
fuzz_shutdown(struct peer *p, int dirty)
{
	if (p->wr_shut)
		return;
	p->wr_shut = 1;
#ifdef HAVE_TLS
	if (p->ssl != NULL) {
		if (!dirty) {
			ERR_clear_error();
			SSL_shutdown(p->ssl);
			ERR_clear_error();
		}
		p->shut_pending = 1;
		fuzz_tls_push(p);
		return;
	}
#endif
	shutdown(p->fd, SHUT_WR);
}

/* Begin a graceful shutdown, as worker.c does on SIGTERM. */
static void
fuzz_drain(void)
{
	struct conn	*c, *next;

	if (fuzz_srv.draining)
		return;
	fuzz_srv.draining = 1;
	for (c = TAILQ_FIRST(&fuzz_srv.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_drain(c);
	}
}

static void
fuzz_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		abort();
}

#ifdef HAVE_TLS
/*
 * Make p a TLS client on memory BIOs and complete a handshake, stepping
 * the server.  It cannot fail unless the server's handshake deadline is
 * one of the short timers.
 */
static void
fuzz_tls_connect(struct peer *p)
{
	int	i, r;

	p->ciphersize = 4096;
	if ((p->cipher = malloc(p->ciphersize)) == NULL ||
	    (p->ssl = SSL_new(fuzz_client_ctx)) == NULL ||
	    (p->rbio = BIO_new(BIO_s_mem())) == NULL ||
	    (p->wbio = BIO_new(BIO_s_mem())) == NULL)
		abort();
	SSL_set_bio(p->ssl, p->rbio, p->wbio);
	SSL_set_connect_state(p->ssl);
	for (i = 0; i < FUZZ_HANDSHAKE_STEPS; i++) {
		ERR_clear_error();
		r = SSL_do_handshake(p->ssl);
		fuzz_tls_push(p);
		if (r == 1)
			return;
		if (SSL_get_error(p->ssl, r) != SSL_ERROR_WANT_READ)
			break;
		fuzz_step();
		fuzz_tls_pull(p);
	}
	ERR_clear_error();
	if (!fuzz_timers)
		abort();	/* the server failed a client it must take */
}
#endif

/*
 * Connect a peer and have the server accept its other end, as the
 * listener of its front end would: a socket pair, or a loopback TCP
 * connection.
 */
static void
fuzz_connect(struct peer *p, int tcp, int small, int front)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	 sun;
	socklen_t		 len = sizeof ss;
	int			 sv[2], size = FUZZ_SMALL_BUF;

	memset(p, 0, sizeof *p);
	/* Never NULL: an offset from a null pointer is undefined. */
	p->sentsize = p->recvsize = 4096;
	if ((p->sent = malloc(p->sentsize)) == NULL ||
	    (p->recv = malloc(p->recvsize)) == NULL)
		abort();
	if (tcp) {
		if ((p->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    getsockname(fuzz_tcp_fd, (struct sockaddr *)&ss,
		    &len) == -1 ||
		    connect(p->fd, (struct sockaddr *)&ss, len) == -1)
			abort();
		len = sizeof ss;
		if ((sv[0] = accept(fuzz_tcp_fd, (struct sockaddr *)&ss,
		    &len)) == -1)
			abort();
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			abort();
		p->fd = sv[1];
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		memcpy(&ss, &sun, sizeof sun);
	}
	if ((p->small = small)) {
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
		setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	}
	fuzz_nonblock(sv[0]);
	fuzz_nonblock(p->fd);
	p->front = front;
	p->header = front == FRONT_PROXY ? HDR_MORE : HDR_NONE;
	fuzz_srv.accepted(&fuzz_srv, front == FRONT_TLS_RAW && fuzz_proxied ?
	    &fuzz_tls_proxy : &fuzz_listeners[front == FRONT_TLS_RAW ?
	    FRONT_TLS : front], sv[0], (struct sockaddr *)&ss);
#ifdef HAVE_TLS
	if (front == FRONT_TLS)
		fuzz_tls_connect(p);
#endif
}

static void
fuzz_peer_free(struct peer *p)
{
#ifdef HAVE_TLS
	SSL_free(p->ssl);
	free(p->cipher);
#endif
	close(p->fd);
	free(p->sent);
	free(p->recv);
}

/*
 * Settings from the input's first two bytes, over rpcd's defaults; return
 * the front end they choose.
 */
static int
fuzz_configure(const uint8_t *b)
{
	static const uint32_t	frames[] = { 64, 1024, 8192, 1 << 20 };
	static const size_t	outputs[] = { 1024, 4096, 65536, 1 << 20 };
	static const unsigned	depths[] = { 0, 1, 3, PROTO_DEPTH_MAX };
	struct settings		*s = &fuzz_settings;

	*s = fuzz_defaults;
	s->max_frame = frames[b[0] & 3];
	s->max_output = outputs[b[0] >> 2 & 3];
	s->max_conns = b[0] & 0x40 ? 1 : fuzz_defaults.max_conns;
	if (depths[b[1] >> 1 & 3] != 0)
		s->max_depth = depths[b[1] >> 1 & 3];
	s->verbose = b[1] & 1;
	log_init(1, config_log_level(s), "rpcd");
	/* Timeouts of a day are set but never reached: runs stay exact. */
	s->idle_timeout = s->frame_timeout = b[1] & 8 ? 86400 : 0;
	/* A frame timeout within the idle one moves the read deadline. */
	if (b[0] & 0x80 && s->frame_timeout != 0)
		s->frame_timeout = 3600;
	/* Or short timers, which OP_WAIT lets expire. */
	fuzz_timers = (b[1] & 0x40) != 0;
	fuzz_proxied = (b[1] & 0x80) != 0;

	server_init(&fuzz_srv, fuzz_base, s, fuzz_stats);
	/* Small, so that replies are also sent before the end of a pass. */
	fuzz_srv.held_max = RPCD_BEV_READ;
	fuzz_srv.idle_timeout = fuzz_timers ? fuzz_short :
	    s->idle_timeout ? fuzz_idle : NULL;
	fuzz_srv.handshake_timeout = fuzz_timers ? fuzz_short : fuzz_idle;
	memset(fuzz_stats, 0, sizeof *fuzz_stats);
	fuzz_pool_left = FUZZ_POOL_MS / 1e3;
#ifdef HAVE_TLS
	return (b[1] >> 4 & 3);
#else
	return (b[1] >> 4 & 3) == FRONT_PROXY ? FRONT_PROXY : FRONT_PLAIN;
#endif
}

#ifdef HAVE_TLS
/*
 * Write a key and a certificate for it, self-signed and valid from an
 * hour ago for a day: made at each start, so that none expires.
 */
static void
fuzz_tls_files(const char *cert, const char *key)
{
	EVP_PKEY_CTX	*pctx;
	EVP_PKEY	*pkey = NULL;
	X509		*x;
	X509_NAME	*name;
	FILE		*f;

	if ((pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pctx,
	    NID_X9_62_prime256v1) <= 0 ||
	    EVP_PKEY_keygen(pctx, &pkey) <= 0 || (x = X509_new()) == NULL)
		abort();
	EVP_PKEY_CTX_free(pctx);
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    !X509_set_pubkey(x, pkey) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    X509_sign(x, pkey, EVP_sha256()) == 0)
		abort();
	if ((f = fopen(cert, "w")) == NULL || !PEM_write_X509(f, x) ||
	    fclose(f) != 0)
		abort();
	if ((f = fopen(key, "w")) == NULL ||
	    !PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f) != 0)
		abort();
	X509_free(x);
	EVP_PKEY_free(pkey);
}

/*
 * Give rpcd a TLS listener's certificates, as tls_init() reads them at
 * startup, and the client its SSL_CTX.  The files go once read.
 */
static void
fuzz_tls_init(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		 dir[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];

	snprintf(dir, sizeof dir, "%s/fuzz_conn.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	fuzz_tls_files(cert, key);
	free(fuzz_defaults.tls_cert);
	free(fuzz_defaults.tls_key);
	if ((fuzz_defaults.tls_cert = strdup(cert)) == NULL ||
	    (fuzz_defaults.tls_key = strdup(key)) == NULL)
		abort();
	fuzz_defaults.listen_flags[0] |= LISTEN_TLS;
	if (tls_init(&fuzz_defaults) != 0)
		abort();
	unlink(cert);
	unlink(key);
	rmdir(dir);
	if ((fuzz_client_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		abort();
	SSL_CTX_set_verify(fuzz_client_ctx, SSL_VERIFY_NONE, NULL);
}
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char		 a0[] = "rpcd", a1[] = "-f", a2[] = "/dev/null";
	/*
	 * Only the methods that fuzz_expects knows: none crashes or blocks
	 * the loop.
	 */
	static char		 a3[] = "-m";
	static char		 a4[] = FUZZ_TESTMOD " only=echo,badjson,"
				    "fail,silent,hold,release,later,later_nc,"
				    "deadline,work,work_deadline";
	static char		*args[] = { a0, a1, a2, a3, a4, NULL };
	struct sockaddr_in	 sin;
	struct timeval		 day = { 86400, 0 };
	struct timeval		 brief = { 0, FUZZ_SHORT_MS * 1000 };
	struct listener		*l;
	int			 i;

	signal(SIGPIPE, SIG_IGN);
	/* As rpcd.c's main() does, and worker_run(). */
	dispatch_init();
	config_init(5, args, &fuzz_defaults,
	    listener_reuseport_option() != -1);
	module_load_all(&fuzz_defaults);
	daemon_pid = getpid();
	daemon_started = time(NULL);
	if ((fuzz_base = event_base_new()) == NULL ||
	    (fuzz_idle = event_base_init_common_timeout(fuzz_base,
	    &day)) == NULL ||
	    (fuzz_short = event_base_init_common_timeout(fuzz_base,
	    &brief)) == NULL)
		abort();
	fuzz_stats = stats_region_create(1, 1);
	fuzz_stats->pid = daemon_pid;
	fuzz_wait_ev = evtimer_new(fuzz_base, fuzz_timer_cb, NULL);
	/*
	 * As worker_run() does; the pool lives as long as the process, and
	 * counts its queue in fuzz_stats.  Each run makes fuzz_srv anew.
	 */
	fuzz_defaults.offload_threads = FUZZ_THREADS;
	server_init(&fuzz_srv, fuzz_base, &fuzz_defaults, fuzz_stats);
	module_worker_init(&fuzz_srv);
	server_free(&fuzz_srv);
	for (i = 0; i < FRONT_NUM; i++) {
		l = &fuzz_listeners[i];
		l->fd = -1;
		snprintf(l->addr.text, sizeof l->addr.text, "unix:fuzz");
		l->transport = &transport_plain;
		l->srv = &fuzz_srv;
	}
	fuzz_listeners[FRONT_PROXY].flags = LISTEN_PROXY;
#ifdef HAVE_TLS
	fuzz_tls_init();
	fuzz_listeners[FRONT_TLS].flags = LISTEN_TLS;
	fuzz_listeners[FRONT_TLS].transport = &transport_tls;
	fuzz_tls_proxy = fuzz_listeners[FRONT_TLS];
	fuzz_tls_proxy.flags = LISTEN_TLS | LISTEN_PROXY;
	fuzz_tls_proxy.transport = &transport_tls_proxy;
#endif

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fuzz_tcp_fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fuzz_tcp_fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fuzz_tcp_fd, 8) == -1)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer		 peer, busy;
	struct linger		 linger;
	struct stats_slot	 before;
	struct timespec		 wait = { 0, FUZZ_SHORT_MS * 2 * 1000000 };
	const uint8_t		*chunk;
	size_t			 i = 2, n, progress;
	int			 front, op, steps, waits = 0, reset = 0;

	if (size < 2)
		return (0);
	front = fuzz_configure(data);
	fuzz_connect(&peer, data[0] & 0x20, data[0] & 0x10, front);
	if (fuzz_settings.max_conns == 1) {
		/* Busy, also in TLS: the handshake first. */
		fuzz_connect(&busy, 0, 0, front == FRONT_TLS_RAW ? FRONT_TLS :
		    front);
		busy.busy = 1;
		for (steps = 0; steps < FUZZ_END_STEPS && !busy.eof; steps++) {
			fuzz_step();
			fuzz_read(&busy);
		}
		if (!fuzz_timers && (busy.replies != 1 || !busy.eof))
			abort();
		fuzz_peer_free(&busy);
	}
	before = *fuzz_stats;

	while (i < size) {
		op = data[i++] % OP_NOPS;
		switch (op) {
		case OP_WRITE:
		case OP_WRITE_READ:
		case OP_WRITE_ONLY:
			chunk = fuzz_chunk(data, size, &i, &n);
			fuzz_write(&peer, chunk, n);
			if (op != OP_WRITE_ONLY)
				fuzz_step();
			if (op == OP_WRITE_READ)
				fuzz_read(&peer);
			break;
		case OP_READ:
			fuzz_step();
			fuzz_read(&peer);
			break;
		case OP_STEP:
			fuzz_step();
			break;
		case OP_DRAIN:
			fuzz_drain();
			fuzz_step();
			break;
		case OP_SHUTDOWN:
			fuzz_shutdown(&peer, data[1] & 0x80);
			fuzz_step();
			break;
		case OP_RESET:
			linger.l_onoff = 1;
			linger.l_linger = 0;
			setsockopt(peer.fd, SOL_SOCKET, SO_LINGER, &linger,
			    sizeof linger);
			reset = 1;
			i = size;
			break;
		case OP_WAIT:
			/* A few per run: each costs real time. */
			if (fuzz_timers && waits++ < FUZZ_WAITS &&
			    fuzz_srv.nconns > 0)
				nanosleep(&wait, NULL);
			fuzz_step();
			break;
		case OP_DEADLINE:
			fuzz_deadlines();
			fuzz_step();
			break;
		case OP_TIMERS:
			fuzz_module_timers();
			fuzz_step();
			break;
		}
	}

	/*
	 * The end: half-close, take the replies, close; it must go.  Over
	 * TCP with small buffers the replies the server has handed to its
	 * kernel can stall for a while: the peer's window reopens by zero
	 * window probes, whose timer backs off from 200 ms.  So a step that
	 * moved nothing waits a little for bytes there.
	 */
	if (!reset)
		fuzz_shutdown(&peer, data[1] & 0x80);
	for (steps = 0; steps < FUZZ_END_STEPS && !peer.eof && !reset;
	    steps++) {
		progress = peer.received + peer.pushed;
		fuzz_step();
		fuzz_read(&peer);
		if (peer.received + peer.pushed > progress)
			steps = 0;	/* requests or replies are moving */
		else if (fuzz_closing_waits())
			fuzz_deadlines();	/* time passes, as for a client */
		else if (peer.small)
			poll(&(struct pollfd){ peer.fd, POLLIN, 0 }, 1,
			    FUZZ_STALL_MS);
	}
	if (!reset && !fuzz_finished(&peer, &before))
		abort();
	/*
	 * A bad or cut-short PROXY header is counted, once; a good one not.
	 * Unless short timers ran: a header's deadline counts in proxy_errors
	 * too, not in timeouts, whatever came.
	 */
	fuzz_header(&peer);
	if (!reset && peer.header != HDR_NONE &&
	    !fuzz_expired() && !fuzz_timers &&
	    fuzz_stats->proxy_errors - before.proxy_errors !=
	    (peer.header == HDR_BAD || (peer.header == HDR_MORE &&
	    peer.nsent > 0)))
		abort();
	fuzz_peer_free(&peer);
	for (steps = 0; steps < FUZZ_END_STEPS && fuzz_srv.nconns > 0;
	    steps++) {
		/* Not reading, it learns of a reset at their deadlines. */
		if (fuzz_closing_waits())
			fuzz_deadlines();
		fuzz_step();
	}
	if (fuzz_srv.nconns != 0)
		abort();	/* a connection outlived its peer */
	/* Calls later_nc keeps past their cancel go once their timer fires. */
	fuzz_module_timers();
	fuzz_step();
	server_free(&fuzz_srv);
	return (0);
}
