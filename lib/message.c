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
 * Messages: a strict single-pass JSON scanner and the request and response
 * builders.
 *
 * The scanner validates the whole body (RFC 8259 grammar, UTF-8, nesting
 * depth) and reports the "in"/"out" string and the span of "params" or
 * "result" inside the caller's buffer.  Nothing is allocated and nothing is
 * re-printed, so a server can echo params byte for byte; programs that
 * need a tree parse the span with json-c.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(PROTO_NO_VECTOR)
#include <emmintrin.h>
#endif

#include "rpcd/proto.h"

struct scan {
	const unsigned char	*p;
	const unsigned char	*end;
	unsigned int		 max_depth;
};

/* A string decoded into a small buffer, for keys and names. */
struct decoded {
	char	*buf;
	size_t	 size;		/* room in buf, including the NUL */
	size_t	 len;
	int	 bad;		/* too long, NUL or lone surrogate */
};

/*
 * The member names of a request or a response, measured once and padded
 * with NULs to the size of the parser's key buffer, so a decoded key is
 * compared in one fixed-size memcmp() the compiler inlines.
 */
#define KEY_SIZE	8

struct message_keys {
	char	name[KEY_SIZE];		/* "in" or "out" */
	size_t	name_len;
	char	value[KEY_SIZE];	/* "params" or "result" */
	size_t	value_len;
};

static const struct message_keys request_keys = { "in", 2, "params", 6 };
static const struct message_keys response_keys = { "out", 3, "result", 6 };

static int	scan_value(struct scan *, unsigned int);

/*
 * The characters a JSON string may hold raw, as a state machine with one
 * step per byte: a shift-based DFA, whose table row for a byte packs the
 * next state for every state in 6-bit fields, so that a step is one load
 * that does not wait on the state, and a shift that does.  A state is the
 * bit offset of its field.  The rows follow table 3-7 of the Unicode
 * standard (the second byte after 0xe0, 0xed, 0xf0 and 0xf4 is narrowed to
 * rule out overlong forms, UTF-16 surrogates and code points past
 * U+10FFFF); a quote, a backslash or a control character, which end a run
 * of text, lead to the error state like invalid UTF-8.  Every transition
 * not listed leads to the error state, 0, which has none out.
 */
#define UTF8_ERROR	0
#define UTF8_ACCEPT	6	/* between characters */
#define UTF8_CONT1	12	/* 1 continuation byte to come */
#define UTF8_CONT2	18
#define UTF8_CONT3	24
#define UTF8_E0		30	/* after 0xe0: 0xa0-0xbf, then 1 */
#define UTF8_ED		36	/* after 0xed: 0x80-0x9f, then 1 */
#define UTF8_F0		42	/* after 0xf0: 0x90-0xbf, then 2 */
#define UTF8_F4		48	/* after 0xf4: 0x80-0x8f, then 2 */
#define UTF8_STATE(s)	((s) & 63)

#define T(from, to)	((uint64_t)(to) << (from))
#define R_TEXT		T(UTF8_ACCEPT, UTF8_ACCEPT)
#define R_CONT		(T(UTF8_CONT1, UTF8_ACCEPT) | \
			    T(UTF8_CONT2, UTF8_CONT1) | \
			    T(UTF8_CONT3, UTF8_CONT2))
#define R_80		(R_CONT | T(UTF8_ED, UTF8_CONT1) | \
			    T(UTF8_F4, UTF8_CONT2))
#define R_90		(R_CONT | T(UTF8_ED, UTF8_CONT1) | \
			    T(UTF8_F0, UTF8_CONT2))
#define R_A0		(R_CONT | T(UTF8_E0, UTF8_CONT1) | \
			    T(UTF8_F0, UTF8_CONT2))
