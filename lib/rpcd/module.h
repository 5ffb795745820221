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
 * rpcd modules: the whole contract between rpcd(8) and a module, a
 * shared object loaded with -m that adds methods.  See rpcd-module(3).
 *
 * A module exports one descriptor, RPCD_MODULE_DESCRIPTOR, and links no
 * rpcd symbol: everything it may do goes through the table of functions
 * rpcd hands its hooks.  Minor versions only append to the table and the
 * descriptor, so a module built for minor N loads in any rpcd of the same
 * major with a minor of N or more.
 */

#ifndef RPCD_MODULE_H
#define RPCD_MODULE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPCD_MODULE_ABI_MAJOR	1
#define RPCD_MODULE_ABI_MINOR	1

/* The name of the descriptor's symbol, as a string for dlsym(3). */
#define RPCD_MODULE_DESCRIPTOR	rpcd_module
#define RPCD_MODULE_SYMBOL	"rpcd_module"

/* Levels of log(). */
#define RPCD_LOG_WARN		0
#define RPCD_LOG_INFO		1
#define RPCD_LOG_DEBUG		2

struct event_base;
struct rpcd_call;		/* a request being answered: opaque */

/* A method's handler, and its cancel callback; arg is the method's. */
typedef void	rpcd_handler_fn(struct rpcd_call *, void *);
typedef void	rpcd_cancel_fn(struct rpcd_call *, void *);
/* Work run on the worker's thread pool by offload(). */
typedef void	rpcd_work_fn(struct rpcd_call *, void *);

/*
 * Who is calling, as caller() tells it (since 1.1).  The strings are
 * rpcd's, valid until the handler returns or caller() is called again:
 * copy what is kept longer.
 */
struct rpcd_caller {
	const char	*address;	/* the client's host:port, the one a
					   PROXY header named; NULL on a
					   Unix socket */
	const char	*listener;	/* the address it came to, as -l
					   gave it */
	long		 uid;		/* a Unix peer's user; -1: unknown */
	long		 gid;		/* and its group */
	const char	*subject;	/* of a verified client certificate,
					   as RFC 2253 writes it; NULL: none */
};

/* A method, as a module registers it; rpcd copies it. */
struct rpcd_method {
	const char	*name;		/* 1 to 63 bytes */
	const char	*help;		/* a line for the methods method */
	rpcd_handler_fn	*handler;
	rpcd_cancel_fn	*cancel;	/* on timeout or disconnect; or NULL */
	int		 timeout_ms;	/* deadline; 0: rpcd's --call-timeout */
	void		*arg;		/* passed to handler and cancel */
};

/*
 * What rpcd offers.  Functions marked [loop] may be called only from the
 * worker's event loop thread: from a handler, a cancel callback or a
 * callback of the worker's event_base; [any] from a work function too.
 */
struct rpcd_api {
	unsigned int	 abi_major;	/* rpcd's */
	unsigned int	 abi_minor;
	size_t		 size;		/* bytes of this table */

	/* Add a method; only in init().  -1 if the name is taken or bad. */
	int		(*register_method)(const struct rpcd_method *);

	/* [any] The call's params (NULL when absent) and method name. */
	const char	*(*params)(const struct rpcd_call *, size_t *);
	const char	*(*method)(const struct rpcd_call *);

	/*
	 * [any] Answer the call with a JSON text as the result, or with an
	 * error of a one-word code and a message; once per call.  A result
	 * that is not JSON is answered internal_error instead.  -1 if the
	 * call was answered already, or cancelled.  From a work function,
	 * for its own call only: the loop sends the answer once it returns.
	 */
	int		(*reply)(struct rpcd_call *, const char *, size_t);
	int		(*reply_error)(struct rpcd_call *, const char *,
			    const char *);

	/*
	 * [loop] From a handler: answer later, from the loop.  Return the
	 * call to answer, valid until it is answered, or cancelled if its
	 * method has a cancel callback (or NULL out of memory: rpcd has
	 * answered it then).  Later replies on the connection wait for this
	 * one, to keep their order.
	 */
	struct rpcd_call *(*defer)(struct rpcd_call *);

	/*
	 * [loop] From a handler: run work(call, arg) on the worker's thread
	 * pool; it answers with reply() or reply_error() before it returns,
	 * and the call stays valid until then, cancelled or not.  -1 if the
	 * pool's queue is full: rpcd has answered busy.
	 */
	int		(*offload)(struct rpcd_call *, rpcd_work_fn *, void *);

	/* [any] Was the call cancelled (timed out, client gone)? */
	int		(*cancelled)(const struct rpcd_call *);

	/* [loop] The worker's event loop, for timers and sockets. */
	struct event_base *(*event_base)(void);

	/* [any] Log a line under rpcd's name, as printf(3) formats it. */
	void		(*log)(int, const char *, ...)
			    __attribute__((__format__(__printf__, 2, 3)));

	/* Since 1.1. */
	/*
	 * [loop] Who is calling: fill the first size bytes of *caller
	 * (sizeof(struct rpcd_caller)).  -1 if the client has gone.
	 */
	int		(*caller)(const struct rpcd_call *, struct rpcd_caller *,
			    size_t);
	/*
	 * [loop] A pointer of the module's own for the call, NULL until
	 * set; defer() and offload() keep it, so that a cancel callback
	 * finds the call's state without a search.  [any] data(): from a
	 * work function for its own call.
	 */
	void		(*set_data)(struct rpcd_call *, void *);
	void		*(*data)(const struct rpcd_call *);
};

/*
 * The descriptor.  init() runs once in rpcd's master process, before any
 * worker starts: it reads argv (argv[0] is the module's path) and
 * registers the methods; on failure it writes why in err and returns -1,
 * and rpcd does not start.  worker_init() runs in each worker process
 * once its event loop exists, and is where threads, sockets and timers
 * start; worker_exit() runs when the worker ends.  Either may be NULL.
 */
struct rpcd_module {
	unsigned int	 abi_major;	/* RPCD_MODULE_ABI_MAJOR */
	unsigned int	 abi_minor;	/* RPCD_MODULE_ABI_MINOR */
	const char	*name;
	const char	*version;
	int		(*init)(const struct rpcd_api *, int, char **, char *,
			    size_t);
	int		(*worker_init)(const struct rpcd_api *,
			    struct event_base *);
	void		(*worker_exit)(void);
};

#ifdef __cplusplus
}
#endif

#endif /* RPCD_MODULE_H */
