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
 * rpcd: structures, defaults and prototypes, grouped by file.
 *
 * The server's layers, top first.  A file calls functions of its own
 * layer or of those below it, never of one above, and no files call each
 * other round a circle (tests/layers.sh reads the objects to check).
 * Where a lower layer has news for an upper one, it calls a handler that
 * the upper one handed down: struct server's (server_init()), the thread
 * pool's done_fn, a registry's release, a daemon_unlink_fn.
 *
 *	process		rpcd.c master.c zk.c
 *	worker		worker.c metrics.c agent.c listener.c
 *	connection	conn.c transport.c tls.c proxy.c
 *	call		dispatch.c module.c call.c pool.c registry.c
 *	base		config.c access.c client.c stats.c daemon.c http.c
 *
 * process: start-up, the prefork master and its generations of workers,
 * the registration in ZooKeeper.
 * worker: one event loop, its listeners, the metrics and agent ports.
 * connection: bytes in and out of a peer, TLS and the PROXY header.
 * call: a request's life from its frame to its reply, methods, modules.
 * base: the settings, the access rules, the per-client limits, the
 * counters, the process's plumbing, HTTP's heads.
 * lib/common and libproto are under all of them.
 */

#ifndef RPCD_H
#define RPCD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <stdatomic.h>
#include <stdint.h>

#include <event2/util.h>		/* evutil_socket_t, for callbacks */

#include "common.h"
#include "rpcd/module.h"

struct bufferevent;
struct event;
struct event_base;
struct evbuffer;
struct evconnlistener;
struct json_object;
struct timeval;

/*
 * Defaults, each with its unit.  Those of the options are in the table of
 * config.c.
 */
#define RPCD_LISTEN_MAX		16		/* -l options */
#define RPCD_MODULES_MAX	32		/* -m options */
#define RPCD_NETWORKS_MAX	64		/* of a list: --proxy-from */
#define RPCD_ACCESS_RULES_MAX	256		/* --allow and --deny rules */
#define RPCD_ACCESS_CONDS_MAX	16		/* KEY=VALUE of a rule */
#define RPCD_LISTEN_NAME_MAX	32		/* bytes of ,name=, NUL too */
#define RPCD_BACKLOG		511		/* listen(2) queue */
#define RPCD_FRAMES_PER_EVENT	256		/* frames per read callback */
#define RPCD_READ_SIZE		16384		/* bytes: first read of a frame */
#define RPCD_BEV_READ		4096		/* bytes a bufferevent reads */
#define RPCD_FILL_UNASKED	32768		/* bytes read without FIONREAD */
#define RPCD_QUICKACK_MAX	1024		/* bytes of a partial frame */
#define RPCD_SEND_HELD_MAX	(1024 * 1024)	/* bytes of replies held a pass */
#define RPCD_MALLOC_KEEP	(16 * 1024 * 1024) /* bytes, at most */
#define RPCD_DRAIN_GRACE	1		/* seconds: a new conn's request,
						   and a drain's reading */
#define RPCD_LINGER		2		/* seconds: reading after a close */
#define RPCD_LINGER_TIME	5		/* seconds: that, in all */
#define RPCD_LINGER_BYTES	(1024 * 1024)	/* and discarding at most */
#define RPCD_ACCEPT_PAUSE	1		/* seconds after EMFILE */
#define RPCD_PREFORK_MAX	256		/* --prefork workers */
#define RPCD_RESPAWN_DELAY_MS	100		/* first respawn backoff */
#define RPCD_RESPAWN_DELAY_MAX	5000		/* ms, backoff ceiling */
#define RPCD_FAST_DEATH		2		/* seconds: died at start */
#define RPCD_FAILURES_MAX	8		/* fast deaths of a slot */
#define RPCD_FAILURE_WINDOW	60		/* seconds they are counted in */
#define RPCD_TLS_WRITE		16384		/* bytes: one TLS record */

