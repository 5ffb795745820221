#!/bin/sh
# Slow peers: a frame begun must be whole within --frame-timeout, whether
# bytes trickle in or not; past --max-conns a new peer is answered busy and
# closed at once, and counted; and a thousand peers trickling bytes cannot
# keep a legitimate client out for longer than the frame timeout.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3

PING='j:{"in": "ping", "params": "x"}'
PONG='{"out": "pong", "result": "x"}'
BUSY='{"out": "error", "result": {"code": "busy", "message": "server busy: try again later"}}'

# trickle PORT COUNT SECONDS: COUNT connections, each sending a header that
# announces 100 bytes and then one byte every 0.2 s, for SECONDS.  Prints
# how many were open at the start and how many the server closed.
trickle()
{
	"$PYTHON3" - "$@" <<'EOF'
import socket, struct, sys, time
port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(struct.pack("<I", 100) + b'{')
    socks.append(s)
print("open %d" % len(socks), flush=True)
end, closed = time.monotonic() + seconds, 0
while socks and time.monotonic() < end:
    for s in list(socks):
        try:
            s.send(b" ")
        except OSError:
            socks.remove(s)
            closed += 1
    time.sleep(0.2)
print("closed %d" % closed)
EOF
}

# elapsed MILLISECONDS-SINCE: print the milliseconds since a date +%s%N.
elapsed()
{
	echo $((($(date +%s%N) - $1) / 1000000))
}

# A frame whose bytes trickle in is closed at --frame-timeout, long before
# --idle-timeout; so is one whose sender stops.
rpcd_start -v --frame-timeout 1 || bail_out "rpcd did not start"
t0=$(date +%s%N)
out=$(trickle "$RPCD_PORT" 1 10)
t=$(elapsed "$t0")
is "$out" "$(printf 'open 1\nclosed 1')" "a trickled frame is closed"
# Bounds with room for a loaded machine, far below --idle-timeout.
ok_test "after --frame-timeout 1, not --idle-timeout 300 (${t} ms)" \
    test "$t" -lt 10000
ok_test "saying why" grep -q 'closed: frame timed out' "$RPCD_LOG"
t0=$(date +%s%N)
is "$(wire -t 10 "$RPCD_ADDR" h:100 x:7b22)" "[closed]" \
    "a frame whose sender stops is closed too"
t=$(elapsed "$t0")
ok_test "at --frame-timeout (${t} ms)" test "$t" -ge 900 -a "$t" -lt 5000
rpcd_stop

# --frame-timeout 0 leaves a slow frame to --idle-timeout.
rpcd_start --frame-timeout 0 --idle-timeout 2 || bail_out "rpcd did not start"
out=$(trickle "$RPCD_PORT" 1 3)
is "$out" "$(printf 'open 1\nclosed 0')" \
    "--frame-timeout 0: a trickled frame is not cut off"
rpcd_stop

# Past --max-conns a new peer gets busy and a close at once, counted as
# rejected; the connections already open are still served.
rpcd_start -v --max-conns 2 || bail_out "rpcd did not start"
"$WIRE" -w -t 30 "$RPCD_ADDR" >/dev/null 2>&1 &
h1=$!
"$WIRE" -w -t 30 "$RPCD_ADDR" >/dev/null 2>&1 &
h2=$!
wait_for 50 sh -c "[ \$(grep -c ': connected' '$RPCD_LOG') -ge 2 ]"
t0=$(date +%s%N)
out=$(wire -t 10 "$RPCD_ADDR" "$PING")
t=$(elapsed "$t0")
# The ping it sent is never read, so the close may come as a reset.
is "$(echo "$out" | head -n 1)" "$BUSY" \
    "a third connection at --max-conns 2 is answered busy"
# At once: before the 2 s (RPCD_LINGER) a close that waited for the
# peer would take; the time includes starting the client.
ok_test "and closed at once (${t} ms)" test "$t" -lt 2000 -a \
    "$(echo "$out" | sed -n '2{/^\[closed\]$/p;/^\[reset\]$/p}')" != ""
ok_test "the episode is logged once" \
    test "$(grep -c 'answered busy or left' "$RPCD_LOG")" -eq 1
kill "$h1" "$h2"
wait "$h1" "$h2" 2>/dev/null
wait_for 50 ping_ok "$RPCD_ADDR"
ok $? "once they close, new connections are served"
ok_test "the refusal is counted in stats" sh -c "\"$RPCCTL\" -S '$RPCD_ADDR' \
    --json stats | grep -q '\"rejected\": 1'"
rpcd_stop

# A thousand peers trickling bytes hold every slot of --max-conns 1000.  A
# legitimate client, retrying each busy answer, gets in once --frame-timeout
# has closed them, not after --idle-timeout.
if ulimit -n 3000 2>/dev/null; then
	rpcd_start --max-conns 1000 --frame-timeout 3 ||
	    bail_out "rpcd did not start"
	trickle "$RPCD_PORT" 1000 10 >"$TEST_DIR/trickle" &
	tricklers=$!
	wait_for 100 grep -q '^open 1000' "$TEST_DIR/trickle"
	ok $? "1000 peers trickle bytes into --max-conns 1000"
	t0=$(date +%s%N)
	busy=0
	while :; do
		out=$(wire -n 1 -t 5 "$RPCD_ADDR" "$PING" 2>/dev/null | head -n 1)
		[ "$out" = "$PONG" ] && break
		[ "$out" = "$BUSY" ] && busy=$((busy + 1))
		[ "$(elapsed "$t0")" -gt 10000 ] && break
		sleep 0.1
	done
	t=$(elapsed "$t0")
	is "$out" "$PONG" "a legitimate client is served"
	ok_test "within --frame-timeout 3 and slack for load (${t} ms)" \
	    test "$t" -lt 6000
	ok_test "answered busy meanwhile ($busy times), not left waiting" \
	    test "$busy" -gt 0
	kill "$tricklers" 2>/dev/null
	wait "$tricklers" 2>/dev/null
	rpcd_stop
else
	skip "cannot raise the descriptor limit to 3000"
	skip "cannot raise the descriptor limit to 3000"
	skip "cannot raise the descriptor limit to 3000"
	skip "cannot raise the descriptor limit to 3000"
fi

done_testing
