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
 * The method registry: every method rpcd answers, built-in or a module's,
 * in one table that dispatch looks names up in.  Methods are registered
 * in the master before any fork, so every worker of a generation has the
 * same registry.  A reload builds a new one (module.c) for the new
 * generation while the old generation's workers keep their copy of the
 * old one; the master keeps that until they are all gone, then frees it.
 * A method's index names its row of per-method statistics, which is the
 * name's for as long as the master lives (stats_method_row()), so that
 * the counters of a method that a reload keeps carry on from where they
 * were.
 *
 * Layer: call (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "rpcd.h"

static struct registry	*registry;	/* the one workers are forked with */

/* The registry in use, made empty at the first call. */
struct registry *
registry_current(void)
{
	if (registry == NULL)
		registry = xcalloc(1, sizeof *registry);
	return (registry);
}

/* Make r the registry in use; return the one it replaces. */
struct registry *
registry_use(struct registry *r)
{
	struct registry	*old = registry_current();

	registry = r;
	return (old);
}

/* A new registry with the built-in methods of the one in use. */
struct registry *
registry_new(void)
{
	const struct registry	*cur = registry_current();
	struct registry		*r;
	int			 i;

	r = xcalloc(1, sizeof *r);
	r->methods = xcalloc(RPCD_METHODS_MAX, sizeof *r->methods);
	for (i = 0; i < cur->nmethods; i++) {
		if (cur->methods[i].module != NULL)
			continue;
		r->methods[r->nmethods] = cur->methods[i];
		r->methods[r->nmethods].name = xstrdup(cur->methods[i].name);
		r->methods[r->nmethods].help = xstrdup(cur->methods[i].help);
		r->nmethods++;
	}
	return (r);
}

/*
 * Free r, a registry no process is forked with any more, and let go of
 * its modules: one that no other registry holds is unloaded.
 */
void
registry_free(struct registry *r)
{
	int	i;

	for (i = 0; i < r->nmethods; i++) {
		free(r->methods[i].name);
		free(r->methods[i].help);
	}
	for (i = r->nmodules - 1; i >= 0; i--)
		r->release(r->modules[i]);
	free(r->methods);
	free(r);
}

/*
 * Add a method to the registry in use; return it, or NULL if the name is
 * taken, the registry full or no row of statistics is left for a new
 * name.  Only into a registry no worker was forked with yet: the methods
 * do not move, since room for all of them is taken at once.
 */
struct method *
registry_add(const char *name, const char *help, method_fn fn)
{
	struct registry	*r = registry_current();
	struct method	*m;
	int		 row;

	if (registry_find(name) != NULL || r->nmethods == RPCD_METHODS_MAX ||
	    (row = stats_method_row(name)) == -1)
		return (NULL);
	if (r->methods == NULL)
		r->methods = xcalloc(RPCD_METHODS_MAX, sizeof *r->methods);
	m = &r->methods[r->nmethods++];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(name);
	m->help = xstrdup(help != NULL ? help : "");
	m->fn = fn;
	m->index = row;
	return (m);
}

/* The method of r called name, or NULL. */
const struct method *
registry_lookup(const struct registry *r, const char *name)
{
	int	i;

	for (i = 0; i < r->nmethods; i++) {
		if (r->methods[i].name[0] == name[0] &&
		    strcmp(r->methods[i].name, name) == 0)
			return (&r->methods[i]);
	}
	return (NULL);
}

/* The method called name in the registry in use, or NULL. */
const struct method *
registry_find(const char *name)
{
	return (registry_lookup(registry_current(), name));
}

/* How many methods there are; registry_get() takes 0 to that less 1. */
int
registry_count(void)
{
	return (registry_current()->nmethods);
}

const struct method *
registry_get(int i)
{
	return (&registry_current()->methods[i]);
}