/* Keywords of a listen address, bits of settings.listen_flags. */
#define LISTEN_TLS	0x1		/* ,tls */
#define LISTEN_PROXY	0x2		/* ,proxy: a PROXY protocol header first */
#define LISTEN_HTTP	0x4		/* ,http: HTTP/1.1 and JSON-RPC 2.0 */
#define RPCD_HTTP_HEAD_MAX	8192		/* bytes: request line, headers */
#define RPCD_HTTP_HEADERS_MAX	100		/* header lines of a request */
#define RPCD_HTTP_CORS_MAX	16		/* --http-cors origins */
#define RPCD_HTTP_CORS_AGE	600		/* seconds a preflight is kept */
#define RPCD_METHODS_MAX	64		/* of the registry */
#define RPCD_METHOD_ROWS	128		/* method names since start */
#define RPCD_FRONTENDS		2		/* framed, http: rows of each */
#define RPCD_STATS_ROWS		(RPCD_METHOD_ROWS * RPCD_FRONTENDS)
#define RPCD_BUCKETS		24		/* request durations: 1 us * 2^i */
#define RPCD_PROCESS_INTERVAL	1		/* seconds: process gauges kept */
#define RPCD_METRICS_TIMEOUT	10		/* seconds: a scrape, in all */
#define RPCD_METRICS_CONNS_MAX	64		/* metrics connections open */
#define RPCD_METRICS_HEAD_MAX	8192		/* bytes: request line, headers */
#define RPCD_METRICS_RESPAWN	1		/* seconds after its death */
#define RPCD_ZK_SESSION_TIMEOUT	10000		/* ms asked of ZooKeeper */
#define RPCD_ZK_LEAVE_TIMEOUT	3		/* seconds: SIGTERM waits for
						   the member's deletion */
#define RPCD_ZK_ATTEMPT		3		/* seconds a new session has
						   to connect, per try */
#define RPCD_ZK_RETRY		1		/* seconds: first retry */
#define RPCD_ZK_RETRY_MAX	60		/* seconds, backoff ceiling */

/* A list of networks, as --proxy-from gives. */
struct networks {
	struct network	 net[RPCD_NETWORKS_MAX];
	int		 n;
};

struct access;
struct zk;
struct client;
struct clients;
struct ev_token_bucket_cfg;
struct access_list;
struct identity;

/* Configuration from the command line; config.c has a row for each. */
struct settings {
	struct addr	 listen[RPCD_LISTEN_MAX];
	int		 listen_flags[RPCD_LISTEN_MAX];	/* LISTEN_* */
	char		 listen_name[RPCD_LISTEN_MAX][RPCD_LISTEN_NAME_MAX];
	int		 nlisten;
	struct networks	 proxy_from;	/* peers ,proxy takes headers from */
	/* --allow and --deny, one list in the order given. */
	char		*rules[RPCD_ACCESS_RULES_MAX];	/* METHODS KEY=... */
	int		 rule_allow[RPCD_ACCESS_RULES_MAX];
	int		 rule_line[RPCD_ACCESS_RULES_MAX]; /* of the file; 0:
							     an option */
	int		 nrules;
	struct access	*access;	/* the rules made; NULL: none */
	int		 log_denied;
	char		*http_cors[RPCD_HTTP_CORS_MAX];	/* origins */
	int		 nhttp_cors;
	uint32_t	 max_frame;
	unsigned int	 max_depth;
	int		 max_conns;
	int		 client_conns;	/* per client; 0: no limit */
	int		 client_rate;	/* requests a second; 0: none */
	int		 client_burst;	/* 0: client_rate */
	int		 byte_rate;	/* bytes a second read; 0: none */
	size_t		 max_output;
	int		 idle_timeout;
	int		 frame_timeout;
	int		 shutdown_timeout;
	int		 drain_delay;	/* seconds of "drain" before it */
	struct addr	 agent_listen;	/* HAProxy agent-check; len 0: none */
	int		 daemonize;
	int		 verbose;
	int		 log_level;	/* a syslog priority */
	struct addr	 metrics_listen;	/* len 0: no metrics */
	int		 prefork;	/* workers; 0 = single process */
	int		 reuseport;	/* a listening socket per worker */
	int		 unix_mode;	/* of socket files; -1 = umask */
	char		*pidfile;
	char		*log_file;	/* the log, instead of stderr or syslog */
	char		*user;
	char		*config;	/* -f file */
	int		 check;		/* -n */
	char		*tls_cert;
	char		*tls_key;
	char		*tls_ca;
	char		*tls_verify;	/* none, optional, require */
	char		*tls_min_version;
	char		*tls_ciphers;
	char		*tls_ciphersuites;
	int		 tls_handshake_timeout;
	char		*modules[RPCD_MODULES_MAX]; /* "PATH ARGS..." */
	int		 nmodules;
	int		 max_inflight;	/* calls unanswered per connection */
	int		 call_timeout;	/* seconds: a kept call's deadline */
	int		 offload_threads; /* of a worker's thread pool */
	int		 offload_queue;	/* calls waiting for a thread */
	char		*register_url;	/* zk://HOSTS/PATH; NULL: none */
	char		*advertise;	/* host in the member; NULL: bound */
};

