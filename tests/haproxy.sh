#!/bin/sh
# contrib/haproxy/haproxy.cfg, as shipped, in front of three rpcds on
# loopback, under a client load that reconnects on failure and counts every
# request sent and every answer (tests/haproxy_load.py):
# - SIGKILL one rpcd: only the requests in flight on the connections it
#   held fail; the check marks it down within fall x inter, with no failure
#   after; restarted on its port it is up within rise x inter and takes new
#   connections;
# - SIGSTOP another (its kernel still accepts, so only the ping check can
#   tell): down within fall x inter, its connections cut, up after SIGCONT;
# - SIGTERM the third, whose agent then answers "drain": HAProxy sends it
#   no new connection while it serves on for --drain-delay, then it drains
#   (at a second SIGTERM, once that is checked: the delay's own end is
#   tests/server_proxy.sh's);
#   the load, now resending what a close left unanswered, loses nothing,
#   and each request it resent was executed once (rpcd -v logs each);
# - the rpcds' logs name the load's own address (127.0.0.2), which the
#   recipe's send-proxy-v2 carries through HAProxy (127.0.0.1);
# - TLS passed through HAProxy to a ,tls,proxy listener is answered.
# The recipe's check timing is scaled down 10 times (inter 2s -> 200ms);
# the rest of it is what the Debian package ships.  HAProxy's view comes
# from the stats socket the recipe enables.  Skipped without haproxy,
# except in CI (CI=true), which installs it.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

HAPROXY=${HAPROXY:-haproxy}
if ! command -v "$HAPROXY" >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && bail_out "haproxy not found, and CI=true"
	skip_all "haproxy not found"
fi
need_python3

recipe=$top_srcdir/contrib/haproxy/haproxy.cfg
cfg=$TEST_DIR/haproxy.cfg
sock=$TEST_DIR/haproxy.sock
INTER=200		# ms, the recipe's 2s scaled down
CONNS=12		# of the client load
PIPELINE=2		# pings in flight on each
# ms a loaded machine may add to a bound: at a load of 19 on 2 cores,
# haproxy's checks and the test's polls ran 1.1 s late.  The bound still
# tells the checks from haproxy's "timeout connect" and TCP's own timers.
SLACK=2000
# s of --drain-delay: the recipe's 5 s, and the checks meant to run within
# it, run over on a loaded machine; a second SIGTERM ends it after them.
DELAY=120
CLIENT=127.0.0.2	# the load's address, not haproxy's 127.0.0.1
pids=
starts=0

# Everything the test started, stopped by pid at exit.
haproxy_cleanup()
{
	for p in $pids; do
		kill -CONT "$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	cleanup
}
trap haproxy_cleanup EXIT

now_ms()
{
	date +%s%3N
}

# A free loopback port, for haproxy's fixed one.
free_port()
{
	"$PYTHON3" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# rpcd_at N PORT APORT: start rpcd number N as the recipe says, on
# 127.0.0.1:PORT with its agent on 127.0.0.1:APORT (0: any), each start
# with a log of its own; wait until it listens, set PIDn, LOGn, PORTn and
# APORTn.
rpcd_at()
{
	starts=$((starts + 1))
	log=$TEST_DIR/rpcd$1.$starts.log
	"$RPCD" -v -l "127.0.0.1:$2,proxy" --agent-listen "127.0.0.1:$3" \
	    --drain-delay "$DELAY" 2>"$log" &
	eval "PID$1=$! LOG$1=$log"
	pids="$pids $!"
	wait_for 100 grep -q 'agent-check answered on ' "$log" || {
		diag "rpcd $1 did not start:"
		diag_file <"$log"
		return 1
	}
	eval "PORT$1=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
	    "$log")"
	eval "APORT$1=$(sed -n 's/.*agent-check answered on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
	    "$log")"
}

# hap COMMAND: the answer of haproxy's stats socket to COMMAND.
hap()
{
	"$PYTHON3" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
while True:
    data = s.recv(65536)
    if not data:
        break
    sys.stdout.write(data.decode())' "$sock" "$1" 2>/dev/null
}

