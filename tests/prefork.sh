#!/bin/sh
# rpcd --prefork: workers serve and are all in stats; a killed worker is
# replaced within a second without failing other connections; SIGTERM
# answers everything sent; SIGHUP replaces every worker with no connection
# refused and no request lost, and an old worker that cannot drain is
# killed; workers die with their master.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

C=$RPCCTL

# The current workers' pids, sorted, on one line.
worker_pids()
{
	"$C" -S "$RPCD_ADDR" --json stats |
	    grep -o '"index": [0-9]*, "pid": [0-9]*' | sed 's/.*: //' |
	    sort -n | tr '\n' ' '
}
count_workers()
{
	set -- $(worker_pids)
	echo $#
}

rpcd_start -P 3 || bail_out "rpcd -P 3 did not start"
wait_workers 3
ok $? "3 worker processes run under the master"
i=0
all=0
while [ $i -lt 10 ]; do
	[ "$(count_workers)" -eq 3 ] && all=$((all + 1))
	i=$((i + 1))
done
is "$all" 10 "stats lists all 3 workers on each of 10 connections"
ok_test "logs name the worker" grep -q "worker 2 started, pid" "$RPCD_LOG"

# kill -9 of an idle worker while clients ping on other connections.  The
# worker answering stats counts that connection, so ask until some worker
# shows none at all.
for n in 1 2; do
	"$C" -S "$RPCD_ADDR" ping -c 150 -i 0.01 >"$TEST_DIR/load.$n" 2>&1 &
	eval "load$n=\$!"
done
wait_for 100 sh -c "grep -q 'seq=5 ' '$TEST_DIR/load.1' && grep -q 'seq=5 ' '$TEST_DIR/load.2'"
victim=
i=0
while [ -z "$victim" ] && [ $i -lt 50 ]; do
	victim=$("$C" -S "$RPCD_ADDR" --json stats |
	    grep -o '"pid": [0-9]*, "connections": [0-9]*' |
	    awk -F'[:,]' '$4 == 0 {print $2; exit}' | tr -d ' ')
	i=$((i + 1))
done
if [ -z "$victim" ]; then
	victim=$(set -- $(worker_pids); echo "$1")
	diag "no idle worker found: its clients may fail"
fi
diag "killing worker $victim of $(worker_pids)"
kill -9 "$victim"
wait_for 10 sh -c "[ \$(pgrep -P $RPCD_PID | wc -l) -eq 3 ] && ! echo '$(worker_pids)' | grep -qw $victim"
ok $? "a new worker replaces the killed one within 1 s"
failed=0
for n in 1 2; do
	if ! eval "wait \$load$n"; then
		failed=$((failed + 1))
		tail -n 3 "$TEST_DIR/load.$n" | diag_file
	fi
done
is "$failed" 0 "no client of a surviving worker saw a failure"
ok_test "the death is logged with its signal" grep -q "killed by signal 9" "$RPCD_LOG"

# SIGHUP under connect-ping-close load: nothing refused, nothing lost.
before=$(worker_pids)
(
	end=$(($(date +%s) + 3))
	sent=0
	bad=0
	while [ "$(date +%s)" -lt "$end" ]; do
		"$C" -t 5 -S "$RPCD_ADDR" ping >/dev/null 2>>"$TEST_DIR/hup.err" ||
		    bad=$((bad + 1))
		sent=$((sent + 1))
	done
	echo "$sent $bad" >"$TEST_DIR/hup.result"
) &
hup_load=$!
sleep 1		# let the load run before and after the reload
kill -HUP "$RPCD_PID"
wait "$hup_load"
read -r sent bad <"$TEST_DIR/hup.result"
is "$bad" 0 "SIGHUP during $sent connect-ping-close requests: none refused or lost"
[ "$bad" -eq 0 ] || diag_file <"$TEST_DIR/hup.err"
wait_workers 3
after=$(worker_pids)
common=$(for p in $before; do echo "$after" | grep -qw "$p" && echo "$p"; done)
is "$common" "" "every worker pid changed ($before-> $after)"

# SIGTERM with 2000 pipelined requests written: all answered, exit 0.
sigterm_inflight "prefork"

# SIGHUP with an old worker that cannot drain (stopped, so not even its
# own --shutdown-timeout ends it): the master kills it after
# --shutdown-timeout, and the next SIGHUP is not ignored.
rpcd_start -P 1 --shutdown-timeout 1 || bail_out "rpcd did not start"
wait_workers 1
stuck=$(pgrep -P "$RPCD_PID")
kill -STOP "$stuck"
kill -HUP "$RPCD_PID"
wait_for 50 grep -q "killing 1 old worker(s) still draining after 1s" \
    "$RPCD_LOG"
ok $? "SIGHUP: an old worker stuck draining is killed after --shutdown-timeout"
wait_for 20 sh -c "! pgrep -P $RPCD_PID | grep -qx $stuck"
ok $? "and reaped"
kill -CONT "$stuck" 2>/dev/null	# if it was not killed
kill -HUP "$RPCD_PID"
wait_for 50 sh -c "[ \$(grep -c 'starting a new generation' '$RPCD_LOG') -eq 2 ]"
ok $? "the next SIGHUP starts a new generation"
ok_test "and was not ignored" sh -c "! grep -q 'ignored' '$RPCD_LOG'"
rpcd_stop
is $? 0 "the master exits 0"

