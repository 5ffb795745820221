#!/bin/sh
# --metrics-listen: GET /metrics in Prometheus's text format (checked by
# promtool where it is installed, and always in CI), 404 elsewhere; the
# counters rise with traffic, in a single process and with --prefork,
# where they do not fall when a worker is killed, the metrics process is
# killed or SIGHUP replaces the workers.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
PROMTOOL=${PROMTOOL:-promtool}
command -v "$PROMTOOL" >/dev/null 2>&1 || PROMTOOL=

PING='j:{"in": "ping", "params": 1}'

# http PATH [METHOD]: the status, the Content-Type and the body of a
# request to the metrics server, or "failed: why".
http()
{
	"$PYTHON3" - "$METRICS" "$1" "${2:-GET}" <<'EOF'
import sys, urllib.error, urllib.request
req = urllib.request.Request("http://%s%s" % (sys.argv[1], sys.argv[2]),
                             method=sys.argv[3])
try:
    r = urllib.request.urlopen(req, timeout=5)
    print(r.status)
    print(r.headers.get("Content-Type"))
    sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
except OSError as e:
    print("failed: %s" % e)
EOF
}

# scrape FILE: the body of /metrics into FILE; false unless it is a 200.
scrape()
{
	http /metrics >"$1.http"
	sed '1,2d' "$1.http" >"$1"
	[ "$(head -n 1 "$1.http")" = 200 ]
}

# value FILE SERIES: a series' value in a scrape.
value()
{
	awk -v s="$2" '$1 == s { print $2 }' "$1"
}

