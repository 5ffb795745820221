#!/bin/sh
# --register against a real ZooKeeper (Debian's zookeeperd: its jars in
# /usr/share/java), read through kazoo (tests/zk_client.py):
# - ZooKeeper down at start: rpcd serves, rpcd_registry_up is 0 and the
#   log says ZooKeeper is out of reach; once ZooKeeper comes up on that
#   port the member is created, rpcd_registry_up 1;
# - the member: an ephemeral node PATH/member_NNNNNNNNNN (PATH's parents
#   made), the serverset JSON naming the listeners and the metrics port;
# - SIGTERM: the member is gone before the first connection closes (the
#   seconds to each are printed);
# - --prefork: the member with --advertise's host and the workers as
#   weight; a SIGHUP leaves it alone; ZooKeeper restarted with its data
#   keeps it (the session lives on), restarted without its data (the
#   session lost) has rpcd create it again in a new session;
# - kill -9 of the master: the member is gone within the session timeout.
# Skipped without java, ZooKeeper's jars or kazoo, except in CI (CI=true),
# which installs them.  A build without ZooKeeper is checked to refuse
# --register instead.  ZooKeeper runs on an ephemeral loopback port: one
# picked free, and another tried if ZooKeeper cannot bind it.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

# A build without ZooKeeper refuses --register, as a usage error.
if ! "$RPCD" --register zk://127.0.0.1:1/probe -n >/dev/null 2>&1; then
	"$RPCD" --register zk://127.0.0.1:1/probe -n 2>"$TEST_DIR/err" \
	    >/dev/null
	is $? 2 "built without ZooKeeper: --register exits 2"
	is "$(head -n 1 "$TEST_DIR/err")" \
	    "rpcd: --register: rpcd was built without ZooKeeper" \
	    "built without ZooKeeper: it says so"
	done_testing
	exit
fi

# Bad URLs and hosts are usage errors, each named.
bad_url()
{
	"$RPCD" -n "$@" >/dev/null 2>"$TEST_DIR/err"
	is "$? $(head -n 1 "$TEST_DIR/err")" "2 rpcd: $why" "refused: $*"
}
why="--register zk1:2181/rpcd: expected zk://HOST:PORT[,HOST:PORT...]/PATH"
bad_url --register zk1:2181/rpcd
why="--register zk://zk1/rpcd: each host must be HOST:PORT, the port 1 to 65535"
bad_url --register zk://zk1/rpcd
why="--register zk://zk1:2181,zk2:0/rpcd: each host must be HOST:PORT,\
 the port 1 to 65535"
bad_url --register zk://zk1:2181,zk2:0/rpcd
why="--register zk://zk1:2181/: the path must be absolute, not /, without\
 empty, . or .. parts"
bad_url --register zk://zk1:2181/
why="--register zk://zk1:2181/a//b: the path must be absolute, not /, without\
 empty, . or .. parts"
bad_url --register zk://zk1:2181/a//b
why="--register zk://zk1:2181/a/../b: the path must be absolute, not /,\
 without empty, . or .. parts"
bad_url --register zk://zk1:2181/a/../b
why="--advertise needs register"
bad_url --advertise rpcd.example
why="--advertise a/b: expected a host name or address"
bad_url --register zk://zk1:2181/rpcd --advertise a/b

. "$top_srcdir/tests/zk_lib.sh"
zk_require

SLACK=5			# s a loaded machine may add to a bound

# metric NAME: its value in rpcd's /metrics, or "failed".
metric()
{
	"$PYTHON3" - "$METRICS" "$1" <<'EOF'
import sys, urllib.request
try:
    body = urllib.request.urlopen("http://%s/metrics" % sys.argv[1],
                                  timeout=5).read().decode()
except OSError as e:
    print("failed: %s" % e)
    sys.exit(0)
for line in body.splitlines():
    if line.split(" ")[0] == sys.argv[2]:
        print(line.split(" ")[1])
EOF
}

metric_is()
{
	[ "$(metric "$1")" = "$2" ]
}

log_has()
{
	grep -q "$1" "$RPCD_LOG"
}

# json FILE EXPR: a Python expression over a helper's JSON, m, whose
# "data" is also d, and d's "additionalEndpoints" e, as sorted pairs.
json()
{
	"$PYTHON3" -c 'import json, re, sys
m = json.load(open(sys.argv[1]))
d = m.get("data", {})
e = sorted(d.get("additionalEndpoints", {}).items())
print(eval(sys.argv[2]))' "$1" "$2"
}

port_of()
{
	echo "$RPCD_ADDRS" | sed -n "${1}p" | sed 's/.*://'
}

