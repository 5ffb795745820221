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
 * libFuzzer harness for the message parser: every body is parsed as a
 * request, a response and plain JSON from an exact-size heap copy.  A
 * request that parses is rebuilt from its name and params span and must
 * parse again to the same thing.
 *
 * Every result is also checked against a reference parser kept here: a
 * plain byte-at-a-time recursive descent that decodes UTF-8 into code
 * points instead of using the library's tables and word tricks.  Both must
 * give the same error code, name and span for every input.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpcd/proto.h"

struct ref {
	const unsigned char	*b;
	size_t			 n;
	size_t			 i;
	unsigned int		 max_depth;
};

/*
 * A decoded string: bad if it holds a NUL or a lone surrogate.  Only the
 * first bytes are kept (names and keys are short), but len counts them all.
 */
struct ref_text {
	char	buf[256];
	size_t	len;
	int	bad;
};

static int	ref_value(struct ref *, unsigned int);

/* Length of the UTF-8 character at i, decoded to its code point, or 0. */
static size_t
ref_utf8(const struct ref *r, size_t i)
{
	static const unsigned long	least[5] = {
	    0, 0, 0x80, 0x800, 0x10000 };
	unsigned long			cp;
	size_t				len, k;
	unsigned char			c = r->b[i];

	if (c < 0x80)
		return (1);
	len = c >= 0xf8 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
	if (len == 0 || i + len > r->n)
		return (0);
	cp = c & (0x7f >> len);
	for (k = 1; k < len; k++) {
		if ((r->b[i + k] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (r->b[i + k] & 0x3f);
	}
	if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (len);
}

static void
ref_space(struct ref *r)
{
	while (r->i < r->n && strchr(" \t\n\r", r->b[r->i]) != NULL &&
	    r->b[r->i] != '\0')
		r->i++;
}

/* The error for an unexpected byte where a value, ',' or the end may be. */
static int
ref_unexpected(const struct ref *r)
{
	return (r->b[r->i] >= 0x80 && ref_utf8(r, r->i) == 0 ? PROTO_EUTF8 :
	    PROTO_EJSON);
}

static long
ref_hex4(const struct ref *r, size_t i)
{
	char	hex[5], *endp;

	if (i + 4 > r->n)
		return (-1);
	memcpy(hex, r->b + i, 4);
	hex[4] = '\0';
	if (strspn(hex, "0123456789abcdefABCDEF") != 4)
		return (-1);
	return (strtol(hex, &endp, 16));
}

static void
ref_put_byte(struct ref_text *t, unsigned char c)
{
	if (t->len + 1 < sizeof t->buf) {
		t->buf[t->len] = c;
		t->buf[t->len + 1] = '\0';
	}
	t->len++;
}

static void
ref_put(struct ref_text *t, unsigned long cp)
{
	if (t == NULL)
		return;
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
		t->bad = 1;
		return;
	}
	if (cp < 0x80)
		ref_put_byte(t, cp);
	else if (cp < 0x800) {
		ref_put_byte(t, 0xc0 | cp >> 6);
		ref_put_byte(t, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		ref_put_byte(t, 0xe0 | cp >> 12);
		ref_put_byte(t, 0x80 | (cp >> 6 & 0x3f));
		ref_put_byte(t, 0x80 | (cp & 0x3f));
	} else {
		ref_put_byte(t, 0xf0 | cp >> 18);
		ref_put_byte(t, 0x80 | (cp >> 12 & 0x3f));
		ref_put_byte(t, 0x80 | (cp >> 6 & 0x3f));
		ref_put_byte(t, 0x80 | (cp & 0x3f));
	}
}

/* A string at r->i (on the quote), decoded into t if it is not NULL. */
static int
ref_string(struct ref *r, struct ref_text *t)
{
	static const char	 esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const char		*e;
	long			 hi, lo;
	size_t			 len, k;

	if (t != NULL) {
		t->len = 0;
		t->bad = 0;
		t->buf[0] = '\0';
	}
	for (r->i++; r->i < r->n; ) {
		unsigned char	c = r->b[r->i];

		if (c == '"') {
			r->i++;
			return (PROTO_OK);
		}
		if (c < 0x20)
			return (PROTO_EJSON);
		if (c != '\\') {
			if ((len = ref_utf8(r, r->i)) == 0)
				return (PROTO_EUTF8);
			for (k = 0; t != NULL && k < len; k++)
				ref_put_byte(t, r->b[r->i + k]);
			r->i += len;
			continue;
		}
		if (++r->i == r->n)
			return (PROTO_EJSON);
		c = r->b[r->i];
		if (c != 'u') {
			for (e = esc; *e != '\0' && *e != (char)c; e += 2)
				continue;
			if (*e == '\0' || c == '\0')
				return (PROTO_EJSON);
			ref_put(t, (unsigned char)e[1]);
			r->i++;
			continue;
		}
		if ((hi = ref_hex4(r, r->i + 1)) == -1)
			return (PROTO_EJSON);
		r->i += 5;
		if (hi >= 0xd800 && hi < 0xdc00 && r->i + 6 <= r->n &&
		    r->b[r->i] == '\\' && r->b[r->i + 1] == 'u' &&
		    (lo = ref_hex4(r, r->i + 2)) >= 0xdc00 && lo < 0xe000) {
			r->i += 6;
			hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		}
		ref_put(t, hi);
	}
	return (PROTO_EJSON);
}

/* At least one digit. */
static int
ref_digits(struct ref *r)
{
	size_t	start = r->i;

	while (r->i < r->n && r->b[r->i] >= '0' && r->b[r->i] <= '9')
		r->i++;
	return (r->i > start ? PROTO_OK : PROTO_EJSON);
}

static int
ref_number(struct ref *r)
{
	if (r->b[r->i] == '-')
		r->i++;
	if (r->i < r->n && r->b[r->i] == '0')
		r->i++;
	else if (ref_digits(r) != PROTO_OK)
		return (PROTO_EJSON);
	if (r->i < r->n && r->b[r->i] == '.') {
		r->i++;
		if (ref_digits(r) != PROTO_OK)
			return (PROTO_EJSON);
	}
	if (r->i < r->n && (r->b[r->i] == 'e' || r->b[r->i] == 'E')) {
		r->i++;
		if (r->i < r->n && (r->b[r->i] == '+' || r->b[r->i] == '-'))
			r->i++;
		if (ref_digits(r) != PROTO_OK)
			return (PROTO_EJSON);
	}
	return (PROTO_OK);
}

/* The ',' or close after an item: 1 for more, 0 for the end, or -error. */
static int
ref_next(struct ref *r, unsigned char close)
{
	ref_space(r);
	if (r->i == r->n)
		return (-PROTO_EJSON);
	if (r->b[r->i] == close || r->b[r->i] == ',')
		return (r->b[r->i++] == ',');
	return (-ref_unexpected(r));
}

/* "key": at r->i, the key decoded into t if not NULL. */
static int
ref_key(struct ref *r, struct ref_text *t)
{
	int	error;

	ref_space(r);
	if (r->i == r->n || r->b[r->i] != '"')
		return (PROTO_EJSON);
	if ((error = ref_string(r, t)) != PROTO_OK)
		return (error);
	ref_space(r);
	if (r->i == r->n || r->b[r->i] != ':')
		return (PROTO_EJSON);
	r->i++;
	return (PROTO_OK);
}

static int
ref_container(struct ref *r, unsigned int depth)
{
	unsigned char	close = r->b[r->i] == '{' ? '}' : ']';
	int		more, error;

	if (depth + 1 > r->max_depth)
		return (PROTO_EDEPTH);
	r->i++;
	ref_space(r);
	if (r->i < r->n && r->b[r->i] == close) {
		r->i++;
		return (PROTO_OK);
	}
	do {
		if (close == '}' && (error = ref_key(r, NULL)) != PROTO_OK)
			return (error);
		if ((error = ref_value(r, depth + 1)) != PROTO_OK)
			return (error);
	} while ((more = ref_next(r, close)) == 1);
	return (-more);
}

static int
ref_value(struct ref *r, unsigned int depth)
{
	static const char	*words[] = { "true", "false", "null" };
	size_t			 w, len;

	ref_space(r);
	if (r->i == r->n)
		return (PROTO_EJSON);
	switch (r->b[r->i]) {
	case '{':
	case '[':
		return (ref_container(r, depth));
	case '"':
		return (ref_string(r, NULL));
	case '-':
		return (ref_number(r));
	}
	if (r->b[r->i] >= '0' && r->b[r->i] <= '9')
		return (ref_number(r));
	for (w = 0; w < 3; w++) {
		if (r->b[r->i] != words[w][0])
			continue;
		len = strlen(words[w]);
		if (r->n - r->i < len || memcmp(r->b + r->i, words[w], len))
			return (PROTO_EJSON);
		r->i += len;
		return (PROTO_OK);
	}
	return (ref_unexpected(r));
}

static void
ref_init(struct ref *r, const uint8_t *b, size_t n, unsigned int max_depth)
{
	r->b = b;
	r->n = n;
	r->i = 0;
	if (max_depth == 0)
		max_depth = PROTO_DEPTH_DEFAULT;
	r->max_depth = max_depth > PROTO_DEPTH_MAX ? PROTO_DEPTH_MAX :
	    max_depth;
}

static int
ref_check(const uint8_t *b, size_t n, unsigned int max_depth)
{
	struct ref	r;
	int		error;

	ref_init(&r, b, n, max_depth);
	if ((error = ref_value(&r, 0)) != PROTO_OK)
		return (error);
	ref_space(&r);
	return (r.i == r.n ? PROTO_OK : ref_unexpected(&r));
}

/* The reference for a request (name "in") or a response (name "out"). */
static int
ref_message(const uint8_t *b, size_t n, unsigned int max_depth,
    const char *name_key, const char *value_key, struct proto_message *m)
{
	static struct ref_text	key, name;
	struct ref		r;
	size_t			start;
	int			state = PROTO_ENONAME, more = 1, error;

	memset(m, 0, sizeof *m);
	ref_init(&r, b, n, max_depth);
	ref_space(&r);
	if (r.i == r.n)
		return (PROTO_EJSON);
	if (r.b[r.i] != '{') {
		error = ref_check(b, n, max_depth);
		return (error != PROTO_OK ? error : PROTO_ENOTOBJECT);
	}
	r.i++;
	ref_space(&r);
	if (r.i < r.n && r.b[r.i] == '}') {
		r.i++;
		more = 0;
	}
	while (more == 1) {
		if ((error = ref_key(&r, &key)) != PROTO_OK)
			return (error);
		ref_space(&r);
		if (!key.bad && strcmp(key.buf, name_key) == 0 &&
		    key.len == strlen(name_key)) {
			if (r.i < r.n && r.b[r.i] == '"') {
				if ((error = ref_string(&r, &name)) != PROTO_OK)
					return (error);
				state = name.bad || name.len == 0 ||
				    name.len > PROTO_NAME_MAX ? PROTO_EBADNAME :
				    PROTO_OK;
				if (state == PROTO_OK) {
					memcpy(m->name, name.buf, name.len + 1);
					m->name_len = name.len;
				}
			} else {
				state = PROTO_EBADNAME;
				if ((error = ref_value(&r, 1)) != PROTO_OK)
					return (error);
			}
		} else if (!key.bad && strcmp(key.buf, value_key) == 0 &&
		    key.len == strlen(value_key)) {
			start = r.i;
			if ((error = ref_value(&r, 1)) != PROTO_OK)
				return (error);
			m->value = (const char *)b + start;
			m->value_len = r.i - start;
		} else if ((error = ref_value(&r, 1)) != PROTO_OK)
			return (error);
		more = ref_next(&r, '}');
	}
	if (more < 0)
		return (-more);
	ref_space(&r);
	if (r.i != r.n)
		return (ref_unexpected(&r));
	return (state);
}

/* The library and the reference must agree on a message. */
static void
check_message(const char *body, size_t size, unsigned int max_depth,
    const char *name_key, const char *value_key)
{
	struct proto_message	m, want;
	int			error, ref;

	if (strcmp(name_key, "in") == 0)
		error = proto_request_parse(body, size, max_depth, &m);
	else
		error = proto_response_parse(body, size, max_depth, &m);
	ref = ref_message((const uint8_t *)body, size, max_depth, name_key,
	    value_key, &want);
	if (error != ref)
		abort();
	if (error == PROTO_OK && (strcmp(m.name, want.name) != 0 ||
	    m.name_len != want.name_len || m.value != want.value ||
	    m.value_len != want.value_len))
		abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_message	 m, again;
	char			*body, *frame;
	size_t			 len;
	int			 error;

	body = malloc(size == 0 ? 1 : size);
	memcpy(body, data, size);
	if (proto_json_check(body, size, 0) != ref_check(data, size, 0) ||
	    proto_json_check(body, size, 3) != ref_check(data, size, 3))
		abort();
	check_message(body, size, 0, "in", "params");
	check_message(body, size, 3, "in", "params");
	check_message(body, size, 0, "out", "result");
	error = proto_request_parse(body, size, 0, &m);
	if (error < 0 || error >= PROTO_NERRORS)
		abort();
	if (error == PROTO_OK) {
		if (m.name_len == 0 || m.name_len > PROTO_NAME_MAX ||
		    strlen(m.name) != m.name_len)
			abort();
		if (m.value != NULL && (m.value < body ||
		    m.value + m.value_len > body + size))
			abort();
		len = PROTO_HEADER_SIZE + size + sizeof m.name * 6 + 64;
		frame = malloc(len);
		if (proto_request_build(frame, len, &len, m.name, m.value,
		    m.value_len) != PROTO_OK)
			abort();
		if (proto_request_parse(frame + PROTO_HEADER_SIZE,
		    len - PROTO_HEADER_SIZE, 0, &again) != PROTO_OK ||
		    strcmp(again.name, m.name) != 0 ||
		    (m.value != NULL && (again.value_len != m.value_len ||
		    memcmp(again.value, m.value, m.value_len) != 0)))
			abort();
		free(frame);
	}
	free(body);
	return (0);
}
