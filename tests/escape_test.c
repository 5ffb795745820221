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
 * Unit tests for str_escape() (lib/common/util.c), which every log line
 * goes through: a table of text and its escaped form.  Control bytes, a
 * C1 control and bytes that are not valid UTF-8 are escaped; valid UTF-8
 * is kept; a copy cut short ends at a whole escape.
 */

#include "config.h"

#include <string.h>

#include "common.h"
#include "tap.h"

static const struct {
	const char	*in;
	const char	*out;
	const char	*what;
} escape_table[] = {
	{ "peer 127.0.0.1:80", "peer 127.0.0.1:80", "printable ASCII kept" },
	{ "a\nb\rc\td", "a\\nb\\rc\\td", "newline, CR and tab, C style" },
	{ "a\\n", "a\\\\n", "a backslash doubled: \\n is not a newline" },
	{ "\033[31mred", "\\x1b[31mred", "ESC in hex" },
	{ "\001\037\177", "\\x01\\x1f\\x7f", "other C0 and DEL in hex" },
	{ "caf\303\251 \342\202\254 \360\237\230\200",
	    "caf\303\251 \342\202\254 \360\237\230\200",
	    "valid UTF-8 of 2, 3 and 4 bytes kept" },
	{ "\302\205\302\233", "\\xc2\\x85\\xc2\\x9b", "C1 controls in hex" },
	{ "\302\240", "\302\240", "U+00A0, past the C1 controls, kept" },
	{ "\377\376", "\\xff\\xfe", "bytes never in UTF-8" },
	{ "\300\257", "\\xc0\\xaf", "an overlong encoding" },
	{ "\355\240\200", "\\xed\\xa0\\x80", "a surrogate" },
	{ "\364\220\200\200", "\\xf4\\x90\\x80\\x80", "past U+10FFFF" },
	{ "\342\202", "\\xe2\\x82", "a sequence cut short at the end" },
	{ "\342\202x", "\\xe2\\x82x", "a sequence cut short by ASCII" },
};

int
main(void)
{
	char	buf[64];
	size_t	i, n;

	for (i = 0; i < sizeof escape_table / sizeof escape_table[0]; i++) {
		n = str_escape(buf, sizeof buf, escape_table[i].in);
		ok(strcmp(buf, escape_table[i].out) == 0 && n == strlen(buf),
		    "%s", escape_table[i].what);
	}
	n = str_escape(buf, 6, "ab\ncd");
	ok(strcmp(buf, "ab\\nc") == 0 && n == 5, "cut short to fit: %s", buf);
	n = str_escape(buf, 4, "ab\ncd");
	ok(strcmp(buf, "ab") == 0 && n == 2,
	    "cut before an escape that does not fit whole: %s", buf);
	n = str_escape(buf, 3, "\303\251\303\251");
	ok(strcmp(buf, "\303\251") == 0, "cut at a whole UTF-8 character");
	done_testing();
}
