#!/bin/sh
# Limits: --max-conns pauses and resumes accepting, --idle-timeout closes
# idle and half-sent connections, a client that pipelines but never reads
# cannot grow the server's memory, and running out of descriptors pauses
# accepting and recovers.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

PING='j:{"in": "ping", "params": "x"}'
PONG='{"out": "pong", "result": "x"}'

# Wait for a file to hold a line matching a pattern.
has_line()
{
	grep -q "$2" "$1" 2>/dev/null
}

# True once rpcd's stats count more than $1 bytes out.
bytes_out_over()
{
	[ "$(wire -n 1 "$RPCD_ADDR" 'j:{"in": "stats"}' 2>/dev/null |
	    sed -n 's/.*"bytes_out": \([0-9]*\).*/\1/p' | tail -n 1)" \
	    -gt "$1" ] 2>/dev/null
}

# --max-conns 1 with two workers: a worker at its limit leaves the next
# connection to the other, which has room; with both full, a third is
# answered busy and closed at once instead of waiting in the listen queue.
rpcd_start -P 2 --max-conns 1 || bail_out "rpcd did not start"
"$WIRE" -t 30 -n 2 "$RPCD_ADDR" "$PING" >"$TEST_DIR/h1" 2>&1 &
h1=$!
wait_for 50 has_line "$TEST_DIR/h1" pong
"$WIRE" -t 30 -n 2 "$RPCD_ADDR" "$PING" >"$TEST_DIR/h2" 2>&1 &
h2=$!
wait_for 50 has_line "$TEST_DIR/h2" pong
ok $? "two connections are served, one by each worker"
out=$(wire -t 10 "$RPCD_ADDR" "$PING")
is "$(echo "$out" | head -n 1 | sed 's/, "message".*//')" \
    '{"out": "error", "result": {"code": "busy"' \
    "a third, with both workers full, is answered busy"
is "$(echo "$out" | sed -n 2p)" "[closed]" \
    "and closed in order, its unread request no cause for a reset"
kill "$h1"
wait "$h1" 2>/dev/null
wait_for 50 ping_ok "$RPCD_ADDR"
ok $? "once one closes, a new connection is served"
kill "$h2" 2>/dev/null
wait "$h2" 2>/dev/null
wait_for 50 has_line "$RPCD_LOG" "below --max-conns again"
ok $? "the end of the episode is logged once the limit is no longer reached"
ok_test "with how often the limit was reached" \
    grep -q "it was reached [0-9]* time(s)" "$RPCD_LOG"
rpcd_stop

# --idle-timeout 1: idle connections and half-sent frames are closed.
rpcd_start --idle-timeout 1 || bail_out "rpcd did not start"
is "$(wire -t 10 "$RPCD_ADDR")" "[closed]" "an idle connection is closed"
is "$(wire -t 10 "$RPCD_ADDR" h:100 x:7b22)" "[closed]" \
    "a half-sent frame does not keep a connection open"
is "$(wire -t 10 "$RPCD_ADDR" "$PING")" "$(printf '%s\n[closed]' "$PONG")" \
    "a connection is answered, then closed when idle"
rpcd_stop

# Back-pressure: 20,000 pipelined 1 KB pings (20 MB of replies) that are
# never read.  The server must stop reading, not buffer the replies.
# Under AddressSanitizer freed memory sits in a quarantine that would count
# as growth; keep it small so only memory really held shows.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
export ASAN_OPTIONS
rpcd_start --max-output 262144 || bail_out "rpcd did not start"
if [ -r /proc/"$RPCD_PID"/status ]; then
	rss0=$(awk '/VmRSS/ {print $2}' /proc/"$RPCD_PID"/status)
	big=$(printf '%01000d' 0)
	"$WIRE" -w -t 30 -r 20000 "$RPCD_ADDR" \
	    "j:{\"in\": \"ping\", \"params\": \"$big\"}" >/dev/null 2>&1 &
	flood=$!
	# Let the server fill the socket buffers and stop reading.
	wait_for 100 bytes_out_over 1000000
	ok $? "the flood is being answered"
	sleep 1	# give the server every chance to misbehave
	rss=$(awk '/VmRSS/ {print $2}' /proc/"$RPCD_PID"/status)
	ok_test "RSS grows by less than 8 MB under 20 MB of unread replies ($rss0 -> $rss kB)" \
	    test $((rss - rss0)) -lt 8192
	ok_test "other clients are still served meanwhile" ping_ok "$RPCD_ADDR"
	kill "$flood"
	wait "$flood" 2>/dev/null
else
	skip "no /proc: RSS cannot be read"
	skip "no /proc: RSS cannot be read"
	skip "no /proc: RSS cannot be read"
fi
rpcd_stop

# Out of descriptors: with a limit of 16, holders use them all up; accept
# fails with EMFILE, the server pauses instead of spinning, and recovers.
(ulimit -n 16 && exec "$RPCD" -l 127.0.0.1:0) 2>"$TEST_DIR/emfile.log" &
RPCD_PID=$!
RPCD_LOG=$TEST_DIR/emfile.log
wait_for 50 has_line "$RPCD_LOG" "listening on" || bail_out "rpcd did not start"
A=$(sed -n 's/.*listening on //p' "$RPCD_LOG")
holders=
i=0
while [ $i -lt 16 ]; do
	"$WIRE" -t 30 "$A" >/dev/null 2>&1 &
	holders="$holders $!"
	i=$((i + 1))
done
wait_for 100 has_line "$RPCD_LOG" "out of file descriptors"
ok $? "EMFILE is logged"
if [ -r /proc/"$RPCD_PID"/stat ]; then
	t0=$(awk '{print $14 + $15}' /proc/"$RPCD_PID"/stat)
	sleep 1	# measuring CPU use over a second
	t1=$(awk '{print $14 + $15}' /proc/"$RPCD_PID"/stat)
	ok_test "no busy loop while out of descriptors ($((t1 - t0)) ticks/s)" \
	    test $((t1 - t0)) -lt 20
else
	skip "no /proc to measure CPU time"
fi
# shellcheck disable=SC2086
kill $holders
wait_for 100 ping_ok "$A"
ok $? "accepting recovers once descriptors are free"
rpcd_stop
ok $? "rpcd exits 0"

done_testing
