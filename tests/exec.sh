#!/bin/sh
# The exec module (rpcd-exec(8)) loaded into rpcd with -m, running small
# scripts written here: output as the result (JSON or a string), params on
# stdin, failures with their stderr, the deadline and the output bound
# killing the whole process group, the environment allow-list, the
# concurrency limit, big params to a program that does not read them, a
# client that leaves while its program runs; no child is left behind.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

C=$RPCCTL
D=$TEST_DIR
cp "$top_builddir/modules/.libs/exec.so" "$D/exec.so" ||
    bail_out "no exec.so: make builds it"
chmod 0755 "$D/exec.so"

# prog NAME BODY: an executable script $D/NAME running BODY.
prog()
{
	printf '#!/bin/sh\n%s\n' "$2" >"$D/$1"
	chmod 0755 "$D/$1"
}

# call METHOD [PARAMS]: the reply to one request, byte for byte.
call()
{
	if [ $# -eq 1 ]; then
		wire -n 1 -t 30 "$RPCD_ADDR" "j:{\"in\": \"$1\"}" 2>/dev/null
	else
		wire -n 1 -t 30 "$RPCD_ADDR" \
		    "j:{\"in\": \"$1\", \"params\": $2}" 2>/dev/null
	fi
}

# gone PIDFILE: true once the process whose pid PIDFILE holds is no more,
# or a zombie only (killed, its parent gone, not reaped yet by init).
gone()
{
	[ -s "$1" ] || return 1
	case $(ps -o stat= -p "$(cat "$1")") in
	''|Z*)	return 0 ;;
	esac
	return 1
}

# no_children: true when rpcd has no child left, not even a zombie.
no_children()
{
	[ -z "$(ps -o pid= --ppid "$RPCD_PID")" ]
}

# holding N: true once N held programs run.
holding()
{
	[ "$(ls "$D" | grep -c '^hold\.[0-9]')" -eq "$1" ]
}

# peak: rpcd's peak resident memory, in kB.
peak()
{
	sed -n 's/^VmHWM: *\([0-9]*\) kB/\1/p' "/proc/$RPCD_PID/status"
}

prog json 'echo "{\"a\": [1, 2]}"'
prog text 'echo "hello \"world\""; echo'
prog binary "printf '\\377\\376'"
prog params 'exec cat'
prog fail 'echo one >&2; echo two >&2; echo out; exit 3'
prog sig 'echo dying >&2; kill -TERM $$'
prog hold "echo \$\$ >$D/hold.\$\$
while [ ! -e $D/release ]; do sleep 0.05; done
echo '\"released\"'"
prog bigin "touch $D/bigin.started
while [ ! -e $D/release ]; do sleep 0.05; done
exec wc -c"
prog stuck "echo \$\$ >$D/stuck.pid; sleep 60 & echo \$! >$D/stuck.child; wait"
prog hang "echo \$\$ >$D/hang.pid; sleep 30 & echo \$! >$D/hang.child
echo started >&2; wait"
prog orphan "sleep 60 & echo \$! >$D/orphan.child; echo '\"left\"'"
prog spew "echo \$\$ >$D/spew.pid; exec yes"
# It exits once the process it starts has left its group, which the kill
# at its exit would reach otherwise.
prog detached "setsid sh -c 'echo \$\$ >$D/detached.tmp
mv $D/detached.tmp $D/detached.child; exec sleep 30' &
while [ ! -s $D/detached.child ]; do sleep 0.01; done
exit 0"

# Three instances of the module, each with its own limits: the scripts by
# their name in $D, and two programs with arguments.
methods=
for m in json text binary params fail sig hold bigin stuck orphan; do
	methods="$methods $m=$D/$m"
done
export EXEC_SECRET=hush
rpcd_start -m "$D/exec.so --timeout=60000 --max-procs=2 $methods \
env=/usr/bin/env args=/bin/echo,-n,a,b" \
    -m "$D/exec.so --timeout=1000 --max-output=65536 hang=$D/hang \
spew=$D/spew detached=$D/detached" \
    -m "$D/exec.so --env=EXEC_SECRET,NONE envsecret=/usr/bin/env" ||
    bail_out "rpcd -m exec did not start"

is "$(call json)" '{"out": "json", "result": {"a": [1, 2]}}' \
    "JSON output is the result"
is "$(call text)" '{"out": "text", "result": "hello \"world\""}' \
    "other output is a string, without its trailing newlines"
is "$(call binary)" '{"out": "error", "result": {"code": "bad_output", "message": "the program'"'"'s output is neither JSON nor UTF-8 text"}}' \
    "output that is not UTF-8 either is an error"
is "$(call args)" '{"out": "args", "result": "a b"}' \
    "a program's arguments follow it after commas"
is "$(call params '{"x": [1, "y"]}')" \
    '{"out": "params", "result": {"x": [1, "y"]}}' \
    "the params arrive on standard input"
is "$(call params)" '{"out": "params", "result": ""}' \
    "no params: an empty standard input"
is "$(call fail)" "{\"out\": \"error\", \"result\": {\"code\": \"program_failed\", \"message\": \"$D/fail: exit status 3; stderr:\\u000aone\\u000atwo\"}}" \
    "a non-zero exit is an error with the status and stderr's tail"
is "$(call sig)" "{\"out\": \"error\", \"result\": {\"code\": \"program_failed\", \"message\": \"$D/sig: killed by signal 15 (Terminated); stderr:\\u000adying\"}}" \
    "death by a signal is an error with the signal and stderr's tail"