# --- ZooKeeper down at start: rpcd serves, and registers once it comes.
SERVERSET=/rpcd/test/single
for try in 1 2 3 4 5; do
	port=$(free_port)
	rpcd_start -l 127.0.0.1:0 -l 127.0.0.1:0,http \
	    --metrics-listen 127.0.0.1:0 \
	    --register "zk://127.0.0.1:$port$SERVERSET" ||
	    bail_out "rpcd did not start"
	pids="$pids $RPCD_PID"
	METRICS=$(sed -n 's|.*serving metrics on http://\([^/]*\)/metrics$|\1|p' \
	    "$RPCD_LOG")
	if [ "$try" = 1 ]; then
		ping_ok "$RPCD_ADDR"
		ok $? "ZooKeeper down: rpcd serves"
		wait_for 100 log_has "no answer from ZooKeeper at 127.0.0.1:$port"
		ok $? "ZooKeeper down: the log says so"
		is "$(metric rpcd_registry_up)" 0 \
		    "ZooKeeper down: rpcd_registry_up 0"
	fi
	zk_run "$port" "$TEST_DIR/zk-data" && break
	kill -9 "$RPCD_PID"
	wait "$RPCD_PID" 2>/dev/null
	RPCD_PID=
	rm -rf "$TEST_DIR/zk-data"
done
[ -n "$ZK_PID" ] || bail_out "ZooKeeper did not start on 5 ports"

# The pauses between tries grow: a minute at most.
zk_client member "$ZK_HOSTS" "$SERVERSET" 90 >"$TEST_DIR/m1.json"
ok $? "ZooKeeper up: rpcd creates its member (and PATH's parents)"
wait_for 100 metric_is rpcd_registry_up 1
ok $? "ZooKeeper up: rpcd_registry_up 1"
diag "member: $(cat "$TEST_DIR/m1.json")"
is "$(json "$TEST_DIR/m1.json" \
    '(bool(re.fullmatch("member_[0-9]{10}", m["name"]))
    and m["owner"] != "0")')" \
    True "the member is an ephemeral sequential member_NNNNNNNNNN"
is "$(json "$TEST_DIR/m1.json" 'd["serviceEndpoint"]')" \
    "{'host': '127.0.0.1', 'port': $(port_of 1)}" \
    "serviceEndpoint: the first framed listener"
is "$(json "$TEST_DIR/m1.json" 'e')" \
    "[('http', {'host': '127.0.0.1', 'port': $(port_of 2)}), \
('metrics', {'host': '127.0.0.1', 'port': ${METRICS##*:}})]" \
    "additionalEndpoints: the HTTP listener and the metrics port"
is "$(json "$TEST_DIR/m1.json" \
    '(d["status"], d["shard"], d["rpcd"]["weight"], d["rpcd"]["version"])')" \
    "('ALIVE', 0, 1, '$("$RPCD" -V | sed 's/rpcd //')')" \
    "status ALIVE, shard 0, rpcd's weight 1 and version"

# --- SIGTERM: the member goes before the first connection closes.
zk_client sigterm "$ZK_HOSTS" "$SERVERSET" "$RPCD_PID" \
    "127.0.0.1:$(port_of 1)" 30 >"$TEST_DIR/term.json"
ok $? "SIGTERM: the member is deleted and the connection closed"
diag "SIGTERM, seconds after it: $(cat "$TEST_DIR/term.json")"
is "$(json "$TEST_DIR/term.json" '(m["absent_at_close"], m["eof"])')" \
    "(True, True)" "SIGTERM: the member was gone when the connection closed"
wait "$RPCD_PID"
is $? 0 "SIGTERM: rpcd exits 0"
RPCD_PID=
is "$(zk_client count "$ZK_HOSTS" "$SERVERSET")" 0 "SIGTERM: no member left"
is "$(sed -n \
    's/.*info: \(register: member [^ ]* deleted\|shutting down:\).*/\1/p' \
    "$RPCD_LOG" | sed 's/member .* deleted/member deleted/')" \
    "register: member deleted
shutting down:" "SIGTERM: the log has the deletion before the drain" ||
    grep -e register: -e 'shutting down' "$RPCD_LOG" | diag_file

# --- --prefork with --advertise; SIGHUP; ZooKeeper restarted twice.
SERVERSET=/rpcd/test/prefork
rpcd_start -P 2 -l 127.0.0.1:0 -l 127.0.0.1:0,name=admin \
    --advertise rpcd.example --register "zk://$ZK_HOSTS$SERVERSET" ||
    bail_out "rpcd -P 2 did not start"
pids="$pids $RPCD_PID"
wait_workers 2
zk_client member "$ZK_HOSTS" "$SERVERSET" 30 >"$TEST_DIR/m2.json"
ok $? "--prefork: the master creates the member"
is "$(json "$TEST_DIR/m2.json" \
    '(d["serviceEndpoint"], e, d["rpcd"]["weight"])')" \
    "({'host': 'rpcd.example', 'port': $(port_of 1)}, \
[('admin', {'host': 'rpcd.example', 'port': $(port_of 2)})], 2)" \
    "--prefork: --advertise's host, the listener's name, 2 workers as weight"

