#!/bin/sh
# make bench-access: what access rules cost.  The same rpcd twice, with no
# rules and with 50 (49 that do not match the load generator's
# connections: other networks, users, certificates, listeners; then one
# that allows ping), in alternated rounds, under the load generator of
# ../shared/bench (or $LOADGEN).  Each round prints the server's CPU time
# per request (user and system over the measured run, in microseconds)
# and the requests per second of both; the end, the medians and the
# speed with rules as a fraction of the speed without (CPU per request
# without / with).  Not part of make check.

set -u
top_builddir=${top_builddir:-.}
RPCD=${RPCD:-$top_builddir/server/rpcd}
ROUNDS=${ROUNDS:-6}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
CONNS=${CONNS:-50}
PIPELINE=${PIPELINE:-16}
. "${top_srcdir:-.}/tests/bench_lib.sh"
loadgen_find bench-access

# 49 rules that no loopback TCP connection without a certificate matches,
# then the one that allows ping: the worst case of a list walked once per
# connection, and a list of one pattern per call.
{
	i=1
	while [ "$i" -le 49 ]; do
		case $((i % 5)) in
		0) echo "allow * from=10.$i.0.0/16" ;;
		1) echo "allow ping,stats user=$i" ;;
		2) echo "allow exec.*,ping cn=ops$i.example.com" ;;
		3) echo "deny ping dns=*.host$i.example" ;;
		4) echo "allow * from=2001:db8:$i::/48" ;;
		esac
		i=$((i + 1))
	done
	echo "allow ping from=127.0.0.0/8"
} >"$work/rules.conf"
: >"$work/none.conf"

ticks=$(getconf CLK_TCK)

# run CONF: start rpcd with the file CONF, warm up a second, measure; print
# "CPU_US_PER_REQUEST RPS".
run()
{
	"$RPCD" -l 127.0.0.1:0 -f "$1" 2>"$work/log" &
	pid=$!
	echo "$pid" >>"$work/pids"
	port=$(listening_port "$work/log")
	"$LOADGEN" -p "$port" -c "$CONNS" -P "$PIPELINE" -d 1 --warmup 0 \
	    >/dev/null 2>&1
	t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	out=$("$LOADGEN" -p "$port" -c "$CONNS" -P "$PIPELINE" \
	    -d "$SECONDS_PER_RUN" --warmup 0)
	t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	kill "$pid"
	wait "$pid"
	pid=
	rps=$(echo "$out" | sed -n 's/.* rps=\([0-9.]*\).*/\1/p')
	awk -v t=$((t1 - t0)) -v hz="$ticks" -v r="$rps" \
	    -v d="$SECONDS_PER_RUN" \
	    'BEGIN { printf "%.3f %d\n", t / hz * 1e6 / (r * d), r }'
}

echo "bench-access: $CONNS connections, pipeline $PIPELINE, $ROUNDS rounds" \
    "of ${SECONDS_PER_RUN}s; rules: $(wc -l <"$work/rules.conf")"
i=1
while [ "$i" -le "$ROUNDS" ]; do
	if [ $((i % 2)) = 0 ]; then
		none=$(run "$work/none.conf")
		rules=$(run "$work/rules.conf")
	else
		rules=$(run "$work/rules.conf")
		none=$(run "$work/none.conf")
	fi
	echo "round $i: no rules ${none% *} us/req ${none#* } rps;" \
	    "50 rules ${rules% *} us/req ${rules#* } rps"
	echo "${none% *}" >>"$work/none.cpu"
	echo "${rules% *}" >>"$work/rules.cpu"
	echo "${none#* }" >>"$work/none.rps"
	echo "${rules#* }" >>"$work/rules.rps"
	i=$((i + 1))
done
n=$(median <"$work/none.cpu")
r=$(median <"$work/rules.cpu")
echo "median CPU per request: no rules $n us, 50 rules $r us;" \
    "rps $(median <"$work/none.rps") and $(median <"$work/rules.rps");" \
    "speed with rules: $(awk -v a="$n" -v b="$r" 'BEGIN { printf "%.3f", a / b }')x"