#define R_C2		T(UTF8_ACCEPT, UTF8_CONT1)
#define R_E0		T(UTF8_ACCEPT, UTF8_E0)
#define R_E1		T(UTF8_ACCEPT, UTF8_CONT2)
#define R_ED		T(UTF8_ACCEPT, UTF8_ED)
#define R_F0		T(UTF8_ACCEPT, UTF8_F0)
#define R_F1		T(UTF8_ACCEPT, UTF8_CONT3)
#define R_F4		T(UTF8_ACCEPT, UTF8_F4)
#define R_4(r)		r, r, r, r
#define R_16(r)		r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r
static const uint64_t utf8_dfa[256] = {
	R_16(0), R_16(0),					/* 00 */
	R_TEXT, R_TEXT, 0, R_TEXT, R_4(R_TEXT), R_4(R_TEXT), R_4(R_TEXT),
	R_16(R_TEXT), R_16(R_TEXT),				/* 30 */
	R_4(R_TEXT), R_4(R_TEXT), R_4(R_TEXT), 0, R_TEXT, R_TEXT, R_TEXT,
	R_16(R_TEXT), R_16(R_TEXT),				/* 60 */
	R_16(R_80), R_16(R_90), R_16(R_A0), R_16(R_A0),		/* 80 */
	0, 0, R_C2, R_C2, R_4(R_C2), R_4(R_C2), R_4(R_C2),	/* c0 */
	R_16(R_C2),						/* d0 */
	R_E0, R_E1, R_E1, R_E1, R_4(R_E1), R_4(R_E1),
	R_E1, R_ED, R_E1, R_E1,					/* e0 */
	R_F0, R_F1, R_F1, R_F1, R_F4, 0, 0, 0, R_4(0), R_4(0)	/* f0 */
};
#undef T
#undef R_TEXT
#undef R_CONT
#undef R_80
#undef R_90
#undef R_A0
#undef R_C2
#undef R_E0
#undef R_E1
#undef R_ED
#undef R_F0
#undef R_F1
#undef R_F4
#undef R_4
#undef R_16

/* The state after byte c in state state. */
static inline uint64_t
utf8_step(uint64_t state, unsigned char c)
{
	return (utf8_dfa[c] >> UTF8_STATE(state));
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t
utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	uint64_t	state = UTF8_ACCEPT;
	size_t		n = 0;

	if (p[0] < 0x80)
		return (1);
	do {
		if (p + n == end)
			return (0);
		state = utf8_step(state, p[n++]);
	} while (UTF8_STATE(state) > UTF8_ACCEPT);
	return (UTF8_STATE(state) == UTF8_ACCEPT ? n : 0);
}

/*
 * Word-at-a-time (SWAR) tests on 8 bytes at once.  A word is put together
 * from its bytes, first byte lowest whatever the machine's byte order, so
 * there is no unaligned or type-punned access; GCC and Clang see the idiom
 * and load it in one instruction.  Callers load only whole words inside
 * the buffer.  Each test leaves the high bit set in exactly the bytes it
 * flags: every sum is made on 7-bit values and stays below 0x100, so no
 * carry crosses into the next byte and a flag never depends on the others.
 */
#define WORD_SIZE	8
#define WORD_BYTES(b)	(0x0101010101010101ULL * (b))
#define WORD_LOW7	WORD_BYTES(0x7f)
#define WORD_HIGH	WORD_BYTES(0x80)

static inline uint64_t
word_load(const unsigned char *p)
{
	return ((uint64_t)p[0] | (uint64_t)p[1] << 8 |
	    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56);
}

/*
 * Index of the first byte flagged in a non-zero mask: its lowest flag moved
 * to bit 0 of its byte, times a constant whose top byte then holds the index.
 */
static inline size_t
word_first(uint64_t mask)
{
	return (((mask & -mask) >> 7) * 0x0001020304050607ULL >> 56);
}

/* Flag the bytes of w equal to b, for b below 0x80. */
static inline uint64_t
word_equal(uint64_t w, unsigned char b)
{
	return (~(((w & WORD_LOW7) ^ WORD_BYTES(b)) + WORD_LOW7) & ~w &
	    WORD_HIGH);
}

/* Flag the bytes a string run stops at: '"', '\\', controls, non-ASCII. */
static inline uint64_t
word_string_stop(uint64_t w)
{
	uint64_t	control;

	control = ~((w & WORD_LOW7) + WORD_BYTES(0x80 - 0x20));
	return (((control | w) & WORD_HIGH) | word_equal(w, '"') |
	    word_equal(w, '\\'));
}

/* An unexpected byte: invalid UTF-8 is told apart from bad JSON. */
static int
scan_unexpected(struct scan *s)
{
	if (*s->p >= 0x80 && utf8_sequence(s->p, s->end) == 0)
		return (PROTO_EUTF8);
	return (PROTO_EJSON);
}

/* Skip the indentation after a newline, a word of spaces at a time. */
static void
scan_indent(struct scan *s)
{
	while (s->end - s->p >= WORD_SIZE &&
	    word_load(s->p) == WORD_BYTES(' '))
		s->p += WORD_SIZE;
}

