#!/bin/sh
# A rolling restart of three rpcd hosts registered in a real ZooKeeper
# (tests/zk_lib.sh) while clients find them only there: rpcctl bench
# --retry through -S zk://..., and contrib/zk/rpcd_discovery.py driven by
# tests/zk_rolling_load.py, lose no request.  Each host in turn gets
# SIGTERM (its member deleted first, then --drain-delay, then the drain)
# and a new host on a new port takes its place; by the end none of the
# first three is left, so the clients must have read the new members.
# The load is calls of the test module's "later" (answered 5 ms on), which
# keeps requests in flight at every SIGTERM without using up the CPU.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/zk_lib.sh"

"$RPCD" --register zk://127.0.0.1:1/probe -n 2>&1 | grep -q without &&
    skip_all "rpcd was built without ZooKeeper"
zk_require
need_python3
cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
chmod 0755 "$TEST_DIR/testmod.so"

zk_start
SET=zk://$ZK_HOSTS/rpcd/test/rolling
BENCH_SECONDS=20	# the restart takes a few: the test says if it ran out

# host_start N: rpcd as host N, registered in SET; its pid in PIDN, its
# address in ADDRN, its log in host.N.log.
host_start()
{
	rpcd_start -m "$TEST_DIR/testmod.so" --register "$SET" \
	    --drain-delay 1 || bail_out "host $1 did not start"
	mv "$RPCD_LOG" "$TEST_DIR/host.$1.log"
	pids="$pids $RPCD_PID"
	eval "PID$1=\$RPCD_PID ADDR$1=\$RPCD_ADDR"
	RPCD_PID=
}

# member ADDR: true while ADDR is a member of SET.
member()
{
	"$RPCCTL" members "$SET" | grep -q " $1\$\| $1 "
}

# calls ADDR: the "later" calls host ADDR has answered.
calls()
{
	"$RPCCTL" -S "$1" --json stats 2>/dev/null | "$PYTHON3" -c '
import json, sys
print(sum(m["calls"] for m in json.load(sys.stdin)["result"]["methods"]
    if m["name"] == "later"))' 2>/dev/null || echo 0
}

busy()
{
	[ "$(calls "$1")" -gt "${2:-0}" ]
}

for h in 1 2 3; do
	host_start $h
done
for h in 1 2 3; do
	eval "addr=\$ADDR$h"
	wait_for 300 member "$addr" || bail_out "host $h did not register"
done
ok 0 "three hosts registered"

"$RPCCTL" -S "$SET" bench --retry -c 6 --method later --params 5 \
    -d "$BENCH_SECONDS" >"$TEST_DIR/bench" 2>"$TEST_DIR/bench.err" &
BENCH_PID=$!
pids="$pids $BENCH_PID"
for h in 1 2 3; do
	eval "addr=\$ADDR$h"
	wait_for 100 busy "$addr"
	ok $? "bench reaches host $h through the serverset"
done
PYTHONPATH=$top_srcdir/contrib/zk "$PYTHON3" \
    "$top_srcdir/tests/zk_rolling_load.py" "$ZK_HOSTS" /rpcd/test/rolling \
    "$TEST_DIR/load.stop" "$TEST_DIR/load.up" >"$TEST_DIR/load" \
    2>"$TEST_DIR/load.err" &
LOAD_PID=$!
pids="$pids $LOAD_PID"
wait_for 300 test -e "$TEST_DIR/load.up"
ok $? "the contrib client's load is answered"

start=$(date +%s)
for h in 1 2 3; do
	eval "pid=\$PID$h addr=\$ADDR$h"
	kill -TERM "$pid"
	wait "$pid"
	is $? 0 "host $h: SIGTERM, drained, exit 0"
	member "$addr"
	ok $([ $? = 1 ]; echo $?) "host $h: no longer a member"
	new=$((h + 3))
	host_start $new
	eval "addr=\$ADDR$new"
	wait_for 300 member "$addr"
	ok $? "host $new, in host $h's place, registered at $addr"
done
kill -0 "$BENCH_PID" 2>/dev/null
ok $? "the restart took $(($(date +%s) - start)) s, the bench still ran"
# The first three are gone: the load goes on, on the new ones alone.
new_calls()
{
	echo $(($(calls "$ADDR4") + $(calls "$ADDR5") + $(calls "$ADDR6")))
}
new_busy()
{
	[ "$(new_calls)" -gt "$1" ]
}
then=$(new_calls)
wait_for 100 new_busy "$then"
ok $? "bench goes on, on the hosts that took the others' places"

touch "$TEST_DIR/load.stop"
wait "$LOAD_PID"
is $? 0 "the contrib client: every call answered with its own value"
diag_file <"$TEST_DIR/load"
diag_file <"$TEST_DIR/load.err"
members=$(sed -n 's/.* members \([0-9]*\)$/\1/p' "$TEST_DIR/load")
ok $([ "${members:-0}" -ge 4 ]; echo $?) \
    "the contrib client's calls went to new hosts too ($members members)"

wait "$BENCH_PID"
is $? 0 "bench --retry through $SET: exit 0"
diag_file <"$TEST_DIR/bench"
diag_file <"$TEST_DIR/bench.err"
summary=$(grep -e ' requests completed in ' -e ' errors, ' "$TEST_DIR/bench" |
    tr -s ' \n' ' ')
case $summary in
*" 0 errors, "*) ok 0 "bench: 0 requests lost ($summary)" ;;
*) ok 1 "bench: requests lost ($summary)" ;;
esac

done_testing
