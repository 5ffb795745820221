#!/bin/sh
# rpcd --prefork with workers that die as they start: the master backs off,
# then gives up with a clean exit 1, not a fork storm.  The crashes come
# from tests/crash_shim.c, preloaded: rpcd itself has no test hook.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

SHIM=$top_builddir/tests/.libs/crash_shim.so
[ -f "$SHIM" ] || skip_all "no crash shim at $SHIM"

# The variable the old hook in rpcd read does nothing now.
RPCD_TEST_WORKER_CRASH=1
export RPCD_TEST_WORKER_CRASH
rpcd_start -P 1 || bail_out "rpcd -P 1 did not start"
unset RPCD_TEST_WORKER_CRASH
ok_test "RPCD_TEST_WORKER_CRASH crashes no worker" ping_ok "$RPCD_ADDR"
rpcd_stop

# Every worker dies as it starts.  The shim goes into rpcd alone, not into
# the shell of libtool's wrapper: in a sanitizer build it needs rpcd's
# sanitizer runtime.  ASan, if built in, must not insist on coming first in
# the preload list.
RPCD_LOG=$TEST_DIR/crash.log
real=$RPCD
if [ -x "$top_builddir/server/.libs/rpcd" ]; then
	real=$top_builddir/server/.libs/rpcd
	LD_LIBRARY_PATH=$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
fi
(LD_PRELOAD=$SHIM \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    exec "$real" -P 2 -l 127.0.0.1:0) 2>"$RPCD_LOG" &
RPCD_PID=$!
wait_for 300 sh -c "! kill -0 $RPCD_PID 2>/dev/null"
# A master that does not give up fails the test, not hangs it.
ok $? "the master gives up" || kill -9 "$RPCD_PID"
wait "$RPCD_PID"
is $? 1 "and exits 1"
RPCD_PID=
ok_test "saying why" grep -q "keeps dying at start" "$RPCD_LOG"
ok_test "the deaths are logged with their signal" \
    grep -q "worker 1 (pid [0-9]*) killed by signal 9" "$RPCD_LOG"

# Each worker backs off on its own, as rpcd(8) says: 0.1 s doubling to the
# 5 s ceiling, and the eighth death gives up.  One worker dying does not
# speed up another's backoff.
want="0.1 0.2 0.4 0.8 1.6 3.2 5.0"
full=0
for i in 0 1; do
	got=$(sed -n "s/.*worker $i died at start; next try in \([0-9.]*\)s/\1/p" \
	    "$RPCD_LOG" | tr '\n' ' ')
	got=${got% }
	case "$want" in
	"$got"*) ok 0 "worker $i backs off $got" ;;
	*) ok 1 "worker $i backs off $want"; diag "got: $got" ;;
	esac
	[ "$got" = "$want" ] && full=$((full + 1))
done
ok_test "the master gives up once a worker has waited the ceiling" \
    test "$full" -ge 1
starts=$(grep -c "started, pid" "$RPCD_LOG")
ok_test "after a bounded number of tries ($starts starts)" test "$starts" -le 16

done_testing