static inline void
scan_space(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r')) {
		if (*s->p++ == '\n')
			scan_indent(s);
	}
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Read the 4 hex digits of a \u escape at p; -1 if they are not. */
static long
scan_hex4(const unsigned char *p, const unsigned char *end)
{
	long	v = 0;
	int	i, d;

	if (end - p < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		if ((d = hex_value(p[i])) == -1)
			return (-1);
		v = v << 4 | d;
	}
	return (v);
}

static void
decoded_put(struct decoded *d, const unsigned char *bytes, size_t n)
{
	if (d == NULL)
		return;
	if (d->len + n >= d->size) {
		d->bad = 1;
		return;
	}
	memcpy(d->buf + d->len, bytes, n);
	d->len += n;
	d->buf[d->len] = '\0';
}

static void
decoded_put_code_point(struct decoded *d, unsigned long cp)
{
	unsigned char	u[4];

	if (d == NULL)
		return;
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
		d->bad = 1;
		return;
	}
	if (cp < 0x80) {
		u[0] = cp;
		decoded_put(d, u, 1);
	} else if (cp < 0x800) {
		u[0] = 0xc0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3f);
		decoded_put(d, u, 2);
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | cp >> 12;
		u[1] = 0x80 | (cp >> 6 & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		decoded_put(d, u, 3);
	} else {
		u[0] = 0xf0 | cp >> 18;
		u[1] = 0x80 | (cp >> 12 & 0x3f);
		u[2] = 0x80 | (cp >> 6 & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		decoded_put(d, u, 4);
	}
}

/* Scan a \ escape (s->p is on the backslash), decoding into d if set. */
static int
scan_escape(struct scan *s, struct decoded *d)
{
	static const char	 from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char		*q;
	long			 hi, lo;

	if (++s->p == s->end)
		return (PROTO_EJSON);
	if (*s->p != 'u') {
		if (*s->p == '\0' || (q = strchr(from, *s->p)) == NULL)
			return (PROTO_EJSON);
		decoded_put(d, (const unsigned char *)&to[q - from], 1);
		s->p++;
		return (PROTO_OK);
	}
	if ((hi = scan_hex4(s->p + 1, s->end)) == -1)
		return (PROTO_EJSON);
	s->p += 5;
	/* A surrogate pair is two escapes; a lone half is legal JSON. */
	if (hi >= 0xd800 && hi <= 0xdbff && s->end - s->p >= 6 &&
	    s->p[0] == '\\' && s->p[1] == 'u' &&
	    (lo = scan_hex4(s->p + 2, s->end)) >= 0xdc00 && lo <= 0xdfff) {
		s->p += 6;
		decoded_put_code_point(d,
		    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
	} else
		decoded_put_code_point(d, hi);
	return (PROTO_OK);
}

/* Skip the characters of a string from p one at a time; see string_skip(). */
static const unsigned char *
string_skip_bytes(const unsigned char *p, const unsigned char *end)
{
	size_t	n;

	while (p < end) {
		if (*p < 0x20 || *p == '"' || *p == '\\')
			return (p);
		if ((n = utf8_sequence(p, end)) == 0)
			return (p);
		p += n;
	}
	return (p);
}

#if defined(__SSE2__) && !defined(PROTO_NO_VECTOR)
/*
 * A bit for each of the 16 bytes at p that ends a run (see string_run):
 * a signed compare below 0x20 flags the controls and, being negative,
 * every byte from 0x80.
 */
static inline unsigned int
vector_stop(const unsigned char *p)
{
	__m128i	v = _mm_loadu_si128((const __m128i *)(const void *)p);

	return (_mm_movemask_epi8(_mm_or_si128(
	    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))))));
}
#endif

/*
 * Skip a run of plain ASCII in a string: return the first '"', '\\',
 * control or non-ASCII byte, or where less than a word is left.  With SSE2
 * (every x86-64) 64 bytes are tested per turn, four vectors whose masks
 * join in one word, so that a long run costs a branch per 64 bytes (a 64
 * KiB string: 4.1 us at 16 bytes a turn, 2.8 us now); then 16 at a time.
 * The word at a time code is the portable way, and finishes the run;
 * building with PROTO_NO_VECTOR tests it on x86 too.
 */
static inline const unsigned char *
string_run(const unsigned char *p, const unsigned char *end)
{
	uint64_t	mask;
#if defined(__SSE2__) && !defined(PROTO_NO_VECTOR)
	unsigned int	m;

	while (end - p >= 64) {
		mask = vector_stop(p) | vector_stop(p + 16) << 16 |
		    (uint64_t)vector_stop(p + 32) << 32 |
		    (uint64_t)vector_stop(p + 48) << 48;
		if (mask != 0)
			return (p + __builtin_ctzll(mask));
		p += 64;
	}
	while (end - p >= 16) {
		if ((m = vector_stop(p)) != 0)
			return (p + __builtin_ctz(m));
		p += 16;
	}
#endif
	while (end - p >= WORD_SIZE) {
		if ((mask = word_string_stop(word_load(p))) != 0)
			return (p + word_first(mask));
		p += WORD_SIZE;
	}
	return (p);
}

