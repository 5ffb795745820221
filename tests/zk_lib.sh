# A real ZooKeeper for the tests that need one, sourced after lib.sh:
# Debian's zookeeperd (its jars in /usr/share/java) run by java on an
# ephemeral loopback port with a data directory in TEST_DIR, and kazoo
# (Debian's python3-kazoo, for Debian's own python3) to read it through
# tests/zk_client.py.  Without them the test is skipped, except in CI
# (CI=true), which installs them.  Everything started here, and every
# pid a test adds to $pids, is stopped by pid at exit.

ZK_JAR=${ZK_JAR:-/usr/share/java/zookeeper.jar}
PYTHON3=${ZK_PYTHON3:-/usr/bin/python3}
ZK_TICK=250		# ms: ZooKeeper's tick; sessions last 20 ticks at most
ZK_PID=
ZK_PORT=
ZK_HOSTS=
ZK_N=0			# ZooKeeper's runs, each logged apart
pids=

# zk_missing: what a test of ZooKeeper lacks here; nothing if nothing.
zk_missing()
{
	command -v java >/dev/null 2>&1 || printf ' java'
	[ -r "$ZK_JAR" ] || printf ' %s' "$ZK_JAR (zookeeperd)"
	[ -x "$PYTHON3" ] && "$PYTHON3" -c 'import kazoo' 2>/dev/null ||
	    printf ' kazoo (python3-kazoo)'
}

# zk_require: skip the test (bail out in CI) without ZooKeeper or kazoo.
zk_require()
{
	zk_lacks=$(zk_missing)
	[ -z "$zk_lacks" ] && return
	[ "${CI:-}" = true ] && bail_out "missing:$zk_lacks, and CI=true"
	skip_all "missing:$zk_lacks"
}

zk_cleanup()
{
	for zk_p in $ZK_PID $pids; do
		kill -9 "$zk_p" 2>/dev/null
		wait "$zk_p" 2>/dev/null
	done
	cleanup
}
trap zk_cleanup EXIT

# zk_client ARGS: tests/zk_client.py, on kazoo.
zk_client()
{
	"$PYTHON3" "$top_srcdir/tests/zk_client.py" "$@"
}

# A TCP port free on loopback now (ZooKeeper cannot take port 0).
free_port()
{
	"$PYTHON3" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# zk_run PORT DATADIR: start ZooKeeper; 0 once it answers, 1 if it
# exited first (the port was taken meanwhile) or did not answer in 60 s.
zk_run()
{
	ZK_N=$((ZK_N + 1))
	mkdir -p "$2"
	cat >"$TEST_DIR/zoo.cfg" <<EOF
tickTime=$ZK_TICK
dataDir=$2
clientPort=$1
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr
EOF
	# Its log on standard error, through slf4j-simple if there is one.
	java -Xmx128m -XX:+UseSerialGC \
	    -cp "$ZK_JAR:$(dirname "$ZK_JAR")/slf4j-simple.jar" \
	    -Dzookeeper.jmx.log4j.disable=true \
	    org.apache.zookeeper.server.ZooKeeperServerMain \
	    "$TEST_DIR/zoo.cfg" >"$TEST_DIR/zk.$ZK_N.log" 2>&1 &
	ZK_PID=$!
	ZK_PORT=$1
	ZK_HOSTS=127.0.0.1:$1
	zk_end=$(($(date +%s) + 60))
	while kill -0 "$ZK_PID" 2>/dev/null; do
		zk_client up "$ZK_HOSTS" 1 >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -lt "$zk_end" ] && continue
		diag "ZooKeeper did not answer in 60 s"
		break
	done
	diag "ZooKeeper on port $1 ended or hung:"
	tail -n 5 "$TEST_DIR/zk.$ZK_N.log" | diag_file
	kill -9 "$ZK_PID" 2>/dev/null
	wait "$ZK_PID" 2>/dev/null
	ZK_PID=
	return 1
}

# zk_start: ZooKeeper on a free port, another tried if it was taken
# meanwhile, or bail out after 5.
zk_start()
{
	for zk_try in 1 2 3 4 5; do
		rm -rf "$TEST_DIR/zk-data"
		zk_run "$(free_port)" "$TEST_DIR/zk-data" && return
	done
	bail_out "ZooKeeper did not start on 5 ports"
}

zk_stop()
{
	kill -TERM "$ZK_PID"
	wait "$ZK_PID" 2>/dev/null
	ZK_PID=
}
