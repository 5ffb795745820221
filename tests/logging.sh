#!/bin/sh
# The log: every line says its level; connection lines name the peer;
# each connection's close is a line of the access log, at the info level;
# client errors are logged once per connection, at the debug level only,
# and counted by kind in stats; --log-level sets the threshold; with
# stderr the journal's stream (JOURNAL_STREAM), lines start with <N>.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

C=$RPCCTL
BAD='j:{"in": "ping",'
PING='j:{"in": "ping", "params": 1}'

# total NAME: a counter of the stats reply's total row.
total()
{
	"$C" -S "$RPCD_ADDR" --json stats | grep -o "\"$1\": [0-9]*" |
	    tail -n 1 | sed 's/.*: //'
}

# By default: info lines say so; client errors are counted, not logged.
rpcd_start --max-frame 64 --idle-timeout 1 || bail_out "rpcd did not start"
ok_test "a line says its level" \
    grep -q "^[0-9-]* [0-9:]* rpcd\[$RPCD_PID\]: info: listening on " \
    "$RPCD_LOG"
wire -n 3 "$RPCD_ADDR" "$BAD" "$BAD" "$PING" >/dev/null
wire -t 5 "$RPCD_ADDR" h:65 >/dev/null 2>&1
wire -t 5 "$RPCD_ADDR" x:474554202f20485454502f312e310d0a0d0a >/dev/null
wire -w -t 2 "$RPCD_ADDR" h:10 >/dev/null 2>&1 &
slow=$!
wire -w -t 2 "$RPCD_ADDR" >/dev/null 2>&1 &
idle=$!
wait_for 50 eval '[ "$(total timeouts)" = 2 ]'
wait "$slow" "$idle"
is "$(total bad_requests) $(total too_large) $(total foreign_protocol)" \
    "2 1 1" "client errors are counted by kind"
is "$(total timeouts)" 2 "a frame too slow and an idle connection: timeouts"
ok_test "and none is logged at the default level, but for how it ended" \
    sh -c "! grep -v ': closed: ' '$RPCD_LOG' | grep -q -e 'bad request' \
    -e 'over the limit' -e 'speaks' -e 'timed out' -e 'timeout'"
# The access log: a line per connection at the default level, with the
# peer, why it closed, the listener, its time, requests and frame bytes
# (two bad frames and a ping in, 67 bytes; two errors and a pong out).
ok_test "a close is an info line: why, where, how long and how much" \
    grep -q \
    "info: 127.0.0.1:[0-9]*: closed: end of file (listener=$RPCD_ADDR seconds=[0-9]*\\.[0-9][0-9][0-9] requests=3 bytes_in=67 bytes_out=222)\$" \
    "$RPCD_LOG"
ok_test "and a timeout, the one the peer met" grep -q \
    "closed: idle timeout (listener=$RPCD_ADDR seconds=[1-9][0-9]*\\.[0-9]* requests=0 " \
    "$RPCD_LOG"
rpcd_stop

# -v: connection lines name the peer, client errors are logged, once.
rpcd_start -v -l "unix:$TEST_DIR/s" -l 127.0.0.1:0 ||
    bail_out "rpcd -v did not start"
wire -n 3 "127.0.0.1:$RPCD_PORT" "$BAD" "$BAD" "$PING" >/dev/null
wire -n 1 "unix:$TEST_DIR/s" "$PING" >/dev/null
wait_for 50 grep -q "unix:$TEST_DIR/s: closed" "$RPCD_LOG"
peer=$(sed -n 's/.*debug: \(127\.0\.0\.1:[0-9]*\): connected$/\1/p' \
    "$RPCD_LOG" | head -n 1)
ok_test "a TCP connection is logged with its peer's address ($peer)" \
    test -n "$peer" -a "$peer" != "127.0.0.1:$RPCD_PORT"
is "$(grep -c "debug: $peer: bad request: " "$RPCD_LOG")" 1 \
    "two bad requests on it: one line, naming the peer"
ok_test "its close names the peer" grep -q "info: $peer: closed: " \
    "$RPCD_LOG"
ok_test "a Unix connection is logged with the socket's path" \
    grep -q "debug: unix:$TEST_DIR/s: connected" "$RPCD_LOG"
rpcd_stop

