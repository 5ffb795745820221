#!/bin/sh
# rpcctl against a real rpcd: every command, output modes, addresses and
# exit statuses; batch ordering; and a fake server answering garbage.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

rpcd_start || bail_out "rpcd did not start"
C="$RPCCTL -S $RPCD_ADDR"

out=$($C ping -c 3 -i 0.01 hello)
ok $? "ping -c 3 exits 0"
is "$(echo "$out" | grep -c '^pong from .*: seq=[0-9] time=[0-9.]* ms$')" 3 \
    "one line per reply with its time"
ok_test "a ping(8)-like summary" sh -c "echo '$out' | grep -q '^3 sent, 3 received, 0% loss$'"
ok_test "with min/avg/max/stddev" sh -c "echo '$out' | grep -q '^rtt min/avg/max/stddev = '"
is "$($C --json ping 'a "quoted" message')" \
    '{"out": "pong", "result": "a \"quoted\" message"}' "ping --json prints the raw reply"
is "$($C -H "$RPCD_HOST" -p "$RPCD_PORT" ping | head -n 1 | cut -d: -f1-2)" \
    "pong from $RPCD_HOST:$RPCD_PORT" "-H and -p"
is "$(RPCCTL_SERVER=$RPCD_ADDR "$RPCCTL" --json ping x)" \
    '{"out": "pong", "result": "x"}' "RPCCTL_SERVER"

is "$($C --json call ping '[1, {"a": null}]')" \
    '{"out": "pong", "result": [1, {"a": null}]}' "call with params"
is "$(echo '{"k": "v"}' | $C call ping -)" "$(printf '{\n  "k":"v"\n}')" \
    "call reads params from stdin and pretty-prints"
# Every kind of JSON value goes out as params and comes back as the result,
# printed as JSON: indented by default, the reply as sent with --json.
for t in '{"k": [1, null]}|{\n  "k":[\n    1,\n    null\n  ]\n}' \
    '[1, "x"]|[\n  1,\n  "x"\n]' '"s"|"s"' '42|42' '-1.5|-1.5' \
    'true|true' 'false|false' 'null|null'; do
	params=${t%%|*}
	out=$($C call ping "$params" 2>&1)
	is "$? $out" "0 $(printf '%b' "${t#*|}")" "call ping $params: exit 0, result as JSON"
	out=$($C --json call ping "$params" 2>&1)
	is "$? $out" "0 {\"out\": \"pong\", \"result\": $params}" \
	    "call --json ping $params: exit 0, the reply"
done
out=$($C call ping 2>&1)
is "$? $out" "0 null" "call without params: exit 0, null"
out=$($C --json call ping 2>&1)
is "$? $out" '0 {"out": "pong", "result": null}' "call --json without params"
$C call ping '{bad' 2>"$TEST_DIR/err"
is $? 2 "call with params that are not JSON exits 2"

# @FILE params, --raw, and -r/-i repeats.
printf '{"text": "a\\tb"}\n' >"$TEST_DIR/params.json"
is "$($C --json call ping @"$TEST_DIR/params.json")" \
    '{"out": "pong", "result": {"text": "a\tb"}}' "call reads params from @FILE"
out=$($C call ping @"$TEST_DIR/none.json" 2>&1)
is "$? $out" "2 rpcctl: call: cannot read params from $TEST_DIR/none.json: \
No such file or directory
Try 'rpcctl --help' for more information." "call @FILE that is not there: exit 2"
echo '{bad' >"$TEST_DIR/bad.json"
$C call ping @"$TEST_DIR/bad.json" 2>/dev/null
is $? 2 "call @FILE that is not JSON: exit 2"
is "$($C --raw call ping '"a\tb \u00e9\"q\""')" "$(printf 'a\tb \303\251"q"')" \
    "--raw prints a string result as it is"
is "$($C --raw call ping '[1]')" "$(printf '[\n  1\n]')" \
    "--raw prints a result that is not a string as JSON"
out=$($C --raw --json call ping 2>&1)
is "$? $(echo "$out" | head -n 1)" \
    "2 rpcctl: --raw and --json print the result two ways: give one" \
    "--raw and --json: exit 2"
is "$($C --raw call -r 3 ping '"x"' | tr '\n' ' ')" "x x x " \
    "call -r 3: three results"
t0=$(date +%s.%N)
$C call -r 3 -i 0.3 ping >/dev/null
t1=$(date +%s.%N)
ok $(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 0.6) }'; echo $?) \
    "call -r 3 -i 0.3: the calls are 0.3 s apart"
