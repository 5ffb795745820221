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
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rpcd.h"

static struct stats_slot	*stats_slots;
static int			 stats_count;

/* Map a zeroed region of n slots shared with future children. */
struct stats_slot *
stats_region_create(int n)
{
	void	*p;

	p = mmap(NULL, n * sizeof *stats_slots, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANON, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap stats region");
	stats_slots = p;
	stats_count = n;
	return (stats_slots);
}

/*
 * Take a free slot for worker index (in the master, before the fork); the
 * master frees it by zeroing pid when it reaps the worker.  Counters start
 * from zero for each process.
 */
struct stats_slot *
stats_slot_claim(int index, int64_t restarts)
{
	int	i;

	for (i = 0; i < stats_count; i++) {
		if (stats_slots[i].pid == 0) {
			memset(&stats_slots[i], 0, sizeof stats_slots[i]);
			stats_slots[i].pid = -1;	/* taken, not started */
			stats_slots[i].index = index;
			stats_slots[i].restarts = restarts;
			return (&stats_slots[i]);
		}
	}
	fatalx("no free stats slot for worker %d", index);
}

static void
stats_add(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

/* Build the stats result: every worker's slot and their totals. */
struct json_object *
stats_to_json(void)
{
	struct json_object	*o, *workers, *w, *total;
	struct stats_slot	 sum = { 0 }, *s;
	int			 i;

	workers = json_object_new_array();
	for (i = 0; i < stats_count; i++) {
		s = &stats_slots[i];
		if (s->pid <= 0)
			continue;
		w = json_object_new_object();
		stats_add(w, "index", s->index);
		stats_add(w, "pid", s->pid);
		stats_add(w, "connections", s->connections);
		stats_add(w, "total_connections", s->total_connections);
		stats_add(w, "requests", s->requests);
		stats_add(w, "errors", s->errors);
		stats_add(w, "bytes_in", s->bytes_in);
		stats_add(w, "bytes_out", s->bytes_out);
		stats_add(w, "restarts", s->restarts);
		json_object_array_add(workers, w);
		sum.connections += s->connections;
		sum.total_connections += s->total_connections;
		sum.requests += s->requests;
		sum.errors += s->errors;
		sum.bytes_in += s->bytes_in;
		sum.bytes_out += s->bytes_out;
	}
	total = json_object_new_object();
	stats_add(total, "connections", sum.connections);
	stats_add(total, "total_connections", sum.total_connections);
	stats_add(total, "requests", sum.requests);
	stats_add(total, "errors", sum.errors);
	stats_add(total, "bytes_in", sum.bytes_in);
	stats_add(total, "bytes_out", sum.bytes_out);

	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_string(VERSION));
	stats_add(o, "pid", rpcd_pid);
	json_object_object_add(o, "uptime",
	    json_object_new_double(difftime(time(NULL), rpcd_started)));
	json_object_object_add(o, "workers", workers);
	json_object_object_add(o, "total", total);
	return (o);
}