# Strings a peer controls are escaped in the log, vis(3) style: a newline
# in a PROXY v2 header's Unix address, in a method name ("\u000a" in the
# JSON) or in a module's error message, which the test module logs, shows
# as \n and forges no line; ESC, DEL and a C1 control show as \xNN.
hex()
{
	printf '%b' "$1" | od -An -tx1 | tr -d ' \n'
}
FORGE='2026-01-01 00:00:00 rpcd[1]: info: FORGED'
# v2 PROXY, AF_UNIX stream: 216 bytes of addresses, the source first.
src=$(hex "x\\n$FORGE\\033[31m")
src=$src$(printf '%0*d' $((216 - ${#src} / 2)) 0 | sed 's/0/00/g')
V2UNIX=0d0a0d0a000d0a515549540a213100d8$src
cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
chmod 0755 "$TEST_DIR/testmod.so"
rpcd_start -v -l 127.0.0.1:0,proxy -l 127.0.0.1:0 -m "$TEST_DIR/testmod.so" ||
    bail_out "rpcd -v with a proxy listener did not start"
P=$(echo "$RPCD_ADDRS" | sed -n 1p)
PLAIN=$(echo "$RPCD_ADDRS" | sed -n 2p)
is "$(wire -n 1 "$P" "x:$V2UNIX" "$PING")" '{"out": "pong", "result": 1}' \
    "a PROXY v2 Unix address with a newline and ESC: answered"
wire -n 1 "$PLAIN" "j:{\"in\": \"x\\u000a$FORGE\\u001b[31m\", \"params\": 1}" \
    >/dev/null
out=$(wire -n 1 "$PLAIN" \
    "j:{\"in\": \"refuse\", \"params\": \"no\\n$FORGE\\u001b[31m\\u007f\"}")
case $out in
*'"code": "nope", "message": "no\u000a2026'*)
	ok 0 "a module's error message with control bytes is answered" ;;
*)	ok 1 "a module's error message with control bytes is answered"
	diag "$out" ;;
esac
wait_for 50 grep -q "closed: end of file" "$RPCD_LOG"
pid=$RPCD_PID
rpcd_stop
is "$(grep -c -v "^[0-9-]* [0-9:]* rpcd\[$pid\]: [a-z]*: " \
    "$RPCD_LOG")" 0 "every line of the log is rpcd's own: none forged"
is "$(grep -c "$(printf '\033')" "$RPCD_LOG")" 0 "no ESC byte in the log"
ok_test "the peer's Unix address shows escaped" grep -qF \
    "PROXY v2: client unix:x\\n$FORGE\\x1b[31m" "$RPCD_LOG"
ok_test "and so does each line naming that peer" grep -qF \
    "debug: unix:x\\n$FORGE\\x1b[31" "$RPCD_LOG"
ok_test "the method name shows escaped" grep -qF \
    ": x\\n$FORGE\\x1b[31m 1" "$RPCD_LOG"
ok_test "the module's message shows escaped" grep -qF \
    "info: testmod: refused: no\\n$FORGE\\x1b[31m\\x7f" "$RPCD_LOG"

# answers ADDR: a ping on ADDR is answered (until it is, it is not a
# failure of the test client).
answers()
{
	"$WIRE" -n 1 -t 2 "$1" "$PING" 2>/dev/null | grep -q pong
}

# --log-level: warnings and worse only, or errors and worse only.  No
# "listening on" line to wait for: the Unix socket answering is the sign.
# A connection held open at --max-conns 1 makes a warning.
levels()
{
	"$RPCD" -l "unix:$TEST_DIR/l" --max-conns 1 --log-level "$1" \
	    2>"$TEST_DIR/$1.log" &
	RPCD_PID=$!
	wait_for 100 answers "unix:$TEST_DIR/l" ||
	    bail_out "rpcd --log-level $1 did not start"
	: >"$TEST_DIR/held"	# not the last run's, before the job opens it
	wire -n 2 -t 5 "unix:$TEST_DIR/l" "$PING" >"$TEST_DIR/held" &
	held=$!
	wait_for 50 grep -q pong "$TEST_DIR/held"
	rpcd_stop
	wait "$held"
	wire_status $? "-n 2 (held at --max-conns 1)"
}
levels warning
ok_test "--log-level warning: the warning is logged" \
    grep -q 'warning: 1 connections open (--max-conns)' "$TEST_DIR/warning.log"
ok_test "and no info line" sh -c "! grep -q ' info: ' '$TEST_DIR/warning.log'"
levels error
is "$(wc -c <"$TEST_DIR/error.log")" 0 "--log-level error: nothing logged"

# Under systemd, stderr is the stream JOURNAL_STREAM names: <N> prefixes,
# no time (the journal has it).  A stale JOURNAL_STREAM is ignored.
journal()
{
	: >"$TEST_DIR/j.log"
	JOURNAL_STREAM=$1 "$RPCD" -l 127.0.0.1:0 -l 127.0.0.1:0 \
	    2>>"$TEST_DIR/j.log" &
	RPCD_PID=$!
	RPCD_LOG=$TEST_DIR/j.log
	wait_for 100 rpcd_listening 2 || bail_out "rpcd did not start"
	rpcd_stop
}
: >"$TEST_DIR/j.log"
journal "$(stat -c '%d:%i' "$TEST_DIR/j.log")"
ok_test "JOURNAL_STREAM: info lines start with <6>" \
    grep -q "^<6>rpcd\[[0-9]*\]: info: listening on " "$TEST_DIR/j.log"
is "$(grep -c -v '^<[0-7]>rpcd' "$TEST_DIR/j.log")" 0 "every line has <N>"
journal "1:1"
ok_test "another stream's JOURNAL_STREAM: no <N>" \
    sh -c "! grep -q '^<' '$TEST_DIR/j.log'"

"$RPCD" --log-level loud 2>"$TEST_DIR/err"
is "$? $(head -n 1 "$TEST_DIR/err")" \
    "2 rpcd: --log-level loud: not error, warning, info or debug" \
    "an unknown level is a usage error"

done_testing
