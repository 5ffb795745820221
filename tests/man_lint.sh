#!/bin/sh
# Every manual page passes mandoc -T lint -W warning without a word.

. "${top_srcdir:-.}/tests/tap.sh"

[ -n "${MANDOC:-}" ] && [ -x "$MANDOC" ] || MANDOC=$(command -v mandoc)
[ -n "$MANDOC" ] || skip_all "mandoc not found"
for page in "$top_srcdir"/man/*.[0-9]; do
	out=$("$MANDOC" -T lint -W warning "$page" 2>&1)
	ok $? "mandoc -T lint $(basename "$page")" || echo "$out" | diag_file
	is "$out" "" "no warnings in $(basename "$page")"
done
done_testing
