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
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>

#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rpcd.h"

#define STATS_READ_TRIES	1000	/* a fold is a few stores */

/* The head of the shared region; the slots follow it. */
struct stats_head {
	atomic_uint	seq;		/* odd while the master folds */
};

static struct stats_head	*stats_head;
static struct stats_slot	*stats_retired;	/* one per worker slot */
static struct stats_slot	*stats_procs;	/* one per process */
static int			 stats_nslots;
static int			 stats_nprocs;
static int64_t			 stats_serial;	/* claims so far */

/*
 * Map a zeroed region for nprocs processes in nslots worker slots, shared
 * with future children.  Return the first process's entry.
 */
struct stats_slot *
stats_region_create(int nprocs, int nslots)
{
	size_t	 head, len;
	char	*p;

	/* Keep the slots' int64_t members aligned after the head. */
	head = (sizeof *stats_head + sizeof(int64_t) - 1) &
	    ~(sizeof(int64_t) - 1);
	len = head + (nslots + nprocs) * sizeof *stats_procs;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON,
	    -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap stats region");
	stats_head = (struct stats_head *)p;
	atomic_init(&stats_head->seq, 0);
	stats_retired = (struct stats_slot *)(p + head);
	stats_procs = stats_retired + nslots;
	stats_nslots = nslots;
	stats_nprocs = nprocs;
	return (stats_procs);
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
			stats_procs[i].pid = -1;	/* taken, not started */
			stats_procs[i].index = index;
			stats_procs[i].serial = ++stats_serial;
			return (&stats_procs[i]);
		}
	}
	fatalx("no free stats slot for worker %d", index);
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
	a->bytes_in += b->bytes_in;
	a->bytes_out += b->bytes_out;
	a->restarts += b->restarts;
	a->tls_handshake_failures += b->tls_handshake_failures;
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
	r->restarts += restarted;
	st->pid = 0;
	atomic_store_explicit(&stats_head->seq, seq + 2,
	    memory_order_release);
}

/*
 * Copy each worker slot's totals into rows (nslots of them): its retired
 * entry plus its live processes, with the pid of the newest.  Retry while
 * the master folds, so the copy is of one moment.
 */
static void
stats_snapshot(struct stats_slot *rows)
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
		for (i = 0; i < stats_nprocs; i++) {
			p = &stats_procs[i];
			if (p->pid <= 0)
				continue;
			stats_sum(&rows[p->index], p, 1);
			newest = rows[p->index].serial;
			if (newest == 0 || p->serial > newest) {
				rows[p->index].serial = p->serial;
				rows[p->index].pid = p->pid;
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
	return (dispatch_json_add(o, key, json_object_new_int64(v)));
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
	failed |= stats_add(o, "bytes_in", st->bytes_in);
	failed |= stats_add(o, "bytes_out", st->bytes_out);
	failed |= stats_add(o, "tls_handshake_failures",
	    st->tls_handshake_failures);
	failed |= stats_add(o, "restarts", st->restarts);
	return (failed);
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
	struct json_object	*o, *workers, *w, *total;
	struct stats_slot	 sum = { 0 }, rows[RPCD_PREFORK_MAX];
	int			 i, failed = 0;

	stats_snapshot(rows);
	workers = json_object_new_array();
	for (i = 0; i < stats_nslots; i++) {
		w = json_object_new_object();
		failed |= stats_add(w, "index", rows[i].index);
		if (rows[i].pid > 0)
			failed |= stats_add(w, "pid", rows[i].pid);
		failed |= stats_add_counters(w, &rows[i]);
		failed |= dispatch_json_add(workers, NULL, w);
		stats_sum(&sum, &rows[i], 1);
	}
	total = json_object_new_object();
	failed |= stats_add_counters(total, &sum);

	o = json_object_new_object();
	failed |= dispatch_json_add(o, "version",
	    json_object_new_string(VERSION));
	failed |= stats_add(o, "pid", rpcd_pid);
	failed |= dispatch_json_add(o, "uptime",
	    json_object_new_double(difftime(time(NULL), rpcd_started)));
	failed |= dispatch_json_add(o, "workers", workers);
	failed |= dispatch_json_add(o, "total", total);
	if (failed) {
		json_object_put(o);
		return (NULL);
	}
	return (o);
}
