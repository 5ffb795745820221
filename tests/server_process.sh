#!/bin/sh
# The process: help and usage errors, version, bind errors, SIGTERM with
# requests in flight, SIGHUP, pid file and its lock, daemon mode, relative
# paths, IPv6, Unix sockets (stale and live), and sd_notify.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

"$RPCD" --help >"$TEST_DIR/help"
ok $? "--help exits 0"
for o in --listen --daemon --user --pidfile --max-frame --max-depth \
    --max-conns --max-output --idle-timeout --shutdown-timeout --unix-mode \
    --verbose --version --help; do
	ok_test "--help lists $o" grep -q -e "$o" "$TEST_DIR/help"
done
"$RPCD" --no-such-option 2>"$TEST_DIR/err"
is $? 2 "an unknown option exits 2"
ok_test "with a hint to --help" grep -q "Try 'rpcd --help'" "$TEST_DIR/err"
is "$(head -n 1 "$TEST_DIR/err")" "rpcd: unrecognized option '--no-such-option'" \
    "getopt's complaint names rpcd, not the path it was run by"
"$RPCD" -l 2>"$TEST_DIR/err"
is "$? $(head -n 1 "$TEST_DIR/err" | cut -c 1-6)" "2 rpcd: " \
    "so does a missing argument"
# The synopsis that --help and usage errors print is the page's.
sed -n '/^\.Sh SYNOPSIS/,/^\.Sh/p' "$top_srcdir/man/rpcd.8" |
    sed -n 's/^\.Op Fl \([^ ]*\)\( Ar \(.*\)\)\{0,1\}$/[-\1 \3]/p' |
    sed 's/ ]$/]/' | tr '\n' ' ' >"$TEST_DIR/page_synopsis"
sed -n '/^usage:/,/^$/p' "$TEST_DIR/help" | sed 's/^usage: rpcd//' |
    tr -s ' \n' '  ' | sed 's/^ //' >"$TEST_DIR/help_synopsis"
is "$(cat "$TEST_DIR/help_synopsis")" "$(cat "$TEST_DIR/page_synopsis")" \
    "--help's synopsis is rpcd.8's"
"$RPCD" --max-frame lots 2>"$TEST_DIR/err"
is $? 2 "a bad number exits 2"
ok_test "naming the option" grep -q -- "--max-frame lots: invalid" "$TEST_DIR/err"
"$RPCD" -l nonsense 2>"$TEST_DIR/err"
is $? 2 "a bad address exits 2"
is "$("$RPCD" -V)" "rpcd $(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")" \
    "-V prints the version"

# SIGTERM with 2000 pipelined requests in flight: all are answered.
rpcd_start || bail_out "rpcd did not start"
sigterm_inflight "single process"

# --shutdown-timeout bounds the drain.  A peer that sent half a frame is
# waited for, but only so long.  One that pipelines and never reads has
# its requests answered up to --max-output, not further.
rpcd_start -v --shutdown-timeout 1 --max-output 65536 ||
    bail_out "rpcd did not start"
"$WIRE" -w -t 30 "$RPCD_ADDR" h:100 >/dev/null 2>&1 &
half=$!
big=$(printf '%01000d' 0)
"$WIRE" -w -t 30 -r 20000 "$RPCD_ADDR" \
    "j:{\"in\": \"ping\", \"params\": \"$big\"}" >/dev/null 2>&1 &
flood=$!
wait_for 100 sh -c "[ \$(grep -c ': connected' '$RPCD_LOG') -ge 2 ]" &&
    wait_for 100 grep -q 'not reading' "$RPCD_LOG"
ok $? "a half frame and an unread flood are held"
before=$(grep -c ': ping ' "$RPCD_LOG")
kill -TERM "$RPCD_PID"
# Polled 16 times 0.1 s apart: the last poll comes 1.5 s after SIGTERM at
# the least, a little more on a loaded machine.
wait_for 16 sh -c "! kill -0 $RPCD_PID 2>/dev/null"
ok $? "SIGTERM: rpcd exits within --shutdown-timeout (1 s) and 0.5 s more"
# The flood's replies may still fit in the kernel's buffers at SIGTERM and
# be flushed; the half frame never completes.
ok_test "after saying it gave up on what was left" \
    grep -q "shutdown timeout: closing [12] connection(s)" "$RPCD_LOG"
