#!/bin/sh
# make bench: rpcd's ping throughput against redis-server's PING, measured
# with the neutral load generator in ../shared/bench (or $LOADGEN), the same
# client on the same machine in the same run.  Not part of make check.
#
# Each configuration runs ROUNDS rounds, the servers taking turns to go
# first; the medians are printed with their rpcd/redis ratio, and with the
# median of the rounds' own ratios (round_ratio), which the machine's
# drift over the run moves less.  Set PREFORK to a list of
# rpcd worker counts ("0 2 auto") to compare the process models, and
# PAYLOADS to a list of params sizes in bytes (make bench-payload: 4 KiB
# and 64 KiB) to compare ping with that many bytes against redis's ECHO of
# the same; the default is loadgen's 16-byte ping against redis's PING.
# Beside requests per second, each line gives the servers' CPU time per
# request (rpcd_cpu_us, redis_cpu_us: user and system over the measured
# run, workers included), which a shared machine's swings move much less.
# BENCH=client (make bench-client) compares rpcctl bench with the load
# generator instead, as described below.

set -u
top_builddir=${top_builddir:-.}
RPCD=${RPCD:-$top_builddir/server/rpcd}
# The load generator lives in shared/bench beside the checkout, built on
# first use; LOADGEN= names another.
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-50}
PIPELINES=${PIPELINES:-"1 16"}
PREFORK=${PREFORK:-0}
PAYLOADS=${PAYLOADS:-}
REDIS_PORT=${REDIS_PORT:-6390}

. "${top_srcdir:-.}/tests/bench_lib.sh"
loadgen_find bench

# Start rpcd with the given --prefork value; set port and rpcd_pid.
start_rpcd()
{
	"$RPCD" -l 127.0.0.1:0 --prefork "$1" >/dev/null 2>"$work/rpcd.$1.log" &
	rpcd_pid=$!
	echo "$rpcd_pid" >>"$work/pids"
	while ! grep -q 'listening on' "$work/rpcd.$1.log"; do
		sleep 0.1
	done
	port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' \
	    "$work/rpcd.$1.log" | head -n 1)
}

# run PROTO PORT PID PIPELINE [PAYLOAD]: print rps of one run, after a
# second of warm-up, and add the server's CPU time per request in
# microseconds, over the measured run, to $work/PROTO.cpu.  CPU per
# request is much steadier than throughput on a shared machine.
run()
{
	"$LOADGEN" --proto "$1" -p "$2" -c "$CONNS" -P "$4" \
	    ${5:+--payload "$5"} -d 1 --warmup 0 >/dev/null
	t0=$(cpu_ticks "$3")
	"$LOADGEN" --proto "$1" -p "$2" -c "$CONNS" -P "$4" \
	    ${5:+--payload "$5"} -d "$SECONDS_PER_RUN" --warmup 0 \
	    >"$work/out"
	t1=$(cpu_ticks "$3")
	cat "$work/out" >>"$work/raw"
	rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' "$work/out")
	awk -v t=$((t1 - t0)) -v hz="$ticks" -v r="$rps" \
	    -v d="$SECONDS_PER_RUN" \
	    'BEGIN { printf "%.3f\n", t / hz * 1e6 / (r * d) }' >>"$work/$1.cpu"
	echo "$rps"
}
ticks=$(getconf CLK_TCK)

# rpcd_run, redis_run PIPELINE [PAYLOAD]: one run against the rpcd on
# $port, or the redis-server on $redis.
rpcd_run()
{
	run rpc "$port" "$rpcd_pid" "$@"
}

redis_run()
{
	run redis "$redis" "$redis_pid" "$@"
}

# BENCH=client (make bench-client): rpcctl bench against loadgen on one
# rpcd.  Each round runs both at once, sharing the machine's noise, so the
# client that costs less gets the larger share; then one after the other,
# in alternating order.  Neither has a warmup.
if [ "${BENCH:-}" = client ]; then
	RPCCTL=${RPCCTL:-$top_builddir/client/rpcctl}
	loadgen_rps()
	{
		"$LOADGEN" -p "$1" -c "$CONNS" -P "$2" -d "$SECONDS_PER_RUN" \
		    --warmup 0 | tee -a "$work/raw" |
		    sed -n 's/.* rps=\([0-9.]*\).*/\1/p'
	}
	rpcctl_rps()
	{
		"$RPCCTL" -p "$1" --json bench -c "$CONNS" -P "$2" \
		    -d "$SECONDS_PER_RUN" | tee -a "$work/raw" |
		    sed -n 's/.*"rps": \([0-9.]*\).*/\1/p'
	}
	for n in $PREFORK; do
		start_rpcd "$n"
		for p in $PIPELINES; do
			for f in lg.both ctl.both lg.turn ctl.turn; do
				: >"$work/$f"
			done
			i=0
			while [ "$i" -lt "$ROUNDS" ]; do
				loadgen_rps "$port" "$p" >"$work/lg.now" &
				lg=$!
				rpcctl_rps "$port" "$p" >>"$work/ctl.both"
				wait "$lg"
				cat "$work/lg.now" >>"$work/lg.both"
				if [ $((i % 2)) -eq 0 ]; then
					loadgen_rps "$port" "$p" >>"$work/lg.turn"
					rpcctl_rps "$port" "$p" >>"$work/ctl.turn"
				else
					rpcctl_rps "$port" "$p" >>"$work/ctl.turn"
					loadgen_rps "$port" "$p" >>"$work/lg.turn"
				fi
				i=$((i + 1))
			done
			for mode in both turn; do
				l=$(median <"$work/lg.$mode")
				c=$(median <"$work/ctl.$mode")
				echo "prefork=$n conns=$CONNS pipeline=$p" \
				    "$mode: loadgen_rps=$l rpcctl_rps=$c" \
				    "ratio=$(ratio "$c" "$l")"
			done
		done
	done
	echo "raw runs:"
	cat "$work/raw"
	exit 0
fi

redis=
if command -v redis-server >/dev/null 2>&1; then
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
	redis_pid=$!
	echo "$redis_pid" >>"$work/pids"
	while ! grep -q 'Ready to accept' "$work/redis.log"; do sleep 0.1; done
	redis=$REDIS_PORT
else
	echo "bench: redis-server not installed; rpcd alone" >&2
fi

for n in $PREFORK; do
	start_rpcd "$n"
	for size in ${PAYLOADS:-default}; do
		[ "$size" = default ] && size=
		for p in $PIPELINES; do
			line="prefork=$n conns=$CONNS pipeline=$p"
			line="$line${size:+ payload=$size}"
			: >"$work/rpc.cpu"
			: >"$work/redis.cpu"
			if [ -n "$redis" ]; then
				set -- $(alternate rpcd_run redis_run "$p" \
				    "$size")
				line="$line rpcd_rps=$1 redis_rps=$2 ratio=$3"
				line="$line round_ratio=$4"
			else
				: >"$work/rpcd.rps"
				i=0
				while [ "$i" -lt "$ROUNDS" ]; do
					rpcd_run "$p" "$size" >>"$work/rpcd.rps"
					i=$((i + 1))
				done
				line="$line rpcd_rps=$(median <"$work/rpcd.rps")"
			fi
			c=$(median <"$work/rpc.cpu")
			line="$line rpcd_cpu_us=$c"
			if [ -n "$redis" ]; then
				r=$(median <"$work/redis.cpu")
				line="$line redis_cpu_us=$r"
				line="$line cpu_ratio=$(ratio "$c" "$r")"
			fi
			echo "$line"
		done
	done
done
echo "raw runs:"
cat "$work/raw"
