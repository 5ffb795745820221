#!/bin/sh
# SIGHUP with --prefork loads the modules again: a module added under load
# from connect-call-close clients answers its method afterwards, with no
# call failed; a module that fails its init, or is not a shared object,
# keeps the running generation, the reason logged; a module taken out is
# gone, and unloaded once its generation is; a module whose arguments
# changed is kept as it runs; and the counters of a method that goes on
# never fall, in stats or in /metrics, though its place in the registry
# moves.  A reload whose new workers fail in a module's worker_init(),
# crash there or hang there is rolled back: the old workers serve on as
# the current generation, with their settings and methods, and the next
# SIGHUP is taken.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3

C=$RPCCTL
F=$TEST_DIR/rpcd.conf
# Copies of the test module, loaded side by side with "bare".
for m in a b c d e; do
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
wait_workers 2
is "$("$C" -S "$RPCD_ADDR" call alpha 1)" 1 "module a's alpha answers"

# Load: three loops of connect-call-close clients of alpha.
load_start 3 alpha 2
wait_for 100 load_reached 10
before=$(calls alpha)
mbefore=$(metric 'rpcd_requests_total{method="alpha",frontend="framed",outcome="ok"}')

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
mid=$(metric 'rpcd_requests_total{method="alpha",frontend="framed",outcome="ok"}')
ok_test "nor in /metrics ($mbefore, then $mid)" [ "$mid" -ge "$mbefore" ]
load_stop
sent=$load_sent
is "$load_failed" 0 "no call of $sent connect-call-close clients failed"
is "$(calls alpha)" $((sent + 1)) "stats counts every call of alpha, once"
is "$(metric 'rpcd_requests_total{method="alpha",frontend="framed",outcome="ok"}')" \
    $((sent + 1)) "and so does /metrics"
is "$("$C" -S "$RPCD_ADDR" call beta 7)" 7 "the added method answers"
"$C" -S "$RPCD_ADDR" --json methods |
    grep -q '"name": "beta", "help": "the params back", "module": "test"'
ok $? "and methods lists it"
is "$(calls beta)" 1 "it has a row of its own in stats"
is "$(metric 'rpcd_requests_total{method="beta",frontend="framed",outcome="ok"}') $(metric 'rpcd_request_duration_seconds_count{method="beta",frontend="framed"}')" \
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

# worker_pids: the pids of the workers in stats.
worker_pids()
{
	"$C" -S "$RPCD_ADDR" --json stats |
	    grep -o '"index": [0-9]*, "pid": [0-9]*' | sed 's/.*: //' |
	    sort -n | tr '\n' ' '
}
# rolled_back WHY: true once the log has a rollback for WHY.
rolled_back()
{
	logged "SIGHUP: $1; rolling back: still serving with the running configuration and workers" 1
}
# workers GEN: the workers' pids of GEN, pids' output, as worker_pids has
# them.
workers()
{
	for p in $1; do
		[ "$p" = "$mpid" ] || printf '%s ' "$p"
	done
}
# back_to GEN: true once the workers are those of GEN, and stats says so.
back_to()
{
	[ "$(pids)" = "$1" ] && [ "$(worker_pids)" = "$(workers "$1")" ]
}

# A module whose worker_init() fails, added under load: every new worker
# exits at start, and the reload is rolled back.
wait_for 50 eval '! mapped "$TEST_DIR/c.so"'
gen4=$(pids)
load_start 3 alpha 2
wait_for 100 load_reached 5
conf "max-frame 16384" "$A" "module $TEST_DIR/c.so bare take=gamma worker=fail"
kill -HUP "$RPCD_PID"
wait_for 100 rolled_back "new worker [01] failed at start (exit 1)"
ok $? "SIGHUP whose new workers fail in worker_init: rolled back, logged"
wait_for 100 load_reached $(($(load_most) + 10))
load_stop
is "$load_failed" 0 "no call of $load_sent connect-call-close clients failed"
wait_for 100 back_to "$gen4"
ok $? "the old workers are left, and stats shows them only"
is "$("$C" -S "$RPCD_ADDR" call alpha 10)" 10 "they answer alpha"
! "$C" -S "$RPCD_ADDR" --json methods | grep -q '"gamma"'
ok $? "gamma, of the module that failed, is not there"
if [ -r "/proc/$RPCD_PID/maps" ]; then
	wait_for 50 eval '! mapped "$TEST_DIR/c.so"'
	ok $? "the module that failed is unloaded from the master"
