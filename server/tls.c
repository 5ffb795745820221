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
 *
 * Layer: connection (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

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

/*
 * Write "what file: why" into err, emptying OpenSSL's queue.  A file that
 * cannot be opened leaves its errno in the queue as a system error, under
 * OpenSSL's own "system lib" one: say strerror() of it, which names the
 * problem, and OpenSSL's last reason otherwise.
 */
static void
tls_fail(char *err, size_t len, const char *what, const char *file)
{
	char		reason[256] = "unknown error";
	unsigned long	e, last = 0;
	int		sys = 0;

	while ((e = ERR_get_error()) != 0) {
		if (sys == 0 && ERR_GET_LIB(e) == ERR_LIB_SYS)
			sys = ERR_GET_REASON(e);
		last = e;
	}
	if (sys != 0)
		snprintf(reason, sizeof reason, "%s", strerror(sys));
	else if (last != 0)
		ERR_error_string_n(last, reason, sizeof reason);
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
		log_errorx("TLS: %s", err);
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
 * A TLS listener behind a proxy: the PROXY header comes in clear, before
 * the handshake.  A filter BIO between the SSL and its socket takes it
 * off the stream: it reads until proxy_parse() has the whole header, then
 * gives OpenSSL what came after it, then the socket's bytes as they are.
 * A bad or truncated header fails the read, so the handshake fails, and
 * tls_proxy_header() tells why.
 */
struct tls_proxy {
	unsigned char		*buf;	/* the bytes read so far */
	size_t			 size, len;
	size_t			 off;	/* once parsed: the next byte to give */
	int			 state;	/* PROXY_MORE, PROXY_OK, PROXY_BAD */
	struct proxy_header	 h;
	const char		*why;
};

/* Bytes the filter reads at once while it looks for the header. */
#define TLS_PROXY_READ	512

/* Read from the socket until the header is whole; PROXY_OK once it is. */
static int
tls_proxy_fill(BIO *b, struct tls_proxy *tp)
{
	unsigned char	*p;
	size_t		 size;
	int		 n;

	while (tp->state == PROXY_MORE) {
		if (tp->len == tp->size) {
			/* proxy_parse() decides within PROXY_V2_MAX bytes. */
			size = tp->size + TLS_PROXY_READ;
			if ((p = realloc(tp->buf, size)) == NULL) {
				tp->state = PROXY_BAD;
				tp->why = "out of memory";
				break;
			}
			tp->buf = p;
			tp->size = size;
		}
		n = BIO_read(BIO_next(b), tp->buf + tp->len,
		    tp->size - tp->len);
		if (n <= 0) {
			BIO_copy_next_retry(b);
			if (!BIO_should_retry(b) && tp->len > 0) {
				tp->state = PROXY_BAD;
				tp->why = "truncated";
			}
			return (n);
		}
		tp->len += n;
		tp->state = proxy_parse(tp->buf, tp->len, &tp->h, &tp->why);
		tp->off = tp->h.len;
	}
	return (tp->state == PROXY_OK ? 1 : -1);
}

static int
tls_proxy_read(BIO *b, char *out, int outl)
{
	struct tls_proxy	*tp = BIO_get_data(b);
	size_t			 n;
	int			 r;

	BIO_clear_retry_flags(b);
	if ((r = tls_proxy_fill(b, tp)) != 1)
		return (r);
	if (tp->off < tp->len) {
		n = tp->len - tp->off;
		if (n > (size_t)outl)
			n = outl;
		memcpy(out, tp->buf + tp->off, n);
		tp->off += n;
		return (n);
	}
	r = BIO_read(BIO_next(b), out, outl);
	BIO_copy_next_retry(b);
	return (r);
}

static int
tls_proxy_write(BIO *b, const char *in, int inl)
{
	int	r;

	BIO_clear_retry_flags(b);
	r = BIO_write(BIO_next(b), in, inl);
	BIO_copy_next_retry(b);
	return (r);
}

/* The socket's controls, but for what the filter holds back. */
static long
tls_proxy_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_proxy	*tp = BIO_get_data(b);
	long			 held = 0;

	if (tp->state == PROXY_OK)
		held = tp->len - tp->off;
	if (cmd == BIO_CTRL_PENDING && held > 0)
		return (held);
	return (BIO_ctrl(BIO_next(b), cmd, num, ptr));
}

static int
tls_proxy_create(BIO *b)
{
	struct tls_proxy	*tp;

	if ((tp = calloc(1, sizeof *tp)) == NULL)
		return (0);
	BIO_set_data(b, tp);
	BIO_set_init(b, 1);
	return (1);
}

static int
tls_proxy_destroy(BIO *b)
{
	struct tls_proxy	*tp = BIO_get_data(b);

	if (tp != NULL) {
		free(tp->buf);
		free(tp);
	}
	BIO_set_data(b, NULL);
	return (1);
}

/* The filter's methods, made once. */
static BIO_METHOD *
tls_proxy_method(void)
{
	static BIO_METHOD	*m;

	if (m == NULL &&
	    (m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER,
	    "rpcd PROXY header")) != NULL) {
		BIO_meth_set_read(m, tls_proxy_read);
		BIO_meth_set_write(m, tls_proxy_write);
		BIO_meth_set_ctrl(m, tls_proxy_ctrl);
		BIO_meth_set_create(m, tls_proxy_create);
		BIO_meth_set_destroy(m, tls_proxy_destroy);
	}
	return (m);
}