$C call -r 2 nosuch >/dev/null 2>"$TEST_DIR/err"
is "$? $(grep -c 'nosuch' "$TEST_DIR/err")" "1 2" \
    "call -r 2 of an error: both told, exit 1"
for t in '-r 0 ping|call: -r 0: expected a count, or -1 for until SIGINT' \
    '-i 1 ping|usage: rpcctl call [-r count [-i interval]] method [params | - | @file]' \
    '-r -2 ping|call -r -2: too small (-1 to 1000000000)'; do
	$C call ${t%%|*} 2>"$TEST_DIR/err"
	is "$? $(head -n 1 "$TEST_DIR/err")" "2 rpcctl: ${t#*|}" "call ${t%%|*}: exit 2"
done
$C call nosuch 2>"$TEST_DIR/err"
is $? 1 "an error reply exits 1"
is "$(cat "$TEST_DIR/err")" "rpcctl: nosuch: unknown_method: no such method" \
    "and prints its code and message"
nosuch='{"out": "error", "result": {"code": "unknown_method", "message": "no such method"}}'
out=$($C --json call nosuch 2>"$TEST_DIR/err")
is "$? $out" "1 $nosuch" "call --json: an error reply is printed as sent, exit 1"
is "$(cat "$TEST_DIR/err")" "rpcctl: nosuch: unknown_method: no such method" \
    "and its code and message on standard error"

out=$($C stats)
ok_test "stats prints a table with a total row" sh -c "echo '$out' | grep -q '^total '"
is "$(echo "$out" | awk '$1 == "0" || $1 == "total" {print NF}' | tr '\n' ' ')" "9 8 " \
    "a worker row has a pid and restarts, the total row restarts only"
ok_test "stats --json is the raw reply" sh -c "$C --json stats | grep -q '\"out\": \"stats\"'"
is "$($C methods | awk '{print $1}' | tr '\n' ' ')" "ping methods stats " "methods"
# The global options may follow the command's name, before its arguments.
out=$("$RPCCTL" ping --json -S "$RPCD_ADDR" x 2>&1)
is "$? $out" '0 {"out": "pong", "result": "x"}' "ping --json -S ADDR"
out=$("$RPCCTL" ping -c 2 -i 0 --json -t 5 --server="$RPCD_ADDR" 2>&1)
is "$? $out" "0 $(printf '%s\n' '{"out": "pong", "result": "rpcctl"}' \
    '{"out": "pong", "result": "rpcctl"}')" "ping -c 2 -i 0 --json -t 5 --server=ADDR"
out=$($C stats --json 2>&1)
ok_test "stats --json, after the command" sh -c "echo '$out' | grep -q '^{\"out\": \"stats\"'"
out=$("$RPCCTL" methods -H "$RPCD_HOST" --port "$RPCD_PORT" --json 2>&1)
is "$? $(echo "$out" | cut -c1-18)" '0 {"out": "methods",' "methods -H HOST --port PORT --json"
out=$("$RPCCTL" call --json -S "$RPCD_ADDR" ping '[1]' 2>&1)
is "$? $out" '0 {"out": "pong", "result": [1]}' "call --json -S ADDR method params"

