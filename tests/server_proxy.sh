#!/bin/sh
# rpcd behind a load balancer, with hand-made bytes: a listener given
# ",proxy" takes the PROXY header (v1 and v2) first and logs the client it
# names; a missing, malformed or truncated header closes the connection,
# with a debug line and the proxy_errors counter; a listener without it
# treats those bytes as any other bad input.  Headers are believed only
# from --proxy-from's networks.  The agent-check responder
# answers "ready", then "drain" from a SIGTERM on while --drain-delay lets
# rpcd serve on, in a single process and under a prefork master.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3

PING='j:{"in": "ping", "params": 1}'
PONG='{"out": "pong", "result": 1}'
SIG2=0d0a0d0a000d0a515549540a
# v2 PROXY TCP4 from 192.0.2.7:4660, then a NOOP and a UNIQUE_ID TLV.
V2=${SIG2}21110016c00002077f00000112341f9004000361626305000178
# v2 LOCAL: HAProxy's own check, no address.
LOCAL=${SIG2}20000000

hex()
{
	printf '%b' "$1" | od -An -tx1 | tr -d ' \n'
}
V1=$(hex 'PROXY TCP4 192.0.2.9 127.0.0.1 5555 8080\r\n')

# proxy_errors: the counter in the stats of the rpcd on $1.
proxy_errors()
{
	"$RPCCTL" -S "$1" --json stats | grep -o '"total": {[^}]*}' |
	    sed 's/.*"proxy_errors": \([0-9]*\).*/\1/'
}

# agent PORT: the line the agent responder on 127.0.0.1:PORT answers.
agent()
{
	"$PYTHON3" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
data = b""
while True:
    b = s.recv(64)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())' "$1"
}

rpcd_start -v -l 127.0.0.1:0,proxy -l 127.0.0.1:0 ||
    bail_out "rpcd did not start"
P=$(echo "$RPCD_ADDRS" | sed -n 1p)
PLAIN=$(echo "$RPCD_ADDRS" | sed -n 2p)
ok_test "the proxy listener is logged as one" \
    grep -q "listening on $P (PROXY protocol header first)" "$RPCD_LOG"

is "$(wire -n 1 "$P" "x:$V1" "$PING")" "$PONG" "v1 TCP4, then a ping: answered"
ok_test "the log names the client of the v1 header" \
    grep -q "127.0.0.1:[0-9]*: PROXY v1: client 192.0.2.9:5555$" "$RPCD_LOG"
is "$(wire -n 1 "$P" "x:$V2" "$PING")" "$PONG" \
    "v2 TCP4 with TLVs, then a ping: answered"
ok_test "the log names the client of the v2 header" \
    grep -q "127.0.0.1:[0-9]*: PROXY v2: client 192.0.2.7:4660$" "$RPCD_LOG"
ok_test "and its close, by the client's address" \
    grep -q "192.0.2.7:4660: closed: end of file" "$RPCD_LOG"
is "$(wire -1 -n 1 "$P" "x:$V2" "$PING")" "$PONG" \
    "v2 sent a byte at a time: answered"
is "$(wire -c -n 1 "$P" "x:$V1" "$PING")" "$PONG" \
    "v1 and a ping in one write: answered"
lines=$(grep -c 'PROXY v2: client' "$RPCD_LOG")
is "$(wire -n 1 "$P" "x:$LOCAL" "$PING")" "$PONG" \
    "v2 LOCAL, then a ping: answered"
is "$(grep -c 'PROXY v2: client' "$RPCD_LOG")" "$lines" \
    "LOCAL names no client: the connection keeps its own address"
is "$(proxy_errors "$PLAIN")" 0 "good headers: proxy_errors 0"

is "$(wire -t 5 "$P" "$PING")" "[closed]" \
    "no header, a frame: closed without a reply"
ok_test "logged at debug level" \
    grep -q "bad PROXY header: no PROXY signature" "$RPCD_LOG"
is "$(wire -t 5 "$P" "x:${SIG2}31")" "[closed]" \
    "v2 signature, then version 3: closed"
is "$(wire -t 5 "$P" "x:${SIG2%0a}0b")" "[closed]" \
    "v2 signature wrong in its last byte: closed"
is "$(wire -t 5 "$P" "x:$(hex 'PROXY TCP4 192.0.2.300 127.0.0.1 1 2\r\n')")" \
    "[closed]" "v1 with a bad address: closed"
