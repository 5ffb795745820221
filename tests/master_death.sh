#!/bin/sh
# No worker outlives its master: a prefork master killed by SIGKILL takes
# every worker with it, even one still in a module's worker_init() (which
# hangs here), and the port is free at once: connections are refused,
# not left in a queue that no process accepts from.  As reported, during
# a reload whose new workers hang at start; at start, with -u nobody as
# root, since dropping privileges clears Linux's parent-death signal.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"
need_python3

for m in a hang; do
	cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/$m.so" &&
	    chmod 0755 "$TEST_DIR/$m.so" ||
	    bail_out "no testmod.so: make check builds it"
done
F=$TEST_DIR/rpcd.conf
KIDS=

# Kill what the master left, if the test failed: the pids it forked.
kill_kids()
{
	for k in $KIDS; do
		kill -9 "$k" 2>/dev/null
	done
	KIDS=
}
trap 'kill_kids; cleanup' EXIT

# Has the master $1 children?
children()
{
	[ "$(pgrep -P "$RPCD_PID" | wc -l)" -eq "$1" ]
}
# Is a connection to rpcd's port refused?
refused()
{
	"$RPCCTL" -t 2 -S "$RPCD_ADDR" ping 2>&1 | grep -q "Connection refused"
}

# master_killed WHAT: SIGKILL the master; every child it had exits within
# 5 s, and the port refuses connections.
master_killed()
{
	KIDS=$(echo $(pgrep -P "$RPCD_PID"))
	kill -9 "$RPCD_PID"
	wait "$RPCD_PID" 2>/dev/null
	RPCD_PID=
	wait_for 50 pids_gone $KIDS
	ok $? "$1: the workers $KIDS exit within 5 s of their master's kill -9"
	ok_test "$1: and the port refuses connections" refused
	kill_kids
}

# A reload whose new generation hangs in worker_init(): the old workers
# serve on, the new ones hang until the rollback --shutdown-timeout
# (here a minute) would kill them.
printf '%s\n' "prefork 2" "shutdown-timeout 60" \
    "module $TEST_DIR/a.so bare take=alpha" >"$F"
rpcd_start -f "$F" || bail_out "rpcd -f $F did not start"
wait_for 100 children 2 && wait_for 100 ping_ok "$RPCD_ADDR"
ok $? "rpcd -P 2 serves"
printf '%s\n' "module $TEST_DIR/hang.so bare worker=hang" >>"$F"
kill -HUP "$RPCD_PID"
wait_for 100 children 4
ok $? "SIGHUP: two new workers, which hang at start, beside the old two"
ok_test "the old ones serve meanwhile" ping_ok "$RPCD_ADDR"
master_killed "kill -9 during the reload"

# A worker whose loop runs drains instead: a call in flight when the
# master is killed is answered, then the connection ends.
rpcd_start -v -P 1 -m "$TEST_DIR/a.so" || bail_out "rpcd -P 1 did not start"
wait_for 100 children 1
"$PYTHON3" - "$RPCD_HOST" "$RPCD_PORT" "$RPCD_PID" "$RPCD_LOG" \
    >"$TEST_DIR/drain.out" 2>&1 <<'PY' &
import json, os, signal, sys, time
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import rpcdtest
host, port, master, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = rpcdtest.connect((host, port))
s.sendall(rpcdtest.request("later", [1000, "x"]))
# Read by the worker: its -v line names the call.
deadline = time.time() + 10
while "later [1000" not in open(log).read():
    if time.time() > deadline:
        sys.exit("the worker never read the call")
    time.sleep(0.05)
os.kill(master, signal.SIGKILL)
print(json.dumps(rpcdtest.recv_reply(s)))
print(s.recv(1) == b"")
PY
DRAIN_PID=$!
KIDS=$(echo $(pgrep -P "$RPCD_PID"))
wait "$DRAIN_PID"
ok $? "-P 1: a call in flight when the master is killed"
kill -9 "$RPCD_PID" 2>/dev/null	# killed already, unless the client failed
is "$(head -n 1 "$TEST_DIR/drain.out")" '{"out": "later", "result": "x"}' \
    "is answered by the worker, which drains"
is "$(sed -n 2p "$TEST_DIR/drain.out")" True "then the connection ends"
wait "$RPCD_PID" 2>/dev/null
RPCD_PID=
wait_for 50 pids_gone $KIDS
ok $? "and the worker exits"
kill_kids

# At start, with -u nobody: every worker hangs in worker_init() once it
# has dropped its privileges.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	rpcd_start -P 2 -u nobody -m "$TEST_DIR/hang.so worker=hang" ||
	    bail_out "rpcd -P 2 -u nobody did not start"
	dropped()
	{
		children 2 || return 1
		for k in $(pgrep -P "$RPCD_PID"); do
			[ "$(awk '/^Uid:/ {print $2}' "/proc/$k/status" \
			    2>/dev/null)" = "$(id -u nobody)" ] || return 1
		done
	}
	wait_for 100 dropped
	ok $? "-u nobody: both workers run as nobody"
	master_killed "-u nobody, at start"
else
	for i in 1 2 3; do
		skip "not root or no nobody user: -u not tested"
	done
fi

done_testing
