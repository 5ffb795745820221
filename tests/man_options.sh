#!/bin/sh
# The pages and the programs agree: every option --help prints is in the
# page's option list, and every option listed there is in --help.

. "${top_srcdir:-.}/tests/tap.sh"

# Options as "-x" and "--long" words, one per line, sorted.
help_options()
{
	"$1" --help | grep -o -e '^ *-[A-Za-z]' -e '[ ,]--[a-z][a-z-]*' |
	    tr -d ' ,' | sort -u
}
page_options()
{
	grep '^\.It Fl ' "$1" | grep -o 'Fl -\{0,1\}[A-Za-z][a-z-]*' |
	    sed 's/^Fl /-/' | sort -u
}

for pair in server/rpcd:rpcd.8 client/rpcctl:rpcctl.1; do
	prog=$top_builddir/${pair%%:*}
	page=$top_srcdir/man/${pair#*:}
	help_options "$prog" >"${TMPDIR:-/tmp}/help.$$"
	page_options "$page" >"${TMPDIR:-/tmp}/page.$$"
	ok_test "$(basename "$prog") --help prints options" \
	    test -s "${TMPDIR:-/tmp}/help.$$"
	missing=$(comm -23 "${TMPDIR:-/tmp}/help.$$" "${TMPDIR:-/tmp}/page.$$" | tr '\n' ' ')
	is "$missing" "" "every option of $(basename "$prog") --help is in ${pair#*:}"
	extra=$(comm -13 "${TMPDIR:-/tmp}/help.$$" "${TMPDIR:-/tmp}/page.$$" | tr '\n' ' ')
	is "$extra" "" "every option in ${pair#*:} is in $(basename "$prog") --help"
	rm -f "${TMPDIR:-/tmp}/help.$$" "${TMPDIR:-/tmp}/page.$$"
done
done_testing