/*
 * How a listener's connections carry bytes (transport.c).  A connection is
 * the bufferevent that open() makes; send() writes replies now, at the end
 * of a pass of the loop, instead of arming the write event; fill() reads up
 * to n bytes into the input now, for a frame that lacks lack bytes;
 * pending() tells whether the peer sent bytes or end of file not read yet.
 */
struct transport {
	const char		*name;
	struct bufferevent	*(*open)(struct event_base *, int);
	int			 (*send)(struct bufferevent *, struct evbuffer *);
	ssize_t			 (*fill)(struct bufferevent *, size_t, size_t);
	int			 (*pending)(struct bufferevent *);
	int			 tls;	/* the protocol runs inside TLS */
};

/* A bound listening socket, inherited by every worker. */
struct listener {
	int			 fd;
	int			 is_unix;
	int			 created;	/* we made the socket file */
	int			 flags;		/* LISTEN_* */
	struct addr		 addr;
	char			 given[ADDR_TEXT_MAX];	/* as -l gave it */
	char			 name[RPCD_LISTEN_NAME_MAX]; /* ,name=; "" */
	const struct transport	*transport;
	struct evconnlistener	*evl;
	struct server		*srv;
};

/*
 * Counters of one process, in memory shared with the other workers; also
 * a worker slot's retired totals and a row of the stats report.
 */
struct stats_slot {
	int64_t		pid;
	int64_t		index;
	int64_t		serial;		/* order of claims */
	int64_t		connections;
	int64_t		total_connections;
	int64_t		requests;
	int64_t		errors;
	int64_t		rejected;	/* busy at --max-conns, or no memory */
	int64_t		bytes_in;
	int64_t		bytes_out;
	int64_t		restarts;
	int64_t		proxy_errors;	/* bad or missing PROXY headers */
	int64_t		proxy_untrusted; /* ,proxy peers not in --proxy-from */
	int64_t		tls_handshake_failures;
	int64_t		draining;	/* not accepting: shutting down */
	int64_t		leaving;	/* to shut down after --drain-delay:
					   the master's word, for /ready */
	int64_t		too_large;	/* client errors, by kind */
	int64_t		bad_requests;
	int64_t		foreign;	/* TLS or HTTP spoken to us */
	int64_t		timeouts;	/* idle, or a frame too slow */
	int64_t		client_refused;	/* over --client-conns */
	int64_t		client_waits;	/* for a token of --client-rate */
	int64_t		denied;		/* calls the access rules refused */
	int64_t		running;	/* the method called; -1: none */
	/*
	 * The process's own gauges, written by it every
	 * RPCD_PROCESS_INTERVAL (stats_process_start); a report takes them
	 * from the newest process of a worker slot, but for the CPU time, a
	 * counter, which it adds up as the others, dead processes' too.
	 */
	int64_t		start_time;	/* seconds since the epoch */
	int64_t		cpu_us;		/* user and system CPU time */
	int64_t		rss;		/* bytes resident */
	int64_t		open_fds;
	int64_t		max_fds;	/* RLIMIT_NOFILE, soft */
	int64_t		max_conns;	/* its --max-conns */
	int64_t		max_inflight;	/* its --max-inflight */
	int64_t		offload_queued;	/* calls waiting for a pool thread */
};

/*
 * The calls of one method by one process, or a worker slot's retired
 * ones: beside the slots in shared memory, written by their process only.
 * buckets[i] counts the calls that took at most stats_bucket_ns[i]
 * nanoseconds (1 us * 2^i) and more than the bound before; the last,
 * longer ones.
 */
struct stats_method {
	int64_t		calls;
	int64_t		errors;		/* answered with an error */
	int64_t		timeouts;	/* answered timeout */
	int64_t		in_flight;	/* a gauge: called, not answered */
	int64_t		denied;		/* refused by the access rules */
	int64_t		rate_limited;	/* waited for --client-rate */
	int64_t		nanoseconds;	/* their durations summed */
	int64_t		buckets[RPCD_BUCKETS + 1];
};

struct conn;
TAILQ_HEAD(conn_list, conn);

struct call;
typedef void (*method_fn)(struct call *);

struct module;

/* A method of the registry (registry.c): built in or a module's. */
struct method {
	char			*name;
	char			*help;
	method_fn		 fn;
	int			 index;		/* its statistics' row */
	struct module		*module;	/* NULL: built in */
	const char		*owner;		/* the module's name */
	struct rpcd_method	 def;		/* the module's */
};

/*
 * The methods a generation of workers answers and the modules they come
 * from, in the order loaded (registry.c).
 */
struct registry {
	struct method		*methods;	/* RPCD_METHODS_MAX of room */
	int			 nmethods;
	struct module		*modules[RPCD_MODULES_MAX];
	int			 nmodules;
	void			(*release)(struct module *); /* module.c's */
};