# counters FILE: every series of a counter or a histogram, with its value.
counters()
{
	awk '/^# TYPE / { type[$3] = $4; next }
	    /^#/ { next }
	    { name = $1; sub(/\{.*/, "", name); base = name
	      sub(/_(bucket|sum|count)$/, "", base)
	      if (type[name] == "counter" || type[base] == "histogram")
		      print $1, $2 }' "$1" | sort
}

# not_less BEFORE AFTER: every counter of scrape BEFORE is in AFTER, not
# lower; prints those that fell or went.
not_less()
{
	counters "$1" >"$1.c"
	counters "$2" >"$2.c"
	join -a 1 "$1.c" "$2.c" | awk 'NF < 3 || $3 < $2 { print; bad = 1 }
	    END { exit bad }'
}

# promtool_check FILE DESCRIPTION
promtool_check()
{
	if [ -n "$PROMTOOL" ]; then
		out=$("$PROMTOOL" check metrics <"$1" 2>&1)
		is "$?:$out" "0:" "$2"
	elif [ "${CI:-}" = true ]; then
		ok 1 "$2: promtool is missing in CI"
	else
		skip "$2: promtool not installed (Debian: prometheus)"
	fi
}

metrics_addr()
{
	METRICS=$(sed -n 's|.*serving metrics on http://\([^/]*\)/metrics$|\1|p' \
	    "$RPCD_LOG")
	[ -n "$METRICS" ]
}

# A single process serves /metrics from its own loop.
rpcd_start --metrics-listen 127.0.0.1:0 --max-frame 64 --max-conns 77 \
    --max-inflight 9 ||
    bail_out "rpcd did not start"
ok_test "the metrics address is logged" metrics_addr
http /metrics >"$TEST_DIR/first"
is "$(head -n 2 "$TEST_DIR/first" | tr '\n' ' ')" \
    "200 text/plain; version=0.0.4; charset=utf-8 " \
    "GET /metrics: 200, the text format"
scrape "$TEST_DIR/s0"
promtool_check "$TEST_DIR/s0" "promtool check metrics passes"
for name in rpcd_build_info rpcd_requests_total rpcd_request_duration_seconds \
    rpcd_connections rpcd_connections_total rpcd_rejected_connections_total \
    rpcd_bytes_received_total rpcd_bytes_sent_total \
    rpcd_worker_restarts_total rpcd_client_errors_total \
    rpcd_request_timeouts_total rpcd_requests_in_flight \
    process_cpu_seconds_total process_resident_memory_bytes \
    process_open_fds process_max_fds process_start_time_seconds \
    rpcd_max_connections rpcd_max_inflight rpcd_offload_queued; do
	grep -q "^# TYPE $name " "$TEST_DIR/s0" || missing="$missing $name"
done
is "${missing:-}" "" "every metric rpcd(8) lists is there"
is "$(http /other)" 404 "any other path: 404"
is "$(http /metrics POST)" 405 "POST: refused, 405"

wire -n 50 -r 50 "$RPCD_ADDR" "$PING" >/dev/null
wire -n 2 "$RPCD_ADDR" 'j:{"in": "nosuch"}' 'j:{"in": "stats"}' >/dev/null
wire -t 5 "$RPCD_ADDR" h:65 >/dev/null
scrape "$TEST_DIR/s1"
is "$(value "$TEST_DIR/s1" 'rpcd_requests_total{method="ping",frontend="framed",outcome="ok"}')" \
    50 "50 pings: rpcd_requests_total{method=\"ping\",frontend=\"framed\",outcome=\"ok\"} 50"
is "$(value "$TEST_DIR/s1" 'rpcd_request_duration_seconds_count{method="ping",frontend="framed"}') $(value "$TEST_DIR/s1" 'rpcd_request_duration_seconds_bucket{method="ping",frontend="framed",le="+Inf"}')" \
    "50 50" "and 50 durations, all in the +Inf bucket"
is "$(value "$TEST_DIR/s1" 'rpcd_requests_total{method="stats",frontend="framed",outcome="ok"}')" \
    1 "a stats call is counted"
is "$(value "$TEST_DIR/s1" 'rpcd_request_timeouts_total{method="ping",frontend="framed"}') $(value "$TEST_DIR/s1" 'rpcd_requests_in_flight{method="ping",frontend="framed"}')" \
    "0 0" "no ping timed out, none is in flight"
is "$(value "$TEST_DIR/s1" 'rpcd_client_errors_total{kind="bad_request"}') $(value "$TEST_DIR/s1" 'rpcd_client_errors_total{kind="too_large"}')" \
    "1 1" "an unknown method and a frame too large are client errors"
is "$(value "$TEST_DIR/s1" rpcd_connections_total)" 3 "3 connections"
ok_test "bytes were received and sent" test \
    "$(value "$TEST_DIR/s1" rpcd_bytes_received_total)" -gt 1000 -a \
    "$(value "$TEST_DIR/s1" rpcd_bytes_sent_total)" -gt 1000
ok_test "no counter fell" not_less "$TEST_DIR/s0" "$TEST_DIR/s1"

# The buckets resolve rpcd's own range: 1 us, 2 us ... 2^23 us.
bounds=$(sed -n 's/^rpcd_request_duration_seconds_bucket{method="ping",frontend="framed",le="\([^"]*\)"}.*/\1/p' \
    "$TEST_DIR/s1" | tr '\n' ' ')
is "$bounds" "1e-06 2e-06 4e-06 8e-06 1.6e-05 3.2e-05 6.4e-05 0.000128 \
0.000256 0.000512 0.001024 0.002048 0.004096 0.008192 0.016384 0.032768 \
0.065536 0.131072 0.262144 0.524288 1.048576 2.097152 4.194304 8.388608 +Inf " \
    "duration buckets: powers of two from 1 us to 8.4 s"

# The process's own gauges, published every second.
is "$(value "$TEST_DIR/s1" 'rpcd_max_connections{worker="0"}') $(value "$TEST_DIR/s1" 'rpcd_max_inflight{worker="0"}') $(value "$TEST_DIR/s1" 'rpcd_offload_queued{worker="0"}')" \
    "77 9 0" "the limits: --max-conns 77, --max-inflight 9; no pool queue"
# With the select(2) backend (EVENT_NOEPOLL and EVENT_NOPOLL set) rpcd
# lowers the limit to FD_SETSIZE, 1024 (server_conn.sh).
limit=$(ulimit -n)
if [ -n "${EVENT_NOEPOLL:-}" ] && [ -n "${EVENT_NOPOLL:-}" ] &&
    { [ "$limit" = unlimited ] || [ "$limit" -gt 1024 ]; }; then
	limit=1024
fi
is "$(value "$TEST_DIR/s1" 'process_max_fds{worker="0"}')" "$limit" \
    "process_max_fds is the descriptors limit"
now=$(date +%s)
ok_test "process_start_time_seconds is about now" test \
    "$(value "$TEST_DIR/s1" 'process_start_time_seconds{worker="0"}')" \
    -gt $((now - 60)) -a \
    "$(value "$TEST_DIR/s1" 'process_start_time_seconds{worker="0"}')" -le "$now"
ok_test "process_resident_memory_bytes is over 1 MB" test \
    "$(value "$TEST_DIR/s1" 'process_resident_memory_bytes{worker="0"}')" \
    -gt 1000000
fds0=$(value "$TEST_DIR/s1" 'process_open_fds{worker="0"}')
"$PYTHON3" -c '
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
held = [socket.create_connection((host, int(port))) for i in range(20)]
time.sleep(60)' "$RPCD_ADDR" &
holder=$!
# In one process the scrapes' own connections count too, and one lingers
# up to 2 s after its reply: fds0 may hold one or two of them.
wait_for 100 eval 'scrape "$TEST_DIR/s2" && [ "$(value "$TEST_DIR/s2" \
    "process_open_fds{worker=\"0\"}")" -ge $((fds0 + 18)) ]'
ok $? "20 connections more: process_open_fds from $fds0 to $(value "$TEST_DIR/s2" 'process_open_fds{worker="0"}')"
kill "$holder"
wait "$holder" 2>/dev/null
cpu=$(value "$TEST_DIR/s2" 'process_cpu_seconds_total{worker="0"}')
ok_test "process_cpu_seconds_total is a number: $cpu" \
    "$PYTHON3" -c 'import sys; float(sys.argv[1])' "$cpu"
promtool_check "$TEST_DIR/s2" "promtool check metrics passes, process gauges"
rpcd_stop
is $? 0 "rpcd with --metrics-listen exits 0 on SIGTERM"

# --prefork: the master's metrics process reads every worker's counters.
rpcd_start -P 2 --metrics-listen 127.0.0.1:0 || bail_out "rpcd -P 2 did not start"
metrics_addr
wait_for 50 grep -q "metrics server started, pid" "$RPCD_LOG"
wait_for 50 scrape "$TEST_DIR/p0"
ok $? "-P 2: /metrics answers"
promtool_check "$TEST_DIR/p0" "-P 2: promtool check metrics passes"
i=0
while [ $i -lt 4 ]; do
	wire -n 25 -r 25 "$RPCD_ADDR" "$PING" >/dev/null
	i=$((i + 1))
done
scrape "$TEST_DIR/p1"
is "$(value "$TEST_DIR/p1" 'rpcd_requests_total{method="ping",frontend="framed",outcome="ok"}')" \
    100 "100 pings over 4 connections, whichever worker took them"
is "$(grep -c '^rpcd_worker_requests_total{worker="[01]"}' "$TEST_DIR/p1")" 2 \
    "a series per worker"
is "$(grep -c '^process_open_fds{worker="[01]"}' "$TEST_DIR/p1")" 2 \
    "-P 2: each worker's process gauges"

victim=$("$RPCCTL" -S "$RPCD_ADDR" --json stats |
    grep -o '"index": 0, "pid": [0-9]*' | sed 's/.*: //')
kill -9 "$victim"
wait_for 50 eval '[ "$(http /metrics |
    grep "^rpcd_worker_restarts_total{worker=\"0\"}")" = \
    "rpcd_worker_restarts_total{worker=\"0\"} 1" ]'