# srv SERVER FIELD: a field of "show stat" for backend server SERVER.
srv()
{
	hap "show stat" | awk -F, -v srv="$1" -v field="$2" '
	    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i }
	    $1 == "rpcd" && $2 == srv { print $col[field] }'
}

is_UP()
{
	case $(srv "$1" status) in UP*) return 0 ;; esac
	return 1
}

is_DOWN()
{
	case $(srv "$1" status) in DOWN*) return 0 ;; esac
	return 1
}

is_DRAIN()
{
	case $(srv "$1" status) in DRAIN*) return 0 ;; esac
	return 1
}

# wait_state UP|DOWN SERVER: wait (10 s at most) until haproxy marks SERVER
# so; set ELAPSED to the ms from START to the time haproxy logged it (in
# microseconds, the log format the test sets: polling would add its own
# delay).
wait_state()
{
	wait_for 100 "is_$1" "$2" || return 1
	logged=$(grep "Server rpcd/$2 is $1" "$TEST_DIR/haproxy.log" |
	    tail -n 1 | awk '{print $2}')
	ELAPSED=$(($(date -d "$logged" +%s%3N) - START))
}

# mark: ask the load for its counters; set SENT, ANSWERED, FAILED,
# INFLIGHT, RESENT.
marks=0
mark()
{
	marks=$((marks + 1))
	kill -USR1 "$LOAD_PID"
	wait_for 50 eval '[ "$(grep -c "^mark" "$TEST_DIR/load.out")" -ge $marks ]'
	load_counts "$(grep '^mark' "$TEST_DIR/load.out" | sed -n "${marks}p")"
}

load_counts()
{
	for kv in $1; do
		case $kv in
		sent=*) SENT=${kv#*=} ;;
		answered=*) ANSWERED=${kv#*=} ;;
		failed=*) FAILED=${kv#*=} ;;
		inflight=*) INFLIGHT=${kv#*=} ;;
		resent=*) RESENT=${kv#*=} ;;
		reconnects=*) RECONNECTS=${kv#*=} ;;
		esac
	done
}

# progress N: wait until the load has answered N more requests.
progress()
{
	want=$((ANSWERED + $1))
	while mark && [ "$ANSWERED" -lt "$want" ]; do
		[ "$marks" -lt 200 ] || return 1
	done
}

# outage SIGNAL N: send SIGNAL to rpcdN under the load and check that haproxy
# marks it down within fall x inter; that the requests that fail are those
# in flight on the connections it held, PIPELINE on each (cut by the
# signal, or by haproxy as it marks the server down); and that none fails
# after.
outage()
{
	held=$(srv "rpcd$2" scur)
	ok_test "SIG$1: rpcd$2 held connections ($held of $CONNS)" \
	    test "$held" -gt 0
	mark
	before=$FAILED
	START=$(now_ms)
	eval "kill -$1 \$PID$2"
	[ "$1" != KILL ] || eval "wait \$PID$2 2>/dev/null"
	wait_state DOWN "rpcd$2"
	ok $? "SIG$1: rpcd$2 marked down after $ELAPSED ms (fall $FALL x inter $INTER ms)"
	ok_test "within fall x inter (+ $SLACK ms for a loaded machine)" \
	    test "$ELAPSED" -le $((FALL * INTER + SLACK)) ||
	    grep "rpcd$2" "$TEST_DIR/haproxy.log" | diag_file
	progress 3000
	lost=$((FAILED - before))
	# Each connection it held loses its PIPELINE requests in flight, no
	# more; held was read just before the kill, and a connection of the
	# load's may have reached it in between.
	ok_test "SIG$1: $lost requests failed: the $PIPELINE in flight on each of its $held connections (or one more)" \
	    test $((lost % PIPELINE)) -eq 0 -a "$lost" -ge $((held * PIPELINE)) \
	    -a "$lost" -le $(((held + 1) * PIPELINE))
	none_after "SIG$1: no failure once rpcd$2 is marked down"
	diag "SIG$1: $held connections held, $lost requests failed, down in $ELAPSED ms"
}

