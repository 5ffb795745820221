#!/bin/sh
# SIGUSR1 reopens the logs and does nothing else: a stray one, or a log
# rotator's, kills neither rpcd nor a worker.  Its default action would.
# With --log-file, every process writes to the file once started, and
# after a rotation (the file moved away, then SIGUSR1) to a new one.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

# reopened N: true once the log has N "SIGUSR1: logs reopened" lines.
reopened()
{
	[ "$(grep -c 'SIGUSR1: logs reopened' "$RPCD_LOG")" -ge "$1" ]
}

rpcd_start || bail_out "rpcd did not start"
kill -USR1 "$RPCD_PID"
wait_for 50 reopened 1
ok $? "a single rpcd reopens its logs on SIGUSR1" || diag_file <"$RPCD_LOG"
ok_test "and serves on" ping_ok "$RPCD_ADDR"
rpcd_stop
is $? 0 "and exits 0 on SIGTERM"

rpcd_start -P 2 || bail_out "rpcd -P 2 did not start"
wait_for 50 sh -c "[ \$(grep -c 'started, pid' '$RPCD_LOG') -ge 2 ]"
kill -USR1 "$RPCD_PID"
wait_for 50 reopened 3
ok $? "the master reopens its logs and has both workers do so" ||
    diag_file <"$RPCD_LOG"
worker=$(sed -n 's/.*worker 0 started, pid \([0-9]*\).*/\1/p' "$RPCD_LOG")
kill -USR1 "$worker"
wait_for 50 reopened 4
ok $? "a worker sent SIGUSR1 itself reopens its logs"
ok_test "and lives on" kill -0 "$worker"
ok_test "every worker still serves" ping_ok "$RPCD_ADDR"
is "$(grep -c 'started, pid' "$RPCD_LOG")" 2 "no worker was replaced"
rpcd_stop
is $? 0 "the master exits 0 on SIGTERM"

# --log-file: the start on standard error, the rest in the file.
L=$TEST_DIR/file.log
in_file() { [ "$(grep -c "$1" "$L" 2>/dev/null)" -ge "$2" ]; }
rpcd_start -P 2 --log-file "$L" || bail_out "rpcd --log-file did not start"
wait_workers 2
ok_test "--log-file: the addresses listened on are on standard error" \
    grep -q "listening on " "$RPCD_LOG"
ok_test "the workers' lines are in the file" in_file "worker 1 started" 1
ping_ok "$RPCD_ADDR"
wait_for 50 in_file ": closed: " 1
ok $? "and a connection's access line"
is "$(grep -c ': closed: \|started, pid' "$RPCD_LOG")" 0 \
    "none of them on standard error"
mv "$L" "$L.1"
kill -USR1 "$RPCD_PID"
wait_for 50 in_file "SIGUSR1: logs reopened" 3
ok $? "rotated: the master and both workers write to a new file" ||
    diag_file <"$L.1"
closes=$(grep -c ": closed: " "$L.1")
ping_ok "$RPCD_ADDR"
wait_for 50 in_file ": closed: " 1
ok $? "a connection's line goes to the new one"
is "$(grep -c ": closed: " "$L.1")" "$closes" "and none to the old one"
rpcd_stop
is $? 0 "and rpcd exits 0"
ok_test "saying so in the new file" in_file "exiting" 1

# A log file that cannot be opened stops the start, saying why.
"$RPCD" -l 127.0.0.1:0 --log-file "$TEST_DIR/none/x.log" 2>"$TEST_DIR/err"
is "$? $(sed -n 's/.*error: //p' "$TEST_DIR/err")" \
    "1 log file $TEST_DIR/none/x.log: No such file or directory" \
    "a log file in no directory: exit 1, with the reason"

# -d: the file, not syslog.
L=$TEST_DIR/daemon.log
"$RPCD" -d -l 127.0.0.1:0 --pidfile "$TEST_DIR/d.pid" --log-file "$L" \
    2>"$TEST_DIR/d.err"
is $? 0 "-d --log-file: started"
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$TEST_DIR/d.err")
dpid=$(cat "$TEST_DIR/d.pid")
ping_ok "127.0.0.1:$port"
wait_for 50 in_file ": closed: " 1
ok $? "a detached rpcd logs to the file"
kill -TERM "$dpid"
wait_for 100 pids_gone "$dpid"
ok_test "and exits on SIGTERM, saying so there" in_file "exiting" 1

# Root made the file, for -u's user: that user's worker reopens a new one.
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	skip "not root, or no user nobody"
	skip "not root, or no user nobody"
else
	chmod 0711 "$TEST_DIR"
	mkdir -m 0755 "$TEST_DIR/logs"
	L=$TEST_DIR/logs/rpcd.log
	rpcd_start -P 1 -u nobody --log-file "$L" ||
	    bail_out "rpcd -u nobody --log-file did not start"
	wait_workers 1
	mv "$L" "$L.1"
	kill -USR1 "$RPCD_PID"
	wait_for 50 in_file "SIGUSR1: logs reopened" 2
	ok $? "-u nobody: the master and the worker reopen the new file" ||
	    diag_file <"$L.1"
	is "$(stat -c %U "$L")" nobody "which belongs to nobody"
	rpcd_stop
fi

done_testing