/*
 * Skip the characters of a string that need no more than a look: printable
 * ASCII other than '"' and '\\', and valid UTF-8 sequences.  Return where
 * the first other byte is, or end.
 *
 * A word at a time while the words hold only such ASCII.  From the first
 * other byte, if it is not ASCII, run the DFA over a block of bytes without
 * a branch, as two chains of steps that do not wait on each other: the
 * first from p over half the block and on through the continuation bytes
 * (up to 3) that may end its last character, the second from there.  If
 * both pass, go on from the last character that ends in them, with blocks
 * twice as long up to 2 * UTF8_BLOCK; else find the byte that stopped them
 * one character at a time.  Blocks start short so that a short string
 * costs little DFA work past its end.
 */
#define UTF8_BLOCK	32

static const unsigned char *
string_skip(const unsigned char *p, const unsigned char *end)
{
	const unsigned char	*q;
	uint64_t		 s, t, at[4];
	size_t			 k, i, block = UTF8_BLOCK / 4;

	while (end - p >= WORD_SIZE) {
		p = string_run(p, end);
		if (end - p < WORD_SIZE || *p < 0x80 ||
		    (size_t)(end - p) < 2 * block + 3)
			break;
		q = p + block;
		k = (q[0] & 0xc0) == 0x80;
		k += k == 1 && (q[1] & 0xc0) == 0x80;
		k += k == 2 && (q[2] & 0xc0) == 0x80;
		s = t = UTF8_ACCEPT;
		for (i = 0; i < block; i++) {
			s = utf8_step(s, p[i]);
			t = utf8_step(t, q[k + i]);
		}
		at[0] = s;
		for (i = 0; i < 3; i++)
			at[i + 1] = s = utf8_step(s, q[i]);
		if (UTF8_STATE(at[k]) != UTF8_ACCEPT ||
		    UTF8_STATE(t) == UTF8_ERROR)
			break;
		p = q + k + block;
		if (block < UTF8_BLOCK)
			block *= 2;
		/* Back to the lead of a character the block cut. */
		if (UTF8_STATE(t) != UTF8_ACCEPT) {
			do
				p--;
			while ((*p & 0xc0) == 0x80);
		}
	}
	return (string_skip_bytes(p, end));
}

/* Scan a string (s->p is on the opening quote), decoding into d if set. */
static int
scan_string(struct scan *s, struct decoded *d)
{
	const unsigned char	*run;
	int			 error;

	s->p++;
	for (;;) {
		run = s->p;
		s->p = string_skip(s->p, s->end);
		decoded_put(d, run, s->p - run);
		if (s->p == s->end)
			return (PROTO_EJSON);
		if (*s->p == '"') {
			s->p++;
			return (PROTO_OK);
		}
		if (*s->p == '\\') {
			if ((error = scan_escape(s, d)) != PROTO_OK)
				return (error);
		} else if (*s->p < 0x20)
			return (PROTO_EJSON);
		else
			return (PROTO_EUTF8);
	}
}

static int
scan_digits(struct scan *s)
{
	if (s->p == s->end || *s->p < '0' || *s->p > '9')
		return (PROTO_EJSON);
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return (PROTO_OK);
}

static int
scan_number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (scan_digits(s) != PROTO_OK)
		return (PROTO_EJSON);
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (scan_digits(s) != PROTO_OK)
			return (PROTO_EJSON);
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (scan_digits(s) != PROTO_OK)
			return (PROTO_EJSON);
	}
	return (PROTO_OK);
}

static int
scan_literal(struct scan *s, const char *word)
{
	size_t	len = strlen(word);

	if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
		return (PROTO_EJSON);
	s->p += len;
	return (PROTO_OK);
}

/*
 * Scan the ',' or closing byte after a member or element: return 1 for
 * another item, 0 for the end of the container, or an error as -error.
 */
static int
scan_next(struct scan *s, unsigned char close)
{
	scan_space(s);
	if (s->p == s->end)
		return (-PROTO_EJSON);
	if (*s->p == close) {
		s->p++;
		return (0);
	}
	if (*s->p != ',')
		return (-scan_unexpected(s));
	s->p++;
	return (1);
}

