# Helpers for the integration tests: source after tests/tap.sh.
#
# rpcd_start [ARGS...] starts $RPCD (the built server) in the foreground
# on -l 127.0.0.1:0 unless ARGS has its own -l, waits until it has printed
# every "listening on ADDR" line, and sets:
#   RPCD_PID    the server's pid
#   RPCD_ADDR   the first bound address (127.0.0.1:PORT, [::1]:PORT, unix:...)
#   RPCD_ADDRS  all bound addresses, one per line
#   RPCD_HOST, RPCD_PORT  the first TCP address split in two
#   RPCD_LOG    the file holding its stderr
# rpcd_stop sends SIGTERM and waits; wait_workers N awaits N workers of
# rpcd -P; cleanup runs at exit and removes $TEST_DIR, the per-test
# scratch directory.

RPCD=${RPCD:-$top_builddir/server/rpcd}
RPCCTL=${RPCCTL:-$top_builddir/client/rpcctl}
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rpcd-test.XXXXXX") || bail_out "mktemp"
RPCD_PID=

cleanup()
{
	if [ -n "$RPCD_PID" ]; then
		kill -9 "$RPCD_PID" 2>/dev/null
		wait "$RPCD_PID" 2>/dev/null
	fi
	rm -rf "$TEST_DIR"
}
trap cleanup EXIT

# Wait up to $1 tenths of a second for a command to succeed.
wait_for()
{
	wait_tries=$1
	shift
	while [ "$wait_tries" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		wait_tries=$((wait_tries - 1))
	done
	return 1
}

# pids_gone PID...: true once none of the processes is left: no such
# process, or a zombie that an init which does not reap (as in some
# containers) leaves behind.
pids_gone()
{
	for pids_gone_pid in "$@"; do
		case $(ps -o stat= -p "$pids_gone_pid" 2>/dev/null) in
		""|Z*) ;;
		*) return 1 ;;
		esac
	done
	return 0
}

rpcd_start()
{
	case " $* " in
	*" -l "*|*" --listen"*) set -- "$@" ;;
	*) set -- -l 127.0.0.1:0 "$@" ;;
	esac
	RPCD_LOG=$TEST_DIR/rpcd.log
	: >"$RPCD_LOG"
	"$RPCD" "$@" 2>"$RPCD_LOG" &
	RPCD_PID=$!
	wanted=$(printf '%s\n' "$@" | grep -c -e '^-l$' -e '^--listen')
	if ! wait_for 100 rpcd_listening "$wanted"; then
		diag "rpcd did not start:"
		diag_file <"$RPCD_LOG"
		return 1
	fi
	RPCD_ADDRS=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$RPCD_LOG")
	RPCD_ADDR=$(echo "$RPCD_ADDRS" | head -n 1)
	tcp=$(echo "$RPCD_ADDRS" | grep -v '^unix:' | head -n 1)
	RPCD_PORT=${tcp##*:}
	RPCD_HOST=${tcp%:*}
	RPCD_HOST=${RPCD_HOST#[}
	RPCD_HOST=${RPCD_HOST%]}
	return 0
}

# True once rpcd has printed $1 "listening on" lines, false if it died.
rpcd_listening()
{
	kill -0 "$RPCD_PID" 2>/dev/null || return 2
	[ "$(grep -c 'listening on ' "$RPCD_LOG")" -ge "$1" ]
}

# Stop rpcd with SIGTERM; return its exit status.
rpcd_stop()
{
	kill -TERM "$RPCD_PID" 2>/dev/null
	wait "$RPCD_PID"
	rpcd_status=$?
	RPCD_PID=
	return $rpcd_status
}

# wait_workers N: wait until the rpcd --prefork master $RPCD_PID runs
# exactly N workers and its stats lists exactly those: each forked and
# known to the master, none respawning, no zombie, no worker of an older
# generation still draining.  The metrics server, a child too, is not a
# worker.  Bounded by the clock, 20 s, not by a count of tries, which a
# loaded machine stretches; return 1, saying what was seen, at the end.
wait_workers()
{
	workers_end=$(($(date +%s) + 20))
	until workers_are "$1"; do
		if [ "$(date +%s)" -ge "$workers_end" ]; then
			diag "rpcd -P: not $1 workers after 20 s: processes" \
			    $(workers_running) "and in stats" \
			    $(workers_in_stats)
			return 1
		fi
		sleep 0.1
	done
}

