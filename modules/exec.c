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
 * The exec module (rpcd-exec(8)): methods that run programs.  Each method
 * names a program and its arguments, run without a shell; a call writes
 * its params to the program's standard input and answers with what the
 * program prints.  Everything happens in the worker's event loop: the
 * call is deferred, the child's pipes are libevent events, its deadline
 * a timer, and its exit a SIGCHLD event.  No threads.
 *
 * A child runs in a process group of its own, with an environment of the
 * allowed variables only.  The group is killed at the deadline, when the
 * output passes its bound, when the call is cancelled (the client went
 * away, or rpcd's own deadline), and when the program exits, so that
 * nothing it started outlives the call.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "rpcd/proto.h"
#include "rpcd/module.h"

/* Defaults of the options, and their bounds. */
#define EXEC_TIMEOUT		10000		/* ms a program may run */
#define EXEC_TIMEOUT_MAX	86400000	/* ms: a day */
#define EXEC_MAX_OUTPUT		(1024 * 1024)	/* bytes of stdout */
#define EXEC_MAX_OUTPUT_MAX	(64 * 1024 * 1024)
#define EXEC_MAX_PROCS		8		/* programs at once, per worker */
#define EXEC_MAX_PROCS_MAX	1024
#define EXEC_ENV		"PATH,LANG,LC_ALL,TZ"

#define EXEC_GRACE		1000	/* ms: rpcd's deadline after ours */
#define EXEC_ERR_KEEP		4096	/* bytes of stderr kept: its tail */
#define EXEC_ERR_LINES		5	/* lines of it in an error reply */
#define EXEC_READ		65536	/* bytes read at a time */

/* A module instance: one per -m, with its options. */
struct exec_conf {
	int		 timeout;	/* ms */
	size_t		 max_output;
	int		 max_procs;
	char		**envp;		/* the allowed variables */
	int		 running;	/* children, in this worker */
	struct exec_prog *progs;
	struct exec_conf *next;
};

/* A method: the program it runs. */
struct exec_prog {
	struct exec_conf *conf;
	char		**argv;
	char		 *help;
	struct exec_prog *next;
};

/* A running program and the call it answers. */
struct exec_job {
	TAILQ_ENTRY(exec_job)	 entry;
	const struct exec_prog	*prog;
	struct rpcd_call	*call;	/* NULL once answered or cancelled */
	pid_t			 pid;	/* 0 once reaped */
	int			 status;
	int			 in_fd, out_fd, err_fd;	/* -1: closed */
	struct event		*in_ev, *out_ev, *err_ev, *timer;
	char			*in;	/* the params and a newline */
	size_t			 in_len, in_off;
	char			*out;
	size_t			 out_len, out_size;
	char			 err[EXEC_ERR_KEEP];
	size_t			 err_len;
};

TAILQ_HEAD(exec_jobs, exec_job);

static const struct rpcd_api	*api;
static struct exec_conf		*exec_confs;	/* every instance's */
static struct exec_jobs		 exec_jobs = TAILQ_HEAD_INITIALIZER(exec_jobs);
static struct event		*exec_sigchld;

static void	exec_job_check(struct exec_job *);

#ifndef HAVE_CLOSEFROM
/* Close every descriptor from fd on, where libc has no closefrom(3). */
static void
closefrom(int fd)
{
	long	max;

	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > INT_MAX)
		max = 1024;
	for (; fd < max; fd++)
		close(fd);
}
#endif

/* Parse a number of min to max from text; -1 if it is not one. */
static long long
exec_number(const char *text, long long min, long long max)
{
	long long	 n;
	char		*end;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < min || n > max)
		return (-1);
	return (n);
}

/* Split text at commas into a new NULL-terminated vector. */
static char **
exec_split(const char *text)
{
	const char	 *t;
	char		**v, *copy, *p;
	size_t		  n = 1;

	for (t = text; *t != '\0'; t++)
		n += (*t == ',');
	if ((v = calloc(n + 1, sizeof *v)) == NULL ||
	    (copy = strdup(text)) == NULL) {
		free(v);
		return (NULL);
	}
	n = 0;
	while ((p = strsep(&copy, ",")) != NULL)
		v[n++] = p;
	return (v);
}