/*
 * The life of a call (call.c).  Its handler runs on it; its module may
 * keep it past that (defer) or have a thread of the pool work on it
 * (offload).  It is answered once, or cancelled when its client goes or
 * its deadline passes; then its module, or the pool, is told
 * (CANCELLING), and keeps it until it lets go, its replies refused.
 * Cancelled states come last: call_is_cancelled() compares.
 */
enum call_state {
	CALL_RUNNING,		/* its handler runs on it */
	CALL_DEFERRED,		/* its module holds it, to answer later */
	CALL_WORKING,		/* a thread of the pool works on it */
	CALL_ANSWERED,		/* with a result */
	CALL_FAILED,		/* with an error */
	CALL_BROKEN,		/* its reply could not be built */
	CALL_CANCELLING_HELD,	/* cancelled: its module is told next */
	CALL_CANCELLING_WORKING, /* cancelled: so is it, on the pool */
	CALL_CANCELLED_HELD,	/* cancelled; its module still holds it */
	CALL_CANCELLED_WORKING,	/* cancelled; the pool still works on it */
	CALL_CANCELLED		/* cancelled; let go by all but rpcd */
};

/*
 * How a call's reply is written (call.c): a frame, or over HTTP the
 * result as the body (/call/METHOD), a JSON-RPC 2.0 response, or one in a
 * batch, the batch's own call writing the head and the brackets.
 */
enum reply_form {
	REPLY_FRAME,
	REPLY_HTTP,		/* the result, or rpcd's error object */
	REPLY_JSONRPC,		/* a JSON-RPC response; 204 for a notification */
	REPLY_ELEMENT,		/* one of a batch's: no head */
	REPLY_BATCH		/* a batch: its head, once its elements are */
};
struct reply_to {
	unsigned char		 form;		/* enum reply_form */
	unsigned char		 close;		/* HTTP: Connection: close */
	signed char		 origin;	/* HTTP: of --http-cors; -1: none */
	short			 status;	/* HTTP: of an error; 0: its code's */
	const char		*extra;		/* HTTP: header lines, static */
	const char		*id;		/* JSON-RPC: its span; NULL: a
						   notification */
	size_t			 id_len;
	struct call		*batch;		/* an element's batch's call */
};

/*
 * The row of the counters of a call of method m answered as to says:
 * its method's, among those of its front end (stats.c).
 */
#define stats_row(m, to)	((m)->index + \
	((to)->form == REPLY_FRAME ? 0 : RPCD_METHOD_ROWS))

/*
 * A request being answered (call.c): all a handler sees of it.  params is
 * the span of the request's params, NULL when it has none.  A call that
 * is answered inside its handler, with no call of its connection waiting,
 * lives on dispatch's stack; any other is kept on the heap, in its
 * connection's queue of calls in request order, and counts what holds it
 * (its queue, its handler, its module, the pool) until the last lets go.
 */
struct call {
	struct conn		*conn;		/* NULL once it has gone */
	const struct method	*method;	/* NULL: a bad request */
	const char		*params;
	size_t			 params_len;
	int64_t			 started;	/* time_ns() */
	atomic_int		 state;		/* enum call_state; the pool
						   reads it */
	int			 refs;		/* 0: on dispatch's stack */
	struct evbuffer		*out;		/* its reply, until its turn */
	struct event		*timer;		/* its deadline */
	char			*copy;		/* the params, once kept */
	void			*data;		/* the module's: set_data() */
	struct reply_to		 to;
	int			 pending;	/* a batch's elements unanswered,
						   and 1 while they are made */
	TAILQ_ENTRY(call)	 entry;
	/* Offloaded: the work, and its answer until the loop takes it. */
	rpcd_work_fn		*work;
	void			*work_arg;
	int			 stash_kind;	/* STASH_* */
	char			*stash;		/* a result, or code\0message */
	size_t			 stash_len;
	TAILQ_ENTRY(call)	 job;		/* in the pool's lists */
};
/*
 * Cancelled: no reply of its module or its work goes out any more.  The
 * pool's threads ask too, hence here.
 */
static inline int
call_is_cancelled(const struct call *call)
{
	return (atomic_load_explicit(&call->state, memory_order_relaxed) >=
	    CALL_CANCELLING_HELD);
}
#define STASH_NONE	0
#define STASH_RESULT	1
#define STASH_ERROR	2
#define STASH_NOMEM	3
TAILQ_HEAD(call_list, call);

/* Reasons not to accept, bits of server.paused. */
#define PAUSE_FULL	0x1		/* at --max-conns */
#define PAUSE_FDS	0x2		/* out of descriptors, for a while */