# batch: 10,000 lines come back in order; bad lines become error lines.
seq 1 10000 | sed 's/.*/{"in": "ping", "params": &}/' >"$TEST_DIR/batch"
$C batch <"$TEST_DIR/batch" >"$TEST_DIR/batch.out"
ok $? "batch of 10,000 exits 0"
seq 1 10000 | sed 's/.*/{"out": "pong", "result": &}/' >"$TEST_DIR/batch.want"
ok_test "10,000 replies in input order" cmp -s "$TEST_DIR/batch.out" "$TEST_DIR/batch.want"
printf '%s\n' '{"in": "ping", "params": 1}' 'not json' '{"in": 5}' \
    '{"in": "ping", "params": 2}' | $C batch >"$TEST_DIR/mixed"
is "$(cut -c1-40 "$TEST_DIR/mixed")" "$(printf '%s\n' \
    '{"out": "pong", "result": 1}' \
    '{"out": "error", "result": {"code": "bad' \
    '{"out": "error", "result": {"code": "bad' \
    '{"out": "pong", "result": 2}')" "bad lines become error lines in place"
# A blank line, white space or nothing, is skipped but counted: an error
# names the line of the input it stands for, whatever came before it.
printf '\n\n[1]\n' | $C batch >"$TEST_DIR/out"
is "$(cat "$TEST_DIR/out")" \
    '{"out": "error", "result": {"code": "not_object", "message": "line 3: body is not a JSON object"}}' \
    "batch: an error after two empty lines names line 3"
printf '%s\n' '{"in": "ping", "params": 1}' '' '   ' "$(printf '\t \r')" \
    '{"in": "ping", "params": 5}' 'bad' "$(printf '\r')" \
    '{"in": "ping", "params": 8}' | $C batch >"$TEST_DIR/out"
is "$? $(cat "$TEST_DIR/out")" "0 $(printf '%s\n' \
    '{"out": "pong", "result": 1}' '{"out": "pong", "result": 5}' \
    '{"out": "error", "result": {"code": "bad_json", "message": "line 6: body is not well-formed JSON"}}' \
    '{"out": "pong", "result": 8}')" \
    "batch: white-space lines are blank, one output line per other line"
printf '{"in": "ping", "params": 1}\n  \n{"in": "ping", "params": 3}' |
    $C batch >"$TEST_DIR/out"
is "$(cat "$TEST_DIR/out")" "$(printf '%s\n' '{"out": "pong", "result": 1}' \
    '{"out": "pong", "result": 3}')" "batch: a last line without a newline"

# Replies larger than the window of requests: rpcd stops reading past
# --max-output until they are taken, so batch must read while it sends.
rpcd_stop
rpcd_start --max-output 65536 --max-frame 100000 || bail_out "rpcd did not start"
C="$RPCCTL -S $RPCD_ADDR"
big_batch_check "" $C

# A line over --max-frame gets rpcd's frame_too_large in its place; rpcd
# then closes the connection without reading the lines after it, and
# batch sends them again: six lines in, six out, in order, exit 0.
big=$(head -c 100000 /dev/zero | tr '\0' x)
printf '{"in": "ping", "params": %s}\n' 1 2 3 4 "\"$big\"" 6 >"$TEST_DIR/six"
{ printf '{"out": "pong", "result": %s}\n' 1 2 3 4
  echo '{"out": "error", "result": {"code": "frame_too_large", "message": "frame length exceeds the limit"}}'
  echo '{"out": "pong", "result": 6}'; } >"$TEST_DIR/six.want"
$C batch <"$TEST_DIR/six" >"$TEST_DIR/out" 2>"$TEST_DIR/err"
ok $? "batch: a line over --max-frame: exit 0"
ok_test "six lines out: its error in its place, the line after it answered" \
    cmp -s "$TEST_DIR/out" "$TEST_DIR/six.want"
is "$(cat "$TEST_DIR/err")" \
    "rpcctl: $RPCD_ADDR closed the connection after frame_too_large: 1 requests from line 6 resent to $RPCD_ADDR" \
    "and a line on stderr tells the resend"

# A request over rpcd's --max-frame: rpcd answers and closes at once, and
# rpcctl, still sending, shows that answer.
{ printf '"'; head -c 8000000 /dev/zero | tr '\0' x; printf '"'; } |
    $C call ping - 2>"$TEST_DIR/err"
is $? 1 "params over --max-frame exit 1"
is "$(cat "$TEST_DIR/err")" \
    "rpcctl: ping: frame_too_large: frame length exceeds the limit" \
    "with the server's error, not a broken pipe"

# ping --json shows an error reply as sent too: here, to a message over
# --max-frame.
out=$($C --json ping "$(head -c 100000 /dev/zero | tr '\0' x)" 2>/dev/null)
is "$? $out" '1 {"out": "error", "result": {"code": "frame_too_large", "message": "frame length exceeds the limit"}}' \
    "ping --json: an error reply is printed as sent, exit 1"

# bench, briefly.
out=$($C bench -c 4 -n 2000 -P 4 --histogram)
ok $? "bench -n 2000 exits 0"
ok_test "bench reports 2000 requests and no errors, as redis-benchmark" \
    sh -c "echo '$out' | grep -q '^====== ping ======$' &&
    echo '$out' | grep -q '^  2000 requests completed in [0-9.]* seconds$' &&
    echo '$out' | grep -q '^  4 parallel connections, pipeline 4$' &&
    echo '$out' | grep -q '^  0 errors$' &&
    echo '$out' | grep -q '^  throughput summary: [0-9.]* requests per second$'"
ok_test "with avg/min/p50/p90/p99/p99.9/max" \
    sh -c "echo '$out' | grep -A 1 '^ *avg  *min  *p50  *p90  *p99  *p99.9  *max$' |
    grep -q '^\(  *[0-9][0-9]*\.[0-9]\{3\}\)\{7\}$'"
ok_test "and a histogram" sh -c "echo '$out' | grep -q '^latency histogram:'"
out=$($C bench -c 2 -d 0.5 --csv)
is "$(echo "$out" | grep -c ',')" 2 "bench --csv prints a header and a row"
ok_test "bench -d 0.5 ran" sh -c "echo '$out' | tail -n 1 | grep -q '^[1-9][0-9]*,0,'"
ok_test "bench --json" sh -c "$C --json bench -n 100 -c 2 | grep -q '\"requests\": 100, \"errors\": 0'"
out=$($C bench --json -n 100 -c 2 2>&1)
ok_test "bench --json, after the command as rpcctl(1) shows it" \
    sh -c "echo '$out' | grep -q '^{\"requests\": 100, \"errors\": 0'"
$C bench -n 10 -d 1 2>/dev/null
is $? 2 "bench -n with -d is a usage error"

# SIGINT stops ping and bench as it does ping(8): they print what they
# measured, then exit 130.  (A job started with & ignores SIGINT until
# rpcctl catches it: unfixed, it runs on and is stopped with SIGTERM.)
: >"$TEST_DIR/int"	# not the last command's, before the job opens it
$C ping -c 1000 -i 0.05 >"$TEST_DIR/int" 2>&1 &
pid=$!
wait_for 100 grep -q 'seq=2 ' "$TEST_DIR/int"
kill -INT $pid
wait_for 50 grep -q '^rtt min/avg/max/stddev = ' "$TEST_DIR/int" ||
    kill -TERM $pid
wait $pid
is $? 130 "ping stopped by SIGINT exits 130"
pongs=$(grep -c '^pong from ' "$TEST_DIR/int")
ok_test "after a summary of its $pongs pongs" grep -q \
    -e "^$pongs sent, $pongs received, 0% loss$" \
    -e "^$((pongs + 1)) sent, $pongs received, " "$TEST_DIR/int"
: >"$TEST_DIR/int"	# not ping's, before the job opens it
$C bench -c 2 -d 30 >"$TEST_DIR/int" 2>&1 &
pid=$!
wait_for 50 grep -q ' replies, ' "$TEST_DIR/int"
kill -INT $pid
wait_for 50 grep -q 'throughput summary' "$TEST_DIR/int" || kill -TERM $pid
wait $pid
is $? 130 "bench -d 30 stopped by SIGINT exits 130"
ok_test "after its report of what it measured" grep -q \
    '^  [1-9][0-9]* requests completed in [0-9]\.[0-9]* seconds$' \
    "$TEST_DIR/int"

# stats -i: a line per interval with rates, -c lines or until SIGINT,
# then a summary.
$C stats -i 0.1 -c 3 >"$TEST_DIR/watch"
is $? 0 "stats -i 0.1 -c 3 exits 0"
is "$(sed -n 1p "$TEST_DIR/watch" | tr -s ' ')" \
    "time requests req/s errors errors/s conns" "with a header"
ok_test "three lines of totals and rates, the first without rates" sh -c "
    sed -n '2p' '$TEST_DIR/watch' | grep -Eq '^[0-9:]{8} +[0-9]+ +- +[0-9]+ +- +[0-9]+\$' &&
    sed -n '3,4p' '$TEST_DIR/watch' | grep -Ec '^[0-9:]{8} +[0-9]+ +[0-9.]+ +[0-9]+ +[0-9.]+ +[0-9]+\$' |
    grep -qx 2"
ok_test "and a summary" grep -Eq \
    '^--- .*: [0-9]+ requests in 0\.[0-9] s \([0-9.]+/s\), 0 errors$' \
    "$TEST_DIR/watch"
: >"$TEST_DIR/watch"	# not the last command's, before the job opens it
$C stats -i 0.1 >"$TEST_DIR/watch" 2>&1 &
pid=$!
wait_for 50 sh -c "[ \$(wc -l <'$TEST_DIR/watch') -ge 3 ]"
kill -INT $pid
wait_for 50 grep -q '^--- ' "$TEST_DIR/watch" || kill -TERM $pid
wait $pid
is $? 130 "stats -i stopped by SIGINT exits 130"
ok_test "after its summary" grep -q '^--- .* requests in ' "$TEST_DIR/watch"
$C stats -c 3 2>/dev/null
is $? 2 "stats -c without -i is a usage error"

# Help and usage.
"$RPCCTL" --help >"$TEST_DIR/help"
ok $? "--help exits 0"
for o in --server --host --port --socket --timeout --json --raw --version \
    --help ping call batch stats methods members bench help; do
	ok_test "--help lists $o" grep -q -e "$o" "$TEST_DIR/help"
done
ok_test "help ping describes ping" sh -c "'$RPCCTL' help ping | grep -q 'usage: rpcctl ping'"
# Each command's -h and --help print what help prints of it, and exit 0.
for cmd in ping call batch stats methods members bench help; do
	"$RPCCTL" help "$cmd" >"$TEST_DIR/help.want"
	for h in --help -h; do
		out=$("$RPCCTL" -S 127.0.0.1:1 "$cmd" $h 2>&1)
		is "$? $out" "0 $(cat "$TEST_DIR/help.want")" \
		    "$cmd $h prints its usage, exit 0"
	done
done
# The global options may follow the command's name: none of a command's
# own options has a letter or name of theirs.
"$RPCCTL" --help | grep -o -e '^ *-[A-Za-z]' -e '[ ,]--[a-z][a-z-]*' |
    tr -d ' ,' | sort -u >"$TEST_DIR/globals"
for cmd in ping call batch stats methods members bench help; do
	is "$("$RPCCTL" help "$cmd" | sed -n '/^usage:/,/^$/p' |
	    grep -o -e '[[ |]-[A-Za-z]\>' -e '[[ |]--[a-z][a-z-]*' |
	    tr -d '[ |' | sort -u | comm -12 - "$TEST_DIR/globals" |
	    tr '\n' ' ')" "" "$cmd has no option of the global ones"
done
"$RPCCTL" frobnicate 2>/dev/null
is $? 2 "an unknown command exits 2"
"$RPCCTL" ping -c zero 2>/dev/null
is $? 2 "a bad count exits 2"
# A bad number names the option as it was typed, long or short; getopt's
# own complaints name rpcctl, not the path it was run by.
for t in 'bench --payload 2000000|bench --payload 2000000: too large (0 to 1048576)' \
    'bench --payload=2000000|bench --payload 2000000: too large (0 to 1048576)' \
    'bench -c 0|bench -c 0: too small (1 to 10000)' \
    'bench -P x|bench -P x: invalid (1 to 10000)' \
    'bench -d 0|bench -d 0: too small (0.1 to 86400)' \
    'ping -c 0|ping -c 0: too small (1 to 1000000000)' \
    'ping -i -1|ping -i -1: too small (0 to 3600)' \
    '--port 0 ping|--port 0: too small (1 to 65535)' \
    '-p 65536 ping|-p 65536: too large (1 to 65535)' \
    '--timeout 0 ping|--timeout 0: too small (0.001 to 86400)' \
    '-t x ping|-t x: invalid (0.001 to 86400)' \
    '--bogus ping|unknown option --bogus' \
    '--json=1 ping|--json takes no argument' \
    'ping --bogus|ping: unknown option --bogus' \
    'stats --bogus=1|stats: unknown option --bogus' \
    'batch --retry=3|batch: --retry takes no argument' \
    'bench --pa 3|bench: ambiguous option --pa' \
    'ping -S|ping: -S needs an argument' \
    'ping --server|ping: --server needs an argument' \
    'call -x ping|call: unknown option -x' \
    'ping -x|ping: unknown option -x' \
    'ping -c|ping: -c needs an argument' \
    'bench --payload|bench: --payload needs an argument' \
    'bench --params [1,|bench: --params are not JSON: body is not well-formed JSON' \
    'bench --params 1 --payload 2|usage: rpcctl bench [-c conns] [-n requests | -d seconds] [-P pipeline] [--rate number] [--interval seconds] [--method name] [--params json] [--payload bytes] [--methods file] [--csv] [--histogram] [--retry]' \
    '-t|-t needs an argument'; do
	"$RPCCTL" ${t%%|*} 2>"$TEST_DIR/err"
	is "$? $(head -n 1 "$TEST_DIR/err")" "2 rpcctl: ${t#*|}" "rpcctl ${t%%|*}"
done
is "$("$RPCCTL" -V)" "$("$RPCD" -V | sed 's/rpcd/rpcctl/')" "-V"
# A TLS file that cannot be used is a usage error naming the option and
# the file (rpcctl.c says so; tls.c only tells it why).
for o in --cacert --cert; do
	out=$("$RPCCTL" --tls $o "$TEST_DIR/none.pem" ping 2>&1)
	status=$?
	case $status/$out in
	"2/rpcctl: $o $TEST_DIR/none.pem: "?*) ok 0 "--tls $o NOFILE: exit 2" ;;
	"2/rpcctl: --tls: built without TLS") ok 0 "--tls: exit 2, no TLS" ;;
	*) ok 1 "--tls $o NOFILE: exit 2: $status $out" ;;
	esac