/*
 * The environment a child gets: each allowed variable that rpcd's own
 * environment has, as it was when the module was loaded.
 */
static char **
exec_env(const char *allowed)
{
	char		**names, **envp, *value;
	size_t		  i, n = 0;

	if ((names = exec_split(allowed)) == NULL)
		return (NULL);
	for (i = 0; names[i] != NULL; i++)
		;
	if ((envp = calloc(i + 1, sizeof *envp)) == NULL)
		goto out;
	for (i = 0; names[i] != NULL; i++) {
		if (*names[i] == '\0' || (value = getenv(names[i])) == NULL)
			continue;
		if (asprintf(&envp[n++], "%s=%s", names[i], value) == -1) {
			envp = NULL;	/* init fails: rpcd exits */
			break;
		}
	}
out:
	free(names[0]);
	free(names);
	return (envp);
}

/*
 * In the child, between fork and exec: only async-signal-safe calls.  The
 * child leads a process group of its own, so that the group can be killed
 * with whatever it starts, and gets the pipes as standard input, output
 * and error, no other descriptor of rpcd's, default signal dispositions
 * (an ignored signal stays ignored across exec) and no blocked signals.
 */
static void __attribute__((__noreturn__))
exec_child(const struct exec_prog *prog, int in, int out, int err)
{
	static const char	 msg[] = "rpcd exec: cannot execute ";
	struct sigaction	 sa;
	sigset_t		 none;
	int			 sig;

	setpgid(0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(127);
	closefrom(3);
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	execve(prog->argv[0], prog->argv, prog->conf->envp);
	(void)!write(2, msg, sizeof msg - 1);
	(void)!write(2, prog->argv[0], strlen(prog->argv[0]));
	(void)!write(2, "\n", 1);
	_exit(127);
}

/* Start the job's program; -1 with errno set if it could not. */
static int
exec_spawn(struct exec_job *job)
{
	sigset_t	all, old;
	int		fds[6], i, saved;

	for (i = 0; i < 6; i++)
		fds[i] = -1;
	for (i = 0; i < 6; i += 2) {
		if (pipe(fds + i) != 0)
			goto fail;
	}
	for (i = 0; i < 6; i++)
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	/* Our ends only: the child's must block, as programs expect. */
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[2], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[4], F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	/*
	 * With signals blocked, none runs rpcd's handler in the child (whose
	 * libevent would tell the parent's loop); the child unblocks them
	 * once their dispositions are back to the defaults.  pthread_sigmask,
	 * as the worker may have a thread pool.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if ((job->pid = fork()) == 0)
		exec_child(job->prog, fds[0], fds[3], fds[5]);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (job->pid == -1) {
		job->pid = 0;
		errno = saved;
		goto fail;
	}
	/* Here too, so that the group exists before we may kill it. */
	setpgid(job->pid, job->pid);
	close(fds[0]);
	close(fds[3]);
	close(fds[5]);
	job->in_fd = fds[1];
	job->out_fd = fds[2];
	job->err_fd = fds[4];
	return (0);
fail:
	saved = errno;
	for (i = 0; i < 6; i++) {
		if (fds[i] != -1)
			close(fds[i]);
	}
	errno = saved;
	return (-1);
}

/* Stop watching fd and close it. */
static void
exec_close(int *fd, struct event **ev)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/*
 * The job's program is done with: kill its whole group and stop reading,
 * writing and waiting for it.  The child is still reaped, by the SIGCHLD
 * event, before the job is freed.
 */
static void
exec_job_kill(struct exec_job *job)
{
	if (job->pid != 0)
		kill(-job->pid, SIGKILL);
	exec_close(&job->in_fd, &job->in_ev);
	exec_close(&job->out_fd, &job->out_ev);
	exec_close(&job->err_fd, &job->err_ev);
	if (job->timer != NULL)
		evtimer_del(job->timer);
}

static void
exec_job_free(struct exec_job *job)
{
	exec_job_kill(job);
	if (job->timer != NULL)
		event_free(job->timer);
	TAILQ_REMOVE(&exec_jobs, job, entry);
	job->prog->conf->running--;
	free(job->in);
	free(job->out);
	free(job);
}

/*
 * Answer the job's call with an error of code: what, then the last lines
 * of the program's standard error, in printable ASCII (a message must be
 * UTF-8, which stderr need not be).
 */
static void
exec_job_fail(struct exec_job *job, const char *code, const char *what)
{
	char		 msg[256 + EXEC_ERR_KEEP];
	const char	*tail = job->err + job->err_len;
	size_t		 len, i;
	int		 lines = 0;

	if (job->call == NULL)
		return;
	while (tail > job->err && tail[-1] == '\n')
		tail--;
	len = tail - job->err;
	while (tail > job->err && lines < EXEC_ERR_LINES)
		lines += (*--tail == '\n');
	if (*tail == '\n')
		tail++;
	len -= tail - job->err;
	i = snprintf(msg, sizeof msg, "%s%s", what,
	    len > 0 ? "; stderr:\n" : "");
	for (; len > 0 && i < sizeof msg - 1; len--, tail++)
		msg[i++] = (*tail == '\n' || (*tail >= ' ' && *tail <= '~')) ?
		    *tail : '?';
	msg[i] = '\0';
	api->reply_error(job->call, code, msg);
	job->call = NULL;
}

/*
 * Answer with the program's output, without its trailing newlines (as the
 * shell's `...` has it): as it is if it is JSON, otherwise as a string.
 */
static void
exec_job_result(struct exec_job *job)
{
	const char	*out = job->out != NULL ? job->out : "";
	char		*s, *p;
	size_t		 len = job->out_len, i;
	unsigned char	 c;

	while (len > 0 && out[len - 1] == '\n')
		len--;
	if (proto_json_check(out, len, PROTO_DEPTH_MAX) == PROTO_OK) {
		api->reply(job->call, out, len);
		job->call = NULL;
		return;
	}
	if (len > (SIZE_MAX - 3) / 6 || (s = malloc(len * 6 + 3)) == NULL) {
		exec_job_fail(job, "no_memory", "out of memory");
		return;
	}
	p = s;
	*p++ = '"';
	for (i = 0; i < len; i++) {
		if ((c = out[i]) == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = c;
		} else if (c < 0x20)
			p += sprintf(p, "\\u%04x", c);
		else
			*p++ = c;
	}
	*p++ = '"';
	if (proto_json_check(s, p - s, 1) != PROTO_OK)
		exec_job_fail(job, "bad_output", "the program's output is "
		    "neither JSON nor UTF-8 text");
	else {
		api->reply(job->call, s, p - s);
		job->call = NULL;
	}
	free(s);
}

/* How the job's program ended: "exit status 3", "killed by signal 15". */
static void
exec_job_status(const struct exec_job *job, char *buf, size_t len)
{
	int	st = job->status;

	if (WIFEXITED(st))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
}

/*
 * Once the program has exited and both its output pipes are closed,
 * answer its call (unless that was done already) and free the job.
 */
static void
exec_job_check(struct exec_job *job)
{
	char	what[128], how[64];
	int	st = job->status;

	if (job->pid != 0 || job->out_fd != -1 || job->err_fd != -1)
		return;
	if (job->call == NULL)
		;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		exec_job_result(job);
	else {
		exec_job_status(job, how, sizeof how);
		snprintf(what, sizeof what, "%s: %s", job->prog->argv[0], how);
		exec_job_fail(job, "program_failed", what);
	}
	exec_job_free(job);
}

/* Write what is left of the params to the program, as it reads them. */
static void
exec_stdin_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_job	*job = arg;
	ssize_t		 n;

	n = write(fd, job->in + job->in_off, job->in_len - job->in_off);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EPIPE: the program wants no more of them, which is its right. */
	if (n > 0 && (job->in_off += n) < job->in_len)
		return;
	exec_close(&job->in_fd, &job->in_ev);
}