# The environment: only the allowed variables, if rpcd has them.
out=$(call env)
case $out in
*EXEC_SECRET*)	ok 1 "a variable of rpcd's is not passed by default" ;;
*PATH=*)	ok 0 "a variable of rpcd's is not passed by default, PATH is" ;;
*)		ok 1 "PATH is passed by default"; diag "$out" ;;
esac
is "$(call envsecret)" '{"out": "envsecret", "result": "EXEC_SECRET=hush"}' \
    "--env passes the variables it names, and nothing else"

# The deadline kills the program and what it started.
is "$(call hang)" "{\"out\": \"error\", \"result\": {\"code\": \"timeout\", \"message\": \"$D/hang: still running after 1000 ms: killed; stderr:\\u000astarted\"}}" \
    "a program past --timeout is answered timeout"
ok_test "the program is killed" wait_for 100 gone "$D/hang.pid"
ok_test "and so is the child it started" wait_for 100 gone "$D/hang.child"

# What a program leaves running when it exits is killed with its group
# (and does not hold the call by keeping the output open).
is "$(call orphan)" '{"out": "orphan", "result": "left"}' \
    "a program that exits leaving a child behind is answered"
ok_test "that child is killed" wait_for 100 gone "$D/orphan.child"
# One that left its group holds the output open past the deadline: the
# error says the program exited, not that it still runs.
if command -v setsid >/dev/null; then
	is "$(call detached)" "{\"out\": \"error\", \"result\": {\"code\": \"timeout\", \"message\": \"$D/detached: exit status 0, but its output was still held open after 1000 ms, by a process it left running outside its process group\"}}" \
	    "a program that exits, its output held open by a process of another group, is answered so at the deadline"
	wait_for 50 test -s "$D/detached.child" &&
	    kill "$(cat "$D/detached.child")"
	ok_test "that process, out of reach of rpcd, is stopped here" \
	    wait_for 100 gone "$D/detached.child"
else
	skip "no setsid(1): a program leaving a process outside its group"
	skip "no setsid(1): a program leaving a process outside its group"
fi

# Unbounded output: a clear error, the program killed, memory bounded.
before=$(peak)
for i in 1 2 3; do
	out=$(call spew)
done
is "$out" "{\"out\": \"error\", \"result\": {\"code\": \"too_large\", \"message\": \"$D/spew: output over 65536 bytes: killed\"}}" \
    "output past --max-output is answered too_large"
ok_test "the program is killed" wait_for 100 gone "$D/spew.pid"
grown=$(($(peak) - before))
[ "$grown" -lt 16384 ]
ok $? "rpcd's peak memory grew by $grown kB, under 16 MB"

# --max-procs: past it, busy at once; slots free again as programs end.
rm -f "$D/release"
"$C" -S "$RPCD_ADDR" -t 30 call hold >"$D/hold1.out" 2>&1 &
hold1=$!
"$C" -S "$RPCD_ADDR" -t 30 call hold >"$D/hold2.out" 2>&1 &
hold2=$!
wait_for 100 holding 2
ok $? "two programs run at once"
is "$(call json)" '{"out": "error", "result": {"code": "busy", "message": "2 programs running already"}}' \
    "a third call past --max-procs=2 is answered busy at once"
ok_test "meanwhile other methods answer" ping_ok "$RPCD_ADDR"
touch "$D/release"
wait $hold1
is "$?:$(cat "$D/hold1.out")" '0:"released"' "the first held call is answered"
wait $hold2
is "$?:$(cat "$D/hold2.out")" '0:"released"' "so is the second"
is "$(call json)" '{"out": "json", "result": {"a": [1, 2]}}' \
    "and calls run again once they are done"

# Params bigger than a pipe, to a program that reads none for a while:
# written as it reads, without holding up the loop.
big=$(head -c 120000 /dev/zero | tr '\0' x)
rm -f "$D/release"
"$C" -S "$RPCD_ADDR" -t 30 call bigin "\"$big\"" >"$D/bigin.out" 2>&1 &
bigin=$!
wait_for 100 [ -e "$D/bigin.started" ]
ok $? "a program that does not read its params is running"
ok_test "rpcd answers other requests meanwhile" ping_ok "$RPCD_ADDR"
touch "$D/release"
wait $bigin
is "$?:$(cat "$D/bigin.out")" 0:120003 \
    "once it reads, it gets all of them (120002 bytes and a newline)"
is "$(call json "\"$big\"")" '{"out": "json", "result": {"a": [1, 2]}}' \
    "a program that exits without reading them is answered"

# A client that leaves while its program runs: the program is killed.
"$C" -S "$RPCD_ADDR" -t 30 call stuck >/dev/null 2>&1 &
client=$!
wait_for 100 [ -s "$D/stuck.child" ]
ok $? "a program runs for a client"
kill "$client"
wait "$client"
ok_test "the client gone, the program is killed" wait_for 50 gone "$D/stuck.pid"
ok_test "and so is its child" wait_for 100 gone "$D/stuck.child"
ok_test "rpcd goes on" ping_ok "$RPCD_ADDR"

ok_test "no child of rpcd is left, not even a zombie" wait_for 100 no_children
rpcd_stop
is $? 0 "rpcd exits 0"

# Bad arguments stop the start, with one line.
M=$D/exec.so
refused "init failed: no method" -m "$M --timeout=5"
refused "init failed: bad option --timeout=0" -m "$M --timeout=0 a=/bin/true"
refused "init failed: bad option --max-procs=x" \
    -m "$M --max-procs=x a=/bin/true"
refused "init failed: bad option --shell=1" -m "$M --shell=1 a=/bin/true"
refused "init failed: bad method a: not NAME=PROGRAM" -m "$M a"
refused "init failed: a: the program must be an absolute path: true" \
    -m "$M a=true"
refused "init failed: a: $D/none: No such file or directory" -m "$M a=$D/none"

done_testing