done

# Unix socket.
rpcd_stop
rpcd_start -l "unix:$TEST_DIR/s" || bail_out "rpcd did not start"
is "$("$RPCCTL" -s "$TEST_DIR/s" --json ping u)" '{"out": "pong", "result": "u"}' \
    "-s reaches a Unix socket"
rpcd_stop

# stats shows how often each worker was restarted: here worker 0, killed
# once.
rpcd_start -P 2 || bail_out "rpcd -P 2 did not start"
C="$RPCCTL -S $RPCD_ADDR"
wait_for 50 sh -c "$C --json stats | grep -q '\"index\": 1, \"pid\": [1-9]'"
victim=$($C --json stats | grep -o '"index": 0, "pid": [0-9]*' | sed 's/.*: //')
kill -9 "$victim"
wait_for 50 sh -c "$C --json stats | grep -q '\"index\": 0, \"pid\": [1-9][0-9]*, [^}]*\"restarts\": 1 '"
ok $? "worker 0 (pid $victim) is replaced"
out=$($C stats)
is "$(echo "$out" | sed -n 2p | awk '{print $1, $2, $3}')" "worker pid restarts" \
    "stats has a restarts column after the pid"
is "$(echo "$out" | awk '$1 == "0" || $1 == "1" {print $1, $3}' | tr '\n' ' ')" \
    "0 1 1 0 " "worker 0 was restarted once, worker 1 never"