# comes_up N WHY: haproxy marks rpcdN up within rise x inter of START.
comes_up()
{
	wait_state UP "rpcd$1"
	ok $? "$2: rpcd$1 marked up after $ELAPSED ms (rise $RISE x inter $INTER ms)"
	ok_test "within rise x inter (+ $SLACK ms for a loaded machine)" \
	    test "$ELAPSED" -le $((RISE * INTER + SLACK))
	diag "$2: up in $ELAPSED ms"
}

# none_after DESCRIPTION: no request fails over the next 3000 answers.
none_after()
{
	after_failed=$FAILED
	after_answered=$ANSWERED
	progress 3000
	is "$((FAILED - after_failed))" 0 \
	    "$1, over the next $((ANSWERED - after_answered)) answers"
}

# drain N: SIGTERM rpcdN, whose agent answers "drain" from then on; haproxy
# sets it to DRAIN within agent-inter and sends it no new connection while
# it serves on for --drain-delay; then, at a second SIGTERM, it drains and
# exits 0, and the load, resending what the closes left unanswered, loses
# no request.
drain()
{
	kill -USR2 "$LOAD_PID"
	wait_for 50 grep -q '^resending' "$TEST_DIR/load.out" ||
	    bail_out "the load does not resend"
	held=$(srv "rpcd$1" scur)
	ok_test "SIGTERM: rpcd$1 held connections ($held of $CONNS)" \
	    test "$held" -gt 0
	mark
	before=$FAILED
	resent=$RESENT
	START=$(now_ms)
	eval "kill -TERM \$PID$1"
	wait_for 100 is_DRAIN "rpcd$1"
	ok $? "SIGTERM: the agent has haproxy set rpcd$1 to DRAIN after $(($(now_ms) - START)) ms"
	stot=$(srv "rpcd$1" stot)
	out=$("$RPCCTL" -S "127.0.0.1:$HAPORT" --json bench -c 3 -n 300)
	case $out in *'"errors": 0,'*) ok 0 "new connections meanwhile are served" ;;
	*) ok 1 "new connections meanwhile are served: $out" ;; esac
	is "$(srv "rpcd$1" stot)" "$stot" "by the others: none reaches rpcd$1"
	ok_test "while rpcd$1 serves on for --drain-delay (${DELAY}s)" \
	    eval "! grep -q 'drain delay over' \$LOG$1"
	reconnects=$RECONNECTS
	eval "kill -TERM \$PID$1"
	eval "wait \$PID$1"
	ok $? "SIGTERM: rpcd$1 drains and exits 0"
	# The load has seen each of those connections close.
	while mark && [ "$RECONNECTS" -lt $((reconnects + held)) ]; do
		[ "$marks" -lt 400 ] || break
	done
	progress 3000
	is "$((FAILED - before))" 0 \
	    "SIGTERM with the agent drain: no request lost ($((RESENT - resent)) resent)"
	ok_test "the closes left requests unanswered, which the load resent" \
	    test "$RESENT" -gt "$resent"
	none_after "SIGTERM: no failure once rpcd$1 is gone"
	diag "SIGTERM: $held connections held, $((RESENT - resent)) requests resent"
}

# The recipe, with the test's addresses and the check timing scaled down.
for i in 1 2 3; do
	rpcd_at $i 0 0 || bail_out "rpcd $i did not start"
