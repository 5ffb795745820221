#!/bin/sh
# SIGHUP with --prefork reads the configuration file again: a new limit
# reaches the new generation under connect-call-close load with no failed
# request, while a connection of the old generation has every request it
# sent answered; a broken file keeps the running generation; a setting
# that needs a restart is logged; a reload whose new workers fail is
# rolled back; systemd hears RELOADING=1 and READY=1, rollback or not.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

C=$RPCCTL
F=$TEST_DIR/rpcd.conf

setting()
{
	"$C" -S "$RPCD_ADDR" --json stats | grep -o "\"$1\": [^,}]*" |
	    sed 's/.*: //'
}
worker_pids()
{
	"$C" -S "$RPCD_ADDR" --json stats |
	    grep -o '"index": [0-9]*, "pid": [0-9]*' | sed 's/.*: //' |
	    sort -n | tr '\n' ' '
}
# True once the log has $2 lines matching $1.
logged()
{
	[ "$(grep -c "$1" "$RPCD_LOG")" -ge "$2" ]
}

# systemd's notification socket, if python3 is here to play systemd.
# The listener goes once rpcd has been silent for 10 minutes, should the
# test die first: not 30 s, which the load between two SIGHUPs outlasts on
# a loaded machine (the later datagrams were lost).
notify=
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(600)
print("bound", flush=True)
try:
    while True:
        print(s.recv(256).decode().replace("\n", " "), flush=True)
except socket.timeout:
    pass' "$TEST_DIR/notify" >"$TEST_DIR/notified" &
	notify=$!
	wait_for 50 grep -q bound "$TEST_DIR/notified"
	NOTIFY_SOCKET=$TEST_DIR/notify
	export NOTIFY_SOCKET
fi

printf 'prefork 2\nmax-frame 4096\n' >"$F"
rpcd_start -f "$F" || bail_out "rpcd -f $F did not start"
unset NOTIFY_SOCKET
wait_workers 2
is "$(setting max-frame)" 4096 "the file's max-frame is in stats"
before=$(worker_pids)

# Load: two loops of connect-call-close clients.
load_start 2 ping '"load"'
wait_for 100 load_reached 20

# A connection of the old generation with 2000 pipelined requests written
# when SIGHUP comes: all answered before its worker closes it.
"$WIRE" -t 20 -n 2001 -r 2000 "$RPCD_ADDR" 'j:{"in": "ping", "params": 1}' \
    >"$TEST_DIR/inflight" 2>"$TEST_DIR/sent" &
inflight=$!
wait_for 100 grep -q sent "$TEST_DIR/sent"

printf 'prefork 2\nmax-frame 8192\n' >"$F"
kill -HUP "$RPCD_PID"
wait "$inflight"
wire_status $? "-n 2001 -r 2000 (in flight at SIGHUP)"
is "$(grep -c pong "$TEST_DIR/inflight")" 2000 \
    "an old connection has its 2000 requests answered"
ok_test "and is closed only then" sh -c "tail -n 1 '$TEST_DIR/inflight' | grep -q closed"
replaced()
{
	[ "$(pgrep -P "$RPCD_PID" | wc -l)" -eq 2 ] || return 1
	for p in $before; do
		pgrep -P "$RPCD_PID" | grep -qx "$p" && return 1
	done
	return 0
}
wait_for 100 replaced
ok $? "the new generation replaced the old one"
# More load on the new generation, then stop.
wait_for 100 load_reached $(($(load_most) + 20))
load_stop
is "$load_failed" 0 "no call of $load_sent connect-call-close clients failed"
is "$(setting max-frame)" 8192 "stats shows the reloaded max-frame"
"$WIRE" -n 1 "$RPCD_ADDR" "j:{\"in\": \"ping\", \"params\": \"$(head -c 6000 /dev/zero | tr '\0' x)\"}" \
    >"$TEST_DIR/big"
ok_test "and a 6000-byte request, over the old limit, is answered" \
    grep -q pong "$TEST_DIR/big"

# A broken file: logged with file:line, the running generation serves on.
before=$(worker_pids)
printf 'prefork 2\nmax-frame 8192\nmax-frame lots\n' >"$F"
kill -HUP "$RPCD_PID"
wait_for 50 logged "SIGHUP: $F:3: max-frame given twice (first on line 2); still serving" 1
ok $? "a broken file at SIGHUP is logged with its file:line"
ok_test "the running workers still serve" ping_ok "$RPCD_ADDR"
is "$(worker_pids)" "$before" "and are the same processes"
is "$(setting max-frame)" 8192 "with the same settings"

# A setting that needs a restart: logged, kept; the rest applies.
printf 'prefork 3\nmax-frame 16384\n' >"$F"
kill -HUP "$RPCD_PID"
wait_for 50 logged "SIGHUP: prefork changed from '2' to '3': it needs a restart, and stays '2'" 1
ok $? "a change of prefork is logged as needing a restart"
wait_for 100 sh -c "[ \"\$('$C' -S '$RPCD_ADDR' --json stats | grep -o '\"max-frame\": [0-9]*')\" = '\"max-frame\": 16384' ]"
ok $? "and the live change of the same file applies"
is "$(setting prefork)" 2 "with prefork still 2"
wait_for 50 logged "new generation ready" 2

# New workers that fail at start, in the test module's worker_init():
# rolled back, and systemd hears READY=1 all the same.
cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" &&
    chmod 0755 "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
printf 'prefork 2\nmax-frame 16384\nmodule %s worker=fail\n' \
    "$TEST_DIR/testmod.so" >"$F"
wait_workers 2
before=$(worker_pids)
kill -HUP "$RPCD_PID"
wait_for 100 logged "SIGHUP: new worker [01] failed at start (exit 1); rolling back" 1
ok $? "a reload whose new workers fail at start is rolled back"
is "$(worker_pids)" "$before" "the running workers serve on"

if [ -n "$notify" ]; then
	wait_for 50 sh -c "[ \$(grep -c '^READY=1' '$TEST_DIR/notified') -ge 5 ]"
	is "$(grep -v bound "$TEST_DIR/notified" | sed 's/MONOTONIC_USEC=[0-9][0-9]*/MONOTONIC_USEC=N/' |
	    tr '\n' '|')" \
	    "READY=1|RELOADING=1 MONOTONIC_USEC=N|READY=1|RELOADING=1 MONOTONIC_USEC=N|READY=1|RELOADING=1 MONOTONIC_USEC=N|READY=1|RELOADING=1 MONOTONIC_USEC=N|READY=1|" \
	    "sd_notify: READY=1, then RELOADING=1 and READY=1 around each SIGHUP"
	kill "$notify"
	wait "$notify" 2>/dev/null
else
	skip "python3 not found: sd_notify not checked"
fi
rpcd_stop
is $? 0 "the master exits 0"

done_testing
