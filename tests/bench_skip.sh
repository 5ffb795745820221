#!/bin/sh
# make bench without a load generator: skipped with a line saying where
# one goes, exit 0; a LOADGEN= that names nothing is an error.  No
# benchmark runs: the scratch tree has no shared/bench beside it.  make
# bench-http without wrk (WRK= names nothing): skipped likewise.

. "${top_srcdir:-.}/tests/tap.sh"

work=$(mktemp -d) || bail_out "mktemp"
trap 'rm -rf "$work"' EXIT
# A checkout with the benchmark's library, and nothing beside it.
mkdir -p "$work/src/tests"
cp "$top_srcdir/tests/bench_lib.sh" "$work/src/tests/" || bail_out "cp"
bench=$top_srcdir/tests/bench.sh

top_srcdir=$work/src LOADGEN= "${SHELL:-/bin/sh}" "$bench" >"$work/out" 2>&1
is $? 0 "no load generator beside the checkout: exit 0" || diag_file <"$work/out"
ok_test "saying it skipped and where the load generator goes" \
    grep -q "^bench: skipped: no load generator in $work/shared/bench;" \
    "$work/out"
ok_test "and how to point to one" grep -q 'set LOADGEN=' "$work/out"

top_srcdir=$work/src LOADGEN=$work/none "${SHELL:-/bin/sh}" "$bench" \
    >"$work/out" 2>&1
is $? 1 "LOADGEN= naming nothing: exit 1" || diag_file <"$work/out"
ok_test "naming it" grep -q "^bench: LOADGEN=$work/none is not an executable" \
    "$work/out"
top_srcdir=$work/src WRK=$work/none "${SHELL:-/bin/sh}" \
    "$top_srcdir/tests/bench_http.sh" >"$work/out" 2>&1
is $? 0 "bench-http without wrk: exit 0" || diag_file <"$work/out"
ok_test "saying it skipped for want of wrk" \
    grep -q "^bench-http: skipped: $work/none not found" "$work/out"
done_testing