/* Read the program's output, up to its bound. */
static void
exec_stdout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_job	*job = arg;
	struct exec_conf *conf = job->prog->conf;
	char		 what[128];
	size_t		 want;
	ssize_t		 n;
	char		*p;

	/* Room for a byte past the bound, to see that it was passed. */
	if (job->out_size - job->out_len < EXEC_READ &&
	    job->out_size <= conf->max_output) {
		want = job->out_size * 2 + EXEC_READ;
		if (want > conf->max_output + 1)
			want = conf->max_output + 1;
		if ((p = realloc(job->out, want)) == NULL) {
			exec_job_fail(job, "no_memory", "out of memory");
			exec_job_kill(job);
			return;
		}
		job->out = p;
		job->out_size = want;
	}
	n = read(fd, job->out + job->out_len, job->out_size - job->out_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		exec_close(&job->out_fd, &job->out_ev);
		exec_job_check(job);
		return;
	}
	if ((job->out_len += n) > conf->max_output) {
		snprintf(what, sizeof what, "%s: output over %zu bytes: "
		    "killed", job->prog->argv[0], conf->max_output);
		exec_job_fail(job, "too_large", what);
		exec_job_kill(job);
	}
}

/* Read the program's standard error, keeping only its tail. */
static void
exec_stderr_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_job	*job = arg;
	char		 buf[EXEC_READ];
	ssize_t		 n;
	size_t		 keep;

	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		exec_close(&job->err_fd, &job->err_ev);
		exec_job_check(job);
		return;
	}
	if ((size_t)n >= EXEC_ERR_KEEP) {
		memcpy(job->err, buf + n - EXEC_ERR_KEEP, EXEC_ERR_KEEP);
		job->err_len = EXEC_ERR_KEEP;
		return;
	}
	if (job->err_len + n > EXEC_ERR_KEEP) {
		keep = EXEC_ERR_KEEP - n;
		memmove(job->err, job->err + job->err_len - keep, keep);
		job->err_len = keep;
	}
	memcpy(job->err + job->err_len, buf, n);
	job->err_len += n;
}

