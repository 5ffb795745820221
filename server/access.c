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
 * Access rules (--allow, --deny): who may call which methods.  A rule is
 * METHODS [KEY=VALUE ...]; the rules form one list, and the first whose
 * conditions all hold and whose patterns match the method decides.  A call
 * no rule matches is denied.
 *
 * The conditions are weighed once per connection, when it opens and its
 * peer is known (struct identity, which conn.c fills in): the rules whose
 * conditions hold, reduced to their verdicts and method patterns in
 * order, are the connection's access list.  Connections whose peers match
 * the same rules share one list, kept by the ruleset (a cache keyed by
 * the set of rules matched), so that a connection costs a pointer.  A
 * call then walks its connection's list (access_check): no system call,
 * no allocation, a compare per pattern.  Users and groups are looked up
 * when the rules are read, never in the event loop.
 *
 * The number of lists is bounded by the rules, not by the peers: a list
 * is a set of rules matched, and peers that differ only where no rule
 * looks match the same set.
 *
 * Layer: base (server/rpcd.h).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <fnmatch.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpcd.h"

/* How a method pattern is matched: the cheapest way that is exact. */
enum access_match {
	MATCH_ANY,		/* "*" */
	MATCH_EXACT,		/* no wildcard: strcmp */
	MATCH_PREFIX,		/* "prefix*": a prefix compare */
	MATCH_GLOB		/* fnmatch(3) */
};

struct access_pattern {
	enum access_match	 match;
	char			*text;
	size_t			 len;		/* of the prefix */
};

/* The keys of a rule's conditions. */
enum access_key {
	KEY_LISTENER,
	KEY_FROM,
	KEY_USER,
	KEY_GROUP,
	KEY_CN,			/* these four: IDENTITY_* - IDENTITY_CN + */
	KEY_DNS,
	KEY_EMAIL,
	KEY_URI
};
static const char *const access_keys[] = { "listener", "from", "user",
    "group", "cn", "dns", "email", "uri" };
#define NKEYS	(sizeof access_keys / sizeof access_keys[0])

struct access_cond {
	enum access_key	 key;
	char		*text;		/* a glob, a listener's text or name */
	struct network	 net;		/* from= */
	uid_t		 uid;		/* user= */
	gid_t		 gid;		/* group= */
	uid_t		*members;	/* group=: its member list's users */
	int		 nmembers;
};

struct access_rule {
	int			 allow;
	char			*text;		/* as given, for -n */
	struct access_pattern	*pats;
	int			 npats;
	struct access_cond	*conds;
	int			 nconds;
};

/* A connection's list: what the rules it matched say, in order. */
struct access_entry {
	int				 allow;
	const struct access_pattern	*pat;
};
struct access_list {
	struct access_list	*next;		/* in the ruleset's cache */
	unsigned char		*matched;	/* a bit per rule */
	int			 n;
	struct access_entry	 e[];
};

struct access {
	struct access_rule	*rules;
	int			 nrules;
	size_t			 setlen;	/* bytes of a set of rules */
	struct access_list	*lists;
	int			 nlists;
};

/* Out of memory for a list: deny everything to that connection. */
static struct access_list access_none;

/* Parse one method pattern; -1 if empty. */
static int
access_pattern_parse(const char *text, size_t len, struct access_pattern *p)
{
	size_t	wild;

	if (len == 0)
		return (-1);
	p->text = xmalloc(len + 1);
	memcpy(p->text, text, len);
	p->text[len] = '\0';
	wild = strcspn(p->text, "*?[\\");
	if (len == 1 && p->text[0] == '*')
		p->match = MATCH_ANY;
	else if (wild == len)
		p->match = MATCH_EXACT;
	else if (wild == len - 1 && p->text[wild] == '*')
		p->match = MATCH_PREFIX;
	else
		p->match = MATCH_GLOB;
	p->len = wild;
	return (0);
}

/* Does method match p? */
static int
access_pattern_match(const struct access_pattern *p, const char *method)
{
	switch (p->match) {
	case MATCH_ANY:
		return (1);
	case MATCH_EXACT:
		return (strcmp(method, p->text) == 0);
	case MATCH_PREFIX:
		return (strncmp(method, p->text, p->len) == 0);
	default:
		return (fnmatch(p->text, method, 0) == 0);
	}
}

/* A number in [0, UINT_MAX) all of text, or -1. */
static long long
access_id_number(const char *text)
{
	const char	*errstr;
	long long	 v;

	if (!isdigit((unsigned char)*text))
		return (-1);
	v = parse_number(text, 0, UINT_MAX - 1, &errstr);
	return (errstr != NULL ? -1 : v);
}