/* Scan "key": (s->p is on the quote), decoding the key into d if set. */
static int
scan_key(struct scan *s, struct decoded *d)
{
	int	error;

	if ((error = scan_string(s, d)) != PROTO_OK)
		return (error);
	scan_space(s);
	if (s->p == s->end || *s->p != ':')
		return (PROTO_EJSON);
	s->p++;
	return (PROTO_OK);
}

/* Scan an array or object opened at s->p; its members are at depth + 1. */
static int
scan_container(struct scan *s, unsigned int depth)
{
	unsigned char	close = *s->p == '{' ? '}' : ']';
	int		more, error;

	if (depth + 1 > s->max_depth)
		return (PROTO_EDEPTH);
	s->p++;
	scan_space(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return (PROTO_OK);
	}
	do {
		if (close == '}') {
			scan_space(s);
			if (s->p == s->end || *s->p != '"')
				return (PROTO_EJSON);
			if ((error = scan_key(s, NULL)) != PROTO_OK)
				return (error);
		}
		if ((error = scan_value(s, depth + 1)) != PROTO_OK)
			return (error);
		more = scan_next(s, close);
	} while (more == 1);
	return (-more);
}

/* Scan one value of any type inside a container at the given depth. */
static int
scan_value(struct scan *s, unsigned int depth)
{
	scan_space(s);
	if (s->p == s->end)
		return (PROTO_EJSON);
	switch (*s->p) {
	case '{':
	case '[':
		return (scan_container(s, depth));
	case '"':
		return (scan_string(s, NULL));
	case 't':
		return (scan_literal(s, "true"));
	case 'f':
		return (scan_literal(s, "false"));
	case 'n':
		return (scan_literal(s, "null"));
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return (scan_number(s));
	default:
		return (scan_unexpected(s));
	}
}

static void
scan_init(struct scan *s, const char *text, size_t len,
    unsigned int max_depth)
{
	s->p = (const unsigned char *)text;
	s->end = s->p + len;
	if (max_depth == 0)
		max_depth = PROTO_DEPTH_DEFAULT;
	s->max_depth = max_depth > PROTO_DEPTH_MAX ? PROTO_DEPTH_MAX :
	    max_depth;
}

/* Check that text is one JSON value of any type, nested at most max_depth. */
int
proto_json_check(const char *text, size_t len, unsigned int max_depth)
{
	struct scan	s;
	int		error;

	scan_init(&s, text, len, max_depth);
	if ((error = scan_value(&s, 0)) != PROTO_OK)
		return (error);
	scan_space(&s);
	return (s.p == s.end ? PROTO_OK : scan_unexpected(&s));
}

/*
 * Scan a member value that names something (a method, a kind) into name,
 * size bytes with the NUL: *state is PROTO_OK for a string of 1 to size - 1
 * bytes, PROTO_EBADNAME for anything else.
 */
static int
scan_name(struct scan *s, char *name, size_t size, size_t *len, int *state)
{
	struct decoded	d = { name, size, 0, 0 };
	int		error;

	scan_space(s);
	if (s->p == s->end || *s->p != '"') {
		*state = PROTO_EBADNAME;
		return (scan_value(s, 1));
	}
	name[0] = '\0';
	if ((error = scan_string(s, &d)) != PROTO_OK)
		return (error);
	*len = d.len;
	*state = (d.bad || d.len == 0) ? PROTO_EBADNAME : PROTO_OK;
	return (PROTO_OK);
}

/* Scan a member's value at s->p, noting its span. */
static int
scan_span(struct scan *s, const char **value, size_t *len)
{
	const char	*start;
	int		 error;

	scan_space(s);
	start = (const char *)s->p;
	if ((error = scan_value(s, 1)) != PROTO_OK)
		return (error);
	*value = start;
	*len = (const char *)s->p - start;
	return (PROTO_OK);
}

/*
 * Scan the text of an object up to its members: 1 if it has some, 0 if
 * it is empty, or an error as -error (PROTO_ENOTOBJECT for JSON of
 * another type).
 */
static int
scan_object_open(struct scan *s, const char *body, size_t len,
    unsigned int max_depth)
{
	int	error;

	scan_space(s);
	if (s->p == s->end)
		return (-PROTO_EJSON);
	if (*s->p != '{') {
		if ((error = proto_json_check(body, len, max_depth)) != PROTO_OK)
			return (-error);
		return (-PROTO_ENOTOBJECT);
	}
	s->p++;
	scan_space(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return (0);
	}
	return (1);
}

