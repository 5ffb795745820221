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

/* rpcctl: exit statuses, the connection, and the commands. */

#ifndef RPCCTL_H
#define RPCCTL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <getopt.h>
#include <stddef.h>

#include "rpcd/proto.h"

struct json_object;
#include "common.h"

/* Exit statuses, as rpcctl(1) documents them. */
#define EXIT_OK		0	/* success */
#define EXIT_REPLY	1	/* the server answered with an error */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_SERVER	3	/* cannot connect, timed out, bad reply */
#define EXIT_INTERRUPT	130	/* ping, bench, stats -i: SIGINT */

#define RPCCTL_TIMEOUT		5.0		/* seconds */
#define RPCCTL_MAX_FRAME	(64 * 1024 * 1024) /* bytes of reply body */
#define RPCCTL_SERVERS_MAX	16		/* addresses in a -S list */
#define RPCCTL_RETRIES		3		/* --retry: closes with no
						 * reply in a row tolerated */
#define SHELL_HISTORY_FILE	".rpcctl_history" /* in $HOME */
#define SHELL_HISTORY_MAX	1000		/* commands kept */
#define SHELL_METHODS_MAX	1024		/* method names completed */
#define SHELL_LINE_MAX		(16 * 1024 * 1024) /* bytes of a command,
						 * continuation lines too */

/* Where send() cannot be told, connect sets SO_NOSIGPIPE instead. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL		0
#endif

/*
 * The global options: as typed while the command line is read, then made
 * ready to connect by options_finish().
 */
struct options {
	const char	*server_list;	/* -S, else $RPCCTL_SERVER */
	const char	*registry;	/* a zk:// serverset as -S; NULL */
	const char	*host, *port, *sockpath;	/* -H, -p, -s */
	struct addr	servers[RPCCTL_SERVERS_MAX];	/* tried in order */
	char		hosts[RPCCTL_SERVERS_MAX][256];	/* as typed; "": none */
	/* Why a server's name did not resolve; "": it did. */
	char		unresolved[RPCCTL_SERVERS_MAX][128];
	int		nservers;
	double		timeout;
	int		json;
	int		raw;		/* --raw: a string result as is */
	int		shell;		/* replies printed for the shell */
	int		tls;		/* --tls */
	int		insecure;	/* skip the certificate checks */
	const char	*cacert, *cert, *key;
	void		*tls_ctx;	/* SSL_CTX */
	/* -h, --help: print the usage of a command (NULL: rpcctl's). */
	__dead void	(*help)(const char *);
};

/* A member of a serverset in ZooKeeper: its znode's name and its JSON. */
struct member {
	char			 name[256];
	struct json_object	*data;		/* NULL: not a JSON object */
};

/*
 * What the client_* functions return besides 0, a count, and -1 for
 * SIGINT.  net.c and tls.c print nothing and exit never: they say why in
 * an error buffer, and the command decides (command_check()).
 */
#define CLIENT_CLOSED		(-2)	/* client_read(): closed, with retry */
#define CLIENT_FAILED		(-3)	/* the server or the system failed */
#define CLIENT_BADREQUEST	(-4)	/* the request cannot be built */

/* One connection to rpcd and the last reply read on it. */
struct client {
	struct options		*opt;
	char			 server[ADDR_TEXT_MAX]; /* connected to */
	int			 index;	/* its place in opt->servers */
	int			 retry;	/* a close is told, not fatal */
	int			 fd;
	void			*ssl;	/* SSL, with --tls */
	char			*buf;	/* received bytes */
	size_t			 len, size;
	int			 pending; /* requests sent, replies unread */
	int			 eof;	/* the server has closed */
	struct proto_message	 reply;
	const char		*body;
	size_t			 body_len;
	char			 err[1024]; /* why CLIENT_FAILED came */
};

/* options.c */
__dead void	 usage_error(const char *, ...) printflike(1, 2);
__dead void	 server_error(const char *, ...) printflike(1, 2);
int		 command_option(struct options *, const char *, int, char **,
		     const char *, const struct option *);
void		 options_finish(struct options *);
int		 command_check(const char *, int);
void		 command_connect(struct client *, struct options *, int);
int		 command_reconnect(struct client *, struct options *, int);
void		 options_refresh(struct options *);
void		 serverset_check(const char *);
int		 options_parse(struct options *, int, char **);
long long	 option_number(long long, long long);
double		 option_seconds(double, double);

/* wait.c */
int		 client_catch_sigint(void);
int		 client_interrupted(void);
int		 client_wait(int, short, double);
int		 client_pause(double, char *, size_t);

/* net.c */
ssize_t		 client_recv(struct client *, void *, size_t);
ssize_t		 client_send_some(struct client *, const void *, size_t);
int		 client_open(struct client *, struct options *, int,
		     char *, size_t);
int		 client_send_raw(struct client *, const void *, size_t);
int		 client_send(struct client *, const char *, const char *,
		     size_t);
int		 client_read(struct client *);
void		 client_consume(struct client *);
void		 client_close(struct client *);

/* tls.c */
int		 client_tls_init(struct options *, char *, size_t);
int		 client_tls_start(struct client *, const char *, double,
		     char *, size_t);
ssize_t		 client_tls_read(struct client *, void *, size_t);
ssize_t		 client_tls_write(struct client *, const void *, size_t);
int		 client_tls_pending(struct client *);
void		 client_tls_close(struct client *);
void		 client_tls_free(struct options *);

/* commands.c */
int		 cmd_ping(struct options *, int, char **);
int		 cmd_call(struct options *, int, char **);
int		 cmd_stats(struct options *, int, char **);
int		 cmd_methods(struct options *, int, char **);
int		 cmd_batch(struct options *, int, char **);
int		 cmd_members(struct options *, int, char **);
int		 call_print(const struct client *, const char *);
int		 table_print(const struct client *, const char *);

/* shell.c */
int		 shell_run(struct options *);

/* discover.c */
int		 discover_members(const char *, double, struct member **,
		     char *, size_t);
void		 discover_free(struct member *, int);
int		 discover_changed(void);
int		 discover_list(const char *, int, double, char *, size_t,
		     char *, size_t);
struct json_object *member_get(struct json_object *, const char *, int);
int		 member_endpoint(const struct member *, const char *, char *,
		     size_t, char *, size_t);
const char	*member_status(const struct member *);

/* bench.c */
int		 cmd_bench(struct options *, int, char **);

#endif /* RPCCTL_H */