/*
 * group=: its gid and the users of its member list, looked up now: a
 * peer's supplementary groups are not known from its socket.
 */
static int
access_group_parse(const char *text, struct access_cond *c, char *err,
    size_t len)
{
	struct group	*gr;
	struct passwd	*pw;
	char		**names;
	long long	 v;
	int		 i, n;

	if ((v = access_id_number(text)) != -1) {
		c->gid = v;
		gr = getgrgid(c->gid);
	} else if ((gr = getgrnam(text)) == NULL) {
		snprintf(err, len, "unknown group %s", text);
		return (-1);
	} else
		c->gid = gr->gr_gid;
	if (gr == NULL)
		return (0);
	for (n = 0; gr->gr_mem[n] != NULL; n++)
		;
	/* getpwnam() may reuse the storage getgr*() returned: copy. */
	names = xcalloc(n + 1, sizeof *names);
	for (i = 0; i < n; i++)
		names[i] = xstrdup(gr->gr_mem[i]);
	c->members = xcalloc(n + 1, sizeof *c->members);
	for (i = 0; i < n; i++) {
		/* A member without an account matches no one. */
		if ((pw = getpwnam(names[i])) != NULL)
			c->members[c->nmembers++] = pw->pw_uid;
		free(names[i]);
	}
	free(names);
	return (0);
}

/* Parse KEY=VALUE into c; on error return -1 with why in err. */
static int
access_cond_parse(const char *word, struct access_cond *c, char *err,
    size_t len)
{
	const char	*eq, *value;
	struct passwd	*pw;
	long long	 v;
	size_t		 k;

	memset(c, 0, sizeof *c);
	if ((eq = strchr(word, '=')) == NULL) {
		snprintf(err, len, "expected KEY=VALUE, not %s", word);
		return (-1);
	}
	value = eq + 1;
	for (k = 0; k < NKEYS; k++) {
		if (strlen(access_keys[k]) == (size_t)(eq - word) &&
		    strncmp(word, access_keys[k], eq - word) == 0)
			break;
	}
	if (k == NKEYS) {
		snprintf(err, len, "unknown key %.*s (listener, from, user, "
		    "group, cn, dns, email or uri)", (int)(eq - word), word);
		return (-1);
	}
	c->key = k;
	if (*value == '\0') {
		snprintf(err, len, "%s= without a value", access_keys[k]);
		return (-1);
	}
	switch (c->key) {
	case KEY_FROM:
		if (network_parse(value, &c->net, err, len) != 0)
			return (-1);
		break;
	case KEY_USER:
		if ((v = access_id_number(value)) != -1)
			c->uid = v;
		else if ((pw = getpwnam(value)) != NULL)
			c->uid = pw->pw_uid;
		else {
			snprintf(err, len, "unknown user %s", value);
			return (-1);
		}
		break;
	case KEY_GROUP:
		if (access_group_parse(value, c, err, len) != 0)
			return (-1);
		break;
	default:
		break;
	}
	c->text = xstrdup(value);
	return (0);
}

/* The next word of *p, split at blanks; NULL at the end. */
static char *
access_word(char **p)
{
	char	*word;

	*p += strspn(*p, " \t");
	if (**p == '\0')
		return (NULL);
	word = *p;
	*p += strcspn(*p, " \t");
	if (**p != '\0')
		*(*p)++ = '\0';
	return (word);
}

/* Free what access_rule_parse() made of r. */
static void
access_rule_free(struct access_rule *r)
{
	int	i;

	for (i = 0; i < r->npats; i++)
		free(r->pats[i].text);
	for (i = 0; i < r->nconds; i++) {
		free(r->conds[i].text);
		free(r->conds[i].members);
	}
	free(r->pats);
	free(r->conds);
	free(r->text);
	memset(r, 0, sizeof *r);
}

/*
 * Parse the rule text, METHODS [KEY=VALUE ...], into r; on error return -1
 * with why in err.
 */
