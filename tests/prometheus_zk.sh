#!/bin/sh
# contrib/prometheus/rpcd-serverset.yml as it is shipped, but for its
# ZooKeeper, path and scrape interval: a real Prometheus (Debian's
# prometheus) discovers 3 rpcd registered with --register in a real
# ZooKeeper and scrapes each one's --metrics-listen endpoint, as its HTTP
# API (/api/v1/targets, /api/v1/query) tells; after a SIGTERM of one, its
# target is dropped while the other 2 stay up.  promtool checks the
# shipped file.  Skipped without prometheus, ZooKeeper, kazoo or a build
# with ZooKeeper, except in CI (CI=true).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

PROMETHEUS=${PROMETHEUS:-prometheus}
PROMTOOL=${PROMTOOL:-promtool}
CONFIG=$top_srcdir/contrib/prometheus/rpcd-serverset.yml
SERVERSET=/rpcd/test/prometheus

if ! command -v "$PROMETHEUS" >/dev/null 2>&1 ||
    ! command -v "$PROMTOOL" >/dev/null 2>&1; then
	[ "${CI:-}" = true ] && bail_out "prometheus not installed, and CI=true"
	skip_all "prometheus not installed (Debian: prometheus)"
fi
if ! "$RPCD" --register zk://127.0.0.1:1/probe -n >/dev/null 2>&1; then
	[ "${CI:-}" = true ] &&
	    bail_out "rpcd built without ZooKeeper, and CI=true"
	skip_all "rpcd built without ZooKeeper"
fi
. "$top_srcdir/tests/zk_lib.sh"
zk_require

"$PROMTOOL" check config "$CONFIG" >"$TEST_DIR/check" 2>&1
ok $? "promtool check config: the shipped file" || diag_file <"$TEST_DIR/check"

zk_start

# The shipped file with this ZooKeeper and path, and a scrape a second.
sed -e "s|^\(  scrape_interval:\).*|\1 1s|" \
    -e "s|^\(      - servers:\).*|\1 [$ZK_HOSTS]|" \
    -e "s|^\(        paths:\).*|\1 [$SERVERSET]|" \
    "$CONFIG" >"$TEST_DIR/prometheus.yml"
diff "$CONFIG" "$TEST_DIR/prometheus.yml" | grep -c '^>' |
    grep -qx 3
ok $? "the shipped file, its interval, servers and paths replaced" ||
    diff "$CONFIG" "$TEST_DIR/prometheus.yml" | diag_file
"$PROMTOOL" check config "$TEST_DIR/prometheus.yml" >"$TEST_DIR/check" 2>&1
ok $? "promtool check config: the file as the test runs it" ||
    diag_file <"$TEST_DIR/check"

# rpcd_reg N: rpcd number N registered, with its metrics on a port of its
# own; set PIDn and METRICSn (its metrics' host:port).
rpcd_reg()
{
	log=$TEST_DIR/rpcd$1.log
	"$RPCD" -l 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
	    --register "zk://$ZK_HOSTS$SERVERSET" 2>"$log" &
	eval "PID$1=$!"
	pids="$pids $!"
	wait_for 100 grep -q 'serving metrics on ' "$log" || {
		diag "rpcd $1 did not start:"
		diag_file <"$log"
		return 1
	}
	eval "METRICS$1=$(sed -n \
	    's|.*serving metrics on http://\([^/]*\)/metrics$|\1|p' "$log")"
}

# prom PATH EXPR [QUERY]: a Python expression over d, the "data" of
# Prometheus's answer to GET PATH (with QUERY as its query parameter), or
# "failed: why".
prom()
{
	"$PYTHON3" - "$PROM" "$@" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = "http://%s%s" % (sys.argv[1], sys.argv[2])
if len(sys.argv) > 4:
    url += "?query=" + urllib.parse.quote(sys.argv[4])
try:
    body = urllib.request.urlopen(url, timeout=5).read()
    d = json.loads(body)["data"]
except (OSError, ValueError, KeyError) as e:
    print("failed: %s" % e)
    sys.exit(0)
print(eval(sys.argv[3]))
EOF
}