/* An SSL for a connection on fd whose PROXY header comes first. */
SSL *
tls_ssl_new_proxied(int fd)
{
	BIO_METHOD	*m;
	BIO		*filter, *sock;
	SSL		*ssl;

	if ((m = tls_proxy_method()) == NULL || (ssl = SSL_new(tls_ctx)) == NULL)
		return (NULL);
	if ((filter = BIO_new(m)) == NULL ||
	    (sock = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL) {
		BIO_free(filter);
		SSL_free(ssl);
		return (NULL);
	}
	BIO_push(filter, sock);
	SSL_set_bio(ssl, filter, filter);
	return (ssl);
}

/*
 * The PROXY header of a connection made by tls_ssl_new_proxied(): PROXY_OK
 * with h filled in, PROXY_BAD with why (its handshake failed for it), or
 * PROXY_MORE (none came, or no filter).  Part of one is a bad header,
 * truncated: the handshake ended without the rest.
 */
int
tls_proxy_header(struct bufferevent *bev, struct proxy_header *h,
    const char **why)
{
	SSL			*ssl = bufferevent_openssl_get_ssl(bev);
	BIO			*b = SSL_get_rbio(ssl);
	struct tls_proxy	*tp;

	if (b == NULL || BIO_method_type(b) == BIO_TYPE_SOCKET ||
	    (tp = BIO_get_data(b)) == NULL)
		return (PROXY_MORE);
	*h = tp->h;
	*why = tp->why;
	if (tp->state == PROXY_MORE && tp->len > 0) {
		*why = "truncated";
		return (PROXY_BAD);
	}
	return (tp->state);
}

/* The subject of cert, as RFC 2253 writes it, into id; -1 out of memory. */
static int
tls_identity_subject(X509 *cert, struct identity *id)
{
	BIO	*bio;
	char	*p;
	long	 n;
	int	 error = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (-1);
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_get_mem_data(bio, &p)) >= 0 &&
	    (id->subject = malloc(n + 1)) != NULL) {
		memcpy(id->subject, p, n);
		id->subject[n] = '\0';
		error = 0;
	}
	BIO_free(bio);
	return (error);
}

/* Add the CNs of the subject of cert to id; -1 out of memory. */
static int
tls_identity_cns(X509 *cert, struct identity *id)
{
	X509_NAME	*subject = X509_get_subject_name(cert);
	unsigned char	*utf8;
	int		 i = -1, n, error;

	while (subject != NULL && (i = X509_NAME_get_index_by_NID(subject,
	    NID_commonName, i)) >= 0) {
		n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subject, i)));
		if (n < 0)
			continue;	/* not a string: no name */
		error = identity_add_name(id, IDENTITY_CN, (char *)utf8, n);
		OPENSSL_free(utf8);
		if (error != 0)
			return (-1);
	}
	return (0);
}

/* Add the DNS, email and URI names of cert's subjectAltName to id. */
static int
tls_identity_sans(X509 *cert, struct identity *id)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	const ASN1_IA5STRING	*str;
	int			 i, kind, error = 0;

	if ((sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
	    NULL)) == NULL)
		return (0);
	for (i = 0; i < sk_GENERAL_NAME_num(sans) && error == 0; i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		switch (gn->type) {
		case GEN_DNS:
			kind = IDENTITY_DNS;
			str = gn->d.dNSName;
			break;
		case GEN_EMAIL:
			kind = IDENTITY_EMAIL;
			str = gn->d.rfc822Name;
			break;
		case GEN_URI:
			kind = IDENTITY_URI;
			str = gn->d.uniformResourceIdentifier;
			break;
		default:
			continue;
		}
		error = identity_add_name(id, kind,
		    (const char *)ASN1_STRING_get0_data(str),
		    ASN1_STRING_length(str));
	}
	GENERAL_NAMES_free(sans);
	return (error);
}

/* The client's certificate, if it sent one and it was verified; or NULL. */
static X509 *
tls_peer_cert(struct bufferevent *bev)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return (NULL);
	return (SSL_get_peer_certificate(ssl));
}

/*
 * Add the names of the connection's verified client certificate to id:
 * its subject's CN, its subjectAltName's DNS, email and URI entries.
 * Return -1 out of memory.
 */
int
tls_identity(struct bufferevent *bev, struct identity *id)
{
	X509	*cert;
	int	 error;

	if ((cert = tls_peer_cert(bev)) == NULL)
		return (0);
	error = tls_identity_cns(cert, id);
	if (error == 0)
		error = tls_identity_sans(cert, id);
	X509_free(cert);
	return (error);
}

/*
 * The subject of the connection's verified client certificate, into id:
 * for a module's caller() only, not worked out at every open and close.
 * Return -1 out of memory.
 */
int
tls_subject(struct bufferevent *bev, struct identity *id)
{
	X509	*cert;
	int	 error;

	if ((cert = tls_peer_cert(bev)) == NULL)
		return (0);
	error = tls_identity_subject(cert, id);
	X509_free(cert);
	return (error);
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

int
tls_proxy_header(struct bufferevent *bev, struct proxy_header *h,
    const char **why)
{
	return (PROXY_MORE);
}

int
tls_identity(struct bufferevent *bev, struct identity *id)
{
	return (0);
}

int
tls_subject(struct bufferevent *bev, struct identity *id)
{
	return (0);
}

#endif /* HAVE_TLS */
