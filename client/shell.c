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
 * The interactive shell, as redis-cli's: rpcctl with no command reads
 * lines (ping, call, stats, methods, help, quit, or a bare method name),
 * runs each on one connection and prints the replies as call does.  A
 * connection that failed is told and opened again by the next line.  On a
 * terminal, libedit (when built with it) edits the lines, keeps their
 * history in ~/.rpcctl_history and completes commands and method names;
 * elsewhere the lines are read plainly, without a prompt.
 */

#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <editline/readline.h>
#endif
#include <json-c/json.h>

#include "rpcctl.h"

struct shell {
	struct options	*opt;
	struct client	 c;
	int		 connected;
	int		 tty;		/* prompts */
	int		 edit;		/* libedit: editing, history */
	int		 failed;	/* a line got an error */
	int		 unreachable;	/* the last line found no server */
	char		 prompt[ADDR_TEXT_MAX + 8];
	char		 history[PATH_MAX];	/* "": none kept */
};

/* The server's method names, for completion. */
static char	*shell_methods[SHELL_METHODS_MAX];
static int	 shell_nmethods;

static void
shell_methods_clear(void)
{
	while (shell_nmethods > 0)
		free(shell_methods[--shell_nmethods]);
}

/*
 * Ask the server its methods' names, for completion: once connected, and
 * again after each reconnect.  Return 0, or -1 if the connection failed,
 * with why in sh->c.err; an error reply leaves the list empty.
 */
static int
shell_methods_load(struct shell *sh)
{
	struct json_object	*o = NULL, *m, *name;
	struct json_tokener	*tok;
	size_t			 i;

	shell_methods_clear();
	if (client_send(&sh->c, "methods", NULL, 0) != 0 ||
	    client_read(&sh->c) != 0)
		return (-1);
	if (strcmp(sh->c.reply.name, "error") != 0 &&
	    sh->c.reply.value != NULL) {
		if ((tok = json_tokener_new()) == NULL)
			fatalx("json_tokener_new");
		o = json_tokener_parse_ex(tok, sh->c.reply.value,
		    sh->c.reply.value_len);
		json_tokener_free(tok);
	}
	for (i = 0; json_object_is_type(o, json_type_array) &&
	    i < json_object_array_length(o) &&
	    shell_nmethods < SHELL_METHODS_MAX; i++) {
		m = json_object_array_get_idx(o, i);
		if (json_object_object_get_ex(m, "name", &name) &&
		    json_object_is_type(name, json_type_string))
			shell_methods[shell_nmethods++] =
			    xstrdup(json_object_get_string(name));
	}
	json_object_put(o);
	client_consume(&sh->c);
	return (0);
}

/* The prompt: the address connected to, as redis-cli's. */
static void
shell_prompt_set(struct shell *sh)
{
	snprintf(sh->prompt, sizeof sh->prompt, "%s> ",
	    sh->connected ? sh->c.server : "not connected");
}

static void
shell_disconnect(struct shell *sh)
{
	if (sh->connected)
		client_close(&sh->c);
	sh->connected = 0;
	shell_prompt_set(sh);
}

/* Connect if not connected: 0, or -1 with why told. */
static int
shell_connect(struct shell *sh)
{
	char	err[1024];
	int	r;

	if (sh->connected)
		return (0);
	options_refresh(sh->opt);
	if ((r = client_open(&sh->c, sh->opt, 0, err, sizeof err)) != 0) {
		printf("(error) cannot connect to %s\n", err);
		sh->unreachable = 1;
		return (-1);
	}
	sh->connected = 1;
	if (sh->edit && shell_methods_load(sh) == -1) {
		printf("(error) %s\n", sh->c.err);
		sh->unreachable = 1;
		shell_disconnect(sh);
		return (-1);
	}
	sh->unreachable = 0;
	shell_prompt_set(sh);
	return (0);
}

/*
 * Send one request and print its reply with printer (call's or the
 * tables'); a connection that failed is told and closed, for the next
 * line to open again.
 */
static void
shell_request(struct shell *sh, const char *method, const char *params,
    int (*printer)(const struct client *, const char *))
{
	int	r;

	if (shell_connect(sh) == -1) {
		sh->failed = 1;
		return;
	}
	r = client_send(&sh->c, method, params,
	    params == NULL ? 0 : strlen(params));
	if (r == CLIENT_BADREQUEST) {
		printf("(error) %s\n", sh->c.err);
		sh->failed = 1;
		return;
	}
	if (r == 0)
		r = client_read(&sh->c);
	if (r != 0) {
		printf("(error) %s\n", sh->c.err);
		sh->failed = sh->unreachable = 1;
		shell_disconnect(sh);
		return;
	}
	if (printer(&sh->c, method) != EXIT_OK)
		sh->failed = 1;
	fflush(stdout);
	client_consume(&sh->c);
}