wait "$RPCD_PID"
is $? 0 "and exits 0"
RPCD_PID=
after=$(grep -c ': ping ' "$RPCD_LOG")
ok_test "the drain answered $((after - before)) more of the flood, not all it had read" \
    test $((after - before)) -lt 1000
kill "$half" "$flood" 2>/dev/null
wait "$half" "$flood" 2>/dev/null

# -v logs each request; without it nothing is logged per request.
rpcd_start || bail_out "rpcd did not start"
ping_ok "$RPCD_ADDR"
ok_test "no per-request log line by default" sh -c "! grep -q ': ping ' '$RPCD_LOG'"
rpcd_stop
rpcd_start -v || bail_out "rpcd -v did not start"
ping_ok "$RPCD_ADDR"
ok_test "-v logs the request" grep -q ': ping "ok"' "$RPCD_LOG"
rpcd_stop

# Binding a port in use fails with a message and exit 1.
rpcd_start || bail_out "rpcd did not start"
"$RPCD" -l "$RPCD_ADDR" 2>"$TEST_DIR/err"
is $? 1 "a port in use exits 1"
ok_test "with a message naming the address" \
    grep -q "cannot listen on $RPCD_ADDR" "$TEST_DIR/err"
# An error that stops rpcd is printed whatever --log-level says.
"$RPCD" --log-level error -l "$RPCD_ADDR" 2>"$TEST_DIR/err"
is "$? $(sed 's/.*rpcd\[[0-9]*\]: //' "$TEST_DIR/err")" \
    "1 error: cannot listen on $RPCD_ADDR: Address already in use" \
    "--log-level error: a port in use exits 1 with the error, one line"

kill -HUP "$RPCD_PID"
wait_for 50 grep -q "logs reopened" "$RPCD_LOG"
ok $? "SIGHUP reopens the logs"
ok_test "and the server keeps serving" ping_ok "$RPCD_ADDR"
rpcd_stop

# Pid file and daemon mode.
"$RPCD" -d -l 127.0.0.1:0 --pidfile "$TEST_DIR/pid" 2>"$TEST_DIR/daemon.log"
is $? 0 "-d returns 0 to the shell once bound"
A=$(sed -n 's/.*listening on //p' "$TEST_DIR/daemon.log")
wait_for 50 test -s "$TEST_DIR/pid"
ok $? "the daemon writes its pid file"
dpid=$(cat "$TEST_DIR/pid")
ok_test "the daemon answers pings" ping_ok "$A"
kill -TERM "$dpid"
wait_for 50 sh -c "! kill -0 $dpid 2>/dev/null"
ok $? "the daemon exits on SIGTERM"
ok_test "and removes its pid file" test ! -e "$TEST_DIR/pid"

# A second rpcd given a running one's --pidfile refuses to start, naming
# the pid that holds it, and leaves the file alone: in the foreground, as
# a daemon (the lock outlives -d's fork) and under a prefork master.
# second_refused PIDFILE HOLDER WHAT
second_refused()
{
	"$RPCD" -l 127.0.0.1:0 --pidfile "$1" 2>"$TEST_DIR/second.log" &
	second=$!
	if wait_for 50 sh -c "! kill -0 $second 2>/dev/null"; then
		wait "$second"
		second=$?
	else
		kill -9 "$second"
		wait "$second" 2>/dev/null
		second=running
	fi
	is "$second" 1 "$3: a second rpcd with its --pidfile exits 1"
	ok_test "$3: naming pid $2" \
	    grep -q "pid file $1 is locked by pid $2:" "$TEST_DIR/second.log"
	is "$(cat "$1")" "$2" "$3: the pid file still holds pid $2"
}
P=$TEST_DIR/locked.pid
rpcd_start --pidfile "$P" || bail_out "rpcd did not start"
wait_for 50 test -s "$P"
second_refused "$P" "$RPCD_PID" "foreground"
ok_test "the first still serves" ping_ok "$RPCD_ADDR"
rpcd_stop
ok_test "and removes its pid file on exit" test ! -e "$P"
"$RPCD" -d -l 127.0.0.1:0 --pidfile "$P" 2>/dev/null
wait_for 50 test -s "$P"
dpid=$(cat "$P")
second_refused "$P" "$dpid" "-d"
kill -TERM "$dpid"
wait_for 50 sh -c "! kill -0 $dpid 2>/dev/null"
rpcd_start -P 1 --pidfile "$P" || bail_out "rpcd -P 1 did not start"
wait_for 50 test -s "$P"
second_refused "$P" "$RPCD_PID" "prefork"
rpcd_stop
echo 99999999 >"$P"
rpcd_start --pidfile "$P" || bail_out "rpcd did not start"
wait_for 50 sh -c "[ \"\$(cat '$P')\" = $RPCD_PID ]"
ok $? "a pid file nobody holds is taken over"
rpcd_stop

