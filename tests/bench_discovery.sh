#!/bin/sh
# make bench-discovery: three rpcd hosts registered in ZooKeeper, loaded
# by the same client, rpcctl bench, with the same load (CONNS (48)
# connections, PIPELINE (1) requests in flight on each, SECONDS_PER_RUN
# (5) a run), two ways taking turns for ROUNDS (3) rounds:
# - discovery: -S zk://.../PATH, each connection straight to a member
#   (bench spreads them over the three);
# - haproxy: -S HAPROXY, one HAProxy (mode tcp, roundrobin over the same
#   three, no checks) in between.
# Each round prints both ways' requests per second and CPU time per
# request in microseconds: of the servers' side (the three rpcds and
# HAProxy) and of the client.  The end, the medians and the
# discovery/haproxy ratios.  ZooKeeper (Debian's zookeeperd, with java
# and python3-kazoo to see it up) and haproxy are needed: without them
# it says so and exits 0.  Not part of make check.

set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
RPCD=${RPCD:-$top_builddir/server/rpcd}
RPCCTL=${RPCCTL:-$top_builddir/client/rpcctl}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-48}
PIPELINE=${PIPELINE:-1}
HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
. "$top_srcdir/tests/bench_lib.sh"

# ZooKeeper comes from tests/zk_lib.sh, which speaks TAP's words.
TEST_DIR=$work
bail_out() { echo "bench-discovery: $*" >&2; exit 1; }
skip_all() { echo "bench-discovery: skipped: $*"; exit 0; }
diag() { echo "bench-discovery: $*" >&2; }
diag_file() { sed 's/^/bench-discovery: /' >&2; }
cleanup() { kill $(cat "$work/pids" 2>/dev/null) 2>/dev/null; rm -rf "$work"; }
. "$top_srcdir/tests/zk_lib.sh"
zk_require
"$RPCD" --register zk://127.0.0.1:1/probe -n 2>&1 | grep -q without &&
    skip_all "rpcd was built without ZooKeeper (configure --with-zookeeper)"
[ -x "$HAPROXY" ] || skip_all "$HAPROXY not found (Debian: apt-get install" \
    "haproxy; or set HAPROXY=)"

zk_start
SET=zk://$ZK_HOSTS/rpcd/bench
servers=
for h in 1 2 3; do
	"$RPCD" -l 127.0.0.1:0 --register "$SET" 2>"$work/rpcd$h.log" &
	echo $! >>"$work/pids"
	pids="$pids $!"
	port=$(listening_port "$work/rpcd$h.log" $!) ||
	    bail_out "rpcd $h did not start: $(cat "$work/rpcd$h.log")"
	servers="$servers
	server rpcd$h 127.0.0.1:$port"
done
until [ "$("$RPCCTL" members "$SET" | wc -l)" = 3 ]; do
	sleep 0.1
done

# HAProxy takes a listening socket bound to port 0 by python3, as fd@N:
# no port to choose and lose to another process.
cat >"$work/haproxy.cfg" <<EOF
global
	maxconn 4096
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend rpc
	bind fd@\${FD}
	default_backend rpcds
backend rpcds
	balance roundrobin$servers
EOF
"$PYTHON3" - "$work/haproxy.port" "$HAPROXY" -db -f "$work/haproxy.cfg" \
    2>"$work/haproxy.log" <<'EOF' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1024)
s.set_inheritable(True)
os.environ["FD"] = str(s.fileno())
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
os.execv(sys.argv[2], sys.argv[2:])
EOF
haproxy_pid=$!
echo "$haproxy_pid" >>"$work/pids"
until [ -s "$work/haproxy.port" ]; do sleep 0.1; done
HAP=127.0.0.1:$(cat "$work/haproxy.port")
"$RPCCTL" -S "$HAP" ping >/dev/null || {
	"$RPCCTL" -S "$HAP" ping
	cat "$work/haproxy.log" >&2
	bail_out "HAProxy does not pass a ping"
}

ticks=$(getconf CLK_TCK)
server_pids="$pids $haproxy_pid"

# run NAME SERVER: one run of rpcctl bench at SERVER; print its requests
# per second, add the servers' CPU per request (µs) to $work/NAME.cpu and
# the client's to $work/NAME.client.
run()
{
	t0=0
	for p in $server_pids; do t0=$((t0 + $(cpu_ticks "$p"))); done
	"$PYTHON3" -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.6f" % (u.ru_utime + u.ru_stime), file=sys.stderr)
sys.exit(r.returncode)' "$work/out" "$RPCCTL" -S "$2" --json bench \
	    -c "$CONNS" -P "$PIPELINE" -d "$SECONDS_PER_RUN" \
	    2>"$work/client.cpu" || bail_out "$1: rpcctl bench failed"
	t1=0
	for p in $server_pids; do t1=$((t1 + $(cpu_ticks "$p"))); done
	sed "s/^/$1: /" "$work/out" >>"$work/raw"
	n=$(sed -n 's/.*"requests": \([0-9]*\).*/\1/p' "$work/out")
	awk -v t=$((t1 - t0)) -v hz="$ticks" -v n="$n" \
	    'BEGIN { printf "%.3f\n", t / hz * 1e6 / n }' >>"$work/$1.cpu"
	awk -v c="$(cat "$work/client.cpu")" -v n="$n" \
	    'BEGIN { printf "%.3f\n", c * 1e6 / n }' >>"$work/$1.client"
	sed -n 's/.*"rps": \([0-9.]*\).*/\1/p' "$work/out"
}

discovery() { run discovery "$SET"; }
haproxy() { run haproxy "$HAP"; }

echo "bench-discovery: rpcctl bench -c $CONNS -P $PIPELINE" \
    "-d $SECONDS_PER_RUN, 3 rpcd hosts, $ROUNDS rounds"
: >"$work/discovery.cpu"
: >"$work/haproxy.cpu"
: >"$work/discovery.client"
: >"$work/haproxy.client"
# shellcheck disable=SC2046
set -- $(alternate discovery haproxy)
paste "$work/discovery" "$work/haproxy" "$work/discovery.cpu" \
    "$work/haproxy.cpu" "$work/discovery.client" "$work/haproxy.client" |
    while read -r dr hr dc hc dl hl; do
	echo "discovery_rps=$dr haproxy_rps=$hr discovery_servers_cpu_us=$dc" \
	    "haproxy_servers_cpu_us=$hc discovery_client_cpu_us=$dl" \
	    "haproxy_client_cpu_us=$hl"
done | awk '{ print "round " NR ": " $0 }'
dc=$(median <"$work/discovery.cpu")
hc=$(median <"$work/haproxy.cpu")
echo "median: discovery_rps=$1 haproxy_rps=$2 ratio=$3 round_ratio=$4" \
    "discovery_servers_cpu_us=$dc haproxy_servers_cpu_us=$hc" \
    "cpu_ratio=$(ratio "$dc" "$hc")"
