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
 * Modules: shared objects loaded with -m (or the module directive) that
 * add methods to the registry.  They are loaded, checked and initialised
 * in the master before any fork, so that a bad module stops the start
 * with one line, not a worker; each worker then runs their worker_init
 * hooks once its event loop exists.  A module links no rpcd symbol: it
 * gets the table of functions below (rpcd/module.h is the contract).
 *
 * A reload (SIGHUP with --prefork) builds the new generation's registry
 * from the new module list.  A module loaded already, with the same
 * arguments and its file unchanged, is kept: its init() does not run
 * again, and its methods go into the new registry as they were.  Any
 * other module is loaded and initialised anew.  dlopen(3) answers the
 * handle loaded already for a path, or a file, that is loaded, so a
 * module whose arguments or file changed cannot get a fresh copy, and a
 * second init() in the same copy would find its state set: it is kept as
 * it runs, and the log says it needs a restart.  A module that fails
 * fails the whole reload: what it loaded is unloaded and the registry in
 * use does not change.  A module that no registry holds any more, once
 * the old generation is gone, is unloaded (registry_free()).
 *
 * Layer: call (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpcd/proto.h"
#include "rpcd/module.h"
#include "rpcd.h"

/* A loaded module. */
struct module {
	char			*spec;		/* "PATH ARGS..." as given */
	char			*path;
	int			 argc;
	char			**argv;
	void			*handle;
	const struct rpcd_module *desc;
	struct stat		 st;		/* of the file loaded */
	int			 refs;		/* registries holding it */
};

static struct module	*module_loading;	/* whose init() runs */
static char		 module_refused[256];	/* why a method was not */
static struct server	*module_server;		/* in a worker */

static const struct rpcd_api	module_api;

/* Split spec, "PATH ARGS...", at blanks into a new argv; return argc. */
static int
module_split(const char *spec, char ***argvp)
{
	char	**argv = NULL, *copy, *word, *last;
	int	  argc = 0;

	copy = xstrdup(spec);
	for (word = strtok_r(copy, " \t", &last); word != NULL;
	    word = strtok_r(NULL, " \t", &last)) {
		argv = xreallocarray(argv, argc + 2, sizeof *argv);
		argv[argc++] = xstrdup(word);
	}
	if (argv == NULL)
		argv = xcalloc(1, sizeof *argv);
	argv[argc] = NULL;
	free(copy);
	*argvp = argv;
	return (argc);
}

static void
module_free_argv(char **argv)
{
	char	**p;

	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

/* A module's file: a name without a slash is in the module directory. */
static char *
module_path(const char *name)
{
	char	*path;

	if (strchr(name, '/') != NULL)
		return (xstrdup(name));
	if (asprintf(&path, "%s/%s%s", RPCD_MODULE_DIR, name,
	    strchr(name, '.') != NULL ? "" : ".so") == -1)
		fatal("asprintf");
	return (path);
}

/*
 * Open the module at path and check its descriptor, without running any
 * of its code but its constructors.  Like sshd's StrictModes, refuse a
 * file others than its owner could have written.  On error return -1
 * with why in err.
 */
static int
module_open(const char *path, void **handlep,
    const struct rpcd_module **descp, struct stat *stp, char *err,
    size_t len)
{
	const struct rpcd_module	*desc;
	struct stat			 st;
	void				*handle;

	if (stat(path, &st) != 0) {
		snprintf(err, len, "module %s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, len, "module %s: not a regular file", path);
		return (-1);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, len, "module %s: writable by group or others "
		    "(mode %03o): refused", path, (int)(st.st_mode & 0777));
		return (-1);
	}
	if ((handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, len, "module %s: not a loadable shared object: "
		    "%s", path, dlerror());
		return (-1);
	}
	if ((desc = dlsym(handle, RPCD_MODULE_SYMBOL)) == NULL) {
		snprintf(err, len, "module %s: no %s descriptor: not an rpcd "
		    "module", path, RPCD_MODULE_SYMBOL);
		goto fail;
	}
	if (desc->abi_major != RPCD_MODULE_ABI_MAJOR ||
	    desc->abi_minor > RPCD_MODULE_ABI_MINOR) {
		snprintf(err, len, "module %s: built for module ABI %u.%u, "
		    "rpcd has %u.%u", path, desc->abi_major, desc->abi_minor,
		    RPCD_MODULE_ABI_MAJOR, RPCD_MODULE_ABI_MINOR);
		goto fail;
	}
	if (desc->name == NULL || desc->version == NULL) {
		snprintf(err, len, "module %s: descriptor without a name or "
		    "a version", path);
		goto fail;
	}
	*handlep = handle;
	*descp = desc;
	*stp = st;
	return (0);
fail:
	dlclose(handle);
	return (-1);
}

/* Free m, a module of no registry, or one that never loaded. */
static void
module_free(struct module *m)
{
	if (m->handle != NULL)
		dlclose(m->handle);
	free(m->spec);
	free(m->path);
	module_free_argv(m->argv);
	free(m);
}

/* A registry lets go of m: unload it if it was the last one holding it. */
static void
module_release(struct module *m)
{
	if (--m->refs == 0)
		module_free(m);
}

/* Registry r holds m, a reference counted, until registry_free(). */
static void
module_hold(struct registry *r, struct module *m)
{
	r->modules[r->nmodules++] = m;
	r->release = module_release;
}

/*
 * Load the module of spec, "PATH ARGS...", into the registry in use, run
 * its init() and register its methods.  On error return -1 with why in
 * err; the registry holds what was loaded, for registry_free().
 */
static int
module_load(const char *spec, char *err, size_t len)
{
	struct registry	*r = registry_current();
	struct module	*m;
	char		 why[200];
	int		 rc;

	m = xcalloc(1, sizeof *m);
	m->spec = xstrdup(spec);
	m->argc = module_split(spec, &m->argv);
	if (m->argc == 0) {
		snprintf(err, len, "module: no path given");
		module_free(m);
		return (-1);
	}
	m->path = module_path(m->argv[0]);
	free(m->argv[0]);
	m->argv[0] = xstrdup(m->path);
	if (module_open(m->path, &m->handle, &m->desc, &m->st, err,
	    len) != 0) {
		module_free(m);
		return (-1);
	}
	m->refs = 1;
	module_hold(r, m);
	if (m->desc->init == NULL)
		return (0);
	*why = '\0';
	*module_refused = '\0';
	module_loading = m;
	rc = m->desc->init(&module_api, m->argc, m->argv, why, sizeof why);
	module_loading = NULL;
	if (*module_refused != '\0') {
		snprintf(err, len, "module %s: %s", m->path, module_refused);
		return (-1);
	}
	if (rc != 0) {
		snprintf(err, len, "module %s: init failed: %s", m->path,
		    *why != '\0' ? why : "no reason given");
		return (-1);
	}
	return (0);
}

/*
 * Load every module of the settings, in order, in the master; on error
 * print one line and exit 1.
 */
void
module_load_all(const struct settings *s)
{
	char	err[PATH_MAX + 512];
	int	i;

	for (i = 0; i < s->nmodules; i++) {
		if (module_load(s->modules[i], err, sizeof err) != 0) {
			fprintf(stderr, "rpcd: %s\n", err);
			exit(1);
		}
	}
}

/*
 * The module of registry old that dlopen() would answer for spec: loaded
 * from the same path or the same file.  NULL if none is, or the file
 * cannot be read (loading it will say why).
 */
static struct module *
module_loaded(const struct registry *old, const char *spec)
{
	struct module	*m = NULL;
	struct stat	 st;
	char		**argv, *path = NULL;
	int		 i;

	if (module_split(spec, &argv) > 0)
		path = module_path(argv[0]);
	module_free_argv(argv);
	if (path != NULL && stat(path, &st) == 0) {
		for (i = 0; i < old->nmodules && m == NULL; i++) {
			if (strcmp(old->modules[i]->path, path) == 0 ||
			    (old->modules[i]->st.st_dev == st.st_dev &&
			    old->modules[i]->st.st_ino == st.st_ino))
				m = old->modules[i];
		}
	}
	free(path);
	return (m);
}

/* Has the file of m changed since it was loaded? */
static int
module_changed(const struct module *m)
{
	struct stat	st;

	if (stat(m->path, &st) != 0)
		return (1);
	return (st.st_dev != m->st.st_dev || st.st_ino != m->st.st_ino ||
	    st.st_size != m->st.st_size || st.st_mtime != m->st.st_mtime);
}

/*
 * Put m, a module of registry old, into the registry in use with its
 * methods, without running its init() again.  On error return -1 with
 * why in err.
 */
static int
module_keep(const struct registry *old, struct module *m, char *err,
    size_t len)
{
	struct registry		*r = registry_current();
	const struct method	*from, *taken;
	struct method		*to;
	int			 i;

	for (i = 0; i < r->nmodules; i++) {
		if (r->modules[i] == m) {
			snprintf(err, len, "module %s: given twice", m->path);
			return (-1);
		}
	}
	m->refs++;
	module_hold(r, m);
	for (i = 0; i < old->nmethods; i++) {
		from = &old->methods[i];
		if (from->module != m)
			continue;
		if ((taken = registry_find(from->name)) != NULL) {
			snprintf(err, len, "module %s: method %s is taken "
			    "already (by module %s)", m->path, from->name,
			    module_name(taken->module));
			return (-1);
		}
		if ((to = registry_add(from->name, from->help,
		    from->fn)) == NULL) {
			snprintf(err, len, "module %s: method %s: more than "
			    "%d methods in all", m->path, from->name,
			    RPCD_METHODS_MAX);
			return (-1);
		}
		to->module = m;
		to->owner = from->owner;
		to->def = from->def;
		to->def.name = to->name;
		to->def.help = to->help;
	}
	return (0);
}

/*
 * SIGHUP: build the registry of the new generation from the modules of
 * s, keeping those of the registry in use that did not change and
 * loading the others.  A module whose arguments or file changed is kept
 * as it runs (its spec put back into s) and logged as needing a restart.
 * Return the new registry, which the caller puts in use; or NULL, with
 * why in err, after undoing what was loaded.  The registry in use does
 * not change.
 */
struct registry *
module_reload(struct settings *s, char *err, size_t len)
{
	struct registry	*old, *r;
	struct module	*m;
	int		 i, error = 0;

	r = registry_new();
	old = registry_use(r);
	for (i = 0; i < s->nmodules && !error; i++) {
		if ((m = module_loaded(old, s->modules[i])) == NULL) {
			error = module_load(s->modules[i], err, len);
			continue;
		}
		if (strcmp(m->spec, s->modules[i]) != 0 || module_changed(m)) {
			log_warnx("SIGHUP: module %s changed (now '%s'): it "
			    "needs a restart, and stays '%s' until then",
			    m->path, s->modules[i], m->spec);
			free(s->modules[i]);
			s->modules[i] = xstrdup(m->spec);
		}
		error = module_keep(old, m, err, len);
	}
	registry_use(old);
	if (error) {
		registry_free(r);
		return (NULL);
	}
	return (r);
}

/* The name of a module, for log lines and the methods method. */
const char *
module_name(const struct module *m)
{
	return (m->desc->name);
}

/*
 * In a worker: start the thread pool, if there are modules, and run every
 * module's worker_init(), in order.
 */
void
module_worker_init(struct server *srv)
{
	const struct registry	*r = registry_current();
	int			 i;

	module_server = srv;
	if (r->nmodules > 0)
		pool_start(srv, call_offloaded);
	for (i = 0; i < r->nmodules; i++) {
		if (r->modules[i]->desc->worker_init != NULL &&
		    r->modules[i]->desc->worker_init(&module_api,
		    srv->base) != 0)
			fatalx("module %s: worker init failed",
			    r->modules[i]->path);
	}
}

/* In a worker that ends: run every module's worker_exit(), in reverse. */
void
module_worker_exit(void)
{
	const struct registry	*r = registry_current();
	int			 i;

	/* What the threads did is answered (or dropped) first. */
	pool_stop();
	for (i = r->nmodules - 1; i >= 0; i--) {
		if (r->modules[i]->desc->worker_exit != NULL)
			r->modules[i]->desc->worker_exit();
	}
	module_server = NULL;
}

/*
 * A module's method was called: run its handler.  One that returns
 * without answering or keeping the call (defer, offload) is a bug of the
 * module: it is answered internal_error and logged, as a result that is
 * not JSON is.
 */
static void
module_call(struct call *call)
{
	const struct rpcd_method	*def = &call->method->def;

	def->handler((struct rpcd_call *)call, def->arg);
	if (call_unanswered(call)) {
		log_warnx("module %s: method %s returned without an answer",
		    call->method->owner, call->method->name);
		call_error(call, PROTO_EINTERNAL);
	}
}

static int
module_register_method(const struct rpcd_method *def)
{
	const struct method	*taken;
	struct method		*m;
	size_t			 len;

	if (module_loading == NULL || *module_refused != '\0')
		return (-1);
	len = def->name != NULL ? strlen(def->name) : 0;
	if (len == 0 || len > PROTO_NAME_MAX || def->handler == NULL) {
		snprintf(module_refused, sizeof module_refused,
		    "a method without a handler or a name of 1 to %d bytes",
		    PROTO_NAME_MAX);
		return (-1);
	}
	if ((taken = registry_find(def->name)) != NULL) {
		snprintf(module_refused, sizeof module_refused,
		    "method %s is taken already (%s%s)", def->name,
		    taken->module != NULL ? "by module " : "built in",
		    taken->module != NULL ? module_name(taken->module) : "");
		return (-1);
	}
	if (registry_count() == RPCD_METHODS_MAX) {
		snprintf(module_refused, sizeof module_refused,
		    "method %s: more than %d methods in all", def->name,
		    RPCD_METHODS_MAX);
		return (-1);
	}
	if ((m = registry_add(def->name, def->help, module_call)) == NULL) {
		snprintf(module_refused, sizeof module_refused,
		    "method %s: every one of the %d rows of statistics is "
		    "taken by a method since rpcd started: restart it",
		    def->name, RPCD_METHOD_ROWS);
		return (-1);
	}
	m->module = module_loading;
	m->owner = module_name(module_loading);
	m->def = *def;
	m->def.name = m->name;
	m->def.help = m->help;
	return (0);
}

static struct event_base *
module_event_base(void)
{
	return (module_server != NULL ? module_server->base : NULL);
}

static void printflike(2, 3)
module_log(int level, const char *fmt, ...)
{
	va_list	ap;
	char	line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (level <= RPCD_LOG_WARN)
		log_warnx("%s", line);
	else if (level == RPCD_LOG_INFO)
		log_info("%s", line);
	else
		log_debug("%s", line);
}

static const struct rpcd_api module_api = {
	.abi_major = RPCD_MODULE_ABI_MAJOR,
	.abi_minor = RPCD_MODULE_ABI_MINOR,
	.size = sizeof(struct rpcd_api),
	.register_method = module_register_method,
	.params = call_api_params,
	.method = call_api_method,
	.reply = call_api_reply,
	.reply_error = call_api_reply_error,
	.defer = call_api_defer,
	.offload = call_api_offload,
	.cancelled = call_api_cancelled,
	.event_base = module_event_base,
	.log = module_log,
	.caller = call_api_caller,
	.set_data = call_api_set_data,
	.data = call_api_data,
};