done
HAPORT=$(free_port)
sed -e "s|^\(	bind \).*|\1127.0.0.1:$HAPORT|" \
    -e "s|^\(	stats socket \)[^ ]*|\1$sock|" \
    -e 's|^\(	log \)/dev/log|\1stderr format rfc5424|' \
    -e "s| inter 2s fastinter 500ms | inter ${INTER}ms fastinter $((INTER / 4))ms |" \
    -e "s|timeout check 1s|timeout check $((INTER / 2))ms|" \
    -e "s| agent-inter 2s| agent-inter ${INTER}ms|" \
    -e "s|^\(	server rpcd1 \)[^ ]*|\1127.0.0.1:$PORT1 agent-port $APORT1|" \
    -e "s|^\(	server rpcd2 \)[^ ]*|\1127.0.0.1:$PORT2 agent-port $APORT2|" \
    -e "s|^\(	server rpcd3 \)[^ ]*|\1127.0.0.1:$PORT3 agent-port $APORT3|" \
    "$recipe" >"$cfg"
# Each substitution took, or the recipe changed under the test.
for want in "log stderr format rfc5424" "bind 127.0.0.1:$HAPORT" "stats socket $sock" \
    " inter ${INTER}ms fastinter $((INTER / 4))ms " "timeout check $((INTER / 2))ms" \
    " send-proxy-v2 agent-check agent-port 8081 agent-inter ${INTER}ms" \
    "server rpcd1 127.0.0.1:$PORT1 agent-port $APORT1" \
    "server rpcd2 127.0.0.1:$PORT2 agent-port $APORT2" \
    "server rpcd3 127.0.0.1:$PORT3 agent-port $APORT3"; do
	grep -q "$want" "$cfg" || bail_out "the recipe has no line for: $want"
done
RISE=$(grep -o ' rise [0-9]*' "$cfg" | awk '{print $2}')
FALL=$(grep -o ' fall [0-9]*' "$cfg" | awk '{print $2}')
ok_test "the recipe, filled in, is a valid haproxy configuration" \
    "$HAPROXY" -c -q -f "$cfg"

"$HAPROXY" -db -f "$cfg" >"$TEST_DIR/haproxy.log" 2>&1 &
HAPROXY_PID=$!
pids="$pids $HAPROXY_PID"
wait_for 100 eval 'kill -0 $HAPROXY_PID && [ -S "$sock" ]'
kill -0 $HAPROXY_PID 2>/dev/null ||
    bail_out "haproxy did not start: $(diag_file <"$TEST_DIR/haproxy.log")"
for i in 1 2 3; do
	wait_for 100 is_UP rpcd$i ||
	    bail_out "haproxy did not mark rpcd$i up: $(diag_file <"$TEST_DIR/haproxy.log")"
done
ok 0 "haproxy marks the three rpcds up through the ping check"

"$PYTHON3" "$top_srcdir/tests/haproxy_load.py" 127.0.0.1 "$HAPORT" \
    "$CONNS" "$PIPELINE" "$CLIENT" >"$TEST_DIR/load.out" 2>"$TEST_DIR/load.err" &
LOAD_PID=$!
pids="$pids $LOAD_PID"
wait_for 100 grep -q '^ready' "$TEST_DIR/load.out" ||
    bail_out "the load did not start: $(diag_file <"$TEST_DIR/load.err")"

# SIGKILL rpcd1: its kernel refuses connections at once.
outage KILL 1

START=$(now_ms)
rpcd_at 1 "$PORT1" "$APORT1" || bail_out "rpcd1 did not restart on port $PORT1"
comes_up 1 "restarted on its port"
stot=$(srv rpcd1 stot)
out=$("$RPCCTL" -S "127.0.0.1:$HAPORT" --json bench --retry -c 3 -n 3000)
ok $? "rpcctl bench --retry through haproxy: exit 0"
case $out in *'"errors": 0,'*) ok 0 "with no error" ;; *) ok 1 "with no error: $out" ;; esac
new=$(($(srv rpcd1 stot) - stot))
ok_test "the restarted rpcd1 takes new connections again ($new of 3)" \
    test "$new" -gt 0

# SIGSTOP rpcd2: alive to the kernel, silent to the check.
outage STOP 2
START=$(now_ms)
kill -CONT "$PID2"
comes_up 2 "SIGCONT"

