#!/bin/sh
# rpcctl -S with a list of servers, tried in order until one accepts, and
# batch and bench --retry, which send the requests a close left unanswered
# again on a new connection: two real rpcds, one of which goes away.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

# A port nothing listens on: one rpcd had it, and is gone.
rpcd_start || bail_out "rpcd did not start"
DEAD=$RPCD_ADDR
rpcd_stop
rpcd_start || bail_out "rpcd did not start"
B=$RPCD_ADDR
B_PID=$RPCD_PID

out=$("$RPCCTL" -S "$DEAD,$B" ping 2>&1)
is "$? $(echo "$out" | head -n 1 | cut -d: -f1-2)" "0 pong from $B" \
    "-S: a server down is skipped for the next one"
is "$("$RPCCTL" -S "$B,$DEAD" --json call ping 1)" \
    '{"out": "pong", "result": 1}' "the first server that accepts is used"
out=$("$RPCCTL" -S "$DEAD,$DEAD" ping 2>&1)
is "$? $out" "3 rpcctl: cannot connect to $DEAD: Connection refused; $DEAD: Connection refused" \
    "none accepts: exit 3, each failure told"
is "$(RPCCTL_SERVER="$DEAD,$B" "$RPCCTL" stats | grep -c '^total ')" 1 \
    "RPCCTL_SERVER takes a list too"
seq 1 5 | sed 's/.*/{"in": "ping", "params": &}/' |
    "$RPCCTL" -S "$DEAD,$B" batch >"$TEST_DIR/out"
is "$(grep -c pong "$TEST_DIR/out")" 5 "batch connects along the list"
"$RPCCTL" -S "$DEAD,$B" bench -c 3 -n 300 >/dev/null
ok $? "so does bench, each connection"
out=$(RES_OPTIONS="timeout:1 attempts:1" "$RPCCTL" -S "no..such.host:1,$B" \
    ping 2>&1)
is "$? $(echo "$out" | head -n 1 | cut -d: -f1-2)" "0 pong from $B" \
    "a name that does not resolve is skipped for the next server"
out=$("$RPCCTL" -S "$B,,$B" ping 2>&1)
is "$? $(echo "$out" | head -n 1)" "2 rpcctl: empty address in $B,,$B" \
    "an empty address in the list is a usage error"
out=$("$RPCCTL" -S "$B,nohost" ping 2>&1)
is "$? $(echo "$out" | head -n 1 | cut -d: -f1-2)" \
    "2 rpcctl: bad server address nohost" "so is a bad address, wherever it is"

# batch --retry: rpcd A drains on SIGTERM in mid-batch; the lines it had
# not answered go to B, and the output is still the input, in order.
rpcd_start || bail_out "rpcd did not start"
A=$RPCD_ADDR
seq 1 20000 | sed 's/.*/{"in": "ping", "params": &}/' >"$TEST_DIR/lines"
seq 1 20000 | sed 's/.*/{"out": "pong", "result": &}/' >"$TEST_DIR/want"
# requests_on ADDR: how many requests rpcd on ADDR has answered.
requests_on()
{
	"$RPCCTL" -S "$1" --json stats |
	    sed 's/.*"total": {[^}]*"requests": \([0-9]*\).*/\1/'
}

# retry_batch [--retry]: feed 5000 lines, SIGTERM A once it has answered
# them (batch has printed all but the last 128, its window), then feed the
# rest.
retry_batch()
{
	mkfifo "$TEST_DIR/in"
	"$RPCCTL" -S "$A,$B" batch "$@" <"$TEST_DIR/in" >"$TEST_DIR/out" \
	    2>"$TEST_DIR/err" &
	batch_pid=$!
	exec 3>"$TEST_DIR/in"
	head -n 5000 "$TEST_DIR/lines" >&3
	wait_for 100 eval '[ "$(requests_on "$A")" -gt 5000 ]' ||
	    diag "A did not answer 5000 requests"
	rpcd_stop
	tail -n +5001 "$TEST_DIR/lines" >&3 2>/dev/null
	exec 3>&-
	wait "$batch_pid"
	batch_status=$?
	rm -f "$TEST_DIR/in"
	return $batch_status
}
retry_batch --retry
ok $? "batch --retry: exit 0 though A closed in mid-batch"
ok_test "all 20,000 replies, in input order, each once" \
    cmp -s "$TEST_DIR/out" "$TEST_DIR/want"
ok_test "a line on stderr tells the resend, from A to B" \
    grep -q "^rpcctl: $A closed the connection: [0-9]* requests from line [0-9]* resent to $B\$" \
    "$TEST_DIR/err"
rpcd_start -l "$A" || bail_out "rpcd did not restart on $A"
retry_batch
is $? 3 "without --retry, the same close exits 3"
# The lines printed are the lines answered, and the message names the
# first line of the input left unanswered: the one after them.
first=$(($(wc -l <"$TEST_DIR/out") + 1))
ok_test "saying that A closed the connection before answering line $first" \
    grep -qx "rpcctl: $A closed the connection before answering line $first" \
    "$TEST_DIR/err"

# bench --retry: A is killed in mid-run; its pings in flight go to B.
# killed_bench [--retry]: a 2 s bench on A then B, A killed after 1 s.
killed_bench()
{
	rpcd_start -l "$A" || bail_out "rpcd did not restart on $A"
	# Emptied here: the background job's own redirection may come after
	# the wait below has read the last run's output.
	: >"$TEST_DIR/bench"
	"$RPCCTL" -S "$A,$B" bench "$@" -c 4 -P 4 -d 2 >"$TEST_DIR/bench" \
	    2>&1 &
	bench_pid=$!
	wait_for 100 grep -q 'replies' "$TEST_DIR/bench"
	kill -9 "$RPCD_PID"
	wait "$RPCD_PID" 2>/dev/null
	RPCD_PID=
	wait "$bench_pid"
}
killed_bench --retry
ok $? "bench --retry: exit 0 though A was killed"
ok_test "no errors, and the pings resent counted" grep -q \
    ' 0 errors, [1-9][0-9]* resent$' "$TEST_DIR/bench" ||
    diag_file <"$TEST_DIR/bench"
# A mix of pings with different params: each resent request is the one
# lost, or its pong would not match.
printf '3 ping "a"\n1 ping [1, 2, 3]\n2 ping {"b": null}\n' >"$TEST_DIR/mix"
killed_bench --retry --methods "$TEST_DIR/mix"
ok $? "bench --retry --methods: exit 0 though A was killed"
ok_test "no errors: what was resent was what was lost" grep -q \
    ' 0 errors, [1-9][0-9]* resent$' "$TEST_DIR/bench" ||
    diag_file <"$TEST_DIR/bench"
killed_bench
is $? 3 "without --retry, bench counts the pings lost and exits 3"
out=$("$RPCCTL" -S "$B" --json bench --retry -n 100 -c 2)
case $out in
*'"errors": 0, '*'"resent": 0, '*) ok 0 "bench --json has resent" ;;
*) ok 1 "bench --json has resent: $out" ;;
esac

RPCD_PID=$B_PID
rpcd_stop
done_testing
