#!/bin/sh
# Per-client limits: --client-conns refuses a client's connection past
# its limit (busy), counting clients by address (the one a PROXY header
# names) or Unix user; --client-rate holds a client to its rate by not
# reading it, losing nothing, with a burst; --byte-rate bounds what is
# read from a connection.  Then the hostile battery: a client that
# floods requests, one that opens connections past its limit, and one
# that sends PROXY headers from an untrusted address, each held to its
# limit while an ordinary client beside it keeps its speed, measured
# against the same client alone.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
D=$TEST_DIR
attacker=

# Kill the attacker of speed_beside, stopped or not; at the end too.
attacker_stop()
{
	[ -n "$attacker" ] || return 0
	kill -CONT "$attacker" 2>/dev/null
	kill "$attacker" 2>/dev/null
	wait "$attacker" 2>/dev/null
	attacker=
}
trap 'attacker_stop; cleanup' EXIT
L="$PYTHON3 $top_srcdir/tests/limits_client.py"

# stat NAME: the counter NAME of rpcd's stats report, summed; asked on
# rpcd's Unix socket if it has one, as a client of its own (a user, not
# an address), which no attacker's limit holds up.
stat()
{
	"$RPCCTL" --json -S "${STATS_ADDR:-$RPCD_ADDR}" stats | "$PYTHON3" -c '
import json, sys
r = json.load(sys.stdin)["result"]
print(r["total"][sys.argv[1]])' "$1"
}

# method_stat METHOD NAME: the counter NAME of METHOD in stats.
method_stat()
{
	"$RPCCTL" --json -S "$RPCD_ADDR" stats | "$PYTHON3" -c '
import json, sys
r = json.load(sys.stdin)["result"]
print([m for m in r["methods"] if m["name"] == sys.argv[1]][0][sys.argv[2]])' \
	    "$1" "$2"
}

# counted NAME: true once the counter NAME of stats is above 0.
counted()
{
	[ "$(stat "$1")" -gt 0 ]
}

### --client-conns: a client's connections past the limit get busy.
rpcd_start --client-conns 2 || bail_out "rpcd did not start"
is "$($L conns "$RPCD_ADDR" 3 | tr '\n' ' ')" "pong pong busy " \
    "--client-conns 2: a third connection at once is answered busy"
is "$($L conns "$RPCD_ADDR" 2 | tr '\n' ' ')" "pong pong " \
    "once they close, the client has its two again"
is "$(stat client_refused)" 1 "stats counts the refused connection"
rpcd_stop

### Clients are told apart by the address a trusted PROXY header names.
rpcd_start -l 127.0.0.1:0,proxy --client-conns 1 ||
    bail_out "rpcd did not start"
is "$($L conns "$RPCD_ADDR" 3 192.0.2.1,192.0.2.2,192.0.2.1 | tr '\n' ' ')" \
    "pong pong busy " \
    "behind PROXY: one connection each for 192.0.2.1 and 192.0.2.2, not two"
rpcd_stop

### And on a Unix socket, by user.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 0711 "$D"
	rpcd_start -l "unix:$D/s.sock" --unix-mode 0666 --client-conns 1 ||
	    bail_out "rpcd did not start"
	mkfifo "$D/hold"
	$L conns "unix:$D/s.sock" 1 hold <"$D/hold" >"$D/root.out" &
	holder=$!
	exec 7>"$D/hold"
	wait_for 100 grep -q pong "$D/root.out"
	is "$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    "$WIRE" -n 1 "unix:$D/s.sock" 'j:{"in": "ping", "params": 1}')" \
	    '{"out": "pong", "result": 1}' \
	    "a Unix socket: nobody has a connection while root holds its one"
	is "$($L conns "unix:$D/s.sock" 1)" busy "and root has no second"
	exec 7>&-
	wait $holder
	rpcd_stop
else
	skip "not root, or no setpriv: cannot connect as another user" 2
fi

### --client-rate: past the rate a client waits, unread; nothing is lost.
rpcd_start --client-rate 500 --client-burst 50 ||
    bail_out "rpcd did not start"
set -- $($L rate "$RPCD_ADDR" 1000)
is "$1" 1000 "--client-rate 500: 1000 pipelined pings all answered"
# 50 at once, the other 950 at 500 a second: 1.9 s at least.
ok "$(awk -v s="$2" 'BEGIN { print (s >= 1.85) ? 0 : 1 }')" \
    "and held to the rate: $2 s, where 1.9 s is the least it allows"
ok "$(awk -v s="$2" 'BEGIN { print (s < 20) ? 0 : 1 }')" \
    "and served at it, not stalled: $2 s"
ok "$(test "$(stat client_waits)" -gt 0; echo $?)" \
    "stats counts the waits"
ok "$(test "$(method_stat ping rate_limited)" -gt 0; echo $?)" \
    "and the calls of ping that waited"