is "$(wire -s -t 5 "$P" "x:$(hex 'PROXY TCP4 192.0.2.9 ')")" "[closed]" \
    "a truncated header, then end of file: closed"
ok_test "logged as truncated" grep -q "bad PROXY header: truncated" "$RPCD_LOG"
is "$(proxy_errors "$PLAIN")" 5 "each bad header counted: proxy_errors 5"

out=$(wire -t 5 "$PLAIN" "x:$V1" "$PING")
case $out in
*frame_too_large*'[closed]') ok 0 "v1 header on a plain listener: bad input, frame_too_large" ;;
*) ok 1 "v1 header on a plain listener: bad input, frame_too_large"; diag "$out" ;;
esac
out=$(wire -t 5 "$PLAIN" "x:$V2" "$PING")
case $out in
*frame_too_large*'[closed]') ok 0 "v2 header on a plain listener: bad input, frame_too_large" ;;
*) ok 1 "v2 header on a plain listener: bad input, frame_too_large"; diag "$out" ;;
esac
is "$(proxy_errors "$PLAIN")" 5 "which proxy_errors does not count"
rpcd_stop

# timeouts NAME: the timeouts counter in the stats of the rpcd on $1.
timeouts()
{
	"$RPCCTL" -S "$1" --json stats | grep -o '"total": {[^}]*}' |
	    sed 's/.*"timeouts": \([0-9]*\).*/\1/'
}

# A header has a deadline, --tls-handshake-timeout, not the idle timeout
# of 300 s: a connection that sends none, or half of one, is closed then
# and counted in proxy_errors, not in timeouts.  Once the header has come,
# the idle timeout applies.
rpcd_start -v --tls-handshake-timeout 1 -l 127.0.0.1:0,proxy -l 127.0.0.1:0 ||
    bail_out "rpcd did not start"
P=$(echo "$RPCD_ADDRS" | sed -n 1p)
PLAIN=$(echo "$RPCD_ADDRS" | sed -n 2p)
is "$(wire -t 20 "$P")" "[closed]" \
    "no header at all: closed at the header's deadline"
is "$(wire -t 20 "$P" "x:$(hex 'PROXY TCP4 192.0.2.9 ')")" "[closed]" \
    "half a header, then nothing: closed at the deadline"
is "$(proxy_errors "$PLAIN") $(timeouts "$PLAIN")" "2 0" \
    "both counted in proxy_errors, not in timeouts"
is "$(grep -c "bad PROXY header: timed out" "$RPCD_LOG")" 2 \
    "each logged at the debug level"
out=$("$PYTHON3" - "${P##*:}" "$V1" <<'EOF_PY'
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
body = b'{"in": "ping", "params": 1}'
ping = struct.pack("<I", len(body)) + body
s.sendall(bytes.fromhex(sys.argv[2]) + ping)
print(s.recv(100)[4:].decode())
time.sleep(2)	# past the header's deadline: the idle timeout runs now
s.sendall(ping)
print(s.recv(100)[4:].decode() or "[closed]")
EOF_PY
)
is "$out" "$PONG
$PONG" "a good header: the connection outlives the header's deadline"
rpcd_stop

# The keyword: bad ones refused; -n prints it back.
"$RPCD" -l 127.0.0.1:0,proxy,bogus 2>"$TEST_DIR/err"
is $? 2 "an unknown keyword is a usage error"
ok_test "naming it" grep -q "unknown keyword bogus" "$TEST_DIR/err"
out=$("$RPCD" -n -f /dev/null -l 127.0.0.1:8080,proxy 2>/dev/null)
ok_test "-n prints the keyword after the address" \
    sh -c "echo '$out' | grep -qx 'listen 127.0.0.1:8080,proxy'"
"$RPCD" --agent-listen nowhere 2>"$TEST_DIR/err"
is $? 2 "--agent-listen with a bad address is a usage error"

# proxy_untrusted: the counter in the stats of the rpcd on $1.
proxy_untrusted()
{
	"$RPCCTL" -S "$1" --json stats | grep -o '"total": {[^}]*}' |
	    sed 's/.*"proxy_untrusted": \([0-9]*\).*/\1/'
}

