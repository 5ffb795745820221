#!/bin/sh
# SIGHUP with --prefork loads the modules again: a module added under load
# from connect-call-close clients answers its method afterwards, with no
# call failed; a module that fails its init, or is not a shared object,
# keeps the running generation, the reason logged; a module taken out is
# gone, and unloaded once its generation is; a module whose arguments
# changed is kept as it runs; and the counters of a method that goes on
# never fall, in stats or in /metrics, though its place in the registry
# moves.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

[ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ] || PYTHON3=$(command -v python3)
if [ -z "$PYTHON3" ]; then
	[ "${CI:-}" = true ] && bail_out "python3 not found, and CI=true"
	skip_all "python3 not found"
fi

C=$RPCCTL
F=$TEST_DIR/rpcd.conf
# Copies of the test module, loaded side by side with "bare".
for m in a b c; do
	cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/$m.so" &&
	    chmod 0755 "$TEST_DIR/$m.so" ||
	    bail_out "no testmod.so: make check builds it"
done
echo "not a shared object" >"$TEST_DIR/text.so"
chmod 0644 "$TEST_DIR/text.so"
A="module $TEST_DIR/a.so bare take=alpha"
B="module $TEST_DIR/b.so bare take=beta"

# conf LINE...: the file, two workers and the lines given.
conf()
{
	printf '%s\n' "prefork 2" "$@" >"$F"
}
# calls METHOD: its calls in stats, summed over every worker.
calls()
{
	"$C" -S "$RPCD_ADDR" --json stats |
	    sed -n "s/.*\"name\": \"$1\", \"calls\": \([0-9]*\),.*/\1/p"
}
# metric SERIES: its value in a scrape of /metrics.
metric()
{
	"$PYTHON3" -c 'import sys, urllib.request
body = urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=5)
for line in body.read().decode().splitlines():
    if line.split(" ")[0] == sys.argv[2]:
        print(line.split(" ")[1])' "$METRICS" "$1"
}
pids()
{
	pgrep -P "$RPCD_PID" | sort -n | tr '\n' ' '
}
# True once every worker of the generation before, $1, is gone.
replaced()
{
	[ "$(pgrep -P "$RPCD_PID" | wc -l)" -eq 3 ] || return 1
	for p in $1; do
		[ "$p" = "$mpid" ] && continue
		pgrep -P "$RPCD_PID" | grep -qx "$p" && return 1
	done
	return 0
}
# True once the log has $2 lines matching $1.
logged()
{
	[ "$(grep -c -- "$1" "$RPCD_LOG")" -ge "$2" ]
}
# Is the module file $1 mapped in the master?  Linux only.
mapped()
{
	grep -q "$1" "/proc/$RPCD_PID/maps"
}

conf "max-frame 4096" "$A"
rpcd_start -f "$F" --metrics-listen 127.0.0.1:0 ||
    bail_out "rpcd -f $F did not start"
METRICS=$(sed -n 's|.*serving metrics on http://\([^/]*\)/metrics.*|\1|p' \
    "$RPCD_LOG")
mpid=$(sed -n 's/.*metrics server started, pid \([0-9]*\)$/\1/p' "$RPCD_LOG")
wait_for 50 sh -c "[ \$(pgrep -P $RPCD_PID | wc -l) -eq 3 ]"
is "$("$C" -S "$RPCD_ADDR" call alpha 1)" 1 "module a's alpha answers"

# Load: three loops of connect-call-close clients of alpha.
load_start 3 alpha 2
wait_for 100 load_reached 10
before=$(calls alpha)
mbefore=$(metric 'rpcd_requests_total{method="alpha",outcome="ok"}')

# Module b comes first, so alpha moves down the registry.
gen1=$(pids)
conf "max-frame 8192" "$B" "$A"
kill -HUP "$RPCD_PID"
wait_for 100 replaced "$gen1"
ok $? "SIGHUP adding a module: the new generation replaced the old one"
wait_for 100 load_reached $(($(load_most) + 10))
mid=$(calls alpha)
ok_test "alpha's calls in stats did not fall ($before, then $mid)" \
    [ "$mid" -ge "$before" ]
mid=$(metric 'rpcd_requests_total{method="alpha",outcome="ok"}')
ok_test "nor in /metrics ($mbefore, then $mid)" [ "$mid" -ge "$mbefore" ]
load_stop
sent=$load_sent
is "$load_failed" 0 "no call of $sent connect-call-close clients failed"
is "$(calls alpha)" $((sent + 1)) "stats counts every call of alpha, once"
is "$(metric 'rpcd_requests_total{method="alpha",outcome="ok"}')" \
    $((sent + 1)) "and so does /metrics"