rpcd_stop

### A drain with a client waiting for its token: it ends, and rpcd exits 0.
rpcd_start -l 127.0.0.1:0 -l "unix:$D/w.sock" --client-rate 10 \
    --client-burst 1 || bail_out "rpcd did not start"
STATS_ADDR=unix:$D/w.sock
$L rate "$RPCD_ADDR" 50 >/dev/null 2>&1 &
waiter=$!
wait_for 100 counted client_waits || diag "no wait after 10 s"
rpcd_stop
is "$?" 0 "SIGTERM while a connection waits for a token: rpcd exits 0"
kill "$waiter" 2>/dev/null
wait "$waiter" 2>/dev/null
STATS_ADDR=

### --byte-rate: libevent's own buckets bound what is read.
rpcd_start --byte-rate 20000 || bail_out "rpcd did not start"
# 1000 pings of 41 bytes: 41000 bytes, a second at least after the first
# 20000 (the bucket starts full).
set -- $($L rate "$RPCD_ADDR" 1000)
is "$1" 1000 "--byte-rate 20000: 1000 pipelined pings all answered"
ok "$(awk -v s="$2" 'BEGIN { print (s >= 0.9) ? 0 : 1 }')" \
    "and read no faster than the rate: $2 s for 41 kB"
rpcd_stop

### The hostile battery.  Each attacker comes from 127.0.0.1, the
# ordinary client from 127.0.0.2: two clients.  The ordinary client's
# speed, pings one at a time, beside an attacker held to its limit is
# measured against its speed with the attacker stopped: it keeps half at
# least.  The limits: 1000 requests a second after a burst of 100000,
# which the client's 40000 pings stay within and the flood runs through;
# 20 connections.  The connection flood and the spoofer open 1000
# connections a second (tests/limits_client.py): no server's limit stops
# a kernel spending its CPU on handshakes at any rate a client can make.  Unlimited, the flood would take the loop: 256 of its
# frames are read for each of the client's.

# speed_beside NAME UNTIL ATTACKER...: the ordinary client's requests a
# second beside the attacker, once the command UNTIL says it is held to
# its limit, and with the attacker stopped (SIGSTOP), in turns, five of
# each, so that whatever else the machine runs weighs on both alike.
speed_beside()
{
	name=$1
	until=$2
	shift 2
	# At the least priority: on two CPUs the attacker's own work would
	# slow the client as much as any server could.
	nice -n 19 "$@" &
	attacker=$!
	wait_for 300 $until ||
	    diag "$name: not held to its limit after 30 s"
	alone=0
	beside=0
	for turn in 1 2 3 4 5; do
		kill -STOP "$attacker"
		n=$($L speed "$RPCD_ADDR" 4000 127.0.0.2)
		alone=$((alone + ${n:-0}))
		kill -CONT "$attacker"
		n=$($L speed "$RPCD_ADDR" 4000 127.0.0.2)
		beside=$((beside + ${n:-0}))
	done
	attacker_stop
	alone=$((alone / 5))
	beside=$((beside / 5))
	diag "$name: the ordinary client, the attacker stopped: $alone" \
	    "requests/s; beside it: $beside requests/s"
	ok "$(awk -v a="$alone" -v b="$beside" \
	    'BEGIN { print (a > 0 && b >= a / 2) ? 0 : 1 }')" \
	    "$name: the ordinary client keeps its speed ($beside of $alone/s)"
}


rpcd_start -l 127.0.0.1:0 -l "unix:$D/stats.sock" --client-rate 1000 \
    --client-burst 100000 --client-conns 20 || bail_out "rpcd did not start"
STATS_ADDR=unix:$D/stats.sock
speed_beside "a request flood" "counted client_waits" \
    $L flood "$RPCD_ADDR" 127.0.0.1
ok_test "the flood was held to --client-rate" counted client_waits
speed_beside "a connection flood" "counted client_refused" \
    $L connflood "$RPCD_ADDR" 127.0.0.1
ok_test "the connection flood was held to --client-conns" \
    counted client_refused
rpcd_stop

rpcd_start -l 127.0.0.1:0 -l 127.0.0.1:0,proxy --proxy-from 127.0.0.2 ||
    bail_out "rpcd did not start"
STATS_ADDR=
P=$(echo "$RPCD_ADDRS" | sed -n 2p)
speed_beside "PROXY headers from an untrusted peer" \
    "counted proxy_untrusted" $L spoof "$P"
ok_test "the spoofer's connections were closed as untrusted" \
    counted proxy_untrusted
is "$($L conns "$P" 1 192.0.2.9)" closed \
    "a PROXY header from 127.0.0.1, not in --proxy-from, is not believed"
rpcd_stop

### Errors.
"$RPCD" -l 127.0.0.1:0 --client-rate -1 2>"$D/err"
is "$?" 2 "--client-rate -1 is a usage error"
done_testing