/*
 * One event loop's state: the whole server in a single process.  The
 * layers below the worker tell it and each other what happened through
 * the handlers server_init() sets, never by calling up.
 */
/*
 * What a single process's loop tells the process layer above it (rpcd.c,
 * for --register): serving(arg, base) once it accepts, with its loop;
 * stopping(arg, done, srv) at SIGTERM, which calls done(srv) when the
 * shutdown may go on; exiting(arg) before the loop is freed.
 */
struct worker_hooks {
	void		(*serving)(void *, struct event_base *);
	void		(*stopping)(void *, void (*)(void *), void *);
	void		(*exiting)(void *);
	void		 *arg;
};

struct server {
	struct event_base	*base;
	const struct settings	*settings;
	struct listener		*listeners;
	int			 nlisteners;
	struct conn_list	 conns;
	int			 nconns;
	int			 paused;	/* PAUSE_* */
	int64_t			 full_pauses;	/* in this episode; 0: none */
	int			 draining;
	int64_t			 drain_began;	/* ms: conn_drain() */
	int			 agent_drain;	/* the agent answers "drain" */
	const struct worker_hooks *hooks;	/* a single process's; NULL */
	int			 stop_asked;	/* hooks->stopping() called */
	struct event		*resume_ev;	/* after PAUSE_FDS */
	struct event		*full_ev;	/* end of a PAUSE_FULL episode */
	struct event		*drain_ev;
	struct event		*master_ev;
	struct event		*agent_ev;
	struct event		*delay_ev;	/* end of --drain-delay */
	struct event		*send_ev;	/* conn_send_queued() */
	struct conn_list	 sendq;		/* replies to send this pass */
	size_t			 held;		/* bytes on sendq, as each joined */
	size_t			 held_max;	/* past it, sendq is sent at once */
	const struct timeval	*idle_timeout;	/* common timeout, or NULL */
	const struct timeval	*handshake_timeout; /* common timeout */
	struct stats_slot	*stats;
	struct access		*access;	/* the rules; NULL: none */
	struct clients		*clients;	/* for the per-client limits */
	struct ev_token_bucket_cfg *byte_rate;	/* --byte-rate; NULL: none */
	/* listener.c: a connection came; accept(2) failed with errno. */
	void			(*accepted)(struct server *, struct listener *,
				    int, const struct sockaddr *);
	void			(*accept_failed)(struct server *, int);
	/* conn.c: a connection is closing. */
	void			(*conn_gone)(struct server *, struct conn *);
	/*
	 * call.c: a kept call was answered: send what is due; -1: a reply
	 * could not be built, close.
	 */
	void			(*replied)(struct conn *, int);
	/* module.c: who a call's client is, for the caller() it offers. */
	int			(*identify)(const struct conn *,
				    struct identity *);
};

/*
 * The life of a connection (conn.c), changed only by conn_set_state():
 * its opening (a PROXY header, a TLS handshake), serving, then closing,
 * at once or once the replies owed are sent, and lingering to protect
 * them (conn_linger).
 */
enum conn_state {
	CONN_PROXY,		/* a PROXY header first, in plain text */
	CONN_HANDSHAKE,		/* TLS handshake (with a PROXY header first
				   on a ,tls,proxy listener) */
	CONN_OPEN,		/* serving requests */
	/* From here on, the connection is on its way out. */
	CONN_BROKEN,		/* a kept call's reply could not be built:
				   closes at the write callback */
	CONN_CLOSING,		/* reading no more: closes once the replies
				   owed are sent */
	CONN_CLOSING_LINGER,	/* likewise, then lingers */
	CONN_LINGERING,		/* replies sent, FIN sent: discarding what
				   comes, to close */
	CONN_REFUSING		/* over --max-conns on a TLS listener: the
				   handshake, then the busy reply */
};