is "$("$C" -S "$RPCD_ADDR" call beta 7)" 7 "the added method answers"
"$C" -S "$RPCD_ADDR" --json methods |
    grep -q '"name": "beta", "help": "the params back", "module": "test"'
ok $? "and methods lists it"
is "$(calls beta)" 1 "it has a row of its own in stats"
is "$(metric 'rpcd_requests_total{method="beta",outcome="ok"}') $(metric 'rpcd_request_duration_seconds_count{method="beta"}')" \
    "1 1" "and series of its own in /metrics"
"$C" -S "$RPCD_ADDR" --json stats | grep -q '"max-frame": 8192'
ok $? "the limit changed by the same SIGHUP is in stats"

# A module whose init fails, then a file that is not a shared object:
# the reload is refused, the running generation serves on, unchanged.
gen2=$(pids)
for broken in "$TEST_DIR/c.so bare take=gamma fail" "$TEST_DIR/text.so"; do
	conf "max-frame 16384" "$B" "$A" "module $broken"
	kill -HUP "$RPCD_PID"
	wait_for 50 logged "SIGHUP: module ${broken%% *}: .*; still serving with the running configuration and workers" 1
	ok $? "SIGHUP with module ${broken##*/}: logged, refused"
done
grep -q "module $TEST_DIR/c.so: init failed: asked to fail; still serving" \
    "$RPCD_LOG"
ok $? "a failed init is logged with the module's reason"
grep -q "module $TEST_DIR/text.so: not a loadable shared object" "$RPCD_LOG"
ok $? "a file that is not a shared object is logged as such"
is "$(pids)" "$gen2" "the running workers are the same processes"
is "$("$C" -S "$RPCD_ADDR" call alpha 3) $("$C" -S "$RPCD_ADDR" call beta 4)" \
    "3 4" "and answer their modules' methods"
! "$C" -S "$RPCD_ADDR" call gamma 5 >/dev/null 2>&1
ok $? "gamma, of the module that failed, is not there"
"$C" -S "$RPCD_ADDR" --json stats | grep -q '"max-frame": 8192'
ok $? "nor the failed reload's limit"
if [ -r "/proc/$RPCD_PID/maps" ]; then
	! mapped "$TEST_DIR/c.so"
	ok $? "the module that failed is unloaded from the master"
else
	skip "no /proc/PID/maps: unloading not checked"
fi

# Module b taken out: beta is gone once the old generation is.
conf "max-frame 8192" "$A"
kill -HUP "$RPCD_PID"
wait_for 100 replaced "$gen2"
ok $? "SIGHUP taking module b out: a new generation"
"$C" -S "$RPCD_ADDR" call beta 6 >/dev/null 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" "1 rpcctl: beta: unknown_method: no such method" \
    "beta is gone"
! "$C" -S "$RPCD_ADDR" --json methods | grep -q '"beta"'
ok $? "and methods no longer lists it"
is "$("$C" -S "$RPCD_ADDR" call alpha 8)" 8 "alpha answers on"
is "$(calls alpha)" $((sent + 3)) "its counter going on from where it was"
if [ -r "/proc/$RPCD_PID/maps" ]; then
	wait_for 50 eval '! mapped "$TEST_DIR/b.so"'
	ok $? "module b is unloaded from the master"
	mapped "$TEST_DIR/a.so"
	ok $? "module a is not"
else
	skip "no /proc/PID/maps: unloading not checked"
	skip "no /proc/PID/maps: unloading not checked"
fi

# Module a with other arguments: its init cannot run again in the same
# copy, so it is kept as it runs until a restart, and the log says so.
gen3=$(pids)
conf "max-frame 8192" "$A take=delta"
kill -HUP "$RPCD_PID"
wait_for 100 replaced "$gen3"
ok $? "SIGHUP changing module a's arguments: a new generation"
grep -q "SIGHUP: module $TEST_DIR/a.so changed (now '$TEST_DIR/a.so bare take=alpha take=delta'): it needs a restart, and stays '$TEST_DIR/a.so bare take=alpha' until then" "$RPCD_LOG"
ok $? "which logs that the module needs a restart"
is "$("$C" -S "$RPCD_ADDR" call alpha 9)" 9 "alpha answers"
! "$C" -S "$RPCD_ADDR" call delta 9 >/dev/null 2>&1
ok $? "delta, of the new arguments, is not there"

# rpcd -n still loads the modules, and runs their init.
conf "$A" "module $TEST_DIR/c.so bare fail"
"$RPCD" -n -f "$F" >/dev/null 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" \
    "1 rpcd: module $TEST_DIR/c.so: init failed: asked to fail" \
    "rpcd -n runs the modules' init"

rpcd_stop
is $? 0 "the master exits 0"

done_testing
