# Sourced by the benchmark scripts (make bench, bench-tls, bench-module):
# a scratch directory that goes, with the servers started into it, on
# exit; medians; ratios; and rounds that alternate two contenders so that
# neither always runs on a machine the other has warmed.

ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
trap 'kill $(cat "$work/pids" 2>/dev/null) 2>/dev/null; rm -rf "$work"' EXIT

# loadgen_find NAME: set LOADGEN to the load generator: $LOADGEN, or the
# one in shared/bench beside the checkout, built on first use; without
# either, say NAME is skipped and exit 0.
loadgen_find()
{
	bench_dir=$(cd "${top_srcdir:-.}/.." && pwd)/shared/bench
	if [ -n "${LOADGEN:-}" ]; then
		[ -x "$LOADGEN" ] || {
			echo "$1: LOADGEN=$LOADGEN is not an executable" >&2
			exit 1
		}
	elif [ -f "$bench_dir/Makefile" ]; then
		LOADGEN=$bench_dir/loadgen
		make -C "$bench_dir" >/dev/null || {
			echo "$1: cannot build the load generator in" \
			    "$bench_dir" >&2
			exit 1
		}
	else
		echo "$1: skipped: no load generator in $bench_dir; put the" \
		    "shared/bench directory (loadgen.c, Makefile) there" \
		    "beside the checkout, or set LOADGEN= to a built loadgen"
		exit 0
	fi
}

median()
{
	sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
}

# listening_port LOG [PID]: once rpcd has logged its first listener, its
# port; nothing, and false, if the process PID ends before.  An ended
# child stays a zombie until the shell waits for it, and a shell such as
# dash does not while it runs this in a command substitution: kill -0
# would still find it.
listening_port()
{
	while ! grep -q 'listening on' "$1"; do
		case ${2:-}:$(ps -o stat= -p "${2:-0}" 2>/dev/null) in
		?*:|?*:Z*) return 1 ;;
		esac
		sleep 0.1
	done
	sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$1" | head -n 1
}

# cpu_ticks PID: the CPU time (user and system, in clock ticks) of the
# process and of its children: a prefork master's workers, nginx's worker.
cpu_ticks()
{
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null)
	# shellcheck disable=SC2086
	for p in "$1" $kids; do
		cat /proc/"$p"/stat 2>/dev/null
	done | sed 's/.*) //' | awk '{ t += $12 + $13 } END { print t + 0 }'
}

# alternate A B ARGS...: ROUNDS rounds of the commands A ARGS and B ARGS,
# A first in even rounds, B in odd ones; each prints a number, collected
# in $work/A and $work/B.  Print the median of A's, of B's, their ratio
# A/B, and the median of each round's A/B: the two runs of a round are
# closer in time than the rounds, so that ratio moves less when the
# machine's speed drifts during the benchmark.
alternate()
{
	a=$1
	b=$2
	shift 2
	: >"$work/$a"
	: >"$work/$b"
	round=0
	while [ "$round" -lt "$ROUNDS" ]; do
		if [ $((round % 2)) -eq 0 ]; then
			"$a" "$@" >>"$work/$a"
			"$b" "$@" >>"$work/$b"
		else
			"$b" "$@" >>"$work/$b"
			"$a" "$@" >>"$work/$a"
		fi
		round=$((round + 1))
	done
	paired=$(paste "$work/$a" "$work/$b" |
	    awk '{printf "%.4f\n", $1 / $2}' | median)
	a=$(median <"$work/$a")
	b=$(median <"$work/$b")
	echo "$a $b $(ratio "$a" "$b") $(printf '%.2f' "$paired")"
}