# The live children of the master but its metrics server, sorted.
workers_running()
{
	for workers_pid in $(pgrep -P "$RPCD_PID"); do
		case $(ps -o stat= -p "$workers_pid" 2>/dev/null) in
		""|Z*) continue ;;
		esac
		grep -q "metrics server started, pid $workers_pid\$" \
		    "$RPCD_LOG" || echo "$workers_pid"
	done | sort -n
}

# The pids of the workers in rpcd's stats, sorted.
workers_in_stats()
{
	"$RPCCTL" -t 2 -S "$RPCD_ADDR" --json stats 2>/dev/null |
	    grep -o '"index": [0-9]*, "pid": [0-9]*' | sed 's/.*: //' |
	    sort -n
}

# workers_are N: true if the master runs N workers, all in stats; the
# processes are counted first, so that stats is asked only then.
workers_are()
{
	workers_now=$(workers_running)
	[ "$(echo "$workers_now" | grep -c .)" -eq "$1" ] &&
	    [ "$(workers_in_stats)" = "$workers_now" ]
}

WIRE=${WIRE:-$top_builddir/tests/wire}
# The exit of each run of wire, and the runs that failed.  wire exits 0
# whatever the server does, so any other exit (a failed connect, a
# sanitizer's report) is a failure of the test, even from a $(...) that
# cannot count a check of its own: done_testing makes one for all the runs.
WIRE_RUNS=$TEST_DIR/wire.runs
WIRE_FAILED=$TEST_DIR/wire.failed
tap_at_end="$tap_at_end wire_check"

# wire ARGS...: run the raw test client (see tests/wire.c), noting its exit.
wire()
{
	"$WIRE" "$@"
	wire_status $? "$@"
}

# wire_status STATUS ARGS...: note that the run of wire with ARGS exited
# STATUS (for a run started in the background, once waited for); return
# STATUS.
wire_status()
{
	wire_exit=$1
	shift
	echo "$wire_exit" >>"$WIRE_RUNS"
	if [ "$wire_exit" -ne 0 ]; then
		printf 'wire %.200s: exit %d\n' "$*" "$wire_exit" >>"$WIRE_FAILED"
	fi
	return "$wire_exit"
}

# The check done_testing makes if wire ran: every run exited 0.
wire_check()
{
	[ -f "$WIRE_RUNS" ] || return 0
	[ ! -f "$WIRE_FAILED" ]
	ok $? "all $(wc -l <"$WIRE_RUNS") runs of the test client exited 0" ||
	    diag_file <"$WIRE_FAILED"
}

# refused WHY ARGS...: rpcd ARGS exits 1 with one line, "rpcd: module ..."
# matching WHY.
refused()
{
	why=$1
	shift
	"$RPCD" -l 127.0.0.1:0 "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
	pid=$!
	wait $pid
	status=$?
	if [ $status -eq 1 ] && [ "$(wc -l <"$TEST_DIR/err")" -eq 1 ] &&
	    grep -q "^rpcd: module .*$why" "$TEST_DIR/err"; then
		ok 0 "refused, one line: $(cat "$TEST_DIR/err")"
	else
		ok 1 "refused with one line matching '$why'"
		diag "exit $status: $(cat "$TEST_DIR/err")"
	fi
}

# ping_ok ADDR: true if a ping on ADDR is answered.
ping_ok()
{
	[ "$(wire -n 1 -t 2 "$1" 'j:{"in": "ping", "params": "ok"}' \
	    2>/dev/null)" = '{"out": "pong", "result": "ok"}' ]
}