# untrusted ADDRESS: a good v1 header and a ping to ADDRESS; "refused" if
# the connection was closed unanswered, at once (closed or reset: the close
# may come before the bytes, or after).
untrusted()
{
	case $(wire -t 5 "$1" "x:$V1" "$PING" 2>/dev/null) in
	"[closed]"|"[reset]") echo refused ;;
	*) echo answered ;;
	esac
}

# --proxy-from: a ,proxy listener believes headers only from peers in
# those networks (by default loopback); any other peer, which could name
# any client, is closed at once, unread, and counted in proxy_untrusted.
# IPv4 networks also hold the IPv4 clients of a dual-stack socket
# (tests/network_test).  A Unix socket's peers are always taken.
S=$TEST_DIR/proxy.sock
rpcd_start -v -l 127.0.0.1:0,proxy -l 127.0.0.1:0 -l "unix:$S,proxy" \
    --proxy-from 192.0.2.0/24 --proxy-from 10.0.0.0/8 ||
    bail_out "rpcd did not start"
P=$(echo "$RPCD_ADDRS" | sed -n 1p)
PLAIN=$(echo "$RPCD_ADDRS" | sed -n 2p)
is "$(untrusted "$P")" refused \
    "a header from 127.0.0.1, not in --proxy-from: closed unanswered"
ok_test "logged at the debug level" \
    grep -q "127.0.0.1:[0-9]*: not in --proxy-from: closed$" "$RPCD_LOG"
ok_test "before its header was read" \
    sh -c "! grep -q 'PROXY v1: client 192.0.2.9' '$RPCD_LOG'"
is "$(proxy_untrusted "$PLAIN") $(proxy_errors "$PLAIN")" "1 0" \
    "counted in proxy_untrusted, not proxy_errors"
is "$(wire -n 1 "unix:$S" "x:$V1" "$PING")" "$PONG" \
    "on the Unix socket a header is taken, whatever --proxy-from says"
is "$(wire -n 1 "$PLAIN" "$PING")" "$PONG" "a plain listener serves on"
rpcd_stop

if rpcd_start -v -l '[::1]:0,proxy' -l 127.0.0.1:0,proxy -l 127.0.0.1:0 \
    2>/dev/null; then
	P6=$(echo "$RPCD_ADDRS" | sed -n 1p)
	P=$(echo "$RPCD_ADDRS" | sed -n 2p)
	PLAIN=$(echo "$RPCD_ADDRS" | sed -n 3p)
	is "$(wire -n 1 "$P6" "x:$V2" "$PING") $(wire -n 1 "$P" "x:$V2" \
	    "$PING")" "$PONG $PONG" \
	    "by default headers from ::1 and 127.0.0.1 are taken"
	rpcd_stop
	rpcd_start -v -l '[::1]:0,proxy' -l 127.0.0.1:0,proxy \
	    -l 127.0.0.1:0 --proxy-from 127.0.0.1 ||
	    bail_out "rpcd did not start"
	P6=$(echo "$RPCD_ADDRS" | sed -n 1p)
	P=$(echo "$RPCD_ADDRS" | sed -n 2p)
	PLAIN=$(echo "$RPCD_ADDRS" | sed -n 3p)
	is "$(untrusted "$P6") $(wire -n 1 "$P" "x:$V2" "$PING")" \
	    "refused $PONG" \
	    "--proxy-from 127.0.0.1: ::1 is refused, 127.0.0.1 answered"
	rpcd_stop
	rpcd_start -v -l '[::1]:0,proxy' -l 127.0.0.1:0,proxy \
	    -l 127.0.0.1:0 --proxy-from ::1 || bail_out "rpcd did not start"
	P6=$(echo "$RPCD_ADDRS" | sed -n 1p)
	P=$(echo "$RPCD_ADDRS" | sed -n 2p)
	PLAIN=$(echo "$RPCD_ADDRS" | sed -n 3p)
	is "$(wire -n 1 "$P6" "x:$V2" "$PING") $(untrusted "$P")" \
	    "$PONG refused" \
	    "--proxy-from ::1: ::1 answered, 127.0.0.1 refused"
	is "$(proxy_untrusted "$PLAIN")" 1 "and counted"
	rpcd_stop
else
	RPCD_PID=
	skip "no IPv6 loopback"
	skip "no IPv6 loopback"
	skip "no IPv6 loopback"
	skip "no IPv6 loopback"