# Relative paths are resolved against the directory rpcd starts in, once:
# -d changes to / before it writes the pid file or removes a socket.
RPCD_ABS=$(cd "$(dirname "$RPCD")" && pwd)/$(basename "$RPCD")
rel=rpcd-test-$$.pid
(cd "$TEST_DIR" && "$RPCD_ABS" -d -l 127.0.0.1:0 --pidfile "$rel" \
    2>"$TEST_DIR/daemon.log")
wait_for 50 test -s "$TEST_DIR/$rel"
ok $? "-d writes a relative --pidfile in the starting directory"
dpid=$(cat "$TEST_DIR/$rel" 2>/dev/null || cat "/$rel")
kill -TERM "$dpid"
wait_for 50 sh -c "! kill -0 $dpid 2>/dev/null"
ok_test "and removes it on exit" test ! -e "$TEST_DIR/$rel"
rm -f "/$rel"	# where it went before relative paths were resolved
(cd "$TEST_DIR" && exec "$RPCD_ABS" -l 127.0.0.1:0 --pidfile "$rel" \
    2>"$TEST_DIR/fg.log") &
RPCD_PID=$!
wait_for 50 test -s "$TEST_DIR/$rel"
is "$(cat "$TEST_DIR/$rel")" "$RPCD_PID" \
    "in the foreground too, a relative --pidfile is in the starting directory"
rpcd_stop
ok_test "and removed on exit" test ! -e "$TEST_DIR/$rel"
(cd "$TEST_DIR" && "$RPCD_ABS" -d -l unix:rel.sock --pidfile "$TEST_DIR/pid" \
    2>"$TEST_DIR/daemon.log")
ok_test "-d -l unix:rel.sock is served in the starting directory" \
    wait_for 50 ping_ok "unix:$TEST_DIR/rel.sock"
ok_test "and logged there" grep -q "listening on unix:$TEST_DIR/rel.sock" \
    "$TEST_DIR/daemon.log"
dpid=$(cat "$TEST_DIR/pid")
kill -TERM "$dpid"
wait_for 50 sh -c "! kill -0 $dpid 2>/dev/null"
ok_test "and the socket is removed on exit" test ! -e "$TEST_DIR/rel.sock"

# IPv6 loopback.
if rpcd_start -l '[::1]:0' 2>/dev/null; then
	case $RPCD_ADDR in
	\[::1\]:*) ok 0 "listening on $RPCD_ADDR" ;;
	*) ok 1 "listening on [::1]"; diag "$RPCD_ADDR" ;;
	esac
	ok_test "pings over IPv6" ping_ok "$RPCD_ADDR"
	rpcd_stop
else
	skip "no IPv6 loopback"
	skip "no IPv6 loopback"
	RPCD_PID=
fi

# Unix socket; a stale one is replaced, a live one is not.
S=$TEST_DIR/rpcd.sock
rpcd_start -l "unix:$S" || bail_out "rpcd did not start on $S"
is "$RPCD_ADDR" "unix:$S" "listening on unix:$S"
ok_test "pings over a Unix socket" ping_ok "unix:$S"
"$RPCD" -l "unix:$S" 2>"$TEST_DIR/err"
is $? 1 "a live socket is not taken over"
kill -9 "$RPCD_PID"
wait "$RPCD_PID" 2>/dev/null
RPCD_PID=
ok_test "kill -9 leaves the socket file behind" test -S "$S"
rpcd_start -l "unix:$S" || bail_out "rpcd did not restart on $S"
ok_test "a stale socket is replaced" grep -q "removing stale socket" "$RPCD_LOG"
ok_test "and served" ping_ok "unix:$S"
rpcd_stop
ok_test "the socket file is removed on exit" test ! -e "$S"
rpcd_start -l "unix:$S" --unix-mode 0660 || bail_out "rpcd did not start"
is "$(ls -l "$S" | cut -c 1-10)" srw-rw---- \
    "--unix-mode 0660 sets the socket file's permissions"
