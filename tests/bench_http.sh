#!/bin/sh
# make bench-http: rpcd's HTTP front end (a listener "-l ADDR,http")
# against nginx answering the same JSON-RPC ping with a fixed string, both
# under wrk: THREADS (1) thread, CONNS (50) keep-alive connections, each
# request a POST of {"jsonrpc":"2.0","method":"ping","id":1}, runs of
# SECONDS_PER_RUN (5) after a second of warm-up.  One rpcd and one nginx
# (one worker) serve all ROUNDS (3) rounds, taking turns to go first.
# Each round prints both servers' requests per second and CPU time per
# request (user and system over the measured run, of rpcd, and of nginx's
# master and worker, in microseconds); the end, the medians, the rpcd/nginx
# ratios of both and the median of the rounds' own ratios.  nginx parses
# no JSON and calls nothing: the ratio is what rpcd's parsing, dispatch
# and encoding cost beside the cheapest possible answer.  Without wrk,
# nginx or python3 it says so and exits 0.  Not part of make check.

set -u
top_builddir=${top_builddir:-.}
RPCD=${RPCD:-$top_builddir/server/rpcd}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-50}
THREADS=${THREADS:-1}
WRK=${WRK:-wrk}
# Debian installs nginx in /usr/sbin, not in a user's PATH.
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
PYTHON3=${PYTHON3:-python3}
. "${top_srcdir:-.}/tests/bench_lib.sh"

for tool in "$WRK" "$NGINX" "$PYTHON3"; do
	command -v "$tool" >/dev/null 2>&1 && continue
	echo "bench-http: skipped: $tool not found (Debian: apt-get install" \
	    "wrk nginx-light python3; or set WRK=, NGINX=, PYTHON3=)"
	exit 0
done

body='{"jsonrpc":"2.0","method":"ping","id":1}'
cat >"$work/ping.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
EOF

# One worker, no log per request, no limit on the requests of a
# connection (rpcd has none; nginx's 1000 would make wrk reconnect), every
# path in the scratch directory.
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
events {
	worker_connections $((CONNS + 64));
}
http {
	access_log off;
	keepalive_requests 1000000000;
	client_body_temp_path $work/body;
	proxy_temp_path $work/proxy;
	fastcgi_temp_path $work/fastcgi;
	uwsgi_temp_path $work/uwsgi;
	scgi_temp_path $work/scgi;
	server {
		include $work/listen.conf;
		location / {
			default_type application/json;
			return 200 '{"jsonrpc":"2.0","result":"pong","id":1}';
		}
	}
}
EOF

# nginx cannot listen on port 0.  python3 binds 127.0.0.1:0, writes the
# port it got into listen.conf and execs nginx with the listening socket,
# named in the NGINX environment variable as nginx's own binary upgrade
# hands its sockets down: nginx takes the socket whose address its
# configuration names, so no other process can take the port between the
# choice and the listen, and there is nothing to retry.
"$PYTHON3" - "$work/listen.conf" "$NGINX" -e "$work/nginx.err" \
    -p "$work" -c "$work/nginx.conf" 2>>"$work/nginx.err" <<'EOF' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(511)
s.set_inheritable(True)
with open(sys.argv[1], "w") as f:
    f.write("listen 127.0.0.1:%d;\n" % s.getsockname()[1])
os.environ["NGINX"] = "%d;" % s.fileno()
os.execv(sys.argv[2], sys.argv[2:])
EOF
launcher=$!
echo "$launcher" >>"$work/pids"
# nginx writes its pid file once it has the socket, before it starts the
# worker; the socket already listens, so the first connections wait in its
# backlog for the worker.  The pid is nginx's own: python3 may be a
# wrapper (pyenv's shim) that does not exec the interpreter.
while [ ! -s "$work/nginx.pid" ]; do
	kill -0 "$launcher" 2>/dev/null || {
		echo "bench-http: nginx did not start:" >&2
		cat "$work/nginx.err" >&2
		exit 1
	}
	sleep 0.1
done
nginx_pid=$(cat "$work/nginx.pid")
echo "$nginx_pid" >>"$work/pids"
nginx_port=$(sed 's/.*:\([0-9]*\);/\1/' "$work/listen.conf")

"$RPCD" -l 127.0.0.1:0,http >/dev/null 2>"$work/rpcd.log" &
rpcd_pid=$!
echo "$rpcd_pid" >>"$work/pids"
rpcd_port=$(listening_port "$work/rpcd.log" "$rpcd_pid")

