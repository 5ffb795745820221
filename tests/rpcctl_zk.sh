#!/bin/sh
# rpcctl -S zk://HOSTS/PATH and rpcctl members, against a real ZooKeeper
# (tests/zk_lib.sh) and three rpcd registered in it with --register:
# - bad serversets are usage errors; ZooKeeper out of reach and an empty
#   serverset exit 3, each saying so;
# - members lists each member's endpoints, as text and --json;
# - members that are not JSON, not ALIVE or with no host are listed as
#   they are and never connected to;
# - pings through the serverset reach more than one member across runs,
#   and bench spreads its connections over all three;
# - a member killed with kill -9 (still listed until its session ends) is
#   failed over, as in a -S list; with --tls the member's tls endpoint is
#   the one used.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

# A build without ZooKeeper refuses a serverset, as a usage error.
if "$RPCD" --register zk://127.0.0.1:1/probe -n 2>&1 | grep -q "without"; then
	"$RPCCTL" -S zk://127.0.0.1:1/x ping >/dev/null 2>"$TEST_DIR/err"
	is "$? $(cat "$TEST_DIR/err")" \
	    "2 rpcctl: zk://127.0.0.1:1/x: rpcctl was built without ZooKeeper" \
	    "built without ZooKeeper: -S zk:// exits 2, saying so"
	done_testing
	exit
fi

bad()
{
	"$RPCCTL" "$@" >/dev/null 2>"$TEST_DIR/err"
	is "$? $(head -n 1 "$TEST_DIR/err")" "2 rpcctl: $why" "refused: $*"
}
why="bad serverset zk://zk1/rpcd: each host must be HOST:PORT, the port 1\
 to 65535"
bad -S zk://zk1/rpcd ping
why="bad serverset zk://zk1:2181/: the path must be absolute, not /,\
 without empty, . or .. parts"
bad members zk://zk1:2181/
why="members needs a serverset, zk://host:port/path, as its argument or -S"
bad -S 127.0.0.1:1 members
why="usage: rpcctl members [zk://host:port[,...]/path]"
bad members zk://a:1/x zk://b:1/x

. "$top_srcdir/tests/zk_lib.sh"
zk_require

# Nothing answers on port 1.
"$RPCCTL" -t 1 -S zk://127.0.0.1:1/rpcd ping >/dev/null 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" "3 rpcctl: cannot read the members of\
 zk://127.0.0.1:1/rpcd: no answer from ZooKeeper within 1s" \
    "ZooKeeper out of reach: exit 3, saying so"

zk_start
SET=zk://$ZK_HOSTS/rpcd/test/discover

"$RPCCTL" -S "$SET" ping >/dev/null 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" "3 rpcctl: no member of $SET to connect to" \
    "no serverset yet: exit 3, saying so"
"$RPCCTL" members "$SET" >"$TEST_DIR/out"
is "$? $(wc -c <"$TEST_DIR/out")" "0 0" "members of no serverset: none, exit 0"

ca ca && cert server ca rpcd 'IP:127.0.0.1' || bail_out "openssl failed"

# Three hosts, each a framed listener, a TLS one and metrics.
for h in 1 2 3; do
	rpcd_start -l 127.0.0.1:0 -l 127.0.0.1:0,tls \
	    --tls-cert "$TEST_DIR/server.pem" --tls-key "$TEST_DIR/server.key" \
	    --metrics-listen 127.0.0.1:0 --register "$SET" ||
	    bail_out "rpcd $h did not start"
	mv "$RPCD_LOG" "$TEST_DIR/rpcd$h.log"
	pids="$pids $RPCD_PID"
	eval "PID$h=\$RPCD_PID ADDR$h=\$RPCD_ADDR"
	eval "TLS$h=$(echo "$RPCD_ADDRS" | sed -n 2p)"
done
RPCD_PID=

three()
{
	[ "$("$RPCCTL" members "$SET" | wc -l)" = 3 ]
}
wait_for 300 three
ok $? "members: the three hosts, once registered"

"$RPCCTL" members "$SET" >"$TEST_DIR/members"
diag_file <"$TEST_DIR/members"
for h in 1 2 3; do
	eval "addr=\$ADDR$h tls=\$TLS$h"
	grep -q "^member_[0-9]\{10\} ALIVE $addr tls=$tls metrics=127.0.0.1:[0-9]*$" \
	    "$TEST_DIR/members"
	ok $? "members: host $h, ALIVE at $addr, its tls and metrics"
