#!/bin/sh
# make soak: rpcd -P 2 under load and connection churn for SOAK_SECONDS
# (default 3600), sampling VmRSS and the open descriptors of the master
# and each worker every SOAK_INTERVAL seconds (default 5).  Not part of
# make check.  The load is ../shared/bench/loadgen (or $LOADGEN), 16
# connections of 4 pipelined 64-byte pings, else rpcctl bench; the churn
# is a loop of short connections, each a ping, a stats or a bad request.
#
# It fails if rpcd or a worker dies, if SIGTERM does not end it with exit
# 0, or if after the warm-up (a tenth of the run, at least 30 s) a
# process's VmRSS rises more than SOAK_RSS_KB (default 8192) above its
# highest warm-up sample or its descriptors more than SOAK_FDS (default
# 8) above theirs.  Why: the load is steady, so buffers, arenas and
# connection counts reach their level during the warm-up and only
# fluctuate after; 8 MiB is a few times that fluctuation, yet a leak of
# 32 bytes a request, or of 100 bytes a churned connection, passes it
# within minutes.  Descriptors vary by the few connections in flight at a
# sample; one leaked a churned connection passes 8 within a second.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-3600}
SOAK_INTERVAL=${SOAK_INTERVAL:-5}
SOAK_RSS_KB=${SOAK_RSS_KB:-8192}
SOAK_FDS=${SOAK_FDS:-8}
warmup=$((SOAK_SECONDS / 10))
[ "$warmup" -ge 30 ] || warmup=30
[ "$SOAK_SECONDS" -gt "$warmup" ] ||
    bail_out "SOAK_SECONDS=$SOAK_SECONDS leaves no time after the ${warmup}s warm-up"
LOADGEN=${LOADGEN:-$(cd "$top_srcdir/.." && pwd)/shared/bench/loadgen}

rpcd_start -P 2 || bail_out "rpcd -P 2 did not start"
wait_for 50 sh -c "[ \$(grep -c 'started, pid' '$RPCD_LOG') -ge 2 ]"
workers=$(echo $(cat "/proc/$RPCD_PID/task/$RPCD_PID/children"))

if [ -x "$LOADGEN" ]; then
	load="loadgen"
	"$LOADGEN" -p "$RPCD_PORT" -c 16 -P 4 --payload 64 --warmup 0 \
	    -d "$SOAK_SECONDS" >"$TEST_DIR/load" 2>&1 &
else
	load="rpcctl bench (no loadgen at $LOADGEN)"
	"$RPCCTL" -S "$RPCD_ADDR" bench -c 16 -P 4 --payload 64 \
	    -d "$SOAK_SECONDS" >"$TEST_DIR/load" 2>&1 &
fi
load_pid=$!
diag "load: $load; churn: short connections; bounds: VmRSS +${SOAK_RSS_KB} kB, fds +$SOAK_FDS after ${warmup}s"

# The churn: until the end, one connection after another.
end=$(($(date +%s) + SOAK_SECONDS))
(
	n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		case $((n % 3)) in
		0) req='j:{"in": "ping", "params": "churn"}' ;;
		1) req='j:{"in": "stats"}' ;;
		2) req='j:{"in": "ping", "params": ' ;;
		esac
		"$WIRE" -n 1 -t 5 "$RPCD_ADDR" "$req" >/dev/null 2>&1 ||
		    echo "$n" >>"$TEST_DIR/churn.failed"
		n=$((n + 1))
	done
	echo "$n" >"$TEST_DIR/churn"
) &
churn_pid=$!

# Sample every process; note its highest RSS and fds, in and after warm-up.
start=$(date +%s)
: >"$TEST_DIR/samples"
died=
while [ "$(date +%s)" -lt "$end" ]; do
	t=$(($(date +%s) - start))
	for pid in $RPCD_PID $workers; do
		if ! rss=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' \
		    "/proc/$pid/status" 2>/dev/null) || [ -z "$rss" ]; then
			died="$died $pid"
			continue
		fi
		fds=$(ls "/proc/$pid/fd" | wc -l)
		echo "$t $pid $rss $fds" >>"$TEST_DIR/samples"
	done
	[ -z "$died" ] || break
	sleep "$SOAK_INTERVAL"
done
wait "$load_pid"
load_status=$?
wait "$churn_pid"

ok_test "no rpcd process died or was replaced${died:+ (gone:$died)}" \
    test -z "$died" -a \
    "$(echo $(cat "/proc/$RPCD_PID/task/$RPCD_PID/children"))" = \
    "$(echo $workers)"
is "$load_status" 0 "the load ran to the end: $(tail -n 1 "$TEST_DIR/load")"
ok_test "every one of $(cat "$TEST_DIR/churn" 2>/dev/null) churned connections was served" \
    test ! -f "$TEST_DIR/churn.failed"
for pid in $RPCD_PID $workers; do
	awk -v pid="$pid" -v w="$warmup" -v rss_kb="$SOAK_RSS_KB" \
	    -v fd_max="$SOAK_FDS" '
	$2 == pid && $1 < w { if ($3 > r0) r0 = $3; if ($4 > f0) f0 = $4 }
	$2 == pid && $1 >= w { if ($3 > r1) r1 = $3; if ($4 > f1) f1 = $4; n++ }
	END {
		printf "pid %s: VmRSS %d kB in warm-up, at most %d kB after " \
		    "(%+d); fds %d, then at most %d (%+d); %d samples\n",
		    pid, r0, r1, r1 - r0, f0, f1, f1 - f0, n
		exit !(n > 0 && r1 - r0 <= rss_kb && f1 - f0 <= fd_max)
	}' "$TEST_DIR/samples" >"$TEST_DIR/verdict"
	ok $? "$(cat "$TEST_DIR/verdict")"
done
rpcd_stop
is $? 0 "rpcd exits 0 on SIGTERM"
done_testing