# probe NAME PORT: true if the server answers the ping with a JSON-RPC 2.0
# result for id 1; else say what it answered.
probe()
{
	"$PYTHON3" - "http://127.0.0.1:$2/" "$body" 2>&1 <<'EOF' && return 0
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
    headers={"Content-Type": "application/json"})
r = json.load(urllib.request.urlopen(req, timeout=10))
if r.get("jsonrpc") != "2.0" or "result" not in r or r.get("id") != 1:
    sys.exit("not a JSON-RPC 2.0 result for id 1: %s" % json.dumps(r))
EOF
	echo "bench-http: $1 on port $2 does not answer the ping" >&2
	return 1
}

probe nginx "$nginx_port" || exit 1
status=0
if [ -z "$rpcd_port" ] || ! probe rpcd "$rpcd_port"; then
	echo "bench-http: rpcd does not serve HTTP on -l 127.0.0.1:0,http;" \
	    "nginx alone. rpcd's log:" >&2
	cat "$work/rpcd.log" >&2
	rpcd_port=
	status=1
fi

ticks=$(getconf CLK_TCK)

# run NAME PORT PID: print the requests per second of one run after a
# second of warm-up, and add the server's CPU time per request in
# microseconds over the measured run to $work/NAME.cpu.  A run with an
# answer other than 2xx measures nothing: exit, leaving $work/failed for
# the caller, since alternate() runs in a subshell.
run()
{
	"$WRK" -t "$THREADS" -c "$CONNS" -d 1s -s "$work/ping.lua" \
	    "http://127.0.0.1:$2/" >/dev/null
	t0=$(cpu_ticks "$3")
	"$WRK" -t "$THREADS" -c "$CONNS" -d "${SECONDS_PER_RUN}s" \
	    -s "$work/ping.lua" "http://127.0.0.1:$2/" >"$work/out"
	t1=$(cpu_ticks "$3")
	sed "s/^/$1: /" "$work/out" >>"$work/raw"
	if grep -q 'Non-2xx' "$work/out"; then
		echo "bench-http: $1 answered errors:" >&2
		cat "$work/out" >&2
		: >"$work/failed"
		exit 1
	fi
	grep 'Socket errors' "$work/out" | sed "s/^ */bench-http: $1: /" >&2
	n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$work/out")
	awk -v t=$((t1 - t0)) -v hz="$ticks" -v n="$n" \
	    'BEGIN { printf "%.3f\n", t / hz * 1e6 / n }' >>"$work/$1.cpu"
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$work/out"
}

# rpcd_run, nginx_run: one run against each; alternate() keeps the
# requests per second of each round in $work/rpcd_run and $work/nginx_run.
rpcd_run()
{
	run rpcd "$rpcd_port" "$rpcd_pid"
}

nginx_run()
{
	run nginx "$nginx_port" "$nginx_pid"
}

echo "bench-http: wrk -t $THREADS -c $CONNS -d ${SECONDS_PER_RUN}s," \
    "POST $body, $ROUNDS rounds"
: >"$work/rpcd.cpu"
: >"$work/nginx.cpu"
if [ -n "$rpcd_port" ]; then
	# shellcheck disable=SC2046
	set -- $(alternate rpcd_run nginx_run)
	[ -e "$work/failed" ] && exit 1
	paste "$work/rpcd_run" "$work/nginx_run" "$work/rpcd.cpu" \
	    "$work/nginx.cpu" | while read -r rr nr rc nc; do
		echo "rpcd_rps=$rr nginx_rps=$nr rpcd_cpu_us=$rc" \
		    "nginx_cpu_us=$nc"
	done | awk '{ print "round " NR ": " $0 }'
	c=$(median <"$work/rpcd.cpu")
	n=$(median <"$work/nginx.cpu")
	echo "median: rpcd_rps=$1 nginx_rps=$2 ratio=$3 round_ratio=$4" \
	    "rpcd_cpu_us=$c nginx_cpu_us=$n cpu_ratio=$(ratio "$c" "$n")"
else
	: >"$work/nginx_run"
	i=1
	while [ "$i" -le "$ROUNDS" ]; do
		r=$(nginx_run)
		[ -e "$work/failed" ] && exit 1
		echo "$r" >>"$work/nginx_run"
		echo "round $i: nginx_rps=$r" \
		    "nginx_cpu_us=$(tail -n 1 "$work/nginx.cpu")"
		i=$((i + 1))
	done
	echo "median: nginx_rps=$(median <"$work/nginx_run")" \
	    "nginx_cpu_us=$(median <"$work/nginx.cpu")"
fi
echo "raw runs:"
cat "$work/raw"
exit "$status"