kill -HUP "$RPCD_PID"
wait_for 300 log_has "new generation ready"
ok $? "SIGHUP: a new generation"
wait_workers 2
zk_client member "$ZK_HOSTS" "$SERVERSET" 5 >"$TEST_DIR/m3.json"
is "$(json "$TEST_DIR/m3.json" '(m["name"], m["owner"])')" \
    "$(json "$TEST_DIR/m2.json" '(m["name"], m["owner"])')" \
    "SIGHUP: the same member, in the same session"

zk_stop
zk_run "$ZK_PORT" "$TEST_DIR/zk-data" || bail_out "ZooKeeper did not restart"
zk_client member "$ZK_HOSTS" "$SERVERSET" 30 >"$TEST_DIR/m4.json"
is "$(json "$TEST_DIR/m4.json" '(m["name"], m["owner"])')" \
    "$(json "$TEST_DIR/m2.json" '(m["name"], m["owner"])')" \
    "ZooKeeper restarted with its data: the member lives on"

zk_stop
rm -rf "$TEST_DIR/zk-data"
zk_run "$ZK_PORT" "$TEST_DIR/zk-data" || bail_out "ZooKeeper did not restart"
zk_client member "$ZK_HOSTS" "$SERVERSET" 60 >"$TEST_DIR/m5.json"
ok $? "ZooKeeper restarted without its data: rpcd creates the member again"
old=$(json "$TEST_DIR/m2.json" 'm["owner"]')
new=$(json "$TEST_DIR/m5.json" 'm["owner"]')
ok $([ "$new" != 0 ] && [ "$new" != "$old" ]; echo $?) \
    "ZooKeeper restarted without its data: in a new session ($old, then $new)"
log_has "registering in a new session\|session expired"
ok $? "the log says the session was given up"

# --- kill -9: the member goes within the session timeout.
timeout_ms=$(sed -n 's/.*connected to ZooKeeper, .*timeout \([0-9]*\)ms/\1/p' \
    "$RPCD_LOG" | tail -n 1)
workers=$(pgrep -P "$RPCD_PID")
elapsed=$(zk_client kill9 "$ZK_HOSTS" "$SERVERSET" "$RPCD_PID" \
    $((timeout_ms / 1000 + SLACK)))
ok $? "kill -9: the member is gone within the session timeout\
 (${timeout_ms}ms, ${SLACK}s more allowed)"
diag "kill -9: the member went after ${elapsed}s" \
    "(session timeout ${timeout_ms}ms)"
kill -9 "$RPCD_PID" 2>/dev/null
wait "$RPCD_PID" 2>/dev/null
RPCD_PID=
for p in $workers; do
	kill -9 "$p" 2>/dev/null
done
wait_for 100 pids_gone $workers
ok $? "kill -9: the workers are gone"

# --- SIGTERM with ZooKeeper stopped, which cannot confirm the deletion:
# rpcd waits for its word until RPCD_ZK_LEAVE_TIMEOUT (3 s) or until its
# client finds the connection lost (from 2/3 of the session's timeout
# after the last word from ZooKeeper, which came at most 1/3 of it
# before: 1.7 s), then shuts down as ever.  Without the wait it closes
# the connection at once.
for mode in single prefork; do
	SERVERSET=/rpcd/test/paused-$mode
	if [ $mode = single ]; then
		rpcd_start --register "zk://$ZK_HOSTS$SERVERSET"
	else
		rpcd_start -P 2 --register "zk://$ZK_HOSTS$SERVERSET"
	fi || bail_out "rpcd ($mode) did not start"
	pids="$pids $RPCD_PID"
	zk_client member "$ZK_HOSTS" "$SERVERSET" 30 >/dev/null
	ok $? "$mode: registered"
	secs=$(zk_client paused "$ZK_PID" "$RPCD_PID" "$RPCD_ADDR" 30)
	ok $? "$mode, ZooKeeper stopped: SIGTERM closes the connection"
	diag "$mode, ZooKeeper stopped: closed ${secs}s after SIGTERM"
	ok $(awk -v s="$secs" -v hi=$((3 + SLACK)) \
	    'BEGIN { exit !(s >= 1.5 && s <= hi) }'; echo $?) \
	    "$mode, ZooKeeper stopped: it waited for ZooKeeper, 3 s at most"
	log_has "did not confirm the member's deletion\|cannot delete"
	ok $? "$mode, ZooKeeper stopped: the log says the deletion is not known"
	# SIGTERM came: a second one would kill rpcd while it ends its
	# session, which waits up to 3 s for an unanswering ZooKeeper.
	wait "$RPCD_PID"
	is $? 0 "$mode, ZooKeeper stopped: rpcd exits 0"
	RPCD_PID=
done

zk_stop
done_testing
