#!/bin/sh
# make bench-module: what answering through a module costs, measured with
# rpcctl bench on one rpcd that loads the test module and the exec module.
# Not part of make check.
#
# At each pipeline, ROUNDS rounds alternate the built-in ping and the test
# module's echo (a synchronous reply of the params), both with the same
# 16-byte params; the medians are printed with the echo/ping ratio.  Then
# the round trip of one connection at pipeline 1 for a call answered later
# from the loop (later 0), one offloaded to the thread pool (work 0) and
# an exec call of /bin/true.

set -u
top_builddir=${top_builddir:-.}
RPCD=${RPCD:-$top_builddir/server/rpcd}
RPCCTL=${RPCCTL:-$top_builddir/client/rpcctl}
TESTMOD=${TESTMOD:-$top_builddir/tests/.libs/testmod.so}
EXECMOD=${EXECMOD:-$top_builddir/modules/.libs/exec.so}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-50}
PIPELINES=${PIPELINES:-"1 16"}
PARAMS='"0123456789abcdef"'

for f in "$TESTMOD" "$EXECMOD"; do
	[ -f "$f" ] || {
		echo "bench-module: no $f" >&2
		exit 1
	}
done
. "${top_srcdir:-.}/tests/bench_lib.sh"
"$RPCD" -l 127.0.0.1:0 -m "$TESTMOD" -m "$EXECMOD true=/bin/true" \
    >/dev/null 2>"$work/rpcd.log" &
echo $! >>"$work/pids"
port=$(listening_port "$work/rpcd.log")

# bench METHOD PARAMS CONNS PIPELINE: the JSON summary of one run.
bench()
{
	"$RPCCTL" -p "$port" --json bench --method "$1" --params "$2" \
	    -c "$3" -P "$4" -d "$SECONDS_PER_RUN" | tee -a "$work/raw"
}
rps()
{
	sed -n 's/.*"rps": \([0-9.]*\).*/\1/p'
}

ping_rps()
{
	bench ping "$PARAMS" "$CONNS" "$1" | rps
}
echo_rps()
{
	bench echo "$PARAMS" "$CONNS" "$1" | rps
}

for p in $PIPELINES; do
	set -- $(alternate echo_rps ping_rps "$p")
	echo "conns=$CONNS pipeline=$p ping_rps=$2 echo_rps=$1 ratio=$3" \
	    "round_ratio=$4"
done

# One connection, one call at a time: the round trip of each way.
for call in "ping $PARAMS" "echo $PARAMS" "later 0" "work 0" "true null"; do
	set -- $call
	bench "$1" "$2" 1 1 | sed -n \
	    "s/.*\"rps\": \([0-9.]*\).*\"p50_ms\": \([0-9.]*\).*/$1: rps=\1 p50_ms=\2/p"
done
echo "raw runs:"
cat "$work/raw"