fi

# A SIGHUP under --prefork takes the file's new networks.
printf 'prefork 1\nproxy-from 192.0.2.0/24\n' >"$TEST_DIR/conf"
rpcd_start -f "$TEST_DIR/conf" -l 127.0.0.1:0,proxy -l 127.0.0.1:0 ||
    bail_out "rpcd did not start"
wait_workers 1
P=$(echo "$RPCD_ADDRS" | sed -n 1p)
PLAIN=$(echo "$RPCD_ADDRS" | sed -n 2p)
is "$(untrusted "$P")" refused "prefork, --proxy-from 192.0.2.0/24: refused"
printf 'prefork 1\nproxy-from 127.0.0.1\n' >"$TEST_DIR/conf"
reloaded()
{
	"$RPCCTL" -S "$PLAIN" --json stats |
	    grep -q '"proxy-from": \[ "127.0.0.1/32" \]'
}
kill -HUP "$RPCD_PID"
wait_for 100 reloaded && wait_workers 1
is "$(wire -n 1 "$P" "x:$V1" "$PING")" "$PONG" \
    "after SIGHUP, proxy-from 127.0.0.1 in the file: answered"
rpcd_stop

# Networks are checked when given; -n prints them, the defaults too.
"$RPCD" -n -f /dev/null --proxy-from 10.1.2.3/8 2>"$TEST_DIR/err"
is "$? $(sed -n 1p "$TEST_DIR/err")" \
    "2 rpcd: --proxy-from 10.1.2.3/8: address bits set past the prefix length /8" \
    "a network with bits past its prefix is a usage error"
printf 'proxy-from 10.0.0.0/8\nproxy-from 192.0.2.0/33\n' >"$TEST_DIR/conf"
"$RPCD" -n -f "$TEST_DIR/conf" 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" \
    "1 rpcd: $TEST_DIR/conf:2: proxy-from 192.0.2.0/33: prefix length is too large (0 to 32)" \
    "a bad one in the file names its line"
is "$("$RPCD" -n -f /dev/null | grep '^proxy-from')" \
    "proxy-from 127.0.0.0/8
proxy-from ::1/128" "-n prints the default networks"
is "$("$RPCD" -n -f /dev/null --proxy-from 192.0.2.0/24 \
    --proxy-from 2001:db8::/32 | grep '^proxy-from')" \
    "proxy-from 192.0.2.0/24
proxy-from 2001:db8::/32" "and those given, instead"

# proxy_errors outlives a worker, as the other counters do.
rpcd_start -P 1 -l 127.0.0.1:0,proxy -l 127.0.0.1:0 ||
    bail_out "rpcd -P 1 did not start"
P=$(echo "$RPCD_ADDRS" | sed -n 1p)
PLAIN=$(echo "$RPCD_ADDRS" | sed -n 2p)
wire -t 5 "$P" "$PING" >/dev/null
is "$(proxy_errors "$PLAIN")" 1 "prefork: a bad header counted"
worker=$("$RPCCTL" -S "$PLAIN" --json stats | grep -o '"index": 0, "pid": [0-9]*' |
    sed 's/.*: //')
kill -9 "$worker"
wait_for 50 sh -c "'$RPCCTL' -S '$PLAIN' --json stats |
    grep -q '\"index\": 0, \"pid\": [1-9][0-9]*, [^}]*\"restarts\": 1'"
is "$(proxy_errors "$PLAIN")" 1 "and still counted once its worker is replaced"
rpcd_stop