/*
 * Scan the next member's key into key (KEY_SIZE bytes, NUL padded, so
 * that it is compared in one memcmp()); one that does not fit, or holds a
 * NUL, is all NULs and matches none.
 */
static int
scan_member_key(struct scan *s, char *key)
{
	struct decoded	d = { key, KEY_SIZE, 0, 0 };
	int		error;

	scan_space(s);
	if (s->p == s->end || *s->p != '"')
		return (PROTO_EJSON);
	memset(key, 0, KEY_SIZE);
	if ((error = scan_key(s, &d)) != PROTO_OK)
		return (error);
	if (d.bad)
		memset(key, 0, KEY_SIZE);
	return (PROTO_OK);
}

/* After the object's last member: nothing but space may follow. */
static int
scan_object_end(struct scan *s, int more)
{
	if (more < 0)
		return (-more);
	scan_space(s);
	if (s->p != s->end)
		return (scan_unexpected(s));
	return (PROTO_OK);
}

/*
 * Parse a message: a JSON object whose name_key member is a string and
 * whose value_key member is any value.  Other members are ignored; when a
 * key repeats, the last one counts, as in most JSON parsers.  Syntax errors
 * anywhere take precedence over a missing or bad name.
 */
static int
message_parse(const char *body, size_t len, unsigned int max_depth,
    const struct message_keys *keys, struct proto_message *m)
{
	struct scan	 s;
	char		 key[KEY_SIZE];
	int		 state = PROTO_ENONAME, more, error;

	memset(m, 0, sizeof *m);
	scan_init(&s, body, len, max_depth);
	more = scan_object_open(&s, body, len, max_depth);
	while (more == 1) {
		if ((error = scan_member_key(&s, key)) != PROTO_OK)
			return (error);
		if (memcmp(key, keys->name, KEY_SIZE) == 0)
			error = scan_name(&s, m->name, sizeof m->name,
			    &m->name_len, &state);
		else if (memcmp(key, keys->value, KEY_SIZE) == 0)
			error = scan_span(&s, &m->value, &m->value_len);
		else
			error = scan_value(&s, 1);
		if (error != PROTO_OK)
			return (error);
		more = scan_next(&s, '}');
	}
	if ((error = scan_object_end(&s, more)) != PROTO_OK)
		return (error);
	if (state != PROTO_OK)
		m->name_len = 0;
	return (state);
}

/* Parse a request body: {"in": "<method>", "params": <any>}. */
int
proto_request_parse(const char *body, size_t len, unsigned int max_depth,
    struct proto_message *m)
{
	return (message_parse(body, len, max_depth, &request_keys, m));
}

/* Parse a response body: {"out": "<kind>", "result": <any>}. */
int
proto_response_parse(const char *body, size_t len, unsigned int max_depth,
    struct proto_message *m)
{
	return (message_parse(body, len, max_depth, &response_keys, m));
}

/* The members of a JSON-RPC 2.0 request, padded as message_keys' are. */
static const char jsonrpc_version[KEY_SIZE] = "jsonrpc";
static const char jsonrpc_method[KEY_SIZE] = "method";
static const char jsonrpc_params[KEY_SIZE] = "params";
static const char jsonrpc_id[KEY_SIZE] = "id";

/*
 * Parse a JSON-RPC 2.0 request object: "jsonrpc" the string "2.0",
 * "method" a string, "params", if there, an array or an object, "id", if
 * there, a string, a number or null.  Other members are ignored; when a
 * key repeats, the last one counts.  Syntax errors come first, as in
 * message_parse(); a request that is JSON but not one of these is
 * PROTO_ENOTOBJECT, PROTO_ENONAME, PROTO_EBADNAME or PROTO_EJSONRPC, its
 * id kept if it had a good one, for the error reply to carry.
 */
int
proto_jsonrpc_parse(const char *body, size_t len, unsigned int max_depth,
    struct proto_jsonrpc *r)
{
	struct scan	 s;
	char		 key[KEY_SIZE];
	const char	*version = NULL;
	size_t		 version_len = 0;
	int		 state = PROTO_ENONAME, more, error;