/* One client connection. */
#define CONN_PEER_MAX	56	/* "[" INET6_ADDRSTRLEN "]:65535" */
struct conn {
	struct server		*srv;
	const struct listener	*l;		/* where it came */
	struct bufferevent	*bev;
	struct evbuffer		*out;		/* replies: see conn_new */
	char			 peer_ip[CONN_PEER_MAX]; /* [v6addr]:port;
						   "": a Unix peer */
	const char		*ending;	/* why it closes: the first
						   reason given */
	/*
	 * Its state, and flags of flow control: an idle connection's memory
	 * is most of what it costs, so they share 8 bytes with its calls.
	 */
	int			 ncalls;	/* in calls */
	unsigned int		 state:3;	/* enum conn_state */
	unsigned int		 is_tcp:1;
	unsigned int		 proxied:1;	/* its listener is ,proxy */
	unsigned int		 writing:1;	/* EV_WRITE is enabled */
	unsigned int		 throttled:1;	/* reading paused for output */
	unsigned int		 last_request:1; /* draining: answer one */
	unsigned int		 readahead:1;	/* more input likely waiting */
	unsigned int		 calls_full:1;	/* reading paused: --max-inflight */
	unsigned int		 queued:1;	/* on the server's sendq */
	unsigned int		 bad_logged:1;	/* a bad request: only the
						   first is logged */
	unsigned int		 client_over:1;	/* over --client-conns */
	unsigned int		 rate_waiting:1; /* for its client's token */
	unsigned int		 rate_delayed:1; /* its next call waited */
	unsigned int		 continued:1;	/* HTTP: 100 Continue sent */
	size_t			 buffered;	/* input left when last served;
						   lingering: bytes discarded */
	struct call_list	 calls;		/* kept calls, in request order */
	int64_t			 frames;
	int64_t			 bytes_in;	/* of its frames, for its */
	int64_t			 bytes_out;	/* last line */
	int64_t			 accepted;	/* ms */
	int64_t			 deadline;	/* ms: a frame began; 0: none;
						   lingering: the end */
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 send_entry;	/* on the server's sendq */
	struct client		*client;	/* NULL: no per-client limit */
	const struct access_list *access;	/* what it may call; NULL:
						   all (no rules) */
};

/*
 * Who the connection's peer is, for log lines: its address (the client a
 * PROXY header named), or a Unix socket's path.  Inline, for the call
 * layer reads it too.
 */
static inline const char *
conn_peer(const struct conn *c)
{
	return (c->peer_ip[0] != '\0' ? c->peer_ip : c->l->addr.text);
}

/* What proxy_parse() found: a whole header, or the start of one. */
struct proxy_header {
	int			 version;	/* 1 or 2 */
	int			 local;		/* no address: keep the socket's */
	struct sockaddr_storage	 src;		/* the client's */
	socklen_t		 srclen;
	size_t			 len;		/* bytes the header takes */
};
#define PROXY_V1_MAX	107		/* bytes of a v1 line, CRLF included */
#define PROXY_V2_MAX	(16 + 65535)	/* bytes of a v2 header, at most */
#define PROXY_OK	1
#define PROXY_MORE	0
#define PROXY_BAD	(-1)

/*
 * Who a connection's peer is, worked out once it opens (conn.c), for the
 * access rules and the access log: its listener, its address (the client
 * a PROXY header named; AF_UNSPEC on a Unix socket), a Unix peer's
 * credentials, and the names of a verified client certificate (tls.c).
 */
#define IDENTITY_CN	0
#define IDENTITY_DNS	1
#define IDENTITY_EMAIL	2
#define IDENTITY_URI	3
#define IDENTITY_NAMES_MAX 32		/* names of a certificate kept */
#define IDENTITY_KEY_MAX 160		/* bytes of a client's key, NUL too */
struct identity {
	const char		*listener;	/* its address, as -l gave it */
	const char		*listener_name;	/* ,name=; NULL: none */
	struct sockaddr_storage	 addr;
	int			 cred;		/* uid and gid are known */
	uid_t			 uid;
	gid_t			 gid;
	char			*subject;	/* of a verified certificate, RFC
						   2253, for caller() only; NULL */
	int			 nnames;	/* of a verified certificate */
	struct {
		int		 kind;		/* IDENTITY_* */
		char		*value;
	}			 names[IDENTITY_NAMES_MAX];
};

/* A request's head, as http_parse() read it; spans point into the input. */
#define HTTP_MORE	0
#define HTTP_OK		1
#define HTTP_GET	1
#define HTTP_POST	2
#define HTTP_OPTIONS	3
#define HTTP_OTHER	4		/* another: 405 */
struct http_request {
	int			 method;	/* HTTP_GET... */
	int			 minor;		/* HTTP/1.minor */
	const char		*path;		/* the target, its query left out */
	size_t			 path_len;
	size_t			 head_len;	/* bytes, the blank line too */
	int64_t			 content_length; /* -1: none given */
	int			 chunked;	/* 1: chunked; -1: another coding */
	int			 json;		/* a JSON Content-Type */
	int			 has_type;	/* a Content-Type at all */
	int			 close;		/* the connection ends after it */
	int			 keep_alive;	/* HTTP/1.0's keep-alive */
	int			 host;		/* a Host header */
	int			 preflight;	/* CORS: Access-Control-Request-
						   Method */
	int			 expect;	/* 1: 100-continue; -1: other */
	const char		*origin;	/* CORS: Origin; NULL: none */
	size_t			 origin_len;
};