# drain_check WHAT ARGS...: start rpcd with the agent and a --drain-delay
# the checks cannot outlast, however loaded the machine; the agent says
# "ready"; after SIGTERM it says "drain", and rpcd still serves new
# connections and old ones; a second SIGTERM ends the delay, and it exits
# 0.  The delay's own end is delay_check's.
drain_check()
{
	what=$1
	shift
	rpcd_start --agent-listen 127.0.0.1:0 --drain-delay 600 "$@" ||
	    bail_out "$what: rpcd did not start"
	AGENT=$(sed -n 's/.*agent-check answered on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
	    "$RPCD_LOG")
	is "$(agent "$AGENT")" "ready" "$what: the agent answers ready"
	: >"$TEST_DIR/old"	# not the last run's, before the job opens it
	"$WIRE" -t 20 "$RPCD_ADDR" "$PING" >"$TEST_DIR/old" 2>/dev/null &
	old=$!
	wait_for 50 grep -q pong "$TEST_DIR/old"
	kill -TERM "$RPCD_PID"
	wait_for 50 grep -q 'the agent answers "drain"' "$RPCD_LOG"
	is "$(agent "$AGENT")" "drain" "$what: after SIGTERM it answers drain"
	ok_test "$what: and a new connection is still served" ping_ok "$RPCD_ADDR"
	is "$(wire -n 1 "$RPCD_ADDR" "$PING")" "$PONG" \
	    "$what: so is a request on it"
	kill -TERM "$RPCD_PID"
	wait "$RPCD_PID"
	is $? 0 "$what: a second SIGTERM shuts it down, exit 0"
	RPCD_PID=
	wait "$old"
	is "$(cat "$TEST_DIR/old")" "$PONG
[closed]" "$what: a connection open all along is answered, then closed"
}
drain_check "single process"
drain_check "prefork" -P 2

# delay_check WHAT ARGS...: with --drain-delay 1, SIGTERM shuts rpcd down
# once the delay is over, not before, and it exits 0.
delay_check()
{
	what=$1
	shift
	rpcd_start --agent-listen 127.0.0.1:0 --drain-delay 1 "$@" ||
	    bail_out "$what: rpcd did not start"
	start=$(date +%s%3N)
	kill -TERM "$RPCD_PID"
	wait "$RPCD_PID"
	is $? 0 "$what: --drain-delay 1 over, rpcd exits 0"
	RPCD_PID=
	ok_test "$what: not before the delay" \
	    test $(($(date +%s%3N) - start)) -ge 1000
	ok_test "$what: and says so" grep -q "drain delay over" "$RPCD_LOG"
}
delay_check "single process"
delay_check "prefork" -P 2

# Without --drain-delay, SIGTERM shuts down at once, as it always did.
rpcd_start --agent-listen 127.0.0.1:0 || bail_out "rpcd did not start"
: >"$TEST_DIR/old"	# not the last run's, before the job opens it
"$WIRE" -t 20 "$RPCD_ADDR" "$PING" >"$TEST_DIR/old" 2>&1 &
old=$!
wait_for 100 grep -q pong "$TEST_DIR/old"
ok $? "a connection is open and answered"
kill -TERM "$RPCD_PID"
wait "$RPCD_PID"
is $? 0 "no --drain-delay: SIGTERM shuts down at once"
RPCD_PID=
wait "$old"
ok_test "and closes the open connection" grep -q closed "$TEST_DIR/old" ||
    diag_file <"$TEST_DIR/old"

# A connection accepted just before a shutdown has its first request
# answered: on a proxy listener too, where nothing at all has come yet
# when the drain begins (its header was taken for one cut short, and the
# connection closed as if out of memory).
rpcd_start -v -l 127.0.0.1:0,proxy || bail_out "rpcd did not start"
"$PYTHON3" - "$RPCD_PORT" "$RPCD_PID" "$RPCD_LOG" "$V1" \
    >"$TEST_DIR/grace" 2>&1 <<'EOF' &
import os, signal, socket, struct, sys, time
port, pid, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
header = bytes.fromhex(sys.argv[4])


def logged(what):
    deadline = time.time() + 10
    while time.time() < deadline:
        with open(log) as f:
            if what in f.read():
                return
        time.sleep(0.02)


s = socket.create_connection(("127.0.0.1", port), timeout=10)
logged(": connected")
# Half of the second's grace gone (whole seconds, once, made it anything
# from none to two): still within it.
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
logged("shutting down")
body = b'{"in": "ping", "params": 1}'
s.sendall(header + struct.pack("<I", len(body)) + body)
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data[4:].decode() if len(data) > 4 else "[closed]")
EOF
grace=$!
wait "$grace"
wait "$RPCD_PID"
is $? 0 "a drain with a proxy connection that has sent nothing yet exits 0"
RPCD_PID=
is "$(cat "$TEST_DIR/grace")" "$PONG" \
    "its PROXY header and first request, sent after SIGTERM, are answered"
ok_test "not closed as out of memory" \
    sh -c "! grep -q 'out of memory for a PROXY header' '$RPCD_LOG'"

done_testing