rpcd_stop

# Exit 3: nothing listening (the port rpcd just left), and timeouts.
rpcd_start || bail_out "rpcd did not start"
dead=$RPCD_ADDR
rpcd_stop
"$RPCCTL" -S "$dead" ping 2>"$TEST_DIR/err"
is $? 3 "connection refused exits 3"
is "$(cat "$TEST_DIR/err")" "rpcctl: cannot connect to $dead: Connection refused" \
    "with a message naming the address"
# A name that does not resolve is a server that cannot be reached, not a
# bad command line.  (glibc refuses an empty label without asking DNS.)
out=$(RES_OPTIONS="timeout:1 attempts:1" "$RPCCTL" -S no..such.host:8443 ping 2>&1)
is "$?" 3 "-S with a name that does not resolve exits 3"
case $out in
"rpcctl: cannot connect to no..such.host:8443: "?*) ok 0 "saying so" ;;
*) ok 1 "saying so: $out" ;;
esac

# A fake server for each kind of garbage.
[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] || PYTHON3=$(command -v python3)
if [ -z "$PYTHON3" ]; then
	skip "python3 not found: no fake server"
	done_testing
	exit $?
fi
# fake KIND COMMAND...: run rpcctl COMMAND against a server answering KIND.
fake()
{
	"$PYTHON3" -c '
import socket, struct, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.recv(65536)
kind = sys.argv[1]
if kind == "huge": c.sendall(struct.pack("<I", 0xfffffff0))
elif kind == "notjson": c.sendall(struct.pack("<I", 5) + b"hello")
elif kind == "shape": c.sendall(struct.pack("<I", 9) + b"[1, 2, 3]")
elif kind == "midframe": c.sendall(struct.pack("<I", 100) + b"{\"out\"")
elif kind == "silent": time.sleep(5)
elif kind in ("compact", "wrongecho"):
    body = b"{\"out\":\"pong\",\"result\":\"" + \
        (b"x" * 16 if kind == "compact" else b"y") + b"\"}"
    c.sendall(struct.pack("<I", len(body)) + body); c.recv(1)
c.close()' "$1" >"$TEST_DIR/fake.port" &
	fakepid=$!
	wait_for 50 test -s "$TEST_DIR/fake.port"
	port=$(cat "$TEST_DIR/fake.port")
	shift
	"$RPCCTL" -t 1 -p "$port" "$@" 2>"$TEST_DIR/err" >/dev/null
	status=$?
	kill "$fakepid" 2>/dev/null
	wait "$fakepid" 2>/dev/null
	: >"$TEST_DIR/fake.port"
	return $status
}
for kind in huge:"over the limit" notjson:"not well-formed JSON" \
    shape:"not a JSON object" midframe:"closed the connection in mid-frame" \
    silent:"timed out"; do
	fake "${kind%%:*}" ping
	is $? 3 "${kind%%:*}: exit 3"
	ok_test "${kind%%:*}: message says '${kind#*:}'" grep -q "${kind#*:}" "$TEST_DIR/err"
	fake "${kind%%:*}" bench -c 1 -n 10
	is $? 3 "bench, ${kind%%:*}: exit 3"
	ok_test "bench, ${kind%%:*}: message says why" grep -q \
	    -e "${kind#*:}" -e "not the pong" "$TEST_DIR/err"
done
# bench checks each pong: any spelling of the echo counts, another does not.
fake compact bench -c 1 -n 1
is $? 0 "bench takes a pong spelt without spaces"
fake wrongecho bench -c 1 -n 1
is $? 3 "bench counts a pong with the wrong echo as an error"
ok_test "and says so" grep -q "not the pong" "$TEST_DIR/err"

done_testing