# The counters a monitoring system scrapes never go down, though workers
# die and are replaced, by kill -9 and by SIGHUP; "connections", a gauge,
# drops with the connections of a dead worker.
COUNTERS="total_connections requests errors bytes_in bytes_out restarts"
# totals FILE: the total row of one stats reply, as "key value" lines.
totals()
{
	"$C" -S "$RPCD_ADDR" --json stats | sed 's/.*"total": {//' |
	    grep -o '"[a-z_]*": [0-9]*' | tr -d '":' >"$1"
}
# no_decrease BEFORE AFTER WHEN: each counter of AFTER >= BEFORE's.
no_decrease()
{
	down=
	for k in $COUNTERS; do
		b=$(awk -v k="$k" '$1 == k {print $2}' "$1")
		a=$(awk -v k="$k" '$1 == k {print $2}' "$2")
		[ "${a:--1}" -ge "${b:-0}" ] || down="$down $k $b->$a"
	done
	is "$down" "" "$3: no counter went down"
}
total_of()
{
	awk -v k="$2" '$1 == k {print $2}' "$1"
}
rpcd_start -P 2 || bail_out "rpcd -P 2 did not start"
wait_workers 2
for n in 1 2 3 4; do
	"$WIRE" -n 100 -r 100 "$RPCD_ADDR" 'j:{"in": "ping"}' >/dev/null
	"$WIRE" -n 1 "$RPCD_ADDR" 'j:{"in": "nosuch"}' >/dev/null
done
"$WIRE" -w -t 30 "$RPCD_ADDR" h:100 >/dev/null 2>&1 &
held=$!
open_conns()
{
	totals "$TEST_DIR/t1"
	[ "$(total_of "$TEST_DIR/t1" connections)" -eq 2 ]
}
wait_for 50 open_conns
ok $? "stats counts the held connection and its own"
old=$(worker_pids)
kill -9 $old
# Both replaced: two workers in stats, neither of them an old one.
replaced()
{
	now=$(worker_pids)
	set -- $now
	[ $# -eq 2 ] || return 1
	for p in $old; do
		echo " $now " | grep -q " $p " && return 1
	done
	return 0
}
wait_for 50 replaced
ok $? "both workers are replaced"
totals "$TEST_DIR/t2"
diag "requests $(total_of "$TEST_DIR/t1" requests) -> $(total_of "$TEST_DIR/t2" requests) after kill -9 of $old"
no_decrease "$TEST_DIR/t1" "$TEST_DIR/t2" "kill -9 of both workers"
is "$(total_of "$TEST_DIR/t2" restarts)" 2 "two restarts are counted"
is "$(total_of "$TEST_DIR/t2" connections)" 1 \
    "the dead workers' connections are no longer counted open"
old=$(worker_pids)
kill -HUP "$RPCD_PID"
wait_for 50 replaced && wait_workers 2
ok $? "SIGHUP replaces both workers"
totals "$TEST_DIR/t3"
no_decrease "$TEST_DIR/t2" "$TEST_DIR/t3" "SIGHUP"
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null
rpcd_stop

# kill -9 of the master: every worker exits within 2 s.
rpcd_start -P 3 || bail_out "rpcd did not start"
wait_workers 3
kids=$(pgrep -P "$RPCD_PID" | tr '\n' ' ')
kill -9 "$RPCD_PID"
wait "$RPCD_PID" 2>/dev/null
RPCD_PID=
wait_for 20 pids_gone $kids
ok $? "workers $kids exit within 2 s of their master's kill -9"

# A second rpcd --reuseport on the same address is refused: the option
# would let it share the port with the first.
rpcd_start -P 2 --reuseport || bail_out "rpcd -P 2 --reuseport did not start"
"$RPCD" -P 2 --reuseport -l "$RPCD_ADDR" 2>"$TEST_DIR/second.log" &
second=$!
if wait_for 50 sh -c "! kill -0 $second 2>/dev/null"; then
	wait "$second"
	second=$?
else
	kill -TERM "$second"
	wait "$second"
	second=running
fi
is "$second" 1 "a second rpcd --reuseport on $RPCD_ADDR exits 1"
ok_test "saying the address is in use" \
    grep -q "cannot listen on $RPCD_ADDR: Address already in use" \
    "$TEST_DIR/second.log"
rpcd_stop

# How 1000 connections spread over 3 workers, shared sockets and reuseport.
if command -v python3 >/dev/null 2>&1; then
	for mode in "" --reuseport; do
		rpcd_start -P 3 $mode || bail_out "rpcd -P 3 $mode did not start"
		python3 -c '
import socket, struct, sys
for i in range(1000):
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    b = b"{\"in\": \"ping\"}"
    s.sendall(struct.pack("<I", len(b)) + b)
    n = struct.unpack("<I", s.recv(4))[0]
    s.recv(n); s.close()' "$RPCD_HOST" "$RPCD_PORT"
		ok $? "1000 connections served ${mode:-(shared sockets)}"
		spread=$("$C" -S "$RPCD_ADDR" --json stats |
		    grep -o '"total_connections": [0-9]*' | sed 's/.*: //' |
		    head -n 3 | tr '\n' ' ')
		diag "connections per worker ${mode:-shared}: $spread"
		rpcd_stop
	done
else
	skip "python3 not found"
	skip "python3 not found"
fi

done_testing
