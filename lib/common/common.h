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
 * Internal helpers shared by rpcd and rpcctl: logging, listen/connect
 * address syntax, number parsing and allocation, building JSON.  Not
 * installed.
 */

#ifndef RPCD_COMMON_H
#define RPCD_COMMON_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>

struct event_base;
struct json_object;

#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#define printflike(a, b) __attribute__((__format__(__printf__, a, b)))

#define ADDR_TEXT_MAX	128	/* longest printed address */
#define ADDR_DEFAULT_HOST "127.0.0.1"	/* rpcd's and rpcctl's address */
#define ADDR_DEFAULT_PORT "8080"	/* the tutorial's port */
#define ADDR_DEFAULT	ADDR_DEFAULT_HOST ":" ADDR_DEFAULT_PORT
#define ZK_URL_MAX	1024	/* bytes of a zk:// URL */
#define FATAL_STATUS	1	/* exit status of fatal() and fatalx() */

/* A parsed listen or connect address. */
struct addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[ADDR_TEXT_MAX];
};

/*
 * A network: an address and the length of its prefix, as in
 * 192.0.2.0/24 or 2001:db8::/32.  An IPv4 network is kept as its IPv4
 * address mapped into IPv6 (::ffff:192.0.2.0/120), so that it also
 * matches a v4 client of a dual-stack socket.
 */
struct network {
	unsigned char	addr[16];
	int		bits;		/* of the 128 */
};

/* log.c */
int		 log_level_parse(const char *);
const char	*log_level_name(int);
void		 log_init(int, int, const char *);
int		 log_enabled(int);
void		 log_procinit(const char *);
void		 log_reopen(void);
int		 log_file(const char *, uid_t, gid_t);
void		 log_error(const char *, ...) printflike(1, 2);
void		 log_errorx(const char *, ...) printflike(1, 2);
void		 log_warn(const char *, ...) printflike(1, 2);
void		 log_warnx(const char *, ...) printflike(1, 2);
void		 log_info(const char *, ...) printflike(1, 2);
void		 log_debug(const char *, ...) printflike(1, 2);
__dead void	 fatal(const char *, ...) printflike(1, 2);
__dead void	 fatalx(const char *, ...) printflike(1, 2);
void		 log_libevent_cb(int, const char *);

/* addr.c */
int		 addr_parse(const char *, struct addr *, char *, size_t);
const char	*addr_format(const struct sockaddr *, socklen_t, char *,
		     size_t);
int		 network_parse(const char *, struct network *, char *,
		     size_t);
void		 network_format(const struct network *, char *, size_t);
int		 network_match(const struct network *, int,
		     const struct sockaddr *);
const char	*zk_url_split(const char *, char *, size_t, char *, size_t);

/* json.c */
int		 json_add(struct json_object *, const char *,
		     struct json_object *);

/* util.c */
long long	 parse_number(const char *, long long, long long,
		     const char **);
double		 parse_seconds(const char *, double, double, const char **);
void		 getopt_reset(void);
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
double		 time_monotonic(void);
int64_t		 time_ns(void);
int		 errno_transient(int);
size_t		 str_escape(char *, size_t, const char *);
struct event_base *loop_new(int);

#endif /* RPCD_COMMON_H */