# load_start N METHOD PARAMS: N loops of connect-call-close clients of
# rpcd, each call an rpcctl process of its own as a script makes, calling
# METHOD with PARAMS until load_stop.
load_start()
{
	rm -f "$TEST_DIR/load.stop"
	load_loops=$1
	load_pids=
	for load_n in $(seq "$1"); do
		(
			sent=0
			bad=0
			while [ ! -f "$TEST_DIR/load.stop" ]; do
				"$RPCCTL" -t 5 -S "$RPCD_ADDR" call "$2" "$3" \
				    >/dev/null 2>>"$TEST_DIR/load.err" ||
				    bad=$((bad + 1))
				sent=$((sent + 1))
				# Renamed into place: a reader never sees
				# the file empty, between truncation and write.
				echo "$sent $bad" >"$TEST_DIR/load.tmp.$load_n"
				mv -f "$TEST_DIR/load.tmp.$load_n" \
				    "$TEST_DIR/load.$load_n"
			done
		) &
		load_pids="$load_pids $!"
	done
}

# load_reached N: true once every loop has made N calls.
load_reached()
{
	for load_n in $(seq "$load_loops"); do
		[ -f "$TEST_DIR/load.$load_n" ] &&
		    [ "$(cut -d ' ' -f 1 "$TEST_DIR/load.$load_n")" -ge "$1" ] ||
		    return 1
	done
}

# load_most: the most calls a loop has made.
load_most()
{
	cut -d ' ' -f 1 "$TEST_DIR"/load.[0-9]* | sort -n | tail -n 1
}

# load_stop: stop the loops, set load_sent and load_failed to the calls
# they made and those that failed, and show why any did.
load_stop()
{
	touch "$TEST_DIR/load.stop"
	wait $load_pids
	load_sent=0
	load_failed=0
	for load_n in $(seq "$load_loops"); do
		read -r sent bad <"$TEST_DIR/load.$load_n"
		load_sent=$((load_sent + sent))
		load_failed=$((load_failed + bad))
	done
	diag "connect-call-close clients: $load_sent calls, $load_failed failed"
	[ "$load_failed" -eq 0 ] || diag_file <"$TEST_DIR/load.err"
}

# sigterm_inflight DESCRIPTION: pipeline 2000 pings to rpcd, SIGTERM it once
# they are all written, and check that all 2000 are answered and that it
# exits 0.
sigterm_inflight()
{
	: >"$TEST_DIR/sent"	# not the last run's, before the job opens it
	"$WIRE" -t 20 -n 2000 -r 2000 "$RPCD_ADDR" \
	    'j:{"in": "ping", "params": 1}' >"$TEST_DIR/inflight" \
	    2>"$TEST_DIR/sent" &
	inflight_client=$!
	wait_for 100 grep -q sent "$TEST_DIR/sent"
	kill -TERM "$RPCD_PID"
	wait "$inflight_client"
	wire_status $? "-n 2000 -r 2000 (in flight at SIGTERM)"
	is "$(grep -c pong "$TEST_DIR/inflight")" 2000 \
	    "$1: SIGTERM answers every request already written"
	wait "$RPCD_PID"
	is $? 0 "$1: and exits 0"
	RPCD_PID=
}

# hidden_inputs_check PREFIX ADDR [WIRE_OPTION...]: send each hostile
# request below to ADDR, followed by a ping on the same connection; each
# must get its error reply and the ping its pong.  PREFIX starts each
# check's description.
hidden_inputs_check()
{
	hic_prefix=$1
	hic_addr=$2
	shift 2
	deep=$(printf '%040d' 0 | sed 's/0/[/g')$(printf '%040d' 0 |
	    sed 's/0/]/g')
	cat >"$TEST_DIR/hidden" <<EOF_TABLE
bad_json|malformed JSON|j:{"in": "ping",
bad_json|trailing garbage|j:{"in": "ping"} x
bad_json|empty frame|h:0
not_object|an array|j:["ping"]
not_object|a string|j:"ping"
no_method|"in" missing|j:{"params": 1}
bad_method|"in" a number|j:{"in": 5}
bad_method|"in" 64 bytes|j:{"in": "0123456789012345678901234567890123456789012345678901234567890123"}
unknown_method|unknown method|j:{"in": "pong"}
too_deep|nesting of 41|j:{"in": "ping", "params": $deep}
bad_utf8|invalid UTF-8|x:0a0000007b22696e223a22ff227d
bad_utf8|overlong encoding|x:0b0000007b22696e223a22c0af227d
EOF_TABLE
	# code | description | request
	while IFS='|' read -r code what req; do
		out=$(wire "$@" -n 2 "$hic_addr" "$req" \
		    'j:{"in": "ping", "params": "still here"}' 2>/dev/null)
		first=$(echo "$out" | head -n 1)
		case $first in
		'{"out": "error", "result": {"code": "'"$code"'", "message": "'*)
			ok 0 "$hic_prefix$what: error $code" ;;
		*)	ok 1 "$hic_prefix$what: error $code"
			diag "got: $first" ;;
		esac
		is "$(echo "$out" | sed -n 2p)" \
		    '{"out": "pong", "result": "still here"}' \
		    "$hic_prefix$what: connection still usable"
	done <"$TEST_DIR/hidden"
}