	memset(r, 0, sizeof *r);
	scan_init(&s, body, len, max_depth);
	more = scan_object_open(&s, body, len, max_depth);
	while (more == 1) {
		if ((error = scan_member_key(&s, key)) != PROTO_OK)
			goto bad;
		if (memcmp(key, jsonrpc_method, KEY_SIZE) == 0)
			error = scan_name(&s, r->method, sizeof r->method,
			    &r->method_len, &state);
		else if (memcmp(key, jsonrpc_version, KEY_SIZE) == 0)
			error = scan_span(&s, &version, &version_len);
		else if (memcmp(key, jsonrpc_params, KEY_SIZE) == 0)
			error = scan_span(&s, &r->params, &r->params_len);
		else if (memcmp(key, jsonrpc_id, KEY_SIZE) == 0)
			error = scan_span(&s, &r->id, &r->id_len);
		else
			error = scan_value(&s, 1);
		if (error != PROTO_OK)
			goto bad;
		more = scan_next(&s, '}');
	}
	if ((error = scan_object_end(&s, more)) != PROTO_OK)
		goto bad;
	if (r->id != NULL && (*r->id == '{' || *r->id == '[' ||
	    *r->id == 't' || *r->id == 'f')) {
		r->id = NULL;
		r->id_len = 0;
		return (PROTO_EJSONRPC);
	}
	if (state != PROTO_OK) {
		r->method_len = 0;
		return (state);
	}
	if (version_len != 5 || memcmp(version, "\"2.0\"", 5) != 0 ||
	    (r->params != NULL && *r->params != '[' && *r->params != '{'))
		return (PROTO_EJSONRPC);
	return (PROTO_OK);
bad:
	/* Not JSON: nothing in it can be trusted, its id neither. */
	if (error != PROTO_ENOTOBJECT) {
		r->id = NULL;
		r->id_len = 0;
	}
	return (error);
}

/*
 * Step through a JSON array's elements: text is one that
 * proto_json_check() passed, and *off is 0 at the start.  Set *value and
 * *len to the next element's span, or *value to NULL after the last one.
 * PROTO_EJSON if text is not an array.
 */
int
proto_json_element(const char *text, size_t len, size_t *off,
    const char **value, size_t *value_len)
{
	struct scan	s;
	int		more;

	*value = NULL;
	*value_len = 0;
	if (*off >= len)
		return (PROTO_OK);
	scan_init(&s, text, len, PROTO_DEPTH_MAX);
	s.p += *off;
	scan_space(&s);
	if (*off == 0) {
		if (s.p == s.end || *s.p != '[')
			return (PROTO_EJSON);
		s.p++;
		scan_space(&s);
		more = s.p < s.end && *s.p == ']' ? 0 : 1;
	} else if ((more = scan_next(&s, ']')) < 0)
		return (-more);
	if (more == 0) {
		*off = len;
		return (PROTO_OK);
	}
	if ((more = scan_span(&s, value, value_len)) != PROTO_OK)
		return (more);
	*off = (const char *)s.p - text;
	return (PROTO_OK);
}

/*
 * Write s as a JSON string at dst (if not NULL) and return its length, or 0
 * if s is not valid UTF-8.
 */
static size_t
json_string(char *dst, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + strlen(s);
	size_t			 n = 0, seq;
	char			 esc[6];
	size_t			 elen;

#define PUT(c) do { if (dst != NULL) dst[n] = (c); n++; } while (0)
	PUT('"');
	while (p < end) {
		elen = 0;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = *p;
			elen = 2;
		} else if (*p < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			elen = 6;
		}
		if (elen != 0) {
			for (seq = 0; seq < elen; seq++)
				PUT(esc[seq]);
			p++;
			continue;
		}
		if ((seq = utf8_sequence(p, end)) == 0)
			return (0);
		if (dst != NULL)
			memcpy(dst + n, p, seq);
		n += seq;
		p += seq;
	}
	PUT('"');
#undef PUT
	return (n);
}

/*
 * Check that a body fits a frame and the caller's buffer, noting the
 * frame's size in *framelen either way, and write its header.
 */
static int
frame_start(void *dst, size_t size, size_t *framelen, size_t body)
{
	if (body > UINT32_MAX)
		return (PROTO_ETOOLARGE);
	*framelen = PROTO_HEADER_SIZE + body;
	if (size < *framelen)
		return (PROTO_ESPACE);
	proto_frame_put_length(dst, body);
	return (PROTO_OK);
}

/* Write "key": and a space; return the end. */
static char *
put_key(char *p, const char *key, size_t len)
{
	*p = '"';
	memcpy(p + 1, key, len);
	memcpy(p + 1 + len, "\": ", 3);
	return (p + 4 + len);
}

/*
 * Copy a value into a frame being built.  A server echoing a large params
 * span builds its reply at nearly the same offset in a page as the request
 * it read, a few bytes further on: there a forward copy loads each block
 * just after storing to an address with the same low 12 bits, and x86
 * stalls on that "4K aliasing" (a 64 KiB copy took 80 to 180 us instead
 * of 3 to 6).  Copying from the end avoids it.
 */
