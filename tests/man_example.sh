#!/bin/sh
# The example program in libproto(3) compiles against the library as built
# and prints what the page says it prints, so the page cannot drift from
# the API.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

page=$top_srcdir/man/libproto.3
work=$TEST_DIR

example_block "$page" 1 >"$work/example.c"
example_block "$page" 2 >"$work/expected"
ok_test "libproto(3) has an example program" grep -q 'main(void)' "$work/example.c"
ok_test "libproto(3) says what it prints" test -s "$work/expected"

"$top_builddir/libtool" --mode=link --tag=CC $CC $CFLAGS \
    -I"$top_srcdir/lib" -o "$work/example" "$work/example.c" \
    "$top_builddir/lib/libproto.la" $LDFLAGS >"$work/cc.log" 2>&1
ok $? "the example compiles and links with libproto" || diag_file <"$work/cc.log"

"$top_builddir/libtool" --mode=execute "$work/example" >"$work/out" 2>&1
ok $? "the example exits 0" || diag_file <"$work/out"
# The page indents its output; compare without the indent.
is "$(cat "$work/out")" "$(sed 's/^[	 ]*//' "$work/expected")" \
    "the example prints what the page says"

done_testing