/* http.c */
int		 http_parse(const char *, size_t, size_t,
		     struct http_request *);
const char	*http_reason(int);
int		 http_response_head(struct evbuffer *, int, size_t, int,
		     const char *, const char *);

/* client.c */
typedef void	 client_resume_fn(void *);
struct clients	*clients_new(struct event_base *, client_resume_fn *);
void		 clients_set_rate(struct clients *, double, double);
void		 clients_free(struct clients *);
struct client	*client_get(struct clients *, const char *);
void		 client_put(struct client *);
int		 client_conns(const struct client *);
int		 client_take(struct client *);
int		 client_wait(struct client *, void *);
void		 client_unwait(struct client *, void *);

/* access.c */
int		 access_rule_check(const char *, char *, size_t);
struct access	*access_new(char *const *, const int *, int,
		     const struct addr *,
		     const char (*)[RPCD_LISTEN_NAME_MAX], int, int *, char *,
		     size_t);
void		 access_free(struct access *);
const struct access_list *access_list_get(struct access *,
		     const struct identity *);
int		 access_check(const struct access_list *, const char *);
void		 identity_clear(struct identity *);
int		 identity_add_name(struct identity *, int, const char *,
		     size_t);

/* config.c */
void		 config_init(int, char **, struct settings *, int);
void		 config_free(struct settings *);
void		 config_print(const struct settings *);
struct settings	*config_reload(const struct settings *);
int		 config_reload_access(const struct settings *,
		     struct access **);
int		 config_log_level(const struct settings *);
struct json_object *config_to_json(const struct settings *);

/* listener.c */
int		 listener_bind_all(const struct settings *, struct listener **);
int		 listener_reuseport_option(void);
int		 listener_reuseport_bind(struct listener *, int);
int		 listener_bind_one(const struct addr *, struct listener *);
void		 listener_enable_all(struct server *);
void		 listener_accepting(struct server *, int);
void		 listener_close_all(struct server *);
void		 listener_unlink_all(struct listener *, int);

/* transport.c */
extern const struct transport transport_plain;
extern const struct transport transport_tls;
extern const struct transport transport_tls_proxy;

/* tls.c */
int		 tls_init(const struct settings *);
int		 tls_reload(const struct settings *);
void		 tls_commit(void);
void		 tls_rollback(void);
const char	*tls_error(struct bufferevent *);
void		 tls_close(struct bufferevent *);
struct ssl_st	*tls_ssl_new(void);
struct ssl_st	*tls_ssl_new_proxied(int);
int		 tls_proxy_header(struct bufferevent *, struct proxy_header *,
		    const char **);
int		 tls_identity(struct bufferevent *, struct identity *);
int		 tls_subject(struct bufferevent *, struct identity *);

/* conn.c */
struct conn	*conn_new(struct server *, struct listener *, int,
		     const struct sockaddr *);
void		 conn_drain(struct conn *);
void		 conn_reject(struct conn *);
int		 conn_unanswered(const struct conn *);
void		 conn_replied(struct conn *, int);
void		 conn_send_queued(evutil_socket_t, short, void *);
void		 conn_close(struct conn *, const char *);
void		 conn_access_update(struct conn *);
int		 conn_identity(const struct conn *, struct identity *);
int		 conn_caller(const struct conn *, struct identity *);
void		 conn_rate_resume(void *);

/* proxy.c */
int		 proxy_parse(const unsigned char *, size_t,
		     struct proxy_header *, const char **);

/* agent.c */
int		 agent_open(const struct settings *);
int		 agent_fd(void);
void		 agent_answer(int);
void		 agent_close(void);

/* registry.c */
struct registry	*registry_current(void);
struct registry	*registry_use(struct registry *);
struct registry	*registry_new(void);
void		 registry_free(struct registry *);
struct method	*registry_add(const char *, const char *, method_fn);
const struct method *registry_lookup(const struct registry *, const char *);
const struct method *registry_find(const char *);
int		 registry_count(void);
const struct method *registry_get(int);

/* call.c */
struct call	*call_batch_open(struct conn *, const struct reply_to *);
int		 call_batch_close(struct call *);
int		 call_reply(struct call *, const char *, const char *, size_t);
int		 call_reply_json(struct call *, const char *,
		     struct json_object *);