static void
copy_value(char *dst, const char *src, size_t n)
{
	size_t	ahead = ((uintptr_t)dst - (uintptr_t)src) & 4095;

	if (n < 4096 || ahead == 0 || ahead >= 64) {
		memcpy(dst, src, n);
		return;
	}
	while (n >= 64) {
		n -= 64;
		memcpy(dst + n, src + n, 64);
	}
	memcpy(dst, src, n);
}

/*
 * Build a frame {"<name_key>": "<name>", "<value_key>": <value>} in dst,
 * with Python's json.dumps() spacing so the bytes match the tutorial's.
 * value is trusted to be JSON text (see proto_json_check) and left out
 * when NULL.
 */
static int
message_build(void *dst, size_t size, size_t *framelen,
    const struct message_keys *keys, const char *name, const char *value,
    size_t value_len)
{
	char	*p = dst;
	size_t	 name_len, quoted_len, body;
	int	 plain = 1, error;

	*framelen = 0;
	/* Names are nearly always plain ASCII, copied with no escaping. */
	for (name_len = 0; name[name_len] != '\0'; name_len++) {
		if (name[name_len] < 0x20 || name[name_len] > 0x7e ||
		    name[name_len] == '"' || name[name_len] == '\\')
			plain = 0;
	}
	if (name_len == 0 || name_len > PROTO_NAME_MAX)
		return (PROTO_EBADNAME);
	if (plain)
		quoted_len = name_len + 2;
	else if ((quoted_len = json_string(NULL, name)) == 0)
		return (PROTO_EUTF8);
	body = 5 + keys->name_len + quoted_len;		/* {"in": "x" */
	if (value != NULL) {
		if (value_len > UINT32_MAX)
			return (PROTO_ETOOLARGE);
		body += 6 + keys->value_len + value_len;	/* , "p": v */
	}
	body++;						/* } */
	if ((error = frame_start(dst, size, framelen, body)) != PROTO_OK)
		return (error);
	p += PROTO_HEADER_SIZE;
	*p++ = '{';
	p = put_key(p, keys->name, keys->name_len);
	if (plain) {
		*p++ = '"';
		memcpy(p, name, name_len);
		p += name_len;
		*p++ = '"';
	} else
		p += json_string(p, name);
	if (value != NULL) {
		*p++ = ',';
		*p++ = ' ';
		p = put_key(p, keys->value, keys->value_len);
		copy_value(p, value, value_len);
		p += value_len;
	}
	*p = '}';
	return (PROTO_OK);
}

/* Build a request frame; params may be NULL to leave them out. */
int
proto_request_build(void *dst, size_t size, size_t *framelen,
    const char *method, const char *params, size_t params_len)
{
	return (message_build(dst, size, framelen, &request_keys, method,
	    params, params_len));
}

/*
 * Build a response frame; result may be NULL to leave it out.  Like
 * snprintf(), the builders store the frame's size in *framelen even when
 * it does not fit: called with size 0 (and dst NULL) they measure.
 */
int
proto_response_build(void *dst, size_t size, size_t *framelen,
    const char *kind, const char *result, size_t result_len)
{
	return (message_build(dst, size, framelen, &response_keys, kind,
	    result, result_len));
}

/*
 * Build an error reply, {"out": "error", "result": {"code": code,
 * "message": message}}, with both strings escaped; measures as the other
 * builders do.
 */
int
proto_error_build(void *dst, size_t size, size_t *framelen,
    const char *code, const char *message)
{
	char	*p = dst;
	size_t	 code_len, msg_len, result, body;
	int	 error;

	*framelen = 0;
	if (*code == '\0')
		return (PROTO_EBADNAME);
	if ((code_len = json_string(NULL, code)) == 0 ||
	    (msg_len = json_string(NULL, message)) == 0)
		return (PROTO_EUTF8);
	result = 1 + 8 + code_len + 2 + 11 + msg_len + 1;
	body = 1 + 7 + 7 + 2 + 10 + result + 1;
	if ((error = frame_start(dst, size, framelen, body)) != PROTO_OK)
		return (error);
	p += PROTO_HEADER_SIZE;
	memcpy(p, "{\"out\": \"error\", \"result\": {", 28);
	p += 28;
	p = put_key(p, "code", 4);
	p += json_string(p, code);
	*p++ = ',';
	*p++ = ' ';
	p = put_key(p, "message", 7);
	p += json_string(p, message);
	memcpy(p, "}}", 2);
	return (PROTO_OK);
}