done
"$RPCCTL" --json members "$SET" | "$PYTHON3" -c '
import json, sys
m = json.load(sys.stdin)
print(len(m), sorted("%s:%d" % (x["data"]["serviceEndpoint"]["host"],
    x["data"]["serviceEndpoint"]["port"]) for x in m) ==
    sorted(sys.argv[1:]), all(x["name"].startswith("member_") and
    x["data"]["status"] == "ALIVE" for x in m))' "$ADDR1" "$ADDR2" "$ADDR3" \
    >"$TEST_DIR/json"
is "$(cat "$TEST_DIR/json")" "3 True True" "members --json: the three"
RPCCTL_SERVER=$SET "$RPCCTL" members | cmp -s - "$TEST_DIR/members"
ok $? "members: the serverset of RPCCTL_SERVER"

# What the registry holds is not trusted: a member that is not JSON, one
# not ALIVE, one whose host is no host are listed as they are, and never
# connected to.
zk_client put "$ZK_HOSTS" /rpcd/test/discover/member_9999999997 'not json'
zk_client put "$ZK_HOSTS" /rpcd/test/discover/member_9999999998 \
    '{"serviceEndpoint": {"host": "127.0.0.1", "port": 1}, "status": "STOPPING"}'
zk_client put "$ZK_HOSTS" /rpcd/test/discover/member_9999999999 \
    '{"serviceEndpoint": {"host": "a;b c", "port": 5}, "status": "ALIVE"}'
"$RPCCTL" members "$SET" | tail -n 3 >"$TEST_DIR/junk"
is "$(cat "$TEST_DIR/junk")" "member_9999999997 - -
member_9999999998 STOPPING 127.0.0.1:1
member_9999999999 ALIVE -" "members: bad members listed as they are"
is "$("$RPCCTL" --json members "$SET" | "$PYTHON3" -c '
import json, sys
print([m["data"] for m in json.load(sys.stdin)][3])')" None \
    "members --json: data that is not JSON is null"

# Each run starts at a member drawn at random: 20 runs reach more than one
# (all at one of three: a chance of 3^-19).
: >"$TEST_DIR/pongs"
for i in $(seq 20); do
	"$RPCCTL" -S "$SET" ping >>"$TEST_DIR/pongs" 2>&1
done
is "$(grep -c '^pong from ' "$TEST_DIR/pongs")" 20 "20 pings through $SET"
reached=$(sed -n 's/^pong from \([^:]*:[0-9]*\):.*/\1/p' "$TEST_DIR/pongs" |
    sort -u | wc -l)
ok $([ "$reached" -ge 2 ]; echo $?) "the runs reached $reached members"

# bench: connection i starts at member i, so six share the three.
pings_of()
{
	"$RPCCTL" -S "$1" --json stats | "$PYTHON3" -c '
import json, sys
print(sum(m["calls"] for m in json.load(sys.stdin)["result"]["methods"]
    if m["name"] == "ping"))'
}
"$RPCCTL" -S "$SET" bench -c 6 -n 600 >"$TEST_DIR/bench" 2>&1
ok $? "bench -c 6 through $SET"
for h in 1 2 3; do
	eval "addr=\$ADDR$h"
	n=$(pings_of "$addr")
	ok $([ "$n" -ge 1 ]; echo $?) "bench: host $h answered $n pings"
done

# --tls: the members' tls endpoints.
"$RPCCTL" -S "$SET" --tls --cacert "$TEST_DIR/ca.pem" ping \
    >"$TEST_DIR/tls" 2>&1
grep -q -E "^pong from ($TLS1|$TLS2|$TLS3):" "$TEST_DIR/tls"
ok $? "--tls: a member's tls endpoint: $(cat "$TEST_DIR/tls")"

# kill -9 of a host: listed until its session ends, failed over meanwhile.
kill -9 "$PID1"
wait "$PID1" 2>/dev/null
: >"$TEST_DIR/pongs"
for i in $(seq 10); do
	"$RPCCTL" -S "$SET" ping >>"$TEST_DIR/pongs" 2>&1
done
is "$(grep -c '^pong from ' "$TEST_DIR/pongs")" 10 \
    "host 1 killed: 10 pings answered by the others"
"$RPCCTL" members "$SET" | grep -q " $ADDR1 "
ok $? "host 1 killed: still a member until its session ends"
grep -q "$ADDR1" "$TEST_DIR/pongs"
ok $([ $? = 1 ]; echo $?) "no pong from host 1"

done_testing