rpcd_stop
"$RPCD" -l "unix:$S" --unix-mode 0999 2>"$TEST_DIR/err"
is $? 2 "--unix-mode 0999 is a usage error"
ok_test "naming the option" grep -q -- "--unix-mode 0999: not an octal mode" \
    "$TEST_DIR/err"
: >"$TEST_DIR/plain"
"$RPCD" -l "unix:$TEST_DIR/plain" 2>"$TEST_DIR/err"
is $? 1 "a file that is not a socket is left alone"

# -u drops privileges after binding (needs root and a "nobody" user).
# The pid file and the socket file are still removed on exit, from a
# directory that is root's as /run is, single process and prefork; and
# --unix-mode 0666 lets another user connect.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	rpcd_start -u nobody || bail_out "rpcd -u nobody did not start"
	is "$(awk '/^Uid:/ {print $2}' /proc/"$RPCD_PID"/status 2>/dev/null)" \
	    "$(id -u nobody)" "-u nobody runs as nobody"
	ok_test "and serves" ping_ok "$RPCD_ADDR"
	rpcd_stop
	chmod 711 "$TEST_DIR"
	D=$TEST_DIR/run
	mkdir -m 755 "$D"
	for mode in "" "-P 1"; do
		what="-u nobody${mode:+ $mode}"
		rpcd_start -u nobody $mode --pidfile "$D/pid" --unix-mode 0666 \
		    -l "unix:$D/s.sock" || bail_out "rpcd $what did not start"
		is "$(runuser -u nobody -- "$WIRE" -n 1 -t 2 "unix:$D/s.sock" \
		    'j:{"in": "ping", "params": "ok"}' 2>"$TEST_DIR/err")" \
		    '{"out": "pong", "result": "ok"}' \
		    "$what: user nobody can connect to a --unix-mode 0666 socket"
		rpcd_stop
		wait_for 20 test ! -e "$D/pid"
		ok $? "$what: the pid file is removed on exit"
		wait_for 20 test ! -e "$D/s.sock"
		ok $? "$what: and so is the socket file"
		ok_test "$what: with no warning" \
		    sh -c "! grep -q 'Permission denied' '$RPCD_LOG'"
	done
else
	for i in 1 2 3 4 5 6 7 8 9 10; do
		skip "not root or no nobody user: -u not tested"
	done
fi

# Socket activation: a socket passed as fd 3 with LISTEN_FDS=1 is served
# and no -l address is bound.
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print("127.0.0.1:%d" % s.getsockname()[1], flush=True)
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)  # dup2 onto itself leaves close-on-exec
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execv(sys.argv[1], [sys.argv[1], "-l", "127.0.0.1:1"])
print(pid, flush=True)
os.waitpid(pid, 0)' "$RPCD" >"$TEST_DIR/activated" 2>"$TEST_DIR/activated.log" &
	wait_for 50 grep -q "listening on" "$TEST_DIR/activated.log"
	A=$(head -n 1 "$TEST_DIR/activated")
	ok_test "a socket-activated rpcd serves the socket it was given" ping_ok "$A"
	ok_test "and binds nothing of its own" \
	    test "$(grep -c 'listening on' "$TEST_DIR/activated.log")" -eq 1
	kill -TERM "$(sed -n 2p "$TEST_DIR/activated")"
	wait
else
	skip "python3 not found"
	skip "python3 not found"
fi

# sd_notify: READY=1 arrives on $NOTIFY_SOCKET.
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(10)
print("listening", flush=True)
print(s.recv(64).decode(), flush=True)' "$TEST_DIR/notify" >"$TEST_DIR/notified" &
	wait_for 50 grep -q listening "$TEST_DIR/notified"
	NOTIFY_SOCKET=$TEST_DIR/notify
	export NOTIFY_SOCKET
	rpcd_start || bail_out "rpcd did not start"
	unset NOTIFY_SOCKET
	wait_for 50 grep -q READY=1 "$TEST_DIR/notified"
	ok $? "READY=1 is sent to NOTIFY_SOCKET"
	rpcd_stop
else
	skip "python3 not found"
fi

done_testing