else
	skip "no /proc/PID/maps: unloading not checked"
fi
# Old workers killed now are respawned, with the old settings and
# methods: the master keeps them.
old=$(workers "$gen4")
kill -KILL $old
wait_for 100 replaced "$old"
ok $? "old workers that die after the rollback are respawned"
"$C" -S "$RPCD_ADDR" --json stats | grep -q '"max-frame": 8192'
ok $? "with the running settings"
"$C" -S "$RPCD_ADDR" call gamma 1 >/dev/null 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" \
    "1 rpcctl: gamma: unknown_method: no such method" "and methods"

# The next SIGHUP, with a good file, is taken.
gen5=$(pids)
conf "max-frame 16384" "shutdown-timeout 3" "$A" "$B"
kill -HUP "$RPCD_PID"
wait_for 100 replaced "$gen5"
ok $? "the next SIGHUP starts a new generation"
is "$("$C" -S "$RPCD_ADDR" call beta 11)" 11 "which answers the added method"
"$C" -S "$RPCD_ADDR" --json stats | grep -q '"max-frame": 16384'
ok $? "with the new limit"

# New workers that crash at start: a rollback, not the backoff that would
# have the master give up.
gen6=$(pids)
conf "max-frame 16384" "shutdown-timeout 3" "$A" "$B" \
    "module $TEST_DIR/d.so bare take=epsilon worker=crash"
kill -HUP "$RPCD_PID"
wait_for 100 rolled_back "new worker [01] failed at start (killed by signal 6)"
ok $? "SIGHUP whose new workers crash at start: rolled back"
wait_for 100 back_to "$gen6"
ok $? "the old workers are left"
! sed -n '/signal 6); rolling back/,$p' "$RPCD_LOG" | grep -q "died at start"
ok $? "the new workers were not respawned"
is "$("$C" -S "$RPCD_ADDR" call beta 12)" 12 "the old workers serve"

# New workers that hang at start: rolled back after the running
# shutdown-timeout, and killed after as long again.
conf "max-frame 16384" "shutdown-timeout 3" "$A" "$B" \
    "module $TEST_DIR/e.so bare worker=hang"
kill -HUP "$RPCD_PID"
wait_for 100 rolled_back "the new generation is not ready after 3s"
ok $? "SIGHUP whose new workers hang at start: rolled back at the timeout"
is "$(worker_pids)" "$(workers "$gen6")" \
    "stats shows the old workers while the hung ones are stopped"
wait_for 100 back_to "$gen6"
ok $? "the hung workers are killed, the old ones left"
is "$("$C" -S "$RPCD_ADDR" call beta 13)" 13 "and serve"
kill -0 "$RPCD_PID"
ok $? "the master runs on"
gen7=$(pids)
conf "max-frame 8192" "$A"
kill -HUP "$RPCD_PID"
wait_for 100 replaced "$gen7"
ok $? "and takes the next SIGHUP"

# rpcd -n still loads the modules, and runs their init.
conf "$A" "module $TEST_DIR/c.so bare fail"
"$RPCD" -n -f "$F" >/dev/null 2>"$TEST_DIR/err"
is "$? $(cat "$TEST_DIR/err")" \
    "1 rpcd: module $TEST_DIR/c.so: init failed: asked to fail" \
    "rpcd -n runs the modules' init"

rpcd_stop
is $? 0 "the master exits 0"

done_testing
