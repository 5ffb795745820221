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

/* Unit tests for lib/message.c and lib/error.c: every parse and build path. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rpcd/proto.h"
#include "tap.h"

static struct proto_message	m;

static int
req(const char *body)
{
	return (proto_request_parse(body, strlen(body), 0, &m));
}

/* The params span as a string, for comparisons. */
static const char *
params(void)
{
	static char	buf[256];

	if (m.value == NULL)
		return ("(absent)");
	snprintf(buf, sizeof buf, "%.*s", (int)m.value_len, m.value);
	return (buf);
}

/* A body nested n levels deep: {"in":"ping","params":[[[...]]]} */
static char *
nested(int n)
{
	char	*s;
	int	 i;
	size_t	 len = 0;

	s = malloc(2 * n + 64);
	len += sprintf(s, "{\"in\":\"ping\",\"params\":");
	for (i = 0; i < n - 1; i++)
		s[len++] = '[';
	for (i = 0; i < n - 1; i++)
		s[len++] = ']';
	s[len++] = '}';
	s[len] = '\0';
	return (s);
}

static void
test_requests(void)
{
	char		*s;
	static const struct {
		const char	*body;
		int		 error;
		const char	*what;
	} bad[] = {
		{ "", PROTO_EJSON, "empty body" },
		{ "   ", PROTO_EJSON, "only spaces" },
		{ "{", PROTO_EJSON, "unclosed object" },
		{ "{\"in\":\"ping\"", PROTO_EJSON, "object cut short" },
		{ "{\"in\":\"ping\",}", PROTO_EJSON, "trailing comma" },
		{ "{\"in\" \"ping\"}", PROTO_EJSON, "missing colon" },
		{ "{in:\"ping\"}", PROTO_EJSON, "unquoted key" },
		{ "{\"in\":'ping'}", PROTO_EJSON, "single quotes" },
		{ "{\"in\":\"ping\"}x", PROTO_EJSON, "junk after the object" },
		{ "{\"in\":\"ping\"}{}", PROTO_EJSON, "two objects" },
		{ "{\"in\":\"pi\nng\"}", PROTO_EJSON, "raw newline in string" },
		{ "{\"in\":\"ping\\x\"}", PROTO_EJSON, "bad escape" },
		{ "{\"in\":\"\\u12G4\"}", PROTO_EJSON, "bad \\u escape" },
		{ "{\"in\":\"ping\",\"params\":01}", PROTO_EJSON,
		    "leading zero" },
		{ "{\"in\":\"ping\",\"params\":1.}", PROTO_EJSON,
		    "number ending in a dot" },
		{ "{\"in\":\"ping\",\"params\":-}", PROTO_EJSON, "lone minus" },
		{ "{\"in\":\"ping\",\"params\":1e}", PROTO_EJSON,
		    "empty exponent" },
		{ "{\"in\":\"ping\",\"params\":tru}", PROTO_EJSON,
		    "truncated literal" },
		{ "{\"in\":\"ping\",\"params\":NaN}", PROTO_EJSON, "NaN" },
		{ "{\"in\":\"ping\",\"params\":[1,]}", PROTO_EJSON,
		    "trailing comma in array" },
		{ "{\"in\":\"ping\",\"params\":[1 2]}", PROTO_EJSON,
		    "missing comma in array" },
		{ "\"ping\"", PROTO_ENOTOBJECT, "a string" },
		{ "[\"ping\"]", PROTO_ENOTOBJECT, "an array" },
		{ "42", PROTO_ENOTOBJECT, "a number" },
		{ "null", PROTO_ENOTOBJECT, "null" },
		{ "[1,", PROTO_EJSON, "bad JSON that starts as an array" },
		{ "{}", PROTO_ENONAME, "empty object" },
		{ "{\"params\":1}", PROTO_ENONAME, "\"in\" missing" },
		{ "{\"In\":\"ping\"}", PROTO_ENONAME, "\"in\" is case-sensitive" },
		{ "{\"in\":42}", PROTO_EBADNAME, "\"in\" a number" },
		{ "{\"in\":null}", PROTO_EBADNAME, "\"in\" null" },
		{ "{\"in\":[\"ping\"]}", PROTO_EBADNAME, "\"in\" an array" },
		{ "{\"in\":\"\"}", PROTO_EBADNAME, "\"in\" empty" },
		{ "{\"in\":\"p\\u0000ng\"}", PROTO_EBADNAME, "\"in\" with NUL" },
		{ "{\"in\":\"\\ud800\"}", PROTO_EBADNAME,
		    "\"in\" a lone surrogate" },
		{ "{\"in\":\"0123456789012345678901234567890123456789"
		    "012345678901234567890123\"}", PROTO_EBADNAME,
		    "\"in\" of 64 bytes" },
		{ "{\"in\":42,\"params\":[}", PROTO_EJSON,
		    "bad JSON wins over a bad name" },
		{ "{\"in\":\"\xff\"}", PROTO_EUTF8, "0xff in a string" },
		{ "{\"in\":\"\xc0\xaf\"}", PROTO_EUTF8, "overlong '/'" },
		{ "{\"in\":\"\xe0\x80\xaf\"}", PROTO_EUTF8, "overlong 3-byte" },
		{ "{\"in\":\"\xed\xa0\x80\"}", PROTO_EUTF8, "encoded surrogate" },
		{ "{\"in\":\"\xf4\x90\x80\x80\"}", PROTO_EUTF8,
		    "code point above U+10FFFF" },
		{ "{\"in\":\"\xe2\x82\"}", PROTO_EUTF8, "truncated sequence" },
		{ "{\"in\":\"ping\",\"params\":\"\x80\"}", PROTO_EUTF8,
		    "lone continuation byte in params" },
		{ "\xfe{}", PROTO_EUTF8, "invalid byte before the object" },
		{ "{\"in\":\"ping\"}\xc3", PROTO_EUTF8,
		    "invalid byte after the object" },
	};
	size_t		 i;

	is_int(req("{\"in\": \"ping\", \"params\": \"ireader 0\"}"), PROTO_OK,
	    "the tutorial's request parses");
	ok(strcmp(m.name, "ping") == 0 && m.name_len == 4, "method is ping");
	ok(strcmp(params(), "\"ireader 0\"") == 0,
	    "params span is the exact bytes \"ireader 0\"");

	is_int(req("{\"in\":\"ping\"}"), PROTO_OK, "params may be absent");
	ok(m.value == NULL, "absent params give a NULL span");
	is_int(req(" \r\n\t{ \"params\" : [1, {\"a\": null}] , \"in\" : "
	    "\"ping\" } \n"), PROTO_OK, "white space and member order");
	ok(strcmp(params(), "[1, {\"a\": null}]") == 0,
	    "params span excludes surrounding white space");
	is_int(req("{\"in\":\"ping\",\"params\":-0.5e+10}"), PROTO_OK,
	    "number params");
	ok(strcmp(params(), "-0.5e+10") == 0, "number span exact");
	is_int(req("{\"in\":\"ping\",\"params\":\"caf\xc3\xa9 \xf0\x9f\x98\x80"
	    "\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}"), PROTO_OK,
	    "UTF-8 and every escape in a string");
	is_int(req("{\"in\":\"p\\u0069ng\"}"), PROTO_OK, "escaped method");
	ok(strcmp(m.name, "ping") == 0, "escaped method decodes to ping");
	is_int(req("{\"in\":\"\\u00e9\\ud83d\\ude00\"}"), PROTO_OK,
	    "method with \\u escapes and a surrogate pair");
	ok(strcmp(m.name, "\xc3\xa9\xf0\x9f\x98\x80") == 0,
	    "decoded to UTF-8");
	is_int(req("{\"in\":\"x\",\"in\":\"ping\",\"params\":1,"
	    "\"params\":2}"), PROTO_OK, "repeated keys");
	ok(strcmp(m.name, "ping") == 0 && strcmp(params(), "2") == 0,
	    "the last of repeated keys counts");
	is_int(req("{\"in\":\"ping\",\"id\":{\"deep\":[true,false,null]}}"),
	    PROTO_OK, "unknown members are ignored");
	is_int(req("{\"in\":\"012345678901234567890123456789012345678901234"
	    "56789012345678901\"}"), PROTO_OK, "63-byte method");
	is_int(req("{\"in\":\"ping\",\"params\":\"\\ud800\"}"), PROTO_OK,
	    "a lone surrogate escape in params is legal JSON");

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		is_int(req(bad[i].body), bad[i].error, "%s: %s", bad[i].what,
		    proto_errname(bad[i].error));
	}

	/* Depth: the request object is level 1. */
	s = nested(PROTO_DEPTH_DEFAULT);
	is_int(req(s), PROTO_OK, "nesting at the default limit");
	free(s);
	s = nested(PROTO_DEPTH_DEFAULT + 1);
	is_int(req(s), PROTO_EDEPTH, "nesting one past the limit");
	free(s);
	s = nested(3);
	is_int(proto_request_parse(s, strlen(s), 3, &m), PROTO_OK,
	    "depth 3 at a limit of 3");
	is_int(proto_request_parse(s, strlen(s), 2, &m), PROTO_EDEPTH,
	    "depth 3 at a limit of 2");
	free(s);
	s = nested(100000);
	is_int(proto_request_parse(s, strlen(s), 1000000, &m), PROTO_EDEPTH,
	    "100000 levels stop at the hard cap, whatever limit is asked");
	free(s);

	/* The scanner must stop at len, not at a NUL or past the buffer. */
	is_int(proto_request_parse("{\"in\":\"ping\"}garbage", 13, 0, &m),
	    PROTO_OK, "parsing stops at the given length");
	is_int(proto_request_parse("{\"in\":\"ping\"}", 12, 0, &m), PROTO_EJSON,
	    "one byte short is bad JSON");
}

