#!/bin/sh
# rpcctl bench's open loop, intervals and mixes, against a real rpcd:
# - --rate holds the rate asked within 2%, and its latency beside the
#   closed loop's is printed;
# - --interval prints a line per interval, as text or JSON lines;
# - --methods sends a weighted mix, each method's share as weighted, with
#   a line of latency for each; bad files are usage errors naming the line.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
rpcd_start || bail_out "rpcd did not start"
C="$RPCCTL -S $RPCD_ADDR"

# json_get FILE KEY: KEY of the JSON object on FILE's last line.
json_get()
{
	tail -n 1 "$1" | "$PYTHON3" -c 'import json, sys
print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# --rate: an open loop at 20000 requests a second for 3 s.
$C --json bench -c 50 -P 16 --rate 20000 -d 3 >"$TEST_DIR/rate"
is $? 0 "bench --rate 20000 -d 3: exit 0"
rps=$(json_get "$TEST_DIR/rate" rps)
is "$(json_get "$TEST_DIR/rate" requests) $(json_get "$TEST_DIR/rate" rate)" \
    "60000 20000" "60000 requests, at the rate asked"
ok $(awk -v r="$rps" 'BEGIN { exit !(r >= 19600 && r <= 20400) }'; echo $?) \
    "the rate held within 2%: $rps requests/s"
$C --json bench -c 50 -d 3 >"$TEST_DIR/closed"
is $? 0 "the same without --rate, a closed loop: exit 0"
diag "p99: $(json_get "$TEST_DIR/rate" p99_ms) ms at 20000 requests/s;" \
    "$(json_get "$TEST_DIR/closed" p99_ms) ms in a closed loop at" \
    "$(json_get "$TEST_DIR/closed" rps) requests/s"
$C bench -c 4 --rate 1000 -n 500 >"$TEST_DIR/text"
ok_test "the text report says the loop was open" grep -q \
    '^  open loop: 1000 requests per second asked, latency from when each was due$' \
    "$TEST_DIR/text"

# --interval: a line per interval.
$C bench -c 4 --rate 2000 -d 1 --interval 0.25 >"$TEST_DIR/int"
n=$(grep -c '^ *[0-9.]*s  *[0-9]* req/s  latency ms: avg [0-9.]*  min [0-9.]*  p50 [0-9.]*  p99 [0-9.]*  max [0-9.]*$' \
    "$TEST_DIR/int")
ok $([ "$n" -ge 3 ] && [ "$n" -le 4 ]; echo $?) \
    "--interval 0.25 over 1 s: $n lines of rate and latency"
$C --json bench -c 4 --rate 2000 -d 1 --interval 0.25 >"$TEST_DIR/intj"
ok_test "with --json, a JSON object per interval, then the results" \
    "$PYTHON3" -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert 3 <= len(lines) - 1 <= 4, lines
assert all(set(l) == {"time", "requests", "rps", "avg_ms", "min_ms",
    "p50_ms", "p99_ms", "max_ms"} for l in lines[:-1]), lines
assert 400 <= lines[0]["requests"] <= 600, lines[0]
assert lines[-1]["requests"] == 2000, lines[-1]' "$TEST_DIR/intj"
$C bench --interval 1 --csv 2>"$TEST_DIR/err"
is "$? $(head -n 1 "$TEST_DIR/err")" \
    "2 rpcctl: bench: --interval prints text, or JSON lines with --json: not --csv" \
    "--interval with --csv: exit 2"

# --methods: 3 pings of one kind to 1 of another.
cat >"$TEST_DIR/mix" <<'EOF'
# weight method params
3 ping "a"

1   ping	[1, {"b": null}]
EOF
$C --json bench -c 4 -n 4000 --methods "$TEST_DIR/mix" >"$TEST_DIR/mixj"
is $? 0 "bench --methods: exit 0, each pong right for its own ping"
ok_test "each method its share, as weighted" "$PYTHON3" -c 'import json, sys
r = json.load(open(sys.argv[1]))
m = r["methods"]
assert r["requests"] == 4000 and r["errors"] == 0, r
assert [x["weight"] for x in m] == [3, 1], m
assert abs(m[0]["requests"] - 3000) <= 8, m
assert m[0]["requests"] + m[1]["requests"] == 4000, m' "$TEST_DIR/mixj"
$C bench -c 4 -n 400 --methods "$TEST_DIR/mix" >"$TEST_DIR/mixt"
ok_test "the text report: a line for each method" sh -c "
    grep -q '^====== $TEST_DIR/mix: 2 methods ======$' '$TEST_DIR/mixt' &&
    grep -q '^  method  *share  *requests  *avg  *p50  *p99  *max$' '$TEST_DIR/mixt' &&
    [ \$(grep -c '^  ping  *[0-9.]*%  *[0-9]*  *[0-9.]*  *[0-9.]*  *[0-9.]*  *[0-9.]*$' '$TEST_DIR/mixt') = 2 ]"

# A file that is not a mix: exit 2, naming the line.
bad()
{
	printf "$1" >"$TEST_DIR/bad"
	$C bench -n 1 --methods "$TEST_DIR/bad" 2>"$TEST_DIR/err"
	is "$? $(head -n 1 "$TEST_DIR/err")" "2 rpcctl: bench: --methods $TEST_DIR/bad$2" \
	    "--methods refused:$2"
}
bad '1 ping\nx ping\n' ':2: the weight is invalid (1 to 1000000)'
bad '0 ping\n' ':1: the weight is too small (1 to 1000000)'
bad '5\n' ':1: no method'
bad '1 ping {bad\n' ':1: the params are not JSON: body is not well-formed JSON'
bad '# nothing\n\n' ': no method in it'
$C bench --methods "$TEST_DIR/none" 2>"$TEST_DIR/err"
is "$? $(head -n 1 "$TEST_DIR/err")" \
    "2 rpcctl: bench: --methods $TEST_DIR/none: No such file or directory" \
    "--methods of no file: exit 2"
$C bench --methods "$TEST_DIR/mix" --method ping 2>"$TEST_DIR/err"
is "$? $(head -n 1 "$TEST_DIR/err")" "2 rpcctl: bench: --methods gives the\
 methods and params: not with --method, --params or --payload" \
    "--methods with --method: exit 2"

done_testing