/*
 * Reap the job's program if it has exited.  It is reaped by its own pid,
 * so that other children of rpcd's are left to their owners; and first
 * seen with WNOWAIT, so that its group is killed (whatever it left
 * running) while the zombie still holds the group's id, which no new
 * process can take until the zombie is reaped.  This is portable, where
 * a pidfd is Linux's.  Return 1 if it was reaped now.
 */
static int
exec_job_reap(struct exec_job *job)
{
	siginfo_t	si;

	if (job->pid == 0)
		return (0);
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, job->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
	    si.si_pid == 0)
		return (0);
	kill(-job->pid, SIGKILL);
	if (waitpid(job->pid, &job->status, 0) == job->pid)
		job->pid = 0;
	return (1);
}

/*
 * The deadline: kill the program and whatever it started.  A program that
 * has exited (its SIGCHLD may wait behind this timer in the loop) but
 * whose output is still open was not slow: a process it started outside
 * its group, which the kill at its exit did not reach, holds the pipe.
 * Say so, rather than that it still runs.
 */
static void
exec_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_job	*job = arg;
	char		 what[256], how[64];

	exec_job_reap(job);
	if (job->pid == 0) {
		exec_job_status(job, how, sizeof how);
		snprintf(what, sizeof what, "%s: %s, but its output was "
		    "still held open after %d ms, by a process it left "
		    "running outside its process group", job->prog->argv[0],
		    how, job->prog->conf->timeout);
	} else
		snprintf(what, sizeof what, "%s: still running after %d ms: "
		    "killed", job->prog->argv[0], job->prog->conf->timeout);
	exec_job_fail(job, "timeout", what);
	exec_job_kill(job);
	exec_job_check(job);
}

/* SIGCHLD, from a libevent signal event: reap what has exited. */
static void
exec_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	struct exec_job	*job, *next;

	for (job = TAILQ_FIRST(&exec_jobs); job != NULL; job = next) {
		next = TAILQ_NEXT(job, entry);
		if (exec_job_reap(job))
			exec_job_check(job);
	}
}

/* Watch one of the job's pipes. */
static int
exec_watch(struct exec_job *job, int fd, short what, event_callback_fn cb,
    struct event **ev)
{
	if ((*ev = event_new(api->event_base(), fd, what | EV_PERSIST, cb,
	    job)) == NULL || event_add(*ev, NULL) != 0)
		return (-1);
	return (0);
}

