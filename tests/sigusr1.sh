#!/bin/sh
# SIGUSR1 reopens the logs and does nothing else: a stray one, or a log
# rotator's, kills neither rpcd nor a worker.  Its default action would.

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

done_testing
