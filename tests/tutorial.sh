#!/bin/sh
# The tutorial's own client works unchanged against rpcd, and its ten
# pings, each written as two small writes, are not stalled by Nagle's
# algorithm and delayed ACKs (about 0.9 s when they are).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] || PYTHON3=$(command -v python3)
[ -n "$PYTHON3" ] || skip_all "python3 not found"

rpcd_start || bail_out "rpcd did not start"
start=$("$PYTHON3" -c 'import time; print(time.monotonic())')
"$PYTHON3" "$top_srcdir/tests/tutorial_client.py" "$RPCD_HOST" "$RPCD_PORT" \
    >"$TEST_DIR/out"
ok $? "the tutorial client exits 0" || diag_file <"$RPCD_LOG"
ms=$("$PYTHON3" -c "import time; print(int((time.monotonic() - $start) * 1000))")
seq 0 9 | sed 's/^/pong ireader /' >"$TEST_DIR/want"
ok_test "it prints pong ireader 0 to pong ireader 9" cmp -s "$TEST_DIR/out" "$TEST_DIR/want"
# The bound is generous (interpreter start-up included); a stall is 900 ms.
ok_test "ten pings take ${ms} ms, well under the 900 ms of a Nagle stall" \
    test "$ms" -lt 400
rpcd_stop
done_testing