/* A method's handler: start its program, answer when it is done. */
static void
exec_call(struct rpcd_call *call, void *arg)
{
	const struct exec_prog	*prog = arg;
	struct exec_conf	*conf = prog->conf;
	struct exec_job		*job;
	struct timeval		 tv;
	const char		*params;
	char			 what[128];
	size_t			 len;

	if (conf->running >= conf->max_procs) {
		snprintf(what, sizeof what, "%d programs running already",
		    conf->running);
		api->reply_error(call, "busy", what);
		return;
	}
	if ((job = calloc(1, sizeof *job)) == NULL) {
		api->reply_error(call, "no_memory", "out of memory");
		return;
	}
	job->prog = prog;
	job->in_fd = job->out_fd = job->err_fd = -1;
	if ((params = api->params(call, &len)) != NULL) {
		if ((job->in = malloc(len + 1)) == NULL) {
			free(job);
			api->reply_error(call, "no_memory", "out of memory");
			return;
		}
		memcpy(job->in, params, len);
		job->in[len] = '\n';
		job->in_len = len + 1;
	}
	if ((call = api->defer(call)) == NULL) {
		free(job->in);
		free(job);
		return;
	}
	job->call = call;
	api->set_data(call, job);
	TAILQ_INSERT_TAIL(&exec_jobs, job, entry);
	conf->running++;
	if (exec_spawn(job) != 0) {
		snprintf(what, sizeof what, "%s: cannot start: %s",
		    prog->argv[0], strerror(errno));
		exec_job_fail(job, "program_failed", what);
		exec_job_free(job);
		return;
	}
	tv.tv_sec = conf->timeout / 1000;
	tv.tv_usec = conf->timeout % 1000 * 1000;
	if (exec_watch(job, job->out_fd, EV_READ, exec_stdout_cb,
	    &job->out_ev) != 0 ||
	    exec_watch(job, job->err_fd, EV_READ, exec_stderr_cb,
	    &job->err_ev) != 0 ||
	    (job->in_len > 0 && exec_watch(job, job->in_fd, EV_WRITE,
	    exec_stdin_cb, &job->in_ev) != 0) ||
	    (job->timer = evtimer_new(api->event_base(), exec_timer_cb,
	    job)) == NULL || evtimer_add(job->timer, &tv) != 0) {
		exec_job_fail(job, "no_memory", "out of memory");
		exec_job_kill(job);
		return;
	}
	if (job->in_len == 0)
		exec_close(&job->in_fd, &job->in_ev);
}

/* The call is gone (client away, or rpcd's deadline): stop its program. */
static void
exec_cancel(struct rpcd_call *call, void *arg)
{
	struct exec_job	*job = api->data(call);

	/* A job's call, until answered: then no cancel comes. */
	job->call = NULL;
	exec_job_kill(job);
	exec_job_check(job);
}

/* Add method NAME=PROGRAM[,ARG...] of conf; -1 with why in err. */
static int
exec_method(struct exec_conf *conf, const char *spec, char *err,
    size_t errlen)
{
	struct rpcd_method	 m;
	struct exec_prog	*prog;
	const char		*eq = strchr(spec, '=');
	char			*name = NULL;
	int			 rc = -1;

	/* On the instance's list, where rpcd's start stops if this fails. */
	if ((prog = calloc(1, sizeof *prog)) == NULL)
		goto nomem;
	prog->conf = conf;
	prog->next = conf->progs;
	conf->progs = prog;
	if ((name = strndup(spec, eq - spec)) == NULL ||
	    (prog->argv = exec_split(eq + 1)) == NULL ||
	    asprintf(&prog->help, "run %s", prog->argv[0]) == -1)
		goto nomem;
	if (*prog->argv[0] != '/')
		snprintf(err, errlen, "%s: the program must be an absolute "
		    "path: %s", name, prog->argv[0]);
	else if (access(prog->argv[0], X_OK) != 0)
		snprintf(err, errlen, "%s: %s: %s", name, prog->argv[0],
		    strerror(errno));
	else {
		memset(&m, 0, sizeof m);
		m.name = name;
		m.help = prog->help;
		m.handler = exec_call;
		m.cancel = exec_cancel;
		/* Ours answers first, with stderr's tail; rpcd's backs it. */
		m.timeout_ms = conf->timeout + EXEC_GRACE;
		m.arg = prog;
		rc = api->register_method(&m);	/* if not, rpcd says why */
	}
	free(name);
	return (rc);
nomem:
	free(name);
	snprintf(err, errlen, "out of memory");
	return (-1);
}

