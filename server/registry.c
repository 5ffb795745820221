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
 * in the master before any fork, so a method has the same index in every
 * worker, and the index names its row of per-method statistics.
 */

#include "config.h"

#include <sys/types.h>

#include <string.h>

#include "rpcd.h"

static struct method	*registry;
static int		 registry_n;

/*
 * Add a method; return it, or NULL if the name is taken or the registry
 * full.  Only at start-up: a later add would move the methods calls
 * point to.
 */
struct method *
registry_add(const char *name, const char *help, method_fn fn)
{
	struct method	*m;

	if (registry_find(name) != NULL || registry_n == RPCD_METHODS_MAX)
		return (NULL);
	registry = xreallocarray(registry, registry_n + 1, sizeof *registry);
	m = &registry[registry_n];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(name);
	m->help = xstrdup(help != NULL ? help : "");
	m->fn = fn;
	m->index = registry_n++;
	return (m);
}

/* The method called name, or NULL. */
const struct method *
registry_find(const char *name)
{
	int	i;

	for (i = 0; i < registry_n; i++) {
		if (registry[i].name[0] == name[0] &&
		    strcmp(registry[i].name, name) == 0)
			return (&registry[i]);
	}
	return (NULL);
}

/* How many methods there are; registry_get() takes 0 to that less 1. */
int
registry_count(void)
{
	return (registry_n);
}

const struct method *
registry_get(int index)
{
	return (&registry[index]);
}