# PROXY v2: the rpcds log the load's address, not haproxy's.
ok_test "PROXY v2: the rpcds log the load's own address, $CLIENT" \
    grep -q "127\.0\.0\.1:[0-9]*: PROXY v2: client $CLIENT:[0-9]*$" "$TEST_DIR"/rpcd*.log

# SIGTERM rpcd3: the drain a rolling deploy does on each host in turn.
drain 3
# Each request resent ran once in all: the close left it unexecuted.
grep '^resent' "$TEST_DIR/load.err" | awk '{print $2}' | sort -u >"$TEST_DIR/resent"
cat "$TEST_DIR"/rpcd*.log | sed -n 's/.*: ping \([0-9]*\)$/\1/p' |
    sort | uniq -c | awk '{print $2, $1}' >"$TEST_DIR/executed"
twice=$(join "$TEST_DIR/resent" "$TEST_DIR/executed" | awk '$2 != 1')
is "$twice" "" "each of the $(wc -l <"$TEST_DIR/resent") requests resent was executed once"
START=$(now_ms)
rpcd_at 3 "$PORT3" "$APORT3" || bail_out "rpcd3 did not restart on port $PORT3"
comes_up 3 "restarted after its drain"

kill -TERM "$LOAD_PID"
wait "$LOAD_PID"
ok $? "the load exits 0: every answer was the pong to its own request"
load_counts "$(grep '^final' "$TEST_DIR/load.out")"
is "$SENT" "$((ANSWERED + FAILED + INFLIGHT))" \
    "every request sent is answered, failed or still in flight at the end"
diag "load: $SENT sent, $ANSWERED answered, $FAILED failed, $INFLIGHT in flight at the end"

# An rpcd's first SIGTERM starts its --drain-delay of 120 s; a second
# signal, SIGINT here (two SIGTERMs sent at once may arrive as one), ends it.
kill -TERM "$HAPROXY_PID"
wait "$HAPROXY_PID" 2>/dev/null
for p in $PID1 $PID2 $PID3; do
	kill -TERM "$p"
	kill -INT "$p"
	wait "$p" 2>/dev/null
done
pids=

# TLS passed through HAProxy in TCP mode, to a ,tls,proxy listener: the
# PROXY header comes in clear before the client's handshake, and rpcd
# takes it off the stream before OpenSSL reads it.
if ! grep -q '^#define HAVE_TLS 1' "$top_builddir/config.h"; then
	skip "built without TLS"
	skip "built without TLS"
else
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$TEST_DIR/tls.key" -out "$TEST_DIR/tls.pem" -days 1 \
	    -subj /CN=rpcd -addext subjectAltName=IP:127.0.0.1 2>/dev/null ||
	    bail_out "openssl cannot make a certificate"
	rpcd_start -v -l 127.0.0.1:0,tls,proxy --tls-cert "$TEST_DIR/tls.pem" \
	    --tls-key "$TEST_DIR/tls.key" || bail_out "rpcd did not start"
	TLSPORT=$(free_port)
	cat >"$TEST_DIR/tls.cfg" <<EOF_CFG
defaults
	mode tcp
	timeout connect 2s
	timeout client 10s
	timeout server 10s
frontend tls
	bind 127.0.0.1:$TLSPORT
	default_backend rpcd
backend rpcd
	server rpcd $RPCD_ADDR send-proxy-v2
EOF_CFG
	"$HAPROXY" -db -f "$TEST_DIR/tls.cfg" >"$TEST_DIR/haproxy-tls.log" 2>&1 &
	pids="$pids $!"
	T="$RPCCTL --tls --cacert $TEST_DIR/tls.pem -S 127.0.0.1:$TLSPORT"
	wait_for 100 eval '$T ping -c 1 >/dev/null 2>&1'
	is "$($T call ping '"passed through"')" '"passed through"' \
	    "TLS through haproxy's send-proxy-v2 to a tls,proxy listener"
	ok_test "rpcd takes the PROXY header before the handshake" \
	    grep -q "PROXY v2: client 127\.0\.0\.1:[0-9]*$" "$RPCD_LOG"
	rpcd_stop
fi
done_testing
