#!/bin/sh
# Modules: rpcd -m loads a shared object whose methods answer like the
# built-in ones, through the same registry and the same statistics; a
# result that is not JSON, or none, becomes internal_error, logged; and
# every module rpcd must refuse stops the start with one line and exit 1.

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

C=$RPCCTL
libs=$top_builddir/tests/.libs
# Copies with the modes rpcd wants, whatever the build's umask.
for m in testmod testmod_major testmod_minor testmod_nodesc oldmod; do
	cp "$libs/$m.so" "$TEST_DIR/$m.so" || bail_out "no $m.so: make check builds it"
	chmod 0755 "$TEST_DIR/$m.so"
done
MOD=$TEST_DIR/testmod.so

rpcd_start -m "$MOD take=echo2" || bail_out "rpcd -m did not start"
is "$("$C" -S "$RPCD_ADDR" call echo '"hello"')" '"hello"' \
    "a module's method answers"
is "$("$WIRE" -n 1 "$RPCD_ADDR" 'j:{"in": "echo", "params": {"a": [1, 2]}}')" \
    '{"out": "echo", "result": {"a": [1, 2]}}' \
    "its reply is the method's name and the params, byte for byte"
is "$("$C" -S "$RPCD_ADDR" call echo2 7)" 7 "the module's arguments reach its init"
"$C" -S "$RPCD_ADDR" --json methods | grep -q '"name": "echo", "help": "the params back", "module": "test"'
ok $? "methods names the module a method comes from"
"$C" -S "$RPCD_ADDR" --json methods | grep -q '"name": "ping", "help": "[^"]*" }'
ok $? "and none for a built-in one"
out=$("$WIRE" -n 2 "$RPCD_ADDR" 'j:{"in": "badjson"}' 'j:{"in": "ping", "params": 1}')
is "$out" "$(printf '%s\n' \
    '{"out": "error", "result": {"code": "internal_error", "message": "internal server error"}}' \
    '{"out": "pong", "result": 1}')" \
    "a result that is not JSON is answered internal_error; the stream goes on"
ok_test "and logged" grep -q "method badjson answered with a result that is not JSON" "$RPCD_LOG"
is "$("$WIRE" -n 1 "$RPCD_ADDR" 'j:{"in": "fail"}')" \
    '{"out": "error", "result": {"code": "nope", "message": "the test module says no"}}' \
    "a module answers an error of its own"
is "$("$WIRE" -n 1 "$RPCD_ADDR" 'j:{"in": "silent"}')" \
    '{"out": "error", "result": {"code": "internal_error", "message": "internal server error"}}' \
    "a handler that does not answer is answered internal_error"
ok_test "and logged, naming the module and the method" grep -q \
    "warning: module test: method silent returned without an answer" \
    "$RPCD_LOG"
# Behind a call not answered yet, its handler runs on a kept call.
is "$("$WIRE" -n 2 "$RPCD_ADDR" 'j:{"in": "later", "params": 50}' \
    'j:{"in": "silent"}')" "$(printf '%s\n' '{"out": "later", "result": 50}' \
    '{"out": "error", "result": {"code": "internal_error", "message": "internal server error"}}')" \
    "behind a deferred call too, in its turn"
is "$(grep -c "method silent returned without an answer" "$RPCD_LOG")" 2 \
    "and logged"
"$C" -S "$RPCD_ADDR" --json stats | grep -q '"name": "fail", "calls": 1, "errors": 1'
ok $? "a module's method has its statistics"
# bench --method loads a module's method as it does ping.
calls=$("$C" -S "$RPCD_ADDR" --json stats |
    sed -n 's/.*"name": "echo", "calls": \([0-9]*\),.*/\1/p')
out=$("$C" -S "$RPCD_ADDR" --json bench -c 2 -P 4 -n 200 --method echo \
    --params '{"a": [1, 2]}')
ok $? "bench --method echo --params exits 0"
echo "$out" | grep -q '"requests": 200, "errors": 0'
ok $? "with 200 replies, none wrong"
"$C" -S "$RPCD_ADDR" --json stats |
    grep -q "\"name\": \"echo\", \"calls\": $((calls + 200)), \"errors\": 0"
ok $? "all of them calls of echo"
"$C" -S "$RPCD_ADDR" bench -c 1 -n 5 --method fail >/dev/null 2>"$TEST_DIR/err"
is $? 3 "bench --method fail: its error replies exit 3"
ok_test "and are told" grep -q "answered fail with an error" "$TEST_DIR/err"
rpcd_stop