/*
 * What a string may hold, each placed at every offset of strings of many
 * lengths by test_boundaries(): raw is the JSON text, decoded what it means
 * (NULL where the string is not accepted) and error the parse result.
 */
static const struct {
	const char	*raw;
	const char	*decoded;
	int		 error;
	const char	*what;
} items[] = {
	{ "\xc3\xa9", "\xc3\xa9", PROTO_OK, "2-byte character" },
	{ "\xe2\x82\xac", "\xe2\x82\xac", PROTO_OK, "3-byte character" },
	{ "\xe0\xa0\x80", "\xe0\xa0\x80", PROTO_OK, "U+0800, after 0xe0" },
	{ "\xed\x9f\xbf", "\xed\x9f\xbf", PROTO_OK, "U+D7FF, after 0xed" },
	{ "\xf0\x90\x80\x80", "\xf0\x90\x80\x80", PROTO_OK, "U+10000" },
	{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", PROTO_OK, "4-byte emoji" },
	{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", PROTO_OK, "U+10FFFF" },
	{ "\x7f", "\x7f", PROTO_OK, "DEL" },
	{ "\\n", "\n", PROTO_OK, "escaped newline" },
	{ "\\\"", "\"", PROTO_OK, "escaped quote" },
	{ "\\\\", "\\", PROTO_OK, "escaped backslash" },
	{ "\\u00e9", "\xc3\xa9", PROTO_OK, "\\u escape" },
	{ "\\ud83d\\ude00", "\xf0\x9f\x98\x80", PROTO_OK, "surrogate pair" },
	{ "\n", NULL, PROTO_EJSON, "raw newline" },
	{ "\x01", NULL, PROTO_EJSON, "raw 0x01" },
	{ "\x1f", NULL, PROTO_EJSON, "raw 0x1f" },
	{ "\\x", NULL, PROTO_EJSON, "bad escape" },
	{ "\\u12G", NULL, PROTO_EJSON, "non-hex in a \\u escape" },
	{ "\"x", NULL, PROTO_EJSON, "quote with text after it" },
	{ "\x80", NULL, PROTO_EUTF8, "stray continuation byte" },
	{ "\xbf", NULL, PROTO_EUTF8, "stray 0xbf" },
	{ "\xc3", NULL, PROTO_EUTF8, "truncated 2-byte" },
	{ "\xe2\x82", NULL, PROTO_EUTF8, "truncated 3-byte" },
	{ "\xf0\x9f\x98", NULL, PROTO_EUTF8, "truncated 4-byte" },
	{ "\xc3\xc3\xa9", NULL, PROTO_EUTF8, "lead before a lead" },
	{ "\xc0\xaf", NULL, PROTO_EUTF8, "overlong 2-byte (0xc0)" },
	{ "\xc1\xbf", NULL, PROTO_EUTF8, "overlong 2-byte (0xc1)" },
	{ "\xe0\x9f\xbf", NULL, PROTO_EUTF8, "overlong 3-byte" },
	{ "\xf0\x8f\xbf\xbf", NULL, PROTO_EUTF8, "overlong 4-byte" },
	{ "\xed\xa0\x80", NULL, PROTO_EUTF8, "encoded high surrogate" },
	{ "\xed\xbf\xbf", NULL, PROTO_EUTF8, "encoded low surrogate" },
	{ "\xf4\x90\x80\x80", NULL, PROTO_EUTF8, "U+110000" },
	{ "\xf5\x80\x80\x80", NULL, PROTO_EUTF8, "lead 0xf5" },
	{ "\xf8\x88\x80\x80\x80", NULL, PROTO_EUTF8, "5-byte form" },
	{ "\xff", NULL, PROTO_EUTF8, "0xff" },
	{ "\xe2\x82\x41", NULL, PROTO_EUTF8, "ASCII as 3rd byte" },
	{ "\xf0\x9f\x98\"", NULL, PROTO_EUTF8, "quote as 4th byte" },
};

/*
 * Filler around the items: ASCII, which the scanner skips a word at a time,
 * and text with 2-, 3- and 4-byte characters, which it checks in blocks.
 */
static const char *const fillers[] = {
	"abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ.",
	"\xce\xb1\xce\xb2\xe4\xbd\xa0\xf0\x9f\x98\x80x\xce\xb3\xe5\xa5\xbd"
	    "\xe4\xb8\x96 \xf0\x9f\x8e\x89\xd0\x96",
};

/* Append n bytes of filler f that end on a character boundary. */
static size_t
fill(char *dst, const char *f, size_t n)
{
	size_t	len = 0, flen = strlen(f), i = 0;

	while (len < n) {
		dst[len++] = f[i];
		i = (i + 1) % flen;
		/* Finish the character. */
		while ((f[i] & 0xc0) == 0x80) {
			dst[len++] = f[i];
			i = (i + 1) % flen;
		}
	}
	return (len);
}

/* Where test_boundaries() puts the string. */
enum place {
	IN_PARAMS,		/* {"in":"ping","params":"<string>"} */
	IN_NAME,		/* {"in":"<string>"} */
	ALONE,			/* "<string>", up to the buffer's end */
	UNCLOSED,		/* "<string> with no closing quote */
	NPLACES
};

/*
 * Parse a string holding item it at byte offset off of about len bytes of
 * filler, from an exact-size heap copy after pad spaces, and compare the
 * result, name and span with what they should be; NULL if they match, else
 * what went wrong.
 */
static const char *
try_item(size_t it, const char *filler, size_t len, size_t off, size_t pad,
    enum place place)
{
	static char	 why[128];
	char		 text[512], want[512], *body;
	size_t		 tlen, wlen, n, start;
	int		 error, expect = items[it].error;

	tlen = fill(text, filler, off);
	memcpy(want, text, tlen);
	wlen = tlen;
	n = strlen(items[it].raw);
	memcpy(text + tlen, items[it].raw, n);
	tlen += n;
	if (items[it].decoded != NULL) {
		n = strlen(items[it].decoded);
		memcpy(want + wlen, items[it].decoded, n);
		wlen += n;
	}
	n = fill(text + tlen, filler, len > off ? len - off : 0);
	memcpy(want + wlen, text + tlen, n);
	tlen += n;
	wlen += n;
	want[wlen] = '\0';

	body = malloc(pad + tlen + 32);
	memset(body, ' ', pad);
	n = pad;
	if (place == IN_NAME)
		n += sprintf(body + n, "{\"in\":");
	else if (place == IN_PARAMS)
		n += sprintf(body + n, "{\"in\":\"ping\",\"params\":");
	start = n;
	body[n++] = '"';
	memcpy(body + n, text, tlen);
	n += tlen;
	if (place != UNCLOSED)
		body[n++] = '"';
	if (place == IN_NAME || place == IN_PARAMS)
		body[n++] = '}';
	/* The exact size, so that reading past the end is caught. */
	body = realloc(body, n);

	if (place == IN_NAME && expect == PROTO_OK && wlen > PROTO_NAME_MAX)
		expect = PROTO_EBADNAME;
	if (place == UNCLOSED && expect == PROTO_OK)
		expect = PROTO_EJSON;
	if (place == IN_NAME || place == IN_PARAMS)
		error = proto_request_parse(body, n, 0, &m);
	else
		error = proto_json_check(body, n, 0);
	why[0] = '\0';
	if (error != expect)
		snprintf(why, sizeof why, "got %s", proto_errname(error));
	else if (error == PROTO_OK && place == IN_NAME &&
	    (strcmp(m.name, want) != 0 || m.name_len != wlen))
		snprintf(why, sizeof why, "name decoded wrong");
	else if (error == PROTO_OK && place == IN_PARAMS &&
	    (m.value != body + start || m.value_len != tlen + 2))
		snprintf(why, sizeof why, "params span wrong");
	free(body);
	return (why[0] != '\0' ? why : NULL);
}

/*
 * One item at every offset 0..EVERY_OFFSET and at the end of strings of
 * many lengths of a filler, at every alignment of the buffer and in every
 * place; return the number of failures, printing the first.  The offsets
 * reach past the scanner's widest step (64 bytes) and the 16-byte one
 * after it.
 */
#define EVERY_OFFSET	80

static size_t
try_everywhere(size_t it, const char *filler, size_t *tries)
{
	static const size_t	 lens[] = { 0, 1, 2, 3, 5, 7, 8, 9, 15, 16,
	    17, 23, 24, 25, 31, 32, 33, 40, 63, 64, 65, 66, 67, 70, 100, 130,
	    131, 150, 200 };
	const char		*why;
	size_t			 l, off, pad, fails = 0;
	enum place		 place;

	for (l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		for (off = 0; off <= lens[l];
		    off = off < EVERY_OFFSET || off == lens[l] ?
		    off + 1 : lens[l]) {
			for (pad = 0; pad < 8; pad++) {
				for (place = 0; place < NPLACES; place++) {
					(*tries)++;
					why = try_item(it, filler, lens[l], off,
					    pad, place);
					if (why != NULL && fails++ == 0)
						printf("# length %zu, offset "
						    "%zu, pad %zu, place %d: "
						    "%s\n", lens[l], off, pad,
						    place, why);
				}
			}
		}
	}
	return (fails);
}

/* Every item where a word or a block of the fast scanner may cut it. */
static void
test_boundaries(void)
{
	size_t	it, f, tries, fails;

	for (it = 0; it < sizeof items / sizeof items[0]; it++) {
		for (f = 0; f < sizeof fillers / sizeof fillers[0]; f++) {
			tries = 0;
			fails = try_everywhere(it, fillers[f], &tries);
			ok(fails == 0, "%s at every offset in %s text: "
			    "%zu of %zu bodies wrong", items[it].what,
			    f == 0 ? "ASCII" : "multi-byte", fails, tries);
		}
	}
}

static void
test_responses(void)
{
	const char	*body = "{\"out\": \"pong\", \"result\": {\"n\": [1]}}";

	is_int(proto_response_parse(body, strlen(body), 0, &m), PROTO_OK,
	    "a response parses");
	ok(strcmp(m.name, "pong") == 0, "out is pong");
	ok(m.value_len == 10 && memcmp(m.value, "{\"n\": [1]}", 10) == 0,
	    "result span is exact");
	body = "{\"in\": \"ping\"}";
	is_int(proto_response_parse(body, strlen(body), 0, &m), PROTO_ENONAME,
	    "a request is not a response");
	body = "{\"out\": 1, \"result\": null}";
	is_int(proto_response_parse(body, strlen(body), 0, &m), PROTO_EBADNAME,
	    "out must be a string");
}

static void
test_json_check(void)
{
	is_int(proto_json_check("\"x\"", 3, 0), PROTO_OK, "a string is JSON");
	is_int(proto_json_check(" [1, 2.5, true] ", 16, 0), PROTO_OK,
	    "an array is JSON");
	is_int(proto_json_check("{\"a\":}", 6, 0), PROTO_EJSON,
	    "object without a value is not");
	is_int(proto_json_check("[[1]]", 5, 1), PROTO_EDEPTH,
	    "depth is checked");
	is_int(proto_json_check("1 2", 3, 0), PROTO_EJSON, "two values are not");
}

static void
test_build(void)
{
	unsigned char	buf[256];
	const char	*want;
	size_t		len;

	/* What the tutorial client sends: json.dumps() with struct.pack("I"). */
	is_int(proto_request_build(buf, sizeof buf, &len, "ping",
	    "\"ireader 0\"", 11), PROTO_OK, "build the tutorial's request");
	want = "\x25\0\0\0{\"in\": \"ping\", \"params\": \"ireader 0\"}";
	ok(len == 41 && memcmp(buf, want, 41) == 0,
	    "request is byte for byte the tutorial's");
	is_int(proto_response_build(buf, sizeof buf, &len, "pong",
	    "\"ireader 0\"", 11), PROTO_OK, "build the tutorial's response");
	want = "\x26\0\0\0{\"out\": \"pong\", \"result\": \"ireader 0\"}";
	ok(len == 42 && memcmp(buf, want, 42) == 0,
	    "response is byte for byte the tutorial server's");
	is_int(proto_request_build(buf, sizeof buf, &len, "stats", NULL, 0),
	    PROTO_OK, "build without params");
	ok(len == 19 && memcmp(buf + 4, "{\"in\": \"stats\"}", 15) == 0,
	    "params are left out");
	is_int(proto_request_build(buf, sizeof buf, &len, "a\"b\\c\n\x01",
	    NULL, 0), PROTO_OK, "method needing escapes");
	ok(memcmp(buf + 4, "{\"in\": \"a\\\"b\\\\c\\u000a\\u0001\"}", 27) == 0,
	    "quotes, backslashes and controls are escaped");
	is_int(proto_request_parse((char *)buf + 4, len - 4, 0, &m), PROTO_OK,
	    "the escaped request parses");
	ok(strcmp(m.name, "a\"b\\c\n\x01") == 0, "and round-trips the name");
	is_int(proto_request_build(buf, sizeof buf, &len, "caf\xc3\xa9\x7f",
	    NULL, 0), PROTO_OK, "method in UTF-8 with a DEL");
	ok(len == 4 + 16 && memcmp(buf + 4, "{\"in\": \"caf\xc3\xa9\x7f\"}",
	    16) == 0, "is written as it is, unescaped");

	is_int(proto_request_build(buf, 40, &len, "ping", "\"ireader 0\"", 11),
	    PROTO_ESPACE, "one byte short of room");
	is_int(len, 41, "reports the room needed");
	is_int(proto_request_build(buf, sizeof buf, &len, "", NULL, 0),
	    PROTO_EBADNAME, "an empty method is refused");
	is_int(proto_request_build(buf, sizeof buf, &len, "pi\xffng", NULL, 0),
	    PROTO_EUTF8, "a method that is not UTF-8 is refused");
	is_int(proto_response_build(NULL, 0, &len, "pong", "1", 1),
	    PROTO_ESPACE, "size 0 measures a response");
	is_int(len, 32, "and reports its size");
}

static void
test_error_build(void)
{
	unsigned char		 buf[256];
	const char		*want;
	size_t			 len, need;

	is_int(proto_error_build(NULL, 0, &need, "timeout", "late \"x\"\n"),
	    PROTO_ESPACE, "size 0 measures an error reply");
	is_int(proto_error_build(buf, sizeof buf, &len, "timeout",
	    "late \"x\"\n"), PROTO_OK, "build an error reply");
	is_int(len, need, "the size measured is the size built");
	want = "{\"out\": \"error\", \"result\": {\"code\": \"timeout\", "
	    "\"message\": \"late \\\"x\\\"\\u000a\"}}";
	ok(len == 4 + strlen(want) && memcmp(buf + 4, want, len - 4) == 0,
	    "error reply is the object, escaped");
	is_int(proto_frame_get_length(buf), len - 4, "with its length");
	is_int(proto_response_parse((char *)buf + 4, len - 4, 0, &m), PROTO_OK,
	    "the error reply parses");
	is_int(proto_error_build(buf, sizeof buf, &len, "", "x"),
	    PROTO_EBADNAME, "an empty code is refused");
	is_int(proto_error_build(buf, sizeof buf, &len, "x", "\xff"),
	    PROTO_EUTF8, "a message that is not UTF-8 is refused");
	is_int(proto_error_build(buf, 10, &len, "busy", "m"), PROTO_ESPACE,
	    "too small a buffer is refused");
}

/*
 * A large value copied into a frame, at every distance between source and
 * destination within a page: the builder copies from the end when the
 * destination is a little ahead (4K aliasing), and must copy it all.  The
 * builders trust the value to be JSON, so any bytes do here.
 */
static void
test_build_large(void)
{
	static char	 src[20000], dst[30000];
	size_t		 len, n = 9000, off, bad = 0;

	for (off = 0; off < sizeof src; off++)
		src[off] = 'a' + off % 23;
	for (off = 0; off < 4096 + 64; off++) {
		if (proto_response_build(dst, sizeof dst, &len, "pong",
		    src + off, n) != PROTO_OK || len != 4 + 26 + n + 1 ||
		    memcmp(dst + 30, src + off, n) != 0 || dst[30 + n] != '}')
			bad++;
	}
	is_int(bad, 0, "a 9000-byte value is copied whole at every offset "
	    "from its destination within a page");
}

static void
test_errors(void)
{
	int	e;
	int	distinct = 1;

	for (e = 0; e < PROTO_NERRORS; e++) {
		if (proto_strerror(e) == NULL || proto_errname(e) == NULL ||
		    strchr(proto_errname(e), ' ') != NULL)
			distinct = 0;
	}
	ok(distinct, "every error has a one-word name and a message");
	ok(strcmp(proto_errname(PROTO_EJSON), "bad_json") == 0,
	    "PROTO_EJSON is bad_json");
	ok(strcmp(proto_errname(PROTO_EINTERNAL), "internal_error") == 0 &&
	    strcmp(proto_errname(PROTO_EBUSY), "busy") == 0 &&
	    strcmp(proto_errname(PROTO_ETIMEOUT), "timeout") == 0,
	    "the errors servers send are internal_error, busy and timeout");
	ok(strcmp(proto_strerror(-1), "unknown error") == 0,
	    "out-of-range codes do not crash");
	ok(strcmp(proto_errname(PROTO_NERRORS), "unknown") == 0,
	    "nor past the end");
	ok(strcmp(proto_version(), PACKAGE_VERSION) == 0,
	    "library version is the package's");
}

/* JSON-RPC 2.0 requests, for the HTTP front end. */
static struct proto_jsonrpc	 jr;

static int
jsonrpc(const char *body)
{
	return (proto_jsonrpc_parse(body, strlen(body), 0, &jr));
}

/* A span as a string, "(absent)" when NULL. */
static const char *
span(const char *p, size_t len)
{
	static char	buf[256];

	if (p == NULL)
		return ("(absent)");
	snprintf(buf, sizeof buf, "%.*s", (int)len, p);
	return (buf);
}

static void
test_jsonrpc(void)
{
	const char	*batch = " [ {\"a\": [1, 2]} ,\"x\", 3 ,[]] ", *v;
	const char	*expect[] = { "{\"a\": [1, 2]}", "\"x\"", "3", "[]" };
	size_t		 off = 0, len;
	int		 i, good = 1;

	ok(jsonrpc("{\"jsonrpc\": \"2.0\", \"method\": \"ping\", "
	    "\"params\": [1, {\"b\": 2}], \"id\": 7}") == PROTO_OK &&
	    strcmp(jr.method, "ping") == 0 && jr.method_len == 4,
	    "a JSON-RPC call parses, with its method");
	ok(strcmp(span(jr.params, jr.params_len), "[1, {\"b\": 2}]") == 0,
	    "its params are the exact bytes");
	ok(strcmp(span(jr.id, jr.id_len), "7") == 0, "so is its id");
	ok(jsonrpc("{\"method\":\"m\",\"jsonrpc\":\"2.0\",\"params\":"
	    "{\"k\":null}}") == PROTO_OK && jr.id == NULL &&
	    strcmp(span(jr.params, jr.params_len), "{\"k\":null}") == 0,
	    "a notification has no id; params by name");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":null}") ==
	    PROTO_OK && strcmp(span(jr.id, jr.id_len), "null") == 0 &&
	    jr.params == NULL, "an id of null is a call, not a notification");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":\"a\\\"b\"}")
	    == PROTO_OK && strcmp(span(jr.id, jr.id_len), "\"a\\\"b\"") == 0,
	    "a string id is kept as written");
	ok(jsonrpc("{\"jsonrpc\":\"1.0\",\"method\":\"m\",\"id\":1}") ==
	    PROTO_EJSONRPC && strcmp(span(jr.id, jr.id_len), "1") == 0,
	    "another version is bad_jsonrpc, its id kept for the reply");
	ok(jsonrpc("{\"method\":\"m\",\"id\":1}") == PROTO_EJSONRPC,
	    "so is no version");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":3}") ==
	    PROTO_EJSONRPC, "params must be an array or an object");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":[1]}") ==
	    PROTO_EJSONRPC && jr.id == NULL,
	    "an id must be a string, a number or null");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"id\":2}") == PROTO_ENONAME &&
	    strcmp(span(jr.id, jr.id_len), "2") == 0, "no method: no_method");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":2}") ==
	    PROTO_EBADNAME, "a method not a string: bad_method");
	ok(jsonrpc("[1]") == PROTO_ENOTOBJECT, "an array is not a request");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"m\"") ==
	    PROTO_EJSON && jr.id == NULL,
	    "syntax errors first, and no id is kept from a body not JSON");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"method\":\"m\"} x") == PROTO_EJSON,
	    "nothing may follow");
	ok(jsonrpc("{\"jsonrpc\":\"2.0\",\"method\":\"\\u00e9\","
	    "\"idx\":1,\"id\":1}") == PROTO_OK &&
	    strcmp(jr.method, "\xc3\xa9") == 0,
	    "the method is decoded; other keys are ignored");
	for (i = 0; i < 4; i++) {
		if (proto_json_element(batch, strlen(batch), &off, &v,
		    &len) != PROTO_OK || v == NULL ||
		    strcmp(span(v, len), expect[i]) != 0)
			good = 0;
	}
	ok(good, "proto_json_element steps through an array's elements");
	ok(proto_json_element(batch, strlen(batch), &off, &v, &len) ==
	    PROTO_OK && v == NULL && off == strlen(batch),
	    "and ends after the last");
	off = 0;
	ok(proto_json_element(" [ ] ", 5, &off, &v, &len) == PROTO_OK &&
	    v == NULL, "an empty array has none");
	off = 0;
	ok(proto_json_element("{}", 2, &off, &v, &len) == PROTO_EJSON,
	    "an object is not an array");
	ok(strcmp(proto_errname(PROTO_EJSONRPC), "bad_jsonrpc") == 0,
	    "PROTO_EJSONRPC is bad_jsonrpc");
}

int
main(void)
{
	test_requests();
	test_boundaries();
	test_responses();
	test_json_check();
	test_build();
	test_error_build();
	test_build_large();
	test_errors();
	test_jsonrpc();
	return (done_testing());
}