# The active targets, "instance health" sorted, one a line.
targets()
{
	prom /api/v1/targets?state=active '"\n".join(sorted(
	    "%s %s" % (t["labels"]["instance"], t["health"])
	    for t in d["activeTargets"]))'
}

# targets_are "INSTANCE HEALTH"...: true once the active targets are these.
targets_are()
{
	[ "$(targets)" = "$(printf '%s\n' "$@" | sort)" ]
}

# query EXPR: the result of an instant query, "instance value" sorted, one
# a line.
query()
{
	prom /api/v1/query '"\n".join(sorted(
	    "%s %s" % (r["metric"].get("instance"), r["value"][1])
	    for r in d["result"]))' "$1"
}

query_is()
{
	q=$1
	shift
	[ "$(query "$q")" = "$(printf '%s\n' "$@" | sort)" ]
}

# prom_up: true once Prometheus says it is ready (HTTP 200).
prom_up()
{
	"$PYTHON3" -c 'import sys, urllib.request
urllib.request.urlopen("http://%s/-/ready" % sys.argv[1], timeout=5)' \
	    "$PROM" 2>/dev/null
}

for n in 1 2 3; do
	rpcd_reg $n || bail_out "rpcd $n did not start"
done

# Prometheus on a free port, another tried if it was taken meanwhile.
for try in 1 2 3 4 5; do
	PROM=127.0.0.1:$(free_port)
	rm -rf "$TEST_DIR/tsdb"
	"$PROMETHEUS" --config.file="$TEST_DIR/prometheus.yml" \
	    --storage.tsdb.path="$TEST_DIR/tsdb" \
	    --web.listen-address="$PROM" >"$TEST_DIR/prometheus.log" 2>&1 &
	PROM_PID=$!
	pids="$pids $PROM_PID"
	end=$(($(date +%s) + 60))
	until prom_up; do
		kill -0 "$PROM_PID" 2>/dev/null || break
		[ "$(date +%s)" -lt "$end" ] || break
		sleep 0.1
	done
	prom_up && break
	diag "Prometheus on $PROM ended or hung:"
	tail -n 5 "$TEST_DIR/prometheus.log" | diag_file
	kill -9 "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
	PROM_PID=
done
[ -n "$PROM_PID" ] || bail_out "Prometheus did not start on 5 ports"
diag "Prometheus $("$PROMETHEUS" --version 2>&1 | head -n 1) on $PROM"

# Discovery sends its news on at most every 5 s; the scrapes follow.
wait_for 300 targets_are "$METRICS1 up" "$METRICS2 up" "$METRICS3 up"
ok $? "the 3 rpcd are active targets, at their metrics endpoints, up" ||
    targets | diag_file
wait_for 300 query_is 'up{job="rpcd"}' "$METRICS1 1" "$METRICS2 1" \
    "$METRICS3 1"
ok $? "up{job=\"rpcd\"} is 1 for each" || query 'up{job="rpcd"}' | diag_file
wait_for 300 query_is rpcd_registry_up "$METRICS1 1" "$METRICS2 1" \
    "$METRICS3 1"
ok $? "rpcd_registry_up, scraped from each, is 1" ||
    query rpcd_registry_up | diag_file

# SIGTERM: rpcd deletes its member, and Prometheus drops its target.
kill -TERM "$PID2"
wait "$PID2"
is $? 0 "SIGTERM: rpcd 2 exits 0"
wait_for 300 targets_are "$METRICS1 up" "$METRICS3 up"
ok $? "SIGTERM: its target is dropped, the other 2 are up" ||
    targets | diag_file
wait_for 300 query_is 'up{job="rpcd"}' "$METRICS1 1" "$METRICS3 1"
ok $? "SIGTERM: up{job=\"rpcd\"} is 1 for the other 2, and gone for it" ||
    query 'up{job="rpcd"}' | diag_file

zk_stop
done_testing