# The module directive of the file, and -n, which loads the modules.
printf 'module %s take=echo3\n' "$MOD" >"$TEST_DIR/rpcd.conf"
out=$("$RPCD" -n -f "$TEST_DIR/rpcd.conf" 2>&1)
ok $? "rpcd -n loads the file's module"
echo "$out" | grep -qx "module $MOD take=echo3"
ok $? "and prints its directive"
rpcd_start -f "$TEST_DIR/rpcd.conf" -P 2 || bail_out "rpcd -P 2 with a module did not start"
is "$("$C" -S "$RPCD_ADDR" call echo3 '"x"')" '"x"' "with --prefork, workers answer the module's methods"
# A reload whose module would not load is rejected.
cp "$MOD" "$TEST_DIR/open.so"
chmod 0777 "$TEST_DIR/open.so"
printf 'module %s\n' "$TEST_DIR/open.so" >"$TEST_DIR/rpcd.conf"
kill -HUP "$RPCD_PID"
wait_for 50 grep -q "SIGHUP: module .*open.so: writable by group or others.*still serving" "$RPCD_LOG"
ok $? "SIGHUP with a module that would not load keeps the running workers"
is "$("$C" -S "$RPCD_ADDR" call echo3 '"y"')" '"y"' "which still answer"
rpcd_stop

### A module's caller(): who is calling, on TCP and on a Unix socket.
rpcd_start -m "$MOD" -l 127.0.0.1:0 -l "unix:$TEST_DIR/s.sock" --unix-mode 0666 ||
    bail_out "rpcd did not start"
U=$(echo "$RPCD_ADDRS" | grep '^unix:')
# whoami ADDR: the caller, as the module's whoami method sees it.
whoami()
{
	"$C" --json -S "$1" call whoami | sed 's/^{"out": "whoami", "result": \(.*\)}$/\1/'
}
out=$(whoami "$RPCD_ADDR")
case $out in
*'"address": "127.0.0.1:'[0-9]*'", "listener": "127.0.0.1:0", "uid": -1, "gid": -1, "subject": null}')
	ok 0 "caller() over TCP: the client's address, the listener, no user" ;;
*)	ok 1 "caller() over TCP: the client's address, the listener, no user"
	diag "$out" ;;
esac
is "$(whoami "$U")" \
    "{\"address\": null, \"listener\": \"unix:$TEST_DIR/s.sock\", \"uid\": $(id -u), \"gid\": $(id -g), \"subject\": null}" \
    "caller() on a Unix socket: no address, the peer's uid and gid"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 0711 "$TEST_DIR"
	is "$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	    "$C" --json -S "$U" call whoami | sed 's/.*"uid": \([-0-9]*\), "gid": \([-0-9]*\).*/\1 \2/')" \
	    "$(id -u nobody) $(id -g nobody)" "and another user's, as that user calls"
else
	skip "not root, or no setpriv: cannot call as another user" 1
fi
rpcd_stop

### A module built against the 1.0 header loads and works unchanged.
rpcd_start -m "$TEST_DIR/oldmod.so" || bail_out "rpcd -m oldmod.so did not start"
is "$("$C" --json -S "$RPCD_ADDR" call old_echo '[1, "x"]')" \
    '{"out": "old_echo", "result": [1, "x"]}' \
    "a module built for ABI 1.0 loads, and its method answers"
is "$("$C" -S "$RPCD_ADDR" call old_later)" '"later"' \
    "and it defers a call and answers it from the worker's loop"
rpcd_stop

echo "not an object" >"$TEST_DIR/text.so"
chmod 0644 "$TEST_DIR/text.so"
refused "not a loadable shared object" -m "$TEST_DIR/text.so"
refused "no rpcd_module descriptor" -m "$TEST_DIR/testmod_nodesc.so"
refused "built for module ABI 2\.[0-9]" -m "$TEST_DIR/testmod_major.so"
refused "built for module ABI 1\.99" -m "$TEST_DIR/testmod_minor.so"
refused "init failed: asked to fail" -m "$MOD fail"
refused "method ping is taken already (built in)" -m "$MOD take=ping"
refused "method echo is taken already (by module test)" -m "$MOD" -m "$MOD"
cp "$MOD" "$TEST_DIR/open.so"
chmod 0775 "$TEST_DIR/open.so"
refused "writable by group or others" -m "$TEST_DIR/open.so"
chmod 0757 "$TEST_DIR/open.so"
refused "writable by group or others" -m "$TEST_DIR/open.so"
refused "No such file or directory" -m "$TEST_DIR/none.so"
refused "writable by group or others" -n -m "$TEST_DIR/open.so"

done_testing
