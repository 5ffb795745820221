#!/bin/sh
# rpcd speaks the protocol: ping echoes params of every JSON type byte for
# byte, methods and stats answer, pipelined and byte-by-byte requests are
# answered in order.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

rpcd_start || bail_out "rpcd did not start"
A=$RPCD_ADDR

for p in '"ireader 0"' 42 -1.5e+3 0 true false null '[]' '{}' \
    '[1, [2, [3]], "x"]' '{"a": {"b": [null, true]}, "c": 1.0}' \
    '"caf\u00e9 \"q\" \\ \/ \n"' '"café ☕"' '  [ 1 ,2 ]'; do
	got=$(wire -n 1 "$A" "j:{\"in\": \"ping\", \"params\": $p}")
	want="{\"out\": \"pong\", \"result\": $(printf "%s" "$p" | sed "s/^ *//")}"
	is "$got" "$want" "ping echoes $p byte for byte"
done

is "$(wire -n 1 "$A" 'j:{"in": "ping"}')" '{"out": "pong", "result": null}' \
    "ping without params answers null"
is "$(wire -n 1 "$A" 'j:{"params": 7, "extra": [1], "in": "ping"}')" \
    '{"out": "pong", "result": 7}' "member order and extra members"

out=$(wire -n 1 "$A" 'j:{"in": "methods"}')
for m in ping methods stats; do
	case $out in
	*"\"name\": \"$m\""*) ok 0 "methods lists $m" ;;
	*) ok 1 "methods lists $m"; diag "$out" ;;
	esac
done

out=$(wire -n 1 "$A" 'j:{"in": "stats"}')
case $out in
'{"out": "stats", "result": {'*"\"pid\": $RPCD_PID,"*'"workers": [ {'*'"total": {'*)
	ok 0 "stats reports pid, workers and totals" ;;
*)	ok 1 "stats reports pid, workers and totals"; diag "$out" ;;
esac
req=$(echo "$out" | sed -n 's/.*"total": {[^}]*"requests": \([0-9]*\).*/\1/p')
ok_test "stats counts the requests so far ($req)" test "${req:-0}" -ge 17

# 1000 different requests in one write come back in order.
args=
want=
i=0
while [ $i -lt 1000 ]; do
	args="$args j:{\"in\":\"ping\",\"params\":$i}"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wire -c -n 1000 "$A" $args >"$TEST_DIR/pipelined"
seq 0 999 | sed 's/.*/{"out": "pong", "result": &}/' >"$TEST_DIR/want"
ok_test "1000 pipelined requests in one write: 1000 replies in order" \
    cmp -s "$TEST_DIR/pipelined" "$TEST_DIR/want"
# The same, from a peer that half-closes at once: more than one read
# callback's worth of requests, all answered before the server closes.
# shellcheck disable=SC2086
wire -c -s "$A" $args >"$TEST_DIR/halfclosed"
echo "[closed]" >>"$TEST_DIR/want"
ok_test "a peer that half-closes after 1000 requests gets 1000 replies" \
    cmp -s "$TEST_DIR/halfclosed" "$TEST_DIR/want"

# One frame written a byte at a time, then several in the same stream.
is "$(wire -1 -n 2 "$A" 'j:{"in": "ping", "params": "slow"}' \
    'j:{"in": "ping", "params": [2]}')" \
    "$(printf '%s\n%s' '{"out": "pong", "result": "slow"}' \
    '{"out": "pong", "result": [2]}')" "requests fed byte by byte"

# Header and body in separate writes (the tutorial client's way).
is "$(wire -n 1 "$A" h:36 'x:7b22696e223a202270696e67222c2022706172616d73223a20227365706172617465227d')" \
    '{"out": "pong", "result": "separate"}' "header and body in two writes"

rpcd_stop
ok $? "rpcd exits 0 on SIGTERM"
done_testing
