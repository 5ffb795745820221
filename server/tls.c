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
 * TLS: the server's SSL_CTX, made from the settings before any fork or
 * privilege drop and made again on SIGHUP.  Every TLS listener shares the
 * current one; a connection's SSL holds a reference to the SSL_CTX it was
 * made from, so connections opened on the old certificates keep them.
 * A reload that fails keeps the current SSL_CTX and logs why.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#endif

#include "rpcd.h"

#ifdef HAVE_TLS

static SSL_CTX	*tls_ctx;	/* the current certificates */
static SSL_CTX	*tls_ctx_old;	/* the old generation's, until committed */

/* Does any listener of s speak TLS? */
static int
tls_wanted(const struct settings *s)
{
	int	i;

	for (i = 0; i < s->nlisten; i++) {
		if (s->listen_flags[i] & LISTEN_TLS)
			return (1);
	}
	return (0);
}

/* Write "what: OpenSSL's reason" into err, emptying OpenSSL's queue. */
static void
tls_fail(char *err, size_t len, const char *what, const char *file)
{
	char		reason[256] = "unknown error";
	unsigned long	e;

	if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, reason, sizeof reason);
	ERR_clear_error();
	snprintf(err, len, "%s%s%s: %s", what, file != NULL ? " " : "",
	    file != NULL ? file : "", reason);
}

/* The SSL_CTX the TLS settings of s describe; NULL with why in err. */
static SSL_CTX *
tls_ctx_new(const struct settings *s, char *err, size_t len)
{
	STACK_OF(X509_NAME)	*names = NULL;
	SSL_CTX			*ctx;
	const char		*verify = s->tls_verify;
	int			 mode = SSL_VERIFY_NONE;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fail(err, len, "SSL_CTX_new", NULL);
		return (NULL);
	}
	/*
	 * A peer that closes without close_notify has ended the connection,
	 * not attacked it: rpcd frames its own messages.  Renegotiation is
	 * of no use to us and a way to make the server work.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"rpcd", 4);
	if (!SSL_CTX_set_min_proto_version(ctx, s->tls_min_version != NULL &&
	    strcmp(s->tls_min_version, "1.3") == 0 ? TLS1_3_VERSION :
	    TLS1_2_VERSION))
		tls_fail(err, len, "tls-min-version", s->tls_min_version);
	else if (s->tls_ciphers != NULL &&
	    !SSL_CTX_set_cipher_list(ctx, s->tls_ciphers))
		tls_fail(err, len, "tls-ciphers", s->tls_ciphers);
	else if (s->tls_ciphersuites != NULL &&
	    !SSL_CTX_set_ciphersuites(ctx, s->tls_ciphersuites))
		tls_fail(err, len, "tls-ciphersuites", s->tls_ciphersuites);
	else if (!SSL_CTX_use_certificate_chain_file(ctx, s->tls_cert))
		tls_fail(err, len, "tls-cert", s->tls_cert);
	else if (!SSL_CTX_use_PrivateKey_file(ctx, s->tls_key,
	    SSL_FILETYPE_PEM))
		tls_fail(err, len, "tls-key", s->tls_key);
	else if (!SSL_CTX_check_private_key(ctx))
		tls_fail(err, len, "tls-key", s->tls_key);
	else if (s->tls_ca != NULL &&
	    (!SSL_CTX_load_verify_locations(ctx, s->tls_ca, NULL) ||
	    (names = SSL_load_client_CA_file(s->tls_ca)) == NULL))
		tls_fail(err, len, "tls-ca", s->tls_ca);
	else {
		if (s->tls_ca != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
		if (verify != NULL && strcmp(verify, "optional") == 0)
			mode = SSL_VERIFY_PEER;
		else if (verify != NULL && strcmp(verify, "require") == 0)
			mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
		SSL_CTX_set_verify(ctx, mode, NULL);
		return (ctx);
	}
	SSL_CTX_free(ctx);
	return (NULL);
}

/*
 * Read the certificates if a listener speaks TLS: at startup, before
 * privileges are dropped.  Return -1 after saying why they cannot be used.
 */
int
tls_init(const struct settings *s)
{
	char	err[1024];

	if (!tls_wanted(s))
		return (0);
	if ((tls_ctx = tls_ctx_new(s, err, sizeof err)) == NULL) {
		log_warnx("TLS: %s", err);
		return (-1);
	}
	return (0);
}

/*
 * SIGHUP: read the certificates again; on failure keep the current ones
 * and log why.  Return -1 if they were kept.  The ones replaced are kept
 * too, until tls_commit() or tls_rollback().
 */
int
tls_reload(const struct settings *s)
{
	SSL_CTX	*ctx;
	char	 err[1024];

	if (tls_ctx == NULL)
		return (0);
	if ((ctx = tls_ctx_new(s, err, sizeof err)) == NULL) {
		log_warnx("SIGHUP: TLS: %s; keeping the certificates in use",
		    err);
		return (-1);
	}
	tls_ctx_old = tls_ctx;
	tls_ctx = ctx;
	log_info("SIGHUP: TLS certificates read again");
	return (0);
}

/* The reload is committed: the old generation's certificates can go. */
void
tls_commit(void)
{
	SSL_CTX_free(tls_ctx_old);
	tls_ctx_old = NULL;
}

/* The reload is rolled back: the old generation's certificates again. */
void
tls_rollback(void)
{
	if (tls_ctx_old == NULL)
		return;
	SSL_CTX_free(tls_ctx);
	tls_ctx = tls_ctx_old;
	tls_ctx_old = NULL;
}

/* A new server-side SSL with the current certificates, or NULL. */
SSL *
tls_ssl_new(void)
{
	return (SSL_new(tls_ctx));
}

/*
 * Send close_notify, if the socket takes it now, so that the peer can
 * tell the end of the connection from a truncation.
 */
void
tls_close(struct bufferevent *bev)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);

	ERR_clear_error();
	if (SSL_shutdown(ssl) < 0)
		ERR_clear_error();
}

/* Why a TLS connection failed, for the log. */
const char *
tls_error(struct bufferevent *bev)
{
	static char	buf[256];
	unsigned long	e, first = 0;

	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (first == 0)
			first = e;
	}
	if (first == 0)
		return (errno != 0 ? strerror(errno) : "closed by the peer");
	ERR_error_string_n(first, buf, sizeof buf);
	return (buf);
}

#else /* !HAVE_TLS: config.c refuses every TLS setting. */

int
tls_init(const struct settings *s)
{
	return (0);
}

int
tls_reload(const struct settings *s)
{
	return (0);
}

void
tls_commit(void)
{
}

void
tls_rollback(void)
{
}

const char *
tls_error(struct bufferevent *bev)
{
	return ("built without TLS");
}

void
tls_close(struct bufferevent *bev)
{
}

#endif /* HAVE_TLS */
