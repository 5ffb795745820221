#!/bin/sh
# rpcctl's interactive shell: with no command, rpcctl reads commands.  On
# a pseudo-terminal (tests/rpcctl_shell_pty.py drives it), libedit keeps the
# history across sessions, completes the test module's method names,
# params go on over lines until their brackets balance, and a restarted
# rpcd on the same socket is connected to again.  With standard input not
# a terminal, the lines are read plainly and the exit status says how
# they went.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
cp "$top_builddir/tests/.libs/testmod.so" "$TEST_DIR/testmod.so" ||
    bail_out "no testmod.so: make check builds it"
chmod 0755 "$TEST_DIR/testmod.so"
sock=$TEST_DIR/s.sock
rpcd_start -l "unix:$sock" -m "$TEST_DIR/testmod.so" ||
    bail_out "rpcd did not start"

# Not a terminal: each result printed, no prompt; 1 for an error reply.
out=$(printf 'ping\ncall nosuch\n' | "$RPCCTL" -S "unix:$sock")
is "$?" 1 "piped: an error reply among the lines exits 1"
is "$out" "pong
(error) unknown_method: no such method" "piped: each result, no prompt"
out=$(printf 'echo [1,\n2]\nping hi\n' | "$RPCCTL" --json -S "unix:$sock")
is "$?" 0 "piped: no error, exit 0"
is "$out" '{"out": "echo", "result": [1,
2]}
{"out": "pong", "result": "hi"}' "piped: params over two lines, and --json applies"
printf 'ping\n' | "$RPCCTL" -S "unix:$TEST_DIR/none.sock" >"$TEST_DIR/out"
is "$?" 3 "piped: no server at the end exits 3"
ok_test "piped: and says why" grep -q \
    "^(error) cannot connect to unix:$TEST_DIR/none.sock" "$TEST_DIR/out"

if grep -q 'define HAVE_LIBEDIT 1' "$top_builddir/config.h"; then
	export HOME="$TEST_DIR"
	py=$top_srcdir/tests/rpcctl_shell_pty.py
	for scenario in history complete multiline; do
		"$PYTHON3" "$py" $scenario "$RPCCTL" "$sock" >"$TEST_DIR/py" 2>&1
		ok $? "terminal: $scenario" || diag_file <"$TEST_DIR/py"
	done
	ok_test "the history is in \$HOME/.rpcctl_history" \
	    grep -q 'remembered' "$TEST_DIR/.rpcctl_history"
	rpcd_stop
	"$PYTHON3" "$py" reconnect "$RPCCTL" "$TEST_DIR/r.sock" "$RPCD" \
	    "$TEST_DIR/testmod.so" >"$TEST_DIR/py" 2>&1
	ok $? "terminal: reconnect to a restarted rpcd" ||
	    diag_file <"$TEST_DIR/py"
else
	skip "rpcctl built without libedit: no editing to test"
fi

done_testing