# example_block PAGE N: the Nth ".Bd -literal" block after ".Sh EXAMPLES"
# of the manual page PAGE, with mdoc's \e as \.
example_block()
{
	awk -v want="$2" '
	    /^\.Sh / { in_ex = ($2 == "EXAMPLES") }
	    in_ex && /^\.Bd -literal/ { n++; inside = (n == want); next }
	    inside && /^\.Ed/ { inside = 0 }
	    inside { gsub(/\\e/, "\\"); print }' "$1"
}

# module_client SCRIPT: run the Python test tests/SCRIPT with the arguments
# $RPCD and a copy of the test module, with the mode rpcd wants whatever
# the build's umask; skip the test without python3.
module_client()
{
	need_python3
	cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
	    bail_out "no testmod.so: make check builds it"
	chmod 0755 "$TEST_DIR/testmod.so"
	PYTHONPATH=$top_srcdir/tests "$top_builddir/libtool" --mode=execute \
	    "$PYTHON3" "$top_srcdir/tests/$1" "$RPCD" "$TEST_DIR/testmod.so"
}

# big_batch_check WHAT RPCCTL...: run "RPCCTL -t 10 batch" on 200 pings of
# 64 KB, past any --max-output the tests set, so that rpcctl must read
# while it sends; check it exits 0 and every reply comes back in order.
big_batch_check()
{
	bbc_what=$1
	shift
	bbc_big=$(head -c 65536 /dev/zero | tr '\0' x)
	bbc_i=0
	while [ $bbc_i -lt 200 ]; do
		echo "{\"in\": \"ping\", \"params\": \"$bbc_big$bbc_i\"}"
		bbc_i=$((bbc_i + 1))
	done >"$TEST_DIR/bigbatch"
	"$@" -t 10 batch <"$TEST_DIR/bigbatch" >"$TEST_DIR/bigbatch.out"
	ok $? "${bbc_what}batch of 200 replies of 64 KB past --max-output exits 0"
	sed 's/"in": "ping", "params"/"out": "pong", "result"/' \
	    "$TEST_DIR/bigbatch" | cmp -s - "$TEST_DIR/bigbatch.out"
	ok $? "${bbc_what}and every reply came back in order"
}

# Test certificates in $TEST_DIR, made by openssl: ca NAME, a CA whose
# subject is CN=NAME; cert NAME CA SUBJECT_CN SAN [DAYS], a key and a
# certificate signed by CA, with subjectAltName SAN (DNS:...,IP:...).
ca()
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$TEST_DIR/$1.key" -out "$TEST_DIR/$1.pem" -days 2 \
	    -subj "/CN=$1" 2>/dev/null
}
cert()
{
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$TEST_DIR/$1.key" -out "$TEST_DIR/$1.csr" \
	    -subj "/CN=$3" 2>/dev/null &&
	printf 'subjectAltName=%s\n' "$4" >"$TEST_DIR/$1.ext" &&
	openssl x509 -req -in "$TEST_DIR/$1.csr" -CA "$TEST_DIR/$2.pem" \
	    -CAkey "$TEST_DIR/$2.key" -CAcreateserial -days "${5:-2}" \
	    -extfile "$TEST_DIR/$1.ext" -out "$TEST_DIR/$1.pem" 2>/dev/null
}