/* The reply to a ping without a message: "pong", as redis-cli's PONG. */
static int
shell_print_pong(const struct client *c, const char *method)
{
	if (strcmp(c->reply.name, "pong") == 0 && !c->opt->json) {
		printf("pong\n");
		return (EXIT_OK);
	}
	return (call_print(c, method));
}

static void
shell_help(void)
{
	printf("ping [message]          ask the server for a pong\n"
	    "call method [params]    call a method with JSON params\n"
	    "method [params]         the same\n"
	    "stats                   the server's counters\n"
	    "methods                 the server's methods\n"
	    "help                    this list\n"
	    "quit, exit              leave (as end of input does)\n"
	    "Params may span lines until their brackets balance.\n");
}

/* The word at *p, cut with a NUL; *p moves past the blanks after it. */
static char *
shell_word(char **p)
{
	char	*w = *p;

	while (**p != '\0' && !isspace((unsigned char)**p))
		(*p)++;
	if (**p != '\0')
		*(*p)++ = '\0';
	while (isspace((unsigned char)**p))
		(*p)++;
	return (w);
}

/*
 * Params as typed, or NULL if none; a line that is not JSON is told and
 * not sent.  Return -1 for that.
 */
static int
shell_params(struct shell *sh, char *rest, const char **params)
{
	size_t	len = strlen(rest);
	int	error;

	while (len > 0 && isspace((unsigned char)rest[len - 1]))
		rest[--len] = '\0';
	*params = NULL;
	if (len == 0)
		return (0);
	if ((error = proto_json_check(rest, len, PROTO_DEPTH_MAX)) !=
	    PROTO_OK) {
		printf("(error) params are not JSON: %s\n",
		    proto_strerror(error));
		sh->failed = 1;
		return (-1);
	}
	*params = rest;
	return (0);
}

/* Run one command line: 1 to go on, 0 to quit. */
static int
shell_line(struct shell *sh, char *line)
{
	struct json_object	*msg;
	const char		*params;
	char			*p = line, *word;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return (1);
	word = shell_word(&p);
	if (strcmp(word, "quit") == 0 || strcmp(word, "exit") == 0)
		return (0);
	if (strcmp(word, "help") == 0)
		shell_help();
	else if (strcmp(word, "ping") == 0) {
		if (*p == '\0') {
			shell_request(sh, "ping", NULL, shell_print_pong);
			return (1);
		}
		if ((msg = json_object_new_string(p)) == NULL)
			fatalx("out of memory");
		shell_request(sh, "ping", json_object_to_json_string_ext(msg,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		    call_print);
		json_object_put(msg);
	} else if ((strcmp(word, "stats") == 0 ||
	    strcmp(word, "methods") == 0) && *p != '\0') {
		printf("(error) usage: %s\n", word);
		sh->failed = 1;
	} else if (strcmp(word, "stats") == 0 || strcmp(word, "methods") == 0)
		shell_request(sh, word, NULL, table_print);
	else {
		if (strcmp(word, "call") == 0) {
			if (*p == '\0') {
				printf("(error) usage: call method "
				    "[params]\n");
				sh->failed = 1;
				return (1);
			}
			word = shell_word(&p);
		}
		if (shell_params(sh, p, &params) == 0)
			shell_request(sh, word, params, call_print);
	}
	return (1);
}

/*
 * How many more brackets and braces the text opens than it closes,
 * outside JSON strings: above 0, the params go on in the next line.
 */
static int
shell_depth(const char *s)
{
	int	depth = 0, instring = 0;

	for (; *s != '\0'; s++) {
		if (instring) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				instring = 0;
		} else if (*s == '"')
			instring = 1;
		else if (*s == '[' || *s == '{')
			depth++;
		else if (*s == ']' || *s == '}')
			depth--;
	}
	return (depth);
}

#ifdef HAVE_LIBEDIT
/* Completion of a word from shell_words and shell_methods, in turn. */
static const char	*shell_words[] = {
	"call", "exit", "help", "methods", "ping", "quit", "stats"
};
static int		 shell_complete_commands;

static char *
shell_complete_next(const char *text, int state)
{
	static int	 i;
	const int	 nwords = sizeof shell_words / sizeof shell_words[0];
	const char	*w;

	if (state == 0)
		i = shell_complete_commands ? 0 : nwords;
	while (i < nwords + shell_nmethods) {
		w = i < nwords ? shell_words[i] : shell_methods[i - nwords];
		i++;
		if (strncmp(w, text, strlen(text)) == 0)
			return (xstrdup(w));
	}
	return (NULL);
}

