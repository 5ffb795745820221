#!/bin/sh
# The tutorial's own client works unchanged against rpcd, and its ten
# pings, each written as two small writes, are not stalled by Nagle's
# algorithm and delayed ACKs.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] || PYTHON3=$(command -v python3)
[ -n "$PYTHON3" ] || skip_all "python3 not found"

rpcd_start || bail_out "rpcd did not start"
# Time the client itself, not the interpreter's start-up.
"$PYTHON3" -c '
import runpy, sys, time
script = sys.argv[1]
sys.argv = sys.argv[1:]
start = time.monotonic()
runpy.run_path(script, run_name="__main__")
sys.stderr.write("%d\n" % ((time.monotonic() - start) * 1000))' \
    "$top_srcdir/tests/tutorial_client.py" "$RPCD_HOST" "$RPCD_PORT" \
    >"$TEST_DIR/out" 2>"$TEST_DIR/ms"
ok $? "the tutorial client exits 0" || diag_file <"$RPCD_LOG"
ms=$(tail -n 1 "$TEST_DIR/ms")
seq 0 9 | sed 's/^/pong ireader /' >"$TEST_DIR/want"
ok_test "it prints pong ireader 0 to pong ireader 9" cmp -s "$TEST_DIR/out" "$TEST_DIR/want"
# Stalled by a delayed ACK, each ping waits about 40 ms: the ten take
# about 400 ms against rpcd without TCP_QUICKACK (measured), 900 ms against
# the tutorial's server.  Unstalled they take about 10 ms.
ok_test "ten pings take ${ms} ms, under the 400 ms of a delayed-ACK stall" \
    test "$ms" -lt 200
rpcd_stop
done_testing
