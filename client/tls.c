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
 * TLS for every command: the client SSL_CTX made from --tls, --cacert,
 * --cert, --key and --insecure, the handshake within the timeout, and
 * reads and writes that report as read(2) and send(2) do, so that the
 * callers need not know whether the connection is encrypted.
 */

#include "config.h"

#include <sys/types.h>

#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

#include "rpcctl.h"

#ifdef HAVE_TLS

/* OpenSSL's reason for the last failure, emptying its queue. */
static const char *
client_tls_reason(void)
{
	static char	buf[256];
	unsigned long	e;

	if ((e = ERR_peek_last_error()) == 0)
		snprintf(buf, sizeof buf, "%s", errno != 0 ?
		    strerror(errno) : "connection closed");
	else
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return (buf);
}

/*
 * Make the SSL_CTX of the TLS options: 0, or -1 with the option and file
 * that cannot be used, and why, in err.  Without --insecure the server's
 * certificate must chain to --cacert (else the system's CAs) and name the
 * host connected to.
 */
int
client_tls_init(struct options *opt, char *err, size_t len)
{
	SSL_CTX		*ctx;
	const char	*key;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fatalx("SSL_CTX_new: %s", client_tls_reason());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* bench rewrites from a ring of copies: a record at a time. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (opt->cacert != NULL &&
	    !SSL_CTX_load_verify_locations(ctx, opt->cacert, NULL)) {
		snprintf(err, len, "--cacert %s: %s", opt->cacert,
		    client_tls_reason());
		goto fail;
	}
	if (opt->cacert == NULL && !opt->insecure)
		SSL_CTX_set_default_verify_paths(ctx);
	if (opt->cert != NULL &&
	    !SSL_CTX_use_certificate_chain_file(ctx, opt->cert)) {
		snprintf(err, len, "--cert %s: %s", opt->cert,
		    client_tls_reason());
		goto fail;
	}
	key = opt->key != NULL ? opt->key : opt->cert;
	if (key != NULL && (!SSL_CTX_use_PrivateKey_file(ctx, key,
	    SSL_FILETYPE_PEM) || !SSL_CTX_check_private_key(ctx))) {
		snprintf(err, len, "--key %s: %s", key, client_tls_reason());
		goto fail;
	}
	SSL_CTX_set_verify(ctx, opt->insecure ? SSL_VERIFY_NONE :
	    SSL_VERIFY_PEER, NULL);
	opt->tls_ctx = ctx;
	return (0);
fail:
	SSL_CTX_free(ctx);
	return (-1);
}

/* Is host an IPv4 or IPv6 address, rather than a name? */
static int
client_tls_is_ip(const char *host)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	return (inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1);
}

/*
 * Run the handshake on c's connected socket, checking the certificate
 * against host (NULL: a Unix socket, no name to check), until the
 * deadline.  Return 0, or -1 with why in err; CLIENT_FAILED if poll(2)
 * failed, with why in err.
 */
