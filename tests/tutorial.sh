#!/bin/sh
# The tutorial's own client works unchanged against rpcd, and its ten
# pings, each written as two small writes, are not stalled by Nagle's
# algorithm and delayed ACKs.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3

rpcd_start || bail_out "rpcd did not start"
# Time each ping from the client's side, not the interpreter's start-up:
# each starts with the send() of its length prefix, and the last ends with
# the script.  The times, in ms, go to standard error, one a line.
"$PYTHON3" -c '
import runpy, socket, sys, time
script = sys.argv[1]
sys.argv = sys.argv[1:]
starts = []
send = socket.socket.send
def timed_send(self, *args):
    starts.append(time.monotonic())
    return send(self, *args)
socket.socket.send = timed_send
runpy.run_path(script, run_name="__main__")
ends = starts[1:] + [time.monotonic()]
for start, end in zip(starts, ends):
    sys.stderr.write("%.1f\n" % ((end - start) * 1000))' \
    "$top_srcdir/tests/tutorial_client.py" "$RPCD_HOST" "$RPCD_PORT" \
    >"$TEST_DIR/out" 2>"$TEST_DIR/ms"
ok $? "the tutorial client exits 0" || diag_file <"$RPCD_LOG"
seq 0 9 | sed 's/^/pong ireader /' >"$TEST_DIR/want"
ok_test "it prints pong ireader 0 to pong ireader 9" cmp -s "$TEST_DIR/out" "$TEST_DIR/want"
# Stalled by a delayed ACK, a ping waits about 40 ms for the ACK of its
# length prefix before its body goes: the ten took about 400 ms against
# rpcd without TCP_QUICKACK (measured), 900 ms against the tutorial's
# server.  Unstalled one takes under a millisecond, a few under a
# sanitizer.  The median and the count of slow pings do not flake when the
# scheduler delays one ping on a busy machine, as a bound on the total did.
ms=$(tr '\n' ' ' <"$TEST_DIR/ms")
is "$(wc -l <"$TEST_DIR/ms" | tr -d ' ')" 10 "ten pings are timed"
median=$(sort -n "$TEST_DIR/ms" | sed -n 5p)
ok_test "the median ping takes ${median} ms, under half a 40 ms stall" \
    awk -v m="${median:-40}" 'BEGIN {exit !(m < 20)}' || diag "times (ms): $ms"
slow=$(awk '$1 >= 35 {n++} END {print n + 0}' "$TEST_DIR/ms")
ok_test "at most 2 of ten pings take the 40 ms of a stall (35 or more): $slow do" \
    test "$slow" -le 2 || diag "times (ms): $ms"
rpcd_stop
done_testing