ok $? "kill -9 of worker 0 (pid $victim): rpcd_worker_restarts_total 1"
scrape "$TEST_DIR/p2"
ok_test "and no counter fell" not_less "$TEST_DIR/p1" "$TEST_DIR/p2"
is "$(value "$TEST_DIR/p2" 'rpcd_requests_total{method="ping",frontend="framed",outcome="ok"}')" \
    100 "the dead worker's pings still count"

mpid=$(sed -n 's/.*metrics server started, pid \([0-9]*\)$/\1/p' "$RPCD_LOG" |
    tail -n 1)
kill -9 "$mpid"
wait_for 50 sh -c "[ \$(grep -c 'metrics server started, pid' '$RPCD_LOG') -eq 2 ]"
ok $? "kill -9 of the metrics process (pid $mpid): the master replaces it"
wait_for 50 scrape "$TEST_DIR/p3"
ok $? "and /metrics answers again"
ok_test "with no counter fallen" not_less "$TEST_DIR/p2" "$TEST_DIR/p3"

kill -HUP "$RPCD_PID"
wait_for 100 grep -q "draining the old one" "$RPCD_LOG"
wire -n 10 -r 10 "$RPCD_ADDR" "$PING" >/dev/null
wait_for 100 sh -c "[ \$(grep -c 'worker [01] (pid [0-9]*) exited\$' \
    '$RPCD_LOG') -eq 2 ]"