static int
access_rule_parse(int allow, const char *text, struct access_rule *r,
    char *err, size_t len)
{
	char		*copy, *p, *word, *comma;
	int		 error = -1;

	memset(r, 0, sizeof *r);
	r->allow = allow;
	r->text = xstrdup(text);
	copy = p = xstrdup(text);
	if ((word = access_word(&p)) == NULL) {
		snprintf(err, len, "no methods");
		goto out;
	}
	if (strchr(word, '=') != NULL) {
		snprintf(err, len, "no methods before %s", word);
		goto out;
	}
	for (;;) {
		comma = strchr(word, ',');
		r->pats = xreallocarray(r->pats, r->npats + 1,
		    sizeof *r->pats);
		if (access_pattern_parse(word, comma != NULL ?
		    (size_t)(comma - word) : strlen(word),
		    &r->pats[r->npats]) != 0) {
			snprintf(err, len, "an empty method pattern");
			goto out;
		}
		r->npats++;
		if (comma == NULL)
			break;
		word = comma + 1;
	}
	while ((word = access_word(&p)) != NULL) {
		if (r->nconds == RPCD_ACCESS_CONDS_MAX) {
			snprintf(err, len, "too many conditions (%d at most)",
			    RPCD_ACCESS_CONDS_MAX);
			goto out;
		}
		r->conds = xreallocarray(r->conds, r->nconds + 1,
		    sizeof *r->conds);
		if (access_cond_parse(word, &r->conds[r->nconds], err,
		    len) != 0)
			goto out;
		r->nconds++;
	}
	error = 0;
out:
	free(copy);
	if (error != 0)
		access_rule_free(r);
	return (error);
}

/*
 * Check the text of a rule alone, as a directive or an option gives it;
 * on error return -1 with why in err.
 */
int
access_rule_check(const char *text, char *err, size_t len)
{
	struct access_rule	r;

	if (access_rule_parse(1, text, &r, err, len) != 0)
		return (-1);
	access_rule_free(&r);
	return (0);
}

/*
 * Is name one of the n listeners' addresses as given or names?  The value
 * of listener= is kept as the listener's address text: "localhost:8080"
 * becomes "127.0.0.1:8080", as -l's does.
 */
static int
access_listener_known(struct access_cond *c, const struct addr *listen,
    const char (*names)[RPCD_LISTEN_NAME_MAX], int n)
{
	struct addr	a;
	char		why[128];
	int		i;

	for (i = 0; i < n; i++) {
		if (strcmp(c->text, names[i]) == 0 ||
		    strcmp(c->text, listen[i].text) == 0)
			return (1);
	}
	if (addr_parse(c->text, &a, why, sizeof why) != 0)
		return (0);
	for (i = 0; i < n; i++) {
		if (strcmp(a.text, listen[i].text) == 0) {
			free(c->text);
			c->text = xstrdup(a.text);
			return (1);
		}
	}
	return (0);
}

/*
 * Make a ruleset of the n rules: allow[i] says which verdict rules[i] has.
 * Each listener= must name one of the nlisten listeners (their address
 * text or ,name=).  NULL with no rules.  On error return NULL with the
 * index of the bad rule in *bad and why in err.
 */
struct access *
access_new(char *const *rules, const int *allow, int n,
    const struct addr *listen, const char (*names)[RPCD_LISTEN_NAME_MAX],
    int nlisten, int *bad, char *err, size_t len)
{
	struct access		*a;
	struct access_rule	*r;
	int			 i, k;

	*bad = -1;
	if (n == 0)
		return (NULL);
	a = xcalloc(1, sizeof *a);
	a->rules = xcalloc(n, sizeof *a->rules);
	a->setlen = (n + 7) / 8;
	for (i = 0; i < n; i++) {
		r = &a->rules[i];
		if (access_rule_parse(allow[i], rules[i], r, err, len) != 0)
			goto fail;
		a->nrules++;
		for (k = 0; k < r->nconds; k++) {
			if (r->conds[k].key == KEY_LISTENER &&
			    !access_listener_known(&r->conds[k], listen,
			    names, nlisten)) {
				snprintf(err, len, "no listener %s",
				    r->conds[k].text);
				goto fail;
			}
		}
	}
	return (a);
fail:
	*bad = i;
	access_free(a);
	return (NULL);
}

/* Free a ruleset and the lists it keeps; no connection may hold one. */
void
access_free(struct access *a)
{
	struct access_list	*l;
	int			 i;

	if (a == NULL)
		return;
	while ((l = a->lists) != NULL) {
		a->lists = l->next;
		free(l->matched);
		free(l);
	}
	for (i = 0; i < a->nrules; i++)
		access_rule_free(&a->rules[i]);
	free(a->rules);
	free(a);
}

/* Does any name of id of kind match glob? */
static int
access_name_match(const struct identity *id, int kind, const char *glob)
{
	int	i;

	for (i = 0; i < id->nnames; i++) {
		if (id->names[i].kind == kind &&
		    fnmatch(glob, id->names[i].value, 0) == 0)
			return (1);
	}
	return (0);
}

