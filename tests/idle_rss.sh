#!/bin/sh
# make idle-rss: what an idle connection costs rpcd in memory, measured as
# a user would: the growth of the server's resident set (VmRSS) while it
# holds N idle connections, divided by N.  redis-server is measured the
# same way when it is installed.  Not part of make check.
#
# IDLE_CONNS (default 5000) sets N.  Linux only (/proc).

set -u
top_builddir=${top_builddir:-.}
RPCD=${RPCD:-$top_builddir/server/rpcd}
N=${IDLE_CONNS:-5000}
REDIS_PORT=${REDIS_PORT:-6391}
PYTHON3=${PYTHON3:-$(command -v python3)}

[ -r /proc/self/status ] || { echo "idle-rss: skipped: no /proc"; exit 0; }
[ -n "$PYTHON3" ] || { echo "idle-rss: skipped: no python3"; exit 0; }
ulimit -n $((N + 100)) 2>/dev/null || {
	echo "idle-rss: cannot raise the descriptor limit to $((N + 100))" >&2
	exit 1
}
work=$(mktemp -d)
trap 'kill $(cat "$work/pids" 2>/dev/null) 2>/dev/null; rm -rf "$work"' EXIT

rss()
{
	awk '/^VmRSS/ {print $2}' "/proc/$1/status"
}

# measure NAME PID PORT: open N idle connections to PORT, print the
# server's RSS growth per connection once it has accepted them all.
measure()
{
	before=$(rss "$2")
	"$PYTHON3" - "$3" "$N" "$2" "$work/held" <<'PY' &
import os, socket, sys, time
port, n, pid, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = [socket.create_connection(("127.0.0.1", port)) for i in range(n)]
# Wait until the server holds them all: its descriptor count says so.
deadline = time.monotonic() + 30
while len(os.listdir("/proc/%s/fd" % pid)) < n and time.monotonic() < deadline:
    time.sleep(0.1)
open(flag, "w").close()
time.sleep(3600)
PY
	holder=$!
	echo "$holder" >>"$work/pids"
	while [ ! -e "$work/held" ]; do
		sleep 0.1
	done
	after=$(rss "$2")
	kill "$holder"
	wait "$holder" 2>/dev/null
	rm -f "$work/held"
	awk -v n="$N" -v b="$before" -v a="$after" -v name="$1" 'BEGIN {
		printf "%s: %d idle connections: RSS %d kB -> %d kB, %.0f bytes each\n",
		    name, n, b, a, (a - b) * 1024 / n }'
}

"$RPCD" -l 127.0.0.1:0 --max-conns $((N + 10)) >/dev/null 2>"$work/rpcd.log" &
pid=$!
echo "$pid" >>"$work/pids"
while ! grep -q 'listening on' "$work/rpcd.log"; do
	sleep 0.1
done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$work/rpcd.log")
# The libtool wrapper execs the real binary under the same pid.
measure rpcd "$pid" "$port"

if command -v redis-server >/dev/null 2>&1; then
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
	    --maxclients $((N + 10)) >/dev/null 2>&1 &
	rpid=$!
	echo "$rpid" >>"$work/pids"
	"$PYTHON3" -c 'import socket, sys, time
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()
        break
    except OSError:
        time.sleep(0.1)' "$REDIS_PORT"
	measure redis-server "$rpid" "$REDIS_PORT"
else
	echo "redis-server: not installed, not measured"
fi