int		 call_error(struct call *, int);
int		 call_fail(struct call *, const char *, const char *);
struct call	*call_queue(const struct call *);
int		 call_unanswered(const struct call *);
int		 call_handled(struct call *);
void		 call_offloaded(struct call *);
void		 call_cancel_all(struct conn *);
/* The module API's functions that act on a call (module.c's table). */
const char	*call_api_params(const struct rpcd_call *, size_t *);
const char	*call_api_method(const struct rpcd_call *);
int		 call_api_reply(struct rpcd_call *, const char *, size_t);
int		 call_api_reply_error(struct rpcd_call *, const char *,
		     const char *);
struct rpcd_call *call_api_defer(struct rpcd_call *);
int		 call_api_offload(struct rpcd_call *, rpcd_work_fn *, void *);
int		 call_api_cancelled(const struct rpcd_call *);
int		 call_api_caller(const struct rpcd_call *, struct rpcd_caller *,
		     size_t);
void		 call_api_set_data(struct rpcd_call *, void *);
void		*call_api_data(const struct rpcd_call *);

/* module.c */
void		 module_load_all(const struct settings *);
struct registry	*module_reload(struct settings *, char *, size_t);
const char	*module_name(const struct module *);
void		 module_worker_init(struct server *);
void		 module_worker_exit(void);

/* pool.c */
void		 pool_start(struct server *, void (*)(struct call *));
void		 pool_stop(void);
int		 pool_push(struct call *);
int		 pool_running(const struct call *);

/* dispatch.c */
void		 dispatch_init(void);
int		 dispatch_http(struct conn *, const struct http_request *,
		     const char *, size_t, int64_t *);
int		 dispatch_http_error(struct conn *, int, const char *,
		     const char *);
int		 dispatch_frame(struct conn *, const char *, size_t, int64_t *);
int		 dispatch_error(struct conn *, int);

/* stats.c */
struct stats_slot *stats_region_create(int, int);
int		 stats_method_row(const char *);
const char	*stats_method_name(int);
const char	*stats_row_name(int, const char **);
int		 stats_row_used(int, const struct stats_method *);
struct stats_slot *stats_slot_claim(int);
void		 stats_slot_retire(struct stats_slot *, int);
void		 stats_slot_newest(struct stats_slot *);
void		 stats_method_begin(struct stats_slot *, int);
void		 stats_method_done(struct stats_slot *, int, int, int64_t);
void		 stats_method_timeout(struct stats_slot *, int);
void		 stats_method_denied(struct stats_slot *, int);
void		 stats_method_rate_limited(struct stats_slot *, int);
int		 stats_slots(void);
void		 stats_registry_set(int);
int		 stats_registry(void);
void		 stats_snapshot(struct stats_slot *, struct stats_method *);
extern const int64_t stats_bucket_ns[RPCD_BUCKETS];
struct json_object *stats_to_json(void);
int		 stats_room_elsewhere(const struct stats_slot *, int);
void		 stats_process_start(struct event_base *, struct stats_slot *,
		     const struct settings *);
void		 stats_process_stop(void);

/* worker.c */
void		 server_init(struct server *, struct event_base *,
		     const struct settings *, struct stats_slot *);
void		 server_free(struct server *);
int		 worker_run(const struct settings *, struct listener *, int,
		     struct stats_slot *, int, const struct worker_hooks *);

/* metrics.c */
int		 metrics_bind(const struct settings *);
int		 metrics_enabled(void);
const struct addr *metrics_address(void);
void		 metrics_close(void);
void		 metrics_start(struct event_base *);
void		 metrics_stop(void);
int		 metrics_run(const struct settings *, int);

/* master.c */
int		 master_run(const struct settings *, struct listener *, int,
		     struct zk *);

/* zk.c */
struct zk	*zk_new(const struct settings *, const struct listener *, int);
void		 zk_start(struct zk *, struct event_base *);
int		 zk_fd(const struct zk *);
void		 zk_news(struct zk *);
double		 zk_next(const struct zk *);
void		 zk_tick(struct zk *, double);
void		 zk_leave(struct zk *, void (*)(void *), void *);
void		 zk_free(struct zk *);

/* daemon.c */
void		 daemon_detach(void);
void		 daemon_pidfile_lock(const char *);
void		 daemon_pidfile_write(const char *);
void		 daemon_die_with_parent(pid_t);
void		 daemon_drop_privileges(const char *);
void		 daemon_notify(const char *);
void		 daemon_notify_reloading(void);
/* Removes the socket files of listeners: listener_unlink_all(). */
typedef void	 daemon_unlink_fn(struct listener *, int);
extern time_t	 daemon_started;
extern pid_t	 daemon_pid;
void		 daemon_keeper_start(const char *, struct listener *, int,
		     daemon_unlink_fn *);
void		 daemon_cleanup(const char *, struct listener *, int,
		     daemon_unlink_fn *);

#endif /* RPCD_H */