/* Complete the first word, or the method after "call "; no file names. */
static char **
shell_complete(const char *text, int start, int end)
{
	const char	*line = rl_line_buffer;

	(void)end;
	while (isspace((unsigned char)*line)) {
		line++;
		start--;
	}
	if (start == 0)
		shell_complete_commands = 1;
	else if (strncmp(line, "call", 4) == 0 && isspace((unsigned char)
	    line[4]) && strspn(line + 4, " \t") == (size_t)start - 4)
		shell_complete_commands = 0;
	else
		return (NULL);
	return (rl_completion_matches(text, shell_complete_next));
}

static char *
shell_complete_none(const char *text, int state)
{
	(void)text;
	(void)state;
	return (NULL);
}

static void
shell_edit_init(struct shell *sh)
{
	const char	*home = getenv("HOME");

	if (!(sh->edit = sh->tty))
		return;
	rl_readline_name = "rpcctl";
	rl_attempted_completion_function = shell_complete;
	rl_completion_entry_function = shell_complete_none;
	using_history();
	stifle_history(SHELL_HISTORY_MAX);
	if (home != NULL && *home != '\0' && (size_t)snprintf(sh->history,
	    sizeof sh->history, "%s/%s", home, SHELL_HISTORY_FILE) <
	    sizeof sh->history)
		read_history(sh->history);
	else
		*sh->history = '\0';
}

/* Keep a command in the history, saved at once as redis-cli does. */
static void
shell_remember(struct shell *sh, const char *command)
{
	if (!sh->edit)
		return;
	add_history(command);
	if (*sh->history != '\0')
		write_history(sh->history);
}

static void
shell_edit_end(void)
{
	clear_history();
}
#else
static void
shell_edit_init(struct shell *sh)
{
	sh->edit = 0;
}

static void
shell_remember(struct shell *sh, const char *command)
{
	(void)sh;
	(void)command;
}

static void
shell_edit_end(void)
{
}
#endif

/*
 * The next line, its newline cut, in a buffer of the caller's to free;
 * NULL at the end of input.  With libedit on a terminal it is edited;
 * else read plainly, after the prompt on a terminal.
 */
static char *
shell_next(struct shell *sh, const char *prompt)
{
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 len;

#ifdef HAVE_LIBEDIT
	if (sh->edit)
		return (readline(prompt));
#endif
	if (sh->tty) {
		fputs(prompt, stdout);
		fflush(stdout);
	}
	if ((len = getline(&line, &size, stdin)) == -1) {
		free(line);
		return (NULL);
	}
	if (len > 0 && line[len - 1] == '\n')
		line[len - 1] = '\0';
	return (line);
}

/*
 * A whole command: a line, and continuation lines while its brackets do
 * not balance, joined by newlines; NULL at the end of input.
 */
static char *
shell_command(struct shell *sh)
{
	char	*command, *more;
	size_t	 len;

	if ((command = shell_next(sh, sh->prompt)) == NULL)
		return (NULL);
	while (shell_depth(command) > 0 &&
	    (len = strlen(command)) < SHELL_LINE_MAX &&
	    (more = shell_next(sh, "... ")) != NULL) {
		command = xreallocarray(command, len + strlen(more) + 2, 1);
		command[len] = '\n';
		strcpy(command + len + 1, more);
		free(more);
	}
	return (command);
}

/*
 * The shell: exit 0, 1 if a line got an error (an error reply, params
 * that are not JSON), or 3 if the last line that needed the server could
 * not reach it.
 */
int
shell_run(struct options *opt)
{
	struct shell	 sh = { .opt = opt };
	char		*command;
	int		 go = 1;

	opt->shell = 1;
	sh.tty = isatty(STDIN_FILENO);
	shell_edit_init(&sh);
	shell_prompt_set(&sh);
	/* As redis-cli, connect at once: the prompt says to what. */
	if (sh.tty)
		shell_connect(&sh);
	while (go && (command = shell_command(&sh)) != NULL) {
		if (strspn(command, " \t") != strlen(command))
			shell_remember(&sh, command);
		go = shell_line(&sh, command);
		free(command);
		fflush(stdout);
	}
	if (sh.tty && go)
		putchar('\n');
	shell_disconnect(&sh);
	shell_methods_clear();
	shell_edit_end();
	if (sh.unreachable)
		return (EXIT_SERVER);
	return (sh.failed ? EXIT_REPLY : EXIT_OK);
}