/*
 * Read the arguments: options --timeout=MS, --max-output=BYTES,
 * --max-procs=N and --env=NAME[,NAME...] for the whole instance, and a
 * NAME=PROGRAM[,ARG...] word for each method.
 */
static int
exec_init(const struct rpcd_api *a, int argc, char **argv, char *err,
    size_t errlen)
{
	struct exec_conf	*conf;
	const char		*env = EXEC_ENV, *v;
	long long		 n;
	int			 i, methods = 0;

	api = a;
	if ((conf = calloc(1, sizeof *conf)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	conf->next = exec_confs;
	exec_confs = conf;
	conf->timeout = EXEC_TIMEOUT;
	conf->max_output = EXEC_MAX_OUTPUT;
	conf->max_procs = EXEC_MAX_PROCS;
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		n = 0;
		if ((v = strchr(argv[i], '=')) == NULL)
			n = -1;
		else if (strncmp(argv[i], "--timeout=", 10) == 0)
			n = conf->timeout = exec_number(v + 1, 1,
			    EXEC_TIMEOUT_MAX);
		else if (strncmp(argv[i], "--max-output=", 13) == 0)
			conf->max_output = n = exec_number(v + 1, 1,
			    EXEC_MAX_OUTPUT_MAX);
		else if (strncmp(argv[i], "--max-procs=", 12) == 0)
			n = conf->max_procs = exec_number(v + 1, 1,
			    EXEC_MAX_PROCS_MAX);
		else if (strncmp(argv[i], "--env=", 6) == 0)
			env = v + 1;
		else
			n = -1;
		if (n == -1) {
			snprintf(err, errlen, "bad option %s (--timeout=MS, "
			    "--max-output=BYTES, --max-procs=N, "
			    "--env=NAME,...)", argv[i]);
			return (-1);
		}
	}
	if ((conf->envp = exec_env(env)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0)
			continue;
		if (strchr(argv[i], '=') == NULL || *argv[i] == '=' ||
		    argv[i][strlen(argv[i]) - 1] == '=') {
			snprintf(err, errlen, "bad method %s: not "
			    "NAME=PROGRAM[,ARG...]", argv[i]);
			return (-1);
		}
		if (exec_method(conf, argv[i], err, errlen) != 0)
			return (-1);
		methods++;
	}
	if (methods == 0) {
		snprintf(err, errlen, "no method: give NAME=PROGRAM[,ARG...]");
		return (-1);
	}
	return (0);
}

/* In each worker: watch SIGCHLD, once for every instance. */
static int
exec_worker_init(const struct rpcd_api *a, struct event_base *base)
{
	if (exec_sigchld != NULL)
		return (0);
	if ((exec_sigchld = evsignal_new(base, SIGCHLD, exec_sigchld_cb,
	    NULL)) == NULL || evsignal_add(exec_sigchld, NULL) != 0) {
		api->log(RPCD_LOG_WARN, "exec: cannot watch SIGCHLD");
		return (-1);
	}
	return (0);
}

/* The worker ends: kill what still runs, and reap it. */
static void
exec_worker_exit(void)
{
	struct exec_job	*job;

	while ((job = TAILQ_FIRST(&exec_jobs)) != NULL) {
		/* A call not cancelled is ours until answered: let it go. */
		exec_job_fail(job, "shutting_down", "rpcd is shutting down");
		exec_job_kill(job);
		if (job->pid != 0)
			waitpid(job->pid, NULL, 0);
		exec_job_free(job);
	}
	if (exec_sigchld != NULL) {
		event_free(exec_sigchld);
		exec_sigchld = NULL;
	}
}

const struct rpcd_module RPCD_MODULE_DESCRIPTOR = {
	RPCD_MODULE_ABI_MAJOR, RPCD_MODULE_ABI_MINOR, "exec", PACKAGE_VERSION,
	exec_init, exec_worker_init, exec_worker_exit
};
