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
 * Counters.  Each process writes only its own slot of a region mapped
 * MAP_SHARED before any fork, so the stats method answered by any worker
 * can report every worker.  Readers may see a counter a moment old; that
 * is all a stats report promises.
 *
 * What a monitoring system scrapes must not go down when a worker is
 * replaced (nginx keeps its counters in shared memory for the same
 * reason).  So when the master reaps a worker it adds the worker's
 * counters to its slot's "retired" entry, and a report adds the retired
 * entries to the live ones.  Only "connections", a gauge, is not kept.
 * The fold changes two entries, so it runs under a sequence counter that
 * readers retry on (a seqlock): a report never counts a dead worker twice
 * or not at all.
 *
 * Beside each entry are the counters of every method, built-in or a
 * module's, in rows.  A row is a method name's for as long as the master
 * lives: a reload that keeps a method keeps its row, so its counters go
 * on from where they were, and a method it adds takes a new row, with
 * counters of its own.  The names of the rows are shared too, so that a
 * worker of the old generation, a new one and the metrics process all
 * name the same rows, whichever generation they were forked with.
 *
 * Layer: base (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "rpcd/proto.h"
#include "rpcd.h"

#define STATS_READ_TRIES	1000	/* a fold is a few stores */

/*
 * The names of the rows of per-method counters, shared with every child:
 * only the master adds one, before it forks a process that counts in it,
 * and a name, once there, never changes.
 */
struct stats_names {
	atomic_int	n;
	char		name[RPCD_METHOD_ROWS][PROTO_NAME_MAX + 1];
};

/* The head of the shared region; the slots follow it. */
struct stats_head {
	atomic_uint	seq;		/* odd while the master folds */
	atomic_int	registry;	/* in ZooKeeper: 1 yes, 0 no, -1 no
					   --register */
};

static struct stats_names	*stats_names;
static struct stats_head	*stats_head;
static struct stats_slot	*stats_retired;	/* one per worker slot */
static struct stats_slot	*stats_procs;	/* one per process */
/* RPCD_STATS_ROWS per worker slot, then as many per process. */
static struct stats_method	*stats_retired_methods;
static struct stats_method	*stats_procs_methods;
static int			 stats_nslots;
static int			 stats_nprocs;
static int64_t			 stats_serial;	/* claims so far */
static struct event		*stats_process_ev;

/*
 * Upper bounds of the request duration buckets, in nanoseconds: powers of
 * two from 1 us to 2^23 us (8.4 s).  A ping takes one to a few
 * microseconds, a module's call up to seconds: each falls where it can be
 * told from a call twice as fast or slow, and stats_bucket() finds the
 * bucket without a search.  Every process has the same, so the buckets of
 * workers add up.
 */
#define B(i)	(1000LL << (i))
const int64_t	stats_bucket_ns[RPCD_BUCKETS] = {
	B(0), B(1), B(2), B(3), B(4), B(5), B(6), B(7), B(8), B(9), B(10),
	B(11), B(12), B(13), B(14), B(15), B(16), B(17), B(18), B(19), B(20),
	B(21), B(22), B(23)
};
#undef B

/*
 * Map a zeroed region for nprocs processes in nslots worker slots, shared
 * with future children.  Return the first process's entry.
 */
struct stats_slot *
stats_region_create(int nprocs, int nslots)
{
	size_t	 head, len, nmethods = RPCD_STATS_ROWS;
	char	*p;

	/* Keep the slots' int64_t members aligned after the head. */
	head = (sizeof *stats_head + sizeof(int64_t) - 1) &
	    ~(sizeof(int64_t) - 1);
	len = head + (nslots + nprocs) * (sizeof *stats_procs +
	    nmethods * sizeof *stats_procs_methods);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON,
	    -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap stats region");
	stats_head = (struct stats_head *)p;
	atomic_init(&stats_head->seq, 0);
	atomic_init(&stats_head->registry, -1);
	stats_retired = (struct stats_slot *)(p + head);
	stats_procs = stats_retired + nslots;
	stats_retired_methods = (struct stats_method *)(stats_procs + nprocs);
	stats_procs_methods = stats_retired_methods + nslots * nmethods;
	stats_nslots = nslots;
	stats_nprocs = nprocs;
	return (stats_procs);
}

/*
 * Whether rpcd is registered in ZooKeeper now, for /metrics: 1 or 0; set
 * by the process that holds the session (zk.c), read by any.
 */
void
stats_registry_set(int up)
{
	atomic_store(&stats_head->registry, up);
}

/* 1 or 0 as stats_registry_set() said; -1 without --register. */
int
stats_registry(void)
{
	return (atomic_load(&stats_head->registry));
}

/*
 * The row of the counters of the method called name, taken for it if it
 * has none yet (in the master, or a single process, before a fork); -1
 * if every row is taken.
 */
int
stats_method_row(const char *name)
{
	size_t	len = strlen(name);
	int	i, n;

	if (stats_names == NULL) {
		stats_names = mmap(NULL, sizeof *stats_names,
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
		if (stats_names == MAP_FAILED)
			fatal("mmap method names");
		atomic_init(&stats_names->n, 0);
	}
	n = atomic_load_explicit(&stats_names->n, memory_order_relaxed);
	for (i = 0; i < n; i++) {
		if (strcmp(stats_names->name[i], name) == 0)
			return (i);
	}
	if (n == RPCD_METHOD_ROWS || len > PROTO_NAME_MAX)
		return (-1);
	memcpy(stats_names->name[n], name, len + 1);
	atomic_store_explicit(&stats_names->n, n + 1, memory_order_release);
	return (n);
}

/* The method name of row i, or NULL past the last row taken. */
const char *
stats_method_name(int i)
{
	if (stats_names == NULL || i < 0 ||
	    i >= atomic_load_explicit(&stats_names->n, memory_order_acquire))
		return (NULL);
	return (stats_names->name[i]);
}

/*
 * The method name of a row of counters, and its front end in *frontend
 * ("framed" or "http"); NULL past the last row taken.
 */
const char *
stats_row_name(int row, const char **frontend)
{
	*frontend = row < RPCD_METHOD_ROWS ? "framed" : "http";
	return (stats_method_name(row % RPCD_METHOD_ROWS));
}

/*
 * Take a free entry for a process of worker slot index (in the master,
 * before the fork); stats_slot_retire() frees it.  Its counters start
 * from zero: what its predecessors counted is in the retired entry.
 */
struct stats_slot *
stats_slot_claim(int index)
{
	int	i;

	for (i = 0; i < stats_nprocs; i++) {
		if (stats_procs[i].pid == 0) {
			memset(&stats_procs[i], 0, sizeof stats_procs[i]);
			memset(&stats_procs_methods[i * RPCD_STATS_ROWS], 0,
			    RPCD_STATS_ROWS * sizeof *stats_procs_methods);
			stats_procs[i].pid = -1;	/* taken, not started */
			stats_procs[i].running = -1;
			stats_procs[i].index = index;
			stats_procs[i].serial = ++stats_serial;
			return (&stats_procs[i]);
		}
	}
	fatalx("no free stats slot for worker %d", index);
}

/*
 * Has a worker other than self room for a connection under max?  Workers
 * shutting down do not count: they accept no more.
 */
int
stats_room_elsewhere(const struct stats_slot *self, int max)
{
	int	i;

	for (i = 0; i < stats_nprocs; i++) {
		if (&stats_procs[i] != self && stats_procs[i].pid > 0 &&
		    !stats_procs[i].draining &&
		    stats_procs[i].connections < max)
			return (1);
	}
	return (0);
}

/* Add the counters of b to a; the gauge too if with_gauge. */
static void
stats_sum(struct stats_slot *a, const struct stats_slot *b, int with_gauge)
{
	if (with_gauge)
		a->connections += b->connections;
	a->total_connections += b->total_connections;
	a->requests += b->requests;
	a->errors += b->errors;
	a->rejected += b->rejected;
	a->bytes_in += b->bytes_in;
	a->bytes_out += b->bytes_out;
	a->restarts += b->restarts;
	a->proxy_errors += b->proxy_errors;
	a->proxy_untrusted += b->proxy_untrusted;
	a->tls_handshake_failures += b->tls_handshake_failures;
	a->too_large += b->too_large;
	a->bad_requests += b->bad_requests;
	a->foreign += b->foreign;
	a->timeouts += b->timeouts;
	a->denied += b->denied;
	a->client_refused += b->client_refused;
	a->client_waits += b->client_waits;
	a->cpu_us += b->cpu_us;
}

/*
 * Add the calls of n methods at b to those at a; the gauge too if
 * with_gauge.
 */
static void
stats_sum_methods(struct stats_method *a, const struct stats_method *b,
    int n, int with_gauge)
{
	int	i, j;

	for (i = 0; i < n; i++) {
		if (with_gauge)
			a[i].in_flight += b[i].in_flight;
		a[i].calls += b[i].calls;
		a[i].errors += b[i].errors;
		a[i].timeouts += b[i].timeouts;
		a[i].denied += b[i].denied;
		a[i].rate_limited += b[i].rate_limited;
		a[i].nanoseconds += b[i].nanoseconds;
		for (j = 0; j <= RPCD_BUCKETS; j++)
			a[i].buckets[j] += b[i].buckets[j];
	}
}

/* The methods of st, a process's slot. */
static struct stats_method *
stats_methods_of(const struct stats_slot *st)
{
	return (&stats_procs_methods[(st - stats_procs) * RPCD_STATS_ROWS]);
}

/*
 * The bucket of a call that took ns: the first whose bound, 1 us * 2^i, is
 * not below ns, from the number of bits of the microseconds begun past
 * the first; RPCD_BUCKETS past the last bound.
 */
static int
stats_bucket(int64_t ns)
{
	int	i;

	if (ns <= stats_bucket_ns[0])
		return (0);
	i = 64 - __builtin_clzll((unsigned long long)(ns - 1) / 1000);
	return (i < RPCD_BUCKETS ? i : RPCD_BUCKETS);
}

/* A call of method (its index in the registry) starts, in st. */
void
stats_method_begin(struct stats_slot *st, int method)
{
	stats_methods_of(st)[method].in_flight++;
}

/*
 * Count a call of method (its index in the registry) that took ns
 * nanoseconds, failed or not, in st: the process's own slot, no lock.
 */
void
stats_method_done(struct stats_slot *st, int method, int failed,
    int64_t ns)
{
	struct stats_method	*m;

	/* Begun and ended on threads whose clocks differ by a little. */
	if (ns < 0)
		ns = 0;
	m = &stats_methods_of(st)[method];
	m->in_flight--;
	m->calls++;
	m->errors += failed != 0;
	m->nanoseconds += ns;
	m->buckets[stats_bucket(ns)]++;
}

/* A call of method was answered timeout, past its deadline. */
void
stats_method_timeout(struct stats_slot *st, int method)
{
	stats_methods_of(st)[method].timeouts++;
}

/* A call of method was denied by the access rules. */
void
stats_method_denied(struct stats_slot *st, int method)
{
	stats_methods_of(st)[method].denied++;
}

/* A call of method waited for its client's token of --client-rate. */
void
stats_method_rate_limited(struct stats_slot *st, int method)
{
	stats_methods_of(st)[method].rate_limited++;
}

/* The number of worker slots: rows of a snapshot. */
int
stats_slots(void)
{
	return (stats_nslots);
}

/*
 * The master reaped the process of st: add its counters to its worker
 * slot's retired entry, count a restart if it is respawned, and free st.
 */
void
stats_slot_retire(struct stats_slot *st, int restarted)
{
	struct stats_slot	*r = &stats_retired[st->index];
	unsigned int		 seq;

	seq = atomic_load_explicit(&stats_head->seq, memory_order_relaxed);
	atomic_store_explicit(&stats_head->seq, seq + 1,
	    memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	stats_sum(r, st, 0);
	stats_sum_methods(&stats_retired_methods[st->index *
	    RPCD_STATS_ROWS], stats_methods_of(st), RPCD_STATS_ROWS, 0);
	r->restarts += restarted;
	st->pid = 0;
	atomic_store_explicit(&stats_head->seq, seq + 2,
	    memory_order_release);
}

/*
 * Make st, a process the master had replaced and now keeps, its worker
 * slot's newest again: the one whose pid a report shows.
 */
void
stats_slot_newest(struct stats_slot *st)
{
	st->serial = ++stats_serial;
}

/* Copy the process gauges of b into a. */
static void
stats_copy_process(struct stats_slot *a, const struct stats_slot *b)
{
	a->start_time = b->start_time;
	a->rss = b->rss;
	a->open_fds = b->open_fds;
	a->max_fds = b->max_fds;
	a->max_conns = b->max_conns;
	a->max_inflight = b->max_inflight;
	a->offload_queued = b->offload_queued;
}

/*
 * Copy each worker slot's totals into rows (nslots of them): its retired
 * entry plus its live processes, with the pid and process gauges of the
 * newest; and, unless
 * methods is NULL, the calls of each method summed over every process
 * into methods (RPCD_STATS_ROWS of them).  Retry while the master folds,
 * so the copy is of one moment.
 */
void
stats_snapshot(struct stats_slot *rows, struct stats_method *methods)
{
	const struct stats_slot	*p;
	unsigned int		 seq;
	int			 i, tries = 0;
	int64_t			 newest;

	do {
		seq = atomic_load_explicit(&stats_head->seq,
		    memory_order_acquire);
		for (i = 0; i < stats_nslots; i++) {
			memset(&rows[i], 0, sizeof rows[i]);
			stats_sum(&rows[i], &stats_retired[i], 0);
			rows[i].index = i;
		}
		if (methods != NULL)
			memset(methods, 0, RPCD_STATS_ROWS * sizeof *methods);
		for (i = 0; methods != NULL && i < stats_nslots; i++)
			stats_sum_methods(methods,
			    &stats_retired_methods[i * RPCD_STATS_ROWS],
			    RPCD_STATS_ROWS, 0);
		for (i = 0; i < stats_nprocs; i++) {
			p = &stats_procs[i];
			if (p->pid <= 0)
				continue;
			stats_sum(&rows[p->index], p, 1);
			if (methods != NULL)
				stats_sum_methods(methods, stats_methods_of(p),
				    RPCD_STATS_ROWS, 1);
			newest = rows[p->index].serial;
			if (newest == 0 || p->serial > newest) {
				rows[p->index].serial = p->serial;
				rows[p->index].pid = p->pid;
				stats_copy_process(&rows[p->index], p);
			}
		}
		atomic_thread_fence(memory_order_acquire);
	} while (++tries < STATS_READ_TRIES && (seq & 1 ||
	    seq != atomic_load_explicit(&stats_head->seq,
	    memory_order_relaxed)));
}

static int
stats_add(struct json_object *o, const char *key, int64_t v)
{
	return (json_add(o, key, json_object_new_int64(v)));
}

/* Add the counters of st to a stats object; -1 if one is missing. */
static int
stats_add_counters(struct json_object *o, const struct stats_slot *st)
{
	int	failed;

	failed = stats_add(o, "connections", st->connections);
	failed |= stats_add(o, "total_connections", st->total_connections);
	failed |= stats_add(o, "requests", st->requests);
	failed |= stats_add(o, "errors", st->errors);
	failed |= stats_add(o, "rejected", st->rejected);
	failed |= stats_add(o, "proxy_errors", st->proxy_errors);
	failed |= stats_add(o, "proxy_untrusted", st->proxy_untrusted);
	failed |= stats_add(o, "bytes_in", st->bytes_in);
	failed |= stats_add(o, "bytes_out", st->bytes_out);
	failed |= stats_add(o, "tls_handshake_failures",
	    st->tls_handshake_failures);
	failed |= stats_add(o, "too_large", st->too_large);
	failed |= stats_add(o, "bad_requests", st->bad_requests);
	failed |= stats_add(o, "foreign_protocol", st->foreign);
	failed |= stats_add(o, "timeouts", st->timeouts);
	failed |= stats_add(o, "denied", st->denied);
	failed |= stats_add(o, "client_refused", st->client_refused);
	failed |= stats_add(o, "client_waits", st->client_waits);
	failed |= stats_add(o, "restarts", st->restarts);
	return (failed);
}

/*
 * Is row of counters m one to report?  Every framed one, and an HTTP one
 * that has seen a call: most servers have no HTTP listener.
 */
int
stats_row_used(int row, const struct stats_method *m)
{
	return (row < RPCD_METHOD_ROWS || m->calls > 0 || m->in_flight > 0 ||
	    m->denied > 0 || m->rate_limited > 0);
}

/*
 * The bound, in microseconds, of the bucket where a fraction q of the
 * calls of m is reached; -1 past the last bound, 0 with no calls.
 */
static int64_t
stats_quantile(const struct stats_method *m, double q)
{
	int64_t	seen = 0;
	int	i;

	for (i = 0; i <= RPCD_BUCKETS && m->calls > 0; i++) {
		seen += m->buckets[i];
		if (seen >= q * m->calls)
			return (i < RPCD_BUCKETS ? stats_bucket_ns[i] / 1000 :
			    -1);
	}
	return (0);
}

/*
 * A method's counters over every worker: calls, errors, timeouts, in
 * flight, the latency's sum, the bucket bounds of its median and 99th
 * percentile, and its histogram: the count of each bucket with calls,
 * keyed by its bound in microseconds ("inf" for the last); NULL out of
 * memory.
 */
static struct json_object *
stats_method_to_json(const char *name, const char *frontend,
    const struct stats_method *m)
{
	struct json_object	*o, *hist, *v;
	char			 bound[24];
	int			 i, failed;

	o = json_object_new_object();
	failed = json_add(o, "name", json_object_new_string(name));
	failed |= stats_add(o, "calls", m->calls);
	failed |= stats_add(o, "errors", m->errors);
	failed |= stats_add(o, "timeouts", m->timeouts);
	failed |= stats_add(o, "denied", m->denied);
	failed |= stats_add(o, "rate_limited", m->rate_limited);
	failed |= stats_add(o, "in_flight", m->in_flight);
	failed |= stats_add(o, "latency_sum_us", m->nanoseconds / 1000);
	failed |= stats_add(o, "p50_us", stats_quantile(m, 0.5));
	failed |= stats_add(o, "p99_us", stats_quantile(m, 0.99));
	failed |= json_add(o, "frontend", json_object_new_string(frontend));
	hist = json_object_new_object();
	for (i = 0; i <= RPCD_BUCKETS; i++) {
		if (m->buckets[i] == 0)
			continue;
		if (i < RPCD_BUCKETS)
			snprintf(bound, sizeof bound, "%lld",
			    (long long)(stats_bucket_ns[i] / 1000));
		else
			snprintf(bound, sizeof bound, "inf");
		/* The key is copied: not json_add()'s constant. */
		v = json_object_new_int64(m->buckets[i]);
		if (hist == NULL || v == NULL ||
		    json_object_object_add(hist, bound, v) != 0) {
			json_object_put(v);
			failed = 1;
		}
	}
	failed |= json_add(o, "histogram", hist);
	if (failed) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

/*
 * Build the stats result: a row per worker slot, with the pid of the
 * process serving it (none while it is respawned), and their totals.
 * NULL if memory ran out: a report with rows or counters missing would
 * read as true.
 */
struct json_object *
stats_to_json(void)
{
	static struct stats_method methods[RPCD_STATS_ROWS];
	struct json_object	*o, *workers, *w, *total, *list;
	struct stats_slot	 sum = { 0 }, rows[RPCD_PREFORK_MAX];
	const char		*name, *frontend;
	int			 i, failed = 0;

	stats_snapshot(rows, methods);
	workers = json_object_new_array();
	for (i = 0; i < stats_nslots; i++) {
		w = json_object_new_object();
		failed |= stats_add(w, "index", rows[i].index);
		if (rows[i].pid > 0)
			failed |= stats_add(w, "pid", rows[i].pid);
		failed |= stats_add_counters(w, &rows[i]);
		failed |= json_add(workers, NULL, w);
		stats_sum(&sum, &rows[i], 1);
	}
	total = json_object_new_object();
	failed |= stats_add_counters(total, &sum);
	list = json_object_new_array();
	for (i = 0; i < RPCD_STATS_ROWS; i++) {
		if ((name = stats_row_name(i, &frontend)) != NULL &&
		    stats_row_used(i, &methods[i]))
			failed |= json_add(list, NULL,
			    stats_method_to_json(name, frontend, &methods[i]));
	}

	o = json_object_new_object();
	failed |= json_add(o, "version",
	    json_object_new_string(VERSION));
	failed |= stats_add(o, "pid", daemon_pid);
	failed |= json_add(o, "uptime",
	    json_object_new_double(difftime(time(NULL), daemon_started)));
	failed |= json_add(o, "methods", list);
	failed |= json_add(o, "workers", workers);
	failed |= json_add(o, "total", total);
	if (failed) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

/*
 * The open descriptors of this process, the one reading the list aside;
 * -1 where the system does not list them.
 */
static int64_t
stats_count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int64_t		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL &&
	    (d = opendir("/dev/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return (n - 1);
}

/* Bytes of this process resident in memory; -1 where unknown. */
static int64_t
stats_rss(void)
{
	FILE		*f;
	long long	 size, resident;
	int		 n;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return (-1);
	n = fscanf(f, "%lld %lld", &size, &resident);
	fclose(f);
	if (n != 2)
		return (-1);
	return (resident * sysconf(_SC_PAGESIZE));
}

/* Write this process's gauges into st, for the metrics to read. */
static void
stats_process_update(struct stats_slot *st)
{
	struct rusage	ru;
	struct rlimit	rl;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		st->cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		    1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	st->rss = stats_rss();
	st->open_fds = stats_count_fds();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		st->max_fds = rl.rlim_cur;
	else
		st->max_fds = -1;
}

static void
stats_process_cb(evutil_socket_t fd, short events, void *arg)
{
	stats_process_update(arg);
}

/*
 * Publish this process's gauges in st now and every
 * RPCD_PROCESS_INTERVAL from base: the metrics process of --prefork
 * cannot read them itself (once privileges are dropped, another
 * process's descriptors are not its to list).
 */
void
stats_process_start(struct event_base *base, struct stats_slot *st,
    const struct settings *s)
{
	struct timeval	tv = { RPCD_PROCESS_INTERVAL, 0 };

	st->start_time = time(NULL);
	st->max_conns = s->max_conns;
	st->max_inflight = s->max_inflight;
	stats_process_update(st);
	stats_process_ev = event_new(base, -1, EV_PERSIST, stats_process_cb,
	    st);
	if (stats_process_ev == NULL || event_add(stats_process_ev, &tv) != 0)
		fatalx("cannot start the process gauges' timer");
}

/* Stop publishing, before base is freed. */
void
stats_process_stop(void)
{
	if (stats_process_ev != NULL)
		event_free(stats_process_ev);
	stats_process_ev = NULL;
}
