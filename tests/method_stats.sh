#!/bin/sh
# Per-method statistics: every method, built-in or a module's, counts its
# calls, errors, timeouts, calls in flight and a latency histogram per
# worker; stats sums them over the workers, keeps what a dead worker
# counted, and rpcctl stats shows them as a table.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
C=$RPCCTL

# method_field NAME FIELD: a field of NAME's row in stats.
method_field()
{
	"$C" -S "$RPCD_ADDR" --json stats | "$PYTHON3" -c '
import json, sys
o = json.load(sys.stdin)["result"]
m = [r for r in o["methods"] if r["name"] == sys.argv[1]][0]
f = sys.argv[2]
print(sum(m["histogram"].values()) if f == "histogram" else m[f])' "$1" "$2"
}

rpcd_start -P 2 || bail_out "rpcd -P 2 did not start"
seq 1 50 | sed 's/.*/{"in": "ping", "params": &}/' |
    "$C" -S "$RPCD_ADDR" batch >/dev/null
"$C" -S "$RPCD_ADDR" methods >/dev/null
is "$(method_field ping calls)" 50 "50 pings are counted, over both workers"
is "$(method_field ping histogram)" 50 "and each is in the latency histogram"
is "$(method_field ping errors)" 0 "with no error"
is "$(method_field methods calls)" 1 "methods is counted too"
is "$(method_field stats in_flight)" 1 "the stats call itself is in flight"

# Workers die: what they counted stays.
for pid in $(pgrep -P "$RPCD_PID"); do
	kill -9 "$pid"
done
wait_for 50 sh -c "[ \$(grep -c 'worker . started' '$RPCD_LOG') -ge 4 ]"
ok $? "both workers are replaced"
is "$(method_field ping calls)" 50 "the dead workers' pings are kept"
is "$(method_field stats in_flight)" 1 "but not their calls in flight"

table=$("$C" -S "$RPCD_ADDR" stats)
echo "$table" | grep -q '^method  *calls  *errors  *timeouts  *in_flight' 
ok $? "rpcctl stats prints a method table"
echo "$table" | grep -Eq '^ping  *50  *0  *0  *0  *<[0-9]+  *<[0-9]+$'
ok $? "with a row for ping" || diag "$table"
rpcd_stop
done_testing
