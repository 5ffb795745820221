#!/bin/sh
# The test harness itself: a run of the test client that exits non-zero,
# even inside a $(...) where no check counts it, fails the test at
# done_testing; runs that exit 0 do not.  The client here is a stand-in
# script, since what is tested is tests/lib.sh, not tests/wire.c.

. "${top_srcdir:-.}/tests/tap.sh"

work=$(mktemp -d) || bail_out "mktemp"
trap 'rm -rf "$work"' EXIT

# A test that runs the client twice in $(...) and once in the background.
cat >"$work/test.sh" <<'END'
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"
is "$(wire -n 1 127.0.0.1:9 'j:{}')" "reply" "the reply is printed"
out=$(wire 127.0.0.1:9)
"$WIRE" -n 1 127.0.0.1:9 >/dev/null &
wait $!
wire_status $? "-n 1 127.0.0.1:9"
done_testing
END

# run_with STATUS: run the test with a client that prints "reply" and exits
# STATUS.
run_with()
{
	printf '#!/bin/sh\necho reply\nexit %d\n' "$1" >"$work/wire"
	chmod +x "$work/wire"
	WIRE=$work/wire "${SHELL:-/bin/sh}" "$work/test.sh" >"$work/out" 2>&1
}

run_with 0
ok $? "a test whose client runs exit 0 passes" || diag_file <"$work/out"
ok_test "with a check that counts them" \
    grep -q '^ok 2 - all 3 runs of the test client exited 0$' "$work/out"

run_with 1
is $? 1 "one whose client runs exit 1 fails" || diag_file <"$work/out"
ok_test "at a check at the end" \
    grep -q '^not ok 2 - all 3 runs of the test client exited 0$' "$work/out"
ok_test "naming each run and its exit" \
    test "$(grep -c '^# wire .*: exit 1$' "$work/out")" -eq 3
ok_test "while the checks of their output still pass" \
    grep -q '^ok 1 - the reply is printed$' "$work/out"
done_testing