ok $? "SIGHUP: the old workers exit"
scrape "$TEST_DIR/p4"
ok_test "SIGHUP: no counter fell" not_less "$TEST_DIR/p3" "$TEST_DIR/p4"
is "$(value "$TEST_DIR/p4" 'rpcd_requests_total{method="ping",frontend="framed",outcome="ok"}')" \
    110 "the old generation's pings still count"

# An address taken is an error at start, and a Unix socket is refused.
"$RPCD" -l 127.0.0.1:0 --metrics-listen "$METRICS" 2>"$TEST_DIR/err"
is "$?" 1 "a metrics address in use: exit 1"
ok_test "naming it" grep -q "cannot listen on $METRICS: Address already in use" \
    "$TEST_DIR/err"

mpid=$(sed -n 's/.*metrics server started, pid \([0-9]*\)$/\1/p' "$RPCD_LOG" |
    tail -n 1)
rpcd_stop
is $? 0 "rpcd -P 2 with --metrics-listen exits 0 on SIGTERM"
ok_test "the metrics process is gone" sh -c "! kill -0 $mpid 2>/dev/null"
"$RPCD" --metrics-listen unix:/tmp/m 2>"$TEST_DIR/err"
is "$? $(head -n 1 "$TEST_DIR/err")" \
    "2 rpcd: --metrics-listen unix:/tmp/m: not a TCP address" \
    "a Unix socket: a usage error"

# A call in flight, seen from the metrics process: the test module's hold
# method keeps its call until release answers it.  One worker, so that
# release reaches the worker holding the call.
cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
chmod 0755 "$TEST_DIR/testmod.so"
rpcd_start -P 1 -m "$TEST_DIR/testmod.so" --metrics-listen 127.0.0.1:0 \
    --offload-threads 1 || bail_out "rpcd -P 1 -m did not start"
metrics_addr
"$WIRE" -n 1 -t 30 "$RPCD_ADDR" 'j:{"in": "hold", "params": 1}' >/dev/null &
holder=$!
wait_for 100 eval 'scrape "$TEST_DIR/b0" && [ "$(value "$TEST_DIR/b0" \
    "rpcd_requests_in_flight{method=\"hold\",frontend=\"framed\"}")" = 1 ]'
ok $? "a call not answered yet: rpcd_requests_in_flight{method=\"hold\",frontend=\"framed\"} 1"
promtool_check "$TEST_DIR/b0" "promtool check metrics passes, with a module"
is "$(wire -n 1 "$RPCD_ADDR" 'j:{"in": "release"}')" \
    '{"out": "release", "result": 1}' "release answers it"
wait "$holder"
wire_status $? -n 1 hold
scrape "$TEST_DIR/b1"
is "$(value "$TEST_DIR/b1" 'rpcd_requests_in_flight{method="hold",frontend="framed"}') $(value "$TEST_DIR/b1" 'rpcd_requests_total{method="hold",frontend="framed",outcome="ok"}')" \
    "0 1" "once answered: none in flight, one call"
# Three calls offloaded on one connection, with one thread: one runs, two
# wait in the queue.
"$WIRE" -n 3 -t 10 "$RPCD_ADDR" 'j:{"in": "work", "params": 4000}' \
    'j:{"in": "work", "params": 100}' 'j:{"in": "work", "params": 100}' \
    >/dev/null &
worker=$!
wait_for 100 eval 'scrape "$TEST_DIR/q0" && grep -q \
    "^rpcd_offload_queued{worker=\"[01]\"} 2$" "$TEST_DIR/q0"'
ok $? "two calls wait for the pool's thread: rpcd_offload_queued 2"
wait "$worker"
wire_status $? -n 3 work
rpcd_stop

done_testing