/* Does c hold for id? */
static int
access_cond_match(const struct access_cond *c, const struct identity *id)
{
	int	i;

	switch (c->key) {
	case KEY_LISTENER:
		return (strcmp(c->text, id->listener) == 0 ||
		    (id->listener_name != NULL &&
		    strcmp(c->text, id->listener_name) == 0));
	case KEY_FROM:
		return (network_match(&c->net, 1,
		    (const struct sockaddr *)&id->addr));
	case KEY_USER:
		return (id->cred && id->uid == c->uid);
	case KEY_GROUP:
		if (!id->cred)
			return (0);
		if (id->gid == c->gid)
			return (1);
		for (i = 0; i < c->nmembers; i++) {
			if (c->members[i] == id->uid)
				return (1);
		}
		return (0);
	default:
		return (access_name_match(id, IDENTITY_CN + (c->key - KEY_CN),
		    c->text));
	}
}

/* Make the list of the rules in the set matched. */
static struct access_list *
access_list_new(const struct access *a, const unsigned char *matched)
{
	const struct access_rule	*r;
	struct access_list		*l;
	int				 i, k, n = 0, any = 0;

	for (i = 0; i < a->nrules; i++) {
		if (matched[i / 8] & (1 << i % 8))
			n += a->rules[i].npats;
	}
	if ((l = calloc(1, sizeof *l + n * sizeof l->e[0])) == NULL)
		return (NULL);
	if ((l->matched = malloc(a->setlen)) == NULL) {
		free(l);
		return (NULL);
	}
	memcpy(l->matched, matched, a->setlen);
	/* Nothing after a "*" is ever reached. */
	for (i = 0; i < a->nrules && !any; i++) {
		if (!(matched[i / 8] & (1 << i % 8)))
			continue;
		r = &a->rules[i];
		for (k = 0; k < r->npats && !any; k++) {
			l->e[l->n].allow = r->allow;
			l->e[l->n].pat = &r->pats[k];
			any = r->pats[k].match == MATCH_ANY;
			l->n++;
		}
	}
	return (l);
}

/*
 * The access list of a connection whose peer is id: from the ruleset's
 * cache, or made and kept there.  Out of memory, a list that denies
 * everything (and a log line).  a must not be NULL.
 */
const struct access_list *
access_list_get(struct access *a, const struct identity *id)
{
	struct access_list	*l;
	unsigned char		 matched[(RPCD_ACCESS_RULES_MAX + 7) / 8];
	int			 i, k;

	memset(matched, 0, a->setlen);
	for (i = 0; i < a->nrules; i++) {
		for (k = 0; k < a->rules[i].nconds; k++) {
			if (!access_cond_match(&a->rules[i].conds[k], id))
				break;
		}
		if (k == a->rules[i].nconds)
			matched[i / 8] |= 1 << i % 8;
	}
	for (l = a->lists; l != NULL; l = l->next) {
		if (memcmp(l->matched, matched, a->setlen) == 0)
			return (l);
	}
	if ((l = access_list_new(a, matched)) == NULL) {
		log_warnx("out of memory for an access list: denying all "
		    "calls of a connection");
		return (&access_none);
	}
	l->next = a->lists;
	a->lists = l;
	a->nlists++;
	return (l);
}

/* May a connection with list l call method?  l must not be NULL. */
int
access_check(const struct access_list *l, const char *method)
{
	int	i;

	for (i = 0; i < l->n; i++) {
		if (access_pattern_match(l->e[i].pat, method))
			return (l->e[i].allow);
	}
	return (0);
}

/* Free the names of id. */
void
identity_clear(struct identity *id)
{
	int	i;

	for (i = 0; i < id->nnames; i++)
		free(id->names[i].value);
	id->nnames = 0;
	free(id->subject);
	id->subject = NULL;
}

/*
 * Add a name of a verified certificate to id: kept as given, but a name
 * with a NUL byte in it is no name (a certificate forged to match a
 * shorter one), and past IDENTITY_NAMES_MAX names the rest are left out.
 * Return -1 out of memory.
 */
int
identity_add_name(struct identity *id, int kind, const char *value,
    size_t len)
{
	char	*copy;

	if (memchr(value, '\0', len) != NULL ||
	    id->nnames == IDENTITY_NAMES_MAX)
		return (0);
	if ((copy = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(copy, value, len);
	copy[len] = '\0';
	id->names[id->nnames].kind = kind;
	id->names[id->nnames].value = copy;
	id->nnames++;
	return (0);
}