int
client_tls_start(struct client *c, const char *host, double deadline,
    char *err, size_t len)
{
	SSL		*ssl;
	X509_VERIFY_PARAM *param;
	long		 verify;
	char		 sni[256];
	int		 r, error, ready;

	if ((ssl = SSL_new(c->opt->tls_ctx)) == NULL ||
	    !SSL_set_fd(ssl, c->fd))
		fatalx("SSL_new: %s", client_tls_reason());
	c->ssl = ssl;
	if (host != NULL && !client_tls_is_ip(host)) {
		/* The macro casts its argument to void *: give it no const. */
		snprintf(sni, sizeof sni, "%s", host);
		SSL_set_tlsext_host_name(ssl, sni);
	}
	if (host != NULL && !c->opt->insecure) {
		param = SSL_get0_param(ssl);
		X509_VERIFY_PARAM_set_hostflags(param,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (!(client_tls_is_ip(host) ?
		    X509_VERIFY_PARAM_set1_ip_asc(param, host) :
		    X509_VERIFY_PARAM_set1_host(param, host, 0)))
			fatalx("cannot check the certificate against %s",
			    host);
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_connect(ssl)) == 1)
			return (0);
		error = SSL_get_error(ssl, r);
		if (error != SSL_ERROR_WANT_READ &&
		    error != SSL_ERROR_WANT_WRITE)
			break;
		ready = client_wait(c->fd, error == SSL_ERROR_WANT_READ ?
		    POLLIN : POLLOUT, deadline);
		if (ready == CLIENT_FAILED) {
			snprintf(err, len, "poll: %s", strerror(errno));
			return (CLIENT_FAILED);
		}
		if (ready <= 0) {
			snprintf(err, len, "TLS handshake %s", ready == 0 ?
			    "timed out" : "interrupted");
			return (-1);
		}
	}
	if ((verify = SSL_get_verify_result(ssl)) != X509_V_OK)
		snprintf(err, len, "TLS handshake: %s%s",
		    X509_verify_cert_error_string(verify),
		    verify == X509_V_ERR_HOSTNAME_MISMATCH ||
		    verify == X509_V_ERR_IP_ADDRESS_MISMATCH ?
		    " (--insecure skips the check)" : "");
	else
		snprintf(err, len, "TLS handshake: %s", client_tls_reason());
	ERR_clear_error();
	return (-1);
}

/* Map a failed SSL_read or SSL_write to errno, as read(2) would fail. */
static ssize_t
client_tls_fail(struct client *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			errno = ECONNRESET;
		break;
	default:
		errno = EPROTO;
		break;
	}
	ERR_clear_error();
	return (-1);
}

/*
 * Read up to n decrypted bytes: what read(2) would return.  Every record
 * OpenSSL has already taken off the socket is read out, since poll(2)
 * cannot tell of it.
 */
ssize_t
client_tls_read(struct client *c, void *buf, size_t n)
{
	size_t	got = 0;
	int	r;

	do {
		ERR_clear_error();
		errno = 0;
		r = SSL_read(c->ssl, (char *)buf + got, n - got > INT_MAX ?
		    INT_MAX : (int)(n - got));
		if (r <= 0)
			return (got > 0 ? (ssize_t)got : client_tls_fail(c, r));
		got += r;
	} while (got < n && SSL_pending(c->ssl) > 0);
	return (got);
}

/* Write up to n bytes: what send(2) would return. */
ssize_t
client_tls_write(struct client *c, const void *buf, size_t n)
{
	int	r;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	return (r > 0 ? r : client_tls_fail(c, r));
}

/* Does OpenSSL hold decrypted bytes not read yet? */
int
client_tls_pending(struct client *c)
{
	return (SSL_pending(c->ssl) > 0);
}

/* Free the SSL_CTX of client_tls_init(), if any. */
void
client_tls_free(struct options *opt)
{
	SSL_CTX_free(opt->tls_ctx);
	opt->tls_ctx = NULL;
}

/* Say goodbye with close_notify, without waiting, and free the SSL. */
void
client_tls_close(struct client *c)
{
	SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	c->ssl = NULL;
}

#else /* !HAVE_TLS: --tls is refused, so no connection has an SSL. */

int
client_tls_init(struct options *opt, char *err, size_t len)
{
	snprintf(err, len, "--tls: built without TLS");
	return (-1);
}

int
client_tls_start(struct client *c, const char *host, double deadline,
    char *err, size_t len)
{
	return (-1);
}

ssize_t
client_tls_read(struct client *c, void *buf, size_t n)
{
	return (-1);
}

ssize_t
client_tls_write(struct client *c, const void *buf, size_t n)
{
	return (-1);
}

int
client_tls_pending(struct client *c)
{
	return (0);
}

void
client_tls_close(struct client *c)
{
}

void
client_tls_free(struct options *opt)
{
}

#endif /* HAVE_TLS */
